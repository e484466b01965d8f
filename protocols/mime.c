/* MIME structure: see mime.h for the contracts. */
#include "protocols/mime.h"

#include <stdint.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/msg.h"

static const char *const err_names[MIME_ERR_COUNT] = {
    [MIME_OK] = "MIME_OK",
    [MIME_ERR_SYNTAX] = "MIME_ERR_SYNTAX",
    [MIME_ERR_TOO_MANY_PARAMS] = "MIME_ERR_TOO_MANY_PARAMS",
    [MIME_ERR_TOO_LONG] = "MIME_ERR_TOO_LONG",
    [MIME_ERR_UNTERMINATED_QUOTE] = "MIME_ERR_UNTERMINATED_QUOTE",
    [MIME_ERR_NO_BOUNDARY] = "MIME_ERR_NO_BOUNDARY",
    [MIME_ERR_NO_CLOSE] = "MIME_ERR_NO_CLOSE",
    [MIME_ERR_NO_PARTS] = "MIME_ERR_NO_PARTS",
    [MIME_ERR_TOO_DEEP] = "MIME_ERR_TOO_DEEP",
    [MIME_ERR_TOO_MANY_PARTS] = "MIME_ERR_TOO_MANY_PARTS",
    [MIME_ERR_HEADER] = "MIME_ERR_HEADER",
};

const char *mime_strerror(enum mime_err e)
{
    if ((int)e < 0 || e >= MIME_ERR_COUNT || !err_names[e]) return "?";
    return err_names[e];
}

const char *mime_kind_name(enum mime_kind k)
{
    static const char *const names[MIME_KIND_COUNT] = {
        [MIME_KIND_SINGLE] = "SINGLE",
        [MIME_KIND_MULTIPART] = "MULTIPART",
        [MIME_KIND_MESSAGE] = "MESSAGE",
    };
    if ((int)k < 0 || k >= MIME_KIND_COUNT) return "?";
    return names[k];
}

/* ------------------------------------------------------------------ */
/* Content-Type and Content-Disposition values (RFC 2045 5.1, 2183 2)   */

struct lex {
    const char *s;
    size_t n, i;
};

static int peek(const struct lex *l) { return l->i < l->n ? (unsigned char)l->s[l->i] : -1; }

static bool is_wsp(int c) { return c == ' ' || c == '\t'; }

/* RFC 2045 5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials> */
static bool is_token(int c) { return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?=", c); }

/* Skips white space, folds and (nested) comments; RFC 2045 5.1 allows RFC
 * 822 comments in these fields. Returns false on an unterminated comment,
 * which simply fails the field. */
static bool cfws(struct lex *l)
{
    while (l->i < l->n) {
        char c = l->s[l->i];
        if (is_wsp((unsigned char)c) || c == '\r' || c == '\n') {
            l->i++;
        } else if (c == '(') {
            int depth = 0;
            do {
                if (l->i >= l->n) return false;
                c = l->s[l->i++];
                if (c == '\\' && l->i < l->n) l->i++;
                else if (c == '(') depth++;
                else if (c == ')') depth--;
            } while (depth > 0);
        } else {
            break;
        }
    }
    return true;
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Reads a token into out (lower-cased when fold is set). Returns MIME_OK,
 * MIME_ERR_SYNTAX when there is none, MIME_ERR_TOO_LONG. */
static enum mime_err token(struct lex *l, char *out, size_t cap, bool fold)
{
    size_t b = l->i;
    while (l->i < l->n && is_token((unsigned char)l->s[l->i])) l->i++;
    size_t k = l->i - b;
    if (k == 0) return MIME_ERR_SYNTAX;
    if (k >= cap) return MIME_ERR_TOO_LONG;
    for (size_t j = 0; j < k; j++) out[j] = fold ? lower(l->s[b + j]) : l->s[b + j];
    out[k] = 0;
    return MIME_OK;
}

/* quoted-string (RFC 822 3.3 via RFC 2045 5.1), unquoted into out. */
static enum mime_err quoted(struct lex *l, char *out, size_t cap)
{
    size_t k = 0;
    l->i++; /* the opening DQUOTE */
    while (l->i < l->n) {
        char c = l->s[l->i++];
        if (c == '"') {
            out[k] = 0;
            return MIME_OK;
        }
        if (c == '\\') {
            if (l->i >= l->n) break;
            c = l->s[l->i++];
        } else if (c == '\r' || c == '\n') {
            continue; /* a fold inside the string */
        }
        if (k + 1 >= cap) return MIME_ERR_TOO_LONG;
        out[k++] = c;
    }
    return MIME_ERR_UNTERMINATED_QUOTE;
}

/* *(";" attribute "=" value), a trailing ";" tolerated as real mailers
 * write it. Parameters past MIME_MAX_PARAMS are read and dropped. */
static enum mime_err params(struct lex *l, struct mime_ctype *ct)
{
    enum mime_err dropped = MIME_OK, e;
    for (;;) {
        if (!cfws(l)) return MIME_ERR_SYNTAX;
        if (peek(l) < 0) return dropped;
        if (peek(l) != ';') return MIME_ERR_SYNTAX;
        l->i++;
        if (!cfws(l)) return MIME_ERR_SYNTAX;
        if (peek(l) < 0) return dropped;
        if (peek(l) == ';') continue;
        struct mime_param p;
        if ((e = token(l, p.name, sizeof p.name, true))) return e;
        if (!cfws(l)) return MIME_ERR_SYNTAX;
        if (peek(l) != '=') return MIME_ERR_SYNTAX;
        l->i++;
        if (!cfws(l)) return MIME_ERR_SYNTAX;
        e = peek(l) == '"' ? quoted(l, p.value, sizeof p.value) : token(l, p.value, sizeof p.value, false);
        if (e) return e;
        if (ct->n_params < MIME_MAX_PARAMS) ct->params[ct->n_params++] = p;
        else dropped = MIME_ERR_TOO_MANY_PARAMS;
    }
}

static void set_default(struct mime_ctype *ct, const char *type, const char *subtype)
{
    memset(ct, 0, sizeof *ct);
    strcpy(ct->type, type);
    strcpy(ct->subtype, subtype);
    if (strcmp(type, "text") == 0) { /* RFC 2045 5.2 */
        strcpy(ct->params[0].name, "charset");
        strcpy(ct->params[0].value, "us-ascii");
        ct->n_params = 1;
    }
}

/* RFC 2045 5.1: type "/" subtype *(";" parameter), CFWS between. */
static enum mime_err ctype(struct lex *l, struct mime_ctype *out)
{
    enum mime_err e;
    if (!cfws(l)) return MIME_ERR_SYNTAX;
    if ((e = token(l, out->type, sizeof out->type, true))) return e;
    if (!cfws(l) || peek(l) != '/') return MIME_ERR_SYNTAX;
    l->i++;
    if (!cfws(l)) return MIME_ERR_SYNTAX;
    if ((e = token(l, out->subtype, sizeof out->subtype, true))) return e;
    return params(l, out);
}

enum mime_err mime_ctype_parse(const char *s, size_t n, struct mime_ctype *out)
{
    struct lex l = {s, n, 0};
    memset(out, 0, sizeof *out);
    enum mime_err e = ctype(&l, out);
    if (e && e != MIME_ERR_TOO_MANY_PARAMS) set_default(out, "text", "plain"); /* RFC 2045 5.2 */
    return e;
}

enum mime_err mime_disposition_parse(const char *s, size_t n, struct mime_ctype *out)
{
    struct lex l = {s, n, 0};
    enum mime_err e;
    memset(out, 0, sizeof *out);
    if (!cfws(&l)) e = MIME_ERR_SYNTAX;
    else if (!(e = token(&l, out->type, sizeof out->type, true))) e = params(&l, out);
    if (e && e != MIME_ERR_TOO_MANY_PARAMS) memset(out, 0, sizeof *out);
    return e;
}

const char *mime_param_get(const struct mime_ctype *ct, const char *name)
{
    for (size_t i = 0; i < ct->n_params; i++)
        if (ascii_eq(ct->params[i].name, strlen(ct->params[i].name), name)) return ct->params[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */

struct mime_tree {
    const char *msg;   /* borrowed during mime_parse only */
    size_t n;
    enum mime_err first;
    struct mime_part part[MIME_MAX_PARTS];
    struct msg_header scratch; /* one header at a time: parsed, read, reused */
};

struct mime_tree *mime_new(void)
{
    /* not calloc: the part table is most of the tree, and mime_parse()
     * clears each part as it adds it; an IMAP session makes one tree and
     * often parses nothing */
    struct mime_tree *t = malloc(sizeof *t);
    if (!t) return NULL;
    t->msg = NULL;
    t->n = 0;
    t->first = MIME_OK;
    return t;
}

void mime_free(struct mime_tree *t) { free(t); }

size_t mime_count(const struct mime_tree *t) { return t->n; }

const struct mime_part *mime_part(const struct mime_tree *t, size_t i)
{
    EXPECT(i < t->n);
    return &t->part[i];
}

int mime_find_section(const struct mime_tree *t, const char *section)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->part[i].section, section) == 0) return (int)i;
    return -1;
}

static void note(struct mime_tree *t, struct mime_part *p, enum mime_err e)
{
    if (p && p->problem == MIME_OK) p->problem = e;
    if (t->first == MIME_OK) t->first = e;
}

/* When the header does not parse, its end is still wanted: the first empty
 * line, found without any field rules (CRLF or bare LF), else the end. */
static size_t raw_header_len(const char *s, size_t n)
{
    if (n >= 1 && s[0] == '\n') return 1;
    if (n >= 2 && s[0] == '\r' && s[1] == '\n') return 2;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\n') continue;
        if (s[i + 1] == '\n') return i + 2;
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
    }
    return n;
}

/* Lines in s[0..n): every LF ends one, and a last line without LF counts. */
static size_t count_lines(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    return c + (n && s[n - 1] != '\n');
}

/* Copies field `name`'s first occurrence, unfolded, into out (cap bytes);
 * "" when absent. Too long: "" and MIME_ERR_TOO_LONG noted. */
static void copy_field(struct mime_tree *t, struct mime_part *p, const char *name, char *out, size_t cap)
{
    out[0] = 0;
    int i = msg_header_find(&t->scratch, name, 0);
    if (i < 0) return;
    size_t vl, k;
    const char *v = msg_field_value(&t->scratch, (size_t)i, &vl);
    if (msg_unfold(v, vl, out, cap, &k) != MSG_OK) {
        out[0] = 0;
        note(t, p, MIME_ERR_TOO_LONG);
    }
}

/* Reads the Content-* fields of the header in t->scratch into p. */
static void read_fields(struct mime_tree *t, struct mime_part *p, bool in_digest)
{
    const struct msg_header *h = &t->scratch;
    size_t vl;
    int i = msg_header_find(h, "Content-Type", 0);
    if (i < 0) { /* RFC 2045 5.2 default; RFC 2046 5.1.5 inside a digest */
        if (in_digest) set_default(&p->ctype, "message", "rfc822");
        else set_default(&p->ctype, "text", "plain");
    } else {
        const char *v = msg_field_value(h, (size_t)i, &vl);
        enum mime_err e = mime_ctype_parse(v, vl, &p->ctype);
        if (e) note(t, p, e);
    }

    strcpy(p->encoding, "7BIT"); /* RFC 2045 6.1 default */
    i = msg_header_find(h, "Content-Transfer-Encoding", 0);
    if (i >= 0) {
        const char *v = msg_field_value(h, (size_t)i, &vl);
        struct lex l = {v, vl, 0};
        char enc[MIME_MAX_TOKEN];
        if (cfws(&l) && token(&l, enc, sizeof enc, false) == MIME_OK && cfws(&l) && l.i == vl) {
            for (char *c = enc; *c; c++)
                if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32); /* 2045 6.1: case-insensitive */
            strcpy(p->encoding, enc);
        } else {
            note(t, p, MIME_ERR_SYNTAX);
        }
    }

    i = msg_header_find(h, "Content-Disposition", 0);
    if (i >= 0) {
        const char *v = msg_field_value(h, (size_t)i, &vl);
        enum mime_err e = mime_disposition_parse(v, vl, &p->disposition);
        p->has_disposition = e == MIME_OK || e == MIME_ERR_TOO_MANY_PARAMS;
        if (e) note(t, p, e);
    }
    copy_field(t, p, "Content-ID", p->id, sizeof p->id);
    copy_field(t, p, "Content-Description", p->description, sizeof p->description);
    copy_field(t, p, "Content-Language", p->language, sizeof p->language);
}

/* RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace, 1-70 characters. */
static bool valid_boundary(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > MIME_MAX_BOUNDARY || b[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  strchr("'()+_,-./:=? ", c);
        if (!ok) return false;
    }
    return true;
}

/* Whether line[0..n) (its ending excluded) is a delimiter line for b:
 * 0 no, 1 "--b", 2 the close "--b--"; RFC 2046 5.1.1 lets transport
 * padding (WSP) follow. */
static int delimiter(const char *line, size_t n, const char *b, size_t bl)
{
    if (n < bl + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, bl) != 0) return 0;
    size_t i = bl + 2;
    int kind = 1;
    if (i + 2 <= n && line[i] == '-' && line[i + 1] == '-') {
        kind = 2;
        i += 2;
    }
    while (i < n && is_wsp((unsigned char)line[i])) i++;
    return i == n ? kind : 0;
}

/* Steps through [pos, end) one line at a time: the line's content end (CR
 * LF excluded) and where the next line starts. */
static void line_at(const char *s, size_t pos, size_t end, size_t *content_end, size_t *next)
{
    const char *lf = memchr(s + pos, '\n', end - pos);
    size_t le = lf ? (size_t)(lf - s) : end;
    *next = lf ? le + 1 : end;
    if (lf && le > pos && s[le - 1] == '\r') le--;
    *content_end = le;
}

static bool has_delimiter(const char *s, size_t pos, size_t end, const char *b, size_t bl)
{
    while (pos < end) {
        size_t ce, next;
        line_at(s, pos, end, &ce, &next);
        if (delimiter(s + pos, ce - pos, b, bl) == 1) return true;
        pos = next;
    }
    return false;
}

static int entity(struct mime_tree *t, size_t off, size_t end, int parent, int depth,
                  const char *section, bool msg_root, bool in_digest);

/* out = base, or base "." num ("num" when base is empty). */
static void make_section(char out[MIME_MAX_SECTION], const char *base, int num, bool suffix)
{
    int k;
    if (!suffix) k = snprintf(out, MIME_MAX_SECTION, "%s", base);
    else if (!*base) k = snprintf(out, MIME_MAX_SECTION, "%d", num);
    else k = snprintf(out, MIME_MAX_SECTION, "%s.%d", base, num);
    /* at most MIME_MAX_DEPTH levels of ".NN" (numbers < MIME_MAX_PARTS) and one ".1" */
    EXPECT(k >= 0 && k < MIME_MAX_SECTION);
}

/* Splits the body of multipart entity idx into its parts (RFC 2046 5.1.1):
 * the preamble before the first delimiter and the epilogue after the close
 * delimiter are ignored; the CRLF before each delimiter belongs to it. */
static void split(struct mime_tree *t, int idx, const char *b)
{
    struct mime_part *p = &t->part[idx];
    size_t bl = strlen(b), pos = p->body_off, end = p->body_off + p->body_len, start = 0;
    bool digest = strcmp(p->ctype.subtype, "digest") == 0, open = false, closed = false;
    int num = 0, last = -1;
    while (pos < end && !closed) {
        size_t ce, next;
        line_at(t->msg, pos, end, &ce, &next);
        int kind = delimiter(t->msg + pos, ce - pos, b, bl);
        if (kind == 2 && !open) kind = 0; /* a close before any part: preamble */
        if (kind) {
            if (open) {
                size_t pend = pos; /* the line ending before the delimiter is not the part's */
                if (pend > start && t->msg[pend - 1] == '\n') pend--;
                if (pend > start && t->msg[pend - 1] == '\r') pend--;
                char sec[MIME_MAX_SECTION];
                make_section(sec, p->section, ++num, true);
                int c = entity(t, start, pend, idx, p->depth + 1, sec, false, digest);
                if (c < 0) return; /* MIME_MAX_PARTS reached: the rest is not listed */
                if (last < 0) p->first_child = c;
                else t->part[last].next_sibling = c;
                last = c;
                p->n_children++;
            }
            closed = kind == 2;
            open = true;
            start = next;
        }
        pos = next;
    }
    if (!closed) { /* no close delimiter: the last part runs to the end */
        note(t, p, MIME_ERR_NO_CLOSE);
        char sec[MIME_MAX_SECTION];
        make_section(sec, p->section, ++num, true);
        int c = entity(t, start, end, idx, p->depth + 1, sec, false, digest);
        if (c < 0) return;
        if (last < 0) p->first_child = c;
        else t->part[last].next_sibling = c;
        p->n_children++;
    }
}

static bool is_identity_encoding(const char *enc)
{
    /* RFC 2045 6.4 / RFC 2046 5.2.1: composite types are never encoded */
    return strcmp(enc, "7BIT") == 0 || strcmp(enc, "8BIT") == 0 || strcmp(enc, "BINARY") == 0;
}

/* Adds the entity at msg[off..end) and, for composite types, its children.
 * Returns its index, or -1 when MIME_MAX_PARTS is reached. */
static int entity(struct mime_tree *t, size_t off, size_t end, int parent, int depth,
                  const char *section, bool msg_root, bool in_digest)
{
    if (t->n == MIME_MAX_PARTS) {
        note(t, NULL, MIME_ERR_TOO_MANY_PARTS);
        return -1;
    }
    int idx = (int)t->n++;
    struct mime_part *p = &t->part[idx];
    memset(p, 0, sizeof *p);
    p->parent = parent;
    p->first_child = p->next_sibling = -1;
    p->depth = depth;

    size_t hlen;
    if (msg_parse_header(t->msg + off, end - off, &t->scratch) == MSG_OK) {
        hlen = t->scratch.body_off;
    } else { /* keep the fields read before the bad line; find the end by hand */
        note(t, p, MIME_ERR_HEADER);
        hlen = raw_header_len(t->msg + off, end - off);
    }
    p->header_off = off;
    p->header_len = hlen;
    p->body_off = off + hlen;
    p->body_len = end - p->body_off;
    p->body_lines = count_lines(t->msg + p->body_off, p->body_len);
    read_fields(t, p, in_digest);

    p->kind = MIME_KIND_SINGLE;
    char boundary[MIME_MAX_PARAM_VALUE] = "";
    bool multi = strcmp(p->ctype.type, "multipart") == 0;
    bool message = strcmp(p->ctype.type, "message") == 0 && strcmp(p->ctype.subtype, "rfc822") == 0 &&
                   is_identity_encoding(p->encoding);
    if ((multi || message) && depth + 1 >= MIME_MAX_DEPTH) {
        note(t, p, MIME_ERR_TOO_DEEP); /* a leaf of unknown content from here */
        set_default(&p->ctype, "application", "octet-stream");
        multi = message = false;
    }
    if (multi) {
        const char *b = mime_param_get(&p->ctype, "boundary");
        if (!b || !valid_boundary(b)) {
            note(t, p, MIME_ERR_NO_BOUNDARY);
            multi = false;
        } else if (!has_delimiter(t->msg, p->body_off, end, b, strlen(b))) {
            note(t, p, MIME_ERR_NO_PARTS);
            multi = false;
        } else {
            strcpy(boundary, b);
        }
        if (!multi) set_default(&p->ctype, "text", "plain"); /* RFC 2045 5.2 fallback */
    }
    /* RFC 3501 6.4.5: a message's parts are numbered from its own number
     * when it is multipart; a non-multipart message has one part, ".1". */
    make_section(p->section, section, 1, msg_root && !multi);

    if (multi) {
        p->kind = MIME_KIND_MULTIPART;
        split(t, idx, boundary);
    } else if (message) {
        p->kind = MIME_KIND_MESSAGE;
        int c = entity(t, p->body_off, end, idx, depth + 1, p->section, true, false);
        if (c >= 0) {
            p->first_child = c;
            p->n_children = 1;
        }
    }
    return idx;
}

enum mime_err mime_parse(struct mime_tree *t, const char *msg, size_t len)
{
    t->msg = msg;
    t->n = 0;
    t->first = MIME_OK;
    entity(t, 0, len, -1, 0, "", true, false);
    t->msg = NULL; /* nothing borrowed past the call */
    return t->first;
}
