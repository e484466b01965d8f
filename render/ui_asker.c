/* The window's quiz session and its overlay's layout; see ui_asker.h. */
#include "render/ui_asker.h"

#include <string.h>

const char *const ui_ask_phase_names[UI_ASK_PHASE_COUNT] = {"none", "question", "answered",
                                                            "score"};

void ui_asker_init(struct ui_asker *a, const struct ui_lesson *l)
{
    memset(a, 0, sizeof *a);
    ui_quiz_init(&a->quiz, l ? l->scenario : NULL, l ? l->trace : NULL);
    a->enabled = true;
    a->phase = UI_ASK_NONE;
    a->chosen = UI_QUIZ_NO_ANSWER;
}

static void ask(struct ui_asker *a, size_t i, bool at_end)
{
    a->phase = UI_ASK_QUESTION;
    a->item = i;
    a->chosen = UI_QUIZ_NO_ANSWER;
    a->at_end = at_end;
}

/* The first question not answered yet, or -1. */
static long first_open(const struct ui_asker *a)
{
    for (size_t i = 0; i < a->quiz.n; i++)
        if (a->quiz.items[i].chosen == UI_QUIZ_NO_ANSWER) return (long)i;
    return -1;
}

/* At the end of the run: the next open question, else the score (once). */
static bool ask_at_end(struct ui_asker *a)
{
    long i = first_open(a);
    if (i >= 0) {
        ask(a, (size_t)i, true);
        return true;
    }
    if (a->score_shown || a->quiz.n == 0) return false;
    a->phase = UI_ASK_SCORE;
    a->score_shown = true;
    return true;
}

bool ui_asker_arrive(struct ui_asker *a, size_t step, bool at_end)
{
    if (!a->enabled || a->phase != UI_ASK_NONE) return false;
    for (size_t i = 0; i < a->quiz.n; i++) {
        const struct ui_quiz_item *it = &a->quiz.items[i];
        if (it->q->kind == SIM_SCN_Q_PREDICT && it->found && it->pause_step == step &&
            it->chosen == UI_QUIZ_NO_ANSWER) {
            ask(a, i, false);
            return true;
        }
    }
    return at_end && ask_at_end(a);
}

int ui_asker_answer(struct ui_asker *a, size_t opt)
{
    if (a->phase != UI_ASK_QUESTION) return -1;
    int r = ui_quiz_answer(&a->quiz, a->item, opt);
    if (r < 0) return -1;
    a->phase = UI_ASK_ANSWERED;
    a->chosen = (int)opt;
    return r;
}

bool ui_asker_continue(struct ui_asker *a)
{
    bool end = a->at_end || a->phase == UI_ASK_SCORE;
    bool was_score = a->phase == UI_ASK_SCORE;
    a->phase = UI_ASK_NONE;
    if (end && !was_score && ask_at_end(a)) return false;
    return true;
}

void ui_asker_close(struct ui_asker *a)
{
    a->phase = UI_ASK_NONE;
    a->at_end = false;
}

void ui_asker_toggle(struct ui_asker *a)
{
    a->enabled = !a->enabled;
    if (!a->enabled) ui_asker_close(a);
}

size_t ui_asker_view_step(const struct ui_asker *a, size_t step)
{
    if (!ui_asker_showing(a) || a->phase == UI_ASK_SCORE || a->item >= a->quiz.n) return step;
    const struct ui_quiz_item *it = &a->quiz.items[a->item];
    return it->q->kind == SIM_SCN_Q_PREDICT && it->found ? it->pause_step : step;
}

bool ui_asker_showing(const struct ui_asker *a)
{
    return a->enabled && a->phase != UI_ASK_NONE;
}

/* ---- layout ----------------------------------------------------------------- */

/* A line's height for text of px pixels (DejaVu's line skip is about 1.17
 * em; a little more keeps wrapped lines apart). */
static int line_h(int px) { return px * 6 / 5 + 2; }

static int imax(int a, int b) { return a > b ? a : b; }

/* Heights for px_text; returns the total the parts need. */
static int place(struct ui_ask_layout *al, const struct ui_layout *lo, int px_text)
{
    struct ui_rect b = al->box;
    int in = 2 * lo->pad, w = b.w - 2 * in;
    int gap = imax(lo->pad / 2, 2);
    al->px_text = px_text;
    int y = b.y + in;
    al->head = (struct ui_rect){b.x + in, y, w, line_h(al->px_head)};
    y += al->head.h + gap;
    al->context = (struct ui_rect){b.x + in, y, w, line_h(al->px_note)};
    y += al->context.h + gap;
    al->question = (struct ui_rect){b.x + in, y, w, 3 * line_h(px_text)};
    y += al->question.h + lo->pad;
    al->letter_w = line_h(px_text) * 3 / 2;
    for (size_t i = 0; i < al->noptions; i++) {
        al->option[i] = (struct ui_rect){b.x + in, y, w, 2 * line_h(px_text) + gap};
        y += al->option[i].h + gap;
    }
    y += lo->pad;
    int fb_min = 4 * line_h(al->px_note);
    int bottom = b.y + b.h - in;
    al->feedback = (struct ui_rect){b.x + in, y, w, imax(bottom - y, fb_min)};
    return y + fb_min - b.y + in;
}

void ui_ask_layout(struct ui_ask_layout *al, const struct ui_layout *lo, size_t noptions)
{
    memset(al, 0, sizeof *al);
    if (noptions > SIM_SCN_OPTIONS_MAX) noptions = SIM_SCN_OPTIONS_MAX;
    al->noptions = noptions;
    struct ui_rect net = lo->area[UI_AREA_NETWORK], mb = lo->area[UI_AREA_MAILBOXES];
    int m = lo->pad;
    al->box = (struct ui_rect){net.x + m, net.y + m, net.w - 2 * m, mb.y + mb.h - net.y - 2 * m};
    al->px_head = lo->px_body;
    al->px_note = lo->px_body;
    /* the question and options as large as the title, then smaller until
     * they fit, but never below the body's size */
    int px = lo->px_title;
    while (place(al, lo, px) > al->box.h && px > lo->px_body) px--;
    place(al, lo, px);
}

int ui_ask_option_at(const struct ui_ask_layout *al, int x, int y)
{
    for (size_t i = 0; i < al->noptions; i++)
        if (ui_rect_contains(al->option[i], x, y)) return (int)i;
    return -1;
}
