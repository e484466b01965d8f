/* The live bridge: see sim/bridge.h. */
#include "sim/bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "protocols/explain.h"
#include "protocols/imap.h"
#include "protocols/pop3.h"
#include "protocols/smtp.h"
#include "sim/bridge_tls.h"
#include "sim/dns_service.h"
#include "sim/net.h"

const char *const sim_bridge_service_names[SIM_BRIDGE_SERVICE_COUNT] = {
    "smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "dns",
};
const unsigned sim_bridge_service_ports[SIM_BRIDGE_SERVICE_COUNT] = {
    25, 587, 465, 143, 993, 110, 995, 53,
};

#define READ_CHUNK 16384          /* octets read from a socket at once */
#define READ_BUDGET (256u * 1024) /* octets taken from one client per step: fairness */
#define ACCEPT_BUDGET 64          /* connections accepted per listener per step */
#define UDP_BUDGET 64             /* datagrams read per socket per step */
#define DNS_TCP_IDLE_MS 10000     /* RFC 7766 6.2.3 suggests seconds, not minutes */

/* Idle timeouts of the protocols, in ms. */
#define SMTP_IDLE_MS (300u * 1000)  /* RFC 5321 4.5.3.2.7: 5 minutes */
#define IMAP_IDLE_MS (1800u * 1000) /* RFC 3501 5.4: at least 30 minutes */
#define POP3_IDLE_MS (600u * 1000)  /* RFC 1939 3: at least 10 minutes */

static bool implicit_tls(enum sim_bridge_service s)
{
    return s == SIM_BRIDGE_SUBMISSIONS || s == SIM_BRIDGE_IMAPS || s == SIM_BRIDGE_POP3S;
}

enum proto_family { FAM_SMTP, FAM_IMAP, FAM_POP3, FAM_DNS };

static enum proto_family family(enum sim_bridge_service s)
{
    switch (s) {
    case SIM_BRIDGE_SMTP:
    case SIM_BRIDGE_SUBMISSION:
    case SIM_BRIDGE_SUBMISSIONS: return FAM_SMTP;
    case SIM_BRIDGE_IMAP:
    case SIM_BRIDGE_IMAPS: return FAM_IMAP;
    case SIM_BRIDGE_POP3:
    case SIM_BRIDGE_POP3S: return FAM_POP3;
    default: return FAM_DNS;
    }
}

/* Where the real socket is with TLS. Changes go through set_tls(). */
enum conn_tls {
    CT_PLAIN,     /* cleartext */
    CT_WAIT,      /* the world marked TLS: no reading until its handshake is done */
    CT_HANDSHAKE, /* the real handshake is under way */
    CT_ON,        /* every byte goes through the session */
    CT_COUNT
};
static const char *const conn_tls_names[CT_COUNT] = {"plain", "wait", "handshake", "on"};

struct endpoint {
    struct sim_bridge_endpoint pub;
    struct sim_host *host; /* the simulated server */
    int fd;                /* TCP listener */
    int udp;               /* DNS only: the UDP socket, else -1 */
};

struct bconn {
    struct sim_bridge *b;
    size_t slot;             /* index in b->conns */
    uint64_t id;             /* never reused: DNS answers find their connection by it */
    struct endpoint *ep;
    int fd;                  /* -1 once the real side is closed */
    struct sim_conn *sc;     /* the simulated connection while open */
    bool sim_pending;        /* connecting: a connected or failed callback will come */
    bool sim_done;           /* the simulated server closed: flush, then close */
    bool tls_start;          /* the world's handshake is done: start the real one */
    bool want_write;         /* the TLS session asked for a writable socket */
    enum conn_tls tls;
    struct sim_bridge_tls_session *ts;
    char *out;               /* bytes for the real client */
    size_t out_len, out_off, out_cap;
    char *hold;              /* an unfinished line from the client */
    size_t hold_len;
    int64_t last_ms;         /* last bytes from the client, monotonic ms */
    bool peer_eof;           /* the client shut its sending side: replies still go back */
    int64_t eof_ms;          /* when it did */
    bool smtp_data;          /* after 354: the client's lines are message text */
    size_t imap_literal;     /* octets of an IMAP literal still to come */
    struct dns_tcp_reader rd; /* DNS over TCP */
    uint8_t *rdbuf;
};

struct dns_slot {
    bool in_use;
    uint16_t qid;            /* the query's id: a late answer to an older query is dropped */
    int udp;                 /* the socket it came on, or -1 for TCP */
    struct sockaddr_storage peer;
    socklen_t peerlen;
    uint64_t conn_id;        /* TCP: the connection it came on */
    int64_t deadline_ms;
    struct sim_bridge *b;
};

struct sim_bridge {
    struct sim_world *w;
    const struct sim_scenario *s;
    struct sim_engine *e;
    struct sim_net *net;
    struct sim_host *host;   /* SIM_BRIDGE_HOST */
    struct sim_bridge_config cfg;
    struct sim_bridge_tls *tls;
    char fingerprint[96];
    struct endpoint eps[SIM_BRIDGE_ENDPOINTS_MAX];
    size_t neps;
    struct bconn *conns[SIM_BRIDGE_CONNS_MAX];
    size_t nconns;
    uint64_t next_id;
    struct dns_slot slots[SIM_BRIDGE_DNS_SLOTS];
    struct dns_msg *msg;     /* scratch for trace summaries (large: on the heap) */
    int64_t mono0_ms;        /* the clock when the bridge started */
    sim_time sim0;           /* engine time then */
    struct sim_bridge_stats stats;
    bool closed;             /* sim_bridge_close() ran: the world may go on alone */
    struct pollfd *pfds;     /* scratch for poll() */
    size_t *pslot;           /* per pollfd past the listeners: the connection's slot */
    uint64_t *pid;           /* and its id (a slot freed and reused meanwhile is skipped) */
};

/* ---- the clock (the one place in sim/ that reads one) --------------------- */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_ms(void) { return mono_us() / 1000; }

/* Runs what is due and moves the engine to the wall time: afterwards bytes
 * from sockets enter the world at "now". */
static void advance(struct sim_bridge *b)
{
    int64_t el = mono_us() - b->mono0_ms * 1000;
    sim_time now = b->sim0 + (sim_time)(el > 0 ? el : 0);
    if (now < b->e->now) now = b->e->now;
    sim_engine_run(b->e, now);
    b->e->now = now;
}

/* ---- small helpers ---------------------------------------------------------- */

static void logf_(const struct sim_bridge *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void logf_(const struct sim_bridge *b, const char *fmt, ...)
{
    if (b->cfg.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mailsim serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Fills a socket address from text and port. Returns its length, or 0. */
static socklen_t make_addr(const char *text, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return sizeof *v6;
    }
    return 0;
}

static int open_socket(const char *addr, unsigned port, int type, char *err, size_t cap,
                       const char *what)
{
    struct sockaddr_storage ss;
    socklen_t len = make_addr(addr, port, &ss);
    if (!len) {
        snprintf(err, cap, "%s: '%s' is not an IP address", what, addr);
        return -1;
    }
    int fd = socket(ss.ss_family, type, 0);
    if (fd < 0) {
        snprintf(err, cap, "%s: socket: %s", what, strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        (type == SOCK_STREAM && listen(fd, 128) != 0) || set_nonblock(fd) != 0) {
        int why = errno;
        snprintf(err, cap, "cannot listen on %s:%u (%s): %s%s", addr, port, what, strerror(why),
                 why == EADDRINUSE ? " (another program has the port: try another "
                                     "--port-offset; a wildcard --bind such as 0.0.0.0 takes "
                                     "it on every address, so give each server host its own)"
                                   : "");
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- output towards the real client ------------------------------------------- */

static bool out_put(struct bconn *c, const char *bytes, size_t n)
{
    if (c->fd < 0) return false;
    size_t pending = c->out_len - c->out_off;
    if (pending + n > SIM_BRIDGE_OUT_MAX) return false;
    if (c->out_off && c->out_len + n > c->out_cap) { /* slide down first */
        memmove(c->out, c->out + c->out_off, pending);
        c->out_len = pending;
        c->out_off = 0;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n) cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) return false;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, bytes, n);
    c->out_len += n;
    c->b->stats.bytes_out += n;
    return true;
}

static void set_tls(struct bconn *c, enum conn_tls to)
{
    /* The states only move forward; the names are for a debugger's eye. */
    (void)conn_tls_names;
    c->tls = to;
}

/* ---- connections: life and death ---------------------------------------------- */

static void free_conn(struct bconn *c)
{
    struct sim_bridge *b = c->b;
    b->conns[c->slot] = NULL;
    b->nconns--;
    free(c->out);
    free(c->hold);
    free(c->rdbuf);
    free(c);
}

/* The real side is gone (closed, failed, timed out, or the bridge is done
 * with it). The simulated server sees its client close; a connection still
 * being made is closed when it completes. */
static void drop_real(struct bconn *c)
{
    if (c->fd >= 0) {
        sim_bridge_tls_close(c->ts);
        c->ts = NULL;
        close(c->fd);
        c->fd = -1;
    }
    if (c->sc) {
        /* what the client sent of an unfinished line still reaches the
         * server before the close, as it would over TCP */
        if (c->hold_len) sim_conn_send(c->sc, SIM_DIR_C2S, c->hold, c->hold_len, NULL);
        c->hold_len = 0;
        sim_conn_close(c->sc, SIM_DIR_C2S);
        c->sc = NULL;
    }
    if (!c->sim_pending) free_conn(c);
}

/* The simulated client callbacks (ctx is the bconn). */
static void on_connected(void *ctx, struct sim_conn *sc)
{
    struct bconn *c = ctx;
    c->sim_pending = false;
    if (c->fd < 0) { /* the real client left while we connected */
        sim_conn_close(sc, SIM_DIR_C2S);
        free_conn(c);
        return;
    }
    c->sc = sc;
}

static void on_failed(void *ctx, enum sim_conn_failure why)
{
    struct bconn *c = ctx;
    c->sim_pending = false;
    if (c->fd >= 0)
        logf_(c->b, "%s %s: the simulated server cannot be reached (%s)", c->ep->pub.host,
              sim_bridge_service_names[c->ep->pub.service], sim_conn_failure_names[why]);
    drop_real(c);
}

static void on_data(void *ctx, struct sim_conn *sc, const char *bytes, size_t n)
{
    struct bconn *c = ctx;
    if (!out_put(c, bytes, n)) {
        logf_(c->b, "a client of %s does not read its replies: cut", c->ep->pub.host);
        drop_real(c);
        return;
    }
    /* RFC 5321 4.1.1.4: after 354 the client's lines are the message,
     * not commands, until the line holding one dot. */
    if (family(c->ep->pub.service) == FAM_SMTP)
        for (size_t i = 0; i + 3 <= n; i++)
            if ((i == 0 || bytes[i - 1] == '\n') && memcmp(bytes + i, "354", 3) == 0)
                c->smtp_data = true;
    /* The reply that allows TLS has arrived (the server marked TLS right
     * after sending it): the client's next bytes are its ClientHello. */
    if (sim_conn_tls(sc) && c->tls == CT_PLAIN) set_tls(c, CT_WAIT);
}

static void on_tls_ready(void *ctx, struct sim_conn *sc)
{
    (void)sc;
    struct bconn *c = ctx;
    c->tls_start = true;
}

static void on_closed(void *ctx, struct sim_conn *sc)
{
    (void)sc;
    struct bconn *c = ctx;
    c->sc = NULL;
    c->sim_done = true;
    if (c->fd < 0) free_conn(c);
}

static const struct sim_client_ops client_ops = {
    .connected = on_connected,
    .failed = on_failed,
    .data = on_data,
    .tls_ready = on_tls_ready,
    .closed = on_closed,
};

/* ---- the protocols' own words for "busy" and "timed out" (codecs only) -------- */

static size_t goodbye(enum proto_family f, const char *host, bool timeout, char *buf, size_t cap)
{
    if (f == FAM_SMTP) {
        /* RFC 5321 3.8: 421 and close, when the service must shut the
         * transmission channel; RFC 3463 4.3.2 "system not accepting
         * messages", 4.4.2 "bad connection" (the timeout). */
        char line[256];
        snprintf(line, sizeof line, "%s %s", host,
                 timeout ? "Error: timeout exceeded" : "Too many connections, try again later");
        const char *lines[] = {line};
        int n = smtp_format_reply(421, timeout ? "4.4.2" : "4.3.2", lines, 1, buf, cap);
        return n > 0 ? (size_t)n : 0;
    }
    if (f == FAM_IMAP) {
        /* RFC 3501 7.1.5: BYE before closing, for an autologout or a
         * server that will not serve the connection. */
        const char *text = timeout ? "Autologout; idle for too long" : "Too many connections";
        struct imap_response r;
        memset(&r, 0, sizeof r);
        r.kind = IMAP_RESP_STATE;
        r.status = IMAP_BYE;
        r.text = (struct imap_str){text, strlen(text), false};
        return imap_resp_format(&r, buf, cap);
    }
    if (f == FAM_POP3 && !timeout) {
        /* RFC 2449 8.1.2: [SYS/TEMP], try again later. A timeout gets no
         * reply at all (RFC 1939 3). */
        int n = pop3_reply_format(buf, cap, false, "SYS/TEMP", "Too many connections");
        return n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* ---- DNS ----------------------------------------------------------------------- */

static struct bconn *conn_by_id(struct sim_bridge *b, uint64_t id)
{
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++)
        if (b->conns[i] && b->conns[i]->id == id) return b->conns[i];
    return NULL;
}

/* An answer from the simulated server to the real-client host's port of slot. */
static void dns_answer(void *ctx, struct sim_host *from, unsigned from_port, const char *bytes,
                       size_t n)
{
    (void)from;
    (void)from_port;
    struct dns_slot *sl = ctx;
    struct sim_bridge *b = sl->b;
    if (!sl->in_use || n < 2 || (uint16_t)(((uint8_t)bytes[0] << 8) | (uint8_t)bytes[1]) != sl->qid)
        return;
    sl->in_use = false;
    if (sl->udp >= 0) {
        if (sendto(sl->udp, bytes, n, 0, (struct sockaddr *)&sl->peer, sl->peerlen) >= 0)
            b->stats.dns_answers++;
        return;
    }
    struct bconn *c = conn_by_id(b, sl->conn_id);
    uint8_t len[2];
    if (!c || c->fd < 0 || dns_tcp_write_len(len, n) != 0) return;
    /* RFC 1035 4.2.2: the answer framed with its two-octet length. */
    if (out_put(c, (const char *)len, 2) && out_put(c, bytes, n)) b->stats.dns_answers++;
}

/* Passes one query to the simulated server ep->host, from a slot of ours. */
static void dns_query(struct sim_bridge *b, struct endpoint *ep, const char *bytes, size_t n,
                      int udp, const struct sockaddr_storage *peer, socklen_t peerlen,
                      uint64_t conn_id)
{
    if (n < 12) return; /* not even a header (RFC 1035 4.1.1): nothing to answer */
    size_t i = 0;
    while (i < SIM_BRIDGE_DNS_SLOTS && b->slots[i].in_use) i++;
    if (i == SIM_BRIDGE_DNS_SLOTS) return; /* all busy: like a lost datagram, the client retries */
    struct dns_slot *sl = &b->slots[i];
    sl->in_use = true;
    sl->qid = (uint16_t)(((uint8_t)bytes[0] << 8) | (uint8_t)bytes[1]);
    sl->udp = udp;
    if (peer) memcpy(&sl->peer, peer, sizeof *peer);
    sl->peerlen = peerlen;
    sl->conn_id = conn_id;
    sl->deadline_ms = mono_ms() + SIM_BRIDGE_DNS_WAIT_MS;
    char text[512];
    if (dns_decode((const uint8_t *)bytes, n, DNS_MSG_MAX, b->msg) == 0)
        dns_msg_summary(b->msg, text, sizeof text);
    else
        snprintf(text, sizeof text, "a message that does not parse (%zu octets)", n);
    b->stats.dns_queries++;
    sim_net_send_datagram(b->net, b->host, SIM_BRIDGE_DNS_PORT_BASE + (unsigned)i,
                          sim_host_ip(ep->host), SIM_DNS_PORT, bytes, n, SIM_DIR_C2S, text,
                          udp >= 0 ? "a real program's query (dig, a mail client), "
                                     "arrived by UDP on the live bridge"
                                   : "a real program's query, arrived by TCP on the live bridge");
}

/* ---- bytes from the real client ----------------------------------------------- */

static void to_world(struct bconn *c, const char *bytes, size_t n, const char *note)
{
    if (c->sc && n) sim_conn_send(c->sc, SIM_DIR_C2S, bytes, n, note);
}

/* ---- what a real client's line means (the same notes simulated clients
 * give, from the codecs' tables) ------------------------------------------ */

static bool word_is(const char *p, size_t n, const char *w)
{
    return ascii_eq(p, n, w);
}

/* The IMAP command of "tag NAME ..." or "tag UID NAME ...", or NULL. */
static const char *imap_note(const char *p, size_t n)
{
    if (n == 4 && word_is(p, 4, "DONE")) return imap_done_explain(); /* RFC 2177 3 */
    const char *sp = memchr(p, ' ', n);
    if (!sp) return NULL;
    const char *w = sp + 1, *end = p + n;
    bool uid = false;
    for (int k = 0; k < 2; k++) {
        const char *e = w;
        while (e < end && *e != ' ') e++;
        if (!uid && word_is(w, (size_t)(e - w), "UID") && e < end) {
            uid = true;
            w = e + 1;
            continue;
        }
        for (int i = 0; i < IMAP_CMD_COUNT; i++)
            if (word_is(w, (size_t)(e - w), imap_cmd_names[i]))
                return imap_command_explain((enum imap_cmd)i, uid);
        return NULL;
    }
    return NULL;
}

/* An IMAP line ending in a literal's size, "{n}" or "{n+}" (RFC 3501 4.3,
 * RFC 7888): the next n octets are data, whatever they look like. */
static size_t literal_size(const char *p, size_t n)
{
    if (n < 3 || p[n - 1] != '}') return 0;
    size_t i = n - 1;
    if (p[i - 1] == '+') i--;
    size_t v = 0, mul = 1, digits = 0;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9' && digits < 10) {
        v += (size_t)(p[i - 1] - '0') * mul;
        mul *= 10;
        digits++;
        i--;
    }
    return digits && i > 0 && p[i - 1] == '{' ? v : 0;
}

/* The note for one line (without its CRLF) from the real client, keeping
 * track of where the protocol is; NULL for data lines. */
static const char *client_note(struct bconn *c, const char *p, size_t n, bool continuation)
{
    switch (family(c->ep->pub.service)) {
    case FAM_SMTP: {
        if (c->smtp_data) {
            if (n == 1 && p[0] == '.') c->smtp_data = false; /* the end of the text */
            return NULL;
        }
        struct smtp_command cmd;
        if (smtp_parse_command(p, n, &cmd) != 0 && cmd.verb == SMTP_VERB_COUNT) return NULL;
        return smtp_command_explain(cmd.verb);
    }
    case FAM_POP3: {
        struct pop3_cmd cmd;
        return pop3_cmd_parse(p, n, &cmd) == 0 ? pop3_command_explain(cmd.verb) : NULL;
    }
    case FAM_IMAP: {
        const char *note = continuation ? NULL : imap_note(p, n);
        c->imap_literal = literal_size(p, n);
        return note;
    }
    default: return NULL;
    }
}

/* Sends whole lines into the world: a line with a note on its own (the
 * trace shows each note by its line), runs of data lines together. */
static void to_world_lines(struct bconn *c, const char *p, size_t n)
{
    size_t run = 0, pos = 0; /* p[run..pos) waits to go without a note */
    bool cont = false;       /* the line continues after an IMAP literal */
    while (pos < n) {
        if (c->imap_literal) {
            size_t k = n - pos < c->imap_literal ? n - pos : c->imap_literal;
            pos += k;
            c->imap_literal -= k;
            cont = true;
            continue;
        }
        const char *lf = memchr(p + pos, '\n', n - pos);
        size_t end = lf ? (size_t)(lf - p) + 1 : n;
        size_t len = end - pos;
        if (len && p[pos + len - 1] == '\n') len--;
        if (len && p[pos + len - 1] == '\r') len--;
        const char *note = client_note(c, p + pos, len, cont);
        cont = false;
        if (note) {
            to_world(c, p + run, pos - run, NULL);
            to_world(c, p + pos, end - pos, note);
            run = end;
        }
        pos = end;
    }
    to_world(c, p + run, n - run, NULL);
}

static const char *last_lf(const char *p, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (p[i - 1] == '\n') return p + i - 1;
    return NULL;
}

/* Whole lines go into the world at once, so the trace shows each line as
 * the client wrote it however TCP cut the stream; a partial line waits for
 * its end (up to SIM_BRIDGE_HOLD_MAX: past that the codecs see it as it is
 * and answer "line too long"). */
static void feed_lines(struct bconn *c, const char *p, size_t n)
{
    if (c->hold_len) {
        const char *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) + 1 : n;
        if (c->hold_len + take > SIM_BRIDGE_HOLD_MAX) {
            to_world_lines(c, c->hold, c->hold_len);
            c->hold_len = 0;
        } else {
            memcpy(c->hold + c->hold_len, p, take);
            c->hold_len += take;
            p += take;
            n -= take;
            if (!lf) return;
            to_world_lines(c, c->hold, c->hold_len);
            c->hold_len = 0;
        }
    }
    const char *lf = last_lf(p, n);
    size_t whole = lf ? (size_t)(lf - p) + 1 : 0;
    if (whole) to_world_lines(c, p, whole);
    size_t rest = n - whole;
    if (!rest) return;
    if (rest > SIM_BRIDGE_HOLD_MAX || (!c->hold && !(c->hold = malloc(SIM_BRIDGE_HOLD_MAX)))) {
        to_world_lines(c, p + whole, rest);
        return;
    }
    memcpy(c->hold, p + whole, rest);
    c->hold_len = rest;
}

/* Returns false when the connection went away. */
static bool feed(struct bconn *c, const char *p, size_t n)
{
    struct sim_bridge *b = c->b;
    b->stats.bytes_in += n;
    c->last_ms = mono_ms();
    if (family(c->ep->pub.service) != FAM_DNS) {
        feed_lines(c, p, n);
        return true;
    }
    while (n) {
        size_t took = dns_tcp_feed(&c->rd, (const uint8_t *)p, n);
        p += took;
        n -= took;
        const uint8_t *msg;
        size_t len;
        enum dns_tcp_status st = dns_tcp_next(&c->rd, &msg, &len);
        if (st == DNS_TCP_MESSAGE)
            dns_query(b, c->ep, (const char *)msg, len, -1, NULL, 0, c->id);
        else if (st == DNS_TCP_ERROR) { /* an oversized frame: RFC 7766 says close */
            drop_real(c);
            return false;
        } else if (!took)
            break;
    }
    return true;
}

static bool can_read(const struct bconn *c)
{
    if (c->fd < 0 || c->sim_done || c->tls_start || c->peer_eof) return false;
    if (c->tls != CT_PLAIN && c->tls != CT_ON) return false;
    if (c->out_len - c->out_off >= SIM_BRIDGE_OUT_PAUSE) return false;
    if (family(c->ep->pub.service) == FAM_DNS) return true;
    return c->sc != NULL;
}

/* Returns false when the connection went away. */
static bool do_read(struct bconn *c)
{
    char buf[READ_CHUNK];
    size_t budget = READ_BUDGET;
    while (can_read(c) && budget) {
        size_t n = 0;
        if (c->tls == CT_ON) {
            enum sim_bridge_tls_io r = sim_bridge_tls_read(c->ts, buf, sizeof buf, &n);
            if (r == SIM_BRIDGE_TLS_WANT_READ) return true;
            if (r == SIM_BRIDGE_TLS_WANT_WRITE) {
                c->want_write = true;
                return true;
            }
            if (r != SIM_BRIDGE_TLS_DONE) {
                drop_real(c);
                return false;
            }
        } else {
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
            if (r == 0) {
                /* A half-close ("printf 'QUIT\r\n' | nc -N"): the client
                 * still reads, so the server's answers go back until it
                 * closes, or SIM_BRIDGE_EOF_LINGER_MS at most. */
                c->peer_eof = true;
                c->eof_ms = mono_ms();
                if (c->hold_len) to_world(c, c->hold, c->hold_len, NULL);
                c->hold_len = 0;
                return true;
            }
            if (r < 0) {
                drop_real(c);
                return false;
            }
            n = (size_t)r;
        }
        if (!feed(c, buf, n)) return false;
        budget = budget > n ? budget - n : 0;
    }
    return true;
}

/* ---- TLS on the real socket ------------------------------------------------------ */

/* Returns false when the connection went away. */
static bool drive_handshake(struct bconn *c)
{
    enum sim_bridge_tls_io r = sim_bridge_tls_handshake(c->ts);
    c->want_write = r == SIM_BRIDGE_TLS_WANT_WRITE;
    if (r == SIM_BRIDGE_TLS_DONE) {
        set_tls(c, CT_ON);
        c->tls_start = false;
        c->last_ms = mono_ms();
        return true;
    }
    if (r == SIM_BRIDGE_TLS_WANT_READ || r == SIM_BRIDGE_TLS_WANT_WRITE) return true;
    c->b->stats.tls_failed++;
    logf_(c->b, "TLS with a client of %s %s failed: %s", c->ep->pub.host,
          sim_bridge_service_names[c->ep->pub.service],
          *sim_bridge_tls_error(c->ts) ? sim_bridge_tls_error(c->ts)
                                       : "the client closed (did it refuse the certificate?)");
    drop_real(c);
    return false;
}

static bool start_tls(struct bconn *c)
{
    c->ts = sim_bridge_tls_accept(c->b->tls, c->fd);
    if (!c->ts) {
        drop_real(c);
        return false;
    }
    set_tls(c, CT_HANDSHAKE);
    return drive_handshake(c);
}

/* Writes what is queued; starts the real TLS handshake once the cleartext
 * before it is out; closes a connection the server is done with. Returns
 * false when the connection went away. */
static bool do_write(struct bconn *c)
{
    if (c->fd < 0) return false;
    if (c->tls == CT_HANDSHAKE) return drive_handshake(c);
    while (c->out_off < c->out_len) {
        size_t n = 0;
        const char *p = c->out + c->out_off;
        size_t len = c->out_len - c->out_off;
        if (c->tls == CT_ON) {
            enum sim_bridge_tls_io r = sim_bridge_tls_write(c->ts, p, len, &n);
            if (r == SIM_BRIDGE_TLS_WANT_WRITE || r == SIM_BRIDGE_TLS_WANT_READ) {
                c->want_write = r == SIM_BRIDGE_TLS_WANT_WRITE;
                return true;
            }
            if (r != SIM_BRIDGE_TLS_DONE) {
                drop_real(c);
                return false;
            }
        } else {
            ssize_t r = send(c->fd, p, len, MSG_NOSIGNAL);
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
            if (r < 0) {
                drop_real(c);
                return false;
            }
            n = (size_t)r;
        }
        c->out_off += n;
    }
    c->out_off = c->out_len = 0;
    c->want_write = false;
    if (c->tls_start && (c->tls == CT_WAIT || c->tls == CT_PLAIN)) return start_tls(c);
    if (c->sim_done) {
        drop_real(c);
        return false;
    }
    return true;
}

/* ---- accepting ---------------------------------------------------------------------- */

static void refuse_busy(struct sim_bridge *b, struct endpoint *ep, int fd)
{
    b->stats.refused_busy++;
    if (!implicit_tls(ep->pub.service)) {
        char buf[512];
        size_t n = goodbye(family(ep->pub.service), ep->pub.host, false, buf, sizeof buf);
        if (n) (void)send(fd, buf, n, MSG_NOSIGNAL);
    }
    close(fd);
}

static void accept_one(struct sim_bridge *b, struct endpoint *ep, int fd)
{
    size_t max = b->cfg.max_conns && b->cfg.max_conns < SIM_BRIDGE_CONNS_MAX
                     ? b->cfg.max_conns
                     : SIM_BRIDGE_CONNS_MAX;
    if (b->nconns >= max || set_nonblock(fd) != 0) {
        refuse_busy(b, ep, fd);
        return;
    }
    struct bconn *c = calloc(1, sizeof *c);
    bool dns = family(ep->pub.service) == FAM_DNS;
    if (c && dns) {
        c->rdbuf = malloc(DNS_MSG_MAX);
        if (c->rdbuf) dns_tcp_init(&c->rd, c->rdbuf, DNS_MSG_MAX);
    }
    if (!c || (dns && !c->rdbuf)) {
        if (c) free(c);
        refuse_busy(b, ep, fd);
        return;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* replies are small */
    size_t slot = 0;
    while (b->conns[slot]) slot++;
    *c = (struct bconn){.b = b, .slot = slot, .id = ++b->next_id, .ep = ep, .fd = fd,
                        .last_ms = mono_ms(), .rd = c->rd, .rdbuf = c->rdbuf};
    b->conns[slot] = c;
    b->nconns++;
    b->stats.accepted++;
    if (dns) return;
    c->sim_pending = true;
    sim_net_connect(b->net, b->host, sim_host_ip(ep->host),
                    sim_bridge_service_ports[ep->pub.service], &client_ops, c);
    /* RFC 8314 3.3: these ports speak TLS from the first byte. The world
     * does its own handshake before the greeting; the greeting waits in
     * out until the real one is done. */
    if (implicit_tls(ep->pub.service)) start_tls(c);
}

static void do_accept(struct sim_bridge *b, struct endpoint *ep)
{
    for (int k = 0; k < ACCEPT_BUDGET; k++) {
        int fd = accept(ep->fd, NULL, NULL);
        if (fd < 0) return; /* EAGAIN, or a client that gave up already */
        accept_one(b, ep, fd);
    }
}

static void do_udp(struct sim_bridge *b, struct endpoint *ep)
{
    static char buf[DNS_MSG_MAX];
    for (int k = 0; k < UDP_BUDGET; k++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(ep->udp, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) return;
        dns_query(b, ep, buf, (size_t)n, ep->udp, &peer, plen, 0);
    }
}

/* ---- timeouts ------------------------------------------------------------------------- */

static unsigned idle_ms(const struct sim_bridge *b, const struct endpoint *ep)
{
    if (b->cfg.idle_ms) return b->cfg.idle_ms;
    switch (family(ep->pub.service)) {
    case FAM_SMTP: return SMTP_IDLE_MS;
    case FAM_IMAP: return IMAP_IDLE_MS;
    case FAM_POP3: return POP3_IDLE_MS;
    default: return DNS_TCP_IDLE_MS;
    }
}

static void time_out(struct bconn *c)
{
    struct sim_bridge *b = c->b;
    b->stats.timed_out++;
    char text[200];
    unsigned ms = idle_ms(b, c->ep);
    snprintf(text, sizeof text, "a real client of %s idled %u %s: the bridge closes it",
             c->ep->pub.host, ms % 1000 ? ms : ms / 1000, ms % 1000 ? "ms" : "s");
    struct sim_trace_event ev = {
        .kind = SIM_TR_FAULT, .proto = SIM_PROTO_SIM, .from = SIM_BRIDGE_HOST,
        .to = c->ep->pub.host, .port = sim_bridge_service_ports[c->ep->pub.service],
        .text = text,
        .note = "servers do not wait forever for a silent client (SMTP 5 min, POP3 10 min, "
                "IMAP 30 min)",
    };
    sim_record(b->e, &ev);
    char buf[512];
    size_t n = c->tls == CT_HANDSHAKE || c->tls == CT_WAIT
                   ? 0
                   : goodbye(family(c->ep->pub.service), c->ep->pub.host, true, buf, sizeof buf);
    if (c->sc) {
        sim_conn_close(c->sc, SIM_DIR_C2S);
        c->sc = NULL;
    }
    c->sim_done = true;
    c->tls_start = false;
    if (!n || !out_put(c, buf, n)) {
        drop_real(c);
        return;
    }
    c->last_ms = mono_ms(); /* a last chance to take the goodbye */
    do_write(c);
}

static void check_timeouts(struct sim_bridge *b, int64_t now)
{
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++) {
        struct bconn *c = b->conns[i];
        if (!c || c->fd < 0) continue;
        if (c->peer_eof && now - c->eof_ms >= SIM_BRIDGE_EOF_LINGER_MS) {
            drop_real(c);
            continue;
        }
        if (now - c->last_ms < (int64_t)idle_ms(b, c->ep)) continue;
        if (c->sim_done) drop_real(c); /* even the goodbye was not read */
        else time_out(c);
    }
    for (size_t i = 0; i < SIM_BRIDGE_DNS_SLOTS; i++)
        if (b->slots[i].in_use && now >= b->slots[i].deadline_ms) b->slots[i].in_use = false;
}

/* The wait until the next thing the bridge itself must do, in ms. */
static int64_t next_deadline(const struct sim_bridge *b, int64_t now)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++) {
        const struct bconn *c = b->conns[i];
        if (!c || c->fd < 0) continue;
        int64_t d = c->last_ms + idle_ms(b, c->ep) - now;
        if (d < best) best = d;
        if (c->peer_eof && c->eof_ms + SIM_BRIDGE_EOF_LINGER_MS - now < best)
            best = c->eof_ms + SIM_BRIDGE_EOF_LINGER_MS - now;
    }
    for (size_t i = 0; i < SIM_BRIDGE_DNS_SLOTS; i++)
        if (b->slots[i].in_use && b->slots[i].deadline_ms - now < best)
            best = b->slots[i].deadline_ms - now;
    return best < 0 ? 0 : best;
}

/* ---- the step ---------------------------------------------------------------------------- */

static void flush_all(struct sim_bridge *b)
{
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++) {
        struct bconn *c = b->conns[i];
        if (!c || c->fd < 0) continue;
        if (c->out_off < c->out_len || c->tls_start || c->sim_done) do_write(c);
    }
}

int sim_bridge_step(struct sim_bridge *b, int max_wait_ms)
{
    if (b->closed) return -1;
    advance(b);
    flush_all(b);
    size_t n = 0;
    bool urgent = false; /* decrypted bytes already waiting: do not sleep */
    for (size_t i = 0; i < b->neps; i++) {
        b->pfds[n++] = (struct pollfd){.fd = b->eps[i].fd, .events = POLLIN};
        if (b->eps[i].udp >= 0) b->pfds[n++] = (struct pollfd){.fd = b->eps[i].udp, .events = POLLIN};
    }
    size_t first_conn = n;
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++) {
        struct bconn *c = b->conns[i];
        if (!c || c->fd < 0) continue;
        short ev = 0;
        if (c->tls == CT_HANDSHAKE) {
            ev = c->want_write ? POLLOUT : POLLIN;
        } else {
            if (can_read(c)) ev |= POLLIN;
            if (c->out_off < c->out_len || c->want_write) ev |= POLLOUT;
            if (c->tls == CT_ON && can_read(c) && sim_bridge_tls_pending(c->ts)) urgent = true;
        }
        b->pfds[n] = (struct pollfd){.fd = c->fd, .events = ev};
        b->pslot[n] = i;
        b->pid[n++] = c->id;
    }
    int64_t now = mono_ms();
    int64_t wait = max_wait_ms < 0 ? 0 : max_wait_ms;
    const struct sim_event *next = sim_eventq_peek(b->e->queue);
    if (next) {
        int64_t d = next->time > b->e->now ? (int64_t)((next->time - b->e->now + 999) / 1000) : 0;
        if (d < wait) wait = d;
    }
    int64_t dl = next_deadline(b, now);
    if (dl < wait) wait = dl;
    if (urgent) wait = 0;
    int r = poll(b->pfds, (nfds_t)n, (int)wait);
    advance(b);
    if (r > 0) {
        for (size_t k = 0; k < first_conn; k++) {
            if (!(b->pfds[k].revents & POLLIN)) continue;
            for (size_t i = 0; i < b->neps; i++) {
                if (b->pfds[k].fd == b->eps[i].fd) do_accept(b, &b->eps[i]);
                else if (b->pfds[k].fd == b->eps[i].udp) do_udp(b, &b->eps[i]);
            }
        }
    }
    for (size_t k = first_conn; k < n; k++) {
        /* The connection may have gone, and its slot been reused by an
         * accept above: only the same connection, still open, is served. */
        struct bconn *c = b->conns[b->pslot[k]];
        if (!c || c->id != b->pid[k] || c->fd < 0) continue;
        short re = r > 0 ? b->pfds[k].revents : 0;
        bool pending = c->tls == CT_ON && c->ts && sim_bridge_tls_pending(c->ts);
        if (!re && !pending) continue;
        if (c->tls == CT_HANDSHAKE) {
            if (re) drive_handshake(c);
            continue;
        }
        if ((re & POLLOUT) && !do_write(c)) continue;
        if ((re & POLLIN) || pending) {
            if (!do_read(c)) continue;
        } else if (re & (POLLERR | POLLHUP)) {
            drop_real(c);
        }
    }
    check_timeouts(b, mono_ms());
    advance(b);
    flush_all(b);
    return b->e->failed ? -1 : 0;
}

int sim_bridge_run(struct sim_bridge *b, volatile sig_atomic_t *stop)
{
    while (!*stop)
        if (sim_bridge_step(b, 1000) != 0) return -1;
    return 0;
}

/* ---- building ---------------------------------------------------------------------------- */

/* An address for the world's real-client host that the lesson does not
 * use: the last ones of the documentation networks (RFC 5737). */
static struct sim_host *add_bridge_host(struct sim_net *net)
{
    static const char *const nets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
    for (unsigned last = 254; last >= 200; last--)
        for (size_t k = 0; k < ARRAY_LEN(nets); k++) {
            char ip[SIM_HOST_IP_MAX + 1];
            snprintf(ip, sizeof ip, "%s%u", nets[k], last);
            if (sim_net_host_by_ip(net, ip)) continue;
            return sim_net_add_host(net, SIM_BRIDGE_HOST, ip, SIM_ROLE_COMPUTER, 0, 0);
        }
    return NULL;
}

static bool serves_dns(const struct sim_scenario *s, size_t host)
{
    if (s->has_resolver && s->resolver == host) return true;
    for (size_t z = 0; z < s->nzones; z++)
        if (s->zones[z].server == host) return true;
    return false;
}

static bool add_endpoint(struct sim_bridge *b, struct sim_host *h, const char *name,
                         enum sim_bridge_service sv, const char *addr, char *err, size_t cap)
{
    if (b->neps == SIM_BRIDGE_ENDPOINTS_MAX) {
        snprintf(err, cap, "too many endpoints (at most %d)", SIM_BRIDGE_ENDPOINTS_MAX);
        return false;
    }
    struct endpoint *ep = &b->eps[b->neps];
    ep->host = h;
    ep->pub.host = name;
    ep->pub.service = sv;
    snprintf(ep->pub.address, sizeof ep->pub.address, "%s", addr);
    ep->pub.port = sim_bridge_service_ports[sv] + b->cfg.port_offset;
    ep->udp = -1;
    char what[160];
    snprintf(what, sizeof what, "%s %s", name, sim_bridge_service_names[sv]);
    ep->fd = open_socket(addr, ep->pub.port, SOCK_STREAM, err, cap, what);
    if (ep->fd < 0) return false;
    if (sv == SIM_BRIDGE_DNS) {
        ep->udp = open_socket(addr, ep->pub.port, SOCK_DGRAM, err, cap, what);
        if (ep->udp < 0) {
            close(ep->fd);
            return false;
        }
    }
    b->neps++;
    return true;
}

/* The subject alternative names of the made-up certificate: every server
 * host's name and every address listened on. */
static void alt_names(const struct sim_bridge *b, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < b->s->nhosts && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%sDNS:%s", o ? "," : "", b->s->hosts[i].name);
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%sDNS:localhost", o ? "," : "");
    for (size_t i = 0; i < b->neps && o < cap; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(b->eps[j].pub.address, b->eps[i].pub.address) == 0;
        if (!seen && strcmp(b->eps[i].pub.address, "0.0.0.0") != 0 &&
            strcmp(b->eps[i].pub.address, "::") != 0)
            o += (size_t)snprintf(out + o, cap - o, ",IP:%s", b->eps[i].pub.address);
    }
    if (o >= cap && cap) out[cap - 1] = 0;
}

struct sim_bridge *sim_bridge_new(struct sim_world *w, const struct sim_scenario *s,
                                  const struct sim_bridge_config *cfg, char *err, size_t cap)
{
    if (cfg->port_offset + 995 > 65535) {
        snprintf(err, cap, "--port-offset %u puts ports past 65535", cfg->port_offset);
        return NULL;
    }
    if (cfg->nbind > SIM_BRIDGE_BIND_MAX) {
        snprintf(err, cap, "at most %d --bind addresses", SIM_BRIDGE_BIND_MAX);
        return NULL;
    }
    /* A client that vanishes while we write must not kill the program:
     * send() says MSG_NOSIGNAL, but OpenSSL's writes do not. */
    signal(SIGPIPE, SIG_IGN);
    struct sim_bridge *b = calloc(1, sizeof *b);
    if (!b || !(b->msg = malloc(sizeof *b->msg))) {
        free(b);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    b->w = w;
    b->s = s;
    b->e = sim_world_engine(w);
    b->net = sim_world_net(w);
    b->cfg = *cfg;
    for (size_t i = 0; i < SIM_BRIDGE_DNS_SLOTS; i++) b->slots[i].b = b;
    for (size_t i = 0; i < SIM_BRIDGE_ENDPOINTS_MAX; i++) b->eps[i].fd = b->eps[i].udp = -1;
    b->host = add_bridge_host(b->net);
    if (!b->host) {
        snprintf(err, cap, "the world has no room for the %s host", SIM_BRIDGE_HOST);
        goto fail;
    }
    for (size_t i = 0; i < SIM_BRIDGE_DNS_SLOTS; i++)
        if (sim_host_bind_udp(b->host, SIM_BRIDGE_DNS_PORT_BASE + (unsigned)i, dns_answer,
                              &b->slots[i]) != 0) {
            snprintf(err, cap, "out of memory");
            goto fail;
        }
    size_t rank = 0;
    for (size_t i = 0; i < s->nhosts; i++) {
        struct sim_host *h = sim_net_host(b->net, s->hosts[i].name);
        if (!h) continue;
        bool any = serves_dns(s, i);
        for (int sv = 0; sv < SIM_BRIDGE_DNS; sv++)
            any |= sim_host_listening(h, sim_bridge_service_ports[sv]);
        if (!any) continue;
        char addr[SIM_BRIDGE_ADDR_MAX];
        if (rank < cfg->nbind) snprintf(addr, sizeof addr, "%s", cfg->bind[rank]);
        else if (rank < 254) snprintf(addr, sizeof addr, "127.0.0.%zu", rank + 1);
        else {
            snprintf(err, cap, "more server hosts than loopback addresses");
            goto fail;
        }
        rank++;
        for (int sv = 0; sv < SIM_BRIDGE_DNS; sv++)
            if (sim_host_listening(h, sim_bridge_service_ports[sv]) &&
                !add_endpoint(b, h, s->hosts[i].name, (enum sim_bridge_service)sv, addr, err,
                              cap))
                goto fail;
        if (serves_dns(s, i) && !add_endpoint(b, h, s->hosts[i].name, SIM_BRIDGE_DNS, addr, err,
                                               cap))
            goto fail;
    }
    char alt[4096];
    alt_names(b, alt, sizeof alt);
    b->tls = sim_bridge_tls_new(cfg->cert_file, cfg->key_file,
                                b->neps ? b->eps[0].pub.host : "localhost", alt, err, cap);
    if (!b->tls) goto fail;
    sim_bridge_tls_fingerprint(b->tls, b->fingerprint);
    size_t maxfds = 2 * SIM_BRIDGE_ENDPOINTS_MAX + SIM_BRIDGE_CONNS_MAX;
    b->pfds = calloc(maxfds, sizeof *b->pfds);
    b->pslot = calloc(maxfds, sizeof *b->pslot);
    b->pid = calloc(maxfds, sizeof *b->pid);
    if (!b->pfds || !b->pslot || !b->pid) {
        snprintf(err, cap, "out of memory");
        goto fail;
    }
    b->mono0_ms = mono_ms();
    b->sim0 = b->e->now;
    return b;
fail:
    sim_bridge_free(b);
    return NULL;
}

void sim_bridge_close(struct sim_bridge *b)
{
    if (!b || b->closed) return;
    /* Connections still being made become zombies that their connected or
     * failed callback frees, if the engine runs again (serve's drain). */
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++)
        if (b->conns[i] && b->conns[i]->fd >= 0) drop_real(b->conns[i]);
    for (size_t i = 0; i < SIM_BRIDGE_ENDPOINTS_MAX; i++) {
        if (b->eps[i].fd >= 0) close(b->eps[i].fd);
        if (b->eps[i].udp >= 0) close(b->eps[i].udp);
        b->eps[i].fd = b->eps[i].udp = -1;
    }
    for (size_t i = 0; i < SIM_BRIDGE_DNS_SLOTS; i++) b->slots[i].in_use = false;
    b->closed = true;
}

void sim_bridge_free(struct sim_bridge *b)
{
    if (!b) return;
    sim_bridge_close(b);
    for (size_t i = 0; i < SIM_BRIDGE_CONNS_MAX; i++) /* zombies: no callback will come */
        if (b->conns[i]) free_conn(b->conns[i]);
    sim_bridge_tls_free(b->tls);
    free(b->pfds);
    free(b->pslot);
    free(b->pid);
    free(b->msg);
    free(b);
}

size_t sim_bridge_endpoint_count(const struct sim_bridge *b) { return b->neps; }

const struct sim_bridge_endpoint *sim_bridge_endpoint(const struct sim_bridge *b, size_t i)
{
    return i < b->neps ? &b->eps[i].pub : NULL;
}

const char *sim_bridge_fingerprint(const struct sim_bridge *b) { return b->fingerprint; }
const char *sim_bridge_cert_pem(const struct sim_bridge *b)
{
    return sim_bridge_tls_cert_pem(b->tls);
}

void sim_bridge_stats(const struct sim_bridge *b, struct sim_bridge_stats *out)
{
    *out = b->stats;
    out->open = b->nconns;
}
