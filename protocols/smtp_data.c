/* DATA transparency (RFC 5321 4.5.2): the client's dot-stuffer and the
 * server's reader that finds CRLF "." CRLF and undoes the stuffing. */
#include "protocols/smtp.h"

#include <stdint.h>
#include <string.h>

#include "protocols/common.h"

/* ---- Client: stuffing ---------------------------------------------------- */

void smtp_stuffer_init(struct smtp_stuffer *s)
{
    s->line_start = true; /* the data starts right after "354" CRLF */
    s->after_cr = false;
    s->finished = false;
}

size_t smtp_stuffer_feed(struct smtp_stuffer *s, const char *in, size_t n,
                         size_t *used, char *out, size_t cap)
{
    EXPECT(!s->finished);
    size_t i = 0, o = 0;
    for (; i < n; i++) {
        char c = in[i];
        if (c == '\n' && s->after_cr) { /* the LF of a CRLF already sent */
            s->after_cr = false;
            continue;
        }
        /* RFC 5321 2.3.8: line ends go out only as CRLF, so a lone CR or a
         * lone LF becomes one; RFC 5321 4.5.2: a line's leading "." is
         * doubled. */
        bool eol = c == '\r' || c == '\n';
        bool dot = c == '.' && s->line_start;
        size_t need = (eol || dot) ? 2 : 1;
        if (o + need > cap) break;
        if (eol) {
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            if (dot) out[o++] = '.';
            out[o++] = c;
        }
        s->after_cr = c == '\r';
        s->line_start = eol;
    }
    *used = i;
    return o;
}

int smtp_stuffer_finish(struct smtp_stuffer *s, char *out, size_t cap)
{
    EXPECT(!s->finished);
    /* RFC 5321 4.1.1.4: the data ends with CRLF "." CRLF, so a message whose
     * last line lacks its CRLF gets one first. */
    size_t need = s->line_start ? 3 : 5;
    if (cap < need) return SMTP_ERR_NO_SPACE;
    size_t o = 0;
    if (!s->line_start) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    memcpy(out + o, ".\r\n", 3);
    s->finished = true;
    return (int)(o + 3);
}

/* ---- Server: reading ----------------------------------------------------- */

void smtp_data_reader_init(struct smtp_data_reader *d)
{
    linebuf_init(&d->lb, d->storage, sizeof d->storage);
    smtp_data_reader_reset(d);
}

void smtp_data_reader_reset(struct smtp_data_reader *d)
{
    linebuf_reset(&d->lb);
    d->prev_crlf = true; /* the DATA command line ended in CRLF */
    d->cont = false;
    d->cont_cr = false;
    d->done = false;
    d->flaw = 0;
    d->bytes = 0;
}

size_t smtp_data_reader_feed(struct smtp_data_reader *d, const char *in, size_t n)
{
    if (d->done) return 0; /* what follows the terminator is commands */
    return linebuf_feed(&d->lb, in, n);
}

static void flaw(struct smtp_data_reader *d, int err)
{
    if (!d->flaw) d->flaw = err; /* the first one is reported */
}

/* The longest text line, its CRLF and a stuffed dot not counted. */
#define TEXT_MAX (SMTP_TEXT_LINE_MAX - 2)

int smtp_data_reader_next(struct smtp_data_reader *d, const char **data, size_t *len)
{
    if (d->done) return SMTP_DATA_END;
    const char *line;
    size_t n;
    bool bare;
    enum linebuf_status st = linebuf_next(&d->lb, &line, &n, &bare);
    if (st == LINEBUF_NEED_MORE) return SMTP_DATA_NEED_MORE;
    if (st == LINEBUF_TOO_LONG) {
        /* The storage is full of one line with no LF yet (linebuf only says
         * so when the line fills all of it). Hand the part out, keep
         * reading the line ourselves instead of letting linebuf drop it to
         * the next LF: that LF could be bare, and "LF . CRLF" must not end
         * the data (RFC 5321 2.3.8). */
        size_t skip = (!d->cont && d->storage[0] == '.') ? 1 : 0;
        flaw(d, SMTP_ERR_DATA_LINE_TOO_LONG);
        d->cont = true;
        d->cont_cr = d->storage[sizeof d->storage - 1] == '\r';
        linebuf_reset(&d->lb); /* forgets the full storage, nothing else */
        *data = d->storage + skip;
        *len = sizeof d->storage - skip;
        d->bytes += *len;
        return SMTP_DATA_BYTES;
    }
    size_t ending = bare ? 1 : 2;
    bool crlf = !bare;
    size_t skip = 0;
    if (d->cont) {
        /* The tail of an overlong line: never a line start, so neither the
         * terminator nor a stuffed dot. A CR that ended the previous part
         * and this lone LF make one CRLF. */
        if (bare && n == 0 && d->cont_cr) crlf = true;
        d->cont = false;
    } else {
        /* RFC 5321 4.5.2: a line of one "." ends the data; only when it
         * stands between two CRLFs (RFC 5321 2.3.8: a bare LF is not a
         * line end, so "LF . CRLF" and "CRLF . LF" are message text). */
        if (n == 1 && line[0] == '.' && crlf && d->prev_crlf) {
            d->done = true;
            return SMTP_DATA_END;
        }
        /* RFC 5321 4.5.2: otherwise a leading "." is removed. */
        if (n > 1 && line[0] == '.') skip = 1;
        /* RFC 5321 4.5.3.1.6: 1000 octets with CRLF, the stuffed dot not
         * counted. */
        if (n - skip > TEXT_MAX) flaw(d, SMTP_ERR_DATA_LINE_TOO_LONG);
    }
    if (!crlf) flaw(d, SMTP_ERR_DATA_BARE_LF);
    d->prev_crlf = crlf;
    /* The ending bytes follow the line in the storage, as received. */
    *data = line + skip;
    *len = n - skip + ending;
    d->bytes += *len;
    return SMTP_DATA_BYTES;
}

int smtp_data_reader_status(const struct smtp_data_reader *d)
{
    return d->flaw;
}

size_t smtp_data_reader_size(const struct smtp_data_reader *d)
{
    return d->bytes;
}

size_t smtp_data_reader_take_rest(struct smtp_data_reader *d, const char **rest)
{
    *rest = d->storage;
    if (!d->done) return 0;
    return linebuf_take_raw(&d->lb, rest, SIZE_MAX);
}
