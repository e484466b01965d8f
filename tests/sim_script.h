/* A scripted raw client for the sim server tests (imapd, pop3d): it
 * connects, sends given lines at given simulated times, and keeps every
 * byte the server sent. Header-only (static), like pop3_memdrop.h. */
#ifndef MAILSIM_TESTS_SIM_SCRIPT_H
#define MAILSIM_TESTS_SIM_SCRIPT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sim/net.h"

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
