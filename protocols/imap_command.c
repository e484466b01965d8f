/* IMAP4rev1 commands: the server's parser (RFC 3501 6 and 9, IDLE RFC 2177,
 * UIDPLUS RFC 4315, LITERAL+ RFC 7888, SASL-IR RFC 4959) and the client's
 * formatter. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/imap_lex.h"

const char *const imap_cmd_names[IMAP_CMD_COUNT] = {
    "CAPABILITY", "NOOP",   "LOGOUT", "STARTTLS",  "LOGIN",       "AUTHENTICATE", "SELECT",
    "EXAMINE",    "CREATE", "DELETE", "RENAME",    "SUBSCRIBE",   "UNSUBSCRIBE",  "LIST",
    "LSUB",       "STATUS", "APPEND", "CHECK",     "CLOSE",       "EXPUNGE",      "SEARCH",
    "FETCH",      "STORE",  "COPY",   "IDLE",
};

const char *const imap_store_op_names[IMAP_STORE_COUNT] = {"FLAGS", "+FLAGS", "-FLAGS"};

const char *const imap_search_op_names[IMAP_SK_COUNT] = {
    "(",          "",          "ALL",      "ANSWERED",  "BCC",        "BEFORE",     "BODY",
    "CC",         "DELETED",   "DRAFT",    "FLAGGED",   "FROM",       "HEADER",     "KEYWORD",
    "LARGER",     "NEW",       "NOT",      "OLD",       "ON",         "OR",         "RECENT",
    "SEEN",       "SENTBEFORE", "SENTON",  "SENTSINCE", "SINCE",      "SMALLER",    "SUBJECT",
    "TEXT",       "TO",        "UID",      "UNANSWERED", "UNDELETED", "UNDRAFT",    "UNFLAGGED",
    "UNKEYWORD",  "UNSEEN",
};

const char *const imap_expect_names[IMAP_EXPECT_COUNT] = {"COMMAND", "DONE", "SASL"};

const char *const imap_cmd_ev_names[IMAP_CMD_EV_COUNT] = {
    "NEED_MORE", "COMMAND", "CONTINUE", "DONE", "SASL", "ERROR",
};

struct imap_cmd_parser {
    struct imap_frame   f;
    struct imap_lex     L;
    enum imap_expect    expect;
    bool                nomem;   /* sticky until reset */
    size_t              max_literal;
    char                last_tag[IMAP_MAX_TAG + 1]; /* IDLE / AUTHENTICATE */
    struct imap_command tmp;     /* target of prefix parses */
    struct imap_search_key keys[IMAP_MAX_SEARCH_KEYS];
    size_t                 nkeys;
    struct imap_fetch_att  items[IMAP_MAX_FETCH_ITEMS];
    size_t                 nitems;
    struct imap_str        strs[IMAP_MAX_STRINGS];
    struct imap_range      ranges[IMAP_MAX_RANGES];
    char                   arena[IMAP_MAX_TEXT];
};

/* ---- grammar ------------------------------------------------------------ */

static void fail(struct imap_lex *L, enum imap_err e)
{
    imap_lex_fail(L, e);
}

/* RFC 3501 9: base64 = *(4base64-char) [base64-terminal]; RFC 4959 lets
 * "=" stand for an empty initial response. */
static bool is_base64(const char *s, size_t n)
{
    if (n == 1 && s[0] == '=') return true;
    if (n % 4) return false;
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool b = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/';
        if (c == '=' && i + 2 >= n) {
            pad++;
            continue;
        }
        if (!b || pad) return false;
    }
    return true;
}

static struct imap_search_key *new_key(struct imap_cmd_parser *p, int *idx)
{
    if (p->nkeys >= IMAP_MAX_SEARCH_KEYS) fail(&p->L, IMAP_ERR_TOO_MANY);
    *idx = (int)p->nkeys;
    struct imap_search_key *k = &p->keys[p->nkeys++];
    memset(k, 0, sizeof *k);
    k->first_child = -1;
    k->next_sibling = -1;
    return k;
}

static int search_key(struct imap_cmd_parser *p);

/* Keys separated by SP until ")" (a group) or the end of the line (the
 * top level), each linked as a child of node parent. */
static void search_keys(struct imap_cmd_parser *p, int parent, bool group)
{
    struct imap_lex *L = &p->L;
    int last = -1;
    for (;;) {
        int k = search_key(p);
        if (last < 0)
            p->keys[parent].first_child = k;
        else
            p->keys[last].next_sibling = k;
        last = k;
        if (group && imap_lex_peek(L) == ')') return;
        if (!group && (imap_lex_at_end(L) || imap_lex_peek(L) != ' ')) return;
        imap_lex_sp(L);
    }
}

/* RFC 3501 6.4.4 and 9 search-key. */
static int search_key(struct imap_cmd_parser *p)
{
    struct imap_lex *L = &p->L;
    int idx;
    struct imap_search_key *k = new_key(p, &idx);
    int c = imap_lex_peek(L);
    if (c == '(') {
        imap_lex_open(L);
        k->op = IMAP_SK_AND;
        if (imap_lex_peek(L) == ')') fail(L, IMAP_ERR_SEARCH_KEY);
        search_keys(p, idx, true);
        imap_lex_close(L);
        return idx;
    }
    if ((c >= '0' && c <= '9') || c == '*') {
        k->op = IMAP_SK_SEQSET;
        imap_lex_seqset(L, &k->set, true);
        return idx;
    }
    const char *w;
    size_t n = imap_lex_name(L, &w);
    int op = -1;
    for (int i = IMAP_SK_ALL; i < IMAP_SK_COUNT && n; i++)
        if (ascii_eq(w, n, imap_search_op_names[i])) op = i;
    if (op < 0) fail(L, c == ')' ? IMAP_ERR_PAREN : IMAP_ERR_SEARCH_KEY);
    k->op = (enum imap_search_op)op;
    switch (k->op) {
    case IMAP_SK_BCC: case IMAP_SK_BODY: case IMAP_SK_CC: case IMAP_SK_FROM:
    case IMAP_SK_SUBJECT: case IMAP_SK_TEXT: case IMAP_SK_TO:
        imap_lex_sp(L);
        imap_lex_astring(L, &k->str);
        break;
    case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD: /* flag-keyword = atom */
        imap_lex_sp(L);
        if (!imap_is_atom_char(imap_lex_peek(L))) fail(L, IMAP_ERR_FLAG);
        imap_lex_atom(L, &k->str, false, false);
        break;
    case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
    case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
        imap_lex_sp(L);
        imap_lex_date(L, &k->date);
        break;
    case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
        imap_lex_sp(L);
        k->number = imap_lex_number(L);
        break;
    case IMAP_SK_HEADER:
        imap_lex_sp(L);
        imap_lex_astring(L, &k->str);
        imap_lex_sp(L);
        imap_lex_astring(L, &k->str2);
        break;
    case IMAP_SK_UID:
        imap_lex_sp(L);
        imap_lex_seqset(L, &k->set, true);
        break;
    case IMAP_SK_NOT: {
        imap_lex_sp(L);
        int a = search_key(p);
        p->keys[idx].first_child = a;
        break;
    }
    case IMAP_SK_OR: {
        imap_lex_sp(L);
        int a = search_key(p);
        imap_lex_sp(L);
        int b = search_key(p);
        p->keys[idx].first_child = a;
        p->keys[a].next_sibling = b;
        break;
    }
    default: break; /* keys without arguments */
    }
    return idx;
}

/* RFC 3501 6.4.5 and 9 fetch-att. */
static void fetch_att(struct imap_cmd_parser *p, struct imap_fetch_att *a, bool macro_ok)
{
    struct imap_lex *L = &p->L;
    memset(a, 0, sizeof *a);
    const char *w;
    size_t n = imap_lex_name(L, &w);
    static const enum imap_fetch_item simple[] = {
        IMAP_FETCH_ENVELOPE, IMAP_FETCH_FLAGS,       IMAP_FETCH_INTERNALDATE,
        IMAP_FETCH_RFC822,   IMAP_FETCH_RFC822_HEADER, IMAP_FETCH_RFC822_SIZE,
        IMAP_FETCH_RFC822_TEXT, IMAP_FETCH_BODYSTRUCTURE, IMAP_FETCH_UID,
        IMAP_FETCH_MODSEQ, /* RFC 7162 3.1.4.1 */
    };
    if (macro_ok)
        for (int m = IMAP_FETCH_ALL; m <= IMAP_FETCH_FULL; m++)
            if (ascii_eq(w, n, imap_fetch_item_names[m])) {
                a->item = (enum imap_fetch_item)m;
                return;
            }
    for (size_t i = 0; i < ARRAY_LEN(simple); i++)
        if (ascii_eq(w, n, imap_fetch_item_names[simple[i]])) {
            a->item = simple[i];
            return;
        }
    bool body = ascii_eq(w, n, "BODY"), peek = ascii_eq(w, n, "BODY.PEEK");
    if (!body && !peek) fail(L, n == 0 && imap_lex_peek(L) == ')' ? IMAP_ERR_PAREN : IMAP_ERR_FETCH_ATT);
    if (imap_lex_peek(L) != '[') {
        if (peek) fail(L, IMAP_ERR_FETCH_ATT);
        a->item = IMAP_FETCH_BODY;
        return;
    }
    a->item = IMAP_FETCH_BODY_SECTION;
    a->peek = peek;
    imap_lex_section(L, &a->section);
    /* RFC 3501 9: ["<" number "." nz-number ">"]. */
    if (imap_lex_eat(L, '<')) {
        a->partial = true;
        a->origin = imap_lex_number_as(L, IMAP_ERR_PARTIAL);
        imap_lex_expect(L, '.', IMAP_ERR_PARTIAL);
        a->count = imap_lex_number_as(L, IMAP_ERR_PARTIAL);
        if (a->count == 0) fail(L, IMAP_ERR_PARTIAL);
        imap_lex_expect(L, '>', IMAP_ERR_PARTIAL);
    }
}

static void fetch_args(struct imap_cmd_parser *p, struct imap_command *c)
{
    struct imap_lex *L = &p->L;
    imap_lex_seqset(L, &c->set, true);
    imap_lex_sp(L);
    size_t first = p->nitems;
    if (imap_lex_peek(L) == '(') {
        imap_lex_open(L);
        if (imap_lex_peek(L) == ')') fail(L, IMAP_ERR_FETCH_ATT);
        do {
            if (p->nitems >= IMAP_MAX_FETCH_ITEMS) fail(L, IMAP_ERR_TOO_MANY);
            fetch_att(p, &p->items[p->nitems++], false);
        } while (imap_lex_eat(L, ' '));
        imap_lex_close(L);
    } else {
        fetch_att(p, &p->items[p->nitems++], true);
    }
    c->items = &p->items[first];
    c->nitems = p->nitems - first;
    /* RFC 4466 2.4 fetch-modifiers; RFC 7162 3.1.4.1 knows one:
     * "(CHANGEDSINCE" SP mod-sequence-valzer ")". */
    if (imap_lex_eat(L, ' ')) {
        imap_lex_open(L);
        if (!imap_lex_keyword(L, "CHANGEDSINCE")) fail(L, IMAP_ERR_MODIFIER);
        imap_lex_sp(L);
        c->changedsince = imap_lex_modseq(L, true);
        c->has_changedsince = true;
        imap_lex_close(L);
    }
}

/* RFC 4466 2.1 select-params; RFC 7162 3.1.8 knows one: "(CONDSTORE)". */
static void select_params(struct imap_lex *L, struct imap_command *c)
{
    if (!imap_lex_eat(L, ' ')) return;
    imap_lex_open(L);
    if (!imap_lex_keyword(L, "CONDSTORE")) fail(L, IMAP_ERR_MODIFIER);
    c->condstore = true;
    imap_lex_close(L);
}

/* RFC 3501 9: store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
 * (flag-list / (flag *(SP flag))). */
static void store_args(struct imap_cmd_parser *p, struct imap_command *c)
{
    struct imap_lex *L = &p->L;
    imap_lex_seqset(L, &c->set, true);
    imap_lex_sp(L);
    c->store_op = imap_lex_eat(L, '+')   ? IMAP_STORE_ADD
                  : imap_lex_eat(L, '-') ? IMAP_STORE_REMOVE
                                         : IMAP_STORE_SET;
    const char *w;
    size_t n = imap_lex_name(L, &w);
    if (ascii_eq(w, n, "FLAGS.SILENT"))
        c->silent = true;
    else if (!ascii_eq(w, n, "FLAGS"))
        fail(L, IMAP_ERR_STORE_OP);
    imap_lex_sp(L);
    if (imap_lex_peek(L) == '(') {
        imap_lex_flag_list(L, &c->flags, &c->nflags, false, false);
    } else {
        size_t first = L->nstrs;
        do {
            imap_lex_flag(L, imap_lex_new_str(L), false, false);
        } while (imap_lex_eat(L, ' '));
        c->flags = &L->strs[first];
        c->nflags = L->nstrs - first;
    }
    c->has_flags = true;
}

static void status_args(struct imap_lex *L, struct imap_command *c)
{
    imap_lex_mailbox(L, &c->mailbox);
    imap_lex_sp(L);
    if (imap_lex_peek(L) != '(') fail(L, IMAP_ERR_SYNTAX);
    imap_lex_open(L);
    do {
        const char *w;
        size_t n = imap_lex_name(L, &w);
        int item = -1;
        for (int i = 0; i < IMAP_STATUS_COUNT && n; i++)
            if (ascii_eq(w, n, imap_status_item_names[i])) item = i;
        if (item < 0) fail(L, IMAP_ERR_STATUS_ITEM);
        c->status_items |= IMAP_STATUS_BIT(item);
    } while (imap_lex_eat(L, ' '));
    imap_lex_close(L);
}

/* RFC 3501 9: append = "APPEND" SP mailbox [SP flag-list] [SP date-time]
 * SP literal. The message must be a literal, never a quoted string. */
static void append_args(struct imap_lex *L, struct imap_command *c)
{
    imap_lex_mailbox(L, &c->mailbox);
    imap_lex_sp(L);
    if (imap_lex_peek(L) == '(') {
        imap_lex_flag_list(L, &c->flags, &c->nflags, false, false);
        c->has_flags = true;
        imap_lex_sp(L);
    }
    if (imap_lex_peek(L) == '"') {
        imap_lex_datetime(L, &c->date);
        c->has_date = true;
        imap_lex_sp(L);
    }
    if (imap_lex_peek(L) != '{') fail(L, IMAP_ERR_SYNTAX);
    imap_lex_string(L, &c->message);
}

static void parse(struct imap_cmd_parser *p, struct imap_command *c)
{
    struct imap_lex *L = &p->L;
    p->nkeys = 0;
    p->nitems = 0;
    imap_lex_tag(L, c->tag);
    imap_lex_sp(L);
    const char *w;
    size_t n = imap_lex_name(L, &w);
    if (ascii_eq(w, n, "UID")) {
        c->uid = true;
        imap_lex_sp(L);
        n = imap_lex_name(L, &w);
    }
    int cmd = -1;
    for (int i = 0; i < IMAP_CMD_COUNT && n; i++)
        if (ascii_eq(w, n, imap_cmd_names[i])) cmd = i;
    if (cmd < 0) fail(L, IMAP_ERR_UNKNOWN_COMMAND);
    c->cmd = (enum imap_cmd)cmd;
    /* RFC 3501 6.4.8 and RFC 4315 2.1: UID prefixes COPY, FETCH, SEARCH,
     * STORE and (UIDPLUS) EXPUNGE only. */
    if (c->uid && c->cmd != IMAP_CMD_COPY && c->cmd != IMAP_CMD_FETCH &&
        c->cmd != IMAP_CMD_SEARCH && c->cmd != IMAP_CMD_STORE && c->cmd != IMAP_CMD_EXPUNGE)
        fail(L, IMAP_ERR_UID_COMMAND);
    switch (c->cmd) {
    case IMAP_CMD_CAPABILITY: case IMAP_CMD_NOOP: case IMAP_CMD_LOGOUT:
    case IMAP_CMD_STARTTLS: case IMAP_CMD_CHECK: case IMAP_CMD_CLOSE: case IMAP_CMD_IDLE:
        break;
    case IMAP_CMD_EXPUNGE:
        if (c->uid) { /* RFC 4315 2.1: UID EXPUNGE sequence-set */
            imap_lex_sp(L);
            imap_lex_seqset(L, &c->set, true);
        }
        break;
    case IMAP_CMD_LOGIN:
        imap_lex_sp(L);
        imap_lex_astring(L, &c->user);
        imap_lex_sp(L);
        imap_lex_astring(L, &c->password);
        break;
    case IMAP_CMD_AUTHENTICATE:
        imap_lex_sp(L);
        imap_lex_atom(L, &c->mechanism, false, false);
        if (imap_lex_eat(L, ' ')) { /* RFC 4959 3 initial response */
            imap_lex_atom(L, &c->initial, false, false);
            if (!is_base64(c->initial.ptr, c->initial.len)) fail(L, IMAP_ERR_BASE64);
            c->has_initial = true;
        }
        break;
    case IMAP_CMD_SELECT: case IMAP_CMD_EXAMINE:
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox);
        select_params(L, c);
        break;
    case IMAP_CMD_CREATE: case IMAP_CMD_DELETE:
    case IMAP_CMD_SUBSCRIBE: case IMAP_CMD_UNSUBSCRIBE:
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox);
        break;
    case IMAP_CMD_RENAME:
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox);
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox2);
        break;
    case IMAP_CMD_LIST: case IMAP_CMD_LSUB:
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox);
        imap_lex_sp(L);
        imap_lex_list_mailbox(L, &c->mailbox2);
        break;
    case IMAP_CMD_STATUS:
        imap_lex_sp(L);
        status_args(L, c);
        break;
    case IMAP_CMD_APPEND:
        imap_lex_sp(L);
        append_args(L, c);
        break;
    case IMAP_CMD_SEARCH: {
        imap_lex_sp(L);
        size_t save = L->pos;
        if (imap_lex_keyword(L, "CHARSET")) {
            if (imap_lex_peek(L) == ' ') {
                imap_lex_sp(L);
                imap_lex_astring(L, &c->charset);
                c->has_charset = true;
                imap_lex_sp(L);
            } else {
                L->pos = save;
            }
        }
        int root;
        struct imap_search_key *r = new_key(p, &root);
        r->op = IMAP_SK_AND;
        search_keys(p, root, false);
        c->keys = p->keys;
        c->nkeys = p->nkeys;
        break;
    }
    case IMAP_CMD_FETCH:
        imap_lex_sp(L);
        fetch_args(p, c);
        break;
    case IMAP_CMD_STORE:
        imap_lex_sp(L);
        store_args(p, c);
        break;
    case IMAP_CMD_COPY:
        imap_lex_sp(L);
        imap_lex_seqset(L, &c->set, true);
        imap_lex_sp(L);
        imap_lex_mailbox(L, &c->mailbox);
        break;
    case IMAP_CMD_COUNT: EXPECT(0);
    }
    imap_lex_crlf(L);
}

/* Parses buf[0..len) into *c. A prefix parse (the text ends with a literal
 * announcement whose octets have not come yet) succeeds when it gets as
 * far as that literal without an error. The setjmp frame keeps no local
 * that the parse changes. */
static enum imap_err run(struct imap_cmd_parser *p, struct imap_command *c, bool prefix)
{
    memset(c, 0, sizeof *c);
    c->tag[0] = '*';
    imap_lex_begin(&p->L, p->f.buf, p->f.len, prefix);
    if (setjmp(p->L.jb)) return p->L.incomplete ? IMAP_ERR_NONE : p->L.err;
    parse(p, c);
    return IMAP_ERR_NONE;
}

/* ---- the parser's life -------------------------------------------------- */

struct imap_cmd_parser *imap_cmd_parser_new(size_t max_literal)
{
    /* the string, range and text tables (most of the size) are scratch
     * filled before they are read; clearing them cost more than a short
     * session's whole work */
    struct imap_cmd_parser *p = malloc(sizeof *p);
    if (!p) return NULL;
    memset(p, 0, offsetof(struct imap_cmd_parser, strs));
    p->max_literal = max_literal ? max_literal : IMAP_DEFAULT_MAX_LITERAL;
    if (p->max_literal > UINT32_MAX) p->max_literal = UINT32_MAX; /* RFC 3501 9: number is 32-bit */
    if (imap_frame_init(&p->f, p->max_literal, true) < 0) {
        imap_cmd_parser_free(p);
        return NULL;
    }
    p->L.arena = p->arena;
    p->L.arena_cap = sizeof p->arena;
    p->L.strs = p->strs;
    p->L.max_strs = IMAP_MAX_STRINGS;
    p->L.ranges = p->ranges;
    p->L.max_ranges = IMAP_MAX_RANGES;
    imap_cmd_parser_reset(p);
    return p;
}

void imap_cmd_parser_free(struct imap_cmd_parser *p)
{
    if (!p) return;
    imap_frame_free(&p->f);
    free(p);
}

void imap_cmd_parser_reset(struct imap_cmd_parser *p)
{
    imap_frame_reset(&p->f);
    p->nomem = false;
    p->last_tag[0] = '*';
    p->last_tag[1] = 0;
    imap_cmd_parser_expect(p, IMAP_EXPECT_COMMAND);
}

void imap_cmd_parser_expect(struct imap_cmd_parser *p, enum imap_expect what)
{
    EXPECT((unsigned)what < IMAP_EXPECT_COUNT);
    p->expect = what;
    /* IDLE's DONE and SASL lines are plain lines: "{5}" there is text. */
    p->f.literals = what == IMAP_EXPECT_COMMAND;
}

size_t imap_cmd_parser_feed(struct imap_cmd_parser *p, const char *in, size_t n)
{
    return imap_frame_feed(&p->f, in, n);
}

size_t imap_cmd_parser_pending(const struct imap_cmd_parser *p)
{
    return imap_frame_pending(&p->f);
}

static enum imap_cmd_ev bad(struct imap_command *c, const char *tag, enum imap_err e)
{
    char t[IMAP_MAX_TAG + 1];
    strcpy(t, tag); /* tag may live in *c */
    memset(c, 0, sizeof *c);
    strcpy(c->tag, t);
    c->error = e;
    return IMAP_CMD_ERROR;
}

/* The tag at the start of an overlong command, if it is one. */
static void head_tag(const struct imap_frame *f, char *tag)
{
    size_t n = 0;
    while (n < f->head_len && n <= IMAP_MAX_TAG && f->head[n] != '+' &&
           (imap_is_atom_char((unsigned char)f->head[n]) || f->head[n] == ']'))
        n++;
    if (n == 0 || n > IMAP_MAX_TAG || n >= f->head_len || f->head[n] != ' ') {
        strcpy(tag, "*");
        return;
    }
    memcpy(tag, f->head, n);
    tag[n] = 0;
}

static enum imap_cmd_ev line_done(struct imap_cmd_parser *p, struct imap_command *c)
{
    const char *line = p->f.buf;
    size_t n = p->f.len - 2; /* without CRLF */
    enum imap_expect was = p->expect;
    imap_cmd_parser_expect(p, IMAP_EXPECT_COMMAND);
    if (was == IMAP_EXPECT_DONE) {
        /* RFC 2177 3: the client ends IDLE with the line "DONE"; anything
         * else ends it too, answered BAD under the IDLE command's tag. */
        if (ascii_eq(line, n, "DONE")) {
            memset(c, 0, sizeof *c);
            strcpy(c->tag, p->last_tag);
            c->cmd = IMAP_CMD_IDLE;
            return IMAP_CMD_DONE;
        }
        return bad(c, p->last_tag, IMAP_ERR_BAD_DONE);
    }
    /* RFC 3501 6.2.2: a line of base64, or "*" to cancel; bad base64 is
     * answered BAD under the AUTHENTICATE command's tag. */
    memset(c, 0, sizeof *c);
    strcpy(c->tag, p->last_tag);
    c->cmd = IMAP_CMD_AUTHENTICATE;
    if (n == 1 && line[0] == '*') {
        c->sasl_cancelled = true;
        return IMAP_CMD_SASL;
    }
    if (n > 0 && !is_base64(line, n)) return bad(c, p->last_tag, IMAP_ERR_BASE64);
    c->sasl_line.ptr = line;
    c->sasl_line.len = n;
    return IMAP_CMD_SASL;
}

enum imap_cmd_ev imap_cmd_parser_next(struct imap_cmd_parser *p, struct imap_command *c)
{
    for (;;) {
        if (p->nomem) return bad(c, "*", IMAP_ERR_NOMEM);
        switch (imap_frame_next(&p->f)) {
        case IMAP_FRAME_NEED_MORE: return IMAP_CMD_NEED_MORE;
        case IMAP_FRAME_NOMEM: p->nomem = true; continue;
        case IMAP_FRAME_TOO_LONG: {
            char tag[IMAP_MAX_TAG + 1];
            if (p->expect != IMAP_EXPECT_COMMAND)
                strcpy(tag, p->last_tag);
            else
                head_tag(&p->f, tag);
            imap_cmd_parser_expect(p, IMAP_EXPECT_COMMAND);
            imap_frame_discard(&p->f);
            return bad(c, tag, IMAP_ERR_TOO_LONG);
        }
        case IMAP_FRAME_LITERAL: {
            /* RFC 3501 7.5: check what came so far before inviting the
             * octets with "+"; a BAD or NO now means the client sends no
             * more of this command (unless it used LITERAL+). */
            enum imap_err e = run(p, &p->tmp, true);
            if (e == IMAP_ERR_NONE) EXPECT(p->L.incomplete);
            if (e == IMAP_ERR_NONE && (p->f.lit_n > p->max_literal ||
                                       p->f.lit_n > p->max_literal - p->f.lit_total))
                e = IMAP_ERR_LITERAL_TOO_BIG;
            if (e == IMAP_ERR_NONE && p->f.nlits >= IMAP_MAX_LITERALS) e = IMAP_ERR_TOO_MANY;
            if (e != IMAP_ERR_NONE) {
                imap_frame_discard(&p->f);
                return bad(c, p->tmp.tag, e);
            }
            bool sync = p->f.lit_sync;
            if (imap_frame_accept(&p->f) < 0) {
                p->nomem = true;
                continue;
            }
            if (sync) return IMAP_CMD_CONTINUE;
            continue;
        }
        case IMAP_FRAME_COMPLETE: {
            if (p->expect != IMAP_EXPECT_COMMAND) return line_done(p, c);
            enum imap_err e = run(p, c, false);
            if (e != IMAP_ERR_NONE) return bad(c, c->tag, e);
            strcpy(p->last_tag, c->tag);
            return IMAP_CMD_COMMAND;
        }
        }
    }
}

/* ---- replies to bad commands -------------------------------------------- */

static const char *const reply_text[IMAP_ERR_COUNT] = {
    [IMAP_ERR_NONE] = "BAD Error in command",
    [IMAP_ERR_NOMEM] = "BYE Server out of memory",
    [IMAP_ERR_TOO_LONG] = "BAD Command line too long",
    [IMAP_ERR_LITERAL_TOO_BIG] = "NO [TOOBIG] Literal too big",
    [IMAP_ERR_TOO_MANY] = "BAD Too many arguments",
    [IMAP_ERR_TOO_DEEP] = "BAD Lists nested too deeply",
    [IMAP_ERR_TAG] = "BAD Missing or invalid tag",
    [IMAP_ERR_UNKNOWN_COMMAND] = "BAD Unknown command",
    [IMAP_ERR_UID_COMMAND] = "BAD UID only goes with COPY, FETCH, SEARCH, STORE, EXPUNGE",
    [IMAP_ERR_SYNTAX] = "BAD Syntax error in arguments",
    [IMAP_ERR_BAD_CHAR] = "BAD Invalid character in argument",
    [IMAP_ERR_QUOTED] = "BAD Invalid quoted string",
    [IMAP_ERR_LITERAL] = "BAD Literal malformed or not of its announced size",
    [IMAP_ERR_PAREN] = "BAD Unbalanced parentheses",
    [IMAP_ERR_NUMBER] = "BAD Invalid number",
    [IMAP_ERR_SEQSET] = "BAD Invalid sequence set",
    [IMAP_ERR_DATE] = "BAD Invalid date",
    [IMAP_ERR_FLAG] = "BAD Invalid flag",
    [IMAP_ERR_FETCH_ATT] = "BAD Unknown FETCH attribute",
    [IMAP_ERR_SECTION] = "BAD Invalid section",
    [IMAP_ERR_PARTIAL] = "BAD Invalid partial range",
    [IMAP_ERR_SEARCH_KEY] = "BAD Invalid SEARCH key",
    [IMAP_ERR_STATUS_ITEM] = "BAD Unknown STATUS item",
    [IMAP_ERR_STORE_OP] = "BAD Invalid STORE operation",
    [IMAP_ERR_BAD_DONE] = "BAD Expected DONE",
    [IMAP_ERR_RESPONSE] = "BAD Error in command",
    [IMAP_ERR_RESP_CODE] = "BAD Error in command",
    [IMAP_ERR_BASE64] = "BAD Invalid base64",
    [IMAP_ERR_MODIFIER] = "BAD Unknown SELECT parameter or FETCH modifier",
};

size_t imap_cmd_error_reply(const struct imap_command *cmd, char *buf, size_t cap)
{
    struct imap_out o;
    imap_out_init(&o, buf, cap);
    enum imap_err e = (unsigned)cmd->error < IMAP_ERR_COUNT ? cmd->error : IMAP_ERR_NONE;
    /* RFC 3501 7.1.5: BAD with the tag when one was read, else untagged;
     * running out of memory ends the session with an untagged BYE. */
    imap_out_cstr(&o, e == IMAP_ERR_NOMEM || !cmd->tag[0] ? "*" : cmd->tag);
    imap_out_raw(&o, " ", 1);
    imap_out_cstr(&o, reply_text[e]);
    imap_out_raw(&o, "\r\n", 2);
    return o.overflow ? 0 : o.len;
}

/* ---- formatter (client side) -------------------------------------------- */

struct fmt {
    struct imap_out o;
    bool            plus;
    size_t         *splits;
    size_t          max_splits, nsplits;
};

static void literal_out(struct fmt *F, const char *s, size_t n)
{
    imap_out_raw(&F->o, "{", 1);
    imap_out_number(&F->o, n);
    imap_out_cstr(&F->o, F->plus ? "+}\r\n" : "}\r\n");
    if (!F->plus && F->splits) {
        if (F->nsplits >= F->max_splits)
            F->o.invalid = true;
        else
            F->splits[F->nsplits++] = F->o.len;
    }
    if (n && memchr(s, 0, n)) F->o.invalid = true; /* RFC 3501 9 CHAR8 */
    imap_out_raw(&F->o, s, n);
}

/* imap_out_string's choice, with this command's literal form. */
static void string_out(struct fmt *F, const char *s, size_t n)
{
    bool lit = n > IMAP_MAX_QUOTED;
    for (size_t i = 0; i < n && !lit; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r' || ch == '\n' || ch == '"' || ch == '\\' || ch >= 0x80 || ch == 0) lit = true;
    }
    if (lit) {
        literal_out(F, s, n);
        return;
    }
    imap_out_raw(&F->o, "\"", 1);
    imap_out_raw(&F->o, s, n);
    imap_out_raw(&F->o, "\"", 1);
}

static void astring_out(struct fmt *F, const struct imap_str *s)
{
    bool atom = s->len > 0 && s->ptr && !ascii_eq(s->ptr, s->len, "NIL");
    for (size_t i = 0; i < s->len && atom; i++)
        if (!imap_is_atom_char((unsigned char)s->ptr[i]) && s->ptr[i] != ']') atom = false;
    if (atom)
        imap_out_raw(&F->o, s->ptr, s->len);
    else
        string_out(F, s->ptr ? s->ptr : "", s->len);
}

static void list_mailbox_out(struct fmt *F, const struct imap_str *s)
{
    bool atom = s->len > 0 && s->ptr;
    for (size_t i = 0; i < s->len && atom; i++) {
        int ch = (unsigned char)s->ptr[i];
        if (!imap_is_atom_char(ch) && ch != ']' && ch != '%' && ch != '*') atom = false;
    }
    if (atom)
        imap_out_raw(&F->o, s->ptr, s->len);
    else
        string_out(F, s->ptr ? s->ptr : "", s->len);
}

static void flags_out(struct fmt *F, const struct imap_str *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!imap_is_flag_text(&f[i], false)) F->o.invalid = true;
    imap_out_atom_list(&F->o, f, n);
}

static void key_out(struct fmt *F, const struct imap_search_key *k, size_t nk, int i, int depth)
{
    struct imap_out *o = &F->o;
    if (i < 0 || (size_t)i >= nk || depth > IMAP_MAX_SEARCH_KEYS) {
        o->invalid = true;
        return;
    }
    const struct imap_search_key *x = &k[i];
    if ((unsigned)x->op >= IMAP_SK_COUNT) {
        o->invalid = true;
        return;
    }
    if (x->op == IMAP_SK_AND) {
        if (depth) imap_out_raw(o, "(", 1);
        if (x->first_child < 0) o->invalid = true;
        for (int c = x->first_child; c >= 0 && (size_t)c < nk && !o->invalid; c = k[c].next_sibling) {
            if (c != x->first_child) imap_out_raw(o, " ", 1);
            key_out(F, k, nk, c, depth + 1);
        }
        if (depth) imap_out_raw(o, ")", 1);
        return;
    }
    if (x->op == IMAP_SK_SEQSET) {
        imap_out_seqset(o, &x->set);
        return;
    }
    imap_out_cstr(o, imap_search_op_names[x->op]);
    switch (x->op) {
    case IMAP_SK_BCC: case IMAP_SK_BODY: case IMAP_SK_CC: case IMAP_SK_FROM:
    case IMAP_SK_SUBJECT: case IMAP_SK_TEXT: case IMAP_SK_TO:
        imap_out_raw(o, " ", 1);
        astring_out(F, &x->str);
        break;
    case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD:
        imap_out_raw(o, " ", 1);
        if (!imap_is_flag_text(&x->str, false) || x->str.ptr[0] == '\\') o->invalid = true;
        imap_out_raw(o, x->str.ptr, x->str.len);
        break;
    case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE:
    case IMAP_SK_SENTBEFORE: case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
        imap_out_raw(o, " ", 1);
        imap_out_date(o, &x->date);
        break;
    case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
        imap_out_raw(o, " ", 1);
        imap_out_number(o, x->number);
        break;
    case IMAP_SK_HEADER:
        imap_out_raw(o, " ", 1);
        astring_out(F, &x->str);
        imap_out_raw(o, " ", 1);
        astring_out(F, &x->str2);
        break;
    case IMAP_SK_UID:
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &x->set);
        break;
    case IMAP_SK_NOT:
        imap_out_raw(o, " ", 1);
        key_out(F, k, nk, x->first_child, depth + 1);
        break;
    case IMAP_SK_OR:
        imap_out_raw(o, " ", 1);
        key_out(F, k, nk, x->first_child, depth + 1);
        imap_out_raw(o, " ", 1);
        if (x->first_child >= 0 && (size_t)x->first_child < nk)
            key_out(F, k, nk, k[x->first_child].next_sibling, depth + 1);
        break;
    default: break;
    }
}

/* imap_out_section, but a header field name that needs a literal goes
 * through literal_out, so its "{n}" is one of the splits the client must
 * wait at (RFC 3501 7.5); imap_out_section knows nothing of splits. */
static void section_out(struct fmt *F, const struct imap_section *s)
{
    bool fields = s->text == IMAP_SECTION_HEADER_FIELDS || s->text == IMAP_SECTION_HEADER_FIELDS_NOT;
    if (!fields) {
        imap_out_section(&F->o, s);
        return;
    }
    if (s->nfields == 0) F->o.invalid = true;
    struct imap_out *o = &F->o;
    imap_out_raw(o, "[", 1);
    for (size_t i = 0; i < s->nparts; i++) {
        if (i) imap_out_raw(o, ".", 1);
        if (s->part[i] == 0) o->invalid = true;
        imap_out_number(o, s->part[i]);
    }
    if (s->nparts) imap_out_raw(o, ".", 1);
    imap_out_cstr(o, imap_section_text_names[s->text]);
    imap_out_raw(o, " (", 2);
    for (size_t i = 0; i < s->nfields; i++) {
        const struct imap_str *f = &s->fields[i];
        if (i) imap_out_raw(o, " ", 1);
        bool atom = f->len > 0 && f->ptr && !ascii_eq(f->ptr, f->len, "NIL");
        for (size_t k = 0; k < f->len && atom; k++)
            if (!imap_is_atom_char((unsigned char)f->ptr[k])) atom = false;
        if (atom)
            imap_out_raw(o, f->ptr, f->len);
        else
            string_out(F, f->ptr ? f->ptr : "", f->len);
    }
    imap_out_raw(o, ")]", 2);
}

static void att_out(struct fmt *F, const struct imap_fetch_att *a)
{
    struct imap_out *o = &F->o;
    if ((unsigned)a->item >= IMAP_FETCH_COUNT) {
        o->invalid = true;
        return;
    }
    if (a->item != IMAP_FETCH_BODY_SECTION) {
        imap_out_cstr(o, imap_fetch_item_names[a->item]);
        return;
    }
    imap_out_cstr(o, a->peek ? "BODY.PEEK" : "BODY");
    section_out(F, &a->section);
    if (a->partial) {
        if (a->count == 0) o->invalid = true;
        imap_out_raw(o, "<", 1);
        imap_out_number(o, a->origin);
        imap_out_raw(o, ".", 1);
        imap_out_number(o, a->count);
        imap_out_raw(o, ">", 1);
    }
}

static void args_out(struct fmt *F, const struct imap_command *c)
{
    struct imap_out *o = &F->o;
    switch (c->cmd) {
    case IMAP_CMD_CAPABILITY: case IMAP_CMD_NOOP: case IMAP_CMD_LOGOUT:
    case IMAP_CMD_STARTTLS: case IMAP_CMD_CHECK: case IMAP_CMD_CLOSE: case IMAP_CMD_IDLE:
        break;
    case IMAP_CMD_EXPUNGE:
        if (c->uid) {
            imap_out_raw(o, " ", 1);
            imap_out_seqset(o, &c->set);
        }
        break;
    case IMAP_CMD_LOGIN:
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->user);
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->password);
        break;
    case IMAP_CMD_AUTHENTICATE:
        imap_out_raw(o, " ", 1);
        if (!imap_is_flag_text(&c->mechanism, false) || c->mechanism.ptr[0] == '\\') o->invalid = true;
        imap_out_raw(o, c->mechanism.ptr, c->mechanism.len);
        if (c->has_initial) {
            if (!is_base64(c->initial.ptr ? c->initial.ptr : "", c->initial.len) ||
                c->initial.len == 0)
                o->invalid = true;
            imap_out_raw(o, " ", 1);
            imap_out_raw(o, c->initial.ptr, c->initial.len);
        }
        break;
    case IMAP_CMD_SELECT: case IMAP_CMD_EXAMINE: case IMAP_CMD_CREATE: case IMAP_CMD_DELETE:
    case IMAP_CMD_SUBSCRIBE: case IMAP_CMD_UNSUBSCRIBE:
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        if (c->condstore) { /* RFC 7162 3.1.8 */
            if (c->cmd != IMAP_CMD_SELECT && c->cmd != IMAP_CMD_EXAMINE) o->invalid = true;
            imap_out_cstr(o, " (CONDSTORE)");
        }
        break;
    case IMAP_CMD_RENAME:
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox2);
        break;
    case IMAP_CMD_LIST: case IMAP_CMD_LSUB:
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        imap_out_raw(o, " ", 1);
        list_mailbox_out(F, &c->mailbox2);
        break;
    case IMAP_CMD_STATUS: {
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        imap_out_raw(o, " (", 2);
        bool first = true;
        for (int i = 0; i < IMAP_STATUS_COUNT; i++)
            if (c->status_items & IMAP_STATUS_BIT(i)) {
                if (!first) imap_out_raw(o, " ", 1);
                imap_out_cstr(o, imap_status_item_names[i]);
                first = false;
            }
        if (first) o->invalid = true;
        imap_out_raw(o, ")", 1);
        break;
    }
    case IMAP_CMD_APPEND:
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        if (c->has_flags) {
            imap_out_raw(o, " ", 1);
            flags_out(F, c->flags, c->nflags);
        }
        if (c->has_date) {
            imap_out_raw(o, " ", 1);
            imap_out_datetime(o, &c->date);
        }
        imap_out_raw(o, " ", 1);
        literal_out(F, c->message.ptr ? c->message.ptr : "", c->message.len);
        break;
    case IMAP_CMD_SEARCH:
        if (c->has_charset) {
            imap_out_raw(o, " CHARSET ", 9);
            astring_out(F, &c->charset);
        }
        imap_out_raw(o, " ", 1);
        if (!c->keys || c->nkeys == 0 || c->keys[0].op != IMAP_SK_AND)
            o->invalid = true;
        else
            key_out(F, c->keys, c->nkeys, 0, 0);
        break;
    case IMAP_CMD_FETCH:
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &c->set);
        imap_out_raw(o, " ", 1);
        if (c->nitems == 0) o->invalid = true;
        if (c->nitems == 1 && c->items[0].item <= IMAP_FETCH_FULL) {
            att_out(F, &c->items[0]); /* a macro stands alone */
            break;
        }
        imap_out_raw(o, "(", 1);
        for (size_t i = 0; i < c->nitems; i++) {
            if (c->items[i].item <= IMAP_FETCH_FULL) o->invalid = true;
            if (i) imap_out_raw(o, " ", 1);
            att_out(F, &c->items[i]);
        }
        imap_out_raw(o, ")", 1);
        if (c->has_changedsince) { /* RFC 7162 3.1.4.1 */
            if (c->changedsince > IMAP_MODSEQ_MAX) o->invalid = true;
            imap_out_cstr(o, " (CHANGEDSINCE ");
            imap_out_number(o, c->changedsince);
            imap_out_raw(o, ")", 1);
        }
        break;
    case IMAP_CMD_STORE:
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &c->set);
        imap_out_raw(o, " ", 1);
        if ((unsigned)c->store_op >= IMAP_STORE_COUNT) {
            o->invalid = true;
            break;
        }
        imap_out_cstr(o, imap_store_op_names[c->store_op]);
        if (c->silent) imap_out_cstr(o, ".SILENT");
        imap_out_raw(o, " ", 1);
        flags_out(F, c->flags, c->nflags);
        break;
    case IMAP_CMD_COPY:
        imap_out_raw(o, " ", 1);
        imap_out_seqset(o, &c->set);
        imap_out_raw(o, " ", 1);
        astring_out(F, &c->mailbox);
        break;
    case IMAP_CMD_COUNT: o->invalid = true; break;
    }
}

size_t imap_cmd_format(const struct imap_command *c, bool literal_plus, char *buf, size_t cap,
                       size_t *splits, size_t max_splits, size_t *nsplits)
{
    struct fmt F = {.plus = literal_plus, .splits = splits, .max_splits = max_splits};
    imap_out_init(&F.o, buf, cap);
    size_t tl = strlen(c->tag);
    if (tl == 0 || tl > IMAP_MAX_TAG) F.o.invalid = true;
    for (size_t i = 0; i < tl; i++)
        if (c->tag[i] == '+' || !(imap_is_atom_char((unsigned char)c->tag[i]) || c->tag[i] == ']'))
            F.o.invalid = true;
    if ((unsigned)c->cmd >= IMAP_CMD_COUNT) return 0;
    imap_out_raw(&F.o, c->tag, tl);
    imap_out_raw(&F.o, " ", 1);
    if (c->uid) {
        if (c->cmd != IMAP_CMD_COPY && c->cmd != IMAP_CMD_FETCH && c->cmd != IMAP_CMD_SEARCH &&
            c->cmd != IMAP_CMD_STORE && c->cmd != IMAP_CMD_EXPUNGE)
            F.o.invalid = true;
        imap_out_raw(&F.o, "UID ", 4);
    }
    imap_out_cstr(&F.o, imap_cmd_names[c->cmd]);
    args_out(&F, c);
    imap_out_raw(&F.o, "\r\n", 2);
    if (nsplits) *nsplits = F.nsplits;
    return F.o.overflow || F.o.invalid ? 0 : F.o.len;
}

size_t imap_cmd_format_sasl(const struct imap_str *line, bool cancel, char *buf, size_t cap)
{
    struct imap_out o;
    imap_out_init(&o, buf, cap);
    if (cancel) {
        imap_out_raw(&o, "*", 1);
    } else {
        if (line->len && (memchr(line->ptr, '\r', line->len) || memchr(line->ptr, '\n', line->len)))
            return 0;
        imap_out_raw(&o, line->ptr, line->len);
    }
    imap_out_raw(&o, "\r\n", 2);
    return o.overflow ? 0 : o.len;
}
