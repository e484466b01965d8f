/* The live bridge: real sockets into the simulated world.
 *
 * Every simulated server (each mail server's SMTP, submission, IMAP and
 * POP3 listeners, the resolver and the name servers) gets a real socket at
 * its standard port plus an offset, on its own loopback address. A real
 * client that connects is represented in the world by one host, "real-client"
 * (SIM_BRIDGE_HOST): the bridge opens a simulated connection from it to the
 * simulated server, feeds the socket's bytes into it (sim_conn_send, C2S),
 * and writes what the simulated client side receives back to the socket. So
 * the same server machines answer, the same codecs make every byte, and the
 * trace records the real conversation like any other: the views are
 * unchanged.
 *
 * TLS is real on the socket (sim/bridge_tls.h) and marked in the world:
 * implicit TLS on 465, 993 and 995; after STARTTLS/STLS the server machine
 * calls sim_conn_start_tls, and when the simulated handshake completes on
 * the client side the bridge runs the real handshake on the socket. The
 * client waits for the 220/OK/+OK before its ClientHello, so the bridge
 * stops reading the socket from the moment TLS is marked until then.
 *
 * DNS: queries arriving on a UDP socket or a TCP connection (RFC 1035
 * 4.2.2 length framing, RFC 7766) go to the simulated server as datagrams
 * from the real-client host; each answer goes back to whoever asked.
 *
 * Time: the engine runs in step with a monotonic clock. Each step runs the
 * events that are due, sets engine->now to the wall time elapsed, and
 * waits in poll() no longer than until the next event. This file is the
 * only place in sim/ that reads a clock.
 *
 * Limits on real connections (the protocols' own limits are the codecs'):
 *   - SIM_BRIDGE_CONNS_MAX connections at once; one more is answered with
 *     the protocol's "busy" reply, made by its codec (SMTP 421 4.3.2, IMAP
 *     "* BYE", POP3 "-ERR [SYS/TEMP]") and closed; on implicit-TLS ports it
 *     is closed at once (no handshake just to say no);
 *   - idle timeouts: SMTP 5 minutes (RFC 5321 4.5.3.2.7), IMAP 30 minutes
 *     (RFC 3501 5.4), POP3 10 minutes (RFC 1939 3), DNS over TCP 10 s; on
 *     expiry SMTP gets 421 4.4.2 and IMAP "* BYE" (POP3 is closed without a
 *     reply, RFC 1939 3), and the simulated server sees the client go;
 *   - replies waiting for a slow reader: past SIM_BRIDGE_OUT_PAUSE the
 *     bridge stops reading that client, past SIM_BRIDGE_OUT_MAX it cuts it.
 * A client that disconnects mid-DATA or mid-literal closes only its own
 * simulated connection: the server machine drops the unfinished message.
 *
 * Ownership: the bridge adds a host and UDP binds to the world's network,
 * and client callbacks that point at it. Free it before the world, and do
 * not run the engine after freeing it (close it first to let the world go
 * on alone). A bridge that failed to start leaves its host in the world:
 * build a fresh world to try again. */
#ifndef MAILSIM_SIM_BRIDGE_H
#define MAILSIM_SIM_BRIDGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"
#include "sim/world.h"

#define SIM_BRIDGE_HOST "real-client"      /* the world's name for real clients */
#define SIM_BRIDGE_DEFAULT_OFFSET 10000    /* SMTP on 10025, IMAPS on 10993, ... */
#define SIM_BRIDGE_CONNS_MAX 256           /* real connections at once */
#define SIM_BRIDGE_ENDPOINTS_MAX 128       /* sockets listened on: 8 services x hosts */
#define SIM_BRIDGE_BIND_MAX 16             /* --bind addresses */
#define SIM_BRIDGE_ADDR_MAX 46             /* an IPv6 address in text, NUL included */
#define SIM_BRIDGE_OUT_PAUSE (1u << 20)    /* octets queued for a client: stop reading it */
#define SIM_BRIDGE_OUT_MAX (16u << 20)     /* octets queued for a client: cut it */
#define SIM_BRIDGE_HOLD_MAX 65536          /* octets of an unfinished line held back */
#define SIM_BRIDGE_DNS_SLOTS 64            /* DNS queries in flight from real clients */
#define SIM_BRIDGE_DNS_PORT_BASE 40000     /* the real-client host's UDP ports for them */
#define SIM_BRIDGE_DNS_WAIT_MS 10000       /* a query with no answer is forgotten then */
#define SIM_BRIDGE_EOF_LINGER_MS 3000      /* after a client's end of stream, the longest
                                              wait for the server to answer and close: a
                                              half-close cannot be told from a close */

/* The services a simulated server offers, in the order of
 * sim_bridge_service_names ("smtp", "submission", "submissions", "imap",
 * "imaps", "pop3", "pop3s", "dns") and sim_bridge_service_ports (25, 587,
 * 465, 143, 993, 110, 995, 53). */
enum sim_bridge_service {
    SIM_BRIDGE_SMTP,
    SIM_BRIDGE_SUBMISSION,
    SIM_BRIDGE_SUBMISSIONS,
    SIM_BRIDGE_IMAP,
    SIM_BRIDGE_IMAPS,
    SIM_BRIDGE_POP3,
    SIM_BRIDGE_POP3S,
    SIM_BRIDGE_DNS, /* UDP and TCP on the same port */
    SIM_BRIDGE_SERVICE_COUNT
};
extern const char *const sim_bridge_service_names[SIM_BRIDGE_SERVICE_COUNT];
extern const unsigned sim_bridge_service_ports[SIM_BRIDGE_SERVICE_COUNT];

struct sim_bridge_config {
    unsigned port_offset;  /* added to every standard port (0..65535-995) */
    /* Addresses for the server hosts, in the order the lesson lists them;
     * hosts past nbind get 127.0.0.N (N = their rank, from 1). */
    const char *bind[SIM_BRIDGE_BIND_MAX];
    size_t nbind;
    const char *cert_file, *key_file; /* both NULL: a self-signed certificate */
    size_t max_conns;      /* 0: SIM_BRIDGE_CONNS_MAX (and never more) */
    unsigned idle_ms;      /* 0: each protocol's own idle timeout; tests shorten it */
    bool quiet;            /* no log lines on stderr (tests) */
};

/* One socket the bridge listens on. */
struct sim_bridge_endpoint {
    const char *host;                   /* the simulated server's name */
    enum sim_bridge_service service;
    char address[SIM_BRIDGE_ADDR_MAX];  /* where it listens */
    unsigned port;                      /* standard port + offset */
};

/* Counters, for tests and `make bench`. */
struct sim_bridge_stats {
    uint64_t accepted;      /* connections taken */
    uint64_t refused_busy;  /* connections answered "busy" */
    uint64_t timed_out;     /* connections closed for idling */
    uint64_t bytes_in;      /* from real clients (decrypted) */
    uint64_t bytes_out;     /* to real clients (before encryption) */
    uint64_t dns_queries;   /* queries passed to the simulated DNS */
    uint64_t dns_answers;   /* answers sent back */
    uint64_t tls_failed;    /* handshakes that failed */
    size_t   open;          /* connections open now */
};

struct sim_bridge;

/* Builds the bridge on world w, made from scenario s (borrowed: both must
 * outlive the bridge): the real-client host, the certificate, and a
 * listening socket per service per server. Returns NULL with the reason in
 * err[0..cap) ("cannot listen on 127.0.0.1:10025: Address already in use"). */
struct sim_bridge *sim_bridge_new(struct sim_world *w, const struct sim_scenario *s,
                                  const struct sim_bridge_config *cfg, char *err, size_t cap);

/* Closes every socket: real clients see their connections close,
 * simulated servers see their clients go. The world may run on alone
 * afterwards (to deliver what is queued); sim_bridge_step() then returns
 * -1. NULL is fine. */
void sim_bridge_close(struct sim_bridge *b);

/* Closes (if not done) and frees the bridge. The engine must not run
 * again afterwards: the world's real-client host keeps DNS ports whose
 * handler pointed at the bridge. NULL is fine. */
void sim_bridge_free(struct sim_bridge *b);

size_t sim_bridge_endpoint_count(const struct sim_bridge *b);
/* The i-th endpoint, hosts in the lesson's order and services in enum
 * order (borrowed until sim_bridge_free), or NULL past the end. */
const struct sim_bridge_endpoint *sim_bridge_endpoint(const struct sim_bridge *b, size_t i);

/* The certificate's SHA-256 fingerprint and PEM (borrowed). */
const char *sim_bridge_fingerprint(const struct sim_bridge *b);
const char *sim_bridge_cert_pem(const struct sim_bridge *b);

/* One step: runs the events that are due, moves bytes on every socket that
 * is ready, and waits at most max_wait_ms (0: do not wait) for something
 * to happen. Returns 0, or -1 when the engine failed (its queue or trace
 * ran out of room). */
int sim_bridge_step(struct sim_bridge *b, int max_wait_ms);

/* Steps until *stop becomes non-zero (a signal handler sets it) or the
 * engine fails. Returns 0 or -1 as sim_bridge_step. */
int sim_bridge_run(struct sim_bridge *b, volatile sig_atomic_t *stop);

void sim_bridge_stats(const struct sim_bridge *b, struct sim_bridge_stats *out);

#endif
