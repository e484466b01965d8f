/* The scenario loader: a table of bad files, each with the exact problems
 * it must report (file, line:column, JSON path, text); a file with every
 * section and action read back field by field; the default lesson loads;
 * problems from text in memory; limits. Run from the repository root. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "sim/scenario.h"

#define DIR "tests/fixtures/scenarios/"

/* ---- bad files -------------------------------------------------------------- */

struct bad_case {
    const char *file;
    const char *want[8]; /* every problem, formatted, in order; the file's
                            name is DIR + file */
};

static const struct bad_case bad_cases[] = {
    {"bad_syntax_comma.json",
     {"5:5: JSON syntax: expected ',' or ']' after a list entry (a missing comma?), found '{'"}},
    {"bad_syntax_trailing.json",
     {"2:25: JSON syntax: a comma before } (JSON allows no trailing comma)"}},
    {"bad_syntax_eof.json",
     {"4:1: JSON syntax: the file ends here, but a value was expected (a missing } or ]?)"}},
    {"bad_syntax_quote.json",
     {"2:3: JSON syntax: expected a field name in double quotes; JSON strings use double "
      "quotes, not '"}},
    {"bad_syntax_newline.json",
     {"2:25: JSON syntax: a string must end on the line it starts (write \\n for a line "
      "break)"}},
    {"bad_empty.json",
     {"3:1: JSON syntax: the file is empty; a scenario is one JSON object { ... }"}},
    {"bad_top_list.json", {"1:1: a scenario is one JSON object { ... }, got a list"}},
    {"bad_wrong_type.json", {"4:58: hosts[0].latency_ms: expected a number, got a string"}},
    {"bad_unknown_field.json",
     {"4:58: hosts[0].colour: unknown field for a host (expected one of name, ip, role, "
      "latency_ms, bandwidth_kbps, comment)"}},
    {"bad_unknown_top.json",
     {"4:3: host: unknown field for a scenario (expected one of meta, hosts, dns, "
      "mail_servers, accounts, devices, mail_programs, timeline, quiz, comment)"}},
    {"bad_role.json",
     {"6:38: hosts[2].role: expected one of computer, laptop, phone, webmail, mail-server, "
      "dns-resolver, dns-server, got \"router\""}},
    {"bad_dup_host.json",
     {"5:6: hosts[1].name: host \"a\" is declared twice (first at hosts[0])"}},
    {"bad_dup_ip.json", {"5:19: hosts[1].ip: address 192.0.2.1 is already host \"a\"'s"}},
    {"bad_ip.json",
     {"4:19: hosts[0].ip: expected an IPv4 address like \"192.0.2.10\" or an IPv6 address, got "
      "\"192.0.2.300\""}},
    {"bad_latency.json",
     {"4:58: hosts[0].latency_ms: expected a number from 0 to 60000, got -5"}},
    {"bad_missing_ip.json", {"4:5: hosts[0]: missing required field \"ip\""}},
    {"bad_missing_meta.json", {"1:1: missing required field \"meta\""}},
    {"bad_dup_key.json", {"2:26: meta.title: given twice"}},
    {"bad_start.json",
     {"2:26: meta.start: expected a UTC date and time like \"2024-03-04T09:00:00Z\", got "
      "\"2024-02-30T09:00:00Z\""}},
    {"bad_seed.json", {"2:26: meta.seed: expected a whole number, got 1.5"}},
    {"bad_action.json",
     {"33:15: timeline[1].action: expected one of narrate, send, check, read, flag, unflag, "
      "move, delete, save_draft, server_down, server_up, block_port, unblock_port, "
      "mailbox_full, got \"explode\""}},
    {"bad_action_field.json",
     {"32:53: timeline[0].subject: unknown field for a check action (expected one of at, "
      "action, comment, device)"}},
    {"bad_undeclared_device.json",
     {"32:34: timeline[0].device: no device named \"tablet\" in devices"}},
    {"bad_at_negative.json",
     {"32:6: timeline[0].at: expected a number from 0 to 864000, got -1"}},
    {"bad_at_late.json",
     {"32:6: timeline[0].at: 200 s is after meta.time_limit (100 s): it would never run"}},
    {"bad_send_from.json",
     {"32:33: timeline[0].from: no mail program sends as you@example.org (declare one in "
      "mail_programs)"}},
    {"bad_send_to_empty.json", {"32:59: timeline[0].to: expected at least 1 entry, got 0"}},
    {"bad_send_to_addr.json",
     {"32:84: timeline[0].to[1]: expected a mail address like \"friend@example.org\", got "
      "\"nobody\""}},
    {"bad_which_message.json",
     {"32:5: timeline[0]: missing \"subject\" or \"index\": which message?"}},
    {"bad_move_folder.json", {"32:5: timeline[0]: missing required field \"destination\""}},
    {"bad_block_dir.json",
     {"32:65: timeline[0].direction: expected one of in, out, got \"sideways\""}},
    {"bad_block_port.json",
     {"32:53: timeline[0].port: expected a number from 1 to 65535, got 70000"}},
    {"bad_undeclared_host.json", {"13:31: dns.zones[0].server: no host named \"ns9\" in hosts"}},
    {"bad_zone_server_role.json",
     {"13:31: dns.zones[0].server: host \"pc\" is a computer; expected a dns-server"}},
    {"bad_record_type.json",
     {"14:10: dns.zones[0].records[0].type: expected one of A, AAAA, MX, NS, CNAME, TXT, got "
      "\"SRV\""}},
    {"bad_mx_pref.json",
     {"14:9: dns.zones[0].records[0]: missing required field \"preference\""}},
    {"bad_record_value.json",
     {"15:49: dns.zones[0].records[1].value: expected an IPv4 address for an A record, got "
      "\"mx.example.org\""}},
    {"bad_record_zone.json",
     {"15:10: dns.zones[0].records[1].name: \"mx.example.net\" is not in zone example.org"}},
    {"bad_listener.json",
     {"20:71: mail_servers[0].listeners[1]: expected one of relay, submission, submissions, "
      "imap, imaps, pop3, pop3s, got \"smtp\"",
      "29:20: mail_programs[0].account: mx does not listen on port 587 (add \"submission\" to "
      "its listeners)"}},
    {"bad_undeclared_account.json",
     {"26:23: devices[0].account: no account \"you@example.org\" in accounts"}},
    {"bad_account_domain.json",
     {"23:6: accounts[0].address: example.net is not a domain of mail server mx (it has "
      "example.org)"}},
    {"bad_protocol.json",
     {"26:52: devices[0].protocol: expected one of imap, pop3, got \"activesync\""}},
    {"bad_device_port.json",
     {"26:52: devices[0].protocol: mx does not listen on port 995 (add \"pop3s\" to its "
      "listeners)"}},
    {"bad_leave_imap.json",
     {"26:85: devices[0].leave_on_server: only POP3 devices choose this; IMAP always leaves "
      "mail on the server"}},
    {"bad_no_dns.json",
     {"1:1: missing field \"dns\": mail servers find each other through dns.resolver "
      "(RFC 5321 5.1)"}},
    /* All problems, not just the first. */
    {"bad_many.json",
     {"2:12: meta.title: expected a string, got a number",
      "4:55: hosts[0].speed: unknown field for a host (expected one of name, ip, role, "
      "latency_ms, bandwidth_kbps, comment)",
      "5:19: hosts[1].ip: expected an IPv4 address like \"192.0.2.10\" or an IPv6 address, "
      "got \"1.2.3\"",
      "5:51: hosts[1].latency_ms: expected a number from 0 to 60000, got -1",
      "6:5: hosts[2]: missing required field \"ip\"",
      "6:19: hosts[2].role: expected one of computer, laptop, phone, webmail, mail-server, "
      "dns-resolver, dns-server, got \"server\"",
      "9:40: timeline[0].host: no host named \"zzz\" in hosts"}},
};

static void test_bad_files(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    char got[1024], want[1024];
    for (size_t c = 0; c < ARRAY_LEN(bad_cases); c++) {
        const struct bad_case *bc = &bad_cases[c];
        char path[256];
        snprintf(path, sizeof path, DIR "%s", bc->file);
        struct sim_scenario *s = sim_scenario_load(path, &dg);
        if (s) fail_msg("%s: loaded, but it is bad", bc->file);
        size_t nwant = 0;
        while (nwant < ARRAY_LEN(bc->want) && bc->want[nwant]) nwant++;
        if (dg.n != nwant) {
            sim_scn_diags_print(stderr, &dg);
            fail_msg("%s: %zu problems, want %zu", bc->file, dg.n, nwant);
        }
        for (size_t i = 0; i < nwant; i++) {
            snprintf(want, sizeof want, "%s:%s", path, bc->want[i]);
            sim_scn_diag_format(&dg, i, got, sizeof got);
            if (strcmp(got, want) != 0)
                fail_msg("%s problem %zu:\n got: %s\nwant: %s", bc->file, i, got, want);
        }
        assert_int_equal(dg.dropped, 0);
    }
}

/* The path and the position are also in the fields, for the views. */
static void test_diag_fields(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    assert_null(sim_scenario_load(DIR "bad_role.json", &dg));
    assert_int_equal(dg.n, 1);
    assert_string_equal(dg.file, DIR "bad_role.json");
    assert_int_equal(dg.d[0].line, 6);
    assert_int_equal(dg.d[0].col, 38);
    assert_string_equal(dg.d[0].path, "hosts[2].role");
}

static void test_missing_file(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    char got[512];
    assert_null(sim_scenario_load(DIR "no_such_file.json", &dg));
    assert_int_equal(dg.n, 1);
    assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got),
                        DIR "no_such_file.json: cannot open: No such file or directory");
}

/* Text in memory: a NUL byte, text after the object, and a byte limit. */
static void test_parse_text(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    char got[512];
    static const struct {
        const char *text;
        size_t len;
        const char *want;
    } cases[] = {
        {"{\"meta\": {}}\0", 13, "mem: a NUL byte in the file: a scenario is UTF-8 text"},
        {"{} {}", 5, "mem:1:4: JSON syntax: text after the end of the JSON object"},
        {"{\"a\": 01}", 9, "mem:1:7: JSON syntax: numbers do not start with 0 (RFC 8259 6)"},
        {"{\"a\": tru}", 10,
         "mem:1:7: JSON syntax: expected a value (a string in double quotes, a number, true, "
         "false, null, { or [), found 't'"},
        {"{\"a\": \"\\q\"}", 11,
         "mem:1:8: JSON syntax: unknown escape in a string (use \\\\ for a backslash)"},
        {"{\"meta\": {\"title\": \"t\", \"comment\": 5}, \"hosts\": [{\"name\": \"a\", "
         "\"ip\": \"192.0.2.1\", \"role\": \"phone\"}]}", 0,
         "mem:1:25: meta.comment: expected a string, got a number"},
        {"\xEF\xBB\xBF{\"a\" 1}", 10, "mem:1:6: JSON syntax: expected ':' after the field name, found '1'"},
        {"{\"a\": {\"b\": 1}", 0,
         "mem:1:15: JSON syntax: the file ends here, but ',' or '}' after a field was expected "
         "(a missing } or ]?)"},
        {"{\"a\": [1, 2", 0,
         "mem:1:12: JSON syntax: the file ends here, but ',' or ']' after a list entry was expected "
         "(a missing } or ]?)"},
        {"{\"a\": [1, 2,]}", 0, "mem:1:13: JSON syntax: a comma before ] (JSON allows no trailing comma)"},
        {"{\"a\": 1,}", 0, "mem:1:9: JSON syntax: a comma before } (JSON allows no trailing comma)"},
        {"{\"a\": 1 \"b\": 2}", 0,
         "mem:1:9: JSON syntax: expected ',' or '}' after a field (a missing comma?), found '\"'"},
        {"{1: 2}", 0, "mem:1:2: JSON syntax: expected a field name in double quotes, found '1'"},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        size_t len = cases[c].len ? cases[c].len : strlen(cases[c].text);
        assert_null(sim_scenario_parse(cases[c].text, len, "mem", &dg));
        assert_int_equal(dg.n, 1);
        assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got), cases[c].want);
    }
    /* Over the size limit: refused before parsing. */
    size_t big = SIM_SCN_FILE_MAX + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    assert_null(sim_scenario_parse(text, big, "big", &dg));
    free(text);
    assert_int_equal(dg.n, 1);
    assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got),
                        "big: too large: a scenario file is at most 1048576 octets, this is 1048577");
}

/* Problems found in the tree name the line and column of their node, counted
 * in characters after a BOM, on any line, in the order they were found. */
static void test_tree_positions(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    char got[512];
    static const char text[] =
        "\xEF\xBB\xBF{\"meta\": {\"title\": \"\xC3\xA9t\xC3\xA9\", \"comment\": 5},\n"
        " \"hosts\": [{\"name\": \"a\", \"ip\": \"192.0.2.1\", \"role\": \"phone\"},\n"
        "\t{\"name\": \"b\", \"ip\": 7, \"role\": \"phone\"}]}";
    static const char *const want[] = {
        "mem:1:27: meta.comment: expected a string, got a number",
        "mem:3:16: hosts[1].ip: expected a string, got a number",
    };
    assert_null(sim_scenario_parse(text, sizeof text - 1, "mem", &dg));
    assert_int_equal(dg.n, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++)
        assert_string_equal(sim_scn_diag_format(&dg, i, got, sizeof got), want[i]);
}

/* ---- the quiz, backup MX, Bcc and the program options --------------------- */

/* A small world; %s is what follows the timeline (",\n \"quiz\": [...]"). */
#define QUIZ_WORLD \
    "{\"meta\": {\"title\": \"q\"},\n" \
    " \"hosts\": [{\"name\": \"pc\", \"ip\": \"192.0.2.10\", \"role\": \"computer\"},\n" \
    "  {\"name\": \"mx1\", \"ip\": \"192.0.2.25\", \"role\": \"mail-server\"},\n" \
    "  {\"name\": \"mx2\", \"ip\": \"192.0.2.26\", \"role\": \"mail-server\"},\n" \
    "  {\"name\": \"res\", \"ip\": \"192.0.2.53\", \"role\": \"dns-resolver\"}],\n" \
    " \"dns\": {\"resolver\": \"res\"},\n" \
    " \"mail_servers\": [{\"host\": \"mx1\", \"domains\": [\"example.org\"], \"listeners\": [\"relay\", \"submission\"]},\n" \
    "  {\"host\": \"mx2\", \"domains\": [\"example.net\"], \"listeners\": [\"relay\"], \"backup_for\": [\"example.org\"]}],\n" \
    " \"accounts\": [{\"address\": \"a@example.org\", \"password\": \"p\", \"server\": \"mx1\"}],\n" \
    " \"mail_programs\": [{\"host\": \"pc\", \"account\": \"a@example.org\", \"sent_copy\": false,\n" \
    "   \"auth_before_starttls\": true, \"use_helo\": false}],\n" \
    " \"timeline\": [{\"at\": 1, \"action\": \"send\", \"from\": \"a@example.org\", \"to\": [\"b@example.org\"],\n" \
    "   \"bcc\": [\"c@example.org\", \"d@example.org\"]}]%s}"

static void test_quiz_and_options(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    static char text[8192];
    snprintf(text, sizeof text, QUIZ_WORLD,
             ",\n \"quiz\": [\n"
             "  {\"kind\": \"choice\", \"question\": \"Which port?\", \"options\": [\"25\", \"587\", \"993\"],\n"
             "   \"answer\": 2, \"explanation\": \"Submission is 587.\"},\n"
             "  {\"kind\": \"predict\", \"question\": \"Next reply?\", \"after\": \"AUTH PLAIN\", \"from\": \"pc\",\n"
             "   \"occurrence\": 1, \"options\": [\"235\", \"530\"], \"answer\": 2,\n"
             "   \"explanations\": [\"Not before TLS.\", \"Right: STARTTLS first.\"]}]\n");
    struct sim_scenario *sc = sim_scenario_parse(text, strlen(text), "q", &dg);
    if (!sc) sim_scn_diags_print(stderr, &dg);
    assert_non_null(sc);
    assert_int_equal(sc->servers[1].nbackup, 1);
    assert_string_equal(sc->servers[1].backup_for[0], "example.org");
    assert_true(sc->programs[0].auth_before_starttls);
    assert_false(sc->programs[0].use_helo);
    assert_int_equal(sc->actions[0].nto, 1);
    assert_int_equal(sc->actions[0].nbcc, 2);
    assert_string_equal(sc->actions[0].bcc[1], "d@example.org");
    assert_int_equal(sc->nquestions, 2);
    const struct sim_scn_question *q = &sc->questions[0];
    assert_int_equal(q->kind, SIM_SCN_Q_CHOICE);
    assert_string_equal(q->text, "Which port?");
    assert_int_equal(q->noptions, 3);
    assert_int_equal(q->answer, 1);
    assert_string_equal(q->explanation, "Submission is 587.");
    assert_null(q->explanations[0]);
    assert_int_equal(q->line, 15);
    assert_int_equal(q->col, 3);
    q = &sc->questions[1];
    assert_int_equal(q->kind, SIM_SCN_Q_PREDICT);
    assert_string_equal(q->after, "AUTH PLAIN");
    assert_true(q->has_after_host);
    assert_int_equal(q->after_host, 0);
    assert_int_equal(q->occurrence, 1);
    assert_int_equal(q->answer, 1);
    assert_null(q->explanation);
    assert_string_equal(q->explanations[1], "Right: STARTTLS first.");
    assert_int_equal(q->answer_line, 18);
    sim_scenario_free(sc);

    static const struct {
        const char *quiz;
        const char *want;
    } bad[] = {
        {",\"quiz\": [{\"kind\": \"essay\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1, \"explanation\": \"e\"}]",
         "q:13:58: quiz[0].kind: expected one of choice, predict, got \"essay\""},
        {",\"quiz\": [{\"kind\": \"choice\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 3, \"explanation\": \"e\"}]",
         "q:13:116: quiz[0].answer: expected a number from 1 to 2, got 3"},
        {",\"quiz\": [{\"kind\": \"choice\", \"question\": \"q\", \"options\": [\"a\"], "
         "\"answer\": 1, \"explanation\": \"e\"}]",
         "q:13:93: quiz[0].options: expected at least 2 entries, got 1"},
        {",\"quiz\": [{\"kind\": \"choice\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1}]",
         "q:13:57: quiz[0]: missing field \"explanation\" (one for every answer) or "
         "\"explanations\" (one per option): every answer is explained"},
        {",\"quiz\": [{\"kind\": \"choice\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1, \"explanations\": [\"x\"]}]",
         "q:13:129: quiz[0].explanations: expected one explanation per option: 2 options, "
         "1 explanations"},
        {",\"quiz\": [{\"kind\": \"choice\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1, \"explanation\": \"e\", \"after\": \"DATA\"}]",
         "q:13:149: quiz[0].after: only a \"predict\" question has a pause point"},
        {",\"quiz\": [{\"kind\": \"predict\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1, \"explanation\": \"e\"}]",
         "q:13:57: quiz[0]: missing required field \"after\""},
        {",\"quiz\": [{\"kind\": \"predict\", \"question\": \"q\", \"options\": [\"a\", \"b\"], "
         "\"answer\": 1, \"explanation\": \"e\", \"after\": \"DATA\", \"from\": \"tablet\"}]",
         "q:13:167: quiz[0].from: no host named \"tablet\" in hosts"},
    };
    char got[512];
    for (size_t c = 0; c < ARRAY_LEN(bad); c++) {
        snprintf(text, sizeof text, QUIZ_WORLD, bad[c].quiz);
        assert_null(sim_scenario_parse(text, strlen(text), "q", &dg));
        if (dg.n != 1 || strcmp(sim_scn_diag_format(&dg, 0, got, sizeof got), bad[c].want) != 0) {
            sim_scn_diags_print(stderr, &dg);
            fail_msg("case %zu: want %s", c, bad[c].want);
        }
    }
    /* a backup MX for its own domain */
    snprintf(text, sizeof text, QUIZ_WORLD, "");
    char *own = strstr(text, "\"backup_for\": [\"example.org\"]");
    assert_non_null(own);
    memcpy(own + 16, "example.net", 11);
    assert_null(sim_scenario_parse(text, strlen(text), "q", &dg));
    assert_int_equal(dg.n, 1);
    assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got),
                        "q:8:86: mail_servers[1].backup_for[0]: example.net is one of this "
                        "server's own domains: a backup MX holds mail for another server's domain");
}

/* More problems than SIM_SCN_DIAGS_MAX: the rest are counted. */
static void test_many_problems(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    static char text[16384];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"meta\": {\"title\": \"t\"}, \"hosts\": [");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "%s{\"name\": \"h%d\", \"ip\": \"bad\", \"role\": \"nope\", \"x\": 1}",
                              i ? "," : "", i);
    o += (size_t)snprintf(text + o, sizeof text - o, "]}");
    assert_null(sim_scenario_parse(text, o, "many", &dg));
    assert_int_equal(dg.n, SIM_SCN_DIAGS_MAX);
    assert_int_equal(dg.dropped, 90 - SIM_SCN_DIAGS_MAX);
    static char buf[65536];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    sim_scn_diags_print(f, &dg);
    fclose(f);
    char want[64];
    snprintf(want, sizeof want, "many: ... and %d more problems\n", 90 - SIM_SCN_DIAGS_MAX);
    assert_non_null(strstr(buf, want));
}

/* An object with more fields than any in the format is refused whole. */
static void test_too_many_fields(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    static char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text, "{\"meta\": {\"title\": \"t\"");
    for (int i = 0; i < 70; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, ", \"f%d\": %d", i, i);
    o += (size_t)snprintf(text + o, sizeof text - o,
                          "}, \"hosts\": [{\"name\": \"a\", \"ip\": \"192.0.2.1\", "
                          "\"role\": \"phone\"}]}");
    assert_null(sim_scenario_parse(text, o, "wide", &dg));
    assert_int_equal(dg.n, 1);
    char got[512];
    assert_string_equal(sim_scn_diag_format(&dg, 0, got, sizeof got),
                        "wide:1:2: meta: 71 fields for meta: far more than the format has");
}

/* ---- a good file, read back ----------------------------------------------------- */

static void test_good_round_trip(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    struct sim_scenario *s = sim_scenario_load(DIR "good_full.json", &dg);
    if (!s) {
        sim_scn_diags_print(stderr, &dg);
        fail_msg("good_full.json did not load");
    }
    assert_int_equal(dg.n, 0);
    assert_string_equal(s->title, "Everything at once");
    assert_string_equal(s->summary, "A test world.");
    assert_int_equal(s->seed, 77);
    assert_int_equal(s->epoch, 1767225570); /* 2025-12-31T23:59:30Z */
    assert_int_equal(s->zone_min, -330);
    assert_int_equal(s->time_limit, SIM_MSEC(900500));

    assert_int_equal(s->nhosts, 8);
    assert_string_equal(s->hosts[0].name, "home");
    assert_string_equal(s->hosts[0].ip, "192.0.2.10");
    assert_int_equal(s->hosts[0].role, SIM_ROLE_COMPUTER);
    assert_int_equal(s->hosts[0].latency, SIM_USEC(12500));
    assert_int_equal(s->hosts[0].bps, 1000000);
    assert_int_equal(s->hosts[1].latency, SIM_MSEC(SIM_SCN_DEFAULT_LATENCY_MS));
    assert_int_equal(s->hosts[1].bps, 0);
    assert_string_equal(s->hosts[2].ip, "2001:db8::25");
    assert_int_equal(s->hosts[2].latency, 0);
    assert_int_equal(s->hosts[7].role, SIM_ROLE_WEBMAIL);

    assert_true(s->has_resolver);
    assert_int_equal(s->resolver, 3);
    assert_int_equal(s->nzones, 3);
    assert_string_equal(s->zones[0].apex, "example.com");
    assert_int_equal(s->zones[0].server, 4);
    assert_int_equal(s->zones[0].nrecords, 4);
    assert_string_equal(s->zones[0].records[0].name, "example.com");
    assert_int_equal(s->zones[0].records[0].type, DNS_TYPE_MX);
    assert_int_equal(s->zones[0].records[0].preference, 10);
    assert_string_equal(s->zones[0].records[0].value, "mail.example.com");
    assert_int_equal(s->zones[0].records[0].ttl, 600);
    assert_int_equal(s->zones[0].records[1].ttl, SIM_SCN_DEFAULT_TTL);
    assert_int_equal(s->zones[0].records[2].type, DNS_TYPE_CNAME);
    assert_int_equal(s->zones[0].records[3].type, DNS_TYPE_NS);
    assert_string_equal(s->zones[1].apex, "example.org.");
    assert_int_equal(s->zones[1].records[1].type, DNS_TYPE_AAAA);
    assert_int_equal(s->zones[1].records[2].type, DNS_TYPE_TXT);
    assert_string_equal(s->zones[1].records[2].value, "v=spf1 mx -all");
    assert_int_equal(s->zones[1].records[2].ttl, 0);
    assert_int_equal(s->zones[2].records[0].preference, 0); /* null MX, RFC 7505 */
    assert_string_equal(s->zones[2].records[0].value, ".");

    assert_int_equal(s->nservers, 2);
    const struct sim_scn_mail_server *m = &s->servers[0];
    assert_int_equal(m->host, 1);
    assert_int_equal(m->ndomains, 1);
    assert_string_equal(m->domains[0], "example.com");
    assert_int_equal(m->listeners, (1u << SIM_SCN_RELAY) | (1u << SIM_SCN_SUBMISSION) |
                                       (1u << SIM_SCN_SUBMISSIONS) | (1u << SIM_SCN_IMAPS));
    assert_true(m->greylisting);
    assert_int_equal(m->greylist_delay, SIM_SEC(45));
    assert_int_equal(m->retry_first, SIM_SEC(30));
    assert_int_equal(m->retry_max_interval, SIM_SEC(240));
    assert_int_equal(m->max_age, SIM_SEC(600));
    assert_int_equal(m->max_size, 1000000);
    m = &s->servers[1];
    assert_int_equal(m->ndomains, 2);
    assert_false(m->greylisting);
    assert_int_equal(m->retry_first, 0);
    assert_int_equal(m->max_size, 0);

    assert_int_equal(s->naccounts, 2);
    assert_string_equal(s->accounts[1].address, "bo@example.org");
    assert_string_equal(s->accounts[1].password, "pw2");
    assert_int_equal(s->accounts[1].quota, 50000);
    assert_int_equal(s->accounts[1].server, 1);
    assert_int_equal(s->accounts[0].quota, 0);

    assert_int_equal(s->ndevices, 3);
    const struct sim_scn_device *d = &s->devices[0];
    assert_string_equal(d->name, "phone"); /* the host's name */
    assert_int_equal(d->proto, SIM_SCN_PROTO_IMAP);
    assert_int_equal(d->port, 993);
    assert_true(d->idle);
    assert_int_equal(d->check_every, SIM_SEC(60));
    d = &s->devices[1];
    assert_string_equal(d->name, "laptop");
    assert_int_equal(d->host, 6);
    assert_int_equal(d->proto, SIM_SCN_PROTO_POP3);
    assert_int_equal(d->port, 110);
    assert_true(d->leave_on_server);
    assert_int_equal(d->check_every, 0);
    assert_int_equal(s->devices[2].account, 0);

    assert_int_equal(s->nprograms, 2);
    const struct sim_scn_program *p = &s->programs[0];
    assert_int_equal(p->host, 0);
    assert_int_equal(p->account, 0);
    assert_int_equal(p->server, 0);
    assert_int_equal(p->port, 465);
    assert_string_equal(p->display_name, "Ana");
    assert_false(p->sent_copy);
    p = &s->programs[1];
    assert_int_equal(p->server, 0); /* named: not the account's own server */
    assert_int_equal(p->port, 25);
    assert_true(p->skip_starttls);
    assert_true(p->wrong_password);
    assert_true(p->sent_copy); /* the default, the home server has IMAP */
    assert_null(p->display_name);

    assert_int_equal(s->nactions, 14);
    for (size_t i = 0; i < SIM_SCN_ACTION_COUNT; i++) assert_int_equal(s->actions[i].kind, i);
    const struct sim_scn_action *a = s->actions;
    assert_int_equal(a[0].at, 0);
    assert_string_equal(a[0].text, "Start.");
    assert_int_equal(a[1].at, SIM_MSEC(1250));
    assert_int_equal(a[1].program, 0);
    assert_int_equal(a[1].nto, 2);
    assert_string_equal(a[1].to[1], "x@example.net");
    assert_string_equal(a[1].subject, "Hello");
    assert_string_equal(a[1].body, "Line 1\nLine 2");
    assert_int_equal(a[2].device, 0);
    assert_string_equal(a[3].msg_subject, "Hello");
    assert_string_equal(a[3].msg_folder, "INBOX");
    assert_null(a[4].msg_subject);
    assert_int_equal(a[4].msg_index, 1);
    assert_string_equal(a[6].folder, "Archive");
    assert_int_equal(a[7].device, 1);
    assert_int_equal(a[7].msg_index, 2);
    assert_int_equal(a[8].device, 2);
    assert_int_equal(a[8].nto, 1);
    assert_string_equal(a[8].to[0], "bo@example.org");
    assert_string_equal(a[8].body, "Draft");
    assert_int_equal(a[9].host, 2);
    assert_int_equal(a[11].host, 0);
    assert_int_equal(a[11].port, 25);
    assert_true(a[11].outbound);
    assert_int_equal(a[12].port, 587);
    assert_false(a[12].outbound);
    assert_int_equal(a[13].account, 1);

    assert_int_equal(sim_scenario_host(s, "ns"), 4);
    assert_int_equal(sim_scenario_host(s, "nope"), -1);
    assert_int_equal(sim_scenario_account(s, "BO@example.org"), 1);
    assert_int_equal(sim_scenario_device(s, "webmail"), 2);
    sim_scenario_free(s);
}

static void test_default_lesson_loads(void **state)
{
    (void)state;
    static struct sim_scn_diags dg;
    struct sim_scenario *s = sim_scenario_load("lessons/default.json", &dg);
    if (!s) {
        sim_scn_diags_print(stderr, &dg);
        fail_msg("lessons/default.json did not load");
    }
    assert_string_equal(s->title, "One email, end to end");
    assert_int_equal(s->nprograms, 1);
    assert_int_equal(s->programs[0].port, 587);
    assert_int_equal(s->ndevices, 2);
    assert_int_equal(s->devices[0].port, 993);
    assert_int_equal(s->devices[1].port, 995);
    sim_scenario_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_diag_fields),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_parse_text),
        cmocka_unit_test(test_tree_positions),
        cmocka_unit_test(test_many_problems),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_good_round_trip),
        cmocka_unit_test(test_quiz_and_options),
        cmocka_unit_test(test_default_lesson_loads),
    };
    return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
