/* POP3 wire format: command parsing, status lines, formatters, and the
 * multi-line response reader fed whole and byte by byte. */
#include "tests/testkit.h"

#include "protocols/pop3.h"

#include <stdio.h>

/* Renders a parsed command as "VERB n=N [a0] [a1] #num0 #num1". */
static void show_cmd(const struct pop3_cmd *c, char *out, size_t cap)
{
    int o = snprintf(out, cap, "%s n=%d", pop3_verb_name(c->verb), c->nargs);
    for (int i = 0; i < c->nargs; i++)
        o += snprintf(out + o, cap - (size_t)o, " [%.*s]", (int)c->arg_len[i], c->arg[i]);
    bool numeric = c->verb == POP3_LIST || c->verb == POP3_RETR || c->verb == POP3_DELE ||
                   c->verb == POP3_TOP || c->verb == POP3_UIDL;
    for (int i = 0; numeric && i < c->nargs; i++)
        o += snprintf(out + o, cap - (size_t)o, " #%lu", c->num[i]);
}

static const struct {
    const char *name;
    const char *line;
    int         want_err;
    const char *want; /* show_cmd() when want_err is POP3_OK */
} cmd_cases[] = {
    {"USER", "USER mrose", POP3_OK, "USER n=1 [mrose]"},
    {"keyword case-insensitive", "uSeR mrose", POP3_OK, "USER n=1 [mrose]"},
    {"PASS with spaces", "PASS my secret pw", POP3_OK, "PASS n=1 [my secret pw]"},
    {"APOP", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", POP3_OK,
     "APOP n=2 [mrose] [c4c9334bac560ecc979e58001b3e22fb]"},
    {"STAT", "STAT", POP3_OK, "STAT n=0"},
    {"LIST", "LIST", POP3_OK, "LIST n=0"},
    {"LIST n", "LIST 2", POP3_OK, "LIST n=1 [2] #2"},
    {"RETR", "retr 1", POP3_OK, "RETR n=1 [1] #1"},
    {"DELE", "DELE 12", POP3_OK, "DELE n=1 [12] #12"},
    {"TOP", "TOP 1 10", POP3_OK, "TOP n=2 [1] [10] #1 #10"},
    {"TOP 0 lines", "TOP 1 0", POP3_OK, "TOP n=2 [1] [0] #1 #0"},
    {"UIDL", "UIDL", POP3_OK, "UIDL n=0"},
    {"UIDL n", "UIDL 3", POP3_OK, "UIDL n=1 [3] #3"},
    {"NOOP", "NOOP", POP3_OK, "NOOP n=0"},
    {"RSET", "RSET", POP3_OK, "RSET n=0"},
    {"QUIT", "QUIT", POP3_OK, "QUIT n=0"},
    {"CAPA", "CAPA", POP3_OK, "CAPA n=0"},
    {"STLS", "stls", POP3_OK, "STLS n=0"},
    /* bad input */
    {"empty line", "", POP3_ERR_EMPTY, NULL},
    {"unknown keyword", "HELO x", POP3_ERR_UNKNOWN_CMD, NULL},
    {"IMAP-style tag", "a1 LOGIN", POP3_ERR_UNKNOWN_CMD, NULL},
    {"leading space", " NOOP", POP3_ERR_UNKNOWN_CMD, NULL},
    {"two spaces", "RETR  1", POP3_ERR_SYNTAX, NULL},
    {"trailing space", "STAT ", POP3_ERR_SYNTAX, NULL},
    {"control char in arg", "USER a\tb", POP3_ERR_SYNTAX, NULL},
    {"PASS trailing space only", "PASS ", POP3_ERR_SYNTAX, NULL},
    {"PASS control char", "PASS a\x01", POP3_ERR_SYNTAX, NULL},
    {"RETR without number", "RETR", POP3_ERR_ARGS, NULL},
    {"LIST two args", "LIST 1 2", POP3_ERR_ARGS, NULL},
    {"TOP without lines", "TOP 1", POP3_ERR_ARGS, NULL},
    {"STAT with arg", "STAT 1", POP3_ERR_ARGS, NULL},
    {"USER no name", "USER", POP3_ERR_ARGS, NULL},
    {"APOP one arg", "APOP mrose", POP3_ERR_ARGS, NULL},
    {"three args", "TOP 1 2 3", POP3_ERR_ARGS, NULL},
    {"RETR letter", "RETR x", POP3_ERR_NUMBER, NULL},
    {"RETR negative", "RETR -1", POP3_ERR_NUMBER, NULL},
    {"RETR ten digits", "RETR 1234567890", POP3_ERR_NUMBER, NULL},
    {"TOP bad lines", "TOP 1 a", POP3_ERR_NUMBER, NULL},
};

static void test_cmd_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cmd_cases / sizeof cmd_cases[0]; i++) {
        struct pop3_cmd c;
        int e = pop3_cmd_parse(cmd_cases[i].line, strlen(cmd_cases[i].line), &c);
        if (e != cmd_cases[i].want_err)
            fail_msg("%s: got %s, want %s", cmd_cases[i].name, pop3_strerror(e),
                     pop3_strerror(cmd_cases[i].want_err));
        if (e == POP3_OK) {
            char got[256];
            show_cmd(&c, got, sizeof got);
            if (strcmp(got, cmd_cases[i].want) != 0)
                fail_msg("%s: got %s, want %s", cmd_cases[i].name, got, cmd_cases[i].want);
        }
    }
}

static void test_cmd_line_limit(void **state)
{
    (void)state;
    char line[300];
    struct pop3_cmd c;
    memset(line, 'a', sizeof line);
    memcpy(line, "USER ", 5);
    /* RFC 2449 4: 255 octets with CRLF, so 253 without */
    assert_int_equal(pop3_cmd_parse(line, 253, &c), POP3_OK);
    assert_int_equal(c.arg_len[0], 248);
    assert_int_equal(pop3_cmd_parse(line, 254, &c), POP3_ERR_TOO_LONG);
}

static void test_cmd_format(void **state)
{
    (void)state;
    char out[300];
    assert_int_equal(pop3_cmd_format(out, sizeof out, POP3_RETR, "1"), 8);
    assert_string_equal(out, "RETR 1\r\n");
    assert_int_equal(pop3_cmd_format(out, sizeof out, POP3_QUIT, NULL), 6);
    assert_string_equal(out, "QUIT\r\n");
    assert_int_equal(pop3_cmd_format(out, sizeof out, POP3_USER, "a\r\nDELE 1"), POP3_ERR_SYNTAX);
    assert_int_equal(pop3_cmd_format(out, 6, POP3_QUIT, NULL), POP3_ERR_NO_ROOM);
    char arg[260];
    memset(arg, 'x', sizeof arg);
    arg[248] = 0; /* "USER " + 248 + CRLF = 255 */
    assert_int_equal(pop3_cmd_format(out, sizeof out, POP3_USER, arg), 255);
    arg[248] = 'x';
    arg[249] = 0;
    assert_int_equal(pop3_cmd_format(out, sizeof out, POP3_USER, arg), POP3_ERR_NO_ROOM);
}

static const struct {
    const char *name;
    const char *line;
    int         want_err;
    bool        ok;
    const char *code;
    const char *text;
} reply_cases[] = {
    {"+OK text", "+OK 2 320", POP3_OK, true, "", "2 320"},
    {"bare +OK", "+OK", POP3_OK, true, "", ""},
    {"-ERR text", "-ERR no such message", POP3_OK, false, "", "no such message"},
    {"IN-USE code", "-ERR [IN-USE] maildrop already locked", POP3_OK, false, "IN-USE",
     "maildrop already locked"},
    {"hierarchical code", "-ERR [SYS/TEMP] try later", POP3_OK, false, "SYS/TEMP", "try later"},
    {"bracket without close", "-ERR [oops", POP3_OK, false, "", "[oops"},
    {"empty brackets are text (fuzz)", "+OK [] []x", POP3_OK, true, "", "[] []x"},
    {"greeting", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", POP3_OK, true, "",
     "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"},
    /* bad input */
    {"lower-case ok", "+ok fine", POP3_ERR_BAD_STATUS, false, NULL, NULL},
    {"no sign", "OK", POP3_ERR_BAD_STATUS, false, NULL, NULL},
    {"+OKAY", "+OKAY", POP3_ERR_BAD_STATUS, false, NULL, NULL},
    {"SMTP reply", "220 mx ready", POP3_ERR_BAD_STATUS, false, NULL, NULL},
    {"empty", "", POP3_ERR_BAD_STATUS, false, NULL, NULL},
};

static void test_reply_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reply_cases / sizeof reply_cases[0]; i++) {
        struct pop3_reply r;
        int e = pop3_reply_parse(reply_cases[i].line, strlen(reply_cases[i].line), &r);
        if (e != reply_cases[i].want_err)
            fail_msg("%s: got %s", reply_cases[i].name, pop3_strerror(e));
        if (e) continue;
        assert_int_equal(r.ok, reply_cases[i].ok);
        assert_bytes(reply_cases[i].code, r.code ? r.code : "", r.code_len);
        assert_bytes(reply_cases[i].text, r.text, r.text_len);
    }
    struct pop3_reply r;
    const char *in = "-ERR [in-use] locked";
    assert_int_equal(pop3_reply_parse(in, strlen(in), &r), POP3_OK);
    assert_true(pop3_reply_has_code(&r, "IN-USE"));
    assert_false(pop3_reply_has_code(&r, "AUTH"));
    char big[600];
    memset(big, 'x', sizeof big);
    memcpy(big, "+OK ", 4);
    assert_int_equal(pop3_reply_parse(big, 510, &r), POP3_OK);
    assert_int_equal(pop3_reply_parse(big, 511, &r), POP3_ERR_TOO_LONG);
}

static void test_reply_format(void **state)
{
    (void)state;
    char out[600];
    assert_int_equal(pop3_reply_format(out, sizeof out, true, NULL, "2 320"), 11);
    assert_string_equal(out, "+OK 2 320\r\n");
    assert_int_equal(pop3_reply_format(out, sizeof out, true, NULL, NULL), 5);
    assert_string_equal(out, "+OK\r\n");
    assert_int_equal(pop3_reply_format(out, sizeof out, false, "IN-USE", "maildrop already locked"), 39);
    assert_string_equal(out, "-ERR [IN-USE] maildrop already locked\r\n");
    assert_int_equal(pop3_reply_format(out, sizeof out, false, NULL, "a\nb"), POP3_ERR_SYNTAX);
    char text[600];
    memset(text, 't', sizeof text);
    text[506] = 0; /* "+OK " + 506 + CRLF = 512 */
    assert_int_equal(pop3_reply_format(out, sizeof out, true, NULL, text), 512);
    text[506] = 't';
    text[507] = 0;
    assert_int_equal(pop3_reply_format(out, sizeof out, true, NULL, text), POP3_ERR_NO_ROOM);
}

static void test_stuff_and_uidl(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(pop3_stuff_line(out, sizeof out, ".", 1), 4);
    assert_memory_equal(out, "..\r\n", 4);
    assert_int_equal(pop3_stuff_line(out, sizeof out, "a.b", 3), 5);
    assert_memory_equal(out, "a.b\r\n", 5);
    assert_int_equal(pop3_stuff_line(out, sizeof out, "", 0), 2);
    assert_int_equal(pop3_stuff_line(out, 4, ".ab", 3), POP3_ERR_NO_ROOM);
    assert_true(pop3_uidl_valid("QhdPYR:00WBw1Ph7x7", 18));
    assert_false(pop3_uidl_valid("", 0));
    assert_false(pop3_uidl_valid("a b", 3));
    char id[71];
    memset(id, 'u', sizeof id);
    assert_true(pop3_uidl_valid(id, 70));
    assert_false(pop3_uidl_valid(id, 71));
}

/* Feeds in[0..n) to a reader, with expectations given as a string of 's'
 * (single-line) and 'm' (multi-line), and renders the events:
 * "+[text]" / "-[code|text]", "L[line]" ("L#len" for a line over 64
 * octets), "E", "T" (too long), "!" errors. */
static void read_all(const char *in, size_t n, const char *expects,
                     enum feed_mode mode, char *out, size_t cap)
{
    struct pop3_reader *r = pop3_reader_new();
    assert_non_null(r);
    size_t off = 0, o = 0;
    const char *next_exp = expects;
    out[0] = 0;
    bool waiting = false;
    for (;;) {
        if (!waiting && *next_exp) {
            pop3_reader_expect(r, *next_exp++ == 'm');
            waiting = true;
        }
        struct pop3_reader_ev ev;
        int k = pop3_reader_next(r, &ev);
        if (k == POP3_NEED_MORE) {
            if (off == n) break;
            off += pop3_reader_feed(r, in + off, feed_chunk(mode, n - off));
            continue;
        }
        if (k < 0) {
            o += (size_t)snprintf(out + o, cap - o, "!%s", pop3_strerror(k));
            break;
        }
        switch (k) {
        case POP3_RD_STATUS:
            if (ev.reply.ok)
                o += (size_t)snprintf(out + o, cap - o, "+[%.*s]", (int)ev.reply.text_len, ev.reply.text);
            else
                o += (size_t)snprintf(out + o, cap - o, "-[%.*s|%.*s]", (int)ev.reply.code_len,
                                      ev.reply.code ? ev.reply.code : "", (int)ev.reply.text_len,
                                      ev.reply.text);
            if (!ev.reply.ok || next_exp[-1] == 's') waiting = false;
            break;
        case POP3_RD_LINE:
            if (ev.line_len > 64)
                o += (size_t)snprintf(out + o, cap - o, "L#%zu", ev.line_len);
            else
                o += (size_t)snprintf(out + o, cap - o, "L[%.*s]", (int)ev.line_len, ev.line);
            break;
        case POP3_RD_END:
            o += (size_t)snprintf(out + o, cap - o, "E");
            waiting = false;
            break;
        case POP3_RD_TOO_LONG:
            o += (size_t)snprintf(out + o, cap - o, "T");
            break;
        }
    }
    pop3_reader_free(r);
}

/* A case's input is in, then fill octets 'x', then post (when not NULL),
 * fed with its exact length. */
static const struct {
    const char *name;
    const char *in;
    const char *expects;
    const char *want;
    size_t      fill;
    const char *post;
} reader_cases[] = {
    {"single", "+OK 2 320\r\n", "s", "+[2 320]", 0, NULL},
    {"multi LIST", "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n", "m",
     "+[2 messages]L[1 120]L[2 200]E", 0, NULL},
    {"unstuff", "+OK\r\n..hidden\r\n...\r\n.\r\n", "m", "+[]L[.hidden]L[..]E", 0, NULL},
    {"empty body lines", "+OK\r\n\r\nx\r\n\r\n.\r\n", "m", "+[]L[]L[x]L[]E", 0, NULL},
    {"ERR has no body", "-ERR [IN-USE] locked\r\n+OK\r\n", "ms", "-[IN-USE|locked]+[]", 0, NULL},
    {"two responses", "+OK a\r\n+OK\r\nx\r\n.\r\n", "sm", "+[a]+[]L[x]E", 0, NULL},
    {"held until expected", "+OK a\r\n+OK b\r\n", "s", "+[a]", 0, NULL},
    {"terminator split", "+OK\r\nend.\r\n.", "m", "+[]L[end.]", 0, NULL},
    {"bare LF tolerated", "+OK\nline\n.\n", "m", "+[]L[line]E", 0, NULL},
    /* bad input */
    {"garbage status", "HTTP/1.1 200 OK\r\n", "s", "!POP3_ERR_BAD_STATUS: response is neither +OK nor -ERR", 0, NULL},
    {"error is sticky", "what\r\n+OK\r\n", "ss", "!POP3_ERR_BAD_STATUS: response is neither +OK nor -ERR", 0, NULL},
    {"overlong body line", "+OK\r\n", "m", "+[]TL[ok]E", 1500, "\r\nok\r\n.\r\n"},
    /* POP3_MAX_DATA_LINE: 998 octets, the stuffing dot, CRLF (RFC 1939 3) */
    {"longest body line", "+OK\r\n", "m", "+[]L#999E", 999, "\r\n.\r\n"},
    {"longest body line, bare LF", "+OK\r\n", "m", "+[]L#999E", 999, "\n.\r\n"},
    {"longest stuffed body line", "+OK\r\n.", "m", "+[]L#998E", 998, "\r\n.\r\n"},
    {"1000-octet body line, bare LF (fuzz)", "+OK\r\n", "m", "+[]TE", 1000, "\n.\r\n"},
    {"1000-octet stuffed body line, bare LF", "+OK\r\n.", "m", "+[]TE", 999, "\n.\r\n"},
};

static void test_reader(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof reader_cases / sizeof reader_cases[0]; i++) {
        char in[2048];
        size_t pre = strlen(reader_cases[i].in), fill = reader_cases[i].fill;
        size_t post = reader_cases[i].post ? strlen(reader_cases[i].post) : 0;
        size_t n = pre + fill + post;
        assert_true(n <= sizeof in);
        memcpy(in, reader_cases[i].in, pre);
        memset(in + pre, 'x', fill);
        if (post) memcpy(in + pre + fill, reader_cases[i].post, post);
        for (size_t m = 0; m < 2; m++) {
            char out[512];
            read_all(in, n, reader_cases[i].expects, modes[m], out, sizeof out);
            if (strcmp(out, reader_cases[i].want) != 0)
                fail_msg("%s (%s): got %s, want %s", reader_cases[i].name,
                         m ? "bytewise" : "whole", out, reader_cases[i].want);
        }
    }
}

/* Two pieces, split at every offset: the "." terminator, the CRLF and the
 * stuffing dot are found whatever chunk they arrive in. */
static void test_reader_every_split(void **state)
{
    (void)state;
    const char *in = "+OK 2 messages\r\n1 120\r\n..x\r\n.\r\n-ERR [AUTH] no\r\n";
    size_t n = strlen(in);
    for (size_t k = 0; k <= n; k++) {
        struct pop3_reader *r = pop3_reader_new();
        char out[256];
        size_t o = 0;
        int expected = 0;
        const size_t cuts[3] = {0, k, n};
        pop3_reader_expect(r, true);
        for (int piece = 0; piece < 2; piece++) {
            size_t fed = pop3_reader_feed(r, in + cuts[piece], cuts[piece + 1] - cuts[piece]);
            assert_int_equal(fed, cuts[piece + 1] - cuts[piece]);
            struct pop3_reader_ev ev;
            int kind;
            while ((kind = pop3_reader_next(r, &ev)) != POP3_NEED_MORE) {
                assert_true(kind > 0);
                if (kind == POP3_RD_STATUS)
                    o += (size_t)snprintf(out + o, sizeof out - o, "%c[%.*s]", ev.reply.ok ? '+' : '-',
                                          (int)ev.reply.text_len, ev.reply.text);
                else if (kind == POP3_RD_LINE)
                    o += (size_t)snprintf(out + o, sizeof out - o, "L[%.*s]", (int)ev.line_len, ev.line);
                else if (kind == POP3_RD_END) {
                    o += (size_t)snprintf(out + o, sizeof out - o, "E");
                    if (!expected++) pop3_reader_expect(r, false);
                }
            }
        }
        if (strcmp(out, "+[2 messages]L[1 120]L[.x]E-[no]") != 0)
            fail_msg("split at %zu: %s", k, out);
        pop3_reader_free(r);
    }
}

static void test_reader_status_too_long(void **state)
{
    (void)state;
    char in[700];
    memset(in, 'x', sizeof in);
    memcpy(in, "+OK ", 4);
    memcpy(in + 600, "\r\n", 2);
    struct pop3_reader *r = pop3_reader_new();
    struct pop3_reader_ev ev;
    pop3_reader_expect(r, false);
    assert_int_equal(pop3_reader_feed(r, in, 602), 602);
    assert_int_equal(pop3_reader_next(r, &ev), POP3_ERR_TOO_LONG);
    assert_int_equal(pop3_reader_next(r, &ev), POP3_ERR_TOO_LONG); /* sticky */
    pop3_reader_reset(r);
    pop3_reader_expect(r, false);
    assert_int_equal(pop3_reader_feed(r, "+OK\r\n", 5), 5);
    assert_int_equal(pop3_reader_next(r, &ev), POP3_RD_STATUS);
    pop3_reader_free(r);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pop3_verb_name(POP3_USER), "USER");
    assert_string_equal(pop3_verb_name(POP3_STLS), "STLS");
    assert_null(pop3_verb_name(POP3_VERB_COUNT));
    assert_string_equal(pop3_strerror(POP3_ERR_BAD_UIDL), "POP3_ERR_BAD_UIDL: invalid unique-id");
    assert_string_equal(pop3_strerror(-99), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_parse),
        cmocka_unit_test(test_cmd_line_limit),
        cmocka_unit_test(test_cmd_format),
        cmocka_unit_test(test_reply_parse),
        cmocka_unit_test(test_reply_format),
        cmocka_unit_test(test_stuff_and_uidl),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_reader_every_split),
        cmocka_unit_test(test_reader_status_too_long),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("pop3", tests, NULL, NULL);
}
