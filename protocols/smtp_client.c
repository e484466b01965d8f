/* The SMTP client session machine. It sends on entering a state and picks
 * the next state from each reply; the wire codec (protocols/smtp.h) reads
 * the replies, formats the commands and dot-stuffs the message. */
#include "protocols/smtp_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"
#include "protocols/smtp.h"

const char *const smtp_client_state_names[SMTP_CLIENT_STATE_COUNT] = {
    "greeting", "ehlo", "helo", "starttls", "tls-handshake", "auth", "auth-user",
    "auth-pass", "vrfy", "mail", "rcpt", "data", "body", "rset", "quit", "done",
};

const char *const smtp_client_event_names[SMTP_CLIENT_EV_COUNT] = {
    "state", "command", "reply", "rcpt", "starttls", "done",
};

const char *const smtp_client_outcome_names[SMTP_CLIENT_OUTCOME_COUNT] = {
    "pending", "delivered", "partial", "failed-temporary", "failed-permanent",
};

/* The longest line one step queues: a SASL PLAIN response after 334. */
#define STEP_ROOM (SASL_PLAIN_ENCODED_MAX + 2)
_Static_assert(SMTP_CLIENT_OUT_MAX >= 2 * STEP_ROOM, "output queue too small");
/* One step queues COMMAND, STATE, REPLY, RCPT and a STARTTLS or DONE. */
#define EVQ_MAX 8
/* A reply rebuilt for the REPLY event: every line at its longest. */
#define REPLY_TEXT_MAX (SMTP_REPLY_LINES_MAX * SMTP_REPLY_LINE_MAX + 1)

struct evslot {
    struct smtp_client_event ev;
    char line[STEP_ROOM + 1]; /* COMMAND: the line without CRLF */
    char enhanced[16];
    char text[SMTP_CLIENT_TEXT_MAX];
};

struct smtp_client {
    struct smtp_client_config cfg;   /* strings borrowed */
    struct smtp_client_message msg;  /* borrowed */
    enum smtp_client_state state;
    int err;                         /* sticky SMTP_CLIENT_ERR_PROTOCOL */

    bool tls;                        /* the link runs TLS */
    bool tls_skipped;                /* STARTTLS refused, going on in clear */
    bool ehlo_ok;                    /* capabilities came from EHLO */
    struct smtp_ehlo caps;           /* what the server announced */
    bool authed, vrfy_done;
    bool plain_ir;                   /* AUTH PLAIN carried its initial response */
    bool eight_bit;                  /* the message has octets over 127 */

    bool pipelined;                  /* MAIL and the RCPTs went as one batch */
    bool data_pipelined;             /* DATA was part of the batch */
    bool batch;                      /* batch commands still to queue */
    bool mail_ok;                    /* MAIL got 250 */
    bool abandon;                    /* no DATA wanted (all/any RCPT refused) */
    bool delivered;                  /* the final reply to the message was 2xx */
    size_t rcpt_sent, rcpt_replies, accepted;
    bool data_sent;

    bool streaming;                  /* the message is being queued */
    bool body_done;                  /* ... with its final "." */
    size_t body_off;
    struct smtp_stuffer stuffer;

    bool failed;                     /* result holds the first failure */
    struct smtp_client_result result;
    struct smtp_client_rcpt_result rcpt[SMTP_CLIENT_MAX_RCPTS];

    struct smtp_reply_reader rr;
    const struct smtp_reply *reply;  /* the reply being handled */
    char reply_text[REPLY_TEXT_MAX]; /* REPLY: rebuilt */
    struct smtp_command cmd;         /* scratch for the formatter */

    char out[SMTP_CLIENT_OUT_MAX];
    size_t out_start, out_len;

    struct evslot q[EVQ_MAX];
    size_t q_head, q_len;
};

/* ---- events, output ------------------------------------------------------ */

static struct evslot *push(struct smtp_client *c, enum smtp_client_event_type t)
{
    EXPECT(c->q_len < EVQ_MAX);
    struct evslot *slot = &c->q[(c->q_head + c->q_len++) % EVQ_MAX];
    memset(&slot->ev, 0, sizeof slot->ev);
    slot->ev.type = t;
    slot->ev.verb = slot->ev.line = slot->ev.enhanced = slot->ev.reply = slot->ev.text = "";
    return slot;
}

static size_t out_room(const struct smtp_client *c)
{
    return SMTP_CLIENT_OUT_MAX - c->out_len;
}

static void out_append(struct smtp_client *c, const char *p, size_t n)
{
    EXPECT(n <= out_room(c)); /* next() keeps STEP_ROOM free before a step */
    if (c->out_start > 0) {
        memmove(c->out, c->out + c->out_start, c->out_len);
        c->out_start = 0;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

/* Queues one line (without CRLF in line) and its COMMAND event. */
static void send_line(struct smtp_client *c, const char *verb, const char *line, size_t n)
{
    struct evslot *slot = push(c, SMTP_CLIENT_EV_COMMAND);
    EXPECT(n < sizeof slot->line);
    memcpy(slot->line, line, n);
    slot->line[n] = 0;
    slot->ev.verb = verb;
    slot->ev.line = slot->line;
    slot->ev.line_len = n;
    out_append(c, line, n);
    out_append(c, "\r\n", 2);
}

/* Formats c->cmd with the codec and queues it. The fields were checked by
 * smtp_client_new(), so formatting cannot fail here. */
static void send_cmd(struct smtp_client *c)
{
    char buf[SMTP_COMMAND_LINE_MAX + 1];
    int n = smtp_format_command(&c->cmd, buf, sizeof buf);
    EXPECT(n >= 2);
    send_line(c, smtp_verb_name(c->cmd.verb), buf, (size_t)n - 2);
}

static void prepare(struct smtp_client *c, enum smtp_verb v)
{
    memset(&c->cmd, 0, sizeof c->cmd);
    c->cmd.verb = v;
}

static void send_simple(struct smtp_client *c, enum smtp_verb v)
{
    prepare(c, v);
    send_cmd(c);
}

static void prepare_mail(struct smtp_client *c)
{
    prepare(c, SMTP_MAIL);
    snprintf(c->cmd.path, sizeof c->cmd.path, "%s", c->msg.reverse_path);
    c->cmd.null_path = c->msg.reverse_path[0] == 0; /* RFC 5321 4.5.5 */
    /* RFC 1870 6: declare the size when SIZE was announced */
    c->cmd.has_size = c->caps.size && !c->cfg.no_size_param;
    c->cmd.size = c->msg.len;
    /* RFC 6152 3: BODY=8BITMIME only for 8-bit text, only when offered */
    c->cmd.body = c->eight_bit && c->caps.eightbitmime ? SMTP_BODY_8BITMIME : SMTP_BODY_NONE;
}

static void prepare_rcpt(struct smtp_client *c, size_t i)
{
    prepare(c, SMTP_RCPT);
    snprintf(c->cmd.path, sizeof c->cmd.path, "%s", c->msg.rcpts[i]);
}

/* ---- results -------------------------------------------------------------- */

static void enhanced_of(const struct smtp_reply *r, char *out, size_t cap)
{
    if (r->enh_class)
        snprintf(out, cap, "%d.%d.%d", r->enh_class, r->enh_subject, r->enh_detail);
    else
        snprintf(out, cap, "%s", "");
}

/* Records the first failure: a reply (or, local, our own reason). */
static void fail_with(struct smtp_client *c, int code, const char *enhanced, const char *text,
                      bool local)
{
    if (c->failed)
        return;
    c->failed = true;
    c->result.code = code;
    c->result.local = local;
    snprintf(c->result.enhanced, sizeof c->result.enhanced, "%s", enhanced);
    snprintf(c->result.text, sizeof c->result.text, "%s", text);
    /* a lost or garbled session is worth a retry; our own refusals are not */
    c->result.outcome = local ? SMTP_CLIENT_FAILED_PERMANENT
                        : code / 100 == 5 ? SMTP_CLIENT_FAILED_PERMANENT
                                          : SMTP_CLIENT_FAILED_TEMPORARY;
}

static void fail_reply(struct smtp_client *c)
{
    char enh[16];
    enhanced_of(c->reply, enh, sizeof enh);
    fail_with(c, c->reply->code, enh, c->reply->lines[0], false);
}

/* The outcome once the session is over. */
static void finish_result(struct smtp_client *c)
{
    struct smtp_client_result *r = &c->result;
    r->accepted = c->delivered ? c->accepted : 0;
    r->nrcpts = c->msg.nrcpts;
    if (c->failed)
        return;
    if (c->delivered) {
        r->outcome = c->accepted == c->msg.nrcpts ? SMTP_CLIENT_DELIVERED : SMTP_CLIENT_PARTIAL;
        return;
    }
    /* Not sent because recipients were refused: temporary when one of them
     * may succeed later (a 4xx, RFC 5321 4.2.1), else permanent. */
    const struct smtp_client_rcpt_result *pick = NULL;
    for (size_t i = 0; i < c->rcpt_replies; i++)
        if (c->rcpt[i].code / 100 == 4) {
            pick = &c->rcpt[i];
            break;
        }
    for (size_t i = 0; !pick && i < c->rcpt_replies; i++)
        if (c->rcpt[i].code / 100 == 5)
            pick = &c->rcpt[i];
    if (pick)
        fail_with(c, pick->code, pick->enhanced, pick->text, false);
    else /* code 0: temporary */
        fail_with(c, 0, "", "session ended before the message was sent", false);
}

/* ---- states ---------------------------------------------------------------- */

static void set_state(struct smtp_client *c, enum smtp_client_state to)
{
    EXPECT(to < SMTP_CLIENT_STATE_COUNT);
    if (c->state == to)
        return;
    struct evslot *slot = push(c, SMTP_CLIENT_EV_STATE);
    slot->ev.from = c->state;
    slot->ev.to = to;
    c->state = to;
}

static void send_b64(struct smtp_client *c, const char *s)
{
    char b64[BASE64_ENCODED_LEN(SASL_PLAIN_FIELD_MAX) + 1];
    int n = base64_encode(s, strlen(s), b64, sizeof b64);
    EXPECT(n > 0);
    send_line(c, "", b64, (size_t)n);
}

/* Clients send on entering a state (DESIGN.md convention 6). */
static void enter(struct smtp_client *c, enum smtp_client_state to)
{
    set_state(c, to);
    switch (to) {
    case SMTP_CLIENT_GREETING:
        break;
    case SMTP_CLIENT_EHLO:
    case SMTP_CLIENT_HELO:
        prepare(c, to == SMTP_CLIENT_EHLO ? SMTP_EHLO : SMTP_HELO);
        snprintf(c->cmd.domain, sizeof c->cmd.domain, "%s", c->cfg.ehlo_name);
        send_cmd(c);
        break;
    case SMTP_CLIENT_STARTTLS:
        send_simple(c, SMTP_STARTTLS);
        break;
    case SMTP_CLIENT_TLS:
        /* RFC 3207 4.2 (and the STARTTLS injection bugs): whatever arrived
         * after the 220 in the clear is not from the TLS server. Drop it. */
        smtp_reply_reader_reset(&c->rr);
        push(c, SMTP_CLIENT_EV_STARTTLS);
        break;
    case SMTP_CLIENT_AUTH: {
        char ir[SASL_PLAIN_ENCODED_MAX + 1];
        prepare(c, SMTP_AUTH);
        c->cmd.mech = c->cfg.auth_mech == SMTP_CLIENT_AUTH_LOGIN ? SMTP_AUTH_LOGIN : SMTP_AUTH_PLAIN;
        c->plain_ir = false;
        int n = c->cmd.mech == SMTP_AUTH_PLAIN
                    ? sasl_plain_encode(NULL, c->cfg.auth_user, c->cfg.auth_password, ir, sizeof ir)
                    : 0;
        if (n > 0 && (size_t)n < sizeof c->cmd.initial) {
            /* RFC 4954 4: the initial response, unless the line would pass
             * 512 octets; then it goes after an empty 334 challenge. */
            char probe[SMTP_COMMAND_LINE_MAX + 1];
            memcpy(c->cmd.initial, ir, (size_t)n + 1);
            c->cmd.has_initial = true;
            if (smtp_format_command(&c->cmd, probe, sizeof probe) > 0) {
                c->plain_ir = true;
            } else {
                c->cmd.has_initial = false;
                c->cmd.initial[0] = 0;
            }
        }
        send_cmd(c);
        break;
    }
    case SMTP_CLIENT_AUTH_USER:
        send_b64(c, c->cfg.auth_user);
        break;
    case SMTP_CLIENT_AUTH_PASS:
        send_b64(c, c->cfg.auth_password);
        break;
    case SMTP_CLIENT_VRFY:
        prepare(c, SMTP_VRFY);
        snprintf(c->cmd.arg, sizeof c->cmd.arg, "%s", c->cfg.vrfy);
        send_cmd(c);
        break;
    case SMTP_CLIENT_MAIL:
        /* RFC 2920 3.1: MAIL, the RCPTs and DATA may go as one batch; a
         * client that must see the RCPT replies first (all or nothing)
         * keeps DATA out of it. */
        c->pipelined = c->caps.pipelining && !c->cfg.no_pipelining;
        c->data_pipelined = c->pipelined && !c->cfg.all_or_nothing;
        c->batch = c->pipelined;
        prepare_mail(c);
        send_cmd(c);
        break;
    case SMTP_CLIENT_RCPT:
        if (!c->pipelined) {
            prepare_rcpt(c, c->rcpt_sent++);
            send_cmd(c);
        }
        break;
    case SMTP_CLIENT_DATA:
        if (!c->data_sent) {
            c->data_sent = true;
            send_simple(c, SMTP_DATA);
        }
        break;
    case SMTP_CLIENT_BODY:
        smtp_stuffer_init(&c->stuffer);
        c->streaming = true;
        c->body_done = false;
        c->body_off = 0;
        break;
    case SMTP_CLIENT_RSET:
        send_simple(c, SMTP_RSET);
        break;
    case SMTP_CLIENT_QUIT:
        send_simple(c, SMTP_QUIT);
        break;
    case SMTP_CLIENT_DONE:
        finish_result(c);
        push(c, SMTP_CLIENT_EV_DONE);
        break;
    case SMTP_CLIENT_STATE_COUNT:
        EXPECT(0);
    }
}

static void give_up_local(struct smtp_client *c, const char *enhanced, const char *why)
{
    fail_with(c, 0, enhanced, why, true);
    enter(c, SMTP_CLIENT_QUIT);
}

static void start_mail(struct smtp_client *c)
{
    if (c->caps.size && c->caps.size_max && c->msg.len > c->caps.size_max) {
        /* RFC 1870 5: do not send what the server said it cannot take */
        give_up_local(c, "5.3.4", "message exceeds the server's SIZE limit");
        return;
    }
    if (c->eight_bit && !c->caps.eightbitmime) {
        /* RFC 6152 3: 8-bit text only to a server that offered 8BITMIME */
        give_up_local(c, "5.6.3", "8-bit message and the server has no 8BITMIME");
        return;
    }
    enter(c, SMTP_CLIENT_MAIL);
}

/* After EHLO/HELO (or AUTH, or STARTTLS refused): the next thing to do. */
static void after_hello(struct smtp_client *c)
{
    if (!c->tls && c->cfg.tls != SMTP_CLIENT_TLS_NEVER && c->caps.starttls && !c->tls_skipped) {
        enter(c, SMTP_CLIENT_STARTTLS);
        return;
    }
    if (!c->tls && c->cfg.tls == SMTP_CLIENT_TLS_REQUIRED) {
        give_up_local(c, "5.7.10", "TLS required and STARTTLS not available");
        return;
    }
    if (c->cfg.auth_user && !c->authed) {
        bool offered = c->cfg.auth_mech == SMTP_CLIENT_AUTH_LOGIN ? c->caps.auth_login
                                                                  : c->caps.auth_plain;
        if (!offered && !c->cfg.force_auth) {
            give_up_local(c, "5.7.4", "the server offers no AUTH mechanism we use");
            return;
        }
        enter(c, SMTP_CLIENT_AUTH);
        return;
    }
    if (c->cfg.vrfy && !c->vrfy_done) {
        enter(c, SMTP_CLIENT_VRFY);
        return;
    }
    start_mail(c);
}

/* Every RCPT answered: DATA, or give the transaction up. */
static void rcpts_answered(struct smtp_client *c)
{
    c->abandon = !c->mail_ok || c->accepted == 0 ||
                 (c->cfg.all_or_nothing && c->accepted < c->msg.nrcpts);
    if (c->data_pipelined)
        enter(c, SMTP_CLIENT_DATA); /* its reply is next; DATA is already sent */
    else if (c->abandon)
        enter(c, c->mail_ok ? SMTP_CLIENT_RSET : SMTP_CLIENT_QUIT);
    else
        enter(c, SMTP_CLIENT_DATA);
}

static void on_rcpt_reply(struct smtp_client *c)
{
    const struct smtp_reply *r = c->reply;
    size_t i = c->rcpt_replies++;
    struct smtp_client_rcpt_result *rr = &c->rcpt[i];
    rr->code = r->code;
    enhanced_of(r, rr->enhanced, sizeof rr->enhanced);
    snprintf(rr->text, sizeof rr->text, "%s", r->lines[0]);
    bool ok = r->code / 100 == 2;
    if (ok && c->mail_ok)
        c->accepted++;
    struct evslot *slot = push(c, SMTP_CLIENT_EV_RCPT);
    snprintf(slot->enhanced, sizeof slot->enhanced, "%s", rr->enhanced);
    snprintf(slot->text, sizeof slot->text, "%s", rr->text);
    slot->ev.index = i;
    slot->ev.accepted = ok && c->mail_ok;
    slot->ev.code = r->code;
    slot->ev.enhanced = slot->enhanced;
    slot->ev.text = slot->text;
    if (c->rcpt_replies < c->msg.nrcpts) {
        if (!c->pipelined) {
            prepare_rcpt(c, c->rcpt_sent++);
            send_cmd(c);
        }
        return;
    }
    rcpts_answered(c);
}

/* Chooses the next state from a reply (DESIGN.md convention 6). */
static void on_reply(struct smtp_client *c)
{
    const struct smtp_reply *r = c->reply;
    int code = r->code;
    bool ok = code / 100 == 2;
    /* RFC 5321 3.8: 421 means the server is closing: no QUIT. Inside a
     * pipelined batch the other replies will not come either. */
    if (code == 421 && c->state != SMTP_CLIENT_QUIT) {
        fail_reply(c);
        enter(c, SMTP_CLIENT_DONE);
        return;
    }
    switch (c->state) {
    case SMTP_CLIENT_GREETING:
        if (code == 220) {
            enter(c, c->cfg.helo_only ? SMTP_CLIENT_HELO : SMTP_CLIENT_EHLO);
        } else { /* RFC 5321 3.1: 554 instead of 220: QUIT and go */
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_EHLO:
        if (code == 250) {
            smtp_parse_ehlo(r, &c->caps);
            c->ehlo_ok = true;
            after_hello(c);
        } else if (code == 500 || code == 502) {
            enter(c, SMTP_CLIENT_HELO); /* RFC 5321 3.2: an older server */
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_HELO:
        if (code == 250) {
            memset(&c->caps, 0, sizeof c->caps); /* HELO: no extensions */
            c->ehlo_ok = false;
            after_hello(c);
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_STARTTLS:
        if (code == 220) {
            enter(c, SMTP_CLIENT_TLS);
        } else if (c->cfg.tls == SMTP_CLIENT_TLS_REQUIRED) {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        } else { /* opportunistic: go on in the clear (RFC 3207 4.1) */
            c->tls_skipped = true;
            after_hello(c);
        }
        return;
    case SMTP_CLIENT_AUTH:
        if (code == 235) {
            c->authed = true;
            after_hello(c);
        } else if (code == 334 && c->cfg.auth_mech == SMTP_CLIENT_AUTH_LOGIN) {
            enter(c, SMTP_CLIENT_AUTH_USER);
        } else if (code == 334 && !c->plain_ir) {
            char ir[SASL_PLAIN_ENCODED_MAX + 1];
            int n = sasl_plain_encode(NULL, c->cfg.auth_user, c->cfg.auth_password, ir, sizeof ir);
            EXPECT(n > 0);
            c->plain_ir = true;
            send_line(c, "", ir, (size_t)n);
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_AUTH_USER:
        if (code == 334) {
            enter(c, SMTP_CLIENT_AUTH_PASS);
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_AUTH_PASS:
        if (code == 235) {
            c->authed = true;
            after_hello(c);
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_QUIT);
        }
        return;
    case SMTP_CLIENT_VRFY:
        c->vrfy_done = true; /* 250, 251, 252 or a refusal: only informative */
        start_mail(c);
        return;
    case SMTP_CLIENT_MAIL:
        c->mail_ok = ok;
        if (!ok)
            fail_reply(c);
        if (c->pipelined)
            enter(c, SMTP_CLIENT_RCPT); /* the RCPT replies follow anyway */
        else if (ok)
            enter(c, SMTP_CLIENT_RCPT);
        else
            enter(c, SMTP_CLIENT_QUIT);
        return;
    case SMTP_CLIENT_RCPT:
        on_rcpt_reply(c);
        return;
    case SMTP_CLIENT_DATA:
        if (code == 354 && c->abandon) {
            /* RFC 2920 3.1: DATA accepted with no recipient: end it empty */
            c->streaming = true;
            c->body_done = true;
            set_state(c, SMTP_CLIENT_BODY);
            send_line(c, "", ".", 1);
        } else if (code == 354) {
            enter(c, SMTP_CLIENT_BODY);
        } else if (c->abandon) { /* the expected 503/554 */
            enter(c, c->mail_ok ? SMTP_CLIENT_RSET : SMTP_CLIENT_QUIT);
        } else {
            fail_reply(c);
            enter(c, SMTP_CLIENT_RSET);
        }
        return;
    case SMTP_CLIENT_BODY:
        if (!c->abandon) {
            if (ok)
                c->delivered = true; /* RFC 5321 4.1.1.4: the server has it */
            else
                fail_reply(c);
        }
        enter(c, SMTP_CLIENT_QUIT);
        return;
    case SMTP_CLIENT_RSET:
        enter(c, SMTP_CLIENT_QUIT);
        return;
    case SMTP_CLIENT_QUIT:
        enter(c, SMTP_CLIENT_DONE);
        return;
    case SMTP_CLIENT_TLS:
    case SMTP_CLIENT_DONE:
    case SMTP_CLIENT_STATE_COUNT:
        break;
    }
    EXPECT(0);
}

/* The REPLY event: the reply rebuilt line by line. */
static void reply_event(struct smtp_client *c)
{
    const struct smtp_reply *r = c->reply;
    struct evslot *slot = push(c, SMTP_CLIENT_EV_REPLY);
    enhanced_of(r, slot->enhanced, sizeof slot->enhanced);
    size_t o = 0;
    for (size_t i = 0; i < r->nlines; i++) {
        int n = snprintf(c->reply_text + o, sizeof c->reply_text - o, "%d%c%s%s%s\r\n", r->code,
                         i + 1 < r->nlines ? '-' : ' ', slot->enhanced,
                         slot->enhanced[0] && r->lines[i][0] ? " " : "", r->lines[i]);
        if (n < 0 || (size_t)n >= sizeof c->reply_text - o)
            break;
        o += (size_t)n;
    }
    slot->ev.code = r->code;
    slot->ev.enhanced = slot->enhanced;
    slot->ev.reply = c->reply_text;
    slot->ev.reply_len = o;
}

/* The server sent something that is not a reply: give up, say QUIT. */
static void protocol_error(struct smtp_client *c, int err)
{
    c->err = SMTP_CLIENT_ERR_PROTOCOL;
    fail_with(c, 0, "", smtp_strerror(err), false); /* code 0: temporary */
    if (c->state != SMTP_CLIENT_QUIT)
        send_simple(c, SMTP_QUIT);
    enter(c, SMTP_CLIENT_DONE);
}

/* ---- public ---------------------------------------------------------------- */

static bool config_ok(struct smtp_client *c)
{
    const struct smtp_client_config *cfg = &c->cfg;
    const struct smtp_client_message *m = &c->msg;
    char buf[SMTP_COMMAND_LINE_MAX + 1];
    if (!cfg->ehlo_name || strlen(cfg->ehlo_name) >= sizeof c->cmd.domain)
        return false;
    prepare(c, SMTP_EHLO);
    snprintf(c->cmd.domain, sizeof c->cmd.domain, "%s", cfg->ehlo_name);
    if (smtp_format_command(&c->cmd, buf, sizeof buf) < 0)
        return false;
    if (!m->reverse_path || !m->rcpts || m->nrcpts == 0 || m->nrcpts > SMTP_CLIENT_MAX_RCPTS ||
        (!m->data && m->len > 0))
        return false;
    if (strlen(m->reverse_path) >= sizeof c->cmd.path)
        return false;
    c->caps.size = true; /* the longest MAIL line: with SIZE= and BODY= */
    c->caps.eightbitmime = true;
    c->eight_bit = true;
    prepare_mail(c);
    int n = smtp_format_command(&c->cmd, buf, sizeof buf);
    memset(&c->caps, 0, sizeof c->caps);
    c->eight_bit = false;
    if (n < 0)
        return false;
    for (size_t i = 0; i < m->nrcpts; i++) {
        if (!m->rcpts[i] || strlen(m->rcpts[i]) >= sizeof c->cmd.path || !m->rcpts[i][0])
            return false;
        prepare_rcpt(c, i);
        if (smtp_format_command(&c->cmd, buf, sizeof buf) < 0)
            return false;
    }
    if (cfg->vrfy) {
        if (strlen(cfg->vrfy) >= sizeof c->cmd.arg)
            return false;
        prepare(c, SMTP_VRFY);
        snprintf(c->cmd.arg, sizeof c->cmd.arg, "%s", cfg->vrfy);
        if (smtp_format_command(&c->cmd, buf, sizeof buf) < 0)
            return false;
    }
    if (cfg->auth_user) {
        char ir[SASL_PLAIN_ENCODED_MAX + 1];
        if (!cfg->auth_password ||
            sasl_plain_encode(NULL, cfg->auth_user, cfg->auth_password, ir, sizeof ir) < 0)
            return false;
    }
    return true;
}

/* A fresh session for c's config and message (both already checked). */
static void start(struct smtp_client *c)
{
    struct smtp_client_config cfg = c->cfg;
    struct smtp_client_message msg = c->msg;
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->msg = msg;
    for (size_t i = 0; i < msg.len; i++)
        if ((unsigned char)msg.data[i] > 127) {
            c->eight_bit = true;
            break;
        }
    c->tls = cfg.tls_active;
    c->state = SMTP_CLIENT_GREETING;
    smtp_reply_reader_init(&c->rr);
}

struct smtp_client *smtp_client_new(const struct smtp_client_config *cfg,
                                    const struct smtp_client_message *msg, int *err)
{
    if (!cfg || !msg) {
        if (err)
            *err = SMTP_CLIENT_ERR_CONFIG;
        return NULL;
    }
    struct smtp_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    c->msg = *msg;
    if (!config_ok(c)) {
        free(c);
        if (err)
            *err = SMTP_CLIENT_ERR_CONFIG;
        return NULL;
    }
    start(c);
    return c;
}

void smtp_client_reset(struct smtp_client *c)
{
    start(c);
}

void smtp_client_free(struct smtp_client *c)
{
    free(c);
}

size_t smtp_client_feed(struct smtp_client *c, const char *in, size_t n)
{
    if (c->state == SMTP_CLIENT_DONE || c->state == SMTP_CLIENT_TLS)
        return n; /* nothing more is read; before the handshake: RFC 3207 4.2 */
    return smtp_reply_reader_feed(&c->rr, in, n);
}

int smtp_client_next(struct smtp_client *c, struct smtp_client_event *ev)
{
    for (;;) {
        if (c->q_len > 0) {
            *ev = c->q[c->q_head].ev;
            c->q_head = (c->q_head + 1) % EVQ_MAX;
            c->q_len--;
            return SMTP_CLIENT_EVENT;
        }
        if (c->state == SMTP_CLIENT_DONE)
            return SMTP_CLIENT_ERR_DONE;
        if (c->state == SMTP_CLIENT_TLS || out_room(c) < STEP_ROOM)
            return SMTP_CLIENT_NEED_MORE;
        if (c->batch) { /* RFC 2920: the rest of the batch, one per step */
            if (c->rcpt_sent < c->msg.nrcpts) {
                prepare_rcpt(c, c->rcpt_sent++);
                send_cmd(c);
            } else {
                if (c->data_pipelined && !c->data_sent) {
                    c->data_sent = true;
                    send_simple(c, SMTP_DATA);
                }
                c->batch = false;
            }
            continue;
        }
        if (c->streaming && !c->body_done)
            return SMTP_CLIENT_NEED_MORE; /* the message goes out first */
        const struct smtp_reply *r;
        int st = smtp_reply_reader_next(&c->rr, &r);
        if (st == SMTP_REPLY_NEED_MORE)
            return SMTP_CLIENT_NEED_MORE;
        if (st < 0) {
            protocol_error(c, st);
            continue;
        }
        c->reply = r;
        reply_event(c);
        on_reply(c);
    }
}

/* Streams the message into the output queue as it drains. */
static void fill_body(struct smtp_client *c)
{
    if (!c->streaming || c->body_done)
        return;
    if (c->out_start > 0) {
        memmove(c->out, c->out + c->out_start, c->out_len);
        c->out_start = 0;
    }
    while (c->body_off < c->msg.len && out_room(c) > SMTP_STUFF_FINISH_MAX) {
        size_t used = 0;
        size_t w = smtp_stuffer_feed(&c->stuffer, c->msg.data + c->body_off,
                                     c->msg.len - c->body_off, &used, c->out + c->out_len,
                                     out_room(c) - SMTP_STUFF_FINISH_MAX);
        c->out_len += w;
        c->body_off += used;
        if (used == 0 && w == 0)
            break;
    }
    if (c->body_off == c->msg.len && out_room(c) >= SMTP_STUFF_FINISH_MAX) {
        int w = smtp_stuffer_finish(&c->stuffer, c->out + c->out_len, out_room(c));
        EXPECT(w > 0);
        c->out_len += (size_t)w;
        c->body_done = true; /* RFC 5321 4.1.1.4: CRLF "." CRLF */
    }
}

size_t smtp_client_output(struct smtp_client *c, const char **out)
{
    fill_body(c);
    *out = c->out + c->out_start;
    return c->out_len;
}

void smtp_client_consumed(struct smtp_client *c, size_t n)
{
    EXPECT(n <= c->out_len);
    c->out_start += n;
    c->out_len -= n;
    if (c->out_len == 0)
        c->out_start = 0;
}

int smtp_client_tls_started(struct smtp_client *c)
{
    if (c->state != SMTP_CLIENT_TLS)
        return SMTP_CLIENT_ERR_NOT_PENDING;
    /* RFC 3207 4.2: forget what the server said; ask again with EHLO */
    c->tls = true;
    c->ehlo_ok = false;
    memset(&c->caps, 0, sizeof c->caps);
    enter(c, SMTP_CLIENT_EHLO);
    return 0;
}

enum smtp_client_state smtp_client_state(const struct smtp_client *c)
{
    return c->state;
}

void smtp_client_result(const struct smtp_client *c, struct smtp_client_result *r)
{
    *r = c->result;
    if (c->state != SMTP_CLIENT_DONE) {
        r->outcome = SMTP_CLIENT_PENDING;
        r->nrcpts = c->msg.nrcpts;
    }
}

bool smtp_client_rcpt(const struct smtp_client *c, size_t i, struct smtp_client_rcpt_result *r)
{
    if (i >= c->msg.nrcpts)
        return false;
    *r = c->rcpt[i];
    return true;
}

int smtp_client_error(const struct smtp_client *c)
{
    return c->err;
}

const char *smtp_client_strerror(int status)
{
    switch (status) {
    case SMTP_CLIENT_EVENT: return "event";
    case SMTP_CLIENT_NEED_MORE: return "need a reply or output room";
    case SMTP_CLIENT_ERR_DONE: return "session over";
    case SMTP_CLIENT_ERR_CONFIG: return "unusable config or message";
    case SMTP_CLIENT_ERR_PROTOCOL: return "server sent something that is not a reply";
    case SMTP_CLIENT_ERR_NOT_PENDING: return "no TLS handshake pending";
    default: return "unknown status";
    }
}
