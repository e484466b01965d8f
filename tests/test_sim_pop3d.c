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

/* The world of sim_script.h with POP3 on 110 (STLS) and 995, IMAP on 993,
 * and msg1 and script_photos in INBOX. */
static int setup(void **state)
{
    (void)state;
    struct sim_host *mx = script_world_init(&engine, &net, &store);
    pop3d = sim_pop3d_attach(net, mx, store, SIM_POP3D_PORT, false, true);
    pop3d_tls = sim_pop3d_attach(net, mx, store, SIM_POP3D_PORT_TLS, true, false);
    imapd = sim_imapd_attach(net, mx, store, SIM_IMAPD_PORT_TLS, true, false);
    assert_non_null(pop3d);
    assert_non_null(pop3d_tls);
    assert_non_null(imapd);
    script_deliver(store, msg1);
    script_deliver(store, script_photos);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_pop3d_free(pop3d);
    sim_pop3d_free(pop3d_tls);
    sim_imapd_free(imapd);
    script_world_fini(&engine, net, store);
    return 0;
}

static void test_download_and_delete(void **state)
{
    (void)state;
    /* the phone keeps INBOX open by IMAP; the laptop downloads by POP3 */
    struct script_client phone, laptop;
    sc_connect_mx(&phone, net, &engine, "phone", 993);
    sc_imap_select_inbox(&phone);
    sc_connect_mx(&laptop, net, &engine, "laptop", 110);
    sc_pop3_login(&laptop, SIM_MSEC(300));
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
    assert_string_equal(server_note(&engine, "+OK 74 octets"),
                        "the message follows, line by line, ended by a line holding only a dot");
    assert_string_equal(server_note(&engine, "."),
                        "a line holding only a dot ends the message (a line of the message that "
                        "starts with a dot was sent with one more)");
    assert_string_equal(server_note(&engine, "From: Manish <manish@example.com>"), "");
    assert_string_equal(server_note(&engine, "+OK message 1 deleted"),
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
    assert_string_equal(replies_from(&engine, 1, "a3 NOOP", buf, sizeof buf),
                        "* 1 EXPUNGE|a3 OK NOOP completed");
}

/* A phone idling on INBOX hears of a POP3 deletion the moment UPDATE
 * carries it out (RFC 2177). */
static void test_pop3_deletion_pushed_to_idle(void **state)
{
    (void)state;
    struct script_client phone, laptop;
    sc_connect_mx(&phone, net, &engine, "phone", 993);
    sc_imap_select_inbox(&phone);
    sc_send_at(&phone, SIM_MSEC(300), "a3 IDLE");
    sc_connect_mx(&laptop, net, &engine, "laptop", 995);
    sc_pop3_login(&laptop, SIM_MSEC(400));
    sc_send_at(&laptop, SIM_MSEC(600), "DELE 2");
    sc_send_at(&laptop, SIM_MSEC(700), "QUIT");
    sim_engine_run(&engine, SIM_SEC(1));
    size_t from = client_line_step(&engine, "a3 IDLE");
    assert_string_equal(s2c_lines(&engine, 1, from, buf, sizeof buf), "+ idling|* 2 EXPUNGE");
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 2 EXPUNGE", from);
    assert_true(ev->t == SIM_MSEC(715));
    assert_int_equal(ev->conn, 1);
    const struct sim_trace_event *rm =
        find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "INBOX: message UID 2 removed", 0);
    assert_true(rm->step + 1 == ev->step); /* right after the store's removal */
}

static void test_dropped_connection_deletes_nothing(void **state)
{
    (void)state;
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "laptop", 110);
    sc_pop3_login(&sc, SIM_MSEC(100));
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
    sc_connect_mx(&again, net, &engine, "laptop", 995);
    sc_pop3_login(&again, SIM_MSEC(1100));
    sim_engine_run(&engine, SIM_SEC(2));
    assert_non_null(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C,
                               "+OK friend@example.org's maildrop has 2 messages (127 octets)", 0));
}

static void test_second_session_in_use(void **state)
{
    (void)state;
    struct script_client a, b;
    sc_connect_mx(&a, net, &engine, "laptop", 110);
    sc_connect_mx(&b, net, &engine, "phone", 995);
    sc_pop3_login(&a, SIM_MSEC(100));
    sc_pop3_login(&b, SIM_MSEC(300));
    sc_send_at(&a, SIM_MSEC(500), "QUIT");
    sc_pop3_login(&b, SIM_MSEC(600));
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(s2c_lines(&engine, 2, 0, buf, sizeof buf),
                        "+OK POP3 server ready <2.45000@mx>|+OK send PASS|"
                        "-ERR [IN-USE] maildrop already locked|+OK send PASS|"
                        "+OK friend@example.org's maildrop has 2 messages (127 octets)");
    assert_string_equal(server_note(&engine, "-ERR [IN-USE] maildrop already locked"),
                        "the mailbox is already open in another POP3 session: POP3 lets only one "
                        "session at a time use it");
    /* a wrong password is [AUTH] (RFC 3206) */
    struct script_client c;
    sc_connect_mx(&c, net, &engine, "laptop", 110);
    sc_send_at(&c, SIM_MSEC(1100), "USER friend@example.org");
    sc_send_at(&c, SIM_MSEC(1200), "PASS wrong");
    sim_engine_run(&engine, SIM_SEC(2));
    assert_string_equal(server_note(&engine, "-ERR [AUTH] invalid user name or password"),
                        "login refused: the user name or the password is wrong");
}

static void test_tls(void **state)
{
    (void)state;
    /* 995: every line protected, no STLS in CAPA */
    struct script_client a;
    sc_connect_mx(&a, net, &engine, "laptop", 995);
    sc_send_at(&a, SIM_MSEC(100), "CAPA");
    sc_send_at(&a, SIM_MSEC(200), "QUIT");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_int_equal(assert_every_line_tls(&engine, 0), 13);
    assert_null(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "STLS", 0));
    assert_string_equal(server_note(&engine, "."), "a line holding only a dot ends the list");
    /* 110 with STLS: only the lines after the handshake; a command sent
     * behind STLS in the clear is dropped (RFC 2595 4) */
    size_t start = sim_trace_len(engine.trace);
    struct script_client b;
    sc_connect_mx(&b, net, &engine, "laptop", 110);
    sc_send_at(&b, SIM_MSEC(1100), "STLS\r\nUSER injected@example.org");
    sc_send_at(&b, SIM_MSEC(1300), "USER friend@example.org");
    sim_engine_run(&engine, SIM_SEC(2));
    unsigned bc = 2;
    assert_string_equal(s2c_lines(&engine, bc, start, buf, sizeof buf),
                        "+OK POP3 server ready <2.245000@mx>|+OK Begin TLS negotiation|"
                        "+OK send PASS");
    assert_tls_after_handshake(&engine, start);
    assert_string_equal(server_note(&engine, "+OK Begin TLS negotiation"),
                        "go ahead: the client starts the TLS handshake now, and everything after "
                        "it is encrypted");
}

static void test_whole_lines_of_a_long_message(void **state)
{
    (void)state;
    /* 400 lines of 31 octets: about 12 KB, three of the machine's chunks,
     * whose edges fall inside lines */
    static char big[16384];
    size_t o = (size_t)sprintf(big, "Subject: big\r\n\r\n");
    for (int i = 0; i < 400; i++) o += (size_t)sprintf(big + o, "line %03d abcdefghijklmnopqrst\r\n", i);
    assert_int_equal(sim_store_deliver(store, "friend@example.org", "INBOX", big, o, 0, NULL, ""),
                     SIM_STORE_OK);
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "laptop", 110);
    sc_pop3_login(&sc, SIM_MSEC(100));
    sc_send_at(&sc, SIM_MSEC(300), "RETR 3");
    sim_engine_run(&engine, SIM_SEC(1));
    size_t from = client_line_step(&engine, "RETR 3");
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
}

static void test_session_bound(void **state)
{
    (void)state;
    sim_pop3d_set_max_sessions(pop3d, 0); /* clamped to 1 */
    struct script_client a, b;
    sc_assert_second_refused(&a, &b, net, &engine, "laptop", "phone", 110,
                             "-ERR [SYS/TEMP] Too many connections");
    assert_int_equal(sim_pop3d_session_count(pop3d), 1);
    assert_string_equal(server_note(&engine, "-ERR [SYS/TEMP] Too many connections"),
                        "a temporary problem on the server (for example too many connections); "
                        "try again later");
    /* still open when teardown frees the server: freed with it, lock released */
}

/* Commands in pieces and pipelined (RFC 2449 6.6): each reply its own
 * trace line with its own note, in order. */
static void test_split_and_pipelined_input(void **state)
{
    (void)state;
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "laptop", 110);
    sc_send_at(&sc, SIM_MSEC(100), "<raw>US");
    sc_send_at(&sc, SIM_MSEC(110), "<raw>ER friend@example.org\r\nPA");
    sc_send_at(&sc, SIM_MSEC(120), "<raw>SS secret\r\nSTAT\r\nLIST\r\nUIDL 2\r\nNOPE\r\n");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(s2c_lines(&engine, 1, 0, buf, sizeof buf),
                        "+OK POP3 server ready <1.15000@mx>|+OK send PASS|"
                        "+OK friend@example.org's maildrop has 2 messages (127 octets)|"
                        "+OK 2 127|+OK 2 messages (127 octets)|1 74|2 53|.|+OK 2 1.2|"
                        "-ERR unknown command");
    assert_string_equal(server_note(&engine, "+OK 2 1.2"),
                        "the unique-ids: a device that keeps mail on the server remembers them "
                        "to know which messages it already has");
    assert_string_equal(server_note(&engine, "-ERR unknown command"),
                        "-ERR: the command failed or is not allowed at this point of the session");
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "+OK send PASS", 0);
    assert_true(ev->t == SIM_MSEC(125));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_download_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop3_deletion_pushed_to_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_connection_deletes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_session_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_lines_of_a_long_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_and_pipelined_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("sim_pop3d", tests, NULL, NULL);
}
