/* The SMTP client session machine: RFC 5321 Appendix D's server replies
 * replayed, asserting the exact lines the client sends; fallbacks,
 * pipelining, STARTTLS, AUTH, SIZE/8BITMIME, failures and their outcomes. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/smtp_client.h"

struct crun {
    struct smtp_client *c;
    char sent[16384];   /* every byte the client sent */
    size_t sent_len;
    char trace[4096];   /* state changes and recipient outcomes */
    size_t trace_len;
    int commands, replies, dones, starttls;
};

#define TRACE(r, ...) \
    ((r)->trace_len += (size_t)snprintf((r)->trace + (r)->trace_len, \
                                        sizeof (r)->trace - (r)->trace_len, __VA_ARGS__))

static void cpump(struct crun *r)
{
    struct smtp_client_event ev;
    int st;
    for (;;) {
        while ((st = smtp_client_next(r->c, &ev)) == SMTP_CLIENT_EVENT) {
            switch (ev.type) {
            case SMTP_CLIENT_EV_STATE:
                TRACE(r, "[%s>%s]", smtp_client_state_names[ev.from], smtp_client_state_names[ev.to]);
                break;
            case SMTP_CLIENT_EV_COMMAND:
                r->commands++;
                break;
            case SMTP_CLIENT_EV_REPLY:
                r->replies++;
                assert_true(ev.reply_len >= 5);
                assert_int_equal(ev.reply[ev.reply_len - 1], '\n');
                break;
            case SMTP_CLIENT_EV_RCPT:
                TRACE(r, "rcpt%zu:%d%s ", ev.index, ev.code, ev.accepted ? "+" : "-");
                break;
            case SMTP_CLIENT_EV_STARTTLS:
                r->starttls++;
                break;
            case SMTP_CLIENT_EV_DONE:
                r->dones++;
                break;
            default:
                fail_msg("unknown event %d", ev.type);
            }
        }
        const char *p;
        size_t n = smtp_client_output(r->c, &p);
        if (n == 0)
            break;
        assert_true(r->sent_len + n <= sizeof r->sent);
        memcpy(r->sent + r->sent_len, p, n);
        r->sent_len += n;
        smtp_client_consumed(r->c, n);
    }
    assert_true(st == SMTP_CLIENT_NEED_MORE || st == SMTP_CLIENT_ERR_DONE);
}

/* Feeds the server's bytes; "<TLS>" marks the finished handshake. */
static void crun_script(struct crun *r, const struct smtp_client_config *cfg,
                        const struct smtp_client_message *msg, const char *script,
                        enum feed_mode mode)
{
    memset(r, 0, sizeof *r);
    int err = 0;
    r->c = smtp_client_new(cfg, msg, &err);
    assert_non_null(r->c);
    assert_int_equal(err, 0);
    cpump(r);
    const char *seg = script;
    for (;;) {
        const char *mark = strstr(seg, "<TLS>");
        size_t n = mark ? (size_t)(mark - seg) : strlen(seg), off = 0;
        while (off < n) {
            off += smtp_client_feed(r->c, seg + off, feed_chunk(mode, n - off));
            cpump(r);
        }
        if (!mark)
            break;
        assert_int_equal(smtp_client_tls_started(r->c), 0);
        cpump(r);
        seg = mark + 5;
    }
}

/* ---- RFC 5321 Appendix D ---------------------------------------------------- */

static const char *const d1_rcpts[] = {"Jones@foo.com", "Green@foo.com", "Brown@foo.com"};
static const char *const d2_rcpts[] = {"Jones@foo.com", "Green@foo.com"};
static const char *const d3_rcpts[] = {"Jones@XYZ.COM"};
static const char *const d4_rcpts[] = {"Admin.MRC@foo.com"};

/* "...etc. etc. etc." on the wire is the message line "..etc. etc. etc."
 * with its stuffing dot (RFC 5321 4.5.2). */
static const char blah[] = "Blah blah blah...\r\n..etc. etc. etc.\r\n";
static const char d3_step1[] = "Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
                               "From: John Q. Public <JQP@bar.com>\r\n"
                               "Subject: The Next Meeting of the Board\r\n"
                               "To: Jones@xyz.com\r\n"
                               "\r\n"
                               "Bill:\r\n"
                               "The next meeting of the board of directors will be\r\n"
                               "on Tuesday.\r\n"
                               "John.\r\n";
static const char d3_step2[] = "Received: from bar.com by foo.com ; Thu, 21 May 1998\r\n"
                               "    05:33:29 -0700\r\n"
                               "Date: Thu, 21 May 1998 05:33:22 -0700\r\n"
                               "From: John Q. Public <JQP@bar.com>\r\n"
                               "Subject:  The Next Meeting of the Board\r\n"
                               "To: Jones@xyz.com\r\n"
                               "\r\n"
                               "Bill:\r\n"
                               "The next meeting of the board of directors will be\r\n"
                               "on Tuesday.\r\n"
                               "                        John.\r\n";

#define FOO_GREETS                                   \
    "220 foo.com Simple Mail Transfer Service Ready\r\n" \
    "250-foo.com greets bar.com\r\n"                 \
    "250-8BITMIME\r\n"                               \
    "250-SIZE\r\n"                                   \
    "250-DSN\r\n"                                    \
    "250 HELP\r\n"
#define RFC_354 "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
#define RFC_221 "221 foo.com Service closing transmission channel\r\n"

/* Appendix D's client declares no SIZE= (a "minimal" RFC 1870 client). */
static const struct smtp_client_config bar = {.ehlo_name = "bar.com", .no_size_param = true};
static const struct smtp_client_config bar_abort = {
    .ehlo_name = "bar.com", .no_size_param = true, .all_or_nothing = true};
static const struct smtp_client_config bar_vrfy = {
    .ehlo_name = "bar.com", .no_size_param = true, .vrfy = "Crispin"};
static const struct smtp_client_config foo = {.ehlo_name = "foo.com", .no_size_param = true};

struct ccase {
    const char *name;
    const struct smtp_client_config *cfg;
    const char *from;
    const char *const *rcpts;
    size_t nrcpts;
    const char *data;
    const char *script;         /* the server's bytes */
    const char *want;           /* every byte the client sends */
    enum smtp_client_outcome outcome;
    size_t accepted;
    int code;                   /* the failing reply's code (0: none or local) */
    const char *enhanced;       /* its enhanced code */
};

static const struct ccase appendix[] = {
    {"D.1 typical transaction", &bar, "Smith@bar.com", d1_rcpts, 3, blah,
     FOO_GREETS "250 OK\r\n250 OK\r\n550 No such user here\r\n250 OK\r\n" RFC_354 "250 OK\r\n" RFC_221,
     "EHLO bar.com\r\n"
     "MAIL FROM:<Smith@bar.com>\r\n"
     "RCPT TO:<Jones@foo.com>\r\n"
     "RCPT TO:<Green@foo.com>\r\n"
     "RCPT TO:<Brown@foo.com>\r\n"
     "DATA\r\n"
     "Blah blah blah...\r\n"
     "...etc. etc. etc.\r\n"
     ".\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_PARTIAL, 2, 0, ""},
    {"D.2 aborted transaction", &bar_abort, "Smith@bar.com", d2_rcpts, 2, blah,
     FOO_GREETS "250 OK\r\n250 OK\r\n550 No such user here\r\n250 OK\r\n" RFC_221,
     "EHLO bar.com\r\n"
     "MAIL FROM:<Smith@bar.com>\r\n"
     "RCPT TO:<Jones@foo.com>\r\n"
     "RCPT TO:<Green@foo.com>\r\n"
     "RSET\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 550, ""},
    {"D.3 step 1, source host to relay", &bar, "JQP@bar.com", d3_rcpts, 1, d3_step1,
     FOO_GREETS "250 OK\r\n250 OK\r\n" RFC_354 "250 OK\r\n" RFC_221,
     "EHLO bar.com\r\n"
     "MAIL FROM:<JQP@bar.com>\r\n"
     "RCPT TO:<Jones@XYZ.COM>\r\n"
     "DATA\r\n"
     "Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
     "From: John Q. Public <JQP@bar.com>\r\n"
     "Subject: The Next Meeting of the Board\r\n"
     "To: Jones@xyz.com\r\n"
     "\r\n"
     "Bill:\r\n"
     "The next meeting of the board of directors will be\r\n"
     "on Tuesday.\r\n"
     "John.\r\n"
     ".\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"D.3 step 2, relay to destination", &foo, "JQP@bar.com", d3_rcpts, 1, d3_step2,
     "220 xyz.com Simple Mail Transfer Service Ready\r\n"
     "250 xyz.com is on the air\r\n"
     "250 OK\r\n250 OK\r\n" RFC_354 "250 OK\r\n" RFC_221,
     "EHLO foo.com\r\n"
     "MAIL FROM:<JQP@bar.com>\r\n"
     "RCPT TO:<Jones@XYZ.COM>\r\n"
     "DATA\r\n"
     "Received: from bar.com by foo.com ; Thu, 21 May 1998\r\n"
     "    05:33:29 -0700\r\n"
     "Date: Thu, 21 May 1998 05:33:22 -0700\r\n"
     "From: John Q. Public <JQP@bar.com>\r\n"
     "Subject:  The Next Meeting of the Board\r\n"
     "To: Jones@xyz.com\r\n"
     "\r\n"
     "Bill:\r\n"
     "The next meeting of the board of directors will be\r\n"
     "on Tuesday.\r\n"
     "                        John.\r\n"
     ".\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"D.4 verifying and sending", &bar_vrfy, "EAK@bar.com", d4_rcpts, 1, blah,
     "220 foo.com Simple Mail Transfer Service Ready\r\n"
     "250-foo.com greets bar.com\r\n"
     "250-8BITMIME\r\n"
     "250-SIZE\r\n"
     "250-DSN\r\n"
     "250-VRFY\r\n"
     "250 HELP\r\n"
     "250 Mark Crispin <Admin.MRC@foo.com>\r\n"
     "250 OK\r\n250 OK\r\n" RFC_354 "250 OK\r\n" RFC_221,
     "EHLO bar.com\r\n"
     "VRFY Crispin\r\n"
     "MAIL FROM:<EAK@bar.com>\r\n"
     "RCPT TO:<Admin.MRC@foo.com>\r\n"
     "DATA\r\n"
     "Blah blah blah...\r\n"
     "...etc. etc. etc.\r\n"
     ".\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
};

/* ---- the other cases --------------------------------------------------------- */

static const char *const one[] = {"bob@foo.com"};
static const char *const three[] = {"a@foo.com", "b@foo.com", "c@foo.com"};
static const char hello[] = "Hello\r\n";

static const struct smtp_client_config plain = {.ehlo_name = "bar.com"};
static const struct smtp_client_config lockstep = {.ehlo_name = "bar.com", .no_pipelining = true};
static const struct smtp_client_config tls_must = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_REQUIRED};
static const struct smtp_client_config sub_plain = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_REQUIRED, .auth_user = "alice",
    .auth_password = "secret", .auth_mech = SMTP_CLIENT_AUTH_PLAIN};
static const struct smtp_client_config sub_login = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_IF_OFFERED, .auth_user = "alice",
    .auth_password = "secret", .auth_mech = SMTP_CLIENT_AUTH_LOGIN};

static const struct smtp_client_config helo_only = {.ehlo_name = "bar.com", .helo_only = true};
static const struct smtp_client_config auth_in_clear = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_NEVER, .auth_user = "alice",
    .auth_password = "secret", .force_auth = true};

static const struct smtp_client_config implicit = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_REQUIRED, .tls_active = true,
    .auth_user = "alice", .auth_password = "secret"};

#define G220 "220 foo.com ESMTP\r\n"
#define E_PLAIN "250 foo.com\r\n"
#define E_PIPE "250-foo.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"
#define E_TLS "250-foo.com\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"
#define E_AUTH "250-foo.com\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN\r\n"
#define OKR "250 2.0.0 Ok\r\n"
#define BYE "221 2.0.0 Bye\r\n"
#define GO "354 Go ahead\r\n"

static const struct ccase cases[] = {
    {"HELO fallback after 500", &plain, "a@bar.com", one, 1, hello,
     G220 "500 5.5.1 Command unrecognized\r\n" "250 foo.com\r\n" OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nHELO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\n"
     "DATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"HELO fallback after 502", &plain, "a@bar.com", one, 1, hello,
     G220 "502 Not implemented\r\n" "421 4.3.2 Going down\r\n",
     "EHLO bar.com\r\nHELO bar.com\r\n", SMTP_CLIENT_FAILED_TEMPORARY, 0, 421, "4.3.2"},
    {"SIZE= declared when SIZE offered", &lockstep, "a@bar.com", one, 1, hello,
     G220 "250-foo.com\r\n250 SIZE\r\n" OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=7\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\n"
     "Hello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"message over the server's SIZE: not sent", &plain, "a@bar.com", one, 1, hello,
     G220 "250-foo.com\r\n250 SIZE 6\r\n" BYE, "EHLO bar.com\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 0, "5.3.4"},
    {"8-bit message with 8BITMIME", &plain, "a@bar.com", one, 1, "Gr\xc3\xbc\xc3\x9f" "e\r\n",
     G220 "250-foo.com\r\n250 8BITMIME\r\n" OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> BODY=8BITMIME\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\n"
     "Gr\xc3\xbc\xc3\x9f" "e\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"8-bit message without 8BITMIME: not sent", &plain, "a@bar.com", one, 1, "caf\xc3\xa9\r\n",
     G220 E_PLAIN BYE, "EHLO bar.com\r\nQUIT\r\n", SMTP_CLIENT_FAILED_PERMANENT, 0, 0, "5.6.3"},
    {"greylisted recipient is temporary", &plain, "a@bar.com", one, 1, hello,
     G220 E_PLAIN OKR "451 4.7.1 Greylisted, try again later\r\n" OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nRSET\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_TEMPORARY, 0, 451, "4.7.1"},
    {"one of three recipients unknown", &lockstep, "a@bar.com", three, 3, hello,
     G220 E_PLAIN OKR OKR "550 5.1.1 User unknown\r\n" OKR GO "250 2.0.0 Ok: queued as X\r\n" BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<a@foo.com>\r\nRCPT TO:<b@foo.com>\r\n"
     "RCPT TO:<c@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_PARTIAL, 2, 0, ""},
    {"sender refused", &plain, "a@bar.com", one, 1, hello,
     G220 E_PLAIN "550 5.7.1 Sender rejected\r\n" BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nQUIT\r\n", SMTP_CLIENT_FAILED_PERMANENT, 0, 550,
     "5.7.1"},
    {"DATA refused", &plain, "a@bar.com", one, 1, hello,
     G220 E_PLAIN OKR OKR "554 5.3.0 No thanks\r\n" OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nRSET\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 554, "5.3.0"},
    {"message refused at its end, temporarily", &plain, "a@bar.com", one, 1, hello,
     G220 E_PLAIN OKR OKR GO "452 4.3.1 Insufficient storage\r\n" BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_FAILED_TEMPORARY, 0, 452, "4.3.1"},
    {"dot-stuffing and the missing final CRLF", &plain, "a@bar.com", one, 1, ".\r\n..x\r\n.end",
     G220 E_PLAIN OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\n"
     "..\r\n...x\r\n..end\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"null reverse-path", &plain, "", one, 1, hello, G220 E_PLAIN OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    /* RFC 2920 */
    {"pipelined batch", &plain, "a@bar.com", three, 3, hello,
     G220 E_PIPE OKR OKR "550 5.1.1 User unknown\r\n" OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=7\r\nRCPT TO:<a@foo.com>\r\nRCPT TO:<b@foo.com>\r\n"
     "RCPT TO:<c@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_PARTIAL, 2, 0, ""},
    {"pipelined, every RCPT refused: DATA's 554 expected", &plain, "a@bar.com", three, 3, hello,
     G220 E_PIPE OKR "550 5.1.1 User unknown\r\n" "451 4.7.1 Greylisted\r\n"
     "550 5.1.1 User unknown\r\n" "554 5.5.1 No valid recipients\r\n" OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=7\r\nRCPT TO:<a@foo.com>\r\nRCPT TO:<b@foo.com>\r\n"
     "RCPT TO:<c@foo.com>\r\nDATA\r\nRSET\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_TEMPORARY, 0, 451, "4.7.1"},
    {"pipelined, every RCPT refused, yet 354", &plain, "a@bar.com", one, 1, hello,
     G220 E_PIPE OKR "550 5.1.1 User unknown\r\n" GO "554 5.5.1 No recipients\r\n" BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=7\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\n.\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 550, "5.1.1"},
    {"pipelined, MAIL refused", &plain, "a@bar.com", one, 1, hello,
     G220 E_PIPE "552 5.3.4 Too big\r\n" "503 5.5.1 Need MAIL\r\n" "503 5.5.1 Need MAIL\r\n" BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=7\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 552, "5.3.4"},
    {"all or nothing keeps DATA out of the batch", &bar_abort, "a@bar.com", one, 1, hello,
     G220 E_PIPE OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    /* STARTTLS (RFC 3207) and AUTH (RFC 4954) */
    {"STARTTLS then AUTH PLAIN", &sub_plain, "alice@foo.com", one, 1, hello,
     G220 E_TLS "220 2.0.0 Ready to start TLS\r\n<TLS>" E_AUTH
     "235 2.7.0 Authentication successful\r\n" OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nSTARTTLS\r\nEHLO bar.com\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"
     "MAIL FROM:<alice@foo.com> SIZE=7\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"reply injected before the handshake is dropped", &sub_plain, "alice@foo.com", one, 1, hello,
     G220 E_TLS "220 2.0.0 Ready to start TLS\r\n235 2.7.0 injected\r\n<TLS>" E_AUTH
     "535 5.7.8 Authentication credentials invalid\r\n" BYE,
     "EHLO bar.com\r\nSTARTTLS\r\nEHLO bar.com\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 535, "5.7.8"},
    {"AUTH LOGIN", &sub_login, "alice@foo.com", one, 1, hello,
     G220 E_AUTH "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 2.7.0 Ok\r\n" OKR OKR GO OKR BYE,
     "EHLO bar.com\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nMAIL FROM:<alice@foo.com> SIZE=7\r\n"
     "RCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"STARTTLS refused, opportunistic goes on", &sub_login, "alice@foo.com", one, 1, hello,
     G220 "250-foo.com\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n" "454 4.7.0 TLS not available\r\n"
     "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n535 5.7.8 No\r\n" BYE,
     "EHLO bar.com\r\nSTARTTLS\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 535, "5.7.8"},
    {"TLS from the start: no STARTTLS", &implicit, "alice@foo.com", one, 1, hello,
     G220 "250-foo.com\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n" "235 2.7.0 Ok\r\n" OKR OKR GO OKR
     BYE,
     "EHLO bar.com\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<alice@foo.com>\r\n"
     "RCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\nQUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"TLS required, not offered", &tls_must, "a@bar.com", one, 1, hello, G220 E_PLAIN BYE,
     "EHLO bar.com\r\nQUIT\r\n", SMTP_CLIENT_FAILED_PERMANENT, 0, 0, "5.7.10"},
    {"AUTH wanted, not offered", &sub_login, "alice@foo.com", one, 1, hello, G220 E_PLAIN BYE,
     "EHLO bar.com\r\nQUIT\r\n", SMTP_CLIENT_FAILED_PERMANENT, 0, 0, "5.7.4"},
    /* lesson options */
    {"HELO only: the older greeting, no extensions used", &helo_only, "a@bar.com", one, 1, hello,
     G220 "250 foo.com\r\n" OKR OKR GO OKR BYE,
     "HELO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n.\r\n"
     "QUIT\r\n",
     SMTP_CLIENT_DELIVERED, 1, 0, ""},
    {"AUTH forced before STARTTLS: 530", &auth_in_clear, "alice@foo.com", one, 1, hello,
     G220 E_TLS "530 5.7.0 Must issue a STARTTLS command first\r\n" BYE,
     "EHLO bar.com\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_PERMANENT, 0, 530, "5.7.0"},
    /* a server that says no, or nonsense */
    {"554 instead of a greeting", &plain, "a@bar.com", one, 1, hello,
     "554 5.3.2 No service\r\n" BYE, "QUIT\r\n", SMTP_CLIENT_FAILED_PERMANENT, 0, 554, "5.3.2"},
    {"421 closes without QUIT", &plain, "a@bar.com", one, 1, hello,
     G220 E_PLAIN "421 4.3.2 Shutting down\r\n", "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\n",
     SMTP_CLIENT_FAILED_TEMPORARY, 0, 421, "4.3.2"},
    {"garbage instead of a reply", &plain, "a@bar.com", one, 1, hello,
     G220 "hello there\r\n", "EHLO bar.com\r\nQUIT\r\n", SMTP_CLIENT_FAILED_TEMPORARY, 0, 0, ""},
    {"reply lines with different codes", &plain, "a@bar.com", one, 1, hello,
     G220 "250-foo.com\r\n550 nope\r\n", "EHLO bar.com\r\nQUIT\r\n",
     SMTP_CLIENT_FAILED_TEMPORARY, 0, 0, ""},
};

static void check(const struct ccase *k)
{
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        static struct crun r;
        struct smtp_client_message msg = {k->from, k->rcpts, k->nrcpts, k->data, strlen(k->data)};
        crun_script(&r, k->cfg, &msg, k->script, modes[m]);
        const char *mode = m ? "bytewise" : "whole";
        if (r.sent_len != strlen(k->want) || memcmp(r.sent, k->want, r.sent_len) != 0)
            fail_msg("%s (%s): sent\n%.*s\nwant\n%s", k->name, mode, (int)r.sent_len, r.sent,
                     k->want);
        struct smtp_client_result res;
        smtp_client_result(r.c, &res);
        if (res.outcome != k->outcome || res.accepted != k->accepted || res.code != k->code ||
            strcmp(res.enhanced, k->enhanced) != 0)
            fail_msg("%s (%s): outcome %s %zu/%zu code %d %s (%s), want %s %zu code %d %s", k->name,
                     mode, smtp_client_outcome_names[res.outcome], res.accepted, res.nrcpts,
                     res.code, res.enhanced, res.text, smtp_client_outcome_names[k->outcome],
                     k->accepted, k->code, k->enhanced);
        assert_int_equal(res.nrcpts, k->nrcpts);
        assert_int_equal(smtp_client_state(r.c), SMTP_CLIENT_DONE);
        assert_int_equal(r.dones, 1);
        smtp_client_free(r.c);
    }
}

static void test_appendix_d(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(appendix); i++)
        check(&appendix[i]);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        check(&cases[i]);
}

/* D.1's states and each recipient's outcome, in order. */
static void test_trace_and_recipients(void **state)
{
    (void)state;
    static struct crun r;
    struct smtp_client_message msg = {"Smith@bar.com", d1_rcpts, 3, blah, strlen(blah)};
    crun_script(&r, &bar, &msg, appendix[0].script, FEED_BYTEWISE);
    assert_string_equal(r.trace, "[greeting>ehlo][ehlo>mail][mail>rcpt]"
                                 "rcpt0:250+ rcpt1:550- rcpt2:250+ "
                                 "[rcpt>data][data>body][body>quit][quit>done]");
    assert_int_equal(r.commands, 7); /* EHLO MAIL RCPT RCPT RCPT DATA QUIT */
    assert_int_equal(r.replies, 9);
    struct smtp_client_rcpt_result rr;
    assert_true(smtp_client_rcpt(r.c, 1, &rr));
    assert_int_equal(rr.code, 550);
    assert_string_equal(rr.enhanced, "");
    assert_string_equal(rr.text, "No such user here");
    assert_true(smtp_client_rcpt(r.c, 2, &rr));
    assert_int_equal(rr.code, 250);
    assert_false(smtp_client_rcpt(r.c, 3, &rr));
    struct smtp_client_event ev;
    assert_int_equal(smtp_client_next(r.c, &ev), SMTP_CLIENT_ERR_DONE);
    assert_int_equal(smtp_client_feed(r.c, "250 OK\r\n", 8), 8); /* dropped */
    assert_int_equal(smtp_client_error(r.c), 0);
    smtp_client_free(r.c);
}

static void test_garbage_is_sticky_error(void **state)
{
    (void)state;
    static struct crun r;
    struct smtp_client_message msg = {"a@bar.com", one, 1, hello, strlen(hello)};
    crun_script(&r, &plain, &msg, G220 "hello there\r\n", FEED_WHOLE);
    assert_int_equal(smtp_client_error(r.c), SMTP_CLIENT_ERR_PROTOCOL);
    struct smtp_client_result res;
    smtp_client_result(r.c, &res);
    assert_string_equal(res.text, "bad reply code");
    assert_false(res.local);
    smtp_client_free(r.c);
}

/* A long message streams through the bounded output queue intact. */
static void test_long_message_streams(void **state)
{
    (void)state;
    static char data[100000], want[110000];
    size_t n = 0, w = 0;
    w += (size_t)snprintf(want, sizeof want,
                          "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\n");
    for (int i = 0; n + 80 < sizeof data; i++) {
        n += (size_t)snprintf(data + n, sizeof data - n, "%sline %d of a long message\r\n",
                              i % 7 == 0 ? "." : "", i);
        w += (size_t)snprintf(want + w, sizeof want - w, "%sline %d of a long message\r\n",
                              i % 7 == 0 ? ".." : "", i);
    }
    w += (size_t)snprintf(want + w, sizeof want - w, ".\r\nQUIT\r\n");
    struct smtp_client_message msg = {"a@bar.com", one, 1, data, n};
    static struct crun r;
    memset(&r, 0, sizeof r);
    r.c = smtp_client_new(&plain, &msg, NULL);
    assert_non_null(r.c);
    static char sent[120000];
    size_t got = 0;
    const char *script = G220 E_PLAIN OKR OKR GO OKR BYE;
    smtp_client_feed(r.c, script, strlen(script));
    struct smtp_client_event ev;
    for (int guard = 0; guard < 10000; guard++) {
        while (smtp_client_next(r.c, &ev) == SMTP_CLIENT_EVENT)
            ;
        const char *p;
        size_t k = smtp_client_output(r.c, &p);
        assert_true(k <= SMTP_CLIENT_OUT_MAX);
        if (k == 0)
            break;
        memcpy(sent + got, p, k);
        got += k;
        smtp_client_consumed(r.c, k);
    }
    assert_bytes(want, sent, got);
    struct smtp_client_result res;
    smtp_client_result(r.c, &res);
    assert_int_equal(res.outcome, SMTP_CLIENT_DELIVERED);
    smtp_client_free(r.c);
}

/* Greylisted, then retried with the same client on a new connection. */
static void test_retry_after_greylisting(void **state)
{
    (void)state;
    struct smtp_client_message msg = {"a@bar.com", one, 1, hello, strlen(hello)};
    struct smtp_client *c = smtp_client_new(&plain, &msg, NULL);
    assert_non_null(c);
    static const char *const scripts[] = {
        G220 E_PLAIN OKR "451 4.7.1 Greylisted, try again later\r\n" OKR BYE,
        G220 E_PLAIN OKR OKR GO OKR BYE,
    };
    static const char *const want[] = {
        "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nRSET\r\nQUIT\r\n",
        "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@foo.com>\r\nDATA\r\nHello\r\n"
        ".\r\nQUIT\r\n",
    };
    static const enum smtp_client_outcome outcome[] = {SMTP_CLIENT_FAILED_TEMPORARY,
                                                       SMTP_CLIENT_DELIVERED};
    for (size_t i = 0; i < 2; i++) {
        static char sent[1024];
        size_t got = 0;
        if (i > 0)
            smtp_client_reset(c);
        assert_int_equal(smtp_client_state(c), SMTP_CLIENT_GREETING);
        smtp_client_feed(c, scripts[i], strlen(scripts[i]));
        struct smtp_client_event ev;
        for (;;) {
            while (smtp_client_next(c, &ev) == SMTP_CLIENT_EVENT)
                ;
            const char *p;
            size_t k = smtp_client_output(c, &p);
            if (k == 0)
                break;
            memcpy(sent + got, p, k);
            got += k;
            smtp_client_consumed(c, k);
        }
        assert_bytes(want[i], sent, got);
        struct smtp_client_result r;
        smtp_client_result(c, &r);
        assert_int_equal(r.outcome, outcome[i]);
        assert_int_equal(r.code, i == 0 ? 451 : 0);
    }
    smtp_client_free(c);
}

static void test_bad_config(void **state)
{
    (void)state;
    static const char *const bad_rcpt[] = {"bob@foo.com\r\nRSET"};
    static const char *const empty_rcpt[] = {""};
    static const char *many[101];
    for (size_t i = 0; i < 101; i++)
        many[i] = "x@foo.com";
    static const struct smtp_client_config no_name = {.ehlo_name = NULL};
    static const struct smtp_client_config bad_name = {.ehlo_name = "bar com"};
    static const struct smtp_client_config bad_auth = {.ehlo_name = "bar.com", .auth_user = "",
                                                       .auth_password = "x"};
    static const struct {
        const char *name;
        const struct smtp_client_config *cfg;
        struct smtp_client_message msg;
    } bad[] = {
        {"no EHLO name", &no_name, {"a@bar.com", one, 1, hello, 7}},
        {"EHLO name with a space", &bad_name, {"a@bar.com", one, 1, hello, 7}},
        {"no recipients", &plain, {"a@bar.com", one, 0, hello, 7}},
        {"101 recipients", &plain, {"a@bar.com", many, 101, hello, 7}},
        {"CRLF injected in a recipient", &plain, {"a@bar.com", bad_rcpt, 1, hello, 7}},
        {"empty recipient", &plain, {"a@bar.com", empty_rcpt, 1, hello, 7}},
        {"space in the sender", &plain, {"a b@bar.com", one, 1, hello, 7}},
        {"empty AUTH user", &bad_auth, {"a@bar.com", one, 1, hello, 7}},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int err = 0;
        struct smtp_client *c = smtp_client_new(bad[i].cfg, &bad[i].msg, &err);
        if (c != NULL || err != SMTP_CLIENT_ERR_CONFIG)
            fail_msg("%s: accepted", bad[i].name);
    }
    struct smtp_client_message ok = {"a@bar.com", many, 100, hello, 7};
    struct smtp_client *c = smtp_client_new(&plain, &ok, NULL);
    assert_non_null(c);
    assert_int_equal(smtp_client_tls_started(c), SMTP_CLIENT_ERR_NOT_PENDING);
    struct smtp_client_result res;
    smtp_client_result(c, &res);
    assert_int_equal(res.outcome, SMTP_CLIENT_PENDING);
    assert_string_equal(smtp_client_strerror(SMTP_CLIENT_ERR_DONE), "session over");
    assert_string_equal(smtp_client_state_names[SMTP_CLIENT_DONE], "done");
    smtp_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_d),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_trace_and_recipients),
        cmocka_unit_test(test_garbage_is_sticky_error),
        cmocka_unit_test(test_long_message_streams),
        cmocka_unit_test(test_retry_after_greylisting),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests_name("smtp_client", tests, NULL, NULL);
}
