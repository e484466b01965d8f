/* A scripted raw client for the sim server tests (imapd, pop3d): it
 * connects, sends given lines at given simulated times, and keeps every
 * byte the server sent; the small world those tests share; and the trace
 * searches the sim tests (servers, MTA, devices, mail program) check with.
 * Header-only (static), like pop3_memdrop.h. */
#ifndef MAILSIM_TESTS_SIM_SCRIPT_H
#define MAILSIM_TESTS_SIM_SCRIPT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sim/net.h"
#include "sim/store.h"
#include "tests/testkit.h"

#define SCRIPT_LINES 48

struct script_client {
    struct sim_net *net;
    struct sim_engine *e;
    struct sim_conn *c;
    bool connected, closed, failed, tls;
    sim_time closed_at;
    const char *lines[SCRIPT_LINES];
    size_t nlines;
    char got[1 << 16]; /* every byte received, NUL-terminated */
    size_t ngot;
};

static inline void sc_connected(void *ctx, struct sim_conn *c)
{
    struct script_client *sc = ctx;
    sc->c = c;
    sc->connected = true;
}

static inline void sc_failed(void *ctx, enum sim_conn_failure why)
{
    struct script_client *sc = ctx;
    (void)why;
    sc->failed = true;
}

static inline void sc_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    struct script_client *sc = ctx;
    sc->c = c;
    if (n > sizeof sc->got - 1 - sc->ngot) n = sizeof sc->got - 1 - sc->ngot;
    memcpy(sc->got + sc->ngot, bytes, n);
    sc->ngot += n;
    sc->got[sc->ngot] = 0;
}

static inline void sc_tls(void *ctx, struct sim_conn *c)
{
    struct script_client *sc = ctx;
    (void)c;
    sc->tls = true;
}

static inline void sc_closed(void *ctx, struct sim_conn *c)
{
    struct script_client *sc = ctx;
    (void)c;
    sc->closed = true;
    sc->closed_at = sc->e->now;
    sc->c = NULL;
}

static const struct sim_client_ops script_ops = {sc_connected, sc_failed, sc_data, sc_tls,
                                                 sc_closed};

static inline void sc_fire(struct sim_engine *e, void *ctx, uint64_t i)
{
    struct script_client *sc = ctx;
    (void)e;
    if (!sc->c) return;
    const char *line = sc->lines[i];
    if (strcmp(line, "<close>") == 0) {
        sim_conn_close(sc->c, SIM_DIR_C2S);
        return;
    }
    char buf[1024];
    int n;
    if (strncmp(line, "<raw>", 5) == 0) /* exactly these bytes, no CRLF added */
        n = snprintf(buf, sizeof buf, "%s", line + 5);
    else
        n = snprintf(buf, sizeof buf, "%s\r\n", line);
    sim_conn_send(sc->c, SIM_DIR_C2S, buf, (size_t)n, "client line");
}

/* Sends line (CRLF added; "<raw>..." sends the rest as it is; "<close>"
 * closes instead) at absolute simulated time at. */
static inline void sc_send_at(struct script_client *sc, sim_time at, const char *line)
{
    if (sc->nlines >= SCRIPT_LINES) return;
    sc->lines[sc->nlines] = line;
    sim_after(sc->e, at - sc->e->now, sc_fire, sc, sc->nlines);
    sc->nlines++;
}

static inline void sc_connect(struct script_client *sc, struct sim_net *net, struct sim_engine *e,
                       struct sim_host *from, const char *ip, unsigned port)
{
    memset(sc, 0, sizeof *sc);
    sc->net = net;
    sc->e = e;
    sim_net_connect(net, from, ip, port, &script_ops, sc);
}

/* The first trace event of kind with exactly text (dir SIM_DIR_COUNT: any),
 * searching from step from; NULL when none. */
static inline const struct sim_trace_event *find_event(const struct sim_engine *e,
                                                enum sim_trace_kind kind, enum sim_dir dir,
                                                const char *text, size_t from)
{
    for (size_t i = from; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind == kind && (dir == SIM_DIR_COUNT || ev->dir == dir) &&
            strcmp(ev->text, text) == 0)
            return ev;
    }
    return NULL;
}

/* How many events of kind there are on connection conn (0: any). */
static inline size_t count_events(const struct sim_engine *e, enum sim_trace_kind kind, unsigned conn)
{
    size_t n = 0;
    for (size_t i = 0; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind == kind && (conn == 0 || ev->conn == conn)) n++;
    }
    return n;
}

/* The server's lines on connection conn from step from on, joined with
 * "|", into out: what a test compares in one string. */
static inline const char *s2c_lines(const struct sim_engine *e, unsigned conn, size_t from, char *out,
                             size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = from; i < sim_trace_len(e->trace) && o < cap; i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind != SIM_TR_LINE || ev->dir != SIM_DIR_S2C || ev->conn != conn) continue;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "|" : "", ev->text);
    }
    return out;
}

/* ---- the server tests' world ---------------------------------------------- */

#define SCRIPT_EPOCH 1795683600 /* 2026-11-26 09:00:00 UTC at t = 0 */
#define SCRIPT_MX_IP "192.0.2.25"
#define SCRIPT_ACCOUNT "friend@example.org"

/* phone and laptop 10 ms from the core, the server "mx" 5 ms: 15 ms one way;
 * a store on mx with SCRIPT_ACCOUNT (password "secret"). Returns mx, for
 * the servers the test attaches. */
static inline struct sim_host *script_world_init(struct sim_engine *e, struct sim_net **net,
                                                 struct sim_store **store)
{
    assert_int_equal(sim_engine_init(e, 7), 0);
    *net = sim_net_new(e);
    assert_non_null(sim_net_add_host(*net, "phone", "192.0.2.20", SIM_ROLE_PHONE, SIM_MSEC(10), 0));
    assert_non_null(
        sim_net_add_host(*net, "laptop", "192.0.2.30", SIM_ROLE_LAPTOP, SIM_MSEC(10), 0));
    struct sim_host *mx =
        sim_net_add_host(*net, "mx", SCRIPT_MX_IP, SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
    *store = sim_store_new(e, "mx", SCRIPT_EPOCH);
    assert_int_equal(sim_store_add_account(*store, SCRIPT_ACCOUNT, "secret", 0), SIM_STORE_OK);
    return mx;
}

/* After the test has freed its servers. */
static inline void script_world_fini(struct sim_engine *e, struct sim_net *net,
                                     struct sim_store *store)
{
    sim_net_free(net);
    sim_store_free(store);
    sim_engine_fini(e);
}

/* sc_connect from the host named host to the world's server. */
static inline void sc_connect_mx(struct script_client *sc, struct sim_net *net,
                                 struct sim_engine *e, const char *host, unsigned port)
{
    sc_connect(sc, net, e, sim_net_host(net, host), SCRIPT_MX_IP, port);
}

/* New mail for SCRIPT_ACCOUNT's INBOX, as the MTA would store it. */
static inline void script_deliver(struct sim_store *store, const char *msg)
{
    assert_int_equal(
        sim_store_deliver(store, SCRIPT_ACCOUNT, "INBOX", msg, strlen(msg), 0, NULL, NULL),
        SIM_STORE_OK);
}

/* The message both server tests deliver second (53 octets); each has its
 * own first. */
static const char script_photos[] = "From: ana@example.net\r\n"
                                    "Subject: Photos\r\n"
                                    "\r\n"
                                    "Attached.\r\n";

/* ---- logins, as the scripts of both protocols start -------------------------- */

/* IMAP: "a1 LOGIN" at 100 ms. */
static inline void sc_imap_login(struct script_client *sc)
{
    sc_send_at(sc, SIM_MSEC(100), "a1 LOGIN friend@example.org secret");
}

/* IMAP: "a1 LOGIN" at 100 ms, "a2 SELECT INBOX" at 200 ms. */
static inline void sc_imap_select_inbox(struct script_client *sc)
{
    sc_imap_login(sc);
    sc_send_at(sc, SIM_MSEC(200), "a2 SELECT INBOX");
}

/* POP3: USER at `at`, PASS 100 ms later. */
static inline void sc_pop3_login(struct script_client *sc, sim_time at)
{
    sc_send_at(sc, at, "USER friend@example.org");
    sc_send_at(sc, at + SIM_MSEC(100), "PASS secret");
}

/* a and b connect at once, from host_a and host_b, to port of a server that
 * takes one session: by 100 ms b has got only the line refusal and been
 * closed. */
static inline void sc_assert_second_refused(struct script_client *a, struct script_client *b,
                                            struct sim_net *net, struct sim_engine *e,
                                            const char *host_a, const char *host_b,
                                            unsigned port, const char *refusal)
{
    sc_connect_mx(a, net, e, host_a, port);
    sc_connect_mx(b, net, e, host_b, port);
    sim_engine_run(e, SIM_MSEC(100));
    char want[256];
    snprintf(want, sizeof want, "%s\r\n", refusal);
    assert_string_equal(b->got, want);
    assert_true(b->closed);
}

/* ---- trace searches ------------------------------------------------------------ */

/* The note of the server's first line with exactly text (there must be one). */
static inline const char *server_note(const struct sim_engine *e, const char *text)
{
    const struct sim_trace_event *ev = find_event(e, SIM_TR_LINE, SIM_DIR_S2C, text, 0);
    assert_non_null(ev);
    return ev->note;
}

/* The step of the client's first line with exactly text. */
static inline size_t client_line_step(const struct sim_engine *e, const char *text)
{
    return find_event(e, SIM_TR_LINE, SIM_DIR_C2S, text, 0)->step;
}

/* s2c_lines from the client's line `line` on: the server's answer to it and
 * all that came after, on conn. */
static inline const char *replies_from(const struct sim_engine *e, unsigned conn,
                                       const char *line, char *out, size_t cap)
{
    return s2c_lines(e, conn, client_line_step(e, line), out, cap);
}

/* Whether host from (NULL: any) sent a line of exactly text. */
static inline bool trace_has_line(const struct sim_engine *e, const char *from, const char *text)
{
    for (size_t i = 0; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind == SIM_TR_LINE && (!from || strcmp(ev->from, from) == 0) &&
            strcmp(ev->text, text) == 0)
            return true;
    }
    return false;
}

/* Asserts every line in the trace was protected by TLS and, port not 0,
 * went over port; returns how many lines there were. */
static inline size_t assert_every_line_tls(const struct sim_engine *e, unsigned port)
{
    size_t lines = 0;
    for (size_t i = 0; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind != SIM_TR_LINE) continue;
        assert_true(ev->tls);
        if (port) assert_int_equal(ev->port, port);
        lines++;
    }
    return lines;
}

/* STARTTLS or STLS: from step start on there is a handshake, and exactly the
 * lines after it are protected. */
static inline void assert_tls_after_handshake(const struct sim_engine *e, size_t start)
{
    const struct sim_trace_event *hs =
        find_event(e, SIM_TR_TLS, SIM_DIR_COUNT, "TLS handshake complete", start);
    assert_non_null(hs);
    for (size_t i = start; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        if (ev->kind == SIM_TR_LINE) assert_int_equal(ev->tls, i > hs->step);
    }
}

/* Prints the trace (for writing and debugging tests). */
static inline void dump_trace(const struct sim_engine *e)
{
    for (size_t i = 0; i < sim_trace_len(e->trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(e->trace, i);
        printf("%4zu %8llu %-6s %-5s c%u %s %-4s %s  // %s\n", i, (unsigned long long)ev->t,
               sim_trace_kind_names[ev->kind], sim_proto_names[ev->proto], ev->conn,
               ev->tls ? "tls" : "   ", sim_dir_names[ev->dir], ev->text, ev->note);
    }
}

#endif
