/* The live window of `mailsim serve`; see ui_live.h. */
#include "render/ui_live.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_ttf.h>

#include "render/transcript.h"
#include "render/ui_pixels.h"
#include "render/ui_window.h"

struct ui_live {
    struct sim_world *world;
    struct sim_bridge *bridge;
    struct ui_player *player; /* owns the live lesson (not the world) */
    char title[256];
    char status[UI_LIVE_STATUS_MAX];
};

struct ui_live *ui_live_new(struct sim_world *w, const struct sim_scenario *s,
                            struct sim_bridge *b, const char *argv0, uint64_t now)
{
    struct ui_live *lv = calloc(1, sizeof *lv);
    if (!lv) return NULL;
    lv->world = w;
    lv->bridge = b;
    snprintf(lv->title, sizeof lv->title, "LIVE: %s (real clients)",
             s->title ? s->title : "mailsim serve");
    lv->player = ui_player_new(argv0);
    struct ui_lesson *l = lv->player ? ui_lesson_of_world(w, s, lv->title) : NULL;
    if (!l) {
        ui_live_free(lv);
        return NULL;
    }
    /* The lesson's own story (its senders, devices and timeline) is left
     * out of serve: the narration says what the window shows instead. */
    l->summary = "Live: mail programs on this machine are talking to the lesson's servers. "
                 "Every line here is real traffic, answered by the same protocol code the "
                 "lessons run. Space pauses, Left and Right step through what happened.";
    struct ui_player *p = lv->player;
    p->lesson = l;
    p->nnames = 0; /* Tab has nothing to cycle to */
    ui_state_init(&p->state, l);
    ui_asker_init(&p->ask, l); /* no scenario: no questions */
    p->ask.enabled = false;
    p->view.ask = &p->ask;
    p->view.selected_host = -1;
    p->view.nlessons = 1;
    p->view.live = lv->status;
    /* Following from the start: the first steps animate as they come. */
    p->step = 0;
    p->view.playing = true;
    p->next_play = now;
    p->anim_start = now;
    ui_live_status(lv, lv->status, sizeof lv->status);
    return lv;
}

void ui_live_free(struct ui_live *lv)
{
    if (!lv) return;
    ui_player_free(lv->player);
    free(lv);
}

struct ui_player *ui_live_player(struct ui_live *lv) { return lv->player; }

size_t ui_live_newer(const struct ui_live *lv)
{
    const struct ui_player *p = lv->player;
    const struct ui_lesson *l = p->lesson;
    size_t newer = 0;
    /* what the player would step to: every kind but STATE (ui_state.h) */
    for (size_t s = p->step + 1; s < l->nsteps; s++)
        newer += sim_trace_get(l->trace, s)->kind != SIM_TR_STATE;
    return newer;
}

char *ui_live_status(const struct ui_live *lv, char *out, size_t cap)
{
    struct sim_bridge_stats st;
    sim_bridge_stats(lv->bridge, &st);
    size_t newer = ui_live_newer(lv);
    char more[48] = "";
    if (!lv->player->view.playing && newer)
        snprintf(more, sizeof more, "   %zu newer step%s", newer, newer == 1 ? "" : "s");
    snprintf(out, cap, "LIVE   %zu real client%s connected%s", st.open, st.open == 1 ? "" : "s",
             more);
    return out;
}

/* Takes in what the world did since the last turn. */
static void take_in(struct ui_live *lv)
{
    struct ui_player *p = lv->player;
    struct ui_lesson *l = p->lesson;
    const struct sim_trace_event *first = l->nsteps ? sim_trace_get(l->trace, 0) : NULL;
    ui_lesson_grow(l);
    /* The trace keeps its events in one array that moves as it grows: the
     * state's pointers into it (the event, the latest change) would be
     * stale, so it replays from the start. The array doubles, so that
     * happens a few dozen times in a long session. */
    if (first && sim_trace_get(l->trace, 0) != first) p->state.valid = false;
}

/* Following: the player's playing stops at the last step; live, it waits
 * there for the next one. Exchanges that arrived together are animated
 * one after the other, each as soon as the previous packet has crossed. */
static void follow(struct ui_live *lv, bool was_playing, uint64_t now)
{
    struct ui_player *p = lv->player;
    struct ui_lesson *l = p->lesson;
    if (!was_playing || ui_asker_showing(&p->ask)) return;
    if (!p->view.playing) {
        p->view.playing = true;
        p->next_play = now;
    }
    uint64_t anim = (uint64_t)(UI_ANIM_MS / p->view.speed);
    if (p->next_play > p->anim_start + anim) p->next_play = p->anim_start + anim;
    if (l->nsteps && l->nsteps - 1 - p->step > UI_LIVE_LAG_MAX) {
        p->step = l->nsteps - 1 - UI_LIVE_LAG_MAX;
        p->next_play = now;
    }
}

int ui_live_step(struct ui_live *lv, int max_wait_ms, uint64_t now)
{
    int rc = sim_bridge_step(lv->bridge, max_wait_ms);
    take_in(lv);
    bool playing = lv->player->view.playing;
    ui_player_tick(lv->player, now);
    follow(lv, playing, now);
    ui_live_status(lv, lv->status, sizeof lv->status);
    return rc;
}

enum ui_player_action ui_live_event(struct ui_live *lv, const SDL_Event *ev, struct ui_draw *d,
                                    uint64_t now)
{
    /* Not a lesson: no other lesson to go to, no quiz to switch on. */
    if (ev->type == SDL_KEYDOWN && (ev->key.keysym.sym == SDLK_TAB || ev->key.keysym.sym == SDLK_q))
        return UI_PLAYER_NONE;
    enum ui_player_action a = ui_player_event(lv->player, ev, d, now);
    ui_live_status(lv, lv->status, sizeof lv->status);
    return a;
}

void ui_live_frame(struct ui_live *lv, int w, int h)
{
    lv->player->view.live = lv->status;
    ui_player_frame(lv->player, w, h);
}

/* ---- the window ---------------------------------------------------------- */

struct live_win {
    SDL_Window *window;
    SDL_Renderer *r;
    struct ui_draw *draw;
    bool fullscreen, quit;
};

static void live_handle(struct ui_live *lv, struct live_win *w, SDL_Event *ev)
{
    ui_event_to_pixels(w->window, w->r, ev);
    switch (ui_live_event(lv, ev, w->draw, SDL_GetTicks64())) {
    case UI_PLAYER_QUIT: w->quit = true; break;
    case UI_PLAYER_FULLSCREEN:
        w->fullscreen = !w->fullscreen;
        SDL_SetWindowFullscreen(w->window, w->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
        break;
    case UI_PLAYER_NONE:
    case UI_PLAYER_LOADED:
    case UI_PLAYER_ACTION_COUNT: break;
    }
}

static int live_loop(struct ui_live *lv, struct live_win *w, volatile sig_atomic_t *stop,
                     FILE *transcript, size_t *shown)
{
    const struct sim_trace *tr = lv->player->lesson->trace;
    while (!w->quit && !*stop) {
        const struct ui_view *v = &lv->player->view;
        bool busy = v->progress < 1.0 || (v->playing && ui_live_newer(lv));
        /* The bridge's poll is the loop's sleep: real clients are served
         * at once, and the window's events wait at most one turn. */
        if (ui_live_step(lv, busy ? UI_LIVE_BUSY_WAIT_MS : UI_LIVE_IDLE_WAIT_MS,
                         SDL_GetTicks64()) != 0)
            return -1;
        if (transcript) {
            for (; *shown < sim_trace_len(tr); (*shown)++)
                ui_transcript_line(transcript, sim_trace_get(tr, *shown));
            fflush(transcript);
        }
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) live_handle(lv, w, &ev);
        int rw, rh;
        SDL_GetRendererOutputSize(w->r, &rw, &rh);
        ui_live_frame(lv, rw, rh);
        ui_draw_frame(w->draw, &lv->player->layout, &lv->player->state, &lv->player->view);
        SDL_RenderPresent(w->r);
    }
    return 0;
}

int ui_live_window_run(struct ui_live *lv, const char *argv0, volatile sig_atomic_t *stop,
                       FILE *transcript, size_t *shown, FILE *err)
{
    char assets[UI_PATH_MAX];
    if (!ui_find_assets(argv0, assets, sizeof assets)) {
        fputs("mailsim serve: no live window: cannot find assets/fonts\n", err);
        return 1;
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(err, "mailsim serve: no live window: %s\n", SDL_GetError());
        SDL_Quit();
        return 1;
    }
    if (TTF_Init() != 0) {
        fputs("mailsim serve: no live window: SDL_ttf cannot start\n", err);
        SDL_Quit();
        return 1;
    }
    /* As ui_window.c: the software renderer, what snapshots draw. */
    SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
    struct live_win w;
    memset(&w, 0, sizeof w);
    SDL_Rect usable;
    int ww = UI_BASE_W, wh = UI_BASE_H;
    if (SDL_GetDisplayUsableBounds(0, &usable) == 0 && usable.w > 0 && usable.h > 0) {
        if (ww > usable.w) ww = usable.w;
        if (wh > usable.h) wh = usable.h;
    }
    w.window = SDL_CreateWindow(lv->title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, ww, wh,
                                SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    w.r = w.window ? SDL_CreateRenderer(w.window, -1, 0) : NULL;
    w.draw = w.r ? ui_draw_new(w.r, assets) : NULL;
    int rc = 1;
    if (!w.draw) {
        fprintf(err, "mailsim serve: no live window: %s\n", SDL_GetError());
    } else {
        SDL_SetWindowMinimumSize(w.window, 640, 360);
        rc = live_loop(lv, &w, stop, transcript, shown);
    }
    ui_draw_free(w.draw);
    if (w.r) SDL_DestroyRenderer(w.r);
    if (w.window) SDL_DestroyWindow(w.window);
    TTF_Quit();
    SDL_Quit();
    return rc;
}
