/* MD5 against RFC 1321 A.5's test suite and RFC 1939's APOP example. */
#include "tests/testkit.h"

#include "protocols/md5.h"

#include <stdio.h>

static const struct {
    const char *name;
    const char *in;
    const char *want;
} cases[] = {
    /* RFC 1321 A.5 */
    {"empty", "", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"alphabet", "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"alphanumerics",
     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"eight times 1234567890",
     "1234567890123456789012345678901234567890"
     "1234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
    /* RFC 1939 7 and 10: the APOP digest of timestamp + secret */
    {"APOP example", "<1896.697170952@dbc.mtview.ca.us>tanstaaf",
     "c4c9334bac560ecc979e58001b3e22fb"},
    /* padding edges: 55, 56 and 64 bytes (one or two final blocks) */
    {"55 bytes", "0123456789012345678901234567890123456789012345678901234",
     "6e7a4fc92eb1c3f6e652425bcc8d44b5"},
    {"56 bytes", "01234567890123456789012345678901234567890123456789012345",
     "8af270b2847610e742b0791b53648c09"},
    {"64 bytes", "0123456789012345678901234567890123456789012345678901234567890123",
     "7f7bfd348709deeaace19e3f535f8c54"},
};

static void test_table(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        for (size_t m = 0; m < 2; m++) {
            struct md5 ctx;
            unsigned char d[MD5_DIGEST_LEN];
            char hex[MD5_HEX_LEN + 1];
            md5_init(&ctx);
            for (size_t off = 0; off < n;) {
                size_t k = feed_chunk(modes[m], n - off);
                md5_update(&ctx, cases[i].in + off, k);
                off += k;
            }
            md5_final(&ctx, d);
            for (int j = 0; j < MD5_DIGEST_LEN; j++)
                snprintf(hex + 2 * j, 3, "%02x", d[j]);
            if (strcmp(hex, cases[i].want) != 0)
                fail_msg("%s (%s): got %s, want %s", cases[i].name,
                         m ? "bytewise" : "whole", hex, cases[i].want);
        }
        char one[MD5_HEX_LEN + 1];
        md5_hex(cases[i].in, n, one);
        assert_string_equal(one, cases[i].want);
    }
}

/* A million 'a's crosses many blocks and the 32-bit bit-count boundary. */
static void test_million_a(void **state)
{
    (void)state;
    char buf[1000];
    memset(buf, 'a', sizeof buf);
    struct md5 ctx;
    unsigned char d[MD5_DIGEST_LEN];
    char hex[MD5_HEX_LEN + 1];
    md5_init(&ctx);
    for (int i = 0; i < 1000; i++) md5_update(&ctx, buf, sizeof buf);
    md5_final(&ctx, d);
    for (int j = 0; j < MD5_DIGEST_LEN; j++) snprintf(hex + 2 * j, 3, "%02x", d[j]);
    assert_string_equal(hex, "7707d6ae4e027c70eea2a935c2296f21");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_million_a),
    };
    return cmocka_run_group_tests_name("md5", tests, NULL, NULL);
}
