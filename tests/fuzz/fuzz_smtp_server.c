/* libFuzzer target: the SMTP server session machine (smtp_server) fed a
 * client's arbitrary bytes.
 *
 * Input: byte 0 picks the config flags (STARTTLS, AUTH, TLS required,
 * submission, ...), byte 1 the size limit, the feed chunk size and whether
 * decisions are refused; the rest is what the client sends. Every decision is
 * accepted (MAIL, RCPT, VRFY, AUTH, and DATA queued as "Q1"), or every one
 * refused with 550 5.7.1 when byte 1 says so; a STARTTLS event is answered
 * with smtp_server_tls_started(); the output is drained whenever the machine
 * needs more.
 *
 * Properties: never a crash or a leak; smtp_server_next() only returns
 * EVENT, NEED_MORE or CLOSED (never OUTPUT_FULL, since the output is always
 * drained before a decision is answered); every event and state is in its
 * table; every reply queued has a code 200..599 and ends in CRLF; a decision
 * is pending only when the machine says NEED_MORE, and answering it succeeds;
 * the session always comes to rest (bounded events per input byte): once
 * all input is fed, the queue drained and no decision pending, a turn
 * gives no event. */
#include "tests/fuzz/fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/smtp_server.h"

static void drain(struct smtp_server *s)
{
    const char *out;
    size_t n = smtp_server_output(s, &out);
    FUZZ_CHECK(n <= SMTP_SERVER_OUT_MAX);
    if (n) {
        FUZZ_CHECK(out[n - 2] == '\r' && out[n - 1] == '\n');
        smtp_server_consumed(s, n);
    }
    FUZZ_CHECK(smtp_server_output(s, &out) == 0);
}

static void check_event(const struct smtp_server_event *ev)
{
    FUZZ_CHECK((unsigned)ev->type < SMTP_SERVER_EV_COUNT);
    switch (ev->type) {
    case SMTP_SERVER_EV_STATE:
        FUZZ_CHECK((unsigned)ev->from < SMTP_SERVER_STATE_COUNT);
        FUZZ_CHECK((unsigned)ev->to < SMTP_SERVER_STATE_COUNT);
        break;
    case SMTP_SERVER_EV_REPLY:
        FUZZ_CHECK(ev->code >= 200 && ev->code <= 599);
        FUZZ_CHECK(ev->reply_len >= 6 && ev->reply[ev->reply_len - 2] == '\r' &&
                   ev->reply[ev->reply_len - 1] == '\n');
        FUZZ_CHECK(ev->enhanced != NULL);
        break;
    case SMTP_SERVER_EV_COMMAND:
        FUZZ_CHECK(ev->verb != NULL && (ev->line != NULL || ev->line_len == 0));
        break;
    case SMTP_SERVER_EV_MAIL:
    case SMTP_SERVER_EV_RCPT:
    case SMTP_SERVER_EV_VRFY:
        FUZZ_CHECK(ev->path != NULL);
        break;
    case SMTP_SERVER_EV_AUTH:
        FUZZ_CHECK(ev->mechanism && ev->authzid && ev->user && ev->password);
        FUZZ_CHECK(strlen(ev->user) <= SMTP_SERVER_AUTH_FIELD_MAX);
        FUZZ_CHECK(strlen(ev->password) <= SMTP_SERVER_AUTH_FIELD_MAX);
        break;
    default:
        break;
    }
}

/* Answers the pending decision; returns false when none was pending. */
static bool decide(struct smtp_server *s, bool refuse)
{
    enum smtp_server_decision d = smtp_server_pending(s);
    FUZZ_CHECK((unsigned)d < SMTP_SERVER_DECIDE_COUNT);
    if (d == SMTP_SERVER_DECIDE_NONE) {
        FUZZ_CHECK(smtp_server_accept(s, NULL) == SMTP_SERVER_ERR_NOT_PENDING);
        FUZZ_CHECK(smtp_server_queued(s, "Q1") == SMTP_SERVER_ERR_NOT_PENDING);
        return false;
    }
    int rc;
    if (refuse)
        rc = smtp_server_reject(s, 550, "5.7.1", "Refused by the fuzzer");
    else if (d == SMTP_SERVER_DECIDE_DATA)
        rc = smtp_server_queued(s, "Q1");
    else
        rc = smtp_server_accept(s, d == SMTP_SERVER_DECIDE_VRFY ? "Bob <bob@example.com>" : NULL);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(smtp_server_pending(s) == SMTP_SERVER_DECIDE_NONE);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t f = data[0], g = data[1];
    struct smtp_server_config cfg = {
        .hostname = "mx.example.org",
        .max_size = (unsigned long)(g & 3) * 100, /* 0: the default */
        .max_rcpts = 0,
        .no_pipelining = f & 0x80,
        .no_8bitmime = (f & 0x40) && (f & 0x01),
        .no_enhanced = (f & 0x40) && !(f & 0x01),
        .starttls = f & 0x01,
        .auth = f & 0x02,
        .auth_requires_tls = f & 0x04,
        .submission = f & 0x08,
        .require_tls = f & 0x10,
        .ask_vrfy = f & 0x20,
        .tls_active = (f & 0x41) == 0x41,
    };
    bool refuse = g & 0x80;
    size_t chunk = (size_t)((g >> 2) & 0x1f) + 1; /* 1..32 bytes a feed */
    if (chunk == 32) chunk = size;
    const char *in = (const char *)data + 2;
    size_t n = size - 2, off = 0;

    struct smtp_server *s = smtp_server_new(&cfg);
    FUZZ_CHECK(s != NULL);
    size_t budget = 64 + 64 * size; /* events: each byte can cause only a few */
    for (;;) {
        if (off < n) {
            size_t k = n - off < chunk ? n - off : chunk;
            off += smtp_server_feed(s, in + off, k);
        }
        struct smtp_server_event ev;
        int st;
        size_t events = 0;
        while ((st = smtp_server_next(s, &ev)) == SMTP_SERVER_EVENT) {
            events++;
            FUZZ_CHECK(budget-- > 0);
            check_event(&ev);
            if (ev.type == SMTP_SERVER_EV_STARTTLS) {
                drain(s); /* the 220 goes out in clear first */
                FUZZ_CHECK(smtp_server_tls_started(s) == 0);
                FUZZ_CHECK(smtp_server_tls(s));
            }
        }
        FUZZ_CHECK((unsigned)smtp_server_state(s) < SMTP_SERVER_STATE_COUNT);
        if (st == SMTP_SERVER_ERR_CLOSED) break;
        FUZZ_CHECK(st == SMTP_SERVER_NEED_MORE);
        /* Draining may let the machine read held input again (it stops
         * while the output queue is nearly full), so only a turn with no
         * event after a drained queue, no decision and no input left means
         * the machine is at rest, waiting for the client. */
        drain(s);
        bool decided = decide(s, refuse);
        FUZZ_CHECK(budget-- > 0);
        if (off == n && events == 0 && !decided) {
            FUZZ_CHECK(smtp_server_next(s, &ev) == SMTP_SERVER_NEED_MORE);
            break;
        }
    }
    /* A second connection on the same machine starts clean. */
    smtp_server_reset(s);
    FUZZ_CHECK(smtp_server_state(s) == SMTP_SERVER_CONNECTED);
    FUZZ_CHECK(smtp_server_pending(s) == SMTP_SERVER_DECIDE_NONE);
    smtp_server_free(s);
    return 0;
}
