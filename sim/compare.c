/* IMAP against POP3: two identical worlds, one stream of mail, the same
 * habits; see sim/compare.h for the model. */
#include "sim/compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/msg.h"
#include "sim/device.h"
#include "sim/imapd.h"
#include "sim/net.h"
#include "sim/pop3d.h"
#include "sim/rng.h"
#include "sim/store.h"

const char *const sim_compare_side_names[SIM_CMP_SIDE_COUNT] = {"IMAP", "POP3"};

const char *const sim_compare_rule_names[SIM_CMP_RULE_COUNT] = {
    "many-devices", "folders-search", "one-pc"};

const char *const sim_compare_rule_texts[SIM_CMP_RULE_COUNT] = {
    "More than one device: choose IMAP. Every device sees every message; "
    "with POP3 the first device to check takes each message away from the others.",
    "Folders and search on the server: choose IMAP. Mail filed on one device "
    "is in the same folder on every device and on the server; POP3 has one "
    "folder on the server (RFC 1939 1), so filing and searching stay on one machine.",
    "One machine and a tiny server: POP3 is enough. The one computer gets "
    "every message either way, and with POP3 the server keeps nothing.",
};

#define DAY SIM_SEC(86400)
#define HOUR SIM_SEC(3600)
#define MINUTE SIM_SEC(60)
/* The tidy-ups: morning and evening, of messages at least 8 hours old, so
 * that every device (none checks less often than every 4 hours) has had
 * its chance to fetch them first; a kept message goes after three days. */
#define TIDY_MORNING (8 * HOUR)
#define TIDY_EVENING (20 * HOUR)
#define TIDY_MIN_AGE (8 * HOUR)
#define KEEP_FOR (3 * DAY)
/* Moves waiting in the phone's queue at once (SIM_DEVICE_ACTIONS_MAX is
 * the device's bound; the rest wait here). */
#define MOVES_QUEUED_MAX 8
/* After the last day, each device checks once more, a minute apart; this
 * is ample for the checks to finish. */
#define FINAL_CHECKS (30 * MINUTE)
#define BODY_MAX 4096 /* a generated body: a few short lines */
#define MSG_MAX 8192  /* a generated message with its header */

#define ACCOUNT "friend@example.org"
#define PASSWORD "battery staple"
#define SERVER_HOST "mail.example.org"
#define SERVER_IP "203.0.113.25"
/* 2024-03-04T00:00:00Z: the start of day 1 */
#define EPOCH 1709510400

/* The devices, in the order --devices N takes them: a phone that checks
 * often, machines that check less often. The longest interval must stay
 * under TIDY_MIN_AGE. */
struct profile {
    const char *name;
    const char *ip;
    enum sim_role role;
    unsigned latency_ms;
    unsigned kbps;
    unsigned every_min;
};
static const struct profile profiles[SIM_COMPARE_DEVICES_MAX] = {
    {"phone", "203.0.113.70", SIM_ROLE_PHONE, 40, 5000, 30},
    {"laptop", "203.0.113.71", SIM_ROLE_LAPTOP, 30, 20000, 60},
    {"desktop", "203.0.113.72", SIM_ROLE_COMPUTER, 20, 50000, 180},
    {"tablet", "203.0.113.73", SIM_ROLE_PHONE, 40, 10000, 120},
    {"work-pc", "203.0.113.74", SIM_ROLE_COMPUTER, 15, 100000, 45},
    {"webmail", "203.0.113.75", SIM_ROLE_WEBMAIL, 10, 100000, 20},
    {"old-laptop", "203.0.113.76", SIM_ROLE_LAPTOP, 60, 2000, 240},
    {"watch", "203.0.113.77", SIM_ROLE_PHONE, 80, 1000, 90},
};

/* The server folders reported; the four filing folders first after INBOX. */
#define FILE_FOLDERS 4
static const char *const folders[SIM_COMPARE_FOLDERS] = {
    "INBOX", "Work", "Family", "Receipts", "Travel", "Sent", "Drafts", "Trash"};

static const char *const senders[] = {"alice@example.com", "bob@example.net",
                                      "news@example.com", "carol@example.net",
                                      "shop@example.com"};
static const char *const topics[] = {
    "Lunch on Friday?", "Minutes of the meeting", "Your order has shipped",
    "Photos from the weekend", "Invoice for March", "Train tickets",
    "Weekly newsletter", "Re: the project plan", "Birthday party", "Reminder: dentist"};

enum fate { FATE_DELETE, FATE_FILE, FATE_KEEP, FATE_COUNT };
enum mstate { M_NEW, M_KEPT, M_DONE };

struct cmsg {
    uint32_t uid0;      /* the phone's local UID of it in INBOX; 0: none */
    uint8_t  seen;      /* bit per device: has had it */
    uint8_t  state;     /* enum mstate: the phone's tidying */
    bool     delivered;
};

struct move {
    uint32_t uid;
    uint8_t folder; /* index into folders[] */
};

struct side {
    struct sim_compare *c;
    enum sim_compare_side which;
    struct sim_engine engine;
    bool engine_ok;
    struct sim_net *net;
    struct sim_store *store;
    struct sim_imapd *imapd;
    struct sim_pop3d *pop3d;
    struct sim_device *dev[SIM_COMPARE_DEVICES_MAX];
    struct cmsg *msgs;
    uint8_t *copies;            /* [device * nmsgs + k]: local copies held */
    struct sim_compare_measures now;
    struct sim_compare_measures samples[SIM_COMPARE_SAMPLES_MAX + 1];
    size_t nsamples;
    size_t folder_count[SIM_COMPARE_FOLDERS];
    struct move *moves;          /* a ring of nmsgs entries */
    size_t move_head, move_tail;
    unsigned moves_queued;
    size_t tidy_from;           /* messages before it are tidied for good */
    size_t fates[FATE_COUNT];
    size_t not_on_phone;        /* messages the phone never had to tidy */
    size_t next_msg;            /* the next message to arrive */
    char build[MSG_MAX];
};

struct sim_compare {
    struct sim_compare_params p;
    size_t nmsgs;
    sim_time end;
    sim_time *arrive;           /* when message k arrives (sorted) */
    char **built;               /* message k's bytes, made by the first side
                                   and used (then freed) by the second */
    size_t *built_len;
    size_t nsample_events;      /* samples taken during the run */
    struct side side[SIM_CMP_SIDE_COUNT];
};

/* ---- parameters ----------------------------------------------------------- */

void sim_compare_defaults(struct sim_compare_params *p)
{
    memset(p, 0, sizeof *p);
    p->devices = 3;
    p->days = 7;
    p->per_day = 40;
    p->seed = 1;
    p->delete_pct = 50;
    p->file_pct = 35;
}

int sim_compare_rule_params(enum sim_compare_rule rule, struct sim_compare_params *p)
{
    sim_compare_defaults(p);
    switch (rule) {
    case SIM_CMP_RULE_MANY_DEVICES:
        return 0; /* the defaults: a phone, a laptop and a desktop for a week */
    case SIM_CMP_RULE_FOLDERS_SEARCH:
        p->devices = 2;
        p->days = 14;
        p->per_day = 30;
        p->delete_pct = 30;
        p->file_pct = 60;
        return 0;
    case SIM_CMP_RULE_ONE_PC:
        p->devices = 1;
        p->first_device = 2; /* the desktop */
        p->days = 30;
        p->per_day = 20;
        return 0;
    case SIM_CMP_RULE_COUNT:
        break;
    }
    return -1;
}

int sim_compare_rule_find(const char *name)
{
    for (int i = 0; i < SIM_CMP_RULE_COUNT; i++)
        if (name && strcmp(name, sim_compare_rule_names[i]) == 0) return i;
    return -1;
}

const char *sim_compare_check(const struct sim_compare_params *p)
{
    if (p->devices < 1 || p->devices > SIM_COMPARE_DEVICES_MAX)
        return "the number of devices must be 1 to 8";
    if (p->days < 1 || p->days > SIM_COMPARE_DAYS_MAX) return "the days must be 1 to 3650";
    if (p->per_day < 1 || p->per_day > SIM_COMPARE_PER_DAY_MAX)
        return "the messages a day must be 1 to 1000";
    if ((uint64_t)p->days * p->per_day > SIM_COMPARE_MSGS_MAX)
        return "days times messages a day must be at most 100000";
    /* a POP3 device that leaves mail on the server remembers what it has
     * by unique-id (RFC 1939 7), SIM_DEVICE_UIDLS_MAX of them; past that it
     * downloads nothing new, which would measure the limit, not POP3 */
    if (p->leave_on_server && (uint64_t)p->days * p->per_day > SIM_DEVICE_UIDLS_MAX)
        return "with --leave-on-server, days times messages a day must be at most 1024 "
               "(the unique-ids a POP3 device remembers)";
    if (p->first_device >= SIM_COMPARE_DEVICES_MAX) return "the first device must be 0 to 7";
    if (p->delete_pct > 100 || p->file_pct > 100 - p->delete_pct)
        return "the deleted and filed percentages must add up to at most 100";
    return NULL;
}

/* ---- the user's decisions: a function of the seed and the message only ---- */

static uint64_t mix(uint64_t x)
{
    /* SplitMix64's finaliser: every input bit reaches every output bit */
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static uint64_t msg_hash(const struct sim_compare *c, size_t k)
{
    return mix(c->p.seed * 0x100000001b3u ^ mix((uint64_t)k));
}

static enum fate fate_of(const struct sim_compare *c, size_t k, unsigned *folder, bool *flag)
{
    uint64_t h = msg_hash(c, k);
    unsigned r = (unsigned)(h % 100);
    *folder = 1 + (unsigned)((h >> 8) % FILE_FOLDERS);
    *flag = ((h >> 16) % 4) == 0;
    if (r < c->p.delete_pct) return FATE_DELETE;
    if (r < c->p.delete_pct + c->p.file_pct) return FATE_FILE;
    return FATE_KEEP;
}

/* ---- watching the trace: who has which message ------------------------------ */

/* "#N ..." -> N, or -1. */
static long msg_number(const char *subject)
{
    if (!subject || subject[0] != '#') return -1;
    long n = 0;
    const char *p = subject + 1;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > (long)SIM_COMPARE_MSGS_MAX) return -1;
    }
    return n;
}

static const struct profile *profile_of(const struct sim_compare *c, size_t i)
{
    return &profiles[(c->p.first_device + i) % SIM_COMPARE_DEVICES_MAX];
}

static int device_of(const struct side *s, const char *owner)
{
    for (unsigned i = 0; i < s->c->p.devices; i++)
        if (strcmp(owner, profile_of(s->c, i)->name) == 0) return (int)i;
    return -1;
}

/* The device module keeps a bounded view and says so when it drops the
 * oldest entry; a mail program would have kept it, so the counts do. */
static const char cap_drop[] = "dropped from the device's view";

static void observe(void *ctx, const struct sim_trace_event *ev)
{
    struct side *s = ctx;
    s->now.bytes += ev->wire_bytes;
    if (ev->kind == SIM_TR_CONNECT) s->now.connections++;
    if (ev->kind != SIM_TR_MAIL) return;
    int d = device_of(s, ev->mail.owner);
    long k = msg_number(ev->mail.subject);
    if (d < 0 || k < 0 || (size_t)k >= s->c->nmsgs) return;
    struct cmsg *m = &s->msgs[k];
    uint8_t *copies = &s->copies[(size_t)d * s->c->nmsgs + (size_t)k];
    bool inbox = strcmp(ev->mail.folder, "INBOX") == 0;
    if (ev->mail.change == SIM_MAIL_ADDED) {
        if ((*copies)++ == 0) s->now.device_msgs[d]++;
        if (inbox && !(m->seen & (1u << d))) {
            m->seen |= (uint8_t)(1u << d);
            s->now.seen[d]++;
        }
        if (inbox && d == 0) m->uid0 = ev->mail.uid;
    } else if (ev->mail.change == SIM_MAIL_REMOVED) {
        if (strncmp(ev->text, cap_drop, sizeof cap_drop - 1) == 0) return;
        if (*copies && --(*copies) == 0) s->now.device_msgs[d]--;
        if (inbox && d == 0 && m->uid0 == ev->mail.uid) m->uid0 = 0;
    }
}

/* ---- the stream of mail ------------------------------------------------------ */

/* Writes v in decimal at out (room for 20 digits); returns its length. */
static size_t put_number(char *out, size_t v)
{
    char d[24];
    size_t k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < k; i++) out[i] = d[k - 1 - i];
    return k;
}

/* Writes message k into s->build; its length, or 0 when it cannot be
 * made. A function of the seed and k only, so both sides get the same. */
static size_t build_message(struct side *s, size_t k)
{
    const struct sim_compare *c = s->c;
    uint64_t h = msg_hash(c, k);
    struct msg_addr from, to;
    memset(&from, 0, sizeof from);
    memset(&to, 0, sizeof to);
    const char *sender = senders[h % ARRAY_LEN(senders)];
    const char *at = strchr(sender, '@');
    snprintf(from.local, sizeof from.local, "%.*s", (int)(at - sender), sender);
    snprintf(from.domain, sizeof from.domain, "%s", at + 1);
    snprintf(to.local, sizeof to.local, "friend");
    snprintf(to.domain, sizeof to.domain, "example.org");
    char subject[96], body[BODY_MAX], id[128];
    snprintf(subject, sizeof subject, "#%zu %s", k, topics[(h >> 12) % ARRAY_LEN(topics)]);
    /* 2 to 16 lines: most personal mail is a few lines */
    size_t lines = 2 + (size_t)((h >> 24) % 15), n = 0;
    /* "Line %zu of message %zu: ...\n" put together by hand (snprintf here
     * was the largest single user of the format engine in a long run); a
     * line that would not fit ends the body, which 16 short lines in
     * BODY_MAX never reach. */
    static const char tail[] = ": the quick brown fox jumps over the dog.\n";
    char kd[24];
    size_t kn = put_number(kd, k);
    for (size_t i = 0; i < lines && n + 80 < sizeof body; i++) {
        char nd[24];
        size_t in = put_number(nd, i + 1);
        if (n + 5 + in + 12 + kn + sizeof tail > sizeof body) break;
        memcpy(body + n, "Line ", 5);
        memcpy(body + n + 5, nd, in);
        memcpy(body + n + 5 + in, " of message ", 12);
        memcpy(body + n + 17 + in, kd, kn);
        memcpy(body + n + 17 + in + kn, tail, sizeof tail); /* with the NUL */
        n += 17 + in + kn + sizeof tail - 1;
    }
    int64_t date = EPOCH + (int64_t)(c->arrive[k] / SIM_SEC(1));
    size_t idn = 0;
    if (msg_id_build(EPOCH, k, "example.net", id, sizeof id, &idn) != MSG_OK) id[0] = 0;
    struct msg_simple ms = {.from = &from, .to = &to, .n_to = 1, .subject = subject,
                            .date = date, .zone_min = 0, .message_id = id[0] ? id : NULL,
                            .body = body};
    size_t len = 0;
    if (msg_build_simple(&ms, s->build, sizeof s->build, &len) != MSG_OK) return 0;
    return len;
}

static void deliver(struct side *s, size_t k)
{
    struct sim_compare *c = s->c;
    const char *bytes = c->built[k];
    size_t len = c->built_len[k];
    if (!bytes) { /* the first side: make it, and keep it for the second */
        len = build_message(s, k);
        bytes = s->build;
        char *copy = len ? malloc(len) : NULL;
        if (copy) {
            memcpy(copy, s->build, len);
            c->built[k] = copy;
            c->built_len[k] = len;
        }
    } else if (s->which + 1 == SIM_CMP_SIDE_COUNT) {
        c->built[k] = NULL; /* the last side: ours to free after use */
    }
    bool ok = len && sim_store_deliver(s->store, ACCOUNT, "INBOX", bytes, len, 0, NULL,
                                       "a new message arrives for the comparison") == SIM_STORE_OK;
    if (bytes != s->build && !c->built[k]) free((char *)bytes);
    if (!ok) {
        s->now.refused++;
        return;
    }
    s->msgs[k].delivered = true;
    s->now.delivered++;
}

static void ev_arrive(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    struct side *s = ctx;
    deliver(s, (size_t)arg);
    /* one event waits at a time: the next message's */
    size_t next = (size_t)arg + 1;
    if (next < s->c->nmsgs) sim_after(&s->engine, s->c->arrive[next] - s->engine.now, ev_arrive, s, next);
}

/* ---- the phone's tidying ------------------------------------------------------- */

static void pump_moves(struct side *s)
{
    size_t cap = s->c->nmsgs;
    while (s->moves_queued < MOVES_QUEUED_MAX && s->move_head != s->move_tail) {
        struct move mv = s->moves[s->move_head];
        s->move_head = (s->move_head + 1) % cap;
        if (sim_device_move(s->dev[0], "INBOX", mv.uid, folders[mv.folder], SIM_DEVICE_NOW) >= 0)
            s->moves_queued++;
    }
}

static void on_done(void *ctx, struct sim_device *d, int action, bool ok)
{
    (void)d;
    (void)ok;
    struct side *s = ctx;
    if (action < 0) return; /* a periodic check */
    if (s->moves_queued) s->moves_queued--;
    pump_moves(s);
}

static void ev_tidy(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)arg;
    struct side *s = ctx;
    struct sim_compare *c = s->c;
    struct sim_device *phone = s->dev[0];
    bool imap = s->which == SIM_CMP_IMAP;
    bool advancing = true;
    for (size_t k = s->tidy_from; k < c->nmsgs && c->arrive[k] + TIDY_MIN_AGE <= e->now; k++) {
        struct cmsg *m = &s->msgs[k];
        if (m->state == M_NEW) {
            if (!m->delivered || !m->uid0) {
                /* refused, or another device took it (POP3) */
                if (m->delivered) s->not_on_phone++;
                m->state = M_DONE;
            } else {
                unsigned folder;
                bool flag;
                enum fate f = fate_of(c, k, &folder, &flag);
                sim_device_mark(phone, "INBOX", m->uid0, SIM_FLAG_SEEN, 0);
                if (f == FATE_DELETE) {
                    sim_device_mark(phone, "INBOX", m->uid0, SIM_FLAG_DELETED, 0);
                    m->state = M_DONE;
                } else if (f == FATE_FILE && imap) {
                    s->moves[s->move_tail] = (struct move){m->uid0, (uint8_t)folder};
                    s->move_tail = (s->move_tail + 1) % c->nmsgs;
                    m->state = M_DONE;
                } else if (f == FATE_FILE) {
                    /* RFC 1939 1: one folder on the server; it stays on the phone */
                    m->state = M_DONE;
                    f = FATE_KEEP;
                } else {
                    if (flag) sim_device_mark(phone, "INBOX", m->uid0, SIM_FLAG_FLAGGED, 0);
                    m->state = M_KEPT;
                }
                s->fates[f]++;
            }
        } else if (m->state == M_KEPT && c->arrive[k] + KEEP_FOR <= e->now) {
            if (m->uid0) sim_device_mark(phone, "INBOX", m->uid0, SIM_FLAG_DELETED, 0);
            m->state = M_DONE;
        }
        if (advancing && m->state == M_DONE) s->tidy_from = k + 1;
        else advancing = false;
    }
    pump_moves(s);
}

/* ---- measuring ------------------------------------------------------------------- */

static void measure(struct side *s, struct sim_compare_measures *out)
{
    s->now.t = s->engine.now;
    s->now.server_msgs = 0;
    for (size_t i = 0; i < SIM_COMPARE_FOLDERS; i++)
        s->now.server_msgs += sim_store_count(s->store, ACCOUNT, folders[i]);
    s->now.server_bytes = sim_store_usage(s->store, ACCOUNT);
    *out = s->now;
}

static void ev_sample(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct side *s = ctx;
    if (s->nsamples < SIM_COMPARE_SAMPLES_MAX) measure(s, &s->samples[s->nsamples++]);
}

/* ---- building and running one side ------------------------------------------------ */

static void side_free(struct side *s)
{
    for (size_t i = 0; i < SIM_COMPARE_DEVICES_MAX; i++) sim_device_free(s->dev[i]);
    sim_imapd_free(s->imapd);
    sim_pop3d_free(s->pop3d);
    sim_store_free(s->store);
    sim_net_free(s->net);
    if (s->engine_ok) sim_engine_fini(&s->engine);
    free(s->msgs);
    free(s->copies);
    free(s->moves);
}

static int side_run(struct side *s, char *err, size_t cap)
{
    struct sim_compare *c = s->c;
    const struct sim_compare_params *p = &c->p;
    bool imap = s->which == SIM_CMP_IMAP;
    if (sim_engine_init(&s->engine, p->seed) != 0) goto oom;
    s->engine_ok = true;
    sim_trace_keep(s->engine.trace, p->keep_trace ? SIM_TRACE_KEEP_ALL : 0);
    sim_trace_observe(s->engine.trace, observe, s);
    s->msgs = calloc(c->nmsgs, sizeof *s->msgs);
    s->copies = calloc(c->nmsgs * p->devices, 1);
    s->moves = calloc(c->nmsgs, sizeof *s->moves);
    s->net = sim_net_new(&s->engine);
    if (!s->msgs || !s->copies || !s->moves || !s->net) goto oom;
    struct sim_host *server =
        sim_net_add_host(s->net, SERVER_HOST, SERVER_IP, SIM_ROLE_MAIL_SERVER, SIM_MSEC(10), 0);
    s->store = sim_store_new(&s->engine, SERVER_HOST, EPOCH);
    if (!server || !s->store ||
        sim_store_add_account(s->store, ACCOUNT, PASSWORD, 0) != SIM_STORE_OK)
        goto oom;
    if (imap) {
        s->imapd = sim_imapd_attach(s->net, server, s->store, SIM_IMAPD_PORT_TLS, true, false);
        /* a server of today offers CONDSTORE (RFC 7162), and the devices
         * use it as real clients do: a sync fetches only changed flags */
        if (s->imapd) sim_imapd_set_condstore(s->imapd, true);
    } else {
        s->pop3d = sim_pop3d_attach(s->net, server, s->store, SIM_POP3D_PORT_TLS, true, false);
    }
    if (!s->imapd && !s->pop3d) goto oom;
    for (unsigned i = 0; i < p->devices; i++) {
        const struct profile *pr = profile_of(c, i);
        struct sim_host *h = sim_net_add_host(s->net, pr->name, pr->ip, pr->role,
                                              SIM_MSEC(pr->latency_ms), (uint64_t)pr->kbps * 1000u);
        struct sim_device_config cfg = {
            .proto = imap ? SIM_DEVICE_IMAP : SIM_DEVICE_POP3,
            .account = ACCOUNT,
            .password = PASSWORD,
            .server_ip = SERVER_IP,
            .port = imap ? SIM_IMAPD_PORT_TLS : SIM_POP3D_PORT_TLS,
            .leave_on_server = !imap && p->leave_on_server,
            .check_every = SIM_SEC(60) * pr->every_min,
            .epoch = EPOCH,
        };
        if (!h || !(s->dev[i] = sim_device_new(&s->engine, s->net, h, &cfg))) goto oom;
        sim_device_on_done(s->dev[i], on_done, s);
        /* staggered, so the devices do not all check at the same minute */
        if (sim_device_check(s->dev[i], MINUTE * (1 + 7 * i)) < 0) goto oom;
    }
    sim_after(&s->engine, c->arrive[0], ev_arrive, s, 0);
    for (unsigned d = 0; d < p->days; d++)
    {
        sim_after(&s->engine, DAY * d + TIDY_MORNING, ev_tidy, s, d);
        sim_after(&s->engine, DAY * d + TIDY_EVENING, ev_tidy, s, d);
    }
    for (size_t j = 0; j < c->nsample_events; j++)
        sim_after(&s->engine, c->end * j / c->nsample_events, ev_sample, s, j);
    sim_engine_run(&s->engine, c->end);
    /* the day is over: every device checks once more, so what arrived
     * after its last periodic check is not counted as missed */
    for (unsigned i = 0; i < p->devices; i++)
        if (sim_device_check(s->dev[i], c->end + MINUTE * i) < 0) goto oom;
    sim_engine_run(&s->engine, c->end + FINAL_CHECKS);
    s->engine.now = c->end + FINAL_CHECKS; /* the last sample's time: the run is over */
    if (s->engine.failed) {
        snprintf(err, cap, "the %s run stopped: the engine ran out of room",
                 sim_compare_side_names[s->which]);
        return -1;
    }
    measure(s, &s->samples[s->nsamples++]);
    for (size_t i = 0; i < SIM_COMPARE_FOLDERS; i++)
        s->folder_count[i] = sim_store_count(s->store, ACCOUNT, folders[i]);
    return 0;
oom:
    snprintf(err, cap, "out of memory building the %s world", sim_compare_side_names[s->which]);
    return -1;
}

/* The arrival times, the same for both sides: per day, per_day uniform
 * times of the day from the one seeded RNG, in order. */
static int plan_stream(struct sim_compare *c)
{
    c->arrive = malloc(c->nmsgs * sizeof *c->arrive);
    c->built = calloc(c->nmsgs, sizeof *c->built);
    c->built_len = calloc(c->nmsgs, sizeof *c->built_len);
    if (!c->arrive || !c->built || !c->built_len) return -1;
    struct sim_rng rng;
    sim_rng_seed(&rng, c->p.seed);
    size_t k = 0;
    for (unsigned d = 0; d < c->p.days; d++) {
        size_t first = k;
        for (unsigned i = 0; i < c->p.per_day; i++)
            c->arrive[k++] = DAY * d + sim_rng_below(&rng, DAY);
        /* insertion sort of one day: per_day is at most 1000 */
        for (size_t i = first + 1; i < k; i++) {
            sim_time t = c->arrive[i];
            size_t j = i;
            for (; j > first && c->arrive[j - 1] > t; j--) c->arrive[j] = c->arrive[j - 1];
            c->arrive[j] = t;
        }
    }
    return 0;
}

struct sim_compare *sim_compare_run(const struct sim_compare_params *p, char *err, size_t cap)
{
    const char *bad = p ? sim_compare_check(p) : "no parameters";
    if (bad) {
        snprintf(err, cap, "%s", bad);
        return NULL;
    }
    struct sim_compare *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    c->p = *p;
    c->nmsgs = (size_t)p->days * p->per_day;
    c->end = DAY * p->days;
    /* hourly for short runs, at most SIM_COMPARE_SAMPLES_MAX points */
    c->nsample_events = (size_t)p->days * 24;
    if (c->nsample_events > SIM_COMPARE_SAMPLES_MAX) c->nsample_events = SIM_COMPARE_SAMPLES_MAX;
    if (plan_stream(c) != 0) {
        snprintf(err, cap, "out of memory");
        sim_compare_free(c);
        return NULL;
    }
    for (int i = 0; i < SIM_CMP_SIDE_COUNT; i++) {
        struct side *s = &c->side[i];
        s->c = c;
        s->which = (enum sim_compare_side)i;
        if (side_run(s, err, cap) != 0) {
            sim_compare_free(c);
            return NULL;
        }
        /* the servers and devices are done; the numbers and the trace stay */
        for (size_t d = 0; d < SIM_COMPARE_DEVICES_MAX; d++) {
            sim_device_free(s->dev[d]);
            s->dev[d] = NULL;
        }
        sim_imapd_free(s->imapd);
        sim_pop3d_free(s->pop3d);
        s->imapd = NULL;
        s->pop3d = NULL;
        free(s->copies);
        free(s->moves);
        s->copies = NULL;
        s->moves = NULL;
    }
    return c;
}

void sim_compare_free(struct sim_compare *c)
{
    if (!c) return;
    for (int i = 0; i < SIM_CMP_SIDE_COUNT; i++) side_free(&c->side[i]);
    free(c->arrive);
    for (size_t k = 0; c->built && k < c->nmsgs; k++) free(c->built[k]);
    free(c->built);
    free(c->built_len);
    free(c);
}

/* ---- results -------------------------------------------------------------------- */

const struct sim_compare_params *sim_compare_params(const struct sim_compare *c)
{
    return &c->p;
}

const char *sim_compare_device_name(const struct sim_compare *c, size_t i)
{
    return i < c->p.devices ? profile_of(c, i)->name : NULL;
}

sim_time sim_compare_device_interval(const struct sim_compare *c, size_t i)
{
    return i < c->p.devices ? SIM_SEC(60) * profile_of(c, i)->every_min : 0;
}

const struct sim_compare_measures *sim_compare_final(const struct sim_compare *c,
                                                      enum sim_compare_side side)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT) return NULL;
    const struct side *s = &c->side[side];
    return &s->samples[s->nsamples - 1];
}

const struct sim_compare_measures *sim_compare_samples(const struct sim_compare *c,
                                                        enum sim_compare_side side, size_t *n)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT) {
        *n = 0;
        return NULL;
    }
    *n = c->side[side].nsamples;
    return c->side[side].samples;
}

const char *sim_compare_folder(const struct sim_compare *c, enum sim_compare_side side, size_t i,
                               size_t *count)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT || i >= SIM_COMPARE_FOLDERS) return NULL;
    if (count) *count = c->side[side].folder_count[i];
    return folders[i];
}

unsigned sim_compare_seen_by(const struct sim_compare *c, enum sim_compare_side side, size_t k)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT || k >= c->nmsgs) return 0;
    return c->side[side].msgs[k].seen;
}

bool sim_compare_delivered(const struct sim_compare *c, enum sim_compare_side side, size_t k)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT || k >= c->nmsgs) return false;
    return c->side[side].msgs[k].delivered;
}

size_t sim_compare_messages(const struct sim_compare *c)
{
    return c->nmsgs;
}

bool sim_compare_saw_all(const struct sim_compare *c, enum sim_compare_side side, size_t i)
{
    const struct sim_compare_measures *m = sim_compare_final(c, side);
    return m && i < c->p.devices && m->seen[i] == m->delivered;
}

void sim_compare_fates(const struct sim_compare *c, enum sim_compare_side side, size_t *deleted,
                       size_t *filed, size_t *kept, size_t *not_on_phone)
{
    const struct side *s = &c->side[(unsigned)side < SIM_CMP_SIDE_COUNT ? side : 0];
    if (deleted) *deleted = s->fates[FATE_DELETE];
    if (filed) *filed = s->fates[FATE_FILE];
    if (kept) *kept = s->fates[FATE_KEEP];
    if (not_on_phone) *not_on_phone = s->not_on_phone;
}

const struct sim_trace *sim_compare_trace(const struct sim_compare *c, enum sim_compare_side side)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT) return NULL;
    return c->side[side].engine.trace;
}
