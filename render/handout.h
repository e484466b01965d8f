/* The printable handout of a lesson (`mailsim run LESSON --markdown`): a
 * Markdown page a teacher prints. It holds the title and summary; the run
 * told in chapters, one per narration line, each with the connections that
 * opened during it (every line sent, what it means, and what an
 * eavesdropper on the link reads of it) and the other events (DNS, the
 * queue, mailboxes); then the questions, and the answers with their
 * explanations at the end, on their own page when printed.
 *
 * A function of the scenario, its trace and the quiz resolved against it. */
#ifndef MAILSIM_RENDER_HANDOUT_H
#define MAILSIM_RENDER_HANDOUT_H

#include <stdio.h>

#include "render/quiz.h"
#include "sim/scenario.h"
#include "sim/trace.h"

/* Writes the handout of s's run tr to out; source names the lesson file.
 * qz is the quiz made from s and tr (ui_quiz_init). Returns 0, or -1 when
 * memory ran out (the page is then cut short). */
int ui_handout_write(FILE *out, const struct sim_scenario *s, const struct sim_trace *tr,
                     const struct ui_quiz *qz, const char *source);

/* Writes s as Markdown text that cannot break the page: '|' (a table's
 * column separator), '`', '*', '_', '<' and '\' are escaped, line
 * breaks become spaces. */
void ui_markdown_text(FILE *out, const char *s);

/* `mailsim run LESSON --markdown`: loads, runs and writes the handout to
 * out. Returns an exit code (render/run.h). */
int ui_handout_lesson(const char *lesson, const char *argv0, FILE *out, FILE *err);

#endif
