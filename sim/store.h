/* The mail store of one mail server host: accounts, each with folders
 * (INBOX, Sent, Drafts, Trash and any the user creates), messages with UID,
 * UIDVALIDITY, flags, internal date and size, and a quota.
 *
 * It is what the MTA delivers into and what the IMAP and POP3 servers serve,
 * through the codecs' abstract interfaces (protocols/imap_mailbox.h and
 * struct pop3_maildrop in protocols/pop3_server.h). Every change is recorded
 * in the trace as a SIM_TR_MAIL event (owner = this host), so the views can
 * rebuild every mailbox at every step by replaying the trace.
 *
 * A POP3 session sees a snapshot of INBOX taken when it locks the maildrop:
 * its message numbers stay stable (RFC 1939 5) while IMAP sessions and new
 * deliveries change the folder; its deletions are carried out by UID. */
#ifndef MAILSIM_SIM_STORE_H
#define MAILSIM_SIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap_mailbox.h"
#include "protocols/pop3_server.h"
#include "sim/engine.h"

#define SIM_ADDRESS_MAX 254 /* RFC 5321 4.5.3.1.3 path minus its brackets */

enum sim_store_result {
    SIM_STORE_OK = 0,
    SIM_STORE_NO_ACCOUNT, /* no such mailbox here: 550 5.1.1 at RCPT */
    SIM_STORE_NO_FOLDER,
    SIM_STORE_FULL,       /* over quota: 452 4.2.2 (or 552 5.2.2) */
    SIM_STORE_EXISTS,     /* the account or folder exists already */
    SIM_STORE_NO_MEMORY,
    SIM_STORE_RESULT_COUNT
};
extern const char *const sim_store_result_names[SIM_STORE_RESULT_COUNT];

/* One stored message, as the views and tests inspect it. */
struct sim_stored_msg {
    uint32_t    uid;
    unsigned    flags;         /* enum sim_flag bits (SIM_FLAG_RECENT unused) */
    int64_t     internal_date; /* seconds since the epoch, simulated */
    size_t      size;          /* octets, CRLF line ends */
    const char *bytes;         /* the message, owned by the store */
};

struct sim_store;

/* A store for the host named owner (copied; used in the trace). Its clock
 * for internal dates is e->now plus epoch (the simulated wall time at t=0,
 * seconds since 1970). Returns NULL when out of memory. */
struct sim_store *sim_store_new(struct sim_engine *e, const char *owner, int64_t epoch);
void sim_store_free(struct sim_store *s);

/* Adds an account with its four standard folders. quota is in octets (0:
 * unlimited). Returns SIM_STORE_OK, SIM_STORE_EXISTS or SIM_STORE_NO_MEMORY. */
enum sim_store_result sim_store_add_account(struct sim_store *s, const char *address,
                                            const char *password, size_t quota);

bool sim_store_has_account(const struct sim_store *s, const char *address);
bool sim_store_check_password(const struct sim_store *s, const char *address,
                              const char *password);

/* Whether n more octets fit address's quota (the MTA asks at RCPT and at
 * the end of DATA, so a full mailbox refuses before taking responsibility). */
bool sim_store_fits(const struct sim_store *s, const char *address, size_t n);

/* Delivers a message into a folder (INBOX for mail arriving by SMTP), with
 * flags (enum sim_flag), and records it with note. *uid (may be NULL) gets
 * its UID. Returns SIM_STORE_OK, SIM_STORE_NO_ACCOUNT, SIM_STORE_NO_FOLDER,
 * SIM_STORE_FULL or SIM_STORE_NO_MEMORY. */
enum sim_store_result sim_store_deliver(struct sim_store *s, const char *address,
                                        const char *folder, const char *bytes, size_t n,
                                        unsigned flags, uint32_t *uid, const char *note);

/* Inspection for views and tests: messages in a folder, and the i-th (in
 * UID order; borrowed until the next change). */
size_t sim_store_count(const struct sim_store *s, const char *address, const char *folder);
const struct sim_stored_msg *sim_store_msg(const struct sim_store *s, const char *address,
                                           const char *folder, size_t i);
/* Octets stored for the account, over all folders. */
size_t sim_store_usage(const struct sim_store *s, const char *address);

/* The interfaces the protocol servers use. Both stay valid as long as s. */
struct imap_mailbox sim_store_imap(struct sim_store *s);
struct pop3_maildrop sim_store_pop3(struct sim_store *s);

/* ---- additions (store owner): limits, change listeners, the clock ----- */

#define SIM_STORE_ACCOUNTS_MAX 256 /* accounts per store: a lesson has a handful */
#define SIM_STORE_FOLDERS_MAX 64   /* folders per account: IMAP_SERVER_MAX_FOLDERS,
                                      so LIST always shows every one */
#define SIM_STORE_MSGS_MAX 4096    /* messages per folder: what one IMAP session
                                      (IMAP_SERVER_MAX_MSGS) and one POP3 session
                                      (POP3_SERVER_MAX_MESSAGES) can number */
#define SIM_STORE_MSG_SIZE_MAX (10u * 1024u * 1024u) /* octets per message: the
                                      IMAP APPEND limit, IMAP_DEFAULT_MAX_LITERAL */
#define SIM_STORE_WATCHERS_MAX 32  /* change listeners: one per IMAP server */
#define SIM_STORE_TEXT_MAX 256     /* Subject and From kept for the trace, NUL
                                      included (longer ones are cut) */

/* Called after every change to a folder's messages (added, flags changed,
 * removed), once the store is consistent again: address is the account,
 * folder the folder's name (both borrowed for the call). An IMAP server
 * uses it to push changes to sessions in IDLE (RFC 2177). The listener may
 * read the store and call claim_recent(), but must not change it. */
typedef void (*sim_store_watch_fn)(void *ctx, const char *address, const char *folder);

/* Adds a listener. Returns 0, or -1 when SIM_STORE_WATCHERS_MAX are set. */
int sim_store_watch(struct sim_store *s, sim_store_watch_fn fn, void *ctx);
/* Removes the listener added with the same fn and ctx (nothing if none). */
void sim_store_unwatch(struct sim_store *s, sim_store_watch_fn fn, void *ctx);

/* The simulated wall time now, seconds since 1970: epoch + engine->now
 * (what internal dates are; the IMAP server's clock for APPEND). */
int64_t sim_store_clock(const struct sim_store *s);

/* Changes address's quota during a run (octets; 0: unlimited, as in
 * sim_store_add_account). Mail already stored stays, even over the new
 * quota. Returns SIM_STORE_OK or SIM_STORE_NO_ACCOUNT. */
enum sim_store_result sim_store_set_quota(struct sim_store *s, const char *address, size_t quota);
/* A lesson's "the mailbox is full": the quota becomes what is stored now
 * (an empty mailbox then takes nothing at all), so the next message is
 * refused with SIM_STORE_FULL (the MTA answers 452 4.2.2). Returns
 * SIM_STORE_OK or SIM_STORE_NO_ACCOUNT. */
enum sim_store_result sim_store_make_full(struct sim_store *s, const char *address);
/* address's quota in octets; SIZE_MAX when unlimited or no such account. */
size_t sim_store_quota(const struct sim_store *s, const char *address);

/* The engine the store records into (the servers record their lines and
 * state changes into the same trace). */
struct sim_engine *sim_store_engine(const struct sim_store *s);

/* The zone internal dates are shown in, minutes east of UTC (default 0).
 * Applies to messages stored afterwards. */
void sim_store_set_zone(struct sim_store *s, int zone_minutes);
int sim_store_zone(const struct sim_store *s);

#endif
