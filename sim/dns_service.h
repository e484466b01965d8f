/* The simulated DNS service: authoritative zones and name servers, recursive
 * resolvers with a cache, and the stub lookups mail servers and devices make,
 * including MX resolution for a mail domain from end to end.
 *
 * Everything on the simulated wire is a real RFC 1035 message built and
 * parsed with protocols/dns.h and carried as a datagram by sim/net.h, so the
 * trace shows each query and answer in dig's style with a note for students.
 *
 * The world is small on purpose: there are no root or TLD servers. Each
 * resolver is given a delegation table (zone -> the address of the server
 * authoritative for it) at setup, which stands in for the walk down from the
 * root (RFC 1034 5.3.3). A name under no delegated zone gets NXDOMAIN from
 * the resolver, which is what the root would say for an unknown TLD.
 *
 * Ports: servers and resolvers answer on UDP 53. Queries leave from
 * SIM_DNS_CLIENT_PORT on the asking host (a resolver asking an authority is a
 * client too); it is bound on a host's first lookup.
 *
 * Ownership: the service owns its zones, servers, resolvers and pending
 * lookups. It registers datagram handlers and timers with the network and the
 * engine that point at it, so free it only when the engine will not run
 * again (after the last sim_engine_run()). Pending callbacks are not called
 * by sim_dns_free().
 *
 * Every function that can fail returns 0 (SIM_DNS_OK) or a SIM_DNS_ERR_*
 * value; sim_dns_strerror() names it. */
#ifndef MAILSIM_SIM_DNS_SERVICE_H
#define MAILSIM_SIM_DNS_SERVICE_H

#include <stdint.h>

#include "protocols/dns.h"
#include "sim/engine.h"
#include "sim/net.h"

/* ---- limits ------------------------------------------------------------ */

#define SIM_DNS_PORT 53              /* RFC 1035 4.2.1 */
#define SIM_DNS_CLIENT_PORT 49152    /* RFC 6335 6: first dynamic port; our fixed query port */
#define SIM_DNS_ZONES_MAX 32         /* zones per service: a lesson needs a handful */
#define SIM_DNS_ZONE_RR_MAX 64       /* records per zone, SOA not counted: a teaching bound */
#define SIM_DNS_SERVER_ZONES_MAX 8   /* zones one authoritative server serves */
#define SIM_DNS_DELEGATIONS_MAX 16   /* delegation table entries per resolver */
#define SIM_DNS_CACHE_MAX 128        /* cached answers per resolver; the one expiring first is evicted */
#define SIM_DNS_PENDING_MAX 256      /* queries in flight in the whole service */
#define SIM_DNS_WAITERS_MAX 8        /* clients waiting on one resolver task (retransmits joined) */
#define SIM_DNS_MX_JOBS_MAX 16       /* MX resolutions in progress; each holds two messages */
#define SIM_DNS_CNAME_CHAIN_MAX 8    /* CNAMEs followed for one answer; then the chain stops */
#define SIM_DNS_TEXT_MAX 2048        /* a trace text or note; longer summaries end in "..." */

/* Timing. RFC 1035 4.2.1 leaves the retransmission interval to the
 * implementation ("2-5 seconds"); these are common values. */
#define SIM_DNS_RESOLVER_TIMEOUT SIM_SEC(2) /* resolver -> authority, per try */
#define SIM_DNS_RESOLVER_TRIES 3            /* the first query and 2 retries; then SERVFAIL */
#define SIM_DNS_STUB_TIMEOUT SIM_SEC(5)     /* stub -> resolver per try: glibc's RES_TIMEOUT */
#define SIM_DNS_STUB_TRIES 2                /* glibc's default attempts; then a timeout */

/* Default SOA values for a new zone (RFC 1912 2.2 suggestions; the minimum
 * is the negative-caching TTL, RFC 2308 4). */
#define SIM_DNS_SOA_TTL 3600
#define SIM_DNS_SOA_MINIMUM 300

/* ---- errors -------------------------------------------------------------- */

enum sim_dns_err {
    SIM_DNS_OK = 0,
    SIM_DNS_ERR_NAME,        /* a name that does not parse (dns_name_from_text) */
    SIM_DNS_ERR_OUT_OF_ZONE, /* a record's owner is not at or below the zone apex */
    SIM_DNS_ERR_RDATA,       /* record data text that does not parse for its type */
    SIM_DNS_ERR_TYPE,        /* a type the zones do not hold (only A AAAA MX NS CNAME TXT) */
    SIM_DNS_ERR_CNAME,       /* CNAME beside other data at one name (RFC 2181 10.1) */
    SIM_DNS_ERR_EXISTS,      /* the zone or delegation is already there */
    SIM_DNS_ERR_FULL,        /* one of the limits above */
    SIM_DNS_ERR_BIND,        /* the host's UDP port is taken by someone else */
    SIM_DNS_ERR_NOMEM,       /* malloc failed */
    SIM_DNS_ERR_COUNT
};

/* Names an error: "record data does not parse". Unknown values give
 * "unknown error". */
const char *sim_dns_strerror(int err);

/* ---- the service and its zones ----------------------------------------- */

struct sim_dns;
struct sim_dns_zone;

/* A service on engine e and network net (both borrowed; they must outlive
 * it). Returns NULL when memory ran out. */
struct sim_dns *sim_dns_new(struct sim_engine *e, struct sim_net *net);
void sim_dns_free(struct sim_dns *svc);

/* Creates the zone with apex `apex` ("example.org" or "example.org."), with
 * an SOA of "ns1.<apex> hostmaster.<apex> 1 3600 600 86400" and the defaults
 * above. Sets *zone (borrowed: it lives as long as svc). Returns 0,
 * SIM_DNS_ERR_NAME, SIM_DNS_ERR_EXISTS, SIM_DNS_ERR_FULL or SIM_DNS_ERR_NOMEM. */
int sim_dns_zone_add(struct sim_dns *svc, const char *apex, struct sim_dns_zone **zone);

/* The zone with that apex (borrowed), or NULL. */
struct sim_dns_zone *sim_dns_zone(const struct sim_dns *svc, const char *apex);

/* Replaces the SOA's names, serial, negative-caching minimum and the SOA
 * record's own TTL. Returns 0 or SIM_DNS_ERR_NAME. */
int sim_dns_zone_set_soa(struct sim_dns_zone *zone, const char *mname, const char *rname,
                         uint32_t serial, uint32_t minimum, uint32_t ttl);

/* Adds a record from its type and the text of its data as in a zone file:
 *   A     "192.0.2.25"               AAAA  "2001:db8::25"
 *   MX    "10 mx1.example.org"       MX    "0 ." (a null MX, RFC 7505)
 *   NS    "ns1.example.org"          CNAME "mail.example.org"
 *   TXT   "v=spf1 mx -all" (the whole text as one character-string; over
 *         255 octets it is split into several, RFC 7208 3.3)
 * Names are absolute with or without the final dot. owner must be at or
 * below the zone's apex. Returns 0, SIM_DNS_ERR_NAME, SIM_DNS_ERR_OUT_OF_ZONE,
 * SIM_DNS_ERR_TYPE, SIM_DNS_ERR_RDATA, SIM_DNS_ERR_CNAME or SIM_DNS_ERR_FULL. */
int sim_dns_zone_add_rr(struct sim_dns_zone *zone, const char *owner, uint16_t type,
                        uint32_t ttl, const char *rdata);

/* Shorthands for sim_dns_zone_add_rr(), same returns. A null MX is
 * sim_dns_zone_add_mx(zone, "example.net", 0, ".", ttl). */
int sim_dns_zone_add_mx(struct sim_dns_zone *zone, const char *owner, unsigned preference,
                        const char *exchange, uint32_t ttl);
int sim_dns_zone_add_a(struct sim_dns_zone *zone, const char *owner, const char *ipv4,
                       uint32_t ttl);

/* Records held (the SOA not counted). */
size_t sim_dns_zone_rr_count(const struct sim_dns_zone *zone);

/* ---- servers ------------------------------------------------------------- */

/* Makes host an authoritative server for zone, binding its UDP port 53 on
 * the first call for that host (later calls add zones). Answers follow
 * RFC 1034 4.3.2: AA set; records of the type asked; CNAMEs followed through
 * the zones it serves; NODATA and NXDOMAIN with the SOA in the authority
 * section (RFC 2308 3); A/AAAA of MX and NS targets it knows in the
 * additional section; REFUSED for names outside its zones; FORMERR for a
 * query it cannot parse. There are no delegations below a zone apex. Returns
 * 0, SIM_DNS_ERR_BIND (port 53 taken, e.g. by a resolver), SIM_DNS_ERR_EXISTS
 * (it serves the zone already), SIM_DNS_ERR_FULL or SIM_DNS_ERR_NOMEM. */
int sim_dns_serve_zone(struct sim_dns *svc, struct sim_host *host, struct sim_dns_zone *zone);

/* Makes host a recursive resolver on UDP 53 (RFC 1034 4.3.1; RA set). For a
 * query with RD set it answers from its cache, or asks the server the
 * delegation table names for the longest zone containing the name, retrying
 * a lost query (SIM_DNS_RESOLVER_TIMEOUT, SIM_DNS_RESOLVER_TRIES) and giving
 * SERVFAIL when no answer comes. It follows CNAMEs into other zones. Answers
 * are cached for their smallest TTL, NXDOMAIN and NODATA for the SOA's
 * minimum (RFC 2308 5); SERVFAIL is not cached. A query without RD is
 * answered from the cache or REFUSED. Returns 0, SIM_DNS_ERR_BIND,
 * SIM_DNS_ERR_EXISTS or SIM_DNS_ERR_NOMEM. */
int sim_dns_resolver_add(struct sim_dns *svc, struct sim_host *host);

/* Adds "zone is served at server_ip" to the resolver on host. Returns 0,
 * SIM_DNS_ERR_NAME, SIM_DNS_ERR_EXISTS, SIM_DNS_ERR_FULL, or
 * SIM_DNS_ERR_BIND when host is not a resolver. */
int sim_dns_resolver_delegate(struct sim_dns *svc, struct sim_host *host, const char *zone,
                              const char *server_ip);

/* Cached answers the resolver on host holds now, expired ones included until
 * they are replaced; 0 when host is not a resolver. */
size_t sim_dns_resolver_cache_count(const struct sim_dns *svc, const struct sim_host *host);

/* ---- stub lookups -------------------------------------------------------- */

/* How a lookup ended. */
enum sim_dns_result {
    SIM_DNS_ANSWER,   /* NOERROR with records in the answer section */
    SIM_DNS_NODATA,   /* NOERROR, no answer records: the name has no such type */
    SIM_DNS_NXDOMAIN, /* the name does not exist */
    SIM_DNS_SERVFAIL, /* the resolver could not get an answer */
    SIM_DNS_FAILED,   /* another RCODE (FORMERR, NOTIMP, REFUSED), or TC set (no TCP retry here) */
    SIM_DNS_TIMEOUT,  /* no reply after SIM_DNS_STUB_TRIES tries */
    SIM_DNS_RESULT_COUNT
};
/* "answer", "nodata", "nxdomain", "servfail", "failed", "timeout". */
extern const char *const sim_dns_result_names[SIM_DNS_RESULT_COUNT];

/* Called once per lookup. msg is the decoded reply (NULL on a timeout),
 * borrowed until the callback returns. The callback may start lookups. */
typedef void (*sim_dns_lookup_fn)(void *ctx, enum sim_dns_result r, const struct dns_msg *msg);

/* Sends an RD query for name/type from `from` to the resolver at
 * resolver_ip, with an id drawn from the engine's RNG. A reply counts when
 * it comes from that address to our port with the same id and question
 * (RFC 5452 4); others are ignored. A lost query is sent again after
 * SIM_DNS_STUB_TIMEOUT, with the same id, up to SIM_DNS_STUB_TRIES times.
 * Returns 0 (cb will be called later, never before this returns),
 * SIM_DNS_ERR_NAME, SIM_DNS_ERR_FULL, SIM_DNS_ERR_BIND or SIM_DNS_ERR_NOMEM
 * (cb will not be called). */
int sim_dns_lookup(struct sim_dns *svc, struct sim_host *from, const char *resolver_ip,
                   const char *name, uint16_t type, sim_dns_lookup_fn cb, void *ctx);

/* ---- MX resolution for a mail domain (RFC 5321 5.1) --------------------- */

/* Where an MX resolution is; the states are recorded in the trace as
 * "from -> to". */
enum sim_dns_mx_state {
    SIM_DNS_MX_QUERY_MX,   /* asking for the domain's MX records */
    SIM_DNS_MX_QUERY_ADDR, /* asking for an address the MX answer did not carry */
    SIM_DNS_MX_DONE,       /* the callback has run */
    SIM_DNS_MX_STATE_COUNT
};
/* "query-mx", "query-addr", "done". */
extern const char *const sim_dns_mx_state_names[SIM_DNS_MX_STATE_COUNT];

/* Called once. status is dns_mx_select()'s (never DNS_MX_REQUERY: a CNAME is
 * followed here); DNS_MX_TEMPFAIL covers SERVFAIL and timeouts of the MX
 * query, and address lookups that failed that way for every host, which an
 * MTA answers with 4xx and a later retry. list (borrowed until the callback
 * returns) holds the hosts to try, in order, when status is DNS_MX_OK; a
 * host whose address lookup failed has naddr 0. */
typedef void (*sim_dns_mx_fn)(void *ctx, enum dns_mx_status status,
                              const struct dns_mx_list *list);

/* Resolves where mail for domain goes, asking the resolver at resolver_ip:
 * the MX query; one more MX query when the domain is a CNAME the answer did
 * not follow; then an A query for each MX host (or, with no MX, for the
 * domain itself, RFC 5321 5.1) whose address the additional section did not
 * carry, one after another; then dns_mx_select() with a seed drawn from the
 * engine's RNG. Only IPv4 (A) is asked for. Returns 0 (cb later),
 * SIM_DNS_ERR_NAME, SIM_DNS_ERR_FULL, SIM_DNS_ERR_BIND or SIM_DNS_ERR_NOMEM. */
int sim_dns_resolve_mx(struct sim_dns *svc, struct sim_host *from, const char *resolver_ip,
                       const char *domain, sim_dns_mx_fn cb, void *ctx);

#endif
