/* The window's event loop: SDL's events go to the player (ui_player.h:
 * keys, clicks, playing, the quiz), its frames to the drawer (ui_draw.h);
 * what is drawn is a function of (lesson, step, view). */
#include "render/ui_window.h"

#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "render/run.h"
#include "render/ui_draw.h"
#include "render/ui_layout.h"
#include "render/ui_lesson.h"
#include "render/ui_pixels.h"
#include "render/ui_player.h"

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
    struct ui_player *player;
    bool          fullscreen;
    bool          quit;
};

static void set_title(struct win *w)
{
    char title[256];
    snprintf(title, sizeof title, "mailsim: %s", w->player->lesson->title);
    SDL_SetWindowTitle(w->window, title);
}

static void handle(struct win *w, SDL_Event *ev)
{
    ui_event_to_pixels(w->window, w->r, ev);
    switch (ui_player_event(w->player, ev, w->draw, SDL_GetTicks64())) {
    case UI_PLAYER_QUIT: w->quit = true; break;
    case UI_PLAYER_FULLSCREEN:
        w->fullscreen = !w->fullscreen;
        SDL_SetWindowFullscreen(w->window, w->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        break;
    case UI_PLAYER_LOADED: set_title(w); break;
    case UI_PLAYER_NONE:
    case UI_PLAYER_ACTION_COUNT: break;
    }
}

static void frame(struct win *w)
{
    int rw, rh;
    SDL_GetRendererOutputSize(w->r, &rw, &rh);
    ui_player_frame(w->player, rw, rh);
    ui_draw_frame(w->draw, &w->player->layout, &w->player->state, &w->player->view);
    SDL_RenderPresent(w->r);
}

static void loop(struct win *w)
{
    while (!w->quit) {
        const struct ui_view *v = &w->player->view;
        bool busy = v->playing || v->progress < 1.0;
        SDL_Event ev;
        /* Asleep until something happens, unless something moves. */
        int got = busy ? SDL_WaitEventTimeout(&ev, 15) : SDL_WaitEventTimeout(&ev, 500);
        while (got) {
            handle(w, &ev);
            got = SDL_PollEvent(&ev);
        }
        ui_player_tick(w->player, SDL_GetTicks64());
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
    w->player = ui_player_new(argv0);
    if (!w->player) goto done;
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
        ui_player_free(w->player);
        free(w);
        TTF_Quit();
        SDL_Quit();
        return fall_back(why, lesson, argv0, out, err);
    }
    SDL_SetWindowMinimumSize(w->window, 640, 360);
    if (ui_player_load(w->player, lesson, SDL_GetTicks64(), err)) {
        set_title(w);
        loop(w);
        rc = UI_RUN_OK;
    } else {
        rc = UI_RUN_USAGE;
    }
    ui_draw_free(w->draw);
    SDL_DestroyRenderer(w->r);
    SDL_DestroyWindow(w->window);
done:
    if (w) ui_player_free(w->player);
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
