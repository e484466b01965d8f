/* The IMAP4rev1 server session machine (RFC 3501 sections 3, 5, 6, 7), with
 * IDLE (RFC 2177) and UIDPLUS (RFC 4315), over the abstract store in
 * imap_mailbox.h. Sans-I/O: the caller feeds the client's bytes, then loops
 * imap_server_next() and sends every IMAP_SERVER_EV_SEND's bytes.
 *
 *   s = imap_server_new(&cfg);             the greeting is the first SEND
 *   loop: imap_server_feed(s, in, n);      takes what fits, returns the count
 *         while ((t = imap_server_next(s, &ev)) != IMAP_SERVER_NEED_MORE)
 *             ...SEND: write ev.data; STARTTLS: switch; CLOSE: hang up
 *   when the store changed (another session): imap_server_poll(s), then next.
 *
 * Commands are parsed with protocols/imap.h; responses are formatted through
 * it. States (RFC 3501 3): not authenticated -> authenticated -> selected,
 * and logout; every change is one IMAP_SERVER_EV_STATE event. */
#ifndef MAILSIM_PROTOCOLS_IMAP_SERVER_H
#define MAILSIM_PROTOCOLS_IMAP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap_mailbox.h"

/* Messages one session keeps numbers for (its view of the selected folder).
 * SELECT of a larger folder fails with NO [LIMIT]; 4096 is ample for a
 * classroom, and the table costs 16 bytes a message. */
#define IMAP_SERVER_MAX_MSGS 4096
/* Folders a LIST can report. */
#define IMAP_SERVER_MAX_FOLDERS 64
/* Output held for one command's responses: FETCH of whole messages is the
 * biggest, so this bounds FETCH BODY[] of a command to 4 MiB in total; past it
 * the command ends "NO [LIMIT]" (RFC 3501 says nothing on size; Dovecot
 * limits output similarly). */
#define IMAP_SERVER_OUT_MAX (4u * 1024 * 1024)

enum imap_server_state {
    IMAP_SERVER_NOT_AUTHENTICATED, /* RFC 3501 3.1 */
    IMAP_SERVER_AUTHENTICATED,     /* 3.2 */
    IMAP_SERVER_SELECTED,          /* 3.3 */
    IMAP_SERVER_LOGOUT,            /* 3.4: nothing more is read */
    IMAP_SERVER_STATE_COUNT
};

/* Names in enum order, e.g. "not-authenticated". */
extern const char *const imap_server_state_names[IMAP_SERVER_STATE_COUNT];

enum imap_server_ev {
    IMAP_SERVER_NEED_MORE = 0, /* nothing to do until more bytes or a poll */
    IMAP_SERVER_EV_SEND,       /* data/len: bytes for the client: one whole
                                  response with its CRLF (and literal) */
    IMAP_SERVER_EV_COMMAND,    /* tag, verb and data/len (the line as
                                  received, without CRLF) of a command */
    IMAP_SERVER_EV_STATE,      /* from -> to */
    IMAP_SERVER_EV_FLAGGED,    /* this session changed uid's flags to flags */
    IMAP_SERVER_EV_EXPUNGED,   /* this session expunged uid */
    IMAP_SERVER_EV_APPENDED,   /* this session stored uid in folder */
    IMAP_SERVER_EV_STARTTLS,   /* send what came before, then start TLS and
                                  call imap_server_tls_started() */
    IMAP_SERVER_EV_CLOSE,      /* send what came before, then hang up */
    IMAP_SERVER_EV_COUNT
};

extern const char *const imap_server_ev_names[IMAP_SERVER_EV_COUNT];

/* Every pointer is borrowed until the next call on the session. */
struct imap_server_event {
    enum imap_server_ev type;
    const char *data;   /* SEND, COMMAND */
    size_t len;
    const char *tag;    /* COMMAND: NUL-terminated */
    const char *verb;   /* COMMAND: upper case, "UID FETCH" for UID forms */
    const char *folder; /* APPENDED, FLAGGED, EXPUNGED */
    enum imap_server_state from, to; /* STATE */
    uint32_t uid;       /* FLAGGED, EXPUNGED, APPENDED */
    unsigned flags;     /* FLAGGED: the new enum imap_flag bits */
};

struct imap_server_config {
    struct imap_mailbox mailbox;
    bool starttls_offered;   /* advertise STARTTLS while not yet in TLS */
    bool tls_active;         /* the connection is already TLS (port 993) */
    bool login_needs_tls;    /* LOGINDISABLED until TLS (RFC 3501 6.2.3) */
    const char *hostname;    /* in the greeting text; NULL: "mailsim" */
};

struct imap_server;

/* A new session; the greeting is queued as the first SEND. NULL when out of
 * memory. cfg is copied; the mailbox must outlive the session. */
struct imap_server *imap_server_new(const struct imap_server_config *cfg);
void imap_server_free(struct imap_server *s);

/* Takes as much of in[0..n) as the input buffer holds and returns the count
 * taken; 0 means "call imap_server_next() first". After LOGOUT or STARTTLS
 * bytes are not taken (0). */
size_t imap_server_feed(struct imap_server *s, const char *in, size_t n);

/* The next event, or IMAP_SERVER_NEED_MORE. Fills *ev; its pointers are
 * borrowed until the next call on s. Bad commands never fail the session:
 * they produce the protocol's BAD/NO response as SEND events. */
enum imap_server_ev imap_server_next(struct imap_server *s, struct imap_server_event *ev);

/* The store may have changed (another session appended, flagged or
 * expunged). In IDLE the changes are sent at once (RFC 2177); otherwise they
 * wait for the next command that may report them (RFC 3501 7.4.1, 5.2). */
void imap_server_poll(struct imap_server *s);

/* The caller finished the TLS handshake after IMAP_SERVER_EV_STARTTLS. Any
 * bytes the client sent before the handshake were already discarded
 * (RFC 3501 6.2.1: a command injected in the clear must not be obeyed). */
void imap_server_tls_started(struct imap_server *s);

enum imap_server_state imap_server_state(const struct imap_server *s);

/* True while an IDLE command is running. */
bool imap_server_idling(const struct imap_server *s);

#endif
