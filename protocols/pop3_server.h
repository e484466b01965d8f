/* The POP3 server session machine (RFC 1939; CAPA and response codes
 * RFC 2449; STLS RFC 2595; [AUTH] RFC 3206), sans-I/O.
 *
 * One struct pop3_server per connection. Feed it the client's bytes with
 * pop3_server_feed(), then loop pop3_server_next() until POP3_NEED_MORE:
 * each event is either something to trace (a command received, a state
 * change, a message deleted) or bytes to send (REPLY and DATA events carry
 * ev.out). The mail itself lives behind struct pop3_maildrop, a set of
 * callbacks the caller provides; the machine never touches storage.
 *
 * POP3 teaches the contrast with IMAP: mail is downloaded to one device
 * and, by default, deleted from the server. Deletions are only marked in
 * TRANSACTION and carried out in UPDATE after QUIT (RFC 1939 6). */
#ifndef MAILSIM_PROTOCOLS_POP3_SERVER_H
#define MAILSIM_PROTOCOLS_POP3_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "protocols/pop3.h"

/* The most messages one maildrop may hold for a session: the deletion marks
 * are a fixed bitmap. A simulator's choice (RFC 1939 sets no limit); a
 * bigger maildrop is refused with -ERR [SYS/PERM]. */
#define POP3_SERVER_MAX_MESSAGES 4096
/* Multi-line bodies (RETR, TOP, LIST, UIDL, CAPA) are sent as DATA events
 * of at most this many octets each, so memory stays bounded whatever the
 * message size. */
#define POP3_SERVER_CHUNK 4096

/* RFC 1939 3: the session states, plus CLOSED once the connection is done. */
enum pop3_server_state {
    POP3_SERVER_AUTHORIZATION,
    POP3_SERVER_TRANSACTION,
    POP3_SERVER_UPDATE,
    POP3_SERVER_CLOSED,
    POP3_SERVER_STATE_COUNT
};

/* "AUTHORIZATION", "TRANSACTION", "UPDATE", "CLOSED"; NULL out of range. */
const char *pop3_server_state_name(enum pop3_server_state st);

/* The mail store seen by one session. Message numbers are 1-based and must
 * stay stable while the maildrop is locked. Every callback gets ctx first
 * and the user name (NUL-terminated) the session logged in as. */
struct pop3_maildrop {
    void *ctx;
    /* USER/PASS check (RFC 1939 7). true when the password is right. */
    bool (*check_pass)(void *ctx, const char *user, const char *pass);
    /* The APOP shared secret of user (RFC 1939 7), or NULL when the user
     * has none or does not exist. Borrowed until the next callback. */
    const char *(*apop_secret)(void *ctx, const char *user);
    /* Takes the exclusive lock on user's maildrop (RFC 1939 8). false when
     * another session holds it. */
    bool (*lock)(void *ctx, const char *user);
    /* Releases the lock taken by lock(). */
    void (*unlock)(void *ctx, const char *user);
    /* Messages in the locked maildrop. */
    size_t (*count)(void *ctx, const char *user);
    /* Exact size in octets of message msg as sent (CRLF line ends, before
     * dot-stuffing), for STAT and LIST (RFC 1939 5). */
    size_t (*size)(void *ctx, const char *user, size_t msg);
    /* Unique-id of message msg, NUL-terminated (RFC 1939 7: 1-70 octets in
     * 0x21..0x7E, the same in every session). Borrowed until the next
     * callback. */
    const char *(*uid)(void *ctx, const char *user, size_t msg);
    /* The bytes of message msg (*len set). They must stay valid and
     * unchanged while this session holds the lock. */
    const char *(*read)(void *ctx, const char *user, size_t msg, size_t *len);
    /* Removes message msg. Only called in UPDATE, and in descending
     * message order, so a store that renumbers after a removal still
     * removes the right ones. true on success. */
    bool (*remove)(void *ctx, const char *user, size_t msg);
};

struct pop3_server_config {
    const char   *host;  /* in the APOP timestamp and the sign-off text */
    unsigned long pid;   /* caller-given values for the greeting's APOP */
    unsigned long clock; /* timestamp "<pid.clock@host>" (RFC 1939 7); it
                            must differ for every connection, or a
                            captured APOP digest can be replayed */
    bool          stls;  /* offer STLS (RFC 2595 4) */
    bool          tls_active; /* the connection is TLS already (POP3S) */
    const char   *implementation; /* CAPA IMPLEMENTATION text; NULL: "mailsim" */
};

enum pop3_server_event {
    POP3_SRV_COMMAND = 1, /* ev.verb, ev.line: a line received. ev.verb is
                             POP3_VERB_COUNT for an unknown, empty or
                             overlong line (overlong: ev.line_len 0) */
    POP3_SRV_REPLY,       /* ev.out: a status line (with CRLF) to send */
    POP3_SRV_DATA,        /* ev.out: part of a multi-line body to send */
    POP3_SRV_STATE,       /* ev.from -> ev.to */
    POP3_SRV_DELETED,     /* ev.msg was removed from the maildrop (UPDATE) */
    POP3_SRV_STARTTLS,    /* after +OK to STLS: start TLS now. Bytes the
                             client pipelined after STLS were discarded;
                             drop any of that read not fed yet too */
};

struct pop3_server_ev {
    enum pop3_verb          verb;
    const char             *line;     /* the command line without CRLF */
    size_t                  line_len;
    const char             *out;      /* bytes to send */
    size_t                  out_len;
    enum pop3_server_state  from, to;
    size_t                  msg;
};

struct pop3_server;

/* Allocates a session (fixed size) and queues the greeting "+OK POP3
 * server ready <pid.clock@host>" as the first event. cfg->host must be
 * non-NULL; cfg and md are copied, their strings must outlive the session.
 * Returns NULL only when malloc fails. */
struct pop3_server *pop3_server_new(const struct pop3_server_config *cfg,
                                    const struct pop3_maildrop *md);

/* Frees the session; a maildrop still locked is unlocked without deleting
 * anything (as for a dropped connection, RFC 1939 6). NULL is allowed. */
void pop3_server_free(struct pop3_server *s);

/* Copies as much of the client's in[0..n) as fits and returns the count
 * taken; 0 means call pop3_server_next() first. Once CLOSED it takes and
 * ignores everything. */
size_t pop3_server_feed(struct pop3_server *s, const char *in, size_t n);

/* Returns an enum pop3_server_event with *ev filled (pointers borrowed
 * until the next call on s), or POP3_NEED_MORE. Never an error: a client's
 * bad input becomes a -ERR reply, and the session carries on. */
int pop3_server_next(struct pop3_server *s, struct pop3_server_ev *ev);

/* The connection closed without QUIT: nothing is deleted (RFC 1939 6), the
 * lock is released, and the state goes to CLOSED (a STATE event follows).
 * If QUIT's UPDATE is already under way it completes. */
void pop3_server_closed(struct pop3_server *s);

/* The current state. Never fails. */
enum pop3_server_state pop3_server_state(const struct pop3_server *s);

#endif
