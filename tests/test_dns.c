/* The DNS wire codec: names, exact encoded bytes with compression, round
 * trips, fixtures captured from dnsmasq and dig, every truncation, malformed
 * messages with their exact errors, builders and TCP framing. */
#include "tests/testkit.h"

#include "protocols/common.h"
#include "protocols/dns.h"

#include <stdio.h>
#include <stdlib.h>

/* Messages are large (see dns.h): keep them out of stack frames. */
static struct dns_msg m1, m2, m3;

/* Decodes from an exact-size heap copy, so AddressSanitizer sees any read
 * past the end. */
static int decode_exact(const void *bytes, size_t len, size_t max, struct dns_msg *m)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, bytes, len);
    int err = dns_decode(copy, len, max, m);
    free(copy);
    return err;
}

static struct dns_name name_of(const char *text)
{
    struct dns_name n;
    int err = dns_name_from_text(&n, text);
    if (err)
        fail_msg("name %s: %s", text, dns_strerror(err));
    return n;
}

static void assert_name(const struct dns_name *n, const char *want)
{
    char text[DNS_NAME_TEXT_MAX];
    assert_int_equal(dns_name_to_text(n, text, sizeof text), DNS_OK);
    assert_string_equal(text, want);
}

static size_t read_fixture(const char *file, uint8_t *buf, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/dns/%s", file);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run the tests from the repository root)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

/* ---- names ------------------------------------------------------------- */

#define A9 "aaaaaaaaa"
#define A63 A9 A9 A9 A9 A9 A9 A9
#define A62 A9 A9 A9 A9 A9 A9 "aaaaaaaa"
#define A61 A9 A9 A9 A9 A9 A9 "aaaaaaa"

static const struct {
    const char *name;
    const char *text;
    const char *wire; /* with its length below; NULL when an error is wanted */
    size_t wlen;
    const char *back; /* presentation form written back */
} good_names[] = {
    {"relative", "mail.example.org", "\x04" "mail" "\x07" "example" "\x03" "org", 18, "mail.example.org."},
    {"absolute", "mail.example.org.", "\x04" "mail" "\x07" "example" "\x03" "org", 18, "mail.example.org."},
    {"root", ".", "", 1, "."},
    {"escaped dot stays in label", "a\\.b.org", "\x03" "a.b" "\x03" "org", 9, "a\\.b.org."},
    {"decimal escape", "a\\032b.org", "\x03" "a b" "\x03" "org", 9, "a\\032b.org."},
    {"escaped backslash", "a\\\\b", "\x03" "a\\b", 5, "a\\\\b."},
    {"high byte", "\\128x", "\x02" "\x80" "x", 4, "\\128x."},
    {"label of 63", A63 ".org", "\x3f" A63 "\x03" "org", 69, A63 ".org."},
    {"name of 255", A63 "." A63 "." A63 "." A61,
     "\x3f" A63 "\x3f" A63 "\x3f" A63 "\x3d" A61, 255, A63 "." A63 "." A63 "." A61 "."},
};

static void test_names_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(good_names); i++) {
        struct dns_name n;
        int err = dns_name_from_text(&n, good_names[i].text);
        if (err)
            fail_msg("%s: %s", good_names[i].name, dns_strerror(err));
        /* the table leaves out the root's zero octet: string literals end in one */
        assert_int_equal(n.len, good_names[i].wlen);
        assert_memory_equal(n.wire, good_names[i].wire, n.len);
        assert_name(&n, good_names[i].back);
        /* the written form parses back to the same name */
        struct dns_name again = name_of(good_names[i].back);
        assert_true(dns_name_eq(&n, &again));
    }
}

static const struct {
    const char *name;
    const char *text;
    int err;
} bad_names[] = {
    {"empty text", "", DNS_ERR_NAME_SYNTAX},
    {"empty label in the middle", "a..b", DNS_ERR_NAME_SYNTAX},
    {"leading dot", ".a", DNS_ERR_NAME_SYNTAX},
    {"two trailing dots", "a..", DNS_ERR_NAME_SYNTAX},
    {"backslash at the end", "a\\", DNS_ERR_NAME_SYNTAX},
    {"two-digit escape", "a\\25", DNS_ERR_NAME_SYNTAX},
    {"escape above 255", "a\\256", DNS_ERR_NAME_SYNTAX},
    {"label of 64", A63 "a.org", DNS_ERR_LABEL_TOO_LONG},
    {"name of 256", A63 "." A63 "." A63 "." A62, DNS_ERR_NAME_TOO_LONG},
};

static void test_names_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_names); i++) {
        struct dns_name n;
        int err = dns_name_from_text(&n, bad_names[i].text);
        if (err != bad_names[i].err)
            fail_msg("%s: got %s, want %s", bad_names[i].name, dns_strerror(err),
                     dns_strerror(bad_names[i].err));
    }
}

static void test_name_compare_and_text_limits(void **state)
{
    (void)state;
    struct dns_name a = name_of("Mail.EXAMPLE.org"), b = name_of("mail.example.ORG."),
                    c = name_of("mail.example.net");
    assert_true(dns_name_eq(&a, &b));
    assert_false(dns_name_eq(&a, &c));
    assert_int_equal(dns_name_labels(&a), 3);
    struct dns_name root = name_of(".");
    assert_int_equal(dns_name_labels(&root), 0);
    /* "Mail.EXAMPLE.org." needs 18 octets with its NUL */
    char out[18];
    assert_int_equal(dns_name_to_text(&a, out, 18), DNS_OK);
    assert_string_equal(out, "Mail.EXAMPLE.org.");
    for (size_t cap = 0; cap < 18; cap++)
        assert_int_equal(dns_name_to_text(&a, out, cap), DNS_ERR_NO_SPACE);
    /* the worst case fits DNS_NAME_TEXT_MAX: 254 octets, each "\DDD" */
    struct dns_name worst = {.len = 255};
    memset(worst.wire, 0x01, sizeof worst.wire);
    worst.wire[0] = worst.wire[64] = worst.wire[128] = 63;
    worst.wire[192] = 61;
    worst.wire[254] = 0;
    char big[DNS_NAME_TEXT_MAX];
    assert_int_equal(dns_name_to_text(&worst, big, sizeof big), DNS_OK);
    assert_int_equal(strlen(big), 250 * 4 + 4);
}

/* ---- exact bytes --------------------------------------------------------- */

#define QEX "\x07" "example" "\x03" "org" "\x00"

/* id 0x1234, RD, one question example.org MX IN (RFC 1035 4.1.1, 4.1.2) */
static const char query_bytes[] =
    "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" QEX "\x00\x0f\x00\x01";

/* Its answer: QR AA RD, example.org MX 3600 10 mail.example.org. The owner
 * is a pointer to offset 12 (the question's name), and so is the end of
 * the exchange, whose pointer sits at offset 48. */
static const char answer_bytes[] =
    "\x12\x34\x85\x00\x00\x01\x00\x01\x00\x00\x00\x00" QEX "\x00\x0f\x00\x01"
    "\xc0\x0c" "\x00\x0f" "\x00\x01" "\x00\x00\x0e\x10" "\x00\x09"
    "\x00\x0a" "\x04" "mail" "\xc0\x0c";

static void test_encode_exact_bytes(void **state)
{
    (void)state;
    struct dns_name dom = name_of("example.org");
    uint8_t out[DNS_UDP_MAX];
    size_t len;

    dns_query_init(&m1, 0x1234, &dom, DNS_TYPE_MX, true);
    assert_int_equal(dns_encode(&m1, out, sizeof out, &len), DNS_OK);
    assert_int_equal(len, sizeof query_bytes - 1);
    assert_memory_equal(out, query_bytes, len);

    dns_response_init(&m2, &m1, true, DNS_RCODE_NOERROR);
    struct dns_rr rr;
    dns_rr_init(&rr, &dom, DNS_TYPE_MX, 3600);
    rr.rd.mx.preference = 10;
    rr.rd.mx.exchange = name_of("mail.example.org");
    assert_int_equal(dns_add_rr(&m2, DNS_ANSWER, &rr), DNS_OK);
    assert_int_equal(dns_encode(&m2, out, sizeof out, &len), DNS_OK);
    assert_int_equal(len, 50);
    assert_memory_equal(out, answer_bytes, len);
    assert_int_equal(out[48], 0xc0);
    assert_int_equal(out[49], 12);

    /* a buffer one octet short of every length fails cleanly */
    for (size_t cap = 0; cap < 50; cap++)
        assert_int_equal(dns_encode(&m2, out, cap, &len), DNS_ERR_NO_SPACE);

    /* every truncation of both decodes to an error */
    for (size_t cut = 0; cut < 50; cut++) {
        assert_int_not_equal(decode_exact(answer_bytes, cut, DNS_UDP_MAX, &m3), DNS_OK);
        if (cut < 29)
            assert_int_not_equal(decode_exact(query_bytes, cut, DNS_UDP_MAX, &m3), DNS_OK);
    }

    /* and the bytes decode back to what was built */
    assert_int_equal(decode_exact(answer_bytes, 50, DNS_UDP_MAX, &m3), DNS_OK);
    assert_int_equal(m3.h.id, 0x1234);
    assert_true(m3.h.qr && m3.h.aa && m3.h.rd && !m3.h.ra && !m3.h.tc);
    assert_int_equal(m3.sec[DNS_ANSWER].count, 1);
    assert_int_equal(m3.sec[DNS_ANSWER].rr[0].ttl, 3600);
    assert_int_equal(m3.sec[DNS_ANSWER].rr[0].rd.mx.preference, 10);
    assert_name(&m3.sec[DNS_ANSWER].rr[0].rd.mx.exchange, "mail.example.org.");
}

/* ---- round trip ---------------------------------------------------------- */

/* A response with every supported type in every section. */
static void build_everything(struct dns_msg *m)
{
    struct dns_name dom = name_of("example.org"), mail = name_of("mail.example.org"),
                    ns1 = name_of("ns1.example.org");
    dns_query_init(&m3, 0xbeef, &dom, DNS_TYPE_ANY, false);
    dns_response_init(m, &m3, true, DNS_RCODE_NOERROR);
    m->h.ra = true;
    struct dns_rr rr;

    dns_rr_init(&rr, &dom, DNS_TYPE_MX, 300);
    rr.rd.mx.preference = 10;
    rr.rd.mx.exchange = mail;
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);
    dns_rr_init(&rr, &dom, DNS_TYPE_TXT, 300);
    assert_int_equal(dns_txt_add(&rr, "v=spf1 mx -all", 14), DNS_OK);
    assert_int_equal(dns_txt_add(&rr, "", 0), DNS_OK);
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);
    dns_rr_init(&rr, &dom, DNS_TYPE_SOA, 3600);
    rr.rd.soa.mname = ns1;
    rr.rd.soa.rname = name_of("hostmaster.example.org");
    rr.rd.soa.serial = 2026112601;
    rr.rd.soa.refresh = 7200;
    rr.rd.soa.retry = 900;
    rr.rd.soa.expire = 1209600;
    rr.rd.soa.minimum = 300;
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);
    struct dns_name www = name_of("WWW.example.org");
    dns_rr_init(&rr, &www, DNS_TYPE_CNAME, 60);
    rr.rd.target = mail;
    assert_int_equal(dns_add_rr(m, DNS_ANSWER, &rr), DNS_OK);

    dns_rr_init(&rr, &dom, DNS_TYPE_NS, 86400);
    rr.rd.target = ns1;
    assert_int_equal(dns_add_rr(m, DNS_AUTHORITY, &rr), DNS_OK);

    dns_rr_init(&rr, &mail, DNS_TYPE_A, 300);
    memcpy(rr.rd.a, "\xc0\x00\x02\x19", 4);
    assert_int_equal(dns_add_rr(m, DNS_ADDITIONAL, &rr), DNS_OK);
    dns_rr_init(&rr, &mail, DNS_TYPE_AAAA, 300);
    memcpy(rr.rd.aaaa, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16);
    assert_int_equal(dns_add_rr(m, DNS_ADDITIONAL, &rr), DNS_OK);
    struct dns_name rev = name_of("25.2.0.192.in-addr.arpa");
    dns_rr_init(&rr, &rev, DNS_TYPE_PTR, 300);
    rr.rd.target = mail;
    assert_int_equal(dns_add_rr(m, DNS_ADDITIONAL, &rr), DNS_OK);
    dns_rr_init(&rr, &dom, 99, 300); /* SPF: a type kept opaque */
    rr.rd.raw.len = 3;
    memcpy(rr.rd.raw.data, "\x02hi", 3);
    assert_int_equal(dns_add_rr(m, DNS_ADDITIONAL, &rr), DNS_OK);
}

static void test_round_trip(void **state)
{
    (void)state;
    static struct dns_msg m;
    build_everything(&m);
    uint8_t a[DNS_UDP_MAX], b[DNS_UDP_MAX];
    size_t alen, blen;
    assert_int_equal(dns_encode(&m, a, sizeof a, &alen), DNS_OK);
    assert_int_equal(decode_exact(a, alen, DNS_UDP_MAX, &m1), DNS_OK);
    assert_int_equal(dns_encode(&m1, b, sizeof b, &blen), DNS_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);

    assert_int_equal(m1.h.id, 0xbeef);
    assert_true(m1.h.qr && m1.h.aa && m1.h.ra && !m1.h.rd);
    assert_int_equal(m1.qdcount, 1);
    assert_int_equal(m1.qd[0].type, DNS_TYPE_ANY);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 4);
    assert_int_equal(m1.sec[DNS_AUTHORITY].count, 1);
    assert_int_equal(m1.sec[DNS_ADDITIONAL].count, 4);
    const struct dns_rr *an = m1.sec[DNS_ANSWER].rr;
    assert_name(&an[0].rd.mx.exchange, "mail.example.org.");
    const uint8_t *s;
    size_t n;
    assert_int_equal(dns_txt_string(&an[1], 0, &s, &n), 1);
    assert_bytes("v=spf1 mx -all", s, n);
    assert_int_equal(dns_txt_string(&an[1], 1, &s, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(dns_txt_string(&an[1], 2, &s, &n), 0);
    assert_name(&an[2].rd.soa.mname, "ns1.example.org.");
    assert_name(&an[2].rd.soa.rname, "hostmaster.example.org.");
    assert_int_equal(an[2].rd.soa.serial, 2026112601);
    assert_int_equal(an[2].rd.soa.refresh, 7200);
    assert_int_equal(an[2].rd.soa.retry, 900);
    assert_int_equal(an[2].rd.soa.expire, 1209600);
    assert_int_equal(an[2].rd.soa.minimum, 300);
    /* case kept: "WWW" was not compressed against a lower-case name */
    assert_name(&an[3].name, "WWW.example.org.");
    assert_name(&an[3].rd.target, "mail.example.org.");
    assert_name(&m1.sec[DNS_AUTHORITY].rr[0].rd.target, "ns1.example.org.");
    const struct dns_rr *ar = m1.sec[DNS_ADDITIONAL].rr;
    assert_memory_equal(ar[0].rd.a, "\xc0\x00\x02\x19", 4);
    assert_memory_equal(ar[1].rd.aaaa, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16);
    assert_name(&ar[2].name, "25.2.0.192.in-addr.arpa.");
    assert_name(&ar[2].rd.target, "mail.example.org.");
    assert_int_equal(ar[3].type, 99);
    assert_int_equal(ar[3].rd.raw.len, 3);
    assert_memory_equal(ar[3].rd.raw.data, "\x02hi", 3);

    /* compression did its work: "example.org" is written out once, so its
     * 13 octets appear once in the message */
    size_t hits = 0;
    for (size_t i = 0; i + 13 <= alen; i++)
        if (memcmp(a + i, QEX, 13) == 0)
            hits++;
    assert_int_equal(hits, 1);
    /* 12 header + 17 question + MX 21 + TXT 28 + SOA 51 + CNAME 18 + NS 14
     * + A 16 + AAAA 28 + PTR 37 (its owner shares nothing) + type 99 15 */
    assert_int_equal(alen, 257);

    /* every truncation of it is an error, never a crash */
    for (size_t cut = 0; cut < alen; cut++) {
        int err = decode_exact(a, cut, DNS_UDP_MAX, &m2);
        if (err == DNS_OK)
            fail_msg("truncated to %zu octets decoded", cut);
        if (cut < DNS_HEADER_LEN)
            assert_int_equal(err, DNS_ERR_TRUNCATED_HEADER);
    }
}

/* ---- fixtures from dnsmasq and dig --------------------------------------- */

static const char *const fixtures[] = {
    "mx.bin", "a.bin", "aaaa.bin", "nxdomain.bin", "txt.bin", "cname.bin", "soa.bin", "dig_query.bin",
};

static void decode_fixture(const char *file, struct dns_msg *m, uint8_t *buf, size_t *len)
{
    *len = read_fixture(file, buf, 4096);
    int err = decode_exact(buf, *len, DNS_UDP_MAX, m);
    if (err)
        fail_msg("%s: %s", file, dns_strerror(err));
}

/* dnsmasq's authority section: example.org NS ns1.example.org, TTL 300 */
static void assert_ns_authority(const struct dns_msg *m)
{
    assert_int_equal(m->sec[DNS_AUTHORITY].count, 1);
    const struct dns_rr *ns = &m->sec[DNS_AUTHORITY].rr[0];
    assert_int_equal(ns->type, DNS_TYPE_NS);
    assert_int_equal(ns->rclass, DNS_CLASS_IN);
    assert_int_equal(ns->ttl, 300);
    assert_name(&ns->name, "example.org.");
    assert_name(&ns->rd.target, "ns1.example.org.");
}

static void assert_dnsmasq_header(const struct dns_msg *m, uint16_t id, unsigned rcode,
                                  const char *qname, uint16_t qtype)
{
    assert_int_equal(m->h.id, id);
    /* an authoritative answer to a query with RD; no recursion offered */
    assert_true(m->h.qr && m->h.aa && m->h.rd && !m->h.ra && !m->h.tc);
    assert_int_equal(m->h.opcode, DNS_OPCODE_QUERY);
    assert_int_equal(m->h.rcode, rcode);
    assert_int_equal(m->qdcount, 1);
    assert_name(&m->qd[0].name, qname);
    assert_int_equal(m->qd[0].type, qtype);
    assert_int_equal(m->qd[0].qclass, DNS_CLASS_IN);
}

static void test_fixture_mx(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len;
    decode_fixture("mx.bin", &m1, buf, &len);
    assert_int_equal(len, 135);
    assert_dnsmasq_header(&m1, 0x1001, DNS_RCODE_NOERROR, "example.org.", DNS_TYPE_MX);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 2);
    const struct dns_rr *an = m1.sec[DNS_ANSWER].rr;
    assert_int_equal(an[0].type, DNS_TYPE_MX);
    assert_int_equal(an[0].ttl, 300);
    assert_name(&an[0].name, "example.org.");
    assert_int_equal(an[0].rd.mx.preference, 20);
    assert_name(&an[0].rd.mx.exchange, "backup.example.org.");
    assert_int_equal(an[1].rd.mx.preference, 10);
    assert_name(&an[1].rd.mx.exchange, "mail.example.org.");
    assert_ns_authority(&m1);
    assert_int_equal(m1.sec[DNS_ADDITIONAL].count, 0);

    /* we compress what dnsmasq wrote out in full, and decode it the same */
    uint8_t out[DNS_UDP_MAX];
    size_t olen;
    assert_int_equal(dns_encode(&m1, out, sizeof out, &olen), DNS_OK);
    assert_true(olen < len);
    assert_int_equal(decode_exact(out, olen, DNS_UDP_MAX, &m2), DNS_OK);
    uint8_t again[DNS_UDP_MAX];
    size_t alen;
    assert_int_equal(dns_encode(&m2, again, sizeof again, &alen), DNS_OK);
    assert_int_equal(alen, olen);
    assert_memory_equal(again, out, olen);
}

static void test_fixture_addresses(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len;
    decode_fixture("a.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1002, DNS_RCODE_NOERROR, "mail.example.org.", DNS_TYPE_A);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 1);
    assert_name(&m1.sec[DNS_ANSWER].rr[0].name, "mail.example.org.");
    assert_int_equal(m1.sec[DNS_ANSWER].rr[0].ttl, 300);
    assert_memory_equal(m1.sec[DNS_ANSWER].rr[0].rd.a, "\xc0\x00\x02\x19", 4);
    assert_ns_authority(&m1);

    decode_fixture("aaaa.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1003, DNS_RCODE_NOERROR, "mail.example.org.", DNS_TYPE_AAAA);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 1);
    assert_int_equal(m1.sec[DNS_ANSWER].rr[0].type, DNS_TYPE_AAAA);
    assert_memory_equal(m1.sec[DNS_ANSWER].rr[0].rd.aaaa,
                        "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25", 16);
    assert_ns_authority(&m1);
}

static void assert_dnsmasq_soa(const struct dns_rr *soa)
{
    assert_int_equal(soa->type, DNS_TYPE_SOA);
    assert_int_equal(soa->ttl, 300);
    assert_name(&soa->name, "example.org.");
    assert_name(&soa->rd.soa.mname, "ns1.example.org.");
    assert_name(&soa->rd.soa.rname, "hostmaster.example.org.");
    assert_int_equal(soa->rd.soa.serial, 2026112601);
    assert_int_equal(soa->rd.soa.refresh, 1200);
    assert_int_equal(soa->rd.soa.retry, 180);
    assert_int_equal(soa->rd.soa.expire, 1209600);
    assert_int_equal(soa->rd.soa.minimum, 300);
}

static void test_fixture_negative_and_soa(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len;
    decode_fixture("nxdomain.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1004, DNS_RCODE_NXDOMAIN, "nosuch.example.org.", DNS_TYPE_A);
    assert_string_equal(dns_rcode_name(m1.h.rcode), "NXDOMAIN");
    assert_int_equal(m1.sec[DNS_ANSWER].count, 0);
    /* RFC 2308 3: the zone's SOA in the authority section */
    assert_int_equal(m1.sec[DNS_AUTHORITY].count, 1);
    assert_dnsmasq_soa(&m1.sec[DNS_AUTHORITY].rr[0]);

    decode_fixture("soa.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1007, DNS_RCODE_NOERROR, "example.org.", DNS_TYPE_SOA);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 1);
    assert_dnsmasq_soa(&m1.sec[DNS_ANSWER].rr[0]);
    /* the NS owner is a pointer (0xc01d) to the SOA's owner at offset 29 */
    assert_int_equal(buf[0x71], 0xc0);
    assert_int_equal(buf[0x72], 0x1d);
    assert_ns_authority(&m1);
}

static void test_fixture_txt_and_cname(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len;
    decode_fixture("txt.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1005, DNS_RCODE_NOERROR, "example.org.", DNS_TYPE_TXT);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 1);
    const struct dns_rr *txt = &m1.sec[DNS_ANSWER].rr[0];
    assert_int_equal(txt->type, DNS_TYPE_TXT);
    assert_int_equal(txt->rd.raw.len, 29);
    const uint8_t *s;
    size_t n;
    assert_int_equal(dns_txt_string(txt, 0, &s, &n), 1);
    assert_bytes("v=spf1 mx -all", s, n);
    assert_int_equal(dns_txt_string(txt, 1, &s, &n), 1);
    assert_bytes("second string", s, n);
    assert_int_equal(dns_txt_string(txt, 2, &s, &n), 0);

    decode_fixture("cname.bin", &m1, buf, &len);
    assert_dnsmasq_header(&m1, 0x1006, DNS_RCODE_NOERROR, "www.example.org.", DNS_TYPE_A);
    assert_int_equal(m1.sec[DNS_ANSWER].count, 2);
    const struct dns_rr *an = m1.sec[DNS_ANSWER].rr;
    assert_int_equal(an[0].type, DNS_TYPE_CNAME);
    assert_name(&an[0].name, "www.example.org.");
    assert_name(&an[0].rd.target, "mail.example.org.");
    /* the A record's owner points into the CNAME's RDATA (offset 45) */
    assert_int_equal(buf[0x3f], 0xc0);
    assert_int_equal(buf[0x40], 0x2d);
    assert_int_equal(an[1].type, DNS_TYPE_A);
    assert_name(&an[1].name, "mail.example.org.");
    assert_memory_equal(an[1].rd.a, "\xc0\x00\x02\x19", 4);
    assert_ns_authority(&m1);
}

static void test_fixture_dig_query(void **state)
{
    (void)state;
    uint8_t buf[4096];
    size_t len;
    decode_fixture("dig_query.bin", &m1, buf, &len);
    assert_int_equal(len, 52);
    assert_int_equal(m1.h.id, 0x807d);
    assert_true(!m1.h.qr && m1.h.rd && !m1.h.aa);
    assert_int_equal(m1.h.z, 2); /* dig sets AD (RFC 6840 5.7), a bit RFC 1035 reserved */
    assert_int_equal(m1.qdcount, 1);
    assert_name(&m1.qd[0].name, "example.org.");
    assert_int_equal(m1.qd[0].type, DNS_TYPE_MX);
    assert_int_equal(m1.sec[DNS_ADDITIONAL].count, 1);
    const struct dns_rr *opt = &m1.sec[DNS_ADDITIONAL].rr[0];
    assert_int_equal(opt->type, DNS_TYPE_OPT);
    assert_name(&opt->name, ".");
    assert_int_equal(opt->rclass, 1232); /* dig's EDNS UDP size */
    assert_int_equal(opt->ttl, 0);
    assert_int_equal(opt->rd.raw.len, 12);
    /* one option: COOKIE (10), 8 octets of client cookie (RFC 7873) */
    assert_memory_equal(opt->rd.raw.data, "\x00\x0a\x00\x08", 4);

    /* our encoder writes dig's query back byte for byte */
    uint8_t out[DNS_UDP_MAX];
    size_t olen;
    assert_int_equal(dns_encode(&m1, out, sizeof out, &olen), DNS_OK);
    assert_int_equal(olen, len);
    assert_memory_equal(out, buf, len);
}

static void test_fixture_truncations(void **state)
{
    (void)state;
    for (size_t f = 0; f < ARRAY_LEN(fixtures); f++) {
        uint8_t buf[4096];
        size_t len = read_fixture(fixtures[f], buf, sizeof buf);
        for (size_t cut = 0; cut < len; cut++) {
            int err = decode_exact(buf, cut, DNS_UDP_MAX, &m2);
            if (err == DNS_OK)
                fail_msg("%s cut to %zu octets decoded", fixtures[f], cut);
            if (cut < DNS_HEADER_LEN)
                assert_int_equal(err, DNS_ERR_TRUNCATED_HEADER);
        }
    }
}

/* ---- malformed messages -------------------------------------------------- */

/* header: id 0x1234, flags QR RD RA, then the four counts */
#define HDR(qd, an, ns, ar) "\x12\x34\x81\x80" "\x00" qd "\x00" an "\x00" ns "\x00" ar
#define QA QEX "\x00\x01\x00\x01"      /* example.org A IN, at offset 12..28 */
#define TTL "\x00\x00\x0e\x10"
/* a record owned by a pointer to the question's name, of the given type and
 * RDLENGTH (one octet each, high octet zero) */
#define RR(type, rdlen) "\xc0\x0c" "\x00" type "\x00\x01" TTL "\x00" rdlen
#define SOAFIX "\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x03\x84" "\x00\x12\x75\x00" "\x00\x00\x01\x2c"

static uint8_t oversized[DNS_UDP_MAX + 1];
static uint8_t big_opaque[DNS_HEADER_LEN + 17 + 12 + DNS_RDATA_MAX + 1];

#define CASE(name, lit, err) {name, (const uint8_t *)(lit), sizeof(lit) - 1, DNS_UDP_MAX, err}

static const struct {
    const char *name;
    const uint8_t *in;
    size_t len;
    size_t max;
    int err;
} bad[] = {
    CASE("empty message", "", DNS_ERR_TRUNCATED_HEADER),
    CASE("header of 11 octets", "\x12\x34\x81\x80\x00\x00\x00\x00\x00\x00\x00", DNS_ERR_TRUNCATED_HEADER),
    {"513 octets over UDP", oversized, sizeof oversized, DNS_UDP_MAX, DNS_ERR_MSG_TOO_LONG},
    CASE("qdcount 9 over the limit", HDR("\x09", "\x00", "\x00", "\x00"), DNS_ERR_TOO_MANY),
    CASE("ancount 65 over the limit", HDR("\x00", "\x41", "\x00", "\x00"), DNS_ERR_TOO_MANY),
    CASE("nscount 65 over the limit", HDR("\x00", "\x00", "\x41", "\x00"), DNS_ERR_TOO_MANY),
    CASE("arcount 65 over the limit", HDR("\x00", "\x00", "\x00", "\x41"), DNS_ERR_TOO_MANY),
    CASE("qdcount 1, no question", HDR("\x01", "\x00", "\x00", "\x00"), DNS_ERR_TRUNCATED),
    CASE("qdcount 2, one question", HDR("\x02", "\x00", "\x00", "\x00") QA, DNS_ERR_TRUNCATED),
    CASE("qdcount 0, one question", HDR("\x00", "\x00", "\x00", "\x00") QA, DNS_ERR_TRAILING),
    CASE("ancount 1, no answer", HDR("\x01", "\x01", "\x00", "\x00") QA, DNS_ERR_TRUNCATED),
    CASE("nscount 1, no record", HDR("\x01", "\x00", "\x01", "\x00") QA, DNS_ERR_TRUNCATED),
    CASE("arcount 2, one record", HDR("\x01", "\x00", "\x00", "\x02") QA RR("\x01", "\x04") "\x01\x02\x03\x04", DNS_ERR_TRUNCATED),
    CASE("question without class", HDR("\x01", "\x00", "\x00", "\x00") QEX "\x00\x01", DNS_ERR_TRUNCATED),
    CASE("label cut short", HDR("\x01", "\x00", "\x00", "\x00") "\x07" "exam", DNS_ERR_NAME_TRUNCATED),
    CASE("name without its root label", HDR("\x01", "\x00", "\x00", "\x00") "\x07" "example", DNS_ERR_NAME_TRUNCATED),
    CASE("pointer cut after one octet", HDR("\x01", "\x00", "\x00", "\x00") "\x01" "a" "\xc0", DNS_ERR_NAME_TRUNCATED),
    CASE("label 64 (type bits 01)", HDR("\x01", "\x00", "\x00", "\x00") "\x40" A63 "a" "\x00" "\x00\x01\x00\x01", DNS_ERR_LABEL_TYPE),
    CASE("label type bits 10", HDR("\x01", "\x00", "\x00", "\x00") "\x80" "\x00" "\x00\x01\x00\x01", DNS_ERR_LABEL_TYPE),
    CASE("name of 256 octets", HDR("\x01", "\x00", "\x00", "\x00") "\x3f" A63 "\x3f" A63 "\x3f" A63 "\x3e" A62 "\x00" "\x00\x01\x00\x01", DNS_ERR_NAME_TOO_LONG),
    CASE("name over 255 through a pointer",
         HDR("\x01", "\x01", "\x00", "\x00") "\x3f" A63 "\x3f" A63 "\x3f" A63 "\x00" "\x00\x01\x00\x01"
         "\x3f" A63 "\xc0\x0c" "\x00\x01\x00\x01" TTL "\x00\x04" "\x01\x02\x03\x04", DNS_ERR_NAME_TOO_LONG),
    CASE("pointer past the end", HDR("\x01", "\x00", "\x00", "\x00") "\xc0\xff" "\x00\x01\x00\x01", DNS_ERR_PTR_RANGE),
    CASE("pointer to itself", HDR("\x01", "\x00", "\x00", "\x00") "\xc0\x0c" "\x00\x01\x00\x01", DNS_ERR_PTR_SELF),
    CASE("pointer forward", HDR("\x01", "\x00", "\x00", "\x00") "\xc0\x0e" "\x00\x00\x01\x00\x01", DNS_ERR_PTR_FORWARD),
    CASE("pointer back into its own name", HDR("\x01", "\x00", "\x00", "\x00") "\x01" "a" "\xc0\x0c" "\x00\x01\x00\x01", DNS_ERR_PTR_LOOP),
    /* the owner points at the header, whose id reads as label "x" and whose
     * flags read as a pointer back to offset 0 */
    CASE("pointer loop through the header", "\x01" "x" "\xc0\x00" "\x00\x00\x00\x01\x00\x00\x00\x00"
         "\xc0\x00" "\x00\x01\x00\x01" TTL "\x00\x04" "\x01\x02\x03\x04", DNS_ERR_PTR_LOOP),
    CASE("record without its fixed fields", HDR("\x01", "\x01", "\x00", "\x00") QA "\xc0\x0c" "\x00\x01\x00\x01\x00", DNS_ERR_TRUNCATED),
    CASE("rdlength past the end", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x01", "\x04") "\x01\x02\x03", DNS_ERR_RDLENGTH),
    CASE("A rdlength 3", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x01", "\x03") "\x01\x02\x03", DNS_ERR_RDATA_SIZE),
    CASE("A rdlength 5", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x01", "\x05") "\x01\x02\x03\x04\x05", DNS_ERR_RDATA_SIZE),
    CASE("AAAA rdlength 4", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x1c", "\x04") "\x01\x02\x03\x04", DNS_ERR_RDATA_SIZE),
    CASE("MX rdata of 2 octets", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x0f", "\x02") "\x00\x0a", DNS_ERR_RDATA_SIZE),
    CASE("MX exchange past rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x0f", "\x04") "\x00\x0a" "\x04" "mail" "\x00", DNS_ERR_RDATA_OVERRUN),
    CASE("MX pointer cut by rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x0f", "\x03") "\x00\x0a" "\xc0\x0c", DNS_ERR_RDATA_OVERRUN),
    CASE("MX octets after the exchange", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x0f", "\x05") "\x00\x0a" "\xc0\x0c" "\x00", DNS_ERR_RDATA_SIZE),
    CASE("MX exchange pointer past the end", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x0f", "\x04") "\x00\x0a" "\xc0\xf0", DNS_ERR_PTR_RANGE),
    CASE("CNAME target past rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x05", "\x02") "\x03" "www" "\xc0\x0c", DNS_ERR_RDATA_OVERRUN),
    CASE("NS target pointing forward", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x02", "\x02") "\xc0\x2a", DNS_ERR_PTR_FORWARD),
    CASE("SOA without its numbers", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x06", "\x04") "\xc0\x0c" "\xc0\x0c", DNS_ERR_RDATA_SIZE),
    CASE("SOA numbers cut to 16 octets", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x06", "\x14") "\xc0\x0c" "\xc0\x0c" "\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x03\x84" "\x00\x12\x75\x00", DNS_ERR_RDATA_SIZE),
    CASE("SOA with 24 octets of numbers", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x06", "\x1c") "\xc0\x0c" "\xc0\x0c" SOAFIX "\x00\x00\x00\x00", DNS_ERR_RDATA_SIZE),
    CASE("SOA rname past rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x06", "\x03") "\xc0\x0c" "\x01" "x" "\x00" SOAFIX, DNS_ERR_RDATA_OVERRUN),
    CASE("TXT with no string", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x10", "\x00"), DNS_ERR_RDATA_SIZE),
    CASE("TXT string past rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x10", "\x04") "\x05" "abc" "de", DNS_ERR_TXT_OVERRUN),
    CASE("TXT second string past rdlength", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x10", "\x05") "\x02" "ab" "\x07" "c", DNS_ERR_TXT_OVERRUN),
    {"opaque RDATA over 512 octets", big_opaque, sizeof big_opaque, DNS_MSG_MAX, DNS_ERR_RDATA_TOO_LONG},
    CASE("octets after the last record", HDR("\x01", "\x01", "\x00", "\x00") QA RR("\x01", "\x04") "\x01\x02\x03\x04" "\x00", DNS_ERR_TRAILING),
    CASE("owner with reserved label type", HDR("\x01", "\x01", "\x00", "\x00") QA "\x41" "\x00\x01\x00\x01" TTL "\x00\x00", DNS_ERR_LABEL_TYPE),
    CASE("owner pointer past the end", HDR("\x01", "\x01", "\x00", "\x00") QA "\xc1\x00" "\x00\x01\x00\x01" TTL "\x00\x00", DNS_ERR_PTR_RANGE),
};

static void fill_big_inputs(void)
{
    memcpy(oversized, HDR("\x00", "\x00", "\x00", "\x00"), DNS_HEADER_LEN);
    /* one question, one record of type 99 with 513 octets of RDATA */
    static const char head[] = HDR("\x01", "\x01", "\x00", "\x00") QA "\xc0\x0c" "\x00\x63\x00\x01" TTL "\x02\x01";
    memcpy(big_opaque, head, sizeof head - 1);
    assert_int_equal(sizeof head - 1 + DNS_RDATA_MAX + 1, sizeof big_opaque);
}

static void test_bad_messages(void **state)
{
    (void)state;
    fill_big_inputs();
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int err = decode_exact(bad[i].in, bad[i].len, bad[i].max, &m1);
        if (err != bad[i].err)
            fail_msg("%s: got %s, want %s", bad[i].name, dns_strerror(err), dns_strerror(bad[i].err));
    }
    /* the same opaque record one octet shorter is fine over TCP */
    big_opaque[DNS_HEADER_LEN + 17 + 11] = 0x00;
    assert_int_equal(decode_exact(big_opaque, sizeof big_opaque - 1, DNS_MSG_MAX, &m1), DNS_OK);
    assert_int_equal(m1.sec[DNS_ANSWER].rr[0].rd.raw.len, DNS_RDATA_MAX);
    /* the 513-octet message gets past the size check when the caller allows more */
    assert_int_equal(decode_exact(oversized, sizeof oversized, DNS_MSG_MAX, &m1), DNS_ERR_TRAILING);
}

static void test_error_names(void **state)
{
    (void)state;
    for (int e = 0; e < DNS_ERR_COUNT; e++)
        assert_string_not_equal(dns_strerror(e), "unknown error");
    assert_string_equal(dns_strerror(DNS_ERR_PTR_LOOP), "compression pointer loop");
    assert_string_equal(dns_strerror(DNS_ERR_COUNT), "unknown error");
    assert_string_equal(dns_strerror(-1), "unknown error");
    const char *want[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
    for (unsigned r = 0; r < DNS_RCODE_COUNT; r++)
        assert_string_equal(dns_rcode_name(r), want[r]);
    assert_null(dns_rcode_name(6));
    assert_string_equal(dns_opcode_name(DNS_OPCODE_QUERY), "QUERY");
    assert_null(dns_opcode_name(5));
    assert_string_equal(dns_type_name(DNS_TYPE_MX), "MX");
    assert_string_equal(dns_type_name(DNS_TYPE_AAAA), "AAAA");
    assert_null(dns_type_name(99));
    assert_string_equal(dns_section_name(DNS_AUTHORITY), "authority");
}

/* ---- builders and limits --------------------------------------------------- */

static void test_builders_and_limits(void **state)
{
    (void)state;
    struct dns_name dom = name_of("example.org"), mail = name_of("mail.example.org");
    dns_query_init(&m1, 7, &dom, DNS_TYPE_A, false);
    m1.h.opcode = DNS_OPCODE_STATUS;
    dns_response_init(&m2, &m1, false, DNS_RCODE_NOTIMP);
    assert_int_equal(m2.h.id, 7);
    assert_true(m2.h.qr && !m2.h.aa && !m2.h.rd && !m2.h.ra);
    assert_int_equal(m2.h.opcode, DNS_OPCODE_STATUS);
    assert_int_equal(m2.h.rcode, DNS_RCODE_NOTIMP);
    assert_int_equal(m2.qdcount, 1);
    assert_true(dns_name_eq(&m2.qd[0].name, &dom));

    struct dns_rr rr;
    dns_rr_init(&rr, &mail, DNS_TYPE_A, 1);
    for (int i = 0; i < DNS_MAX_RR; i++)
        assert_int_equal(dns_add_rr(&m2, DNS_ADDITIONAL, &rr), DNS_OK);
    assert_int_equal(dns_add_rr(&m2, DNS_ADDITIONAL, &rr), DNS_ERR_TOO_MANY);
    assert_int_equal(m2.sec[DNS_ADDITIONAL].count, DNS_MAX_RR);

    /* 64 A records do not fit 512 octets, do fit TCP: the first owner is
     * "mail" and a pointer (7 octets + 14), the others a pointer (2 + 14) */
    uint8_t out[2048];
    size_t len;
    assert_int_equal(dns_encode(&m2, out, DNS_UDP_MAX, &len), DNS_ERR_NO_SPACE);
    assert_int_equal(len, 0);
    assert_int_equal(dns_encode(&m2, out, sizeof out, &len), DNS_OK);
    assert_int_equal(len, 12 + 17 + 21 + 63 * 16);
    assert_int_equal(decode_exact(out, len, DNS_UDP_MAX, &m3), DNS_ERR_MSG_TOO_LONG);
    assert_int_equal(decode_exact(out, len, DNS_MSG_MAX, &m3), DNS_OK);
    assert_int_equal(m3.sec[DNS_ADDITIONAL].count, 64);

    /* over UDP it becomes header and question with TC (RFC 1035 4.2.1) */
    bool tc;
    assert_int_equal(dns_encode_udp(&m2, out, DNS_UDP_MAX, &len, &tc), DNS_OK);
    assert_true(tc);
    assert_int_equal(len, 29);
    /* QR, opcode STATUS, TC; rcode NOTIMP */
    assert_memory_equal(out, "\x00\x07\x92\x04\x00\x01\x00\x00\x00\x00\x00\x00" QEX "\x00\x01\x00\x01", 29);
    assert_int_equal(dns_encode_udp(&m2, out, 28, &len, &tc), DNS_ERR_NO_SPACE);
    assert_false(tc);
    assert_int_equal(dns_encode_udp(&m2, out, sizeof out, &len, &tc), DNS_OK);
    assert_false(tc);
    assert_int_equal(len, 12 + 17 + 21 + 63 * 16);

    /* a hand-filled count above the limit, and an unset name, are refused */
    m2.sec[DNS_ANSWER].count = DNS_MAX_RR + 1;
    assert_int_equal(dns_encode(&m2, out, sizeof out, &len), DNS_ERR_TOO_MANY);
    m2.sec[DNS_ANSWER].count = 1;
    m2.sec[DNS_ANSWER].rr[0] = rr;
    m2.sec[DNS_ANSWER].rr[0].name.len = 0;
    assert_int_equal(dns_encode(&m2, out, sizeof out, &len), DNS_ERR_NAME_SYNTAX);
    m2.sec[DNS_ANSWER].rr[0] = rr;
    m2.sec[DNS_ANSWER].rr[0].type = 99;
    m2.sec[DNS_ANSWER].rr[0].rd.raw.len = DNS_RDATA_MAX + 1;
    assert_int_equal(dns_encode(&m2, out, sizeof out, &len), DNS_ERR_RDATA_TOO_LONG);

    /* TXT strings: 255 octets each at most, and RDATA within its bound */
    dns_rr_init(&rr, &dom, DNS_TYPE_TXT, 1);
    char s[256];
    memset(s, 'x', sizeof s);
    assert_int_equal(dns_txt_add(&rr, s, 256), DNS_ERR_RDATA_TOO_LONG);
    assert_int_equal(dns_txt_add(&rr, s, 255), DNS_OK);
    assert_int_equal(dns_txt_add(&rr, s, 255), DNS_OK);
    assert_int_equal(rr.rd.raw.len, DNS_RDATA_MAX);
    assert_int_equal(dns_txt_add(&rr, s, 0), DNS_ERR_RDATA_TOO_LONG);
    assert_int_equal(rr.rd.raw.len, DNS_RDATA_MAX);
}

/* ---- TCP framing ----------------------------------------------------------- */

static void test_tcp_framing(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    /* two framed messages: the query and its answer from above */
    uint8_t stream[2 + 29 + 2 + 50];
    assert_int_equal(dns_tcp_write_len(stream, 29), DNS_OK);
    memcpy(stream + 2, query_bytes, 29);
    assert_int_equal(dns_tcp_write_len(stream + 31, 50), DNS_OK);
    memcpy(stream + 33, answer_bytes, 50);
    assert_memory_equal(stream, "\x00\x1d", 2);
    assert_memory_equal(stream + 31, "\x00\x32", 2);

    for (size_t m = 0; m < 2; m++) {
        uint8_t storage[DNS_UDP_MAX];
        struct dns_tcp_reader r;
        dns_tcp_init(&r, storage, sizeof storage);
        size_t off = 0, got = 0;
        while (off < sizeof stream) {
            off += dns_tcp_feed(&r, stream + off, feed_chunk(modes[m], sizeof stream - off));
            const uint8_t *msg;
            size_t len;
            enum dns_tcp_status st;
            while ((st = dns_tcp_next(&r, &msg, &len)) == DNS_TCP_MESSAGE) {
                if (got == 0) {
                    assert_int_equal(len, 29);
                    assert_memory_equal(msg, query_bytes, 29);
                } else {
                    assert_int_equal(len, 50);
                    assert_memory_equal(msg, answer_bytes, 50);
                    assert_int_equal(dns_decode(msg, len, DNS_MSG_MAX, &m1), DNS_OK);
                }
                got++;
            }
            assert_int_equal(st, DNS_TCP_NEED_MORE);
        }
        assert_int_equal(got, 2);
    }

    /* a frame longer than the storage is a sticky error */
    uint8_t small[40];
    struct dns_tcp_reader r;
    dns_tcp_init(&r, small, sizeof small);
    assert_int_equal(dns_tcp_feed(&r, stream + 31, 3), 2);
    const uint8_t *msg;
    size_t len;
    assert_int_equal(dns_tcp_next(&r, &msg, &len), DNS_TCP_ERROR);
    assert_int_equal(r.err, DNS_ERR_MSG_TOO_LONG);
    assert_string_equal(dns_tcp_state_name(r.state), "failed");
    assert_int_equal(dns_tcp_feed(&r, stream, 2), 0);
    assert_int_equal(dns_tcp_next(&r, &msg, &len), DNS_TCP_ERROR);
    dns_tcp_reset(&r);
    assert_int_equal(dns_tcp_feed(&r, stream, 31), 31);
    assert_int_equal(dns_tcp_next(&r, &msg, &len), DNS_TCP_MESSAGE);
    assert_int_equal(len, 29);
    /* a held message must be collected before more is taken */
    assert_int_equal(dns_tcp_feed(&r, stream, 2), 2);
    assert_int_equal(r.state, DNS_TCP_BODY);
    assert_int_equal(dns_tcp_feed(&r, stream + 2, 29), 29);
    assert_int_equal(r.state, DNS_TCP_READY);
    assert_int_equal(dns_tcp_feed(&r, stream + 31, 2), 0);
    /* a zero-length frame is framed; dns_decode() then refuses it */
    dns_tcp_reset(&r);
    assert_int_equal(dns_tcp_feed(&r, (const uint8_t *)"\x00\x00", 2), 2);
    assert_int_equal(dns_tcp_next(&r, &msg, &len), DNS_TCP_MESSAGE);
    assert_int_equal(len, 0);
    assert_int_equal(dns_decode(msg, len, DNS_MSG_MAX, &m1), DNS_ERR_TRUNCATED_HEADER);
    assert_string_equal(dns_tcp_state_name(r.state), "length");

    uint8_t two[2];
    assert_int_equal(dns_tcp_write_len(two, 65535), DNS_OK);
    assert_memory_equal(two, "\xff\xff", 2);
    assert_int_equal(dns_tcp_write_len(two, 65536), DNS_ERR_MSG_TOO_LONG);
}

/* ---- presentation ------------------------------------------------------ */

static void rr_a(struct dns_rr *rr) { memcpy(rr->rd.a, "\xc0\x00\x02\x19", 4); }
static void rr_aaaa(struct dns_rr *rr)
{
    memcpy(rr->rd.aaaa, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19", 16);
}
static void rr_aaaa_two_runs(struct dns_rr *rr)
{
    /* 2001:0:0:1:0:0:0:1: the longer zero run is the one shortened */
    memcpy(rr->rd.aaaa, "\x20\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01", 16);
}
static void rr_mx(struct dns_rr *rr)
{
    rr->rd.mx.preference = 10;
    rr->rd.mx.exchange = name_of("mx1.example.org");
}
static void rr_null_mx(struct dns_rr *rr)
{
    rr->rd.mx.preference = 0;
    rr->rd.mx.exchange = name_of(".");
}
static void rr_cname(struct dns_rr *rr) { rr->rd.target = name_of("mail.example.org"); }
static void rr_soa(struct dns_rr *rr)
{
    rr->rd.soa.mname = name_of("ns1.example.org");
    rr->rd.soa.rname = name_of("hostmaster.example.org");
    rr->rd.soa.serial = 2024010101;
    rr->rd.soa.refresh = 3600;
    rr->rd.soa.retry = 600;
    rr->rd.soa.expire = 86400;
    rr->rd.soa.minimum = 300;
}
static void rr_txt(struct dns_rr *rr)
{
    assert_int_equal(dns_txt_add(rr, "v=spf1 -all", 11), DNS_OK);
    assert_int_equal(dns_txt_add(rr, "say \"hi\"\\\x01", 10), DNS_OK);
}
static void rr_opaque(struct dns_rr *rr)
{
    rr->rd.raw.len = 2;
    memcpy(rr->rd.raw.data, "\xab\xcd", 2);
}

static const struct {
    const char *name;
    const char *owner;
    uint16_t type, rclass;
    uint32_t ttl;
    void (*fill)(struct dns_rr *);
    const char *want;
} rr_texts[] = {
    {"A", "mx1.example.org", DNS_TYPE_A, DNS_CLASS_IN, 3600, rr_a,
     "mx1.example.org. 3600 IN A 192.0.2.25"},
    {"AAAA compressed", "mx1.example.org", DNS_TYPE_AAAA, DNS_CLASS_IN, 60, rr_aaaa,
     "mx1.example.org. 60 IN AAAA 2001:db8::19"},
    {"AAAA longest zero run", "h.example.org", DNS_TYPE_AAAA, DNS_CLASS_IN, 60, rr_aaaa_two_runs,
     "h.example.org. 60 IN AAAA 2001:0:0:1::1"},
    {"MX", "example.org", DNS_TYPE_MX, DNS_CLASS_IN, 3600, rr_mx,
     "example.org. 3600 IN MX 10 mx1.example.org."},
    {"null MX", "example.net", DNS_TYPE_MX, DNS_CLASS_IN, 300, rr_null_mx,
     "example.net. 300 IN MX 0 ."},
    {"CNAME", "www.example.org", DNS_TYPE_CNAME, DNS_CLASS_IN, 300, rr_cname,
     "www.example.org. 300 IN CNAME mail.example.org."},
    {"SOA", "example.org", DNS_TYPE_SOA, DNS_CLASS_IN, 3600, rr_soa,
     "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 3600 600 86400 300"},
    {"TXT two strings, escapes", "example.org", DNS_TYPE_TXT, DNS_CLASS_IN, 300, rr_txt,
     "example.org. 300 IN TXT \"v=spf1 -all\" \"say \\\"hi\\\"\\\\\\001\""},
    {"unknown type and class (RFC 3597)", "x.example.org", 99, 3, 60, rr_opaque,
     "x.example.org. 60 CLASS3 TYPE99 \\# 2 abcd"},
};

static void test_rr_to_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rr_texts); i++) {
        struct dns_rr rr;
        struct dns_name owner = name_of(rr_texts[i].owner);
        dns_rr_init(&rr, &owner, rr_texts[i].type, rr_texts[i].ttl);
        rr.rclass = rr_texts[i].rclass;
        rr_texts[i].fill(&rr);
        char out[DNS_RR_TEXT_MAX];
        if (dns_rr_to_text(&rr, out, sizeof out) != DNS_OK || strcmp(out, rr_texts[i].want) != 0)
            fail_msg("%s: got \"%s\"", rr_texts[i].name, out);
        /* one octet short: an error, and what fitted */
        size_t need = strlen(rr_texts[i].want) + 1;
        assert_int_equal(dns_rr_to_text(&rr, out, need - 1), DNS_ERR_NO_SPACE);
        assert_int_equal(strlen(out), need - 2);
        assert_memory_equal(out, rr_texts[i].want, need - 2);
    }
}

static void test_msg_summary(void **state)
{
    (void)state;
    char out[DNS_RR_TEXT_MAX];
    struct dns_name org = name_of("example.org");
    dns_query_init(&m1, 7, &org, DNS_TYPE_MX, true);
    assert_int_equal(dns_msg_summary(&m1, out, sizeof out), DNS_OK);
    assert_string_equal(out, "example.org. IN MX?");
    m1.qd[0].type = 4242;
    m1.qd[0].qclass = 4;
    assert_int_equal(dns_msg_summary(&m1, out, sizeof out), DNS_OK);
    assert_string_equal(out, "example.org. CLASS4 TYPE4242?");
    m1.qdcount = 0;
    assert_int_equal(dns_msg_summary(&m1, out, sizeof out), DNS_OK);
    assert_string_equal(out, "(no question)");

    dns_query_init(&m1, 7, &org, DNS_TYPE_MX, true);
    dns_response_init(&m2, &m1, true, DNS_RCODE_NOERROR);
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, "NODATA");
    struct dns_rr rr;
    dns_rr_init(&rr, &org, DNS_TYPE_MX, 3600);
    rr_mx(&rr);
    assert_int_equal(dns_add_rr(&m2, DNS_ANSWER, &rr), DNS_OK);
    rr.rd.mx.preference = 20;
    rr.rd.mx.exchange = name_of("mx2.example.org");
    assert_int_equal(dns_add_rr(&m2, DNS_ANSWER, &rr), DNS_OK);
    /* other sections are not summarised */
    struct dns_name mx1 = name_of("mx1.example.org");
    dns_rr_init(&rr, &mx1, DNS_TYPE_A, 3600);
    rr_a(&rr);
    assert_int_equal(dns_add_rr(&m2, DNS_ADDITIONAL, &rr), DNS_OK);
    const char *want = "example.org. 3600 IN MX 10 mx1.example.org.; "
                       "example.org. 3600 IN MX 20 mx2.example.org.";
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, want);
    /* too small: cut, ending in "..." */
    char small[20];
    assert_int_equal(dns_msg_summary(&m2, small, sizeof small), DNS_ERR_NO_SPACE);
    assert_string_equal(small, "example.org. 360...");
    assert_int_equal(dns_msg_summary(&m2, out, strlen(want) + 1), DNS_OK);
    assert_int_equal(dns_msg_summary(&m2, out, strlen(want)), DNS_ERR_NO_SPACE);

    /* RFC 6604: the CNAME, then the rcode of the last name */
    dns_response_init(&m2, &m1, true, DNS_RCODE_NXDOMAIN);
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, "NXDOMAIN");
    dns_rr_init(&rr, &org, DNS_TYPE_CNAME, 300);
    rr_cname(&rr);
    assert_int_equal(dns_add_rr(&m2, DNS_ANSWER, &rr), DNS_OK);
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, "example.org. 300 IN CNAME mail.example.org.; NXDOMAIN");
    dns_response_init(&m2, &m1, false, DNS_RCODE_SERVFAIL);
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, "SERVFAIL");
    m2.h.rcode = 11;
    assert_int_equal(dns_msg_summary(&m2, out, sizeof out), DNS_OK);
    assert_string_equal(out, "RCODE11");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_good),
        cmocka_unit_test(test_names_bad),
        cmocka_unit_test(test_name_compare_and_text_limits),
        cmocka_unit_test(test_encode_exact_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixture_mx),
        cmocka_unit_test(test_fixture_addresses),
        cmocka_unit_test(test_fixture_negative_and_soa),
        cmocka_unit_test(test_fixture_txt_and_cname),
        cmocka_unit_test(test_fixture_dig_query),
        cmocka_unit_test(test_fixture_truncations),
        cmocka_unit_test(test_bad_messages),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_builders_and_limits),
        cmocka_unit_test(test_tcp_framing),
        cmocka_unit_test(test_rr_to_text),
        cmocka_unit_test(test_msg_summary),
    };
    return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
