/* POP3 wire format (RFC 1939; CAPA and response codes RFC 2449; STLS
 * RFC 2595): command lines, +OK/-ERR status lines, and multi-line responses
 * with dot-stuffing. Sans-I/O and libc only; the session machines live in
 * pop3_server.h and pop3_client.h.
 *
 * Return contract used throughout: functions that parse return POP3_OK (0)
 * or a negative enum pop3_err; readers' _next() return an event kind (> 0),
 * POP3_NEED_MORE (0) or a negative enum pop3_err. pop3_strerror() names
 * every error value. */
#ifndef MAILSIM_PROTOCOLS_POP3_H
#define MAILSIM_PROTOCOLS_POP3_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 2449 4: a command line is at most 255 octets, its CRLF included
 * (raised from RFC 1939's 4 + 1 + 40 + 2 = 47). */
#define POP3_MAX_CMD_LINE 255
/* RFC 2449 4: a response line (status or one line of a multi-line
 * response) is at most 512 octets, its CRLF included. */
#define POP3_MAX_RESP_LINE 512
/* One line of a message inside RETR/TOP: RFC 5322 2.1.1's 998 characters
 * plus CRLF, plus the dot that stuffing may add (RFC 1939 3). */
#define POP3_MAX_DATA_LINE 1001
/* RFC 1939 7 (UIDL): a unique-id is 1 to 70 characters in 0x21..0x7E. */
#define POP3_MAX_UIDL 70
/* The largest message number or line count we accept in a command: message
 * numbers are 1-based and the maildrop is bounded (pop3_server.h). Nine
 * digits keep every value inside an unsigned long on any platform. */
#define POP3_MAX_NUMBER_DIGITS 9

enum pop3_err {
    POP3_OK = 0,
    POP3_ERR_EMPTY = -1,       /* an empty command line */
    POP3_ERR_UNKNOWN_CMD = -2, /* a keyword that is not a POP3 command */
    POP3_ERR_SYNTAX = -3,      /* separators or characters RFC 1939 3 forbids */
    POP3_ERR_ARGS = -4,        /* wrong number of arguments for the command */
    POP3_ERR_NUMBER = -5,      /* an argument that must be a number is not */
    POP3_ERR_TOO_LONG = -6,    /* a line longer than its stated maximum */
    POP3_ERR_BAD_STATUS = -7,  /* a response line that is neither +OK nor -ERR */
    POP3_ERR_NO_ROOM = -8,     /* a formatter's output does not fit */
    POP3_ERR_BAD_UIDL = -9,    /* a unique-id outside RFC 1939 7's rules */
};

#define POP3_NEED_MORE 0 /* a reader holds no complete item yet */

/* The name of an error value ("POP3_ERR_SYNTAX: ..."); "unknown error" for
 * any other number. Never NULL, static storage. */
const char *pop3_strerror(int err);

/* RFC 1939 and RFC 2449 5 (CAPA), RFC 2595 4 (STLS). */
enum pop3_verb {
    POP3_USER,
    POP3_PASS,
    POP3_APOP,
    POP3_STAT,
    POP3_LIST,
    POP3_RETR,
    POP3_DELE,
    POP3_NOOP,
    POP3_RSET,
    POP3_QUIT,
    POP3_TOP,
    POP3_UIDL,
    POP3_CAPA,
    POP3_STLS,
    POP3_VERB_COUNT
};

/* "USER", "PASS", ... in enum order; NULL for values out of range. */
const char *pop3_verb_name(enum pop3_verb v);

/* A parsed command. Text arguments point into the parsed line and are
 * borrowed for as long as that line is. */
struct pop3_cmd {
    enum pop3_verb verb;
    int            nargs;      /* 0, 1 or 2 */
    const char    *arg[2];     /* arguments as sent, not NUL-terminated */
    size_t         arg_len[2];
    unsigned long  num[2];     /* numeric arguments of LIST/RETR/DELE/TOP/UIDL */
};

/* Parses one command line without its CRLF. Keywords are case-insensitive
 * (RFC 1939 3); arguments are separated by one space. PASS takes the rest
 * of the line as its one argument, spaces included (RFC 1939 7). Returns
 * POP3_OK with *cmd filled, or POP3_ERR_EMPTY, POP3_ERR_UNKNOWN_CMD,
 * POP3_ERR_SYNTAX, POP3_ERR_ARGS, POP3_ERR_NUMBER, POP3_ERR_TOO_LONG (len >
 * POP3_MAX_CMD_LINE - 2). On an error other than EMPTY/UNKNOWN_CMD/TOO_LONG
 * cmd->verb says which command it was. Stateless: no sticky error. */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);

/* Writes "VERB[ args]\r\n" into out[0..cap) with a NUL after it. args may be
 * NULL (no arguments) or the argument text (no CR or LF). Returns the length
 * written without the NUL, POP3_ERR_SYNTAX for CR/LF in args, or
 * POP3_ERR_NO_ROOM when the line exceeds POP3_MAX_CMD_LINE or cap. */
int pop3_cmd_format(char *out, size_t cap, enum pop3_verb v, const char *args);

/* A parsed status line. Pointers are borrowed from the parsed line. */
struct pop3_reply {
    bool        ok;       /* "+OK" or "-ERR" (RFC 1939 3) */
    const char *code;     /* RFC 2449 8 response code inside [], e.g. "IN-USE" */
    size_t      code_len; /* 0 when there is none */
    const char *text;     /* the rest of the line after the code and a space */
    size_t      text_len;
};

/* Parses a status line without its CRLF. The status indicator is matched
 * exactly in upper case (RFC 1939 3). A leading "[...]" is taken as an
 * RFC 2449 8 response code. Returns POP3_OK, POP3_ERR_BAD_STATUS, or
 * POP3_ERR_TOO_LONG (len > POP3_MAX_RESP_LINE - 2). */
int pop3_reply_parse(const char *line, size_t len, struct pop3_reply *reply);

/* 1 when the reply carries response code code (case-insensitive). */
bool pop3_reply_has_code(const struct pop3_reply *reply, const char *code);

/* Writes "+OK text\r\n" or "-ERR [code] text\r\n" (code NULL for none,
 * text may be NULL or "") into out[0..cap) with a NUL. Returns the length
 * without the NUL, POP3_ERR_SYNTAX for CR/LF in code or text, or
 * POP3_ERR_NO_ROOM beyond POP3_MAX_RESP_LINE or cap. */
int pop3_reply_format(char *out, size_t cap, bool ok, const char *code,
                      const char *text);

/* Dot-stuffs one line for a multi-line response (RFC 1939 3: a line that
 * begins with "." gets one more) and adds CRLF. line must not contain CR or
 * LF. Returns the length written, or POP3_ERR_NO_ROOM (nothing usable
 * written) when len + 3 exceeds cap. */
int pop3_stuff_line(char *out, size_t cap, const char *line, size_t len);

/* 1 when s[0..len) is a valid unique-id (RFC 1939 7: 1..70 octets, each
 * 0x21..0x7E). */
bool pop3_uidl_valid(const char *s, size_t len);

/* ---- The response reader (client side) --------------------------------
 * Feed it the server's bytes; before each response, tell it whether that
 * response is multi-line if +OK (only the client knows: LIST without an
 * argument is, LIST 1 is not). With nothing expected it holds lines back. */

struct pop3_reader;

enum pop3_reader_event {
    POP3_RD_STATUS = 1, /* ev.reply: the status line of a response */
    POP3_RD_LINE,       /* ev.line: one line of a multi-line body, un-stuffed */
    POP3_RD_END,        /* the "." terminator of a multi-line body */
    POP3_RD_TOO_LONG,   /* a body line exceeded POP3_MAX_DATA_LINE (counted
                         * as sent, stuffing dot included, with a CRLF even
                         * when it ended in a bare LF); dropped. So a LINE
                         * is at most POP3_MAX_DATA_LINE - 2 octets. */
};

struct pop3_reader_ev {
    struct pop3_reply reply;    /* POP3_RD_STATUS */
    const char       *line;     /* POP3_RD_LINE, without CRLF */
    size_t            line_len;
};

/* Allocates a reader (fixed size: one POP3_MAX_DATA_LINE buffer). Returns
 * NULL only when malloc fails. */
struct pop3_reader *pop3_reader_new(void);

/* Frees the reader; NULL is allowed. */
void pop3_reader_free(struct pop3_reader *r);

/* Forgets held bytes, the expectation and a sticky error (after a TLS
 * switch, RFC 2595 4: nothing sent before it may be used after). */
void pop3_reader_reset(struct pop3_reader *r);

/* The next response is single-line (multiline false) or multi-line when it
 * is +OK (RFC 1939 3: a -ERR never has a body). */
void pop3_reader_expect(struct pop3_reader *r, bool multiline);

/* Copies as much of in[0..n) as fits and returns the count taken (0 when
 * full: call pop3_reader_next() first). */
size_t pop3_reader_feed(struct pop3_reader *r, const char *in, size_t n);

/* Returns an enum pop3_reader_event with *ev filled (pointers borrowed until
 * the next call on r), POP3_NEED_MORE, or a sticky POP3_ERR_BAD_STATUS /
 * POP3_ERR_TOO_LONG (a status line over POP3_MAX_RESP_LINE). After STATUS
 * (single-line or -ERR) or END the expectation is used up. */
int pop3_reader_next(struct pop3_reader *r, struct pop3_reader_ev *ev);

#endif
