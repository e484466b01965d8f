/* IMAP response reader and formatters: every response kind and response
 * code, literals inside FETCH across any chunk boundary, ENVELOPE and
 * BODYSTRUCTURE writers, and the exact error value for malformed server
 * lines. Every response read is formatted and read again and must come
 * back equal. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/imap.h"
#include "tests/imap_table.h"

/* ---- deep comparison -------------------------------------------------- */

static void value_eq(const struct imap_value *va, int a, const struct imap_value *vb, int b)
{
    for (; a >= 0 || b >= 0; a = va[a].next_sibling, b = vb[b].next_sibling) {
        assert_true(a >= 0 && b >= 0);
        assert_int_equal(va[a].type, vb[b].type);
        assert_int_equal(va[a].no_space, vb[b].no_space);
        assert_int_equal(va[a].number, vb[b].number);
        str_eq(&va[a].str, &vb[b].str);
        value_eq(va, va[a].first_child, vb, vb[b].first_child);
    }
}

static void resp_eq(const struct imap_response *a, const struct imap_response *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->tag, b->tag);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->code.code, b->code.code);
    assert_int_equal(a->code.n1, b->code.n1);
    assert_int_equal(a->code.n2, b->code.n2);
    assert_true(a->code.modseq == b->code.modseq);
    set_eq(&a->code.set1, &b->code.set1);
    set_eq(&a->code.set2, &b->code.set2);
    strs_eq(a->code.atoms, a->code.natoms, b->code.atoms, b->code.natoms);
    str_eq(&a->code.name, &b->code.name);
    str_eq(&a->code.arg, &b->code.arg);
    str_eq(&a->text, &b->text);
    assert_int_equal(a->number, b->number);
    strs_eq(a->atoms, a->natoms, b->atoms, b->natoms);
    assert_int_equal(a->delimiter, b->delimiter);
    str_eq(&a->mailbox, &b->mailbox);
    assert_int_equal(a->nnumbers, b->nnumbers);
    for (size_t i = 0; i < a->nnumbers; i++) assert_int_equal(a->numbers[i], b->numbers[i]);
    assert_int_equal(a->status_items, b->status_items);
    for (int i = 0; i < IMAP_STATUS_COUNT; i++)
        assert_int_equal(a->status_values[i], b->status_values[i]);
    assert_int_equal(a->natts, b->natts);
    for (size_t i = 0; i < a->natts; i++) {
        const struct imap_msg_att *x = &a->atts[i], *y = &b->atts[i];
        assert_int_equal(x->item, y->item);
        strs_eq(x->flags, x->nflags, y->flags, y->nflags);
        assert_int_equal(x->number, y->number);
        assert_true(x->modseq == y->modseq);
        assert_int_equal(x->date.date.day, y->date.date.day);
        assert_int_equal(x->date.zone, y->date.zone);
        assert_int_equal(x->date.sec, y->date.sec);
        assert_int_equal(x->section.text, y->section.text);
        assert_int_equal(x->section.nparts, y->section.nparts);
        strs_eq(x->section.fields, x->section.nfields, y->section.fields, y->section.nfields);
        assert_int_equal(x->has_origin, y->has_origin);
        assert_int_equal(x->origin, y->origin);
        str_eq(&x->data, &y->data);
        assert_int_equal(x->value < 0, y->value < 0);
        if (x->value >= 0) {
            assert_int_equal(a->values[x->value].next_sibling, -1);
            value_eq(a->values, x->value, b->values, y->value);
        }
    }
}

/* ---- the harness ------------------------------------------------------ */

static void round_trip(const struct imap_response *r, struct out *o)
{
    static char wire[20000];
    size_t n = imap_resp_format(r, wire, sizeof wire);
    if (n == 0) fail_msg("cannot format a %s response", imap_resp_kind_names[r->kind]);
    struct imap_resp_reader *q = imap_resp_reader_new(0);
    assert_int_equal(imap_resp_reader_feed(q, wire, n), n);
    struct imap_response d;
    enum imap_rd_ev ev = imap_resp_reader_next(q, &d);
    if (ev != IMAP_RD_RESPONSE) fail_msg("re-read of %.*s: %s", (int)n, wire, imap_strerror(d.error));
    resp_eq(r, &d);
    assert_int_equal(imap_resp_reader_next(q, &d), IMAP_RD_NEED_MORE);
    imap_resp_reader_free(q);
    put(o, wire, n - 2);
}

/* Logs one event: a response as the formatter writes it back, "ERR <what>"
 * for a malformed one. */
static void log_event(enum imap_rd_ev ev, const struct imap_response *r, struct out *o)
{
    if (ev == IMAP_RD_RESPONSE) {
        round_trip(r, o);
    } else {
        char line[128];
        snprintf(line, sizeof line, "ERR %s", imap_strerror(r->error));
        put(o, line, strlen(line));
    }
}

/* The response reader as a feed_fn: feeds in[0..n) at most chunk octets a
 * call and logs each event. */
static void run(const char *in, size_t n, size_t chunk, size_t max_lit, struct out *o)
{
    struct imap_resp_reader *rd = imap_resp_reader_new(max_lit);
    assert_non_null(rd);
    out_clear(o);
    size_t off = 0;
    for (;;) {
        off += imap_resp_reader_feed(rd, in + off, next_piece(n, off, chunk));
        struct imap_response r;
        enum imap_rd_ev ev;
        while ((ev = imap_resp_reader_next(rd, &r)) != IMAP_RD_NEED_MORE) log_event(ev, &r, o);
        if (off == n) break;
    }
    imap_resp_reader_free(rd);
}

struct tcase {
    const char *name;
    const char *in;
    const char *want;
    size_t      max_lit;
};

static void run_table(const struct tcase *t, size_t n)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += check_case(run, t[i].name, t[i].in, strlen(t[i].in), t[i].max_lit, t[i].want);
    assert_int_equal(failed, 0);
}

/* ---- good responses --------------------------------------------------- */

#define ENV "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" " \
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " \
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " \
            "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) " \
            "((NIL NIL \"imap\" \"cac.washington.edu\")) " \
            "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) " \
            "NIL NIL \"<B27397-0100000@cac.washington.edu>\")"

static const struct tcase good[] = {
    /* RFC 7162 CONDSTORE: the codes of SELECT (3.1.2) and the MODSEQ item
     * of FETCH (3.1.4.1) */
    {"highestmodseq", "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
     "* OK [HIGHESTMODSEQ 715194045007] Highest", 0},
    {"highestmodseq 2^63-1", "* ok [highestmodseq 9223372036854775807] x\r\n",
     "* OK [HIGHESTMODSEQ 9223372036854775807] x", 0},
    {"nomodseq", "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences\r\n",
     "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences", 0},
    {"fetch with modseq", "* 7 FETCH (UID 12 FLAGS (\\Seen) MODSEQ (12121231000))\r\n",
     "* 7 FETCH (UID 12 FLAGS (\\Seen) MODSEQ (12121231000))", 0},
    {"greeting", "* OK IMAP4rev1 Service Ready\r\n", "* OK IMAP4rev1 Service Ready", 0},
    {"greeting with capability code", "* OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS AUTH=PLAIN] Dovecot ready.\r\n",
     "* OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS AUTH=PLAIN] Dovecot ready.", 0},
    {"preauth and bye", "* PREAUTH welcome\r\n* BYE logging out\r\n", "* PREAUTH welcome|* BYE logging out", 0},
    {"untagged no and bad", "* NO disk full\r\n* bad what\r\n", "* NO disk full|* BAD what", 0},
    {"tagged ok read-write", "A1 OK [READ-WRITE] SELECT completed\r\n", "A1 OK [READ-WRITE] SELECT completed", 0},
    {"tagged no trycreate", "A2 NO [TRYCREATE] No such mailbox\r\n", "A2 NO [TRYCREATE] No such mailbox", 0},
    {"tagged bad parse", "A3 BAD [PARSE] oops\r\n", "A3 BAD [PARSE] oops", 0},
    {"tagged without text", "A4 OK\r\n", "A4 OK", 0},
    {"code without text", "A5 OK [READ-ONLY]\r\n", "A5 OK [READ-ONLY]", 0},
    {"alert", "* OK [ALERT] System shutdown in 10 minutes\r\n", "* OK [ALERT] System shutdown in 10 minutes", 0},
    {"badcharset list", "A1 NO [BADCHARSET (US-ASCII \"UTF-8\")] no\r\n", "A1 NO [BADCHARSET (US-ASCII UTF-8)] no", 0},
    {"badcharset bare", "A1 NO [BADCHARSET] no\r\n", "A1 NO [BADCHARSET] no", 0},
    {"permanentflags", "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
     "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited", 0},
    {"uid codes", "* OK [UIDNEXT 4392] x\r\n* OK [UIDVALIDITY 3857529045] y\r\n* OK [UNSEEN 12] z\r\n",
     "* OK [UIDNEXT 4392] x|* OK [UIDVALIDITY 3857529045] y|* OK [UNSEEN 12] z", 0},
    {"appenduid", "A4 OK [APPENDUID 38505 3955] APPEND completed\r\n", "A4 OK [APPENDUID 38505 3955] APPEND completed", 0},
    {"copyuid", "A5 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n", "A5 OK [COPYUID 38505 304,319:320 3956:3958] Done", 0},
    {"uidnotsticky toobig", "A6 OK [UIDNOTSTICKY] x\r\nA7 NO [TOOBIG] y\r\n", "A6 OK [UIDNOTSTICKY] x|A7 NO [TOOBIG] y", 0},
    {"unknown code with text", "* OK [HIGHESTMODSEQ 715194045007] x\r\n", "* OK [HIGHESTMODSEQ 715194045007] x", 0},
    {"unknown code bare", "* NO [XFOO] y\r\n", "* NO [XFOO] y", 0},
    {"capability", "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
     "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED", 0},
    {"exists recent expunge", "* 172 EXISTS\r\n* 1 RECENT\r\n* 0 EXISTS\r\n* 44 EXPUNGE\r\n",
     "* 172 EXISTS|* 1 RECENT|* 0 EXISTS|* 44 EXPUNGE", 0},
    {"flags", "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)", 0},
    {"list", "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n", "* LIST (\\Noselect) \"/\" ~/Mail/foo", 0},
    {"list nil delimiter inbox", "* LIST () NIL inbox\r\n", "* LIST () NIL INBOX", 0},
    {"list backslash delimiter", "* LIST (\\HasNoChildren) \"\\\\\" \"a b\"\r\n",
     "* LIST (\\HasNoChildren) \"\\\\\" \"a b\"", 0},
    {"list control-character delimiter (fuzz)", "* LIST () \"\x15\" x\r\n", "* LIST () \"\x15\" x", 0},
    {"list DEL delimiter (fuzz)", "* LIST () \"\x7f\" x\r\n", "* LIST () \"\x7f\" x", 0},
    {"lsub", "* LSUB () \".\" #news.comp.mail.misc\r\n", "* LSUB () \".\" #news.comp.mail.misc", 0},
    {"search", "* SEARCH 2 3 6\r\n* SEARCH\r\n", "* SEARCH 2 3 6|* SEARCH", 0},
    {"status", "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
     "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)", 0},
    {"status empty", "* STATUS INBOX ()\r\n", "* STATUS INBOX ()", 0},
    {"fetch flags uid", "* 12 FETCH (FLAGS (\\Seen \\Recent $X) UID 4827313)\r\n",
     "* 12 FETCH (FLAGS (\\Seen \\Recent $X) UID 4827313)", 0},
    {"fetch rfc 3501 example",
     "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE " ENV
     " BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
     "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE " ENV
     " BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))", 0},
    {"fetch literal body", "* 2 FETCH (BODY[HEADER] {14}\r\nSubject: x\r\n\r\n UID 9)\r\n",
     "* 2 FETCH (BODY[HEADER] {14}\r\nSubject: x\r\n\r\n UID 9)", 0},
    {"fetch two literals", "* 3 FETCH (RFC822.HEADER {3}\r\na\r\n RFC822.TEXT {2}\r\n\r\n)\r\n",
     "* 3 FETCH (RFC822.HEADER {3}\r\na\r\n RFC822.TEXT {2}\r\n\r\n)", 0},
    {"fetch section origin quoted", "* 3 FETCH (UID 7 BODY[1.2]<0> \"abc\")\r\n", "* 3 FETCH (UID 7 BODY[1.2]<0> \"abc\")", 0},
    {"fetch header fields section", "* 3 FETCH (BODY[HEADER.FIELDS (FROM TO)] {2}\r\nab)\r\n",
     "* 3 FETCH (BODY[HEADER.FIELDS (FROM TO)] \"ab\")", 0},
    {"fetch nil body", "* 4 FETCH (BODY[TEXT] NIL RFC822 NIL)\r\n", "* 4 FETCH (BODY[TEXT] NIL RFC822 NIL)", 0},
    {"fetch multipart bodystructure",
     "* 5 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL)"
     "(\"TEXT\" \"HTML\" NIL NIL NIL \"QUOTED-PRINTABLE\" 40 2 NIL NIL NIL) \"ALTERNATIVE\" "
     "(\"BOUNDARY\" \"b1\") (\"inline\" NIL) NIL))\r\n",
     "* 5 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL)"
     "(\"TEXT\" \"HTML\" NIL NIL NIL \"QUOTED-PRINTABLE\" 40 2 NIL NIL NIL) \"ALTERNATIVE\" "
     "(\"BOUNDARY\" \"b1\") (\"inline\" NIL) NIL))", 0},
    {"continuation text", "+ Ready for literal data\r\n", "+ Ready for literal data", 0},
    {"continuation empty base64", "+ \r\n", "+ ", 0},
    {"bare continuation forgiven", "+\r\n", "+ ", 0},
    {"continuation base64", "+ YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMCAQGiQgRA\r\n",
     "+ YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMCAQGiQgRA", 0},
    {"tagged lowercase status", "a1 ok done\r\n", "a1 OK done", 0},
    {"literal at the limit", "* 1 FETCH (BODY[] {5}\r\nhello)\r\n", "* 1 FETCH (BODY[] \"hello\")", 5},
};

static void test_good(void **state)
{
    (void)state;
    run_table(good, sizeof good / sizeof good[0]);
}

/* ---- malformed server responses: the exact error value ---------------- */

static const struct tcase bad[] = {
    /* RFC 7162 7: mod-sequence-value is 1 to 2^63-1, MODSEQ's in "( )" */
    {"highestmodseq 0", "* OK [HIGHESTMODSEQ 0] x\r\n", "ERR malformed response code", 0},
    {"highestmodseq over 2^63-1", "* OK [HIGHESTMODSEQ 9223372036854775808] x\r\n",
     "ERR malformed response code", 0},
    {"highestmodseq without value", "* OK [HIGHESTMODSEQ] x\r\n", "ERR malformed response code", 0},
    {"modseq without parens", "* 1 FETCH (MODSEQ 5)\r\n", "ERR syntax error", 0},
    {"modseq 0", "* 1 FETCH (MODSEQ (0))\r\n", "ERR invalid number", 0},
    {"modseq unclosed", "* 1 FETCH (MODSEQ (5)\r\n", "ERR unbalanced parentheses", 0},
    {"unknown numbered data", "* 3 FOO\r\n", "ERR unknown or malformed response", 0},
    {"unknown untagged", "* FOO bar\r\n", "ERR unknown or malformed response", 0},
    {"unknown tagged status", "A1 FOO bar\r\n", "ERR unknown or malformed response", 0},
    {"tagged preauth", "A1 PREAUTH x\r\n", "ERR unknown or malformed response", 0},
    {"missing tag", " OK done\r\n", "ERR missing or invalid tag", 0},
    {"tag with +", "a+b OK done\r\n", "ERR missing or invalid tag", 0},
    {"empty line", "\r\n", "ERR missing or invalid tag", 0},
    {"star without space", "*OK x\r\n", "ERR syntax error", 0},
    {"status glued to text", "A1 OKdone\r\n", "ERR unknown or malformed response", 0},
    {"uidnext 0", "* OK [UIDNEXT 0] x\r\n", "ERR malformed response code", 0},
    {"uidnext without number", "* OK [UIDNEXT] x\r\n", "ERR malformed response code", 0},
    {"copyuid with star", "A1 OK [COPYUID 1 2:* 3] x\r\n", "ERR malformed response code", 0},
    {"appenduid one number", "A1 OK [APPENDUID 1] x\r\n", "ERR malformed response code", 0},
    {"unclosed code", "* OK [ALERT x\r\n", "ERR malformed response code", 0},
    {"permanentflags without list", "* OK [PERMANENTFLAGS \\Seen] x\r\n", "ERR malformed response code", 0},
    {"code glued to text", "A1 OK [READ-WRITE]x\r\n", "ERR syntax error", 0},
    {"expunge 0", "* 0 EXPUNGE\r\n", "ERR invalid number", 0},
    {"fetch 0", "* 0 FETCH (UID 1)\r\n", "ERR invalid number", 0},
    {"exists over 32 bits", "* 4294967296 EXISTS\r\n", "ERR invalid number", 0},
    {"fetch unknown item", "* 1 FETCH (FOO 1)\r\n", "ERR unknown FETCH attribute", 0},
    {"fetch uid 0", "* 1 FETCH (UID 0)\r\n", "ERR invalid number", 0},
    {"fetch empty list", "* 1 FETCH ()\r\n", "ERR unknown FETCH attribute", 0},
    {"fetch without list", "* 1 FETCH UID 1\r\n", "ERR syntax error", 0},
    {"fetch unbalanced", "* 1 FETCH (FLAGS (\\Seen)\r\n", "ERR unbalanced parentheses", 0},
    {"fetch bad internaldate", "* 1 FETCH (INTERNALDATE \"32-Jul-1996 02:44:25 -0700\")\r\n", "ERR invalid date", 0},
    {"fetch 8-bit quoted", "* 1 FETCH (BODY[] \"a\xff\")\r\n", "ERR invalid quoted string", 0},
    {"fetch bad section", "* 1 FETCH (BODY[FOO] NIL)\r\n", "ERR invalid section", 0},
    {"fetch bad origin", "* 1 FETCH (BODY[]<x> NIL)\r\n", "ERR invalid partial range", 0},
    {"literal shorter than said", "* 1 FETCH (BODY[] {5}\r\nabc)\r\n* 2 EXISTS\r\n",
     "ERR invalid literal|* 2 EXISTS", 0},
    {"literal over the limit skipped", "* 1 FETCH (BODY[] {8}\r\n12345678)\r\n* 2 EXISTS\r\n",
     "ERR literal larger than the limit|* 2 EXISTS", 5},
    {"search 0", "* SEARCH 1 0\r\n", "ERR invalid number", 0},
    {"list long delimiter", "* LIST () \"ab\" x\r\n", "ERR syntax error", 0},
    {"list literal delimiter", "* LIST () {1}\r\n/ x\r\n", "ERR syntax error", 0},
    {"status unknown item", "* STATUS x (FOO 1)\r\n", "ERR unknown STATUS item", 0},
    {"status item without number", "* STATUS x (MESSAGES)\r\n", "ERR syntax error", 0},
    {"flags without list", "* FLAGS \\Seen\r\n", "ERR syntax error", 0},
    {"body nested past the limit", "* 1 FETCH (BODY (((((((((((((((((1)))))))))))))))))\r\n",
     "ERR lists nested too deeply", 0},
    {"bad then good", "* 3 FOO\r\nA1 OK x\r\n", "ERR unknown or malformed response|A1 OK x", 0},
};

static void test_bad(void **state)
{
    (void)state;
    run_table(bad, sizeof bad / sizeof bad[0]);
}

/* A FETCH with literals read in chunks of every size. */
static void test_chunks(void **state)
{
    (void)state;
    const char *in = "* 1 FETCH (UID 5 BODY[] {12}\r\nline1\r\nline2 FLAGS ())\r\n"
                     "* 2 FETCH (BODY[1] {0}\r\n)\r\nA1 OK done\r\n";
    size_t n = strlen(in);
    static struct out o;
    for (size_t chunk = 1; chunk <= n; chunk++) {
        run(in, n, chunk, 0, &o);
        assert_string_equal(o.buf, "* 1 FETCH (UID 5 BODY[] {12}\r\nline1\r\nline2 FLAGS ())|"
                                   "* 2 FETCH (BODY[1] \"\")|A1 OK done");
    }
}

static void test_too_long(void **state)
{
    (void)state;
    static struct out o;
    size_t big = IMAP_MAX_TEXT + 10;
    char *in = malloc(big + 32);
    assert_non_null(in);
    memcpy(in, "* OK ", 5);
    memset(in + 5, 'x', big);
    memcpy(in + 5 + big, "\r\n* 3 EXISTS\r\n", 14);
    run(in, big + 19, big + 19, 0, &o);
    assert_string_equal(o.buf, "ERR command or response text too long|* 3 EXISTS");
    run(in, big + 19, 1, 0, &o);
    assert_string_equal(o.buf, "ERR command or response text too long|* 3 EXISTS");
    free(in);
}

static struct imap_response read_one(struct imap_resp_reader *rd, const char *in)
{
    struct imap_response r;
    assert_int_equal(imap_resp_reader_feed(rd, in, strlen(in)), strlen(in));
    assert_int_equal(imap_resp_reader_next(rd, &r), IMAP_RD_RESPONSE);
    return r;
}

static void test_fields(void **state)
{
    (void)state;
    struct imap_resp_reader *rd = imap_resp_reader_new(0);
    struct imap_response r = read_one(rd, "A9 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
    assert_int_equal(r.kind, IMAP_RESP_TAGGED);
    assert_string_equal(r.tag, "A9");
    assert_int_equal(r.status, IMAP_OK);
    assert_int_equal(r.code.code, IMAP_CODE_COPYUID);
    assert_int_equal(r.code.n1, 38505);
    assert_int_equal(r.code.set1.n, 2);
    assert_int_equal(r.code.set1.ranges[1].lo, 319);
    assert_int_equal(r.code.set1.ranges[1].hi, 320);
    assert_int_equal(r.code.set2.ranges[0].hi, 3958);
    assert_bytes("Done", r.text.ptr, r.text.len);

    r = read_one(rd, "* LIST (\\Noselect \\HasChildren) \".\" \"Lists.IMAP\"\r\n");
    assert_int_equal(r.kind, IMAP_RESP_LIST);
    assert_int_equal(r.natoms, 2);
    assert_bytes("\\HasChildren", r.atoms[1].ptr, r.atoms[1].len);
    assert_int_equal(r.delimiter, '.');
    assert_bytes("Lists.IMAP", r.mailbox.ptr, r.mailbox.len);

    r = read_one(rd, "* STATUS INBOX (UNSEEN 3 MESSAGES 10)\r\n");
    assert_int_equal(r.status_items, IMAP_STATUS_BIT(IMAP_STATUS_UNSEEN) | IMAP_STATUS_BIT(IMAP_STATUS_MESSAGES));
    assert_int_equal(r.status_values[IMAP_STATUS_UNSEEN], 3);
    assert_int_equal(r.status_values[IMAP_STATUS_MESSAGES], 10);

    r = read_one(rd, "* 7 FETCH (ENVELOPE (NIL \"Hi\" ((\"A\" NIL \"a\" \"x.org\")) NIL NIL NIL NIL NIL NIL NIL) "
                     "INTERNALDATE \" 1-Jan-2020 00:00:00 +0000\" BODY[]<5> {3}\r\nabc)\r\n");
    assert_int_equal(r.kind, IMAP_RESP_FETCH);
    assert_int_equal(r.number, 7);
    assert_int_equal(r.natts, 3);
    const struct imap_value *v = r.values;
    int env = r.atts[0].value;
    assert_int_equal(v[env].type, IMAP_V_LIST);
    int date = v[env].first_child, subj = v[date].next_sibling, from = v[subj].next_sibling;
    assert_int_equal(v[date].type, IMAP_V_NIL);
    assert_int_equal(v[subj].type, IMAP_V_STRING);
    assert_bytes("Hi", v[subj].str.ptr, v[subj].str.len);
    int addr = v[from].first_child;
    int host = v[v[v[v[addr].first_child].next_sibling].next_sibling].next_sibling;
    assert_bytes("x.org", v[host].str.ptr, v[host].str.len);
    assert_int_equal(imap_value_nth(v, addr, 3), host);
    assert_int_equal(imap_value_nth(v, env, 2), from);
    assert_int_equal(imap_value_nth(v, env, 10), -1);
    assert_int_equal(imap_value_nth(v, subj, 0), -1); /* not a list */
    assert_int_equal(r.atts[1].date.date.day, 1);
    assert_int_equal(r.atts[1].date.zone, 0);
    assert_true(r.atts[2].has_origin);
    assert_int_equal(r.atts[2].origin, 5);
    assert_bytes("abc", r.atts[2].data.ptr, r.atts[2].data.len);

    r = read_one(rd, "* 1 FETCH (BODY[] NIL)\r\n");
    assert_true(r.atts[0].data.nil);
    imap_resp_reader_free(rd);
}

/* The server's writers: ENVELOPE and BODYSTRUCTURE from plain structs, the
 * quoted/literal choice, and refusals of values that cannot be written. */
static void test_writers(void **state)
{
    (void)state;
    char buf[2048];
    struct imap_out o;
#define S(x) ((struct imap_str){x, sizeof(x) - 1, false})
#define NIL ((struct imap_str){NULL, 0, true})
    struct imap_address from = {S("Terry Gray"), NIL, S("gray"), S("cac.washington.edu")};
    struct imap_address to[2] = {{NIL, NIL, S("minutes"), S("CNRI.Reston.VA.US")},
                                 {S("John Klensin"), NIL, S("KLENSIN"), S("MIT.EDU")}};
    struct imap_envelope e = {
        .date = S("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"), .subject = S("IMAP4rev1 WG mtg summary and minutes"),
        .from = &from, .nfrom = 1, .sender = &from, .nsender = 1, .reply_to = &from, .nreply_to = 1,
        .to = to, .nto = 2, .in_reply_to = NIL, .message_id = S("<B27397-0100000@cac.washington.edu>"),
    };
    imap_out_init(&o, buf, sizeof buf);
    imap_out_envelope(&o, &e);
    assert_false(o.overflow || o.invalid);
    assert_bytes("(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
                 "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
                 "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
                 "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
                 "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
                 "NIL NIL NIL \"<B27397-0100000@cac.washington.edu>\")",
                 buf, o.len);

    struct imap_str cs[2] = {S("CHARSET"), S("UTF-8")};
    struct imap_str fn[2] = {S("FILENAME"), S("a.txt")};
    struct imap_body parts[2] = {
        {.type = S("TEXT"), .subtype = S("PLAIN"), .params = cs, .nparams = 2, .id = NIL, .description = NIL,
         .encoding = S("7BIT"), .size = 12, .lines = 1, .md5 = NIL, .disposition = NIL, .language = NIL},
        {.type = S("APPLICATION"), .subtype = S("OCTET-STREAM"), .id = NIL, .description = NIL,
         .encoding = S("BASE64"), .size = 40, .md5 = NIL, .disposition = S("attachment"),
         .disp_params = fn, .ndisp_params = 2, .language = NIL},
    };
    struct imap_str bnd[2] = {S("BOUNDARY"), S("b1")};
    struct imap_body mp = {.subtype = S("MIXED"), .params = bnd, .nparams = 2, .parts = parts, .nparts = 2,
                           .disposition = NIL, .language = NIL};
    struct imap_msg_att att[2] = {{.item = IMAP_FETCH_BODYSTRUCTURE, .body = &mp, .value = -1},
                                  {.item = IMAP_FETCH_ENVELOPE, .envelope = &e, .value = -1}};
    struct imap_response r = {.kind = IMAP_RESP_FETCH, .number = 3, .atts = att, .natts = 2};
    size_t n = imap_resp_format(&r, buf, sizeof buf);
    const char *want_bs =
        "* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL)"
        "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 40 NIL (\"attachment\" (\"FILENAME\" \"a.txt\")) NIL) "
        "\"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL) ENVELOPE (";
    assert_true(n > strlen(want_bs));
    assert_memory_equal(buf, want_bs, strlen(want_bs));
    /* What the server wrote, a client reads; written again it is the same. */
    static struct out out;
    run(buf, n, 1, 0, &out);
    assert_int_equal(out.len, n - 2);
    assert_memory_equal(buf, out.buf, n - 2);
    /* BODY (no extension data) */
    att[0].item = IMAP_FETCH_BODY;
    r.natts = 1;
    n = imap_resp_format(&r, buf, sizeof buf);
    assert_bytes("* 3 FETCH (BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1)"
                 "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 40) \"MIXED\"))\r\n",
                 buf, n);

    /* a message body goes out as a literal, a short one-line value quoted */
    struct imap_msg_att body = {.item = IMAP_FETCH_BODY_SECTION, .data = S("Hi\r\n"), .value = -1};
    r.atts = &body;
    n = imap_resp_format(&r, buf, sizeof buf);
    assert_bytes("* 3 FETCH (BODY[] {4}\r\nHi\r\n)\r\n", buf, n);
    body.data = S("caf\xc3\xa9");
    n = imap_resp_format(&r, buf, sizeof buf);
    assert_bytes("* 3 FETCH (BODY[] {5}\r\ncaf\xc3\xa9)\r\n", buf, n);
    body.data = S("plain");
    body.section.text = IMAP_SECTION_MIME; /* MIME needs a part number */
    assert_int_equal(imap_resp_format(&r, buf, sizeof buf), 0);
    body.section.nparts = 1;
    body.section.part[0] = 2;
    n = imap_resp_format(&r, buf, sizeof buf);
    assert_bytes("* 3 FETCH (BODY[2.MIME] \"plain\")\r\n", buf, n);
    body.data = (struct imap_str){"a\0b", 3, false}; /* NUL cannot be sent */
    assert_int_equal(imap_resp_format(&r, buf, sizeof buf), 0);

    /* refusals */
    struct imap_response t = {.kind = IMAP_RESP_TAGGED, .status = IMAP_PREAUTH};
    strcpy(t.tag, "A1");
    assert_int_equal(imap_resp_format(&t, buf, sizeof buf), 0); /* tagged PREAUTH */
    t.status = IMAP_OK;
    t.text = S("two\r\nlines");
    assert_int_equal(imap_resp_format(&t, buf, sizeof buf), 0);
    t.text = S("fine");
    strcpy(t.tag, "*");
    assert_int_equal(imap_resp_format(&t, buf, sizeof buf), 0); /* "*" is no tag */
    strcpy(t.tag, "A1");
    t.code.code = IMAP_CODE_UIDNEXT; /* UIDNEXT 0 */
    assert_int_equal(imap_resp_format(&t, buf, sizeof buf), 0);
    t.code.n1 = 7;
    assert_int_equal(imap_resp_format(&t, buf, 10), 0); /* does not fit */
    n = imap_resp_format(&t, buf, sizeof buf);
    assert_bytes("A1 OK [UIDNEXT 7] fine\r\n", buf, n);
    struct imap_response x = {.kind = IMAP_RESP_EXPUNGE, .number = 0};
    assert_int_equal(imap_resp_format(&x, buf, sizeof buf), 0);
    x.kind = IMAP_RESP_EXISTS;
    n = imap_resp_format(&x, buf, sizeof buf);
    assert_bytes("* 0 EXISTS\r\n", buf, n);
    struct imap_response l = {.kind = IMAP_RESP_LIST, .delimiter = '"', .mailbox = S("NIL")};
    n = imap_resp_format(&l, buf, sizeof buf);
    assert_bytes("* LIST () \"\\\"\" \"NIL\"\r\n", buf, n);

    /* writer primitives */
    imap_out_init(&o, buf, sizeof buf);
    imap_out_astring(&o, "INBOX", 5);
    imap_out_raw(&o, " ", 1);
    imap_out_astring(&o, "", 0);
    imap_out_raw(&o, " ", 1);
    imap_out_astring(&o, "a]b", 3);
    imap_out_raw(&o, " ", 1);
    struct imap_date d = {29, 2, 2024};
    imap_out_date(&o, &d);
    imap_out_raw(&o, " ", 1);
    struct imap_datetime dt = {{5, 11, 2026}, 9, 3, 7, -330};
    imap_out_datetime(&o, &dt);
    imap_out_raw(&o, " ", 1);
    imap_out_number(&o, UINT64_MAX);
    assert_false(o.invalid || o.overflow);
    assert_bytes("INBOX \"\" \"a]b\" 29-Feb-2024 \"05-Nov-2026 09:03:07 -0530\" 18446744073709551615", buf, o.len);
    d.year = 2023;
    imap_out_date(&o, &d);
    assert_true(o.invalid);
    imap_out_init(&o, buf, 3);
    imap_out_cstr(&o, "abcd");
    assert_true(o.overflow);
    assert_int_equal(o.len, 0);
    assert_string_equal(imap_flag_name(IMAP_FLAG_DRAFT), "\\Draft");
    assert_null(imap_flag_name(3));
    assert_string_equal(imap_code_names[IMAP_CODE_READ_ONLY], "READ-ONLY");
    assert_string_equal(imap_rd_ev_names[IMAP_RD_ERROR], "ERROR");
#undef S
#undef NIL
}

/* Errors do not stick; reset forgets a half-read literal. */
static void test_reset(void **state)
{
    (void)state;
    struct imap_resp_reader *rd = imap_resp_reader_new(0);
    struct imap_response r;
    const char *a = "* 1 FETCH (BODY[] {100}\r\nabc";
    imap_resp_reader_feed(rd, a, strlen(a));
    assert_int_equal(imap_resp_reader_next(rd, &r), IMAP_RD_NEED_MORE);
    assert_int_equal(imap_resp_reader_pending(rd), strlen(a));
    imap_resp_reader_reset(rd);
    assert_int_equal(imap_resp_reader_pending(rd), 0);
    r = read_one(rd, "* 5 RECENT\r\n");
    assert_int_equal(r.kind, IMAP_RESP_RECENT);
    assert_int_equal(r.number, 5);
    imap_resp_reader_free(rd);
    imap_resp_reader_free(NULL);
}

/* Mutated good responses: never a crash or leak, and every response the
 * reader accepts survives format -> read unchanged. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = " ()[]{}<>\"\\*%:,.+-01239\r\nNILUIDx\xe9";
    static char in[2048];
    struct mutator m = {777, alphabet, sizeof alphabet - 1, in, sizeof in, 0};
    for (int round = 0; round < 40; round++)
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
            feed_mutated(run, &m, good[i].in, 1 + round % 4);
    assert_true(m.cases > 1500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("imap_response", tests, NULL, NULL);
}
