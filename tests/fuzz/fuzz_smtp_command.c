/* libFuzzer target: SMTP command lines (smtp_parse_command).
 *
 * Properties:
 *  - any bytes give 0 or a negative SMTP_ERR_* with a canned reply, never a
 *    crash, and the error names itself (smtp_strerror);
 *  - round trip: a line that parses formats back (smtp_format_command never
 *    refuses a struct the parser made) into a line that parses into the same
 *    struct, and formatting that struct again gives the same bytes. */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "protocols/smtp.h"

static bool same_command(const struct smtp_command *a, const struct smtp_command *b)
{
    return a->verb == b->verb && strcmp(a->domain, b->domain) == 0 &&
           strcmp(a->path, b->path) == 0 && a->local_len == b->local_len &&
           a->null_path == b->null_path && a->postmaster == b->postmaster &&
           a->has_size == b->has_size && a->size == b->size && a->body == b->body &&
           strcmp(a->arg, b->arg) == 0 && a->mech == b->mech &&
           a->has_initial == b->has_initial && strcmp(a->initial, b->initial) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_command c;
    int err = smtp_parse_command((const char *)data, size, &c);
    FUZZ_CHECK(err <= 0 && err > SMTP_ERR_COUNT_);
    FUZZ_CHECK(smtp_strerror(err) != NULL);
    if (err) {
        const struct smtp_canned_reply *r = smtp_error_reply(err);
        FUZZ_CHECK(r && r->code >= 500 && r->code <= 559);
        return 0;
    }

    char buf[SMTP_COMMAND_LINE_MAX + 1];
    int n = smtp_format_command(&c, buf, sizeof buf);
    FUZZ_CHECK(n >= 2);
    FUZZ_CHECK(buf[n - 2] == '\r' && buf[n - 1] == '\n' && buf[n] == '\0');
    FUZZ_CHECK(memchr(buf, '\n', (size_t)n - 1) == NULL); /* one line only */

    struct smtp_command again;
    FUZZ_CHECK(smtp_parse_command(buf, (size_t)n - 2, &again) == 0);
    FUZZ_CHECK(same_command(&c, &again));

    char buf2[SMTP_COMMAND_LINE_MAX + 1];
    int n2 = smtp_format_command(&again, buf2, sizeof buf2);
    FUZZ_CHECK(n2 == n && memcmp(buf, buf2, (size_t)n) == 0);
    return 0;
}
