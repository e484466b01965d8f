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

#include "protocols/imap.h"
#include "protocols/imap_mailbox.h"

/* Messages one session keeps numbers for (its view of the selected folder).
 * SELECT of a larger folder fails with NO [LIMIT]; 4096 is ample for a
 * classroom, and the table costs 16 bytes a message. */
#define IMAP_SERVER_MAX_MSGS 4096
/* Folders a LIST can report. */
#define IMAP_SERVER_MAX_FOLDERS 64
/* Output held for one command's responses, grown on demand. FETCH of whole
 * messages is the biggest; this lets one FETCH carry any message APPEND
 * accepts (imap.h's IMAP_DEFAULT_MAX_LITERAL) plus room for the rest. Past
 * it the command ends "NO [LIMIT] Response too large" after the responses
 * that fitted (RFC 3501 sets no size; RFC 5530 names the LIMIT code). */
#define IMAP_SERVER_OUT_MAX (IMAP_DEFAULT_MAX_LITERAL + 256u * 1024u)

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
    IMAP_SERVER_EV_COMMAND,    /* tag, verb and data/len: a command's bytes
                                  as received without the last CRLF (with
                                  any literal; the first 8 KiB); verb "?"
                                  for one the parser refused, "DONE" for
                                  IDLE's end, "AUTHENTICATE" for a SASL line */
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
    bool condstore;          /* offer CONDSTORE (RFC 7162 3): per-message
                                MODSEQ, [HIGHESTMODSEQ n] on SELECT, FETCH
                                (CHANGEDSINCE n); the mailbox's modseqs */
};

struct imap_server;

/* A new session; the greeting is queued as the first SEND. NULL when out of
 * memory. cfg is copied; the mailbox must outlive the session. */
struct imap_server *imap_server_new(const struct imap_server_config *cfg);
void imap_server_free(struct imap_server *s);
/* Ends s's session and starts a new one on it, as imap_server_new(cfg)
 * would, keeping its memory: its tables and its output arena (at the size
 * the last session grew it to, never past IMAP_SERVER_OUT_MAX). A server
 * that serves one connection after another spares the allocation and the
 * first touch of those pages. */
void imap_server_reset(struct imap_server *s, const struct imap_server_config *cfg);

/* The simulated clock: APPEND without a date-time stores now, shown in
 * zone_minutes (RFC 3501 6.3.11 leaves it to the server; protocols/ reads
 * no clock). */
void imap_server_set_clock(struct imap_server *s, int64_t now, int zone_minutes);

/* Takes bytes of in[0..n), at most up to and including the first LF, and
 * returns the count taken; 0 means "call imap_server_next() until
 * IMAP_SERVER_NEED_MORE first". After LOGOUT, and after STARTTLS until
 * imap_server_tls_started(), nothing is taken (0): bytes the client sent
 * behind STARTTLS must be dropped by the caller (RFC 3501 6.2.1). */
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

/* ---- internal: shared by imap_server.c, imap_fetch.c, imap_search.c ---- */
/* Not for other callers; declared here to keep the three files' contract in
 * one place. */

/* One message as FETCH and SEARCH see it. */
struct imap_msgref {
    uint32_t    seq, uid;
    unsigned    flags;      /* enum imap_flag bits, IMAP_FLAG_RECENT included */
    int64_t     date;       /* internal date, seconds since the epoch */
    int         zone;       /* minutes east of UTC it is shown in */
    uint32_t    size;       /* RFC822.SIZE as the store reports it */
    uint64_t    modseq;     /* RFC 7162 mod-sequence; 0: none kept */
    const char *data;       /* the message octets, borrowed */
    size_t      len;
};

/* Work space for building ENVELOPE, BODYSTRUCTURE and matching SEARCH keys:
 * a parsed header, a MIME tree, address tables and a string arena, about
 * 400 KiB, allocated once per session. */
struct imap_scratch;
struct msg_header;
struct imap_scratch *imap_scratch_new(void);
void imap_scratch_free(struct imap_scratch *sc);

/* The header section of msg[0..len) parsed into the scratch (a malformed
 * line ends it early), borrowed until the next use of sc. */
const struct msg_header *imap_scratch_header(struct imap_scratch *sc, const char *msg, size_t len);

/* True when one of items sets \Seen implicitly: BODY[...] without .PEEK,
 * RFC822, RFC822.TEXT (RFC 3501 6.4.5). */
bool imap_fetch_sets_seen(const struct imap_fetch_att *items, size_t n);

/* Appends "* seq FETCH (...)\r\n" for items about m to o. add_uid puts UID
 * in even when not asked (UID FETCH, RFC 3501 6.4.8); add_flags puts FLAGS
 * in (\Seen was just set, 6.4.5); add_modseq puts MODSEQ in (CHANGEDSINCE
 * implies it, and a session that enabled CONDSTORE gets it with every
 * FETCH: RFC 7162 3.1.4.1, 3.2) when m->modseq is not 0. A section naming a part the message does
 * not have is answered NIL. Output problems show in o->overflow. */
void imap_fetch_write(struct imap_out *o, struct imap_scratch *sc,
                      const struct imap_fetch_att *items, size_t n,
                      const struct imap_msgref *m, bool add_uid, bool add_flags,
                      bool add_modseq);

/* Appends "(\Seen \Deleted)" for flags (IMAP_FLAG_RECENT included). */
void imap_fetch_flags(struct imap_out *o, unsigned flags);

/* Splits epoch seen in zone (minutes east) into a calendar date-time. */
void imap_epoch_to_datetime(int64_t epoch, int zone, struct imap_datetime *dt);

/* Days since 1970-01-01 of a calendar date (proleptic Gregorian). */
int64_t imap_days_from_civil(int year, int month, int day);

/* True when m matches the key tree keys[0..nkeys) (node 0 the root, RFC 3501
 * 6.4.4). max_seq and max_uid stand for "*" in sequence sets. */
bool imap_search_match(struct imap_scratch *sc, const struct imap_search_key *keys,
                       size_t nkeys, const struct imap_msgref *m, uint32_t max_seq,
                       uint32_t max_uid);

#endif
