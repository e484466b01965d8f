/* The quiz model (answers typed, options matched against replies, scoring,
 * explanations), the terminal quiz with answers piped in, the checks of a
 * lesson file's predict answers against its run, and the teacher commands
 * (`mailsim lessons`, `mailsim check`, `mailsim quiz`). Run from the
 * repository root. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "protocols/common.h"
#include "render/quiz.h"
#include "render/teacher.h"
#include "sim/scenario.h"
#include "sim/world.h"

#define LESSON1 "lessons/01-smtp-conversation.json"

/* ---- small helpers ----------------------------------------------------------- */

struct mem {
    char *buf;
    size_t len;
    FILE *f;
};

static void mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
}

static const char *mem_text(struct mem *m)
{
    fflush(m->f);
    return m->buf;
}

static void mem_close(struct mem *m)
{
    fclose(m->f);
    free(m->buf);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* A lesson from text in memory, built and run. */
struct played {
    struct sim_scenario *s;
    struct sim_world *w;
    const struct sim_trace *tr;
};

static void play_text(struct played *p, const char *text)
{
    static struct sim_scn_diags dg;
    p->s = sim_scenario_parse(text, strlen(text), "lesson.json", &dg);
    if (!p->s) sim_scn_diags_print(stderr, &dg);
    assert_non_null(p->s);
    p->w = sim_world_new(p->s, &dg);
    assert_non_null(p->w);
    assert_true(sim_world_run(p->w) > 0);
    p->tr = sim_world_trace(p->w);
}

static void unplay(struct played *p)
{
    sim_world_free(p->w);
    sim_scenario_free(p->s);
}

/* text with the first `from` replaced by `to` (into a static buffer). */
static const char *replaced(const char *text, const char *from, const char *to)
{
    static char out[70000];
    const char *at = strstr(text, from);
    assert_non_null(at);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* ---- parsing answers and matching replies -------------------------------------- */

static void test_parse_answer(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        int want;
    } cases[] = {
        {"a", 4, 0},      {"B", 4, 1},     {"  d \n", 4, 3},  {"1", 4, 0},
        {" 4\r\n", 4, 3}, {"e", 4, -1},    {"5", 4, -1},      {"0", 4, -1},
        {"", 4, -1},      {"\n", 4, -1},   {"ab", 4, -1},     {"1 2", 4, -1},
        {"b)", 4, -1},    {"-1", 4, -1},   {"10", 6, -1},     {"6", 6, 5},
        {"F", 6, 5},      {"?", 6, -1},    {"2x", 4, -1},     {"one", 4, -1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int got = ui_quiz_parse_answer(cases[i].in, cases[i].n);
        if (got != cases[i].want)
            fail_msg("\"%s\" of %zu: %d, want %d", cases[i].in, cases[i].n, got, cases[i].want);
    }
}

static void test_option_matches(void **state)
{
    (void)state;
    static const struct {
        const char *opt, *reply;
        enum sim_proto proto;
        bool want;
    } cases[] = {
        {"250 Ok", "250 2.1.5 Ok", SIM_PROTO_SMTP, true},
        {"250", "250-PIPELINING", SIM_PROTO_SMTP, true},
        {"250, with its extensions", "250-mail.example.org greets x", SIM_PROTO_SMTP, true},
        {"354 Start mail input", "250 2.1.0 Ok", SIM_PROTO_SMTP, false},
        {"25", "250 Ok", SIM_PROTO_SMTP, false},
        {"2500", "250 Ok", SIM_PROTO_SMTP, false},
        {"530 STARTTLS first", "530 5.7.0 Must issue a STARTTLS command first", SIM_PROTO_SMTP, true},
        {"+OK and the message", "+OK 583 octets", SIM_PROTO_POP3, true},
        {"+ok", "+OK", SIM_PROTO_POP3, true},
        {"-ERR", "+OK 583 octets", SIM_PROTO_POP3, false},
        {"NO", "a004 NO [TRYCREATE] no such folder", SIM_PROTO_IMAP, true},
        {"OK", "a004 NO [TRYCREATE] no such folder", SIM_PROTO_IMAP, false},
        {"+ idling", "+ idling", SIM_PROTO_IMAP, true},
        {"* 1 EXISTS", "* 1 EXISTS", SIM_PROTO_IMAP, true},
        {"", "250 Ok", SIM_PROTO_SMTP, false},
        {"250", "", SIM_PROTO_SMTP, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (ui_quiz_option_matches(cases[i].opt, cases[i].reply, cases[i].proto) != cases[i].want)
            fail_msg("case %zu: \"%s\" against \"%s\"", i, cases[i].opt, cases[i].reply);
    assert_false(ui_quiz_option_matches(NULL, "250", SIM_PROTO_SMTP));
}

/* ---- the model on lesson 1 ------------------------------------------------------ */

static void test_model_resolves_and_scores(void **state)
{
    (void)state;
    struct played p;
    play_text(&p, read_file(LESSON1));
    static struct ui_quiz qz;
    ui_quiz_init(&qz, p.s, p.tr);
    assert_int_equal(qz.n, 5);
    /* question 1: paused after grandpa's DATA, the reply is 354 */
    const struct ui_quiz_item *it = &qz.items[0];
    assert_true(it->found);
    assert_string_equal(it->from_host, "grandpa-pc");
    const struct sim_trace_event *pause = sim_trace_get(p.tr, it->pause_step);
    const struct sim_trace_event *reply = sim_trace_get(p.tr, it->reply_step);
    assert_string_equal(pause->text, "DATA");
    assert_string_equal(pause->from, "grandpa-pc");
    assert_string_equal(reply->text, "354 Start mail input; end with <CRLF>.<CRLF>");
    assert_int_equal(reply->conn, pause->conn);
    assert_int_equal(it->actual, 1);
    assert_int_equal(ui_quiz_right(&qz, 0), 1);
    assert_int_equal(ui_quiz_ask_step(&qz, 0, sim_trace_len(p.tr)), it->pause_step);
    /* a choice question is asked after the run */
    assert_int_equal(ui_quiz_ask_step(&qz, 2, sim_trace_len(p.tr)), sim_trace_len(p.tr) - 1);
    assert_int_equal(qz.items[2].actual, UI_QUIZ_NO_ANSWER);
    assert_int_equal(ui_quiz_right(&qz, 2), 1);
    /* explanations: per option, or the one for all */
    assert_string_equal(ui_quiz_explanation(&qz, 0, 2),
                        "221 answers QUIT: the server is closing the connection.");
    assert_true(strncmp(ui_quiz_explanation(&qz, 1, 0), "The lone dot ends the message.", 30) == 0);
    assert_string_equal(ui_quiz_explanation(&qz, 1, 0), ui_quiz_explanation(&qz, 1, 2));
    assert_string_equal(ui_quiz_explanation(&qz, 9, 0), "");
    /* answering: first tries count, once */
    assert_int_equal(ui_quiz_answer(&qz, 0, 0), 0);
    assert_int_equal(ui_quiz_answer(&qz, 0, 1), -1);
    assert_int_equal(ui_quiz_answer(&qz, 1, 1), 1);
    assert_int_equal(ui_quiz_answer(&qz, 2, 7), -1);
    assert_int_equal(ui_quiz_answer(&qz, 5, 0), -1);
    assert_int_equal(qz.answered, 2);
    assert_int_equal(qz.correct, 1);
    assert_int_equal(qz.items[0].chosen, 0);
    /* a pipelined command's own reply: RCPT TO:<boss@...> is answered 250 2.1.5,
     * although the next server line after it answers MAIL FROM */
    struct sim_scenario *s = p.s;
    struct sim_scn_question extra = s->questions[0];
    extra.after = "RCPT TO:<boss@example.org>";
    extra.after_host = 0; /* manish-pc */
    s->questions[s->nquestions++] = extra;
    ui_quiz_init(&qz, s, p.tr);
    it = &qz.items[5];
    assert_true(it->found);
    assert_string_equal(sim_trace_get(p.tr, it->pause_step)->text, "RCPT TO:<boss@example.org>");
    assert_string_equal(sim_trace_get(p.tr, it->reply_step)->text, "250 2.1.5 Ok");
    assert_int_equal(it->actual, 0); /* question 1's option A, "250 Ok" */
    s->nquestions--;
    /* without a trace, predict questions keep the file's answer */
    ui_quiz_init(&qz, s, NULL);
    assert_false(qz.items[0].found);
    assert_int_equal(ui_quiz_right(&qz, 0), 1);
    unplay(&p);
}

/* A file whose predictions disagree with the run: every problem, placed. */
static void test_check_finds_wrong_predictions(void **state)
{
    (void)state;
    static char text1[70000];
    snprintf(text1, sizeof text1, "%s", read_file(LESSON1));
    /* question 1's answer says 250 (1) where the server says 354 (2) */
    const char *text = replaced(text1, "\"options\": [\"250 Ok\", \"354 Start mail input\", \"221 Bye\", "
                          "\"500 Command unrecognized\"], \"answer\": 2,",
                    "\"options\": [\"250 Ok\", \"354 Start mail input\", \"221 Bye\", "
                    "\"500 Command unrecognized\"], \"answer\": 1,");
    /* question 2 pauses at a line that never comes */
    snprintf(text1, sizeof text1, "%s", text);
    text = replaced(text1, "\"after\": \".\", \"from\": \"grandpa-pc\"",
                    "\"after\": \"BDAT\", \"from\": \"grandpa-pc\"");
    char copy[70000];
    snprintf(copy, sizeof copy, "%s", text);
    struct played p;
    play_text(&p, copy);
    static struct ui_quiz qz;
    static struct sim_scn_diags dg;
    ui_quiz_init(&qz, p.s, p.tr);
    dg.n = dg.dropped = 0;
    snprintf(dg.file, sizeof dg.file, "lesson.json");
    assert_int_equal(ui_quiz_check(&qz, p.tr, &dg), 2);
    char line[600];
    assert_string_equal(sim_scn_diag_format(&dg, 0, line, sizeof line),
                        "lesson.json:61:92: quiz[0].answer: the file says 1, but the server said "
                        "\"354 Start mail input; end with <CRLF>.<CRLF>\", which is option 2");
    assert_string_equal(sim_scn_diag_format(&dg, 1, line, sizeof line),
                        "lesson.json:63:5: quiz[1]: no pause point in the run: no client line from "
                        "grandpa-pc starting with \"BDAT\" (occurrence 1) that the server answered");
    /* the terminal quiz goes by the run: B is right for question 1 */
    assert_int_equal(ui_quiz_right(&qz, 0), 1);
    unplay(&p);
}

/* ---- the terminal quiz ----------------------------------------------------------- */

struct play_case {
    const char *name;
    const char *input;
    size_t correct;
    const char *want[6]; /* lines the output must hold, in this order */
};

static const struct play_case play_cases[] = {
    {"every answer right, letters and numbers", "b\n2\nB\nb\n2\n", 5,
     {"Question 1 of 5 (predict the next reply)\nThe run is paused here:\n",
      "C: DATA  # DATA: the client is about to send the message itself, headers and body\n"
      "    ... what comes next?\n",
      "Your answer (A-D): Right. 354 means go ahead, send the message and end it with a line "
      "holding only a dot.\nWhat the server really said:\n",
      "Question 3 of 5\nManish's message went to", "Score: 5 of 5 right.\n", NULL}},
    {"a wrong answer is explained, and the right one", "a\nb\nb\nb\nb\n", 4,
     {"Your answer (A-D): Not quite. 250 answers MAIL FROM, RCPT TO and the end of the message; "
      "DATA asks for permission to send the message.\n"
      "The answer is B) 354 Start mail input: 354 means go ahead, send the message and end it "
      "with a line holding only a dot.\n",
      "Score: 4 of 5 right.\n", NULL}},
    {"nonsense is asked again", "x\n\n9\nb\n", 1,
     {"Your answer (A-D): Please type a letter from A to D, or a number from 1 to 4.\n"
      "Your answer (A-D): Please type a letter from A to D, or a number from 1 to 4.\n"
      "Your answer (A-D): Please type a letter from A to D, or a number from 1 to 4.\n"
      "Your answer (A-D): Right.",
      "The quiz stopped early. Score so far: 1 of 1 answered right (5 questions in all).\n",
      NULL}},
    {"end of input at once", "", 0,
     {"Quiz: Lesson 1: The SMTP conversation\n5 questions.",
      "The quiz stopped early. Score so far: 0 of 0 answered right (5 questions in all).\n", NULL}},
};

static void test_terminal_quiz(void **state)
{
    (void)state;
    struct played p;
    play_text(&p, read_file(LESSON1));
    static struct ui_quiz qz;
    for (size_t c = 0; c < ARRAY_LEN(play_cases); c++) {
        const struct play_case *pc = &play_cases[c];
        ui_quiz_init(&qz, p.s, p.tr);
        FILE *in = fmemopen((void *)pc->input, strlen(pc->input), "r");
        if (!in) in = fopen("/dev/null", "r");
        assert_non_null(in);
        struct mem out;
        mem_open(&out);
        size_t right = ui_quiz_play(&qz, p.tr, p.s->title, in, out.f);
        fclose(in);
        const char *t = mem_text(&out);
        if (right != pc->correct) fail_msg("%s: %zu right, want %zu", pc->name, right, pc->correct);
        const char *at = t;
        for (size_t k = 0; k < 6 && pc->want[k]; k++) {
            const char *f = strstr(at, pc->want[k]);
            if (!f) fail_msg("%s: missing, in order:\n%s\n--- output:\n%s", pc->name, pc->want[k], t);
            at = f + strlen(pc->want[k]);
        }
        mem_close(&out);
    }
    unplay(&p);
}

/* ---- the commands ------------------------------------------------------------------ */

static const char *argv0 = "mailsim";

static void test_quiz_command(void **state)
{
    (void)state;
    static const struct {
        int argc;
        char *argv[3];
        const char *input;
        int rc;
        const char *out, *err;
    } cases[] = {
        {1, {"01-smtp-conversation"}, "b\n", 0, "Score so far: 1 of 1 answered right", ""},
        {1, {LESSON1}, "", 0, "Quiz: Lesson 1: The SMTP conversation", ""},
        {0, {NULL}, "", 2, "", "mailsim quiz: which lesson? (`mailsim lessons` lists them)\n"
                               "usage: mailsim quiz LESSON\n"},
        {1, {"no-such-lesson"}, "", 2, "", "mailsim: no lesson \"no-such-lesson\""},
        {1, {"default"}, "", 2, "", "has no questions (a \"quiz\" section, see lessons/README.md)\n"},
        {2, {"default", "--fast"}, "", 2, "", "mailsim quiz: unexpected '--fast'\n"},
        {1, {"--help"}, "", 0, "usage: mailsim quiz LESSON\n", ""},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const char *input = cases[c].input;
        FILE *in = *input ? fmemopen((void *)input, strlen(input), "r") : fopen("/dev/null", "r");
        struct mem out, err;
        mem_open(&out);
        mem_open(&err);
        int rc = ui_quiz_command(cases[c].argc, (char **)cases[c].argv, argv0, in, out.f, err.f);
        const char *o = mem_text(&out), *e = mem_text(&err);
        if (rc != cases[c].rc || !strstr(o, cases[c].out) || !strstr(e, cases[c].err) ||
            (!cases[c].err[0] && e[0]))
            fail_msg("case %zu: rc %d\nout: %s\nerr: %s", c, rc, o, e);
        fclose(in);
        mem_close(&out);
        mem_close(&err);
    }
}

static void test_check_command(void **state)
{
    (void)state;
    /* a wrong prediction, written to a file */
    char bad[] = "/tmp/mailsim-check-XXXXXX";
    int fd = mkstemp(bad);
    assert_true(fd >= 0);
    const char *text = replaced(read_file(LESSON1), "\"answer\": 2,\n     \"explanations\": [\"250 answers",
                                "\"answer\": 4,\n     \"explanations\": [\"250 answers");
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const struct {
        const char *file;
        int rc;
        const char *out, *err;
    } cases[] = {
        {LESSON1, 0,
         "lessons/01-smtp-conversation.json: no problems: \"Lesson 1: The SMTP conversation\"\n"
         "  7 hosts, 10 timeline actions (8 narration lines), 5 questions\n"
         "  played: 213 events in 10.560 s of simulated time; the 2 predict questions match what "
         "the server said\n",
         ""},
        {"tests/fixtures/scenarios/bad_role.json", 2, "",
         "tests/fixtures/scenarios/bad_role.json:6:38: hosts[2].role: expected one of computer, "
         "laptop, phone, webmail, mail-server, dns-resolver, dns-server, got \"router\"\n"
         "tests/fixtures/scenarios/bad_role.json: 1 problem\n"},
        {bad, 2, "", ":61:92: quiz[0].answer: the file says 4, but the server said \"354 Start "
                     "mail input; end with <CRLF>.<CRLF>\", which is option 2\n"},
        {"/nonexistent/lesson.json", 2, "", "/nonexistent/lesson.json: no such file (nor a lesson of that name)\n"},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct mem out, err;
        mem_open(&out);
        mem_open(&err);
        char *argv[] = {(char *)cases[c].file};
        int rc = ui_check_command(1, argv, argv0, out.f, err.f);
        const char *o = mem_text(&out), *e = mem_text(&err);
        bool out_ok = cases[c].out[0] ? strcmp(o, cases[c].out) == 0 : o[0] == '\0';
        if (rc != cases[c].rc || !out_ok || !strstr(e, cases[c].err) || (!cases[c].err[0] && e[0]))
            fail_msg("case %zu: rc %d\nout: %s\nerr: %s", c, rc, o, e);
        mem_close(&out);
        mem_close(&err);
    }
    unlink(bad);
    /* usage errors */
    struct mem out, err;
    mem_open(&out);
    mem_open(&err);
    assert_int_equal(ui_check_command(0, NULL, argv0, out.f, err.f), 2);
    assert_string_equal(mem_text(&err), "mailsim check: which file?\nusage: mailsim check FILE\n");
    mem_close(&out);
    mem_close(&err);
}

static void test_lessons_command(void **state)
{
    (void)state;
    setenv("MAILSIM_LESSONS", "lessons", 1);
    struct mem out, err;
    mem_open(&out);
    mem_open(&err);
    assert_int_equal(ui_lessons_command(0, NULL, argv0, out.f, err.f), 0);
    const char *o = mem_text(&out);
    static const char *const want[] = {
        "  01-smtp-conversation     Lesson 1: The SMTP conversation\n"
        "                           A mail program and a mail server talk SMTP, line by line.\n"
        "                           5 questions\n",
        "  02-finding-the-server    Lesson 2: Finding the recipient's server\n",
        "  03-ports-and-encryption  Lesson 3: Ports and encryption\n",
        "  04-imap                  Lesson 4: IMAP keeps the mailbox on the server\n",
        "  05-pop3                  Lesson 5: POP3 downloads and deletes\n",
        "  06-when-mail-goes-wrong  Lesson 6: When mail goes wrong\n",
        "  07-whole-picture         Lesson 7: The whole picture\n",
        "  default                  One email, end to end\n",
    };
    const char *at = o;
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const char *f = strstr(at, want[i]);
        if (!f) fail_msg("missing, in order: %s\n--- output:\n%s", want[i], o);
        at = f + strlen(want[i]);
    }
    assert_string_equal(mem_text(&err), "");
    mem_close(&out);
    mem_close(&err);
    unsetenv("MAILSIM_LESSONS");
}

static void test_first_sentence(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t cap;
        const char *want;
    } cases[] = {
        {"One line. Two lines.", 64, "One line."},
        {"No full stop", 64, "No full stop"},
        {"Ends with a dot.", 64, "Ends with a dot."},
        {"", 64, ""},
        {"Version 1.5 is out. Next.", 64, "Version 1.5 is out."},
        {"A rather long first sentence here. x", 16, "A rather..."},
        {"Unbreakablewordthatgoesonandon. x", 12, "Unbreaka..."},
    };
    char out[64];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_string_equal(ui_first_sentence(cases[i].in, out, cases[i].cap), cases[i].want);
    assert_string_equal(ui_first_sentence(NULL, out, sizeof out), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_answer),
        cmocka_unit_test(test_option_matches),
        cmocka_unit_test(test_model_resolves_and_scores),
        cmocka_unit_test(test_check_finds_wrong_predictions),
        cmocka_unit_test(test_terminal_quiz),
        cmocka_unit_test(test_quiz_command),
        cmocka_unit_test(test_check_command),
        cmocka_unit_test(test_lessons_command),
        cmocka_unit_test(test_first_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
