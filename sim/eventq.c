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

static void swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event t = *a;
    *a = *b;
    *b = t;
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
    size_t i = q->len++;
    q->heap[i] = (struct sim_event){time, q->next_seq++, fn, ctx, arg};
    while (i > 0 && earlier(&q->heap[i], &q->heap[(i - 1) / 2])) {
        swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return 0;
}

int sim_eventq_pop(struct sim_eventq *q, struct sim_event *out)
{
    if (q->len == 0) return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->len && earlier(&q->heap[l], &q->heap[m])) m = l;
        if (r < q->len && earlier(&q->heap[r], &q->heap[m])) m = r;
        if (m == i) break;
        swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
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
