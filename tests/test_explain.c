/* The IMAP and POP3 explanation tables: every command, state and response
 * kind has its own sentence, and the sentence follows the response code
 * and the command being answered. Responses are read with the codecs'
 * readers, as the simulated servers do. */
#include "tests/testkit.h"

#include <stdio.h>

#include "protocols/explain.h"

static const char *unknown_imap = "a command the server does not know";

static void test_every_entry_has_a_sentence(void **state)
{
    (void)state;
    for (int c = 0; c < IMAP_CMD_COUNT; c++) {
        const char *t = imap_command_explain((enum imap_cmd)c, false);
        assert_true(strlen(t) > 10);
        assert_string_not_equal(t, unknown_imap);
        /* a sentence names its command first */
        assert_memory_equal(t, imap_cmd_names[c], strlen(imap_cmd_names[c]));
        assert_true(strlen(imap_command_explain((enum imap_cmd)c, true)) > 10);
    }
    assert_string_equal(imap_command_explain(IMAP_CMD_COUNT, false), unknown_imap);
    assert_memory_equal(imap_command_explain(IMAP_CMD_FETCH, true), "UID FETCH:", 10);
    assert_memory_equal(imap_done_explain(), "DONE:", 5);
    for (int v = 0; v < POP3_VERB_COUNT; v++) {
        const char *t = pop3_command_explain((enum pop3_verb)v);
        assert_memory_equal(t, pop3_verb_name((enum pop3_verb)v),
                            strlen(pop3_verb_name((enum pop3_verb)v)));
        struct pop3_reply ok = {.ok = true};
        assert_true(strlen(pop3_reply_explain(&ok, (enum pop3_verb)v)) > 10);
    }
    for (int st = 0; st < IMAP_SERVER_STATE_COUNT; st++)
        assert_string_not_equal(imap_server_state_explain((enum imap_server_state)st),
                                "an unknown state");
    for (int st = 0; st < POP3_SERVER_STATE_COUNT; st++)
        assert_string_not_equal(pop3_server_state_explain((enum pop3_server_state)st),
                                "an unknown state");
    assert_string_equal(imap_server_state_explain(IMAP_SERVER_STATE_COUNT), "an unknown state");
}

/* Reads one response line with the codec's reader and explains it. */
static const char *explain_line(const char *line, enum imap_cmd cmd)
{
    static char text[256];
    struct imap_resp_reader *rd = imap_resp_reader_new(0);
    assert_non_null(rd);
    assert_int_equal(imap_resp_reader_feed(rd, line, strlen(line)), strlen(line));
    struct imap_response r;
    assert_int_equal(imap_resp_reader_next(rd, &r), IMAP_RD_RESPONSE);
    snprintf(text, sizeof text, "%s", imap_response_explain(&r, cmd));
    imap_resp_reader_free(rd);
    return text;
}

static void test_imap_responses(void **state)
{
    (void)state;
    static const struct {
        const char *name, *line;
        enum imap_cmd cmd;
        const char *want;
    } cases[] = {
        {"greeting", "* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", IMAP_CMD_COUNT,
         "the server is ready: this greeting opens the conversation and lists what the server "
         "can do"},
        {"plain greeting", "* OK ready\r\n", IMAP_CMD_COUNT,
         "the server is ready: this greeting opens the conversation"},
        {"exists at select", "* 3 EXISTS\r\n", IMAP_CMD_SELECT,
         "the folder holds this many messages"},
        {"exists in idle", "* 4 EXISTS\r\n", IMAP_CMD_IDLE,
         "new mail: the folder now holds this many messages"},
        {"flags pushed", "* 2 FETCH (FLAGS (\\Seen))\r\n", IMAP_CMD_IDLE,
         "news: the message's flags changed on the server (another device read, flagged or "
         "marked it); here they are now"},
        {"flags after store", "* 2 FETCH (FLAGS (\\Seen))\r\n", IMAP_CMD_STORE,
         "the message's flags after the change"},
        {"body", "* 1 FETCH (BODY[] {2}\r\nhi)\r\n", IMAP_CMD_FETCH,
         "the message (or the part asked for) follows as a literal: {n} says how many octets "
         "come next, so the client knows where it ends"},
        {"trycreate", "a1 NO [TRYCREATE] no such folder\r\n", IMAP_CMD_COPY,
         "the target folder does not exist: the client should create it first"},
        {"limit", "a1 NO [LIMIT] Store limit reached\r\n", IMAP_CMD_APPEND,
         "a limit of the server was reached (quota, folder size, or response size)"},
        {"login refused", "a1 NO Authentication failed\r\n", IMAP_CMD_LOGIN,
         "login refused: the user name or password is wrong, or logging in needs an encrypted "
         "connection first"},
        {"bad", "a1 BAD what?\r\n", IMAP_CMD_COUNT,
         "BAD: the server did not understand the command, or it is not allowed at this point "
         "of the session"},
        {"bye on logout", "* BYE bye\r\n", IMAP_CMD_LOGOUT,
         "the server says goodbye: it is about to close the connection"},
        {"uidvalidity", "* OK [UIDVALIDITY 7] UIDs valid\r\n", IMAP_CMD_SELECT,
         "UIDVALIDITY: the folder's identity number; while it stays the same, a message's UID "
         "never changes, so a device can keep what it has cached"},
        {"continue for auth", "+ \r\n", IMAP_CMD_AUTHENTICATE,
         "go ahead: the server waits for the client's login data (base64)"},
        {"ok select", "a2 OK [READ-WRITE] SELECT completed\r\n", IMAP_CMD_SELECT,
         "the folder is open for reading and changing (READ-WRITE); the lines above described it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = explain_line(cases[i].line, cases[i].cmd);
        if (strcmp(got, cases[i].want) != 0) fail_msg("%s: %s", cases[i].name, got);
    }
    assert_string_equal(imap_response_explain(NULL, IMAP_CMD_COUNT), "");
}

static void test_pop3_replies(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum pop3_verb v;
        const char *want;
    } cases[] = {
        {"+OK POP3 server ready <1.2@mx>", POP3_VERB_COUNT,
         "the server is ready; the <...> part is a timestamp, different for every connection, "
         "that APOP logins use"},
        {"-ERR [IN-USE] locked", POP3_PASS,
         "the mailbox is already open in another POP3 session: POP3 lets only one session at a "
         "time use it"},
        {"-ERR [in-use] locked", POP3_APOP,
         "the mailbox is already open in another POP3 session: POP3 lets only one session at a "
         "time use it"},
        {"-ERR [AUTH] bad", POP3_PASS, "login refused: the user name or the password is wrong"},
        {"-ERR no such message", POP3_RETR,
         "no such message (or it is already marked for deletion)"},
        {"-ERR what", POP3_VERB_COUNT,
         "-ERR: the command failed or is not allowed at this point of the session"},
        {"+OK 2 320", POP3_STAT,
         "the number of messages in the mailbox and their total size in octets"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pop3_reply r;
        assert_int_equal(pop3_reply_parse(cases[i].line, strlen(cases[i].line), &r), POP3_OK);
        assert_string_equal(pop3_reply_explain(&r, cases[i].v), cases[i].want);
    }
    assert_string_equal(pop3_end_explain(POP3_LIST), "a line holding only a dot ends the list");
    assert_memory_equal(pop3_end_explain(POP3_TOP), "a line holding only a dot ends the message", 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_has_a_sentence),
        cmocka_unit_test(test_imap_responses),
        cmocka_unit_test(test_pop3_replies),
    };
    return cmocka_run_group_tests_name("explain", tests, NULL, NULL);
}
