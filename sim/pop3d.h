/* The POP3 server of a simulated mail server host: it listens on a port of
 * the host (110 with STLS, 995 with implicit TLS, RFC 8314) and lets a
 * device download, and usually delete, the mail in an account's INBOX.
 *
 * Every byte is the codecs': one protocols/pop3_server.h machine per
 * connection over sim_store_pop3(). The session feeds the client's bytes to
 * the machine, loops its events, and
 *   - sends each status line with its plain-language note
 *     (pop3_reply_explain(), protocols/explain.h), and the lines of a
 *     multi-line answer (LIST, UIDL, RETR, TOP, CAPA) whole lines at a time
 *     (a body line split between the machine's chunks is held back until it
 *     is complete, so every trace line is a whole protocol line), with the
 *     closing "." sent on its own with its note;
 *   - records each state change as a SIM_TR_STATE event, text "from -> to"
 *     with the machine's state names ("AUTHORIZATION -> TRANSACTION"),
 *     from = this host, port and conn set;
 *   - STLS: starts TLS after the +OK (sim_conn_start_tls); bytes the client
 *     pipelined behind STLS are dropped (RFC 2595 4);
 *   - QUIT: the machine's UPDATE removes the messages marked with DELE
 *     (the store records each as a SIM_TR_MAIL removal, "deleted from the
 *     server by POP3"), then the connection is closed.
 * A connection that drops before QUIT deletes nothing (RFC 1939 6): the
 * session calls pop3_server_closed(), which releases the maildrop lock.
 *
 * The maildrop lock is exclusive per account (RFC 1939 8): a second POP3
 * session for the same account gets "-ERR [IN-USE] ..." (RFC 2449 8.1.1).
 * The APOP timestamp (RFC 1939 7) is "<conn-id.now@host>": the connection
 * number and the simulated time in microseconds, different for every
 * connection and never the wall clock.
 *
 * Concurrent sessions are bounded (SIM_POP3D_SESSIONS_MAX, or the value of
 * sim_pop3d_set_max_sessions); a connection past the bound is answered
 * "-ERR [SYS/TEMP] Too many connections" (RFC 2449 8.1.2: try again later)
 * and closed.
 *
 * Ownership: the server registers a listener on the host that points at
 * it. Free it after the last sim_engine_run() and before sim_store_free()
 * (live sessions release their maildrop locks); it may be freed before or
 * after sim_net_free(), and does not touch the sessions' connections. */
#ifndef MAILSIM_SIM_POP3D_H
#define MAILSIM_SIM_POP3D_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/net.h"
#include "sim/store.h"

#define SIM_POP3D_PORT 110      /* RFC 1939 3, with STLS (RFC 2595 4) */
#define SIM_POP3D_PORT_TLS 995  /* RFC 8314 3.3: POP3 over implicit TLS */

/* Sessions one server holds at once: each is a small fixed-size machine,
 * but a bound keeps a runaway lesson small, and POP3's exclusive lock means
 * one useful session per account anyway. */
#define SIM_POP3D_SESSIONS_MAX 16

struct sim_pop3d;

/* Starts a POP3 server on host's TCP port, serving store. implicit_tls:
 * every connection is TLS from its first byte (port 995). stls_offered:
 * CAPA lists STLS and STLS is accepted until TLS is on (port 110). net,
 * host and store are borrowed and must outlive the server. Returns NULL
 * when the port is taken or memory ran out. */
struct sim_pop3d *sim_pop3d_attach(struct sim_net *net, struct sim_host *host,
                                   struct sim_store *store, unsigned port, bool implicit_tls,
                                   bool stls_offered);

/* Sets the bound on concurrent sessions (1..SIM_POP3D_SESSIONS_MAX; other
 * values are clamped into that range). Sessions already open stay. */
void sim_pop3d_set_max_sessions(struct sim_pop3d *d, size_t max);

/* Sessions open now. */
size_t sim_pop3d_session_count(const struct sim_pop3d *d);

/* Frees the server and its sessions (see Ownership above). NULL is fine. */
void sim_pop3d_free(struct sim_pop3d *d);

#endif
