/* mailsim compare: IMAP sync against POP3 download on the same stream of
 * mail with the same habits. The tests hold the qualitative results the
 * feature exists to teach, the rules' presets, determinism, and the
 * trace's counting mode the long runs use. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "sim/compare.h"
#include "sim/device.h"
#include "sim/trace.h"

static struct sim_compare *run(const struct sim_compare_params *p)
{
    char err[256] = "";
    struct sim_compare *c = sim_compare_run(p, err, sizeof err);
    if (!c) fprintf(stderr, "sim_compare_run: %s\n", err);
    assert_non_null(c);
    return c;
}

static struct sim_compare_params small(unsigned devices, unsigned days, unsigned per_day)
{
    struct sim_compare_params p;
    sim_compare_defaults(&p);
    p.devices = devices;
    p.days = days;
    p.per_day = per_day;
    return p;
}

static size_t devices_missing_some(const struct sim_compare *c, enum sim_compare_side side)
{
    size_t n = 0;
    for (size_t i = 0; i < sim_compare_params(c)->devices; i++)
        n += !sim_compare_saw_all(c, side, i);
    return n;
}

/* ---- the qualitative results --------------------------------------------- */

struct many_case {
    const char *name;
    unsigned devices, days, per_day;
    uint64_t seed;
};

static const struct many_case many_cases[] = {
    {"two devices, three days", 2, 3, 20, 1},
    {"three devices, a week", 3, 7, 40, 7},
    {"four devices, two days", 4, 2, 60, 11},
    {"eight devices, a day", 8, 1, 80, 3},
};

/* With two or more devices, POP3 (download and delete) leaves some device
 * without some message, and IMAP never does. */
static void test_many_devices_pop3_misses_imap_never(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(many_cases); i++) {
        const struct many_case *mc = &many_cases[i];
        struct sim_compare_params p = small(mc->devices, mc->days, mc->per_day);
        p.seed = mc->seed;
        struct sim_compare *c = run(&p);
        const struct sim_compare_measures *im = sim_compare_final(c, SIM_CMP_IMAP);
        const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
        size_t total = (size_t)mc->days * mc->per_day;
        assert_int_equal(im->delivered, total);
        assert_int_equal(po->delivered, total);
        assert_int_equal(devices_missing_some(c, SIM_CMP_IMAP), 0);
        for (size_t d = 0; d < mc->devices; d++) assert_int_equal(im->seen[d], total);
        assert_true(devices_missing_some(c, SIM_CMP_POP3) >= 1);
        /* download and delete: each message reached exactly one device */
        size_t sum = 0;
        for (size_t d = 0; d < mc->devices; d++) sum += po->seen[d];
        assert_int_equal(sum, total);
        for (size_t k = 0; k < total; k++) {
            unsigned bits = sim_compare_seen_by(c, SIM_CMP_POP3, k);
            assert_true(bits != 0 && (bits & (bits - 1)) == 0);
            assert_int_equal(sim_compare_seen_by(c, SIM_CMP_IMAP, k), (1u << mc->devices) - 1);
        }
        sim_compare_free(c);
    }
}

/* Without leave-on-server the POP3 server stores nothing at the end; the
 * IMAP server keeps what was filed and kept. */
static void test_pop3_server_empty_without_leave(void **state)
{
    (void)state;
    for (unsigned devices = 1; devices <= 3; devices++) {
        struct sim_compare_params p = small(devices, 4, 30);
        struct sim_compare *c = run(&p);
        const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
        const struct sim_compare_measures *im = sim_compare_final(c, SIM_CMP_IMAP);
        assert_int_equal(po->server_msgs, 0);
        assert_int_equal(po->server_bytes, 0);
        size_t n;
        for (size_t i = 0; sim_compare_folder(c, SIM_CMP_POP3, i, &n); i++) assert_int_equal(n, 0);
        size_t deleted, filed, kept;
        sim_compare_fates(c, SIM_CMP_IMAP, &deleted, &filed, &kept, NULL);
        assert_true(filed > 0);
        /* what the IMAP server holds: the filed messages, and in INBOX those
         * kept or not yet tidied */
        size_t in_folders = 0;
        for (size_t i = 1; i <= 4; i++) {
            assert_non_null(sim_compare_folder(c, SIM_CMP_IMAP, i, &n));
            in_folders += n;
        }
        assert_int_equal(in_folders, filed);
        assert_true(im->server_msgs > filed);
        assert_true(im->server_msgs < im->delivered);
        sim_compare_free(c);
    }
}

/* With leave-on-server every POP3 device gets every message, the server
 * keeps every one (POP3 deletions are the device's own), and each device
 * downloads each: more bytes than download-and-delete. */
static void test_pop3_leave_on_server(void **state)
{
    (void)state;
    struct sim_compare_params p = small(3, 3, 20);
    struct sim_compare *dl = run(&p);
    p.leave_on_server = true;
    struct sim_compare *c = run(&p);
    const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
    assert_int_equal(po->delivered, 60);
    assert_int_equal(po->server_msgs, 60);
    assert_int_equal(devices_missing_some(c, SIM_CMP_POP3), 0);
    assert_true(po->bytes > sim_compare_final(dl, SIM_CMP_POP3)->bytes);
    /* the IMAP side does not depend on a POP3 option */
    assert_memory_equal(sim_compare_final(c, SIM_CMP_IMAP), sim_compare_final(dl, SIM_CMP_IMAP),
                        sizeof(struct sim_compare_measures));
    sim_compare_free(dl);
    sim_compare_free(c);
}

/* ---- the quick-pick rules --------------------------------------------------- */

static void test_rule_many_devices(void **state)
{
    (void)state;
    struct sim_compare_params p;
    assert_int_equal(sim_compare_rule_params(SIM_CMP_RULE_MANY_DEVICES, &p), 0);
    assert_int_equal(p.devices, 3);
    struct sim_compare *c = run(&p);
    assert_int_equal(devices_missing_some(c, SIM_CMP_IMAP), 0);
    assert_true(devices_missing_some(c, SIM_CMP_POP3) >= 2);
    size_t not_on_phone;
    sim_compare_fates(c, SIM_CMP_POP3, NULL, NULL, NULL, &not_on_phone);
    assert_true(not_on_phone > 0);
    sim_compare_fates(c, SIM_CMP_IMAP, NULL, NULL, NULL, &not_on_phone);
    assert_int_equal(not_on_phone, 0);
    sim_compare_free(c);
}

static void test_rule_folders_search(void **state)
{
    (void)state;
    struct sim_compare_params p;
    assert_int_equal(sim_compare_rule_params(SIM_CMP_RULE_FOLDERS_SEARCH, &p), 0);
    struct sim_compare *c = run(&p);
    size_t filed_imap, filed_pop3, n, in_folders = 0;
    sim_compare_fates(c, SIM_CMP_IMAP, NULL, &filed_imap, NULL, NULL);
    sim_compare_fates(c, SIM_CMP_POP3, NULL, &filed_pop3, NULL, NULL);
    assert_int_equal(filed_pop3, 0); /* RFC 1939: no folders on the server */
    assert_true(filed_imap * 2 > sim_compare_final(c, SIM_CMP_IMAP)->delivered / 2);
    static const char *const names[] = {"INBOX", "Work", "Family", "Receipts", "Travel"};
    for (size_t i = 1; i <= 4; i++) {
        assert_string_equal(sim_compare_folder(c, SIM_CMP_IMAP, i, &n), names[i]);
        assert_true(n > 0);
        in_folders += n;
        sim_compare_folder(c, SIM_CMP_POP3, i, &n);
        assert_int_equal(n, 0);
    }
    assert_int_equal(in_folders, filed_imap);
    sim_compare_free(c);
}

static void test_rule_one_pc(void **state)
{
    (void)state;
    struct sim_compare_params p;
    assert_int_equal(sim_compare_rule_params(SIM_CMP_RULE_ONE_PC, &p), 0);
    assert_int_equal(p.devices, 1);
    struct sim_compare *c = run(&p);
    const struct sim_compare_measures *im = sim_compare_final(c, SIM_CMP_IMAP);
    const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
    assert_true(sim_compare_saw_all(c, SIM_CMP_IMAP, 0));
    assert_true(sim_compare_saw_all(c, SIM_CMP_POP3, 0));
    assert_int_equal(po->server_msgs, 0);
    assert_true(im->server_msgs > 0);
    assert_true(po->bytes < im->bytes);
    sim_compare_free(c);
}

static void test_rule_names(void **state)
{
    (void)state;
    assert_int_equal(sim_compare_rule_find("many-devices"), SIM_CMP_RULE_MANY_DEVICES);
    assert_int_equal(sim_compare_rule_find("folders-search"), SIM_CMP_RULE_FOLDERS_SEARCH);
    assert_int_equal(sim_compare_rule_find("one-pc"), SIM_CMP_RULE_ONE_PC);
    assert_int_equal(sim_compare_rule_find("one-PC"), -1);
    assert_int_equal(sim_compare_rule_find(NULL), -1);
    struct sim_compare_params p;
    assert_int_equal(sim_compare_rule_params(SIM_CMP_RULE_COUNT, &p), -1);
}

/* ---- determinism ----------------------------------------------------------------- */

static void assert_same_results(const struct sim_compare *a, const struct sim_compare *b)
{
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        size_t na, nb;
        const struct sim_compare_measures *sa = sim_compare_samples(a, s, &na);
        const struct sim_compare_measures *sb = sim_compare_samples(b, s, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(sa, sb, na * sizeof *sa);
        for (size_t k = 0; k < sim_compare_messages(a); k++)
            assert_int_equal(sim_compare_seen_by(a, s, k), sim_compare_seen_by(b, s, k));
        for (size_t i = 0; i < SIM_COMPARE_FOLDERS; i++) {
            size_t x, y;
            sim_compare_folder(a, s, i, &x);
            sim_compare_folder(b, s, i, &y);
            assert_int_equal(x, y);
        }
    }
}

static void test_same_seed_same_numbers(void **state)
{
    (void)state;
    struct sim_compare_params p = small(3, 5, 30);
    p.seed = 42;
    struct sim_compare *a = run(&p);
    struct sim_compare *b = run(&p);
    assert_same_results(a, b);
    /* another seed: another stream, other numbers */
    p.seed = 43;
    struct sim_compare *c = run(&p);
    const struct sim_compare_measures *ma = sim_compare_final(a, SIM_CMP_POP3);
    const struct sim_compare_measures *mc = sim_compare_final(c, SIM_CMP_POP3);
    assert_int_equal(ma->delivered, mc->delivered);
    assert_true(memcmp(ma->seen, mc->seen, sizeof ma->seen) != 0 || ma->bytes != mc->bytes);
    sim_compare_free(a);
    sim_compare_free(b);
    sim_compare_free(c);
}

/* Keeping the trace changes nothing in the numbers, and the traces of two
 * runs are the same event for event. */
static void test_same_seed_same_trace(void **state)
{
    (void)state;
    struct sim_compare_params p = small(2, 1, 10);
    struct sim_compare *counted = run(&p);
    p.keep_trace = true;
    struct sim_compare *a = run(&p);
    struct sim_compare *b = run(&p);
    assert_same_results(counted, a);
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        const struct sim_trace *ta = sim_compare_trace(a, s);
        const struct sim_trace *tb = sim_compare_trace(b, s);
        const struct sim_trace *tc = sim_compare_trace(counted, s);
        assert_int_equal(sim_trace_len(tc), 0);
        assert_int_equal(sim_trace_total(tc), sim_trace_total(ta));
        assert_int_equal(sim_trace_len(ta), sim_trace_total(ta));
        assert_int_equal(sim_trace_len(ta), sim_trace_len(tb));
        assert_true(sim_trace_len(ta) > 100);
        for (size_t i = 0; i < sim_trace_len(ta); i++) {
            const struct sim_trace_event *x = sim_trace_get(ta, i), *y = sim_trace_get(tb, i);
            assert_true(x->t == y->t);
            assert_int_equal(x->kind, y->kind);
            assert_string_equal(x->text, y->text);
            assert_string_equal(x->note, y->note);
        }
    }
    sim_compare_free(counted);
    sim_compare_free(a);
    sim_compare_free(b);
}

/* ---- the series ------------------------------------------------------------------ */

static void test_series(void **state)
{
    (void)state;
    struct sim_compare_params p = small(2, 2, 24);
    struct sim_compare *c = run(&p);
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        size_t n;
        const struct sim_compare_measures *m = sim_compare_samples(c, s, &n);
        assert_int_equal(n, 2 * 24 + 1); /* hourly, and the end */
        assert_true(m[0].t == 0);
        assert_int_equal(m[0].delivered, 0);
        assert_true(m[1].t == SIM_SEC(3600));
        /* the end: after the last day and the devices' last checks */
        assert_true(m[n - 1].t == SIM_SEC(2 * 86400 + 30 * 60));
        assert_memory_equal(&m[n - 1], sim_compare_final(c, s), sizeof *m);
        for (size_t i = 1; i < n; i++) {
            assert_true(m[i].t > m[i - 1].t);
            assert_true(m[i].delivered >= m[i - 1].delivered);
            assert_true(m[i].bytes >= m[i - 1].bytes);
            assert_true(m[i].connections >= m[i - 1].connections);
            for (size_t d = 0; d < 2; d++) assert_true(m[i].seen[d] >= m[i - 1].seen[d]);
        }
        assert_int_equal(m[n - 1].delivered, 48);
    }
    /* a long run is sampled SIM_COMPARE_SAMPLES_MAX times, and at the end */
    sim_compare_free(c);
}

/* ---- bad parameters -------------------------------------------------------------- */

struct bad_case {
    const char *name;
    unsigned devices, days, per_day, del, file;
    const char *why;
};

static const struct bad_case bad_cases[] = {
    {"no devices", 0, 1, 1, 50, 35, "the number of devices must be 1 to 8"},
    {"nine devices", 9, 1, 1, 50, 35, "the number of devices must be 1 to 8"},
    {"no days", 1, 0, 1, 50, 35, "the days must be 1 to 3650"},
    {"too many days", 1, 3651, 1, 50, 35, "the days must be 1 to 3650"},
    {"no mail", 1, 1, 0, 50, 35, "the messages a day must be 1 to 1000"},
    {"a flood", 1, 1, 1001, 50, 35, "the messages a day must be 1 to 1000"},
    {"too many in all", 1, 3650, 1000, 50, 35, "days times messages a day must be at most 100000"},
    {"fates over 100%", 1, 1, 1, 70, 40, "the deleted and filed percentages must add up to at most 100"},
    {"delete over 100%", 1, 1, 1, 101, 0, "the deleted and filed percentages must add up to at most 100"},
};

static void test_bad_params(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *bc = &bad_cases[i];
        struct sim_compare_params p = small(bc->devices, bc->days, bc->per_day);
        p.delete_pct = bc->del;
        p.file_pct = bc->file;
        assert_string_equal(sim_compare_check(&p), bc->why);
        char err[128];
        assert_null(sim_compare_run(&p, err, sizeof err));
        assert_string_equal(err, bc->why);
    }
    struct sim_compare_params p = small(8, 100, 1000);
    assert_null(sim_compare_check(&p));
    p = small(3, 1024, 1);
    p.leave_on_server = true;
    assert_null(sim_compare_check(&p));
    p.days = 1025;
    assert_string_equal(sim_compare_check(&p),
                        "with --leave-on-server, days times messages a day must be at most 1024 "
                        "(the unique-ids a POP3 device remembers)");
    p = small(1, 1, 1);
    p.first_device = 8;
    assert_string_equal(sim_compare_check(&p), "the first device must be 0 to 7");
}

/* ---- the parts it added to others -------------------------------------------------- */

struct observed {
    size_t n;
    size_t steps[8];
};

static void count_event(void *ctx, const struct sim_trace_event *ev)
{
    struct observed *o = ctx;
    if (o->n < 8) o->steps[o->n] = ev->step;
    o->n++;
}

/* A trace that keeps only some kinds shows every event to its observer and
 * numbers the kept ones without gaps. */
static void test_trace_keep_and_observe(void **state)
{
    (void)state;
    struct sim_trace *tr = sim_trace_new();
    assert_non_null(tr);
    struct observed o = {0};
    sim_trace_observe(tr, count_event, &o);
    sim_trace_keep(tr, 1u << SIM_TR_MAIL);
    assert_true(sim_trace_keeps(tr, SIM_TR_MAIL));
    assert_false(sim_trace_keeps(tr, SIM_TR_LINE));
    const enum sim_trace_kind kinds[] = {SIM_TR_LINE, SIM_TR_MAIL, SIM_TR_LINE, SIM_TR_CONNECT,
                                         SIM_TR_MAIL};
    const long want[] = {0, 0, 1, 1, 1};
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
        struct sim_trace_event ev = {.kind = kinds[i], .text = "x"};
        assert_int_equal(sim_trace_add(tr, &ev), want[i]);
    }
    assert_int_equal(sim_trace_len(tr), 2);
    assert_int_equal(sim_trace_total(tr), 5);
    assert_int_equal(o.n, 5);
    assert_int_equal(o.steps[1], 0);
    assert_int_equal(o.steps[4], 1);
    assert_int_equal(sim_trace_get(tr, 1)->kind, SIM_TR_MAIL);
    sim_trace_free(tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_devices_pop3_misses_imap_never),
        cmocka_unit_test(test_pop3_server_empty_without_leave),
        cmocka_unit_test(test_pop3_leave_on_server),
        cmocka_unit_test(test_rule_many_devices),
        cmocka_unit_test(test_rule_folders_search),
        cmocka_unit_test(test_rule_one_pc),
        cmocka_unit_test(test_rule_names),
        cmocka_unit_test(test_same_seed_same_numbers),
        cmocka_unit_test(test_same_seed_same_trace),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_trace_keep_and_observe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
