/* The layout: for every window size from 1280x720 to 3840x2160, every box
 * inside the window and the network, no two boxes overlapping, panels
 * apart, packets clear of the boxes, the timeline's ticks in order. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "render/ui_layout.h"
#include "render/ui_lesson.h"

static struct ui_lesson *lesson;

static int setup(void **state)
{
    (void)state;
    FILE *err = tmpfile();
    lesson = ui_lesson_load("default", "tests", err);
    fclose(err);
    return lesson ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ui_lesson_free(lesson);
    return 0;
}

static bool inside(struct ui_rect in, struct ui_rect r)
{
    return r.x >= in.x && r.y >= in.y && r.x + r.w <= in.x + in.w && r.y + r.h <= in.y + in.h;
}

struct size_case {
    const char *name;
    int w, h;
    double text_scale;
};

static const struct size_case sizes[] = {
    {"720p", 1280, 720, 1.0},
    {"768p laptop", 1366, 768, 1.0},
    {"1080p", 1920, 1080, 1.0},
    {"1440p", 2560, 1440, 1.0},
    {"4K", 3840, 2160, 1.0},
    {"720p, largest text", 1280, 720, UI_TEXT_SCALE_MAX},
    {"4K, largest text", 3840, 2160, UI_TEXT_SCALE_MAX},
    {"4K, smallest text", 3840, 2160, UI_TEXT_SCALE_MIN},
    {"portrait-ish 1280x1024", 1280, 1024, 1.0},
};

static void check_layout(const struct ui_layout *lo, const struct ui_lesson *l,
                         const struct size_case *c)
{
    struct ui_rect win = {0, 0, c->w, c->h};
    print_message("size: %s\n", c->name);
    for (int a = 0; a < UI_AREA_COUNT; a++) {
        assert_true(inside(win, lo->area[a]));
        assert_true(lo->area[a].w > 0 && lo->area[a].h > 0);
        for (int b = a + 1; b < UI_AREA_COUNT; b++)
            assert_false(ui_rect_overlap(lo->area[a], lo->area[b]));
    }
    assert_int_equal(lo->nhosts, l->nhosts);
    for (size_t i = 0; i < lo->nhosts; i++) {
        assert_true(lo->host[i].w > 0 && lo->host[i].h > 0);
        assert_true(inside(lo->area[UI_AREA_NETWORK], lo->host[i]));
        for (size_t j = i + 1; j < lo->nhosts; j++)
            assert_false(ui_rect_overlap(lo->host[i], lo->host[j]));
    }
    for (size_t i = 0; i < lo->ncards; i++) {
        assert_true(inside(lo->area[UI_AREA_MAILBOXES], lo->card[i]));
        for (size_t j = i + 1; j < lo->ncards; j++)
            assert_false(ui_rect_overlap(lo->card[i], lo->card[j]));
    }
}

static void test_sizes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct ui_layout lo;
        ui_layout_compute(&lo, lesson, sizes[i].w, sizes[i].h, sizes[i].text_scale);
        check_layout(&lo, lesson, &sizes[i]);
    }
}

/* The default lesson's hosts, in their bands. */
static void test_bands(void **state)
{
    (void)state;
    struct ui_layout lo;
    ui_layout_compute(&lo, lesson, 1920, 1080, 1.0);
    assert_int_equal(lo.px_body, 22);
    assert_int_equal(lo.px_mono, 20);
    int pc = ui_lesson_host(lesson, "manish-pc"), mx1 = ui_lesson_host(lesson, "mail.example.com"),
        mx2 = ui_lesson_host(lesson, "mail.example.org"), res = ui_lesson_host(lesson, "resolver"),
        ns = ui_lesson_host(lesson, "ns1.example.com"), phone = ui_lesson_host(lesson, "friend-phone"),
        laptop = ui_lesson_host(lesson, "friend-laptop");
    /* name servers above the resolver above the mail servers */
    assert_true(lo.host[ns].y + lo.host[ns].h <= lo.host[res].y);
    assert_true(lo.host[res].y + lo.host[res].h <= lo.host[mx1].y);
    /* the story reads left to right: sender, its server, the next, devices */
    assert_true(lo.host[pc].x + lo.host[pc].w <= lo.host[mx1].x);
    assert_true(lo.host[mx1].x + lo.host[mx1].w <= lo.host[mx2].x);
    assert_true(lo.host[mx2].x + lo.host[mx2].w <= lo.host[phone].x);
    assert_int_equal(lo.host[phone].x, lo.host[laptop].x);
    assert_true(lo.host[phone].y + lo.host[phone].h <= lo.host[laptop].y);
    assert_int_equal(lo.host[mx1].y, lo.host[mx2].y);
    /* every host holding mail has a card, in host order */
    assert_int_equal(lo.ncards, 5);
    assert_int_equal(lo.card_host[0], pc);
    assert_int_equal(lo.card_host[4], laptop);
    assert_int_equal(ui_layout_host_at(&lo, lo.host[mx2].x + 3, lo.host[mx2].y + 3), mx2);
    assert_int_equal(ui_layout_host_at(&lo, 0, 0), -1);
}

/* Each pair of hosts that exchange a packet in the lesson: settled, its
 * label covers no box and stays in the network area; on its way it keeps
 * the same side of the link. */
static void test_packets_clear(void **state)
{
    (void)state;
    const int dims[][2] = {{1280, 720}, {1920, 1080}, {3840, 2160}};
    for (size_t d = 0; d < 3; d++) {
        struct ui_layout lo;
        ui_layout_compute(&lo, lesson, dims[d][0], dims[d][1], 1.0);
        size_t pairs = 0;
        for (size_t s = 0; s < lesson->nsteps; s++) {
            const struct sim_trace_event *e = sim_trace_get(lesson->trace, s);
            if (e->kind != SIM_TR_LINE && e->kind != SIM_TR_DNS) continue;
            int a = ui_lesson_host(lesson, e->from), b = ui_lesson_host(lesson, e->to);
            assert_true(a >= 0 && b >= 0);
            int ax, ay;
            struct ui_rect r = ui_layout_packet(&lo, a, b, 1.0, lo.packet_max_w, &ax, &ay);
            assert_true(inside(lo.area[UI_AREA_NETWORK], r));
            assert_true(ui_rect_contains(lo.area[UI_AREA_NETWORK], ax, ay));
            for (size_t h = 0; h < lo.nhosts; h++) assert_false(ui_rect_overlap(r, lo.host[h]));
            struct ui_rect early = ui_layout_packet(&lo, a, b, 0.0, lo.packet_max_w, NULL, NULL);
            assert_int_equal(early.w, r.w);
            assert_int_equal(early.h, lo.packet_h);
            pairs++;
        }
        assert_true(pairs > 100);
    }
}

static void test_timeline(void **state)
{
    (void)state;
    struct ui_layout lo;
    ui_layout_compute(&lo, lesson, 3840, 2160, 1.0);
    size_t n = lesson->nsteps;
    assert_true(n > 2 && n < (size_t)lo.area[UI_AREA_TIMELINE].w - 2 * lo.pad);
    int prev = -1;
    for (size_t s = 0; s < n; s++) {
        int x = ui_layout_timeline_x(&lo, n, s);
        assert_true(x > prev); /* one tick per event, in order */
        assert_int_equal(ui_layout_timeline_step(&lo, n, x), s);
        prev = x;
    }
    assert_int_equal(ui_layout_timeline_x(&lo, n, 0), lo.pad);
    assert_int_equal(ui_layout_timeline_x(&lo, n, n - 1), 3840 - lo.pad);
    assert_int_equal(ui_layout_timeline_step(&lo, n, -50), 0);
    assert_int_equal(ui_layout_timeline_step(&lo, n, 99999), n - 1);
}

/* A crowded lesson: the most hosts a lesson may have, every role. */
static void test_crowded(void **state)
{
    (void)state;
    struct ui_lesson *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->nhosts = UI_HOSTS_MAX;
    for (size_t i = 0; i < UI_HOSTS_MAX; i++) {
        snprintf(l->hosts[i].name, sizeof l->hosts[i].name, "host%zu", i);
        l->hosts[i].role = (enum sim_role)(i % SIM_ROLE_COUNT);
        l->hosts[i].holds_mail = i % 3 == 0;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct ui_layout lo;
        ui_layout_compute(&lo, l, sizes[i].w, sizes[i].h, sizes[i].text_scale);
        check_layout(&lo, l, &sizes[i]);
        assert_int_equal(lo.ncards, 11);
    }
    /* and a degenerate window: nothing negative, nothing outside */
    struct ui_layout lo;
    ui_layout_compute(&lo, l, 0, -5, 1.0);
    assert_int_equal(lo.w, 1);
    assert_int_equal(lo.h, 1);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bands),
        cmocka_unit_test(test_packets_clear),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_crowded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
