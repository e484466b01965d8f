/* The shared CRLF line reader: framing, bare LF, overlong lines, raw bytes. */
#include "tests/testkit.h"

#include "protocols/linebuf.h"

#include <stdio.h>

/* Feeds in (whole or byte by byte) and writes every line as "[text]" (with
 * "~" after it for a bare LF) and every overlong line as "<TOO LONG>". */
static void collect(size_t cap, const char *in, enum feed_mode mode, char *out, size_t outcap)
{
    char storage[64];
    struct linebuf lb;
    assert_true(cap <= sizeof storage);
    linebuf_init(&lb, storage, cap);
    size_t n = strlen(in), off = 0, o = 0;
    out[0] = 0;
    while (off < n || linebuf_pending(&lb)) {
        off += linebuf_feed(&lb, in + off, feed_chunk(mode, n - off));
        const char *line;
        size_t len;
        bool bare;
        enum linebuf_status st;
        while ((st = linebuf_next(&lb, &line, &len, &bare)) != LINEBUF_NEED_MORE) {
            if (st == LINEBUF_LINE)
                o += (size_t)snprintf(out + o, outcap - o, "[%.*s]%s", (int)len, line, bare ? "~" : "");
            else
                o += (size_t)snprintf(out + o, outcap - o, "<TOO LONG>");
        }
        if (off == n) break;
    }
}

static const struct {
    const char *name;
    size_t cap;
    const char *in;
    const char *want;
} cases[] = {
    {"one line", 16, "EHLO a\r\n", "[EHLO a]"},
    {"two lines", 16, "NOOP\r\nQUIT\r\n", "[NOOP][QUIT]"},
    {"partial line held back", 16, "NOOP\r\nQU", "[NOOP]"},
    {"empty line", 16, "\r\n", "[]"},
    {"bare LF marked", 16, "a\nb\r\n", "[a]~[b]"},
    {"bare CR is data", 16, "a\rb\r\n", "[a\rb]"},
    {"exactly cap with CRLF", 8, "123456\r\n", "[123456]"},
    {"one over cap", 8, "1234567\r\nNOOP\r\n", "<TOO LONG>[NOOP]"},
    {"far over cap resyncs", 8, "123456789012345678901234\r\nOK\r\n", "<TOO LONG>[OK]"},
    {"overlong then partial", 8, "123456789\r\nQU", "<TOO LONG>"},
};

static void test_table(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t m = 0; m < 2; m++) {
            char out[256];
            collect(cases[i].cap, cases[i].in, modes[m], out, sizeof out);
            if (strcmp(out, cases[i].want) != 0)
                fail_msg("%s (%s): got %s, want %s", cases[i].name,
                         m ? "bytewise" : "whole", out, cases[i].want);
        }
    }
}

static void test_raw_bytes_after_line(void **state)
{
    (void)state;
    char storage[32];
    struct linebuf lb;
    linebuf_init(&lb, storage, sizeof storage);
    const char *in = "A1 APPEND x {5}\r\nhelloQ\r\n";
    assert_int_equal(linebuf_feed(&lb, in, strlen(in)), strlen(in));
    const char *line, *raw;
    size_t len;
    bool bare;
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_LINE);
    assert_bytes("A1 APPEND x {5}", line, len);
    const char *peeked;
    assert_int_equal(linebuf_peek(&lb, &peeked), 8);
    assert_memory_equal(peeked, "helloQ\r\n", 8);
    assert_int_equal(linebuf_take_raw(&lb, &raw, 5), 5);
    assert_memory_equal(raw, "hello", 5);
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_LINE);
    assert_bytes("Q", line, len);
    assert_int_equal(linebuf_pending(&lb), 0);
}

static void test_feed_stops_when_full(void **state)
{
    (void)state;
    char storage[4];
    struct linebuf lb;
    linebuf_init(&lb, storage, sizeof storage);
    assert_int_equal(linebuf_feed(&lb, "abcdef", 6), 4);
    assert_int_equal(linebuf_feed(&lb, "ef", 2), 0);
    const char *line;
    size_t len;
    bool bare;
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_TOO_LONG);
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_NEED_MORE);
    assert_int_equal(linebuf_feed(&lb, "ef\r\nX\r\n", 7), 4);
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_NEED_MORE);
    assert_int_equal(linebuf_feed(&lb, "X\r\n", 3), 3);
    assert_int_equal(linebuf_next(&lb, &line, &len, &bare), LINEBUF_LINE);
    assert_bytes("X", line, len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_raw_bytes_after_line),
        cmocka_unit_test(test_feed_stops_when_full),
    };
    return cmocka_run_group_tests_name("linebuf", tests, NULL, NULL);
}
