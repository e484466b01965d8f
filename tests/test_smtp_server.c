/* The SMTP server session machine: RFC 5321 Appendix D replayed, command
 * order, limits, pipelining, STARTTLS, AUTH, the caller's decisions. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/smtp_server.h"

/* ---- the harness ---------------------------------------------------------- */

/* The simulated MTA behind the machine: who exists, which password works. */
static void decide(struct smtp_server *s, const struct smtp_server_event *ev, int *queued)
{
    char id[16];
    switch (ev->type) {
    case SMTP_SERVER_EV_MAIL:
        if (strcmp(ev->path, "spammer@example.net") == 0)
            assert_int_equal(smtp_server_reject(s, 550, "5.7.1", "Sender rejected"), 0);
        else
            assert_int_equal(smtp_server_accept(s, NULL), 0);
        break;
    case SMTP_SERVER_EV_RCPT:
        if (strcmp(ev->path, "Green@foo.com") == 0)
            assert_int_equal(smtp_server_reject(s, 550, "5.1.1", "No such user here"), 0);
        else if (strcmp(ev->path, "grey@example.com") == 0)
            assert_int_equal(smtp_server_reject(s, 451, "4.7.1", "Greylisted, try again later"), 0);
        else if (strcmp(ev->path, "full@example.com") == 0)
            assert_int_equal(smtp_server_reject(s, 452, "4.2.2", "Mailbox full"), 0);
        else if (strcmp(ev->path, "bob@elsewhere.example") == 0)
            assert_int_equal(smtp_server_reject(s, 550, "5.7.1", "Relay access denied"), 0);
        else
            assert_int_equal(smtp_server_accept(s, NULL), 0);
        break;
    case SMTP_SERVER_EV_VRFY:
        if (strcmp(ev->path, "Crispin") == 0)
            assert_int_equal(smtp_server_accept(s, "Mark Crispin <Admin.MRC@foo.com>"), 0);
        else
            assert_int_equal(smtp_server_reject(s, 550, "5.1.1", "User unknown"), 0);
        break;
    case SMTP_SERVER_EV_AUTH:
        if (strcmp(ev->user, "alice") == 0 && strcmp(ev->password, "secret") == 0)
            assert_int_equal(smtp_server_accept(s, NULL), 0);
        else
            assert_int_equal(smtp_server_reject(s, 535, "5.7.8", "Authentication credentials invalid"), 0);
        break;
    case SMTP_SERVER_EV_DATA_END:
        snprintf(id, sizeof id, "Q%d", ++*queued);
        assert_int_equal(smtp_server_queued(s, id), 0);
        break;
    default:
        break;
    }
}

struct run {
    struct smtp_server *s;
    char out[32768];      /* every byte the server sent */
    size_t out_len;
    char msg[8192];       /* the message lines handed over (all messages) */
    size_t msg_len;
    char trace[8192];     /* states, commands, replies, decisions */
    size_t trace_len;
    size_t discarded;     /* bytes dropped before the TLS handshake */
    int queued;
    int commands, replies, closes;
};

#define TRACE(r, ...) \
    ((r)->trace_len += (size_t)snprintf((r)->trace + (r)->trace_len, \
                                        sizeof (r)->trace - (r)->trace_len, __VA_ARGS__))

static void pump(struct run *r)
{
    struct smtp_server_event ev;
    int st;
    for (;;) {
        while ((st = smtp_server_next(r->s, &ev)) == SMTP_SERVER_EVENT) {
            switch (ev.type) {
            case SMTP_SERVER_EV_STATE:
                TRACE(r, "[%s>%s]", smtp_server_state_names[ev.from], smtp_server_state_names[ev.to]);
                break;
            case SMTP_SERVER_EV_COMMAND:
                r->commands++;
                TRACE(r, "C:%s ", ev.verb);
                break;
            case SMTP_SERVER_EV_REPLY:
                r->replies++;
                TRACE(r, "S:%d%s%s ", ev.code, ev.enhanced[0] ? "/" : "", ev.enhanced);
                break;
            case SMTP_SERVER_EV_DATA:
                assert_true(r->msg_len + ev.line_len <= sizeof r->msg);
                memcpy(r->msg + r->msg_len, ev.line, ev.line_len);
                r->msg_len += ev.line_len;
                break;
            case SMTP_SERVER_EV_DISCARDED:
                r->discarded += ev.discarded;
                break;
            case SMTP_SERVER_EV_CLOSE:
                r->closes++;
                TRACE(r, "close");
                break;
            case SMTP_SERVER_EV_STARTTLS:
                TRACE(r, "starttls ");
                break;
            case SMTP_SERVER_EV_DATA_ABORT:
                TRACE(r, "abort:%lu ", ev.size);
                break;
            default:
                TRACE(r, "%s ", smtp_server_event_names[ev.type]);
                decide(r->s, &ev, &r->queued);
                break;
            }
        }
        const char *p;
        size_t n = smtp_server_output(r->s, &p);
        if (n == 0)
            break;
        assert_true(r->out_len + n <= sizeof r->out);
        memcpy(r->out + r->out_len, p, n);
        r->out_len += n;
        smtp_server_consumed(r->s, n);
    }
    assert_true(st == SMTP_SERVER_NEED_MORE || st == SMTP_SERVER_ERR_CLOSED);
}

/* Feeds in, whole or byte by byte; "<TLS>" in the input marks where the
 * TLS handshake completes (the harness calls smtp_server_tls_started). */
static void run_input(struct run *r, const struct smtp_server_config *cfg, const char *in,
                      enum feed_mode mode)
{
    memset(r, 0, sizeof *r);
    r->s = smtp_server_new(cfg);
    assert_non_null(r->s);
    pump(r);
    const char *seg = in;
    for (;;) {
        const char *mark = strstr(seg, "<TLS>");
        size_t n = mark ? (size_t)(mark - seg) : strlen(seg), off = 0;
        while (off < n) {
            size_t took = smtp_server_feed(r->s, seg + off, feed_chunk(mode, n - off));
            off += took;
            pump(r);
        }
        if (!mark)
            break;
        assert_int_equal(smtp_server_tls_started(r->s), 0);
        pump(r);
        seg = mark + 5;
    }
}

/* ---- expected bytes --------------------------------------------------------- */

#define GREET "220 foo.com Simple Mail Transfer Service Ready\r\n"
#define EHLO_OUT                          \
    "250-foo.com greets bar.com\r\n"      \
    "250-PIPELINING\r\n"                  \
    "250-SIZE 10485760\r\n"               \
    "250-8BITMIME\r\n"                    \
    "250 ENHANCEDSTATUSCODES\r\n"
#define MAIL_OK "250 2.1.0 Ok\r\n"
#define RCPT_OK "250 2.1.5 Ok\r\n"
#define GO_AHEAD "354 Start mail input; end with <CRLF>.<CRLF>\r\n"
#define BYE "221 2.0.0 foo.com Service closing transmission channel\r\n"
#define OK "250 2.0.0 Ok\r\n"
#define NEED_MAIL "503 5.5.1 Need MAIL command\r\n"

static const struct smtp_server_config relay = {.hostname = "foo.com"};
static const struct smtp_server_config appendix_d = {.hostname = "foo.com", .ask_vrfy = true};
static const struct smtp_server_config small = {.hostname = "foo.com", .max_size = 64};
static const struct smtp_server_config plain_helo = {
    .hostname = "foo.com", .no_pipelining = true, .no_8bitmime = true, .no_enhanced = true};
/* Port 587: STARTTLS, then AUTH, then mail (RFC 6409, RFC 3207, RFC 4954). */
static const struct smtp_server_config submission = {
    .hostname = "foo.com", .starttls = true, .auth = true, .auth_requires_tls = true,
    .submission = true};

/* Port 465 style: TLS from the first byte (RFC 8314), AUTH offered at once. */
static const struct smtp_server_config implicit_tls = {
    .hostname = "foo.com", .starttls = true, .auth = true, .auth_requires_tls = true,
    .submission = true, .tls_active = true};
/* Port 25 that insists on TLS before mail (RFC 3207 4). */
static const struct smtp_server_config tls_first = {
    .hostname = "foo.com", .starttls = true, .require_tls = true};

#define EHLO_SUB_CLEAR                    \
    "250-foo.com greets bar.com\r\n"      \
    "250-PIPELINING\r\n"                  \
    "250-SIZE 10485760\r\n"               \
    "250-8BITMIME\r\n"                    \
    "250-ENHANCEDSTATUSCODES\r\n"         \
    "250 STARTTLS\r\n"
#define EHLO_SUB_TLS                      \
    "250-foo.com greets bar.com\r\n"      \
    "250-PIPELINING\r\n"                  \
    "250-SIZE 10485760\r\n"               \
    "250-8BITMIME\r\n"                    \
    "250-ENHANCEDSTATUSCODES\r\n"         \
    "250 AUTH PLAIN LOGIN\r\n"
#define TLS_UP "EHLO bar.com\r\nSTARTTLS\r\n<TLS>EHLO bar.com\r\n"
#define TLS_UP_OUT GREET EHLO_SUB_CLEAR "220 2.0.0 Ready to start TLS\r\n" EHLO_SUB_TLS
/* base64("\0alice\0secret") and base64("\0alice\0wrong") */
#define PLAIN_OK "AGFsaWNlAHNlY3JldA=="
#define PLAIN_BAD "AGFsaWNlAHdyb25n"
#define AUTH_OK "235 2.7.0 Authentication successful\r\n"

/* want_msg for a refused message: its lines were handed over and are
 * dropped on DATA_ABORT, whatever they were. */
#define ANY_MSG "*"

struct scase {
    const char *name;
    const struct smtp_server_config *cfg;
    const char *in;
    const char *want;     /* every byte the server sends */
    const char *want_msg; /* the message lines handed over, NULL: none */
};

/* RFC 5321 Appendix D: the client's lines replayed, the codes the RFC's
 * server gives (our texts differ, the codes may not). D.1's second text
 * line "...etc. etc. etc." is what travels, so the message holds
 * "..etc. etc. etc." (RFC 5321 4.5.2: the first dot is the stuffing). */
static const struct scase appendix[] = {
    {"D.1 typical transaction", &appendix_d,
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
     GREET EHLO_OUT MAIL_OK RCPT_OK "550 5.1.1 No such user here\r\n" RCPT_OK GO_AHEAD
     "250 2.0.0 Ok: queued as Q1\r\n" BYE,
     "Blah blah blah...\r\n..etc. etc. etc.\r\n"},
    {"D.2 aborted transaction", &appendix_d,
     "EHLO bar.com\r\n"
     "MAIL FROM:<Smith@bar.com>\r\n"
     "RCPT TO:<Jones@foo.com>\r\n"
     "RCPT TO:<Green@foo.com>\r\n"
     "RSET\r\n"
     "QUIT\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK "550 5.1.1 No such user here\r\n" OK BYE, NULL},
    {"D.3 step 1, source host to relay", &appendix_d,
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
     GREET EHLO_OUT MAIL_OK RCPT_OK GO_AHEAD "250 2.0.0 Ok: queued as Q1\r\n" BYE,
     "Date: Thu, 21 May 1998 05:33:29 -0700\r\n"
     "From: John Q. Public <JQP@bar.com>\r\n"
     "Subject: The Next Meeting of the Board\r\n"
     "To: Jones@xyz.com\r\n"
     "\r\n"
     "Bill:\r\n"
     "The next meeting of the board of directors will be\r\n"
     "on Tuesday.\r\n"
     "John.\r\n"},
    {"D.4 verifying and sending", &appendix_d,
     "EHLO bar.com\r\n"
     "VRFY Crispin\r\n"
     "MAIL FROM:<EAK@bar.com>\r\n"
     "RCPT TO:<Admin.MRC@foo.com>\r\n"
     "DATA\r\n"
     "Blah blah blah...\r\n"
     "...etc. etc. etc.\r\n"
     ".\r\n"
     "QUIT\r\n",
     GREET EHLO_OUT "250 2.1.5 Mark Crispin <Admin.MRC@foo.com>\r\n" MAIL_OK RCPT_OK GO_AHEAD
     "250 2.0.0 Ok: queued as Q1\r\n" BYE,
     "Blah blah blah...\r\n..etc. etc. etc.\r\n"},
};

/* The codes of the RFC's server lines, in order, one per reply. */
static const char *const appendix_codes[] = {
    "220 250 250 250 550 250 354 250 221",
    "220 250 250 250 550 250 221",
    "220 250 250 250 354 250 221",
    "220 250 250 250 250 354 250 221",
};

static const struct scase cases[] = {
    /* command order (RFC 5321 4.1.4, 3.3): 503 5.5.1 */
    {"RCPT before MAIL", &relay, "EHLO bar.com\r\nRCPT TO:<a@foo.com>\r\n",
     GREET EHLO_OUT NEED_MAIL, NULL},
    {"DATA before MAIL", &relay, "EHLO bar.com\r\nDATA\r\n", GREET EHLO_OUT NEED_MAIL, NULL},
    {"DATA before RCPT", &relay, "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nDATA\r\n",
     GREET EHLO_OUT MAIL_OK "503 5.5.1 Need RCPT command\r\n", NULL},
    {"DATA after every RCPT refused", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<Green@foo.com>\r\nDATA\r\n",
     GREET EHLO_OUT MAIL_OK "550 5.1.1 No such user here\r\n" "554 5.5.1 No valid recipients\r\n",
     NULL},
    {"MAIL twice", &relay, "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nMAIL FROM:<b@bar.com>\r\n",
     GREET EHLO_OUT MAIL_OK "503 5.5.1 Nested MAIL command\r\n", NULL},
    {"MAIL before EHLO", &relay, "MAIL FROM:<a@bar.com>\r\n",
     GREET "503 5.5.1 Send HELO/EHLO first\r\n", NULL},
    {"RSET ends the transaction", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRSET\r\nRCPT TO:<b@foo.com>\r\n",
     GREET EHLO_OUT MAIL_OK OK NEED_MAIL, NULL},
    {"EHLO inside a transaction resets it", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nEHLO bar.com\r\nRCPT TO:<b@foo.com>\r\n",
     GREET EHLO_OUT MAIL_OK EHLO_OUT NEED_MAIL, NULL},
    /* bad input: the codec's replies */
    {"unknown verb", &relay, "FOO bar\r\n", GREET "500 5.5.1 Command unrecognized\r\n", NULL},
    {"empty line", &relay, "\r\n", GREET "500 5.5.1 Command unrecognized\r\n", NULL},
    {"MAIL without brackets", &relay, "EHLO bar.com\r\nMAIL FROM:a@bar.com\r\n",
     GREET EHLO_OUT "501 5.1.7 Bad sender address syntax\r\n", NULL},
    {"EHLO without a domain", &relay, "EHLO\r\n",
     GREET "501 5.5.4 Syntax error in parameters or arguments\r\n", NULL},
    {"DATA with an argument", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\nDATA now\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK "501 5.5.4 Syntax error in parameters or arguments\r\n",
     NULL},
    {"command line over 512 octets, then resync", &relay,
     "NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nNOOP\r\n",
     GREET "500 5.5.6 Line too long\r\n" OK, NULL},
    {"lower-case verbs and keywords", &relay,
     "ehlo bar.com\r\nmail from:<a@bar.com>\r\nrcpt to:<b@foo.com>\r\nquit\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK BYE, NULL},
    /* HELO (RFC 5321 4.1.1.1): one line, no extensions, no parameters */
    {"HELO gets a single line", &relay, "HELO bar.com\r\n", GREET "250 foo.com greets bar.com\r\n",
     NULL},
    {"SIZE after HELO", &relay, "HELO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=100\r\n",
     GREET "250 foo.com greets bar.com\r\n" "555 5.5.4 MAIL parameters need EHLO\r\n", NULL},
    {"no ENHANCEDSTATUSCODES: plain replies", &plain_helo,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<Green@foo.com>\r\n",
     GREET "250-foo.com greets bar.com\r\n250 SIZE 10485760\r\n" "250 Ok\r\n"
     "550 No such user here\r\n", NULL},
    /* the caller's decisions */
    {"sender refused", &relay, "EHLO bar.com\r\nMAIL FROM:<spammer@example.net>\r\n",
     GREET EHLO_OUT "550 5.7.1 Sender rejected\r\n", NULL},
    {"greylisted recipient", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<grey@example.com>\r\n",
     GREET EHLO_OUT MAIL_OK "451 4.7.1 Greylisted, try again later\r\n", NULL},
    {"relay denied", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<bob@elsewhere.example>\r\n",
     GREET EHLO_OUT MAIL_OK "550 5.7.1 Relay access denied\r\n", NULL},
    {"mailbox full", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<full@example.com>\r\n",
     GREET EHLO_OUT MAIL_OK "452 4.2.2 Mailbox full\r\n", NULL},
    {"null reverse-path", &relay, "EHLO bar.com\r\nMAIL FROM:<>\r\n", GREET EHLO_OUT MAIL_OK, NULL},
    /* SIZE (RFC 1870) */
    {"declared SIZE over the limit", &small, "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=65\r\n",
     GREET "250-foo.com greets bar.com\r\n250-PIPELINING\r\n250-SIZE 64\r\n250-8BITMIME\r\n"
     "250 ENHANCEDSTATUSCODES\r\n"
     "552 5.3.4 Message size exceeds fixed maximum message size\r\n", NULL},
    {"message over the limit, session goes on", &small,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com> SIZE=60\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n"
     "0123456789012345678901234567890123456789\r\n"
     "0123456789012345678901234567890123456789\r\n.\r\nNOOP\r\n",
     GREET "250-foo.com greets bar.com\r\n250-PIPELINING\r\n250-SIZE 64\r\n250-8BITMIME\r\n"
     "250 ENHANCEDSTATUSCODES\r\n" MAIL_OK RCPT_OK GO_AHEAD
     "552 5.3.4 Message size exceeds fixed maximum message size\r\n" OK,
     "0123456789012345678901234567890123456789\r\n"},
    /* DATA */
    {"dot-stuffed lines come out unstuffed", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n"
     "..\r\n...\r\n..hidden\r\n.\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK GO_AHEAD "250 2.0.0 Ok: queued as Q1\r\n",
     ".\r\n..\r\n.hidden\r\n"},
    {"bare LF in the message", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\n"
     "one\n.\ntwo\r\n.\r\nNOOP\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK GO_AHEAD "550 5.5.2 Bare <LF> received in message\r\n" OK,
     ANY_MSG},
    {"two messages in one session", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\nDATA\r\nfirst\r\n.\r\n"
     "MAIL FROM:<a@bar.com>\r\nRCPT TO:<c@foo.com>\r\nDATA\r\nsecond\r\n.\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK GO_AHEAD "250 2.0.0 Ok: queued as Q1\r\n" MAIL_OK RCPT_OK
     GO_AHEAD "250 2.0.0 Ok: queued as Q2\r\n",
     "first\r\nsecond\r\n"},
    /* RFC 2920: a batch, answered in order */
    {"pipelined batch", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\nRCPT TO:<Green@foo.com>\r\n"
     "RCPT TO:<c@foo.com>\r\nDATA\r\n",
     GREET EHLO_OUT MAIL_OK RCPT_OK "550 5.1.1 No such user here\r\n" RCPT_OK GO_AHEAD, NULL},
    {"pipelined batch, every RCPT refused", &relay,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<Green@foo.com>\r\n"
     "RCPT TO:<grey@example.com>\r\nDATA\r\nRSET\r\nQUIT\r\n",
     GREET EHLO_OUT MAIL_OK "550 5.1.1 No such user here\r\n"
     "451 4.7.1 Greylisted, try again later\r\n" "554 5.5.1 No valid recipients\r\n" OK BYE,
     NULL},
    /* the other commands */
    {"NOOP, HELP, VRFY, EXPN", &relay, "NOOP\r\nHELP\r\nVRFY bob\r\nEXPN staff\r\n",
     GREET OK
     "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH\r\n"
     "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
     "502 5.5.1 EXPN not implemented\r\n", NULL},
    {"nothing after QUIT is read", &relay, "QUIT\r\nNOOP\r\n", GREET BYE, NULL},
    {"STARTTLS not offered", &relay, "EHLO bar.com\r\nSTARTTLS\r\n",
     GREET EHLO_OUT "502 5.5.1 STARTTLS not available\r\n", NULL},
    {"AUTH not offered", &relay, "EHLO bar.com\r\nAUTH PLAIN " PLAIN_OK "\r\n",
     GREET EHLO_OUT "502 5.5.1 AUTH not available\r\n", NULL},
    /* submission: STARTTLS (RFC 3207), AUTH (RFC 4954) */
    {"AUTH before STARTTLS", &submission, "EHLO bar.com\r\nAUTH PLAIN " PLAIN_OK "\r\n",
     GREET EHLO_SUB_CLEAR "530 5.7.0 Must issue a STARTTLS command first\r\n", NULL},
    {"MAIL before AUTH", &submission, TLS_UP "MAIL FROM:<alice@foo.com>\r\n",
     TLS_UP_OUT "530 5.7.0 Authentication required\r\n", NULL},
    {"STARTTLS forgets the EHLO", &submission,
     "EHLO bar.com\r\nSTARTTLS\r\n<TLS>MAIL FROM:<alice@foo.com>\r\n",
     GREET EHLO_SUB_CLEAR "220 2.0.0 Ready to start TLS\r\n" "503 5.5.1 Send HELO/EHLO first\r\n",
     NULL},
    {"STARTTLS twice", &submission, TLS_UP "STARTTLS\r\n",
     TLS_UP_OUT "503 5.5.1 TLS already active\r\n", NULL},
    {"commands injected after STARTTLS are dropped", &submission,
     "EHLO bar.com\r\nSTARTTLS\r\nMAIL FROM:<evil@example.net>\r\n<TLS>EHLO bar.com\r\nQUIT\r\n",
     TLS_UP_OUT BYE, NULL},
    {"AUTH PLAIN with initial response", &submission,
     TLS_UP "AUTH PLAIN " PLAIN_OK "\r\nMAIL FROM:<alice@foo.com>\r\n",
     TLS_UP_OUT AUTH_OK MAIL_OK, NULL},
    {"AUTH PLAIN after an empty challenge", &submission, TLS_UP "AUTH PLAIN\r\n" PLAIN_OK "\r\n",
     TLS_UP_OUT "334 \r\n" AUTH_OK, NULL},
    {"AUTH PLAIN wrong password", &submission,
     TLS_UP "AUTH PLAIN " PLAIN_BAD "\r\nMAIL FROM:<alice@foo.com>\r\n",
     TLS_UP_OUT "535 5.7.8 Authentication credentials invalid\r\n"
     "530 5.7.0 Authentication required\r\n", NULL},
    {"AUTH LOGIN", &submission, TLS_UP "AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n",
     TLS_UP_OUT "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" AUTH_OK, NULL},
    {"AUTH LOGIN with the user name inline", &submission, TLS_UP "AUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n",
     TLS_UP_OUT "334 UGFzc3dvcmQ6\r\n" AUTH_OK, NULL},
    {"AUTH cancelled with *", &submission, TLS_UP "AUTH LOGIN\r\n*\r\nNOOP\r\n",
     TLS_UP_OUT "334 VXNlcm5hbWU6\r\n501 5.0.0 Authentication cancelled\r\n" OK, NULL},
    {"AUTH response not base64", &submission, TLS_UP "AUTH PLAIN\r\n!!!!\r\n",
     TLS_UP_OUT "334 \r\n501 5.5.2 Cannot decode response\r\n", NULL},
    {"AUTH PLAIN message without NULs", &submission, TLS_UP "AUTH PLAIN YWxpY2U=\r\n",
     TLS_UP_OUT "535 5.7.8 Authentication credentials invalid\r\n", NULL},
    {"AUTH twice", &submission, TLS_UP "AUTH PLAIN " PLAIN_OK "\r\nAUTH PLAIN " PLAIN_OK "\r\n",
     TLS_UP_OUT AUTH_OK "503 5.5.1 Already authenticated\r\n", NULL},
    {"AUTH with an unknown mechanism", &submission, TLS_UP "AUTH CRAM-MD5\r\n",
     TLS_UP_OUT "504 5.5.4 Unrecognized authentication type\r\n", NULL},
    {"HELO then AUTH", &submission, TLS_UP "HELO bar.com\r\nAUTH PLAIN " PLAIN_OK "\r\n",
     TLS_UP_OUT "250 foo.com greets bar.com\r\n503 5.5.1 Send EHLO first\r\n", NULL},
    {"TLS from the start: no STARTTLS offered", &implicit_tls,
     "EHLO bar.com\r\nSTARTTLS\r\nAUTH PLAIN " PLAIN_OK "\r\n",
     GREET EHLO_SUB_TLS "503 5.5.1 TLS already active\r\n" AUTH_OK, NULL},
    {"MAIL before STARTTLS where TLS is required", &tls_first,
     "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nSTARTTLS\r\n<TLS>EHLO bar.com\r\n"
     "MAIL FROM:<a@bar.com>\r\n",
     GREET EHLO_SUB_CLEAR "530 5.7.0 Must issue a STARTTLS command first\r\n"
     "220 2.0.0 Ready to start TLS\r\n"
     "250-foo.com greets bar.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
     "250 ENHANCEDSTATUSCODES\r\n" MAIL_OK, NULL},
    {"BODY=8BITMIME not offered", &plain_helo, "EHLO bar.com\r\nMAIL FROM:<a@bar.com> BODY=8BITMIME\r\n",
     GREET "250-foo.com greets bar.com\r\n250 SIZE 10485760\r\n"
     "555 BODY=8BITMIME not supported\r\n", NULL},
    {"AUTH inside a transaction", &submission,
     TLS_UP "AUTH PLAIN " PLAIN_OK "\r\nMAIL FROM:<alice@foo.com>\r\nAUTH LOGIN\r\n",
     TLS_UP_OUT AUTH_OK MAIL_OK "503 5.5.1 Not permitted during a mail transaction\r\n", NULL},
};

static void check_case(const struct scase *c)
{
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        static struct run r;
        run_input(&r, c->cfg, c->in, modes[m]);
        if (r.out_len != strlen(c->want) || memcmp(r.out, c->want, r.out_len) != 0)
            fail_msg("%s (%s): sent\n%.*s\nwant\n%s", c->name, m ? "bytewise" : "whole",
                     (int)r.out_len, r.out, c->want);
        const char *want_msg = c->want_msg ? c->want_msg : "";
        if (strcmp(want_msg, ANY_MSG) != 0 && (r.msg_len != strlen(want_msg) || memcmp(r.msg, want_msg, r.msg_len) != 0))
            fail_msg("%s (%s): message\n%.*s\nwant\n%s", c->name, m ? "bytewise" : "whole",
                     (int)r.msg_len, r.msg, want_msg);
        smtp_server_free(r.s);
    }
}

/* The code of each reply in out[0..n), space-separated. */
static void reply_codes(const char *out, size_t n, char *codes, size_t cap)
{
    size_t o = 0;
    codes[0] = 0;
    for (size_t i = 0; i + 4 <= n;) {
        const char *eol = memchr(out + i, '\n', n - i);
        assert_non_null(eol);
        if (out[i + 3] == ' ' || out[i + 3] == '\r') /* the last line of a reply */
            o += (size_t)snprintf(codes + o, cap - o, "%s%.3s", o ? " " : "", out + i);
        i = (size_t)(eol - out) + 1;
    }
}

static void test_appendix_d(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(appendix); i++) {
        check_case(&appendix[i]);
        static struct run r;
        char codes[128];
        run_input(&r, appendix[i].cfg, appendix[i].in, FEED_WHOLE);
        reply_codes(r.out, r.out_len, codes, sizeof codes);
        if (strcmp(codes, appendix_codes[i]) != 0)
            fail_msg("%s: codes %s, RFC %s", appendix[i].name, codes, appendix_codes[i]);
        smtp_server_free(r.s);
    }
}

/* D.3 step 2: the relay passes the message on with its Received line. */
static void test_appendix_d3_step2(void **state)
{
    (void)state;
    static const struct smtp_server_config xyz = {.hostname = "xyz.com"};
    static const char in[] = "EHLO foo.com\r\n"
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
                             "QUIT\r\n";
    static struct run r;
    char codes[128];
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        run_input(&r, &xyz, in, modes[m]);
        reply_codes(r.out, r.out_len, codes, sizeof codes);
        assert_string_equal(codes, "220 250 250 250 354 250 221");
        const char *body = strstr(in, "DATA\r\n") + 6;
        size_t body_len = (size_t)(strstr(in, "\r\n.\r\n") + 2 - body);
        assert_int_equal(r.msg_len, body_len);
        assert_memory_equal(r.msg, body, body_len);
        smtp_server_free(r.s);
    }
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        check_case(&cases[i]);
}

/* Every state change is one STATE event, "from>to", in order. */
static void test_trace_d1(void **state)
{
    (void)state;
    static struct run r;
    run_input(&r, &appendix_d, appendix[0].in, FEED_BYTEWISE);
    assert_string_equal(r.trace,
                        "S:220 C:EHLO S:250 [connected>ready]"
                        "C:MAIL mail S:250/2.1.0 [ready>mail]"
                        "C:RCPT rcpt S:250/2.1.5 [mail>rcpt]"
                        "C:RCPT rcpt S:550/5.1.1 "
                        "C:RCPT rcpt S:250/2.1.5 "
                        "C:DATA S:354 [rcpt>data]"
                        "data-end S:250/2.0.0 [data>ready]"
                        "C:QUIT S:221/2.0.0 [ready>closed]close");
    assert_int_equal(r.commands, 7);
    assert_int_equal(r.replies, 9);
    assert_int_equal(r.closes, 1);
    smtp_server_free(r.s);
}

static void test_starttls_trace_and_discard(void **state)
{
    (void)state;
    static struct run r;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        run_input(&r, &submission,
                  "EHLO bar.com\r\nSTARTTLS\r\nMAIL FROM:<evil@example.net>\r\n<TLS>EHLO bar.com\r\n",
                  modes[m]);
        assert_string_equal(r.trace, "S:220 C:EHLO S:250 [connected>ready]"
                                     "C:STARTTLS S:220/2.0.0 [ready>tls-handshake]starttls "
                                     "[tls-handshake>connected]C:EHLO S:250 [connected>ready]");
        assert_int_equal(r.discarded, strlen("MAIL FROM:<evil@example.net>\r\n"));
        assert_true(smtp_server_tls(r.s));
        assert_false(smtp_server_authenticated(r.s));
        smtp_server_free(r.s);
    }
}

/* The server must not say 250 before the caller stored the message. */
static void test_no_250_before_queued(void **state)
{
    (void)state;
    struct smtp_server *s = smtp_server_new(&relay);
    assert_non_null(s);
    static const char in[] = "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\n"
                             "DATA\r\nhello\r\n.\r\nNOOP\r\n";
    assert_int_equal(smtp_server_feed(s, in, strlen(in)), strlen(in));
    struct smtp_server_event ev;
    int st, ends = 0;
    while ((st = smtp_server_next(s, &ev)) == SMTP_SERVER_EVENT) {
        if (ev.type == SMTP_SERVER_EV_MAIL || ev.type == SMTP_SERVER_EV_RCPT)
            assert_int_equal(smtp_server_accept(s, NULL), 0);
        if (ev.type == SMTP_SERVER_EV_DATA_END) {
            ends++;
            assert_int_equal(ev.size, 7);
        }
    }
    assert_int_equal(st, SMTP_SERVER_NEED_MORE);
    assert_int_equal(ends, 1);
    assert_int_equal(smtp_server_pending(s), SMTP_SERVER_DECIDE_DATA);
    assert_int_equal(smtp_server_accept(s, NULL), SMTP_SERVER_ERR_NOT_PENDING);
    const char *out;
    size_t n = smtp_server_output(s, &out);
    /* the last thing sent is the 354; the NOOP waits behind the decision */
    assert_true(n >= strlen(GO_AHEAD));
    assert_memory_equal(out + n - strlen(GO_AHEAD), GO_AHEAD, strlen(GO_AHEAD));
    smtp_server_consumed(s, n);
    assert_int_equal(smtp_server_queued(s, "bad id"), SMTP_SERVER_ERR_INVALID);
    assert_int_equal(smtp_server_reject(s, 250, NULL, "no"), SMTP_SERVER_ERR_INVALID);
    assert_int_equal(smtp_server_queued(s, "A1B2"), 0);
    while ((st = smtp_server_next(s, &ev)) == SMTP_SERVER_EVENT)
        ;
    n = smtp_server_output(s, &out);
    assert_bytes("250 2.0.0 Ok: queued as A1B2\r\n" OK, out, n);
    assert_int_equal(smtp_server_queued(s, "A1B2"), SMTP_SERVER_ERR_NOT_PENDING);
    smtp_server_free(s);
}

/* RFC 5321 4.5.3.1.8: 100 recipients at least; the 101st gets 452. */
static void test_recipient_limit(void **state)
{
    (void)state;
    static char in[8192];
    static char want[8192];
    size_t o = 0, w = 0;
    o += (size_t)snprintf(in + o, sizeof in - o, "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\n");
    w += (size_t)snprintf(want + w, sizeof want - w, GREET EHLO_OUT MAIL_OK);
    for (int i = 0; i < 101; i++) {
        o += (size_t)snprintf(in + o, sizeof in - o, "RCPT TO:<u%d@foo.com>\r\n", i);
        w += (size_t)snprintf(want + w, sizeof want - w, "%s",
                              i < 100 ? RCPT_OK : "452 4.5.3 Too many recipients\r\n");
    }
    struct scase c = {"101 recipients", &relay, in, want, NULL};
    check_case(&c);
}

/* RFC 5321 4.5.3.1.4: 512 octets with CRLF is the longest command line;
 * 513 gets 500 5.5.6. A line over the line store (1026) is dropped to its
 * LF. After each the next command is read normally (resync). */
static void test_overlong_lines(void **state)
{
    (void)state;
    static const size_t lens[] = {512, 513, 1026, 1027, 3000};
    for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
        static char in[4096];
        static char want[2048];
        size_t body = lens[i] - 2 - 5; /* "NOOP " ... CRLF */
        memcpy(in, "NOOP ", 5);
        memset(in + 5, 'x', body);
        strcpy(in + 5 + body, "\r\nNOOP\r\n");
        snprintf(want, sizeof want, GREET "%s" OK,
                 lens[i] == 512 ? OK : "500 5.5.6 Line too long\r\n");
        struct scase c = {"long line", &relay, in, want, NULL};
        check_case(&c);
    }
}

/* RFC 5321 4.5.3.1.6: a text line is 1000 octets with CRLF. A longer one
 * is read to the end of the data, then the message is refused (500 5.5.6,
 * the codec's choice) and the session goes on. */
static void test_long_data_line(void **state)
{
    (void)state;
    static const size_t lens[] = {1000, 1001, 2500};
    for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
        static char in[4096], want[1024], msg[4096];
        size_t o = (size_t)snprintf(in, sizeof in,
                                    "EHLO bar.com\r\nMAIL FROM:<a@bar.com>\r\nRCPT TO:<b@foo.com>\r\n"
                                    "DATA\r\n");
        memset(in + o, 'y', lens[i] - 2);
        memset(msg, 'y', lens[i] - 2);
        strcpy(msg + lens[i] - 2, "\r\n");
        strcpy(in + o + lens[i] - 2, "\r\n.\r\nNOOP\r\n");
        snprintf(want, sizeof want, GREET EHLO_OUT MAIL_OK RCPT_OK GO_AHEAD "%s" OK,
                 lens[i] == 1000 ? "250 2.0.0 Ok: queued as Q1\r\n"
                                 : "500 5.5.6 Line too long in message text\r\n");
        struct scase c = {"long text line", &relay, in, want, lens[i] == 1000 ? msg : ANY_MSG};
        check_case(&c);
    }
}

/* The output queue fills while the caller does not drain it: the machine
 * stops reading and goes on once drained; nothing is lost or reordered. */
static void test_output_backpressure(void **state)
{
    (void)state;
    struct smtp_server *s = smtp_server_new(&relay);
    assert_non_null(s);
    static char in[600 * 6];
    static char sent[16384], want[16384];
    size_t w = (size_t)snprintf(want, sizeof want, GREET);
    for (int i = 0; i < 600; i++) {
        memcpy(in + 6 * i, "NOOP\r\n", 6);
        w += (size_t)snprintf(want + w, sizeof want - w, OK);
    }
    size_t off = 0, got = 0, most = 0, stalls = 0;
    struct smtp_server_event ev;
    const char *out;
    for (;;) {
        size_t took = smtp_server_feed(s, in + off, sizeof in - off);
        off += took;
        while (smtp_server_next(s, &ev) == SMTP_SERVER_EVENT)
            ;
        size_t k = smtp_server_output(s, &out);
        if (k > most)
            most = k;
        if (took == 0 || off == sizeof in) { /* stuck (or done): drain */
            stalls += took == 0;
            memcpy(sent + got, out, k);
            got += k;
            smtp_server_consumed(s, k);
            if (off == sizeof in && k == 0)
                break;
        }
    }
    assert_bytes(want, sent, got);
    assert_true(stalls > 0);
    assert_true(most >= SMTP_SERVER_OUT_MAX - SMTP_SERVER_REPLY_MAX);
    assert_true(most <= SMTP_SERVER_OUT_MAX);
    smtp_server_free(s);
}

/* reset: a new connection on the same machine, greeting first. */
static void test_reset(void **state)
{
    (void)state;
    struct smtp_server *s = smtp_server_new(&submission);
    assert_non_null(s);
    static const char in[] = "EHLO bar.com\r\nSTARTTLS\r\n";
    smtp_server_feed(s, in, strlen(in));
    struct smtp_server_event ev;
    while (smtp_server_next(s, &ev) == SMTP_SERVER_EVENT)
        ;
    assert_int_equal(smtp_server_state(s), SMTP_SERVER_TLS);
    assert_int_equal(smtp_server_tls_started(s), 0);
    assert_true(smtp_server_tls(s));
    smtp_server_reset(s);
    assert_int_equal(smtp_server_state(s), SMTP_SERVER_CONNECTED);
    assert_false(smtp_server_tls(s));
    const char *out;
    size_t n = smtp_server_output(s, &out);
    assert_bytes(GREET, out, n);
    assert_int_equal(smtp_server_next(s, &ev), SMTP_SERVER_EVENT);
    assert_int_equal(ev.type, SMTP_SERVER_EV_REPLY);
    assert_int_equal(ev.code, 220);
    smtp_server_consumed(s, n);
    smtp_server_feed(s, "EHLO bar.com\r\n", 14);
    while (smtp_server_next(s, &ev) == SMTP_SERVER_EVENT)
        ;
    n = smtp_server_output(s, &out);
    assert_bytes(EHLO_SUB_CLEAR, out, n); /* STARTTLS offered again */
    smtp_server_free(s);
}

static void test_names_and_errors(void **state)
{
    (void)state;
    assert_string_equal(smtp_server_state_names[SMTP_SERVER_CONNECTED], "connected");
    assert_string_equal(smtp_server_state_names[SMTP_SERVER_CLOSED], "closed");
    assert_string_equal(smtp_server_event_names[SMTP_SERVER_EV_CLOSE], "close");
    assert_string_equal(smtp_server_decision_names[SMTP_SERVER_DECIDE_DATA], "data");
    assert_string_equal(smtp_server_strerror(SMTP_SERVER_ERR_OUTPUT_FULL), "output queue full");
    struct smtp_server_config bad = {.hostname = "foo com"};
    assert_null(smtp_server_new(&bad));
    bad.hostname = NULL;
    assert_null(smtp_server_new(&bad));
    struct smtp_server *s = smtp_server_new(&relay);
    assert_int_equal(smtp_server_tls_started(s), SMTP_SERVER_ERR_NOT_PENDING);
    assert_int_equal(smtp_server_reject(s, 550, "5.1.1", "x"), SMTP_SERVER_ERR_NOT_PENDING);
    smtp_server_feed(s, "QUIT\r\n", 6);
    struct smtp_server_event ev;
    while (smtp_server_next(s, &ev) == SMTP_SERVER_EVENT)
        ;
    assert_int_equal(smtp_server_next(s, &ev), SMTP_SERVER_ERR_CLOSED);
    assert_int_equal(smtp_server_feed(s, "NOOP\r\n", 6), 6);
    assert_int_equal(smtp_server_state(s), SMTP_SERVER_CLOSED);
    smtp_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_d),
        cmocka_unit_test(test_appendix_d3_step2),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_trace_d1),
        cmocka_unit_test(test_starttls_trace_and_discard),
        cmocka_unit_test(test_no_250_before_queued),
        cmocka_unit_test(test_recipient_limit),
        cmocka_unit_test(test_overlong_lines),
        cmocka_unit_test(test_long_data_line),
        cmocka_unit_test(test_output_backpressure),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_names_and_errors),
    };
    return cmocka_run_group_tests_name("smtp_server", tests, NULL, NULL);
}
