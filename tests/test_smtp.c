/* The SMTP wire codec: command lines, replies, the error replies, the
 * explanations. Every command is framed by a linebuf fed whole and byte by
 * byte, the way a server session reads it. */
#include "tests/testkit.h"

#include "protocols/linebuf.h"
#include "protocols/smtp.h"

#include <inttypes.h>
#include <stdio.h>

/* ---- helpers ------------------------------------------------------------- */

/* Frames in[0..n) (one line with its CRLF) with a command-sized linebuf, fed
 * in the given mode, and parses the one line it gives. An overlong line is
 * SMTP_ERR_LINE_TOO_LONG, as a session maps LINEBUF_TOO_LONG. */
static int parse_framed(const char *in, size_t n, enum feed_mode mode, struct smtp_command *cmd)
{
    char storage[SMTP_COMMAND_LINE_MAX];
    struct linebuf lb;
    linebuf_init(&lb, storage, sizeof storage);
    size_t off = 0;
    int result = 1; /* no line yet */
    while (result == 1) {
        off += linebuf_feed(&lb, in + off, feed_chunk(mode, n - off));
        const char *line;
        size_t len;
        bool bare;
        enum linebuf_status st = linebuf_next(&lb, &line, &len, &bare);
        if (st == LINEBUF_LINE) result = smtp_parse_command(line, len, cmd);
        else if (st == LINEBUF_TOO_LONG) result = SMTP_ERR_LINE_TOO_LONG;
        else if (off == n) fail_msg("no complete line in input");
    }
    return result;
}

/* Parses line (no CRLF) both ways and checks both agree; returns the result. */
static int parse_both(const char *line, size_t len, struct smtp_command *cmd)
{
    char buf[2048];
    assert_true(len + 2 <= sizeof buf);
    memcpy(buf, line, len);
    memcpy(buf + len, "\r\n", 2);
    struct smtp_command whole, bytewise;
    memset(&whole, 0, sizeof whole);
    memset(&bytewise, 0, sizeof bytewise);
    int a = parse_framed(buf, len + 2, FEED_WHOLE, &whole);
    int b = parse_framed(buf, len + 2, FEED_BYTEWISE, &bytewise);
    assert_int_equal(a, b);
    if (a != SMTP_ERR_LINE_TOO_LONG) assert_memory_equal(&whole, &bytewise, sizeof whole);
    *cmd = whole;
    return a;
}

static void assert_same_command(const struct smtp_command *a, const struct smtp_command *b,
                                const char *name)
{
    if (a->verb != b->verb || strcmp(a->domain, b->domain) != 0 ||
        strcmp(a->path, b->path) != 0 || a->local_len != b->local_len ||
        a->null_path != b->null_path || a->postmaster != b->postmaster ||
        a->has_size != b->has_size || a->size != b->size || a->body != b->body ||
        strcmp(a->arg, b->arg) != 0 || a->mech != b->mech ||
        a->has_initial != b->has_initial || strcmp(a->initial, b->initial) != 0)
        fail_msg("%s: commands differ", name);
}

/* ---- good commands: parse, check fields, format, parse again ------------- */

static const struct {
    const char *name, *line;
    enum smtp_verb verb;
    const char *domain, *path;
    size_t local_len;
    bool null_path, postmaster, has_size;
    uint64_t size;
    enum smtp_body body;
    const char *arg;
    enum smtp_auth_mech mech;
    bool has_initial;
    const char *initial;
    const char *canonical; /* what smtp_format_command writes back */
} good[] = {
    {"HELO domain", "HELO client.example.com", SMTP_HELO, "client.example.com", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "HELO client.example.com\r\n"},
    {"ehlo lower case", "ehlo mail.example.org", SMTP_EHLO, "mail.example.org", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO mail.example.org\r\n"},
    {"EHLO single label", "EHLO localhost", SMTP_EHLO, "localhost", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO localhost\r\n"},
    {"EHLO IPv4 literal", "EHLO [192.0.2.1]", SMTP_EHLO, "[192.0.2.1]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [192.0.2.1]\r\n"},
    {"EHLO IPv6 literal", "EHLO [IPv6:2001:db8::1]", SMTP_EHLO, "[IPv6:2001:db8::1]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [IPv6:2001:db8::1]\r\n"},
    {"EHLO IPv6 full", "EHLO [IPv6:2001:db8:0:0:0:0:0:1]", SMTP_EHLO, "[IPv6:2001:db8:0:0:0:0:0:1]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [IPv6:2001:db8:0:0:0:0:0:1]\r\n"},
    {"EHLO IPv6 v4 tail", "EHLO [IPv6:::ffff:192.0.2.1]", SMTP_EHLO, "[IPv6:::ffff:192.0.2.1]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [IPv6:::ffff:192.0.2.1]\r\n"},
    {"EHLO general literal", "EHLO [x-tag:abc]", SMTP_EHLO, "[x-tag:abc]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [x-tag:abc]\r\n"},
    {"EHLO trailing space", "EHLO a.example ", SMTP_EHLO, "a.example", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO a.example\r\n"},
    {"MAIL null path", "MAIL FROM:<>", SMTP_MAIL, "", "", 0, 1, 0, 0, 0, 0, "", 0, 0, "", "MAIL FROM:<>\r\n"},
    {"MAIL plain", "MAIL FROM:<alice@example.com>", SMTP_MAIL, "", "alice@example.com", 5, 0, 0, 0, 0, 0, "", 0, 0, "", "MAIL FROM:<alice@example.com>\r\n"},
    {"MAIL params any case", "mail from:<alice@example.com> size=1024 body=8bitmime", SMTP_MAIL, "", "alice@example.com", 5, 0, 0, 1, 1024, SMTP_BODY_8BITMIME, "", 0, 0, "", "MAIL FROM:<alice@example.com> SIZE=1024 BODY=8BITMIME\r\n"},
    {"MAIL space before <", "MAIL FROM: <alice@example.com>", SMTP_MAIL, "", "alice@example.com", 5, 0, 0, 0, 0, 0, "", 0, 0, "", "MAIL FROM:<alice@example.com>\r\n"},
    {"MAIL spaces between params", "MAIL FROM:<a@example.com>  SIZE=0  BODY=7BIT  ", SMTP_MAIL, "", "a@example.com", 1, 0, 0, 1, 0, SMTP_BODY_7BIT, "", 0, 0, "", "MAIL FROM:<a@example.com> SIZE=0 BODY=7BIT\r\n"},
    {"MAIL SIZE 20 nines saturates", "MAIL FROM:<a@example.com> SIZE=99999999999999999999", SMTP_MAIL, "", "a@example.com", 1, 0, 0, 1, UINT64_MAX, 0, "", 0, 0, "", "MAIL FROM:<a@example.com> SIZE=18446744073709551615\r\n"},
    {"MAIL null path with SIZE", "MAIL FROM:<> SIZE=500", SMTP_MAIL, "", "", 0, 1, 0, 1, 500, 0, "", 0, 0, "", "MAIL FROM:<> SIZE=500\r\n"},
    {"RCPT quoted local part", "RCPT TO:<\"john smith\"@example.com>", SMTP_RCPT, "", "\"john smith\"@example.com", 12, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<\"john smith\"@example.com>\r\n"},
    {"RCPT quoted pair", "RCPT TO:<\"a\\\"b\"@example.com>", SMTP_RCPT, "", "\"a\\\"b\"@example.com", 6, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<\"a\\\"b\"@example.com>\r\n"},
    {"RCPT Postmaster", "RCPT TO:<Postmaster>", SMTP_RCPT, "", "Postmaster", 10, 0, 1, 0, 0, 0, "", 0, 0, "", "RCPT TO:<Postmaster>\r\n"},
    {"RCPT postmaster any case", "rcpt to:<POSTMASTER>", SMTP_RCPT, "", "POSTMASTER", 10, 0, 1, 0, 0, 0, "", 0, 0, "", "RCPT TO:<POSTMASTER>\r\n"},
    {"RCPT postmaster@domain", "RCPT TO:<postmaster@example.com>", SMTP_RCPT, "", "postmaster@example.com", 10, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<postmaster@example.com>\r\n"},
    {"RCPT source route dropped", "RCPT TO:<@relay.example.org,@b.example:bob@example.net>", SMTP_RCPT, "", "bob@example.net", 3, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<bob@example.net>\r\n"},
    {"RCPT address literal", "RCPT TO:<bob@[192.0.2.7]>", SMTP_RCPT, "", "bob@[192.0.2.7]", 3, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<bob@[192.0.2.7]>\r\n"},
    {"RCPT atext and dots", "RCPT TO:<first.last+tag@sub.example.com>", SMTP_RCPT, "", "first.last+tag@sub.example.com", 14, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<first.last+tag@sub.example.com>\r\n"},
    {"DATA", "DATA", SMTP_DATA, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "DATA\r\n"},
    {"data lower case", "data", SMTP_DATA, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "DATA\r\n"},
    {"RSET", "RSET", SMTP_RSET, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "RSET\r\n"},
    {"QUIT trailing space", "QUIT ", SMTP_QUIT, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "QUIT\r\n"},
    {"NOOP", "NOOP", SMTP_NOOP, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "NOOP\r\n"},
    {"NOOP with string", "NOOP hello there", SMTP_NOOP, "", "", 0, 0, 0, 0, 0, 0, "hello there", 0, 0, "", "NOOP hello there\r\n"},
    {"HELP", "HELP", SMTP_HELP, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "HELP\r\n"},
    {"HELP topic", "HELP MAIL", SMTP_HELP, "", "", 0, 0, 0, 0, 0, 0, "MAIL", 0, 0, "", "HELP MAIL\r\n"},
    {"VRFY", "VRFY bob", SMTP_VRFY, "", "", 0, 0, 0, 0, 0, 0, "bob", 0, 0, "", "VRFY bob\r\n"},
    {"EXPN", "EXPN staff", SMTP_EXPN, "", "", 0, 0, 0, 0, 0, 0, "staff", 0, 0, "", "EXPN staff\r\n"},
    {"STARTTLS", "starttls", SMTP_STARTTLS, "", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "STARTTLS\r\n"},
    {"AUTH PLAIN no initial", "AUTH PLAIN", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_PLAIN, 0, "", "AUTH PLAIN\r\n"},
    {"AUTH plain with initial", "AUTH plain AHRpbQB0YW5zdGFhZnRhbnN0YWFm", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_PLAIN, 1, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"},
    {"AUTH LOGIN empty initial", "AUTH LOGIN =", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_LOGIN, 1, "", "AUTH LOGIN =\r\n"},
    {"auth login user", "auth login dGlt", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_LOGIN, 1, "dGlt", "AUTH LOGIN dGlt\r\n"},
    /* Lines captured from real clients (Python 3.11 smtplib, curl 7.88). */
    {"smtplib ehlo literal", "ehlo [127.0.0.1]", SMTP_EHLO, "[127.0.0.1]", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO [127.0.0.1]\r\n"},
    {"smtplib AUTH PLAIN", "AUTH PLAIN AHRpbQB0YW5zdGFhZg==", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_PLAIN, 1, "AHRpbQB0YW5zdGFhZg==", "AUTH PLAIN AHRpbQB0YW5zdGFhZg==\r\n"},
    {"smtplib mail", "mail FROM:<alice@example.com> size=18 BODY=8BITMIME", SMTP_MAIL, "", "alice@example.com", 5, 0, 0, 1, 18, SMTP_BODY_8BITMIME, "", 0, 0, "", "MAIL FROM:<alice@example.com> SIZE=18 BODY=8BITMIME\r\n"},
    {"smtplib rcpt quoted", "rcpt TO:<\"john smith\"@example.net>", SMTP_RCPT, "", "\"john smith\"@example.net", 12, 0, 0, 0, 0, 0, "", 0, 0, "", "RCPT TO:<\"john smith\"@example.net>\r\n"},
    {"smtplib vrfy", "vrfy bob", SMTP_VRFY, "", "", 0, 0, 0, 0, 0, 0, "bob", 0, 0, "", "VRFY bob\r\n"},
    {"curl AUTH LOGIN", "AUTH LOGIN", SMTP_AUTH, "", "", 0, 0, 0, 0, 0, 0, "", SMTP_AUTH_LOGIN, 0, "", "AUTH LOGIN\r\n"},
    {"curl EHLO", "EHLO client.example.com", SMTP_EHLO, "client.example.com", "", 0, 0, 0, 0, 0, 0, "", 0, 0, "", "EHLO client.example.com\r\n"},
};

static void test_good_commands_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct smtp_command c;
        int err = parse_both(good[i].line, strlen(good[i].line), &c);
        if (err) fail_msg("%s: %s", good[i].name, smtp_strerror(err));
        struct smtp_command want;
        memset(&want, 0, sizeof want);
        want.verb = good[i].verb;
        strcpy(want.domain, good[i].domain);
        strcpy(want.path, good[i].path);
        want.local_len = good[i].local_len;
        want.null_path = good[i].null_path;
        want.postmaster = good[i].postmaster;
        want.has_size = good[i].has_size;
        want.size = good[i].size;
        want.body = good[i].body;
        strcpy(want.arg, good[i].arg);
        want.mech = good[i].mech;
        want.has_initial = good[i].has_initial;
        strcpy(want.initial, good[i].initial);
        assert_same_command(&c, &want, good[i].name);

        char buf[SMTP_COMMAND_LINE_MAX + 1];
        int n = smtp_format_command(&c, buf, sizeof buf);
        if (n < 0) fail_msg("%s: format: %s", good[i].name, smtp_strerror(n));
        assert_bytes(good[i].canonical, buf, (size_t)n);
        struct smtp_command again;
        assert_int_equal(parse_both(buf, (size_t)n - 2, &again), 0);
        assert_same_command(&again, &c, good[i].name);
    }
}

/* ---- bad commands: exact error, reply code and enhanced code ------------- */

static const struct {
    const char *name, *line;
    size_t len; /* 0: strlen(line) */
    int err, code;
    const char *enh;
} bad[] = {
    {"empty line", "", 0, SMTP_ERR_UNKNOWN_VERB, 500, "5.5.1"},
    {"unknown verb", "XYZZY", 0, SMTP_ERR_UNKNOWN_VERB, 500, "5.5.1"},
    {"verb glued to argument", "MAILFROM:<a@example.com>", 0, SMTP_ERR_UNKNOWN_VERB, 500, "5.5.1"},
    {"leading space", " HELO a.example", 0, SMTP_ERR_UNKNOWN_VERB, 500, "5.5.1"},
    {"tab separator", "HELO\ta.example", 0, SMTP_ERR_UNKNOWN_VERB, 500, "5.5.1"},
    {"HELO without domain", "HELO", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"EHLO without domain", "EHLO ", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"EHLO two words", "EHLO exa mple.com", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO unclosed literal", "EHLO [192.0.2.1", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO short IPv6", "EHLO [IPv6:1:2:3]", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO IPv6 two ::", "EHLO [IPv6:1::2::3]", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO underscore", "EHLO under_score.example", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO trailing dot", "EHLO example.com.", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"EHLO double space", "EHLO  a.example", 0, SMTP_ERR_BAD_DOMAIN, 501, "5.5.4"},
    {"MAIL FROM: nothing", "MAIL FROM:", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"MAIL no FROM:", "MAIL <a@example.com>", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"MAIL FROM without colon", "MAIL FROM <a@example.com>", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"MAIL TO: instead of FROM:", "MAIL TO:<a@example.com>", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"MAIL without brackets", "MAIL FROM:a@example.com", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL unterminated <", "MAIL FROM:<a@example.com", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL empty atom", "MAIL FROM:<a..b@example.com>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL leading dot", "MAIL FROM:<.a@example.com>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL empty label", "MAIL FROM:<a@example..com>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL label starts with -", "MAIL FROM:<a@-example.com>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL label ends with -", "MAIL FROM:<a@example-.com>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL IPv4 octet 300", "MAIL FROM:<a@[300.1.1.1]>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL IPv4 three parts", "MAIL FROM:<a@[1.2.3]>", 0, SMTP_ERR_BAD_SENDER, 501, "5.1.7"},
    {"MAIL junk after >", "MAIL FROM:<a@example.com>SIZE=1", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"MAIL SIZE=abc", "MAIL FROM:<a@example.com> SIZE=abc", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE= empty", "MAIL FROM:<a@example.com> SIZE=", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE no value", "MAIL FROM:<a@example.com> SIZE", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE twice", "MAIL FROM:<a@example.com> SIZE=1 SIZE=2", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE 21 digits", "MAIL FROM:<a@example.com> SIZE=123456789012345678901", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE negative", "MAIL FROM:<a@example.com> SIZE=-1", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL SIZE=1=2", "MAIL FROM:<a@example.com> SIZE=1=2", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL BODY=BINARYMIME", "MAIL FROM:<a@example.com> BODY=BINARYMIME", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL BODY twice", "MAIL FROM:<a@example.com> BODY=8BITMIME BODY=7BIT", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL keyword starts with -", "MAIL FROM:<a@example.com> -X=1", 0, SMTP_ERR_BAD_PARAM, 501, "5.5.4"},
    {"MAIL unknown FOO=1", "MAIL FROM:<a@example.com> FOO=1", 0, SMTP_ERR_UNKNOWN_PARAM, 555, "5.5.4"},
    {"MAIL unknown SMTPUTF8", "MAIL FROM:<a@example.com> SMTPUTF8", 0, SMTP_ERR_UNKNOWN_PARAM, 555, "5.5.4"},
    {"MAIL NUL byte", "MAIL FROM:<a@example.com>\0", 26, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"RCPT null path", "RCPT TO:<>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT quoted not closed", "RCPT TO:<\"john smith@example.com>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT space in local part", "RCPT TO:<a b@example.com>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT route without colon", "RCPT TO:<@relay.example.org>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT empty domain", "RCPT TO:<a@>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT no domain", "RCPT TO:<alice>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT quoted control char", "RCPT TO:<\"a\x01\"@example.com>", 0, SMTP_ERR_BAD_RECIPIENT, 501, "5.1.3"},
    {"RCPT unknown NOTIFY", "RCPT TO:<a@example.com> NOTIFY=NEVER", 0, SMTP_ERR_UNKNOWN_PARAM, 555, "5.5.4"},
    {"RCPT SIZE not for RCPT", "RCPT TO:<a@example.com> SIZE=1", 0, SMTP_ERR_UNKNOWN_PARAM, 555, "5.5.4"},
    {"RCPT FROM: instead of TO:", "RCPT FROM:<a@example.com>", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"DATA extra", "DATA extra", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"RSET extra", "RSET x", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"QUIT extra", "QUIT now", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"STARTTLS extra", "STARTTLS x", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"VRFY without argument", "VRFY", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"EXPN without argument", "EXPN ", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"NOOP with bare CR", "NOOP a\rb", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"AUTH without mechanism", "AUTH", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"AUTH unknown mechanism", "AUTH CRAM-MD5", 0, SMTP_ERR_AUTH_MECH, 504, "5.5.4"},
    {"AUTH mechanism over 20", "AUTH THIS-MECHANISM-IS-TOO-LONG", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"AUTH bad mechanism char", "AUTH PL@IN", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
    {"AUTH initial not base64", "AUTH PLAIN !!!!", 0, SMTP_ERR_AUTH_BASE64, 501, "5.5.2"},
    {"AUTH initial unpadded", "AUTH PLAIN AHRpbQ", 0, SMTP_ERR_AUTH_BASE64, 501, "5.5.2"},
    {"AUTH two arguments", "AUTH PLAIN dGlt dGlt", 0, SMTP_ERR_SYNTAX, 501, "5.5.4"},
};

static void test_bad_commands(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].line);
        struct smtp_command c;
        int err = parse_both(bad[i].line, len, &c);
        if (err != bad[i].err)
            fail_msg("%s: got %d (%s), want %d (%s)", bad[i].name, err, smtp_strerror(err),
                     bad[i].err, smtp_strerror(bad[i].err));
        const struct smtp_canned_reply *r = smtp_error_reply(err);
        if (r->code != bad[i].code || strcmp(r->enhanced, bad[i].enh) != 0)
            fail_msg("%s: reply %d %s, want %d %s", bad[i].name, r->code, r->enhanced,
                     bad[i].code, bad[i].enh);
    }
}

/* ---- limits (RFC 5321 4.5.3.1): the last good size and the first bad ----- */

static void repeat(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    dst[n] = '\0';
}

/* A domain of exactly n octets: labels of 63 separated by dots. */
static void make_domain(char *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (i % 64 == 63) ? '.' : 'd';
    if (dst[n - 1] == '.') dst[n - 1] = 'd';
    dst[n] = '\0';
}

static void test_limits(void **state)
{
    (void)state;
    char line[1200], local[100], domain[300];
    struct smtp_command c;

    /* Local part: 64 fine, 65 too long (4.5.3.1.1). */
    repeat(local, 'l', 64);
    snprintf(line, sizeof line, "RCPT TO:<%s@example.com>", local);
    assert_int_equal(parse_both(line, strlen(line), &c), 0);
    assert_int_equal(c.local_len, 64);
    repeat(local, 'l', 65);
    snprintf(line, sizeof line, "RCPT TO:<%s@example.com>", local);
    assert_int_equal(parse_both(line, strlen(line), &c), SMTP_ERR_PATH_TOO_LONG);
    assert_int_equal(smtp_error_reply(SMTP_ERR_PATH_TOO_LONG)->code, 501);
    assert_string_equal(smtp_error_reply(SMTP_ERR_PATH_TOO_LONG)->enhanced, "5.1.3");

    /* Path: 256 octets with the brackets fine, 257 too long (4.5.3.1.3). */
    repeat(local, 'l', 10);
    make_domain(domain, 256 - 2 - 11);
    snprintf(line, sizeof line, "MAIL FROM:<%s@%s>", local, domain);
    assert_int_equal(parse_both(line, strlen(line), &c), 0);
    assert_int_equal(strlen(c.path), 254);
    make_domain(domain, 257 - 2 - 11);
    snprintf(line, sizeof line, "MAIL FROM:<%s@%s>", local, domain);
    assert_int_equal(parse_both(line, strlen(line), &c), SMTP_ERR_PATH_TOO_LONG);

    /* Domain: 255 in EHLO fine, 256 not (4.5.3.1.2); a label of 64 not. */
    make_domain(domain, 255);
    snprintf(line, sizeof line, "EHLO %s", domain);
    assert_int_equal(parse_both(line, strlen(line), &c), 0);
    make_domain(domain, 256);
    snprintf(line, sizeof line, "EHLO %s", domain);
    assert_int_equal(parse_both(line, strlen(line), &c), SMTP_ERR_BAD_DOMAIN);
    repeat(domain, 'd', 64);
    snprintf(line, sizeof line, "EHLO %s", domain);
    assert_int_equal(parse_both(line, strlen(line), &c), SMTP_ERR_BAD_DOMAIN);

    /* Command line: 510 + CRLF = 512 fine, 511 + CRLF too long (4.5.3.1.4). */
    memcpy(line, "NOOP ", 5);
    repeat(line + 5, 'n', 505);
    assert_int_equal(parse_both(line, 510, &c), 0);
    assert_int_equal(strlen(c.arg), 505);
    repeat(line + 5, 'n', 506);
    assert_int_equal(parse_both(line, 511, &c), SMTP_ERR_LINE_TOO_LONG);
    assert_int_equal(smtp_parse_command(line, 511, &c), SMTP_ERR_LINE_TOO_LONG);
    assert_int_equal(smtp_error_reply(SMTP_ERR_LINE_TOO_LONG)->code, 500);
    assert_string_equal(smtp_error_reply(SMTP_ERR_LINE_TOO_LONG)->enhanced, "5.5.6");
}

/* ---- formatting commands ------------------------------------------------- */

static void test_format_command_refuses_bad_structs(void **state)
{
    (void)state;
    char buf[SMTP_COMMAND_LINE_MAX + 1];
    struct smtp_command c;

    memset(&c, 0, sizeof c);
    c.verb = SMTP_HELO; /* empty domain */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_MAIL;
    strcpy(c.path, "a@example.com>\r\nRSET\r\nMAIL FROM:<b@example.com");
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_RCPT;
    c.null_path = true; /* RCPT TO:<> is not a command */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_RCPT;
    strcpy(c.path, "a@example.com");
    c.has_size = true; /* SIZE is a MAIL parameter */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_VRFY; /* VRFY needs its string */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_NOOP;
    repeat(c.arg, 'n', 506); /* 511 octets before CRLF */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_AUTH;
    c.has_initial = true;
    strcpy(c.initial, "not base64");
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_VERB_COUNT;
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    memset(&c, 0, sizeof c);
    c.verb = SMTP_MAIL;
    memset(c.path, 'a', sizeof c.path); /* no NUL anywhere */
    assert_int_equal(smtp_format_command(&c, buf, sizeof buf), SMTP_ERR_INVALID);

    /* Too small a buffer: "QUIT\r\n" needs 7 with the NUL. */
    memset(&c, 0, sizeof c);
    c.verb = SMTP_QUIT;
    assert_int_equal(smtp_format_command(&c, buf, 6), SMTP_ERR_NO_SPACE);
    assert_int_equal(smtp_format_command(&c, buf, 7), 6);
    assert_string_equal(buf, "QUIT\r\n");
}

/* ---- AUTH responses after 334 -------------------------------------------- */

static void test_auth_response(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(smtp_parse_auth_response("dGlt", 4, out, sizeof out), 3);
    assert_memory_equal(out, "tim", 3);
    assert_int_equal(smtp_parse_auth_response("", 0, out, sizeof out), 0);
    assert_int_equal(smtp_parse_auth_response("=", 1, out, sizeof out), 0);
    assert_int_equal(smtp_parse_auth_response("*", 1, out, sizeof out), SMTP_ERR_AUTH_CANCELLED);
    assert_int_equal(smtp_error_reply(SMTP_ERR_AUTH_CANCELLED)->code, 501);
    assert_string_equal(smtp_error_reply(SMTP_ERR_AUTH_CANCELLED)->enhanced, "5.0.0");
    assert_int_equal(smtp_parse_auth_response("dGlt!", 5, out, sizeof out), SMTP_ERR_AUTH_BASE64);
    assert_int_equal(smtp_parse_auth_response("dGl", 3, out, sizeof out), SMTP_ERR_AUTH_BASE64);
    assert_int_equal(smtp_parse_auth_response("dGlt", 4, out, 2), SMTP_ERR_NO_SPACE);
    /* curl's AUTH LOGIN password and AUTH PLAIN response lines. */
    assert_int_equal(smtp_parse_auth_response("cHc=", 4, out, sizeof out), 2);
    assert_memory_equal(out, "pw", 2);
    assert_int_equal(smtp_parse_auth_response("AHRpbQBwdw==", 12, out, sizeof out), 7);
    assert_memory_equal(out, "\0tim\0pw", 7);
}

/* ---- reply lines ---------------------------------------------------------- */

static const struct {
    const char *name, *line;
    int err, code;
    bool last;
    int c, s, d;
    const char *text;
} reply_lines[] = {
    {"simple", "250 OK", 0, 250, true, 0, 0, 0, "OK"},
    {"continuation", "250-PIPELINING", 0, 250, false, 0, 0, 0, "PIPELINING"},
    {"enhanced", "250 2.1.0 Sender ok", 0, 250, true, 2, 1, 0, "Sender ok"},
    {"enhanced three digits", "550 5.7.26 DMARC", 0, 550, true, 5, 7, 26, "DMARC"},
    {"enhanced alone", "221 2.0.0", 0, 221, true, 2, 0, 0, ""},
    {"enhanced wrong class is text", "250 5.1.0 odd", 0, 250, true, 0, 0, 0, "5.1.0 odd"},
    {"enhanced glued is text", "250 2.1.0x", 0, 250, true, 0, 0, 0, "2.1.0x"},
    {"four digit subject is text", "250 2.1000.0 x", 0, 250, true, 0, 0, 0, "2.1000.0 x"},
    {"3xx has no enhanced code", "354 3.0.0 go", 0, 354, true, 0, 0, 0, "3.0.0 go"},
    {"code alone", "220", 0, 220, true, 0, 0, 0, ""},
    {"code and dash", "250-", 0, 250, false, 0, 0, 0, ""},
    {"code and space", "250 ", 0, 250, true, 0, 0, 0, ""},
    {"two digits", "25 OK", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"four digits", "2500 OK", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"first digit 1", "199 x", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"first digit 6", "650 x", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"second digit 6", "260 x", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"letters", "abc def", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"empty", "", SMTP_ERR_REPLY_CODE, 0, 0, 0, 0, 0, ""},
    {"bad separator", "250_OK", SMTP_ERR_REPLY_SYNTAX, 0, 0, 0, 0, 0, ""},
    {"letter after code", "250x", SMTP_ERR_REPLY_SYNTAX, 0, 0, 0, 0, 0, ""},
};

static void test_reply_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reply_lines / sizeof reply_lines[0]; i++) {
        struct smtp_reply_line rl;
        int err = smtp_parse_reply_line(reply_lines[i].line, strlen(reply_lines[i].line), &rl);
        if (err != reply_lines[i].err)
            fail_msg("%s: got %s, want %s", reply_lines[i].name, smtp_strerror(err),
                     smtp_strerror(reply_lines[i].err));
        if (err) continue;
        if (rl.code != reply_lines[i].code || rl.last != reply_lines[i].last ||
            rl.enh_class != reply_lines[i].c || rl.enh_subject != reply_lines[i].s ||
            rl.enh_detail != reply_lines[i].d)
            fail_msg("%s: fields differ", reply_lines[i].name);
        assert_bytes(reply_lines[i].text, rl.text, rl.text_len);
    }
    struct smtp_reply_line rl;
    assert_int_equal(smtp_parse_reply_line("250 a\0b", 7, &rl), SMTP_ERR_REPLY_SYNTAX);
    char big[600];
    memcpy(big, "250 ", 4);
    memset(big + 4, 'x', sizeof big - 4);
    assert_int_equal(smtp_parse_reply_line(big, 510, &rl), 0);
    assert_int_equal(smtp_parse_reply_line(big, 511, &rl), SMTP_ERR_REPLY_TOO_LONG);
}

/* ---- the reply reader ----------------------------------------------------- */

/* Feeds in (whole or bytewise) and writes each reply as
 * "CODE[c.s.d]{line|line}" and an error as "!NAME", stopping at an error. */
static void read_replies(const char *in, size_t n, enum feed_mode mode, char *out, size_t cap)
{
    static struct smtp_reply_reader r; /* 16 KB: kept off the stack */
    smtp_reply_reader_init(&r);
    size_t off = 0, o = 0;
    out[0] = '\0';
    for (;;) {
        off += smtp_reply_reader_feed(&r, in + off, feed_chunk(mode, n - off));
        const struct smtp_reply *rp;
        int ev;
        while ((ev = smtp_reply_reader_next(&r, &rp)) == SMTP_REPLY_READY) {
            o += (size_t)snprintf(out + o, cap - o, "%d", rp->code);
            if (rp->enh_class)
                o += (size_t)snprintf(out + o, cap - o, "[%d.%d.%d]", rp->enh_class,
                                      rp->enh_subject, rp->enh_detail);
            o += (size_t)snprintf(out + o, cap - o, "{");
            for (size_t i = 0; i < rp->nlines; i++)
                o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "|" : "", rp->lines[i]);
            o += (size_t)snprintf(out + o, cap - o, "}");
        }
        if (ev < 0) {
            o += (size_t)snprintf(out + o, cap - o, "!%s", smtp_strerror(ev));
            /* Sticky: more bytes, even good ones, change nothing. */
            assert_int_equal(smtp_reply_reader_feed(&r, "250 OK\r\n", 8), 8);
            assert_int_equal(smtp_reply_reader_next(&r, &rp), ev);
            return;
        }
        if (off == n) return;
    }
}

static const struct {
    const char *name, *in, *want;
} replies[] = {
    {"one line", "250 OK\r\n", "250{OK}"},
    {"greeting", "220 mail.example.com ESMTP mailsim\r\n", "220{mail.example.com ESMTP mailsim}"},
    {"EHLO multi-line", "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
     "250{mail.example.com|PIPELINING|SIZE 10240000|8BITMIME}"},
    {"enhanced on each line", "550-5.1.1 no such user\r\n550 5.1.1 see you\r\n", "550[5.1.1]{no such user|see you}"},
    {"two replies in one read", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", "250[2.1.0]{Ok}250[2.1.5]{Ok}"},
    {"partial reply held", "250-a\r\n250-b\r\n", ""},
    {"partial line held", "250 O", ""},
    {"bare LF accepted", "221 2.0.0 Bye\n", "221[2.0.0]{Bye}"},
    {"RFC 5321 4.2.1 example", "250-First line\r\n250-Second line\r\n250-234 Text beginning with numbers\r\n250 The last line\r\n",
     "250{First line|Second line|234 Text beginning with numbers|The last line}"},
    {"354 go ahead", "354 End data with <CR><LF>.<CR><LF>\r\n", "354{End data with <CR><LF>.<CR><LF>}"},
    {"bad: two-digit code", "25 OK\r\n", "!bad reply code"},
    {"bad: four-digit code", "2500 OK\r\n", "!bad reply code"},
    {"bad: codes differ", "250-a\r\n251 b\r\n", "!reply lines with different codes"},
    {"bad: separator", "250*OK\r\n", "!bad reply line"},
    {"bad: after a good reply", "250 OK\r\n5x0 no\r\n", "250{OK}!bad reply code"},
};

static void test_reply_reader(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
        for (size_t m = 0; m < 2; m++) {
            char out[512];
            read_replies(replies[i].in, strlen(replies[i].in), modes[m], out, sizeof out);
            if (strcmp(out, replies[i].want) != 0)
                fail_msg("%s (%s): got %s, want %s", replies[i].name, m ? "bytewise" : "whole",
                         out, replies[i].want);
        }
    }
}

static void test_reply_reader_limits(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    static char in[64 * 16];
    char out[4096];
    for (size_t m = 0; m < 2; m++) {
        /* 32 lines fine, 33 too many. */
        size_t n = 0;
        for (int i = 0; i < 31; i++) n += (size_t)sprintf(in + n, "250-l%d\r\n", i);
        n += (size_t)sprintf(in + n, "250 end\r\n");
        read_replies(in, n, modes[m], out, sizeof out);
        assert_int_equal(strncmp(out, "250{l0|l1|", 10), 0);
        assert_non_null(strstr(out, "|l30|end}"));
        n = 0;
        for (int i = 0; i < 32; i++) n += (size_t)sprintf(in + n, "250-l%d\r\n", i);
        n += (size_t)sprintf(in + n, "250 end\r\n");
        read_replies(in, n, modes[m], out, sizeof out);
        assert_string_equal(out, "!too many reply lines");

        /* 512 with CRLF fine, 513 too long. */
        memcpy(in, "250 ", 4);
        memset(in + 4, 'x', 506);
        memcpy(in + 510, "\r\n", 2);
        read_replies(in, 512, modes[m], out, sizeof out);
        assert_int_equal(strlen(out), 3 + 2 + 506);
        memset(in + 4, 'x', 507);
        memcpy(in + 511, "\r\n", 2);
        read_replies(in, 513, modes[m], out, sizeof out);
        assert_string_equal(out, "!reply line too long");
    }
}

static void test_reply_reader_reset_clears_error(void **state)
{
    (void)state;
    static struct smtp_reply_reader r;
    const struct smtp_reply *rp;
    smtp_reply_reader_init(&r);
    assert_int_equal(smtp_reply_reader_feed(&r, "2x0 bad\r\n", 9), 9);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_ERR_REPLY_CODE);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_ERR_REPLY_CODE);
    smtp_reply_reader_reset(&r);
    assert_int_equal(smtp_reply_reader_feed(&r, "235 2.7.0 Authentication successful\r\n", 37), 37);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_REPLY_READY);
    assert_int_equal(rp->code, 235);
    assert_int_equal(rp->enh_subject, 7);
    assert_string_equal(rp->lines[0], "Authentication successful");
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_REPLY_NEED_MORE);
}

/* ---- formatting replies ---------------------------------------------------- */

static void test_format_reply(void **state)
{
    (void)state;
    char buf[4096];
    const char *ok[] = {"Ok"};
    const char *ehlo[] = {"mail.example.com", "PIPELINING", "SIZE 10240000"};
    const char *two[] = {"no such user", "try another"};
    const char *go[] = {"End data with <CR><LF>.<CR><LF>"};
    const char *crlf[] = {"Ok\r\nRSET"};

    assert_int_equal(smtp_format_reply(250, "2.1.0", ok, 1, buf, sizeof buf), (int)strlen("250 2.1.0 Ok\r\n"));
    assert_string_equal(buf, "250 2.1.0 Ok\r\n");
    assert_int_equal(smtp_format_reply(250, NULL, ehlo, 3, buf, sizeof buf), (int)strlen("250-mail.example.com\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n"));
    assert_string_equal(buf, "250-mail.example.com\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n");
    assert_int_equal(smtp_format_reply(550, "5.1.1", two, 2, buf, sizeof buf), (int)strlen("550-5.1.1 no such user\r\n550 5.1.1 try another\r\n"));
    assert_string_equal(buf, "550-5.1.1 no such user\r\n550 5.1.1 try another\r\n");
    assert_int_equal(smtp_format_reply(354, NULL, go, 1, buf, sizeof buf), (int)strlen("354 End data with <CR><LF>.<CR><LF>\r\n"));
    assert_string_equal(buf, "354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_int_equal(smtp_format_reply(221, "2.0.0", NULL, 0, buf, sizeof buf), (int)strlen("221 2.0.0\r\n"));
    assert_string_equal(buf, "221 2.0.0\r\n");
    assert_int_equal(smtp_format_reply(250, NULL, NULL, 0, buf, sizeof buf), (int)strlen("250 \r\n"));
    assert_string_equal(buf, "250 \r\n"); /* RFC 5321 4.2.1: SHOULD send the SP */
    const char *empty[] = {""};
    assert_int_equal(smtp_format_reply(334, NULL, empty, 1, buf, sizeof buf), 6);
    assert_string_equal(buf, "334 \r\n"); /* RFC 4954 4: "334" SP */
    const char *blank_first[] = {"", "x"};
    assert_int_equal(smtp_format_reply(250, NULL, blank_first, 2, buf, sizeof buf), 13);
    assert_string_equal(buf, "250-\r\n250 x\r\n");

    /* Refused: codes outside the grammar, enhanced codes of the wrong class
     * or on a 3xx, a CRLF in the text, too many or too long lines. */
    assert_int_equal(smtp_format_reply(199, NULL, ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(600, NULL, ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(260, NULL, ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(250, "5.1.1", ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(354, "3.0.0", ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(250, "2.1", ok, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_int_equal(smtp_format_reply(250, NULL, crlf, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    const char *many[SMTP_REPLY_LINES_MAX + 1];
    for (size_t i = 0; i <= SMTP_REPLY_LINES_MAX; i++) many[i] = "x";
    assert_int_equal(smtp_format_reply(250, NULL, many, SMTP_REPLY_LINES_MAX + 1, buf, sizeof buf), SMTP_ERR_INVALID);
    assert_true(smtp_format_reply(250, NULL, many, SMTP_REPLY_LINES_MAX, buf, sizeof buf) > 0);
    char text[600];
    repeat(text, 't', 506); /* "250 " + 506 + CRLF = 512 */
    const char *longline[] = {text};
    assert_int_equal(smtp_format_reply(250, NULL, longline, 1, buf, sizeof buf), 512);
    repeat(text, 't', 507);
    assert_int_equal(smtp_format_reply(250, NULL, longline, 1, buf, sizeof buf), SMTP_ERR_INVALID);
    /* Buffer: "250 2.1.0 Ok\r\n" needs 15 with the NUL. */
    assert_int_equal(smtp_format_reply(250, "2.1.0", ok, 1, buf, 14), SMTP_ERR_NO_SPACE);
    assert_int_equal(smtp_format_reply(250, "2.1.0", ok, 1, buf, 15), 14);
}

static void test_format_then_read_reply(void **state)
{
    (void)state;
    const char *lines[] = {"mail.example.com Hello", "SIZE 1000", "AUTH PLAIN LOGIN", "STARTTLS",
                           "ENHANCEDSTATUSCODES", "8BITMIME", "PIPELINING"};
    char buf[1024], out[1024];
    int n = smtp_format_reply(250, NULL, lines, 7, buf, sizeof buf);
    assert_true(n > 0);
    read_replies(buf, (size_t)n, FEED_BYTEWISE, out, sizeof out);
    assert_string_equal(out, "250{mail.example.com Hello|SIZE 1000|AUTH PLAIN LOGIN|STARTTLS|"
                             "ENHANCEDSTATUSCODES|8BITMIME|PIPELINING}");

    static struct smtp_reply_reader r;
    const struct smtp_reply *rp;
    smtp_reply_reader_init(&r);
    assert_int_equal(smtp_reply_reader_feed(&r, buf, (size_t)n), (size_t)n);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_REPLY_READY);
    struct smtp_ehlo e;
    assert_int_equal(smtp_parse_ehlo(rp, &e), 0);
    assert_true(e.size && e.size_max == 1000 && e.auth_plain && e.auth_login && e.starttls &&
                e.enhanced && e.eightbitmime && e.pipelining);

    /* Old "AUTH=LOGIN" form, nothing else. */
    const char *old[] = {"mx.example.net", "AUTH=LOGIN", "SIZE"};
    n = smtp_format_reply(250, NULL, old, 3, buf, sizeof buf);
    smtp_reply_reader_reset(&r);
    smtp_reply_reader_feed(&r, buf, (size_t)n);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_REPLY_READY);
    assert_int_equal(smtp_parse_ehlo(rp, &e), 0);
    assert_true(e.auth_login && !e.auth_plain && e.size && e.size_max == 0 && !e.starttls &&
                !e.pipelining);
    smtp_reply_reader_feed(&r, "550 no\r\n", 8);
    assert_int_equal(smtp_reply_reader_next(&r, &rp), SMTP_REPLY_READY);
    assert_int_equal(smtp_parse_ehlo(rp, &e), SMTP_ERR_INVALID);
}

/* ---- names, errors, explanations ------------------------------------------ */

static void test_names_and_errors(void **state)
{
    (void)state;
    assert_string_equal(smtp_verb_name(SMTP_HELO), "HELO");
    assert_string_equal(smtp_verb_name(SMTP_STARTTLS), "STARTTLS");
    assert_string_equal(smtp_verb_name(SMTP_AUTH), "AUTH");
    assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "?");
    for (int v = 0; v < SMTP_VERB_COUNT; v++) {
        struct smtp_command c;
        /* The name table is in enum order: each name parses to its verb. */
        assert_int_not_equal(smtp_parse_command(smtp_verb_names[v], strlen(smtp_verb_names[v]), &c),
                             SMTP_ERR_UNKNOWN_VERB);
        assert_int_equal(c.verb, v);
    }
    assert_string_equal(smtp_strerror(0), "ok");
    for (int e = -1; e > SMTP_ERR_COUNT_; e--)
        assert_string_not_equal(smtp_strerror(e), "unknown SMTP error");
    assert_string_equal(smtp_strerror(SMTP_ERR_COUNT_), "unknown SMTP error");
    /* Every command and DATA error has its own reply; the others none. */
    for (int e = SMTP_ERR_UNKNOWN_VERB; e >= SMTP_ERR_DATA_BARE_LF; e--)
        assert_int_not_equal(smtp_error_reply(e)->code, 451);
    assert_int_equal(smtp_error_reply(SMTP_ERR_REPLY_CODE)->code, 451);
    assert_int_equal(smtp_error_reply(0)->code, 451);
    assert_int_equal(smtp_error_reply(-999)->code, 451);
    assert_int_equal(smtp_error_reply(SMTP_ERR_DATA_BARE_LF)->code, 550);
    assert_string_equal(smtp_error_reply(SMTP_ERR_DATA_BARE_LF)->enhanced, "5.5.2");
    assert_int_equal(smtp_error_reply(SMTP_ERR_DATA_LINE_TOO_LONG)->code, 500);
    assert_string_equal(smtp_error_reply(SMTP_ERR_DATA_LINE_TOO_LONG)->enhanced, "5.5.6");
}

static void test_explanations(void **state)
{
    (void)state;
    assert_string_equal(smtp_reply_explain(354, 0, 0, 0),
                        "go ahead; end the message with a line holding only a dot");
    assert_string_equal(smtp_reply_explain(503, 0, 0, 0),
                        "bad sequence of commands: this command is not allowed at this point "
                        "of the conversation (for example RCPT before MAIL)");
    /* The enhanced code makes it specific. */
    assert_non_null(strstr(smtp_reply_explain(550, 5, 1, 1), "user name is unknown"));
    assert_non_null(strstr(smtp_reply_explain(554, 5, 7, 1), "relaying denied"));
    assert_non_null(strstr(smtp_reply_explain(451, 4, 7, 1), "greylisted"));
    assert_non_null(strstr(smtp_reply_explain(452, 4, 2, 2), "mailbox is full"));
    assert_non_null(strstr(smtp_reply_explain(552, 5, 2, 2), "mailbox is full"));
    assert_non_null(strstr(smtp_reply_explain(535, 5, 7, 8), "password is wrong"));
    assert_non_null(strstr(smtp_reply_explain(530, 5, 7, 0), "STARTTLS first"));
    assert_non_null(strstr(smtp_reply_explain(250, 2, 1, 5), "recipient is accepted"));
    assert_non_null(strstr(smtp_reply_explain(250, 2, 6, 0), "responsible for delivering"));
    assert_non_null(strstr(smtp_reply_explain(220, 2, 0, 0), "encryption handshake now"));
    /* ... but only where it fits the code. */
    assert_string_equal(smtp_reply_explain(554, 5, 7, 0), smtp_reply_explain(554, 0, 0, 0));
    assert_string_equal(smtp_reply_explain(503, 5, 5, 1), smtp_reply_explain(503, 0, 0, 0));
    assert_string_equal(smtp_reply_explain(250, 5, 1, 1), smtp_reply_explain(250, 0, 0, 0));
    assert_string_equal(smtp_reply_explain(250, 2, 5, 4), smtp_reply_explain(250, 0, 0, 0));
    /* Every code the project emits has its own sentence, not the fallback. */
    static const int codes[] = {220, 221, 235, 250, 251, 252, 334, 354, 421, 450, 451, 452, 454,
                                455, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538, 550, 551,
                                552, 553, 554, 555};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *t = smtp_reply_explain(codes[i], 0, 0, 0);
        if (strcmp(t, smtp_reply_explain(codes[i] / 100 * 100 + 99, 0, 0, 0)) == 0)
            fail_msg("%d has no sentence of its own", codes[i]);
    }
    assert_string_equal(smtp_reply_explain(299, 0, 0, 0), "success: the server did what was asked");
    assert_string_equal(smtp_reply_explain(999, 0, 0, 0), "not a valid SMTP reply code");
    for (int v = 0; v < SMTP_VERB_COUNT; v++) {
        const char *t = smtp_command_explain((enum smtp_verb)v);
        assert_int_equal(strncmp(t, smtp_verb_names[v], strlen(smtp_verb_names[v])), 0);
    }
    assert_string_equal(smtp_command_explain(SMTP_VERB_COUNT), "unknown command");
}

/* ---- random input: never a crash, and every accepted line round-trips ----- */

static uint32_t rng_state;
static uint32_t rnd(void) /* xorshift32; seeded per test, so runs repeat */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Appends a random choice from a pool to line at *n. */
static void pick(char *line, size_t *n, size_t cap, const char *const *pool, size_t count)
{
    const char *p = pool[rnd() % count];
    size_t pl = strlen(p);
    if (*n + pl < cap) {
        memcpy(line + *n, p, pl);
        *n += pl;
    }
}

#define PICK(pool) pick(line, &n, sizeof line, (pool), sizeof(pool) / sizeof((pool)[0]))

/* Lines built from templates whose slots mix good and bad pieces, so both
 * the accepting paths and every kind of error are reached. */
static void test_random_command_lines(void **state)
{
    (void)state;
    static const char *const verbs[] = {"MAIL FROM:", "mail from: ", "RCPT TO:", "rcpt to:",
                                        "EHLO ", "HELO ", "AUTH ", "NOOP", "VRFY ", "DATA",
                                        "XYZZY ", "MAIL FROM", "RCPT TO:<>"};
    static const char *const locals[] = {"a", "first.last", "\"john smith\"", "\"a\\\"b\"",
                                         "a..b", ".a", "\"open", "x+y", "", "Postmaster", "a b",
                                         "\x80"};
    static const char *const domains[] = {"example.com", "[192.0.2.1]", "[IPv6:2001:db8::1]",
                                          "[IPv6::::]", "ex-ample.org", "-bad.com", "a..b",
                                          "[300.1.1.1]", "[x-tag:abc]", "localhost", "", "a_b"};
    static const char *const params[] = {"", "", " SIZE=100", " size=0", " BODY=8BITMIME",
                                         " BODY=7BIT", " SIZE=abc", " FOO=1", " SIZE=1 SIZE=2",
                                         "  SIZE=5  ", "SIZE=1", " BODY=", " =x", " NOTIFY=NEVER"};
    static const char *const args[] = {"PLAIN", "LOGIN", "PLAIN dGlt", "LOGIN =", "CRAM-MD5",
                                       "PLAIN !!", "PLAIN dGlt dGlt", " PLAIN", "bob", "",
                                       "example.com", "[192.0.2.1]", "two words", "x\ty"};
    static const char *const opens[] = {"<", "<", "<", "", "<@r.example:", "<@r.example,@s.example:", " <"};
    static const char *const closes[] = {">", ">", ">", "", ">>", "> "};
    rng_state = 20261126;
    size_t accepted = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char line[600];
        size_t n = 0;
        PICK(verbs);
        if (rnd() % 2 && strchr(line, ':')) {
            PICK(opens);
            PICK(locals);
            if (rnd() % 8) line[n++] = '@';
            PICK(domains);
            PICK(closes);
            PICK(params);
        } else if (rnd() % 2) {
            PICK(args);
        } else {
            PICK(domains);
        }
        struct smtp_command c;
        int err = smtp_parse_command(line, n, &c);
        if (err < 0) {
            int code = smtp_error_reply(err)->code;
            if (code != 500 && code != 501 && code != 504 && code != 555)
                fail_msg("[%.*s]: %s has reply %d", (int)n, line, smtp_strerror(err), code);
            rejected++;
            continue;
        }
        assert_int_equal(err, 0);
        accepted++;
        char buf[SMTP_COMMAND_LINE_MAX + 1];
        int len = smtp_format_command(&c, buf, sizeof buf);
        if (len < 0) fail_msg("[%.*s] parsed but does not format: %s", (int)n, line, smtp_strerror(len));
        struct smtp_command again;
        assert_int_equal(smtp_parse_command(buf, (size_t)len - 2, &again), 0);
        assert_same_command(&again, &c, "random");
    }
    /* The generator reaches both sides; the seed is fixed, so the split is
     * exact (a change here means the parser's verdicts changed). */
    assert_int_equal(accepted, 2892);
    assert_int_equal(rejected, 17108);
}

static void test_random_replies_whole_equals_bytewise(void **state)
{
    (void)state;
    static const char *const pieces[] = {"250", "-", " ", "\r\n", "\n", "2.1.0", "x", "251", "5"};
    rng_state = 5321;
    for (int iter = 0; iter < 3000; iter++) {
        char in[256], a[2048], b[2048];
        size_t n = 0;
        int count = 1 + (int)(rnd() % 24);
        for (int k = 0; k < count; k++) {
            const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (n + pl >= sizeof in) break;
            memcpy(in + n, p, pl);
            n += pl;
        }
        read_replies(in, n, FEED_WHOLE, a, sizeof a);
        read_replies(in, n, FEED_BYTEWISE, b, sizeof b);
        if (strcmp(a, b) != 0) fail_msg("[%.*s]: whole %s, bytewise %s", (int)n, in, a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_commands_round_trip),
        cmocka_unit_test(test_bad_commands),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_format_command_refuses_bad_structs),
        cmocka_unit_test(test_auth_response),
        cmocka_unit_test(test_reply_lines),
        cmocka_unit_test(test_reply_reader),
        cmocka_unit_test(test_reply_reader_limits),
        cmocka_unit_test(test_reply_reader_reset_clears_error),
        cmocka_unit_test(test_format_reply),
        cmocka_unit_test(test_format_then_read_reply),
        cmocka_unit_test(test_names_and_errors),
        cmocka_unit_test(test_explanations),
        cmocka_unit_test(test_random_command_lines),
        cmocka_unit_test(test_random_replies_whole_equals_bytewise),
    };
    return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
