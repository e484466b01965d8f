/* Recipient devices on the simulated network, against real server machines
 * hosted on a sim host: imap_server over a small in-memory store and
 * pop3_server over a small in-memory maildrop. IMAP sync (only new UIDs
 * fetched, UIDVALIDITY change, flags between two devices, IDLE push, move,
 * delete, drafts, periodic checks) and POP3 (download and delete, leave on
 * server, local-only changes). */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/imap_server.h"
#include "protocols/pop3_server.h"
#include "sim/device.h"
#include "sim/imapd.h"
#include "sim/net.h"
#include "sim/pop3d.h"
#include "sim/store.h"
#include "tests/imap_memstore.h"
#include "tests/pop3_memdrop.h"
#include "tests/sim_script.h"

static struct sim_engine engine;
static struct sim_net *net;
static struct sim_host *phone, *laptop, *mail;
static struct memstore *store;
static struct memdrop drop;

#define USER "friend@example.org"
#define PASS "pw"
#define EPOCH 1795683600 /* Thu, 26 Nov 2026 09:00:00 +0000 */

/* ---- an IMAP server: imap_server sessions over the memstore -------------- */

#define IMAP_SESSIONS_MAX 8

/* When the server closes first the network calls no closed callback for it
 * (the closing side hears nothing more): the session frees itself. */
struct imap_sess {
    struct imap_server *s;
    struct sim_conn *c;
    bool closing;
};

static struct imap_sess *imap_live[IMAP_SESSIONS_MAX];

static void imap_forget(struct imap_sess *is)
{
    for (size_t i = 0; i < IMAP_SESSIONS_MAX; i++)
        if (imap_live[i] == is) imap_live[i] = NULL;
    imap_server_free(is->s);
    free(is);
}

static void imap_pump(struct imap_sess *is)
{
    struct imap_server_event ev;
    enum imap_server_ev t;
    while ((t = imap_server_next(is->s, &ev)) != IMAP_SERVER_NEED_MORE) {
        if (t == IMAP_SERVER_EV_SEND) sim_conn_send(is->c, SIM_DIR_S2C, ev.data, ev.len, NULL);
        else if (t == IMAP_SERVER_EV_STARTTLS) sim_conn_start_tls(is->c);
        else if (t == IMAP_SERVER_EV_CLOSE) {
            sim_conn_close(is->c, SIM_DIR_S2C);
            is->closing = true;
        }
    }
}

static void *imap_accept(void *service, struct sim_conn *c)
{
    (void)service;
    struct imap_sess *is = calloc(1, sizeof *is);
    assert_non_null(is);
    struct imap_server_config cfg = {.mailbox = memstore_mailbox(store),
                                     .tls_active = sim_conn_port(c) == 993,
                                     .starttls_offered = sim_conn_port(c) == 143};
    is->s = imap_server_new(&cfg);
    is->c = c;
    imap_server_set_clock(is->s, EPOCH + (int64_t)(engine.now / SIM_SEC(1)), 0);
    for (size_t i = 0; i < IMAP_SESSIONS_MAX; i++)
        if (!imap_live[i]) {
            imap_live[i] = is;
            break;
        }
    imap_pump(is);
    return is;
}

static void imap_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)c;
    struct imap_sess *is = session;
    while (n > 0 && !is->closing) {
        size_t took = imap_server_feed(is->s, bytes, n);
        imap_pump(is);
        if (took == 0) took = imap_server_feed(is->s, bytes, n);
        if (took == 0) break; /* behind STARTTLS, or after LOGOUT: dropped */
        imap_pump(is);
        bytes += took;
        n -= took;
    }
    if (is->closing) imap_forget(is);
}

static void imap_tls(void *session, struct sim_conn *c)
{
    (void)c;
    struct imap_sess *is = session;
    imap_server_tls_started(is->s);
    imap_pump(is);
}

static void imap_closed(void *session, struct sim_conn *c)
{
    (void)c;
    imap_forget(session);
}

static const struct sim_service_ops imap_ops = {imap_accept, imap_data, imap_tls, imap_closed};

/* New mail arrives (as the MTA would deliver it) and every open session
 * hears of it: in IDLE at once (RFC 2177). */
static char arriving[512];

static void ev_deliver(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)ctx;
    (void)arg;
    assert_int_not_equal(memstore_add(store, USER, "INBOX", 0, 0, EPOCH, 0, arriving,
                                      strlen(arriving), true), 0);
    for (size_t i = 0; i < IMAP_SESSIONS_MAX; i++)
        if (imap_live[i]) {
            imap_server_poll(imap_live[i]->s);
            imap_pump(imap_live[i]);
        }
}

/* ---- a POP3 server: pop3_server sessions over the memdrop ---------------- */

struct pop3_sess {
    struct pop3_server *s;
    struct sim_conn *c;
    bool closing;
};

static unsigned long pop3_clock;

static void pop3_pump(struct pop3_sess *ps)
{
    struct pop3_server_ev ev;
    int t;
    while ((t = pop3_server_next(ps->s, &ev)) != POP3_NEED_MORE) {
        if (t == POP3_SRV_REPLY || t == POP3_SRV_DATA)
            sim_conn_send(ps->c, SIM_DIR_S2C, ev.out, ev.out_len, NULL);
        else if (t == POP3_SRV_STARTTLS) sim_conn_start_tls(ps->c);
        else if (t == POP3_SRV_STATE && ev.to == POP3_SERVER_CLOSED && !ps->closing) {
            sim_conn_close(ps->c, SIM_DIR_S2C);
            ps->closing = true;
        }
    }
}

static void *pop3_accept(void *service, struct sim_conn *c)
{
    (void)service;
    struct pop3_sess *ps = calloc(1, sizeof *ps);
    assert_non_null(ps);
    struct pop3_server_config cfg = {.host = "mail.example.org", .pid = 42,
                                     .clock = ++pop3_clock,
                                     .tls_active = sim_conn_port(c) == 995,
                                     .stls = sim_conn_port(c) == 110};
    struct pop3_maildrop md = memdrop_iface(&drop);
    ps->s = pop3_server_new(&cfg, &md);
    ps->c = c;
    pop3_pump(ps);
    return ps;
}

static void pop3_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)c;
    struct pop3_sess *ps = session;
    while (n > 0 && !ps->closing) {
        size_t took = pop3_server_feed(ps->s, bytes, n);
        pop3_pump(ps);
        bytes += took;
        n -= took;
    }
    if (ps->closing) {
        pop3_server_free(ps->s);
        free(ps);
    }
}

static void pop3_tls(void *session, struct sim_conn *c)
{
    (void)session;
    (void)c;
}

static void pop3_closed(void *session, struct sim_conn *c)
{
    (void)c;
    struct pop3_sess *ps = session;
    pop3_server_closed(ps->s);
    pop3_server_free(ps->s);
    free(ps);
}

static const struct sim_service_ops pop3_ops = {pop3_accept, pop3_data, pop3_tls, pop3_closed};

/* ---- the world -------------------------------------------------------------- */

static void message(char *out, size_t cap, int n)
{
    snprintf(out, cap,
             "From: Manish <manish@example.com>\r\nTo: friend@example.org\r\n"
             "Subject: Note %d\r\n\r\nBody of note %d.\r\n", n, n);
}

/* Note n in the maildrop, with the unique-id "msg-n". */
static void drop_add_note(int n)
{
    char text[512], uid[16];
    message(text, sizeof text, n);
    snprintf(uid, sizeof uid, "msg-%d", n);
    memdrop_add(&drop.user[0], text, uid);
}

/* phone and laptop are 10 ms from the core, mail 5 ms: 15 ms one way. */
static void setup_network(uint64_t seed)
{
    assert_int_equal(sim_engine_init(&engine, seed), 0);
    net = sim_net_new(&engine);
    phone = sim_net_add_host(net, "phone", "192.0.2.31", SIM_ROLE_PHONE, SIM_MSEC(10), 0);
    laptop = sim_net_add_host(net, "laptop", "192.0.2.32", SIM_ROLE_LAPTOP, SIM_MSEC(10), 0);
    mail = sim_net_add_host(net, "mail", "192.0.2.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
}

/* The network with the test's own IMAP and POP3 servers on mail. The store
 * holds `initial` messages (UIDs 1..initial); the maildrop 3. */
static void setup_world(int initial)
{
    setup_network(3);
    assert_non_null(phone);
    assert_non_null(laptop);
    assert_non_null(mail);
    assert_int_equal(sim_host_listen(mail, 993, SIM_PROTO_IMAP, true, &imap_ops, NULL), 0);
    assert_int_equal(sim_host_listen(mail, 143, SIM_PROTO_IMAP, false, &imap_ops, NULL), 0);
    assert_int_equal(sim_host_listen(mail, 995, SIM_PROTO_POP3, true, &pop3_ops, NULL), 0);
    memset(imap_live, 0, sizeof imap_live);
    store = memstore_new();
    assert_non_null(store);
    assert_int_equal(memstore_add_user(store, USER, PASS), 0);
    struct imap_mailbox mb = memstore_mailbox(store);
    assert_int_equal(mb.ops->create(mb.ctx, USER, "Archive"), IMAP_MBX_OK);
    assert_int_equal(mb.ops->create(mb.ctx, USER, "Drafts"), IMAP_MBX_OK);
    char text[512];
    for (int i = 1; i <= initial; i++) {
        message(text, sizeof text, i);
        assert_int_equal(memstore_add(store, USER, "INBOX", 0, 0, EPOCH, 0, text, strlen(text),
                                      true), (uint32_t)i);
    }
    memset(&drop, 0, sizeof drop);
    drop.user[0].name = USER;
    drop.user[0].pass = PASS;
    for (int i = 1; i <= 3; i++) drop_add_note(i);
    pop3_clock = 0;
    (void)memdrop_fill; /* the shared header's helper; these tests write their own text */
}

/* DUMP=1 prints the trace, for writing new cases. */
static void dump(void)
{
    if (!getenv("DUMP")) return;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        printf("%8llu %-7s %-6s %-6s %s%s%s\n", (unsigned long long)(e->t / 1000),
               sim_trace_kind_names[e->kind], e->from, e->to, e->text,
               e->note[0] ? "   # " : "", e->note);
    }
}

static void teardown_world(void)
{
    dump();
    sim_net_free(net);
    sim_engine_fini(&engine);
    memstore_free(store);
}

/* A device of USER on the mail host's port; the tests change one field or
 * two. */
static struct sim_device_config device_config(enum sim_device_proto p, unsigned port)
{
    struct sim_device_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.proto = p;
    cfg.account = USER;
    cfg.password = PASS;
    cfg.server_ip = "192.0.2.25";
    cfg.port = port;
    cfg.epoch = EPOCH;
    return cfg;
}

static struct sim_device *device(struct sim_host *h, enum sim_device_proto p, unsigned port)
{
    struct sim_device_config cfg = device_config(p, port);
    struct sim_device *d = sim_device_new(&engine, net, h, &cfg);
    assert_non_null(d);
    return d;
}

static struct sim_device_stats stats_of(const struct sim_device *d)
{
    struct sim_device_stats st;
    sim_device_stats(d, &st);
    return st;
}

/* How many LINE events from host `from` start with prefix, and whether one
 * is exactly `exact` (NULL: not asked). */
static size_t lines_from(const char *from, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_LINE && strcmp(e->from, from) == 0 &&
            strncmp(e->text, prefix, strlen(prefix)) == 0)
            n++;
    }
    return n;
}

static bool has_line(const char *from, const char *exact)
{
    return trace_has_line(&engine, from, exact);
}

/* MAIL events of owner with change ch since step `from_step` whose note is
 * exactly note (NULL: any note). */
static size_t mail_events_noted(const char *owner, enum sim_mail_change ch, size_t from_step,
                                const char *note)
{
    size_t n = 0;
    for (size_t i = from_step; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_MAIL && strcmp(e->mail.owner, owner) == 0 && e->mail.change == ch &&
            (!note || strcmp(e->note, note) == 0))
            n++;
    }
    return n;
}

static size_t mail_events(const char *owner, enum sim_mail_change ch, size_t from_step)
{
    return mail_events_noted(owner, ch, from_step, NULL);
}

/* ---- IMAP --------------------------------------------------------------------- */

static void test_imap_sync_then_only_new(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device *d = device(phone, SIM_DEVICE_IMAP, 993);
    assert_int_equal(sim_device_check(d, SIM_SEC(1)), 0);
    sim_engine_run(&engine, SIM_SEC(5));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    const struct sim_device_msg *m = sim_device_msg(d, "INBOX", 1);
    assert_int_equal(m->uid, 2);
    assert_string_equal(m->subject, "Note 2");
    assert_string_equal(m->from, "manish@example.com");
    assert_int_equal(m->flags, 0); /* BODY.PEEK[]: not \Seen */
    assert_true(has_line("phone", "a003 UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])"));
    assert_int_equal(mail_events("phone", SIM_MAIL_ADDED, 0), 3);

    size_t mark = sim_trace_len(engine.trace);
    message(arriving, sizeof arriving, 4);
    sim_after(&engine, 0, ev_deliver, NULL, 0);
    assert_int_equal(sim_device_check(d, SIM_SEC(10)), 1);
    sim_engine_run(&engine, SIM_SEC(20));
    assert_int_equal(sim_device_count(d, "INBOX"), 4);
    /* only the new UID is fetched whole; the rest are asked for flags */
    assert_true(has_line("phone", "a003 UID FETCH 4:* (UID FLAGS RFC822.SIZE BODY.PEEK[])"));
    assert_true(has_line("phone", "a004 UID FETCH 1:3 (FLAGS)"));
    assert_int_equal(lines_from("phone", "a003 UID FETCH"), 2);
    assert_int_equal(mail_events("phone", SIM_MAIL_ADDED, mark), 1);
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.connections, 2);
    assert_int_equal(st.checks, 2);
    assert_int_equal(st.downloaded, 4);
    assert_int_equal(st.failures, 0);
    assert_false(sim_device_busy(d));
    sim_device_free(d);
    teardown_world();
}

static void test_imap_uidvalidity_change_resyncs(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device *d = device(phone, SIM_DEVICE_IMAP, 993);
    sim_device_check(d, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(5));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    /* the server rebuilt the folder: same messages, new UIDVALIDITY */
    assert_int_equal(memstore_set_uids(store, USER, "INBOX", 77, 4), 0);
    size_t mark = sim_trace_len(engine.trace);
    sim_device_check(d, SIM_SEC(10));
    sim_engine_run(&engine, SIM_SEC(20));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    assert_int_equal(mail_events("phone", SIM_MAIL_REMOVED, mark), 3);
    assert_int_equal(mail_events("phone", SIM_MAIL_ADDED, mark), 3);
    assert_int_equal(lines_from("phone", "a003 UID FETCH 1:* "), 2); /* everything, twice */
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.downloaded, 6);
    sim_device_free(d);
    teardown_world();
}

static void test_imap_read_on_one_device_seen_on_other(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device *p = device(phone, SIM_DEVICE_IMAP, 993);
    struct sim_device *l = device(laptop, SIM_DEVICE_IMAP, 143); /* STARTTLS */
    sim_device_check(p, SIM_SEC(1));
    sim_device_check(l, SIM_SEC(1));
    assert_int_equal(sim_device_read(p, "INBOX", 2, SIM_SEC(5)), 1);
    sim_device_check(l, SIM_SEC(10));
    sim_engine_run(&engine, SIM_SEC(20));
    /* the phone marked it locally and stored it on the server */
    assert_int_equal(sim_device_find(p, "INBOX", 2)->flags, SIM_FLAG_SEEN);
    assert_int_equal(memstore_flags(store, USER, "INBOX", 2), IMAP_FLAG_SEEN);
    assert_true(has_line("phone", "a003 UID STORE 2 +FLAGS.SILENT (\\Seen)"));
    /* the laptop learned it at its next sync */
    assert_int_equal(sim_device_find(l, "INBOX", 2)->flags, SIM_FLAG_SEEN);
    assert_int_equal(sim_device_find(l, "INBOX", 1)->flags, 0);
    assert_int_equal(mail_events("laptop", SIM_MAIL_FLAGS, 0), 1);
    /* the laptop upgraded with STARTTLS before logging in */
    assert_true(has_line("laptop", "a001 STARTTLS"));
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_LINE && strncmp(e->text, "a003 LOGIN", 10) == 0) assert_true(e->tls);
    }
    sim_device_free(p);
    sim_device_free(l);
    teardown_world();
}

static void test_imap_idle_push(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device_config cfg = device_config(SIM_DEVICE_IMAP, 993);
    cfg.idle = true;
    struct sim_device *d = sim_device_new(&engine, net, phone, &cfg);
    assert_non_null(d);
    sim_device_check(d, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(4));
    assert_true(sim_device_idling(d));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);

    message(arriving, sizeof arriving, 4);
    sim_after(&engine, SIM_SEC(5) - engine.now, ev_deliver, NULL, 0);
    sim_engine_run(&engine, SIM_SEC(6));
    assert_int_equal(sim_device_count(d, "INBOX"), 4);
    /* "* 4 EXISTS" leaves at 5 s and reaches the phone 15 ms later; DONE,
     * its OK, UID FETCH and its answer are two more round trips: the
     * message is on the phone at 5.075 s */
    bool saw_exists = false, saw_added = false;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_LINE && strcmp(e->text, "* 4 EXISTS") == 0 && e->t == SIM_SEC(5)) {
            assert_true(e->arrive == SIM_MSEC(5015));
            saw_exists = true;
        }
        if (e->kind == SIM_TR_MAIL && e->mail.uid == 4 && strcmp(e->mail.owner, "phone") == 0) {
            assert_true(e->t == SIM_MSEC(5075));
            saw_added = true;
        }
    }
    assert_true(saw_exists);
    assert_true(saw_added);
    assert_true(sim_device_idling(d)); /* back in IDLE */
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.connections, 1);

    /* a read while idling goes over the same connection */
    sim_device_read(d, "INBOX", 4, SIM_SEC(7));
    sim_engine_run(&engine, SIM_SEC(8));
    assert_int_equal(memstore_flags(store, USER, "INBOX", 4), IMAP_FLAG_SEEN);
    st = stats_of(d);
    assert_int_equal(st.connections, 1);

    sim_device_stop(d, SIM_SEC(9));
    sim_engine_run(&engine, SIM_SEC(10));
    assert_false(sim_device_idling(d));
    assert_false(sim_device_busy(d));
    assert_true(has_line("phone", "DONE"));
    sim_device_free(d);
    teardown_world();
}

static void test_imap_move_delete_draft(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device *d = device(phone, SIM_DEVICE_IMAP, 993);
    sim_device_check(d, SIM_SEC(1));
    assert_int_equal(sim_device_move(d, "INBOX", 1, "Archive", SIM_SEC(2)), 1);
    assert_int_equal(sim_device_delete(d, "INBOX", 2, SIM_SEC(3)), 2);
    assert_int_equal(sim_device_save_draft(d, "manish@example.com", "Re: Note 3", "Soon.", SIM_SEC(4)), 3);
    sim_device_check(d, SIM_SEC(5));
    sim_engine_run(&engine, SIM_SEC(20));
    /* the server */
    assert_int_equal(memstore_count(store, USER, "INBOX"), 1);
    assert_int_equal(memstore_count(store, USER, "Archive"), 1);
    assert_int_equal(memstore_count(store, USER, "Drafts"), 1);
    assert_int_equal(memstore_flags(store, USER, "Drafts", 1), IMAP_FLAG_DRAFT | IMAP_FLAG_SEEN);
    assert_true(has_line("phone", "m003 UID COPY 1 Archive"));
    assert_true(has_line("phone", "m004 UID STORE 1 +FLAGS.SILENT (\\Deleted)"));
    assert_true(has_line("phone", "m005 EXPUNGE"));
    /* the phone's own view follows */
    assert_int_equal(sim_device_count(d, "INBOX"), 1);
    assert_int_equal(sim_device_msg(d, "INBOX", 0)->uid, 3);
    assert_int_equal(sim_device_count(d, "Archive"), 1);
    assert_int_equal(sim_device_msg(d, "Archive", 0)->uid, 1); /* COPYUID */
    assert_string_equal(sim_device_msg(d, "Archive", 0)->subject, "Note 1");
    assert_int_equal(sim_device_count(d, "Drafts"), 1);
    assert_string_equal(sim_device_msg(d, "Drafts", 0)->subject, "Re: Note 3");
    assert_int_equal(sim_device_msg(d, "Drafts", 0)->uid, 1); /* APPENDUID */
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.failures, 0);
    sim_device_free(d);
    teardown_world();
}

static void done_cb(void *ctx, struct sim_device *d, int action, bool ok)
{
    (void)d;
    int *log = ctx;
    log[log[0]++ + 1] = ok ? action : -100 - action;
}

static void test_imap_failures_are_reported(void **state)
{
    (void)state;
    setup_world(1);
    struct sim_device_config cfg = device_config(SIM_DEVICE_IMAP, 993);
    cfg.password = "wrong";
    struct sim_device *bad = sim_device_new(&engine, net, phone, &cfg);
    cfg.password = PASS;
    cfg.port = 994; /* nothing listens */
    struct sim_device *noport = sim_device_new(&engine, net, laptop, &cfg);
    int log[8] = {0};
    sim_device_on_done(bad, done_cb, log);
    sim_device_on_done(noport, done_cb, log);
    sim_device_check(bad, SIM_SEC(1));
    sim_device_check(noport, SIM_SEC(2));
    sim_device_move(bad, "INBOX", 1, "Nowhere", SIM_SEC(3));
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(log[0], 3);
    assert_int_equal(log[1], -100);  /* check 0: login refused */
    assert_int_equal(log[2], -100);  /* check 0 of the other: refused connection */
    assert_int_equal(log[3], -101);  /* move 1: login refused */
    assert_int_equal(sim_device_count(bad, "INBOX"), 0);
    assert_int_equal(memstore_count(store, USER, "INBOX"), 1);
    sim_device_free(bad);
    sim_device_free(noport);
    teardown_world();
}

static void test_periodic_checks(void **state)
{
    (void)state;
    setup_world(1);
    struct sim_device_config cfg = device_config(SIM_DEVICE_IMAP, 993);
    cfg.check_every = SIM_SEC(60);
    struct sim_device *d = sim_device_new(&engine, net, phone, &cfg);
    sim_device_check(d, SIM_SEC(0));
    message(arriving, sizeof arriving, 2);
    sim_after(&engine, SIM_SEC(30), ev_deliver, NULL, 0);
    sim_device_stop(d, SIM_SEC(150));
    sim_engine_run(&engine, SIM_SEC(59));
    assert_int_equal(sim_device_count(d, "INBOX"), 1);
    sim_engine_run(&engine, SIM_SEC(300));
    assert_int_equal(sim_device_count(d, "INBOX"), 2);
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.checks, 3); /* 0 s, 60 s, 120 s; stopped at 150 s */
    assert_int_equal(st.connections, 3);
    sim_device_free(d);
    teardown_world();
}

/* A move into a folder that does not exist: NO [TRYCREATE], CREATE, again. */
static void test_imap_move_creates_folder(void **state)
{
    (void)state;
    setup_world(3);
    struct sim_device *d = device(phone, SIM_DEVICE_IMAP, 993);
    sim_device_check(d, SIM_SEC(1));
    sim_device_move(d, "INBOX", 3, "Projects", SIM_SEC(2));
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(memstore_count(store, USER, "Projects"), 1);
    assert_int_equal(memstore_count(store, USER, "INBOX"), 2);
    assert_int_equal(lines_from("phone", "m003 UID COPY 3 Projects"), 1);
    assert_true(has_line("phone", "m004 CREATE Projects"));
    assert_true(has_line("phone", "m005 UID COPY 3 Projects"));
    assert_int_equal(sim_device_count(d, "Projects"), 1);
    assert_string_equal(sim_device_msg(d, "Projects", 0)->subject, "Note 3");
    /* outside INBOX a read or delete touches only its own flag */
    assert_int_equal(memstore_flags(store, USER, "Projects", 1), 0);
    sim_device_flag(d, "Projects", 1, true, SIM_SEC(11));
    sim_device_read(d, "Projects", 1, SIM_SEC(12));
    sim_engine_run(&engine, SIM_SEC(20));
    assert_int_equal(memstore_flags(store, USER, "Projects", 1), IMAP_FLAG_FLAGGED | IMAP_FLAG_SEEN);
    assert_int_equal(sim_device_msg(d, "Projects", 0)->flags, SIM_FLAG_FLAGGED | SIM_FLAG_SEEN);
    assert_true(has_line("phone", "m003 UID STORE 1 +FLAGS.SILENT (\\Seen)"));
    sim_device_delete(d, "Projects", 1, SIM_SEC(21));
    sim_engine_run(&engine, SIM_SEC(30));
    assert_int_equal(memstore_count(store, USER, "Projects"), 0);
    assert_int_equal(sim_device_count(d, "Projects"), 0);
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.failures, 0);
    sim_device_free(d);
    teardown_world();
}

/* The server goes down under an idling phone: the device records the cut,
 * a check while it is down fails after the connect timeout, and one after
 * it is back works. Nothing here is fatal. */
static void ev_host(struct sim_engine *e, void *ctx, uint64_t up)
{
    (void)e;
    sim_host_set_up(ctx, up != 0);
}

static void test_imap_server_down_while_idling(void **state)
{
    (void)state;
    setup_world(2);
    struct sim_device_config cfg = device_config(SIM_DEVICE_IMAP, 993);
    cfg.idle = true;
    struct sim_device *d = sim_device_new(&engine, net, phone, &cfg);
    int log[8] = {0};
    sim_device_on_done(d, done_cb, log);
    sim_device_check(d, SIM_SEC(1));
    sim_after(&engine, SIM_SEC(5), ev_host, mail, 0);
    sim_device_check(d, SIM_SEC(6));
    sim_after(&engine, SIM_SEC(100), ev_host, mail, 1);
    sim_device_check(d, SIM_SEC(101));
    sim_device_stop(d, SIM_SEC(110));
    sim_engine_run(&engine, SIM_SEC(200));
    /* check 0 ok (idling), check 1 failed (host down), check 2 ok, stop 3 */
    assert_int_equal(log[0], 4);
    assert_int_equal(log[1], 0);
    assert_int_equal(log[2], -101);
    assert_int_equal(log[3], 2);
    assert_int_equal(log[4], 3);
    assert_int_equal(sim_device_count(d, "INBOX"), 2); /* the local copy survived */
    assert_false(sim_device_busy(d));
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.connections, 3);
    assert_int_equal(st.downloaded, 2);
    bool saw_timeout = false;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_ACTION && strcmp(e->from, "phone") == 0 &&
            strcmp(e->text, "check mail failed: could not reach 192.0.2.25 port 993 (host down)") == 0) {
            assert_true(e->t == SIM_SEC(6) + SIM_CONNECT_TIMEOUT);
            saw_timeout = true;
        }
    }
    assert_true(saw_timeout);
    sim_device_free(d);
    teardown_world();
}

/* ---- POP3 ---------------------------------------------------------------------- */

static void test_pop3_download_and_delete(void **state)
{
    (void)state;
    setup_world(0);
    struct sim_device *d = device(laptop, SIM_DEVICE_POP3, 995);
    sim_device_check(d, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(10));
    /* the server deleted all three after QUIT (RFC 1939 6) */
    assert_int_equal(drop.user[0].nremoved, 3);
    for (int i = 0; i < 3; i++) assert_false(drop.user[0].msg[i].present);
    assert_false(drop.user[0].locked);
    /* the laptop has them */
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    assert_string_equal(sim_device_msg(d, "INBOX", 0)->uidl, "msg-1");
    assert_string_equal(sim_device_msg(d, "INBOX", 2)->subject, "Note 3");
    assert_int_equal(sim_device_msg(d, "INBOX", 2)->uid, 3);
    assert_int_equal(lines_from("laptop", "RETR "), 3);
    assert_int_equal(lines_from("laptop", "DELE "), 3);
    assert_true(has_line("laptop", "QUIT"));
    assert_true(has_line("laptop", "USER friend@example.org"));
    assert_int_equal(mail_events("laptop", SIM_MAIL_ADDED, 0), 3);
    /* reading and deleting stay on the laptop: the server has no flags */
    size_t mark = sim_trace_len(engine.trace);
    sim_device_read(d, "INBOX", 1, SIM_SEC(11));
    sim_device_delete(d, "INBOX", 2, SIM_SEC(12));
    sim_engine_run(&engine, SIM_SEC(20));
    assert_int_equal(sim_device_find(d, "INBOX", 1)->flags, SIM_FLAG_SEEN);
    assert_null(sim_device_find(d, "INBOX", 2));
    assert_int_equal(mail_events("laptop", SIM_MAIL_FLAGS, mark), 1);
    assert_int_equal(mail_events("laptop", SIM_MAIL_REMOVED, mark), 1);
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.connections, 1);
    sim_device_free(d);
    teardown_world();
}

/* A device shows its newest SIM_DEVICE_MSGS_MAX messages per folder; the
 * oldest leaves the view with a note saying where the message still is. */
static void test_view_keeps_the_newest(void **state)
{
    (void)state;
    /* IMAP: 258 on the server, the phone shows 256; the server keeps all. */
    setup_world(SIM_DEVICE_MSGS_MAX + 2);
    struct sim_device *p = device(phone, SIM_DEVICE_IMAP, 993);
    sim_device_check(p, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(30));
    assert_int_equal(sim_device_count(p, "INBOX"), SIM_DEVICE_MSGS_MAX);
    assert_string_equal(sim_device_msg(p, "INBOX", 0)->subject, "Note 3");
    assert_int_equal(mail_events_noted("phone", SIM_MAIL_REMOVED, 0,
                                       "the device's view is bounded; the server still has the "
                                       "message"),
                     2);
    sim_device_free(p);
    teardown_world();

    /* POP3 download-and-delete: 33 checks of 8 new messages each; the
     * server keeps none, so the note says a real program keeps them. */
    setup_world(0);
    struct sim_device *l = device(laptop, SIM_DEVICE_POP3, 995);
    int n = 0;
    for (int round = 0; round < 33; round++) {
        memset(&drop.user[0].msg, 0, sizeof drop.user[0].msg);
        drop.user[0].count = drop.user[0].nremoved = 0;
        for (int k = 0; k < MEMDROP_MSGS; k++) drop_add_note(++n);
        sim_device_check(l, SIM_SEC(10 * round + 1));
        sim_engine_run(&engine, SIM_SEC(10 * round + 10));
        assert_int_equal(drop.user[0].nremoved, MEMDROP_MSGS);
    }
    assert_int_equal(n, SIM_DEVICE_MSGS_MAX + 8);
    assert_int_equal(sim_device_count(l, "INBOX"), SIM_DEVICE_MSGS_MAX);
    assert_string_equal(sim_device_msg(l, "INBOX", 0)->subject, "Note 9");
    assert_int_equal(mail_events_noted("laptop", SIM_MAIL_REMOVED, 0,
                                       "the device's view is bounded; a real mail program keeps "
                                       "every downloaded message on disk"),
                     8);
    sim_device_free(l);
    teardown_world();
}

static void test_pop3_leave_on_server(void **state)
{
    (void)state;
    setup_world(0);
    struct sim_device_config cfg = device_config(SIM_DEVICE_POP3, 995);
    cfg.leave_on_server = true;
    struct sim_device *d = sim_device_new(&engine, net, laptop, &cfg);
    sim_device_check(d, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    assert_int_equal(lines_from("laptop", "RETR "), 3);
    /* a second check downloads nothing new */
    sim_device_check(d, SIM_SEC(20));
    sim_engine_run(&engine, SIM_SEC(30));
    assert_int_equal(sim_device_count(d, "INBOX"), 3);
    assert_int_equal(lines_from("laptop", "RETR "), 3);
    assert_int_equal(lines_from("laptop", "UIDL"), 2);
    assert_int_equal(lines_from("laptop", "DELE "), 0);
    assert_int_equal(drop.user[0].nremoved, 0);
    /* deleting on the laptop leaves the server copy */
    sim_device_delete(d, "INBOX", 1, SIM_SEC(31));
    sim_engine_run(&engine, SIM_SEC(40));
    assert_int_equal(sim_device_count(d, "INBOX"), 2);
    assert_true(drop.user[0].msg[0].present);
    struct sim_device_stats st = stats_of(d);
    assert_int_equal(st.checks, 2);
    assert_int_equal(st.downloaded, 3);
    assert_int_equal(st.connections, 2);
    sim_device_free(d);
    teardown_world();
}

/* Unusable configurations and actions are refused at once. */
static void test_refusals(void **state)
{
    (void)state;
    setup_world(0);
    struct sim_device_config cfg = device_config(SIM_DEVICE_POP3, 995);
    cfg.idle = true;
    assert_null(sim_device_new(&engine, net, laptop, &cfg)); /* IDLE is IMAP's */
    cfg.idle = false;
    cfg.port = 0;
    assert_null(sim_device_new(&engine, net, laptop, &cfg));
    cfg.port = 995;
    struct sim_device *d = sim_device_new(&engine, net, laptop, &cfg);
    assert_int_equal(sim_device_move(d, "INBOX", 1, "Archive", SIM_DEVICE_NOW), -1);
    assert_int_equal(sim_device_append(d, "Sent", "x\r\n", 3, 0, SIM_DEVICE_NOW), -1);
    assert_int_equal(sim_device_save_draft(d, NULL, "s", "b", SIM_DEVICE_NOW), -1);
    for (int i = 0; i < SIM_DEVICE_ACTIONS_MAX; i++)
        assert_int_equal(sim_device_check(d, SIM_SEC(1000)), i);
    assert_int_equal(sim_device_check(d, SIM_SEC(1000)), -1);
    sim_device_free(d);
    teardown_world();
}

/* ---- the world's own store and servers (sim/store, sim/imapd, sim/pop3d) -- */

/* The network with the world's own store on mail, holding USER. */
static struct sim_store *setup_store_world(uint64_t seed)
{
    setup_network(seed);
    struct sim_store *st = sim_store_new(&engine, "mail", EPOCH);
    assert_int_equal(sim_store_add_account(st, USER, PASS, 0), SIM_STORE_OK);
    return st;
}

static void teardown_store_world(struct sim_store *st)
{
    dump();
    sim_store_free(st);
    sim_net_free(net);
    sim_engine_fini(&engine);
}

struct world_delivery {
    struct sim_store *store;
    int n;
};

static void ev_world_deliver(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct world_delivery *w = ctx;
    char text[512];
    message(text, sizeof text, ++w->n);
    assert_int_equal(sim_store_deliver(w->store, USER, "INBOX", text, strlen(text), 0, NULL,
                                       "delivered by the MTA"), SIM_STORE_OK);
}

/* A phone idling by IMAP and a laptop downloading by POP3 share one
 * account: new mail is pushed to the phone at once, and when the laptop
 * downloads and deletes it, the phone is told it is gone. */
static void test_world_phone_and_pop3_laptop(void **state)
{
    (void)state;
    struct sim_store *st = setup_store_world(5);
    assert_non_null(st);
    struct sim_imapd *imapd = sim_imapd_attach(net, mail, st, 993, true, false);
    struct sim_pop3d *pop3d = sim_pop3d_attach(net, mail, st, 995, true, false);
    assert_non_null(imapd);
    assert_non_null(pop3d);

    struct sim_device_config cfg = device_config(SIM_DEVICE_IMAP, 993);
    cfg.idle = true;
    struct sim_device *p = sim_device_new(&engine, net, phone, &cfg);
    struct sim_device *l = device(laptop, SIM_DEVICE_POP3, 995);
    struct world_delivery w = {st, 0};
    sim_device_check(p, SIM_SEC(1));
    sim_after(&engine, SIM_SEC(5), ev_world_deliver, &w, 0);
    sim_device_check(l, SIM_SEC(10));
    sim_device_stop(p, SIM_SEC(20));
    sim_engine_run(&engine, SIM_SEC(30));

    /* pushed: on the phone 75 ms after delivery (EXISTS, DONE, OK, FETCH) */
    sim_time phone_got = 0, phone_lost = 0, laptop_got = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_MAIL) continue;
        if (strcmp(e->mail.owner, "phone") == 0 && e->mail.change == SIM_MAIL_ADDED) phone_got = e->t;
        if (strcmp(e->mail.owner, "phone") == 0 && e->mail.change == SIM_MAIL_REMOVED) phone_lost = e->t;
        if (strcmp(e->mail.owner, "laptop") == 0 && e->mail.change == SIM_MAIL_ADDED) laptop_got = e->t;
    }
    assert_true(phone_got == SIM_SEC(5) + SIM_MSEC(75));
    assert_true(laptop_got > SIM_SEC(10));
    assert_true(phone_lost > laptop_got); /* after the laptop's QUIT */
    /* the server is empty; the laptop has the only copy */
    assert_int_equal(sim_store_count(st, USER, "INBOX"), 0);
    assert_int_equal(sim_device_count(l, "INBOX"), 1);
    assert_string_equal(sim_device_msg(l, "INBOX", 0)->subject, "Note 1");
    assert_int_equal(sim_device_count(p, "INBOX"), 0);
    assert_false(sim_device_busy(p));
    struct sim_device_stats ps = stats_of(p);
    assert_int_equal(ps.connections, 1); /* all of it on the one IDLE connection */
    assert_int_equal(ps.failures, 0);

    sim_device_free(p);
    sim_device_free(l);
    sim_imapd_free(imapd);
    sim_pop3d_free(pop3d);
    teardown_store_world(st);
}

/* POP3 on port 110 upgrades with STLS before USER (RFC 2595 4), against the
 * world's POP3 server; leave-on-server keeps the store's copy. */
static void test_world_pop3_stls(void **state)
{
    (void)state;
    struct sim_store *st = setup_store_world(6);
    struct world_delivery w = {st, 0};
    ev_world_deliver(&engine, &w, 0);
    ev_world_deliver(&engine, &w, 0);
    struct sim_pop3d *pop3d = sim_pop3d_attach(net, mail, st, 110, false, true);
    assert_non_null(pop3d);
    struct sim_device_config cfg = device_config(SIM_DEVICE_POP3, 110);
    cfg.leave_on_server = true;
    struct sim_device *l = sim_device_new(&engine, net, laptop, &cfg);
    sim_device_check(l, SIM_SEC(1));
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(sim_device_count(l, "INBOX"), 2);
    assert_int_equal(sim_store_count(st, USER, "INBOX"), 2);
    bool stls = false, user_tls = false;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_LINE || strcmp(e->from, "laptop") != 0) continue;
        if (strcmp(e->text, "STLS") == 0) stls = !e->tls;
        if (strncmp(e->text, "USER ", 5) == 0) user_tls = e->tls;
    }
    assert_true(stls);
    assert_true(user_tls);
    sim_device_free(l);
    sim_pop3d_free(pop3d);
    teardown_store_world(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_sync_then_only_new),
        cmocka_unit_test(test_imap_uidvalidity_change_resyncs),
        cmocka_unit_test(test_imap_read_on_one_device_seen_on_other),
        cmocka_unit_test(test_imap_idle_push),
        cmocka_unit_test(test_imap_move_delete_draft),
        cmocka_unit_test(test_imap_failures_are_reported),
        cmocka_unit_test(test_periodic_checks),
        cmocka_unit_test(test_pop3_download_and_delete),
        cmocka_unit_test(test_pop3_leave_on_server),
        cmocka_unit_test(test_view_keeps_the_newest),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_world_phone_and_pop3_laptop),
        cmocka_unit_test(test_world_pop3_stls),
        cmocka_unit_test(test_imap_move_creates_folder),
        cmocka_unit_test(test_imap_server_down_while_idling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
