/* POP3 wire format: commands, status lines, dot-stuffed multi-line bodies. */
#include "protocols/pop3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/linebuf.h"

static const char *const err_names[] = {
    [0] = "POP3_OK: no error",
    [1] = "POP3_ERR_EMPTY: empty command line",
    [2] = "POP3_ERR_UNKNOWN_CMD: unknown command",
    [3] = "POP3_ERR_SYNTAX: bad separators or characters",
    [4] = "POP3_ERR_ARGS: wrong number of arguments",
    [5] = "POP3_ERR_NUMBER: argument is not a valid number",
    [6] = "POP3_ERR_TOO_LONG: line longer than its limit",
    [7] = "POP3_ERR_BAD_STATUS: response is neither +OK nor -ERR",
    [8] = "POP3_ERR_NO_ROOM: output does not fit",
    [9] = "POP3_ERR_BAD_UIDL: invalid unique-id",
};

const char *pop3_strerror(int err)
{
    if (err > 0 || (size_t)-err >= ARRAY_LEN(err_names)) return "unknown error";
    return err_names[-err];
}

/* How each command's arguments look (RFC 1939 5-7, RFC 2449 5, RFC 2595 4). */
enum argkind { ARG_NONE, ARG_TEXT, ARG_NUM, ARG_REST };

static const struct {
    const char  *name;
    int          min, max;
    enum argkind kind;
} verbs[POP3_VERB_COUNT] = {
    [POP3_USER] = {"USER", 1, 1, ARG_TEXT},
    [POP3_PASS] = {"PASS", 1, 1, ARG_REST}, /* RFC 1939 7: spaces allowed */
    [POP3_APOP] = {"APOP", 2, 2, ARG_TEXT},
    [POP3_STAT] = {"STAT", 0, 0, ARG_NONE},
    [POP3_LIST] = {"LIST", 0, 1, ARG_NUM},
    [POP3_RETR] = {"RETR", 1, 1, ARG_NUM},
    [POP3_DELE] = {"DELE", 1, 1, ARG_NUM},
    [POP3_NOOP] = {"NOOP", 0, 0, ARG_NONE},
    [POP3_RSET] = {"RSET", 0, 0, ARG_NONE},
    [POP3_QUIT] = {"QUIT", 0, 0, ARG_NONE},
    [POP3_TOP]  = {"TOP", 2, 2, ARG_NUM},
    [POP3_UIDL] = {"UIDL", 0, 1, ARG_NUM},
    [POP3_CAPA] = {"CAPA", 0, 0, ARG_NONE},
    [POP3_STLS] = {"STLS", 0, 0, ARG_NONE},
};

const char *pop3_verb_name(enum pop3_verb v)
{
    return (unsigned)v < POP3_VERB_COUNT ? verbs[v].name : NULL;
}

/* RFC 1939 3: keywords and arguments are printable ASCII. */
static bool printable(unsigned char c)
{
    return c >= 0x21 && c <= 0x7E;
}

static int parse_number(const char *s, size_t n, unsigned long *out)
{
    if (n == 0 || n > POP3_MAX_NUMBER_DIGITS) return POP3_ERR_NUMBER;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return POP3_ERR_NUMBER;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = v;
    return POP3_OK;
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    if (len > POP3_MAX_CMD_LINE - 2) return POP3_ERR_TOO_LONG;
    if (len == 0) return POP3_ERR_EMPTY;
    size_t kw = 0;
    while (kw < len && line[kw] != ' ') kw++;
    int v = -1;
    for (int i = 0; i < POP3_VERB_COUNT; i++)
        if (ascii_eq(line, kw, verbs[i].name)) v = i;
    if (v < 0) return POP3_ERR_UNKNOWN_CMD;
    cmd->verb = (enum pop3_verb)v;

    size_t p = kw;
    if (verbs[v].kind == ARG_REST && p < len) {
        /* The whole rest is the argument; only control characters are out. */
        p++;
        if (p == len) return POP3_ERR_SYNTAX;
        for (size_t i = p; i < len; i++) {
            unsigned char c = (unsigned char)line[i];
            if (c < 0x20 || c == 0x7F) return POP3_ERR_SYNTAX;
        }
        cmd->nargs = 1;
        cmd->arg[0] = line + p;
        cmd->arg_len[0] = len - p;
        return POP3_OK;
    }
    /* RFC 1939 3: arguments separated by a single SPACE character. */
    int n = 0;
    while (p < len) {
        p++; /* the space */
        size_t start = p;
        while (p < len && line[p] != ' ') {
            if (!printable((unsigned char)line[p])) return POP3_ERR_SYNTAX;
            p++;
        }
        if (p == start) return POP3_ERR_SYNTAX; /* two spaces or a trailing one */
        if (n < 2) {
            cmd->arg[n] = line + start;
            cmd->arg_len[n] = p - start;
        }
        n++;
    }
    for (size_t i = 0; i < kw; i++)
        if (!printable((unsigned char)line[i])) return POP3_ERR_SYNTAX;
    if (n < verbs[v].min || n > verbs[v].max) return POP3_ERR_ARGS;
    cmd->nargs = n;
    if (verbs[v].kind == ARG_NUM)
        for (int i = 0; i < n; i++) {
            int e = parse_number(cmd->arg[i], cmd->arg_len[i], &cmd->num[i]);
            if (e) return e;
        }
    return POP3_OK;
}

static bool has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

/* Copies p[0..n) to o; returns the end. */
static char *put(char *o, const char *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

int pop3_cmd_format(char *out, size_t cap, enum pop3_verb v, const char *args)
{
    EXPECT((unsigned)v < POP3_VERB_COUNT);
    if (has_crlf(args)) return POP3_ERR_SYNTAX;
    size_t need = strlen(verbs[v].name) + (args ? 1 + strlen(args) : 0) + 2;
    if (need > POP3_MAX_CMD_LINE || need + 1 > cap) return POP3_ERR_NO_ROOM;
    /* pieces copied, not printf'd: a mail client formats one per command */
    char *o = out;
    o = put(o, verbs[v].name, strlen(verbs[v].name));
    if (args) {
        *o++ = ' ';
        o = put(o, args, strlen(args));
    }
    o = put(o, "\r\n", 3); /* with the NUL */
    EXPECT((size_t)(o - out) == need + 1);
    return (int)need;
}

int pop3_reply_parse(const char *line, size_t len, struct pop3_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    if (len > POP3_MAX_RESP_LINE - 2) return POP3_ERR_TOO_LONG;
    size_t p;
    /* RFC 1939 3: "+OK" and "-ERR" in upper case, then a space or the end. */
    if (len >= 3 && memcmp(line, "+OK", 3) == 0) {
        reply->ok = true;
        p = 3;
    } else if (len >= 4 && memcmp(line, "-ERR", 4) == 0) {
        p = 4;
    } else {
        return POP3_ERR_BAD_STATUS;
    }
    if (p < len && line[p] != ' ') return POP3_ERR_BAD_STATUS;
    if (p < len) p++;
    /* RFC 2449 8: resp-code = "[" resp-level *("/" resp-level) "]" first.
     * resp-level is 1*rchar, so "[]" is no code: it stays text (taking it as
     * an empty code lost it, and "+OK [] [X]" read back as code X). */
    if (p < len && line[p] == '[') {
        const char *close = memchr(line + p, ']', len - p);
        if (close && close > line + p + 1) {
            reply->code = line + p + 1;
            reply->code_len = (size_t)(close - reply->code);
            p = (size_t)(close - line) + 1;
            if (p < len && line[p] == ' ') p++;
        }
    }
    reply->text = line + p;
    reply->text_len = len - p;
    return POP3_OK;
}

bool pop3_reply_has_code(const struct pop3_reply *reply, const char *code)
{
    /* RFC 2449 8: a code may be hierarchical ("SYS/TEMP"); match it whole. */
    return reply->code && ascii_eq(reply->code, reply->code_len, code);
}

int pop3_reply_format(char *out, size_t cap, bool ok, const char *code,
                      const char *text)
{
    if (has_crlf(code) || has_crlf(text)) return POP3_ERR_SYNTAX;
    bool has_code = code && *code, has_text = text && *text;
    size_t need = (ok ? 3 : 4) + (has_code ? strlen(code) + 3 : 0) +
                  (has_text ? strlen(text) + 1 : 0) + 2;
    if (need > POP3_MAX_RESP_LINE || need + 1 > cap) return POP3_ERR_NO_ROOM;
    /* pieces copied, not printf'd: a server formats one per command */
    char *o = put(out, ok ? "+OK" : "-ERR", ok ? 3 : 4);
    if (has_code) {
        o = put(o, " [", 2);
        o = put(o, code, strlen(code));
        *o++ = ']';
    }
    if (has_text) {
        *o++ = ' ';
        o = put(o, text, strlen(text));
    }
    o = put(o, "\r\n", 3); /* with the NUL */
    EXPECT((size_t)(o - out) == need + 1);
    return (int)need;
}

int pop3_stuff_line(char *out, size_t cap, const char *line, size_t len)
{
    size_t dot = len > 0 && line[0] == '.';
    if (len + dot + 2 > cap) return POP3_ERR_NO_ROOM;
    if (dot) out[0] = '.';
    memcpy(out + dot, line, len);
    memcpy(out + dot + len, "\r\n", 2);
    return (int)(len + dot + 2);
}

bool pop3_uidl_valid(const char *s, size_t len)
{
    if (len < 1 || len > POP3_MAX_UIDL) return false;
    for (size_t i = 0; i < len; i++)
        if (!printable((unsigned char)s[i])) return false;
    return true;
}

/* ---- response reader ---- */

enum expect { EXP_NONE, EXP_SINGLE, EXP_MULTI, EXP_BODY };

struct pop3_reader {
    struct linebuf lb;
    enum expect    exp;
    int            err; /* sticky; 0 when none */
    char           storage[POP3_MAX_DATA_LINE];
};

struct pop3_reader *pop3_reader_new(void)
{
    struct pop3_reader *r = malloc(sizeof *r);
    if (!r) return NULL;
    linebuf_init(&r->lb, r->storage, sizeof r->storage);
    r->exp = EXP_NONE;
    r->err = 0;
    return r;
}

void pop3_reader_free(struct pop3_reader *r)
{
    free(r);
}

void pop3_reader_reset(struct pop3_reader *r)
{
    linebuf_reset(&r->lb);
    r->exp = EXP_NONE;
    r->err = 0;
}

void pop3_reader_expect(struct pop3_reader *r, bool multiline)
{
    EXPECT(r->exp == EXP_NONE); /* the client waits for each response */
    r->exp = multiline ? EXP_MULTI : EXP_SINGLE;
}

size_t pop3_reader_feed(struct pop3_reader *r, const char *in, size_t n)
{
    return linebuf_feed(&r->lb, in, n);
}

int pop3_reader_next(struct pop3_reader *r, struct pop3_reader_ev *ev)
{
    memset(ev, 0, sizeof *ev);
    if (r->err) return r->err;
    if (r->exp == EXP_NONE) return POP3_NEED_MORE; /* hold lines back */
    const char *line;
    size_t len;
    bool bare;
    enum linebuf_status st = linebuf_next(&r->lb, &line, &len, &bare);
    if (st == LINEBUF_NEED_MORE) return POP3_NEED_MORE;
    if (st == LINEBUF_TOO_LONG) {
        if (r->exp == EXP_BODY) return POP3_RD_TOO_LONG;
        return r->err = POP3_ERR_TOO_LONG;
    }
    if (r->exp == EXP_BODY) {
        /* RFC 1939 3: a line of one "." ends the body; otherwise a leading
         * "." was added by the server and is removed. */
        if (len == 1 && line[0] == '.') {
            r->exp = EXP_NONE;
            return POP3_RD_END;
        }
        /* RFC 1939 3 ends every line with CRLF; a bare LF is tolerated,
         * but the line is measured as if it ended in CRLF, so that
         * POP3_MAX_DATA_LINE (998 + the stuffing "." + CRLF) bounds it
         * either way: a 1000-octet line ending in a bare LF fits the buffer
         * and used to come out whole. */
        if (len + 2 > POP3_MAX_DATA_LINE) return POP3_RD_TOO_LONG;
        if (len > 0 && line[0] == '.') {
            line++;
            len--;
        }
        ev->line = line;
        ev->line_len = len;
        return POP3_RD_LINE;
    }
    int e = pop3_reply_parse(line, len, &ev->reply);
    if (e) return r->err = e;
    r->exp = (ev->reply.ok && r->exp == EXP_MULTI) ? EXP_BODY : EXP_NONE;
    return POP3_RD_STATUS;
}
