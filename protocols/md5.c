/* MD5 written from the description in RFC 1321 section 3. */
#include "protocols/md5.h"

#include <string.h>

#include "protocols/common.h"

/* RFC 1321 3.4: T[i] is the integer part of 4294967296 * abs(sin(i)), i in
 * 1..64, written out so that no floating point is involved. */
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* RFC 1321 3.4: the left-rotation amounts, four per round. */
static const unsigned char S[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

/* RFC 1321 3.4: one 16-word block through the four rounds. Words are read
 * little-endian (RFC 1321 2: low-order byte first). */
static void transform(uint32_t st[4], const unsigned char blk[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)blk[4 * i] | (uint32_t)blk[4 * i + 1] << 8 |
               (uint32_t)blk[4 * i + 2] << 16 | (uint32_t)blk[4 * i + 3] << 24;
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    for (int i = 0; i < 64; i++) {
        int round = i / 16;
        uint32_t f;
        int k;
        switch (round) {
        case 0: f = (b & c) | (~b & d); k = i; break;                  /* F */
        case 1: f = (b & d) | (c & ~d); k = (5 * i + 1) % 16; break;   /* G */
        case 2: f = b ^ c ^ d; k = (3 * i + 5) % 16; break;            /* H */
        default: f = c ^ (b | ~d); k = (7 * i) % 16; break;            /* I */
        }
        uint32_t t = a + f + x[k] + T[i];
        a = d;
        d = c;
        c = b;
        b = b + rotl(t, S[round][i % 4]);
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

void md5_init(struct md5 *m)
{
    /* RFC 1321 3.3: word A = 01 23 45 67 low-order byte first, and so on. */
    m->state[0] = 0x67452301;
    m->state[1] = 0xefcdab89;
    m->state[2] = 0x98badcfe;
    m->state[3] = 0x10325476;
    m->bits = 0;
    m->used = 0;
}

void md5_update(struct md5 *m, const void *data, size_t len)
{
    const unsigned char *p = data;
    m->bits += (uint64_t)len * 8; /* RFC 1321 3.2: modulo 2^64 */
    while (len > 0) {
        size_t take = 64 - m->used;
        if (take > len) take = len;
        memcpy(m->block + m->used, p, take);
        m->used += take;
        p += take;
        len -= take;
        if (m->used == 64) {
            transform(m->state, m->block);
            m->used = 0;
        }
    }
}

void md5_final(struct md5 *m, unsigned char out[MD5_DIGEST_LEN])
{
    uint64_t bits = m->bits;
    /* RFC 1321 3.1: a single 1 bit, then 0 bits up to 448 mod 512. */
    static const unsigned char pad[64] = {0x80};
    size_t padlen = m->used < 56 ? 56 - m->used : 120 - m->used;
    md5_update(m, pad, padlen);
    /* RFC 1321 3.2: the 64-bit length, low-order word and byte first. */
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(bits >> (8 * i));
    md5_update(m, len8, 8);
    EXPECT(m->used == 0); /* the length ended exactly on a block */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(m->state[i] >> (8 * j));
}

void md5_final_hex(struct md5 *m, char out[MD5_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[MD5_DIGEST_LEN];
    md5_final(m, d);
    for (int i = 0; i < MD5_DIGEST_LEN; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[MD5_HEX_LEN] = 0;
}

void md5_hex(const void *data, size_t len, char out[MD5_HEX_LEN + 1])
{
    struct md5 m;
    md5_init(&m);
    md5_update(&m, data, len);
    md5_final_hex(&m, out);
}
