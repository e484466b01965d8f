/* RFC 5322 messages: header sections, folding, addresses, dates,
 * Message-IDs, trace fields, RFC 2047 words and the simple builder.
 *
 * The msg parsers take a complete buffer, so instead of byte-by-byte feeding
 * every valid input is also parsed at every truncation, from a heap copy of
 * exactly that many bytes (ASan catches any read past it): the result must
 * be an error value or a sane prefix, never a crash. */
#include "tests/testkit.h"

#include "protocols/msg.h"

#include <stdio.h>
#include <stdlib.h>

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A heap copy of s[0..n) with no terminator, so a read past n is caught. */
static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------ */
/* Header sections                                                      */

/* Writes "name=unfolded value|" per field into out. */
static void dump_header(const struct msg_header *h, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < h->n_fields; i++) {
        const struct msg_field *f = &h->fields[i];
        size_t vl, ul;
        const char *v = msg_field_value(h, i, &vl);
        char u[1024];
        assert_int_equal(msg_unfold(v, vl, u, sizeof u, &ul), MSG_OK);
        o += (size_t)snprintf(out + o, cap - o, "%.*s=%s|", (int)f->name_len, h->buf + f->name_off, u);
    }
}

static const struct {
    const char *name;
    const char *in;
    const char *want;      /* dump_header */
    size_t body_off;
    bool empty_line;
    bool bare_lf;
} header_ok[] = {
    {"two fields and a body", "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
     "From=a@example.com|Subject=hi|", 36, true, false},
    {"folded value unfolds", "Subject: a long\r\n  subject\r\n\tline\r\n\r\n",
     "Subject=a long  subject\tline|", 37, true, false},
    {"no body, no empty line", "Subject: x\r\n", "Subject=x|", 12, false, false},
    {"last line without CRLF", "Subject: x", "Subject=x|", 10, false, false},
    {"empty header then body", "\r\nbody", "", 2, true, false},
    {"empty value", "X-Empty:\r\n\r\n", "X-Empty=|", 12, true, false},
    {"value folded from empty first line", "X:\r\n folded\r\n\r\n", "X=folded|", 15, true, false},
    {"WSP before colon (4.5 obs)", "Subject : x\r\n\r\n", "Subject=x|", 15, true, false},
    {"colon in value", "X: a:b:c\r\n\r\n", "X=a:b:c|", 12, true, false},
    {"trailing WSP trimmed", "X: a  \r\n\r\n", "X=a|", 10, true, false},
    {"bare LF tolerated and flagged", "A: 1\nB: 2\n\nbody", "A=1|B=2|", 11, true, true},
    {"UTF-8 value (RFC 6532)", "Subject: Gr\xc3\xbc\xc3\x9f" "e\r\n\r\n", "Subject=Gr\xc3\xbc\xc3\x9f" "e|", 20, true, false},
    {"empty line ends header, rest is body", "A: 1\r\n\r\nB: 2\r\n", "A=1|", 8, true, false},
};

static void test_header_ok(void **state)
{
    (void)state;
    static struct msg_header h;
    for (size_t i = 0; i < N_ELEM(header_ok); i++) {
        const char *in = header_ok[i].in;
        char got[1024];
        enum msg_err e = msg_parse_header(in, strlen(in), &h);
        if (e != MSG_OK) fail_msg("%s: got %s", header_ok[i].name, msg_strerror(e));
        dump_header(&h, got, sizeof got);
        if (strcmp(got, header_ok[i].want) != 0)
            fail_msg("%s: got %s, want %s", header_ok[i].name, got, header_ok[i].want);
        if (h.body_off != header_ok[i].body_off)
            fail_msg("%s: body_off %zu, want %zu", header_ok[i].name, h.body_off, header_ok[i].body_off);
        assert_int_equal(h.has_empty_line, header_ok[i].empty_line);
        assert_int_equal(h.bare_lf, header_ok[i].bare_lf);
    }
}

/* Every prefix of every valid header: OK or an error, offsets inside it. */
static void test_header_truncations(void **state)
{
    (void)state;
    static struct msg_header h;
    for (size_t i = 0; i < N_ELEM(header_ok); i++) {
        size_t n = strlen(header_ok[i].in);
        for (size_t k = 0; k <= n; k++) {
            char *p = dup_exact(header_ok[i].in, k);
            enum msg_err e = msg_parse_header(p, k, &h);
            assert_true(e == MSG_OK || e == MSG_ERR_NO_COLON); /* cut inside a name */
            assert_true(h.body_off <= k);
            for (size_t f = 0; f < h.n_fields; f++) {
                assert_true(h.fields[f].off + h.fields[f].len <= k);
                assert_true(h.fields[f].value_off + h.fields[f].value_len <= k);
            }
            free(p);
        }
    }
}

static const struct {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum msg_err want;
    size_t err_off;
    size_t fields_before; /* fields complete before the bad line */
} header_bad[] = {
    {"field name with a space", "X Foo: bar\r\n\r\n", 0, MSG_ERR_FIELD_NAME, 0, 0},
    {"missing colon", "From: a@b\r\nno colon here\r\n\r\n", 0, MSG_ERR_NO_COLON, 11, 1},
    {"empty field name", ": value\r\n\r\n", 0, MSG_ERR_EMPTY_NAME, 0, 0},
    {"control char in a later name", "A: 1\r\n\x01: x\r\n", 0, MSG_ERR_FIELD_NAME, 6, 1},
    {"control char in name", "X\x7f: y\r\n\r\n", 0, MSG_ERR_FIELD_NAME, 0, 0},
    {"8-bit byte in name", "Subj\xc3\xa9: y\r\n\r\n", 0, MSG_ERR_FIELD_NAME, 0, 0},
    {"first line is a continuation", " folded: x\r\n\r\n", 0, MSG_ERR_FOLD_FIRST, 0, 0},
    {"NUL in a value", "A: x\0y\r\n\r\n", 10, MSG_ERR_NUL, 0, 0},
    {"NUL in a continuation", "A: x\r\n y\0\r\n\r\n", 13, MSG_ERR_NUL, 6, 1},
    {"mbox From_ line", "From alice@example.com Thu Nov 26 09:15:00 2026\r\n", 0, MSG_ERR_FIELD_NAME, 0, 0},
};

static void test_header_bad(void **state)
{
    (void)state;
    static struct msg_header h;
    for (size_t i = 0; i < N_ELEM(header_bad); i++) {
        size_t n = header_bad[i].len ? header_bad[i].len : strlen(header_bad[i].in);
        char *p = dup_exact(header_bad[i].in, n);
        enum msg_err e = msg_parse_header(p, n, &h);
        if (e != header_bad[i].want)
            fail_msg("%s: got %s, want %s", header_bad[i].name, msg_strerror(e),
                     msg_strerror(header_bad[i].want));
        assert_int_equal(h.err_off, header_bad[i].err_off);
        assert_int_equal(h.n_fields, header_bad[i].fields_before);
        assert_int_equal(h.body_off, n);
        free(p);
    }
}

/* RFC 5322 2.1.1: 998 octets fit, 999 do not, with CRLF or a bare LF. */
static void test_header_line_limit(void **state)
{
    (void)state;
    static struct msg_header h;
    static char buf[2100];
    for (size_t len = 998; len <= 1000; len++) {
        for (int lf_only = 0; lf_only < 2; lf_only++) {
            memset(buf, 'v', len);
            memcpy(buf, "X: ", 3);
            size_t n = len;
            if (!lf_only) buf[n++] = '\r';
            buf[n++] = '\n';
            memcpy(buf + n, "\r\n", 2);
            n += 2;
            char *p = dup_exact(buf, n);
            enum msg_err e = msg_parse_header(p, n, &h);
            assert_int_equal(e, len <= MSG_MAX_LINE ? MSG_OK : MSG_ERR_LINE_TOO_LONG);
            if (e == MSG_OK) assert_int_equal(h.fields[0].value_len, len - 3);
            free(p);
        }
    }
    /* a 999-octet last line without any ending */
    memset(buf, 'v', 999);
    memcpy(buf, "X: ", 3);
    assert_int_equal(msg_parse_header(buf, 999, &h), MSG_ERR_LINE_TOO_LONG);
    /* a 999-octet continuation line */
    size_t n = 0;
    memcpy(buf, "X: a\r\n", 6);
    n = 6;
    memset(buf + n, ' ', 999);
    buf[n + 998] = 'z';
    n += 999;
    memcpy(buf + n, "\r\n\r\n", 4);
    n += 4;
    assert_int_equal(msg_parse_header(buf, n, &h), MSG_ERR_LINE_TOO_LONG);
    assert_int_equal(h.err_off, 6);
}

static void test_header_field_and_size_limits(void **state)
{
    (void)state;
    static struct msg_header h;
    static char buf[80000];
    size_t n = 0;
    for (int i = 0; i < MSG_MAX_FIELDS; i++) n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
    memcpy(buf + n, "\r\n", 2);
    assert_int_equal(msg_parse_header(buf, n + 2, &h), MSG_OK);
    assert_int_equal(h.n_fields, MSG_MAX_FIELDS);
    assert_int_equal(msg_header_count(&h, "x-255"), 1);
    n += (size_t)sprintf(buf + n, "X-last: v\r\n\r\n");
    assert_int_equal(msg_parse_header(buf, n, &h), MSG_ERR_TOO_MANY_FIELDS);
    assert_int_equal(h.n_fields, MSG_MAX_FIELDS);

    /* 70 fields of 1000 octets pass MSG_MAX_HEADER (65536) at the 66th */
    n = 0;
    for (int i = 0; i < 70; i++) {
        memcpy(buf + n, "X: ", 3);
        memset(buf + n + 3, 'a', 995);
        memcpy(buf + n + 998, "\r\n", 2);
        n += 1000;
    }
    memcpy(buf + n, "\r\n", 2);
    assert_int_equal(msg_parse_header(buf, n + 2, &h), MSG_ERR_HEADER_TOO_BIG);
    assert_int_equal(h.n_fields, 65);
    assert_int_equal(h.err_off, 65000);
}

static void test_header_lookup(void **state)
{
    (void)state;
    static struct msg_header h;
    const char *m = "Received: from b\r\nreceived: from a\r\nSUBJECT: s\r\nX: 1\r\n\r\n";
    assert_int_equal(msg_parse_header(m, strlen(m), &h), MSG_OK);
    assert_int_equal(msg_header_find(&h, "RECEIVED", 0), 0);
    assert_int_equal(msg_header_find(&h, "received", 1), 1);
    assert_int_equal(msg_header_find(&h, "received", 2), -1);
    assert_int_equal(msg_header_find(&h, "subject", 0), 2);
    assert_int_equal(msg_header_find(&h, "subjec", 0), -1);
    assert_int_equal(msg_header_find(&h, "x", 99), -1);
    assert_int_equal(msg_header_count(&h, "Received"), 2);
    assert_int_equal(msg_header_count(&h, "Cc"), 0);
    size_t len;
    const char *v = msg_field_value(&h, 1, &len);
    assert_bytes("from a", v, len);
    /* the whole field's bytes, as IMAP's HEADER.FIELDS returns them */
    assert_bytes("SUBJECT: s\r\n", m + h.fields[2].off, h.fields[2].len);
}

static const struct {
    const char *name, *in, *want;
    enum msg_err err;
    size_t cap;
} unfold_cases[] = {
    {"CRLF WSP removed, WSP kept", "a\r\n b", "a b", MSG_OK, 64},
    {"bare LF fold", "a\n\tb", "a\tb", MSG_OK, 64},
    {"leading and trailing WSP", "  a b \t", "a b", MSG_OK, 64},
    {"fold at the start", "\r\n x", "x", MSG_OK, 64},
    {"CRLF without WSP kept", "a\r\nb", "a\r\nb", MSG_OK, 64},
    {"exact fit", "abc", "abc", MSG_OK, 4},
    {"one short: terminated prefix", "abcd", "abc", MSG_ERR_NO_SPACE, 4},
    {"cut inside a UTF-8 character", "ab\xC3\xA9", "ab", MSG_ERR_NO_SPACE, 4},
    {"trailing WSP does not need room", "abc   ", "abc", MSG_OK, 4},
};

static void test_unfold(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(unfold_cases); i++) {
        char out[64];
        size_t len = 99;
        enum msg_err e = msg_unfold(unfold_cases[i].in, strlen(unfold_cases[i].in), out,
                                    unfold_cases[i].cap, &len);
        if (e != unfold_cases[i].err || strcmp(out, unfold_cases[i].want) != 0)
            fail_msg("%s: got %s [%s]", unfold_cases[i].name, msg_strerror(e), out);
        assert_int_equal(len, strlen(unfold_cases[i].want));
    }
}

/* ------------------------------------------------------------------ */
/* Folding formatter                                                    */

#define W "word12345"
#define A60 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define EW "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="

static const struct {
    const char *name, *field, *value, *want;
} fold_cases[] = {
    {"short", "Subject", "hello", "Subject: hello\r\n"},
    {"empty value", "Subject", "", "Subject:\r\n"},
    {"fills 78 exactly, folds after",
     "Subject", W " " W " " W " " W " " W " " W " " W " " W " " W " " W,
     "Subject: " W " " W " " W " " W " " W " " W " " W "\r\n " W " " W " " W "\r\n"},
    {"never inside a quoted string", "To", A60 " \"x y z w v u t s r q\" <a@b>",
     "To: " A60 "\r\n \"x y z w v u t s r q\" <a@b>\r\n"},
    {"quoted pair keeps its space", "To", A60 " \"x\\ yyyyyyyyyyyyyyy\"",
     "To: " A60 "\r\n \"x\\ yyyyyyyyyyyyyyy\"\r\n"},
    {"between encoded words", "Subject", EW " " EW " " EW,
     "Subject: " EW "\r\n " EW " " EW "\r\n"},
    {"quoted pair in a comment after a break", "X", A60 " (c \\ dddddddddddddddd)",
     "X: " A60 " (c\r\n \\ dddddddddddddddd)\r\n"}, /* not "\\\r\n d" */
    {"caller's fold kept", "X", "a\r\n b", "X: a\r\n b\r\n"},
    {"unbreakable run stays whole", "X", A60 A60, "X: " A60 A60 "\r\n"},
    {"fold keeps a tab", "X", A60 "\t" A60, "X: " A60 "\r\n\t" A60 "\r\n"},
    {"a run of WSP folds as one", "X", A60 "   " A60, "X: " A60 "\r\n   " A60 "\r\n"},
};

static void test_format_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(fold_cases); i++) {
        char out[512];
        size_t len;
        enum msg_err e = msg_format_field(fold_cases[i].field, fold_cases[i].value, out, sizeof out, &len);
        if (e != MSG_OK || strcmp(out, fold_cases[i].want) != 0)
            fail_msg("%s: got %s [%s]", fold_cases[i].name, msg_strerror(e), out);
        assert_int_equal(len, strlen(fold_cases[i].want));
    }
}

static const struct {
    const char *name, *field, *value;
    size_t cap;
    enum msg_err want;
} fold_bad[] = {
    {"name with a space", "X Y", "v", 64, MSG_ERR_BAD_ARG},
    {"name with a colon", "X:Y", "v", 64, MSG_ERR_BAD_ARG},
    {"empty name", "", "v", 64, MSG_ERR_BAD_ARG},
    {"bare LF in value", "X", "a\nb", 64, MSG_ERR_BAD_ARG},
    {"CRLF not followed by WSP", "X", "a\r\nb", 64, MSG_ERR_BAD_ARG},
    {"bare CR in value", "X", "a\rb", 64, MSG_ERR_BAD_ARG},
    {"no room for the CRLF", "X", "abc", 7, MSG_ERR_NO_SPACE},
};

static void test_format_field_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(fold_bad); i++) {
        char out[64];
        size_t len = 99;
        enum msg_err e = msg_format_field(fold_bad[i].field, fold_bad[i].value, out, fold_bad[i].cap, &len);
        if (e != fold_bad[i].want)
            fail_msg("%s: got %s, want %s", fold_bad[i].name, msg_strerror(e), msg_strerror(fold_bad[i].want));
        assert_int_equal(len, 0);
    }
    char out[8];
    size_t len;
    assert_int_equal(msg_format_field("X", "ab", out, sizeof out, &len), MSG_OK); /* "X: ab\r\n" + NUL */
    assert_int_equal(len, 7);
    /* 2.1.1: an unbreakable run past 998 octets cannot be written */
    static char big[1200], dst[1300];
    memset(big, 'x', 1000);
    big[1000] = 0;
    assert_int_equal(msg_format_field("X", big, dst, sizeof dst, &len), MSG_ERR_LINE_TOO_LONG);
}

/* ------------------------------------------------------------------ */
/* Addresses                                                            */

static void dump_list(const struct msg_addr_list *l, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct msg_addr *a = &l->addr[i];
        if (a->kind == MSG_ADDR_GROUP_START) o += (size_t)snprintf(out + o, cap - o, "{%s:", a->display);
        else if (a->kind == MSG_ADDR_GROUP_END) o += (size_t)snprintf(out + o, cap - o, "}");
        else o += (size_t)snprintf(out + o, cap - o, "[%s|%s|%s]", a->display, a->local, a->domain);
    }
}

static const struct {
    const char *name, *in, *want, *formatted;
} addr_ok[] = {
    {"addr-spec", "alice@example.com", "[|alice|example.com]", "alice@example.com"},
    {"name-addr", "Alice Example <alice@example.com>", "[Alice Example|alice|example.com]",
     "Alice Example <alice@example.com>"},
    {"quoted display with escapes", "\"Doe, \\\"JD\\\" John\" <jd@example.com>",
     "[Doe, \"JD\" John|jd|example.com]", "\"Doe, \\\"JD\\\" John\" <jd@example.com>"},
    {"comments skipped", "(lead) bob(x)@(y)example.org (Bob (the) builder)", "[|bob|example.org]",
     "bob@example.org"},
    {"angle without display", " <carol@example.net> ", "[|carol|example.net]", "carol@example.net"},
    {"list with empty elements", "a@x.example, , b@y.example,", "[|a|x.example][|b|y.example]",
     "a@x.example, b@y.example"},
    {"group", "Friends: a@x.example, B <b@y.example>;", "{Friends:[|a|x.example][B|b|y.example]}",
     "Friends: a@x.example, B <b@y.example>;"},
    {"empty group", "undisclosed-recipients:;", "{undisclosed-recipients:}", "undisclosed-recipients:;"},
    {"group then mailbox", "G: a@x.example;, c@z.example", "{G:[|a|x.example]}[|c|z.example]",
     "G: a@x.example;, c@z.example"},
    {"quoted local part", "\"john doe\"@example.com", "[|john doe|example.com]", "\"john doe\"@example.com"},
    {"domain literal", "x@[192.0.2.1]", "[|x|[192.0.2.1]]", "x@[192.0.2.1]"},
    {"obs-phrase with a dot", "John Q. Public <jqp@example.com>", "[John Q. Public|jqp|example.com]",
     "\"John Q. Public\" <jqp@example.com>"},
    {"folded list", "a@x.example,\r\n b@y.example", "[|a|x.example][|b|y.example]",
     "a@x.example, b@y.example"},
    {"dotted local part", "first.last@example.com", "[|first.last|example.com]", "first.last@example.com"},
    {"encoded word display kept", "=?UTF-8?Q?Zo=C3=AB?= <zoe@example.net>",
     "[=?UTF-8?Q?Zo=C3=AB?=|zoe|example.net]", "=?UTF-8?Q?Zo=C3=AB?= <zoe@example.net>"},
    {"UTF-8 display (RFC 6532)", "Zo\xc3\xab <zoe@example.net>", "[Zo\xc3\xab|zoe|example.net]",
     "Zo\xc3\xab <zoe@example.net>"},
};

static void test_addr_ok(void **state)
{
    (void)state;
    static struct msg_addr_list l;
    for (size_t i = 0; i < N_ELEM(addr_ok); i++) {
        char got[512], fmt[512];
        size_t len;
        enum msg_err e = msg_addr_parse_list(addr_ok[i].in, strlen(addr_ok[i].in), &l);
        if (e != MSG_OK) fail_msg("%s: got %s", addr_ok[i].name, msg_strerror(e));
        dump_list(&l, got, sizeof got);
        if (strcmp(got, addr_ok[i].want) != 0) fail_msg("%s: got %s, want %s", addr_ok[i].name, got, addr_ok[i].want);
        assert_int_equal(msg_addr_list_format(&l, fmt, sizeof fmt, &len), MSG_OK);
        if (strcmp(fmt, addr_ok[i].formatted) != 0)
            fail_msg("%s: formatted %s, want %s", addr_ok[i].name, fmt, addr_ok[i].formatted);
        assert_int_equal(len, strlen(fmt));
    }
}

static void test_addr_truncations(void **state)
{
    (void)state;
    static struct msg_addr_list l;
    for (size_t i = 0; i < N_ELEM(addr_ok); i++) {
        size_t n = strlen(addr_ok[i].in);
        for (size_t k = 0; k <= n; k++) {
            char *p = dup_exact(addr_ok[i].in, k);
            enum msg_err e = msg_addr_parse_list(p, k, &l);
            assert_true(e >= MSG_OK && e < MSG_ERR_COUNT);
            assert_true(l.n <= MSG_MAX_ADDRS);
            free(p);
        }
    }
}

static const struct {
    const char *name, *in;
    enum msg_err want;
} addr_bad[] = {
    {"no @", "alice", MSG_ERR_NO_AT},
    {"no @ in angle", "Alice <alice>", MSG_ERR_NO_AT},
    {"<a@b without >", "<a@b", MSG_ERR_NO_ANGLE_CLOSE},
    {"display <a@b without >", "Bob <bob@example.com", MSG_ERR_NO_ANGLE_CLOSE},
    {"unterminated quoted display", "\"Alice <alice@example.com>", MSG_ERR_UNTERMINATED_QUOTE},
    {"unterminated comment", "alice@example.com (note", MSG_ERR_UNTERMINATED_COMMENT},
    {"unterminated nested comment", "a@b (x (y)", MSG_ERR_UNTERMINATED_COMMENT},
    {"empty local part", "@example.com", MSG_ERR_EMPTY_LOCAL},
    {"empty angle", "<>", MSG_ERR_EMPTY_LOCAL},
    {"empty domain", "alice@", MSG_ERR_EMPTY_DOMAIN},
    {"empty domain in angle", "<alice@>", MSG_ERR_EMPTY_DOMAIN},
    {"domain with double dot", "a@example..com", MSG_ERR_BAD_DOMAIN},
    {"domain with trailing dot", "a@example.com.", MSG_ERR_BAD_DOMAIN},
    {"local part with trailing dot", "a.@example.com", MSG_ERR_BAD_LOCAL},
    {"space inside local part", "<a b@example.com>", MSG_ERR_BAD_LOCAL},
    {"unterminated domain literal", "a@[192.0.2.1", MSG_ERR_UNTERMINATED_LITERAL},
    {"obsolete route", "<@relay.example:a@example.com>", MSG_ERR_ROUTE_ADDR},
    {"group without ;", "Friends: a@x.example, b@y.example", MSG_ERR_UNCLOSED_GROUP},
    {"nested group", "A: B: c@d.example;;", MSG_ERR_NESTED_GROUP},
    {"empty list", "  (nothing) ", MSG_ERR_EMPTY_LIST},
    {"missing comma", "a@x.example b@y.example", MSG_ERR_SYNTAX},
    {"no comma after a group", "G: a@x.example; c@z.example", MSG_ERR_SYNTAX},
    {"junk after a group member", "G: a@x.example b@y.example;", MSG_ERR_SYNTAX},
    {"stray >", "> a@b", MSG_ERR_SYNTAX},
    {"local part over 64", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.example",
     MSG_ERR_TOO_LONG},
};

static void test_addr_bad(void **state)
{
    (void)state;
    static struct msg_addr_list l;
    for (size_t i = 0; i < N_ELEM(addr_bad); i++) {
        size_t n = strlen(addr_bad[i].in);
        char *p = dup_exact(addr_bad[i].in, n);
        enum msg_err e = msg_addr_parse_list(p, n, &l);
        if (e != addr_bad[i].want)
            fail_msg("%s: got %s, want %s", addr_bad[i].name, msg_strerror(e), msg_strerror(addr_bad[i].want));
        free(p);
    }
}

/* Inputs found by tests/fuzz/fuzz_msg.c, fed with their exact lengths (they
 * hold NUL octets): each must be refused, since the parsed parts are C
 * strings that a NUL would silently cut short, or (a quoted CR or LF) hold a
 * line break that cannot be formatted back into a header. */
static const struct {
    const char *name, *in;
    size_t len;
    enum msg_err want;
} addr_fuzz[] = {
    {"NUL in a domain literal (fuzz)", "x@[1-\0\0\0.2.1]", 13, MSG_ERR_BAD_DOMAIN},
    {"NUL in a quoted local part (fuzz)", "\"a\0b\"@example.com", 17, MSG_ERR_SYNTAX},
    {"quoted-pair NUL in a display name (fuzz)", "\"A\\\0\" <a@example.com>", 21, MSG_ERR_SYNTAX},
    {"quoted-pair LF in a local part (fuzz ef4623dd)", "\"\\\n\"@~", 6, MSG_ERR_SYNTAX},
    {"quoted-pair CR in a display name", "\"A\\\r\" <a@example.com>", 21, MSG_ERR_SYNTAX},
};

static void test_addr_fuzz_findings(void **state)
{
    (void)state;
    static struct msg_addr_list l;
    for (size_t i = 0; i < N_ELEM(addr_fuzz); i++) {
        char *p = dup_exact(addr_fuzz[i].in, addr_fuzz[i].len);
        enum msg_err e = msg_addr_parse_list(p, addr_fuzz[i].len, &l);
        if (e != addr_fuzz[i].want)
            fail_msg("%s: got %s, want %s", addr_fuzz[i].name, msg_strerror(e), msg_strerror(addr_fuzz[i].want));
        assert_int_equal(l.n, 0);
        free(p);
    }
}

static void test_addr_single_and_limits(void **state)
{
    (void)state;
    struct msg_addr a;
    const char *s = "\"Eve\" <eve@example.com>";
    assert_int_equal(msg_addr_parse(s, strlen(s), &a), MSG_OK);
    assert_string_equal(a.display, "Eve");
    assert_string_equal(a.local, "eve");
    /* a single mailbox: neither a list nor a group */
    s = "a@x.example, b@y.example";
    assert_int_equal(msg_addr_parse(s, strlen(s), &a), MSG_ERR_SYNTAX);
    s = "G: a@x.example;";
    assert_int_equal(msg_addr_parse(s, strlen(s), &a), MSG_ERR_SYNTAX);

    /* MSG_MAX_ADDRS entries fit, one more does not */
    static char buf[4096];
    static struct msg_addr_list l;
    size_t n = 0;
    for (int i = 0; i < MSG_MAX_ADDRS; i++) n += (size_t)sprintf(buf + n, "u%d@example.com,", i);
    assert_int_equal(msg_addr_parse_list(buf, n, &l), MSG_OK);
    assert_int_equal(l.n, MSG_MAX_ADDRS);
    n += (size_t)sprintf(buf + n, "last@example.com");
    assert_int_equal(msg_addr_parse_list(buf, n, &l), MSG_ERR_TOO_MANY_ADDRS);
    assert_int_equal(l.n, MSG_MAX_ADDRS);

    /* formatting quotes what needs it and fails cleanly when short */
    struct msg_addr q = {MSG_ADDR_MAILBOX, "a \\ b", "x y", "example.com"};
    char out[64];
    size_t len;
    assert_int_equal(msg_addr_format(&q, out, sizeof out, &len), MSG_OK);
    assert_string_equal(out, "\"a \\\\ b\" <\"x y\"@example.com>");
    assert_int_equal(msg_addr_format(&q, out, 10, &len), MSG_ERR_NO_SPACE);
    assert_int_equal(len, 0);
}

/* ------------------------------------------------------------------ */
/* Dates                                                                */

static const struct {
    const char *name, *in;
    int64_t epoch;
    int zone;
} date_ok[] = {
    {"RFC 5322 form", "Thu, 26 Nov 2026 09:15:00 +0000", 1795684500, 0},
    {"no day name", "26 Nov 2026 09:15:00 +0000", 1795684500, 0},
    {"zone east", "Thu, 26 Nov 2026 10:15:00 +0100", 1795684500, 60},
    {"zone west half hour", "Thu, 26 Nov 2026 05:45:00 -0330", 1795684500, -210},
    {"no seconds", "Thu, 26 Nov 2026 09:15 +0000", 1795684500, 0},
    {"one-digit day", "1 Jan 1970 00:00:00 +0000", 0, 0},
    {"before the epoch", "Wed, 31 Dec 1969 23:59:59 GMT", -1, 0},
    {"2-digit year 49 is 2049", "1 Jun 49 00:00:00 UT", 2506118400, 0},
    {"2-digit year 50 is 1950", "1 Jun 50 00:00:00 +0000", -618105600, 0},
    {"3-digit year adds 1900", "1 Jun 126 00:00:00 +0000", 1780272000, 0},
    {"leap day", "Tue, 29 Feb 2000 12:00:00 +0000", 951825600, 0},
    {"EST", "Thu, 26 Nov 2026 04:15:00 EST", 1795684500, -300},
    {"PDT", "Thu, 26 Nov 2026 02:15:00 PDT", 1795684500, -420},
    {"military letter is -0000", "Thu, 26 Nov 2026 09:15:00 Q", 1795684500, 0},
    {"comments and folding", " Thu ,\r\n 26 Nov 2026 09:15:00 +0000 (UTC)", 1795684500, 0},
    {"leap second counts as :59", "31 Dec 1999 23:59:60 +0000", 946684799, 0},
    {"case-insensitive names", "thu, 26 NOV 2026 09:15:00 gmt", 1795684500, 0},
    {"year 1900", "Mon, 1 Jan 1900 00:00:00 +0000", -2208988800, 0},
    {"2038 rollover", "19 Jan 2038 03:14:08 +0000", 2147483648, 0},
    {"largest zone", "1 Jan 1970 00:00:00 -9959", 99 * 3600 + 59 * 60, -5999},
};

static void test_date_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(date_ok); i++) {
        int64_t t = 0;
        int z = 99;
        size_t n = strlen(date_ok[i].in);
        char *p = dup_exact(date_ok[i].in, n);
        enum msg_err e = msg_date_parse(p, n, &t, &z);
        if (e != MSG_OK || t != date_ok[i].epoch || z != date_ok[i].zone)
            fail_msg("%s: got %s %lld %d", date_ok[i].name, msg_strerror(e), (long long)t, z);
        for (size_t k = 0; k < n; k++) /* every truncation: an error or a valid date, no crash */
            assert_true(msg_date_parse(p, k, &t, &z) < MSG_ERR_COUNT);
        free(p);
    }
}

static const struct {
    const char *name, *in;
    enum msg_err want;
} date_bad[] = {
    {"bad month", "26 Nox 2026 09:15:00 +0000", MSG_ERR_BAD_MONTH},
    {"month spelled out", "26 November 2026 09:15:00 +0000", MSG_ERR_BAD_MONTH},
    {"day 32", "32 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY},
    {"day 0", "0 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY},
    {"31 November", "31 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY},
    {"29 Feb not leap", "29 Feb 2100 09:15:00 +0000", MSG_ERR_BAD_DAY},
    {"3-digit day", "026 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY},
    {"zone +25xx", "26 Nov 2026 09:15:00 +25xx", MSG_ERR_BAD_ZONE},
    {"zone minutes 60", "26 Nov 2026 09:15:00 +0060", MSG_ERR_BAD_ZONE},
    {"zone 3 digits", "26 Nov 2026 09:15:00 +000", MSG_ERR_BAD_ZONE},
    {"unknown zone name", "26 Nov 2026 09:15:00 CEST", MSG_ERR_BAD_ZONE},
    {"military J", "26 Nov 2026 09:15:00 J", MSG_ERR_BAD_ZONE},
    {"no zone", "26 Nov 2026 09:15:00", MSG_ERR_BAD_ZONE},
    {"hour 24", "26 Nov 2026 24:00:00 +0000", MSG_ERR_BAD_TIME},
    {"minute 60", "26 Nov 2026 09:60:00 +0000", MSG_ERR_BAD_TIME},
    {"second 61", "26 Nov 2026 09:15:61 +0000", MSG_ERR_BAD_TIME},
    {"one-digit hour", "26 Nov 2026 9:15:00 +0000", MSG_ERR_BAD_TIME},
    {"1-digit year", "26 Nov 6 09:15:00 +0000", MSG_ERR_BAD_YEAR},
    {"5-digit year", "26 Nov 20266 09:15:00 +0000", MSG_ERR_BAD_YEAR},
    {"year 1899", "26 Nov 1899 09:15:00 +0000", MSG_ERR_BAD_YEAR},
    {"bad day name", "Thx, 26 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY_NAME},
    {"day name without comma", "Thu 26 Nov 2026 09:15:00 +0000", MSG_ERR_BAD_DAY_NAME},
    {"wrong day name", "Fri, 26 Nov 2026 09:15:00 +0000", MSG_ERR_WEEKDAY_MISMATCH},
    {"trailing junk", "26 Nov 2026 09:15:00 +0000 x", MSG_ERR_SYNTAX},
    {"unterminated comment", "26 Nov 2026 09:15:00 +0000 (UTC", MSG_ERR_UNTERMINATED_COMMENT},
    {"empty", "", MSG_ERR_BAD_DAY},
};

static void test_date_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(date_bad); i++) {
        int64_t t = 7;
        int z = 7;
        size_t n = strlen(date_bad[i].in);
        char *p = dup_exact(date_bad[i].in, n);
        enum msg_err e = msg_date_parse(p, n, &t, &z);
        if (e != date_bad[i].want)
            fail_msg("%s: got %s, want %s", date_bad[i].name, msg_strerror(e), msg_strerror(date_bad[i].want));
        assert_int_equal(t, 7); /* outputs untouched on error */
        free(p);
    }
}

static const struct {
    int64_t epoch;
    int zone;
    const char *want;
} date_fmt[] = {
    {1795684500, 0, "Thu, 26 Nov 2026 09:15:00 +0000"},
    {1795684500, 60, "Thu, 26 Nov 2026 10:15:00 +0100"},
    {1795684500, -600, "Wed, 25 Nov 2026 23:15:00 -1000"},
    {0, 0, "Thu, 01 Jan 1970 00:00:00 +0000"},
    {-1, 0, "Wed, 31 Dec 1969 23:59:59 +0000"},
    {951825600, 330, "Tue, 29 Feb 2000 17:30:00 +0530"},
    {-2208988800, 0, "Mon, 01 Jan 1900 00:00:00 +0000"},
    {253402300799, 0, "Fri, 31 Dec 9999 23:59:59 +0000"},
    {1709164800, -5999, "Sat, 24 Feb 2024 20:01:00 -9959"},
};

static void test_date_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(date_fmt); i++) {
        char out[MSG_DATE_LEN + 1];
        assert_int_equal(msg_date_format(date_fmt[i].epoch, date_fmt[i].zone, out, sizeof out), MSG_OK);
        assert_string_equal(out, date_fmt[i].want);
        /* and back */
        int64_t t;
        int z;
        assert_int_equal(msg_date_parse(out, strlen(out), &t, &z), MSG_OK);
        assert_int_equal(t, date_fmt[i].epoch);
        assert_int_equal(z, date_fmt[i].zone);
    }
    char out[MSG_DATE_LEN + 1];
    assert_int_equal(msg_date_format(0, 0, out, MSG_DATE_LEN), MSG_ERR_NO_SPACE);
    assert_int_equal(msg_date_format(0, 6000, out, sizeof out), MSG_ERR_BAD_ARG);
    assert_int_equal(msg_date_format(253402300800, 0, out, sizeof out), MSG_ERR_BAD_ARG);
    assert_int_equal(msg_date_format(INT64_MAX, 0, out, sizeof out), MSG_ERR_BAD_ARG);
    assert_int_equal(msg_date_format(INT64_MIN, 0, out, sizeof out), MSG_ERR_BAD_ARG);
}

/* ------------------------------------------------------------------ */
/* Message-ID                                                           */

static void test_msgid(void **state)
{
    (void)state;
    struct msg_id id;
    const char *s = " <20261126091500.42@mail.example.com> (c)";
    assert_int_equal(msg_id_parse(s, strlen(s), &id), MSG_OK);
    assert_bytes("20261126091500.42", id.left, id.left_len);
    assert_bytes("mail.example.com", id.right, id.right_len);
    s = "<x@[192.0.2.1]>";
    assert_int_equal(msg_id_parse(s, strlen(s), &id), MSG_OK);
    assert_bytes("[192.0.2.1]", id.right, id.right_len);

    static const char *const bad[] = {
        "20261126@example.com",  /* no angle brackets */
        "<left@right",           /* no > */
        "<leftright>",           /* no @ */
        "<@right>",              /* empty left */
        "<left@>",               /* empty right */
        "<a..b@right>",          /* double dot */
        "<a b@right>",           /* space */
        "<a@b> junk",            /* trailing junk */
        "<a@[b>",                /* unterminated literal */
        "",
    };
    for (size_t i = 0; i < N_ELEM(bad); i++) {
        size_t n = strlen(bad[i]);
        char *p = dup_exact(bad[i], n);
        if (msg_id_parse(p, n, &id) != MSG_ERR_BAD_MSGID) fail_msg("accepted %s", bad[i]);
        free(p);
    }

    char out[64];
    size_t len;
    assert_int_equal(msg_id_build(1795684500, 42, "mail.example.com", out, sizeof out, &len), MSG_OK);
    assert_string_equal(out, "<20261126091500.42@mail.example.com>");
    assert_int_equal(len, strlen(out));
    assert_int_equal(msg_id_parse(out, len, &id), MSG_OK);
    assert_int_equal(msg_id_build(0, 0, "bad domain", out, sizeof out, &len), MSG_ERR_BAD_ARG);
    assert_int_equal(msg_id_build(0, 0, "example.com", out, 10, &len), MSG_ERR_NO_SPACE);
}

/* ------------------------------------------------------------------ */
/* Trace fields                                                         */

static const struct msg_received hop = {
    .helo = "client.example.com", .rdns = "client.example.com", .ip = "192.0.2.10",
    .by = "mail.example.com", .software = "mailsim", .with = MSG_WITH_ESMTPSA, .id = "ABC123",
    .rcpt = "friend@example.org", .time = 1795684500, .zone_min = 0,
};

#define HOP_FIELD                                                              \
    "Received: from client.example.com (client.example.com [192.0.2.10])\r\n" \
    "\tby mail.example.com (mailsim) with ESMTPSA id ABC123\r\n"             \
    "\tfor <friend@example.org>; Thu, 26 Nov 2026 09:15:00 +0000\r\n"

static void test_received(void **state)
{
    (void)state;
    char out[512];
    size_t len;
    assert_int_equal(msg_received_format(&hop, out, sizeof out, &len), MSG_OK);
    assert_bytes(HOP_FIELD, out, len);

    struct msg_received r = hop;
    r.rdns = NULL;
    r.ip = "2001:db8::1";
    r.rcpt = NULL;
    r.id = NULL;
    r.software = NULL;
    r.with = MSG_WITH_SMTP;
    r.zone_min = -300;
    assert_int_equal(msg_received_format(&r, out, sizeof out, &len), MSG_OK);
    assert_bytes("Received: from client.example.com (unknown [IPv6:2001:db8::1])\r\n"
                 "\tby mail.example.com with SMTP;\r\n"
                 "\tThu, 26 Nov 2026 04:15:00 -0500\r\n",
                 out, len);

    /* it parses back as a header field */
    static struct msg_header h;
    assert_int_equal(msg_received_format(&hop, out, sizeof out, &len), MSG_OK);
    assert_int_equal(msg_parse_header(out, len, &h), MSG_OK);
    assert_int_equal(h.n_fields, 1);
    assert_int_equal(h.fields[0].len, len);

    const char *names[] = {"SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "LMTP"};
    for (int w = 0; w < MSG_WITH_COUNT; w++) assert_string_equal(msg_with_name((enum msg_with)w), names[w]);
    assert_string_equal(msg_with_name(MSG_WITH_COUNT), "?");

    r = hop;
    r.helo = NULL;
    assert_int_equal(msg_received_format(&r, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    r = hop;
    r.by = "mail.example.com\r\nX-Injected: 1";
    assert_int_equal(msg_received_format(&r, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    r = hop;
    r.rcpt = "a>b";
    assert_int_equal(msg_received_format(&r, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    r = hop;
    r.with = MSG_WITH_COUNT;
    assert_int_equal(msg_received_format(&r, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    assert_int_equal(msg_received_format(&hop, out, 40, &len), MSG_ERR_NO_SPACE);
    assert_int_equal(len, 0);
}

static void test_prepend(void **state)
{
    (void)state;
    const char *m = "Subject: hi\r\n\r\nbody\r\n";
    char out[512], out2[600];
    size_t len, len2;
    assert_int_equal(msg_prepend_received(&hop, m, strlen(m), out, sizeof out, &len), MSG_OK);
    assert_bytes(HOP_FIELD "Subject: hi\r\n\r\nbody\r\n", out, len);
    /* final delivery: Return-Path goes on top (RFC 5321 4.4) */
    assert_int_equal(msg_prepend_return_path("alice@example.com", out, len, out2, sizeof out2, &len2), MSG_OK);
    assert_bytes("Return-Path: <alice@example.com>\r\n" HOP_FIELD "Subject: hi\r\n\r\nbody\r\n", out2, len2);
    assert_int_equal(msg_prepend_return_path("", m, strlen(m), out2, sizeof out2, &len2), MSG_OK);
    assert_bytes("Return-Path: <>\r\nSubject: hi\r\n\r\nbody\r\n", out2, len2);
    assert_int_equal(msg_prepend_return_path(NULL, m, strlen(m), out2, sizeof out2, &len2), MSG_OK);
    assert_bytes("Return-Path: <>\r\nSubject: hi\r\n\r\nbody\r\n", out2, len2);
    assert_int_equal(msg_prepend_return_path("a b@c", m, strlen(m), out2, sizeof out2, &len2), MSG_ERR_BAD_ARG);
    /* the field fits but the message does not */
    assert_int_equal(msg_prepend_return_path("a@b", m, strlen(m), out2, 30, &len2), MSG_ERR_NO_SPACE);
    assert_int_equal(msg_prepend_received(&hop, m, strlen(m), out, 200, &len), MSG_ERR_NO_SPACE);
    assert_int_equal(len, 0);
}

/* ------------------------------------------------------------------ */
/* RFC 2047                                                             */

static const struct {
    const char *name, *in, *want;
} words[] = {
    {"UTF-8 B", "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"},
    {"UTF-8 Q with underscore", "=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait"},
    {"space between words dropped", "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},
    {"fold between words dropped", "=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab"},
    {"space before text kept", "=?UTF-8?Q?a?= b", "a b"},
    {"plain text around", "Re: =?UTF-8?Q?caf=C3=A9?= now", "Re: caf\xc3\xa9 now"},
    {"ISO-8859-1 widened", "=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9"},
    {"language suffix (RFC 2231)", "=?UTF-8*en?Q?hi?=", "hi"},
    {"unknown charset left as is", "=?KOI8-R?B?8NLJ18XU?=", "=?KOI8-R?B?8NLJ18XU?="},
    {"bad base64 left as is", "=?UTF-8?B?R3L?=", "=?UTF-8?B?R3L?="},
    {"bad Q hex left as is", "=?UTF-8?Q?a=ZZ?=", "=?UTF-8?Q?a=ZZ?="},
    {"unknown encoding left as is", "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
    {"unterminated word left as is", "=?UTF-8?Q?abc", "=?UTF-8?Q?abc"},
    {"folded plain text unfolds", "a\r\n b", "a b"},
    {"overlong B word still decodes",
     "=?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh?=",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"padding inside B text left as is", "=?UTF-8?B?YQ==YWFh?=", "=?UTF-8?B?YQ==YWFh?="},
    {"empty B text", "x=?UTF-8?B?" "?=y", "xy"}, /* split: "?" "?=" would be a trigraph */
};

static void test_decode_words(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(words); i++) {
        char out[128];
        size_t len;
        size_t n = strlen(words[i].in);
        char *p = dup_exact(words[i].in, n);
        enum msg_err e = msg_decode_words(p, n, out, sizeof out, &len);
        if (e != MSG_OK || strcmp(out, words[i].want) != 0)
            fail_msg("%s: got %s [%s]", words[i].name, msg_strerror(e), out);
        assert_int_equal(len, strlen(words[i].want));
        for (size_t k = 0; k < n; k++) assert_int_equal(msg_decode_words(p, k, out, sizeof out, &len), MSG_OK);
        free(p);
    }
}

/* Values that do not fit: fed with their exact length (NUL octets inside),
 * decoded into cap octets; the NUL-terminated prefix that fit and its
 * length come back with MSG_ERR_NO_SPACE (msg.h). */
static const struct {
    const char *name, *in;
    size_t n, cap;
    enum msg_err err;
    const char *want; /* want_len octets and the NUL */
    size_t want_len;
} cut_words[] = {
    {"plain text cut", "abcdef", 6, 4, MSG_ERR_NO_SPACE, "abc", 3},
    {"fits exactly", "abc", 3, 4, MSG_OK, "abc", 3},
    {"decoded word cut", "=?UTF-8?Q?caf=C3=A9?=", 21, 4, MSG_ERR_NO_SPACE, "caf", 3},
    /* "café" needs 5 octets and a NUL: the cut falls inside the é (C3 A9),
     * whose lead octet is dropped rather than shown alone */
    {"cut inside a decoded UTF-8 character", "=?UTF-8?Q?caf=C3=A9?=", 21, 5, MSG_ERR_NO_SPACE, "caf", 3},
    {"cut inside a raw UTF-8 character", "caf\xC3\xA9", 5, 5, MSG_ERR_NO_SPACE, "caf", 3},
    {"cut inside a 4-octet character", "a\xF0\x9F\x93\xA7", 5, 5, MSG_ERR_NO_SPACE, "a", 1},
    {"cut after a whole character", "a\xC3\xA9" "b", 4, 4, MSG_ERR_NO_SPACE, "a\xC3\xA9", 3},
    {"latin-1 widened, cut inside", "=?ISO-8859-1?Q?ab=E9?=", 22, 4, MSG_ERR_NO_SPACE, "ab", 2},
    {"octets that are not UTF-8 stay", "ab\xFF\xFF", 4, 4, MSG_ERR_NO_SPACE, "ab\xFF", 3},
    /* fuzz_msg-crash-d0603d22: the finding's first 72 octets (68 of
     * header-like junk, then NULs), its 512-octet buffer scaled down to 70.
     * The cut fell inside the NUL run and *out_len was 0 while out held a
     * 68-octet string. */
    {"fuzz d0603d22: cut inside NULs",
     "XX::\n,XX:\nY:z <\xff::\b\xff\xff\xff\xff\xff:\nY:: <\xff::\b\xff\xff\xff\xff\xff"
     "\xff\xffO,XX:\nY:: <=\"\\:& X\xb9:\t\r X:\n\0\0\0\0",
     72, 70, MSG_ERR_NO_SPACE,
     "XX::\n,XX:\nY:z <\xff::\b\xff\xff\xff\xff\xff:\nY:: <\xff::\b\xff\xff\xff\xff\xff"
     "\xff\xffO,XX:\nY:: <=\"\\:& X\xb9:\t\r X:\n\0", 69},
};

static void test_decode_words_cut(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(cut_words); i++) {
        char out[128];
        size_t len = 999;
        char *p = dup_exact(cut_words[i].in, cut_words[i].n);
        enum msg_err e = msg_decode_words(p, cut_words[i].n, out, cut_words[i].cap, &len);
        if (e != cut_words[i].err || len != cut_words[i].want_len)
            fail_msg("%s: got %s, length %zu", cut_words[i].name, msg_strerror(e), len);
        assert_memory_equal(out, cut_words[i].want, cut_words[i].want_len + 1);
        assert_true(strlen(out) <= len && len < cut_words[i].cap);
        free(p);
    }
}

static void test_encode_words(void **state)
{
    (void)state;
    char out[512], back[512];
    size_t len, blen;
    assert_int_equal(msg_encode_words("plain ASCII", out, sizeof out, &len), MSG_OK);
    assert_string_equal(out, "plain ASCII");
    assert_int_equal(msg_encode_words("caf\xc3\xa9", out, sizeof out, &len), MSG_OK);
    assert_string_equal(out, "=?UTF-8?B?Y2Fmw6k=?=");
    /* "=?" in plain text must be encoded, or a reader would decode it */
    assert_int_equal(msg_encode_words("=?x?=", out, sizeof out, &len), MSG_OK);
    assert_string_equal(out, "=?UTF-8?B?PT94Pz0=?=");
    /* 96 octets of 2-byte characters: words of at most 45 octets never
     * split a character, every word at most 75 characters */
    char text[128] = "";
    for (int i = 0; i < 8; i++) strcat(text, "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 ");
    assert_int_equal(msg_encode_words(text, out, sizeof out, &len), MSG_OK);
    assert_int_equal(len, strlen(out));
    size_t run = 0, nwords = 1;
    for (size_t i = 0; i < len; i++) {
        if (out[i] == ' ') {
            assert_true(run <= 75);
            run = 0;
            nwords++;
        } else {
            run++;
        }
    }
    assert_true(run <= 75);
    assert_int_equal(nwords, 3); /* 96 octets: 45 + 45 + 6, each cut before a lead byte */
    assert_int_equal(msg_decode_words(out, len, back, sizeof back, &blen), MSG_OK);
    assert_string_equal(back, text);
    assert_int_equal(msg_encode_words("caf\xc3\xa9", out, 10, &len), MSG_ERR_NO_SPACE);
}

/* ------------------------------------------------------------------ */
/* Builder                                                              */

static void test_build(void **state)
{
    (void)state;
    struct msg_addr from = {MSG_ADDR_MAILBOX, "Alice Example", "alice", "example.com"};
    struct msg_addr to[2] = {{MSG_ADDR_MAILBOX, "", "bob", "example.org"},
                             {MSG_ADDR_MAILBOX, "Zo\xc3\xab M\xc3\xbcller", "zoe", "example.net"}};
    struct msg_simple m = {
        .from = &from, .to = to, .n_to = 2, .subject = "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln",
        .date = 1795684500, .zone_min = 60, .message_id = "<20261126091500.1@example.com>",
        .body = "Hallo Zo\xc3\xab\nzweite Zeile\r\n\n.dot line\n",
    };
    static char out[2048];
    size_t len;
    assert_int_equal(msg_build_simple(&m, out, sizeof out, &len), MSG_OK);
    assert_bytes("From: Alice Example <alice@example.com>\r\n"
                 "To: bob@example.org, =?UTF-8?B?Wm/DqyBNw7xsbGVy?= <zoe@example.net>\r\n"
                 "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
                 "Date: Thu, 26 Nov 2026 10:15:00 +0100\r\n"
                 "Message-ID: <20261126091500.1@example.com>\r\n"
                 "MIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n"
                 "\r\n"
                 "Hallo Zo\xc3\xab\r\n"
                 "zweite Zeile\r\n"
                 "\r\n"
                 ".dot line\r\n",
                 out, len);

    /* ASCII only: no MIME fields (RFC 2045 5.2 defaults say it all); a
     * last line without LF gets its CRLF */
    struct msg_simple a = {.from = &from, .to = to, .n_to = 1, .subject = "Hi",
                           .date = 0, .zone_min = 0, .message_id = NULL, .body = "one\ntwo"};
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_OK);
    assert_bytes("From: Alice Example <alice@example.com>\r\n"
                 "To: bob@example.org\r\n"
                 "Subject: Hi\r\n"
                 "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
                 "\r\n"
                 "one\r\ntwo\r\n",
                 out, len);
    /* what it builds parses back */
    static struct msg_header h;
    assert_int_equal(msg_parse_header(out, len, &h), MSG_OK);
    assert_int_equal(h.n_fields, 4);
    assert_int_equal(h.body_off, len - 10);

    /* bad arguments and limits */
    a.subject = "two\r\nlines";
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    a.subject = "x";
    a.message_id = "no-brackets@x";
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    a.message_id = NULL;
    a.body = "bare\rCR\n";
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_ERR_BAD_ARG);
    static char longbody[1100];
    memset(longbody, 'x', 999);
    longbody[999] = '\n';
    a.body = longbody;
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_ERR_LINE_TOO_LONG);
    a.body = "ok\n";
    assert_int_equal(msg_build_simple(&a, out, 50, &len), MSG_ERR_NO_SPACE);
    assert_int_equal(len, 0);
    a.from = NULL;
    assert_int_equal(msg_build_simple(&a, out, sizeof out, &len), MSG_ERR_BAD_ARG);
}

/* Seeded noise: fragments of real syntax and random bytes, glued at
 * random. Every parser must return a value in range and stay inside the
 * buffer (ASan), whatever it gets. The seed is fixed: the same inputs on
 * every run. */
static uint32_t noise(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void test_noise(void **state)
{
    (void)state;
    static const char *const frags[] = {
        "From: ", "\r\n", "\r\n ", "\n", "\r", ":", " ", "=?UTF-8?B?", "?=", "=?utf-8?q?", "=C3", "<a@b>",
        "\"", "\\", "(", ")", "Thu, ", "26 Nov 2026", " 09:15:00", " +0000", "Friends:", ";", ",", "@", "[",
        "]", ".", "<", ">", "x", "\x80", "\xc3\xa9", "Zm9v", "=", "_",
    };
    static struct msg_header h;
    static struct msg_addr_list l;
    uint32_t seed = 5322;
    for (int round = 0; round < 4000; round++) {
        char buf[400], out[128];
        size_t n = 0, parts = noise(&seed) % 24, len;
        for (size_t k = 0; k < parts; k++) {
            const char *f = frags[noise(&seed) % N_ELEM(frags)];
            size_t fl = strlen(f);
            if (noise(&seed) % 8 == 0) { /* a random byte, NUL included */
                buf[n++] = (char)(noise(&seed) & 0xff);
            } else if (n + fl < sizeof buf) {
                memcpy(buf + n, f, fl);
                n += fl;
            }
        }
        char *p = dup_exact(buf, n);
        assert_true(msg_parse_header(p, n, &h) < MSG_ERR_COUNT);
        assert_true(h.body_off <= n && h.n_fields <= MSG_MAX_FIELDS);
        for (size_t f = 0; f < h.n_fields; f++) assert_true(h.fields[f].off + h.fields[f].len <= n);
        assert_true(msg_addr_parse_list(p, n, &l) < MSG_ERR_COUNT);
        assert_true(l.n <= MSG_MAX_ADDRS);
        struct msg_addr a;
        assert_true(msg_addr_parse(p, n, &a) < MSG_ERR_COUNT);
        int64_t t;
        int z;
        assert_true(msg_date_parse(p, n, &t, &z) < MSG_ERR_COUNT);
        struct msg_id id;
        if (msg_id_parse(p, n, &id) == MSG_OK)
            assert_true(id.right + id.right_len <= p + n && id.left >= p);
        enum msg_err e = msg_decode_words(p, n, out, sizeof out, &len);
        assert_true(e == MSG_OK || e == MSG_ERR_NO_SPACE);
        assert_true(len < sizeof out);
        e = msg_unfold(p, n, out, sizeof out, &len);
        assert_true(e == MSG_OK || e == MSG_ERR_NO_SPACE);
        free(p);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(msg_addr_kind_name(MSG_ADDR_MAILBOX), "MAILBOX");
    assert_string_equal(msg_addr_kind_name(MSG_ADDR_GROUP_START), "GROUP_START");
    assert_string_equal(msg_addr_kind_name(MSG_ADDR_GROUP_END), "GROUP_END");
    assert_string_equal(msg_addr_kind_name(MSG_ADDR_KIND_COUNT), "?");
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(msg_strerror(MSG_OK), "MSG_OK");
    assert_string_equal(msg_strerror(MSG_ERR_NO_COLON), "MSG_ERR_NO_COLON");
    assert_string_equal(msg_strerror(MSG_ERR_BAD_ARG), "MSG_ERR_BAD_ARG");
    assert_string_equal(msg_strerror(MSG_ERR_COUNT), "?");
    for (int e = 0; e < MSG_ERR_COUNT; e++) assert_string_not_equal(msg_strerror((enum msg_err)e), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_ok),
        cmocka_unit_test(test_header_truncations),
        cmocka_unit_test(test_header_bad),
        cmocka_unit_test(test_header_line_limit),
        cmocka_unit_test(test_header_field_and_size_limits),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_unfold),
        cmocka_unit_test(test_format_field),
        cmocka_unit_test(test_format_field_bad),
        cmocka_unit_test(test_addr_ok),
        cmocka_unit_test(test_addr_truncations),
        cmocka_unit_test(test_addr_bad),
        cmocka_unit_test(test_addr_fuzz_findings),
        cmocka_unit_test(test_addr_single_and_limits),
        cmocka_unit_test(test_date_ok),
        cmocka_unit_test(test_date_bad),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_msgid),
        cmocka_unit_test(test_received),
        cmocka_unit_test(test_prepend),
        cmocka_unit_test(test_decode_words),
        cmocka_unit_test(test_decode_words_cut),
        cmocka_unit_test(test_encode_words),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
