/* The client and server machines talking to each other through an
 * in-memory pump, no sockets: STARTTLS, AUTH, three recipients (one
 * refused), with and without PIPELINING; the exact transcript, and the
 * delivered message byte for byte (the dot-stuffing round trip). */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/common.h"
#include "protocols/smtp_client.h"
#include "protocols/smtp_server.h"

struct side {
    char partial[2048]; /* a line not yet ended */
    size_t len;
};

struct wire {
    struct smtp_client *c;
    struct smtp_server *s;
    enum feed_mode mode;
    char transcript[16384]; /* "C: line" / "S: line", one per line */
    size_t tlen;
    struct side cs, ss;
    char delivered[4096];
    size_t dlen;
    bool client_tls, server_tls;
    int queued;
};

/* Adds bytes sent by one side to the transcript, one line at a time. */
static void record(struct wire *w, struct side *sd, const char *who, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            size_t l = sd->len && sd->partial[sd->len - 1] == '\r' ? sd->len - 1 : sd->len;
            w->tlen += (size_t)snprintf(w->transcript + w->tlen, sizeof w->transcript - w->tlen,
                                        "%s: %.*s\n", who, (int)l, sd->partial);
            sd->len = 0;
        } else {
            assert_true(sd->len < sizeof sd->partial);
            sd->partial[sd->len++] = p[i];
        }
    }
}

static void server_decide(struct wire *w, const struct smtp_server_event *ev)
{
    char id[16];
    switch (ev->type) {
    case SMTP_SERVER_EV_MAIL:
        assert_int_equal(smtp_server_accept(w->s, NULL), 0);
        break;
    case SMTP_SERVER_EV_RCPT:
        if (strcmp(ev->path, "Green@foo.com") == 0)
            assert_int_equal(smtp_server_reject(w->s, 550, "5.1.1", "No such user here"), 0);
        else
            assert_int_equal(smtp_server_accept(w->s, NULL), 0);
        break;
    case SMTP_SERVER_EV_AUTH:
        if (strcmp(ev->user, "alice") == 0 && strcmp(ev->password, "secret") == 0)
            assert_int_equal(smtp_server_accept(w->s, NULL), 0);
        else
            assert_int_equal(smtp_server_reject(w->s, 535, "5.7.8", "Bad credentials"), 0);
        break;
    case SMTP_SERVER_EV_DATA:
        assert_true(w->dlen + ev->line_len <= sizeof w->delivered);
        memcpy(w->delivered + w->dlen, ev->line, ev->line_len);
        w->dlen += ev->line_len;
        break;
    case SMTP_SERVER_EV_DATA_END:
        assert_int_equal(ev->size, w->dlen);
        snprintf(id, sizeof id, "Q%d", ++w->queued);
        assert_int_equal(smtp_server_queued(w->s, id), 0);
        break;
    case SMTP_SERVER_EV_STARTTLS:
        w->server_tls = true;
        break;
    default:
        break;
    }
}

/* Moves bytes both ways until nothing moves. Returns when the client is
 * done (or after a bound, which fails the test). */
static void converse(struct wire *w)
{
    for (int round = 0; round < 100000; round++) {
        bool moved = false;
        struct smtp_client_event cev;
        while (smtp_client_next(w->c, &cev) == SMTP_CLIENT_EVENT)
            if (cev.type == SMTP_CLIENT_EV_STARTTLS)
                w->client_tls = true;
        const char *p;
        size_t n = smtp_client_output(w->c, &p);
        if (n > 0) {
            size_t k = feed_chunk(w->mode, n);
            size_t took = smtp_server_feed(w->s, p, k);
            record(w, &w->cs, "C", p, took);
            smtp_client_consumed(w->c, took);
            moved |= took > 0;
        }
        struct smtp_server_event sev;
        while (smtp_server_next(w->s, &sev) == SMTP_SERVER_EVENT)
            server_decide(w, &sev);
        n = smtp_server_output(w->s, &p);
        if (n > 0) {
            size_t k = feed_chunk(w->mode, n);
            size_t took = smtp_client_feed(w->c, p, k);
            record(w, &w->ss, "S", p, took);
            smtp_server_consumed(w->s, took);
            moved |= took > 0;
        }
        if (w->client_tls && w->server_tls) { /* both sides finished the handshake */
            w->client_tls = w->server_tls = false;
            w->tlen += (size_t)snprintf(w->transcript + w->tlen, sizeof w->transcript - w->tlen,
                                        "-- TLS --\n");
            assert_int_equal(smtp_server_tls_started(w->s), 0);
            assert_int_equal(smtp_client_tls_started(w->c), 0);
            moved = true;
        }
        if (!moved && smtp_client_state(w->c) == SMTP_CLIENT_DONE)
            return;
    }
    fail_msg("the dialogue did not finish:\n%s", w->transcript);
}

static const char message[] = "From: alice@foo.com\r\n"
                              "To: Jones@foo.com, Green@foo.com, Brown@foo.com\r\n"
                              "Subject: dots\r\n"
                              "\r\n"
                              ".\r\n"
                              "..\r\n"
                              ".leading dot\r\n"
                              "...three\r\n"
                              "end.\r\n";

/* What the message looks like on the wire (RFC 5321 4.5.2). */
#define WIRE_BODY                                                   \
    "C: From: alice@foo.com\n"                                      \
    "C: To: Jones@foo.com, Green@foo.com, Brown@foo.com\n"          \
    "C: Subject: dots\n"                                            \
    "C: \n"                                                         \
    "C: ..\n"                                                       \
    "C: ...\n"                                                      \
    "C: ..leading dot\n"                                            \
    "C: ....three\n"                                                \
    "C: end.\n"                                                     \
    "C: .\n"

#define TLS_AND_AUTH                                     \
    "S: 220 foo.com Simple Mail Transfer Service Ready\n" \
    "C: EHLO bar.com\n"                                  \
    "S: 250-foo.com greets bar.com\n"                    \
    "S: 250-PIPELINING\n"                                \
    "S: 250-SIZE 10485760\n"                             \
    "S: 250-8BITMIME\n"                                  \
    "S: 250-ENHANCEDSTATUSCODES\n"                       \
    "S: 250 STARTTLS\n"                                  \
    "C: STARTTLS\n"                                      \
    "S: 220 2.0.0 Ready to start TLS\n"                  \
    "-- TLS --\n"                                        \
    "C: EHLO bar.com\n"                                  \
    "S: 250-foo.com greets bar.com\n"                    \
    "S: 250-PIPELINING\n"                                \
    "S: 250-SIZE 10485760\n"                             \
    "S: 250-8BITMIME\n"                                  \
    "S: 250-ENHANCEDSTATUSCODES\n"                       \
    "S: 250 AUTH PLAIN LOGIN\n"                          \
    "C: AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"               \
    "S: 235 2.7.0 Authentication successful\n"

static const char want_pipelined[] =
    TLS_AND_AUTH
    "C: MAIL FROM:<alice@foo.com> SIZE=124\n"
    "C: RCPT TO:<Jones@foo.com>\n"
    "C: RCPT TO:<Green@foo.com>\n"
    "C: RCPT TO:<Brown@foo.com>\n"
    "C: DATA\n"
    "S: 250 2.1.0 Ok\n"
    "S: 250 2.1.5 Ok\n"
    "S: 550 5.1.1 No such user here\n"
    "S: 250 2.1.5 Ok\n"
    "S: 354 Start mail input; end with <CRLF>.<CRLF>\n"
    WIRE_BODY
    "S: 250 2.0.0 Ok: queued as Q1\n"
    "C: QUIT\n"
    "S: 221 2.0.0 foo.com Service closing transmission channel\n";

static const char want_lockstep[] =
    TLS_AND_AUTH
    "C: MAIL FROM:<alice@foo.com> SIZE=124\n"
    "S: 250 2.1.0 Ok\n"
    "C: RCPT TO:<Jones@foo.com>\n"
    "S: 250 2.1.5 Ok\n"
    "C: RCPT TO:<Green@foo.com>\n"
    "S: 550 5.1.1 No such user here\n"
    "C: RCPT TO:<Brown@foo.com>\n"
    "S: 250 2.1.5 Ok\n"
    "C: DATA\n"
    "S: 354 Start mail input; end with <CRLF>.<CRLF>\n"
    WIRE_BODY
    "S: 250 2.0.0 Ok: queued as Q1\n"
    "C: QUIT\n"
    "S: 221 2.0.0 foo.com Service closing transmission channel\n";

static const char *const rcpts[] = {"Jones@foo.com", "Green@foo.com", "Brown@foo.com"};

static const struct smtp_server_config submission = {
    .hostname = "foo.com", .starttls = true, .auth = true, .auth_requires_tls = true,
    .submission = true};

/* The lines of transcript t sent by who ('C' or 'S'), and the TLS mark. */
static void only(const char *t, char who, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    while (*t) {
        const char *eol = strchr(t, '\n');
        size_t n = eol ? (size_t)(eol - t) + 1 : strlen(t);
        if (t[0] == who || t[0] == '-')
            o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)n, t);
        t += n;
    }
}

static void run_dialogue(const struct smtp_client_config *ccfg, enum feed_mode mode,
                         const char *want)
{
    static struct wire w;
    memset(&w, 0, sizeof w);
    w.mode = mode;
    struct smtp_client_message msg = {"alice@foo.com", rcpts, 3, message, strlen(message)};
    w.c = smtp_client_new(ccfg, &msg, NULL);
    w.s = smtp_server_new(&submission);
    assert_non_null(w.c);
    assert_non_null(w.s);
    converse(&w);
    if (mode == FEED_WHOLE) {
        if (strcmp(w.transcript, want) != 0)
            fail_msg("transcript:\n%s\nwant:\n%s", w.transcript, want);
    } else {
        /* Byte by byte both sides talk at once (that is pipelining): the
         * interleaving differs, each direction's lines may not. */
        static char got_dir[16384], want_dir[16384];
        for (const char *who = "CS"; *who; who++) {
            only(w.transcript, *who, got_dir, sizeof got_dir);
            only(want, *who, want_dir, sizeof want_dir);
            if (strcmp(got_dir, want_dir) != 0)
                fail_msg("bytewise %c lines:\n%s\nwant:\n%s", *who, got_dir, want_dir);
        }
    }
    assert_bytes(message, w.delivered, w.dlen);
    assert_int_equal(w.queued, 1);
    struct smtp_client_result r;
    smtp_client_result(w.c, &r);
    assert_int_equal(r.outcome, SMTP_CLIENT_PARTIAL);
    assert_int_equal(r.accepted, 2);
    assert_int_equal(r.nrcpts, 3);
    struct smtp_client_rcpt_result rr;
    assert_true(smtp_client_rcpt(w.c, 1, &rr));
    assert_int_equal(rr.code, 550);
    assert_string_equal(rr.enhanced, "5.1.1");
    assert_int_equal(smtp_server_state(w.s), SMTP_SERVER_CLOSED);
    assert_true(smtp_server_authenticated(w.s));
    assert_true(smtp_server_tls(w.s));
    smtp_client_free(w.c);
    smtp_server_free(w.s);
}

static const struct smtp_client_config piped = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_REQUIRED, .auth_user = "alice",
    .auth_password = "secret"};
static const struct smtp_client_config stepped = {
    .ehlo_name = "bar.com", .tls = SMTP_CLIENT_TLS_REQUIRED, .auth_user = "alice",
    .auth_password = "secret", .no_pipelining = true};

static void test_pipelined(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++)
        run_dialogue(&piped, modes[m], want_pipelined);
}

static void test_lockstep(void **state)
{
    (void)state;
    enum feed_mode modes[] = FEED_MODES;
    for (size_t m = 0; m < 2; m++)
        run_dialogue(&stepped, modes[m], want_lockstep);
}

/* A wrong password: the client gives up with the server's 535. */
static void test_wrong_password(void **state)
{
    (void)state;
    static struct wire w;
    memset(&w, 0, sizeof w);
    w.mode = FEED_WHOLE;
    struct smtp_client_config cfg = piped;
    cfg.auth_password = "guess";
    cfg.auth_mech = SMTP_CLIENT_AUTH_LOGIN;
    struct smtp_client_message msg = {"alice@foo.com", rcpts, 3, message, strlen(message)};
    w.c = smtp_client_new(&cfg, &msg, NULL);
    w.s = smtp_server_new(&submission);
    converse(&w);
    struct smtp_client_result r;
    smtp_client_result(w.c, &r);
    assert_int_equal(r.outcome, SMTP_CLIENT_FAILED_PERMANENT);
    assert_int_equal(r.code, 535);
    assert_string_equal(r.enhanced, "5.7.8");
    assert_string_equal(r.text, "Bad credentials");
    assert_int_equal(w.dlen, 0);
    assert_non_null(strstr(w.transcript, "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: YWxpY2U=\n"
                                         "S: 334 UGFzc3dvcmQ6\nC: Z3Vlc3M=\n"
                                         "S: 535 5.7.8 Bad credentials\nC: QUIT\n"));
    smtp_client_free(w.c);
    smtp_server_free(w.s);
}

/* RFC 4954 4: credentials whose initial response would pass 512 octets
 * go after an empty 334 instead, on a line of their own (RFC 4616 2 lets
 * each field be 255 octets: 684 base64 characters here). */
static void test_long_credentials(void **state)
{
    (void)state;
    static char user[256], pass[256];
    memset(user, 'u', 255);
    memset(pass, 'p', 255);
    static struct wire w;
    memset(&w, 0, sizeof w);
    w.mode = FEED_BYTEWISE;
    struct smtp_client_config cfg = piped;
    cfg.auth_user = user;
    cfg.auth_password = pass;
    struct smtp_client_message msg = {"alice@foo.com", rcpts, 1, message, strlen(message)};
    w.c = smtp_client_new(&cfg, &msg, NULL);
    w.s = smtp_server_new(&submission);
    assert_non_null(w.c);
    converse(&w);
    /* the server's caller refused them (not alice), after reading all */
    const char *auth = strstr(w.transcript, "C: AUTH PLAIN\nS: 334 \nC: AHV1");
    assert_non_null(auth);
    const char *line = strstr(auth, "C: AHV1");
    assert_int_equal(strchr(line, '\n') - line, 3 + 684);
    assert_non_null(strstr(line, "S: 535 5.7.8 Bad credentials\nC: QUIT\n"));
    smtp_client_free(w.c);
    smtp_server_free(w.s);
}

/* The long way round: a big message with many dot lines, byte by byte
 * through the bounded queues, arrives identical. */
static void test_big_message_round_trip(void **state)
{
    (void)state;
    static char big[3000];
    size_t n = 0;
    for (int i = 0; n + 40 < sizeof big; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s%d\r\n",
                              i % 3 == 0 ? "." : i % 3 == 1 ? ".." : "x", i);
    static struct wire w;
    memset(&w, 0, sizeof w);
    w.mode = FEED_BYTEWISE;
    static const struct smtp_client_config relay_client = {.ehlo_name = "bar.com"};
    static const struct smtp_server_config relay = {.hostname = "foo.com"};
    static const char *const to[] = {"Jones@foo.com"};
    struct smtp_client_message msg = {"", to, 1, big, n};
    w.c = smtp_client_new(&relay_client, &msg, NULL);
    w.s = smtp_server_new(&relay);
    converse(&w);
    assert_bytes(big, w.delivered, w.dlen);
    struct smtp_client_result r;
    smtp_client_result(w.c, &r);
    assert_int_equal(r.outcome, SMTP_CLIENT_DELIVERED);
    smtp_client_free(w.c);
    smtp_server_free(w.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_lockstep),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_long_credentials),
        cmocka_unit_test(test_big_message_round_trip),
    };
    return cmocka_run_group_tests_name("smtp_dialogue", tests, NULL, NULL);
}
