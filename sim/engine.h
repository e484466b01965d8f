/* The discrete-event engine: simulated time, the event queue, the one seeded
 * RNG and the trace. Nothing here reads the wall clock; the same seed and the
 * same scheduled events give the same run, byte for byte. */
#ifndef MAILSIM_SIM_ENGINE_H
#define MAILSIM_SIM_ENGINE_H

#include <stdint.h>

#include "sim/eventq.h"
#include "sim/rng.h"
#include "sim/trace.h"

struct sim_engine {
    sim_time           now;     /* the time of the event being handled */
    struct sim_eventq *queue;   /* what happens next */
    struct sim_rng     rng;     /* the run's only source of randomness */
    struct sim_trace  *trace;   /* what happened */
    int                failed;  /* sticky: 1 once scheduling or tracing ran out of room */
};

/* Sets up an engine at time 0 with the RNG seeded. Returns 0, or -1 when
 * memory ran out (then nothing needs freeing). */
int sim_engine_init(struct sim_engine *e, uint64_t seed);
void sim_engine_fini(struct sim_engine *e);

/* Schedules fn(e, ctx, arg) at now + delay. A full queue sets e->failed (the
 * run stops with an error) rather than dropping the event silently. */
void sim_after(struct sim_engine *e, sim_time delay, sim_event_fn fn, void *ctx,
               uint64_t arg);

/* Runs events in (time, sequence) order until the queue is empty, the next
 * event is later than until, or e->failed. Returns the number of events
 * run. now ends at the last event's time (never beyond until). */
uint64_t sim_engine_run(struct sim_engine *e, sim_time until);

/* Appends ev to the trace at the current time (ev->t is overwritten; an
 * unset arrive becomes now). Returns the step, or -1 and sets e->failed. */
long sim_record(struct sim_engine *e, const struct sim_trace_event *ev);

#endif
