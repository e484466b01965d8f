/* DNS messages in RFC 1035 wire format, and MX selection (RFC 5321 5.1).
 *
 * DNS is message-based, so there is no x_feed/x_next pair for a message:
 * dns_decode() takes one whole message (one UDP datagram, or one frame taken
 * from the TCP reader below) and copies everything into a caller-owned
 * struct dns_msg; nothing in it points into the input, so the input may be
 * freed as soon as dns_decode() returns. dns_encode() writes a message into a
 * caller's buffer. The builders fill a struct dns_msg for a query or a
 * response. Only the TCP framing reader (RFC 1035 4.2.2) is stream-shaped and
 * uses the feed/next contract.
 *
 * Names are held in uncompressed wire form (struct dns_name) and converted to
 * and from the presentation form "mail.example.org." on demand.
 *
 * Every function that can fail returns 0 (DNS_OK) or a DNS_ERR_* value;
 * dns_strerror() names it. Nothing here aborts on a peer's bytes. */
#ifndef MAILSIM_PROTOCOLS_DNS_H
#define MAILSIM_PROTOCOLS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ------------------------------------------------------------ */

#define DNS_LABEL_MAX 63     /* RFC 1035 2.3.4: label octets */
#define DNS_NAME_MAX 255     /* RFC 1035 2.3.4: name octets on the wire, length bytes and root included */
#define DNS_NAME_TEXT_MAX 1024 /* presentation form: at most 254 wire octets, each as "\DDD" (4 chars), + NUL */
#define DNS_UDP_MAX 512      /* RFC 1035 2.3.4 / 4.2.1: UDP message without EDNS */
#define DNS_MSG_MAX 65535    /* RFC 1035 4.2.2: the TCP length field is 16 bits */
#define DNS_HEADER_LEN 12    /* RFC 1035 4.1.1 */
#define DNS_MAX_QUESTIONS 8  /* RFC 9619: QDCOUNT is one in practice; a few allowed for teaching */
#define DNS_MAX_RR 64        /* our bound on records per section (answer, authority, additional) */
#define DNS_RDATA_MAX 512    /* opaque and TXT RDATA kept up to one classic UDP message's size */
#define DNS_COMPRESS_MAX 128 /* name suffixes remembered while encoding; past it, names are written whole */

/* ---- errors -------------------------------------------------------------- */

enum dns_err {
    DNS_OK = 0,
    DNS_ERR_TRUNCATED_HEADER, /* fewer than 12 octets */
    DNS_ERR_TRUNCATED,        /* ends before a counted question or record, or inside its fixed fields (a count lies) */
    DNS_ERR_TRAILING,         /* octets left after the last counted record */
    DNS_ERR_MSG_TOO_LONG,     /* longer than the caller's maximum (512 for UDP) */
    DNS_ERR_TOO_MANY,         /* a section count above DNS_MAX_QUESTIONS / DNS_MAX_RR */
    DNS_ERR_NAME_TRUNCATED,   /* a name runs past the end (label, terminator or pointer cut off) */
    DNS_ERR_LABEL_TYPE,       /* label type bits 01 or 10 (RFC 1035 4.1.4 reserves them; RFC 6891 retired 01) */
    DNS_ERR_LABEL_TOO_LONG,   /* a label over 63 octets */
    DNS_ERR_NAME_TOO_LONG,    /* a name over 255 octets */
    DNS_ERR_PTR_RANGE,        /* a compression pointer past the end of the message */
    DNS_ERR_PTR_SELF,         /* a compression pointer to its own offset */
    DNS_ERR_PTR_FORWARD,      /* a compression pointer to a later offset */
    DNS_ERR_PTR_LOOP,         /* pointers that lead back to a name already being read */
    DNS_ERR_RDLENGTH,         /* RDLENGTH runs past the end of the message */
    DNS_ERR_RDATA_SIZE,       /* RDATA size wrong for its type (A not 4, MX under 3, ...) */
    DNS_ERR_RDATA_OVERRUN,    /* a name or field inside RDATA runs past RDLENGTH */
    DNS_ERR_TXT_OVERRUN,      /* a TXT character-string runs past RDLENGTH */
    DNS_ERR_RDATA_TOO_LONG,   /* opaque or TXT RDATA over DNS_RDATA_MAX */
    DNS_ERR_NAME_SYNTAX,      /* presentation form: empty label, bad escape */
    DNS_ERR_NO_SPACE,         /* the output buffer is too small */
    DNS_ERR_COUNT
};

/* Names an error: "pointer loop". Unknown values give "unknown error". */
const char *dns_strerror(int err);

/* ---- codes --------------------------------------------------------------- */

enum dns_type {
    DNS_TYPE_A = 1,
    DNS_TYPE_NS = 2,
    DNS_TYPE_CNAME = 5,
    DNS_TYPE_SOA = 6,
    DNS_TYPE_PTR = 12,
    DNS_TYPE_MX = 15,
    DNS_TYPE_TXT = 16,
    DNS_TYPE_AAAA = 28, /* RFC 3596 */
    DNS_TYPE_OPT = 41,  /* RFC 6891 EDNS; kept as an opaque record */
    DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1

/* RFC 1035 4.1.1 (RCODE) */
enum dns_rcode {
    DNS_RCODE_NOERROR = 0,
    DNS_RCODE_FORMERR = 1,
    DNS_RCODE_SERVFAIL = 2,
    DNS_RCODE_NXDOMAIN = 3,
    DNS_RCODE_NOTIMP = 4,
    DNS_RCODE_REFUSED = 5,
    DNS_RCODE_COUNT
};

/* RFC 1035 4.1.1 (OPCODE) */
enum dns_opcode { DNS_OPCODE_QUERY = 0, DNS_OPCODE_IQUERY = 1, DNS_OPCODE_STATUS = 2, DNS_OPCODE_COUNT };

/* "NXDOMAIN"; NULL for a value outside the table (6..15). */
const char *dns_rcode_name(unsigned rcode);
/* "QUERY"; NULL outside the table. */
const char *dns_opcode_name(unsigned opcode);
/* "MX"; NULL for a type without a name here (it is kept as opaque RDATA). */
const char *dns_type_name(unsigned type);

/* ---- names --------------------------------------------------------------- */

/* A domain name in uncompressed wire form: length-prefixed labels ending with
 * the zero-length root label. The root name is { len 1, wire "\0" }. */
struct dns_name {
    uint16_t len;                /* octets used in wire, 1..DNS_NAME_MAX; 0 = unset */
    uint8_t  wire[DNS_NAME_MAX];
};

/* Parses the presentation form: "mail.example.org." or "mail.example.org"
 * (there is no origin, so both are absolute), "." for the root, escapes "\."
 * "\\" and "\DDD" (RFC 1035 5.1). Returns 0, DNS_ERR_NAME_SYNTAX (empty text,
 * an empty label, a bad escape), DNS_ERR_LABEL_TOO_LONG or
 * DNS_ERR_NAME_TOO_LONG. */
int dns_name_from_text(struct dns_name *name, const char *text);

/* Writes the presentation form, NUL-terminated, with a trailing dot:
 * "mail.example.org.", "." for the root. Bytes outside '!'..'~' become
 * "\DDD"; '.', '\\', '"', '(', ')', ';', '@' and '$' get a backslash.
 * DNS_NAME_TEXT_MAX always suffices. Returns 0 or DNS_ERR_NO_SPACE. */
int dns_name_to_text(const struct dns_name *name, char *out, size_t cap);

/* 1 when the names are equal ignoring ASCII case (RFC 1035 2.3.3, RFC 4343). */
int dns_name_eq(const struct dns_name *a, const struct dns_name *b);

/* Number of labels, the root not counted: "mail.example.org." is 3. */
size_t dns_name_labels(const struct dns_name *name);

/* ---- records and messages ----------------------------------------------- */

struct dns_soa {
    struct dns_name mname, rname; /* primary server; mailbox as a name */
    uint32_t serial, refresh, retry, expire, minimum;
};

/* RDATA bytes kept as they came: TXT (its character-strings, validated) and
 * every type this codec does not interpret (RFC 3597). */
struct dns_raw {
    uint16_t len;
    uint8_t  data[DNS_RDATA_MAX];
};

struct dns_rr {
    struct dns_name name;
    uint16_t type;
    uint16_t rclass; /* class; for OPT, the requestor's UDP payload size */
    uint32_t ttl;    /* for OPT, extended RCODE and flags (RFC 6891 6.1.3) */
    union {
        uint8_t a[4];              /* A */
        uint8_t aaaa[16];          /* AAAA */
        struct {
            uint16_t preference;
            struct dns_name exchange;
        } mx;                      /* MX */
        struct dns_name target;    /* NS, CNAME, PTR */
        struct dns_soa soa;        /* SOA */
        struct dns_raw raw;        /* TXT and everything else */
    } rd;
};

struct dns_header {
    uint16_t id;
    bool     qr;      /* response */
    uint8_t  opcode;  /* 4 bits */
    bool     aa, tc, rd, ra;
    uint8_t  z;       /* the 3 bits RFC 1035 reserves (RFC 4035 uses two: AD, CD); kept as received */
    uint8_t  rcode;   /* 4 bits, enum dns_rcode for 0..5 */
};

struct dns_question {
    struct dns_name name;
    uint16_t type;
    uint16_t qclass;
};

enum dns_section { DNS_ANSWER, DNS_AUTHORITY, DNS_ADDITIONAL, DNS_SECTION_COUNT };

/* A whole message. Large (about 155 KB with the limits above): keep it
 * static or on the heap, not in a small stack frame. */
struct dns_msg {
    struct dns_header h;
    uint16_t qdcount;
    struct dns_question qd[DNS_MAX_QUESTIONS];
    struct {
        uint16_t count;
        struct dns_rr rr[DNS_MAX_RR];
    } sec[DNS_SECTION_COUNT];
};

/* "answer", "authority", "additional". */
const char *dns_section_name(enum dns_section s);

/* Decodes the message in buf[0..len) into *msg, which owns copies of
 * everything (nothing borrowed from buf). max is the largest message the
 * transport allows: DNS_UDP_MAX for plain UDP, DNS_MSG_MAX for TCP or EDNS.
 * Compression pointers are followed (RFC 1035 4.1.4) only backwards, each to
 * before the name being read, so every loop ends in an error. A, AAAA, MX, NS,
 * CNAME, PTR and SOA RDATA are decoded into the union; TXT and other types are
 * copied as opaque bytes (TXT's strings are checked first).
 * Returns 0 or a DNS_ERR_* value; on error *msg holds what was decoded so far
 * and must not be used. */
int dns_decode(const uint8_t *buf, size_t len, size_t max, struct dns_msg *msg);

/* Encodes *msg into out[0..cap), compressing owner names, question names and
 * the names inside NS, CNAME, PTR, MX and SOA RDATA against earlier names
 * (RFC 1035 4.1.4; RFC 3597 4 forbids it in other types). *len gets the size.
 * Pass cap = DNS_UDP_MAX for a plain UDP reply. Returns 0, DNS_ERR_NO_SPACE
 * (nothing useful in out), DNS_ERR_TOO_MANY for counts above the limits,
 * DNS_ERR_RDATA_TOO_LONG, or DNS_ERR_NAME_SYNTAX for an unset or malformed
 * struct dns_name. */
int dns_encode(const struct dns_msg *msg, uint8_t *out, size_t cap, size_t *len);

/* For a UDP reply: like dns_encode(), but when the message does not fit cap
 * (DNS_UDP_MAX, or the client's EDNS size) it writes the header and the
 * question alone with TC set, so the client retries over TCP (RFC 1035
 * 4.2.1; RFC 2181 9 forbids a partial RRset, and no records means none is
 * partial). *truncated tells which was written. Returns 0, or an error of
 * dns_encode() when even the question does not fit. */
int dns_encode_udp(const struct dns_msg *msg, uint8_t *out, size_t cap, size_t *len,
                   bool *truncated);

/* TXT: the i-th character-string of a TXT record (RFC 1035 3.3.14), borrowed
 * from *rr. Returns 1 with *s and *n set, 0 past the last string. */
int dns_txt_string(const struct dns_rr *rr, size_t i, const uint8_t **s, size_t *n);

/* Appends one character-string to a TXT record's RDATA (RFC 1035 3.3: at
 * most 255 octets). Returns 0, DNS_ERR_RDATA_TOO_LONG when it does not fit. */
int dns_txt_add(struct dns_rr *rr, const void *s, size_t n);

/* ---- builders ------------------------------------------------------------ */

/* A standard query (opcode QUERY, class IN) for name/type with the given id
 * and RD bit: one question, no records. */
void dns_query_init(struct dns_msg *q, uint16_t id, const struct dns_name *name,
                    uint16_t type, bool rd);

/* Starts the response to *query: same id, opcode and RD, the question copied
 * (RFC 1035 4.1.1), QR set, AA as given, RA clear, rcode as given, no records. */
void dns_response_init(struct dns_msg *resp, const struct dns_msg *query, bool aa,
                       enum dns_rcode rcode);

/* Sets owner name, type, class IN and TTL of *rr; the caller fills rr->rd. */
void dns_rr_init(struct dns_rr *rr, const struct dns_name *name, uint16_t type, uint32_t ttl);

/* Appends a copy of *rr to section s. Returns 0 or DNS_ERR_TOO_MANY. */
int dns_add_rr(struct dns_msg *msg, enum dns_section s, const struct dns_rr *rr);

/* ---- TCP framing (RFC 1035 4.2.2: each message after a 2-octet length) -- */

/* Writes the 2-octet big-endian length for a message of msglen octets.
 * Returns 0 or DNS_ERR_MSG_TOO_LONG (over 65535). */
int dns_tcp_write_len(uint8_t out[2], size_t msglen);

/* The reader's states, in the order a frame goes through them. */
enum dns_tcp_state {
    DNS_TCP_LENGTH, /* reading the 2-octet length */
    DNS_TCP_BODY,   /* reading the message */
    DNS_TCP_READY,  /* a whole message waits for dns_tcp_next() */
    DNS_TCP_FAILED, /* a sticky error; only dns_tcp_reset() leaves it */
    DNS_TCP_STATE_COUNT
};

/* "length", "body", "ready", "failed". */
const char *dns_tcp_state_name(enum dns_tcp_state s);

/* Splits a TCP byte stream into messages. The caller owns the storage; a
 * frame longer than it is a sticky DNS_ERR_MSG_TOO_LONG (a server closes the
 * connection then) until dns_tcp_reset(). */
struct dns_tcp_reader {
    uint8_t *buf;      /* storage of cap octets, owned by the caller */
    size_t   cap;      /* the largest message accepted */
    enum dns_tcp_state state;
    uint8_t  lenbuf[2];
    size_t   lenhave;  /* octets of the length field held, 0..2 */
    size_t   need;     /* the current frame's length, from DNS_TCP_BODY on */
    size_t   have;     /* octets of the frame held */
    int      err;      /* DNS_ERR_* in DNS_TCP_FAILED, else 0 */
};

enum dns_tcp_status {
    DNS_TCP_NEED_MORE = 0, /* no whole message held */
    DNS_TCP_MESSAGE,       /* *msg, *len: one message, borrowed until the next call on r */
    DNS_TCP_ERROR,         /* r->err says why; sticky until dns_tcp_reset() */
};

void dns_tcp_init(struct dns_tcp_reader *r, uint8_t *storage, size_t cap);
void dns_tcp_reset(struct dns_tcp_reader *r);

/* Takes octets of in[0..n) up to the end of the current frame and returns how
 * many it took (0 while a whole message waits to be collected, or after an
 * error): call dns_tcp_next(), then feed the rest. */
size_t dns_tcp_feed(struct dns_tcp_reader *r, const uint8_t *in, size_t n);

/* Returns DNS_TCP_MESSAGE once per whole frame, DNS_TCP_NEED_MORE, or
 * DNS_TCP_ERROR. */
enum dns_tcp_status dns_tcp_next(struct dns_tcp_reader *r, const uint8_t **msg, size_t *len);

/* ---- presentation (dig's text form) ------------------------------------ */

/* Room for any record dns_rr_to_text() writes: an owner name
 * (DNS_NAME_TEXT_MAX) + TTL, class and type (under 40) + the longest RDATA
 * text, a TXT of DNS_RDATA_MAX octets each as "\DDD" with quotes and spaces
 * (under 2900; SOA's two names and five numbers need less). */
#define DNS_RR_TEXT_MAX 4096

/* Writes *rr as dig prints it, NUL-terminated, without a newline:
 * "example.org. 3600 IN MX 10 mx1.example.org.", "example.org. 300 IN TXT
 * \"v=spf1 -all\"", "x.example.org. 60 IN TYPE99 \\# 2 abcd" (RFC 3597 5
 * for types and classes without a name, and for opaque RDATA). Class IN is
 * "IN", others "CLASSn". Returns 0, or DNS_ERR_NO_SPACE when cap is too small
 * (out then holds as much as fitted, NUL-terminated when cap > 0);
 * DNS_RR_TEXT_MAX always suffices. */
int dns_rr_to_text(const struct dns_rr *rr, char *out, size_t cap);

/* A one-line summary of a message, NUL-terminated, for a trace or a log:
 *   query (QR clear):         "example.org. IN MX?"
 *   answer with records:      the answer records by dns_rr_to_text(), joined
 *                             with "; "
 *   NOERROR without answers:  "NODATA" (RFC 2308 2.2)
 *   any other RCODE:          its name, "NXDOMAIN", "SERVFAIL" ("RCODE11" past
 *                             the table), after "; " and the answer records
 *                             when there are any (a CNAME before NXDOMAIN,
 *                             RFC 6604)
 * A query with no question is "(no question)". Returns 0, or DNS_ERR_NO_SPACE
 * when the summary did not fit: out then ends in "..." (when cap >= 4). */
int dns_msg_summary(const struct dns_msg *msg, char *out, size_t cap);

/* ---- MX selection (RFC 5321 5.1, RFC 7505) ------------------------------- */

#define DNS_MX_MAX DNS_MAX_RR /* targets: at most one per answer record */
#define DNS_MX_ADDR_MAX 8     /* addresses kept per target; a teaching bound */

struct dns_addr {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
};

struct dns_mx_target {
    struct dns_name host;
    uint16_t preference;
    bool     implicit;   /* no MX: the domain itself, preference 0 (RFC 5321 5.1) */
    bool     alias;      /* the host is a CNAME (RFC 2181 10.3 forbids it; MTAs follow it) */
    size_t   naddr;      /* addresses found for host in the records given */
    struct dns_addr addr[DNS_MX_ADDR_MAX];
};

enum dns_mx_status {
    DNS_MX_OK = 0,     /* list->count >= 1 hosts, to be tried in order */
    DNS_MX_NULL,       /* RFC 7505 null MX: the domain accepts no mail (556 5.1.10) */
    DNS_MX_NXDOMAIN,   /* the domain does not exist: a permanent failure */
    DNS_MX_NO_HOST,    /* no MX, and the address answer given has no A/AAAA either */
    DNS_MX_UNUSABLE,   /* MX records exist but none is usable (RFC 5321 5.1: an error) */
    DNS_MX_REQUERY,    /* a CNAME at the domain, its target's MX not in the answer: query *list->cname */
    DNS_MX_CNAME_LOOP, /* a second CNAME after the first: only one is followed */
    DNS_MX_TEMPFAIL,   /* SERVFAIL or another error rcode: try again later (4xx) */
    DNS_MX_STATUS_COUNT
};

/* About 26 KB: keep it static or on the heap too. */
struct dns_mx_list {
    size_t count;
    struct dns_mx_target t[DNS_MX_MAX];
    struct dns_name cname; /* the domain after following a CNAME, when one was */
};

/* "null MX", ...: one name per enum dns_mx_status. */
const char *dns_mx_status_name(enum dns_mx_status s);

/* Chooses the hosts to try for mail to domain, from *mx (the decoded answer
 * to the MX query) and optionally *addr (the answer to an A or AAAA query for
 * the domain; NULL when not asked). Hosts come out by preference, lower
 * first; equal preferences are shuffled with a generator seeded from seed
 * (RFC 5321 5.1 asks for a random spread), so the order is the same for the
 * same seed. Addresses for each host are gathered from the records of both
 * messages. Returns a DNS_MX_* status; list->count is 0 unless DNS_MX_OK. */
enum dns_mx_status dns_mx_select(const struct dns_name *domain, const struct dns_msg *mx,
                                 const struct dns_msg *addr, uint64_t seed,
                                 struct dns_mx_list *list);

#endif
