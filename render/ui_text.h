/* Text for the window: the project's DejaVu fonts (assets/fonts, never the
 * system's, so every machine draws the same pixels), and a cache of
 * rendered strings. A string is rendered into a texture once and reused
 * every frame after; the cache is bounded and emptied when full. */
#ifndef MAILSIM_RENDER_UI_TEXT_H
#define MAILSIM_RENDER_UI_TEXT_H

#include <stdbool.h>

#include <SDL.h>

#define UI_TEXT_CACHE_MAX 4096 /* rendered strings kept; a frame uses a few hundred */
#define UI_FONT_CACHE_MAX 24   /* open (face, size) pairs */
#define UI_TEXT_MAX 2048       /* octets of one string drawn; longer ones are cut */

enum ui_face { UI_FACE_SANS, UI_FACE_BOLD, UI_FACE_MONO, UI_FACE_COUNT };

struct ui_text;

struct ui_tex {
    SDL_Texture *tex; /* NULL for an empty string */
    int w, h;
};

/* A cache drawing with r (borrowed), fonts from assets_dir ("assets/").
 * Returns NULL when a font cannot be opened (the reason on stderr).
 * TTF_Init must have been called. */
struct ui_text *ui_text_new(SDL_Renderer *r, const char *assets_dir);
void ui_text_free(struct ui_text *t);

/* The texture of s in face at px size and colour c (borrowed until the
 * cache is next emptied, which only a later ui_text_get can do: use it
 * before asking for another). max_w > 0 cuts a long line to that width
 * with "..."; wrap_w > 0 wraps it onto lines that wide instead. Never
 * NULL; on failure .tex is NULL. */
struct ui_tex ui_text_get(struct ui_text *t, enum ui_face face, int px, SDL_Color c,
                          const char *s, int max_w, int wrap_w);

/* The width of s in pixels, and a line's height. */
int ui_text_width(struct ui_text *t, enum ui_face face, int px, const char *s);
int ui_text_line_h(struct ui_text *t, enum ui_face face, int px);

/* Renders and cache misses since ui_text_new (the bench and tests read it). */
unsigned long ui_text_renders(const struct ui_text *t);

#endif
