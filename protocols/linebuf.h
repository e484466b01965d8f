/* A bounded CRLF line reader shared by the line-based codecs (SMTP, POP3,
 * IMAP). The codec owns the storage; the reader never allocates.
 *
 * Use: linebuf_feed() copies what fits and returns how many bytes it took;
 * then call linebuf_next() until LINEBUF_NEED_MORE, and feed the rest.
 * A line longer than the storage is reported once as LINEBUF_TOO_LONG as soon
 * as the storage fills, and its bytes are dropped up to and including its LF,
 * so the reader resynchronises at the next line (RFC 5321 4.5.3.1.4 asks a
 * server to answer such a line with 500 and carry on). */
#ifndef MAILSIM_PROTOCOLS_LINEBUF_H
#define MAILSIM_PROTOCOLS_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

struct linebuf {
    char  *data;       /* storage of cap bytes, owned by the codec */
    size_t cap;        /* the longest line accepted, its CRLF included */
    size_t start;      /* first unread byte in data */
    size_t len;        /* bytes held from start */
    bool   discarding; /* an overlong line is being skipped to its LF */
};

enum linebuf_status {
    LINEBUF_NEED_MORE = 0, /* no complete line held */
    LINEBUF_LINE,          /* *line, *len: one line without its ending */
    LINEBUF_TOO_LONG,      /* a line exceeded cap; it is being dropped */
};

void linebuf_init(struct linebuf *lb, char *storage, size_t cap);

/* Forget everything held, including an overlong line being dropped. */
void linebuf_reset(struct linebuf *lb);

/* Copies as much of in[0..n) as fits and returns the count copied (0 when
 * the storage is full: call linebuf_next() first). */
size_t linebuf_feed(struct linebuf *lb, const char *in, size_t n);

/* Returns LINEBUF_LINE with *line (borrowed until the next call on lb) and
 * *len, the line without its ending; *bare_lf tells whether it ended in a
 * lone LF instead of CRLF (RFC 5321 2.3.8: the caller decides what that
 * means). Returns LINEBUF_TOO_LONG once per overlong line, LINEBUF_NEED_MORE
 * when no whole line is held. */
enum linebuf_status linebuf_next(struct linebuf *lb, const char **line,
                                 size_t *len, bool *bare_lf);

/* Raw bytes without line framing (an IMAP literal, a TLS switch): up to max
 * of the held bytes, borrowed until the next call. Returns the count. */
size_t linebuf_take_raw(struct linebuf *lb, const char **data, size_t max);

/* The held bytes not yet returned, without taking them: *data (borrowed
 * until the next call on lb) and the count. */
size_t linebuf_peek(const struct linebuf *lb, const char **data);

/* Bytes held and not yet returned. */
size_t linebuf_pending(const struct linebuf *lb);

#endif
