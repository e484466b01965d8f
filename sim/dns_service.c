/* The simulated DNS service: zones, authoritative servers, recursive
 * resolvers with a cache, stub lookups and MX resolution. See dns_service.h.
 *
 * Every message is built as a struct dns_msg and encoded with dns_encode(),
 * and every datagram received is parsed with dns_decode(): nothing here
 * writes protocol bytes by hand. */
#include "sim/dns_service.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"

/* ---- tables -------------------------------------------------------------- */

static const char *const err_names[SIM_DNS_ERR_COUNT] = {
    [SIM_DNS_OK] = "ok",
    [SIM_DNS_ERR_NAME] = "bad domain name",
    [SIM_DNS_ERR_OUT_OF_ZONE] = "owner name outside the zone",
    [SIM_DNS_ERR_RDATA] = "record data does not parse",
    [SIM_DNS_ERR_TYPE] = "record type not supported in zones",
    [SIM_DNS_ERR_CNAME] = "a CNAME cannot share its name with other records",
    [SIM_DNS_ERR_EXISTS] = "already exists",
    [SIM_DNS_ERR_FULL] = "limit reached",
    [SIM_DNS_ERR_BIND] = "UDP port taken, or the host is not a resolver",
    [SIM_DNS_ERR_NOMEM] = "out of memory",
};

const char *sim_dns_strerror(int err)
{
    if (err < 0 || err >= SIM_DNS_ERR_COUNT)
        return "unknown error";
    return err_names[err];
}

const char *const sim_dns_result_names[SIM_DNS_RESULT_COUNT] = {
    "answer", "nodata", "nxdomain", "servfail", "failed", "timeout",
};

const char *const sim_dns_mx_state_names[SIM_DNS_MX_STATE_COUNT] = {
    "query-mx", "query-addr", "done",
};

/* ---- types --------------------------------------------------------------- */

struct sim_dns_zone {
    struct dns_name apex;
    struct dns_rr soa;   /* the zone's SOA record, owner = apex */
    size_t n;
    struct dns_rr rr[SIM_DNS_ZONE_RR_MAX];
};

/* An authoritative server: a host and the zones it answers for. */
struct auth {
    struct auth *next;
    struct sim_dns *svc;
    struct sim_host *host;
    size_t nzones;
    struct sim_dns_zone *zones[SIM_DNS_SERVER_ZONES_MAX];
};

/* One cached answer, kept in wire form so the cache stays small. */
struct cache_entry {
    struct dns_name name;
    uint16_t type;
    sim_time stored, expires;
    uint16_t len;
    uint8_t wire[DNS_UDP_MAX];
};

/* A client waiting for a resolver's answer. */
struct waiter {
    struct sim_host *host;
    unsigned port;
    uint16_t id;
    bool rd;
};

/* A resolver's work on one question: its upstream query, the CNAMEs met so
 * far, and everyone waiting for the answer. */
struct task {
    struct task *next;
    struct resolver *res;
    struct dns_name qname; /* the question asked */
    uint16_t qtype;
    struct dns_name cur;   /* the name asked upstream now (after CNAMEs) */
    size_t ncname;
    struct dns_rr cname[SIM_DNS_CNAME_CHAIN_MAX];
    size_t nwait;
    struct waiter wait[SIM_DNS_WAITERS_MAX];
};

struct resolver {
    struct resolver *next;
    struct sim_dns *svc;
    struct sim_host *host;
    size_t ndeleg;
    struct {
        struct dns_name zone;
        char ip[SIM_HOST_IP_MAX + 1];
    } deleg[SIM_DNS_DELEGATIONS_MAX];
    size_t ncache;
    struct cache_entry cache[SIM_DNS_CACHE_MAX];
    struct task *tasks;
};

/* The client port of one host, shared by its stub lookups and, on a
 * resolver's host, by its queries to authorities. */
struct endpoint {
    struct endpoint *next;
    struct sim_dns *svc;
    struct sim_host *host;
};

struct txn;
typedef void (*txn_done_fn)(struct sim_dns *svc, struct txn *t, const struct dns_msg *reply);

/* A query in flight: sent, waiting for a matching reply or its timer. */
struct txn {
    struct txn *next;
    uint64_t serial;       /* what its timer carries: a timer finding no txn is stale */
    struct endpoint *ep;
    char server_ip[SIM_HOST_IP_MAX + 1];
    uint16_t id;
    struct dns_name qname;
    uint16_t qtype;
    unsigned tries, max_tries;
    sim_time timeout;
    const char *who;       /* "the resolver", a host name: for the retry note */
    char whobuf[SIM_HOST_NAME_MAX + 1];
    size_t len;
    uint8_t wire[DNS_UDP_MAX];
    txn_done_fn done;
    sim_dns_lookup_fn cb;  /* stub lookups: the caller's callback */
    void *ctx;
};

struct mxjob {
    struct mxjob *next;
    struct sim_dns *svc;
    struct sim_host *from;
    char resolver_ip[SIM_HOST_IP_MAX + 1];
    struct dns_name domain; /* the domain the MX records are asked for (after a CNAME) */
    enum sim_dns_mx_state state;
    bool requeried;
    bool asked_addr;        /* an address query was made: select() gets job->addr */
    bool addr_tempfail;     /* an address query timed out or got SERVFAIL */
    size_t next_target;
    uint64_t seed;
    struct dns_msg mx, addr; /* the MX answer; the address answers, merged */
    struct dns_mx_list list;
    sim_dns_mx_fn cb;
    void *ctx;
};

struct sim_dns {
    struct sim_engine *e;
    struct sim_net *net;
    size_t nzones;
    struct sim_dns_zone *zones[SIM_DNS_ZONES_MAX];
    struct auth *auths;
    struct resolver *resolvers;
    struct endpoint *endpoints;
    struct txn *txns;
    size_t ntxn;
    uint64_t next_serial;
    struct mxjob *jobs;
    size_t njobs;
    /* Scratch, large: `in` holds the datagram being handled, `out` the
     * message being built. A handler decodes into `in` once and never
     * decodes again before it returns; every `out` is encoded at once. */
    struct dns_msg *in, *out;
    uint8_t buf[DNS_UDP_MAX];
    char text[SIM_DNS_TEXT_MAX];
    char note[SIM_DNS_TEXT_MAX];
};

/* ---- small helpers --------------------------------------------------------- */

/* 1 when name is apex or below it (RFC 1034 4.3.2 "the zone which is the
 * nearest ancestor"): apex's wire form is a suffix of name's that starts at
 * a label boundary. */
static int below(const struct dns_name *name, const struct dns_name *apex)
{
    if (name->len < apex->len || apex->len == 0)
        return 0;
    size_t off = 0;
    while (name->len - off > apex->len) {
        if (name->wire[off] == 0)
            return 0;
        off += 1u + name->wire[off];
    }
    if (name->len - off != apex->len)
        return 0;
    struct dns_name tail;
    tail.len = apex->len;
    memcpy(tail.wire, name->wire + off, apex->len);
    return dns_name_eq(&tail, apex);
}

/* The name as students read it: no final dot, except the root ".". */
static void plain(const struct dns_name *n, char *out, size_t cap)
{
    if (dns_name_to_text(n, out, cap) != DNS_OK) {
        snprintf(out, cap, "?");
        return;
    }
    size_t l = strlen(out);
    if (l > 1 && out[l - 1] == '.')
        out[l - 1] = '\0';
}

static void appendf(char *out, size_t cap, const char *fmt, ...)
{
    size_t o = strlen(out);
    if (o + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + o, cap - o, fmt, ap);
    va_end(ap);
}

/* Dotted-quad IPv4 text: four decimal numbers 0..255, no leading zeros
 * (RFC 6943 3.1.1 warns that "010" reads as octal to some parsers). */
static int parse_ipv4(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        const char *start = s;
        while (*s >= '0' && *s <= '9' && s - start < 3)
            v = v * 10 + (unsigned)(*s++ - '0');
        if (s == start || v > 255 || (s - start > 1 && *start == '0'))
            return -1;
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    return *s == '\0' ? 0 : -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* IPv6 text (RFC 4291 2.2): eight groups of 1..4 hex digits, one "::" for a
 * run of zero groups. The embedded-IPv4 form is not accepted. */
static int parse_ipv6(const char *s, uint8_t out[16])
{
    unsigned g[8];
    int n = 0, gap = -1;
    if (s[0] == ':') {
        if (s[1] != ':')
            return -1;
        gap = 0;
        s += 2;
    }
    while (*s) {
        unsigned v = 0;
        int digits = 0, h;
        while ((h = hexval(*s)) >= 0 && digits < 4) {
            v = v << 4 | (unsigned)h;
            digits++;
            s++;
        }
        if (digits == 0 || n == 8)
            return -1;
        g[n++] = v;
        if (*s == '\0')
            break;
        if (*s++ != ':')
            return -1;
        if (*s == ':') {
            if (gap >= 0)
                return -1;
            gap = n;
            s++;
        } else if (*s == '\0') {
            return -1; /* a single trailing colon */
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return -1;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : n - gap;
    for (int i = 0; i < n; i++) {
        int at = (gap < 0 || i < gap) ? i : 8 - tail + (i - gap);
        out[2 * at] = (uint8_t)(g[i] >> 8);
        out[2 * at + 1] = (uint8_t)g[i];
    }
    return 0;
}

/* The data of an A or AAAA record as text, as dns_rr_to_text() writes it. */
static void addr_text(const struct dns_rr *rr, char *out, size_t cap)
{
    char line[DNS_RR_TEXT_MAX];
    const char *sp;
    if (dns_rr_to_text(rr, line, sizeof line) != DNS_OK || !(sp = strrchr(line, ' ')))
        snprintf(out, cap, "?");
    else
        snprintf(out, cap, "%s", sp + 1);
}

static const char *type_text(uint16_t type, char *tmp, size_t cap)
{
    const char *n = dns_type_name(type);
    if (n)
        return n;
    snprintf(tmp, cap, "TYPE%u", (unsigned)type);
    return tmp;
}

static void clear(struct dns_msg *m)
{
    memset(&m->h, 0, sizeof m->h);
    m->qdcount = 0;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        m->sec[s].count = 0;
}

static int has_soa(const struct dns_msg *m)
{
    for (size_t i = 0; i < m->sec[DNS_AUTHORITY].count; i++)
        if (m->sec[DNS_AUTHORITY].rr[i].type == DNS_TYPE_SOA)
            return 1;
    return 0;
}

/* ---- the service ------------------------------------------------------------ */

struct sim_dns *sim_dns_new(struct sim_engine *e, struct sim_net *net)
{
    struct sim_dns *svc = calloc(1, sizeof *svc);
    if (!svc)
        return NULL;
    svc->e = e;
    svc->net = net;
    svc->in = malloc(sizeof *svc->in);
    svc->out = malloc(sizeof *svc->out);
    if (!svc->in || !svc->out) {
        sim_dns_free(svc);
        return NULL;
    }
    svc->next_serial = 1;
    return svc;
}

void sim_dns_free(struct sim_dns *svc)
{
    if (!svc)
        return;
    for (size_t i = 0; i < svc->nzones; i++)
        free(svc->zones[i]);
    for (struct auth *a = svc->auths, *n; a; a = n) {
        n = a->next;
        free(a);
    }
    for (struct resolver *r = svc->resolvers, *n; r; r = n) {
        n = r->next;
        for (struct task *t = r->tasks, *tn; t; t = tn) {
            tn = t->next;
            free(t);
        }
        free(r);
    }
    for (struct endpoint *p = svc->endpoints, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    for (struct txn *t = svc->txns, *n; t; t = n) {
        n = t->next;
        free(t);
    }
    for (struct mxjob *j = svc->jobs, *n; j; j = n) {
        n = j->next;
        free(j);
    }
    free(svc->in);
    free(svc->out);
    free(svc);
}

/* ---- zones ---------------------------------------------------------------- */

int sim_dns_zone_add(struct sim_dns *svc, const char *apex, struct sim_dns_zone **zone)
{
    struct dns_name n;
    if (dns_name_from_text(&n, apex) != DNS_OK)
        return SIM_DNS_ERR_NAME;
    for (size_t i = 0; i < svc->nzones; i++)
        if (dns_name_eq(&svc->zones[i]->apex, &n))
            return SIM_DNS_ERR_EXISTS;
    if (svc->nzones == SIM_DNS_ZONES_MAX)
        return SIM_DNS_ERR_FULL;
    struct sim_dns_zone *z = calloc(1, sizeof *z);
    if (!z)
        return SIM_DNS_ERR_NOMEM;
    z->apex = n;
    dns_rr_init(&z->soa, &n, DNS_TYPE_SOA, SIM_DNS_SOA_TTL);
    char text[DNS_NAME_TEXT_MAX + 16];
    char a[DNS_NAME_TEXT_MAX];
    dns_name_to_text(&n, a, sizeof a);
    /* ns1.<apex> and hostmaster.<apex> fit unless the apex is near 255
     * octets; then the apex itself stands in. */
    snprintf(text, sizeof text, "ns1.%s", a);
    if (dns_name_from_text(&z->soa.rd.soa.mname, text) != DNS_OK)
        z->soa.rd.soa.mname = n;
    snprintf(text, sizeof text, "hostmaster.%s", a);
    if (dns_name_from_text(&z->soa.rd.soa.rname, text) != DNS_OK)
        z->soa.rd.soa.rname = n;
    z->soa.rd.soa.serial = 1;
    z->soa.rd.soa.refresh = 3600;
    z->soa.rd.soa.retry = 600;
    z->soa.rd.soa.expire = 86400;
    z->soa.rd.soa.minimum = SIM_DNS_SOA_MINIMUM;
    svc->zones[svc->nzones++] = z;
    if (zone)
        *zone = z;
    return SIM_DNS_OK;
}

struct sim_dns_zone *sim_dns_zone(const struct sim_dns *svc, const char *apex)
{
    struct dns_name n;
    if (dns_name_from_text(&n, apex) != DNS_OK)
        return NULL;
    for (size_t i = 0; i < svc->nzones; i++)
        if (dns_name_eq(&svc->zones[i]->apex, &n))
            return svc->zones[i];
    return NULL;
}

int sim_dns_zone_set_soa(struct sim_dns_zone *zone, const char *mname, const char *rname,
                         uint32_t serial, uint32_t minimum, uint32_t ttl)
{
    struct dns_name m, r;
    if (dns_name_from_text(&m, mname) != DNS_OK || dns_name_from_text(&r, rname) != DNS_OK)
        return SIM_DNS_ERR_NAME;
    zone->soa.rd.soa.mname = m;
    zone->soa.rd.soa.rname = r;
    zone->soa.rd.soa.serial = serial;
    zone->soa.rd.soa.minimum = minimum;
    zone->soa.ttl = ttl;
    return SIM_DNS_OK;
}

size_t sim_dns_zone_rr_count(const struct sim_dns_zone *zone) { return zone->n; }

/* Parses "10 mx1.example.org": a preference of 0..65535, one space or more,
 * a name. */
static int parse_mx(struct dns_rr *rr, const char *text)
{
    const char *p = text;
    unsigned long pref = 0;
    if (*p < '0' || *p > '9')
        return SIM_DNS_ERR_RDATA;
    while (*p >= '0' && *p <= '9') {
        pref = pref * 10 + (unsigned long)(*p++ - '0');
        if (pref > 65535)
            return SIM_DNS_ERR_RDATA;
    }
    if (*p != ' ')
        return SIM_DNS_ERR_RDATA;
    while (*p == ' ')
        p++;
    rr->rd.mx.preference = (uint16_t)pref;
    if (dns_name_from_text(&rr->rd.mx.exchange, p) != DNS_OK)
        return SIM_DNS_ERR_RDATA;
    return SIM_DNS_OK;
}

int sim_dns_zone_add_rr(struct sim_dns_zone *zone, const char *owner, uint16_t type,
                        uint32_t ttl, const char *rdata)
{
    struct dns_name o;
    if (dns_name_from_text(&o, owner) != DNS_OK)
        return SIM_DNS_ERR_NAME;
    if (!below(&o, &zone->apex))
        return SIM_DNS_ERR_OUT_OF_ZONE;
    struct dns_rr rr;
    dns_rr_init(&rr, &o, type, ttl);
    switch (type) {
    case DNS_TYPE_A:
        if (parse_ipv4(rdata, rr.rd.a) != 0)
            return SIM_DNS_ERR_RDATA;
        break;
    case DNS_TYPE_AAAA:
        if (parse_ipv6(rdata, rr.rd.aaaa) != 0)
            return SIM_DNS_ERR_RDATA;
        break;
    case DNS_TYPE_MX: {
        int err = parse_mx(&rr, rdata);
        if (err)
            return err;
        break;
    }
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
        if (dns_name_from_text(&rr.rd.target, rdata) != DNS_OK)
            return SIM_DNS_ERR_RDATA;
        break;
    case DNS_TYPE_TXT: {
        /* RFC 7208 3.3: a long text is split into strings of 255 octets. */
        size_t len = strlen(rdata), at = 0;
        do {
            size_t n = len - at > 255 ? 255 : len - at;
            if (dns_txt_add(&rr, rdata + at, n) != DNS_OK)
                return SIM_DNS_ERR_RDATA;
            at += n;
        } while (at < len);
        break;
    }
    default:
        return SIM_DNS_ERR_TYPE;
    }
    /* RFC 2181 10.1 (and RFC 1034 3.6.2): a name with a CNAME has no other
     * data. The apex always has its SOA, so it can never be a CNAME. */
    for (size_t i = 0; i < zone->n; i++) {
        const struct dns_rr *x = &zone->rr[i];
        if (dns_name_eq(&x->name, &o) &&
            (x->type == DNS_TYPE_CNAME) != (type == DNS_TYPE_CNAME))
            return SIM_DNS_ERR_CNAME;
        if (dns_name_eq(&x->name, &o) && type == DNS_TYPE_CNAME)
            return SIM_DNS_ERR_CNAME; /* one CNAME per name */
    }
    if (type == DNS_TYPE_CNAME && dns_name_eq(&o, &zone->apex))
        return SIM_DNS_ERR_CNAME;
    if (zone->n == SIM_DNS_ZONE_RR_MAX)
        return SIM_DNS_ERR_FULL;
    zone->rr[zone->n++] = rr;
    return SIM_DNS_OK;
}

int sim_dns_zone_add_mx(struct sim_dns_zone *zone, const char *owner, unsigned preference,
                        const char *exchange, uint32_t ttl)
{
    char text[DNS_NAME_TEXT_MAX + 8];
    if (preference > 65535)
        return SIM_DNS_ERR_RDATA;
    snprintf(text, sizeof text, "%u %s", preference, exchange);
    return sim_dns_zone_add_rr(zone, owner, DNS_TYPE_MX, ttl, text);
}

int sim_dns_zone_add_a(struct sim_dns_zone *zone, const char *owner, const char *ipv4,
                       uint32_t ttl)
{
    return sim_dns_zone_add_rr(zone, owner, DNS_TYPE_A, ttl, ipv4);
}

/* ---- notes for students --------------------------------------------------- */

static const char *count_word(size_t n)
{
    static const char *const words[] = {"no", "one", "two", "three", "four",
                                        "five", "six", "seven", "eight", "nine"};
    return n < ARRAY_LEN(words) ? words[n] : "many";
}

/* Explains an answer: "<who>: two mail servers, preference 10 and 20; lower
 * is tried first". who is "the authoritative server answers", ... */
static void describe(const struct dns_msg *m, const char *who, char *out, size_t cap)
{
    char a[DNS_NAME_TEXT_MAX], b[DNS_NAME_TEXT_MAX], tt[16];
    const struct dns_name *qname = m->qdcount ? &m->qd[0].name : NULL;
    uint16_t qtype = m->qdcount ? m->qd[0].type : 0;
    snprintf(out, cap, "%s: ", who);
    if (qname)
        plain(qname, a, sizeof a);
    else
        strcpy(a, "the name");

    /* CNAMEs first, as the answer lists them. */
    size_t i = 0;
    const struct dns_rr *an = m->sec[DNS_ANSWER].rr;
    size_t n = m->sec[DNS_ANSWER].count;
    const struct dns_name *last = qname;
    while (i < n && an[i].type == DNS_TYPE_CNAME && qtype != DNS_TYPE_CNAME) {
        plain(&an[i].name, a, sizeof a);
        plain(&an[i].rd.target, b, sizeof b);
        appendf(out, cap, "%s is an alias (CNAME) of %s; ", a, b);
        last = &an[i].rd.target;
        i++;
    }
    if (last)
        plain(last, a, sizeof a);

    if (m->h.rcode == DNS_RCODE_NXDOMAIN) {
        appendf(out, cap, "%s does not exist (NXDOMAIN)", a);
        return;
    }
    if (m->h.rcode != DNS_RCODE_NOERROR) {
        const char *rc = dns_rcode_name(m->h.rcode);
        appendf(out, cap, "%s", rc ? rc : "an error");
        return;
    }
    if (i == n) {
        if (i == 0 || has_soa(m))
            appendf(out, cap, "%s exists but has no %s records (NODATA)", a,
                    type_text(qtype, tt, sizeof tt));
        else
            appendf(out, cap, "%s is served elsewhere, so the resolver must ask on", a);
        return;
    }
    size_t k = n - i;
    if (qtype == DNS_TYPE_MX) {
        if (k == 1 && an[i].type == DNS_TYPE_MX && an[i].rd.mx.exchange.len == 1 &&
            an[i].rd.mx.preference == 0) {
            appendf(out, cap, "a null MX, so %s accepts no mail (RFC 7505)", a);
            return;
        }
        appendf(out, cap, "%s mail server%s, preference ", count_word(k), k == 1 ? "" : "s");
        for (size_t j = i; j < n; j++)
            appendf(out, cap, "%s%u", j == i ? "" : (j + 1 == n ? " and " : ", "),
                    an[j].type == DNS_TYPE_MX ? (unsigned)an[j].rd.mx.preference : 0u);
        if (k > 1)
            appendf(out, cap, "; lower is tried first");
        if (m->sec[DNS_ADDITIONAL].count)
            appendf(out, cap, "; %s come%s along in the additional section",
                    k == 1 ? "its address" : "their addresses", k == 1 ? "s" : "");
        return;
    }
    if (qtype == DNS_TYPE_A || qtype == DNS_TYPE_AAAA) {
        appendf(out, cap, "%s has address%s ", a, k == 1 ? "" : "es");
        for (size_t j = i; j < n; j++) {
            char addr[64];
            addr_text(&an[j], addr, sizeof addr);
            appendf(out, cap, "%s%s", j == i ? "" : (j + 1 == n ? " and " : ", "), addr);
        }
        return;
    }
    appendf(out, cap, "%s %s record%s for %s", count_word(k), type_text(qtype, tt, sizeof tt),
            k == 1 ? "" : "s", a);
}

/* ---- sending ----------------------------------------------------------------- */

/* Encodes *m (for UDP: over 512 octets it goes out truncated with TC, RFC
 * 1035 4.2.1) and sends it from host:53 to ip:port with the summary as text. */
static void send_reply(struct sim_dns *svc, struct sim_host *host, const char *ip, unsigned port,
                       const struct dns_msg *m, const char *note)
{
    size_t len;
    bool tc;
    if (dns_encode_udp(m, svc->buf, sizeof svc->buf, &len, &tc) != DNS_OK)
        return; /* only a malformed name of our own could cause it; nothing to send */
    char why[SIM_DNS_TEXT_MAX];
    if (tc) {
        /* What crosses the wire is the header and question alone. */
        snprintf(svc->text, sizeof svc->text, "TRUNCATED (TC)");
        snprintf(why, sizeof why,
                 "the answer does not fit in %u octets of UDP, so it goes out empty with TC "
                 "set: the asker should retry over TCP (RFC 1035 4.2.1)",
                 (unsigned)DNS_UDP_MAX);
        note = why;
    } else {
        dns_msg_summary(m, svc->text, sizeof svc->text);
    }
    sim_net_send_datagram(svc->net, host, SIM_DNS_PORT, ip, port, (const char *)svc->buf, len,
                          SIM_DIR_S2C, svc->text, note);
}

/* Checks a decoded query: -1 to drop it silently (a response: answering it
 * could start a loop), otherwise the RCODE to give. */
static int check_query(const struct dns_msg *q)
{
    if (q->h.qr)
        return -1;
    if (q->h.opcode != DNS_OPCODE_QUERY)
        return DNS_RCODE_NOTIMP; /* RFC 1035 4.1.1: the kind of query is not supported */
    if (q->qdcount != 1)
        return DNS_RCODE_FORMERR; /* RFC 9619: exactly one question */
    if (q->qd[0].qclass != DNS_CLASS_IN)
        return DNS_RCODE_REFUSED; /* the simulated world has class IN only */
    return DNS_RCODE_NOERROR;
}

/* Answers bytes that did not decode with FORMERR (RFC 1035 4.1.1), echoing
 * the id, opcode and RD of the header. Fewer than 12 octets leave no id to
 * echo, and a header with QR set is a response: both are dropped. */
static void reply_formerr(struct sim_dns *svc, struct sim_host *host, struct sim_host *from,
                          unsigned port, const uint8_t *b, size_t n, int err, const char *who)
{
    if (n < DNS_HEADER_LEN || (b[2] & 0x80))
        return;
    struct dns_msg *r = svc->out;
    clear(r);
    r->h.id = (uint16_t)(b[0] << 8 | b[1]);
    r->h.qr = true;
    r->h.opcode = (uint8_t)((b[2] >> 3) & 0x0f);
    r->h.rd = (b[2] & 1) != 0;
    r->h.rcode = DNS_RCODE_FORMERR;
    snprintf(svc->note, sizeof svc->note, "%s cannot parse the query (%s) and answers FORMERR",
             who, dns_strerror(err));
    send_reply(svc, host, sim_host_ip(from), port, r, svc->note);
}

/* ---- authoritative answers (RFC 1034 4.3.2) ------------------------------- */

/* The zone of a's that is the nearest ancestor of name, or NULL. */
static struct sim_dns_zone *auth_zone(const struct auth *a, const struct dns_name *name)
{
    struct sim_dns_zone *best = NULL;
    for (size_t i = 0; i < a->nzones; i++)
        if (below(name, &a->zones[i]->apex) &&
            (!best || a->zones[i]->apex.len > best->apex.len))
            best = a->zones[i];
    return best;
}

/* RFC 2308 3: the SOA in a negative answer carries the smaller of its TTL
 * and its MINIMUM field. */
static void add_negative_soa(struct dns_msg *r, const struct sim_dns_zone *z)
{
    struct dns_rr soa = z->soa;
    if (soa.rd.soa.minimum < soa.ttl)
        soa.ttl = soa.rd.soa.minimum;
    dns_add_rr(r, DNS_AUTHORITY, &soa);
}

/* RFC 1034 4.3.2 step 6: addresses of the hosts an answer names. */
static void add_glue(const struct auth *a, struct dns_msg *r, const struct dns_name *host)
{
    const struct sim_dns_zone *z = auth_zone(a, host);
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++) {
        const struct dns_rr *x = &z->rr[i];
        if ((x->type != DNS_TYPE_A && x->type != DNS_TYPE_AAAA) || !dns_name_eq(&x->name, host))
            continue;
        int dup = 0;
        for (size_t k = 0; k < r->sec[DNS_ADDITIONAL].count; k++) {
            const struct dns_rr *y = &r->sec[DNS_ADDITIONAL].rr[k];
            if (y->type == x->type && dns_name_eq(&y->name, &x->name) &&
                !memcmp(&y->rd, &x->rd, x->type == DNS_TYPE_A ? 4 : 16))
                dup = 1;
        }
        if (!dup)
            dns_add_rr(r, DNS_ADDITIONAL, x);
    }
}

/* Fills r (already started from the query) with the answer. */
static void auth_answer(const struct auth *a, struct dns_msg *r)
{
    struct dns_name name = r->qd[0].name;
    uint16_t qtype = r->qd[0].type;
    struct sim_dns_zone *z = auth_zone(a, &name);
    if (!z) {
        r->h.rcode = DNS_RCODE_REFUSED; /* not a zone of ours, and no recursion */
        return;
    }
    r->h.aa = true;
    for (size_t chain = 0;; chain++) {
        size_t found = 0;
        int exists = dns_name_eq(&name, &z->apex);
        const struct dns_rr *cname = NULL;
        if (exists && (qtype == DNS_TYPE_SOA || qtype == DNS_TYPE_ANY)) {
            dns_add_rr(r, DNS_ANSWER, &z->soa);
            found++;
        }
        for (size_t i = 0; i < z->n; i++) {
            const struct dns_rr *x = &z->rr[i];
            if (!dns_name_eq(&x->name, &name)) {
                if (below(&x->name, &name))
                    exists = 1; /* an empty non-terminal: NODATA, not NXDOMAIN (RFC 8020) */
                continue;
            }
            exists = 1;
            if (x->type == DNS_TYPE_CNAME && qtype != DNS_TYPE_CNAME && qtype != DNS_TYPE_ANY)
                cname = x;
            else if (x->type == qtype || qtype == DNS_TYPE_ANY) {
                dns_add_rr(r, DNS_ANSWER, x);
                found++;
            }
        }
        if (cname) {
            /* RFC 1034 4.3.2 step 3a: the CNAME goes in the answer and the
             * search restarts at its target, in any zone we serve. */
            dns_add_rr(r, DNS_ANSWER, cname);
            name = cname->rd.target;
            z = auth_zone(a, &name);
            if (!z || chain + 1 >= SIM_DNS_CNAME_CHAIN_MAX)
                return; /* another server's zone: the resolver follows it */
            continue;
        }
        if (!exists) {
            r->h.rcode = DNS_RCODE_NXDOMAIN; /* RFC 6604: the rcode of the last name */
            add_negative_soa(r, z);
        } else if (!found) {
            add_negative_soa(r, z); /* NODATA: RFC 2308 2.2 */
        }
        break;
    }
    for (size_t i = 0; i < r->sec[DNS_ANSWER].count; i++) {
        const struct dns_rr *x = &r->sec[DNS_ANSWER].rr[i];
        if (x->type == DNS_TYPE_MX && x->rd.mx.exchange.len > 1)
            add_glue(a, r, &x->rd.mx.exchange);
        else if (x->type == DNS_TYPE_NS)
            add_glue(a, r, &x->rd.target);
    }
}

static void auth_datagram(void *ctx, struct sim_host *from, unsigned from_port,
                          const char *bytes, size_t n)
{
    struct auth *a = ctx;
    struct sim_dns *svc = a->svc;
    const uint8_t *b = (const uint8_t *)bytes;
    int err = dns_decode(b, n, DNS_UDP_MAX, svc->in);
    if (err) {
        reply_formerr(svc, a->host, from, from_port, b, n, err, "the authoritative server");
        return;
    }
    int rc = check_query(svc->in);
    if (rc < 0)
        return;
    struct dns_msg *r = svc->out;
    dns_response_init(r, svc->in, false, (enum dns_rcode)rc);
    char name[DNS_NAME_TEXT_MAX];
    if (rc == DNS_RCODE_NOERROR)
        auth_answer(a, r);
    if (r->qdcount)
        plain(&r->qd[0].name, name, sizeof name);
    else
        strcpy(name, "?");
    switch (r->h.rcode) {
    case DNS_RCODE_REFUSED:
        snprintf(svc->note, sizeof svc->note,
                 "the server refuses: it is not authoritative for %s and does not recurse", name);
        break;
    case DNS_RCODE_FORMERR:
        snprintf(svc->note, sizeof svc->note,
                 "the server answers FORMERR: a query must hold exactly one question");
        break;
    case DNS_RCODE_NOTIMP:
        snprintf(svc->note, sizeof svc->note,
                 "the server answers NOTIMP: it only implements standard queries");
        break;
    default:
        describe(r, "the authoritative server answers", svc->note, sizeof svc->note);
    }
    send_reply(svc, a->host, sim_host_ip(from), from_port, r, svc->note);
}

static struct auth *find_auth(const struct sim_dns *svc, const struct sim_host *h)
{
    for (struct auth *a = svc->auths; a; a = a->next)
        if (a->host == h)
            return a;
    return NULL;
}

static struct resolver *find_resolver(const struct sim_dns *svc, const struct sim_host *h)
{
    for (struct resolver *r = svc->resolvers; r; r = r->next)
        if (r->host == h)
            return r;
    return NULL;
}

int sim_dns_serve_zone(struct sim_dns *svc, struct sim_host *host, struct sim_dns_zone *zone)
{
    struct auth *a = find_auth(svc, host);
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return SIM_DNS_ERR_NOMEM;
        if (sim_host_bind_udp(host, SIM_DNS_PORT, auth_datagram, a) != 0) {
            free(a);
            return SIM_DNS_ERR_BIND;
        }
        a->svc = svc;
        a->host = host;
        a->next = svc->auths;
        svc->auths = a;
    }
    for (size_t i = 0; i < a->nzones; i++)
        if (a->zones[i] == zone)
            return SIM_DNS_ERR_EXISTS;
    if (a->nzones == SIM_DNS_SERVER_ZONES_MAX)
        return SIM_DNS_ERR_FULL;
    a->zones[a->nzones++] = zone;
    return SIM_DNS_OK;
}

/* ---- queries in flight --------------------------------------------------- */

static void ep_datagram(void *ctx, struct sim_host *from, unsigned from_port,
                        const char *bytes, size_t n);

static struct endpoint *endpoint_for(struct sim_dns *svc, struct sim_host *host)
{
    for (struct endpoint *p = svc->endpoints; p; p = p->next)
        if (p->host == host)
            return p;
    struct endpoint *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (sim_host_bind_udp(host, SIM_DNS_CLIENT_PORT, ep_datagram, p) != 0) {
        free(p);
        return NULL;
    }
    p->svc = svc;
    p->host = host;
    p->next = svc->endpoints;
    svc->endpoints = p;
    return p;
}

static void txn_send(struct sim_dns *svc, struct txn *t, const char *note);

static void ev_txn_timeout(struct sim_engine *e, void *ctx, uint64_t serial)
{
    (void)e;
    struct sim_dns *svc = ctx;
    struct txn **pp = &svc->txns;
    while (*pp && (*pp)->serial != serial)
        pp = &(*pp)->next;
    struct txn *t = *pp;
    if (!t)
        return; /* answered already */
    if (t->tries < t->max_tries) {
        /* RFC 1035 4.2.1: retransmit after a timeout, the same query. */
        snprintf(svc->note, sizeof svc->note, "no reply after %llu s: %s asks again (try %u of %u)",
                 (unsigned long long)(t->timeout / SIM_SEC(1)), t->who, t->tries + 1,
                 t->max_tries);
        txn_send(svc, t, svc->note);
        return;
    }
    *pp = t->next;
    svc->ntxn--;
    t->done(svc, t, NULL);
    free(t);
}

static void txn_send(struct sim_dns *svc, struct txn *t, const char *note)
{
    /* The text is rebuilt from the stored bytes, so a retry reads the same. */
    if (dns_decode(t->wire, t->len, DNS_UDP_MAX, svc->out) == DNS_OK)
        dns_msg_summary(svc->out, svc->text, sizeof svc->text);
    else
        snprintf(svc->text, sizeof svc->text, "?");
    t->tries++;
    sim_net_send_datagram(svc->net, t->ep->host, SIM_DNS_CLIENT_PORT, t->server_ip,
                          SIM_DNS_PORT, (const char *)t->wire, t->len, SIM_DIR_C2S, svc->text,
                          note);
    sim_after(svc->e, t->timeout, ev_txn_timeout, svc, t->serial);
}

/* Starts a query from host to server_ip:53, sending it at once with note;
 * done runs once, later, with the matching reply or NULL after max_tries
 * timeouts (it gets ctx and cb through the txn). Returns 0 or a
 * SIM_DNS_ERR_* (then done never runs). */
static int txn_start(struct sim_dns *svc, struct sim_host *host, const char *server_ip,
                     const struct dns_name *qname, uint16_t qtype, bool rd, sim_time timeout,
                     unsigned max_tries, const char *who, txn_done_fn done, void *ctx,
                     sim_dns_lookup_fn cb, const char *note)
{
    if (svc->ntxn == SIM_DNS_PENDING_MAX)
        return SIM_DNS_ERR_FULL;
    if (strlen(server_ip) > SIM_HOST_IP_MAX)
        return SIM_DNS_ERR_NAME;
    struct endpoint *ep = endpoint_for(svc, host);
    if (!ep)
        return SIM_DNS_ERR_BIND;
    struct txn *t = calloc(1, sizeof *t);
    if (!t)
        return SIM_DNS_ERR_NOMEM;
    t->serial = svc->next_serial++;
    t->ep = ep;
    strcpy(t->server_ip, server_ip);
    /* RFC 5452 9.2: the id is unpredictable; here it comes from the run's
     * seeded RNG so a run repeats exactly. */
    t->id = (uint16_t)sim_rng_next(&svc->e->rng);
    t->qname = *qname;
    t->qtype = qtype;
    t->max_tries = max_tries;
    t->timeout = timeout;
    snprintf(t->whobuf, sizeof t->whobuf, "%s", who);
    t->who = t->whobuf;
    t->done = done;
    t->ctx = ctx;
    t->cb = cb;
    dns_query_init(svc->out, t->id, qname, qtype, rd);
    if (dns_encode(svc->out, t->wire, sizeof t->wire, &t->len) != DNS_OK) {
        free(t);
        return SIM_DNS_ERR_NAME;
    }
    t->next = svc->txns;
    svc->txns = t;
    svc->ntxn++;
    txn_send(svc, t, note);
    return SIM_DNS_OK;
}

static void ep_datagram(void *ctx, struct sim_host *from, unsigned from_port,
                        const char *bytes, size_t n)
{
    struct endpoint *ep = ctx;
    struct sim_dns *svc = ep->svc;
    struct dns_msg *m = svc->in;
    /* A reply that does not parse is ignored, as stubs do; the timer will
     * retry. */
    if (dns_decode((const uint8_t *)bytes, n, DNS_UDP_MAX, m) != DNS_OK || !m->h.qr)
        return;
    if (from_port != SIM_DNS_PORT || m->qdcount != 1)
        return;
    /* RFC 5452 4: accept only the reply from the server asked, to our port,
     * with our id and our question. */
    struct txn **pp = &svc->txns;
    for (; *pp; pp = &(*pp)->next) {
        struct txn *t = *pp;
        if (t->ep == ep && t->id == m->h.id && strcmp(t->server_ip, sim_host_ip(from)) == 0 &&
            t->qtype == m->qd[0].type && m->qd[0].qclass == DNS_CLASS_IN &&
            dns_name_eq(&t->qname, &m->qd[0].name))
            break;
    }
    struct txn *t = *pp;
    if (!t)
        return; /* late, duplicated or forged: ignored */
    *pp = t->next;
    svc->ntxn--;
    t->done(svc, t, m);
    free(t);
}

/* ---- stub lookups ----------------------------------------------------------- */

static enum sim_dns_result result_of(const struct dns_msg *m)
{
    if (!m)
        return SIM_DNS_TIMEOUT;
    if (m->h.tc)
        return SIM_DNS_FAILED; /* truncated: the retry over TCP is not simulated */
    switch (m->h.rcode) {
    case DNS_RCODE_NOERROR:
        return m->sec[DNS_ANSWER].count ? SIM_DNS_ANSWER : SIM_DNS_NODATA;
    case DNS_RCODE_NXDOMAIN:
        return SIM_DNS_NXDOMAIN;
    case DNS_RCODE_SERVFAIL:
        return SIM_DNS_SERVFAIL;
    default:
        return SIM_DNS_FAILED;
    }
}

static void stub_done(struct sim_dns *svc, struct txn *t, const struct dns_msg *reply)
{
    (void)svc;
    t->cb(t->ctx, result_of(reply), reply);
}

/* What a stub's query is for, in words. Asked directly, a name server is
 * "the name server", otherwise the host's resolver. */
static void stub_note(struct sim_dns *svc, const struct sim_host *from, const char *server_ip,
                      const struct dns_name *q, uint16_t type)
{
    char n[DNS_NAME_TEXT_MAX], tt[16];
    const char *h = sim_host_name(from);
    const struct sim_host *to = sim_net_host_by_ip(svc->net, server_ip);
    const char *whom = to && sim_host_role(to) == SIM_ROLE_DNS_SERVER ? "the name server"
                                                                      : "its resolver";
    plain(q, n, sizeof n);
    if (type == DNS_TYPE_MX)
        snprintf(svc->note, sizeof svc->note, "%s asks %s where mail for %s should go", h, whom,
                 n);
    else if (type == DNS_TYPE_A)
        snprintf(svc->note, sizeof svc->note, "%s asks %s for the address of %s", h, whom, n);
    else if (type == DNS_TYPE_AAAA)
        snprintf(svc->note, sizeof svc->note, "%s asks %s for the IPv6 address of %s", h, whom,
                 n);
    else
        snprintf(svc->note, sizeof svc->note, "%s asks %s for the %s records of %s", h, whom,
                 type_text(type, tt, sizeof tt), n);
}

static int lookup(struct sim_dns *svc, struct sim_host *from, const char *resolver_ip,
                  const struct dns_name *q, uint16_t type, txn_done_fn done, void *ctx,
                  sim_dns_lookup_fn cb)
{
    stub_note(svc, from, resolver_ip, q, type);
    return txn_start(svc, from, resolver_ip, q, type, true, SIM_DNS_STUB_TIMEOUT,
                     SIM_DNS_STUB_TRIES, sim_host_name(from), done, ctx, cb, svc->note);
}

int sim_dns_lookup(struct sim_dns *svc, struct sim_host *from, const char *resolver_ip,
                   const char *name, uint16_t type, sim_dns_lookup_fn cb, void *ctx)
{
    struct dns_name q;
    if (dns_name_from_text(&q, name) != DNS_OK)
        return SIM_DNS_ERR_NAME;
    return lookup(svc, from, resolver_ip, &q, type, stub_done, ctx, cb);
}

/* ---- the resolver ------------------------------------------------------------- */

/* The delegation for the nearest enclosing zone, or NULL. */
static const char *delegation(const struct resolver *r, const struct dns_name *name,
                              const struct dns_name **zone)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < r->ndeleg; i++)
        if (below(name, &r->deleg[i].zone) &&
            (best == SIZE_MAX || r->deleg[i].zone.len > r->deleg[best].zone.len))
            best = i;
    if (best == SIZE_MAX)
        return NULL;
    if (zone)
        *zone = &r->deleg[best].zone;
    return r->deleg[best].ip;
}

static struct cache_entry *cache_find(struct resolver *r, const struct dns_name *name,
                                      uint16_t type)
{
    for (size_t i = 0; i < r->ncache; i++)
        if (r->cache[i].type == type && dns_name_eq(&r->cache[i].name, name))
            return &r->cache[i];
    return NULL;
}

/* How long an answer may be cached, in seconds: the smallest TTL of the
 * answer records (RFC 2181 5.2 makes an RRset's TTLs equal; a CNAME chain
 * lives as long as its shortest link), or for NXDOMAIN and NODATA the SOA's
 * TTL capped by its MINIMUM (RFC 2308 5). 0: do not cache (RFC 2308 5:
 * negative answers without an SOA are not cached). */
static uint32_t cache_ttl(const struct dns_msg *m)
{
    uint32_t ttl = UINT32_MAX;
    if (m->h.rcode == DNS_RCODE_NOERROR && m->sec[DNS_ANSWER].count) {
        for (size_t i = 0; i < m->sec[DNS_ANSWER].count; i++)
            if (m->sec[DNS_ANSWER].rr[i].ttl < ttl)
                ttl = m->sec[DNS_ANSWER].rr[i].ttl;
        return ttl;
    }
    if (m->h.rcode != DNS_RCODE_NOERROR && m->h.rcode != DNS_RCODE_NXDOMAIN)
        return 0;
    for (size_t i = 0; i < m->sec[DNS_AUTHORITY].count; i++) {
        const struct dns_rr *x = &m->sec[DNS_AUTHORITY].rr[i];
        if (x->type == DNS_TYPE_SOA) {
            uint32_t t = x->ttl < x->rd.soa.minimum ? x->ttl : x->rd.soa.minimum;
            return t;
        }
    }
    return 0;
}

static void cache_store(struct sim_dns *svc, struct resolver *r, const struct dns_msg *m)
{
    uint32_t ttl = cache_ttl(m);
    size_t len;
    if (ttl == 0 || dns_encode(m, svc->buf, sizeof svc->buf, &len) != DNS_OK)
        return; /* an answer too big for one datagram is not kept */
    struct cache_entry *c = cache_find(r, &m->qd[0].name, m->qd[0].type);
    if (!c && r->ncache < SIM_DNS_CACHE_MAX)
        c = &r->cache[r->ncache++];
    if (!c) {
        c = &r->cache[0];
        for (size_t i = 1; i < r->ncache; i++)
            if (r->cache[i].expires < c->expires)
                c = &r->cache[i];
    }
    c->name = m->qd[0].name;
    c->type = m->qd[0].type;
    c->stored = svc->e->now;
    c->expires = svc->e->now + SIM_SEC(ttl);
    c->len = (uint16_t)len;
    memcpy(c->wire, svc->buf, len);
}

/* Sends the answer in svc->out to one waiting client, as the resolver. */
static void answer_waiter(struct sim_dns *svc, struct resolver *r, const struct waiter *w,
                          const char *note)
{
    struct dns_msg *m = svc->out;
    m->h.id = w->id;
    m->h.qr = true;
    m->h.rd = w->rd;
    m->h.ra = true; /* RFC 1035 4.1.1: recursion available */
    m->h.aa = false;
    send_reply(svc, r->host, sim_host_ip(w->host), w->port, m, note);
}

/* Answers from the cache into svc->out, TTLs counted down by the time the
 * entry has spent there (RFC 1035 3.2.1: TTL is the time it may be cached).
 * Returns 0 when the entry could not be used. */
static int from_cache(struct sim_dns *svc, const struct cache_entry *c, uint32_t *left)
{
    struct dns_msg *m = svc->out;
    if (dns_decode(c->wire, c->len, DNS_UDP_MAX, m) != DNS_OK)
        return 0;
    uint64_t spent = (svc->e->now - c->stored) / SIM_SEC(1);
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        for (size_t i = 0; i < m->sec[s].count; i++) {
            struct dns_rr *x = &m->sec[s].rr[i];
            x->ttl = x->ttl > spent ? (uint32_t)(x->ttl - spent) : 0;
        }
    *left = (uint32_t)((c->expires - svc->e->now + SIM_SEC(1) - 1) / SIM_SEC(1));
    return 1;
}

static void task_free(struct task *t)
{
    struct task **pp = &t->res->tasks;
    while (*pp != t)
        pp = &(*pp)->next;
    *pp = t->next;
    free(t);
}

/* Answers every waiter with SERVFAIL and ends the task. */
static void task_fail(struct sim_dns *svc, struct task *t, const char *note)
{
    struct dns_msg *m = svc->out;
    clear(m);
    m->h.opcode = DNS_OPCODE_QUERY;
    m->h.rcode = DNS_RCODE_SERVFAIL;
    m->qdcount = 1;
    m->qd[0].name = t->qname;
    m->qd[0].type = t->qtype;
    m->qd[0].qclass = DNS_CLASS_IN;
    for (size_t i = 0; i < t->nwait; i++)
        answer_waiter(svc, t->res, &t->wait[i], note);
    task_free(t);
}

static void task_upstream_done(struct sim_dns *svc, struct txn *x, const struct dns_msg *reply);

/* Asks the server delegated for t->cur. Returns 0, or -1 when no zone
 * covers it (the caller answers NXDOMAIN) or the query could not start. */
static int task_ask(struct sim_dns *svc, struct task *t)
{
    const struct dns_name *zone;
    const char *ip = delegation(t->res, &t->cur, &zone);
    if (!ip)
        return -1;
    char z[DNS_NAME_TEXT_MAX];
    plain(zone, z, sizeof z);
    snprintf(svc->note, sizeof svc->note,
             "the resolver has no cached answer, so it asks the server responsible for %s", z);
    /* RD clear: an authority is asked iteratively (RFC 1034 5.3.3). */
    return txn_start(svc, t->res->host, ip, &t->cur, t->qtype, false, SIM_DNS_RESOLVER_TIMEOUT,
                     SIM_DNS_RESOLVER_TRIES, "the resolver", task_upstream_done, t, NULL,
                     svc->note) == SIM_DNS_OK
               ? 0
               : -1;
}

/* Builds the final answer in svc->out: the CNAMEs met on the way, then
 * reply's sections (reply may be NULL: NXDOMAIN for a name no zone covers). */
static void task_compose(struct sim_dns *svc, const struct task *t, const struct dns_msg *reply)
{
    struct dns_msg *m = svc->out;
    clear(m);
    m->h.opcode = DNS_OPCODE_QUERY;
    m->h.qr = true;
    m->h.rcode = reply ? reply->h.rcode : DNS_RCODE_NXDOMAIN;
    m->qdcount = 1;
    m->qd[0].name = t->qname;
    m->qd[0].type = t->qtype;
    m->qd[0].qclass = DNS_CLASS_IN;
    for (size_t i = 0; i < t->ncname; i++)
        dns_add_rr(m, DNS_ANSWER, &t->cname[i]);
    if (!reply)
        return;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        for (size_t i = 0; i < reply->sec[s].count; i++)
            if (reply->sec[s].rr[i].type != DNS_TYPE_OPT)
                dns_add_rr(m, (enum dns_section)s, &reply->sec[s].rr[i]);
}

/* Where the CNAMEs of reply's answer lead from cur, and whether records of
 * qtype are there. */
static const struct dns_name *chain_end(const struct dns_msg *reply, const struct dns_name *cur,
                                        uint16_t qtype, int *has_type)
{
    const struct dns_name *last = cur;
    for (size_t hop = 0; hop <= SIM_DNS_CNAME_CHAIN_MAX; hop++) {
        const struct dns_name *next = NULL;
        for (size_t i = 0; i < reply->sec[DNS_ANSWER].count; i++) {
            const struct dns_rr *x = &reply->sec[DNS_ANSWER].rr[i];
            if (x->type == DNS_TYPE_CNAME && dns_name_eq(&x->name, last))
                next = &x->rd.target;
        }
        if (!next)
            break;
        last = next;
    }
    *has_type = 0;
    for (size_t i = 0; i < reply->sec[DNS_ANSWER].count; i++) {
        const struct dns_rr *x = &reply->sec[DNS_ANSWER].rr[i];
        if (dns_name_eq(&x->name, last) && (x->type == qtype || qtype == DNS_TYPE_ANY))
            *has_type = 1;
    }
    return last;
}

static void task_finish(struct sim_dns *svc, struct task *t, const struct dns_msg *reply)
{
    task_compose(svc, t, reply);
    if (reply)
        cache_store(svc, t->res, svc->out);
    describe(svc->out, "the resolver answers", svc->note, sizeof svc->note);
    for (size_t i = 0; i < t->nwait; i++)
        answer_waiter(svc, t->res, &t->wait[i], svc->note);
    task_free(t);
}

static void task_upstream_done(struct sim_dns *svc, struct txn *x, const struct dns_msg *reply)
{
    struct task *t = x->ctx;
    char z[DNS_NAME_TEXT_MAX];
    plain(&t->cur, z, sizeof z);
    if (!reply) {
        snprintf(svc->note, sizeof svc->note,
                 "the server responsible for %s did not answer %u tries: the resolver "
                 "gives up and reports a failure (SERVFAIL)",
                 z, (unsigned)SIM_DNS_RESOLVER_TRIES);
        task_fail(svc, t, svc->note);
        return;
    }
    if ((reply->h.rcode != DNS_RCODE_NOERROR && reply->h.rcode != DNS_RCODE_NXDOMAIN) ||
        reply->h.tc) {
        /* A lame delegation (REFUSED), a broken server, or a truncated
         * reply (we do not retry over TCP): all are SERVFAIL to the client. */
        const char *rc = reply->h.tc ? "a truncated reply" : dns_rcode_name(reply->h.rcode);
        snprintf(svc->note, sizeof svc->note,
                 "the server for %s answered %s: the resolver reports a failure (SERVFAIL)", z,
                 rc ? rc : "an unknown code");
        task_fail(svc, t, svc->note);
        return;
    }
    int has_type;
    const struct dns_name *end = chain_end(reply, &t->cur, t->qtype, &has_type);
    if (reply->h.rcode == DNS_RCODE_NOERROR && !has_type && !has_soa(reply) &&
        t->qtype != DNS_TYPE_CNAME && !dns_name_eq(end, &t->cur) &&
        t->ncname + reply->sec[DNS_ANSWER].count <= SIM_DNS_CNAME_CHAIN_MAX) {
        /* The chain leaves the server's zones: follow it (RFC 1034 5.3.3
         * step 4c, "change SNAME to the canonical name"). */
        for (size_t i = 0; i < reply->sec[DNS_ANSWER].count; i++)
            t->cname[t->ncname++] = reply->sec[DNS_ANSWER].rr[i];
        t->cur = *end;
        if (task_ask(svc, t) == 0)
            return;
        task_compose(svc, t, NULL);
        describe(svc->out, "the resolver answers", svc->note, sizeof svc->note);
        for (size_t i = 0; i < t->nwait; i++)
            answer_waiter(svc, t->res, &t->wait[i], svc->note);
        task_free(t);
        return;
    }
    task_finish(svc, t, reply);
}

static void res_datagram(void *ctx, struct sim_host *from, unsigned from_port,
                         const char *bytes, size_t n)
{
    struct resolver *r = ctx;
    struct sim_dns *svc = r->svc;
    const uint8_t *b = (const uint8_t *)bytes;
    int err = dns_decode(b, n, DNS_UDP_MAX, svc->in);
    if (err) {
        reply_formerr(svc, r->host, from, from_port, b, n, err, "the resolver");
        return;
    }
    const struct dns_msg *q = svc->in;
    int rc = check_query(q);
    if (rc < 0)
        return;
    struct waiter w = {from, from_port, q->h.id, q->h.rd};
    if (rc != DNS_RCODE_NOERROR) {
        dns_response_init(svc->out, q, false, (enum dns_rcode)rc);
        snprintf(svc->note, sizeof svc->note, "the resolver answers %s: it cannot handle this query",
                 dns_rcode_name((unsigned)rc));
        answer_waiter(svc, r, &w, svc->note);
        return;
    }
    const struct dns_name *qname = &q->qd[0].name;
    uint16_t qtype = q->qd[0].type;

    struct cache_entry *c = cache_find(r, qname, qtype);
    uint32_t left;
    if (c && c->expires > svc->e->now && from_cache(svc, c, &left)) {
        svc->out->qd[0] = q->qd[0]; /* the question as asked, its case kept */
        char who[96];
        snprintf(who, sizeof who, "the resolver answers from its cache (%lu s left)",
                 (unsigned long)left);
        describe(svc->out, who, svc->note, sizeof svc->note);
        answer_waiter(svc, r, &w, svc->note);
        return;
    }
    if (!q->h.rd) {
        /* RFC 1034 4.3.1: without RD the server must not recurse. */
        dns_response_init(svc->out, q, false, DNS_RCODE_REFUSED);
        snprintf(svc->note, sizeof svc->note,
                 "the resolver refuses: the answer is not cached and the query did not ask "
                 "for recursion (RD)");
        answer_waiter(svc, r, &w, svc->note);
        return;
    }
    /* A retransmission, or another client asking the same: join the task
     * already asking upstream, so the authority is asked once. */
    for (struct task *t = r->tasks; t; t = t->next) {
        if (t->qtype != qtype || !dns_name_eq(&t->qname, qname))
            continue;
        for (size_t i = 0; i < t->nwait; i++)
            if (t->wait[i].host == from && t->wait[i].port == from_port &&
                t->wait[i].id == w.id)
                return; /* the same query again: one answer will do */
        if (t->nwait < SIM_DNS_WAITERS_MAX)
            t->wait[t->nwait++] = w;
        return;
    }
    struct task *t = calloc(1, sizeof *t);
    if (!t)
        return; /* the client's timer will retry */
    t->res = r;
    t->qname = *qname;
    t->cur = *qname;
    t->qtype = qtype;
    t->wait[t->nwait++] = w;
    t->next = r->tasks;
    r->tasks = t;
    if (task_ask(svc, t) == 0)
        return;
    /* No root servers here: a name under no delegated zone does not exist,
     * as the root would say for an unknown top-level domain. */
    task_compose(svc, t, NULL);
    char name[DNS_NAME_TEXT_MAX];
    plain(&t->qname, name, sizeof name);
    snprintf(svc->note, sizeof svc->note,
             "the resolver knows no server for %s: it does not exist (NXDOMAIN)", name);
    for (size_t i = 0; i < t->nwait; i++)
        answer_waiter(svc, r, &t->wait[i], svc->note);
    task_free(t);
}

int sim_dns_resolver_add(struct sim_dns *svc, struct sim_host *host)
{
    if (find_resolver(svc, host))
        return SIM_DNS_ERR_EXISTS;
    struct resolver *r = calloc(1, sizeof *r);
    if (!r)
        return SIM_DNS_ERR_NOMEM;
    if (sim_host_bind_udp(host, SIM_DNS_PORT, res_datagram, r) != 0) {
        free(r);
        return SIM_DNS_ERR_BIND;
    }
    r->svc = svc;
    r->host = host;
    r->next = svc->resolvers;
    svc->resolvers = r;
    return SIM_DNS_OK;
}

int sim_dns_resolver_delegate(struct sim_dns *svc, struct sim_host *host, const char *zone,
                              const char *server_ip)
{
    struct resolver *r = find_resolver(svc, host);
    if (!r)
        return SIM_DNS_ERR_BIND;
    struct dns_name z;
    if (dns_name_from_text(&z, zone) != DNS_OK || strlen(server_ip) > SIM_HOST_IP_MAX)
        return SIM_DNS_ERR_NAME;
    for (size_t i = 0; i < r->ndeleg; i++)
        if (dns_name_eq(&r->deleg[i].zone, &z))
            return SIM_DNS_ERR_EXISTS;
    if (r->ndeleg == SIM_DNS_DELEGATIONS_MAX)
        return SIM_DNS_ERR_FULL;
    r->deleg[r->ndeleg].zone = z;
    strcpy(r->deleg[r->ndeleg].ip, server_ip);
    r->ndeleg++;
    return SIM_DNS_OK;
}

size_t sim_dns_resolver_cache_count(const struct sim_dns *svc, const struct sim_host *host)
{
    const struct resolver *r = find_resolver(svc, host);
    return r ? r->ncache : 0;
}

/* ---- MX resolution ----------------------------------------------------------- */

/* Every state change goes through here and is recorded "from -> to". */
static void mx_set_state(struct mxjob *j, enum sim_dns_mx_state to, const char *note)
{
    EXPECT((unsigned)to < SIM_DNS_MX_STATE_COUNT);
    char text[64];
    snprintf(text, sizeof text, "%s -> %s", sim_dns_mx_state_names[j->state],
             sim_dns_mx_state_names[to]);
    struct sim_trace_event ev = {
        .kind = SIM_TR_STATE, .proto = SIM_PROTO_DNS, .from = sim_host_name(j->from),
        .text = text, .note = note,
    };
    sim_record(j->svc->e, &ev);
    j->state = to;
}

static void mx_finish(struct mxjob *j, enum dns_mx_status st)
{
    struct sim_dns *svc = j->svc;
    char note[SIM_DNS_TEXT_MAX], d[DNS_NAME_TEXT_MAX];
    plain(&j->domain, d, sizeof d);
    if (st == DNS_MX_OK)
        snprintf(note, sizeof note, "mail for %s goes to %s host%s, tried in order", d,
                 count_word(j->list.count), j->list.count == 1 ? "" : "s");
    else
        snprintf(note, sizeof note, "mail for %s: %s", d, dns_mx_status_name(st));
    if (st != DNS_MX_OK)
        j->list.count = 0;
    mx_set_state(j, SIM_DNS_MX_DONE, note);
    struct mxjob **pp = &svc->jobs;
    while (*pp != j)
        pp = &(*pp)->next;
    *pp = j->next;
    svc->njobs--;
    j->cb(j->ctx, st, &j->list);
    free(j);
}

static void mx_addr_done(struct sim_dns *svc, struct txn *t, const struct dns_msg *reply);

/* Asks for the next address the MX answer did not carry, or selects. */
static void mx_next_addr(struct mxjob *j)
{
    struct sim_dns *svc = j->svc;
    while (j->next_target < j->list.count) {
        const struct dns_mx_target *tg = &j->list.t[j->next_target];
        if (tg->naddr > 0) {
            j->next_target++;
            continue;
        }
        char h[DNS_NAME_TEXT_MAX];
        plain(&tg->host, h, sizeof h);
        if (tg->implicit)
            snprintf(svc->note, sizeof svc->note,
                     "%s has no MX records: mail goes to the domain's own address (RFC 5321 5.1)",
                     h);
        else
            snprintf(svc->note, sizeof svc->note,
                     "the answer did not carry the address of %s: ask for it", h);
        if (j->state != SIM_DNS_MX_QUERY_ADDR)
            mx_set_state(j, SIM_DNS_MX_QUERY_ADDR, svc->note);
        j->asked_addr = true;
        struct dns_name host = tg->host;
        if (lookup(svc, j->from, j->resolver_ip, &host, DNS_TYPE_A, mx_addr_done, j, NULL) == 0)
            return;
        if (tg->implicit) {
            mx_finish(j, DNS_MX_TEMPFAIL);
            return;
        }
        j->next_target++; /* could not even ask: this host stays without an address */
    }
    enum dns_mx_status st =
        dns_mx_select(&j->domain, &j->mx, j->asked_addr ? &j->addr : NULL, j->seed, &j->list);
    /* No host has an address because a lookup failed for now, not because
     * none exists: try again later, as Postfix does ("try again"). */
    if (st == DNS_MX_OK && j->addr_tempfail) {
        size_t usable = 0;
        for (size_t i = 0; i < j->list.count; i++)
            usable += j->list.t[i].naddr > 0;
        if (usable == 0)
            st = DNS_MX_TEMPFAIL;
    }
    mx_finish(j, st);
}

static void mx_addr_done(struct sim_dns *svc, struct txn *t, const struct dns_msg *reply)
{
    (void)svc;
    struct mxjob *j = t->ctx;
    enum sim_dns_result r = result_of(reply);
    int implicit = j->list.t[j->next_target].implicit;
    if (implicit && (r == SIM_DNS_TIMEOUT || r == SIM_DNS_SERVFAIL || r == SIM_DNS_FAILED)) {
        mx_finish(j, DNS_MX_TEMPFAIL);
        return;
    }
    if (r == SIM_DNS_TIMEOUT || r == SIM_DNS_SERVFAIL || r == SIM_DNS_FAILED)
        j->addr_tempfail = true;
    if (reply && reply->h.rcode == DNS_RCODE_NOERROR && !reply->h.tc) {
        /* Merge the answer's records into one message for dns_mx_select(),
         * which gathers addresses (and a CNAME) by owner name. */
        for (size_t i = 0; i < reply->sec[DNS_ANSWER].count; i++)
            dns_add_rr(&j->addr, DNS_ANSWER, &reply->sec[DNS_ANSWER].rr[i]);
    } else if (reply && implicit && reply->h.rcode == DNS_RCODE_NXDOMAIN) {
        j->addr.h.rcode = DNS_RCODE_NXDOMAIN;
    }
    j->next_target++;
    mx_next_addr(j);
}

static void mx_mx_done(struct sim_dns *svc, struct txn *t, const struct dns_msg *reply)
{
    struct mxjob *j = t->ctx;
    if (!reply) {
        mx_finish(j, DNS_MX_TEMPFAIL);
        return;
    }
    j->mx = *reply;
    enum dns_mx_status st = dns_mx_select(&j->domain, &j->mx, NULL, j->seed, &j->list);
    if (st == DNS_MX_REQUERY) {
        if (j->requeried) {
            mx_finish(j, DNS_MX_CNAME_LOOP);
            return;
        }
        /* RFC 5321 5.1: the CNAME's target is processed as the domain. */
        j->requeried = true;
        j->domain = j->list.cname;
        if (lookup(svc, j->from, j->resolver_ip, &j->domain, DNS_TYPE_MX, mx_mx_done, j, NULL))
            mx_finish(j, DNS_MX_TEMPFAIL);
        return;
    }
    if (st != DNS_MX_OK) {
        mx_finish(j, st);
        return;
    }
    clear(&j->addr);
    j->addr.h.qr = true;
    j->next_target = 0;
    mx_next_addr(j);
}

int sim_dns_resolve_mx(struct sim_dns *svc, struct sim_host *from, const char *resolver_ip,
                       const char *domain, sim_dns_mx_fn cb, void *ctx)
{
    struct dns_name d;
    if (dns_name_from_text(&d, domain) != DNS_OK)
        return SIM_DNS_ERR_NAME;
    if (svc->njobs == SIM_DNS_MX_JOBS_MAX)
        return SIM_DNS_ERR_FULL;
    struct mxjob *j = malloc(sizeof *j);
    if (!j)
        return SIM_DNS_ERR_NOMEM;
    memset(j, 0, offsetof(struct mxjob, mx));
    clear(&j->mx);
    clear(&j->addr);
    j->list.count = 0;
    j->svc = svc;
    j->from = from;
    snprintf(j->resolver_ip, sizeof j->resolver_ip, "%s", resolver_ip);
    j->domain = d;
    j->state = SIM_DNS_MX_QUERY_MX;
    j->seed = sim_rng_next(&svc->e->rng);
    j->cb = cb;
    j->ctx = ctx;
    int err = lookup(svc, from, resolver_ip, &d, DNS_TYPE_MX, mx_mx_done, j, NULL);
    if (err) {
        free(j);
        return err;
    }
    j->next = svc->jobs;
    svc->jobs = j;
    svc->njobs++;
    return SIM_DNS_OK;
}
