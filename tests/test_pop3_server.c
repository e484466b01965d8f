/* The POP3 server machine: RFC 1939 10's session, every -ERR path as a
 * named row, UPDATE semantics, locking, STLS, dot-stuffing and chunking. */
#include "tests/testkit.h"

#include "protocols/pop3_server.h"
#include "tests/pop3_memdrop.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- harness ---- */

struct run {
    struct memdrop      drop;
    struct pop3_maildrop md;
    struct pop3_server *s;
    char   out[32768]; /* every byte the server sent */
    size_t out_len;
    char   trace[8192]; /* every event, one per line */
    size_t trace_len;
    size_t max_data;    /* largest DATA event */
    size_t data_len[64]; /* the first DATA events' lengths, in order */
    size_t ndata;
};

static void tracef(struct run *r, const char *fmt, const char *a, size_t alen)
{
    size_t room = sizeof r->trace - r->trace_len;
    size_t n = (size_t)snprintf(r->trace + r->trace_len, room, fmt, (int)alen, a);
    r->trace_len += n < room ? n : room - 1; /* full: the rest is cut */
}

static void pump(struct run *r)
{
    struct pop3_server_ev ev;
    int k;
    while ((k = pop3_server_next(r->s, &ev)) != POP3_NEED_MORE) {
        char buf[64];
        switch (k) {
        case POP3_SRV_COMMAND:
            tracef(r, ev.verb == POP3_VERB_COUNT ? "C? %.*s\n" : "C %.*s\n", ev.line ? ev.line : "",
                   ev.line_len);
            break;
        case POP3_SRV_REPLY:
        case POP3_SRV_DATA:
            assert_true(r->out_len + ev.out_len < sizeof r->out);
            memcpy(r->out + r->out_len, ev.out, ev.out_len);
            r->out_len += ev.out_len;
            r->out[r->out_len] = 0;
            if (k == POP3_SRV_REPLY) {
                /* RFC 1939 3, RFC 2449 4: a status line, CRLF, <= 512 */
                assert_true(ev.out_len <= POP3_MAX_RESP_LINE);
                assert_true(memcmp(ev.out, "+OK", 3) == 0 || memcmp(ev.out, "-ERR", 4) == 0);
                assert_memory_equal(ev.out + ev.out_len - 2, "\r\n", 2);
                tracef(r, "S %.*s\n", ev.out, ev.out_len - 2);
            }
            else {
                if (ev.out_len > r->max_data) r->max_data = ev.out_len;
                if (r->ndata < sizeof r->data_len / sizeof r->data_len[0])
                    r->data_len[r->ndata++] = ev.out_len;
            }
            break;
        case POP3_SRV_STATE:
            snprintf(buf, sizeof buf, "%s -> %s", pop3_server_state_name(ev.from),
                     pop3_server_state_name(ev.to));
            tracef(r, "%.*s\n", buf, strlen(buf));
            break;
        case POP3_SRV_DELETED:
            snprintf(buf, sizeof buf, "deleted %zu", ev.msg);
            tracef(r, "%.*s\n", buf, strlen(buf));
            break;
        case POP3_SRV_STARTTLS:
            tracef(r, "%.*sSTARTTLS\n", "", 0);
            break;
        default:
            fail_msg("unexpected event %d", k);
        }
    }
}

static void input(struct run *r, const char *in, enum feed_mode mode)
{
    size_t n = strlen(in), off = 0;
    for (;;) {
        pump(r);
        if (off == n) break;
        off += pop3_server_feed(r->s, in + off, feed_chunk(mode, n - off));
    }
}

static void clear(struct run *r)
{
    r->out_len = 0;
    r->out[0] = 0;
    r->trace_len = 0;
    r->trace[0] = 0;
}

static char msg120[200], msg200[300];

/* mrose (RFC 1939 10: APOP secret tanstaaf) with 2 messages of 120 and 200
 * octets; alice with three small ones, one needing dot-stuffing. */
static void setup_drop(struct memdrop *d)
{
    memset(d, 0, sizeof *d);
    memdrop_fill(msg120, 120, "one");
    memdrop_fill(msg200, 200, "two");
    struct memuser *m = &d->user[0];
    m->name = "mrose";
    m->pass = "secret";
    m->secret = "tanstaaf";
    memdrop_add(m, msg120, "whqtswO00WBw418f9t5JxYwZ");
    memdrop_add(m, msg200, "QhdPYR:00WBw1Ph7x7");
    struct memuser *a = &d->user[1];
    a->name = "alice";
    a->pass = "wonder";
    memdrop_add(a, "Subject: a\r\n\r\nfirst\r\n", "uid-a1");
    memdrop_add(a, "Subject: b\r\n\r\n.hidden\r\n.\r\nend\r\n", "uid-a2");
    memdrop_add(a, "Subject: c\nX: y\n\nbare LF\nno final newline", "uid-a3");
}

static struct pop3_server_config rfc_config(void)
{
    struct pop3_server_config cfg = {
        .host = "dbc.mtview.ca.us", .pid = 1896, .clock = 697170952,
    };
    return cfg;
}

static struct run *start(const struct pop3_server_config *cfg)
{
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    setup_drop(&r->drop);
    r->md = memdrop_iface(&r->drop);
    r->s = pop3_server_new(cfg, &r->md);
    assert_non_null(r->s);
    return r;
}

static void finish(struct run *r)
{
    pop3_server_free(r->s);
    free(r);
}

/* ---- RFC 1939 section 10 ---- */

/* Each step: what the client sends, then what RFC 1939 10 shows the server
 * answering and what ours answers. Where the RFC's text is free text
 * (RFC 1939 3: "the text may be anything") only the status must match;
 * STAT's "+OK 2 320", scan listings and "." are exact by the RFC. */
static const struct {
    const char *client;
    const char *rfc;   /* RFC 1939 10's server lines */
    const char *ours;  /* exactly what we send */
    bool        free_text;
} rfc10[] = {
    {NULL, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
     "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", false},
    {"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n",
     "+OK mrose's maildrop has 2 messages (320 octets)\r\n",
     "+OK mrose's maildrop has 2 messages (320 octets)\r\n", false},
    {"STAT\r\n", "+OK 2 320\r\n", "+OK 2 320\r\n", false},
    {"LIST\r\n", "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n",
     "+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n", false},
    {"RETR 1\r\n", "+OK 120 octets\r\n", "+OK 120 octets\r\n", false}, /* + message 1 */
    {"DELE 1\r\n", "+OK message 1 deleted\r\n", "+OK message 1 deleted\r\n", false},
    {"RETR 2\r\n", "+OK 200 octets\r\n", "+OK 200 octets\r\n", false}, /* + message 2 */
    {"DELE 2\r\n", "+OK message 2 deleted\r\n", "+OK message 2 deleted\r\n", false},
    {"QUIT\r\n", "+OK dewey POP3 server signing off (maildrop empty)\r\n",
     "+OK dbc.mtview.ca.us POP3 server signing off (maildrop empty)\r\n", true},
};

static void test_rfc1939_section10(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++) {
        struct pop3_server_config cfg = rfc_config();
        struct run *r = start(&cfg);
        for (size_t i = 0; i < sizeof rfc10 / sizeof rfc10[0]; i++) {
            clear(r);
            if (rfc10[i].client) input(r, rfc10[i].client, modes[m]);
            else pump(r);
            /* RETR's body follows the status line: the message, then "." */
            char want[1024];
            snprintf(want, sizeof want, "%s%s%s", rfc10[i].ours,
                     i == 4 ? msg120 : i == 6 ? msg200 : "", i == 4 || i == 6 ? ".\r\n" : "");
            assert_string_equal(r->out, want);
            if (rfc10[i].free_text)
                assert_memory_equal(r->out, rfc10[i].rfc, 4); /* "+OK " */
            else
                assert_memory_equal(r->out, rfc10[i].rfc, strlen(rfc10[i].rfc));
        }
        assert_int_equal(pop3_server_state(r->s), POP3_SERVER_CLOSED);
        assert_int_equal(r->drop.user[0].nremoved, 2);
        assert_int_equal(r->drop.user[0].removed[0], 2); /* descending order */
        assert_int_equal(r->drop.user[0].removed[1], 1);
        assert_false(r->drop.user[0].locked);
        finish(r);
    }
}

/* ---- bad input: every row asserts the exact reply bytes ---- */

#define LOGIN "USER mrose\r\nPASS secret\r\n"

static const struct {
    const char *name;
    bool        login;   /* run LOGIN first (its replies not compared) */
    bool        stls;    /* offer STLS */
    bool        tls;     /* TLS already active */
    bool        locked;  /* another session holds mrose's lock */
    const char *in;
    const char *want;
} bad[] = {
    {"RETR 0", true, 0, 0, 0, "RETR 0\r\n", "-ERR no such message, only 2 messages in maildrop\r\n"},
    {"RETR 99", true, 0, 0, 0, "RETR 99\r\n", "-ERR no such message, only 2 messages in maildrop\r\n"},
    {"RETR x", true, 0, 0, 0, "RETR x\r\n", "-ERR usage: RETR msg\r\n"},
    {"RETR -1", true, 0, 0, 0, "RETR -1\r\n", "-ERR usage: RETR msg\r\n"},
    {"RETR no arg", true, 0, 0, 0, "RETR\r\n", "-ERR usage: RETR msg\r\n"},
    {"RETR two spaces", true, 0, 0, 0, "RETR  1\r\n", "-ERR usage: RETR msg\r\n"},
    {"DELE twice", true, 0, 0, 0, "DELE 1\r\nDELE 1\r\n",
     "+OK message 1 deleted\r\n-ERR message 1 already deleted\r\n"},
    {"DELE 0", true, 0, 0, 0, "DELE 0\r\n", "-ERR no such message, only 2 messages in maildrop\r\n"},
    {"TOP without lines", true, 0, 0, 0, "TOP 1\r\n", "-ERR usage: TOP msg lines\r\n"},
    {"TOP bad lines", true, 0, 0, 0, "TOP 1 x\r\n", "-ERR usage: TOP msg lines\r\n"},
    {"LIST 1 2", true, 0, 0, 0, "LIST 1 2\r\n", "-ERR usage: LIST [msg]\r\n"},
    {"LIST 3", true, 0, 0, 0, "LIST 3\r\n", "-ERR no such message, only 2 messages in maildrop\r\n"},
    {"STAT with argument", true, 0, 0, 0, "STAT 1\r\n", "-ERR usage: STAT\r\n"},
    {"STAT in AUTHORIZATION", false, 0, 0, 0, "STAT\r\n", "-ERR STAT not allowed in AUTHORIZATION state\r\n"},
    {"RETR in AUTHORIZATION", false, 0, 0, 0, "RETR 1\r\n", "-ERR RETR not allowed in AUTHORIZATION state\r\n"},
    {"NOOP in AUTHORIZATION", false, 0, 0, 0, "NOOP\r\n", "-ERR NOOP not allowed in AUTHORIZATION state\r\n"},
    {"PASS before USER", false, 0, 0, 0, "PASS secret\r\n", "-ERR give USER first\r\n"},
    {"PASS without argument", false, 0, 0, 0, "USER mrose\r\nPASS\r\n", "+OK send PASS\r\n-ERR usage: PASS password\r\n"},
    {"USER without argument", false, 0, 0, 0, "USER\r\n", "-ERR usage: USER name\r\n"},
    {"USER in TRANSACTION", true, 0, 0, 0, "USER mrose\r\n", "-ERR USER not allowed in TRANSACTION state\r\n"},
    {"wrong password", false, 0, 0, 0, "USER mrose\r\nPASS wrong\r\n",
     "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n"},
    {"PASS again after a wrong one", false, 0, 0, 0, "USER mrose\r\nPASS wrong\r\nPASS secret\r\n",
     "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n-ERR give USER first\r\n"},
    {"unknown user", false, 0, 0, 0, "USER nobody\r\nPASS x\r\n",
     "+OK send PASS\r\n-ERR [AUTH] invalid user name or password\r\n"},
    {"APOP wrong digest", false, 0, 0, 0, "APOP mrose c4c9334bac560ecc979e58001b3e22fc\r\n",
     "-ERR [AUTH] invalid user name or password\r\n"},
    {"APOP user without secret", false, 0, 0, 0, "APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n",
     "-ERR [AUTH] invalid user name or password\r\n"},
    {"APOP without digest", false, 0, 0, 0, "APOP mrose\r\n", "-ERR usage: APOP name digest\r\n"},
    {"maildrop locked by another session", false, 0, 0, 1, "USER mrose\r\nPASS secret\r\n",
     "+OK send PASS\r\n-ERR [IN-USE] maildrop already locked\r\n"},
    {"300-octet line then a good command", true, 0, 0, 0, NULL,
     "-ERR line too long (max 255 octets)\r\n+OK\r\n"},
    {"256-octet line (one over)", false, 0, 0, 0, NULL, "-ERR line too long (max 255 octets)\r\n"},
    {"empty line", false, 0, 0, 0, "\r\n", "-ERR empty command\r\n"},
    {"unknown command", false, 0, 0, 0, "HELO example.com\r\n", "-ERR unknown command\r\n"},
    {"lower-case unknown", true, 0, 0, 0, "xtnd xmit\r\n", "-ERR unknown command\r\n"},
    {"STLS in TRANSACTION", true, 1, 0, 0, "STLS\r\n", "-ERR STLS not allowed in TRANSACTION state\r\n"},
    {"STLS not offered", false, 0, 0, 0, "STLS\r\n", "-ERR STLS not offered\r\n"},
    {"STLS with TLS active", false, 1, 1, 0, "STLS\r\n", "-ERR command not permitted when TLS active\r\n"},
    {"UIDL of a deleted message", true, 0, 0, 0, "DELE 2\r\nUIDL 2\r\n",
     "+OK message 2 deleted\r\n-ERR message 2 already deleted\r\n"},
    {"RETR of a deleted message", true, 0, 0, 0, "DELE 2\r\nRETR 2\r\n",
     "+OK message 2 deleted\r\n-ERR message 2 already deleted\r\n"},
    {"LIST of a deleted message", true, 0, 0, 0, "DELE 2\r\nLIST 2\r\n",
     "+OK message 2 deleted\r\n-ERR message 2 already deleted\r\n"},
    {"TOP of a deleted message", true, 0, 0, 0, "DELE 2\r\nTOP 2 0\r\n",
     "+OK message 2 deleted\r\n-ERR message 2 already deleted\r\n"},
    {"UIDL 5", true, 0, 0, 0, "UIDL 5\r\n", "-ERR no such message, only 2 messages in maildrop\r\n"},
    {"commands after QUIT ignored", false, 0, 0, 0, "QUIT\r\nUSER mrose\r\n",
     "+OK dbc.mtview.ca.us POP3 server signing off\r\n"},
};

static char long_in[400];

static void test_bad_input(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *in = bad[i].in;
        if (!in && strstr(bad[i].name, "300")) {
            memset(long_in, 'A', 300);
            strcpy(long_in + 300, "\r\nNOOP\r\n");
            in = long_in;
        } else if (!in) { /* "USER " + 249 octets + CRLF = 256 */
            memcpy(long_in, "USER ", 5);
            memset(long_in + 5, 'a', 249);
            strcpy(long_in + 254, "\r\n");
            in = long_in;
        }
        for (size_t m = 0; m < 2; m++) {
            struct pop3_server_config cfg = rfc_config();
            cfg.stls = bad[i].stls;
            cfg.tls_active = bad[i].tls;
            struct run *r = start(&cfg);
            r->drop.user[0].locked = bad[i].locked;
            if (bad[i].login) input(r, LOGIN, FEED_WHOLE);
            else pump(r);
            clear(r);
            input(r, in, modes[m]);
            if (strcmp(r->out, bad[i].want) != 0)
                fail_msg("%s (%s): got [%s], want [%s]", bad[i].name, m ? "bytewise" : "whole",
                         r->out, bad[i].want);
            finish(r);
        }
    }
}

static void test_longest_line_accepted(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    pump(r);
    clear(r);
    char line[300]; /* "USER " + 248 + CRLF = 255 octets, RFC 2449 4's maximum */
    memcpy(line, "USER ", 5);
    memset(line + 5, 'a', 248);
    strcpy(line + 253, "\r\n");
    input(r, line, FEED_BYTEWISE);
    assert_string_equal(r->out, "+OK send PASS\r\n");
    finish(r);
}

/* ---- UPDATE: what gets deleted, and when ---- */

static void test_dropped_connection_deletes_nothing(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    input(r, LOGIN "DELE 1\r\nDELE 2\r\nSTAT\r\n", FEED_WHOLE);
    clear(r);
    pop3_server_closed(r->s);
    pump(r);
    assert_string_equal(r->trace, "TRANSACTION -> CLOSED\n");
    assert_int_equal(r->drop.user[0].nremoved, 0);
    assert_true(r->drop.user[0].msg[0].present && r->drop.user[0].msg[1].present);
    assert_false(r->drop.user[0].locked);
    assert_int_equal(r->drop.user[0].unlock_calls, 1);
    assert_int_equal(pop3_server_state(r->s), POP3_SERVER_CLOSED);
    assert_int_equal(pop3_server_feed(r->s, "QUIT\r\n", 6), 6); /* ignored */
    pump(r);
    assert_int_equal(r->drop.user[0].nremoved, 0);
    finish(r);
}

static void test_quit_deletes_exactly_the_marked(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    input(r, "USER alice\r\nPASS wonder\r\n", FEED_WHOLE);
    clear(r);
    input(r, "DELE 1\r\nDELE 2\r\nRSET\r\nDELE 3\r\nDELE 1\r\nSTAT\r\nLIST\r\nUIDL\r\nQUIT\r\n",
          FEED_BYTEWISE);
    assert_string_equal(r->out,
                        "+OK message 1 deleted\r\n"
                        "+OK message 2 deleted\r\n"
                        "+OK maildrop has 3 messages (93 octets)\r\n"
                        "+OK message 3 deleted\r\n"
                        "+OK message 1 deleted\r\n"
                        "+OK 1 31\r\n"
                        "+OK 1 messages (31 octets)\r\n2 31\r\n.\r\n"
                        "+OK unique-id listing follows\r\n2 uid-a2\r\n.\r\n"
                        "+OK dbc.mtview.ca.us POP3 server signing off (1 message left)\r\n");
    assert_string_equal(r->trace + strlen(r->trace) - strlen("C QUIT\nTRANSACTION -> UPDATE\n"
                                                            "deleted 3\ndeleted 1\n"
                                                            "S +OK dbc.mtview.ca.us POP3 server signing off (1 message left)\n"
                                                            "UPDATE -> CLOSED\n"),
                        "C QUIT\nTRANSACTION -> UPDATE\ndeleted 3\ndeleted 1\n"
                        "S +OK dbc.mtview.ca.us POP3 server signing off (1 message left)\n"
                        "UPDATE -> CLOSED\n");
    assert_int_equal(r->drop.user[1].nremoved, 2);
    assert_int_equal(r->drop.user[1].removed[0], 3);
    assert_int_equal(r->drop.user[1].removed[1], 1);
    assert_true(r->drop.user[1].msg[1].present);
    assert_false(r->drop.user[1].locked);
    finish(r);
}

static void test_trace_of_login(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    input(r, "user mrose\r\nPASS secret\r\nNOOP\r\nbogus\r\n", FEED_WHOLE);
    assert_string_equal(r->trace,
                        "S +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\n"
                        "C user mrose\n"
                        "S +OK send PASS\n"
                        "C PASS secret\n"
                        "S +OK mrose's maildrop has 2 messages (320 octets)\n"
                        "AUTHORIZATION -> TRANSACTION\n"
                        "C NOOP\n"
                        "S +OK\n"
                        "C? bogus\n"
                        "S -ERR unknown command\n");
    finish(r);
}

/* A second session on a locked maildrop gets [IN-USE] (RFC 1939 8,
 * RFC 2449 8.1.1), and gets in once the first has quit. */
static void test_second_session_lock(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    struct run *a = start(&cfg);
    input(a, LOGIN, FEED_WHOLE);
    assert_int_equal(pop3_server_state(a->s), POP3_SERVER_TRANSACTION);
    struct run b = {0};
    b.s = pop3_server_new(&cfg, &a->md); /* the same store */
    pump(&b);
    clear(&b);
    input(&b, LOGIN, FEED_BYTEWISE);
    assert_string_equal(b.out, "+OK send PASS\r\n-ERR [IN-USE] maildrop already locked\r\n");
    assert_int_equal(pop3_server_state(b.s), POP3_SERVER_AUTHORIZATION);
    input(a, "QUIT\r\n", FEED_WHOLE);
    clear(&b);
    input(&b, LOGIN, FEED_WHOLE);
    assert_string_equal(b.out, "+OK send PASS\r\n+OK mrose's maildrop has 2 messages (320 octets)\r\n");
    pop3_server_free(b.s); /* frees without QUIT: unlocks, deletes nothing */
    assert_false(a->drop.user[0].locked);
    assert_int_equal(a->drop.user[0].lock_calls, 2);
    finish(a);
}

/* ---- bodies ---- */

static const struct {
    const char *name;
    const char *in;
    const char *want;
} bodies[] = {
    {"dot-stuffing", "RETR 2\r\n",
     "+OK 31 octets\r\nSubject: b\r\n\r\n..hidden\r\n..\r\nend\r\n.\r\n"},
    {"bare LF and no final newline", "RETR 3\r\n",
     "+OK 41 octets\r\nSubject: c\r\nX: y\r\n\r\nbare LF\r\nno final newline\r\n.\r\n"},
    {"TOP 0 lines", "TOP 2 0\r\n", "+OK top of message follows\r\nSubject: b\r\n\r\n.\r\n"},
    {"TOP 2 lines", "TOP 2 2\r\n", "+OK top of message follows\r\nSubject: b\r\n\r\n..hidden\r\n..\r\n.\r\n"},
    {"TOP past the end", "TOP 3 9\r\n",
     "+OK top of message follows\r\nSubject: c\r\nX: y\r\n\r\nbare LF\r\nno final newline\r\n.\r\n"},
    {"LIST 2", "LIST 2\r\n", "+OK 2 31\r\n"},
    {"UIDL", "UIDL\r\n", "+OK unique-id listing follows\r\n1 uid-a1\r\n2 uid-a2\r\n3 uid-a3\r\n.\r\n"},
    {"UIDL 3", "UIDL 3\r\n", "+OK 3 uid-a3\r\n"},
    {"CAPA", "CAPA\r\n",
     "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
     "IMPLEMENTATION mailsim\r\n.\r\n"},
    {"pipelined", "NOOP\r\nLIST\r\nNOOP\r\n",
     "+OK\r\n+OK 3 messages (93 octets)\r\n1 21\r\n2 31\r\n3 41\r\n.\r\n+OK\r\n"},
};

static void test_bodies(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        for (size_t m = 0; m < 2; m++) {
            struct pop3_server_config cfg = rfc_config();
            struct run *r = start(&cfg);
            input(r, "USER alice\r\nPASS wonder\r\n", FEED_WHOLE);
            clear(r);
            input(r, bodies[i].in, modes[m]);
            if (strcmp(r->out, bodies[i].want) != 0)
                fail_msg("%s (%s): got [%s], want [%s]", bodies[i].name, m ? "bytewise" : "whole",
                         r->out, bodies[i].want);
            finish(r);
        }
}

/* A message far bigger than one chunk: every DATA event is bounded, the
 * dot-stuffing is right across chunk edges, the bytes are exact. */
static char big[20000];

static const char *big_read(void *ctx, const char *user, size_t m, size_t *len)
{
    (void)ctx, (void)user, (void)m;
    *len = strlen(big);
    return big;
}

static void test_big_message_chunks(void **state)
{
    (void)state;
    size_t o = (size_t)sprintf(big, "Subject: big\r\n\r\n");
    static char want[40000];
    size_t w = (size_t)sprintf(want, "+OK 120 octets\r\nSubject: big\r\n\r\n");
    for (int i = 0; o < 19000; i++) {
        const char *line = i % 3 == 0 ? "." : i % 3 == 1 ? ".dots.." : "plain line";
        o += (size_t)sprintf(big + o, "%s\r\n", line);
        w += (size_t)sprintf(want + w, "%s%s\r\n", line[0] == '.' ? "." : "", line);
    }
    strcpy(want + w, ".\r\n");
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    r->md.read = big_read;
    pop3_server_free(r->s);
    r->s = pop3_server_new(&cfg, &r->md);
    input(r, LOGIN, FEED_WHOLE);
    clear(r);
    input(r, "RETR 1\r\n", FEED_WHOLE);
    assert_string_equal(r->out, want);
    assert_true(r->max_data <= POP3_SERVER_CHUNK);
    assert_true(r->max_data >= POP3_SERVER_CHUNK - 8);
    finish(r);
}

/* Lines longer than a chunk, a lone CR inside a line, bare LFs, CR CR LF,
 * dots at line starts and a last line without its end: the bytes are the
 * RFC 1939 3 form, and the chunks end exactly where a byte-at-a-time
 * model of the same rules (fill up to the chunk's last octet but one, two
 * octets for a line end or a stuffed dot) ends them. */
static size_t model_chunks(const char *m, size_t n, size_t *lens, size_t max)
{
    size_t cur = 0, o = 0, k = 0;
    bool sol = true;
    for (;;) {
        while (cur < n && o + 2 <= POP3_SERVER_CHUNK) {
            bool eol = m[cur] == '\n' || (m[cur] == '\r' && cur + 1 < n && m[cur + 1] == '\n');
            if (eol) {
                cur += m[cur] == '\r' ? 2 : 1;
                o += 2;
                sol = true;
                continue;
            }
            o += sol && m[cur] == '.' ? 2 : 1;
            sol = false;
            cur++;
        }
        if (cur == n && o + 2 <= POP3_SERVER_CHUNK) {
            o += sol ? 0 : 2; /* the last line's CRLF */
            sol = true;
            if (o + 3 <= POP3_SERVER_CHUNK) { /* "." CRLF fits: the end */
                assert_true(k < max);
                lens[k++] = o + 3;
                return k;
            }
        }
        assert_true(k < max);
        lens[k++] = o;
        o = 0;
        if (cur == n && sol) { /* only "." CRLF is left */
            assert_true(k < max);
            lens[k++] = 3;
            return k;
        }
    }
}

static void test_long_lines_chunk_edges(void **state)
{
    (void)state;
    size_t o = (size_t)sprintf(big, "Subject: long\r\n\r\n");
    static char want[40000];
    size_t w = (size_t)sprintf(want, "+OK 120 octets\r\nSubject: long\r\n\r\n");
    static const char *const pieces[] = {".lead\n", "a\rb\r\n", "\r\r\n", "..\r\n", "\n"};
    for (int i = 0; o < 14000; i++) { /* big holds 20000: a line is < 5010 */
        size_t len = (size_t)(i * 977 % 5000); /* some lines longer than a chunk */
        memset(big + o, 'x', len);
        memset(want + w, 'x', len);
        o += len;
        w += len;
        const char *p = pieces[i % 5];
        o += (size_t)sprintf(big + o, "%s", p);
        /* the expected form: the piece's line ends as CRLF, a lone CR kept */
        for (size_t j = 0; p[j]; j++) {
            bool sol = w >= 2 && want[w - 2] == '\r' && want[w - 1] == '\n';
            if (p[j] == '\n' || (p[j] == '\r' && p[j + 1] == '\n')) {
                if (p[j] == '\r') j++;
                w += (size_t)sprintf(want + w, "\r\n");
            } else {
                if (sol && p[j] == '.') want[w++] = '.';
                want[w++] = p[j];
            }
        }
    }
    o += (size_t)sprintf(big + o, ".end"); /* no line end: CRLF is added */
    w += (size_t)sprintf(want + w, "..end\r\n.\r\n");
    want[w] = 0;
    struct pop3_server_config cfg = rfc_config();
    struct run *r = start(&cfg);
    r->md.read = big_read;
    pop3_server_free(r->s);
    r->s = pop3_server_new(&cfg, &r->md);
    input(r, LOGIN, FEED_WHOLE);
    clear(r);
    r->ndata = 0;
    input(r, "RETR 1\r\n", FEED_WHOLE);
    assert_string_equal(r->out, want);
    size_t lens[64];
    size_t n = model_chunks(big, o, lens, 64);
    assert_int_equal(r->ndata, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(r->data_len[i], lens[i]);
    finish(r);
}

/* ---- STLS (RFC 2595 4) ---- */

static void test_stls(void **state)
{
    (void)state;
    struct pop3_server_config cfg = rfc_config();
    cfg.stls = true;
    struct run *r = start(&cfg);
    pump(r);
    clear(r);
    input(r, "CAPA\r\n", FEED_WHOLE);
    assert_non_null(strstr(r->out, "\r\nSTLS\r\n"));
    clear(r);
    /* A command pipelined after STLS in the clear must be discarded. */
    input(r, "STLS\r\nUSER evil\r\n", FEED_WHOLE);
    assert_string_equal(r->out, "+OK Begin TLS negotiation\r\n");
    assert_string_equal(r->trace, "C STLS\nS +OK Begin TLS negotiation\nSTARTTLS\n");
    clear(r);
    input(r, "CAPA\r\nSTLS\r\n", FEED_BYTEWISE);
    assert_string_equal(r->out,
                        "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\n"
                        "AUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION mailsim\r\n.\r\n"
                        "-ERR command not permitted when TLS active\r\n");
    clear(r);
    input(r, "PASS secret\r\n", FEED_WHOLE); /* the pre-TLS USER is gone */
    assert_string_equal(r->out, "-ERR give USER first\r\n");
    finish(r);
}

/* Seeded noise: verbs, numbers, garbage bytes, overlong runs, in random
 * chunks. Every reply must stay a well-formed status line of at most 512
 * octets (pump() checks each), and the sanitizers must stay quiet. */
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
    static const char *const words[] = {
        "USER mrose", "PASS secret", "APOP mrose x", "STAT", "LIST", "LIST 1", "RETR 1", "RETR 2",
        "DELE 1", "DELE 2", "TOP 1 1", "UIDL", "UIDL 1", "RSET", "NOOP", "CAPA", "STLS", "QUIT",
        "", " ", "RETR 99999999999", "\x01\x02", "\xff\xfe", "LIST  ", ".",
    };
    rng_state = 0x2545F491u;
    for (int session = 0; session < 300; session++) {
        struct pop3_server_config cfg = rfc_config();
        cfg.stls = session % 2;
        struct run *r = start(&cfg);
        char in[2048];
        size_t n = 0;
        while (n < 1500) {
            uint32_t x = rnd() % 10;
            if (x < 7) {
                const char *w = words[rnd() % (sizeof words / sizeof words[0])];
                n += (size_t)snprintf(in + n, sizeof in - n, "%s\r\n", w);
            } else if (x < 9) {
                size_t k = rnd() % 40;
                for (size_t i = 0; i < k; i++) in[n++] = (char)(rnd() & 0xff);
            } else {
                size_t k = 200 + rnd() % 200; /* often over the line limit */
                for (size_t i = 0; i < k; i++) in[n++] = 'a';
            }
        }
        size_t off = 0;
        while (off < n) {
            pump(r);
            size_t chunk = 1 + rnd() % 64;
            if (chunk > n - off) chunk = n - off;
            off += pop3_server_feed(r->s, in + off, chunk);
            if (r->out_len > 16384 || r->trace_len > 4096) clear(r);
        }
        pump(r);
        if (session % 3 == 0) {
            pop3_server_closed(r->s);
            pump(r);
        }
        /* the lock is never left held by a finished session */
        pop3_server_free(r->s);
        r->s = NULL;
        assert_false(r->drop.user[0].locked || r->drop.user[1].locked);
        free(r);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pop3_server_state_name(POP3_SERVER_AUTHORIZATION), "AUTHORIZATION");
    assert_string_equal(pop3_server_state_name(POP3_SERVER_CLOSED), "CLOSED");
    assert_null(pop3_server_state_name(POP3_SERVER_STATE_COUNT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1939_section10),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_longest_line_accepted),
        cmocka_unit_test(test_dropped_connection_deletes_nothing),
        cmocka_unit_test(test_quit_deletes_exactly_the_marked),
        cmocka_unit_test(test_trace_of_login),
        cmocka_unit_test(test_second_session_lock),
        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_big_message_chunks),
        cmocka_unit_test(test_long_lines_chunk_edges),
        cmocka_unit_test(test_stls),
        cmocka_unit_test(test_noise),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("pop3_server", tests, NULL, NULL);
}
