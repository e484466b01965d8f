/* The window a teacher puts on the projector: `mailsim view [LESSON]`, and
 * `mailsim` with no arguments. It plays a lesson's trace step by step with
 * the keys listed in its help overlay (H or ?), and falls back to the text
 * transcript, saying so in one line, when there is no display. */
#ifndef MAILSIM_RENDER_UI_WINDOW_H
#define MAILSIM_RENDER_UI_WINDOW_H

#include <stdbool.h>
#include <stdio.h>

/* How long one exchange's packet takes to cross at 1x, and how long the
 * player waits between exchanges. Up/Down divide both by the speed. */
#define UI_ANIM_MS 600
#define UI_PLAY_MS 1400

/* Whether a display is there to open a window on: DISPLAY (X11) or
 * WAYLAND_DISPLAY set. */
bool ui_display_available(void);

/* Opens the window on lesson (NULL: the default story) and runs until it
 * is closed. Returns an exit code; when no window can be opened, it says
 * why in one line on err and plays the text transcript to out instead. */
int ui_window_run(const char *lesson, const char *argv0, FILE *out, FILE *err);

/* The `view` command: args are what follows "view" ([LESSON]). */
int ui_view_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

#endif
