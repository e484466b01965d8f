/* RFC 5322 Internet messages: the header section, addresses, dates,
 * Message-IDs, trace fields (Received:, Return-Path:), RFC 2047 encoded
 * words, and a builder for simple text messages.
 *
 * The parsers here take a complete buffer (a message arrives whole from the
 * SMTP DATA phase or the mail store), not a stream; they never allocate and
 * never read outside [buf, buf + len). Results are either caller-owned
 * structs that index into the caller's buffer (borrowed: valid while that
 * buffer is), or copies into fixed arrays whose sizes are the MSG_MAX_*
 * below. Formatters write into a caller's buffer, never past cap, and
 * always end what they write with a NUL (cap must leave room for it; the
 * lengths they report do not count it).
 *
 * One return contract for every function returning enum msg_err: MSG_OK, or
 * an MSG_ERR_* value naming the first problem; msg_strerror() names it. On an
 * error, outputs hold whatever was complete before the problem (documented
 * per function) and nothing past cap has been written. */
#ifndef MAILSIM_PROTOCOLS_MSG_H
#define MAILSIM_PROTOCOLS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits. Each one is an error value when reached, never a crash. */
#define MSG_MAX_LINE     998   /* RFC 5322 2.1.1: a line is at most 998 octets, CRLF excluded */
#define MSG_FOLD_WIDTH   78    /* RFC 5322 2.1.1: lines SHOULD be at most 78 octets, CRLF excluded */
#define MSG_MAX_FIELDS   256   /* our bound on fields per header section; real mail rarely has 60 */
#define MSG_MAX_HEADER   65536 /* our bound on a header section, the empty line included (Postfix's header_size_limit is 102400) */
#define MSG_MAX_ADDRS    64    /* our bound on addresses (and group markers) in one address list */
#define MSG_MAX_PHRASE   256   /* our bound on a display name or group name after unquoting, NUL included */
#define MSG_MAX_LOCAL    65    /* RFC 5321 4.5.3.1.1: local part at most 64 octets; +1 for NUL */
#define MSG_MAX_DOMAIN   256   /* RFC 5321 4.5.3.1.2: domain at most 255 octets; +1 for NUL */
#define MSG_DATE_LEN     31    /* "Thu, 26 Nov 2026 09:15:00 +0000", the form msg_date_format writes */

enum msg_err {
    MSG_OK = 0,
    /* header section (RFC 5322 2.1, 2.2) */
    MSG_ERR_LINE_TOO_LONG,    /* a line over MSG_MAX_LINE octets (2.1.1) */
    MSG_ERR_HEADER_TOO_BIG,   /* the header section over MSG_MAX_HEADER octets */
    MSG_ERR_TOO_MANY_FIELDS,  /* more than MSG_MAX_FIELDS fields */
    MSG_ERR_NO_COLON,         /* a header line with no ':' */
    MSG_ERR_EMPTY_NAME,       /* ':' at the start of a line: a field name needs 1+ characters (2.2) */
    MSG_ERR_FIELD_NAME,       /* a field name byte outside 33-126, e.g. a space inside the name (2.2) */
    MSG_ERR_FOLD_FIRST,       /* the first header line starts with WSP: nothing to continue (2.2.3) */
    MSG_ERR_NUL,              /* a NUL octet in the header (2.2: field bodies are US-ASCII without NUL) */
    /* lexical (RFC 5322 3.2) */
    MSG_ERR_UNTERMINATED_QUOTE,   /* a quoted string with no closing DQUOTE (3.2.4) */
    MSG_ERR_UNTERMINATED_COMMENT, /* a comment with no closing ')' (3.2.2) */
    MSG_ERR_UNTERMINATED_LITERAL, /* a domain literal with no closing ']' (3.4.1) */
    MSG_ERR_SYNTAX,               /* a character that does not fit the grammar where it stands */
    MSG_ERR_TOO_LONG,             /* a value over its fixed array (MSG_MAX_PHRASE, _LOCAL, _DOMAIN) */
    /* addresses (RFC 5322 3.4) */
    MSG_ERR_NO_AT,            /* an addr-spec without '@' */
    MSG_ERR_NO_ANGLE_CLOSE,   /* "<a@b" without '>' */
    MSG_ERR_EMPTY_LOCAL,      /* nothing before '@' */
    MSG_ERR_EMPTY_DOMAIN,     /* nothing after '@' */
    MSG_ERR_BAD_LOCAL,        /* local part is neither dot-atom nor quoted string (3.4.1) */
    MSG_ERR_BAD_DOMAIN,       /* domain is neither dot-atom nor domain literal (3.4.1) */
    MSG_ERR_ROUTE_ADDR,       /* obsolete source route "<@a,@b:x@y>" (4.4): recognised, not supported */
    MSG_ERR_UNCLOSED_GROUP,   /* a group "name: ..." without its ';' (3.4) */
    MSG_ERR_NESTED_GROUP,     /* a group inside a group */
    MSG_ERR_EMPTY_LIST,       /* no address at all where one is required */
    MSG_ERR_TOO_MANY_ADDRS,   /* more than MSG_MAX_ADDRS entries */
    /* dates (RFC 5322 3.3, 4.3) */
    MSG_ERR_BAD_DAY_NAME,     /* not Mon..Sun, or no ',' after it */
    MSG_ERR_BAD_DAY,          /* day missing, not 1-2 digits, or past the month's end */
    MSG_ERR_BAD_MONTH,        /* not Jan..Dec */
    MSG_ERR_BAD_YEAR,         /* not 2 to 4 digits, or before 1900 */
    MSG_ERR_BAD_TIME,         /* not hh:mm[:ss] within 00:00:00-23:59:60 */
    MSG_ERR_BAD_ZONE,         /* not +hhmm/-hhmm with mm 00-59 (3.3), nor an obsolete name (4.3) */
    MSG_ERR_WEEKDAY_MISMATCH, /* the day name does not match the date (3.3: it MUST agree) */
    /* Message-ID (RFC 5322 3.6.4) */
    MSG_ERR_BAD_MSGID,        /* not "<" id-left "@" id-right ">" */
    /* RFC 2047 */
    MSG_ERR_BAD_ENCODED_WORD, /* an =?charset?enc?text?= that cannot be decoded */
    /* formatters */
    MSG_ERR_NO_SPACE,         /* the output buffer is too small; nothing useful was written */
    MSG_ERR_BAD_ARG,          /* a caller's argument breaks the contract (e.g. a NULL name, a CR in a value) */
    MSG_ERR_COUNT
};

/* "MSG_ERR_NO_COLON"-style name of e; "?" for values out of range. */
const char *msg_strerror(enum msg_err e);

/* ------------------------------------------------------------------ */
/* Header section (RFC 5322 2.2)                                        */

/* One field. Offsets are into the buffer given to msg_parse_header. */
struct msg_field {
    size_t off, len;             /* the whole field: name to the end of its last line ending */
    size_t name_off, name_len;   /* the field name, no trailing WSP, no ':' */
    size_t value_off, value_len; /* after ':' and its leading WSP, to before the last line ending; still folded */
};

/* Caller-owned result of msg_parse_header. About 12 KiB: embed it or put it
 * on the heap rather than on a small stack. */
struct msg_header {
    const char *buf;           /* borrowed: the caller's message; the offsets index it */
    size_t len;                /* bytes of buf given to the parser */
    size_t n_fields;
    struct msg_field fields[MSG_MAX_FIELDS];
    size_t body_off;           /* first body byte: just past the empty line; == len when there is none.
                                  This is also the header size IMAP's BODY[HEADER] returns. */
    bool has_empty_line;       /* the header ended at an empty line (not at the end of the buffer) */
    bool bare_lf;              /* some header line ended in a lone LF (tolerated, see msg.c) */
    size_t err_off;            /* on an error: offset of the line at fault */
};

/* Parses the header section at the start of buf[0..len). Fields end at the
 * first empty line (RFC 5322 2.1) or at the end of the buffer (a message
 * without a body is valid, 3.5); a last line without its CRLF is taken as a
 * field. Lines ending in a bare LF are accepted and flagged in h->bare_lf.
 * Returns MSG_OK; or MSG_ERR_LINE_TOO_LONG, _HEADER_TOO_BIG, _TOO_MANY_FIELDS,
 * _NO_COLON, _EMPTY_NAME, _FIELD_NAME, _FOLD_FIRST, _NUL with h->err_off set,
 * h->fields holding the fields before the bad line and h->body_off == len.
 * h borrows buf. */
enum msg_err msg_parse_header(const char *buf, size_t len, struct msg_header *h);

/* Index of the first field at index >= from whose name equals name ignoring
 * ASCII case (RFC 5322 1.2.2), or -1. Loop with from = last + 1 to visit all
 * occurrences (Received: appears once per hop, newest first). */
int msg_header_find(const struct msg_header *h, const char *name, size_t from);

/* How many fields are named name (ignoring ASCII case). */
size_t msg_header_count(const struct msg_header *h, const char *name);

/* Borrowed pointer to field i's raw (folded) value in h->buf; *len its
 * length. i must be < h->n_fields. */
const char *msg_field_value(const struct msg_header *h, size_t i, size_t *len);

/* Unfolds in[0..n) (RFC 5322 2.2.3: each CRLF, or bare LF, that is followed
 * by WSP is removed) into out, NUL-terminated, leading and trailing WSP
 * dropped; *out_len
 * is the length without the NUL. Returns MSG_OK or MSG_ERR_NO_SPACE (out
 * holds a truncated, NUL-terminated prefix when cap > 0, less a UTF-8
 * character the cut would split). */
enum msg_err msg_unfold(const char *in, size_t n, char *out, size_t cap, size_t *out_len);

/* Writes "Name: value\r\n" into out[0..cap), folding (RFC 5322 2.2.3) by
 * putting CRLF before a WSP of value so that no line exceeds MSG_FOLD_WIDTH
 * where a fold point exists; never inside a quoted string, a comment's
 * quoted pair or an RFC 2047 encoded word. value may already contain folds
 * (they are kept). A single unbreakable run making a line over MSG_MAX_LINE
 * gives MSG_ERR_LINE_TOO_LONG. name must be a valid field name and value must
 * not contain CR/LF except as folds (MSG_ERR_BAD_ARG). *out_len gets the
 * bytes written. Returns MSG_OK, MSG_ERR_NO_SPACE, _LINE_TOO_LONG, _BAD_ARG. */
enum msg_err msg_format_field(const char *name, const char *value, char *out, size_t cap,
                              size_t *out_len);

/* ------------------------------------------------------------------ */
/* Addresses (RFC 5322 3.4)                                             */

enum msg_addr_kind {
    MSG_ADDR_MAILBOX = 0,  /* a mailbox: display (maybe ""), local, domain */
    MSG_ADDR_GROUP_START,  /* "name:" opens a group; display holds the name */
    MSG_ADDR_GROUP_END,    /* ";" closes it (IMAP's ENVELOPE marks groups the same way) */
    MSG_ADDR_KIND_COUNT
};

/* "MAILBOX", "GROUP_START", "GROUP_END"; "?" out of range. */
const char *msg_addr_kind_name(enum msg_addr_kind k);

struct msg_addr {
    enum msg_addr_kind kind;
    char display[MSG_MAX_PHRASE]; /* unquoted, quoted-pairs resolved, comments dropped, runs of WSP
                                     made one space; RFC 2047 words left encoded (msg_decode_words) */
    char local[MSG_MAX_LOCAL];    /* unquoted local part: "a b"@x gives a b */
    char domain[MSG_MAX_DOMAIN];  /* as written, a domain literal keeps its brackets */
};

struct msg_addr_list {
    size_t n;
    struct msg_addr addr[MSG_MAX_ADDRS];
};

/* Parses one mailbox (RFC 5322 3.4: name-addr or addr-spec), e.g. a From:
 * or Sender: value, folded or not; comments (3.2.2) are skipped. Returns
 * MSG_OK or an address/lexical MSG_ERR_*; a group is MSG_ERR_SYNTAX here,
 * and so is a quoted string holding a NUL or an obs-qp (4.1) quoted NUL, CR
 * or LF, which the parsed C strings could not hold or write back. */
enum msg_err msg_addr_parse(const char *s, size_t n, struct msg_addr *out);

/* Parses an address list (3.4: mailbox and group, comma separated, empty
 * elements ignored per 4.4 obs-addr-list), e.g. To: or Cc:. A group gives a
 * GROUP_START entry, its mailboxes, and a GROUP_END entry. Returns MSG_OK, or
 * an error with out->n entries complete before the bad one. An empty list is
 * MSG_ERR_EMPTY_LIST. */
enum msg_err msg_addr_parse_list(const char *s, size_t n, struct msg_addr_list *out);

/* Formats one entry: a mailbox as "local@domain" or "Display <local@domain>"
 * (display quoted when it holds specials, 3.2.3; local quoted when it is not
 * a dot-atom, 3.4.1), a group start as "Name:", a group end as ";". Writes a
 * NUL-terminated string; *out_len excludes the NUL. Returns MSG_OK or
 * MSG_ERR_NO_SPACE. */
enum msg_err msg_addr_format(const struct msg_addr *a, char *out, size_t cap, size_t *out_len);

/* Formats a list: mailboxes joined by ", ", a group as "Name: a, b;" (an
 * empty group "Name:;"). Unfolded and NUL-terminated: pass it to
 * msg_format_field to fold. Returns MSG_OK or MSG_ERR_NO_SPACE. */
enum msg_err msg_addr_list_format(const struct msg_addr_list *l, char *out, size_t cap,
                                  size_t *out_len);

/* ------------------------------------------------------------------ */
/* Dates (RFC 5322 3.3, obsolete forms 4.3)                             */

/* Parses a date-time such as "Thu, 26 Nov 2026 09:15:00 +0000": day name
 * optional, 2-digit years per 4.3 (00-49 -> 2000+, 50-99 -> 1900+), 3-digit
 * years +1900, seconds optional, zones +hhmm/-hhmm or the 4.3 names UT, GMT,
 * EST, EDT, CST, CDT, MST, MDT, PST, PDT, Z (military letters other than Z
 * mean -0000, i.e. unknown, per 4.3), trailing comments allowed. *epoch gets
 * the instant as seconds since 1970-01-01T00:00:00Z, *zone_min the zone
 * offset in minutes (east positive). A leap second :60 counts as :59.
 * Returns MSG_OK or an MSG_ERR_BAD_* date error / MSG_ERR_WEEKDAY_MISMATCH. */
enum msg_err msg_date_parse(const char *s, size_t n, int64_t *epoch, int *zone_min);

/* Writes the date-time of epoch seen in zone zone_min (minutes east of UTC,
 * -5999..5999, i.e. -9959..+9959 as 3.3 allows) as "Thu, 26 Nov 2026 09:15:00 +0000" plus NUL: exactly
 * MSG_DATE_LEN bytes and the NUL for years 0-9999. Civil arithmetic only,
 * no libc time functions. Returns MSG_OK, MSG_ERR_NO_SPACE, MSG_ERR_BAD_ARG
 * (zone or year out of range). */
enum msg_err msg_date_format(int64_t epoch, int zone_min, char *out, size_t cap);

/* ------------------------------------------------------------------ */
/* Message-ID (RFC 5322 3.6.4)                                          */

struct msg_id {
    const char *left;  size_t left_len;  /* borrowed from the parsed input: id-left */
    const char *right; size_t right_len; /* id-right, brackets kept for a literal */
};

/* Parses "<left@right>" (CFWS around it allowed). Returns MSG_OK or
 * MSG_ERR_BAD_MSGID. out borrows s. */
enum msg_err msg_id_parse(const char *s, size_t n, struct msg_id *out);

/* Builds "<YYYYMMDDhhmmss.COUNTER@domain>" from caller-given parts (no
 * clock, no randomness here): the UTC date of epoch and a counter the caller
 * keeps unique. domain must be a dot-atom. NUL-terminated; *out_len excludes
 * the NUL. Returns MSG_OK, MSG_ERR_NO_SPACE, MSG_ERR_BAD_ARG. */
enum msg_err msg_id_build(int64_t epoch, uint64_t counter, const char *domain, char *out,
                          size_t cap, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Trace fields (RFC 5322 3.6.7, RFC 5321 4.4)                          */

/* The WITH protocol keywords (RFC 5321 4.4, RFC 3848). */
enum msg_with {
    MSG_WITH_SMTP = 0,   /* HELO */
    MSG_WITH_ESMTP,      /* EHLO */
    MSG_WITH_ESMTPS,     /* EHLO + STARTTLS */
    MSG_WITH_ESMTPA,     /* EHLO + AUTH */
    MSG_WITH_ESMTPSA,    /* EHLO + STARTTLS + AUTH */
    MSG_WITH_LMTP,       /* RFC 2033 */
    MSG_WITH_COUNT
};

/* "ESMTPSA" etc.; "?" out of range. */
const char *msg_with_name(enum msg_with w);

/* What one hop knows. Strings are NUL-terminated, borrowed for the call. */
struct msg_received {
    const char *helo;      /* the name the client gave in HELO/EHLO */
    const char *rdns;      /* the client's reverse-DNS name; NULL or "" when unknown */
    const char *ip;        /* the client's address, "192.0.2.10" (written as [192.0.2.10]) */
    const char *by;        /* this server's name */
    const char *software;  /* comment after by, e.g. "mailsim"; NULL to omit */
    enum msg_with with;
    const char *id;        /* queue id; NULL to omit */
    const char *rcpt;      /* one recipient "friend@example.org" for "for <...>"; NULL to omit */
    int64_t time;          /* when the message was received, seconds since the epoch */
    int zone_min;          /* the server's zone offset in minutes east */
};

/* Writes the whole field, "Received: from HELO (RDNS [IP])\r\n\tby BY
 * (SOFTWARE) with WITH id ID\r\n\tfor <RCPT>; DATE\r\n", folded before "by"
 * and "for" as Postfix does (without "for", the date goes on a third line
 * after "id ID;"). Returns MSG_OK, MSG_ERR_NO_SPACE, MSG_ERR_BAD_ARG (a NULL
 * helo/ip/by, a CR or LF in a string). */
enum msg_err msg_received_format(const struct msg_received *r, char *out, size_t cap,
                                 size_t *out_len);

/* out = the Received: field followed by msg[0..len) (RFC 5321 4.4: each hop
 * adds its field at the top). out must not overlap msg. Returns as
 * msg_received_format, MSG_ERR_NO_SPACE when the whole does not fit. */
enum msg_err msg_prepend_received(const struct msg_received *r, const char *msg, size_t len,
                                  char *out, size_t cap, size_t *out_len);

/* out = "Return-Path: <reverse_path>\r\n" followed by msg[0..len), added at
 * final delivery (RFC 5321 4.4); reverse_path "" or NULL gives "<>", the null
 * path of a bounce. Returns MSG_OK, MSG_ERR_NO_SPACE, MSG_ERR_BAD_ARG. */
enum msg_err msg_prepend_return_path(const char *reverse_path, const char *msg, size_t len,
                                     char *out, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded words                                               */

/* Decodes an unstructured value (Subject, a display name) for display:
 * unfolds it, turns =?UTF-8?B?..?= / =?UTF-8?Q?..?= (and US-ASCII,
 * ISO-8859-1, any case) into UTF-8, drops the whitespace between two
 * adjacent encoded words (RFC 2047 6.2), and leaves words of unknown charsets
 * and malformed words as they are. NUL-terminated; *out_len excludes the NUL.
 * Returns MSG_OK or MSG_ERR_NO_SPACE; on MSG_ERR_NO_SPACE (cap > 0) out holds
 * the NUL-terminated prefix that fit, less a UTF-8 character it would cut in
 * two, and *out_len its length, as with
 * msg_unfold: the text is for display (RFC 2047 6.2), and a Subject longer
 * than a display buffer is shown cut. The input may hold NUL octets, which
 * are copied, so strlen(out) <= *out_len. */
enum msg_err msg_decode_words(const char *in, size_t n, char *out, size_t cap, size_t *out_len);

/* Encodes UTF-8 text as one or more =?UTF-8?B?...?= words of at most 75
 * characters (RFC 2047 2), split on character boundaries, separated by a
 * space; pure printable ASCII is copied unchanged. NUL-terminated. Returns
 * MSG_OK or MSG_ERR_NO_SPACE. */
enum msg_err msg_encode_words(const char *utf8, char *out, size_t cap, size_t *out_len);

/* ------------------------------------------------------------------ */
/* Building a simple message                                            */

struct msg_simple {
    const struct msg_addr *from;  /* one mailbox; display may be UTF-8 */
    const struct msg_addr *to;    /* n_to mailboxes */
    size_t n_to;
    const char *subject;          /* UTF-8, may be NULL (no Subject:) */
    int64_t date;                 /* seconds since the epoch */
    int zone_min;                 /* zone offset for the Date: field */
    const char *message_id;       /* "<...>" from msg_id_build; NULL to omit */
    const char *body;             /* UTF-8 text, lines ending in LF or CRLF; NULL for none */
};

/* Writes a complete message: From, To, Subject, Date, Message-ID, and, when
 * the body or a header value is not ASCII, MIME-Version: 1.0 with
 * Content-Type: text/plain; charset=utf-8 and Content-Transfer-Encoding:
 * 8bit (RFC 2045, RFC 6532 for 8bit transport); non-ASCII subject and display
 * names become RFC 2047 words. The empty line, then the body with every line
 * ending in CRLF (RFC 5322 2.3). Returns MSG_OK, MSG_ERR_NO_SPACE,
 * MSG_ERR_LINE_TOO_LONG (a body line over MSG_MAX_LINE), MSG_ERR_BAD_ARG. */
enum msg_err msg_build_simple(const struct msg_simple *m, char *out, size_t cap, size_t *out_len);

#endif
