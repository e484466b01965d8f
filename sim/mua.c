/* The sender's mail program: compose with msg.h, submit with the smtp_client
 * machine over a sim connection, file a Sent copy through a sim_device. See
 * sim/mua.h for the contract. */
#include "sim/mua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/msg.h"
#include "protocols/smtp.h"
#include "sim/device.h"

/* A line of the message as the client streams it: RFC 5321 4.5.3.1.6 caps
 * text lines at 1000 octets with CRLF; a longer piece is sent as it is. */
#define LINE_MAX_OCTETS 1024

struct mua_job {
    sim_time at;
    char from[SIM_MUA_TEXT_MAX + 1];
    char to[SIM_MUA_RCPTS_MAX][SIM_MUA_TEXT_MAX + 1];
    const char *rcpts[SIM_MUA_RCPTS_MAX]; /* pointers into to[] for the codec */
    size_t nto;                /* envelope recipients: to[0..nto) */
    size_t nhdr;               /* of which the first nhdr are in the To: field; the rest are Bcc */
    char subject[SIM_MUA_TEXT_MAX + 1];
    char *body;                /* owned until composed */
    char *msg;                 /* the composed message, owned */
    size_t len;
    struct sim_mua_result res;
    int append_action;         /* the device's action number, -1 when none */
};

struct mua_sess;

struct sim_mua {
    struct sim_engine *e;
    struct sim_net *net;
    struct sim_host *host;
    char *account, *password, *display, *submit_ip, *sent_folder;
    const char *domain;        /* points into account, after '@' */
    unsigned port;
    int64_t epoch;
    int zone_min;
    bool skip_starttls, wrong_password, auth_before_starttls, use_helo;
    struct sim_device *imap;   /* files the Sent copy; NULL without imap_ip */
    struct mua_job jobs[SIM_MUA_JOBS_MAX];
    size_t njobs;
    struct mua_sess *sessions; /* running submissions, freed with the MUA */
};

/* One submission on one connection. */
struct mua_sess {
    struct sim_mua *m;
    size_t job;
    struct smtp_client *cl;
    struct smtp_client_config cfg;
    struct smtp_client_message msg;
    struct sim_conn *c;        /* NULL until connected */
    char line[LINE_MAX_OCTETS];/* a message line not complete yet */
    size_t line_len;
    bool body_started;         /* the first message line was sent */
    bool header_done;          /* the empty line ending the header was sent */
    bool finished;             /* the result is in; free after the pump */
    bool closed;               /* the connection is gone for us */
    int busy;                  /* inside a callback: free later */
    struct mua_sess *next;
};

static char *dup_str(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void record(struct sim_mua *m, enum sim_trace_kind kind, enum sim_proto proto,
                   const struct sim_conn *c, const char *text, const char *note)
{
    sim_record_client(m->e, m->host, c, kind, proto, text, note);
}

/* The enhanced code "5.1.1" as three numbers for smtp_reply_explain. */
static const char *explain(int code, const char *enhanced)
{
    int a = 0, b = 0, c = 0;
    if (!enhanced || sscanf(enhanced, "%d.%d.%d", &a, &b, &c) != 3) a = b = c = 0;
    return smtp_reply_explain(code, a, b, c);
}

/* ---- sending the client's output, one line per sim_conn_send ------------ */

static void send_line(struct mua_sess *s, const char *p, size_t n, const char *note)
{
    if (s->c && !s->closed) sim_conn_send(s->c, SIM_DIR_C2S, p, n, note);
}

/* The note for a line of the message text (no COMMAND event names it). */
static const char *body_note(struct mua_sess *s, const char *p, size_t n)
{
    if (n == 3 && memcmp(p, ".\r\n", 3) == 0)
        return "a line holding only a dot ends the message (RFC 5321 4.1.1.4)";
    if (!s->body_started) {
        s->body_started = true;
        return "the message itself: header fields first (RFC 5322 3.6), each line as it is";
    }
    if (!s->header_done && n == 2 && p[0] == '\r') {
        s->header_done = true;
        return "the empty line ends the header; the body follows (RFC 5322 2.1)";
    }
    return NULL;
}

/* Sends everything the machine has queued. A complete line is sent on its
 * own; a piece without its LF waits in s->line for the rest. cmd_note, when
 * not NULL, explains the last complete line of the first chunk: the
 * command the COMMAND event just announced (the machine queues one command
 * per step, so it is the tail of the queue). */
static size_t flush(struct mua_sess *s, const char *cmd_note)
{
    size_t total = 0;
    const char *out;
    size_t n;
    while ((n = smtp_client_output(s->cl, &out)) > 0) {
        size_t last_lf = n;
        for (size_t i = n; i > 0; i--)
            if (out[i - 1] == '\n') {
                last_lf = i - 1;
                break;
            }
        size_t i = 0;
        while (i < n) {
            const char *lf = memchr(out + i, '\n', n - i);
            size_t take = lf ? (size_t)(lf - (out + i)) + 1 : n - i;
            if (s->line_len + take > sizeof s->line) { /* overlong: send what is held */
                send_line(s, s->line, s->line_len, NULL);
                s->line_len = 0;
            }
            if (take > sizeof s->line) {
                send_line(s, out + i, take, NULL);
            } else {
                memcpy(s->line + s->line_len, out + i, take);
                s->line_len += take;
                if (lf) {
                    const char *note;
                    bool is_cmd = cmd_note && (size_t)(lf - out) == last_lf;
                    if (is_cmd) note = cmd_note;
                    else if (smtp_client_state(s->cl) == SMTP_CLIENT_BODY)
                        note = body_note(s, s->line, s->line_len);
                    else note = NULL;
                    send_line(s, s->line, s->line_len, note);
                    s->line_len = 0;
                }
            }
            i += take;
        }
        smtp_client_consumed(s->cl, n);
        total += n;
        cmd_note = NULL;
    }
    return total;
}

/* ---- the outcome -------------------------------------------------------- */

static void job_done_append(void *ctx, struct sim_device *d, int action, bool ok)
{
    (void)d;
    struct sim_mua *m = ctx;
    for (size_t i = 0; i < m->njobs; i++)
        if (m->jobs[i].append_action == action) m->jobs[i].res.sent_copy = ok;
}

static void report_rcpt(struct mua_sess *s, const struct smtp_client_event *ev)
{
    struct sim_mua *m = s->m;
    struct mua_job *j = &m->jobs[s->job];
    char text[SIM_MUA_TEXT_MAX * 2 + SMTP_CLIENT_TEXT_MAX];
    const char *rcpt = ev->index < j->nto ? j->to[ev->index] : "?";
    if (ev->index < SIM_MUA_RCPTS_MAX) j->res.rcpt_code[ev->index] = ev->code;
    snprintf(text, sizeof text, "%s %s: %d%s%s %s", rcpt,
             ev->accepted ? "accepted" : "refused", ev->code, ev->enhanced[0] ? " " : "",
             ev->enhanced, ev->text ? ev->text : "");
    record(m, SIM_TR_ACTION, SIM_PROTO_SMTP, s->c, text, explain(ev->code, ev->enhanced));
}

static void report_done(struct mua_sess *s)
{
    struct sim_mua *m = s->m;
    struct mua_job *j = &m->jobs[s->job];
    struct smtp_client_result r;
    smtp_client_result(s->cl, &r);
    j->res.outcome = r.outcome == SMTP_CLIENT_PENDING ? SMTP_CLIENT_FAILED_TEMPORARY : r.outcome;
    j->res.accepted = r.accepted;
    j->res.code = r.code;
    char text[SMTP_CLIENT_TEXT_MAX + 128];
    const char *note;
    if (j->res.outcome == SMTP_CLIENT_DELIVERED || j->res.outcome == SMTP_CLIENT_PARTIAL) {
        snprintf(text, sizeof text, "submitted: the server took it for %zu of %zu recipients",
                 r.accepted, r.nrcpts);
        note = "the submission server has taken responsibility for the message; it now "
               "looks up each recipient's MX and relays it (RFC 5321 6.1)";
    } else if (r.code) {
        snprintf(text, sizeof text, "not sent (%s): %d %s%s%s",
                 smtp_client_outcome_names[j->res.outcome], r.code, r.enhanced,
                 r.enhanced[0] ? " " : "", r.text);
        note = explain(r.code, r.enhanced);
    } else {
        snprintf(text, sizeof text, "not sent (%s): %s",
                 smtp_client_outcome_names[j->res.outcome],
                 r.text[0] ? r.text : "the connection ended early");
        note = r.local ? "the mail program gave up by itself, before the server refused"
                       : "the session ended before the server took the message";
    }
    record(m, SIM_TR_ACTION, SIM_PROTO_SMTP, s->c, text, note);
    if (m->imap && (j->res.outcome == SMTP_CLIENT_DELIVERED ||
                    j->res.outcome == SMTP_CLIENT_PARTIAL)) {
        /* RFC 6409 leaves the Sent copy to the client: it uploads one. */
        j->append_action = sim_device_append(m->imap, m->sent_folder, j->msg, j->len,
                                             SIM_FLAG_SEEN, SIM_DEVICE_NOW);
    }
}

/* ---- the session --------------------------------------------------------- */

static void sess_unlink_free(struct mua_sess *s)
{
    struct sim_mua *m = s->m;
    for (struct mua_sess **pp = &m->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    smtp_client_free(s->cl);
    free(s);
}

static void pump(struct mua_sess *s)
{
    struct smtp_client_event ev;
    char text[64];
    for (;;) {
        if (s->finished) break;
        int r = smtp_client_next(s->cl, &ev);
        if (r == SMTP_CLIENT_NEED_MORE) {
            if (flush(s, NULL) == 0) break;
            continue;
        }
        if (r != SMTP_CLIENT_EVENT) break;
        switch (ev.type) {
        case SMTP_CLIENT_EV_STATE:
            snprintf(text, sizeof text, "%s -> %s", smtp_client_state_names[ev.from],
                     smtp_client_state_names[ev.to]);
            record(s->m, SIM_TR_STATE, SIM_PROTO_SMTP, s->c, text, "");
            break;
        case SMTP_CLIENT_EV_COMMAND: {
            const char *note = "the SASL response: user name and password, base64 (RFC 4616)";
            for (int v = 0; v < SMTP_VERB_COUNT; v++)
                if (ev.verb && strcmp(ev.verb, smtp_verb_names[v]) == 0)
                    note = smtp_command_explain((enum smtp_verb)v);
            flush(s, note);
            break;
        }
        case SMTP_CLIENT_EV_RCPT:
            report_rcpt(s, &ev);
            break;
        case SMTP_CLIENT_EV_STARTTLS:
            flush(s, NULL);
            if (s->c) sim_conn_start_tls(s->c);
            break;
        case SMTP_CLIENT_EV_DONE:
            flush(s, NULL);
            report_done(s);
            s->finished = true;
            if (s->c && !s->closed) {
                sim_conn_close(s->c, SIM_DIR_C2S);
                s->closed = true; /* our closed callback will not run */
            }
            break;
        default:
            break;
        }
    }
}

/* Runs after a callback: frees a finished session once nothing uses it. */
static void settle(struct mua_sess *s)
{
    if (s->busy == 0 && s->finished && s->closed) sess_unlink_free(s);
}

static void cb_connected(void *ctx, struct sim_conn *c)
{
    struct mua_sess *s = ctx;
    s->c = c;
}

static void cb_failed(void *ctx, enum sim_conn_failure why)
{
    struct mua_sess *s = ctx;
    struct sim_mua *m = s->m;
    struct mua_job *j = &m->jobs[s->job];
    j->res.connect_failed = true;
    j->res.failure = why;
    j->res.outcome = SMTP_CLIENT_FAILED_TEMPORARY;
    char text[160];
    snprintf(text, sizeof text, "not sent: could not reach %s port %u (%s)", m->submit_ip,
             m->port, sim_conn_failure_names[why]);
    record(m, SIM_TR_ACTION, SIM_PROTO_SMTP, NULL, text,
           why == SIM_FAIL_BLOCKED
               ? "a firewall dropped the connection: many ISPs block port 25 from home "
                 "networks, which is why mail programs submit on 587 (RFC 6409, RFC 8314)"
               : "the mail program keeps the message in its outbox and can try again later");
    s->finished = s->closed = true;
    settle(s);
}

static void cb_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    struct mua_sess *s = ctx;
    s->c = c;
    s->busy++;
    while (n > 0 && !s->finished) {
        size_t took = smtp_client_feed(s->cl, bytes, n);
        pump(s);
        if (took == 0) {
            took = smtp_client_feed(s->cl, bytes, n);
            if (took == 0) break; /* done or waiting for TLS: the rest is dropped */
            pump(s);
        }
        bytes += took;
        n -= took;
    }
    s->busy--;
    settle(s);
}

static void cb_tls(void *ctx, struct sim_conn *c)
{
    struct mua_sess *s = ctx;
    s->c = c;
    s->busy++;
    if (smtp_client_tls_started(s->cl) == 0) pump(s);
    s->busy--;
    settle(s);
}

static void cb_closed(void *ctx, struct sim_conn *c)
{
    struct mua_sess *s = ctx;
    (void)c;
    s->closed = true;
    if (!s->finished) {
        s->busy++;
        report_done(s); /* the server hung up early: a temporary failure */
        s->busy--;
        s->finished = true;
    }
    settle(s);
}

static const struct sim_client_ops client_ops = {cb_connected, cb_failed, cb_data, cb_tls,
                                                 cb_closed};

/* ---- composing and starting ----------------------------------------------- */

/* local@domain of a parsed address; false when it does not fit cap. */
static bool bare_address(const struct msg_addr *a, char *out, size_t cap)
{
    size_t l = strlen(a->local), d = strlen(a->domain);
    if (l + 1 + d + 1 > cap) return false;
    memcpy(out, a->local, l);
    out[l] = '@';
    memcpy(out + l + 1, a->domain, d + 1);
    return true;
}

static bool compose(struct sim_mua *m, size_t job)
{
    struct mua_job *j = &m->jobs[job];
    struct msg_addr from, to[SIM_MUA_RCPTS_MAX]; /* about 10 KiB */
    if (msg_addr_parse(j->from, strlen(j->from), &from) != MSG_OK) return false;
    if (m->display[0] && !strchr(j->from, '<'))
        snprintf(from.display, sizeof from.display, "%s", m->display);
    for (size_t i = 0; i < j->nto; i++)
        if (msg_addr_parse(j->to[i], strlen(j->to[i]), &to[i]) != MSG_OK) return false;
    int64_t now = m->epoch + (int64_t)(m->e->now / SIM_SEC(1));
    char id[MSG_MAX_LOCAL + MSG_MAX_DOMAIN + 64];
    size_t idlen;
    if (msg_id_build(now, job + 1, from.domain, id, sizeof id, &idlen) != MSG_OK) return false;
    struct msg_simple ms = {&from, to, j->nhdr, j->subject, now, m->zone_min, id, j->body};
    size_t cap = SIM_MUA_MESSAGE_MAX;
    char *buf = malloc(cap + 1);
    if (!buf) return false;
    size_t len;
    if (msg_build_simple(&ms, buf, cap + 1, &len) != MSG_OK) {
        free(buf);
        return false;
    }
    /* Keep only what the message needs: the job holds it until the MUA
     * is freed, and the room for the largest one is 64 KiB. */
    char *fit = realloc(buf, len + 1);
    j->msg = fit ? fit : buf;
    j->len = len;
    j->res.size = len;
    /* the envelope: the bare addresses, not the display names */
    bool ok = bare_address(&from, j->from, sizeof j->from);
    for (size_t i = 0; i < j->nto; i++) ok = ok && bare_address(&to[i], j->to[i], sizeof j->to[i]);
    return ok;
}

static void ev_start(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    struct sim_mua *m = ctx;
    size_t job = (size_t)arg;
    struct mua_job *j = &m->jobs[job];
    char text[SIM_MUA_TEXT_MAX * 2 + 64];
    snprintf(text, sizeof text, "%s sends \"%s\"", sim_host_name(m->host), j->subject);
    record(m, SIM_TR_ACTION, SIM_PROTO_SIM, NULL, text,
           "the mail program composes the message and submits it to its own server");
    bool ok = compose(m, job);
    free(j->body);
    j->body = NULL;
    if (!ok) {
        j->res.outcome = SMTP_CLIENT_FAILED_PERMANENT;
        record(m, SIM_TR_ACTION, SIM_PROTO_SIM, NULL, "not sent: the message could not be composed",
               "an address, the subject or a body line breaks RFC 5322's rules or limits");
        return;
    }
    /* the local "Sent" view of the mail program (RFC 5322 message as composed) */
    struct sim_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SIM_TR_MAIL;
    ev.proto = SIM_PROTO_STORE;
    ev.from = sim_host_name(m->host);
    ev.text = "composed message kept in the mail program's Sent view";
    ev.note = "the mail program keeps what it sends; the server never sees this copy";
    ev.mail.change = SIM_MAIL_ADDED;
    ev.mail.owner = sim_host_name(m->host);
    ev.mail.account = m->account;
    ev.mail.folder = m->sent_folder;
    ev.mail.uid = (uint32_t)job + 1;
    ev.mail.flags = SIM_FLAG_SEEN;
    ev.mail.size = j->len;
    ev.mail.subject = j->subject;
    ev.mail.from = j->from;
    sim_record(m->e, &ev);

    struct mua_sess *s = calloc(1, sizeof *s);
    if (!s) {
        m->e->failed = 1;
        return;
    }
    s->m = m;
    s->job = job;
    for (size_t i = 0; i < j->nto; i++) j->rcpts[i] = j->to[i];
    s->cfg.ehlo_name = sim_host_name(m->host);
    /* RFC 8314 3.3: 465 is TLS from the first byte; 587 upgrades (RFC 3207) */
    s->cfg.tls_active = m->port == 465;
    bool clear = m->skip_starttls || m->auth_before_starttls || m->use_helo;
    s->cfg.tls = clear ? SMTP_CLIENT_TLS_NEVER : SMTP_CLIENT_TLS_IF_OFFERED;
    s->cfg.helo_only = m->use_helo;
    /* Port 25 is the relay port: nobody logs in there (RFC 6409 1), so a
     * program using it offers its mail like a server would, and a server
     * takes it only for its own domains (otherwise: relay denied). */
    bool relay_port = m->port == 25;
    if ((!clear && !relay_port) || m->auth_before_starttls) {
        s->cfg.auth_user = m->account;
        s->cfg.auth_password = m->wrong_password ? "not-the-password" : m->password;
    }
    s->cfg.force_auth = m->auth_before_starttls;
    s->cfg.auth_mech = SMTP_CLIENT_AUTH_PLAIN;
    s->msg.reverse_path = j->from;
    s->msg.rcpts = j->rcpts;
    s->msg.nrcpts = j->nto;
    s->msg.data = j->msg;
    s->msg.len = j->len;
    s->cl = smtp_client_new(&s->cfg, &s->msg, NULL);
    if (!s->cl) {
        free(s);
        j->res.outcome = SMTP_CLIENT_FAILED_PERMANENT;
        record(m, SIM_TR_ACTION, SIM_PROTO_SMTP, NULL,
               "not sent: an address or the credentials cannot be carried by SMTP",
               "RFC 5321 4.5.3.1 limits paths; RFC 4616 limits SASL fields to 255 octets");
        return;
    }
    s->next = m->sessions;
    m->sessions = s;
    j->res.nrcpts = j->nto;
    sim_net_connect(m->net, m->host, m->submit_ip, m->port, &client_ops, s);
}

/* ---- public ---------------------------------------------------------------- */

struct sim_mua *sim_mua_new(struct sim_engine *e, struct sim_net *net, struct sim_host *host,
                            const struct sim_mua_config *cfg)
{
    if (!e || !net || !host || !cfg || !cfg->account || !cfg->password || !cfg->submit_ip ||
        !cfg->submit_port || !cfg->account[0] || !cfg->password[0])
        return NULL;
    const char *at = strrchr(cfg->account, '@');
    if (!at || !at[1] || strlen(cfg->account) > SIM_MUA_TEXT_MAX) return NULL;
    struct sim_mua *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->e = e;
    m->net = net;
    m->host = host;
    m->account = dup_str(cfg->account);
    m->password = dup_str(cfg->password);
    m->display = dup_str(cfg->display_name);
    m->submit_ip = dup_str(cfg->submit_ip);
    m->sent_folder = dup_str(cfg->sent_folder ? cfg->sent_folder : "Sent");
    m->port = cfg->submit_port;
    m->epoch = cfg->epoch;
    m->zone_min = cfg->zone_min;
    m->skip_starttls = cfg->skip_starttls;
    m->wrong_password = cfg->wrong_password;
    m->auth_before_starttls = cfg->auth_before_starttls;
    m->use_helo = cfg->use_helo;
    if (!m->account || !m->password || !m->display || !m->submit_ip || !m->sent_folder) {
        sim_mua_free(m);
        return NULL;
    }
    m->domain = strrchr(m->account, '@') + 1;
    if (cfg->imap_ip) {
        struct sim_device_config dc;
        memset(&dc, 0, sizeof dc);
        dc.proto = SIM_DEVICE_IMAP;
        dc.account = cfg->account;
        dc.password = cfg->password;
        dc.server_ip = cfg->imap_ip;
        dc.port = cfg->imap_port ? cfg->imap_port : 993;
        dc.epoch = cfg->epoch;
        dc.zone_min = cfg->zone_min;
        dc.upload_only = true;
        m->imap = sim_device_new(e, net, host, &dc);
        if (!m->imap) {
            sim_mua_free(m);
            return NULL;
        }
        sim_device_on_done(m->imap, job_done_append, m);
    }
    return m;
}

void sim_mua_free(struct sim_mua *m)
{
    if (!m) return;
    while (m->sessions) {
        struct mua_sess *s = m->sessions;
        m->sessions = s->next;
        smtp_client_free(s->cl);
        free(s);
    }
    for (size_t i = 0; i < m->njobs; i++) {
        free(m->jobs[i].body);
        free(m->jobs[i].msg);
    }
    sim_device_free(m->imap);
    free(m->account);
    free(m->password);
    free(m->display);
    free(m->submit_ip);
    free(m->sent_folder);
    free(m);
}

static bool fits(const char *s)
{
    return strlen(s) <= SIM_MUA_TEXT_MAX;
}

int sim_mua_send(struct sim_mua *m, const char *from, const char *const *to, size_t nto,
                 const char *subject, const char *body, sim_time at)
{
    if (nto == 0) return -1;
    return sim_mua_send_bcc(m, from, to, nto, NULL, 0, subject, body, at);
}

int sim_mua_send_bcc(struct sim_mua *m, const char *from, const char *const *to, size_t nto,
                     const char *const *bcc, size_t nbcc, const char *subject, const char *body,
                     sim_time at)
{
    if (!m || m->njobs >= SIM_MUA_JOBS_MAX || nto + nbcc == 0 ||
        nto + nbcc > SIM_MUA_RCPTS_MAX || (nto && !to) || (nbcc && !bcc))
        return -1;
    if (!from) from = m->account;
    if (!subject) subject = "";
    if (!body) body = "";
    if (!fits(from) || !fits(subject) || strlen(body) > SIM_MUA_MESSAGE_MAX) return -1;
    for (size_t i = 0; i < nto; i++)
        if (!to[i] || !fits(to[i])) return -1;
    for (size_t i = 0; i < nbcc; i++)
        if (!bcc[i] || !fits(bcc[i])) return -1;
    size_t job = m->njobs;
    struct mua_job *j = &m->jobs[job];
    memset(j, 0, sizeof *j);
    j->body = dup_str(body);
    if (!j->body) return -1;
    snprintf(j->from, sizeof j->from, "%s", from);
    for (size_t i = 0; i < nto; i++) snprintf(j->to[i], sizeof j->to[i], "%s", to[i]);
    for (size_t i = 0; i < nbcc; i++) snprintf(j->to[nto + i], sizeof j->to[nto + i], "%s", bcc[i]);
    j->nto = nto + nbcc;
    j->nhdr = nto;
    snprintf(j->subject, sizeof j->subject, "%s", subject);
    j->append_action = -1;
    j->res.nrcpts = nto + nbcc;
    j->at = at;
    m->njobs++;
    sim_time delay = (at == SIM_MUA_NOW || at <= m->e->now) ? 0 : at - m->e->now;
    sim_after(m->e, delay, ev_start, m, job);
    return (int)job;
}

bool sim_mua_result(const struct sim_mua *m, int job, struct sim_mua_result *r)
{
    if (!m || job < 0 || (size_t)job >= m->njobs) return false;
    *r = m->jobs[job].res;
    return true;
}

const char *sim_mua_message(const struct sim_mua *m, int job, size_t *len)
{
    if (!m || job < 0 || (size_t)job >= m->njobs || !m->jobs[job].msg) return NULL;
    *len = m->jobs[job].len;
    return m->jobs[job].msg;
}
