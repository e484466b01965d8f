/* Interop tests of `mailsim serve` with real clients nobody here wrote:
 * Python's smtplib, imaplib and poplib, curl's smtp/imap/pop3 URLs (and
 * their TLS forms), dig, and Dovecot reading --maildir. Each case runs
 * tests/interop/interop.py CASE, which starts the program beside this test
 * (BUILD/mailsim) on 127.0.0.x with a random free port offset, waits for
 * "ready", drives it, compares bytes and always stops it. Each case is
 * bounded by CASE_SECONDS (coreutils' timeout kills it past that). */
#include "tests/testkit.h"

#include "protocols/common.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CASE_SECONDS 120 /* one case, start to stop; they take 1-5 s */
#define OUT_MAX 65536    /* what a case prints, kept for the assertions */

struct interop_case {
    const char *name;   /* the case of interop.py */
    const char *expect; /* the line it prints when every comparison held */
};

static const struct interop_case cases[] = {
    {"smtplib_imaplib",
     "ok smtplib_imaplib: 1186 octets sent, the same 1186 fetched by IMAPS and by "
     "IMAP+STARTTLS after 388 octets of Return-Path/Received"},
    {"smtps_poplib", "ok smtps_poplib: RETR gave the sent bytes; DELE+QUIT removed it "
                     "(IMAP SEARCH finds none)"},
    {"curl_smtp_imap_pop3", "ok curl_smtp_imap_pop3: smtp+STARTTLS and smtps sent; imap, "
                            "imaps, pop3, pop3s fetched the same bytes"},
    {"dig", "ok dig: MX 10 mail.example.org. and A 203.0.113.25 (UDP), MX over TCP, AA from "
            "ns1.example.org, NXDOMAIN for a missing name"},
    {"limits", "ok limits: 500 for a 2005-octet line; a client cut mid-DATA stored nothing; "
               "the next message arrived whole"},
    {"maildir", "ok maildir: new/ then cur/...:2,S on disk; a restart serves the same"},
    {"load", "ok load: 20 IMAP sessions held, 200 messages on port 25, each session counts 200"},
};

static char checkout[PATH_MAX]; /* where tests/interop/ is */
static char program[PATH_MAX];  /* BUILD/mailsim */

/* The checkout is the current directory (make runs tests from there); the
 * program is beside this test's folder. */
static int find_paths(void **state)
{
    (void)state;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || !getcwd(checkout, sizeof checkout)) return -1;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0; /* BUILD/test */
    slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = 0; /* BUILD */
    if (strlen(self) + sizeof "/mailsim" > sizeof program) return -1;
    strcpy(program, self);
    strcat(program, "/mailsim");
    return access(program, X_OK) == 0 ? 0 : -1;
}

static void run_case(void **state)
{
    const struct interop_case *c = *state;
    const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "timeout %d %s '%s/tests/interop/interop.py' %s --mailsim '%s' 2>&1",
             CASE_SECONDS, python, checkout, c->name, program);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[OUT_MAX];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = 0;
    int status = pclose(p);
    if (status != 0 || !strstr(out, c->expect)) print_message("%s\n", out);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, c->expect));
}

int main(void)
{
    struct CMUnitTest tests[ARRAY_LEN(cases)];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        tests[i] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL, (void *)&cases[i]};
    return cmocka_run_group_tests_name("interop", tests, find_paths, NULL);
}
