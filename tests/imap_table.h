/* Shared by the IMAP codec tests (the server's command parser and the
 * client's response reader), which check their codecs the same way: each
 * input is fed whole and byte by byte, every event is logged as one line of
 * text, and the log must equal the table's expectation; good inputs are
 * also mutated at random to look for crashes and round-trip mismatches. */
#ifndef MAILSIM_TESTS_IMAP_TABLE_H
#define MAILSIM_TESTS_IMAP_TABLE_H

#include "tests/testkit.h"

#include "protocols/imap.h"

/* ---- deep comparison of the types both directions share --------------- */

static inline void str_eq(const struct imap_str *a, const struct imap_str *b)
{
    assert_int_equal(a->nil, b->nil);
    assert_int_equal(a->len, b->len);
    if (a->len) assert_memory_equal(a->ptr, b->ptr, a->len);
}

static inline void strs_eq(const struct imap_str *a, size_t na, const struct imap_str *b,
                           size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) str_eq(&a[i], &b[i]);
}

static inline void set_eq(const struct imap_seqset *a, const struct imap_seqset *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->ranges[i].lo, b->ranges[i].lo);
        assert_int_equal(a->ranges[i].hi, b->ranges[i].hi);
    }
}

/* ---- the event log ---------------------------------------------------- */

/* What a codec made of an input: one entry per event, joined by '|'. Large
 * enough for the longest command line the parser accepts. */
struct out {
    char   buf[200000];
    size_t len;
};

static inline void out_clear(struct out *o)
{
    o->len = 0;
    o->buf[0] = 0;
}

static inline void put(struct out *o, const char *s, size_t n)
{
    assert_true(o->len + n + 2 < sizeof o->buf);
    if (o->len) o->buf[o->len++] = '|';
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

/* How many octets the next feed call gets: at most chunk, so that chunk 1
 * is byte by byte and chunk >= n is the whole input at once. */
static inline size_t next_piece(size_t n, size_t off, size_t chunk)
{
    return n - off < chunk ? n - off : chunk;
}

/* A codec under test: feeds in[0..n) to a fresh parser at most chunk
 * octets a call, with literals limited to max_lit (0: the default), and
 * logs every event it hands out in o. */
typedef void feed_fn(const char *in, size_t n, size_t chunk, size_t max_lit, struct out *o);

/* ---- table cases ------------------------------------------------------ */

/* Runs one table case whole and then byte by byte, prints each way whose
 * log is not want, and returns how many were not: a table reports every
 * failing case before its one assertion stops the test. */
static inline int check_case(feed_fn *run, const char *name, const char *in, size_t len,
                             size_t max_lit, const char *want)
{
    static struct out o;
    const size_t chunks[] = {len, 1};
    int failed = 0;
    for (size_t m = 0; m < 2; m++) {
        run(in, len, chunks[m], max_lit, &o);
        if (strcmp(o.buf, want) != 0) {
            print_error("%s (%s):\n got  %s\n want %s\n", name, m ? "bytewise" : "whole", o.buf,
                        want);
            failed++;
        }
    }
    return failed;
}

/* ---- mutated good inputs ---------------------------------------------- */

/* The state of one run of mutations: a linear congruential generator, the
 * octets an edit may put in, the buffer the mutated copy is built in, and
 * how many copies were fed. */
struct mutator {
    uint32_t    seed;
    const char *alphabet;
    size_t      alphabet_len;
    char       *buf;
    size_t      cap;
    size_t      cases;
};

/* Copies src into m->buf, makes `edits` random edits (replace, insert or
 * delete one octet), and feeds the result whole or byte by byte as the
 * generator says, with literals limited to 64 octets so that mutated
 * sizes are refused early. An input too long to grow by the edits is
 * skipped and not counted. */
static inline void feed_mutated(feed_fn *run, struct mutator *m, const char *src, int edits)
{
    static struct out o;
    size_t n = strlen(src);
    if (n >= m->cap - 8) return;
    char *in = m->buf;
    memcpy(in, src, n);
    for (int k = 0; k < edits && n > 1; k++) {
        m->seed = m->seed * 1103515245u + 12345u;
        size_t at = (m->seed >> 8) % n;
        char ch = m->alphabet[(m->seed >> 20) % m->alphabet_len];
        switch ((m->seed >> 4) % 3) {
        case 0: in[at] = ch; break;                                                 /* replace */
        case 1: memmove(in + at + 1, in + at, n - at); in[at] = ch; n++; break;     /* insert */
        default: memmove(in + at, in + at + 1, n - at - 1); n--; break;             /* delete */
        }
    }
    run(in, n, (m->seed & 1) ? n : 1, 64, &o);
    m->cases++;
}

#endif
