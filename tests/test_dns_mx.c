/* MX selection (RFC 5321 5.1, RFC 7505): order, seeded shuffle, implicit
 * MX, null MX, CNAMEs, unusable targets, addresses, and dnsmasq's answer. */
#include "tests/testkit.h"

#include "protocols/common.h"
#include "protocols/dns.h"

#include <stdio.h>
#include <stdlib.h>

static struct dns_msg mx, addr;   /* large: kept out of stack frames */
static struct dns_mx_list list;

static struct dns_name N(const char *text)
{
    struct dns_name n;
    if (dns_name_from_text(&n, text))
        fail_msg("bad name %s", text);
    return n;
}

/* An empty response to "example.org MX" with the given rcode. */
static void start(struct dns_msg *m, uint16_t type, enum dns_rcode rcode)
{
    struct dns_msg *q = calloc(1, sizeof *q);
    assert_non_null(q);
    struct dns_name dom = N("example.org");
    dns_query_init(q, 1, &dom, type, true);
    dns_response_init(m, q, false, rcode);
    free(q);
}

static void add_mx(struct dns_msg *m, const char *owner, uint16_t pref, const char *exchange)
{
    struct dns_rr rr;
    struct dns_name o = N(owner);
    dns_rr_init(&rr, &o, DNS_TYPE_MX, 300);
    rr.rd.mx.preference = pref;
    rr.rd.mx.exchange = N(exchange);
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);
}

static void add_cname(struct dns_msg *m, const char *owner, const char *target)
{
    struct dns_rr rr;
    struct dns_name o = N(owner);
    dns_rr_init(&rr, &o, DNS_TYPE_CNAME, 300);
    rr.rd.target = N(target);
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);
}

static void add_a(struct dns_msg *m, enum dns_section s, const char *owner, uint8_t last)
{
    struct dns_rr rr;
    struct dns_name o = N(owner);
    dns_rr_init(&rr, &o, DNS_TYPE_A, 300);
    memcpy(rr.rd.a, "\xc0\x00\x02", 3); /* 192.0.2.0/24, RFC 5737 */
    rr.rd.a[3] = last;
    assert_int_equal(dns_add_rr(m, s, &rr), DNS_OK);
}

static void add_aaaa(struct dns_msg *m, enum dns_section s, const char *owner, uint8_t last)
{
    struct dns_rr rr;
    struct dns_name o = N(owner);
    dns_rr_init(&rr, &o, DNS_TYPE_AAAA, 300);
    memcpy(rr.rd.aaaa, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0", 15); /* 2001:db8::/32, RFC 3849 */
    rr.rd.aaaa[15] = last;
    assert_int_equal(dns_add_rr(m, s, &rr), DNS_OK);
}

/* The zone's SOA in authority: what a negative (NODATA) answer carries. */
static void add_soa(struct dns_msg *m, const char *zone)
{
    struct dns_rr rr;
    struct dns_name o = N(zone);
    dns_rr_init(&rr, &o, DNS_TYPE_SOA, 300);
    rr.rd.soa.mname = N("ns1.example.org");
    rr.rd.soa.rname = N("hostmaster.example.org");
    assert_int_equal(dns_add_rr(m, DNS_AUTHORITY, &rr), DNS_OK);
}

/* The chosen hosts as "host/pref host/pref ...", without trailing dots. */
static const char *hosts(const struct dns_mx_list *l)
{
    static char out[1024];
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < l->count; i++) {
        char t[DNS_NAME_TEXT_MAX];
        assert_int_equal(dns_name_to_text(&l->t[i].host, t, sizeof t), DNS_OK);
        t[strlen(t) - 1] = 0;
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s/%u", i ? " " : "", t,
                              (unsigned)l->t[i].preference);
    }
    return out;
}

static enum dns_mx_status select_mx(const struct dns_msg *a, uint64_t seed)
{
    struct dns_name dom = N("example.org");
    return dns_mx_select(&dom, &mx, a, seed, &list);
}

static void test_preference_order(void **state)
{
    (void)state;
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 30, "c.example.org");
    add_mx(&mx, "example.org", 10, "a.example.org");
    add_mx(&mx, "EXAMPLE.ORG", 20, "b.example.org"); /* owners compare ignoring case */
    add_mx(&mx, "example.net", 5, "other.example.net"); /* another owner: ignored */
    for (uint64_t seed = 0; seed < 16; seed++) {
        assert_int_equal(select_mx(NULL, seed), DNS_MX_OK);
        assert_string_equal(hosts(&list), "a.example.org/10 b.example.org/20 c.example.org/30");
        assert_false(list.t[0].implicit);
    }
}

static void test_equal_preferences_shuffled_by_seed(void **state)
{
    (void)state;
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 20, "z.example.org");
    add_mx(&mx, "example.org", 10, "a.example.org");
    add_mx(&mx, "example.org", 10, "b.example.org");
    add_mx(&mx, "example.org", 10, "c.example.org");
    add_mx(&mx, "example.org", 10, "d.example.org");
    char first[1024];
    size_t distinct = 0;
    char seen[32][1024];
    for (uint64_t seed = 0; seed < 32; seed++) {
        assert_int_equal(select_mx(NULL, seed), DNS_MX_OK);
        snprintf(first, sizeof first, "%s", hosts(&list));
        /* the same seed gives the same order */
        assert_int_equal(select_mx(NULL, seed), DNS_MX_OK);
        assert_string_equal(hosts(&list), first);
        /* the higher preference stays last; the four 10s are a permutation */
        assert_int_equal(list.count, 5);
        assert_string_equal(first + strlen(first) - strlen("z.example.org/20"), "z.example.org/20");
        unsigned mask = 0;
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(list.t[i].preference, 10);
            mask |= 1u << (list.t[i].host.wire[1] - 'a');
        }
        assert_int_equal(mask, 0xf);
        size_t k;
        for (k = 0; k < distinct; k++)
            if (strcmp(seen[k], first) == 0)
                break;
        if (k == distinct)
            snprintf(seen[distinct++], sizeof seen[0], "%s", first);
    }
    /* 32 seeds over 24 orders: several different ones must show up */
    assert_true(distinct >= 8);
    /* pinned: splitmix64 from seed 42 (a change here changes lesson traces) */
    assert_int_equal(select_mx(NULL, 42), DNS_MX_OK);
    assert_string_equal(hosts(&list), "c.example.org/10 a.example.org/10 d.example.org/10 "
                                      "b.example.org/10 z.example.org/20");
}

static void test_implicit_mx(void **state)
{
    (void)state;
    /* NODATA: no MX, the zone's SOA in authority */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_soa(&mx, "example.org");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_int_equal(list.count, 1);
    assert_true(list.t[0].implicit);
    assert_string_equal(hosts(&list), "example.org/0");
    assert_int_equal(list.t[0].naddr, 0);

    /* with the A/AAAA answers for the domain, its addresses come along */
    start(&addr, DNS_TYPE_A, DNS_RCODE_NOERROR);
    add_a(&addr, DNS_ANSWER, "example.org", 80);
    add_aaaa(&addr, DNS_ANSWER, "example.org", 0x80);
    assert_int_equal(select_mx(&addr, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "example.org/0");
    assert_int_equal(list.t[0].naddr, 2);
    assert_int_equal(list.t[0].addr[0].family, 4);
    assert_memory_equal(list.t[0].addr[0].bytes, "\xc0\x00\x02\x50", 4);
    assert_int_equal(list.t[0].addr[1].family, 6);
    assert_int_equal(list.t[0].addr[1].bytes[15], 0x80);

    /* no MX and no address: nowhere to deliver */
    start(&addr, DNS_TYPE_A, DNS_RCODE_NOERROR);
    add_soa(&addr, "example.org");
    assert_int_equal(select_mx(&addr, 1), DNS_MX_NO_HOST);
    assert_int_equal(list.count, 0);
    start(&addr, DNS_TYPE_A, DNS_RCODE_NXDOMAIN);
    assert_int_equal(select_mx(&addr, 1), DNS_MX_NO_HOST);
}

static void test_null_mx(void **state)
{
    (void)state;
    /* RFC 7505 3: "0 ." alone means no mail, 556 5.1.10 for the sender */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 0, ".");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_NULL);
    assert_int_equal(list.count, 0);
    assert_string_equal(dns_mx_status_name(DNS_MX_NULL), "null MX: the domain accepts no mail");

    /* "." with another preference is not a null MX, and names no host */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 10, ".");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_UNUSABLE);

    /* "." beside a real MX breaks RFC 7505; the real host is used */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 0, ".");
    add_mx(&mx, "example.org", 10, "mail.example.org");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "mail.example.org/10");
}

static void test_rcodes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum dns_rcode rcode;
        enum dns_mx_status want;
    } cases[] = {
        {"NXDOMAIN is permanent", DNS_RCODE_NXDOMAIN, DNS_MX_NXDOMAIN},
        {"SERVFAIL is temporary", DNS_RCODE_SERVFAIL, DNS_MX_TEMPFAIL},
        {"REFUSED is temporary", DNS_RCODE_REFUSED, DNS_MX_TEMPFAIL},
        {"FORMERR is temporary", DNS_RCODE_FORMERR, DNS_MX_TEMPFAIL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        start(&mx, DNS_TYPE_MX, cases[i].rcode);
        add_mx(&mx, "example.org", 10, "mail.example.org"); /* ignored under an error rcode */
        enum dns_mx_status st = select_mx(NULL, 1);
        if (st != cases[i].want)
            fail_msg("%s: got %s", cases[i].name, dns_mx_status_name(st));
        assert_int_equal(list.count, 0);
    }
}

static void test_cname_at_domain(void **state)
{
    (void)state;
    /* the resolver chased the alias: its MX records follow the CNAME */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_cname(&mx, "example.org", "mailhost.example.net");
    add_mx(&mx, "mailhost.example.net", 10, "mx.example.net");
    add_mx(&mx, "example.org", 5, "ignored.example.org"); /* not at the canonical name */
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "mx.example.net/10");
    char t[DNS_NAME_TEXT_MAX];
    assert_int_equal(dns_name_to_text(&list.cname, t, sizeof t), DNS_OK);
    assert_string_equal(t, "mailhost.example.net.");

    /* only the CNAME: ask again for the target */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_cname(&mx, "example.org", "mailhost.example.net");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_REQUERY);
    assert_int_equal(list.count, 0);
    assert_int_equal(dns_name_to_text(&list.cname, t, sizeof t), DNS_OK);
    assert_string_equal(t, "mailhost.example.net.");

    /* the CNAME and a NODATA SOA: the target has no MX, so its implicit MX */
    add_soa(&mx, "example.net");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "mailhost.example.net/0");
    assert_true(list.t[0].implicit);

    /* a second CNAME is not followed */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_cname(&mx, "example.org", "one.example.net");
    add_cname(&mx, "one.example.net", "two.example.net");
    add_mx(&mx, "two.example.net", 10, "mx.example.net");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_CNAME_LOOP);
    assert_int_equal(list.count, 0);
}

static void test_mx_pointing_to_cname(void **state)
{
    (void)state;
    /* RFC 2181 10.3 says an exchange must not be an alias; MTAs follow it
     * anyway when they look up its address, so it stays, flagged */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 10, "alias.example.org");
    add_mx(&mx, "example.org", 20, "mail.example.org");
    struct dns_rr rr;
    struct dns_name o = N("alias.example.org");
    dns_rr_init(&rr, &o, DNS_TYPE_CNAME, 300);
    rr.rd.target = N("real.example.org");
    assert_int_equal(dns_add_rr(&mx, DNS_ADDITIONAL, &rr), DNS_OK);
    add_a(&mx, DNS_ADDITIONAL, "real.example.org", 9);
    add_a(&mx, DNS_ADDITIONAL, "mail.example.org", 25);
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "alias.example.org/10 mail.example.org/20");
    assert_true(list.t[0].alias);
    assert_int_equal(list.t[0].naddr, 1);
    assert_int_equal(list.t[0].addr[0].bytes[3], 9);
    assert_false(list.t[1].alias);
    assert_int_equal(list.t[1].naddr, 1);
    assert_int_equal(list.t[1].addr[0].bytes[3], 25);
}

static void test_unusable_targets(void **state)
{
    (void)state;
    static const char *const literals[] = {"192.0.2.1", "[192.0.2.1]", "2001:db8\\058\\0581"};
    for (size_t i = 0; i < ARRAY_LEN(literals); i++) {
        start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
        add_mx(&mx, "example.org", 10, literals[i]);
        if (select_mx(NULL, 1) != DNS_MX_UNUSABLE)
            fail_msg("%s alone should be unusable", literals[i]);
        add_mx(&mx, "example.org", 20, "mail.example.org");
        assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
        assert_string_equal(hosts(&list), "mail.example.org/20");
    }
    /* numeric labels that are not four are a (strange) host name */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 10, "192.0.2.example");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "192.0.2.example/10");

    /* the same host twice keeps its lower preference, once */
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 30, "mail.example.org");
    add_mx(&mx, "example.org", 20, "backup.example.org");
    add_mx(&mx, "example.org", 10, "MAIL.example.org");
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_string_equal(hosts(&list), "mail.example.org/10 backup.example.org/20");
}

static void test_addresses_bounded(void **state)
{
    (void)state;
    start(&mx, DNS_TYPE_MX, DNS_RCODE_NOERROR);
    add_mx(&mx, "example.org", 10, "mail.example.org");
    for (uint8_t i = 0; i < DNS_MX_ADDR_MAX + 2; i++)
        add_a(&mx, DNS_ADDITIONAL, "mail.example.org", i);
    assert_int_equal(select_mx(NULL, 1), DNS_MX_OK);
    assert_int_equal(list.t[0].naddr, DNS_MX_ADDR_MAX);
    assert_int_equal(list.t[0].addr[DNS_MX_ADDR_MAX - 1].bytes[3], DNS_MX_ADDR_MAX - 1);
}

static void read_msg(const char *file, struct dns_msg *m)
{
    char path[256];
    uint8_t buf[1024];
    snprintf(path, sizeof path, "tests/fixtures/dns/%s", file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run the tests from the repository root)", path);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_int_equal(dns_decode(buf, n, DNS_UDP_MAX, m), DNS_OK);
}

static void test_dnsmasq_answer(void **state)
{
    (void)state;
    /* dnsmasq lists backup (20) before mail (10); we try mail first, and the
     * A answer for mail.example.org supplies its address */
    read_msg("mx.bin", &mx);
    read_msg("a.bin", &addr);
    for (uint64_t seed = 0; seed < 4; seed++) {
        assert_int_equal(select_mx(&addr, seed), DNS_MX_OK);
        assert_string_equal(hosts(&list), "mail.example.org/10 backup.example.org/20");
        assert_int_equal(list.t[0].naddr, 1);
        assert_memory_equal(list.t[0].addr[0].bytes, "\xc0\x00\x02\x19", 4);
        assert_int_equal(list.t[1].naddr, 0);
    }
    /* the NXDOMAIN answer from dnsmasq */
    read_msg("nxdomain.bin", &mx);
    assert_int_equal(select_mx(NULL, 0), DNS_MX_NXDOMAIN);
}

static void test_status_names(void **state)
{
    (void)state;
    for (int s = 0; s < DNS_MX_STATUS_COUNT; s++)
        assert_non_null(dns_mx_status_name((enum dns_mx_status)s));
    assert_string_equal(dns_mx_status_name(DNS_MX_OK), "ok");
    assert_string_equal(dns_mx_status_name(DNS_MX_UNUSABLE), "no usable MX");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preference_order),
        cmocka_unit_test(test_equal_preferences_shuffled_by_seed),
        cmocka_unit_test(test_implicit_mx),
        cmocka_unit_test(test_null_mx),
        cmocka_unit_test(test_rcodes),
        cmocka_unit_test(test_cname_at_domain),
        cmocka_unit_test(test_mx_pointing_to_cname),
        cmocka_unit_test(test_unusable_targets),
        cmocka_unit_test(test_addresses_bounded),
        cmocka_unit_test(test_dnsmasq_answer),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests_name("dns_mx", tests, NULL, NULL);
}
