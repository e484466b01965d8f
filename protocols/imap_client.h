/* The IMAP4rev1 client session machine: a mail program syncing one folder.
 * Sans-I/O like the server: the caller feeds the server's bytes and loops
 * imap_client_next(), sending every IMAP_CLIENT_EV_SEND's bytes.
 *
 * What it does, in order (each step is a state; the client sends on entering
 * a state and picks the next state from the tagged reply):
 *   greeting -> [CAPABILITY] -> [STARTTLS -> TLS -> CAPABILITY]
 *   -> LOGIN or AUTHENTICATE PLAIN -> [LIST "" *] -> SELECT folder
 *   -> (UIDVALIDITY changed? drop the cache, RFC 3501 2.3.1.1)
 *   -> UID STORE of local flag changes -> UID FETCH new messages
 *   -> UID FETCH 1:last (FLAGS) -> UID SEARCH ALL (what was expunged)
 *
 * With CONDSTORE (RFC 7162) offered, SELECT asks "(CONDSTORE)" and the
 * cache keeps the folder's HIGHESTMODSEQ: when it did not move, the flag
 * fetch is skipped; otherwise it is UID FETCH 1:last (FLAGS)
 * (CHANGEDSINCE m), only the messages changed since. The expunge search is
 * skipped when SELECT's EXISTS proves nothing was expunged.
 *   -> [EXPUNGE] -> [IDLE until something changes, then DONE and sync again]
 *   -> LOGOUT.
 *
 * The local state (per folder: UIDVALIDITY, the last UID fetched, the cached
 * UIDs with flags and sizes) is struct imap_client_cache, owned by the
 * caller so a simulated device keeps it from one connection to the next. */
#ifndef MAILSIM_PROTOCOLS_IMAP_CLIENT_H
#define MAILSIM_PROTOCOLS_IMAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap.h"
#include "protocols/imap_mailbox.h"

/* Messages one folder's cache remembers. A message past this is still
 * fetched and reported (IMAP_CLIENT_EV_NEW) but not remembered: a phone
 * keeping the newest 1024 headers is a fair model. */
#define IMAP_CLIENT_MAX_CACHE 1024
/* Output and event text held for one step: a command line, or a fetched
 * message copied for the NEW event (bounded by the reader's literal limit,
 * IMAP_DEFAULT_MAX_LITERAL, so a message up to 10 MiB). */
#define IMAP_CLIENT_OUT_MAX (IMAP_DEFAULT_MAX_LITERAL + 65536u)

struct imap_client_msg {
    uint32_t uid;
    unsigned flags;    /* IMAP_MBX_FLAGS bits of enum imap_flag */
    uint32_t size;     /* RFC822.SIZE */
    bool dirty;        /* flags changed here, not yet stored on the server */
    unsigned server_flags; /* the flags as last seen on the server: a sync
                              stores only what changed here since (+FLAGS and
                              -FLAGS, RFC 3501 6.4.6), so another device's
                              change to other flags is not undone */
    bool mark;         /* scratch for the expunge check */
};

/* One folder as the device remembers it. Zero it for a new device. */
struct imap_client_cache {
    uint32_t uidvalidity; /* 0: never synced */
    uint32_t last_uid;    /* highest UID fetched so far */
    bool partial;         /* a fetched message did not fit (MAX_CACHE): the
                             cache cannot prove that nothing was expunged */
    uint64_t highestmodseq; /* RFC 7162 3.1.2.1: HIGHESTMODSEQ the cached flags
                               are up to date with; 0: unknown */
    size_t n;
    struct imap_client_msg msgs[IMAP_CLIENT_MAX_CACHE]; /* ascending UID */
};

/* Changes a cached message's flags locally (the user read or deleted it);
 * the next sync stores them on the server. Returns false when uid is not
 * cached. */
bool imap_client_cache_set_flags(struct imap_client_cache *cache, uint32_t uid, unsigned flags);

/* The cached entry for uid, or NULL. Borrowed from cache. */
const struct imap_client_msg *imap_client_cache_find(const struct imap_client_cache *cache,
                                                     uint32_t uid);

enum imap_client_state {
    IMAP_CLIENT_GREETING,     /* waiting for "* OK" */
    IMAP_CLIENT_CAPABILITY,   /* CAPABILITY sent */
    IMAP_CLIENT_STARTTLS,     /* STARTTLS sent */
    IMAP_CLIENT_TLS,          /* the caller is doing the TLS handshake */
    IMAP_CLIENT_LOGIN,        /* LOGIN or AUTHENTICATE sent */
    IMAP_CLIENT_LIST,         /* LIST "" * sent */
    IMAP_CLIENT_SELECT,       /* SELECT sent */
    IMAP_CLIENT_PUSH_FLAGS,   /* UID STORE of a local change sent */
    IMAP_CLIENT_FETCH_NEW,    /* UID FETCH last+1:* sent */
    IMAP_CLIENT_FETCH_FLAGS,  /* UID FETCH 1:last (FLAGS) sent */
    IMAP_CLIENT_SEARCH,       /* UID SEARCH ALL sent */
    IMAP_CLIENT_EXPUNGE,      /* EXPUNGE sent */
    IMAP_CLIENT_IDLE,         /* IDLE sent, or idling after "+" */
    IMAP_CLIENT_DONE,         /* DONE sent, waiting for IDLE's tagged OK */
    IMAP_CLIENT_LOGOUT,       /* LOGOUT sent */
    IMAP_CLIENT_CLOSED,       /* nothing more to do */
    IMAP_CLIENT_STATE_COUNT
};

extern const char *const imap_client_state_names[IMAP_CLIENT_STATE_COUNT];

enum imap_client_ev {
    IMAP_CLIENT_NEED_MORE = 0, /* feed more bytes */
    IMAP_CLIENT_EV_SEND,       /* data/len: bytes for the server */
    IMAP_CLIENT_EV_STATE,      /* from -> to */
    IMAP_CLIENT_EV_FOLDER,     /* text: a folder LIST reported */
    IMAP_CLIENT_EV_RESET,      /* UIDVALIDITY changed: the cache was dropped */
    IMAP_CLIENT_EV_NEW,        /* uid, flags, size, data/len: a new message */
    IMAP_CLIENT_EV_FLAGS,      /* uid, flags: the server's flags changed */
    IMAP_CLIENT_EV_EXPUNGED,   /* uid: gone from the server and the cache */
    IMAP_CLIENT_EV_STARTTLS,   /* start TLS now, then imap_client_tls_started() */
    IMAP_CLIENT_EV_ERROR,      /* text: why the session is giving up */
    IMAP_CLIENT_EV_CLOSE,      /* hang up */
    IMAP_CLIENT_EV_COUNT
};

extern const char *const imap_client_ev_names[IMAP_CLIENT_EV_COUNT];

/* Pointers are borrowed until the next call on the client. */
struct imap_client_event {
    enum imap_client_ev type;
    const char *data;  /* SEND, NEW */
    size_t len;
    const char *text;  /* FOLDER, ERROR: NUL-terminated */
    enum imap_client_state from, to;
    uint32_t uid;
    unsigned flags;
    uint32_t size;
};

struct imap_client_config {
    const char *user, *pass;        /* NUL-terminated, copied */
    const char *folder;             /* NULL: "INBOX" */
    const char *tag_prefix;         /* NULL: "a"; tags are prefix + 3 digits */
    bool starttls;                  /* STARTTLS first when the server offers it */
    bool authenticate;              /* AUTHENTICATE PLAIN instead of LOGIN */
    bool list;                      /* LIST "" * after login */
    bool expunge;                   /* EXPUNGE when a cached message is \Deleted */
    bool idle;                      /* IDLE after syncing (RFC 2177) */
    struct imap_client_cache *cache; /* the folder's local state; required */
};

struct imap_client;

/* A new session; it waits for the greeting. NULL when out of memory, or
 * when user or pass is empty or longer than IMAP_MBX_USER_MAX, or folder
 * longer than IMAP_MBX_NAME_MAX. The cache must outlive the client. */
struct imap_client *imap_client_new(const struct imap_client_config *cfg);
void imap_client_free(struct imap_client *c);

/* Takes what fits of in[0..n) and returns the count; 0 means call
 * imap_client_next() first. Nothing is taken while the caller switches to
 * TLS or after the session closed. */
size_t imap_client_feed(struct imap_client *c, const char *in, size_t n);

/* The next event or IMAP_CLIENT_NEED_MORE; pointers in *ev are borrowed
 * until the next call on c. A server's NO or BAD to a step the sync cannot
 * do without ends the session politely: ERROR, then LOGOUT. */
enum imap_client_ev imap_client_next(struct imap_client *c, struct imap_client_event *ev);

/* The caller finished the TLS handshake after IMAP_CLIENT_EV_STARTTLS. */
void imap_client_tls_started(struct imap_client *c);

/* The local cache changed (imap_client_cache_set_flags): when idling, leave
 * IDLE with DONE and sync again; otherwise the running sync picks it up. */
void imap_client_wake(struct imap_client *c);

/* Ends the session: leaves IDLE with DONE if idling, then LOGOUT. */
void imap_client_stop(struct imap_client *c);

enum imap_client_state imap_client_state(const struct imap_client *c);

#endif
