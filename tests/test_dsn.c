/* Delivery status notifications (RFC 3464 in an RFC 6522 multipart/report):
 * the exact bytes of a bounce with two recipients and returned headers, the
 * default subjects per action, the MIME structure read back by mime.h, every
 * output size below the needed one, and a table of bad arguments. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/dsn.h"
#include "protocols/mime.h"

/* Thu, 26 Nov 2026 09:01:40 +0000 and 20 s later. */
#define ARRIVAL 1795683700
#define NOW 1795683720

static const char original[] = "Received: from pc.example.com (pc.example.com [192.0.2.10])\r\n"
                               "\tby mail.example.com; Thu, 26 Nov 2026 09:01:40 +0000\r\n"
                               "From: Alice <alice@example.com>\r\n"
                               "To: friend@example.org\n" /* a bare LF: returned as CRLF */
                               "Subject: hi\r\n"
                               "\r\n"
                               "the body is not returned\r\n";

static struct dsn_rcpt rcpts[2];
static struct dsn_report report;

static void setup_report(void)
{
    memset(rcpts, 0, sizeof rcpts);
    rcpts[0] = (struct dsn_rcpt){
        .final_recipient = "friend@example.org",
        .action = DSN_ACTION_FAILED,
        .status = "5.1.1",
        .remote_mta = "mx1.example.org",
        .diagnostic = "550 5.1.1 <friend@example.org>: Recipient address rejected: "
                      "User unknown in local recipient table",
        .has_last_attempt = true,
        .last_attempt = NOW,
        .explanation = "host mx1.example.org[192.0.2.25] said: 550 5.1.1 User unknown",
    };
    rcpts[1] = (struct dsn_rcpt){
        .final_recipient = "bob@example.net",
        .original_recipient = "Bob@example.net",
        .action = DSN_ACTION_FAILED,
        .status = "5.1.10",
    };
    report = (struct dsn_report){
        .reporting_mta = "mail.example.com",
        .from = "MAILER-DAEMON@mail.example.com",
        .to = "alice@example.com",
        .date = NOW,
        .message_id = "<20261126090200.1@mail.example.com>",
        .boundary = "3F2A91C07B/mail.example.com",
        .has_arrival = true,
        .arrival = ARRIVAL,
        .rcpts = rcpts,
        .nrcpts = 2,
        .original = original,
        .original_len = sizeof original - 1,
    };
}

static const char want_bounce[] =
    "From: Mail Delivery System <MAILER-DAEMON@mail.example.com>\r\n"
    "To: alice@example.com\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Date: Thu, 26 Nov 2026 09:02:00 +0000\r\n"
    "Message-ID: <20261126090200.1@mail.example.com>\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    " boundary=\"3F2A91C07B/mail.example.com\"\r\n"
    "\r\n"
    "This is a MIME-encapsulated message.\r\n"
    "\r\n"
    "--3F2A91C07B/mail.example.com\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This is the mail system at host mail.example.com.\r\n"
    "\r\n"
    "Your message could not be delivered to one or more recipients.\r\n"
    "The reasons are below; the headers of your message are attached.\r\n"
    "\r\n"
    "<friend@example.org>: host mx1.example.org[192.0.2.25] said: 550 5.1.1 User unknown\r\n"
    "<bob@example.net>: 5.1.10\r\n"
    "\r\n"
    "--3F2A91C07B/mail.example.com\r\n"
    "Content-Description: Delivery report\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mail.example.com\r\n"
    "Arrival-Date: Thu, 26 Nov 2026 09:01:40 +0000\r\n"
    "\r\n"
    "Final-Recipient: rfc822; friend@example.org\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n"
    "Remote-MTA: dns; mx1.example.org\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <friend@example.org>: Recipient address\r\n"
    " rejected: User unknown in local recipient table\r\n"
    "Last-Attempt-Date: Thu, 26 Nov 2026 09:02:00 +0000\r\n"
    "\r\n"
    "Original-Recipient: rfc822; Bob@example.net\r\n"
    "Final-Recipient: rfc822; bob@example.net\r\n"
    "Action: failed\r\n"
    "Status: 5.1.10\r\n"
    "\r\n"
    "--3F2A91C07B/mail.example.com\r\n"
    "Content-Description: Undelivered Message Headers\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "Received: from pc.example.com (pc.example.com [192.0.2.10])\r\n"
    "\tby mail.example.com; Thu, 26 Nov 2026 09:01:40 +0000\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: friend@example.org\r\n"
    "Subject: hi\r\n"
    "\r\n"
    "--3F2A91C07B/mail.example.com--\r\n";

static void test_bounce_exact_bytes(void **state)
{
    (void)state;
    setup_report();
    char out[4096];
    size_t n = 99;
    assert_int_equal(dsn_build(&report, out, sizeof out, &n), DSN_OK);
    assert_bytes(want_bounce, out, n);
    assert_int_equal(out[n], '\0');
}

/* Every buffer smaller than needed (the NUL counted) is DSN_ERR_NO_SPACE
 * with an empty string and *out_len 0; exactly enough works. */
static void test_every_short_buffer(void **state)
{
    (void)state;
    setup_report();
    size_t need = sizeof want_bounce; /* the bytes and the NUL */
    char *out = malloc(need);
    assert_non_null(out);
    for (size_t cap = 1; cap < need; cap++) {
        size_t n = 7;
        assert_int_equal(dsn_build(&report, out, cap, &n), DSN_ERR_NO_SPACE);
        assert_int_equal(n, 0);
        assert_int_equal(out[0], '\0');
    }
    size_t n;
    assert_int_equal(dsn_build(&report, out, need, &n), DSN_OK);
    assert_bytes(want_bounce, out, n);
    free(out);
}

/* What a MIME reader makes of it: multipart/report with the three parts. */
static void test_mime_structure(void **state)
{
    (void)state;
    setup_report();
    char out[4096];
    size_t n;
    assert_int_equal(dsn_build(&report, out, sizeof out, &n), DSN_OK);
    struct mime_tree *t = mime_new();
    assert_non_null(t);
    assert_int_equal(mime_parse(t, out, n), MIME_OK);
    assert_int_equal(mime_count(t), 4);
    const struct mime_part *top = mime_part(t, 0);
    assert_string_equal(top->ctype.type, "multipart");
    assert_string_equal(top->ctype.subtype, "report");
    assert_string_equal(mime_param_get(&top->ctype, "report-type"), "delivery-status");
    assert_int_equal(top->n_children, 3);
    static const char *const want[3][2] = {
        {"text", "plain"}, {"message", "delivery-status"}, {"text", "rfc822-headers"}};
    for (int i = 0; i < 3; i++) {
        const struct mime_part *p = mime_part(t, (size_t)i + 1);
        assert_string_equal(p->ctype.type, want[i][0]);
        assert_string_equal(p->ctype.subtype, want[i][1]);
    }
    /* the headers part ends with the returned header's last field */
    const struct mime_part *h = mime_part(t, 3);
    const char *tail = "Subject: hi\r\n";
    assert_true(h->body_len >= strlen(tail));
    assert_memory_equal(out + h->body_off + h->body_len - strlen(tail), tail, strlen(tail));
    mime_free(t);
}

/* Subjects and the human part's wording follow the actions. */
static const struct {
    const char *name;
    enum dsn_action action;
    const char *subject_line;
    const char *sentence;
} action_cases[] = {
    {"failed", DSN_ACTION_FAILED, "Subject: Undelivered Mail Returned to Sender\r\n",
     "Your message could not be delivered to one or more recipients.\r\n"},
    {"delayed", DSN_ACTION_DELAYED, "Subject: Delayed Mail (still being retried)\r\n",
     "The mail system will keep trying; you need not send it again.\r\n"},
    {"delivered", DSN_ACTION_DELIVERED, "Subject: Successful Mail Delivery Report\r\n",
     "Your message was delivered to the recipients below.\r\n"},
    {"relayed", DSN_ACTION_RELAYED, "Subject: Successful Mail Delivery Report\r\n",
     "Action: relayed\r\n"},
};

static void test_actions(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(action_cases); i++) {
        setup_report();
        rcpts[0].action = action_cases[i].action;
        rcpts[0].status = action_cases[i].action == DSN_ACTION_DELAYED ? "4.4.1" : "2.0.0";
        report.nrcpts = 1;
        report.original_len = 0; /* no third part */
        report.has_arrival = false;
        char out[4096];
        size_t n;
        assert_int_equal(dsn_build(&report, out, sizeof out, &n), DSN_OK);
        if (!strstr(out, action_cases[i].subject_line) || !strstr(out, action_cases[i].sentence))
            fail_msg("%s:\n%s", action_cases[i].name, out);
        assert_null(strstr(out, "rfc822-headers"));
        assert_null(strstr(out, "Arrival-Date"));
        /* the last part is the delivery report, then the close delimiter */
        const char *end = "Last-Attempt-Date: Thu, 26 Nov 2026 09:02:00 +0000\r\n"
                          "\r\n--3F2A91C07B/mail.example.com--\r\n";
        assert_true(n > strlen(end));
        assert_string_equal(out + n - strlen(end), end);
    }
    setup_report();
    report.subject = "Returned mail: see transcript for details";
    report.from_display = "Mailer, Daemon";
    char out[4096];
    size_t n;
    assert_int_equal(dsn_build(&report, out, sizeof out, &n), DSN_OK);
    assert_non_null(strstr(out, "\r\nSubject: Returned mail: see transcript for details\r\n"));
    assert_true(strncmp(out, "From: \"Mailer, Daemon\" <MAILER-DAEMON@mail.example.com>\r\n",
                        57) == 0);
}

static const struct {
    const char *name;
    const char *status;
    bool ok;
} status_cases[] = {
    {"5.1.1", "5.1.1", true},       {"5.1.10", "5.1.10", true},
    {"4.4.7", "4.4.7", true},       {"2.0.0", "2.0.0", true},
    {"three digits", "5.123.456", true},
    {"class 3", "3.1.1", false},    {"class 1", "1.0.0", false},
    {"four digits", "5.1.1000", false}, {"no detail", "5.1", false},
    {"empty subject", "5..1", false}, {"trailing dot", "5.1.1.", false},
    {"trailing space", "5.1.1 ", false}, {"empty", "", false},
    {"letters", "5.a.1", false},
};

static void test_status_codes(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(status_cases); i++) {
        if (dsn_status_valid(status_cases[i].status) != status_cases[i].ok)
            fail_msg("%s", status_cases[i].name);
        setup_report();
        rcpts[1].status = status_cases[i].status;
        char out[4096];
        size_t n;
        assert_int_equal(dsn_build(&report, out, sizeof out, &n),
                         status_cases[i].ok ? DSN_OK : DSN_ERR_BAD_STATUS);
    }
    assert_false(dsn_status_valid(NULL));
}

/* Bad arguments, each a change to the good report. */
static const char evil_header[] = "From: a@example.com\r\n"
                                  "--3F2A91C07B/mail.example.com: x\r\n\r\n";
static const char broken_header[] = "From a@example.com\r\n\r\n";

static void bad_no_rcpts(void) { report.nrcpts = 0; }
static void bad_too_many(void) { report.nrcpts = DSN_MAX_RCPTS + 1; }
static void bad_no_from(void) { report.from = NULL; }
static void bad_from_no_at(void) { report.from = "MAILER-DAEMON"; }
static void bad_crlf_subject(void) { report.subject = "hi\r\nBcc: x@example.net"; }
static void bad_lf_diag(void) { rcpts[0].diagnostic = "550 x\nInjected: yes"; }
static void bad_no_final(void) { rcpts[1].final_recipient = NULL; }
static void bad_action(void) { rcpts[1].action = DSN_ACTION_COUNT; }
static void bad_boundary_long(void)
{
    report.boundary = "0123456789012345678901234567890123456789012345678901234567890123456789x";
}
static void bad_boundary_char(void) { report.boundary = "a\"b"; }
static void bad_boundary_space(void) { report.boundary = "ab "; }
static void bad_boundary_in_header(void)
{
    report.original = evil_header;
    report.original_len = sizeof evil_header - 1;
}
static void bad_header(void)
{
    report.original = broken_header;
    report.original_len = sizeof broken_header - 1;
}

static const struct {
    const char *name;
    void (*change)(void);
    enum dsn_err want;
} bad_cases[] = {
    {"no recipients", bad_no_rcpts, DSN_ERR_BAD_ARG},
    {"too many recipients", bad_too_many, DSN_ERR_BAD_ARG},
    {"no From", bad_no_from, DSN_ERR_BAD_ARG},
    {"From without @", bad_from_no_at, DSN_ERR_BAD_ARG},
    {"CRLF in Subject", bad_crlf_subject, DSN_ERR_BAD_ARG},
    {"LF in a diagnostic", bad_lf_diag, DSN_ERR_BAD_ARG},
    {"no final recipient", bad_no_final, DSN_ERR_BAD_ARG},
    {"action out of range", bad_action, DSN_ERR_BAD_ARG},
    {"boundary of 71", bad_boundary_long, DSN_ERR_BAD_BOUNDARY},
    {"boundary with a quote", bad_boundary_char, DSN_ERR_BAD_BOUNDARY},
    {"boundary ending in space", bad_boundary_space, DSN_ERR_BAD_BOUNDARY},
    {"boundary inside the returned header", bad_boundary_in_header, DSN_ERR_BAD_BOUNDARY},
    {"returned header does not parse", bad_header, DSN_ERR_BAD_HEADER},
};

static void test_bad_arguments(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        setup_report();
        bad_cases[i].change();
        char out[4096];
        size_t n = 5;
        enum dsn_err got = dsn_build(&report, out, sizeof out, &n);
        if (got != bad_cases[i].want)
            fail_msg("%s: got %s", bad_cases[i].name, dsn_strerror(got));
        assert_int_equal(n, 0);
        assert_int_equal(out[0], '\0');
    }
    char out[8];
    assert_int_equal(dsn_build(NULL, out, sizeof out, NULL), DSN_ERR_BAD_ARG);
    assert_int_equal(dsn_build(&report, out, 0, NULL), DSN_ERR_NO_SPACE);
    assert_string_equal(dsn_strerror(DSN_ERR_BAD_BOUNDARY), "DSN_ERR_BAD_BOUNDARY");
    assert_string_equal(dsn_strerror(DSN_ERR_COUNT), "?");
    assert_string_equal(dsn_action_names[DSN_ACTION_EXPANDED], "expanded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounce_exact_bytes),
        cmocka_unit_test(test_every_short_buffer),
        cmocka_unit_test(test_mime_structure),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
