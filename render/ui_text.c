/* The text cache: an open-addressed table keyed by (face, size, colour,
 * widths, string), holding one texture per entry. */
#include "render/ui_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#define SLOTS (UI_TEXT_CACHE_MAX * 2) /* half full at most: probes stay short */

static const char *const face_files[UI_FACE_COUNT] = {
    "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "fonts/DejaVuSansMono.ttf"};

struct entry {
    uint64_t hash;
    char    *s;          /* NULL: free slot */
    int      face, px, max_w, wrap_w;
    uint32_t rgba;
    struct ui_tex tex;
};

struct font {
    int       face, px;
    TTF_Font *f;
};

struct ui_text {
    SDL_Renderer *r;
    char          dir[1024];
    struct entry *slots;
    size_t        used;
    struct font   fonts[UI_FONT_CACHE_MAX];
    size_t        nfonts;
    unsigned long renders;
};

static TTF_Font *font(struct ui_text *t, enum ui_face face, int px)
{
    if (px < 4) px = 4;
    for (size_t i = 0; i < t->nfonts; i++)
        if (t->fonts[i].face == (int)face && t->fonts[i].px == px) return t->fonts[i].f;
    if (t->nfonts == UI_FONT_CACHE_MAX) { /* a teacher pressed + and - a lot */
        for (size_t i = 0; i < t->nfonts; i++) TTF_CloseFont(t->fonts[i].f);
        t->nfonts = 0;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s%s", t->dir, face_files[face]);
    TTF_Font *f = TTF_OpenFont(path, px);
    if (!f) {
        fprintf(stderr, "mailsim: cannot open font %s: %s\n", path, TTF_GetError());
        return NULL;
    }
    /* Light hinting: the same glyph shapes at every size, crisp on screen. */
    TTF_SetFontHinting(f, TTF_HINTING_LIGHT);
    t->fonts[t->nfonts++] = (struct font){(int)face, px, f};
    return f;
}

struct ui_text *ui_text_new(SDL_Renderer *r, const char *assets_dir)
{
    struct ui_text *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->slots = calloc(SLOTS, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->r = r;
    snprintf(t->dir, sizeof t->dir, "%s", assets_dir);
    for (int f = 0; f < UI_FACE_COUNT; f++)
        if (!font(t, (enum ui_face)f, 20)) {
            ui_text_free(t);
            return NULL;
        }
    return t;
}

static void clear(struct ui_text *t)
{
    for (size_t i = 0; i < SLOTS; i++) {
        if (!t->slots[i].s) continue;
        if (t->slots[i].tex.tex) SDL_DestroyTexture(t->slots[i].tex.tex);
        free(t->slots[i].s);
    }
    memset(t->slots, 0, SLOTS * sizeof *t->slots);
    t->used = 0;
}

void ui_text_free(struct ui_text *t)
{
    if (!t) return;
    clear(t);
    free(t->slots);
    for (size_t i = 0; i < t->nfonts; i++) TTF_CloseFont(t->fonts[i].f);
    free(t);
}

unsigned long ui_text_renders(const struct ui_text *t) { return t->renders; }

/* FNV-1a over the key. */
static uint64_t hash_key(int face, int px, uint32_t rgba, int max_w, int wrap_w, const char *s)
{
    uint64_t h = 1469598103934665603ull;
    int nums[5] = {face, px, (int)rgba, max_w, wrap_w};
    const unsigned char *p = (const unsigned char *)nums;
    for (size_t i = 0; i < sizeof nums; i++) h = (h ^ p[i]) * 1099511628211ull;
    for (p = (const unsigned char *)s; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return h;
}

/* A copy of s fit for drawing: at most UI_TEXT_MAX octets, tabs as spaces,
 * other control characters as '.', so a strange line never breaks layout. */
static char *clean(const char *s)
{
    size_t n = strlen(s);
    if (n > UI_TEXT_MAX) n = UI_TEXT_MAX;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        c[i] = ch == '\t' ? ' ' : (ch < 0x20 || ch == 0x7f) ? '.' : (char)ch;
    }
    c[n] = '\0';
    return c;
}

/* c cut so it fits max_w with "..." after it, in a new string that
 * replaces c (freed); c itself when it fits or memory ran out. UTF-8
 * aware: cuts only before a lead byte. */
static char *fit(TTF_Font *f, char *c, int max_w)
{
    int w = 0, h = 0;
    if (TTF_SizeUTF8(f, c, &w, &h) != 0 || w <= max_w) return c;
    size_t n = strlen(c);
    char *buf = malloc(n + 4);
    if (!buf) return c;
    size_t lo = 0, hi = n; /* the longest prefix that fits, by bisection */
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        while (mid > 0 && ((unsigned char)c[mid] & 0xC0) == 0x80) mid--;
        if (mid <= lo) {
            hi = lo;
            break;
        }
        memcpy(buf, c, mid);
        memcpy(buf + mid, "...", 4);
        if (TTF_SizeUTF8(f, buf, &w, &h) == 0 && w <= max_w)
            lo = mid;
        else
            hi = mid - 1;
    }
    while (lo > 0 && ((unsigned char)c[lo] & 0xC0) == 0x80) lo--;
    memcpy(buf, c, lo);
    memcpy(buf + lo, "...", 4);
    free(c);
    return buf;
}

struct ui_tex ui_text_get(struct ui_text *t, enum ui_face face, int px, SDL_Color col,
                          const char *s, int max_w, int wrap_w)
{
    struct ui_tex none = {NULL, 0, 0};
    if (!s || !*s) return none;
    uint32_t rgba = (uint32_t)col.r << 24 | (uint32_t)col.g << 16 | (uint32_t)col.b << 8 | col.a;
    uint64_t h = hash_key((int)face, px, rgba, max_w, wrap_w, s);
    size_t i = (size_t)(h % SLOTS);
    for (; t->slots[i].s; i = (i + 1) % SLOTS) {
        struct entry *e = &t->slots[i];
        if (e->hash == h && e->face == (int)face && e->px == px && e->rgba == rgba &&
            e->max_w == max_w && e->wrap_w == wrap_w && strncmp(e->s, s, UI_TEXT_MAX) == 0)
            return e->tex;
    }
    if (t->used >= UI_TEXT_CACHE_MAX) {
        clear(t);
        i = (size_t)(h % SLOTS);
    }
    TTF_Font *f = font(t, face, px);
    char *c = clean(s);
    if (!f || !c) {
        free(c);
        return none;
    }
    if (max_w > 0 && wrap_w <= 0) c = fit(f, c, max_w);
    SDL_Surface *surf = wrap_w > 0 ? TTF_RenderUTF8_Blended_Wrapped(f, c, col, (Uint32)wrap_w)
                                   : TTF_RenderUTF8_Blended(f, c, col);
    struct ui_tex tex = none;
    if (surf) {
        tex.tex = SDL_CreateTextureFromSurface(t->r, surf);
        tex.w = surf->w;
        tex.h = surf->h;
        SDL_FreeSurface(surf);
    }
    t->renders++;
    /* The key keeps the string as given (up to UI_TEXT_MAX), not the cut one. */
    free(c);
    c = strndup(s, UI_TEXT_MAX);
    if (!c) {
        if (tex.tex) SDL_DestroyTexture(tex.tex);
        return none;
    }
    t->slots[i] = (struct entry){h, c, (int)face, px, max_w, wrap_w, rgba, tex};
    t->used++;
    return tex;
}

int ui_text_width(struct ui_text *t, enum ui_face face, int px, const char *s)
{
    TTF_Font *f = font(t, face, px);
    int w = 0, h = 0;
    if (!f || !s || !*s) return 0;
    char *c = clean(s);
    if (!c) return 0;
    if (TTF_SizeUTF8(f, c, &w, &h) != 0) w = 0;
    free(c);
    return w;
}

int ui_text_line_h(struct ui_text *t, enum ui_face face, int px)
{
    TTF_Font *f = font(t, face, px);
    return f ? TTF_FontLineSkip(f) : px;
}
