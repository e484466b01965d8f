/* DNS wire format (RFC 1035 4.1): decode, encode with name compression,
 * presentation-form names, builders and TCP framing. See dns.h. */
#include "protocols/dns.h"

#include "protocols/common.h"

#include <stdio.h>
#include <string.h>

/* ---- tables -------------------------------------------------------------- */

static const char *const err_names[DNS_ERR_COUNT] = {
    [DNS_OK] = "ok",
    [DNS_ERR_TRUNCATED_HEADER] = "message shorter than its 12-octet header",
    [DNS_ERR_TRUNCATED] = "message ends before or inside a counted question or record",
    [DNS_ERR_TRAILING] = "octets after the last record",
    [DNS_ERR_MSG_TOO_LONG] = "message too long for the transport",
    [DNS_ERR_TOO_MANY] = "too many questions or records in a section",
    [DNS_ERR_NAME_TRUNCATED] = "name runs past the end of the message",
    [DNS_ERR_LABEL_TYPE] = "reserved label type (bits 01 or 10)",
    [DNS_ERR_LABEL_TOO_LONG] = "label longer than 63 octets",
    [DNS_ERR_NAME_TOO_LONG] = "name longer than 255 octets",
    [DNS_ERR_PTR_RANGE] = "compression pointer past the end of the message",
    [DNS_ERR_PTR_SELF] = "compression pointer to itself",
    [DNS_ERR_PTR_FORWARD] = "compression pointer to a later offset",
    [DNS_ERR_PTR_LOOP] = "compression pointer loop",
    [DNS_ERR_RDLENGTH] = "RDLENGTH past the end of the message",
    [DNS_ERR_RDATA_SIZE] = "RDATA size wrong for its type",
    [DNS_ERR_RDATA_OVERRUN] = "field runs past the end of its RDATA",
    [DNS_ERR_TXT_OVERRUN] = "TXT character-string runs past its RDATA",
    [DNS_ERR_RDATA_TOO_LONG] = "RDATA longer than this codec keeps",
    [DNS_ERR_NAME_SYNTAX] = "bad name syntax",
    [DNS_ERR_NO_SPACE] = "output buffer too small",
};

const char *dns_strerror(int err)
{
    if (err < 0 || err >= DNS_ERR_COUNT || !err_names[err])
        return "unknown error";
    return err_names[err];
}

static const char *const rcode_names[DNS_RCODE_COUNT] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
};

const char *dns_rcode_name(unsigned rcode)
{
    return rcode < DNS_RCODE_COUNT ? rcode_names[rcode] : NULL;
}

static const char *const opcode_names[DNS_OPCODE_COUNT] = {"QUERY", "IQUERY", "STATUS"};

const char *dns_opcode_name(unsigned opcode)
{
    return opcode < DNS_OPCODE_COUNT ? opcode_names[opcode] : NULL;
}

const char *dns_type_name(unsigned type)
{
    switch (type) {
    case DNS_TYPE_A: return "A";
    case DNS_TYPE_NS: return "NS";
    case DNS_TYPE_CNAME: return "CNAME";
    case DNS_TYPE_SOA: return "SOA";
    case DNS_TYPE_PTR: return "PTR";
    case DNS_TYPE_MX: return "MX";
    case DNS_TYPE_TXT: return "TXT";
    case DNS_TYPE_AAAA: return "AAAA";
    case DNS_TYPE_OPT: return "OPT";
    case DNS_TYPE_ANY: return "ANY";
    default: return NULL;
    }
}

static const char *const section_names[DNS_SECTION_COUNT] = {"answer", "authority", "additional"};

const char *dns_section_name(enum dns_section s)
{
    EXPECT((unsigned)s < DNS_SECTION_COUNT);
    return section_names[s];
}

/* ---- names --------------------------------------------------------------- */

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* 1 when name is well formed: labels of 1..63 octets ending in the root
 * label exactly at len. Encoding relies on it; callers may fill names by hand. */
static int name_valid(const struct dns_name *n)
{
    if (n->len < 1 || n->len > DNS_NAME_MAX)
        return 0;
    size_t i = 0;
    while (i < n->len) {
        uint8_t c = n->wire[i];
        if (c == 0)
            return i + 1 == n->len;
        if (c > DNS_LABEL_MAX)
            return 0;
        i += 1u + c;
    }
    return 0;
}

int dns_name_eq(const struct dns_name *a, const struct dns_name *b)
{
    if (a->len != b->len)
        return 0;
    /* Length octets are below 64, so folding them is harmless and the same
     * loop covers labels and lengths (RFC 4343 2: only A-Z fold). */
    for (size_t i = 0; i < a->len; i++)
        if (lower(a->wire[i]) != lower(b->wire[i]))
            return 0;
    return 1;
}

size_t dns_name_labels(const struct dns_name *name)
{
    size_t n = 0, i = 0;
    while (i < name->len && name->wire[i] != 0) {
        n++;
        i += 1u + name->wire[i];
    }
    return n;
}

int dns_name_from_text(struct dns_name *name, const char *text)
{
    name->len = 0;
    if (!text || !*text)
        return DNS_ERR_NAME_SYNTAX;
    if (strcmp(text, ".") == 0) {
        name->wire[0] = 0;
        name->len = 1;
        return DNS_OK;
    }
    uint8_t out[DNS_NAME_MAX];
    size_t lstart = 0; /* where the current label's length octet goes */
    size_t o = 1;      /* octets used in out, that length octet included */
    size_t llen = 0;
    const char *p = text;
    while (*p) {
        if (*p == '.') {
            /* RFC 1035 5.1: the empty label is only the final root, so
             * ".a" and "a..b" are errors */
            if (llen == 0)
                return DNS_ERR_NAME_SYNTAX;
            out[lstart] = (uint8_t)llen;
            if (*++p == '\0')
                goto done; /* the trailing dot of an absolute name */
            /* every octet added must leave room for the root's zero */
            if (o + 1 > DNS_NAME_MAX - 1)
                return DNS_ERR_NAME_TOO_LONG;
            lstart = o++;
            llen = 0;
            continue;
        }
        unsigned v;
        if (*p == '\\') {
            p++;
            if (*p >= '0' && *p <= '9') {
                /* \DDD: exactly three decimal digits, at most 255 */
                if (!(p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
                    return DNS_ERR_NAME_SYNTAX;
                v = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 + (unsigned)(p[2] - '0');
                if (v > 255)
                    return DNS_ERR_NAME_SYNTAX;
                p += 3;
            } else if (*p == '\0') {
                return DNS_ERR_NAME_SYNTAX;
            } else {
                v = (unsigned char)*p++;
            }
        } else {
            v = (unsigned char)*p++;
        }
        if (llen == DNS_LABEL_MAX)
            return DNS_ERR_LABEL_TOO_LONG;
        if (o + 1 > DNS_NAME_MAX - 1)
            return DNS_ERR_NAME_TOO_LONG;
        out[o++] = (uint8_t)v;
        llen++;
    }
    out[lstart] = (uint8_t)llen; /* text without the trailing dot */
done:
    out[o++] = 0;
    memcpy(name->wire, out, o);
    name->len = (uint16_t)o;
    return DNS_OK;
}

static int special(uint8_t c)
{
    return c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
           c == '@' || c == '$';
}

int dns_name_to_text(const struct dns_name *name, char *out, size_t cap)
{
    size_t o = 0;
    if (!name_valid(name))
        return DNS_ERR_NAME_SYNTAX;
    if (cap == 0)
        return DNS_ERR_NO_SPACE;
    if (name->len == 1) {
        if (cap < 2)
            return DNS_ERR_NO_SPACE;
        memcpy(out, ".", 2);
        return DNS_OK;
    }
    size_t i = 0;
    while (name->wire[i] != 0) {
        size_t n = name->wire[i++];
        for (size_t k = 0; k < n; k++, i++) {
            uint8_t c = name->wire[i];
            char tmp[5];
            size_t t;
            if (c < 0x21 || c > 0x7e) {
                tmp[0] = '\\';
                tmp[1] = (char)('0' + c / 100);
                tmp[2] = (char)('0' + c / 10 % 10);
                tmp[3] = (char)('0' + c % 10);
                t = 4;
            } else if (special(c)) {
                tmp[0] = '\\';
                tmp[1] = (char)c;
                t = 2;
            } else {
                tmp[0] = (char)c;
                t = 1;
            }
            if (o + t + 1 > cap)
                return DNS_ERR_NO_SPACE;
            memcpy(out + o, tmp, t);
            o += t;
        }
        if (o + 2 > cap)
            return DNS_ERR_NO_SPACE;
        out[o++] = '.';
    }
    out[o] = '\0';
    return DNS_OK;
}

/* ---- decoding ------------------------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Reads the possibly compressed name at m[off] into *out. Its in-place part
 * must end by `end` (the message end, or the RDATA end for names in RDATA,
 * where running over is `overrun`); data reached through a pointer may lie
 * anywhere in m[0..len). *next gets the offset just after the in-place part.
 *
 * RFC 1035 4.1.4 only says a pointer refers to a "prior occurance"; we require
 * every pointer to land before the start of the label run it ends (the name
 * itself, or the previous pointer's target). Offsets then strictly decrease,
 * so the walk ends, and every cycle is caught as a specific error. */
static int read_name(const uint8_t *m, size_t len, size_t off, size_t end, int overrun,
                     struct dns_name *out, size_t *next)
{
    size_t pos = off, run_start = off, limit = end, o = 0;
    int jumped = 0;
    for (;;) {
        if (pos >= limit)
            return jumped ? DNS_ERR_NAME_TRUNCATED : overrun;
        uint8_t c = m[pos];
        switch (c & 0xC0) {
        case 0x00:
            if (c == 0) {
                out->wire[o++] = 0;
                out->len = (uint16_t)o;
                if (!jumped)
                    *next = pos + 1;
                return DNS_OK;
            }
            if (pos + 1 + c > limit)
                return jumped ? DNS_ERR_NAME_TRUNCATED : overrun;
            /* RFC 1035 2.3.4: 255 octets including the root's zero */
            if (o + 1 + c + 1 > DNS_NAME_MAX)
                return DNS_ERR_NAME_TOO_LONG;
            /* A byte loop, not memcpy: knowing the copy is at most 64
             * octets, gcc -O2 inlines memcpy as "rep movsq", whose start-up
             * cost was two thirds of decoding a message (make bench,
             * bench_parsers); the loop makes dns_decode twice as fast. */
            for (size_t k = 0; k <= c; k++)
                out->wire[o + k] = m[pos + k];
            o += 1u + c;
            pos += 1u + c;
            break;
        case 0xC0: {
            if (pos + 1 >= limit)
                return jumped ? DNS_ERR_NAME_TRUNCATED : overrun;
            size_t t = ((size_t)(c & 0x3F) << 8) | m[pos + 1];
            if (t >= len)
                return DNS_ERR_PTR_RANGE;
            if (t == pos)
                return DNS_ERR_PTR_SELF;
            if (t > pos)
                return DNS_ERR_PTR_FORWARD;
            if (t >= run_start)
                return DNS_ERR_PTR_LOOP;
            if (!jumped) {
                *next = pos + 2;
                jumped = 1;
                limit = len;
            }
            run_start = t;
            pos = t;
            break;
        }
        default:
            /* 01 was EDNS0's extended label (RFC 6891 5 retired it); 10 was
             * never assigned. */
            return DNS_ERR_LABEL_TYPE;
        }
    }
}

/* Reads a name that must fill RDATA exactly up to rdend. */
static int rdata_name(const uint8_t *m, size_t len, size_t *pos, size_t rdend, struct dns_name *out)
{
    size_t next = 0;
    int err = read_name(m, len, *pos, rdend, DNS_ERR_RDATA_OVERRUN, out, &next);
    if (err)
        return err;
    *pos = next;
    return DNS_OK;
}

static int read_rdata(const uint8_t *m, size_t len, size_t pos, size_t rdlen, struct dns_rr *rr)
{
    size_t rdend = pos + rdlen;
    int err;
    switch (rr->type) {
    case DNS_TYPE_A:
        if (rdlen != 4)
            return DNS_ERR_RDATA_SIZE; /* RFC 1035 3.4.1 */
        memcpy(rr->rd.a, m + pos, 4);
        return DNS_OK;
    case DNS_TYPE_AAAA:
        if (rdlen != 16)
            return DNS_ERR_RDATA_SIZE; /* RFC 3596 2.2 */
        memcpy(rr->rd.aaaa, m + pos, 16);
        return DNS_OK;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        if ((err = rdata_name(m, len, &pos, rdend, &rr->rd.target)))
            return err;
        return pos == rdend ? DNS_OK : DNS_ERR_RDATA_SIZE;
    case DNS_TYPE_MX:
        /* RFC 1035 3.3.9: 16-bit preference, then at least the root label */
        if (rdlen < 3)
            return DNS_ERR_RDATA_SIZE;
        rr->rd.mx.preference = get16(m + pos);
        pos += 2;
        if ((err = rdata_name(m, len, &pos, rdend, &rr->rd.mx.exchange)))
            return err;
        return pos == rdend ? DNS_OK : DNS_ERR_RDATA_SIZE;
    case DNS_TYPE_SOA:
        /* RFC 1035 3.3.13: two names, then five 32-bit fields */
        if ((err = rdata_name(m, len, &pos, rdend, &rr->rd.soa.mname)))
            return err;
        if ((err = rdata_name(m, len, &pos, rdend, &rr->rd.soa.rname)))
            return err;
        if (rdend - pos != 20)
            return DNS_ERR_RDATA_SIZE;
        rr->rd.soa.serial = get32(m + pos);
        rr->rd.soa.refresh = get32(m + pos + 4);
        rr->rd.soa.retry = get32(m + pos + 8);
        rr->rd.soa.expire = get32(m + pos + 12);
        rr->rd.soa.minimum = get32(m + pos + 16);
        return DNS_OK;
    case DNS_TYPE_TXT:
        /* RFC 1035 3.3.14: one or more <character-string>s */
        if (rdlen == 0)
            return DNS_ERR_RDATA_SIZE;
        if (rdlen > DNS_RDATA_MAX)
            return DNS_ERR_RDATA_TOO_LONG;
        for (size_t p = pos; p < rdend; p += 1u + m[p])
            if (p + 1 + m[p] > rdend)
                return DNS_ERR_TXT_OVERRUN;
        break;
    default:
        if (rdlen > DNS_RDATA_MAX)
            return DNS_ERR_RDATA_TOO_LONG;
        break;
    }
    memcpy(rr->rd.raw.data, m + pos, rdlen);
    rr->rd.raw.len = (uint16_t)rdlen;
    return DNS_OK;
}

int dns_decode(const uint8_t *buf, size_t len, size_t max, struct dns_msg *msg)
{
    memset(&msg->h, 0, sizeof msg->h);
    msg->qdcount = 0;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        msg->sec[s].count = 0;
    if (max > DNS_MSG_MAX)
        max = DNS_MSG_MAX;
    if (len > max)
        return DNS_ERR_MSG_TOO_LONG;
    if (len < DNS_HEADER_LEN)
        return DNS_ERR_TRUNCATED_HEADER;

    /* RFC 1035 4.1.1 */
    uint16_t flags = get16(buf + 2);
    msg->h.id = get16(buf);
    msg->h.qr = (flags >> 15) & 1;
    msg->h.opcode = (flags >> 11) & 0xF;
    msg->h.aa = (flags >> 10) & 1;
    msg->h.tc = (flags >> 9) & 1;
    msg->h.rd = (flags >> 8) & 1;
    msg->h.ra = (flags >> 7) & 1;
    msg->h.z = (flags >> 4) & 7;
    msg->h.rcode = flags & 0xF;
    uint16_t qd = get16(buf + 4);
    uint16_t counts[DNS_SECTION_COUNT] = {get16(buf + 6), get16(buf + 8), get16(buf + 10)};
    if (qd > DNS_MAX_QUESTIONS)
        return DNS_ERR_TOO_MANY;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        if (counts[s] > DNS_MAX_RR)
            return DNS_ERR_TOO_MANY;

    size_t pos = DNS_HEADER_LEN;
    int err;
    for (uint16_t i = 0; i < qd; i++) {
        struct dns_question *q = &msg->qd[i];
        if (pos == len)
            return DNS_ERR_TRUNCATED; /* QDCOUNT promises more questions */
        if ((err = read_name(buf, len, pos, len, DNS_ERR_NAME_TRUNCATED, &q->name, &pos)))
            return err;
        if (len - pos < 4)
            return DNS_ERR_TRUNCATED;
        q->type = get16(buf + pos);
        q->qclass = get16(buf + pos + 2);
        pos += 4;
        msg->qdcount = (uint16_t)(i + 1);
    }
    for (int s = 0; s < DNS_SECTION_COUNT; s++) {
        for (uint16_t i = 0; i < counts[s]; i++) {
            struct dns_rr *rr = &msg->sec[s].rr[i];
            if (pos == len)
                return DNS_ERR_TRUNCATED; /* a count promises more records */
            if ((err = read_name(buf, len, pos, len, DNS_ERR_NAME_TRUNCATED, &rr->name, &pos)))
                return err;
            /* RFC 1035 4.1.3: TYPE, CLASS, TTL, RDLENGTH */
            if (len - pos < 10)
                return DNS_ERR_TRUNCATED;
            rr->type = get16(buf + pos);
            rr->rclass = get16(buf + pos + 2);
            rr->ttl = get32(buf + pos + 4);
            size_t rdlen = get16(buf + pos + 8);
            pos += 10;
            if (rdlen > len - pos)
                return DNS_ERR_RDLENGTH;
            if ((err = read_rdata(buf, len, pos, rdlen, rr)))
                return err;
            pos += rdlen;
            msg->sec[s].count = (uint16_t)(i + 1);
        }
    }
    /* RFC 1035 says nothing of padding; a mismatch between the counts and
     * the size is reported so a lesson can show the lying count. */
    if (pos != len)
        return DNS_ERR_TRAILING;
    return DNS_OK;
}

int dns_txt_string(const struct dns_rr *rr, size_t i, const uint8_t **s, size_t *n)
{
    size_t p = 0;
    while (p < rr->rd.raw.len) {
        size_t l = rr->rd.raw.data[p];
        if (p + 1 + l > rr->rd.raw.len)
            return 0; /* hand-filled RDATA that decoding would have refused */
        if (i-- == 0) {
            *s = rr->rd.raw.data + p + 1;
            *n = l;
            return 1;
        }
        p += 1 + l;
    }
    return 0;
}

int dns_txt_add(struct dns_rr *rr, const void *s, size_t n)
{
    if (n > 255 || rr->rd.raw.len + 1 + n > DNS_RDATA_MAX)
        return DNS_ERR_RDATA_TOO_LONG;
    rr->rd.raw.data[rr->rd.raw.len] = (uint8_t)n;
    memcpy(rr->rd.raw.data + rr->rd.raw.len + 1, s, n);
    rr->rd.raw.len = (uint16_t)(rr->rd.raw.len + 1 + n);
    return DNS_OK;
}

/* ---- encoding ------------------------------------------------------------ */

struct enc {
    uint8_t *out;
    size_t cap, len;
    int err;
    size_t nsuf;
    struct {
        const uint8_t *wire; /* a suffix of a name already written, uncompressed */
        uint16_t wlen;
        uint16_t off;        /* where it starts in out */
    } suf[DNS_COMPRESS_MAX];
};

static void put(struct enc *e, const void *p, size_t n)
{
    if (e->err)
        return;
    if (n > e->cap - e->len) {
        e->err = DNS_ERR_NO_SPACE;
        return;
    }
    memcpy(e->out + e->len, p, n);
    e->len += n;
}

static void put16(struct enc *e, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(e, b, 2);
}

static void put32(struct enc *e, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(e, b, 4);
}

static void remember(struct enc *e, const uint8_t *wire, size_t wlen, size_t off)
{
    /* A pointer holds 14 bits of offset (RFC 1035 4.1.4). */
    if (off >= 0x4000 || e->nsuf == DNS_COMPRESS_MAX)
        return;
    e->suf[e->nsuf].wire = wire;
    e->suf[e->nsuf].wlen = (uint16_t)wlen;
    e->suf[e->nsuf].off = (uint16_t)off;
    e->nsuf++;
}

/* Writes name, ending it with a pointer to the longest suffix written before.
 * Suffixes match byte for byte, not ignoring case, so every name decodes with
 * the case it was given (a resolver using 0x20 case randomisation compares
 * the echoed question exactly). */
static void put_name(struct enc *e, const struct dns_name *n)
{
    if (e->err)
        return;
    if (!name_valid(n)) {
        e->err = DNS_ERR_NAME_SYNTAX;
        return;
    }
    size_t i = 0;
    while (n->wire[i] != 0) {
        size_t rest = n->len - i;
        for (size_t k = 0; k < e->nsuf; k++) {
            if (e->suf[k].wlen == rest && memcmp(e->suf[k].wire, n->wire + i, rest) == 0) {
                size_t start = e->len;
                put(e, n->wire, i);
                for (size_t j = 0; j < i; j += 1u + n->wire[j])
                    remember(e, n->wire + j, n->len - j, start + j);
                put16(e, (uint16_t)(0xC000 | e->suf[k].off));
                return;
            }
        }
        i += 1u + n->wire[i];
    }
    size_t start = e->len;
    put(e, n->wire, n->len);
    for (size_t j = 0; n->wire[j] != 0; j += 1u + n->wire[j])
        remember(e, n->wire + j, n->len - j, start + j);
}

static void put_rr(struct enc *e, const struct dns_rr *rr)
{
    put_name(e, &rr->name);
    put16(e, rr->type);
    put16(e, rr->rclass);
    put32(e, rr->ttl);
    size_t lenpos = e->len;
    put16(e, 0); /* RDLENGTH, patched below */
    if (e->err)
        return;
    size_t start = e->len;
    switch (rr->type) {
    case DNS_TYPE_A:
        put(e, rr->rd.a, 4);
        break;
    case DNS_TYPE_AAAA:
        put(e, rr->rd.aaaa, 16);
        break;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        put_name(e, &rr->rd.target);
        break;
    case DNS_TYPE_MX:
        put16(e, rr->rd.mx.preference);
        put_name(e, &rr->rd.mx.exchange);
        break;
    case DNS_TYPE_SOA:
        put_name(e, &rr->rd.soa.mname);
        put_name(e, &rr->rd.soa.rname);
        put32(e, rr->rd.soa.serial);
        put32(e, rr->rd.soa.refresh);
        put32(e, rr->rd.soa.retry);
        put32(e, rr->rd.soa.expire);
        put32(e, rr->rd.soa.minimum);
        break;
    default:
        if (rr->rd.raw.len > DNS_RDATA_MAX) {
            e->err = DNS_ERR_RDATA_TOO_LONG;
            return;
        }
        put(e, rr->rd.raw.data, rr->rd.raw.len);
        break;
    }
    if (e->err)
        return;
    size_t rdlen = e->len - start; /* at most DNS_RDATA_MAX or two names + 20 */
    e->out[lenpos] = (uint8_t)(rdlen >> 8);
    e->out[lenpos + 1] = (uint8_t)rdlen;
}

/* RFC 1035 4.1.1 */
static void put_header(struct enc *e, const struct dns_header *h, uint16_t qd, uint16_t an,
                       uint16_t ns, uint16_t ar)
{
    uint16_t flags = (uint16_t)((h->qr ? 0x8000 : 0) | ((h->opcode & 0xF) << 11) |
                                (h->aa ? 0x0400 : 0) | (h->tc ? 0x0200 : 0) |
                                (h->rd ? 0x0100 : 0) | (h->ra ? 0x0080 : 0) |
                                ((h->z & 7) << 4) | (h->rcode & 0xF));
    put16(e, h->id);
    put16(e, flags);
    put16(e, qd);
    put16(e, an);
    put16(e, ns);
    put16(e, ar);
}

/* RFC 1035 4.1.2 */
static void put_question(struct enc *e, const struct dns_question *q)
{
    put_name(e, &q->name);
    put16(e, q->type);
    put16(e, q->qclass);
}

int dns_encode(const struct dns_msg *msg, uint8_t *out, size_t cap, size_t *len)
{
    static const struct enc zero;
    struct enc e = zero;
    e.out = out;
    e.cap = cap > DNS_MSG_MAX ? DNS_MSG_MAX : cap;
    *len = 0;
    if (msg->qdcount > DNS_MAX_QUESTIONS)
        return DNS_ERR_TOO_MANY;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        if (msg->sec[s].count > DNS_MAX_RR)
            return DNS_ERR_TOO_MANY;

    put_header(&e, &msg->h, msg->qdcount, msg->sec[DNS_ANSWER].count,
               msg->sec[DNS_AUTHORITY].count, msg->sec[DNS_ADDITIONAL].count);
    for (size_t i = 0; i < msg->qdcount; i++)
        put_question(&e, &msg->qd[i]);
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        for (size_t i = 0; i < msg->sec[s].count; i++)
            put_rr(&e, &msg->sec[s].rr[i]);
    if (e.err)
        return e.err;
    *len = e.len;
    return DNS_OK;
}

int dns_encode_udp(const struct dns_msg *msg, uint8_t *out, size_t cap, size_t *len,
                   bool *truncated)
{
    *truncated = false;
    int err = dns_encode(msg, out, cap, len);
    if (err != DNS_ERR_NO_SPACE)
        return err;
    struct dns_header h = msg->h;
    h.tc = true;
    static const struct enc zero;
    struct enc e = zero;
    e.out = out;
    e.cap = cap > DNS_MSG_MAX ? DNS_MSG_MAX : cap;
    put_header(&e, &h, msg->qdcount, 0, 0, 0);
    for (size_t i = 0; i < msg->qdcount; i++)
        put_question(&e, &msg->qd[i]);
    if (e.err)
        return e.err;
    *len = e.len;
    *truncated = true;
    return DNS_OK;
}

/* ---- builders ------------------------------------------------------------ */

static void clear_msg(struct dns_msg *m)
{
    memset(&m->h, 0, sizeof m->h);
    m->qdcount = 0;
    for (int s = 0; s < DNS_SECTION_COUNT; s++)
        m->sec[s].count = 0;
}

void dns_query_init(struct dns_msg *q, uint16_t id, const struct dns_name *name,
                    uint16_t type, bool rd)
{
    clear_msg(q);
    q->h.id = id;
    q->h.opcode = DNS_OPCODE_QUERY;
    q->h.rd = rd;
    q->qdcount = 1;
    q->qd[0].name = *name;
    q->qd[0].type = type;
    q->qd[0].qclass = DNS_CLASS_IN;
}

void dns_response_init(struct dns_msg *resp, const struct dns_msg *query, bool aa,
                       enum dns_rcode rcode)
{
    EXPECT(resp != query);
    EXPECT(query->qdcount <= DNS_MAX_QUESTIONS);
    clear_msg(resp);
    resp->h.id = query->h.id;
    resp->h.opcode = query->h.opcode;
    resp->h.rd = query->h.rd; /* RFC 1035 4.1.1: RD is copied into the response */
    resp->h.qr = true;
    resp->h.aa = aa;
    resp->h.rcode = (uint8_t)rcode;
    resp->qdcount = query->qdcount;
    for (size_t i = 0; i < query->qdcount; i++)
        resp->qd[i] = query->qd[i];
}

void dns_rr_init(struct dns_rr *rr, const struct dns_name *name, uint16_t type, uint32_t ttl)
{
    memset(rr, 0, sizeof *rr);
    rr->name = *name;
    rr->type = type;
    rr->rclass = DNS_CLASS_IN;
    rr->ttl = ttl;
}

int dns_add_rr(struct dns_msg *msg, enum dns_section s, const struct dns_rr *rr)
{
    EXPECT((unsigned)s < DNS_SECTION_COUNT);
    if (msg->sec[s].count >= DNS_MAX_RR)
        return DNS_ERR_TOO_MANY;
    msg->sec[s].rr[msg->sec[s].count++] = *rr;
    return DNS_OK;
}

/* ---- TCP framing ----------------------------------------------------------- */

int dns_tcp_write_len(uint8_t out[2], size_t msglen)
{
    if (msglen > DNS_MSG_MAX)
        return DNS_ERR_MSG_TOO_LONG;
    out[0] = (uint8_t)(msglen >> 8);
    out[1] = (uint8_t)msglen;
    return DNS_OK;
}

static const char *const tcp_state_names[DNS_TCP_STATE_COUNT] = {"length", "body", "ready", "failed"};

const char *dns_tcp_state_name(enum dns_tcp_state st)
{
    EXPECT((unsigned)st < DNS_TCP_STATE_COUNT);
    return tcp_state_names[st];
}

void dns_tcp_init(struct dns_tcp_reader *r, uint8_t *storage, size_t cap)
{
    r->buf = storage;
    r->cap = cap;
    dns_tcp_reset(r);
}

void dns_tcp_reset(struct dns_tcp_reader *r)
{
    r->state = DNS_TCP_LENGTH;
    r->lenhave = 0;
    r->need = 0;
    r->have = 0;
    r->err = DNS_OK;
}

size_t dns_tcp_feed(struct dns_tcp_reader *r, const uint8_t *in, size_t n)
{
    size_t used = 0;
    if (r->state == DNS_TCP_LENGTH) {
        while (used < n && r->lenhave < 2)
            r->lenbuf[r->lenhave++] = in[used++];
        if (r->lenhave < 2)
            return used;
        r->need = get16(r->lenbuf);
        r->have = 0;
        if (r->need > r->cap) {
            r->err = DNS_ERR_MSG_TOO_LONG;
            r->state = DNS_TCP_FAILED;
            return used;
        }
        r->state = DNS_TCP_BODY;
    }
    if (r->state == DNS_TCP_BODY) {
        size_t take = r->need - r->have;
        if (take > n - used)
            take = n - used;
        if (take)
            memcpy(r->buf + r->have, in + used, take);
        r->have += take;
        used += take;
        if (r->have == r->need)
            r->state = DNS_TCP_READY;
    }
    return used; /* READY and FAILED take nothing */
}

enum dns_tcp_status dns_tcp_next(struct dns_tcp_reader *r, const uint8_t **msg, size_t *len)
{
    switch (r->state) {
    case DNS_TCP_FAILED:
        return DNS_TCP_ERROR;
    case DNS_TCP_READY:
        *msg = r->buf;
        *len = r->need;
        /* the frame stays in buf until the next feed starts a new one */
        r->state = DNS_TCP_LENGTH;
        r->lenhave = 0;
        return DNS_TCP_MESSAGE;
    default:
        return DNS_TCP_NEED_MORE;
    }
}

/* ---- presentation ------------------------------------------------------------ */

/* Appends to a bounded text buffer; once something does not fit, `full` is
 * set and later appends are ignored, so callers check once at the end. */
struct text {
    char *out;
    size_t cap, len;
    int full;
};

static void tput(struct text *t, const char *s, size_t n)
{
    if (t->full)
        return;
    if (t->cap == 0 || t->len + n + 1 > t->cap) {
        size_t room = t->cap > t->len + 1 ? t->cap - t->len - 1 : 0;
        if (room > n)
            room = n;
        if (room)
            memcpy(t->out + t->len, s, room);
        t->len += room;
        t->full = 1;
    } else {
        memcpy(t->out + t->len, s, n);
        t->len += n;
    }
    if (t->cap)
        t->out[t->len] = '\0';
}

static void tstr(struct text *t, const char *s) { tput(t, s, strlen(s)); }

static void tnum(struct text *t, unsigned long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lu", v);
    tput(t, tmp, (size_t)n);
}

static void tname(struct text *t, const struct dns_name *n)
{
    char tmp[DNS_NAME_TEXT_MAX];
    if (dns_name_to_text(n, tmp, sizeof tmp) != DNS_OK)
        strcpy(tmp, "(bad name)");
    tstr(t, tmp);
}

/* RFC 3597 5: a type without a mnemonic is written TYPEn. */
static void ttype(struct text *t, unsigned type)
{
    const char *name = dns_type_name(type);
    if (name) {
        tstr(t, name);
    } else {
        tstr(t, "TYPE");
        tnum(t, type);
    }
}

/* RFC 1035 5.1: a character-string in quotes, '"' and '\\' escaped, bytes
 * outside the printable range as \DDD (what dig prints). */
static void tquoted(struct text *t, const uint8_t *s, size_t n)
{
    tput(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char tmp[5];
        uint8_t c = s[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(tmp, sizeof tmp, "\\%03u", (unsigned)c);
            tput(t, tmp, 4);
        } else if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tput(t, tmp, 2);
        } else {
            tput(t, (const char *)&c, 1);
        }
    }
    tput(t, "\"", 1);
}

static void trdata(struct text *t, const struct dns_rr *rr)
{
    char tmp[64];
    switch (rr->type) {
    case DNS_TYPE_A:
        snprintf(tmp, sizeof tmp, "%u.%u.%u.%u", rr->rd.a[0], rr->rd.a[1], rr->rd.a[2],
                 rr->rd.a[3]);
        tstr(t, tmp);
        return;
    case DNS_TYPE_AAAA: {
        /* RFC 5952 4: lower-case hex, no leading zeros, the longest run of
         * two or more zero groups (the first of equal runs) as "::". */
        unsigned g[8];
        for (int i = 0; i < 8; i++)
            g[i] = (unsigned)rr->rd.aaaa[2 * i] << 8 | rr->rd.aaaa[2 * i + 1];
        int best = -1, bestlen = 1;
        for (int i = 0; i < 8;) {
            int j = i;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - i > bestlen) {
                best = i;
                bestlen = j - i;
            }
            i = j > i ? j : i + 1;
        }
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                tstr(t, "::");
                i += bestlen - 1;
                continue;
            }
            if (i > 0 && i != best + bestlen)
                tput(t, ":", 1);
            snprintf(tmp, sizeof tmp, "%x", g[i]);
            tstr(t, tmp);
        }
        return;
    }
    case DNS_TYPE_MX:
        tnum(t, rr->rd.mx.preference);
        tput(t, " ", 1);
        tname(t, &rr->rd.mx.exchange);
        return;
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR:
        tname(t, &rr->rd.target);
        return;
    case DNS_TYPE_SOA: {
        const struct dns_soa *s = &rr->rd.soa;
        tname(t, &s->mname);
        tput(t, " ", 1);
        tname(t, &s->rname);
        snprintf(tmp, sizeof tmp, " %lu %lu %lu %lu %lu", (unsigned long)s->serial,
                 (unsigned long)s->refresh, (unsigned long)s->retry, (unsigned long)s->expire,
                 (unsigned long)s->minimum);
        tstr(t, tmp);
        return;
    }
    case DNS_TYPE_TXT: {
        const uint8_t *s;
        size_t n;
        for (size_t i = 0; dns_txt_string(rr, i, &s, &n); i++) {
            if (i)
                tput(t, " ", 1);
            tquoted(t, s, n);
        }
        return;
    }
    default:
        /* RFC 3597 5: "\# length hex" for RDATA this codec keeps opaque. */
        tstr(t, "\\# ");
        tnum(t, rr->rd.raw.len);
        if (rr->rd.raw.len)
            tput(t, " ", 1);
        for (size_t i = 0; i < rr->rd.raw.len; i++) {
            snprintf(tmp, sizeof tmp, "%02x", rr->rd.raw.data[i]);
            tput(t, tmp, 2);
        }
        return;
    }
}

static void trr(struct text *t, const struct dns_rr *rr)
{
    tname(t, &rr->name);
    tput(t, " ", 1);
    tnum(t, rr->ttl);
    if (rr->rclass == DNS_CLASS_IN) {
        tstr(t, " IN ");
    } else {
        tstr(t, " CLASS");
        tnum(t, rr->rclass);
        tput(t, " ", 1);
    }
    ttype(t, rr->type);
    tput(t, " ", 1);
    trdata(t, rr);
}

int dns_rr_to_text(const struct dns_rr *rr, char *out, size_t cap)
{
    struct text t = {out, cap, 0, 0};
    if (cap)
        out[0] = '\0';
    trr(&t, rr);
    return t.full || cap == 0 ? DNS_ERR_NO_SPACE : DNS_OK;
}

int dns_msg_summary(const struct dns_msg *msg, char *out, size_t cap)
{
    struct text t = {out, cap, 0, 0};
    if (cap)
        out[0] = '\0';
    if (!msg->h.qr) {
        if (msg->qdcount == 0) {
            tstr(&t, "(no question)");
        } else {
            const struct dns_question *q = &msg->qd[0];
            tname(&t, &q->name);
            if (q->qclass == DNS_CLASS_IN) {
                tstr(&t, " IN ");
            } else {
                tstr(&t, " CLASS");
                tnum(&t, q->qclass);
                tput(&t, " ", 1);
            }
            ttype(&t, q->type);
            tput(&t, "?", 1);
        }
    } else {
        size_t n = msg->sec[DNS_ANSWER].count;
        for (size_t i = 0; i < n && i < DNS_MAX_RR; i++) {
            if (i)
                tstr(&t, "; ");
            trr(&t, &msg->sec[DNS_ANSWER].rr[i]);
        }
        if (msg->h.rcode != DNS_RCODE_NOERROR) {
            if (n)
                tstr(&t, "; ");
            const char *name = dns_rcode_name(msg->h.rcode);
            if (name) {
                tstr(&t, name);
            } else {
                tstr(&t, "RCODE");
                tnum(&t, msg->h.rcode);
            }
        } else if (n == 0) {
            tstr(&t, "NODATA");
        }
    }
    if (!t.full && cap)
        return DNS_OK;
    if (cap >= 4)
        memcpy(out + cap - 4, "...", 4);
    return DNS_ERR_NO_SPACE;
}
