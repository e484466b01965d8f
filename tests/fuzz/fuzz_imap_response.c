/* libFuzzer target: the IMAP response reader (imap_resp_reader) and the
 * response formatter (imap_resp_format).
 *
 * Input: byte 0 picks a split point, and literals over 1 KiB are refused
 * when its top bit is set; the rest is what the server sends, fed in two
 * chunks.
 *
 * Properties:
 *  - every event is in the table; an ERROR carries an error value; reading
 *    goes on after it (except NOMEM, which is sticky);
 *  - feed always takes bytes once the reader has been drained;
 *  - round trip: every response formats (imap_resp_format never refuses what
 *    the reader made), the bytes read with a fresh reader give exactly one
 *    response of the same kind, and formatting that gives the same bytes. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/imap.h"

#define WIRE_MAX (4 * IMAP_MAX_TEXT)

static struct imap_resp_reader *fresh;

static void round_trip(const struct imap_response *r)
{
    static char wire[2][WIRE_MAX];
    size_t n = imap_resp_format(r, wire[0], WIRE_MAX);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(n >= 2 && wire[0][n - 2] == '\r' && wire[0][n - 1] == '\n');

    imap_resp_reader_reset(fresh);
    size_t off = 0;
    struct imap_response d;
    enum imap_rd_ev ev = IMAP_RD_NEED_MORE;
    while (ev != IMAP_RD_RESPONSE) {
        off += imap_resp_reader_feed(fresh, wire[0] + off, n - off);
        ev = imap_resp_reader_next(fresh, &d);
        FUZZ_CHECK(ev == IMAP_RD_RESPONSE || ev == IMAP_RD_NEED_MORE);
        FUZZ_CHECK(ev == IMAP_RD_RESPONSE || off < n);
    }
    FUZZ_CHECK(off == n);
    FUZZ_CHECK(d.kind == r->kind);
    size_t n2 = imap_resp_format(&d, wire[1], WIRE_MAX);
    FUZZ_CHECK(n2 == n && memcmp(wire[0], wire[1], n) == 0);
}

/* Returns false after a sticky error. */
static bool drain(struct imap_resp_reader *rd)
{
    struct imap_response r;
    enum imap_rd_ev ev;
    while ((ev = imap_resp_reader_next(rd, &r)) != IMAP_RD_NEED_MORE) {
        FUZZ_CHECK((unsigned)ev < IMAP_RD_EV_COUNT && imap_rd_ev_names[ev] != NULL);
        if (ev == IMAP_RD_ERROR) {
            FUZZ_CHECK(r.error > IMAP_ERR_NONE && r.error < IMAP_ERR_COUNT);
            if (r.error == IMAP_ERR_NOMEM) return false;
            continue;
        }
        FUZZ_CHECK((unsigned)r.kind < IMAP_RESP_KIND_COUNT && imap_resp_kind_names[r.kind]);
        round_trip(&r);
    }
    return true;
}

static bool feed(struct imap_resp_reader *rd, const char *in, size_t n)
{
    while (n) {
        size_t took = imap_resp_reader_feed(rd, in, n);
        in += took;
        n -= took;
        if (!drain(rd)) return false;
        FUZZ_CHECK(took > 0 || n == 0);
    }
    return drain(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fresh) fresh = imap_resp_reader_new(1u << 20);
    FUZZ_CHECK(fresh != NULL);
    if (size == 0) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1, split = n ? data[0] % (n + 1) : 0;
    /* Two readers kept across inputs (creating one per input costs more
     * than the parse), reset before each: the reset is part of the test. */
    static struct imap_resp_reader *readers[2];
    int which = data[0] >> 7;
    if (!readers[which]) readers[which] = imap_resp_reader_new(which ? 1024 : 0);
    struct imap_resp_reader *rd = readers[which];
    FUZZ_CHECK(rd != NULL);
    imap_resp_reader_reset(rd);
    FUZZ_CHECK(imap_resp_reader_pending(rd) == 0);
    if (feed(rd, in, split)) feed(rd, in + split, n - split);
    return 0;
}
