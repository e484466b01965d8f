/* IMAP4rev1 wire codec (RFC 3501), with IDLE (RFC 2177), UIDPLUS
 * (RFC 4315) and the CONDSTORE syntax of RFC 7162 (SELECT (CONDSTORE),
 * FETCH (CHANGEDSINCE n), the MODSEQ item, [HIGHESTMODSEQ n], [NOMODSEQ]): a command parser (server side), a command formatter (client
 * side), a response reader (client side) and response formatters (server
 * side). Sans-I/O: bytes in through _feed, events out through _next, output
 * written into the caller's buffer. libc only.
 *
 * Memory: every pointer found in a parsed struct imap_command or struct
 * imap_response (strings, lists, sequence ranges, search keys, fetch items,
 * values) is BORROWED from the parser or reader that filled it, valid until
 * the next _feed/_next/_reset/_free call on that parser or reader. Copy what
 * you keep. When you fill a struct yourself for a formatter, the pointers are
 * yours and the formatter only reads them.
 *
 * Strings are (pointer, length) and may contain any octet except NUL; they
 * are not NUL-terminated. Every limit below is a #define; exceeding one is an
 * error value with the reply the server must send, never a crash.
 *
 * Decisions where RFC 3501 leaves room or real peers differ:
 *  - 8-bit octets are not QUOTED-CHARs (RFC 3501 9: CHAR is 7-bit), so a
 *    quoted string holding one is BAD; such strings come as literals.
 *    Human-readable response text may hold them (servers send them).
 *  - A bare LF ends a line like CRLF (RFC 3501 2.2 wants CRLF; Dovecot and
 *    real clients forgive it).
 *  - LITERAL+ ({n+}, RFC 7888) is always accepted from clients.
 *  - "A1 OK" without text, "+" without text: accepted from servers.
 *  - \Recent in STORE or APPEND is BAD (RFC 3501 2.3.2: not settable).
 *  - <origin.0> (a zero-length partial) is BAD: the count is nz-number. */
#ifndef MAILSIM_PROTOCOLS_IMAP_H
#define MAILSIM_PROTOCOLS_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ------------------------------------------------------------ */

/* Non-literal octets of one command or response, all its lines with their
 * CRLFs counted. RFC 3501 sets no limit; RFC 7162 4 asks servers to accept
 * lines of at least 8192 octets, and 64 KiB leaves room for long sequence
 * sets and SEARCH results. A longer command gets "BAD Command line too
 * long" and the parser resynchronises at the next line. */
#define IMAP_MAX_TEXT 65536
/* A tag: RFC 3501 9 sets no length; 64 is far beyond any real client's. */
#define IMAP_MAX_TAG 64
/* Parenthesised lists nested deeper than this get BAD (RFC 3501 sets no
 * depth; a BODYSTRUCTURE of a message nested 5 deep needs about 12). */
#define IMAP_MAX_DEPTH 16
/* Strings in list arguments of one command or response: flags, header field
 * names, CAPABILITY atoms, LIST attributes, code arguments. */
#define IMAP_MAX_STRINGS 256
/* Ranges in all the sequence sets of one command or response. */
#define IMAP_MAX_RANGES 512
/* Nodes of a SEARCH key tree (each key, NOT, OR and group is one node). */
#define IMAP_MAX_SEARCH_KEYS 128
/* Items in one FETCH command or one FETCH response. */
#define IMAP_MAX_FETCH_ITEMS 32
/* Part numbers in a section specification: BODY[1.2.3.4] has 4. */
#define IMAP_MAX_PART_DEPTH 8
/* Numbers in one SEARCH response. */
#define IMAP_MAX_NUMBERS 8192
/* Nodes in the value trees (ENVELOPE, BODYSTRUCTURE) of one response. */
#define IMAP_MAX_VALUES 2048
/* Literals in one command or response. */
#define IMAP_MAX_LITERALS 64
/* Default for the largest literal a parser accepts (max_literal = 0 when
 * creating it): the APPEND message size limit. Larger announcements are
 * refused with "NO [TOOBIG]" before the client sends the octets (RFC 3501
 * 7.5, RFC 4469 5 / RFC 7889 4 name the TOOBIG code). */
#define IMAP_DEFAULT_MAX_LITERAL (10u * 1024u * 1024u)
/* The largest mod-sequence value (RFC 7162 7: mod-sequence-value is at
 * most 9,223,372,036,854,775,807, 2^63 - 1, so a signed 64-bit store can
 * hold it). A larger one is IMAP_ERR_NUMBER. */
#define IMAP_MODSEQ_MAX 9223372036854775807ull
/* Strings up to this long are written quoted when they can be; longer ones
 * as literals (RFC 3501 4.3 lets either form carry any string). */
#define IMAP_MAX_QUOTED 1024

/* ---- shared value types ------------------------------------------------ */

/* A string: borrowed bytes, not NUL-terminated. nil marks NIL (an nstring
 * that is NIL, RFC 3501 4.5); then ptr is NULL and len 0. */
struct imap_str {
    const char *ptr;
    size_t      len;
    bool        nil;
};

/* "*" in a sequence set: the largest number in use (RFC 3501 6.4.8, 9
 * seq-number). 0 is free for it because nz-number excludes 0. */
#define IMAP_STAR 0u

/* One element of a sequence set: lo:hi as written ("*:4" keeps lo = STAR,
 * hi = 4; a single number has lo == hi). RFC 3501 9: the order of the two
 * ends does not matter. */
struct imap_range {
    uint32_t lo;
    uint32_t hi;
};

struct imap_seqset {
    const struct imap_range *ranges;
    size_t                   n; /* 0: no set */
};

/* True when n is in set, where "*" stands for star (the highest message
 * sequence number or UID in the mailbox; RFC 3501 9 seq-range). */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n, uint32_t star);

/* date = "d-Mon-yyyy" (RFC 3501 9 date). */
struct imap_date {
    int day;   /* 1..31 */
    int month; /* 1..12 */
    int year;  /* four digits */
};

/* date-time = "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 3501 9 date-time). */
struct imap_datetime {
    struct imap_date date;
    int hour, min, sec;
    int zone; /* offset east of UTC in minutes: "-0500" is -300 */
};

/* System flags as bits (RFC 3501 2.3.2). Keywords have no bit. */
enum imap_flag {
    IMAP_FLAG_SEEN     = 1 << 0,
    IMAP_FLAG_ANSWERED = 1 << 1,
    IMAP_FLAG_FLAGGED  = 1 << 2,
    IMAP_FLAG_DELETED  = 1 << 3,
    IMAP_FLAG_DRAFT    = 1 << 4,
    IMAP_FLAG_RECENT   = 1 << 5,
};

/* The bit of a system flag named s[0..n) ("\Seen", case-insensitive), or 0
 * for a keyword or an unknown "\" flag. */
unsigned imap_flag_bit(const char *s, size_t n);

/* The name of one flag bit ("\Seen"), or NULL when bit is not exactly one
 * enum imap_flag value. */
const char *imap_flag_name(unsigned bit);

/* STATUS data items (RFC 3501 6.3.10), as bits of a mask and as indexes of
 * a values array. */
enum imap_status_item {
    IMAP_STATUS_MESSAGES,
    IMAP_STATUS_RECENT,
    IMAP_STATUS_UIDNEXT,
    IMAP_STATUS_UIDVALIDITY,
    IMAP_STATUS_UNSEEN,
    IMAP_STATUS_COUNT
};
extern const char *const imap_status_item_names[IMAP_STATUS_COUNT];
#define IMAP_STATUS_BIT(item) (1u << (item))

/* Section specification of BODY[...] (RFC 3501 6.4.5, 9 section). */
enum imap_section_text {
    IMAP_SECTION_NONE,              /* BODY[] or BODY[1.2]: the whole part */
    IMAP_SECTION_HEADER,
    IMAP_SECTION_HEADER_FIELDS,
    IMAP_SECTION_HEADER_FIELDS_NOT,
    IMAP_SECTION_TEXT,
    IMAP_SECTION_MIME,              /* only after a part number */
    IMAP_SECTION_COUNT
};
extern const char *const imap_section_text_names[IMAP_SECTION_COUNT];

struct imap_section {
    uint32_t               part[IMAP_MAX_PART_DEPTH]; /* 1.2.3 -> {1,2,3} */
    size_t                 nparts;
    enum imap_section_text text;
    const struct imap_str *fields; /* HEADER.FIELDS[.NOT] names */
    size_t                 nfields;
};

/* FETCH items (RFC 3501 6.4.5) and FETCH response data items (7.4.2). */
enum imap_fetch_item {
    IMAP_FETCH_ALL,          /* macros: only alone, never in a list */
    IMAP_FETCH_FAST,
    IMAP_FETCH_FULL,
    IMAP_FETCH_ENVELOPE,
    IMAP_FETCH_FLAGS,
    IMAP_FETCH_INTERNALDATE,
    IMAP_FETCH_RFC822,
    IMAP_FETCH_RFC822_HEADER,
    IMAP_FETCH_RFC822_SIZE,
    IMAP_FETCH_RFC822_TEXT,
    IMAP_FETCH_BODY,          /* BODY without a section: the structure */
    IMAP_FETCH_BODYSTRUCTURE,
    IMAP_FETCH_UID,
    IMAP_FETCH_BODY_SECTION,  /* BODY[section]<partial>, BODY.PEEK[...] */
    IMAP_FETCH_MODSEQ,        /* RFC 7162 3.1.4.1; a response's is "MODSEQ (n)" */
    IMAP_FETCH_COUNT
};
extern const char *const imap_fetch_item_names[IMAP_FETCH_COUNT];

struct imap_fetch_att {
    enum imap_fetch_item item;
    bool                 peek;     /* BODY.PEEK[...] */
    struct imap_section  section;  /* BODY_SECTION */
    bool                 partial;  /* <origin.count> given */
    uint32_t             origin;
    uint32_t             count;    /* nz-number: <0.0> is BAD */
};

/* ---- SEARCH keys (RFC 3501 6.4.4) -------------------------------------- */

enum imap_search_op {
    IMAP_SK_AND, /* children, all must match: the top level, and "( ... )" */
    IMAP_SK_SEQSET,
    IMAP_SK_ALL,
    IMAP_SK_ANSWERED,
    IMAP_SK_BCC,
    IMAP_SK_BEFORE,
    IMAP_SK_BODY,
    IMAP_SK_CC,
    IMAP_SK_DELETED,
    IMAP_SK_DRAFT,
    IMAP_SK_FLAGGED,
    IMAP_SK_FROM,
    IMAP_SK_HEADER,
    IMAP_SK_KEYWORD,
    IMAP_SK_LARGER,
    IMAP_SK_NEW,
    IMAP_SK_NOT,
    IMAP_SK_OLD,
    IMAP_SK_ON,
    IMAP_SK_OR,
    IMAP_SK_RECENT,
    IMAP_SK_SEEN,
    IMAP_SK_SENTBEFORE,
    IMAP_SK_SENTON,
    IMAP_SK_SENTSINCE,
    IMAP_SK_SINCE,
    IMAP_SK_SMALLER,
    IMAP_SK_SUBJECT,
    IMAP_SK_TEXT,
    IMAP_SK_TO,
    IMAP_SK_UID,
    IMAP_SK_UNANSWERED,
    IMAP_SK_UNDELETED,
    IMAP_SK_UNDRAFT,
    IMAP_SK_UNFLAGGED,
    IMAP_SK_UNKEYWORD,
    IMAP_SK_UNSEEN,
    IMAP_SK_COUNT
};
/* "ALL", "ANSWERED", ...; "(" for AND and "" for SEQSET. */
extern const char *const imap_search_op_names[IMAP_SK_COUNT];

/* One node of a search tree, kept in an array; links are indexes into that
 * array, -1 for none. Node 0 is always the root: an AND of the top-level
 * keys (written without parentheses); nested ANDs are "( ... )" groups. */
struct imap_search_key {
    enum imap_search_op op;
    struct imap_str     str;   /* BCC BODY CC FROM SUBJECT TEXT TO: the string;
                                  KEYWORD UNKEYWORD: the flag; HEADER: field */
    struct imap_str     str2;  /* HEADER: the value */
    struct imap_date    date;  /* BEFORE ON SINCE SENTBEFORE SENTON SENTSINCE */
    uint32_t            number;/* LARGER SMALLER */
    struct imap_seqset  set;   /* SEQSET, UID */
    int                 first_child;  /* AND: any number; NOT: 1; OR: 2 */
    int                 next_sibling;
};

/* ---- commands (RFC 3501 6) --------------------------------------------- */

enum imap_cmd {
    IMAP_CMD_CAPABILITY,
    IMAP_CMD_NOOP,
    IMAP_CMD_LOGOUT,
    IMAP_CMD_STARTTLS,
    IMAP_CMD_LOGIN,
    IMAP_CMD_AUTHENTICATE,
    IMAP_CMD_SELECT,
    IMAP_CMD_EXAMINE,
    IMAP_CMD_CREATE,
    IMAP_CMD_DELETE,
    IMAP_CMD_RENAME,
    IMAP_CMD_SUBSCRIBE,
    IMAP_CMD_UNSUBSCRIBE,
    IMAP_CMD_LIST,
    IMAP_CMD_LSUB,
    IMAP_CMD_STATUS,
    IMAP_CMD_APPEND,
    IMAP_CMD_CHECK,
    IMAP_CMD_CLOSE,
    IMAP_CMD_EXPUNGE,
    IMAP_CMD_SEARCH,
    IMAP_CMD_FETCH,
    IMAP_CMD_STORE,
    IMAP_CMD_COPY,
    IMAP_CMD_IDLE,
    IMAP_CMD_COUNT
};
/* "CAPABILITY", "NOOP", ... in enum order. */
extern const char *const imap_cmd_names[IMAP_CMD_COUNT];

enum imap_store_op {
    IMAP_STORE_SET,    /* FLAGS */
    IMAP_STORE_ADD,    /* +FLAGS */
    IMAP_STORE_REMOVE, /* -FLAGS */
    IMAP_STORE_COUNT
};
extern const char *const imap_store_op_names[IMAP_STORE_COUNT];

/* Every way a command, a response or an input line can be wrong. The
 * command parser pairs each with the reply the server sends (see
 * imap_cmd_error_reply); the response reader returns them as they are. */
enum imap_err {
    IMAP_ERR_NONE,
    IMAP_ERR_NOMEM,          /* storage could not grow: sticky until reset */
    IMAP_ERR_TOO_LONG,       /* non-literal text over IMAP_MAX_TEXT */
    IMAP_ERR_LITERAL_TOO_BIG,/* literal over the limit: NO [TOOBIG], no "+" */
    IMAP_ERR_TOO_MANY,       /* a list, set, tree or literal count limit */
    IMAP_ERR_TOO_DEEP,       /* lists nested past IMAP_MAX_DEPTH */
    IMAP_ERR_TAG,            /* missing or invalid tag */
    IMAP_ERR_UNKNOWN_COMMAND,
    IMAP_ERR_UID_COMMAND,    /* UID before a command other than FETCH STORE SEARCH COPY EXPUNGE */
    IMAP_ERR_SYNTAX,         /* missing or extra argument, bad separator */
    IMAP_ERR_BAD_CHAR,       /* a character not allowed where it stands */
    IMAP_ERR_QUOTED,         /* unterminated quoted string, bad escape, 8-bit */
    IMAP_ERR_LITERAL,        /* bad "{n}", or the octets after it do not fit */
    IMAP_ERR_PAREN,          /* unbalanced parentheses */
    IMAP_ERR_NUMBER,         /* not a number, or over 32 bits */
    IMAP_ERR_SEQSET,         /* 0, "1:", "," ... */
    IMAP_ERR_DATE,
    IMAP_ERR_FLAG,           /* not a flag, or \Recent where it cannot be set */
    IMAP_ERR_FETCH_ATT,      /* unknown FETCH item */
    IMAP_ERR_SECTION,        /* bad BODY[...] section */
    IMAP_ERR_PARTIAL,        /* bad <origin.count> */
    IMAP_ERR_SEARCH_KEY,     /* unknown SEARCH key */
    IMAP_ERR_STATUS_ITEM,    /* unknown STATUS item */
    IMAP_ERR_STORE_OP,       /* not FLAGS/+FLAGS/-FLAGS[.SILENT] */
    IMAP_ERR_BAD_DONE,       /* IDLE: a line other than DONE (RFC 2177 3) */
    IMAP_ERR_RESPONSE,       /* response reader: unknown or malformed response */
    IMAP_ERR_RESP_CODE,      /* response reader: malformed [code] */
    IMAP_ERR_BASE64,         /* AUTHENTICATE: not base64 (RFC 3501 6.2.2) */
    IMAP_ERR_MODIFIER,       /* an unknown SELECT parameter or FETCH modifier
                                (RFC 7162 3.1.8, 3.1.4.1; RFC 4466 2) */
    IMAP_ERR_COUNT
};

/* A short description of err ("invalid sequence set"); never NULL. */
const char *imap_strerror(enum imap_err err);

struct imap_command {
    char          tag[IMAP_MAX_TAG + 1]; /* NUL-terminated; "*" when an
                                            error came before a valid tag */
    enum imap_cmd cmd;
    bool          uid;   /* "UID FETCH" etc.: FETCH STORE SEARCH COPY EXPUNGE */
    enum imap_err error; /* set with IMAP_CMD_ERROR, else IMAP_ERR_NONE */

    /* SELECT EXAMINE: "(CONDSTORE)" after the name (RFC 7162 3.1.8): the
     * client enables CONDSTORE and wants [HIGHESTMODSEQ n] back. */
    bool condstore;
    /* FETCH: "(CHANGEDSINCE n)" after the items (RFC 7162 3.1.4.1): only
     * messages whose mod-sequence is above n, MODSEQ implied. n may be 0
     * (mod-sequence-valzer). */
    bool     has_changedsince;
    uint64_t changedsince;

    /* SELECT EXAMINE CREATE DELETE SUBSCRIBE UNSUBSCRIBE STATUS APPEND
     * COPY: the mailbox; RENAME: the existing name; LIST LSUB: the
     * reference. "INBOX" in any case reads as "INBOX" (RFC 3501 5.1);
     * other names pass through as sent (modified UTF-7, RFC 3501 5.1.3). */
    struct imap_str mailbox;
    /* RENAME: the new name; LIST LSUB: the pattern (may hold % and *). */
    struct imap_str mailbox2;

    struct imap_str user, password; /* LOGIN */

    /* AUTHENTICATE: the mechanism as sent ("PLAIN"), and an initial
     * response (RFC 4959 SASL-IR) when has_initial, base64 as sent; "="
     * stands for an empty response (RFC 4959 3). */
    struct imap_str mechanism;
    bool            has_initial;
    struct imap_str initial;

    unsigned status_items; /* STATUS: IMAP_STATUS_BIT() mask, never 0 */

    /* APPEND: flags (has_flags when a list, maybe empty, was given), the
     * date-time when has_date, and the message octets (the literal). */
    bool                   has_flags;
    const struct imap_str *flags; /* also STORE's flags */
    size_t                 nflags;
    bool                   has_date;
    struct imap_datetime   date;
    struct imap_str        message;

    /* SEARCH: CHARSET when has_charset; the key tree, node 0 the root. */
    bool                          has_charset;
    struct imap_str               charset;
    const struct imap_search_key *keys;
    size_t                        nkeys;

    /* FETCH STORE COPY, UID EXPUNGE: the sequence set (UIDs under UID). */
    struct imap_seqset set;

    /* FETCH: the items; a macro (ALL FAST FULL) is one item alone. */
    const struct imap_fetch_att *items;
    size_t                       nitems;

    /* STORE: the operation and .SILENT; the flags are flags/nflags. */
    enum imap_store_op store_op;
    bool               silent;

    /* AUTHENTICATE continuation (IMAP_CMD_SASL): the client's line,
     * base64 as sent, or cancelled when it was "*" (RFC 3501 6.2.2). */
    struct imap_str sasl_line;
    bool            sasl_cancelled;
};

/* ---- command parser (server side) -------------------------------------- */

struct imap_cmd_parser; /* opaque */

/* What the parser expects next. The session switches it: after answering
 * "+ idling" to IDLE, to IMAP_EXPECT_DONE (RFC 2177 3); after sending "+ "
 * for AUTHENTICATE, to IMAP_EXPECT_SASL (RFC 3501 6.2.2); the parser goes
 * back to IMAP_EXPECT_COMMAND by itself after DONE or a SASL line. */
enum imap_expect {
    IMAP_EXPECT_COMMAND,
    IMAP_EXPECT_DONE,
    IMAP_EXPECT_SASL,
    IMAP_EXPECT_COUNT
};
extern const char *const imap_expect_names[IMAP_EXPECT_COUNT];

enum imap_cmd_ev {
    IMAP_CMD_NEED_MORE = 0, /* feed more bytes */
    IMAP_CMD_COMMAND,       /* *cmd holds a complete command */
    IMAP_CMD_CONTINUE,      /* a synchronising literal was announced and is
                               acceptable: send "+ Ready for literal data\r\n"
                               (IMAP_CONTINUE_LITERAL) now, then feed on
                               (RFC 3501 7.5). Nothing in *cmd is set. */
    IMAP_CMD_DONE,          /* in IMAP_EXPECT_DONE: the client sent DONE;
                               cmd->tag is the IDLE command's tag */
    IMAP_CMD_SASL,          /* in IMAP_EXPECT_SASL: cmd->sasl_line and
                               cmd->sasl_cancelled are set; cmd->tag is
                               the AUTHENTICATE command's tag */
    IMAP_CMD_ERROR,         /* cmd->error and cmd->tag are set; send the
                               line imap_cmd_error_reply() writes, and go on:
                               the parser has resynchronised (RFC 3501 7.1.5) */
    IMAP_CMD_EV_COUNT
};
extern const char *const imap_cmd_ev_names[IMAP_CMD_EV_COUNT];

#define IMAP_CONTINUE_LITERAL "+ Ready for literal data\r\n"

/* A new parser accepting literals up to max_literal octets each, and up to
 * max_literal in total per command (0: IMAP_DEFAULT_MAX_LITERAL). About
 * 160 KiB of fixed storage, and a command buffer that grows on demand up
 * to IMAP_MAX_TEXT + max_literal. Returns NULL when out of memory. */
struct imap_cmd_parser *imap_cmd_parser_new(size_t max_literal);

/* Frees p and everything it lent out. p may be NULL. */
void imap_cmd_parser_free(struct imap_cmd_parser *p);

/* Forgets all input and errors (e.g. after STARTTLS); expects a command. */
void imap_cmd_parser_reset(struct imap_cmd_parser *p);

/* Switches what the next line must be (see enum imap_expect). */
void imap_cmd_parser_expect(struct imap_cmd_parser *p, enum imap_expect what);

/* Copies what fits of in[0..n) and returns how many bytes it took; 0 means
 * call imap_cmd_parser_next() until IMAP_CMD_NEED_MORE, then feed the rest. */
size_t imap_cmd_parser_feed(struct imap_cmd_parser *p, const char *in, size_t n);

/* Octets fed but not yet handed out in an event. After answering STARTTLS
 * a server checks that this is 0 and resets the parser: bytes a client
 * sent before the TLS handshake must not be read as if protected (the
 * STARTTLS command injection of CVE-2011-0411; RFC 3501 6.2.1). */
size_t imap_cmd_parser_pending(const struct imap_cmd_parser *p);

/* Returns the next event (see enum imap_cmd_ev) and fills *cmd for
 * IMAP_CMD_COMMAND, IMAP_CMD_SASL and IMAP_CMD_ERROR. Everything *cmd
 * points to is borrowed from p until the next call on p. After
 * IMAP_ERR_NOMEM every call returns that error again until reset. Syntax
 * errors are not sticky: the bad command is skipped, including a literal
 * the client sends anyway (non-synchronising {n+}, RFC 7888), and the next
 * call reads the next command. */
enum imap_cmd_ev imap_cmd_parser_next(struct imap_cmd_parser *p, struct imap_command *cmd);

/* Writes the line the server answers an IMAP_CMD_ERROR with, CRLF
 * included: "<tag> BAD <text>\r\n" (tag "*" when none was read), or
 * "<tag> NO [TOOBIG] ...\r\n" for IMAP_ERR_LITERAL_TOO_BIG, or
 * "* BYE ...\r\n" for IMAP_ERR_NOMEM (then close). For IMAP_ERR_BAD_DONE
 * and IMAP_ERR_BASE64 the tag is the IDLE or AUTHENTICATE command's, so the
 * reply completes that command. Returns its
 * length, or 0 when cap is too small (nothing usable written). */
size_t imap_cmd_error_reply(const struct imap_command *cmd, char *buf, size_t cap);

/* ---- output: the shared writer ----------------------------------------- */

/* A caller's buffer being written. Appending past cap sets overflow and
 * writes nothing more; check overflow once at the end. */
struct imap_out {
    char  *buf;
    size_t cap;
    size_t len;
    bool   overflow;
    bool   invalid;  /* a value cannot be written legally (a NUL octet in
                        a string, an out-of-range date): output unusable */
};

void imap_out_init(struct imap_out *o, char *buf, size_t cap);
void imap_out_raw(struct imap_out *o, const char *s, size_t n);
void imap_out_cstr(struct imap_out *o, const char *s);
void imap_out_number(struct imap_out *o, uint64_t n);
/* A string as quoted or literal: literal when it holds CR, LF, '"', '\',
 * an 8-bit octet, or is longer than IMAP_MAX_QUOTED; quoted otherwise
 * (RFC 3501 4.3). Literals are written "{n}\r\n" + octets, synchronising. */
void imap_out_string(struct imap_out *o, const char *s, size_t n);
/* NIL when s->nil (or s->ptr NULL), else imap_out_string (RFC 3501 4.5). */
void imap_out_nstring(struct imap_out *o, const struct imap_str *s);
/* An atom when every octet is an ATOM-CHAR and n > 0 (and it is not "NIL"),
 * else imap_out_string (RFC 3501 9 astring). */
void imap_out_astring(struct imap_out *o, const char *s, size_t n);
/* "1:*,4" etc. An empty set or a 0 marks the output invalid. */
void imap_out_seqset(struct imap_out *o, const struct imap_seqset *set);
/* "(a b c)": flags or atoms written as they are (they must be atoms or
 * "\"-flags). */
void imap_out_atom_list(struct imap_out *o, const struct imap_str *a, size_t n);
/* "d-Mon-yyyy" unquoted, as SEARCH writes it. */
void imap_out_date(struct imap_out *o, const struct imap_date *d);
/* "\"dd-Mon-yyyy hh:mm:ss +zzzz\"" quoted, as APPEND and INTERNALDATE
 * write it. */
void imap_out_datetime(struct imap_out *o, const struct imap_datetime *dt);
/* The section and its brackets: "[1.2.HEADER.FIELDS (From To)]". */
void imap_out_section(struct imap_out *o, const struct imap_section *s);

/* ---- generic values (ENVELOPE, BODYSTRUCTURE as read by a client) ------ */

enum imap_value_type {
    IMAP_V_NIL,
    IMAP_V_NUMBER,
    IMAP_V_ATOM,
    IMAP_V_STRING, /* quoted or literal */
    IMAP_V_LIST,
    IMAP_V_COUNT
};
extern const char *const imap_value_type_names[IMAP_V_COUNT];

/* A node of a tree kept in an array; links are indexes, -1 for none. */
struct imap_value {
    enum imap_value_type type;
    struct imap_str      str;    /* ATOM, STRING (NIL: str.nil) */
    uint64_t             number; /* NUMBER */
    int                  first_child;  /* LIST */
    int                  next_sibling;
    bool                 no_space; /* follows its previous sibling without
                                      SP (RFC 3501 9: "1*address" in an
                                      envelope, "1*body" in a multipart) */
};

/* The index of the n-th (from 0) element of the list values[list], or -1
 * when there is none or values[list] is not a list. */
int imap_value_nth(const struct imap_value *values, int list, size_t n);

/* Writes the tree rooted at values[root] (a list with its parentheses). */
void imap_out_value(struct imap_out *o, const struct imap_value *values, int root);

/* ---- ENVELOPE and BODYSTRUCTURE from plain structs (server side) ------- */

/* RFC 3501 7.4.2 address: (name adl mailbox host); a NIL field has
 * ptr NULL. Group syntax (RFC 2822) is written with the caller's NILs. */
struct imap_address {
    struct imap_str name, adl, mailbox, host;
};

struct imap_envelope {
    struct imap_str            date, subject;
    const struct imap_address *from, *sender, *reply_to, *to, *cc, *bcc;
    size_t                     nfrom, nsender, nreply_to, nto, ncc, nbcc;
    struct imap_str            in_reply_to, message_id;
};

/* One body part (RFC 3501 7.4.2 BODYSTRUCTURE). A multipart has nparts
 * > 0 and only subtype, params and the extension fields are used. */
struct imap_body {
    struct imap_str         type, subtype;   /* "TEXT", "PLAIN" */
    const struct imap_str  *params;          /* name, value, name, value ... */
    size_t                  nparams;         /* strings, an even count */
    struct imap_str         id, description, encoding; /* encoding "7BIT" */
    uint32_t                size;            /* octets of the body */
    uint32_t                lines;           /* TEXT parts, MESSAGE/RFC822 */
    const struct imap_envelope *envelope;    /* MESSAGE/RFC822 */
    const struct imap_body     *inner;       /* MESSAGE/RFC822 */
    const struct imap_body     *parts;       /* MULTIPART */
    size_t                      nparts;
    /* extension data, written only for BODYSTRUCTURE: */
    struct imap_str         md5;
    struct imap_str         disposition;     /* "attachment", or nil */
    const struct imap_str  *disp_params;
    size_t                  ndisp_params;
    struct imap_str         language;
};

/* ENVELOPE's parenthesised list (RFC 3501 7.4.2). */
void imap_out_envelope(struct imap_out *o, const struct imap_envelope *e);
/* BODY (extension false) or BODYSTRUCTURE (extension true) list. */
void imap_out_body(struct imap_out *o, const struct imap_body *b, bool extension);

/* ---- command formatter (client side) ----------------------------------- */

/* Writes c as the client sends it, CRLF included, into buf. Strings go out
 * as atoms (ASTRING-CHARs, so "]" too), quoted strings or literals (the
 * imap_out_string choice); a
 * literal is synchronising unless literal_plus ({n+}, RFC 7888, only when
 * the server announced LITERAL+). When splits is not NULL it receives the
 * offsets just past each synchronising "{n}\r\n": send buf[0..splits[0]),
 * wait for "+", send up to splits[1], and so on (RFC 3501 7.5); *nsplits
 * gets their count (at most max_splits, else the call fails). Returns the
 * length, or 0 when the command cannot be written (does not fit, invalid
 * field values). For IMAP_CMD_SASL lines use imap_cmd_format_sasl. */
size_t imap_cmd_format(const struct imap_command *c, bool literal_plus, char *buf,
                       size_t cap, size_t *splits, size_t max_splits, size_t *nsplits);

/* Writes a client's AUTHENTICATE continuation line: the base64 text of
 * line and CRLF, or "*\r\n" when cancel (RFC 3501 6.2.2). Returns the
 * length, or 0 when it does not fit or line holds CR or LF. */
size_t imap_cmd_format_sasl(const struct imap_str *line, bool cancel, char *buf, size_t cap);

/* The line that ends IDLE (RFC 2177 3). */
#define IMAP_DONE_LINE "DONE\r\n"

/* ---- responses (RFC 3501 7) -------------------------------------------- */

enum imap_resp_kind {
    IMAP_RESP_TAGGED,      /* tag OK/NO/BAD [code] text */
    IMAP_RESP_STATE,       /* * OK/NO/BAD/PREAUTH/BYE [code] text */
    IMAP_RESP_CONTINUE,    /* + text (or base64 for AUTHENTICATE) */
    IMAP_RESP_CAPABILITY,  /* * CAPABILITY atoms */
    IMAP_RESP_FLAGS,       /* * FLAGS (flags) */
    IMAP_RESP_LIST,        /* * LIST (attrs) delim name */
    IMAP_RESP_LSUB,        /* * LSUB (attrs) delim name */
    IMAP_RESP_SEARCH,      /* * SEARCH n n n */
    IMAP_RESP_STATUS,      /* * STATUS mailbox (item n ...) */
    IMAP_RESP_EXISTS,      /* * n EXISTS */
    IMAP_RESP_RECENT,      /* * n RECENT */
    IMAP_RESP_EXPUNGE,     /* * n EXPUNGE */
    IMAP_RESP_FETCH,       /* * n FETCH (atts) */
    IMAP_RESP_KIND_COUNT
};
extern const char *const imap_resp_kind_names[IMAP_RESP_KIND_COUNT];

enum imap_status {
    IMAP_OK,
    IMAP_NO,
    IMAP_BAD,
    IMAP_PREAUTH, /* untagged only */
    IMAP_BYE,     /* untagged only */
    IMAP_STATUS_KIND_COUNT
};
extern const char *const imap_status_names[IMAP_STATUS_KIND_COUNT];

/* Response codes (RFC 3501 7.1, RFC 4315 3, RFC 4469 5, RFC 7162 3.1.2). */
enum imap_code {
    IMAP_CODE_NONE,          /* no [code] */
    IMAP_CODE_ALERT,
    IMAP_CODE_BADCHARSET,    /* atoms: the charsets, maybe none */
    IMAP_CODE_CAPABILITY,    /* atoms */
    IMAP_CODE_PARSE,
    IMAP_CODE_PERMANENTFLAGS,/* atoms: the flags, "\*" included */
    IMAP_CODE_READ_ONLY,
    IMAP_CODE_READ_WRITE,
    IMAP_CODE_TRYCREATE,
    IMAP_CODE_UIDNEXT,       /* n1 */
    IMAP_CODE_UIDVALIDITY,   /* n1 */
    IMAP_CODE_UNSEEN,        /* n1 */
    IMAP_CODE_APPENDUID,     /* n1 uidvalidity, n2 uid */
    IMAP_CODE_COPYUID,       /* n1 uidvalidity, set1 source, set2 dest */
    IMAP_CODE_UIDNOTSTICKY,
    IMAP_CODE_TOOBIG,
    IMAP_CODE_HIGHESTMODSEQ, /* modseq (RFC 7162 3.1.2.1) */
    IMAP_CODE_NOMODSEQ,      /* the mailbox keeps no mod-sequences (3.1.2.2) */
    IMAP_CODE_OTHER,         /* any other atom: name, and arg if any */
    IMAP_CODE_COUNT
};
/* "ALERT", "READ-ONLY", ... ("" for NONE and OTHER). */
extern const char *const imap_code_names[IMAP_CODE_COUNT];

struct imap_resp_code {
    enum imap_code         code;
    uint32_t               n1, n2;
    uint64_t               modseq;  /* HIGHESTMODSEQ: nz, at most IMAP_MODSEQ_MAX */
    struct imap_seqset     set1, set2;
    const struct imap_str *atoms;
    size_t                 natoms;
    struct imap_str        name, arg; /* OTHER: the atom, the rest (maybe empty) */
};

/* One FETCH response item (RFC 3501 7.4.2). */
struct imap_msg_att {
    enum imap_fetch_item   item;    /* FLAGS UID INTERNALDATE RFC822_SIZE
                                       ENVELOPE BODY BODYSTRUCTURE
                                       BODY_SECTION RFC822 RFC822_HEADER
                                       RFC822_TEXT */
    const struct imap_str *flags;   /* FLAGS */
    size_t                 nflags;
    uint32_t               number;  /* UID, RFC822.SIZE */
    uint64_t               modseq;  /* MODSEQ: "MODSEQ (n)", n nonzero */
    struct imap_datetime   date;    /* INTERNALDATE */
    struct imap_section    section; /* BODY_SECTION */
    bool                   has_origin; /* BODY[...]<origin> */
    uint32_t               origin;
    struct imap_str        data;    /* BODY_SECTION RFC822 RFC822.HEADER
                                       RFC822.TEXT: nstring */
    /* ENVELOPE BODY BODYSTRUCTURE: read as a value tree, index into the
     * response's values. When formatting, envelope / body win if set. */
    int                         value;
    const struct imap_envelope *envelope;
    const struct imap_body     *body;
};

struct imap_response {
    enum imap_resp_kind   kind;
    char                  tag[IMAP_MAX_TAG + 1]; /* TAGGED */
    enum imap_status      status;  /* TAGGED, STATE */
    struct imap_resp_code code;    /* TAGGED, STATE */
    struct imap_str       text;    /* TAGGED, STATE, CONTINUE (may be empty) */
    uint32_t              number;  /* EXISTS RECENT EXPUNGE FETCH */
    /* CAPABILITY: the capabilities; FLAGS: the flags; LIST LSUB: the
     * attributes ("\Noselect"). */
    const struct imap_str *atoms;
    size_t                 natoms;
    int                    delimiter; /* LIST LSUB: the character, -1 NIL */
    struct imap_str        mailbox;   /* LIST LSUB STATUS ("INBOX" normalised) */
    const uint32_t        *numbers;   /* SEARCH */
    size_t                 nnumbers;
    unsigned               status_items;  /* STATUS: IMAP_STATUS_BIT mask */
    uint32_t               status_values[IMAP_STATUS_COUNT];
    const struct imap_msg_att *atts;  /* FETCH */
    size_t                     natts;
    const struct imap_value   *values; /* the trees atts[i].value index */
    size_t                     nvalues;
    enum imap_err              error;  /* set with IMAP_RD_ERROR */
};

/* Writes one whole response, CRLF included (and any literal in it), into
 * buf. Returns the length, or 0 when it does not fit or a field cannot be
 * written legally. */
size_t imap_resp_format(const struct imap_response *r, char *buf, size_t cap);

/* The same into a writer, for callers composing several responses. */
void imap_out_response(struct imap_out *o, const struct imap_response *r);

/* ---- response reader (client side) ------------------------------------- */

struct imap_resp_reader; /* opaque */

enum imap_rd_ev {
    IMAP_RD_NEED_MORE = 0, /* feed more bytes */
    IMAP_RD_RESPONSE,      /* *r holds one response */
    IMAP_RD_ERROR,         /* r->error says what; the bad response (up to
                              its end, literals included) was skipped and
                              reading goes on, except after IMAP_ERR_NOMEM,
                              which is sticky until reset */
    IMAP_RD_EV_COUNT
};
extern const char *const imap_rd_ev_names[IMAP_RD_EV_COUNT];

/* A new reader accepting literals up to max_literal octets each and in
 * total per response (0: IMAP_DEFAULT_MAX_LITERAL). About 300 KiB of fixed
 * storage (mostly the value-tree and SEARCH pools) and a response buffer
 * that grows up to IMAP_MAX_TEXT + max_literal. NULL when out of memory. */
struct imap_resp_reader *imap_resp_reader_new(size_t max_literal);
void imap_resp_reader_free(struct imap_resp_reader *r);
void imap_resp_reader_reset(struct imap_resp_reader *r);

/* Copies what fits of in[0..n) and returns how many bytes it took; 0 means
 * call imap_resp_reader_next() until IMAP_RD_NEED_MORE, then feed the rest.
 * Literals may be split across any number of feeds. */
size_t imap_resp_reader_feed(struct imap_resp_reader *r, const char *in, size_t n);

/* Octets fed but not yet handed out (see imap_cmd_parser_pending). */
size_t imap_resp_reader_pending(const struct imap_resp_reader *r);

/* Returns the next event and fills *resp for IMAP_RD_RESPONSE (and
 * resp->error for IMAP_RD_ERROR). Pointers in *resp are borrowed until the
 * next call on r. */
enum imap_rd_ev imap_resp_reader_next(struct imap_resp_reader *r, struct imap_response *resp);

#endif
