/* The window's quiz: when the player asks which of the lesson's questions
 * (render/quiz.h holds the questions, the answering and the score), and
 * where the question's parts go on the screen.
 *
 * A predict question is asked when playback moves forward onto its pause
 * step (the client's line; the reply is not shown yet). At the end of the
 * run every question not answered yet is asked in order: the multiple-
 * choice ones, and any predict question whose pause point was jumped over.
 * Then the score. Stepping back before a pause point and forward again asks
 * only a question that is still unanswered: an answer is final, the score
 * counts first tries.
 *
 * Plain data and arithmetic, no SDL: the player (ui_player.h) drives it,
 * the drawer (ui_draw.h) shows it, tests call it directly. */
#ifndef MAILSIM_RENDER_UI_ASKER_H
#define MAILSIM_RENDER_UI_ASKER_H

#include <stdbool.h>
#include <stddef.h>

#include "render/quiz.h"
#include "render/ui_layout.h"
#include "render/ui_lesson.h"

/* What the quiz overlay shows. */
enum ui_ask_phase {
    UI_ASK_NONE,     /* nothing: the lesson plays */
    UI_ASK_QUESTION, /* a question waits for an answer */
    UI_ASK_ANSWERED, /* right or wrong, with the explanation; Space goes on */
    UI_ASK_SCORE,    /* the end: "4 of 5 right" */
    UI_ASK_PHASE_COUNT
};
extern const char *const ui_ask_phase_names[UI_ASK_PHASE_COUNT];

struct ui_asker {
    struct ui_quiz quiz;
    bool   enabled;          /* Q turns the quiz off for a demonstration */
    enum ui_ask_phase phase;
    size_t item;             /* the question on screen (QUESTION, ANSWERED) */
    int    chosen;           /* ANSWERED: the option picked */
    bool   at_end;           /* asked at the end of the run: more may follow */
    bool   score_shown;      /* the end's score was shown once */
};

/* Sets up the quiz of lesson l (borrowed: it must outlive a): enabled,
 * nothing asked. */
void ui_asker_init(struct ui_asker *a, const struct ui_lesson *l);

/* Playback has moved forward onto step; at_end when nothing further shows.
 * Puts up the question due there, if any (enabled, none on screen):
 * an unanswered predict question paused at step, or at the end the first
 * unanswered question, or the score once all are answered. Returns true
 * when something was put up. */
bool ui_asker_arrive(struct ui_asker *a, size_t step, bool at_end);

/* Answers the question on screen with option opt (0-based). Returns 1 when
 * right, 0 when wrong, -1 when no question waits or opt is not one of its
 * options (nothing changes then). */
int ui_asker_answer(struct ui_asker *a, size_t opt);

/* Space or Enter after an answer (or on the score): at the end of the run
 * the next unanswered question or the score follows; otherwise the overlay
 * closes. Returns true when the overlay closed. */
bool ui_asker_continue(struct ui_asker *a);

/* Closes whatever is on screen; an unanswered question stays unanswered
 * (it is asked again on the way forward or at the end). */
void ui_asker_close(struct ui_asker *a);

/* Q: turns the quiz off (closing the overlay) or on again. */
void ui_asker_toggle(struct ui_asker *a);

/* The step a frame shows while the window is at step: a predict question
 * on screen is shown at its pause point (at the end of the run, a predict
 * question that was jumped over takes the view back there, so the reply
 * is not on screen yet); otherwise step itself. */
size_t ui_asker_view_step(const struct ui_asker *a, size_t step);

/* Whether the overlay is up. */
bool ui_asker_showing(const struct ui_asker *a);

/* ---- where things go: the overlay covers the network and mailboxes ------ */

struct ui_ask_layout {
    struct ui_rect box;      /* the overlay */
    int    px_head;          /* "Question 2 of 5" */
    int    px_text;          /* the question and the options: large, for the back row */
    int    px_note;          /* explanations, the client's line */
    struct ui_rect head;     /* the heading line */
    struct ui_rect context;  /* predict: the line the client just sent */
    struct ui_rect question;
    size_t noptions;
    struct ui_rect option[SIM_SCN_OPTIONS_MAX]; /* one row each, the letter at its left */
    int    letter_w;         /* the letter's square at an option's left */
    struct ui_rect feedback; /* right or wrong and the explanation */
};

/* Lays out a question with noptions options over lo's network and mailbox
 * areas. Rows hold two lines of option text; where that does not fit, the
 * text gets smaller (never below the body size). */
void ui_ask_layout(struct ui_ask_layout *al, const struct ui_layout *lo, size_t noptions);

/* The option whose row holds (x, y), or -1. */
int ui_ask_option_at(const struct ui_ask_layout *al, int x, int y);

#endif
