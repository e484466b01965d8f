/* Conservation of mail over 1,000 randomised runs with faults.
 *
 * The invariant (RFC 5321 6.1: the 250 after DATA takes responsibility):
 * every message a server answered "250 ... queued as ID" after DATA ends
 * exactly once, for each of its recipients:
 *   - stored in one mailbox (a SIM_TR_MAIL added event right before the
 *     MTA's "relay=local, status=sent", and the stored copy's own
 *     Received: field naming ID), or
 *   - relayed to exactly one next server, which answered "queued as NEXT"
 *     and took that recipient under its own id NEXT (then NEXT is followed
 *     the same way), or
 *   - reported in exactly one bounce (one DSN, itself a queued message that
 *     must end the same way), or
 *   - dropped, when the message had the null sender <> and so must not
 *     bounce (RFC 5321 4.5.5);
 * and nothing is left in any queue. Per run the counts found in the trace
 * must equal the MTAs' own counters exactly.
 *
 * SMTP's known duplicate (RFC 1047) is not a violation: a connection cut
 * after the final dot but before the 250 arrives leaves the sender
 * believing the message was not taken, so it retries and the next server
 * accepts it a second time under a second id. Each id is a separate
 * accepted message and each must end exactly once; only the first copy has
 * no upstream "status=sent" pointing at it. Such copies are counted.
 *
 * Each run builds a small world by hand through the sim/ modules (three
 * domains, example.org with a backup MX that holds its mail while the
 * primary is away, small quotas, three mail programs, an IMAP phone and a
 * POP3 laptop),
 * seeded by the run's number, then plays a random timeline of sends and
 * faults: mail servers down and back, a host's link cut and restored
 * (sim_host_set_link), an authoritative name server down (DNS failing),
 * mailboxes made full. It runs to quiescence (every queue drained, no
 * event left) well within the time limit: the largest maximum queue age is
 * 300 s and the last fault ends before 700 s. The seeds are fixed, so the
 * same runs happen every time. */
#include "tests/testkit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/device.h"
#include "sim/dns_service.h"
#include "sim/engine.h"
#include "sim/imapd.h"
#include "sim/mta.h"
#include "sim/mua.h"
#include "sim/net.h"
#include "sim/pop3d.h"
#include "sim/store.h"

#define RUNS 1000
#define EPOCH 1795683600 /* Thu, 26 Nov 2026 09:00:00 +0000 */
#define RUN_LIMIT SIM_SEC(3000) /* far beyond the last possible delivery */

/* ---- the world ------------------------------------------------------------------
 *
 * Host names are the DNS names, so an MTA's "relay=HOST" names the host
 * whose 250 line took the message. */

enum { H_PC_COM, H_PC_ORG, H_PC_NET, H_PHONE, H_LAPTOP, H_RESOLVER, H_NS_COM, H_NS_ORG,
       H_MAIL_COM, H_MX1_ORG, H_MX2_ORG, H_MAIL_NET, H_COUNT };

static const struct {
    const char *name, *ip;
    enum sim_role role;
} host_spec[H_COUNT] = {
    {"pc.example.com", "192.0.2.10", SIM_ROLE_COMPUTER},
    {"pc.example.org", "198.51.100.10", SIM_ROLE_COMPUTER},
    {"pc.example.net", "203.0.113.10", SIM_ROLE_COMPUTER},
    {"phone", "198.51.100.70", SIM_ROLE_PHONE},
    {"laptop", "203.0.113.71", SIM_ROLE_LAPTOP},
    {"resolver", "192.0.2.53", SIM_ROLE_DNS_RESOLVER},
    {"ns.example.com", "192.0.2.54", SIM_ROLE_DNS_SERVER},
    {"ns.example.org", "198.51.100.54", SIM_ROLE_DNS_SERVER}, /* .org and .net */
    {"mail.example.com", "192.0.2.25", SIM_ROLE_MAIL_SERVER},
    {"mx1.example.org", "198.51.100.25", SIM_ROLE_MAIL_SERVER},
    {"mx2.example.org", "198.51.100.26", SIM_ROLE_MAIL_SERVER}, /* MX 20, backup */
    {"mail.example.net", "203.0.113.25", SIM_ROLE_MAIL_SERVER},
};

/* The mail servers, in host order from H_MAIL_COM. mx2.example.org is
 * example.org's backup MX (MX 20): it has no mailboxes, takes example.org's
 * mail on port 25 while mx1 does not answer, holds it and relays it to mx1
 * at a retry (RFC 5321 5.1). */
#define NSERVERS 4
#define BACKUP 2
static const char *const server_domain[NSERVERS] = {"example.com", "example.org", "example.org",
                                                    "example.net"};

/* Accounts: which server holds the mailbox. */
#define NACCOUNTS 5
static const struct {
    const char *address;
    unsigned servers; /* bit i: server i holds it */
} account_spec[NACCOUNTS] = {
    {"alice@example.com", 1u << 0},
    {"carol@example.com", 1u << 0},
    {"friend@example.org", 1u << 1},
    {"erin@example.org", 1u << 1},
    {"dave@example.net", 1u << 3},
};

/* Mail programs: alice, friend and dave submit on 587 to their own server. */
#define NSENDERS 3
static const size_t sender_account[NSENDERS] = {0, 2, 4};
static const size_t sender_host[NSENDERS] = {H_PC_COM, H_PC_ORG, H_PC_NET};
static const size_t sender_server[NSENDERS] = {0, 1, 3};

/* Recipients a send picks from: the accounts, unknown users (refused at
 * RCPT, locally or by the next hop) and a domain that does not exist. */
static const char *const rcpt_pool[] = {
    "alice@example.com", "carol@example.com", "friend@example.org", "erin@example.org",
    "dave@example.net",  "ghost@example.org", "nobody@example.net", "x@nowhere.example.org",
};
#define NPOOL (sizeof rcpt_pool / sizeof rcpt_pool[0])

struct world {
    struct sim_engine e;
    struct sim_net *net;
    struct sim_dns *dns;
    struct sim_host *h[H_COUNT];
    struct sim_store *store[NSERVERS];
    struct sim_mta *mta[NSERVERS];
    struct sim_imapd *imapd;
    struct sim_pop3d *pop3d;
    struct sim_mua *mua[NSENDERS];
    struct sim_device *phone, *laptop;
};

static struct world W;

static void must(int ok, const char *what, uint64_t seed)
{
    if (!ok) fail_msg("seed %" PRIu64 ": %s failed", seed, what);
}

static void build(struct sim_rng *r, uint64_t seed)
{
    memset(&W, 0, sizeof W);
    must(sim_engine_init(&W.e, seed) == 0, "engine", seed);
    W.net = sim_net_new(&W.e);
    must(W.net != NULL, "net", seed);
    for (size_t i = 0; i < H_COUNT; i++) {
        sim_time lat = SIM_MSEC(2 + sim_rng_below(r, 40));
        W.h[i] = sim_net_add_host(W.net, host_spec[i].name, host_spec[i].ip, host_spec[i].role,
                                  lat, 0);
        must(W.h[i] != NULL, host_spec[i].name, seed);
    }

    /* DNS: short TTLs (0..30 s) so that a name server going down is felt
     * by lookups made while it is down, not hidden by the cache. */
    W.dns = sim_dns_new(&W.e, W.net);
    must(W.dns != NULL, "dns", seed);
    uint32_t ttl = (uint32_t)sim_rng_below(r, 31);
    struct sim_dns_zone *com, *org, *netz;
    must(sim_dns_zone_add(W.dns, "example.com", &com) == 0, "zone com", seed);
    must(sim_dns_zone_add_mx(com, "example.com", 10, "mail.example.com", ttl) == 0, "mx", seed);
    must(sim_dns_zone_add_a(com, "mail.example.com", host_spec[H_MAIL_COM].ip, ttl) == 0, "a",
         seed);
    must(sim_dns_zone_add(W.dns, "example.org", &org) == 0, "zone org", seed);
    must(sim_dns_zone_add_mx(org, "example.org", 10, "mx1.example.org", ttl) == 0, "mx1", seed);
    must(sim_dns_zone_add_mx(org, "example.org", 20, "mx2.example.org", ttl) == 0, "mx2", seed);
    must(sim_dns_zone_add_a(org, "mx1.example.org", host_spec[H_MX1_ORG].ip, ttl) == 0, "a",
         seed);
    must(sim_dns_zone_add_a(org, "mx2.example.org", host_spec[H_MX2_ORG].ip, ttl) == 0, "a",
         seed);
    must(sim_dns_zone_add(W.dns, "example.net", &netz) == 0, "zone net", seed);
    must(sim_dns_zone_add_mx(netz, "example.net", 10, "mail.example.net", ttl) == 0, "mx", seed);
    must(sim_dns_zone_add_a(netz, "mail.example.net", host_spec[H_MAIL_NET].ip, ttl) == 0, "a",
         seed);
    must(sim_dns_serve_zone(W.dns, W.h[H_NS_COM], com) == 0, "serve com", seed);
    must(sim_dns_serve_zone(W.dns, W.h[H_NS_ORG], org) == 0, "serve org", seed);
    must(sim_dns_serve_zone(W.dns, W.h[H_NS_ORG], netz) == 0, "serve net", seed);
    must(sim_dns_resolver_add(W.dns, W.h[H_RESOLVER]) == 0, "resolver", seed);
    must(sim_dns_resolver_delegate(W.dns, W.h[H_RESOLVER], "example.com",
                                   host_spec[H_NS_COM].ip) == 0, "delegate", seed);
    must(sim_dns_resolver_delegate(W.dns, W.h[H_RESOLVER], "example.org",
                                   host_spec[H_NS_ORG].ip) == 0, "delegate", seed);
    must(sim_dns_resolver_delegate(W.dns, W.h[H_RESOLVER], "example.net",
                                   host_spec[H_NS_ORG].ip) == 0, "delegate", seed);

    /* Stores with small quotas (0: unlimited; a message is 400-700 octets,
     * a bounce 1.5-3 KB), and an MTA on each with a short queue life. */
    for (size_t s = 0; s < NSERVERS; s++) {
        struct sim_host *h = W.h[H_MAIL_COM + s];
        W.store[s] = sim_store_new(&W.e, sim_host_name(h), EPOCH);
        must(W.store[s] != NULL, "store", seed);
        for (size_t a = 0; a < NACCOUNTS; a++) {
            if (!(account_spec[a].servers & (1u << s))) continue;
            size_t quota = sim_rng_below(r, 3) == 0 ? 0 : 1500 + sim_rng_below(r, 6000);
            must(sim_store_add_account(W.store[s], account_spec[a].address, "pw", quota) ==
                     SIM_STORE_OK, "account", seed);
        }
        const char *domains[1] = {server_domain[s]};
        struct sim_mta_config cfg = {
            .hostname = sim_host_name(h), .domains = domains, .ndomains = s != BACKUP,
            .backup_domains = domains, .nbackup = s == BACKUP,
            .store = W.store[s], .resolver_ip = host_spec[H_RESOLVER].ip,
            .listen_smtp = true, .listen_submission = s != BACKUP,
            .retry_first = SIM_SEC(10 + sim_rng_below(r, 30)),
            .retry_max_interval = SIM_SEC(80),
            .max_age = SIM_SEC(120 + sim_rng_below(r, 181)),
            .epoch = EPOCH,
        };
        W.mta[s] = sim_mta_new(&W.e, W.net, W.dns, h, &cfg);
        must(W.mta[s] != NULL, "mta", seed);
    }
    W.imapd = sim_imapd_attach(W.net, W.h[H_MX1_ORG], W.store[1], SIM_IMAPD_PORT_TLS, true, false);
    W.pop3d = sim_pop3d_attach(W.net, W.h[H_MAIL_NET], W.store[3], SIM_POP3D_PORT_TLS, true, false);
    must(W.imapd && W.pop3d, "imapd/pop3d", seed);

    for (size_t i = 0; i < NSENDERS; i++) {
        struct sim_mua_config cfg = {
            .account = account_spec[sender_account[i]].address, .password = "pw",
            .submit_ip = host_spec[H_MAIL_COM + sender_server[i]].ip,
            .submit_port = SIM_MTA_PORT_SUBMISSION, .epoch = EPOCH,
        };
        W.mua[i] = sim_mua_new(&W.e, W.net, W.h[sender_host[i]], &cfg);
        must(W.mua[i] != NULL, "mua", seed);
    }
    /* friend's phone syncs by IMAP; dave's laptop downloads and deletes
     * by POP3, which frees room under dave's quota. */
    struct sim_device_config pc = {
        .proto = SIM_DEVICE_IMAP, .account = "friend@example.org", .password = "pw",
        .server_ip = host_spec[H_MX1_ORG].ip, .port = SIM_IMAPD_PORT_TLS,
        .check_every = SIM_SEC(60 + sim_rng_below(r, 60)), .epoch = EPOCH,
    };
    struct sim_device_config lc = {
        .proto = SIM_DEVICE_POP3, .account = "dave@example.net", .password = "pw",
        .server_ip = host_spec[H_MAIL_NET].ip, .port = SIM_POP3D_PORT_TLS,
        .check_every = SIM_SEC(60 + sim_rng_below(r, 60)), .epoch = EPOCH,
    };
    W.phone = sim_device_new(&W.e, W.net, W.h[H_PHONE], &pc);
    W.laptop = sim_device_new(&W.e, W.net, W.h[H_LAPTOP], &lc);
    must(W.phone && W.laptop, "devices", seed);
}

static void teardown(void)
{
    sim_device_free(W.phone);
    sim_device_free(W.laptop);
    for (size_t i = 0; i < NSENDERS; i++) sim_mua_free(W.mua[i]);
    sim_imapd_free(W.imapd);
    sim_pop3d_free(W.pop3d);
    for (size_t s = 0; s < NSERVERS; s++) {
        sim_mta_free(W.mta[s]);
        sim_store_free(W.store[s]);
    }
    sim_dns_free(W.dns);
    sim_net_free(W.net);
    sim_engine_fini(&W.e);
}

/* ---- the timeline: sends and faults ---------------------------------------------- */

enum fault_kind { F_SERVER_DOWN, F_LINK_CUT, F_DNS_DOWN, F_MAILBOX_FULL, F_COUNT };
static const char *const fault_names[F_COUNT] = {"mail server down", "link cut", "DNS down",
                                                 "mailbox full"};

static void ev_host_up(struct sim_engine *e, void *ctx, uint64_t up)
{
    (void)e;
    sim_host_set_up(ctx, up != 0);
}

static void ev_link(struct sim_engine *e, void *ctx, uint64_t connected)
{
    (void)e;
    sim_host_set_link(ctx, connected != 0);
}

static void ev_full(struct sim_engine *e, void *ctx, uint64_t account)
{
    (void)e;
    struct sim_store *st = ctx;
    assert_int_equal(sim_store_make_full(st, account_spec[account].address), SIM_STORE_OK);
}

/* Plans the run: 3 to 8 sends at random times in the first two minutes,
 * each to 1 to 3 different recipients, and each kind of fault with its own
 * chance. A link cut starts shortly after a send, so it often falls in
 * the middle of an SMTP session. Returns the fault kinds planned (bits). */
static unsigned plan(struct sim_rng *r)
{
    size_t nsend = 3 + sim_rng_below(r, 6);
    sim_time send_at[8];
    for (size_t i = 0; i < nsend; i++) {
        size_t who = sim_rng_below(r, NSENDERS);
        const char *to[3];
        size_t nto = 1 + sim_rng_below(r, 3);
        for (size_t k = 0; k < nto; k++) {
            bool again;
            do {
                to[k] = rcpt_pool[sim_rng_below(r, NPOOL)];
                again = false;
                for (size_t j = 0; j < k; j++) again |= to[j] == to[k];
            } while (again);
        }
        sim_time at = SIM_MSEC(sim_rng_below(r, 120000));
        send_at[i] = at;
        char subject[32];
        snprintf(subject, sizeof subject, "note %zu", i);
        assert_true(sim_mua_send(W.mua[who], NULL, to, nto, subject,
                                 "Hello.\nThis is a test of the mail system.\n", at) >= 0);
    }
    unsigned faults = 0;
    if (sim_rng_chance(r, 500)) { /* a mail server down for 5..300 s */
        struct sim_host *h = W.h[H_MAIL_COM + sim_rng_below(r, NSERVERS)];
        sim_time at = SIM_MSEC(sim_rng_below(r, 200000));
        sim_after(&W.e, at, ev_host_up, h, 0);
        sim_after(&W.e, at + SIM_SEC(5 + sim_rng_below(r, 296)), ev_host_up, h, 1);
        faults |= 1u << F_SERVER_DOWN;
    }
    if (sim_rng_chance(r, 600)) { /* a link cut for 50 ms..200 s */
        size_t victims[] = {H_MAIL_COM, H_MX1_ORG, H_MX2_ORG, H_MAIL_NET, H_PC_COM, H_PHONE};
        struct sim_host *h = W.h[victims[sim_rng_below(r, sizeof victims / sizeof victims[0])]];
        sim_time at = send_at[sim_rng_below(r, nsend)] + SIM_MSEC(sim_rng_below(r, 2500));
        sim_time len = sim_rng_chance(r, 500) ? SIM_MSEC(50 + sim_rng_below(r, 5000))
                                              : SIM_SEC(1 + sim_rng_below(r, 200));
        sim_after(&W.e, at, ev_link, h, 0);
        sim_after(&W.e, at + len, ev_link, h, 1);
        faults |= 1u << F_LINK_CUT;
    }
    if (sim_rng_chance(r, 400)) { /* an authoritative name server down */
        struct sim_host *h = W.h[sim_rng_below(r, 2) ? H_NS_ORG : H_NS_COM];
        sim_time at = SIM_MSEC(sim_rng_below(r, 150000));
        sim_after(&W.e, at, ev_host_up, h, 0);
        sim_after(&W.e, at + SIM_SEC(5 + sim_rng_below(r, 300)), ev_host_up, h, 1);
        faults |= 1u << F_DNS_DOWN;
    }
    if (sim_rng_chance(r, 400)) { /* an account's mailbox full from now on */
        size_t a = sim_rng_below(r, NACCOUNTS);
        size_t s = 0;
        while (!(account_spec[a].servers & (1u << s))) s++;
        sim_after(&W.e, SIM_MSEC(sim_rng_below(r, 150000)), ev_full, W.store[s], a);
        faults |= 1u << F_MAILBOX_FULL;
    }
    sim_device_check(W.phone, SIM_MSEC(sim_rng_below(r, 60000)));
    sim_device_check(W.laptop, SIM_MSEC(sim_rng_below(r, 60000)));
    sim_device_stop(W.phone, SIM_SEC(700));
    sim_device_stop(W.laptop, SIM_SEC(700));
    return faults;
}

/* ---- reading the trace ------------------------------------------------------------- */

#define MSGS_MAX 256
#define RCPTS_MAX 8
#define STORED_MAX 512

enum rcpt_end { END_NONE, END_FAILED, END_LOCAL, END_RELAYED, END_BOUNCED, END_DROPPED };

struct rcpt_rec {
    char addr[SIM_ADDRESS_MAX + 1];
    enum rcpt_end end;
    char next_host[SIM_HOST_NAME_MAX + 1]; /* END_RELAYED: who took it, */
    char next_id[SIM_MTA_ID_MAX];          /* and under which id */
};

struct msg_rec {
    char host[SIM_HOST_NAME_MAX + 1]; /* the MTA that queued it */
    char id[SIM_MTA_ID_MAX];
    char sender[SIM_ADDRESS_MAX + 1];
    size_t nrcpt, seen;
    bool accepted_250; /* answered 250 after DATA */
    bool by_relay;     /* on port 25, from another MTA (else from a mail program) */
    bool is_dsn;       /* a bounce this MTA made */
    bool removed;
    unsigned upstream; /* relays elsewhere that name this id as their next hop */
    struct rcpt_rec rcpts[RCPTS_MAX];
};

/* A message stored in a mailbox by local delivery. */
struct stored_rec {
    const char *owner;
    char account[SIM_ADDRESS_MAX + 1];
    uint32_t uid;
    size_t msg; /* index into msgs */
    bool removed;
};

static struct msg_rec msgs[MSGS_MAX];
static size_t nmsgs;
static struct stored_rec stored[STORED_MAX];
static size_t nstored;

/* Totals over every run, to show the runs went through every ending. */
static struct {
    size_t runs_with[F_COUNT];
    size_t accepted, local, relayed, backup_relayed, bounced, dropped, expired, deferred, dsns, duplicates;
    size_t popped; /* stored messages a POP3 download removed */
} total;

static struct msg_rec *find_msg(const char *host, const char *id)
{
    for (size_t i = 0; i < nmsgs; i++)
        if (strcmp(msgs[i].host, host) == 0 && strcmp(msgs[i].id, id) == 0) return &msgs[i];
    return NULL;
}

/* The recipient addr of m, added when first seen. */
static struct rcpt_rec *rcpt_of(struct msg_rec *m, const char *addr, uint64_t seed)
{
    for (size_t i = 0; i < m->seen; i++)
        if (strcmp(m->rcpts[i].addr, addr) == 0) return &m->rcpts[i];
    if (m->seen >= m->nrcpt || m->seen >= RCPTS_MAX)
        fail_msg("seed %" PRIu64 ": %s %s has more recipients than nrcpt=%zu (%s)", seed, m->host,
                 m->id, m->nrcpt, addr);
    struct rcpt_rec *rr = &m->rcpts[m->seen++];
    snprintf(rr->addr, sizeof rr->addr, "%s", addr);
    return rr;
}

/* Copies what follows `key` in s up to `stop` into out. */
static bool field(const char *s, const char *key, char stop, char *out, size_t cap)
{
    const char *p = strstr(s, key);
    if (!p) return false;
    p += strlen(key);
    const char *e = strchr(p, stop);
    if (!e || (size_t)(e - p) >= cap) return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

static void end_rcpt(struct msg_rec *m, struct rcpt_rec *rr, enum rcpt_end end, uint64_t seed)
{
    bool ok = end == END_DROPPED || end == END_BOUNCED ? rr->end == END_FAILED
                                                       : rr->end == END_NONE;
    if (end == END_FAILED) ok = rr->end == END_NONE;
    if (!ok)
        fail_msg("seed %" PRIu64 ": %s %s to %s: ends as %d after %d", seed, m->host, m->id,
                 rr->addr, (int)end, (int)rr->end);
    rr->end = end;
}

/* One QUEUE event of host: "ID: what happened". */
static void on_queue(const struct sim_trace *tr, size_t step, const struct sim_trace_event *ev,
                     uint64_t seed)
{
    char id[SIM_MTA_ID_MAX];
    const char *colon = strchr(ev->text, ':');
    assert_non_null(colon);
    assert_true((size_t)(colon - ev->text) < sizeof id);
    memcpy(id, ev->text, (size_t)(colon - ev->text));
    id[colon - ev->text] = '\0';
    const char *what = colon + 2;

    if (strncmp(what, "queued, ", 8) == 0) {
        if (find_msg(ev->from, id)) fail_msg("seed %" PRIu64 ": id %s queued twice", seed, id);
        assert_true(nmsgs < MSGS_MAX);
        struct msg_rec *m = &msgs[nmsgs++];
        memset(m, 0, sizeof *m);
        snprintf(m->host, sizeof m->host, "%s", ev->from);
        snprintf(m->id, sizeof m->id, "%s", id);
        assert_true(field(what, "from=<", '>', m->sender, sizeof m->sender));
        const char *n = strstr(what, "nrcpt=");
        assert_non_null(n);
        m->nrcpt = (size_t)strtoul(n + 6, NULL, 10);
        assert_true(m->nrcpt >= 1 && m->nrcpt <= RCPTS_MAX);
        return;
    }
    struct msg_rec *m = find_msg(ev->from, id);
    if (!m) fail_msg("seed %" PRIu64 ": %s: event for an id never queued: %s", seed, ev->from,
                     ev->text);
    char addr[SIM_ADDRESS_MAX + 1];
    if (strncmp(what, "to=<", 4) == 0) {
        assert_true(field(what, "to=<", '>', addr, sizeof addr));
        struct rcpt_rec *rr = rcpt_of(m, addr, seed);
        const char *st = strstr(what, ", status=");
        assert_non_null(st);
        st += 9;
        if (strncmp(st, "sent", 4) == 0 && strstr(what, "relay=local,")) {
            /* the store's MAIL event comes right before the MTA's word */
            const struct sim_trace_event *prev = step ? sim_trace_get(tr, step - 1) : NULL;
            if (!prev || prev->kind != SIM_TR_MAIL || prev->mail.change != SIM_MAIL_ADDED ||
                strcmp(prev->mail.owner, ev->from) != 0 || strcmp(prev->mail.account, addr) != 0 ||
                strcmp(prev->mail.folder, "INBOX") != 0)
                fail_msg("seed %" PRIu64 ": %s: no mailbox event before: %s", seed, ev->from,
                         ev->text);
            assert_true(nstored < STORED_MAX);
            struct stored_rec *s = &stored[nstored++];
            *s = (struct stored_rec){.owner = ev->from, .uid = prev->mail.uid,
                                     .msg = (size_t)(m - msgs)};
            snprintf(s->account, sizeof s->account, "%s", addr);
            end_rcpt(m, rr, END_LOCAL, seed);
            total.local++;
        } else if (strncmp(st, "sent", 4) == 0) {
            end_rcpt(m, rr, END_RELAYED, seed);
            snprintf(rr->next_host, sizeof rr->next_host, "%s", ev->to);
            if (!field(what, "queued as ", ')', rr->next_id, sizeof rr->next_id))
                fail_msg("seed %" PRIu64 ": relay without a queue id: %s", seed, ev->text);
            total.relayed++;
            total.backup_relayed += strcmp(ev->from, host_spec[H_MX2_ORG].name) == 0;
        } else if (strncmp(st, "bounced", 7) == 0 || strncmp(st, "expired", 7) == 0) {
            end_rcpt(m, rr, END_FAILED, seed);
            total.expired += st[0] == 'e';
        } else if (strncmp(st, "dropped", 7) == 0) {
            if (m->sender[0]) fail_msg("seed %" PRIu64 ": dropped with a sender: %s", seed, ev->text);
            end_rcpt(m, rr, END_DROPPED, seed);
            total.dropped++;
        } else if (strncmp(st, "deferred", 8) == 0) {
            if (rr->end != END_NONE) fail_msg("seed %" PRIu64 ": deferred after its end: %s", seed,
                                              ev->text);
            total.deferred++;
        } else {
            fail_msg("seed %" PRIu64 ": unknown status: %s", seed, ev->text);
        }
        return;
    }
    char bid[SIM_MTA_ID_MAX];
    if (strncmp(what, "sender non-delivery notification: ", 34) == 0) {
        snprintf(bid, sizeof bid, "%s", what + 34);
        struct msg_rec *b = find_msg(ev->from, bid);
        if (!b || b->sender[0] || b->nrcpt != 1 || b->is_dsn || b->accepted_250)
            fail_msg("seed %" PRIu64 ": bounce %s is not a fresh DSN", seed, bid);
        b->is_dsn = true;
        size_t covered = 0;
        for (size_t i = 0; i < m->seen; i++)
            if (m->rcpts[i].end == END_FAILED) {
                m->rcpts[i].end = END_BOUNCED;
                covered++;
                total.bounced++;
            }
        if (covered == 0) fail_msg("seed %" PRIu64 ": a DSN for nothing: %s", seed, ev->text);
        if (!m->sender[0]) fail_msg("seed %" PRIu64 ": a DSN for a DSN: %s", seed, ev->text);
        total.dsns++;
        return;
    }
    if (strcmp(what, "removed") == 0) {
        size_t ended = 0;
        for (size_t i = 0; i < m->seen; i++)
            ended += m->rcpts[i].end != END_NONE && m->rcpts[i].end != END_FAILED;
        if (ended != m->nrcpt || m->removed)
            fail_msg("seed %" PRIu64 ": %s %s removed with %zu of %zu recipients ended", seed,
                     m->host, m->id, ended, m->nrcpt);
        m->removed = true;
        return;
    }
    if (strncmp(what, "delivery attempt ", 17) == 0 || strncmp(what, "deferred, ", 10) == 0)
        return;
    fail_msg("seed %" PRIu64 ": unexpected queue event: %s", seed, ev->text);
}

/* The queue id in a stored message's first Received: field (the last
 * hop's), or "" when its header has none (a bounce made on this host). */
static void received_id(const char *bytes, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    const char *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (memcmp(bytes + i, "\r\n\r\n", 4) == 0) {
            end = bytes + i;
            break;
        }
    if (!end) return;
    for (const char *p = bytes; p < end; p++) {
        if ((p == bytes || p[-1] == '\n') && strncmp(p, "Received:", 9) == 0) {
            /* the field runs to the first CRLF not followed by a fold */
            const char *q = p;
            while (q < end && !(q[0] == '\r' && q[2] != ' ' && q[2] != '\t')) q++;
            for (const char *k = p; k + 4 < q; k++)
                if (memcmp(k, " id ", 4) == 0) {
                    size_t len = strcspn(k + 4, " \r\n;");
                    if (len < cap) {
                        memcpy(out, k + 4, len);
                        out[len] = '\0';
                    }
                    return;
                }
            return;
        }
    }
}

/* Checks one finished run; returns nothing, fails the test on a breach. */
static void check_run(uint64_t seed)
{
    const struct sim_trace *tr = W.e.trace;
    nmsgs = nstored = 0;
    size_t added_inbox = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind == SIM_TR_QUEUE) {
            on_queue(tr, i, ev, seed);
        } else if (ev->kind == SIM_TR_LINE && ev->proto == SIM_PROTO_SMTP &&
                   ev->dir == SIM_DIR_S2C && strncmp(ev->text, "250 ", 4) == 0 &&
                   strstr(ev->text, "queued as ")) {
            char id[SIM_MTA_ID_MAX];
            const char *q = strstr(ev->text, "queued as ") + 10;
            assert_true(strlen(q) < sizeof id);
            snprintf(id, sizeof id, "%s", q);
            struct msg_rec *m = find_msg(ev->from, id);
            if (!m || m->accepted_250)
                fail_msg("seed %" PRIu64 ": %s said \"%s\" without queueing it once", seed,
                         ev->from, ev->text);
            m->accepted_250 = true;
            m->by_relay = ev->port == SIM_MTA_PORT_SMTP;
            total.accepted++;
        } else if (ev->kind == SIM_TR_MAIL && strcmp(ev->mail.folder, "INBOX") == 0) {
            bool server = false;
            for (size_t s = 0; s < NSERVERS; s++)
                server |= strcmp(ev->mail.owner, sim_host_name(W.h[H_MAIL_COM + s])) == 0;
            if (!server) continue;
            if (ev->mail.change == SIM_MAIL_ADDED) added_inbox++;
            if (ev->mail.change != SIM_MAIL_REMOVED) continue;
            bool found = false;
            for (size_t k = 0; k < nstored && !found; k++) {
                struct stored_rec *s = &stored[k];
                if (!s->removed && s->uid == ev->mail.uid && strcmp(s->owner, ev->mail.owner) == 0 &&
                    strcmp(s->account, ev->mail.account) == 0) {
                    s->removed = found = true;
                    total.popped++;
                }
            }
            if (!found) fail_msg("seed %" PRIu64 ": removed a message never delivered", seed);
        }
    }
    /* every message in an INBOX came by local delivery, traced to an id */
    assert_int_equal(added_inbox, nstored);

    /* every message ended; relays name a message the next host took */
    for (size_t i = 0; i < nmsgs; i++) {
        struct msg_rec *m = &msgs[i];
        if (!m->removed) fail_msg("seed %" PRIu64 ": %s %s never left the queue", seed, m->host,
                                  m->id);
        if (m->is_dsn == m->accepted_250)
            fail_msg("seed %" PRIu64 ": %s %s is %s", seed, m->host, m->id,
                     m->is_dsn ? "a DSN answered 250" : "neither a DSN nor answered 250");
        if (m->seen != m->nrcpt)
            fail_msg("seed %" PRIu64 ": %s %s: %zu of %zu recipients seen", seed, m->host, m->id,
                     m->seen, m->nrcpt);
        for (size_t k = 0; k < m->seen; k++) {
            struct rcpt_rec *rr = &m->rcpts[k];
            if (rr->end != END_RELAYED) continue;
            struct msg_rec *next = find_msg(rr->next_host, rr->next_id);
            if (!next || !next->accepted_250)
                fail_msg("seed %" PRIu64 ": %s %s relayed to %s as %s, not taken there", seed,
                         m->host, m->id, rr->next_host, rr->next_id);
            bool has = false;
            for (size_t j = 0; j < next->seen; j++) has |= strcmp(next->rcpts[j].addr, rr->addr) == 0;
            if (!has) fail_msg("seed %" PRIu64 ": %s %s: %s took no %s", seed, m->host, m->id,
                               rr->next_id, rr->addr);
            /* one upstream message per next id, counted once per message */
            bool first_of_msg = true;
            for (size_t j = 0; j < k; j++)
                first_of_msg &= !(m->rcpts[j].end == END_RELAYED &&
                                  strcmp(m->rcpts[j].next_id, rr->next_id) == 0 &&
                                  strcmp(m->rcpts[j].next_host, rr->next_host) == 0);
            if (first_of_msg && ++next->upstream > 1)
                fail_msg("seed %" PRIu64 ": %s %s claimed by two messages", seed, next->host,
                         next->id);
        }
    }

    /* nothing is left anywhere, and the trace's counts are the counters' */
    for (size_t s = 0; s < NSERVERS; s++) {
        const char *host = sim_host_name(W.h[H_MAIL_COM + s]);
        size_t accepted = 0, generated = 0, delivered = 0, bounced = 0, dropped = 0, n250 = 0,
               dsns = 0;
        for (size_t i = 0; i < nmsgs; i++) {
            struct msg_rec *m = &msgs[i];
            if (strcmp(m->host, host) != 0) continue;
            if (m->is_dsn) {
                generated += m->nrcpt;
                dsns++;
            } else {
                accepted += m->nrcpt;
                n250++;
            }
            /* a copy at a relay host nobody upstream names: RFC 1047 */
            total.duplicates += m->by_relay && m->upstream == 0;
            if (m->by_relay && m->upstream == 0 && getenv("CONSERVATION_DUPS"))
                printf("seed %" PRIu64 ": duplicate %s %s\n", seed, host, m->id);
            for (size_t k = 0; k < m->seen; k++) {
                enum rcpt_end e = m->rcpts[k].end;
                delivered += e == END_LOCAL || e == END_RELAYED;
                bounced += e == END_BOUNCED;
                dropped += e == END_DROPPED;
            }
        }
        struct sim_mta_counters c;
        sim_mta_counters(W.mta[s], &c);
        if (sim_mta_queue_len(W.mta[s]) != 0 || c.queued != 0 || c.accepted != accepted ||
            c.generated != generated || c.delivered != delivered || c.bounced != bounced ||
            c.dropped != dropped || c.messages != n250 || c.dsns != dsns)
            fail_msg("seed %" PRIu64 ": %s: counters (acc %zu gen %zu del %zu bnc %zu drop %zu "
                     "queued %zu msgs %zu dsns %zu) != trace (acc %zu gen %zu del %zu bnc %zu "
                     "drop %zu msgs %zu dsns %zu)", seed, host, c.accepted, c.generated,
                     c.delivered, c.bounced, c.dropped, c.queued, c.messages, c.dsns, accepted,
                     generated, delivered, bounced, dropped, n250, dsns);
    }

    /* the mailboxes hold exactly the stored messages not removed since,
     * each naming the id it was delivered under */
    size_t kept = 0;
    for (size_t k = 0; k < nstored; k++) kept += !stored[k].removed;
    size_t in_boxes = 0;
    for (size_t s = 0; s < NSERVERS; s++)
        for (size_t a = 0; a < NACCOUNTS; a++) {
            if (!(account_spec[a].servers & (1u << s))) continue;
            const char *who = account_spec[a].address;
            size_t n = sim_store_count(W.store[s], who, "INBOX");
            in_boxes += n;
            for (size_t i = 0; i < n; i++) {
                const struct sim_stored_msg *sm = sim_store_msg(W.store[s], who, "INBOX", i);
                const char *owner = sim_host_name(W.h[H_MAIL_COM + s]);
                const struct stored_rec *rec = NULL;
                for (size_t k = 0; k < nstored && !rec; k++)
                    if (!stored[k].removed && stored[k].uid == sm->uid &&
                        strcmp(stored[k].owner, owner) == 0 && strcmp(stored[k].account, who) == 0)
                        rec = &stored[k];
                if (!rec) fail_msg("seed %" PRIu64 ": %s %s uid %u: not a traced delivery", seed,
                                   owner, who, (unsigned)sm->uid);
                const struct msg_rec *m = &msgs[rec->msg];
                char rid[SIM_MTA_ID_MAX];
                received_id(sm->bytes, sm->size, rid, sizeof rid);
                const char *want = m->is_dsn ? "" : m->id;
                if (strcmp(rid, want) != 0)
                    fail_msg("seed %" PRIu64 ": %s %s uid %u: Received id \"%s\", delivered as %s",
                             seed, owner, who, (unsigned)sm->uid, rid, m->id);
            }
        }
    assert_int_equal(in_boxes, kept);
}

/* ---- the test -------------------------------------------------------------------- */

/* CONSERVATION_DUMP=SEED prints that run's trace, to study a failure. */
static void dump_trace(uint64_t seed)
{
    const char *want = getenv("CONSERVATION_DUMP");
    if (!want || strtoull(want, NULL, 10) != seed) return;
    for (size_t i = 0; i < sim_trace_len(W.e.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(W.e.trace, i);
        printf("%10.6f %-6s %-5s %s -> %s :%u #%u %s\n", (double)ev->t / 1e6,
               sim_trace_kind_names[ev->kind], sim_proto_names[ev->proto], ev->from, ev->to,
               ev->port, ev->conn, ev->text);
    }
}

static void one_run(uint64_t seed)
{
    struct sim_rng r;
    sim_rng_seed(&r, seed * 0x9E3779B97F4A7C15u + 17u);
    build(&r, seed);
    unsigned faults = plan(&r);
    sim_engine_run(&W.e, RUN_LIMIT);
    dump_trace(seed);
    if (W.e.failed) fail_msg("seed %" PRIu64 ": the engine failed", seed);
    /* quiescence: nothing left to happen, long before the limit */
    if (sim_eventq_len(W.e.queue) != 0 || W.e.now >= RUN_LIMIT)
        fail_msg("seed %" PRIu64 ": not quiet at the limit: %zu events pending", seed,
                 sim_eventq_len(W.e.queue));
    check_run(seed);
    /* the faults planned happened, as the trace tells */
    size_t downs = 0, cuts = 0;
    for (size_t i = 0; i < sim_trace_len(W.e.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(W.e.trace, i);
        if (ev->kind != SIM_TR_FAULT) continue;
        downs += strcmp(ev->text, "host is down") == 0;
        cuts += strcmp(ev->text, "link cut") == 0;
    }
    size_t want_downs = ((faults >> F_SERVER_DOWN) & 1u) + ((faults >> F_DNS_DOWN) & 1u);
    if (downs != want_downs || cuts != ((faults >> F_LINK_CUT) & 1u))
        fail_msg("seed %" PRIu64 ": %zu downs and %zu cuts in the trace, planned %zu and %u", seed,
                 downs, cuts, want_downs, (faults >> F_LINK_CUT) & 1u);
    for (int f = 0; f < F_COUNT; f++) total.runs_with[f] += (faults >> f) & 1u;
    teardown();
}

static void test_conservation_with_faults(void **state)
{
    (void)state;
    memset(&total, 0, sizeof total);
    for (uint64_t seed = 1; seed <= RUNS; seed++) one_run(seed);
    print_message("%d runs: %zu accepted after DATA, %zu stored, %zu relayed, %zu bounced in %zu "
                  "DSNs (%zu expired), %zu dropped, %zu deferrals, %zu duplicates (RFC 1047), "
                  "%zu downloaded and deleted by POP3, %zu relayed on by the backup MX\n", RUNS,
                  total.accepted, total.local, total.relayed, total.bounced, total.dsns, total.expired, total.dropped,
                  total.deferred, total.duplicates, total.popped,
                  total.backup_relayed);
    for (int f = 0; f < F_COUNT; f++) {
        print_message("  runs with %s: %zu\n", fault_names[f], total.runs_with[f]);
        /* the fault mix happened: the test cannot pass vacuously */
        assert_true(total.runs_with[f] >= RUNS / 5);
    }
    /* and the runs went through every ending */
    assert_true(total.accepted > 5 * RUNS);
    assert_true(total.local > 1000 && total.relayed > 1000 && total.bounced > 500);
    assert_true(total.dropped > 50 && total.expired > 100 && total.deferred > 500);
    assert_true(total.popped > 100 && total.backup_relayed > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation_with_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
