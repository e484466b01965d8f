/* Maildir persistence for the mail store (sim/store.h), for `mailsim serve
 * --maildir DIR`: every mailbox lives on disk in the format qmail defined
 * and mutt, Dovecot and Postfix read (https://cr.yp.to/proto/maildir.html),
 * with Maildir++ subfolders (Courier, Dovecot's "maildir" layout):
 *
 *   DIR/ADDRESS/{tmp,new,cur}            INBOX
 *   DIR/ADDRESS/.Sent/{tmp,new,cur}      the folder "Sent"; "a/b" is ".a.b"
 *
 * Writing: a message is written and fsync'ed in tmp/ under a unique name,
 * then linked into new/ (no flags) or cur/ with its flags in the name
 * ("NAME:2,FRS": info 2, the letters in ASCII order: D draft, F flagged,
 * R replied = \Answered, S seen, T trashed = \Deleted), and the tmp/ name is
 * removed: a reader never sees half a message, and a crash leaves at most a
 * stray file in tmp/. A flag change is a rename into cur/; an expunge or a
 * POP3 deletion unlinks the file; IMAP DELETE removes the folder's files
 * and directories (RENAME is a delete plus the same messages written anew).
 *
 * Loading: attaching an account reads its maildir into the store (new/ then
 * cur/, each in name order, so the oldest come first; flags from the names,
 * unknown letters ignored), creating folders as needed; then the store's
 * watcher (sim_store_watch) keeps the disk in step with every change, so
 * nothing a server accepted is lost when the program stops, and a restart
 * picks the mailboxes up again. Files that are not messages (dot files,
 * Dovecot's index files) are left alone.
 *
 * Limits: a message larger than SIM_STORE_MSG_SIZE_MAX, or past the store's
 * SIM_STORE_MSGS_MAX per folder, is left on disk and not loaded (counted
 * as skipped). A message file with LF line ends (mutt writes those) is
 * loaded with CRLF, as the store and RFC 5322 want. */
#ifndef MAILSIM_SIM_MAILDIR_H
#define MAILSIM_SIM_MAILDIR_H

#include <stddef.h>

#include "sim/store.h"

#define SIM_MAILDIR_ACCOUNTS_MAX 256 /* = SIM_STORE_ACCOUNTS_MAX */
#define SIM_MAILDIR_PATH_MAX 4096

struct sim_maildir;

/* A maildir tree rooted at dir (created when missing). Returns NULL with
 * the reason in err[0..cap). */
struct sim_maildir *sim_maildir_new(const char *dir, char *err, size_t cap);

/* Loads address's maildir (creating an empty one when missing) into store,
 * which must hold the account, and keeps it in step from now on. *loaded
 * and *skipped (may be NULL) get the messages loaded and left out. Returns
 * 0, or -1 with the reason in err. */
int sim_maildir_attach(struct sim_maildir *md, struct sim_store *store, const char *address,
                       size_t *loaded, size_t *skipped, char *err, size_t cap);

/* Write failures since the start (a full disk): each is also reported on
 * stderr once. */
size_t sim_maildir_errors(const struct sim_maildir *md);

/* Stops watching the stores (call before freeing them) and frees md. What
 * is on disk stays. NULL is fine. */
void sim_maildir_free(struct sim_maildir *md);

#endif
