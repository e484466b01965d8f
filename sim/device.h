/* A recipient's device on a simulated host (a phone, a laptop, a web mail
 * client) with an account on a mail server, speaking IMAP (port 993, or 143
 * with STARTTLS) or POP3 (port 995, or 110 with STLS).
 *
 * Its local copy (per folder: UIDs or POP3 unique-ids, flags, subject, from,
 * size; bounded) persists between connections. Every change to it is
 * recorded as a SIM_TR_MAIL event with owner = the device's host, so the
 * views can show "what the phone has" at any step. The device decides what
 * to do only from what it saw on its own connections: it never looks into
 * the server's store.
 *
 * The protocol work is the codecs': IMAP sync (UIDVALIDITY check, new
 * messages by UID, flag changes both ways, vanished messages, EXPUNGE, IDLE)
 * is the imap_client machine; commands that machine does not send (APPEND,
 * COPY, and the STORE/EXPUNGE that follow a COPY) are formatted with
 * imap_cmd_format() and their responses read with the imap_resp_reader; a
 * POP3 check is the pop3_client machine. Each machine is hosted on a sim
 * connection: every line sent is one sim_conn_send() with a note, every
 * state change a SIM_TR_STATE event ("select -> fetch-new").
 *
 * Actions are queued and run one at a time, each on its own connection,
 * except that an IMAP device idling on its folder (config.idle) carries
 * read/flag/delete of that folder's messages on the idle connection (DONE,
 * UID STORE, [EXPUNGE], IDLE again), and fetches new mail as soon as the
 * server pushes EXISTS (RFC 2177).
 *
 * Every action records a SIM_TR_ACTION event when it begins ("check mail",
 * "read INBOX 3", "move INBOX 1 to Archive", "upload to Drafts", "stop"),
 * and refused or failed work (connection refused, login
 * rejected, a command answered NO) is recorded as SIM_TR_ACTION too, with
 * the reason; the device then goes on with its next action.
 *
 * Ownership: the device registers events with the engine that point at it;
 * free it only after the last sim_engine_run(). */
#ifndef MAILSIM_SIM_DEVICE_H
#define MAILSIM_SIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"
#include "sim/net.h"

/* Folders a device keeps a local view of (INBOX, Sent, Drafts, and a few
 * the user moved mail to). */
#define SIM_DEVICE_FOLDERS_MAX 8
/* Messages kept per local folder. Past it the oldest entry is dropped from
 * the local view (a SIM_MAIL_REMOVED event says so), as a phone keeping
 * only recent headers would; the server copy is untouched. */
#define SIM_DEVICE_MSGS_MAX 256
/* Subject and From kept per message, for the views (longer ones are cut
 * at a UTF-8 character boundary). */
#define SIM_DEVICE_TEXT_MAX 128
/* Actions waiting behind the running one. */
#define SIM_DEVICE_ACTIONS_MAX 32
/* A message the device uploads (APPEND of a draft or a Sent copy). */
#define SIM_DEVICE_UPLOAD_MAX 65536
/* POP3 unique-ids remembered for leave-on-server (RFC 1939 7: each 1-70
 * octets). */
#define SIM_DEVICE_UIDLS_MAX 1024

/* Pass as `at` to act at the current simulated time. */
#define SIM_DEVICE_NOW UINT64_MAX

enum sim_device_proto {
    SIM_DEVICE_IMAP,
    SIM_DEVICE_POP3,
    SIM_DEVICE_PROTO_COUNT
};
/* "imap", "pop3": the names scenario files use. */
extern const char *const sim_device_proto_names[SIM_DEVICE_PROTO_COUNT];

struct sim_device_config {
    enum sim_device_proto proto;
    const char *account;       /* the login, "friend@example.org" */
    const char *password;
    const char *server_ip;     /* the IMAP or POP3 server's address */
    unsigned    port;          /* IMAP: 993 or 143; POP3: 995 or 110. 143 and
                                  110 upgrade with STARTTLS/STLS first
                                  (RFC 3501 6.2.1, RFC 2595 4); any other
                                  port is taken as implicit TLS */
    bool        leave_on_server; /* POP3: leave a copy (UIDL, RFC 1939 7);
                                    default: download and delete */
    bool        idle;          /* IMAP: after each sync stay in IDLE (RFC 2177) */
    sim_time    check_every;   /* periodic checks every N simulated
                                  microseconds from the first check; 0: none */
    int64_t     epoch;         /* simulated wall time at t=0 (draft Date:) */
    int         zone_min;      /* the draft Date: field's zone */
    bool        upload_only;   /* keep no local view: sim_mua files its Sent
                                  copy through a device and records the
                                  message in its own local "Sent" itself */
};

/* One message in the device's local copy. */
struct sim_device_msg {
    uint32_t uid;     /* IMAP: the server's UID in that folder (0 when the
                         server did not say, e.g. an APPEND without
                         APPENDUID); POP3: the device's own number, from 1 */
    char     uidl[71];/* POP3: the server's unique-id; "" for IMAP */
    unsigned flags;   /* enum sim_flag bits */
    size_t   size;    /* octets */
    char     subject[SIM_DEVICE_TEXT_MAX];
    char     from[SIM_DEVICE_TEXT_MAX];
};

/* Counters for tests and the compare feature. */
struct sim_device_stats {
    unsigned connections;  /* connections opened (attempts) */
    unsigned checks;       /* check-mail actions finished */
    unsigned downloaded;   /* messages fetched or retrieved */
    unsigned failures;     /* actions that failed (refused, NO, -ERR) */
};

struct sim_device;

/* A device on host (borrowed, like e and net: they must outlive it). cfg's
 * strings are copied. NULL when out of memory or cfg is unusable (no
 * account, password or server_ip, a zero port, idle on POP3). */
struct sim_device *sim_device_new(struct sim_engine *e, struct sim_net *net,
                                  struct sim_host *host, const struct sim_device_config *cfg);
void sim_device_free(struct sim_device *d);

/* The actions. Each is queued at absolute simulated time `at`
 * (SIM_DEVICE_NOW, or a time already past: now) and runs when the device
 * is free. Folder names are copied. Each returns the action's number (>= 0,
 * counting from 0 in the order queued, as the done callback reports it), or -1 when
 * SIM_DEVICE_ACTIONS_MAX actions are waiting, a name is too long, or the
 * action makes no sense for the protocol (move and append on POP3, which
 * has only one folder on the server: RFC 1939 1). */

/* Check mail. IMAP: the imap_client sync of INBOX (then IDLE when
 * config.idle). POP3: one pass of the pop3_client: download and delete, or
 * with leave_on_server download only unique-ids not seen before. With
 * config.check_every, the first check also starts the periodic checks. */
int sim_device_check(struct sim_device *d, sim_time at);

/* The user opens message uid of folder: \Seen locally and, on IMAP, on the
 * server (UID STORE +FLAGS at the next sync or on the idle connection).
 * POP3 keeps it local: the server has no flags (RFC 1939). */
int sim_device_read(struct sim_device *d, const char *folder, uint32_t uid, sim_time at);

/* Sets or clears \Flagged, like read. */
int sim_device_flag(struct sim_device *d, const char *folder, uint32_t uid, bool on,
                    sim_time at);

/* Deletes message uid. IMAP: \Deleted, then EXPUNGE (RFC 3501 6.4.3).
 * POP3: local only; a copy left on the server survives there. */
int sim_device_delete(struct sim_device *d, const char *folder, uint32_t uid, sim_time at);

/* Moves message uid to dest (IMAP only): UID COPY, UID STORE +FLAGS
 * (\Deleted), EXPUNGE on one connection (RFC 3501 6.4.7; MOVE, RFC 6851,
 * is not in the codec). The local copy follows, with the new UID when the
 * server gave COPYUID (RFC 4315). When the server answers NO [TRYCREATE]
 * (no such folder), the device sends CREATE and tries once more, as mail
 * programs do (RFC 3501 6.4.7, 7.1); APPEND below does the same. */
int sim_device_move(struct sim_device *d, const char *folder, uint32_t uid, const char *dest,
                    sim_time at);

/* Stores bytes[0..len) in folder with flags (enum sim_flag, \Recent not
 * allowed) by IMAP APPEND (RFC 3501 6.3.11), and adds it to the local view
 * of folder. IMAP only; len at most SIM_DEVICE_UPLOAD_MAX. The bytes are
 * copied. */
int sim_device_append(struct sim_device *d, const char *folder, const char *bytes, size_t len,
                      unsigned flags, sim_time at);

/* Composes a draft (From: the account, To: to or none, Subject, Date from
 * the simulated clock) with msg_build_simple() and APPENDs it to "Drafts"
 * with \Draft (and \Seen). IMAP only. */
int sim_device_save_draft(struct sim_device *d, const char *to, const char *subject,
                          const char *body, sim_time at);

/* Called when an action has finished: ok false when it failed (refused
 * connection, rejected login, NO/BAD/-ERR to a step it needed). A periodic
 * check reports the number -1. The callback may queue actions. */
typedef void (*sim_device_done_fn)(void *ctx, struct sim_device *d, int action, bool ok);
void sim_device_on_done(struct sim_device *d, sim_device_done_fn fn, void *ctx);

/* Stops periodic checks and leaves IDLE (DONE, LOGOUT) at time `at`.
 * Periodic checks (config.check_every) keep an event in the engine's queue
 * until then: run the engine with a time limit, or stop them. */
int sim_device_stop(struct sim_device *d, sim_time at);

/* The user changes message uid's flags (enum sim_flag: set, then clear;
 * \Recent not allowed) without the device connecting, as a mail program
 * does offline: the local view changes now, and on IMAP the next sync of
 * INBOX (a check) stores the flags on the server, expunging a \Deleted
 * message (RFC 3501 6.4.6, 6.4.3). Many changes cost one connection, where
 * the read/flag/delete actions cost one each. POP3: local only, and
 * \Deleted removes the local copy. Returns 0, or -1 when uid is not in the
 * local view of folder, or folder is not INBOX on IMAP. */
int sim_device_mark(struct sim_device *d, const char *folder, uint32_t uid, unsigned set,
                    unsigned clear);

/* ---- inspection (views and tests) ---------------------------------------- */

/* Messages in the local view of folder (0 for an unknown folder). */
size_t sim_device_count(const struct sim_device *d, const char *folder);
/* The i-th (in the order they arrived locally), borrowed until the next
 * engine event; NULL past the end. */
const struct sim_device_msg *sim_device_msg(const struct sim_device *d, const char *folder,
                                            size_t i);
/* The entry with that uid, or NULL. */
const struct sim_device_msg *sim_device_find(const struct sim_device *d, const char *folder,
                                             uint32_t uid);
/* True while an action runs or an IDLE connection is open. */
bool sim_device_busy(const struct sim_device *d);
/* True while an IDLE connection is open. */
bool sim_device_idling(const struct sim_device *d);
void sim_device_stats(const struct sim_device *d, struct sim_device_stats *st);

#endif
