/* The POP3 server of the simulated world: download and delete over sim
 * connections, driven by scripted raw client lines; UPDATE removing mail
 * an IMAP session then sees expunged, a dropped connection deleting
 * nothing, the exclusive lock, TLS marking, APOP timestamps, whole lines
 * in the trace however the machine chunks a body, the session bound. */
#include "tests/testkit.h"

#include <stdio.h>

#include "sim/imapd.h"
#include "sim/pop3d.h"
#include "tests/sim_script.h"

#define EPOCH 1795683600 /* 2026-11-26 09:00:00 UTC at t = 0 */
#define MX_IP "192.0.2.25"

static struct sim_engine engine;
static struct sim_net *net;
static struct sim_store *store;
static struct sim_pop3d *pop3d, *pop3d_tls;
static struct sim_imapd *imapd;
static char buf[16384];

static const char msg1[] = "From: Manish <manish@example.com>\r\n"
                           "Subject: Lunch?\r\n"
                           "\r\n"
                           "Noon?\r\n"
                           ".hidden dot\r\n";
static const char msg2[] = "From: ana@example.net\r\n"
                           "Subject: Photos\r\n"
                           "\r\n"
                           "Attached.\r\n";

static void setup(void)
{
    assert_int_equal(sim_engine_init(&engine, 7), 0);
    net = sim_net_new(&engine);
    assert_non_null(sim_net_add_host(net, "phone", "192.0.2.20", SIM_ROLE_PHONE, SIM_MSEC(10), 0));
    assert_non_null(sim_net_add_host(net, "laptop", "192.0.2.30", SIM_ROLE_LAPTOP, SIM_MSEC(10), 0));
    struct sim_host *mx = sim_net_add_host(net, "mx", MX_IP, SIM_ROLE_MAIL_SERVER, SIM_MSEC(5), 0);
    store = sim_store_new(&engine, "mx", EPOCH);
    assert_int_equal(sim_store_add_account(store, "friend@example.org", "secret", 0), SIM_STORE_OK);
    pop3d = sim_pop3d_attach(net, mx, store, SIM_POP3D_PORT, false, true);
    pop3d_tls = sim_pop3d_attach(net, mx, store, SIM_POP3D_PORT_TLS, true, false);
    imapd = sim_imapd_attach(net, mx, store, SIM_IMAPD_PORT_TLS, true, false);
    assert_non_null(pop3d);
    assert_non_null(pop3d_tls);
    assert_non_null(imapd);
    assert_int_equal(sim_store_deliver(store, "friend@example.org", "INBOX", msg1,
                                       sizeof msg1 - 1, 0, NULL, NULL),
                     SIM_STORE_OK);
    assert_int_equal(sim_store_deliver(store, "friend@example.org", "INBOX", msg2,
                                       sizeof msg2 - 1, 0, NULL, NULL),
                     SIM_STORE_OK);
}

static void teardown(void)
{
    sim_pop3d_free(pop3d);
    sim_pop3d_free(pop3d_tls);
    sim_imapd_free(imapd);
    sim_net_free(net);
    sim_store_free(store);
    sim_engine_fini(&engine);
}

static const char *note_of(const char *text)
{
    const struct sim_trace_event *ev = find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, text, 0);
    assert_non_null(ev);
    return ev->note;
}

static void test_download_and_delete(void **state)
{
    (void)state;
    setup();
    /* the phone keeps INBOX open by IMAP; the laptop downloads by POP3 */
    struct script_client phone, laptop;
    sc_connect(&phone, net, &engine, sim_net_host(net, "phone"), MX_IP, 993);
    sc_send_at(&phone, SIM_MSEC(100), "a1 LOGIN friend@example.org secret");
    sc_send_at(&phone, SIM_MSEC(200), "a2 SELECT INBOX");
    sc_connect(&laptop, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&laptop, SIM_MSEC(300), "USER friend@example.org");
    sc_send_at(&laptop, SIM_MSEC(400), "PASS secret");
    sc_send_at(&laptop, SIM_MSEC(500), "STAT");
    sc_send_at(&laptop, SIM_MSEC(600), "RETR 1");
    sc_send_at(&laptop, SIM_MSEC(700), "DELE 1");
    sc_send_at(&laptop, SIM_MSEC(800), "QUIT");
    sc_send_at(&phone, SIM_MSEC(900), "a3 NOOP");
    sim_engine_run(&engine, SIM_SEC(10));
    unsigned lc = 2; /* the laptop's connection */
    assert_string_equal(s2c_lines(&engine, lc, 0, buf, sizeof buf),
                        "+OK POP3 server ready <2.15000@mx>|"
                        "+OK send PASS|"
                        "+OK friend@example.org's maildrop has 2 messages (127 octets)|"
                        "+OK 2 127|"
                        "+OK 74 octets|From: Manish <manish@example.com>|Subject: Lunch?||Noon?|"
                        "..hidden dot|.|"
                        "+OK message 1 deleted|"
                        "+OK mx POP3 server signing off (1 message left)");
    assert_string_equal(note_of("+OK 74 octets"),
                        "the message follows, line by line, ended by a line holding only a dot");
    assert_string_equal(note_of("."), "a line holding only a dot ends the message (a line of the "
                                      "message that starts with a dot was sent with one more)");
    assert_string_equal(note_of("From: Manish <manish@example.com>"), "");
    assert_string_equal(note_of("+OK message 1 deleted"),
                        "the message is marked for deletion: the server removes it after QUIT");
    /* the states of RFC 1939 3, each once, in order */
    const char *states[] = {"AUTHORIZATION -> TRANSACTION", "TRANSACTION -> UPDATE",
                            "UPDATE -> CLOSED"};
    size_t at = 0;
    for (size_t i = 0; i < 3; i++) {
        const struct sim_trace_event *ev =
            find_event(&engine, SIM_TR_STATE, SIM_DIR_COUNT, states[i], at);
        assert_non_null(ev);
        assert_int_equal(ev->conn, lc);
        assert_int_equal(ev->proto, SIM_PROTO_POP3);
        assert_string_equal(ev->from, "mx");
        at = ev->step;
    }
    assert_int_equal(count_events(&engine, SIM_TR_STATE, lc), 3);
    /* DELE only marks; QUIT's UPDATE removes, by UID, from the store */
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "INBOX: message UID 1 removed", 0);
    assert_non_null(ev);
    assert_true(ev->t == SIM_MSEC(815));
    assert_int_equal(ev->mail.change, SIM_MAIL_REMOVED);
    assert_string_equal(ev->mail.account, "friend@example.org");
    assert_string_equal(ev->mail.subject, "Lunch?");
    assert_string_equal(ev->note, "deleted from the server by POP3 (DELE, then QUIT)");
    assert_int_equal(sim_store_count(store, "friend@example.org", "INBOX"), 1);
    assert_int_equal(sim_store_msg(store, "friend@example.org", "INBOX", 0)->uid, 2);
    assert_true(laptop.closed);
    assert_true(laptop.closed_at == SIM_MSEC(830));
    assert_int_equal(sim_pop3d_session_count(pop3d), 0);
    /* the phone hears of it at its next command */
    size_t from = find_event(&engine, SIM_TR_LINE, SIM_DIR_C2S, "a3 NOOP", 0)->step;
    assert_string_equal(s2c_lines(&engine, 1, from, buf, sizeof buf),
                        "* 1 EXPUNGE|a3 OK NOOP completed");
    teardown();
}

/* A phone idling on INBOX hears of a POP3 deletion the moment UPDATE
 * carries it out (RFC 2177). */
static void test_pop3_deletion_pushed_to_idle(void **state)
{
    (void)state;
    setup();
    struct script_client phone, laptop;
    sc_connect(&phone, net, &engine, sim_net_host(net, "phone"), MX_IP, 993);
    sc_send_at(&phone, SIM_MSEC(100), "a1 LOGIN friend@example.org secret");
    sc_send_at(&phone, SIM_MSEC(200), "a2 SELECT INBOX");
    sc_send_at(&phone, SIM_MSEC(300), "a3 IDLE");
    sc_connect(&laptop, net, &engine, sim_net_host(net, "laptop"), MX_IP, 995);
    sc_send_at(&laptop, SIM_MSEC(400), "USER friend@example.org");
    sc_send_at(&laptop, SIM_MSEC(500), "PASS secret");
    sc_send_at(&laptop, SIM_MSEC(600), "DELE 2");
    sc_send_at(&laptop, SIM_MSEC(700), "QUIT");
    sim_engine_run(&engine, SIM_SEC(1));
    size_t from = find_event(&engine, SIM_TR_LINE, SIM_DIR_C2S, "a3 IDLE", 0)->step;
    assert_string_equal(s2c_lines(&engine, 1, from, buf, sizeof buf), "+ idling|* 2 EXPUNGE");
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 2 EXPUNGE", from);
    assert_true(ev->t == SIM_MSEC(715));
    assert_int_equal(ev->conn, 1);
    const struct sim_trace_event *rm =
        find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "INBOX: message UID 2 removed", 0);
    assert_true(rm->step + 1 == ev->step); /* right after the store's removal */
    teardown();
}

static void test_dropped_connection_deletes_nothing(void **state)
{
    (void)state;
    setup();
    struct script_client sc;
    sc_connect(&sc, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&sc, SIM_MSEC(100), "USER friend@example.org");
    sc_send_at(&sc, SIM_MSEC(200), "PASS secret");
    sc_send_at(&sc, SIM_MSEC(300), "DELE 1");
    sc_send_at(&sc, SIM_MSEC(310), "DELE 2");
    sc_send_at(&sc, SIM_MSEC(400), "<close>");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_int_equal(sim_store_count(store, "friend@example.org", "INBOX"), 2);
    assert_int_equal(count_events(&engine, SIM_TR_MAIL, 0), 2); /* the two deliveries */
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_STATE, SIM_DIR_COUNT, "TRANSACTION -> CLOSED", 0);
    assert_non_null(ev);
    assert_true(ev->t == SIM_MSEC(415));
    assert_string_equal(ev->note, "the session is over");
    assert_int_equal(sim_pop3d_session_count(pop3d), 0);
    /* the lock was released: the next session logs in and sees both */
    struct script_client again;
    sc_connect(&again, net, &engine, sim_net_host(net, "laptop"), MX_IP, 995);
    sc_send_at(&again, SIM_MSEC(1100), "USER friend@example.org");
    sc_send_at(&again, SIM_MSEC(1200), "PASS secret");
    sim_engine_run(&engine, SIM_SEC(2));
    assert_non_null(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C,
                               "+OK friend@example.org's maildrop has 2 messages (127 octets)", 0));
    teardown();
}

static void test_second_session_in_use(void **state)
{
    (void)state;
    setup();
    struct script_client a, b;
    sc_connect(&a, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_connect(&b, net, &engine, sim_net_host(net, "phone"), MX_IP, 995);
    sc_send_at(&a, SIM_MSEC(100), "USER friend@example.org");
    sc_send_at(&a, SIM_MSEC(200), "PASS secret");
    sc_send_at(&b, SIM_MSEC(300), "USER friend@example.org");
    sc_send_at(&b, SIM_MSEC(400), "PASS secret");
    sc_send_at(&a, SIM_MSEC(500), "QUIT");
    sc_send_at(&b, SIM_MSEC(600), "USER friend@example.org");
    sc_send_at(&b, SIM_MSEC(700), "PASS secret");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(s2c_lines(&engine, 2, 0, buf, sizeof buf),
                        "+OK POP3 server ready <2.45000@mx>|+OK send PASS|"
                        "-ERR [IN-USE] maildrop already locked|+OK send PASS|"
                        "+OK friend@example.org's maildrop has 2 messages (127 octets)");
    assert_string_equal(note_of("-ERR [IN-USE] maildrop already locked"),
                        "the mailbox is already open in another POP3 session: POP3 lets only one "
                        "session at a time use it");
    /* a wrong password is [AUTH] (RFC 3206) */
    struct script_client c;
    sc_connect(&c, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&c, SIM_MSEC(1100), "USER friend@example.org");
    sc_send_at(&c, SIM_MSEC(1200), "PASS wrong");
    sim_engine_run(&engine, SIM_SEC(2));
    assert_string_equal(note_of("-ERR [AUTH] invalid user name or password"),
                        "login refused: the user name or the password is wrong");
    teardown();
}

static void test_tls(void **state)
{
    (void)state;
    setup();
    /* 995: every line protected, no STLS in CAPA */
    struct script_client a;
    sc_connect(&a, net, &engine, sim_net_host(net, "laptop"), MX_IP, 995);
    sc_send_at(&a, SIM_MSEC(100), "CAPA");
    sc_send_at(&a, SIM_MSEC(200), "QUIT");
    sim_engine_run(&engine, SIM_SEC(1));
    size_t lines = 0;
    for (size_t i = 0; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind != SIM_TR_LINE) continue;
        assert_true(ev->tls);
        lines++;
    }
    assert_int_equal(lines, 13);
    assert_null(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "STLS", 0));
    assert_string_equal(note_of("."), "a line holding only a dot ends the list");
    /* 110 with STLS: only the lines after the handshake; a command sent
     * behind STLS in the clear is dropped (RFC 2595 4) */
    size_t start = sim_trace_len(engine.trace);
    struct script_client b;
    sc_connect(&b, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&b, SIM_MSEC(1100), "STLS\r\nUSER injected@example.org");
    sc_send_at(&b, SIM_MSEC(1300), "USER friend@example.org");
    sim_engine_run(&engine, SIM_SEC(2));
    unsigned bc = 2;
    assert_string_equal(s2c_lines(&engine, bc, start, buf, sizeof buf),
                        "+OK POP3 server ready <2.245000@mx>|+OK Begin TLS negotiation|"
                        "+OK send PASS");
    const struct sim_trace_event *hs =
        find_event(&engine, SIM_TR_TLS, SIM_DIR_COUNT, "TLS handshake complete", start);
    assert_non_null(hs);
    for (size_t i = start; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind == SIM_TR_LINE) assert_int_equal(ev->tls, i > hs->step);
    }
    assert_string_equal(note_of("+OK Begin TLS negotiation"),
                        "go ahead: the client starts the TLS handshake now, and everything after "
                        "it is encrypted");
    teardown();
}

static void test_whole_lines_of_a_long_message(void **state)
{
    (void)state;
    setup();
    /* 400 lines of 31 octets: about 12 KB, three of the machine's chunks,
     * whose edges fall inside lines */
    static char big[16384];
    size_t o = (size_t)sprintf(big, "Subject: big\r\n\r\n");
    for (int i = 0; i < 400; i++) o += (size_t)sprintf(big + o, "line %03d abcdefghijklmnopqrst\r\n", i);
    assert_int_equal(sim_store_deliver(store, "friend@example.org", "INBOX", big, o, 0, NULL, ""),
                     SIM_STORE_OK);
    struct script_client sc;
    sc_connect(&sc, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&sc, SIM_MSEC(100), "USER friend@example.org");
    sc_send_at(&sc, SIM_MSEC(200), "PASS secret");
    sc_send_at(&sc, SIM_MSEC(300), "RETR 3");
    sim_engine_run(&engine, SIM_SEC(1));
    size_t from = find_event(&engine, SIM_TR_LINE, SIM_DIR_C2S, "RETR 3", 0)->step;
    size_t n = 0;
    for (size_t i = from + 1; i < sim_trace_len(engine.trace); i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind != SIM_TR_LINE) continue;
        if (n >= 3 && n < 403) {
            char want[64];
            sprintf(want, "line %03d abcdefghijklmnopqrst", (int)(n - 3));
            assert_string_equal(ev->text, want);
            assert_int_equal(ev->wire_bytes, 31);
        }
        n++;
    }
    assert_int_equal(n, 1 + 2 + 400 + 1); /* +OK, header and blank, body, "." */
    /* the client got the exact bytes: status, the message, the end */
    char want[32];
    int wl = sprintf(want, "+OK %zu octets\r\n", o);
    const char *retr = strstr(sc.got, want);
    assert_non_null(retr);
    assert_memory_equal(retr + wl, big, o);
    assert_string_equal(retr + wl + o, ".\r\n");
    teardown();
}

static void test_session_bound(void **state)
{
    (void)state;
    setup();
    sim_pop3d_set_max_sessions(pop3d, 0); /* clamped to 1 */
    struct script_client a, b;
    sc_connect(&a, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_connect(&b, net, &engine, sim_net_host(net, "phone"), MX_IP, 110);
    sim_engine_run(&engine, SIM_MSEC(100));
    assert_int_equal(sim_pop3d_session_count(pop3d), 1);
    assert_string_equal(b.got, "-ERR [SYS/TEMP] Too many connections\r\n");
    assert_true(b.closed);
    assert_string_equal(note_of("-ERR [SYS/TEMP] Too many connections"),
                        "a temporary problem on the server (for example too many connections); "
                        "try again later");
    /* still open when the server is freed: freed with it, lock released */
    teardown();
}

/* Commands in pieces and pipelined (RFC 2449 6.6): each reply its own
 * trace line with its own note, in order. */
static void test_split_and_pipelined_input(void **state)
{
    (void)state;
    setup();
    struct script_client sc;
    sc_connect(&sc, net, &engine, sim_net_host(net, "laptop"), MX_IP, 110);
    sc_send_at(&sc, SIM_MSEC(100), "<raw>US");
    sc_send_at(&sc, SIM_MSEC(110), "<raw>ER friend@example.org\r\nPA");
    sc_send_at(&sc, SIM_MSEC(120), "<raw>SS secret\r\nSTAT\r\nLIST\r\nUIDL 2\r\nNOPE\r\n");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(s2c_lines(&engine, 1, 0, buf, sizeof buf),
                        "+OK POP3 server ready <1.15000@mx>|+OK send PASS|"
                        "+OK friend@example.org's maildrop has 2 messages (127 octets)|"
                        "+OK 2 127|+OK 2 messages (127 octets)|1 74|2 53|.|+OK 2 1.2|"
                        "-ERR unknown command");
    assert_string_equal(note_of("+OK 2 1.2"),
                        "the unique-ids: a device that keeps mail on the server remembers them "
                        "to know which messages it already has");
    assert_string_equal(note_of("-ERR unknown command"),
                        "-ERR: the command failed or is not allowed at this point of the session");
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "+OK send PASS", 0);
    assert_true(ev->t == SIM_MSEC(125));
    teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download_and_delete),
        cmocka_unit_test(test_pop3_deletion_pushed_to_idle),
        cmocka_unit_test(test_dropped_connection_deletes_nothing),
        cmocka_unit_test(test_second_session_in_use),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_whole_lines_of_a_long_message),
        cmocka_unit_test(test_session_bound),
        cmocka_unit_test(test_split_and_pipelined_input),
    };
    return cmocka_run_group_tests_name("sim_pop3d", tests, NULL, NULL);
}
