/* The POP3 client machine: RFC 1939 10's session from the client's side,
 * scripted server replies (good and bad) as named rows, and whole passes
 * against the server machine: download-and-delete, and leave-a-copy that
 * never downloads a message twice. */
#include "tests/testkit.h"

#include "protocols/pop3_client.h"
#include "protocols/pop3_server.h"
#include "tests/pop3_memdrop.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- harness ---- */

struct crun {
    struct pop3_client *c;
    char   sent[8192];  /* SEND bytes not yet checked */
    size_t sent_len;
    char   log[4096];   /* MESSAGE/SKIPPED/FAILED/DONE/STARTTLS, one a line */
    size_t log_len;
    char   msgs[8][1024]; /* data of each MESSAGE, in order */
    size_t nmsgs;
    int    err;          /* a sticky error returned by next() */
    bool   starttls;
    int    tls_count;    /* STARTTLS events so far */
};

static void logf_(struct crun *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof r->log - r->log_len;
    size_t n = (size_t)vsnprintf(r->log + r->log_len, room, fmt, ap);
    r->log_len += n < room ? n : room - 1; /* full: the rest is cut */
    va_end(ap);
}

static void cpump(struct crun *r)
{
    for (;;) {
        struct pop3_client_ev ev;
        int k = pop3_client_next(r->c, &ev);
        if (k == POP3_NEED_MORE) break;
        if (k < 0) {
            if (!r->err) logf_(r, "ERR %d\n", k);
            r->err = k;
            break;
        }
        switch (k) {
        case POP3_CLI_SEND:
            /* RFC 2449 4: a command line is at most 255 octets with CRLF */
            assert_true(ev.out_len <= POP3_MAX_CMD_LINE);
            assert_memory_equal(ev.out + ev.out_len - 2, "\r\n", 2);
            if (r->sent_len + ev.out_len >= sizeof r->sent) r->sent_len = 0;
            assert_true(r->sent_len + ev.out_len < sizeof r->sent);
            memcpy(r->sent + r->sent_len, ev.out, ev.out_len);
            r->sent_len += ev.out_len;
            r->sent[r->sent_len] = 0;
            break;
        case POP3_CLI_REPLY:
        case POP3_CLI_STATE:
            break;
        case POP3_CLI_STARTTLS:
            logf_(r, "STARTTLS\n");
            r->starttls = true;
            r->tls_count++;
            break;
        case POP3_CLI_MESSAGE:
            logf_(r, "MSG %zu %s %zu\n", ev.msg, ev.uidl, ev.data_len);
            if (r->nmsgs < 8 && ev.data_len < sizeof r->msgs[0]) {
                memcpy(r->msgs[r->nmsgs], ev.data, ev.data_len);
                r->msgs[r->nmsgs++][ev.data_len] = 0;
            }
            break;
        case POP3_CLI_SKIPPED:
            logf_(r, "SKIP %zu %s: %.*s\n", ev.msg, ev.uidl, (int)ev.text_len, ev.text);
            break;
        case POP3_CLI_FAILED:
            logf_(r, "FAIL%s %.*s\n", ev.in_use ? "[in-use]" : "", (int)ev.text_len, ev.text);
            break;
        case POP3_CLI_DONE:
            logf_(r, "DONE %zu\n", ev.msg);
            break;
        default:
            fail_msg("unexpected client event %d", k);
        }
    }
    if (r->starttls) { /* the test plays the TLS handshake */
        r->starttls = false;
        pop3_client_tls_started(r->c);
        cpump(r);
    }
}

static void cfeed(struct crun *r, const char *in, size_t n, enum feed_mode mode)
{
    size_t off = 0;
    int tls_before = r->tls_count;
    for (;;) {
        cpump(r);
        /* After STARTTLS the rest of this read was clear text sent before
         * the switch: a TLS layer would never hand it over. */
        if (off == n || r->err || r->tls_count != tls_before) break;
        off += pop3_client_feed(r->c, in + off, feed_chunk(mode, n - off));
    }
}

/* A scripted server: for each step, the exact command the client must
 * have sent (NULL: none, for the greeting) and the reply to feed. */
struct step {
    const char *send;
    const char *reply;
};

static void play(struct crun *r, const struct step *steps, size_t n, enum feed_mode mode,
                 const char *name)
{
    cpump(r);
    for (size_t i = 0; i < n && steps[i].reply; i++) {
        const char *want = steps[i].send ? steps[i].send : "";
        if (strcmp(r->sent, want) != 0)
            fail_msg("%s step %zu: client sent [%s], want [%s]", name, i, r->sent, want);
        r->sent_len = 0;
        r->sent[0] = 0;
        cfeed(r, steps[i].reply, strlen(steps[i].reply), mode);
    }
}

static struct pop3_client_config base_cfg(void)
{
    struct pop3_client_config cfg = {.user = "mrose", .pass = "tanstaaf"};
    return cfg;
}

static char msg120[200], msg200[300];

/* ---- RFC 1939 section 10, client side ---- */

static void test_rfc1939_section10(void **state)
{
    (void)state;
    memdrop_fill(msg120, 120, "one");
    memdrop_fill(msg200, 200, "two");
    char retr1[400], retr2[400];
    snprintf(retr1, sizeof retr1, "+OK 120 octets\r\n%s.\r\n", msg120);
    snprintf(retr2, sizeof retr2, "+OK 200 octets\r\n%s.\r\n", msg200);
    /* RFC 1939 10, verbatim: the server's lines and the client's commands */
    const struct step rfc[] = {
        {NULL, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"},
        {"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
         "+OK mrose's maildrop has 2 messages (320 octets)\r\n"},
        {"STAT\r\n", "+OK 2 320\r\n"},
        {"LIST\r\n", "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"},
        {"RETR 1\r\n", retr1},
        {"DELE 1\r\n", "+OK message 1 deleted\r\n"},
        {"RETR 2\r\n", retr2},
        {"DELE 2\r\n", "+OK message 2 deleted\r\n"},
        {"QUIT\r\n", "+OK dewey POP3 server signing off (maildrop empty)\r\n"},
    };
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct pop3_client_config cfg = base_cfg();
        cfg.apop = true;
        cfg.use_list = true;
        struct crun *r = calloc(1, sizeof *r);
        r->c = pop3_client_new(&cfg, NULL);
        play(r, rfc, sizeof rfc / sizeof rfc[0], modes[m], "RFC 1939 10");
        assert_string_equal(r->sent, ""); /* nothing after QUIT */
        assert_string_equal(r->log, "MSG 1  120\nMSG 2  200\nDONE 2\n");
        assert_string_equal(r->msgs[0], msg120);
        assert_string_equal(r->msgs[1], msg200);
        assert_int_equal(pop3_client_state(r->c), POP3_CLIENT_DONE);
        pop3_client_free(r->c);
        free(r);
    }
}

/* ---- scripted replies, good and bad ---- */

enum variant { V_PLAIN, V_APOP, V_STLS, V_KEEP, V_SMALL, V_LIST_SMALL };

#define GREET "+OK ready\r\n"
#define LOGIN_STEPS {NULL, GREET}, {"USER mrose\r\n", "+OK\r\n"}, {"PASS tanstaaf\r\n", "+OK in\r\n"}

static const struct {
    const char  *name;
    enum variant v;
    struct step  steps[10];
    const char  *want_log;
    enum pop3_client_state want_state;
} cases[] = {
    {"-ERR to PASS", V_PLAIN,
     {{NULL, GREET}, {"USER mrose\r\n", "+OK\r\n"},
      {"PASS tanstaaf\r\n", "-ERR [AUTH] invalid user name or password\r\n"},
      {"QUIT\r\n", "+OK bye\r\n"}},
     "FAIL login failed: invalid user name or password\n", POP3_CLIENT_FAILED},
    {"[IN-USE] reported as such", V_PLAIN,
     {{NULL, GREET}, {"USER mrose\r\n", "+OK\r\n"},
      {"PASS tanstaaf\r\n", "-ERR [IN-USE] maildrop already locked\r\n"},
      {"QUIT\r\n", "+OK bye\r\n"}},
     "FAIL[in-use] maildrop in use by another session: maildrop already locked\n",
     POP3_CLIENT_FAILED},
    {"-ERR to USER", V_PLAIN,
     {{NULL, GREET}, {"USER mrose\r\n", "-ERR no mailbox\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "FAIL login failed at USER: no mailbox\n", POP3_CLIENT_FAILED},
    {"-ERR greeting", V_PLAIN, {{NULL, "-ERR [SYS/TEMP] busy\r\n"}},
     "FAIL server refused the connection: busy\n", POP3_CLIENT_FAILED},
    {"SMTP banner instead of POP3", V_PLAIN, {{NULL, "220 mx.example.com ESMTP\r\n"}},
     "FAIL malformed response from server (POP3_ERR_BAD_STATUS: response is neither +OK nor -ERR)\n"
     "ERR -7\n",
     POP3_CLIENT_FAILED},
    {"garbage after login", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+ok 1 2\r\n"}},
     "FAIL malformed response from server (POP3_ERR_BAD_STATUS: response is neither +OK nor -ERR)\n"
     "ERR -7\n",
     POP3_CLIENT_FAILED},
    {"STLS refused: no fallback to clear text", V_STLS,
     {{NULL, GREET}, {"STLS\r\n", "-ERR STLS not offered\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "FAIL server refused STLS: STLS not offered\n", POP3_CLIENT_FAILED},
    {"STAT malformed", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK lots\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "FAIL STAT failed: lots\n", POP3_CLIENT_FAILED},
    {"UIDL refused in leave-a-copy mode", V_KEEP,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 1 10\r\n"}, {"UIDL\r\n", "-ERR unknown command\r\n"},
      {"QUIT\r\n", "+OK\r\n"}},
     "FAIL server has no UIDL, cannot leave mail on it: unknown command\n", POP3_CLIENT_FAILED},
    {"QUIT -ERR: UPDATE failed", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 0 0\r\n"},
      {"QUIT\r\n", "-ERR some deleted messages not removed\r\n"}},
     "FAIL server could not remove the messages: some deleted messages not removed\n",
     POP3_CLIENT_FAILED},
    {"empty maildrop", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 0 0\r\n"}, {"QUIT\r\n", "+OK bye\r\n"}}, "DONE 0\n",
     POP3_CLIENT_DONE},
    {"UIDL refused: download-and-delete falls back to LIST", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 1 7\r\n"}, {"UIDL\r\n", "-ERR no\r\n"},
      {"LIST\r\n", "+OK\r\n1 7\r\n.\r\n"}, {"RETR 1\r\n", "+OK\r\nhello\r\n.\r\n"},
      {"DELE 1\r\n", "+OK\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "MSG 1  7\nDONE 1\n", POP3_CLIENT_DONE},
    {"RETR -ERR skips the message", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 2 14\r\n"}, {"UIDL\r\n", "+OK\r\n1 u1\r\n2 u2\r\n.\r\n"},
      {"RETR 1\r\n", "-ERR no such message\r\n"}, {"RETR 2\r\n", "+OK\r\nhello\r\n.\r\n"},
      {"DELE 2\r\n", "+OK\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "SKIP 1 u1: RETR refused: no such message\nMSG 2 u2 7\nDONE 1\n", POP3_CLIENT_DONE},
    {"malformed listing lines ignored", V_PLAIN,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 1 7\r\n"},
      {"UIDL\r\n", "+OK\r\nx y\r\n0 zero\r\n3 \r\n4 bad uid\r\n2 good\r\n.\r\n"},
      {"RETR 2\r\n", "+OK\r\nhello\r\n.\r\n"}, {"DELE 2\r\n", "+OK\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "MSG 2 good 7\nDONE 1\n", POP3_CLIENT_DONE},
    {"message over the size limit is left on the server", V_SMALL,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 2 80\r\n"}, {"UIDL\r\n", "+OK\r\n1 u1\r\n2 u2\r\n.\r\n"},
      {"RETR 1\r\n",
       "+OK\r\nSubject: a long one, far more than thirty-two octets\r\nbody\r\n.\r\n"},
      {"RETR 2\r\n", "+OK\r\nshort\r\n.\r\n"}, {"DELE 2\r\n", "+OK\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "SKIP 1 u1: too large, left on server\nMSG 2 u2 7\nDONE 1\n", POP3_CLIENT_DONE},
    {"LIST size over the limit: not even fetched", V_LIST_SMALL,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 2 107\r\n"}, {"LIST\r\n", "+OK\r\n1 100\r\n2 7\r\n.\r\n"},
      {"RETR 2\r\n", "+OK\r\nshort\r\n.\r\n"}, {"DELE 2\r\n", "+OK\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "SKIP 1 : too large, left on server\nMSG 2  7\nDONE 1\n", POP3_CLIENT_DONE},
    {"APOP configured but no timestamp: USER/PASS", V_APOP,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 0 0\r\n"}, {"QUIT\r\n", "+OK\r\n"}}, "DONE 0\n",
     POP3_CLIENT_DONE},
    {"STLS, then login over TLS", V_STLS,
     {{NULL, "+OK ready <1.2@example.net>\r\n"},
      {"STLS\r\n", "+OK Begin TLS negotiation\r\n-ERR injected before TLS\r\n"},
      {"USER mrose\r\n", "+OK\r\n"}, {"PASS tanstaaf\r\n", "+OK\r\n"},
      {"STAT\r\n", "+OK 0 0\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "STARTTLS\nDONE 0\n", POP3_CLIENT_DONE},
    {"dot-stuffing removed", V_KEEP,
     {LOGIN_STEPS, {"STAT\r\n", "+OK 1 20\r\n"}, {"UIDL\r\n", "+OK\r\n1 u1\r\n.\r\n"},
      {"RETR 1\r\n", "+OK\r\n..\r\n...x\r\n\r\n.\r\n"}, {"QUIT\r\n", "+OK\r\n"}},
     "MSG 1 u1 10\nDONE 1\n", POP3_CLIENT_DONE},
};

static void test_scripted(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t m = 0; m < 2; m++) {
            struct pop3_client_config cfg = base_cfg();
            char ids[4][POP3_MAX_UIDL + 1];
            struct pop3_uidl_set seen;
            pop3_uidl_set_init(&seen, ids, 4);
            cfg.apop = cases[i].v == V_APOP;
            cfg.stls = cases[i].v == V_STLS;
            cfg.mode = cases[i].v == V_KEEP ? POP3_CLIENT_LEAVE_COPY : POP3_CLIENT_DOWNLOAD_DELETE;
            cfg.use_list = cases[i].v == V_LIST_SMALL;
            if (cases[i].v == V_SMALL || cases[i].v == V_LIST_SMALL) cfg.max_message = 32;
            struct crun *r = calloc(1, sizeof *r);
            r->c = pop3_client_new(&cfg, &seen);
            play(r, cases[i].steps, 10, modes[m], cases[i].name);
            if (strcmp(r->sent, "") != 0)
                fail_msg("%s (%s): sent [%s] after the script", cases[i].name,
                         m ? "bytewise" : "whole", r->sent);
            if (strcmp(r->log, cases[i].want_log) != 0)
                fail_msg("%s (%s): log [%s], want [%s]", cases[i].name, m ? "bytewise" : "whole",
                         r->log, cases[i].want_log);
            if (pop3_client_state(r->c) != cases[i].want_state)
                fail_msg("%s: state %s", cases[i].name,
                         pop3_client_state_name(pop3_client_state(r->c)));
            pop3_client_free(r->c);
            free(r);
        }
}

static void test_unstuffed_bytes(void **state)
{
    (void)state;
    const struct step s[] = {
        LOGIN_STEPS, {"STAT\r\n", "+OK 1 20\r\n"}, {"UIDL\r\n", "+OK\r\n1 u1\r\n.\r\n"},
        {"RETR 1\r\n", "+OK\r\n..\r\n...x\r\n\r\n.\r\n"}, {"DELE 1\r\n", "+OK\r\n"},
        {"QUIT\r\n", "+OK\r\n"},
    };
    struct pop3_client_config cfg = base_cfg();
    struct crun *r = calloc(1, sizeof *r);
    r->c = pop3_client_new(&cfg, NULL);
    play(r, s, sizeof s / sizeof s[0], FEED_BYTEWISE, "unstuff");
    assert_string_equal(r->msgs[0], ".\r\n..x\r\n\r\n");
    pop3_client_free(r->c);
    free(r);
}

static void test_connection_closed(void **state)
{
    (void)state;
    const struct step s[] = {
        LOGIN_STEPS, {"STAT\r\n", "+OK 1 20\r\n"}, {"UIDL\r\n", "+OK\r\n1 u1\r\n.\r\n"},
        {"RETR 1\r\n", "+OK\r\npart of it\r\n"},
    };
    struct pop3_client_config cfg = base_cfg();
    struct crun *r = calloc(1, sizeof *r);
    r->c = pop3_client_new(&cfg, NULL);
    play(r, s, sizeof s / sizeof s[0], FEED_WHOLE, "closed");
    pop3_client_closed(r->c);
    cpump(r);
    assert_string_equal(r->log, "FAIL connection closed in state RETR\n");
    assert_string_equal(r->sent, "");
    assert_int_equal(pop3_client_state(r->c), POP3_CLIENT_FAILED);
    pop3_client_free(r->c);
    free(r);
}

/* ---- the seen set ---- */

static void test_uidl_set(void **state)
{
    (void)state;
    char ids[2][POP3_MAX_UIDL + 1];
    struct pop3_uidl_set set;
    pop3_uidl_set_init(&set, ids, 2);
    assert_int_equal(pop3_uidl_set_add(&set, "a", 1), POP3_OK);
    assert_int_equal(pop3_uidl_set_add(&set, "a", 1), POP3_OK); /* no duplicate */
    assert_int_equal(set.count, 1);
    assert_int_equal(pop3_uidl_set_add(&set, "b c", 3), POP3_ERR_BAD_UIDL);
    assert_int_equal(pop3_uidl_set_add(&set, "B", 1), POP3_OK);
    assert_int_equal(pop3_uidl_set_add(&set, "c", 1), POP3_ERR_NO_ROOM);
    assert_true(pop3_uidl_set_has(&set, "B", 1));
    assert_false(pop3_uidl_set_has(&set, "b", 1)); /* octet for octet */
}

/* ---- whole passes against the server machine ---- */

/* Runs client and server against each other until both are quiet. */
static void converse(struct pop3_server *s, struct crun *r)
{
    for (int rounds = 0; rounds < 1000; rounds++) {
        bool moved = false;
        struct pop3_server_ev sev;
        int k;
        while ((k = pop3_server_next(s, &sev)) != POP3_NEED_MORE) {
            if (k == POP3_SRV_REPLY || k == POP3_SRV_DATA) {
                cfeed(r, sev.out, sev.out_len, FEED_WHOLE);
                moved = true;
            }
        }
        cpump(r);
        if (r->sent_len) {
            size_t off = 0;
            while (off < r->sent_len) {
                off += pop3_server_feed(s, r->sent + off, r->sent_len - off);
                while ((k = pop3_server_next(s, &sev)) != POP3_NEED_MORE)
                    if (k == POP3_SRV_REPLY || k == POP3_SRV_DATA)
                        cfeed(r, sev.out, sev.out_len, FEED_WHOLE);
            }
            r->sent_len = 0;
            r->sent[0] = 0;
            moved = true;
        }
        if (!moved) return;
    }
    fail_msg("client and server never settled");
}

static struct pop3_server_config srv_cfg(void)
{
    struct pop3_server_config cfg = {.host = "pop.example.com", .pid = 7, .clock = 42};
    return cfg;
}

static void test_download_and_delete_pass(void **state)
{
    (void)state;
    struct memdrop d;
    memset(&d, 0, sizeof d);
    struct memuser *u = &d.user[0];
    u->name = "bob";
    u->pass = "pw";
    u->secret = "s3cret";
    memdrop_add(u, "Subject: 1\r\n\r\n.dot\r\n", "id-1");
    memdrop_add(u, "Subject: 2\r\n\r\nbody\r\n", "id-2");
    struct pop3_maildrop md = memdrop_iface(&d);
    struct pop3_server_config scfg = srv_cfg();
    struct pop3_server *s = pop3_server_new(&scfg, &md);
    struct pop3_client_config cfg = {.user = "bob", .pass = "s3cret", .apop = true};
    struct crun *r = calloc(1, sizeof *r);
    r->c = pop3_client_new(&cfg, NULL);
    converse(s, r);
    assert_string_equal(r->log, "MSG 1 id-1 20\nMSG 2 id-2 20\nDONE 2\n");
    assert_string_equal(r->msgs[0], "Subject: 1\r\n\r\n.dot\r\n");
    assert_int_equal(u->nremoved, 2);
    assert_false(u->msg[0].present || u->msg[1].present);
    assert_int_equal(pop3_server_state(s), POP3_SERVER_CLOSED);
    pop3_client_free(r->c);
    pop3_server_free(s);
    free(r);
}

static void test_leave_copy_never_downloads_twice(void **state)
{
    (void)state;
    struct memdrop d;
    memset(&d, 0, sizeof d);
    struct memuser *u = &d.user[0];
    u->name = "bob";
    u->pass = "pw";
    memdrop_add(u, "Subject: 1\r\n\r\none\r\n", "id-1");
    memdrop_add(u, "Subject: 2\r\n\r\ntwo\r\n", "id-2");
    struct pop3_maildrop md = memdrop_iface(&d);
    struct pop3_server_config scfg = srv_cfg();
    char ids[8][POP3_MAX_UIDL + 1];
    struct pop3_uidl_set seen;
    pop3_uidl_set_init(&seen, ids, 8);
    struct pop3_client_config cfg = {.user = "bob", .pass = "pw", .mode = POP3_CLIENT_LEAVE_COPY};
    const char *want[3] = {
        "MSG 1 id-1 19\nMSG 2 id-2 19\nDONE 2\n",
        "SKIP 1 id-1: already downloaded\nSKIP 2 id-2: already downloaded\n"
        "MSG 3 id-3 21\nDONE 1\n",
        "SKIP 1 id-1: already downloaded\nSKIP 2 id-2: already downloaded\n"
        "SKIP 3 id-3: already downloaded\nDONE 0\n",
    };
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1) memdrop_add(u, "Subject: 3\r\n\r\nthree\r\n", "id-3");
        struct pop3_server *s = pop3_server_new(&scfg, &md);
        struct crun *r = calloc(1, sizeof *r);
        r->c = pop3_client_new(&cfg, &seen);
        converse(s, r);
        assert_string_equal(r->log, want[pass]);
        assert_int_equal(pop3_client_state(r->c), POP3_CLIENT_DONE);
        pop3_client_free(r->c);
        pop3_server_free(s);
        free(r);
    }
    assert_int_equal(seen.count, 3);
    assert_int_equal(u->nremoved, 0); /* every message still on the server */
    assert_true(u->msg[0].present && u->msg[1].present && u->msg[2].present);
}

/* Seeded noise from the "server": status lines, listing lines, dots and
 * garbage in random chunks, in every mode. The client must only ever send
 * well-formed commands (cpump() checks each), end DONE or FAILED or still
 * be waiting, and keep the sanitizers quiet. */
static uint32_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13; /* xorshift32: deterministic, seeded */
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_noise(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "+OK", "+OK <1.2@x>", "+OK 2 20", "+OK 0 0", "-ERR no", "-ERR [IN-USE] busy", ".", "..",
        "1 u1", "2 u2", "1 10", "x", "", "+OK 999999999999 1", "-ERR [AUTH]", "+OK [", "hello",
    };
    rng_state = 0x9E3779B9u;
    for (int session = 0; session < 300; session++) {
        struct pop3_client_config cfg = base_cfg();
        cfg.apop = session & 1;
        cfg.stls = session & 2;
        cfg.mode = session & 4 ? POP3_CLIENT_LEAVE_COPY : POP3_CLIENT_DOWNLOAD_DELETE;
        cfg.use_list = session & 8;
        cfg.max_message = 64;
        char ids[4][POP3_MAX_UIDL + 1];
        struct pop3_uidl_set seen;
        pop3_uidl_set_init(&seen, ids, 4);
        struct crun *r = calloc(1, sizeof *r);
        r->c = pop3_client_new(&cfg, &seen);
        char in[2048];
        size_t n = 0;
        while (n < 1500) {
            if (rnd() % 8) {
                n += (size_t)snprintf(in + n, sizeof in - n, "%s\r\n",
                                      lines[rnd() % (sizeof lines / sizeof lines[0])]);
            } else {
                size_t k = rnd() % 30;
                for (size_t i = 0; i < k; i++) in[n++] = (char)(rnd() & 0xff);
            }
        }
        size_t off = 0;
        while (off < n && !r->err) {
            size_t chunk = 1 + rnd() % 64;
            if (chunk > n - off) chunk = n - off;
            cfeed(r, in + off, chunk, FEED_WHOLE);
            off += chunk;
            r->log_len = 0;
        }
        if (session % 3 == 0) pop3_client_closed(r->c);
        cpump(r);
        enum pop3_client_state st = pop3_client_state(r->c);
        assert_true(st < POP3_CLIENT_STATE_COUNT);
        if (session % 3 == 0) assert_true(st == POP3_CLIENT_DONE || st == POP3_CLIENT_FAILED);
        pop3_client_free(r->c);
        free(r);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pop3_client_state_name(POP3_CLIENT_GREETING), "GREETING");
    assert_string_equal(pop3_client_state_name(POP3_CLIENT_FAILED), "FAILED");
    assert_null(pop3_client_state_name(POP3_CLIENT_STATE_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1939_section10),
        cmocka_unit_test(test_scripted),
        cmocka_unit_test(test_unstuffed_bytes),
        cmocka_unit_test(test_connection_closed),
        cmocka_unit_test(test_uidl_set),
        cmocka_unit_test(test_download_and_delete_pass),
        cmocka_unit_test(test_leave_copy_never_downloads_twice),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("pop3_client", tests, NULL, NULL);
}
