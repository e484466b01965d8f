/* libFuzzer target: POP3 command lines (pop3_cmd_parse, pop3_cmd_format).
 *
 * Properties:
 *  - any bytes give POP3_OK or one of the parser's documented errors, never
 *    a crash or a read outside the line;
 *  - arguments point inside the line; numeric commands have their numbers;
 *  - round trip: a parsed command written back by pop3_cmd_format() (its
 *    arguments joined by one space) parses again into the same verb,
 *    arguments and numbers, and the formatted line is the input with the
 *    keyword upper-cased and CRLF added. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/pop3.h"

static bool same(const struct pop3_cmd *a, const struct pop3_cmd *b)
{
    if (a->verb != b->verb || a->nargs != b->nargs) return false;
    for (int i = 0; i < a->nargs; i++) {
        if (a->arg_len[i] != b->arg_len[i] || a->num[i] != b->num[i]) return false;
        if (memcmp(a->arg[i], b->arg[i], a->arg_len[i]) != 0) return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    struct pop3_cmd c;
    int err = pop3_cmd_parse(line, size, &c);
    FUZZ_CHECK(err <= 0 && err >= POP3_ERR_TOO_LONG);
    FUZZ_CHECK(pop3_strerror(err) != NULL);
    if (err) return 0;
    FUZZ_CHECK((unsigned)c.verb < POP3_VERB_COUNT && c.nargs >= 0 && c.nargs <= 2);

    char args[POP3_MAX_CMD_LINE + 1];
    size_t o = 0;
    for (int i = 0; i < c.nargs; i++) {
        FUZZ_CHECK(c.arg[i] >= line && c.arg[i] + c.arg_len[i] <= line + size);
        if (i) args[o++] = ' ';
        FUZZ_CHECK(o + c.arg_len[i] < sizeof args);
        memcpy(args + o, c.arg[i], c.arg_len[i]);
        o += c.arg_len[i];
    }
    args[o] = '\0';
    if (memchr(args, '\0', o)) return 0; /* a NUL cannot go through a C string */

    char out[POP3_MAX_CMD_LINE + 1];
    int n = pop3_cmd_format(out, sizeof out, c.verb, c.nargs ? args : NULL);
    FUZZ_CHECK(n >= 6 && out[n - 2] == '\r' && out[n - 1] == '\n');

    struct pop3_cmd again;
    FUZZ_CHECK(pop3_cmd_parse(out, (size_t)n - 2, &again) == POP3_OK);
    FUZZ_CHECK(same(&c, &again));
    return 0;
}
