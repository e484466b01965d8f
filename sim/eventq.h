/* The discrete-event queue: events ordered by simulated time, first-in
 * first-out among equal times (a sequence number breaks ties), so a run never
 * depends on heap order or on the wall clock. */
#ifndef MAILSIM_SIM_EVENTQ_H
#define MAILSIM_SIM_EVENTQ_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t sim_time; /* simulated microseconds since the run began */

#define SIM_USEC(n)  ((sim_time)(n))
#define SIM_MSEC(n)  ((sim_time)(n) * 1000u)
#define SIM_SEC(n)   ((sim_time)(n) * 1000000u)

struct sim_engine;

/* What an event does when it fires: fn(engine, ctx, arg). */
typedef void (*sim_event_fn)(struct sim_engine *e, void *ctx, uint64_t arg);

/* One scheduled event. What fn does and what ctx points at is the
 * scheduler's business; the queue only orders them. */
struct sim_event {
    sim_time     time; /* when it fires */
    uint64_t     seq;  /* order of scheduling; ties on time fire in this order */
    sim_event_fn fn;   /* the handler */
    void        *ctx;  /* the handler's object (a connection, a host, ...) */
    uint64_t     arg;  /* a small payload (an id, a byte count, ...) */
};

/* A queue holds at most this many pending events: a runaway scenario (a
 * retry loop scheduling itself forever) stops with an error instead of
 * eating the machine. */
#define SIM_EVENTQ_MAX 4000000u

struct sim_eventq;

/* A new empty queue, or NULL when out of memory. */
struct sim_eventq *sim_eventq_new(void);
void sim_eventq_free(struct sim_eventq *q);

/* Schedules an event at time (which may be in the past relative to other
 * pending events; the queue does not know "now"). Returns 0, or -1 when the
 * queue already holds SIM_EVENTQ_MAX events or memory ran out. */
int sim_eventq_push(struct sim_eventq *q, sim_time time, sim_event_fn fn,
                    void *ctx, uint64_t arg);

/* Removes the earliest event into *out and returns 1; returns 0 when empty. */
int sim_eventq_pop(struct sim_eventq *q, struct sim_event *out);

/* The earliest event without removing it (borrowed until the next push or
 * pop), or NULL when empty. */
const struct sim_event *sim_eventq_peek(const struct sim_eventq *q);

size_t sim_eventq_len(const struct sim_eventq *q);

#endif
