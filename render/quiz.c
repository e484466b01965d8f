/* The quiz model and the terminal quiz. */
#include "render/quiz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/transcript.h"
#include "render/ui_lesson.h"

/* Lines of context a predict question shows before its pause point. */
#define QUIZ_CONTEXT_LINES 6
/* An answer line; a longer one is read to its end and refused. */
#define QUIZ_INPUT_MAX 256
/* Tries at one question before the quiz gives up on an input that never
 * holds an answer (a file piped in by mistake). */
#define QUIZ_TRIES_MAX 20

static const char letters[] = "ABCDEF";

/* The text of a word: [p, p + n). */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n])) n++;
    return n;
}

/* The status word of a reply line, as the header describes. */
static void status_word(const char *reply, enum sim_proto proto, const char **w, size_t *n)
{
    const char *p = reply;
    if (proto == SIM_PROTO_SMTP && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
        isdigit((unsigned char)p[2])) {
        *w = p; /* RFC 5321 4.2: the code, then ' ' or '-' */
        *n = 3;
        return;
    }
    if (proto == SIM_PROTO_IMAP && p[0] != '*' && p[0] != '+') {
        /* RFC 3501 2.2.2: a tag, a space, then the status */
        p += word_len(p);
        while (*p == ' ') p++;
    }
    *w = p;
    *n = word_len(p);
}

bool ui_quiz_option_matches(const char *opt, const char *reply, enum sim_proto proto)
{
    if (!opt || !reply) return false;
    while (isspace((unsigned char)*opt)) opt++;
    const char *w;
    size_t n;
    status_word(reply, proto, &w, &n);
    size_t on = word_len(opt);
    /* "250, with its extensions": the punctuation after the word is prose */
    while (on > 1 && strchr(",:;", opt[on - 1])) on--;
    /* an option may be just the code, or the code and its text */
    return n > 0 && on == n && strncasecmp(opt, w, n) == 0;
}

static bool starts_with_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether a client's line is the one `after` names: it starts with it, or,
 * for IMAP, its command after the tag does (RFC 3501 2.2.1: "a001 LOGIN"
 * matches "LOGIN"), so a question need not know the tags. */
static bool line_matches(const struct sim_trace_event *ev, const char *after)
{
    if (starts_with_nocase(ev->text, after)) return true;
    if (ev->proto != SIM_PROTO_IMAP) return false;
    const char *sp = strchr(ev->text, ' ');
    return sp && starts_with_nocase(sp + 1, after);
}

/* The step of the first line of the server's reply to the client's line at
 * step `cmd`, or -1. SMTP clients may pipeline (RFC 2920): replies come in
 * the order of the commands, so the reply is found by counting. Walking the
 * connection from its start, each client command waits in line; a reply's
 * last line ("250 ..." rather than "250-...", RFC 5321 4.2.1) answers the
 * oldest. After 354 the client's lines are the message up to the lone dot,
 * which waits for a reply like a command; the greeting answers nothing. */
static long smtp_reply_to(const struct sim_trace *tr, size_t cmd)
{
    const struct sim_trace_event *c = sim_trace_get(tr, cmd);
    size_t n = sim_trace_len(tr), before = 0, answered = 0;
    bool in_body = false, greeted = false;
    long first = -1; /* the first line of the reply being read */
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind != SIM_TR_LINE || ev->conn != c->conn) continue;
        if (ev->dir == SIM_DIR_C2S) {
            if (in_body && strcmp(ev->text, ".") != 0) continue;
            in_body = false;
            if (i <= cmd) before++; /* commands up to and including ours */
            continue;
        }
        if (first < 0) first = (long)i;
        if (strlen(ev->text) > 3 && ev->text[3] == '-') continue; /* more lines follow */
        long reply = first;
        first = -1;
        if (!greeted) {
            greeted = true; /* 220 (or 554) greets; it answers no command */
            continue;
        }
        answered++;
        if (strncmp(ev->text, "354", 3) == 0) in_body = true;
        if (i > cmd && answered == before) return reply;
        if (answered >= before && i > cmd) return -1;
    }
    return -1;
}

/* Finds a predict question's pause point and reply in tr. */
static void resolve(struct ui_quiz_item *it, const struct sim_scenario *s,
                    const struct sim_trace *tr)
{
    const struct sim_scn_question *q = it->q;
    const char *host = q->has_after_host ? s->hosts[q->after_host].name : NULL;
    unsigned seen = 0;
    size_t n = sim_trace_len(tr);
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind != SIM_TR_LINE || ev->dir != SIM_DIR_C2S) continue;
        if (host && strcmp(ev->from, host) != 0) continue;
        if (!line_matches(ev, q->after) || ++seen < q->occurrence) continue;
        it->pause_step = i;
        long smtp = ev->proto == SIM_PROTO_SMTP ? smtp_reply_to(tr, i) : -1;
        for (size_t k = smtp >= 0 ? (size_t)smtp : i + 1; k < n; k++) {
            const struct sim_trace_event *r = sim_trace_get(tr, k);
            if (r->kind != SIM_TR_LINE || r->dir != SIM_DIR_S2C || r->conn != ev->conn) continue;
            if (ev->proto == SIM_PROTO_SMTP && smtp < 0) return; /* never answered */
            it->found = true;
            it->reply_step = k;
            for (size_t o = 0; o < q->noptions; o++)
                if (ui_quiz_option_matches(q->options[o], r->text, r->proto)) {
                    it->actual = (int)o;
                    break;
                }
            return;
        }
        return; /* the client's line is there, no reply after it */
    }
}

void ui_quiz_init(struct ui_quiz *qz, const struct sim_scenario *s, const struct sim_trace *tr)
{
    memset(qz, 0, sizeof *qz);
    qz->n = s ? s->nquestions : 0;
    for (size_t i = 0; i < qz->n; i++) {
        struct ui_quiz_item *it = &qz->items[i];
        it->q = &s->questions[i];
        it->actual = it->chosen = UI_QUIZ_NO_ANSWER;
        if (it->q->has_after_host) it->from_host = s->hosts[it->q->after_host].name;
        if (it->q->kind == SIM_SCN_Q_PREDICT && tr) resolve(it, s, tr);
    }
}

size_t ui_quiz_right(const struct ui_quiz *qz, size_t i)
{
    const struct ui_quiz_item *it = &qz->items[i];
    return it->actual != UI_QUIZ_NO_ANSWER ? (size_t)it->actual : it->q->answer;
}

int ui_quiz_answer(struct ui_quiz *qz, size_t i, size_t opt)
{
    if (i >= qz->n || opt >= qz->items[i].q->noptions || qz->items[i].chosen != UI_QUIZ_NO_ANSWER)
        return -1;
    qz->items[i].chosen = (int)opt;
    qz->answered++;
    bool right = opt == ui_quiz_right(qz, i);
    if (right) qz->correct++;
    return right;
}

const char *ui_quiz_explanation(const struct ui_quiz *qz, size_t i, size_t opt)
{
    if (i >= qz->n) return "";
    const struct sim_scn_question *q = qz->items[i].q;
    if (opt < q->noptions && q->explanations[opt]) return q->explanations[opt];
    return q->explanation ? q->explanation : "";
}

size_t ui_quiz_ask_step(const struct ui_quiz *qz, size_t i, size_t nsteps)
{
    const struct ui_quiz_item *it = &qz->items[i];
    if (it->q->kind == SIM_SCN_Q_PREDICT && it->found) return it->pause_step;
    return nsteps ? nsteps - 1 : 0;
}

int ui_quiz_parse_answer(const char *line, size_t noptions)
{
    while (isspace((unsigned char)*line)) line++;
    size_t n = word_len(line);
    const char *rest = line + n;
    while (isspace((unsigned char)*rest)) rest++;
    if (n == 0 || *rest) return -1;
    long v = -1;
    if (n == 1 && isalpha((unsigned char)line[0])) {
        v = toupper((unsigned char)line[0]) - 'A';
    } else if (n <= 2) {
        char *end;
        v = strtol(line, &end, 10);
        if (end != line + n) return -1;
        v -= 1;
    }
    return v >= 0 && (size_t)v < noptions ? (int)v : -1;
}

size_t ui_quiz_check(const struct ui_quiz *qz, const struct sim_trace *tr,
                     struct sim_scn_diags *dg)
{
    size_t added = 0;
    char path[32];
    for (size_t i = 0; i < qz->n; i++) {
        const struct ui_quiz_item *it = &qz->items[i];
        const struct sim_scn_question *q = it->q;
        if (q->kind != SIM_SCN_Q_PREDICT) continue;
        snprintf(path, sizeof path, "quiz[%zu]", i);
        if (!it->found) {
            char from[96] = "";
            if (q->has_after_host) snprintf(from, sizeof from, " from %s", it->from_host);
            sim_scn_diag_add(dg, q->line, q->col, path,
                             "no pause point in the run: no client line%s starting with \"%s\" "
                             "(occurrence %u) that the server answered",
                             from, q->after, q->occurrence);
            added++;
            continue;
        }
        const struct sim_trace_event *r = sim_trace_get(tr, it->reply_step);
        if (it->actual == UI_QUIZ_NO_ANSWER) {
            sim_scn_diag_add(dg, q->line, q->col, path,
                             "no option matches what the server said: \"%s\" (an option's first "
                             "word must be the reply's code or status)",
                             r ? r->text : "");
            added++;
        } else if ((size_t)it->actual != q->answer) {
            char p2[48];
            snprintf(p2, sizeof p2, "quiz[%zu].answer", i);
            sim_scn_diag_add(dg, q->answer_line, q->answer_col, p2,
                             "the file says %zu, but the server said \"%s\", which is option %d",
                             q->answer + 1, r ? r->text : "", it->actual + 1);
            added++;
        }
    }
    return added;
}

/* ---- the terminal quiz ------------------------------------------------------ */

/* Prints the last lines of the pause point's connection, up to and
 * including it. */
static void show_context(const struct ui_quiz_item *it, const struct sim_trace *tr, FILE *out)
{
    const struct sim_trace_event *p = sim_trace_get(tr, it->pause_step);
    size_t idx[QUIZ_CONTEXT_LINES], n = 0;
    for (size_t s = it->pause_step + 1; s-- > 0 && n < QUIZ_CONTEXT_LINES;) {
        const struct sim_trace_event *ev = sim_trace_get(tr, s);
        if (ev->kind == SIM_TR_LINE && ev->conn == p->conn) idx[n++] = s;
    }
    fputs("The run is paused here:\n", out);
    while (n-- > 0) ui_transcript_line(out, sim_trace_get(tr, idx[n]));
    fputs("    ... what comes next?\n", out);
}

/* Reads one line; false at the end of input. A line longer than buf is read
 * to its end and returned cut (it will not parse as an answer). */
static bool read_line(FILE *in, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, in)) return false;
    size_t len = strlen(buf);
    if (len && buf[len - 1] != '\n' && !feof(in)) {
        int c;
        while ((c = fgetc(in)) != EOF && c != '\n') {}
        buf[0] = '\0'; /* too long to be an answer */
    }
    return true;
}

static void print_score(const struct ui_quiz *qz, bool finished, FILE *out)
{
    if (finished)
        fprintf(out, "\nScore: %zu of %zu right.\n", qz->correct, qz->n);
    else
        fprintf(out, "\nThe quiz stopped early. Score so far: %zu of %zu answered right "
                     "(%zu questions in all).\n",
                qz->correct, qz->answered, qz->n);
}

size_t ui_quiz_play(struct ui_quiz *qz, const struct sim_trace *tr, const char *title, FILE *in,
                    FILE *out)
{
    fprintf(out, "Quiz: %s\n%zu questions. Answer with a letter or a number, then Enter.\n",
            title ? title : "", qz->n);
    for (size_t i = 0; i < qz->n; i++) {
        struct ui_quiz_item *it = &qz->items[i];
        const struct sim_scn_question *q = it->q;
        fprintf(out, "\nQuestion %zu of %zu%s\n", i + 1, qz->n,
                q->kind == SIM_SCN_Q_PREDICT ? " (predict the next reply)" : "");
        if (q->kind == SIM_SCN_Q_PREDICT && it->found && tr) show_context(it, tr, out);
        fprintf(out, "%s\n", q->text);
        for (size_t o = 0; o < q->noptions; o++)
            fprintf(out, "  %c) %s\n", letters[o], q->options[o]);
        int opt = -1;
        char line[QUIZ_INPUT_MAX];
        for (int tries = 0; opt < 0; tries++) {
            fprintf(out, "Your answer (A-%c): ", letters[q->noptions - 1]);
            fflush(out);
            if (tries >= QUIZ_TRIES_MAX || !read_line(in, line, sizeof line)) {
                fputc('\n', out);
                print_score(qz, false, out);
                return qz->correct;
            }
            opt = ui_quiz_parse_answer(line, q->noptions);
            if (opt < 0)
                fprintf(out, "Please type a letter from A to %c, or a number from 1 to %zu.\n",
                        letters[q->noptions - 1], q->noptions);
        }
        int r = ui_quiz_answer(qz, i, (size_t)opt);
        size_t right = ui_quiz_right(qz, i);
        if (r == 1) {
            fprintf(out, "Right. %s\n", ui_quiz_explanation(qz, i, (size_t)opt));
        } else {
            fprintf(out, "Not quite. %s\n", ui_quiz_explanation(qz, i, (size_t)opt));
            fprintf(out, "The answer is %c) %s", letters[right], q->options[right]);
            if (q->explanations[right]) fprintf(out, ": %s", q->explanations[right]);
            fputc('\n', out);
        }
        if (q->kind == SIM_SCN_Q_PREDICT && it->found && tr) {
            fputs("What the server really said:\n", out);
            ui_transcript_line(out, sim_trace_get(tr, it->reply_step));
        }
    }
    print_score(qz, true, out);
    return qz->correct;
}

int ui_quiz_command(int argc, char **argv, const char *argv0, FILE *in, FILE *out, FILE *err)
{
    static const char usage[] = "usage: mailsim quiz LESSON\n";
    const char *lesson = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fprintf(out, "%s"
                         "Asks LESSON's questions in the terminal, one at a time: type a letter\n"
                         "or a number and Enter. Every answer is explained; the score comes at\n"
                         "the end (or when the input ends, Ctrl-D). `mailsim lessons` lists the\n"
                         "lessons.\n",
                    usage);
            return 0;
        }
        if ((argv[i][0] == '-' && argv[i][1]) || lesson) {
            fprintf(err, "mailsim quiz: unexpected '%s'\n%s", argv[i], usage);
            return 2;
        }
        lesson = argv[i];
    }
    if (!lesson) {
        fprintf(err, "mailsim quiz: which lesson? (`mailsim lessons` lists them)\n%s", usage);
        return 2;
    }
    struct ui_lesson *l = ui_lesson_load(lesson, argv0, err);
    if (!l) return 2;
    if (l->scenario->nquestions == 0) {
        fprintf(err, "mailsim quiz: %s has no questions (a \"quiz\" section, see "
                     "lessons/README.md)\n",
                l->path);
        ui_lesson_free(l);
        return 2;
    }
    struct ui_quiz *qz = malloc(sizeof *qz);
    if (!qz) {
        fputs("mailsim: out of memory\n", err);
        ui_lesson_free(l);
        return 1;
    }
    ui_quiz_init(qz, l->scenario, l->trace);
    ui_quiz_play(qz, l->trace, l->title, in, out);
    free(qz);
    ui_lesson_free(l);
    return 0;
}
