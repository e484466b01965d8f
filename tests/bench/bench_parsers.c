/* The codecs' parsers, each over a few MB of realistic input, next to
 * memchr over the same buffer.
 *
 * For every parser the program builds one input buffer (generated here from
 * a fixed seed: the same bytes on every machine), then, RUNS times:
 *   - the reference: memchr('\n') from one newline to the next over the whole
 *     buffer, i.e. the work of splitting it into lines and nothing more: the
 *     practical ceiling for a line-based parser. It is timed over as many
 *     passes as take about as long as one parse (sized by a warm-up), so on
 *     a busy machine both are interrupted about as often;
 *   - right after it, the parser: the buffer fed the way a server or client
 *     feeds it (4 KiB reads into the codec's _feed, then _next until it
 *     needs more), or for the whole-message parsers (DNS, RFC 5322 header,
 *     MIME) one call per message. Every event is checked against what was
 *     generated, so a run that parsed wrongly fails instead of being fast.
 * Both are timed with CLOCK_MONOTONIC. MB/s (10^6 bytes of input a second)
 * comes from the median times; the ratio parser / memchr is the median of
 * the runs' own ratios (each from two measurements moments apart), the
 * number to compare across machines (tests/bench/README.md).
 *
 *   build/bench/bench_parsers [RUNS [MB [NAME]]]   (defaults 11, 4, all)
 *
 * NAME keeps only the parsers whose name holds it ("IMAP"), for profiling:
 *   perf record -g build/bench/bench_parsers 11 4 MIME
 *
 * Prints a line per parser, then "BENCH" lines for tests/bench/run.sh.
 * Exits 1 when a parser returned an error or a count that differs from
 * what was generated. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/dns.h"
#include "protocols/imap.h"
#include "protocols/linebuf.h"
#include "protocols/mime.h"
#include "protocols/msg.h"
#include "protocols/pop3.h"
#include "protocols/smtp.h"
#include "tests/bench/bench.h"

#define RUNS_DEFAULT 11
#define RUNS_MAX 31
#define PASSES_MAX 1000 /* memchr passes timed as one reference measurement */
#define MB_DEFAULT 4   /* input per parser: several times the L2 cache, so
                          the parser and memchr both stream from memory */
#define MB_MAX 256
#define CHUNK 4096     /* bytes per feed: what one read() from a socket gives */
#define LINE_MAX_GEN 2048 /* the longest line this program formats */
#define DNS_FIXTURES "tests/fixtures/dns/"

/* ---- input buffers ----------------------------------------------------- */

struct span {
    size_t off, len;
};

/* One parser's input: the bytes, the units a whole-message parser is handed
 * one at a time (DNS messages, header sections, MIME messages), and what a
 * correct parse must count. */
struct input {
    char        *p;
    size_t       len, cap;
    struct span *unit;
    size_t       nunit, capunit;
    uint64_t     expect;    /* events a correct parse reports */
    uint64_t     expect2;   /* a second count (bytes, fields, parts) */
    bool        *multi;     /* POP3 responses: is response i multi-line */
    size_t       nmulti, capmulti;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fputs("bench_parsers: out of memory\n", stderr);
        exit(1);
    }
    return q;
}

static void put(struct input *in, const char *s, size_t n)
{
    if (in->len + n > in->cap) {
        size_t cap = in->cap ? in->cap : 1u << 16;
        while (cap < in->len + n) cap *= 2;
        in->p = xrealloc(in->p, cap);
        in->cap = cap;
    }
    memcpy(in->p + in->len, s, n);
    in->len += n;
}

static void puts_(struct input *in, const char *s) { put(in, s, strlen(s)); }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static size_t putf(struct input *in, const char *fmt, ...)
{
    char line[LINE_MAX_GEN];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line) {
        fputs("bench_parsers: a generated line is too long\n", stderr);
        exit(1);
    }
    put(in, line, (size_t)n);
    return (size_t)n;
}

static void add_unit(struct input *in, size_t off, size_t len)
{
    if (in->nunit == in->capunit) {
        in->capunit = in->capunit ? in->capunit * 2 : 1024;
        in->unit = xrealloc(in->unit, in->capunit * sizeof *in->unit);
    }
    in->unit[in->nunit].off = off;
    in->unit[in->nunit].len = len;
    in->nunit++;
}

/* ---- seeded generator --------------------------------------------------- */

static uint64_t rng_state = 0x6d61696c73696dULL; /* "mailsim": the one seed */

/* xorshift64*: good enough to vary the text; the same sequence everywhere. */
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static const char *const users[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
    "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent",
    "victor", "walter", "friend", "manish", "newsletter", "no-reply",
};
static const char *const domains[] = {
    "example.com", "example.org", "example.net", "mail.example.org",
    "lists.example.net", "school.example.edu.example.com",
};
static const char *const words[] = {
    "the", "message", "server", "mailbox", "relay", "meeting", "tomorrow",
    "project", "report", "attached", "please", "thanks", "regards", "about",
    "schedule", "lesson", "students", "protocol", "network", "delivery",
    "folder", "draft", "question", "answer", "week", "friday", "review",
    "budget", "notes", "update", "holiday", "photos", "invoice", "agenda",
    "and", "of", "to", "in", "for", "with", "on", "at", "from", "we", "you",
};
#define PICK(a) (a[rnd((uint32_t)(sizeof a / sizeof a[0]))])

/* A line of words, width in [lo, hi], no line ending. */
static void put_words(struct input *in, unsigned lo, unsigned hi)
{
    unsigned want = lo + rnd(hi - lo + 1), n = 0;
    while (n < want) {
        const char *w = PICK(words);
        size_t wl = strlen(w);
        if (n) {
            put(in, " ", 1);
            n++;
        }
        put(in, w, wl);
        n += (unsigned)wl;
    }
}

static void put_addr(struct input *in)
{
    putf(in, "%s@%s", PICK(users), PICK(domains));
}

/* ---- shared pieces of generated mail ----------------------------------- */

/* A realistic header section (2 to 3 KB, like real mail with its
 * Received: trail and a DKIM signature), ending in the empty line; returns
 * its field count. */
static unsigned put_header(struct input *in, unsigned serial, const char *ctype)
{
    unsigned fields = 0, hops = 2 + rnd(3);
    for (unsigned i = 0; i < hops; i++, fields++)
        putf(in, "Received: from mx%u.%s (mx%u.%s [192.0.2.%u])\r\n"
                 "\tby mail.example.org (mailsim) with ESMTPS id %08X\r\n"
                 "\tfor <%s@example.org>; Thu, 26 Nov 2026 09:%02u:%02u +0000\r\n",
             i, PICK(domains), i, PICK(domains), 1 + rnd(250), rnd(0xffffffu),
             PICK(users), rnd(60), rnd(60));
    putf(in, "Return-Path: <%s@%s>\r\n", PICK(users), PICK(domains));
    fields++;
    puts_(in, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\r\n"
              "\ts=2026; t=1764148500; h=from:to:subject:date:message-id;\r\n"
              "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
              "\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\r\n"
              "\t MnmN8M0kqSRWXmBjhSN3YqRVrWRgmmkPBIg5NKf0qRx1mNcWS9FHeaZgP1V8ugp2Hw\r\n");
    fields++;
    putf(in, "From: \"%s %s\" <", PICK(users), PICK(users));
    put_addr(in);
    puts_(in, ">\r\nTo: ");
    put_addr(in);
    puts_(in, ", \"Class list\" <");
    put_addr(in);
    puts_(in, ">\r\n");
    fields += 2;
    if (rnd(2)) {
        puts_(in, "Cc: ");
        put_addr(in);
        puts_(in, "\r\n");
        fields++;
    }
    puts_(in, "Subject: ");
    put_words(in, 12, 60);
    puts_(in, "\r\n");
    putf(in, "Date: Thu, %u Nov 2026 %02u:%02u:%02u +0100\r\n", 1 + rnd(28), rnd(24),
         rnd(60), rnd(60));
    putf(in, "Message-ID: <%u.%08X@mail.example.com>\r\n", serial, rnd(0xffffffu));
    puts_(in, "MIME-Version: 1.0\r\n");
    putf(in, "Content-Type: %s\r\n", ctype);
    puts_(in, "X-Mailer: mailsim 0.1.0\r\n"
              "List-Unsubscribe: <mailto:unsubscribe@lists.example.net>,\r\n"
              " <https://lists.example.net/unsubscribe?id=4711>\r\n\r\n");
    fields += 7;
    return fields;
}

/* Body text lines of 40 to 76 characters, some starting with "." (which
 * the DATA and POP3 streams stuff), CRLF each. */
static void put_text_line(struct input *in)
{
    unsigned k = rnd(20);
    if (k == 0) puts_(in, ".");           /* a line a dot-stuffer must double */
    if (k == 1) {
        puts_(in, "\r\n");                /* paragraph break */
        return;
    }
    put_words(in, 40, 76);
    puts_(in, "\r\n");
}

/* ---- the parsers --------------------------------------------------------- */

/* Each run function parses in->p[0..len) once, checks the result against
 * in->expect (and expect2), stores a checksum in *sum so the work cannot be
 * optimised away, and returns 0, or 1 after saying what was wrong. */

static int fail(const char *who, const char *what, uint64_t got, uint64_t want)
{
    fprintf(stderr, "bench_parsers: %s: %s: got %llu, want %llu\n", who, what,
            (unsigned long long)got, (unsigned long long)want);
    return 1;
}

/* SMTP command lines: sessions of EHLO, AUTH, MAIL, RCPT, DATA, RSET, NOOP,
 * VRFY, QUIT, split by a linebuf as the server splits them. */
static void build_smtp_commands(struct input *in, size_t target)
{
    char b64[256];
    while (in->len < target) {
        putf(in, "EHLO client%u.example.net\r\n", rnd(1000));
        in->expect++;
        if (rnd(2)) {
            char user[64];
            snprintf(user, sizeof user, "%s@example.com", PICK(users));
            if (sasl_plain_encode(NULL, user, "correct horse battery", b64, sizeof b64) < 0) {
                fputs("bench_parsers: sasl_plain_encode failed\n", stderr);
                exit(1);
            }
            putf(in, "AUTH PLAIN %s\r\n", b64);
            in->expect++;
        }
        unsigned msgs = 1 + rnd(3);
        for (unsigned m = 0; m < msgs; m++) {
            if (rnd(10) == 0) {
                puts_(in, "MAIL FROM:<>\r\n"); /* a bounce */
            } else {
                puts_(in, "MAIL FROM:<");
                put_addr(in);
                putf(in, "> SIZE=%u%s\r\n", 500 + rnd(200000), rnd(2) ? " BODY=8BITMIME" : "");
            }
            in->expect++;
            unsigned rcpts = 1 + rnd(5);
            for (unsigned r = 0; r < rcpts; r++) {
                if (rnd(12) == 0)
                    puts_(in, "RCPT TO:<\"john smith\"@example.com>\r\n");
                else {
                    puts_(in, "RCPT TO:<");
                    put_addr(in);
                    puts_(in, ">\r\n");
                }
                in->expect++;
            }
            puts_(in, "DATA\r\n");
            in->expect++;
            if (rnd(4) == 0) {
                puts_(in, rnd(2) ? "RSET\r\n" : "NOOP\r\n");
                in->expect++;
            }
        }
        if (rnd(8) == 0) {
            putf(in, "VRFY %s\r\n", PICK(users));
            in->expect++;
        }
        puts_(in, "QUIT\r\n");
        in->expect++;
    }
}

static int run_smtp_commands(const struct input *in, uint64_t *sum)
{
    static char storage[SMTP_COMMAND_LINE_MAX];
    static struct smtp_command cmd;
    struct linebuf lb;
    linebuf_init(&lb, storage, sizeof storage);
    uint64_t n = 0, s = 0;
    size_t off = 0;
    while (off < in->len) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end) {
            off += linebuf_feed(&lb, in->p + off, end - off);
            const char *line;
            size_t len;
            bool bare;
            enum linebuf_status st;
            while ((st = linebuf_next(&lb, &line, &len, &bare)) != LINEBUF_NEED_MORE) {
                if (st != LINEBUF_LINE) return fail("SMTP commands", "line too long", n, 0);
                int r = smtp_parse_command(line, len, &cmd);
                if (r != 0) {
                    fprintf(stderr, "bench_parsers: SMTP command %.*s: %s\n", (int)len, line,
                            smtp_strerror(r));
                    return 1;
                }
                n++;
                s += (uint64_t)cmd.verb + cmd.size + (uint64_t)cmd.path[0];
            }
        }
    }
    *sum = s;
    return n == in->expect ? 0 : fail("SMTP commands", "commands", n, in->expect);
}

/* SMTP replies: what a client reads, multi-line EHLO replies included,
 * through the reply reader. */
static void build_smtp_replies(struct input *in, size_t target)
{
    while (in->len < target) {
        puts_(in, "220 mail.example.org ESMTP mailsim\r\n"
                  "250-mail.example.org Hello client.example.net\r\n"
                  "250-PIPELINING\r\n"
                  "250-SIZE 10240000\r\n"
                  "250-ENHANCEDSTATUSCODES\r\n"
                  "250-8BITMIME\r\n"
                  "250-AUTH PLAIN LOGIN\r\n"
                  "250 STARTTLS\r\n"
                  "235 2.7.0 Authentication successful\r\n");
        in->expect += 3;
        unsigned msgs = 1 + rnd(3);
        for (unsigned m = 0; m < msgs; m++) {
            puts_(in, "250 2.1.0 Sender OK\r\n");
            unsigned rcpts = 1 + rnd(5);
            for (unsigned r = 0; r < rcpts; r++) {
                if (rnd(10) == 0) {
                    puts_(in, "550 5.1.1 <");
                    put_addr(in);
                    puts_(in, ">: Recipient address rejected: User unknown in virtual "
                              "mailbox table\r\n");
                } else {
                    puts_(in, "250 2.1.5 Recipient OK\r\n");
                }
            }
            putf(in, "354 End data with <CR><LF>.<CR><LF>\r\n"
                     "250 2.0.0 Ok: queued as %08X\r\n", rnd(0xffffffu));
            in->expect += 3 + rcpts;
        }
        puts_(in, "221 2.0.0 Bye\r\n");
        in->expect++;
    }
}

static int run_smtp_replies(const struct input *in, uint64_t *sum)
{
    static struct smtp_reply_reader rd;
    smtp_reply_reader_init(&rd);
    uint64_t n = 0, s = 0;
    size_t off = 0;
    while (off < in->len) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end) {
            off += smtp_reply_reader_feed(&rd, in->p + off, end - off);
            const struct smtp_reply *reply;
            int r;
            while ((r = smtp_reply_reader_next(&rd, &reply)) == SMTP_REPLY_READY) {
                n++;
                s += (uint64_t)reply->code + reply->nlines + (uint64_t)reply->enh_detail;
            }
            if (r < 0) return fail("SMTP replies", smtp_strerror(r), n, in->expect);
        }
    }
    *sum = s;
    return n == in->expect ? 0 : fail("SMTP replies", "replies", n, in->expect);
}

/* SMTP DATA: one large message as it travels after 354, dot-stuffed and
 * ended by CRLF "." CRLF, through the server's data reader. expect2 is the
 * message's size before stuffing. */
static void build_smtp_data(struct input *in, size_t target)
{
    struct input line = {0};
    put_header(in, 1, "text/plain; charset=utf-8");
    in->expect2 = in->len;
    while (in->len < target) {
        line.len = 0;
        put_text_line(&line);
        if (line.p[0] == '.') put(in, ".", 1); /* RFC 5321 4.5.2: the sender doubles it */
        put(in, line.p, line.len);
        in->expect2 += line.len;
    }
    puts_(in, ".\r\n");
    in->expect = 1;
    free(line.p);
}

static int run_smtp_data(const struct input *in, uint64_t *sum)
{
    static struct smtp_data_reader rd;
    smtp_data_reader_init(&rd);
    uint64_t bytes = 0, s = 0, ends = 0;
    size_t off = 0;
    while (off < in->len && !ends) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end && !ends) {
            size_t took = smtp_data_reader_feed(&rd, in->p + off, end - off);
            off += took;
            const char *data;
            size_t len;
            int r;
            while ((r = smtp_data_reader_next(&rd, &data, &len)) == SMTP_DATA_BYTES) {
                bytes += len;
                s += (unsigned char)data[0];
            }
            if (r == SMTP_DATA_END) ends = 1;
            else if (took == 0) return fail("SMTP DATA", "reader stuck at offset", off, in->len);
        }
    }
    *sum = s;
    if (!ends || off != in->len) return fail("SMTP DATA", "end of data at", off, in->len);
    if (smtp_data_reader_status(&rd) != 0)
        return fail("SMTP DATA", smtp_strerror(smtp_data_reader_status(&rd)), 1, 0);
    return bytes == in->expect2 ? 0 : fail("SMTP DATA", "message bytes", bytes, in->expect2);
}

/* A small message for an IMAP literal or a POP3 RETR (without its final
 * CRLF "." CRLF). */
static void put_small_message(struct input *in, unsigned serial, unsigned lines)
{
    put_header(in, serial, "text/plain; charset=utf-8");
    for (unsigned i = 0; i < lines; i++) put_text_line(in);
}

/* IMAP commands: a mail program's session (LOGIN, SELECT, UID FETCH of new
 * mail, flags, SEARCH, APPEND to Sent with a literal, IDLE ... DONE,
 * STATUS, LIST, COPY, EXPUNGE) through the command parser. */
static void build_imap_commands(struct input *in, size_t target)
{
    struct input msg = {0};
    unsigned tag = 0, uid = 4000;
    while (in->len < target) {
        putf(in, "a%u CAPABILITY\r\n", ++tag);
        putf(in, "a%u LOGIN %s@example.org \"correct horse\"\r\n", ++tag, PICK(users));
        putf(in, "a%u SELECT INBOX\r\n", ++tag);
        putf(in, "a%u UID FETCH 1:* (UID FLAGS)\r\n", ++tag);
        putf(in, "a%u UID FETCH %u:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS "
                 "(From To Cc Subject Date Message-ID)])\r\n", ++tag, uid);
        in->expect += 5;
        unsigned fetches = 1 + rnd(4);
        for (unsigned i = 0; i < fetches; i++, uid++) {
            putf(in, "a%u UID FETCH %u (BODY.PEEK[])\r\n", ++tag, uid);
            putf(in, "a%u UID STORE %u +FLAGS.SILENT (\\Seen)\r\n", ++tag, uid);
            in->expect += 2;
        }
        putf(in, "a%u UID SEARCH UNSEEN SINCE %u-Nov-2026 FROM \"%s\"\r\n", ++tag,
             1 + rnd(28), PICK(users));
        msg.len = 0;
        put_small_message(&msg, tag, 10 + rnd(40));
        /* Thunderbird's APPEND: synchronising literal, flags and date */
        putf(in, "a%u APPEND Sent (\\Seen) \"26-Nov-2026 09:15:00 +0000\" {%zu}\r\n", ++tag,
             msg.len);
        put(in, msg.p, msg.len);
        puts_(in, "\r\n");
        putf(in, "a%u IDLE\r\nDONE\r\n", ++tag);
        putf(in, "a%u STATUS Archive (MESSAGES UNSEEN UIDNEXT)\r\n", ++tag);
        putf(in, "a%u LIST \"\" \"*\"\r\n", ++tag);
        putf(in, "a%u UID COPY %u Archive\r\n", ++tag, uid - 1);
        putf(in, "a%u UID STORE %u +FLAGS.SILENT (\\Deleted)\r\n", ++tag, uid - 1);
        putf(in, "a%u UID EXPUNGE %u\r\n", ++tag, uid - 1);
        putf(in, "a%u NOOP\r\n", ++tag);
        putf(in, "a%u LOGOUT\r\n", ++tag);
        in->expect += 11; /* SEARCH APPEND IDLE DONE STATUS LIST COPY STORE EXPUNGE NOOP LOGOUT */
    }
    free(msg.p);
}

static int run_imap_commands(const struct input *in, uint64_t *sum)
{
    static struct imap_command cmd;
    struct imap_cmd_parser *p = imap_cmd_parser_new(0);
    if (!p) return fail("IMAP commands", "out of memory", 0, 0);
    uint64_t n = 0, s = 0;
    size_t off = 0;
    int bad = 0;
    while (off < in->len && !bad) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end && !bad) {
            off += imap_cmd_parser_feed(p, in->p + off, end - off);
            enum imap_cmd_ev ev;
            while ((ev = imap_cmd_parser_next(p, &cmd)) != IMAP_CMD_NEED_MORE) {
                if (ev == IMAP_CMD_ERROR) {
                    fprintf(stderr, "bench_parsers: IMAP command %s: %s\n", cmd.tag,
                            imap_strerror(cmd.error));
                    bad = 1;
                    break;
                }
                if (ev == IMAP_CMD_CONTINUE) continue; /* the server's "+" */
                n++;
                s += (uint64_t)cmd.cmd + cmd.nitems + cmd.message.len + cmd.set.n;
                if (ev == IMAP_CMD_COMMAND && cmd.cmd == IMAP_CMD_IDLE)
                    imap_cmd_parser_expect(p, IMAP_EXPECT_DONE); /* RFC 2177 3 */
            }
        }
    }
    imap_cmd_parser_free(p);
    *sum = s;
    if (bad) return 1;
    return n == in->expect ? 0 : fail("IMAP commands", "commands", n, in->expect);
}

/* IMAP responses: a FETCH-heavy stream as a client reads it (a SELECT, a
 * flag sync, headers, envelopes and whole messages in literals, SEARCH,
 * EXISTS, EXPUNGE) through the response reader. */
static void build_imap_responses(struct input *in, size_t target)
{
    struct input msg = {0};
    unsigned tag = 0, uid = 4000;
    while (in->len < target) {
        puts_(in, "* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE "
                  "IDLE STARTTLS AUTH=PLAIN] mailsim ready\r\n");
        putf(in, "a%u OK LOGIN completed\r\n", ++tag);
        putf(in, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                 "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited\r\n"
                 "* %u EXISTS\r\n* 0 RECENT\r\n"
                 "* OK [UIDVALIDITY 1764147300] UIDs valid\r\n"
                 "* OK [UIDNEXT %u] Predicted next UID\r\n"
                 "a%u OK [READ-WRITE] SELECT completed\r\n", 60u, uid + 60, ++tag);
        in->expect += 9;
        for (unsigned i = 1; i <= 60; i++) {
            putf(in, "* %u FETCH (UID %u FLAGS (%s) RFC822.SIZE %u INTERNALDATE "
                     "\"%02u-Nov-2026 %02u:%02u:%02u +0000\")\r\n", i, uid + i,
                 rnd(3) ? "\\Seen" : "", 1000 + rnd(90000), 1 + rnd(28), rnd(24), rnd(60),
                 rnd(60));
            in->expect++;
        }
        putf(in, "a%u OK UID FETCH completed\r\n", ++tag);
        in->expect++;
        for (unsigned i = 51; i <= 60; i++) {
            char subject[128];
            struct input w = {0};
            put_words(&w, 12, 60);
            snprintf(subject, sizeof subject, "%.*s", (int)w.len, w.p);
            free(w.p);
            putf(in, "* %u FETCH (UID %u ENVELOPE (\"Thu, 26 Nov 2026 09:15:00 +0000\" "
                     "\"%s\" ((\"%s\" NIL \"%s\" \"example.com\")) ((\"%s\" NIL \"%s\" "
                     "\"example.com\")) ((\"%s\" NIL \"%s\" \"example.com\")) ((NIL NIL "
                     "\"friend\" \"example.org\")) NIL NIL NIL \"<%u@example.com>\"))\r\n",
                 i, uid + i, subject, users[i % 5], users[i % 5], users[i % 5], users[i % 5],
                 users[i % 5], users[i % 5], uid + i);
            msg.len = 0;
            put_small_message(&msg, uid + i, 8 + rnd(60));
            putf(in, "* %u FETCH (UID %u BODY[] {%zu}\r\n", i, uid + i, msg.len);
            put(in, msg.p, msg.len);
            putf(in, " FLAGS (\\Seen))\r\n");
            in->expect += 2;
        }
        putf(in, "a%u OK UID FETCH completed\r\n* SEARCH", ++tag);
        for (unsigned i = 0; i < 30; i++) putf(in, " %u", 1 + rnd(60));
        putf(in, "\r\na%u OK SEARCH completed\r\n", ++tag);
        putf(in, "* 61 EXISTS\r\n* 1 RECENT\r\n* 3 EXPUNGE\r\na%u OK NOOP completed\r\n", ++tag);
        putf(in, "* BYE logging out\r\na%u OK LOGOUT completed\r\n", ++tag);
        in->expect += 9;
        uid += 60;
    }
    free(msg.p);
}

static int run_imap_responses(const struct input *in, uint64_t *sum)
{
    static struct imap_response resp;
    struct imap_resp_reader *rd = imap_resp_reader_new(0);
    if (!rd) return fail("IMAP responses", "out of memory", 0, 0);
    uint64_t n = 0, s = 0;
    size_t off = 0;
    int bad = 0;
    while (off < in->len && !bad) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end && !bad) {
            off += imap_resp_reader_feed(rd, in->p + off, end - off);
            enum imap_rd_ev ev;
            while ((ev = imap_resp_reader_next(rd, &resp)) != IMAP_RD_NEED_MORE) {
                if (ev == IMAP_RD_ERROR) {
                    fprintf(stderr, "bench_parsers: IMAP response %llu: %s\n",
                            (unsigned long long)n + 1, imap_strerror(resp.error));
                    bad = 1;
                    break;
                }
                n++;
                s += (uint64_t)resp.kind + resp.number + resp.natts + resp.nvalues;
                for (size_t i = 0; i < resp.natts; i++) s += resp.atts[i].data.len;
            }
        }
    }
    imap_resp_reader_free(rd);
    *sum = s;
    if (bad) return 1;
    return n == in->expect ? 0 : fail("IMAP responses", "responses", n, in->expect);
}

/* POP3 commands: sessions of a downloading mail program (CAPA, USER/PASS
 * or APOP, STAT, LIST, UIDL, RETR, DELE, TOP, QUIT), split by a linebuf as
 * the server splits them. */
static void build_pop3_commands(struct input *in, size_t target)
{
    while (in->len < target) {
        puts_(in, "CAPA\r\n");
        if (rnd(5) == 0) {
            putf(in, "APOP %s@example.org ", PICK(users));
            for (int i = 0; i < 4; i++) putf(in, "%08x", rnd(0xffffffu));
            puts_(in, "\r\n");
            in->expect += 2;
        } else {
            putf(in, "USER %s@example.org\r\nPASS correct horse battery\r\n", PICK(users));
            in->expect += 3;
        }
        puts_(in, "STAT\r\nLIST\r\nUIDL\r\n");
        in->expect += 3;
        unsigned msgs = 1 + rnd(8);
        for (unsigned i = 1; i <= msgs; i++) {
            if (rnd(4) == 0) {
                putf(in, "TOP %u 10\r\n", i);
                in->expect++;
            }
            putf(in, "RETR %u\r\nDELE %u\r\n", i, i);
            in->expect += 2;
        }
        if (rnd(6) == 0) {
            puts_(in, "NOOP\r\nRSET\r\n");
            in->expect += 2;
        }
        puts_(in, "QUIT\r\n");
        in->expect++;
    }
}

static int run_pop3_commands(const struct input *in, uint64_t *sum)
{
    static char storage[POP3_MAX_CMD_LINE];
    struct linebuf lb;
    linebuf_init(&lb, storage, sizeof storage);
    uint64_t n = 0, s = 0;
    size_t off = 0;
    while (off < in->len) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end) {
            off += linebuf_feed(&lb, in->p + off, end - off);
            const char *line;
            size_t len;
            bool bare;
            enum linebuf_status st;
            while ((st = linebuf_next(&lb, &line, &len, &bare)) != LINEBUF_NEED_MORE) {
                if (st != LINEBUF_LINE) return fail("POP3 commands", "line too long", n, 0);
                struct pop3_cmd cmd;
                int r = pop3_cmd_parse(line, len, &cmd);
                if (r != POP3_OK) {
                    fprintf(stderr, "bench_parsers: POP3 command %.*s: %s\n", (int)len, line,
                            pop3_strerror(r));
                    return 1;
                }
                n++;
                s += (uint64_t)cmd.verb + cmd.num[0] + (uint64_t)cmd.nargs;
            }
        }
    }
    *sum = s;
    return n == in->expect ? 0 : fail("POP3 commands", "commands", n, in->expect);
}

/* POP3 responses: what the downloading program reads (status lines and
 * multi-line CAPA, LIST, UIDL and dot-stuffed RETR bodies) through the
 * multi-line reader. in->multi records, per response, whether it is
 * multi-line: only the client knows (RFC 1939 3).
 * expect counts responses, expect2 body lines. */
static void pop3_response(struct input *in, bool multi)
{
    if (in->nmulti == in->capmulti) {
        in->capmulti = in->capmulti ? in->capmulti * 2 : 1024;
        in->multi = xrealloc(in->multi, in->capmulti * sizeof *in->multi);
    }
    in->multi[in->nmulti++] = multi;
    in->expect++;
}

static void build_pop3_responses(struct input *in, size_t target)
{
    struct input msg = {0};
    while (in->len < target) {
        putf(in, "+OK POP3 server ready <%u.%u@mail.example.org>\r\n", rnd(99999), rnd(99999));
        pop3_response(in, false);
        puts_(in, "+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nRESP-CODES\r\n"
                  "PIPELINING\r\nSTLS\r\n.\r\n");
        pop3_response(in, true);
        in->expect2 += 6;
        puts_(in, "+OK\r\n+OK Logged in.\r\n");
        pop3_response(in, false);
        pop3_response(in, false);
        unsigned msgs = 1 + rnd(8);
        putf(in, "+OK %u %u\r\n", msgs, msgs * 3000);
        pop3_response(in, false);
        putf(in, "+OK %u messages\r\n", msgs);
        for (unsigned i = 1; i <= msgs; i++) putf(in, "%u %u\r\n", i, 1000 + rnd(9000));
        puts_(in, ".\r\n");
        pop3_response(in, true);
        puts_(in, "+OK\r\n");
        for (unsigned i = 1; i <= msgs; i++)
            putf(in, "%u %08X%08X\r\n", i, rnd(0xffffffu), rnd(0xffffffu));
        puts_(in, ".\r\n");
        pop3_response(in, true);
        in->expect2 += 2 * msgs;
        for (unsigned i = 1; i <= msgs; i++) {
            msg.len = 0;
            put_small_message(&msg, i, 20 + rnd(80));
            putf(in, "+OK %zu octets\r\n", msg.len);
            /* RFC 1939 3: each line, a leading "." doubled */
            for (size_t at = 0; at < msg.len;) {
                const char *nl = memchr(msg.p + at, '\n', msg.len - at);
                size_t l = (size_t)(nl - (msg.p + at)) + 1;
                if (msg.p[at] == '.') put(in, ".", 1);
                put(in, msg.p + at, l);
                at += l;
                in->expect2++;
            }
            puts_(in, ".\r\n");
            pop3_response(in, true);
            putf(in, "+OK message %u deleted\r\n", i);
            pop3_response(in, false);
        }
        puts_(in, "+OK Bye\r\n");
        pop3_response(in, false);
    }
    free(msg.p);
}

static int run_pop3_responses(const struct input *in, uint64_t *sum)
{
    struct pop3_reader *rd = pop3_reader_new();
    if (!rd) return fail("POP3 responses", "out of memory", 0, 0);
    uint64_t n = 0, lines = 0, s = 0;
    size_t off = 0, next = 0;
    int bad = 0;
    pop3_reader_expect(rd, in->multi[0]);
    while (off < in->len && !bad) {
        size_t chunk = in->len - off < CHUNK ? in->len - off : CHUNK;
        size_t end = off + chunk;
        while (off < end && !bad) {
            off += pop3_reader_feed(rd, in->p + off, end - off);
            struct pop3_reader_ev ev;
            int r;
            while ((r = pop3_reader_next(rd, &ev)) != POP3_NEED_MORE) {
                if (r < 0 || r == POP3_RD_TOO_LONG) {
                    fprintf(stderr, "bench_parsers: POP3 response %zu: %s\n", next + 1,
                            r < 0 ? pop3_strerror(r) : "line too long");
                    bad = 1;
                    break;
                }
                bool done = r == POP3_RD_END || (r == POP3_RD_STATUS && !in->multi[next]);
                if (r == POP3_RD_STATUS) s += ev.reply.ok + ev.reply.text_len;
                if (r == POP3_RD_LINE) {
                    lines++;
                    s += ev.line_len;
                }
                if (done) {
                    n++;
                    if (++next < in->nmulti) pop3_reader_expect(rd, in->multi[next]);
                }
            }
        }
    }
    pop3_reader_free(rd);
    *sum = s;
    if (bad) return 1;
    if (n != in->expect) return fail("POP3 responses", "responses", n, in->expect);
    return lines == in->expect2 ? 0 : fail("POP3 responses", "body lines", lines, in->expect2);
}

/* DNS: the captured fixtures (dnsmasq's answers and dig's query) and
 * responses built here like the simulated resolver's (MX with two
 * exchanges and their addresses, A, AAAA, TXT), in a seeded order, one
 * dns_decode per message. expect2 counts resource records. */
static const char *const dns_fixtures[] = {
    "a.bin", "aaaa.bin", "cname.bin", "dig_query.bin", "mx.bin", "nxdomain.bin", "soa.bin",
    "txt.bin",
};
#define DNS_FIXTURE_COUNT (sizeof dns_fixtures / sizeof dns_fixtures[0])
#define DNS_BUILT 64 /* responses built here, one per simulated domain */

static struct dns_msg dns_scratch; /* large: static, not on the stack */

static void dns_must(int r, const char *what)
{
    if (r != 0) {
        fprintf(stderr, "bench_parsers: building DNS messages: %s: %s\n", what, dns_strerror(r));
        exit(1);
    }
}

static void build_dns(struct input *in, size_t target)
{
    struct input pool = {0};
    static struct dns_msg q;
    for (size_t i = 0; i < DNS_FIXTURE_COUNT; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s%s", DNS_FIXTURES, dns_fixtures[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "bench_parsers: %s: run from the repository root\n", path);
            exit(1);
        }
        uint8_t b[DNS_UDP_MAX];
        size_t n = fread(b, 1, sizeof b, f);
        fclose(f);
        add_unit(&pool, pool.len, n);
        put(&pool, (const char *)b, n);
    }
    for (unsigned d = 0; d < DNS_BUILT; d++) {
        char text[128];
        struct dns_name name, ex;
        struct dns_rr rr;
        snprintf(text, sizeof text, "%s%u.example.net", PICK(users), d);
        dns_must(dns_name_from_text(&name, text), text);
        unsigned type = d % 4 == 0 ? DNS_TYPE_A : d % 4 == 1 ? DNS_TYPE_AAAA
                      : d % 4 == 2 ? DNS_TYPE_TXT : DNS_TYPE_MX;
        dns_query_init(&q, (uint16_t)rnd(65536), &name, (uint16_t)type, true);
        dns_response_init(&dns_scratch, &q, true, DNS_RCODE_NOERROR);
        if (type == DNS_TYPE_A) {
            dns_rr_init(&rr, &name, DNS_TYPE_A, 300);
            uint8_t a[4] = {192, 0, 2, (uint8_t)(1 + rnd(250))};
            memcpy(rr.rd.a, a, 4);
            dns_must(dns_add_rr(&dns_scratch, DNS_ANSWER, &rr), "A");
        } else if (type == DNS_TYPE_AAAA) {
            dns_rr_init(&rr, &name, DNS_TYPE_AAAA, 300);
            memset(rr.rd.aaaa, 0, 16);
            rr.rd.aaaa[0] = 0x20, rr.rd.aaaa[1] = 0x01, rr.rd.aaaa[2] = 0x0d;
            rr.rd.aaaa[3] = 0xb8, rr.rd.aaaa[15] = (uint8_t)rnd(256);
            dns_must(dns_add_rr(&dns_scratch, DNS_ANSWER, &rr), "AAAA");
        } else if (type == DNS_TYPE_TXT) {
            static const char spf[] = "v=spf1 mx a:relay.example.net -all";
            dns_rr_init(&rr, &name, DNS_TYPE_TXT, 300);
            rr.rd.raw.len = (uint16_t)(1 + strlen(spf));
            rr.rd.raw.data[0] = (uint8_t)strlen(spf);
            memcpy(rr.rd.raw.data + 1, spf, strlen(spf));
            dns_must(dns_add_rr(&dns_scratch, DNS_ANSWER, &rr), "TXT");
        } else {
            for (unsigned k = 0; k < 2; k++) {
                snprintf(text, sizeof text, "%s.%s%u.example.net", k ? "backup" : "mail",
                         users[d % 5], d);
                dns_must(dns_name_from_text(&ex, text), text);
                dns_rr_init(&rr, &name, DNS_TYPE_MX, 3600);
                rr.rd.mx.preference = (uint16_t)(10 + 10 * k);
                rr.rd.mx.exchange = ex;
                dns_must(dns_add_rr(&dns_scratch, DNS_ANSWER, &rr), "MX");
                dns_rr_init(&rr, &ex, DNS_TYPE_A, 3600);
                uint8_t a[4] = {198, 51, 100, (uint8_t)(1 + rnd(250))};
                memcpy(rr.rd.a, a, 4);
                dns_must(dns_add_rr(&dns_scratch, DNS_ADDITIONAL, &rr), "glue A");
            }
        }
        uint8_t b[DNS_UDP_MAX];
        size_t n;
        dns_must(dns_encode(&dns_scratch, b, sizeof b, &n), "encode");
        add_unit(&pool, pool.len, n);
        put(&pool, (const char *)b, n);
    }
    while (in->len < target) {
        const struct span *u = &pool.unit[rnd((uint32_t)pool.nunit)];
        add_unit(in, in->len, u->len);
        put(in, pool.p + u->off, u->len);
    }
    in->expect = in->nunit;
    free(pool.p);
    free(pool.unit);
}

static int run_dns(const struct input *in, uint64_t *sum)
{
    uint64_t s = 0, n = 0;
    for (size_t i = 0; i < in->nunit; i++) {
        const struct span *u = &in->unit[i];
        int r = dns_decode((const uint8_t *)in->p + u->off, u->len, DNS_UDP_MAX, &dns_scratch);
        if (r != 0) return fail("DNS", dns_strerror(r), i, in->nunit);
        n++;
        s += dns_scratch.h.id + dns_scratch.sec[DNS_ANSWER].count +
             dns_scratch.sec[DNS_ADDITIONAL].count;
    }
    *sum = s;
    return n == in->expect ? 0 : fail("DNS", "messages", n, in->expect);
}

/* RFC 5322 header sections, one msg_parse_header per message. expect2
 * counts fields. */
static void build_headers(struct input *in, size_t target)
{
    unsigned serial = 0;
    while (in->len < target) {
        size_t at = in->len;
        in->expect2 += put_header(in, ++serial, "text/plain; charset=utf-8; format=flowed");
        add_unit(in, at, in->len - at);
    }
    in->expect = in->nunit;
}

static int run_headers(const struct input *in, uint64_t *sum)
{
    static struct msg_header h;
    uint64_t s = 0, fields = 0;
    for (size_t i = 0; i < in->nunit; i++) {
        const struct span *u = &in->unit[i];
        enum msg_err r = msg_parse_header(in->p + u->off, u->len, &h);
        if (r != MSG_OK) return fail("RFC 5322 header", msg_strerror(r), i, in->nunit);
        if (h.body_off != u->len) return fail("RFC 5322 header", "header end", h.body_off, u->len);
        fields += h.n_fields;
        s += h.fields[h.n_fields - 1].value_len;
    }
    *sum = s;
    return fields == in->expect2 ? 0 : fail("RFC 5322 header", "fields", fields, in->expect2);
}

/* MIME: messages as mail programs write them (multipart/mixed holding a
 * multipart/alternative text and HTML, a base64 attachment, sometimes a
 * forwarded message/rfc822), one mime_parse per message. expect2 counts
 * entities. */
static void build_mime(struct input *in, size_t target)
{
    unsigned serial = 0;
    while (in->len < target) {
        size_t at = in->len;
        unsigned parts = 5; /* mixed, alternative, plain, html, attachment */
        ++serial;
        put_header(in, serial, "multipart/mixed; boundary=\"=_mixed_b1\"");
        puts_(in, "This is a multi-part message in MIME format.\r\n\r\n"
                  "--=_mixed_b1\r\n"
                  "Content-Type: multipart/alternative; boundary=\"=_alt_b2\"\r\n\r\n"
                  "--=_alt_b2\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        unsigned lines = 10 + rnd(40);
        for (unsigned i = 0; i < lines; i++) put_text_line(in);
        puts_(in, "\r\n--=_alt_b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n");
        for (unsigned i = 0; i < lines; i++) {
            puts_(in, "<p>");
            put_words(in, 40, 70);
            puts_(in, "</p>\r\n");
        }
        puts_(in, "</body></html>\r\n\r\n--=_alt_b2--\r\n\r\n--=_mixed_b1\r\n"
                  "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
                  "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n");
        unsigned b64 = 20 + rnd(200);
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (unsigned i = 0; i < b64; i++) {
            char line[78];
            for (int k = 0; k < 76; k++) line[k] = alphabet[rnd(64)];
            line[76] = '\r', line[77] = '\n';
            put(in, line, sizeof line);
        }
        if (rnd(3) == 0) {
            puts_(in, "\r\n--=_mixed_b1\r\nContent-Type: message/rfc822\r\n"
                      "Content-Description: forwarded message\r\n\r\n");
            put_small_message(in, serial, 5 + rnd(20));
            parts += 2; /* the message/rfc822 part and the message inside */
        }
        puts_(in, "\r\n--=_mixed_b1--\r\n");
        add_unit(in, at, in->len - at);
        in->expect2 += parts;
    }
    in->expect = in->nunit;
}

static int run_mime(const struct input *in, uint64_t *sum)
{
    struct mime_tree *t = mime_new();
    if (!t) return fail("MIME", "out of memory", 0, 0);
    uint64_t s = 0, parts = 0;
    int bad = 0;
    for (size_t i = 0; i < in->nunit && !bad; i++) {
        const struct span *u = &in->unit[i];
        enum mime_err r = mime_parse(t, in->p + u->off, u->len);
        if (r != MIME_OK) bad = fail("MIME", mime_strerror(r), i, in->nunit);
        size_t c = mime_count(t);
        parts += c;
        s += mime_part(t, c - 1)->body_len;
    }
    mime_free(t);
    *sum = s;
    if (bad) return 1;
    return parts == in->expect2 ? 0 : fail("MIME", "entities", parts, in->expect2);
}

/* ---- timing ---------------------------------------------------------------- */

static volatile uint64_t sink; /* results land here: the work is not dead */

/* The reference: every newline found, one memchr from each to the next. */
static uint64_t scan_lines(const char *p, size_t n)
{
    const char *end = p + n;
    uint64_t lines = 0;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

struct parser {
    const char *name;    /* the table's row */
    const char *unit;    /* what one parsed item is, for the summary line */
    void (*build)(struct input *in, size_t target);
    int (*run)(const struct input *in, uint64_t *sum);
};

static const struct parser parsers[] = {
    {"parse SMTP commands", "commands", build_smtp_commands, run_smtp_commands},
    {"parse SMTP replies", "replies", build_smtp_replies, run_smtp_replies},
    {"parse SMTP DATA", "message", build_smtp_data, run_smtp_data},
    {"parse IMAP commands", "commands", build_imap_commands, run_imap_commands},
    {"parse IMAP responses", "responses", build_imap_responses, run_imap_responses},
    {"parse POP3 commands", "commands", build_pop3_commands, run_pop3_commands},
    {"parse POP3 responses", "responses", build_pop3_responses, run_pop3_responses},
    {"parse DNS messages", "messages", build_dns, run_dns},
    {"parse RFC 5322 headers", "headers", build_headers, run_headers},
    {"parse MIME", "messages", build_mime, run_mime},
};
#define PARSER_COUNT (sizeof parsers / sizeof parsers[0])

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : RUNS_DEFAULT;
    int mb = argc > 2 ? atoi(argv[2]) : MB_DEFAULT;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (runs < 1 || runs > RUNS_MAX || mb < 1 || mb > MB_MAX) {
        fprintf(stderr, "usage: bench_parsers [RUNS (1-%d) [MB (1-%d) [NAME]]]\n", RUNS_MAX,
                MB_MAX);
        return 2;
    }
    size_t target = (size_t)mb << 20;
    printf("bench_parsers: each parser over %d MiB of generated input, %d runs, medians; "
           "reference: memchr('\\n') over the same buffer\n", mb, runs);
    printf("  %-24s %6s %10s %12s %8s   %s\n", "parser", "MB", "MB/s", "memchr MB/s", "ratio",
           "parsed");
    char rows[PARSER_COUNT][256];
    size_t nrows = 0;
    int failed = 0;
    for (size_t i = 0; i < PARSER_COUNT; i++) {
        const struct parser *ps = &parsers[i];
        if (only && !strstr(ps->name, only)) continue;
        rng_state = 0x6d61696c73696dULL + i; /* each input the same whatever else runs */
        struct input in = {0};
        ps->build(&in, target);
        /* A warm-up of each, which also sizes the reference: memchr is
         * timed over as many passes as take about as long as one parse, so
         * that on a busy machine both are preempted about as often. */
        uint64_t sum = 0;
        double t0 = bench_now_s();
        sink += scan_lines(in.p, in.len);
        double t1 = bench_now_s();
        int bad = ps->run(&in, &sum);
        double t2 = bench_now_s();
        double k = (t2 - t1) / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9);
        int passes = k < 1 ? 1 : k > PASSES_MAX ? PASSES_MAX : (int)(k + 0.5);
        double tp[RUNS_MAX], tr[RUNS_MAX], ratio[RUNS_MAX];
        for (int r = 0; r < runs && !bad; r++) {
            t0 = bench_now_s();
            for (int j = 0; j < passes; j++) sink += scan_lines(in.p, in.len);
            t1 = bench_now_s();
            bad = ps->run(&in, &sum);
            t2 = bench_now_s();
            sink += sum;
            tr[r] = (t1 - t0) / passes;
            tp[r] = t2 - t1;
            ratio[r] = tr[r] / tp[r]; /* parser MB/s over memchr MB/s, this run */
        }
        if (bad) {
            printf("  %-24s FAILED\n", ps->name);
            snprintf(rows[nrows++], sizeof rows[0], "BENCH\t%s\tFAILED\tMB/s\t-\t-\n", ps->name);
            failed = 1;
        } else {
            double mbytes = (double)in.len / 1e6;
            double rate = mbytes / bench_median(tp, (size_t)runs);
            double ref = mbytes / bench_median(tr, (size_t)runs);
            double q = bench_median(ratio, (size_t)runs);
            printf("  %-24s %6.2f %10.1f %12.1f %8.4f   %llu %s\n", ps->name, mbytes, rate, ref,
                   q, (unsigned long long)in.expect, ps->unit);
            snprintf(rows[nrows++], sizeof rows[0], "BENCH\t%s\t%.1f\tMB/s\t%.0f (memchr)\t%.4f\n",
                     ps->name, rate, ref, q);
        }
        fflush(stdout);
        free(in.p);
        free(in.unit);
        free(in.multi);
    }
    for (size_t i = 0; i < nrows; i++) fputs(rows[i], stdout);
    return failed;
}
