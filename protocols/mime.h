/* MIME structure (RFC 2045, RFC 2046) as IMAP's BODYSTRUCTURE and
 * BODY[section] need it (RFC 3501 6.4.5, 7.4.2): the Content-* fields of
 * every part, where each part's header and body lie in the message, body
 * sizes and line counts, and IMAP section numbers.
 *
 * mime_parse() takes a complete message buffer and never reads outside it.
 * A malformed structure is not an error that stops the walk: a multipart
 * without a usable boundary is taken as text/plain (RFC 2045 5.2), a missing
 * close delimiter ends the last part at the end of its parent, a composite
 * part past MIME_MAX_DEPTH becomes an application/octet-stream leaf, parts
 * past MIME_MAX_PARTS are not listed, a message/rfc822 part in base64 or
 * quoted-printable (forbidden by RFC 2046 5.2.1) stays a leaf, and a part
 * whose header does not parse keeps the fields before the bad line and ends
 * its header at the first empty line; the tree is always complete and usable,
 * and the return value names the first problem met so a lesson can show it.
 *
 * One return contract for every function returning enum mime_err: MIME_OK,
 * or a MIME_ERR_* value; mime_strerror() names it. */
#ifndef MAILSIM_PROTOCOLS_MIME_H
#define MAILSIM_PROTOCOLS_MIME_H

#include <stdbool.h>
#include <stddef.h>

#define MIME_MAX_DEPTH       8   /* our bound on nesting (multipart in multipart, message/rfc822 in ...) */
#define MIME_MAX_PARTS       64  /* our bound on entities in one message, the top level included */
#define MIME_MAX_PARAMS      8   /* our bound on parameters kept per Content-Type / Content-Disposition */
#define MIME_MAX_TOKEN       128 /* RFC 6838 4.2: type and subtype names are at most 127 chars; +1 NUL */
#define MIME_MAX_PARAM_NAME  64  /* our bound on a parameter name, NUL included */
#define MIME_MAX_PARAM_VALUE 256 /* our bound on an unquoted parameter value, NUL included */
#define MIME_MAX_BOUNDARY    70  /* RFC 2046 5.1.1: a boundary is 1 to 70 characters */
#define MIME_MAX_FIELD       256 /* our bound on Content-ID / -Description / -Language kept, NUL included */
#define MIME_MAX_SECTION     32  /* "1.2.3.4.5.6.7.8" at MIME_MAX_DEPTH with 2-digit numbers fits */

enum mime_err {
    MIME_OK = 0,
    MIME_ERR_SYNTAX,          /* a Content-* value that does not parse (RFC 2045 5.1) */
    MIME_ERR_TOO_MANY_PARAMS, /* more than MIME_MAX_PARAMS parameters */
    MIME_ERR_TOO_LONG,        /* a token or value over its fixed array */
    MIME_ERR_UNTERMINATED_QUOTE, /* a quoted parameter value with no closing DQUOTE */
    MIME_ERR_NO_BOUNDARY,     /* multipart/... without a valid boundary parameter: taken as text/plain */
    MIME_ERR_NO_CLOSE,        /* no close delimiter "--boundary--": the last part runs to the parent's end */
    MIME_ERR_NO_PARTS,        /* multipart/... with no boundary line in its body: taken as text/plain */
    MIME_ERR_TOO_DEEP,        /* nesting beyond MIME_MAX_DEPTH: the part is not split further */
    MIME_ERR_TOO_MANY_PARTS,  /* more than MIME_MAX_PARTS entities: the rest are not listed */
    MIME_ERR_HEADER,          /* a part's header section is malformed (see msg_parse_header) */
    MIME_ERR_COUNT
};

/* "MIME_ERR_NO_CLOSE"-style name of e; "?" for values out of range. */
const char *mime_strerror(enum mime_err e);

struct mime_param {
    char name[MIME_MAX_PARAM_NAME];   /* lower-cased (RFC 2045 5.1: attribute names are case-insensitive) */
    char value[MIME_MAX_PARAM_VALUE]; /* unquoted, quoted-pairs resolved, case kept */
};

/* Content-Type (RFC 2045 5) or Content-Disposition (RFC 2183). */
struct mime_ctype {
    char type[MIME_MAX_TOKEN];     /* lower-cased, "text"; for a disposition "inline"/"attachment" */
    char subtype[MIME_MAX_TOKEN];  /* lower-cased, "plain"; "" for a disposition */
    size_t n_params;
    struct mime_param params[MIME_MAX_PARAMS];
};

/* Parses a Content-Type value, "text/plain; charset=\"utf-8\"" (folded or
 * not, comments skipped). Returns MIME_OK, or MIME_ERR_SYNTAX,
 * _TOO_MANY_PARAMS, _TOO_LONG, _UNTERMINATED_QUOTE. On MIME_ERR_TOO_MANY_PARAMS
 * out holds the type and the first MIME_MAX_PARAMS parameters; on any other
 * error the defaults text/plain; charset=us-ascii (RFC 2045 5.2 asks for
 * them when the field is invalid). A trailing ';' is accepted. RFC 2231
 * parameter continuations and charsets are not decoded ("name*0" is kept
 * as a parameter of that name). */
enum mime_err mime_ctype_parse(const char *s, size_t n, struct mime_ctype *out);

/* Parses a Content-Disposition value, "attachment; filename=a.txt" (RFC
 * 2183). Returns as mime_ctype_parse; on an error other than
 * MIME_ERR_TOO_MANY_PARAMS out is empty (type ""). */
enum mime_err mime_disposition_parse(const char *s, size_t n, struct mime_ctype *out);

/* The value of parameter name (ASCII case ignored) or NULL; borrowed from ct. */
const char *mime_param_get(const struct mime_ctype *ct, const char *name);

enum mime_kind {
    MIME_KIND_SINGLE = 0,  /* a leaf: text/plain, image/png, ... */
    MIME_KIND_MULTIPART,   /* multipart/...: its children are its parts */
    MIME_KIND_MESSAGE,     /* message/rfc822: its one child is the encapsulated message */
    MIME_KIND_COUNT
};

/* "SINGLE", "MULTIPART", "MESSAGE"; "?" out of range. */
const char *mime_kind_name(enum mime_kind k);

/* One entity. Offsets are into the buffer given to mime_parse. */
struct mime_part {
    enum mime_kind kind;
    char section[MIME_MAX_SECTION]; /* IMAP section (RFC 3501 6.4.5): "" for a multipart top level,
                                       "1" for the body of a single-part message, "2.1", ... An
                                       encapsulated message has its message/rfc822 part's number when
                                       multipart, that number + ".1" otherwise (3501's "4.2.1") */
    int parent;                     /* index of the enclosing entity, -1 for the top level */
    int first_child;                /* index or -1 */
    int next_sibling;               /* index or -1 */
    int n_children;
    int depth;                      /* 0 for the top level */
    size_t header_off, header_len;  /* its header section, the empty line included (0 bytes if none) */
    size_t body_off, body_len;      /* its body; for a part of a multipart, without the CRLF that
                                       belongs to the next delimiter (RFC 2046 5.1.1) */
    size_t body_lines;              /* lines in the body (a last line without CRLF counts); IMAP
                                       sends it for text/... and message/rfc822 */
    struct mime_ctype ctype;        /* as given; when absent or invalid the default text/plain;
                                       charset=us-ascii (RFC 2045 5.2), or message/rfc822 inside
                                       multipart/digest (RFC 2046 5.1.5). A given text/... without
                                       charset is left so: RFC 2046 4.1.2's us-ascii is implied */
    char encoding[MIME_MAX_TOKEN];  /* Content-Transfer-Encoding upper-cased, "7BIT" by default (2045 6.1) */
    char id[MIME_MAX_FIELD];        /* Content-ID unfolded, "" when absent */
    char description[MIME_MAX_FIELD]; /* Content-Description unfolded (RFC 2047 words left encoded), "" when absent */
    bool has_disposition;
    struct mime_ctype disposition;  /* Content-Disposition (RFC 2183), when has_disposition */
    char language[MIME_MAX_FIELD];  /* Content-Language unfolded (RFC 3282), "" when absent */
    enum mime_err problem;          /* MIME_OK, or what went wrong with this entity and its fallback */
};

/* How IMAP's BODY[section] maps onto entities (RFC 3501 6.4.5):
 *   BODY[HEADER], BODY[TEXT]      entity 0's header and body ranges
 *   BODY[n], BODY[n.MIME]         entity with section n: its body, its header
 *   BODY[n.HEADER], BODY[n.TEXT]  n is message/rfc822: its one child's header
 *                                 and body (the child is the encapsulated
 *                                 message; give its header range to
 *                                 msg_parse_header for the ENVELOPE) */
struct mime_tree; /* opaque: MIME_MAX_PARTS parts, about 430 KiB, so heap-allocated */

/* A new, empty tree, or NULL when memory is exhausted. */
struct mime_tree *mime_new(void);

/* Frees t; NULL is allowed. */
void mime_free(struct mime_tree *t);

/* Walks the message msg[0..len) into t (replacing what t held). Entity 0 is
 * the top-level message; entities are in depth-first order. Returns MIME_OK,
 * or the first MIME_ERR_* met; in every case t describes the whole message
 * with the fallbacks described at the top. t borrows nothing from msg. */
enum mime_err mime_parse(struct mime_tree *t, const char *msg, size_t len);

/* Number of entities in t (at least 1 after mime_parse). */
size_t mime_count(const struct mime_tree *t);

/* Entity i (i < mime_count), borrowed from t until the next mime_parse. */
const struct mime_part *mime_part(const struct mime_tree *t, size_t i);

/* Index of the entity whose section equals section (e.g. "2.1"), or -1. */
int mime_find_section(const struct mime_tree *t, const char *section);

#endif
