/* The simulated MTA: SMTP sessions in and out, the queue, retries, bounces.
 * See mta.h for what it does; this file says how and why. */
#include "sim/mta.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "protocols/dsn.h"
#include "protocols/msg.h"
#include "protocols/smtp.h"
#include "protocols/smtp_client.h"
#include "protocols/smtp_server.h"

/* Room added to a message for the fields this MTA prepends: a Received:
 * field (three folded lines of names, an address, an id, a path and a
 * date) or a Return-Path: with a path of SIM_ADDRESS_MAX. */
#define PREPEND_ROOM 1024
/* A DSN is its fixed text, one group of fields per recipient (each field
 * at most an SMTP reply line or a path) and the returned header section. */
#define DSN_FIXED_ROOM 4096
#define DSN_PER_RCPT_ROOM 2048
/* Trace texts and notes this file writes: a path, an SMTP reply line and
 * a few words around them. */
#define TEXT_MAX 1024

/* ---- types ----------------------------------------------------------------- */

/* Where one recipient of a queued message is. */
enum rcpt_state {
    RCPT_PENDING = 0, /* not delivered yet: waiting for an attempt or in one */
    RCPT_DELIVERED,   /* in a local mailbox, or taken by the next hop */
    RCPT_FAILED,      /* permanently failed; reported (or dropped) at the end of the attempt */
    RCPT_REPORTED,    /* failed and bounced or dropped */
    RCPT_STATE_COUNT
};

struct rcpt {
    char addr[SIM_ADDRESS_MAX + 1];
    enum rcpt_state state;
    char status[16];            /* the last outcome's enhanced status, "4.7.1" */
    char diag[SIM_MTA_TEXT_MAX]; /* the remote reply "550 5.1.1 ...", "" when none */
    char remote[SIM_MTA_HOSTNAME_MAX + 1]; /* the MX that answered, "" when none */
    char why[SIM_MTA_TEXT_MAX + 128]; /* one line for the bounce's human part */
};

struct qmsg {
    struct qmsg *next;
    uint64_t serial;            /* timers find the message by it */
    char id[SIM_MTA_ID_MAX];
    char sender[SIM_ADDRESS_MAX + 1]; /* "" for the null reverse-path */
    bool is_bounce;
    char *data;                 /* the message, Received: included */
    size_t len;
    struct rcpt *rcpts;
    size_t nrcpts;
    sim_time arrived;
    unsigned attempts;
    sim_time next_retry;        /* 0 while an attempt runs */
    bool running;
    size_t jobs;                /* remote domains still being tried in this attempt */
    char last_error[SIM_MTA_TEXT_MAX];
};

/* One inbound SMTP connection. */
struct sess {
    struct sess *next;
    struct sim_mta *m;
    struct sim_conn *conn;
    struct smtp_server *srv;
    unsigned port;
    char *in;                   /* bytes received and not yet taken by the machine */
    size_t in_len, in_cap;
    char helo[SMTP_DOMAIN_MAX + 1];
    bool ehlo;                  /* EHLO (not HELO): ESMTP in Received: */
    bool authed;
    char sender[SIM_ADDRESS_MAX + 1];
    unsigned long size_param;   /* MAIL's SIZE=, 0 when none */
    char (*rcpts)[SIM_ADDRESS_MAX + 1];
    size_t nrcpts;
    char *data;                 /* the message being received */
    size_t data_len, data_cap;
    bool data_overflow;         /* more than max_size arrived: the machine refuses it */
    bool dead;                  /* closed by us: free once the call stack unwinds */
};

/* The states of delivering one domain's recipients; recorded in the trace. */
enum job_state {
    JOB_RESOLVE = 0, /* asking DNS where the domain's mail goes */
    JOB_CONNECT,     /* opening a connection to the next MX host */
    JOB_SESSION,     /* an SMTP session with that host */
    JOB_DONE,        /* every recipient has an outcome for this attempt */
    JOB_STATE_COUNT
};
static const char *const job_state_names[JOB_STATE_COUNT] = {
    "resolve-mx", "connect", "smtp-session", "done",
};

/* One remote domain's recipients in one attempt. */
struct job {
    struct job *next;
    struct sim_mta *m;
    struct qmsg *msg;           /* stays queued while jobs > 0 */
    enum job_state state;
    char domain[SMTP_DOMAIN_MAX + 1];
    size_t idx[SIM_MTA_RCPTS_MAX]; /* indices into msg->rcpts */
    const char *paths[SIM_MTA_RCPTS_MAX];
    size_t n;
    struct dns_mx_list *mx;     /* heap: about 26 KB */
    size_t host_at, addr_at;    /* the MX host and address being tried */
    char host[SIM_MTA_HOSTNAME_MAX + 1];
    char ip[SIM_HOST_IP_MAX + 1];
    char fail[SIM_MTA_TEXT_MAX]; /* why the last host could not be used */
    struct sim_conn *conn;
    struct smtp_client *cli;
    struct smtp_client_config ccfg;
    struct smtp_client_message cmsg;
    char *in;                   /* server bytes not yet taken by the machine */
    size_t in_len, in_cap;
    char *out;                  /* message bytes waiting for the end of their line */
    size_t out_len, out_cap;
    bool body_started;          /* the first message line got its note */
    enum smtp_client_state cstate; /* the client machine's state, from its events */
    char data_reply[SIM_MTA_TEXT_MAX]; /* the reply to the message text, "250 2.0.0 Ok: ..." */
};

struct greylist_entry {
    char ip[SIM_HOST_IP_MAX + 1];
    char sender[SIM_ADDRESS_MAX + 1];
    char rcpt[SIM_ADDRESS_MAX + 1];
    sim_time first;             /* the first attempt */
};

struct sim_mta {
    struct sim_engine *e;
    struct sim_net *net;
    struct sim_dns *dns;
    struct sim_host *host;
    struct sim_store *store;
    char hostname[SIM_MTA_HOSTNAME_MAX + 1];
    char domains[SIM_MTA_DOMAINS_MAX][SMTP_DOMAIN_MAX + 1];
    size_t ndomains;
    char backup[SIM_MTA_DOMAINS_MAX][SMTP_DOMAIN_MAX + 1]; /* backup MX for these */
    size_t nbackup;
    char resolver_ip[SIM_HOST_IP_MAX + 1];
    unsigned long max_size;
    bool greylisting;
    sim_time greylist_delay, retry_first, retry_max_interval, max_age;
    int64_t epoch;
    int zone_min;
    uint64_t id_seed;           /* mixed into queue ids so two MTAs differ */

    struct qmsg *queue, *queue_tail;
    size_t queue_len;
    uint64_t next_serial;
    struct sess *sessions;
    size_t nsessions;
    struct job *jobs;
    struct greylist_entry *grey; /* SIM_MTA_GREYLIST_MAX, allocated on first use */
    size_t ngrey, grey_next;
    struct sim_mta_counters c;
};

/* ---- small helpers --------------------------------------------------------- */

/* snprintf for texts this file may cut short on purpose (a long path in a
 * trace line): truncation is the intent, so it is not a warning here. */
static void fmt(char *out, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *out, size_t cap, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, cap, f, ap);
    va_end(ap);
}

static int64_t wall(const struct sim_mta *m)
{
    return m->epoch + (int64_t)(m->e->now / 1000000u);
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

/* Domains compare without case and without a final dot (RFC 1035 2.3.3). */
static bool same_domain(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.') la--;
    if (lb && b[lb - 1] == '.') lb--;
    return la == lb && ascii_ncasecmp(a, b, la) == 0;
}

bool sim_mta_is_backup(const struct sim_mta *m, const char *domain)
{
    for (size_t i = 0; m && domain && i < m->nbackup; i++)
        if (same_domain(m->backup[i], domain)) return true;
    return false;
}

bool sim_mta_is_local(const struct sim_mta *m, const char *domain)
{
    for (size_t i = 0; i < m->ndomains; i++)
        if (same_domain(m->domains[i], domain)) return true;
    return false;
}

static bool grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    char *p = realloc(*buf, n);
    if (!p) return false;
    *buf = p;
    *cap = n;
    return true;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (!grow(buf, cap, *len + n + 1)) return false;
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

/* "4.7.1" -> 4, 7, 1 for smtp_reply_explain; zeros when absent. */
static void split_enhanced(const char *s, int *a, int *b, int *c)
{
    *a = *b = *c = 0;
    if (s && *s && sscanf(s, "%d.%d.%d", a, b, c) != 3) *a = *b = *c = 0;
}

/* The note for a command line a client sends: the codec's explanation. */
static const char *command_note(const char *verb)
{
    for (int v = 0; v < SMTP_VERB_COUNT; v++)
        if (strcmp(smtp_verb_names[v], verb) == 0) return smtp_command_explain((enum smtp_verb)v);
    return "the client's answer to the server's challenge (SASL, RFC 4954)";
}

static void record(struct sim_mta *m, const struct sim_trace_event *ev)
{
    sim_record(m->e, ev);
}

/* A SIM_TR_QUEUE event: what happened to a message, and why, for students. */
static void queue_event(struct sim_mta *m, const char *to, const char *text, const char *note)
{
    struct sim_trace_event ev = {
        .kind = SIM_TR_QUEUE, .proto = SIM_PROTO_QUEUE, .from = sim_host_name(m->host),
        .to = to, .text = text, .note = note,
    };
    record(m, &ev);
}

/* A session's "from -> to" (DESIGN.md 6), on its connection. */
static void state_event(struct sim_mta *m, struct sim_conn *c, const char *peer, const char *from,
                        const char *to, const char *note)
{
    char text[96];
    fmt(text, sizeof text, "%s -> %s", from, to);
    struct sim_trace_event ev = {
        .kind = SIM_TR_STATE, .proto = SIM_PROTO_SMTP, .from = sim_host_name(m->host),
        .to = peer, .port = c ? sim_conn_port(c) : 0, .conn = c ? sim_conn_id(c) : 0,
        .tls = c ? sim_conn_tls(c) : false, .text = text, .note = note,
    };
    record(m, &ev);
}

/* Notes for the session states, in the order of the codecs' tables. */
static const char *const server_state_notes[SMTP_SERVER_STATE_COUNT] = {
    "the server has greeted the client and waits for EHLO",
    "the client introduced itself: the server waits for a mail transaction",
    "the sender is accepted: the server waits for recipients",
    "at least one recipient is accepted: DATA may follow",
    "the server reads the message text up to the line holding a single dot",
    "the server waits for the client's credentials",
    "the server waits for the TLS handshake to finish",
    "the session is over",
};
static const char *const client_state_notes[SMTP_CLIENT_STATE_COUNT] = {
    "connected: the sending server waits for the receiver's greeting",
    "the sending server introduces itself with EHLO",
    "EHLO was refused: the sending server falls back to HELO",
    "the receiver offers STARTTLS: the sending server asks to encrypt",
    "both sides run the TLS handshake",
    "the sending server authenticates",
    "the sending server sends its user name",
    "the sending server sends its password",
    "the sending server asks whether an address exists",
    "the sending server names the sender (the bounce address)",
    "the sending server names the recipients",
    "the sending server asks to send the message",
    "the message text is on its way, ending with a single dot",
    "the transaction is abandoned",
    "the sending server says goodbye",
    "the session is over",
};

/* ---- the queue --------------------------------------------------------------- */

static void ev_attempt(struct sim_engine *e, void *ctx, uint64_t serial);

static struct qmsg *find_msg(struct sim_mta *m, uint64_t serial)
{
    for (struct qmsg *q = m->queue; q; q = q->next)
        if (q->serial == serial) return q;
    return NULL;
}

static void free_msg(struct qmsg *q)
{
    if (!q) return;
    free(q->data);
    free(q->rcpts);
    free(q);
}

static void unlink_msg(struct sim_mta *m, struct qmsg *q)
{
    struct qmsg **pp = &m->queue, *prev = NULL;
    while (*pp && *pp != q) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = q->next;
    if (m->queue_tail == q) m->queue_tail = prev;
    m->queue_len--;
}

/* Queue ids: 10 hex digits from a counter mixed with the host name, so they
 * look like Postfix's, differ between MTAs, and need no randomness (the
 * engine's RNG stream stays the DNS service's). */
static void make_id(struct sim_mta *m, uint64_t serial, char *id)
{
    uint64_t x = m->id_seed ^ (serial * 0x9E3779B97F4A7C15u);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9u;
    x ^= x >> 32;
    fmt(id, SIM_MTA_ID_MAX, "%010" PRIX64, x & 0xFFFFFFFFFFu);
}

/* Takes data (malloc'd, owned from now on) into the queue and schedules the
 * first attempt now. Returns the message or NULL (data freed). */
static struct qmsg *enqueue(struct sim_mta *m, const char *sender, bool is_bounce,
                            const char *const *rcpts, size_t nrcpts, char *data, size_t len)
{
    struct qmsg *q = calloc(1, sizeof *q);
    if (q) q->rcpts = calloc(nrcpts, sizeof *q->rcpts);
    if (!q || !q->rcpts) {
        free(q);
        free(data);
        return NULL;
    }
    q->serial = ++m->next_serial;
    make_id(m, q->serial, q->id);
    fmt(q->sender, sizeof q->sender, "%s", sender);
    q->is_bounce = is_bounce;
    q->data = data;
    q->len = len;
    q->nrcpts = nrcpts;
    for (size_t i = 0; i < nrcpts; i++)
        fmt(q->rcpts[i].addr, sizeof q->rcpts[i].addr, "%s", rcpts[i]);
    q->arrived = m->e->now;
    q->next_retry = m->e->now;
    if (m->queue_tail) m->queue_tail->next = q;
    else m->queue = q;
    m->queue_tail = q;
    m->queue_len++;
    m->c.queued += nrcpts;
    if (is_bounce) {
        m->c.generated += nrcpts;
        m->c.dsns++;
    } else {
        m->c.accepted += nrcpts;
        m->c.messages++;
    }
    char text[TEXT_MAX];
    fmt(text, sizeof text, "%s: queued, from=<%s>, nrcpt=%zu, size=%zu", q->id, sender,
             nrcpts, len);
    queue_event(m, "",
                text,
                is_bounce ? "the bounce report is queued like any other message, with the "
                            "empty sender <> so that it can never bounce back itself"
                          : "the server has stored the message in its queue: it is now "
                            "responsible for delivering it (RFC 5321 6.1)");
    sim_after(m->e, 0, ev_attempt, m, q->serial);
    return q;
}

/* ---- bounces ----------------------------------------------------------------- */

/* Makes one DSN for every recipient of q that failed in this attempt, or
 * drops them when q itself has the null reverse-path (RFC 5321 4.5.5). */
static void report_failures(struct sim_mta *m, struct qmsg *q)
{
    size_t nfail = 0;
    for (size_t i = 0; i < q->nrcpts; i++) nfail += q->rcpts[i].state == RCPT_FAILED;
    if (nfail == 0) return;
    char text[TEXT_MAX];
    if (q->sender[0] == '\0') {
        for (size_t i = 0; i < q->nrcpts; i++) {
            struct rcpt *r = &q->rcpts[i];
            if (r->state != RCPT_FAILED) continue;
            r->state = RCPT_REPORTED;
            m->c.dropped++;
            m->c.queued--;
            fmt(text, sizeof text, "%s: to=<%s>, status=dropped (%s): no bounce for a "
                     "message from <>", q->id, r->addr, r->status);
            queue_event(m, "", text,
                        "this message has the empty sender <> (it is itself a bounce), so "
                        "no bounce is sent back: that could loop forever (RFC 5321 4.5.5)");
        }
        return;
    }
    struct dsn_rcpt *dr = calloc(nfail, sizeof *dr);
    size_t cap = DSN_FIXED_ROOM + nfail * DSN_PER_RCPT_ROOM + q->len;
    char *out = malloc(cap + 1);
    size_t k = 0;
    for (size_t i = 0; dr && i < q->nrcpts; i++) {
        struct rcpt *r = &q->rcpts[i];
        if (r->state != RCPT_FAILED) continue;
        dr[k++] = (struct dsn_rcpt){
            .final_recipient = r->addr,
            .action = DSN_ACTION_FAILED,
            .status = dsn_status_valid(r->status) ? r->status : "5.0.0",
            .remote_mta = r->remote[0] ? r->remote : NULL,
            .diagnostic = r->diag[0] ? r->diag : NULL,
            .has_last_attempt = true,
            .last_attempt = wall(m),
            .explanation = r->why[0] ? r->why : NULL,
        };
    }
    char boundary[DSN_BOUNDARY_MAX + 1], msgid[SIM_MTA_HOSTNAME_MAX + 64];
    size_t idlen = 0;
    fmt(boundary, sizeof boundary, "%s.%" PRId64 "/%s", q->id, wall(m), m->hostname);
    if (msg_id_build(wall(m), m->next_serial + 1, m->hostname, msgid, sizeof msgid, &idlen) !=
        MSG_OK)
        msgid[0] = '\0';
    char from[SIM_ADDRESS_MAX + 16];
    fmt(from, sizeof from, "MAILER-DAEMON@%s", m->hostname);
    struct dsn_report rep = {
        .reporting_mta = m->hostname, .from = from, .to = q->sender,
        .date = wall(m), .zone_min = m->zone_min, .message_id = msgid[0] ? msgid : NULL,
        .boundary = boundary, .has_arrival = true,
        .arrival = m->epoch + (int64_t)(q->arrived / 1000000u),
        .rcpts = dr, .nrcpts = k, .original = q->data, .original_len = q->len,
    };
    size_t len = 0;
    enum dsn_err err = out && dr ? dsn_build(&rep, out, cap + 1, &len) : DSN_ERR_NO_SPACE;
    if (err == DSN_ERR_BAD_BOUNDARY) { /* the returned header holds it: pick another */
        fmt(boundary, sizeof boundary, "=_%s.%" PRIu64 "=_", q->id, q->serial);
        err = dsn_build(&rep, out, cap + 1, &len);
    }
    if (err == DSN_ERR_BAD_HEADER || err == DSN_ERR_BAD_BOUNDARY) { /* return no header then */
        rep.original_len = 0;
        err = dsn_build(&rep, out, cap + 1, &len);
    }
    free(dr);
    for (size_t i = 0; i < q->nrcpts; i++) {
        struct rcpt *r = &q->rcpts[i];
        if (r->state != RCPT_FAILED) continue;
        r->state = RCPT_REPORTED;
        m->c.bounced++;
        m->c.queued--;
    }
    if (err != DSN_OK) {
        /* Only out of memory gets here (the arguments are ours); the
         * recipients were counted as bounced, so say plainly it was lost. */
        free(out);
        fmt(text, sizeof text, "%s: bounce report could not be made (%s)", q->id,
                 dsn_strerror(err));
        queue_event(m, "", text, "the server ran out of room for the bounce report");
        return;
    }
    const char *to[1] = {q->sender};
    struct qmsg *b = enqueue(m, "", true, to, 1, out, len);
    fmt(text, sizeof text, "%s: sender non-delivery notification: %s", q->id,
             b ? b->id : "(lost)");
    queue_event(m, "", text,
                "a bounce report (a DSN, RFC 3464) from MAILER-DAEMON goes back to the "
                "sender, saying which recipients failed and why");
}

/* ---- one attempt: start and finish --------------------------------------------- */

static void start_job(struct sim_mta *m, struct qmsg *q, const char *domain);
static void finish_attempt(struct sim_mta *m, struct qmsg *q);
static void deliver_local(struct sim_mta *m, struct qmsg *q, struct rcpt *r);

static void set_outcome(struct rcpt *r, enum rcpt_state st, const char *status, const char *diag,
                        const char *remote, const char *why)
{
    r->state = st;
    fmt(r->status, sizeof r->status, "%s", status);
    fmt(r->diag, sizeof r->diag, "%s", diag ? diag : "");
    fmt(r->remote, sizeof r->remote, "%s", remote ? remote : "");
    fmt(r->why, sizeof r->why, "%s", why ? why : "");
}

static void ev_attempt(struct sim_engine *e, void *ctx, uint64_t serial)
{
    (void)e;
    struct sim_mta *m = ctx;
    struct qmsg *q = find_msg(m, serial);
    if (!q || q->running) return;
    q->running = true;
    q->attempts++;
    q->next_retry = 0;
    char text[TEXT_MAX];
    fmt(text, sizeof text, "%s: delivery attempt %u", q->id, q->attempts);
    queue_event(m, "", text,
                q->attempts == 1
                    ? "the server starts delivering: a local recipient's message goes into "
                      "its mailbox, others need the DNS MX record of their domain"
                    : "the retry time has come: the server tries the waiting recipients again");
    /* Start every remote domain first (each waits for DNS), then deliver
     * locally, so q cannot be finished while the loop still runs. */
    q->jobs++;
    for (size_t i = 0; i < q->nrcpts; i++) {
        struct rcpt *r = &q->rcpts[i];
        if (r->state != RCPT_PENDING || sim_mta_is_local(m, domain_of(r->addr))) continue;
        bool seen = false; /* one job per domain (RFC 5321 5.1: one session per MX) */
        for (size_t j = 0; j < i && !seen; j++)
            seen = q->rcpts[j].state == RCPT_PENDING &&
                   same_domain(domain_of(q->rcpts[j].addr), domain_of(r->addr));
        if (!seen) start_job(m, q, domain_of(r->addr));
    }
    for (size_t i = 0; i < q->nrcpts; i++) {
        struct rcpt *r = &q->rcpts[i];
        if (r->state == RCPT_PENDING && sim_mta_is_local(m, domain_of(r->addr)))
            deliver_local(m, q, r);
    }
    if (--q->jobs == 0) finish_attempt(m, q);
}

/* The attempt is over for every recipient: report failures, then either
 * schedule the next try (doubling, RFC 5321 4.5.4.1), expire, or remove. */
static void finish_attempt(struct sim_mta *m, struct qmsg *q)
{
    char text[TEXT_MAX];
    q->running = false;
    size_t pending = 0;
    for (size_t i = 0; i < q->nrcpts; i++) pending += q->rcpts[i].state == RCPT_PENDING;
    sim_time now = m->e->now;
    if (pending && now - q->arrived >= m->max_age) {
        /* RFC 5321 4.5.4.1: give up after a few days (here max_age). */
        for (size_t i = 0; i < q->nrcpts; i++) {
            struct rcpt *r = &q->rcpts[i];
            if (r->state != RCPT_PENDING) continue;
            char why[sizeof r->why];
            fmt(why, sizeof why, "delivery time expired after %" PRIu64 " s; last: %s",
                     (uint64_t)((now - q->arrived) / 1000000u),
                     r->why[0] ? r->why : q->last_error);
            r->state = RCPT_FAILED;
            fmt(r->status, sizeof r->status, "4.4.7");
            fmt(r->why, sizeof r->why, "%s", why);
            fmt(text, sizeof text, "%s: to=<%s>, status=expired (%s)", q->id, r->addr, why);
            queue_event(m, "", text,
                        "the message waited in the queue for the longest time allowed: the "
                        "server gives up and reports it as undeliverable (status 4.4.7)");
        }
        pending = 0;
    }
    report_failures(m, q);
    if (pending) {
        sim_time interval = m->retry_first;
        for (unsigned k = 1; k < q->attempts && interval < m->retry_max_interval; k++)
            interval *= 2;
        if (interval > m->retry_max_interval) interval = m->retry_max_interval;
        sim_time next = now + interval;
        /* The last try is made at max_age itself, so expiry is on time. */
        if (next > q->arrived + m->max_age) next = q->arrived + m->max_age;
        q->next_retry = next;
        fmt(text, sizeof text, "%s: deferred, %zu recipient%s waiting, next retry in %" PRIu64
                 " s (%s)", q->id, pending, pending == 1 ? "" : "s",
                 (uint64_t)((next - now) / 1000000u), q->last_error);
        queue_event(m, "", text,
                    "a temporary failure: the message stays in the queue and is tried "
                    "again later, waiting twice as long after each failure");
        sim_after(m->e, next - now, ev_attempt, m, q->serial);
        return;
    }
    fmt(text, sizeof text, "%s: removed", q->id);
    queue_event(m, "", text,
                "every recipient has been dealt with: the message leaves the queue");
    unlink_msg(m, q);
    free_msg(q);
}

/* ---- local delivery -------------------------------------------------------------- */

static void deliver_local(struct sim_mta *m, struct qmsg *q, struct rcpt *r)
{
    char text[TEXT_MAX];
    size_t cap = q->len + PREPEND_ROOM, n = 0;
    char *buf = malloc(cap);
    enum msg_err me = buf ? msg_prepend_return_path(q->sender, q->data, q->len, buf, cap, &n)
                          : MSG_ERR_NO_SPACE;
    enum sim_store_result sr = SIM_STORE_NO_MEMORY;
    if (me == MSG_OK) {
        char note[TEXT_MAX];
        fmt(note, sizeof note, "%s's MTA delivered the message into %s's INBOX",
                 m->hostname, r->addr);
        sr = sim_store_deliver(m->store, r->addr, "INBOX", buf, n, 0, NULL, note);
    }
    free(buf);
    switch (sr) {
    case SIM_STORE_OK:
        set_outcome(r, RCPT_DELIVERED, "2.0.0", NULL, NULL, NULL);
        m->c.delivered++;
        m->c.queued--;
        fmt(text, sizeof text, "%s: to=<%s>, relay=local, status=sent (delivered to INBOX)",
                 q->id, r->addr);
        queue_event(m, "", text,
                    "the recipient's mailbox is on this server: the message is stored in "
                    "the INBOX with a Return-Path: field naming the sender (RFC 5321 4.4)");
        return;
    case SIM_STORE_FULL:
        set_outcome(r, RCPT_FAILED, "5.2.2", NULL, NULL,
                    "cannot store the message: the mailbox is full");
        fmt(text, sizeof text, "%s: to=<%s>, relay=local, status=bounced (mailbox full)",
                 q->id, r->addr);
        queue_event(m, "", text,
                    "the recipient's mailbox is over its quota: the message cannot be "
                    "stored, so the sender gets a bounce");
        return;
    case SIM_STORE_NO_ACCOUNT:
    case SIM_STORE_NO_FOLDER:
        set_outcome(r, RCPT_FAILED, "5.1.1", NULL, NULL,
                    "there is no mailbox by that name on this server");
        fmt(text, sizeof text, "%s: to=<%s>, relay=local, status=bounced (unknown user)",
                 q->id, r->addr);
        queue_event(m, "", text,
                    "no such mailbox here: the message cannot be delivered, the sender "
                    "gets a bounce");
        return;
    default:
        fmt(q->last_error, sizeof q->last_error, "local delivery failed: %s",
                 sim_store_result_names[sr]);
        fmt(r->status, sizeof r->status, "4.3.0");
        fmt(r->why, sizeof r->why, "%s", q->last_error);
        fmt(text, sizeof text, "%s: to=<%s>, relay=local, status=deferred (%s)", q->id,
                 r->addr, q->last_error);
        queue_event(m, "", text, "the store could not take the message now: it is tried later");
        return;
    }
}

/* ---- remote delivery: one job per domain ---------------------------------------- */

/* The delivery's "from -> to" (DESIGN.md 6); the note names the message
 * and the domain, then explains. */
static void job_state(struct job *j, enum job_state to, const char *note)
{
    if (j->state == to) return;
    char text[64], full[TEXT_MAX];
    fmt(text, sizeof text, "%s -> %s", job_state_names[j->state], job_state_names[to]);
    fmt(full, sizeof full, "%s to %s: %s", j->msg->id, j->domain, note);
    j->state = to;
    struct sim_trace_event ev = {
        .kind = SIM_TR_STATE, .proto = SIM_PROTO_QUEUE, .from = sim_host_name(j->m->host),
        .text = text, .note = full,
    };
    record(j->m, &ev);
}

static void free_job(struct job *j)
{
    struct job **pp = &j->m->jobs;
    while (*pp && *pp != j) pp = &(*pp)->next;
    if (*pp) *pp = j->next;
    smtp_client_free(j->cli);
    free(j->mx);
    free(j->in);
    free(j->out);
    free(j);
}

/* Gives every recipient of the job still without an outcome a deferral. */
static void defer_rest(struct job *j, const char *status, const char *reason)
{
    struct qmsg *q = j->msg;
    char text[TEXT_MAX];
    fmt(q->last_error, sizeof q->last_error, "%s", reason);
    for (size_t k = 0; k < j->n; k++) {
        struct rcpt *r = &q->rcpts[j->idx[k]];
        if (r->state != RCPT_PENDING) continue;
        fmt(r->status, sizeof r->status, "%s", status);
        fmt(r->why, sizeof r->why, "%s", reason);
        fmt(text, sizeof text, "%s: to=<%s>, status=deferred (%s)", q->id, r->addr, reason);
        queue_event(j->m, "", text,
                    "a temporary problem: this recipient stays in the queue for a retry");
    }
}

static void fail_rest(struct job *j, const char *status, const char *diag, const char *remote,
                      const char *why)
{
    struct qmsg *q = j->msg;
    char text[TEXT_MAX];
    for (size_t k = 0; k < j->n; k++) {
        struct rcpt *r = &q->rcpts[j->idx[k]];
        if (r->state != RCPT_PENDING) continue;
        set_outcome(r, RCPT_FAILED, status, diag, remote, why);
        fmt(text, sizeof text, "%s: to=<%s>, status=bounced (%s)", q->id, r->addr, why);
        queue_event(j->m, "", text,
                    "a permanent failure: the message cannot be delivered to this "
                    "recipient, so the sender will get a bounce");
    }
}

static void end_job(struct job *j)
{
    struct sim_mta *m = j->m;
    struct qmsg *q = j->msg;
    job_state(j, JOB_DONE, "every recipient of this domain has an outcome for this attempt");
    free_job(j);
    if (--q->jobs == 0) finish_attempt(m, q);
}

static void try_next_host(struct job *j);
static void on_mx(void *ctx, enum dns_mx_status status, const struct dns_mx_list *list);

static void start_job(struct sim_mta *m, struct qmsg *q, const char *domain)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        fmt(q->last_error, sizeof q->last_error, "out of memory");
        return; /* the recipients stay pending: a retry comes */
    }
    j->m = m;
    j->msg = q;
    j->state = JOB_RESOLVE;
    fmt(j->domain, sizeof j->domain, "%s", domain);
    for (size_t i = 0; i < q->nrcpts; i++) {
        struct rcpt *r = &q->rcpts[i];
        if (r->state == RCPT_PENDING && same_domain(domain_of(r->addr), domain)) {
            j->idx[j->n] = i;
            j->paths[j->n++] = r->addr;
        }
    }
    j->next = m->jobs;
    m->jobs = j;
    q->jobs++;
    int err = sim_dns_resolve_mx(m->dns, m->host, m->resolver_ip, domain, on_mx, j);
    if (err != SIM_DNS_OK) {
        char reason[SIM_MTA_TEXT_MAX];
        fmt(reason, sizeof reason, "MX lookup for %s could not start: %s", domain,
                 sim_dns_strerror(err));
        if (err == SIM_DNS_ERR_NAME)
            fail_rest(j, "5.1.2", NULL, NULL, reason);
        else
            defer_rest(j, "4.4.3", reason);
        q->jobs--;
        free_job(j);
    }
}

static void on_mx(void *ctx, enum dns_mx_status status, const struct dns_mx_list *list)
{
    struct job *j = ctx;
    char why[SIM_MTA_TEXT_MAX];
    switch (status) {
    case DNS_MX_OK:
        j->mx = malloc(sizeof *j->mx);
        if (!j->mx) {
            defer_rest(j, "4.3.0", "out of memory");
            end_job(j);
            return;
        }
        *j->mx = *list;
        j->host_at = j->addr_at = 0;
        j->fail[0] = '\0';
        try_next_host(j);
        return;
    case DNS_MX_NULL:
        /* RFC 7505 3: a null MX says the domain accepts no mail at all. */
        fmt(why, sizeof why, "domain %s does not accept mail (null MX, RFC 7505)", j->domain);
        fail_rest(j, "5.1.10", NULL, NULL, why);
        break;
    case DNS_MX_TEMPFAIL:
        fmt(why, sizeof why, "Host or domain name not found. Name service error for "
                 "name=%s type=MX: try again later", j->domain);
        defer_rest(j, "4.4.3", why);
        break;
    default: /* NXDOMAIN, no host, no usable MX, a CNAME loop */
        fmt(why, sizeof why, "Host or domain name not found. Name service error for "
                 "name=%s type=MX: %s", j->domain, dns_mx_status_name(status));
        fail_rest(j, "5.1.2", NULL, NULL, why);
        break;
    }
    end_job(j);
}

static void cli_connected(void *ctx, struct sim_conn *c);
static void cli_failed(void *ctx, enum sim_conn_failure why);
static void cli_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n);
static void cli_tls(void *ctx, struct sim_conn *c);
static void cli_closed(void *ctx, struct sim_conn *c);
static const struct sim_client_ops client_ops = {cli_connected, cli_failed, cli_data, cli_tls,
                                                 cli_closed};

/* Connects to the next address of the MX list (RFC 5321 5.1: in order of
 * preference, every address of a host before the next host). With none
 * left, the recipients wait for a retry. */
static void try_next_host(struct job *j)
{
    for (;;) {
        if (j->host_at >= j->mx->count) {
            char reason[SIM_MTA_TEXT_MAX];
            fmt(reason, sizeof reason, "%s", j->fail[0] ? j->fail : "no usable MX host");
            defer_rest(j, "4.4.1", reason);
            end_job(j);
            return;
        }
        const struct dns_mx_target *t = &j->mx->t[j->host_at];
        if (j->addr_at >= t->naddr) {
            j->host_at++;
            j->addr_at = 0;
            continue;
        }
        const struct dns_addr *a = &t->addr[j->addr_at++];
        if (a->family != 4) continue; /* the simulated network speaks IPv4 */
        if (dns_name_to_text(&t->host, j->host, sizeof j->host) != 0) j->host[0] = '\0';
        size_t hl = strlen(j->host);
        if (hl > 1 && j->host[hl - 1] == '.') j->host[hl - 1] = '\0';
        fmt(j->ip, sizeof j->ip, "%u.%u.%u.%u", a->bytes[0], a->bytes[1], a->bytes[2],
                 a->bytes[3]);
        if (strcmp(j->ip, sim_host_ip(j->m->host)) == 0 && sim_mta_is_backup(j->m, j->domain)) {
            /* RFC 5321 5.1: a relay that finds itself in the list drops
             * itself and every MX after it; the better ones were tried and
             * did not answer, so the mail waits here for a retry. */
            char reason[SIM_MTA_TEXT_MAX];
            fmt(reason, sizeof reason, "%s; we are a backup MX for %s: holding it until a "
                "better MX answers", j->fail[0] ? j->fail : "no better MX host", j->domain);
            defer_rest(j, "4.4.1", reason);
            end_job(j);
            return;
        }
        if (strcmp(j->ip, sim_host_ip(j->m->host)) == 0) {
            /* RFC 5321 5.1: we are an MX of a domain that is not ours; mail
             * would come straight back. */
            char why[SIM_MTA_TEXT_MAX];
            fmt(why, sizeof why, "mail for %s loops back to myself", j->domain);
            fail_rest(j, "5.4.6", NULL, NULL, why);
            end_job(j);
            return;
        }
        job_state(j, JOB_CONNECT, "the sending server opens a connection to the next mail "
                                  "exchanger on port 25, in order of MX preference");
        sim_net_connect(j->m->net, j->m->host, j->ip, SIM_MTA_PORT_SMTP, &client_ops, j);
        return;
    }
}

static void cli_failed(void *ctx, enum sim_conn_failure why)
{
    struct job *j = ctx;
    fmt(j->fail, sizeof j->fail, "connect to %s[%s]:25: %s", j->host, j->ip,
             sim_conn_failure_names[why]);
    try_next_host(j);
}

/* Sends one line (or a whole reply) with its note. */
static void send_bytes(struct sim_conn *c, enum sim_dir dir, const char *p, size_t n,
                       const char *note)
{
    if (n) sim_conn_send(c, dir, p, n, note);
}

/* Sends the message lines queued so far, each as its own line; the first
 * and the final dot get notes. A line's tail waits for its LF. */
static void send_body(struct job *j)
{
    size_t off = 0;
    while (off < j->out_len) {
        const char *lf = memchr(j->out + off, '\n', j->out_len - off);
        if (!lf) break;
        size_t n = (size_t)(lf - (j->out + off)) + 1;
        const char *note = NULL;
        if (n == 3 && memcmp(j->out + off, ".\r\n", 3) == 0)
            note = "a line holding a single dot ends the message (RFC 5321 4.1.1.4)";
        else if (!j->body_started)
            note = "the message itself: header fields, an empty line, the body; a line "
                   "starting with a dot gets a second one (RFC 5321 4.5.2)";
        j->body_started = true;
        send_bytes(j->conn, SIM_DIR_C2S, j->out + off, n, note);
        off += n;
    }
    if (off == 0) return;
    memmove(j->out, j->out + off, j->out_len - off);
    j->out_len -= off;
}

/* Moves every shown output byte into the line buffer. */
static bool take_output(struct job *j)
{
    const char *p;
    size_t n;
    while ((n = smtp_client_output(j->cli, &p)) > 0) {
        if (!append(&j->out, &j->out_len, &j->out_cap, p, n)) return false;
        smtp_client_consumed(j->cli, n);
    }
    return true;
}

static void session_over(struct job *j, bool lost);

/* Runs the client machine until it needs the server. */
static void pump_client(struct job *j)
{
    struct smtp_client_event ev;
    const char *peer = sim_host_name(sim_conn_server(j->conn));
    for (;;) {
        if (j->in_len) {
            size_t took = smtp_client_feed(j->cli, j->in, j->in_len);
            memmove(j->in, j->in + took, j->in_len - took);
            j->in_len -= took;
        }
        int r = smtp_client_next(j->cli, &ev);
        if (r != SMTP_CLIENT_EVENT) break;
        switch (ev.type) {
        case SMTP_CLIENT_EV_STATE:
            j->cstate = ev.to;
            state_event(j->m, j->conn, peer, smtp_client_state_names[ev.from],
                        smtp_client_state_names[ev.to], client_state_notes[ev.to]);
            break;
        case SMTP_CLIENT_EV_COMMAND: {
            /* Message bytes queued before it go first (none in practice:
             * the body is sent whole before the reply to it can come). */
            const char *p;
            size_t n = smtp_client_output(j->cli, &p), cmd = ev.line_len + 2;
            if (n > cmd) {
                append(&j->out, &j->out_len, &j->out_cap, p, n - cmd);
                smtp_client_consumed(j->cli, n - cmd);
                send_body(j);
                n = smtp_client_output(j->cli, &p);
            }
            if (n > cmd) n = cmd;
            send_bytes(j->conn, SIM_DIR_C2S, p, n, command_note(ev.verb));
            smtp_client_consumed(j->cli, n);
            break;
        }
        case SMTP_CLIENT_EV_REPLY:
            if (j->cstate == SMTP_CLIENT_BODY) /* the answer to the message itself */
                fmt(j->data_reply, sizeof j->data_reply, "%.*s",
                         (int)(ev.reply_len >= 2 ? ev.reply_len - 2 : ev.reply_len), ev.reply);
            break;
        case SMTP_CLIENT_EV_STARTTLS:
            sim_conn_start_tls(j->conn);
            break;
        case SMTP_CLIENT_EV_DONE:
            take_output(j);
            send_body(j);
            session_over(j, false);
            return;
        default:
            break;
        }
    }
    if (!take_output(j)) {
        j->m->e->failed = 1;
        return;
    }
    send_body(j);
}

/* "550 5.1.1 text" from a code, an enhanced code and a text. */
static void reply_text(char *out, size_t cap, int code, const char *enh, const char *text)
{
    fmt(out, cap, "%d%s%s %s", code, enh && *enh ? " " : "", enh ? enh : "", text);
}

/* The session with one MX host ended (lost: the connection went away
 * first). Gives each recipient its outcome, or moves on to the next host
 * when the host answered none of them with anything but a temporary
 * failure (RFC 5321 5.1: a 421 greeting or a lost connection). */
static void session_over(struct job *j, bool lost)
{
    struct sim_mta *m = j->m;
    struct qmsg *q = j->msg;
    struct smtp_client_result res;
    smtp_client_result(j->cli, &res);
    if (!lost) sim_conn_close(j->conn, SIM_DIR_C2S);
    j->conn = NULL;
    char relay[SIM_MTA_HOSTNAME_MAX + SIM_HOST_IP_MAX + 8], failure[SIM_MTA_TEXT_MAX];
    fmt(relay, sizeof relay, "%s[%s]", j->host, j->ip);
    if (lost)
        fmt(failure, sizeof failure, "lost connection with %s", relay);
    else if (res.local || res.code == 0)
        fmt(failure, sizeof failure, "%s: %s", relay, res.text);
    else {
        char r[SIM_MTA_TEXT_MAX];
        reply_text(r, sizeof r, res.code, res.enhanced, res.text);
        fmt(failure, sizeof failure, "host %s said: %s", relay, r);
    }
    bool temporary = lost || res.outcome == SMTP_CLIENT_FAILED_TEMPORARY;
    bool answered = false;
    for (size_t k = 0; k < j->n; k++) {
        struct smtp_client_rcpt_result rr;
        answered |= smtp_client_rcpt(j->cli, k, &rr) && rr.code != 0;
    }
    if (!answered && temporary) { /* try the next MX host */
        fmt(j->fail, sizeof j->fail, "%s", failure);
        smtp_client_free(j->cli);
        j->cli = NULL;
        j->in_len = j->out_len = 0;
        j->body_started = false;
        j->data_reply[0] = '\0';
        try_next_host(j);
        return;
    }
    /* RFC 5321 6.1: the 250 after the final dot hands the message over;
     * a connection lost after it (during QUIT) must not make us send it
     * again, which would leave a needless duplicate. */
    bool sent = lost ? j->data_reply[0] == '2'
                     : (res.outcome == SMTP_CLIENT_DELIVERED ||
                        res.outcome == SMTP_CLIENT_PARTIAL);
    char text[TEXT_MAX], diag[SIM_MTA_TEXT_MAX], why[SIM_MTA_TEXT_MAX + 128];
    for (size_t k = 0; k < j->n; k++) {
        struct rcpt *r = &q->rcpts[j->idx[k]];
        struct smtp_client_rcpt_result rr;
        if (!smtp_client_rcpt(j->cli, k, &rr)) rr.code = 0;
        if (sent && rr.code / 100 == 2) {
            set_outcome(r, RCPT_DELIVERED, "2.0.0", j->data_reply, j->host, NULL);
            m->c.delivered++;
            m->c.queued--;
            fmt(text, sizeof text, "%s: to=<%s>, relay=%s:25, status=sent (%s)", q->id,
                     r->addr, relay, j->data_reply);
            queue_event(m, j->host, text,
                        "the next server accepted the message: it is responsible for it "
                        "now, and this server forgets it");
            continue;
        }
        const char *status, *in_reply;
        if (rr.code / 100 == 5 || rr.code / 100 == 4) { /* refused at RCPT */
            reply_text(diag, sizeof diag, rr.code, rr.enhanced, rr.text);
            status = rr.enhanced;
            in_reply = " (in reply to RCPT TO command)";
        } else if (!lost && res.code) { /* refused later: the message or the session */
            reply_text(diag, sizeof diag, res.code, res.enhanced, res.text);
            status = res.enhanced;
            in_reply = rr.code ? " (in reply to end of DATA command)" : "";
        } else {
            fmt(diag, sizeof diag, "%s", "");
            status = "";
            in_reply = "";
        }
        bool permanent = diag[0] ? diag[0] == '5' : (!temporary && !lost);
        if (diag[0])
            fmt(why, sizeof why, "host %s said: %s%s", relay, diag, in_reply);
        else
            fmt(why, sizeof why, "%s", failure);
        if (!status[0]) status = permanent ? "5.0.0" : "4.0.0";
        if (permanent) {
            set_outcome(r, RCPT_FAILED, status, diag[0] ? diag : NULL, j->host, why);
            fmt(text, sizeof text, "%s: to=<%s>, relay=%s:25, status=bounced (%s)", q->id,
                     r->addr, relay, diag[0] ? diag : failure);
            queue_event(m, j->host, text,
                        "a permanent failure (5xx): the message cannot be delivered to this "
                        "recipient, so the sender will get a bounce");
        } else {
            fmt(r->status, sizeof r->status, "%s", status);
            fmt(r->diag, sizeof r->diag, "%s", diag);
            fmt(r->remote, sizeof r->remote, "%s", j->host);
            fmt(r->why, sizeof r->why, "%s", why);
            fmt(q->last_error, sizeof q->last_error, "%s", why);
            fmt(text, sizeof text, "%s: to=<%s>, relay=%s:25, status=deferred (%s)", q->id,
                     r->addr, relay, diag[0] ? diag : failure);
            queue_event(m, j->host, text,
                        "a temporary failure (4xx): this recipient stays in the queue and is "
                        "tried again later");
        }
    }
    end_job(j);
}

static void cli_connected(void *ctx, struct sim_conn *c)
{
    struct job *j = ctx;
    struct qmsg *q = j->msg;
    j->conn = c;
    j->ccfg = (struct smtp_client_config){
        .ehlo_name = j->m->hostname,
        .tls = SMTP_CLIENT_TLS_IF_OFFERED, /* opportunistic, RFC 7435, as real MTAs do */
    };
    j->cmsg = (struct smtp_client_message){
        .reverse_path = q->sender, .rcpts = j->paths, .nrcpts = j->n,
        .data = q->data, .len = q->len,
    };
    int err = 0;
    j->cli = smtp_client_new(&j->ccfg, &j->cmsg, &err);
    if (!j->cli) {
        sim_conn_close(c, SIM_DIR_C2S);
        if (err == SMTP_CLIENT_ERR_CONFIG)
            fail_rest(j, "5.1.3", NULL, NULL, "bad address syntax: the SMTP client cannot send it");
        else
            defer_rest(j, "4.3.0", "out of memory");
        end_job(j);
        return;
    }
    j->m->c.attempts++;
    job_state(j, JOB_SESSION, "connected: an SMTP session carries the message to the next server");
    pump_client(j);
}

static void cli_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)c;
    struct job *j = ctx;
    if (!j->cli) return;
    if (!append(&j->in, &j->in_len, &j->in_cap, bytes, n)) {
        j->m->e->failed = 1;
        return;
    }
    pump_client(j);
}

static void cli_tls(void *ctx, struct sim_conn *c)
{
    (void)c;
    struct job *j = ctx;
    if (j->cli && smtp_client_tls_started(j->cli) == 0) pump_client(j);
}

static void cli_closed(void *ctx, struct sim_conn *c)
{
    (void)c;
    struct job *j = ctx;
    if (j->cli) session_over(j, true);
}

/* ---- greylisting ----------------------------------------------------------------- */

/* Whether RCPT must get 451 4.7.1: an unknown (client IP, sender,
 * recipient) triplet is remembered and refused; the same triplet is
 * accepted once greylist_delay has passed since its first try (the idea of
 * Harris's greylisting paper, as Postgrey implements it). */
static bool greylisted(struct sim_mta *m, const char *ip, const char *sender, const char *rcpt)
{
    if (!m->grey) {
        m->grey = calloc(SIM_MTA_GREYLIST_MAX, sizeof *m->grey);
        if (!m->grey) return false; /* no memory: let mail through rather than stall it */
    }
    for (size_t i = 0; i < m->ngrey; i++) {
        struct greylist_entry *g = &m->grey[i];
        if (strcmp(g->ip, ip) == 0 && strlen(g->sender) == strlen(sender) &&
            ascii_ncasecmp(g->sender, sender, strlen(sender)) == 0 &&
            strlen(g->rcpt) == strlen(rcpt) && ascii_ncasecmp(g->rcpt, rcpt, strlen(rcpt)) == 0)
            return m->e->now - g->first < m->greylist_delay;
    }
    struct greylist_entry *g = &m->grey[m->grey_next];
    m->grey_next = (m->grey_next + 1) % SIM_MTA_GREYLIST_MAX; /* the oldest goes first */
    if (m->ngrey < SIM_MTA_GREYLIST_MAX) m->ngrey++;
    fmt(g->ip, sizeof g->ip, "%s", ip);
    fmt(g->sender, sizeof g->sender, "%s", sender);
    fmt(g->rcpt, sizeof g->rcpt, "%s", rcpt);
    g->first = m->e->now;
    return true;
}

/* ---- inbound sessions ----------------------------------------------------------- */

static void free_sess(struct sess *s)
{
    struct sim_mta *m = s->m;
    struct sess **pp = &m->sessions;
    while (*pp && *pp != s) pp = &(*pp)->next;
    if (*pp) {
        *pp = s->next;
        m->nsessions--;
    }
    smtp_server_free(s->srv);
    free(s->in);
    free(s->rcpts);
    free(s->data);
    free(s);
}

static const char *peer_name(const struct sess *s)
{
    return sim_host_name(sim_conn_client(s->conn));
}

static void decide_mail(struct sess *s, const struct smtp_server_event *ev)
{
    fmt(s->sender, sizeof s->sender, "%s", ev->path ? ev->path : "");
    s->size_param = ev->size;
    s->nrcpts = 0;
    s->data_len = 0;
    s->data_overflow = false;
    smtp_server_accept(s->srv, NULL);
}

static void decide_rcpt(struct sess *s, const struct smtp_server_event *ev)
{
    struct sim_mta *m = s->m;
    char text[SIM_MTA_TEXT_MAX], addr[SIM_ADDRESS_MAX + 1];
    fmt(addr, sizeof addr, "%s", ev->path);
    if (!strchr(addr, '@') && m->ndomains) /* RCPT TO:<Postmaster>, RFC 5321 4.1.1.3 */
        fmt(addr, sizeof addr, "postmaster@%s", m->domains[0]);
    const char *domain = domain_of(addr);
    if (s->nrcpts >= SIM_MTA_RCPTS_MAX) {
        smtp_server_reject(s->srv, 452, "4.5.3", "Error: too many recipients");
        return;
    }
    if (sim_mta_is_local(m, domain)) {
        if (!sim_store_has_account(m->store, addr)) {
            fmt(text, sizeof text, "<%s>: Recipient address rejected: User unknown in "
                     "local recipient table", ev->path);
            smtp_server_reject(s->srv, 550, "5.1.1", text);
            return;
        }
        if (!sim_store_fits(m->store, addr, s->size_param ? s->size_param : 1)) {
            fmt(text, sizeof text, "<%s>: Recipient address rejected: Mailbox full",
                     ev->path);
            smtp_server_reject(s->srv, 452, "4.2.2", text);
            return;
        }
        if (m->greylisting && s->port == SIM_MTA_PORT_SMTP && !s->authed &&
            greylisted(m, sim_host_ip(sim_conn_client(s->conn)), s->sender, addr)) {
            fmt(text, sizeof text, "<%s>: Recipient address rejected: Greylisted, "
                     "try again later", ev->path);
            smtp_server_reject(s->srv, 451, "4.7.1", text);
            return;
        }
    } else if (!s->authed && !sim_mta_is_backup(m, domain)) {
        /* Postfix's reject_unauth_destination: only our users may relay
         * (and mail for a domain we are a backup MX for, relay_domains). */
        fmt(text, sizeof text, "<%s>: Relay access denied", ev->path);
        smtp_server_reject(s->srv, 554, "5.7.1", text);
        return;
    }
    fmt(s->rcpts[s->nrcpts++], SIM_ADDRESS_MAX + 1, "%s", addr);
    smtp_server_accept(s->srv, NULL);
}

static void decide_auth(struct sess *s, const struct smtp_server_event *ev)
{
    bool ok = (!ev->authzid[0] || strcmp(ev->authzid, ev->user) == 0) &&
              sim_store_check_password(s->m->store, ev->user, ev->password);
    if (ok) {
        s->authed = true;
        smtp_server_accept(s->srv, NULL);
    } else {
        smtp_server_reject(s->srv, 535, "5.7.8", "Error: authentication failed");
    }
}

static void decide_data(struct sess *s)
{
    struct sim_mta *m = s->m;
    if (s->data_overflow) {
        smtp_server_reject(s->srv, 552, "5.3.4", "Error: message file too big");
        return;
    }
    if (m->queue_len >= SIM_MTA_QUEUE_MAX) {
        smtp_server_reject(s->srv, 452, "4.3.1", "Insufficient system storage");
        return;
    }
    char id[SIM_MTA_ID_MAX];
    make_id(m, m->next_serial + 1, id); /* the id enqueue() will give it */
    bool tls = smtp_server_tls(s->srv);
    struct msg_received rc = {
        .helo = s->helo[0] ? s->helo : "unknown",
        .ip = sim_host_ip(sim_conn_client(s->conn)),
        .by = m->hostname,
        .software = "mailsim",
        /* RFC 3848: S for TLS, A for an authenticated client */
        .with = !s->ehlo ? MSG_WITH_SMTP
                : tls    ? (s->authed ? MSG_WITH_ESMTPSA : MSG_WITH_ESMTPS)
                         : (s->authed ? MSG_WITH_ESMTPA : MSG_WITH_ESMTP),
        .id = id,
        .rcpt = s->nrcpts == 1 ? s->rcpts[0] : NULL, /* one recipient only, as Postfix */
        .time = wall(m),
        .zone_min = m->zone_min,
    };
    size_t cap = s->data_len + PREPEND_ROOM, n = 0;
    char *buf = malloc(cap);
    if (!buf || msg_prepend_received(&rc, s->data ? s->data : "", s->data_len, buf, cap, &n) !=
                    MSG_OK) {
        free(buf);
        smtp_server_reject(s->srv, 451, "4.3.0", "Error: queue file write error");
        return;
    }
    /* RFC 5321 6.1: refuse now rather than bounce later, where we can. */
    size_t final = n + strlen("Return-Path: <>\r\n") + strlen(s->sender);
    for (size_t i = 0; i < s->nrcpts; i++) {
        if (sim_mta_is_local(m, domain_of(s->rcpts[i])) &&
            !sim_store_fits(m->store, s->rcpts[i], final)) {
            free(buf);
            smtp_server_reject(s->srv, 452, "4.2.2", "Mailbox full");
            return;
        }
    }
    const char *rcpts[SIM_MTA_RCPTS_MAX];
    for (size_t i = 0; i < s->nrcpts; i++) rcpts[i] = s->rcpts[i];
    struct qmsg *q = enqueue(m, s->sender, false, rcpts, s->nrcpts, buf, n);
    if (!q) {
        smtp_server_reject(s->srv, 451, "4.3.0", "Error: queue file write error");
        return;
    }
    smtp_server_queued(s->srv, q->id);
    s->data_len = 0;
}

static void handle_server_event(struct sess *s, const struct smtp_server_event *ev)
{
    struct sim_mta *m = s->m;
    const char *p;
    size_t n;
    int a, b, c;
    struct smtp_command cmd;
    switch (ev->type) {
    case SMTP_SERVER_EV_STATE:
        state_event(m, s->conn, peer_name(s), smtp_server_state_names[ev->from],
                    smtp_server_state_names[ev->to], server_state_notes[ev->to]);
        break;
    case SMTP_SERVER_EV_COMMAND:
        if ((strcmp(ev->verb, "EHLO") == 0 || strcmp(ev->verb, "HELO") == 0) &&
            smtp_parse_command(ev->line, ev->line_len, &cmd) == 0) {
            fmt(s->helo, sizeof s->helo, "%s", cmd.domain);
            s->ehlo = cmd.verb == SMTP_EHLO;
        }
        break;
    case SMTP_SERVER_EV_REPLY:
        /* Replies leave in the order of their events: this one is at the front. */
        n = smtp_server_output(s->srv, &p);
        if (n > ev->reply_len) n = ev->reply_len;
        split_enhanced(ev->enhanced, &a, &b, &c);
        send_bytes(s->conn, SIM_DIR_S2C, p, n, smtp_reply_explain(ev->code, a, b, c));
        smtp_server_consumed(s->srv, n);
        break;
    case SMTP_SERVER_EV_MAIL:
        decide_mail(s, ev);
        break;
    case SMTP_SERVER_EV_RCPT:
        decide_rcpt(s, ev);
        break;
    case SMTP_SERVER_EV_AUTH:
        decide_auth(s, ev);
        break;
    case SMTP_SERVER_EV_VRFY: /* not asked for (ask_vrfy is off); answer safely */
        smtp_server_reject(s->srv, 502, "5.5.1", "VRFY command is disabled");
        break;
    case SMTP_SERVER_EV_DATA:
        if (s->data_len + ev->line_len > m->max_size) s->data_overflow = true;
        else if (!append(&s->data, &s->data_len, &s->data_cap, ev->line, ev->line_len))
            s->data_overflow = true;
        break;
    case SMTP_SERVER_EV_DATA_END:
        decide_data(s);
        break;
    case SMTP_SERVER_EV_DATA_ABORT:
        s->data_len = 0;
        break;
    case SMTP_SERVER_EV_STARTTLS:
        sim_conn_start_tls(s->conn);
        break;
    case SMTP_SERVER_EV_CLOSE:
        sim_conn_close(s->conn, SIM_DIR_S2C);
        s->dead = true; /* no closed callback comes for our own close */
        break;
    default:
        break;
    }
}

/* Runs the server machine over the bytes received so far. */
static void pump_server(struct sess *s)
{
    struct smtp_server_event ev;
    for (;;) {
        size_t took = 0;
        if (s->in_len) {
            took = smtp_server_feed(s->srv, s->in, s->in_len);
            memmove(s->in, s->in + took, s->in_len - took);
            s->in_len -= took;
        }
        int r = smtp_server_next(s->srv, &ev);
        if (r == SMTP_SERVER_EVENT) {
            handle_server_event(s, &ev);
            if (s->dead) return;
            continue;
        }
        if (took == 0) return;
    }
}

static struct smtp_server_config server_config(const struct sim_mta *m, unsigned port)
{
    struct smtp_server_config cfg = {.hostname = m->hostname, .max_size = m->max_size};
    if (port == SIM_MTA_PORT_SUBMISSIONS) {
        cfg.tls_active = true; /* RFC 8314 3.3: TLS from the first byte */
        cfg.auth = true;
        cfg.submission = true;
    } else if (port == SIM_MTA_PORT_SUBMISSION) {
        cfg.starttls = true;
        cfg.auth = true;
        cfg.auth_requires_tls = true; /* RFC 8314 3.3, RFC 4954 4: no password in the clear */
        cfg.submission = true;        /* RFC 6409 4.1: AUTH before MAIL */
    } else {
        cfg.starttls = true; /* an MX offers STARTTLS; AUTH is for submission ports */
    }
    return cfg;
}

static void *srv_accept(void *service, struct sim_conn *c)
{
    struct sim_mta *m = service;
    if (m->nsessions >= SIM_MTA_SESSIONS_MAX) {
        /* RFC 5321 3.8: a server that cannot serve says 421 and closes. */
        static const char *const text[1] = {"Error: too many connections, try again later"};
        char line[SMTP_REPLY_LINE_MAX + 1];
        int n = smtp_format_reply(421, "4.3.2", text, 1, line, sizeof line);
        if (n > 0) sim_conn_send(c, SIM_DIR_S2C, line, (size_t)n, smtp_reply_explain(421, 4, 3, 2));
        return NULL;
    }
    struct sess *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rcpts = calloc(SIM_MTA_RCPTS_MAX, sizeof *s->rcpts);
    struct smtp_server_config cfg = server_config(m, sim_conn_port(c));
    s->srv = s->rcpts ? smtp_server_new(&cfg) : NULL;
    if (!s->srv) {
        free(s->rcpts);
        free(s);
        return NULL;
    }
    s->m = m;
    s->conn = c;
    s->port = sim_conn_port(c);
    s->next = m->sessions;
    m->sessions = s;
    m->nsessions++;
    pump_server(s); /* the greeting */
    return s;
}

static void srv_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)c;
    struct sess *s = session;
    if (!append(&s->in, &s->in_len, &s->in_cap, bytes, n)) {
        s->m->e->failed = 1;
        return;
    }
    pump_server(s);
    if (s->dead) free_sess(s);
}

static void srv_tls(void *session, struct sim_conn *c)
{
    (void)c;
    struct sess *s = session;
    /* RFC 3207 4.2: everything learned before the handshake is forgotten. */
    s->helo[0] = '\0';
    s->ehlo = s->authed = false;
    if (smtp_server_tls_started(s->srv) == 0) pump_server(s);
    if (s->dead) free_sess(s);
}

static void srv_closed(void *session, struct sim_conn *c)
{
    (void)c;
    free_sess(session);
}

static const struct sim_service_ops server_ops = {srv_accept, srv_data, srv_tls, srv_closed};

/* ---- the MTA ------------------------------------------------------------------------ */

struct sim_mta *sim_mta_new(struct sim_engine *engine, struct sim_net *net, struct sim_dns *dns,
                            struct sim_host *host, const struct sim_mta_config *cfg)
{
    if (!engine || !net || !host || !cfg || !cfg->hostname || !cfg->hostname[0] ||
        strlen(cfg->hostname) > SIM_MTA_HOSTNAME_MAX || cfg->ndomains > SIM_MTA_DOMAINS_MAX ||
        (cfg->ndomains && !cfg->store) || (cfg->resolver_ip &&
                                           strlen(cfg->resolver_ip) > SIM_HOST_IP_MAX))
        return NULL;
    for (size_t i = 0; i < cfg->ndomains; i++)
        if (!cfg->domains[i] || strlen(cfg->domains[i]) > SMTP_DOMAIN_MAX) return NULL;
    if (cfg->nbackup > SIM_MTA_DOMAINS_MAX || (cfg->nbackup && !cfg->backup_domains)) return NULL;
    for (size_t i = 0; i < cfg->nbackup; i++)
        if (!cfg->backup_domains[i] || strlen(cfg->backup_domains[i]) > SMTP_DOMAIN_MAX)
            return NULL;
    if ((cfg->listen_submission || cfg->listen_submissions) && !cfg->store)
        return NULL; /* AUTH needs the accounts */
    const unsigned ports[3] = {SIM_MTA_PORT_SMTP, SIM_MTA_PORT_SUBMISSION,
                               SIM_MTA_PORT_SUBMISSIONS};
    const bool want[3] = {cfg->listen_smtp, cfg->listen_submission, cfg->listen_submissions};
    for (int i = 0; i < 3; i++) /* check first: a listener cannot be taken back */
        if (want[i] && sim_host_listening(host, ports[i])) return NULL;

    struct sim_mta *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->e = engine;
    m->net = net;
    m->dns = dns;
    m->host = host;
    m->store = cfg->store;
    fmt(m->hostname, sizeof m->hostname, "%s", cfg->hostname);
    for (size_t i = 0; i < cfg->ndomains; i++)
        fmt(m->domains[i], sizeof m->domains[i], "%s", cfg->domains[i]);
    m->ndomains = cfg->ndomains;
    for (size_t i = 0; i < cfg->nbackup; i++)
        fmt(m->backup[i], sizeof m->backup[i], "%s", cfg->backup_domains[i]);
    m->nbackup = cfg->nbackup;
    fmt(m->resolver_ip, sizeof m->resolver_ip, "%s", cfg->resolver_ip ? cfg->resolver_ip : "");
    m->max_size = cfg->max_size ? cfg->max_size : SMTP_SERVER_DEFAULT_MAX_SIZE;
    m->greylisting = cfg->greylisting;
    m->greylist_delay = cfg->greylist_delay ? cfg->greylist_delay : SIM_MTA_DEFAULT_GREYLIST_DELAY;
    m->retry_first = cfg->retry_first ? cfg->retry_first : SIM_MTA_DEFAULT_RETRY_FIRST;
    m->retry_max_interval =
        cfg->retry_max_interval ? cfg->retry_max_interval : SIM_MTA_DEFAULT_RETRY_MAX_INTERVAL;
    m->max_age = cfg->max_age ? cfg->max_age : SIM_MTA_DEFAULT_MAX_AGE;
    m->epoch = cfg->epoch;
    m->zone_min = cfg->zone_min;
    uint64_t h = 1469598103934665603u; /* FNV-1a of the host name */
    for (const char *p = m->hostname; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    m->id_seed = h;
    for (int i = 0; i < 3; i++) {
        if (!want[i]) continue;
        if (sim_host_listen(host, ports[i], SIM_PROTO_SMTP, ports[i] == SIM_MTA_PORT_SUBMISSIONS,
                            &server_ops, m) != 0) {
            /* Only no memory gets here; listeners already made keep
             * pointing at m, so keep it rather than leave them dangling. */
            engine->failed = 1;
            return m;
        }
    }
    return m;
}

void sim_mta_free(struct sim_mta *m)
{
    if (!m) return;
    while (m->sessions) free_sess(m->sessions);
    while (m->jobs) free_job(m->jobs);
    for (struct qmsg *q = m->queue, *next; q; q = next) {
        next = q->next;
        free_msg(q);
    }
    free(m->grey);
    free(m);
}

int sim_mta_submit(struct sim_mta *m, const char *sender, const char *const *rcpts,
                   size_t nrcpts, const char *bytes, size_t len, char *id)
{
    if (!m || !sender || !rcpts || nrcpts == 0 || nrcpts > SIM_MTA_RCPTS_MAX ||
        strlen(sender) > SIM_ADDRESS_MAX || (len && !bytes) || m->queue_len >= SIM_MTA_QUEUE_MAX)
        return -1;
    for (size_t i = 0; i < nrcpts; i++)
        if (!rcpts[i] || !rcpts[i][0] || strlen(rcpts[i]) > SIM_ADDRESS_MAX) return -1;
    char *data = malloc(len + 1);
    if (!data) return -1;
    if (len) memcpy(data, bytes, len);
    data[len] = '\0';
    struct qmsg *q = enqueue(m, sender, false, rcpts, nrcpts, data, len);
    if (!q) return -1;
    if (id) fmt(id, SIM_MTA_ID_MAX, "%s", q->id);
    return 0;
}

void sim_mta_counters(const struct sim_mta *m, struct sim_mta_counters *out)
{
    *out = m->c;
}

size_t sim_mta_queue_len(const struct sim_mta *m) { return m->queue_len; }

static const struct qmsg *nth(const struct sim_mta *m, size_t i)
{
    const struct qmsg *q = m->queue;
    while (q && i--) q = q->next;
    return q;
}

bool sim_mta_queue_entry(const struct sim_mta *m, size_t i, struct sim_mta_entry *out)
{
    const struct qmsg *q = nth(m, i);
    if (!q) return false;
    size_t pending = 0;
    for (size_t k = 0; k < q->nrcpts; k++) pending += q->rcpts[k].state == RCPT_PENDING;
    *out = (struct sim_mta_entry){
        .id = q->id, .sender = q->sender, .nrcpts = pending, .attempts = q->attempts,
        .arrived = q->arrived, .next_retry = q->running ? 0 : q->next_retry,
        .last_error = q->last_error, .is_bounce = q->is_bounce,
    };
    return true;
}

const char *sim_mta_queue_rcpt(const struct sim_mta *m, size_t i, size_t j)
{
    const struct qmsg *q = nth(m, i);
    if (!q) return NULL;
    for (size_t k = 0; k < q->nrcpts; k++)
        if (q->rcpts[k].state == RCPT_PENDING && j-- == 0) return q->rcpts[k].addr;
    return NULL;
}

const char *sim_mta_hostname(const struct sim_mta *m) { return m->hostname; }
struct sim_host *sim_mta_host(const struct sim_mta *m) { return m->host; }
