/* The IMAP server of a simulated mail server host. See imapd.h.
 *
 * One imap_server machine per connection. Its SEND events are whole
 * responses; each goes out with one sim_conn_send() so its trace line gets
 * its own note. To choose the note the session reads its own responses
 * back with the codec's response reader (imap.h): the explanation depends
 * on the response's kind, status and code, and on the command it answers. */
#include "sim/imapd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/explain.h"
#include "protocols/imap_server.h"

struct session {
    struct session *next;
    struct sim_imapd *d;
    struct sim_conn *c;
    struct imap_server *srv;
    struct imap_resp_reader *rd; /* reads our own responses to explain them */
    enum imap_cmd cmd;           /* the command running; IMAP_CMD_COUNT for none */
    bool busy;                   /* inside drain(): never polled re-entrantly */
    bool poll_pending;           /* the store changed while busy */
    bool closing;                /* CLOSE seen: hang up once the output is sent */
};

struct sim_imapd {
    struct sim_net *net;
    struct sim_host *host;
    struct sim_store *store;
    unsigned port;
    bool implicit_tls, starttls_offered, login_needs_tls, condstore;
    size_t max_sessions, nsessions;
    struct session *sessions;
    /* The machine of the last session that ended, kept to serve the next
     * connection (imap_server_reset): a new one per connection allocated
     * and first touched its tables and output arena every time, a tenth
     * of a long compare run. At most one is kept. */
    struct imap_server *spare;
};

/* ---- output -------------------------------------------------------------- */

/* The note for one of our responses: read it back, then explain it. */
static const char *note_for(struct session *ss, const char *data, size_t len,
                            bool *tagged)
{
    *tagged = false;
    const char *note = "";
    size_t off = 0;
    while (off < len) {
        size_t k = imap_resp_reader_feed(ss->rd, data + off, len - off);
        off += k;
        struct imap_response r;
        enum imap_rd_ev ev;
        while ((ev = imap_resp_reader_next(ss->rd, &r)) != IMAP_RD_NEED_MORE) {
            if (ev == IMAP_RD_RESPONSE && !*note) {
                note = imap_response_explain(&r, ss->cmd);
                *tagged = r.kind == IMAP_RESP_TAGGED;
            }
            if (ev == IMAP_RD_ERROR && r.error == IMAP_ERR_NOMEM) {
                imap_resp_reader_reset(ss->rd);
                return note;
            }
        }
        if (k == 0 && off < len) break; /* the reader takes no more: give up on a note */
    }
    return note;
}

static void send_response(struct session *ss, const char *data, size_t len)
{
    bool tagged;
    /* the note reads the response back: a second parse, wasted when the
     * trace only counts lines (a long compare run) */
    if (!ss->rd || !sim_trace_keeps(sim_store_engine(ss->d->store)->trace, SIM_TR_LINE)) {
        sim_conn_send(ss->c, SIM_DIR_S2C, data, len, NULL);
        return;
    }
    const char *note = note_for(ss, data, len, &tagged);
    sim_conn_send(ss->c, SIM_DIR_S2C, data, len, note);
    if (tagged) ss->cmd = IMAP_CMD_COUNT; /* the command is complete */
}

/* The command a COMMAND event's verb names ("UID FETCH" is FETCH; "DONE"
 * and a SASL line continue IDLE and AUTHENTICATE). */
static enum imap_cmd cmd_of(const char *verb)
{
    if (strcmp(verb, "DONE") == 0) return IMAP_CMD_IDLE;
    if (strncmp(verb, "UID ", 4) == 0) verb += 4;
    for (int i = 0; i < IMAP_CMD_COUNT; i++)
        if (strcmp(verb, imap_cmd_names[i]) == 0) return (enum imap_cmd)i;
    return IMAP_CMD_COUNT; /* "?": a line the parser refused */
}

static void record_state(struct session *ss, enum imap_server_state from,
                         enum imap_server_state to)
{
    char text[64] = "";
    /* not formatted for a trace that drops it (trace.h: the observer sees "") */
    if (sim_trace_keeps(sim_store_engine(ss->d->store)->trace, SIM_TR_STATE))
        snprintf(text, sizeof text, "%s -> %s", imap_server_state_names[from],
                 imap_server_state_names[to]);
    struct sim_trace_event ev = {
        .kind = SIM_TR_STATE, .proto = SIM_PROTO_IMAP, .from = sim_host_name(ss->d->host),
        .port = ss->d->port, .conn = sim_conn_id(ss->c), .tls = sim_conn_tls(ss->c),
        .text = text, .note = imap_server_state_explain(to),
    };
    sim_record(sim_store_engine(ss->d->store), &ev);
}

/* Runs the machine until it wants input, acting on every event; again
 * while the store changed meanwhile (another session's change seen while
 * this one was busy). */
static void drain(struct session *ss)
{
    ss->busy = true;
    for (;;) {
        struct imap_server_event ev;
        enum imap_server_ev t;
        while ((t = imap_server_next(ss->srv, &ev)) != IMAP_SERVER_NEED_MORE) {
            switch (t) {
            case IMAP_SERVER_EV_SEND: send_response(ss, ev.data, ev.len); break;
            case IMAP_SERVER_EV_COMMAND: ss->cmd = cmd_of(ev.verb); break;
            case IMAP_SERVER_EV_STATE: record_state(ss, ev.from, ev.to); break;
            case IMAP_SERVER_EV_STARTTLS: sim_conn_start_tls(ss->c); break;
            case IMAP_SERVER_EV_CLOSE: ss->closing = true; break;
            default: break; /* FLAGGED EXPUNGED APPENDED: the store recorded them */
            }
        }
        if (!ss->poll_pending || ss->closing) break;
        ss->poll_pending = false;
        imap_server_poll(ss->srv);
    }
    ss->busy = false;
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
    if (!ss->d->spare)
        ss->d->spare = ss->srv;
    else
        imap_server_free(ss->srv);
    imap_resp_reader_free(ss->rd);
    free(ss);
}

/* LOGOUT (or a fatal parser error) ended the session: close, then forget
 * it; the network will not call closed() for the side that closed. */
static void hang_up(struct session *ss)
{
    sim_conn_close(ss->c, SIM_DIR_S2C);
    free_session(ss);
}

/* RFC 3501 7.1.5: a server that will not serve a connection says BYE. */
static void refuse(struct sim_imapd *d, struct sim_conn *c)
{
    static const char text[] = "Too many connections";
    struct imap_response r;
    memset(&r, 0, sizeof r);
    r.kind = IMAP_RESP_STATE;
    r.status = IMAP_BYE;
    r.text = (struct imap_str){text, sizeof text - 1, false};
    char line[128];
    size_t n = imap_resp_format(&r, line, sizeof line);
    (void)d;
    if (n) sim_conn_send(c, SIM_DIR_S2C, line, n, imap_response_explain(&r, IMAP_CMD_COUNT));
    sim_conn_close(c, SIM_DIR_S2C);
}

static void *on_accept(void *service, struct sim_conn *c)
{
    struct sim_imapd *d = service;
    if (d->nsessions >= d->max_sessions) {
        refuse(d, c);
        return NULL;
    }
    struct session *ss = calloc(1, sizeof *ss);
    if (!ss) return NULL;
    struct imap_server_config cfg = {
        .mailbox = sim_store_imap(d->store),
        .starttls_offered = d->starttls_offered,
        .tls_active = sim_conn_tls(c),
        .login_needs_tls = d->login_needs_tls,
        .hostname = sim_host_name(d->host),
        .condstore = d->condstore,
    };
    if (d->spare) {
        ss->srv = d->spare;
        d->spare = NULL;
        imap_server_reset(ss->srv, &cfg);
    } else {
        ss->srv = imap_server_new(&cfg);
    }
    /* the reader only serves the notes: none when the trace only counts
     * lines (it is a large table to clear, once per connection) */
    if (sim_trace_keeps(sim_store_engine(d->store)->trace, SIM_TR_LINE))
        ss->rd = imap_resp_reader_new(0);
    if (!ss->srv || (!ss->rd && sim_trace_keeps(sim_store_engine(d->store)->trace, SIM_TR_LINE))) {
        imap_server_free(ss->srv);
        imap_resp_reader_free(ss->rd);
        free(ss);
        return NULL;
    }
    ss->d = d;
    ss->c = c;
    ss->cmd = IMAP_CMD_COUNT;
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
    /* APPEND without a date stores the simulated now (RFC 3501 6.3.11). */
    imap_server_set_clock(ss->srv, sim_store_clock(ss->d->store), sim_store_zone(ss->d->store));
    while (n > 0 && !ss->closing) {
        size_t k = imap_server_feed(ss->srv, bytes, n);
        if (k == 0) {
            drain(ss);
            if (ss->closing) break;
            k = imap_server_feed(ss->srv, bytes, n);
            /* Still nothing: STARTTLS waits for the handshake (RFC 3501
             * 6.2.1: what the client sent behind it in the clear is
             * dropped) or the session logged out. */
            if (k == 0) break;
        }
        bytes += k;
        n -= k;
    }
    drain(ss);
    if (ss->closing) hang_up(ss);
}

static void on_tls_ready(void *session, struct sim_conn *c)
{
    struct session *ss = session;
    (void)c;
    imap_server_tls_started(ss->srv);
    drain(ss);
}

static void on_closed(void *session, struct sim_conn *c)
{
    (void)c;
    free_session(session);
}

static const struct sim_service_ops imapd_ops = {on_accept, on_data, on_tls_ready, on_closed};

/* The store changed: sessions in IDLE hear of it now (RFC 2177 3). */
static void on_store_change(void *ctx, const char *address, const char *folder)
{
    struct sim_imapd *d = ctx;
    (void)address;
    (void)folder;
    for (struct session *ss = d->sessions; ss; ss = ss->next) {
        if (ss->busy) {
            ss->poll_pending = true;
        } else if (imap_server_idling(ss->srv)) {
            imap_server_poll(ss->srv);
            drain(ss);
        }
    }
}

/* ---- public ------------------------------------------------------------------ */

struct sim_imapd *sim_imapd_attach(struct sim_net *net, struct sim_host *host,
                                   struct sim_store *store, unsigned port, bool implicit_tls,
                                   bool starttls_offered)
{
    if (!net || !host || !store) return NULL;
    struct sim_imapd *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = (struct sim_imapd){
        .net = net, .host = host, .store = store, .port = port, .implicit_tls = implicit_tls,
        .starttls_offered = starttls_offered && !implicit_tls,
        .max_sessions = SIM_IMAPD_SESSIONS_MAX,
    };
    if (sim_store_watch(store, on_store_change, d) != 0) {
        free(d);
        return NULL;
    }
    if (sim_host_listen(host, port, SIM_PROTO_IMAP, implicit_tls, &imapd_ops, d) != 0) {
        sim_store_unwatch(store, on_store_change, d);
        free(d);
        return NULL;
    }
    return d;
}

void sim_imapd_set_login_needs_tls(struct sim_imapd *d, bool on) { d->login_needs_tls = on; }

void sim_imapd_set_condstore(struct sim_imapd *d, bool on) { d->condstore = on; }

void sim_imapd_set_max_sessions(struct sim_imapd *d, size_t max)
{
    if (max < 1) max = 1;
    if (max > SIM_IMAPD_SESSIONS_MAX) max = SIM_IMAPD_SESSIONS_MAX;
    d->max_sessions = max;
}

size_t sim_imapd_session_count(const struct sim_imapd *d) { return d->nsessions; }

void sim_imapd_free(struct sim_imapd *d)
{
    if (!d) return;
    sim_store_unwatch(d->store, on_store_change, d);
    while (d->sessions) free_session(d->sessions);
    imap_server_free(d->spare);
    free(d);
}
