/* libFuzzer target: SMTP DATA un-stuffing (smtp_data_reader) and the
 * client's stuffer (smtp_stuffer).
 *
 * The first input byte picks a split point; the rest, followed by a
 * terminator CRLF "." CRLF (so every input reaches an end), is fed to a data
 * reader in two chunks split there.
 *
 * Properties:
 *  - events are BYTES, END or NEED_MORE only; END repeats once reached;
 *    the bytes handed out add up to smtp_data_reader_size(); the reader
 *    takes every byte offered up to the terminator, and the bytes after it
 *    come back from smtp_data_reader_take_rest() exactly;
 *  - the status at the end is 0 or a DATA flaw (bare LF, line too long);
 *  - round trip, when there was no flaw: the un-stuffed message run through
 *    smtp_stuffer (fed in small pieces) and a fresh data reader gives back
 *    the same bytes, with no flaw and nothing after the terminator. "The
 *    same" allows the one change the stuffer's contract makes: a lone CR
 *    becomes CRLF (RFC 5321 2.3.8; the reader lets a lone CR through, as
 *    Postfix does, and only a bare LF is a flaw). */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/smtp.h"

/* Input is at most libFuzzer's -max_len (4096 by default); the stuffed
 * message is at most twice the message plus the terminator. */
#define IN_MAX  (1u << 16)
#define OUT_MAX (2 * IN_MAX + 16)

struct sink {
    char  *buf;
    size_t len, cap;
};

static void put(struct sink *s, const char *p, size_t n)
{
    FUZZ_CHECK(s->len + n <= s->cap);
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/* Feeds in[0..n) and collects the message into msg; returns true at END.
 * Bytes after the terminator go to rest. */
static bool read_data(struct smtp_data_reader *d, const char *in, size_t n,
                      struct sink *msg, struct sink *rest)
{
    bool ended = false;
    size_t off = 0;
    for (;;) {
        if (!ended && off < n) {
            size_t took = smtp_data_reader_feed(d, in + off, n - off);
            off += took;
        }
        const char *p;
        size_t len;
        int ev;
        while ((ev = smtp_data_reader_next(d, &p, &len)) == SMTP_DATA_BYTES) {
            FUZZ_CHECK(len > 0);
            put(msg, p, len);
        }
        if (ev == SMTP_DATA_END) {
            FUZZ_CHECK(smtp_data_reader_next(d, &p, &len) == SMTP_DATA_END);
            FUZZ_CHECK(smtp_data_reader_feed(d, "x", 1) == 0);
            ended = true;
            const char *r;
            size_t rn = smtp_data_reader_take_rest(d, &r);
            put(rest, r, rn);
            put(rest, in + off, n - off); /* never taken: they are commands */
            FUZZ_CHECK(smtp_data_reader_take_rest(d, &r) == 0);
            return true;
        }
        FUZZ_CHECK(ev == SMTP_DATA_NEED_MORE);
        if (off == n) return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char in[IN_MAX + 8], msg[IN_MAX + 8], rest[IN_MAX + 8];
    static char wire[OUT_MAX], msg2[2 * IN_MAX + 8], want[2 * IN_MAX + 8], rest2[8];
    static struct smtp_data_reader d;
    if (size == 0 || size > IN_MAX) return 0;
    size_t split = data[0] % size;
    size_t n = size - 1;
    memcpy(in, data + 1, n);
    memcpy(in + n, "\r\n.\r\n", 5);
    n += 5;

    smtp_data_reader_init(&d);
    struct sink m = {msg, 0, sizeof msg}, r = {rest, 0, sizeof rest};
    bool ended = read_data(&d, in, split, &m, &r);
    if (!ended) ended = read_data(&d, in + split, n - split, &m, &r);
    else put(&r, in + split, n - split);
    FUZZ_CHECK(ended); /* the appended terminator always ends it */
    FUZZ_CHECK(smtp_data_reader_size(&d) == m.len);
    FUZZ_CHECK(m.len + r.len <= n);
    /* what came after the terminator is the input's tail, byte for byte */
    FUZZ_CHECK(memcmp(in + n - r.len, r.buf, r.len) == 0);

    int st = smtp_data_reader_status(&d);
    FUZZ_CHECK(st == 0 || st == SMTP_ERR_DATA_BARE_LF || st == SMTP_ERR_DATA_LINE_TOO_LONG);
    if (st != 0) return 0;

    /* Round trip through the stuffer, fed in pieces of 1..7 bytes into an
     * output of 16 bytes, so partial consumption is exercised. */
    struct smtp_stuffer s;
    smtp_stuffer_init(&s);
    size_t w = 0, off = 0, piece = 1 + (size_t)(data[0] % 7);
    while (off < m.len) {
        size_t k = m.len - off < piece ? m.len - off : piece;
        size_t used;
        size_t out = smtp_stuffer_feed(&s, m.buf + off, k, &used, wire + w, 16);
        FUZZ_CHECK(used <= k && out <= 16);
        FUZZ_CHECK(used > 0);
        w += out;
        off += used;
    }
    int fin = smtp_stuffer_finish(&s, wire + w, sizeof wire - w);
    FUZZ_CHECK(fin == 3 || fin == 5);
    w += (size_t)fin;

    smtp_data_reader_reset(&d);
    struct sink m2 = {msg2, 0, sizeof msg2}, r2 = {rest2, 0, sizeof rest2};
    FUZZ_CHECK(read_data(&d, wire, w, &m2, &r2));
    FUZZ_CHECK(smtp_data_reader_status(&d) == 0);
    FUZZ_CHECK(r2.len == 0);
    size_t k = 0;
    for (size_t i = 0; i < m.len; i++) { /* the message, lone CRs as CRLF */
        want[k++] = m.buf[i];
        if (m.buf[i] == '\r' && (i + 1 == m.len || m.buf[i + 1] != '\n')) want[k++] = '\n';
    }
    FUZZ_CHECK(m2.len == k && memcmp(m2.buf, want, k) == 0);
    return 0;
}
