/* A small in-memory implementation of protocols/imap_mailbox.h for the IMAP
 * tests. Test code: the real, shared store lives in sim/. Bounded by the
 * MEMSTORE_* maxima below; going over them returns IMAP_MBX_FULL. */
#ifndef MAILSIM_TESTS_IMAP_MEMSTORE_H
#define MAILSIM_TESTS_IMAP_MEMSTORE_H

#include "protocols/imap_mailbox.h"

#define MEMSTORE_MAX_USERS   4
#define MEMSTORE_MAX_FOLDERS 16   /* per user */
#define MEMSTORE_MAX_MSGS    300  /* per folder: the RFC 3501 6.3.1 example has 172; a
                                     device test needs more than its 256-message view */

struct memstore;

/* A new empty store, or NULL when out of memory. */
struct memstore *memstore_new(void);
void memstore_free(struct memstore *ms);

/* The interface a session uses; ctx is ms. */
struct imap_mailbox memstore_mailbox(struct memstore *ms);

/* Adds an account with its INBOX (UIDVALIDITY 1, UIDNEXT 1). 0 or -1. */
int memstore_add_user(struct memstore *ms, const char *user, const char *pass);

/* Sets a folder's UIDVALIDITY and UIDNEXT (to replay a sample). 0 or -1. */
int memstore_set_uids(struct memstore *ms, const char *user, const char *folder,
                      uint32_t uidvalidity, uint32_t uidnext);

/* Adds a message with the given UID (0: the folder's UIDNEXT) and flags;
 * recent says whether it is still unclaimed \Recent. Returns the UID, or 0. */
uint32_t memstore_add(struct memstore *ms, const char *user, const char *folder,
                      uint32_t uid, unsigned flags, int64_t date, int zone,
                      const char *data, size_t len, bool recent);

/* Overrides the RFC822.SIZE a message reports (the RFC 3501 section 8 sample
 * reports 4286 for a message whose shown parts add up to less). 0 or -1. */
int memstore_set_size(struct memstore *ms, const char *user, const char *folder,
                      uint32_t uid, uint32_t size);

/* The message's flags, or -1 when it does not exist. */
int memstore_flags(struct memstore *ms, const char *user, const char *folder, uint32_t uid);

/* Messages in the folder, or -1 when it does not exist. */
int memstore_count(struct memstore *ms, const char *user, const char *folder);

#endif
