/* DATA transparency (RFC 5321 4.5.2): the client's stuffer and the server's
 * reader, including the terminator split over every chunk boundary, bare
 * LFs (RFC 5321 2.3.8, SMTP smuggling) and overlong lines. */
#include "tests/testkit.h"

#include "protocols/smtp.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- the stuffer ----------------------------------------------------------- */

/* Stuffs msg (whole or byte by byte) with an output buffer of outcap a call
 * (so small buffers force partial consumption), then finishes. */
static size_t stuff(const char *msg, size_t n, enum feed_mode mode, size_t outcap, char *out)
{
    struct smtp_stuffer s;
    smtp_stuffer_init(&s);
    size_t off = 0, o = 0;
    while (off < n) {
        size_t used;
        size_t chunk = feed_chunk(mode, n - off);
        o += smtp_stuffer_feed(&s, msg + off, chunk, &used, out + o, outcap);
        assert_true(used > 0 || outcap < 2); /* progress unless the buffer is tiny */
        if (used == 0) outcap = 2;
        off += used;
    }
    char tail[SMTP_STUFF_FINISH_MAX];
    int t = smtp_stuffer_finish(&s, tail, sizeof tail);
    assert_true(t == 3 || t == 5);
    memcpy(out + o, tail, (size_t)t);
    return o + (size_t)t;
}

static const struct {
    const char *name, *msg, *wire;
} stuff_cases[] = {
    {"empty message", "", ".\r\n"},
    {"one line", "Hello\r\n", "Hello\r\n.\r\n"},
    {"no final CRLF", "Hello", "Hello\r\n.\r\n"},
    {"line of one dot", ".\r\n", "..\r\n.\r\n"},
    {"leading dots doubled", "a\r\n.b\r\n..c\r\n", "a\r\n..b\r\n...c\r\n.\r\n"},
    {"dot first in message", ".start", "..start\r\n.\r\n"},
    {"dot mid-line untouched", "x.y\r\n.\r\n", "x.y\r\n..\r\n.\r\n"},
    {"bare LF becomes CRLF", "a\nb\n", "a\r\nb\r\n.\r\n"},
    {"bare CR becomes CRLF", "a\rb", "a\r\nb\r\n.\r\n"},
    {"CR CR LF", "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"},
    {"LF . LF defused", "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
    {"empty lines kept", "a\r\n\r\n", "a\r\n\r\n.\r\n"},
    {"CRLF . CRLF inside", "\r\n.\r\n", "\r\n..\r\n.\r\n"},
    {"smtplib's bare-LF message made safe", "hi\n.\n..x\r\n.", "hi\r\n..\r\n...x\r\n..\r\n.\r\n"},
};

static void test_stuffer(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof stuff_cases / sizeof stuff_cases[0]; i++) {
        for (size_t m = 0; m < 2; m++) {
            static const size_t caps[] = {2, 3, 64};
            for (size_t c = 0; c < 3; c++) {
                char out[128];
                size_t n = stuff(stuff_cases[i].msg, strlen(stuff_cases[i].msg), modes[m],
                                 caps[c], out);
                if (n != strlen(stuff_cases[i].wire) || memcmp(out, stuff_cases[i].wire, n) != 0)
                    fail_msg("%s (%s, out %zu): got [%.*s]", stuff_cases[i].name,
                             m ? "bytewise" : "whole", caps[c], (int)n, out);
            }
        }
    }
}

static void test_stuffer_buffers(void **state)
{
    (void)state;
    struct smtp_stuffer s;
    char out[8];
    size_t used;
    smtp_stuffer_init(&s);
    /* ".." needs 2 bytes: with 1 nothing is taken and nothing written. */
    assert_int_equal(smtp_stuffer_feed(&s, ".x", 2, &used, out, 1), 0);
    assert_int_equal(used, 0);
    assert_int_equal(smtp_stuffer_feed(&s, ".x", 2, &used, out, 3), 3);
    assert_int_equal(used, 2);
    assert_memory_equal(out, "..x", 3);
    /* Finishing needs CRLF . CRLF = 5 here. */
    assert_int_equal(smtp_stuffer_finish(&s, out, 4), SMTP_ERR_NO_SPACE);
    assert_int_equal(smtp_stuffer_finish(&s, out, 5), 5);
    assert_memory_equal(out, "\r\n.\r\n", 5);
    assert_int_equal(SMTP_STUFF_OUT_MAX(4), 8);
}

/* ---- the reader ------------------------------------------------------------ */

struct read_result {
    char  *text;   /* the message handed out, malloc'd */
    size_t len;
    bool   ended;
    int    status;
    char   rest[64]; /* bytes after the terminator, from take_rest and unfed */
    size_t rest_len;
};

/* Feeds in[0..n) in chunks: cuts[] are the chunk boundaries (ascending,
 * ncuts of them), or byte by byte when bytewise. */
static void read_data(const char *in, size_t n, const size_t *cuts, size_t ncuts, bool bytewise,
                      struct read_result *r)
{
    static struct smtp_data_reader d;
    smtp_data_reader_init(&d);
    memset(r, 0, sizeof *r);
    r->text = malloc(n + 1);
    assert_non_null(r->text);
    size_t off = 0, cut = 0;
    while (!r->ended) {
        size_t end = bytewise ? (off < n ? off + 1 : n) : (cut < ncuts ? cuts[cut] : n);
        size_t took = smtp_data_reader_feed(&d, in + off, end - off);
        off += took;
        if (off == end && cut < ncuts && !bytewise) cut++;
        const char *data;
        size_t len;
        int ev;
        while ((ev = smtp_data_reader_next(&d, &data, &len)) == SMTP_DATA_BYTES) {
            assert_true(r->len + len <= n);
            memcpy(r->text + r->len, data, len);
            r->len += len;
        }
        if (ev == SMTP_DATA_END) r->ended = true;
        else if (off == n) break;
    }
    r->status = smtp_data_reader_status(&d);
    assert_int_equal(smtp_data_reader_size(&d), r->len);
    if (r->ended) {
        assert_int_equal(smtp_data_reader_next(&d, &(const char *){0}, &(size_t){0}), SMTP_DATA_END);
        assert_int_equal(smtp_data_reader_feed(&d, "x", 1), 0);
        const char *rest;
        size_t k = smtp_data_reader_take_rest(&d, &rest);
        assert_true(k + (n - off) <= sizeof r->rest);
        memcpy(r->rest, rest, k);
        memcpy(r->rest + k, in + off, n - off);
        r->rest_len = k + (n - off);
    }
}

static const struct {
    const char *name, *wire, *msg;
    bool ended;
    int status;
    const char *rest;
} read_cases[] = {
    {"one line", "Hello\r\n.\r\n", "Hello\r\n", true, 0, ""},
    {"empty message", ".\r\n", "", true, 0, ""},
    {"stuffed dot line", "..\r\n.\r\n", ".\r\n", true, 0, ""},
    {"leading dots removed", "..b\r\n...c\r\n.\r\n", ".b\r\n..c\r\n", true, 0, ""},
    {"dot then space", ". \r\n.\r\n", " \r\n", true, 0, ""},
    {"pipelined QUIT kept", "a\r\n.\r\nQUIT\r\n", "a\r\n", true, 0, "QUIT\r\n"},
    {"blank lines", "\r\n\r\nx\r\n.\r\n", "\r\n\r\nx\r\n", true, 0, ""},
    {"bare CR is data", "a\rb\r\n.\r\n", "a\rb\r\n", true, 0, ""},
    {"no terminator yet", "no terminator\r\n", "no terminator\r\n", false, 0, ""},
    {"terminator missing LF", "a\r\n.\r", "a\r\n", false, 0, ""},
    {"LF.LF does not end", "a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", true, SMTP_ERR_DATA_BARE_LF, ""},
    {"LF.CRLF does not end (smuggling)", "a\n.\r\nMAIL FROM:<x@example.com>\r\n.\r\n",
     "a\n.\r\nMAIL FROM:<x@example.com>\r\n", true, SMTP_ERR_DATA_BARE_LF, ""},
    {"CRLF.LF does not end", "a\r\n.\nb\r\n.\r\n", "a\r\n.\nb\r\n", true, SMTP_ERR_DATA_BARE_LF, ""},
    {"CR.CRLF does not end", "a\r.\r\nb\r\n.\r\n", "a\r.\r\nb\r\n", true, 0, ""},
    {"bare LF at the end", "a\n.\r\n", "a\n.\r\n", false, SMTP_ERR_DATA_BARE_LF, ""},
    /* What Python 3.11 smtplib sent for a bytes message with bare LFs: it
     * stuffs after LF too and leaves the LFs bare, so the message is
     * refused (and ends only at the real CRLF . CRLF). */
    {"smtplib bytes with bare LF", "Subject: x\r\n\r\nhi\n..\n...x\r\n..\r\n.\r\n",
     "Subject: x\r\n\r\nhi\n.\n..x\r\n.\r\n", true, SMTP_ERR_DATA_BARE_LF, ""},
    {"curl stuffed line", "Subject: y\r\n\r\n..hello\r\n.\r\n", "Subject: y\r\n\r\n.hello\r\n", true, 0, ""},
};

static void check_read(const char *name, const char *how, const struct read_result *r,
                       const char *msg, bool ended, int status, const char *rest)
{
    if (r->len != strlen(msg) || memcmp(r->text, msg, r->len) != 0)
        fail_msg("%s (%s): message [%.*s]", name, how, (int)r->len, r->text);
    if (r->ended != ended || r->status != status)
        fail_msg("%s (%s): ended %d status %s", name, how, r->ended, smtp_strerror(r->status));
    if (r->ended && (r->rest_len != strlen(rest) || memcmp(r->rest, rest, r->rest_len) != 0))
        fail_msg("%s (%s): rest [%.*s]", name, how, (int)r->rest_len, r->rest);
}

static void test_reader_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof read_cases / sizeof read_cases[0]; i++) {
        size_t n = strlen(read_cases[i].wire);
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            struct read_result r;
            read_data(read_cases[i].wire, n, NULL, 0, bytewise, &r);
            check_read(read_cases[i].name, bytewise ? "bytewise" : "whole", &r,
                       read_cases[i].msg, read_cases[i].ended, read_cases[i].status,
                       read_cases[i].rest);
            free(r.text);
        }
    }
}

/* The terminator and everything around it, cut into three chunks at every
 * pair of positions. */
static void test_terminator_every_split(void **state)
{
    (void)state;
    const char *wire = "Subject: x\r\n\r\n..body\r\n.\r\nQUIT\r\n";
    const char *msg = "Subject: x\r\n\r\n.body\r\n";
    size_t n = strlen(wire);
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            size_t cuts[2] = {a, b};
            struct read_result r;
            read_data(wire, n, cuts, 2, false, &r);
            char how[32];
            snprintf(how, sizeof how, "cuts %zu,%zu", a, b);
            check_read("three chunks", how, &r, msg, true, 0, "QUIT\r\n");
            free(r.text);
        }
    }
    /* The smuggling form never ends early, wherever it is cut. */
    const char *evil = "a\n.\r\nRSET\r\n.\r\n";
    n = strlen(evil);
    for (size_t a = 0; a <= n; a++) {
        size_t cuts[1] = {a};
        struct read_result r;
        read_data(evil, n, cuts, 1, false, &r);
        check_read("smuggling", "split", &r, "a\n.\r\nRSET\r\n", true, SMTP_ERR_DATA_BARE_LF, "");
        free(r.text);
    }
}

/* Overlong lines: 998 + CRLF fine, 999 + CRLF too long (RFC 5321
 * 4.5.3.1.6), a stuffed dot not counted, and the terminator still found
 * after them, never at a bare LF. */
static void test_reader_long_lines(void **state)
{
    (void)state;
    static char wire[4096], msg[4096];
    for (int bytewise = 0; bytewise < 2; bytewise++) {
        const char *how = bytewise ? "bytewise" : "whole";
        struct read_result r;

        memset(wire, 'x', 998);
        memcpy(wire + 998, "\r\n.\r\n", 5);
        read_data(wire, 1003, NULL, 0, bytewise, &r);
        memcpy(msg, wire, 1000);
        msg[1000] = '\0';
        check_read("998 octets", how, &r, msg, true, 0, "");
        free(r.text);

        wire[0] = '.'; /* stuffed: 999 on the wire, 998 of text */
        memset(wire + 1, 'x', 998);
        memcpy(wire + 999, "\r\n.\r\n", 5);
        read_data(wire, 1004, NULL, 0, bytewise, &r);
        memset(msg, 'x', 998);
        memcpy(msg + 998, "\r\n", 3);
        check_read("stuffed 999 octets", how, &r, msg, true, 0, "");
        free(r.text);

        memset(wire, 'x', 999);
        memcpy(wire + 999, "\r\n.\r\n", 5);
        read_data(wire, 1004, NULL, 0, bytewise, &r);
        memcpy(msg, wire, 1001);
        msg[1001] = '\0';
        check_read("999 octets", how, &r, msg, true, SMTP_ERR_DATA_LINE_TOO_LONG, "");
        free(r.text);

        /* The CR of the CRLF is the last byte the storage holds. */
        memset(wire, 'x', 1000);
        memcpy(wire + 1000, "\r\n.\r\nQUIT\r\n", 11);
        read_data(wire, 1011, NULL, 0, bytewise, &r);
        memcpy(msg, wire, 1002);
        msg[1002] = '\0';
        check_read("CR at the storage edge", how, &r, msg, true, SMTP_ERR_DATA_LINE_TOO_LONG, "QUIT\r\n");
        free(r.text);

        /* Long line ended by a bare LF, then ".": not the end. */
        memset(wire, 'x', 1500);
        memcpy(wire + 1500, "\n.\r\nRSET\r\n.\r\n", 13);
        read_data(wire, 1513, NULL, 0, bytewise, &r);
        memcpy(msg, wire, 1510);
        msg[1510] = '\0';
        check_read("long line then LF.CRLF", how, &r, msg, true, SMTP_ERR_DATA_LINE_TOO_LONG, "");
        free(r.text);

        /* A 3000-octet line starting with a dot, then a normal end. */
        wire[0] = '.';
        memset(wire + 1, 'y', 2999);
        memcpy(wire + 3000, "\r\nok\r\n.\r\n", 9);
        read_data(wire, 3009, NULL, 0, bytewise, &r);
        memcpy(msg, wire + 1, 3005);
        msg[3005] = '\0';
        check_read("3000 octets", how, &r, msg, true, SMTP_ERR_DATA_LINE_TOO_LONG, "");
        free(r.text);
    }
    assert_int_equal(smtp_error_reply(SMTP_ERR_DATA_LINE_TOO_LONG)->code, 500);
}

static void test_reader_reset_reads_next_message(void **state)
{
    (void)state;
    static struct smtp_data_reader d;
    const char *data, *rest;
    size_t len;
    smtp_data_reader_init(&d);
    assert_int_equal(smtp_data_reader_feed(&d, "a\nb\r\n.\r\n", 8), 8);
    while (smtp_data_reader_next(&d, &data, &len) == SMTP_DATA_BYTES) {}
    assert_int_equal(smtp_data_reader_status(&d), SMTP_ERR_DATA_BARE_LF);
    assert_int_equal(smtp_data_reader_take_rest(&d, &rest), 0);
    smtp_data_reader_reset(&d);
    assert_int_equal(smtp_data_reader_status(&d), 0);
    assert_int_equal(smtp_data_reader_size(&d), 0);
    assert_int_equal(smtp_data_reader_take_rest(&d, &rest), 0); /* not ended */
    assert_int_equal(smtp_data_reader_feed(&d, "ok\r\n.\r\n", 7), 7);
    assert_int_equal(smtp_data_reader_next(&d, &data, &len), SMTP_DATA_BYTES);
    assert_bytes("ok\r\n", data, len);
    assert_int_equal(smtp_data_reader_next(&d, &data, &len), SMTP_DATA_END);
    assert_int_equal(smtp_data_reader_status(&d), 0);
}

/* Whatever the message, stuffing then reading gives it back with its line
 * ends made CRLF, and the reader ends exactly at the stuffer's terminator. */
static void test_stuff_then_read(void **state)
{
    (void)state;
    static const char *msgs[] = {
        "", "x", ".", "..", "\r\n", ".\r\n", "a\r\n.\r\nb", "a\n.\nb\n", "\r\n.\r\n.\r\n",
        "Subject: hi\r\n\r\n. leading\r\n.. two\r\nend", "a\r\r\n.\r.\n",
    };
    static const char *norm[] = {
        "", "x\r\n", ".\r\n", "..\r\n", "\r\n", ".\r\n", "a\r\n.\r\nb\r\n", "a\r\n.\r\nb\r\n",
        "\r\n.\r\n.\r\n", "Subject: hi\r\n\r\n. leading\r\n.. two\r\nend\r\n", "a\r\n\r\n.\r\n.\r\n",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        char wire[256];
        size_t n = stuff(msgs[i], strlen(msgs[i]), FEED_WHOLE, 256, wire);
        memcpy(wire + n, "QUIT\r\n", 6);
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            struct read_result r;
            read_data(wire, n + 6, NULL, 0, bytewise, &r);
            check_read(msgs[i], bytewise ? "bytewise" : "whole", &r, norm[i], true, 0, "QUIT\r\n");
            free(r.text);
        }
    }
}

/* ---- random messages -------------------------------------------------------- */

static uint32_t rng_state;
static uint32_t rnd(void) /* xorshift32, fixed seeds: runs repeat */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* The message a stuffer sends, un-stuffed: lone CR or LF made CRLF, and a
 * final CRLF added when missing. */
static size_t normalise(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\r') {
            out[o++] = '\r';
            out[o++] = '\n';
            if (i + 1 < n && in[i + 1] == '\n') i++;
        } else if (in[i] == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = in[i];
        }
    }
    if (o > 0 && !(o >= 2 && out[o - 2] == '\r' && out[o - 1] == '\n')) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

/* Random messages of dots, CRs, LFs and letters: stuffed, then read back
 * in random chunks, they come back normalised and the end is found exactly
 * at the stuffer's terminator. */
static void test_random_round_trips(void **state)
{
    (void)state;
    static const char alphabet[] = "..\r\n\nab";
    rng_state = 4552;
    for (int iter = 0; iter < 2000; iter++) {
        char msg[64], wire[160], want[160];
        size_t n = rnd() % sizeof msg;
        for (size_t i = 0; i < n; i++) msg[i] = alphabet[rnd() % (sizeof alphabet - 1)];
        size_t w = stuff(msg, n, (rnd() % 2) ? FEED_WHOLE : FEED_BYTEWISE, 2 + rnd() % 8, wire);
        memcpy(wire + w, "QUIT\r\n", 6);
        size_t cuts[3];
        for (size_t k = 0; k < 3; k++) cuts[k] = rnd() % (w + 7);
        for (size_t k = 1; k < 3; k++) /* ascending */
            for (size_t j = k; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        struct read_result r;
        read_data(wire, w + 6, cuts, 3, false, &r);
        size_t wn = normalise(msg, n, want);
        want[wn] = '\0';
        check_read("random", "chunks", &r, want, true, 0, "QUIT\r\n");
        free(r.text);
    }
}

/* Random wire bytes straight into the reader: whole and bytewise agree on
 * every byte, the end and the verdict. */
static void test_random_wire_whole_equals_bytewise(void **state)
{
    (void)state;
    static const char alphabet[] = ".\r\nx";
    rng_state = 2023;
    for (int iter = 0; iter < 3000; iter++) {
        char wire[48];
        size_t n = rnd() % sizeof wire;
        for (size_t i = 0; i < n; i++) wire[i] = alphabet[rnd() % (sizeof alphabet - 1)];
        struct read_result a, b;
        read_data(wire, n, NULL, 0, false, &a);
        read_data(wire, n, NULL, 0, true, &b);
        if (a.len != b.len || memcmp(a.text, b.text, a.len) != 0 || a.ended != b.ended ||
            a.status != b.status || a.rest_len != b.rest_len ||
            memcmp(a.rest, b.rest, a.rest_len) != 0)
            fail_msg("random wire %d differs whole vs bytewise", iter);
        free(a.text);
        free(b.text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stuffer),
        cmocka_unit_test(test_stuffer_buffers),
        cmocka_unit_test(test_reader_table),
        cmocka_unit_test(test_terminator_every_split),
        cmocka_unit_test(test_reader_long_lines),
        cmocka_unit_test(test_reader_reset_reads_next_message),
        cmocka_unit_test(test_stuff_then_read),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_random_wire_whole_equals_bytewise),
    };
    return cmocka_run_group_tests_name("smtp_data", tests, NULL, NULL);
}
