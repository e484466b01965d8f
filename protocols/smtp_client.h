/* The SMTP client session machine (RFC 5321 sections 3 and 4): it delivers
 * one message to one server, using EHLO (falling back to HELO, RFC 5321
 * 3.2), STARTTLS (RFC 3207), AUTH PLAIN/LOGIN (RFC 4954), SIZE (RFC 1870),
 * 8BITMIME (RFC 6152) and PIPELINING (RFC 2920) when the server offers them.
 *
 * Sans-I/O, the same pattern as smtp_server.h: the caller feeds the server's
 * bytes with smtp_client_feed(), loops smtp_client_next() for events until
 * SMTP_CLIENT_NEED_MORE, and sends what smtp_client_output() shows, telling
 * the machine with smtp_client_consumed().
 *
 * The machine sends on entering a state and chooses the next state on a
 * reply. Every command sent, every reply read and every state change is an
 * event; at the end it reports each recipient's outcome and the overall
 * result (delivered to k of n, or the failing reply, temporary 4xx or
 * permanent 5xx).
 *
 * Memory is bounded: the codec's reply reader (smtp.h limits), an output
 * queue of SMTP_CLIENT_OUT_MAX, at most SMTP_CLIENT_MAX_RCPTS recipients. The
 * message text is not copied: it is borrowed from the caller until the
 * session is DONE, and streamed dot-stuffed through the output queue. */
#ifndef MAILSIM_PROTOCOLS_SMTP_CLIENT_H
#define MAILSIM_PROTOCOLS_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* The output queue. Commands are queued one per step of smtp_client_next()
 * (a pipelined batch too: MAIL, each RCPT, DATA, RFC 2920 3.1), so the queue
 * needs room for one line: a command (512, RFC 5321 4.5.3.1.4) or a SASL
 * PLAIN response sent after 334 (1024 base64 characters and CRLF, RFC 4954
 * 4 lifts the line limit for it). The message is streamed through the rest. */
#define SMTP_CLIENT_OUT_MAX 4096
/* Recipients per message: RFC 5321 4.5.3.1.8 makes servers take 100. */
#define SMTP_CLIENT_MAX_RCPTS 100
/* The reply text kept for each recipient and for the result (one reply
 * line is at most 512 octets, RFC 5321 4.5.3.1.5). */
#define SMTP_CLIENT_TEXT_MAX 512

struct smtp_client;

/* The states, in the order of smtp_client_state_names[]. */
enum smtp_client_state {
    SMTP_CLIENT_GREETING = 0, /* connected: waiting for 220 */
    SMTP_CLIENT_EHLO,         /* EHLO sent */
    SMTP_CLIENT_HELO,         /* HELO sent (EHLO got 500/502) */
    SMTP_CLIENT_STARTTLS,     /* STARTTLS sent */
    SMTP_CLIENT_TLS,          /* 220 to STARTTLS: waiting for the caller's handshake */
    SMTP_CLIENT_AUTH,         /* AUTH PLAIN with its response, or AUTH LOGIN, sent */
    SMTP_CLIENT_AUTH_USER,    /* AUTH LOGIN: user name sent */
    SMTP_CLIENT_AUTH_PASS,    /* AUTH LOGIN: password sent */
    SMTP_CLIENT_VRFY,         /* VRFY sent */
    SMTP_CLIENT_MAIL,         /* MAIL FROM sent (with PIPELINING: the whole batch) */
    SMTP_CLIENT_RCPT,         /* RCPT TO sent (one reply per recipient) */
    SMTP_CLIENT_DATA,         /* DATA sent: waiting for 354 */
    SMTP_CLIENT_BODY,         /* the message and its "." sent */
    SMTP_CLIENT_RSET,         /* RSET sent: the transaction is abandoned */
    SMTP_CLIENT_QUIT,         /* QUIT sent */
    SMTP_CLIENT_DONE,         /* the session is over: close the connection */
    SMTP_CLIENT_STATE_COUNT
};

extern const char *const smtp_client_state_names[SMTP_CLIENT_STATE_COUNT];

enum smtp_client_event_type {
    SMTP_CLIENT_EV_STATE = 0, /* from -> to */
    SMTP_CLIENT_EV_COMMAND,   /* a command line queued: verb, line */
    SMTP_CLIENT_EV_REPLY,     /* a whole reply read: code, enhanced, reply */
    SMTP_CLIENT_EV_RCPT,      /* one recipient's outcome: index, accepted, code */
    SMTP_CLIENT_EV_STARTTLS,  /* switch the link to TLS, then smtp_client_tls_started() */
    SMTP_CLIENT_EV_DONE,      /* the session is over: see smtp_client_result() */
    SMTP_CLIENT_EV_COUNT
};

extern const char *const smtp_client_event_names[SMTP_CLIENT_EV_COUNT];

/* One event. Pointers are borrowed until the next call on the machine. */
struct smtp_client_event {
    enum smtp_client_event_type type;
    enum smtp_client_state from, to; /* STATE */
    const char *verb;       /* COMMAND: "EHLO", "MAIL", ...; "" for a SASL
                               response line (the message itself is not an
                               event: it is msg->data, dot-stuffed) */
    const char *line;       /* COMMAND: the line without CRLF */
    size_t line_len;
    int code;               /* REPLY, RCPT: the reply code */
    const char *enhanced;   /* REPLY, RCPT: "2.1.5" or "" */
    const char *reply;      /* REPLY: the reply's lines with CRLFs, rebuilt from
                               what was read (code, separator, enhanced, text) */
    size_t reply_len;
    const char *text;       /* RCPT: the reply text of its last line */
    size_t index;           /* RCPT: which recipient (0-based) */
    bool accepted;          /* RCPT: 2xx */
};

enum smtp_client_tls_policy {
    SMTP_CLIENT_TLS_NEVER = 0,   /* never send STARTTLS */
    SMTP_CLIENT_TLS_IF_OFFERED,  /* opportunistic (RFC 3207 4.1; RFC 7435) */
    SMTP_CLIENT_TLS_REQUIRED,    /* give up unless TLS can be started */
};

enum smtp_client_auth_mech {
    SMTP_CLIENT_AUTH_PLAIN = 0,  /* RFC 4616, sent as initial response */
    SMTP_CLIENT_AUTH_LOGIN,      /* draft-murchison-sasl-login: user, then password */
};

struct smtp_client_config {
    const char *ehlo_name;          /* our name for EHLO/HELO */
    enum smtp_client_tls_policy tls;
    bool tls_active;                /* the link starts in TLS (port 465, RFC 8314) */
    const char *auth_user;          /* NULL: no AUTH */
    const char *auth_password;
    enum smtp_client_auth_mech auth_mech;
    bool no_pipelining;             /* lock-step even when PIPELINING is offered */
    bool no_size_param;             /* RFC 1870 6: a "minimal" client checks the
                                       limit but sends no SIZE= (Appendix D's does) */
    bool all_or_nothing;            /* any refused recipient abandons the
                                       transaction (RSET), as in RFC 5321 D.2 */
    const char *vrfy;               /* NULL, or a name to VRFY first (RFC 5321 D.4) */
    /* Lesson options, to show a server's refusals; a real client never sets them. */
    bool helo_only;                 /* greet with HELO, the older form (RFC 5321
                                       4.1.1.1): no extensions, so no STARTTLS,
                                       AUTH, SIZE or PIPELINING either */
    bool force_auth;                /* send AUTH even when the server does not
                                       offer it (RFC 4954 4 says a client must
                                       not): on a submission port before
                                       STARTTLS the server answers 530 5.7.0 */
};

/* The message: envelope and text, borrowed until the session is DONE. */
struct smtp_client_message {
    const char *reverse_path;  /* inside MAIL FROM:<>; "" for a bounce */
    const char *const *rcpts;  /* forward paths, inside RCPT TO:<> */
    size_t nrcpts;             /* 1..SMTP_CLIENT_MAX_RCPTS */
    const char *data;          /* the message (RFC 5322), lines ending in CRLF */
    size_t len;
};

/* How the session ended. */
enum smtp_client_outcome {
    SMTP_CLIENT_PENDING = 0,      /* not finished */
    SMTP_CLIENT_DELIVERED,        /* the server took it for every recipient */
    SMTP_CLIENT_PARTIAL,          /* taken for some recipients, refused for others */
    SMTP_CLIENT_FAILED_TEMPORARY, /* a 4xx (or a lost/garbled session): try later */
    SMTP_CLIENT_FAILED_PERMANENT, /* a 5xx, or refused before sending: do not retry */
    SMTP_CLIENT_OUTCOME_COUNT
};

extern const char *const smtp_client_outcome_names[SMTP_CLIENT_OUTCOME_COUNT];

struct smtp_client_result {
    enum smtp_client_outcome outcome;
    size_t accepted;      /* recipients the server took the message for */
    size_t nrcpts;
    int code;             /* the failing reply's code (0 when none) */
    char enhanced[16];    /* its enhanced code, "" when none */
    char text[SMTP_CLIENT_TEXT_MAX]; /* its text, or why we gave up locally */
    bool local;           /* we gave up ourselves (SIZE, 8BITMIME, TLS, AUTH not offered) */
};

/* One recipient's outcome. */
struct smtp_client_rcpt_result {
    int code;             /* 0 while not answered */
    char enhanced[16];
    char text[SMTP_CLIENT_TEXT_MAX];
};

/* The values smtp_client_next() and friends return. */
enum smtp_client_status {
    SMTP_CLIENT_ERR_NOT_PENDING = -4, /* tls_started without a pending handshake */
    SMTP_CLIENT_ERR_PROTOCOL = -3,    /* the server sent something that is not a
                                         reply (the session fails, QUIT is sent) */
    SMTP_CLIENT_ERR_CONFIG = -2,      /* bad config or message (from smtp_client_new) */
    SMTP_CLIENT_ERR_DONE = -1,        /* the session is over */
    SMTP_CLIENT_NEED_MORE = 0,        /* no event: feed bytes or drain output */
    SMTP_CLIENT_EVENT = 1,            /* *ev holds one event */
};

/* Creates a client for one message; cfg and msg are borrowed until the
 * session is DONE (the strings are not copied). Returns NULL when memory
 * runs out (*err untouched), or when cfg/msg are unusable: no or a bad
 * ehlo_name, no recipients or more than SMTP_CLIENT_MAX_RCPTS, a path the
 * codec would not format (smtp_format_command: syntax, length, CR/LF), AUTH
 * credentials SASL cannot carry (empty, over 255 octets, a NUL); *err (may
 * be NULL) then says SMTP_CLIENT_ERR_CONFIG. */
struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
                                    const struct smtp_client_message *msg,
                                    int *err);

/* The same delivery again on a new connection (a retry after a temporary
 * failure, RFC 5321 4.5.4.1): forgets the session, its result and a sticky
 * error, and waits for a greeting. cfg and msg stay borrowed. */
void smtp_client_reset(struct smtp_client *c);

/* Frees the client; NULL is allowed. */
void smtp_client_free(struct smtp_client *c);

/* Takes up to n bytes from the server; returns how many it took (fewer when
 * its reply store is full: call smtp_client_next() and feed the rest after).
 * After DONE, and while waiting for the TLS handshake, bytes are dropped. */
size_t smtp_client_feed(struct smtp_client *c, const char *in, size_t n);

/* Returns SMTP_CLIENT_EVENT with *ev (pointers borrowed until the next call
 * on c); SMTP_CLIENT_NEED_MORE when it needs a reply or room in the output
 * queue; SMTP_CLIENT_ERR_DONE once the DONE event has been returned. A
 * garbled reply makes the session fail (temporary) and QUIT is sent; the
 * error stays visible through smtp_client_error(). */
int smtp_client_next(struct smtp_client *c, struct smtp_client_event *ev);

/* The bytes to send (borrowed until the next call on c); returns the count.
 * The message text is refilled here as the queue drains. */
size_t smtp_client_output(struct smtp_client *c, const char **out);

/* Marks n shown bytes as sent. */
void smtp_client_consumed(struct smtp_client *c, size_t n);

/* After the STARTTLS event: the link now runs TLS; the client forgets the
 * server's capabilities and sends EHLO again (RFC 3207 4.2). Returns 0, or
 * SMTP_CLIENT_ERR_NOT_PENDING when no handshake was asked for. */
int smtp_client_tls_started(struct smtp_client *c);

enum smtp_client_state smtp_client_state(const struct smtp_client *c);

/* The overall result (outcome SMTP_CLIENT_PENDING until DONE). */
void smtp_client_result(const struct smtp_client *c, struct smtp_client_result *r);

/* Recipient i's outcome; returns false when i is out of range. */
bool smtp_client_rcpt(const struct smtp_client *c, size_t i,
                      struct smtp_client_rcpt_result *r);

/* The sticky protocol error (SMTP_CLIENT_ERR_PROTOCOL) or 0. */
int smtp_client_error(const struct smtp_client *c);

/* A static name for a status value of this header. */
const char *smtp_client_strerror(int status);

#endif
