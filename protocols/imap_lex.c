/* IMAP4rev1 wire codec, shared part: the framer that gathers a command or a
 * response with its literals, the lexer for the RFC 3501 9 formal syntax,
 * the output writer, and the name tables both directions use. */
#include "protocols/imap_lex.h"

#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"

/* ---- name tables -------------------------------------------------------- */

const char *const imap_status_item_names[IMAP_STATUS_COUNT] = {
    "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN",
};

const char *const imap_section_text_names[IMAP_SECTION_COUNT] = {
    "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME",
};

const char *const imap_fetch_item_names[IMAP_FETCH_COUNT] = {
    "ALL", "FAST", "FULL", "ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822",
    "RFC822.HEADER", "RFC822.SIZE", "RFC822.TEXT", "BODY", "BODYSTRUCTURE",
    "UID", "BODY[]", "MODSEQ",
};

const char *const imap_value_type_names[IMAP_V_COUNT] = {
    "NIL", "NUMBER", "ATOM", "STRING", "LIST",
};

static const char *const err_names[IMAP_ERR_COUNT] = {
    [IMAP_ERR_NONE] = "no error",
    [IMAP_ERR_NOMEM] = "out of memory",
    [IMAP_ERR_TOO_LONG] = "command or response text too long",
    [IMAP_ERR_LITERAL_TOO_BIG] = "literal larger than the limit",
    [IMAP_ERR_TOO_MANY] = "too many arguments",
    [IMAP_ERR_TOO_DEEP] = "lists nested too deeply",
    [IMAP_ERR_TAG] = "missing or invalid tag",
    [IMAP_ERR_UNKNOWN_COMMAND] = "unknown command",
    [IMAP_ERR_UID_COMMAND] = "UID with a command other than COPY FETCH SEARCH STORE EXPUNGE",
    [IMAP_ERR_SYNTAX] = "syntax error",
    [IMAP_ERR_BAD_CHAR] = "character not allowed here",
    [IMAP_ERR_QUOTED] = "invalid quoted string",
    [IMAP_ERR_LITERAL] = "invalid literal",
    [IMAP_ERR_PAREN] = "unbalanced parentheses",
    [IMAP_ERR_NUMBER] = "invalid number",
    [IMAP_ERR_SEQSET] = "invalid sequence set",
    [IMAP_ERR_DATE] = "invalid date",
    [IMAP_ERR_FLAG] = "invalid flag",
    [IMAP_ERR_FETCH_ATT] = "unknown FETCH attribute",
    [IMAP_ERR_SECTION] = "invalid section",
    [IMAP_ERR_PARTIAL] = "invalid partial range",
    [IMAP_ERR_SEARCH_KEY] = "invalid SEARCH key",
    [IMAP_ERR_STATUS_ITEM] = "unknown STATUS item",
    [IMAP_ERR_STORE_OP] = "invalid STORE operation",
    [IMAP_ERR_BAD_DONE] = "expected DONE",
    [IMAP_ERR_RESPONSE] = "unknown or malformed response",
    [IMAP_ERR_RESP_CODE] = "malformed response code",
    [IMAP_ERR_BASE64] = "invalid base64",
    [IMAP_ERR_MODIFIER] = "unknown SELECT parameter or FETCH modifier",
};

const char *imap_strerror(enum imap_err err)
{
    if ((unsigned)err >= IMAP_ERR_COUNT || !err_names[err]) return "unknown error";
    return err_names[err];
}

static const char *const flag_names[] = {
    "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent",
};

unsigned imap_flag_bit(const char *s, size_t n)
{
    for (size_t i = 0; i < ARRAY_LEN(flag_names); i++)
        if (ascii_eq(s, n, flag_names[i])) return 1u << i;
    return 0;
}

const char *imap_flag_name(unsigned bit)
{
    for (size_t i = 0; i < ARRAY_LEN(flag_names); i++)
        if (bit == 1u << i) return flag_names[i];
    return NULL;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t star)
{
    for (size_t i = 0; i < set->n; i++) {
        uint32_t lo = set->ranges[i].lo == IMAP_STAR ? star : set->ranges[i].lo;
        uint32_t hi = set->ranges[i].hi == IMAP_STAR ? star : set->ranges[i].hi;
        if (lo > hi) { /* RFC 3501 9 seq-range: "2:4" and "4:2" are the same */
            uint32_t t = lo;
            lo = hi;
            hi = t;
        }
        if (n >= lo && n <= hi) return true;
    }
    return false;
}

/* ---- framer ------------------------------------------------------------- */

int imap_frame_init(struct imap_frame *f, size_t max_literal, bool sync_waits)
{
    memset(f, 0, sizeof *f);
    f->max_literal = max_literal;
    f->sync_waits = sync_waits;
    f->literals = true;
    f->lbmem = malloc(IMAP_MAX_TEXT);
    f->cap = 1024;
    f->buf = malloc(f->cap);
    if (!f->lbmem || !f->buf) return -1;
    linebuf_init(&f->lb, f->lbmem, IMAP_MAX_TEXT);
    return 0;
}

void imap_frame_free(struct imap_frame *f)
{
    free(f->lbmem);
    free(f->buf);
    f->lbmem = f->buf = NULL;
}

static void start_message(struct imap_frame *f)
{
    f->len = 0;
    f->text = 0;
    f->lit_total = 0;
    f->nlits = 0;
    f->lit_pending = false;
    f->done = false;
}

void imap_frame_reset(struct imap_frame *f)
{
    linebuf_reset(&f->lb);
    start_message(f);
    f->lit_left = 0;
    f->skipping = false;
}

size_t imap_frame_feed(struct imap_frame *f, const char *in, size_t n)
{
    return linebuf_feed(&f->lb, in, n);
}

/* Room for need more octets. The owner's limits keep len + need within
 * IMAP_MAX_TEXT + max_literal, and growth stops there too. */
static int reserve(struct imap_frame *f, size_t need)
{
    if (f->cap - f->len >= need) return 0;
    size_t limit = IMAP_MAX_TEXT + f->max_literal;
    EXPECT(f->len + need <= limit);
    size_t cap = f->cap;
    while (cap - f->len < need) cap = cap > limit / 2 ? limit : cap * 2;
    char *b = realloc(f->buf, cap);
    if (!b) return -1;
    f->buf = b;
    f->cap = cap;
    return 0;
}

/* A line ending in "{digits}" or "{digits+}" announces a literal (RFC 3501
 * 4.3, RFC 7888 3). The size saturates instead of wrapping. */
static bool literal_suffix(const char *s, size_t n, uint64_t *size, bool *sync)
{
    if (n < 3 || s[n - 1] != '}') return false;
    size_t end = n - 1;
    *sync = true;
    if (s[end - 1] == '+') {
        *sync = false;
        end--;
    }
    size_t i = end;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') i--;
    if (i == end || i == 0 || s[i - 1] != '{') return false;
    uint64_t v = 0;
    for (size_t k = i; k < end; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *size = v;
    return true;
}

static void keep_head(struct imap_frame *f, const char *s, size_t n)
{
    f->head_len = n < sizeof f->head ? n : sizeof f->head;
    memcpy(f->head, s, f->head_len);
}

enum imap_frame_ev imap_frame_next(struct imap_frame *f)
{
    for (;;) {
        if (f->lit_left > 0) {
            const char *d;
            size_t want = f->lit_left > SIZE_MAX ? SIZE_MAX : (size_t)f->lit_left;
            size_t n = linebuf_take_raw(&f->lb, &d, want);
            if (n == 0) return IMAP_FRAME_NEED_MORE;
            if (!f->skipping) { /* accept reserved the room */
                memcpy(f->buf + f->len, d, n);
                f->len += n;
            }
            f->lit_left -= n;
            continue;
        }
        if (f->done) start_message(f);
        const char *line;
        size_t n;
        bool bare;
        enum linebuf_status st = linebuf_next(&f->lb, &line, &n, &bare);
        if (st == LINEBUF_NEED_MORE) return IMAP_FRAME_NEED_MORE;
        if (st == LINEBUF_TOO_LONG) {
            /* The line is dropped up to its LF; whether it announced a
             * literal cannot be known, so the message ends with it. */
            bool was_skipping = f->skipping;
            f->skipping = false;
            if (was_skipping) continue;
            if (f->len > 0)
                keep_head(f, f->buf, f->len);
            else
                keep_head(f, f->lb.data + f->lb.start, f->lb.len);
            f->lit_pending = false;
            return IMAP_FRAME_TOO_LONG;
        }
        uint64_t size = 0;
        bool sync = false;
        bool lit = f->literals && literal_suffix(line, n, &size, &sync);
        if (f->skipping) {
            if (lit && !(sync && f->sync_waits)) {
                f->lit_left = size;
            } else {
                f->skipping = false;
            }
            continue;
        }
        f->lit_pending = lit;
        f->lit_n = size;
        f->lit_sync = sync;
        if (f->text + n + 2 > IMAP_MAX_TEXT) {
            keep_head(f, f->len > 0 ? f->buf : line, f->len > 0 ? f->len : n);
            return IMAP_FRAME_TOO_LONG;
        }
        if (reserve(f, n + 2) < 0) return IMAP_FRAME_NOMEM;
        /* A bare LF is taken as CRLF (RFC 3501 2.2 wants CRLF; real
         * clients are forgiven, as Dovecot does). */
        memcpy(f->buf + f->len, line, n);
        memcpy(f->buf + f->len + n, "\r\n", 2);
        f->len += n + 2;
        f->text += n + 2;
        if (lit) return IMAP_FRAME_LITERAL;
        f->done = true;
        return IMAP_FRAME_COMPLETE;
    }
}

int imap_frame_accept(struct imap_frame *f)
{
    EXPECT(f->lit_pending && f->lit_n <= f->max_literal);
    if (reserve(f, (size_t)f->lit_n) < 0) return -1;
    f->lit_pending = false;
    f->lit_left = f->lit_n;
    f->lit_total += (size_t)f->lit_n;
    f->nlits++;
    return 0;
}

void imap_frame_discard(struct imap_frame *f)
{
    if (f->lit_pending && !(f->lit_sync && f->sync_waits)) {
        f->lit_left = f->lit_n;
        f->skipping = true;
    }
    start_message(f);
}

size_t imap_frame_pending(const struct imap_frame *f)
{
    return linebuf_pending(&f->lb) + (f->done ? 0 : f->len);
}

/* ---- lexer -------------------------------------------------------------- */

void imap_lex_begin(struct imap_lex *L, const char *s, size_t len, bool prefix)
{
    L->s = s;
    L->len = len;
    L->pos = 0;
    L->err = IMAP_ERR_NONE;
    L->prefix = prefix;
    L->incomplete = false;
    L->depth = 0;
    L->fail_as = IMAP_ERR_NONE;
    L->lit_end = SIZE_MAX;
    L->arena_len = 0;
    L->nstrs = 0;
    L->nranges = 0;
}

_Noreturn void imap_lex_fail(struct imap_lex *L, enum imap_err e)
{
    L->err = L->fail_as != IMAP_ERR_NONE ? L->fail_as : e;
    longjmp(L->jb, 1);
}

int imap_lex_peek(const struct imap_lex *L)
{
    return L->pos < L->len ? (unsigned char)L->s[L->pos] : -1;
}

bool imap_lex_eat(struct imap_lex *L, char c)
{
    if (imap_lex_peek(L) != (unsigned char)c) return false;
    L->pos++;
    return true;
}

void imap_lex_expect(struct imap_lex *L, char c, enum imap_err e)
{
    if (!imap_lex_eat(L, c)) imap_lex_fail(L, e);
}

bool imap_lex_at_end(const struct imap_lex *L)
{
    return L->pos + 2 == L->len && L->s[L->pos] == '\r' && L->s[L->pos + 1] == '\n';
}

/* Between arguments exactly one SP (RFC 3501 9). A CRLF in the middle of the
 * text is where a literal's octets ended and the line went on: the octets
 * did not match their announcement. */
static bool lied(const struct imap_lex *L)
{
    return L->pos == L->lit_end || (imap_lex_peek(L) == '\r' && !imap_lex_at_end(L));
}

void imap_lex_sp(struct imap_lex *L)
{
    if (imap_lex_eat(L, ' ')) return;
    if (lied(L)) imap_lex_fail(L, IMAP_ERR_LITERAL);
    /* The line ended with a list still open. */
    imap_lex_fail(L, imap_lex_at_end(L) && L->depth > 0 ? IMAP_ERR_PAREN : IMAP_ERR_SYNTAX);
}

void imap_lex_crlf(struct imap_lex *L)
{
    if (imap_lex_at_end(L)) {
        L->pos += 2;
        return;
    }
    int c = imap_lex_peek(L);
    if (lied(L)) imap_lex_fail(L, IMAP_ERR_LITERAL); /* see imap_lex_sp */
    if (c == ')') imap_lex_fail(L, IMAP_ERR_PAREN);
    imap_lex_fail(L, IMAP_ERR_SYNTAX);
}

void imap_lex_open(struct imap_lex *L)
{
    imap_lex_expect(L, '(', IMAP_ERR_SYNTAX);
    if (++L->depth > IMAP_MAX_DEPTH) imap_lex_fail(L, IMAP_ERR_TOO_DEEP);
}

void imap_lex_close(struct imap_lex *L)
{
    if (!imap_lex_eat(L, ')')) {
        if (lied(L)) imap_lex_fail(L, IMAP_ERR_LITERAL);
        imap_lex_fail(L, imap_lex_at_end(L) ? IMAP_ERR_PAREN : IMAP_ERR_SYNTAX);
    }
    L->depth--;
}

static bool is_name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-';
}

size_t imap_lex_name(struct imap_lex *L, const char **w)
{
    size_t start = L->pos;
    while (L->pos < L->len && is_name_char((unsigned char)L->s[L->pos])) L->pos++;
    *w = L->s + start;
    return L->pos - start;
}

bool imap_lex_keyword(struct imap_lex *L, const char *kw)
{
    size_t save = L->pos;
    const char *w;
    size_t n = imap_lex_name(L, &w);
    if (ascii_eq(w, n, kw)) return true;
    L->pos = save;
    return false;
}

/* RFC 3501 9: ATOM-CHAR is any CHAR (7-bit, not NUL) except atom-specials:
 * "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]". */
bool imap_is_atom_char(int c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' &&
           c != '*' && c != '"' && c != '\\' && c != ']';
}

static bool atomish(int c, bool astring, bool list)
{
    if (imap_is_atom_char(c)) return true;
    if ((astring || list) && c == ']') return true; /* resp-specials */
    return list && (c == '%' || c == '*');           /* list-wildcards */
}

/* What is wrong with a character that cannot start or continue an atom. */
static enum imap_err bad_char_err(int c)
{
    if (c == '(' || c == ')') return IMAP_ERR_PAREN;
    if (c < 0 || c == '\r' || c == ' ') return IMAP_ERR_SYNTAX;
    return IMAP_ERR_BAD_CHAR;
}

void imap_lex_atom(struct imap_lex *L, struct imap_str *out, bool astring, bool list)
{
    size_t start = L->pos;
    while (L->pos < L->len && atomish((unsigned char)L->s[L->pos], astring, list)) L->pos++;
    if (L->pos == start) imap_lex_fail(L, bad_char_err(imap_lex_peek(L)));
    out->ptr = L->s + start;
    out->len = L->pos - start;
    out->nil = false;
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">. "*" and "+" would be
 * read by a client as untagged data and continuation requests. */
void imap_lex_tag(struct imap_lex *L, char *tag)
{
    size_t start = L->pos;
    while (L->pos < L->len) {
        int c = (unsigned char)L->s[L->pos];
        if (c == '+' || !atomish(c, true, false)) break;
        L->pos++;
    }
    size_t n = L->pos - start;
    int c = imap_lex_peek(L);
    if (n == 0 || n > IMAP_MAX_TAG || (c != ' ' && c != '\r')) imap_lex_fail(L, IMAP_ERR_TAG);
    memcpy(tag, L->s + start, n);
    tag[n] = 0;
}

/* RFC 3501 9: quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR is a 7-bit
 * TEXT-CHAR (no CR, LF or NUL) other than '"' and '\', or "\" followed by
 * one of them. 8-bit octets are not QUOTED-CHARs in IMAP4rev1 (RFC 6855
 * UTF8=ACCEPT would allow them): such strings must come as literals. */
static void quoted(struct imap_lex *L, struct imap_str *out)
{
    imap_lex_expect(L, '"', IMAP_ERR_SYNTAX);
    size_t start = L->pos;
    bool escapes = false;
    for (;;) {
        int c = imap_lex_peek(L);
        if (c < 0 || c == '\r' || c == '\n' || c == 0 || c >= 0x80) imap_lex_fail(L, IMAP_ERR_QUOTED);
        L->pos++;
        if (c == '"') break;
        if (c == '\\') {
            int e = imap_lex_peek(L);
            if (e != '"' && e != '\\') imap_lex_fail(L, IMAP_ERR_QUOTED);
            L->pos++;
            escapes = true;
        }
    }
    size_t end = L->pos - 1;
    out->nil = false;
    if (!escapes) {
        out->ptr = L->s + start;
        out->len = end - start;
        return;
    }
    /* Unescape into the arena; the input stays as it came because a prefix
     * parse may read it again later. */
    EXPECT(L->arena_len + (end - start) <= L->arena_cap);
    char *d = L->arena + L->arena_len;
    size_t k = 0;
    for (size_t i = start; i < end; i++) {
        if (L->s[i] == '\\') i++;
        d[k++] = L->s[i];
    }
    out->ptr = d;
    out->len = k;
    L->arena_len += k;
}

/* RFC 3501 9: literal = "{" number "}" CRLF *CHAR8, CHAR8 = %x01-ff; and
 * RFC 7888 literal+ = "{" number "+}". The framer stored the octets right
 * after the announcement's CRLF. */
static void literal(struct imap_lex *L, struct imap_str *out)
{
    imap_lex_expect(L, '{', IMAP_ERR_SYNTAX);
    uint64_t n = 0;
    size_t digits = 0;
    while (imap_lex_peek(L) >= '0' && imap_lex_peek(L) <= '9') {
        n = n * 10 + (uint64_t)(L->s[L->pos++] - '0');
        if (n > UINT32_MAX) imap_lex_fail(L, IMAP_ERR_LITERAL);
        digits++;
    }
    if (digits == 0) imap_lex_fail(L, IMAP_ERR_LITERAL);
    imap_lex_eat(L, '+');
    imap_lex_expect(L, '}', IMAP_ERR_LITERAL);
    /* The announcement must end its line: the framer only treats a line
     * ending in "}" as one; anything else is text that looks like it. */
    if (L->pos + 2 > L->len || L->s[L->pos] != '\r' || L->s[L->pos + 1] != '\n')
        imap_lex_fail(L, IMAP_ERR_LITERAL);
    L->pos += 2;
    if (L->prefix && L->pos == L->len) {
        L->incomplete = true; /* the octets are what the parse waits for */
        longjmp(L->jb, 1);
    }
    if (n > L->len - L->pos) imap_lex_fail(L, IMAP_ERR_LITERAL);
    if (memchr(L->s + L->pos, 0, (size_t)n)) imap_lex_fail(L, IMAP_ERR_LITERAL);
    out->ptr = L->s + L->pos;
    out->len = (size_t)n;
    out->nil = false;
    L->pos += (size_t)n;
    L->lit_end = L->pos;
}

void imap_lex_string(struct imap_lex *L, struct imap_str *out)
{
    int c = imap_lex_peek(L);
    if (c == '"')
        quoted(L, out);
    else if (c == '{')
        literal(L, out);
    else
        imap_lex_fail(L, c == '(' || c == ')' ? IMAP_ERR_PAREN : IMAP_ERR_SYNTAX);
}

void imap_lex_astring(struct imap_lex *L, struct imap_str *out)
{
    int c = imap_lex_peek(L);
    if (c == '"' || c == '{')
        imap_lex_string(L, out);
    else
        imap_lex_atom(L, out, true, false);
}

static bool at_nil(struct imap_lex *L)
{
    if (L->pos + 3 > L->len || ascii_ncasecmp(L->s + L->pos, "NIL", 3) != 0) return false;
    int next = L->pos + 3 < L->len ? (unsigned char)L->s[L->pos + 3] : -1;
    return !atomish(next, true, false);
}

void imap_lex_nstring(struct imap_lex *L, struct imap_str *out)
{
    if (at_nil(L)) {
        L->pos += 3;
        out->ptr = NULL;
        out->len = 0;
        out->nil = true;
        return;
    }
    imap_lex_string(L, out);
}

/* RFC 3501 5.1: "INBOX" is case-insensitive; every case variant means the
 * INBOX, so it is handed out in one spelling. */
static void inbox(struct imap_str *s)
{
    if (ascii_eq(s->ptr, s->len, "INBOX")) s->ptr = "INBOX";
}

void imap_lex_mailbox(struct imap_lex *L, struct imap_str *out)
{
    imap_lex_astring(L, out);
    inbox(out);
}

void imap_lex_list_mailbox(struct imap_lex *L, struct imap_str *out)
{
    int c = imap_lex_peek(L);
    if (c == '"' || c == '{')
        imap_lex_string(L, out);
    else
        imap_lex_atom(L, out, false, true);
}

static uint32_t number(struct imap_lex *L, enum imap_err e)
{
    uint64_t v = 0;
    size_t digits = 0;
    while (imap_lex_peek(L) >= '0' && imap_lex_peek(L) <= '9') {
        v = v * 10 + (uint64_t)(L->s[L->pos++] - '0');
        if (v > UINT32_MAX) imap_lex_fail(L, e); /* RFC 3501 9: 32 bits */
        digits++;
    }
    if (digits == 0) imap_lex_fail(L, e);
    return (uint32_t)v;
}

uint32_t imap_lex_number(struct imap_lex *L)
{
    return number(L, IMAP_ERR_NUMBER);
}

uint32_t imap_lex_number_as(struct imap_lex *L, enum imap_err e)
{
    return number(L, e);
}

uint64_t imap_lex_modseq(struct imap_lex *L, bool zero_ok)
{
    uint64_t v = 0;
    size_t digits = 0;
    while (imap_lex_peek(L) >= '0' && imap_lex_peek(L) <= '9') {
        unsigned d = (unsigned)(L->s[L->pos++] - '0');
        /* RFC 7162 7: at most 2^63 - 1 */
        if (v > (IMAP_MODSEQ_MAX - d) / 10) imap_lex_fail(L, IMAP_ERR_NUMBER);
        v = v * 10 + d;
        digits++;
    }
    if (digits == 0 || (v == 0 && !zero_ok)) imap_lex_fail(L, IMAP_ERR_NUMBER);
    return v;
}

uint32_t imap_lex_nz_number(struct imap_lex *L)
{
    uint32_t v = number(L, IMAP_ERR_NUMBER);
    if (v == 0) imap_lex_fail(L, IMAP_ERR_NUMBER);
    return v;
}

struct imap_str *imap_lex_new_str(struct imap_lex *L)
{
    if (L->nstrs >= L->max_strs) imap_lex_fail(L, IMAP_ERR_TOO_MANY);
    struct imap_str *s = &L->strs[L->nstrs++];
    memset(s, 0, sizeof *s);
    return s;
}

struct imap_range *imap_lex_new_range(struct imap_lex *L)
{
    if (L->nranges >= L->max_ranges) imap_lex_fail(L, IMAP_ERR_TOO_MANY);
    return &L->ranges[L->nranges++];
}

/* RFC 3501 9: seq-number = nz-number / "*". */
static uint32_t seq_number(struct imap_lex *L, bool star)
{
    if (star && imap_lex_eat(L, '*')) return IMAP_STAR;
    int c = imap_lex_peek(L);
    if (c < '0' || c > '9') imap_lex_fail(L, IMAP_ERR_SEQSET);
    uint32_t v = number(L, IMAP_ERR_SEQSET);
    if (v == 0) imap_lex_fail(L, IMAP_ERR_SEQSET); /* nz-number */
    return v;
}

/* RFC 3501 9: sequence-set = (seq-number / seq-range) *("," ...);
 * seq-range = seq-number ":" seq-number. RFC 4315's uid-set has no "*". */
void imap_lex_seqset(struct imap_lex *L, struct imap_seqset *out, bool star)
{
    size_t first = L->nranges;
    do {
        uint32_t lo = seq_number(L, star), hi = lo;
        if (imap_lex_eat(L, ':')) hi = seq_number(L, star);
        struct imap_range *r = imap_lex_new_range(L);
        r->lo = lo;
        r->hi = hi;
    } while (imap_lex_eat(L, ','));
    int c = imap_lex_peek(L);
    if (c != ' ' && c != '\r' && c != ')' && c != ']') imap_lex_fail(L, IMAP_ERR_SEQSET);
    out->ranges = &L->ranges[first];
    out->n = L->nranges - first;
}

static const char *const months[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

bool imap_date_valid(const struct imap_date *d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d->month < 1 || d->month > 12 || d->year < 1 || d->year > 9999 || d->day < 1 ||
        d->day > mdays[d->month - 1])
        return false;
    bool leap = (d->year % 4 == 0 && d->year % 100 != 0) || d->year % 400 == 0;
    return !(d->month == 2 && d->day == 29 && !leap);
}

bool imap_datetime_valid(const struct imap_datetime *dt)
{
    int z = dt->zone < 0 ? -dt->zone : dt->zone;
    return imap_date_valid(&dt->date) && dt->hour >= 0 && dt->hour <= 23 && dt->min >= 0 &&
           dt->min <= 59 && dt->sec >= 0 && dt->sec <= 60 && z <= 99 * 60 + 59;
}

static int digits(struct imap_lex *L, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = imap_lex_peek(L);
        if (c < '0' || c > '9') imap_lex_fail(L, IMAP_ERR_DATE);
        v = v * 10 + (c - '0');
        L->pos++;
    }
    return v;
}

static int month(struct imap_lex *L)
{
    for (int m = 0; m < 12; m++)
        if (L->pos + 3 <= L->len && ascii_ncasecmp(L->s + L->pos, months[m], 3) == 0) {
            L->pos += 3;
            return m + 1;
        }
    imap_lex_fail(L, IMAP_ERR_DATE);
}

/* RFC 3501 9: date = date-text / DQUOTE date-text DQUOTE;
 * date-text = date-day "-" date-month "-" date-year, date-day = 1*2DIGIT. */
void imap_lex_date(struct imap_lex *L, struct imap_date *d)
{
    bool q = imap_lex_eat(L, '"');
    int c = imap_lex_peek(L);
    if (c < '0' || c > '9') imap_lex_fail(L, IMAP_ERR_DATE);
    d->day = digits(L, 1);
    c = imap_lex_peek(L);
    if (c >= '0' && c <= '9') d->day = d->day * 10 + digits(L, 1);
    imap_lex_expect(L, '-', IMAP_ERR_DATE);
    d->month = month(L);
    imap_lex_expect(L, '-', IMAP_ERR_DATE);
    d->year = digits(L, 4);
    if (q) imap_lex_expect(L, '"', IMAP_ERR_DATE);
    if (!imap_date_valid(d)) imap_lex_fail(L, IMAP_ERR_DATE);
}

/* RFC 3501 9: date-time = DQUOTE date-day-fixed "-" date-month "-"
 * date-year SP time SP zone DQUOTE; date-day-fixed = (SP DIGIT) / 2DIGIT;
 * time = 2DIGIT ":" 2DIGIT ":" 2DIGIT; zone = ("+" / "-") 4DIGIT. */
void imap_lex_datetime(struct imap_lex *L, struct imap_datetime *dt)
{
    imap_lex_expect(L, '"', IMAP_ERR_DATE);
    if (imap_lex_eat(L, ' '))
        dt->date.day = digits(L, 1);
    else
        dt->date.day = digits(L, 2);
    imap_lex_expect(L, '-', IMAP_ERR_DATE);
    dt->date.month = month(L);
    imap_lex_expect(L, '-', IMAP_ERR_DATE);
    dt->date.year = digits(L, 4);
    imap_lex_expect(L, ' ', IMAP_ERR_DATE);
    dt->hour = digits(L, 2);
    imap_lex_expect(L, ':', IMAP_ERR_DATE);
    dt->min = digits(L, 2);
    imap_lex_expect(L, ':', IMAP_ERR_DATE);
    dt->sec = digits(L, 2);
    imap_lex_expect(L, ' ', IMAP_ERR_DATE);
    int sign = imap_lex_eat(L, '-') ? -1 : (imap_lex_expect(L, '+', IMAP_ERR_DATE), 1);
    int z = digits(L, 4);
    if (z % 100 > 59) imap_lex_fail(L, IMAP_ERR_DATE);
    dt->zone = sign * (z / 100 * 60 + z % 100);
    imap_lex_expect(L, '"', IMAP_ERR_DATE);
    if (!imap_datetime_valid(dt)) imap_lex_fail(L, IMAP_ERR_DATE);
}

/* RFC 3501 9: flag = "\Answered" / ... / flag-keyword / flag-extension;
 * flag-keyword = atom; flag-extension = "\" atom; flag-perm adds "\*".
 * RFC 3501 2.3.2: \Recent cannot be set by a client, so STORE and APPEND
 * refuse it; FETCH and FLAGS responses carry it (flag-fetch). */
void imap_lex_flag(struct imap_lex *L, struct imap_str *out, bool perm, bool recent)
{
    size_t start = L->pos;
    if (imap_lex_eat(L, '\\')) {
        if (perm && imap_lex_eat(L, '*')) {
            out->ptr = L->s + start;
            out->len = 2;
            out->nil = false;
            return;
        }
        if (!imap_is_atom_char(imap_lex_peek(L))) imap_lex_fail(L, IMAP_ERR_FLAG);
    } else if (!imap_is_atom_char(imap_lex_peek(L))) {
        int c = imap_lex_peek(L);
        imap_lex_fail(L, c == '(' || c == ')' ? IMAP_ERR_PAREN : IMAP_ERR_FLAG);
    }
    struct imap_str a;
    imap_lex_atom(L, &a, false, false);
    out->ptr = L->s + start;
    out->len = L->pos - start;
    out->nil = false;
    if (!recent && imap_flag_bit(out->ptr, out->len) == IMAP_FLAG_RECENT)
        imap_lex_fail(L, IMAP_ERR_FLAG);
}

void imap_lex_flag_list(struct imap_lex *L, const struct imap_str **flags, size_t *n,
                        bool perm, bool recent)
{
    imap_lex_open(L);
    size_t first = L->nstrs;
    if (imap_lex_peek(L) != ')') {
        do {
            imap_lex_flag(L, imap_lex_new_str(L), perm, recent);
        } while (imap_lex_eat(L, ' '));
    }
    imap_lex_close(L);
    *flags = &L->strs[first];
    *n = L->nstrs - first;
}

/* RFC 3501 9: section = "[" [section-spec] "]"; section-spec =
 * section-msgtext / (section-part ["." section-text]); section-msgtext =
 * "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT";
 * section-text = section-msgtext / "MIME"; header-list = "(" astring
 * *(SP astring) ")". */
void imap_lex_section(struct imap_lex *L, struct imap_section *s)
{
    memset(s, 0, sizeof *s);
    imap_lex_expect(L, '[', IMAP_ERR_SECTION);
    if (imap_lex_eat(L, ']')) return;
    bool part = false;
    while (imap_lex_peek(L) >= '0' && imap_lex_peek(L) <= '9') {
        uint32_t v = number(L, IMAP_ERR_SECTION);
        if (v == 0) imap_lex_fail(L, IMAP_ERR_SECTION);
        if (s->nparts >= IMAP_MAX_PART_DEPTH) imap_lex_fail(L, IMAP_ERR_TOO_MANY);
        s->part[s->nparts++] = v;
        part = true;
        if (!imap_lex_eat(L, '.')) break;
        if (imap_lex_peek(L) < '0' || imap_lex_peek(L) > '9') goto text;
    }
    if (part) {
        imap_lex_expect(L, ']', IMAP_ERR_SECTION);
        return;
    }
text:;
    size_t at = L->pos;
    while (L->pos < L->len && ((L->s[L->pos] >= 'A' && L->s[L->pos] <= 'Z') ||
                               (L->s[L->pos] >= 'a' && L->s[L->pos] <= 'z') || L->s[L->pos] == '.'))
        L->pos++;
    const char *w = L->s + at;
    size_t n = L->pos - at;
    if (ascii_eq(w, n, "HEADER"))
        s->text = IMAP_SECTION_HEADER;
    else if (ascii_eq(w, n, "HEADER.FIELDS"))
        s->text = IMAP_SECTION_HEADER_FIELDS;
    else if (ascii_eq(w, n, "HEADER.FIELDS.NOT"))
        s->text = IMAP_SECTION_HEADER_FIELDS_NOT;
    else if (ascii_eq(w, n, "TEXT"))
        s->text = IMAP_SECTION_TEXT;
    else if (part && ascii_eq(w, n, "MIME"))
        s->text = IMAP_SECTION_MIME;
    else
        imap_lex_fail(L, IMAP_ERR_SECTION);
    if (s->text == IMAP_SECTION_HEADER_FIELDS || s->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
        if (!imap_lex_eat(L, ' ') || imap_lex_peek(L) != '(') imap_lex_fail(L, IMAP_ERR_SECTION);
        imap_lex_open(L);
        size_t first = L->nstrs;
        do {
            if (imap_lex_peek(L) == ')') imap_lex_fail(L, IMAP_ERR_SECTION);
            imap_lex_astring(L, imap_lex_new_str(L));
        } while (imap_lex_eat(L, ' '));
        imap_lex_close(L);
        s->fields = &L->strs[first];
        s->nfields = L->nstrs - first;
    }
    imap_lex_expect(L, ']', IMAP_ERR_SECTION);
}

/* RFC 3501 9: text = 1*TEXT-CHAR, TEXT-CHAR = any CHAR except CR and LF.
 * 8-bit octets are tolerated in human-readable text: servers send them
 * (RFC 5255 translations) and nothing depends on them. */
void imap_lex_text(struct imap_lex *L, struct imap_str *out)
{
    size_t start = L->pos;
    while (L->pos < L->len && L->s[L->pos] != '\r' && L->s[L->pos] != '\n' && L->s[L->pos] != 0)
        L->pos++;
    if (!imap_lex_at_end(L)) imap_lex_fail(L, IMAP_ERR_SYNTAX);
    out->ptr = L->s + start;
    out->len = L->pos - start;
    out->nil = false;
}

bool imap_is_flag_text(const struct imap_str *s, bool perm)
{
    if (!s->ptr || s->len == 0) return false;
    size_t i = 0;
    if (s->ptr[0] == '\\') {
        if (perm && s->len == 2 && s->ptr[1] == '*') return true;
        i = 1;
        if (s->len == 1) return false;
    }
    for (; i < s->len; i++)
        if (!imap_is_atom_char((unsigned char)s->ptr[i])) return false;
    return true;
}

/* ---- output writer ------------------------------------------------------ */

void imap_out_init(struct imap_out *o, char *buf, size_t cap)
{
    o->buf = buf;
    o->cap = cap;
    o->len = 0;
    o->overflow = false;
    o->invalid = false;
}

void imap_out_raw(struct imap_out *o, const char *s, size_t n)
{
    if (o->overflow) return;
    if (n > o->cap - o->len) {
        o->overflow = true;
        return;
    }
    if (n) memcpy(o->buf + o->len, s, n);
    o->len += n;
}

void imap_out_cstr(struct imap_out *o, const char *s)
{
    imap_out_raw(o, s, strlen(s));
}

void imap_out_number(struct imap_out *o, uint64_t n)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    imap_out_raw(o, tmp + i, sizeof tmp - i);
}

void imap_out_string(struct imap_out *o, const char *s, size_t n)
{
    bool lit = n > IMAP_MAX_QUOTED;
    for (size_t i = 0; i < n && !lit; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == '"' || c == '\\' || c >= 0x80 || c == 0) lit = true;
    }
    if (n && memchr(s, 0, n)) o->invalid = true; /* RFC 3501 9 CHAR8 excludes NUL */
    if (!lit) {
        imap_out_raw(o, "\"", 1);
        imap_out_raw(o, s, n);
        imap_out_raw(o, "\"", 1);
        return;
    }
    imap_out_raw(o, "{", 1);
    imap_out_number(o, n);
    imap_out_raw(o, "}\r\n", 3);
    imap_out_raw(o, s, n);
}

void imap_out_nstring(struct imap_out *o, const struct imap_str *s)
{
    if (s->nil || !s->ptr)
        imap_out_raw(o, "NIL", 3);
    else
        imap_out_string(o, s->ptr, s->len);
}

void imap_out_astring(struct imap_out *o, const char *s, size_t n)
{
    bool atom = n > 0 && !ascii_eq(s, n, "NIL");
    for (size_t i = 0; i < n && atom; i++)
        if (!imap_is_atom_char((unsigned char)s[i])) atom = false;
    if (atom)
        imap_out_raw(o, s, n);
    else
        imap_out_string(o, s, n);
}

void imap_out_seqset(struct imap_out *o, const struct imap_seqset *set)
{
    if (set->n == 0) o->invalid = true;
    for (size_t i = 0; i < set->n; i++) {
        const struct imap_range *r = &set->ranges[i];
        if (i) imap_out_raw(o, ",", 1);
        if (r->lo == IMAP_STAR)
            imap_out_raw(o, "*", 1);
        else
            imap_out_number(o, r->lo);
        if (r->hi == r->lo) continue;
        imap_out_raw(o, ":", 1);
        if (r->hi == IMAP_STAR)
            imap_out_raw(o, "*", 1);
        else
            imap_out_number(o, r->hi);
    }
}

void imap_out_atom_list(struct imap_out *o, const struct imap_str *a, size_t n)
{
    imap_out_raw(o, "(", 1);
    for (size_t i = 0; i < n; i++) {
        if (i) imap_out_raw(o, " ", 1);
        if (!imap_is_flag_text(&a[i], true)) o->invalid = true;
        imap_out_raw(o, a[i].ptr, a[i].len);
    }
    imap_out_raw(o, ")", 1);
}

static void two(struct imap_out *o, int v)
{
    char t[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};
    imap_out_raw(o, t, 2);
}

void imap_out_date(struct imap_out *o, const struct imap_date *d)
{
    if (!imap_date_valid(d)) {
        o->invalid = true;
        return;
    }
    imap_out_number(o, (uint64_t)d->day);
    imap_out_raw(o, "-", 1);
    imap_out_cstr(o, months[d->month - 1]);
    imap_out_raw(o, "-", 1);
    two(o, d->year / 100);
    two(o, d->year % 100);
}

void imap_out_datetime(struct imap_out *o, const struct imap_datetime *dt)
{
    if (!imap_datetime_valid(dt)) {
        o->invalid = true;
        return;
    }
    imap_out_raw(o, "\"", 1);
    two(o, dt->date.day);
    imap_out_raw(o, "-", 1);
    imap_out_cstr(o, months[dt->date.month - 1]);
    imap_out_raw(o, "-", 1);
    two(o, dt->date.year / 100);
    two(o, dt->date.year % 100);
    imap_out_raw(o, " ", 1);
    two(o, dt->hour);
    imap_out_raw(o, ":", 1);
    two(o, dt->min);
    imap_out_raw(o, ":", 1);
    two(o, dt->sec);
    int z = dt->zone < 0 ? -dt->zone : dt->zone;
    imap_out_raw(o, dt->zone < 0 ? " -" : " +", 2);
    two(o, z / 60);
    two(o, z % 60);
    imap_out_raw(o, "\"", 1);
}

void imap_out_section(struct imap_out *o, const struct imap_section *s)
{
    imap_out_raw(o, "[", 1);
    for (size_t i = 0; i < s->nparts; i++) {
        if (i) imap_out_raw(o, ".", 1);
        if (s->part[i] == 0) o->invalid = true;
        imap_out_number(o, s->part[i]);
    }
    if (s->text != IMAP_SECTION_NONE) {
        if ((unsigned)s->text >= IMAP_SECTION_COUNT ||
            (s->text == IMAP_SECTION_MIME && s->nparts == 0)) {
            o->invalid = true;
            return;
        }
        if (s->nparts) imap_out_raw(o, ".", 1);
        imap_out_cstr(o, imap_section_text_names[s->text]);
        if (s->text == IMAP_SECTION_HEADER_FIELDS || s->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
            if (s->nfields == 0) o->invalid = true;
            imap_out_raw(o, " (", 2);
            for (size_t i = 0; i < s->nfields; i++) {
                if (i) imap_out_raw(o, " ", 1);
                imap_out_astring(o, s->fields[i].ptr, s->fields[i].len);
            }
            imap_out_raw(o, ")", 1);
        }
    }
    imap_out_raw(o, "]", 1);
}

static void value(struct imap_out *o, const struct imap_value *v, int i, int depth, size_t *budget)
{
    if (i < 0 || *budget == 0 || depth > IMAP_MAX_DEPTH) { /* a cycle, or too deep */
        o->invalid = true;
        return;
    }
    (*budget)--;
    switch (v[i].type) {
    case IMAP_V_NIL: imap_out_raw(o, "NIL", 3); return;
    case IMAP_V_NUMBER: imap_out_number(o, v[i].number); return;
    case IMAP_V_ATOM: imap_out_raw(o, v[i].str.ptr, v[i].str.len); return;
    case IMAP_V_STRING: imap_out_nstring(o, &v[i].str); return;
    case IMAP_V_LIST:
        imap_out_raw(o, "(", 1);
        for (int c = v[i].first_child; c >= 0 && !o->invalid; c = v[c].next_sibling) {
            if (c != v[i].first_child && !v[c].no_space) imap_out_raw(o, " ", 1);
            value(o, v, c, depth + 1, budget);
        }
        imap_out_raw(o, ")", 1);
        return;
    default: o->invalid = true; return;
    }
}

int imap_value_nth(const struct imap_value *values, int list, size_t n)
{
    if (list < 0 || values[list].type != IMAP_V_LIST) return -1;
    int i = values[list].first_child;
    while (i >= 0 && n-- > 0) i = values[i].next_sibling;
    return i;
}

void imap_out_value(struct imap_out *o, const struct imap_value *values, int root)
{
    size_t budget = IMAP_MAX_VALUES;
    value(o, values, root, 0, &budget);
}

static void address_list(struct imap_out *o, const struct imap_address *a, size_t n)
{
    if (n == 0) {
        imap_out_raw(o, "NIL", 3);
        return;
    }
    imap_out_raw(o, "(", 1);
    for (size_t i = 0; i < n; i++) {
        imap_out_raw(o, "(", 1);
        imap_out_nstring(o, &a[i].name);
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &a[i].adl);
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &a[i].mailbox);
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &a[i].host);
        imap_out_raw(o, ")", 1);
    }
    imap_out_raw(o, ")", 1);
}

/* RFC 3501 7.4.2 ENVELOPE: date, subject, from, sender, reply-to, to, cc,
 * bcc, in-reply-to, message-id; an empty address list is NIL. */
void imap_out_envelope(struct imap_out *o, const struct imap_envelope *e)
{
    imap_out_raw(o, "(", 1);
    imap_out_nstring(o, &e->date);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &e->subject);
    const struct imap_address *lists[6] = {e->from, e->sender, e->reply_to, e->to, e->cc, e->bcc};
    size_t counts[6] = {e->nfrom, e->nsender, e->nreply_to, e->nto, e->ncc, e->nbcc};
    for (size_t i = 0; i < 6; i++) {
        imap_out_raw(o, " ", 1);
        address_list(o, lists[i], counts[i]);
    }
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &e->in_reply_to);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &e->message_id);
    imap_out_raw(o, ")", 1);
}

static void param_list(struct imap_out *o, const struct imap_str *p, size_t n)
{
    if (n == 0 || n % 2) {
        if (n % 2) o->invalid = true;
        imap_out_raw(o, "NIL", 3);
        return;
    }
    imap_out_raw(o, "(", 1);
    for (size_t i = 0; i < n; i++) {
        if (i) imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &p[i]);
    }
    imap_out_raw(o, ")", 1);
}

static void disposition(struct imap_out *o, const struct imap_body *b)
{
    if (b->disposition.nil || !b->disposition.ptr) {
        imap_out_raw(o, "NIL", 3);
        return;
    }
    imap_out_raw(o, "(", 1);
    imap_out_string(o, b->disposition.ptr, b->disposition.len);
    imap_out_raw(o, " ", 1);
    param_list(o, b->disp_params, b->ndisp_params);
    imap_out_raw(o, ")", 1);
}

static void body(struct imap_out *o, const struct imap_body *b, bool ext, int depth)
{
    if (depth > IMAP_MAX_DEPTH) {
        o->invalid = true;
        return;
    }
    imap_out_raw(o, "(", 1);
    if (b->nparts > 0) {
        /* RFC 3501 9 body-type-mpart = 1*body SP media-subtype
         * [SP body-ext-mpart]; body-ext-mpart = body-fld-param
         * [SP body-fld-dsp [SP body-fld-lang ...]]. */
        for (size_t i = 0; i < b->nparts; i++) body(o, &b->parts[i], ext, depth + 1);
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &b->subtype);
        if (ext) {
            imap_out_raw(o, " ", 1);
            param_list(o, b->params, b->nparams);
            imap_out_raw(o, " ", 1);
            disposition(o, b);
            imap_out_raw(o, " ", 1);
            imap_out_nstring(o, &b->language);
        }
        imap_out_raw(o, ")", 1);
        return;
    }
    /* body-type-1part: media-type params id description encoding size,
     * then lines for TEXT, envelope body lines for MESSAGE/RFC822. */
    imap_out_nstring(o, &b->type);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &b->subtype);
    imap_out_raw(o, " ", 1);
    param_list(o, b->params, b->nparams);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &b->id);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &b->description);
    imap_out_raw(o, " ", 1);
    imap_out_nstring(o, &b->encoding);
    imap_out_raw(o, " ", 1);
    imap_out_number(o, b->size);
    bool msg = b->type.ptr && ascii_eq(b->type.ptr, b->type.len, "MESSAGE") && b->subtype.ptr &&
               ascii_eq(b->subtype.ptr, b->subtype.len, "RFC822");
    bool text = b->type.ptr && ascii_eq(b->type.ptr, b->type.len, "TEXT");
    if (msg) {
        if (!b->envelope || !b->inner) {
            o->invalid = true;
            return;
        }
        imap_out_raw(o, " ", 1);
        imap_out_envelope(o, b->envelope);
        imap_out_raw(o, " ", 1);
        body(o, b->inner, ext, depth + 1);
    }
    if (msg || text) {
        imap_out_raw(o, " ", 1);
        imap_out_number(o, b->lines);
    }
    if (ext) { /* body-ext-1part: md5 [dsp [lang]] */
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &b->md5);
        imap_out_raw(o, " ", 1);
        disposition(o, b);
        imap_out_raw(o, " ", 1);
        imap_out_nstring(o, &b->language);
    }
    imap_out_raw(o, ")", 1);
}

void imap_out_body(struct imap_out *o, const struct imap_body *b, bool extension)
{
    body(o, b, extension, 0);
}
