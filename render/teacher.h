/* The teacher's commands: `mailsim lessons` lists the lessons with a line
 * about each, and `mailsim check FILE` validates a lesson file: the format
 * (every problem with its line and column, sim/scenario.h), the world it
 * builds, and, by playing it, every "predict" question against what the
 * server really answers (render/quiz.h). */
#ifndef MAILSIM_RENDER_TEACHER_H
#define MAILSIM_RENDER_TEACHER_H

#include <stddef.h>
#include <stdio.h>

/* The first sentence of summary (up to ". " or the end), at most cap - 1
 * characters, cut at a word with "..." when longer. Returns out. */
char *ui_first_sentence(const char *summary, char *out, size_t cap);

/* `mailsim lessons`: args are what follows "lessons" (only --help). Lists
 * the lessons found beside the default one (render/ui_lesson.h), each with
 * its title and the first sentence of its summary. Returns an exit code:
 * 0, or 2 for a usage error or when no lessons folder is found. */
int ui_lessons_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

/* `mailsim check FILE`: prints every problem ("FILE:LINE:COL: PATH: what was
 * expected") to err and returns 2 when there is any, or prints what the
 * lesson holds to out and returns 0. FILE may also be a lesson name. */
int ui_check_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

#endif
