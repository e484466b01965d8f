/* The simulated network: named hosts with addresses and roles, each attached
 * by its own link (latency, bandwidth, firewall rules); TCP-like connections
 * between host:port pairs and UDP datagrams for DNS.
 *
 * The network carries bytes and nothing else: it never looks inside them.
 * It records in the trace every connection opened, refused and closed, every
 * line sent (text verbatim, with the note the sender gives), every datagram
 * and every TLS handshake, with both what the endpoints see and what an
 * eavesdropper on the link sees (the tls flag and the size on the wire).
 *
 * Timing: a transfer from A to B takes A's link latency plus B's, plus the
 * serialisation time of its bytes on the slower of the two links, and never
 * overtakes an earlier transfer in the same direction (TCP keeps order). The
 * TCP handshake is one round trip; a TLS handshake is one more (TLS 1.3). */
#ifndef MAILSIM_SIM_NET_H
#define MAILSIM_SIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"

enum sim_role {
    SIM_ROLE_COMPUTER,     /* the sender's computer at home */
    SIM_ROLE_LAPTOP,       /* a recipient's laptop (often the POP3 one) */
    SIM_ROLE_PHONE,        /* a recipient's phone (IMAP) */
    SIM_ROLE_WEBMAIL,      /* a web mail client */
    SIM_ROLE_MAIL_SERVER,  /* submission, relay, MX, IMAP and POP3 server */
    SIM_ROLE_DNS_RESOLVER, /* a recursive resolver */
    SIM_ROLE_DNS_SERVER,   /* an authoritative name server */
    SIM_ROLE_COUNT
};
/* "computer", "laptop", "phone", "webmail", "mail-server", "dns-resolver",
 * "dns-server": the names scenario files use. */
extern const char *const sim_role_names[SIM_ROLE_COUNT];

/* Why a connection attempt failed. */
enum sim_conn_failure {
    SIM_FAIL_REFUSED,  /* the host is up but nothing listens on the port */
    SIM_FAIL_DOWN,     /* the host is down: no answer until the timeout */
    SIM_FAIL_BLOCKED,  /* a firewall dropped it: no answer until the timeout */
    SIM_FAIL_NO_ROUTE, /* no host has that address */
    SIM_FAIL_COUNT
};
extern const char *const sim_conn_failure_names[SIM_FAIL_COUNT];

/* How long a client waits for an unanswered connection attempt. RFC 5321
 * 4.5.3.2 sets no connect timeout; 30 s keeps lessons short while still
 * showing that a dead server costs time, unlike a refusal. */
#define SIM_CONNECT_TIMEOUT SIM_SEC(30)

#define SIM_HOST_NAME_MAX 63 /* one DNS label's worth; hosts are named like them */
#define SIM_HOST_IP_MAX   45 /* an IPv6 address in text */
#define SIM_PORT_RULES_MAX 8 /* firewall rules per link */

struct sim_net;
struct sim_host;
struct sim_conn;

/* A service listening on a host's TCP port. Callbacks run inside engine
 * events; they may send, close and start TLS on the connection. */
struct sim_service_ops {
    /* A connection arrived: return the session object, or NULL to close it
     * at once (the listener was full, for instance; it may send a refusal
     * line first, and gets no further callback for this connection). */
    void *(*accept)(void *service, struct sim_conn *c);
    /* Bytes from the client, in order, possibly split anywhere. */
    void (*data)(void *session, struct sim_conn *c, const char *bytes, size_t n);
    /* The TLS handshake both sides agreed to has completed. */
    void (*tls_ready)(void *session, struct sim_conn *c);
    /* The client closed or the link failed: free the session. The
     * connection is gone after this returns. */
    void (*closed)(void *session, struct sim_conn *c);
};

/* The client side of a connection. */
struct sim_client_ops {
    void (*connected)(void *ctx, struct sim_conn *c);
    void (*failed)(void *ctx, enum sim_conn_failure why);
    void (*data)(void *ctx, struct sim_conn *c, const char *bytes, size_t n);
    void (*tls_ready)(void *ctx, struct sim_conn *c);
    void (*closed)(void *ctx, struct sim_conn *c);
};

/* A datagram service (DNS): bytes from a host's port. Reply with
 * sim_net_send_datagram(). */
typedef void (*sim_datagram_fn)(void *ctx, struct sim_host *from, unsigned from_port,
                                const char *bytes, size_t n);

/* A network driven by engine e (borrowed; it must outlive the network). */
struct sim_net *sim_net_new(struct sim_engine *e);
/* Frees hosts, connections and in-flight bytes, without calling callbacks. */
void sim_net_free(struct sim_net *net);

/* Adds a host. name and ip are copied and must be unique; latency is its
 * link's one-way latency, bits_per_second its bandwidth (0: unlimited).
 * Returns the host, or NULL for a duplicate, an overlong name or no memory. */
struct sim_host *sim_net_add_host(struct sim_net *net, const char *name, const char *ip,
                                  enum sim_role role, sim_time latency,
                                  uint64_t bits_per_second);

struct sim_host *sim_net_host(const struct sim_net *net, const char *name);
struct sim_host *sim_net_host_by_ip(const struct sim_net *net, const char *ip);
size_t sim_net_host_count(const struct sim_net *net);
struct sim_host *sim_net_host_at(const struct sim_net *net, size_t i); /* in order added */

const char *sim_host_name(const struct sim_host *h);
const char *sim_host_ip(const struct sim_host *h);
enum sim_role sim_host_role(const struct sim_host *h);
bool sim_host_is_up(const struct sim_host *h);

/* Takes a host down or brings it back (a FAULT in the trace). Going down
 * cuts its connections: both ends' closed callbacks run. */
void sim_host_set_up(struct sim_host *h, bool up);

/* Cuts h's link (connected false: "the cable is pulled") or restores it,
 * without taking the host down: h keeps running (its queue, its timers),
 * but nothing crosses its link. Cutting cuts its open connections (both
 * ends' closed callbacks run, as when a host goes down: bytes in flight are
 * lost). While the link is cut, a connection h opens fails at once (no
 * route to host: its own stack knows), one opened to h goes unanswered
 * until the timeout (host down: the client cannot tell the difference), and
 * datagrams to or from h are lost. A FAULT in the trace: "link cut",
 * "link restored". */
void sim_host_set_link(struct sim_host *h, bool connected);
bool sim_host_link_up(const struct sim_host *h);

/* Firewall on h's link: drop connections from h to port (outbound, "the
 * ISP blocks port 25 from home networks") or to h on port (inbound).
 * Returns 0, or -1 when the link already has SIM_PORT_RULES_MAX rules. */
int sim_host_block_port(struct sim_host *h, unsigned port, bool outbound);
int sim_host_unblock_port(struct sim_host *h, unsigned port, bool outbound);
bool sim_host_port_blocked(const struct sim_host *h, unsigned port, bool outbound);

/* Listens on h's TCP port. proto names what the port speaks (for the trace);
 * implicit_tls makes every connection start with a TLS handshake before any
 * byte (RFC 8314: ports 465, 993, 995). Returns 0, or -1 when the port is
 * taken or memory ran out. */
int sim_host_listen(struct sim_host *h, unsigned port, enum sim_proto proto,
                    bool implicit_tls, const struct sim_service_ops *ops, void *service);
/* Whether something listens on h's port (for the views: open ports). */
bool sim_host_listening(const struct sim_host *h, unsigned port);

/* Binds a datagram handler on h's UDP port. Returns 0 or -1. */
int sim_host_bind_udp(struct sim_host *h, unsigned port, sim_datagram_fn fn, void *ctx);

/* Opens a connection from `from` to address `to_ip` port. The outcome comes
 * later through ops: connected (after the handshake, and after TLS too on an
 * implicit-TLS port), or failed. Records CONNECT or REFUSED in the trace. */
void sim_net_connect(struct sim_net *net, struct sim_host *from, const char *to_ip,
                     unsigned port, const struct sim_client_ops *ops, void *ctx);

/* Sends n bytes from one end of c (dir C2S from the client, S2C from the
 * server). Each line in them (up to and including LF) is recorded in the
 * trace as sent, text without CRLF; note explains the first line (NULL or ""
 * for none; later lines get none). Returns 0, or -1 when the connection is
 * closing or the host is down (the bytes are dropped). */
int sim_conn_send(struct sim_conn *c, enum sim_dir dir, const char *bytes, size_t n,
                  const char *note);

/* Starts the TLS handshake (after STARTTLS's 220, STLS's +OK, or IMAP's OK):
 * bytes sent before it stay cleartext, and after one round trip both ends'
 * tls_ready callbacks run; everything after is recorded as protected. */
void sim_conn_start_tls(struct sim_conn *c);

/* Closes c from one side; the other side's closed callback runs when the
 * close arrives, after any bytes already in flight. The closing side gets no
 * closed callback of its own and receives nothing more: it frees its session
 * itself once it has called this. */
void sim_conn_close(struct sim_conn *c, enum sim_dir from_side);

/* Records an event a client host made about its own connection c (NULL
 * for none): from = host, and when c is given, to = c's server with its
 * port, connection number and TLS state. The clients' one way to trace an
 * action, a state change or an outcome. */
void sim_record_client(struct sim_engine *e, const struct sim_host *host,
                       const struct sim_conn *c, enum sim_trace_kind kind,
                       enum sim_proto proto, const char *text, const char *note);

bool sim_conn_tls(const struct sim_conn *c);
unsigned sim_conn_id(const struct sim_conn *c);
unsigned sim_conn_port(const struct sim_conn *c);
struct sim_host *sim_conn_client(const struct sim_conn *c);
struct sim_host *sim_conn_server(const struct sim_conn *c);

/* Sends one UDP datagram; it is recorded as a DNS event with text (what a
 * student reads: the query or answer in dig's style) and note. Dropped
 * silently, as UDP is, when a host is down, the port is blocked or nothing
 * is bound. */
void sim_net_send_datagram(struct sim_net *net, struct sim_host *from, unsigned from_port,
                           const char *to_ip, unsigned to_port, const char *bytes, size_t n,
                           enum sim_dir dir, const char *text, const char *note);

#endif
