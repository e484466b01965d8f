/* The player: keys, clicks, playing and the quiz; see ui_player.h. */
#include "render/ui_player.h"

#include <stdlib.h>
#include <string.h>

#include "render/ui_window.h"

const char *const ui_player_action_names[UI_PLAYER_ACTION_COUNT] = {"none", "quit", "fullscreen",
                                                                     "loaded"};

struct ui_player *ui_player_new(const char *argv0)
{
    struct ui_player *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->argv0 = argv0;
    p->view = ui_view_default();
    p->nnames = ui_lesson_list(argv0, p->names, UI_LESSONS_MAX);
    return p;
}

void ui_player_free(struct ui_player *p)
{
    if (!p) return;
    ui_lesson_free(p->lesson);
    free(p);
}

static uint64_t anim_ms(const struct ui_player *p) { return (uint64_t)(UI_ANIM_MS / p->view.speed); }

bool ui_player_at_end(const struct ui_player *p, size_t step)
{
    return !p->lesson || ui_state_next_exchange(p->lesson, step) == step;
}

/* Goes to step; moving forward (Right, playing, End) may put up a question
 * due there, which stops the playing until it is answered. */
static void go_to(struct ui_player *p, size_t step, bool animate, bool forward, uint64_t now)
{
    if (p->lesson->nsteps == 0) return;
    if (step >= p->lesson->nsteps) step = p->lesson->nsteps - 1;
    p->step = step;
    p->view.packet_detail = false;
    p->anim_start = now;
    p->view.progress = animate ? 0.0 : 1.0;
    if (forward && ui_asker_arrive(&p->ask, step, ui_player_at_end(p, step))) {
        p->resume_play = p->view.playing;
        p->view.playing = false;
        p->view.selected_host = -1;
    }
}

bool ui_player_load(struct ui_player *p, const char *name, uint64_t now, FILE *err)
{
    struct ui_lesson *l = ui_lesson_load(name, p->argv0, err);
    if (!l) return false;
    ui_lesson_free(p->lesson);
    p->lesson = l;
    ui_state_init(&p->state, l);
    bool quiz_on = p->ask.quiz.n == 0 || p->ask.enabled; /* Q's choice holds across lessons */
    ui_asker_init(&p->ask, l);
    p->ask.enabled = quiz_on;
    p->view.ask = &p->ask;
    p->view.selected_host = -1;
    p->view.packet_detail = false;
    p->view.playing = false;
    p->resume_play = false;
    p->view.lesson_index = 0;
    for (size_t i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], l->name) == 0) p->view.lesson_index = i;
    p->view.nlessons = p->nnames ? p->nnames : 1;
    go_to(p, 0, false, false, now);
    return true;
}

static bool next_lesson(struct ui_player *p, int dir, uint64_t now)
{
    if (p->nnames < 2) return false;
    size_t n = p->nnames;
    size_t i = (p->view.lesson_index + (dir > 0 ? 1 : n - 1)) % n;
    return ui_player_load(p, p->names[i], now, stderr);
}

/* The option a key names while a question is up: A-F or 1-6, or -1. */
static int option_key(SDL_Keycode c)
{
    if (c >= SDLK_a && c <= SDLK_f) return (int)(c - SDLK_a);
    if (c >= SDLK_1 && c <= SDLK_6) return (int)(c - SDLK_1);
    if (c >= SDLK_KP_1 && c <= SDLK_KP_6) return (int)(c - SDLK_KP_1);
    return -1;
}

static bool is_enter(SDL_Keycode c)
{
    return c == SDLK_SPACE || c == SDLK_RETURN || c == SDLK_KP_ENTER;
}

/* After an answer (or the score): Space, Enter or a click goes on, and the
 * playing that the question stopped starts again. */
static void go_on(struct ui_player *p, uint64_t now)
{
    if (ui_asker_continue(&p->ask) && p->resume_play) {
        p->view.playing = true;
        p->next_play = now + (uint64_t)(UI_PLAY_MS / p->view.speed);
    }
    if (!ui_asker_showing(&p->ask)) p->resume_play = false;
}

/* Keys that leave a question where it is and do what they always do. */
static bool passes_quiz(SDL_Keycode c)
{
    return c == SDLK_q || c == SDLK_h || c == SDLK_SLASH || c == SDLK_UP || c == SDLK_DOWN ||
           c == SDLK_PLUS || c == SDLK_EQUALS || c == SDLK_KP_PLUS || c == SDLK_MINUS ||
           c == SDLK_KP_MINUS || c == SDLK_LSHIFT || c == SDLK_RSHIFT;
}

/* Keys that move through the run or the lessons: they close the question
 * (unanswered, it is asked again; forward keys wait for an answer, see
 * quiz_key) and then move. */
static bool moves(SDL_Keycode c)
{
    return c == SDLK_RIGHT || c == SDLK_LEFT || c == SDLK_n || c == SDLK_p || c == SDLK_HOME ||
           c == SDLK_END || c == SDLK_TAB;
}

/* Keys while the quiz's overlay is up. Returns true when the quiz took the
 * key; false when it is to do what it always does. */
static bool quiz_key(struct ui_player *p, SDL_Keycode c, uint64_t now)
{
    struct ui_asker *a = &p->ask;
    if (passes_quiz(c)) return false;
    /* forward past an unanswered question: only after an answer, Esc
     * (skip it for now) or Q (no quiz), so a burst of Right presses does
     * not run over it */
    if (a->phase == UI_ASK_QUESTION && (c == SDLK_RIGHT || c == SDLK_n || c == SDLK_END))
        return true;
    if (moves(c) || c == SDLK_ESCAPE) { /* Esc closes the question only */
        ui_asker_close(a);
        p->resume_play = false;
        return c == SDLK_ESCAPE;
    }
    int o = option_key(c);
    if (a->phase == UI_ASK_QUESTION && o >= 0)
        ui_asker_answer(a, (size_t)o); /* a letter past the last option: nothing */
    else if (a->phase != UI_ASK_QUESTION && is_enter(c))
        go_on(p, now);
    /* anything else waits: an answer first, or Space to go on */
    return true;
}

static enum ui_player_action key(struct ui_player *p, const SDL_KeyboardEvent *k, uint64_t now)
{
    SDL_Keycode c = k->keysym.sym;
    bool shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (p->view.help && c != SDLK_LSHIFT && c != SDLK_RSHIFT) { /* any key closes the keys */
        p->view.help = false;
        return UI_PLAYER_NONE;
    }
    if (ui_asker_showing(&p->ask) && quiz_key(p, c, now)) return UI_PLAYER_NONE;
    switch (c) {
    case SDLK_SPACE:
        p->view.playing = !p->view.playing;
        p->next_play = now;
        break;
    case SDLK_RIGHT: case SDLK_n:
        p->view.playing = false;
        go_to(p, ui_state_next_exchange(p->lesson, p->step), true, true, now);
        break;
    case SDLK_LEFT: case SDLK_p:
        p->view.playing = false;
        go_to(p, ui_state_prev_exchange(p->lesson, p->step), false, false, now);
        break;
    case SDLK_UP:
        if (p->view.speed < UI_SPEED_MAX) p->view.speed *= 2;
        break;
    case SDLK_DOWN:
        if (p->view.speed > UI_SPEED_MIN) p->view.speed /= 2;
        break;
    case SDLK_HOME: go_to(p, 0, false, false, now); break;
    case SDLK_END:
        go_to(p, p->lesson->nsteps ? p->lesson->nsteps - 1 : 0, false, true, now);
        break;
    case SDLK_TAB: return next_lesson(p, shift ? -1 : 1, now) ? UI_PLAYER_LOADED : UI_PLAYER_NONE;
    case SDLK_f: return UI_PLAYER_FULLSCREEN;
    case SDLK_e: p->view.eavesdrop = !p->view.eavesdrop; break;
    case SDLK_q:
        ui_asker_toggle(&p->ask);
        p->resume_play = false;
        if (p->ask.enabled && ui_asker_arrive(&p->ask, p->step, ui_player_at_end(p, p->step)))
            p->view.playing = false;
        break;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS:
        if (p->view.text_scale * 1.1 <= UI_TEXT_SCALE_MAX) p->view.text_scale *= 1.1;
        break;
    case SDLK_MINUS: case SDLK_KP_MINUS:
        if (p->view.text_scale / 1.1 >= UI_TEXT_SCALE_MIN) p->view.text_scale /= 1.1;
        break;
    case SDLK_h: p->view.help = true; break;
    case SDLK_SLASH:
        if (shift) p->view.help = true;
        break;
    case SDLK_ESCAPE:
        if (p->view.packet_detail || p->view.selected_host >= 0) {
            p->view.packet_detail = false;
            p->view.selected_host = -1;
        } else {
            return UI_PLAYER_QUIT;
        }
        break;
    default: break;
    }
    return UI_PLAYER_NONE;
}

static void click(struct ui_player *p, int x, int y, struct ui_draw *d, uint64_t now)
{
    if (p->view.help) {
        p->view.help = false;
        return;
    }
    if (ui_asker_showing(&p->ask)) {
        if (p->ask.phase == UI_ASK_QUESTION) {
            struct ui_ask_layout al;
            ui_ask_layout(&al, &p->layout, p->ask.quiz.items[p->ask.item].q->noptions);
            int o = ui_ask_option_at(&al, x, y);
            if (o >= 0) ui_asker_answer(&p->ask, (size_t)o);
        } else {
            go_on(p, now);
        }
        return;
    }
    if (p->view.packet_detail || p->view.selected_host >= 0) {
        p->view.packet_detail = false;
        p->view.selected_host = -1;
        return;
    }
    const struct ui_layout *lo = &p->layout;
    if (ui_rect_contains(lo->area[UI_AREA_TIMELINE], x, y) && p->lesson->nsteps) {
        p->view.playing = false;
        go_to(p, ui_layout_timeline_step(lo, p->lesson->nsteps, x), false, false, now);
        return;
    }
    struct ui_rect pk = ui_draw_packet_rect(d, lo, &p->state, &p->view, NULL);
    if (pk.w && ui_rect_contains(pk, x, y)) {
        p->view.packet_detail = true;
        return;
    }
    p->view.selected_host = ui_layout_host_at(lo, x, y);
}

enum ui_player_action ui_player_event(struct ui_player *p, const SDL_Event *ev,
                                      struct ui_draw *d, uint64_t now)
{
    if (!p->lesson) return ev->type == SDL_QUIT ? UI_PLAYER_QUIT : UI_PLAYER_NONE;
    switch (ev->type) {
    case SDL_QUIT: return UI_PLAYER_QUIT;
    case SDL_KEYDOWN: return key(p, &ev->key, now);
    case SDL_MOUSEBUTTONDOWN:
        if (ev->button.button == SDL_BUTTON_LEFT) click(p, ev->button.x, ev->button.y, d, now);
        return UI_PLAYER_NONE;
    default: return UI_PLAYER_NONE;
    }
}

void ui_player_tick(struct ui_player *p, uint64_t now)
{
    if (!p->lesson) return;
    if (p->view.playing && now >= p->next_play) {
        size_t next = ui_state_next_exchange(p->lesson, p->step);
        if (next == p->step) {
            p->view.playing = false;
        } else {
            p->next_play = now + (uint64_t)(UI_PLAY_MS / p->view.speed);
            go_to(p, next, true, true, now);
        }
    }
    uint64_t dur = anim_ms(p);
    p->view.progress = dur == 0 || now < p->anim_start
                           ? 1.0
                           : (double)(now - p->anim_start) / (double)dur;
    if (p->view.progress > 1.0) p->view.progress = 1.0;
}

void ui_player_frame(struct ui_player *p, int w, int h)
{
    if (!p->lesson) return;
    ui_layout_compute(&p->layout, p->lesson, w, h, p->view.text_scale);
    ui_state_at(&p->state, ui_asker_view_step(&p->ask, p->step));
}
