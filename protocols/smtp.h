/* The SMTP wire codec (RFC 5321 with the ESMTP extensions SIZE RFC 1870,
 * 8BITMIME RFC 6152, STARTTLS RFC 3207, AUTH RFC 4954, ENHANCEDSTATUSCODES
 * RFC 2034 / RFC 3463): command lines, reply lines and multi-line replies,
 * DATA dot-stuffing, and plain-language explanations for the lessons.
 *
 * Sans-I/O and libc only. The session machines (smtp_server.c,
 * smtp_client.c) sit on top: they own the sockets' bytes, this file only
 * turns bytes into structs and structs into bytes.
 *
 * Return contract used throughout: 0 or a positive length/event on success,
 * a negative SMTP_ERR_* value on failure; smtp_strerror() names every value
 * and smtp_error_reply() gives the reply a server sends for it.
 *
 * The readers (smtp_reply_reader, smtp_data_reader) are declared here in full
 * so a session can embed them without allocating, like struct linebuf; their
 * fields are private: use the functions. */
#ifndef MAILSIM_PROTOCOLS_SMTP_H
#define MAILSIM_PROTOCOLS_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/linebuf.h"

/* ---- Limits (RFC 5321 4.5.3.1) ------------------------------------------ */

#define SMTP_LOCAL_PART_MAX   64   /* 4.5.3.1.1: local part, octets */
#define SMTP_DOMAIN_MAX       255  /* 4.5.3.1.2: domain name or address literal */
#define SMTP_PATH_MAX         256  /* 4.5.3.1.3: path, "<" and ">" included */
#define SMTP_COMMAND_LINE_MAX 512  /* 4.5.3.1.4: command line, CRLF included.
                                      RFC 1870 3 adds 26 for SIZE on MAIL, but
                                      a MAIL line with a 256-octet path, SIZE
                                      and BODY=8BITMIME is 308 octets: 512
                                      already holds every valid one. */
#define SMTP_REPLY_LINE_MAX   512  /* 4.5.3.1.5: reply line, CRLF included */
#define SMTP_TEXT_LINE_MAX    1000 /* 4.5.3.1.6: DATA text line, CRLF included */
/* RFC 5321 sets no bound on the lines of one multi-line reply; a real EHLO
 * reply has around a dozen. 32 leaves room and bounds memory (16 KB). */
#define SMTP_REPLY_LINES_MAX  32
/* RFC 4422 3.1: a SASL mechanism name is 1 to 20 characters. */
#define SMTP_AUTH_MECH_MAX    20
/* The longest argument text a command line can carry: the line minus CRLF. */
#define SMTP_ARG_MAX          (SMTP_COMMAND_LINE_MAX - 2)

/* ---- Errors -------------------------------------------------------------- */

/* Every failure in this codec. The comment gives the reply a server sends
 * (smtp_error_reply()); reply-reader errors have no reply (the client is the
 * one reading, it just gives up on the connection). */
enum smtp_error {
    SMTP_OK = 0,
    /* command lines (server side) */
    SMTP_ERR_UNKNOWN_VERB = -1,     /* 500 5.5.1 command not recognised */
    SMTP_ERR_LINE_TOO_LONG = -2,    /* 500 5.5.6 line too long (RFC 5321 4.5.3.1.9) */
    SMTP_ERR_SYNTAX = -3,           /* 501 5.5.4 missing, extra or malformed argument */
    SMTP_ERR_BAD_DOMAIN = -4,       /* 501 5.5.4 HELO/EHLO argument not a domain or literal */
    SMTP_ERR_BAD_SENDER = -5,       /* 501 5.1.7 reverse-path syntax (RFC 3463 X.1.7) */
    SMTP_ERR_BAD_RECIPIENT = -6,    /* 501 5.1.3 forward-path syntax (RFC 3463 X.1.3) */
    SMTP_ERR_PATH_TOO_LONG = -7,    /* 501 5.1.3 path/local part/domain over the limits */
    SMTP_ERR_BAD_PARAM = -8,        /* 501 5.5.4 malformed ESMTP parameter (SIZE=abc) */
    SMTP_ERR_UNKNOWN_PARAM = -9,    /* 555 5.5.4 parameter not recognised (RFC 5321 4.1.1.11) */
    SMTP_ERR_AUTH_MECH = -10,       /* 504 5.5.4 unknown SASL mechanism (RFC 4954 4) */
    SMTP_ERR_AUTH_BASE64 = -11,     /* 501 5.5.2 response not base64 (RFC 4954 4) */
    SMTP_ERR_AUTH_CANCELLED = -12,  /* 501 5.0.0 client sent "*" (RFC 4954 4 gives
                                       the 501; no enhanced code, so X.0.0) */
    /* DATA (server side), reported at the end of the data */
    SMTP_ERR_DATA_LINE_TOO_LONG = -13, /* 500 5.5.6 a text line over 1000 octets */
    SMTP_ERR_DATA_BARE_LF = -14,    /* 550 5.5.2 bare LF in the message (RFC 5321 2.3.8) */
    /* replies (client side); no reply is sent for these */
    SMTP_ERR_REPLY_CODE = -15,      /* not three digits 2-5, 0-5, 0-9 (RFC 5321 4.2) */
    SMTP_ERR_REPLY_SYNTAX = -16,    /* code not followed by SP, "-" or the end; a NUL */
    SMTP_ERR_REPLY_MISMATCH = -17,  /* lines of one reply with different codes (4.2.1) */
    SMTP_ERR_REPLY_TOO_MANY = -18,  /* more than SMTP_REPLY_LINES_MAX lines */
    SMTP_ERR_REPLY_TOO_LONG = -19,  /* a reply line over SMTP_REPLY_LINE_MAX */
    /* formatters */
    SMTP_ERR_NO_SPACE = -20,        /* the caller's buffer is too small */
    SMTP_ERR_INVALID = -21,         /* the struct/arguments would not make a valid line */
    SMTP_ERR_COUNT_ = -22,          /* one past the last; not returned */
};

/* A short English name for any value above ("ok" for 0); never NULL. */
const char *smtp_strerror(int err);

/* The reply a server sends for a command-line or DATA error. */
struct smtp_canned_reply {
    int         code;     /* e.g. 501 */
    const char *enhanced; /* e.g. "5.5.4" (RFC 3463 / RFC 5248), never NULL */
    const char *text;     /* e.g. "Syntax error in parameters", no CRLF */
};

/* Returns the reply for err (a static, never NULL). For 0 and for errors
 * that have no server reply (reply-reader and formatter errors) returns
 * 451 4.3.0 "Local error in processing", which a server should never send
 * for them; check the comment on enum smtp_error. */
const struct smtp_canned_reply *smtp_error_reply(int err);

/* ---- Commands ------------------------------------------------------------ */

enum smtp_verb {
    SMTP_HELO,     /* RFC 5321 4.1.1.1 */
    SMTP_EHLO,     /* RFC 5321 4.1.1.1 */
    SMTP_MAIL,     /* RFC 5321 4.1.1.2 */
    SMTP_RCPT,     /* RFC 5321 4.1.1.3 */
    SMTP_DATA,     /* RFC 5321 4.1.1.4 */
    SMTP_RSET,     /* RFC 5321 4.1.1.5 */
    SMTP_VRFY,     /* RFC 5321 4.1.1.6 */
    SMTP_EXPN,     /* RFC 5321 4.1.1.7 */
    SMTP_HELP,     /* RFC 5321 4.1.1.8 */
    SMTP_NOOP,     /* RFC 5321 4.1.1.9 */
    SMTP_QUIT,     /* RFC 5321 4.1.1.10 */
    SMTP_STARTTLS, /* RFC 3207 4 */
    SMTP_AUTH,     /* RFC 4954 4 */
    SMTP_VERB_COUNT,
};

/* The verbs' wire names in enum order ("HELO", ... "AUTH"). */
extern const char *const smtp_verb_names[SMTP_VERB_COUNT];

/* The wire name of v, or "?" when v is out of range. */
const char *smtp_verb_name(enum smtp_verb v);

/* MAIL FROM BODY= parameter (RFC 6152 2). */
enum smtp_body {
    SMTP_BODY_NONE,     /* no BODY= given */
    SMTP_BODY_7BIT,     /* BODY=7BIT */
    SMTP_BODY_8BITMIME, /* BODY=8BITMIME */
    SMTP_BODY_COUNT,
};

/* SASL mechanisms the codec knows (RFC 4954 4, RFC 4616, draft-murchison-
 * sasl-login). */
enum smtp_auth_mech {
    SMTP_AUTH_PLAIN,
    SMTP_AUTH_LOGIN,
    SMTP_AUTH_MECH_COUNT,
};

/* Wire names in enum order: "7BIT"-style names for BODY (index 0 is ""), and
 * "PLAIN", "LOGIN" for the mechanisms. */
extern const char *const smtp_body_names[SMTP_BODY_COUNT];
extern const char *const smtp_auth_mech_names[SMTP_AUTH_MECH_COUNT];

/* One parsed command. A plain struct owned by the caller, fixed size, no
 * pointers: copy it freely. Only the fields of its verb are meaningful; the
 * parser zeroes the rest. All strings are NUL-terminated. */
struct smtp_command {
    enum smtp_verb verb;
    /* HELO/EHLO: a domain ("mail.example.com") or an address literal kept
     * with its brackets ("[192.0.2.1]", "[IPv6:2001:db8::1]"). */
    char domain[SMTP_DOMAIN_MAX + 1];
    /* MAIL/RCPT: the mailbox as written between "<" and ">", without the
     * brackets and without any source route (RFC 5321 4.1.2 and C: a route
     * "@a,@b:" is accepted and dropped). A quoted local part keeps its
     * quotes: "\"john smith\"@example.com". "" when null_path. */
    char   path[SMTP_PATH_MAX + 1];
    size_t local_len;   /* path[0..local_len) is the local part as written;
                           path[local_len] is '@' unless postmaster */
    bool   null_path;   /* MAIL FROM:<>, the null reverse-path (4.5.5) */
    bool   postmaster;  /* RCPT TO:<Postmaster> with no domain (4.1.1.3);
                           path is "Postmaster" in the client's spelling */
    /* MAIL parameters (RCPT takes none here: every RCPT parameter is 555). */
    bool     has_size;  /* SIZE= given (RFC 1870 3) */
    uint64_t size;      /* its value; saturates at UINT64_MAX for 20 nines,
                           which the server answers with 552 like any big one */
    enum smtp_body body; /* BODY= (RFC 6152) */
    /* VRFY/EXPN (required), HELP/NOOP (optional): the rest of the line after
     * the verb and one SP, as sent. "" when absent. */
    char arg[SMTP_ARG_MAX + 1];
    /* AUTH: the mechanism, and the optional initial response (RFC 4954 4),
     * still base64 (checked to be valid base64). has_initial with
     * initial[] == "" means the client sent "=", an empty response. */
    enum smtp_auth_mech mech;
    bool has_initial;
    char initial[SMTP_ARG_MAX + 1];
};

/* Parses one command line, line[0..len) WITHOUT its CRLF (linebuf_next
 * gives exactly that). Verbs and the keywords FROM:/TO:/SIZE/BODY and their
 * values are case-insensitive (RFC 5321 2.4). Returns 0 and fills *out, or
 * a negative SMTP_ERR_* value (then *out holds the verb if it was
 * recognised, verb = SMTP_VERB_COUNT otherwise) to answer with
 * smtp_error_reply(). len > SMTP_COMMAND_LINE_MAX - 2 is
 * SMTP_ERR_LINE_TOO_LONG.
 *
 * Tolerances, each the way Postfix and OpenSMTPD behave, each a deliberate
 * departure from the RFC 5321 4.1.2 grammar:
 *  - one or more SP between "FROM:"/"TO:" and "<" ("MAIL FROM: <a@b>");
 *  - several SP between ESMTP parameters;
 *  - trailing SP at the end of the line, on every command.
 * Not tolerated: a path without angle brackets, a leading SP, TAB as a
 * separator. */
int smtp_parse_command(const char *line, size_t len, struct smtp_command *out);

/* Writes the command as one line with its CRLF into buf (NUL-terminated,
 * so cap must hold the line plus 1). The fields of c's verb must make a line
 * smtp_parse_command() accepts back into the same struct (round trip); a
 * field that would not (an empty HELO domain, a CR in a path, a line over
 * SMTP_COMMAND_LINE_MAX) gives SMTP_ERR_INVALID, so a client can never be
 * made to inject a second command. local_len and postmaster are not read
 * (they follow from path); with null_path, path is not read either. Returns the line length (CRLF counted,
 * NUL not), SMTP_ERR_INVALID or SMTP_ERR_NO_SPACE. */
int smtp_format_command(const struct smtp_command *c, char *buf, size_t cap);

/* Server side of AUTH after a 334 challenge (RFC 4954 4): one client line
 * line[0..len) without its CRLF, holding base64 or "*". Decodes it into
 * out[0..cap) and returns the decoded length (0 for an empty line or "="),
 * SMTP_ERR_AUTH_CANCELLED for "*" (answer 501 5.0.0), SMTP_ERR_AUTH_BASE64
 * for anything that is not strict base64 (answer 501 5.5.2), or
 * SMTP_ERR_NO_SPACE when the decoded bytes do not fit. Such a line may be
 * longer than SMTP_COMMAND_LINE_MAX (a PLAIN response can reach
 * SASL_PLAIN_ENCODED_MAX, see base64.h). */
int smtp_parse_auth_response(const char *line, size_t len, char *out,
                             size_t cap);

/* ---- Replies ------------------------------------------------------------- */

/* One reply line, parsed. text is borrowed from the line handed in. */
struct smtp_reply_line {
    int         code;        /* 200..559, RFC 5321 4.2 grammar */
    bool        last;        /* ' ' or end of line after the code; false for '-' */
    int         enh_class;   /* enhanced code 2.1.0 -> 2, 1, 0 (RFC 3463) */
    int         enh_subject; /* all three 0 when the text does not start */
    int         enh_detail;  /* with one (RFC 2034 3) */
    const char *text;        /* after the separator and the enhanced code */
    size_t      text_len;
};

/* Parses one reply line line[0..len) without its CRLF. An enhanced code is
 * recognised only when the text starts with class.subject.detail followed by
 * SP or the end, the class equals the reply code's first digit and the code
 * is 2xx, 4xx or 5xx (RFC 3463 2, RFC 2034 4); otherwise it stays text.
 * Returns 0, SMTP_ERR_REPLY_CODE, SMTP_ERR_REPLY_SYNTAX or
 * SMTP_ERR_REPLY_TOO_LONG (len > SMTP_REPLY_LINE_MAX - 2). */
int smtp_parse_reply_line(const char *line, size_t len,
                          struct smtp_reply_line *out);

/* A whole reply, possibly multi-line. */
struct smtp_reply {
    int    code;                        /* the same on every line (4.2.1) */
    int    enh_class, enh_subject, enh_detail; /* from the first line, 0s if none */
    size_t nlines;                      /* 1..SMTP_REPLY_LINES_MAX */
    char   lines[SMTP_REPLY_LINES_MAX][SMTP_REPLY_LINE_MAX]; /* each line's text,
                                           NUL-terminated, without code,
                                           separator and enhanced code */
};

/* Assembles replies from the bytes a client receives. Private fields. */
struct smtp_reply_reader {
    struct linebuf    lb;
    char              storage[SMTP_REPLY_LINE_MAX];
    struct smtp_reply reply; /* being assembled / last complete */
    bool              ready; /* reply holds a complete reply handed out */
    int               err;   /* sticky error, 0 when none */
};

enum smtp_reply_event {
    SMTP_REPLY_NEED_MORE = 0, /* feed more bytes */
    SMTP_REPLY_READY = 1,     /* *reply is complete */
};

void smtp_reply_reader_init(struct smtp_reply_reader *r);

/* Forgets held bytes, the reply in progress and a sticky error. */
void smtp_reply_reader_reset(struct smtp_reply_reader *r);

/* Copies as much of in[0..n) as fits and returns the count taken; call
 * smtp_reply_reader_next() until SMTP_REPLY_NEED_MORE, then feed the rest.
 * After an error it drops all bytes and returns n. */
size_t smtp_reply_reader_feed(struct smtp_reply_reader *r, const char *in,
                              size_t n);

/* Returns SMTP_REPLY_READY with *reply (borrowed until the next call on r),
 * SMTP_REPLY_NEED_MORE, or a negative error: SMTP_ERR_REPLY_CODE,
 * SMTP_ERR_REPLY_SYNTAX, SMTP_ERR_REPLY_MISMATCH, SMTP_ERR_REPLY_TOO_MANY,
 * SMTP_ERR_REPLY_TOO_LONG. Errors are sticky: every later call returns the
 * same error until smtp_reply_reader_reset(). A line ending in a bare LF is
 * accepted (a client may be lenient with what servers send; RFC 5321 2.3.8
 * binds the sender, and a reply cannot smuggle anything). */
int smtp_reply_reader_next(struct smtp_reply_reader *r,
                           const struct smtp_reply **reply);

/* Formats a reply: every line but the last as "CODE-", the last as "CODE ",
 * each followed by "ENH " when enhanced is given (RFC 2034 4 puts the code on
 * every line) and by its text, each ending in CRLF; NUL-terminated. nlines
 * == 0 gives one line with the code (and enhanced code) alone; the last
 * line always keeps its SP ("250 " CRLF, "334 " CRLF: RFC 5321 4.2.1 says a
 * server SHOULD send it, RFC 4954 4 requires it of an empty challenge).
 * code must be
 * valid per RFC 5321 4.2; enhanced "c.s.d" with c equal to code's first digit
 * or NULL; no text may hold CR, LF or NUL; each line must fit
 * SMTP_REPLY_LINE_MAX; nlines <= SMTP_REPLY_LINES_MAX. Returns the length
 * (NUL not counted), SMTP_ERR_INVALID or SMTP_ERR_NO_SPACE. */
int smtp_format_reply(int code, const char *enhanced, const char *const *lines,
                      size_t nlines, char *buf, size_t cap);

/* What a server announced in its EHLO reply (RFC 5321 4.1.1.1: the lines
 * after the first are "keyword [params]", keywords case-insensitive). */
struct smtp_ehlo {
    bool     size;        /* SIZE (RFC 1870) */
    uint64_t size_max;    /* its limit, 0 when none was given */
    bool     eightbitmime; /* 8BITMIME (RFC 6152) */
    bool     pipelining;  /* PIPELINING (RFC 2920) */
    bool     starttls;    /* STARTTLS (RFC 3207) */
    bool     enhanced;    /* ENHANCEDSTATUSCODES (RFC 2034) */
    bool     auth_plain;  /* AUTH ... PLAIN ... (RFC 4954) */
    bool     auth_login;  /* AUTH ... LOGIN ... */
};

/* Reads the extension lines of a 250 EHLO reply into *out (zeroed first);
 * unknown keywords are ignored. Returns 0, or SMTP_ERR_INVALID when r is
 * not a 250 reply. */
int smtp_parse_ehlo(const struct smtp_reply *r, struct smtp_ehlo *out);

/* ---- DATA (smtp_data.c) -------------------------------------------------- */

/* Client side: turns message bytes into transmission bytes (RFC 5321 4.5.2):
 * a line starting with "." gets a second "."; a lone CR or lone LF becomes
 * CRLF (RFC 5321 2.3.8: a client sends line ends only as CRLF); finishing
 * adds a CRLF if the message does not end with one, then ".\r\n". Streaming:
 * the message may arrive in any chunks. Private fields. */
struct smtp_stuffer {
    bool line_start; /* the next byte begins a line */
    bool after_cr;   /* the last byte was a CR already sent as CRLF */
    bool finished;
};

/* Each input byte becomes at most 2 output bytes. */
#define SMTP_STUFF_OUT_MAX(n) (2 * (n))
/* smtp_stuffer_finish() writes at most CRLF "." CRLF. */
#define SMTP_STUFF_FINISH_MAX 5

void smtp_stuffer_init(struct smtp_stuffer *s);

/* Converts in[0..n) into out[0..cap). Sets *used to the input bytes
 * consumed (all of them when cap >= SMTP_STUFF_OUT_MAX(n)) and returns the
 * bytes written. Feed the rest again with more room. */
size_t smtp_stuffer_feed(struct smtp_stuffer *s, const char *in, size_t n,
                         size_t *used, char *out, size_t cap);

/* Writes the end: CRLF if needed, then ".\r\n". Returns the bytes written
 * (3 or 5) or SMTP_ERR_NO_SPACE (nothing written) when cap is too small.
 * Feeding after finishing is an internal error (EXPECT). */
int smtp_stuffer_finish(struct smtp_stuffer *s, char *out, size_t cap);

/* Server side: reads the bytes after "354" up to and including the
 * terminating CRLF "." CRLF, which is found across any chunk boundary, and
 * hands out the message un-stuffed (RFC 5321 4.5.2: a leading "." removed).
 *
 * RFC 5321 2.3.8 and the SMTP-smuggling lesson: only CRLF ends a line. A
 * bare LF never does, so "LF . LF", "LF . CRLF" and "CRLF . LF" do NOT end
 * the data; the reader goes on to the real CRLF "." CRLF. A message that held
 * a bare LF is then rejected as a whole (SMTP_ERR_DATA_BARE_LF, answered
 * 550 5.5.2), the way Postfix 3.9 (smtpd_forbid_bare_newline) refuses it,
 * rather than kept: whatever a lenient sender meant by the bare LF, this
 * server can never split the message where the sender did not.
 *
 * A text line longer than SMTP_TEXT_LINE_MAX (RFC 5321 4.5.3.1.6) is read on
 * to its end (so the terminator is still found), and the message is rejected
 * at the end of data with SMTP_ERR_DATA_LINE_TOO_LONG, 500 5.5.6 (RFC 5321
 * 4.5.3.1.9 "500 Line too long"): the server must not answer before the
 * terminator, or the rest of the message would be read as commands.
 * Private fields. */
struct smtp_data_reader {
    struct linebuf lb;
    char   storage[SMTP_TEXT_LINE_MAX + 1]; /* + the dot of a stuffed line,
                                                which 4.5.3.1.6 does not count */
    bool   prev_crlf; /* the previous line ended in CRLF (or none yet) */
    bool   cont;      /* the next line is the tail of an overlong line */
    bool   cont_cr;   /* that overlong part's last byte was a CR */
    bool   done;      /* the terminator was read */
    int    flaw;      /* first SMTP_ERR_DATA_* seen, 0 when none */
    size_t bytes;     /* message bytes handed out so far */
};

enum smtp_data_event {
    SMTP_DATA_NEED_MORE = 0, /* feed more bytes */
    SMTP_DATA_BYTES = 1,     /* *data,*len: message bytes, un-stuffed */
    SMTP_DATA_END = 2,       /* the terminator was read; see smtp_data_reader_status() */
};

void smtp_data_reader_init(struct smtp_data_reader *d);

/* Ready for the next message: forgets held bytes and the flaw. */
void smtp_data_reader_reset(struct smtp_data_reader *d);

/* Copies as much of in[0..n) as fits and returns the count taken (0 after
 * the end: the bytes after the terminator belong to the command reader). */
size_t smtp_data_reader_feed(struct smtp_data_reader *d, const char *in,
                             size_t n);

/* Returns SMTP_DATA_BYTES with *data, *len (borrowed until the next call on
 * d): normally one whole line with its line ending as received (CRLF, or LF
 * for a bare LF); pieces of an overlong line come in several events.
 * Returns SMTP_DATA_END once the terminator has been read, and again on
 * every later call until reset; SMTP_DATA_NEED_MORE otherwise. Never an
 * error: flaws are collected for the end. */
int smtp_data_reader_next(struct smtp_data_reader *d, const char **data,
                          size_t *len);

/* After SMTP_DATA_END: 0 when the message may be accepted, otherwise the
 * first flaw (SMTP_ERR_DATA_BARE_LF or SMTP_ERR_DATA_LINE_TOO_LONG) to
 * answer with smtp_error_reply(). Before the end: the flaws so far. */
int smtp_data_reader_status(const struct smtp_data_reader *d);

/* Message bytes handed out so far (to enforce SIZE, RFC 1870: 552 5.3.4). */
size_t smtp_data_reader_size(const struct smtp_data_reader *d);

/* After SMTP_DATA_END: the bytes fed after the terminator (pipelined
 * commands such as QUIT), borrowed until the next call on d; returns their
 * count and takes them out of d. Feed them to the command reader. */
size_t smtp_data_reader_take_rest(struct smtp_data_reader *d,
                                  const char **rest);

/* ---- Explanations for students (smtp_explain.c) -------------------------- */

/* One plain-language sentence about a reply, never NULL. The enhanced code
 * (pass 0, 0, 0 when there is none) picks a more specific sentence where it
 * helps (5.1.1 unknown user, 5.7.1 relay denied, 4.7.1 greylisting, ...);
 * otherwise the reply code decides; an unknown code gets a sentence about
 * its first digit (RFC 5321 4.2.1). */
const char *smtp_reply_explain(int code, int enh_class, int enh_subject,
                               int enh_detail);

/* One sentence about what a command asks for, never NULL ("unknown command"
 * when v is out of range). */
const char *smtp_command_explain(enum smtp_verb v);

#endif
