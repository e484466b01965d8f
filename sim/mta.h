/* The MTA of a simulated mail server host: it takes mail by SMTP (relay/MX
 * on port 25, submission on 587 with STARTTLS and AUTH, submissions on 465
 * with implicit TLS), keeps it in a queue, delivers it into the host's mail
 * store or relays it to the next hop found through DNS MX records, retries
 * with back-off, and bounces what cannot be delivered with an RFC 3464
 * delivery status notification.
 *
 * Every byte it sends or reads is made and parsed by the codecs: one
 * protocols/smtp_server.h machine per inbound connection, one
 * protocols/smtp_client.h machine per outbound attempt, protocols/msg.h for
 * Received: and Return-Path:, protocols/dsn.h for bounces. Each line goes
 * out with its own note (smtp_reply_explain, smtp_command_explain), each
 * session state change is a SIM_TR_STATE event, and every queue change
 * (queued, delivering, deferred, delivered, bounced, dropped, expired) is a
 * SIM_TR_QUEUE event with a note for students. A remote delivery's own
 * steps (resolve-mx -> connect -> smtp-session -> done) are SIM_TR_STATE
 * events with proto SIM_PROTO_QUEUE, the message id and domain in the note.
 *
 * Receiving (decisions answered from what the MTA knows):
 *   RCPT to a local domain: 250 when the account exists, 550 5.1.1 when it
 *     does not, 452 4.2.2 when the mailbox is over quota; with greylisting
 *     on (port 25 only) 451 4.7.1 to the first try of an unknown (client
 *     IP, sender, recipient) triplet and 250 to a retry after the delay.
 *   RCPT to another domain: 250 when the client authenticated (it is our
 *     user: we relay for it) or when we are a backup MX for the domain,
 *     otherwise 554 5.7.1 "Relay access denied".
 *   AUTH against the store's accounts: 535 5.7.8 on a wrong password; on
 *     587 AUTH only after STARTTLS (530 5.7.0), RFC 6409, RFC 8314.
 *   End of DATA: a Received: field is prepended (RFC 5321 4.4, with
 *     ESMTP/ESMTPS/ESMTPA/ESMTPSA per RFC 3848) and the message is queued
 *     before the 250 leaves (RFC 5321 6.1: the 250 takes responsibility).
 *
 * Delivering: local recipients into INBOX with Return-Path: prepended
 * (RFC 5321 4.4); a store that refuses (over quota) gives a bounce. Remote
 * recipients, grouped by domain: MX resolution through the configured
 * resolver (sim_dns_resolve_mx), then the MX hosts in order on port 25; a
 * refused or timed-out connection, or a session that fails before any
 * recipient was answered (a 421/4xx greeting), moves on to the next MX
 * (RFC 5321 5.1). STARTTLS is used when offered (opportunistic, RFC 7435).
 * Per recipient: 2xx delivered, 4xx deferred, 5xx bounced. DNS: null MX
 * bounces with 5.1.10 (RFC 7505), NXDOMAIN or no address with 5.1.2, a
 * temporary failure defers. A recipient still deferred at max_age bounces
 * with 4.4.7 (delivery time expired).
 *
 * Bounces are DSNs from MAILER-DAEMON@<hostname> with the null reverse-path
 * <> to the original sender, queued and delivered like any other message.
 * A message whose reverse-path is null is never bounced (RFC 5321 4.5.5,
 * 6.1: no bounce loops): its failed recipients are dropped, with a QUEUE
 * event saying so.
 *
 * Conservation, per recipient (struct sim_mta_counters):
 *   accepted + generated == delivered + bounced + dropped + queued
 * at every moment between engine events.
 *
 * Ownership: the MTA registers listeners, client callbacks, DNS callbacks
 * and timers that point at it. Free it only when the engine will not run
 * again (after the last sim_engine_run()); sim_mta_free() touches neither
 * the network, the DNS service nor the engine, so it may come before or
 * after sim_net_free() and sim_dns_free(). */
#ifndef MAILSIM_SIM_MTA_H
#define MAILSIM_SIM_MTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/dns_service.h"
#include "sim/engine.h"
#include "sim/net.h"
#include "sim/store.h"

/* ---- limits and defaults ------------------------------------------------ */

#define SIM_MTA_PORT_SMTP 25         /* RFC 5321 relay / MX */
#define SIM_MTA_PORT_SUBMISSION 587  /* RFC 6409 message submission */
#define SIM_MTA_PORT_SUBMISSIONS 465 /* RFC 8314 3.3 submission over implicit TLS */

#define SIM_MTA_DOMAINS_MAX 8     /* local domains per MTA: a lesson has one or two */
#define SIM_MTA_QUEUE_MAX 256     /* messages in the queue; past it, end of DATA gets 452 4.3.1 */
#define SIM_MTA_RCPTS_MAX 100     /* recipients per message: RFC 5321 4.5.3.1.8's minimum */
#define SIM_MTA_SESSIONS_MAX 64   /* inbound connections at once; more are closed at accept */
#define SIM_MTA_GREYLIST_MAX 1024 /* remembered triplets; the oldest is forgotten first */
#define SIM_MTA_ID_MAX 16         /* a queue id: 10 upper-case hex digits and a NUL */
#define SIM_MTA_HOSTNAME_MAX 255  /* RFC 5321 4.5.3.1.2 */
#define SIM_MTA_TEXT_MAX 512      /* a reason kept for a recipient: one reply line (RFC 5321 4.5.3.1.5) */

/* Defaults for the config fields left 0. Real MTAs wait minutes to days
 * (Postfix: first retry after 300 s, doubling to 4000 s, bounce after
 * 5 days; Postgrey: 300 s greylisting); lessons compress them so a
 * classroom sees a retry and an expiry within minutes of simulated time. */
#define SIM_MTA_DEFAULT_RETRY_FIRST SIM_SEC(60)        /* first retry 60 s after a deferral */
#define SIM_MTA_DEFAULT_RETRY_MAX_INTERVAL SIM_SEC(960) /* doubling stops at 16 min */
#define SIM_MTA_DEFAULT_MAX_AGE SIM_SEC(3600)          /* bounce what is still queued after 1 h */
#define SIM_MTA_DEFAULT_GREYLIST_DELAY SIM_SEC(30)     /* shorter than the first retry */

/* ---- configuration --------------------------------------------------------- */

struct sim_mta_config {
    const char *hostname;            /* "mail.example.com": greeting, EHLO, Received:, DSNs */
    const char *const *domains;      /* local domains ("example.com"), delivered into store */
    size_t ndomains;                 /* 0..SIM_MTA_DOMAINS_MAX */
    const char *const *backup_domains; /* domains it is a backup MX for (a higher
                                        preference number than the primary's): it
                                        takes their mail on port 25 and relays it on
                                        to a better MX, holding it in the queue while
                                        none answers (RFC 5321 5.1) */
    size_t nbackup;                  /* 0..SIM_MTA_DOMAINS_MAX */
    struct sim_store *store;         /* borrowed; holds the accounts of the local domains */
    const char *resolver_ip;         /* the recursive resolver asked for MX records */
    bool listen_smtp;                /* port 25: relay/MX, no AUTH needed for local mail */
    bool listen_submission;          /* port 587: STARTTLS offered, AUTH required after TLS */
    bool listen_submissions;         /* port 465: implicit TLS, AUTH required */
    unsigned long max_size;          /* octets, SIZE (RFC 1870); 0: SMTP_SERVER_DEFAULT_MAX_SIZE */
    bool greylisting;                /* greylist unknown triplets on port 25 */
    sim_time greylist_delay;         /* 0: SIM_MTA_DEFAULT_GREYLIST_DELAY */
    sim_time retry_first;            /* 0: SIM_MTA_DEFAULT_RETRY_FIRST; then doubling */
    sim_time retry_max_interval;     /* 0: SIM_MTA_DEFAULT_RETRY_MAX_INTERVAL */
    sim_time max_age;                /* 0: SIM_MTA_DEFAULT_MAX_AGE */
    int64_t epoch;                   /* simulated wall time at t = 0, seconds since 1970
                                        (Received:, Arrival-Date:, Date: of DSNs) */
    int zone_min;                    /* the host's zone offset, minutes east of UTC */
};

struct sim_mta;

/* An MTA on host (a mail server) of net, asking dns (the resolver at
 * cfg->resolver_ip) for MX records. engine, net, dns, host and cfg->store
 * are borrowed and must outlive it; cfg's strings are copied. Starts the
 * listeners the config asks for. Returns NULL when the config is unusable
 * (no hostname or an overlong one, more than SIM_MTA_DOMAINS_MAX domains, a
 * domain without a store, a port already taken) or memory ran out. */
struct sim_mta *sim_mta_new(struct sim_engine *engine, struct sim_net *net, struct sim_dns *dns,
                            struct sim_host *host, const struct sim_mta_config *cfg);

/* Frees the MTA, its queue and sessions, without calling any callback; see
 * "Ownership" above. NULL is allowed. */
void sim_mta_free(struct sim_mta *m);

/* Whether the MTA is a backup MX for domain (one of cfg->backup_domains). */
bool sim_mta_is_backup(const struct sim_mta *m, const char *domain);

/* Whether domain (any case, with or without a final dot) is one of ours. */
bool sim_mta_is_local(const struct sim_mta *m, const char *domain);

/* Queues a message handed over locally rather than by SMTP (a lesson's
 * timeline or a webmail host on the same machine; sendmail's pickup): the
 * same queue, the same Received:-less path onwards. sender "" is the null
 * reverse-path. bytes (RFC 5322, CRLF line ends) are copied. Delivery starts
 * in an engine event at the current time. Writes the queue id into id
 * (SIM_MTA_ID_MAX, may be NULL). Returns 0, or -1 when the queue is full,
 * nrcpts is 0 or over SIM_MTA_RCPTS_MAX, an address is over SIM_ADDRESS_MAX,
 * or memory ran out. */
int sim_mta_submit(struct sim_mta *m, const char *sender, const char *const *rcpts,
                   size_t nrcpts, const char *bytes, size_t len, char *id);

/* ---- inspection ------------------------------------------------------------ */

/* Per recipient; see the conservation rule at the top. */
struct sim_mta_counters {
    size_t accepted;  /* recipients of messages taken with 250 after DATA, or submitted */
    size_t generated; /* recipients of bounces this MTA made (one each) */
    size_t delivered; /* into a local mailbox, or taken by the next hop with 2xx */
    size_t bounced;   /* failed and reported in a DSN to the sender */
    size_t dropped;   /* failed with a null reverse-path: no DSN (RFC 5321 4.5.5) */
    size_t queued;    /* still in the queue: waiting for a retry or being tried now */
    size_t messages;  /* messages taken (after DATA or submitted), bounces not counted */
    size_t dsns;      /* DSN messages made */
    size_t attempts;  /* outbound SMTP sessions: connections to an MX that opened */
};

void sim_mta_counters(const struct sim_mta *m, struct sim_mta_counters *out);

/* One queued message, for the views. Strings are borrowed until the next
 * engine event. */
struct sim_mta_entry {
    const char *id;         /* "3F2A91C07B" */
    const char *sender;     /* the reverse-path, "" for a bounce */
    size_t nrcpts;          /* recipients still to deliver */
    unsigned attempts;      /* delivery attempts made so far */
    sim_time arrived;       /* when it was queued */
    sim_time next_retry;    /* when the next attempt starts; 0 while one is running */
    const char *last_error; /* the last deferral reason, "" when none */
    bool is_bounce;         /* a DSN this MTA made */
};

/* Messages in the queue (waiting or being delivered). */
size_t sim_mta_queue_len(const struct sim_mta *m);

/* The i-th queued message, oldest first; false past the end. */
bool sim_mta_queue_entry(const struct sim_mta *m, size_t i, struct sim_mta_entry *out);

/* The j-th recipient still to deliver of the i-th message (borrowed until
 * the next engine event), or NULL. */
const char *sim_mta_queue_rcpt(const struct sim_mta *m, size_t i, size_t j);

const char *sim_mta_hostname(const struct sim_mta *m);
struct sim_host *sim_mta_host(const struct sim_mta *m);

#endif
