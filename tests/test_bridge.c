/* The live bridge (sim/bridge.h) in-process, with sanitizers: real loopback
 * sockets into the default story's world (and the interop lesson's, which
 * has every listener). One thread: the test steps the bridge while it
 * waits for its own sockets, so every wait is bounded (WAIT_MS) and no
 * assertion is about speed. */
#include "tests/testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "protocols/smtp.h"
#include "sim/bridge.h"
#include "sim/scenario.h"
#include "sim/store.h"
#include "sim/world.h"

#define WAIT_MS 10000 /* the longest any one wait may take: a bound, not a check */
#define DEFAULT_LESSON "lessons/default.json"
#define INTEROP_LESSON "tests/interop/bridge.json"

struct fixture {
    struct sim_scenario *s;
    struct sim_world *w;
    struct sim_bridge *b;
    unsigned offset;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Builds the world as `mailsim serve` does (no timeline, devices or
 * programs) and a bridge on a free port offset. */
static void start(struct fixture *f, const char *lesson, struct sim_bridge_config cfg)
{
    static struct sim_scn_diags dg;
    memset(f, 0, sizeof *f);
    f->s = sim_scenario_load(lesson, &dg);
    assert_non_null(f->s);
    f->s->nactions = f->s->ndevices = f->s->nprograms = 0;
    cfg.quiet = true;
    char err[256] = "";
    for (int tries = 0; tries < 8 && !f->b; tries++) {
        sim_world_free(f->w);
        f->w = sim_world_new(f->s, &dg); /* a fresh world: a failed bridge leaves its host */
        assert_non_null(f->w);
        cfg.port_offset = 20000 + (unsigned)((getpid() * 7 + tries * 13) % 400) * 100;
        f->b = sim_bridge_new(f->w, f->s, &cfg, err, sizeof err);
    }
    if (!f->b) print_message("%s\n", err);
    assert_non_null(f->b);
    f->offset = cfg.port_offset;
}

static void stop(struct fixture *f)
{
    sim_bridge_free(f->b);
    sim_world_free(f->w);
    sim_scenario_free(f->s);
    memset(f, 0, sizeof *f);
}

/* The fixture of the running test: freed by the teardown too, so a failed
 * assertion does not leave sockets bound for the next test. */
static struct fixture current;

static int teardown(void **state)
{
    (void)state;
    stop(&current);
    return 0;
}

static const struct sim_bridge_endpoint *endpoint(struct fixture *f, const char *host,
                                                  enum sim_bridge_service sv)
{
    for (size_t i = 0; i < sim_bridge_endpoint_count(f->b); i++) {
        const struct sim_bridge_endpoint *ep = sim_bridge_endpoint(f->b, i);
        if (strcmp(ep->host, host) == 0 && ep->service == sv) return ep;
    }
    fail_msg("no endpoint %s %s", host, sim_bridge_service_names[sv]);
    return NULL;
}

static int dial(const struct sim_bridge_endpoint *ep, int type)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ep->port)};
    assert_int_equal(inet_pton(AF_INET, ep->address, &a.sin_addr), 1);
    int fd = socket(AF_INET, type, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Steps the bridge until fd has a whole line (returned without CRLF), or
 * the peer closed (returns false). */
static bool read_line(struct fixture *f, int fd, char *out, size_t cap)
{
    size_t n = 0;
    long long end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        char ch;
        ssize_t r = recv(fd, &ch, 1, 0);
        if (r == 1) {
            if (ch == '\n') {
                if (n && out[n - 1] == '\r') n--;
                out[n] = 0;
                return true;
            }
            if (n + 1 < cap) out[n++] = ch;
            continue;
        }
        if (r == 0 || (r < 0 && errno == ECONNRESET)) return false;
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        assert_int_equal(sim_bridge_step(f->b, 5), 0);
    }
    fail_msg("no line within %d ms", WAIT_MS);
    return false;
}

/* Reads lines until one starts with "CODE " (an SMTP reply's last line). */
static void expect_reply(struct fixture *f, int fd, const char *code)
{
    char line[2048];
    for (;;) {
        assert_true(read_line(f, fd, line, sizeof line));
        if (strncmp(line, code, 3) != 0) fail_msg("expected %s, got \"%s\"", code, line);
        if (line[3] == ' ') return;
    }
}

static void expect_closed(struct fixture *f, int fd)
{
    char line[512];
    assert_false(read_line(f, fd, line, sizeof line));
}

static void step_for(struct fixture *f, int ms)
{
    long long end = now_ms() + ms;
    while (now_ms() < end) assert_int_equal(sim_bridge_step(f->b, 5), 0);
}

/* Steps until the friend's INBOX holds n messages. */
static void wait_inbox(struct fixture *f, size_t n)
{
    struct sim_store *st = sim_world_store(f->w, "mail.example.org");
    long long end = now_ms() + WAIT_MS;
    while (sim_store_count(st, "friend@example.org", "INBOX") != n && now_ms() < end)
        assert_int_equal(sim_bridge_step(f->b, 5), 0);
    assert_int_equal(sim_store_count(st, "friend@example.org", "INBOX"), n);
}

/* Steps until no real connection is open (a client's end of stream may
 * wait SIM_BRIDGE_EOF_LINGER_MS for the server). */
static void wait_none_open(struct fixture *f)
{
    struct sim_bridge_stats st;
    long long end = now_ms() + WAIT_MS;
    do {
        assert_int_equal(sim_bridge_step(f->b, 5), 0);
        sim_bridge_stats(f->b, &st);
    } while (st.open && now_ms() < end);
    assert_int_equal(st.open, 0);
}

/* ---- the endpoints ------------------------------------------------------------- */

static void test_endpoints(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    static const struct {
        const char *host, *service, *address;
        unsigned port;
    } want[] = {
        {"mail.example.com", "smtp", "127.0.0.1", 25},
        {"mail.example.com", "submission", "127.0.0.1", 587},
        {"mail.example.com", "imaps", "127.0.0.1", 993},
        {"resolver", "dns", "127.0.0.2", 53},
        {"ns1.example.com", "dns", "127.0.0.3", 53},
        {"ns1.example.org", "dns", "127.0.0.4", 53},
        {"mail.example.org", "smtp", "127.0.0.5", 25},
        {"mail.example.org", "imaps", "127.0.0.5", 993},
        {"mail.example.org", "pop3s", "127.0.0.5", 995},
    };
    assert_int_equal(sim_bridge_endpoint_count(fp->b), ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const struct sim_bridge_endpoint *ep = sim_bridge_endpoint(fp->b, i);
        assert_string_equal(ep->host, want[i].host);
        assert_string_equal(sim_bridge_service_names[ep->service], want[i].service);
        assert_string_equal(ep->address, want[i].address);
        assert_int_equal(ep->port, want[i].port + fp->offset);
    }
    assert_null(sim_bridge_endpoint(fp->b, ARRAY_LEN(want)));
    /* 95 characters: 32 octets in hex with colons */
    assert_int_equal(strlen(sim_bridge_fingerprint(fp->b)), 95);
    assert_non_null(strstr(sim_bridge_cert_pem(fp->b), "-----BEGIN CERTIFICATE-----"));
    stop(fp);
}

static void test_bind_in_use(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    /* A second bridge on the same offset finds its first port taken. */
    struct sim_world *w2 = sim_world_new(fp->s, &(struct sim_scn_diags){0});
    assert_non_null(w2);
    char err[256];
    struct sim_bridge_config cfg = {.port_offset = fp->offset, .quiet = true};
    assert_null(sim_bridge_new(w2, fp->s, &cfg, err, sizeof err));
    char want[128];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%u (mail.example.com smtp): ",
             25 + fp->offset);
    assert_memory_equal(err, want, strlen(want));
    cfg.port_offset = 65000;
    assert_null(sim_bridge_new(w2, fp->s, &cfg, err, sizeof err));
    assert_string_equal(err, "--port-offset 65000 puts ports past 65535");
    sim_world_free(w2);
    stop(fp);
}

/* ---- SMTP ---------------------------------------------------------------------------- */

static const char message[] = "From: <a@example.net>\r\n"
                              "To: <friend@example.org>\r\n"
                              "Subject: over the bridge\r\n"
                              "\r\n"
                              "..a stuffed dot\r\n"
                              "end\r\n";

static void test_smtp_relay_to_store(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    int fd = dial(endpoint(fp, "mail.example.org", SIM_BRIDGE_SMTP), SOCK_STREAM);
    char line[512];
    assert_true(read_line(fp, fd, line, sizeof line));
    assert_memory_equal(line, "220 mail.example.org ", 21);
    /* The command arrives in two pieces: the world gets one whole line. */
    send_all(fd, "EH");
    step_for(fp, 30);
    send_all(fd, "LO client.example.net\r\n");
    expect_reply(fp, fd, "250");
    send_all(fd, "MAIL FROM:<a@example.net>\r\n");
    expect_reply(fp, fd, "250");
    send_all(fd, "RCPT TO:<friend@example.org>\r\n");
    expect_reply(fp, fd, "250");
    send_all(fd, "DATA\r\n");
    expect_reply(fp, fd, "354");
    send_all(fd, message);
    send_all(fd, ".\r\n");
    expect_reply(fp, fd, "250");
    send_all(fd, "QUIT\r\n");
    expect_reply(fp, fd, "221");
    expect_closed(fp, fd);
    close(fd);
    wait_inbox(fp, 1);
    const struct sim_stored_msg *m =
        sim_store_msg(sim_world_store(fp->w, "mail.example.org"), "friend@example.org", "INBOX", 0);
    /* what was sent, dot-stuffing undone, after Return-Path and Received */
    static const char unstuffed[] = "From: <a@example.net>\r\n"
                                    "To: <friend@example.org>\r\n"
                                    "Subject: over the bridge\r\n"
                                    "\r\n"
                                    ".a stuffed dot\r\n"
                                    "end\r\n";
    size_t n = sizeof unstuffed - 1;
    assert_true(m->size > n);
    assert_memory_equal(m->bytes + m->size - n, unstuffed, n);
    assert_memory_equal(m->bytes, "Return-Path: <a@example.net>\r\n", 30);
    /* the trace shows the split command as one line from the real client */
    const struct sim_trace *tr = sim_world_trace(fp->w);
    size_t ehlo = 0, pieces = 0, body = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind != SIM_TR_LINE || ev->dir != SIM_DIR_C2S) continue;
        if (strcmp(ev->from, SIM_BRIDGE_HOST) != 0) continue;
        if (strcmp(ev->text, "EHLO client.example.net") == 0) {
            ehlo++; /* explained like a simulated client's command */
            assert_string_equal(ev->note, smtp_command_explain(SMTP_EHLO));
        }
        if (strcmp(ev->text, "..a stuffed dot") == 0) {
            body++; /* message text: no note */
            assert_string_equal(ev->note, "");
        }
        pieces += strcmp(ev->text, "EH") == 0;
    }
    assert_int_equal(ehlo, 1);
    assert_int_equal(body, 1);
    assert_int_equal(pieces, 0);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.open, 0);
    stop(fp);
}

static void test_drop_mid_data(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    const struct sim_bridge_endpoint *ep = endpoint(fp, "mail.example.org", SIM_BRIDGE_SMTP);
    int fd = dial(ep, SOCK_STREAM);
    char line[512];
    assert_true(read_line(fp, fd, line, sizeof line));
    send_all(fd, "HELO c.example.net\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<friend@example.org>\r\nDATA\r\n");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "354");
    send_all(fd, "Subject: half\r\n\r\nno end in sight");
    step_for(fp, 30);
    close(fd); /* mid-DATA */
    step_for(fp, 100);
    /* a second client is served whole */
    fd = dial(ep, SOCK_STREAM);
    assert_true(read_line(fp, fd, line, sizeof line));
    send_all(fd, "HELO c.example.net\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<friend@example.org>\r\nDATA\r\n");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "354");
    send_all(fd, message);
    send_all(fd, ".\r\nQUIT\r\n");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "221");
    close(fd);
    wait_inbox(fp, 1);
    const struct sim_stored_msg *m =
        sim_store_msg(sim_world_store(fp->w, "mail.example.org"), "friend@example.org", "INBOX", 0);
    assert_null(strstr(m->bytes, "no end in sight"));
    wait_none_open(fp);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.accepted, 2);
    stop(fp);
}

static void test_drop_mid_literal(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, INTEROP_LESSON, (struct sim_bridge_config){0});
    const struct sim_bridge_endpoint *ep = endpoint(fp, "mail.example.org", SIM_BRIDGE_IMAP);
    char line[512];
    static const char whole[] = "Subject: whole\r\n\r\nall of it\r\n"; /* 29 octets */
    for (int round = 0; round < 2; round++) {
        int fd = dial(ep, SOCK_STREAM);
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_memory_equal(line, "* OK", 4);
        send_all(fd, "a LOGIN friend@example.org \"battery staple\"\r\n");
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_memory_equal(line, "a OK", 4);
        send_all(fd, round == 0 ? "b APPEND INBOX {100}\r\n" : "b APPEND INBOX {29}\r\n");
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_memory_equal(line, "+ ", 2); /* RFC 3501 7.5: go ahead */
        if (round == 0) {
            send_all(fd, "Subject: cut\r\n\r\nonly"); /* 20 of 100 octets, then gone */
            step_for(fp, 30);
            close(fd);
            step_for(fp, 100);
            continue;
        }
        send_all(fd, whole);
        send_all(fd, "\r\n");
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_memory_equal(line, "b OK", 4);
        close(fd);
    }
    wait_inbox(fp, 1);
    const struct sim_stored_msg *m =
        sim_store_msg(sim_world_store(fp->w, "mail.example.org"), "friend@example.org", "INBOX", 0);
    assert_int_equal(m->size, sizeof whole - 1);
    assert_memory_equal(m->bytes, whole, m->size);
    wait_none_open(fp);
}

static void test_half_close(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    int fd = dial(endpoint(fp, "mail.example.org", SIM_BRIDGE_SMTP), SOCK_STREAM);
    /* all at once, then the sending side shut, as "printf ... | nc -N" does */
    send_all(fd, "HELO c.example.net\r\nQUIT\r\n");
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    expect_reply(fp, fd, "220");
    expect_reply(fp, fd, "250");
    expect_reply(fp, fd, "221"); /* the answers still come back */
    expect_closed(fp, fd);
    close(fd);
    step_for(fp, 50);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.open, 0);
}

/* ---- limits ------------------------------------------------------------------------------- */

struct busy_case {
    const char *name;
    enum sim_bridge_service service;
    const char *host;
    const char *want; /* the reply past the cap, "" for a bare close */
};

static const struct busy_case busy_cases[] = {
    {"busy_smtp", SIM_BRIDGE_SMTP, "mail.example.org",
     "421 4.3.2 mail.example.org Too many connections, try again later"},
    {"busy_imap", SIM_BRIDGE_IMAP, "mail.example.org", "* BYE Too many connections"},
    {"busy_pop3", SIM_BRIDGE_POP3, "mail.example.org", "-ERR [SYS/TEMP] Too many connections"},
    {"busy_imaps", SIM_BRIDGE_IMAPS, "mail.example.org", ""},
};

static void test_busy(void **state)
{
    const struct busy_case *c = *state;
    struct fixture *fp = &current;
    start(fp, INTEROP_LESSON, (struct sim_bridge_config){.max_conns = 1});
    int first = dial(endpoint(fp, "mail.example.com", SIM_BRIDGE_SMTP), SOCK_STREAM);
    char line[512];
    assert_true(read_line(fp, first, line, sizeof line)); /* the one allowed is served */
    int fd = dial(endpoint(fp, c->host, c->service), SOCK_STREAM);
    if (*c->want) {
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_string_equal(line, c->want);
    }
    expect_closed(fp, fd);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.refused_busy, 1);
    assert_int_equal(st.accepted, 1);
    close(fd);
    close(first);
    stop(fp);
}

struct idle_case {
    const char *name;
    enum sim_bridge_service service;
    const char *want; /* the goodbye, "" when the protocol closes without one */
};

static const struct idle_case idle_cases[] = {
    {"idle_smtp", SIM_BRIDGE_SMTP, "421 4.4.2 mail.example.org Error: timeout exceeded"},
    {"idle_imap", SIM_BRIDGE_IMAP, "* BYE Autologout; idle for too long"},
    {"idle_pop3", SIM_BRIDGE_POP3, ""}, /* RFC 1939 3: closed without a response */
};

static void test_idle(void **state)
{
    const struct idle_case *c = *state;
    struct fixture *fp = &current;
    start(fp, INTEROP_LESSON, (struct sim_bridge_config){.idle_ms = 300});
    int fd = dial(endpoint(fp, "mail.example.org", c->service), SOCK_STREAM);
    char line[512];
    assert_true(read_line(fp, fd, line, sizeof line)); /* the greeting */
    if (*c->want) {
        assert_true(read_line(fp, fd, line, sizeof line));
        assert_string_equal(line, c->want);
    }
    expect_closed(fp, fd);
    close(fd);
    step_for(fp, 50);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.timed_out, 1);
    assert_int_equal(st.open, 0);
    /* the trace says why the client went */
    const struct sim_trace *tr = sim_world_trace(fp->w);
    size_t faults = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        faults += ev->kind == SIM_TR_FAULT &&
                  strcmp(ev->text, "a real client of mail.example.org idled 300 ms: the bridge "
                                   "closes it") == 0;
    }
    assert_int_equal(faults, 1);
    stop(fp);
}

static void test_smtp_long_line(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    int fd = dial(endpoint(fp, "mail.example.org", SIM_BRIDGE_SMTP), SOCK_STREAM);
    char line[512];
    assert_true(read_line(fp, fd, line, sizeof line));
    /* 100,000 octets without a line end: past SIM_BRIDGE_HOLD_MAX the
     * bridge passes it on, and the codec answers 500 once the line ends. */
    static char big[100002];
    memset(big, 'x', sizeof big - 3);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    size_t off = 0;
    long long end = now_ms() + WAIT_MS;
    while (off < sizeof big - 1 && now_ms() < end) {
        ssize_t w = send(fd, big + off, sizeof big - 1 - off, MSG_NOSIGNAL);
        if (w > 0) off += (size_t)w;
        assert_int_equal(sim_bridge_step(fp->b, 2), 0);
    }
    assert_int_equal(off, sizeof big - 1);
    expect_reply(fp, fd, "500");
    send_all(fd, "NOOP\r\n");
    expect_reply(fp, fd, "250");
    close(fd);
    stop(fp);
}

/* ---- TLS ------------------------------------------------------------------------------------ */

static void test_imaps_greeting(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    int fd = dial(endpoint(fp, "mail.example.org", SIM_BRIDGE_IMAPS), SOCK_STREAM);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    long long end = now_ms() + WAIT_MS;
    int r;
    while ((r = SSL_connect(ssl)) != 1 && now_ms() < end) {
        int e = SSL_get_error(ssl, r);
        assert_true(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
        assert_int_equal(sim_bridge_step(fp->b, 5), 0);
    }
    assert_int_equal(r, 1);
    char buf[512];
    size_t n = 0;
    while (!memchr(buf, '\n', n) && now_ms() < end) {
        int k = SSL_read(ssl, buf + n, (int)(sizeof buf - 1 - n));
        if (k > 0) n += (size_t)k;
        else assert_int_equal(sim_bridge_step(fp->b, 5), 0);
    }
    buf[n] = 0;
    assert_memory_equal(buf, "* OK ", 5);
    SSL_write(ssl, "a LOGOUT\r\n", 10);
    n = 0;
    while (!strstr(buf, "a OK") && now_ms() < end) {
        int k = SSL_read(ssl, buf + n, (int)(sizeof buf - 1 - n));
        if (k > 0) {
            n += (size_t)k;
            buf[n] = 0;
        } else {
            assert_int_equal(sim_bridge_step(fp->b, 5), 0);
        }
    }
    assert_memory_equal(buf, "* BYE ", 6);
    assert_non_null(strstr(buf, "a OK"));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    step_for(fp, 50);
    /* the world marked the connection as TLS from the start */
    const struct sim_trace *tr = sim_world_trace(fp->w);
    size_t tls = 0;
    for (size_t i = 0; i < sim_trace_len(tr); i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        tls += ev->kind == SIM_TR_TLS && strcmp(ev->from, SIM_BRIDGE_HOST) == 0 &&
               strcmp(ev->text, "TLS handshake complete (implicit TLS)") == 0;
    }
    assert_int_equal(tls, 1);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.tls_failed, 0);
    assert_int_equal(st.open, 0);
    stop(fp);
}

static void test_tls_garbage(void **state)
{
    (void)state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    int fd = dial(endpoint(fp, "mail.example.org", SIM_BRIDGE_POP3S), SOCK_STREAM);
    send_all(fd, "USER friend@example.org\r\n"); /* cleartext on a TLS port */
    expect_closed(fp, fd);
    close(fd);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.tls_failed, 1);
    step_for(fp, 50);
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.open, 0);
    stop(fp);
}

/* ---- DNS -------------------------------------------------------------------------------------- */

static void dns_ask(struct fixture *f, bool tcp, const char *name, uint16_t type,
                    struct dns_msg *ans)
{
    static struct dns_msg q;
    struct dns_name n;
    assert_int_equal(dns_name_from_text(&n, name), 0);
    dns_query_init(&q, 0x1234, &n, type, true);
    uint8_t buf[DNS_UDP_MAX + 2];
    size_t len;
    assert_int_equal(dns_encode(&q, buf + 2, DNS_UDP_MAX, &len), 0);
    int fd = dial(endpoint(f, "resolver", SIM_BRIDGE_DNS), tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (tcp) assert_int_equal(dns_tcp_write_len(buf, len), 0);
    assert_int_equal(send(fd, tcp ? buf : buf + 2, tcp ? len + 2 : len, 0),
                     (ssize_t)(tcp ? len + 2 : len));
    static uint8_t in[DNS_MSG_MAX];
    size_t got = 0;
    long long end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        ssize_t r = recv(fd, in + got, sizeof in - got, 0);
        if (r > 0) got += (size_t)r;
        if (got && (!tcp || (got >= 2 && got >= 2u + (size_t)(in[0] << 8 | in[1])))) break;
        assert_int_equal(sim_bridge_step(f->b, 5), 0);
    }
    close(fd);
    assert_true(got > 0);
    assert_int_equal(dns_decode(tcp ? in + 2 : in, tcp ? got - 2 : got, DNS_MSG_MAX, ans), 0);
}

struct dns_case {
    const char *name;
    bool tcp;
    const char *qname;
    uint16_t type;
    const char *answer; /* dns_msg_summary of the answer */
};

static const struct dns_case dns_cases[] = {
    {"mx_udp", false, "example.org", DNS_TYPE_MX, "example.org. 3600 IN MX 10 mail.example.org."},
    {"a_udp", false, "mail.example.org", DNS_TYPE_A, "mail.example.org. 3600 IN A 203.0.113.25"},
    {"mx_tcp", true, "example.com", DNS_TYPE_MX, "example.com. 3600 IN MX 10 mail.example.com."},
    {"nxdomain", false, "nope.example.org", DNS_TYPE_A, "NXDOMAIN"},
};

static void test_dns(void **state)
{
    const struct dns_case *c = *state;
    struct fixture *fp = &current;
    start(fp, DEFAULT_LESSON, (struct sim_bridge_config){0});
    static struct dns_msg ans;
    dns_ask(fp, c->tcp, c->qname, c->type, &ans);
    assert_int_equal(ans.h.id, 0x1234);
    assert_true(ans.h.qr);
    char text[512];
    dns_msg_summary(&ans, text, sizeof text);
    assert_string_equal(text, c->answer);
    struct sim_bridge_stats st;
    sim_bridge_stats(fp->b, &st);
    assert_int_equal(st.dns_queries, 1);
    assert_int_equal(st.dns_answers, 1);
    stop(fp);
}

#define CASE(fn, tbl, i) {tbl[i].name, fn, NULL, teardown, (void *)&tbl[i]}

int main(void)
{
    static struct CMUnitTest tests[64];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_endpoints, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_bind_in_use, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_smtp_relay_to_store, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_drop_mid_data, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_smtp_long_line, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_drop_mid_literal, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_half_close, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_imaps_greeting, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_tls_garbage, teardown);
    for (size_t i = 0; i < ARRAY_LEN(busy_cases); i++)
        tests[n++] = (struct CMUnitTest)CASE(test_busy, busy_cases, i);
    for (size_t i = 0; i < ARRAY_LEN(idle_cases); i++)
        tests[n++] = (struct CMUnitTest)CASE(test_idle, idle_cases, i);
    for (size_t i = 0; i < ARRAY_LEN(dns_cases); i++)
        tests[n++] = (struct CMUnitTest)CASE(test_dns, dns_cases, i);
    return _cmocka_run_group_tests("bridge", tests, n, NULL, NULL);
}
