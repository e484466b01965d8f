/* libFuzzer target: the IMAP command parser (imap_cmd_parser), playing the
 * server's part for IDLE and AUTHENTICATE as a session does.
 *
 * Input: byte 0 picks a split point, and literals over 1 KiB are refused
 * when its top bit is set (the TOOBIG path); the rest is what the client
 * sends, fed in two chunks.
 *
 * Properties:
 *  - every event is in the table; an ERROR carries an error value and its
 *    reply line is written (imap_cmd_error_reply), starting with the tag
 *    and ending in CRLF; the parser goes on after it;
 *  - feed always takes bytes once the parser has been drained;
 *  - round trip: every command formats (imap_cmd_format never refuses what
 *    the parser made), the formatted bytes parse with a fresh parser into
 *    one command with the same tag, command and UID flag, answering each
 *    "{n}" at its split, and formatting that gives the same bytes. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/imap.h"

#define WIRE_MAX (IMAP_MAX_TEXT + 2 * 4096 + 64 * 16)

static struct imap_cmd_parser *fresh;

static void round_trip(const struct imap_command *c)
{
    static char wire[2][WIRE_MAX];
    size_t splits[IMAP_MAX_LITERALS], ns = 0;
    size_t n = imap_cmd_format(c, false, wire[0], WIRE_MAX, splits, IMAP_MAX_LITERALS, &ns);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(n >= 2 && wire[0][n - 2] == '\r' && wire[0][n - 1] == '\n');

    imap_cmd_parser_reset(fresh);
    size_t off = 0, conts = 0;
    struct imap_command d;
    enum imap_cmd_ev ev = IMAP_CMD_NEED_MORE;
    while (ev != IMAP_CMD_COMMAND) {
        size_t took = imap_cmd_parser_feed(fresh, wire[0] + off, n - off);
        off += took;
        while ((ev = imap_cmd_parser_next(fresh, &d)) == IMAP_CMD_CONTINUE) {
            FUZZ_CHECK(conts < ns && splits[conts] <= off);
            conts++;
        }
        FUZZ_CHECK(ev == IMAP_CMD_COMMAND || ev == IMAP_CMD_NEED_MORE);
        FUZZ_CHECK(ev == IMAP_CMD_COMMAND || off < n);
    }
    FUZZ_CHECK(off == n && conts == ns);
    FUZZ_CHECK(strcmp(d.tag, c->tag) == 0 && d.cmd == c->cmd && d.uid == c->uid);
    size_t ns2 = 0;
    size_t n2 = imap_cmd_format(&d, false, wire[1], WIRE_MAX, splits, IMAP_MAX_LITERALS, &ns2);
    FUZZ_CHECK(n2 == n && ns2 == ns && memcmp(wire[0], wire[1], n) == 0);
}

static void drain(struct imap_cmd_parser *p)
{
    struct imap_command c;
    enum imap_cmd_ev ev;
    while ((ev = imap_cmd_parser_next(p, &c)) != IMAP_CMD_NEED_MORE) {
        FUZZ_CHECK((unsigned)ev < IMAP_CMD_EV_COUNT && imap_cmd_ev_names[ev] != NULL);
        switch (ev) {
        case IMAP_CMD_COMMAND:
            FUZZ_CHECK((unsigned)c.cmd < IMAP_CMD_COUNT && c.error == IMAP_ERR_NONE);
            FUZZ_CHECK(memchr(c.tag, '\0', sizeof c.tag) != NULL && c.tag[0] != '\0');
            round_trip(&c);
            if (c.cmd == IMAP_CMD_IDLE) imap_cmd_parser_expect(p, IMAP_EXPECT_DONE);
            if (c.cmd == IMAP_CMD_AUTHENTICATE && !c.has_initial)
                imap_cmd_parser_expect(p, IMAP_EXPECT_SASL);
            break;
        case IMAP_CMD_ERROR: {
            FUZZ_CHECK(c.error > IMAP_ERR_NONE && c.error < IMAP_ERR_COUNT);
            FUZZ_CHECK(imap_strerror(c.error) != NULL);
            char line[512];
            size_t n = imap_cmd_error_reply(&c, line, sizeof line);
            FUZZ_CHECK(n > 2 && line[n - 2] == '\r' && line[n - 1] == '\n');
            FUZZ_CHECK(memchr(line, '\n', n - 1) == NULL);
            if (c.error != IMAP_ERR_NOMEM)
                FUZZ_CHECK(strncmp(line, c.tag, strlen(c.tag)) == 0);
            break;
        }
        case IMAP_CMD_SASL:
            FUZZ_CHECK(c.sasl_cancelled || c.sasl_line.ptr != NULL || c.sasl_line.len == 0);
            break;
        default:
            break;
        }
    }
}

static void feed(struct imap_cmd_parser *p, const char *in, size_t n)
{
    while (n) {
        size_t took = imap_cmd_parser_feed(p, in, n);
        in += took;
        n -= took;
        drain(p);
        FUZZ_CHECK(took > 0 || n == 0);
    }
    drain(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fresh) fresh = imap_cmd_parser_new(1u << 20);
    FUZZ_CHECK(fresh != NULL);
    if (size == 0) return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1, split = n ? data[0] % (n + 1) : 0;
    /* Two parsers kept across inputs (creating one per input costs more
     * than the parse), reset before each: the reset is part of the test. */
    static struct imap_cmd_parser *parsers[2];
    int which = data[0] >> 7;
    if (!parsers[which]) parsers[which] = imap_cmd_parser_new(which ? 1024 : 0);
    struct imap_cmd_parser *p = parsers[which];
    FUZZ_CHECK(p != NULL);
    imap_cmd_parser_reset(p);
    FUZZ_CHECK(imap_cmd_parser_pending(p) == 0);
    feed(p, in, split);
    feed(p, in + split, n - split);
    return 0;
}
