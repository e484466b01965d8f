/* The IMAP server of the simulated world: sessions over sim connections,
 * driven by scripted raw client lines; what the trace records (lines with
 * notes, state changes, store changes), IDLE pushes, two sessions on one
 * folder, POP3 deletions seen by IMAP, TLS marking, the session bound. */
#include "tests/testkit.h"

#include <stdio.h>

#include "sim/imapd.h"
#include "sim/pop3d.h"
#include "tests/sim_script.h"

static struct sim_engine engine;
static struct sim_net *net;
static struct sim_store *store;
static struct sim_imapd *imapd, *imapd_tls;
static char buf[8192];

static const char msg1[] = "From: Manish <manish@example.com>\r\n"
                           "To: friend@example.org\r\n"
                           "Subject: Lunch?\r\n"
                           "\r\n"
                           "Noon at the usual place?\r\n";

/* The world of sim_script.h with IMAP on 143 (STARTTLS) and 993. */
static int setup(void **state)
{
    (void)state;
    struct sim_host *mx = script_world_init(&engine, &net, &store);
    assert_non_null(mx);
    imapd = sim_imapd_attach(net, mx, store, SIM_IMAPD_PORT, false, true);
    imapd_tls = sim_imapd_attach(net, mx, store, SIM_IMAPD_PORT_TLS, true, false);
    assert_non_null(imapd);
    assert_non_null(imapd_tls);
    assert_null(sim_imapd_attach(net, mx, store, SIM_IMAPD_PORT, false, true)); /* port taken */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sim_imapd_free(imapd);
    sim_imapd_free(imapd_tls);
    script_world_fini(&engine, net, store);
    return 0;
}

static void test_session(void **state)
{
    (void)state;
    script_deliver(store, msg1);
    script_deliver(store, script_photos);
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 143);
    sc_imap_select_inbox(&sc);
    sc_send_at(&sc, SIM_MSEC(300), "a3 FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    sc_send_at(&sc, SIM_MSEC(400), "a4 STORE 1 +FLAGS (\\Seen \\Deleted)");
    sc_send_at(&sc, SIM_MSEC(500), "a5 EXPUNGE");
    sc_send_at(&sc, SIM_MSEC(600), "a6 LOGOUT");
    sim_engine_run(&engine, SIM_SEC(10));
    assert_string_equal(
        s2c_lines(&engine, 1, 0, buf, sizeof buf),
        "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN IDLE UIDPLUS] mx IMAP4rev1 Service Ready|"
        "a1 OK LOGIN completed|"
        "* 2 EXISTS|* 2 RECENT|* OK [UNSEEN 1] Message 1 is the first unseen message|"
        "* OK [UIDVALIDITY 1] UIDs valid|* OK [UIDNEXT 3] Predicted next UID|"
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)|"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] Limited|"
        "a2 OK [READ-WRITE] SELECT completed|"
        "* 1 FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] {19}|Subject: Lunch?||)|"
        "a3 OK FETCH completed|"
        "* 1 FETCH (FLAGS (\\Seen \\Deleted \\Recent))|a4 OK +FLAGS completed|"
        "* 1 EXPUNGE|a5 OK EXPUNGE completed|"
        "* BYE IMAP4rev1 server terminating connection|a6 OK LOGOUT completed");
    /* notes from the explanation tables, chosen by response and command */
    assert_string_equal(server_note(&engine, "* 2 EXISTS"), "the folder holds this many messages");
    assert_string_equal(server_note(&engine, "a1 OK LOGIN completed"),
                        "logged in: the user name and password are accepted, and the client "
                        "may open a folder");
    assert_string_equal(server_note(&engine, "* 1 EXPUNGE"),
                        "the message with this number was removed for good; the messages after "
                        "it move up one number");
    /* a literal's lines belong to its response: only the first has a note */
    assert_string_equal(server_note(&engine, "Subject: Lunch?"), "");
    /* state changes, in order, on the connection */
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_STATE, SIM_DIR_COUNT, "not-authenticated -> authenticated", 0);
    assert_non_null(ev);
    assert_string_equal(ev->from, "mx");
    assert_int_equal(ev->conn, 1);
    assert_int_equal(ev->port, 143);
    assert_int_equal(ev->proto, SIM_PROTO_IMAP);
    assert_true(ev->t == SIM_MSEC(115));
    assert_non_null(find_event(&engine, SIM_TR_STATE, SIM_DIR_COUNT, "authenticated -> selected",
                               ev->step));
    assert_non_null(
        find_event(&engine, SIM_TR_STATE, SIM_DIR_COUNT, "selected -> logout", ev->step));
    assert_int_equal(count_events(&engine, SIM_TR_STATE, 1), 3);
    /* STORE \Seen: the store's flags event, at the time the command arrived */
    ev = find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT,
                    "INBOX: message UID 1 flags now (\\Seen \\Deleted)", 0);
    assert_non_null(ev);
    assert_true(ev->t == SIM_MSEC(415));
    assert_int_equal(ev->mail.change, SIM_MAIL_FLAGS);
    assert_string_equal(ev->mail.owner, "mx");
    assert_string_equal(ev->mail.account, "friend@example.org");
    assert_string_equal(ev->mail.folder, "INBOX");
    assert_int_equal(ev->mail.uid, 1);
    assert_int_equal(ev->mail.flags, SIM_FLAG_SEEN | SIM_FLAG_DELETED);
    assert_string_equal(ev->mail.subject, "Lunch?");
    assert_string_equal(ev->mail.from, "manish@example.com");
    /* EXPUNGE removed it from the store */
    ev = find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "INBOX: message UID 1 removed", 0);
    assert_non_null(ev);
    assert_true(ev->t == SIM_MSEC(515));
    assert_int_equal(sim_store_count(store, "friend@example.org", "INBOX"), 1);
    assert_int_equal(sim_store_msg(store, "friend@example.org", "INBOX", 0)->uid, 2);
    /* LOGOUT: the server closed; the client heard at 630 ms */
    assert_true(sc.closed);
    assert_true(sc.closed_at == SIM_MSEC(630));
    assert_int_equal(sim_imapd_session_count(imapd), 0);
}

static void test_two_sessions_expunge(void **state)
{
    (void)state;
    script_deliver(store, msg1);
    script_deliver(store, script_photos);
    struct script_client phone, laptop;
    sc_connect_mx(&phone, net, &engine, "phone", 993);
    sc_connect_mx(&laptop, net, &engine, "laptop", 993);
    sc_send_at(&phone, SIM_MSEC(100), "a1 LOGIN friend@example.org secret");
    sc_send_at(&laptop, SIM_MSEC(100), "b1 LOGIN friend@example.org secret");
    sc_send_at(&phone, SIM_MSEC(200), "a2 SELECT INBOX");
    sc_send_at(&laptop, SIM_MSEC(300), "b2 SELECT INBOX");
    sc_send_at(&phone, SIM_MSEC(400), "a3 UID STORE 1 +FLAGS.SILENT (\\Deleted)");
    sc_send_at(&phone, SIM_MSEC(500), "a4 EXPUNGE");
    sc_send_at(&laptop, SIM_MSEC(700), "b3 NOOP");
    sim_engine_run(&engine, SIM_SEC(10));
    unsigned lc = 2; /* the laptop's connection */
    /* the phone's expunge reaches the laptop at its next command (RFC 3501
     * 7.4.1), flags first, never before */
    assert_string_equal(replies_from(&engine, lc, "b3 NOOP", buf, sizeof buf),
                        "* 1 EXPUNGE|b3 OK NOOP completed");
    size_t from = client_line_step(&engine, "b2 SELECT INBOX");
    size_t noop = client_line_step(&engine, "b3 NOOP");
    size_t laptop_lines = 0;
    for (size_t i = from; i < noop; i++) {
        const struct sim_trace_event *ev = sim_trace_get(engine.trace, i);
        if (ev->kind == SIM_TR_LINE && ev->conn == lc && ev->dir == SIM_DIR_S2C) laptop_lines++;
    }
    assert_int_equal(laptop_lines, 8); /* SELECT's answer only */
    /* \Recent went to the phone, which selected first (RFC 3501 2.3.2) */
    assert_non_null(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 0 RECENT", 0));
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 1 EXPUNGE", 0);
    assert_int_equal(ev->conn, 1); /* the phone first, at its own EXPUNGE */
    assert_true(ev->t == SIM_MSEC(515));
    assert_string_equal(server_note(&engine, "b3 OK NOOP completed"),
                        "done: nothing to do; any news was reported just before this line");
    assert_int_equal(sim_imapd_session_count(imapd_tls), 2);
}

static void deliver_event(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)ctx;
    (void)arg;
    script_deliver(store, script_photos);
}

static void test_idle_push(void **state)
{
    (void)state;
    script_deliver(store, msg1);
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 993);
    sc_imap_select_inbox(&sc);
    sc_send_at(&sc, SIM_MSEC(300), "a3 IDLE");
    sim_after(&engine, SIM_MSEC(1234), deliver_event, NULL, 0);
    sc_send_at(&sc, SIM_SEC(2), "DONE");
    sim_engine_run(&engine, SIM_SEC(10));
    size_t from = client_line_step(&engine, "a3 IDLE");
    assert_string_equal(s2c_lines(&engine, 1, from, buf, sizeof buf),
                        "+ idling|* 2 EXISTS|* 2 RECENT|a3 OK IDLE terminated");
    /* pushed the moment the message was stored, not at the next command */
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 2 EXISTS", from);
    assert_true(ev->t == SIM_MSEC(1234));
    assert_true(ev->arrive == SIM_MSEC(1249));
    assert_true(ev->tls);
    assert_string_equal(ev->note, "new mail: the folder now holds this many messages");
    ev = find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "INBOX: message UID 2 stored (53 octets) ()",
                    0);
    assert_true(ev->t == SIM_MSEC(1234));
    assert_true(ev->step + 1 == find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "* 2 EXISTS", 0)->step);
    assert_string_equal(server_note(&engine, "+ idling"),
                        "the server is idling: it will push news (new mail) the moment it "
                        "happens, until the client sends DONE");
    assert_string_equal(server_note(&engine, "a3 OK IDLE terminated"),
                        "idling has ended: the client may send commands again");
}

static void test_append_with_literal(void **state)
{
    (void)state;
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 993);
    sc_imap_login(&sc);
    sc_send_at(&sc, SIM_MSEC(200), "a2 APPEND Sent (\\Seen) {18}");
    sc_send_at(&sc, SIM_SEC(61), "Subject: hi\r\n\r\nx\r\n");
    sim_engine_run(&engine, SIM_SEC(100));
    assert_string_equal(replies_from(&engine, 1, "a2 APPEND Sent (\\Seen) {18}", buf, sizeof buf),
                        "+ Ready for literal data|a2 OK [APPENDUID 2 1] APPEND completed");
    assert_string_equal(server_note(&engine, "+ Ready for literal data"),
                        "go ahead: the server is ready for the literal's octets (the message "
                        "itself)");
    const struct sim_stored_msg *m = sim_store_msg(store, "friend@example.org", "Sent", 0);
    assert_non_null(m);
    assert_int_equal(m->size, 18);
    assert_int_equal(m->flags, SIM_FLAG_SEEN);
    /* no date in APPEND: the simulated clock when it arrived (61.015 s) */
    assert_true(m->internal_date == SCRIPT_EPOCH + 61);
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_MAIL, SIM_DIR_COUNT, "Sent: message UID 1 stored (18 octets) (\\Seen)", 0);
    assert_non_null(ev);
    assert_string_equal(ev->note, "saved into Sent by the mail program (IMAP APPEND)");
}

static void test_implicit_tls_marks_every_line(void **state)
{
    (void)state;
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 993);
    sc_imap_login(&sc);
    sc_send_at(&sc, SIM_MSEC(200), "a2 LOGOUT");
    sim_engine_run(&engine, SIM_SEC(10));
    assert_int_equal(assert_every_line_tls(&engine, 993), 6);
    /* no STARTTLS offered on an encrypted port */
    assert_string_equal(sim_trace_get(engine.trace, 2)->text,
                        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE UIDPLUS] mx IMAP4rev1 Service Ready");
}

static void test_starttls_marks_later_lines(void **state)
{
    (void)state;
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 143);
    /* a command pipelined behind STARTTLS in the clear is never obeyed
     * (RFC 3501 6.2.1) */
    sc_send_at(&sc, SIM_MSEC(100), "a1 STARTTLS\r\na2 LOGIN friend@example.org secret");
    sc_send_at(&sc, SIM_MSEC(300), "a3 LOGIN friend@example.org secret");
    sim_engine_run(&engine, SIM_SEC(10));
    assert_string_equal(s2c_lines(&engine, 1, 0, buf, sizeof buf),
                        "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN IDLE UIDPLUS] mx IMAP4rev1 "
                        "Service Ready|a1 OK Begin TLS negotiation now|a3 OK LOGIN completed");
    const struct sim_trace_event *ok =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "a1 OK Begin TLS negotiation now", 0);
    assert_false(ok->tls);
    assert_string_equal(ok->note, "go ahead: the client starts the TLS handshake now, and "
                                  "everything after it is encrypted");
    assert_tls_after_handshake(&engine, 0);
    assert_true(find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "a3 OK LOGIN completed", 0)->tls);
    assert_int_equal(count_events(&engine, SIM_TR_STATE, 1), 1);
}

static void test_session_bound(void **state)
{
    (void)state;
    sim_imapd_set_max_sessions(imapd, 1);
    struct script_client a, b;
    sc_assert_second_refused(&a, &b, net, &engine, "phone", "laptop", 143,
                             "* BYE Too many connections");
    assert_int_equal(sim_imapd_session_count(imapd), 1);
    assert_false(a.closed);
    assert_string_equal(server_note(&engine, "* BYE Too many connections"),
                        "the server is closing the connection (for example it has too many "
                        "connections already); the client may try again later");
    /* the first one drops without LOGOUT: its session goes, a new one fits */
    sc_send_at(&a, SIM_MSEC(200), "<close>");
    sim_engine_run(&engine, SIM_MSEC(300));
    assert_int_equal(sim_imapd_session_count(imapd), 0);
    sc_connect_mx(&b, net, &engine, "laptop", 143);
    sim_engine_run(&engine, SIM_SEC(1));
    assert_int_equal(sim_imapd_session_count(imapd), 1);
    assert_memory_equal(b.got, "* OK [CAPABILITY", 16);
    /* a session still open when the server is freed (teardown) is freed with it */
}

/* A command arriving in pieces, and two commands in one segment: the
 * answers are the same as for whole lines, each response its own line. */
static void test_split_and_pipelined_input(void **state)
{
    (void)state;
    script_deliver(store, msg1);
    struct script_client sc;
    sc_connect_mx(&sc, net, &engine, "phone", 143);
    sc_send_at(&sc, SIM_MSEC(100), "<raw>a1 LOG");
    sc_send_at(&sc, SIM_MSEC(110), "<raw>IN friend@example.org sec");
    sc_send_at(&sc, SIM_MSEC(120), "<raw>ret\r");
    sc_send_at(&sc, SIM_MSEC(130), "<raw>\n");
    sc_send_at(&sc, SIM_MSEC(200), "a2 EXAMINE INBOX\r\na3 NOOP");
    sc_send_at(&sc, SIM_MSEC(300), "a4 FOO");
    sim_engine_run(&engine, SIM_SEC(1));
    assert_string_equal(replies_from(&engine, 1, "a1 LOG", buf, sizeof buf),
                        "a1 OK LOGIN completed|"
                        "* 1 EXISTS|* 1 RECENT|* OK [UNSEEN 1] Message 1 is the first unseen message|"
                        "* OK [UIDVALIDITY 1] UIDs valid|* OK [UIDNEXT 2] Predicted next UID|"
                        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)|"
                        "* OK [PERMANENTFLAGS ()] No permanent flags permitted|"
                        "a2 OK [READ-ONLY] EXAMINE completed|a3 OK NOOP completed|"
                        "a4 BAD Unknown command");
    const struct sim_trace_event *ev =
        find_event(&engine, SIM_TR_LINE, SIM_DIR_S2C, "a1 OK LOGIN completed", 0);
    assert_true(ev->t == SIM_MSEC(145)); /* when the line's end arrived */
    assert_string_equal(server_note(&engine, "a4 BAD Unknown command"),
                        "BAD: the server did not understand the command, or it is not allowed "
                        "at this point of the session");
    assert_string_equal(server_note(&engine, "a2 OK [READ-ONLY] EXAMINE completed"),
                        "the folder is open read-only (READ-ONLY); the lines above described it");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_sessions_expunge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_with_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_implicit_tls_marks_every_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_starttls_marks_later_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_and_pipelined_input, setup, teardown),
    };
    return cmocka_run_group_tests_name("sim_imapd", tests, NULL, NULL);
}
