/* The SMTP server session machine (RFC 5321 sections 3 and 4), with the
 * extensions a classroom MTA shows: EHLO (RFC 5321 4.1.1.1), PIPELINING
 * (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), ENHANCEDSTATUSCODES
 * (RFC 2034, codes from RFC 3463), STARTTLS (RFC 3207) and AUTH PLAIN/LOGIN
 * (RFC 4954, RFC 4616).
 *
 * Sans-I/O. The caller feeds received bytes with smtp_server_feed(), then
 * loops smtp_server_next() for events until SMTP_SERVER_NEED_MORE, and sends
 * what smtp_server_output() shows, telling the machine with
 * smtp_server_consumed(). The greeting (220) is queued by smtp_server_new().
 *
 * Every command received, every reply queued and every state change is an
 * event, so a trace can narrate the session. Decisions that belong to the
 * mail system (which sender, which recipients, which credentials, whether the
 * message was stored) are events the caller answers with smtp_server_accept(),
 * smtp_server_reject() or smtp_server_queued(); until it does, the machine
 * reads no further command (RFC 2920 3: replies go out in command order).
 *
 * Memory is bounded: one input line of SMTP_SERVER_LINE_MAX, an output queue
 * of SMTP_SERVER_OUT_MAX, a message counted up to the configured maximum and
 * handed to the caller line by line, never held whole. */
#ifndef MAILSIM_PROTOCOLS_SMTP_SERVER_H
#define MAILSIM_PROTOCOLS_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

/* The input line store. A command line is at most 512 octets (RFC 5321
 * 4.5.3.1.4; longer ones get 500 5.5.6), but a SASL response line is not
 * bound by it (RFC 4954 4): a PLAIN response is up to SASL_PLAIN_ENCODED_MAX
 * (1024) base64 characters plus CRLF. DATA lines go to the wire codec's own
 * reader (1000 octets, RFC 5321 4.5.3.1.6). */
#define SMTP_SERVER_LINE_MAX 1026

/* The queue of replies not yet sent. The longest single reply is the EHLO
 * list (about a dozen lines of at most 512 octets, RFC 5321 4.5.3.1.5);
 * with pipelined commands the machine stops reading input while less than
 * SMTP_SERVER_REPLY_MAX is free, until the caller drains the queue. */
#define SMTP_SERVER_OUT_MAX   8192
#define SMTP_SERVER_REPLY_MAX 2048

/* RFC 5321 4.5.3.1.8: a server must accept at least 100 recipients. */
#define SMTP_SERVER_MIN_RCPTS 100
/* The default message size limit when the config gives none (10 MiB, a
 * common MTA default; RFC 1870 lets a server state any fixed maximum). */
#define SMTP_SERVER_DEFAULT_MAX_SIZE (10ul * 1024ul * 1024ul)
/* AUTH credentials, decoded: RFC 4616 2 allows 255 octets each. */
#define SMTP_SERVER_AUTH_FIELD_MAX 255

struct smtp_server;

/* The states, in the order of smtp_server_state_names[]. */
enum smtp_server_state {
    SMTP_SERVER_CONNECTED = 0, /* greeting sent, no EHLO/HELO yet */
    SMTP_SERVER_READY,         /* after EHLO/HELO: no mail transaction */
    SMTP_SERVER_MAIL,          /* MAIL accepted: a transaction is open */
    SMTP_SERVER_RCPT,          /* at least one RCPT accepted */
    SMTP_SERVER_DATA,          /* after 354: reading the message text */
    SMTP_SERVER_AUTH,          /* AUTH exchange: reading a SASL response */
    SMTP_SERVER_TLS,           /* after 220 to STARTTLS: waiting for the handshake */
    SMTP_SERVER_CLOSED,        /* after 221 (or 421): nothing more is read */
    SMTP_SERVER_STATE_COUNT
};

/* "connected", "ready", ... one name per state, for traces. */
extern const char *const smtp_server_state_names[SMTP_SERVER_STATE_COUNT];

/* The decision the machine waits for, if any (see smtp_server_pending()). */
enum smtp_server_decision {
    SMTP_SERVER_DECIDE_NONE = 0,
    SMTP_SERVER_DECIDE_MAIL,  /* MAIL FROM: accept 250 2.1.0 or reject */
    SMTP_SERVER_DECIDE_RCPT,  /* RCPT TO: accept 250 2.1.5 or reject */
    SMTP_SERVER_DECIDE_VRFY,  /* VRFY (when config.ask_vrfy): answer it */
    SMTP_SERVER_DECIDE_AUTH,  /* credentials: accept 235 2.7.0 or reject */
    SMTP_SERVER_DECIDE_DATA,  /* end of message: queued (250) or reject */
    SMTP_SERVER_DECIDE_COUNT
};

extern const char *const smtp_server_decision_names[SMTP_SERVER_DECIDE_COUNT];

enum smtp_server_event_type {
    SMTP_SERVER_EV_STATE = 0,  /* from -> to */
    SMTP_SERVER_EV_COMMAND,    /* a command line received: verb, line */
    SMTP_SERVER_EV_REPLY,      /* a reply queued: code, enhanced, reply */
    SMTP_SERVER_EV_MAIL,       /* decide: MAIL FROM path, size, body_8bit */
    SMTP_SERVER_EV_RCPT,       /* decide: RCPT TO path */
    SMTP_SERVER_EV_VRFY,       /* decide: VRFY argument in path */
    SMTP_SERVER_EV_AUTH,       /* decide: mechanism, authzid, user, password */
    SMTP_SERVER_EV_DATA,       /* a message line, unstuffed, with its CRLF (an
                                  overlong line comes in several pieces) */
    SMTP_SERVER_EV_DATA_END,   /* decide: the whole message has arrived (size) */
    SMTP_SERVER_EV_DATA_ABORT, /* the message was refused (size); forget its lines */
    SMTP_SERVER_EV_STARTTLS,   /* switch the link to TLS, then smtp_server_tls_started() */
    SMTP_SERVER_EV_DISCARDED,  /* bytes received before the TLS handshake, dropped */
    SMTP_SERVER_EV_CLOSE,      /* close the connection once the output is sent */
    SMTP_SERVER_EV_COUNT
};

extern const char *const smtp_server_event_names[SMTP_SERVER_EV_COUNT];

/* One event. Pointers are borrowed until the next call on the machine. */
struct smtp_server_event {
    enum smtp_server_event_type type;
    enum smtp_server_state from, to; /* STATE */
    const char *verb;         /* COMMAND: upper-case verb; "" when unrecognised,
                                 too long, or a SASL response line in AUTH */
    const char *line;         /* COMMAND: the line without CRLF; DATA: the text */
    size_t line_len;          /* length of line */
    int code;                 /* REPLY: 220, 250, 550 ... */
    const char *enhanced;     /* REPLY: "2.1.0" (RFC 3463), "" when none */
    const char *reply;        /* REPLY: the exact bytes queued, CRLFs included */
    size_t reply_len;
    const char *path;         /* MAIL/RCPT: the address inside <>; VRFY: argument */
    unsigned long size;       /* MAIL: SIZE= value or 0; DATA_END/ABORT: octets */
    bool body_8bit;           /* MAIL: BODY=8BITMIME given */
    const char *mechanism;    /* AUTH: "PLAIN" or "LOGIN" */
    const char *authzid;      /* AUTH: authorization identity ("" when none) */
    const char *user;         /* AUTH: authentication identity */
    const char *password;     /* AUTH: the password, decoded */
    size_t discarded;         /* DISCARDED: how many bytes were dropped */
};

struct smtp_server_config {
    const char *hostname;      /* our name, in the greeting and EHLO reply */
    unsigned long max_size;    /* SIZE limit in octets; 0: SMTP_SERVER_DEFAULT_MAX_SIZE */
    size_t max_rcpts;          /* recipients per message; below 100 means 100 */
    bool no_pipelining;        /* do not advertise PIPELINING (RFC 2920) */
    bool no_8bitmime;          /* do not advertise 8BITMIME (RFC 6152) */
    bool no_enhanced;          /* no ENHANCEDSTATUSCODES (RFC 2034): plain replies */
    bool starttls;             /* offer STARTTLS (RFC 3207) while not in TLS */
    bool auth;                 /* offer AUTH PLAIN LOGIN (RFC 4954) */
    bool auth_requires_tls;    /* AUTH only after STARTTLS (RFC 4954 4, 14) */
    bool submission;           /* port 587: AUTH required before MAIL (RFC 6409 4.1) */
    bool require_tls;          /* MAIL/AUTH only after STARTTLS (RFC 3207 4) */
    bool ask_vrfy;             /* VRFY is a decision; otherwise 252 2.5.0 */
    bool tls_active;           /* the link starts in TLS (port 465, RFC 8314) */
};

/* The values smtp_server_next() and the decision calls return. */
enum smtp_server_status {
    SMTP_SERVER_ERR_INVALID = -4,     /* a reply that could not be sent: code outside
                                         400..599, enhanced code of another class,
                                         CR/LF in the text (smtp_format_reply rules) */
    SMTP_SERVER_ERR_NOT_PENDING = -3, /* decision call with no such decision pending */
    SMTP_SERVER_ERR_OUTPUT_FULL = -2, /* a reply did not fit (caller answered a decision
                                         without draining); sticky until reset */
    SMTP_SERVER_ERR_CLOSED = -1,      /* the session is over: nothing more is read */
    SMTP_SERVER_NEED_MORE = 0,        /* no event: feed bytes, drain output or decide */
    SMTP_SERVER_EVENT = 1,            /* *ev holds one event */
};

/* Creates a server and queues the 220 greeting (RFC 5321 4.2, 3.1). cfg is
 * copied; hostname is copied (at most 255 octets, RFC 5321 4.5.3.1.2).
 * Returns NULL when memory runs out. */
struct smtp_server *smtp_server_new(const struct smtp_server_config *cfg);

/* A new connection on the same machine: forgets the session (state, TLS,
 * AUTH, held bytes, queued output, a sticky error, a pending decision) and
 * queues the greeting again. The config stays. */
void smtp_server_reset(struct smtp_server *s);

/* Frees the server; NULL is allowed. */
void smtp_server_free(struct smtp_server *s);

/* Takes up to n received bytes and returns how many it took (fewer when its
 * line store is full: call smtp_server_next() and feed the rest after).
 * While waiting for a TLS handshake, and after the session closed, bytes are
 * taken and dropped (RFC 3207 4.2, CVE-2011-0411); a DISCARDED event says so. */
size_t smtp_server_feed(struct smtp_server *s, const char *in, size_t n);

/* Runs the machine. Returns SMTP_SERVER_EVENT with *ev filled (its pointers
 * borrowed until the next call on s); SMTP_SERVER_NEED_MORE when it needs
 * more input, the caller's answer to a pending decision, or room in the
 * output queue; SMTP_SERVER_ERR_CLOSED after the session ended; or the sticky
 * SMTP_SERVER_ERR_OUTPUT_FULL. A peer's bad command is never an error here:
 * it becomes a COMMAND event and a REPLY event (500/501/503...). */
int smtp_server_next(struct smtp_server *s, struct smtp_server_event *ev);

/* The bytes queued to send: *out points at them (borrowed until the next
 * call on s); returns their count (0 when nothing is queued). */
size_t smtp_server_output(struct smtp_server *s, const char **out);

/* Marks n queued bytes as sent (n at most what smtp_server_output showed). */
void smtp_server_consumed(struct smtp_server *s, size_t n);

/* The decision the machine waits for (SMTP_SERVER_DECIDE_NONE when none). */
enum smtp_server_decision smtp_server_pending(const struct smtp_server *s);

/* Answers the pending MAIL, RCPT or AUTH decision with its success reply
 * (250 2.1.0, 250 2.1.5, 235 2.7.0). For VRFY, text is the reply text
 * (250 "Mark Crispin <Admin.MRC@foo.com>"); otherwise text may be NULL for
 * the default. Returns SMTP_SERVER_NEED_MORE (0) on success, then call
 * smtp_server_next() for the REPLY event; SMTP_SERVER_ERR_NOT_PENDING for
 * DATA (use smtp_server_queued()) or when nothing is pending. */
int smtp_server_accept(struct smtp_server *s, const char *text);

/* Refuses the pending decision with code (4xx or 5xx), enhanced ("5.1.1",
 * or NULL) and text, e.g. 550 5.1.1 "User unknown", 451 4.7.1 greylisting,
 * 535 5.7.8 for bad credentials, 452 4.2.2 mailbox full. For DATA the
 * message is not taken: the caller drops what it stored. Returns 0 on
 * success, SMTP_SERVER_ERR_NOT_PENDING when nothing is pending, or
 * SMTP_SERVER_ERR_INVALID (nothing sent, still pending) for a code outside
 * 400..599, an enhanced code of another class, or CR/LF in text. */
int smtp_server_reject(struct smtp_server *s, int code, const char *enhanced,
                       const char *text);

/* Answers end of DATA once the caller has stored the message: queues
 * "250 2.0.0 Ok: queued as ID". Only now may the client forget the message
 * (RFC 5321 4.1.1.4, 6.1: a 250 here takes responsibility for it). Returns 0,
 * SMTP_SERVER_ERR_NOT_PENDING when no message waits, SMTP_SERVER_ERR_INVALID
 * for an id that is empty, over 64 octets or not printable ASCII. */
int smtp_server_queued(struct smtp_server *s, const char *queue_id);

/* After the STARTTLS event: the link now runs TLS. The machine forgets
 * everything learned before (RFC 3207 4.2) and waits for a new EHLO.
 * Returns 0, or SMTP_SERVER_ERR_NOT_PENDING when not waiting for TLS. */
int smtp_server_tls_started(struct smtp_server *s);

enum smtp_server_state smtp_server_state(const struct smtp_server *s);

/* Whether the client authenticated, and whether the link runs TLS. */
bool smtp_server_authenticated(const struct smtp_server *s);
bool smtp_server_tls(const struct smtp_server *s);

/* A static name for a status value of this header. */
const char *smtp_server_strerror(int status);

#endif
