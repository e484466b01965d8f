/* The simulated MTA in a small world built by hand: submission on 587 with
 * STARTTLS and AUTH, relay to the recipient domain's MX on 25 and delivery
 * into the INBOX (exact SMTP lines, Received: and Return-Path:); MX
 * preference and failover; the address-record fallback; null MX; relay
 * denied; wrong password; AUTH before STARTTLS; unknown recipients at RCPT
 * and after relay (a DSN back in the sender's INBOX); greylisting and the
 * retry at its exact time; port 25 blocked outbound; a full mailbox
 * bouncing at the maximum age; bounces of bounces dropped; and the
 * conservation counters over randomised runs. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/smtp_client.h"
#include "sim/dns_service.h"
#include "sim/mta.h"
#include "sim/net.h"
#include "sim/store.h"
#include "tests/sim_script.h"

/* ---- the world ---------------------------------------------------------------
 *
 *   pc        192.0.2.10     10 ms  alice's computer: submits on 587/465
 *   resolver  192.0.2.53      5 ms  the recursive resolver every MTA asks
 *   ns        192.0.2.54      5 ms  authoritative for example.com/.org/.net
 *   mail-com  192.0.2.25      5 ms  mail.example.com: example.com's MTA (25, 587, 465)
 *   mx1-org   198.51.100.25  20 ms  mx1.example.org, MX 10 for example.org
 *   mx2-org   198.51.100.26  20 ms  mx2.example.org, MX 20 (backup, its own store)
 *   branch    198.51.100.27  20 ms  branch.example.org: no MX, only an A record
 *
 * example.net has a null MX (RFC 7505); nowhere.example.org does not exist. */

#define EPOCH 1795683600 /* Thu, 26 Nov 2026 09:00:00 +0000 */
#define COM_IP "192.0.2.25"

static struct sim_engine engine;
static struct sim_net *net;
static struct sim_dns *dns;
static struct sim_host *pc, *mail_com, *mx1_org, *mx2_org, *branch;
static struct sim_store *store_com, *store_org1, *store_org2, *store_branch;
static struct sim_mta *mta_com, *mta_org1, *mta_org2, *mta_branch;

/* Per-test changes to the world, set before world(). */
static struct {
    bool greylist_org1;
    size_t full_quota; /* full@example.org's quota, 0: 100 octets */
    sim_time max_age;  /* for every MTA, 0: the default */
} opt;

static void must(int err, const char *what)
{
    if (err) fail_msg("%s failed: %d", what, err);
}

static struct sim_mta *add_mta(struct sim_host *h, const char *hostname, const char *domain,
                               struct sim_store *st, bool submission, bool greylisting)
{
    const char *domains[1] = {domain};
    struct sim_mta_config cfg = {
        .hostname = hostname, .domains = domains, .ndomains = 1, .store = st,
        .resolver_ip = "192.0.2.53", .listen_smtp = true, .listen_submission = submission,
        .listen_submissions = submission, .greylisting = greylisting, .max_age = opt.max_age,
        .epoch = EPOCH,
    };
    struct sim_mta *m = sim_mta_new(&engine, net, dns, h, &cfg);
    assert_non_null(m);
    return m;
}

static void world(uint64_t seed)
{
    assert_int_equal(sim_engine_init(&engine, seed), 0);
    net = sim_net_new(&engine);
    assert_non_null(net);
    pc = sim_net_add_host(net, "pc", "192.0.2.10", SIM_ROLE_COMPUTER, SIM_MSEC(10), 0);
    struct sim_host *resolver =
        sim_net_add_host(net, "resolver", "192.0.2.53", SIM_ROLE_DNS_RESOLVER, SIM_MSEC(5), 0);
    struct sim_host *ns = sim_net_add_host(net, "ns", "192.0.2.54", SIM_ROLE_DNS_SERVER, SIM_MSEC(5), 0);
    mail_com = sim_net_add_host(net, "mail-com", COM_IP, SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
    mx1_org = sim_net_add_host(net, "mx1-org", "198.51.100.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(20), 0);
    mx2_org = sim_net_add_host(net, "mx2-org", "198.51.100.26", SIM_ROLE_MAIL_SERVER, SIM_MSEC(20), 0);
    branch = sim_net_add_host(net, "branch", "198.51.100.27", SIM_ROLE_MAIL_SERVER, SIM_MSEC(20), 0);
    assert_true(pc && resolver && ns && mail_com && mx1_org && mx2_org && branch);

    dns = sim_dns_new(&engine, net);
    assert_non_null(dns);
    struct sim_dns_zone *com, *org, *netz;
    must(sim_dns_zone_add(dns, "example.com", &com), "zone com");
    must(sim_dns_zone_add_mx(com, "example.com", 10, "mail.example.com", 3600), "mx com");
    must(sim_dns_zone_add_a(com, "mail.example.com", COM_IP, 3600), "a com");
    must(sim_dns_zone_add(dns, "example.org", &org), "zone org");
    must(sim_dns_zone_add_mx(org, "example.org", 10, "mx1.example.org", 3600), "mx1");
    must(sim_dns_zone_add_mx(org, "example.org", 20, "mx2.example.org", 3600), "mx2");
    must(sim_dns_zone_add_a(org, "mx1.example.org", "198.51.100.25", 3600), "a mx1");
    must(sim_dns_zone_add_a(org, "mx2.example.org", "198.51.100.26", 3600), "a mx2");
    must(sim_dns_zone_add_a(org, "branch.example.org", "198.51.100.27", 3600), "a branch");
    must(sim_dns_zone_add(dns, "example.net", &netz), "zone net");
    must(sim_dns_zone_add_mx(netz, "example.net", 0, ".", 3600), "null mx");
    must(sim_dns_serve_zone(dns, ns, com), "serve com");
    must(sim_dns_serve_zone(dns, ns, org), "serve org");
    must(sim_dns_serve_zone(dns, ns, netz), "serve net");
    must(sim_dns_resolver_add(dns, resolver), "resolver");
    must(sim_dns_resolver_delegate(dns, resolver, "example.com", "192.0.2.54"), "del com");
    must(sim_dns_resolver_delegate(dns, resolver, "example.org", "192.0.2.54"), "del org");
    must(sim_dns_resolver_delegate(dns, resolver, "example.net", "192.0.2.54"), "del net");

    store_com = sim_store_new(&engine, "mail-com", EPOCH);
    store_org1 = sim_store_new(&engine, "mx1-org", EPOCH);
    store_org2 = sim_store_new(&engine, "mx2-org", EPOCH);
    store_branch = sim_store_new(&engine, "branch", EPOCH);
    assert_true(store_com && store_org1 && store_org2 && store_branch);
    assert_int_equal(sim_store_add_account(store_com, "alice@example.com", "alice-pw", 0), 0);
    assert_int_equal(sim_store_add_account(store_org1, "friend@example.org", "friend-pw", 0), 0);
    assert_int_equal(sim_store_add_account(store_org1, "full@example.org", "x",
                                           opt.full_quota ? opt.full_quota : 100), 0);
    assert_int_equal(sim_store_add_account(store_org2, "friend@example.org", "friend-pw", 0), 0);
    assert_int_equal(sim_store_add_account(store_branch, "bob@branch.example.org", "bob-pw", 0), 0);

    mta_com = add_mta(mail_com, "mail.example.com", "example.com", store_com, true, false);
    mta_org1 = add_mta(mx1_org, "mx1.example.org", "example.org", store_org1, false,
                       opt.greylist_org1);
    mta_org2 = add_mta(mx2_org, "mx2.example.org", "example.org", store_org2, false, false);
    mta_branch = add_mta(branch, "branch.example.org", "branch.example.org", store_branch, false,
                         false);
}

static void teardown_world(void)
{
    sim_mta_free(mta_com);
    sim_mta_free(mta_org1);
    sim_mta_free(mta_org2);
    sim_mta_free(mta_branch);
    sim_store_free(store_com);
    sim_store_free(store_org1);
    sim_store_free(store_org2);
    sim_store_free(store_branch);
    sim_dns_free(dns);
    sim_net_free(net);
    sim_engine_fini(&engine);
    memset(&opt, 0, sizeof opt);
}

/* ---- a mail program: one smtp_client machine over a sim connection ------------ */

struct mua {
    struct smtp_client_config cfg;
    struct smtp_client_message msg;
    const char *rcpts[4];
    struct smtp_client *cli;
    struct sim_conn *conn;
    char in[8192], out[8192];
    size_t in_len, out_len;
    bool failed, done;
    enum sim_conn_failure why;
    struct smtp_client_result res;
    struct smtp_client_rcpt_result rr[4];
    unsigned conn_id;
};

static void mua_flush(struct mua *u)
{
    const char *p;
    size_t n;
    while ((n = smtp_client_output(u->cli, &p)) > 0) {
        assert_true(u->out_len + n <= sizeof u->out);
        memcpy(u->out + u->out_len, p, n);
        u->out_len += n;
        smtp_client_consumed(u->cli, n);
    }
    size_t off = 0; /* whole lines only: each is one trace line */
    for (size_t i = 0; i < u->out_len; i++)
        if (u->out[i] == '\n') {
            sim_conn_send(u->conn, SIM_DIR_C2S, u->out + off, i + 1 - off, NULL);
            off = i + 1;
        }
    memmove(u->out, u->out + off, u->out_len - off);
    u->out_len -= off;
}

static void mua_pump(struct mua *u)
{
    struct smtp_client_event ev;
    for (;;) {
        if (u->in_len) {
            size_t took = smtp_client_feed(u->cli, u->in, u->in_len);
            memmove(u->in, u->in + took, u->in_len - took);
            u->in_len -= took;
        }
        if (smtp_client_next(u->cli, &ev) != SMTP_CLIENT_EVENT) break;
        if (ev.type == SMTP_CLIENT_EV_STARTTLS) {
            mua_flush(u);
            sim_conn_start_tls(u->conn);
        } else if (ev.type == SMTP_CLIENT_EV_DONE) {
            mua_flush(u);
            u->done = true;
            smtp_client_result(u->cli, &u->res);
            for (size_t i = 0; i < u->msg.nrcpts; i++) smtp_client_rcpt(u->cli, i, &u->rr[i]);
            sim_conn_close(u->conn, SIM_DIR_C2S);
            return;
        }
    }
    mua_flush(u);
}

static void mua_connected(void *ctx, struct sim_conn *c)
{
    struct mua *u = ctx;
    u->conn = c;
    u->conn_id = sim_conn_id(c);
    int err = 0;
    u->cli = smtp_client_new(&u->cfg, &u->msg, &err);
    assert_non_null(u->cli);
    mua_pump(u);
}

static void mua_failed(void *ctx, enum sim_conn_failure why)
{
    struct mua *u = ctx;
    u->failed = true;
    u->why = why;
}

static void mua_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)c;
    struct mua *u = ctx;
    if (u->done) return;
    assert_true(u->in_len + n <= sizeof u->in);
    memcpy(u->in + u->in_len, bytes, n);
    u->in_len += n;
    mua_pump(u);
}

static void mua_tls(void *ctx, struct sim_conn *c)
{
    (void)c;
    struct mua *u = ctx;
    assert_int_equal(smtp_client_tls_started(u->cli), 0);
    mua_pump(u);
}

static void mua_closed(void *ctx, struct sim_conn *c)
{
    (void)c;
    struct mua *u = ctx;
    if (!u->done && u->cli) {
        u->done = true;
        smtp_client_result(u->cli, &u->res);
    }
}

static const struct sim_client_ops mua_ops = {mua_connected, mua_failed, mua_data, mua_tls,
                                              mua_closed};

static const char letter[] = "From: Alice <alice@example.com>\r\n"
                             "To: friend@example.org\r\n"
                             "Subject: lunch\r\n"
                             "Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
                             "Message-ID: <1@pc.example.com>\r\n"
                             "\r\n"
                             "Noon at the usual place?\r\n";

/* alice's mail program on pc sends letter to rcpt (one or two, NULL-ended)
 * through mail.example.com on port (587 with STARTTLS, 465 implicit TLS,
 * or 25 without AUTH when password is NULL). */
static void mua_start(struct mua *u, unsigned port, const char *password, const char *rcpt1,
                      const char *rcpt2)
{
    memset(u, 0, sizeof *u);
    u->cfg = (struct smtp_client_config){
        .ehlo_name = "pc.example.com",
        .tls = port == 587 ? SMTP_CLIENT_TLS_REQUIRED : SMTP_CLIENT_TLS_NEVER,
        .tls_active = port == 465,
        .auth_user = password ? "alice@example.com" : NULL,
        .auth_password = password,
    };
    u->rcpts[0] = rcpt1;
    u->rcpts[1] = rcpt2;
    u->msg = (struct smtp_client_message){
        .reverse_path = "alice@example.com", .rcpts = u->rcpts, .nrcpts = rcpt2 ? 2 : 1,
        .data = letter, .len = sizeof letter - 1,
    };
    sim_net_connect(net, pc, COM_IP, port, &mua_ops, u);
}

static void mua_free(struct mua *u) { smtp_client_free(u->cli); }

/* ---- reading the trace -------------------------------------------------------- */

static char got[65536];

/* The SMTP lines of connection conn as "C: ..." / "S: ...", one per line,
 * with "-- TLS --" where the handshake completed. */
static const char *transcript(unsigned conn)
{
    size_t o = 0;
    got[0] = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->conn != conn) continue;
        if (ev->kind == SIM_TR_LINE)
            o += (size_t)snprintf(got + o, sizeof got - o, "%s: %s\n",
                                  ev->dir == SIM_DIR_C2S ? "C" : "S", ev->text);
        else if (ev->kind == SIM_TR_TLS && strcmp(ev->text, "TLS handshake complete") == 0)
            o += (size_t)snprintf(got + o, sizeof got - o, "-- TLS --\n");
    }
    return got;
}

/* The connection number of the n-th connection (0-based) from host `from`
 * to host `to` on port, established or not; 0 when none. */
static unsigned conn_of(const char *from, const char *to, unsigned port, int n)
{
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if ((ev->kind == SIM_TR_CONNECT || ev->kind == SIM_TR_REFUSED) &&
            strcmp(ev->from, from) == 0 && strcmp(ev->to, to) == 0 && ev->port == port &&
            n-- == 0)
            return ev->conn;
    }
    return 0;
}

/* The QUEUE events of host joined with "\n", each "t=SECONDS text" with
 * the queue id replaced by "ID" (ids are hashes; their use is checked
 * apart). */
static const char *queue_story(const char *host)
{
    size_t o = 0;
    got[0] = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind != SIM_TR_QUEUE || strcmp(ev->from, host) != 0) continue;
        o += (size_t)snprintf(got + o, sizeof got - o, "%.3f %s\n", (double)ev->t / 1e6,
                              ev->text);
    }
    return got;
}

static void assert_text(const char *want, const char *have)
{
    if (strcmp(want, have) != 0) {
        if (getenv("MTA_DUMP")) dump_trace(&engine);
        fail_msg("want:\n%s\ngot:\n%s", want, have);
    }
}

static void assert_conserved(const struct sim_mta *m)
{
    struct sim_mta_counters c;
    sim_mta_counters(m, &c);
    if (c.accepted + c.generated != c.delivered + c.bounced + c.dropped + c.queued)
        fail_msg("%s: accepted %zu + generated %zu != delivered %zu + bounced %zu + dropped %zu "
                 "+ queued %zu", sim_mta_hostname(m), c.accepted, c.generated, c.delivered,
                 c.bounced, c.dropped, c.queued);
}

static const struct sim_stored_msg *inbox(struct sim_store *st, const char *who, size_t i)
{
    const struct sim_stored_msg *msg = sim_store_msg(st, who, "INBOX", i);
    if (!msg) fail_msg("no message %zu in %s's INBOX", i, who);
    return msg;
}

/* ---- tests ------------------------------------------------------------------------ */

#define EHLO_COM(client)                                \
    "S: 250-mail.example.com greets " client "\n"       \
    "S: 250-PIPELINING\n"                               \
    "S: 250-SIZE 10485760\n"                            \
    "S: 250-8BITMIME\n"                                 \
    "S: 250-ENHANCEDSTATUSCODES\n"

#define LETTER_LINES                                    \
    "C: From: Alice <alice@example.com>\n"              \
    "C: To: friend@example.org\n"                       \
    "C: Subject: lunch\n"                               \
    "C: Date: Thu, 26 Nov 2026 09:00:00 +0000\n"        \
    "C: Message-ID: <1@pc.example.com>\n"               \
    "C: \n"                                             \
    "C: Noon at the usual place?\n"                     \
    "C: .\n"

static const char want_submission[] =
    "S: 220 mail.example.com Simple Mail Transfer Service Ready\n"
    "C: EHLO pc.example.com\n"
    EHLO_COM("pc.example.com")
    "S: 250 STARTTLS\n"
    "C: STARTTLS\n"
    "S: 220 2.0.0 Ready to start TLS\n"
    "-- TLS --\n"
    "C: EHLO pc.example.com\n"
    EHLO_COM("pc.example.com")
    "S: 250 AUTH PLAIN LOGIN\n"
    "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAGFsaWNlLXB3\n"
    "S: 235 2.7.0 Authentication successful\n"
    "C: MAIL FROM:<alice@example.com> SIZE=172\n"
    "C: RCPT TO:<friend@example.org>\n"
    "C: DATA\n"
    "S: 250 2.1.0 Ok\n"
    "S: 250 2.1.5 Ok\n"
    "S: 354 Start mail input; end with <CRLF>.<CRLF>\n"
    LETTER_LINES
    "S: 250 2.0.0 Ok: queued as 8E5025D89B\n"
    "C: QUIT\n"
    "S: 221 2.0.0 mail.example.com Service closing transmission channel\n";

#define EHLO_MX1                                         \
    "S: 250-mx1.example.org greets mail.example.com\n"   \
    "S: 250-PIPELINING\n"                                \
    "S: 250-SIZE 10485760\n"                             \
    "S: 250-8BITMIME\n"

static const char want_relay[] =
    "S: 220 mx1.example.org Simple Mail Transfer Service Ready\n"
    "C: EHLO mail.example.com\n"
    EHLO_MX1
    "S: 250-ENHANCEDSTATUSCODES\n"
    "S: 250 STARTTLS\n"
    "C: STARTTLS\n"
    "S: 220 2.0.0 Ready to start TLS\n"
    "-- TLS --\n"
    "C: EHLO mail.example.com\n"
    EHLO_MX1
    "S: 250 ENHANCEDSTATUSCODES\n"
    "C: MAIL FROM:<alice@example.com> SIZE=345\n"
    "C: RCPT TO:<friend@example.org>\n"
    "C: DATA\n"
    "S: 250 2.1.0 Ok\n"
    "S: 250 2.1.5 Ok\n"
    "S: 354 Start mail input; end with <CRLF>.<CRLF>\n"
    "C: Received: from pc.example.com (unknown [192.0.2.10])\n"
    "C: \tby mail.example.com (mailsim) with ESMTPSA id 8E5025D89B\n"
    "C: \tfor <friend@example.org>; Thu, 26 Nov 2026 09:00:00 +0000\n"
    LETTER_LINES
    "S: 250 2.0.0 Ok: queued as 1FB859562E\n"
    "C: QUIT\n"
    "S: 221 2.0.0 mx1.example.org Service closing transmission channel\n";

static const char want_stored[] =
    "Return-Path: <alice@example.com>\r\n"
    "Received: from mail.example.com (unknown [192.0.2.25])\r\n"
    "\tby mx1.example.org (mailsim) with ESMTPS id 1FB859562E\r\n"
    "\tfor <friend@example.org>; Thu, 26 Nov 2026 09:00:00 +0000\r\n"
    "Received: from pc.example.com (unknown [192.0.2.10])\r\n"
    "\tby mail.example.com (mailsim) with ESMTPSA id 8E5025D89B\r\n"
    "\tfor <friend@example.org>; Thu, 26 Nov 2026 09:00:00 +0000\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: friend@example.org\r\n"
    "Subject: lunch\r\n"
    "Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <1@pc.example.com>\r\n"
    "\r\n"
    "Noon at the usual place?\r\n";

/* The whole way: 587 with STARTTLS and AUTH PLAIN, relay over 25 with
 * opportunistic STARTTLS, delivery into friend's INBOX. */
static void test_submit_relay_deliver(void **state)
{
    (void)state;
    world(1);
    struct mua u;
    mua_start(&u, 587, "alice-pw", "friend@example.org", NULL);
    sim_engine_run(&engine, SIM_SEC(600));
    assert_true(u.done);
    assert_int_equal(u.res.outcome, SMTP_CLIENT_DELIVERED);
    assert_text(want_submission, transcript(u.conn_id));
    assert_text(want_relay, transcript(conn_of("mail-com", "mx1-org", 25, 0)));
    assert_text("0.225 8E5025D89B: queued, from=<alice@example.com>, nrcpt=1, size=345\n"
                "0.225 8E5025D89B: delivery attempt 1\n"
                "0.665 8E5025D89B: to=<friend@example.org>, relay=mx1.example.org"
                "[198.51.100.25]:25, status=sent (250 2.0.0 Ok: queued as 1FB859562E)\n"
                "0.665 8E5025D89B: removed\n",
                queue_story("mail-com"));
    assert_text("0.590 1FB859562E: queued, from=<alice@example.com>, nrcpt=1, size=518\n"
                "0.590 1FB859562E: delivery attempt 1\n"
                "0.590 1FB859562E: to=<friend@example.org>, relay=local, status=sent "
                "(delivered to INBOX)\n"
                "0.590 1FB859562E: removed\n",
                queue_story("mx1-org"));
    /* the queue event comes before the 250 that takes responsibility */
    const struct sim_trace_event *q = find_event(&engine, SIM_TR_QUEUE, SIM_DIR_COUNT,
        "8E5025D89B: queued, from=<alice@example.com>, nrcpt=1, size=345", 0);
    const struct sim_trace_event *ok = find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C,
        "250 2.0.0 Ok: queued as 8E5025D89B", 0);
    assert_true(q && ok && q->step < ok->step);
    assert_int_equal(sim_store_count(store_org1, "friend@example.org", "INBOX"), 1);
    const struct sim_stored_msg *msg = inbox(store_org1, "friend@example.org", 0);
    assert_bytes(want_stored, msg->bytes, msg->size);
    assert_int_equal(sim_store_count(store_org2, "friend@example.org", "INBOX"), 0);
    struct sim_mta_counters c;
    sim_mta_counters(mta_com, &c);
    assert_true(c.accepted == 1 && c.delivered == 1 && c.queued == 0 && c.bounced == 0 &&
                c.messages == 1 && c.attempts == 1 && c.dsns == 0);
    sim_mta_counters(mta_org1, &c);
    assert_true(c.accepted == 1 && c.delivered == 1 && c.queued == 0 && c.attempts == 0);
    assert_int_equal(sim_mta_queue_len(mta_com), 0);
    assert_conserved(mta_com);
    assert_conserved(mta_org1);
    mua_free(&u);
    teardown_world();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_relay_deliver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
