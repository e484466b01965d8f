/* The mail store: accounts and folders, delivery and quota, UIDs and
 * UIDVALIDITY, the SIM_TR_MAIL events, the IMAP and POP3 interfaces. */
#include "tests/testkit.h"

#include <stdio.h>

#include "sim/store.h"

static struct sim_engine engine;

/* 2026-11-26 09:00:00 UTC: the simulated wall time at t = 0. */
#define EPOCH 1795683600

static struct sim_store *setup(void)
{
    assert_int_equal(sim_engine_init(&engine, 1), 0);
    struct sim_store *s = sim_store_new(&engine, "mx", EPOCH);
    assert_non_null(s);
    assert_int_equal(sim_store_add_account(s, "friend@example.org", "secret", 1000), SIM_STORE_OK);
    assert_int_equal(sim_store_add_account(s, "other@example.org", "pw", 0), SIM_STORE_OK);
    return s;
}

static void teardown(struct sim_store *s)
{
    sim_store_free(s);
    sim_engine_fini(&engine);
}

/* A message of exactly size octets (CRLF line ends). */
static size_t make_msg(char *out, size_t size, const char *from, const char *subject)
{
    size_t o = (size_t)sprintf(out, "From: %s\r\nSubject: %s\r\n\r\n", from, subject);
    while (o < size) {
        size_t left = size - o;
        size_t n = left >= 42 ? 38 : left - 2;
        memset(out + o, 'x', n);
        o += n;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    out[o] = 0;
    return o;
}

static const struct sim_trace_event *last_mail(void)
{
    for (size_t i = sim_trace_len(engine.trace); i-- > 0;) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind == SIM_TR_MAIL) return ev;
    }
    return NULL;
}

static void test_accounts(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    assert_int_equal(sim_store_add_account(s, "friend@example.org", "x", 0), SIM_STORE_EXISTS);
    assert_int_equal(sim_store_add_account(s, "FRIEND@Example.org", "x", 0), SIM_STORE_EXISTS);
    assert_true(sim_store_has_account(s, "friend@example.org"));
    assert_false(sim_store_has_account(s, "nobody@example.org"));
    assert_true(sim_store_check_password(s, "friend@example.org", "secret"));
    assert_false(sim_store_check_password(s, "friend@example.org", "Secret"));
    assert_false(sim_store_check_password(s, "nobody@example.org", "secret"));
    /* the four standard folders, subscribed, UIDVALIDITY from a counter */
    struct imap_mailbox mb = sim_store_imap(s);
    struct imap_mbx_folder f[8];
    size_t n;
    assert_int_equal(mb.ops->list(mb.ctx, "friend@example.org", f, 8, &n), IMAP_MBX_OK);
    assert_int_equal(n, 4);
    const char *names[] = {"INBOX", "Sent", "Drafts", "Trash"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(f[i].name, names[i]);
        assert_true(f[i].subscribed);
        struct imap_mbx_status st;
        assert_int_equal(mb.ops->status(mb.ctx, "friend@example.org", names[i], &st), IMAP_MBX_OK);
        assert_int_equal(st.uidvalidity, i + 1);
        assert_int_equal(st.uidnext, 1);
        assert_int_equal(st.count, 0);
    }
    struct imap_mbx_status st;
    assert_int_equal(mb.ops->status(mb.ctx, "other@example.org", "INBOX", &st), IMAP_MBX_OK);
    assert_int_equal(st.uidvalidity, 5);
    assert_int_equal(mb.ops->authenticate(mb.ctx, "friend@example.org", "secret"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->authenticate(mb.ctx, "friend@example.org", "nope"), IMAP_MBX_DENIED);
    teardown(s);
}

static void test_delivery_and_quota(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    char msg[1200];
    uint32_t uid = 0;
    size_t n = make_msg(msg, 600, "a@example.com", "one");
    assert_int_equal(sim_store_deliver(s, "friend@example.org", "INBOX", msg, n, 0, &uid, NULL),
                     SIM_STORE_OK);
    assert_int_equal(uid, 1);
    assert_int_equal(sim_store_usage(s, "friend@example.org"), 600);
    assert_true(sim_store_fits(s, "friend@example.org", 400));
    assert_false(sim_store_fits(s, "friend@example.org", 401));
    /* up to the exact limit is fine; one octet past it is FULL */
    n = make_msg(msg, 400, "a@example.com", "two");
    assert_int_equal(sim_store_deliver(s, "friend@example.org", "INBOX", msg, n, 0, &uid, NULL),
                     SIM_STORE_OK);
    assert_int_equal(uid, 2);
    assert_int_equal(sim_store_usage(s, "friend@example.org"), 1000);
    assert_false(sim_store_fits(s, "friend@example.org", 1));
    assert_true(sim_store_fits(s, "friend@example.org", 0));
    size_t steps = sim_trace_len(engine.trace);
    n = make_msg(msg, 40, "a@example.com", "x");
    assert_int_equal(sim_store_deliver(s, "friend@example.org", "INBOX", msg, n, 0, &uid, NULL),
                     SIM_STORE_FULL);
    assert_int_equal(sim_trace_len(engine.trace), steps); /* nothing recorded */
    assert_int_equal(sim_store_count(s, "friend@example.org", "INBOX"), 2);
    /* IMAP APPEND and COPY count too: NO [LIMIT] comes from FULL */
    struct imap_mailbox mb = sim_store_imap(s);
    uint32_t uv, nu;
    assert_int_equal(mb.ops->append(mb.ctx, "friend@example.org", "Sent", 0, EPOCH, 0, msg, n,
                                    &uv, &nu),
                     IMAP_MBX_FULL);
    assert_int_equal(mb.ops->copy(mb.ctx, "friend@example.org", "INBOX", 1, "Trash", &uv, &nu),
                     IMAP_MBX_FULL);
    /* no account, no folder; an account without quota takes anything */
    assert_int_equal(sim_store_deliver(s, "nobody@example.org", "INBOX", msg, n, 0, NULL, NULL),
                     SIM_STORE_NO_ACCOUNT);
    assert_int_equal(sim_store_deliver(s, "friend@example.org", "Spam", msg, n, 0, NULL, NULL),
                     SIM_STORE_NO_FOLDER);
    assert_false(sim_store_fits(s, "nobody@example.org", 1));
    assert_true(sim_store_fits(s, "other@example.org", 100000000));
    /* a lesson's "mailbox full": even an empty mailbox takes nothing more */
    assert_true(sim_store_quota(s, "other@example.org") == SIZE_MAX);
    assert_int_equal(sim_store_make_full(s, "other@example.org"), SIM_STORE_OK);
    assert_int_equal(sim_store_quota(s, "other@example.org"), 0);
    assert_false(sim_store_fits(s, "other@example.org", 1));
    assert_int_equal(sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, NULL),
                     SIM_STORE_FULL);
    assert_int_equal(sim_store_set_quota(s, "other@example.org", 0), SIM_STORE_OK); /* unlimited */
    assert_int_equal(sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, NULL),
                     SIM_STORE_OK);
    assert_int_equal(sim_store_set_quota(s, "other@example.org", n + 10), SIM_STORE_OK);
    assert_true(sim_store_fits(s, "other@example.org", 10));
    assert_false(sim_store_fits(s, "other@example.org", 11));
    assert_int_equal(sim_store_make_full(s, "nobody@example.org"), SIM_STORE_NO_ACCOUNT);
    assert_int_equal(sim_store_set_quota(s, "nobody@example.org", 5), SIM_STORE_NO_ACCOUNT);
    /* removing frees quota */
    assert_int_equal(mb.ops->expunge(mb.ctx, "friend@example.org", "INBOX", 2), IMAP_MBX_OK);
    assert_int_equal(sim_store_usage(s, "friend@example.org"), 600);
    assert_true(sim_store_fits(s, "friend@example.org", 400));
    teardown(s);
}

static void test_uids_and_uidvalidity(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct imap_mailbox mb = sim_store_imap(s);
    char msg[200];
    size_t n = make_msg(msg, 100, "a@example.com", "m");
    for (int i = 0; i < 3; i++)
        assert_int_equal(sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, ""),
                         SIM_STORE_OK);
    struct imap_mbx_status st;
    mb.ops->status(mb.ctx, "other@example.org", "INBOX", &st);
    assert_int_equal(st.uidnext, 4);
    assert_int_equal(st.count, 3);
    uint64_t modseq = st.modseq;
    /* RFC 3501 2.3.1.1: an expunged UID is never given again */
    assert_int_equal(mb.ops->expunge(mb.ctx, "other@example.org", "INBOX", 3), IMAP_MBX_OK);
    uint32_t uid;
    assert_int_equal(sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, &uid, ""),
                     SIM_STORE_OK);
    assert_int_equal(uid, 4);
    mb.ops->status(mb.ctx, "other@example.org", "INBOX", &st);
    assert_true(st.modseq == modseq + 2);
    struct imap_mbx_msg m;
    assert_int_equal(mb.ops->msg_at(mb.ctx, "other@example.org", "INBOX", 2, &m), IMAP_MBX_OK);
    assert_int_equal(m.uid, 4);
    assert_int_equal(mb.ops->msg_at(mb.ctx, "other@example.org", "INBOX", 3, &m),
                     IMAP_MBX_NONEXISTENT);
    /* a folder made anew under an old name gets a new UIDVALIDITY */
    assert_int_equal(mb.ops->create(mb.ctx, "other@example.org", "Work/"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->create(mb.ctx, "other@example.org", "Work"), IMAP_MBX_EXISTS);
    mb.ops->status(mb.ctx, "other@example.org", "Work", &st);
    assert_int_equal(st.uidvalidity, 9);
    assert_int_equal(mb.ops->remove(mb.ctx, "other@example.org", "Work"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->create(mb.ctx, "other@example.org", "Work"), IMAP_MBX_OK);
    mb.ops->status(mb.ctx, "other@example.org", "Work", &st);
    assert_int_equal(st.uidvalidity, 10);
    /* INBOX stays */
    assert_int_equal(mb.ops->remove(mb.ctx, "other@example.org", "INBOX"), IMAP_MBX_DENIED);
    assert_int_equal(mb.ops->rename(mb.ctx, "other@example.org", "INBOX", "Old"), IMAP_MBX_DENIED);
    assert_int_equal(mb.ops->remove(mb.ctx, "other@example.org", "Nope"), IMAP_MBX_NONEXISTENT);
    teardown(s);
}

static void test_mail_events(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct imap_mailbox mb = sim_store_imap(s);
    engine.now = SIM_SEC(90);
    /* "Grüße" as an RFC 2047 word; the From display name is dropped */
    static const char msg[] = "From: Manish <manish@example.com>\r\n"
                              "To: friend@example.org\r\n"
                              "Subject: =?UTF-8?B?R3LDvMOfZQ==?= from Manish\r\n"
                              "\r\n"
                              "Hello!\r\n";
    uint32_t uid;
    assert_int_equal(sim_store_deliver(s, "friend@example.org", "INBOX", msg, sizeof msg - 1, 0,
                                       &uid, NULL),
                     SIM_STORE_OK);
    const struct sim_trace_event *ev = last_mail();
    assert_non_null(ev);
    assert_int_equal(ev->proto, SIM_PROTO_STORE);
    assert_int_equal(ev->mail.change, SIM_MAIL_ADDED);
    assert_string_equal(ev->from, "mx");
    assert_string_equal(ev->mail.owner, "mx");
    assert_string_equal(ev->mail.account, "friend@example.org");
    assert_string_equal(ev->mail.folder, "INBOX");
    assert_int_equal(ev->mail.uid, 1);
    assert_int_equal(ev->mail.flags, 0);
    assert_int_equal(ev->mail.size, sizeof msg - 1);
    assert_string_equal(ev->mail.subject, "Grüße from Manish");
    assert_string_equal(ev->mail.from, "manish@example.com");
    assert_string_equal(ev->note, "delivered to friend@example.org's INBOX");
    assert_true(ev->t == SIM_SEC(90));
    /* the internal date is the simulated clock */
    const struct sim_stored_msg *sm = sim_store_msg(s, "friend@example.org", "INBOX", 0);
    assert_non_null(sm);
    assert_true(sm->internal_date == EPOCH + 90);
    assert_memory_equal(sm->bytes, msg, sizeof msg - 1);

    struct {
        const char *name;
        unsigned flags;
        const char *note;
    } cases[] = {
        {"read", IMAP_FLAG_SEEN, "marked as read (\\Seen)"},
        {"deleted too", IMAP_FLAG_SEEN | IMAP_FLAG_DELETED,
         "marked for deletion (\\Deleted): EXPUNGE will remove it"},
        {"unread, undeleted, flagged", IMAP_FLAG_FLAGGED,
         "marked as unread (\\Seen removed); flagged as important (\\Flagged); no longer "
         "marked for deletion (\\Deleted removed)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(mb.ops->set_flags(mb.ctx, "friend@example.org", "INBOX", 1,
                                           cases[i].flags),
                         IMAP_MBX_OK);
        ev = last_mail();
        assert_int_equal(ev->mail.change, SIM_MAIL_FLAGS);
        assert_int_equal(ev->mail.flags, cases[i].flags);
        assert_string_equal(ev->note, cases[i].note);
        assert_string_equal(ev->mail.subject, "Grüße from Manish");
    }
    /* the same flags again change nothing and record nothing */
    size_t steps = sim_trace_len(engine.trace);
    mb.ops->set_flags(mb.ctx, "friend@example.org", "INBOX", 1, IMAP_FLAG_FLAGGED);
    assert_int_equal(sim_trace_len(engine.trace), steps);
    /* COPY, APPEND, EXPUNGE */
    uint32_t uv, nu;
    assert_int_equal(mb.ops->copy(mb.ctx, "friend@example.org", "INBOX", 1, "Trash", &uv, &nu),
                     IMAP_MBX_OK);
    assert_int_equal(uv, 4);
    assert_int_equal(nu, 1);
    ev = last_mail();
    assert_string_equal(ev->mail.folder, "Trash");
    assert_int_equal(ev->mail.flags, IMAP_FLAG_FLAGGED);
    assert_string_equal(ev->note, "copied from INBOX into Trash (IMAP COPY)");
    assert_int_equal(mb.ops->append(mb.ctx, "friend@example.org", "Sent", IMAP_FLAG_SEEN, EPOCH,
                                    60, "Subject: hi\r\n\r\nx\r\n", 19, &uv, &nu),
                     IMAP_MBX_OK);
    ev = last_mail();
    assert_string_equal(ev->mail.folder, "Sent");
    assert_string_equal(ev->mail.subject, "hi");
    assert_string_equal(ev->mail.from, "");
    assert_string_equal(ev->note, "saved into Sent by the mail program (IMAP APPEND)");
    assert_int_equal(mb.ops->expunge(mb.ctx, "friend@example.org", "INBOX", 1), IMAP_MBX_OK);
    ev = last_mail();
    assert_int_equal(ev->mail.change, SIM_MAIL_REMOVED);
    assert_int_equal(ev->mail.uid, 1);
    assert_string_equal(ev->note, "expunged: removed for good from INBOX");
    assert_int_equal(sim_store_count(s, "friend@example.org", "INBOX"), 0);
    /* the copy keeps its octets after the original is gone */
    const char *data;
    size_t len;
    assert_int_equal(mb.ops->bytes(mb.ctx, "friend@example.org", "Trash", 1, &data, &len),
                     IMAP_MBX_OK);
    assert_int_equal(len, sizeof msg - 1);
    assert_memory_equal(data, msg, len);
    teardown(s);
}

static void test_recent_and_rename(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct imap_mailbox mb = sim_store_imap(s);
    sim_store_deliver(s, "other@example.org", "INBOX", "Subject: a\r\n\r\n", 14, 0, NULL, "");
    struct imap_mbx_msg m;
    mb.ops->msg_at(mb.ctx, "other@example.org", "INBOX", 0, &m);
    assert_true(m.recent_unclaimed);
    /* RFC 3501 2.3.2: the first session to see it has \Recent, no other */
    assert_int_equal(mb.ops->claim_recent(mb.ctx, "other@example.org", "INBOX", 1), IMAP_MBX_OK);
    assert_int_equal(mb.ops->claim_recent(mb.ctx, "other@example.org", "INBOX", 1),
                     IMAP_MBX_EXISTS);
    assert_int_equal(mb.ops->claim_recent(mb.ctx, "other@example.org", "INBOX", 7),
                     IMAP_MBX_NONEXISTENT);
    /* RENAME moves the folder and its inferiors; the trace moves the mail */
    assert_int_equal(mb.ops->create(mb.ctx, "other@example.org", "Work"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->create(mb.ctx, "other@example.org", "Work/2026"), IMAP_MBX_OK);
    uint32_t uv, nu;
    assert_int_equal(mb.ops->copy(mb.ctx, "other@example.org", "INBOX", 1, "Work/2026", &uv, &nu),
                     IMAP_MBX_OK);
    assert_int_equal(mb.ops->rename(mb.ctx, "other@example.org", "Work", "Trash"),
                     IMAP_MBX_EXISTS);
    assert_int_equal(mb.ops->rename(mb.ctx, "other@example.org", "Work", "Archive"), IMAP_MBX_OK);
    assert_int_equal(sim_store_count(s, "other@example.org", "Archive/2026"), 1);
    assert_int_equal(sim_store_count(s, "other@example.org", "Work/2026"), 0);
    const struct sim_trace_event *ev = last_mail();
    assert_int_equal(ev->mail.change, SIM_MAIL_ADDED);
    assert_string_equal(ev->mail.folder, "Archive/2026");
    assert_int_equal(ev->mail.uid, 1);
    assert_string_equal(ev->note, "the folder Work/2026 was renamed to Archive/2026 (IMAP RENAME)");
    struct imap_mbx_status st;
    assert_int_equal(mb.ops->status(mb.ctx, "other@example.org", "Archive/2026", &st), IMAP_MBX_OK);
    assert_int_equal(st.uidvalidity, uv);
    assert_int_equal(mb.ops->subscribe(mb.ctx, "other@example.org", "Archive", true), IMAP_MBX_OK);
    assert_int_equal(mb.ops->subscribe(mb.ctx, "other@example.org", "Work", true),
                     IMAP_MBX_NONEXISTENT);
    teardown(s);
}

/* The store remembers the last folder asked for by name; asking by the
 * same buffer with other contents, for another account, and after DELETE
 * (of another folder, which moves this one), a new folder of the old name
 * and RENAME each finds the right folder. */
static void test_folder_lookups_after_changes(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct imap_mailbox mb = sim_store_imap(s);
    const char *u = "other@example.org";
    assert_int_equal(mb.ops->create(mb.ctx, u, "Work"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->create(mb.ctx, u, "Play"), IMAP_MBX_OK);
    sim_store_deliver(s, u, "Work", "Subject: w\r\n\r\n", 14, 0, NULL, "");
    sim_store_deliver(s, u, "Play", "Subject: p1\r\n\r\n", 15, 0, NULL, "");
    struct imap_mbx_msg m;
    char name[32] = "Work", user[64] = "other@example.org";
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_OK);
    assert_int_equal(m.size, 14);
    strcpy(name, "Play"); /* same buffer, other folder */
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_OK);
    assert_int_equal(m.size, 15);
    strcpy(user, "friend@example.org"); /* same folder name, other account */
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_NONEXISTENT);
    strcpy(user, u);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_OK);
    /* DELETE of Work moves Play down one place; Play then grows */
    assert_int_equal(mb.ops->remove(mb.ctx, user, "Work"), IMAP_MBX_OK);
    for (int i = 0; i < 20; i++)
        sim_store_deliver(s, u, "Play", "Subject: more\r\n\r\n", 17, 0, NULL, "");
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 20, &m), IMAP_MBX_OK);
    assert_int_equal(m.size, 17);
    assert_int_equal(m.uid, 21);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 21, &m), IMAP_MBX_NONEXISTENT);
    /* DELETE of Play itself, then a new Play: empty, a new UIDVALIDITY */
    struct imap_mbx_status before, after;
    assert_int_equal(mb.ops->status(mb.ctx, user, name, &before), IMAP_MBX_OK);
    assert_int_equal(mb.ops->remove(mb.ctx, user, name), IMAP_MBX_OK);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_NONEXISTENT);
    assert_int_equal(mb.ops->create(mb.ctx, user, name), IMAP_MBX_OK);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_NONEXISTENT);
    assert_int_equal(mb.ops->status(mb.ctx, user, name, &after), IMAP_MBX_OK);
    assert_int_not_equal(after.uidvalidity, before.uidvalidity);
    /* RENAME: the old name is gone, the new one has the mail */
    sim_store_deliver(s, u, "Play", "Subject: p1\r\n\r\n", 15, 0, NULL, "");
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_OK);
    assert_int_equal(mb.ops->rename(mb.ctx, user, "Play", "Jobs"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, name, 0, &m), IMAP_MBX_NONEXISTENT);
    assert_int_equal(mb.ops->msg_at(mb.ctx, user, "Jobs", 0, &m), IMAP_MBX_OK);
    assert_int_equal(m.size, 15);
    teardown(s);
}

static void test_bare_lf_stored_as_crlf(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    static const char msg[] = "Subject: lf\n\nline\r\nline\n";
    assert_int_equal(sim_store_deliver(s, "other@example.org", "INBOX", msg, sizeof msg - 1, 0,
                                       NULL, ""),
                     SIM_STORE_OK);
    const struct sim_stored_msg *m = sim_store_msg(s, "other@example.org", "INBOX", 0);
    assert_int_equal(m->size, sizeof msg - 1 + 3);
    assert_string_equal(m->bytes, "Subject: lf\r\n\r\nline\r\nline\r\n");
    assert_int_equal(sim_store_usage(s, "other@example.org"), m->size);
    assert_null(sim_store_msg(s, "other@example.org", "INBOX", 1));
    teardown(s);
}

static void test_pop3_snapshot_and_lock(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct pop3_maildrop md = sim_store_pop3(s);
    struct imap_mailbox mb = sim_store_imap(s);
    char msg[200];
    size_t n = make_msg(msg, 120, "a@example.com", "first");
    sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, "");
    n = make_msg(msg, 130, "a@example.com", "second");
    sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, "");
    assert_true(md.check_pass(md.ctx, "other@example.org", "pw"));
    assert_false(md.check_pass(md.ctx, "other@example.org", "px"));
    assert_string_equal(md.apop_secret(md.ctx, "other@example.org"), "pw");
    assert_null(md.apop_secret(md.ctx, "nobody@example.org"));
    assert_true(md.lock(md.ctx, "other@example.org"));
    assert_false(md.lock(md.ctx, "other@example.org")); /* RFC 1939 8: exclusive */
    assert_int_equal(md.count(md.ctx, "other@example.org"), 2);
    assert_int_equal(md.size(md.ctx, "other@example.org", 2), 130);
    assert_string_equal(md.uid(md.ctx, "other@example.org", 1), "5.1");
    assert_string_equal(md.uid(md.ctx, "other@example.org", 2), "5.2");
    /* new mail and IMAP expunges do not renumber the locked maildrop */
    sim_store_deliver(s, "other@example.org", "INBOX", msg, n, 0, NULL, "");
    assert_int_equal(mb.ops->expunge(mb.ctx, "other@example.org", "INBOX", 1), IMAP_MBX_OK);
    assert_int_equal(md.count(md.ctx, "other@example.org"), 2);
    size_t len;
    const char *data = md.read(md.ctx, "other@example.org", 1, &len);
    assert_int_equal(len, 120);
    assert_memory_equal(data, "From: a@example.com\r\nSubject: first\r\n", 37);
    /* UPDATE removes by UID: message 2 is UID 2; message 1 is gone already */
    assert_true(md.remove(md.ctx, "other@example.org", 2));
    const struct sim_trace_event *ev = last_mail();
    assert_int_equal(ev->mail.change, SIM_MAIL_REMOVED);
    assert_int_equal(ev->mail.uid, 2);
    assert_string_equal(ev->mail.subject, "second");
    assert_string_equal(ev->note, "deleted from the server by POP3 (DELE, then QUIT)");
    assert_true(md.remove(md.ctx, "other@example.org", 1));
    assert_int_equal(sim_store_count(s, "other@example.org", "INBOX"), 1);
    assert_int_equal(sim_store_msg(s, "other@example.org", "INBOX", 0)->uid, 3);
    md.unlock(md.ctx, "other@example.org");
    assert_true(md.lock(md.ctx, "other@example.org"));
    assert_int_equal(md.count(md.ctx, "other@example.org"), 1);
    assert_string_equal(md.uid(md.ctx, "other@example.org", 1), "5.3");
    /* freeing the store with the lock held frees the snapshot too */
    teardown(s);
}

static int changes;
static char changed[128];

static void on_change(void *ctx, const char *address, const char *folder)
{
    (void)ctx;
    changes++;
    snprintf(changed, sizeof changed, "%s %s", address, folder);
}

static void test_watch(void **state)
{
    (void)state;
    struct sim_store *s = setup();
    struct imap_mailbox mb = sim_store_imap(s);
    changes = 0;
    assert_int_equal(sim_store_watch(s, on_change, NULL), 0);
    sim_store_deliver(s, "other@example.org", "INBOX", "Subject: a\r\n\r\n", 14, 0, NULL, "");
    assert_int_equal(changes, 1);
    assert_string_equal(changed, "other@example.org INBOX");
    mb.ops->set_flags(mb.ctx, "other@example.org", "INBOX", 1, IMAP_FLAG_SEEN);
    mb.ops->claim_recent(mb.ctx, "other@example.org", "INBOX", 1); /* not a change */
    assert_int_equal(changes, 2);
    mb.ops->expunge(mb.ctx, "other@example.org", "INBOX", 1);
    assert_int_equal(changes, 3);
    sim_store_unwatch(s, on_change, NULL);
    sim_store_deliver(s, "other@example.org", "INBOX", "Subject: a\r\n\r\n", 14, 0, NULL, "");
    assert_int_equal(changes, 3);
    for (int i = 0; i < SIM_STORE_WATCHERS_MAX; i++)
        assert_int_equal(sim_store_watch(s, on_change, NULL), 0);
    assert_int_equal(sim_store_watch(s, on_change, NULL), -1);
    teardown(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_delivery_and_quota),
        cmocka_unit_test(test_uids_and_uidvalidity),
        cmocka_unit_test(test_mail_events),
        cmocka_unit_test(test_recent_and_rename),
        cmocka_unit_test(test_folder_lookups_after_changes),
        cmocka_unit_test(test_bare_lf_stored_as_crlf),
        cmocka_unit_test(test_pop3_snapshot_and_lock),
        cmocka_unit_test(test_watch),
    };
    return cmocka_run_group_tests_name("sim_store", tests, NULL, NULL);
}
