/* IMAP command parser and formatter: every command kind, literals and the
 * "+" handshake, IDLE/DONE, AUTHENTICATE continuations, limits, and the
 * exact BAD/NO line the server sends for each kind of bad input. Every
 * parsed command is formatted and parsed again and must come back equal. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/imap.h"
#include "tests/imap_table.h"

/* ---- deep comparison -------------------------------------------------- */

static void date_eq(const struct imap_date *a, const struct imap_date *b)
{
    assert_int_equal(a->day, b->day);
    assert_int_equal(a->month, b->month);
    assert_int_equal(a->year, b->year);
}

static void key_eq(const struct imap_search_key *ka, int a, const struct imap_search_key *kb, int b)
{
    for (; a >= 0 || b >= 0; a = ka[a].next_sibling, b = kb[b].next_sibling) {
        assert_true(a >= 0 && b >= 0);
        const struct imap_search_key *x = &ka[a], *y = &kb[b];
        assert_int_equal(x->op, y->op);
        str_eq(&x->str, &y->str);
        str_eq(&x->str2, &y->str2);
        date_eq(&x->date, &y->date);
        assert_int_equal(x->number, y->number);
        set_eq(&x->set, &y->set);
        key_eq(ka, x->first_child, kb, y->first_child);
    }
}

static void section_eq(const struct imap_section *a, const struct imap_section *b)
{
    assert_int_equal(a->nparts, b->nparts);
    for (size_t i = 0; i < a->nparts; i++) assert_int_equal(a->part[i], b->part[i]);
    assert_int_equal(a->text, b->text);
    strs_eq(a->fields, a->nfields, b->fields, b->nfields);
}

static void cmd_eq(const struct imap_command *a, const struct imap_command *b)
{
    assert_string_equal(a->tag, b->tag);
    assert_int_equal(a->cmd, b->cmd);
    assert_int_equal(a->uid, b->uid);
    str_eq(&a->mailbox, &b->mailbox);
    str_eq(&a->mailbox2, &b->mailbox2);
    str_eq(&a->user, &b->user);
    str_eq(&a->password, &b->password);
    str_eq(&a->mechanism, &b->mechanism);
    assert_int_equal(a->has_initial, b->has_initial);
    str_eq(&a->initial, &b->initial);
    assert_int_equal(a->status_items, b->status_items);
    assert_int_equal(a->has_flags, b->has_flags);
    strs_eq(a->flags, a->nflags, b->flags, b->nflags);
    assert_int_equal(a->has_date, b->has_date);
    if (a->has_date) {
        date_eq(&a->date.date, &b->date.date);
        assert_int_equal(a->date.hour, b->date.hour);
        assert_int_equal(a->date.min, b->date.min);
        assert_int_equal(a->date.sec, b->date.sec);
        assert_int_equal(a->date.zone, b->date.zone);
    }
    str_eq(&a->message, &b->message);
    assert_int_equal(a->has_charset, b->has_charset);
    str_eq(&a->charset, &b->charset);
    assert_int_equal(a->nkeys, b->nkeys);
    if (a->nkeys) key_eq(a->keys, 0, b->keys, 0);
    set_eq(&a->set, &b->set);
    assert_int_equal(a->nitems, b->nitems);
    for (size_t i = 0; i < a->nitems; i++) {
        const struct imap_fetch_att *x = &a->items[i], *y = &b->items[i];
        assert_int_equal(x->item, y->item);
        assert_int_equal(x->peek, y->peek);
        section_eq(&x->section, &y->section);
        assert_int_equal(x->partial, y->partial);
        assert_int_equal(x->origin, y->origin);
        assert_int_equal(x->count, y->count);
    }
    assert_int_equal(a->store_op, b->store_op);
    assert_int_equal(a->silent, b->silent);
    assert_int_equal(a->condstore, b->condstore);
    assert_int_equal(a->has_changedsince, b->has_changedsince);
    assert_true(a->changedsince == b->changedsince);
}

/* ---- the harness ------------------------------------------------------ */

/* Formats c, parses the bytes again with a fresh parser, and checks that
 * the command comes back the same; appends the bytes without CRLF. */
static void round_trip(const struct imap_command *c, struct out *o)
{
    static char wire[140000];
    size_t splits[64], ns = 99;
    size_t n = imap_cmd_format(c, false, wire, sizeof wire, splits, 64, &ns);
    if (n == 0) fail_msg("cannot format command %s %s", c->tag, imap_cmd_names[c->cmd]);
    struct imap_cmd_parser *q = imap_cmd_parser_new(1 << 20);
    size_t off = 0, conts = 0;
    struct imap_command d;
    enum imap_cmd_ev ev = IMAP_CMD_NEED_MORE;
    while (ev != IMAP_CMD_COMMAND) {
        off += imap_cmd_parser_feed(q, wire + off, n - off);
        while ((ev = imap_cmd_parser_next(q, &d)) == IMAP_CMD_CONTINUE) {
            assert_true(conts < ns);
            assert_true(splits[conts] <= off); /* "+" only after the {n} line */
            conts++;
        }
        if (ev == IMAP_CMD_ERROR) fail_msg("re-parse of %.*s failed: %d", (int)n, wire, d.error);
        if (ev != IMAP_CMD_COMMAND) assert_true(off < n);
    }
    assert_int_equal(off, n);
    assert_int_equal(conts, ns);
    cmd_eq(c, &d);
    imap_cmd_parser_free(q);
    put(o, wire, n - 2);
}

/* Logs one event: a command as the formatter writes it back, "+" for a
 * continuation, the reply line for an error, "DONE", "SASL <line>". Plays
 * the server's part for IDLE and AUTHENTICATE by switching what the parser
 * expects. */
static void log_event(struct imap_cmd_parser *p, enum imap_cmd_ev ev,
                      const struct imap_command *c, struct out *o)
{
    char line[256];
    switch (ev) {
    case IMAP_CMD_COMMAND:
        round_trip(c, o);
        if (c->cmd == IMAP_CMD_IDLE) imap_cmd_parser_expect(p, IMAP_EXPECT_DONE);
        if (c->cmd == IMAP_CMD_AUTHENTICATE && !c->has_initial)
            imap_cmd_parser_expect(p, IMAP_EXPECT_SASL);
        break;
    case IMAP_CMD_CONTINUE: put(o, "+", 1); break;
    case IMAP_CMD_DONE: put(o, "DONE", 4); break;
    case IMAP_CMD_SASL:
        snprintf(line, sizeof line, "SASL %.*s", c->sasl_cancelled ? 1 : (int)c->sasl_line.len,
                 c->sasl_cancelled ? "*" : c->sasl_line.ptr);
        put(o, line, strlen(line));
        break;
    case IMAP_CMD_ERROR: {
        size_t k = imap_cmd_error_reply(c, line, sizeof line);
        assert_true(k > 2);
        assert_memory_equal(line + k - 2, "\r\n", 2);
        put(o, line, k - 2);
        break;
    }
    default: fail_msg("unexpected event %d", ev);
    }
}

/* The command parser as a feed_fn: feeds in[0..n) at most chunk octets a
 * call and logs each event. */
static void run(const char *in, size_t n, size_t chunk, size_t max_lit, struct out *o)
{
    struct imap_cmd_parser *p = imap_cmd_parser_new(max_lit);
    assert_non_null(p);
    out_clear(o);
    size_t off = 0;
    for (;;) {
        off += imap_cmd_parser_feed(p, in + off, next_piece(n, off, chunk));
        struct imap_command c;
        enum imap_cmd_ev ev;
        while ((ev = imap_cmd_parser_next(p, &c)) != IMAP_CMD_NEED_MORE) log_event(p, ev, &c, o);
        if (off == n) break;
    }
    imap_cmd_parser_free(p);
}

struct tcase {
    const char *name;
    const char *in;
    const char *want;
    size_t      len;     /* 0: strlen(in) */
    size_t      max_lit; /* 0: the default */
};

static void run_table(const struct tcase *t, size_t n)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += check_case(run, t[i].name, t[i].in, t[i].len ? t[i].len : strlen(t[i].in),
                             t[i].max_lit, t[i].want);
    assert_int_equal(failed, 0);
}

/* ---- good commands: parsed, then written back in canonical form -------- */

static const struct tcase good[] = {
    /* RFC 7162 CONDSTORE: the SELECT parameter, the FETCH modifier and the
     * MODSEQ item (3.1.8, 3.1.4.1) */
    {"select condstore", "a1 select inbox (condstore)\r\n", "a1 SELECT INBOX (CONDSTORE)", 0, 0},
    {"examine condstore", "a2 EXAMINE Work (CONDSTORE)\r\n", "a2 EXAMINE Work (CONDSTORE)", 0, 0},
    {"uid fetch changedsince", "a3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n",
     "a3 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", 0, 0},
    {"changedsince 0 and 2^63-1", "a4 FETCH 1 (FLAGS MODSEQ) (changedsince 0)\r\n"
     "a5 FETCH 2 (UID) (CHANGEDSINCE 9223372036854775807)\r\n",
     "a4 FETCH 1 (FLAGS MODSEQ) (CHANGEDSINCE 0)|a5 FETCH 2 (UID) (CHANGEDSINCE 9223372036854775807)",
     0, 0},
    {"modseq item alone", "a6 FETCH 1:3 MODSEQ\r\n", "a6 FETCH 1:3 (MODSEQ)", 0, 0},
    {"capability", "a1 capability\r\n", "a1 CAPABILITY", 0, 0},
    {"noop logout", "A1 NOOP\r\nA2 LOGOUT\r\n", "A1 NOOP|A2 LOGOUT", 0, 0},
    {"starttls check close expunge", "1 STARTTLS\r\n2 CHECK\r\n3 CLOSE\r\n4 EXPUNGE\r\n",
     "1 STARTTLS|2 CHECK|3 CLOSE|4 EXPUNGE", 0, 0},
    {"tag with ]", "a]1 NOOP\r\n", "a]1 NOOP", 0, 0},
    {"bare LF forgiven", "A1 NOOP\nA2 NOOP\r\n", "A1 NOOP|A2 NOOP", 0, 0},
    {"login atoms", "A1 LOGIN alice secret\r\n", "A1 LOGIN alice secret", 0, 0},
    {"login quoted with escapes", "A1 LOGIN \"al ice\" \"p\\\"w\\\\d\"\r\n",
     "A1 LOGIN \"al ice\" {5}\r\np\"w\\d", 0, 0},
    {"login literal handshake", "A1 LOGIN {5}\r\nalice {3}\r\nabc\r\n",
     "+|+|A1 LOGIN alice abc", 0, 0},
    {"login literal+ needs no +", "A1 LOGIN {5+}\r\nalice x\r\n", "A1 LOGIN alice x", 0, 0},
    {"login empty password", "A1 LOGIN alice \"\"\r\n", "A1 LOGIN alice \"\"", 0, 0},
    {"login NIL password is a string", "A1 LOGIN alice \"NIL\"\r\n", "A1 LOGIN alice \"NIL\"", 0, 0},
    {"authenticate plain exchange", "A1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n",
     "A1 AUTHENTICATE PLAIN|SASL AGFsaWNlAHNlY3JldA==", 0, 0},
    {"authenticate cancelled", "A1 AUTHENTICATE PLAIN\r\n*\r\nA2 NOOP\r\n",
     "A1 AUTHENTICATE PLAIN|SASL *|A2 NOOP", 0, 0},
    {"authenticate empty response", "A1 AUTHENTICATE PLAIN\r\n\r\n", "A1 AUTHENTICATE PLAIN|SASL ", 0, 0},
    {"authenticate initial response", "A1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n",
     "A1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", 0, 0},
    {"authenticate empty initial", "A1 AUTHENTICATE PLAIN =\r\n", "A1 AUTHENTICATE PLAIN =", 0, 0},
    {"select inbox any case", "A1 SELECT iNbOx\r\n", "A1 SELECT INBOX", 0, 0},
    {"examine quoted", "A1 EXAMINE \"Sent Items\"\r\n", "A1 EXAMINE \"Sent Items\"", 0, 0},
    {"create modified utf7 passes", "A1 CREATE &ZeVnLIqe-\r\n", "A1 CREATE &ZeVnLIqe-", 0, 0},
    {"create empty name", "A1 CREATE \"\"\r\n", "A1 CREATE \"\"", 0, 0},
    {"delete subscribe unsubscribe", "A1 DELETE a\r\nA2 SUBSCRIBE b\r\nA3 UNSUBSCRIBE c\r\n",
     "A1 DELETE a|A2 SUBSCRIBE b|A3 UNSUBSCRIBE c", 0, 0},
    {"rename", "A1 RENAME old \"new one\"\r\n", "A1 RENAME old \"new one\"", 0, 0},
    {"list wildcards", "A1 LIST \"\" *\r\n", "A1 LIST \"\" *", 0, 0},
    {"list pattern with %", "A1 LIST ~/Mail/ %\r\n", "A1 LIST ~/Mail/ %", 0, 0},
    {"lsub quoted pattern", "A1 LSUB \"#news.\" \"comp.mail.*\"\r\n",
     "A1 LSUB #news. comp.mail.*", 0, 0},
    {"status all items", "A1 STATUS INBOX (UNSEEN MESSAGES RECENT UIDNEXT UIDVALIDITY)\r\n",
     "A1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)", 0, 0},
    {"append plain", "A1 APPEND INBOX {5}\r\nhello\r\n", "+|A1 APPEND INBOX {5}\r\nhello", 0, 0},
    {"append flags and date", "A1 APPEND Drafts (\\Seen \\Draft $Label) \" 7-Feb-1994 21:52:25 -0800\" {4}\r\nhi\r\n\r\n",
     "+|A1 APPEND Drafts (\\Seen \\Draft $Label) \"07-Feb-1994 21:52:25 -0800\" {4}\r\nhi\r\n", 0, 0},
    {"append empty flag list", "A1 APPEND INBOX () {1}\r\nx\r\n", "+|A1 APPEND INBOX () {1}\r\nx", 0, 0},
    {"append literal+", "A1 APPEND INBOX {3+}\r\nabc\r\n", "A1 APPEND INBOX {3}\r\nabc", 0, 0},
    {"append literal mailbox", "A1 APPEND {3}\r\nbox {2}\r\nab\r\n", "+|+|A1 APPEND box {2}\r\nab", 0, 0},
    {"search simple", "A1 SEARCH ALL\r\n", "A1 SEARCH ALL", 0, 0},
    {"search flags keys", "A1 SEARCH ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN\r\n",
     "A1 SEARCH ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN", 0, 0},
    {"search un- keys", "A1 SEARCH UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN\r\n",
     "A1 SEARCH UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN", 0, 0},
    {"search strings", "A1 SEARCH FROM \"Smith\" TO bob CC c BCC d SUBJECT \"a b\" BODY x TEXT y\r\n",
     "A1 SEARCH FROM Smith TO bob CC c BCC d SUBJECT \"a b\" BODY x TEXT y", 0, 0},
    {"search dates", "A1 SEARCH BEFORE 1-Feb-1994 ON \"02-Mar-2000\" SINCE 29-Feb-2024\r\n",
     "A1 SEARCH BEFORE 1-Feb-1994 ON 2-Mar-2000 SINCE 29-Feb-2024", 0, 0},
    {"search sent dates", "A1 SEARCH SENTBEFORE 1-jan-2001 SENTON 2-Jan-2001 SENTSINCE 3-JAN-2001\r\n",
     "A1 SEARCH SENTBEFORE 1-Jan-2001 SENTON 2-Jan-2001 SENTSINCE 3-Jan-2001", 0, 0},
    {"search sizes header keyword", "A1 SEARCH LARGER 100 SMALLER 5000 HEADER X-Spam yes KEYWORD $Junk UNKEYWORD work\r\n",
     "A1 SEARCH LARGER 100 SMALLER 5000 HEADER X-Spam yes KEYWORD $Junk UNKEYWORD work", 0, 0},
    {"search not or group", "A1 SEARCH OR (SEEN FLAGGED) NOT DELETED\r\n",
     "A1 SEARCH OR (SEEN FLAGGED) NOT DELETED", 0, 0},
    {"search sets and uid", "A1 SEARCH 1:5,7 UID 2:* NOT 3\r\n", "A1 SEARCH 1:5,7 UID 2:* NOT 3", 0, 0},
    {"search charset", "A1 SEARCH CHARSET UTF-8 SUBJECT {4}\r\n\xc3\xa9t\xc3\r\n",
     "+|A1 SEARCH CHARSET UTF-8 SUBJECT {4}\r\n\xc3\xa9t\xc3", 0, 0},
    {"search nested or", "A1 SEARCH OR OR SEEN DRAFT NOT (FROM a TO b)\r\n",
     "A1 SEARCH OR OR SEEN DRAFT NOT (FROM a TO b)", 0, 0},
    {"fetch macros", "A1 FETCH 1 ALL\r\nA2 FETCH 2 fast\r\nA3 FETCH 3 FULL\r\n",
     "A1 FETCH 1 ALL|A2 FETCH 2 FAST|A3 FETCH 3 FULL", 0, 0},
    {"fetch single att", "A1 FETCH 1:* FLAGS\r\n", "A1 FETCH 1:* (FLAGS)", 0, 0},
    {"fetch all simple atts", "A1 FETCH 2,4:7 (FLAGS UID INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE)\r\n",
     "A1 FETCH 2,4:7 (FLAGS UID INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE)", 0, 0},
    {"fetch star ranges", "A1 FETCH *:4,* UID\r\n", "A1 FETCH *:4,* (UID)", 0, 0},
    {"fetch sections", "A1 FETCH 1 (BODY[] BODY[TEXT] BODY.PEEK[HEADER] BODY[1.2.3] BODY[2.MIME] BODY[1.TEXT] BODY[3.HEADER])\r\n",
     "A1 FETCH 1 (BODY[] BODY[TEXT] BODY.PEEK[HEADER] BODY[1.2.3] BODY[2.MIME] BODY[1.TEXT] BODY[3.HEADER])", 0, 0},
    {"fetch header field name as literal (fuzz)", "A1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From {1}\r\n\xe9)])\r\n",
     "+|A1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From {1}\r\n\xe9)])", 0, 0},
    {"fetch header fields", "A1 FETCH 1 (body.peek[header.fields (From To \"Subject\")] BODY[1.HEADER.FIELDS.NOT (X-A)])\r\n",
     "A1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To Subject)] BODY[1.HEADER.FIELDS.NOT (X-A)])", 0, 0},
    {"fetch partial", "A1 FETCH 1 BODY[]<0.1024>\r\n", "A1 FETCH 1 (BODY[]<0.1024>)", 0, 0},
    {"store variants", "A1 STORE 1 FLAGS (\\Seen)\r\nA2 STORE 2 +FLAGS.SILENT \\Deleted $X\r\nA3 STORE 3 -flags ()\r\n",
     "A1 STORE 1 FLAGS (\\Seen)|A2 STORE 2 +FLAGS.SILENT (\\Deleted $X)|A3 STORE 3 -FLAGS ()", 0, 0},
    {"store extension flag", "A1 STORE 1 +FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\XExt kw)\r\n",
     "A1 STORE 1 +FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\XExt kw)", 0, 0},
    {"copy", "A1 COPY 2:4 MEETING\r\n", "A1 COPY 2:4 MEETING", 0, 0},
    {"uid commands", "A1 UID FETCH 1:* (UID FLAGS)\r\nA2 UID STORE 5 +FLAGS (\\Seen)\r\nA3 UID SEARCH UID 1:3\r\nA4 UID COPY 1 Trash\r\nA5 uid expunge 3:5\r\n",
     "A1 UID FETCH 1:* (UID FLAGS)|A2 UID STORE 5 +FLAGS (\\Seen)|A3 UID SEARCH UID 1:3|A4 UID COPY 1 Trash|A5 UID EXPUNGE 3:5", 0, 0},
    {"idle and done", "A1 IDLE\r\ndone\r\nA2 NOOP\r\n", "A1 IDLE|DONE|A2 NOOP", 0, 0},
    {"8-bit in a literal is fine", "A1 LOGIN {2}\r\n\xc3\xa9 x\r\n", "+|A1 LOGIN {2}\r\n\xc3\xa9 x", 0, 0},
    {"quote in a string makes a literal", "A1 SELECT \"a\\\"\"\r\n", "A1 SELECT {2}\r\na\"", 0, 0},
    {"tag of 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP\r\n",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP", 0, 0},
    {"nesting at the limit", "A1 SEARCH ((((((((((((((((SEEN))))))))))))))))\r\n",
     "A1 SEARCH ((((((((((((((((SEEN))))))))))))))))", 0, 0},
};

static void test_good(void **state)
{
    (void)state;
    run_table(good, sizeof good / sizeof good[0]);
}

/* ---- bad input: the exact line the server answers ---------------------- */

static const struct tcase bad[] = {
    /* RFC 7162 CONDSTORE syntax (RFC 4466 2.1, 2.4: unknown parameters) */
    {"select unknown param", "a1 SELECT INBOX (QRESYNC)\r\n",
     "a1 BAD Unknown SELECT parameter or FETCH modifier", 0, 0},
    {"select empty params", "a1 SELECT INBOX ()\r\n",
     "a1 BAD Unknown SELECT parameter or FETCH modifier", 0, 0},
    {"create with condstore", "a1 CREATE Box (CONDSTORE)\r\n", "a1 BAD Syntax error in arguments",
     0, 0},
    {"fetch unknown modifier", "a1 FETCH 1 (FLAGS) (VANISHED)\r\n",
     "a1 BAD Unknown SELECT parameter or FETCH modifier", 0, 0},
    {"changedsince without value", "a1 FETCH 1 (FLAGS) (CHANGEDSINCE)\r\n",
     "a1 BAD Syntax error in arguments", 0, 0},
    {"changedsince over 2^63-1", "a1 FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)\r\n",
     "a1 BAD Invalid number", 0, 0},
    {"changedsince not a number", "a1 FETCH 1 (FLAGS) (CHANGEDSINCE x1)\r\n",
     "a1 BAD Invalid number", 0, 0},
    {"changedsince unclosed", "a1 FETCH 1 (FLAGS) (CHANGEDSINCE 5\r\n",
     "a1 BAD Unbalanced parentheses", 0, 0},
    {"modseq item with a value", "a1 FETCH 1 (MODSEQ 5)\r\n", "a1 BAD Unknown FETCH attribute", 0, 0},
    /* tags */
    {"empty line", "\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag with +", "A+1 NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag is +", "+ NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag is *", "* NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag with *", "a*b NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag with (", "a(b NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"leading space", " A1 NOOP\r\n", "* BAD Missing or invalid tag", 0, 0},
    {"tag over 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP\r\n",
     "* BAD Missing or invalid tag", 0, 0},
    {"tag alone", "A1\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    /* commands */
    {"unknown command", "A1 FOO\r\n", "A1 BAD Unknown command", 0, 0},
    {"command glued to junk", "A1 NOOPX\r\n", "A1 BAD Unknown command", 0, 0},
    {"two spaces", "A1  NOOP\r\n", "A1 BAD Unknown command", 0, 0},
    {"uid with noop", "A1 UID NOOP\r\n", "A1 BAD UID only goes with COPY, FETCH, SEARCH, STORE, EXPUNGE", 0, 0},
    {"uid with select", "A1 UID SELECT INBOX\r\n", "A1 BAD UID only goes with COPY, FETCH, SEARCH, STORE, EXPUNGE", 0, 0},
    {"uid with unknown", "A1 UID FOO 1\r\n", "A1 BAD Unknown command", 0, 0},
    {"uid expunge without set", "A1 UID EXPUNGE\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"noop with argument", "A1 NOOP extra\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"trailing space", "A1 NOOP \r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"login one argument", "A1 LOGIN alice\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"login no argument", "A1 LOGIN\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"login three arguments", "A1 LOGIN a b c\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"select without name", "A1 SELECT\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"select bad char", "A1 SELECT a(b\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"select name with %", "A1 SELECT a%\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"rename one name", "A1 RENAME a\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"list one argument", "A1 LIST \"\"\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"copy without mailbox", "A1 COPY 1:* \r\n", "A1 BAD Syntax error in arguments", 0, 0},
    /* quoted strings: RFC 3501 9 QUOTED-CHAR */
    {"unterminated quoted", "A1 LOGIN \"alice secret\r\n", "A1 BAD Invalid quoted string", 0, 0},
    {"bad escape \\q", "A1 LOGIN \"al\\qice\" x\r\n", "A1 BAD Invalid quoted string", 0, 0},
    {"8-bit in quoted", "A1 LOGIN \"al\xc3\xa9\" x\r\n", "A1 BAD Invalid quoted string", 0, 0},
    {"NUL in quoted", "A1 LOGIN \"a\0b\" x\r\n", "A1 BAD Invalid quoted string", 18, 0},
    {"unterminated quoted list pattern", "A1 LIST \"\" \"*\r\n", "A1 BAD Invalid quoted string", 0, 0},
    /* literals */
    {"literal shorter than said", "A1 LOGIN {3}\r\nalice x\r\n",
     "+|A1 BAD Literal malformed or not of its announced size", 0, 0},
    {"literal longer than said", "A1 LOGIN a {10}\r\nabc\r\nA2 NOOP\r\n",
     "+|A1 BAD Literal malformed or not of its announced size", 0, 0},
    {"literal followed by junk", "A1 LOGIN a {3}\r\nabcdef\r\nA2 NOOP\r\n",
     "+|A1 BAD Literal malformed or not of its announced size|A2 NOOP", 0, 0},
    {"literal without digits", "A1 LOGIN {x}\r\n", "A1 BAD Literal malformed or not of its announced size", 0, 0},
    {"literal over 32 bits", "A1 LOGIN {99999999999}\r\nA2 NOOP\r\n",
     "A1 BAD Literal malformed or not of its announced size|A2 NOOP", 0, 0},
    {"NUL in literal", "A1 LOGIN a {3}\r\na\0c\r\n", "+|A1 BAD Literal malformed or not of its announced size", 21, 0},
    {"literal over the limit: NO, no +", "A1 APPEND INBOX {11}\r\nA2 NOOP\r\n",
     "A1 NO [TOOBIG] Literal too big|A2 NOOP", 0, 10},
    {"literal+ over the limit is skipped", "A1 APPEND INBOX {11+}\r\n01234567890\r\nA2 NOOP\r\n",
     "A1 NO [TOOBIG] Literal too big|A2 NOOP", 0, 10},
    {"literals summing over the limit", "A1 LOGIN {6}\r\nabcdef {6}\r\nA2 NOOP\r\n",
     "+|A1 NO [TOOBIG] Literal too big|A2 NOOP", 0, 10},
    {"unknown command before literal: no +", "A1 FOO {5}\r\nA2 NOOP\r\n", "A1 BAD Unknown command|A2 NOOP", 0, 0},
    {"literal where none fits: no +", "A1 NOOP {5}\r\nA2 NOOP\r\n", "A1 BAD Syntax error in arguments|A2 NOOP", 0, 0},
    {"bad date before literal: no +", "A1 APPEND INBOX \"31-Feb-2020 10:00:00 +0000\" {5}\r\nA2 NOOP\r\n",
     "A1 BAD Invalid date|A2 NOOP", 0, 0},
    {"\\Recent in APPEND before literal", "A1 APPEND INBOX (\\Recent) {5}\r\nA2 NOOP\r\n", "A1 BAD Invalid flag|A2 NOOP", 0, 0},
    {"append message quoted", "A1 APPEND INBOX \"hello\"\r\n", "A1 BAD Invalid date", 0, 0},
    {"append without message", "A1 APPEND INBOX\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"append date day not 2 digits", "A1 APPEND INBOX \"1-Jan-2020 10:00:00 +0000\" {3}\r\n", "A1 BAD Invalid date", 0, 0},
    {"append hour 25", "A1 APPEND INBOX \"01-Jan-2020 25:00:00 +0000\" {3}\r\n", "A1 BAD Invalid date", 0, 0},
    {"append zone without sign", "A1 APPEND INBOX \"01-Jan-2020 10:00:00 0000\" {3}\r\n", "A1 BAD Invalid date", 0, 0},
    {"literal+ rejected, rest of command skipped", "A1 FOO {3+}\r\nabc {2+}\r\nxy\r\nA2 NOOP\r\n",
     "A1 BAD Unknown command|A2 NOOP", 0, 0},
    /* sequence sets */
    {"sequence number 0", "A1 FETCH 0 FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"range to 0", "A1 FETCH 1:0 FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"incomplete range 1:", "A1 FETCH 1: FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"trailing comma", "A1 FETCH 1:2, FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"leading comma", "A1 FETCH ,1 FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"double colon", "A1 FETCH 1:*:2 FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"number over 32 bits", "A1 FETCH 4294967296 FLAGS\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"letters in set", "A1 COPY 1a INBOX\r\n", "A1 BAD Invalid sequence set", 0, 0},
    {"search uid 0", "A1 SEARCH UID 0\r\n", "A1 BAD Invalid sequence set", 0, 0},
    /* FETCH */
    {"unknown fetch att", "A1 FETCH 1 FOO\r\n", "A1 BAD Unknown FETCH attribute", 0, 0},
    {"unknown att in list", "A1 FETCH 1 (FLAGS FOO)\r\n", "A1 BAD Unknown FETCH attribute", 0, 0},
    {"empty att list", "A1 FETCH 1 ()\r\n", "A1 BAD Unknown FETCH attribute", 0, 0},
    {"macro in a list", "A1 FETCH 1 (ALL)\r\n", "A1 BAD Unknown FETCH attribute", 0, 0},
    {"body.peek without section", "A1 FETCH 1 BODY.PEEK\r\n", "A1 BAD Unknown FETCH attribute", 0, 0},
    {"header.fields without list", "A1 FETCH 1 BODY[HEADER.FIELDS]\r\n", "A1 BAD Invalid section", 0, 0},
    {"header.fields empty list", "A1 FETCH 1 BODY[HEADER.FIELDS ()]\r\n", "A1 BAD Invalid section", 0, 0},
    {"section part 0", "A1 FETCH 1 BODY[0]\r\n", "A1 BAD Invalid section", 0, 0},
    {"MIME without part", "A1 FETCH 1 BODY[MIME]\r\n", "A1 BAD Invalid section", 0, 0},
    {"unknown section text", "A1 FETCH 1 BODY[1.FOO]\r\n", "A1 BAD Invalid section", 0, 0},
    {"unclosed section", "A1 FETCH 1 BODY[TEXT\r\n", "A1 BAD Invalid section", 0, 0},
    {"section too deep", "A1 FETCH 1 BODY[1.2.3.4.5.6.7.8.9]\r\n", "A1 BAD Too many arguments", 0, 0},
    {"partial zero length", "A1 FETCH 1 BODY[]<0.0>\r\n", "A1 BAD Invalid partial range", 0, 0},
    {"partial without length", "A1 FETCH 1 BODY[]<5>\r\n", "A1 BAD Invalid partial range", 0, 0},
    {"partial over 32 bits", "A1 FETCH 1 BODY[]<4294967296.1>\r\n", "A1 BAD Invalid partial range", 0, 0},
    {"unbalanced fetch list", "A1 FETCH 1 (FLAGS\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    {"extra close paren", "A1 FETCH 1 FLAGS)\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    {"header list unclosed", "A1 FETCH 1 BODY[HEADER.FIELDS (From]\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    /* STORE */
    {"store bad op", "A1 STORE 1 FLAGZ (\\Seen)\r\n", "A1 BAD Invalid STORE operation", 0, 0},
    {"store * op", "A1 STORE 1 *FLAGS (\\Seen)\r\n", "A1 BAD Invalid STORE operation", 0, 0},
    {"store .LOUD", "A1 STORE 1 +FLAGS.LOUD (\\Seen)\r\n", "A1 BAD Invalid STORE operation", 0, 0},
    {"store \\Recent", "A1 STORE 1 +FLAGS (\\Recent)\r\n", "A1 BAD Invalid flag", 0, 0},
    {"store lone backslash", "A1 STORE 1 FLAGS (\\)\r\n", "A1 BAD Invalid flag", 0, 0},
    {"store without flags", "A1 STORE 1 FLAGS\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"store unclosed list", "A1 STORE 1 FLAGS (\\Seen\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    /* SEARCH */
    {"search bad day", "A1 SEARCH BEFORE 32-Jan-2020\r\n", "A1 BAD Invalid date", 0, 0},
    {"search 29 Feb not leap", "A1 SEARCH ON 29-Feb-2023\r\n", "A1 BAD Invalid date", 0, 0},
    {"search bad month", "A1 SEARCH SINCE 1-Foo-2020\r\n", "A1 BAD Invalid date", 0, 0},
    {"search two-digit year", "A1 SEARCH ON 1-Jan-20\r\n", "A1 BAD Invalid date", 0, 0},
    {"search unclosed date quote", "A1 SEARCH SENTON \"1-Jan-2020\r\n", "A1 BAD Invalid date", 0, 0},
    {"search unknown key", "A1 SEARCH FOO\r\n", "A1 BAD Invalid SEARCH key", 0, 0},
    {"search no key", "A1 SEARCH\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"search empty group", "A1 SEARCH ()\r\n", "A1 BAD Invalid SEARCH key", 0, 0},
    {"search unclosed group", "A1 SEARCH (SEEN\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    {"search extra paren", "A1 SEARCH SEEN)\r\n", "A1 BAD Unbalanced parentheses", 0, 0},
    {"search or with one key", "A1 SEARCH OR SEEN\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"search not alone", "A1 SEARCH NOT\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"search larger not a number", "A1 SEARCH LARGER x\r\n", "A1 BAD Invalid number", 0, 0},
    {"search header without value", "A1 SEARCH HEADER Subject\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    {"search keyword system flag", "A1 SEARCH KEYWORD \\Seen\r\n", "A1 BAD Invalid flag", 0, 0},
    {"search nested past the limit", "A1 SEARCH (((((((((((((((((SEEN)))))))))))))))))\r\n",
     "A1 BAD Lists nested too deeply", 0, 0},
    /* STATUS */
    {"status unknown item", "A1 STATUS INBOX (MESSAGES FOO)\r\n", "A1 BAD Unknown STATUS item", 0, 0},
    {"status empty list", "A1 STATUS INBOX ()\r\n", "A1 BAD Unknown STATUS item", 0, 0},
    {"status without list", "A1 STATUS INBOX MESSAGES\r\n", "A1 BAD Syntax error in arguments", 0, 0},
    /* AUTHENTICATE and IDLE */
    {"initial response not base64", "A1 AUTHENTICATE PLAIN a\r\n", "A1 BAD Invalid base64", 0, 0},
    {"sasl line not base64", "A1 AUTHENTICATE PLAIN\r\nab$d\r\nA2 NOOP\r\n",
     "A1 AUTHENTICATE PLAIN|A1 BAD Invalid base64|A2 NOOP", 0, 0},
    {"idle ended by other line", "A1 IDLE\r\nNOOP\r\nA2 NOOP\r\n", "A1 IDLE|A1 BAD Expected DONE|A2 NOOP", 0, 0},
    {"idle DONE with braces is no literal", "A1 IDLE\r\nDONE {5}\r\nA2 NOOP\r\n",
     "A1 IDLE|A1 BAD Expected DONE|A2 NOOP", 0, 0},
    /* resynchronisation */
    {"bad then good", "A1 FETCH 0 FLAGS\r\nA2 NOOP\r\n", "A1 BAD Invalid sequence set|A2 NOOP", 0, 0},
};

static void test_bad(void **state)
{
    (void)state;
    run_table(bad, sizeof bad / sizeof bad[0]);
}

/* Writes head, item `times` times and tail into in (which has room);
 * returns the length written. */
static size_t repeated(char *in, const char *head, const char *item, int times, const char *tail)
{
    size_t n = (size_t)sprintf(in, "%s", head);
    for (int i = 0; i < times; i++) n += (size_t)sprintf(in + n, "%s", item);
    return n + (size_t)sprintf(in + n, "%s", tail);
}

/* Limits built in code: a line over IMAP_MAX_TEXT, too many items. */
static void test_limits(void **state)
{
    (void)state;
    static struct out o;
    const size_t chunks[] = {SIZE_MAX, 1}; /* whole, then byte by byte */
    size_t big = IMAP_MAX_TEXT + 100;
    char *in = malloc(big + 64);
    assert_non_null(in);
    for (size_t m = 0; m < 2; m++) {
        /* An overlong line gets BAD with its tag; the next command is read. */
        memcpy(in, "A1 NOOP ", 8);
        memset(in + 8, 'x', big);
        memcpy(in + 8 + big, "\r\nA2 NOOP\r\n", 11);
        run(in, big + 19, chunks[m], 0, &o);
        assert_string_equal(o.buf, "A1 BAD Command line too long|A2 NOOP");
        /* A first line ending in a literal plus a long second line. */
        size_t n = (size_t)sprintf(in, "A1 LOGIN {3}\r\nabc ");
        memset(in + n, 'y', IMAP_MAX_TEXT);
        memcpy(in + n + IMAP_MAX_TEXT, "\r\nA2 NOOP\r\n", 11);
        run(in, n + IMAP_MAX_TEXT + 11, chunks[m], 0, &o);
        assert_string_equal(o.buf, "+|A1 BAD Command line too long|A2 NOOP");
        /* 33 FETCH items, limit 32. */
        n = repeated(in, "A1 FETCH 1 (FLAGS", " UID", 32, ")\r\n");
        run(in, n, chunks[m], 0, &o);
        assert_string_equal(o.buf, "A1 BAD Too many arguments");
        /* 129 SEARCH keys (the root counts), limit 128. */
        n = repeated(in, "A1 SEARCH", " SEEN", 128, "\r\n");
        run(in, n, chunks[m], 0, &o);
        assert_string_equal(o.buf, "A1 BAD Too many arguments");
        /* 127 keys fit. */
        n = repeated(in, "A1 SEARCH", " SEEN", 127, "\r\n");
        run(in, n, chunks[m], 0, &o);
        assert_memory_equal(o.buf, "A1 SEARCH SEEN SEEN", 19);
        /* 65 literals, limit 64. */
        n = repeated(in, "A1 SEARCH", " TEXT {1}\r\nx", 65, "\r\n");
        run(in, n, chunks[m], 0, &o);
        size_t plus = 0;
        for (const char *q = o.buf; (q = strstr(q, "+|")) != NULL; q += 2) plus++;
        assert_int_equal(plus, 64);
        assert_non_null(strstr(o.buf, "A1 BAD Too many arguments"));
    }
    free(in);
}

/* The parsed struct itself, field by field. */
static struct imap_command parse_one(struct imap_cmd_parser *p, const char *in)
{
    struct imap_command c;
    size_t n = strlen(in), off = 0;
    enum imap_cmd_ev ev = IMAP_CMD_NEED_MORE;
    while (off < n || ev == IMAP_CMD_CONTINUE) {
        off += imap_cmd_parser_feed(p, in + off, n - off);
        ev = imap_cmd_parser_next(p, &c);
        if (ev == IMAP_CMD_COMMAND) return c;
        assert_true(ev == IMAP_CMD_CONTINUE || ev == IMAP_CMD_NEED_MORE);
    }
    fail_msg("no command in %s", in);
    return c;
}

static void test_fields(void **state)
{
    (void)state;
    struct imap_cmd_parser *p = imap_cmd_parser_new(0);
    struct imap_command c = parse_one(p, "t1 APPEND \"My Box\" (\\Seen foo) \"05-Mar-2021 08:09:10 +0130\" {7}\r\nab\r\ncd!\r\n");
    assert_string_equal(c.tag, "t1");
    assert_int_equal(c.cmd, IMAP_CMD_APPEND);
    assert_bytes("My Box", c.mailbox.ptr, c.mailbox.len);
    assert_true(c.has_flags);
    assert_int_equal(c.nflags, 2);
    assert_bytes("\\Seen", c.flags[0].ptr, c.flags[0].len);
    assert_int_equal(imap_flag_bit(c.flags[0].ptr, c.flags[0].len), IMAP_FLAG_SEEN);
    assert_int_equal(imap_flag_bit(c.flags[1].ptr, c.flags[1].len), 0);
    assert_true(c.has_date);
    assert_int_equal(c.date.date.day, 5);
    assert_int_equal(c.date.date.month, 3);
    assert_int_equal(c.date.date.year, 2021);
    assert_int_equal(c.date.hour * 3600 + c.date.min * 60 + c.date.sec, 8 * 3600 + 9 * 60 + 10);
    assert_int_equal(c.date.zone, 90);
    assert_bytes("ab\r\ncd!", c.message.ptr, c.message.len);

    c = parse_one(p, "t2 UID SEARCH CHARSET UTF-8 OR FROM alice NOT (SEEN 5:*) LARGER 10\r\n");
    assert_true(c.uid);
    assert_int_equal(c.cmd, IMAP_CMD_SEARCH);
    assert_true(c.has_charset);
    assert_bytes("UTF-8", c.charset.ptr, c.charset.len);
    /* root AND -> OR(FROM, NOT(AND(SEEN, 5:*))), LARGER */
    assert_int_equal(c.nkeys, 8);
    const struct imap_search_key *k = c.keys;
    assert_int_equal(k[0].op, IMAP_SK_AND);
    int or = k[0].first_child;
    assert_int_equal(k[or].op, IMAP_SK_OR);
    int from = k[or].first_child, not = k[from].next_sibling;
    assert_int_equal(k[from].op, IMAP_SK_FROM);
    assert_bytes("alice", k[from].str.ptr, k[from].str.len);
    assert_int_equal(k[not].op, IMAP_SK_NOT);
    assert_int_equal(k[not].next_sibling, -1);
    int grp = k[not].first_child;
    assert_int_equal(k[grp].op, IMAP_SK_AND);
    int seen = k[grp].first_child, set = k[seen].next_sibling;
    assert_int_equal(k[seen].op, IMAP_SK_SEEN);
    assert_int_equal(k[set].op, IMAP_SK_SEQSET);
    assert_int_equal(k[set].set.n, 1);
    assert_int_equal(k[set].set.ranges[0].lo, 5);
    assert_int_equal(k[set].set.ranges[0].hi, IMAP_STAR);
    int larger = k[or].next_sibling;
    assert_int_equal(k[larger].op, IMAP_SK_LARGER);
    assert_int_equal(k[larger].number, 10);
    assert_int_equal(k[larger].next_sibling, -1);

    c = parse_one(p, "t3 FETCH 2:4,*:9 (UID BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-A \"X B\")]<10.20>)\r\n");
    assert_int_equal(c.set.n, 2);
    assert_true(imap_seqset_contains(&c.set, 3, 100));
    assert_false(imap_seqset_contains(&c.set, 5, 100));
    assert_true(imap_seqset_contains(&c.set, 50, 100));   /* *:9 is 9..100 */
    assert_false(imap_seqset_contains(&c.set, 5, 8));     /* *:9 is 8..9 */
    assert_int_equal(c.nitems, 2);
    assert_int_equal(c.items[0].item, IMAP_FETCH_UID);
    const struct imap_fetch_att *a = &c.items[1];
    assert_int_equal(a->item, IMAP_FETCH_BODY_SECTION);
    assert_true(a->peek);
    assert_int_equal(a->section.nparts, 2);
    assert_int_equal(a->section.part[1], 2);
    assert_int_equal(a->section.text, IMAP_SECTION_HEADER_FIELDS_NOT);
    assert_int_equal(a->section.nfields, 2);
    assert_bytes("X B", a->section.fields[1].ptr, a->section.fields[1].len);
    assert_true(a->partial);
    assert_int_equal(a->origin, 10);
    assert_int_equal(a->count, 20);

    c = parse_one(p, "t4 STATUS inbox (UIDNEXT UNSEEN)\r\n");
    assert_bytes("INBOX", c.mailbox.ptr, c.mailbox.len);
    assert_int_equal(c.status_items, IMAP_STATUS_BIT(IMAP_STATUS_UIDNEXT) | IMAP_STATUS_BIT(IMAP_STATUS_UNSEEN));

    c = parse_one(p, "t5 STORE 1 -FLAGS.SILENT \\Deleted\r\n");
    assert_int_equal(c.store_op, IMAP_STORE_REMOVE);
    assert_true(c.silent);
    assert_int_equal(c.nflags, 1);

    c = parse_one(p, "t6 LIST \"\" \"INBOX.%\"\r\n");
    assert_int_equal(c.mailbox.len, 0);
    assert_false(c.mailbox.nil);
    assert_bytes("INBOX.%", c.mailbox2.ptr, c.mailbox2.len);
    imap_cmd_parser_free(p);
}

/* The client's formatter: literal splits, LITERAL+, and refusals. */
static void test_format(void **state)
{
    (void)state;
    char buf[256];
    size_t splits[4], ns;
    struct imap_command c;
    memset(&c, 0, sizeof c);
    strcpy(c.tag, "C1");
    c.cmd = IMAP_CMD_LOGIN;
    c.user = (struct imap_str){"bob", 3, false};
    c.password = (struct imap_str){"a\"b", 3, false};
    size_t n = imap_cmd_format(&c, false, buf, sizeof buf, splits, 4, &ns);
    assert_bytes("C1 LOGIN bob {3}\r\na\"b\r\n", buf, n);
    assert_int_equal(ns, 1);
    assert_int_equal(splits[0], 18); /* up to and including "{3}\r\n" */
    n = imap_cmd_format(&c, true, buf, sizeof buf, splits, 4, &ns);
    assert_bytes("C1 LOGIN bob {3+}\r\na\"b\r\n", buf, n);
    assert_int_equal(ns, 0);
    /* too few split slots, too small a buffer */
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, splits, 0, &ns), 0);
    assert_int_equal(imap_cmd_format(&c, false, buf, 10, NULL, 0, NULL), 0);
    /* invalid values are refused, not written */
    strcpy(c.tag, "C+1");
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL), 0);
    strcpy(c.tag, "C1");
    c.uid = true; /* UID LOGIN */
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL), 0);
    c.uid = false;
    c.cmd = IMAP_CMD_FETCH;
    struct imap_range r = {0, 3};
    c.set = (struct imap_seqset){&r, 1};
    struct imap_fetch_att at = {.item = IMAP_FETCH_FLAGS};
    c.items = &at;
    c.nitems = 1;
    n = imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL);
    assert_bytes("C1 FETCH *:3 (FLAGS)\r\n", buf, n);
    at.item = IMAP_FETCH_BODY_SECTION;
    at.partial = true; /* <0.0> */
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL), 0);
    c.set.n = 0; /* empty set */
    at.partial = false;
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL), 0);
    /* STORE refuses a flag that is not an atom */
    c.cmd = IMAP_CMD_STORE;
    c.set.n = 1;
    struct imap_str fl = {"a b", 3, false};
    c.flags = &fl;
    c.nflags = 1;
    assert_int_equal(imap_cmd_format(&c, false, buf, sizeof buf, NULL, 0, NULL), 0);
    /* SASL lines */
    struct imap_str line = {"AGJvYgBw", 8, false};
    n = imap_cmd_format_sasl(&line, false, buf, sizeof buf);
    assert_bytes("AGJvYgBw\r\n", buf, n);
    n = imap_cmd_format_sasl(&line, true, buf, sizeof buf);
    assert_bytes("*\r\n", buf, n);
    assert_bytes("DONE\r\n", IMAP_DONE_LINE, strlen(IMAP_DONE_LINE));
}

static void test_error_reply(void **state)
{
    (void)state;
    struct imap_command c;
    memset(&c, 0, sizeof c);
    strcpy(c.tag, "X9");
    c.error = IMAP_ERR_NOMEM;
    char buf[64];
    size_t n = imap_cmd_error_reply(&c, buf, sizeof buf);
    assert_bytes("* BYE Server out of memory\r\n", buf, n);
    c.error = IMAP_ERR_SEQSET;
    assert_int_equal(imap_cmd_error_reply(&c, buf, 10), 0);
    n = imap_cmd_error_reply(&c, buf, sizeof buf);
    assert_bytes("X9 BAD Invalid sequence set\r\n", buf, n);
    for (int e = 0; e < IMAP_ERR_COUNT; e++) {
        assert_non_null(imap_strerror((enum imap_err)e));
        assert_true(strlen(imap_strerror((enum imap_err)e)) > 0);
    }
    assert_string_equal(imap_strerror(IMAP_ERR_COUNT), "unknown error");
    assert_string_equal(imap_cmd_names[IMAP_CMD_IDLE], "IDLE");
    assert_string_equal(imap_cmd_ev_names[IMAP_CMD_ERROR], "ERROR");
    assert_string_equal(imap_search_op_names[IMAP_SK_UNSEEN], "UNSEEN");
    assert_string_equal(imap_expect_names[IMAP_EXPECT_SASL], "SASL");
    assert_string_equal(imap_value_type_names[IMAP_V_LIST], "LIST");
}

/* After the parser hands out a command, literals of the next one may be
 * fed in pieces of any size. */
static void test_chunks(void **state)
{
    (void)state;
    const char *in = "A1 APPEND INBOX {10}\r\n0123456789\r\nA2 LOGIN {2}\r\nab {1}\r\nc\r\n";
    size_t n = strlen(in);
    static struct out o;
    for (size_t chunk = 1; chunk <= n; chunk++) {
        run(in, n, chunk, 0, &o);
        assert_string_equal(o.buf, "+|A1 APPEND INBOX {10}\r\n0123456789|+|+|A2 LOGIN ab c");
    }
}

/* RFC 3501 7.5: "+" is asked for after the announcement line and before
 * any octet of the literal; a rejected literal asks for none. */
static void test_handshake(void **state)
{
    (void)state;
    struct imap_cmd_parser *p = imap_cmd_parser_new(100);
    struct imap_command c;
    const char *a = "A1 APPEND INBOX (\\Seen) {5}\r\n";
    assert_int_equal(imap_cmd_parser_feed(p, a, strlen(a)), strlen(a));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_CONTINUE);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_NEED_MORE);
    imap_cmd_parser_feed(p, "hel", 3);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_NEED_MORE);
    imap_cmd_parser_feed(p, "lo\r\n", 4);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_COMMAND);
    assert_int_equal(c.cmd, IMAP_CMD_APPEND);
    assert_bytes("hello", c.message.ptr, c.message.len);
    /* too big: NO at once, and the next line is a new command */
    const char *b = "A2 APPEND INBOX {101}\r\n";
    imap_cmd_parser_feed(p, b, strlen(b));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_ERROR);
    assert_string_equal(c.tag, "A2");
    assert_int_equal(c.error, IMAP_ERR_LITERAL_TOO_BIG);
    char line[80];
    size_t n = imap_cmd_error_reply(&c, line, sizeof line);
    assert_bytes("A2 NO [TOOBIG] Literal too big\r\n", line, n);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_NEED_MORE);
    assert_int_equal(imap_cmd_parser_pending(p), 0);
    imap_cmd_parser_feed(p, "A3 NOOP\r\n", 9);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_COMMAND);
    assert_string_equal(c.tag, "A3");
    assert_string_equal(imap_cmd_ev_names[IMAP_CMD_CONTINUE], "CONTINUE");
    assert_bytes("+ Ready for literal data\r\n", IMAP_CONTINUE_LITERAL, strlen(IMAP_CONTINUE_LITERAL));
    imap_cmd_parser_free(p);
}

/* reset forgets a half-read command and the IDLE mode. */
static void test_reset(void **state)
{
    (void)state;
    struct imap_cmd_parser *p = imap_cmd_parser_new(0);
    struct imap_command c;
    const char *a = "A1 IDLE\r\nA2 LOG";
    imap_cmd_parser_feed(p, a, strlen(a));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_COMMAND);
    imap_cmd_parser_expect(p, IMAP_EXPECT_DONE);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_NEED_MORE);
    imap_cmd_parser_reset(p);
    const char *b = "A3 NOOP\r\n";
    imap_cmd_parser_feed(p, b, strlen(b));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_COMMAND);
    assert_string_equal(c.tag, "A3");
    assert_int_equal(c.cmd, IMAP_CMD_NOOP);
    assert_int_equal(imap_cmd_parser_pending(p), 0);
    /* A command pipelined behind STARTTLS shows as pending. */
    const char *t = "A4 STARTTLS\r\nA5 LOGIN a b\r\n";
    imap_cmd_parser_feed(p, t, strlen(t));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_COMMAND);
    assert_int_equal(c.cmd, IMAP_CMD_STARTTLS);
    assert_int_equal(imap_cmd_parser_pending(p), 14);
    imap_cmd_parser_reset(p);
    assert_int_equal(imap_cmd_parser_pending(p), 0);
    /* A half-gathered command with its literal announced counts too. */
    const char *u = "A6 LOGIN {3}\r\nab";
    imap_cmd_parser_feed(p, u, strlen(u));
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_CONTINUE);
    assert_int_equal(imap_cmd_parser_next(p, &c), IMAP_CMD_NEED_MORE);
    assert_int_equal(imap_cmd_parser_pending(p), strlen(u));
    imap_cmd_parser_free(p);
    imap_cmd_parser_free(NULL);
    /* A limit beyond 32 bits is clamped, not overflowed. */
    p = imap_cmd_parser_new(SIZE_MAX);
    c = parse_one(p, "A7 APPEND INBOX {3}\r\nabc\r\n");
    assert_bytes("abc", c.message.ptr, c.message.len);
    imap_cmd_parser_free(p);
}

/* Mutated good inputs: whatever the parser makes of them, it never
 * crashes or leaks (the sanitizers watch), every error has a reply line,
 * and every command it accepts survives format -> parse unchanged. */
static void test_mutations(void **state)
{
    (void)state;
    static const char alphabet[] = " ()[]{}<>\"\\*%:,.+-01239\r\nNILUIDxé";
    static char in[512];
    struct mutator m = {12345, alphabet, sizeof alphabet - 1, in, sizeof in, 0};
    for (int round = 0; round < 40; round++)
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
            feed_mutated(run, &m, good[i].in, 1 + round % 4);
    assert_true(m.cases > 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("imap_command", tests, NULL, NULL);
}
