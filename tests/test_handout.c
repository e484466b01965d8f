/* The Markdown handout: escaping, the exact page for lesson 1 (title,
 * summary, narration, connection tables with the eavesdropper's column,
 * questions, answers last), every table row of every lesson well formed,
 * and a lesson without questions. Run from the repository root. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "render/handout.h"
#include "render/quiz.h"
#include "render/run.h"
#include "sim/scenario.h"
#include "sim/world.h"

static const char *const lessons[] = {
    "01-smtp-conversation", "02-finding-the-server", "03-ports-and-encryption", "04-imap",
    "05-pop3", "06-when-mail-goes-wrong", "07-whole-picture", "default",
};

struct page {
    char *text;
    size_t len;
    struct sim_scenario *s;
    struct sim_world *w;
};

static void make_page(struct page *pg, const char *name)
{
    static struct sim_scn_diags dg;
    static struct ui_quiz qz;
    char path[256];
    snprintf(path, sizeof path, "lessons/%s.json", name);
    pg->s = sim_scenario_load(path, &dg);
    assert_non_null(pg->s);
    pg->w = sim_world_new(pg->s, &dg);
    assert_non_null(pg->w);
    assert_true(sim_world_run(pg->w) > 0);
    ui_quiz_init(&qz, pg->s, sim_world_trace(pg->w));
    FILE *f = open_memstream(&pg->text, &pg->len);
    assert_non_null(f);
    assert_int_equal(ui_handout_write(f, pg->s, sim_world_trace(pg->w), &qz, path), 0);
    fclose(f);
}

static void free_page(struct page *pg)
{
    free(pg->text);
    sim_world_free(pg->w);
    sim_scenario_free(pg->s);
}

static size_t occurrences(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) n++;
    return n;
}

static void test_markdown_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain words", "plain words"},
        {"a|b", "a\\|b"},
        {"<CRLF>.<CRLF>", "\\<CRLF>.\\<CRLF>"},
        {"x_y*z`w", "x\\_y\\*z\\`w"},
        {"back\\slash", "back\\\\slash"},
        {"two\nlines\r\n", "two lines  "},
        {"[16 bytes of TLS]", "[16 bytes of TLS]"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ui_markdown_text(f, cases[i].in);
        fclose(f);
        assert_string_equal(buf, cases[i].want);
        free(buf);
    }
}

static void test_lesson1_page(void **state)
{
    (void)state;
    struct page pg;
    make_page(&pg, "01-smtp-conversation");
    const char *t = pg.text;
    /* in this order */
    static const char *const want[] = {
        "# Lesson 1: The SMTP conversation\n\nA mail program and a mail server talk SMTP, line by "
        "line. Every line:",
        "*Played by mailsim from* `lessons/01-smtp-conversation.json`*: 213 events in 10.560 s of "
        "simulated time.",
        "## The story\n\n1. **0.000 s** Manish presses Send.",
        "\n8. **10.000 s** Grandpa's old mail program greets with HELO",
        "## What happened, step by step\n\n### 0.000 s: Manish presses Send.",
        "**Connection 1: manish-pc to mail.example.com, port 587 (SMTP, submission)**\n\n"
        "| time | line | what it means | an eavesdropper reads |\n|---:|---|---|---|\n",
        "| 1.050 s | C: `EHLO manish-pc` | EHLO: the client says hello and asks which extensions "
        "the server supports | `EHLO manish-pc` |\n",
        "| 1.200 s | *TLS handshake complete* | from now on an eavesdropper on the link sees only "
        "opaque records of the same size |  |\n",
        "| 1.200 s | C: `EHLO manish-pc` | EHLO: the client says hello and asks which extensions "
        "the server supports | *[16 bytes of TLS]* |\n",
        "| 1.350 s | C: *(empty line)* | the empty line ends the header; the body follows (RFC 5322 "
        "2.1) | *[2 bytes of TLS]* |\n",
        "Other events:\n\n- 1.000 s, sim: manish-pc sends \"Lunch on Friday?\" (the mail program "
        "composes the message and submits it to its own server)\n",
        "**Connection 3: grandpa-pc to mail.example.org, port 25 (SMTP, server to server)**",
        "| 10.080 s | C: `HELO grandpa-pc` |",
        "## Questions\n\n1. *Predict the next reply.* At 10.320 s, on connection 3, grandpa-pc "
        "sends `DATA`. Grandpa's program has just sent DATA. What does the server answer?\n\n"
        "    - **A.** 250 Ok\n    - **B.** 354 Start mail input\n",
        "5. How does the client tell the server that the message is complete?\n",
        "## Answers\n\n1. **B. 354 Start mail input** 354 means go ahead, send the message and "
        "end it with a line holding only a dot. The server said: `354 Start mail input; end with "
        "<CRLF>.<CRLF>`.\n    - A: 250 answers MAIL FROM",
        "\n5. **B. It sends a line holding only a dot** RFC 5321 4.1.1.4:",
    };
    const char *at = t;
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const char *f = strstr(at, want[i]);
        if (!f) fail_msg("missing, in order:\n%s", want[i]);
        at = f + strlen(want[i]);
    }
    /* each connection once, as many as the run opened */
    assert_int_equal(occurrences(t, "**Connection "), 3);
    assert_int_equal(occurrences(t, "**Connection 2: mail.example.com to mail.example.org, port 25"), 1);
    /* the answers are only at the end */
    const char *answers = strstr(t, "## Answers");
    assert_non_null(answers);
    assert_null(strstr(answers + 1, "## "));
    size_t said = occurrences(t, "The server said:");
    assert_int_equal(said, 2);
    assert_int_equal(occurrences(answers, "The server said:"), said);
    /* state changes of the sessions are left out; the queue's steps stay */
    assert_null(strstr(t, "greeting -> ehlo"));
    assert_non_null(strstr(t, "resolve-mx -> connect"));
    free_page(&pg);
}

/* Every table row has its five column bars, whatever the lines held. */
static void test_every_lesson_is_well_formed(void **state)
{
    (void)state;
    for (size_t l = 0; l < ARRAY_LEN(lessons); l++) {
        struct page pg;
        make_page(&pg, lessons[l]);
        size_t rows = 0;
        for (const char *line = pg.text; *line;) {
            const char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            if (len && line[0] == '|') {
                size_t bars = 0;
                bool code = false;
                for (size_t i = 0; i < len; i++) {
                    if (line[i] == '\\') {
                        i++;
                        continue;
                    }
                    if (line[i] == '`') code = !code;
                    else if (line[i] == '|' && !code) bars++;
                }
                if (bars != 5) fail_msg("%s: a row with %zu bars: %.*s", lessons[l], bars, (int)len, line);
                rows++;
            }
            line += len + (end ? 1 : 0);
        }
        assert_true(rows > 50);
        bool quiz = pg.s->nquestions > 0;
        assert_int_equal(strstr(pg.text, "## Questions") != NULL, quiz);
        assert_int_equal(strstr(pg.text, "## Answers") != NULL, quiz);
        free_page(&pg);
    }
}

static void test_handout_command(void **state)
{
    (void)state;
    char *buf = NULL, *ebuf = NULL;
    size_t len = 0, elen = 0;
    FILE *out = open_memstream(&buf, &len), *err = open_memstream(&ebuf, &elen);
    assert_int_equal(ui_handout_lesson("no-such-lesson", "mailsim", out, err), UI_RUN_USAGE);
    assert_int_equal(ui_handout_lesson("05-pop3", "mailsim", out, err), UI_RUN_OK);
    fclose(out);
    fclose(err);
    assert_true(strncmp(buf, "# Lesson 5: POP3 downloads and deletes\n", 39) == 0);
    assert_non_null(strstr(ebuf, "mailsim: no lesson \"no-such-lesson\""));
    /* the dial-up laptop's password crossed inside TLS: only its size shows */
    assert_non_null(strstr(buf, "| C: `PASS battery staple` | PASS: the client sends the password, in "
                                "plain text unless the connection is encrypted | *[21 bytes of TLS]* |"));
    free(buf);
    free(ebuf);
    /* run's option parsing hands --markdown to the writer it is given */
    buf = NULL;
    out = open_memstream(&buf, &len);
    err = open_memstream(&ebuf, &elen);
    char *argv[] = {"07-whole-picture", "--markdown"};
    assert_int_equal(ui_run_command_with(2, argv, "mailsim", out, err, ui_handout_lesson), UI_RUN_OK);
    char *both[] = {"07-whole-picture", "--markdown", "--json"};
    assert_int_equal(ui_run_command_with(3, both, "mailsim", out, err, ui_handout_lesson), UI_RUN_USAGE);
    assert_int_equal(ui_run_command(2, argv, "mailsim", out, err), UI_RUN_USAGE);
    fclose(out);
    fclose(err);
    assert_true(strncmp(buf, "# Lesson 7: The whole picture\n", 30) == 0);
    assert_non_null(strstr(ebuf, "mailsim run: --json or --markdown, not both\n"));
    free(buf);
    free(ebuf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown_text),
        cmocka_unit_test(test_lesson1_page),
        cmocka_unit_test(test_every_lesson_is_well_formed),
        cmocka_unit_test(test_handout_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
