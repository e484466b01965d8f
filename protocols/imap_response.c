/* IMAP4rev1 responses (RFC 3501 7 and 9, UIDPLUS RFC 4315): the client's
 * reader and the server's formatter. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/imap_lex.h"

const char *const imap_resp_kind_names[IMAP_RESP_KIND_COUNT] = {
    "TAGGED", "STATE", "CONTINUE", "CAPABILITY", "FLAGS", "LIST",  "LSUB",
    "SEARCH", "STATUS", "EXISTS",  "RECENT",     "EXPUNGE", "FETCH",
};

const char *const imap_status_names[IMAP_STATUS_KIND_COUNT] = {
    "OK", "NO", "BAD", "PREAUTH", "BYE",
};

const char *const imap_code_names[IMAP_CODE_COUNT] = {
    "",          "ALERT",      "BADCHARSET",  "CAPABILITY", "PARSE",     "PERMANENTFLAGS",
    "READ-ONLY", "READ-WRITE", "TRYCREATE",   "UIDNEXT",    "UIDVALIDITY", "UNSEEN",
    "APPENDUID", "COPYUID",    "UIDNOTSTICKY", "TOOBIG",    "HIGHESTMODSEQ", "NOMODSEQ",
    "",
};

const char *const imap_rd_ev_names[IMAP_RD_EV_COUNT] = {"NEED_MORE", "RESPONSE", "ERROR"};

struct imap_resp_reader {
    struct imap_frame   f;
    struct imap_lex     L;
    bool                nomem; /* sticky until reset */
    size_t              max_literal;
    struct imap_msg_att atts[IMAP_MAX_FETCH_ITEMS];
    size_t              natts;
    struct imap_value   values[IMAP_MAX_VALUES];
    size_t              nvalues;
    uint32_t            numbers[IMAP_MAX_NUMBERS];
    size_t              nnumbers;
    struct imap_str     strs[IMAP_MAX_STRINGS];
    struct imap_range   ranges[IMAP_MAX_RANGES];
    char                arena[IMAP_MAX_TEXT];
};

/* ---- grammar ------------------------------------------------------------ */

static void fail(struct imap_lex *L, enum imap_err e)
{
    imap_lex_fail(L, e);
}

/* RFC 3501 9 resp-text-code. A code that is wrong anywhere inside its
 * brackets is reported as IMAP_ERR_RESP_CODE. */
static void resp_code(struct imap_lex *L, struct imap_resp_code *rc)
{
    L->fail_as = IMAP_ERR_RESP_CODE;
    struct imap_str name;
    imap_lex_atom(L, &name, false, false);
    int code = IMAP_CODE_OTHER;
    for (int i = IMAP_CODE_ALERT; i < IMAP_CODE_OTHER; i++)
        if (ascii_eq(name.ptr, name.len, imap_code_names[i])) {
            code = i; /* the names are distinct: the first match is the one */
            break;
        }
    rc->code = (enum imap_code)code;
    switch (rc->code) {
    case IMAP_CODE_BADCHARSET:
        if (imap_lex_eat(L, ' ')) {
            imap_lex_open(L);
            size_t first = L->nstrs;
            do {
                imap_lex_astring(L, imap_lex_new_str(L));
            } while (imap_lex_eat(L, ' '));
            imap_lex_close(L);
            rc->atoms = &L->strs[first];
            rc->natoms = L->nstrs - first;
        }
        break;
    case IMAP_CODE_CAPABILITY: {
        size_t first = L->nstrs;
        while (imap_lex_eat(L, ' ')) imap_lex_atom(L, imap_lex_new_str(L), false, false);
        rc->atoms = &L->strs[first];
        rc->natoms = L->nstrs - first;
        break;
    }
    case IMAP_CODE_PERMANENTFLAGS:
        imap_lex_sp(L);
        imap_lex_flag_list(L, &rc->atoms, &rc->natoms, true, true);
        break;
    case IMAP_CODE_UIDNEXT: case IMAP_CODE_UIDVALIDITY: case IMAP_CODE_UNSEEN:
        imap_lex_sp(L);
        rc->n1 = imap_lex_nz_number(L);
        break;
    case IMAP_CODE_HIGHESTMODSEQ: /* RFC 7162 3.1.2.1: mod-sequence-value */
        imap_lex_sp(L);
        rc->modseq = imap_lex_modseq(L, false);
        break;
    case IMAP_CODE_APPENDUID: /* RFC 4315 3: uidvalidity and the new UID */
        imap_lex_sp(L);
        rc->n1 = imap_lex_nz_number(L);
        imap_lex_sp(L);
        rc->n2 = imap_lex_nz_number(L);
        break;
    case IMAP_CODE_COPYUID: /* RFC 4315 3: uidvalidity, source and new UIDs */
        imap_lex_sp(L);
        rc->n1 = imap_lex_nz_number(L);
        imap_lex_sp(L);
        imap_lex_seqset(L, &rc->set1, false);
        imap_lex_sp(L);
        imap_lex_seqset(L, &rc->set2, false);
        break;
    case IMAP_CODE_OTHER: { /* atom [SP 1*<any TEXT-CHAR except "]">] */
        rc->name = name;
        if (imap_lex_eat(L, ' ')) {
            size_t start = L->pos;
            while (L->pos < L->len && L->s[L->pos] != ']' && L->s[L->pos] != '\r') L->pos++;
            if (L->pos == start) fail(L, IMAP_ERR_RESP_CODE);
            rc->arg.ptr = L->s + start;
            rc->arg.len = L->pos - start;
        }
        break;
    }
    default: break;
    }
    imap_lex_expect(L, ']', IMAP_ERR_RESP_CODE);
    L->fail_as = IMAP_ERR_NONE;
}

/* RFC 3501 9: resp-text = ["[" resp-text-code "]" SP] text. Servers that
 * send no text after the code or the status ("A1 OK") are forgiven. */
static void resp_text(struct imap_lex *L, struct imap_response *r)
{
    r->text.ptr = L->s + L->pos;
    if (imap_lex_at_end(L)) return;
    imap_lex_sp(L);
    if (imap_lex_eat(L, '[')) {
        resp_code(L, &r->code);
        r->text.ptr = L->s + L->pos;
        if (imap_lex_at_end(L)) return;
        imap_lex_sp(L);
    }
    imap_lex_text(L, &r->text);
}

static int new_value(struct imap_resp_reader *rd)
{
    if (rd->nvalues >= IMAP_MAX_VALUES) fail(&rd->L, IMAP_ERR_TOO_MANY);
    struct imap_value *v = &rd->values[rd->nvalues];
    memset(v, 0, sizeof *v);
    v->first_child = -1;
    v->next_sibling = -1;
    return (int)rd->nvalues++;
}

/* A generic value as ENVELOPE and BODYSTRUCTURE are made of (RFC 3501 9):
 * lists, nstrings, numbers, atoms. */
static int value(struct imap_resp_reader *rd)
{
    struct imap_lex *L = &rd->L;
    int i = new_value(rd);
    int c = imap_lex_peek(L);
    if (c == '(') {
        imap_lex_open(L);
        rd->values[i].type = IMAP_V_LIST;
        int last = -1;
        bool joined = false;
        while (imap_lex_peek(L) != ')') {
            int k = value(rd);
            rd->values[k].no_space = joined;
            if (last < 0)
                rd->values[i].first_child = k;
            else
                rd->values[last].next_sibling = k;
            last = k;
            joined = false;
            if (imap_lex_peek(L) == ')') break;
            /* "1*body" and "1*address" put lists side by side. */
            if (rd->values[k].type == IMAP_V_LIST && imap_lex_peek(L) == '(')
                joined = true;
            else
                imap_lex_sp(L);
        }
        imap_lex_close(L);
    } else if (c == '"' || c == '{') {
        rd->values[i].type = IMAP_V_STRING;
        imap_lex_string(L, &rd->values[i].str);
    } else if (c >= '0' && c <= '9') {
        rd->values[i].type = IMAP_V_NUMBER;
        rd->values[i].number = imap_lex_number(L);
    } else {
        struct imap_str a;
        imap_lex_atom(L, &a, true, false);
        if (ascii_eq(a.ptr, a.len, "NIL")) {
            rd->values[i].type = IMAP_V_NIL;
            rd->values[i].str.nil = true;
        } else {
            rd->values[i].type = IMAP_V_ATOM;
            rd->values[i].str = a;
        }
    }
    return i;
}

/* RFC 3501 9 msg-att. */
static void msg_att(struct imap_resp_reader *rd, struct imap_msg_att *a)
{
    struct imap_lex *L = &rd->L;
    memset(a, 0, sizeof *a);
    a->value = -1;
    const char *w;
    size_t n = imap_lex_name(L, &w);
    int item = -1;
    for (int i = IMAP_FETCH_ENVELOPE; i < IMAP_FETCH_COUNT; i++)
        if (i != IMAP_FETCH_BODY_SECTION && ascii_eq(w, n, imap_fetch_item_names[i])) {
            item = i; /* the names are distinct: the first match is the one */
            break;
        }
    if (item < 0) fail(L, IMAP_ERR_FETCH_ATT);
    a->item = (enum imap_fetch_item)item;
    if (a->item == IMAP_FETCH_BODY && imap_lex_peek(L) == '[') {
        a->item = IMAP_FETCH_BODY_SECTION;
        imap_lex_section(L, &a->section);
        if (imap_lex_eat(L, '<')) { /* "<" number ">" */
            a->has_origin = true;
            a->origin = imap_lex_number_as(L, IMAP_ERR_PARTIAL);
            imap_lex_expect(L, '>', IMAP_ERR_PARTIAL);
        }
    }
    imap_lex_sp(L);
    switch (a->item) {
    case IMAP_FETCH_FLAGS: /* flag-fetch = flag / "\Recent" */
        imap_lex_flag_list(L, &a->flags, &a->nflags, false, true);
        break;
    case IMAP_FETCH_UID: a->number = imap_lex_nz_number(L); break;
    case IMAP_FETCH_RFC822_SIZE: a->number = imap_lex_number(L); break;
    case IMAP_FETCH_MODSEQ: /* RFC 7162 3.1.4.1: "MODSEQ" SP "(" value ")" */
        imap_lex_open(L);
        a->modseq = imap_lex_modseq(L, false);
        imap_lex_close(L);
        break;
    case IMAP_FETCH_INTERNALDATE: imap_lex_datetime(L, &a->date); break;
    case IMAP_FETCH_ENVELOPE: case IMAP_FETCH_BODY: case IMAP_FETCH_BODYSTRUCTURE:
        if (imap_lex_peek(L) != '(') fail(L, IMAP_ERR_SYNTAX);
        a->value = value(rd);
        break;
    case IMAP_FETCH_BODY_SECTION: case IMAP_FETCH_RFC822: case IMAP_FETCH_RFC822_HEADER:
    case IMAP_FETCH_RFC822_TEXT:
        imap_lex_nstring(L, &a->data);
        break;
    default: fail(L, IMAP_ERR_FETCH_ATT);
    }
}

static bool word(const char *w, size_t n, const char *kw)
{
    return ascii_eq(w, n, kw);
}

static int status_word(const char *w, size_t n)
{
    for (int i = 0; i < IMAP_STATUS_KIND_COUNT; i++)
        if (word(w, n, imap_status_names[i])) return i;
    return -1;
}

static void untagged_data(struct imap_resp_reader *rd, struct imap_response *r)
{
    struct imap_lex *L = &rd->L;
    const char *w;
    int c = imap_lex_peek(L);
    if (c >= '0' && c <= '9') { /* message-data and EXISTS / RECENT */
        r->number = imap_lex_number(L);
        imap_lex_sp(L);
        size_t n = imap_lex_name(L, &w);
        if (word(w, n, "EXISTS")) {
            r->kind = IMAP_RESP_EXISTS;
        } else if (word(w, n, "RECENT")) {
            r->kind = IMAP_RESP_RECENT;
        } else if (word(w, n, "EXPUNGE") || word(w, n, "FETCH")) {
            r->kind = word(w, n, "FETCH") ? IMAP_RESP_FETCH : IMAP_RESP_EXPUNGE;
            if (r->number == 0) fail(L, IMAP_ERR_NUMBER); /* nz-number */
        } else {
            fail(L, IMAP_ERR_RESPONSE);
        }
        if (r->kind != IMAP_RESP_FETCH) return;
        imap_lex_sp(L);
        if (imap_lex_peek(L) != '(') fail(L, IMAP_ERR_SYNTAX);
        imap_lex_open(L);
        do {
            if (rd->natts >= IMAP_MAX_FETCH_ITEMS) fail(L, IMAP_ERR_TOO_MANY);
            msg_att(rd, &rd->atts[rd->natts++]);
        } while (imap_lex_eat(L, ' '));
        imap_lex_close(L);
        r->atts = rd->atts;
        r->natts = rd->natts;
        r->values = rd->values;
        r->nvalues = rd->nvalues;
        return;
    }
    size_t n = imap_lex_name(L, &w);
    int st = status_word(w, n);
    if (st >= 0) { /* resp-cond-state, resp-cond-auth, resp-cond-bye */
        r->kind = IMAP_RESP_STATE;
        r->status = (enum imap_status)st;
        resp_text(L, r);
        return;
    }
    if (word(w, n, "CAPABILITY")) {
        r->kind = IMAP_RESP_CAPABILITY;
        size_t first = L->nstrs;
        while (imap_lex_eat(L, ' ')) imap_lex_atom(L, imap_lex_new_str(L), false, false);
        r->atoms = &L->strs[first];
        r->natoms = L->nstrs - first;
    } else if (word(w, n, "FLAGS")) {
        r->kind = IMAP_RESP_FLAGS;
        imap_lex_sp(L);
        imap_lex_flag_list(L, &r->atoms, &r->natoms, false, true);
    } else if (word(w, n, "LIST") || word(w, n, "LSUB")) {
        /* mailbox-list = "(" [mbx-list-flags] ")" SP
         * (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox */
        r->kind = word(w, n, "LIST") ? IMAP_RESP_LIST : IMAP_RESP_LSUB;
        imap_lex_sp(L);
        imap_lex_flag_list(L, &r->atoms, &r->natoms, false, true);
        imap_lex_sp(L);
        struct imap_str d;
        if (imap_lex_peek(L) != '"' && imap_lex_peek(L) != 'N' && imap_lex_peek(L) != 'n')
            fail(L, IMAP_ERR_SYNTAX);
        imap_lex_nstring(L, &d);
        if (!d.nil && d.len != 1) fail(L, IMAP_ERR_SYNTAX);
        r->delimiter = d.nil ? -1 : (unsigned char)d.ptr[0];
        imap_lex_sp(L);
        imap_lex_mailbox(L, &r->mailbox);
    } else if (word(w, n, "SEARCH")) {
        r->kind = IMAP_RESP_SEARCH;
        while (imap_lex_eat(L, ' ')) {
            if (rd->nnumbers >= IMAP_MAX_NUMBERS) fail(L, IMAP_ERR_TOO_MANY);
            rd->numbers[rd->nnumbers++] = imap_lex_nz_number(L);
        }
        r->numbers = rd->numbers;
        r->nnumbers = rd->nnumbers;
    } else if (word(w, n, "STATUS")) {
        /* "STATUS" SP mailbox SP "(" [status-att-list] ")" */
        r->kind = IMAP_RESP_STATUS;
        imap_lex_sp(L);
        imap_lex_mailbox(L, &r->mailbox);
        imap_lex_sp(L);
        imap_lex_open(L);
        while (imap_lex_peek(L) != ')') {
            size_t k = imap_lex_name(L, &w);
            int item = -1;
            for (int i = 0; i < IMAP_STATUS_COUNT && k; i++)
                if (word(w, k, imap_status_item_names[i])) item = i;
            if (item < 0) fail(L, IMAP_ERR_STATUS_ITEM);
            imap_lex_sp(L);
            r->status_items |= IMAP_STATUS_BIT(item);
            r->status_values[item] = imap_lex_number(L);
            if (imap_lex_peek(L) != ')') imap_lex_sp(L);
        }
        imap_lex_close(L);
    } else {
        fail(L, IMAP_ERR_RESPONSE);
    }
}

static void parse(struct imap_resp_reader *rd, struct imap_response *r)
{
    struct imap_lex *L = &rd->L;
    rd->natts = rd->nvalues = rd->nnumbers = 0;
    if (imap_lex_eat(L, '+')) { /* continue-req = "+" SP (resp-text / base64) */
        r->kind = IMAP_RESP_CONTINUE;
        r->text.ptr = L->s + L->pos;
        if (!imap_lex_at_end(L)) { /* a bare "+" is forgiven */
            imap_lex_sp(L);
            imap_lex_text(L, &r->text);
        }
    } else if (imap_lex_eat(L, '*')) {
        imap_lex_sp(L);
        untagged_data(rd, r);
    } else {
        imap_lex_tag(L, r->tag);
        imap_lex_sp(L);
        const char *w;
        size_t n = imap_lex_name(L, &w);
        int st = status_word(w, n);
        if (st < 0 || st > IMAP_BAD) fail(L, IMAP_ERR_RESPONSE);
        r->kind = IMAP_RESP_TAGGED;
        r->status = (enum imap_status)st;
        resp_text(L, r);
    }
    imap_lex_crlf(L);
}

static enum imap_err run(struct imap_resp_reader *rd, struct imap_response *r)
{
    memset(r, 0, sizeof *r);
    r->delimiter = -1;
    imap_lex_begin(&rd->L, rd->f.buf, rd->f.len, false);
    if (setjmp(rd->L.jb)) return rd->L.err;
    parse(rd, r);
    return IMAP_ERR_NONE;
}

/* ---- the reader's life -------------------------------------------------- */

struct imap_resp_reader *imap_resp_reader_new(size_t max_literal)
{
    /* the attribute, value, number, string, range and text tables (most
     * of the size) are scratch filled before they are read; clearing them
     * cost more than a short session's whole work */
    struct imap_resp_reader *rd = malloc(sizeof *rd);
    if (!rd) return NULL;
    memset(rd, 0, offsetof(struct imap_resp_reader, atts));
    rd->natts = rd->nvalues = rd->nnumbers = 0;
    rd->max_literal = max_literal ? max_literal : IMAP_DEFAULT_MAX_LITERAL;
    if (rd->max_literal > UINT32_MAX) rd->max_literal = UINT32_MAX; /* RFC 3501 9: number is 32-bit */
    /* A server sends a literal's octets without waiting (RFC 3501 4.3). */
    if (imap_frame_init(&rd->f, rd->max_literal, false) < 0) {
        imap_resp_reader_free(rd);
        return NULL;
    }
    rd->L.arena = rd->arena;
    rd->L.arena_cap = sizeof rd->arena;
    rd->L.strs = rd->strs;
    rd->L.max_strs = IMAP_MAX_STRINGS;
    rd->L.ranges = rd->ranges;
    rd->L.max_ranges = IMAP_MAX_RANGES;
    return rd;
}

void imap_resp_reader_free(struct imap_resp_reader *rd)
{
    if (!rd) return;
    imap_frame_free(&rd->f);
    free(rd);
}

void imap_resp_reader_reset(struct imap_resp_reader *rd)
{
    imap_frame_reset(&rd->f);
    rd->nomem = false;
}

size_t imap_resp_reader_feed(struct imap_resp_reader *rd, const char *in, size_t n)
{
    return imap_frame_feed(&rd->f, in, n);
}

size_t imap_resp_reader_pending(const struct imap_resp_reader *rd)
{
    return imap_frame_pending(&rd->f);
}

static enum imap_rd_ev bad(struct imap_response *r, enum imap_err e)
{
    memset(r, 0, sizeof *r);
    r->delimiter = -1;
    r->error = e;
    return IMAP_RD_ERROR;
}

enum imap_rd_ev imap_resp_reader_next(struct imap_resp_reader *rd, struct imap_response *r)
{
    for (;;) {
        if (rd->nomem) return bad(r, IMAP_ERR_NOMEM);
        switch (imap_frame_next(&rd->f)) {
        case IMAP_FRAME_NEED_MORE: return IMAP_RD_NEED_MORE;
        case IMAP_FRAME_NOMEM: rd->nomem = true; continue;
        case IMAP_FRAME_TOO_LONG:
            imap_frame_discard(&rd->f);
            return bad(r, IMAP_ERR_TOO_LONG);
        case IMAP_FRAME_LITERAL: {
            enum imap_err e = IMAP_ERR_NONE;
            if (rd->f.lit_n > rd->max_literal || rd->f.lit_n > rd->max_literal - rd->f.lit_total)
                e = IMAP_ERR_LITERAL_TOO_BIG;
            else if (rd->f.nlits >= IMAP_MAX_LITERALS)
                e = IMAP_ERR_TOO_MANY;
            if (e != IMAP_ERR_NONE) {
                imap_frame_discard(&rd->f); /* its octets and the rest */
                return bad(r, e);
            }
            if (imap_frame_accept(&rd->f) < 0) rd->nomem = true;
            continue;
        }
        case IMAP_FRAME_COMPLETE: {
            enum imap_err e = run(rd, r);
            if (e != IMAP_ERR_NONE) return bad(r, e);
            return IMAP_RD_RESPONSE;
        }
        }
    }
}

/* ---- formatter (server side) -------------------------------------------- */

static bool valid_tag(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > IMAP_MAX_TAG) return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] == '+' || !(imap_is_atom_char((unsigned char)t[i]) || t[i] == ']')) return false;
    return true;
}

static bool atom_text(const struct imap_str *s)
{
    if (!s->ptr || s->len == 0) return false;
    for (size_t i = 0; i < s->len; i++)
        if (!imap_is_atom_char((unsigned char)s->ptr[i])) return false;
    return true;
}

static void code_out(struct imap_out *o, const struct imap_resp_code *c)
{
    if ((unsigned)c->code >= IMAP_CODE_COUNT) {
        o->invalid = true;
        return;
    }
    if (c->code == IMAP_CODE_NONE) return;
    imap_out_raw(o, " [", 2);
    if (c->code == IMAP_CODE_OTHER) {
        if (!atom_text(&c->name)) o->invalid = true;
        imap_out_raw(o, c->name.ptr, c->name.len);
        if (c->arg.len) {
            for (size_t i = 0; i < c->arg.len; i++)
                if (c->arg.ptr[i] == ']' || c->arg.ptr[i] == '\r' || c->arg.ptr[i] == '\n')
                    o->invalid = true;
            imap_out_raw(o, " ", 1);
            imap_out_raw(o, c->arg.ptr, c->arg.len);
        }
        imap_out_raw(o, "]", 1);
        return;
    }
    imap_out_cstr(o, imap_code_names[c->code]);
    switch (c->code) {
    case IMAP_CODE_BADCHARSET:
        if (c->natoms) {
            imap_out_raw(o, " (", 2);
            for (size_t i = 0; i < c->natoms; i++) {
                if (i) imap_out_raw(o, " ", 1);
                imap_out_astring(o, c->atoms[i].ptr, c->atoms[i].len);
            }
            imap_out_raw(o, ")", 1);
        }
        break;
    case IMAP_CODE_CAPABILITY:
        for (size_t i = 0; i < c->natoms; i++) {
            if (!atom_text(&c->atoms[i])) o->invalid = true;
            imap_out_raw(o, " ", 1);
            imap_out_raw(o, c->atoms[i].ptr, c->atoms[i].len);
        }
        break;
    case IMAP_CODE_PERMANENTFLAGS:
        imap_out_raw(o, " ", 1);
        imap_out_atom_list(o, c->atoms, c->natoms);
        break;
    case IMAP_CODE_UIDNEXT: case IMAP_CODE_UIDVALIDITY: case IMAP_CODE_UNSEEN:
        if (c->n1 == 0) o->invalid = true;
        imap_out_raw(o, " ", 1);
        imap_out_number(o, c->n1);
        break;
    case IMAP_CODE_HIGHESTMODSEQ:
        if (c->modseq == 0 || c->modseq > IMAP_MODSEQ_MAX) o->invalid = true;
        imap_out_raw(o, " ", 1);
        imap_out_number(o, c->modseq);
        break;
    case IMAP_CODE_APPENDUID:
        if (c->n1 == 0 || c->n2 == 0) o->invalid = true;
        imap_out_raw(o, " ", 1);
        imap_out_number(o, c->n1);
        imap_out_raw(o, " ", 1);
        imap_out_number(o, c->n2);
        break;
    case IMAP_CODE_COPYUID:
        if (c->n1 == 0) o->invalid = true;
        imap_out_raw(o, " ", 1);
        imap_out_number(o, c->n1);
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &c->set1);
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &c->set2);
        for (size_t i = 0; i < c->set1.n; i++)
            if (c->set1.ranges[i].lo == IMAP_STAR || c->set1.ranges[i].hi == IMAP_STAR)
                o->invalid = true; /* RFC 4315 4 uid-set has no "*" */
        for (size_t i = 0; i < c->set2.n; i++)
            if (c->set2.ranges[i].lo == IMAP_STAR || c->set2.ranges[i].hi == IMAP_STAR)
                o->invalid = true;
        break;
    default: break;
    }
    imap_out_raw(o, "]", 1);
}

/* " [code] text": text must be one line. */
static void text_out(struct imap_out *o, const struct imap_response *r)
{
    code_out(o, &r->code);
    if (r->text.len == 0) return;
    if (memchr(r->text.ptr, '\r', r->text.len) || memchr(r->text.ptr, '\n', r->text.len) ||
        memchr(r->text.ptr, 0, r->text.len))
        o->invalid = true;
    imap_out_raw(o, " ", 1);
    imap_out_raw(o, r->text.ptr, r->text.len);
}

static void att_out(struct imap_out *o, const struct imap_response *r, const struct imap_msg_att *a)
{
    if ((unsigned)a->item >= IMAP_FETCH_COUNT || a->item <= IMAP_FETCH_FULL) {
        o->invalid = true;
        return;
    }
    if (a->item == IMAP_FETCH_BODY_SECTION) {
        imap_out_raw(o, "BODY", 4);
        imap_out_section(o, &a->section);
        if (a->has_origin) {
            imap_out_raw(o, "<", 1);
            imap_out_number(o, a->origin);
            imap_out_raw(o, ">", 1);
        }
    } else {
        imap_out_cstr(o, imap_fetch_item_names[a->item]);
    }
    imap_out_raw(o, " ", 1);
    switch (a->item) {
    case IMAP_FETCH_FLAGS: imap_out_atom_list(o, a->flags, a->nflags); break;
    case IMAP_FETCH_UID:
        if (a->number == 0) o->invalid = true;
        imap_out_number(o, a->number);
        break;
    case IMAP_FETCH_RFC822_SIZE: imap_out_number(o, a->number); break;
    case IMAP_FETCH_MODSEQ:
        if (a->modseq == 0 || a->modseq > IMAP_MODSEQ_MAX) o->invalid = true;
        imap_out_raw(o, "(", 1);
        imap_out_number(o, a->modseq);
        imap_out_raw(o, ")", 1);
        break;
    case IMAP_FETCH_INTERNALDATE: imap_out_datetime(o, &a->date); break;
    case IMAP_FETCH_ENVELOPE:
        if (a->envelope)
            imap_out_envelope(o, a->envelope);
        else if (a->value >= 0 && (size_t)a->value < r->nvalues)
            imap_out_value(o, r->values, a->value);
        else
            o->invalid = true;
        break;
    case IMAP_FETCH_BODY: case IMAP_FETCH_BODYSTRUCTURE:
        if (a->body)
            imap_out_body(o, a->body, a->item == IMAP_FETCH_BODYSTRUCTURE);
        else if (a->value >= 0 && (size_t)a->value < r->nvalues)
            imap_out_value(o, r->values, a->value);
        else
            o->invalid = true;
        break;
    default: imap_out_nstring(o, &a->data); break;
    }
}

void imap_out_response(struct imap_out *o, const struct imap_response *r)
{
    switch (r->kind) {
    case IMAP_RESP_TAGGED:
        if (!valid_tag(r->tag) || (unsigned)r->status > IMAP_BAD) o->invalid = true;
        imap_out_cstr(o, r->tag);
        imap_out_raw(o, " ", 1);
        imap_out_cstr(o, imap_status_names[r->status > IMAP_BAD ? IMAP_BAD : r->status]);
        text_out(o, r);
        break;
    case IMAP_RESP_STATE:
        if ((unsigned)r->status >= IMAP_STATUS_KIND_COUNT) {
            o->invalid = true;
            return;
        }
        imap_out_raw(o, "* ", 2);
        imap_out_cstr(o, imap_status_names[r->status]);
        text_out(o, r);
        break;
    case IMAP_RESP_CONTINUE:
        if (memchr(r->text.ptr ? r->text.ptr : "", '\n', r->text.len) ||
            memchr(r->text.ptr ? r->text.ptr : "", '\r', r->text.len))
            o->invalid = true;
        imap_out_raw(o, "+ ", 2);
        imap_out_raw(o, r->text.ptr, r->text.len);
        break;
    case IMAP_RESP_CAPABILITY:
        imap_out_cstr(o, "* CAPABILITY");
        for (size_t i = 0; i < r->natoms; i++) {
            if (!atom_text(&r->atoms[i])) o->invalid = true;
            imap_out_raw(o, " ", 1);
            imap_out_raw(o, r->atoms[i].ptr, r->atoms[i].len);
        }
        break;
    case IMAP_RESP_FLAGS:
        imap_out_cstr(o, "* FLAGS ");
        imap_out_atom_list(o, r->atoms, r->natoms);
        break;
    case IMAP_RESP_LIST: case IMAP_RESP_LSUB:
        imap_out_cstr(o, r->kind == IMAP_RESP_LIST ? "* LIST " : "* LSUB ");
        imap_out_atom_list(o, r->atoms, r->natoms);
        if (r->delimiter < 0) {
            imap_out_raw(o, " NIL ", 5);
        } else {
            /* DQUOTE QUOTED-CHAR DQUOTE: '"' and '\' escaped */
            char d[4] = {'"', '\\', (char)r->delimiter, '"'};
            bool esc = r->delimiter == '"' || r->delimiter == '\\';
            /* RFC 3501 9: QUOTED-CHAR is any TEXT-CHAR (CHAR, %x01-7F, but
             * CR and LF), so a control character is a legal delimiter and
             * the reader takes it; only what no quoted string can hold is
             * refused. */
            if (r->delimiter == 0 || r->delimiter > 0x7f || r->delimiter == '\r' ||
                r->delimiter == '\n')
                o->invalid = true;
            imap_out_raw(o, " ", 1);
            if (esc) {
                imap_out_raw(o, d, 4);
            } else {
                imap_out_raw(o, d, 1);
                imap_out_raw(o, d + 2, 2);
            }
            imap_out_raw(o, " ", 1);
        }
        imap_out_astring(o, r->mailbox.ptr ? r->mailbox.ptr : "", r->mailbox.len);
        break;
    case IMAP_RESP_SEARCH:
        imap_out_cstr(o, "* SEARCH");
        for (size_t i = 0; i < r->nnumbers; i++) {
            if (r->numbers[i] == 0) o->invalid = true;
            imap_out_raw(o, " ", 1);
            imap_out_number(o, r->numbers[i]);
        }
        break;
    case IMAP_RESP_STATUS: {
        imap_out_cstr(o, "* STATUS ");
        imap_out_astring(o, r->mailbox.ptr ? r->mailbox.ptr : "", r->mailbox.len);
        imap_out_raw(o, " (", 2);
        bool first = true;
        for (int i = 0; i < IMAP_STATUS_COUNT; i++)
            if (r->status_items & IMAP_STATUS_BIT(i)) {
                if (!first) imap_out_raw(o, " ", 1);
                imap_out_cstr(o, imap_status_item_names[i]);
                imap_out_raw(o, " ", 1);
                imap_out_number(o, r->status_values[i]);
                first = false;
            }
        imap_out_raw(o, ")", 1);
        break;
    }
    case IMAP_RESP_EXISTS: case IMAP_RESP_RECENT: case IMAP_RESP_EXPUNGE: case IMAP_RESP_FETCH:
        if (r->number == 0 && (r->kind == IMAP_RESP_EXPUNGE || r->kind == IMAP_RESP_FETCH))
            o->invalid = true;
        imap_out_raw(o, "* ", 2);
        imap_out_number(o, r->number);
        imap_out_raw(o, " ", 1);
        imap_out_cstr(o, imap_resp_kind_names[r->kind]);
        if (r->kind == IMAP_RESP_FETCH) {
            if (r->natts == 0) o->invalid = true;
            imap_out_raw(o, " (", 2);
            for (size_t i = 0; i < r->natts; i++) {
                if (i) imap_out_raw(o, " ", 1);
                att_out(o, r, &r->atts[i]);
            }
            imap_out_raw(o, ")", 1);
        }
        break;
    default: o->invalid = true; return;
    }
    imap_out_raw(o, "\r\n", 2);
}

size_t imap_resp_format(const struct imap_response *r, char *buf, size_t cap)
{
    struct imap_out o;
    imap_out_init(&o, buf, cap);
    imap_out_response(&o, r);
    return o.overflow || o.invalid ? 0 : o.len;
}
