/* The IMAP server session: the RFC 3501 section 8 sample session and the
 * 6.3.1 SELECT example replayed, wrong-state and bad-input replies, EXPUNGE
 * renumbering, FETCH/STORE/SEARCH/COPY/APPEND, IDLE, STARTTLS, and two
 * sessions sharing one store. Every input is fed whole and byte by byte. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/imap_server.h"
#include "tests/imap_memstore.h"

/* ---- a growing text buffer for collected output ------------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void sb_clear(struct sbuf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = 0;
}

static void sb_free(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- running a session -------------------------------------------------- */

/* Runs events until NEED_MORE: SEND bytes go to out, the others are logged
 * one per line ("STATE a->b", "COMMAND tag VERB [line]", ...). */
static void drain(struct imap_server *s, struct sbuf *out, struct sbuf *log)
{
    struct imap_server_event ev;
    enum imap_server_ev t;
    while ((t = imap_server_next(s, &ev)) != IMAP_SERVER_NEED_MORE) {
        switch (t) {
        case IMAP_SERVER_EV_SEND: sb_add(out, ev.data, ev.len); break;
        case IMAP_SERVER_EV_COMMAND:
            if (log) sb_printf(log, "COMMAND %s %s [%.*s]\n", ev.tag, ev.verb, (int)ev.len, ev.data);
            break;
        case IMAP_SERVER_EV_STATE:
            if (log) sb_printf(log, "STATE %s->%s\n", imap_server_state_names[ev.from],
                               imap_server_state_names[ev.to]);
            break;
        case IMAP_SERVER_EV_FLAGGED:
        case IMAP_SERVER_EV_EXPUNGED:
        case IMAP_SERVER_EV_APPENDED:
            if (log) sb_printf(log, "%s %s %u 0x%x\n", imap_server_ev_names[t], ev.folder,
                               (unsigned)ev.uid, ev.flags);
            break;
        default:
            if (log) sb_printf(log, "%s\n", imap_server_ev_names[t]);
            break;
        }
    }
}

/* Feeds in whole or byte by byte, draining between feeds. Stops early when
 * the session takes nothing (after LOGOUT or STARTTLS); returns the count
 * taken. */
static size_t pump(struct imap_server *s, const char *in, enum feed_mode mode, struct sbuf *out,
                   struct sbuf *log)
{
    size_t n = strlen(in), off = 0;
    drain(s, out, log);
    while (off < n) {
        size_t k = imap_server_feed(s, in + off, feed_chunk(mode, n - off));
        if (k == 0) {
            drain(s, out, log);
            k = imap_server_feed(s, in + off, feed_chunk(mode, n - off));
            if (k == 0) break;
        }
        off += k;
        drain(s, out, log);
    }
    return off;
}

/* ---- stores ------------------------------------------------------------- */

/* RFC 3501 section 8's message 12: the header the sample shows (342 octets)
 * and a body of 3028 octets in 92 lines, as its BODY says. */
static size_t sample_msg12(char *buf, size_t cap)
{
    const char *hdr = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
                      "From: Terry Gray <gray@cac.washington.edu>\r\n"
                      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
                      "To: imap@cac.washington.edu\r\n"
                      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
                      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
                      "MIME-Version: 1.0\r\n"
                      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
                      "\r\n";
    size_t n = strlen(hdr);
    assert_int_equal(n, 342);
    assert_true(cap > n + 3028);
    memcpy(buf, hdr, n);
    for (int line = 0; line < 92; line++) {
        size_t w = line < 91 ? 31 : 23; /* 91 * 33 + 25 = 3028 */
        for (size_t i = 0; i < w; i++) buf[n++] = (char)('a' + (line + (int)i) % 26);
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    assert_int_equal(n, 342 + 3028);
    return n;
}

static void add_simple(struct memstore *ms, const char *folder, uint32_t uid, unsigned flags,
                       bool recent)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg,
                     "From: a@example.com\r\nTo: b@example.org\r\nSubject: note %u\r\n"
                     "Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n\r\nbody %u\r\n",
                     (unsigned)uid, (unsigned)uid);
    assert_int_not_equal(memstore_add(ms, "mrc", folder, uid, flags, 1795683600, 0, msg,
                                      (size_t)n, recent), 0);
}

/* The mailbox of RFC 3501 section 8: 18 messages, 2 recent (17 and 18),
 * the first unseen is 17, UIDVALIDITY 3857529045; message 12 as shown. */
static struct memstore *sample_store(void)
{
    struct memstore *ms = memstore_new();
    assert_non_null(ms);
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    assert_int_equal(memstore_set_uids(ms, "mrc", "INBOX", 3857529045u, 1), 0);
    for (uint32_t i = 1; i <= 18; i++) {
        if (i == 12) {
            char buf[4096];
            size_t n = sample_msg12(buf, sizeof buf);
            /* 17-Jul-1996 02:44:25 -0700 */
            assert_int_equal(memstore_add(ms, "mrc", "INBOX", 12, IMAP_FLAG_SEEN, 837596665, -420,
                                          buf, n, false), 12);
            /* The sample says RFC822.SIZE 4286, more than the 3370 octets
             * its header and body add up to (the real message had more
             * header lines than shown); the store reports the RFC's. */
            assert_int_equal(memstore_set_size(ms, "mrc", "INBOX", 12, 4286), 0);
            continue;
        }
        add_simple(ms, "INBOX", i, i < 17 ? IMAP_FLAG_SEEN : 0, i >= 17);
    }
    return ms;
}

static struct imap_server *server(struct memstore *ms)
{
    struct imap_server_config cfg = {.mailbox = memstore_mailbox(ms)};
    struct imap_server *s = imap_server_new(&cfg);
    assert_non_null(s);
    return s;
}

/* ---- RFC 3501 section 8 ------------------------------------------------- */

/* The client's lines exactly as in RFC 3501 section 8. */
static const char *const sample_client[] = {
    "a001 login mrc secret\r\n",
    "a002 select inbox\r\n",
    "a003 fetch 12 full\r\n",
    "a004 fetch 12 body[header]\r\n",
    "a005 store 12 +flags \\deleted\r\n",
    "a006 logout\r\n",
};

/* Our answer to each, line for line. Every line is the RFC's except where
 * marked: the greeting carries [CAPABILITY] (RFC 3501 7.1: servers may),
 * SELECT sends the 6.3.1 order (untagged data may come in any order, 7) and
 * adds UIDNEXT and PERMANENTFLAGS, which 6.3.1 makes the server send and
 * which the section 8 sample (older than that rule) lacks. The sample's
 * long FETCH line is one line: the RFC breaks it "for editorial clarity". */
static const char sample_greeting[] =
    "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS] mailsim IMAP4rev1 Service Ready\r\n";
static const char *const sample_server[] = {
    "a001 OK LOGIN completed\r\n",

    "* 18 EXISTS\r\n"
    "* 2 RECENT\r\n"
    "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
    "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
    "* OK [UIDNEXT 19] Predicted next UID\r\n"                              /* ours */
    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited\r\n" /* ours */
    "a002 OK [READ-WRITE] SELECT completed\r\n",

    "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
    "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
    "\"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
    "\"<B27397-0100000@cac.washington.edu>\") "
    "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"
    "a003 OK FETCH completed\r\n",

    "* 12 FETCH (BODY[HEADER] {342}\r\n"
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
    "From: Terry Gray <gray@cac.washington.edu>\r\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
    "To: imap@cac.washington.edu\r\n"
    "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    ")\r\n"
    "a004 OK FETCH completed\r\n",

    "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"
    "a005 OK +FLAGS completed\r\n",

    "* BYE IMAP4rev1 server terminating connection\r\n"
    "a006 OK LOGOUT completed\r\n",
};

static void test_rfc3501_section8(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = sample_store();
        struct imap_server *s = server(ms);
        struct sbuf out = {0}, log = {0};
        drain(s, &out, &log);
        assert_string_equal(out.p, sample_greeting);
        for (size_t i = 0; i < ARRAY_LEN(sample_client); i++) {
            sb_clear(&out);
            assert_int_equal(pump(s, sample_client[i], modes[m], &out, &log),
                             strlen(sample_client[i]));
            if (strcmp(out.p, sample_server[i]) != 0)
                fail_msg("%s (%s): got\n%s\nwant\n%s", sample_client[i],
                         m ? "bytewise" : "whole", out.p, sample_server[i]);
        }
        assert_int_equal(imap_server_state(s), IMAP_SERVER_LOGOUT);
        /* The trace: every command with its exact line, each state change,
         * the store change, and the close. */
        assert_string_equal(log.p,
                            "COMMAND a001 LOGIN [a001 login mrc secret]\n"
                            "STATE not-authenticated->authenticated\n"
                            "COMMAND a002 SELECT [a002 select inbox]\n"
                            "STATE authenticated->selected\n"
                            "COMMAND a003 FETCH [a003 fetch 12 full]\n"
                            "COMMAND a004 FETCH [a004 fetch 12 body[header]]\n"
                            "COMMAND a005 STORE [a005 store 12 +flags \\deleted]\n"
                            "flagged INBOX 12 0x9\n"
                            "COMMAND a006 LOGOUT [a006 logout]\n"
                            "STATE selected->logout\n"
                            "close\n");
        assert_int_equal(memstore_flags(ms, "mrc", "INBOX", 12), IMAP_FLAG_SEEN | IMAP_FLAG_DELETED);
        /* After LOGOUT nothing more is read. */
        assert_int_equal(imap_server_feed(s, "x NOOP\r\n", 8), 0);
        sb_free(&out);
        sb_free(&log);
        imap_server_free(s);
        memstore_free(ms);
    }
}

/* RFC 3501 6.3.1's SELECT example: 172 messages, 1 recent, first unseen 12,
 * UIDVALIDITY 3857529045, UIDNEXT 4392. Ours differs only in the free text
 * after [UNSEEN 12] and in PERMANENTFLAGS (no keywords here, so no \*, and
 * all five system flags can be kept). */
static void test_rfc3501_select_example(void **state)
{
    (void)state;
    struct memstore *ms = memstore_new();
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    assert_int_equal(memstore_set_uids(ms, "mrc", "INBOX", 3857529045u, 4220), 0);
    for (uint32_t i = 0; i < 172; i++)
        add_simple(ms, "INBOX", 4220 + i, i + 1 < 12 ? IMAP_FLAG_SEEN : 0, i == 171);
    struct imap_server *s = server(ms);
    struct sbuf out = {0};
    pump(s, "A141 LOGIN mrc secret\r\n", FEED_WHOLE, &out, NULL);
    sb_clear(&out);
    pump(s, "A142 SELECT INBOX\r\n", FEED_BYTEWISE, &out, NULL);
    assert_string_equal(out.p,
                        "* 172 EXISTS\r\n"
                        "* 1 RECENT\r\n"
                        "* OK [UNSEEN 12] Message 12 is the first unseen message\r\n"
                        "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
                        "* OK [UIDNEXT 4392] Predicted next UID\r\n"
                        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited\r\n"
                        "A142 OK [READ-WRITE] SELECT completed\r\n");
    /* \Recent belongs to the first session (RFC 3501 2.3.2): a second
     * SELECT, by this or another session, sees 0 recent. */
    struct imap_server *s2 = server(ms);
    struct sbuf out2 = {0};
    pump(s2, "b1 LOGIN mrc secret\r\nb2 SELECT INBOX\r\n", FEED_WHOLE, &out2, NULL);
    assert_non_null(strstr(out2.p, "* 172 EXISTS\r\n* 0 RECENT\r\n"));
    sb_free(&out);
    sb_free(&out2);
    imap_server_free(s);
    imap_server_free(s2);
    memstore_free(ms);
}

/* ---- replies in every state: wrong state and bad input ----------------- */

enum start { AT_GREETING, AT_AUTH, AT_SELECTED, AT_EXAMINED, AT_EMPTY, AT_NEEDS_TLS };

static const struct {
    const char *name;
    enum start at;
    const char *in;
    const char *want;
} reply_cases[] = {
    /* wrong state: RFC 3501 6 lists each command's states; elsewhere it is
     * "BAD - command unknown or arguments invalid" */
    {"FETCH in authenticated state", AT_AUTH, "a FETCH 1 FLAGS\r\n",
     "a BAD FETCH not valid in authenticated state\r\n"},
    {"SELECT before login", AT_GREETING, "a SELECT INBOX\r\n",
     "a BAD SELECT not valid in not-authenticated state\r\n"},
    {"LOGIN when logged in", AT_AUTH, "a LOGIN mrc secret\r\n",
     "a BAD LOGIN not valid in authenticated state\r\n"},
    {"STARTTLS after login", AT_SELECTED, "a STARTTLS\r\n",
     "a BAD STARTTLS not valid in selected state\r\n"},
    {"EXPUNGE in authenticated state", AT_AUTH, "a EXPUNGE\r\n",
     "a BAD EXPUNGE not valid in authenticated state\r\n"},
    {"UID STORE before login", AT_GREETING, "a UID STORE 1 +FLAGS (\\Seen)\r\n",
     "a BAD UID STORE not valid in not-authenticated state\r\n"},
    {"CLOSE in authenticated state", AT_AUTH, "a CLOSE\r\n",
     "a BAD CLOSE not valid in authenticated state\r\n"},
    {"IDLE before login", AT_GREETING, "a IDLE\r\n",
     "a BAD IDLE not valid in not-authenticated state\r\n"},
    /* authentication */
    {"LOGIN wrong password", AT_GREETING, "a LOGIN mrc wrong\r\n",
     "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"},
    {"LOGIN unknown user", AT_GREETING, "a LOGIN nobody secret\r\n",
     "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"},
    {"LOGIN user longer than the store allows", AT_GREETING,
     "a LOGIN aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x\r\n",
     "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"},
    {"LOGIN while LOGINDISABLED", AT_NEEDS_TLS, "a LOGIN mrc secret\r\n",
     "a NO [PRIVACYREQUIRED] LOGIN disabled until STARTTLS\r\n"},
    {"AUTHENTICATE PLAIN while LOGINDISABLED", AT_NEEDS_TLS, "a AUTHENTICATE PLAIN\r\n",
     "a NO [PRIVACYREQUIRED] Plaintext authentication disabled until STARTTLS\r\n"},
    {"STARTTLS not offered", AT_GREETING, "a STARTTLS\r\n", "a BAD STARTTLS not available\r\n"},
    {"AUTHENTICATE unknown mechanism", AT_GREETING, "a AUTHENTICATE CRAM-MD5\r\n",
     "a NO Unsupported authentication mechanism\r\n"},
    {"AUTHENTICATE cancelled with *", AT_GREETING, "a AUTHENTICATE PLAIN\r\n*\r\n",
     "+ \r\na BAD AUTHENTICATE cancelled\r\n"},
    {"AUTHENTICATE PLAIN wrong password", AT_GREETING,
     "a AUTHENTICATE PLAIN\r\nAG1yYwB3cm9uZw==\r\n", /* \0mrc\0wrong */
     "+ \r\na NO [AUTHENTICATIONFAILED] Authentication failed\r\n"},
    {"AUTHENTICATE PLAIN without NULs", AT_GREETING, "a AUTHENTICATE PLAIN\r\nbXJj\r\n",
     "+ \r\na BAD Invalid SASL PLAIN response\r\n"},
    {"AUTHENTICATE PLAIN for another user", AT_GREETING,
     "a AUTHENTICATE PLAIN YWRtaW4AbXJjAHNlY3JldA==\r\n", /* admin\0mrc\0secret */
     "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"},
    /* mailboxes */
    {"SELECT a missing mailbox", AT_AUTH, "a SELECT Nowhere\r\n",
     "a NO [NONEXISTENT] Mailbox does not exist\r\n"},
    {"STATUS of a missing mailbox", AT_AUTH, "a STATUS Nowhere (MESSAGES)\r\n",
     "a NO [NONEXISTENT] Mailbox does not exist\r\n"},
    {"CREATE an existing mailbox", AT_AUTH, "a CREATE INBOX\r\n",
     "a NO [ALREADYEXISTS] Mailbox already exists\r\n"},
    {"DELETE INBOX", AT_AUTH, "a DELETE inbox\r\n", "a NO [CANNOT] Operation not permitted\r\n"},
    {"RENAME a missing mailbox", AT_AUTH, "a RENAME Nowhere Else\r\n",
     "a NO [NONEXISTENT] Mailbox does not exist\r\n"},
    {"APPEND to a missing mailbox", AT_AUTH, "a APPEND Nowhere {5}\r\nhello\r\n",
     "+ Ready for literal data\r\na NO [TRYCREATE] Mailbox does not exist\r\n"},
    {"COPY to a missing mailbox", AT_SELECTED, "a COPY 1 Nowhere\r\n",
     "a NO [TRYCREATE] Mailbox does not exist\r\n"},
    /* message numbers */
    {"FETCH past the last message", AT_SELECTED, "a FETCH 19 FLAGS\r\n",
     "a BAD Invalid message sequence number\r\n"},
    {"STORE range past the last message", AT_SELECTED, "a STORE 17:40 +FLAGS (\\Seen)\r\n",
     "a BAD Invalid message sequence number\r\n"},
    {"FETCH * in an empty mailbox", AT_EMPTY, "a FETCH * FLAGS\r\n",
     "a BAD Invalid message sequence number\r\n"},
    {"UID FETCH of a missing UID is no error", AT_SELECTED, "a UID FETCH 999 FLAGS\r\n",
     "a OK UID FETCH completed\r\n"},
    {"STORE in a mailbox opened with EXAMINE", AT_EXAMINED, "a STORE 1 +FLAGS (\\Seen)\r\n",
     "a NO Mailbox is read-only\r\n"},
    {"EXPUNGE in a mailbox opened with EXAMINE", AT_EXAMINED, "a EXPUNGE\r\n",
     "a NO Mailbox is read-only\r\n"},
    {"SEARCH with an unknown charset", AT_SELECTED, "a SEARCH CHARSET KOI8-R TEXT x\r\n",
     "a NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset\r\n"},
    /* syntax, answered by imap.h's parser and the session goes on */
    {"unknown command", AT_AUTH, "a FROB\r\na NOOP\r\n", "a BAD Unknown command\r\na OK NOOP completed\r\n"},
    {"no tag", AT_AUTH, "\r\n", "* BAD Missing or invalid tag\r\n"},
    {"FETCH with an unknown item", AT_SELECTED, "a FETCH 1 (FLAGS BOGUS)\r\n",
     "a BAD Unknown FETCH attribute\r\n"},
    {"APPEND literal over the limit", AT_AUTH, "a APPEND INBOX {999999999}\r\nb NOOP\r\n",
     "a NO [TOOBIG] Literal too big\r\nb OK NOOP completed\r\n"},
    {"STORE with an unknown operation", AT_SELECTED, "a STORE 1 FLAGZ (\\Seen)\r\n",
     "a BAD Invalid STORE operation\r\n"},
    {"sequence set with 0", AT_SELECTED, "a FETCH 0 FLAGS\r\n", "a BAD Invalid sequence set\r\n"},
    {"IDLE ended by a line other than DONE", AT_SELECTED, "a IDLE\r\nNOOP\r\nb NOOP\r\n",
     "+ idling\r\na BAD Expected DONE\r\nb OK NOOP completed\r\n"},
    /* good replies in the same table for contrast */
    {"CAPABILITY before login", AT_GREETING, "a CAPABILITY\r\n",
     "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS\r\na OK CAPABILITY completed\r\n"},
    {"CAPABILITY with LOGINDISABLED", AT_NEEDS_TLS, "a CAPABILITY\r\n",
     "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED IDLE UIDPLUS\r\na OK CAPABILITY completed\r\n"},
    {"CAPABILITY after login", AT_AUTH, "a CAPABILITY\r\n",
     "* CAPABILITY IMAP4rev1 IDLE UIDPLUS\r\na OK CAPABILITY completed\r\n"},
    {"AUTHENTICATE PLAIN", AT_GREETING, "a AUTHENTICATE PLAIN\r\nAG1yYwBzZWNyZXQ=\r\n",
     "+ \r\na OK AUTHENTICATE completed\r\n"},
    {"AUTHENTICATE PLAIN initial response", AT_GREETING,
     "a AUTHENTICATE PLAIN AG1yYwBzZWNyZXQ=\r\n", "a OK AUTHENTICATE completed\r\n"},
    {"LIST the delimiter", AT_AUTH, "a LIST \"\" \"\"\r\n",
     "* LIST (\\Noselect) \"/\" \"\"\r\na OK LIST completed\r\n"},
    {"LIST everything", AT_AUTH, "a LIST \"\" *\r\n",
     "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Sent\r\n* LIST () \"/\" Sent/2026\r\na OK LIST completed\r\n"},
    {"LIST % stops at the delimiter", AT_AUTH, "a LIST \"\" %\r\n",
     "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Sent\r\na OK LIST completed\r\n"},
    {"LIST with a pattern full of wildcards", AT_AUTH,
     "a LIST \"\" \"*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%2026x\"\r\n",
     "a OK LIST completed\r\n"},
    {"LIST S*6", AT_AUTH, "a LIST \"\" S*6\r\n", "* LIST () \"/\" Sent/2026\r\na OK LIST completed\r\n"},
    {"LIST %/% ", AT_AUTH, "a LIST \"\" %/%\r\n", "* LIST () \"/\" Sent/2026\r\na OK LIST completed\r\n"},
    {"LIST with a reference", AT_AUTH, "a LIST Sent/ %\r\n", "* LIST () \"/\" Sent/2026\r\na OK LIST completed\r\n"},
    {"LSUB only subscribed", AT_AUTH, "a SUBSCRIBE Sent\r\na LSUB \"\" *\r\n",
     "a OK SUBSCRIBE completed\r\n* LSUB () \"/\" Sent\r\na OK LSUB completed\r\n"},
    {"STATUS", AT_AUTH, "a STATUS INBOX (MESSAGES UNSEEN UIDNEXT)\r\n",
     "* STATUS INBOX (MESSAGES 18 UIDNEXT 19 UNSEEN 2)\r\na OK STATUS completed\r\n"},
    {"EXAMINE", AT_AUTH, "a EXAMINE INBOX\r\n",
     "* 18 EXISTS\r\n* 2 RECENT\r\n* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
     "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n* OK [UIDNEXT 19] Predicted next UID\r\n"
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n"
     "a OK [READ-ONLY] EXAMINE completed\r\n"},
    {"FETCH in EXAMINE does not set \\Seen", AT_EXAMINED, "a FETCH 17 (BODY[TEXT])\r\n",
     "* 17 FETCH (BODY[TEXT] {9}\r\nbody 17\r\n)\r\na OK FETCH completed\r\n"},
};

static struct imap_server *start_at(struct memstore *ms, enum start at)
{
    struct imap_server_config cfg = {.mailbox = memstore_mailbox(ms)};
    if (at == AT_NEEDS_TLS) cfg.starttls_offered = cfg.login_needs_tls = true;
    struct imap_server *s = imap_server_new(&cfg);
    assert_non_null(s);
    struct sbuf junk = {0};
    if (at != AT_GREETING && at != AT_NEEDS_TLS) pump(s, "x LOGIN mrc secret\r\n", FEED_WHOLE, &junk, NULL);
    if (at == AT_SELECTED) pump(s, "x SELECT INBOX\r\n", FEED_WHOLE, &junk, NULL);
    if (at == AT_EXAMINED) pump(s, "x EXAMINE INBOX\r\n", FEED_WHOLE, &junk, NULL);
    if (at == AT_EMPTY) pump(s, "x SELECT Sent\r\n", FEED_WHOLE, &junk, NULL);
    drain(s, &junk, NULL);
    sb_free(&junk);
    return s;
}

static void test_replies(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < ARRAY_LEN(reply_cases); i++) {
        for (size_t m = 0; m < 2; m++) {
            struct memstore *ms = sample_store();
            struct imap_mailbox mb = memstore_mailbox(ms);
            assert_int_equal(mb.ops->create(ms, "mrc", "Sent"), IMAP_MBX_OK);
            assert_int_equal(mb.ops->create(ms, "mrc", "Sent/2026"), IMAP_MBX_OK);
            struct imap_server *s = start_at(ms, reply_cases[i].at);
            struct sbuf out = {0};
            pump(s, reply_cases[i].in, modes[m], &out, NULL);
            if (!out.p || strcmp(out.p, reply_cases[i].want) != 0)
                fail_msg("%s (%s): got\n%s\nwant\n%s", reply_cases[i].name,
                         m ? "bytewise" : "whole", out.p ? out.p : "", reply_cases[i].want);
            sb_free(&out);
            imap_server_free(s);
            memstore_free(ms);
        }
    }
}

/* ---- EXPUNGE renumbering (RFC 3501 7.4.1) ------------------------------ */

static const struct {
    const char *name;
    const char *deleted; /* sequence set to mark \Deleted in a 10-message box */
    const char *expunge; /* the command */
    const char *want;    /* the untagged responses */
} expunge_cases[] = {
    {"3,4,7 of 10 (RFC 3501 7.4.1)", "3:4,7", "e EXPUNGE\r\n",
     "* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 5 EXPUNGE\r\n"},
    {"every message", "1:*", "e EXPUNGE\r\n",
     "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"
     "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"},
    {"the last only", "10", "e EXPUNGE\r\n", "* 10 EXPUNGE\r\n"},
    {"first and last", "1,10", "e EXPUNGE\r\n", "* 1 EXPUNGE\r\n* 9 EXPUNGE\r\n"},
    {"every even one", "2,4,6,8,10", "e EXPUNGE\r\n",
     "* 2 EXPUNGE\r\n* 3 EXPUNGE\r\n* 4 EXPUNGE\r\n* 5 EXPUNGE\r\n* 6 EXPUNGE\r\n"},
    {"none deleted", "", "e EXPUNGE\r\n", ""},
    /* RFC 4315 2.1: only \Deleted messages whose UIDs are in the set */
    {"UID EXPUNGE subset", "3:4,7", "e UID EXPUNGE 4:7\r\n", "* 4 EXPUNGE\r\n* 6 EXPUNGE\r\n"},
};

static void test_expunge_renumbering(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < ARRAY_LEN(expunge_cases); i++) {
        for (size_t m = 0; m < 2; m++) {
            struct memstore *ms = memstore_new();
            assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
            for (uint32_t u = 1; u <= 10; u++) add_simple(ms, "INBOX", u, 0, false);
            struct imap_server *s = server(ms);
            struct sbuf out = {0};
            pump(s, "a LOGIN mrc secret\r\nb SELECT INBOX\r\n", FEED_WHOLE, &out, NULL);
            if (expunge_cases[i].deleted[0]) {
                char cmd[128];
                snprintf(cmd, sizeof cmd, "c STORE %s +FLAGS.SILENT (\\Deleted)\r\n",
                         expunge_cases[i].deleted);
                pump(s, cmd, FEED_WHOLE, &out, NULL);
            }
            sb_clear(&out);
            pump(s, expunge_cases[i].expunge, modes[m], &out, NULL);
            char want[1024];
            snprintf(want, sizeof want, "%s%s", expunge_cases[i].want,
                     strstr(expunge_cases[i].expunge, "UID") ? "e OK UID EXPUNGE completed\r\n"
                                                             : "e OK EXPUNGE completed\r\n");
            if (strcmp(out.p, want) != 0)
                fail_msg("%s: got\n%s\nwant\n%s", expunge_cases[i].name, out.p, want);
            sb_free(&out);
            imap_server_free(s);
            memstore_free(ms);
        }
    }
}

/* ---- FETCH, STORE, SEARCH, COPY, APPEND -------------------------------- */

static const char multipart_msg[] =
    "From: \"Doe, Jane\" <jane@example.com>\r\n"
    "To: undisclosed:;\r\n"
    "Subject: =?UTF-8?B?SGk=?= report\r\n"
    "Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n"
    "Message-ID: <r1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=XX\r\n"
    "\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Quarterly numbers attached.\r\n"
    "--XX\r\n"
    "Content-Type: application/pdf; name=q.pdf\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=q.pdf\r\n"
    "\r\n"
    "JVBERi0=\r\n"
    "--XX--\r\n";

static const struct {
    const char *name;
    const char *in;
    const char *want;
} fetch_cases[] = {
    {"BODYSTRUCTURE of a multipart", "f FETCH 1 BODYSTRUCTURE\r\n",
     "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 27 1 NIL NIL NIL)"
     "(\"APPLICATION\" \"PDF\" (\"NAME\" \"q.pdf\") NIL NIL \"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"q.pdf\")) NIL)"
     " \"MIXED\" (\"BOUNDARY\" \"XX\") NIL NIL))\r\nf OK FETCH completed\r\n"},
    {"ENVELOPE with a group and a quoted name", "f FETCH 1 ENVELOPE\r\n",
     "* 1 FETCH (ENVELOPE (\"Mon, 23 Nov 2026 10:00:00 +0100\" \"=?UTF-8?B?SGk=?= report\" "
     "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) ((\"Doe, Jane\" NIL \"jane\" \"example.com\")) "
     "((\"Doe, Jane\" NIL \"jane\" \"example.com\")) ((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) "
     "NIL NIL NIL \"<r1@example.com>\"))\r\nf OK FETCH completed\r\n"},
    {"BODY.PEEK[1] leaves \\Seen alone", "f FETCH 1 (BODY.PEEK[1] FLAGS)\r\n",
     "* 1 FETCH (BODY[1] \"Quarterly numbers attached.\" FLAGS ())\r\nf OK FETCH completed\r\n"},
    {"BODY[2.MIME]", "f FETCH 1 BODY.PEEK[2.MIME]\r\n",
     "* 1 FETCH (BODY[2.MIME] {129}\r\nContent-Type: application/pdf; name=q.pdf\r\n"
     "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=q.pdf\r\n\r\n)\r\n"
     "f OK FETCH completed\r\n"},
    {"partial BODY[]<0.4> sets \\Seen and says so", "f FETCH 1 BODY[]<0.4>\r\n",
     "* 1 FETCH (BODY[]<0> \"From\" FLAGS (\\Seen))\r\nf OK FETCH completed\r\n"},
    {"partial past the end is empty", "f FETCH 1 BODY.PEEK[1]<100.5>\r\n",
     "* 1 FETCH (BODY[1]<100> \"\")\r\nf OK FETCH completed\r\n"},
    {"HEADER.FIELDS", "f FETCH 1 BODY.PEEK[HEADER.FIELDS (subject to)]\r\n",
     "* 1 FETCH (BODY[HEADER.FIELDS (subject to)] {55}\r\nTo: undisclosed:;\r\n"
     "Subject: =?UTF-8?B?SGk=?= report\r\n\r\n)\r\nf OK FETCH completed\r\n"},
    {"a part that does not exist is NIL", "f FETCH 1 BODY.PEEK[7]\r\n",
     "* 1 FETCH (BODY[7] NIL)\r\nf OK FETCH completed\r\n"},
    {"UID FETCH adds UID", "f UID FETCH 1:* (FLAGS)\r\n",
     "* 1 FETCH (FLAGS () UID 1)\r\n* 2 FETCH (FLAGS (\\Seen \\Flagged) UID 5)\r\nf OK UID FETCH completed\r\n"},
    {"n:* includes the highest UID below n (RFC 3501 6.4.8)", "f UID FETCH 9:* (FLAGS)\r\n",
     "* 2 FETCH (FLAGS (\\Seen \\Flagged) UID 5)\r\nf OK UID FETCH completed\r\n"},
    {"FAST", "f FETCH 2 FAST\r\n",
     "* 2 FETCH (FLAGS (\\Seen \\Flagged) INTERNALDATE \"26-Nov-2026 09:00:00 +0000\" RFC822.SIZE 106)\r\n"
     "f OK FETCH completed\r\n"},
    {"STORE -FLAGS", "f STORE 2 -FLAGS (\\Flagged)\r\n",
     "* 2 FETCH (FLAGS (\\Seen))\r\nf OK -FLAGS completed\r\n"},
    {"STORE FLAGS.SILENT says nothing", "f STORE 1:2 FLAGS.SILENT (\\Answered)\r\n",
     "f OK FLAGS completed\r\n"},
    {"UID STORE answers with UIDs", "f UID STORE 5 +FLAGS (\\Draft)\r\n",
     "* 2 FETCH (FLAGS (\\Seen \\Flagged \\Draft) UID 5)\r\nf OK UID +FLAGS completed\r\n"},
    {"SEARCH FROM is a case-insensitive substring", "f SEARCH FROM JANE\r\n",
     "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH flags and NOT", "f SEARCH NOT SEEN\r\n", "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH OR", "f SEARCH OR FLAGGED SUBJECT report\r\n", "* SEARCH 1 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH SENTBEFORE uses Date:", "f SEARCH SENTBEFORE 24-Nov-2026\r\n",
     "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH SINCE uses the internal date", "f SEARCH SINCE 25-Nov-2026\r\n",
     "* SEARCH 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH BODY", "f SEARCH BODY quarterly\r\n", "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"UID SEARCH answers UIDs", "f UID SEARCH LARGER 200\r\n", "* SEARCH 1\r\nf OK UID SEARCH completed\r\n"},
    {"SEARCH finds nothing", "f SEARCH TEXT zebra\r\n", "* SEARCH\r\nf OK SEARCH completed\r\n"},
    {"SEARCH HEADER", "f SEARCH HEADER Message-ID r1@\r\n", "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH UID set", "f SEARCH UID 5\r\n", "* SEARCH 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH sequence set with *", "f SEARCH 2:*\r\n", "* SEARCH 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH NEW without recent mail", "f SEARCH NEW\r\n", "* SEARCH\r\nf OK SEARCH completed\r\n"},
    {"SEARCH OLD", "f SEARCH OLD\r\n", "* SEARCH 1 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH ON the internal date", "f SEARCH ON 23-Nov-2026\r\n", "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH SENTON in the Date: zone", "f SEARCH SENTON 23-Nov-2026\r\n",
     "* SEARCH 1\r\nf OK SEARCH completed\r\n"},
    {"SEARCH SMALLER", "f SEARCH SMALLER 200\r\n", "* SEARCH 2\r\nf OK SEARCH completed\r\n"},
    {"SEARCH a group of keys", "f SEARCH (SEEN FLAGGED) NOT DELETED\r\n",
     "* SEARCH 2\r\nf OK SEARCH completed\r\n"},
    {"RFC822.HEADER", "f FETCH 2 RFC822.HEADER\r\n",
     "* 2 FETCH (RFC822.HEADER {98}\r\nFrom: a@example.com\r\nTo: b@example.org\r\nSubject: note 5\r\n"
     "Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n\r\n)\r\nf OK FETCH completed\r\n"},
    {"BODY[TEXT] of a seen message reports no FLAGS", "f FETCH 2 BODY[TEXT]\r\n",
     "* 2 FETCH (BODY[TEXT] {8}\r\nbody 5\r\n)\r\nf OK FETCH completed\r\n"},
    {"COPY reports COPYUID", "f COPY 1:2 Archive\r\n",
     "f OK [COPYUID 7 1,5 1:2] COPY completed\r\n"},
    {"UID COPY reports COPYUID", "f UID COPY 5 Archive\r\n",
     "f OK [COPYUID 7 5 1] UID COPY completed\r\n"},
    {"APPEND without a date takes the session's clock",
     "f APPEND Archive {11}\r\nSubject: y\r\ng EXAMINE Archive\r\nh FETCH 1 (INTERNALDATE FLAGS)\r\n",
     "+ Ready for literal data\r\nf OK [APPENDUID 7 1] APPEND completed\r\n"
     "* 1 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 1] Message 1 is the first unseen message\r\n"
     "* OK [UIDVALIDITY 7] UIDs valid\r\n* OK [UIDNEXT 2] Predicted next UID\r\n"
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\ng OK [READ-ONLY] EXAMINE completed\r\n"
     "* 1 FETCH (INTERNALDATE \"26-Nov-2026 10:00:00 +0100\" FLAGS (\\Recent))\r\nh OK FETCH completed\r\n"},
    {"APPEND reports APPENDUID and EXISTS", "f APPEND INBOX (\\Seen) \"26-Nov-2026 10:00:00 +0100\" {11}\r\nSubject: x\r\n",
     "+ Ready for literal data\r\n* 3 EXISTS\r\n* 1 RECENT\r\nf OK [APPENDUID 42 6] APPEND completed\r\n"},
    {"CLOSE expunges silently", "f STORE 1 +FLAGS.SILENT (\\Deleted)\r\ng CLOSE\r\n",
     "f OK +FLAGS completed\r\ng OK CLOSE completed\r\n"},
};

static struct memstore *two_msg_store(void)
{
    struct memstore *ms = memstore_new();
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    assert_int_equal(memstore_set_uids(ms, "mrc", "INBOX", 42, 1), 0);
    /* 23-Nov-2026 09:00:00 UTC */
    assert_int_equal(memstore_add(ms, "mrc", "INBOX", 1, 0, 1795424400, 0, multipart_msg,
                                  strlen(multipart_msg), false), 1);
    add_simple(ms, "INBOX", 5, IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED, false);
    struct imap_mailbox mb = memstore_mailbox(ms);
    assert_int_equal(mb.ops->create(ms, "mrc", "Archive"), IMAP_MBX_OK);
    assert_int_equal(memstore_set_uids(ms, "mrc", "Archive", 7, 1), 0);
    return ms;
}

static void test_fetch_store_search(void **state)
{
    (void)state;
    int failures = 0;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < ARRAY_LEN(fetch_cases); i++) {
        for (size_t m = 0; m < 2; m++) {
            struct memstore *ms = two_msg_store();
            struct imap_server *s = server(ms);
            imap_server_set_clock(s, 1795683600, 60); /* 26-Nov-2026 09:00:00 UTC, shown +0100 */
            struct sbuf out = {0};
            pump(s, "a LOGIN mrc secret\r\nb SELECT INBOX\r\n", FEED_WHOLE, &out, NULL);
            sb_clear(&out);
            pump(s, fetch_cases[i].in, modes[m], &out, NULL);
            if (!out.p || strcmp(out.p, fetch_cases[i].want) != 0) {
                print_error("%s (%s): got\n%s\nwant\n%s\n", fetch_cases[i].name,
                            m ? "bytewise" : "whole", out.p ? out.p : "", fetch_cases[i].want);
                failures++;
            }
            sb_free(&out);
            imap_server_free(s);
            memstore_free(ms);
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- two sessions, one store -------------------------------------------- */

static void test_two_sessions(void **state)
{
    (void)state;
    struct memstore *ms = memstore_new();
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    for (uint32_t u = 1; u <= 3; u++) add_simple(ms, "INBOX", u, 0, false);
    struct imap_server *a = server(ms), *b = server(ms);
    struct sbuf oa = {0}, ob = {0};
    pump(a, "a1 LOGIN mrc secret\r\na2 SELECT INBOX\r\n", FEED_WHOLE, &oa, NULL);
    pump(b, "b1 LOGIN mrc secret\r\nb2 SELECT INBOX\r\n", FEED_WHOLE, &ob, NULL);

    /* A appends: B hears EXISTS and RECENT at its next command (7.3.1). */
    sb_clear(&oa);
    pump(a, "a3 APPEND INBOX {11}\r\nSubject: n\r\n", FEED_WHOLE, &oa, NULL);
    /* A is told first, so \Recent is A's (RFC 3501 2.3.2). */
    assert_string_equal(oa.p, "+ Ready for literal data\r\n* 4 EXISTS\r\n* 1 RECENT\r\n"
                              "a3 OK [APPENDUID 1 4] APPEND completed\r\n");
    sb_clear(&ob);
    pump(b, "b3 NOOP\r\n", FEED_BYTEWISE, &ob, NULL);
    assert_string_equal(ob.p, "* 4 EXISTS\r\n* 0 RECENT\r\nb3 OK NOOP completed\r\n");

    /* A flags message 2: B hears FETCH FLAGS (7.4.2), even during FETCH. */
    pump(a, "a4 STORE 2 +FLAGS.SILENT (\\Flagged)\r\n", FEED_WHOLE, &oa, NULL);
    sb_clear(&ob);
    pump(b, "b4 FETCH 1 (FLAGS)\r\n", FEED_WHOLE, &ob, NULL);
    assert_string_equal(ob.p, "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Flagged))\r\nb4 OK FETCH completed\r\n");

    /* A expunges message 2: not during B's FETCH, STORE or SEARCH
     * (RFC 3501 7.4.1); B still numbers it 2 until told. */
    sb_clear(&oa);
    pump(a, "a5 STORE 2 +FLAGS.SILENT (\\Deleted)\r\na6 EXPUNGE\r\n", FEED_WHOLE, &oa, NULL);
    assert_string_equal(oa.p, "a5 OK +FLAGS completed\r\n* 2 EXPUNGE\r\na6 OK EXPUNGE completed\r\n");
    sb_clear(&ob);
    pump(b, "b5 FETCH 3 (UID)\r\nb6 SEARCH ALL\r\nb7 STORE 4 +FLAGS (\\Seen)\r\n", FEED_WHOLE, &ob, NULL);
    assert_string_equal(ob.p, "* 3 FETCH (UID 3)\r\nb5 OK FETCH completed\r\n"
                              "* SEARCH 1 3 4\r\nb6 OK SEARCH completed\r\n"
                              "* 4 FETCH (FLAGS (\\Seen))\r\nb7 OK +FLAGS completed\r\n");
    /* ... and hears it at NOOP; then message 3 is number 2. */
    sb_clear(&ob);
    pump(b, "b8 NOOP\r\nb9 FETCH 2 (UID)\r\n", FEED_WHOLE, &ob, NULL);
    assert_string_equal(ob.p, "* 2 EXPUNGE\r\nb8 OK NOOP completed\r\n* 2 FETCH (UID 3)\r\nb9 OK FETCH completed\r\n");
    /* A learns of B's \Seen at its next command. */
    sb_clear(&oa);
    pump(a, "a7 CHECK\r\n", FEED_WHOLE, &oa, NULL);
    assert_string_equal(oa.p, "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\na7 OK CHECK completed\r\n");

    /* IDLE: B is told at once when the caller polls (RFC 2177). */
    sb_clear(&ob);
    pump(b, "b10 IDLE\r\n", FEED_BYTEWISE, &ob, NULL);
    assert_string_equal(ob.p, "+ idling\r\n");
    assert_true(imap_server_idling(b));
    pump(a, "a8 APPEND INBOX {11}\r\nSubject: m\r\n", FEED_WHOLE, &oa, NULL);
    pump(a, "a9 STORE 1 +FLAGS.SILENT (\\Deleted)\r\na10 EXPUNGE\r\n", FEED_WHOLE, &oa, NULL);
    sb_clear(&ob);
    imap_server_poll(b);
    drain(b, &ob, NULL);
    assert_string_equal(ob.p, "* 1 EXPUNGE\r\n* 3 EXISTS\r\n* 0 RECENT\r\n");
    sb_clear(&ob);
    imap_server_poll(b); /* nothing new: nothing said */
    drain(b, &ob, NULL);
    assert_null(ob.p && ob.len ? ob.p : NULL);
    pump(b, "DONE\r\n", FEED_BYTEWISE, &ob, NULL);
    assert_string_equal(ob.p, "b10 OK IDLE terminated\r\n");
    assert_false(imap_server_idling(b));

    sb_free(&oa);
    sb_free(&ob);
    imap_server_free(a);
    imap_server_free(b);
    memstore_free(ms);
}

/* ---- CONDSTORE (RFC 7162) ----------------------------------------------- */

/* Session a enabled CONDSTORE; session b changes flags. Three messages got
 * mod-sequences 2, 3, 4 as they were added (the folder started at 1). */
static const struct {
    const char *name;
    const char *a_in;  /* session a's commands */
    const char *b_in;  /* then session b's (may be "") */
    const char *want;  /* what a is sent */
} condstore_steps[] = {
    {"CAPABILITY offers CONDSTORE (3)", "a1 CAPABILITY\r\n", "",
     "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS CONDSTORE\r\na1 OK CAPABILITY completed\r\n"},
    {"SELECT (CONDSTORE) reports HIGHESTMODSEQ (3.1.2.1)", "a2 LOGIN mrc secret\r\na3 SELECT INBOX (CONDSTORE)\r\n",
     "b1 LOGIN mrc secret\r\nb2 SELECT INBOX\r\nb3 STORE 2 +FLAGS.SILENT (\\Seen)\r\n",
     "a2 OK LOGIN completed\r\n"
     "* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UNSEEN 1] Message 1 is the first unseen message\r\n"
     "* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 4] Predicted next UID\r\n"
     "* OK [HIGHESTMODSEQ 4] Highest\r\n"
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited\r\n"
     "a3 OK [READ-WRITE] SELECT completed\r\n"},
    {"CHANGEDSINCE: only message 2, MODSEQ with every FETCH (3.1.4.1, 3.2)",
     "a4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4)\r\n", "",
     "* 2 FETCH (FLAGS (\\Seen) MODSEQ (5))\r\n* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (5))\r\n"
     "a4 OK UID FETCH completed\r\n"},
    {"nothing changed since 5: no FETCH at all", "a5 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5)\r\n", "",
     "a5 OK UID FETCH completed\r\n"},
    {"own STORE: the new MODSEQ in its FETCH", "a6 STORE 3 +FLAGS (\\Flagged)\r\na7 FETCH 3 (MODSEQ)\r\n", "",
     "* 3 FETCH (FLAGS (\\Flagged) MODSEQ (6))\r\na6 OK +FLAGS completed\r\n"
     "* 3 FETCH (MODSEQ (6))\r\na7 OK FETCH completed\r\n"},
};

static void test_condstore(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    int failures = 0;
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = memstore_new();
        assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
        for (uint32_t u = 1; u <= 3; u++) add_simple(ms, "INBOX", u, 0, false);
        struct imap_server_config cfg = {.mailbox = memstore_mailbox(ms), .condstore = true};
        struct imap_server *a = imap_server_new(&cfg), *b = imap_server_new(&cfg);
        assert_non_null(a);
        assert_non_null(b);
        struct sbuf oa = {0}, ob = {0};
        pump(a, "", FEED_WHOLE, &oa, NULL); /* the greeting */
        for (size_t i = 0; i < ARRAY_LEN(condstore_steps); i++) {
            sb_clear(&oa);
            pump(a, condstore_steps[i].a_in, modes[m], &oa, NULL);
            if (!oa.p || strcmp(oa.p, condstore_steps[i].want) != 0) {
                print_error("%s (%s): got\n%s\nwant\n%s\n", condstore_steps[i].name,
                            m ? "bytewise" : "whole", oa.p ? oa.p : "", condstore_steps[i].want);
                failures++;
            }
            pump(b, condstore_steps[i].b_in, FEED_WHOLE, &ob, NULL);
        }
        sb_free(&oa);
        sb_free(&ob);
        imap_server_free(a);
        imap_server_free(b);
        memstore_free(ms);
    }
    assert_int_equal(failures, 0);

    /* A server that does not offer CONDSTORE refuses its syntax (RFC 4466
     * 2.1, 2.4) and sends no HIGHESTMODSEQ. */
    struct memstore *ms = memstore_new();
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    add_simple(ms, "INBOX", 1, 0, false);
    struct imap_server *s = server(ms);
    struct sbuf out = {0};
    pump(s, "a LOGIN mrc secret\r\n", FEED_WHOLE, &out, NULL);
    sb_clear(&out);
    pump(s, "b SELECT INBOX (CONDSTORE)\r\nc SELECT INBOX\r\n", FEED_WHOLE, &out, NULL);
    assert_non_null(strstr(out.p, "b BAD Unknown SELECT parameter\r\n"));
    assert_null(strstr(out.p, "HIGHESTMODSEQ"));
    sb_clear(&out);
    pump(s, "d FETCH 1 (FLAGS) (CHANGEDSINCE 1)\r\ne FETCH 1 (MODSEQ)\r\n", FEED_WHOLE, &out, NULL);
    assert_string_equal(out.p, "d BAD CONDSTORE is not offered\r\ne BAD CONDSTORE is not offered\r\n");
    sb_free(&out);
    imap_server_free(s);
    memstore_free(ms);
}

/* ---- STARTTLS ------------------------------------------------------------ */

static void test_starttls(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = sample_store();
        struct imap_server_config cfg = {.mailbox = memstore_mailbox(ms), .starttls_offered = true,
                                         .login_needs_tls = true};
        struct imap_server *s = imap_server_new(&cfg);
        struct sbuf out = {0}, log = {0};
        drain(s, &out, NULL);
        assert_string_equal(out.p, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED IDLE UIDPLUS] "
                                   "mailsim IMAP4rev1 Service Ready\r\n");
        sb_clear(&out);
        /* A LOGIN pipelined behind STARTTLS was sent in the clear: it is
         * not taken (RFC 3501 6.2.1). */
        const char *in = "t1 STARTTLS\r\nt2 LOGIN mrc secret\r\n";
        size_t took = pump(s, in, modes[m], &out, &log);
        assert_int_equal(took, strlen("t1 STARTTLS\r\n"));
        assert_string_equal(out.p, "t1 OK Begin TLS negotiation now\r\n");
        assert_string_equal(log.p, "COMMAND t1 STARTTLS [t1 STARTTLS]\nstarttls\n");
        imap_server_tls_started(s);
        sb_clear(&out);
        pump(s, "t3 CAPABILITY\r\nt4 LOGIN mrc secret\r\nt5 STARTTLS\r\n", modes[m], &out, NULL);
        assert_string_equal(out.p, "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS\r\n"
                                   "t3 OK CAPABILITY completed\r\nt4 OK LOGIN completed\r\n"
                                   "t5 BAD STARTTLS not valid in authenticated state\r\n");
        sb_free(&out);
        sb_free(&log);
        imap_server_free(s);
        memstore_free(ms);
    }
}

/* imap_server_reset() in the middle of a session (logged in, a folder
 * selected, STARTTLS done, a command half received) starts a new one:
 * the greeting again, the half line forgotten, not authenticated, and the
 * next session's SELECT reports the folder as a new session's would. */
static void test_reset(void **state)
{
    (void)state;
    struct memstore *ms = sample_store();
    struct imap_server_config tls = {.mailbox = memstore_mailbox(ms), .starttls_offered = true};
    struct imap_server *s = imap_server_new(&tls);
    assert_non_null(s);
    struct sbuf out = {0};
    drain(s, &out, NULL);
    pump(s, "t1 STARTTLS\r\n", FEED_WHOLE, &out, NULL);
    imap_server_tls_started(s);
    pump(s, "t2 LOGIN mrc secret\r\nt3 SELECT INBOX\r\nt4 FETCH 1:* (FL", FEED_WHOLE, &out,
         NULL);
    sb_clear(&out);
    struct imap_server_config plain = {.mailbox = memstore_mailbox(ms)};
    imap_server_reset(s, &plain);
    drain(s, &out, NULL);
    assert_string_equal(out.p, sample_greeting);
    sb_clear(&out);
    pump(s, "a1 SELECT INBOX\r\na2 LOGIN mrc secret\r\na3 EXAMINE INBOX\r\n", FEED_WHOLE,
         &out, NULL);
    assert_string_equal(out.p, "a1 BAD SELECT not valid in not-authenticated state\r\n"
                               "a2 OK LOGIN completed\r\n"
                               "* 18 EXISTS\r\n"
                               "* 0 RECENT\r\n"
                               "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
                               "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
                               "* OK [UIDNEXT 19] Predicted next UID\r\n"
                               "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                               "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n"
                               "a3 OK [READ-ONLY] EXAMINE completed\r\n");
    sb_free(&out);
    imap_server_free(s);
    memstore_free(ms);
}

/* A forwarded message inside a multipart: BODYSTRUCTURE carries the inner
 * ENVELOPE and structure (RFC 3501 7.4.2), and 2.HEADER / 2.TEXT address
 * the inner message (6.4.5). */
static const char forwarded_msg[] =
    "From: a@example.com\r\n"
    "Subject: fwd\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=Q\r\n"
    "\r\n"
    "--Q\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "see below\r\n"
    "--Q\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: b@example.org\r\n"
    "Subject: inner\r\n"
    "\r\n"
    "inner body\r\n"
    "--Q--\r\n";

static void test_nested_message(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = memstore_new();
        assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
        assert_int_equal(memstore_add(ms, "mrc", "INBOX", 1, 0, 0, 0, forwarded_msg,
                                      strlen(forwarded_msg), false), 1);
        struct imap_server *s = server(ms);
        struct sbuf out = {0};
        pump(s, "a LOGIN mrc secret\r\nb SELECT INBOX\r\n", FEED_WHOLE, &out, NULL);
        sb_clear(&out);
        pump(s, "c FETCH 1 (BODYSTRUCTURE BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])\r\n",
             modes[m], &out, NULL);
        assert_string_equal(out.p,
            "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 9 1 NIL NIL NIL)"
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 49 "
            "(NIL \"inner\" ((NIL NIL \"b\" \"example.org\")) ((NIL NIL \"b\" \"example.org\")) "
            "((NIL NIL \"b\" \"example.org\")) NIL NIL NIL NIL NIL) "
            /* no Content-Type at all: RFC 2045 5.2's default, as mime.h gives it */
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL) 4 NIL NIL NIL) "
            "\"MIXED\" (\"BOUNDARY\" \"Q\") NIL NIL) "
            "BODY[2.HEADER] {39}\r\nFrom: b@example.org\r\nSubject: inner\r\n\r\n "
            "BODY[2.TEXT] \"inner body\" BODY[2.1] \"inner body\")\r\n"
            "c OK FETCH completed\r\n");
        sb_free(&out);
        imap_server_free(s);
        memstore_free(ms);
    }
}

/* ---- limits ------------------------------------------------------------- */

/* A command line over IMAP_MAX_TEXT is refused and the session goes on. */
static void test_overlong_line(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    size_t n = IMAP_MAX_TEXT + 100;
    char *in = malloc(n + 32);
    assert_non_null(in);
    memcpy(in, "a NOOP ", 7);
    memset(in + 7, 'x', n - 7);
    strcpy(in + n, "\r\nb NOOP\r\n");
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = sample_store();
        struct imap_server *s = start_at(ms, AT_AUTH);
        struct sbuf out = {0};
        pump(s, in, modes[m], &out, NULL);
        assert_string_equal(out.p, "a BAD Command line too long\r\nb OK NOOP completed\r\n");
        sb_free(&out);
        imap_server_free(s);
        memstore_free(ms);
    }
    free(in);
}

/* Output is bounded by IMAP_SERVER_OUT_MAX: two 6 MiB messages do not fit
 * one FETCH; the first is sent, then NO [LIMIT]. One alone fits. */
static void test_output_limit(void **state)
{
    (void)state;
    size_t big = 6u * 1024 * 1024;
    char *msg = malloc(big);
    assert_non_null(msg);
    memcpy(msg, "Subject: big\r\n\r\n", 16);
    memset(msg + 16, 'y', big - 16);
    struct memstore *ms = memstore_new();
    assert_int_equal(memstore_add_user(ms, "mrc", "secret"), 0);
    assert_int_equal(memstore_add(ms, "mrc", "INBOX", 1, 0, 0, 0, msg, big, false), 1);
    assert_int_equal(memstore_add(ms, "mrc", "INBOX", 2, 0, 0, 0, msg, big, false), 2);
    free(msg);
    struct imap_server *s = server(ms);
    struct sbuf out = {0};
    pump(s, "a LOGIN mrc secret\r\nb SELECT INBOX\r\n", FEED_WHOLE, &out, NULL);
    sb_clear(&out);
    pump(s, "c FETCH 1:2 BODY.PEEK[]\r\n", FEED_WHOLE, &out, NULL);
    const char *head = "* 1 FETCH (BODY[] {6291456}\r\nSubject: big\r\n";
    assert_memory_equal(out.p, head, strlen(head));
    const char *tail = "yyy)\r\nc NO [LIMIT] Response too large\r\n";
    assert_string_equal(out.p + out.len - strlen(tail), tail);
    assert_int_equal(out.len, strlen("* 1 FETCH (BODY[] {6291456}\r\n") + big + 3
                                  + strlen("c NO [LIMIT] Response too large\r\n"));
    sb_clear(&out);
    pump(s, "d FETCH 2 RFC822.SIZE\r\n", FEED_BYTEWISE, &out, NULL);
    assert_string_equal(out.p, "* 2 FETCH (RFC822.SIZE 6291456)\r\nd OK FETCH completed\r\n");
    sb_free(&out);
    imap_server_free(s);
    memstore_free(ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3501_section8),
        cmocka_unit_test(test_rfc3501_select_example),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_expunge_renumbering),
        cmocka_unit_test(test_fetch_store_search),
        cmocka_unit_test(test_two_sessions),
        cmocka_unit_test(test_condstore),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_nested_message),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_output_limit),
    };
    return cmocka_run_group_tests_name("imap_server", tests, NULL, NULL);
}
