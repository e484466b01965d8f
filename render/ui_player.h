/* The window's player: the lesson on screen, the step, what is playing and
 * open, the quiz, and what every key and click does to them. No window:
 * ui_window.c feeds it the events SDL gives and draws what it holds, and a
 * test feeds it synthetic SDL events and draws it on a headless canvas
 * (ui_snapshot.h), so the input handling is tested without a display.
 *
 * Times are milliseconds from any fixed origin (SDL_GetTicks64 in the
 * window, made-up numbers in tests). */
#ifndef MAILSIM_RENDER_UI_PLAYER_H
#define MAILSIM_RENDER_UI_PLAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <SDL.h>

#include "render/ui_asker.h"
#include "render/ui_draw.h"
#include "render/ui_layout.h"
#include "render/ui_lesson.h"
#include "render/ui_state.h"

/* What the window has to do after an event. */
enum ui_player_action {
    UI_PLAYER_NONE,
    UI_PLAYER_QUIT,       /* Esc with nothing open, or the window closed */
    UI_PLAYER_FULLSCREEN, /* F */
    UI_PLAYER_LOADED,     /* Tab / Shift-Tab loaded another lesson: a new title */
    UI_PLAYER_ACTION_COUNT
};
extern const char *const ui_player_action_names[UI_PLAYER_ACTION_COUNT];

struct ui_player {
    const char *argv0;
    char   names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX]; /* the lessons Tab cycles through */
    size_t nnames;
    struct ui_lesson *lesson;  /* owned */
    struct ui_state   state;
    struct ui_layout  layout;  /* of the last ui_player_frame: clicks are read against it */
    struct ui_view    view;    /* view.ask points at ask */
    struct ui_asker   ask;
    size_t   step;
    uint64_t anim_start;       /* when the current packet left */
    uint64_t next_play;        /* when the player moves on */
    bool     resume_play;      /* a question stopped the playing: going on plays again */
};

/* A player with no lesson yet, finding the lessons as ui_lesson_list does
 * from argv0. NULL when out of memory. */
struct ui_player *ui_player_new(const char *argv0);
void ui_player_free(struct ui_player *p);

/* Loads lesson (NULL: the default story) at step 0, paused, with its quiz.
 * Returns false with the problems on err (the old lesson stays). */
bool ui_player_load(struct ui_player *p, const char *lesson, uint64_t now, FILE *err);

/* Handles one SDL event: SDL_KEYDOWN, SDL_MOUSEBUTTONDOWN (left button; x
 * and y in the layout's pixels: the window converts from its points) and
 * SDL_QUIT; anything else is ignored. d is the drawer (for where the
 * packet's label is). */
enum ui_player_action ui_player_event(struct ui_player *p, const SDL_Event *ev,
                                      struct ui_draw *d, uint64_t now);

/* Moves the player on when it is playing and its time has come, and sets
 * the packet's animation progress. */
void ui_player_tick(struct ui_player *p, uint64_t now);

/* Lays the lesson out for a w x h frame and brings the state to the step
 * (or to the pause point of the predict question on screen,
 * ui_asker_view_step): what ui_draw_frame(d, &p->layout, &p->state,
 * &p->view) then draws. */
void ui_player_frame(struct ui_player *p, int w, int h);

/* Whether nothing further shows after step (the end of the run). */
bool ui_player_at_end(const struct ui_player *p, size_t step);

#endif
