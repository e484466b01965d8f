/* The IMAP server of a simulated mail server host: it listens on a port of
 * the host (143 with STARTTLS, 993 with implicit TLS, RFC 8314) and serves
 * the host's mail store (sim/store.h) to the devices that connect.
 *
 * Every byte is the codecs': one protocols/imap_server.h machine per
 * connection over sim_store_imap(). The session feeds the client's bytes to
 * the machine, loops its events, and
 *   - sends each response (one whole response per sim_conn_send, literals
 *     included) with its plain-language note (imap_response_explain(),
 *     protocols/explain.h);
 *   - records each state change as a SIM_TR_STATE event, text "from -> to"
 *     with the machine's state names ("not-authenticated -> authenticated"),
 *     from = this host, port and conn set;
 *   - STARTTLS: starts TLS after the OK (sim_conn_start_tls) and tells the
 *     machine in tls_ready; bytes the client pipelined behind STARTTLS are
 *     dropped (RFC 3501 6.2.1);
 *   - LOGOUT: closes the connection after the BYE and the tagged OK.
 * The store changes themselves (\Seen set, EXPUNGE, APPEND, COPY) are
 * recorded by the store as SIM_TR_MAIL events.
 *
 * IDLE (RFC 2177): the server watches the store (sim_store_watch); when a
 * folder changes, every session idling on it is polled at once, so the
 * client gets "* n EXISTS", "* n EXPUNGE" or "* n FETCH (FLAGS ...)" at the
 * same simulated time as the change. Sessions not idling learn of the
 * change at the end of their next command (RFC 3501 7.4.1, 5.2).
 *
 * Concurrent sessions are bounded (SIM_IMAPD_SESSIONS_MAX, or the value of
 * sim_imapd_set_max_sessions); a connection past the bound is answered
 * "* BYE Too many connections" (RFC 3501 7.1.5) and closed.
 *
 * Ownership: the server registers a listener on the host and a watch on the
 * store that point at it. Free it after the last sim_engine_run() and
 * before sim_store_free() (it removes its watch from the store); it may be
 * freed before or after sim_net_free(), and frees its live sessions without
 * touching their connections. */
#ifndef MAILSIM_SIM_IMAPD_H
#define MAILSIM_SIM_IMAPD_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/net.h"
#include "sim/store.h"

#define SIM_IMAPD_PORT 143      /* RFC 3501 2.1, with STARTTLS (6.2.1) */
#define SIM_IMAPD_PORT_TLS 993  /* RFC 8314 3.3: IMAP over implicit TLS */

/* Sessions one server holds at once. Each costs an imap_server machine
 * (about 1 MiB with its scratch, MIME tree and message table), so a bound
 * keeps a runaway lesson small (Dovecot's default per-user limit is 10);
 * 128 leaves room for the live bridge's load test, 100 real sessions at
 * once (make bench-bridge). A lesson's devices open one or two. */
#define SIM_IMAPD_SESSIONS_MAX 128

struct sim_imapd;

/* Starts an IMAP server on host's TCP port, serving store. implicit_tls:
 * every connection is TLS from its first byte (port 993).
 * starttls_offered: CAPABILITY lists STARTTLS until TLS is on (port 143).
 * net, host and store are borrowed and must outlive the server. Returns
 * NULL when the port is taken or memory ran out. */
struct sim_imapd *sim_imapd_attach(struct sim_net *net, struct sim_host *host,
                                   struct sim_store *store, unsigned port, bool implicit_tls,
                                   bool starttls_offered);

/* Refuses LOGIN and AUTHENTICATE until TLS is on (LOGINDISABLED, RFC 3501
 * 6.2.3; RFC 8314 recommends it). Off by default. Applies to connections
 * accepted afterwards. */
void sim_imapd_set_login_needs_tls(struct sim_imapd *d, bool on);

/* Offers CONDSTORE (RFC 7162): clients that use it fetch only the flags
 * that changed since their last sync. Off by default, so the lessons show
 * plain IMAP4rev1. Applies to connections accepted afterwards. */
void sim_imapd_set_condstore(struct sim_imapd *d, bool on);

/* Sets the bound on concurrent sessions (1..SIM_IMAPD_SESSIONS_MAX; other
 * values are clamped into that range). Sessions already open stay. */
void sim_imapd_set_max_sessions(struct sim_imapd *d, size_t max);

/* Sessions open now. */
size_t sim_imapd_session_count(const struct sim_imapd *d);

/* Frees the server and its sessions (see Ownership above). NULL is fine. */
void sim_imapd_free(struct sim_imapd *d);

#endif
