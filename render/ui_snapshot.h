/* Headless drawing: the same frame the window shows, drawn by SDL's
 * software renderer into memory, with no display at all, and saved as a
 * PNG: `mailsim snapshot [LESSON] --step N --out FILE.png [--size WxH]
 * [--eavesdrop] [--quiz [--answer X]]` (the size defaults to 1920x1080;
 * --eavesdrop draws the window's eavesdropper view, key E; --quiz the
 * question the window asks on arriving at the step, a predict question at
 * its pause point or at the end the first question, and --answer X that
 * question answered with option X, a letter or a number).
 *
 * The window draws with the same software renderer (unless the user's
 * SDL_RENDER_DRIVER says otherwise), so a snapshot and the window agree
 * pixel for pixel. */
#ifndef MAILSIM_RENDER_UI_SNAPSHOT_H
#define MAILSIM_RENDER_UI_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/ui_draw.h"
#include "render/ui_layout.h"
#include "render/ui_lesson.h"
#include "render/ui_state.h"

#define UI_SNAPSHOT_MAX_W 7680 /* 8K: more is a typo, and 250 MB of pixels */
#define UI_SNAPSHOT_MAX_H 4320

/* SDL, SDL_ttf and SDL_image for drawing without a window (the dummy video
 * driver, so nothing looks for a display). Returns 0, or -1 with the reason
 * on err. Pair with ui_headless_quit(). */
int ui_headless_init(FILE *err);
void ui_headless_quit(void);

/* A w x h canvas for lesson l (borrowed): a surface, its software renderer,
 * a drawer, a layout and a state. NULL when memory, the renderer or the
 * fonts (from assets_dir) fail. */
struct ui_canvas;
struct ui_canvas *ui_canvas_new(const struct ui_lesson *l, int w, int h, const char *assets_dir);
void ui_canvas_free(struct ui_canvas *c);

/* Draws the frame after step with view v (NULL: ui_view_default()). */
void ui_canvas_draw(struct ui_canvas *c, size_t step, const struct ui_view *v);

/* What the last draw used, for tests: the layout, the state, the drawer. */
const struct ui_layout *ui_canvas_layout(const struct ui_canvas *c);
const struct ui_state *ui_canvas_state(const struct ui_canvas *c);
struct ui_draw *ui_canvas_drawer(struct ui_canvas *c);

/* The drawn pixels, read back with SDL_RenderReadPixels: w * h values
 * 0xRRGGBB, row by row (borrowed until the next draw). NULL on failure. */
const uint32_t *ui_canvas_pixels(struct ui_canvas *c);
/* One pixel, 0xRRGGBB (0 outside the canvas). */
uint32_t ui_canvas_pixel(struct ui_canvas *c, int x, int y);

/* Saves the drawn frame as a PNG. Returns 0, or -1 with the reason on err. */
int ui_canvas_save_png(struct ui_canvas *c, const char *path, FILE *err);

/* The `snapshot` command: args are what follows "snapshot". Returns an exit
 * code (0; 1 when drawing or saving failed; 2 for bad arguments or lesson). */
int ui_snapshot_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

#endif
