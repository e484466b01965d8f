/* Included by every test program: cmocka and the helpers the tables share. */
#ifndef MAILSIM_TESTKIT_H
#define MAILSIM_TESTKIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* Asserts that got[0..got_len) is exactly the NUL-terminated want. */
#define assert_bytes(want, got, got_len)                                      \
    do {                                                                      \
        assert_int_equal(strlen(want), (got_len));                            \
        assert_memory_equal((want), (got), (got_len));                        \
    } while (0)

/* Every parser is fed two ways: the whole input in one call, and one byte a
 * call. A test table loops over both. */
enum feed_mode { FEED_WHOLE, FEED_BYTEWISE };
#define FEED_MODES {FEED_WHOLE, FEED_BYTEWISE}

static inline size_t feed_chunk(enum feed_mode mode, size_t remaining)
{
    return mode == FEED_WHOLE ? remaining : (remaining ? 1 : 0);
}

#endif
