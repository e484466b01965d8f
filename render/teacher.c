/* `mailsim lessons` and `mailsim check`. */
#include "render/teacher.h"

#include <stdlib.h>
#include <string.h>

#include "render/quiz.h"
#include "render/run.h"
#include "render/ui_lesson.h"
#include "sim/scenario.h"
#include "sim/world.h"

/* The one-line summary `lessons` prints. */
#define SENTENCE_MAX 160

char *ui_first_sentence(const char *summary, char *out, size_t cap)
{
    if (cap == 0) return out;
    out[0] = '\0';
    if (!summary) return out;
    const char *end = strstr(summary, ". ");
    size_t len = end ? (size_t)(end - summary) + 1 : strlen(summary);
    if (len < cap) {
        memcpy(out, summary, len);
        out[len] = '\0';
        return out;
    }
    /* too long: cut at the last space that leaves room for "..." */
    size_t keep = cap > 4 ? cap - 4 : 0;
    while (keep > 0 && summary[keep] != ' ') keep--;
    if (keep == 0) keep = cap > 4 ? cap - 4 : 0;
    memcpy(out, summary, keep);
    memcpy(out + keep, "...", cap - keep > 3 ? 4 : 1);
    out[cap - 1] = '\0';
    return out;
}

int ui_lessons_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs("usage: mailsim lessons\n"
                  "Lists the lessons (the .json files beside the default story), each with\n"
                  "its title and what it teaches.\n",
                  out);
            return 0;
        }
        fprintf(err, "mailsim lessons: unexpected '%s'\nusage: mailsim lessons\n", argv[i]);
        return 2;
    }
    char (*names)[UI_LESSON_NAME_MAX] = calloc(UI_LESSONS_MAX, sizeof *names);
    struct sim_scn_diags *dg = calloc(1, sizeof *dg);
    if (!names || !dg) {
        free(names);
        free(dg);
        fputs("mailsim: out of memory\n", err);
        return 1;
    }
    size_t n = ui_lesson_list(argv0, names, UI_LESSONS_MAX);
    if (n == 0) {
        fputs("mailsim lessons: no lessons folder found (looked in $MAILSIM_LESSONS, lessons/ "
              "beside the program and up to three folders above it, and ./lessons/)\n",
              err);
        free(names);
        free(dg);
        return 2;
    }
    fputs("The lessons (play one with `mailsim run NAME`, `mailsim view NAME`, or quiz yourself\n"
          "with `mailsim quiz NAME`; `mailsim run NAME --markdown` writes a handout):\n\n",
          out);
    for (size_t i = 0; i < n; i++) {
        char path[UI_PATH_MAX], line[SENTENCE_MAX];
        if (!ui_find_lesson(names[i], argv0, path, sizeof path)) continue;
        struct sim_scenario *s = sim_scenario_load(path, dg);
        if (!s) {
            fprintf(out, "  %-24s (this file has problems: mailsim check %s)\n\n", names[i],
                    path);
            continue;
        }
        fprintf(out, "  %-24s %s\n", names[i], s->title);
        ui_first_sentence(s->summary, line, sizeof line);
        if (line[0]) fprintf(out, "  %-24s %s\n", "", line);
        if (s->nquestions) fprintf(out, "  %-24s %zu questions\n", "", s->nquestions);
        fputc('\n', out);
        sim_scenario_free(s);
    }
    free(names);
    free(dg);
    return 0;
}

int ui_check_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    static const char usage[] = "usage: mailsim check FILE\n";
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fprintf(out, "%s"
                         "Checks a lesson file: its format, the world it describes, and, by\n"
                         "playing it, that every \"predict\" question's answer is what the\n"
                         "server really says. Every problem is printed as FILE:LINE:COL: PATH:\n"
                         "what was expected. Exit status 0 when there is none, 2 otherwise.\n",
                    usage);
            return 0;
        }
        if ((argv[i][0] == '-' && argv[i][1]) || file) {
            fprintf(err, "mailsim check: unexpected '%s'\n%s", argv[i], usage);
            return 2;
        }
        file = argv[i];
    }
    if (!file) {
        fprintf(err, "mailsim check: which file?\n%s", usage);
        return 2;
    }
    char path[UI_PATH_MAX];
    if (!ui_find_lesson(file, argv0, path, sizeof path)) {
        fprintf(err, "%s: no such file (nor a lesson of that name)\n", file);
        return 2;
    }
    struct sim_scn_diags *dg = calloc(1, sizeof *dg);
    struct ui_quiz *qz = malloc(sizeof *qz);
    if (!dg || !qz) {
        free(dg);
        free(qz);
        fputs("mailsim: out of memory\n", err);
        return 1;
    }
    int rc = 2;
    struct sim_scenario *s = sim_scenario_load(path, dg);
    /* A lesson found by name is shown as lessons/NAME.json, not by the
     * path the program found it at; a file named by path as given. */
    const char *shown = path;
    if (strcmp(path, file) != 0)
        for (const char *p = path; (p = strstr(p, "lessons/")) != NULL; p++) shown = p;
    size_t sl = strlen(shown);
    if (sl >= sizeof dg->file) shown += sl - (sizeof dg->file - 1); /* keep the file's name */
    memcpy(dg->file, shown, strlen(shown) + 1);
    struct sim_world *w = s ? sim_world_new(s, dg) : NULL;
    if (w) {
        long long ran = sim_world_run(w);
        const struct sim_trace *tr = sim_world_trace(w);
        if (ran < 0)
            sim_scn_diag_add(dg, 0, 0, "", "the run stopped early: the simulation ran out of room");
        ui_quiz_init(qz, s, tr);
        ui_quiz_check(qz, tr, dg);
        if (dg->n == 0 && dg->dropped == 0) {
            size_t npredict = 0, nnarr = 0;
            for (size_t i = 0; i < s->nquestions; i++)
                npredict += s->questions[i].kind == SIM_SCN_Q_PREDICT;
            for (size_t i = 0; i < s->nactions; i++) nnarr += s->actions[i].kind == SIM_SCN_NARRATE;
            size_t n = sim_trace_len(tr);
            fprintf(out, "%s: no problems: \"%s\"\n"
                         "  %zu hosts, %zu timeline actions (%zu narration lines), %zu questions\n"
                         "  played: %zu events in %.3f s of simulated time",
                    dg->file, s->title, s->nhosts, s->nactions, nnarr, s->nquestions, n,
                    n ? (double)sim_trace_get(tr, n - 1)->t / 1e6 : 0.0);
            if (npredict)
                fprintf(out, "; the %zu predict question%s match%s what the server said", npredict,
                        npredict == 1 ? "" : "s", npredict == 1 ? "es" : "");
            fputc('\n', out);
            rc = 0;
        }
    }
    if (rc != 0) {
        sim_scn_diags_print(err, dg);
        size_t total = dg->n + dg->dropped;
        fprintf(err, "%s: %zu problem%s\n", dg->file, total, total == 1 ? "" : "s");
    }
    sim_world_free(w);
    sim_scenario_free(s);
    free(dg);
    free(qz);
    return rc;
}
