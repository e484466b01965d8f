/* The POP3 server session: a command table over RFC 1939's three states. */
#include "protocols/pop3_server.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/linebuf.h"
#include "protocols/md5.h"

static const char *const state_names[POP3_SERVER_STATE_COUNT] = {
    [POP3_SERVER_AUTHORIZATION] = "AUTHORIZATION",
    [POP3_SERVER_TRANSACTION] = "TRANSACTION",
    [POP3_SERVER_UPDATE] = "UPDATE",
    [POP3_SERVER_CLOSED] = "CLOSED",
};

const char *pop3_server_state_name(enum pop3_server_state st)
{
    return (unsigned)st < POP3_SERVER_STATE_COUNT ? state_names[st] : NULL;
}

/* What a multi-line body being sent is made of. */
enum body_kind { BODY_NONE, BODY_LIST, BODY_UIDL, BODY_CAPA, BODY_MSG };

/* One command produces at most: COMMAND, REPLY, STATE, STARTTLS. */
#define QUEUE_LEN 8
/* "<pid.clock@host>": two 20-digit numbers, host up to RFC 1035 2.3.4's 255. */
#define TIMESTAMP_MAX (2 + 20 + 1 + 20 + 1 + 255 + 1)

struct pop3_server {
    struct pop3_server_config cfg;
    struct pop3_maildrop      md;
    enum pop3_server_state    state;
    struct linebuf            lb;
    char                      lbuf[POP3_MAX_CMD_LINE];

    struct queued { int kind; struct pop3_server_ev ev; } queue[QUEUE_LEN];
    size_t                    qhead, qlen;

    char   line[POP3_MAX_CMD_LINE]; /* the command being handled */
    char   reply[POP3_MAX_RESP_LINE + 1];
    char   timestamp[TIMESTAMP_MAX];
    char   user[POP3_MAX_CMD_LINE]; /* from USER or APOP, NUL-terminated */
    bool   have_user;               /* USER accepted, PASS may follow */
    bool   locked;                  /* we hold the maildrop lock */
    bool   tls;                     /* TLS active (STLS done or POP3S) */

    size_t  count;                  /* messages at lock time */
    uint8_t deleted[POP3_SERVER_MAX_MESSAGES / 8]; /* marks, RFC 1939 5 DELE */

    /* The multi-line body being sent, a chunk per DATA event. */
    enum body_kind body;
    size_t      cur;       /* LIST/UIDL: next message; MSG: byte offset */
    const char *msg;       /* MSG: the message bytes */
    size_t      msg_len;
    bool        top;       /* TOP: stop after top_left body lines */
    unsigned long top_left;
    bool        at_sol;    /* at the start of a line */
    bool        in_body;   /* past the empty line after the header */
    bool        msg_done;  /* all message lines sent, terminator pending */

    size_t update_next;    /* UPDATE: next message to consider, counting down */
    bool   update_failed;  /* a remove() failed */

    /* Last, and not cleared by pop3_server_new: only what fill_body wrote
     * is read (clearing it was most of a short session's set-up). */
    char        chunk[POP3_SERVER_CHUNK];
};

/* ---- events and the one state-change function ---- */

static struct pop3_server_ev *push(struct pop3_server *s, int kind)
{
    EXPECT(s->qlen < QUEUE_LEN);
    struct queued *q = &s->queue[(s->qhead + s->qlen++) % QUEUE_LEN];
    memset(q, 0, sizeof *q);
    q->kind = kind;
    return &q->ev;
}

static void set_state(struct pop3_server *s, enum pop3_server_state to)
{
    struct pop3_server_ev *ev = push(s, POP3_SRV_STATE);
    ev->from = s->state;
    ev->to = to;
    s->state = to;
}

static void reply(struct pop3_server *s, bool ok, const char *code,
                  const char *fmt, ...)
{
    char text[POP3_MAX_RESP_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    int n = pop3_reply_format(s->reply, sizeof s->reply, ok, code, text);
    if (n < 0) /* a user name too long to echo: say less */
        n = pop3_reply_format(s->reply, sizeof s->reply, ok, code, NULL);
    EXPECT(n > 0);
    struct pop3_server_ev *ev = push(s, POP3_SRV_REPLY);
    ev->out = s->reply;
    ev->out_len = (size_t)n;
}

/* ---- maildrop helpers ---- */

static bool is_deleted(const struct pop3_server *s, size_t m)
{
    return s->deleted[(m - 1) / 8] & (1u << ((m - 1) % 8));
}

static void totals(const struct pop3_server *s, size_t *n, size_t *octets)
{
    *n = 0;
    *octets = 0;
    for (size_t m = 1; m <= s->count; m++)
        if (!is_deleted(s, m)) {
            (*n)++;
            *octets += s->md.size(s->md.ctx, s->user, m);
        }
}

/* RFC 1939 5: a message number must exist and not be marked deleted.
 * Replies -ERR and returns false otherwise. */
static bool check_msg(struct pop3_server *s, unsigned long m)
{
    if (m == 0 || m > s->count) {
        reply(s, false, NULL, "no such message, only %zu messages in maildrop", s->count);
        return false;
    }
    if (is_deleted(s, m)) {
        reply(s, false, NULL, "message %lu already deleted", m);
        return false;
    }
    return true;
}

/* RFC 1939 4: after a good password the maildrop is locked and the session
 * enters TRANSACTION; a lock held elsewhere is [IN-USE] (RFC 2449 8.1.1). */
static void open_maildrop(struct pop3_server *s)
{
    s->have_user = false;
    if (!s->md.lock(s->md.ctx, s->user)) {
        reply(s, false, "IN-USE", "maildrop already locked");
        return;
    }
    size_t count = s->md.count(s->md.ctx, s->user);
    if (count > POP3_SERVER_MAX_MESSAGES) {
        s->md.unlock(s->md.ctx, s->user);
        reply(s, false, "SYS/PERM", "maildrop has more than %d messages",
              POP3_SERVER_MAX_MESSAGES);
        return;
    }
    s->locked = true;
    s->count = count;
    memset(s->deleted, 0, sizeof s->deleted);
    size_t n, octets;
    totals(s, &n, &octets);
    reply(s, true, NULL, "%s's maildrop has %zu messages (%zu octets)", s->user, n, octets);
    set_state(s, POP3_SERVER_TRANSACTION);
}

static void copy_arg(char *dst, size_t cap, const char *src, size_t len)
{
    EXPECT(len < cap);
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* ---- command handlers ---- */

typedef void handler_fn(struct pop3_server *s, const struct pop3_cmd *c);

static void h_user(struct pop3_server *s, const struct pop3_cmd *c)
{
    copy_arg(s->user, sizeof s->user, c->arg[0], c->arg_len[0]);
    s->have_user = true;
    /* RFC 1939 7 allows -ERR for an unknown name; we never say, so that a
     * student sees why servers don't reveal which names exist. */
    reply(s, true, NULL, "send PASS");
}

static void h_pass(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (!s->have_user) {
        reply(s, false, NULL, "give USER first");
        return;
    }
    char pass[POP3_MAX_CMD_LINE];
    copy_arg(pass, sizeof pass, c->arg[0], c->arg_len[0]);
    bool good = s->md.check_pass(s->md.ctx, s->user, pass);
    memset(pass, 0, sizeof pass);
    if (!good) {
        s->have_user = false;
        /* RFC 3206 4: [AUTH] means the credentials were wrong. */
        reply(s, false, "AUTH", "invalid user name or password");
        return;
    }
    open_maildrop(s);
}

static void h_apop(struct pop3_server *s, const struct pop3_cmd *c)
{
    copy_arg(s->user, sizeof s->user, c->arg[0], c->arg_len[0]);
    s->have_user = false;
    const char *secret = s->md.apop_secret(s->md.ctx, s->user);
    bool good = false;
    if (secret) {
        /* RFC 1939 7: digest = MD5(timestamp, including <>, + secret). */
        struct md5 m;
        char hex[MD5_HEX_LEN + 1];
        md5_init(&m);
        md5_update(&m, s->timestamp, strlen(s->timestamp));
        md5_update(&m, secret, strlen(secret));
        md5_final_hex(&m, hex);
        good = ascii_eq(c->arg[1], c->arg_len[1], hex);
    }
    if (!good) {
        reply(s, false, "AUTH", "invalid user name or password");
        return;
    }
    open_maildrop(s);
}

static void h_stat(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    size_t n, octets;
    totals(s, &n, &octets);
    reply(s, true, NULL, "%zu %zu", n, octets); /* RFC 1939 5: exact form */
}

static void h_list(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (c->nargs == 1) {
        if (check_msg(s, c->num[0]))
            reply(s, true, NULL, "%lu %zu", c->num[0],
                  s->md.size(s->md.ctx, s->user, c->num[0]));
        return;
    }
    size_t n, octets;
    totals(s, &n, &octets);
    reply(s, true, NULL, "%zu messages (%zu octets)", n, octets);
    s->body = BODY_LIST;
    s->cur = 1;
}

static void start_msg(struct pop3_server *s, unsigned long m)
{
    s->msg = s->md.read(s->md.ctx, s->user, m, &s->msg_len);
    if (!s->msg) s->msg_len = 0;
    s->body = BODY_MSG;
    s->cur = 0;
    s->at_sol = true;
    s->in_body = false;
    s->msg_done = false;
}

static void h_retr(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (!check_msg(s, c->num[0])) return;
    reply(s, true, NULL, "%zu octets", s->md.size(s->md.ctx, s->user, c->num[0]));
    start_msg(s, c->num[0]);
    s->top = false;
}

static void h_top(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (!check_msg(s, c->num[0])) return;
    reply(s, true, NULL, "top of message follows");
    start_msg(s, c->num[0]);
    s->top = true; /* RFC 1939 7: the header, the blank line, n body lines */
    s->top_left = c->num[1];
}

static void h_dele(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (!check_msg(s, c->num[0])) return;
    size_t m = c->num[0];
    s->deleted[(m - 1) / 8] |= (uint8_t)(1u << ((m - 1) % 8));
    reply(s, true, NULL, "message %zu deleted", m);
}

static void h_noop(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    reply(s, true, NULL, "");
}

static void h_rset(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    memset(s->deleted, 0, sizeof s->deleted); /* RFC 1939 5: unmark all */
    size_t n, octets;
    totals(s, &n, &octets);
    reply(s, true, NULL, "maildrop has %zu messages (%zu octets)", n, octets);
}

static void h_uidl(struct pop3_server *s, const struct pop3_cmd *c)
{
    if (c->nargs == 1) {
        if (!check_msg(s, c->num[0])) return;
        const char *id = s->md.uid(s->md.ctx, s->user, c->num[0]);
        if (!id || !pop3_uidl_valid(id, strlen(id)))
            reply(s, false, "SYS/PERM", "no unique-id for message %lu", c->num[0]);
        else
            reply(s, true, NULL, "%lu %s", c->num[0], id);
        return;
    }
    reply(s, true, NULL, "unique-id listing follows");
    s->body = BODY_UIDL;
    s->cur = 1;
}

static void h_quit(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    if (s->state == POP3_SERVER_AUTHORIZATION) {
        /* RFC 1939 5: QUIT before login ends without an UPDATE state. */
        reply(s, true, NULL, "%s POP3 server signing off", s->cfg.host);
        set_state(s, POP3_SERVER_CLOSED);
        return;
    }
    /* RFC 1939 6: the deletions happen now, in UPDATE, then the reply. */
    set_state(s, POP3_SERVER_UPDATE);
    s->update_next = s->count;
    s->update_failed = false;
}

static void h_capa(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    reply(s, true, NULL, "Capability list follows");
    s->body = BODY_CAPA;
}

static void h_stls(struct pop3_server *s, const struct pop3_cmd *c)
{
    (void)c;
    if (s->tls) {
        reply(s, false, NULL, "command not permitted when TLS active"); /* RFC 2595 4 */
        return;
    }
    if (!s->cfg.stls) {
        reply(s, false, NULL, "STLS not offered");
        return;
    }
    reply(s, true, NULL, "Begin TLS negotiation");
    /* RFC 2595 4 and RFC 3207 6's lesson: bytes sent before TLS must not be
     * acted on after it, so anything pipelined after STLS is dropped. */
    linebuf_reset(&s->lb);
    s->tls = true;
    s->have_user = false;
    push(s, POP3_SRV_STARTTLS);
}

#define IN_AUTH (1u << POP3_SERVER_AUTHORIZATION)
#define IN_TRANS (1u << POP3_SERVER_TRANSACTION)

/* RFC 1939 4-7 (which state allows what), RFC 2449 5, RFC 2595 4. */
static const struct {
    enum pop3_verb verb;
    unsigned       states;
    handler_fn    *handler;
    const char    *usage;
} commands[POP3_VERB_COUNT] = {
    {POP3_USER, IN_AUTH, h_user, "USER name"},
    {POP3_PASS, IN_AUTH, h_pass, "PASS password"},
    {POP3_APOP, IN_AUTH, h_apop, "APOP name digest"},
    {POP3_STAT, IN_TRANS, h_stat, "STAT"},
    {POP3_LIST, IN_TRANS, h_list, "LIST [msg]"},
    {POP3_RETR, IN_TRANS, h_retr, "RETR msg"},
    {POP3_DELE, IN_TRANS, h_dele, "DELE msg"},
    {POP3_NOOP, IN_TRANS, h_noop, "NOOP"},
    {POP3_RSET, IN_TRANS, h_rset, "RSET"},
    {POP3_QUIT, IN_AUTH | IN_TRANS, h_quit, "QUIT"},
    {POP3_TOP, IN_TRANS, h_top, "TOP msg lines"},
    {POP3_UIDL, IN_TRANS, h_uidl, "UIDL [msg]"},
    {POP3_CAPA, IN_AUTH | IN_TRANS, h_capa, "CAPA"},
    {POP3_STLS, IN_AUTH, h_stls, "STLS"},
};

static void dispatch(struct pop3_server *s, const char *line, size_t len, bool too_long)
{
    struct pop3_server_ev *cev = push(s, POP3_SRV_COMMAND);
    cev->verb = POP3_VERB_COUNT;
    if (too_long) {
        reply(s, false, NULL, "line too long (max %d octets)", POP3_MAX_CMD_LINE);
        return;
    }
    memcpy(s->line, line, len);
    cev->line = s->line;
    cev->line_len = len;
    struct pop3_cmd c;
    int e = pop3_cmd_parse(s->line, len, &c);
    switch (e) {
    case POP3_ERR_EMPTY: reply(s, false, NULL, "empty command"); return;
    case POP3_ERR_UNKNOWN_CMD: reply(s, false, NULL, "unknown command"); return;
    case POP3_ERR_TOO_LONG:
        reply(s, false, NULL, "line too long (max %d octets)", POP3_MAX_CMD_LINE);
        return;
    default: break;
    }
    cev->verb = c.verb;
    EXPECT(commands[c.verb].verb == c.verb);
    if (!(commands[c.verb].states & (1u << s->state))) {
        reply(s, false, NULL, "%s not allowed in %s state", pop3_verb_name(c.verb),
              state_names[s->state]);
        return;
    }
    if (e != POP3_OK) {
        reply(s, false, NULL, "usage: %s", commands[c.verb].usage);
        return;
    }
    commands[c.verb].handler(s, &c);
}

/* ---- multi-line bodies, a chunk at a time ---- */

/* Appends the next part of a message (RFC 1939 3: CRLF line ends, a
 * leading "." doubled). The stored message may use bare LF; it goes out as
 * CRLF. Returns the new fill. */
static size_t fill_msg(struct pop3_server *s, size_t o)
{
    char *out = s->chunk;
    while (!s->msg_done && o + 2 <= sizeof s->chunk) {
        if (s->cur == s->msg_len) {
            if (!s->at_sol) { /* RFC 1939 3: the last line ends in CRLF too */
                memcpy(out + o, "\r\n", 2);
                o += 2;
                s->at_sol = true;
            }
            s->msg_done = true;
            break;
        }
        if (s->top && s->in_body && s->at_sol && s->top_left == 0) {
            s->msg_done = true;
            break;
        }
        char ch = s->msg[s->cur];
        bool eol = ch == '\n' ||
                   (ch == '\r' && s->cur + 1 < s->msg_len && s->msg[s->cur + 1] == '\n');
        if (eol) {
            s->cur += ch == '\r' ? 2 : 1;
            memcpy(out + o, "\r\n", 2);
            o += 2;
            if (!s->in_body && s->at_sol)
                s->in_body = true; /* the empty line ending the header */
            else if (s->in_body && s->top)
                s->top_left--;
            s->at_sol = true;
            continue;
        }
        if (s->at_sol && ch == '.') out[o++] = '.';
        out[o++] = ch;
        s->cur++;
        s->at_sol = false;
        /* The rest of the line's text in one copy (a byte at a time was a
         * twentieth of a long run): up to its line end (LF, or the CR of
         * CRLF; another CR is text), and as far as the byte loop went, the
         * chunk's last octet left free, so chunks end where they did. */
        const char *lf = memchr(s->msg + s->cur, '\n', s->msg_len - s->cur);
        size_t run = (lf ? (size_t)(lf - s->msg) : s->msg_len) - s->cur;
        if (run && lf && lf[-1] == '\r') run--;
        size_t room = o + 1 < sizeof s->chunk ? sizeof s->chunk - 1 - o : 0;
        if (run > room) run = room;
        memcpy(out + o, s->msg + s->cur, run);
        o += run;
        s->cur += run;
    }
    return o;
}

/* Fills s->chunk with the next part of the body; returns its length. */
static size_t fill_body(struct pop3_server *s)
{
    size_t o = 0;
    const size_t cap = sizeof s->chunk;
    bool done = false;
    switch (s->body) {
    case BODY_NONE: return 0;
    case BODY_LIST: /* RFC 1939 5: "msg octets", deleted ones left out */
        while (s->cur <= s->count && o + 48 <= cap) {
            size_t m = s->cur++;
            if (!is_deleted(s, m))
                o += (size_t)snprintf(s->chunk + o, cap - o, "%zu %zu\r\n", m,
                                      s->md.size(s->md.ctx, s->user, m));
        }
        done = s->cur > s->count;
        break;
    case BODY_UIDL: /* RFC 1939 7: "msg unique-id" */
        while (s->cur <= s->count && o + 24 + POP3_MAX_UIDL <= cap) {
            size_t m = s->cur++;
            if (is_deleted(s, m)) continue;
            const char *id = s->md.uid(s->md.ctx, s->user, m);
            if (id && pop3_uidl_valid(id, strlen(id)))
                o += (size_t)snprintf(s->chunk + o, cap - o, "%zu %s\r\n", m, id);
        }
        done = s->cur > s->count;
        break;
    case BODY_CAPA: /* RFC 2449 6; AUTH-RESP-CODE RFC 3206 6; STLS RFC 2595 4 */
        o += (size_t)snprintf(s->chunk + o, cap - o,
                              "TOP\r\nUIDL\r\nUSER\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
                              "PIPELINING\r\n%s"
                              "IMPLEMENTATION %s\r\n",
                              s->cfg.stls && !s->tls ? "STLS\r\n" : "",
                              s->cfg.implementation ? s->cfg.implementation : "mailsim");
        done = true;
        break;
    case BODY_MSG:
        o = fill_msg(s, o);
        done = s->msg_done;
        break;
    }
    if (done && o + 3 <= cap) { /* RFC 1939 3: "." CRLF ends the body */
        memcpy(s->chunk + o, ".\r\n", 3);
        o += 3;
        s->body = BODY_NONE;
    }
    return o;
}

/* ---- UPDATE ---- */

/* One step of RFC 1939 6's UPDATE: remove the next marked message
 * (counting down), or when none is left, reply and close. */
static void update_step(struct pop3_server *s)
{
    while (s->update_next > 0) {
        size_t m = s->update_next--;
        if (!is_deleted(s, m)) continue;
        if (s->md.remove(s->md.ctx, s->user, m)) {
            push(s, POP3_SRV_DELETED)->msg = m;
            return;
        }
        s->update_failed = true;
    }
    size_t left = s->count;
    for (size_t m = 1; m <= s->count; m++)
        if (is_deleted(s, m)) left--;
    s->md.unlock(s->md.ctx, s->user);
    s->locked = false;
    if (s->update_failed)
        reply(s, false, NULL, "some deleted messages not removed");
    else if (left == 0)
        reply(s, true, NULL, "%s POP3 server signing off (maildrop empty)", s->cfg.host);
    else
        reply(s, true, NULL, "%s POP3 server signing off (%zu message%s left)", s->cfg.host,
              left, left == 1 ? "" : "s");
    set_state(s, POP3_SERVER_CLOSED);
}

/* ---- public ---- */

struct pop3_server *pop3_server_new(const struct pop3_server_config *cfg,
                                    const struct pop3_maildrop *md)
{
    EXPECT(cfg && cfg->host && md);
    struct pop3_server *s = malloc(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, offsetof(struct pop3_server, chunk));
    s->cfg = *cfg;
    s->md = *md;
    s->state = POP3_SERVER_AUTHORIZATION;
    s->tls = cfg->tls_active;
    linebuf_init(&s->lb, s->lbuf, sizeof s->lbuf);
    /* RFC 1939 7: the APOP timestamp is a msg-id, "<process-ID.clock@
     * hostname>", from values the caller chose (no clock here). */
    snprintf(s->timestamp, sizeof s->timestamp, "<%lu.%lu@%.255s>", cfg->pid,
             cfg->clock, cfg->host);
    reply(s, true, NULL, "POP3 server ready %s", s->timestamp);
    return s;
}

void pop3_server_free(struct pop3_server *s)
{
    if (!s) return;
    if (s->locked) s->md.unlock(s->md.ctx, s->user);
    free(s);
}

size_t pop3_server_feed(struct pop3_server *s, const char *in, size_t n)
{
    if (s->state == POP3_SERVER_CLOSED) return n;
    return linebuf_feed(&s->lb, in, n);
}

int pop3_server_next(struct pop3_server *s, struct pop3_server_ev *ev)
{
    for (;;) {
        if (s->qlen > 0) {
            *ev = s->queue[s->qhead].ev;
            int kind = s->queue[s->qhead].kind;
            s->qhead = (s->qhead + 1) % QUEUE_LEN;
            s->qlen--;
            return kind;
        }
        if (s->body != BODY_NONE) {
            size_t n = fill_body(s);
            if (n == 0) continue;
            memset(ev, 0, sizeof *ev);
            ev->out = s->chunk;
            ev->out_len = n;
            return POP3_SRV_DATA;
        }
        if (s->state == POP3_SERVER_UPDATE) {
            update_step(s);
            continue;
        }
        if (s->state == POP3_SERVER_CLOSED) return POP3_NEED_MORE;
        const char *line;
        size_t len;
        bool bare;
        enum linebuf_status st = linebuf_next(&s->lb, &line, &len, &bare);
        if (st == LINEBUF_NEED_MORE) return POP3_NEED_MORE;
        /* A bare LF is taken as a line end: RFC 1939 asks for CRLF, and
         * being lenient here costs nothing. */
        dispatch(s, line, len, st == LINEBUF_TOO_LONG);
    }
}

void pop3_server_closed(struct pop3_server *s)
{
    if (s->state == POP3_SERVER_CLOSED || s->state == POP3_SERVER_UPDATE) return;
    /* RFC 1939 6: without QUIT there is no UPDATE; nothing is deleted. */
    if (s->locked) {
        s->md.unlock(s->md.ctx, s->user);
        s->locked = false;
    }
    s->body = BODY_NONE;
    set_state(s, POP3_SERVER_CLOSED);
}

enum pop3_server_state pop3_server_state(const struct pop3_server *s)
{
    return s->state;
}
