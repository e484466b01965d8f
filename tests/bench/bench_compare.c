/* How long `mailsim compare --devices 3 --days 365 --per-day 100` takes:
 * 36,500 messages arriving at two identical mailboxes over a simulated
 * year, a phone, a laptop and a desktop syncing one by IMAP and
 * downloading the other by POP3 (sim/compare.h), then the table printed
 * (to /dev/null). The goal is under 2 seconds on the developers' machine.
 *
 * Wall time is CLOCK_MONOTONIC around sim_compare_run() and the table; the
 * median of RUNS runs is reported, with the events the two runs made (their
 * traces count them without keeping them) and the peak resident memory.
 *
 *   build/bench/bench_compare [DEVICES DAYS PER_DAY [RUNS]]   (defaults 3 365 100 3)
 *
 * The reference, measured in the same process after each run: the event
 * queue alone (sim/engine) running as many no-op events as the two runs
 * recorded, 64 pending at a time at pseudo-random delays. The ratio is how
 * many times dearer a simulated event is than its scheduling alone, which
 * does not depend on the machine's speed as the seconds do.
 *
 * Prints what it measured (and whether the goal was met), then "BENCH"
 * lines for tests/bench/run.sh (tests/bench/README.md). Exits 1 when the
 * run failed or its qualitative result is wrong (an IMAP device missed a
 * message). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "render/compare_view.h"
#include "sim/compare.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "tests/bench/bench.h"

#define GOAL_S 2.0 /* for 3 devices, 365 days, 100 a day */
#define RUNS_MAX 15

/* ---- the reference: the event queue alone --------------------------------- */

#define PENDING 64

/* A no-op event that schedules the next while any are left; arg is a
 * linear congruential sequence giving delays of 1 to 1000 microseconds. */
static void tick(struct sim_engine *e, void *ctx, uint64_t arg)
{
    size_t *left = ctx;
    if (*left == 0) return;
    --*left;
    uint64_t next = arg * 6364136223846793005u + 1442695040888963407u;
    sim_after(e, 1 + (next >> 33) % 1000, tick, left, next);
}

static double queue_alone(size_t events)
{
    struct sim_engine e;
    if (sim_engine_init(&e, 1) != 0) {
        fprintf(stderr, "bench_compare: out of memory\n");
        exit(1);
    }
    size_t left = events > PENDING ? events - PENDING : 0;
    double t0 = bench_now_s();
    for (uint64_t i = 0; i < PENDING; i++) sim_after(&e, i, tick, &left, i);
    uint64_t ran = sim_engine_run(&e, UINT64_MAX);
    double t = bench_now_s() - t0;
    sim_engine_fini(&e);
    if (ran < events) {
        fprintf(stderr, "bench_compare: the event queue ran %llu of %zu events\n",
                (unsigned long long)ran, events);
        exit(1);
    }
    return t;
}

int main(int argc, char **argv)
{
    struct sim_compare_params p;
    sim_compare_defaults(&p);
    p.devices = 3;
    p.days = 365;
    p.per_day = 100;
    int runs = 3;
    if (argc >= 4) {
        p.devices = (unsigned)atoi(argv[1]);
        p.days = (unsigned)atoi(argv[2]);
        p.per_day = (unsigned)atoi(argv[3]);
    }
    if (argc >= 5) runs = atoi(argv[4]);
    if (runs < 1 || runs > RUNS_MAX) {
        fprintf(stderr, "bench_compare: RUNS must be 1 to %d\n", RUNS_MAX);
        return 2;
    }
    FILE *devnull = fopen("/dev/null", "w");
    if (!devnull) return 1;
    double t[RUNS_MAX], ref[RUNS_MAX];
    size_t events = 0;
    for (int r = 0; r < runs; r++) {
        char err[256];
        double t0 = bench_now_s();
        struct sim_compare *c = sim_compare_run(&p, err, sizeof err);
        if (!c) {
            fprintf(stderr, "bench_compare: %s\n", err);
            return 1;
        }
        ui_compare_table(c, -1, devnull);
        t[r] = bench_now_s() - t0;
        events = sim_trace_total(sim_compare_trace(c, SIM_CMP_IMAP)) +
                 sim_trace_total(sim_compare_trace(c, SIM_CMP_POP3));
        for (size_t i = 0; i < p.devices; i++)
            if (!sim_compare_saw_all(c, SIM_CMP_IMAP, i)) {
                fprintf(stderr, "bench_compare: the IMAP %s missed messages\n",
                        sim_compare_device_name(c, i));
                return 1;
            }
        sim_compare_free(c);
        ref[r] = queue_alone(events);
        printf("  run %d: %.2f s; the event queue alone: %.3f s\n", r + 1, t[r], ref[r]);
    }
    fclose(devnull);
    double median = bench_median(t, (size_t)runs);
    double ref_median = bench_median(ref, (size_t)runs);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char goal[48] = "";
    if (p.devices == 3 && p.days == 365 && p.per_day == 100)
        snprintf(goal, sizeof goal, " (the %.0f s goal: %s)", GOAL_S,
                 median < GOAL_S ? "met" : "missed");
    printf("bench_compare: mailsim compare --devices %u --days %u --per-day %u: median %.2f s "
           "of %d%s; %zu events; the event queue alone: %.3f s\n",
           p.devices, p.days, p.per_day, median, runs, goal, events, ref_median);
    printf("BENCH\tcompare %ux%ux%u\t%.2f\ts\t%.3f (event queue)\t%.1f\n", p.devices, p.days,
           p.per_day, median, ref_median, median / ref_median);
    printf("BENCH\tcompare events\t%.0f\tevents/s\t-\t-\n", (double)events / median);
    printf("BENCH\tcompare peak memory\t%.0f\tMiB\t-\t-\n", (double)ru.ru_maxrss / 1024.0);
    return 0;
}
