/* The quiz in the window, headless: the question's overlay is drawn at a
 * predict question's pause step and not one step before; the player's
 * input handler, fed synthetic SDL events with no display, answers by key
 * and by click (the option under the click is the layout's), keeps the
 * score, goes on with Space, asks again only what is unanswered, asks the
 * rest at the end and then shows the score; Q turns the quiz off; Tab and
 * Shift-Tab move between the lessons; `snapshot --quiz` draws a question. */
#include "tests/testkit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <SDL.h>

#include "assets/theme.h"
#include "render/ui_asker.h"
#include "render/ui_player.h"
#include "render/ui_snapshot.h"
#include "tests/ui_headless.h"

#define W 1920
#define H 1080

static struct ui_player *player(const char *lesson)
{
    struct ui_player *p = ui_player_new("tests");
    assert_non_null(p);
    assert_true(ui_player_load(p, lesson, 0, stderr));
    ui_player_frame(p, W, H);
    return p;
}

static enum ui_player_action press(struct ui_player *p, SDL_Keycode k, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    e.key.keysym.mod = mod;
    enum ui_player_action a = ui_player_event(p, &e, NULL, 1000);
    ui_player_frame(p, W, H);
    return a;
}

static void click_at(struct ui_player *p, struct ui_draw *d, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = x;
    e.button.y = y;
    ui_player_event(p, &e, d, 1000);
    ui_player_frame(p, W, H);
}

/* Right until a question is up (or the end); returns the presses made. */
static size_t right_to_question(struct ui_player *p)
{
    size_t n = 0;
    while (!ui_asker_showing(&p->ask) && !ui_player_at_end(p, p->step) && n < 100000) {
        press(p, SDLK_RIGHT, 0);
        n++;
    }
    return n;
}

/* The centre of the letter square of option o in a question with n options. */
static void letter_centre(const struct ui_layout *lo, size_t n, size_t o, int *x, int *y)
{
    struct ui_ask_layout al;
    ui_ask_layout(&al, lo, n);
    *x = al.option[o].x + al.letter_w / 2;
    *y = al.option[o].y + 3; /* above the letter's glyph */
}

/* Every predict question of every lesson: drawn over the network at its
 * pause step, with the letter squares where the layout puts them; nothing
 * of it one step before (arriving there asks nothing). */
static void test_overlay_at_pause_step_not_before(void **state)
{
    (void)state;
    char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    size_t n = ui_lesson_list("tests", names, UI_LESSONS_MAX);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        struct ui_lesson *l = load_lesson(names[i]);
        struct ui_canvas *c = ui_canvas_new(l, W, H, assets);
        assert_non_null(c);
        struct ui_asker a;
        ui_asker_init(&a, l);
        for (size_t q = 0; q < a.quiz.n; q++) {
            const struct ui_quiz_item *it = &a.quiz.items[q];
            if (it->q->kind != SIM_SCN_Q_PREDICT) continue;
            assert_true(it->found);
            assert_true(it->pause_step > 0);
            struct ui_view v = ui_view_default();
            v.ask = &a;
            /* one step before: nothing asked, nothing drawn */
            assert_false(ui_asker_arrive(&a, it->pause_step - 1, false));
            ui_canvas_draw(c, it->pause_step - 1, &v);
            const struct ui_layout *lo = ui_canvas_layout(c);
            struct ui_ask_layout al;
            ui_ask_layout(&al, lo, it->q->noptions);
            int x, y;
            letter_centre(lo, it->q->noptions, 0, &x, &y);
            assert_int_not_equal(ui_canvas_pixel(c, x, y), THEME_QUIZ_LETTER);
            assert_int_not_equal(ui_canvas_pixel(c, al.box.x + 1, al.box.y + al.box.h / 2),
                                 THEME_OVERLAY_EDGE);
            /* at the pause step: the question, every option's letter square */
            assert_true(ui_asker_arrive(&a, it->pause_step, false));
            assert_int_equal(a.phase, UI_ASK_QUESTION);
            assert_int_equal(a.item, q);
            ui_canvas_draw(c, it->pause_step, &v);
            assert_int_equal(ui_canvas_pixel(c, al.box.x + 1, al.box.y + al.box.h / 2),
                             THEME_OVERLAY_EDGE);
            assert_int_equal(ui_canvas_pixel(c, al.box.x + al.box.w / 2, al.box.y + al.box.h - 2 * lo->pad - 2),
                             THEME_OVERLAY_BG);
            for (size_t o = 0; o < it->q->noptions; o++) {
                letter_centre(lo, it->q->noptions, o, &x, &y);
                assert_int_equal(ui_canvas_pixel(c, x, y), THEME_QUIZ_LETTER);
            }
            ui_asker_close(&a);
            checked++;
        }
        ui_canvas_free(c);
        ui_lesson_free(l);
    }
    assert_true(checked >= 8); /* the lessons ask a dozen predict questions */
}

struct key_case {
    const char *name;
    SDL_Keycode key;
    int option;      /* what it answers, -1: nothing */
};

/* Keys that answer option B (index 1) of a question, and keys that do not. */
static const struct key_case key_cases[] = {
    {"letter b", SDLK_b, 1},
    {"digit 2", SDLK_2, 1},
    {"keypad 2", SDLK_KP_2, 1},
    {"letter a", SDLK_a, 0},
    {"digit 1", SDLK_1, 0},
    {"letter f past the last option", SDLK_f, -1},
    {"digit 9", SDLK_9, -1},
    {"Space before an answer", SDLK_SPACE, -1},
    {"Enter before an answer", SDLK_RETURN, -1},
    {"Right before an answer", SDLK_RIGHT, -1},
    {"End before an answer", SDLK_END, -1},
    {"a letter no command uses", SDLK_z, -1},
};

/* Lesson 1's first question: Grandpa sent DATA; B (354) is right. Each key
 * on a fresh player at the pause step: the score moves only for B. */
static void test_answer_by_key_changes_score(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
        const struct key_case *kc = &key_cases[i];
        struct ui_player *p = player("01-smtp-conversation");
        right_to_question(p);
        assert_int_equal(p->ask.phase, UI_ASK_QUESTION);
        assert_int_equal(p->ask.item, 0);
        assert_int_equal(p->step, p->ask.quiz.items[0].pause_step);
        assert_int_equal(ui_quiz_right(&p->ask.quiz, 0), 1);
        char status[160];
        assert_string_equal(ui_draw_status(&p->view, status, sizeof status),
                            "score 0 of 5   paused  1x   H: keys");
        size_t pause = p->step;
        press(p, kc->key, 0);
        if (kc->option < 0) {
            assert_int_equal(p->ask.phase, UI_ASK_QUESTION);
            assert_int_equal(p->ask.quiz.answered, 0);
            assert_int_equal(p->step, pause); /* forward waits for an answer */
        } else {
            assert_int_equal(p->ask.phase, UI_ASK_ANSWERED);
            assert_int_equal(p->ask.chosen, kc->option);
            assert_int_equal(p->ask.quiz.answered, 1);
            assert_int_equal(p->ask.quiz.correct, kc->option == 1 ? 1 : 0);
            assert_string_equal(ui_draw_status(&p->view, status, sizeof status),
                                kc->option == 1 ? "score 1 of 5   paused  1x   H: keys"
                                                : "score 0 of 5   paused  1x   H: keys");
            /* a second key counts for nothing */
            press(p, SDLK_c, 0);
            assert_int_equal(p->ask.chosen, kc->option);
            assert_int_equal(p->ask.quiz.answered, 1);
            /* Space goes on: the overlay closes, the step stays */
            size_t at = p->step;
            press(p, SDLK_SPACE, 0);
            assert_false(ui_asker_showing(&p->ask));
            assert_int_equal(p->step, at);
            assert_false(p->view.playing);
        }
        ui_player_free(p);
    }
}

/* A click on option B's row answers B; the rows come from the layout. A
 * click beside the options answers nothing. The drawn row turns the right
 * answer's colour. */
static void test_click_option_b(void **state)
{
    (void)state;
    struct ui_player *p = player("01-smtp-conversation");
    struct ui_canvas *c = ui_canvas_new(p->lesson, W, H, assets);
    assert_non_null(c);
    right_to_question(p);
    assert_int_equal(p->ask.phase, UI_ASK_QUESTION);
    size_t n = p->ask.quiz.items[p->ask.item].q->noptions;
    assert_int_equal(n, 4);
    struct ui_ask_layout al;
    ui_ask_layout(&al, &p->layout, n);
    /* the rows do not overlap, top to bottom, inside the overlay */
    for (size_t o = 0; o < n; o++) {
        assert_true(ui_rect_contains(al.box, al.option[o].x, al.option[o].y));
        assert_true(ui_rect_contains(al.box, al.option[o].x + al.option[o].w - 1,
                                     al.option[o].y + al.option[o].h - 1));
        if (o) assert_true(al.option[o].y >= al.option[o - 1].y + al.option[o - 1].h);
        assert_int_equal(ui_ask_option_at(&al, al.option[o].x + al.option[o].w / 2,
                                          al.option[o].y + al.option[o].h / 2), (int)o);
    }
    assert_int_equal(ui_ask_option_at(&al, al.box.x + 2, al.box.y + 2), -1);
    /* a click on the question's text: nothing */
    click_at(p, ui_canvas_drawer(c), al.question.x + 10, al.question.y + 10);
    assert_int_equal(p->ask.phase, UI_ASK_QUESTION);
    /* a click at the right end of B's row */
    struct ui_rect b = al.option[1];
    click_at(p, ui_canvas_drawer(c), b.x + b.w - 5, b.y + b.h - 5);
    assert_int_equal(p->ask.phase, UI_ASK_ANSWERED);
    assert_int_equal(p->ask.chosen, 1);
    assert_int_equal(p->ask.quiz.correct, 1);
    ui_canvas_draw(c, p->step, &p->view);
    assert_int_equal(ui_canvas_pixel(c, b.x + b.w - 5, b.y + b.h / 2), THEME_QUIZ_RIGHT_BG);
    assert_int_equal(ui_canvas_pixel(c, b.x + al.letter_w / 2, b.y + 3), THEME_QUIZ_RIGHT);
    /* a click anywhere after the answer goes on */
    click_at(p, ui_canvas_drawer(c), 5, 5);
    assert_false(ui_asker_showing(&p->ask));
    ui_canvas_free(c);
    ui_player_free(p);
}

/* Playing stops at the pause point; after the answer, Space plays on. */
static void test_playing_stops_and_goes_on(void **state)
{
    (void)state;
    struct ui_player *p = player("01-smtp-conversation");
    size_t pause = p->ask.quiz.items[0].pause_step;
    press(p, SDLK_SPACE, 0);
    assert_true(p->view.playing);
    uint64_t now = 1000;
    for (int i = 0; i < 100000 && !ui_asker_showing(&p->ask); i++) {
        now += 2000; /* past UI_PLAY_MS at 1x */
        ui_player_tick(p, now);
    }
    assert_int_equal(p->step, pause);
    assert_false(p->view.playing);
    ui_player_tick(p, now + 100000);
    assert_int_equal(p->step, pause); /* it waits for the answer */
    press(p, SDLK_b, 0);
    press(p, SDLK_RETURN, 0);
    assert_false(ui_asker_showing(&p->ask));
    assert_true(p->view.playing);
    ui_player_tick(p, now + 200000);
    assert_true(p->step > pause);
    ui_player_free(p);
}

/* Back before the pause point and forward again: an answered question is
 * not asked again; one closed unanswered (Esc) is. */
static void test_back_and_forward(void **state)
{
    (void)state;
    struct ui_player *p = player("01-smtp-conversation");
    size_t pause = p->ask.quiz.items[0].pause_step;
    right_to_question(p);
    assert_int_equal(p->step, pause);
    assert_int_equal(press(p, SDLK_ESCAPE, 0), UI_PLAYER_NONE); /* closes, does not quit */
    assert_false(ui_asker_showing(&p->ask));
    press(p, SDLK_LEFT, 0);
    assert_true(p->step < pause);
    assert_false(ui_asker_showing(&p->ask)); /* going back asks nothing */
    press(p, SDLK_RIGHT, 0);
    assert_int_equal(p->step, pause);
    assert_true(ui_asker_showing(&p->ask)); /* unanswered: asked again */
    press(p, SDLK_2, 0);
    press(p, SDLK_SPACE, 0);
    press(p, SDLK_LEFT, 0);
    press(p, SDLK_RIGHT, 0);
    assert_int_equal(p->step, pause);
    assert_false(ui_asker_showing(&p->ask)); /* answered: not again */
    assert_int_equal(p->ask.quiz.answered, 1);
    ui_player_free(p);
}

/* End: the open questions in order (a predict question jumped over is
 * shown at its pause point), then the score, which Space closes. */
static void test_end_asks_the_rest_then_score(void **state)
{
    (void)state;
    struct ui_player *p = player("01-smtp-conversation");
    struct ui_canvas *c = ui_canvas_new(p->lesson, W, H, assets);
    assert_non_null(c);
    size_t last = p->lesson->nsteps - 1;
    press(p, SDLK_END, 0);
    assert_int_equal(p->step, last);
    size_t n = p->ask.quiz.n;
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->ask.phase, UI_ASK_QUESTION);
        assert_int_equal(p->ask.item, i);
        const struct ui_quiz_item *it = &p->ask.quiz.items[i];
        size_t shown = it->q->kind == SIM_SCN_Q_PREDICT ? it->pause_step : last;
        assert_int_equal(p->state.step, shown);
        /* answer with the right option's number */
        press(p, (SDL_Keycode)(SDLK_1 + (int)ui_quiz_right(&p->ask.quiz, i)), 0);
        assert_int_equal(p->ask.quiz.correct, i + 1);
        press(p, SDLK_SPACE, 0);
    }
    assert_int_equal(p->ask.phase, UI_ASK_SCORE);
    assert_int_equal(p->state.step, last);
    ui_canvas_draw(c, p->state.step, &p->view);
    struct ui_ask_layout al;
    ui_ask_layout(&al, &p->layout, 0);
    assert_int_equal(ui_canvas_pixel(c, al.box.x + 1, al.box.y + al.box.h / 2), THEME_OVERLAY_EDGE);
    char status[160];
    assert_string_equal(ui_draw_status(&p->view, status, sizeof status),
                        "score 5 of 5   paused  1x   H: keys");
    press(p, SDLK_SPACE, 0);
    assert_false(ui_asker_showing(&p->ask));
    /* the score is shown once */
    press(p, SDLK_HOME, 0);
    press(p, SDLK_END, 0);
    assert_false(ui_asker_showing(&p->ask));
    ui_canvas_free(c);
    ui_player_free(p);
}

/* Q: off closes the question and asks nothing on the way; the top bar says
 * so; on again asks the question due where the player is. */
static void test_q_toggles_the_quiz(void **state)
{
    (void)state;
    struct ui_player *p = player("01-smtp-conversation");
    size_t pause = p->ask.quiz.items[0].pause_step;
    right_to_question(p);
    assert_true(ui_asker_showing(&p->ask));
    press(p, SDLK_q, 0);
    assert_false(p->ask.enabled);
    assert_false(ui_asker_showing(&p->ask));
    char status[160];
    assert_string_equal(ui_draw_status(&p->view, status, sizeof status),
                        "quiz off (Q)   paused  1x   H: keys");
    press(p, SDLK_RIGHT, 0); /* with the quiz off, Right moves on */
    assert_true(p->step > pause);
    press(p, SDLK_HOME, 0);
    right_to_question(p); /* runs to the end: nothing is asked */
    assert_true(ui_player_at_end(p, p->step));
    assert_int_equal(p->ask.quiz.answered, 0);
    press(p, SDLK_HOME, 0);
    while (p->step < pause) press(p, SDLK_RIGHT, 0);
    press(p, SDLK_q, 0);
    assert_true(p->ask.enabled);
    assert_true(ui_asker_showing(&p->ask));
    assert_int_equal(p->ask.item, 0);
    /* the quiz's off switch holds for the next lesson */
    press(p, SDLK_q, 0);
    press(p, SDLK_TAB, 0);
    assert_false(p->ask.enabled);
    ui_player_free(p);
}

static size_t count_lesson_files(void)
{
    DIR *d = opendir("lessons");
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 5 && de->d_name[0] != '.' && strcmp(de->d_name + len - 5, ".json") == 0) n++;
    }
    closedir(d);
    return n;
}

/* Tab and Shift-Tab: every lesson in lessons/ in order, wrapping round, and
 * the top bar says "lesson k of n" with n the lesson files there are. */
static void test_tab_moves_between_lessons(void **state)
{
    (void)state;
    size_t files = count_lesson_files();
    assert_int_equal(files, 8);
    struct ui_player *p = player("01-smtp-conversation");
    assert_int_equal(p->nnames, files);
    char head[512], want[64];
    for (size_t k = 0; k < files; k++) {
        assert_string_equal(p->lesson->name, p->names[k]);
        assert_int_equal(p->view.lesson_index, k);
        ui_draw_heading(&p->state, &p->view, head, sizeof head);
        snprintf(want, sizeof want, "lesson %zu of %zu", k + 1, files);
        assert_non_null(strstr(head, want));
        assert_non_null(strstr(head, p->lesson->title));
        assert_int_equal(p->step, 0);
        assert_int_equal(press(p, SDLK_TAB, 0), UI_PLAYER_LOADED);
    }
    assert_string_equal(p->lesson->name, "01-smtp-conversation"); /* round again */
    assert_int_equal(press(p, SDLK_TAB, KMOD_LSHIFT), UI_PLAYER_LOADED);
    assert_string_equal(p->lesson->name, "default");
    ui_draw_heading(&p->state, &p->view, head, sizeof head);
    snprintf(want, sizeof want, "lesson %zu of %zu", files, files);
    assert_non_null(strstr(head, want));
    assert_int_equal(press(p, SDLK_TAB, KMOD_RSHIFT), UI_PLAYER_LOADED);
    assert_string_equal(p->lesson->name, "07-whole-picture");
    /* the new lesson's quiz, nothing answered */
    assert_int_equal(p->ask.quiz.answered, 0);
    assert_int_equal(p->ask.quiz.n, p->lesson->scenario->nquestions);
    ui_player_free(p);
}

struct snap_case {
    const char *name;
    int step_from_pause; /* the step: the first predict question's pause + this */
    const char *answer;  /* NULL: no --answer */
    int rc;
    const char *err;     /* in the error output */
};

static const struct snap_case snap_cases[] = {
    {"at the pause step", 0, NULL, 0, ""},
    {"answered", 0, "B", 0, ""},
    {"one step before", -1, NULL, 2, "the steps that ask are:"},
    {"an answer that is no option", 0, "Z", 2, "--answer wants"},
};

/* `snapshot --quiz`: the question at its pause step; the PNG is the frame
 * the player draws there. */
static void test_snapshot_quiz(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("01-smtp-conversation");
    struct ui_asker a;
    ui_asker_init(&a, l);
    size_t pause = a.quiz.items[0].pause_step;
    for (size_t i = 0; i < sizeof snap_cases / sizeof snap_cases[0]; i++) {
        const struct snap_case *sc = &snap_cases[i];
        char path[64], step[32];
        snprintf(path, sizeof path, "/tmp/test_ui_quiz_%d.png", (int)getpid());
        snprintf(step, sizeof step, "%zu", (size_t)((long)pause + sc->step_from_pause));
        char *argv[10] = {"01-smtp-conversation", "--step", step, "--out", path, "--quiz"};
        int argc = 6;
        if (sc->answer) {
            argv[argc++] = "--answer";
            argv[argc++] = (char *)sc->answer;
        }
        FILE *out = tmpfile(), *err = tmpfile();
        ui_headless_quit(); /* the command starts and stops SDL itself */
        int rc = ui_snapshot_command(argc, argv, "tests", out, err);
        assert_int_equal(ui_headless_init(stderr), 0);
        char buf[512] = "";
        rewind(err);
        size_t got = fread(buf, 1, sizeof buf - 1, err);
        buf[got] = 0;
        assert_int_equal(rc, sc->rc);
        assert_non_null(strstr(buf, sc->err));
        if (rc == 0) {
            FILE *f = fopen(path, "rb");
            assert_non_null(f);
            unsigned char sig[8];
            assert_int_equal(fread(sig, 1, 8, f), 8);
            assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
            fclose(f);
            remove(path);
        }
        fclose(out);
        fclose(err);
    }
    ui_lesson_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlay_at_pause_step_not_before),
        cmocka_unit_test(test_answer_by_key_changes_score),
        cmocka_unit_test(test_click_option_b),
        cmocka_unit_test(test_playing_stops_and_goes_on),
        cmocka_unit_test(test_back_and_forward),
        cmocka_unit_test(test_end_asks_the_rest_then_score),
        cmocka_unit_test(test_q_toggles_the_quiz),
        cmocka_unit_test(test_tab_moves_between_lessons),
        cmocka_unit_test(test_snapshot_quiz),
    };
    return cmocka_run_group_tests(tests, headless_setup, headless_teardown);
}
