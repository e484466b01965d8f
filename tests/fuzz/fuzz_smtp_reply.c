/* libFuzzer target: the SMTP reply reader (smtp_reply_reader).
 *
 * The first input byte picks a split point; the rest is fed in two chunks
 * split there, so replies and CRLFs are cut at arbitrary places.
 *
 * Properties:
 *  - every call returns READY, NEED_MORE or a negative SMTP_ERR_REPLY_*,
 *    and an error is sticky (the next call returns it again);
 *  - feed takes every byte it is offered once the reader has been drained;
 *  - a reply has 1..SMTP_REPLY_LINES_MAX lines and a code 200..559;
 *  - round trip: smtp_format_reply() of a reply (with its enhanced code)
 *    succeeds unless a line holds a CR (which a lenient bare-LF reader lets
 *    through and a formatter must refuse), and reading those bytes gives one
 *    reply with the same code, enhanced code and line texts. Line texts that
 *    themselves start with an enhanced code cannot survive (the reader takes
 *    such a prefix as the code), so for those only code and line count are
 *    compared. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/smtp.h"

/* Whether text would be read as starting with an enhanced code on a line
 * of this reply code. */
static bool looks_enhanced(int code, const char *text)
{
    char line[SMTP_REPLY_LINE_MAX + 8];
    int n = snprintf(line, sizeof line, "%d %s", code, text);
    if (n < 0 || (size_t)n >= sizeof line) return false;
    struct smtp_reply_line rl;
    if (smtp_parse_reply_line(line, (size_t)n, &rl) != 0) return false;
    return rl.enh_class != 0;
}

static void round_trip(const struct smtp_reply *r)
{
    static char buf[SMTP_REPLY_LINES_MAX * SMTP_REPLY_LINE_MAX + 1];
    const char *lines[SMTP_REPLY_LINES_MAX];
    bool has_cr = false, ambiguous = false;
    for (size_t i = 0; i < r->nlines; i++) {
        lines[i] = r->lines[i];
        if (strchr(r->lines[i], '\r')) has_cr = true;
        if (looks_enhanced(r->code, r->lines[i])) ambiguous = true;
    }
    char enh[40];
    const char *enhp = NULL;
    if (r->enh_class) {
        snprintf(enh, sizeof enh, "%d.%d.%d", r->enh_class, r->enh_subject, r->enh_detail);
        enhp = enh;
    }
    int n = smtp_format_reply(r->code, enhp, lines, r->nlines, buf, sizeof buf);
    if (has_cr) {
        FUZZ_CHECK(n == SMTP_ERR_INVALID);
        return;
    }
    FUZZ_CHECK(n > 0);

    /* The reader holds one line at a time: feed, and read until the reply
     * is complete; only the last feed may complete it. */
    static struct smtp_reply_reader rd;
    smtp_reply_reader_init(&rd);
    const struct smtp_reply *r2 = NULL;
    size_t off = 0;
    int ev = SMTP_REPLY_NEED_MORE;
    while (off < (size_t)n) {
        FUZZ_CHECK(ev == SMTP_REPLY_NEED_MORE);
        size_t took = smtp_reply_reader_feed(&rd, buf + off, (size_t)n - off);
        off += took;
        ev = smtp_reply_reader_next(&rd, &r2);
        FUZZ_CHECK(took > 0 || ev != SMTP_REPLY_NEED_MORE);
    }
    FUZZ_CHECK(ev == SMTP_REPLY_READY);
    FUZZ_CHECK(r2->code == r->code && r2->nlines == r->nlines);
    FUZZ_CHECK(r2->enh_class == r->enh_class && r2->enh_subject == r->enh_subject &&
               r2->enh_detail == r->enh_detail);
    if (!ambiguous)
        for (size_t i = 0; i < r->nlines; i++)
            FUZZ_CHECK(strcmp(r->lines[i], r2->lines[i]) == 0);
    FUZZ_CHECK(smtp_reply_reader_next(&rd, &r2) == SMTP_REPLY_NEED_MORE);
}

/* Drains the reader; returns false once it has failed. */
static bool drain(struct smtp_reply_reader *rd)
{
    for (;;) {
        const struct smtp_reply *r;
        int ev = smtp_reply_reader_next(rd, &r);
        if (ev == SMTP_REPLY_NEED_MORE) return true;
        if (ev < 0) {
            FUZZ_CHECK(ev <= SMTP_ERR_REPLY_CODE && ev >= SMTP_ERR_REPLY_TOO_LONG);
            FUZZ_CHECK(smtp_reply_reader_next(rd, &r) == ev); /* sticky */
            return false;
        }
        FUZZ_CHECK(ev == SMTP_REPLY_READY);
        FUZZ_CHECK(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
        FUZZ_CHECK(r->code >= 200 && r->code <= 559);
        round_trip(r);
    }
}

static bool feed_all(struct smtp_reply_reader *rd, const char *p, size_t n)
{
    while (n) {
        size_t took = smtp_reply_reader_feed(rd, p, n);
        p += took;
        n -= took;
        if (!drain(rd)) return false;
        FUZZ_CHECK(took > 0 || n == 0); /* a drained reader takes bytes */
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t split = size > 1 ? data[0] % size : 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (split > n) split = n;

    static struct smtp_reply_reader rd;
    smtp_reply_reader_init(&rd);
    if (feed_all(&rd, in, split)) feed_all(&rd, in + split, n - split);
    return 0;
}
