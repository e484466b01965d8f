/* A recipient's device: IMAP sync (imap_client), IMAP commands the sync
 * machine does not send (APPEND, COPY, STORE/EXPUNGE in other folders;
 * formatted by imap_cmd_format, read by imap_resp_reader), and POP3
 * download (pop3_client), each hosted on a sim connection. See
 * sim/device.h for the contract. */
#include "sim/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/explain.h"
#include "protocols/imap.h"
#include "protocols/imap_client.h"
#include "protocols/msg.h"
#include "protocols/pop3.h"
#include "protocols/pop3_client.h"

const char *const sim_device_proto_names[SIM_DEVICE_PROTO_COUNT] = {"imap", "pop3"};

/* RFC 3501 6.2.1 / RFC 2595 4: these ports start in the clear and upgrade. */
#define IMAP_STARTTLS_PORT 143
#define POP3_STLS_PORT 110
/* A folder name kept for an action (IMAP_MBX_NAME_MAX in the codec). */
#define FOLDER_MAX IMAP_MBX_NAME_MAX

/* What the timeline asked for; the names start the SIM_TR_ACTION text. */
enum act_kind { ACT_CHECK, ACT_READ, ACT_FLAG, ACT_UNFLAG, ACT_DELETE, ACT_MOVE, ACT_APPEND,
                ACT_STOP, ACT_COUNT };

static const char *const act_names[ACT_COUNT] = {"check mail", "read", "flag", "unflag",
                                                 "delete", "move", "upload", "stop"};

struct dev_action {
    int id;                    /* -1 for a periodic check */
    enum act_kind kind;
    char folder[FOLDER_MAX + 1];
    char dest[FOLDER_MAX + 1];
    uint32_t uid;
    char *bytes;               /* APPEND: owned */
    size_t len;
    unsigned flags;
    struct sim_device *d;
    struct dev_action *next;   /* in the ready queue */
    struct dev_action *next_pending; /* scheduled, not yet due */
};

/* A ring: the oldest entry is msgs[head]. Dropping it when the view is
 * full (every new message, once a folder holds SIM_DEVICE_MSGS_MAX) is
 * then one step, not a move of the whole table. */
struct dev_folder {
    char name[FOLDER_MAX + 1];
    size_t head, n;
    struct sim_device_msg msgs[SIM_DEVICE_MSGS_MAX];
};

/* The i-th entry, from the oldest. */
static struct sim_device_msg *entry(struct dev_folder *f, size_t i)
{
    return &f->msgs[(f->head + i) % SIM_DEVICE_MSGS_MAX];
}

static const struct sim_device_msg *entry_c(const struct dev_folder *f, size_t i)
{
    return &f->msgs[(f->head + i) % SIM_DEVICE_MSGS_MAX];
}

/* The command runner's states: a client of our own for the IMAP commands
 * the sync machine does not send. It sends on entering a state and picks
 * the next one on the tagged reply, like the codec's machines. */
enum ops_state {
    OPS_GREETING, OPS_STARTTLS, OPS_TLS, OPS_LOGIN, OPS_SELECT, OPS_APPEND, OPS_CREATE,
    OPS_COPY, OPS_STORE, OPS_EXPUNGE, OPS_LOGOUT, OPS_CLOSED, OPS_STATE_COUNT
};
static const char *const ops_state_names[OPS_STATE_COUNT] = {
    "greeting", "starttls", "tls", "login", "select", "append", "create", "copy",
    "store", "expunge", "logout", "closed"};

enum sess_kind { S_SYNC, S_OPS, S_POP3 };

struct dsess {
    struct sim_device *d;
    enum sess_kind kind;
    struct sim_conn *c;
    struct dev_action *act;    /* the action it carries out; NULL when idling */
    bool ok;                   /* false once a step it needed failed */
    bool finished, closed;
    int busy;
    struct dsess *next;
    /* S_SYNC */
    struct imap_client *ic;
    /* S_POP3 */
    struct pop3_client *pc;
    /* S_OPS */
    struct imap_resp_reader *rd;
    enum ops_state st;
    unsigned tagn;
    char tag[16];
    char *cmd;                 /* the command being sent, with its literal */
    size_t cmd_len, cap;
    size_t splits[4], nsplits, split_i;
    uint32_t new_uid;          /* APPENDUID or COPYUID: where it went */
    bool created;              /* CREATE was tried once after [TRYCREATE] */
};

struct sim_device {
    struct sim_engine *e;
    struct sim_net *net;
    struct sim_host *host;
    struct sim_device_config cfg;
    char *account, *password, *server_ip;
    struct dev_folder *folders[SIM_DEVICE_FOLDERS_MAX];
    struct imap_client_cache cache;  /* INBOX as the sync machine knows it */
    char (*uidl_store)[POP3_MAX_UIDL + 1];
    struct pop3_uidl_set seen;
    uint32_t pop_next_uid;           /* POP3: the device's own numbering */
    struct msg_header hdr;           /* scratch for subject and from */
    struct dev_action *ready, *ready_tail;
    struct dev_action *pending;      /* scheduled in the engine, not yet due */
    size_t outstanding;              /* scheduled or ready actions */
    int next_id;
    struct dev_action *running;      /* the action a session carries out */
    struct dsess *sessions;
    struct dsess *idle;              /* the kept-open IDLE session */
    bool periodic, stopped, check_waiting;
    struct sim_device_stats stats;
    sim_device_done_fn done_fn;
    void *done_ctx;
};

static void run_next(struct sim_device *d);

static void ev_kick(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    run_next(ctx);
}

/* ---- trace -------------------------------------------------------------- */

static void record(struct sim_device *d, enum sim_trace_kind kind, enum sim_proto proto,
                   const struct sim_conn *c, const char *text, const char *note)
{
    sim_record_client(d->e, d->host, c, kind, proto, text, note);
}

/* Whether events of kind are kept: a text only a kept event shows is not
 * formatted for one that is dropped (mailsim compare keeps none; trace.h
 * lets the observer see "" then). */
static bool keeps(const struct sim_device *d, enum sim_trace_kind kind)
{
    return sim_trace_keeps(d->e->trace, kind);
}

static enum sim_proto dproto(const struct sim_device *d)
{
    return d->cfg.proto == SIM_DEVICE_POP3 ? SIM_PROTO_POP3 : SIM_PROTO_IMAP;
}

static void record_mail(struct sim_device *d, enum sim_mail_change ch, const char *folder,
                        const struct sim_device_msg *m, const char *text, const char *note)
{
    if (d->cfg.upload_only) return;
    struct sim_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SIM_TR_MAIL;
    ev.proto = SIM_PROTO_STORE;
    ev.from = sim_host_name(d->host);
    ev.text = text;
    ev.note = note;
    ev.mail.change = ch;
    ev.mail.owner = sim_host_name(d->host);
    ev.mail.account = d->account;
    ev.mail.folder = folder;
    ev.mail.uid = m->uid;
    ev.mail.flags = m->flags;
    ev.mail.size = m->size;
    ev.mail.subject = m->subject;
    ev.mail.from = m->from;
    sim_record(d->e, &ev);
}

/* ---- the local copy ------------------------------------------------------- */

static struct dev_folder *folder_get(struct sim_device *d, const char *name, bool create)
{
    for (size_t i = 0; i < SIM_DEVICE_FOLDERS_MAX; i++)
        if (d->folders[i] && strcmp(d->folders[i]->name, name) == 0) return d->folders[i];
    if (!create) return NULL;
    for (size_t i = 0; i < SIM_DEVICE_FOLDERS_MAX; i++)
        if (!d->folders[i]) {
            d->folders[i] = calloc(1, sizeof *d->folders[i]);
            if (!d->folders[i]) return NULL;
            snprintf(d->folders[i]->name, sizeof d->folders[i]->name, "%s", name);
            return d->folders[i];
        }
    return NULL; /* SIM_DEVICE_FOLDERS_MAX: the view of a new folder is not kept */
}

static const struct dev_folder *folder_find(const struct sim_device *d, const char *name)
{
    for (size_t i = 0; i < SIM_DEVICE_FOLDERS_MAX; i++)
        if (d->folders[i] && strcmp(d->folders[i]->name, name) == 0) return d->folders[i];
    return NULL;
}

static struct sim_device_msg *local_find(struct sim_device *d, const char *folder, uint32_t uid)
{
    struct dev_folder *f = folder_get(d, folder, false);
    if (!f) return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (entry(f, i)->uid == uid) return entry(f, i);
    return NULL;
}

static void local_remove_at(struct sim_device *d, struct dev_folder *f, size_t i, const char *text,
                            const char *note)
{
    struct sim_device_msg gone = *entry(f, i);
    if (i < f->n / 2) { /* close the gap from the nearer end */
        for (size_t j = i; j > 0; j--) *entry(f, j) = *entry(f, j - 1);
        f->head = (f->head + 1) % SIM_DEVICE_MSGS_MAX;
    } else {
        for (size_t j = i; j + 1 < f->n; j++) *entry(f, j) = *entry(f, j + 1);
    }
    f->n--;
    record_mail(d, SIM_MAIL_REMOVED, f->name, &gone, text, note);
}

static void local_remove(struct sim_device *d, const char *folder, uint32_t uid, const char *text,
                         const char *note)
{
    struct dev_folder *f = folder_get(d, folder, false);
    if (!f) return;
    for (size_t i = 0; i < f->n; i++)
        if (entry(f, i)->uid == uid) {
            local_remove_at(d, f, i, text, note);
            return;
        }
}

static void local_add(struct sim_device *d, const char *folder, const struct sim_device_msg *m,
                      const char *text, const char *note)
{
    struct dev_folder *f = folder_get(d, folder, true);
    if (!f || d->cfg.upload_only) return;
    if (f->n == SIM_DEVICE_MSGS_MAX) {
        /* Only the view is bounded: after a POP3 download-and-delete the
         * server has no copy left, and a real mail program keeps it on disk. */
        bool server_has_it = d->cfg.proto == SIM_DEVICE_IMAP || d->cfg.leave_on_server;
        local_remove_at(d, f, 0, "dropped from the device's view: it keeps the newest only",
                        server_has_it ? "the device's view is bounded; the server still has the message"
                                      : "the device's view is bounded; a real mail program keeps "
                                        "every downloaded message on disk");
    }
    *entry(f, f->n++) = *m;
    record_mail(d, SIM_MAIL_ADDED, folder, m, text, note);
}

static void local_set_flags(struct sim_device *d, const char *folder, struct sim_device_msg *m,
                            unsigned flags, const char *text, const char *note)
{
    if (m->flags == flags) return;
    m->flags = flags;
    record_mail(d, SIM_MAIL_FLAGS, folder, m, text, note);
}

/* Copies at most cap-1 octets, cutting before a UTF-8 continuation byte. */
static void copy_cut(char *dst, size_t cap, const char *src, size_t n)
{
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Fills subject and from from the message's header (RFC 5322 3.6.5, 3.6.2). */
static void describe(struct sim_device *d, const char *data, size_t len, struct sim_device_msg *m)
{
    m->subject[0] = m->from[0] = 0;
    if (!data || msg_parse_header(data, len, &d->hdr) != MSG_OK) return;
    int i = msg_header_find(&d->hdr, "Subject", 0);
    if (i >= 0) {
        size_t vn, outn;
        const char *v = msg_field_value(&d->hdr, (size_t)i, &vn);
        char tmp[1024];
        msg_decode_words(v, vn, tmp, sizeof tmp, &outn);
        copy_cut(m->subject, sizeof m->subject, tmp, strlen(tmp));
    }
    i = msg_header_find(&d->hdr, "From", 0);
    if (i >= 0) {
        size_t vn;
        const char *v = msg_field_value(&d->hdr, (size_t)i, &vn);
        struct msg_addr a;
        if (msg_addr_parse(v, vn, &a) == MSG_OK) {
            /* local@domain, copied (once per message a device takes in):
             * both fit, each is NUL-terminated within its array */
            char tmp[MSG_MAX_LOCAL + MSG_MAX_DOMAIN + 2];
            size_t ln = strnlen(a.local, sizeof a.local - 1);
            size_t dn = strnlen(a.domain, sizeof a.domain - 1);
            memcpy(tmp, a.local, ln);
            tmp[ln] = '@';
            memcpy(tmp + ln + 1, a.domain, dn);
            copy_cut(m->from, sizeof m->from, tmp, ln + 1 + dn);
        }
    }
}

/* ---- notes for the lines a device sends ------------------------------------ */

/* The note for a command line the imap_client machine sent: its verb is
 * read back from the line ("a004 UID FETCH ..." -> FETCH with UID) to look
 * it up in the codec's explanation table (protocols/explain.h). */
static const char *imap_note(const char *line, size_t n)
{
    if (n >= 4 && memcmp(line, "DONE", 4) == 0 && (n == 4 || line[4] == '\r'))
        return imap_done_explain();
    const char *sp = memchr(line, ' ', n);
    if (!sp) return NULL;
    const char *w = sp + 1;
    size_t left = n - (size_t)(w - line);
    bool uid = left > 4 && memcmp(w, "UID ", 4) == 0;
    if (uid) {
        w += 4;
        left -= 4;
    }
    size_t vl = 0;
    while (vl < left && w[vl] != ' ' && w[vl] != '\r' && w[vl] != '\n') vl++;
    for (int c = 0; c < IMAP_CMD_COUNT; c++)
        if (strlen(imap_cmd_names[c]) == vl && memcmp(w, imap_cmd_names[c], vl) == 0)
            return imap_command_explain((enum imap_cmd)c, uid);
    return NULL;
}

/* The same for a POP3 command line ("RETR 1"). */
static const char *pop3_note(const char *line, size_t n)
{
    size_t vl = 0;
    while (vl < n && line[vl] != ' ' && line[vl] != '\r' && line[vl] != '\n') vl++;
    for (int v = 0; v < POP3_VERB_COUNT; v++) {
        const char *name = pop3_verb_name((enum pop3_verb)v);
        if (name && strlen(name) == vl && memcmp(line, name, vl) == 0)
            return pop3_command_explain((enum pop3_verb)v);
    }
    return NULL;
}

/* Sends bytes one line per sim_conn_send; the first line gets note. */
static void send_lines(struct dsess *s, const char *p, size_t n, const char *note)
{
    while (n > 0 && s->c && !s->closed) {
        const char *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) + 1 : n;
        sim_conn_send(s->c, SIM_DIR_C2S, p, take, note);
        note = NULL;
        p += take;
        n -= take;
    }
}

/* ---- sessions --------------------------------------------------------------- */

static void finish_action(struct sim_device *d, struct dev_action *a, bool ok)
{
    if (!a) return;
    if (a->kind == ACT_CHECK) {
        d->stats.checks++;
        if (a->id < 0) d->check_waiting = false;
    }
    if (!ok) d->stats.failures++;
    if (d->running == a) d->running = NULL;
    int id = a->id;
    free(a->bytes);
    free(a);
    if (d->outstanding) d->outstanding--;
    if (d->done_fn) d->done_fn(d->done_ctx, d, id, ok);
}

static void sess_free(struct dsess *s)
{
    imap_client_free(s->ic);
    pop3_client_free(s->pc);
    imap_resp_reader_free(s->rd);
    free(s->cmd);
    free(s);
}

/* Frees a session once it is finished, closed and no callback is under way;
 * ends its action and starts the next one. */
static void settle(struct dsess *s)
{
    if (s->busy || !s->finished || !s->closed) return;
    struct sim_device *d = s->d;
    for (struct dsess **pp = &d->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (d->idle == s) d->idle = NULL;
    struct dev_action *a = s->act;
    bool ok = s->ok;
    sess_free(s);
    finish_action(d, a, ok);
    run_next(d);
}

static void sess_close(struct dsess *s)
{
    s->finished = true;
    if (s->c && !s->closed) sim_conn_close(s->c, SIM_DIR_C2S);
    s->closed = true;
}

static void fail_note(struct dsess *s, const char *why)
{
    char text[256];
    s->ok = false;
    snprintf(text, sizeof text, "%s failed: %s", s->act ? act_names[s->act->kind] : "sync", why);
    record(s->d, SIM_TR_ACTION, dproto(s->d), s->c, text,
           "the device gives up on this action and goes on with the next one");
}

/* -- IMAP sync (imap_client) -- */

static void sync_pump(struct dsess *s)
{
    struct sim_device *d = s->d;
    struct imap_client_event ev;
    char text[96];
    while (!s->finished) {
        enum imap_client_ev t = imap_client_next(s->ic, &ev);
        if (t == IMAP_CLIENT_NEED_MORE) break;
        switch (t) {
        case IMAP_CLIENT_EV_SEND:
            send_lines(s, ev.data, ev.len, imap_note(ev.data, ev.len));
            break;
        case IMAP_CLIENT_EV_STATE:
            text[0] = 0;
            if (keeps(d, SIM_TR_STATE))
                snprintf(text, sizeof text, "%s -> %s", imap_client_state_names[ev.from],
                         imap_client_state_names[ev.to]);
            record(d, SIM_TR_STATE, SIM_PROTO_IMAP, s->c, text, "");
            if (ev.to == IMAP_CLIENT_IDLE && d->cfg.idle) {
                /* the sync is done; the connection stays open for pushes */
                d->idle = s;
                if (s->act) {
                    struct dev_action *a = s->act;
                    s->act = NULL;
                    bool ok = s->ok;
                    s->ok = true;
                    finish_action(d, a, ok);
                }
                /* waiting work starts from a fresh event, not inside this pump */
                if (d->ready) sim_after(d->e, 0, ev_kick, d, 0);
            }
            break;
        case IMAP_CLIENT_EV_RESET: {
            struct dev_folder *f = folder_get(d, "INBOX", false);
            record(d, SIM_TR_ACTION, SIM_PROTO_IMAP, s->c,
                   "UIDVALIDITY changed: the device drops its copy and fetches everything again",
                   "the UIDs it holds may now name other messages (RFC 3501 2.3.1.1)");
            while (f && f->n) local_remove_at(d, f, f->n - 1, "forgotten: UIDVALIDITY changed",
                                              "RFC 3501 2.3.1.1: the old UIDs mean nothing now");
            break;
        }
        case IMAP_CLIENT_EV_NEW: {
            struct sim_device_msg m;
            memset(&m, 0, sizeof m);
            m.uid = ev.uid;
            m.flags = ev.flags;
            m.size = ev.data ? ev.len : ev.size;
            describe(d, ev.data, ev.len, &m);
            d->stats.downloaded++;
            if (!local_find(d, "INBOX", ev.uid))
                local_add(d, "INBOX", &m, "fetched by IMAP: the device has a copy, the server keeps its own",
                          "IMAP syncs: the message stays on the server for every device");
            break;
        }
        case IMAP_CLIENT_EV_FLAGS: {
            struct sim_device_msg *m = local_find(d, "INBOX", ev.uid);
            if (m)
                local_set_flags(d, "INBOX", m, ev.flags, "flags synced from the server",
                                "another device changed them; IMAP keeps every device in step");
            break;
        }
        case IMAP_CLIENT_EV_EXPUNGED:
            local_remove(d, "INBOX", ev.uid, "gone from the server, so gone here too",
                         "expunged on the server (by this or another device)");
            break;
        case IMAP_CLIENT_EV_STARTTLS:
            if (s->c) sim_conn_start_tls(s->c);
            break;
        case IMAP_CLIENT_EV_ERROR:
            fail_note(s, ev.text ? ev.text : "error");
            break;
        case IMAP_CLIENT_EV_CLOSE:
            sess_close(s);
            break;
        default:
            break;
        }
    }
}

/* -- IMAP command runner -- */

static struct imap_str str_of(const char *s)
{
    struct imap_str r = {s, strlen(s), false};
    return r;
}

static void ops_enter(struct dsess *s, enum ops_state to)
{
    char text[64] = "";
    if (keeps(s->d, SIM_TR_STATE))
        snprintf(text, sizeof text, "%s -> %s", ops_state_names[s->st], ops_state_names[to]);
    record(s->d, SIM_TR_STATE, SIM_PROTO_IMAP, s->c, text, "");
    s->st = to;
}

/* Formats cmd (tag filled here) and sends up to its first synchronising
 * literal; the rest goes after each "+" (RFC 3501 7.5). */
static void ops_send(struct dsess *s, struct imap_command *cmd, enum ops_state to)
{
    snprintf(s->tag, sizeof s->tag, "m%03u", ++s->tagn % 1000);
    snprintf(cmd->tag, sizeof cmd->tag, "%s", s->tag);
    size_t need = cmd->message.len + 4096;
    if (need > s->cap) {
        char *p = realloc(s->cmd, need);
        if (!p) {
            s->d->e->failed = 1;
            return;
        }
        s->cmd = p;
        s->cap = need;
    }
    ops_enter(s, to);
    s->cmd_len = imap_cmd_format(cmd, false, s->cmd, s->cap, s->splits, 4, &s->nsplits);
    if (s->cmd_len == 0) { /* a name or a message the codec cannot write */
        fail_note(s, "the command cannot be written");
        s->nsplits = 0;
        struct imap_command lo;
        memset(&lo, 0, sizeof lo);
        lo.cmd = IMAP_CMD_LOGOUT;
        snprintf(lo.tag, sizeof lo.tag, "%s", s->tag);
        s->st = OPS_LOGOUT;
        s->cmd_len = imap_cmd_format(&lo, false, s->cmd, s->cap, NULL, 0, NULL);
    }
    s->split_i = 0;
    size_t first = s->nsplits ? s->splits[0] : s->cmd_len;
    send_lines(s, s->cmd, first, imap_note(s->cmd, first));
}

static void ops_simple(struct dsess *s, enum imap_cmd c, enum ops_state to)
{
    struct imap_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cmd = c;
    ops_send(s, &cmd, to);
}

static void ops_login(struct dsess *s)
{
    struct imap_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.cmd = IMAP_CMD_LOGIN;
    cmd.user = str_of(s->d->account);
    cmd.password = str_of(s->d->password);
    ops_send(s, &cmd, OPS_LOGIN);
}

static size_t flag_list(unsigned flags, struct imap_str *out)
{
    size_t n = 0;
    for (unsigned bit = IMAP_FLAG_SEEN; bit <= IMAP_FLAG_DRAFT; bit <<= 1)
        if (flags & bit) out[n++] = str_of(imap_flag_name(bit));
    return n;
}

/* The step after login or after the previous command of the action. */
static void ops_step(struct dsess *s)
{
    struct dev_action *a = s->act;
    struct imap_command cmd;
    struct imap_str flags[5];
    struct imap_range range = {a->uid, a->uid};
    memset(&cmd, 0, sizeof cmd);
    /* after a CREATE the command it made room for is sent again */
    enum ops_state at = s->st;
    if (at == OPS_CREATE) at = a->kind == ACT_APPEND ? OPS_LOGIN : OPS_SELECT;
    switch (at) {
    case OPS_LOGIN:
        if (a->kind == ACT_APPEND) {
            cmd.cmd = IMAP_CMD_APPEND;
            cmd.mailbox = str_of(a->folder);
            cmd.has_flags = true;
            cmd.flags = flags;
            cmd.nflags = flag_list(a->flags, flags);
            cmd.message = (struct imap_str){a->bytes, a->len, false};
            ops_send(s, &cmd, OPS_APPEND);
        } else {
            cmd.cmd = IMAP_CMD_SELECT;
            cmd.mailbox = str_of(a->folder);
            ops_send(s, &cmd, OPS_SELECT);
        }
        return;
    case OPS_SELECT:
        cmd.uid = true;
        cmd.set = (struct imap_seqset){&range, 1};
        if (a->kind == ACT_MOVE) {
            cmd.cmd = IMAP_CMD_COPY;
            cmd.mailbox = str_of(a->dest);
            ops_send(s, &cmd, OPS_COPY);
            return;
        }
        /* Outside INBOX the device does not sync flags, so it changes only
         * the one flag the user touched (+FLAGS/-FLAGS, RFC 3501 6.4.6) and
         * leaves the others as the server has them. */
        cmd.cmd = IMAP_CMD_STORE;
        cmd.store_op = a->kind == ACT_UNFLAG ? IMAP_STORE_REMOVE : IMAP_STORE_ADD;
        cmd.silent = true;
        flags[0] = str_of(a->kind == ACT_READ     ? "\\Seen"
                          : a->kind == ACT_DELETE ? "\\Deleted"
                                                  : "\\Flagged");
        cmd.flags = flags;
        cmd.nflags = 1;
        ops_send(s, &cmd, OPS_STORE);
        return;
    case OPS_COPY:
        /* RFC 3501 6.4.7 has no MOVE: mark the original \Deleted, expunge */
        cmd.cmd = IMAP_CMD_STORE;
        cmd.uid = true;
        cmd.set = (struct imap_seqset){&range, 1};
        cmd.store_op = IMAP_STORE_ADD;
        cmd.silent = true;
        flags[0] = str_of("\\Deleted");
        cmd.flags = flags;
        cmd.nflags = 1;
        ops_send(s, &cmd, OPS_STORE);
        return;
    case OPS_STORE:
        if (a->kind == ACT_MOVE || a->kind == ACT_DELETE) {
            ops_simple(s, IMAP_CMD_EXPUNGE, OPS_EXPUNGE);
            return;
        }
        break;
    default:
        break;
    }
    ops_simple(s, IMAP_CMD_LOGOUT, OPS_LOGOUT);
}

/* The local copy follows what the server confirmed. */
static void ops_apply(struct dsess *s)
{
    struct sim_device *d = s->d;
    struct dev_action *a = s->act;
    if (a->kind == ACT_APPEND && s->st == OPS_APPEND) {
        struct sim_device_msg m;
        memset(&m, 0, sizeof m);
        m.uid = s->new_uid;
        m.flags = a->flags;
        m.size = a->len;
        describe(d, a->bytes, a->len, &m);
        local_add(d, a->folder, &m, "uploaded by APPEND: now on the server too",
                  "every IMAP device of the account will see it in that folder");
    } else if (a->kind == ACT_MOVE && s->st == OPS_EXPUNGE) {
        struct sim_device_msg *old = local_find(d, a->folder, a->uid);
        struct sim_device_msg m;
        if (old) m = *old;
        else memset(&m, 0, sizeof m);
        m.uid = s->new_uid;
        m.flags &= ~(unsigned)SIM_FLAG_DELETED;
        local_remove(d, a->folder, a->uid, "moved out of this folder",
                     "copied to the other folder, then expunged here (RFC 3501 6.4.7)");
        local_add(d, a->dest, &m, "moved into this folder",
                  "its UID here is new: UIDs belong to one folder (RFC 4315 COPYUID)");
    } else if (s->st == OPS_EXPUNGE) {
        local_remove(d, a->folder, a->uid, "deleted on the server and here",
                     "\\Deleted and EXPUNGE remove it for every device (RFC 3501 6.4.3)");
    }
}

static void ops_response(struct dsess *s, const struct imap_response *r)
{
    switch (r->kind) {
    case IMAP_RESP_STATE:
        if (s->st == OPS_GREETING) {
            if (r->status != IMAP_OK) {
                fail_note(s, "the server refused the connection");
                sess_close(s);
                return;
            }
            if (sim_conn_port(s->c) == IMAP_STARTTLS_PORT) ops_simple(s, IMAP_CMD_STARTTLS, OPS_STARTTLS);
            else ops_login(s);
            return;
        }
        if (r->status == IMAP_BYE && s->st != OPS_LOGOUT) {
            fail_note(s, "the server ended the session (BYE)");
            sess_close(s);
        }
        return;
    case IMAP_RESP_CONTINUE:
        if (s->split_i < s->nsplits) {
            size_t from = s->splits[s->split_i++];
            size_t to = s->split_i < s->nsplits ? s->splits[s->split_i] : s->cmd_len;
            send_lines(s, s->cmd + from, to - from, "the literal's octets: the message itself");
        }
        return;
    case IMAP_RESP_TAGGED:
        if (strcmp(r->tag, s->tag) != 0) return;
        if (s->st == OPS_LOGOUT) {
            ops_enter(s, OPS_CLOSED);
            sess_close(s);
            return;
        }
        if (r->status == IMAP_NO && r->code.code == IMAP_CODE_TRYCREATE && !s->created &&
            (s->st == OPS_APPEND || s->st == OPS_COPY)) {
            /* RFC 3501 6.3.11, 6.4.7: the folder does not exist and may be
             * created; a mail program creates it and tries once more */
            struct imap_command cmd;
            memset(&cmd, 0, sizeof cmd);
            cmd.cmd = IMAP_CMD_CREATE;
            cmd.mailbox = str_of(s->st == OPS_APPEND ? s->act->folder : s->act->dest);
            s->created = true;
            ops_send(s, &cmd, OPS_CREATE);
            return;
        }
        if (r->status != IMAP_OK) {
            char why[160];
            snprintf(why, sizeof why, "%s answered %s %.*s", ops_state_names[s->st],
                     imap_status_names[r->status], (int)(r->text.len > 100 ? 100 : r->text.len),
                     r->text.ptr ? r->text.ptr : "");
            fail_note(s, why);
            ops_simple(s, IMAP_CMD_LOGOUT, OPS_LOGOUT);
            return;
        }
        if (s->st == OPS_STARTTLS) {
            ops_enter(s, OPS_TLS);
            sim_conn_start_tls(s->c);
            return;
        }
        if (r->code.code == IMAP_CODE_APPENDUID) s->new_uid = r->code.n2;
        if (r->code.code == IMAP_CODE_COPYUID && r->code.set2.n) s->new_uid = r->code.set2.ranges[0].lo;
        ops_apply(s);
        ops_step(s);
        return;
    default:
        return;
    }
}

static void ops_pump(struct dsess *s)
{
    struct imap_response r;
    while (!s->finished && s->st != OPS_TLS) {
        enum imap_rd_ev t = imap_resp_reader_next(s->rd, &r);
        if (t == IMAP_RD_NEED_MORE) break;
        if (t == IMAP_RD_ERROR) {
            if (r.error == IMAP_ERR_NOMEM) {
                fail_note(s, "out of memory reading a response");
                sess_close(s);
            }
            continue; /* a bad response was skipped */
        }
        ops_response(s, &r);
    }
}

/* -- POP3 (pop3_client) -- */

static void pop3_pump(struct dsess *s)
{
    struct sim_device *d = s->d;
    struct pop3_client_ev ev;
    char text[160];
    while (!s->finished) {
        int t = pop3_client_next(s->pc, &ev);
        if (t == POP3_NEED_MORE) break;
        if (t < 0) { /* malformed response: the FAILED event came first */
            sess_close(s);
            break;
        }
        switch (t) {
        case POP3_CLI_SEND:
            send_lines(s, ev.out, ev.out_len, pop3_note(ev.out, ev.out_len));
            break;
        case POP3_CLI_STATE:
            text[0] = 0;
            if (keeps(d, SIM_TR_STATE))
                snprintf(text, sizeof text, "%s -> %s", pop3_client_state_name(ev.from),
                         pop3_client_state_name(ev.to));
            record(d, SIM_TR_STATE, SIM_PROTO_POP3, s->c, text, "");
            break;
        case POP3_CLI_STARTTLS:
            if (s->c) sim_conn_start_tls(s->c);
            break;
        case POP3_CLI_MESSAGE: {
            struct sim_device_msg m;
            memset(&m, 0, sizeof m);
            m.uid = ++d->pop_next_uid;
            copy_cut(m.uidl, sizeof m.uidl, ev.uidl ? ev.uidl : "", ev.uidl ? strlen(ev.uidl) : 0);
            m.size = ev.data_len;
            describe(d, ev.data, ev.data_len, &m);
            d->stats.downloaded++;
            local_add(d, "INBOX", &m,
                      d->cfg.leave_on_server ? "downloaded by POP3; a copy stays on the server"
                                             : "downloaded by POP3; the server deletes it at QUIT",
                      d->cfg.leave_on_server
                          ? "the device remembers its unique-id so it never downloads it twice "
                            "(RFC 1939 7 UIDL)"
                          : "POP3's default: the mail now lives on this device only (RFC 1939)");
            break;
        }
        case POP3_CLI_SKIPPED:
            snprintf(text, sizeof text, "message %zu not downloaded: %.*s", ev.msg,
                     (int)(ev.text_len > 100 ? 100 : ev.text_len), ev.text ? ev.text : "");
            record(d, SIM_TR_ACTION, SIM_PROTO_POP3, s->c, text, "");
            break;
        case POP3_CLI_FAILED:
            snprintf(text, sizeof text, "%.*s", (int)(ev.text_len > 150 ? 150 : ev.text_len),
                     ev.text ? ev.text : "");
            fail_note(s, text);
            sess_close(s);
            break;
        case POP3_CLI_DONE:
            sess_close(s);
            break;
        default:
            break;
        }
    }
}

static void pump(struct dsess *s)
{
    if (s->kind == S_SYNC) sync_pump(s);
    else if (s->kind == S_OPS) ops_pump(s);
    else pop3_pump(s);
}

/* -- the connection's callbacks -- */

static void cb_connected(void *ctx, struct sim_conn *c)
{
    struct dsess *s = ctx;
    s->c = c;
}

static void cb_failed(void *ctx, enum sim_conn_failure why)
{
    struct dsess *s = ctx;
    char text[160];
    snprintf(text, sizeof text, "could not reach %s port %u (%s)", s->d->server_ip, s->d->cfg.port,
             sim_conn_failure_names[why]);
    fail_note(s, text);
    s->finished = s->closed = true;
    settle(s);
}

static size_t feed(struct dsess *s, const char *b, size_t n)
{
    if (s->kind == S_SYNC) return imap_client_feed(s->ic, b, n);
    if (s->kind == S_OPS) return s->st == OPS_TLS ? 0 : imap_resp_reader_feed(s->rd, b, n);
    return pop3_client_feed(s->pc, b, n);
}

static void cb_data(void *ctx, struct sim_conn *c, const char *bytes, size_t n)
{
    struct dsess *s = ctx;
    s->c = c;
    s->busy++;
    while (n > 0 && !s->finished) {
        size_t took = feed(s, bytes, n);
        pump(s);
        if (took == 0) {
            took = feed(s, bytes, n);
            if (took == 0) break; /* waiting for TLS, or done: dropped */
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
    struct dsess *s = ctx;
    s->c = c;
    s->busy++;
    if (s->kind == S_SYNC) imap_client_tls_started(s->ic);
    else if (s->kind == S_POP3) pop3_client_tls_started(s->pc);
    else if (s->st == OPS_TLS) {
        imap_resp_reader_reset(s->rd);
        ops_login(s);
    }
    pump(s);
    s->busy--;
    settle(s);
}

static void cb_closed(void *ctx, struct sim_conn *c)
{
    struct dsess *s = ctx;
    (void)c;
    s->closed = true;
    if (!s->finished) {
        if (s->kind == S_POP3) {
            s->busy++;
            pop3_client_closed(s->pc);
            pop3_pump(s);
            s->busy--;
        } else if (!(s->kind == S_OPS && s->st == OPS_LOGOUT)) {
            fail_note(s, "the connection closed");
        }
        s->finished = true;
    }
    settle(s);
}

static const struct sim_client_ops client_ops = {cb_connected, cb_failed, cb_data, cb_tls,
                                                 cb_closed};

static struct dsess *sess_open(struct sim_device *d, enum sess_kind kind, struct dev_action *a)
{
    struct dsess *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->d = d;
    s->kind = kind;
    s->act = a;
    s->ok = true;
    if (kind == S_SYNC) {
        struct imap_client_config cc;
        memset(&cc, 0, sizeof cc);
        cc.user = d->account;
        cc.pass = d->password;
        cc.folder = "INBOX";
        cc.starttls = d->cfg.port == IMAP_STARTTLS_PORT;
        cc.expunge = true;
        cc.idle = d->cfg.idle;
        cc.cache = &d->cache;
        s->ic = imap_client_new(&cc);
        if (!s->ic) goto fail;
    } else if (kind == S_OPS) {
        s->rd = imap_resp_reader_new(0);
        if (!s->rd) goto fail;
        s->st = OPS_GREETING;
    } else {
        struct pop3_client_config pc;
        memset(&pc, 0, sizeof pc);
        pc.user = d->account;
        pc.pass = d->password;
        pc.stls = d->cfg.port == POP3_STLS_PORT;
        pc.mode = d->cfg.leave_on_server ? POP3_CLIENT_LEAVE_COPY : POP3_CLIENT_DOWNLOAD_DELETE;
        s->pc = pop3_client_new(&pc, &d->seen);
        if (!s->pc) goto fail;
    }
    s->next = d->sessions;
    d->sessions = s;
    d->stats.connections++;
    sim_net_connect(d->net, d->host, d->server_ip, d->cfg.port, &client_ops, s);
    return s;
fail:
    sess_free(s);
    return NULL;
}

/* ---- actions ------------------------------------------------------------------ */

static bool is_inbox(const char *f)
{
    return strcmp(f, "INBOX") == 0;
}

/* Applies a flag change to the local view; for IMAP INBOX also to the sync
 * cache, so the next sync (or the idle connection) stores it. */
static bool local_flags(struct sim_device *d, struct dev_action *a, unsigned *newflags)
{
    struct sim_device_msg *m = local_find(d, a->folder, a->uid);
    unsigned f = m ? m->flags : 0;
    const char *text = "";
    const char *note = "";
    switch (a->kind) {
    case ACT_READ:
        f |= SIM_FLAG_SEEN;
        text = "read on the device: \\Seen";
        note = d->cfg.proto == SIM_DEVICE_POP3 ? "POP3 has no flags on the server: only this device knows"
                                               : "the device will store \\Seen on the server";
        break;
    case ACT_FLAG:
        f |= SIM_FLAG_FLAGGED;
        text = "flagged on the device";
        note = "\\Flagged marks it as important (RFC 3501 2.3.2)";
        break;
    case ACT_UNFLAG:
        f &= ~(unsigned)SIM_FLAG_FLAGGED;
        text = "unflagged on the device";
        note = "\\Flagged cleared";
        break;
    case ACT_DELETE:
        f |= SIM_FLAG_DELETED;
        text = "deleted on the device: \\Deleted";
        note = "marked; EXPUNGE removes it for good (RFC 3501 6.4.3)";
        break;
    default:
        break;
    }
    if (m) local_set_flags(d, a->folder, m, f, text, note);
    *newflags = f;
    return m != NULL;
}

static void start_action(struct sim_device *d, struct dev_action *a)
{
    char text[FOLDER_MAX * 2 + 96];
    if (a->kind == ACT_MOVE)
        snprintf(text, sizeof text, "%s %s %u to %s", act_names[a->kind], a->folder, a->uid, a->dest);
    else if (a->kind == ACT_READ || a->kind == ACT_FLAG || a->kind == ACT_UNFLAG ||
             a->kind == ACT_DELETE)
        snprintf(text, sizeof text, "%s %s %u", act_names[a->kind], a->folder, a->uid);
    else if (a->kind == ACT_APPEND)
        snprintf(text, sizeof text, "%s to %s", act_names[a->kind], a->folder);
    else
        snprintf(text, sizeof text, "%s", act_names[a->kind]);
    record(d, SIM_TR_ACTION, SIM_PROTO_SIM, NULL, text, "");
    d->running = a;

    if (a->kind == ACT_STOP) {
        d->stopped = true;
        if (d->idle) {
            d->idle->busy++;
            imap_client_stop(d->idle->ic);
            sync_pump(d->idle);
            d->idle->busy--;
        }
        finish_action(d, a, true);
        if (d->idle) settle(d->idle);
        return;
    }
    unsigned f = 0;
    bool flagging = a->kind == ACT_READ || a->kind == ACT_FLAG || a->kind == ACT_UNFLAG ||
                    a->kind == ACT_DELETE;
    if (flagging) {
        if (d->cfg.proto == SIM_DEVICE_POP3) {
            /* RFC 1939 has no flags and no remote delete outside a session:
             * the change is the device's alone */
            bool known = local_find(d, a->folder, a->uid) != NULL;
            if (a->kind == ACT_DELETE)
                local_remove(d, a->folder, a->uid, "deleted on the device only",
                             d->cfg.leave_on_server
                                 ? "a copy left on the server survives there"
                                 : "it was already deleted from the server when downloaded");
            else local_flags(d, a, &f);
            finish_action(d, a, known);
            return;
        }
        bool known = local_flags(d, a, &f);
        a->flags = f;
        if (!is_inbox(a->folder)) {
            if (!sess_open(d, S_OPS, a)) finish_action(d, a, false);
            return;
        }
        if (!imap_client_cache_set_flags(&d->cache, a->uid, f & IMAP_MBX_FLAGS)) {
            finish_action(d, a, known);
            return;
        }
    }
    if (a->kind == ACT_MOVE || a->kind == ACT_APPEND) {
        if (!sess_open(d, S_OPS, a)) finish_action(d, a, false);
        return;
    }
    /* a check, or a flag change in INBOX: the sync carries it */
    if (d->idle) {
        struct dsess *s = d->idle;
        s->act = a;
        s->busy++;
        imap_client_wake(s->ic);
        sync_pump(s);
        s->busy--;
        settle(s);
        return;
    }
    if (!sess_open(d, d->cfg.proto == SIM_DEVICE_POP3 ? S_POP3 : S_SYNC, a))
        finish_action(d, a, false);
}

static void ev_periodic(struct sim_engine *e, void *ctx, uint64_t arg);

static void run_next(struct sim_device *d)
{
    while (!d->running && d->ready) {
        /* an idle connection busy with a sync takes no new work yet */
        if (d->idle && imap_client_state(d->idle->ic) != IMAP_CLIENT_IDLE) return;
        struct dev_action *a = d->ready;
        d->ready = a->next;
        if (!d->ready) d->ready_tail = NULL;
        bool first_check = a->kind == ACT_CHECK && d->cfg.check_every && !d->periodic &&
                           !d->stopped;
        if (first_check) {
            d->periodic = true;
            sim_after(d->e, d->cfg.check_every, ev_periodic, d, 0);
        }
        start_action(d, a);
    }
}

static void ev_ready(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct dev_action *a = ctx;
    struct sim_device *d = a->d;
    for (struct dev_action **pp = &d->pending; *pp; pp = &(*pp)->next_pending)
        if (*pp == a) {
            *pp = a->next_pending;
            break;
        }
    a->next = NULL;
    if (d->ready_tail) d->ready_tail->next = a;
    else d->ready = a;
    d->ready_tail = a;
    run_next(d);
}

static struct dev_action *new_action(struct sim_device *d, enum act_kind kind, const char *folder,
                                     uint32_t uid)
{
    if (!d || d->outstanding >= SIM_DEVICE_ACTIONS_MAX) return NULL;
    if (folder && strlen(folder) > FOLDER_MAX) return NULL;
    struct dev_action *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->kind = kind;
    a->uid = uid;
    a->d = d;
    snprintf(a->folder, sizeof a->folder, "%s", folder ? folder : "INBOX");
    return a;
}

static int queue_action(struct sim_device *d, struct dev_action *a, sim_time at, bool periodic)
{
    a->id = periodic ? -1 : d->next_id++;
    d->outstanding++;
    a->next_pending = d->pending;
    d->pending = a;
    sim_time delay = (at == SIM_DEVICE_NOW || at <= d->e->now) ? 0 : at - d->e->now;
    sim_after(d->e, delay, ev_ready, a, 0);
    return a->id;
}

static void ev_periodic(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    (void)arg;
    struct sim_device *d = ctx;
    if (d->stopped) return;
    if (!d->check_waiting) {
        struct dev_action *a = new_action(d, ACT_CHECK, NULL, 0);
        if (a) {
            d->check_waiting = true;
            queue_action(d, a, SIM_DEVICE_NOW, true);
        }
    }
    sim_after(d->e, d->cfg.check_every, ev_periodic, d, 0);
}

/* ---- public ---------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

struct sim_device *sim_device_new(struct sim_engine *e, struct sim_net *net, struct sim_host *host,
                                  const struct sim_device_config *cfg)
{
    if (!e || !net || !host || !cfg || !cfg->account || !cfg->password || !cfg->server_ip ||
        !cfg->account[0] || !cfg->password[0] || !cfg->port || cfg->proto >= SIM_DEVICE_PROTO_COUNT ||
        (cfg->idle && cfg->proto == SIM_DEVICE_POP3))
        return NULL;
    struct sim_device *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->e = e;
    d->net = net;
    d->host = host;
    d->cfg = *cfg;
    d->account = dup_str(cfg->account);
    d->password = dup_str(cfg->password);
    d->server_ip = dup_str(cfg->server_ip);
    /* The unique-ids a POP3 device remembers (72 KiB): IMAP has no use for them. */
    if (cfg->proto == SIM_DEVICE_POP3)
        d->uidl_store = calloc(SIM_DEVICE_UIDLS_MAX, sizeof *d->uidl_store);
    if (!d->account || !d->password || !d->server_ip ||
        (cfg->proto == SIM_DEVICE_POP3 && !d->uidl_store)) {
        sim_device_free(d);
        return NULL;
    }
    d->cfg.account = d->account;
    d->cfg.password = d->password;
    d->cfg.server_ip = d->server_ip;
    if (d->uidl_store) pop3_uidl_set_init(&d->seen, d->uidl_store, SIM_DEVICE_UIDLS_MAX);
    return d;
}

void sim_device_free(struct sim_device *d)
{
    if (!d) return;
    while (d->sessions) {
        struct dsess *s = d->sessions;
        d->sessions = s->next;
        if (s->act && s->act != d->running) {
            free(s->act->bytes);
            free(s->act);
        }
        sess_free(s);
    }
    if (d->running) {
        free(d->running->bytes);
        free(d->running);
    }
    while (d->ready) {
        struct dev_action *a = d->ready;
        d->ready = a->next;
        free(a->bytes);
        free(a);
    }
    while (d->pending) {
        struct dev_action *a = d->pending;
        d->pending = a->next_pending;
        free(a->bytes);
        free(a);
    }
    for (size_t i = 0; i < SIM_DEVICE_FOLDERS_MAX; i++) free(d->folders[i]);
    free(d->uidl_store);
    free(d->account);
    free(d->password);
    free(d->server_ip);
    free(d);
}

void sim_device_on_done(struct sim_device *d, sim_device_done_fn fn, void *ctx)
{
    d->done_fn = fn;
    d->done_ctx = ctx;
}

int sim_device_check(struct sim_device *d, sim_time at)
{
    struct dev_action *a = new_action(d, ACT_CHECK, NULL, 0);
    return a ? queue_action(d, a, at, false) : -1;
}

static int flag_action(struct sim_device *d, enum act_kind k, const char *folder, uint32_t uid,
                       sim_time at)
{
    if (!folder) folder = "INBOX";
    struct dev_action *a = new_action(d, k, folder, uid);
    return a ? queue_action(d, a, at, false) : -1;
}

int sim_device_read(struct sim_device *d, const char *folder, uint32_t uid, sim_time at)
{
    return flag_action(d, ACT_READ, folder, uid, at);
}

int sim_device_flag(struct sim_device *d, const char *folder, uint32_t uid, bool on, sim_time at)
{
    return flag_action(d, on ? ACT_FLAG : ACT_UNFLAG, folder, uid, at);
}

int sim_device_delete(struct sim_device *d, const char *folder, uint32_t uid, sim_time at)
{
    return flag_action(d, ACT_DELETE, folder, uid, at);
}

int sim_device_move(struct sim_device *d, const char *folder, uint32_t uid, const char *dest,
                    sim_time at)
{
    if (!d || d->cfg.proto != SIM_DEVICE_IMAP || !dest || strlen(dest) > FOLDER_MAX) return -1;
    struct dev_action *a = new_action(d, ACT_MOVE, folder ? folder : "INBOX", uid);
    if (!a) return -1;
    snprintf(a->dest, sizeof a->dest, "%s", dest);
    return queue_action(d, a, at, false);
}

int sim_device_append(struct sim_device *d, const char *folder, const char *bytes, size_t len,
                      unsigned flags, sim_time at)
{
    if (!d || d->cfg.proto != SIM_DEVICE_IMAP || !folder || !bytes || len == 0 ||
        len > SIM_DEVICE_UPLOAD_MAX || (flags & SIM_FLAG_RECENT))
        return -1;
    struct dev_action *a = new_action(d, ACT_APPEND, folder, 0);
    if (!a) return -1;
    a->bytes = malloc(len);
    if (!a->bytes) {
        free(a);
        return -1;
    }
    memcpy(a->bytes, bytes, len);
    a->len = len;
    a->flags = flags & IMAP_MBX_FLAGS;
    return queue_action(d, a, at, false);
}

int sim_device_save_draft(struct sim_device *d, const char *to, const char *subject,
                          const char *body, sim_time at)
{
    if (!d || d->cfg.proto != SIM_DEVICE_IMAP) return -1;
    struct msg_addr from, rcpt;
    if (msg_addr_parse(d->account, strlen(d->account), &from) != MSG_OK) return -1;
    size_t nto = 0;
    if (to && to[0]) {
        if (msg_addr_parse(to, strlen(to), &rcpt) != MSG_OK) return -1;
        nto = 1;
    }
    /* The Date: is when the draft is saved; composed now when `at` is now,
     * else at the time given (the clock is simulated, so both are known). */
    sim_time when = (at == SIM_DEVICE_NOW || at <= d->e->now) ? d->e->now : at;
    struct msg_simple ms = {&from, nto ? &rcpt : NULL, nto, subject,
                            d->cfg.epoch + (int64_t)(when / SIM_SEC(1)), d->cfg.zone_min, NULL,
                            body};
    char *buf = malloc(SIM_DEVICE_UPLOAD_MAX + 1);
    if (!buf) return -1;
    size_t len;
    int id = -1;
    if (msg_build_simple(&ms, buf, SIM_DEVICE_UPLOAD_MAX + 1, &len) == MSG_OK)
        id = sim_device_append(d, "Drafts", buf, len, SIM_FLAG_DRAFT | SIM_FLAG_SEEN, at);
    free(buf);
    return id;
}

int sim_device_stop(struct sim_device *d, sim_time at)
{
    struct dev_action *a = new_action(d, ACT_STOP, NULL, 0);
    return a ? queue_action(d, a, at, false) : -1;
}

int sim_device_mark(struct sim_device *d, const char *folder, uint32_t uid, unsigned set,
                    unsigned clear)
{
    if (!d || !folder) return -1;
    struct sim_device_msg *m = local_find(d, folder, uid);
    if (!m || ((set | clear) & SIM_FLAG_RECENT)) return -1;
    unsigned f = (m->flags | set) & ~clear;
    if (d->cfg.proto == SIM_DEVICE_POP3) {
        /* RFC 1939 keeps no flags on the server: the change is the device's */
        if (f & SIM_FLAG_DELETED)
            local_remove(d, folder, uid, "deleted on the device only",
                         d->cfg.leave_on_server ? "a copy left on the server survives there"
                                                : "it was already deleted from the server when downloaded");
        else
            local_set_flags(d, folder, m, f, "marked on the device",
                            "POP3 has no flags on the server: only this device knows");
        return 0;
    }
    /* only INBOX has a sync cache; other folders need a connection (the
     * read/flag/delete actions) */
    if (!is_inbox(folder)) return -1;
    local_set_flags(d, folder, m, f, "marked on the device",
                    "the next sync stores the flags on the server (UID STORE, RFC 3501 6.4.6)");
    imap_client_cache_set_flags(&d->cache, uid, f & IMAP_MBX_FLAGS);
    return 0;
}

size_t sim_device_count(const struct sim_device *d, const char *folder)
{
    const struct dev_folder *f = folder_find(d, folder);
    return f ? f->n : 0;
}

const struct sim_device_msg *sim_device_msg(const struct sim_device *d, const char *folder,
                                            size_t i)
{
    const struct dev_folder *f = folder_find(d, folder);
    return f && i < f->n ? entry_c(f, i) : NULL;
}

const struct sim_device_msg *sim_device_find(const struct sim_device *d, const char *folder,
                                             uint32_t uid)
{
    const struct dev_folder *f = folder_find(d, folder);
    if (!f) return NULL;
    for (size_t i = 0; i < f->n; i++)
        if (entry_c(f, i)->uid == uid) return entry_c(f, i);
    return NULL;
}

bool sim_device_busy(const struct sim_device *d)
{
    return d->running != NULL || d->idle != NULL;
}

bool sim_device_idling(const struct sim_device *d)
{
    return d->idle != NULL;
}

void sim_device_stats(const struct sim_device *d, struct sim_device_stats *st)
{
    *st = d->stats;
}
