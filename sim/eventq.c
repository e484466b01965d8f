#include "sim/eventq.h"

#include <stdlib.h>

struct sim_eventq {
    struct sim_event *heap; /* binary min-heap on (time, seq) */
    size_t len, cap;
    uint64_t next_seq;
};

static int earlier(const struct sim_event *a, const struct sim_event *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}


struct sim_eventq *sim_eventq_new(void)
{
    return calloc(1, sizeof(struct sim_eventq));
}

void sim_eventq_free(struct sim_eventq *q)
{
    if (!q) return;
    free(q->heap);
    free(q);
}

int sim_eventq_push(struct sim_eventq *q, sim_time time, sim_event_fn fn,
                    void *ctx, uint64_t arg)
{
    if (q->len == q->cap) {
        if (q->cap >= SIM_EVENTQ_MAX) return -1;
        size_t cap = q->cap ? q->cap * 2 : 64;
        if (cap > SIM_EVENTQ_MAX) cap = SIM_EVENTQ_MAX;
        struct sim_event *heap = realloc(q->heap, cap * sizeof *heap);
        if (!heap) return -1;
        q->heap = heap;
        q->cap = cap;
    }
    /* sift up with a hole: parents move down, the event is written once */
    struct sim_event ev = {time, q->next_seq++, fn, ctx, arg};
    size_t i = q->len++;
    while (i > 0 && earlier(&ev, &q->heap[(i - 1) / 2])) {
        q->heap[i] = q->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->heap[i] = ev;
    return 0;
}

int sim_eventq_pop(struct sim_eventq *q, struct sim_event *out)
{
    if (q->len == 0) return 0;
    *out = q->heap[0];
    /* Sift the last event down from the root with a hole: the earlier
     * child moves up, the event is written once where it stops (a long
     * run holds tens of thousands of events, and swapping whole events
     * down 16 levels per pop was a twentieth of the run). (time, seq) is
     * unique, so the order events come out in is the same as before. */
    struct sim_event last = q->heap[--q->len];
    size_t n = q->len, i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n) break;
        size_t m = l + 1 < n && earlier(&q->heap[l + 1], &q->heap[l]) ? l + 1 : l;
        if (!earlier(&q->heap[m], &last)) break;
        q->heap[i] = q->heap[m];
        i = m;
    }
    if (n) q->heap[i] = last;
    return 1;
}

const struct sim_event *sim_eventq_peek(const struct sim_eventq *q)
{
    return q->len ? &q->heap[0] : NULL;
}

size_t sim_eventq_len(const struct sim_eventq *q)
{
    return q->len;
}
