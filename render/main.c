/* mailsim's command line. Each command is a row of the table below; the
 * views it starts live in their own files under render/. */
#include <stdio.h>
#include <string.h>

#include "protocols/common.h"
#include "render/compare_view.h"
#include "render/handout.h"
#include "render/quiz.h"
#include "render/run.h"
#include "render/serve.h"
#include "render/teacher.h"
#include "render/ui_snapshot.h"
#include "render/ui_window.h"

#ifndef MAILSIM_VERSION
#define MAILSIM_VERSION "unknown"
#endif

/* A command: `mailsim NAME ARGS...`. handler gets the arguments after the
 * name and returns the exit code. */
struct command {
    const char *name;
    int (*handler)(int argc, char **argv, const char *argv0);
    const char *usage; /* "run [LESSON] [--json]" */
    const char *help;  /* one line */
};

static int cmd_run(int argc, char **argv, const char *argv0)
{
    return ui_run_command_with(argc, argv, argv0, stdout, stderr, ui_handout_lesson);
}

static int cmd_compare(int argc, char **argv, const char *argv0)
{
    return ui_compare_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_serve(int argc, char **argv, const char *argv0)
{
    return ui_serve_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_view(int argc, char **argv, const char *argv0)
{
    return ui_view_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_snapshot(int argc, char **argv, const char *argv0)
{
    return ui_snapshot_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_lessons(int argc, char **argv, const char *argv0)
{
    return ui_lessons_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_check(int argc, char **argv, const char *argv0)
{
    return ui_check_command(argc, argv, argv0, stdout, stderr);
}

static int cmd_quiz(int argc, char **argv, const char *argv0)
{
    return ui_quiz_command(argc, argv, argv0, stdin, stdout, stderr);
}

static const struct command commands[] = {
    {"run", cmd_run, "run [LESSON] [--json | --markdown] [--eavesdrop]",
     "play a lesson (default: the default story) and print its transcript"},
    {"lessons", cmd_lessons, "lessons", "list the lessons and what each teaches"},
    {"quiz", cmd_quiz, "quiz LESSON", "ask a lesson's questions in the terminal and keep the score"},
    {"check", cmd_check, "check FILE",
     "check a lesson file you wrote: every problem with its line (exit 2 if any)"},
    {"compare", cmd_compare,
     "compare [--rule NAME] [--devices N] [--days D] [--per-day M] [--leave-on-server] [--seed S] [--json] [--plot FILE.png] [--view] [--snapshot FILE.png]",
     "IMAP sync against POP3 download on the same mail over simulated days: the numbers, a chart, and a split view (--view)"},
    {"serve", cmd_serve,
     "serve [LESSON] [--port-offset N] [--user ADDRESS:PASSWORD]... [--maildir DIR] [--headless] [--bind ADDRESS]",
     "open the lesson's servers to real mail programs on loopback (SMTP 10025, IMAPS 10993, ...)"},
    {"view", cmd_view, "view [LESSON]",
     "open the window on a lesson (what `mailsim` alone does); H lists the keys"},
    {"snapshot", cmd_snapshot, "snapshot [LESSON] --step N --out FILE.png [--size WxH] [--eavesdrop] [--quiz [--answer X]]",
     "save what the window shows after step N as a PNG, without a display"},
};

static void print_usage(FILE *out)
{
    fputs("usage: mailsim [--help] [--version] [COMMAND [ARGS]]\n"
          "\n"
          "mailsim shows how one email travels: submitted by SMTP on port 587,\n"
          "relayed server to server on port 25 after an MX lookup, then fetched\n"
          "by IMAP (993) and POP3 (995). Every command and reply is real protocol.\n"
          "\n"
          "With no command it opens the window on the default story; without a\n"
          "display it says so and prints the story's transcript instead.\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %s\n      %s\n", commands[i].usage, commands[i].help);
    fputs("\n"
          "LESSON is a lesson file, or a name found as NAME.json in $MAILSIM_LESSONS,\n"
          "in lessons/ beside the program or up to three folders above it, or in\n"
          "./lessons/.\n"
          "--json prints one JSON object per event instead of the transcript;\n"
          "--markdown a printable handout with the questions and answers;\n"
          "--eavesdrop adds what an eavesdropper on the link reads of each line.\n"
          "A bad lesson file is reported line by line and exits with status 2.\n"
          "\n"
          "options:\n"
          "  --help      show this help and exit\n"
          "  --version   print the version and exit\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) return ui_window_run(NULL, argv[0], stdout, stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mailsim %s\n", MAILSIM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].handler(argc - 2, argv + 2, argv[0]);
    fprintf(stderr, "mailsim: unknown command or option '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
