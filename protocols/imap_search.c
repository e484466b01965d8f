/* SEARCH: evaluating imap.h's key tree against one message (RFC 3501
 * 6.4.4). Strings match as case-insensitive substrings (ASCII case only;
 * octets above 127 must match exactly); BODY and TEXT look at the raw
 * octets, without undoing a Content-Transfer-Encoding. */
#include "protocols/imap_server.h"

#include <string.h>

#include "protocols/common.h"
#include "protocols/msg.h"

/* What one evaluation needs; the header is parsed once, on first use. */
struct ctx {
    struct imap_scratch *sc;
    const struct imap_search_key *keys;
    size_t nkeys;
    const struct imap_msgref *m;
    uint32_t max_seq, max_uid;
    bool parsed;
    const struct msg_header *hdr;
    size_t body_off;
};

static const struct msg_header *parse_header(struct ctx *c);

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* True when needle occurs in hay, ignoring ASCII case; "" occurs always. */
static bool contains(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0) return true;
    if (nn > hn) return false;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && lower((unsigned char)hay[i + k]) == lower((unsigned char)needle[k])) k++;
        if (k == nn) return true;
    }
    return false;
}

/* Days since the epoch of the calendar day of epoch seen in zone (RFC 3501
 * 6.4.4: dates compare "disregarding time and timezone"). */
static int64_t day_of(int64_t epoch, int zone)
{
    struct imap_datetime dt;
    imap_epoch_to_datetime(epoch, zone, &dt);
    return imap_days_from_civil(dt.date.year, dt.date.month, dt.date.day);
}

static int64_t key_day(const struct imap_date *d)
{
    return imap_days_from_civil(d->year, d->month, d->day);
}

static bool date_cmp(enum imap_search_op op, int64_t day, int64_t key)
{
    switch (op) {
    case IMAP_SK_BEFORE:
    case IMAP_SK_SENTBEFORE: return day < key;
    case IMAP_SK_ON:
    case IMAP_SK_SENTON: return day == key;
    default: return day >= key; /* SINCE, SENTSINCE: "within or later than" */
    }
}

/* Any field named name whose unfolded value contains s. */
static bool field_has(struct ctx *c, const char *name, size_t name_len, const struct imap_str *s)
{
    const struct msg_header *h = parse_header(c);
    char fname[128];
    if (name_len >= sizeof fname) return false;
    memcpy(fname, name, name_len);
    fname[name_len] = 0;
    for (int i = msg_header_find(h, fname, 0); i >= 0; i = msg_header_find(h, fname, (size_t)i + 1)) {
        size_t vlen, olen;
        const char *v = msg_field_value(h, (size_t)i, &vlen);
        char buf[MSG_MAX_LINE * 4];
        if (msg_unfold(v, vlen, buf, sizeof buf, &olen) != MSG_OK) {
            if (contains(v, vlen, s->ptr, s->len)) return true; /* too long to unfold: raw */
            continue;
        }
        if (contains(buf, olen, s->ptr, s->len)) return true;
    }
    return false;
}

static bool sent_date(struct ctx *c, int64_t *day)
{
    const struct msg_header *h = parse_header(c);
    int i = msg_header_find(h, "Date", 0);
    if (i < 0) return false;
    size_t vlen;
    const char *v = msg_field_value(h, (size_t)i, &vlen);
    int64_t epoch;
    int zone;
    if (msg_date_parse(v, vlen, &epoch, &zone) != MSG_OK) return false;
    *day = day_of(epoch, zone);
    return true;
}

static bool eval(struct ctx *c, int i)
{
    EXPECT(i >= 0 && (size_t)i < c->nkeys);
    const struct imap_search_key *k = &c->keys[i];
    const struct imap_msgref *m = c->m;
    switch (k->op) {
    case IMAP_SK_AND:
        for (int ch = k->first_child; ch >= 0; ch = c->keys[ch].next_sibling)
            if (!eval(c, ch)) return false;
        return true;
    case IMAP_SK_OR: {
        int a = k->first_child;
        EXPECT(a >= 0);
        int b = c->keys[a].next_sibling;
        return eval(c, a) || (b >= 0 && eval(c, b));
    }
    case IMAP_SK_NOT:
        return k->first_child >= 0 && !eval(c, k->first_child);
    case IMAP_SK_SEQSET: return imap_seqset_contains(&k->set, m->seq, c->max_seq);
    case IMAP_SK_UID: return imap_seqset_contains(&k->set, m->uid, c->max_uid);
    case IMAP_SK_ALL: return true;
    case IMAP_SK_ANSWERED: return m->flags & IMAP_FLAG_ANSWERED;
    case IMAP_SK_DELETED: return m->flags & IMAP_FLAG_DELETED;
    case IMAP_SK_DRAFT: return m->flags & IMAP_FLAG_DRAFT;
    case IMAP_SK_FLAGGED: return m->flags & IMAP_FLAG_FLAGGED;
    case IMAP_SK_SEEN: return m->flags & IMAP_FLAG_SEEN;
    case IMAP_SK_RECENT: return m->flags & IMAP_FLAG_RECENT;
    case IMAP_SK_UNANSWERED: return !(m->flags & IMAP_FLAG_ANSWERED);
    case IMAP_SK_UNDELETED: return !(m->flags & IMAP_FLAG_DELETED);
    case IMAP_SK_UNDRAFT: return !(m->flags & IMAP_FLAG_DRAFT);
    case IMAP_SK_UNFLAGGED: return !(m->flags & IMAP_FLAG_FLAGGED);
    case IMAP_SK_UNSEEN: return !(m->flags & IMAP_FLAG_SEEN);
    /* RFC 3501 6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT. */
    case IMAP_SK_NEW: return (m->flags & IMAP_FLAG_RECENT) && !(m->flags & IMAP_FLAG_SEEN);
    case IMAP_SK_OLD: return !(m->flags & IMAP_FLAG_RECENT);
    /* The store keeps no keywords: no message has one. */
    case IMAP_SK_KEYWORD: return false;
    case IMAP_SK_UNKEYWORD: return true;
    case IMAP_SK_LARGER: return m->size > k->number;
    case IMAP_SK_SMALLER: return m->size < k->number;
    case IMAP_SK_BEFORE:
    case IMAP_SK_ON:
    case IMAP_SK_SINCE:
        return date_cmp(k->op, day_of(m->date, m->zone), key_day(&k->date));
    case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON:
    case IMAP_SK_SENTSINCE: {
        int64_t day;
        return sent_date(c, &day) && date_cmp(k->op, day, key_day(&k->date));
    }
    case IMAP_SK_FROM: return field_has(c, "From", 4, &k->str);
    case IMAP_SK_TO: return field_has(c, "To", 2, &k->str);
    case IMAP_SK_CC: return field_has(c, "Cc", 2, &k->str);
    case IMAP_SK_BCC: return field_has(c, "Bcc", 3, &k->str);
    case IMAP_SK_SUBJECT: return field_has(c, "Subject", 7, &k->str);
    case IMAP_SK_HEADER: return field_has(c, k->str.ptr, k->str.len, &k->str2);
    case IMAP_SK_BODY:
        parse_header(c);
        return contains(m->data + c->body_off, m->len - c->body_off, k->str.ptr, k->str.len);
    case IMAP_SK_TEXT: return contains(m->data, m->len, k->str.ptr, k->str.len);
    case IMAP_SK_COUNT: break;
    }
    EXPECT(!"search op out of range");
    return false;
}

/* The scratch's header, parsed from this message once. */
static const struct msg_header *parse_header(struct ctx *c)
{
    if (!c->parsed) {
        c->hdr = imap_scratch_header(c->sc, c->m->data, c->m->len);
        c->body_off = c->hdr->body_off;
        c->parsed = true;
    }
    return c->hdr;
}

bool imap_search_match(struct imap_scratch *sc, const struct imap_search_key *keys,
                       size_t nkeys, const struct imap_msgref *m, uint32_t max_seq,
                       uint32_t max_uid)
{
    if (nkeys == 0) return true;
    struct ctx c = {sc, keys, nkeys, m, max_seq, max_uid, false, NULL, 0};
    return eval(&c, 0);
}
