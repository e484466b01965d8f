/* Drawing the split view (ui_split.h), its window and its snapshots:
 * `mailsim compare ... --view` opens the window; `mailsim compare ...
 * --snapshot FILE.png [--step K] [--size WxH]` saves a time point headless.
 *
 * Time moves with the main window's keys: Space plays (a time point every
 * UI_SPLIT_PLAY_MS at 1x), Right and Left step through the sampled time
 * points, Home and End, Up and Down for the speed; a click on the timeline
 * jumps there; F fullscreen; H the keys; Esc or Q closes. */
#ifndef MAILSIM_RENDER_UI_SPLIT_DRAW_H
#define MAILSIM_RENDER_UI_SPLIT_DRAW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <SDL.h>

#include "render/ui_split.h"

#define UI_SPLIT_PLAY_MS 250 /* one time point (an hour of a week's run) at 1x */

/* What the window adds to (comparison, time point). */
struct ui_split_view {
    size_t   point;          /* the time point shown */
    bool     playing;
    double   speed;          /* 0.25 .. 16, as the main window's */
    bool     help;           /* H: the keys */
    uint64_t next_play;      /* ms: when playing moves on */
};

/* What the window has to do after an event. */
enum ui_split_action { UI_SPLIT_NONE, UI_SPLIT_QUIT, UI_SPLIT_FULLSCREEN, UI_SPLIT_ACTION_COUNT };
extern const char *const ui_split_action_names[UI_SPLIT_ACTION_COUNT];

/* At time point `point`, paused, 1x. */
struct ui_split_view ui_split_view_at(size_t point);

/* Handles SDL_KEYDOWN, a left click on the timeline (x, y in the layout's
 * pixels) and SDL_QUIT; now in ms. */
enum ui_split_action ui_split_event(struct ui_split_view *v, const struct ui_split *s,
                                    const struct ui_split_layout *lo, const SDL_Event *ev,
                                    uint64_t now);

/* Moves on when playing and its time has come; stops at the end. */
void ui_split_tick(struct ui_split_view *v, const struct ui_split *s, uint64_t now);

struct ui_split_draw;

/* A drawer on r (borrowed), fonts from assets_dir; NULL when they cannot
 * be opened. */
struct ui_split_draw *ui_split_draw_new(SDL_Renderer *r, const char *assets_dir);
void ui_split_draw_free(struct ui_split_draw *d);

/* Draws the frame of s at v's time point, laid out by lo. */
void ui_split_draw_frame(struct ui_split_draw *d, const struct ui_split_layout *lo,
                         const struct ui_split *s, const struct ui_split_view *v);

/* Opens the window on c (run with keep_trace). Returns an exit code (0, 1
 * when no window can be opened: the reason on err). */
int ui_split_window(const struct sim_compare *c, const char *argv0, FILE *err);

/* Saves time point `point` (clamped; the last when it is SIZE_MAX) of c as
 * a w x h PNG at path, without a display. Returns 0, or 1 with the reason
 * on err. */
int ui_split_snapshot(const struct sim_compare *c, const char *path, size_t point, int w, int h,
                      const char *argv0, FILE *out, FILE *err);

#endif
