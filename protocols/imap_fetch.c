/* FETCH data for the IMAP server session (RFC 3501 6.4.5, 7.4.2): flags,
 * dates, ENVELOPE from the RFC 5322 header (msg.h), BODY/BODYSTRUCTURE from
 * the MIME tree (mime.h), BODY[section]<partial>. The wire form is written by
 * imap.h's FETCH response formatter; this file only gathers the values. */
#include "protocols/imap_server.h"

#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/mime.h"
#include "protocols/msg.h"

/* Unfolded header values and upper-cased MIME names of one message. A
 * header is at most MSG_MAX_HEADER octets, so one copy of it always fits;
 * the second half is for the names and encapsulated messages' headers. */
#define SC_ARENA (2 * MSG_MAX_HEADER)
/* Addresses in all the envelopes of one message: MSG_MAX_ADDRS per list,
 * six lists, for the top message and a few encapsulated ones. */
#define SC_ADDRS (8 * MSG_MAX_ADDRS)
/* BODY[HEADER.FIELDS ...] results of one FETCH command line: each is at
 * most one header section. */
#define SC_FIELDS (2 * MSG_MAX_HEADER)
/* Parameter strings: name and value per parameter, Content-Type and
 * Content-Disposition, per part. */
#define SC_PARAMS (MIME_MAX_PARTS * MIME_MAX_PARAMS * 4)
/* FETCH items of one response: the request's, a macro's expansion, and the
 * UID and FLAGS the server may add. */
#define SC_ATTS (IMAP_MAX_FETCH_ITEMS + 8)

struct imap_scratch {
    struct msg_header hdr;
    struct msg_addr_list list;
    struct mime_tree *tree;
    struct imap_address addrs[SC_ADDRS];
    size_t naddrs;
    struct imap_envelope envs[MIME_MAX_PARTS + 1];
    size_t nenvs;
    struct imap_body bodies[MIME_MAX_PARTS + 1];
    size_t nbodies;
    struct imap_str params[SC_PARAMS];
    size_t nparams;
    char arena[SC_ARENA];
    size_t arena_len;
    char fields[SC_FIELDS];
    size_t fields_len;
    struct imap_msg_att atts[SC_ATTS];
    struct imap_str flagstr[6];
    /* SEARCH (imap_search.c) matches against unfolded values here. */
    char value[MSG_MAX_HEADER + 1];
};

struct imap_scratch *imap_scratch_new(void)
{
    struct imap_scratch *sc = malloc(sizeof *sc);
    if (!sc) return NULL;
    sc->tree = mime_new();
    if (!sc->tree) {
        free(sc);
        return NULL;
    }
    return sc;
}

void imap_scratch_free(struct imap_scratch *sc)
{
    if (!sc) return;
    mime_free(sc->tree);
    free(sc);
}

const struct msg_header *imap_scratch_header(struct imap_scratch *sc, const char *msg, size_t len)
{
    (void)msg_parse_header(msg, len, &sc->hdr);
    return &sc->hdr;
}

/* ---- dates ------------------------------------------------------------ */

/* Days from 1970-01-01 to a civil date: the usual era arithmetic (400-year
 * cycles of 146097 days), no libc time functions (no TZ, no locale). */
int64_t imap_days_from_civil(int year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void imap_epoch_to_datetime(int64_t epoch, int zone, struct imap_datetime *dt)
{
    int64_t t = epoch + (int64_t)zone * 60;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    dt->date.year = (int)(yoe + era * 400 + (m <= 2));
    dt->date.month = (int)m;
    dt->date.day = (int)d;
    dt->hour = (int)(secs / 3600);
    dt->min = (int)(secs / 60 % 60);
    dt->sec = (int)(secs % 60);
    dt->zone = zone;
}

/* ---- strings kept for one response ------------------------------------ */

static struct imap_str nil_str(void)
{
    return (struct imap_str){NULL, 0, true};
}

/* A copy of s[0..n) in the arena, upper-cased when upper; NIL when the arena
 * is full (a value too big to show, not a failure of the command). */
static struct imap_str keep(struct imap_scratch *sc, const char *s, size_t n, bool upper)
{
    if (n > SC_ARENA - sc->arena_len) return nil_str();
    char *d = sc->arena + sc->arena_len;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (upper && c >= 'a' && c <= 'z') c = (char)(c - 32);
        d[i] = c;
    }
    sc->arena_len += n;
    return (struct imap_str){d, n, false};
}

static struct imap_str keep_cstr(struct imap_scratch *sc, const char *s, bool upper)
{
    return keep(sc, s, strlen(s), upper);
}

/* The first field called name, unfolded (RFC 5322 2.2.3); NIL when absent. */
static struct imap_str field(struct imap_scratch *sc, const char *name)
{
    int i = msg_header_find(&sc->hdr, name, 0);
    if (i < 0) return nil_str();
    size_t vlen, olen;
    const char *v = msg_field_value(&sc->hdr, (size_t)i, &vlen);
    if (msg_unfold(v, vlen, sc->value, sizeof sc->value, &olen) != MSG_OK) return nil_str();
    return keep(sc, sc->value, olen, false);
}

/* ---- ENVELOPE (RFC 3501 7.4.2) ---------------------------------------- */

/* The addresses of the first field called name; *n = 0 (written NIL) when
 * the field is absent, empty or unparsable before its first address. */
static const struct imap_address *addresses(struct imap_scratch *sc, const char *name, size_t *n)
{
    *n = 0;
    int i = msg_header_find(&sc->hdr, name, 0);
    if (i < 0) return NULL;
    size_t vlen, olen;
    const char *v = msg_field_value(&sc->hdr, (size_t)i, &vlen);
    if (msg_unfold(v, vlen, sc->value, sizeof sc->value, &olen) != MSG_OK) return NULL;
    /* On an error the entries before the bad one are complete: show them. */
    (void)msg_addr_parse_list(sc->value, olen, &sc->list);
    struct imap_address *first = sc->addrs + sc->naddrs;
    for (size_t k = 0; k < sc->list.n && sc->naddrs < SC_ADDRS; k++) {
        const struct msg_addr *a = &sc->list.addr[k];
        struct imap_address *d = &sc->addrs[sc->naddrs++];
        d->adl = nil_str(); /* source routes are not supported (msg.h) */
        /* RFC 3501 7.4.2: a group start is (NIL NIL "name" NIL), its end
         * (NIL NIL NIL NIL). */
        if (a->kind == MSG_ADDR_GROUP_START) {
            d->name = nil_str();
            d->mailbox = keep_cstr(sc, a->display, false);
            d->host = nil_str();
        } else if (a->kind == MSG_ADDR_GROUP_END) {
            d->name = d->mailbox = d->host = nil_str();
        } else {
            d->name = a->display[0] ? keep_cstr(sc, a->display, false) : nil_str();
            d->mailbox = keep_cstr(sc, a->local, false);
            d->host = keep_cstr(sc, a->domain, false);
        }
        (*n)++;
    }
    return *n ? first : NULL;
}

/* Fills e from the header section hdr[0..len). */
static void envelope(struct imap_scratch *sc, const char *hdr, size_t len, struct imap_envelope *e)
{
    /* A malformed line ends the header early; the fields before it count. */
    (void)msg_parse_header(hdr, len, &sc->hdr);
    e->date = field(sc, "Date");
    e->subject = field(sc, "Subject");
    e->from = addresses(sc, "From", &e->nfrom);
    e->sender = addresses(sc, "Sender", &e->nsender);
    e->reply_to = addresses(sc, "Reply-To", &e->nreply_to);
    e->to = addresses(sc, "To", &e->nto);
    e->cc = addresses(sc, "Cc", &e->ncc);
    e->bcc = addresses(sc, "Bcc", &e->nbcc);
    e->in_reply_to = field(sc, "In-Reply-To");
    e->message_id = field(sc, "Message-ID");
    /* RFC 3501 7.4.2: an absent or empty Sender or Reply-To is set to From. */
    if (e->nsender == 0) {
        e->sender = e->from;
        e->nsender = e->nfrom;
    }
    if (e->nreply_to == 0) {
        e->reply_to = e->from;
        e->nreply_to = e->nfrom;
    }
}

/* ---- BODY / BODYSTRUCTURE (RFC 3501 7.4.2) ---------------------------- */

static const struct imap_str *params(struct imap_scratch *sc, const struct mime_ctype *ct,
                                     size_t *n)
{
    *n = 0;
    if (ct->n_params * 2 > SC_PARAMS - sc->nparams) return NULL;
    struct imap_str *first = sc->params + sc->nparams;
    for (size_t i = 0; i < ct->n_params; i++) {
        /* Names upper-cased as UW imapd and the RFC 3501 section 8 sample
         * show them ("CHARSET"); values as written ("US-ASCII"). */
        sc->params[sc->nparams++] = keep_cstr(sc, ct->params[i].name, true);
        sc->params[sc->nparams++] = keep_cstr(sc, ct->params[i].value, false);
    }
    *n = ct->n_params * 2;
    return *n ? first : NULL;
}

static struct imap_str opt(struct imap_scratch *sc, const char *s)
{
    return s[0] ? keep_cstr(sc, s, false) : nil_str();
}

static void body(struct imap_scratch *sc, const char *msg, int idx, struct imap_body *b)
{
    const struct mime_part *p = mime_part(sc->tree, (size_t)idx);
    memset(b, 0, sizeof *b);
    b->type = keep_cstr(sc, p->ctype.type, true);
    b->subtype = keep_cstr(sc, p->ctype.subtype, true);
    b->params = params(sc, &p->ctype, &b->nparams);
    b->id = opt(sc, p->id);
    b->description = opt(sc, p->description);
    b->encoding = keep_cstr(sc, p->encoding, true);
    b->size = (uint32_t)p->body_len;
    b->lines = (uint32_t)p->body_lines;
    b->md5 = nil_str();
    b->disposition = nil_str();
    if (p->has_disposition && p->disposition.type[0]) {
        b->disposition = keep_cstr(sc, p->disposition.type, true);
        b->disp_params = params(sc, &p->disposition, &b->ndisp_params);
    }
    b->language = opt(sc, p->language);
    if (p->kind == MIME_KIND_MULTIPART && p->n_children > 0) {
        size_t n = (size_t)p->n_children;
        if (n > ARRAY_LEN(sc->bodies) - sc->nbodies) n = ARRAY_LEN(sc->bodies) - sc->nbodies;
        struct imap_body *kids = sc->bodies + sc->nbodies;
        sc->nbodies += n;
        size_t k = 0;
        for (int c = p->first_child; c >= 0 && k < n; c = mime_part(sc->tree, (size_t)c)->next_sibling)
            body(sc, msg, c, &kids[k++]);
        b->parts = kids;
        b->nparts = k;
    } else if (p->kind == MIME_KIND_MESSAGE && p->first_child >= 0
               && sc->nbodies < ARRAY_LEN(sc->bodies) && sc->nenvs < ARRAY_LEN(sc->envs)) {
        const struct mime_part *inner = mime_part(sc->tree, (size_t)p->first_child);
        struct imap_envelope *e = &sc->envs[sc->nenvs++];
        envelope(sc, msg + inner->header_off, inner->header_len, e);
        struct imap_body *ib = &sc->bodies[sc->nbodies++];
        body(sc, msg, p->first_child, ib);
        b->envelope = e;
        b->inner = ib;
    }
}

/* ---- BODY[section]<partial> (RFC 3501 6.4.5) -------------------------- */

/* Writes HEADER.FIELDS[.NOT] of the header hdr[0..len): the fields whose
 * names are (or are not) listed, as they are, then the empty line. */
static struct imap_str header_fields(struct imap_scratch *sc, const char *hdr, size_t len,
                                     const struct imap_section *sec)
{
    (void)msg_parse_header(hdr, len, &sc->hdr);
    char *start = sc->fields + sc->fields_len;
    size_t room = SC_FIELDS - sc->fields_len, used = 0;
    for (size_t i = 0; i < sc->hdr.n_fields; i++) {
        const struct msg_field *f = &sc->hdr.fields[i];
        bool listed = false;
        for (size_t k = 0; k < sec->nfields && !listed; k++)
            listed = sec->fields[k].len == f->name_len
                     && ascii_ncasecmp(sec->fields[k].ptr, hdr + f->name_off, f->name_len) == 0;
        if (listed != (sec->text == IMAP_SECTION_HEADER_FIELDS)) continue;
        if (f->len > room - used) return nil_str();
        memcpy(start + used, hdr + f->off, f->len);
        used += f->len;
    }
    if (2 > room - used) return nil_str();
    memcpy(start + used, "\r\n", 2);
    used += 2;
    sc->fields_len += used;
    return (struct imap_str){start, used, false};
}

/* The octets BODY[sec] names in message m; NIL when there is no such part. */
static struct imap_str section_data(struct imap_scratch *sc, const struct imap_msgref *m,
                                    const struct imap_section *sec)
{
    const char *msg = m->data;
    /* BODY[] and RFC822: the whole message, no MIME tree needed */
    if (sec->nparts == 0 && sec->text == IMAP_SECTION_NONE)
        return (struct imap_str){msg, m->len, false};
    int idx = 0;
    if (sec->nparts > 0) {
        char name[MIME_MAX_SECTION];
        size_t o = 0;
        for (size_t i = 0; i < sec->nparts; i++) {
            int w = snprintf(name + o, sizeof name - o, i ? ".%u" : "%u", (unsigned)sec->part[i]);
            if (w < 0 || (size_t)w >= sizeof name - o) return nil_str();
            o += (size_t)w;
        }
        idx = mime_find_section(sc->tree, name);
        if (idx < 0) return nil_str();
    }
    const struct mime_part *p = mime_part(sc->tree, (size_t)idx);
    if (sec->text == IMAP_SECTION_NONE) {
        /* BODY[1] of a single-part message is its body, which mime.h
         * already reports as part "1" of entity 0. */
        return (struct imap_str){msg + p->body_off, p->body_len, false};
    }
    if (sec->text == IMAP_SECTION_MIME)
        return (struct imap_str){msg + p->header_off, p->header_len, false};
    /* HEADER and TEXT of a part number mean the message inside a
     * message/rfc822 part (RFC 3501 6.4.5). */
    if (sec->nparts > 0) {
        if (p->kind != MIME_KIND_MESSAGE || p->first_child < 0) return nil_str();
        p = mime_part(sc->tree, (size_t)p->first_child);
    }
    if (sec->text == IMAP_SECTION_HEADER)
        return (struct imap_str){msg + p->header_off, p->header_len, false};
    if (sec->text == IMAP_SECTION_TEXT)
        return (struct imap_str){msg + p->body_off, p->body_len, false};
    return header_fields(sc, msg + p->header_off, p->header_len, sec);
}

/* RFC 3501 6.4.5: <origin.octets> returns at most octets from origin; an
 * origin past the end gives the empty string. */
static struct imap_str partial(struct imap_str s, const struct imap_fetch_att *a)
{
    if (!a->partial || s.nil) return s;
    if (a->origin >= s.len) return (struct imap_str){s.ptr, 0, false};
    s.ptr += a->origin;
    s.len -= a->origin;
    if (a->count < s.len) s.len = a->count;
    return s;
}

/* ---- the FETCH response ----------------------------------------------- */

bool imap_fetch_sets_seen(const struct imap_fetch_att *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum imap_fetch_item it = items[i].item;
        if ((it == IMAP_FETCH_BODY_SECTION && !items[i].peek) || it == IMAP_FETCH_RFC822
            || it == IMAP_FETCH_RFC822_TEXT)
            return true;
    }
    return false;
}

static size_t flag_strs(struct imap_str *out, unsigned flags)
{
    size_t n = 0;
    for (unsigned bit = IMAP_FLAG_SEEN; bit <= IMAP_FLAG_RECENT; bit <<= 1) {
        if (!(flags & bit)) continue;
        const char *name = imap_flag_name(bit);
        EXPECT(name != NULL);
        out[n++] = (struct imap_str){name, strlen(name), false};
    }
    return n;
}

void imap_fetch_flags(struct imap_out *o, unsigned flags)
{
    struct imap_str s[6];
    size_t n = flag_strs(s, flags);
    imap_out_atom_list(o, s, n);
}

/* Adds one simple item to the response being built. */
static struct imap_msg_att *att(struct imap_scratch *sc, size_t *n, enum imap_fetch_item item)
{
    EXPECT(*n < SC_ATTS);
    struct imap_msg_att *a = &sc->atts[(*n)++];
    memset(a, 0, sizeof *a);
    a->item = item;
    a->value = -1;
    return a;
}

static bool has_item(const struct imap_fetch_att *items, size_t n, enum imap_fetch_item it)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].item == it) return true;
    return false;
}

void imap_fetch_write(struct imap_out *o, struct imap_scratch *sc,
                      const struct imap_fetch_att *items, size_t n,
                      const struct imap_msgref *m, bool add_uid, bool add_flags,
                      bool add_modseq)
{
    sc->arena_len = 0;
    sc->naddrs = 0;
    sc->nenvs = 0;
    sc->nbodies = 0;
    sc->nparams = 0;
    sc->fields_len = 0;
    bool parsed = false;
    struct imap_envelope *env = NULL;
    struct imap_body *top = NULL;
    size_t na = 0;

    /* A macro stands alone (RFC 3501 6.4.5): expand it to its items. */
    struct imap_fetch_att macro[5];
    if (n == 1 && (items[0].item == IMAP_FETCH_ALL || items[0].item == IMAP_FETCH_FAST
                   || items[0].item == IMAP_FETCH_FULL)) {
        static const enum imap_fetch_item exp[] = {IMAP_FETCH_FLAGS, IMAP_FETCH_INTERNALDATE,
                                                   IMAP_FETCH_RFC822_SIZE, IMAP_FETCH_ENVELOPE,
                                                   IMAP_FETCH_BODY};
        size_t k = items[0].item == IMAP_FETCH_FAST ? 3 : items[0].item == IMAP_FETCH_ALL ? 4 : 5;
        memset(macro, 0, sizeof macro);
        for (size_t i = 0; i < k; i++) macro[i].item = exp[i];
        items = macro;
        n = k;
    }

    for (size_t i = 0; i < n && na < SC_ATTS - 3; i++) { /* room for UID FLAGS MODSEQ */
        const struct imap_fetch_att *it = &items[i];
        struct imap_msg_att *a;
        switch (it->item) {
        case IMAP_FETCH_FLAGS:
            a = att(sc, &na, IMAP_FETCH_FLAGS);
            a->nflags = flag_strs(sc->flagstr, m->flags);
            a->flags = sc->flagstr;
            break;
        case IMAP_FETCH_UID:
            att(sc, &na, IMAP_FETCH_UID)->number = m->uid;
            break;
        case IMAP_FETCH_INTERNALDATE:
            a = att(sc, &na, IMAP_FETCH_INTERNALDATE);
            imap_epoch_to_datetime(m->date, m->zone, &a->date);
            break;
        case IMAP_FETCH_RFC822_SIZE:
            att(sc, &na, IMAP_FETCH_RFC822_SIZE)->number = m->size;
            break;
        case IMAP_FETCH_MODSEQ: /* RFC 7162 3.1.4.1 */
            if (m->modseq) att(sc, &na, IMAP_FETCH_MODSEQ)->modseq = m->modseq;
            break;
        case IMAP_FETCH_ENVELOPE:
            if (!env && sc->nenvs < ARRAY_LEN(sc->envs)) {
                env = &sc->envs[sc->nenvs++];
                envelope(sc, m->data, m->len, env);
            }
            att(sc, &na, IMAP_FETCH_ENVELOPE)->envelope = env;
            break;
        case IMAP_FETCH_BODY:
        case IMAP_FETCH_BODYSTRUCTURE:
            if (!parsed) {
                (void)mime_parse(sc->tree, m->data, m->len); /* always usable */
                parsed = true;
            }
            if (!top && sc->nbodies < ARRAY_LEN(sc->bodies)) {
                top = &sc->bodies[sc->nbodies++];
                body(sc, m->data, 0, top);
            }
            att(sc, &na, it->item)->body = top;
            break;
        case IMAP_FETCH_RFC822:
        case IMAP_FETCH_RFC822_HEADER:
        case IMAP_FETCH_RFC822_TEXT:
        case IMAP_FETCH_BODY_SECTION: {
            struct imap_section sec = it->section;
            if (it->item != IMAP_FETCH_BODY_SECTION) {
                memset(&sec, 0, sizeof sec);
                sec.text = it->item == IMAP_FETCH_RFC822_HEADER ? IMAP_SECTION_HEADER
                           : it->item == IMAP_FETCH_RFC822_TEXT ? IMAP_SECTION_TEXT
                                                                : IMAP_SECTION_NONE;
            }
            /* the whole message (BODY[], RFC822) is its octets as they are:
             * a sync downloading every message parses none of them */
            if (!parsed && (sec.nparts > 0 || sec.text != IMAP_SECTION_NONE)) {
                (void)mime_parse(sc->tree, m->data, m->len);
                parsed = true;
            }
            a = att(sc, &na, it->item);
            a->section = it->section;
            a->data = partial(section_data(sc, m, &sec), it);
            a->has_origin = it->partial;
            a->origin = it->origin;
            break;
        }
        default: /* ALL FAST FULL inside a list: the parser refuses those */
            break;
        }
    }
    if (add_uid && !has_item(items, n, IMAP_FETCH_UID))
        att(sc, &na, IMAP_FETCH_UID)->number = m->uid;
    if (add_flags && !has_item(items, n, IMAP_FETCH_FLAGS)) {
        struct imap_msg_att *a = att(sc, &na, IMAP_FETCH_FLAGS);
        a->nflags = flag_strs(sc->flagstr, m->flags);
        a->flags = sc->flagstr;
    }
    if (add_modseq && m->modseq && !has_item(items, n, IMAP_FETCH_MODSEQ))
        att(sc, &na, IMAP_FETCH_MODSEQ)->modseq = m->modseq;

    struct imap_response r;
    memset(&r, 0, sizeof r);
    r.kind = IMAP_RESP_FETCH;
    r.number = m->seq;
    r.atts = sc->atts;
    r.natts = na;
    imap_out_response(o, &r);
}
