/* Base64 (RFC 4648 4) with strict decoding, and SASL PLAIN (RFC 4616). */
#include "protocols/base64.h"

#include <string.h>

#include "protocols/common.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of c, or -1 outside the alphabet. No table indexed by a
 * peer's byte: a signed char can not become a negative index. */
static int sextet(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int base64_encode(const void *in, size_t n, char *out, size_t cap)
{
    if (n > BASE64_INPUT_MAX) return BASE64_ERR_TOO_BIG;
    size_t need = BASE64_ENCODED_LEN(n);
    if (cap < need + 1) return BASE64_ERR_NO_SPACE;
    const unsigned char *p = in;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (n - i == 1) { /* RFC 4648 4: 8 bits -> two characters and "==" */
        unsigned long v = (unsigned long)p[i] << 16;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) { /* 16 bits -> three characters and "=" */
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    EXPECT(o == need);
    out[o] = '\0';
    return (int)o;
}

int base64_decode(const char *in, size_t n, void *out, size_t cap)
{
    if (n > BASE64_INPUT_MAX) return BASE64_ERR_TOO_BIG;
    /* Character errors are reported before length errors, so a stray space
     * is named as such whatever the length. */
    size_t pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=') {
            pad++;
        } else if (sextet(in[i]) < 0) {
            return BASE64_ERR_CHAR;
        } else if (pad) {
            return BASE64_ERR_PADDING; /* data after '=' */
        }
    }
    if (n % 4 != 0) return BASE64_ERR_LENGTH; /* RFC 4648 3.2: padding required */
    if (pad > 2) return BASE64_ERR_PADDING;
    size_t len = n / 4 * 3 - pad;
    if (len > cap) return BASE64_ERR_NO_SPACE;
    unsigned char *o = out;
    size_t w = 0;
    for (size_t i = 0; i < n; i += 4) {
        int a = sextet(in[i]), b = sextet(in[i + 1]);
        int c = in[i + 2] == '=' ? 0 : sextet(in[i + 2]);
        int d = in[i + 3] == '=' ? 0 : sextet(in[i + 3]);
        if (a < 0 || b < 0) return BASE64_ERR_PADDING; /* "=" in 1st/2nd place */
        unsigned long v = (unsigned long)a << 18 | (unsigned long)b << 12 |
                          (unsigned long)c << 6 | (unsigned long)d;
        o[w++] = (unsigned char)(v >> 16);
        if (in[i + 2] != '=') o[w++] = (unsigned char)(v >> 8);
        if (in[i + 3] != '=') o[w++] = (unsigned char)v;
        /* RFC 4648 3.5: the bits a pad hides must be zero; rejecting others
         * keeps one encoding per byte string. */
        if (in[i + 2] == '=' && (v & 0xFFFF) != 0) return BASE64_ERR_NONCANONICAL;
        if (in[i + 3] == '=' && in[i + 2] != '=' && (v & 0xFF) != 0)
            return BASE64_ERR_NONCANONICAL;
    }
    EXPECT(w == len);
    return (int)w;
}

int sasl_plain_encode(const char *authzid, const char *authcid,
                      const char *passwd, char *out, size_t cap)
{
    if (!authzid) authzid = "";
    size_t lz = strlen(authzid), lc = strlen(authcid), lp = strlen(passwd);
    if (lc == 0 || lp == 0) return BASE64_ERR_SASL_EMPTY;
    if (lz > SASL_PLAIN_FIELD_MAX || lc > SASL_PLAIN_FIELD_MAX ||
        lp > SASL_PLAIN_FIELD_MAX)
        return BASE64_ERR_SASL_TOO_LONG;
    char msg[SASL_PLAIN_MESSAGE_MAX];
    size_t m = 0;
    memcpy(msg + m, authzid, lz);
    m += lz;
    msg[m++] = '\0'; /* RFC 4616 2: message = [authzid] NUL authcid NUL passwd */
    memcpy(msg + m, authcid, lc);
    m += lc;
    msg[m++] = '\0';
    memcpy(msg + m, passwd, lp);
    m += lp;
    return base64_encode(msg, m, out, cap);
}

/* Copies in[0..n) into a field of SASL_PLAIN_FIELD_MAX + 1 bytes. */
static int field(char *dst, const char *in, size_t n)
{
    if (n > SASL_PLAIN_FIELD_MAX) return BASE64_ERR_SASL_TOO_LONG;
    memcpy(dst, in, n);
    dst[n] = '\0';
    return 0;
}

int sasl_plain_decode(const char *b64, size_t n, struct sasl_plain *out)
{
    memset(out, 0, sizeof *out);
    /* Decode into a buffer one byte larger than the longest valid message,
     * so an overlong one is told apart from a short buffer. */
    char msg[SASL_PLAIN_MESSAGE_MAX + 1];
    if (n > BASE64_ENCODED_LEN(sizeof msg)) return BASE64_ERR_SASL_TOO_LONG;
    int m = base64_decode(b64, n, msg, sizeof msg);
    if (m < 0) return m;
    size_t len = (size_t)m;
    const char *nul1 = memchr(msg, '\0', len);
    if (!nul1) return BASE64_ERR_SASL_FORMAT;
    size_t z = (size_t)(nul1 - msg);
    const char *nul2 = memchr(nul1 + 1, '\0', len - z - 1);
    if (!nul2) return BASE64_ERR_SASL_FORMAT;
    size_t c = (size_t)(nul2 - nul1 - 1);
    size_t p = len - z - c - 2;
    if (memchr(nul2 + 1, '\0', p)) return BASE64_ERR_SASL_FORMAT; /* a third NUL */
    int err = 0;
    if (c == 0 || p == 0) err = BASE64_ERR_SASL_EMPTY;
    if (!err) err = field(out->authzid, msg, z);
    if (!err) err = field(out->authcid, nul1 + 1, c);
    if (!err) err = field(out->passwd, nul2 + 1, p);
    if (err) memset(out, 0, sizeof *out);
    memset(msg, 0, sizeof msg); /* a password passed through here */
    return err;
}

const char *base64_strerror(int err)
{
    switch (err) {
    case BASE64_OK: return "ok";
    case BASE64_ERR_NO_SPACE: return "output buffer too small";
    case BASE64_ERR_CHAR: return "character outside the base64 alphabet";
    case BASE64_ERR_PADDING: return "misplaced '=' padding";
    case BASE64_ERR_LENGTH: return "length not a multiple of 4";
    case BASE64_ERR_NONCANONICAL: return "non-zero bits before the padding";
    case BASE64_ERR_TOO_BIG: return "input too long";
    case BASE64_ERR_SASL_FORMAT: return "PLAIN message is not authzid NUL authcid NUL passwd";
    case BASE64_ERR_SASL_EMPTY: return "PLAIN user name or password empty";
    case BASE64_ERR_SASL_TOO_LONG: return "PLAIN field longer than 255 octets";
    default: return "unknown base64 error";
    }
}
