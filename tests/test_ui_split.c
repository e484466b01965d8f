/* The split view of `mailsim compare --view`, headless: for a seeded run
 * with 3 devices and no leave-on-server, the POP3 side's "messages on the
 * server" shows 0 at the end and the IMAP side's does not, by the values
 * the view shows and by the pixels drawn; which device has seen which
 * message, replayed from the traces, agrees with the comparison's own
 * count; the divergence highlight is drawn where the layout puts the
 * cells; the keys and the timeline move through the time points; the
 * command's --snapshot, --step and --view answer as documented. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "assets/theme.h"
#include "render/compare_view.h"
#include "render/ui_lesson.h"
#include "render/ui_split_draw.h"

#define W 1920
#define H 1080

struct fixture {
    struct sim_compare *c;
    struct ui_split *s;
    SDL_Surface *surf;
    SDL_Renderer *r;
    struct ui_split_draw *d;
    struct ui_split_layout lo;
    size_t last;
};

static struct fixture fx;
static char assets[UI_PATH_MAX];

static int setup(void **state)
{
    (void)state;
    if (!ui_find_assets("tests", assets, sizeof assets)) return -1;
    struct sim_compare_params p;
    sim_compare_defaults(&p);
    p.devices = 3;
    p.days = 2;
    p.per_day = 12;
    p.seed = 7;
    p.leave_on_server = false;
    p.keep_trace = true;
    char why[256];
    fx.c = sim_compare_run(&p, why, sizeof why);
    if (!fx.c) return -1;
    fx.s = ui_split_new(fx.c, why, sizeof why);
    if (!fx.s) return -1;
    fx.last = ui_split_points(fx.s) - 1;
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    if (SDL_Init(0) != 0 || TTF_Init() != 0) return -1;
    fx.surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_RGB888);
    fx.r = fx.surf ? SDL_CreateSoftwareRenderer(fx.surf) : NULL;
    fx.d = fx.r ? ui_split_draw_new(fx.r, assets) : NULL;
    if (!fx.d) return -1;
    ui_split_layout_compute(&fx.lo, fx.s, W, H);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ui_split_draw_free(fx.d);
    SDL_DestroyRenderer(fx.r);
    SDL_FreeSurface(fx.surf);
    TTF_Quit();
    SDL_Quit();
    ui_split_free(fx.s);
    sim_compare_free(fx.c);
    return 0;
}

static void draw_at(size_t k)
{
    struct ui_split_view v = ui_split_view_at(k);
    ui_split_draw_frame(fx.d, &fx.lo, fx.s, &v);
    SDL_RenderPresent(fx.r);
}

static uint32_t pixel(int x, int y)
{
    uint32_t px = 0;
    SDL_Rect r = {x, y, 1, 1};
    assert_int_equal(SDL_RenderReadPixels(fx.r, &r, SDL_PIXELFORMAT_RGB888, &px, 4), 0);
    return px & 0xFFFFFFu;
}

/* Pixels in r drawn in the text's colour (the value's glyphs). */
static size_t ink_in(struct ui_rect r)
{
    size_t n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            if (pixel(x, y) == THEME_TEXT) n++;
    return n;
}

/* The end: POP3's server holds nothing, IMAP's does; the row is
 * highlighted on both sides; at the start nothing differs. */
static void test_server_counter_at_end(void **state)
{
    (void)state;
    const struct sim_compare_measures *imap = ui_split_measures(fx.s, SIM_CMP_IMAP, fx.last);
    const struct sim_compare_measures *pop3 = ui_split_measures(fx.s, SIM_CMP_POP3, fx.last);
    assert_int_equal(pop3->server_msgs, 0);
    assert_true(imap->server_msgs > 0);
    assert_int_equal(imap->server_msgs, sim_compare_final(fx.c, SIM_CMP_IMAP)->server_msgs);
    char v[48], want[48], label[96];
    assert_string_equal(ui_split_row_label(fx.s, UI_SPLIT_ROW_SERVER, label, sizeof label),
                        "messages on the server");
    assert_string_equal(ui_split_row_label(fx.s, UI_SPLIT_ROW_DEVICE + 2, label, sizeof label),
                        "messages on the desktop");
    assert_false(ui_split_row_used(fx.s, UI_SPLIT_ROW_DEVICE + 3));
    assert_string_equal(ui_split_row_value(fx.s, SIM_CMP_POP3, UI_SPLIT_ROW_SERVER, fx.last, v,
                                           sizeof v), "0");
    snprintf(want, sizeof want, "%zu", imap->server_msgs);
    assert_string_equal(ui_split_row_value(fx.s, SIM_CMP_IMAP, UI_SPLIT_ROW_SERVER, fx.last, v,
                                           sizeof v), want);
    assert_true(ui_split_row_diverges(fx.s, UI_SPLIT_ROW_SERVER, fx.last));
    assert_false(ui_split_row_diverges(fx.s, UI_SPLIT_ROW_BYTES, fx.last));
    assert_int_equal(ui_split_arrived(fx.s, fx.last), 24);
    assert_int_equal(ui_split_arrived(fx.s, 0), 0);
    for (int r = 0; r < UI_SPLIT_ROW_COUNT; r++)
        assert_false(ui_split_row_diverges(fx.s, (enum ui_split_row)r, 0));
    /* drawn: both server values highlighted, with their digits in them;
     * the octets row plain; at the start no highlight */
    draw_at(fx.last);
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++) {
        struct ui_rect sv = fx.lo.side[side].row_value[UI_SPLIT_ROW_SERVER];
        struct ui_rect bv = fx.lo.side[side].row_value[UI_SPLIT_ROW_BYTES];
        assert_true(sv.w > 0 && sv.h > 0);
        assert_int_equal(pixel(sv.x + 3, sv.y + 3), THEME_DIVERGE);
        assert_int_equal(pixel(sv.x, sv.y), THEME_GRID_EDGE);
        assert_int_equal(pixel(bv.x + 3, bv.y + 3), THEME_HOST_FILL);
        assert_true(ink_in(sv) > 20);
    }
    /* "0" is one digit: less ink than IMAP's count when that has two */
    if (imap->server_msgs >= 10)
        assert_true(ink_in(fx.lo.side[SIM_CMP_POP3].row_value[UI_SPLIT_ROW_SERVER]) <
                    ink_in(fx.lo.side[SIM_CMP_IMAP].row_value[UI_SPLIT_ROW_SERVER]));
    draw_at(0);
    struct ui_rect sv = fx.lo.side[SIM_CMP_POP3].row_value[UI_SPLIT_ROW_SERVER];
    assert_int_equal(pixel(sv.x + 3, sv.y + 3), THEME_HOST_FILL);
}

/* The grid replayed from the traces says at the end what the comparison
 * counted: sim_compare_seen_by, bit for bit; IMAP devices saw all. */
static void test_seen_agrees_with_compare(void **state)
{
    (void)state;
    size_t n = ui_split_messages(fx.s), pop3_missing = 0;
    assert_int_equal(n, 24);
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++)
        for (size_t m = 0; m < n; m++) {
            unsigned bits = sim_compare_seen_by(fx.c, (enum sim_compare_side)side, m);
            for (size_t d = 0; d < 3; d++) {
                bool seen = ui_split_seen(fx.s, (enum sim_compare_side)side, d, m, fx.last);
                assert_int_equal(seen, (bits >> d) & 1u);
                if (side == SIM_CMP_IMAP) assert_true(seen);
                else if (!seen) pop3_missing++;
                assert_false(ui_split_seen(fx.s, (enum sim_compare_side)side, d, m, 0));
            }
        }
    /* POP3 download-and-delete: each message reached one device */
    assert_int_equal(pop3_missing, 2 * n);
}

/* The divergence highlight is drawn in the cells the layout gives: a cell
 * POP3 lacks and IMAP has is yellow on the POP3 side and IMAP's colour on
 * the other; a message POP3 has is POP3's colour. */
static void test_divergence_where_layout_says(void **state)
{
    (void)state;
    draw_at(fx.last);
    size_t diverging = 0, seen = 0;
    for (size_t m = 0; m < ui_split_messages(fx.s); m++)
        for (size_t d = 0; d < 3; d++) {
            struct ui_rect p = ui_split_cell(&fx.lo, fx.s, SIM_CMP_POP3, d, m);
            struct ui_rect i = ui_split_cell(&fx.lo, fx.s, SIM_CMP_IMAP, d, m);
            assert_true(p.w >= 6 && i.w >= 6);
            assert_true(ui_rect_contains(fx.lo.side[SIM_CMP_POP3].grid, p.x, p.y));
            assert_int_equal(pixel(i.x + i.w / 2, i.y + i.h / 2), THEME_PROTO_IMAP);
            assert_false(ui_split_cell_diverges(fx.s, SIM_CMP_IMAP, d, m, fx.last));
            if (ui_split_cell_diverges(fx.s, SIM_CMP_POP3, d, m, fx.last)) {
                assert_int_equal(pixel(p.x + p.w / 2, p.y + p.h / 2), THEME_DIVERGE);
                assert_int_equal(pixel(p.x + 1, p.y + 1), THEME_DIVERGE);
                diverging++;
            } else {
                assert_int_equal(pixel(p.x + p.w / 2, p.y + p.h / 2), THEME_PROTO_POP3);
                seen++;
            }
        }
    assert_int_equal(diverging, 48);
    assert_int_equal(seen, 24);
    /* before anything arrived, the cells are not drawn at all */
    draw_at(0);
    struct ui_rect p = ui_split_cell(&fx.lo, fx.s, SIM_CMP_POP3, 0, 0);
    assert_int_equal(pixel(p.x + p.w / 2, p.y + p.h / 2), THEME_PANEL_BG);
}

struct size_case {
    const char *name;
    int w, h;
};

static const struct size_case sizes[] = {
    {"1080p", 1920, 1080}, {"720p", 1280, 720}, {"4K", 3840, 2160}, {"small", 640, 360}};

/* Every size: all 24 messages shown, cells inside their grid, one after
 * the other, none overlapping, the halves side by side. */
static void test_layout(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct ui_split_layout lo;
        ui_split_layout_compute(&lo, fx.s, sizes[i].w, sizes[i].h);
        assert_int_equal(lo.shown, 24);
        assert_true(lo.side[0].box.x + lo.side[0].box.w <= lo.side[1].box.x);
        for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++) {
            struct ui_rect g = lo.side[side].grid;
            struct ui_rect prev = {0, 0, 0, 0};
            for (size_t m = 0; m < 24; m++)
                for (size_t d = 0; d < 3; d++) {
                    struct ui_rect c = ui_split_cell(&lo, fx.s, (enum sim_compare_side)side, d, m);
                    assert_true(c.w > 0);
                    assert_true(ui_rect_contains(g, c.x, c.y));
                    assert_true(ui_rect_contains(g, c.x + c.w - 1, c.y + c.h - 1));
                    if (prev.w) assert_false(ui_rect_overlap(prev, c));
                    prev = c;
                }
            struct ui_rect none = ui_split_cell(&lo, fx.s, (enum sim_compare_side)side, 0, 24);
            assert_int_equal(none.w, 0);
        }
    }
}

static SDL_Event key_event(SDL_Keycode k)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    return e;
}

/* The main window's keys move time; a click on the timeline jumps. */
static void test_keys_and_timeline(void **state)
{
    (void)state;
    struct ui_split_view v = ui_split_view_at(0);
    struct {
        SDL_Keycode key;
        size_t point;
    } steps[] = {{SDLK_RIGHT, 1}, {SDLK_RIGHT, 2}, {SDLK_LEFT, 1}, {SDLK_n, 2},
                 {SDLK_p, 1},     {SDLK_END, fx.last}, {SDLK_RIGHT, fx.last}, {SDLK_HOME, 0},
                 {SDLK_LEFT, 0}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        SDL_Event e = key_event(steps[i].key);
        assert_int_equal(ui_split_event(&v, fx.s, &fx.lo, &e, 0), UI_SPLIT_NONE);
        assert_int_equal(v.point, steps[i].point);
    }
    SDL_Event e = key_event(SDLK_SPACE);
    ui_split_event(&v, fx.s, &fx.lo, &e, 1000);
    assert_true(v.playing);
    uint64_t now = 1000;
    for (size_t i = 1; i <= 3; i++) {
        ui_split_tick(&v, fx.s, now);
        assert_int_equal(v.point, i);
        now += UI_SPLIT_PLAY_MS;
    }
    e = key_event(SDLK_UP); /* 2x: half the wait */
    ui_split_event(&v, fx.s, &fx.lo, &e, now);
    ui_split_tick(&v, fx.s, now);
    ui_split_tick(&v, fx.s, now + UI_SPLIT_PLAY_MS / 2);
    assert_int_equal(v.point, 5);
    for (int i = 0; i < 1000; i++) ui_split_tick(&v, fx.s, now += UI_SPLIT_PLAY_MS);
    assert_int_equal(v.point, fx.last);
    assert_false(v.playing); /* stops at the end */
    SDL_Event c;
    memset(&c, 0, sizeof c);
    c.type = SDL_MOUSEBUTTONDOWN;
    c.button.button = SDL_BUTTON_LEFT;
    c.button.x = ui_split_timeline_x(&fx.lo, ui_split_points(fx.s), 10);
    c.button.y = fx.lo.timeline.y + fx.lo.timeline.h / 2;
    ui_split_event(&v, fx.s, &fx.lo, &c, now);
    assert_int_equal(v.point, 10);
    e = key_event(SDLK_ESCAPE);
    assert_int_equal(ui_split_event(&v, fx.s, &fx.lo, &e, now), UI_SPLIT_QUIT);
    /* the timeline's cursor is drawn at the time point */
    draw_at(10);
    assert_int_equal(pixel(ui_split_timeline_x(&fx.lo, ui_split_points(fx.s), 10),
                           fx.lo.timeline.y + fx.lo.timeline.h - 2), THEME_CURSOR);
}

struct cmd_case {
    const char *name;
    const char *args; /* after "compare", split at spaces; PNG stands for the file */
    int rc;
    const char *err;  /* in the error output ("" for none expected) */
    bool png;         /* the file is written */
};

static const struct cmd_case cmd_cases[] = {
    {"snapshot at a time point", "--days 2 --per-day 12 --seed 7 --snapshot PNG --step 5", 0, "", true},
    {"snapshot of the end, small", "--days 1 --per-day 5 --snapshot PNG --size 800x450", 0, "", true},
    {"the view with no display", "--days 1 --per-day 5 --view", 1, "no display for the split view", false},
    {"--step without --snapshot", "--days 1 --per-day 5 --step 3", 2, "go with --snapshot", false},
    {"too many messages for a grid", "--days 30 --per-day 100 --view", 2, "at most 2000 messages", false},
    {"a bad size", "--days 1 --snapshot PNG --size 10x10", 2, "--size wants WxH", false},
    {"--snapshot without its file", "--snapshot", 2, "--snapshot needs a value", false},
};

static void test_command(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_ui_split_%d.png", (int)getpid());
    char *display = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
    char *wayland = getenv("WAYLAND_DISPLAY") ? strdup(getenv("WAYLAND_DISPLAY")) : NULL;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    /* the command starts and stops SDL itself */
    ui_split_draw_free(fx.d);
    SDL_DestroyRenderer(fx.r);
    TTF_Quit();
    SDL_Quit();
    for (size_t i = 0; i < sizeof cmd_cases / sizeof cmd_cases[0]; i++) {
        const struct cmd_case *cc = &cmd_cases[i];
        char buf[256], *argv[32];
        int argc = 0;
        snprintf(buf, sizeof buf, "%s", cc->args);
        for (char *t = strtok(buf, " "); t && argc < 32; t = strtok(NULL, " "))
            argv[argc++] = strcmp(t, "PNG") == 0 ? path : t;
        remove(path);
        FILE *out = tmpfile(), *err = tmpfile();
        int rc = ui_compare_command(argc, argv, "tests", out, err);
        char ebuf[4096] = "";
        rewind(err);
        ebuf[fread(ebuf, 1, sizeof ebuf - 1, err)] = 0;
        if (rc != cc->rc) fail_msg("%s: exit %d, wanted %d: %s", cc->name, rc, cc->rc, ebuf);
        assert_non_null(strstr(ebuf, cc->err));
        FILE *f = fopen(path, "rb");
        assert_int_equal(f != NULL, cc->png);
        if (f) {
            unsigned char sig[8];
            assert_int_equal(fread(sig, 1, 8, f), 8);
            assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
            fclose(f);
            remove(path);
        }
        fclose(out);
        fclose(err);
    }
    if (display) setenv("DISPLAY", display, 1);
    if (wayland) setenv("WAYLAND_DISPLAY", wayland, 1);
    free(display);
    free(wayland);
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    assert_int_equal(SDL_Init(0), 0);
    assert_int_equal(TTF_Init(), 0);
    fx.r = SDL_CreateSoftwareRenderer(fx.surf);
    fx.d = ui_split_draw_new(fx.r, assets);
    assert_non_null(fx.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_counter_at_end),
        cmocka_unit_test(test_seen_agrees_with_compare),
        cmocka_unit_test(test_divergence_where_layout_says),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_keys_and_timeline),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
