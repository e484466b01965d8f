/* The Markdown handout: scenario + trace + quiz -> a printable page. */
#include "render/handout.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "render/eavesdrop.h"
#include "render/run.h"
#include "render/ui_lesson.h"

/* What an eavesdropper reads of one line, kept for a table cell. */
#define CELL_MAX 600

static const char letters[] = "ABCDEF";

static double secs(sim_time t)
{
    return (double)t / 1e6;
}

void ui_markdown_text(FILE *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (strchr("|`*_<\\", *p))
            fputc('\\', out);
        if (*p == '\n' || *p == '\r')
            fputc(' ', out);
        else
            fputc(*p, out);
    }
}

/* Code in a table cell: inside backticks, where Markdown escapes do not
 * work, so a '|' or '`' in the text makes it plain escaped text instead.
 * An empty line says so. */
static void code_cell(FILE *out, const char *s)
{
    if (!*s) {
        fputs("*(empty line)*", out);
        return;
    }
    if (strpbrk(s, "|`")) {
        ui_markdown_text(out, s);
        return;
    }
    fputc('`', out);
    fputs(s, out);
    fputc('`', out);
}

/* Events a handout leaves out: a protocol session's own state changes
 * repeat what its lines say. The queue's and DNS's steps explain. */
static bool skipped(const struct sim_trace_event *ev)
{
    return ev->kind == SIM_TR_STATE && ev->proto != SIM_PROTO_QUEUE && ev->proto != SIM_PROTO_DNS;
}

static bool is_narration(const struct sim_trace_event *ev)
{
    return ev->kind == SIM_TR_ACTION && ev->proto == SIM_PROTO_SIM && strcmp(ev->text, "narrate") == 0;
}

/* Events of a connection's table. */
static bool in_table(const struct sim_trace_event *ev)
{
    return ev->conn != 0 && (ev->kind == SIM_TR_LINE || ev->kind == SIM_TR_TLS ||
                             ev->kind == SIM_TR_CONNECT || ev->kind == SIM_TR_CLOSE);
}

static const char *proto_title(unsigned port, enum sim_proto p)
{
    switch (p) {
    case SIM_PROTO_SMTP: return port == 25 ? "SMTP, server to server" : "SMTP, submission";
    case SIM_PROTO_IMAP: return "IMAP";
    case SIM_PROTO_POP3: return "POP3";
    default: return "TCP";
    }
}

static void connection_table(FILE *out, const struct sim_trace *tr, size_t first, unsigned conn)
{
    const struct sim_trace_event *f = sim_trace_get(tr, first);
    const char *client = f->dir == SIM_DIR_S2C ? f->to : f->from;
    const char *server = f->dir == SIM_DIR_S2C ? f->from : f->to;
    enum sim_proto proto = ui_port_proto(f->port);
    fprintf(out, "**Connection %u: %s to %s, port %u (%s)**\n\n", conn, client, server, f->port,
            proto_title(f->port, proto));
    fputs("| time | line | what it means | an eavesdropper reads |\n"
          "|---:|---|---|---|\n",
          out);
    size_t n = sim_trace_len(tr);
    char eve[CELL_MAX];
    for (size_t i = first; i < n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->conn != conn || !in_table(ev)) continue;
        fprintf(out, "| %.3f s | ", secs(ev->t));
        if (ev->kind == SIM_TR_LINE) {
            fputs(ev->dir == SIM_DIR_S2C ? "S: " : "C: ", out);
            code_cell(out, ev->text);
        } else {
            fputs("*", out);
            ui_markdown_text(out, ev->text);
            fputs("*", out);
        }
        fputs(" | ", out);
        ui_markdown_text(out, ev->note);
        fputs(" | ", out);
        if (ui_eavesdropper_view(ev, eve, sizeof eve)) {
            if (ev->tls) {
                fputc('*', out);
                ui_markdown_text(out, eve);
                fputc('*', out);
            } else
                code_cell(out, eve);
        }
        fputs(" |\n", out);
    }
    fputc('\n', out);
}

static void bullet(FILE *out, const struct sim_trace_event *ev)
{
    fprintf(out, "- %.3f s, %s: ", secs(ev->t), sim_proto_names[ev->proto]);
    if (ev->kind == SIM_TR_MAIL) {
        char what[512];
        snprintf(what, sizeof what, "%s %s/%s: %s", ev->mail.owner, ev->mail.account,
                 ev->mail.folder, ev->text[0] ? ev->text : sim_mail_change_names[ev->mail.change]);
        ui_markdown_text(out, what);
    } else if (ev->kind == SIM_TR_DNS) {
        char what[512];
        snprintf(what, sizeof what, "%s to %s: %s", ev->from, ev->to, ev->text);
        ui_markdown_text(out, what);
    } else {
        if (ev->from[0] && !strstr(ev->text, ev->from)) {
            ui_markdown_text(out, ev->from);
            fputs(": ", out);
        }
        ui_markdown_text(out, ev->text);
    }
    if (ev->note[0]) {
        fputs(" (", out);
        ui_markdown_text(out, ev->note);
        fputc(')', out);
    }
    fputc('\n', out);
}

static void questions(FILE *out, const struct ui_quiz *qz, const struct sim_trace *tr)
{
    fputs("## Questions\n\n", out);
    for (size_t i = 0; i < qz->n; i++) {
        const struct ui_quiz_item *it = &qz->items[i];
        const struct sim_scn_question *q = it->q;
        fprintf(out, "%zu. ", i + 1);
        if (q->kind == SIM_SCN_Q_PREDICT && it->found) {
            const struct sim_trace_event *p = sim_trace_get(tr, it->pause_step);
            fprintf(out, "*Predict the next reply.* At %.3f s, on connection %u, %s sends ",
                    secs(p->t), p->conn, p->from);
            code_cell(out, p->text);
            fputs(". ", out);
        }
        ui_markdown_text(out, q->text);
        fputs("\n\n", out);
        for (size_t o = 0; o < q->noptions; o++) {
            fprintf(out, "    - **%c.** ", letters[o]);
            ui_markdown_text(out, q->options[o]);
            fputs("\n", out);
        }
        fputc('\n', out);
    }
}

static void answers(FILE *out, const struct ui_quiz *qz, const struct sim_trace *tr)
{
    /* A page break for printing; Markdown viewers show nothing. */
    fputs("<div style=\"page-break-before: always\"></div>\n\n## Answers\n\n", out);
    for (size_t i = 0; i < qz->n; i++) {
        const struct ui_quiz_item *it = &qz->items[i];
        const struct sim_scn_question *q = it->q;
        size_t r = ui_quiz_right(qz, i);
        fprintf(out, "%zu. **%c. ", i + 1, letters[r]);
        ui_markdown_text(out, q->options[r]);
        fputs("** ", out);
        ui_markdown_text(out, ui_quiz_explanation(qz, i, r));
        if (q->kind == SIM_SCN_Q_PREDICT && it->found) {
            fputs(" The server said: ", out);
            code_cell(out, sim_trace_get(tr, it->reply_step)->text);
            fputc('.', out);
        }
        fputc('\n', out);
        bool per_option = false;
        for (size_t o = 0; o < q->noptions; o++) per_option |= q->explanations[o] != NULL;
        for (size_t o = 0; per_option && o < q->noptions; o++) {
            if (o == r) continue;
            fprintf(out, "    - %c: ", letters[o]);
            ui_markdown_text(out, q->explanations[o]);
            fputc('\n', out);
        }
    }
}

int ui_handout_write(FILE *out, const struct sim_scenario *s, const struct sim_trace *tr,
                     const struct ui_quiz *qz, const char *source)
{
    size_t n = sim_trace_len(tr);
    unsigned maxconn = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = sim_trace_get(tr, i)->conn;
        if (c > maxconn) maxconn = c;
    }
    bool *shown = calloc((size_t)maxconn + 1, sizeof *shown);
    if (!shown) return -1;

    fputs("# ", out);
    ui_markdown_text(out, s->title);
    fputs("\n\n", out);
    if (s->summary && s->summary[0]) {
        ui_markdown_text(out, s->summary);
        fputs("\n\n", out);
    }
    sim_time end = n ? sim_trace_get(tr, n - 1)->t : 0;
    /* "lessons/NAME.json" reads better than the path the program found */
    const char *shown_source = source ? source : "";
    for (const char *p = shown_source; (p = strstr(p, "lessons/")) != NULL; p++)
        shown_source = p;
    fprintf(out, "*Played by mailsim from* `%s`*: %zu events in %.3f s of simulated time. "
                 "Times are seconds from the start. \"C:\" is what a client sent, \"S:\" what "
                 "the server answered; TLS hides a line's words from an eavesdropper, not its "
                 "length.*\n\n",
            shown_source, n, secs(end));

    fputs("## The story\n\n", out);
    size_t nnarr = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (!is_narration(ev)) continue;
        fprintf(out, "%zu. **%.3f s** ", ++nnarr, secs(ev->t));
        ui_markdown_text(out, ev->note);
        fputc('\n', out);
    }
    if (!nnarr) fputs("(This lesson has no narration.)\n", out);
    fputs("\n## What happened, step by step\n\n", out);

    /* Chapters: from one narration to the next. */
    size_t start = 0;
    while (start < n) {
        size_t stop = start + 1;
        while (stop < n && !is_narration(sim_trace_get(tr, stop))) stop++;
        const struct sim_trace_event *head = sim_trace_get(tr, start);
        if (is_narration(head)) {
            fprintf(out, "### %.3f s: ", secs(head->t));
            ui_markdown_text(out, head->note);
            fputs("\n\n", out);
        } else {
            fputs("### Before the first narration\n\n", out);
        }
        bool any_other = false;
        for (size_t i = start; i < stop; i++) {
            const struct sim_trace_event *ev = sim_trace_get(tr, i);
            if (in_table(ev) && !shown[ev->conn]) {
                shown[ev->conn] = true;
                connection_table(out, tr, i, ev->conn);
            }
        }
        for (size_t i = start; i < stop; i++) {
            const struct sim_trace_event *ev = sim_trace_get(tr, i);
            if (in_table(ev) || skipped(ev) || is_narration(ev)) continue;
            if (!any_other) fputs("Other events:\n\n", out);
            any_other = true;
            bullet(out, ev);
        }
        if (any_other) fputc('\n', out);
        start = stop;
    }
    free(shown);
    if (qz && qz->n) {
        questions(out, qz, tr);
        answers(out, qz, tr);
    }
    return 0;
}

int ui_handout_lesson(const char *lesson, const char *argv0, FILE *out, FILE *err)
{
    struct ui_lesson *l = ui_lesson_load(lesson, argv0, err);
    if (!l) return UI_RUN_USAGE;
    struct ui_quiz *qz = malloc(sizeof *qz);
    int rc = UI_RUN_FAILED;
    if (qz) {
        ui_quiz_init(qz, l->scenario, l->trace);
        rc = ui_handout_write(out, l->scenario, l->trace, qz, l->path) == 0 && !l->run_failed
                 ? UI_RUN_OK
                 : UI_RUN_FAILED;
        free(qz);
    } else {
        fputs("mailsim: out of memory\n", err);
    }
    ui_lesson_free(l);
    return rc;
}
