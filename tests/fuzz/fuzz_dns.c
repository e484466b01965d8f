/* libFuzzer target: DNS messages (dns_decode, dns_encode), with the
 * presentation forms, MX selection and the TCP framing reader on the way.
 *
 * Properties:
 *  - dns_decode() of any bytes returns 0 or a DNS_ERR_* value with a name;
 *  - round trip: a decoded message encodes (dns_encode never refuses what
 *    dns_decode made) and decodes again into the same message, field by
 *    field, names byte for byte (case kept); encoding that again gives the
 *    same bytes;
 *  - every name's text form (dns_name_to_text) fits DNS_NAME_TEXT_MAX and
 *    reads back (dns_name_from_text) into the same wire name; every record's
 *    dig form fits DNS_RR_TEXT_MAX; the one-line summary never overflows;
 *  - dns_mx_select() on the message returns a status in its table;
 *  - the TCP reader splits the input into frames without reading outside it. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/dns.h"

/* Messages are large (about 155 KB): static, not on the stack. */
static struct dns_msg m1, m2;
static struct dns_mx_list mx;
static uint8_t wire1[2 * DNS_MSG_MAX], wire2[2 * DNS_MSG_MAX];

static bool same_name(const struct dns_name *a, const struct dns_name *b)
{
    return a->len == b->len && memcmp(a->wire, b->wire, a->len) == 0;
}

static void check_name(const struct dns_name *n)
{
    char text[DNS_NAME_TEXT_MAX];
    FUZZ_CHECK(n->len >= 1 && n->len <= DNS_NAME_MAX);
    FUZZ_CHECK(dns_name_to_text(n, text, sizeof text) == DNS_OK);
    struct dns_name back;
    FUZZ_CHECK(dns_name_from_text(&back, text) == DNS_OK);
    FUZZ_CHECK(same_name(n, &back));
    FUZZ_CHECK(dns_name_eq(n, &back));
}

static bool same_rr(const struct dns_rr *a, const struct dns_rr *b)
{
    if (!same_name(&a->name, &b->name) || a->type != b->type || a->rclass != b->rclass ||
        a->ttl != b->ttl)
        return false;
    switch (a->type) {
    case DNS_TYPE_A: return memcmp(a->rd.a, b->rd.a, 4) == 0;
    case DNS_TYPE_AAAA: return memcmp(a->rd.aaaa, b->rd.aaaa, 16) == 0;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR: return same_name(&a->rd.target, &b->rd.target);
    case DNS_TYPE_MX:
        return a->rd.mx.preference == b->rd.mx.preference &&
               same_name(&a->rd.mx.exchange, &b->rd.mx.exchange);
    case DNS_TYPE_SOA:
        return same_name(&a->rd.soa.mname, &b->rd.soa.mname) &&
               same_name(&a->rd.soa.rname, &b->rd.soa.rname) &&
               a->rd.soa.serial == b->rd.soa.serial && a->rd.soa.refresh == b->rd.soa.refresh &&
               a->rd.soa.retry == b->rd.soa.retry && a->rd.soa.expire == b->rd.soa.expire &&
               a->rd.soa.minimum == b->rd.soa.minimum;
    default:
        return a->rd.raw.len == b->rd.raw.len &&
               memcmp(a->rd.raw.data, b->rd.raw.data, a->rd.raw.len) == 0;
    }
}

static bool same_msg(const struct dns_msg *a, const struct dns_msg *b)
{
    if (a->h.id != b->h.id || a->h.qr != b->h.qr || a->h.opcode != b->h.opcode ||
        a->h.aa != b->h.aa || a->h.tc != b->h.tc || a->h.rd != b->h.rd || a->h.ra != b->h.ra ||
        a->h.z != b->h.z || a->h.rcode != b->h.rcode || a->qdcount != b->qdcount)
        return false;
    for (size_t i = 0; i < a->qdcount; i++)
        if (!same_name(&a->qd[i].name, &b->qd[i].name) || a->qd[i].type != b->qd[i].type ||
            a->qd[i].qclass != b->qd[i].qclass)
            return false;
    for (int s = 0; s < DNS_SECTION_COUNT; s++) {
        if (a->sec[s].count != b->sec[s].count) return false;
        for (size_t i = 0; i < a->sec[s].count; i++)
            if (!same_rr(&a->sec[s].rr[i], &b->sec[s].rr[i])) return false;
    }
    return true;
}

static void check_text(const struct dns_msg *m)
{
    static char text[DNS_RR_TEXT_MAX];
    for (size_t i = 0; i < m->qdcount; i++) check_name(&m->qd[i].name);
    for (int s = 0; s < DNS_SECTION_COUNT; s++) {
        for (size_t i = 0; i < m->sec[s].count; i++) {
            const struct dns_rr *rr = &m->sec[s].rr[i];
            check_name(&rr->name);
            if (rr->type == DNS_TYPE_MX) check_name(&rr->rd.mx.exchange);
            if (rr->type == DNS_TYPE_NS || rr->type == DNS_TYPE_CNAME || rr->type == DNS_TYPE_PTR)
                check_name(&rr->rd.target);
            FUZZ_CHECK(dns_rr_to_text(rr, text, sizeof text) == DNS_OK);
            FUZZ_CHECK(strlen(text) < sizeof text);
            if (rr->type == DNS_TYPE_TXT) {
                const uint8_t *p;
                size_t n, k = 0, total = 0;
                while (dns_txt_string(rr, k, &p, &n)) {
                    total += 1 + n;
                    k++;
                }
                FUZZ_CHECK(total == rr->rd.raw.len);
            }
        }
    }
    static char sum[256];
    int err = dns_msg_summary(m, sum, sizeof sum);
    FUZZ_CHECK(err == DNS_OK || err == DNS_ERR_NO_SPACE);
    FUZZ_CHECK(strlen(sum) < sizeof sum);
}

static void tcp_frames(const uint8_t *data, size_t size)
{
    static uint8_t storage[DNS_UDP_MAX];
    struct dns_tcp_reader r;
    dns_tcp_init(&r, storage, sizeof storage);
    size_t off = 0;
    for (;;) {
        off += dns_tcp_feed(&r, data + off, size - off);
        const uint8_t *msg;
        size_t len;
        enum dns_tcp_status st = dns_tcp_next(&r, &msg, &len);
        if (st == DNS_TCP_ERROR) {
            FUZZ_CHECK(r.err == DNS_ERR_MSG_TOO_LONG);
            return;
        }
        if (st == DNS_TCP_MESSAGE) {
            FUZZ_CHECK(len <= sizeof storage);
            continue;
        }
        FUZZ_CHECK(st == DNS_TCP_NEED_MORE);
        if (off == size) return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tcp_frames(data, size);

    int err = dns_decode(data, size, DNS_MSG_MAX, &m1);
    FUZZ_CHECK(err >= 0 && err < DNS_ERR_COUNT);
    FUZZ_CHECK(dns_strerror(err) != NULL);
    if (err) return 0;

    check_text(&m1);
    if (m1.qdcount > 0) {
        enum dns_mx_status st = dns_mx_select(&m1.qd[0].name, &m1, &m1, size, &mx);
        FUZZ_CHECK((unsigned)st < DNS_MX_STATUS_COUNT && dns_mx_status_name(st) != NULL);
        FUZZ_CHECK(mx.count <= DNS_MX_MAX && (st == DNS_MX_OK) == (mx.count > 0));
    }

    size_t n1, n2;
    FUZZ_CHECK(dns_encode(&m1, wire1, sizeof wire1, &n1) == DNS_OK);
    FUZZ_CHECK(n1 >= DNS_HEADER_LEN && n1 <= sizeof wire1);
    FUZZ_CHECK(dns_decode(wire1, n1, n1, &m2) == DNS_OK);
    FUZZ_CHECK(same_msg(&m1, &m2));
    FUZZ_CHECK(dns_encode(&m2, wire2, sizeof wire2, &n2) == DNS_OK);
    FUZZ_CHECK(n1 == n2 && memcmp(wire1, wire2, n1) == 0);
    return 0;
}
