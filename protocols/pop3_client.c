/* The POP3 client pass: send on entering a state, choose the next on a reply. */
#include "protocols/pop3_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/md5.h"

static const char *const state_names[POP3_CLIENT_STATE_COUNT] = {
    [POP3_CLIENT_GREETING] = "GREETING", [POP3_CLIENT_STLS] = "STLS",
    [POP3_CLIENT_TLS] = "TLS",           [POP3_CLIENT_USER] = "USER",
    [POP3_CLIENT_PASS] = "PASS",         [POP3_CLIENT_APOP] = "APOP",
    [POP3_CLIENT_STAT] = "STAT",         [POP3_CLIENT_UIDL] = "UIDL",
    [POP3_CLIENT_LIST] = "LIST",         [POP3_CLIENT_RETR] = "RETR",
    [POP3_CLIENT_DELE] = "DELE",         [POP3_CLIENT_QUIT] = "QUIT",
    [POP3_CLIENT_DONE] = "DONE",         [POP3_CLIENT_FAILED] = "FAILED",
};

const char *pop3_client_state_name(enum pop3_client_state st)
{
    return (unsigned)st < POP3_CLIENT_STATE_COUNT ? state_names[st] : NULL;
}

/* ---- the seen set ---- */

void pop3_uidl_set_init(struct pop3_uidl_set *set, char (*storage)[POP3_MAX_UIDL + 1],
                        size_t cap)
{
    set->ids = storage;
    set->cap = cap;
    set->count = 0;
}

bool pop3_uidl_set_has(const struct pop3_uidl_set *set, const char *id, size_t len)
{
    /* RFC 1939 7: unique-ids compare octet for octet (case matters). */
    for (size_t i = 0; i < set->count; i++)
        if (strlen(set->ids[i]) == len && memcmp(set->ids[i], id, len) == 0) return true;
    return false;
}

int pop3_uidl_set_add(struct pop3_uidl_set *set, const char *id, size_t len)
{
    if (!pop3_uidl_valid(id, len)) return POP3_ERR_BAD_UIDL;
    if (pop3_uidl_set_has(set, id, len)) return POP3_OK;
    if (set->count == set->cap) return POP3_ERR_NO_ROOM;
    memcpy(set->ids[set->count], id, len);
    set->ids[set->count][len] = 0;
    set->count++;
    return POP3_OK;
}

/* ---- the machine ---- */

/* One reply yields at most: REPLY, MESSAGE or SKIPPED or FAILED, STATE,
 * STARTTLS or SEND, and a second STATE (a failure goes on to QUIT). */
#define QUEUE_LEN 8

struct entry {
    size_t num;                    /* message number */
    size_t size;                   /* from LIST; 0 when unknown (UIDL) */
    char   uid[POP3_MAX_UIDL + 1]; /* from UIDL; "" when unknown (LIST) */
};

struct pop3_client {
    struct pop3_client_config cfg;
    struct pop3_uidl_set     *seen;
    struct pop3_reader       *rd;
    enum pop3_client_state    state;

    struct queued {
        int                   kind;
        struct pop3_client_ev ev;
    } queue[QUEUE_LEN];
    size_t qhead, qlen;

    char   cmd[POP3_MAX_CMD_LINE + 1];           /* the command being sent */
    char   timestamp[POP3_CLIENT_MAX_TIMESTAMP + 1]; /* "" when none */
    char   why[POP3_MAX_RESP_LINE + 64];         /* FAILED / SKIPPED text */
    bool   failed;       /* a FAILED event went out; QUIT then FAILED */
    int    err;          /* sticky reader error */

    struct entry *plan;  /* POP3_CLIENT_MAX_MESSAGES entries */
    size_t        nplan;
    size_t        next;  /* next plan entry to consider */
    size_t        cur;   /* plan entry being downloaded */
    bool          picking; /* choose the next message on the next call */
    size_t        downloaded;

    char  *body;         /* max_message octets */
    size_t max;
    size_t body_len;
    bool   damaged;      /* too big or a line too long: not kept */
    const char *damage;
};

static struct pop3_client_ev *push(struct pop3_client *c, int kind)
{
    EXPECT(c->qlen < QUEUE_LEN);
    struct queued *q = &c->queue[(c->qhead + c->qlen++) % QUEUE_LEN];
    memset(q, 0, sizeof *q);
    q->kind = kind;
    return &q->ev;
}

static void send_cmd(struct pop3_client *c, enum pop3_verb v, const char *args, bool multiline)
{
    int n = pop3_cmd_format(c->cmd, sizeof c->cmd, v, args);
    EXPECT(n > 0); /* lengths were checked in pop3_client_new() */
    struct pop3_client_ev *ev = push(c, POP3_CLI_SEND);
    ev->out = c->cmd;
    ev->out_len = (size_t)n;
    pop3_reader_expect(c->rd, multiline);
}

/* The one place the state changes; it records "from -> to" and sends what
 * the new state sends. */
static void enter(struct pop3_client *c, enum pop3_client_state to)
{
    struct pop3_client_ev *ev = push(c, POP3_CLI_STATE);
    ev->from = c->state;
    ev->to = to;
    c->state = to;
    char args[POP3_MAX_CMD_LINE];
    switch (to) {
    case POP3_CLIENT_STLS: send_cmd(c, POP3_STLS, NULL, false); break;
    case POP3_CLIENT_USER: send_cmd(c, POP3_USER, c->cfg.user, false); break;
    case POP3_CLIENT_PASS: send_cmd(c, POP3_PASS, c->cfg.pass, false); break;
    case POP3_CLIENT_APOP: {
        /* RFC 1939 7: MD5 of the timestamp (with <>) then the secret, in
         * lowercase hex. */
        struct md5 m;
        char hex[MD5_HEX_LEN + 1];
        md5_init(&m);
        md5_update(&m, c->timestamp, strlen(c->timestamp));
        md5_update(&m, c->cfg.pass, strlen(c->cfg.pass));
        md5_final_hex(&m, hex);
        snprintf(args, sizeof args, "%s %s", c->cfg.user, hex);
        send_cmd(c, POP3_APOP, args, false);
        break;
    }
    case POP3_CLIENT_STAT: send_cmd(c, POP3_STAT, NULL, false); break;
    case POP3_CLIENT_UIDL: send_cmd(c, POP3_UIDL, NULL, true); break;
    case POP3_CLIENT_LIST: send_cmd(c, POP3_LIST, NULL, true); break;
    case POP3_CLIENT_RETR:
        snprintf(args, sizeof args, "%zu", c->plan[c->cur].num);
        c->body_len = 0;
        c->damaged = false;
        send_cmd(c, POP3_RETR, args, true);
        break;
    case POP3_CLIENT_DELE:
        snprintf(args, sizeof args, "%zu", c->plan[c->cur].num);
        send_cmd(c, POP3_DELE, args, false);
        break;
    case POP3_CLIENT_QUIT: send_cmd(c, POP3_QUIT, NULL, false); break;
    case POP3_CLIENT_DONE: push(c, POP3_CLI_DONE)->msg = c->downloaded; break;
    case POP3_CLIENT_GREETING:
    case POP3_CLIENT_TLS:
    case POP3_CLIENT_FAILED:
    case POP3_CLIENT_STATE_COUNT: break;
    }
}

/* Reports why the pass failed, then says QUIT (the connection still works)
 * or stops at once (it does not). */
static void fail(struct pop3_client *c, bool quit, bool in_use, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof c->why) n = (int)sizeof c->why - 1;
    struct pop3_client_ev *ev = push(c, POP3_CLI_FAILED);
    ev->text = c->why;
    ev->text_len = (size_t)n;
    ev->in_use = in_use;
    c->failed = true;
    enter(c, quit ? POP3_CLIENT_QUIT : POP3_CLIENT_FAILED);
}

static void skipped(struct pop3_client *c, size_t i, const char *why)
{
    struct pop3_client_ev *ev = push(c, POP3_CLI_SKIPPED);
    ev->msg = c->plan[i].num;
    ev->uidl = c->plan[i].uid;
    ev->text = why;
    ev->text_len = strlen(why);
}

static void login(struct pop3_client *c)
{
    enter(c, c->cfg.apop && c->timestamp[0] ? POP3_CLIENT_APOP : POP3_CLIENT_USER);
}

/* RFC 1939 7: the timestamp is the "<...>" in the greeting, if any. */
static void find_timestamp(struct pop3_client *c, const char *t, size_t n)
{
    c->timestamp[0] = 0;
    const char *lt = memchr(t, '<', n);
    if (!lt) return;
    const char *gt = memchr(lt, '>', n - (size_t)(lt - t));
    if (!gt) return;
    size_t len = (size_t)(gt - lt) + 1;
    if (len > POP3_CLIENT_MAX_TIMESTAMP || !memchr(lt, '@', len)) return;
    memcpy(c->timestamp, lt, len);
    c->timestamp[len] = 0;
}

/* One step through the plan: skip what need not be fetched (one SKIPPED
 * event per call, so the queue stays small), RETR the next, or QUIT. */
static void pick(struct pop3_client *c)
{
    if (c->next == c->nplan) {
        c->picking = false;
        enter(c, POP3_CLIENT_QUIT);
        return;
    }
    size_t i = c->next++;
    struct entry *e = &c->plan[i];
    if (c->cfg.mode == POP3_CLIENT_LEAVE_COPY) {
        if (pop3_uidl_set_has(c->seen, e->uid, strlen(e->uid))) {
            skipped(c, i, "already downloaded");
            return;
        }
        if (c->seen->count == c->seen->cap) {
            skipped(c, i, "seen-set full: cannot remember it, left on server");
            return;
        }
    }
    if (e->size > c->max) {
        skipped(c, i, "too large, left on server");
        return;
    }
    c->picking = false;
    c->cur = i;
    enter(c, POP3_CLIENT_RETR);
}

static bool parse_num(const char *s, size_t n, size_t *out, size_t *used)
{
    size_t i = 0, v = 0;
    while (i < n && i < POP3_MAX_NUMBER_DIGITS && s[i] >= '0' && s[i] <= '9')
        v = v * 10 + (size_t)(s[i++] - '0');
    if (i == 0) return false;
    *out = v;
    *used = i;
    return true;
}

/* A line of a UIDL or LIST listing: "msg unique-id" or "msg octets"
 * (RFC 1939 5, 7). Malformed lines are ignored: the message waits. */
static void listing_line(struct pop3_client *c, const char *l, size_t n)
{
    size_t num, used, size = 0, used2;
    if (!parse_num(l, n, &num, &used) || used >= n || l[used] != ' ' || num == 0) return;
    const char *rest = l + used + 1;
    size_t rlen = n - used - 1;
    if (c->nplan == POP3_CLIENT_MAX_MESSAGES) return; /* the rest next pass */
    struct entry *e = &c->plan[c->nplan];
    if (c->state == POP3_CLIENT_UIDL) {
        if (!pop3_uidl_valid(rest, rlen)) return;
        memcpy(e->uid, rest, rlen);
        e->uid[rlen] = 0;
    } else {
        if (!parse_num(rest, rlen, &size, &used2) || used2 != rlen) return;
        e->uid[0] = 0;
    }
    e->num = num;
    e->size = size;
    c->nplan++;
}

static void body_line(struct pop3_client *c, const char *l, size_t n)
{
    if (c->damaged) return;
    if (c->body_len + n + 2 > c->max) {
        c->damaged = true;
        c->damage = "too large, left on server";
        return;
    }
    memcpy(c->body + c->body_len, l, n);
    memcpy(c->body + c->body_len + n, "\r\n", 2);
    c->body_len += n + 2;
}

/* RETR's "." arrived: hand the message over, then DELE it or go on. */
static void message_done(struct pop3_client *c)
{
    struct entry *e = &c->plan[c->cur];
    if (c->damaged) {
        skipped(c, c->cur, c->damage);
        c->picking = true;
        return;
    }
    struct pop3_client_ev *ev = push(c, POP3_CLI_MESSAGE);
    ev->msg = e->num;
    ev->uidl = e->uid;
    ev->data = c->body;
    ev->data_len = c->body_len;
    c->downloaded++;
    if (c->cfg.mode == POP3_CLIENT_LEAVE_COPY) {
        int r = pop3_uidl_set_add(c->seen, e->uid, strlen(e->uid));
        EXPECT(r == POP3_OK); /* validity and room were checked in pick() */
        c->picking = true;
        return;
    }
    enter(c, POP3_CLIENT_DELE);
}

/* The status line of the reply to what the current state sent. */
static void on_status(struct pop3_client *c, const struct pop3_reply *r)
{
    struct pop3_client_ev *ev = push(c, POP3_CLI_REPLY);
    ev->ok = r->ok;
    ev->text = r->text;
    ev->text_len = r->text_len;
    int tl = (int)r->text_len;
    switch (c->state) {
    case POP3_CLIENT_GREETING:
        if (!r->ok) {
            fail(c, false, false, "server refused the connection: %.*s", tl, r->text);
            return;
        }
        find_timestamp(c, r->text, r->text_len);
        if (c->cfg.stls) enter(c, POP3_CLIENT_STLS);
        else login(c);
        return;
    case POP3_CLIENT_STLS:
        if (!r->ok) { /* RFC 2595: never fall back to sending the password in clear */
            fail(c, true, false, "server refused STLS: %.*s", tl, r->text);
            return;
        }
        enter(c, POP3_CLIENT_TLS);
        push(c, POP3_CLI_STARTTLS);
        return;
    case POP3_CLIENT_USER:
        if (!r->ok) fail(c, true, false, "login failed at USER: %.*s", tl, r->text);
        else enter(c, POP3_CLIENT_PASS);
        return;
    case POP3_CLIENT_PASS:
    case POP3_CLIENT_APOP:
        if (r->ok) enter(c, POP3_CLIENT_STAT);
        else if (pop3_reply_has_code(r, "IN-USE"))
            fail(c, true, true, "maildrop in use by another session: %.*s", tl, r->text);
        else
            fail(c, true, false, "login failed: %.*s", tl, r->text);
        return;
    case POP3_CLIENT_STAT: {
        size_t n, used;
        if (!r->ok || !parse_num(r->text, r->text_len, &n, &used)) {
            fail(c, true, false, "STAT failed: %.*s", tl, r->text);
            return;
        }
        if (n == 0) enter(c, POP3_CLIENT_QUIT);
        else if (c->cfg.mode == POP3_CLIENT_DOWNLOAD_DELETE && c->cfg.use_list)
            enter(c, POP3_CLIENT_LIST);
        else
            enter(c, POP3_CLIENT_UIDL);
        return;
    }
    case POP3_CLIENT_UIDL:
        if (r->ok) return; /* the listing follows */
        /* RFC 1939 7: UIDL is optional. Without it a leave-a-copy pass
         * cannot tell old mail from new. */
        if (c->cfg.mode == POP3_CLIENT_LEAVE_COPY)
            fail(c, true, false, "server has no UIDL, cannot leave mail on it: %.*s", tl, r->text);
        else
            enter(c, POP3_CLIENT_LIST);
        return;
    case POP3_CLIENT_LIST:
        if (!r->ok) fail(c, true, false, "LIST failed: %.*s", tl, r->text);
        return;
    case POP3_CLIENT_RETR:
        if (!r->ok) {
            snprintf(c->why, sizeof c->why, "RETR refused: %.*s", tl, r->text);
            skipped(c, c->cur, c->why);
            c->picking = true;
        }
        return;
    case POP3_CLIENT_DELE:
        c->picking = true; /* a -ERR leaves it on the server; go on */
        return;
    case POP3_CLIENT_QUIT:
        if (!r->ok && !c->failed) /* RFC 1939 6: UPDATE went wrong */
            fail(c, false, false, "server could not remove the messages: %.*s", tl, r->text);
        else
            enter(c, c->failed ? POP3_CLIENT_FAILED : POP3_CLIENT_DONE);
        return;
    case POP3_CLIENT_TLS:
    case POP3_CLIENT_DONE:
    case POP3_CLIENT_FAILED:
    case POP3_CLIENT_STATE_COUNT: break;
    }
    EXPECT(0); /* no reply is expected in these states */
}

struct pop3_client *pop3_client_new(const struct pop3_client_config *cfg,
                                    struct pop3_uidl_set *seen)
{
    EXPECT(cfg && cfg->user && cfg->pass);
    EXPECT(seen || cfg->mode == POP3_CLIENT_DOWNLOAD_DELETE);
    /* "APOP " + user + " " + 32 hex + CRLF must fit RFC 2449 4's 255. */
    EXPECT(strlen(cfg->user) + 40 <= POP3_MAX_CMD_LINE);
    EXPECT(strlen(cfg->pass) + 7 <= POP3_MAX_CMD_LINE);
    struct pop3_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cfg = *cfg;
    c->seen = seen;
    c->max = cfg->max_message && cfg->max_message < POP3_CLIENT_MAX_MESSAGE
                 ? cfg->max_message
                 : POP3_CLIENT_MAX_MESSAGE;
    c->rd = pop3_reader_new();
    c->plan = malloc(POP3_CLIENT_MAX_MESSAGES * sizeof *c->plan);
    c->body = malloc(c->max);
    if (!c->rd || !c->plan || !c->body) {
        pop3_client_free(c);
        return NULL;
    }
    c->state = POP3_CLIENT_GREETING;
    pop3_reader_expect(c->rd, false); /* RFC 1939 4: the greeting */
    return c;
}

void pop3_client_free(struct pop3_client *c)
{
    if (!c) return;
    pop3_reader_free(c->rd);
    free(c->plan);
    free(c->body);
    free(c);
}

size_t pop3_client_feed(struct pop3_client *c, const char *in, size_t n)
{
    if (c->state == POP3_CLIENT_DONE || c->state == POP3_CLIENT_FAILED) return n;
    return pop3_reader_feed(c->rd, in, n);
}

int pop3_client_next(struct pop3_client *c, struct pop3_client_ev *ev)
{
    for (;;) {
        if (c->qlen > 0) {
            *ev = c->queue[c->qhead].ev;
            int kind = c->queue[c->qhead].kind;
            c->qhead = (c->qhead + 1) % QUEUE_LEN;
            c->qlen--;
            return kind;
        }
        if (c->err) return c->err;
        if (c->picking) {
            pick(c);
            continue;
        }
        if (c->state == POP3_CLIENT_DONE || c->state == POP3_CLIENT_FAILED ||
            c->state == POP3_CLIENT_TLS)
            return POP3_NEED_MORE;
        struct pop3_reader_ev rev;
        int k = pop3_reader_next(c->rd, &rev);
        if (k == POP3_NEED_MORE) return POP3_NEED_MORE;
        if (k < 0) {
            c->err = k;
            fail(c, false, false, "malformed response from server (%s)", pop3_strerror(k));
            continue;
        }
        switch (k) {
        case POP3_RD_STATUS: on_status(c, &rev.reply); break;
        case POP3_RD_LINE:
            if (c->state == POP3_CLIENT_RETR) body_line(c, rev.line, rev.line_len);
            else listing_line(c, rev.line, rev.line_len);
            break;
        case POP3_RD_TOO_LONG:
            c->damaged = true;
            c->damage = "a line longer than RFC 5322's 998 octets, left on server";
            break;
        case POP3_RD_END:
            if (c->state == POP3_CLIENT_RETR) {
                message_done(c);
            } else { /* the listing is complete */
                c->next = 0;
                c->picking = true;
            }
            break;
        }
    }
}

void pop3_client_tls_started(struct pop3_client *c)
{
    EXPECT(c->state == POP3_CLIENT_TLS);
    /* RFC 2595 4: nothing received before TLS counts after it. */
    pop3_reader_reset(c->rd);
    login(c);
}

void pop3_client_closed(struct pop3_client *c)
{
    if (c->state == POP3_CLIENT_DONE || c->state == POP3_CLIENT_FAILED) return;
    c->picking = false;
    if (c->state == POP3_CLIENT_QUIT && c->failed) {
        enter(c, POP3_CLIENT_FAILED); /* already reported */
        return;
    }
    fail(c, false, false, "connection closed in state %s", state_names[c->state]);
}

enum pop3_client_state pop3_client_state(const struct pop3_client *c)
{
    return c->state;
}
