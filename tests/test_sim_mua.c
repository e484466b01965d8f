/* The sender's mail program on the simulated network: it submits through a
 * real smtp_server machine hosted on a sim host (587 STARTTLS + AUTH PLAIN,
 * 465, port 25 blocked from home), reports each recipient's outcome, and
 * files the Sent copy by IMAP APPEND into a real imap_server machine. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/imap_server.h"
#include "protocols/smtp.h"
#include "protocols/smtp_server.h"
#include "sim/device.h"
#include "sim/dns_service.h"
#include "sim/imapd.h"
#include "sim/mta.h"
#include "sim/mua.h"
#include "sim/net.h"
#include "sim/store.h"
#include "tests/imap_memstore.h"
#include "tests/sim_script.h"

static struct sim_engine engine;

/* ---- server sessions on the "mail" host ----------------------------------- */

/* A server session, of the submission server or of the IMAP server. When
 * the server closes first, the network calls no closed callback for it (the
 * closing side hears nothing more), so the session frees itself after its
 * last event. */
struct sess {
    struct smtp_server *smtp; /* one of the two */
    struct imap_server *imap;
    struct smtp_host *h;      /* the submission server's */
    bool closing;
};

static void sess_free(struct sess *ss)
{
    if (ss->smtp) smtp_server_free(ss->smtp);
    if (ss->imap) imap_server_free(ss->imap);
    free(ss);
}

/* The client closed first. */
static void sess_closed(void *session, struct sim_conn *c)
{
    (void)c;
    sess_free(session);
}

/* ---- a submission server: smtp_server hosted on the "mail" host --------- */

struct smtp_host {
    struct smtp_server_config cfg;
    char received[65536]; /* the message as the server read it */
    size_t received_len;
    int messages;
};

static void smtp_pump(struct sess *ss, struct sim_conn *c)
{
    struct smtp_server_event ev;
    int r;
    while ((r = smtp_server_next(ss->smtp, &ev)) == SMTP_SERVER_EVENT) {
        switch (ev.type) {
        case SMTP_SERVER_EV_REPLY: {
            const char *out;
            size_t n = smtp_server_output(ss->smtp, &out);
            int a = 0, b = 0, d = 0;
            sscanf(ev.enhanced, "%d.%d.%d", &a, &b, &d);
            sim_conn_send(c, SIM_DIR_S2C, out, n, smtp_reply_explain(ev.code, a, b, d));
            smtp_server_consumed(ss->smtp, n);
            break;
        }
        case SMTP_SERVER_EV_MAIL:
            smtp_server_accept(ss->smtp, NULL);
            break;
        case SMTP_SERVER_EV_RCPT:
            if (strncmp(ev.path, "nobody@", 7) == 0)
                smtp_server_reject(ss->smtp, 550, "5.1.1", "User unknown");
            else smtp_server_accept(ss->smtp, NULL);
            break;
        case SMTP_SERVER_EV_AUTH:
            if (strcmp(ev.user, "manish@example.com") == 0 && strcmp(ev.password, "secret") == 0)
                smtp_server_accept(ss->smtp, NULL);
            else smtp_server_reject(ss->smtp, 535, "5.7.8", "Authentication credentials invalid");
            break;
        case SMTP_SERVER_EV_DATA:
            assert_true(ss->h->received_len + ev.line_len <= sizeof ss->h->received);
            memcpy(ss->h->received + ss->h->received_len, ev.line, ev.line_len);
            ss->h->received_len += ev.line_len;
            break;
        case SMTP_SERVER_EV_DATA_END:
            ss->h->messages++;
            smtp_server_queued(ss->smtp, "4XyZ1");
            break;
        case SMTP_SERVER_EV_STARTTLS:
            sim_conn_start_tls(c);
            break;
        case SMTP_SERVER_EV_CLOSE:
            sim_conn_close(c, SIM_DIR_S2C);
            ss->closing = true;
            break;
        default:
            break;
        }
    }
}

static void *smtp_accept(void *service, struct sim_conn *c)
{
    struct sess *ss = calloc(1, sizeof *ss);
    ss->h = service;
    ss->smtp = smtp_server_new(&ss->h->cfg);
    smtp_pump(ss, c);
    return ss;
}

static void smtp_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    struct sess *ss = session;
    while (n > 0) {
        size_t took = smtp_server_feed(ss->smtp, bytes, n);
        smtp_pump(ss, c);
        bytes += took;
        n -= took;
        if (took == 0 && smtp_server_state(ss->smtp) == SMTP_SERVER_CLOSED) break;
    }
    if (ss->closing) sess_free(ss);
}

static void smtp_tls(void *session, struct sim_conn *c)
{
    struct sess *ss = session;
    smtp_server_tls_started(ss->smtp);
    smtp_pump(ss, c);
}

static const struct sim_service_ops smtp_ops = {smtp_accept, smtp_data, smtp_tls, sess_closed};

/* ---- an IMAP server for the Sent copy ----------------------------------- */

static struct memstore *store;

static void imap_pump(struct sess *is, struct sim_conn *c)
{
    struct imap_server_event ev;
    enum imap_server_ev t;
    while ((t = imap_server_next(is->imap, &ev)) != IMAP_SERVER_NEED_MORE) {
        if (t == IMAP_SERVER_EV_SEND) sim_conn_send(c, SIM_DIR_S2C, ev.data, ev.len, NULL);
        else if (t == IMAP_SERVER_EV_STARTTLS) sim_conn_start_tls(c);
        else if (t == IMAP_SERVER_EV_CLOSE) {
            sim_conn_close(c, SIM_DIR_S2C);
            is->closing = true;
        }
    }
}

static void *imap_accept(void *service, struct sim_conn *c)
{
    (void)service;
    struct sess *is = calloc(1, sizeof *is);
    struct imap_server_config cfg = {.mailbox = memstore_mailbox(store),
                                     .tls_active = sim_conn_port(c) == 993};
    is->imap = imap_server_new(&cfg);
    imap_pump(is, c);
    return is;
}

static void imap_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    struct sess *is = session;
    while (n > 0) {
        size_t took = imap_server_feed(is->imap, bytes, n);
        imap_pump(is, c);
        if (took == 0) took = imap_server_feed(is->imap, bytes, n);
        if (took == 0) break;
        imap_pump(is, c);
        bytes += took;
        n -= took;
    }
    if (is->closing) sess_free(is);
}

static void imap_tls(void *session, struct sim_conn *c)
{
    struct sess *is = session;
    imap_server_tls_started(is->imap);
    imap_pump(is, c);
}

static const struct sim_service_ops imap_ops = {imap_accept, imap_data, imap_tls, sess_closed};

/* ---- the world ------------------------------------------------------------ */

static struct smtp_host smtp_host;
static struct sim_net *net;
static struct sim_host *home, *mail;

/* home is 10 ms from the core, mail 5 ms: 15 ms one way. */
static void setup_world(void)
{
    memset(&smtp_host, 0, sizeof smtp_host);
    smtp_host.cfg.hostname = "mail.example.com";
    smtp_host.cfg.starttls = true;
    smtp_host.cfg.auth = true;
    smtp_host.cfg.auth_requires_tls = true;
    smtp_host.cfg.submission = true;
    smtp_host.cfg.require_tls = true;
    assert_int_equal(sim_engine_init(&engine, 7), 0);
    net = sim_net_new(&engine);
    home = sim_net_add_host(net, "home", "192.0.2.10", SIM_ROLE_COMPUTER, SIM_MSEC(10), 0);
    mail = sim_net_add_host(net, "mail", "192.0.2.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
    assert_non_null(home);
    assert_non_null(mail);
    assert_int_equal(sim_host_listen(mail, 587, SIM_PROTO_SMTP, false, &smtp_ops, &smtp_host), 0);
    struct sim_service_ops ops465 = smtp_ops;
    (void)ops465;
    store = memstore_new();
    assert_non_null(store);
    assert_int_equal(memstore_add_user(store, "manish@example.com", "secret"), 0);
    struct imap_mailbox mb = memstore_mailbox(store);
    assert_int_equal(mb.ops->create(mb.ctx, "manish@example.com", "Sent"), IMAP_MBX_OK);
    assert_int_equal(sim_host_listen(mail, 993, SIM_PROTO_IMAP, true, &imap_ops, NULL), 0);
}

static void teardown_world(struct sim_mua *m)
{
    sim_mua_free(m);
    sim_net_free(net);
    sim_engine_fini(&engine);
    memstore_free(store);
}

static struct sim_mua_config base_config(void)
{
    struct sim_mua_config c;
    memset(&c, 0, sizeof c);
    c.account = "manish@example.com";
    c.password = "secret";
    c.display_name = "Manish";
    c.submit_ip = "192.0.2.25";
    c.submit_port = 587;
    c.epoch = 1795683600; /* Thu, 26 Nov 2026 09:00:00 +0000 */
    return c;
}

/* The submission server listens on port too (implicit TLS: tls), and the
 * mail program's configuration submits there. */
static struct sim_mua_config submitting_to(unsigned port, bool tls)
{
    assert_int_equal(sim_host_listen(mail, port, SIM_PROTO_SMTP, tls, &smtp_ops, &smtp_host), 0);
    struct sim_mua_config cfg = base_config();
    cfg.submit_port = port;
    return cfg;
}

/* The client's lines (c2s SMTP LINE events), joined with "|", the message
 * lines (after a 354 and up to ".") replaced by one "<message>". */
static void client_lines(char *out, size_t cap)
{
    out[0] = 0;
    bool after_data = false, in_body = false;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_LINE || e->proto != SIM_PROTO_SMTP) continue;
        const char *t = e->text;
        if (e->dir == SIM_DIR_S2C) {
            if (after_data && strncmp(t, "354", 3) == 0) in_body = true;
            continue;
        }
        if (in_body && strcmp(t, ".") != 0) continue;
        after_data = strcmp(t, "DATA") == 0;
        if (strncmp(t, "AUTH PLAIN ", 11) == 0) t = "AUTH PLAIN <b64>";
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%s%s", o ? "|" : "", in_body ? "<message>|" : "", t);
        in_body = false;
    }
}

/* The text of the n-th ACTION event whose proto is SMTP. */
static const char *smtp_action(size_t n)
{
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_ACTION && e->proto == SIM_PROTO_SMTP && n-- == 0) return e->text;
    }
    return "";
}

/* The mail program m sends subject and body to friend@example.org at `at`;
 * the world runs until `until`. The job's result goes to r; returns the job. */
static int send_to_friend(struct sim_mua *m, const char *subject, const char *body, sim_time at,
                          sim_time until, struct sim_mua_result *r)
{
    const char *to[] = {"friend@example.org"};
    int job = sim_mua_send(m, NULL, to, 1, subject, body, at);
    sim_engine_run(&engine, until);
    assert_true(sim_mua_result(m, job, r));
    return job;
}

/* The client's lines (client_lines) are want, its %zu (if any) the message
 * size. */
static void assert_client_lines(const char *want, size_t size)
{
    char lines[2048], expect[512];
    client_lines(lines, sizeof lines);
    snprintf(expect, sizeof expect, want, size);
    assert_string_equal(lines, expect);
}

static void test_submission_587(void **state)
{
    (void)state;
    setup_world();
    struct sim_mua_config cfg = base_config();
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    assert_non_null(m);
    const char *to[] = {"friend@example.org", "nobody@example.org"};
    int job = sim_mua_send(m, NULL, to, 2, "Lunch?", "Shall we meet at noon?\n.hidden dot\n",
                           SIM_SEC(1));
    assert_int_equal(job, 0);
    sim_engine_run(&engine, SIM_SEC(60));

    size_t len;
    const char *msg = sim_mua_message(m, job, &len);
    assert_non_null(msg);
    /* the composed message: Date from the simulated clock (1 s after t=0),
     * Message-ID from the counter and the domain */
    const char *want =
        "From: Manish <manish@example.com>\r\n"
        "To: friend@example.org, nobody@example.org\r\n"
        "Subject: Lunch?\r\n"
        "Date: Thu, 26 Nov 2026 09:00:01 +0000\r\n"
        "Message-ID: <20261126090001.1@example.com>\r\n"
        "\r\n"
        "Shall we meet at noon?\r\n"
        ".hidden dot\r\n";
    assert_string_equal(msg, want);
    /* the server read exactly the composed bytes (dot-stuffing undone) */
    assert_int_equal(smtp_host.messages, 1);
    assert_int_equal(smtp_host.received_len, len);
    assert_memory_equal(smtp_host.received, msg, len);

    assert_client_lines(
        "EHLO home|STARTTLS|EHLO home|AUTH PLAIN <b64>|MAIL FROM:<manish@example.com> SIZE=%zu|"
        "RCPT TO:<friend@example.org>|RCPT TO:<nobody@example.org>|DATA|<message>|.|QUIT",
        len);

    /* the stuffed line went out doubled, with no note; "." has its note */
    bool saw_stuffed = false;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_LINE || e->dir != SIM_DIR_C2S) continue;
        if (strcmp(e->text, "..hidden dot") == 0) saw_stuffed = true;
        if (strcmp(e->text, "STARTTLS") == 0) assert_false(e->tls);
        if (strncmp(e->text, "AUTH", 4) == 0) assert_true(e->tls);
        if (strcmp(e->text, "DATA") == 0)
            assert_string_equal(e->note, smtp_command_explain(SMTP_DATA));
        if (strcmp(e->text, ".") == 0)
            assert_string_equal(e->note, "a line holding only a dot ends the message (RFC 5321 4.1.1.4)");
    }
    assert_true(saw_stuffed);

    struct sim_mua_result r;
    assert_true(sim_mua_result(m, job, &r));
    assert_int_equal(r.outcome, SMTP_CLIENT_PARTIAL);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.rcpt_code[0], 250);
    assert_int_equal(r.rcpt_code[1], 550);
    assert_false(r.sent_copy); /* no IMAP server configured */
    assert_string_equal(smtp_action(0), "friend@example.org accepted: 250 2.1.5 Ok");
    assert_string_equal(smtp_action(1), "nobody@example.org refused: 550 5.1.1 User unknown");
    assert_string_equal(smtp_action(2), "submitted: the server took it for 1 of 2 recipients");

    /* the mail program's own Sent view: one MAIL event, owner home */
    size_t mails = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_MAIL) continue;
        mails++;
        assert_string_equal(e->mail.owner, "home");
        assert_string_equal(e->mail.folder, "Sent");
        assert_string_equal(e->mail.subject, "Lunch?");
        assert_int_equal(e->mail.size, len);
        assert_true(e->t == SIM_SEC(1));
    }
    assert_int_equal(mails, 1);
    teardown_world(m);
}

/* Lesson options: each ends with one exact reply and outcome. */
struct option_case {
    const char *name;
    bool wrong_password, skip_starttls, auth_before_starttls;
    enum smtp_client_outcome outcome;
    int code;
    const char *lines; /* the client's lines; %zu is the message size */
};

static const struct option_case option_cases[] = {
    {"wrong password", true, false, false, SMTP_CLIENT_FAILED_PERMANENT, 535,
     "EHLO home|STARTTLS|EHLO home|AUTH PLAIN <b64>|QUIT"},
    /* MAIL, RCPT and DATA go out in one pipelined batch (RFC 2920) */
    {"no STARTTLS", false, true, false, SMTP_CLIENT_FAILED_PERMANENT, 530,
     "EHLO home|MAIL FROM:<manish@example.com> SIZE=%zu|RCPT TO:<friend@example.org>|DATA|QUIT"},
    /* AUTH is not offered before TLS on 587; sent anyway, it is refused */
    {"AUTH before STARTTLS", false, false, true, SMTP_CLIENT_FAILED_PERMANENT, 530,
     "EHLO home|AUTH PLAIN <b64>|QUIT"},
};

static void test_lesson_options(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof option_cases / sizeof option_cases[0]; k++) {
        const struct option_case *oc = &option_cases[k];
        setup_world();
        struct sim_mua_config cfg = base_config();
        cfg.wrong_password = oc->wrong_password;
        cfg.skip_starttls = oc->skip_starttls;
        cfg.auth_before_starttls = oc->auth_before_starttls;
        struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
        struct sim_mua_result r;
        send_to_friend(m, "Hi", "Hello", SIM_MUA_NOW, SIM_SEC(60), &r);
        if (r.outcome != oc->outcome || r.code != oc->code)
            fail_msg("%s: outcome %d code %d", oc->name, r.outcome, r.code);
        assert_int_equal(smtp_host.messages, 0);
        char lines[2048], expect[512];
        client_lines(lines, sizeof lines);
        snprintf(expect, sizeof expect, oc->lines, r.size);
        if (strcmp(lines, expect) != 0) fail_msg("%s: %s", oc->name, lines);
        teardown_world(m);
    }
}

/* Bcc: in the envelope (RCPT TO), not in the header; HELO: the older
 * greeting, no extensions, so no STARTTLS and no AUTH. */
static void test_bcc_and_helo(void **state)
{
    (void)state;
    setup_world();
    /* a relay server (port 25) takes its own domain's mail without AUTH */
    smtp_host.cfg.submission = false;
    smtp_host.cfg.require_tls = false;
    smtp_host.cfg.auth_requires_tls = false;
    struct sim_mua_config cfg = submitting_to(25, false);
    cfg.use_helo = true;
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    const char *to[] = {"friend@example.org"};
    const char *bcc[] = {"boss@example.org"};
    int job = sim_mua_send_bcc(m, NULL, to, 1, bcc, 1, "Hi", "Hello", SIM_MUA_NOW);
    assert_int_equal(job, 0);
    assert_int_equal(sim_mua_send_bcc(m, NULL, to, 0, NULL, 0, "x", "y", SIM_MUA_NOW), -1);
    sim_engine_run(&engine, SIM_SEC(60));
    size_t len;
    const char *msg = sim_mua_message(m, job, &len);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "\r\nTo: friend@example.org\r\n"));
    assert_null(strstr(msg, "boss"));
    /* the test's server greets HELO with 250 and no extensions: lock-step */
    assert_client_lines("HELO home|MAIL FROM:<manish@example.com>|RCPT TO:<friend@example.org>|"
                        "RCPT TO:<boss@example.org>|DATA|<message>|.|QUIT",
                        len);
    struct sim_mua_result r;
    assert_true(sim_mua_result(m, job, &r));
    assert_int_equal(r.nrcpts, 2);
    teardown_world(m);
}

static void test_port_25_blocked_from_home(void **state)
{
    (void)state;
    setup_world();
    struct sim_mua_config cfg = submitting_to(25, false);
    assert_int_equal(sim_host_block_port(home, 25, true), 0);
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    struct sim_mua_result r;
    send_to_friend(m, "Hi", "Hello", SIM_SEC(2), SIM_SEC(120), &r);
    assert_true(r.connect_failed);
    assert_int_equal(r.failure, SIM_FAIL_BLOCKED);
    assert_int_equal(r.outcome, SMTP_CLIENT_FAILED_TEMPORARY);
    /* the failure is reported when the connect timeout runs out */
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind == SIM_TR_ACTION && e->proto == SIM_PROTO_SMTP) {
            assert_string_equal(e->text, "not sent: could not reach 192.0.2.25 port 25 (blocked by a firewall)");
            assert_true(e->t == SIM_SEC(2) + SIM_CONNECT_TIMEOUT);
        }
    }
    assert_int_equal(smtp_host.messages, 0);
    teardown_world(m);
}

static void test_implicit_tls_465_and_sent_copy(void **state)
{
    (void)state;
    setup_world();
    smtp_host.cfg.tls_active = true;
    smtp_host.cfg.starttls = false;
    struct sim_mua_config cfg = submitting_to(465, true);
    cfg.imap_ip = "192.0.2.25";
    cfg.imap_port = 993;
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    struct sim_mua_result r;
    int job = send_to_friend(m, "Notes", "See attached.", SIM_MUA_NOW, SIM_SEC(60), &r);
    assert_int_equal(r.outcome, SMTP_CLIENT_DELIVERED);
    assert_true(r.sent_copy);
    assert_client_lines("EHLO home|AUTH PLAIN <b64>|MAIL FROM:<manish@example.com> SIZE=%zu|"
                        "RCPT TO:<friend@example.org>|DATA|<message>|.|QUIT",
                        r.size);
    /* the Sent copy on the server holds the very bytes submitted, \Seen */
    assert_int_equal(memstore_count(store, "manish@example.com", "Sent"), 1);
    assert_int_equal(memstore_flags(store, "manish@example.com", "Sent", 1), IMAP_FLAG_SEEN);
    struct imap_mailbox mb = memstore_mailbox(store);
    const char *data;
    size_t dlen;
    assert_int_equal(mb.ops->bytes(mb.ctx, "manish@example.com", "Sent", 1, &data, &dlen), IMAP_MBX_OK);
    size_t len;
    const char *msg = sim_mua_message(m, job, &len);
    assert_int_equal(dlen, len);
    assert_memory_equal(data, msg, len);
    /* the APPEND line and its literal, in the trace */
    char append[64];
    snprintf(append, sizeof append, "m002 APPEND Sent (\\Seen) {%zu}", len);
    assert_true(trace_has_line(&engine, NULL, append));
    teardown_world(m);
}

/* The Sent folder does not exist yet: APPEND gets NO [TRYCREATE], the mail
 * program creates the folder and uploads again (RFC 3501 6.3.11). */
static void test_sent_copy_creates_folder(void **state)
{
    (void)state;
    setup_world();
    struct sim_mua_config cfg = base_config();
    cfg.imap_ip = "192.0.2.25";
    cfg.imap_port = 993;
    cfg.sent_folder = "Sent Items";
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    struct sim_mua_result r;
    send_to_friend(m, "Hi", "Hello", SIM_MUA_NOW, SIM_SEC(60), &r);
    assert_int_equal(r.outcome, SMTP_CLIENT_DELIVERED);
    assert_true(r.sent_copy);
    assert_int_equal(memstore_count(store, "manish@example.com", "Sent Items"), 1);
    char first[64], again[64];
    snprintf(first, sizeof first, "m002 APPEND \"Sent Items\" (\\Seen) {%zu}", r.size);
    snprintf(again, sizeof again, "m004 APPEND \"Sent Items\" (\\Seen) {%zu}", r.size);
    assert_true(trace_has_line(&engine, "home", first) &&
                trace_has_line(&engine, "home", "m003 CREATE \"Sent Items\"") &&
                trace_has_line(&engine, "home", again));
    teardown_world(m);
}

/* ---- the whole journey, on the world's own servers ----------------------- */

/* home -> mail.example.com (MTA: submission 587, IMAP for Sent) -> DNS MX of
 * example.org -> mx.example.org (MTA port 25, IMAP 993) -> the phone. */
static void test_journey_through_the_world(void **state)
{
    (void)state;
    const int64_t epoch = 1795683600;
    assert_int_equal(sim_engine_init(&engine, 11), 0);
    net = sim_net_new(&engine);
    home = sim_net_add_host(net, "home", "192.0.2.10", SIM_ROLE_COMPUTER, SIM_MSEC(10), 0);
    struct sim_host *resolver =
        sim_net_add_host(net, "resolver", "192.0.2.53", SIM_ROLE_DNS_RESOLVER, SIM_MSEC(5), 0);
    struct sim_host *ns = sim_net_add_host(net, "ns", "192.0.2.54", SIM_ROLE_DNS_SERVER, SIM_MSEC(5), 0);
    struct sim_host *mail_com =
        sim_net_add_host(net, "mail-com", "192.0.2.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
    struct sim_host *mx_org =
        sim_net_add_host(net, "mx-org", "198.51.100.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(20), 0);
    struct sim_host *phone = sim_net_add_host(net, "phone", "198.51.100.31", SIM_ROLE_PHONE, SIM_MSEC(30), 0);
    assert_true(home && resolver && ns && mail_com && mx_org && phone);

    struct sim_dns *dns = sim_dns_new(&engine, net);
    struct sim_dns_zone *com, *org;
    assert_int_equal(sim_dns_zone_add(dns, "example.com", &com), 0);
    assert_int_equal(sim_dns_zone_add_mx(com, "example.com", 10, "mail.example.com", 3600), 0);
    assert_int_equal(sim_dns_zone_add_a(com, "mail.example.com", "192.0.2.25", 3600), 0);
    assert_int_equal(sim_dns_zone_add(dns, "example.org", &org), 0);
    assert_int_equal(sim_dns_zone_add_mx(org, "example.org", 10, "mx.example.org", 3600), 0);
    assert_int_equal(sim_dns_zone_add_a(org, "mx.example.org", "198.51.100.25", 3600), 0);
    assert_int_equal(sim_dns_serve_zone(dns, ns, com), 0);
    assert_int_equal(sim_dns_serve_zone(dns, ns, org), 0);
    assert_int_equal(sim_dns_resolver_add(dns, resolver), 0);
    assert_int_equal(sim_dns_resolver_delegate(dns, resolver, "example.com", "192.0.2.54"), 0);
    assert_int_equal(sim_dns_resolver_delegate(dns, resolver, "example.org", "192.0.2.54"), 0);

    struct sim_store *store_com = sim_store_new(&engine, "mail-com", epoch);
    struct sim_store *store_org = sim_store_new(&engine, "mx-org", epoch);
    assert_int_equal(sim_store_add_account(store_com, "manish@example.com", "secret", 0), 0);
    assert_int_equal(sim_store_add_account(store_org, "friend@example.org", "pw", 0), 0);
    const char *dom_com[] = {"example.com"}, *dom_org[] = {"example.org"};
    struct sim_mta_config mc = {.hostname = "mail.example.com", .domains = dom_com, .ndomains = 1,
                                .store = store_com, .resolver_ip = "192.0.2.53",
                                .listen_smtp = true, .listen_submission = true, .epoch = epoch};
    struct sim_mta *mta_com = sim_mta_new(&engine, net, dns, mail_com, &mc);
    mc.hostname = "mx.example.org";
    mc.domains = dom_org;
    mc.store = store_org;
    mc.listen_submission = false;
    struct sim_mta *mta_org = sim_mta_new(&engine, net, dns, mx_org, &mc);
    struct sim_imapd *imap_com = sim_imapd_attach(net, mail_com, store_com, 993, true, false);
    struct sim_imapd *imap_org = sim_imapd_attach(net, mx_org, store_org, 993, true, false);
    assert_true(mta_com && mta_org && imap_com && imap_org);

    struct sim_mua_config cfg = base_config();
    cfg.imap_ip = "192.0.2.25";
    cfg.imap_port = 993;
    struct sim_mua *m = sim_mua_new(&engine, net, home, &cfg);
    struct sim_device_config dc;
    memset(&dc, 0, sizeof dc);
    dc.proto = SIM_DEVICE_IMAP;
    dc.account = "friend@example.org";
    dc.password = "pw";
    dc.server_ip = "198.51.100.25";
    dc.port = 993;
    dc.idle = true;
    struct sim_device *d = sim_device_new(&engine, net, phone, &dc);
    assert_non_null(m);
    assert_non_null(d);

    sim_device_check(d, SIM_SEC(0));
    sim_device_stop(d, SIM_SEC(60));
    struct sim_mua_result r;
    int job = send_to_friend(m, "Lunch?", "Noon at the usual place.", SIM_SEC(2), SIM_SEC(120), &r);

    assert_int_equal(r.outcome, SMTP_CLIENT_DELIVERED);
    assert_true(r.sent_copy);
    size_t len;
    const char *msg = sim_mua_message(m, job, &len);
    /* the Sent copy on the sender's server is the composed message itself */
    assert_int_equal(sim_store_count(store_com, "manish@example.com", "Sent"), 1);
    const struct sim_stored_msg *sent = sim_store_msg(store_com, "manish@example.com", "Sent", 0);
    assert_int_equal(sent->size, len);
    assert_memory_equal(sent->bytes, msg, len);
    /* delivered: trace fields on top, the composed message unchanged below */
    assert_int_equal(sim_store_count(store_org, "friend@example.org", "INBOX"), 1);
    const struct sim_stored_msg *got = sim_store_msg(store_org, "friend@example.org", "INBOX", 0);
    assert_true(got->size > len);
    assert_memory_equal(got->bytes + got->size - len, msg, len);
    /* and pushed to the phone, which has it with its subject */
    assert_int_equal(sim_device_count(d, "INBOX"), 1);
    assert_string_equal(sim_device_msg(d, "INBOX", 0)->subject, "Lunch?");
    assert_string_equal(sim_device_msg(d, "INBOX", 0)->from, "manish@example.com");
    struct sim_device_stats st;
    sim_device_stats(d, &st);
    assert_int_equal(st.connections, 1);
    assert_false(sim_device_busy(d));

    sim_mua_free(m);
    sim_device_free(d);
    sim_imapd_free(imap_com);
    sim_imapd_free(imap_org);
    sim_mta_free(mta_com);
    sim_mta_free(mta_org);
    sim_dns_free(dns);
    sim_store_free(store_com);
    sim_store_free(store_org);
    sim_net_free(net);
    sim_engine_fini(&engine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submission_587),
        cmocka_unit_test(test_lesson_options),
        cmocka_unit_test(test_bcc_and_helo),
        cmocka_unit_test(test_port_25_blocked_from_home),
        cmocka_unit_test(test_implicit_tls_465_and_sent_copy),
        cmocka_unit_test(test_sent_copy_creates_folder),
        cmocka_unit_test(test_journey_through_the_world),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
