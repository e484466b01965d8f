/* The POP3 client machine (RFC 1939; STLS RFC 2595), sans-I/O: one
 * download pass over one connection.
 *
 * Two kinds of pass, the contrast POP3 teaches:
 *  - download and delete: greeting, [STLS], USER/PASS (or APOP), STAT,
 *    UIDL (or LIST), then RETR n and DELE n for each message, QUIT — the
 *    mail now lives on this device only;
 *  - leave a copy on the server: the same without DELE, skipping every
 *    message whose unique-id is already in a caller-owned "seen" set, so a
 *    message is never downloaded twice across passes.
 *
 * Use: feed the server's bytes with pop3_client_feed(), loop
 * pop3_client_next() until POP3_NEED_MORE, send the bytes of every SEND
 * event. The machine sends on entering a state and chooses the next state
 * on each reply; it never pipelines. */
#ifndef MAILSIM_PROTOCOLS_POP3_CLIENT_H
#define MAILSIM_PROTOCOLS_POP3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "protocols/pop3.h"

/* Messages one pass works through (its plan, from UIDL or LIST); a bigger
 * maildrop is handled over several passes. A simulator's choice. */
#define POP3_CLIENT_MAX_MESSAGES 1024
/* Default and largest size of one downloaded message, the buffer a pass
 * allocates once. Bigger messages are left on the server and reported as
 * SKIPPED. A simulator's choice: the simulated mail is a few KiB. */
#define POP3_CLIENT_MAX_MESSAGE (1024 * 1024)
/* RFC 1939 7: the APOP timestamp is a msg-id; RFC 5322 3.6.4 bounds
 * nothing, so we take what fits a 512-octet greeting. */
#define POP3_CLIENT_MAX_TIMESTAMP 255

enum pop3_client_state {
    POP3_CLIENT_GREETING, /* waiting for the server's +OK */
    POP3_CLIENT_STLS,     /* sent STLS (RFC 2595 4) */
    POP3_CLIENT_TLS,      /* waiting for pop3_client_tls_started() */
    POP3_CLIENT_USER,     /* sent USER */
    POP3_CLIENT_PASS,     /* sent PASS */
    POP3_CLIENT_APOP,     /* sent APOP */
    POP3_CLIENT_STAT,     /* sent STAT */
    POP3_CLIENT_UIDL,     /* sent UIDL, reading the listing */
    POP3_CLIENT_LIST,     /* sent LIST, reading the listing */
    POP3_CLIENT_RETR,     /* sent RETR n, reading the message */
    POP3_CLIENT_DELE,     /* sent DELE n */
    POP3_CLIENT_QUIT,     /* sent QUIT */
    POP3_CLIENT_DONE,     /* the pass completed */
    POP3_CLIENT_FAILED,   /* the pass failed; a FAILED event said why */
    POP3_CLIENT_STATE_COUNT
};

/* "GREETING", "STLS", ... in enum order; NULL out of range. */
const char *pop3_client_state_name(enum pop3_client_state st);

enum pop3_client_mode {
    POP3_CLIENT_DOWNLOAD_DELETE, /* RETR then DELE each message */
    POP3_CLIENT_LEAVE_COPY,      /* RETR only new unique-ids; no DELE */
};

struct pop3_client_config {
    const char           *user;
    const char           *pass;     /* the password, or the APOP secret */
    bool                  apop;     /* APOP when the greeting has a timestamp */
    bool                  stls;     /* require STLS first; never fall back */
    enum pop3_client_mode mode;
    bool                  use_list; /* download-and-delete only: scan with
                                       LIST instead of UIDL, as RFC 1939 10
                                       does */
    size_t                max_message; /* 0: POP3_CLIENT_MAX_MESSAGE; larger
                                          values are clamped to it */
};

/* The unique-ids already downloaded, owned by the caller and kept between
 * passes. Bounded: storage holds cap ids. */
struct pop3_uidl_set {
    char  (*ids)[POP3_MAX_UIDL + 1]; /* caller storage, cap entries */
    size_t cap;
    size_t count;
};

/* Starts an empty set over the caller's storage of cap entries. */
void pop3_uidl_set_init(struct pop3_uidl_set *set, char (*storage)[POP3_MAX_UIDL + 1],
                        size_t cap);

/* 1 when id[0..len) is in the set. */
bool pop3_uidl_set_has(const struct pop3_uidl_set *set, const char *id, size_t len);

/* Adds id[0..len). Returns POP3_OK (also when already there),
 * POP3_ERR_BAD_UIDL for an id outside RFC 1939 7's rules, or
 * POP3_ERR_NO_ROOM when the set is full. */
int pop3_uidl_set_add(struct pop3_uidl_set *set, const char *id, size_t len);

enum pop3_client_event {
    POP3_CLI_SEND = 1, /* ev.out: a command line (with CRLF) to send */
    POP3_CLI_REPLY,    /* ev.ok, ev.text: a status line received */
    POP3_CLI_STATE,    /* ev.from -> ev.to */
    POP3_CLI_STARTTLS, /* start TLS now, then call pop3_client_tls_started() */
    POP3_CLI_MESSAGE,  /* ev.msg, ev.uidl, ev.data: one downloaded message
                          (CRLF line ends, dot-stuffing removed) */
    POP3_CLI_SKIPPED,  /* ev.msg, ev.uidl, ev.text: not downloaded, and why */
    POP3_CLI_FAILED,   /* ev.text: why the pass failed; ev.in_use when the
                          server said [IN-USE] (RFC 2449 8.1.1) */
    POP3_CLI_DONE,     /* ev.msg: how many messages this pass downloaded */
};

struct pop3_client_ev {
    const char            *out;      /* SEND */
    size_t                 out_len;
    bool                   ok;       /* REPLY */
    const char            *text;     /* REPLY, SKIPPED, FAILED */
    size_t                 text_len;
    enum pop3_client_state from, to; /* STATE */
    size_t                 msg;      /* MESSAGE, SKIPPED, DONE */
    const char            *uidl;     /* MESSAGE, SKIPPED: "" when unknown */
    const char            *data;     /* MESSAGE */
    size_t                 data_len;
    bool                   in_use;   /* FAILED */
};

struct pop3_client;

/* Allocates a pass (its plan and a max_message buffer) in state GREETING.
 * cfg's strings and seen must outlive the pass; seen may be NULL in
 * download-and-delete mode and must not be NULL in leave-copy mode. In
 * leave-copy mode each downloaded id is added to seen. Returns NULL when
 * malloc fails. */
struct pop3_client *pop3_client_new(const struct pop3_client_config *cfg,
                                    struct pop3_uidl_set *seen);

/* Frees the pass; NULL is allowed. The seen set stays the caller's. */
void pop3_client_free(struct pop3_client *c);

/* Copies as much of the server's in[0..n) as fits and returns the count
 * taken; 0 means call pop3_client_next() first. */
size_t pop3_client_feed(struct pop3_client *c, const char *in, size_t n);

/* Returns an enum pop3_client_event with *ev filled (pointers borrowed
 * until the next call on c), POP3_NEED_MORE, or, after a malformed
 * response has failed the pass (FAILED event first), the sticky
 * POP3_ERR_BAD_STATUS or POP3_ERR_TOO_LONG. */
int pop3_client_next(struct pop3_client *c, struct pop3_client_ev *ev);

/* The caller finished the TLS handshake after STARTTLS: login follows
 * (the next SEND). Only valid in state TLS. */
void pop3_client_tls_started(struct pop3_client *c);

/* The connection closed. Before DONE, the pass fails (a FAILED event
 * follows); the server deletes nothing then (RFC 1939 6). */
void pop3_client_closed(struct pop3_client *c);

/* The current state. Never fails. */
enum pop3_client_state pop3_client_state(const struct pop3_client *c);

#endif
