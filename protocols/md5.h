/* MD5 message digest (RFC 1321), for POP3 APOP (RFC 1939 7).
 *
 * MD5 is broken as a collision-resistant hash; APOP uses it only because
 * RFC 1939 says so, and the simulator shows why that is weak. Do not use it
 * for anything new. libc only; no allocation. */
#ifndef MAILSIM_PROTOCOLS_MD5_H
#define MAILSIM_PROTOCOLS_MD5_H

#include <stddef.h>
#include <stdint.h>

#define MD5_DIGEST_LEN 16 /* RFC 1321 3.5: the digest is 128 bits */
#define MD5_HEX_LEN    32 /* two lowercase hex digits per digest byte */

struct md5 {
    uint32_t state[4];  /* A, B, C, D of RFC 1321 3.3 */
    uint64_t bits;      /* message length so far, in bits (RFC 1321 3.2) */
    unsigned char block[64]; /* a partial 512-bit block waiting for more */
    size_t   used;      /* bytes held in block */
};

/* Starts a digest (RFC 1321 3.3's initial words). Never fails. */
void md5_init(struct md5 *m);

/* Adds data[0..len) to the digest. Never fails; any length, any split. */
void md5_update(struct md5 *m, const void *data, size_t len);

/* Pads (RFC 1321 3.1, 3.2), writes the 16-byte digest to out and leaves m
 * spent: call md5_init() before reusing it. Never fails. */
void md5_final(struct md5 *m, unsigned char out[MD5_DIGEST_LEN]);

/* md5_final(), written as 32 lowercase hex digits and a NUL in out. */
void md5_final_hex(struct md5 *m, char out[MD5_HEX_LEN + 1]);

/* One call: the digest of data[0..len) as 32 lowercase hex digits and a NUL
 * in out (RFC 1939 7 writes APOP digests this way). Never fails. */
void md5_hex(const void *data, size_t len, char out[MD5_HEX_LEN + 1]);

#endif
