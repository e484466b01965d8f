/* Shared by every codec: the one abort path, and small string helpers.
 * libc only; nothing here knows about sockets, clocks or a simulation. */
#ifndef MAILSIM_PROTOCOLS_COMMON_H
#define MAILSIM_PROTOCOLS_COMMON_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* EXPECT(cond): an internal invariant. Only an impossible internal state may
 * abort; a peer's bad bytes never reach here, they become error values. */
#define EXPECT(cond)                                                          \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: internal error: expected %s\n", __FILE__, \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ASCII-only case-insensitive comparison of n bytes (protocol keywords are
 * ASCII; the C locale functions must not change their meaning). Returns 0
 * when equal, like strncasecmp. */
int ascii_ncasecmp(const char *a, const char *b, size_t n);

/* 1 when s[0..n) equals the NUL-terminated keyword kw, ignoring ASCII case. */
int ascii_eq(const char *s, size_t n, const char *kw);

#endif
