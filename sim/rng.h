/* The simulation's one random number generator: seeded, deterministic,
 * independent of libc's rand(). The same seed gives the same stream on every
 * machine, which is what makes the same lesson give the same trace. */
#ifndef MAILSIM_SIM_RNG_H
#define MAILSIM_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
    uint64_t state; /* SplitMix64 state; any value is valid */
};

/* Starts the stream for seed (every seed is valid, 0 included). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t sim_rng_next(struct sim_rng *r);

/* A uniform integer in [0, bound); bound 0 returns 0. Unbiased (rejection
 * sampling), so a lesson's shuffles are fair as well as repeatable. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t bound);

/* A uniform integer in [lo, hi] (inclusive); lo > hi returns lo. */
uint64_t sim_rng_between(struct sim_rng *r, uint64_t lo, uint64_t hi);

/* true with probability permille/1000 (for fault injection: "a link drops
 * 5 in 1000 connections"). */
int sim_rng_chance(struct sim_rng *r, unsigned permille);

#endif
