/* The quiz a lesson ends with, as the terminal (`mailsim quiz LESSON`) and
 * the window ask it: the lesson file's questions in order (sim/scenario.h,
 * "quiz"), answering, the explanation of every answer, and the score.
 *
 * A "predict" question is tied to the run: its pause point is the client's
 * line the question names (the occurrence-th line a client sent starting
 * with `after`, or for IMAP whose command after the tag does, from the
 * `from` host when given), and its answer is what
 * the server really answered to that line: for SMTP the reply to that
 * command, counted in order as pipelining needs (RFC 2920), otherwise the
 * server's next line on that connection. ui_quiz_init() finds both
 * in the trace; the option that matches the real reply is the right one,
 * whatever the file says, and ui_quiz_check() reports a file whose answer
 * disagrees with the run (that is what `mailsim check` prints).
 *
 * An option matches a reply when the option's first word (less a comma,
 * colon or semicolon after it) equals the
 * reply's status word, ignoring case: an SMTP reply's code ("250" in
 * "250-PIPELINING" or "250 2.1.5 Ok"), a POP3 reply's "+OK" or "-ERR", an
 * IMAP response's word after its tag ("OK", "NO", "BAD"; "*" or "+" for an
 * untagged response or a continuation).
 *
 * The model holds no I/O and borrows the scenario and trace it was made
 * from: both must outlive it. */
#ifndef MAILSIM_RENDER_QUIZ_H
#define MAILSIM_RENDER_QUIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/scenario.h"
#include "sim/trace.h"

#define UI_QUIZ_NO_ANSWER (-1)

/* One question and how it was answered. */
struct ui_quiz_item {
    const struct sim_scn_question *q; /* borrowed from the scenario */
    /* predict only */
    const char *from_host; /* the `from` host's name, or NULL */
    bool   found;          /* the pause point and the reply are in the trace */
    size_t pause_step;     /* the client's line: a view shows up to here, then asks */
    size_t reply_step;     /* the server's next line on that connection */
    int    actual;         /* the option matching the real reply, or UI_QUIZ_NO_ANSWER */
    /* answering */
    int    chosen;         /* the option chosen, or UI_QUIZ_NO_ANSWER */
};

struct ui_quiz {
    size_t n;
    struct ui_quiz_item items[SIM_SCN_QUESTIONS_MAX];
    size_t answered, correct;
};

/* Sets up the quiz of s, resolving predict questions against tr (NULL: not
 * run yet; predict questions then keep the file's answer). */
void ui_quiz_init(struct ui_quiz *qz, const struct sim_scenario *s, const struct sim_trace *tr);

/* The right option of question i: for a predict question found in the run,
 * the one matching what happened; otherwise the file's answer. */
size_t ui_quiz_right(const struct ui_quiz *qz, size_t i);

/* Answers question i with option opt (0-based). Returns 1 when right, 0
 * when wrong, -1 when i or opt is out of range or i is already answered
 * (an answer is final: the score counts first tries). */
int ui_quiz_answer(struct ui_quiz *qz, size_t i, size_t opt);

/* The explanation for option opt of question i: its own when the file gives
 * one per option, else the question's one explanation. Never NULL. */
const char *ui_quiz_explanation(const struct ui_quiz *qz, size_t i, size_t opt);

/* The question's first step in the trace: a predict question's pause point,
 * or for a choice question the end of the run (it is asked afterwards). */
size_t ui_quiz_ask_step(const struct ui_quiz *qz, size_t i, size_t nsteps);

/* Whether option text opt names the status of reply line `reply` of
 * protocol proto (the rule above). */
bool ui_quiz_option_matches(const char *opt, const char *reply, enum sim_proto proto);

/* Reads an answer typed by a user: a letter (A, b, ...) or a number from 1,
 * surrounded by blanks. Returns the option (0-based), or -1 when it is not
 * one of noptions. */
int ui_quiz_parse_answer(const char *line, size_t noptions);

/* Adds to dg a problem for every predict question whose pause point or
 * reply is not in the run, or whose answer in the file is not what the
 * server said, each at the question's position in the file. Returns the
 * number of problems added. */
size_t ui_quiz_check(const struct ui_quiz *qz, const struct sim_trace *tr,
                     struct sim_scn_diags *dg);

/* Plays the terminal quiz: asks every question on out, reads one answer per
 * line from in (a letter or a number; anything else is asked again), says
 * right or wrong with the explanations, and ends with the score. At the end
 * of in it stops and prints the score so far. A predict question first
 * shows the last lines of its connection up to the pause point. Returns the
 * number of questions answered right. */
size_t ui_quiz_play(struct ui_quiz *qz, const struct sim_trace *tr, const char *title, FILE *in,
                    FILE *out);

/* `mailsim quiz LESSON`: args are what follows "quiz". Exit status 0, or 2
 * for a usage error, an unknown lesson, a bad lesson file or a lesson
 * without questions. */
int ui_quiz_command(int argc, char **argv, const char *argv0, FILE *in, FILE *out, FILE *err);

#endif
