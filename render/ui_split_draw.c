/* The split view's frames, window and snapshots; see ui_split_draw.h. */
#include "render/ui_split_draw.h"

#include <stdlib.h>
#include <string.h>

#include <SDL_image.h>
#include <SDL_ttf.h>

#include "assets/theme.h"
#include "render/ui_lesson.h"
#include "render/ui_pixels.h"
#include "render/ui_text.h"

#define SPEED_MIN 0.25
#define SPEED_MAX 16.0

struct ui_split_draw {
    SDL_Renderer   *r;
    struct ui_text *text;
};

static const unsigned side_colour[SIM_CMP_SIDE_COUNT] = {THEME_PROTO_IMAP, THEME_PROTO_POP3};

const char *const ui_split_action_names[UI_SPLIT_ACTION_COUNT] = {"none", "quit", "fullscreen"};

/* ---- the view: keys and time ---------------------------------------------- */

struct ui_split_view ui_split_view_at(size_t point)
{
    return (struct ui_split_view){.point = point, .speed = 1.0};
}

static size_t last_point(const struct ui_split *s)
{
    size_t n = ui_split_points(s);
    return n ? n - 1 : 0;
}

static enum ui_split_action key(struct ui_split_view *v, const struct ui_split *s, SDL_Keycode c,
                                uint64_t now)
{
    if (v->help) { /* any key closes the keys */
        v->help = false;
        return UI_SPLIT_NONE;
    }
    switch (c) {
    case SDLK_SPACE:
        if (!v->playing && v->point >= last_point(s)) v->point = 0; /* from the start again */
        v->playing = !v->playing;
        v->next_play = now;
        break;
    case SDLK_RIGHT: case SDLK_n:
        v->playing = false;
        if (v->point < last_point(s)) v->point++;
        break;
    case SDLK_LEFT: case SDLK_p:
        v->playing = false;
        if (v->point > 0) v->point--;
        break;
    case SDLK_HOME: v->playing = false; v->point = 0; break;
    case SDLK_END: v->playing = false; v->point = last_point(s); break;
    case SDLK_UP: if (v->speed < SPEED_MAX) v->speed *= 2; break;
    case SDLK_DOWN: if (v->speed > SPEED_MIN) v->speed /= 2; break;
    case SDLK_f: return UI_SPLIT_FULLSCREEN;
    case SDLK_h: case SDLK_SLASH: v->help = true; break;
    case SDLK_ESCAPE: case SDLK_q: return UI_SPLIT_QUIT;
    default: break;
    }
    return UI_SPLIT_NONE;
}

enum ui_split_action ui_split_event(struct ui_split_view *v, const struct ui_split *s,
                                    const struct ui_split_layout *lo, const SDL_Event *ev,
                                    uint64_t now)
{
    switch (ev->type) {
    case SDL_QUIT: return UI_SPLIT_QUIT;
    case SDL_KEYDOWN: return key(v, s, ev->key.keysym.sym, now);
    case SDL_MOUSEBUTTONDOWN:
        if (v->help) {
            v->help = false;
        } else if (ev->button.button == SDL_BUTTON_LEFT &&
                   ui_rect_contains(lo->timeline, ev->button.x, ev->button.y)) {
            v->playing = false;
            v->point = ui_split_timeline_point(lo, ui_split_points(s), ev->button.x);
        }
        return UI_SPLIT_NONE;
    default: return UI_SPLIT_NONE;
    }
}

void ui_split_tick(struct ui_split_view *v, const struct ui_split *s, uint64_t now)
{
    if (!v->playing || now < v->next_play) return;
    if (v->point >= last_point(s)) {
        v->playing = false;
        return;
    }
    v->point++;
    v->next_play = now + (uint64_t)(UI_SPLIT_PLAY_MS / v->speed);
}

/* ---- primitives ------------------------------------------------------------- */

struct ui_split_draw *ui_split_draw_new(SDL_Renderer *r, const char *assets_dir)
{
    struct ui_split_draw *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->r = r;
    d->text = ui_text_new(r, assets_dir);
    if (!d->text) {
        free(d);
        return NULL;
    }
    return d;
}

void ui_split_draw_free(struct ui_split_draw *d)
{
    if (!d) return;
    ui_text_free(d->text);
    free(d);
}

static SDL_Color col(unsigned rgb)
{
    return (SDL_Color){(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
}

static void fill(struct ui_split_draw *d, struct ui_rect r, unsigned rgb)
{
    if (r.w <= 0 || r.h <= 0) return;
    SDL_Rect s = {r.x, r.y, r.w, r.h};
    SDL_SetRenderDrawColor(d->r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    SDL_RenderFillRect(d->r, &s);
}

static void clip(struct ui_split_draw *d, const struct ui_rect *r)
{
    if (!r) {
        SDL_RenderSetClipRect(d->r, NULL);
        return;
    }
    SDL_Rect s = {r->x, r->y, r->w, r->h};
    SDL_RenderSetClipRect(d->r, &s);
}

enum align { LEFT, CENTRE, RIGHT };

/* Draws s with its top at y; x is its left, centre or right. */
static struct ui_tex text(struct ui_split_draw *d, enum ui_face f, int px, unsigned rgb,
                          const char *s, int x, int y, enum align a, int max_w)
{
    struct ui_tex t = ui_text_get(d->text, f, px, col(rgb), s, max_w, 0);
    if (!t.tex) return t;
    int left = a == LEFT ? x : a == CENTRE ? x - t.w / 2 : x - t.w;
    SDL_Rect dst = {left, y, t.w, t.h};
    SDL_RenderCopy(d->r, t.tex, NULL, &dst);
    return t;
}

/* Text centred in r's height. */
static void text_in(struct ui_split_draw *d, enum ui_face f, int px, unsigned rgb, const char *s,
                    struct ui_rect r, enum align a, int inset)
{
    int lh = ui_text_line_h(d->text, f, px);
    int x = a == LEFT ? r.x + inset : a == RIGHT ? r.x + r.w - inset : r.x + r.w / 2;
    text(d, f, px, rgb, s, x, r.y + (r.h - lh) / 2, a, r.w - 2 * inset);
}

/* ---- the frame ----------------------------------------------------------------- */

static void title(struct ui_split_draw *d, const struct ui_split_layout *lo,
                  const struct ui_split *s, const struct ui_split_view *v)
{
    struct ui_rect r = lo->title;
    fill(d, r, THEME_PANEL_EDGE);
    fill(d, (struct ui_rect){r.x, r.y, r.w, r.h - 1}, THEME_PANEL_BG);
    const struct sim_compare *c = ui_split_compare(s);
    const struct sim_compare_params *p = sim_compare_params(c);
    char when[48], right[160], line[512];
    snprintf(right, sizeof right, "%s   \xC2\xB7   %zu of %zu   \xC2\xB7   %s  %gx   H: keys",
             ui_split_when(s, v->point, when, sizeof when), v->point + 1, ui_split_points(s),
             v->playing ? "playing" : "paused", v->speed);
    int x = r.x + lo->pad, y = r.y + lo->pad;
    struct ui_tex rt = text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, right, r.x + r.w - lo->pad,
                            y, RIGHT, 0);
    text(d, UI_FACE_BOLD, lo->px_title, THEME_TEXT,
         "IMAP sync or POP3 download: the same mail", x, y, LEFT,
         r.w - rt.w - 3 * lo->pad);
    y += ui_text_line_h(d->text, UI_FACE_BOLD, lo->px_title) + lo->pad / 2;
    char devs[160] = "";
    size_t o = 0;
    for (size_t i = 0; i < p->devices && o + 16 < sizeof devs; i++)
        o += (size_t)snprintf(devs + o, sizeof devs - o, "%s%s", i ? ", " : "",
                              sim_compare_device_name(c, i));
    snprintf(line, sizeof line,
             "%u device%s (%s)   \xC2\xB7   %u day%s, %u messages a day   \xC2\xB7   POP3 %s   "
             "\xC2\xB7   seed %llu   \xC2\xB7   %zu of %zu messages arrived",
             p->devices, p->devices == 1 ? "" : "s", devs, p->days, p->days == 1 ? "" : "s",
             p->per_day, p->leave_on_server ? "leaves a copy on the server" : "downloads and deletes",
             (unsigned long long)p->seed, ui_split_arrived(s, v->point), ui_split_messages(s));
    text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, line, x, y, LEFT, r.w - 2 * lo->pad);
}

static const char *heading_text(const struct ui_split *s, enum sim_compare_side side)
{
    if (side == SIM_CMP_IMAP) return "IMAP (993): every device syncs";
    return sim_compare_params(ui_split_compare(s))->leave_on_server
               ? "POP3 (995): download, keep a copy"
               : "POP3 (995): download, then delete";
}

static void counters(struct ui_split_draw *d, const struct ui_split_layout *lo,
                     const struct ui_split *s, enum sim_compare_side side, size_t k)
{
    const struct ui_split_side_layout *sl = &lo->side[side];
    char label[96], value[48];
    for (int r = 0; r < UI_SPLIT_ROW_COUNT; r++) {
        enum ui_split_row row = (enum ui_split_row)r;
        if (!ui_split_row_used(s, row)) continue;
        struct ui_rect vr = sl->row_value[r];
        bool differ = ui_split_row_diverges(s, row, k);
        fill(d, vr, THEME_GRID_EDGE);
        fill(d, (struct ui_rect){vr.x + 1, vr.y + 1, vr.w - 2, vr.h - 2},
             differ ? THEME_DIVERGE : THEME_HOST_FILL);
        text_in(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, ui_split_row_label(s, row, label, sizeof label),
                sl->row_label[r], LEFT, 0);
        text_in(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT,
                ui_split_row_value(s, side, row, k, value, sizeof value), vr, RIGHT, lo->pad / 2);
    }
}

static void grid(struct ui_split_draw *d, const struct ui_split_layout *lo,
                 const struct ui_split *s, enum sim_compare_side side, size_t k)
{
    const struct ui_split_side_layout *sl = &lo->side[side];
    const struct sim_compare *c = ui_split_compare(s);
    size_t devices = sim_compare_params(c)->devices, arrived = ui_split_arrived(s, k);
    char t[160];
    if (lo->shown < ui_split_messages(s))
        snprintf(t, sizeof t, "Which device has seen which message (#0 to #%zu of %zu)",
                 lo->shown ? lo->shown - 1 : 0, ui_split_messages(s));
    else
        snprintf(t, sizeof t, "Which device has seen which message");
    text_in(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, t, sl->grid_title, LEFT, 0);
    /* the names at each block's rows, as large as a row allows */
    int px = lo->px_small < lo->cell * 9 / 10 ? lo->px_small : lo->cell * 9 / 10;
    for (size_t b = 0; b < lo->blocks && px >= 8 && (b == 0 || b * (size_t)lo->cols < arrived); b++)
        for (size_t dv = 0; dv < devices; dv++) {
            struct ui_rect first = ui_split_cell(lo, s, side, dv, b * (size_t)lo->cols);
            struct ui_rect nr = {sl->grid.x, first.y, lo->names_w - lo->pad / 2, lo->cell};
            text_in(d, UI_FACE_SANS, px, THEME_TEXT_DIM, sim_compare_device_name(c, dv), nr, RIGHT, 0);
        }
    for (size_t m = 0; m < lo->shown && m < arrived; m++)
        for (size_t dv = 0; dv < devices; dv++) {
            struct ui_rect r = ui_split_cell(lo, s, side, dv, m);
            if (ui_split_seen(s, side, dv, m, k)) {
                fill(d, r, side_colour[side]);
            } else if (ui_split_cell_diverges(s, side, dv, m, k)) {
                fill(d, r, THEME_DIVERGE);
            } else {
                fill(d, r, THEME_GRID_EDGE);
                if (r.w > 4) fill(d, (struct ui_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, THEME_GRID_EMPTY);
            }
        }
    /* the legend: the three kinds of cell */
    struct ui_rect lg = sl->legend;
    int sq = lg.h * 2 / 3, x = lg.x, y = lg.y + (lg.h - sq) / 2;
    static const char *const words[] = {"seen", "not seen", "seen on the other side only"};
    unsigned colours[] = {side_colour[side], THEME_GRID_EMPTY, THEME_DIVERGE};
    for (size_t i = 0; i < 3; i++) {
        fill(d, (struct ui_rect){x, y, sq, sq}, THEME_GRID_EDGE);
        fill(d, (struct ui_rect){x + 1, y + 1, sq - 2, sq - 2}, colours[i]);
        x += sq + lo->pad / 2;
        struct ui_tex tt = text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, words[i], x,
                                lg.y + (lg.h - ui_text_line_h(d->text, UI_FACE_SANS, lo->px_small)) / 2,
                                LEFT, 0);
        x += tt.w + 2 * lo->pad;
    }
}

static void side_panel(struct ui_split_draw *d, const struct ui_split_layout *lo,
                       const struct ui_split *s, enum sim_compare_side side, size_t k)
{
    const struct ui_split_side_layout *sl = &lo->side[side];
    struct ui_rect b = sl->box;
    fill(d, b, side_colour[side]);
    int t = lo->pad / 3 > 1 ? lo->pad / 3 : 2;
    fill(d, (struct ui_rect){b.x + t, b.y + t, b.w - 2 * t, b.h - 2 * t}, THEME_PANEL_BG);
    clip(d, &b);
    text_in(d, UI_FACE_BOLD, lo->px_title, side_colour[side], heading_text(s, side), sl->heading,
            LEFT, 0);
    counters(d, lo, s, side, k);
    grid(d, lo, s, side, k);
    clip(d, NULL);
}

static void timeline(struct ui_split_draw *d, const struct ui_split_layout *lo,
                     const struct ui_split *s, size_t k)
{
    struct ui_rect r = lo->timeline;
    fill(d, r, THEME_PANEL_EDGE);
    fill(d, (struct ui_rect){r.x, r.y + 1, r.w, r.h - 1}, THEME_TIMELINE_BG);
    size_t n = ui_split_points(s);
    int top = r.y + r.h / 3, h = r.h / 3;
    for (size_t i = 0; i < n; i++) {
        int x = ui_split_timeline_x(lo, n, i);
        /* a taller tick at each midnight */
        bool day = ui_split_measures(s, SIM_CMP_IMAP, i)->t % SIM_SEC(86400) == 0;
        fill(d, (struct ui_rect){x, day ? r.y + 4 : top, 1, day ? r.h - 8 : h}, THEME_TEXT_DIM);
    }
    int cx = ui_split_timeline_x(lo, n, k);
    int cw = lo->pad / 3 > 2 ? lo->pad / 3 : 3;
    fill(d, (struct ui_rect){cx - cw / 2, r.y + 1, cw, r.h - 1}, THEME_CURSOR);
}

static const char *const help_keys[][2] = {
    {"Space", "play / pause (from the start again at the end)"},
    {"Right or N, Left or P", "one time point forward, back"},
    {"Home, End", "the start, the end"},
    {"Up / Down", "faster / slower"},
    {"click the timeline", "jump to that time"},
    {"F", "fullscreen"},
    {"H or ?", "this list (any key closes it)"},
    {"Esc or Q", "close the window"},
};

static void help(struct ui_split_draw *d, const struct ui_split_layout *lo)
{
    size_t n = sizeof help_keys / sizeof help_keys[0];
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, lo->px_body) + lo->pad / 2;
    int w = lo->w * 3 / 5, h = (int)(n + 2) * lh + 2 * lo->pad;
    struct ui_rect r = {(lo->w - w) / 2, (lo->h - h) / 2, w, h};
    fill(d, r, THEME_OVERLAY_EDGE);
    fill(d, (struct ui_rect){r.x + 3, r.y + 3, r.w - 6, r.h - 6}, THEME_OVERLAY_BG);
    int x = r.x + 2 * lo->pad, y = r.y + lo->pad;
    text(d, UI_FACE_BOLD, lo->px_title, THEME_TEXT, "Keys", x, y, LEFT, 0);
    y += lh * 3 / 2;
    for (size_t i = 0; i < n; i++, y += lh) {
        text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, help_keys[i][0], x, y, LEFT, 0);
        text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, help_keys[i][1], x + r.w * 2 / 5, y, LEFT,
             r.w * 3 / 5 - 3 * lo->pad);
    }
}

void ui_split_draw_frame(struct ui_split_draw *d, const struct ui_split_layout *lo,
                         const struct ui_split *s, const struct ui_split_view *v)
{
    size_t k = v->point < ui_split_points(s) ? v->point : last_point(s);
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(d->r, 0xF7, 0xF7, 0xF2, 255);
    SDL_RenderClear(d->r);
    fill(d, (struct ui_rect){0, 0, lo->w, lo->h}, THEME_BG);
    title(d, lo, s, v);
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++)
        side_panel(d, lo, s, (enum sim_compare_side)side, k);
    timeline(d, lo, s, k);
    if (v->help) help(d, lo);
}

/* ---- the window -------------------------------------------------------------------- */

int ui_split_window(const struct sim_compare *c, const char *argv0, FILE *err)
{
    char why[256], assets[UI_PATH_MAX];
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    if (!(x && *x) && !(wl && *wl)) {
        fputs("mailsim compare: no display for the split view (neither DISPLAY nor "
              "WAYLAND_DISPLAY is set); --snapshot FILE.png draws it without one\n", err);
        return 1;
    }
    if (!ui_find_assets(argv0, assets, sizeof assets)) {
        fputs("mailsim compare: cannot find assets/fonts (set MAILSIM_ASSETS to the assets "
              "folder)\n", err);
        return 1;
    }
    struct ui_split *s = ui_split_new(c, why, sizeof why);
    if (!s) {
        fprintf(err, "mailsim compare: %s\n", why);
        return 1;
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0 || TTF_Init() != 0) {
        fprintf(err, "mailsim compare: no window: %s\n", SDL_GetError());
        SDL_Quit();
        ui_split_free(s);
        return 1;
    }
    /* the software renderer draws what --snapshot saves, pixel for pixel */
    SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
    int ww = UI_BASE_W, wh = UI_BASE_H;
    SDL_Rect usable;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0 && usable.w > 0 && usable.h > 0) {
        if (ww > usable.w) ww = usable.w;
        if (wh > usable.h) wh = usable.h;
    }
    SDL_Window *win = SDL_CreateWindow("mailsim: IMAP sync or POP3 download",
                                       SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, ww, wh,
                                       SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    SDL_Renderer *r = win ? SDL_CreateRenderer(win, -1, 0) : NULL;
    struct ui_split_draw *d = r ? ui_split_draw_new(r, assets) : NULL;
    int rc = 1;
    if (!d) {
        fprintf(err, "mailsim compare: no window: %s\n", SDL_GetError());
    } else {
        SDL_SetWindowMinimumSize(win, 640, 360);
        struct ui_split_view v = ui_split_view_at(0);
        struct ui_split_layout lo;
        bool quit = false, full = false;
        while (!quit) {
            int rw, rh;
            SDL_GetRendererOutputSize(r, &rw, &rh);
            ui_split_layout_compute(&lo, s, rw, rh);
            SDL_Event ev;
            int got = SDL_WaitEventTimeout(&ev, v.playing ? 15 : 500);
            while (got) {
                ui_event_to_pixels(win, r, &ev);
                enum ui_split_action a = ui_split_event(&v, s, &lo, &ev, SDL_GetTicks64());
                if (a == UI_SPLIT_QUIT) quit = true;
                if (a == UI_SPLIT_FULLSCREEN) {
                    full = !full;
                    SDL_SetWindowFullscreen(win, full ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
                }
                got = SDL_PollEvent(&ev);
            }
            ui_split_tick(&v, s, SDL_GetTicks64());
            ui_split_draw_frame(d, &lo, s, &v);
            SDL_RenderPresent(r);
        }
        rc = 0;
    }
    ui_split_draw_free(d);
    if (r) SDL_DestroyRenderer(r);
    if (win) SDL_DestroyWindow(win);
    TTF_Quit();
    SDL_Quit();
    ui_split_free(s);
    return rc;
}

/* ---- snapshots ------------------------------------------------------------------------ */

int ui_split_snapshot(const struct sim_compare *c, const char *path, size_t point, int w, int h,
                      const char *argv0, FILE *out, FILE *err)
{
    char why[256], assets[UI_PATH_MAX];
    if (!ui_find_assets(argv0, assets, sizeof assets)) {
        fputs("mailsim compare: cannot find assets/fonts (set MAILSIM_ASSETS to the assets "
              "folder)\n", err);
        return 1;
    }
    struct ui_split *s = ui_split_new(c, why, sizeof why);
    if (!s) {
        fprintf(err, "mailsim compare: %s\n", why);
        return 1;
    }
    if (point >= ui_split_points(s)) point = last_point(s);
    /* no display: the dummy video driver and a surface */
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    if (SDL_Init(0) != 0 || TTF_Init() != 0) {
        fprintf(err, "mailsim compare: SDL cannot start: %s\n", SDL_GetError());
        SDL_Quit();
        ui_split_free(s);
        return 1;
    }
    IMG_Init(IMG_INIT_PNG);
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    struct ui_split_draw *d = r ? ui_split_draw_new(r, assets) : NULL;
    int rc = 1;
    if (!d) {
        fprintf(err, "mailsim compare: cannot draw a %dx%d frame: %s\n", w, h, SDL_GetError());
    } else {
        struct ui_split_layout lo;
        ui_split_layout_compute(&lo, s, w, h);
        struct ui_split_view v = ui_split_view_at(point);
        ui_split_draw_frame(d, &lo, s, &v);
        SDL_RenderPresent(r);
        if (IMG_SavePNG(surf, path) != 0) {
            fprintf(err, "mailsim compare: cannot write %s: %s\n", path, SDL_GetError());
        } else {
            char when[48];
            fprintf(out, "%s: the split view at time point %zu of %zu (%s), %dx%d\n", path,
                    point, ui_split_points(s), ui_split_when(s, point, when, sizeof when), w, h);
            rc = 0;
        }
    }
    ui_split_draw_free(d);
    if (r) SDL_DestroyRenderer(r);
    if (surf) SDL_FreeSurface(surf);
    IMG_Quit();
    TTF_Quit();
    SDL_Quit();
    ui_split_free(s);
    return rc;
}
