/* The IMAP4rev1 server session machine. See imap_server.h for the contract.
 *
 * Input: the caller's bytes go to imap.h's command parser one line at a
 * time (feed stops after each LF), so the bytes of each command are known
 * exactly for the trace. Output: every response is formatted by imap.h into
 * one growing arena and queued as a SEND event; the queue is drained by
 * imap_server_next() before the next command is read, so responses always
 * come out in order and a command's effects are complete before the next.
 *
 * The session's view of the selected folder (UID, flags, \Recent for each
 * message sequence number) is kept here, because sequence numbers are per
 * session: another session's EXPUNGE changes them only when this session
 * says so with "* n EXPUNGE" (RFC 3501 7.4.1). */
#include "protocols/imap_server.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"

/* Bytes of one command kept for the COMMAND event (the trace). Longer
 * commands (an APPEND's literal) are shown truncated: the trace is for
 * reading, the parser has the whole command. */
#define LINE_MAX_KEEP 8192
/* Room kept at the end of the arena so a command that ran out of output
 * space can still send its tagged NO. */
#define TAIL_ROOM 1024
/* Events one command can queue: a STORE over every message (a SEND and a
 * FLAGGED each), then other sessions' changes at its end (a FETCH or an
 * EXPUNGE each, and EXISTS), with room to spare. The queue grows to this on
 * demand; past it the command ends NO [LIMIT]. */
#define MAX_EVENTS (6 * IMAP_SERVER_MAX_MSGS + 64)
/* The hierarchy delimiter of LIST (RFC 3501 6.3.8). */
#define DELIM '/'

const char *const imap_server_state_names[IMAP_SERVER_STATE_COUNT] = {
    "not-authenticated", "authenticated", "selected", "logout",
};

const char *const imap_server_ev_names[IMAP_SERVER_EV_COUNT] = {
    "need-more", "send", "command", "state", "flagged", "expunged", "appended", "starttls", "close",
};

/* One message of the selected folder as this session numbers it. */
struct smsg {
    uint32_t uid;
    unsigned flags;  /* IMAP_MBX_FLAGS bits */
    bool recent;     /* \Recent for this session (RFC 3501 2.3.2) */
    bool gone;       /* expunged by another session, not yet announced */
    uint64_t modseq; /* RFC 7162: as the mailbox last reported it */
};

/* A queued event; text lives in the arena at off. */
struct qev {
    enum imap_server_ev type;
    size_t off, len;            /* SEND: bytes; COMMAND: the line */
    size_t tag_off, verb_off;   /* COMMAND: NUL-terminated strings */
    enum imap_server_state from, to;
    uint32_t uid;
    unsigned flags;
};

struct imap_server {
    struct imap_server_config cfg;
    enum imap_server_state state;
    struct imap_cmd_parser *parser;
    struct imap_scratch *sc;
    bool drain;           /* a line went to the parser: read its events */
    bool tls;             /* the connection is TLS now */
    bool tls_wait;        /* STARTTLS answered, waiting for the handshake */
    bool idling;
    bool sasl;            /* AUTHENTICATE PLAIN waits for the client's line */
    bool overflow;        /* the current command ran out of output room */
    char cmd_tag[IMAP_MAX_TAG + 1]; /* IDLE's or AUTHENTICATE's tag */
    char user[IMAP_MBX_USER_MAX + 1];
    char folder[IMAP_MBX_NAME_MAX + 1];
    bool read_only;       /* EXAMINE (RFC 3501 6.3.2) */
    bool condstore;       /* the client enabled CONDSTORE (RFC 7162 3.1:
                             SELECT (CONDSTORE) or FETCH with MODSEQ or
                             CHANGEDSINCE): every FETCH carries MODSEQ */
    struct smsg *msgs;    /* IMAP_SERVER_MAX_MSGS entries */
    uint32_t n;           /* messages the client knows of (EXISTS) */
    uint32_t uidvalidity;
    uint64_t modseq;      /* the folder's modseq when last compared */
    bool pending_gone;    /* some msgs[] are gone but not yet announced */
    int64_t now;          /* for APPEND without a date */
    int zone;
    size_t line_len;
    char *buf;            /* the arena: SEND bytes and event strings */
    size_t len, cap;
    struct qev *q;
    size_t qhead, qn, qcap;
    struct imap_range ranges[2][IMAP_SERVER_MAX_MSGS]; /* COPYUID sets */
    uint32_t numbers[IMAP_SERVER_MAX_MSGS];           /* SEARCH results */
    char line[LINE_MAX_KEEP]; /* the command being received: only its first
                                 line_len octets are read, so start() need not
                                 clear it */
};

/* ---- arena and event queue --------------------------------------------- */

/* Makes room for want more bytes; false when the arena would pass its
 * maximum (leaving TAIL_ROOM unless tail) or memory ran out. */
static bool reserve(struct imap_server *s, size_t want, bool tail)
{
    size_t max = IMAP_SERVER_OUT_MAX - (tail ? 0 : TAIL_ROOM);
    if (want > max || s->len > max - want) return false;
    if (s->len + want <= s->cap) return true;
    size_t cap = s->cap ? s->cap : 16384;
    while (cap < s->len + want) cap *= 2;
    if (cap > IMAP_SERVER_OUT_MAX) cap = IMAP_SERVER_OUT_MAX;
    char *b = realloc(s->buf, cap);
    if (!b) return false;
    s->buf = b;
    s->cap = cap;
    return true;
}

static struct qev *push(struct imap_server *s, enum imap_server_ev type)
{
    if (s->qhead + s->qn == s->qcap) {
        if (s->qhead > 0) {
            memmove(s->q, s->q + s->qhead, s->qn * sizeof *s->q);
            s->qhead = 0;
        } else {
            size_t cap = s->qcap ? s->qcap * 2 : 64;
            if (cap > MAX_EVENTS) cap = MAX_EVENTS;
            struct qev *q = cap > s->qcap ? realloc(s->q, cap * sizeof *q) : NULL;
            if (!q) {
                s->overflow = true;
                return NULL;
            }
            s->q = q;
            s->qcap = cap;
        }
    }
    struct qev *e = &s->q[s->qhead + s->qn++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

/* Queues raw bytes for the client. */
static bool send_raw(struct imap_server *s, const char *p, size_t n, bool tail)
{
    if (!reserve(s, n, tail)) {
        s->overflow = true;
        return false;
    }
    struct qev *e = push(s, IMAP_SERVER_EV_SEND);
    if (!e) return false;
    memcpy(s->buf + s->len, p, n);
    e->off = s->len;
    e->len = n;
    s->len += n;
    return true;
}

typedef void (*writer_fn)(struct imap_out *o, const void *arg);

/* Formats one response with w into the arena, growing it as needed, and
 * queues it as a SEND. */
static bool send_with(struct imap_server *s, writer_fn w, const void *arg, bool tail)
{
    size_t max = IMAP_SERVER_OUT_MAX - (tail ? 0 : TAIL_ROOM);
    size_t want = 512;
    for (;;) {
        if (s->len >= max) break;
        if (want > max - s->len) want = max - s->len;
        if (!reserve(s, want, tail)) break;
        size_t avail = (s->cap < max ? s->cap : max) - s->len;
        struct imap_out o;
        imap_out_init(&o, s->buf + s->len, avail);
        w(&o, arg);
        EXPECT(!o.invalid); /* everything we write is ours and legal */
        if (!o.overflow) {
            struct qev *e = push(s, IMAP_SERVER_EV_SEND);
            if (!e) return false;
            e->off = s->len;
            e->len = o.len;
            s->len += o.len;
            return true;
        }
        if (avail == max - s->len) break; /* it does not fit even at the maximum */
        want = avail * 2;
    }
    s->overflow = true;
    return false;
}

static void write_resp(struct imap_out *o, const void *arg)
{
    imap_out_response(o, arg);
}

static bool send_resp(struct imap_server *s, const struct imap_response *r, bool tail)
{
    return send_with(s, write_resp, r, tail);
}

/* Copies s[0..n) and a NUL into the arena; returns its offset. */
static size_t keep(struct imap_server *s, const char *p, size_t n)
{
    if (!reserve(s, n + 1, true)) return SIZE_MAX;
    size_t off = s->len;
    memcpy(s->buf + off, p, n);
    s->buf[off + n] = 0;
    s->len += n + 1;
    return off;
}

/* ---- responses ---------------------------------------------------------- */

static struct imap_str str_of(const char *p)
{
    return (struct imap_str){p, strlen(p), false};
}

/* "* OK/NO/BAD/BYE [code] text" (tag NULL) or "tag OK/NO/BAD [code] text". */
/* snprintf(out, cap, "%s", in) without the format engine: every command
 * copies its tag and verb a few times. */
static void copy_str(char *out, size_t cap, const char *in)
{
    size_t n = strlen(in);
    if (n >= cap) n = cap - 1;
    memcpy(out, in, n);
    out[n] = 0;
}

static void status_line(struct imap_server *s, const char *tag, enum imap_status st,
                        const struct imap_resp_code *code, const char *text)
{
    struct imap_response r;
    memset(&r, 0, sizeof r);
    r.kind = tag ? IMAP_RESP_TAGGED : IMAP_RESP_STATE;
    if (tag) copy_str(r.tag, sizeof r.tag, tag);
    r.status = st;
    if (code) r.code = *code;
    r.text = str_of(text);
    send_resp(s, &r, tag != NULL);
}

static struct imap_resp_code code_n(enum imap_code c, uint32_t n1)
{
    struct imap_resp_code code;
    memset(&code, 0, sizeof code);
    code.code = c;
    code.n1 = n1;
    return code;
}

/* An RFC 5530 code imap.h has no name for: [AUTHENTICATIONFAILED] etc. */
static struct imap_resp_code code_other(const char *name)
{
    struct imap_resp_code code = code_n(IMAP_CODE_OTHER, 0);
    code.name = str_of(name);
    code.arg = (struct imap_str){"", 0, false};
    return code;
}

static void untagged_n(struct imap_server *s, enum imap_resp_kind kind, uint32_t n)
{
    struct imap_response r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.number = n;
    send_resp(s, &r, false);
}

/* The capabilities for the current state (RFC 3501 7.2.1). */
static size_t capabilities(const struct imap_server *s, struct imap_str *out)
{
    size_t n = 0;
    out[n++] = str_of("IMAP4rev1");
    if (s->state == IMAP_SERVER_NOT_AUTHENTICATED) {
        if (s->cfg.starttls_offered && !s->tls) out[n++] = str_of("STARTTLS");
        /* RFC 3501 6.2.3: LOGINDISABLED when plaintext login is refused;
         * PLAIN is plaintext too, so it is not offered either. */
        if (s->cfg.login_needs_tls && !s->tls)
            out[n++] = str_of("LOGINDISABLED");
        else
            out[n++] = str_of("AUTH=PLAIN");
    }
    out[n++] = str_of("IDLE");
    out[n++] = str_of("UIDPLUS");
    if (s->cfg.condstore) out[n++] = str_of("CONDSTORE"); /* RFC 7162 3 */
    return n;
}

/* ---- state -------------------------------------------------------------- */

/* The one place the state changes; every change is an event. */
static void set_state(struct imap_server *s, enum imap_server_state to)
{
    EXPECT(to < IMAP_SERVER_STATE_COUNT);
    if (s->state == to) return;
    struct qev *e = push(s, IMAP_SERVER_EV_STATE);
    if (e) {
        e->from = s->state;
        e->to = to;
    }
    s->state = to;
}

static void deselect(struct imap_server *s)
{
    s->n = 0;
    s->folder[0] = 0;
    s->pending_gone = false;
    s->read_only = false;
    if (s->state == IMAP_SERVER_SELECTED) set_state(s, IMAP_SERVER_AUTHENTICATED);
}

/* ---- the store: names, events ------------------------------------------ */

#define OPS(s) ((s)->cfg.mailbox.ops)
#define CTX(s) ((s)->cfg.mailbox.ctx)

static bool cstr(char *dst, size_t cap, const struct imap_str *src)
{
    if (src->nil || src->len >= cap) return false;
    memcpy(dst, src->ptr, src->len);
    dst[src->len] = 0;
    return true;
}

static uint32_t max_uid(const struct imap_server *s)
{
    return s->n ? s->msgs[s->n - 1].uid : 0;
}

struct fetch_flags_arg {
    uint32_t seq, uid;
    unsigned flags;
    bool with_uid;
    uint64_t modseq; /* 0: no MODSEQ item */
};

/* "* seq FETCH (FLAGS (...) [UID n] [MODSEQ (m)])". */
static void write_fetch_flags(struct imap_out *o, const void *arg)
{
    const struct fetch_flags_arg *a = arg;
    imap_out_cstr(o, "* ");
    imap_out_number(o, a->seq);
    imap_out_cstr(o, " FETCH (FLAGS ");
    imap_fetch_flags(o, a->flags);
    if (a->with_uid) {
        imap_out_cstr(o, " UID ");
        imap_out_number(o, a->uid);
    }
    if (a->modseq) {
        imap_out_cstr(o, " MODSEQ (");
        imap_out_number(o, a->modseq);
        imap_out_raw(o, ")", 1);
    }
    imap_out_cstr(o, ")\r\n");
}

/* RFC 7162 3.2: once CONDSTORE is enabled, every FETCH response, the
 * unsolicited ones included, carries the message's MODSEQ. */
static void send_flags(struct imap_server *s, uint32_t i, bool with_uid)
{
    struct smsg *m = &s->msgs[i];
    struct fetch_flags_arg a = {i + 1, m->uid, m->flags | (m->recent ? IMAP_FLAG_RECENT : 0u),
                                with_uid, s->condstore ? m->modseq : 0};
    send_with(s, write_fetch_flags, &a, false);
}

/* Sends "* n EXPUNGE" for message index i and renumbers: every later
 * message moves down by one (RFC 3501 7.4.1). */
static void expunge_at(struct imap_server *s, uint32_t i)
{
    untagged_n(s, IMAP_RESP_EXPUNGE, i + 1);
    memmove(&s->msgs[i], &s->msgs[i + 1], (s->n - i - 1) * sizeof s->msgs[0]);
    s->n--;
}

static uint32_t recent_count(const struct imap_server *s)
{
    uint32_t r = 0;
    for (uint32_t i = 0; i < s->n; i++) r += s->msgs[i].recent;
    return r;
}

/* Compares the view with the store and tells the client what other
 * sessions changed: FETCH FLAGS for changed flags, EXPUNGE for removed
 * messages when allowed (RFC 3501 7.4.1: not during FETCH, STORE, SEARCH),
 * then EXISTS and RECENT for new messages (7.3.1, 7.3.2). */
static void sync(struct imap_server *s, bool allow_expunge)
{
    if (s->state != IMAP_SERVER_SELECTED) return;
    struct imap_mbx_status st;
    if (OPS(s)->status(CTX(s), s->user, s->folder, &st) != IMAP_MBX_OK) return;
    if (st.modseq != s->modseq) {
        s->modseq = st.modseq;
        uint32_t j = 0, added = 0;
        for (uint32_t i = 0; i < st.count; i++) {
            struct imap_mbx_msg m;
            if (OPS(s)->msg_at(CTX(s), s->user, s->folder, i, &m) != IMAP_MBX_OK) break;
            while (j < s->n && s->msgs[j].uid < m.uid) {
                if (!s->msgs[j].gone) s->pending_gone = true;
                s->msgs[j++].gone = true;
            }
            if (j < s->n && s->msgs[j].uid == m.uid) {
                struct smsg *v = &s->msgs[j];
                if (!v->gone && v->flags != (m.flags & IMAP_MBX_FLAGS)) {
                    v->flags = m.flags & IMAP_MBX_FLAGS;
                    v->modseq = m.modseq;
                    send_flags(s, j, false);
                }
                j++;
            } else if (j == s->n && (s->n == 0 || m.uid > max_uid(s))
                       && s->n < IMAP_SERVER_MAX_MSGS) {
                /* A new message (a full view leaves the rest unnumbered
                 * until the folder is selected again). */
                struct smsg *v = &s->msgs[s->n++];
                v->uid = m.uid;
                v->flags = m.flags & IMAP_MBX_FLAGS;
                v->modseq = m.modseq;
                v->gone = false;
                /* As at SELECT: EXAMINE shows \Recent without taking it. */
                v->recent = m.recent_unclaimed
                            && (s->read_only
                                || OPS(s)->claim_recent(CTX(s), s->user, s->folder, m.uid)
                                       == IMAP_MBX_OK);
                j = s->n;
                added++;
            }
        }
        for (; j < s->n; j++) {
            if (!s->msgs[j].gone) s->pending_gone = true;
            s->msgs[j].gone = true;
        }
        if (added) {
            /* EXPUNGEs (if any are allowed now) come first so EXISTS below
             * is the final count. */
            if (allow_expunge && s->pending_gone) {
                for (uint32_t i = 0; i < s->n;)
                    if (s->msgs[i].gone) expunge_at(s, i);
                    else i++;
                s->pending_gone = false;
            }
            untagged_n(s, IMAP_RESP_EXISTS, s->n);
            untagged_n(s, IMAP_RESP_RECENT, recent_count(s));
        }
    }
    if (allow_expunge && s->pending_gone) {
        for (uint32_t i = 0; i < s->n;)
            if (s->msgs[i].gone) expunge_at(s, i);
            else i++;
        s->pending_gone = false;
    }
}

/* ---- command handlers --------------------------------------------------- */

/* What a handler returns: the tagged response to end the command with. */
struct reply {
    enum imap_status status;
    struct imap_resp_code code;
    const char *text;
    char buf[64]; /* for texts made up on the spot */
};

/* A handler fills *r with the tagged reply and returns false; it returns
 * true when the command goes on past this line (AUTHENTICATE waiting for
 * the client's response, IDLE waiting for DONE). */
typedef bool (*handler_fn)(struct imap_server *s, const struct imap_command *c, struct reply *r);

static void ok(struct reply *r, const char *text)
{
    r->status = IMAP_OK;
    r->text = text;
}

static void no(struct reply *r, const char *text)
{
    r->status = IMAP_NO;
    r->text = text;
}

static void bad(struct reply *r, const char *text)
{
    r->status = IMAP_BAD;
    r->text = text;
}

static bool h_capability(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)c;
    struct imap_str caps[8];
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = IMAP_RESP_CAPABILITY;
    resp.atoms = caps;
    resp.natoms = capabilities(s, caps);
    send_resp(s, &resp, false);
    ok(r, "CAPABILITY completed");
    return false;
}

static bool h_noop(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)s;
    ok(r, c->cmd == IMAP_CMD_CHECK ? "CHECK completed" : "NOOP completed");
    return false;
}

static bool h_logout(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)c;
    /* RFC 3501 6.1.3: BYE first, then the tagged OK. */
    status_line(s, NULL, IMAP_BYE, NULL, "IMAP4rev1 server terminating connection");
    ok(r, "LOGOUT completed");
    return false;
}

static bool h_starttls(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)c;
    if (s->tls || !s->cfg.starttls_offered) {
        bad(r, "STARTTLS not available");
        return false;
    }
    ok(r, "Begin TLS negotiation now");
    s->tls_wait = true;
    return false;
}

static void logged_in(struct imap_server *s, const char *user, struct reply *r)
{
    snprintf(s->user, sizeof s->user, "%s", user);
    set_state(s, IMAP_SERVER_AUTHENTICATED);
    ok(r, "LOGIN completed");
}

static bool login_disabled(const struct imap_server *s)
{
    return s->cfg.login_needs_tls && !s->tls;
}

static bool h_login(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char user[IMAP_MBX_USER_MAX + 1], pass[IMAP_MBX_USER_MAX + 1];
    if (login_disabled(s)) {
        /* RFC 3501 6.2.3 with LOGINDISABLED; the code is RFC 5530's. */
        r->code = code_other("PRIVACYREQUIRED");
        no(r, "LOGIN disabled until STARTTLS");
        return false;
    }
    if (!cstr(user, sizeof user, &c->user) || !cstr(pass, sizeof pass, &c->password)
        || OPS(s)->authenticate(CTX(s), user, pass) != IMAP_MBX_OK) {
        r->code = code_other("AUTHENTICATIONFAILED");
        no(r, "Authentication failed");
        return false;
    }
    logged_in(s, user, r);
    return false;
}

/* Checks a decoded SASL PLAIN message (RFC 4616) and logs in. */
static void plain(struct imap_server *s, const char *b64, size_t n, struct reply *r)
{
    struct sasl_plain sp;
    if (sasl_plain_decode(b64, n, &sp) != 0) {
        bad(r, "Invalid SASL PLAIN response");
        return;
    }
    /* Acting as another user (an authzid other than the authcid) is not
     * supported: RFC 4616 2 lets the server refuse it. */
    if ((sp.authzid[0] && strcmp(sp.authzid, sp.authcid) != 0)
        || strlen(sp.authcid) > IMAP_MBX_USER_MAX || strlen(sp.passwd) > IMAP_MBX_USER_MAX
        || OPS(s)->authenticate(CTX(s), sp.authcid, sp.passwd) != IMAP_MBX_OK) {
        r->code = code_other("AUTHENTICATIONFAILED");
        no(r, "Authentication failed");
        return;
    }
    memcpy(s->user, sp.authcid, strlen(sp.authcid) + 1); /* length checked above */
    set_state(s, IMAP_SERVER_AUTHENTICATED);
    ok(r, "AUTHENTICATE completed");
}

static bool h_authenticate(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    if (!(c->mechanism.len == 5 && ascii_ncasecmp(c->mechanism.ptr, "PLAIN", 5) == 0)) {
        no(r, "Unsupported authentication mechanism");
        return false;
    }
    if (login_disabled(s)) {
        r->code = code_other("PRIVACYREQUIRED");
        no(r, "Plaintext authentication disabled until STARTTLS");
        return false;
    }
    if (c->has_initial) { /* RFC 4959 SASL-IR */
        plain(s, c->initial.ptr, c->initial.len, r);
        return false;
    }
    /* RFC 3501 6.2.2: an empty challenge for PLAIN is "+ " and CRLF. */
    send_raw(s, "+ \r\n", 4, false);
    imap_cmd_parser_expect(s->parser, IMAP_EXPECT_SASL);
    snprintf(s->cmd_tag, sizeof s->cmd_tag, "%s", c->tag);
    s->sasl = true;
    return true;
}

static void send_select_data(struct imap_server *s, const struct imap_mbx_status *st)
{
    static const struct imap_str sysflags[] = {
        {"\\Answered", 9, false}, {"\\Flagged", 8, false}, {"\\Deleted", 8, false},
        {"\\Seen", 5, false}, {"\\Draft", 6, false},
    };
    uint32_t unseen = 0;
    for (uint32_t i = 0; i < s->n && !unseen; i++)
        if (!(s->msgs[i].flags & IMAP_FLAG_SEEN)) unseen = i + 1;
    char text[80];
    /* RFC 3501 6.3.1's order: EXISTS, RECENT, UNSEEN, UIDVALIDITY,
     * UIDNEXT, FLAGS, PERMANENTFLAGS. */
    untagged_n(s, IMAP_RESP_EXISTS, s->n);
    untagged_n(s, IMAP_RESP_RECENT, recent_count(s));
    if (unseen) {
        struct imap_resp_code code = code_n(IMAP_CODE_UNSEEN, unseen);
        snprintf(text, sizeof text, "Message %u is the first unseen message", (unsigned)unseen);
        status_line(s, NULL, IMAP_OK, &code, text);
    }
    struct imap_resp_code code = code_n(IMAP_CODE_UIDVALIDITY, st->uidvalidity);
    status_line(s, NULL, IMAP_OK, &code, "UIDs valid");
    code = code_n(IMAP_CODE_UIDNEXT, st->uidnext);
    status_line(s, NULL, IMAP_OK, &code, "Predicted next UID");
    if (s->cfg.condstore) {
        /* RFC 7162 3.1.2.1: a server with CONDSTORE sends HIGHESTMODSEQ on
         * every successful SELECT and EXAMINE; NOMODSEQ (3.1.2.2) when
         * the mailbox keeps no mod-sequences */
        if (st->modseq) {
            code = code_n(IMAP_CODE_HIGHESTMODSEQ, 0);
            code.modseq = st->modseq;
            status_line(s, NULL, IMAP_OK, &code, "Highest");
        } else {
            code = code_n(IMAP_CODE_NOMODSEQ, 0);
            status_line(s, NULL, IMAP_OK, &code, "Sorry, this mailbox format doesn't support modsequences");
        }
    }
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = IMAP_RESP_FLAGS;
    resp.atoms = sysflags;
    resp.natoms = ARRAY_LEN(sysflags);
    send_resp(s, &resp, false);
    /* No keywords are kept, so no \* (RFC 3501 7.1); read-only: none. */
    code = code_n(IMAP_CODE_PERMANENTFLAGS, 0);
    code.atoms = sysflags;
    code.natoms = s->read_only ? 0 : ARRAY_LEN(sysflags);
    status_line(s, NULL, IMAP_OK, &code, s->read_only ? "No permanent flags permitted" : "Limited");
}

static bool h_select(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char name[IMAP_MBX_NAME_MAX + 1];
    struct imap_mbx_status st;
    if (c->condstore && !s->cfg.condstore) { /* RFC 4466 2.1: not offered */
        bad(r, "Unknown SELECT parameter");
        return false;
    }
    /* RFC 3501 6.3.1: SELECT deselects first, even when it fails. */
    deselect(s);
    if (!cstr(name, sizeof name, &c->mailbox)
        || OPS(s)->status(CTX(s), s->user, name, &st) != IMAP_MBX_OK) {
        r->code = code_other("NONEXISTENT");
        no(r, "Mailbox does not exist");
        return false;
    }
    if (st.count > IMAP_SERVER_MAX_MSGS) {
        r->code = code_other("LIMIT");
        no(r, "Mailbox has too many messages for this server");
        return false;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < st.count; i++) {
        struct imap_mbx_msg m;
        if (OPS(s)->msg_at(CTX(s), s->user, name, i, &m) != IMAP_MBX_OK) break;
        struct smsg *v = &s->msgs[n++];
        v->uid = m.uid;
        v->flags = m.flags & IMAP_MBX_FLAGS;
        v->modseq = m.modseq;
        v->gone = false;
        /* EXAMINE does not take \Recent away from others (RFC 3501 6.3.2
         * leaves it open; taking it would make a read-only look a write). */
        v->recent = m.recent_unclaimed
                    && (c->cmd == IMAP_CMD_EXAMINE
                        || OPS(s)->claim_recent(CTX(s), s->user, name, m.uid) == IMAP_MBX_OK);
    }
    s->n = n;
    snprintf(s->folder, sizeof s->folder, "%s", name);
    s->uidvalidity = st.uidvalidity;
    s->modseq = st.modseq;
    s->read_only = c->cmd == IMAP_CMD_EXAMINE;
    if (c->condstore) s->condstore = true; /* RFC 7162 3.1.8: it stays on */
    set_state(s, IMAP_SERVER_SELECTED);
    send_select_data(s, &st);
    r->code = code_n(s->read_only ? IMAP_CODE_READ_ONLY : IMAP_CODE_READ_WRITE, 0);
    ok(r, s->read_only ? "EXAMINE completed" : "SELECT completed");
    return false;
}

static void result_text(struct reply *r, enum imap_mbx_result res, const char *done)
{
    switch (res) {
    case IMAP_MBX_OK: ok(r, done); return;
    case IMAP_MBX_NONEXISTENT: r->code = code_other("NONEXISTENT"); no(r, "Mailbox does not exist"); return;
    case IMAP_MBX_EXISTS: r->code = code_other("ALREADYEXISTS"); no(r, "Mailbox already exists"); return;
    case IMAP_MBX_DENIED: r->code = code_other("CANNOT"); no(r, "Operation not permitted"); return;
    case IMAP_MBX_FULL: r->code = code_other("LIMIT"); no(r, "Store limit reached"); return;
    case IMAP_MBX_RESULT_COUNT: break;
    }
    EXPECT(!"mailbox result out of range");
}

static bool h_folder(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char a[IMAP_MBX_NAME_MAX + 1], b[IMAP_MBX_NAME_MAX + 1];
    if (!cstr(a, sizeof a, &c->mailbox)
        || (c->cmd == IMAP_CMD_RENAME && !cstr(b, sizeof b, &c->mailbox2))) {
        r->code = code_other("LIMIT");
        no(r, "Mailbox name too long");
        return false;
    }
    enum imap_mbx_result res;
    switch (c->cmd) {
    case IMAP_CMD_CREATE:
        res = OPS(s)->create(CTX(s), s->user, a);
        result_text(r, res, "CREATE completed");
        break;
    case IMAP_CMD_DELETE:
        res = OPS(s)->remove(CTX(s), s->user, a);
        result_text(r, res, "DELETE completed");
        break;
    case IMAP_CMD_RENAME:
        res = OPS(s)->rename(CTX(s), s->user, a, b);
        result_text(r, res, "RENAME completed");
        break;
    case IMAP_CMD_SUBSCRIBE:
    case IMAP_CMD_UNSUBSCRIBE:
        res = OPS(s)->subscribe(CTX(s), s->user, a, c->cmd == IMAP_CMD_SUBSCRIBE);
        result_text(r, res, c->cmd == IMAP_CMD_SUBSCRIBE ? "SUBSCRIBE completed"
                                                         : "UNSUBSCRIBE completed");
        break;
    default: EXPECT(!"not a folder command");
    }
    return false;
}

/* RFC 3501 6.3.8: "*" matches anything, "%" anything but the delimiter.
 * Row by row over the pattern (dynamic programming), so a pattern full of
 * wildcards costs pattern x name steps, never an exponential backtrack. */
static bool wildmat(const char *pat, size_t pn, const char *name)
{
    size_t nn = strlen(name);
    bool row[IMAP_MBX_NAME_MAX + 2], next[IMAP_MBX_NAME_MAX + 2];
    if (nn > IMAP_MBX_NAME_MAX) return false;
    memset(row, 0, sizeof row);
    row[0] = true; /* the empty pattern matches the empty name */
    for (size_t i = 0; i < pn; i++) {
        char c = pat[i];
        next[0] = row[0] && (c == '*' || c == '%');
        for (size_t j = 1; j <= nn; j++) {
            char ch = name[j - 1];
            if (c == '*') next[j] = row[j] || next[j - 1];
            else if (c == '%') next[j] = row[j] || (next[j - 1] && ch != DELIM);
            else next[j] = row[j - 1] && ch == c;
        }
        memcpy(row, next, (nn + 1) * sizeof row[0]);
    }
    return row[nn];
}

static bool h_list(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    bool lsub = c->cmd == IMAP_CMD_LSUB;
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = lsub ? IMAP_RESP_LSUB : IMAP_RESP_LIST;
    resp.delimiter = DELIM;
    if (c->mailbox2.len == 0) {
        /* RFC 3501 6.3.8: an empty pattern asks for the delimiter. */
        static const struct imap_str noselect = {"\\Noselect", 9, false};
        resp.atoms = &noselect;
        resp.natoms = 1;
        resp.mailbox = (struct imap_str){"", 0, false};
        send_resp(s, &resp, false);
        ok(r, lsub ? "LSUB completed" : "LIST completed");
        return false;
    }
    char pat[2 * IMAP_MBX_NAME_MAX + 2];
    size_t pn = c->mailbox.len + c->mailbox2.len;
    if (pn >= sizeof pat) {
        bad(r, "Pattern too long");
        return false;
    }
    memcpy(pat, c->mailbox.ptr, c->mailbox.len);
    memcpy(pat + c->mailbox.len, c->mailbox2.ptr, c->mailbox2.len);
    pat[pn] = 0;
    if (pn == 5 && ascii_ncasecmp(pat, "INBOX", 5) == 0) memcpy(pat, "INBOX", 5);
    struct imap_mbx_folder *fs = malloc(IMAP_SERVER_MAX_FOLDERS * sizeof *fs);
    size_t nf = 0;
    if (!fs || OPS(s)->list(CTX(s), s->user, fs, IMAP_SERVER_MAX_FOLDERS, &nf) != IMAP_MBX_OK) {
        free(fs);
        no(r, "LIST failed");
        return false;
    }
    for (size_t i = 0; i < nf; i++) {
        if (lsub && !fs[i].subscribed) continue;
        if (!wildmat(pat, pn, fs[i].name)) continue;
        struct imap_str attrs[4];
        size_t na = 0;
        if (fs[i].attrs & IMAP_MBX_NOSELECT) attrs[na++] = str_of("\\Noselect");
        if (fs[i].attrs & IMAP_MBX_NOINFERIORS) attrs[na++] = str_of("\\Noinferiors");
        if (fs[i].attrs & IMAP_MBX_MARKED) attrs[na++] = str_of("\\Marked");
        if (fs[i].attrs & IMAP_MBX_UNMARKED) attrs[na++] = str_of("\\Unmarked");
        resp.atoms = attrs;
        resp.natoms = na;
        resp.mailbox = str_of(fs[i].name);
        send_resp(s, &resp, false);
    }
    free(fs);
    ok(r, lsub ? "LSUB completed" : "LIST completed");
    return false;
}

static bool h_status(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char name[IMAP_MBX_NAME_MAX + 1];
    struct imap_mbx_status st;
    if (!cstr(name, sizeof name, &c->mailbox)
        || OPS(s)->status(CTX(s), s->user, name, &st) != IMAP_MBX_OK) {
        r->code = code_other("NONEXISTENT");
        no(r, "Mailbox does not exist");
        return false;
    }
    uint32_t recent = 0, unseen = 0;
    for (uint32_t i = 0; i < st.count; i++) {
        struct imap_mbx_msg m;
        if (OPS(s)->msg_at(CTX(s), s->user, name, i, &m) != IMAP_MBX_OK) break;
        recent += m.recent_unclaimed;
        unseen += !(m.flags & IMAP_FLAG_SEEN);
    }
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = IMAP_RESP_STATUS;
    resp.mailbox = c->mailbox;
    resp.status_items = c->status_items;
    resp.status_values[IMAP_STATUS_MESSAGES] = st.count;
    resp.status_values[IMAP_STATUS_RECENT] = recent;
    resp.status_values[IMAP_STATUS_UIDNEXT] = st.uidnext;
    resp.status_values[IMAP_STATUS_UIDVALIDITY] = st.uidvalidity;
    resp.status_values[IMAP_STATUS_UNSEEN] = unseen;
    send_resp(s, &resp, false);
    ok(r, "STATUS completed");
    return false;
}

static unsigned flag_bits(const struct imap_str *flags, size_t n)
{
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) bits |= imap_flag_bit(flags[i].ptr, flags[i].len);
    return bits & IMAP_MBX_FLAGS; /* keywords are not kept; \Recent cannot be set */
}

static bool h_append(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char name[IMAP_MBX_NAME_MAX + 1];
    struct imap_mbx_status st;
    if (!cstr(name, sizeof name, &c->mailbox)
        || OPS(s)->status(CTX(s), s->user, name, &st) != IMAP_MBX_OK) {
        /* RFC 3501 6.3.11: a missing destination gets [TRYCREATE]. */
        r->code = code_n(IMAP_CODE_TRYCREATE, 0);
        no(r, "Mailbox does not exist");
        return false;
    }
    int64_t date = s->now;
    int zone = s->zone;
    if (c->has_date) {
        const struct imap_datetime *d = &c->date;
        date = imap_days_from_civil(d->date.year, d->date.month, d->date.day) * 86400
               + d->hour * 3600 + d->min * 60 + d->sec - (int64_t)d->zone * 60;
        zone = d->zone;
    }
    uint32_t validity, uid;
    enum imap_mbx_result res = OPS(s)->append(CTX(s), s->user, name, flag_bits(c->flags, c->nflags),
                                              date, zone, c->message.ptr, c->message.len,
                                              &validity, &uid);
    if (res != IMAP_MBX_OK) {
        result_text(r, res, "");
        return false;
    }
    struct qev *e = push(s, IMAP_SERVER_EV_APPENDED);
    if (e) {
        e->uid = uid;
        e->tag_off = keep(s, name, strlen(name));
    }
    r->code = code_n(IMAP_CODE_APPENDUID, validity);
    r->code.n2 = uid;
    ok(r, "APPEND completed");
    return false;
}

/* Checks a sequence-number set: every number must name a message (RFC 3501
 * 9 seq-number: "*" is the largest; 6.4.8: UIDs that do not exist are
 * simply ignored). */
static bool valid_set(const struct imap_server *s, const struct imap_command *c)
{
    if (c->uid) return true;
    for (size_t i = 0; i < c->set.n; i++) {
        const struct imap_range *g = &c->set.ranges[i];
        if ((g->lo != IMAP_STAR && g->lo > s->n) || (g->hi != IMAP_STAR && g->hi > s->n))
            return false;
        if (s->n == 0) return false; /* "*" of an empty mailbox */
    }
    return true;
}

static bool in_set(const struct imap_server *s, const struct imap_command *c, uint32_t i)
{
    return c->uid ? imap_seqset_contains(&c->set, s->msgs[i].uid, max_uid(s))
                  : imap_seqset_contains(&c->set, i + 1, s->n);
}

/* Fills a msgref for message index i; false when the store lost it. The
 * store's msg_at is by index: its order is ascending UID like ours, so a
 * binary search finds the entry for the date and size. */
/* The mailbox's message count now (0 when the folder is gone), asked once
 * per command rather than once per message. */
static uint32_t mailbox_count(struct imap_server *s)
{
    struct imap_mbx_status st;
    if (OPS(s)->status(CTX(s), s->user, s->folder, &st) != IMAP_MBX_OK) return 0;
    return st.count;
}

/* Fills *m for message i from the mailbox, which holds count messages;
 * its text (data, len) only when with_data: flags, dates and sizes come
 * without it, and a flag sync asks for nothing else. */
static bool msgref(struct imap_server *s, uint32_t i, struct imap_msgref *m, uint32_t count,
                   bool with_data)
{
    struct smsg *v = &s->msgs[i];
    memset(m, 0, sizeof *m);
    m->seq = i + 1;
    m->uid = v->uid;
    m->flags = v->flags | (v->recent ? IMAP_FLAG_RECENT : 0u);
    uint32_t lo = 0, hi = count;
    /* the mailbox usually numbers its messages as this session does (no
     * other session expunged meanwhile): try that position first, then
     * search; a FETCH 1:* costs one lookup per message, not log n */
    bool guess = i < count;
    while (lo < hi) {
        uint32_t mid = guess ? i : lo + (hi - lo) / 2;
        guess = false;
        struct imap_mbx_msg mm;
        if (OPS(s)->msg_at(CTX(s), s->user, s->folder, mid, &mm) != IMAP_MBX_OK) return false;
        if (mm.uid == v->uid) {
            m->date = mm.internal_date;
            m->zone = mm.zone_minutes;
            m->size = mm.size;
            m->modseq = mm.modseq;
            v->modseq = mm.modseq;
            if (!with_data) return true;
            return OPS(s)->bytes(CTX(s), s->user, s->folder, v->uid, &m->data, &m->len)
                   == IMAP_MBX_OK;
        }
        if (mm.uid < v->uid) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

/* The folder's modseq now, 0 when it cannot be read. */
static uint64_t store_modseq(struct imap_server *s)
{
    struct imap_mbx_status st;
    if (OPS(s)->status(CTX(s), s->user, s->folder, &st) != IMAP_MBX_OK) return 0;
    return st.modseq;
}

/* After this session's own change to the folder: when the view was in step
 * with the folder just before it (before == the modseq last compared), the
 * view is in step after it too, so the next sync() need not walk the folder
 * to find that nothing else changed. before is 0 when it was not read. */
static void own_change(struct imap_server *s, uint64_t before)
{
    if (before && before == s->modseq) s->modseq = store_modseq(s);
}

static void set_flags(struct imap_server *s, uint32_t i, unsigned flags)
{
    struct smsg *v = &s->msgs[i];
    if (v->flags == flags) return;
    uint64_t before = store_modseq(s);
    if (OPS(s)->set_flags(CTX(s), s->user, s->folder, v->uid, flags) != IMAP_MBX_OK) return;
    own_change(s, before);
    v->flags = flags;
    if (s->condstore) { /* the new MODSEQ, for the FETCH that reports it */
        struct imap_msgref m;
        (void)msgref(s, i, &m, mailbox_count(s), false);
    }
    struct qev *e = push(s, IMAP_SERVER_EV_FLAGGED);
    if (e) {
        e->uid = v->uid;
        e->flags = flags;
        e->tag_off = keep(s, s->folder, strlen(s->folder));
    }
}

struct fetch_arg {
    struct imap_server *s;
    const struct imap_command *c;
    const struct imap_msgref *m;
    bool add_flags;
};

static void write_fetch(struct imap_out *o, const void *arg)
{
    const struct fetch_arg *a = arg;
    imap_fetch_write(o, a->s->sc, a->c->items, a->c->nitems, a->m, a->c->uid, a->add_flags,
                     a->s->condstore);
}

static bool h_fetch(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    if (!valid_set(s, c)) {
        bad(r, "Invalid message sequence number");
        return false;
    }
    bool seen = imap_fetch_sets_seen(c->items, c->nitems) && !s->read_only;
    /* RFC 7162 3.1: FETCH with MODSEQ or CHANGEDSINCE enables CONDSTORE;
     * a server that does not offer it knows neither (RFC 4466 2.4) */
    bool asks_modseq = c->has_changedsince;
    for (size_t k = 0; k < c->nitems; k++)
        if (c->items[k].item == IMAP_FETCH_MODSEQ) asks_modseq = true;
    if (asks_modseq && !s->cfg.condstore) {
        bad(r, "CONDSTORE is not offered");
        return false;
    }
    if (asks_modseq) s->condstore = true;
    /* Under CONDSTORE a FETCH's flags must be those of its MODSEQ: other
     * sessions' changes are taken in (and told, unsolicited, RFC 3501
     * 7.4.2) first, else a client would pair stale flags with a new MODSEQ
     * and never ask again. No EXPUNGE during FETCH (7.4.1). */
    if (s->condstore) sync(s, false);
    /* UID, FLAGS, INTERNALDATE, RFC822.SIZE (and FAST) need no text */
    bool with_data = false;
    for (size_t k = 0; k < c->nitems; k++) {
        enum imap_fetch_item it = c->items[k].item;
        if (it != IMAP_FETCH_FAST && it != IMAP_FETCH_FLAGS && it != IMAP_FETCH_INTERNALDATE &&
            it != IMAP_FETCH_RFC822_SIZE && it != IMAP_FETCH_UID && it != IMAP_FETCH_MODSEQ)
            with_data = true;
    }
    uint32_t count = mailbox_count(s);
    for (uint32_t i = 0; i < s->n && !s->overflow; i++) {
        if (s->msgs[i].gone || !in_set(s, c, i)) continue;
        struct imap_msgref m;
        /* RFC 7162 3.1.4.1: CHANGEDSINCE leaves out every message whose
         * mod-sequence is not above the value (read before \Seen is set) */
        if (c->has_changedsince
            && (!msgref(s, i, &m, count, false) || m.modseq <= c->changedsince))
            continue;
        bool changed = false;
        /* RFC 3501 6.4.5: BODY[...] without PEEK sets \Seen; the change
         * is reported in the same FETCH response. */
        if (seen && !(s->msgs[i].flags & IMAP_FLAG_SEEN)) {
            set_flags(s, i, s->msgs[i].flags | IMAP_FLAG_SEEN);
            changed = true;
        }
        if (!msgref(s, i, &m, count, with_data)) continue;
        struct fetch_arg a = {s, c, &m, changed};
        send_with(s, write_fetch, &a, false);
    }
    ok(r, c->uid ? "UID FETCH completed" : "FETCH completed");
    return false;
}

static bool h_store(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    if (!valid_set(s, c)) {
        bad(r, "Invalid message sequence number");
        return false;
    }
    if (s->read_only) {
        no(r, "Mailbox is read-only");
        return false;
    }
    unsigned bits = flag_bits(c->flags, c->nflags);
    for (uint32_t i = 0; i < s->n && !s->overflow; i++) {
        if (s->msgs[i].gone || !in_set(s, c, i)) continue;
        unsigned f = s->msgs[i].flags;
        f = c->store_op == IMAP_STORE_SET ? bits : c->store_op == IMAP_STORE_ADD ? f | bits : f & ~bits;
        set_flags(s, i, f);
        /* RFC 3501 6.4.6: the new flags come back unless .SILENT; under
         * UID STORE with the UID (6.4.8). */
        if (!c->silent) send_flags(s, i, c->uid);
    }
    /* The RFC 3501 section 8 sample ends STORE with "+FLAGS completed". */
    static const char *const done[2][3] = {
        {"FLAGS completed", "+FLAGS completed", "-FLAGS completed"},
        {"UID FLAGS completed", "UID +FLAGS completed", "UID -FLAGS completed"},
    };
    ok(r, done[c->uid][c->store_op == IMAP_STORE_SET ? 0 : c->store_op == IMAP_STORE_ADD ? 1 : 2]);
    return false;
}

static bool charset_ok(const struct imap_command *c)
{
    if (!c->has_charset) return true;
    return ascii_eq(c->charset.ptr, c->charset.len, "US-ASCII")
           || ascii_eq(c->charset.ptr, c->charset.len, "UTF-8");
}

static bool h_search(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    if (!charset_ok(c)) {
        static const struct imap_str sets[] = {{"US-ASCII", 8, false}, {"UTF-8", 5, false}};
        r->code = code_n(IMAP_CODE_BADCHARSET, 0);
        r->code.atoms = sets;
        r->code.natoms = 2;
        no(r, "Unsupported charset");
        return false;
    }
    size_t nn = 0;
    uint32_t count = mailbox_count(s);
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->msgs[i].gone) continue;
        struct imap_msgref m;
        if (!msgref(s, i, &m, count, true)) continue;
        if (imap_search_match(s->sc, c->keys, c->nkeys, &m, s->n, max_uid(s)))
            s->numbers[nn++] = c->uid ? m.uid : m.seq;
    }
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = IMAP_RESP_SEARCH;
    resp.numbers = s->numbers;
    resp.nnumbers = nn;
    send_resp(s, &resp, false);
    ok(r, c->uid ? "UID SEARCH completed" : "SEARCH completed");
    return false;
}

/* Adds n to a set being built as ranges, joining runs. */
static void add_range(struct imap_range *g, size_t *n, uint32_t v)
{
    if (*n && g[*n - 1].hi + 1 == v) {
        g[*n - 1].hi = v;
        return;
    }
    g[*n].lo = g[*n].hi = v;
    (*n)++;
}

static bool h_copy(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    char dest[IMAP_MBX_NAME_MAX + 1];
    struct imap_mbx_status st;
    if (!valid_set(s, c)) {
        bad(r, "Invalid message sequence number");
        return false;
    }
    if (!cstr(dest, sizeof dest, &c->mailbox)
        || OPS(s)->status(CTX(s), s->user, dest, &st) != IMAP_MBX_OK) {
        /* RFC 3501 6.4.7: [TRYCREATE] when the destination is missing. */
        r->code = code_n(IMAP_CODE_TRYCREATE, 0);
        no(r, "Mailbox does not exist");
        return false;
    }
    size_t n1 = 0, n2 = 0;
    uint32_t validity = st.uidvalidity;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->msgs[i].gone || !in_set(s, c, i)) continue;
        uint32_t nu;
        enum imap_mbx_result res = OPS(s)->copy(CTX(s), s->user, s->folder, s->msgs[i].uid, dest,
                                                &validity, &nu);
        if (res != IMAP_MBX_OK) {
            /* RFC 3501 6.4.7: a failed COPY should leave nothing behind;
             * this store cannot undo, so say what happened. */
            result_text(r, res, "");
            return false;
        }
        add_range(s->ranges[0], &n1, s->msgs[i].uid);
        add_range(s->ranges[1], &n2, nu);
        struct qev *e = push(s, IMAP_SERVER_EV_APPENDED);
        if (e) {
            e->uid = nu;
            e->tag_off = keep(s, dest, strlen(dest));
        }
    }
    if (n1) { /* RFC 4315 3: [COPYUID uidvalidity source-uids dest-uids] */
        r->code = code_n(IMAP_CODE_COPYUID, validity);
        r->code.set1 = (struct imap_seqset){s->ranges[0], n1};
        r->code.set2 = (struct imap_seqset){s->ranges[1], n2};
    }
    ok(r, c->uid ? "UID COPY completed" : "COPY completed");
    return false;
}

/* Removes \Deleted messages (in the UID set for UID EXPUNGE, RFC 4315 2.1),
 * announcing each with the renumbering rule unless silent (CLOSE). */
static void expunge_deleted(struct imap_server *s, const struct imap_command *c, bool silent)
{
    for (uint32_t i = 0; i < s->n;) {
        struct smsg *v = &s->msgs[i];
        if (v->gone || !(v->flags & IMAP_FLAG_DELETED) || (c && c->uid && !in_set(s, c, i))) {
            i++;
            continue;
        }
        uint64_t before = store_modseq(s);
        if (OPS(s)->expunge(CTX(s), s->user, s->folder, v->uid) != IMAP_MBX_OK) {
            i++;
            continue;
        }
        own_change(s, before);
        struct qev *e = push(s, IMAP_SERVER_EV_EXPUNGED);
        if (e) {
            e->uid = v->uid;
            e->tag_off = keep(s, s->folder, strlen(s->folder));
        }
        if (silent) {
            memmove(&s->msgs[i], &s->msgs[i + 1], (s->n - i - 1) * sizeof s->msgs[0]);
            s->n--;
        } else {
            expunge_at(s, i);
        }
    }
}

static bool h_expunge(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    if (s->read_only) {
        no(r, "Mailbox is read-only");
        return false;
    }
    sync(s, true); /* others' expunges first, so our numbers are right */
    expunge_deleted(s, c, false);
    ok(r, c->uid ? "UID EXPUNGE completed" : "EXPUNGE completed");
    return false;
}

static bool h_close(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)c;
    /* RFC 3501 6.4.2: expunge silently, except when read-only. */
    if (!s->read_only) expunge_deleted(s, NULL, true);
    deselect(s);
    ok(r, "CLOSE completed");
    return false;
}

static bool h_idle(struct imap_server *s, const struct imap_command *c, struct reply *r)
{
    (void)r;
    sync(s, true);
    struct imap_response resp;
    memset(&resp, 0, sizeof resp);
    resp.kind = IMAP_RESP_CONTINUE;
    resp.text = str_of("idling");
    send_resp(s, &resp, false);
    imap_cmd_parser_expect(s->parser, IMAP_EXPECT_DONE);
    snprintf(s->cmd_tag, sizeof s->cmd_tag, "%s", c->tag);
    s->idling = true;
    return true;
}

/* ---- the command table (RFC 3501 6) ------------------------------------- */

#define NA (1u << IMAP_SERVER_NOT_AUTHENTICATED)
#define AU (1u << IMAP_SERVER_AUTHENTICATED)
#define SE (1u << IMAP_SERVER_SELECTED)

static const struct {
    enum imap_cmd cmd;
    unsigned states;   /* where the command is valid */
    handler_fn fn;
} commands[] = {
    {IMAP_CMD_CAPABILITY, NA | AU | SE, h_capability}, /* 6.1 any state */
    {IMAP_CMD_NOOP, NA | AU | SE, h_noop},
    {IMAP_CMD_LOGOUT, NA | AU | SE, h_logout},
    {IMAP_CMD_STARTTLS, NA, h_starttls},               /* 6.2 not authenticated */
    {IMAP_CMD_LOGIN, NA, h_login},
    {IMAP_CMD_AUTHENTICATE, NA, h_authenticate},
    {IMAP_CMD_SELECT, AU | SE, h_select},              /* 6.3 authenticated */
    {IMAP_CMD_EXAMINE, AU | SE, h_select},
    {IMAP_CMD_CREATE, AU | SE, h_folder},
    {IMAP_CMD_DELETE, AU | SE, h_folder},
    {IMAP_CMD_RENAME, AU | SE, h_folder},
    {IMAP_CMD_SUBSCRIBE, AU | SE, h_folder},
    {IMAP_CMD_UNSUBSCRIBE, AU | SE, h_folder},
    {IMAP_CMD_LIST, AU | SE, h_list},
    {IMAP_CMD_LSUB, AU | SE, h_list},
    {IMAP_CMD_STATUS, AU | SE, h_status},
    {IMAP_CMD_APPEND, AU | SE, h_append},
    {IMAP_CMD_CHECK, SE, h_noop},                      /* 6.4 selected */
    {IMAP_CMD_CLOSE, SE, h_close},
    {IMAP_CMD_EXPUNGE, SE, h_expunge},
    {IMAP_CMD_SEARCH, SE, h_search},
    {IMAP_CMD_FETCH, SE, h_fetch},
    {IMAP_CMD_STORE, SE, h_store},
    {IMAP_CMD_COPY, SE, h_copy},
    {IMAP_CMD_IDLE, AU | SE, h_idle},                  /* RFC 2177 */
};

/* Ends a command: reports others' changes where allowed, then the tagged
 * response. */
static void finish(struct imap_server *s, const char *tag, enum imap_cmd cmd, bool uid,
                   struct reply *r)
{
    /* RFC 3501 7.4.1: no EXPUNGE while FETCH, STORE or SEARCH is in
     * progress; the UID forms may carry them. */
    bool seqcmd = !uid && (cmd == IMAP_CMD_FETCH || cmd == IMAP_CMD_STORE || cmd == IMAP_CMD_SEARCH);
    if (cmd != IMAP_CMD_LOGOUT && !s->overflow) sync(s, !seqcmd);
    if (s->overflow) {
        r->status = IMAP_NO;
        r->code = code_other("LIMIT");
        r->text = "Response too large";
    }
    status_line(s, tag, r->status, &r->code, r->text);
    s->overflow = false;
    if (cmd == IMAP_CMD_LOGOUT && r->status == IMAP_OK) {
        set_state(s, IMAP_SERVER_LOGOUT);
        push(s, IMAP_SERVER_EV_CLOSE);
    }
    if (cmd == IMAP_CMD_STARTTLS && s->tls_wait) push(s, IMAP_SERVER_EV_STARTTLS);
}

static const char *verb_of(const struct imap_command *c, char *buf, size_t cap)
{
    size_t o = 0;
    if (c->uid) {
        copy_str(buf, cap, "UID ");
        o = strlen(buf);
    }
    copy_str(buf + o, cap - o, imap_cmd_names[c->cmd]);
    return buf;
}

/* Queues the COMMAND event with the command's bytes as received. */
static void command_event(struct imap_server *s, const char *tag, const char *verb)
{
    size_t n = s->line_len;
    while (n && (s->line[n - 1] == '\n' || s->line[n - 1] == '\r')) n--;
    size_t to = keep(s, tag, strlen(tag)), vo = keep(s, verb, strlen(verb));
    size_t lo = keep(s, s->line, n);
    s->line_len = 0;
    struct qev *e = push(s, IMAP_SERVER_EV_COMMAND);
    if (!e || to == SIZE_MAX || vo == SIZE_MAX || lo == SIZE_MAX) return;
    e->tag_off = to;
    e->verb_off = vo;
    e->off = lo;
    e->len = n;
}

static void dispatch(struct imap_server *s, const struct imap_command *c)
{
    char verb[32];
    command_event(s, c->tag, verb_of(c, verb, sizeof verb));
    struct reply r;
    memset(&r, 0, sizeof r);
    size_t i = 0;
    while (i < ARRAY_LEN(commands) && commands[i].cmd != c->cmd) i++;
    EXPECT(i < ARRAY_LEN(commands)); /* the parser knows no other commands */
    if (!(commands[i].states & (1u << s->state))) {
        /* RFC 3501 6: a command in the wrong state is "command unknown or
         * arguments invalid", a BAD. */
        snprintf(r.buf, sizeof r.buf, "%s not valid in %s state", verb,
                 imap_server_state_names[s->state]);
        bad(&r, r.buf);
        status_line(s, c->tag, r.status, NULL, r.text);
        return;
    }
    if (commands[i].fn(s, c, &r)) return; /* it goes on */
    finish(s, c->tag, c->cmd, c->uid, &r);
}

/* ---- public ------------------------------------------------------------- */

/* Starts a session on s, whose tables and arena are allocated: everything
 * but them back to zero, then the greeting. */
static void start(struct imap_server *s, const struct imap_server_config *cfg)
{
    struct imap_cmd_parser *parser = s->parser;
    struct imap_scratch *sc = s->sc;
    struct smsg *msgs = s->msgs;
    char *buf = s->buf;
    size_t cap = s->cap;
    struct qev *q = s->q;
    size_t qcap = s->qcap;
    /* the COPYUID and SEARCH tables at the end (most of the size) are
     * filled before they are read: clearing them cost more than a short
     * session's work */
    memset(s, 0, offsetof(struct imap_server, ranges));
    s->parser = parser;
    s->sc = sc;
    s->msgs = msgs;
    s->buf = buf;
    s->cap = cap;
    s->q = q;
    s->qcap = qcap;
    s->cfg = *cfg;
    s->tls = cfg->tls_active;
    s->state = IMAP_SERVER_NOT_AUTHENTICATED;
    /* RFC 3501 7.1.1 greeting, with the capabilities as Dovecot sends them
     * so a client needs no CAPABILITY round trip. */
    struct imap_str caps[8];
    struct imap_resp_code code = code_n(IMAP_CODE_CAPABILITY, 0);
    code.atoms = caps;
    code.natoms = capabilities(s, caps);
    char text[128];
    snprintf(text, sizeof text, "%s IMAP4rev1 Service Ready",
             cfg->hostname ? cfg->hostname : "mailsim");
    status_line(s, NULL, IMAP_OK, &code, text);
}

struct imap_server *imap_server_new(const struct imap_server_config *cfg)
{
    EXPECT(cfg && cfg->mailbox.ops);
    struct imap_server *s = malloc(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, offsetof(struct imap_server, ranges));
    s->parser = imap_cmd_parser_new(0);
    s->sc = imap_scratch_new();
    s->msgs = malloc(IMAP_SERVER_MAX_MSGS * sizeof *s->msgs);
    if (!s->parser || !s->sc || !s->msgs) {
        imap_server_free(s);
        return NULL;
    }
    start(s, cfg);
    return s;
}

void imap_server_reset(struct imap_server *s, const struct imap_server_config *cfg)
{
    EXPECT(s && cfg && cfg->mailbox.ops);
    imap_cmd_parser_reset(s->parser);
    start(s, cfg);
}

void imap_server_free(struct imap_server *s)
{
    if (!s) return;
    imap_cmd_parser_free(s->parser);
    imap_scratch_free(s->sc);
    free(s->msgs);
    free(s->buf);
    free(s->q);
    free(s);
}

void imap_server_set_clock(struct imap_server *s, int64_t now, int zone_minutes)
{
    s->now = now;
    s->zone = zone_minutes;
}

size_t imap_server_feed(struct imap_server *s, const char *in, size_t n)
{
    if (s->drain || s->tls_wait || s->state == IMAP_SERVER_LOGOUT || n == 0) return 0;
    const char *lf = memchr(in, '\n', n);
    size_t take = lf ? (size_t)(lf - in) + 1 : n;
    size_t k = imap_cmd_parser_feed(s->parser, in, take);
    size_t keepn = k < sizeof s->line - s->line_len ? k : sizeof s->line - s->line_len;
    memcpy(s->line + s->line_len, in, keepn);
    s->line_len += keepn;
    /* Drain after each line, and whenever the parser stopped taking. */
    if (k < take || (lf && k == take)) s->drain = true;
    return k;
}

static void on_parser_event(struct imap_server *s, enum imap_cmd_ev ev, const struct imap_command *c)
{
    struct reply r;
    memset(&r, 0, sizeof r);
    switch (ev) {
    case IMAP_CMD_CONTINUE: /* RFC 3501 7.5: the client may send the literal */
        send_raw(s, IMAP_CONTINUE_LITERAL, strlen(IMAP_CONTINUE_LITERAL), true);
        return;
    case IMAP_CMD_COMMAND:
        dispatch(s, c);
        return;
    case IMAP_CMD_DONE: /* RFC 2177 3 */
        command_event(s, s->cmd_tag, "DONE");
        s->idling = false;
        ok(&r, "IDLE terminated");
        finish(s, s->cmd_tag, IMAP_CMD_IDLE, false, &r);
        return;
    case IMAP_CMD_SASL:
        command_event(s, s->cmd_tag, "AUTHENTICATE");
        s->sasl = false;
        if (c->sasl_cancelled) /* RFC 3501 6.2.2: "*" cancels, with BAD */
            bad(&r, "AUTHENTICATE cancelled");
        else
            plain(s, c->sasl_line.ptr, c->sasl_line.len, &r);
        finish(s, s->cmd_tag, IMAP_CMD_AUTHENTICATE, false, &r);
        return;
    case IMAP_CMD_ERROR: {
        command_event(s, c->tag, "?");
        /* RFC 2177 3: a line other than DONE ends IDLE; a bad SASL line
         * ends AUTHENTICATE. The parser answers both under their tag. */
        s->idling = false;
        s->sasl = false;
        char line[512];
        size_t n = imap_cmd_error_reply(c, line, sizeof line);
        if (n) send_raw(s, line, n, true);
        if (c->error == IMAP_ERR_NOMEM) {
            set_state(s, IMAP_SERVER_LOGOUT);
            push(s, IMAP_SERVER_EV_CLOSE);
        }
        return;
    }
    case IMAP_CMD_NEED_MORE:
    case IMAP_CMD_EV_COUNT: break;
    }
    EXPECT(!"parser event out of range");
}

enum imap_server_ev imap_server_next(struct imap_server *s, struct imap_server_event *ev)
{
    memset(ev, 0, sizeof *ev);
    for (;;) {
        if (s->qn > 0) {
            struct qev *e = &s->q[s->qhead++];
            s->qn--;
            ev->type = e->type;
            switch (e->type) {
            case IMAP_SERVER_EV_SEND:
                ev->data = s->buf + e->off;
                ev->len = e->len;
                break;
            case IMAP_SERVER_EV_COMMAND:
                ev->data = s->buf + e->off;
                ev->len = e->len;
                ev->tag = s->buf + e->tag_off;
                ev->verb = s->buf + e->verb_off;
                break;
            case IMAP_SERVER_EV_STATE:
                ev->from = e->from;
                ev->to = e->to;
                break;
            case IMAP_SERVER_EV_FLAGGED:
            case IMAP_SERVER_EV_EXPUNGED:
            case IMAP_SERVER_EV_APPENDED:
                ev->uid = e->uid;
                ev->flags = e->flags;
                ev->folder = e->tag_off != SIZE_MAX ? s->buf + e->tag_off : "";
                break;
            default: break;
            }
            return ev->type;
        }
        s->qhead = 0;
        s->len = 0; /* everything lent out before this call is returned */
        if (!s->drain) return IMAP_SERVER_NEED_MORE;
        struct imap_command cmd;
        enum imap_cmd_ev pe = imap_cmd_parser_next(s->parser, &cmd);
        if (pe == IMAP_CMD_NEED_MORE) {
            s->drain = false;
            return IMAP_SERVER_NEED_MORE;
        }
        on_parser_event(s, pe, &cmd);
    }
}

void imap_server_poll(struct imap_server *s)
{
    if (s->qn == 0) {
        s->qhead = 0;
        s->len = 0;
    }
    /* RFC 2177 3: while idling, changes go out as they happen. Otherwise
     * they wait for the next command's end. */
    if (s->idling) sync(s, true);
}

void imap_server_tls_started(struct imap_server *s)
{
    if (!s->tls_wait) return; /* no STARTTLS was answered: nothing to do */
    s->tls_wait = false;
    s->tls = true;
    s->drain = false;
    s->line_len = 0;
    imap_cmd_parser_reset(s->parser); /* RFC 3501 6.2.1: nothing from before */
}

enum imap_server_state imap_server_state(const struct imap_server *s)
{
    return s->state;
}

bool imap_server_idling(const struct imap_server *s)
{
    return s->idling;
}
