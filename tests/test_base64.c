/* Base64 (RFC 4648) and SASL PLAIN (RFC 4616): vectors, strict decoding,
 * buffer limits. */
#include "tests/testkit.h"

#include "protocols/base64.h"

#include <stdio.h>

/* RFC 4648 10: the test vectors. */
static const struct {
    const char *plain, *b64;
} vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char enc[32];
        unsigned char dec[32];
        size_t pl = strlen(vectors[i].plain), bl = strlen(vectors[i].b64);
        assert_int_equal(base64_encode(vectors[i].plain, pl, enc, sizeof enc), (int)bl);
        assert_string_equal(enc, vectors[i].b64);
        assert_int_equal(BASE64_ENCODED_LEN(pl), bl);
        assert_int_equal(base64_decode(vectors[i].b64, bl, dec, sizeof dec), (int)pl);
        assert_memory_equal(dec, vectors[i].plain, pl);
    }
}

static void test_all_byte_values_round_trip(void **state)
{
    (void)state;
    unsigned char in[256], back[256];
    char enc[BASE64_ENCODED_LEN(256) + 1];
    for (int i = 0; i < 256; i++) in[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= 256; n += 1) {
        int e = base64_encode(in, n, enc, sizeof enc);
        assert_int_equal(e, (int)BASE64_ENCODED_LEN(n));
        assert_int_equal(base64_decode(enc, (size_t)e, back, n), (int)n);
        assert_memory_equal(back, in, n);
    }
    assert_int_equal(base64_encode(in, 3, enc, sizeof enc), 4);
    assert_string_equal(enc, "//79");
}

/* Strict decoding: every way a peer can get it wrong, with its exact error. */
static const struct {
    const char *name, *in;
    int want;
} bad[] = {
    {"space inside", "Zm9v YmFy", BASE64_ERR_CHAR},
    {"trailing CRLF", "Zm9v\r\n", BASE64_ERR_CHAR},
    {"url-safe minus", "Zm9-", BASE64_ERR_CHAR},
    {"url-safe underscore", "Zm9_", BASE64_ERR_CHAR},
    {"non-ascii byte", "Zm9\xc3", BASE64_ERR_CHAR},
    {"NUL-free star", "*", BASE64_ERR_CHAR},
    {"missing padding", "Zg", BASE64_ERR_LENGTH},
    {"one char", "Z", BASE64_ERR_LENGTH},
    {"five chars", "Zm9vY", BASE64_ERR_LENGTH},
    {"three pads", "Z===", BASE64_ERR_PADDING},
    {"four pads", "====", BASE64_ERR_PADDING},
    {"data after pad", "Zg==Zm9v", BASE64_ERR_PADDING},
    {"pad in middle", "Zm=v", BASE64_ERR_PADDING},
    {"non-canonical 1 byte", "Zh==", BASE64_ERR_NONCANONICAL},
    {"non-canonical 2 bytes", "Zm9=", BASE64_ERR_NONCANONICAL},
};

static void test_strict_decode_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char out[32];
        int got = base64_decode(bad[i].in, strlen(bad[i].in), out, sizeof out);
        if (got != bad[i].want)
            fail_msg("%s: got %d (%s), want %d (%s)", bad[i].name, got,
                     base64_strerror(got), bad[i].want, base64_strerror(bad[i].want));
    }
}

static void test_buffer_limits(void **state)
{
    (void)state;
    char enc[9];
    unsigned char dec[8];
    /* "foobar" needs 8 characters and the NUL: 9. */
    assert_int_equal(base64_encode("foobar", 6, enc, 8), BASE64_ERR_NO_SPACE);
    assert_int_equal(base64_encode("fooba", 5, enc, 9), 8);
    assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 5), BASE64_ERR_NO_SPACE);
    assert_int_equal(base64_decode("Zm9vYmFy", 8, dec, 6), 6);
    assert_int_equal(base64_decode("Zm9vYg==", 8, dec, 4), 4);
    assert_int_equal(base64_encode("", 0, enc, 1), 0);
    assert_string_equal(enc, "");
    assert_int_equal(base64_encode("", 0, enc, 0), BASE64_ERR_NO_SPACE);
}

static void test_sasl_plain_encode(void **state)
{
    (void)state;
    char out[SASL_PLAIN_ENCODED_MAX + 1];
    /* RFC 4616 4: "\0tim\0tanstaaftanstaaf" */
    assert_int_equal(sasl_plain_encode(NULL, "tim", "tanstaaftanstaaf", out, sizeof out), 28);
    assert_string_equal(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    assert_int_equal(sasl_plain_encode("Ursel", "Kurt", "xipj3plmq", out, sizeof out), 28);
    assert_string_equal(out, "VXJzZWwAS3VydAB4aXBqM3BsbXE=");
    assert_int_equal(sasl_plain_encode("", "alice", "", out, sizeof out), BASE64_ERR_SASL_EMPTY);
    assert_int_equal(sasl_plain_encode("", "", "pw", out, sizeof out), BASE64_ERR_SASL_EMPTY);
    char big[SASL_PLAIN_FIELD_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0'; /* 256 octets */
    assert_int_equal(sasl_plain_encode(NULL, big, "pw", out, sizeof out), BASE64_ERR_SASL_TOO_LONG);
    big[SASL_PLAIN_FIELD_MAX] = '\0'; /* 255 octets: the limit itself is fine */
    int n = sasl_plain_encode(big, big, big, out, sizeof out);
    assert_int_equal(n, SASL_PLAIN_ENCODED_MAX);
    struct sasl_plain p;
    assert_int_equal(sasl_plain_decode(out, (size_t)n, &p), 0);
    assert_string_equal(p.authcid, big);
    assert_int_equal(sasl_plain_encode(NULL, "tim", "pw", out, 8), BASE64_ERR_NO_SPACE);
}

/* Decoded PLAIN messages given as raw bytes (with NULs), then base64'd. */
static const struct {
    const char *name;
    const char *msg;
    size_t len;
    int want;
    const char *authzid, *authcid, *passwd;
} plain_cases[] = {
    {"no authzid", "\0tim\0secret", 11, 0, "", "tim", "secret"},
    {"with authzid", "admin\0tim\0secret", 16, 0, "admin", "tim", "secret"},
    {"one NUL", "tim\0secret", 10, BASE64_ERR_SASL_FORMAT, "", "", ""},
    {"no NUL", "timsecret", 9, BASE64_ERR_SASL_FORMAT, "", "", ""},
    {"three NULs", "\0tim\0sec\0ret", 12, BASE64_ERR_SASL_FORMAT, "", "", ""},
    {"empty authcid", "\0\0secret", 8, BASE64_ERR_SASL_EMPTY, "", "", ""},
    {"empty passwd", "\0tim\0", 5, BASE64_ERR_SASL_EMPTY, "", "", ""},
    {"empty message", "", 0, BASE64_ERR_SASL_FORMAT, "", "", ""},
};

static void test_sasl_plain_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof plain_cases / sizeof plain_cases[0]; i++) {
        char b64[64];
        int n = base64_encode(plain_cases[i].msg, plain_cases[i].len, b64, sizeof b64);
        assert_true(n >= 0);
        struct sasl_plain p;
        int got = sasl_plain_decode(b64, (size_t)n, &p);
        if (got != plain_cases[i].want)
            fail_msg("%s: got %d (%s), want %d", plain_cases[i].name, got,
                     base64_strerror(got), plain_cases[i].want);
        assert_string_equal(p.authzid, plain_cases[i].authzid);
        assert_string_equal(p.authcid, plain_cases[i].authcid);
        assert_string_equal(p.passwd, plain_cases[i].passwd);
    }
    struct sasl_plain p;
    assert_int_equal(sasl_plain_decode("AHRpbQB0YW5zdGFhZnRhbnN0YWFm!", 29, &p), BASE64_ERR_CHAR);
    assert_string_equal(p.authcid, "");
    /* A field of 256 octets. */
    char msg[300], b64[420];
    memset(msg, 'a', sizeof msg);
    msg[0] = '\0';
    msg[257] = '\0';
    int n = base64_encode(msg, 260, b64, sizeof b64);
    assert_int_equal(sasl_plain_decode(b64, (size_t)n, &p), BASE64_ERR_SASL_TOO_LONG);
    /* A message longer than any valid one. */
    memset(msg, 'a', sizeof msg);
    char huge[BASE64_ENCODED_LEN(900) + 1];
    char raw[900];
    memset(raw, 'b', sizeof raw);
    raw[1] = '\0';
    raw[2] = '\0';
    n = base64_encode(raw, sizeof raw, huge, sizeof huge);
    assert_int_equal(sasl_plain_decode(huge, (size_t)n, &p), BASE64_ERR_SASL_TOO_LONG);
}

static void test_strerror_names_everything(void **state)
{
    (void)state;
    assert_string_equal(base64_strerror(0), "ok");
    for (int e = -1; e > BASE64_ERR_COUNT_; e--)
        assert_string_not_equal(base64_strerror(e), "unknown base64 error");
    assert_string_equal(base64_strerror(BASE64_ERR_COUNT_), "unknown base64 error");
    assert_string_equal(base64_strerror(7), "unknown base64 error");
}

/* Random strings over the alphabet plus a few strangers: whatever decodes
 * encodes back to exactly the same string (one encoding per byte string,
 * RFC 4648 3.5), and errors are only the named ones. */
static void test_random_strings_canonical(void **state)
{
    (void)state;
    static const char pool[] = "AQgw+/=Zz09 -";
    uint32_t x = 4648;
    size_t decoded = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char in[16], again[32];
        unsigned char out[16];
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t n = x % 13;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            in[i] = pool[x % (sizeof pool - 1)];
        }
        int m = base64_decode(in, n, out, sizeof out);
        if (m < 0) {
            assert_true(m <= BASE64_ERR_NO_SPACE && m > BASE64_ERR_COUNT_);
            assert_int_not_equal(m, BASE64_ERR_NO_SPACE);
            continue;
        }
        decoded++;
        assert_int_equal(base64_encode(out, (size_t)m, again, sizeof again), (int)n);
        assert_memory_equal(again, in, n);
    }
    assert_int_equal(decoded, 2349); /* fixed seed: an exact count */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_all_byte_values_round_trip),
        cmocka_unit_test(test_strict_decode_errors),
        cmocka_unit_test(test_buffer_limits),
        cmocka_unit_test(test_sasl_plain_encode),
        cmocka_unit_test(test_sasl_plain_decode),
        cmocka_unit_test(test_strerror_names_everything),
        cmocka_unit_test(test_random_strings_canonical),
    };
    return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
