/* `mailsim run [LESSON] [--json]`: load a lesson, play it in the simulated
 * world, and print its trace: the transcript (one line per event,
 * ui_transcript_line) or JSON lines (ui_json_line). */
#ifndef MAILSIM_RENDER_RUN_H
#define MAILSIM_RENDER_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes. */
#define UI_RUN_OK 0
#define UI_RUN_FAILED 1 /* the run stopped: the engine ran out of room */
#define UI_RUN_USAGE 2  /* bad arguments, no such lesson, or a bad lesson file */

/* The default story, played when no lesson is named. */
#define UI_DEFAULT_LESSON "default"

/* Where LESSON points: a path when it names a file that exists (or holds
 * a '/' or ends in ".json"); otherwise a lesson name looked up as
 * NAME.json in, in order:
 *   1. $MAILSIM_LESSONS, when set;
 *   2. lessons/ beside the executable, then in the folders up to three
 *      levels above it (the executable is build/mailsim or
 *      build/NAME/mailsim in a checkout, so that finds the checkout's
 *      lessons/); the executable is /proc/self/exe, or argv0 when that
 *      cannot be read;
 *   3. lessons/ in the current directory.
 * Writes the path into out and returns true, or returns false when no such
 * file exists (out then holds the name as given). */
bool ui_find_lesson(const char *lesson, const char *argv0, char *out, size_t cap);

/* Loads, builds and runs lesson (a path or a name, see ui_find_lesson; NULL
 * for the default story), writing the trace to out and problems to err
 * (each "FILE:LINE:COL: PATH: what was expected"). Returns an exit code. */
int ui_run_lesson(const char *lesson, bool json, const char *argv0, FILE *out, FILE *err);

/* The `run` command: args are what follows "run" ([LESSON] [--json |
 * --markdown] [--eavesdrop]). Returns an exit code. --markdown needs
 * ui_run_command_with's writer; here it is a usage error. */
int ui_run_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

/* Writes lesson's printable handout to out (render/handout.h's
 * ui_handout_lesson); returns an exit code. */
typedef int (*ui_markdown_fn)(const char *lesson, const char *argv0, FILE *out, FILE *err);

/* The same, with markdown writing the handout for --markdown. The command
 * line passes it, so that run.c needs no handout to link. */
int ui_run_command_with(int argc, char **argv, const char *argv0, FILE *out, FILE *err,
                        ui_markdown_fn markdown);

#endif
