/* MX selection: which hosts an MTA tries for a domain, in which order
 * (RFC 5321 5.1), with the null MX of RFC 7505. See dns.h. */
#include "protocols/dns.h"

#include "protocols/common.h"

#include <string.h>

static const char *const status_names[DNS_MX_STATUS_COUNT] = {
    [DNS_MX_OK] = "ok",
    [DNS_MX_NULL] = "null MX: the domain accepts no mail",
    [DNS_MX_NXDOMAIN] = "no such domain",
    [DNS_MX_NO_HOST] = "no MX and no address",
    [DNS_MX_UNUSABLE] = "no usable MX",
    [DNS_MX_REQUERY] = "CNAME: query its target",
    [DNS_MX_CNAME_LOOP] = "more than one CNAME",
    [DNS_MX_TEMPFAIL] = "temporary DNS failure",
};

const char *dns_mx_status_name(enum dns_mx_status s)
{
    EXPECT((unsigned)s < DNS_MX_STATUS_COUNT);
    return status_names[s];
}

/* splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator, so the
 * order depends only on the caller's seed (no rand(), no clock). */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The CNAME at owner in the answer section, or NULL. */
static const struct dns_name *cname_of(const struct dns_msg *m, const struct dns_name *owner)
{
    if (!m)
        return NULL;
    for (size_t s = 0; s < DNS_SECTION_COUNT; s++)
        for (size_t i = 0; i < m->sec[s].count; i++) {
            const struct dns_rr *rr = &m->sec[s].rr[i];
            if (rr->type == DNS_TYPE_CNAME && dns_name_eq(&rr->name, owner))
                return &rr->rd.target;
        }
    return NULL;
}

/* Adds the A and AAAA records of m owned by owner to t, up to the bound. */
static void gather(struct dns_mx_target *t, const struct dns_msg *m, const struct dns_name *owner)
{
    if (!m)
        return;
    for (size_t s = 0; s < DNS_SECTION_COUNT; s++)
        for (size_t i = 0; i < m->sec[s].count; i++) {
            const struct dns_rr *rr = &m->sec[s].rr[i];
            if ((rr->type != DNS_TYPE_A && rr->type != DNS_TYPE_AAAA) ||
                !dns_name_eq(&rr->name, owner) || t->naddr == DNS_MX_ADDR_MAX)
                continue;
            struct dns_addr *a = &t->addr[t->naddr++];
            memset(a, 0, sizeof *a);
            if (rr->type == DNS_TYPE_A) {
                a->family = 4;
                memcpy(a->bytes, rr->rd.a, 4);
            } else {
                a->family = 6;
                memcpy(a->bytes, rr->rd.aaaa, 16);
            }
        }
}

/* Addresses for t->host from both messages, following one CNAME at the host
 * (the address lookup an MTA makes would follow it too). */
static void addresses(struct dns_mx_target *t, const struct dns_msg *mx, const struct dns_msg *addr)
{
    const struct dns_name *alias = cname_of(mx, &t->host);
    if (!alias)
        alias = cname_of(addr, &t->host);
    t->alias = alias != NULL;
    const struct dns_name *owner = alias ? alias : &t->host;
    gather(t, mx, owner);
    gather(t, addr, owner);
}

/* An exchange written as an address: "192.0.2.1." (four numeric labels),
 * "[192.0.2.1]" or anything with ':'. RFC 1035 3.3.9 makes EXCHANGE a host
 * name and RFC 5321 5.1 looks its addresses up by name, so such a target
 * cannot be resolved; we skip it, as Postfix does, rather than guess. */
static int ip_literal(const struct dns_name *n)
{
    size_t labels = 0, i = 0;
    int numeric = 1;
    while (n->wire[i] != 0) {
        size_t l = n->wire[i];
        for (size_t k = 1; k <= l; k++) {
            uint8_t c = n->wire[i + k];
            if (c == '[' || c == ']' || c == ':')
                return 1;
            if (c < '0' || c > '9')
                numeric = 0;
        }
        if (l > 3)
            numeric = 0;
        labels++;
        i += 1 + l;
    }
    return numeric && labels == 4;
}

static int has_soa(const struct dns_msg *m)
{
    for (size_t i = 0; i < m->sec[DNS_AUTHORITY].count; i++)
        if (m->sec[DNS_AUTHORITY].rr[i].type == DNS_TYPE_SOA)
            return 1;
    return 0;
}

/* Hosts by preference, lower first, then equal preferences shuffled. */
static void order(struct dns_mx_list *list, uint64_t seed)
{
    struct dns_mx_target tmp;
    /* insertion sort: stable, and the list is at most DNS_MX_MAX long */
    for (size_t i = 1; i < list->count; i++) {
        size_t j = i;
        tmp = list->t[i];
        while (j > 0 && list->t[j - 1].preference > tmp.preference) {
            list->t[j] = list->t[j - 1];
            j--;
        }
        list->t[j] = tmp;
    }
    /* RFC 5321 5.1: hosts of equal preference are tried in random order to
     * spread the load. Fisher-Yates within each run; the modulo bias of a
     * 64-bit draw over at most 64 items does not matter here. */
    uint64_t state = seed;
    for (size_t a = 0; a < list->count;) {
        size_t b = a + 1;
        while (b < list->count && list->t[b].preference == list->t[a].preference)
            b++;
        for (size_t k = b - 1; k > a; k--) {
            size_t r = a + (size_t)(next_random(&state) % (k - a + 1));
            tmp = list->t[k];
            list->t[k] = list->t[r];
            list->t[r] = tmp;
        }
        a = b;
    }
}

enum dns_mx_status dns_mx_select(const struct dns_name *domain, const struct dns_msg *mx,
                                 const struct dns_msg *addr, uint64_t seed,
                                 struct dns_mx_list *list)
{
    list->count = 0;
    list->cname.len = 0;
    if (mx->h.rcode == DNS_RCODE_NXDOMAIN)
        return DNS_MX_NXDOMAIN;
    if (mx->h.rcode != DNS_RCODE_NOERROR)
        return DNS_MX_TEMPFAIL;

    /* RFC 5321 5.1: "If a CNAME RR is found instead, the resulting domain is
     * processed as if it were the initial domain." Once: a chain is refused. */
    const struct dns_name *owner = domain;
    const struct dns_name *alias = cname_of(mx, domain);
    if (alias) {
        list->cname = *alias;
        owner = &list->cname;
        if (cname_of(mx, owner))
            return DNS_MX_CNAME_LOOP;
    }

    const struct dns_msg *ans = mx;
    size_t nmx = 0;
    const struct dns_rr *only = NULL;
    for (size_t i = 0; i < ans->sec[DNS_ANSWER].count; i++) {
        const struct dns_rr *rr = &ans->sec[DNS_ANSWER].rr[i];
        if (rr->type == DNS_TYPE_MX && dns_name_eq(&rr->name, owner)) {
            nmx++;
            only = rr;
        }
    }

    if (nmx == 0) {
        /* A CNAME without its target's MX records and without the SOA of a
         * negative answer (RFC 2308 2.2) means the server did not chase the
         * alias: ask again for the target. */
        if (alias && !has_soa(mx))
            return DNS_MX_REQUERY;
        /* RFC 5321 5.1: no MX means an implicit MX of preference 0 pointing
         * at the domain itself. */
        struct dns_mx_target *t = &list->t[0];
        memset(t, 0, sizeof *t);
        t->host = *owner;
        t->implicit = true;
        addresses(t, mx, addr);
        if (addr) {
            if (addr->h.rcode == DNS_RCODE_NXDOMAIN || t->naddr == 0)
                return DNS_MX_NO_HOST;
        }
        list->count = 1;
        return DNS_MX_OK;
    }

    /* RFC 7505 3: a null MX is a single MX with preference 0 and the root as
     * exchange. */
    if (nmx == 1 && only->rd.mx.preference == 0 && only->rd.mx.exchange.len == 1)
        return DNS_MX_NULL;

    for (size_t i = 0; i < ans->sec[DNS_ANSWER].count; i++) {
        const struct dns_rr *rr = &ans->sec[DNS_ANSWER].rr[i];
        if (rr->type != DNS_TYPE_MX || !dns_name_eq(&rr->name, owner))
            continue;
        const struct dns_name *x = &rr->rd.mx.exchange;
        /* The root among other MX records breaks RFC 7505 3 ("MUST NOT
         * advertise any other MX"); it names no host, so it is skipped. */
        if (x->len <= 1 || ip_literal(x))
            continue;
        /* The same host twice keeps its lowest preference. */
        size_t k;
        for (k = 0; k < list->count; k++)
            if (dns_name_eq(&list->t[k].host, x))
                break;
        if (k < list->count) {
            if (rr->rd.mx.preference < list->t[k].preference)
                list->t[k].preference = rr->rd.mx.preference;
            continue;
        }
        struct dns_mx_target *t = &list->t[list->count++];
        memset(t, 0, sizeof *t);
        t->host = *x;
        t->preference = rr->rd.mx.preference;
        addresses(t, mx, addr);
    }
    /* RFC 5321 5.1: MX records present but none usable is an error, not a
     * fall back to the implicit MX. */
    if (list->count == 0)
        return DNS_MX_UNUSABLE;
    order(list, seed);
    return DNS_MX_OK;
}
