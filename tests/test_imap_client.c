/* The IMAP client session against scripted server responses: the RFC 3501
 * section 8 sample's responses, UIDVALIDITY change, the "n:*" quirk, flags
 * both ways, expunge detection, STARTTLS with AUTHENTICATE PLAIN, IDLE, and
 * failures. Every server script is fed whole and byte by byte. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/imap_client.h"

#define OUT_CAP 8192

/* Collected output of a step: the bytes the client sent, and its other
 * events, one per line. */
struct got {
    char sent[OUT_CAP];
    size_t sent_len;
    char log[OUT_CAP];
    size_t log_len;
};

static void logf_(struct got *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->log + g->log_len, sizeof g->log - g->log_len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof g->log - g->log_len);
    g->log_len += (size_t)n;
}

static void drain(struct imap_client *c, struct got *g)
{
    struct imap_client_event ev;
    enum imap_client_ev t;
    while ((t = imap_client_next(c, &ev)) != IMAP_CLIENT_NEED_MORE) {
        switch (t) {
        case IMAP_CLIENT_EV_SEND:
            assert_true(g->sent_len + ev.len < sizeof g->sent);
            memcpy(g->sent + g->sent_len, ev.data, ev.len);
            g->sent_len += ev.len;
            g->sent[g->sent_len] = 0;
            break;
        case IMAP_CLIENT_EV_STATE: break; /* checked through imap_client_state() */
        case IMAP_CLIENT_EV_NEW:
            logf_(g, "new %u 0x%x %u [%.*s]\n", (unsigned)ev.uid, ev.flags, (unsigned)ev.size,
                  (int)ev.len, ev.data ? ev.data : "");
            break;
        case IMAP_CLIENT_EV_FLAGS:
            logf_(g, "flags %u 0x%x\n", (unsigned)ev.uid, ev.flags);
            break;
        case IMAP_CLIENT_EV_EXPUNGED: logf_(g, "expunged %u\n", (unsigned)ev.uid); break;
        case IMAP_CLIENT_EV_FOLDER:
        case IMAP_CLIENT_EV_ERROR:
            logf_(g, "%s %s\n", imap_client_ev_names[t], ev.text);
            break;
        default: logf_(g, "%s\n", imap_client_ev_names[t]); break;
        }
    }
}

/* Feeds the server's bytes and collects what the client does. */
static void step(struct imap_client *c, const char *in, enum feed_mode mode, struct got *g)
{
    memset(g, 0, sizeof *g);
    size_t n = strlen(in), off = 0;
    drain(c, g);
    while (off < n) {
        size_t k = imap_client_feed(c, in + off, feed_chunk(mode, n - off));
        drain(c, g);
        if (k == 0) {
            k = imap_client_feed(c, in + off, feed_chunk(mode, n - off));
            if (k == 0) break;
            drain(c, g);
        }
        off += k;
    }
}

/* One exchange of a script: the server's bytes, then exactly what the
 * client must send and report, and the state it must be in. */
struct exchange {
    const char *server;
    const char *client;
    const char *log;
    enum imap_client_state state;
};

static void run_script(const char *name, const struct imap_client_config *cfg0,
                       struct imap_client_cache *cache0, const struct exchange *x, size_t n)
{
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct imap_client_cache *cache = malloc(sizeof *cache);
        assert_non_null(cache);
        *cache = *cache0;
        struct imap_client_config cfg = *cfg0;
        cfg.cache = cache;
        struct imap_client *c = imap_client_new(&cfg);
        assert_non_null(c);
        struct got g;
        for (size_t i = 0; i < n; i++) {
            step(c, x[i].server, modes[m], &g);
            if (strcmp(g.sent, x[i].client) != 0 || strcmp(g.log, x[i].log) != 0
                || imap_client_state(c) != x[i].state)
                fail_msg("%s (%s) step %zu: sent\n%s\nlog\n%s\nstate %s; want sent\n%s\nlog\n%s\nstate %s",
                         name, m ? "bytewise" : "whole", i, g.sent, g.log,
                         imap_client_state_names[imap_client_state(c)], x[i].client, x[i].log,
                         imap_client_state_names[x[i].state]);
        }
        if (m == 1) *cache0 = *cache; /* let the caller inspect the result */
        imap_client_free(c);
        free(cache);
    }
}

/* ---- RFC 3501 section 8 --------------------------------------------------- */

/* The sample's server responses given to our client. Its commands match the
 * RFC's where its purpose (sync a folder by UID) allows:
 *   a001 LOGIN mrc secret    == "a001 login mrc secret" (keyword case aside)
 *   a002 SELECT INBOX        == "a002 select inbox"
 *   a003 UID FETCH 1:* (...) vs "a003 fetch 12 full": a syncing client asks
 *        for every message by UID, not for message 12; the sample's answer
 *        carries no UID, so the client cannot file it and ignores it
 *   a004 LOGOUT              == "a006 logout": the sample's a004 (BODY[HEADER])
 *        and a005 (STORE +FLAGS \Deleted) are a user's actions, not a sync's;
 *        the client stores local flag changes as UID STORE (test below). */
static void test_rfc3501_section8(void **state)
{
    (void)state;
    static const struct exchange x[] = {
        {"* OK IMAP4rev1 Service Ready\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK LOGIN completed\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        {"* 18 EXISTS\r\n"
         "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
         "* 2 RECENT\r\n"
         "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
         "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
         "a002 OK [READ-WRITE] SELECT completed\r\n",
         "a003 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n", "", IMAP_CLIENT_FETCH_NEW},
        {"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
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
         "a004 LOGOUT\r\n", "", IMAP_CLIENT_LOGOUT},
        {"* BYE IMAP4rev1 server terminating connection\r\na004 OK LOGOUT completed\r\n", "",
         "close\n", IMAP_CLIENT_CLOSED},
    };
    struct imap_client_cache cache;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret"};
    run_script("RFC 3501 section 8", &cfg, &cache, x, ARRAY_LEN(x));
    assert_int_equal(cache.uidvalidity, 3857529045u);
    assert_int_equal(cache.last_uid, 0);
    assert_int_equal(cache.n, 0);
}

/* ---- syncing -------------------------------------------------------------- */

static void cache_with(struct imap_client_cache *k, uint32_t validity, uint32_t last,
                       const uint32_t *uids, const unsigned *flags, size_t n)
{
    memset(k, 0, sizeof *k);
    k->uidvalidity = validity;
    k->last_uid = last;
    k->n = n;
    for (size_t i = 0; i < n; i++) {
        k->msgs[i].uid = uids[i];
        k->msgs[i].flags = flags[i];
        k->msgs[i].server_flags = flags[i]; /* as last seen on the server */
        k->msgs[i].size = 10;
    }
}

/* The user read a message (+\Seen) and unflagged it (-\Flagged) here while
 * another device marked it \Answered: the sync stores only the two local
 * changes, so the other device's \Answered survives (no "FLAGS (...)" that
 * would replace the server's set: a lost update). */
static void test_push_sends_only_local_changes(void **state)
{
    (void)state;
    static const uint32_t uids[] = {5};
    static const unsigned flags[] = {IMAP_FLAG_FLAGGED};
    struct imap_client_cache cache;
    cache_with(&cache, 42, 5, uids, flags, 1);
    assert_true(imap_client_cache_set_flags(&cache, 5, IMAP_FLAG_SEEN));
    static const struct exchange x[] = {
        {"* OK hi\r\n", "s001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"s001 OK done\r\n", "s002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        {"* 1 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 6] x\r\ns002 OK done\r\n",
         "s003 UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n", "", IMAP_CLIENT_PUSH_FLAGS},
        {"s003 OK done\r\n", "s004 UID STORE 5 -FLAGS.SILENT (\\Flagged)\r\n", "",
         IMAP_CLIENT_PUSH_FLAGS},
        {"s004 OK done\r\n", "s005 UID FETCH 1:5 (FLAGS)\r\n", "", IMAP_CLIENT_FETCH_FLAGS},
        /* EXISTS 1 and the one cached UID below UIDNEXT: nothing can have
         * been expunged, so no UID SEARCH ALL (RFC 3501 7.3.1, 2.3.1.1) */
        {"* 1 FETCH (UID 5 FLAGS (\\Seen \\Answered))\r\ns005 OK done\r\n",
         "s006 LOGOUT\r\n", "flags 5 0x3\n", IMAP_CLIENT_LOGOUT},
    };
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .tag_prefix = "s"};
    run_script("push local changes", &cfg, &cache, x, ARRAY_LEN(x));
    assert_false(cache.msgs[0].dirty);
    assert_int_equal(cache.msgs[0].flags, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED);
    assert_int_equal(cache.msgs[0].server_flags, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED);
}

/* When is UID SEARCH ALL (the expunge check) needed? Cached: UIDs 3, 5, 7
 * (last 7). Each case gives SELECT's EXISTS and UIDNEXT and what may come
 * during the flag fetch; the sync searches only when the count cannot
 * prove that nothing was expunged (RFC 3501 7.3.1 EXISTS, 2.3.1.1). */
struct skip_case {
    const char *name;
    const char *select;   /* the untagged SELECT data */
    const char *fetch;    /* the server's answer to UID FETCH 1:7 (FLAGS) */
    bool partial;         /* the cache once dropped a message (MAX_CACHE) */
    const char *then;     /* the client's next command */
};

static void test_expunge_search_skip(void **state)
{
    (void)state;
    static const uint32_t uids[] = {3, 5, 7};
    static const unsigned flags[] = {0, 0, 0};
    static const struct skip_case cases[] = {
        {"counts agree", "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 8] x\r\n",
         "s003 OK done\r\n", false, "s004 LOGOUT\r\n"},
        {"one fewer: something was expunged",
         "* 2 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 8] x\r\n", "s003 OK done\r\n",
         false, "s004 UID SEARCH ALL\r\n"},
        {"EXPUNGE during the sync", "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 8] x\r\n",
         "* 1 EXPUNGE\r\ns003 OK done\r\n", false, "s004 UID SEARCH ALL\r\n"},
        {"partial cache", "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 8] x\r\n",
         "s003 OK done\r\n", true, "s004 UID SEARCH ALL\r\n"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct skip_case *t = &cases[i];
        struct imap_client_cache cache;
        cache_with(&cache, 42, 7, uids, flags, 3);
        cache.partial = t->partial;
        char sel[256];
        snprintf(sel, sizeof sel, "%ss002 OK done\r\n", t->select);
        const bool search = strstr(t->then, "SEARCH") != NULL;
        const struct exchange x[] = {
            {"* OK hi\r\n", "s001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
            {"s001 OK done\r\n", "s002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
            {sel, "s003 UID FETCH 1:7 (FLAGS)\r\n", "", IMAP_CLIENT_FETCH_FLAGS},
            {t->fetch, t->then, "", search ? IMAP_CLIENT_SEARCH : IMAP_CLIENT_LOGOUT},
        };
        struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .tag_prefix = "s"};
        run_script(t->name, &cfg, &cache, x, ARRAY_LEN(x));
        assert_int_equal(cache.n, 3); /* nothing removed without a search */
    }
}

/* CONDSTORE (RFC 7162): cached UIDs 3, 5, 7 with HIGHESTMODSEQ cached_hms.
 * SELECT asks (CONDSTORE) when the greeting offers it; an unmoved
 * HIGHESTMODSEQ skips the flag fetch, a moved one asks CHANGEDSINCE. */
struct condstore_case {
    const char *name;
    uint64_t cached_hms;
    const char *select_code;  /* the HIGHESTMODSEQ / NOMODSEQ line */
    const char *next;         /* the client's command after SELECT */
    const char *fetch;        /* the server's answer to it ("" : none) */
    const char *log;          /* what the fetch reported */
    uint64_t hms_after;       /* the cache's HIGHESTMODSEQ at the end */
};

static void test_condstore_sync(void **state)
{
    (void)state;
    static const uint32_t uids[] = {3, 5, 7};
    static const unsigned flags[] = {0, 0, 0};
    static const struct condstore_case cases[] = {
        {"unmoved: no flag fetch", 90, "* OK [HIGHESTMODSEQ 90] x\r\n", "s003 LOGOUT\r\n", "", "",
         90},
        {"moved: CHANGEDSINCE", 80, "* OK [HIGHESTMODSEQ 90] x\r\n",
         "s003 UID FETCH 1:7 (FLAGS) (CHANGEDSINCE 80)\r\n",
         "* 2 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (85))\r\ns003 OK done\r\n", "flags 5 0x1\n", 90},
        {"a later MODSEQ wins", 80, "* OK [HIGHESTMODSEQ 90] x\r\n",
         "s003 UID FETCH 1:7 (FLAGS) (CHANGEDSINCE 80)\r\n",
         "* 3 FETCH (UID 7 FLAGS (\\Flagged) MODSEQ (93))\r\ns003 OK done\r\n", "flags 7 0x4\n", 93},
        {"first sync with CONDSTORE: every flag", 0, "* OK [HIGHESTMODSEQ 90] x\r\n",
         "s003 UID FETCH 1:7 (FLAGS)\r\n", "s003 OK done\r\n", "", 90},
        {"NOMODSEQ: every flag, nothing kept", 90, "* OK [NOMODSEQ] x\r\n",
         "s003 UID FETCH 1:7 (FLAGS)\r\n", "s003 OK done\r\n", "", 0},
        {"fetch refused: forgotten", 80, "* OK [HIGHESTMODSEQ 90] x\r\n",
         "s003 UID FETCH 1:7 (FLAGS) (CHANGEDSINCE 80)\r\n", "s003 NO busy\r\n", "", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct condstore_case *t = &cases[i];
        struct imap_client_cache cache;
        cache_with(&cache, 42, 7, uids, flags, 3);
        cache.highestmodseq = t->cached_hms;
        char sel[256];
        snprintf(sel, sizeof sel, "* 3 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 8] x\r\n%s"
                 "s002 OK done\r\n", t->select_code);
        const bool fetches = t->fetch[0] != 0;
        const struct exchange x[] = {
            {"* OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS CONDSTORE] hi\r\n", "s001 LOGIN mrc secret\r\n",
             "", IMAP_CLIENT_LOGIN},
            {"s001 OK done\r\n", "s002 SELECT INBOX (CONDSTORE)\r\n", "", IMAP_CLIENT_SELECT},
            {sel, t->next, "", fetches ? IMAP_CLIENT_FETCH_FLAGS : IMAP_CLIENT_LOGOUT},
            {fetches ? t->fetch : "s003 OK bye\r\n", fetches ? "s004 LOGOUT\r\n" : "",
             fetches ? t->log : "close\n", fetches ? IMAP_CLIENT_LOGOUT : IMAP_CLIENT_CLOSED},
        };
        struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .tag_prefix = "s"};
        run_script(t->name, &cfg, &cache, x, ARRAY_LEN(x));
        if (cache.highestmodseq != t->hms_after)
            fail_msg("%s: HIGHESTMODSEQ %llu, want %llu", t->name,
                     (unsigned long long)cache.highestmodseq, (unsigned long long)t->hms_after);
    }
}

static void test_full_sync(void **state)
{
    (void)state;
    /* Cached: UIDs 3 (\Seen), 5 and 7; the user flagged 5 \Seen here. On the
     * server: 3 was expunged, 7 got \Flagged, 9 is new. */
    static const uint32_t uids[] = {3, 5, 7};
    static const unsigned flags[] = {IMAP_FLAG_SEEN, 0, 0};
    struct imap_client_cache cache;
    cache_with(&cache, 42, 7, uids, flags, 3);
    assert_true(imap_client_cache_set_flags(&cache, 5, IMAP_FLAG_SEEN));
    assert_false(imap_client_cache_set_flags(&cache, 6, IMAP_FLAG_SEEN));
    static const struct exchange x[] = {
        {"* OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS] hi\r\n", "s001 LOGIN mrc secret\r\n", "",
         IMAP_CLIENT_LOGIN},
        {"s001 OK done\r\n", "s002 LIST \"\" *\r\n", "", IMAP_CLIENT_LIST},
        {"* LIST () \"/\" INBOX\r\n* LIST (\\Noselect) \"/\" Archive\r\ns002 OK done\r\n",
         "s003 SELECT INBOX\r\n", "folder INBOX\nfolder Archive\n", IMAP_CLIENT_SELECT},
        {"* 3 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 42] x\r\n* OK [UIDNEXT 10] x\r\n"
         "s003 OK [READ-WRITE] done\r\n",
         "s004 UID STORE 5 +FLAGS.SILENT (\\Seen)\r\n", "", IMAP_CLIENT_PUSH_FLAGS},
        {"s004 OK done\r\n", "s005 UID FETCH 8:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n", "",
         IMAP_CLIENT_FETCH_NEW},
        {"* 3 FETCH (UID 9 FLAGS (\\Recent) RFC822.SIZE 12 BODY[] {12}\r\nSubject: x\r\n)\r\n"
         "s005 OK done\r\n",
         "s006 UID FETCH 1:7 (FLAGS)\r\n", "new 9 0x0 12 [Subject: x\r\n]\n", IMAP_CLIENT_FETCH_FLAGS},
        {"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n* 2 FETCH (UID 7 FLAGS (\\Flagged))\r\ns006 OK done\r\n",
         "s007 UID SEARCH ALL\r\n", "flags 7 0x4\n", IMAP_CLIENT_SEARCH},
        {"* SEARCH 5 7 9\r\ns007 OK done\r\n", "s008 IDLE\r\n", "expunged 3\n", IMAP_CLIENT_IDLE},
        {"+ idling\r\n", "", "", IMAP_CLIENT_IDLE},
        /* New mail while idling: DONE, then sync again from UID 10. */
        {"* 4 EXISTS\r\n", "DONE\r\n", "", IMAP_CLIENT_DONE},
        {"s008 OK IDLE terminated\r\n", "s009 UID FETCH 10:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n",
         "", IMAP_CLIENT_FETCH_NEW},
        {"* 4 FETCH (UID 10 FLAGS () RFC822.SIZE 3 BODY[] {3}\r\nhi\n)\r\ns009 OK done\r\n",
         "s010 UID FETCH 1:9 (FLAGS)\r\n", "new 10 0x0 3 [hi\n]\n", IMAP_CLIENT_FETCH_FLAGS},
        {"s010 OK done\r\n", "s011 UID SEARCH ALL\r\n", "", IMAP_CLIENT_SEARCH},
        {"* SEARCH 5 7 9 10\r\ns011 OK done\r\n", "s012 IDLE\r\n", "", IMAP_CLIENT_IDLE},
    };
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .tag_prefix = "s",
                                     .list = true, .idle = true};
    run_script("full sync", &cfg, &cache, x, ARRAY_LEN(x));
    assert_int_equal(cache.n, 4);
    assert_int_equal(cache.last_uid, 10);
    assert_int_equal(cache.msgs[0].uid, 5);
    assert_int_equal(cache.msgs[0].flags, IMAP_FLAG_SEEN);
    assert_false(cache.msgs[0].dirty);
    assert_int_equal(cache.msgs[1].flags, IMAP_FLAG_FLAGGED);
    assert_int_equal(imap_client_cache_find(&cache, 10)->size, 3);
    assert_null(imap_client_cache_find(&cache, 3));
}

static void test_uidvalidity_change(void **state)
{
    (void)state;
    static const uint32_t uids[] = {1, 2};
    static const unsigned flags[] = {0, 0};
    struct imap_client_cache cache;
    cache_with(&cache, 7, 2, uids, flags, 2);
    static const struct exchange x[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK done\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        /* RFC 3501 2.3.1.1: a new UIDVALIDITY invalidates every cached UID. */
        {"* 1 EXISTS\r\n* OK [UIDVALIDITY 8] x\r\na002 OK done\r\n",
         "a003 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n", "reset\n", IMAP_CLIENT_FETCH_NEW},
        {"* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 2 BODY[] \"ab\")\r\na003 OK done\r\n",
         "a004 LOGOUT\r\n", "new 1 0x1 2 [ab]\n", IMAP_CLIENT_LOGOUT},
    };
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret"};
    run_script("UIDVALIDITY change", &cfg, &cache, x, ARRAY_LEN(x));
    assert_int_equal(cache.uidvalidity, 8);
    assert_int_equal(cache.n, 1);
    assert_int_equal(cache.last_uid, 1);
}

static void test_star_returns_highest(void **state)
{
    (void)state;
    static const uint32_t uids[] = {18};
    static const unsigned flags[] = {0};
    struct imap_client_cache cache;
    cache_with(&cache, 5, 18, uids, flags, 1);
    static const struct exchange x[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK done\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        /* No UIDNEXT: the client must ask. */
        {"* 1 EXISTS\r\n* OK [UIDVALIDITY 5] x\r\na002 OK done\r\n",
         "a003 UID FETCH 19:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n", "", IMAP_CLIENT_FETCH_NEW},
        /* RFC 3501 6.4.8: 19:* is 18:19 when 18 is the highest UID; the
         * answer for 18 is not a new message. */
        {"* 1 FETCH (UID 18 FLAGS () RFC822.SIZE 2 BODY[] \"ab\")\r\na003 OK done\r\n",
         "a004 UID FETCH 1:18 (FLAGS)\r\n", "", IMAP_CLIENT_FETCH_FLAGS},
        {"* 1 FETCH (FLAGS (\\Seen) UID 18)\r\na004 OK done\r\n", "a005 UID SEARCH ALL\r\n",
         "flags 18 0x1\n", IMAP_CLIENT_SEARCH},
        {"* SEARCH 18\r\na005 OK done\r\n", "a006 LOGOUT\r\n", "", IMAP_CLIENT_LOGOUT},
    };
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret"};
    run_script("n:* returns the highest", &cfg, &cache, x, ARRAY_LEN(x));
    assert_int_equal(cache.last_uid, 18);
    assert_int_equal(cache.n, 1);
}

static void test_starttls_authenticate(void **state)
{
    (void)state;
    struct imap_client_cache cache;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .starttls = true,
                                     .authenticate = true, .expunge = true, .cache = &cache};
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        memset(&cache, 0, sizeof cache);
        struct imap_client *c = imap_client_new(&cfg);
        struct got g;
        step(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n", modes[m], &g);
        assert_string_equal(g.sent, "a001 STARTTLS\r\n");
        /* Bytes after the OK belong to the TLS stream: not taken now. */
        step(c, "a001 OK go\r\n", modes[m], &g);
        assert_string_equal(g.log, "starttls\n");
        assert_int_equal(imap_client_state(c), IMAP_CLIENT_TLS);
        assert_int_equal(imap_client_feed(c, "* OK\r\n", 6), 0);
        imap_client_tls_started(c);
        /* RFC 3501 6.2.1: ask again after TLS. */
        step(c, "", modes[m], &g);
        assert_string_equal(g.sent, "a002 CAPABILITY\r\n");
        step(c, "* CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE\r\na002 OK done\r\n", modes[m], &g);
        assert_string_equal(g.sent, "a003 AUTHENTICATE PLAIN\r\n");
        step(c, "+ \r\n", modes[m], &g);
        assert_string_equal(g.sent, "AG1yYwBzZWNyZXQ=\r\n");
        step(c, "a003 OK done\r\n", modes[m], &g);
        assert_string_equal(g.sent, "a004 SELECT INBOX\r\n");
        step(c, "* 1 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 2] x\r\na004 OK done\r\n",
             modes[m], &g);
        assert_string_equal(g.sent, "a005 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\n");
        step(c, "* 1 FETCH (UID 1 FLAGS (\\Deleted) RFC822.SIZE 1 BODY[] \"x\")\r\na005 OK done\r\n",
             modes[m], &g);
        /* expunge = true and a cached message is \Deleted. */
        assert_string_equal(g.sent, "a006 EXPUNGE\r\n");
        step(c, "* 1 EXPUNGE\r\na006 OK done\r\n", modes[m], &g);
        assert_string_equal(g.log, "expunged 1\n");
        assert_string_equal(g.sent, "a007 LOGOUT\r\n");
        assert_int_equal(cache.n, 0);
        imap_client_free(c);
    }
}

/* ---- failures: each a named script ---------------------------------------- */

static void test_failures(void **state)
{
    (void)state;
    static const struct exchange login_refused[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 NO [AUTHENTICATIONFAILED] no\r\n", "a002 LOGOUT\r\n", "error login refused\n",
         IMAP_CLIENT_LOGOUT},
        {"* BYE bye\r\na002 OK bye\r\n", "", "close\n", IMAP_CLIENT_CLOSED},
    };
    static const struct exchange greeting_bye[] = {
        {"* BYE too busy\r\n", "", "error server refused the connection\nclose\n", IMAP_CLIENT_CLOSED},
    };
    static const struct exchange preauth[] = {
        {"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n", "a001 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
    };
    static const struct exchange select_refused[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK hi\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        {"a002 NO [NONEXISTENT] no\r\n", "a003 LOGOUT\r\n", "error SELECT refused\n", IMAP_CLIENT_LOGOUT},
    };
    static const struct exchange logindisabled[] = {
        {"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\n", "a001 LOGOUT\r\n",
         "error server disabled LOGIN (LOGINDISABLED)\n", IMAP_CLIENT_LOGOUT},
    };
    static const struct exchange bye_mid_session[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"* BYE shutting down\r\n", "", "error server closed the session (BYE)\nclose\n",
         IMAP_CLIENT_CLOSED},
    };
    static const struct exchange garbage_skipped[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        /* malformed lines are skipped by the reader, the tag still counts */
        {"* 12 FROBNICATE\r\n)(\r\nzz\r\na001 OK hi\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
    };
    static const struct exchange wrong_tag_ignored[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"b001 OK not yours\r\n", "", "", IMAP_CLIENT_LOGIN},
    };
    static const struct exchange idle_refused[] = {
        {"* OK hi\r\n", "a001 LOGIN mrc secret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK hi\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
        {"* 0 EXISTS\r\na002 OK hi\r\n", "a003 IDLE\r\n", "", IMAP_CLIENT_IDLE},
        {"a003 BAD unknown command\r\n", "a004 LOGOUT\r\n", "", IMAP_CLIENT_LOGOUT},
    };
    static const struct exchange login_literal[] = {
        /* A password with a '"' goes as a literal: wait for "+" (RFC 3501 7.5). */
        {"* OK hi\r\n", "a001 LOGIN mrc {7}\r\n", "", IMAP_CLIENT_LOGIN},
        {"+ Ready for literal data\r\n", "se\"cret\r\n", "", IMAP_CLIENT_LOGIN},
        {"a001 OK hi\r\n", "a002 SELECT INBOX\r\n", "", IMAP_CLIENT_SELECT},
    };
    static const struct {
        const char *name;
        const struct exchange *x;
        size_t n;
        bool idle;
    } scripts[] = {
        {"LOGIN with a literal", login_literal, ARRAY_LEN(login_literal), false},
        {"login refused", login_refused, ARRAY_LEN(login_refused), false},
        {"greeting BYE", greeting_bye, ARRAY_LEN(greeting_bye), false},
        {"PREAUTH skips login", preauth, ARRAY_LEN(preauth), false},
        {"SELECT refused", select_refused, ARRAY_LEN(select_refused), false},
        {"LOGINDISABLED without STARTTLS", logindisabled, ARRAY_LEN(logindisabled), false},
        {"BYE in the middle", bye_mid_session, ARRAY_LEN(bye_mid_session), false},
        {"malformed responses skipped", garbage_skipped, ARRAY_LEN(garbage_skipped), false},
        {"another tag's reply ignored", wrong_tag_ignored, ARRAY_LEN(wrong_tag_ignored), false},
        {"IDLE refused", idle_refused, ARRAY_LEN(idle_refused), true},
    };
    for (size_t i = 0; i < ARRAY_LEN(scripts); i++) {
        struct imap_client_cache cache;
        memset(&cache, 0, sizeof cache);
        struct imap_client_config cfg = {.user = "mrc", .pass = i == 0 ? "se\"cret" : "secret",
                                         .idle = scripts[i].idle};
        run_script(scripts[i].name, &cfg, &cache, scripts[i].x, scripts[i].n);
    }
}

/* Every cached message expunged at once: one event each, nothing lost. */
static void test_mass_expunge(void **state)
{
    (void)state;
    struct imap_client_cache *cache = calloc(1, sizeof *cache);
    assert_non_null(cache);
    cache->uidvalidity = 9;
    cache->last_uid = IMAP_CLIENT_MAX_CACHE;
    cache->n = IMAP_CLIENT_MAX_CACHE;
    for (size_t i = 0; i < cache->n; i++) cache->msgs[i].uid = (uint32_t)i + 1;
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .cache = cache};
    struct imap_client *c = imap_client_new(&cfg);
    struct got g;
    step(c, "* OK hi\r\na001 OK hi\r\n", FEED_WHOLE, &g);
    step(c, "* 0 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\na002 OK hi\r\n", FEED_WHOLE, &g);
    assert_string_equal(g.sent, "a003 UID FETCH 1:1024 (FLAGS)\r\n");
    step(c, "a003 OK hi\r\n", FEED_WHOLE, &g);
    assert_string_equal(g.sent, "a004 UID SEARCH ALL\r\n");
    /* count the events rather than keep them all */
    struct imap_client_event ev;
    size_t off = 0, expunged = 0;
    const char *in = "* SEARCH\r\na004 OK hi\r\n";
    while (off < strlen(in)) off += imap_client_feed(c, in + off, strlen(in) - off);
    enum imap_client_ev t;
    while ((t = imap_client_next(c, &ev)) != IMAP_CLIENT_NEED_MORE)
        if (t == IMAP_CLIENT_EV_EXPUNGED) expunged++;
    assert_int_equal(expunged, IMAP_CLIENT_MAX_CACHE);
    assert_int_equal(cache->n, 0);
    assert_int_equal(imap_client_state(c), IMAP_CLIENT_LOGOUT);
    imap_client_free(c);
    free(cache);
}

static void test_bad_config(void **state)
{
    (void)state;
    struct imap_client_cache cache;
    memset(&cache, 0, sizeof cache);
    char longname[IMAP_MBX_USER_MAX + 2];
    memset(longname, 'u', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    struct imap_client_config empty_pass = {.user = "mrc", .pass = "", .cache = &cache};
    struct imap_client_config long_user = {.user = longname, .pass = "x", .cache = &cache};
    assert_null(imap_client_new(&empty_pass));
    assert_null(imap_client_new(&long_user));
    longname[IMAP_MBX_USER_MAX] = 0; /* exactly the maximum is fine */
    struct imap_client *c = imap_client_new(&long_user);
    assert_non_null(c);
    imap_client_free(c);
}

static void test_stop_while_idle(void **state)
{
    (void)state;
    struct imap_client_cache cache;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = "mrc", .pass = "secret", .idle = true, .cache = &cache};
    struct imap_client *c = imap_client_new(&cfg);
    struct got g;
    step(c, "* OK hi\r\n", FEED_WHOLE, &g);
    step(c, "a001 OK hi\r\n", FEED_WHOLE, &g);
    step(c, "* 0 EXISTS\r\na002 OK hi\r\n", FEED_WHOLE, &g);
    step(c, "+ idling\r\n", FEED_WHOLE, &g);
    assert_int_equal(imap_client_state(c), IMAP_CLIENT_IDLE);
    imap_client_stop(c);
    step(c, "", FEED_WHOLE, &g);
    assert_string_equal(g.sent, "DONE\r\n");
    step(c, "a003 OK IDLE terminated\r\n", FEED_BYTEWISE, &g);
    assert_string_equal(g.sent, "a004 LOGOUT\r\n");
    imap_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3501_section8),
        cmocka_unit_test(test_full_sync),
        cmocka_unit_test(test_push_sends_only_local_changes),
        cmocka_unit_test(test_expunge_search_skip),
        cmocka_unit_test(test_condstore_sync),
        cmocka_unit_test(test_uidvalidity_change),
        cmocka_unit_test(test_star_returns_highest),
        cmocka_unit_test(test_starttls_authenticate),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_stop_while_idle),
        cmocka_unit_test(test_mass_expunge),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests_name("imap_client", tests, NULL, NULL);
}
