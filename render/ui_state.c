/* Replaying the trace into the state the views draw. */
#include "render/ui_state.h"

#include <stdio.h>
#include <string.h>

void ui_state_init(struct ui_state *st, const struct ui_lesson *l)
{
    memset(st, 0, sizeof *st);
    st->lesson = l;
    st->narration = "";
    for (size_t i = 0; i < UI_HOSTS_MAX; i++) st->host_up[i] = st->link_up[i] = true;
}

const struct ui_conn *ui_state_conn(const struct ui_state *st, unsigned id)
{
    for (size_t i = 0; i < st->nconns; i++)
        if (st->conns[i].id == id) return &st->conns[i];
    return NULL;
}

bool ui_state_blocked(const struct ui_state *st, int host, unsigned port)
{
    for (size_t i = 0; i < st->nblocks; i++)
        if (st->blocks[i].host == host && st->blocks[i].port == port) return true;
    return false;
}

static int host_of(const struct ui_state *st, const char *name)
{
    return ui_lesson_host(st->lesson, name);
}

static struct ui_conn *find_conn(struct ui_state *st, unsigned id)
{
    return (struct ui_conn *)ui_state_conn(st, id);
}

static void remove_conn_at(struct ui_state *st, size_t i)
{
    memmove(&st->conns[i], &st->conns[i + 1], (st->nconns - i - 1) * sizeof st->conns[0]);
    st->nconns--;
}

/* CONNECT, or the TLS event that stands for it on an implicit-TLS port. */
static struct ui_conn *open_conn(struct ui_state *st, const struct sim_trace_event *ev)
{
    struct ui_conn *c = find_conn(st, ev->conn);
    if (c || ev->conn == 0 || st->nconns == UI_CONNS_MAX) return c;
    c = &st->conns[st->nconns++];
    *c = (struct ui_conn){.id = ev->conn, .client = host_of(st, ev->from),
                          .server = host_of(st, ev->to), .port = ev->port,
                          .proto = ui_port_proto(ev->port), .tls = ev->tls};
    return c;
}

/* Finds host h's firewall rule for (port, outbound); nblocks when none. */
static size_t find_block(const struct ui_state *st, int h, unsigned port, bool outbound)
{
    for (size_t i = 0; i < st->nblocks; i++)
        if (st->blocks[i].host == h && st->blocks[i].port == port &&
            st->blocks[i].outbound == outbound)
            return i;
    return st->nblocks;
}

static void apply_fault(struct ui_state *st, const struct sim_trace_event *ev)
{
    int h = host_of(st, ev->from);
    if (h < 0) return;
    size_t b;
    switch (ev->fault) {
    case SIM_FAULT_HOST_DOWN:
    case SIM_FAULT_LINK_CUT:
        if (ev->fault == SIM_FAULT_HOST_DOWN)
            st->host_up[h] = false;
        else
            st->link_up[h] = false;
        /* Going down or losing its link cuts its connections (sim/net.h). */
        for (size_t i = st->nconns; i-- > 0;)
            if (st->conns[i].client == h || st->conns[i].server == h) remove_conn_at(st, i);
        break;
    case SIM_FAULT_HOST_UP:
        st->host_up[h] = true;
        break;
    case SIM_FAULT_LINK_RESTORED:
        st->link_up[h] = true;
        break;
    case SIM_FAULT_PORT_BLOCKED:
        if (find_block(st, h, ev->port, ev->outbound) == st->nblocks &&
            st->nblocks < UI_BLOCKS_MAX)
            st->blocks[st->nblocks++] = (struct ui_block){h, ev->port, ev->outbound};
        break;
    case SIM_FAULT_PORT_OPEN:
        if ((b = find_block(st, h, ev->port, ev->outbound)) < st->nblocks)
            st->blocks[b] = st->blocks[--st->nblocks];
        break;
    case SIM_FAULT_OTHER:
    case SIM_FAULT_COUNT:
        break;
    }
}

static size_t find_msg(const struct ui_state *st, int owner, const struct sim_trace_mail *m)
{
    for (size_t i = 0; i < st->nmsgs; i++) {
        const struct ui_msg *x = &st->msgs[i];
        if (x->owner == owner && x->uid == m->uid && strcmp(x->account, m->account) == 0 &&
            strcmp(x->folder, m->folder) == 0)
            return i;
    }
    return st->nmsgs;
}

static void apply_mail(struct ui_state *st, const struct sim_trace_event *ev)
{
    const struct sim_trace_mail *m = &ev->mail;
    int owner = host_of(st, m->owner);
    if (owner < 0) return;
    size_t i = find_msg(st, owner, m);
    switch (m->change) {
    case SIM_MAIL_ADDED:
        if (i == st->nmsgs) {
            if (st->nmsgs == UI_MSGS_MAX) return;
            st->nmsgs++;
        }
        st->msgs[i] = (struct ui_msg){.owner = owner, .account = m->account,
                                      .folder = m->folder, .subject = m->subject,
                                      .from = m->from, .uid = m->uid, .flags = m->flags,
                                      .size = m->size, .changed = ev->step};
        break;
    case SIM_MAIL_FLAGS:
        if (i == st->nmsgs) return;
        st->msgs[i].flags = m->flags;
        st->msgs[i].changed = ev->step;
        break;
    case SIM_MAIL_REMOVED:
        if (i == st->nmsgs) return;
        memmove(&st->msgs[i], &st->msgs[i + 1], (st->nmsgs - i - 1) * sizeof st->msgs[0]);
        st->nmsgs--;
        break;
    case SIM_MAIL_CHANGE_COUNT:
        break;
    }
}

/* Queue events read "ID: queued, ..." and "ID: removed" (sim/mta.c). */
static void apply_queue(struct ui_state *st, const struct sim_trace_event *ev)
{
    int h = host_of(st, ev->from);
    const char *colon = strstr(ev->text, ": ");
    if (h < 0 || !colon || (size_t)(colon - ev->text) >= UI_QUEUE_ID_MAX) return;
    char id[UI_QUEUE_ID_MAX];
    memcpy(id, ev->text, (size_t)(colon - ev->text));
    id[colon - ev->text] = '\0';
    if (strncmp(colon + 2, "queued", 6) == 0) {
        for (size_t i = 0; i < st->nqueue; i++)
            if (st->queue[i].host == h && strcmp(st->queue[i].id, id) == 0) return;
        if (st->nqueue == UI_QUEUE_MAX) return;
        st->queue[st->nqueue].host = h;
        memcpy(st->queue[st->nqueue].id, id, sizeof id);
        st->nqueue++;
    } else if (strcmp(colon + 2, "removed") == 0) {
        for (size_t i = 0; i < st->nqueue; i++)
            if (st->queue[i].host == h && strcmp(st->queue[i].id, id) == 0) {
                memmove(&st->queue[i], &st->queue[i + 1],
                        (st->nqueue - i - 1) * sizeof st->queue[0]);
                st->nqueue--;
                return;
            }
    }
}

static void apply(struct ui_state *st, const struct sim_trace_event *ev)
{
    struct ui_conn *c;
    switch (ev->kind) {
    case SIM_TR_ACTION:
        if (strcmp(ev->text, "narrate") == 0) {
            st->narration = ev->note;
            st->narration_step = ev->step;
        } else {
            st->latest = ev;
        }
        break;
    case SIM_TR_FAULT:
        apply_fault(st, ev);
        st->latest = ev;
        break;
    case SIM_TR_CONNECT: open_conn(st, ev); break;
    case SIM_TR_TLS:
        c = open_conn(st, ev);
        if (c) c->tls = true;
        break;
    case SIM_TR_CLOSE:
        for (size_t i = 0; i < st->nconns; i++)
            if (st->conns[i].id == ev->conn) {
                remove_conn_at(st, i);
                break;
            }
        break;
    case SIM_TR_LINE:
        c = find_conn(st, ev->conn);
        if (c && ev->proto != SIM_PROTO_TCP) c->proto = ev->proto;
        break;
    case SIM_TR_MAIL:
        apply_mail(st, ev);
        st->latest = ev;
        break;
    case SIM_TR_QUEUE:
        apply_queue(st, ev);
        st->latest = ev;
        break;
    case SIM_TR_REFUSED:
    case SIM_TR_DNS:
    case SIM_TR_STATE:
    case SIM_TR_KIND_COUNT:
        break;
    }
}

/* The dialogue the transcript panel shows: the lines of the connection the
 * step is about (or of the last one before it), or the DNS datagrams. */
static void find_dialogue(struct ui_state *st)
{
    const struct sim_trace *tr = st->lesson->trace;
    st->ndialogue = 0;
    st->focus_conn = 0;
    st->focus_dns = false;
    st->focus_proto = SIM_PROTO_TCP;
    size_t s = st->step + 1, looked = 0;
    while (s-- > 0 && looked++ < UI_SCAN_MAX) {
        const struct sim_trace_event *e = sim_trace_get(tr, s);
        if (e->kind == SIM_TR_DNS) {
            st->focus_dns = true;
            st->focus_proto = SIM_PROTO_DNS;
            break;
        }
        if (e->conn != 0) {
            st->focus_conn = e->conn;
            const struct ui_conn *c = ui_state_conn(st, e->conn);
            st->focus_proto = c ? c->proto : ui_port_proto(e->port);
            if (e->proto == SIM_PROTO_SMTP || e->proto == SIM_PROTO_IMAP ||
                e->proto == SIM_PROTO_POP3)
                st->focus_proto = e->proto;
            break;
        }
    }
    if (!st->focus_dns && st->focus_conn == 0) return;
    /* Newest first into the end of the array, then moved to its start. */
    size_t n = 0;
    s = st->step + 1;
    looked = 0;
    while (s-- > 0 && looked++ < UI_SCAN_MAX && n < UI_DIALOGUE_MAX) {
        const struct sim_trace_event *e = sim_trace_get(tr, s);
        if (st->focus_dns) {
            if (e->kind == SIM_TR_DNS) st->dialogue[UI_DIALOGUE_MAX - 1 - n++] = s;
            continue;
        }
        if (e->conn != st->focus_conn) continue;
        if (e->kind == SIM_TR_LINE) st->dialogue[UI_DIALOGUE_MAX - 1 - n++] = s;
        if (e->kind == SIM_TR_CONNECT) break; /* the connection's first event */
    }
    memmove(st->dialogue, st->dialogue + (UI_DIALOGUE_MAX - n), n * sizeof st->dialogue[0]);
    st->ndialogue = n;
}

static void about_step(struct ui_state *st)
{
    const struct sim_trace_event *ev = st->ev;
    st->has_packet = false;
    st->pk_from = st->pk_to = -1;
    st->has_ghost = false;
    if (!ev) return;
    if (ev->kind == SIM_TR_LINE || ev->kind == SIM_TR_DNS) {
        st->pk_from = host_of(st, ev->from);
        st->pk_to = host_of(st, ev->to);
        st->has_packet = st->pk_from >= 0 && st->pk_to >= 0 && st->pk_from != st->pk_to;
    }
    if (ev->kind == SIM_TR_MAIL && ev->mail.change == SIM_MAIL_REMOVED) {
        int owner = host_of(st, ev->mail.owner);
        if (owner >= 0) {
            const struct sim_trace_mail *m = &ev->mail;
            st->has_ghost = true;
            st->ghost = (struct ui_msg){.owner = owner, .account = m->account,
                                        .folder = m->folder, .subject = m->subject,
                                        .from = m->from, .uid = m->uid, .flags = m->flags,
                                        .size = m->size, .changed = ev->step};
        }
    }
    find_dialogue(st);
}

void ui_state_at(struct ui_state *st, size_t step)
{
    const struct ui_lesson *l = st->lesson;
    if (l->nsteps == 0) {
        ui_state_init(st, l);
        return;
    }
    if (step >= l->nsteps) step = l->nsteps - 1;
    size_t from;
    if (st->valid && step >= st->step) {
        from = st->step + 1;
    } else {
        ui_state_init(st, l);
        from = 0;
    }
    for (size_t s = from; s <= step; s++) apply(st, sim_trace_get(l->trace, s));
    st->valid = true;
    st->step = step;
    st->ev = sim_trace_get(l->trace, step);
    about_step(st);
}

static bool shows(const struct sim_trace_event *ev)
{
    return ev->kind != SIM_TR_STATE;
}

size_t ui_state_next_exchange(const struct ui_lesson *l, size_t step)
{
    for (size_t s = step + 1; s < l->nsteps; s++)
        if (shows(sim_trace_get(l->trace, s))) return s;
    return step;
}

size_t ui_state_prev_exchange(const struct ui_lesson *l, size_t step)
{
    for (size_t s = step; s-- > 0;)
        if (shows(sim_trace_get(l->trace, s))) return s;
    return step;
}
