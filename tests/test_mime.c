/* MIME structure: Content-Type / Content-Disposition values, the multipart
 * walk, section numbers, sizes and line counts, and every fallback.
 *
 * mime_parse takes a complete message, so instead of byte-by-byte feeding
 * every message in the table is also parsed at every truncation, from a
 * heap copy of exactly that many bytes (ASan catches any read past it). */
#include "tests/testkit.h"

#include "protocols/mime.h"

#include <stdio.h>
#include <stdlib.h>

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *dup_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* ------------------------------------------------------------------ */
/* Field values                                                         */

/* "type/subtype;name=value;..." */
static void dump_ctype(const struct mime_ctype *ct, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%s/%s", ct->type, ct->subtype);
    for (size_t i = 0; i < ct->n_params; i++)
        o += (size_t)snprintf(out + o, cap - o, ";%s=%s", ct->params[i].name, ct->params[i].value);
}

static const struct {
    const char *name, *in, *want;
    enum mime_err err;
} ctype_cases[] = {
    {"bare type", "text/plain", "text/plain", MIME_OK},
    {"case folded, value kept", "TEXT/HTML; Charset=\"UTF-8\"", "text/html;charset=UTF-8", MIME_OK},
    {"folded with quoted space", "multipart/mixed;\r\n\tboundary=\"a b\"", "multipart/mixed;boundary=a b", MIME_OK},
    {"comment skipped", "text/plain; charset=us-ascii (Plain text)", "text/plain;charset=us-ascii", MIME_OK},
    {"quoted pair", "application/x-foo; a=1; b=\"x\\\"y\"", "application/x-foo;a=1;b=x\"y", MIME_OK},
    {"trailing semicolon", "text/plain; charset=utf-8;", "text/plain;charset=utf-8", MIME_OK},
    {"empty parameter skipped", "text/plain;;charset=x", "text/plain;charset=x", MIME_OK},
    {"spaces around =", "text/plain; charset = x", "text/plain;charset=x", MIME_OK},
    {"RFC 2231 name kept as is", "application/pdf; name*=utf-8''a%20b.pdf",
     "application/pdf;name*=utf-8''a%20b.pdf", MIME_OK},
    /* bad input: each gives the RFC 2045 5.2 default */
    {"no subtype", "text", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"empty subtype", "text/", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"empty type", "/plain", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"empty value field", "", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"attribute without =", "text/html; charset", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"attribute without value", "text/html; charset=", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"unterminated quote", "text/html; charset=\"utf-8", "text/plain;charset=us-ascii", MIME_ERR_UNTERMINATED_QUOTE},
    {"missing semicolon", "text/html charset=x", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"unterminated comment", "text/html; (note", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"two tokens as value", "text/html; a=b c", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"tspecial in subtype", "text/ht@ml", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"8-bit byte in type", "t\xc3\xa9xt/plain", "text/plain;charset=us-ascii", MIME_ERR_SYNTAX},
    {"too many parameters keeps 8", "a/b; p1=1; p2=2; p3=3; p4=4; p5=5; p6=6; p7=7; p8=8; p9=9",
     "a/b;p1=1;p2=2;p3=3;p4=4;p5=5;p6=6;p7=7;p8=8", MIME_ERR_TOO_MANY_PARAMS},
};

static void test_ctype(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(ctype_cases); i++) {
        struct mime_ctype ct;
        char got[512];
        size_t n = strlen(ctype_cases[i].in);
        char *p = dup_exact(ctype_cases[i].in, n);
        enum mime_err e = mime_ctype_parse(p, n, &ct);
        dump_ctype(&ct, got, sizeof got);
        if (e != ctype_cases[i].err || strcmp(got, ctype_cases[i].want) != 0)
            fail_msg("%s: got %s %s", ctype_cases[i].name, mime_strerror(e), got);
        for (size_t k = 0; k < n; k++) assert_true(mime_ctype_parse(p, k, &ct) < MIME_ERR_COUNT);
        free(p);
    }
}

static void test_ctype_limits(void **state)
{
    (void)state;
    struct mime_ctype ct;
    char buf[600];
    /* RFC 6838 4.2: 127 characters fit, 128 do not */
    memset(buf, 'x', 127);
    memcpy(buf + 127, "/y", 3);
    assert_int_equal(mime_ctype_parse(buf, strlen(buf), &ct), MIME_OK);
    assert_int_equal(strlen(ct.type), 127);
    memset(buf, 'x', 128);
    memcpy(buf + 128, "/y", 3);
    assert_int_equal(mime_ctype_parse(buf, strlen(buf), &ct), MIME_ERR_TOO_LONG);
    assert_string_equal(ct.type, "text");
    /* a 255-octet value fits, 256 do not; quoted the same */
    memcpy(buf, "a/b; v=", 7);
    memset(buf + 7, 'v', 255);
    buf[7 + 255] = 0;
    assert_int_equal(mime_ctype_parse(buf, strlen(buf), &ct), MIME_OK);
    assert_int_equal(strlen(mime_param_get(&ct, "V")), 255);
    memcpy(buf, "a/b; v=\"", 8);
    memset(buf + 8, 'v', 256);
    memcpy(buf + 8 + 256, "\"", 2);
    assert_int_equal(mime_ctype_parse(buf, strlen(buf), &ct), MIME_ERR_TOO_LONG);
    assert_null(mime_param_get(&ct, "v"));
}

static const struct {
    const char *name, *in, *want;
    enum mime_err err;
} disp_cases[] = {
    {"attachment", "attachment; filename=\"a b.txt\"; size=12", "attachment/;filename=a b.txt;size=12", MIME_OK},
    {"inline", "INLINE", "inline/", MIME_OK},
    {"no type", "; filename=x", "/", MIME_ERR_SYNTAX},
    {"empty", "", "/", MIME_ERR_SYNTAX},
    {"unterminated quote", "attachment; filename=\"x", "/", MIME_ERR_UNTERMINATED_QUOTE},
    {"type with a slash", "attachment/x", "/", MIME_ERR_SYNTAX},
};

static void test_disposition(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEM(disp_cases); i++) {
        struct mime_ctype ct;
        char got[512];
        enum mime_err e = mime_disposition_parse(disp_cases[i].in, strlen(disp_cases[i].in), &ct);
        dump_ctype(&ct, got, sizeof got);
        if (e != disp_cases[i].err || strcmp(got, disp_cases[i].want) != 0)
            fail_msg("%s: got %s %s", disp_cases[i].name, mime_strerror(e), got);
    }
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */

/* One line per entity: "section type/subtype ENC lines [body] !PROBLEM",
 * the body shown for leaves only, entities joined by " | ". */
static void dump_tree(const struct mime_tree *t, const char *msg, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < mime_count(t); i++) {
        const struct mime_part *p = mime_part(t, i);
        o += (size_t)snprintf(out + o, cap - o, "%s%s %s/%s %s %zu", i ? " | " : "", p->section,
                              p->ctype.type, p->ctype.subtype, p->encoding, p->body_lines);
        if (p->kind == MIME_KIND_SINGLE)
            o += (size_t)snprintf(out + o, cap - o, " [%.*s]", (int)p->body_len, msg + p->body_off);
        if (p->problem) o += (size_t)snprintf(out + o, cap - o, " !%s", mime_strerror(p->problem));
    }
}

#define MIXED                                                        \
    "From: a@example.com\r\n"                                        \
    "MIME-Version: 1.0\r\n"                                          \
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n"            \
    "\r\n"                                                           \
    "This is the preamble.\r\n"                                      \
    "--XYZ\r\n"                                                      \
    "Content-Type: text/plain; charset=utf-8\r\n"                    \
    "\r\n"                                                           \
    "Hello\r\n"                                                      \
    "world\r\n"                                                      \
    "--XYZ\r\n"                                                      \
    "Content-Type: application/octet-stream; name=\"a.bin\"\r\n"     \
    "Content-Transfer-Encoding: base64\r\n"                          \
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"        \
    "Content-ID: <id1@example.com>\r\n"                              \
    "Content-Description: a\r\n file\r\n"                            \
    "Content-Language: en\r\n"                                       \
    "\r\n"                                                           \
    "AAEC\r\n"                                                       \
    "--XYZ--\r\n"                                                    \
    "epilogue\r\n"

#define NESTED                                                       \
    "Content-Type: multipart/mixed; boundary=outer\r\n"              \
    "\r\n"                                                           \
    "--outer\r\n"                                                    \
    "Content-Type: multipart/alternative; boundary=inner\r\n"        \
    "\r\n"                                                           \
    "--inner\r\n"                                                    \
    "\r\n"                                                           \
    "plain\r\n"                                                      \
    "--inner\r\n"                                                    \
    "Content-Type: text/html\r\n"                                    \
    "\r\n"                                                           \
    "<p>html</p>\r\n"                                                \
    "--inner--\r\n"                                                  \
    "--outer\r\n"                                                    \
    "Content-Type: message/rfc822\r\n"                               \
    "\r\n"                                                           \
    "Subject: inner text\r\n"                                        \
    "\r\n"                                                           \
    "one\r\n"                                                        \
    "two\r\n"                                                        \
    "--outer\r\n"                                                    \
    "Content-Type: message/rfc822\r\n"                               \
    "\r\n"                                                           \
    "Subject: inner multi\r\n"                                       \
    "Content-Type: multipart/mixed; boundary=b3\r\n"                 \
    "\r\n"                                                           \
    "--b3\r\n"                                                       \
    "\r\n"                                                           \
    "x\r\n"                                                          \
    "--b3\r\n"                                                       \
    "\r\n"                                                           \
    "y\r\n"                                                          \
    "--b3--\r\n"                                                     \
    "--outer--\r\n"

static const struct {
    const char *name, *in, *want;
    enum mime_err err;
} walk_cases[] = {
    {"plain text message", "From: a@example.com\r\nSubject: hi\r\n\r\nline1\r\nline2\r\n",
     "1 text/plain 7BIT 2 [line1\r\nline2\r\n]", MIME_OK},
    {"no header at all", "\r\nbody", "1 text/plain 7BIT 1 [body]", MIME_OK},
    {"header only", "Subject: x\r\n", "1 text/plain 7BIT 0 []", MIME_OK},
    {"empty message", "", "1 text/plain 7BIT 0 []", MIME_OK},
    {"multipart/mixed with attachment", MIXED,
     " multipart/mixed 7BIT 18 | 1 text/plain 7BIT 2 [Hello\r\nworld] | 2 application/octet-stream BASE64 1 [AAEC]",
     MIME_OK},
    {"nested alternative and rfc822", NESTED,
     " multipart/mixed 7BIT 32 | 1 multipart/alternative 7BIT 8 | 1.1 text/plain 7BIT 1 [plain]"
     " | 1.2 text/html 7BIT 1 [<p>html</p>] | 2 message/rfc822 7BIT 4 | 2.1 text/plain 7BIT 2 [one\r\ntwo]"
     " | 3 message/rfc822 7BIT 10 | 3 multipart/mixed 7BIT 7 | 3.1 text/plain 7BIT 1 [x]"
     " | 3.2 text/plain 7BIT 1 [y]",
     MIME_OK},
    {"digest parts default to message/rfc822",
     "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: m1\r\n\r\nbody1\r\n--d\r\n"
     "Content-Type: text/plain\r\n\r\nnote\r\n--d--\r\n",
     " multipart/digest 7BIT 10 | 1 message/rfc822 7BIT 3 | 1.1 text/plain 7BIT 1 [body1]"
     " | 2 text/plain 7BIT 1 [note]",
     MIME_OK},
    {"transport padding and look-alike lines",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b \t\r\n\r\n--bc\r\n-- b\r\n--b--x\r\n--b--  \r\n",
     " multipart/mixed 7BIT 6 | 1 text/plain 7BIT 3 [--bc\r\n-- b\r\n--b--x]", MIME_OK},
    {"empty parts", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\n--b--\r\n",
     " multipart/mixed 7BIT 4 | 1 text/plain 7BIT 0 [] | 2 text/plain 7BIT 0 []", MIME_OK},
    {"close delimiter in the preamble ignored",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n--b\r\n\r\nz\r\n--b--\r\n",
     " multipart/mixed 7BIT 5 | 1 text/plain 7BIT 1 [z]", MIME_OK},
    {"bare LF lines", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nlf\n--b--\n",
     " multipart/mixed 7BIT 4 | 1 text/plain 7BIT 1 [lf]", MIME_OK},
    {"encoding upper-cased", "Content-Transfer-Encoding: Quoted-Printable\r\n\r\n=41\r\n",
     "1 text/plain QUOTED-PRINTABLE 1 [=41\r\n]", MIME_OK},
    /* malformed structures: a sane fallback and the exact problem */
    {"no close delimiter", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\na\r\n--b\r\n\r\nrest\r\n",
     " multipart/mixed 7BIT 6 !MIME_ERR_NO_CLOSE | 1 text/plain 7BIT 1 [a] | 2 text/plain 7BIT 1 [rest\r\n]",
     MIME_ERR_NO_CLOSE},
    {"boundary parameter missing", "Content-Type: multipart/mixed\r\n\r\n--b\r\nx\r\n",
     "1 text/plain 7BIT 2 [--b\r\nx\r\n] !MIME_ERR_NO_BOUNDARY", MIME_ERR_NO_BOUNDARY},
    {"boundary never appears", "Content-Type: multipart/mixed; boundary=b\r\n\r\nno parts\r\n",
     "1 text/plain 7BIT 1 [no parts\r\n] !MIME_ERR_NO_PARTS", MIME_ERR_NO_PARTS},
    {"boundary ends in a space", "Content-Type: multipart/mixed; boundary=\"b \"\r\n\r\n--b \r\n",
     "1 text/plain 7BIT 1 [--b \r\n] !MIME_ERR_NO_BOUNDARY", MIME_ERR_NO_BOUNDARY},
    {"boundary with a bad char", "Content-Type: multipart/mixed; boundary=\"a*b\"\r\n\r\n--a*b\r\n",
     "1 text/plain 7BIT 1 [--a*b\r\n] !MIME_ERR_NO_BOUNDARY", MIME_ERR_NO_BOUNDARY},
    {"invalid Content-Type", "Content-Type: text\r\n\r\nx", "1 text/plain 7BIT 1 [x] !MIME_ERR_SYNTAX",
     MIME_ERR_SYNTAX},
    {"invalid encoding", "Content-Transfer-Encoding: base 64\r\n\r\nx", "1 text/plain 7BIT 1 [x] !MIME_ERR_SYNTAX",
     MIME_ERR_SYNTAX},
    {"invalid disposition", "Content-Disposition: ; x=1\r\n\r\nx", "1 text/plain 7BIT 1 [x] !MIME_ERR_SYNTAX",
     MIME_ERR_SYNTAX},
    {"bad part header kept to the empty line",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\nno colon\r\n\r\nbody\r\n--b--\r\n",
     " multipart/mixed 7BIT 6 | 1 text/html 7BIT 1 [body] !MIME_ERR_HEADER", MIME_ERR_HEADER},
    {"part header without empty line",
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n--b--\r\n",
     " multipart/mixed 7BIT 3 | 1 text/html 7BIT 0 []", MIME_OK},
    {"base64 message/rfc822 stays a leaf",
     "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQo=\r\n",
     "1 message/rfc822 BASE64 1 [U3ViamVjdDogeA0KDQo=\r\n]", MIME_OK},
    {"top-level message/rfc822", "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nin\r\n",
     "1 message/rfc822 7BIT 3 | 1.1 text/plain 7BIT 1 [in\r\n]", MIME_OK},
};

static void test_walk(void **state)
{
    (void)state;
    struct mime_tree *t = mime_new();
    assert_non_null(t);
    int bad = 0; /* every case is run and reported before the test fails */
    for (size_t i = 0; i < N_ELEM(walk_cases); i++) {
        static char got[4096];
        size_t n = strlen(walk_cases[i].in);
        char *p = dup_exact(walk_cases[i].in, n);
        enum mime_err e = mime_parse(t, p, n);
        dump_tree(t, p, got, sizeof got);
        if (e != walk_cases[i].err || strcmp(got, walk_cases[i].want) != 0) {
            print_message("%s: got %s\n%s\nwant\n%s\n", walk_cases[i].name, mime_strerror(e), got,
                          walk_cases[i].want);
            bad++;
        }
        free(p);
    }
    mime_free(t);
    assert_int_equal(bad, 0);
}

/* A tree is complete and consistent, its offsets inside msg[0..len). */
static void check_tree(const struct mime_tree *t, size_t len)
{
    assert_true(mime_count(t) >= 1 && mime_count(t) <= MIME_MAX_PARTS);
    for (size_t j = 0; j < mime_count(t); j++) {
        const struct mime_part *q = mime_part(t, j);
        assert_true(q->header_off + q->header_len == q->body_off);
        assert_true(q->body_off + q->body_len <= len);
        assert_true(q->parent < (int)j);
        assert_true(q->depth < MIME_MAX_DEPTH);
        if (q->kind == MIME_KIND_SINGLE) assert_int_equal(q->n_children, 0);
        if (q->kind == MIME_KIND_MESSAGE) assert_true(q->n_children <= 1);
        int c = q->first_child, kids = 0;
        for (; c >= 0; c = mime_part(t, (size_t)c)->next_sibling) {
            assert_int_equal(mime_part(t, (size_t)c)->parent, (int)j);
            assert_int_equal(mime_part(t, (size_t)c)->depth, q->depth + 1);
            kids++;
        }
        assert_int_equal(kids, q->n_children);
    }
}

/* Every truncation of every message: a complete, consistent tree whose
 * offsets stay inside the prefix. */
static void test_walk_truncations(void **state)
{
    (void)state;
    struct mime_tree *t = mime_new();
    assert_non_null(t);
    for (size_t i = 0; i < N_ELEM(walk_cases); i++) {
        size_t n = strlen(walk_cases[i].in);
        for (size_t k = 0; k <= n; k++) {
            char *p = dup_exact(walk_cases[i].in, k);
            assert_true(mime_parse(t, p, k) < MIME_ERR_COUNT);
            check_tree(t, k);
            free(p);
        }
    }
    mime_free(t);
}

/* The fields IMAP's BODYSTRUCTURE sends, and the offsets BODY[n] uses. */
static void test_part_fields(void **state)
{
    (void)state;
    struct mime_tree *t = mime_new();
    const char *m = MIXED;
    assert_int_equal(mime_parse(t, m, strlen(m)), MIME_OK);
    assert_int_equal(mime_count(t), 3);
    const struct mime_part *top = mime_part(t, 0);
    assert_int_equal(top->kind, MIME_KIND_MULTIPART);
    assert_int_equal(top->n_children, 2);
    assert_int_equal(top->header_off, 0);
    assert_string_equal(mime_param_get(&top->ctype, "boundary"), "XYZ");

    int i = mime_find_section(t, "2");
    assert_int_equal(i, 2);
    const struct mime_part *a = mime_part(t, (size_t)i);
    assert_int_equal(a->parent, 0);
    assert_string_equal(a->encoding, "BASE64");
    assert_string_equal(a->id, "<id1@example.com>");
    assert_string_equal(a->description, "a file");
    assert_string_equal(a->language, "en");
    assert_true(a->has_disposition);
    assert_string_equal(a->disposition.type, "attachment");
    assert_string_equal(mime_param_get(&a->disposition, "filename"), "a.bin");
    assert_string_equal(mime_param_get(&a->ctype, "NAME"), "a.bin");
    /* BODY[2.MIME] is the part's header, BODY[2] its body */
    assert_bytes("Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n"
                 "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
                 "Content-ID: <id1@example.com>\r\n"
                 "Content-Description: a\r\n file\r\n"
                 "Content-Language: en\r\n"
                 "\r\n",
                 m + a->header_off, a->header_len);
    assert_int_equal(a->body_len, 4);

    const struct mime_part *txt = mime_part(t, 1);
    assert_string_equal(txt->section, "1");
    assert_string_equal(mime_param_get(&txt->ctype, "charset"), "utf-8");
    assert_false(txt->has_disposition);
    assert_string_equal(txt->id, "");
    assert_int_equal(txt->next_sibling, 2);
    assert_int_equal(mime_find_section(t, "3"), -1);
    assert_int_equal(mime_find_section(t, ""), 0);

    /* a message without Content-Type gets text/plain; charset=us-ascii */
    m = "Subject: x\r\n\r\ny";
    assert_int_equal(mime_parse(t, m, strlen(m)), MIME_OK);
    assert_string_equal(mime_param_get(&mime_part(t, 0)->ctype, "charset"), "us-ascii");
    assert_int_equal(mime_part(t, 0)->header_len, 14);
    mime_free(t);
    mime_free(NULL);
}

/* The section lookups IMAP makes on a nested message (RFC 3501 6.4.5). */
static void test_sections(void **state)
{
    (void)state;
    struct mime_tree *t = mime_new();
    const char *m = NESTED;
    assert_int_equal(mime_parse(t, m, strlen(m)), MIME_OK);
    assert_int_equal(mime_count(t), 10);
    /* "3" names the message/rfc822 part first; its child shares the number */
    int i = mime_find_section(t, "3");
    const struct mime_part *p = mime_part(t, (size_t)i);
    assert_int_equal(p->kind, MIME_KIND_MESSAGE);
    assert_int_equal(p->n_children, 1);
    const struct mime_part *inner = mime_part(t, (size_t)p->first_child);
    assert_int_equal(inner->kind, MIME_KIND_MULTIPART);
    assert_string_equal(inner->section, "3");
    /* BODY[3.HEADER] is the encapsulated message's header */
    assert_bytes("Subject: inner multi\r\nContent-Type: multipart/mixed; boundary=b3\r\n\r\n",
                 m + inner->header_off, inner->header_len);
    p = mime_part(t, (size_t)mime_find_section(t, "3.2"));
    assert_bytes("y", m + p->body_off, p->body_len);
    assert_int_equal(p->depth, 3);
    /* BODY[2.TEXT] and BODY[2.1] of a message/rfc822 with a text body */
    i = mime_find_section(t, "2");
    p = mime_part(t, (size_t)i);
    const struct mime_part *c = mime_part(t, (size_t)p->first_child);
    assert_string_equal(c->section, "2.1");
    assert_bytes("one\r\ntwo", m + c->body_off, c->body_len);
    assert_bytes("Subject: inner text\r\n\r\none\r\ntwo", m + p->body_off, p->body_len);
    /* BODY[1.2.MIME] */
    p = mime_part(t, (size_t)mime_find_section(t, "1.2"));
    assert_bytes("Content-Type: text/html\r\n\r\n", m + p->header_off, p->header_len);
    assert_null(mime_param_get(&p->ctype, "charset")); /* given fields are not completed */
    assert_int_equal(mime_find_section(t, "1.3"), -1);
    mime_free(t);
}

/* MIME_MAX_DEPTH levels of nesting and MIME_MAX_PARTS entities. */
static void test_limits(void **state)
{
    (void)state;
    static char buf[16384];
    struct mime_tree *t = mime_new();
    size_t n = 0;
    for (int d = 0; d < 10; d++)
        n += (size_t)sprintf(buf + n, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", d, d);
    n += (size_t)sprintf(buf + n, "\r\ndeep\r\n");
    for (int d = 9; d >= 0; d--) n += (size_t)sprintf(buf + n, "--b%d--\r\n", d);
    assert_int_equal(mime_parse(t, buf, n), MIME_ERR_TOO_DEEP);
    assert_int_equal(mime_count(t), MIME_MAX_DEPTH);
    const struct mime_part *last = mime_part(t, MIME_MAX_DEPTH - 1);
    assert_int_equal(last->depth, MIME_MAX_DEPTH - 1);
    assert_string_equal(last->section, "1.1.1.1.1.1.1");
    assert_string_equal(last->ctype.type, "application");
    assert_int_equal(last->kind, MIME_KIND_SINGLE);
    assert_int_equal(last->problem, MIME_ERR_TOO_DEEP);

    n = (size_t)sprintf(buf, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
    for (int i = 0; i < 70; i++) n += (size_t)sprintf(buf + n, "--b\r\n\r\np%d\r\n", i);
    n += (size_t)sprintf(buf + n, "--b--\r\n");
    assert_int_equal(mime_parse(t, buf, n), MIME_ERR_TOO_MANY_PARTS);
    assert_int_equal(mime_count(t), MIME_MAX_PARTS);
    assert_int_equal(mime_part(t, 0)->n_children, MIME_MAX_PARTS - 1);
    assert_string_equal(mime_part(t, MIME_MAX_PARTS - 1)->section, "63");
    const struct mime_part *p = mime_part(t, MIME_MAX_PARTS - 1);
    assert_bytes("p62", buf + p->body_off, p->body_len);

    /* a parse replaces what the tree held */
    assert_int_equal(mime_parse(t, "\r\nx", 3), MIME_OK);
    assert_int_equal(mime_count(t), 1);
    mime_free(t);
}

/* Seeded noise built from structural fragments: whatever the nesting,
 * the tree stays consistent and inside the buffer. Fixed seed. */
static uint32_t noise(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void test_noise(void **state)
{
    (void)state;
    static const char *const frags[] = {
        "Content-Type: multipart/mixed; boundary=b\r\n", "Content-Type: multipart/digest; boundary=c\r\n",
        "Content-Type: message/rfc822\r\n", "Content-Transfer-Encoding: base64\r\n", "--b\r\n", "--b--\r\n",
        "--c\r\n", "--c--\r\n", "\r\n", "\n", "x\r\n", "Subject: s\r\n", "no colon\r\n", " fold\r\n",
        "Content-Type: text/plain; charset=\"utf", "--b", "\r",
    };
    struct mime_tree *t = mime_new();
    assert_non_null(t);
    uint32_t seed = 2046;
    for (int round = 0; round < 4000; round++) {
        char buf[1200];
        size_t n = 0, parts = noise(&seed) % 40;
        for (size_t k = 0; k < parts; k++) {
            const char *f = frags[noise(&seed) % N_ELEM(frags)];
            size_t fl = strlen(f);
            if (n + fl < sizeof buf) {
                memcpy(buf + n, f, fl);
                n += fl;
            }
        }
        char *p = dup_exact(buf, n);
        assert_true(mime_parse(t, p, n) < MIME_ERR_COUNT);
        check_tree(t, n);
        free(p);
    }
    mime_free(t);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mime_kind_name(MIME_KIND_SINGLE), "SINGLE");
    assert_string_equal(mime_kind_name(MIME_KIND_MULTIPART), "MULTIPART");
    assert_string_equal(mime_kind_name(MIME_KIND_MESSAGE), "MESSAGE");
    assert_string_equal(mime_kind_name(MIME_KIND_COUNT), "?");
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(mime_strerror(MIME_OK), "MIME_OK");
    assert_string_equal(mime_strerror(MIME_ERR_NO_CLOSE), "MIME_ERR_NO_CLOSE");
    assert_string_equal(mime_strerror(MIME_ERR_COUNT), "?");
    for (int e = 0; e < MIME_ERR_COUNT; e++) assert_string_not_equal(mime_strerror((enum mime_err)e), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctype),
        cmocka_unit_test(test_ctype_limits),
        cmocka_unit_test(test_disposition),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_walk_truncations),
        cmocka_unit_test(test_part_fields),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
