/* `mailsim run`: lesson file -> scenario -> world -> trace -> text. */
#include "render/run.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/eavesdrop.h"
#include "render/transcript.h"
#include "sim/scenario.h"
#include "sim/world.h"

#define PATH_CAP 4096

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool try_dir(const char *dir, const char *sub, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s%s.json", dir, sub, name);
    return n > 0 && (size_t)n < cap && is_file(out);
}

/* The directory the executable lives in, with its final '/', or "" when
 * unknown. /proc/self/exe is Linux's; argv0 holding a '/' is the fallback. */
static void exe_dir(const char *argv0, char *out, size_t cap)
{
    out[0] = '\0';
    char buf[PATH_CAP];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    const char *p = NULL;
    if (n > 0) {
        buf[n] = '\0';
        p = buf;
    } else if (argv0 && strchr(argv0, '/')) {
        p = argv0;
    }
    if (!p) return;
    const char *slash = strrchr(p, '/');
    size_t len = (size_t)(slash - p) + 1;
    if (len < cap) {
        memcpy(out, p, len);
        out[len] = '\0';
    }
}

bool ui_find_lesson(const char *lesson, const char *argv0, char *out, size_t cap)
{
    snprintf(out, cap, "%s", lesson);
    size_t len = strlen(lesson);
    if (is_file(lesson)) return true;
    if (strchr(lesson, '/') || (len >= 5 && strcmp(lesson + len - 5, ".json") == 0))
        return false; /* a path that does not exist */
    const char *env = getenv("MAILSIM_LESSONS");
    if (env && *env && try_dir(env, "/", lesson, out, cap)) return true;
    char dir[PATH_CAP];
    exe_dir(argv0, dir, sizeof dir);
    /* Beside the program, then up to three folders above it: build/mailsim
     * and build/NAME/mailsim both find the checkout's lessons/. */
    static const char *const up[] = {"lessons/", "../lessons/", "../../lessons/",
                                     "../../../lessons/"};
    for (size_t i = 0; dir[0] && i < sizeof up / sizeof up[0]; i++)
        if (try_dir(dir, up[i], lesson, out, cap)) return true;
    if (try_dir("", "lessons/", lesson, out, cap)) return true;
    snprintf(out, cap, "%s", lesson);
    return false;
}

/* With eavesdrop, each line on the wire is followed by what a wiretap on
 * the link reads of it. */
static int run_lesson(const char *lesson, bool json, bool eavesdrop, const char *argv0, FILE *out,
                      FILE *err);

int ui_run_lesson(const char *lesson, bool json, const char *argv0, FILE *out, FILE *err)
{
    return run_lesson(lesson, json, false, argv0, out, err);
}

static int run_lesson(const char *lesson, bool json, bool eavesdrop, const char *argv0, FILE *out,
                      FILE *err)
{
    char path[PATH_CAP];
    if (!lesson) lesson = UI_DEFAULT_LESSON;
    if (!ui_find_lesson(lesson, argv0, path, sizeof path)) {
        fprintf(err,
                "mailsim: no lesson \"%s\": not a file, and no %s.json in $MAILSIM_LESSONS, "
                "the lessons/ folder beside the program, or ./lessons/\n",
                lesson, lesson);
        return UI_RUN_USAGE;
    }
    struct sim_scn_diags *dg = calloc(1, sizeof *dg);
    if (!dg) {
        fputs("mailsim: out of memory\n", err);
        return UI_RUN_FAILED;
    }
    struct sim_scenario *s = sim_scenario_load(path, dg);
    struct sim_world *w = s ? sim_world_new(s, dg) : NULL;
    if (!w) {
        sim_scn_diags_print(err, dg);
        sim_scenario_free(s);
        free(dg);
        return UI_RUN_USAGE;
    }
    long long ran = sim_world_run(w);
    const struct sim_trace *tr = sim_world_trace(w);
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        char eve[1024];
        if (json)
            ui_json_line(out, ev);
        else
            ui_transcript_line(out, ev);
        if (eavesdrop && !json && ui_eavesdropper_view(ev, eve, sizeof eve))
            fprintf(out, "%9s  %-5s an eavesdropper reads: %s\n", "", "", eve);
    }
    int rc = UI_RUN_OK;
    if (ran < 0) {
        fprintf(err, "mailsim: %s: the run stopped early: the simulation ran out of room\n",
                path);
        rc = UI_RUN_FAILED;
    }
    sim_world_free(w);
    sim_scenario_free(s);
    free(dg);
    return rc;
}

int ui_run_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    return ui_run_command_with(argc, argv, argv0, out, err, NULL);
}

int ui_run_command_with(int argc, char **argv, const char *argv0, FILE *out, FILE *err,
                        ui_markdown_fn markdown_fn)
{
    const char *lesson = NULL;
    bool json = false, markdown = false, eavesdrop = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            markdown = true;
        } else if (strcmp(argv[i], "--eavesdrop") == 0) {
            eavesdrop = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("usage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n"
                  "Plays LESSON (a file, or a name in lessons/; default: the default story)\n"
                  "and prints every event: the transcript, or with --json one JSON object\n"
                  "per line. Lesson files are described in lessons/README.md.\n"
                  "  --markdown   write a printable handout instead: the transcript by\n"
                  "               connection with the explanations, the narration, the\n"
                  "               questions, and the answers at the end\n"
                  "  --eavesdrop  after each line on the wire, what an eavesdropper on the\n"
                  "               link reads of it: the line, or only its size inside TLS\n",
                  out);
            return UI_RUN_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(err, "mailsim run: unknown option '%s'\n"
                         "usage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n",
                    argv[i]);
            return UI_RUN_USAGE;
        } else if (lesson) {
            fprintf(err, "mailsim run: one lesson at a time ('%s' and '%s')\n"
                         "usage: mailsim run [LESSON] [--json | --markdown] [--eavesdrop]\n",
                    lesson, argv[i]);
            return UI_RUN_USAGE;
        } else {
            lesson = argv[i];
        }
    }
    if (json && markdown) {
        fputs("mailsim run: --json or --markdown, not both\n", err);
        return UI_RUN_USAGE;
    }
    if (markdown && !markdown_fn) {
        fputs("mailsim run: --markdown is not available here\n", err);
        return UI_RUN_USAGE;
    }
    if (markdown) return markdown_fn(lesson, argv0, out, err);
    return run_lesson(lesson, json, eavesdrop, argv0, out, err);
}
