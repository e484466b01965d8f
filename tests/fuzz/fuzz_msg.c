/* libFuzzer target: RFC 5322 messages (msg.h). The same input is read as a
 * header section, an address list, one mailbox, a date, a Message-ID and
 * an unstructured value with RFC 2047 words.
 *
 * Properties:
 *  - nothing reads outside the input; every result is MSG_OK or an
 *    MSG_ERR_* value with a name;
 *  - header: fields lie inside the buffer in order, body_off <= len; every
 *    value unfolds; a field written back by msg_format_field() (name, the
 *    unfolded value) parses as one field with the same name and unfolded
 *    value (unless the value holds a CR, LF or NUL, or one word is too long
 *    for a 998-octet line);
 *  - addresses: a parsed list formatted by msg_addr_list_format() parses
 *    into the same entries (kind, display name, local part, domain); the
 *    same for one mailbox through msg_addr_format();
 *  - dates: a parsed date formatted by msg_date_format() parses into the
 *    same instant and zone, and formatting is exactly MSG_DATE_LEN octets. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/msg.h"

static struct msg_header h, h2;
static struct msg_addr_list l1, l2;
static char text[2 * MSG_MAX_HEADER];

static bool has_ctl(const char *p, size_t n)
{
    return memchr(p, '\0', n) || memchr(p, '\r', n) || memchr(p, '\n', n);
}

static bool same_addr(const struct msg_addr *a, const struct msg_addr *b)
{
    return a->kind == b->kind && strcmp(a->display, b->display) == 0 &&
           strcmp(a->local, b->local) == 0 && strcmp(a->domain, b->domain) == 0;
}

static void header(const char *in, size_t n)
{
    enum msg_err err = msg_parse_header(in, n, &h);
    FUZZ_CHECK(err < MSG_ERR_COUNT && msg_strerror(err) != NULL);
    FUZZ_CHECK(h.n_fields <= MSG_MAX_FIELDS && h.body_off <= n);
    size_t prev_end = 0;
    for (size_t i = 0; i < h.n_fields; i++) {
        const struct msg_field *f = &h.fields[i];
        FUZZ_CHECK(f->off >= prev_end && f->off + f->len <= n);
        FUZZ_CHECK(f->name_off == f->off && f->name_len > 0);
        FUZZ_CHECK(f->value_off >= f->name_off + f->name_len &&
                   f->value_off + f->value_len <= f->off + f->len);
        prev_end = f->off + f->len;
        FUZZ_CHECK(msg_header_find(&h, "x", 0) < (int)h.n_fields);

        size_t vlen, ulen;
        const char *v = msg_field_value(&h, i, &vlen);
        FUZZ_CHECK(msg_unfold(v, vlen, text, sizeof text, &ulen) == MSG_OK);
        char dec[1024];
        size_t dlen;
        enum msg_err de = msg_decode_words(v, vlen, dec, sizeof dec, &dlen);
        FUZZ_CHECK(de == MSG_OK || de == MSG_ERR_NO_SPACE);

        /* Round trip through msg_format_field. */
        if (has_ctl(text, ulen)) continue;
        char name[MSG_MAX_LINE + 1], out[2 * MSG_MAX_HEADER];
        FUZZ_CHECK(f->name_len <= MSG_MAX_LINE);
        memcpy(name, in + f->name_off, f->name_len);
        name[f->name_len] = '\0';
        size_t olen;
        enum msg_err fe = msg_format_field(name, text, out, sizeof out, &olen);
        if (fe == MSG_ERR_LINE_TOO_LONG) continue;
        FUZZ_CHECK(fe == MSG_OK);
        FUZZ_CHECK(msg_parse_header(out, olen, &h2) == MSG_OK);
        FUZZ_CHECK(h2.n_fields == 1 && h2.fields[0].name_len == f->name_len &&
                   memcmp(out + h2.fields[0].name_off, name, f->name_len) == 0);
        size_t v2len, u2len;
        const char *v2 = msg_field_value(&h2, 0, &v2len);
        static char text2[2 * MSG_MAX_HEADER];
        FUZZ_CHECK(msg_unfold(v2, v2len, text2, sizeof text2, &u2len) == MSG_OK);
        FUZZ_CHECK(u2len == ulen && memcmp(text, text2, ulen) == 0);
    }
}

static void addresses(const char *in, size_t n)
{
    static char out[MSG_MAX_ADDRS * 1024];
    size_t olen;
    enum msg_err err = msg_addr_parse_list(in, n, &l1);
    FUZZ_CHECK(err < MSG_ERR_COUNT && l1.n <= MSG_MAX_ADDRS);
    if (err == MSG_OK) {
        FUZZ_CHECK(l1.n > 0);
        FUZZ_CHECK(msg_addr_list_format(&l1, out, sizeof out, &olen) == MSG_OK);
        FUZZ_CHECK(strlen(out) == olen);
        FUZZ_CHECK(msg_addr_parse_list(out, olen, &l2) == MSG_OK);
        FUZZ_CHECK(l2.n == l1.n);
        for (size_t i = 0; i < l1.n; i++) FUZZ_CHECK(same_addr(&l1.addr[i], &l2.addr[i]));
    }

    struct msg_addr a, b;
    err = msg_addr_parse(in, n, &a);
    FUZZ_CHECK(err < MSG_ERR_COUNT);
    if (err == MSG_OK) {
        FUZZ_CHECK(a.kind == MSG_ADDR_MAILBOX);
        FUZZ_CHECK(msg_addr_format(&a, out, sizeof out, &olen) == MSG_OK);
        FUZZ_CHECK(msg_addr_parse(out, olen, &b) == MSG_OK);
        FUZZ_CHECK(same_addr(&a, &b));
    }
}

static void date(const char *in, size_t n)
{
    int64_t epoch, epoch2;
    int zone, zone2;
    enum msg_err err = msg_date_parse(in, n, &epoch, &zone);
    FUZZ_CHECK(err < MSG_ERR_COUNT);
    if (err != MSG_OK) return;
    FUZZ_CHECK(zone >= -5999 && zone <= 5999);
    char out[MSG_DATE_LEN + 1];
    FUZZ_CHECK(msg_date_format(epoch, zone, out, sizeof out) == MSG_OK);
    FUZZ_CHECK(strlen(out) == MSG_DATE_LEN);
    FUZZ_CHECK(msg_date_parse(out, MSG_DATE_LEN, &epoch2, &zone2) == MSG_OK);
    FUZZ_CHECK(epoch2 == epoch && zone2 == zone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    header(in, size);
    addresses(in, size);
    date(in, size);
    struct msg_id id;
    if (msg_id_parse(in, size, &id) == MSG_OK)
        FUZZ_CHECK(id.left >= in && id.right + id.right_len <= in + size);
    char dec[512];
    size_t dlen;
    enum msg_err de = msg_decode_words(in, size, dec, sizeof dec, &dlen);
    FUZZ_CHECK(de == MSG_OK || de == MSG_ERR_NO_SPACE);
    FUZZ_CHECK(dlen < sizeof dec && strlen(dec) <= dlen);
    return 0;
}
