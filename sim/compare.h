/* IMAP sync against POP3 download, with evidence: the same stream of mail
 * arrives at two identical mailboxes; the same devices, with the same
 * habits, read one by IMAP and the other by POP3, over simulated days. The
 * measures are sampled over time into a series for each side, and the run
 * ends with two answers: which devices saw every message, and what the
 * server stores.
 *
 * Each side is a world of its own (its own engine, network and trace): one
 * mail server host (mail.example.org) with its store and an IMAP server on
 * 993 or a POP3 server on 995 (sim/imapd.h, sim/pop3d.h), and the devices
 * (sim/device.h) on their own hosts. Every byte between a device and the
 * server is the codecs', over the simulated network.
 *
 * The stream. Messages arrive at random times of each day (one seeded
 * RNG, shared by both sides so they get the same times), each a real RFC
 * 5322 message (msg_build_simple) with a Subject that starts "#N " for
 * the N-th message. They are delivered straight into the store's INBOX
 * (sim_store_deliver), not by SMTP: the comparison is about the fetching
 * side, and a year of relaying would cost more than the rest together.
 *
 * The usage, identical on both sides. Device i checks mail every
 * interval_i (the phone every 30 minutes, the laptop every hour, the
 * desktop every 3 hours, ...; see sim_compare_device_name). Morning and
 * evening (08:00, 20:00) the user tidies up on the first device (usually
 * the phone): each message it holds that arrived at least 8 hours earlier
 * (so every device has checked since) is read, and then deleted, filed
 * into a folder (Work, Family, Receipts, Travel) or kept; a kept message
 * is flagged now and then, and deleted once it is three days old. The fate of a message is a
 * function of the seed and its number only, so both sides decide alike.
 * Reading, flagging and deleting are done offline (sim_device_mark: the
 * next check stores them; IMAP expunges); filing is an IMAP move (UID
 * COPY, STORE \Deleted, EXPUNGE on a connection of its own). POP3 has no
 * folders on the server (RFC 1939 1): there, a message to be filed just
 * stays on the phone.
 *
 * Determinism: no wall clock; the same parameters give the same numbers
 * and the same traces, byte for byte. */
#ifndef MAILSIM_SIM_COMPARE_H
#define MAILSIM_SIM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"

/* ---- limits: they keep a mistyped command line from eating the machine ---- */
#define SIM_COMPARE_DEVICES_MAX 8     /* the device profiles there are */
#define SIM_COMPARE_DAYS_MAX 3650     /* ten simulated years */
#define SIM_COMPARE_PER_DAY_MAX 1000
#define SIM_COMPARE_MSGS_MAX 100000u  /* days x per_day: the per-message tables
                                         (with leave_on_server: SIM_DEVICE_UIDLS_MAX) */
#define SIM_COMPARE_SAMPLES_MAX 400   /* points of each series (plus the start) */
#define SIM_COMPARE_FOLDERS 8         /* server folders reported (INBOX, the
                                         four filing folders, Sent, Drafts, Trash) */

enum sim_compare_side { SIM_CMP_IMAP, SIM_CMP_POP3, SIM_CMP_SIDE_COUNT };
extern const char *const sim_compare_side_names[SIM_CMP_SIDE_COUNT]; /* "IMAP", "POP3" */

/* The quick-pick rules, each a preset of the parameters whose numbers show
 * why (sim_compare_rule_params). */
enum sim_compare_rule {
    SIM_CMP_RULE_MANY_DEVICES,   /* more than one device: IMAP */
    SIM_CMP_RULE_FOLDERS_SEARCH, /* server-side folders and search: IMAP */
    SIM_CMP_RULE_ONE_PC,         /* one machine and a tiny server: POP3 */
    SIM_CMP_RULE_COUNT
};
/* "many-devices", "folders-search", "one-pc": the names the command takes. */
extern const char *const sim_compare_rule_names[SIM_CMP_RULE_COUNT];
/* One sentence each: the rule as a teacher states it. */
extern const char *const sim_compare_rule_texts[SIM_CMP_RULE_COUNT];

struct sim_compare_params {
    unsigned devices;      /* 1..SIM_COMPARE_DEVICES_MAX */
    unsigned days;         /* 1..SIM_COMPARE_DAYS_MAX */
    unsigned per_day;      /* messages arriving a day, 1..SIM_COMPARE_PER_DAY_MAX */
    bool     leave_on_server; /* POP3 devices leave a copy (UIDL, RFC 1939 7) */
    uint64_t seed;
    unsigned delete_pct;   /* of tidied messages: deleted (0..100) */
    unsigned file_pct;     /* filed into a folder; the rest is kept three days */
    unsigned first_device; /* the profile device 0 takes (0: the phone; the
                              devices follow in order, wrapping round): the
                              one-pc rule starts at the desktop */
    bool     keep_trace;   /* keep every event of both runs (for the split
                              view; a long run is millions of lines), or
                              only count them */
};

/* 3 devices, 7 days, 40 a day, download-and-delete, seed 1, 50% deleted,
 * 35% filed, no trace kept. */
void sim_compare_defaults(struct sim_compare_params *p);

/* Sets p to rule's preset. Returns 0, or -1 for an unknown rule. */
int sim_compare_rule_params(enum sim_compare_rule rule, struct sim_compare_params *p);

/* The rule named name, or -1. */
int sim_compare_rule_find(const char *name);

/* NULL when p is usable, else what is wrong, in a sentence (static). */
const char *sim_compare_check(const struct sim_compare_params *p);

/* The measures of one side at one time. */
struct sim_compare_measures {
    sim_time t;                   /* simulated time since the start */
    size_t   delivered;           /* messages stored in the server's INBOX so far */
    size_t   refused;             /* messages the store refused (a full folder) */
    size_t   server_msgs;         /* messages on the server now, every folder */
    size_t   server_bytes;        /* octets the server stores now */
    size_t   device_msgs[SIM_COMPARE_DEVICES_MAX]; /* messages each device holds */
    size_t   seen[SIM_COMPARE_DEVICES_MAX];  /* delivered messages it has had */
    uint64_t bytes;               /* octets on the wire so far, both ways */
    size_t   connections;         /* connections opened so far */
};

struct sim_compare;

/* Runs both sides. Returns the result, or NULL with the reason in
 * err[0..cap) (bad parameters, out of memory, an engine that ran out of
 * room). */
struct sim_compare *sim_compare_run(const struct sim_compare_params *p, char *err, size_t cap);
void sim_compare_free(struct sim_compare *c);

/* ---- the results (borrowed until sim_compare_free) ---------------------- */

const struct sim_compare_params *sim_compare_params(const struct sim_compare *c);

/* Device i's name ("phone", "laptop", ...), its check interval, NULL/0 past
 * the last. The same on both sides. */
const char *sim_compare_device_name(const struct sim_compare *c, size_t i);
sim_time sim_compare_device_interval(const struct sim_compare *c, size_t i);

/* The measures at the end of the run. */
const struct sim_compare_measures *sim_compare_final(const struct sim_compare *c,
                                                      enum sim_compare_side side);

/* The series: sample k of *n (k = 0 is the start, the last is the end). */
const struct sim_compare_measures *sim_compare_samples(const struct sim_compare *c,
                                                        enum sim_compare_side side, size_t *n);

/* Server folder i's name and message count at the end; NULL past the last. */
const char *sim_compare_folder(const struct sim_compare *c, enum sim_compare_side side,
                               size_t i, size_t *count);

/* Messages in the stream (days x per_day), delivered or refused; message k
 * (from 0, in order of arrival) is the one whose Subject starts "#k ". */
size_t sim_compare_messages(const struct sim_compare *c);
/* Whether message k was stored (false when the store refused it). */
bool sim_compare_delivered(const struct sim_compare *c, enum sim_compare_side side, size_t k);
/* Which devices have had message k: bit i for device i (0 past the end). */
unsigned sim_compare_seen_by(const struct sim_compare *c, enum sim_compare_side side, size_t k);

/* Whether device i saw every delivered message. */
bool sim_compare_saw_all(const struct sim_compare *c, enum sim_compare_side side, size_t i);

/* Counts of the phone's tidying: deleted, filed into a server folder,
 * kept (on POP3 also what was to be filed: it stays on the phone), and
 * delivered messages the phone never had to tidy (POP3: another device
 * downloaded them first). Any pointer may be NULL. */
void sim_compare_fates(const struct sim_compare *c, enum sim_compare_side side, size_t *deleted,
                       size_t *filed, size_t *kept, size_t *not_on_phone);

/* The side's trace: every event when keep_trace, else empty (its events
 * were only counted: sim_trace_total). */
const struct sim_trace *sim_compare_trace(const struct sim_compare *c, enum sim_compare_side side);

#endif
