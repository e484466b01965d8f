/* libFuzzer target: POP3 responses (pop3_reply_parse, pop3_reply_format and
 * the multi-line response reader pop3_reader).
 *
 * Input: byte 0 says, bit by bit, whether each coming response is expected
 * to be multi-line (as a client knows from its command); byte 1 picks a
 * split point; the rest is the server's bytes, fed to a reader in two
 * chunks. The whole rest is also parsed as one status line.
 *
 * Properties:
 *  - every call returns a reader event, NEED_MORE, or a sticky
 *    POP3_ERR_BAD_STATUS / POP3_ERR_TOO_LONG (the next call repeats it);
 *  - a body line is at most POP3_MAX_DATA_LINE octets and never the "."
 *    terminator; after END or a single-line STATUS nothing more comes out
 *    until the next expectation;
 *  - round trip: a status line written back by pop3_reply_format() (ok,
 *    code, text) parses into the same status, code and text, unless a field
 *    holds a NUL or CR (which the formatter must refuse, or cannot take);
 *  - a body line stuffed by pop3_stuff_line() and read as a body gives the
 *    same line. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/pop3.h"

static bool has_ctl(const char *p, size_t n)
{
    return memchr(p, '\0', n) || memchr(p, '\r', n) || memchr(p, '\n', n);
}

static void reply_round_trip(const struct pop3_reply *r)
{
    if (has_ctl(r->text, r->text_len) || (r->code && has_ctl(r->code, r->code_len))) return;
    char code[POP3_MAX_RESP_LINE], text[POP3_MAX_RESP_LINE];
    FUZZ_CHECK(r->code_len < sizeof code && r->text_len < sizeof text);
    memcpy(code, r->code ? r->code : "", r->code_len);
    code[r->code_len] = '\0';
    memcpy(text, r->text, r->text_len);
    text[r->text_len] = '\0';

    char out[POP3_MAX_RESP_LINE + 8];
    int n = pop3_reply_format(out, sizeof out, r->ok, r->code_len ? code : NULL, text);
    if (n == POP3_ERR_NO_ROOM) return; /* "[]" can grow by its space */
    FUZZ_CHECK(n > 0 && out[n - 2] == '\r' && out[n - 1] == '\n');
    struct pop3_reply again;
    FUZZ_CHECK(pop3_reply_parse(out, (size_t)n - 2, &again) == POP3_OK);
    FUZZ_CHECK(again.ok == r->ok);
    FUZZ_CHECK(again.code_len == r->code_len && memcmp(again.code ? again.code : "", code, r->code_len) == 0);
    FUZZ_CHECK(again.text_len == r->text_len && memcmp(again.text, text, r->text_len) == 0);
}

static void line_round_trip(const char *line, size_t len)
{
    static struct pop3_reader *rd;
    if (!rd) rd = pop3_reader_new();
    FUZZ_CHECK(rd != NULL);
    char buf[POP3_MAX_DATA_LINE + 16];
    memcpy(buf, "+OK\r\n", 5);
    int n = pop3_stuff_line(buf + 5, sizeof buf - 5, line, len);
    FUZZ_CHECK(n == (int)len + 2 + (len && line[0] == '.'));
    size_t total = (size_t)n + 5, off = 0;
    pop3_reader_reset(rd);
    pop3_reader_expect(rd, true);
    struct pop3_reader_ev ev;
    int want = POP3_RD_STATUS;
    while (want != POP3_NEED_MORE) {
        off += pop3_reader_feed(rd, buf + off, total - off);
        int e = pop3_reader_next(rd, &ev);
        if (e == POP3_NEED_MORE) {
            FUZZ_CHECK(off < total);
            continue;
        }
        FUZZ_CHECK(e == want);
        if (e == POP3_RD_LINE) {
            FUZZ_CHECK(ev.line_len == len && memcmp(ev.line, line, len) == 0);
            want = POP3_NEED_MORE;
        } else {
            want = POP3_RD_LINE;
        }
    }
    FUZZ_CHECK(off == total);
    FUZZ_CHECK(pop3_reader_next(rd, &ev) == POP3_NEED_MORE);
}

struct state {
    unsigned bits;   /* expectations still to use, low bit first, rotating */
    bool expecting;  /* an expectation is set and not used up */
    bool multi;      /* that expectation */
    bool failed;
};

static void drain(struct pop3_reader *r, struct state *st)
{
    for (;;) {
        if (!st->expecting) {
            st->multi = st->bits & 1;
            pop3_reader_expect(r, st->multi);
            st->bits = (st->bits >> 1) | ((st->bits & 1) << 7);
            st->expecting = true;
        }
        struct pop3_reader_ev ev;
        int e = pop3_reader_next(r, &ev);
        if (e == POP3_NEED_MORE) return;
        if (e < 0) {
            FUZZ_CHECK(e == POP3_ERR_BAD_STATUS || e == POP3_ERR_TOO_LONG);
            FUZZ_CHECK(pop3_reader_next(r, &ev) == e);
            st->failed = true;
            return;
        }
        bool used_up = false;
        switch (e) {
        case POP3_RD_STATUS:
            reply_round_trip(&ev.reply);
            used_up = !st->multi || !ev.reply.ok;
            break;
        case POP3_RD_LINE:
            FUZZ_CHECK(ev.line_len + 2 <= POP3_MAX_DATA_LINE);
            if (!memchr(ev.line, '\r', ev.line_len) && !memchr(ev.line, '\n', ev.line_len))
                line_round_trip(ev.line, ev.line_len);
            break;
        case POP3_RD_END:
            used_up = true;
            break;
        case POP3_RD_TOO_LONG:
            break;
        default:
            FUZZ_CHECK(!"unknown reader event");
        }
        if (used_up) {
            /* Without a new expectation the reader holds everything back. */
            FUZZ_CHECK(pop3_reader_next(r, &ev) == POP3_NEED_MORE);
            st->expecting = false;
        }
    }
}

static bool feed(struct pop3_reader *r, struct state *st, const char *p, size_t n)
{
    while (n && !st->failed) {
        size_t took = pop3_reader_feed(r, p, n);
        p += took;
        n -= took;
        drain(r, st);
        FUZZ_CHECK(took > 0 || st->failed || n == 0);
    }
    return !st->failed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const char *in = (const char *)data + 2;
    size_t n = size - 2, split = data[1] % (n + 1);

    struct pop3_reply rep;
    int err = pop3_reply_parse(in, n, &rep);
    FUZZ_CHECK(err == POP3_OK || err == POP3_ERR_BAD_STATUS || err == POP3_ERR_TOO_LONG);
    if (err == POP3_OK) reply_round_trip(&rep);

    struct pop3_reader *r = pop3_reader_new();
    FUZZ_CHECK(r != NULL);
    struct state st = {data[0], false, false, false};
    if (feed(r, &st, in, split)) feed(r, &st, in + split, n - split);
    pop3_reader_free(r);
    return 0;
}
