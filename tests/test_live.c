/* The live window of `mailsim serve` (render/ui_live.h), headless: a bridge
 * on a loopback port offset, a real TCP socket speaking SMTP to its port 25
 * endpoint, the live loop stepped by the test (made-up frame times, the
 * bridge's own clock for the sockets), and the followed step drawn on a
 * canvas with SDL's dummy driver. Every wait is bounded (WAIT_MS); nothing
 * asserts a speed. */
#include "tests/testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "render/ui_live.h"
#include "render/ui_snapshot.h"
#include "tests/ui_headless.h"
#include "sim/bridge.h"

#define WAIT_MS 10000     /* the longest any one wait may take: a bound, not a check */
#define FRAME_MS 40       /* made-up time between two turns of the live loop */
#define LESSON "lessons/default.json"

struct fixture {
    struct sim_scenario *s;
    struct sim_world *w;
    struct sim_bridge *b;
    struct ui_live *lv;
    uint64_t now;         /* the player's made-up clock */
    int fd;
};

static struct fixture current;

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The world as `mailsim serve` builds it, a bridge on a free port offset,
 * the live view on it, and a socket to mail.example.org's SMTP endpoint. */
static void start(struct fixture *f)
{
    static struct sim_scn_diags dg;
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->s = sim_scenario_load(LESSON, &dg);
    assert_non_null(f->s);
    f->s->nactions = f->s->ndevices = f->s->nprograms = 0;
    struct sim_bridge_config cfg = {.quiet = true};
    char err[256] = "";
    for (int tries = 0; tries < 8 && !f->b; tries++) {
        sim_world_free(f->w);
        f->w = sim_world_new(f->s, &dg); /* a failed bridge leaves its host */
        assert_non_null(f->w);
        cfg.port_offset = 20050 + (unsigned)((getpid() * 11 + tries * 17) % 400) * 100;
        f->b = sim_bridge_new(f->w, f->s, &cfg, err, sizeof err);
    }
    if (!f->b) print_message("%s\n", err);
    assert_non_null(f->b);
    f->lv = ui_live_new(f->w, f->s, f->b, "tests", f->now);
    assert_non_null(f->lv);
    const struct sim_bridge_endpoint *ep = NULL;
    for (size_t i = 0; i < sim_bridge_endpoint_count(f->b); i++) {
        const struct sim_bridge_endpoint *e = sim_bridge_endpoint(f->b, i);
        if (strcmp(e->host, "mail.example.org") == 0 && e->service == SIM_BRIDGE_SMTP) ep = e;
    }
    assert_non_null(ep);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ep->port)};
    assert_int_equal(inet_pton(AF_INET, ep->address, &a.sin_addr), 1);
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->fd >= 0);
    assert_int_equal(connect(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(fcntl(f->fd, F_SETFL, O_NONBLOCK), 0);
}

static int stop(void **state)
{
    (void)state;
    struct fixture *f = &current;
    if (f->fd >= 0) close(f->fd);
    ui_live_free(f->lv);
    sim_bridge_free(f->b);
    sim_world_free(f->w);
    sim_scenario_free(f->s);
    memset(f, 0, sizeof *f);
    return 0;
}

/* One turn of the live loop, as the window takes it between frames. */
static void turn(struct fixture *f)
{
    f->now += FRAME_MS;
    assert_int_equal(ui_live_step(f->lv, 5, f->now), 0);
}

static void send_line(struct fixture *f, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(send(f->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Turns the loop until the socket has a reply whose last line starts with
 * "CODE "; returns that line without CRLF. */
static void expect_reply(struct fixture *f, const char *code, char *line, size_t cap)
{
    size_t n = 0;
    long long end = wall_ms() + WAIT_MS;
    while (wall_ms() < end) {
        char ch;
        ssize_t r = recv(f->fd, &ch, 1, 0);
        if (r == 1) {
            if (ch != '\n') {
                if (n + 1 < cap) line[n++] = ch;
                continue;
            }
            if (n && line[n - 1] == '\r') n--;
            line[n] = 0;
            if (strncmp(line, code, 3) != 0) fail_msg("expected %s, got \"%s\"", code, line);
            if (line[3] == ' ') return;
            n = 0;
            continue;
        }
        assert_true(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
        turn(f);
    }
    fail_msg("no %s reply within %d ms", code, WAIT_MS);
}

static const struct sim_trace_event *shown_event(struct fixture *f)
{
    struct ui_player *p = ui_live_player(f->lv);
    return sim_trace_get(p->lesson->trace, p->step);
}

/* Turns the loop until the followed view is at the newest exchange with
 * its packet settled. */
static void catch_up(struct fixture *f)
{
    struct ui_player *p = ui_live_player(f->lv);
    long long end = wall_ms() + WAIT_MS;
    do
        turn(f);
    while ((ui_live_newer(f->lv) || p->view.progress < 1.0) && wall_ms() < end);
    assert_int_equal(ui_live_newer(f->lv), 0);
}

/* The newest line the real client sent is what the followed view animates:
 * nsteps grew, and the frame drawn at that step has the packet on the link
 * from real-client to the server and the line at the transcript's end. */
static void test_follows_a_real_smtp_command(void **state)
{
    (void)state;
    struct fixture *f = &current;
    start(f);
    struct ui_player *p = ui_live_player(f->lv);
    const struct ui_lesson *l = p->lesson;
    int client = ui_lesson_host(l, SIM_BRIDGE_HOST);
    int server = ui_lesson_host(l, "mail.example.org");
    assert_true(client >= 0);
    assert_true(server >= 0);
    assert_true(p->view.playing); /* following from the start */
    assert_string_equal(l->name, "live");
    assert_memory_equal(l->summary, "Live: mail programs on this machine", 35);
    size_t before = l->nsteps;

    char line[512];
    expect_reply(f, "220", line, sizeof line);
    assert_memory_equal(line, "220 mail.example.org ", 21);
    assert_true(l->nsteps > before);
    catch_up(f);
    char status[UI_LIVE_STATUS_MAX];
    assert_string_equal(ui_live_status(f->lv, status, sizeof status),
                        "LIVE   1 real client connected");

    size_t grown = l->nsteps;
    send_line(f, "EHLO live.example.net\r\n");
    /* the view moves on to the command by itself, animating it */
    const struct sim_trace_event *ev = NULL;
    long long end = wall_ms() + WAIT_MS;
    while (wall_ms() < end) {
        turn(f);
        ev = shown_event(f);
        if (ev && ev->kind == SIM_TR_LINE && strcmp(ev->text, "EHLO live.example.net") == 0) break;
    }
    assert_non_null(ev);
    assert_string_equal(ev->text, "EHLO live.example.net");
    assert_true(l->nsteps > grown);
    assert_true(p->step >= grown);
    assert_true(p->view.playing);
    assert_true(p->view.progress < 1.0); /* its packet is on its way */
    assert_string_equal(ev->from, SIM_BRIDGE_HOST);
    assert_int_equal(ev->dir, SIM_DIR_C2S);

    /* the player's own frame, then the same step drawn on a canvas */
    ui_live_frame(f->lv, 1280, 720);
    assert_int_equal(p->state.step, p->step);
    assert_string_equal(p->state.ev->text, "EHLO live.example.net");
    assert_non_null(strstr(p->view.live, "LIVE   1 real client connected"));
    struct ui_canvas *c = ui_canvas_new(l, 1280, 720, assets);
    assert_non_null(c);
    ui_canvas_draw(c, p->step, &p->view);
    const struct ui_state *st = ui_canvas_state(c);
    assert_string_equal(st->ev->text, "EHLO live.example.net");
    assert_true(st->has_packet);
    assert_int_equal(st->pk_from, client);
    assert_int_equal(st->pk_to, server);
    assert_int_equal(st->focus_proto, SIM_PROTO_SMTP);
    assert_true(st->ndialogue >= 2); /* the greeting, then the command */
    assert_int_equal(st->dialogue[st->ndialogue - 1], p->step);
    assert_string_equal(sim_trace_get(l->trace, st->dialogue[0])->text, line);
    const struct ui_layout *lo = ui_canvas_layout(c);
    struct ui_rect pk = ui_draw_packet_rect(ui_canvas_drawer(c), lo, st, &p->view, NULL);
    assert_true(pk.w > 0 && pk.h > 0);
    assert_true(ui_rect_contains(lo->area[UI_AREA_NETWORK], pk.x + pk.w / 2, pk.y + pk.h / 2));
    char right[256];
    assert_string_equal(ui_draw_status(&p->view, right, sizeof right),
                        "LIVE   1 real client connected   playing  1x   H: keys");
    ui_canvas_free(c);

    /* the server's reply follows; the view ends on its last line */
    expect_reply(f, "250", line, sizeof line);
    catch_up(f);
    ev = shown_event(f);
    assert_string_equal(ev->text, line);
    assert_string_equal(ev->from, "mail.example.org");
    assert_int_equal(ev->dir, SIM_DIR_S2C);
    assert_true(p->view.playing);
}

/* Paused, the view stays while real traffic goes on, and the top bar counts
 * the newer steps; Left goes back, End to the newest, Tab and Q do
 * nothing, and closing the window quits. */
static void test_pause_and_keys(void **state)
{
    (void)state;
    struct fixture *f = &current;
    start(f);
    struct ui_player *p = ui_live_player(f->lv);
    char line[512], status[UI_LIVE_STATUS_MAX];
    expect_reply(f, "220", line, sizeof line);
    catch_up(f);
    SDL_Event space = {.key = {.type = SDL_KEYDOWN, .keysym = {.sym = SDLK_SPACE}}};
    assert_int_equal(ui_live_event(f->lv, &space, NULL, f->now), UI_PLAYER_NONE);
    assert_false(p->view.playing);
    size_t paused = p->step;

    send_line(f, "NOOP\r\n");
    expect_reply(f, "250", line, sizeof line);
    for (int i = 0; i < 10; i++) turn(f);
    assert_int_equal(p->step, paused);
    assert_false(p->view.playing);
    /* NOOP and its 250: two lines newer than the one shown */
    assert_int_equal(ui_live_newer(f->lv), 2);
    assert_string_equal(ui_live_status(f->lv, status, sizeof status),
                        "LIVE   1 real client connected   2 newer steps");
    char right[256];
    assert_string_equal(ui_draw_status(&p->view, right, sizeof right),
                        "LIVE   1 real client connected   2 newer steps   paused  1x   H: keys");

    static const struct {
        const char *name;
        SDL_Keycode key;
        enum ui_player_action action;
        int moves; /* -1 back, 0 stays, 1 to the newest */
    } keys[] = {
        {"Tab: no other lesson", SDLK_TAB, UI_PLAYER_NONE, 0},
        {"Q: no quiz", SDLK_q, UI_PLAYER_NONE, 0},
        {"Left: the exchange before", SDLK_LEFT, UI_PLAYER_NONE, -1},
        {"End: the newest", SDLK_END, UI_PLAYER_NONE, 1},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t was = p->step;
        SDL_Event k = {.key = {.type = SDL_KEYDOWN, .keysym = {.sym = keys[i].key}}};
        if (ui_live_event(f->lv, &k, NULL, f->now) != keys[i].action) fail_msg("%s", keys[i].name);
        if (keys[i].moves < 0 && !(p->step < was)) fail_msg("%s: still at %zu", keys[i].name, was);
        if (keys[i].moves == 0 && p->step != was) fail_msg("%s: moved", keys[i].name);
        if (keys[i].moves > 0 && p->step != p->lesson->nsteps - 1)
            fail_msg("%s: at %zu of %zu", keys[i].name, p->step, p->lesson->nsteps);
        assert_string_equal(p->lesson->name, "live");
    }
    assert_string_equal(shown_event(f)->text, line);
    assert_int_equal(ui_live_newer(f->lv), 0);

    /* the client goes: nobody is connected */
    close(f->fd);
    f->fd = -1;
    long long end = wall_ms() + WAIT_MS;
    struct sim_bridge_stats bs;
    do {
        turn(f);
        sim_bridge_stats(f->b, &bs);
    } while (bs.open && wall_ms() < end);
    assert_int_equal(bs.open, 0);
    assert_memory_equal(ui_live_status(f->lv, status, sizeof status),
                        "LIVE   0 real clients connected", 31);

    SDL_Event quit = {.type = SDL_QUIT};
    assert_int_equal(ui_live_event(f->lv, &quit, NULL, f->now), UI_PLAYER_QUIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_follows_a_real_smtp_command, stop),
        cmocka_unit_test_teardown(test_pause_and_keys, stop),
    };
    return cmocka_run_group_tests(tests, headless_setup, headless_teardown);
}
