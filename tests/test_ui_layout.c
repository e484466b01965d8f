/* The layout: for every window size from 1280x720 to 3840x2160, every box
 * inside the window and the network, no two boxes overlapping, panels
 * apart, packets clear of the boxes, the timeline's ticks in order; and in
 * every lesson, no link drawn through a box that is not one of its ends. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "render/ui_layout.h"
#include "render/ui_lesson.h"
#include "render/ui_state.h"

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

/* Whether (x, y) lies on r's box, edge included. */
static bool on_box(struct ui_rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x <= r.x + r.w && y <= r.y + r.h;
}

/* One link as drawn: it starts on a's box, ends on b's, and no segment of
 * it passes through any other host's box; its tag covers no box. Returns
 * whether it had to go round (a detour). */
static bool check_link(const struct ui_layout *lo, const struct ui_lesson *l, int a, int b,
                       size_t step)
{
    struct ui_route r;
    ui_layout_route(lo, a, b, &r);
    assert_true(r.n >= 2 && r.n <= UI_ROUTE_MAX);
    assert_true((r.n == 2) == (r.lane < 0));
    assert_true(on_box(lo->host[a], r.x[0], r.y[0]));
    assert_true(on_box(lo->host[b], r.x[r.n - 1], r.y[r.n - 1]));
    for (int i = 0; i + 1 < r.n; i++)
        for (size_t h = 0; h < lo->nhosts; h++) {
            if ((int)h == a || (int)h == b) continue;
            if (ui_route_segment_crosses(&r, i, lo->host[h]))
                fail_msg("%s %dx%d step %zu: the link %s - %s crosses %s", l->name, lo->w, lo->h,
                         step, l->hosts[a].name, l->hosts[b].name, l->hosts[h].name);
        }
    struct ui_rect tag = ui_layout_link_tag(lo, a, b, lo->packet_max_w / 3);
    assert_true(inside(lo->area[UI_AREA_NETWORK], tag));
    for (size_t h = 0; h < lo->nhosts; h++) assert_false(ui_rect_overlap(tag, lo->host[h]));
    /* the packet's point is on the route: at the start, it leaves a's box */
    int px, py;
    ui_layout_packet(lo, a, b, 0.0, lo->packet_h * 4, &px, &py);
    int sx, sy;
    ui_route_point(&r, 0.08, &sx, &sy);
    assert_int_equal(px, sx);
    assert_int_equal(py, sy);
    return r.lane >= 0;
}

/* Every lesson, every step, every connection open (and the packet's and a
 * refused connection's link), at three window sizes: no link runs through
 * a box that is not one of its ends, so none seems to join the wrong host. */
static void test_links_join_their_hosts(void **state)
{
    (void)state;
    static char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    size_t nl = ui_lesson_list("tests", names, UI_LESSONS_MAX);
    assert_true(nl >= 7);
    const int dims[][2] = {{1280, 720}, {1920, 1080}, {3840, 2160}};
    size_t links = 0, detours = 0;
    static struct ui_state st;
    for (size_t n = 0; n < nl; n++) {
        FILE *err = tmpfile();
        struct ui_lesson *l = ui_lesson_load(names[n], "tests", err);
        fclose(err);
        assert_non_null(l);
        for (size_t d = 0; d < 3; d++) {
            struct ui_layout lo;
            ui_layout_compute(&lo, l, dims[d][0], dims[d][1], 1.0);
            ui_state_init(&st, l);
            for (size_t s = 0; s < l->nsteps; s++) {
                ui_state_at(&st, s);
                for (size_t c = 0; c < st.nconns; c++) {
                    if (st.conns[c].client < 0 || st.conns[c].server < 0) continue;
                    detours += check_link(&lo, l, st.conns[c].client, st.conns[c].server, s);
                    links++;
                }
                if (st.has_packet && st.pk_from != st.pk_to) {
                    detours += check_link(&lo, l, st.pk_from, st.pk_to, s);
                    links++;
                }
                const struct sim_trace_event *e = st.ev;
                if (e && e->kind == SIM_TR_REFUSED) {
                    int a = ui_lesson_host(l, e->from), b = ui_lesson_host(l, e->to);
                    if (a >= 0 && b >= 0 && a != b) detours += check_link(&lo, l, a, b, s);
                }
            }
        }
        ui_lesson_free(l);
    }
    assert_true(links > 10000);
    assert_true(detours > 0); /* lesson 3's laptop, at least */
}

/* Lesson 3: asha-laptop sits right of mail.example.org, and its link to
 * mail.example.com goes round that box (a straight line would run through
 * it); the tag and the settled packet are on the detour's lane. */
static void test_detour_lesson3(void **state)
{
    (void)state;
    FILE *err = tmpfile();
    struct ui_lesson *l = ui_lesson_load("03-ports-and-encryption", "tests", err);
    fclose(err);
    assert_non_null(l);
    int laptop = ui_lesson_host(l, "asha-laptop"), mx1 = ui_lesson_host(l, "mail.example.com"),
        mx2 = ui_lesson_host(l, "mail.example.org");
    assert_true(laptop >= 0 && mx1 >= 0 && mx2 >= 0);
    struct ui_layout lo;
    ui_layout_compute(&lo, l, 1920, 1080, 1.0);
    struct ui_rect A = lo.host[laptop], M = lo.host[mx1], O = lo.host[mx2];
    /* the old straight line: centre to centre through mail.example.org */
    struct ui_route straight = {2, {A.x, M.x + M.w}, {A.y + A.h / 2, M.y + M.h / 2}, -1};
    assert_true(ui_route_segment_crosses(&straight, 0, O));
    struct ui_route r;
    ui_layout_route(&lo, laptop, mx1, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.x[0], A.x + A.w / 2); /* down from the laptop's middle */
    assert_int_equal(r.y[0], A.y + A.h);
    assert_int_equal(r.x[3], M.x + M.w / 2); /* up into the server's middle */
    assert_int_equal(r.y[3], M.y + M.h);
    assert_int_equal(r.lane, 1);
    assert_int_equal(r.y[1], r.y[2]); /* a level lane, below both */
    assert_true(r.y[1] > O.y + O.h);
    struct ui_rect tag = ui_layout_link_tag(&lo, laptop, mx1, 120);
    assert_true(tag.y >= r.y[1]); /* beside the lane, on its outer side */
    assert_true(tag.x < (r.x[0] + r.x[3]) / 2 && tag.x + tag.w > (r.x[0] + r.x[3]) / 2);
    int px, py;
    ui_layout_packet(&lo, laptop, mx1, 1.0, 200, &px, &py);
    assert_int_equal(py, r.y[1]); /* settled on the lane's middle */
    assert_int_equal(px, (r.x[1] + r.x[2]) / 2);
    /* a straight link where nothing is in the way */
    ui_layout_route(&lo, mx1, mx2, &r);
    assert_int_equal(r.n, 2);
    ui_lesson_free(l);
}

/* Segments against a 10x10 box at (10, 10). */
static void test_segment_crosses(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int x0, y0, x1, y1;
        bool crosses;
    } cases[] = {
        {"through the middle", 0, 15, 30, 15, true},
        {"passes above", 0, 5, 30, 5, false},
        {"vertical through", 15, 0, 15, 30, true},
        {"stops short", 0, 15, 9, 15, false},
        {"starts inside", 12, 12, 50, 50, true},
        {"diagonal misses the corner", 0, 8, 8, 0, false},
        {"diagonal through", 0, 0, 30, 30, true},
    };
    struct ui_rect box = {10, 10, 10, 10};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("segment: %s\n", cases[i].name);
        struct ui_route r = {2, {cases[i].x0, cases[i].x1}, {cases[i].y0, cases[i].y1}, -1};
        assert_int_equal(ui_route_segment_crosses(&r, 0, box), cases[i].crosses);
        assert_false(ui_route_segment_crosses(&r, 1, box)); /* no such segment */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bands),
        cmocka_unit_test(test_packets_clear),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_crowded),
        cmocka_unit_test(test_segment_crosses),
        cmocka_unit_test(test_detour_lesson3),
        cmocka_unit_test(test_links_join_their_hosts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
