#include "sim/trace.h"

#include <stdlib.h>
#include <string.h>

const char *const sim_proto_names[SIM_PROTO_COUNT] = {
    "tcp", "smtp", "imap", "pop3", "dns", "tls", "store", "queue", "sim",
};
const char *const sim_trace_kind_names[SIM_TR_KIND_COUNT] = {
    "action", "fault", "connect", "refused", "close", "line",
    "tls", "dns", "state", "mail", "queue",
};
const char *const sim_dir_names[SIM_DIR_COUNT] = {"", "c2s", "s2c"};
const char *const sim_fault_names[SIM_FAULT_COUNT] = {
    "other", "host-down", "host-up", "port-blocked", "port-open", "link-cut", "link-restored",
};
const char *const sim_mail_change_names[SIM_MAIL_CHANGE_COUNT] = {
    "added", "flags", "removed",
};

/* Strings live in chunks that never move, so the pointers in events stay
 * valid as the trace grows. */
#define CHUNK_SIZE 65536u

struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

/* Events live in blocks that never move either: sim_trace_get() hands out
 * pointers that must stay valid while the trace grows (a live view keeps
 * one across steps). Only the table of block pointers is reallocated. */
#define BLOCK_EVENTS 4096u

struct sim_trace {
    struct sim_trace_event **blocks; /* each BLOCK_EVENTS events */
    size_t nblocks, blocks_cap;
    size_t len;
    struct chunk *chunks; /* newest first */
    unsigned keep;        /* kinds stored (bit per enum sim_trace_kind) */
    size_t total;         /* events added, kept or not */
    sim_trace_observer_fn observer;
    void *observer_ctx;
};

struct sim_trace *sim_trace_new(void)
{
    struct sim_trace *tr = calloc(1, sizeof(struct sim_trace));
    if (tr) tr->keep = SIM_TRACE_KEEP_ALL;
    return tr;
}

void sim_trace_free(struct sim_trace *tr)
{
    if (!tr) return;
    for (struct chunk *c = tr->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (size_t i = 0; i < tr->nblocks; i++) free(tr->blocks[i]);
    free(tr->blocks);
    free(tr);
}

/* A copy of s in the arena; "" for NULL or empty (no allocation). */
static const char *copy(struct sim_trace *tr, const char *s, bool *oom)
{
    if (!s || !*s) return "";
    size_t n = strlen(s) + 1;
    struct chunk *c = tr->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        c = malloc(sizeof *c + cap);
        if (!c) {
            *oom = true;
            return "";
        }
        c->next = tr->chunks;
        c->used = 0;
        c->cap = cap;
        tr->chunks = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

long sim_trace_add(struct sim_trace *tr, const struct sim_trace_event *ev)
{
    if (tr->len >= SIM_TRACE_MAX) return -1;
    tr->total++;
    if (tr->observer) {
        struct sim_trace_event seen = *ev;
        seen.step = tr->len;
        tr->observer(tr->observer_ctx, &seen);
    }
    /* a dropped event takes no step: the next kept one gets this number */
    if ((unsigned)ev->kind >= SIM_TR_KIND_COUNT || !(tr->keep & (1u << ev->kind)))
        return (long)tr->len;
    if (tr->len == tr->nblocks * BLOCK_EVENTS) {
        if (tr->nblocks == tr->blocks_cap) {
            size_t cap = tr->blocks_cap ? tr->blocks_cap * 2 : 16;
            struct sim_trace_event **blocks = realloc(tr->blocks, cap * sizeof *blocks);
            if (!blocks) return -1;
            tr->blocks = blocks;
            tr->blocks_cap = cap;
        }
        struct sim_trace_event *block = malloc(BLOCK_EVENTS * sizeof *block);
        if (!block) return -1;
        tr->blocks[tr->nblocks++] = block;
    }
    bool oom = false;
    struct sim_trace_event e = *ev;
    e.step = tr->len;
    e.from = copy(tr, ev->from, &oom);
    e.to = copy(tr, ev->to, &oom);
    e.text = copy(tr, ev->text, &oom);
    e.note = copy(tr, ev->note, &oom);
    e.mail.owner = copy(tr, ev->mail.owner, &oom);
    e.mail.account = copy(tr, ev->mail.account, &oom);
    e.mail.folder = copy(tr, ev->mail.folder, &oom);
    e.mail.subject = copy(tr, ev->mail.subject, &oom);
    e.mail.from = copy(tr, ev->mail.from, &oom);
    if (oom) return -1;
    tr->blocks[tr->len / BLOCK_EVENTS][tr->len % BLOCK_EVENTS] = e;
    return (long)tr->len++;
}

size_t sim_trace_len(const struct sim_trace *tr)
{
    return tr->len;
}

const struct sim_trace_event *sim_trace_get(const struct sim_trace *tr, size_t step)
{
    return step < tr->len ? &tr->blocks[step / BLOCK_EVENTS][step % BLOCK_EVENTS] : NULL;
}

void sim_trace_observe(struct sim_trace *tr, sim_trace_observer_fn fn, void *ctx)
{
    tr->observer = fn;
    tr->observer_ctx = ctx;
}

void sim_trace_keep(struct sim_trace *tr, unsigned mask)
{
    tr->keep = mask & SIM_TRACE_KEEP_ALL;
}

bool sim_trace_keeps(const struct sim_trace *tr, enum sim_trace_kind kind)
{
    return (unsigned)kind < SIM_TR_KIND_COUNT && (tr->keep & (1u << kind)) != 0;
}

size_t sim_trace_total(const struct sim_trace *tr)
{
    return tr->total;
}
