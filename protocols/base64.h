/* Base64 (RFC 4648 section 4) and SASL PLAIN messages (RFC 4616).
 *
 * Used by SMTP AUTH PLAIN/LOGIN (RFC 4954) and later IMAP AUTHENTICATE
 * (RFC 3501 6.2.2). libc only; nothing allocates: every function writes into
 * the caller's buffer and says how much room it needs.
 *
 * Return contract shared by every function here: a length (>= 0) or a
 * negative BASE64_ERR_* value; base64_strerror() names it. */
#ifndef MAILSIM_PROTOCOLS_BASE64_H
#define MAILSIM_PROTOCOLS_BASE64_H

#include <stddef.h>

/* Characters base64_encode() writes for n input bytes, the NUL not counted
 * (RFC 4648 4: every 3 bytes become 4 characters, the last group padded). */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* The most bytes base64_decode() can produce from n characters. */
#define BASE64_DECODED_MAX(n) (((n) / 4) * 3)

/* The largest input either function accepts, so every length fits an int. */
#define BASE64_INPUT_MAX (1u << 24)

/* RFC 4616 2: authzid, authcid and passwd are each at most 255 octets. */
#define SASL_PLAIN_FIELD_MAX 255

/* The longest PLAIN message (three fields and two NULs) and its base64 form:
 * 767 octets, 1024 characters. A server reading SASL responses on their own
 * line (RFC 4954 4: "independent of any line length limitations") needs a
 * line of SASL_PLAIN_ENCODED_MAX + 2 octets, more than SMTP's 512. */
#define SASL_PLAIN_MESSAGE_MAX (3 * SASL_PLAIN_FIELD_MAX + 2)
#define SASL_PLAIN_ENCODED_MAX BASE64_ENCODED_LEN(SASL_PLAIN_MESSAGE_MAX)

enum base64_error {
    BASE64_OK = 0,
    BASE64_ERR_NO_SPACE = -1,     /* the output buffer is too small */
    BASE64_ERR_CHAR = -2,         /* a character outside the alphabet (RFC 4648 3.3) */
    BASE64_ERR_PADDING = -3,      /* '=' somewhere other than the end, or too many */
    BASE64_ERR_LENGTH = -4,       /* not a multiple of 4 characters (RFC 4648 3.2) */
    BASE64_ERR_NONCANONICAL = -5, /* pad bits not zero (RFC 4648 3.5) */
    BASE64_ERR_TOO_BIG = -6,      /* input longer than BASE64_INPUT_MAX */
    BASE64_ERR_SASL_FORMAT = -7,  /* not authzid NUL authcid NUL passwd (RFC 4616 2) */
    BASE64_ERR_SASL_EMPTY = -8,   /* authcid or passwd empty (RFC 4616 2: 1*SAFE) */
    BASE64_ERR_SASL_TOO_LONG = -9, /* a field over SASL_PLAIN_FIELD_MAX octets */
    BASE64_ERR_COUNT_ = -10,      /* one past the last error; not returned */
};

/* Encodes in[0..n) as padded base64 into out and NUL-terminates it.
 * Needs cap >= BASE64_ENCODED_LEN(n) + 1. Returns the number of characters
 * written (the NUL not counted), BASE64_ERR_NO_SPACE (out untouched beyond
 * cap) or BASE64_ERR_TOO_BIG. */
int base64_encode(const void *in, size_t n, char *out, size_t cap);

/* Strict decoding of in[0..n) into out[0..cap): the length must be a
 * multiple of 4, only the RFC 4648 alphabet is allowed (no whitespace, no
 * URL-safe alphabet), '=' only as the last one or two characters, and the
 * unused bits before padding must be zero. The empty string decodes to 0
 * bytes. Returns the number of bytes written (no NUL is added) or a
 * BASE64_ERR_* value. */
int base64_decode(const char *in, size_t n, void *out, size_t cap);

/* Builds the SASL PLAIN initial response, base64(authzid NUL authcid NUL
 * passwd) (RFC 4616 2), NUL-terminated, into out. authzid may be NULL or ""
 * (act as yourself); authcid and passwd must be non-empty, each field at most
 * SASL_PLAIN_FIELD_MAX octets and free of NUL. cap >= SASL_PLAIN_ENCODED_MAX
 * + 1 always suffices. Returns the base64 length or a BASE64_ERR_* value. */
int sasl_plain_encode(const char *authzid, const char *authcid,
                      const char *passwd, char *out, size_t cap);

/* A decoded PLAIN message; each field NUL-terminated. */
struct sasl_plain {
    char authzid[SASL_PLAIN_FIELD_MAX + 1]; /* "" when the client sent none */
    char authcid[SASL_PLAIN_FIELD_MAX + 1]; /* the user name */
    char passwd[SASL_PLAIN_FIELD_MAX + 1];  /* the password */
};

/* Decodes a base64 PLAIN response b64[0..n) into *out. Returns 0, a base64
 * error, or BASE64_ERR_SASL_FORMAT (not exactly two NULs),
 * BASE64_ERR_SASL_EMPTY, BASE64_ERR_SASL_TOO_LONG. On error *out is zeroed. */
int sasl_plain_decode(const char *b64, size_t n, struct sasl_plain *out);

/* A short English name for any value above (0 and unknown values too);
 * never NULL. */
const char *base64_strerror(int err);

#endif
