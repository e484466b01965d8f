/* The world end to end: the default story's trace shows the whole path in
 * order (submission on 587 with STARTTLS and AUTH, the MX lookup, relay on
 * 25, IMAP on 993, POP3 on 995) at exact simulated times; the same lesson
 * twice gives the same trace event for event; timeline actions (firewall,
 * host down, read/flag/move/draft, a message not on the device, narration);
 * the time limit; a part the world cannot build; and `mailsim run` through
 * ui_run_command with FILE*s. Run from the repository root. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "render/run.h"
#include "sim/device.h"
#include "sim/scenario.h"
#include "sim/store.h"
#include "sim/world.h"

#define DIR "tests/fixtures/scenarios/"

static struct sim_scn_diags dg;

static struct sim_scenario *load(const char *path)
{
    struct sim_scenario *s = sim_scenario_load(path, &dg);
    if (!s) {
        sim_scn_diags_print(stderr, &dg);
        fail_msg("%s did not load", path);
    }
    return s;
}

/* Loads, builds and runs a lesson. */
static struct sim_world *play(const char *path, struct sim_scenario **sp)
{
    *sp = load(path);
    struct sim_world *w = sim_world_new(*sp, &dg);
    if (!w) {
        sim_scn_diags_print(stderr, &dg);
        fail_msg("%s: the world was not built", path);
    }
    assert_true(sim_world_run(w) > 0);
    return w;
}

/* ---- finding events in order ---------------------------------------------- */

/* What an expected event must match; NULL strings and 0 numbers match
 * anything. text matches the whole text, or its beginning when prefix. */
struct want {
    enum sim_trace_kind kind;
    unsigned port;
    enum sim_dir dir;
    const char *from, *to;
    const char *text;
    bool prefix;
    long long t_us;           /* -1: any time */
    enum sim_mail_change change; /* MAIL only */
    const char *owner;        /* MAIL only */
};

static bool matches(const struct sim_trace_event *ev, const struct want *w)
{
    if (ev->kind != w->kind) return false;
    if (w->port && ev->port != w->port) return false;
    if (w->dir != SIM_DIR_NONE && ev->dir != w->dir) return false;
    if (w->from && strcmp(ev->from, w->from) != 0) return false;
    if (w->to && strcmp(ev->to, w->to) != 0) return false;
    if (w->text) {
        size_t n = strlen(w->text);
        if (w->prefix ? strncmp(ev->text, w->text, n) != 0 : strcmp(ev->text, w->text) != 0)
            return false;
    }
    if (w->kind == SIM_TR_MAIL) {
        if (ev->mail.change != w->change) return false;
        if (w->owner && strcmp(ev->mail.owner, w->owner) != 0) return false;
    }
    return true;
}

/* Each wanted event appears after the one before it; returns the steps. */
static void expect_in_order(const struct sim_trace *tr, const struct want *wants, size_t n)
{
    size_t step = 0;
    for (size_t i = 0; i < n; i++) {
        const struct want *w = &wants[i];
        bool found = false;
        for (; step < sim_trace_len(tr) && !found; step++)
            found = matches(sim_trace_get(tr, step), w);
        if (!found)
            fail_msg("wanted event %zu (%s \"%s\" port %u) not found in order", i,
                     sim_trace_kind_names[w->kind], w->text ? w->text : "", w->port);
        const struct sim_trace_event *ev = sim_trace_get(tr, step - 1);
        if (getenv("WORLD_TEST_SHOW")) /* to see the times when a lesson changes */
            fprintf(stderr, "%zu: %llu us %s\n", i, (unsigned long long)ev->t, ev->text);
        if (w->t_us >= 0 && ev->t != (sim_time)w->t_us)
            fail_msg("wanted event %zu (\"%s\") at %lld us, got %llu us", i, ev->text, w->t_us,
                     (unsigned long long)ev->t);
    }
}

#define ANY -1
#define LINE(port_, dir_, text_, t_) \
    {SIM_TR_LINE, port_, dir_, NULL, NULL, text_, false, t_, 0, NULL}
#define LINEP(port_, dir_, text_, t_) \
    {SIM_TR_LINE, port_, dir_, NULL, NULL, text_, true, t_, 0, NULL}

/* ---- the default story -------------------------------------------------------- */

static void test_default_story(void **state)
{
    (void)state;
    struct sim_scenario *s;
    struct sim_world *w = play("lessons/default.json", &s);
    const struct sim_trace *tr = sim_world_trace(w);

    const struct want path[] = {
        /* The narration marker comes first, as the lesson's step 0. */
        {SIM_TR_ACTION, 0, SIM_DIR_NONE, "", NULL, "narrate", false, 0, 0, NULL},
        /* Submission: 587, STARTTLS, AUTH, then the envelope and DATA. */
        {SIM_TR_CONNECT, 587, SIM_DIR_NONE, "manish-pc", "mail.example.com", NULL, false,
         1025000, 0, NULL},
        LINE(587, SIM_DIR_S2C, "220 mail.example.com Simple Mail Transfer Service Ready", 1025000),
        LINE(587, SIM_DIR_C2S, "EHLO manish-pc", 1050022),
        LINE(587, SIM_DIR_S2C, "250 STARTTLS", ANY),
        LINE(587, SIM_DIR_C2S, "STARTTLS", 1100078),
        LINE(587, SIM_DIR_S2C, "220 2.0.0 Ready to start TLS", ANY),
        {SIM_TR_TLS, 587, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, 0, NULL},
        LINE(587, SIM_DIR_C2S, "EHLO manish-pc", ANY),
        LINE(587, SIM_DIR_S2C, "250 AUTH PLAIN LOGIN", ANY),
        /* base64 of "\0manish@example.com\0correct horse" (RFC 4616) */
        LINE(587, SIM_DIR_C2S, "AUTH PLAIN AG1hbmlzaEBleGFtcGxlLmNvbQBjb3JyZWN0IGhvcnNl", 1250154),
        LINE(587, SIM_DIR_S2C, "235 2.7.0 Authentication successful", ANY),
        LINEP(587, SIM_DIR_C2S, "MAIL FROM:<manish@example.com>", 1300190),
        LINE(587, SIM_DIR_C2S, "RCPT TO:<friend@example.org>", 1300190),
        LINE(587, SIM_DIR_C2S, "DATA", 1300190),
        LINEP(587, SIM_DIR_S2C, "354 ", ANY),
        LINE(587, SIM_DIR_C2S, "Subject: Lunch on Friday?", ANY),
        LINE(587, SIM_DIR_C2S, ".", ANY),
        LINEP(587, SIM_DIR_S2C, "250 2.0.0 Ok: queued as ", 1375250),
        /* The MX lookup: stub -> resolver -> authority and back. */
        {SIM_TR_DNS, 53, SIM_DIR_C2S, "mail.example.com", "resolver", "example.org. IN MX?",
         false, 1375250, 0, NULL},
        {SIM_TR_DNS, 53, SIM_DIR_C2S, "resolver", "ns1.example.org", "example.org. IN MX?",
         false, ANY, 0, NULL},
        {SIM_TR_DNS, 53, SIM_DIR_S2C, "resolver", "mail.example.com",
         "example.org. 3600 IN MX 10 mail.example.org.", false, 1436250, 0, NULL},
        /* Relay on 25 to the MX host. */
        {SIM_TR_CONNECT, 25, SIM_DIR_NONE, "mail.example.com", "mail.example.org", NULL, false,
         ANY, 0, NULL},
        LINE(25, SIM_DIR_C2S, "EHLO mail.example.com", ANY),
        LINE(25, SIM_DIR_C2S, "STARTTLS", ANY),
        LINEP(25, SIM_DIR_C2S, "MAIL FROM:<manish@example.com>", ANY),
        LINE(25, SIM_DIR_C2S, "RCPT TO:<friend@example.org>", ANY),
        LINE(25, SIM_DIR_C2S, "DATA", ANY),
        /* The friend's server stores it in the INBOX. */
        LINEP(25, SIM_DIR_S2C, "250 2.0.0 Ok: queued as ", 1638250),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, 1638250, SIM_MAIL_ADDED,
         "mail.example.org"},
        /* The phone syncs by IMAP on 993. */
        {SIM_TR_CONNECT, 993, SIM_DIR_NONE, "friend-phone", "mail.example.org", NULL, false,
         10150000, 0, NULL},
        LINE(993, SIM_DIR_C2S, "a001 LOGIN friend@example.org \"battery staple\"", ANY),
        LINE(993, SIM_DIR_S2C, "a001 OK LOGIN completed", ANY),
        LINE(993, SIM_DIR_C2S, "a002 SELECT INBOX", ANY),
        LINE(993, SIM_DIR_S2C, "* 1 EXISTS", ANY),
        LINE(993, SIM_DIR_C2S, "a003 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])", ANY),
        LINEP(993, SIM_DIR_S2C, "* 1 FETCH (UID 1 ", ANY),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_ADDED,
         "friend-phone"},
        LINE(993, SIM_DIR_C2S, "a004 LOGOUT", ANY),
        /* The laptop downloads and deletes by POP3 on 995. */
        {SIM_TR_CONNECT, 995, SIM_DIR_NONE, "friend-laptop", "mail.example.org", NULL, false,
         30120000, 0, NULL},
        LINEP(995, SIM_DIR_S2C, "+OK POP3 server ready <", ANY),
        LINE(995, SIM_DIR_C2S, "USER friend@example.org", ANY),
        LINE(995, SIM_DIR_C2S, "PASS battery staple", ANY),
        LINE(995, SIM_DIR_C2S, "RETR 1", ANY),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_ADDED,
         "friend-laptop"},
        LINE(995, SIM_DIR_C2S, "DELE 1", ANY),
        LINE(995, SIM_DIR_C2S, "QUIT", ANY),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_REMOVED,
         "mail.example.org"},
        /* The phone's next sync drops its copy: it is gone from the server. */
        {SIM_TR_CONNECT, 993, SIM_DIR_NONE, "friend-phone", "mail.example.org", NULL, false,
         50150000, 0, NULL},
        LINE(993, SIM_DIR_S2C, "* 0 EXISTS", ANY),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_REMOVED,
         "friend-phone"},
    };
    expect_in_order(tr, path, ARRAY_LEN(path));

    /* Submission lines after STARTTLS are protected, the ones before not. */
    size_t narrations = 0, protected587 = 0, clear587 = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind == SIM_TR_ACTION && strcmp(ev->text, "narrate") == 0) {
            narrations++;
            assert_int_equal(ev->proto, SIM_PROTO_SIM);
        }
        if (ev->kind == SIM_TR_LINE && ev->port == 587) {
            if (ev->tls)
                protected587++;
            else
                clear587++;
            if (strncmp(ev->text, "AUTH ", 5) == 0) assert_true(ev->tls);
        }
    }
    assert_int_equal(narrations, 4);
    assert_string_equal(sim_trace_get(tr, 0)->note, s->actions[0].text);
    /* 220, EHLO, 6 EHLO reply lines, STARTTLS, its 220: 10 in clear text. */
    assert_int_equal(clear587, 10);
    assert_true(protected587 > 20);

    /* Where the message ended up: gone from the server (POP3 deleted it),
     * the Sent copy kept on Manish's server. */
    assert_int_equal(sim_store_count(sim_world_store(w, "mail.example.org"),
                                     "friend@example.org", "INBOX"),
                     0);
    assert_int_equal(sim_store_count(sim_world_store(w, "mail.example.com"),
                                     "manish@example.com", "Sent"),
                     1);
    assert_null(sim_world_store(w, "friend-phone"));
    assert_int_equal(sim_device_count(sim_world_device(w, "friend-laptop"), "INBOX"), 1);
    assert_int_equal(sim_device_count(sim_world_device(w, "friend-phone"), "INBOX"), 0);
    assert_non_null(sim_world_mua(w, "manish@example.com"));
    assert_non_null(sim_world_mta(w, "mail.example.com"));
    /* The run ended by itself, long before the time limit. */
    assert_true(sim_world_engine(w)->now < SIM_SEC(60));
    assert_int_equal(sim_world_run(w), 0); /* only once */
    sim_world_free(w);
    sim_scenario_free(s);
}

/* ---- determinism ----------------------------------------------------------------- */

static void assert_same_event(const struct sim_trace_event *a, const struct sim_trace_event *b)
{
    assert_int_equal(a->t, b->t);
    assert_int_equal(a->arrive, b->arrive);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->proto, b->proto);
    assert_string_equal(a->from, b->from);
    assert_string_equal(a->to, b->to);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->dir, b->dir);
    assert_int_equal(a->conn, b->conn);
    assert_int_equal(a->tls, b->tls);
    assert_int_equal(a->wire_bytes, b->wire_bytes);
    assert_string_equal(a->text, b->text);
    assert_string_equal(a->note, b->note);
    assert_int_equal(a->mail.change, b->mail.change);
    assert_string_equal(a->mail.owner ? a->mail.owner : "", b->mail.owner ? b->mail.owner : "");
    assert_int_equal(a->mail.uid, b->mail.uid);
    assert_int_equal(a->mail.flags, b->mail.flags);
    assert_int_equal(a->mail.size, b->mail.size);
}

static void test_same_trace_twice(void **state)
{
    (void)state;
    static const char *const lessons[] = {"lessons/default.json", DIR "world_actions.json"};
    for (size_t l = 0; l < ARRAY_LEN(lessons); l++) {
        struct sim_scenario *s1, *s2;
        struct sim_world *w1 = play(lessons[l], &s1);
        struct sim_world *w2 = play(lessons[l], &s2);
        const struct sim_trace *t1 = sim_world_trace(w1), *t2 = sim_world_trace(w2);
        assert_int_equal(sim_trace_len(t1), sim_trace_len(t2));
        assert_true(sim_trace_len(t1) > 100);
        for (size_t i = 0; i < sim_trace_len(t1); i++)
            assert_same_event(sim_trace_get(t1, i), sim_trace_get(t2, i));
        sim_world_free(w1);
        sim_world_free(w2);
        sim_scenario_free(s1);
        sim_scenario_free(s2);
    }
}

/* ---- timeline actions ------------------------------------------------------------ */

static void test_timeline_actions(void **state)
{
    (void)state;
    struct sim_scenario *s;
    struct sim_world *w = play(DIR "world_actions.json", &s);
    const struct sim_trace *tr = sim_world_trace(w);
    const struct want story[] = {
        {SIM_TR_FAULT, 0, SIM_DIR_NONE, "mx", NULL, "port 587 blocked coming in to mx", false, 0,
         0, NULL},
        /* The first send waits for the firewall's silence: 30 s. */
        {SIM_TR_REFUSED, 587, SIM_DIR_NONE, "pc", NULL, NULL, false, 31000000, 0, NULL},
        {SIM_TR_FAULT, 0, SIM_DIR_NONE, "mx", NULL, "port 587 open again coming in to mx", false,
         40000000, 0, NULL},
        {SIM_TR_CONNECT, 587, SIM_DIR_NONE, "pc", "mx", NULL, false, 41020000, 0, NULL},
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_ADDED, "mx"},
        /* Read before the phone has the message: said, not done. */
        {SIM_TR_ACTION, 0, SIM_DIR_NONE, "phone", NULL, "read: no message \"Second\" in INBOX",
         false, 50000000, 0, NULL},
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_ADDED, "phone"},
        /* After the check, read and flag reach the server. */
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, 70000000, SIM_MAIL_FLAGS,
         "phone"},
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_FLAGS, "mx"},
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, 80000000, SIM_MAIL_FLAGS,
         "phone"},
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_FLAGS, "mx"},
        /* The draft by APPEND, the move by COPY + STORE + EXPUNGE. */
        LINEP(993, SIM_DIR_C2S, "m002 APPEND Drafts (\\Seen \\Draft) {", ANY),
        LINE(993, SIM_DIR_C2S, "m003 UID COPY 1 Trash", 100160000),
        LINE(993, SIM_DIR_C2S, "m004 UID STORE 1 +FLAGS.SILENT (\\Deleted)", ANY),
        LINE(993, SIM_DIR_C2S, "m005 EXPUNGE", ANY),
        {SIM_TR_MAIL, 0, SIM_DIR_NONE, NULL, NULL, NULL, false, ANY, SIM_MAIL_REMOVED, "mx"},
        /* The server goes down; the next check gets no answer for 30 s. */
        {SIM_TR_FAULT, 0, SIM_DIR_NONE, "mx", NULL, "host is down", false, 110000000, 0, NULL},
        {SIM_TR_REFUSED, 993, SIM_DIR_NONE, "phone", NULL, NULL, false, 141000000, 0, NULL},
        {SIM_TR_FAULT, 0, SIM_DIR_NONE, "mx", NULL, "host is back up", false, 200000000, 0, NULL},
        {SIM_TR_ACTION, 0, SIM_DIR_NONE, "mx", NULL, "mailbox full: you@example.org", false,
         201000000, 0, NULL},
        /* The next message for the full mailbox is refused at RCPT. */
        LINE(587, SIM_DIR_C2S, "RCPT TO:<you@example.org>", ANY),
        LINE(587, SIM_DIR_S2C,
             "452 4.2.2 <you@example.org>: Recipient address rejected: Mailbox full", 202260000),
        {SIM_TR_ACTION, 0, SIM_DIR_NONE, "", NULL, "narrate", false, 300000000, 0, NULL},
    };
    expect_in_order(tr, story, ARRAY_LEN(story));
    const struct sim_trace_event *last = sim_trace_get(tr, sim_trace_len(tr) - 1);
    assert_string_equal(last->note, "The end.");
    assert_int_equal(sim_store_count(sim_world_store(w, "mx"), "you@example.org", "Trash"), 1);
    assert_int_equal(sim_store_count(sim_world_store(w, "mx"), "you@example.org", "Drafts"), 1);
    assert_int_equal(sim_store_count(sim_world_store(w, "mx"), "you@example.org", "INBOX"), 0);
    assert_int_equal(sim_store_quota(sim_world_store(w, "mx"), "you@example.org"),
                     sim_store_usage(sim_world_store(w, "mx"), "you@example.org"));
    sim_world_free(w);
    sim_scenario_free(s);
}

/* A device that polls forever: the run stops at meta.time_limit. */
static void test_time_limit(void **state)
{
    (void)state;
    struct sim_scenario *s;
    struct sim_world *w = play(DIR "world_poll.json", &s);
    const struct sim_trace *tr = sim_world_trace(w);
    size_t checks = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        assert_true(ev->t <= SIM_SEC(95));
        if (ev->kind == SIM_TR_ACTION && strcmp(ev->text, "check mail") == 0) {
            assert_int_equal(ev->t, SIM_SEC(30) * checks);
            checks++;
        }
    }
    assert_int_equal(checks, 4); /* at 0, 30, 60 and 90 s */
    assert_true(sim_world_engine(w)->now <= SIM_SEC(95));
    sim_world_free(w);
    sim_scenario_free(s);
}

/* A file the loader accepts but the DNS zone refuses. */
static void test_build_error(void **state)
{
    (void)state;
    struct sim_scenario *s = load(DIR "world_cname.json");
    dg.n = dg.dropped = 0;
    assert_null(sim_world_new(s, &dg));
    assert_int_equal(dg.n, 1);
    char got[512];
    assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got),
                        DIR "world_cname.json: dns.zones[0].records[2]: the zone refused this "
                            "record: a CNAME cannot share its name with other records");
    sim_scenario_free(s);
}

/* ---- mailsim run ------------------------------------------------------------------- */

/* Runs the command with out and err in memory; returns the exit code. */
static int run_cmd(int argc, const char *const *argv, char **out, char **err)
{
    size_t olen, elen;
    FILE *fo = open_memstream(out, &olen), *fe = open_memstream(err, &elen);
    assert_non_null(fo);
    assert_non_null(fe);
    int rc = ui_run_command(argc, (char **)argv, "build/mailsim", fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_run_command(void **state)
{
    (void)state;
    char *out, *err, *out2, *err2;

    /* No lesson: the default story, one transcript line per event. */
    assert_int_equal(run_cmd(0, NULL, &out, &err), UI_RUN_OK);
    assert_string_equal(err, "");
    assert_int_equal(strncmp(out, "    0.000s  sim   narrate  # Manish writes to his friend.", 57), 0);
    assert_non_null(strstr(out, "  smtp  manish-pc -> mail.example.com :587  C: STARTTLS  # "));
    assert_non_null(strstr(out, "  pop3  friend-laptop -> mail.example.org :995  C: [TLS] DELE 1  # "));
    struct sim_scenario *s;
    struct sim_world *w = play("lessons/default.json", &s);
    assert_int_equal(count_lines(out), sim_trace_len(sim_world_trace(w)));

    /* By name, and again: the same bytes. */
    const char *const by_name[] = {"default"};
    assert_int_equal(run_cmd(1, by_name, &out2, &err2), UI_RUN_OK);
    assert_string_equal(out, out2);
    free(out2);
    free(err2);

    /* --json: one object per event, the same count. */
    const char *const json[] = {"default", "--json"};
    assert_int_equal(run_cmd(2, json, &out2, &err2), UI_RUN_OK);
    assert_int_equal(count_lines(out2), sim_trace_len(sim_world_trace(w)));
    assert_int_equal(strncmp(out2, "{\"t\":0.000000,\"step\":0,\"kind\":\"action\",\"proto\":\"sim\"", 52), 0);
    free(out2);
    free(err2);
    free(out);
    free(err);
    sim_world_free(w);
    sim_scenario_free(s);

    /* A bad file: every problem, exit 2, nothing on out. */
    const char *const bad[] = {DIR "bad_listener.json"};
    assert_int_equal(run_cmd(1, bad, &out, &err), UI_RUN_USAGE);
    assert_string_equal(out, "");
    assert_string_equal(
        err, DIR "bad_listener.json:20:71: mail_servers[0].listeners[1]: expected one of relay, "
                 "submission, submissions, imap, imaps, pop3, pop3s, got \"smtp\"\n" DIR
                 "bad_listener.json:29:20: mail_programs[0].account: mx does not listen on port "
                 "587 (add \"submission\" to its listeners)\n");
    free(out);
    free(err);

    /* A world that cannot be built is exit 2 too. */
    const char *const cname[] = {DIR "world_cname.json"};
    assert_int_equal(run_cmd(1, cname, &out, &err), UI_RUN_USAGE);
    assert_non_null(strstr(err, "dns.zones[0].records[2]: the zone refused this record"));
    free(out);
    free(err);

    const char *const help[] = {"--help"};
    assert_int_equal(run_cmd(1, help, &out, &err), UI_RUN_OK);
    assert_int_equal(strncmp(out, "usage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n", 64), 0);
    assert_string_equal(err, "");
    free(out);
    free(err);

    static const struct {
        int argc;
        const char *argv[3];
        const char *err;
    } usage[] = {
        {1, {"no-such-lesson"},
         "mailsim: no lesson \"no-such-lesson\": not a file, and no no-such-lesson.json in "
         "$MAILSIM_LESSONS, the lessons/ folder beside the program, or ./lessons/\n"},
        {1, {"missing/file.json"},
         "mailsim: no lesson \"missing/file.json\": not a file, and no missing/file.json.json in "
         "$MAILSIM_LESSONS, the lessons/ folder beside the program, or ./lessons/\n"},
        {1, {"--xml"}, "mailsim run: unknown option '--xml'\nusage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n"},
        {2, {"a", "b"},
         "mailsim run: one lesson at a time ('a' and 'b')\nusage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n"},
    };
    for (size_t i = 0; i < ARRAY_LEN(usage); i++) {
        assert_int_equal(run_cmd(usage[i].argc, usage[i].argv, &out, &err), UI_RUN_USAGE);
        assert_string_equal(out, "");
        assert_string_equal(err, usage[i].err);
        free(out);
        free(err);
    }
}

static void test_find_lesson(void **state)
{
    (void)state;
    char path[512];
    assert_true(ui_find_lesson("lessons/default.json", NULL, path, sizeof path));
    assert_string_equal(path, "lessons/default.json");
    /* A name: found in ./lessons/ (the test runs from the checkout). */
    assert_true(ui_find_lesson("default", NULL, path, sizeof path));
    assert_int_equal(strcmp(path + strlen(path) - strlen("lessons/default.json"),
                            "lessons/default.json"),
                     0);
    /* $MAILSIM_LESSONS comes first. */
    assert_int_equal(setenv("MAILSIM_LESSONS", "tests/fixtures/scenarios", 1), 0);
    assert_true(ui_find_lesson("world_poll", NULL, path, sizeof path));
    assert_string_equal(path, "tests/fixtures/scenarios/world_poll.json");
    assert_false(ui_find_lesson("world_nothing", NULL, path, sizeof path));
    assert_int_equal(unsetenv("MAILSIM_LESSONS"), 0);
    assert_false(ui_find_lesson("world_poll", NULL, path, sizeof path));
    assert_false(ui_find_lesson("nothing-here", NULL, path, sizeof path));
    assert_string_equal(path, "nothing-here");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_story),
        cmocka_unit_test(test_same_trace_twice),
        cmocka_unit_test(test_timeline_actions),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_build_error),
        cmocka_unit_test(test_run_command),
        cmocka_unit_test(test_find_lesson),
    };
    return cmocka_run_group_tests_name("world", tests, NULL, NULL);
}
