/* The engine's building blocks: the seeded RNG and the event queue. */
#include "tests/testkit.h"

#include "sim/engine.h"
#include "sim/eventq.h"
#include "sim/rng.h"
#include "sim/trace.h"

/* SplitMix64's published outputs for seed 0 (the reference implementation's
 * first three values), so a change to the generator cannot go unnoticed. */
static void test_rng_known_values(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 0);
    assert_true(sim_rng_next(&r) == 0xe220a8397b1dcdafull);
    assert_true(sim_rng_next(&r) == 0x6e789e6aa1b965f4ull);
    assert_true(sim_rng_next(&r) == 0x06c45d188009454full);
}

static void test_rng_same_seed_same_stream(void **state)
{
    (void)state;
    struct sim_rng a, b, c;
    sim_rng_seed(&a, 42);
    sim_rng_seed(&b, 42);
    sim_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);
        assert_true(x == sim_rng_next(&b));
        differ += x != sim_rng_next(&c);
    }
    assert_int_equal(differ, 1000);
}

static void test_rng_ranges(void **state)
{
    (void)state;
    struct sim_rng r;
    sim_rng_seed(&r, 7);
    unsigned counts[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t x = sim_rng_between(&r, 1, 6);
        assert_true(x >= 1 && x <= 6);
        counts[x - 1]++;
    }
    for (int i = 0; i < 6; i++) /* 10000 expected each; 5 sigma is about 450 */
        assert_true(counts[i] > 9500 && counts[i] < 10500);
    assert_int_equal(sim_rng_below(&r, 0), 0);
    assert_int_equal(sim_rng_below(&r, 1), 0);
    assert_int_equal(sim_rng_between(&r, 5, 5), 5);
    assert_int_equal(sim_rng_between(&r, 9, 2), 9);
    unsigned hits = 0;
    for (int i = 0; i < 100000; i++) hits += (unsigned)sim_rng_chance(&r, 50);
    assert_true(hits > 4300 && hits < 5700); /* 5000 expected */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(sim_rng_chance(&r, 0), 0);
        assert_int_equal(sim_rng_chance(&r, 1000), 1);
    }
}

static void test_eventq_orders_by_time_then_fifo(void **state)
{
    (void)state;
    struct sim_eventq *q = sim_eventq_new();
    assert_non_null(q);
    /* arg records the order of scheduling */
    const sim_time times[] = {30, 10, 20, 10, 30, 0, 10};
    for (int i = 0; i < 7; i++) assert_int_equal(sim_eventq_push(q, times[i], NULL, NULL, (uint64_t)i), 0);
    assert_int_equal(sim_eventq_len(q), 7);
    assert_int_equal(sim_eventq_peek(q)->arg, 5);
    const int want[] = {5, 1, 3, 6, 2, 0, 4};
    struct sim_event ev;
    for (int i = 0; i < 7; i++) {
        assert_int_equal(sim_eventq_pop(q, &ev), 1);
        assert_int_equal(ev.arg, want[i]);
    }
    assert_int_equal(sim_eventq_pop(q, &ev), 0);
    assert_null(sim_eventq_peek(q));
    sim_eventq_free(q);
}

/* Many events with few distinct times: the heap must still give FIFO order
 * within each time, which a plain heap does not. */
static void test_eventq_fifo_at_scale(void **state)
{
    (void)state;
    struct sim_eventq *q = sim_eventq_new();
    struct sim_rng r;
    sim_rng_seed(&r, 1);
    enum { N = 20000 };
    for (int i = 0; i < N; i++)
        assert_int_equal(sim_eventq_push(q, sim_rng_below(&r, 16), NULL, NULL, (uint64_t)i), 0);
    struct sim_event ev, prev = {0};
    int n = 0;
    while (sim_eventq_pop(q, &ev)) {
        if (n++ > 0) {
            assert_true(ev.time >= prev.time);
            if (ev.time == prev.time) assert_true(ev.arg > prev.arg);
        }
        prev = ev;
    }
    assert_int_equal(n, N);
    sim_eventq_free(q);
}

/* Pushes and pops interleaved, as a run does: every pop gives the event
 * with the least (time, push order) of those waiting, found here by a
 * plain scan of a list of what was pushed. */
static void test_eventq_interleaved(void **state)
{
    (void)state;
    struct sim_eventq *q = sim_eventq_new();
    struct sim_rng r;
    sim_rng_seed(&r, 7);
    enum { OPS = 6000 };
    static sim_time t[OPS];
    static bool gone[OPS];
    int pushed = 0, popped = 0;
    for (int k = 0; k < OPS; k++) {
        if (pushed == popped || sim_rng_below(&r, 5) < 3) {
            t[pushed] = sim_rng_below(&r, 200);
            assert_int_equal(sim_eventq_push(q, t[pushed], NULL, NULL, (uint64_t)pushed), 0);
            pushed++;
            continue;
        }
        int want = -1;
        for (int i = 0; i < pushed; i++)
            if (!gone[i] && (want < 0 || t[i] < t[want])) want = i;
        struct sim_event ev;
        assert_int_equal(sim_eventq_pop(q, &ev), 1);
        assert_int_equal(ev.arg, want);
        assert_int_equal(ev.time, t[want]);
        gone[want] = true;
        popped++;
    }
    assert_int_equal(sim_eventq_len(q), (size_t)(pushed - popped));
    sim_eventq_free(q);
}

static void test_trace_copies_and_numbers_events(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_new();
    assert_non_null(tr);
    char line[] = "MAIL FROM:<manish@example.com>";
    struct sim_trace_event ev = {
        .t = SIM_MSEC(12), .kind = SIM_TR_LINE, .proto = SIM_PROTO_SMTP,
        .from = "laptop", .to = "mail.example.com", .port = 587,
        .dir = SIM_DIR_C2S, .conn = 1, .wire_bytes = sizeof line + 1, .text = line,
    };
    assert_int_equal(sim_trace_add(tr, &ev), 0);
    line[0] = 'X'; /* the trace kept its own copy */
    ev.text = NULL;
    ev.kind = SIM_TR_MAIL;
    ev.mail = (struct sim_trace_mail){.change = SIM_MAIL_ADDED, .owner = "mx.example.org",
                                      .folder = "INBOX", .uid = 7, .flags = SIM_FLAG_RECENT};
    assert_int_equal(sim_trace_add(tr, &ev), 1);
    /* enough events and text to need several string chunks and regrowth */
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ev.text = big;
    for (int i = 0; i < 200; i++) assert_int_equal(sim_trace_add(tr, &ev), 2 + i);
    assert_int_equal(sim_trace_len(tr), 202);

    const struct sim_trace_event *e0 = sim_trace_get(tr, 0);
    assert_string_equal(e0->text, "MAIL FROM:<manish@example.com>");
    assert_string_equal(e0->note, "");
    assert_string_equal(e0->mail.owner, "");
    assert_int_equal(e0->port, 587);
    assert_int_equal(e0->step, 0);
    const struct sim_trace_event *e1 = sim_trace_get(tr, 1);
    assert_string_equal(e1->text, "");
    assert_string_equal(e1->mail.owner, "mx.example.org");
    assert_int_equal(e1->mail.uid, 7);
    assert_int_equal(strlen(sim_trace_get(tr, 201)->text), sizeof big - 1);
    assert_int_equal(sim_trace_get(tr, 201)->step, 201);
    assert_null(sim_trace_get(tr, 202));
    /* an event's address never changes as the trace grows (a live view
     * keeps pointers across steps) */
    const struct sim_trace_event *kept = sim_trace_get(tr, 1);
    ev.text = "x";
    for (int i = 0; i < 10000; i++) assert_true(sim_trace_add(tr, &ev) >= 0);
    assert_ptr_equal(kept, sim_trace_get(tr, 1));
    assert_string_equal(kept->mail.owner, "mx.example.org");
    assert_int_equal(sim_trace_get(tr, 10201)->step, 10201);
    assert_string_equal(sim_proto_names[SIM_PROTO_POP3], "pop3");
    assert_string_equal(sim_dir_names[SIM_DIR_S2C], "s2c");
    sim_trace_free(tr);
}

/* A handler that records when it ran and schedules a follow-up: the engine
 * must run events in time order, advance now, and stop at `until`. */
static char ran[64];
static size_t nran;

static void tick(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)ctx;
    ran[nran++] = (char)('a' + arg);
    struct sim_trace_event ev = {.kind = SIM_TR_ACTION, .proto = SIM_PROTO_SIM, .text = "tick"};
    assert_true(sim_record(e, &ev) >= 0);
    if (arg < 3) sim_after(e, SIM_SEC(1), tick, NULL, arg + 1);
}

static void test_engine_runs_in_order_and_stops(void **state)
{
    (void)state;
    struct sim_engine e;
    assert_int_equal(sim_engine_init(&e, 5), 0);
    nran = 0;
    sim_after(&e, SIM_MSEC(500), tick, NULL, 0);  /* a at 0.5 s, b 1.5, c 2.5, d 3.5 */
    /* k at 1.5 s too, but scheduled before a scheduled b: k runs first */
    sim_after(&e, SIM_MSEC(1500), tick, NULL, 10);
    assert_int_equal(sim_engine_run(&e, SIM_SEC(2)), 3);
    assert_memory_equal(ran, "akb", 3);
    assert_true(e.now == SIM_MSEC(1500));
    assert_int_equal(sim_engine_run(&e, SIM_SEC(100)), 2);
    assert_memory_equal(ran, "akbcd", 5);
    assert_true(e.now == SIM_MSEC(3500));
    assert_int_equal(sim_trace_len(e.trace), 5);
    assert_true(sim_trace_get(e.trace, 4)->t == SIM_MSEC(3500));
    assert_true(sim_trace_get(e.trace, 4)->arrive == SIM_MSEC(3500));
    sim_engine_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_known_values),
        cmocka_unit_test(test_rng_same_seed_same_stream),
        cmocka_unit_test(test_rng_ranges),
        cmocka_unit_test(test_eventq_orders_by_time_then_fifo),
        cmocka_unit_test(test_eventq_fifo_at_scale),
        cmocka_unit_test(test_eventq_interleaved),
        cmocka_unit_test(test_trace_copies_and_numbers_events),
        cmocka_unit_test(test_engine_runs_in_order_and_stops),
    };
    return cmocka_run_group_tests_name("sim_engine", tests, NULL, NULL);
}
