#include "sim/rng.h"

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    r->state = seed;
}

/* SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one add and a 64-bit finaliser, every seed a
 * full-period stream. Plenty for shuffles and fault injection. */
uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t sim_rng_below(struct sim_rng *r, uint64_t bound)
{
    if (bound == 0) return 0;
    /* Reject the top partial block so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = sim_rng_next(r);
    } while (x >= limit);
    return x % bound;
}

uint64_t sim_rng_between(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
    if (lo >= hi) return lo;
    if (hi - lo == UINT64_MAX) return sim_rng_next(r);
    return lo + sim_rng_below(r, hi - lo + 1);
}

int sim_rng_chance(struct sim_rng *r, unsigned permille)
{
    return sim_rng_below(r, 1000) < permille;
}
