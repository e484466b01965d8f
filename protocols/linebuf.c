#include "protocols/linebuf.h"

#include <string.h>

#include "protocols/common.h"

void linebuf_init(struct linebuf *lb, char *storage, size_t cap)
{
    EXPECT(storage != NULL && cap >= 2);
    lb->data = storage;
    lb->cap = cap;
    linebuf_reset(lb);
}

void linebuf_reset(struct linebuf *lb)
{
    lb->start = 0;
    lb->len = 0;
    lb->discarding = false;
}

size_t linebuf_feed(struct linebuf *lb, const char *in, size_t n)
{
    if (lb->start > 0) { /* compact: the unread bytes move to the front */
        memmove(lb->data, lb->data + lb->start, lb->len);
        lb->start = 0;
    }
    size_t room = lb->cap - lb->len;
    size_t take = n < room ? n : room;
    memcpy(lb->data + lb->len, in, take);
    lb->len += take;
    return take;
}

enum linebuf_status linebuf_next(struct linebuf *lb, const char **line,
                                 size_t *len, bool *bare_lf)
{
    for (;;) {
        char *head = lb->data + lb->start;
        char *lf = lb->len ? memchr(head, '\n', lb->len) : NULL;
        if (lb->discarding) {
            if (!lf) { /* drop all of it; the line goes on */
                lb->start = 0;
                lb->len = 0;
                return LINEBUF_NEED_MORE;
            }
            size_t used = (size_t)(lf - head) + 1;
            lb->start += used;
            lb->len -= used;
            lb->discarding = false;
            continue;
        }
        if (!lf) {
            if (lb->start + lb->len < lb->cap || lb->start > 0)
                return LINEBUF_NEED_MORE; /* feed compacts and makes room */
            lb->discarding = true;        /* full and still no LF */
            return LINEBUF_TOO_LONG;
        }
        size_t used = (size_t)(lf - head) + 1;
        size_t n = used - 1;
        bool cr = n > 0 && head[n - 1] == '\r';
        if (cr) n--;
        *line = head;
        *len = n;
        *bare_lf = !cr;
        lb->start += used;
        lb->len -= used;
        return LINEBUF_LINE;
    }
}

size_t linebuf_take_raw(struct linebuf *lb, const char **data, size_t max)
{
    size_t n = lb->len < max ? lb->len : max;
    *data = lb->data + lb->start;
    lb->start += n;
    lb->len -= n;
    return n;
}

size_t linebuf_peek(const struct linebuf *lb, const char **data)
{
    *data = lb->data + lb->start;
    return lb->len;
}

size_t linebuf_pending(const struct linebuf *lb)
{
    return lb->len;
}
