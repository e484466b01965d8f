/* RFC 5322 messages: see msg.h for the contracts. */
#include "protocols/msg.h"

#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"
#include "protocols/linebuf.h"

static const char *const err_names[MSG_ERR_COUNT] = {
    [MSG_OK] = "MSG_OK",
    [MSG_ERR_LINE_TOO_LONG] = "MSG_ERR_LINE_TOO_LONG",
    [MSG_ERR_HEADER_TOO_BIG] = "MSG_ERR_HEADER_TOO_BIG",
    [MSG_ERR_TOO_MANY_FIELDS] = "MSG_ERR_TOO_MANY_FIELDS",
    [MSG_ERR_NO_COLON] = "MSG_ERR_NO_COLON",
    [MSG_ERR_EMPTY_NAME] = "MSG_ERR_EMPTY_NAME",
    [MSG_ERR_FIELD_NAME] = "MSG_ERR_FIELD_NAME",
    [MSG_ERR_FOLD_FIRST] = "MSG_ERR_FOLD_FIRST",
    [MSG_ERR_NUL] = "MSG_ERR_NUL",
    [MSG_ERR_UNTERMINATED_QUOTE] = "MSG_ERR_UNTERMINATED_QUOTE",
    [MSG_ERR_UNTERMINATED_COMMENT] = "MSG_ERR_UNTERMINATED_COMMENT",
    [MSG_ERR_UNTERMINATED_LITERAL] = "MSG_ERR_UNTERMINATED_LITERAL",
    [MSG_ERR_SYNTAX] = "MSG_ERR_SYNTAX",
    [MSG_ERR_TOO_LONG] = "MSG_ERR_TOO_LONG",
    [MSG_ERR_NO_AT] = "MSG_ERR_NO_AT",
    [MSG_ERR_NO_ANGLE_CLOSE] = "MSG_ERR_NO_ANGLE_CLOSE",
    [MSG_ERR_EMPTY_LOCAL] = "MSG_ERR_EMPTY_LOCAL",
    [MSG_ERR_EMPTY_DOMAIN] = "MSG_ERR_EMPTY_DOMAIN",
    [MSG_ERR_BAD_LOCAL] = "MSG_ERR_BAD_LOCAL",
    [MSG_ERR_BAD_DOMAIN] = "MSG_ERR_BAD_DOMAIN",
    [MSG_ERR_ROUTE_ADDR] = "MSG_ERR_ROUTE_ADDR",
    [MSG_ERR_UNCLOSED_GROUP] = "MSG_ERR_UNCLOSED_GROUP",
    [MSG_ERR_NESTED_GROUP] = "MSG_ERR_NESTED_GROUP",
    [MSG_ERR_EMPTY_LIST] = "MSG_ERR_EMPTY_LIST",
    [MSG_ERR_TOO_MANY_ADDRS] = "MSG_ERR_TOO_MANY_ADDRS",
    [MSG_ERR_BAD_DAY_NAME] = "MSG_ERR_BAD_DAY_NAME",
    [MSG_ERR_BAD_DAY] = "MSG_ERR_BAD_DAY",
    [MSG_ERR_BAD_MONTH] = "MSG_ERR_BAD_MONTH",
    [MSG_ERR_BAD_YEAR] = "MSG_ERR_BAD_YEAR",
    [MSG_ERR_BAD_TIME] = "MSG_ERR_BAD_TIME",
    [MSG_ERR_BAD_ZONE] = "MSG_ERR_BAD_ZONE",
    [MSG_ERR_WEEKDAY_MISMATCH] = "MSG_ERR_WEEKDAY_MISMATCH",
    [MSG_ERR_BAD_MSGID] = "MSG_ERR_BAD_MSGID",
    [MSG_ERR_BAD_ENCODED_WORD] = "MSG_ERR_BAD_ENCODED_WORD",
    [MSG_ERR_NO_SPACE] = "MSG_ERR_NO_SPACE",
    [MSG_ERR_BAD_ARG] = "MSG_ERR_BAD_ARG",
};

const char *msg_strerror(enum msg_err e)
{
    if ((int)e < 0 || e >= MSG_ERR_COUNT || !err_names[e]) return "?";
    return err_names[e];
}

/* ------------------------------------------------------------------ */
/* Output sink: every formatter writes through it, so none can pass cap.
 * It always keeps one byte for the closing NUL. */

struct sink {
    char *buf;
    size_t cap, len;
    bool over; /* something did not fit */
};

static void sink_init(struct sink *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->over = cap == 0;
    if (cap) buf[0] = 0;
}

static void put(struct sink *o, const char *s, size_t n)
{
    if (o->over) return;
    if (o->len + n + 1 > o->cap) {
        o->over = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void puts_(struct sink *o, const char *s) { put(o, s, strlen(s)); }

static void putch(struct sink *o, char c) { put(o, &c, 1); }

static void putnum(struct sink *o, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width) tmp[n++] = '0';
    while (n) putch(o, tmp[--n]);
}

/* Ends a formatter: the length written and MSG_OK, or MSG_ERR_NO_SPACE. */
static enum msg_err sink_done(const struct sink *o, size_t *out_len)
{
    if (out_len) *out_len = o->over ? 0 : o->len;
    return o->over ? MSG_ERR_NO_SPACE : MSG_OK;
}

/* ------------------------------------------------------------------ */
/* Character classes (RFC 5234 B.1, RFC 5322 3.2.3)                    */

static bool is_wsp(int c) { return c == ' ' || c == '\t'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* atext, plus octets >= 0x80: RFC 6532 3.2 lets UTF-8 into atoms. */
static bool is_atext(int c)
{
    if (c >= 0x80) return true;
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 2.2: field-name = 1*ftext, ftext = %d33-57 / %d59-126. */
static bool is_ftext(int c) { return c >= 33 && c <= 126 && c != ':'; }

/* ------------------------------------------------------------------ */
/* Header section                                                       */

static enum msg_err header_fail(struct msg_header *h, enum msg_err e, size_t at)
{
    h->err_off = at;
    h->body_off = h->len;
    h->has_empty_line = false;
    return e;
}

/* Bare LF: RFC 5322 2.3 says CR and LF only occur together as CRLF, but
 * messages stored with Unix line ends reach every real parser (Dovecot and
 * Postfix accept them), so a lone LF ends a line here too and h->bare_lf
 * records it for the lesson to point out. Lines are framed with the shared
 * linebuf reader; a line over 998 octets (2.1.1) is an error value. */
enum msg_err msg_parse_header(const char *buf, size_t len, struct msg_header *h)
{
    char store[MSG_MAX_LINE + 2]; /* the longest legal line and its CRLF */
    struct linebuf lb;
    linebuf_init(&lb, store, sizeof store);
    h->buf = buf;
    h->len = len;
    h->n_fields = 0;
    h->body_off = len;
    h->has_empty_line = false;
    h->bare_lf = false;
    h->err_off = 0;

    size_t fed = 0, pos = 0; /* pos: offset in buf of the next line */
    for (;;) {
        const char *line;
        size_t n, end;
        bool bare, last = false;
        enum linebuf_status st = linebuf_next(&lb, &line, &n, &bare);
        if (st == LINEBUF_TOO_LONG) return header_fail(h, MSG_ERR_LINE_TOO_LONG, pos);
        if (st == LINEBUF_NEED_MORE) {
            if (fed < len) {
                fed += linebuf_feed(&lb, buf + fed, len - fed);
                continue;
            }
            if (linebuf_pending(&lb) == 0) break; /* header ran to the end: no body (3.5) */
            /* The buffer ends inside a line: take it as the last one. */
            n = linebuf_take_raw(&lb, &line, linebuf_pending(&lb));
            last = true;
            end = 0;
            if (n && line[n - 1] == '\r') { /* its CR arrived, its LF did not */
                n--;
                end = 1;
            }
        } else {
            end = bare ? 1 : 2;
        }
        if (n > MSG_MAX_LINE) return header_fail(h, MSG_ERR_LINE_TOO_LONG, pos);
        if (pos + n + end > MSG_MAX_HEADER) return header_fail(h, MSG_ERR_HEADER_TOO_BIG, pos);
        if (!last && bare) h->bare_lf = true;

        if (n == 0) { /* RFC 5322 2.1: the first empty line ends the header */
            h->has_empty_line = true;
            h->body_off = pos + end;
            return MSG_OK;
        }
        if (memchr(line, 0, n)) return header_fail(h, MSG_ERR_NUL, pos);
        if (is_wsp((unsigned char)line[0])) {
            /* RFC 5322 2.2.3: a line starting with WSP continues the field above */
            if (h->n_fields == 0) return header_fail(h, MSG_ERR_FOLD_FIRST, pos);
            struct msg_field *f = &h->fields[h->n_fields - 1];
            f->len = pos + n + end - f->off;
            size_t vend = pos + n;
            while (vend > f->value_off && is_wsp((unsigned char)buf[vend - 1])) vend--;
            if (vend > f->value_off) f->value_len = vend - f->value_off;
        } else {
            const char *colon = memchr(line, ':', n);
            if (!colon) return header_fail(h, MSG_ERR_NO_COLON, pos);
            size_t cpos = (size_t)(colon - line), nl = cpos;
            /* RFC 5322 4.5 obs-optional: WSP may stand between name and ':' */
            while (nl > 0 && is_wsp((unsigned char)line[nl - 1])) nl--;
            if (nl == 0) return header_fail(h, cpos ? MSG_ERR_FIELD_NAME : MSG_ERR_EMPTY_NAME, pos);
            for (size_t i = 0; i < nl; i++)
                if (!is_ftext((unsigned char)line[i])) return header_fail(h, MSG_ERR_FIELD_NAME, pos);
            if (h->n_fields == MSG_MAX_FIELDS) return header_fail(h, MSG_ERR_TOO_MANY_FIELDS, pos);
            struct msg_field *f = &h->fields[h->n_fields++];
            size_t v = cpos + 1, vend = n;
            while (v < n && is_wsp((unsigned char)line[v])) v++;
            while (vend > v && is_wsp((unsigned char)line[vend - 1])) vend--;
            f->off = pos;
            f->len = n + end;
            f->name_off = pos;
            f->name_len = nl;
            f->value_off = pos + v;
            f->value_len = vend - v;
        }
        pos += n + end;
    }
    return MSG_OK;
}

int msg_header_find(const struct msg_header *h, const char *name, size_t from)
{
    for (size_t i = from; i < h->n_fields; i++) {
        const struct msg_field *f = &h->fields[i];
        if (ascii_eq(h->buf + f->name_off, f->name_len, name)) return (int)i;
    }
    return -1;
}

size_t msg_header_count(const struct msg_header *h, const char *name)
{
    size_t c = 0;
    for (int i = msg_header_find(h, name, 0); i >= 0; i = msg_header_find(h, name, (size_t)i + 1))
        c++;
    return c;
}

const char *msg_field_value(const struct msg_header *h, size_t i, size_t *len)
{
    EXPECT(i < h->n_fields);
    *len = h->fields[i].value_len;
    return h->buf + h->fields[i].value_off;
}

/* Length of a line ending at in[i] that is followed by WSP (a fold,
 * RFC 5322 2.2.3), else 0. */
static size_t fold_at(const char *in, size_t n, size_t i)
{
    size_t e = 0;
    if (i + 1 < n && in[i] == '\r' && in[i + 1] == '\n') e = 2;
    else if (in[i] == '\n') e = 1;
    if (e && i + e < n && is_wsp((unsigned char)in[i + e])) return e;
    return 0;
}

/* The length of s[0..n) without a UTF-8 sequence its end cuts short (RFC
 * 3629 3: the lead octet announces the sequence's length). Octets that are
 * not UTF-8 at all are left alone. */
static size_t utf8_whole_prefix(const char *s, size_t n)
{
    size_t lead = n;
    while (lead > 0 && n - lead < 3 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80) lead--;
    if (lead == 0) return n;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    return want && n - (lead - 1) < want ? lead - 1 : n;
}

enum msg_err msg_unfold(const char *in, size_t n, char *out, size_t cap, size_t *out_len)
{
    struct sink o;
    sink_init(&o, out, cap);
    bool started = false;
    size_t ws = SIZE_MAX; /* start of a WSP run not yet written: written only if text follows */
    for (size_t i = 0; i < n && !o.over; i++) {
        size_t e = fold_at(in, n, i);
        if (e) {
            i += e - 1;
            continue;
        }
        if (is_wsp((unsigned char)in[i])) {
            if (started && ws == SIZE_MAX) ws = i;
            continue;
        }
        for (size_t k = ws; ws != SIZE_MAX && k < i; k++)
            if (is_wsp((unsigned char)in[k])) putch(&o, in[k]);
        ws = SIZE_MAX;
        started = true;
        putch(&o, in[i]);
    }
    if (o.over && cap) { /* the prefix is for display: no half character */
        o.len = utf8_whole_prefix(out, o.len);
        out[o.len] = '\0';
    }
    if (out_len) *out_len = o.len; /* on NO_SPACE: the terminated prefix that fit */
    return o.over ? MSG_ERR_NO_SPACE : MSG_OK;
}

/* ------------------------------------------------------------------ */
/* Folding formatter                                                    */

static bool valid_name(const char *name)
{
    if (!name || !*name) return false;
    for (const char *p = name; *p; p++)
        if (!is_ftext((unsigned char)*p)) return false;
    return true;
}

/* End of the word starting at v[i]: leading WSP, then everything up to the
 * next WSP that stands outside a quoted string and is not a quoted pair
 * (RFC 5322 3.2.1, 3.2.4), or up to a fold already in the value. Encoded
 * words hold no WSP (RFC 2047 2), so no fold can split one. */
static size_t word_end(const char *v, size_t n, size_t i, int *depth)
{
    while (i < n && is_wsp((unsigned char)v[i])) i++;
    bool quoted = false; /* never open at a break: WSP inside quotes does not break */
    while (i < n) {
        char c = v[i];
        if (c == '\r' || c == '\n') break;
        if ((quoted || *depth) && c == '\\' && i + 1 < n && v[i + 1] != '\r' && v[i + 1] != '\n') {
            i += 2;
            continue;
        }
        if (c == '"' && !*depth) quoted = !quoted;
        else if (c == '(' && !quoted) (*depth)++;
        else if (c == ')' && !quoted && *depth) (*depth)--;
        else if (is_wsp((unsigned char)c) && !quoted) break;
        i++;
    }
    return i;
}

enum msg_err msg_format_field(const char *name, const char *value, char *out, size_t cap,
                              size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!valid_name(name) || !value) return MSG_ERR_BAD_ARG;
    size_t n = strlen(value);
    for (size_t i = 0; i < n; i++) { /* CR and LF only as a fold: CRLF WSP */
        if (value[i] == '\r') {
            if (!(i + 2 < n && value[i + 1] == '\n' && is_wsp((unsigned char)value[i + 2])))
                return MSG_ERR_BAD_ARG;
            i++;
        } else if (value[i] == '\n') {
            return MSG_ERR_BAD_ARG;
        }
    }
    struct sink o;
    sink_init(&o, out, cap);
    puts_(&o, name);
    putch(&o, ':');
    size_t col = strlen(name) + 1;
    size_t i = 0;
    bool first = true;
    int depth = 0; /* comment nesting (3.2.2) carries across words: "\\ " escapes there too */
    if (n && !is_wsp((unsigned char)value[0])) {
        putch(&o, ' ');
        col++;
    }
    while (i < n) {
        if (value[i] == '\r') { /* a fold the caller made: keep it */
            put(&o, "\r\n", 2);
            i += 2;
            col = 0;
            first = true; /* never fold again before the first word of a line */
            continue;
        }
        size_t e = word_end(value, n, i, &depth);
        size_t wl = e - i;
        /* RFC 5322 2.2.3: fold by putting CRLF before a WSP; only where the
         * line already has text, so no line is WSP alone. */
        if (!first && col + wl > MSG_FOLD_WIDTH && is_wsp((unsigned char)value[i])) {
            put(&o, "\r\n", 2);
            col = 0;
        }
        put(&o, value + i, wl);
        col += wl;
        if (col > MSG_MAX_LINE) return MSG_ERR_LINE_TOO_LONG; /* 2.1.1: no fold point helps */
        first = false;
        i = e;
    }
    put(&o, "\r\n", 2);
    return sink_done(&o, out_len);
}

/* ------------------------------------------------------------------ */
/* Lexer for structured fields (RFC 5322 3.2)                           */

struct lex {
    const char *s;
    size_t n, i;
};

static int peek(const struct lex *l) { return l->i < l->n ? (unsigned char)l->s[l->i] : -1; }

/* Skips CFWS (3.2.2): WSP, folds, and comments, which nest and hold
 * quoted pairs. */
static enum msg_err cfws(struct lex *l)
{
    while (l->i < l->n) {
        char c = l->s[l->i];
        if (is_wsp((unsigned char)c) || c == '\r' || c == '\n') {
            l->i++;
        } else if (c == '(') {
            int depth = 0;
            do {
                if (l->i >= l->n) return MSG_ERR_UNTERMINATED_COMMENT;
                c = l->s[l->i++];
                if (c == '\\') {
                    if (l->i >= l->n) return MSG_ERR_UNTERMINATED_COMMENT;
                    l->i++;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
            } while (depth > 0);
        } else {
            break;
        }
    }
    return MSG_OK;
}

/* Reads a quoted string (3.2.4) at l->i (on the DQUOTE) and appends its
 * content, unquoted and unfolded, to o. */
static enum msg_err quoted(struct lex *l, struct sink *o)
{
    l->i++;
    while (l->i < l->n) {
        char c = l->s[l->i++];
        if (c == '"') return MSG_OK;
        if (c == '\\') {
            if (l->i >= l->n) break;
            c = l->s[l->i++];
            /* A quoted CR or LF is obs-qp only (4.1): kept, it could not be
             * written back (a line break in a field is a fold, 2.2.3, and
             * unfolding drops it), and a display name or local part with a
             * line break in it would split the header it is put into. */
            if (c == '\r' || c == '\n') return MSG_ERR_SYNTAX;
        } else if (c == '\r' || c == '\n') {
            continue; /* FWS inside: unfolding drops the line break */
        }
        /* qtext excludes NUL (3.2.4); only obs-qp allows "\" NUL, and the
         * result is a C string, which a NUL would cut short. */
        if (c == '\0') return MSG_ERR_SYNTAX;
        putch(o, c);
    }
    return MSG_ERR_UNTERMINATED_QUOTE;
}

static void atom(struct lex *l, struct sink *o)
{
    size_t b = l->i;
    while (l->i < l->n && is_atext((unsigned char)l->s[l->i])) l->i++;
    put(o, l->s + b, l->i - b);
}

/* phrase (3.2.5) with obs-phrase's dots (4.1): words joined by one space,
 * a '.' glued to the word before it. Stops at the first byte that is not a
 * word, a dot or CFWS; *words counts what was read. */
static enum msg_err phrase(struct lex *l, char *out, size_t cap, int *words)
{
    struct sink o;
    sink_init(&o, out, cap);
    *words = 0;
    bool glue = true;
    for (;;) {
        enum msg_err e = cfws(l);
        if (e) return e;
        int c = peek(l);
        if (c == '"') {
            if (!glue) putch(&o, ' ');
            if ((e = quoted(l, &o))) return e;
        } else if (c >= 0 && is_atext(c)) {
            if (!glue) putch(&o, ' ');
            atom(l, &o);
        } else if (c == '.' && *words) {
            putch(&o, '.');
            l->i++;
            glue = false;
            continue;
        } else {
            break;
        }
        (*words)++;
        glue = false;
    }
    return o.over ? MSG_ERR_TOO_LONG : MSG_OK;
}

/* local-part (3.4.1): dot-atom, quoted-string, or obs-local-part (word *("."
 * word), 4.4); written unquoted. Leaves l->i after it (CFWS skipped). */
static enum msg_err local_part(struct lex *l, char *out, size_t cap)
{
    struct sink o;
    sink_init(&o, out, cap);
    int words = 0;
    for (;;) {
        enum msg_err e = cfws(l);
        if (e) return e;
        int c = peek(l);
        if (c == '"') {
            if ((e = quoted(l, &o))) return e;
        } else if (c >= 0 && is_atext(c)) {
            atom(l, &o);
        } else {
            /* "@x" has no local part; "a.@x" or "a..b@x" has an empty atom */
            return c == '@' && !words ? MSG_ERR_EMPTY_LOCAL : MSG_ERR_BAD_LOCAL;
        }
        words++;
        if ((e = cfws(l))) return e;
        if (peek(l) != '.') break;
        putch(&o, '.');
        l->i++;
    }
    if (o.over) return MSG_ERR_TOO_LONG;
    if (o.len == 0) return MSG_ERR_EMPTY_LOCAL; /* "" quoted and empty */
    return MSG_OK;
}

/* domain (3.4.1): dot-atom (obs-domain allows CFWS around the dots) or a
 * domain literal kept with its brackets. */
static enum msg_err domain(struct lex *l, char *out, size_t cap)
{
    struct sink o;
    sink_init(&o, out, cap);
    enum msg_err e = cfws(l);
    if (e) return e;
    int c = peek(l);
    if (c == '[') {
        putch(&o, '[');
        l->i++;
        for (;;) {
            if (l->i >= l->n) return MSG_ERR_UNTERMINATED_LITERAL;
            c = (unsigned char)l->s[l->i++];
            if (c == ']') break;
            if (c == '[' || c == '\\') return MSG_ERR_BAD_DOMAIN; /* dtext excludes [ ] \ (3.4.1) */
            if (c == 0) return MSG_ERR_BAD_DOMAIN; /* and NUL, even obs-dtext (4.4): the copy is a C string */
            if (c == '\r' || c == '\n' || is_wsp(c)) continue;
            putch(&o, (char)c);
        }
        putch(&o, ']');
    } else {
        if (c < 0 || c == '>' || c == ',' || c == ';') return MSG_ERR_EMPTY_DOMAIN;
        for (;;) {
            c = peek(l);
            if (c < 0 || !is_atext(c)) return MSG_ERR_BAD_DOMAIN; /* "a@.b", "a@b..c", "a@b." */
            size_t b = l->i;
            while (l->i < l->n && is_atext((unsigned char)l->s[l->i])) l->i++;
            put(&o, l->s + b, l->i - b);
            if ((e = cfws(l))) return e;
            if (peek(l) != '.') break;
            putch(&o, '.');
            l->i++;
            if ((e = cfws(l))) return e;
        }
    }
    if (o.over) return MSG_ERR_TOO_LONG;
    return cfws(l);
}

/* addr-spec: local-part "@" domain. */
static enum msg_err addr_spec(struct lex *l, struct msg_addr *a)
{
    enum msg_err e = local_part(l, a->local, sizeof a->local);
    if (e) return e;
    int c = peek(l);
    if (c != '@') /* "user", "<user>": no domain; "a b@c": a stray word */
        return c < 0 || c == '>' || c == ',' || c == ';' ? MSG_ERR_NO_AT : MSG_ERR_BAD_LOCAL;
    l->i++;
    return domain(l, a->domain, sizeof a->domain);
}

/* mailbox (3.4), or the "display-name :" opening a group: then *group is
 * set and l->i stands after the ':' (the caller decides if groups are allowed). */
static enum msg_err mailbox(struct lex *l, struct msg_addr *a, bool *group)
{
    memset(a, 0, sizeof *a);
    a->kind = MSG_ADDR_MAILBOX;
    *group = false;
    size_t start = l->i;
    int words;
    enum msg_err e = phrase(l, a->display, sizeof a->display, &words);
    int c = peek(l);
    if (e && !(e == MSG_ERR_TOO_LONG && c == '@')) return e;
    if (c == '<') { /* name-addr: [display-name] angle-addr */
        l->i++;
        if ((e = cfws(l))) return e;
        if (peek(l) == '@' || peek(l) == ',')
            return MSG_ERR_ROUTE_ADDR; /* 4.4 obs-route "<@relay:user@host>" */
        if (peek(l) == '>') return MSG_ERR_EMPTY_LOCAL;
        if ((e = addr_spec(l, a))) return e;
        if (peek(l) != '>') return MSG_ERR_NO_ANGLE_CLOSE;
        l->i++;
        return cfws(l);
    }
    if (c == ':' && words) {
        a->kind = MSG_ADDR_GROUP_START;
        *group = true;
        l->i++;
        return MSG_OK;
    }
    if (c == '@') { /* addr-spec: read again as a local part */
        a->display[0] = 0;
        l->i = start;
        return addr_spec(l, a);
    }
    if (words) return MSG_ERR_NO_AT;
    return c < 0 ? MSG_ERR_EMPTY_LIST : MSG_ERR_SYNTAX;
}

enum msg_err msg_addr_parse(const char *s, size_t n, struct msg_addr *out)
{
    struct lex l = {s, n, 0};
    bool group;
    enum msg_err e = mailbox(&l, out, &group);
    if (e) return e;
    if (group) return MSG_ERR_SYNTAX;
    return l.i == n ? MSG_OK : MSG_ERR_SYNTAX;
}

const char *msg_addr_kind_name(enum msg_addr_kind k)
{
    static const char *const names[MSG_ADDR_KIND_COUNT] = {
        [MSG_ADDR_MAILBOX] = "MAILBOX",
        [MSG_ADDR_GROUP_START] = "GROUP_START",
        [MSG_ADDR_GROUP_END] = "GROUP_END",
    };
    if ((int)k < 0 || k >= MSG_ADDR_KIND_COUNT) return "?";
    return names[k];
}

static enum msg_err add(struct msg_addr_list *out, const struct msg_addr *a)
{
    if (out->n == MSG_MAX_ADDRS) return MSG_ERR_TOO_MANY_ADDRS;
    out->addr[out->n++] = *a;
    return MSG_OK;
}

enum msg_err msg_addr_parse_list(const char *s, size_t n, struct msg_addr_list *out)
{
    struct lex l = {s, n, 0};
    struct msg_addr a;
    bool group, any = false;
    enum msg_err e;
    out->n = 0;
    for (;;) {
        if ((e = cfws(&l))) return e;
        if (peek(&l) < 0) break;
        if (peek(&l) == ',') { /* 4.4 obs-addr-list: empty elements */
            l.i++;
            continue;
        }
        if ((e = mailbox(&l, &a, &group))) return e;
        if ((e = add(out, &a))) return e;
        any = true;
        if (group) { /* 3.4 group: display-name ":" [group-list] ";" */
            for (;;) {
                if ((e = cfws(&l))) return e;
                int c = peek(&l);
                if (c < 0) return MSG_ERR_UNCLOSED_GROUP;
                if (c == ';') {
                    l.i++;
                    break;
                }
                if (c == ',') {
                    l.i++;
                    continue;
                }
                if ((e = mailbox(&l, &a, &group))) return e == MSG_ERR_EMPTY_LIST ? MSG_ERR_UNCLOSED_GROUP : e;
                if (group) return MSG_ERR_NESTED_GROUP;
                if ((e = add(out, &a))) return e;
                c = peek(&l);
                if (c < 0) return MSG_ERR_UNCLOSED_GROUP;
                if (c != ',' && c != ';') return MSG_ERR_SYNTAX;
            }
            memset(&a, 0, sizeof a);
            a.kind = MSG_ADDR_GROUP_END;
            if ((e = add(out, &a))) return e;
            if ((e = cfws(&l))) return e;
        }
        int c = peek(&l);
        if (c < 0) break;
        if (c != ',') return MSG_ERR_SYNTAX;
        l.i++;
    }
    return any ? MSG_OK : MSG_ERR_EMPTY_LIST;
}

/* dot-atom-text (3.2.3): atext runs joined by single dots. */
static bool is_dot_atom(const char *s)
{
    if (!*s || *s == '.') return false;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (p[1] == '.' || p[1] == 0) return false;
        } else if (!is_atext((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

/* A phrase that can go out unquoted: atoms separated by single spaces. */
static bool is_plain_phrase(const char *s)
{
    if (!*s || *s == ' ') return false;
    for (const char *p = s; *p; p++) {
        if (*p == ' ') {
            if (p[1] == ' ' || p[1] == 0) return false;
        } else if (!is_atext((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

/* 3.2.4: a quoted string escapes only DQUOTE and backslash. */
static void put_quoted(struct sink *o, const char *s)
{
    putch(o, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') putch(o, '\\');
        putch(o, *p);
    }
    putch(o, '"');
}

static void put_addr_spec(struct sink *o, const struct msg_addr *a)
{
    if (is_dot_atom(a->local)) puts_(o, a->local);
    else put_quoted(o, a->local);
    putch(o, '@');
    puts_(o, a->domain);
}

static void put_entry(struct sink *o, const struct msg_addr *a)
{
    switch (a->kind) {
    case MSG_ADDR_GROUP_START:
        if (is_plain_phrase(a->display)) puts_(o, a->display);
        else put_quoted(o, a->display);
        putch(o, ':');
        break;
    case MSG_ADDR_GROUP_END:
        putch(o, ';');
        break;
    default:
        if (!a->display[0]) {
            put_addr_spec(o, a);
            break;
        }
        if (is_plain_phrase(a->display)) puts_(o, a->display);
        else put_quoted(o, a->display); /* 3.2.3: specials need quoting */
        puts_(o, " <");
        put_addr_spec(o, a);
        putch(o, '>');
        break;
    }
}

enum msg_err msg_addr_format(const struct msg_addr *a, char *out, size_t cap, size_t *out_len)
{
    struct sink o;
    sink_init(&o, out, cap);
    put_entry(&o, a);
    return sink_done(&o, out_len);
}

enum msg_err msg_addr_list_format(const struct msg_addr_list *l, char *out, size_t cap,
                                  size_t *out_len)
{
    struct sink o;
    sink_init(&o, out, cap);
    for (size_t i = 0; i < l->n; i++) {
        const struct msg_addr *a = &l->addr[i];
        bool after_start = i > 0 && l->addr[i - 1].kind == MSG_ADDR_GROUP_START;
        if (a->kind == MSG_ADDR_GROUP_END) {
            putch(&o, ';');
            continue;
        }
        if (i > 0 && !after_start) puts_(&o, ", ");
        else if (after_start) putch(&o, ' ');
        put_entry(&o, a);
    }
    return sink_done(&o, out_len);
}

/* ------------------------------------------------------------------ */
/* Dates: civil arithmetic without libc time functions                  */

static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m) /* m 1-12 */
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return d[m - 1] + (m == 2 && leap(y));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* 400 Gregorian years hold exactly 146097 days, so whole cycles are
 * skipped by multiplication and at most 399 years are walked one by one. */
#define DAYS_PER_400Y 146097

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t q = floor_div(y - 1970, 400);
    int64_t days = q * DAYS_PER_400Y;
    for (int64_t yy = 1970 + 400 * q; yy < y; yy++) days += leap(yy) ? 366 : 365;
    for (int mm = 1; mm < m; mm++) days += month_days(y, mm);
    return days + d - 1;
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t q = floor_div(days, DAYS_PER_400Y);
    int64_t yy = 1970 + 400 * q;
    days -= q * DAYS_PER_400Y;
    while (days >= (leap(yy) ? 366 : 365)) days -= leap(yy) ? 366 : 365, yy++;
    int mm = 1;
    while (days >= month_days(yy, mm)) days -= month_days(yy, mm), mm++;
    *y = yy;
    *m = mm;
    *d = (int)days + 1;
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days) { return (int)(((days % 7) + 7 + 4) % 7); }

static int read_digits(struct lex *l, int max, int64_t *v)
{
    int k = 0;
    *v = 0;
    while (k < max && l->i < l->n && is_digit((unsigned char)l->s[l->i])) {
        *v = *v * 10 + (l->s[l->i++] - '0');
        k++;
    }
    return k;
}

static int name_index(struct lex *l, const char *const *names, int count)
{
    if (l->n - l->i < 3) return -1;
    for (int k = 0; k < count; k++)
        if (ascii_ncasecmp(l->s + l->i, names[k], 3) == 0) {
            l->i += 3;
            return k;
        }
    return -1;
}

/* RFC 5322 4.3 obs-zone: the US zones and the military letters. */
static bool obs_zone(struct lex *l, int *zone_min)
{
    static const struct {
        const char *name;
        int min;
    } zones[] = {{"UT", 0},       {"GMT", 0},      {"EST", -5 * 60}, {"EDT", -4 * 60},
                 {"CST", -6 * 60}, {"CDT", -5 * 60}, {"MST", -7 * 60}, {"MDT", -6 * 60},
                 {"PST", -8 * 60}, {"PDT", -7 * 60}};
    size_t b = l->i;
    while (l->i < l->n && is_alpha((unsigned char)l->s[l->i])) l->i++;
    size_t len = l->i - b;
    for (size_t k = 0; k < ARRAY_LEN(zones); k++)
        if (ascii_eq(l->s + b, len, zones[k].name)) {
            *zone_min = zones[k].min;
            return true;
        }
    /* 4.3: military zones other than Z were specified wrongly in RFC 822;
     * they are to be taken as -0000, an unknown zone. */
    if (len == 1 && l->s[b] != 'j' && l->s[b] != 'J') {
        *zone_min = 0;
        return true;
    }
    l->i = b;
    return false;
}

enum msg_err msg_date_parse(const char *s, size_t n, int64_t *epoch, int *zone_min)
{
    struct lex l = {s, n, 0};
    enum msg_err e;
    int wday = -1;
    int64_t day, year, hh, mm, ss = 0;
    if ((e = cfws(&l))) return e;
    if (peek(&l) >= 0 && is_alpha(peek(&l))) { /* [ day-of-week "," ] (3.3) */
        wday = name_index(&l, day_names, 7);
        if (wday < 0 || (peek(&l) >= 0 && is_alpha(peek(&l)))) return MSG_ERR_BAD_DAY_NAME;
        if ((e = cfws(&l))) return e;
        if (peek(&l) != ',') return MSG_ERR_BAD_DAY_NAME;
        l.i++;
        if ((e = cfws(&l))) return e;
    }
    int k = read_digits(&l, 3, &day);
    if (k < 1 || k > 2 || day < 1 || day > 31) return MSG_ERR_BAD_DAY;
    if ((e = cfws(&l))) return e;
    int mon = name_index(&l, month_names, 12);
    if (mon < 0 || (peek(&l) >= 0 && is_alpha(peek(&l)))) return MSG_ERR_BAD_MONTH;
    if ((e = cfws(&l))) return e;
    k = read_digits(&l, 5, &year);
    if (k < 2 || k > 4) return MSG_ERR_BAD_YEAR;
    if (k == 2) year += year < 50 ? 2000 : 1900; /* 4.3 obs-year */
    else if (k == 3) year += 1900;
    if (year < 1900) return MSG_ERR_BAD_YEAR; /* 3.3: year is 1900 or later */
    if (day > month_days(year, mon + 1)) return MSG_ERR_BAD_DAY;
    if ((e = cfws(&l))) return e;
    if (read_digits(&l, 3, &hh) != 2 || hh > 23) return MSG_ERR_BAD_TIME;
    if ((e = cfws(&l))) return e;
    if (peek(&l) != ':') return MSG_ERR_BAD_TIME;
    l.i++;
    if ((e = cfws(&l))) return e;
    if (read_digits(&l, 3, &mm) != 2 || mm > 59) return MSG_ERR_BAD_TIME;
    if ((e = cfws(&l))) return e;
    if (peek(&l) == ':') { /* seconds are optional (3.3) */
        l.i++;
        if ((e = cfws(&l))) return e;
        if (read_digits(&l, 3, &ss) != 2 || ss > 60) return MSG_ERR_BAD_TIME;
        if (ss == 60) ss = 59; /* 3.3 allows a leap second; POSIX time has none */
        if ((e = cfws(&l))) return e;
    }
    int zone;
    int c = peek(&l);
    if (c == '+' || c == '-') {
        int64_t z;
        l.i++;
        /* 3.3: zone = ("+" / "-") 4DIGIT, hours then minutes, -9959..+9959 */
        if (read_digits(&l, 5, &z) != 4 || z % 100 > 59) return MSG_ERR_BAD_ZONE;
        zone = (int)(z / 100 * 60 + z % 100);
        if (c == '-') zone = -zone;
    } else if (c < 0 || !obs_zone(&l, &zone)) {
        return MSG_ERR_BAD_ZONE;
    }
    if (peek(&l) >= 0 && (is_alpha(peek(&l)) || is_digit(peek(&l)))) return MSG_ERR_BAD_ZONE;
    if ((e = cfws(&l))) return e;
    if (l.i != n) return MSG_ERR_SYNTAX;
    int64_t days = days_from_civil(year, mon + 1, (int)day);
    if (wday >= 0 && weekday(days) != wday) return MSG_ERR_WEEKDAY_MISMATCH; /* 3.3 */
    *epoch = days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)zone * 60;
    *zone_min = zone;
    return MSG_OK;
}

#define MAX_ZONE_MIN (99 * 60 + 59) /* 3.3: -9959..+9959 */
#define MAX_EPOCH    INT64_C(253402300799) /* 9999-12-31T23:59:59Z: 4-digit years only */
#define MIN_EPOCH    INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */

static void put_date(struct sink *o, int64_t epoch, int zone_min)
{
    int64_t local = epoch + (int64_t)zone_min * 60;
    int64_t days = floor_div(local, 86400), secs = local - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    puts_(o, day_names[weekday(days)]);
    puts_(o, ", ");
    putnum(o, (uint64_t)d, 2);
    putch(o, ' ');
    puts_(o, month_names[m - 1]);
    putch(o, ' ');
    putnum(o, (uint64_t)y, 4);
    putch(o, ' ');
    putnum(o, (uint64_t)(secs / 3600), 2);
    putch(o, ':');
    putnum(o, (uint64_t)(secs / 60 % 60), 2);
    putch(o, ':');
    putnum(o, (uint64_t)(secs % 60), 2);
    putch(o, ' ');
    putch(o, zone_min < 0 ? '-' : '+');
    int z = zone_min < 0 ? -zone_min : zone_min;
    putnum(o, (uint64_t)(z / 60 * 100 + z % 60), 4);
}

static bool date_args_ok(int64_t epoch, int zone_min)
{
    if (zone_min < -MAX_ZONE_MIN || zone_min > MAX_ZONE_MIN) return false;
    if (epoch < MIN_EPOCH - 360000 || epoch > MAX_EPOCH + 360000) return false; /* no overflow below */
    int64_t local = epoch + (int64_t)zone_min * 60;
    return local >= MIN_EPOCH && local <= MAX_EPOCH;
}

enum msg_err msg_date_format(int64_t epoch, int zone_min, char *out, size_t cap)
{
    if (!date_args_ok(epoch, zone_min)) return MSG_ERR_BAD_ARG;
    struct sink o;
    sink_init(&o, out, cap);
    put_date(&o, epoch, zone_min);
    return sink_done(&o, NULL);
}

/* ------------------------------------------------------------------ */
/* Message-ID                                                           */

static size_t dot_atom_len(const char *s, size_t i, size_t n)
{
    size_t b = i;
    for (;;) {
        size_t a = i;
        while (i < n && is_atext((unsigned char)s[i])) i++;
        if (i == a) return 0; /* empty atom: leading, doubled or trailing dot */
        if (i < n && s[i] == '.') i++;
        else return i - b;
    }
}

enum msg_err msg_id_parse(const char *s, size_t n, struct msg_id *out)
{
    struct lex l = {s, n, 0};
    if (cfws(&l) || peek(&l) != '<') return MSG_ERR_BAD_MSGID;
    l.i++;
    /* 3.6.4: id-left = dot-atom-text, id-right = dot-atom-text / no-fold-literal */
    size_t k = dot_atom_len(s, l.i, n);
    if (!k || l.i + k >= n || s[l.i + k] != '@') return MSG_ERR_BAD_MSGID;
    out->left = s + l.i;
    out->left_len = k;
    l.i += k + 1;
    if (peek(&l) == '[') {
        size_t b = l.i++;
        while (l.i < n && s[l.i] != ']') {
            int c = (unsigned char)s[l.i];
            if (c < 33 || c > 126 || c == '[' || c == '\\') return MSG_ERR_BAD_MSGID;
            l.i++;
        }
        if (l.i >= n) return MSG_ERR_BAD_MSGID;
        k = ++l.i - b;
        out->right = s + b;
    } else {
        k = dot_atom_len(s, l.i, n);
        if (!k) return MSG_ERR_BAD_MSGID;
        out->right = s + l.i;
        l.i += k;
    }
    out->right_len = k;
    if (peek(&l) != '>') return MSG_ERR_BAD_MSGID;
    l.i++;
    if (cfws(&l) || l.i != n) return MSG_ERR_BAD_MSGID;
    return MSG_OK;
}

enum msg_err msg_id_build(int64_t epoch, uint64_t counter, const char *dom, char *out,
                          size_t cap, size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!dom || !is_dot_atom(dom) || !date_args_ok(epoch, 0)) return MSG_ERR_BAD_ARG;
    int64_t days = floor_div(epoch, 86400), secs = epoch - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    struct sink o;
    sink_init(&o, out, cap);
    putch(&o, '<');
    putnum(&o, (uint64_t)y, 4);
    putnum(&o, (uint64_t)m, 2);
    putnum(&o, (uint64_t)d, 2);
    putnum(&o, (uint64_t)(secs / 3600), 2);
    putnum(&o, (uint64_t)(secs / 60 % 60), 2);
    putnum(&o, (uint64_t)(secs % 60), 2);
    putch(&o, '.');
    putnum(&o, counter, 1);
    putch(&o, '@');
    puts_(&o, dom);
    putch(&o, '>');
    return sink_done(&o, out_len);
}

/* ------------------------------------------------------------------ */
/* Trace fields                                                         */

static const char *const with_names[MSG_WITH_COUNT] = {
    [MSG_WITH_SMTP] = "SMTP",     [MSG_WITH_ESMTP] = "ESMTP",     [MSG_WITH_ESMTPS] = "ESMTPS",
    [MSG_WITH_ESMTPA] = "ESMTPA", [MSG_WITH_ESMTPSA] = "ESMTPSA", [MSG_WITH_LMTP] = "LMTP",
};

const char *msg_with_name(enum msg_with w)
{
    if ((int)w < 0 || w >= MSG_WITH_COUNT) return "?";
    return with_names[w];
}

/* A caller's string for a trace field: present (unless optional), at most
 * a domain's 255 octets, printable ASCII without WSP or the brackets and
 * parentheses the field uses around it. */
static bool trace_ok(const char *s, bool optional)
{
    if (!s || !*s) return optional;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 32 || c >= 127 || strchr("()<>[];", c)) return false;
    }
    return n <= 255;
}

enum msg_err msg_received_format(const struct msg_received *r, char *out, size_t cap,
                                 size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!r || !trace_ok(r->helo, false) || !trace_ok(r->ip, false) || !trace_ok(r->by, false) ||
        !trace_ok(r->rdns, true) || !trace_ok(r->software, true) || !trace_ok(r->id, true) ||
        !trace_ok(r->rcpt, true) || (int)r->with < 0 || r->with >= MSG_WITH_COUNT ||
        !date_args_ok(r->time, r->zone_min))
        return MSG_ERR_BAD_ARG;
    struct sink o;
    sink_init(&o, out, cap);
    /* RFC 5321 4.4: "from" the client's HELO name, then TCP-info with the
     * reverse-DNS name and the address literal; Postfix writes "unknown"
     * when reverse DNS gave nothing. */
    puts_(&o, "Received: from ");
    puts_(&o, r->helo);
    puts_(&o, " (");
    puts_(&o, r->rdns && *r->rdns ? r->rdns : "unknown");
    puts_(&o, " [");
    /* RFC 5321 4.1.3: an IPv6 address literal carries the "IPv6:" tag */
    if (strchr(r->ip, ':') && ascii_ncasecmp(r->ip, "IPv6:", 5) != 0) puts_(&o, "IPv6:");
    puts_(&o, r->ip);
    puts_(&o, "])\r\n\tby ");
    puts_(&o, r->by);
    if (r->software && *r->software) {
        puts_(&o, " (");
        puts_(&o, r->software);
        putch(&o, ')');
    }
    puts_(&o, " with ");
    puts_(&o, with_names[r->with]); /* RFC 3848 keywords */
    if (r->id && *r->id) {
        puts_(&o, " id ");
        puts_(&o, r->id);
    }
    if (r->rcpt && *r->rcpt) {
        puts_(&o, "\r\n\tfor <");
        puts_(&o, r->rcpt);
        puts_(&o, ">; ");
    } else {
        puts_(&o, ";\r\n\t");
    }
    put_date(&o, r->time, r->zone_min); /* 3.6.7: the date after ";" */
    puts_(&o, "\r\n");
    return sink_done(&o, out_len);
}

/* out = head[0..hn) + msg[0..len), NUL-terminated. */
static enum msg_err join(const char *head, size_t hn, const char *msg, size_t len, char *out,
                         size_t cap, size_t *out_len)
{
    if (hn + len + 1 > cap || hn + len < hn) {
        if (out_len) *out_len = 0;
        return MSG_ERR_NO_SPACE;
    }
    memmove(out, head, hn);
    memcpy(out + hn, msg, len);
    out[hn + len] = 0;
    if (out_len) *out_len = hn + len;
    return MSG_OK;
}

enum msg_err msg_prepend_received(const struct msg_received *r, const char *msg, size_t len,
                                  char *out, size_t cap, size_t *out_len)
{
    size_t hn;
    enum msg_err e = msg_received_format(r, out, cap, &hn);
    if (out_len) *out_len = 0;
    if (e) return e;
    return join(out, hn, msg, len, out, cap, out_len);
}

enum msg_err msg_prepend_return_path(const char *reverse_path, const char *msg, size_t len,
                                     char *out, size_t cap, size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!trace_ok(reverse_path, true)) return MSG_ERR_BAD_ARG;
    struct sink o;
    sink_init(&o, out, cap);
    puts_(&o, "Return-Path: <");
    if (reverse_path) puts_(&o, reverse_path); /* RFC 5321 4.4: "<>" for a null path */
    puts_(&o, ">\r\n");
    size_t hn;
    enum msg_err e = sink_done(&o, &hn);
    if (e) return e;
    return join(out, hn, msg, len, out, cap, out_len);
}

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded words                                               */

enum charset { CS_UTF8, CS_ASCII, CS_LATIN1, CS_UNKNOWN };

static int hexval(int c)
{
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Writes one decoded octet, widening ISO-8859-1 to UTF-8. */
static void put_octet(struct sink *o, unsigned char c, enum charset cs)
{
    if (cs == CS_LATIN1 && c >= 0x80) {
        putch(o, (char)(0xC0 | (c >> 6)));
        putch(o, (char)(0x80 | (c & 0x3F)));
    } else {
        putch(o, (char)c);
    }
}

/* Decodes the text of an encoded word into o (when o is not NULL).
 * Returns false when the text is not valid for its encoding. */
static bool decode_text(const char *t, size_t n, char enc, enum charset cs, struct sink *o)
{
    if (enc == 'Q') { /* RFC 2047 4.2 */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)t[i];
            if (c == '=') { /* "=" two hex digits */
                if (i + 2 >= n) return false;
                int hi = hexval((unsigned char)t[i + 1]), lo = hexval((unsigned char)t[i + 2]);
                if (hi < 0 || lo < 0) return false;
                c = (unsigned char)(hi * 16 + lo);
                i += 2;
            } else if (c == '_') {
                c = ' ';
            }
            if (o) put_octet(o, c, cs);
        }
        return true;
    }
    /* RFC 2047 4.1: B is base64 (RFC 4648). Words over the 75 characters
     * of RFC 2047 2 exist in the wild, so the text is decoded one 4-character
     * group at a time, with no length limit; padding is only valid in the
     * last group, which the strict decoder checks. */
    if (n % 4) return false;
    for (size_t g = 0; g < n; g += 4) {
        unsigned char tmp[3];
        int k = base64_decode(t + g, 4, tmp, sizeof tmp);
        if (k < 0 || (k < 3 && g + 4 < n)) return false;
        if (o)
            for (int i = 0; i < k; i++) put_octet(o, tmp[i], cs);
    }
    return true;
}

/* Recognises "=?charset?enc?text?=" at in[i]; on success sets *end past it
 * and decodes into o if its charset is known. Returns true when it decoded. */
static bool encoded_word(const char *in, size_t n, size_t i, size_t *end, struct sink *o)
{
    if (i + 1 >= n || in[i] != '=' || in[i + 1] != '?') return false;
    size_t cs = i + 2, p = cs;
    while (p < n && in[p] != '?' && !is_wsp((unsigned char)in[p]) && in[p] != '\r' && in[p] != '\n') p++;
    if (p >= n || in[p] != '?' || p == cs) return false;
    size_t cs_len = p - cs;
    for (size_t k = cs; k < p; k++) /* RFC 2231 5: "charset*language" */
        if (in[k] == '*') {
            cs_len = k - cs;
            break;
        }
    if (p + 2 >= n || in[p + 2] != '?') return false;
    char enc = in[p + 1];
    if (enc == 'b') enc = 'B';
    if (enc == 'q') enc = 'Q';
    if (enc != 'B' && enc != 'Q') return false;
    size_t t = p + 3, q = t;
    while (q < n && in[q] != '?' && !is_wsp((unsigned char)in[q]) && in[q] != '\r' && in[q] != '\n') q++;
    if (q + 1 >= n || in[q] != '?' || in[q + 1] != '=') return false;
    enum charset set = CS_UNKNOWN;
    if (ascii_eq(in + cs, cs_len, "utf-8")) set = CS_UTF8;
    else if (ascii_eq(in + cs, cs_len, "us-ascii")) set = CS_ASCII;
    else if (ascii_eq(in + cs, cs_len, "iso-8859-1")) set = CS_LATIN1;
    if (set == CS_UNKNOWN || !decode_text(in + t, q - t, enc, set, NULL)) return false;
    decode_text(in + t, q - t, enc, set, o);
    *end = q + 2;
    return true;
}

enum msg_err msg_decode_words(const char *in, size_t n, char *out, size_t cap, size_t *out_len)
{
    struct sink o;
    sink_init(&o, out, cap);
    size_t i = 0;
    bool after_word = false; /* the last thing written was an encoded word */
    while (i < n) {
        size_t e;
        if (encoded_word(in, n, i, &e, &o)) {
            i = e;
            after_word = true;
            continue;
        }
        if (is_wsp((unsigned char)in[i]) || fold_at(in, n, i)) {
            /* a run of linear white space: dropped between two encoded
             * words (RFC 2047 6.2), else written without its folds */
            size_t b = i;
            while (i < n && (is_wsp((unsigned char)in[i]) || fold_at(in, n, i)))
                i += fold_at(in, n, i) ? fold_at(in, n, i) : 1;
            size_t dummy;
            if (after_word && i < n && encoded_word(in, n, i, &dummy, NULL)) continue;
            for (size_t k = b; k < i; k++)
                if (is_wsp((unsigned char)in[k])) putch(&o, in[k]);
            after_word = false;
            continue;
        }
        putch(&o, in[i++]);
        after_word = false;
    }
    /* Decoded text is for display (RFC 2047 6.2): when it does not fit, the
     * prefix that did is kept with its length, as msg_unfold does, not the
     * formatters' length 0 (callers show a long Subject cut), and never
     * ends inside a UTF-8 character, which a display would draw as garbage. */
    if (o.over && cap) {
        o.len = utf8_whole_prefix(out, o.len);
        out[o.len] = '\0';
    }
    if (out_len) *out_len = o.len;
    return o.over ? MSG_ERR_NO_SPACE : MSG_OK;
}

/* B-encodes s[0..n) as words of at most 45 octets: 60 base64 characters
 * plus "=?UTF-8?B?" and "?=" make 72, within RFC 2047 2's 75. A word never
 * ends inside a UTF-8 sequence (RFC 2047 5: each word is self-contained). */
#define EW_MAX_OCTETS 45

enum msg_err msg_encode_words(const char *utf8, char *out, size_t cap, size_t *out_len)
{
    struct sink o;
    sink_init(&o, out, cap);
    size_t n = strlen(utf8);
    bool plain = true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)utf8[i] < 0x20 || (unsigned char)utf8[i] > 0x7E) plain = false;
    if (plain && !strstr(utf8, "=?")) {
        puts_(&o, utf8);
        return sink_done(&o, out_len);
    }
    size_t i = 0;
    while (i < n) {
        size_t k = n - i < EW_MAX_OCTETS ? n - i : EW_MAX_OCTETS;
        while (k > 1 && i + k < n && ((unsigned char)utf8[i + k] & 0xC0) == 0x80) k--;
        char b64[BASE64_ENCODED_LEN(EW_MAX_OCTETS) + 1];
        int bl = base64_encode(utf8 + i, k, b64, sizeof b64);
        EXPECT(bl > 0);
        if (i) putch(&o, ' ');
        puts_(&o, "=?UTF-8?B?");
        put(&o, b64, (size_t)bl);
        puts_(&o, "?=");
        i += k;
    }
    return sink_done(&o, out_len);
}

/* ------------------------------------------------------------------ */
/* Simple message builder                                               */

static bool is_ascii(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80) return false;
    return true;
}

/* A mailbox with its display name RFC 2047-encoded when it is not ASCII. */
static enum msg_err put_mailbox(struct sink *o, const struct msg_addr *a)
{
    struct msg_addr tmp = *a;
    tmp.kind = MSG_ADDR_MAILBOX;
    if (!is_ascii(a->display)) {
        size_t k;
        if (msg_encode_words(a->display, tmp.display, sizeof tmp.display, &k)) return MSG_ERR_NO_SPACE;
    }
    put_entry(o, &tmp);
    return MSG_OK;
}

/* Writes name: value through the folding formatter. */
static enum msg_err put_field(struct sink *o, const char *name, const char *value)
{
    if (o->over) return MSG_ERR_NO_SPACE;
    size_t k;
    enum msg_err e = msg_format_field(name, value, o->buf + o->len, o->cap - o->len, &k);
    if (e == MSG_ERR_NO_SPACE) o->over = true;
    if (e) return e;
    o->len += k;
    return MSG_OK;
}

/* Values are built in this scratch before folding; a From/To line longer
 * than this is refused as NO_SPACE. */
#define BUILD_VALUE_MAX 4096

enum msg_err msg_build_simple(const struct msg_simple *m, char *out, size_t cap, size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!m || !m->from || (m->n_to && !m->to) || !date_args_ok(m->date, m->zone_min))
        return MSG_ERR_BAD_ARG;
    if (m->message_id) {
        struct msg_id id;
        if (msg_id_parse(m->message_id, strlen(m->message_id), &id)) return MSG_ERR_BAD_ARG;
    }
    if (m->subject && strpbrk(m->subject, "\r\n")) return MSG_ERR_BAD_ARG;
    struct sink o;
    sink_init(&o, out, cap);
    char value[BUILD_VALUE_MAX];
    struct sink v;
    enum msg_err e;

    sink_init(&v, value, sizeof value);
    if ((e = put_mailbox(&v, m->from))) return e;
    if (v.over) return MSG_ERR_NO_SPACE;
    if ((e = put_field(&o, "From", value))) return e;

    if (m->n_to) {
        sink_init(&v, value, sizeof value);
        for (size_t i = 0; i < m->n_to; i++) {
            if (i) puts_(&v, ", ");
            if ((e = put_mailbox(&v, &m->to[i]))) return e;
        }
        if (v.over) return MSG_ERR_NO_SPACE;
        if ((e = put_field(&o, "To", value))) return e;
    }
    if (m->subject) {
        size_t k;
        if (msg_encode_words(m->subject, value, sizeof value, &k)) return MSG_ERR_NO_SPACE;
        if ((e = put_field(&o, "Subject", value))) return e;
    }
    sink_init(&v, value, sizeof value);
    put_date(&v, m->date, m->zone_min);
    if ((e = put_field(&o, "Date", value))) return e;
    if (m->message_id && (e = put_field(&o, "Message-ID", m->message_id))) return e;
    const char *body = m->body ? m->body : "";
    if (!is_ascii(body)) { /* RFC 2045 4, 5, 6: say what the 8-bit octets are */
        puts_(&o, "MIME-Version: 1.0\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n");
    }
    puts_(&o, "\r\n");
    /* RFC 5322 2.3: every body line ends in CRLF, none over 998 octets */
    size_t i = 0, n = strlen(body);
    while (i < n) {
        const char *lf = memchr(body + i, '\n', n - i);
        size_t e2 = lf ? (size_t)(lf - body) : n, ln = e2 - i;
        if (ln && body[e2 - 1] == '\r' && lf) ln--;
        if (ln > MSG_MAX_LINE) return MSG_ERR_LINE_TOO_LONG;
        for (size_t k = i; k < i + ln; k++)
            if (body[k] == '\r') return MSG_ERR_BAD_ARG; /* a bare CR (2.3) */
        put(&o, body + i, ln);
        put(&o, "\r\n", 2);
        i = lf ? e2 + 1 : n;
    }
    return sink_done(&o, out_len);
}
