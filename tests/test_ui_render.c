/* Drawing, headless: every step of every lesson draws; the pixels say the
 * boxes, packets and locks are where the layout puts them, in the theme's
 * colours; stepping back and forward draws the same frame; the snapshot
 * command's PNG is that frame; without a display the window falls back to
 * the transcript. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include <SDL.h>
#include <SDL_image.h>

#include "assets/theme.h"
#include "render/ui_snapshot.h"
#include "render/ui_window.h"
#include "tests/ui_headless.h"

static size_t find_step(const struct ui_lesson *l, const char *text, bool tls)
{
    for (size_t s = 0; s < l->nsteps; s++) {
        const struct sim_trace_event *e = sim_trace_get(l->trace, s);
        if (e->kind == SIM_TR_LINE && e->tls == tls && strcmp(e->text, text) == 0) return s;
    }
    fail_msg("no line \"%s\"", text);
    return 0;
}

/* Every step of every lesson in lessons/, plain and eavesdropped. */
static void test_every_step_of_every_lesson(void **state)
{
    (void)state;
    char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    size_t n = ui_lesson_list("tests", names, UI_LESSONS_MAX);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        struct ui_lesson *l = load_lesson(names[i]);
        struct ui_canvas *c = ui_canvas_new(l, 1280, 720, assets);
        assert_non_null(c);
        struct ui_view v = ui_view_default();
        for (size_t s = 0; s < l->nsteps; s++) {
            v.eavesdrop = s % 2 == 1;
            v.progress = (double)(s % 5) / 4.0;
            ui_canvas_draw(c, s, &v);
            const struct ui_layout *lo = ui_canvas_layout(c);
            /* the timeline's cursor is at the step */
            int cx = ui_layout_timeline_x(lo, l->nsteps, s);
            assert_int_equal(ui_canvas_pixel(c, cx, lo->area[UI_AREA_TIMELINE].y + lo->area[UI_AREA_TIMELINE].h - 2),
                             THEME_CURSOR);
        }
        ui_canvas_free(c);
        ui_lesson_free(l);
    }
}

/* A host's box: its fill just inside the top-left corner (the icon is
 * centred), its edge at the middle of the left side. */
static void check_box(struct ui_canvas *c, const struct ui_layout *lo, int h, unsigned fill,
                      unsigned edge)
{
    struct ui_rect r = lo->host[h];
    assert_int_equal(ui_canvas_pixel(c, r.x + lo->border + 2, r.y + lo->border + 2), fill);
    assert_int_equal(ui_canvas_pixel(c, r.x + r.w - lo->border - 3, r.y + lo->border + 2), fill);
    assert_int_equal(ui_canvas_pixel(c, r.x, r.y + r.h / 2), edge);
    assert_int_equal(ui_canvas_pixel(c, r.x + r.w - 1, r.y + 1), edge);
    /* just outside: the network's ground (no link leaves a box's corner) */
    assert_int_equal(ui_canvas_pixel(c, r.x - 1, r.y - 1), THEME_BG);
}

static void test_boxes_where_layout_says(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("default");
    const int dims[][2] = {{1920, 1080}, {1280, 720}, {3840, 2160}};
    for (size_t d = 0; d < 3; d++) {
        struct ui_canvas *c = ui_canvas_new(l, dims[d][0], dims[d][1], assets);
        assert_non_null(c);
        size_t steps[] = {0, l->nsteps / 3, l->nsteps / 2, l->nsteps - 1};
        for (size_t k = 0; k < 4; k++) {
            ui_canvas_draw(c, steps[k], NULL);
            const struct ui_layout *lo = ui_canvas_layout(c);
            for (size_t h = 0; h < lo->nhosts; h++)
                check_box(c, lo, (int)h, THEME_HOST_FILL, THEME_HOST_EDGE);
        }
        ui_canvas_free(c);
    }
    ui_lesson_free(l);
}

/* Every computer, laptop and phone shows its icon (its sky-blue screen),
 * above the name in a tall box and beside it in a short one: lesson 5
 * stacks three devices in one column. */
static void test_device_icons(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("05-pop3");
    const int dims[][2] = {{1920, 1080}, {1280, 720}, {3840, 2160}};
    for (size_t d = 0; d < 3; d++) {
        struct ui_canvas *c = ui_canvas_new(l, dims[d][0], dims[d][1], assets);
        assert_non_null(c);
        ui_canvas_draw(c, 0, NULL);
        const struct ui_layout *lo = ui_canvas_layout(c);
        size_t devices = 0;
        for (size_t h = 0; h < lo->nhosts; h++) {
            enum sim_role role = l->hosts[h].role;
            if (role != SIM_ROLE_COMPUTER && role != SIM_ROLE_LAPTOP && role != SIM_ROLE_PHONE)
                continue;
            devices++;
            struct ui_rect r = lo->host[h];
            size_t screen = 0;
            for (int y = r.y; y < r.y + r.h; y++)
                for (int x = r.x; x < r.x + r.w; x++)
                    screen += ui_canvas_pixel(c, x, y) == THEME_OI_SKY_BLUE;
            if (screen < 20)
                fail_msg("%dx%d: %s shows no icon (%zu screen pixels)", dims[d][0], dims[d][1],
                         l->hosts[h].name, screen);
        }
        assert_int_equal(devices, 4); /* manish-pc, the phone and the two laptops */
        ui_canvas_free(c);
    }
    ui_lesson_free(l);
}

struct packet_case {
    const char *name;
    const char *text;
    bool tls;
    unsigned colour;
};

static const struct packet_case packet_cases[] = {
    {"EHLO in the clear", "EHLO manish-pc", false, THEME_PROTO_SMTP},
    {"EHLO inside TLS", "EHLO manish-pc", true, THEME_PROTO_SMTP},
    {"the server's 250 inside TLS", "250 2.1.0 Ok", true, THEME_PROTO_SMTP},
    {"STARTTLS, still clear", "STARTTLS", false, THEME_PROTO_SMTP},
    {"IMAP login inside TLS", "a002 SELECT INBOX", true, THEME_PROTO_IMAP},
};

/* The packet's label: protocol colour inside its black edge; the lock's
 * body where the layout puts it when the line crossed inside TLS, and the
 * protocol colour there when it did not. */
static void test_packet_and_lock(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("default");
    struct ui_canvas *c = ui_canvas_new(l, 1920, 1080, assets);
    assert_non_null(c);
    struct ui_view v = ui_view_default();
    for (size_t i = 0; i < sizeof packet_cases / sizeof packet_cases[0]; i++) {
        const struct packet_case *pc = &packet_cases[i];
        print_message("packet: %s\n", pc->name);
        size_t s = find_step(l, pc->text, pc->tls);
        ui_canvas_draw(c, s, &v);
        const struct ui_layout *lo = ui_canvas_layout(c);
        struct ui_rect lock;
        struct ui_rect r = ui_draw_packet_rect(ui_canvas_drawer(c), lo, ui_canvas_state(c), &v, &lock);
        assert_true(r.w > 0);
        assert_true(ui_rect_contains(lo->area[UI_AREA_NETWORK], r.x, r.y));
        int mx = r.x + r.w / 2;
        assert_int_equal(ui_canvas_pixel(c, mx, r.y), THEME_LOCK_EDGE);
        assert_int_equal(ui_canvas_pixel(c, mx, r.y + 3), pc->colour);
        assert_int_equal(lock.w > 0, pc->tls);
        if (pc->tls) {
            /* the body's middle, below the shackle */
            assert_int_equal(ui_canvas_pixel(c, lock.x + lock.w / 2, lock.y + lock.h * 7 / 10),
                             THEME_LOCK);
            assert_int_equal(ui_canvas_pixel(c, lock.x + lock.w / 2, lock.y + lock.h - 1),
                             THEME_LOCK_EDGE);
        } else {
            /* where a lock would be: the label's own colour */
            struct ui_rect would = ui_layout_lock(lo, (struct ui_rect){r.x, r.y, r.w, r.h});
            int n = 0;
            for (int y = would.y; y < would.y + would.h; y++)
                for (int x = would.x; x < would.x + would.w; x++)
                    n += ui_canvas_pixel(c, x, y) == THEME_LOCK;
            assert_int_equal(n, 0);
        }
    }
    ui_canvas_free(c);
    ui_lesson_free(l);
}

/* The tags of open connections: a lock on the TLS ones, none on the rest. */
static void test_link_tags(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("default");
    struct ui_canvas *c = ui_canvas_new(l, 1920, 1080, assets);
    assert_non_null(c);
    size_t tls_tags = 0, clear_tags = 0;
    for (size_t s = 0; s < l->nsteps; s += 3) {
        ui_canvas_draw(c, s, NULL);
        const struct ui_layout *lo = ui_canvas_layout(c);
        const struct ui_state *st = ui_canvas_state(c);
        struct ui_view v = ui_view_default();
        struct ui_rect pk = ui_draw_packet_rect(ui_canvas_drawer(c), lo, st, &v, NULL);
        for (size_t i = 0; i < st->nconns; i++) {
            struct ui_rect t = ui_draw_link_tag_rect(ui_canvas_drawer(c), lo, st, st->conns[i].id);
            if (t.w == 0 || (pk.w && ui_rect_overlap(t, pk))) continue;
            bool covered = false; /* another tag drawn over this one */
            for (size_t j = i + 1; j < st->nconns; j++) {
                struct ui_rect u = ui_draw_link_tag_rect(ui_canvas_drawer(c), lo, st, st->conns[j].id);
                covered |= u.w && ui_rect_overlap(t, u);
            }
            if (covered) continue;
            struct ui_rect lk = ui_layout_lock(lo, t);
            unsigned px = ui_canvas_pixel(c, lk.x + lk.w / 2, lk.y + lk.h * 7 / 10);
            /* the tag's own colour at its left end, inside its edge */
            assert_int_equal(ui_canvas_pixel(c, t.x + 2, t.y + 2), ui_proto_colour(st->conns[i].proto));
            if (st->conns[i].tls) {
                assert_int_equal(px, THEME_LOCK);
                tls_tags++;
            } else {
                int n = 0;
                for (int y = lk.y; y < lk.y + lk.h; y++)
                    for (int x = lk.x; x < lk.x + lk.w; x++) n += ui_canvas_pixel(c, x, y) == THEME_LOCK;
                assert_int_equal(n, 0);
                clear_tags++;
            }
        }
    }
    assert_true(tls_tags > 10);
    assert_true(clear_tags > 3);
    ui_canvas_free(c);
    ui_lesson_free(l);
}

/* Back, then forward again: the same frame, every pixel; and the same as a
 * canvas that went there directly. */
static void test_back_and_forth(void **state)
{
    (void)state;
    struct ui_lesson *l = load_lesson("default");
    struct ui_canvas *a = ui_canvas_new(l, 1280, 720, assets);
    struct ui_canvas *b = ui_canvas_new(l, 1280, 720, assets);
    assert_non_null(a);
    assert_non_null(b);
    size_t n = (size_t)1280 * 720;
    uint32_t *first = malloc(n * sizeof *first);
    assert_non_null(first);
    const size_t steps[] = {5, l->nsteps / 2, l->nsteps - 1};
    for (size_t k = 0; k < 3; k++) {
        size_t s = steps[k];
        ui_canvas_draw(a, s, NULL);
        memcpy(first, ui_canvas_pixels(a), n * sizeof *first);
        ui_canvas_draw(a, s > 40 ? s - 40 : 0, NULL); /* back */
        ui_canvas_draw(a, s, NULL);                   /* and forward */
        assert_memory_equal(first, ui_canvas_pixels(a), n * sizeof *first);
        ui_canvas_draw(b, 0, NULL);
        ui_canvas_draw(b, s, NULL);
        assert_memory_equal(first, ui_canvas_pixels(b), n * sizeof *first);
    }
    /* and a different step is a different frame */
    ui_canvas_draw(b, steps[1] + 1, NULL);
    assert_true(memcmp(first, ui_canvas_pixels(b), n * sizeof *first) != 0);
    free(first);
    ui_canvas_free(a);
    ui_canvas_free(b);
    ui_lesson_free(l);
}

/* A host that is down: greyed and crossed; a blocked port: the barrier. */
static void test_down_and_blocked(void **state)
{
    (void)state;
    struct ui_lesson *l = calloc(1, sizeof *l);
    assert_non_null(l);
    const char *names[] = {"pc", "mx"};
    l->nhosts = 2;
    l->hosts[0].role = SIM_ROLE_COMPUTER;
    l->hosts[1].role = SIM_ROLE_MAIL_SERVER;
    for (int i = 0; i < 2; i++) snprintf(l->hosts[i].name, sizeof l->hosts[i].name, "%s", names[i]);
    l->hosts[1].nports = 1;
    l->hosts[1].ports[0] = 25;
    l->hosts[1].port_proto[0] = SIM_PROTO_SMTP;
    struct sim_trace *tr = sim_trace_new();
    assert_non_null(tr);
    struct sim_trace_event ev[] = {
        {.kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = "mx", .port = 25,
         .fault = SIM_FAULT_PORT_BLOCKED, .text = "port 25 blocked coming in to mx"},
        {.kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = "mx",
         .fault = SIM_FAULT_HOST_DOWN, .text = "host is down"},
        {.kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = "mx",
         .fault = SIM_FAULT_HOST_UP, .text = "host is back up"},
        {.kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = "mx", .port = 25,
         .fault = SIM_FAULT_PORT_OPEN, .text = "port 25 open again coming in to mx"},
    };
    for (size_t i = 0; i < 4; i++) assert_true(sim_trace_add(tr, &ev[i]) >= 0);
    l->trace = tr;
    l->nsteps = 4;
    struct ui_canvas *c = ui_canvas_new(l, 1920, 1080, assets);
    assert_non_null(c);
    const struct { size_t step; bool down, blocked; } cases[] = {
        {0, false, true}, {1, true, true}, {2, false, true}, {3, false, false}};
    for (size_t k = 0; k < 4; k++) {
        ui_canvas_draw(c, cases[k].step, NULL);
        const struct ui_layout *lo = ui_canvas_layout(c);
        struct ui_rect r = lo->host[1];
        if (cases[k].down) {
            assert_int_equal(ui_canvas_pixel(c, r.x + r.w / 2, r.y + lo->border + 2),
                             THEME_HOST_DOWN_FILL);
            assert_int_equal(ui_canvas_pixel(c, r.x + r.w / 2, r.y + r.h / 2), THEME_HOST_CROSS);
        } else {
            check_box(c, lo, 1, THEME_HOST_FILL, THEME_HOST_EDGE);
        }
        check_box(c, lo, 0, THEME_HOST_FILL, THEME_HOST_EDGE);
        /* the barrier's red under the box */
        int red = 0, y = r.y + r.h + lo->pad;
        for (int x = r.x; x < r.x + r.w; x++) red += ui_canvas_pixel(c, x, y) == THEME_BLOCK;
        if (cases[k].blocked)
            assert_true(red > r.w / 4);
        else
            assert_int_equal(red, 0);
    }
    ui_canvas_free(c);
    sim_trace_free(tr);
    free(l);
}

static void test_eavesdrop_hex(void **state)
{
    (void)state;
    char a[400], b[400];
    assert_string_equal(ui_eavesdrop_hex(7, 4, a, sizeof a), ui_eavesdrop_hex(7, 4, b, sizeof b));
    assert_int_equal(strlen(a), 9); /* "xxxx xxxx" */
    assert_int_equal(a[4], ' ');
    assert_string_not_equal(ui_eavesdrop_hex(8, 4, b, sizeof b), a);
    ui_eavesdrop_hex(1, 1000, a, sizeof a);
    assert_int_equal(strlen(a), UI_EAVESDROP_MAX * 2 + UI_EAVESDROP_MAX / 2 - 1 + 3);
    assert_string_equal(a + strlen(a) - 3, "...");
    assert_string_equal(ui_eavesdrop_hex(1, 0, a, sizeof a), "");
}

/* `mailsim snapshot`: the PNG holds the canvas's frame; bad arguments are
 * refused with the usage. */
static void test_snapshot_command(void **state)
{
    (void)state;
    char dir[] = "/tmp/mailsim_snapshot_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/step40.png", dir);
    char *args[] = {"default", "--step", "40", "--out", path, "--size", "1280x720"};
    char outbuf[512] = "";
    FILE *out = fmemopen(outbuf, sizeof outbuf, "w");
    FILE *err = tmpfile();
    ui_headless_quit(); /* the command starts and stops SDL itself */
    assert_int_equal(ui_snapshot_command(7, args, "tests", out, err), 0);
    assert_int_equal(ui_headless_init(stderr), 0);
    fclose(out);
    fclose(err);
    assert_non_null(strstr(outbuf, ": default step 40 of "));
    SDL_Surface *png = IMG_Load(path);
    assert_non_null(png);
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(png, SDL_PIXELFORMAT_RGB888, 0);
    assert_non_null(rgb);
    assert_int_equal(rgb->w, 1280);
    assert_int_equal(rgb->h, 720);
    struct ui_lesson *l = load_lesson("default");
    struct ui_canvas *c = ui_canvas_new(l, 1280, 720, assets);
    struct ui_view v = ui_view_default();
    char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    v.nlessons = ui_lesson_list("tests", names, UI_LESSONS_MAX);
    for (size_t i = 0; i < v.nlessons; i++)
        if (strcmp(names[i], "default") == 0) v.lesson_index = i;
    ui_canvas_draw(c, 40, &v);
    const uint32_t *px = ui_canvas_pixels(c);
    size_t diff = 0;
    for (int y = 0; y < 720; y++) {
        const uint32_t *row = (const uint32_t *)((const char *)rgb->pixels + (size_t)y * (size_t)rgb->pitch);
        for (int x = 0; x < 1280; x++) diff += (row[x] & 0xFFFFFF) != px[(size_t)y * 1280 + (size_t)x];
    }
    assert_int_equal(diff, 0);
    ui_canvas_free(c);
    ui_lesson_free(l);
    SDL_FreeSurface(rgb);
    SDL_FreeSurface(png);
    remove(path);
    remove(dir);

    struct {
        const char *name;
        int argc;
        char *argv[6];
        const char *err;
    } bad[] = {
        {"no step", 2, {"--out", "x.png"}, "mailsim snapshot: --step N is required\n"},
        {"no out", 2, {"--step", "1"}, "mailsim snapshot: --out FILE.png is required\n"},
        {"bad size", 4, {"--step", "1", "--size", "10"},
         "mailsim snapshot: --size wants WxH, each 1 to 7680x4320, not '10'\n"},
        {"bad step", 2, {"--step", "-3"}, "mailsim snapshot: --step wants a step number from 0, not '-3'\n"},
        {"unknown option", 1, {"--png"}, "mailsim snapshot: unknown option '--png'\n"},
        {"missing value", 1, {"--step"}, "mailsim snapshot: missing value after '--step'\n"},
        {"step past the end", 4, {"default", "--step", "999999", "--out"}, "mailsim snapshot: missing value after '--out'\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char ebuf[1024] = "";
        err = fmemopen(ebuf, sizeof ebuf, "w");
        print_message("bad: %s\n", bad[i].name);
        assert_int_equal(ui_snapshot_command(bad[i].argc, bad[i].argv, "tests", stdout, err), 2);
        fclose(err);
        assert_int_equal(strncmp(ebuf, bad[i].err, strlen(bad[i].err)), 0);
        assert_non_null(strstr(ebuf, "usage: mailsim snapshot [LESSON] --step N --out FILE.png [--size WxH] [--eavesdrop]\n"));
    }
    char ebuf[1024] = "";
    err = fmemopen(ebuf, sizeof ebuf, "w");
    char *past[] = {"default", "--step", "999999", "--out", "/tmp/never.png"};
    assert_int_equal(ui_snapshot_command(5, past, "tests", stdout, err), 2);
    fclose(err);
    assert_non_null(strstr(ebuf, "there is no step 999999"));
}

/* No display: one line, then the transcript. */
static void test_no_display_falls_back(void **state)
{
    (void)state;
    char *display = getenv("DISPLAY") ? strdup(getenv("DISPLAY")) : NULL;
    char *wayland = getenv("WAYLAND_DISPLAY") ? strdup(getenv("WAYLAND_DISPLAY")) : NULL;
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    assert_false(ui_display_available());
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
    assert_int_equal(ui_window_run(NULL, "tests", out, err), 0);
    fclose(out);
    fclose(err);
    assert_string_equal(ebuf, "mailsim: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): "
                              "playing the text transcript instead\n");
    assert_int_equal(strncmp(obuf, "    0.000s  sim   narrate  # Manish writes", 42), 0);
    free(obuf);
    free(ebuf);
    if (display) setenv("DISPLAY", display, 1);
    if (wayland) setenv("WAYLAND_DISPLAY", wayland, 1);
    free(display);
    free(wayland);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boxes_where_layout_says),
        cmocka_unit_test(test_device_icons),
        cmocka_unit_test(test_packet_and_lock),
        cmocka_unit_test(test_link_tags),
        cmocka_unit_test(test_back_and_forth),
        cmocka_unit_test(test_down_and_blocked),
        cmocka_unit_test(test_eavesdrop_hex),
        cmocka_unit_test(test_snapshot_command),
        cmocka_unit_test(test_no_display_falls_back),
        cmocka_unit_test(test_every_step_of_every_lesson),
    };
    return cmocka_run_group_tests(tests, headless_setup, headless_teardown);
}
