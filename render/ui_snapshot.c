/* Headless frames: a surface, SDL's software renderer, a PNG. */
#include "render/ui_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

struct ui_canvas {
    const struct ui_lesson *lesson;
    int           w, h;
    SDL_Surface  *surf;
    SDL_Renderer *r;
    struct ui_draw *draw;
    struct ui_layout layout;
    struct ui_state  state;
    uint32_t     *pixels;   /* read back after a draw */
    bool          pixels_ok;
};

int ui_headless_init(FILE *err)
{
    /* No display is needed: the canvas is a surface. The dummy driver keeps
     * SDL from looking for one. */
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    if (SDL_Init(0) != 0 || TTF_Init() != 0) {
        fprintf(err, "mailsim: SDL cannot start: %s\n", SDL_GetError());
        return -1;
    }
    IMG_Init(IMG_INIT_PNG);
    return 0;
}

void ui_headless_quit(void)
{
    IMG_Quit();
    TTF_Quit();
    SDL_Quit();
}

struct ui_canvas *ui_canvas_new(const struct ui_lesson *l, int w, int h, const char *assets_dir)
{
    if (w < 1 || h < 1 || w > UI_SNAPSHOT_MAX_W || h > UI_SNAPSHOT_MAX_H) return NULL;
    struct ui_canvas *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->lesson = l;
    c->w = w;
    c->h = h;
    c->surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGB888);
    c->r = c->surf ? SDL_CreateSoftwareRenderer(c->surf) : NULL;
    c->draw = c->r ? ui_draw_new(c->r, assets_dir) : NULL;
    c->pixels = malloc((size_t)w * (size_t)h * sizeof *c->pixels);
    if (!c->draw || !c->pixels) {
        ui_canvas_free(c);
        return NULL;
    }
    ui_state_init(&c->state, l);
    return c;
}

void ui_canvas_free(struct ui_canvas *c)
{
    if (!c) return;
    ui_draw_free(c->draw);
    if (c->r) SDL_DestroyRenderer(c->r);
    if (c->surf) SDL_FreeSurface(c->surf);
    free(c->pixels);
    free(c);
}

void ui_canvas_draw(struct ui_canvas *c, size_t step, const struct ui_view *v)
{
    struct ui_view def = ui_view_default();
    if (!v) v = &def;
    ui_layout_compute(&c->layout, c->lesson, c->w, c->h, v->text_scale);
    ui_state_at(&c->state, step);
    ui_draw_frame(c->draw, &c->layout, &c->state, v);
    SDL_RenderPresent(c->r);
    c->pixels_ok = false;
}

const struct ui_layout *ui_canvas_layout(const struct ui_canvas *c) { return &c->layout; }
const struct ui_state *ui_canvas_state(const struct ui_canvas *c) { return &c->state; }
struct ui_draw *ui_canvas_drawer(struct ui_canvas *c) { return c->draw; }

const uint32_t *ui_canvas_pixels(struct ui_canvas *c)
{
    if (!c->pixels_ok) {
        if (SDL_RenderReadPixels(c->r, NULL, SDL_PIXELFORMAT_RGB888, c->pixels,
                                 c->w * (int)sizeof *c->pixels) != 0)
            return NULL;
        for (size_t i = 0; i < (size_t)c->w * (size_t)c->h; i++) c->pixels[i] &= 0xFFFFFFu;
        c->pixels_ok = true;
    }
    return c->pixels;
}

uint32_t ui_canvas_pixel(struct ui_canvas *c, int x, int y)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return 0;
    const uint32_t *p = ui_canvas_pixels(c);
    return p ? p[(size_t)y * (size_t)c->w + (size_t)x] : 0;
}

int ui_canvas_save_png(struct ui_canvas *c, const char *path, FILE *err)
{
    const uint32_t *p = ui_canvas_pixels(c);
    SDL_Surface *s = p ? SDL_CreateRGBSurfaceWithFormatFrom((void *)p, c->w, c->h, 32,
                                                            c->w * 4, SDL_PIXELFORMAT_RGB888)
                       : NULL;
    if (!s || IMG_SavePNG(s, path) != 0) {
        fprintf(err, "mailsim: cannot write %s: %s\n", path, SDL_GetError());
        if (s) SDL_FreeSurface(s);
        return -1;
    }
    SDL_FreeSurface(s);
    return 0;
}

static int usage(FILE *err, const char *why, const char *arg)
{
    fprintf(err, "mailsim snapshot: %s%s%s%s\n"
                 "usage: mailsim snapshot [LESSON] --step N --out FILE.png [--size WxH] [--eavesdrop]\n"
                 "                        [--quiz [--answer X]]\n",
            why, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

static bool parse_size(const char *s, int *w, int *h)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X')) return false;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end) return false;
    if (a < 1 || b < 1 || a > UI_SNAPSHOT_MAX_W || b > UI_SNAPSHOT_MAX_H) return false;
    *w = (int)a;
    *h = (int)b;
    return true;
}

int ui_snapshot_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    const char *lesson = NULL, *path = NULL;
    long long step = -1;
    int w = UI_BASE_W, h = UI_BASE_H;
    bool eavesdrop = false, quiz = false;
    const char *answer = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--eavesdrop") == 0) {
            eavesdrop = true;
        } else if (strcmp(a, "--quiz") == 0) {
            quiz = true;
        } else if (strcmp(a, "--step") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--size") == 0 ||
                   strcmp(a, "--answer") == 0) {
            if (i + 1 >= argc) return usage(err, "missing value after", a);
            const char *v = argv[++i];
            if (strcmp(a, "--answer") == 0) {
                answer = v;
            } else if (strcmp(a, "--out") == 0) {
                path = v;
            } else if (strcmp(a, "--size") == 0) {
                if (!parse_size(v, &w, &h))
                    return usage(err, "--size wants WxH, each 1 to 7680x4320, not", v);
            } else {
                char *end;
                step = strtoll(v, &end, 10);
                if (end == v || *end || step < 0)
                    return usage(err, "--step wants a step number from 0, not", v);
            }
        } else if (a[0] == '-' && a[1]) {
            return usage(err, "unknown option", a);
        } else if (lesson) {
            return usage(err, "one lesson at a time, got another:", a);
        } else {
            lesson = a;
        }
    }
    if (step < 0) return usage(err, "--step N is required", NULL);
    if (!path) return usage(err, "--out FILE.png is required", NULL);
    if (answer && !quiz) return usage(err, "--answer goes with --quiz", NULL);
    char assets[UI_PATH_MAX];
    if (!ui_find_assets(argv0, assets, sizeof assets)) {
        fputs("mailsim: cannot find assets/fonts (set MAILSIM_ASSETS to the assets folder)\n",
              err);
        return 1;
    }
    struct ui_lesson *l = ui_lesson_load(lesson, argv0, err);
    if (!l) return 2;
    if (l->nsteps == 0 || (size_t)step >= l->nsteps) {
        fprintf(err, "mailsim snapshot: %s has steps 0 to %zu; there is no step %lld\n", l->name,
                l->nsteps ? l->nsteps - 1 : 0, step);
        ui_lesson_free(l);
        return 2;
    }
    /* --quiz: the question the window asks on arriving at the step (a
     * predict question at its pause point; at the end the first question),
     * answered with --answer when given */
    struct ui_asker *ask = NULL;
    if (quiz) {
        ask = malloc(sizeof *ask);
        if (!ask) {
            fputs("mailsim: out of memory\n", err);
            ui_lesson_free(l);
            return 1;
        }
        ui_asker_init(ask, l);
        if (!ui_asker_arrive(ask, (size_t)step,
                             ui_state_next_exchange(l, (size_t)step) == (size_t)step)) {
            fprintf(err, "mailsim snapshot: no question is asked at step %lld of %s; ", step,
                    l->name);
            if (ask->quiz.n == 0) {
                fputs("it has no questions\n", err);
            } else {
                fputs("the steps that ask are:", err);
                bool end = false;
                for (size_t i = 0; i < ask->quiz.n; i++) {
                    const struct ui_quiz_item *it = &ask->quiz.items[i];
                    if (it->q->kind == SIM_SCN_Q_PREDICT && it->found)
                        fprintf(err, " %zu", it->pause_step);
                    else
                        end = true;
                }
                if (end) fprintf(err, " %zu (the end)", l->nsteps - 1);
                fputc('\n', err);
            }
            free(ask);
            ui_lesson_free(l);
            return 2;
        }
        if (answer) {
            int o = ui_quiz_parse_answer(answer, ask->quiz.items[ask->item].q->noptions);
            if (o < 0 || ask->phase != UI_ASK_QUESTION) {
                fprintf(err, "mailsim snapshot: --answer wants one of the options' letters or "
                             "numbers, not '%s'\n", answer);
                free(ask);
                ui_lesson_free(l);
                return 2;
            }
            ui_asker_answer(ask, (size_t)o);
        }
    }
    int rc = 1;
    if (ui_headless_init(err) == 0) {
        struct ui_canvas *c = ui_canvas_new(l, w, h, assets);
        if (!c) {
            fprintf(err, "mailsim: cannot draw a %dx%d frame: %s\n", w, h, SDL_GetError());
        } else {
            struct ui_view v = ui_view_default();
            v.eavesdrop = eavesdrop;
            v.ask = ask;
            char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
            v.nlessons = ui_lesson_list(argv0, names, UI_LESSONS_MAX);
            for (size_t i = 0; i < v.nlessons; i++)
                if (strcmp(names[i], l->name) == 0) v.lesson_index = i;
            if (v.nlessons == 0) v.nlessons = 1;
            ui_canvas_draw(c, ask ? ui_asker_view_step(ask, (size_t)step) : (size_t)step, &v);
            if (ui_canvas_save_png(c, path, err) == 0) {
                fprintf(out, "%s: %s step %lld of %zu, %dx%d\n", path, l->name, step, l->nsteps,
                        w, h);
                rc = 0;
            }
            ui_canvas_free(c);
        }
        ui_headless_quit();
    }
    free(ask);
    ui_lesson_free(l);
    return rc;
}
