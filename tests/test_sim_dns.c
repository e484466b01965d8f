/* The simulated DNS service on sim/net: zone loading (good and bad rows),
 * authoritative answers (RFC 1034 4.3.2), the resolver's cache and negative
 * cache, CNAMEs within and across zones, retries and SERVFAIL when the
 * authority is down at exact simulated times, FORMERR for malformed bytes,
 * MX resolution end to end (null MX, implicit MX, addresses asked for), and
 * the same seed giving the same trace. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "sim/dns_service.h"
#include "sim/net.h"

/* ---- the world ---------------------------------------------------------------
 *
 *   mta       192.0.2.10     10 ms   the sending mail server (a stub client)
 *   resolver  192.0.2.53      5 ms   its recursive resolver
 *   ns-org    198.51.100.53  20 ms   authoritative for example.org
 *   ns-net    203.0.113.53   30 ms   authoritative for example.net and example.com
 *   pc        192.0.2.99     10 ms   sends raw bytes (port 5353) for the FORMERR rows
 *
 * One-way times: mta-resolver 15 ms, resolver-ns-org 25 ms,
 * resolver-ns-net 35 ms. */

#define RESOLVER_IP "192.0.2.53"
#define NS_ORG_IP "198.51.100.53"
#define NS_NET_IP "203.0.113.53"

static struct sim_engine engine;
static struct sim_net *net;
static struct sim_dns *svc;
static struct sim_host *mta, *resolver, *ns_org, *ns_net, *pc;

static void add(struct sim_dns_zone *z, const char *owner, uint16_t type, uint32_t ttl,
                const char *rdata)
{
    int err = sim_dns_zone_add_rr(z, owner, type, ttl, rdata);
    if (err)
        fail_msg("%s %s: %s", owner, rdata, sim_dns_strerror(err));
}

static void world(uint64_t seed)
{
    assert_int_equal(sim_engine_init(&engine, seed), 0);
    net = sim_net_new(&engine);
    assert_non_null(net);
    mta = sim_net_add_host(net, "mta", "192.0.2.10", SIM_ROLE_MAIL_SERVER, SIM_MSEC(10), 0);
    resolver = sim_net_add_host(net, "resolver", RESOLVER_IP, SIM_ROLE_DNS_RESOLVER, SIM_MSEC(5), 0);
    ns_org = sim_net_add_host(net, "ns-org", NS_ORG_IP, SIM_ROLE_DNS_SERVER, SIM_MSEC(20), 0);
    ns_net = sim_net_add_host(net, "ns-net", NS_NET_IP, SIM_ROLE_DNS_SERVER, SIM_MSEC(30), 0);
    pc = sim_net_add_host(net, "pc", "192.0.2.99", SIM_ROLE_COMPUTER, SIM_MSEC(10), 0);
    assert_true(mta && resolver && ns_org && ns_net && pc);
    svc = sim_dns_new(&engine, net);
    assert_non_null(svc);

    struct sim_dns_zone *org, *netz, *com;
    assert_int_equal(sim_dns_zone_add(svc, "example.org", &org), SIM_DNS_OK);
    assert_int_equal(sim_dns_zone_add_mx(org, "example.org", 10, "mx1.example.org", 3600), 0);
    assert_int_equal(sim_dns_zone_add_mx(org, "example.org", 20, "mx2.example.org.", 3600), 0);
    assert_int_equal(sim_dns_zone_add_a(org, "mx1.example.org", "192.0.2.25", 3600), 0);
    add(org, "mx2.example.org", DNS_TYPE_A, 3600, "192.0.2.26");
    add(org, "www.example.org", DNS_TYPE_CNAME, 300, "mail.example.org");
    add(org, "mail.example.org", DNS_TYPE_A, 300, "192.0.2.30");
    add(org, "dangling.example.org", DNS_TYPE_CNAME, 300, "gone.example.org");
    add(org, "alias.example.org", DNS_TYPE_CNAME, 300, "mx.example.net");
    add(org, "a.b.example.org", DNS_TYPE_A, 300, "192.0.2.31");
    add(org, "example.org", DNS_TYPE_TXT, 300, "v=spf1 mx -all");
    add(org, "txtonly.example.org", DNS_TYPE_TXT, 300, "nothing else here");
    add(org, "shop.example.org", DNS_TYPE_MX, 600, "5 mail.example.com");
    add(org, "v6.example.org", DNS_TYPE_AAAA, 300, "2001:db8::25");

    assert_int_equal(sim_dns_zone_add(svc, "example.net", &netz), SIM_DNS_OK);
    assert_int_equal(sim_dns_zone_add_mx(netz, "example.net", 0, ".", 300), 0); /* RFC 7505 */
    add(netz, "mx.example.net", DNS_TYPE_A, 3600, "203.0.113.25");

    assert_int_equal(sim_dns_zone_add(svc, "example.com.", &com), SIM_DNS_OK);
    add(com, "example.com", DNS_TYPE_A, 600, "192.0.2.80");
    add(com, "mail.example.com", DNS_TYPE_A, 600, "192.0.2.81");

    assert_int_equal(sim_dns_serve_zone(svc, ns_org, org), SIM_DNS_OK);
    assert_int_equal(sim_dns_serve_zone(svc, ns_net, netz), SIM_DNS_OK);
    assert_int_equal(sim_dns_serve_zone(svc, ns_net, com), SIM_DNS_OK);
    assert_int_equal(sim_dns_resolver_add(svc, resolver), SIM_DNS_OK);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "example.org", NS_ORG_IP), 0);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "example.net", NS_NET_IP), 0);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "example.com", NS_NET_IP), 0);
}

static void teardown(void)
{
    sim_dns_free(svc);
    sim_net_free(net);
    sim_engine_fini(&engine);
}

/* ---- what lookups got ------------------------------------------------------- */

struct got {
    int calls;
    enum sim_dns_result r;
    sim_time t;
    uint16_t id;
    bool aa, ra;
    char summary[SIM_DNS_TEXT_MAX];
    char authority[DNS_RR_TEXT_MAX]; /* the first authority record, or "" */
    size_t nadd;
    char additional[SIM_DNS_TEXT_MAX]; /* additional records joined with "; " */
};
static struct got got[8];

static void on_lookup(void *ctx, enum sim_dns_result r, const struct dns_msg *m)
{
    struct got *g = ctx;
    g->calls++;
    g->r = r;
    g->t = engine.now;
    g->summary[0] = g->authority[0] = g->additional[0] = '\0';
    g->nadd = 0;
    if (!m)
        return;
    g->id = m->h.id;
    g->aa = m->h.aa;
    g->ra = m->h.ra;
    dns_msg_summary(m, g->summary, sizeof g->summary);
    if (m->sec[DNS_AUTHORITY].count)
        dns_rr_to_text(&m->sec[DNS_AUTHORITY].rr[0], g->authority, sizeof g->authority);
    g->nadd = m->sec[DNS_ADDITIONAL].count;
    for (size_t i = 0; i < g->nadd; i++) {
        char one[DNS_RR_TEXT_MAX];
        dns_rr_to_text(&m->sec[DNS_ADDITIONAL].rr[i], one, sizeof one);
        size_t o = strlen(g->additional);
        snprintf(g->additional + o, sizeof g->additional - o, "%s%s", i ? "; " : "", one);
    }
}

/* Lookups started by events at exact simulated times. */
struct planned {
    struct sim_host **from;
    const char *server;
    const char *name;
    uint16_t type;
    struct got *g;
};
static struct planned plan[8];

static void ev_lookup(struct sim_engine *e, void *ctx, uint64_t i)
{
    (void)e;
    (void)ctx;
    struct planned *p = &plan[i];
    assert_int_equal(sim_dns_lookup(svc, *p->from, p->server, p->name, p->type, on_lookup, p->g),
                     SIM_DNS_OK);
}

static void lookup_at(size_t i, sim_time at, const char *server, const char *name, uint16_t type)
{
    plan[i] = (struct planned){&mta, server, name, type, &got[i]};
    sim_after(&engine, at - engine.now, ev_lookup, NULL, i);
}

/* The i-th DNS event of the trace, or NULL. */
static const struct sim_trace_event *dns_event(size_t i)
{
    for (size_t s = 0; s < sim_trace_len(engine.trace); s++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, s);
        if (ev->kind == SIM_TR_DNS && i-- == 0)
            return ev;
    }
    return NULL;
}

static size_t count_kind(enum sim_trace_kind kind)
{
    size_t n = 0;
    for (size_t s = 0; s < sim_trace_len(engine.trace); s++)
        n += sim_trace_get(engine.trace, s)->kind == kind;
    return n;
}

/* DNS datagrams sent to host `to`. */
static size_t dns_to(const char *to)
{
    size_t n = 0;
    for (const struct sim_trace_event *ev; (ev = dns_event(n)) != NULL;)
        n++;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(dns_event(i)->to, to) == 0;
    return k;
}

static void assert_event(size_t i, sim_time t, sim_time arrive, const char *from, const char *to,
                         enum sim_dir dir, const char *text, const char *note)
{
    const struct sim_trace_event *ev = dns_event(i);
    if (!ev)
        fail_msg("no DNS event %zu", i);
    if (ev->t != t || ev->arrive != arrive || strcmp(ev->from, from) || strcmp(ev->to, to) ||
        ev->dir != dir || strcmp(ev->text, text) || (note && strcmp(ev->note, note)))
        fail_msg("event %zu: t=%llu arrive=%llu %s -> %s dir %d\n  text \"%s\"\n  note \"%s\"", i,
                 (unsigned long long)ev->t, (unsigned long long)ev->arrive, ev->from, ev->to,
                 (int)ev->dir, ev->text, ev->note);
    assert_int_equal(ev->port, SIM_DNS_PORT);
}

/* ---- zone loading ------------------------------------------------------------ */

static const struct {
    const char *name;
    const char *owner;
    uint16_t type;
    const char *rdata;
    int want;
} bad_records[] = {
    {"owner with an empty label", "a..example.org", DNS_TYPE_A, "192.0.2.1", SIM_DNS_ERR_NAME},
    {"owner outside the zone", "example.net", DNS_TYPE_A, "192.0.2.1", SIM_DNS_ERR_OUT_OF_ZONE},
    {"owner a suffix but not a label", "badexample.org", DNS_TYPE_A, "192.0.2.1", SIM_DNS_ERR_OUT_OF_ZONE},
    {"A with three parts", "h.example.org", DNS_TYPE_A, "192.0.2", SIM_DNS_ERR_RDATA},
    {"A octet over 255", "h.example.org", DNS_TYPE_A, "256.0.2.1", SIM_DNS_ERR_RDATA},
    {"A leading zero", "h.example.org", DNS_TYPE_A, "192.0.02.1", SIM_DNS_ERR_RDATA},
    {"A trailing text", "h.example.org", DNS_TYPE_A, "192.0.2.1x", SIM_DNS_ERR_RDATA},
    {"AAAA two gaps", "h.example.org", DNS_TYPE_AAAA, "2001::db8::1", SIM_DNS_ERR_RDATA},
    {"AAAA nine groups", "h.example.org", DNS_TYPE_AAAA, "1:2:3:4:5:6:7:8:9", SIM_DNS_ERR_RDATA},
    {"AAAA five hex digits", "h.example.org", DNS_TYPE_AAAA, "2001:db8::12345", SIM_DNS_ERR_RDATA},
    {"AAAA trailing colon", "h.example.org", DNS_TYPE_AAAA, "2001:db8:", SIM_DNS_ERR_RDATA},
    {"MX without preference", "example.org", DNS_TYPE_MX, "mx1.example.org", SIM_DNS_ERR_RDATA},
    {"MX preference over 65535", "example.org", DNS_TYPE_MX, "65536 mx1.example.org", SIM_DNS_ERR_RDATA},
    {"MX without exchange", "example.org", DNS_TYPE_MX, "10", SIM_DNS_ERR_RDATA},
    {"CNAME target bad", "c.example.org", DNS_TYPE_CNAME, "a..b", SIM_DNS_ERR_RDATA},
    {"CNAME beside an A", "mx1.example.org", DNS_TYPE_CNAME, "x.example.org", SIM_DNS_ERR_CNAME},
    {"A beside a CNAME", "www.example.org", DNS_TYPE_A, "192.0.2.1", SIM_DNS_ERR_CNAME},
    {"second CNAME", "www.example.org", DNS_TYPE_CNAME, "y.example.org", SIM_DNS_ERR_CNAME},
    {"CNAME at the apex", "example.org", DNS_TYPE_CNAME, "example.net", SIM_DNS_ERR_CNAME},
    {"SOA added by hand", "example.org", DNS_TYPE_SOA, "x", SIM_DNS_ERR_TYPE},
    {"PTR", "example.org", DNS_TYPE_PTR, "x.example.org", SIM_DNS_ERR_TYPE},
};

static void test_zone_loading(void **state)
{
    (void)state;
    world(1);
    struct sim_dns_zone *org = sim_dns_zone(svc, "EXAMPLE.org.");
    assert_non_null(org);
    assert_null(sim_dns_zone(svc, "example.edu"));
    size_t before = sim_dns_zone_rr_count(org);
    assert_int_equal(before, 13);
    for (size_t i = 0; i < ARRAY_LEN(bad_records); i++) {
        int err = sim_dns_zone_add_rr(org, bad_records[i].owner, bad_records[i].type, 300,
                                      bad_records[i].rdata);
        if (err != bad_records[i].want)
            fail_msg("%s: got %s", bad_records[i].name, sim_dns_strerror(err));
    }
    assert_int_equal(sim_dns_zone_rr_count(org), before);
    assert_int_equal(sim_dns_zone_add_mx(org, "example.org", 70000, "x.example.org", 1),
                     SIM_DNS_ERR_RDATA);
    struct sim_dns_zone *z;
    assert_int_equal(sim_dns_zone_add(svc, "Example.Org", &z), SIM_DNS_ERR_EXISTS);
    assert_int_equal(sim_dns_zone_add(svc, "a..b", &z), SIM_DNS_ERR_NAME);
    assert_int_equal(sim_dns_serve_zone(svc, ns_org, org), SIM_DNS_ERR_EXISTS);
    assert_int_equal(sim_dns_serve_zone(svc, resolver, org), SIM_DNS_ERR_BIND);
    assert_int_equal(sim_dns_resolver_add(svc, ns_org), SIM_DNS_ERR_BIND);
    assert_int_equal(sim_dns_resolver_add(svc, resolver), SIM_DNS_ERR_EXISTS);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "example.org", "192.0.2.1"),
                     SIM_DNS_ERR_EXISTS);
    assert_int_equal(sim_dns_resolver_delegate(svc, mta, "example.edu", "192.0.2.1"),
                     SIM_DNS_ERR_BIND);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "a..b", "192.0.2.1"),
                     SIM_DNS_ERR_NAME);
    assert_int_equal(sim_dns_lookup(svc, mta, RESOLVER_IP, "a..b", DNS_TYPE_A, on_lookup, got),
                     SIM_DNS_ERR_NAME);
    assert_string_equal(sim_dns_strerror(SIM_DNS_ERR_CNAME),
                        "a CNAME cannot share its name with other records");
    assert_string_equal(sim_dns_strerror(99), "unknown error");
    assert_string_equal(sim_dns_result_names[SIM_DNS_TIMEOUT], "timeout");
    assert_string_equal(sim_dns_mx_state_names[SIM_DNS_MX_QUERY_ADDR], "query-addr");

    /* the record limit is an error value, and a long TXT is split */
    assert_int_equal(sim_dns_zone_add(svc, "example.edu", &z), SIM_DNS_OK);
    char long_txt[401]; /* two strings: 255 + 145 */
    memset(long_txt, 'x', sizeof long_txt - 1);
    long_txt[sizeof long_txt - 1] = '\0';
    assert_int_equal(sim_dns_zone_add_rr(z, "example.edu", DNS_TYPE_TXT, 60, long_txt), 0);
    char owner[64];
    for (size_t i = 1; i < SIM_DNS_ZONE_RR_MAX; i++) {
        snprintf(owner, sizeof owner, "h%zu.example.edu", i);
        assert_int_equal(sim_dns_zone_add_a(z, owner, "192.0.2.1", 60), SIM_DNS_OK);
    }
    assert_int_equal(sim_dns_zone_add_a(z, "full.example.edu", "192.0.2.1", 60), SIM_DNS_ERR_FULL);
    assert_int_equal(sim_dns_zone_rr_count(z), SIM_DNS_ZONE_RR_MAX);
    teardown();
}

/* ---- authoritative answers, asked directly ------------------------------- */

static const struct {
    const char *name;
    const char *qname;
    uint16_t qtype;
    enum sim_dns_result r;
    bool aa;
    const char *summary;
    const char *authority;
    const char *additional;
} auth_cases[] = {
    {"MX with the addresses of its hosts", "example.org", DNS_TYPE_MX, SIM_DNS_ANSWER, true,
     "example.org. 3600 IN MX 10 mx1.example.org.; example.org. 3600 IN MX 20 mx2.example.org.",
     "", "mx1.example.org. 3600 IN A 192.0.2.25; mx2.example.org. 3600 IN A 192.0.2.26"},
    {"name matched without case", "EXAMPLE.Org", DNS_TYPE_MX, SIM_DNS_ANSWER, true,
     "example.org. 3600 IN MX 10 mx1.example.org.; example.org. 3600 IN MX 20 mx2.example.org.",
     "", "mx1.example.org. 3600 IN A 192.0.2.25; mx2.example.org. 3600 IN A 192.0.2.26"},
    {"A", "mx1.example.org", DNS_TYPE_A, SIM_DNS_ANSWER, true,
     "mx1.example.org. 3600 IN A 192.0.2.25", "", ""},
    {"AAAA", "v6.example.org", DNS_TYPE_AAAA, SIM_DNS_ANSWER, true,
     "v6.example.org. 300 IN AAAA 2001:db8::25", "", ""},
    {"TXT", "example.org", DNS_TYPE_TXT, SIM_DNS_ANSWER, true,
     "example.org. 300 IN TXT \"v=spf1 mx -all\"", "", ""},
    {"SOA", "example.org", DNS_TYPE_SOA, SIM_DNS_ANSWER, true,
     "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300", "", ""},
    {"CNAME followed in the zone", "www.example.org", DNS_TYPE_A, SIM_DNS_ANSWER, true,
     "www.example.org. 300 IN CNAME mail.example.org.; mail.example.org. 300 IN A 192.0.2.30", "", ""},
    {"CNAME asked for itself", "www.example.org", DNS_TYPE_CNAME, SIM_DNS_ANSWER, true,
     "www.example.org. 300 IN CNAME mail.example.org.", "", ""},
    {"CNAME into another server's zone", "alias.example.org", DNS_TYPE_A, SIM_DNS_ANSWER, true,
     "alias.example.org. 300 IN CNAME mx.example.net.", "", ""},
    {"CNAME to a missing name", "dangling.example.org", DNS_TYPE_A, SIM_DNS_NXDOMAIN, true,
     "dangling.example.org. 300 IN CNAME gone.example.org.; NXDOMAIN",
     "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300", ""},
    {"NODATA", "mx1.example.org", DNS_TYPE_MX, SIM_DNS_NODATA, true, "NODATA",
     "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300", ""},
    {"empty non-terminal is NODATA", "b.example.org", DNS_TYPE_A, SIM_DNS_NODATA, true, "NODATA",
     "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300", ""},
    {"NXDOMAIN", "nope.example.org", DNS_TYPE_A, SIM_DNS_NXDOMAIN, true, "NXDOMAIN",
     "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 3600 600 86400 300", ""},
    {"REFUSED outside its zones", "example.com", DNS_TYPE_A, SIM_DNS_FAILED, false, "REFUSED", "", ""},
};

static void test_authoritative_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(auth_cases); i++) {
        world(7);
        memset(got, 0, sizeof got);
        assert_int_equal(sim_dns_lookup(svc, mta, NS_ORG_IP, auth_cases[i].qname,
                                        auth_cases[i].qtype, on_lookup, &got[0]),
                         SIM_DNS_OK);
        sim_engine_run(&engine, SIM_SEC(60));
        struct got *g = &got[0];
        if (g->calls != 1 || g->r != auth_cases[i].r || g->aa != auth_cases[i].aa || g->ra ||
            strcmp(g->summary, auth_cases[i].summary) ||
            strcmp(g->authority, auth_cases[i].authority) ||
            strcmp(g->additional, auth_cases[i].additional))
            fail_msg("%s: calls %d result %s aa %d\n  summary \"%s\"\n  authority \"%s\"\n"
                     "  additional \"%s\"",
                     auth_cases[i].name, g->calls, sim_dns_result_names[g->r], g->aa, g->summary,
                     g->authority, g->additional);
        /* mta to ns-org is 30 ms each way */
        assert_true(g->t == SIM_MSEC(60));
        assert_int_equal(count_kind(SIM_TR_DNS), 2);
        if (i == 0)
            assert_string_equal(dns_event(0)->note,
                                "mta asks the name server where mail for example.org should go");
        teardown();
    }
}

/* ---- the resolver ------------------------------------------------------------ */

static void test_mx_through_resolver_timing_and_trace(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    assert_int_equal(sim_dns_lookup(svc, mta, RESOLVER_IP, "example.org", DNS_TYPE_MX, on_lookup,
                                    &got[0]),
                     SIM_DNS_OK);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(got[0].calls, 1);
    assert_int_equal(got[0].r, SIM_DNS_ANSWER);
    /* 15 ms to the resolver, 25 ms to ns-org, 25 back, 15 back */
    assert_true(got[0].t == SIM_MSEC(80));
    assert_false(got[0].aa);
    assert_true(got[0].ra);
    assert_int_equal(got[0].nadd, 2);
    const char *mx = "example.org. 3600 IN MX 10 mx1.example.org.; "
                     "example.org. 3600 IN MX 20 mx2.example.org.";
    assert_string_equal(got[0].summary, mx);
    assert_int_equal(count_kind(SIM_TR_DNS), 4);
    assert_event(0, 0, SIM_MSEC(15), "mta", "resolver", SIM_DIR_C2S, "example.org. IN MX?",
                 "mta asks its resolver where mail for example.org should go");
    assert_event(1, SIM_MSEC(15), SIM_MSEC(40), "resolver", "ns-org", SIM_DIR_C2S,
                 "example.org. IN MX?",
                 "the resolver has no cached answer, so it asks the server responsible for "
                 "example.org");
    assert_event(2, SIM_MSEC(40), SIM_MSEC(65), "ns-org", "resolver", SIM_DIR_S2C, mx,
                 "the authoritative server answers: two mail servers, preference 10 and 20; "
                 "lower is tried first; their addresses come along in the additional section");
    assert_event(3, SIM_MSEC(65), SIM_MSEC(80), "resolver", "mta", SIM_DIR_S2C, mx,
                 "the resolver answers: two mail servers, preference 10 and 20; lower is tried "
                 "first; their addresses come along in the additional section");
    teardown();
}

static void test_resolver_cache(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    lookup_at(0, 0, RESOLVER_IP, "example.org", DNS_TYPE_MX);
    lookup_at(1, SIM_SEC(100), RESOLVER_IP, "example.org", DNS_TYPE_MX);
    lookup_at(2, SIM_SEC(3700), RESOLVER_IP, "example.org", DNS_TYPE_MX); /* TTL 3600 is over */
    sim_engine_run(&engine, SIM_SEC(4000));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i].calls, 1);
        assert_int_equal(got[i].r, SIM_DNS_ANSWER);
    }
    /* the second: answered from the cache in 30 ms; stored at 65 ms, asked
     * at 100.015 s, so 99 whole seconds come off every TTL */
    assert_true(got[1].t == SIM_SEC(100) + SIM_MSEC(30));
    assert_string_equal(got[1].summary, "example.org. 3501 IN MX 10 mx1.example.org.; "
                                        "example.org. 3501 IN MX 20 mx2.example.org.");
    assert_string_equal(got[1].additional, "mx1.example.org. 3501 IN A 192.0.2.25; "
                                           "mx2.example.org. 3501 IN A 192.0.2.26");
    assert_event(5, SIM_SEC(100) + SIM_MSEC(15), SIM_SEC(100) + SIM_MSEC(30), "resolver", "mta",
                 SIM_DIR_S2C,
                 "example.org. 3501 IN MX 10 mx1.example.org.; example.org. 3501 IN MX 20 "
                 "mx2.example.org.",
                 "the resolver answers from its cache (3501 s left): two mail servers, "
                 "preference 10 and 20; lower is tried first; their addresses come along in the "
                 "additional section");
    /* no second query reached ns-org; the third, after expiry, did */
    assert_string_equal(dns_event(4)->to, "resolver");
    assert_string_equal(dns_event(6)->to, "resolver");
    assert_string_equal(dns_event(7)->to, "ns-org");
    assert_int_equal(dns_to("ns-org"), 2);
    assert_int_equal(count_kind(SIM_TR_DNS), 10);
    assert_true(got[2].t == SIM_SEC(3700) + SIM_MSEC(80));
    assert_string_equal(got[2].summary, got[0].summary);
    assert_int_equal(sim_dns_resolver_cache_count(svc, resolver), 1);
    assert_int_equal(sim_dns_resolver_cache_count(svc, mta), 0);
    teardown();
}

static void test_negative_answers_and_cache(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    lookup_at(0, 0, RESOLVER_IP, "nope.example.org", DNS_TYPE_A);
    lookup_at(1, SIM_SEC(200), RESOLVER_IP, "nope.example.org", DNS_TYPE_A);
    lookup_at(2, SIM_SEC(400), RESOLVER_IP, "nope.example.org", DNS_TYPE_A); /* 300 s are over */
    lookup_at(3, SIM_SEC(500), RESOLVER_IP, "mx1.example.org", DNS_TYPE_MX);
    lookup_at(4, SIM_SEC(600), RESOLVER_IP, "mx1.example.org", DNS_TYPE_MX);
    lookup_at(5, SIM_SEC(700), RESOLVER_IP, "host.example.edu", DNS_TYPE_A); /* no delegation */
    sim_engine_run(&engine, SIM_SEC(1000));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i].r, SIM_DNS_NXDOMAIN);
        assert_string_equal(got[i].summary, "NXDOMAIN");
    }
    /* RFC 2308 5: the SOA's TTL in the cached answer counts down too */
    assert_string_equal(got[0].authority,
                        "example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 "
                        "3600 600 86400 300");
    assert_string_equal(got[1].authority,
                        "example.org. 101 IN SOA ns1.example.org. hostmaster.example.org. 1 "
                        "3600 600 86400 300");
    assert_true(got[1].t == SIM_SEC(200) + SIM_MSEC(30));
    assert_event(5, SIM_SEC(200) + SIM_MSEC(15), SIM_SEC(200) + SIM_MSEC(30), "resolver", "mta",
                 SIM_DIR_S2C, "NXDOMAIN",
                 "the resolver answers from its cache (101 s left): nope.example.org does not "
                 "exist (NXDOMAIN)");
    assert_true(got[2].t == SIM_SEC(400) + SIM_MSEC(80));
    assert_int_equal(got[3].r, SIM_DNS_NODATA);
    assert_int_equal(got[4].r, SIM_DNS_NODATA);
    assert_true(got[4].t == SIM_SEC(600) + SIM_MSEC(30)); /* NODATA cached too */
    assert_event(12, SIM_SEC(500) + SIM_MSEC(40), SIM_SEC(500) + SIM_MSEC(65), "ns-org",
                 "resolver", SIM_DIR_S2C, "NODATA",
                 "the authoritative server answers: mx1.example.org exists but has no MX records "
                 "(NODATA)");
    assert_int_equal(got[5].r, SIM_DNS_NXDOMAIN);
    assert_true(got[5].t == SIM_SEC(700) + SIM_MSEC(30));
    assert_int_equal(dns_to("ns-org"), 3);
    assert_int_equal(dns_to("ns-net"), 0);
    teardown();
}

static void test_cname_across_zones(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    lookup_at(0, 0, RESOLVER_IP, "alias.example.org", DNS_TYPE_A);
    lookup_at(1, SIM_SEC(10), RESOLVER_IP, "www.example.org", DNS_TYPE_A);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(got[0].r, SIM_DNS_ANSWER);
    assert_string_equal(got[0].summary, "alias.example.org. 300 IN CNAME mx.example.net.; "
                                        "mx.example.net. 3600 IN A 203.0.113.25");
    /* 15 + 25 + 25 (ns-org) + 35 + 35 (ns-net) + 15 */
    assert_true(got[0].t == SIM_MSEC(150));
    assert_event(3, SIM_MSEC(65), SIM_MSEC(100), "resolver", "ns-net", SIM_DIR_C2S,
                 "mx.example.net. IN A?",
                 "the resolver has no cached answer, so it asks the server responsible for "
                 "example.net");
    assert_event(5, SIM_MSEC(135), SIM_MSEC(150), "resolver", "mta", SIM_DIR_S2C,
                 "alias.example.org. 300 IN CNAME mx.example.net.; mx.example.net. 3600 IN A "
                 "203.0.113.25",
                 "the resolver answers: alias.example.org is an alias (CNAME) of mx.example.net; "
                 "mx.example.net has address 203.0.113.25");
    assert_int_equal(got[1].r, SIM_DNS_ANSWER);
    assert_string_equal(got[1].summary, "www.example.org. 300 IN CNAME mail.example.org.; "
                                        "mail.example.org. 300 IN A 192.0.2.30");
    assert_true(got[1].t == SIM_SEC(10) + SIM_MSEC(80));
    teardown();
}

static void test_authority_down_servfail_after_retries(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    sim_host_set_up(ns_org, false);
    assert_int_equal(sim_dns_lookup(svc, mta, RESOLVER_IP, "example.org", DNS_TYPE_MX, on_lookup,
                                    &got[0]),
                     SIM_DNS_OK);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(got[0].calls, 1);
    assert_int_equal(got[0].r, SIM_DNS_SERVFAIL);
    assert_string_equal(got[0].summary, "SERVFAIL");
    assert_true(got[0].t == SIM_MSEC(6030));
    assert_int_equal(count_kind(SIM_TR_DNS), 6);
    const char *q = "example.org. IN MX?";
    assert_event(0, 0, SIM_MSEC(15), "mta", "resolver", SIM_DIR_C2S, q, NULL);
    assert_event(1, SIM_MSEC(15), SIM_MSEC(40), "resolver", "ns-org", SIM_DIR_C2S, q, NULL);
    assert_event(2, SIM_MSEC(2015), SIM_MSEC(2040), "resolver", "ns-org", SIM_DIR_C2S, q,
                 "no reply after 2 s: the resolver asks again (try 2 of 3)");
    assert_event(3, SIM_MSEC(4015), SIM_MSEC(4040), "resolver", "ns-org", SIM_DIR_C2S, q,
                 "no reply after 2 s: the resolver asks again (try 3 of 3)");
    /* the stub's own retry reaches the resolver while it is still trying,
     * and joins the work already under way: one answer */
    assert_event(4, SIM_SEC(5), SIM_MSEC(5015), "mta", "resolver", SIM_DIR_C2S, q,
                 "no reply after 5 s: mta asks again (try 2 of 2)");
    assert_event(5, SIM_MSEC(6015), SIM_MSEC(6030), "resolver", "mta", SIM_DIR_S2C, "SERVFAIL",
                 "the server responsible for example.org did not answer 3 tries: the resolver "
                 "gives up and reports a failure (SERVFAIL)");
    teardown();
}

static void test_resolver_down_times_out(void **state)
{
    (void)state;
    world(1);
    memset(got, 0, sizeof got);
    sim_host_set_up(resolver, false);
    assert_int_equal(sim_dns_lookup(svc, mta, RESOLVER_IP, "example.org", DNS_TYPE_MX, on_lookup,
                                    &got[0]),
                     SIM_DNS_OK);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(got[0].calls, 1);
    assert_int_equal(got[0].r, SIM_DNS_TIMEOUT);
    assert_true(got[0].t == SIM_SEC(10)); /* two tries of 5 s */
    assert_int_equal(count_kind(SIM_TR_DNS), 2);
    teardown();
}

/* A query without RD is answered from the cache or refused (RFC 1034
 * 4.3.1); an answer over 512 octets comes truncated (RFC 1035 4.2.1), and
 * with no TCP here the resolver reports SERVFAIL. */
static uint8_t reply_bytes[DNS_UDP_MAX];
static size_t reply_len;
static int replies;

static void send_query(const char *ip, uint16_t id, const char *name, uint16_t type, bool rd)
{
    static struct dns_msg q;
    struct dns_name n;
    assert_int_equal(dns_name_from_text(&n, name), DNS_OK);
    dns_query_init(&q, id, &n, type, rd);
    uint8_t buf[DNS_UDP_MAX];
    size_t len;
    assert_int_equal(dns_encode(&q, buf, sizeof buf, &len), DNS_OK);
    sim_net_send_datagram(net, pc, 5353, ip, SIM_DNS_PORT, (const char *)buf, len, SIM_DIR_C2S,
                          "query", "");
}

static void on_raw_reply(void *ctx, struct sim_host *from, unsigned from_port, const char *bytes,
                         size_t n);

static void ev_send_no_rd(struct sim_engine *e, void *ctx, uint64_t id)
{
    (void)e;
    (void)ctx;
    send_query(RESOLVER_IP, (uint16_t)id, "mx1.example.org", DNS_TYPE_A, false);
}

static void test_no_recursion_and_truncation(void **state)
{
    (void)state;
    static struct dns_msg m;
    world(1);
    assert_int_equal(sim_host_bind_udp(pc, 5353, on_raw_reply, NULL), 0);
    replies = 0;
    send_query(RESOLVER_IP, 0x0101, "mx1.example.org", DNS_TYPE_A, false);
    sim_engine_run(&engine, SIM_SEC(1));
    assert_int_equal(replies, 1);
    assert_int_equal(dns_decode(reply_bytes, reply_len, DNS_UDP_MAX, &m), DNS_OK);
    assert_int_equal(m.h.id, 0x0101);
    assert_int_equal(m.h.rcode, DNS_RCODE_REFUSED);
    assert_true(m.h.ra && !m.h.rd && !m.h.aa);
    assert_string_equal(dns_event(1)->note, "the resolver refuses: the answer is not cached and "
                                            "the query did not ask for recursion (RD)");
    assert_int_equal(dns_to("ns-org"), 0);
    /* once cached, the same query without RD is answered */
    memset(got, 0, sizeof got);
    lookup_at(0, SIM_SEC(2), RESOLVER_IP, "mx1.example.org", DNS_TYPE_A);
    sim_after(&engine, SIM_SEC(3) - engine.now, ev_send_no_rd, NULL, 0x0202);
    sim_engine_run(&engine, SIM_SEC(5));
    assert_int_equal(replies, 2);
    assert_int_equal(dns_decode(reply_bytes, reply_len, DNS_UDP_MAX, &m), DNS_OK);
    assert_int_equal(m.h.id, 0x0202);
    assert_int_equal(m.h.rcode, DNS_RCODE_NOERROR);
    assert_int_equal(m.sec[DNS_ANSWER].count, 1);
    assert_int_equal(m.sec[DNS_ANSWER].rr[0].ttl, 3600 - 0); /* stored 2.065 s, asked 3.015 s */
    assert_int_equal(dns_to("ns-org"), 1);

    /* ten TXT records of 100 octets do not fit 512 */
    struct sim_dns_zone *edu;
    assert_int_equal(sim_dns_zone_add(svc, "example.edu", &edu), SIM_DNS_OK);
    char txt[101];
    for (int i = 0; i < 10; i++) {
        memset(txt, 'a' + i, 100);
        txt[100] = '\0';
        assert_int_equal(sim_dns_zone_add_rr(edu, "example.edu", DNS_TYPE_TXT, 60, txt), 0);
    }
    assert_int_equal(sim_dns_serve_zone(svc, ns_org, edu), SIM_DNS_OK);
    assert_int_equal(sim_dns_resolver_delegate(svc, resolver, "example.edu", NS_ORG_IP), 0);
    lookup_at(1, SIM_SEC(10), NS_ORG_IP, "example.edu", DNS_TYPE_TXT);
    lookup_at(2, SIM_SEC(20), RESOLVER_IP, "example.edu", DNS_TYPE_TXT);
    sim_engine_run(&engine, SIM_SEC(30));
    assert_int_equal(got[1].r, SIM_DNS_FAILED);
    assert_string_equal(got[1].summary, "NODATA"); /* TC set, the records left out */
    assert_true(got[1].aa);
    assert_int_equal(got[2].r, SIM_DNS_SERVFAIL);
    size_t n = count_kind(SIM_TR_DNS);
    size_t tc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev = dns_event(i);
        if (strcmp(ev->from, "ns-org") || strcmp(ev->text, "TRUNCATED (TC)"))
            continue;
        tc++;
        assert_string_equal(ev->note, "the answer does not fit in 512 octets of UDP, so it goes "
                                      "out empty with TC set: the asker should retry over TCP "
                                      "(RFC 1035 4.2.1)");
        assert_int_equal(ev->wire_bytes, 12 + 13 + 4); /* header, example.edu., type, class */
    }
    assert_int_equal(tc, 2); /* to mta directly, then to the resolver */
    assert_string_equal(dns_event(n - 1)->note,
                        "the server for example.edu answered a truncated reply: the resolver "
                        "reports a failure (SERVFAIL)");
    teardown();
}

/* ---- malformed queries ------------------------------------------------------- */

static void on_raw_reply(void *ctx, struct sim_host *from, unsigned from_port, const char *bytes,
                         size_t n)
{
    (void)ctx;
    (void)from;
    assert_int_equal(from_port, SIM_DNS_PORT);
    replies++;
    reply_len = n < sizeof reply_bytes ? n : sizeof reply_bytes;
    memcpy(reply_bytes, bytes, reply_len);
}

#define HDR(id0, id1, f0, qd) id0, id1, f0, 0, 0, qd, 0, 0, 0, 0, 0, 0
#define Q_ORG_MX 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0, 0, 15, 0, 1

static const struct {
    const char *name;
    uint8_t bytes[64];
    size_t len;
    int answered;           /* 0: dropped */
    uint8_t want[12];       /* the reply's header: questions are not counted */
    size_t want_len;        /* the whole reply */
} bad_queries[] = {
    {"question missing (count lies)", {HDR(0x12, 0x34, 0x01, 1)}, 12, 1,
     {HDR(0x12, 0x34, 0x81, 0)}, 12},
    {"compression pointer to itself", {HDR(0xab, 0xcd, 0x01, 1), 0xc0, 12, 0, 1, 0, 1}, 18, 1,
     {HDR(0xab, 0xcd, 0x81, 0)}, 12},
    {"label runs past the end", {HDR(0x00, 0x07, 0x00, 1), 9, 'a', 'b'}, 15, 1,
     {HDR(0x00, 0x07, 0x80, 0)}, 12},
    {"bytes after the question", {HDR(0x00, 0x08, 0x01, 1), Q_ORG_MX, 0xff}, 30, 1,
     {HDR(0x00, 0x08, 0x81, 0)}, 12},
    {"shorter than a header: no id to answer", {0x12, 0x34, 0x01}, 3, 0, {0}, 0},
    {"a response is never answered", {HDR(0x00, 0x09, 0x81, 1), Q_ORG_MX}, 29, 0, {0}, 0},
    {"a malformed response is not answered either", {HDR(0x00, 0x0a, 0x80, 1)}, 12, 0, {0}, 0},
    {"two questions", {HDR(0x00, 0x0b, 0x01, 2), Q_ORG_MX, Q_ORG_MX}, 46, 1,
     {HDR(0x00, 0x0b, 0x81, 2)}, 35}, /* the second question compressed */
    {"opcode STATUS: NOTIMP", {HDR(0x00, 0x0c, 0x11, 1), Q_ORG_MX}, 29, 1,
     {HDR(0x00, 0x0c, 0x91, 1)}, 29},
    {"class CH: REFUSED", {HDR(0x00, 0x0d, 0x01, 1), 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o',
                           'r', 'g', 0, 0, 15, 0, 3}, 29, 1,
     {HDR(0x00, 0x0d, 0x81, 1)}, 29},
};

static void test_malformed_queries(void **state)
{
    (void)state;
    static const char *const servers[] = {NS_ORG_IP, RESOLVER_IP};
    static const uint8_t rcode[] = {1, 1, 1, 1, 0, 0, 0, 1, 4, 5};
    /* the rows that decode are answered by the resolver with RA set */
    static const uint8_t decodes[] = {0, 0, 0, 0, 0, 1, 0, 1, 1, 1};
    _Static_assert(sizeof rcode == ARRAY_LEN(bad_queries), "one rcode per row");
    _Static_assert(sizeof decodes == ARRAY_LEN(bad_queries), "one flag per row");
    for (size_t s = 0; s < ARRAY_LEN(servers); s++)
        for (size_t i = 0; i < ARRAY_LEN(bad_queries); i++) {
            world(1);
            assert_int_equal(sim_host_bind_udp(pc, 5353, on_raw_reply, NULL), 0);
            replies = 0;
            reply_len = 0;
            sim_net_send_datagram(net, pc, 5353, servers[s], SIM_DNS_PORT,
                                  (const char *)bad_queries[i].bytes, bad_queries[i].len,
                                  SIM_DIR_C2S, "bad bytes", "");
            sim_engine_run(&engine, SIM_SEC(10));
            if (replies != bad_queries[i].answered)
                fail_msg("%s (%s): %d replies", bad_queries[i].name, servers[s], replies);
            if (replies) {
                uint8_t want[12];
                memcpy(want, bad_queries[i].want, 12);
                want[3] = rcode[i];
                if (s == 1 && decodes[i])
                    want[3] |= 0x80; /* the resolver's decoded-query answers set RA */
                if (reply_len != bad_queries[i].want_len || memcmp(reply_bytes, want, 12))
                    fail_msg("%s (%s): reply of %zu octets, flags %02x %02x", bad_queries[i].name,
                             servers[s], reply_len, reply_bytes[2], reply_bytes[3]);
                const struct sim_trace_event *ev = dns_event(1);
                assert_string_equal(ev->text, dns_rcode_name(rcode[i]));
            }
            teardown();
        }
    /* the server still answers properly afterwards */
    world(1);
    assert_int_equal(sim_host_bind_udp(pc, 5353, on_raw_reply, NULL), 0);
    replies = 0;
    sim_net_send_datagram(net, pc, 5353, NS_ORG_IP, SIM_DNS_PORT,
                          (const char *)bad_queries[0].bytes, 12, SIM_DIR_C2S, "bad", "");
    memset(got, 0, sizeof got);
    assert_int_equal(sim_dns_lookup(svc, mta, NS_ORG_IP, "mx1.example.org", DNS_TYPE_A, on_lookup,
                                    &got[0]),
                     SIM_DNS_OK);
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(replies, 1);
    assert_string_equal(dns_event(2)->note,
                        "the authoritative server cannot parse the query (message ends before or "
                        "inside a counted question or record) and answers FORMERR");
    assert_int_equal(got[0].r, SIM_DNS_ANSWER);
    teardown();
}

/* ---- MX resolution ------------------------------------------------------------- */

struct mx_got {
    int calls;
    enum dns_mx_status st;
    sim_time t;
    size_t count;
    char hosts[512]; /* "mx1.example.org.=10:192.0.2.25 ..." */
};
static struct mx_got mxg[4];

static void on_mx(void *ctx, enum dns_mx_status st, const struct dns_mx_list *list)
{
    struct mx_got *g = ctx;
    g->calls++;
    g->st = st;
    g->t = engine.now;
    g->count = list->count;
    g->hosts[0] = '\0';
    for (size_t i = 0; i < list->count; i++) {
        char n[DNS_NAME_TEXT_MAX];
        dns_name_to_text(&list->t[i].host, n, sizeof n);
        size_t o = strlen(g->hosts);
        snprintf(g->hosts + o, sizeof g->hosts - o, "%s%s=%u%s", i ? " " : "", n,
                 (unsigned)list->t[i].preference, list->t[i].implicit ? "(implicit)" : "");
        for (size_t k = 0; k < list->t[i].naddr; k++) {
            const uint8_t *b = list->t[i].addr[k].bytes;
            o = strlen(g->hosts);
            snprintf(g->hosts + o, sizeof g->hosts - o, ":%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        }
    }
}

static const struct {
    const char *name;
    const char *domain;
    enum dns_mx_status st;
    const char *hosts;
    size_t dns_events; /* datagrams in the trace */
    sim_time t;
    const char *states; /* the STATE events' texts */
} mx_cases[] = {
    {"two MX, addresses in the additional section", "example.org", DNS_MX_OK,
     "mx1.example.org.=10:192.0.2.25 mx2.example.org.=20:192.0.2.26", 4, SIM_MSEC(80),
     "query-mx -> done"},
    {"MX host in another zone: its A is asked for", "shop.example.org", DNS_MX_OK,
     "mail.example.com.=5:192.0.2.81", 8, SIM_MSEC(80 + 100), "query-mx -> query-addr|query-addr -> done"},
    {"null MX", "example.net", DNS_MX_NULL, "", 4, SIM_MSEC(100), "query-mx -> done"},
    {"no MX: the domain's own address (implicit MX)", "example.com", DNS_MX_OK,
     "example.com.=0(implicit):192.0.2.80", 8, SIM_MSEC(200), "query-mx -> query-addr|query-addr -> done"},
    {"no MX and no address", "txtonly.example.org", DNS_MX_NO_HOST, "", 8, SIM_MSEC(160),
     "query-mx -> query-addr|query-addr -> done"},
    {"no such domain", "nowhere.example.org", DNS_MX_NXDOMAIN, "", 4, SIM_MSEC(80), "query-mx -> done"},
    {"a CNAME the resolver follows, to a host without MX", "alias.example.org", DNS_MX_OK,
     "mx.example.net.=0(implicit):203.0.113.25", 10, SIM_MSEC(250),
     "query-mx -> query-addr|query-addr -> done"},
};

static void states_text(char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t s = 0; s < sim_trace_len(engine.trace); s++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, s);
        if (ev->kind != SIM_TR_STATE)
            continue;
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%s", o ? "|" : "", ev->text);
    }
}

static void test_mx_resolution(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(mx_cases); i++) {
        world(3);
        memset(mxg, 0, sizeof mxg);
        assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, mx_cases[i].domain, on_mx,
                                            &mxg[0]),
                         SIM_DNS_OK);
        sim_engine_run(&engine, SIM_SEC(60));
        char states[256];
        states_text(states, sizeof states);
        if (mxg[0].calls != 1 || mxg[0].st != mx_cases[i].st ||
            strcmp(mxg[0].hosts, mx_cases[i].hosts) ||
            count_kind(SIM_TR_DNS) != mx_cases[i].dns_events || mxg[0].t != mx_cases[i].t ||
            strcmp(states, mx_cases[i].states))
            fail_msg("%s: calls %d status \"%s\" hosts \"%s\" %zu datagrams, at %llu us, "
                     "states \"%s\"",
                     mx_cases[i].name, mxg[0].calls, dns_mx_status_name(mxg[0].st), mxg[0].hosts,
                     count_kind(SIM_TR_DNS), (unsigned long long)mxg[0].t, states);
        teardown();
    }
}

static void test_mx_notes_and_failures(void **state)
{
    (void)state;
    world(3);
    memset(mxg, 0, sizeof mxg);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "example.net", on_mx, &mxg[0]), 0);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_event(2, SIM_MSEC(50), SIM_MSEC(85), "ns-net", "resolver", SIM_DIR_S2C,
                 "example.net. 300 IN MX 0 .",
                 "the authoritative server answers: a null MX, so example.net accepts no mail "
                 "(RFC 7505)");
    const struct sim_trace_event *last = sim_trace_get(engine.trace, sim_trace_len(engine.trace) - 1);
    assert_int_equal(last->kind, SIM_TR_STATE);
    assert_string_equal(last->note, "mail for example.net: null MX: the domain accepts no mail");
    teardown();

    /* the "DNS failing" fault: the authority is down, so the MTA gets a
     * temporary failure (4xx, retry later) after the resolver's retries */
    world(3);
    memset(mxg, 0, sizeof mxg);
    sim_host_set_up(ns_org, false);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "example.org", on_mx, &mxg[0]), 0);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(mxg[0].calls, 1);
    assert_int_equal(mxg[0].st, DNS_MX_TEMPFAIL);
    assert_int_equal(mxg[0].count, 0);
    assert_true(mxg[0].t == SIM_MSEC(6030));
    teardown();

    /* the MX answer comes, but the only host's address cannot be had for
     * now: temporary too (query at 80 ms, resolver gives up 6 s after 95 ms) */
    world(3);
    memset(mxg, 0, sizeof mxg);
    sim_host_set_up(ns_net, false);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "shop.example.org", on_mx, &mxg[0]),
                     0);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(mxg[0].calls, 1);
    assert_int_equal(mxg[0].st, DNS_MX_TEMPFAIL);
    assert_true(mxg[0].t == SIM_MSEC(6110));
    teardown();

    /* the resolver down: the stub times out, also temporary */
    world(3);
    memset(mxg, 0, sizeof mxg);
    sim_host_set_up(resolver, false);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "example.com", on_mx, &mxg[0]), 0);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_int_equal(mxg[0].st, DNS_MX_TEMPFAIL);
    assert_true(mxg[0].t == SIM_SEC(10));
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "a..b", on_mx, &mxg[1]),
                     SIM_DNS_ERR_NAME);
    teardown();
}

/* ---- determinism ------------------------------------------------------------- */

/* Runs a small lesson and writes every event (time, kind, ends, text, note)
 * and the ids the lookups saw into out. */
static void run_lesson(uint64_t seed, char *out, size_t cap)
{
    world(seed);
    memset(got, 0, sizeof got);
    memset(mxg, 0, sizeof mxg);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "example.org", on_mx, &mxg[0]), 0);
    assert_int_equal(sim_dns_resolve_mx(svc, mta, RESOLVER_IP, "shop.example.org", on_mx, &mxg[1]), 0);
    lookup_at(0, SIM_SEC(1), RESOLVER_IP, "nope.example.org", DNS_TYPE_A);
    lookup_at(1, SIM_SEC(2), RESOLVER_IP, "example.org", DNS_TYPE_MX);
    sim_engine_run(&engine, SIM_SEC(60));
    out[0] = '\0';
    for (size_t s = 0; s < sim_trace_len(engine.trace); s++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, s);
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%llu %s %s>%s %s | %s\n", (unsigned long long)ev->t,
                 sim_trace_kind_names[ev->kind], ev->from, ev->to, ev->text, ev->note);
    }
    size_t o = strlen(out);
    snprintf(out + o, cap - o, "ids %04x %04x", got[0].id, got[1].id);
    teardown();
}

static void test_same_seed_same_trace(void **state)
{
    (void)state;
    static char a[32768], b[32768], c[32768];
    run_lesson(42, a, sizeof a);
    run_lesson(42, b, sizeof b);
    assert_string_equal(a, b);
    assert_int_equal(strncmp(a, "0 dns mta>resolver example.org. IN MX? | ", 40), 0);
    /* another seed draws other query ids; the story is the same */
    run_lesson(43, c, sizeof c);
    assert_true(strcmp(a, c) != 0);
    assert_int_equal(strlen(strstr(a, "ids ")), strlen("ids 0000 0000"));
    assert_int_equal(strstr(a, "ids ") - a, strstr(c, "ids ") - c);
    assert_memory_equal(a, c, (size_t)(strstr(a, "ids ") - a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone_loading),
        cmocka_unit_test(test_authoritative_answers),
        cmocka_unit_test(test_mx_through_resolver_timing_and_trace),
        cmocka_unit_test(test_resolver_cache),
        cmocka_unit_test(test_negative_answers_and_cache),
        cmocka_unit_test(test_cname_across_zones),
        cmocka_unit_test(test_authority_down_servfail_after_retries),
        cmocka_unit_test(test_resolver_down_times_out),
        cmocka_unit_test(test_no_recursion_and_truncation),
        cmocka_unit_test(test_malformed_queries),
        cmocka_unit_test(test_mx_resolution),
        cmocka_unit_test(test_mx_notes_and_failures),
        cmocka_unit_test(test_same_seed_same_trace),
    };
    return cmocka_run_group_tests_name("sim_dns", tests, NULL, NULL);
}
