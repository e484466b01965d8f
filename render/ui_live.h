/* The live window of `mailsim serve`: the visualizer on a world that real
 * clients are talking to. The lesson is made from the running world (its
 * hosts, "real-client" among them, and its trace); the trace only grows, so
 * each frame reads its length again and the state replays forward.
 *
 * Between frames the loop gives the bridge a few milliseconds
 * (sim_bridge_step), so real connections keep flowing while the window
 * draws. While playing, the view follows: every new exchange is animated
 * as the player animates a lesson's, one after the other, and when there
 * is nothing newer it waits for the next. Space pauses (the newer steps are
 * counted in the top bar), Left/Right/Home/End move through what happened,
 * Space again follows on from there. Tab (another lesson) and the quiz are
 * off: this is not a lesson.
 *
 * No window is needed for any of it but ui_live_window_run: a test drives
 * ui_live_step and ui_live_event and draws the player's step on a headless
 * canvas (render/ui_snapshot.h). */
#ifndef MAILSIM_RENDER_UI_LIVE_H
#define MAILSIM_RENDER_UI_LIVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <SDL.h>

#include "render/ui_player.h"
#include "sim/bridge.h"
#include "sim/scenario.h"
#include "sim/world.h"

#define UI_LIVE_BUSY_WAIT_MS 15 /* the bridge's wait per frame while a packet moves:
                                   about 60 frames a second */
#define UI_LIVE_IDLE_WAIT_MS 50 /* ... and while nothing moves: real clients are
                                   still served at once (poll returns on input) */
#define UI_LIVE_LAG_MAX 400     /* steps the followed view may be behind the newest:
                                   past that (a burst, an IMAP sync of a big folder)
                                   it skips ahead, as animating each would take minutes */
#define UI_LIVE_STATUS_MAX 128  /* the top bar's "LIVE ..." text */

struct ui_live;

/* A live view of world w (made from scenario s; both borrowed, and bridge b
 * running on them, borrowed too), following from its first step. The
 * bridge's host must already be in the world (sim_bridge_new adds it).
 * argv0 finds nothing but is kept for the player. NULL when out of memory. */
struct ui_live *ui_live_new(struct sim_world *w, const struct sim_scenario *s,
                            struct sim_bridge *b, const char *argv0, uint64_t now);
void ui_live_free(struct ui_live *lv);

/* The player on the live lesson (its lesson, step, state and view). */
struct ui_player *ui_live_player(struct ui_live *lv);

/* One turn of the loop: the bridge steps (waiting at most max_wait_ms),
 * the lesson takes in the new steps, and the player moves on (following
 * when playing). Returns 0, or -1 when the engine ran out of room. */
int ui_live_step(struct ui_live *lv, int max_wait_ms, uint64_t now);

/* An SDL event, as ui_player_event, with Tab and Q left out. */
enum ui_player_action ui_live_event(struct ui_live *lv, const SDL_Event *ev, struct ui_draw *d,
                                    uint64_t now);

/* Steps after the one on screen that the player would show (every kind
 * but SIM_TR_STATE): 0 when following at the newest. */
size_t ui_live_newer(const struct ui_live *lv);

/* The top bar's live text: "LIVE   2 real clients connected", and when
 * paused with newer steps "...   7 newer steps". Returns out. */
char *ui_live_status(const struct ui_live *lv, char *out, size_t cap);

/* Lays out and brings the state to the step for a w x h frame, with the
 * live text in the view (what ui_draw_frame then draws). */
void ui_live_frame(struct ui_live *lv, int w, int h);

/* Opens the window on lv and runs until it is closed or *stop becomes
 * non-zero (a signal). When transcript is not NULL, each new step is also
 * printed there as a transcript line; *shown counts the steps printed.
 * Returns 0 (closed or stopped), 1 when no window could be opened (the
 * reason on err; nothing was stepped), or -1 when the engine failed. */
int ui_live_window_run(struct ui_live *lv, const char *argv0, volatile sig_atomic_t *stop,
                       FILE *transcript, size_t *shown, FILE *err);

#endif
