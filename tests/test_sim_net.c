/* The simulated network: connection outcomes and their timing, ordered
 * delivery, TLS, closing, faults, datagrams, and what the trace records. */
#include "tests/testkit.h"

#include <stdio.h>

#include "sim/net.h"

/* A log every callback appends to, "time:what", so a test can assert the
 * whole story in one string. */
static char story[4096];

static void say(struct sim_engine *e, const char *fmt, const char *detail)
{
    size_t o = strlen(story);
    snprintf(story + o, sizeof story - o, "%llu:", (unsigned long long)(e->now / 1000));
    o = strlen(story);
    snprintf(story + o, sizeof story - o, fmt, detail);
    o = strlen(story);
    snprintf(story + o, sizeof story - o, " ");
}

static struct sim_engine engine;

/* An echo-ish server: greets, answers each chunk with "ok <chunk>", closes
 * on "bye", starts TLS on "tls". */
static void *srv_accept(void *service, struct sim_conn *c)
{
    (void)service;
    say(&engine, "accept", "");
    sim_conn_send(c, SIM_DIR_S2C, "220 hi\r\n", 8, "greeting");
    return c;
}

static void srv_data(void *session, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)session;
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(n >= 2 ? n - 2 : n), bytes);
    say(&engine, "srv<%s", buf);
    if (strcmp(buf, "tls") == 0) {
        sim_conn_send(c, SIM_DIR_S2C, "220 go\r\n", 8, NULL);
        sim_conn_start_tls(c);
    } else if (strcmp(buf, "bye") == 0) {
        sim_conn_send(c, SIM_DIR_S2C, "221 bye\r\n", 9, NULL);
        sim_conn_close(c, SIM_DIR_S2C);
    } else {
        char out[140];
        int len = snprintf(out, sizeof out, "ok %s\r\n", buf);
        sim_conn_send(c, SIM_DIR_S2C, out, (size_t)len, NULL);
    }
}

static void srv_tls(void *session, struct sim_conn *c)
{
    (void)session;
    (void)c;
    say(&engine, "srv-tls", "");
}

static void srv_closed(void *session, struct sim_conn *c)
{
    (void)session;
    (void)c;
    say(&engine, "srv-closed", "");
}

static const struct sim_service_ops srv_ops = {srv_accept, srv_data, srv_tls, srv_closed};

/* The client sends what `script` holds, one line per server line received. */
static const char *script[8];
static size_t script_at;

static void cli_connected(void *ctx, struct sim_conn *c)
{
    (void)ctx;
    (void)c;
    say(&engine, "connected", "");
}

static void cli_failed(void *ctx, enum sim_conn_failure why)
{
    (void)ctx;
    say(&engine, "failed:%s", sim_conn_failure_names[why]);
}

static void cli_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    (void)ctx;
    char buf[128];
    snprintf(buf, sizeof buf, "%.*s", (int)(n >= 2 ? n - 2 : n), bytes);
    say(&engine, "cli<%s", buf);
    if (script[script_at] && strncmp(buf, "220 go", 6) != 0) {
        char out[64];
        int len = snprintf(out, sizeof out, "%s\r\n", script[script_at++]);
        sim_conn_send(c, SIM_DIR_C2S, out, (size_t)len, "client line");
    }
}

static void cli_tls(void *ctx, struct sim_conn *c)
{
    (void)ctx;
    say(&engine, "cli-tls", "");
    if (script[script_at]) {
        char out[64];
        int len = snprintf(out, sizeof out, "%s\r\n", script[script_at++]);
        sim_conn_send(c, SIM_DIR_C2S, out, (size_t)len, NULL);
    }
}

static void cli_closed(void *ctx, struct sim_conn *c)
{
    (void)ctx;
    (void)c;
    say(&engine, "cli-closed", "");
}

static const struct sim_client_ops cli_ops = {cli_connected, cli_failed, cli_data, cli_tls,
                                              cli_closed};

/* Two hosts 10 ms and 5 ms from the core: 15 ms one way, 30 ms a round trip. */
static struct sim_net *setup(void)
{
    story[0] = 0;
    script_at = 0;
    memset(script, 0, sizeof script);
    assert_int_equal(sim_engine_init(&engine, 1), 0);
    struct sim_net *net = sim_net_new(&engine);
    assert_non_null(sim_net_add_host(net, "pc", "192.0.2.10", SIM_ROLE_COMPUTER, SIM_MSEC(10), 0));
    assert_non_null(sim_net_add_host(net, "mx", "192.0.2.25", SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0));
    return net;
}

static void teardown(struct sim_net *net)
{
    sim_net_free(net);
    sim_engine_fini(&engine);
}

static void test_dialogue_timing_and_close(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 25, SIM_PROTO_SMTP, false,
                                     &srv_ops, NULL), 0);
    script[0] = "one";
    script[1] = "bye";
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "15:accept 30:connected 30:cli<220 hi 45:srv<one 60:cli<ok one "
                               "75:srv<bye 90:cli<221 bye 90:cli-closed ");
    /* the trace: connect, 5 lines, close; lines carry direction, port, times */
    const struct sim_trace *tr = engine.trace;
    assert_int_equal(sim_trace_len(tr), 7);
    const struct sim_trace_event *e = sim_trace_get(tr, 1);
    assert_int_equal(e->kind, SIM_TR_LINE);
    assert_string_equal(e->text, "220 hi");
    assert_string_equal(e->note, "greeting");
    assert_string_equal(e->from, "mx");
    assert_string_equal(e->to, "pc");
    assert_int_equal(e->dir, SIM_DIR_S2C);
    assert_int_equal(e->port, 25);
    assert_int_equal(e->proto, SIM_PROTO_SMTP);
    assert_int_equal(e->wire_bytes, 8);
    assert_true(e->t == SIM_MSEC(15) && e->arrive == SIM_MSEC(30));
    assert_string_equal(sim_trace_get(tr, 5)->text, "221 bye");
    assert_int_equal(sim_trace_get(tr, 6)->kind, SIM_TR_CLOSE);
    teardown(net);
}

static void test_failures(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    struct sim_host *pc = sim_net_host(net, "pc"), *mx = sim_net_host(net, "mx");
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL); /* nothing listens */
    sim_engine_run(&engine, SIM_SEC(100));
    assert_string_equal(story, "30:failed:connection refused ");

    story[0] = 0;
    assert_int_equal(sim_host_listen(mx, 25, SIM_PROTO_SMTP, false, &srv_ops, NULL), 0);
    assert_int_equal(sim_host_block_port(pc, 25, true), 0); /* the ISP's rule */
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(100));
    assert_string_equal(story, "30030:failed:blocked by a firewall ");

    /* the rule is in the trace with its structured fields */
    const struct sim_trace_event *rule = NULL;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++)
        if (sim_trace_get(engine.trace, i)->kind == SIM_TR_FAULT) rule = sim_trace_get(engine.trace, i);
    assert_non_null(rule);
    assert_int_equal(rule->fault, SIM_FAULT_PORT_BLOCKED);
    assert_int_equal(rule->port, 25);
    assert_true(rule->outbound);
    assert_string_equal(rule->from, "pc");

    story[0] = 0;
    assert_int_equal(sim_host_unblock_port(pc, 25, true), 0);
    sim_host_set_up(mx, false);
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(200));
    /* the timeout counts from the attempt, made at 30030 */
    assert_string_equal(story, "60030:failed:host down ");

    story[0] = 0;
    sim_net_connect(net, pc, "198.51.100.1", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(300));
    assert_string_equal(story, "60030:failed:no route to host ");
    teardown(net);
}

static void test_starttls_marks_later_lines(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 587, SIM_PROTO_SMTP, false,
                                     &srv_ops, NULL), 0);
    script[0] = "tls";
    script[1] = "secret";
    script[2] = "bye";
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 587, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(60));
    /* 220 go reaches the client at 60; ClientHello reaches the server at 75,
     * the server's flight the client at 90 */
    assert_string_equal(story, "15:accept 30:connected 30:cli<220 hi 45:srv<tls 60:cli<220 go "
                               "75:srv-tls 90:cli-tls 105:srv<secret 120:cli<ok secret "
                               "135:srv<bye 150:cli<221 bye 150:cli-closed ");
    size_t tls_lines = 0, clear_lines = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *e = sim_trace_get(engine.trace, i);
        if (e->kind != SIM_TR_LINE) continue;
        if (e->tls) tls_lines++;
        else clear_lines++;
        if (strcmp(e->text, "secret") == 0) assert_true(e->tls);
        if (strcmp(e->text, "220 go") == 0) assert_false(e->tls);
    }
    assert_int_equal(clear_lines, 3);
    assert_int_equal(tls_lines, 4);
    teardown(net);
}

static void test_implicit_tls_port(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 993, SIM_PROTO_IMAP, true,
                                     &srv_ops, NULL), 0);
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 993, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "45:accept 60:connected 60:cli<220 hi ");
    const struct sim_trace_event *e = sim_trace_get(engine.trace, 1);
    assert_int_equal(e->kind, SIM_TR_TLS);
    assert_true(sim_trace_get(engine.trace, 2)->tls);
    teardown(net);
}

static void test_host_down_cuts_connections(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 25, SIM_PROTO_SMTP, false,
                                     &srv_ops, NULL), 0);
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_MSEC(31));
    sim_host_set_up(sim_net_host(net, "mx"), false);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "15:accept 30:connected 30:cli<220 hi 30:srv-closed 30:cli-closed ");
    teardown(net);
}

static void *refuse_accept(void *service, struct sim_conn *c)
{
    (void)service;
    sim_conn_send(c, SIM_DIR_S2C, "421 busy\r\n", 10, NULL);
    return NULL;
}

static const struct sim_service_ops refusing_ops = {refuse_accept, srv_data, srv_tls, srv_closed};

/* A listener that refuses at accept: its line and the close reach the
 * client, and the server gets no callback for that connection. */
static void test_refused_at_accept(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 25, SIM_PROTO_SMTP, false,
                                     &refusing_ops, NULL), 0);
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "30:connected 30:cli<421 busy 30:cli-closed ");
    teardown(net);
}

static void on_datagram(void *ctx, struct sim_host *from, unsigned from_port,
                        const char *bytes, size_t n)
{
    (void)ctx;
    char buf[64];
    snprintf(buf, sizeof buf, "%s:%u %.*s", sim_host_name(from), from_port, (int)n, bytes);
    say(&engine, "udp %s", buf);
}

static void test_datagrams(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    struct sim_host *pc = sim_net_host(net, "pc");
    assert_int_equal(sim_host_bind_udp(sim_net_host(net, "mx"), 53, on_datagram, NULL), 0);
    assert_int_equal(sim_host_bind_udp(sim_net_host(net, "mx"), 53, on_datagram, NULL), -1);
    sim_net_send_datagram(net, pc, 5353, "192.0.2.25", 53, "query", 5, SIM_DIR_C2S,
                          "example.org. IN MX", "asks for the MX");
    sim_net_send_datagram(net, pc, 5353, "192.0.2.25", 54, "lost", 4, SIM_DIR_C2S, "x", "");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(story, "15:udp pc:5353 query ");
    const struct sim_trace_event *e = sim_trace_get(engine.trace, 0);
    assert_int_equal(e->kind, SIM_TR_DNS);
    assert_string_equal(e->text, "example.org. IN MX");
    assert_int_equal(e->port, 53);
    assert_true(e->arrive == SIM_MSEC(15));
    /* one still in flight when the network is freed must not leak */
    sim_net_send_datagram(net, pc, 5353, "192.0.2.25", 53, "late", 4, SIM_DIR_C2S, "x", "");
    teardown(net);
}

/* A cut link: the host stays up, its open connection is cut at once, a
 * connection to it gets no answer until the timeout, one from it fails at
 * once, datagrams across the link are lost; restored, all works again. */
static void test_link_cut(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    struct sim_host *pc = sim_net_host(net, "pc"), *mx = sim_net_host(net, "mx");
    assert_int_equal(sim_host_listen(mx, 25, SIM_PROTO_SMTP, false, &srv_ops, NULL), 0);
    assert_int_equal(sim_host_listen(pc, 25, SIM_PROTO_SMTP, false, &srv_ops, NULL), 0);
    assert_int_equal(sim_host_bind_udp(mx, 53, on_datagram, NULL), 0);
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_MSEC(31)); /* now is the last event's time: 30 ms */
    size_t before = sim_trace_len(engine.trace);
    sim_host_set_link(mx, false);
    sim_host_set_link(mx, false); /* already cut: nothing more */
    assert_true(sim_host_is_up(mx));
    assert_false(sim_host_link_up(mx));
    assert_true(sim_host_link_up(pc));
    const struct sim_trace_event *e = sim_trace_get(engine.trace, before);
    assert_int_equal(e->kind, SIM_TR_FAULT);
    assert_string_equal(e->text, "link cut");
    assert_string_equal(e->from, "mx");
    assert_int_equal(sim_trace_len(engine.trace), before + 1);
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL); /* unanswered */
    sim_net_connect(net, mx, "192.0.2.10", 25, &cli_ops, NULL); /* no route, at once */
    sim_net_send_datagram(net, pc, 5353, "192.0.2.25", 53, "lost", 4, SIM_DIR_C2S, "x", "");
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "15:accept 30:connected 30:cli<220 hi 30:srv-closed "
                               "30:cli-closed 30:failed:no route to host "
                               "30030:failed:host down ");
    story[0] = 0;
    sim_host_set_link(mx, true);
    assert_string_equal(sim_trace_get(engine.trace, sim_trace_len(engine.trace) - 1)->text,
                        "link restored");
    sim_net_send_datagram(net, pc, 5353, "192.0.2.25", 53, "again", 5, SIM_DIR_C2S, "x", "");
    sim_net_connect(net, pc, "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_SEC(120));
    assert_string_equal(story, "30045:udp pc:5353 again 30045:accept 30060:connected "
                               "30060:cli<220 hi ");
    teardown(net);
}

/* The link is cut after the server accepted but before its answer reached
 * the client: the server's session is closed at once; for the client the
 * attempt went unanswered, and it gives up at the connect timeout. */
static void test_cut_before_client_knows(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 25, SIM_PROTO_SMTP, false,
                                     &srv_ops, NULL), 0);
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 25, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_MSEC(20)); /* accepted at 15, the client learns at 30 */
    sim_host_set_link(sim_net_host(net, "mx"), false);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "15:accept 15:srv-closed 30000:failed:host down ");
    teardown(net);
}

/* The server goes down while an implicit-TLS handshake is under way: the
 * connection never opens, and the client hears of it at the timeout. */
static void test_down_during_tls_handshake(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_int_equal(sim_host_listen(sim_net_host(net, "mx"), 993, SIM_PROTO_IMAP, true,
                                     &srv_ops, NULL), 0);
    sim_net_connect(net, sim_net_host(net, "pc"), "192.0.2.25", 993, &cli_ops, NULL);
    sim_engine_run(&engine, SIM_MSEC(20)); /* the SYN has arrived, ClientHello not yet */
    sim_host_set_up(sim_net_host(net, "mx"), false);
    sim_engine_run(&engine, SIM_SEC(60));
    assert_string_equal(story, "30000:failed:host down ");
    teardown(net);
}

static void test_hosts(void **state)
{
    (void)state;
    struct sim_net *net = setup();
    assert_null(sim_net_add_host(net, "pc", "192.0.2.99", SIM_ROLE_PHONE, 0, 0));
    assert_null(sim_net_add_host(net, "phone", "192.0.2.10", SIM_ROLE_PHONE, 0, 0));
    assert_null(sim_net_add_host(net, "", "192.0.2.11", SIM_ROLE_PHONE, 0, 0));
    assert_int_equal(sim_net_host_count(net), 2);
    assert_string_equal(sim_host_ip(sim_net_host_at(net, 1)), "192.0.2.25");
    assert_string_equal(sim_role_names[sim_host_role(sim_net_host(net, "mx"))], "mail-server");
    teardown(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialogue_timing_and_close),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_starttls_marks_later_lines),
        cmocka_unit_test(test_implicit_tls_port),
        cmocka_unit_test(test_host_down_cuts_connections),
        cmocka_unit_test(test_link_cut),
        cmocka_unit_test(test_down_during_tls_handshake),
        cmocka_unit_test(test_cut_before_client_knows),
        cmocka_unit_test(test_refused_at_accept),
        cmocka_unit_test(test_datagrams),
        cmocka_unit_test(test_hosts),
    };
    return cmocka_run_group_tests_name("sim_net", tests, NULL, NULL);
}
