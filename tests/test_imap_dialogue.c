/* Client and server machines talking through an in-memory pump over one
 * shared store: a phone syncs, new mail arrives and IDLE pushes it, a laptop
 * syncs too, and flags and an expunge made on one device reach the other.
 * The bytes between the machines are passed whole and byte by byte. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/imap_client.h"
#include "protocols/imap_server.h"
#include "tests/imap_memstore.h"

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

static void sb_drop(struct sbuf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = 0;
}

static void sb_clear(struct sbuf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = 0;
}

/* One device's connection: its client, the server session serving it, the
 * bytes in flight each way, the wire transcript and the client's events. */
struct conn {
    struct imap_client *c;
    struct imap_server *s;
    enum feed_mode mode;
    struct sbuf c2s, s2c, wire, log;
};

static void conn_open(struct conn *k, struct memstore *ms, struct imap_client_cache *cache,
                      bool expunge, enum feed_mode mode)
{
    memset(k, 0, sizeof *k);
    struct imap_server_config scfg = {.mailbox = memstore_mailbox(ms)};
    k->s = imap_server_new(&scfg);
    struct imap_client_config ccfg = {.user = "ann", .pass = "pw", .list = true, .idle = true,
                                      .expunge = expunge, .cache = cache};
    k->c = imap_client_new(&ccfg);
    assert_non_null(k->s);
    assert_non_null(k->c);
    k->mode = mode;
}

static void conn_close(struct conn *k)
{
    imap_client_free(k->c);
    imap_server_free(k->s);
    free(k->c2s.p);
    free(k->s2c.p);
    free(k->wire.p);
    free(k->log.p);
}

/* Writes "C: line" / "S: line" to the transcript for every line of p. */
static void transcript(struct sbuf *w, char who, const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') continue;
        size_t end = i > start && p[i - 1] == '\r' ? i - 1 : i;
        sb_printf(w, "%c: %.*s\n", who, (int)(end - start), p + start);
        start = i + 1;
    }
}

/* Runs both machines until neither has anything to say. */
static void pump(struct conn *k)
{
    for (int rounds = 0; rounds < 100000; rounds++) {
        bool progress = false;
        struct imap_client_event ce;
        enum imap_client_ev ct;
        while ((ct = imap_client_next(k->c, &ce)) != IMAP_CLIENT_NEED_MORE) {
            progress = true;
            if (ct == IMAP_CLIENT_EV_SEND) {
                sb_add(&k->c2s, ce.data, ce.len);
                transcript(&k->wire, 'C', ce.data, ce.len);
            } else if (ct == IMAP_CLIENT_EV_NEW) {
                sb_printf(&k->log, "new %u flags 0x%x\n", (unsigned)ce.uid, ce.flags);
            } else if (ct == IMAP_CLIENT_EV_FLAGS || ct == IMAP_CLIENT_EV_EXPUNGED) {
                sb_printf(&k->log, "%s %u 0x%x\n", imap_client_ev_names[ct], (unsigned)ce.uid, ce.flags);
            } else if (ct == IMAP_CLIENT_EV_CLOSE || ct == IMAP_CLIENT_EV_ERROR) {
                sb_printf(&k->log, "%s\n", imap_client_ev_names[ct]);
            }
        }
        struct imap_server_event se;
        enum imap_server_ev st;
        while ((st = imap_server_next(k->s, &se)) != IMAP_SERVER_NEED_MORE) {
            progress = true;
            if (st == IMAP_SERVER_EV_SEND) {
                sb_add(&k->s2c, se.data, se.len);
                transcript(&k->wire, 'S', se.data, se.len);
            }
        }
        if (k->c2s.len) {
            size_t n = imap_server_feed(k->s, k->c2s.p, feed_chunk(k->mode, k->c2s.len));
            if (n) {
                sb_drop(&k->c2s, n);
                progress = true;
            }
        }
        if (k->s2c.len) {
            size_t n = imap_client_feed(k->c, k->s2c.p, feed_chunk(k->mode, k->s2c.len));
            if (n) {
                sb_drop(&k->s2c, n);
                progress = true;
            }
        }
        if (!progress) return;
    }
    fail_msg("the machines never went quiet");
}

static void deliver(struct memstore *ms, const char *subject)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "From: bob@example.org\r\nTo: ann@example.com\r\n"
                                      "Subject: %s\r\n\r\nHello.\r\n", subject);
    assert_int_not_equal(memstore_add(ms, "ann", "INBOX", 0, 0, 1795683600, 0, msg, (size_t)n, true), 0);
}

static void test_dialogue(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct memstore *ms = memstore_new();
        assert_int_equal(memstore_add_user(ms, "ann", "pw"), 0);
        deliver(ms, "one");
        deliver(ms, "two");
        struct imap_client_cache *phone = calloc(1, sizeof *phone);
        struct imap_client_cache *laptop = calloc(1, sizeof *laptop);
        struct conn p, l;

        /* 1. The phone syncs both messages and waits in IDLE. */
        conn_open(&p, ms, phone, true, modes[m]);
        pump(&p);
        assert_string_equal(p.wire.p,
                            "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS] mailsim IMAP4rev1 Service Ready\n"
                            "C: a001 LOGIN ann pw\n"
                            "S: a001 OK LOGIN completed\n"
                            "C: a002 LIST \"\" *\n"
                            "S: * LIST () \"/\" INBOX\n"
                            "S: a002 OK LIST completed\n"
                            "C: a003 SELECT INBOX\n"
                            "S: * 2 EXISTS\n"
                            "S: * 2 RECENT\n"
                            "S: * OK [UNSEEN 1] Message 1 is the first unseen message\n"
                            "S: * OK [UIDVALIDITY 1] UIDs valid\n"
                            "S: * OK [UIDNEXT 3] Predicted next UID\n"
                            "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n"
                            "S: * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited\n"
                            "S: a003 OK [READ-WRITE] SELECT completed\n"
                            "C: a004 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\n"
                            "S: * 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE 68 BODY[] {68}\n"
                            "S: From: bob@example.org\n"
                            "S: To: ann@example.com\n"
                            "S: Subject: one\n"
                            "S: \n"
                            "S: Hello.\n"
                            "S: )\n"
                            "S: * 2 FETCH (UID 2 FLAGS (\\Recent) RFC822.SIZE 68 BODY[] {68}\n"
                            "S: From: bob@example.org\n"
                            "S: To: ann@example.com\n"
                            "S: Subject: two\n"
                            "S: \n"
                            "S: Hello.\n"
                            "S: )\n"
                            "S: a004 OK UID FETCH completed\n"
                            "C: a005 IDLE\n"
                            "S: + idling\n");
        assert_string_equal(p.log.p, "new 1 flags 0x0\nnew 2 flags 0x0\n");
        assert_int_equal(imap_client_state(p.c), IMAP_CLIENT_IDLE);
        assert_int_equal(phone->n, 2);
        assert_int_equal(phone->last_uid, 2);

        /* 2. Mail arrives; the store tells the session; IDLE pushes it. */
        deliver(ms, "three");
        sb_clear(&p.wire);
        sb_clear(&p.log);
        imap_server_poll(p.s);
        pump(&p);
        assert_string_equal(p.wire.p,
                            "S: * 3 EXISTS\n"
                            "S: * 3 RECENT\n"
                            "C: DONE\n"
                            "S: a005 OK IDLE terminated\n"
                            "C: a006 UID FETCH 3:* (UID FLAGS RFC822.SIZE BODY.PEEK[])\n"
                            "S: * 3 FETCH (UID 3 FLAGS (\\Recent) RFC822.SIZE 70 BODY[] {70}\n"
                            "S: From: bob@example.org\n"
                            "S: To: ann@example.com\n"
                            "S: Subject: three\n"
                            "S: \n"
                            "S: Hello.\n"
                            "S: )\n"
                            "S: a006 OK UID FETCH completed\n"
                            "C: a007 UID FETCH 1:2 (FLAGS)\n"
                            "S: * 1 FETCH (FLAGS (\\Recent) UID 1)\n"
                            "S: * 2 FETCH (FLAGS (\\Recent) UID 2)\n"
                            "S: a007 OK UID FETCH completed\n"
                            "C: a008 UID SEARCH ALL\n"
                            "S: * SEARCH 1 2 3\n"
                            "S: a008 OK UID SEARCH completed\n"
                            "C: a009 IDLE\n"
                            "S: + idling\n");
        assert_string_equal(p.log.p, "new 3 flags 0x0\n");
        assert_int_equal(phone->n, 3);

        /* 3. The laptop syncs all three (no \Recent left for it). */
        conn_open(&l, ms, laptop, false, modes[m]);
        pump(&l);
        assert_string_equal(l.log.p, "new 1 flags 0x0\nnew 2 flags 0x0\nnew 3 flags 0x0\n");
        assert_int_equal(imap_client_state(l.c), IMAP_CLIENT_IDLE);

        /* 4. Read on the laptop: stored, then seen by the phone. */
        assert_true(imap_client_cache_set_flags(laptop, 1, IMAP_FLAG_SEEN));
        sb_clear(&l.wire);
        imap_client_wake(l.c);
        pump(&l);
        assert_non_null(strstr(l.wire.p, "C: DONE\n"));
        assert_non_null(strstr(l.wire.p, "C: a006 UID STORE 1 +FLAGS.SILENT (\\Seen)\nS: a006 OK UID +FLAGS completed\n"));
        assert_int_equal(memstore_flags(ms, "ann", "INBOX", 1), IMAP_FLAG_SEEN);
        sb_clear(&p.wire);
        sb_clear(&p.log);
        imap_server_poll(p.s);
        pump(&p);
        assert_non_null(strstr(p.wire.p, "S: * 1 FETCH (FLAGS (\\Seen \\Recent))\nC: DONE\n"));
        assert_string_equal(p.log.p, "flags 1 0x1\n");
        assert_int_equal(imap_client_cache_find(phone, 1)->flags, IMAP_FLAG_SEEN);

        /* 5. Flagged and deleted on the phone, which expunges: the laptop
         * hears both. */
        assert_true(imap_client_cache_set_flags(phone, 3, IMAP_FLAG_FLAGGED));
        assert_true(imap_client_cache_set_flags(phone, 2, IMAP_FLAG_DELETED));
        sb_clear(&p.wire);
        sb_clear(&p.log);
        imap_client_wake(p.c);
        pump(&p);
        assert_non_null(strstr(p.wire.p, "C: a019 EXPUNGE\nS: * 2 EXPUNGE\nS: a019 OK EXPUNGE completed\n"));
        assert_string_equal(p.log.p, "expunged 2 0x0\n");
        assert_int_equal(memstore_count(ms, "ann", "INBOX"), 2);
        sb_clear(&l.log);
        imap_server_poll(l.s);
        pump(&l);
        assert_string_equal(l.log.p, "flags 3 0x4\nexpunged 2 0x0\n");
        assert_int_equal(laptop->n, 2);
        assert_int_equal(imap_client_cache_find(laptop, 3)->flags, IMAP_FLAG_FLAGGED);

        /* 6. Both hang up politely. */
        imap_client_stop(p.c);
        imap_client_stop(l.c);
        pump(&p);
        pump(&l);
        assert_int_equal(imap_client_state(p.c), IMAP_CLIENT_CLOSED);
        assert_int_equal(imap_client_state(l.c), IMAP_CLIENT_CLOSED);
        assert_int_equal(imap_server_state(p.s), IMAP_SERVER_LOGOUT);
        assert_int_equal(imap_server_state(l.s), IMAP_SERVER_LOGOUT);

        conn_close(&p);
        conn_close(&l);
        free(phone);
        free(laptop);
        memstore_free(ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialogue),
    };
    return cmocka_run_group_tests_name("imap_dialogue", tests, NULL, NULL);
}
