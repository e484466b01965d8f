#include "sim/engine.h"

#include <string.h>

int sim_engine_init(struct sim_engine *e, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    sim_rng_seed(&e->rng, seed);
    e->queue = sim_eventq_new();
    e->trace = sim_trace_new();
    if (!e->queue || !e->trace) {
        sim_engine_fini(e);
        return -1;
    }
    return 0;
}

void sim_engine_fini(struct sim_engine *e)
{
    sim_eventq_free(e->queue);
    sim_trace_free(e->trace);
    e->queue = NULL;
    e->trace = NULL;
}

void sim_after(struct sim_engine *e, sim_time delay, sim_event_fn fn, void *ctx,
               uint64_t arg)
{
    if (sim_eventq_push(e->queue, e->now + delay, fn, ctx, arg) != 0) e->failed = 1;
}

uint64_t sim_engine_run(struct sim_engine *e, sim_time until)
{
    uint64_t n = 0;
    const struct sim_event *next;
    while (!e->failed && (next = sim_eventq_peek(e->queue)) && next->time <= until) {
        struct sim_event ev;
        sim_eventq_pop(e->queue, &ev);
        e->now = ev.time;
        ev.fn(e, ev.ctx, ev.arg);
        n++;
    }
    return n;
}

long sim_record(struct sim_engine *e, const struct sim_trace_event *ev)
{
    struct sim_trace_event copy = *ev;
    copy.t = e->now;
    if (copy.arrive < e->now) copy.arrive = e->now;
    long step = sim_trace_add(e->trace, &copy);
    if (step < 0) e->failed = 1;
    return step;
}
