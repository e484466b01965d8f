/* The SMTP server session machine. Parsing and formatting are the wire
 * codec's (protocols/smtp.h); this file decides what a command means in the
 * current state and which reply it gets. */
#include "protocols/smtp_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"
#include "protocols/linebuf.h"
#include "protocols/smtp.h"

_Static_assert(SMTP_SERVER_LINE_MAX == SASL_PLAIN_ENCODED_MAX + 2,
               "a SASL PLAIN response line must fit the line store");
_Static_assert(SMTP_SERVER_LINE_MAX >= SMTP_COMMAND_LINE_MAX,
               "a command line must fit the line store");
_Static_assert(SMTP_SERVER_AUTH_FIELD_MAX == SASL_PLAIN_FIELD_MAX,
               "AUTH fields follow RFC 4616");

const char *const smtp_server_state_names[SMTP_SERVER_STATE_COUNT] = {
    "connected", "ready", "mail", "rcpt", "data", "auth", "tls-handshake", "closed",
};

const char *const smtp_server_decision_names[SMTP_SERVER_DECIDE_COUNT] = {
    "none", "mail", "rcpt", "vrfy", "auth", "data",
};

const char *const smtp_server_event_names[SMTP_SERVER_EV_COUNT] = {
    "state", "command", "reply", "mail", "rcpt", "vrfy", "auth",
    "data", "data-end", "data-abort", "starttls", "discarded", "close",
};

/* The most events one step queues: COMMAND, REPLY, STATE, STARTTLS and
 * DISCARDED for STARTTLS; a decision call adds REPLY and STATE. */
#define EVQ_MAX 12
/* Queue ids in "250 2.0.0 Ok: queued as ID" (Postfix's are 10-20 chars). */
#define QUEUE_ID_MAX 64
/* The EHLO reply: the greeting line and at most 7 keywords. */
#define EHLO_LINES_MAX 8

struct evslot {
    struct smtp_server_event ev;
    char reply[SMTP_SERVER_REPLY_MAX]; /* REPLY: the bytes queued */
    char enhanced[16];                 /* REPLY: "2.1.0" */
};

enum auth_step {
    AUTH_PLAIN_WAIT, /* "334 " sent, waiting for the PLAIN message */
    AUTH_LOGIN_USER, /* "334 VXNlcm5hbWU6" (Username:) sent */
    AUTH_LOGIN_PASS, /* "334 UGFzc3dvcmQ6" (Password:) sent */
};

struct smtp_server {
    struct smtp_server_config cfg;
    char hostname[SMTP_DOMAIN_MAX + 1];
    unsigned long max_size;       /* cfg.max_size or the default */
    size_t max_rcpts;             /* at least SMTP_SERVER_MIN_RCPTS */

    enum smtp_server_state state;
    enum smtp_server_decision pending;
    int err;                      /* sticky SMTP_SERVER_ERR_OUTPUT_FULL */
    bool tls;                     /* the link runs TLS */
    bool ehlo;                    /* the client said EHLO (not HELO) */
    bool authed;                  /* AUTH succeeded */

    size_t rcpt_ok;               /* recipients accepted in this transaction */
    size_t rcpt_tried;            /* RCPT commands answered in this transaction */
    bool in_data;                 /* reading message text (before its end) */
    bool over_size;               /* the message passed max_size: drop the rest */
    unsigned long data_size;      /* message octets so far */

    struct linebuf lb;            /* command and SASL lines */
    char lbuf[SMTP_SERVER_LINE_MAX];
    struct smtp_data_reader dr;   /* message text after 354 */
    size_t discarded;             /* bytes dropped, not yet reported */

    char line[SMTP_SERVER_LINE_MAX + 1]; /* the current line, for COMMAND */
    struct smtp_command cmd;      /* the current command, for decisions */
    enum auth_step auth_step;
    struct sasl_plain cred;       /* AUTH: the decoded credentials */

    char out[SMTP_SERVER_OUT_MAX];
    size_t out_start, out_len;

    struct evslot q[EVQ_MAX];
    size_t q_head, q_len;
};

/* ---- events, output, state ---------------------------------------------- */

static struct evslot *push(struct smtp_server *s, enum smtp_server_event_type t)
{
    EXPECT(s->q_len < EVQ_MAX);
    struct evslot *slot = &s->q[(s->q_head + s->q_len++) % EVQ_MAX];
    memset(&slot->ev, 0, sizeof slot->ev);
    slot->ev.type = t;
    slot->ev.verb = "";
    slot->ev.line = "";
    slot->ev.enhanced = "";
    slot->ev.reply = "";
    slot->ev.path = "";
    slot->ev.mechanism = "";
    slot->ev.authzid = "";
    slot->ev.user = "";
    slot->ev.password = "";
    return slot;
}

static size_t out_room(const struct smtp_server *s)
{
    return SMTP_SERVER_OUT_MAX - s->out_len;
}

/* The one place a state changes: the trace sees every "from -> to". */
static void set_state(struct smtp_server *s, enum smtp_server_state to)
{
    EXPECT(to < SMTP_SERVER_STATE_COUNT);
    if (s->state == to)
        return;
    struct evslot *slot = push(s, SMTP_SERVER_EV_STATE);
    slot->ev.from = s->state;
    slot->ev.to = to;
    s->state = to;
}

/* Queues a reply of n lines and its REPLY event. The texts are ours or were
 * checked by the decision calls, so formatting cannot fail. */
static void reply_lines(struct smtp_server *s, int code, const char *enhanced,
                        const char *const *lines, size_t n)
{
    /* RFC 2034 3: no enhanced codes on the greeting or EHLO/HELO replies,
     * and RFC 3463 classes are 2, 4 and 5 only (none on 334 or 354). */
    if (s->cfg.no_enhanced || code / 100 == 3)
        enhanced = NULL;
    struct evslot *slot = push(s, SMTP_SERVER_EV_REPLY);
    int len = smtp_format_reply(code, enhanced, lines, n, slot->reply, sizeof slot->reply);
    EXPECT(len > 0);
    snprintf(slot->enhanced, sizeof slot->enhanced, "%s", enhanced ? enhanced : "");
    slot->ev.code = code;
    slot->ev.enhanced = slot->enhanced;
    slot->ev.reply = slot->reply;
    slot->ev.reply_len = (size_t)len;
    if ((size_t)len > out_room(s)) { /* the caller answered without draining */
        s->err = SMTP_SERVER_ERR_OUTPUT_FULL;
        return;
    }
    if (s->out_start > 0) {
        memmove(s->out, s->out + s->out_start, s->out_len);
        s->out_start = 0;
    }
    memcpy(s->out + s->out_len, slot->reply, (size_t)len);
    s->out_len += (size_t)len;
}

static void reply(struct smtp_server *s, int code, const char *enhanced, const char *text)
{
    reply_lines(s, code, enhanced, &text, 1);
}

static void canned(struct smtp_server *s, int err)
{
    const struct smtp_canned_reply *r = smtp_error_reply(err);
    reply(s, r->code, r->enhanced, r->text);
}

/* Ends a mail transaction (RSET, EHLO/HELO, end of DATA; RFC 5321 4.1.1.5). */
static void end_transaction(struct smtp_server *s)
{
    s->rcpt_ok = 0;
    s->rcpt_tried = 0;
    s->in_data = false;
    s->over_size = false;
    s->data_size = 0;
    if (s->state == SMTP_SERVER_MAIL || s->state == SMTP_SERVER_RCPT ||
        s->state == SMTP_SERVER_DATA)
        set_state(s, SMTP_SERVER_READY);
}

/* ---- command handlers ---------------------------------------------------- */

static void greet_hello(struct smtp_server *s, bool ehlo)
{
    end_transaction(s); /* RFC 5321 4.1.4: EHLO/HELO reset like RSET */
    s->ehlo = ehlo;
    set_state(s, SMTP_SERVER_READY);
}

/* "foo.com greets bar.com". Both names may be 255 octets (RFC 5321
 * 4.5.3.1.2) and the line only 512: each is cut at 200 for the greeting. */
static void greeting_line(const struct smtp_server *s, char out[SMTP_REPLY_LINE_MAX])
{
    snprintf(out, SMTP_REPLY_LINE_MAX, "%.200s greets %.200s", s->hostname, s->cmd.domain);
}

static void do_helo(struct smtp_server *s)
{
    char greet[SMTP_REPLY_LINE_MAX];
    greeting_line(s, greet);
    reply(s, 250, NULL, greet); /* RFC 5321 4.1.1.1: HELO gets no extensions */
    greet_hello(s, false);
}

static bool auth_offered(const struct smtp_server *s)
{
    /* RFC 4954 4 / RFC 3207 4: a server may offer AUTH only under TLS. */
    return s->cfg.auth && (s->tls || (!s->cfg.auth_requires_tls && !s->cfg.require_tls));
}

static void do_ehlo(struct smtp_server *s)
{
    char text[EHLO_LINES_MAX][SMTP_REPLY_LINE_MAX];
    const char *lines[EHLO_LINES_MAX];
    size_t n = 0;
    greeting_line(s, text[n++]);
    if (!s->cfg.no_pipelining)
        snprintf(text[n++], sizeof text[0], "PIPELINING");     /* RFC 2920 */
    snprintf(text[n++], sizeof text[0], "SIZE %lu", s->max_size); /* RFC 1870 4 */
    if (!s->cfg.no_8bitmime)
        snprintf(text[n++], sizeof text[0], "8BITMIME");       /* RFC 6152 */
    if (!s->cfg.no_enhanced)
        snprintf(text[n++], sizeof text[0], "ENHANCEDSTATUSCODES"); /* RFC 2034 */
    if (s->cfg.starttls && !s->tls) /* RFC 3207 4.2: not again after TLS */
        snprintf(text[n++], sizeof text[0], "STARTTLS");
    if (auth_offered(s))
        snprintf(text[n++], sizeof text[0], "AUTH PLAIN LOGIN"); /* RFC 4954 3 */
    EXPECT(n <= EHLO_LINES_MAX);
    for (size_t i = 0; i < n; i++)
        lines[i] = text[i];
    reply_lines(s, 250, NULL, lines, n);
    greet_hello(s, true);
}

static void do_mail(struct smtp_server *s)
{
    const struct smtp_command *c = &s->cmd;
    if (s->cfg.require_tls && !s->tls) {
        reply(s, 530, "5.7.0", "Must issue a STARTTLS command first"); /* RFC 3207 4 */
        return;
    }
    if (s->cfg.submission && !s->authed) {
        reply(s, 530, "5.7.0", "Authentication required"); /* RFC 4954 6 */
        return;
    }
    if (!s->ehlo && (c->has_size || c->body != SMTP_BODY_NONE)) {
        /* RFC 5321 4.1.1.11 / 4.1.4: parameters exist only after EHLO */
        reply(s, 555, "5.5.4", "MAIL parameters need EHLO");
        return;
    }
    if (c->body == SMTP_BODY_8BITMIME && s->cfg.no_8bitmime) {
        reply(s, 555, "5.5.4", "BODY=8BITMIME not supported"); /* RFC 6152 3 */
        return;
    }
    if (c->has_size && c->size > s->max_size) {
        /* RFC 1870 6.1: refuse at MAIL when the declared size is too big */
        reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
        return;
    }
    s->pending = SMTP_SERVER_DECIDE_MAIL;
    struct evslot *slot = push(s, SMTP_SERVER_EV_MAIL);
    slot->ev.path = c->path;
    slot->ev.size = c->has_size ? (unsigned long)c->size : 0;
    slot->ev.body_8bit = c->body == SMTP_BODY_8BITMIME;
}

static void do_rcpt(struct smtp_server *s)
{
    if (s->rcpt_ok >= s->max_rcpts) {
        /* RFC 5321 4.5.3.1.10: "452 too many recipients" */
        reply(s, 452, "4.5.3", "Too many recipients");
        return;
    }
    s->rcpt_tried++;
    s->pending = SMTP_SERVER_DECIDE_RCPT;
    struct evslot *slot = push(s, SMTP_SERVER_EV_RCPT);
    slot->ev.path = s->cmd.path;
}

static void do_data(struct smtp_server *s)
{
    if (s->state == SMTP_SERVER_MAIL) {
        /* RFC 5321 3.3 / RFC 2920 3.1: no accepted recipient. After refused
         * RCPTs say why (554 no valid recipients), else the sequence (503). */
        if (s->rcpt_tried > 0)
            reply(s, 554, "5.5.1", "No valid recipients");
        else
            reply(s, 503, "5.5.1", "Need RCPT command");
        return;
    }
    reply(s, 354, NULL, "Start mail input; end with <CRLF>.<CRLF>");
    smtp_data_reader_reset(&s->dr);
    s->in_data = true;
    s->over_size = false;
    s->data_size = 0;
    set_state(s, SMTP_SERVER_DATA);
}

static void do_rset(struct smtp_server *s)
{
    reply(s, 250, "2.0.0", "Ok");
    end_transaction(s);
}

static void do_vrfy(struct smtp_server *s)
{
    if (s->cfg.ask_vrfy) {
        s->pending = SMTP_SERVER_DECIDE_VRFY;
        struct evslot *slot = push(s, SMTP_SERVER_EV_VRFY);
        slot->ev.path = s->cmd.arg;
        return;
    }
    /* RFC 5321 3.5.3, 7.3: a server that will not verify says 252 */
    reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void do_expn(struct smtp_server *s)
{
    reply(s, 502, "5.5.1", "EXPN not implemented"); /* RFC 5321 3.5.2, 7.3 */
}

static void do_help(struct smtp_server *s)
{
    reply(s, 214, "2.0.0",
          "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
}

static void do_noop(struct smtp_server *s)
{
    reply(s, 250, "2.0.0", "Ok");
}

static void do_quit(struct smtp_server *s)
{
    char text[SMTP_REPLY_LINE_MAX];
    snprintf(text, sizeof text, "%s Service closing transmission channel", s->hostname);
    reply(s, 221, "2.0.0", text);
    linebuf_reset(&s->lb); /* RFC 5321 4.1.1.10: nothing after QUIT counts */
    set_state(s, SMTP_SERVER_CLOSED);
    push(s, SMTP_SERVER_EV_CLOSE);
}

static void do_starttls(struct smtp_server *s)
{
    if (!s->cfg.starttls) {
        reply(s, 502, "5.5.1", "STARTTLS not available");
        return;
    }
    if (s->tls) {
        reply(s, 503, "5.5.1", "TLS already active"); /* RFC 3207 4.2 */
        return;
    }
    reply(s, 220, "2.0.0", "Ready to start TLS"); /* RFC 3207 4 */
    /* RFC 3207 4.2, CVE-2011-0411: bytes sent after STARTTLS in the clear
     * must not be read as commands once TLS is up. Drop them now. */
    size_t dropped = linebuf_pending(&s->lb);
    linebuf_reset(&s->lb);
    set_state(s, SMTP_SERVER_TLS);
    push(s, SMTP_SERVER_EV_STARTTLS);
    if (dropped > 0) {
        struct evslot *slot = push(s, SMTP_SERVER_EV_DISCARDED);
        slot->ev.discarded = dropped;
    }
}

static void auth_cancel(struct smtp_server *s, int err)
{
    canned(s, err);
    set_state(s, SMTP_SERVER_READY);
}

/* The credentials are complete: ask the caller (state stays until then). */
static void auth_decide(struct smtp_server *s)
{
    s->pending = SMTP_SERVER_DECIDE_AUTH;
    struct evslot *slot = push(s, SMTP_SERVER_EV_AUTH);
    slot->ev.mechanism = smtp_auth_mech_names[s->cmd.mech];
    slot->ev.authzid = s->cred.authzid;
    slot->ev.user = s->cred.authcid;
    slot->ev.password = s->cred.passwd;
}

/* A base64 error is the client's encoding (501 5.5.2, RFC 4954 4); a well
 * encoded but malformed or oversized message is a failed exchange (535). */
static void auth_bad(struct smtp_server *s, int err)
{
    if (err == SMTP_ERR_AUTH_CANCELLED) {
        auth_cancel(s, err);
    } else if (err == BASE64_ERR_SASL_FORMAT || err == BASE64_ERR_SASL_EMPTY ||
               err == BASE64_ERR_SASL_TOO_LONG || err == BASE64_ERR_NO_SPACE) {
        reply(s, 535, "5.7.8", "Authentication credentials invalid");
        set_state(s, SMTP_SERVER_READY);
    } else {
        auth_cancel(s, SMTP_ERR_AUTH_BASE64);
    }
}

static void auth_plain(struct smtp_server *s, const char *b64, size_t n)
{
    int r = sasl_plain_decode(b64, n, &s->cred);
    if (r < 0)
        auth_bad(s, r);
    else
        auth_decide(s);
}

/* Decodes one AUTH LOGIN field (RFC 4954 4 response syntax, the codec's
 * reader) into out[SASL_PLAIN_FIELD_MAX + 1]. Returns 0 or a negative error:
 * an SMTP_ERR_AUTH_* value, or BASE64_ERR_SASL_FORMAT for an empty field,
 * one with a NUL inside or one over 255 octets (RFC 4616 2 limits). */
static int login_field(const char *b64, size_t n, char *out)
{
    int r = smtp_parse_auth_response(b64, n, out, SASL_PLAIN_FIELD_MAX);
    if (r == SMTP_ERR_AUTH_BASE64 || r == SMTP_ERR_AUTH_CANCELLED)
        return r;
    if (r <= 0 || memchr(out, 0, (size_t)r))
        return BASE64_ERR_SASL_FORMAT;
    out[r] = 0;
    return 0;
}

static void do_auth(struct smtp_server *s)
{
    if (!s->cfg.auth) {
        reply(s, 502, "5.5.1", "AUTH not available");
        return;
    }
    if ((s->cfg.auth_requires_tls || s->cfg.require_tls) && !s->tls) {
        /* RFC 4954 4 (and 14): no plaintext password on a clear link */
        reply(s, 530, "5.7.0", "Must issue a STARTTLS command first");
        return;
    }
    if (!s->ehlo) {
        reply(s, 503, "5.5.1", "Send EHLO first"); /* RFC 4954 3: an EHLO extension */
        return;
    }
    if (s->authed) {
        reply(s, 503, "5.5.1", "Already authenticated"); /* RFC 4954 4 */
        return;
    }
    memset(&s->cred, 0, sizeof s->cred);
    const struct smtp_command *c = &s->cmd;
    if (c->mech == SMTP_AUTH_PLAIN) {
        if (c->has_initial) { /* RFC 4954 4: the initial response */
            set_state(s, SMTP_SERVER_AUTH);
            auth_plain(s, c->initial, strlen(c->initial));
        } else {
            s->auth_step = AUTH_PLAIN_WAIT;
            reply(s, 334, NULL, ""); /* RFC 4954 4: an empty challenge, "334 " */
            set_state(s, SMTP_SERVER_AUTH);
        }
        return;
    }
    if (c->has_initial) {
        set_state(s, SMTP_SERVER_AUTH);
        int r = login_field(c->initial, strlen(c->initial), s->cred.authcid);
        if (r < 0) {
            auth_bad(s, r);
            return;
        }
        s->auth_step = AUTH_LOGIN_PASS;
        reply(s, 334, NULL, "UGFzc3dvcmQ6"); /* "Password:" */
        return;
    }
    s->auth_step = AUTH_LOGIN_USER;
    reply(s, 334, NULL, "VXNlcm5hbWU6"); /* "Username:" */
    set_state(s, SMTP_SERVER_AUTH);
}

/* A line during the AUTH exchange: a SASL response, not a command. */
static void auth_line(struct smtp_server *s, const char *line, size_t len)
{
    if (len == 1 && line[0] == '*') {
        auth_cancel(s, SMTP_ERR_AUTH_CANCELLED); /* RFC 4954 4: 501 */
        return;
    }
    int r;
    switch (s->auth_step) {
    case AUTH_PLAIN_WAIT:
        auth_plain(s, line, len);
        return;
    case AUTH_LOGIN_USER:
        r = login_field(line, len, s->cred.authcid);
        if (r < 0) {
            auth_bad(s, r);
            return;
        }
        s->auth_step = AUTH_LOGIN_PASS;
        reply(s, 334, NULL, "UGFzc3dvcmQ6");
        return;
    case AUTH_LOGIN_PASS:
        r = login_field(line, len, s->cred.passwd);
        if (r < 0)
            auth_bad(s, r);
        else
            auth_decide(s);
        return;
    }
    EXPECT(0);
}

/* ---- dispatch ------------------------------------------------------------ */

typedef void (*handler_fn)(struct smtp_server *s);

#define ST(x) (1u << SMTP_SERVER_##x)
#define SESSION (ST(CONNECTED) | ST(READY) | ST(MAIL) | ST(RCPT))

/* Which command is allowed in which state (RFC 5321 4.1.4 and 3.3). A
 * command outside its states gets 503 5.5.1. */
static const struct command {
    enum smtp_verb verb;
    unsigned states;
    handler_fn fn;
} commands[] = {
    {SMTP_HELO, SESSION, do_helo},
    {SMTP_EHLO, SESSION, do_ehlo},
    {SMTP_MAIL, ST(READY), do_mail},
    {SMTP_RCPT, ST(MAIL) | ST(RCPT), do_rcpt},
    {SMTP_DATA, ST(MAIL) | ST(RCPT), do_data},
    {SMTP_RSET, SESSION, do_rset},
    {SMTP_VRFY, SESSION, do_vrfy},
    {SMTP_EXPN, SESSION, do_expn},
    {SMTP_HELP, SESSION, do_help},
    {SMTP_NOOP, SESSION, do_noop},
    {SMTP_QUIT, SESSION, do_quit},
    {SMTP_STARTTLS, ST(READY), do_starttls},
    {SMTP_AUTH, ST(READY), do_auth},
};

static const char *sequence_text(enum smtp_verb v, enum smtp_server_state st)
{
    switch (v) {
    case SMTP_RCPT:
    case SMTP_DATA:
        return "Need MAIL command";
    case SMTP_MAIL:
        return st == SMTP_SERVER_CONNECTED ? "Send HELO/EHLO first" : "Nested MAIL command";
    default:
        /* RFC 4954 4 / RFC 3207: not inside a mail transaction */
        return st == SMTP_SERVER_CONNECTED ? "Send HELO/EHLO first"
                                           : "Not permitted during a mail transaction";
    }
}

static void command_line(struct smtp_server *s, const char *line, size_t len)
{
    int r = smtp_parse_command(line, len, &s->cmd);
    struct evslot *slot = push(s, SMTP_SERVER_EV_COMMAND);
    bool known = s->cmd.verb < SMTP_VERB_COUNT && r != SMTP_ERR_LINE_TOO_LONG;
    slot->ev.verb = known ? smtp_verb_name(s->cmd.verb) : "";
    slot->ev.line = s->line;
    slot->ev.line_len = len;
    if (!known) {
        canned(s, r); /* 500 5.5.1 unknown, 500 5.5.6 too long */
        return;
    }
    const struct command *c = NULL;
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (commands[i].verb == s->cmd.verb)
            c = &commands[i];
    EXPECT(c != NULL);
    if (!(c->states & (1u << s->state))) {
        reply(s, 503, "5.5.1", sequence_text(c->verb, s->state)); /* RFC 5321 4.3.2 */
        return;
    }
    if (r < 0) {
        canned(s, r); /* 501/504/555 from the codec */
        return;
    }
    c->fn(s);
}

/* Reads one line in command or AUTH mode. Returns false when none is held. */
static bool line_step(struct smtp_server *s)
{
    const char *line;
    size_t len;
    bool bare_lf;
    enum linebuf_status st = linebuf_next(&s->lb, &line, &len, &bare_lf);
    if (st == LINEBUF_NEED_MORE)
        return false;
    if (st == LINEBUF_TOO_LONG) {
        /* RFC 5321 4.5.3.1.4, 4.5.3.1.10: 500, and the reader resyncs at LF */
        struct evslot *slot = push(s, SMTP_SERVER_EV_COMMAND);
        slot->ev.line = "";
        canned(s, SMTP_ERR_LINE_TOO_LONG);
        if (s->state == SMTP_SERVER_AUTH)
            set_state(s, SMTP_SERVER_READY);
        return true;
    }
    /* A bare LF ends a command line here (leniency for hand-typed sessions
     * through nc); in DATA only CRLF counts (the codec's reader). */
    (void)bare_lf;
    memcpy(s->line, line, len);
    s->line[len] = 0;
    if (s->state == SMTP_SERVER_AUTH) {
        struct evslot *slot = push(s, SMTP_SERVER_EV_COMMAND);
        slot->ev.line = s->line;
        slot->ev.line_len = len;
        auth_line(s, s->line, len);
    } else {
        command_line(s, s->line, len);
    }
    return true;
}

/* Moves bytes held in the line store (pipelined after DATA) into the data
 * reader, in order, before any newer byte. */
static void drain_lines_to_data(struct smtp_server *s)
{
    const char *held_bytes;
    size_t held = linebuf_peek(&s->lb, &held_bytes);
    if (held == 0)
        return;
    size_t took = smtp_data_reader_feed(&s->dr, held_bytes, held);
    const char *skip;
    linebuf_take_raw(&s->lb, &skip, took);
}

/* After the terminator: the bytes the data reader read past it, then the
 * ones still in the line store, become command input again. */
static void data_rest_to_lines(struct smtp_server *s)
{
    char held[SMTP_SERVER_LINE_MAX];
    const char *p, *rest;
    size_t m = linebuf_take_raw(&s->lb, &p, SMTP_SERVER_LINE_MAX);
    memcpy(held, p, m);
    size_t n = smtp_data_reader_take_rest(&s->dr, &rest);
    linebuf_reset(&s->lb);
    /* Both came out of the line store (the data reader gets new bytes only
     * once the store is empty), so together they fit it again. */
    EXPECT(linebuf_feed(&s->lb, rest, n) == n);
    EXPECT(linebuf_feed(&s->lb, held, m) == m);
}

/* One step in DATA. Returns 0 when more input is needed, 1 after queueing
 * events, 2 with a DATA event in *ev. */
static int data_step(struct smtp_server *s, struct smtp_server_event *ev)
{
    drain_lines_to_data(s);
    const char *data;
    size_t len;
    int r = smtp_data_reader_next(&s->dr, &data, &len);
    if (r == SMTP_DATA_NEED_MORE)
        return 0;
    if (r == SMTP_DATA_BYTES) {
        s->data_size += len;
        if (s->data_size > s->max_size)
            s->over_size = true; /* read on to the end, keep nothing */
        if (s->over_size)
            return 1;
        memset(ev, 0, sizeof *ev);
        ev->type = SMTP_SERVER_EV_DATA;
        ev->verb = ev->enhanced = ev->reply = ev->path = "";
        ev->mechanism = ev->authzid = ev->user = ev->password = "";
        ev->line = data;
        ev->line_len = len;
        return 2;
    }
    s->in_data = false;
    data_rest_to_lines(s);
    int flaw = smtp_data_reader_status(&s->dr);
    if (s->over_size || flaw) {
        struct evslot *slot = push(s, SMTP_SERVER_EV_DATA_ABORT);
        slot->ev.size = s->data_size;
        if (s->over_size) /* RFC 1870 6.2, RFC 5321 4.5.3.1.10 */
            reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
        else
            canned(s, flaw); /* bare LF 550 5.5.2, long line 500 5.5.6 */
        end_transaction(s);
        return 1;
    }
    s->pending = SMTP_SERVER_DECIDE_DATA;
    struct evslot *slot = push(s, SMTP_SERVER_EV_DATA_END);
    slot->ev.size = s->data_size;
    return 1;
}

/* ---- public -------------------------------------------------------------- */

static bool printable(const char *t, size_t max)
{
    size_t n = strlen(t);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
            return false;
    return true;
}

/* A fresh session on s: everything zeroed but the config, greeting queued. */
static void start(struct smtp_server *s, const struct smtp_server_config *cfg)
{
    char host[SMTP_DOMAIN_MAX + 1];
    snprintf(host, sizeof host, "%s", cfg->hostname); /* cfg may point into s */
    struct smtp_server_config keep = *cfg;
    memset(s, 0, sizeof *s);
    s->cfg = keep;
    memcpy(s->hostname, host, sizeof host);
    s->cfg.hostname = s->hostname;
    s->max_size = keep.max_size ? keep.max_size : SMTP_SERVER_DEFAULT_MAX_SIZE;
    s->max_rcpts = keep.max_rcpts < SMTP_SERVER_MIN_RCPTS ? SMTP_SERVER_MIN_RCPTS
                                                          : keep.max_rcpts;
    s->tls = keep.tls_active;
    s->state = SMTP_SERVER_CONNECTED;
    linebuf_init(&s->lb, s->lbuf, sizeof s->lbuf);
    smtp_data_reader_init(&s->dr);
    char text[SMTP_REPLY_LINE_MAX];
    snprintf(text, sizeof text, "%s Simple Mail Transfer Service Ready", s->hostname);
    reply(s, 220, NULL, text); /* RFC 5321 4.2, 3.1; RFC 2034: no enhanced code */
}

struct smtp_server *smtp_server_new(const struct smtp_server_config *cfg)
{
    if (!cfg || !cfg->hostname || !printable(cfg->hostname, SMTP_DOMAIN_MAX))
        return NULL;
    struct smtp_server *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    start(s, cfg);
    return s;
}

void smtp_server_reset(struct smtp_server *s)
{
    start(s, &s->cfg);
}

void smtp_server_free(struct smtp_server *s)
{
    free(s);
}

size_t smtp_server_feed(struct smtp_server *s, const char *in, size_t n)
{
    if (s->state == SMTP_SERVER_CLOSED)
        return n;
    if (s->state == SMTP_SERVER_TLS) {
        s->discarded += n; /* RFC 3207 4.2: plaintext before the handshake */
        return n;
    }
    if (s->in_data) {
        drain_lines_to_data(s);
        if (linebuf_pending(&s->lb) > 0)
            return 0;
        return smtp_data_reader_feed(&s->dr, in, n);
    }
    return linebuf_feed(&s->lb, in, n);
}

int smtp_server_next(struct smtp_server *s, struct smtp_server_event *ev)
{
    for (;;) {
        if (s->q_len > 0) {
            *ev = s->q[s->q_head].ev;
            s->q_head = (s->q_head + 1) % EVQ_MAX;
            s->q_len--;
            return SMTP_SERVER_EVENT;
        }
        if (s->err)
            return s->err;
        if (s->discarded > 0) {
            struct evslot *slot = push(s, SMTP_SERVER_EV_DISCARDED);
            slot->ev.discarded = s->discarded;
            s->discarded = 0;
            continue;
        }
        if (s->state == SMTP_SERVER_CLOSED)
            return SMTP_SERVER_ERR_CLOSED;
        if (s->pending != SMTP_SERVER_DECIDE_NONE || s->state == SMTP_SERVER_TLS)
            return SMTP_SERVER_NEED_MORE;
        /* RFC 2920 3: a pipelined batch is answered in order; stop reading
         * while a reply might not fit, until the caller drains the queue. */
        if (out_room(s) < SMTP_SERVER_REPLY_MAX)
            return SMTP_SERVER_NEED_MORE;
        if (s->in_data) {
            int r = data_step(s, ev);
            if (r == 0)
                return SMTP_SERVER_NEED_MORE;
            if (r == 2)
                return SMTP_SERVER_EVENT;
            continue;
        }
        if (!line_step(s))
            return SMTP_SERVER_NEED_MORE;
    }
}

size_t smtp_server_output(struct smtp_server *s, const char **out)
{
    *out = s->out + s->out_start;
    return s->out_len;
}

void smtp_server_consumed(struct smtp_server *s, size_t n)
{
    EXPECT(n <= s->out_len);
    s->out_start += n;
    s->out_len -= n;
    if (s->out_len == 0)
        s->out_start = 0;
}

enum smtp_server_decision smtp_server_pending(const struct smtp_server *s)
{
    return s->pending;
}

/* Whether a reply with these fields could be formatted (caller's texts). */
static bool reply_ok(int code, const char *enhanced, const char *text)
{
    char buf[SMTP_REPLY_LINE_MAX + 1];
    return smtp_format_reply(code, enhanced, &text, 1, buf, sizeof buf) > 0;
}

int smtp_server_accept(struct smtp_server *s, const char *text)
{
    switch (s->pending) {
    case SMTP_SERVER_DECIDE_MAIL:
        if (text && !reply_ok(250, "2.1.0", text))
            return SMTP_SERVER_ERR_INVALID;
        s->pending = SMTP_SERVER_DECIDE_NONE;
        reply(s, 250, "2.1.0", text ? text : "Ok");
        set_state(s, SMTP_SERVER_MAIL);
        return 0;
    case SMTP_SERVER_DECIDE_RCPT:
        if (text && !reply_ok(250, "2.1.5", text))
            return SMTP_SERVER_ERR_INVALID;
        s->pending = SMTP_SERVER_DECIDE_NONE;
        reply(s, 250, "2.1.5", text ? text : "Ok");
        s->rcpt_ok++;
        set_state(s, SMTP_SERVER_RCPT);
        return 0;
    case SMTP_SERVER_DECIDE_VRFY:
        if (!text || !reply_ok(250, "2.1.5", text))
            return SMTP_SERVER_ERR_INVALID;
        s->pending = SMTP_SERVER_DECIDE_NONE;
        reply(s, 250, "2.1.5", text); /* RFC 5321 3.5.1: the mailbox */
        return 0;
    case SMTP_SERVER_DECIDE_AUTH:
        if (text && !reply_ok(235, "2.7.0", text))
            return SMTP_SERVER_ERR_INVALID;
        s->pending = SMTP_SERVER_DECIDE_NONE;
        s->authed = true;
        memset(&s->cred, 0, sizeof s->cred); /* no password lingers */
        reply(s, 235, "2.7.0", text ? text : "Authentication successful"); /* RFC 4954 6 */
        set_state(s, SMTP_SERVER_READY);
        return 0;
    default:
        return SMTP_SERVER_ERR_NOT_PENDING;
    }
}

int smtp_server_reject(struct smtp_server *s, int code, const char *enhanced,
                       const char *text)
{
    if (s->pending == SMTP_SERVER_DECIDE_NONE)
        return SMTP_SERVER_ERR_NOT_PENDING;
    if (code < 400 || code > 599 || !text || !reply_ok(code, enhanced, text))
        return SMTP_SERVER_ERR_INVALID;
    enum smtp_server_decision d = s->pending;
    s->pending = SMTP_SERVER_DECIDE_NONE;
    reply(s, code, enhanced, text);
    if (d == SMTP_SERVER_DECIDE_AUTH) {
        memset(&s->cred, 0, sizeof s->cred);
        set_state(s, SMTP_SERVER_READY);
    } else if (d == SMTP_SERVER_DECIDE_DATA) {
        struct evslot *slot = push(s, SMTP_SERVER_EV_DATA_ABORT);
        slot->ev.size = s->data_size;
        end_transaction(s);
    }
    return 0;
}

int smtp_server_queued(struct smtp_server *s, const char *queue_id)
{
    if (s->pending != SMTP_SERVER_DECIDE_DATA)
        return SMTP_SERVER_ERR_NOT_PENDING;
    if (!queue_id || !printable(queue_id, QUEUE_ID_MAX))
        return SMTP_SERVER_ERR_INVALID;
    char text[SMTP_REPLY_LINE_MAX];
    snprintf(text, sizeof text, "Ok: queued as %s", queue_id);
    s->pending = SMTP_SERVER_DECIDE_NONE;
    reply(s, 250, "2.0.0", text);
    end_transaction(s);
    return 0;
}

int smtp_server_tls_started(struct smtp_server *s)
{
    if (s->state != SMTP_SERVER_TLS)
        return SMTP_SERVER_ERR_NOT_PENDING;
    /* RFC 3207 4.2: discard all knowledge from the client; wait for EHLO */
    s->tls = true;
    s->ehlo = false;
    s->authed = false;
    s->rcpt_ok = s->rcpt_tried = 0;
    linebuf_reset(&s->lb);
    set_state(s, SMTP_SERVER_CONNECTED);
    return 0;
}

enum smtp_server_state smtp_server_state(const struct smtp_server *s)
{
    return s->state;
}

bool smtp_server_authenticated(const struct smtp_server *s)
{
    return s->authed;
}

bool smtp_server_tls(const struct smtp_server *s)
{
    return s->tls;
}

const char *smtp_server_strerror(int status)
{
    switch (status) {
    case SMTP_SERVER_EVENT: return "event";
    case SMTP_SERVER_NEED_MORE: return "need more input, a decision or output room";
    case SMTP_SERVER_ERR_CLOSED: return "session closed";
    case SMTP_SERVER_ERR_OUTPUT_FULL: return "output queue full";
    case SMTP_SERVER_ERR_NOT_PENDING: return "no such decision pending";
    case SMTP_SERVER_ERR_INVALID: return "reply cannot be sent";
    default: return "unknown status";
    }
}
