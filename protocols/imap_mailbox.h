/* The abstract mail store an IMAP server session works on.
 *
 * The store itself lives elsewhere (sim/ keeps one per host, shared by every
 * session and device; tests/imap_memstore.c is a small one for the tests).
 * A session sees it only through this table of function pointers and its
 * context, so protocols/ never knows how mail is kept.
 *
 * What a session needs from a store, and why:
 *   - authenticate(): LOGIN and AUTHENTICATE PLAIN (RFC 3501 6.2.2, 6.2.3).
 *   - list/create/delete/rename/subscribe: the mailbox commands (6.3.x).
 *   - status() + msg_at(): what SELECT reports (6.3.1) and the session's own
 *     copy of UIDs and flags; modseq lets a session tell cheaply whether
 *     anything changed since it last looked.
 *   - bytes(): the message text, on demand, for FETCH and SEARCH.
 *   - append/set_flags/copy/expunge: the changing commands; the store assigns
 *     UIDs (RFC 3501 2.3.1.1: strictly ascending) so APPENDUID and COPYUID
 *     (RFC 4315) can report them.
 *   - claim_recent(): \Recent belongs to the first session that sees a new
 *     message (RFC 3501 2.3.2), so the store decides who that is.
 *
 * Seeing what OTHER sessions changed: each folder carries a modification
 * sequence that every change increments. A session polls status(); when the
 * modseq moved, it walks msg_at() and compares with its own table: UIDs it
 * knows that are gone were expunged, UIDs above its highest are new, and
 * differing flags were changed. The walk is bounded by the folder size.
 *
 * Every function returns an enum imap_mbx_result. Strings handed in are
 * NUL-terminated; user is the name authenticate() accepted. Pointers handed
 * out (bytes()) are borrowed until the next call on the store. */
#ifndef MAILSIM_PROTOCOLS_IMAP_MAILBOX_H
#define MAILSIM_PROTOCOLS_IMAP_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap.h"

/* Longest folder name in bytes without the NUL. Dovecot's default limit on a
 * mailbox name is 255; more is never needed in a simulation. */
#define IMAP_MBX_NAME_MAX 255
/* Longest user name or password in bytes (a local part is at most 64 octets,
 * RFC 5321 4.5.3.1.1; passwords get the same room). */
#define IMAP_MBX_USER_MAX 64

/* Stored flags are imap.h's enum imap_flag bits, the five system flags
 * (RFC 3501 2.3.2) only: \Recent is a property of a session, not of the
 * stored message, and keywords are not supported, so PERMANENTFLAGS never
 * lists \*. */
#define IMAP_MBX_FLAGS 0x1fu /* SEEN ANSWERED FLAGGED DELETED DRAFT */

enum imap_mbx_result {
    IMAP_MBX_OK = 0,
    IMAP_MBX_NONEXISTENT, /* no such folder or message: NO [NONEXISTENT] / [TRYCREATE] */
    IMAP_MBX_EXISTS,      /* CREATE or RENAME onto an existing name */
    IMAP_MBX_DENIED,      /* bad credentials, or deleting INBOX */
    IMAP_MBX_FULL,        /* a store limit was reached: NO [LIMIT] */
    IMAP_MBX_RESULT_COUNT
};

/* LIST attributes (RFC 3501 7.2.2). */
enum imap_mbx_attr {
    IMAP_MBX_NOSELECT  = 1u << 0,
    IMAP_MBX_NOINFERIORS = 1u << 1,
    IMAP_MBX_MARKED    = 1u << 2,
    IMAP_MBX_UNMARKED  = 1u << 3,
};

struct imap_mbx_folder {
    char     name[IMAP_MBX_NAME_MAX + 1];
    unsigned attrs;      /* enum imap_mbx_attr bits */
    bool     subscribed; /* LSUB lists it (RFC 3501 6.3.9) */
};

struct imap_mbx_status {
    uint32_t uidvalidity; /* RFC 3501 2.3.1.1 */
    uint32_t uidnext;     /* the UID the next message will get */
    uint32_t count;       /* messages in the folder */
    uint64_t modseq;      /* incremented by every change to the folder; it is
                             HIGHESTMODSEQ (RFC 7162 3.1.2.1); 0: not kept */
};

struct imap_mbx_msg {
    uint32_t uid;
    unsigned flags;          /* IMAP_MBX_FLAGS bits of enum imap_flag */
    int64_t  internal_date;  /* seconds since 1970-01-01 UTC */
    int      zone_minutes;   /* the zone INTERNALDATE is shown in, e.g. -420 */
    uint32_t size;           /* RFC822.SIZE: octets of the message */
    bool     recent_unclaimed; /* new, and no session has claimed \Recent yet */
    uint64_t modseq;         /* RFC 7162 3.1: the folder's modseq when this
                                message was added or its flags last changed;
                                never above the status' modseq; 0: not kept */
};

struct imap_mailbox_ops {
    /* IMAP_MBX_OK when user/pass is a valid account, else IMAP_MBX_DENIED. */
    enum imap_mbx_result (*authenticate)(void *ctx, const char *user, const char *pass);
    /* Writes up to max folders to out; *n gets the count written. Folders
     * beyond max are left out (the caller states its maximum). */
    enum imap_mbx_result (*list)(void *ctx, const char *user,
                                 struct imap_mbx_folder *out, size_t max, size_t *n);
    enum imap_mbx_result (*create)(void *ctx, const char *user, const char *folder);
    enum imap_mbx_result (*remove)(void *ctx, const char *user, const char *folder);
    enum imap_mbx_result (*rename)(void *ctx, const char *user, const char *from, const char *to);
    enum imap_mbx_result (*subscribe)(void *ctx, const char *user, const char *folder, bool on);
    /* The folder's counters; IMAP_MBX_NONEXISTENT when there is no folder. */
    enum imap_mbx_result (*status)(void *ctx, const char *user, const char *folder,
                                   struct imap_mbx_status *st);
    /* The index-th message (0-based, ascending UID order) of the folder. */
    enum imap_mbx_result (*msg_at)(void *ctx, const char *user, const char *folder,
                                   uint32_t index, struct imap_mbx_msg *out);
    /* The message's octets, borrowed until the next call on the store. */
    enum imap_mbx_result (*bytes)(void *ctx, const char *user, const char *folder,
                                  uint32_t uid, const char **data, size_t *len);
    /* Stores a new message; *uidvalidity and *uid tell where (APPENDUID). */
    enum imap_mbx_result (*append)(void *ctx, const char *user, const char *folder,
                                   unsigned flags, int64_t date, int zone_minutes,
                                   const char *data, size_t len,
                                   uint32_t *uidvalidity, uint32_t *uid);
    /* Replaces the message's flags (enum imap_flag bits). */
    enum imap_mbx_result (*set_flags)(void *ctx, const char *user, const char *folder,
                                      uint32_t uid, unsigned flags);
    /* Copies one message with its flags and internal date to dest; *uidvalidity
     * and *new_uid are dest's (COPYUID, RFC 4315 3). */
    enum imap_mbx_result (*copy)(void *ctx, const char *user, const char *folder,
                                 uint32_t uid, const char *dest,
                                 uint32_t *uidvalidity, uint32_t *new_uid);
    /* Removes one message for good (the session picks which: \Deleted). */
    enum imap_mbx_result (*expunge)(void *ctx, const char *user, const char *folder,
                                    uint32_t uid);
    /* IMAP_MBX_OK when this caller is the first to see the new message, which
     * is then \Recent for this session only; IMAP_MBX_EXISTS when another
     * session claimed it first (RFC 3501 2.3.2). */
    enum imap_mbx_result (*claim_recent)(void *ctx, const char *user, const char *folder,
                                         uint32_t uid);
};

struct imap_mailbox {
    const struct imap_mailbox_ops *ops;
    void *ctx; /* the store; shared by every session that uses it */
};

#endif
