#include "sim/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sim_role_names[SIM_ROLE_COUNT] = {
    "computer", "laptop", "phone", "webmail", "mail-server", "dns-resolver", "dns-server",
};
const char *const sim_conn_failure_names[SIM_FAIL_COUNT] = {
    "connection refused", "host down", "blocked by a firewall", "no route to host",
};

struct listener {
    struct listener *next;
    unsigned port;
    enum sim_proto proto;
    bool implicit_tls;
    const struct sim_service_ops *ops;
    void *service;
};

struct udp_bind {
    struct udp_bind *next;
    unsigned port;
    sim_datagram_fn fn;
    void *ctx;
};

struct port_rule {
    unsigned port;
    bool outbound;
};

struct sim_host {
    struct sim_net *net;
    char name[SIM_HOST_NAME_MAX + 1];
    char ip[SIM_HOST_IP_MAX + 1];
    enum sim_role role;
    sim_time latency;       /* one way, on this host's link */
    uint64_t bps;           /* 0: unlimited */
    bool up;
    bool link_cut;          /* the host runs but nothing crosses its link */
    struct port_rule rules[SIM_PORT_RULES_MAX];
    size_t nrules;
    struct listener *listeners;
    struct udp_bind *udp;
};

/* Bytes (or the close) travelling one way on a connection. */
struct segment {
    struct segment *next;
    bool close;
    size_t n;
    char data[];
};

enum conn_state { CONN_OPENING, CONN_OPEN, CONN_DEAD };

struct sim_conn {
    struct sim_net *net;
    struct sim_conn *next_all;
    unsigned id;
    struct sim_host *client, *server;
    unsigned port;
    struct listener *listener;
    const struct sim_client_ops *cops;
    void *cctx;
    void *session;            /* the service's session, after accept */
    enum conn_state state;
    bool tls;                 /* bytes sent now are protected */
    bool tls_pending;         /* a handshake is under way */
    bool server_gone;         /* the server side has been told it closed */
    bool client_gone;         /* the client side has been told it closed */
    bool client_knows;        /* the client has been told it is connected */
    sim_time started;         /* when the client asked to connect */
    unsigned refs;            /* events scheduled that point at this */
    struct {
        struct segment *head, *tail;
        sim_time last_arrive; /* TCP keeps order: no arrival before this */
    } q[2];                   /* [0] client to server, [1] server to client */
};

struct datagram {
    struct datagram *next; /* in flight, so the network can free them */
    struct sim_net *net;
    struct sim_host *from;
    unsigned from_port;
    char to_ip[SIM_HOST_IP_MAX + 1];
    unsigned to_port;
    size_t n;
    char data[];
};

struct sim_net {
    struct sim_engine *engine;
    struct sim_host **hosts;
    size_t nhosts, cap;
    struct sim_conn *conns; /* every live or draining connection */
    struct datagram *datagrams; /* in flight */
    unsigned next_conn_id;
};

/* ---- hosts --------------------------------------------------------------- */

struct sim_net *sim_net_new(struct sim_engine *e)
{
    struct sim_net *net = calloc(1, sizeof *net);
    if (net) net->engine = e;
    return net;
}

static void free_segments(struct sim_conn *c)
{
    for (int d = 0; d < 2; d++)
        for (struct segment *s = c->q[d].head, *next; s; s = next) {
            next = s->next;
            free(s);
        }
}

void sim_net_free(struct sim_net *net)
{
    if (!net) return;
    for (struct sim_conn *c = net->conns, *next; c; c = next) {
        next = c->next_all;
        free_segments(c);
        free(c);
    }
    for (struct datagram *d = net->datagrams, *next; d; d = next) {
        next = d->next;
        free(d);
    }
    for (size_t i = 0; i < net->nhosts; i++) {
        struct sim_host *h = net->hosts[i];
        for (struct listener *l = h->listeners, *next; l; l = next) {
            next = l->next;
            free(l);
        }
        for (struct udp_bind *u = h->udp, *next; u; u = next) {
            next = u->next;
            free(u);
        }
        free(h);
    }
    free(net->hosts);
    free(net);
}

struct sim_host *sim_net_add_host(struct sim_net *net, const char *name, const char *ip,
                                  enum sim_role role, sim_time latency,
                                  uint64_t bits_per_second)
{
    if (!name || !ip || !*name || !*ip || strlen(name) > SIM_HOST_NAME_MAX ||
        strlen(ip) > SIM_HOST_IP_MAX || role >= SIM_ROLE_COUNT)
        return NULL;
    if (sim_net_host(net, name) || sim_net_host_by_ip(net, ip)) return NULL;
    if (net->nhosts == net->cap) {
        size_t cap = net->cap ? net->cap * 2 : 16;
        struct sim_host **hosts = realloc(net->hosts, cap * sizeof *hosts);
        if (!hosts) return NULL;
        net->hosts = hosts;
        net->cap = cap;
    }
    struct sim_host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->net = net;
    strcpy(h->name, name);
    strcpy(h->ip, ip);
    h->role = role;
    h->latency = latency;
    h->bps = bits_per_second;
    h->up = true;
    net->hosts[net->nhosts++] = h;
    return h;
}

struct sim_host *sim_net_host(const struct sim_net *net, const char *name)
{
    for (size_t i = 0; i < net->nhosts; i++)
        if (strcmp(net->hosts[i]->name, name) == 0) return net->hosts[i];
    return NULL;
}

struct sim_host *sim_net_host_by_ip(const struct sim_net *net, const char *ip)
{
    for (size_t i = 0; i < net->nhosts; i++)
        if (strcmp(net->hosts[i]->ip, ip) == 0) return net->hosts[i];
    return NULL;
}

size_t sim_net_host_count(const struct sim_net *net) { return net->nhosts; }

struct sim_host *sim_net_host_at(const struct sim_net *net, size_t i)
{
    return i < net->nhosts ? net->hosts[i] : NULL;
}

const char *sim_host_name(const struct sim_host *h) { return h->name; }
const char *sim_host_ip(const struct sim_host *h) { return h->ip; }
enum sim_role sim_host_role(const struct sim_host *h) { return h->role; }
bool sim_host_is_up(const struct sim_host *h) { return h->up; }
bool sim_host_link_up(const struct sim_host *h) { return !h->link_cut; }

/* Whether bytes can reach h at all: it is up and its link is not cut. */
static bool reachable(const struct sim_host *h) { return h->up && !h->link_cut; }

static struct port_rule *find_rule(const struct sim_host *h, unsigned port, bool outbound)
{
    for (size_t i = 0; i < h->nrules; i++)
        if (h->rules[i].port == port && h->rules[i].outbound == outbound)
            return (struct port_rule *)&h->rules[i];
    return NULL;
}

bool sim_host_port_blocked(const struct sim_host *h, unsigned port, bool outbound)
{
    return find_rule(h, port, outbound) != NULL;
}

static void record_fault(struct sim_host *h, enum sim_fault fault, unsigned port,
                         bool outbound, const char *text, const char *note)
{
    struct sim_trace_event ev = {
        .kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = h->name, .port = port,
        .fault = fault, .outbound = outbound, .text = text, .note = note,
    };
    sim_record(h->net->engine, &ev);
}

int sim_host_block_port(struct sim_host *h, unsigned port, bool outbound)
{
    if (find_rule(h, port, outbound)) return 0;
    if (h->nrules == SIM_PORT_RULES_MAX) return -1;
    h->rules[h->nrules++] = (struct port_rule){port, outbound};
    char text[160];
    snprintf(text, sizeof text, "port %u blocked %s %s", port,
             outbound ? "going out from" : "coming in to", h->name);
    record_fault(h, SIM_FAULT_PORT_BLOCKED, port, outbound, text,
                 outbound ? "a firewall on this host's network drops "
                                     "connections it opens to that port"
                                   : "a firewall drops connections to this port");
    return 0;
}

int sim_host_unblock_port(struct sim_host *h, unsigned port, bool outbound)
{
    struct port_rule *r = find_rule(h, port, outbound);
    if (!r) return -1;
    *r = h->rules[--h->nrules];
    char text[160];
    snprintf(text, sizeof text, "port %u open again %s %s", port,
             outbound ? "going out from" : "coming in to", h->name);
    record_fault(h, SIM_FAULT_PORT_OPEN, port, outbound, text, "");
    return 0;
}

static struct listener *find_listener(const struct sim_host *h, unsigned port)
{
    for (struct listener *l = h->listeners; l; l = l->next)
        if (l->port == port) return l;
    return NULL;
}

int sim_host_listen(struct sim_host *h, unsigned port, enum sim_proto proto,
                    bool implicit_tls, const struct sim_service_ops *ops, void *service)
{
    if (find_listener(h, port)) return -1;
    struct listener *l = calloc(1, sizeof *l);
    if (!l) return -1;
    *l = (struct listener){h->listeners, port, proto, implicit_tls, ops, service};
    h->listeners = l;
    return 0;
}

bool sim_host_listening(const struct sim_host *h, unsigned port)
{
    return find_listener(h, port) != NULL;
}

int sim_host_bind_udp(struct sim_host *h, unsigned port, sim_datagram_fn fn, void *ctx)
{
    for (struct udp_bind *u = h->udp; u; u = u->next)
        if (u->port == port) return -1;
    struct udp_bind *u = calloc(1, sizeof *u);
    if (!u) return -1;
    *u = (struct udp_bind){h->udp, port, fn, ctx};
    h->udp = u;
    return 0;
}

/* ---- timing ------------------------------------------------------------- */

/* One-way time for n bytes from a to b: both links' latency plus the bytes'
 * serialisation on the slower link. */
static sim_time transit(const struct sim_host *a, const struct sim_host *b, size_t n)
{
    sim_time t = a->latency + b->latency;
    uint64_t bps = a->bps;
    if (b->bps && (!bps || b->bps < bps)) bps = b->bps;
    if (bps) t += (sim_time)((uint64_t)n * 8u * 1000000u / bps);
    return t;
}

/* ---- connections -------------------------------------------------------- */

static struct sim_engine *eng(const struct sim_conn *c) { return c->net->engine; }

static void schedule(struct sim_conn *c, sim_time delay, sim_event_fn fn, uint64_t arg)
{
    c->refs++;
    sim_after(eng(c), delay, fn, c, arg);
}

/* Frees c when it is dead and no event points at it any more. */
static void release(struct sim_conn *c)
{
    if (c->refs > 0 || c->state != CONN_DEAD) return;
    struct sim_conn **pp = &c->net->conns;
    while (*pp != c) pp = &(*pp)->next_all;
    *pp = c->next_all;
    free_segments(c);
    free(c);
}

static void record_conn(struct sim_conn *c, enum sim_trace_kind kind, enum sim_proto proto,
                        const char *text, const char *note)
{
    struct sim_trace_event ev = {
        .kind = kind, .proto = proto, .from = c->client->name, .to = c->server->name,
        .port = c->port, .conn = c->id, .tls = c->tls, .text = text, .note = note,
    };
    sim_record(c->net->engine, &ev);
}

/* Tells the server side (once) that the connection is gone. */
static void server_closed(struct sim_conn *c)
{
    if (c->server_gone) return;
    c->server_gone = true;
    if (c->session && c->listener->ops->closed) c->listener->ops->closed(c->session, c);
}

static void client_closed(struct sim_conn *c)
{
    if (c->client_gone) return;
    c->client_gone = true;
    if (c->cops->closed) c->cops->closed(c->cctx, c);
}

static void ev_client_failed(struct sim_engine *e, void *ctx, uint64_t why)
{
    (void)e;
    struct sim_conn *c = ctx;
    c->refs--;
    c->state = CONN_DEAD;
    c->client_gone = c->server_gone = true;
    char text[160];
    snprintf(text, sizeof text, "%s -> %s:%u failed: %s", c->client->name,
             c->server->name, c->port, sim_conn_failure_names[why]);
    record_conn(c, SIM_TR_REFUSED, SIM_PROTO_TCP, text,
                why == SIM_FAIL_REFUSED ? "nothing listens on that port: the server "
                                          "answered at once with a reset"
                                        : "no answer at all: the client gave up after "
                                          "waiting");
    if (c->cops->failed) c->cops->failed(c->cctx, (enum sim_conn_failure)why);
    release(c);
}

static void ev_client_connected(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct sim_conn *c = ctx;
    c->refs--;
    if (c->state == CONN_OPEN && !c->client_gone) {
        c->client_knows = true;
        if (c->cops->connected) c->cops->connected(c->cctx, c);
    }
    release(c);
}

/* The server side opens: accept() and, for a late-opening implicit-TLS
 * port, the client learns it is connected one latency later. */
static void open_server_side(struct sim_conn *c)
{
    c->state = CONN_OPEN;
    char text[160] = "";
    /* not formatted for a trace that drops it (trace.h: the observer sees "") */
    if (sim_trace_keeps(eng(c)->trace, SIM_TR_CONNECT))
        snprintf(text, sizeof text, "%s:%u connected to %s:%u", c->client->name, 49152 + c->id,
                 c->server->name, c->port);
    if (c->tls) {
        record_conn(c, SIM_TR_CONNECT, SIM_PROTO_TCP, text, "TCP handshake done");
        record_conn(c, SIM_TR_TLS, SIM_PROTO_TLS, "TLS handshake complete (implicit TLS)",
                    "this port starts encrypted: everything from here on is opaque "
                    "to an eavesdropper");
    } else {
        record_conn(c, SIM_TR_CONNECT, SIM_PROTO_TCP, text,
                    "TCP handshake done: the client may now talk to the server");
    }
    schedule(c, transit(c->server, c->client, 0), ev_client_connected, 0);
    c->session = c->listener->ops->accept(c->listener->service, c);
    if (!c->session) sim_conn_close(c, SIM_DIR_S2C); /* refused: the client sees a close */
}

static void ev_tls_hello(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct sim_conn *c = ctx;
    c->refs--;
    if (c->state == CONN_OPENING && (!reachable(c->server) || !reachable(c->client))) {
        /* The server or a link went away during the handshake: the client
         * hears nothing more and gives up at the connect timeout, counted
         * from its attempt (SYN, SYN-ACK, ClientHello so far). */
        sim_time spent = 2 * transit(c->client, c->server, 0) + transit(c->server, c->client, 0);
        schedule(c, spent < SIM_CONNECT_TIMEOUT ? SIM_CONNECT_TIMEOUT - spent : 0,
                 ev_client_failed, SIM_FAIL_DOWN);
    } else if (c->state == CONN_OPENING) {
        c->tls = true;
        open_server_side(c);
    }
    release(c);
}

static void ev_syn_arrives(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct sim_conn *c = ctx;
    c->refs--;
    sim_time back = transit(c->server, c->client, 0);
    sim_time waited = transit(c->client, c->server, 0);
    if (!reachable(c->server) || !reachable(c->client)) {
        schedule(c, SIM_CONNECT_TIMEOUT - waited, ev_client_failed, SIM_FAIL_DOWN);
    } else if (sim_host_port_blocked(c->server, c->port, false)) {
        schedule(c, SIM_CONNECT_TIMEOUT - waited, ev_client_failed, SIM_FAIL_BLOCKED);
    } else if (!(c->listener = find_listener(c->server, c->port))) {
        schedule(c, back, ev_client_failed, SIM_FAIL_REFUSED);
    } else if (c->listener->implicit_tls) {
        /* RFC 8446: ClientHello after the TCP handshake, one round trip */
        schedule(c, back + waited, ev_tls_hello, 0);
    } else {
        open_server_side(c);
    }
    release(c);
}

void sim_net_connect(struct sim_net *net, struct sim_host *from, const char *to_ip,
                     unsigned port, const struct sim_client_ops *ops, void *ctx)
{
    struct sim_conn *c = calloc(1, sizeof *c);
    if (!c) {
        net->engine->failed = 1;
        return;
    }
    c->net = net;
    c->id = ++net->next_conn_id;
    c->client = from;
    c->server = sim_net_host_by_ip(net, to_ip);
    c->port = port;
    c->cops = ops;
    c->cctx = ctx;
    c->state = CONN_OPENING;
    c->started = net->engine->now;
    c->next_all = net->conns;
    net->conns = c;
    if (!c->server) { /* no such address: a local error, at once */
        c->server = from;
        schedule(c, 0, ev_client_failed, SIM_FAIL_NO_ROUTE);
    } else if (!from->up) {
        schedule(c, 0, ev_client_failed, SIM_FAIL_DOWN);
    } else if (from->link_cut) { /* the host's own stack knows it has no link */
        schedule(c, 0, ev_client_failed, SIM_FAIL_NO_ROUTE);
    } else if (sim_host_port_blocked(from, port, true)) {
        schedule(c, SIM_CONNECT_TIMEOUT, ev_client_failed, SIM_FAIL_BLOCKED);
    } else {
        schedule(c, transit(from, c->server, 0), ev_syn_arrives, 0);
    }
}

static void ev_deliver(struct sim_engine *e, void *ctx, uint64_t dir)
{
    (void)e;
    struct sim_conn *c = ctx;
    c->refs--;
    struct segment *s = c->q[dir].head;
    c->q[dir].head = s->next;
    if (!s->next) c->q[dir].tail = NULL;
    bool to_server = dir == 0;
    if (c->state == CONN_OPEN) {
        if (s->close) {
            if (to_server) server_closed(c);
            else client_closed(c);
            c->state = CONN_DEAD;
            /* the side that closed is done too: nothing more reaches it */
            if (to_server) client_closed(c);
            else server_closed(c);
        } else if (to_server && !c->server_gone) {
            c->listener->ops->data(c->session, c, s->data, s->n);
        } else if (!to_server && !c->client_gone && c->cops->data) {
            c->cops->data(c->cctx, c, s->data, s->n);
        }
    }
    free(s);
    release(c);
}

static int enqueue(struct sim_conn *c, enum sim_dir dir, const char *bytes, size_t n, bool close)
{
    struct segment *s = malloc(sizeof *s + n);
    if (!s) {
        eng(c)->failed = 1;
        return -1;
    }
    s->next = NULL;
    s->close = close;
    s->n = n;
    if (n) memcpy(s->data, bytes, n);
    int d = dir == SIM_DIR_C2S ? 0 : 1;
    const struct sim_host *src = d == 0 ? c->client : c->server;
    const struct sim_host *dst = d == 0 ? c->server : c->client;
    sim_time arrive = eng(c)->now + transit(src, dst, n);
    if (arrive < c->q[d].last_arrive) arrive = c->q[d].last_arrive;
    c->q[d].last_arrive = arrive;
    if (c->q[d].tail) c->q[d].tail->next = s;
    else c->q[d].head = s;
    c->q[d].tail = s;
    schedule(c, arrive - eng(c)->now, ev_deliver, (uint64_t)d);
    return 0;
}

/* Records each line of bytes[0..n) as sent, arriving at `arrive`. */
static void record_lines(struct sim_conn *c, enum sim_dir dir, const char *bytes, size_t n,
                         const char *note, sim_time arrive)
{
    const struct sim_host *src = dir == SIM_DIR_C2S ? c->client : c->server;
    const struct sim_host *dst = dir == SIM_DIR_C2S ? c->server : c->client;
    /* A trace that drops lines (a long run that only needs its numbers)
     * gets each line's size and not its text (sim_trace_keeps). */
    bool keep_text = sim_trace_keeps(eng(c)->trace, SIM_TR_LINE);
    size_t off = 0;
    while (off < n) {
        const char *lf = memchr(bytes + off, '\n', n - off);
        size_t end = lf ? (size_t)(lf - bytes) + 1 : n;
        size_t len = end - off;
        size_t text_len = len;
        if (text_len && bytes[off + text_len - 1] == '\n') text_len--;
        if (text_len && bytes[off + text_len - 1] == '\r') text_len--;
        /* the trace copies the text: a short line needs no allocation */
        char small[1024];
        char *text = small;
        if (!keep_text) {
            small[0] = 0;
        } else {
            if (text_len >= sizeof small && !(text = malloc(text_len + 1))) {
                eng(c)->failed = 1;
                return;
            }
            memcpy(text, bytes + off, text_len);
            text[text_len] = 0;
        }
        struct sim_trace_event ev = {
            .kind = SIM_TR_LINE, .proto = c->listener->proto, .from = src->name,
            .to = dst->name, .port = c->port, .dir = dir, .conn = c->id, .tls = c->tls,
            .wire_bytes = len, .text = text, .note = off == 0 ? note : NULL,
            .arrive = arrive,
        };
        sim_record(eng(c), &ev);
        if (text != small) free(text);
        off = end;
    }
}

int sim_conn_send(struct sim_conn *c, enum sim_dir dir, const char *bytes, size_t n,
                  const char *note)
{
    bool from_client = dir == SIM_DIR_C2S;
    if (c->state != CONN_OPEN || (from_client ? c->client_gone : c->server_gone) ||
        !reachable(from_client ? c->client : c->server))
        return -1;
    if (n == 0) return 0;
    if (enqueue(c, dir, bytes, n, false) != 0) return -1;
    record_lines(c, dir, bytes, n, note, c->q[from_client ? 0 : 1].last_arrive);
    return 0;
}

static void ev_tls_ready(struct sim_engine *e, void *ctx, uint64_t to_server)
{
    (void)e;
    struct sim_conn *c = ctx;
    c->refs--;
    if (c->state == CONN_OPEN) {
        if (to_server) {
            if (!c->server_gone && c->listener->ops->tls_ready)
                c->listener->ops->tls_ready(c->session, c);
        } else {
            c->tls_pending = false;
            record_conn(c, SIM_TR_TLS, SIM_PROTO_TLS, "TLS handshake complete",
                        "from now on an eavesdropper on the link sees only opaque "
                        "records of the same size");
            if (!c->client_gone && c->cops->tls_ready) c->cops->tls_ready(c->cctx, c);
        }
    }
    release(c);
}

void sim_conn_start_tls(struct sim_conn *c)
{
    if (c->tls || c->tls_pending || c->state != CONN_OPEN) return;
    c->tls_pending = true;
    /* The handshake starts when the reply that allowed it reaches the
     * client: ClientHello to the server (which is then ready), the server's
     * flight back (then the client is). RFC 8446 2: one round trip. */
    sim_time start = c->q[1].last_arrive > eng(c)->now ? c->q[1].last_arrive : eng(c)->now;
    sim_time up = transit(c->client, c->server, 0);
    sim_time down = transit(c->server, c->client, 0);
    c->tls = true; /* what is sent from now on waits for, and is inside, TLS */
    c->q[0].last_arrive = start + up;
    schedule(c, start + up - eng(c)->now, ev_tls_ready, 1);
    schedule(c, start + up + down - eng(c)->now, ev_tls_ready, 0);
}

void sim_conn_close(struct sim_conn *c, enum sim_dir from_side)
{
    if (c->state != CONN_OPEN) return;
    bool from_client = from_side == SIM_DIR_C2S;
    if (from_client ? c->client_gone : c->server_gone) return;
    char text[160] = "";
    if (sim_trace_keeps(eng(c)->trace, SIM_TR_CLOSE))
        snprintf(text, sizeof text, "%s closes the connection",
                 (from_client ? c->client : c->server)->name);
    record_conn(c, SIM_TR_CLOSE, SIM_PROTO_TCP, text, "");
    enqueue(c, from_side, NULL, 0, true);
    /* The closing side will receive nothing more. */
    if (from_client) c->client_gone = true;
    else c->server_gone = true;
}

/* Cuts every open connection of h: both ends are told at once. */
static void cut_connections(struct sim_host *h)
{
    for (struct sim_conn *c = h->net->conns; c; c = c->next_all) {
        if (c->state != CONN_OPEN || (c->client != h && c->server != h)) continue;
        c->state = CONN_DEAD;
        server_closed(c);
        if (c->client_knows) {
            client_closed(c);
        } else {
            /* The server had accepted, but its answer had not reached the
             * client: for the client the attempt goes unanswered, and it
             * gives up at the connect timeout, counted from its attempt. */
            c->client_gone = true;
            sim_time end = c->started + SIM_CONNECT_TIMEOUT, now = eng(c)->now;
            schedule(c, end > now ? end - now : 0, ev_client_failed, SIM_FAIL_DOWN);
        }
    }
    /* Connections whose events are all done can go now. */
    for (struct sim_conn *c = h->net->conns, *next; c; c = next) {
        next = c->next_all;
        release(c);
    }
}

void sim_host_set_up(struct sim_host *h, bool up)
{
    if (h->up == up) return;
    h->up = up;
    record_fault(h, up ? SIM_FAULT_HOST_UP : SIM_FAULT_HOST_DOWN, 0, false,
                 up ? "host is back up" : "host is down",
                 up ? "it answers connections again"
                    : "connections to it now go unanswered; open ones are cut");
    if (!up) cut_connections(h);
}

void sim_host_set_link(struct sim_host *h, bool connected)
{
    if (h->link_cut == !connected) return;
    h->link_cut = !connected;
    record_fault(h, connected ? SIM_FAULT_LINK_RESTORED : SIM_FAULT_LINK_CUT, 0, false,
                 connected ? "link restored" : "link cut",
                 connected ? "the host's network link works again: new connections "
                             "get through"
                           : "the host still runs, but its network link is down: open "
                             "connections are cut, new ones get no answer");
    if (!connected) cut_connections(h);
}

void sim_record_client(struct sim_engine *e, const struct sim_host *host,
                       const struct sim_conn *c, enum sim_trace_kind kind,
                       enum sim_proto proto, const char *text, const char *note)
{
    struct sim_trace_event ev = {
        .kind = kind, .proto = proto, .from = host->name, .text = text, .note = note,
    };
    if (c) {
        ev.to = c->server->name;
        ev.port = c->port;
        ev.conn = c->id;
        ev.tls = c->tls;
    }
    sim_record(e, &ev);
}

bool sim_conn_tls(const struct sim_conn *c) { return c->tls; }
unsigned sim_conn_id(const struct sim_conn *c) { return c->id; }
unsigned sim_conn_port(const struct sim_conn *c) { return c->port; }
struct sim_host *sim_conn_client(const struct sim_conn *c) { return c->client; }
struct sim_host *sim_conn_server(const struct sim_conn *c) { return c->server; }

/* ---- datagrams ------------------------------------------------------------ */

static void ev_datagram(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct datagram *d = ctx;
    struct datagram **pp = &d->net->datagrams;
    while (*pp != d) pp = &(*pp)->next;
    *pp = d->next;
    struct sim_host *to = sim_net_host_by_ip(d->net, d->to_ip);
    if (to && reachable(to) && reachable(d->from) && !sim_host_port_blocked(to, d->to_port, false)) {
        for (struct udp_bind *u = to->udp; u; u = u->next)
            if (u->port == d->to_port) {
                u->fn(u->ctx, d->from, d->from_port, d->data, d->n);
                break;
            }
    }
    free(d);
}

void sim_net_send_datagram(struct sim_net *net, struct sim_host *from, unsigned from_port,
                           const char *to_ip, unsigned to_port, const char *bytes, size_t n,
                           enum sim_dir dir, const char *text, const char *note)
{
    struct sim_host *to = sim_net_host_by_ip(net, to_ip);
    sim_time arrive = net->engine->now + (to ? transit(from, to, n) : 0);
    struct sim_trace_event ev = {
        .kind = SIM_TR_DNS, .proto = SIM_PROTO_DNS, .from = from->name,
        .to = to ? to->name : to_ip, .port = dir == SIM_DIR_C2S ? to_port : from_port,
        .dir = dir, .wire_bytes = n, .text = text, .note = note, .arrive = arrive,
    };
    sim_record(net->engine, &ev);
    if (!to || !reachable(from) || sim_host_port_blocked(from, to_port, true)) return;
    if (strlen(to_ip) > SIM_HOST_IP_MAX) return;
    struct datagram *d = malloc(sizeof *d + n);
    if (!d) {
        net->engine->failed = 1;
        return;
    }
    d->next = net->datagrams;
    net->datagrams = d;
    d->net = net;
    d->from = from;
    d->from_port = from_port;
    strcpy(d->to_ip, to_ip);
    d->to_port = to_port;
    d->n = n;
    memcpy(d->data, bytes, n);
    sim_after(net->engine, arrive - net->engine->now, ev_datagram, d, 0);
}
