/* The POP3 server of a simulated mail server host. See pop3d.h.
 *
 * One pop3_server machine per connection over the store's maildrop. Status
 * lines go out one per sim_conn_send() with their note; multi-line bodies
 * come from the machine in chunks of up to POP3_SERVER_CHUNK octets that
 * may end inside a line, so the session holds a partial line back until
 * the rest arrives and the trace only ever shows whole lines. */
#include "sim/pop3d.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/explain.h"
#include "protocols/pop3_server.h"

/* A body line held back until its end arrives. Lines of a stored message
 * are at most 998 octets (RFC 5322 2.1.1) plus CRLF and a stuffed dot; a
 * longer one (a message breaking that rule) is sent in pieces once it
 * outgrows this, which the trace then shows as several lines. */
#define HOLD_MAX POP3_SERVER_CHUNK

struct session {
    struct session *next;
    struct sim_pop3d *d;
    struct sim_conn *c;
    struct pop3_server *srv;
    enum pop3_verb verb;  /* the command being answered; POP3_VERB_COUNT: none */
    bool closing;         /* CLOSED after QUIT: hang up once the output is sent */
    bool stls;            /* STLS answered: drop what the client sent behind it */
    size_t nhold;
    char work[HOLD_MAX + POP3_SERVER_CHUNK]; /* held partial line + the new chunk */
};

struct sim_pop3d {
    struct sim_net *net;
    struct sim_host *host;
    struct sim_store *store;
    unsigned port;
    bool implicit_tls, stls_offered;
    size_t max_sessions, nsessions;
    struct session *sessions;
};

/* ---- output -------------------------------------------------------------- */

static void send_reply(struct session *ss, const char *line, size_t len)
{
    struct pop3_reply r;
    size_t text = len;
    if (text && line[text - 1] == '\n') text--;
    if (text && line[text - 1] == '\r') text--;
    const char *note = pop3_reply_parse(line, text, &r) == POP3_OK
                           ? pop3_reply_explain(&r, ss->verb) : "";
    sim_conn_send(ss->c, SIM_DIR_S2C, line, len, note);
}

/* Sends the whole lines of a multi-line body chunk, the closing "." on its
 * own with its note (RFC 1939 3: a line holding only a dot ends the body;
 * a message line starting with a dot was stuffed, so this one is the end). */
static void send_body(struct session *ss, const char *out, size_t n)
{
    if (ss->nhold + n > sizeof ss->work) { /* an overlong line: let it go */
        sim_conn_send(ss->c, SIM_DIR_S2C, ss->work, ss->nhold, NULL);
        ss->nhold = 0;
    }
    memcpy(ss->work + ss->nhold, out, n);
    size_t len = ss->nhold + n, start = 0, off = 0;
    while (off < len) {
        const char *lf = memchr(ss->work + off, '\n', len - off);
        if (!lf) break;
        size_t end = (size_t)(lf - ss->work) + 1;
        if (end - off == 3 && memcmp(ss->work + off, ".\r\n", 3) == 0) {
            if (off > start) sim_conn_send(ss->c, SIM_DIR_S2C, ss->work + start, off - start, NULL);
            sim_conn_send(ss->c, SIM_DIR_S2C, ss->work + off, 3, pop3_end_explain(ss->verb));
            start = end;
        }
        off = end;
    }
    if (off > start) sim_conn_send(ss->c, SIM_DIR_S2C, ss->work + start, off - start, NULL);
    ss->nhold = len - off;
    if (ss->nhold > HOLD_MAX) { /* no line end in sight: send what there is */
        sim_conn_send(ss->c, SIM_DIR_S2C, ss->work + off, ss->nhold, NULL);
        ss->nhold = 0;
    } else {
        memmove(ss->work, ss->work + off, ss->nhold);
    }
}

static void record_state(struct session *ss, enum pop3_server_state from,
                         enum pop3_server_state to)
{
    char text[64] = "";
    /* not formatted for a trace that drops it (trace.h: the observer sees "") */
    if (sim_trace_keeps(sim_store_engine(ss->d->store)->trace, SIM_TR_STATE))
        snprintf(text, sizeof text, "%s -> %s", pop3_server_state_name(from),
                 pop3_server_state_name(to));
    struct sim_trace_event ev = {
        .kind = SIM_TR_STATE, .proto = SIM_PROTO_POP3, .from = sim_host_name(ss->d->host),
        .port = ss->d->port, .conn = sim_conn_id(ss->c), .tls = sim_conn_tls(ss->c),
        .text = text, .note = pop3_server_state_explain(to),
    };
    sim_record(sim_store_engine(ss->d->store), &ev);
}

/* Runs the machine until it wants input, acting on every event. */
static void drain(struct session *ss)
{
    struct pop3_server_ev ev;
    int t;
    while ((t = pop3_server_next(ss->srv, &ev)) != POP3_NEED_MORE) {
        switch (t) {
        case POP3_SRV_COMMAND: ss->verb = ev.verb; break;
        case POP3_SRV_REPLY: send_reply(ss, ev.out, ev.out_len); break;
        case POP3_SRV_DATA: send_body(ss, ev.out, ev.out_len); break;
        case POP3_SRV_STATE:
            record_state(ss, ev.from, ev.to);
            if (ev.to == POP3_SERVER_CLOSED) ss->closing = true;
            break;
        case POP3_SRV_STARTTLS:
            sim_conn_start_tls(ss->c);
            ss->stls = true;
            break;
        default: break; /* DELETED: the store recorded the removal */
        }
    }
}

/* ---- sessions ------------------------------------------------------------ */

static void free_session(struct session *ss)
{
    struct session **pp = &ss->d->sessions;
    while (*pp && *pp != ss) pp = &(*pp)->next;
    if (*pp) {
        *pp = ss->next;
        ss->d->nsessions--;
    }
    pop3_server_free(ss->srv); /* unlocks without deleting if still locked */
    free(ss);
}

/* RFC 2449 8.1.2: [SYS/TEMP] says the trouble will pass; try later. */
static void refuse(struct sim_conn *c)
{
    char line[POP3_MAX_RESP_LINE + 1];
    int n = pop3_reply_format(line, sizeof line, false, "SYS/TEMP", "Too many connections");
    if (n > 0) {
        struct pop3_reply r;
        const char *note = pop3_reply_parse(line, (size_t)n - 2, &r) == POP3_OK
                               ? pop3_reply_explain(&r, POP3_VERB_COUNT) : "";
        sim_conn_send(c, SIM_DIR_S2C, line, (size_t)n, note);
    }
    sim_conn_close(c, SIM_DIR_S2C);
}

static void *on_accept(void *service, struct sim_conn *c)
{
    struct sim_pop3d *d = service;
    if (d->nsessions >= d->max_sessions) {
        refuse(c);
        return NULL;
    }
    /* work is not cleared: only its first nhold octets and what a chunk
     * wrote are read (clearing 8 KiB per connection showed in long runs) */
    struct session *ss = malloc(sizeof *ss);
    if (!ss) return NULL;
    memset(ss, 0, offsetof(struct session, work));
    /* RFC 1939 7: the APOP timestamp must differ for every connection;
     * the connection number and the simulated microsecond do, and the
     * run stays the same byte for byte. */
    struct pop3_server_config cfg = {
        .host = sim_host_name(d->host),
        .pid = sim_conn_id(c),
        .clock = (unsigned long)sim_store_engine(d->store)->now,
        .stls = d->stls_offered,
        .tls_active = sim_conn_tls(c),
    };
    struct pop3_maildrop md = sim_store_pop3(d->store);
    ss->srv = pop3_server_new(&cfg, &md);
    if (!ss->srv) {
        free(ss);
        return NULL;
    }
    ss->d = d;
    ss->c = c;
    ss->verb = POP3_VERB_COUNT;
    ss->next = d->sessions;
    d->sessions = ss;
    d->nsessions++;
    drain(ss); /* the greeting */
    return ss;
}

static void on_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    struct session *ss = session;
    (void)c;
    while (n > 0 && !ss->closing) {
        size_t k = pop3_server_feed(ss->srv, bytes, n);
        drain(ss);
        if (ss->stls) break; /* RFC 2595 4: nothing sent before TLS counts after */
        if (k == 0) { /* its line buffer was full: drained now, try once more */
            k = pop3_server_feed(ss->srv, bytes, n);
            drain(ss);
            if (k == 0 || ss->stls) break;
        }
        bytes += k;
        n -= k;
    }
    ss->stls = false;
    if (ss->closing) {
        sim_conn_close(ss->c, SIM_DIR_S2C);
        free_session(ss); /* the network calls closed() only for the other side */
    }
}

static void on_tls_ready(void *session, struct sim_conn *c)
{
    (void)session;
    (void)c; /* the machine switched at STLS; nothing more to tell it */
}

/* The client went away, or the link failed: without QUIT nothing is
 * deleted (RFC 1939 6); the lock is released. */
static void on_closed(void *session, struct sim_conn *c)
{
    struct session *ss = session;
    (void)c;
    pop3_server_closed(ss->srv);
    drain(ss); /* records the state change; nothing can be sent now */
    free_session(ss);
}

static const struct sim_service_ops pop3d_ops = {on_accept, on_data, on_tls_ready, on_closed};

/* ---- public ------------------------------------------------------------------ */

struct sim_pop3d *sim_pop3d_attach(struct sim_net *net, struct sim_host *host,
                                   struct sim_store *store, unsigned port, bool implicit_tls,
                                   bool stls_offered)
{
    if (!net || !host || !store) return NULL;
    struct sim_pop3d *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = (struct sim_pop3d){
        .net = net, .host = host, .store = store, .port = port, .implicit_tls = implicit_tls,
        .stls_offered = stls_offered && !implicit_tls, .max_sessions = SIM_POP3D_SESSIONS_MAX,
    };
    if (sim_host_listen(host, port, SIM_PROTO_POP3, implicit_tls, &pop3d_ops, d) != 0) {
        free(d);
        return NULL;
    }
    return d;
}

void sim_pop3d_set_max_sessions(struct sim_pop3d *d, size_t max)
{
    if (max < 1) max = 1;
    if (max > SIM_POP3D_SESSIONS_MAX) max = SIM_POP3D_SESSIONS_MAX;
    d->max_sessions = max;
}

size_t sim_pop3d_session_count(const struct sim_pop3d *d) { return d->nsessions; }

void sim_pop3d_free(struct sim_pop3d *d)
{
    if (!d) return;
    while (d->sessions) free_session(d->sessions);
    free(d);
}
