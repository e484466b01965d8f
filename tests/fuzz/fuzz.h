/* Shared by the libFuzzer targets in tests/fuzz/: the entry point's
 * prototype (the build uses -Wmissing-prototypes) and the one way a target
 * reports a broken property. See tests/fuzz/README.md. */
#ifndef MAILSIM_TESTS_FUZZ_H
#define MAILSIM_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called by libFuzzer once per input; returns 0 (the input is kept when it
 * reached new code). Each target states the properties it checks above its
 * definition. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the codec promises does not hold: print it and abort, which
 * libFuzzer records as a crash with the input that caused it. Unlike
 * EXPECT() this is about the codec's contract, seen from outside. */
#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__,        \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* The first input byte as a number in [0, n), for targets that take a
 * choice (a split point, a mode) from the input; 0 when there is none. */
static inline size_t fuzz_pick(const uint8_t *data, size_t size, size_t n)
{
    return size && n ? data[0] % n : 0;
}

#endif
