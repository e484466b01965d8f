/* Real TLS for the live bridge (sim/bridge.h): one OpenSSL server context
 * with a certificate (made at start, self-signed, or loaded from files),
 * and non-blocking sessions on accepted sockets, for implicit TLS (ports
 * 465, 993, 995; RFC 8314 3.3) and for upgrades after STARTTLS (RFC 3207,
 * RFC 3501 6.2.1) and STLS (RFC 2595 4).
 *
 * The simulation only marks TLS in the trace (sim_conn_start_tls); this is
 * where the real handshake and the real records happen. Nothing here reads
 * or writes protocol text. */
#ifndef MAILSIM_SIM_BRIDGE_TLS_H
#define MAILSIM_SIM_BRIDGE_TLS_H

#include <stdbool.h>
#include <stddef.h>

/* Days the made-up certificate is valid: a term, more than any class. */
#define SIM_BRIDGE_TLS_CERT_DAYS 365

struct sim_bridge_tls;         /* the context: certificate and key */
struct sim_bridge_tls_session; /* one connection's TLS */

/* What a non-blocking call needs next. */
enum sim_bridge_tls_io {
    SIM_BRIDGE_TLS_DONE,       /* finished (a handshake), or bytes moved */
    SIM_BRIDGE_TLS_WANT_READ,  /* call again when the socket is readable */
    SIM_BRIDGE_TLS_WANT_WRITE, /* call again when the socket is writable */
    SIM_BRIDGE_TLS_CLOSED,     /* the peer closed (close_notify or EOF) */
    SIM_BRIDGE_TLS_FAILED,     /* a handshake or record error: drop the connection */
    SIM_BRIDGE_TLS_IO_COUNT
};
extern const char *const sim_bridge_tls_io_names[SIM_BRIDGE_TLS_IO_COUNT];

/* A context. With cert_file and key_file (PEM) it loads them; with both
 * NULL it makes a P-256 key and a self-signed certificate for common_name,
 * with every name in alt_names (comma-separated "DNS:name" or "IP:address"
 * entries, as in openssl's subjectAltName; may be NULL) as a subject
 * alternative name. TLS 1.2 is the oldest version offered (RFC 8996 retired
 * older ones). Returns NULL with the reason in err[0..cap). */
struct sim_bridge_tls *sim_bridge_tls_new(const char *cert_file, const char *key_file,
                                          const char *common_name, const char *alt_names,
                                          char *err, size_t cap);
void sim_bridge_tls_free(struct sim_bridge_tls *t);

/* The certificate's SHA-256 fingerprint, "AB:CD:..." (95 characters and a
 * NUL), what a student compares with the warning a mail program shows. */
void sim_bridge_tls_fingerprint(const struct sim_bridge_tls *t, char out[96]);

/* The certificate in PEM (borrowed until sim_bridge_tls_free), for a client
 * that wants to trust it. */
const char *sim_bridge_tls_cert_pem(const struct sim_bridge_tls *t);

/* A server session on the connected, non-blocking socket fd. NULL when
 * memory ran out. */
struct sim_bridge_tls_session *sim_bridge_tls_accept(struct sim_bridge_tls *t, int fd);

/* Drives the handshake: DONE once it completed. */
enum sim_bridge_tls_io sim_bridge_tls_handshake(struct sim_bridge_tls_session *s);

/* Reads up to cap decrypted octets into buf; *n gets the count (DONE with
 * *n > 0). */
enum sim_bridge_tls_io sim_bridge_tls_read(struct sim_bridge_tls_session *s, char *buf,
                                           size_t cap, size_t *n);

/* Writes up to len octets; *n gets how many were taken (DONE). */
enum sim_bridge_tls_io sim_bridge_tls_write(struct sim_bridge_tls_session *s, const char *buf,
                                            size_t len, size_t *n);

/* Decrypted octets already buffered inside the session (poll() cannot see
 * them: read them before waiting). */
size_t sim_bridge_tls_pending(const struct sim_bridge_tls_session *s);

/* The last failure in words, for the server's log ("" when none). */
const char *sim_bridge_tls_error(const struct sim_bridge_tls_session *s);

/* Sends close_notify when it can without blocking, and frees the session
 * (the socket stays open: the caller closes it). NULL is fine. */
void sim_bridge_tls_close(struct sim_bridge_tls_session *s);

#endif
