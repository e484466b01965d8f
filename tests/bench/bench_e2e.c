/* End to end: simulated messages per second through the whole mail system.
 *
 * A world of 1,000 accounts on five mail domains (one mail server each, 200
 * accounts per server: SIM_STORE_ACCOUNTS_MAX is 256) and MESSAGES
 * messages (100,000 by default). Ten mail programs (two per domain) submit
 * them on port 587 with STARTTLS and AUTH, each to an account of another
 * domain, at 50 messages per simulated second; the sender's server looks up
 * the recipient domain's MX record through the resolver and relays the
 * message on port 25 (STARTTLS when offered); the recipient's server stores
 * it; 1,000 IMAP devices (one per account) sync over 993 every ten
 * simulated minutes and once more at the end, so every message is fetched.
 *
 * A mail program keeps at most SIM_MUA_JOBS_MAX sends in its life, so each
 * of the ten is a succession of sim_mua objects on the same host, each
 * handed the next 32 sends; one is freed five simulated minutes after its
 * last send, when nothing of it can be in flight.
 *
 * The trace: a full one would hold about 185 events per message (18.5
 * million for 100,000, near SIM_TRACE_MAX, and about 4.3 GiB), so the
 * benchmark keeps every event except the protocol lines and session state
 * changes (SIM_TR_LINE, SIM_TR_STATE): connections, TLS, DNS, every
 * mailbox and queue change, actions, faults. Those it drops are still made
 * and handed to the trace, which counts them (sim_trace_total). With
 * --full-trace it keeps everything (use fewer messages). Wall time is CLOCK_MONOTONIC around the simulation only (the
 * world's building and freeing are not counted); the median of RUNS runs
 * is reported, with the peak resident memory (getrusage ru_maxrss).
 *
 * The reference, measured in the same process: the same number of
 * messages through the SMTP client and server machines alone, in memory
 * (EHLO, MAIL, RCPT, DATA, the message, QUIT; no network, no TLS, no
 * queue, no DNS, no store, no trace). The ratio simulated / reference shows
 * what the simulation costs on top of the protocol work of one SMTP
 * session; the simulation runs two SMTP sessions, DNS and an IMAP fetch per
 * message.
 *
 *   build/bench/bench_e2e [--full-trace] [MESSAGES [RUNS]]   (defaults 100000, 3)
 *
 * Prints what it measured, then "BENCH" lines for tests/bench/run.sh
 * (tests/bench/README.md). Exits 1 when a message went missing. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "protocols/smtp_client.h"
#include "protocols/smtp_server.h"
#include "sim/device.h"
#include "sim/dns_service.h"
#include "sim/engine.h"
#include "sim/imapd.h"
#include "sim/mta.h"
#include "sim/mua.h"
#include "sim/net.h"
#include "sim/store.h"
#include "tests/bench/bench.h"

#define MESSAGES_DEFAULT 100000
#define MESSAGES_MAX 1000000 /* 20 simulated s of sending per 1,000: ten days at most */
#define RUNS_DEFAULT 3
#define RUNS_MAX 15

#define NDOMAINS 5
#define PER_DOMAIN 200           /* accounts per domain: 1,000 in all */
#define NPROGRAMS 10             /* mail programs, two per domain */
#define RATE 50                  /* messages submitted per simulated second */
#define CHECK_EVERY SIM_SEC(600) /* each device syncs every ten minutes */
#define DEVICES_PER_HOST 100     /* devices share phone hosts, ten in all */
#define SLICE SIM_SEC(5)         /* the driver tops up the mail programs this often */
#define RETIRE_AFTER SIM_SEC(300) /* a mail program is freed this long after its last send */
#define FINAL_SPREAD 200         /* the final syncs spread over this many seconds */
#define EPOCH 1795683600         /* Thu, 26 Nov 2026 09:00:00 +0000 */

static const char *const domains[NDOMAINS] = {"example.com", "example.org", "example.net",
                                              "eu.example.com", "eu.example.org"};

static void die(const char *what)
{
    fprintf(stderr, "bench_e2e: %s\n", what);
    exit(1);
}

/* The driver's own random numbers (recipients): xorshift64*, fixed seed,
 * so every run sends the same mail. The simulation has its own RNG. */
static uint64_t rnd_state;
static uint64_t rnd(uint64_t bound)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return (rnd_state * 0x2545F4914F6CDD1Du) % bound;
}

static void address(char *out, size_t cap, size_t domain, size_t user)
{
    snprintf(out, cap, "user%03zu@%s", user, domains[domain]);
}

/* ---- the world ------------------------------------------------------------------- */

struct program {
    struct sim_host *host;
    size_t domain, user;
    size_t next;               /* the next of this program's sends to hand out */
};

struct retired {
    struct sim_mua *mua;
    sim_time free_at;
};

struct world {
    struct sim_engine e;
    struct sim_net *net;
    struct sim_dns *dns;
    struct sim_host *mail[NDOMAINS];
    struct sim_store *store[NDOMAINS];
    struct sim_mta *mta[NDOMAINS];
    struct sim_imapd *imapd[NDOMAINS];
    struct program prog[NPROGRAMS];
    struct retired *muas;      /* every mail program object, live or retired */
    size_t nmuas, cap_muas;
    struct sim_device *dev[NDOMAINS * PER_DOMAIN];
    size_t messages;           /* to send in all */
    sim_time interval;         /* between two sends of one program */
};

static struct sim_mta_config mta_config(size_t d)
{
    static char names[NDOMAINS][64];
    snprintf(names[d], sizeof names[d], "mx.%s", domains[d]);
    return (struct sim_mta_config){
        .hostname = names[d], .domains = &domains[d], .ndomains = 1,
        .resolver_ip = "192.0.2.53", .listen_smtp = true, .listen_submission = true,
        .epoch = EPOCH,
    };
}

static bool full_trace;

static void build(struct world *w, size_t messages)
{
    memset(w, 0, sizeof *w);
    w->messages = messages;
    w->interval = SIM_SEC(1) * NPROGRAMS / RATE;
    if (sim_engine_init(&w->e, 2026) != 0 || !(w->net = sim_net_new(&w->e)) ||
        !(w->dns = sim_dns_new(&w->e, w->net)))
        die("out of memory");
    if (!full_trace)
        sim_trace_keep(w->e.trace, SIM_TRACE_KEEP_ALL & ~(1u << SIM_TR_LINE) & ~(1u << SIM_TR_STATE));
    struct sim_host *resolver = sim_net_add_host(w->net, "resolver", "192.0.2.53",
                                                 SIM_ROLE_DNS_RESOLVER, SIM_MSEC(2), 0);
    struct sim_host *ns = sim_net_add_host(w->net, "ns.example.com", "192.0.2.54",
                                           SIM_ROLE_DNS_SERVER, SIM_MSEC(10), 0);
    if (!resolver || !ns || sim_dns_resolver_add(w->dns, resolver) != 0) die("dns hosts");
    /* three zones; the eu. domains are names in their parents' zones */
    const char *apex[3] = {"example.com", "example.org", "example.net"};
    struct sim_dns_zone *zone[3];
    for (size_t z = 0; z < 3; z++)
        if (sim_dns_zone_add(w->dns, apex[z], &zone[z]) != 0 ||
            sim_dns_resolver_delegate(w->dns, resolver, apex[z], "192.0.2.54") != 0)
            die("zones");
    for (size_t d = 0; d < NDOMAINS; d++) {
        char name[64], ip[32];
        snprintf(name, sizeof name, "mx.%s", domains[d]);
        snprintf(ip, sizeof ip, "198.51.100.%zu", 25 + d);
        w->mail[d] = sim_net_add_host(w->net, name, ip, SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
        struct sim_dns_zone *z = zone[d % 3];
        if (!w->mail[d] || sim_dns_zone_add_mx(z, domains[d], 10, name, 3600) != 0 ||
            sim_dns_zone_add_a(z, name, ip, 3600) != 0)
            die("mail hosts");
        w->store[d] = sim_store_new(&w->e, name, EPOCH);
        if (!w->store[d]) die("out of memory");
        for (size_t u = 0; u < PER_DOMAIN; u++) {
            char a[64];
            address(a, sizeof a, d, u);
            if (sim_store_add_account(w->store[d], a, "pw", 0) != SIM_STORE_OK) die("accounts");
        }
        struct sim_mta_config cfg = mta_config(d);
        cfg.store = w->store[d];
        w->mta[d] = sim_mta_new(&w->e, w->net, w->dns, w->mail[d], &cfg);
        w->imapd[d] = sim_imapd_attach(w->net, w->mail[d], w->store[d], SIM_IMAPD_PORT_TLS, true,
                                       false);
        if (!w->mta[d] || !w->imapd[d]) die("mail servers");
    }
    for (size_t z = 0; z < 3; z++)
        if (sim_dns_serve_zone(w->dns, ns, zone[z]) != 0) die("serve zones");

    /* the senders' computers: user000 and user001 of every domain */
    for (size_t p = 0; p < NPROGRAMS; p++) {
        char name[32], ip[32];
        snprintf(name, sizeof name, "pc%zu", p);
        snprintf(ip, sizeof ip, "192.0.2.%zu", 100 + p);
        w->prog[p] = (struct program){
            .host = sim_net_add_host(w->net, name, ip, SIM_ROLE_COMPUTER, SIM_MSEC(20), 0),
            .domain = p % NDOMAINS, .user = p / NDOMAINS,
        };
        if (!w->prog[p].host) die("computers");
    }
    /* the devices: one per account, a hundred to a phone host */
    sim_time last_send = (sim_time)(messages / NPROGRAMS + 1) * w->interval;
    sim_time final = last_send + SIM_SEC(60);
    struct sim_host *phone = NULL;
    for (size_t i = 0; i < NDOMAINS * PER_DOMAIN; i++) {
        size_t d = i / PER_DOMAIN, u = i % PER_DOMAIN;
        if (i % DEVICES_PER_HOST == 0) {
            char name[32], ip[32];
            snprintf(name, sizeof name, "phones%zu", i / DEVICES_PER_HOST);
            snprintf(ip, sizeof ip, "203.0.113.%zu", 10 + i / DEVICES_PER_HOST);
            phone = sim_net_add_host(w->net, name, ip, SIM_ROLE_PHONE, SIM_MSEC(40), 0);
            if (!phone) die("phones");
        }
        char a[64];
        address(a, sizeof a, d, u);
        struct sim_device_config cfg = {
            .proto = SIM_DEVICE_IMAP, .account = a, .password = "pw",
            .server_ip = sim_host_ip(w->mail[d]), .port = SIM_IMAPD_PORT_TLS,
            .check_every = CHECK_EVERY, .epoch = EPOCH,
        };
        w->dev[i] = sim_device_new(&w->e, w->net, phone, &cfg);
        if (!w->dev[i]) die("devices");
        /* the first sync at a different time for each, then every ten
         * minutes; a last one after the last message has arrived */
        sim_device_check(w->dev[i], SIM_MSEC(rnd(600000)));
        sim_device_check(w->dev[i], final + SIM_MSEC(rnd(FINAL_SPREAD * 1000)));
        sim_device_stop(w->dev[i], final + SIM_SEC(FINAL_SPREAD + 120));
    }
}

static void free_world(struct world *w)
{
    for (size_t i = 0; i < NDOMAINS * PER_DOMAIN; i++) sim_device_free(w->dev[i]);
    for (size_t i = 0; i < w->nmuas; i++) sim_mua_free(w->muas[i].mua);
    free(w->muas);
    for (size_t d = 0; d < NDOMAINS; d++) {
        sim_imapd_free(w->imapd[d]);
        sim_mta_free(w->mta[d]);
        sim_store_free(w->store[d]);
    }
    sim_dns_free(w->dns);
    sim_net_free(w->net);
    sim_engine_fini(&w->e);
}

/* Sends of program p are its k-th at k * interval + p * interval / NPROGRAMS. */
static sim_time send_time(const struct world *w, size_t p, size_t k)
{
    return (sim_time)k * w->interval + (sim_time)p * (w->interval / NPROGRAMS) + SIM_SEC(1);
}

static size_t sends_of(const struct world *w, size_t p)
{
    return w->messages / NPROGRAMS + (p < w->messages % NPROGRAMS);
}

/* Hands each program whose next send falls before `until` a new sim_mua
 * with its next SIM_MUA_JOBS_MAX sends, and frees mail programs retired
 * long enough ago. */
static void top_up(struct world *w, sim_time until)
{
    for (size_t i = 0; i < w->nmuas; i++)
        if (w->muas[i].mua && w->muas[i].free_at <= w->e.now) {
            sim_mua_free(w->muas[i].mua);
            w->muas[i].mua = NULL;
        }
    for (size_t p = 0; p < NPROGRAMS; p++) {
        struct program *pr = &w->prog[p];
        while (pr->next < sends_of(w, p) && send_time(w, p, pr->next) < until) {
            char from[64];
            address(from, sizeof from, pr->domain, pr->user);
            struct sim_mua_config cfg = {
                .account = from, .password = "pw", .submit_ip = sim_host_ip(w->mail[pr->domain]),
                .submit_port = SIM_MTA_PORT_SUBMISSION, .epoch = EPOCH,
            };
            struct sim_mua *m = sim_mua_new(&w->e, w->net, pr->host, &cfg);
            if (!m) die("out of memory");
            sim_time last = 0;
            for (size_t j = 0; j < SIM_MUA_JOBS_MAX && pr->next < sends_of(w, p); j++) {
                char to[64], subject[128];
                size_t d = (pr->domain + 1 + rnd(NDOMAINS - 1)) % NDOMAINS; /* another domain */
                address(to, sizeof to, d, rnd(PER_DOMAIN));
                snprintf(subject, sizeof subject, "message %zu from %s", pr->next, from);
                const char *rcpt[1] = {to};
                last = send_time(w, p, pr->next++);
                if (sim_mua_send(m, NULL, rcpt, 1, subject,
                                 "Hello,\n\nthe minutes of Monday's meeting are below.\n\n"
                                 "1. Budget: approved.\n2. Next meeting: Thursday.\n\nRegards\n",
                                 last) < 0)
                    die("sim_mua_send refused a send");
            }
            /* reuse a freed slot, or grow */
            size_t slot = w->nmuas;
            for (size_t i = 0; i < w->nmuas && slot == w->nmuas; i++)
                if (!w->muas[i].mua) slot = i;
            if (slot == w->nmuas) {
                if (w->nmuas == w->cap_muas) {
                    size_t cap = w->cap_muas ? w->cap_muas * 2 : 64;
                    struct retired *r = realloc(w->muas, cap * sizeof *r);
                    if (!r) die("out of memory");
                    w->muas = r;
                    w->cap_muas = cap;
                }
                w->nmuas++;
            }
            w->muas[slot] = (struct retired){m, last + RETIRE_AFTER};
        }
    }
}

struct result {
    double seconds;
    size_t delivered, fetched, submitted, failed;
    size_t events, trace_bytes, total_events;
    sim_time sim_end;
    uint64_t engine_events;
};

static void run_once(size_t messages, struct result *r)
{
    static struct world w;
    rnd_state = 0x243F6A8885A308D3u;
    build(&w, messages);
    memset(r, 0, sizeof *r);
    double t0 = bench_now_s();
    sim_time limit = send_time(&w, 0, messages / NPROGRAMS + 1) + SIM_SEC(60 + FINAL_SPREAD + 600);
    for (sim_time t = 0; t < limit && !w.e.failed; t += SLICE) {
        top_up(&w, t + 2 * SLICE);
        r->engine_events += sim_engine_run(&w.e, t + SLICE);
    }
    r->seconds = bench_now_s() - t0;
    if (w.e.failed) die("the engine ran out of room (queue or trace)");
    r->sim_end = w.e.now;
    for (size_t d = 0; d < NDOMAINS; d++) {
        struct sim_mta_counters c;
        sim_mta_counters(w.mta[d], &c);
        r->submitted += c.messages;
        r->failed += c.bounced + c.dropped + c.queued;
        for (size_t u = 0; u < PER_DOMAIN; u++) {
            char a[64];
            address(a, sizeof a, d, u);
            r->delivered += sim_store_count(w.store[d], a, "INBOX");
        }
    }
    for (size_t i = 0; i < NDOMAINS * PER_DOMAIN; i++) {
        struct sim_device_stats st;
        sim_device_stats(w.dev[i], &st);
        r->fetched += st.downloaded;
    }
    /* the trace's size: each event and the strings it holds */
    r->events = sim_trace_len(w.e.trace);
    r->total_events = sim_trace_total(w.e.trace);
    for (size_t i = 0; i < r->events; i++) {
        const struct sim_trace_event *ev = sim_trace_get(w.e.trace, i);
        r->trace_bytes += sizeof *ev + strlen(ev->from) + strlen(ev->to) + strlen(ev->text) +
                          strlen(ev->note) + 4;
    }
    free_world(&w);
}

/* ---- the reference: SMTP machines alone, in memory ------------------------------ */

static const char ref_message[] =
    "Received: from pc0 (unknown [192.0.2.100])\r\n"
    "\tby mx.example.com (mailsim) with ESMTPSA id 0123456789\r\n"
    "\tfor <user042@example.org>; Thu, 26 Nov 2026 09:00:01 +0000\r\n"
    "From: user000@example.com\r\n"
    "To: user042@example.org\r\n"
    "Subject: message 1 from user000@example.com\r\n"
    "Date: Thu, 26 Nov 2026 09:00:01 +0000\r\n"
    "Message-ID: <20261126090001.1@example.com>\r\n"
    "\r\n"
    "Hello,\r\n\r\nthe minutes of Monday's meeting are below.\r\n\r\n"
    "1. Budget: approved.\r\n2. Next meeting: Thursday.\r\n\r\nRegards\r\n";

/* One message from a client machine to a server machine; returns true when
 * the server answered 250 after DATA and the client saw it. */
static bool ref_session(size_t i)
{
    char to[64], id[16];
    address(to, sizeof to, 1, i % PER_DOMAIN);
    const char *rcpts[1] = {to};
    struct smtp_client_config ccfg = {.ehlo_name = "mx.example.com"};
    struct smtp_client_message msg = {
        .reverse_path = "user000@example.com", .rcpts = rcpts, .nrcpts = 1,
        .data = ref_message, .len = sizeof ref_message - 1,
    };
    struct smtp_server_config scfg = {.hostname = "mx.example.org"};
    struct smtp_client *c = smtp_client_new(&ccfg, &msg, NULL);
    struct smtp_server *s = smtp_server_new(&scfg);
    if (!c || !s) die("out of memory");
    bool done = false, queued = false;
    size_t body = 0;
    for (int rounds = 0; !done && rounds < 1000; rounds++) {
        const char *p;
        size_t n;
        while ((n = smtp_server_output(s, &p)) > 0) {
            size_t took = smtp_client_feed(c, p, n);
            smtp_server_consumed(s, took);
            if (took < n) break;
        }
        struct smtp_client_event cev;
        int rc;
        while ((rc = smtp_client_next(c, &cev)) == SMTP_CLIENT_EVENT)
            if (cev.type == SMTP_CLIENT_EV_DONE) done = true;
        while ((n = smtp_client_output(c, &p)) > 0) {
            size_t took = smtp_server_feed(s, p, n);
            smtp_client_consumed(c, took);
            struct smtp_server_event sev;
            while (smtp_server_next(s, &sev) == SMTP_SERVER_EVENT) {
                if (sev.type == SMTP_SERVER_EV_MAIL || sev.type == SMTP_SERVER_EV_RCPT)
                    smtp_server_accept(s, NULL);
                else if (sev.type == SMTP_SERVER_EV_DATA)
                    body += sev.line_len; /* what a store would copy */
                else if (sev.type == SMTP_SERVER_EV_DATA_END) {
                    snprintf(id, sizeof id, "%010zX", i);
                    queued = smtp_server_queued(s, id) == 0;
                }
            }
            if (took < n) break;
        }
        if (rc == SMTP_CLIENT_ERR_DONE) done = true;
    }
    struct smtp_client_result res;
    smtp_client_result(c, &res);
    smtp_client_free(c);
    smtp_server_free(s);
    return done && queued && body > 0 && res.outcome == SMTP_CLIENT_DELIVERED;
}

static double ref_once(size_t messages)
{
    double t0 = bench_now_s();
    for (size_t i = 0; i < messages; i++)
        if (!ref_session(i)) die("the reference SMTP session failed");
    return bench_now_s() - t0;
}

/* ---- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    int a = 1;
    if (argc > 1 && strcmp(argv[1], "--full-trace") == 0) {
        full_trace = true;
        a++;
    }
    long messages = argc > a ? strtol(argv[a], NULL, 10) : MESSAGES_DEFAULT;
    long runs = argc > a + 1 ? strtol(argv[a + 1], NULL, 10) : RUNS_DEFAULT;
    if (messages < NPROGRAMS || messages > MESSAGES_MAX || runs < 1 || runs > RUNS_MAX) {
        fprintf(stderr, "usage: bench_e2e [--full-trace] [MESSAGES (%d..%d) [RUNS (1..%d)]]\n",
                NPROGRAMS,
                MESSAGES_MAX, RUNS_MAX);
        return 2;
    }
    double sim_rate[RUNS_MAX], ref_rate[RUNS_MAX];
    struct result r;
    printf("bench_e2e: %d accounts on %d domains, %ld messages (587 with STARTTLS and AUTH, "
           "MX lookup, relay on 25, IMAP fetch on 993), %ld runs\n",
           NDOMAINS * PER_DOMAIN, NDOMAINS, messages, runs);
    fflush(stdout);
    bool lost = false;
    for (long i = 0; i < runs; i++) {
        run_once((size_t)messages, &r);
        sim_rate[i] = (double)messages / r.seconds;
        ref_rate[i] = (double)messages / ref_once((size_t)messages);
        printf("  run %ld: %.2f s wall for %.0f s simulated, %" PRIu64 " engine events; "
               "%zu taken by MTAs (587 and 25), %zu stored, %zu fetched by IMAP, %zu not "
               "delivered\n",
               i + 1, r.seconds, (double)r.sim_end / 1e6, r.engine_events, r.submitted,
               r.delivered, r.fetched, r.failed);
        fflush(stdout);
        lost |= r.submitted != 2 * (size_t)messages || r.delivered != (size_t)messages ||
                r.fetched != (size_t)messages || r.failed != 0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double sim = bench_median(sim_rate, (size_t)runs), ref = bench_median(ref_rate, (size_t)runs);
    double trace_mb = (double)r.trace_bytes / (1024.0 * 1024.0);
    printf("  trace: %zu events made (%.1f per message); %s: %zu events, about %.0f MiB\n",
           r.total_events, (double)r.total_events / (double)messages,
           full_trace ? "all kept" : "kept all but protocol lines and state changes", r.events,
           trace_mb);
    printf("  simulated: median %.0f messages/s; reference (SMTP machines alone, in memory): "
           "median %.0f messages/s; peak memory %.0f MiB\n",
           sim, ref, (double)ru.ru_maxrss / 1024.0);
    printf("BENCH\te2e messages (simulated)\t%.0f\tmsg/s\t%.0f\t%.4f\n", sim, ref, sim / ref);
    printf("BENCH\te2e trace made\t%.1f\tevents/msg\t-\t-\n",
           (double)r.total_events / (double)messages);
    printf("BENCH\te2e trace kept\t%.1f\tMiB\t-\t-\n", trace_mb);
    printf("BENCH\te2e peak memory\t%.0f\tMiB\t-\t-\n", (double)ru.ru_maxrss / 1024.0);
    if (lost) {
        fprintf(stderr, "bench_e2e: not every message was submitted, stored and fetched once\n");
        return 1;
    }
    return 0;
}
