/* The window's event loop: keys, clicks, playing, animation. Drawing is
 * ui_draw's; what is drawn is a function of (lesson, step, view). */
#include "render/ui_window.h"

#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "render/run.h"
#include "render/ui_draw.h"
#include "render/ui_layout.h"
#include "render/ui_lesson.h"
#include "render/ui_state.h"

bool ui_display_available(void)
{
    const char *x = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wl && *wl);
}

/* One line, then the transcript: the lesson is still shown, as text. */
static int fall_back(const char *why, const char *lesson, const char *argv0, FILE *out,
                     FILE *err)
{
    fprintf(err, "mailsim: %s: playing the text transcript instead\n", why);
    return ui_run_lesson(lesson, false, argv0, out, err);
}

struct win {
    SDL_Window   *window;
    SDL_Renderer *r;
    struct ui_draw *draw;
    const char   *argv0;
    char          names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    size_t        nnames;
    struct ui_lesson *lesson;
    struct ui_state   state;
    struct ui_layout  layout;
    struct ui_view    view;
    size_t        step;
    Uint64        anim_start;  /* when the current packet left */
    Uint64        next_play;   /* when the player moves on */
    bool          fullscreen;
    bool          quit;
};

static Uint64 anim_ms(const struct win *w) { return (Uint64)(UI_ANIM_MS / w->view.speed); }

static void go_to(struct win *w, size_t step, bool animate)
{
    if (w->lesson->nsteps == 0) return;
    if (step >= w->lesson->nsteps) step = w->lesson->nsteps - 1;
    w->step = step;
    w->view.packet_detail = false;
    w->anim_start = SDL_GetTicks64();
    w->view.progress = animate ? 0.0 : 1.0;
}

static bool load(struct win *w, const char *name, FILE *err)
{
    struct ui_lesson *l = ui_lesson_load(name, w->argv0, err);
    if (!l) return false;
    ui_lesson_free(w->lesson);
    w->lesson = l;
    ui_state_init(&w->state, l);
    w->view.selected_host = -1;
    w->view.packet_detail = false;
    w->view.playing = false;
    w->view.lesson_index = 0;
    for (size_t i = 0; i < w->nnames; i++)
        if (strcmp(w->names[i], l->name) == 0) w->view.lesson_index = i;
    w->view.nlessons = w->nnames ? w->nnames : 1;
    char title[256];
    snprintf(title, sizeof title, "mailsim: %s", l->title);
    SDL_SetWindowTitle(w->window, title);
    go_to(w, 0, false);
    return true;
}

static void next_lesson(struct win *w, int dir)
{
    if (w->nnames < 2) return;
    size_t i = (w->view.lesson_index + w->nnames + (size_t)(dir > 0 ? 1 : w->nnames - 1)) % w->nnames;
    load(w, w->names[i], stderr);
}

static void key(struct win *w, const SDL_KeyboardEvent *k)
{
    SDL_Keycode c = k->keysym.sym;
    bool shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (w->view.help && c != SDLK_LSHIFT && c != SDLK_RSHIFT) { /* any key closes the keys */
        w->view.help = false;
        return;
    }
    switch (c) {
    case SDLK_SPACE:
        w->view.playing = !w->view.playing;
        w->next_play = SDL_GetTicks64();
        break;
    case SDLK_RIGHT: case SDLK_n:
        w->view.playing = false;
        go_to(w, ui_state_next_exchange(w->lesson, w->step), true);
        break;
    case SDLK_LEFT: case SDLK_p:
        w->view.playing = false;
        go_to(w, ui_state_prev_exchange(w->lesson, w->step), false);
        break;
    case SDLK_UP:
        if (w->view.speed < UI_SPEED_MAX) w->view.speed *= 2;
        break;
    case SDLK_DOWN:
        if (w->view.speed > UI_SPEED_MIN) w->view.speed /= 2;
        break;
    case SDLK_HOME: go_to(w, 0, false); break;
    case SDLK_END: go_to(w, w->lesson->nsteps ? w->lesson->nsteps - 1 : 0, false); break;
    case SDLK_TAB: next_lesson(w, shift ? -1 : 1); break;
    case SDLK_f:
        w->fullscreen = !w->fullscreen;
        SDL_SetWindowFullscreen(w->window, w->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        break;
    case SDLK_e: w->view.eavesdrop = !w->view.eavesdrop; break;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS:
        if (w->view.text_scale * 1.1 <= UI_TEXT_SCALE_MAX) w->view.text_scale *= 1.1;
        break;
    case SDLK_MINUS: case SDLK_KP_MINUS:
        if (w->view.text_scale / 1.1 >= UI_TEXT_SCALE_MIN) w->view.text_scale /= 1.1;
        break;
    case SDLK_h: w->view.help = true; break;
    case SDLK_SLASH:
        if (shift) w->view.help = true;
        break;
    case SDLK_ESCAPE: case SDLK_q:
        if (w->view.packet_detail || w->view.selected_host >= 0) {
            w->view.packet_detail = false;
            w->view.selected_host = -1;
        } else {
            w->quit = true;
        }
        break;
    default: break;
    }
}

/* Mouse coordinates are in window points; the layout is in renderer pixels
 * (they differ on high-density screens). */
static void click(struct win *w, int x, int y)
{
    int ww, wh, rw, rh;
    SDL_GetWindowSize(w->window, &ww, &wh);
    SDL_GetRendererOutputSize(w->r, &rw, &rh);
    if (ww > 0 && wh > 0) {
        x = x * rw / ww;
        y = y * rh / wh;
    }
    if (w->view.help || w->view.packet_detail || w->view.selected_host >= 0) {
        w->view.help = w->view.packet_detail = false;
        w->view.selected_host = -1;
        return;
    }
    const struct ui_layout *lo = &w->layout;
    if (ui_rect_contains(lo->area[UI_AREA_TIMELINE], x, y) && w->lesson->nsteps) {
        w->view.playing = false;
        go_to(w, ui_layout_timeline_step(lo, w->lesson->nsteps, x), false);
        return;
    }
    struct ui_rect pk = ui_draw_packet_rect(w->draw, lo, &w->state, &w->view, NULL);
    if (pk.w && ui_rect_contains(pk, x, y)) {
        w->view.packet_detail = true;
        return;
    }
    w->view.selected_host = ui_layout_host_at(lo, x, y);
}

static void frame(struct win *w)
{
    int rw, rh;
    SDL_GetRendererOutputSize(w->r, &rw, &rh);
    ui_layout_compute(&w->layout, w->lesson, rw, rh, w->view.text_scale);
    ui_state_at(&w->state, w->step);
    ui_draw_frame(w->draw, &w->layout, &w->state, &w->view);
    SDL_RenderPresent(w->r);
}

static void loop(struct win *w)
{
    while (!w->quit) {
        Uint64 now = SDL_GetTicks64();
        bool busy = w->view.playing || w->view.progress < 1.0;
        SDL_Event ev;
        /* Asleep until something happens, unless something moves. */
        int got = busy ? SDL_WaitEventTimeout(&ev, 15) : SDL_WaitEventTimeout(&ev, 500);
        while (got) {
            switch (ev.type) {
            case SDL_QUIT: w->quit = true; break;
            case SDL_KEYDOWN: key(w, &ev.key); break;
            case SDL_MOUSEBUTTONDOWN:
                if (ev.button.button == SDL_BUTTON_LEFT) click(w, ev.button.x, ev.button.y);
                break;
            default: break;
            }
            got = SDL_PollEvent(&ev);
        }
        now = SDL_GetTicks64();
        if (w->view.playing && now >= w->next_play) {
            size_t next = ui_state_next_exchange(w->lesson, w->step);
            if (next == w->step) {
                w->view.playing = false;
            } else {
                go_to(w, next, true);
                w->next_play = now + (Uint64)(UI_PLAY_MS / w->view.speed);
            }
        }
        Uint64 dur = anim_ms(w);
        w->view.progress = dur == 0 ? 1.0 : (double)(now - w->anim_start) / (double)dur;
        if (w->view.progress > 1.0) w->view.progress = 1.0;
        frame(w);
    }
}

int ui_window_run(const char *lesson, const char *argv0, FILE *out, FILE *err)
{
    if (!ui_display_available())
        return fall_back("no display (neither DISPLAY nor WAYLAND_DISPLAY is set)", lesson,
                         argv0, out, err);
    char assets[UI_PATH_MAX];
    if (!ui_find_assets(argv0, assets, sizeof assets))
        return fall_back("cannot find assets/fonts for the window", lesson, argv0, out, err);
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        char why[512];
        snprintf(why, sizeof why, "no window: %s", SDL_GetError());
        SDL_Quit();
        return fall_back(why, lesson, argv0, out, err);
    }
    if (TTF_Init() != 0) {
        SDL_Quit();
        return fall_back("no fonts: SDL_ttf cannot start", lesson, argv0, out, err);
    }
    /* The software renderer draws what `mailsim snapshot` saves, pixel for
     * pixel; SDL_RENDER_DRIVER in the environment still wins. */
    SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
    struct win *w = calloc(1, sizeof *w);
    int rc = UI_RUN_FAILED;
    if (!w) goto done;
    w->argv0 = argv0;
    w->view = ui_view_default();
    w->nnames = ui_lesson_list(argv0, w->names, UI_LESSONS_MAX);
    SDL_Rect usable;
    int ww = UI_BASE_W, wh = UI_BASE_H;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0 && usable.w > 0 && usable.h > 0) {
        if (ww > usable.w) ww = usable.w;
        if (wh > usable.h) wh = usable.h;
    }
    w->window = SDL_CreateWindow("mailsim", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, ww,
                                 wh, SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    w->r = w->window ? SDL_CreateRenderer(w->window, -1, 0) : NULL;
    w->draw = w->r ? ui_draw_new(w->r, assets) : NULL;
    if (!w->draw) {
        char why[512];
        snprintf(why, sizeof why, "no window: %s", SDL_GetError());
        ui_draw_free(w->draw);
        if (w->r) SDL_DestroyRenderer(w->r);
        if (w->window) SDL_DestroyWindow(w->window);
        free(w);
        TTF_Quit();
        SDL_Quit();
        return fall_back(why, lesson, argv0, out, err);
    }
    SDL_SetWindowMinimumSize(w->window, 640, 360);
    if (load(w, lesson, err)) {
        loop(w);
        rc = UI_RUN_OK;
    } else {
        rc = UI_RUN_USAGE;
    }
    ui_lesson_free(w->lesson);
    ui_draw_free(w->draw);
    SDL_DestroyRenderer(w->r);
    SDL_DestroyWindow(w->window);
done:
    free(w);
    TTF_Quit();
    SDL_Quit();
    return rc;
}

int ui_view_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    const char *lesson = NULL;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(err, "mailsim view: unknown option '%s'\nusage: mailsim view [LESSON]\n",
                    argv[i]);
            return UI_RUN_USAGE;
        }
        if (lesson) {
            fprintf(err, "mailsim view: one lesson at a time ('%s' and '%s')\n"
                         "usage: mailsim view [LESSON]\n", lesson, argv[i]);
            return UI_RUN_USAGE;
        }
        lesson = argv[i];
    }
    return ui_window_run(lesson, argv0, out, err);
}
