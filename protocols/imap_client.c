/* The IMAP4rev1 client session machine. See imap_client.h for the contract.
 * Commands are written by imap.h's command formatter, responses read by its
 * response reader; this file is the sync logic and the state machine. */
#include "protocols/imap_client.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"

/* Events one response can cause: a few, except the tagged end of UID SEARCH
 * or EXPUNGE, which can remove every cached message at once. */
#define MAX_EVENTS (IMAP_CLIENT_MAX_CACHE + 16)
/* A formatted command: LOGIN with two quoted strings of at most
 * IMAP_MBX_USER_MAX, or UID STORE with a flag list; 4 KiB is ample. */
#define CMD_MAX 4096
/* Literal continuation points in one command (LOGIN has two strings). */
#define MAX_SPLITS 4

const char *const imap_client_state_names[IMAP_CLIENT_STATE_COUNT] = {
    "greeting", "capability", "starttls", "tls", "login", "list", "select", "push-flags",
    "fetch-new", "fetch-flags", "search", "expunge", "idle", "done", "logout", "closed",
};

const char *const imap_client_ev_names[IMAP_CLIENT_EV_COUNT] = {
    "need-more", "send", "state", "folder", "reset", "new", "flags", "expunged",
    "starttls", "error", "close",
};

struct cev {
    enum imap_client_ev type;
    size_t off, len;   /* data in the arena */
    size_t text_off;   /* NUL-terminated text in the arena, SIZE_MAX: none */
    enum imap_client_state from, to;
    uint32_t uid;
    unsigned flags;
    uint32_t size;
};

struct imap_client {
    struct imap_client_config cfg;
    struct imap_client_cache *cache;
    char user[IMAP_MBX_USER_MAX + 1], pass[IMAP_MBX_USER_MAX + 1];
    char folder[IMAP_MBX_NAME_MAX + 1];
    char prefix[16];
    enum imap_client_state state;
    struct imap_resp_reader *rd;
    unsigned tagno;
    char tag[IMAP_MAX_TAG + 1];    /* the command in progress */
    bool caps_known, cap_starttls, cap_logindisabled, cap_idle, cap_condstore;
    bool condstore;                /* SELECT (CONDSTORE) was sent (RFC 7162 3.1) */
    uint64_t select_hms;           /* [HIGHESTMODSEQ] of SELECT; 0: none */
    uint64_t max_modseq;           /* highest MODSEQ seen in the flag fetch */
    bool push_refused;             /* a UID STORE was refused: stays dirty */
    bool tls;
    bool idling;                   /* "+" came back for IDLE */
    bool stop, wake;               /* requests from the caller */
    uint32_t exists;               /* EXISTS as last heard */
    uint32_t uidnext;              /* from SELECT; 0 when not known now */
    uint32_t select_exists;        /* EXISTS as SELECT reported it */
    bool expunged_seen;            /* an EXPUNGE came since SELECT */
    uint32_t validity;             /* from SELECT */
    uint32_t old_last;             /* cache->last_uid when this sync began */
    uint32_t new_max;              /* highest new UID seen in FETCH_NEW */
    size_t push_i;                 /* next cache entry to check for dirty flags */
    uint32_t pushing;              /* the UID whose flags are being stored */
    unsigned pushing_bits;         /* the flags that STORE adds or removes */
    bool pushing_add;              /* +FLAGS (else -FLAGS) */
    char cmd[CMD_MAX];             /* the command being sent in pieces */
    size_t cmd_len, splits[MAX_SPLITS], nsplits, split_i;
    char *buf;                     /* arena for event data */
    size_t len, cap;
    struct cev q[MAX_EVENTS];
    size_t qhead, qn;
};

/* ---- the cache ----------------------------------------------------------- */

static struct imap_client_msg *find(struct imap_client_cache *cache, uint32_t uid)
{
    size_t lo = 0, hi = cache->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cache->msgs[mid].uid == uid) return &cache->msgs[mid];
        if (cache->msgs[mid].uid < uid) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const struct imap_client_msg *imap_client_cache_find(const struct imap_client_cache *cache,
                                                     uint32_t uid)
{
    return find((struct imap_client_cache *)cache, uid);
}

bool imap_client_cache_set_flags(struct imap_client_cache *cache, uint32_t uid, unsigned flags)
{
    struct imap_client_msg *m = find(cache, uid);
    if (!m) return false;
    if (m->flags != (flags & IMAP_MBX_FLAGS)) {
        m->flags = flags & IMAP_MBX_FLAGS;
        m->dirty = true;
    }
    return true;
}

/* ---- events -------------------------------------------------------------- */

static bool reserve(struct imap_client *c, size_t want)
{
    if (want > IMAP_CLIENT_OUT_MAX || c->len > IMAP_CLIENT_OUT_MAX - want) return false;
    if (c->len + want <= c->cap) return true;
    size_t cap = c->cap ? c->cap : 8192;
    while (cap < c->len + want) cap *= 2;
    if (cap > IMAP_CLIENT_OUT_MAX) cap = IMAP_CLIENT_OUT_MAX;
    char *b = realloc(c->buf, cap);
    if (!b) return false;
    c->buf = b;
    c->cap = cap;
    return true;
}

/* Queues an event; data (may be NULL) and text (may be NULL) are copied. */
static struct cev *push(struct imap_client *c, enum imap_client_ev type, const char *data,
                        size_t len, const char *text)
{
    if (c->qhead + c->qn == MAX_EVENTS) {
        memmove(c->q, c->q + c->qhead, c->qn * sizeof c->q[0]);
        c->qhead = 0;
    }
    EXPECT(c->qn < MAX_EVENTS); /* see MAX_EVENTS */
    size_t tlen = text ? strlen(text) : 0;
    if (!reserve(c, len + tlen + 1)) {
        data = NULL; /* too big to show: the event goes out without it */
        len = 0;
        text = NULL;
        tlen = 0;
    }
    struct cev *e = &c->q[c->qhead + c->qn++];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->text_off = SIZE_MAX;
    if (data) {
        memcpy(c->buf + c->len, data, len);
        e->off = c->len;
        e->len = len;
        c->len += len;
    }
    if (text) {
        memcpy(c->buf + c->len, text, tlen + 1);
        e->text_off = c->len;
        c->len += tlen + 1;
    }
    return e;
}

static void send_bytes(struct imap_client *c, const char *p, size_t n)
{
    push(c, IMAP_CLIENT_EV_SEND, p, n, NULL);
}

/* The one place the state changes. */
static void set_state(struct imap_client *c, enum imap_client_state to)
{
    EXPECT(to < IMAP_CLIENT_STATE_COUNT);
    if (c->state == to) return;
    struct cev *e = push(c, IMAP_CLIENT_EV_STATE, NULL, 0, NULL);
    e->from = c->state;
    e->to = to;
    c->state = to;
}

/* ---- commands ------------------------------------------------------------ */

static void new_command(struct imap_client *c, struct imap_command *cmd, enum imap_cmd verb)
{
    memset(cmd, 0, sizeof *cmd);
    /* "%s%03u" of prefix and number, written by hand (once per command):
     * the prefix (< 16) and ten digits fit the tag */
    char digits[12];
    size_t k = 0;
    unsigned v = ++c->tagno;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k < 3) digits[k++] = '0';
    size_t o = strnlen(c->prefix, sizeof c->prefix - 1);
    memcpy(c->tag, c->prefix, o);
    while (k) c->tag[o++] = digits[--k];
    c->tag[o] = 0;
    memcpy(cmd->tag, c->tag, o + 1);
    cmd->cmd = verb;
}

/* Formats cmd and sends it, up to its first synchronising literal; the rest
 * goes out as "+" responses come (RFC 3501 7.5). Enters state to. */
static void send_command(struct imap_client *c, const struct imap_command *cmd,
                         enum imap_client_state to)
{
    set_state(c, to);
    c->cmd_len = imap_cmd_format(cmd, false, c->cmd, sizeof c->cmd, c->splits, MAX_SPLITS,
                                 &c->nsplits);
    EXPECT(c->cmd_len > 0); /* our commands are small and well-formed */
    c->split_i = 0;
    size_t end = c->nsplits ? c->splits[0] : c->cmd_len;
    send_bytes(c, c->cmd, end);
}

static struct imap_str str_of(const char *s)
{
    return (struct imap_str){s, strlen(s), false};
}

static void simple(struct imap_client *c, enum imap_cmd verb, enum imap_client_state to)
{
    struct imap_command cmd;
    new_command(c, &cmd, verb);
    send_command(c, &cmd, to);
}

static void fail(struct imap_client *c, const char *why);

static void do_login(struct imap_client *c)
{
    struct imap_command cmd;
    if (c->cfg.authenticate) {
        new_command(c, &cmd, IMAP_CMD_AUTHENTICATE);
        cmd.mechanism = str_of("PLAIN");
    } else {
        if (c->cap_logindisabled) { /* RFC 3501 7.2.1: LOGIN would fail */
            fail(c, "server disabled LOGIN (LOGINDISABLED)");
            return;
        }
        new_command(c, &cmd, IMAP_CMD_LOGIN);
        cmd.user = str_of(c->user);
        cmd.password = str_of(c->pass);
    }
    send_command(c, &cmd, IMAP_CLIENT_LOGIN);
}

static void do_select(struct imap_client *c)
{
    struct imap_command cmd;
    new_command(c, &cmd, IMAP_CMD_SELECT);
    cmd.mailbox = str_of(c->folder);
    /* RFC 7162 3.1.8: enable CONDSTORE and have HIGHESTMODSEQ reported */
    cmd.condstore = c->condstore = c->cap_condstore;
    c->select_hms = 0;
    c->uidnext = 0;
    c->validity = 0;
    c->expunged_seen = false;
    send_command(c, &cmd, IMAP_CLIENT_SELECT);
}

static void after_login(struct imap_client *c)
{
    if (c->cfg.list) {
        struct imap_command cmd;
        new_command(c, &cmd, IMAP_CMD_LIST);
        cmd.mailbox = str_of("");
        cmd.mailbox2 = str_of("*");
        send_command(c, &cmd, IMAP_CLIENT_LIST);
    } else {
        do_select(c);
    }
}

/* After the capabilities are known (greeting code, CAPABILITY, or none). */
static void after_caps(struct imap_client *c)
{
    if (c->cfg.starttls && !c->tls) {
        if (!c->caps_known) {
            simple(c, IMAP_CMD_CAPABILITY, IMAP_CLIENT_CAPABILITY);
            return;
        }
        if (c->cap_starttls) {
            simple(c, IMAP_CMD_STARTTLS, IMAP_CLIENT_STARTTLS);
            return;
        }
        /* Not offered: go on in the clear (the lesson shows why that is
         * bad); LOGINDISABLED still stops LOGIN below. */
    }
    do_login(c);
}

static void logout(struct imap_client *c)
{
    simple(c, IMAP_CMD_LOGOUT, IMAP_CLIENT_LOGOUT);
}

static void fail(struct imap_client *c, const char *why)
{
    push(c, IMAP_CLIENT_EV_ERROR, NULL, 0, why);
    logout(c);
}

static void uid_fetch(struct imap_client *c, uint32_t lo, uint32_t hi, bool whole,
                      uint64_t changedsince, enum imap_client_state to)
{
    struct imap_command cmd;
    struct imap_range range = {lo, hi};
    struct imap_fetch_att items[4];
    memset(items, 0, sizeof items);
    new_command(c, &cmd, IMAP_CMD_FETCH);
    cmd.uid = true;
    cmd.set = (struct imap_seqset){&range, 1};
    size_t n = 0;
    if (whole) items[n++].item = IMAP_FETCH_UID;
    items[n++].item = IMAP_FETCH_FLAGS;
    if (whole) {
        items[n++].item = IMAP_FETCH_RFC822_SIZE;
        items[n].item = IMAP_FETCH_BODY_SECTION; /* BODY.PEEK[]: not \Seen */
        items[n++].peek = true;
    }
    cmd.items = items;
    cmd.nitems = n;
    /* RFC 7162 3.1.4.1: only what changed since; MODSEQ comes with it */
    cmd.has_changedsince = changedsince != 0;
    cmd.changedsince = changedsince;
    send_command(c, &cmd, to);
}

static void after_sync(struct imap_client *c);

/* True when the cache provably lost nothing since the last sync: SELECT's
 * EXISTS is the folder's message count (RFC 3501 7.3.1) and UIDs only grow
 * (2.3.1.1), so when the cached messages below SELECT's UIDNEXT are exactly
 * EXISTS many, none of them was expunged before SELECT; one expunged later
 * would have been announced by an EXPUNGE response (7.4.1). Not provable
 * after IDLE (no SELECT), on a partial cache, or when an EXPUNGE came. */
static bool nothing_expunged(const struct imap_client *c)
{
    const struct imap_client_cache *k = c->cache;
    if (!c->uidnext || k->partial || c->expunged_seen) return false;
    uint32_t below = 0;
    for (size_t i = 0; i < k->n; i++) below += k->msgs[i].uid < c->uidnext;
    return below == c->select_exists;
}

static void do_search(struct imap_client *c)
{
    if (c->old_last == 0 || c->cache->n == 0 || nothing_expunged(c)) {
        /* nothing cached could be gone */
        after_sync(c);
        return;
    }
    struct imap_command cmd;
    struct imap_search_key all;
    memset(&all, 0, sizeof all);
    all.op = IMAP_SK_AND; /* the root: an AND of one key */
    struct imap_search_key keys[2] = {all, all};
    keys[0].first_child = 1;
    keys[0].next_sibling = -1;
    keys[1].op = IMAP_SK_ALL;
    keys[1].first_child = -1;
    keys[1].next_sibling = -1;
    new_command(c, &cmd, IMAP_CMD_SEARCH);
    cmd.uid = true;
    cmd.keys = keys;
    cmd.nkeys = 2;
    for (size_t i = 0; i < c->cache->n; i++) c->cache->msgs[i].mark = false;
    send_command(c, &cmd, IMAP_CLIENT_SEARCH);
}

/* The flags are in step with the server as of SELECT's HIGHESTMODSEQ (or
 * a later MODSEQ the fetch reported): remember it for the next sync. A
 * refused STORE leaves a message dirty whose server flags were not taken:
 * then forget it, and the next sync fetches every flag. */
static void flags_synced(struct imap_client *c)
{
    struct imap_client_cache *k = c->cache;
    uint64_t hms = c->select_hms > c->max_modseq ? c->select_hms : c->max_modseq;
    if (!c->condstore || c->push_refused) hms = 0;
    else if (!c->select_hms && k->highestmodseq > hms) hms = k->highestmodseq;
    k->highestmodseq = hms;
}

static void fetch_flags(struct imap_client *c)
{
    struct imap_client_cache *k = c->cache;
    c->max_modseq = 0;
    if (c->old_last == 0 || k->n == 0) {
        flags_synced(c);
        do_search(c);
        return;
    }
    uint64_t since = c->condstore ? k->highestmodseq : 0;
    /* RFC 7162 3.1.2.1: every flag change raises HIGHESTMODSEQ; when it
     * is where it was at the last sync, no flag changed */
    if (since && c->select_hms == since && !c->push_refused) {
        do_search(c);
        return;
    }
    uid_fetch(c, 1, c->old_last, false, since, IMAP_CLIENT_FETCH_FLAGS);
}

static void fetch_new(struct imap_client *c)
{
    c->new_max = 0;
    /* UIDNEXT from SELECT says whether anything is new (RFC 3501 2.3.1.1);
     * after IDLE it is unknown and the FETCH finds out. */
    if (c->exists == 0 || (c->uidnext && c->uidnext <= c->cache->last_uid + 1)) {
        fetch_flags(c);
        return;
    }
    uid_fetch(c, c->cache->last_uid + 1, IMAP_STAR, true, 0, IMAP_CLIENT_FETCH_NEW);
}

/* Stores the next locally changed message's flags, then fetches. */
static void push_flags(struct imap_client *c)
{
    for (; c->push_i < c->cache->n; c->push_i++) {
        struct imap_client_msg *m = &c->cache->msgs[c->push_i];
        if (!m->dirty) continue;
        /* Only what changed here: "FLAGS (...)" would replace the server's
         * set and undo a flag another device set meanwhile (lost update). */
        unsigned add = m->flags & ~m->server_flags, del = m->server_flags & ~m->flags;
        if (!add && !del) {
            m->dirty = false;
            continue;
        }
        unsigned bits = add ? add : del;
        struct imap_command cmd;
        struct imap_range range = {m->uid, m->uid};
        struct imap_str flags[5];
        size_t nf = 0;
        for (unsigned bit = IMAP_FLAG_SEEN; bit <= IMAP_FLAG_DRAFT; bit <<= 1)
            if (bits & bit) flags[nf++] = str_of(imap_flag_name(bit));
        new_command(c, &cmd, IMAP_CMD_STORE);
        cmd.uid = true;
        cmd.set = (struct imap_seqset){&range, 1};
        cmd.store_op = add ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
        cmd.silent = true;
        cmd.flags = flags;
        cmd.nflags = nf;
        c->pushing = m->uid;
        c->pushing_bits = bits;
        c->pushing_add = add != 0;
        /* push_i stays: after the reply this message is looked at again,
         * for a -FLAGS after a +FLAGS, or to clear dirty */
        send_command(c, &cmd, IMAP_CLIENT_PUSH_FLAGS);
        return;
    }
    fetch_new(c);
}

static void begin_sync(struct imap_client *c)
{
    c->wake = false;
    c->push_refused = false;
    c->old_last = c->cache->last_uid;
    c->push_i = 0;
    push_flags(c);
}

static void do_idle(struct imap_client *c)
{
    c->idling = false;
    simple(c, IMAP_CMD_IDLE, IMAP_CLIENT_IDLE);
}

static void after_sync(struct imap_client *c)
{
    if (!c->stop && c->cfg.expunge) {
        for (size_t i = 0; i < c->cache->n; i++)
            if (c->cache->msgs[i].flags & IMAP_FLAG_DELETED) {
                simple(c, IMAP_CMD_EXPUNGE, IMAP_CLIENT_EXPUNGE);
                return;
            }
    }
    if (c->wake && !c->stop) {
        begin_sync(c);
        return;
    }
    if (c->cfg.idle && !c->stop) do_idle(c);
    else logout(c);
}

/* Leaves IDLE (RFC 2177 3: DONE on its own line). */
static void done(struct imap_client *c)
{
    if (c->state != IMAP_CLIENT_IDLE || !c->idling) return;
    c->idling = false;
    send_bytes(c, IMAP_DONE_LINE, strlen(IMAP_DONE_LINE));
    set_state(c, IMAP_CLIENT_DONE);
}

/* ---- responses ----------------------------------------------------------- */

static void caps(struct imap_client *c, const struct imap_str *a, size_t n)
{
    c->caps_known = true;
    c->cap_starttls = c->cap_logindisabled = c->cap_idle = c->cap_condstore = false;
    for (size_t i = 0; i < n; i++) {
        if (ascii_eq(a[i].ptr, a[i].len, "STARTTLS")) c->cap_starttls = true;
        if (ascii_eq(a[i].ptr, a[i].len, "LOGINDISABLED")) c->cap_logindisabled = true;
        if (ascii_eq(a[i].ptr, a[i].len, "IDLE")) c->cap_idle = true;
        if (ascii_eq(a[i].ptr, a[i].len, "CONDSTORE")) c->cap_condstore = true;
    }
}

static void remove_at(struct imap_client *c, size_t i)
{
    struct imap_client_cache *k = c->cache;
    push(c, IMAP_CLIENT_EV_EXPUNGED, NULL, 0, NULL)->uid = k->msgs[i].uid;
    memmove(&k->msgs[i], &k->msgs[i + 1], (k->n - i - 1) * sizeof k->msgs[0]);
    k->n--;
}

static unsigned flags_of(const struct imap_msg_att *a)
{
    unsigned f = 0;
    for (size_t i = 0; i < a->nflags; i++) f |= imap_flag_bit(a->flags[i].ptr, a->flags[i].len);
    return f & IMAP_MBX_FLAGS;
}

static void on_fetch(struct imap_client *c, const struct imap_response *r)
{
    const struct imap_msg_att *uid = NULL, *flags = NULL, *size = NULL, *body = NULL;
    for (size_t i = 0; i < r->natts; i++) {
        const struct imap_msg_att *a = &r->atts[i];
        if (a->item == IMAP_FETCH_MODSEQ && c->state == IMAP_CLIENT_FETCH_FLAGS
            && a->modseq > c->max_modseq)
            c->max_modseq = a->modseq;
        if (a->item == IMAP_FETCH_UID) uid = a;
        else if (a->item == IMAP_FETCH_FLAGS) flags = a;
        else if (a->item == IMAP_FETCH_RFC822_SIZE) size = a;
        else if (a->item == IMAP_FETCH_BODY_SECTION || a->item == IMAP_FETCH_RFC822) body = a;
    }
    if (c->state == IMAP_CLIENT_IDLE || c->state == IMAP_CLIENT_DONE) {
        /* A flag change pushed during IDLE carries a sequence number only:
         * leave IDLE and fetch flags by UID. */
        c->wake = true;
        done(c);
        return;
    }
    if (!uid) return; /* without a UID it cannot be matched to the cache */
    struct imap_client_cache *k = c->cache;
    if (c->state == IMAP_CLIENT_FETCH_NEW) {
        /* RFC 3501 6.4.8: "last+1:*" also returns the highest UID when it
         * is below last+1, because "*" is the highest UID in use. */
        if (uid->number <= k->last_uid) return;
        if (uid->number > c->new_max) c->new_max = uid->number;
        unsigned f = flags ? flags_of(flags) : 0;
        uint32_t sz = size ? size->number : 0;
        if (k->n >= IMAP_CLIENT_MAX_CACHE) k->partial = true;
        if (k->n < IMAP_CLIENT_MAX_CACHE && (k->n == 0 || k->msgs[k->n - 1].uid < uid->number)) {
            struct imap_client_msg *m = &k->msgs[k->n++];
            memset(m, 0, sizeof *m);
            m->uid = uid->number;
            m->flags = f;
            m->server_flags = f;
            m->size = sz;
        }
        struct cev *e = push(c, IMAP_CLIENT_EV_NEW, body && !body->data.nil ? body->data.ptr : NULL,
                             body && !body->data.nil ? body->data.len : 0, NULL);
        e->uid = uid->number;
        e->flags = f;
        e->size = sz;
        return;
    }
    if (!flags) return;
    struct imap_client_msg *m = find(k, uid->number);
    if (!m || m->dirty) return; /* a local change not yet stored wins */
    unsigned f = flags_of(flags);
    m->server_flags = f;
    if (m->flags == f) return;
    m->flags = f;
    struct cev *e = push(c, IMAP_CLIENT_EV_FLAGS, NULL, 0, NULL);
    e->uid = m->uid;
    e->flags = f;
}

static void on_search(struct imap_client *c, const struct imap_response *r)
{
    if (c->state != IMAP_CLIENT_SEARCH) return;
    for (size_t i = 0; i < r->nnumbers; i++) {
        struct imap_client_msg *m = find(c->cache, r->numbers[i]);
        if (m) m->mark = true;
    }
}

/* The tagged response to the command in progress: choose the next state. */
static void on_tagged(struct imap_client *c, const struct imap_response *r)
{
    bool ok = r->status == IMAP_OK;
    struct imap_client_cache *k = c->cache;
    switch (c->state) {
    case IMAP_CLIENT_CAPABILITY:
        after_caps(c);
        return;
    case IMAP_CLIENT_STARTTLS:
        if (!ok) {
            fail(c, "STARTTLS refused");
            return;
        }
        set_state(c, IMAP_CLIENT_TLS);
        push(c, IMAP_CLIENT_EV_STARTTLS, NULL, 0, NULL);
        return;
    case IMAP_CLIENT_LOGIN:
        if (!ok) {
            fail(c, "login refused");
            return;
        }
        if (r->code.code == IMAP_CODE_CAPABILITY) caps(c, r->code.atoms, r->code.natoms);
        after_login(c);
        return;
    case IMAP_CLIENT_LIST:
        do_select(c);
        return;
    case IMAP_CLIENT_SELECT:
        if (!ok) {
            fail(c, "SELECT refused");
            return;
        }
        /* RFC 3501 2.3.1.1: another UIDVALIDITY means the UIDs we hold
         * name other messages now: forget them and fetch everything. */
        if (c->validity && k->uidvalidity && k->uidvalidity != c->validity) {
            k->n = 0;
            k->last_uid = 0;
            k->partial = false;
            k->highestmodseq = 0;
            push(c, IMAP_CLIENT_EV_RESET, NULL, 0, NULL);
        }
        if (c->validity) k->uidvalidity = c->validity;
        c->select_exists = c->exists;
        begin_sync(c);
        return;
    case IMAP_CLIENT_PUSH_FLAGS: {
        struct imap_client_msg *m = find(k, c->pushing);
        if (m && ok) {
            if (c->pushing_add) m->server_flags |= c->pushing_bits;
            else m->server_flags &= ~c->pushing_bits;
        } else {
            c->push_i++; /* refused: it stays dirty for the next sync */
            c->push_refused = true;
        }
        push_flags(c);
        return;
    }
    case IMAP_CLIENT_FETCH_NEW:
        if (c->new_max > k->last_uid) k->last_uid = c->new_max;
        fetch_flags(c);
        return;
    case IMAP_CLIENT_FETCH_FLAGS:
        if (ok) flags_synced(c);
        else c->cache->highestmodseq = 0;
        do_search(c);
        return;
    case IMAP_CLIENT_SEARCH:
        if (ok) {
            for (size_t i = 0; i < k->n;) {
                if (!k->msgs[i].mark && k->msgs[i].uid <= c->old_last) remove_at(c, i);
                else i++;
            }
        }
        after_sync(c);
        return;
    case IMAP_CLIENT_EXPUNGE:
        if (ok) {
            for (size_t i = 0; i < k->n;) {
                if (k->msgs[i].flags & IMAP_FLAG_DELETED) remove_at(c, i);
                else i++;
            }
        }
        /* Not after_sync(): that would EXPUNGE again if one failed. */
        if (c->wake && !c->stop) begin_sync(c);
        else if (c->cfg.idle && !c->stop) do_idle(c);
        else logout(c);
        return;
    case IMAP_CLIENT_IDLE: /* IDLE refused (no IDLE capability) */
        logout(c);
        return;
    case IMAP_CLIENT_DONE:
        c->uidnext = 0;
        c->select_hms = 0; /* not known after IDLE: fetch CHANGEDSINCE */
        if (c->stop) logout(c);
        else begin_sync(c);
        return;
    case IMAP_CLIENT_LOGOUT:
        set_state(c, IMAP_CLIENT_CLOSED);
        push(c, IMAP_CLIENT_EV_CLOSE, NULL, 0, NULL);
        return;
    default:
        return;
    }
}

static void on_response(struct imap_client *c, const struct imap_response *r)
{
    switch (r->kind) {
    case IMAP_RESP_STATE:
        if (r->code.code == IMAP_CODE_CAPABILITY) caps(c, r->code.atoms, r->code.natoms);
        if (r->code.code == IMAP_CODE_UIDVALIDITY) c->validity = r->code.n1;
        if (r->code.code == IMAP_CODE_UIDNEXT) c->uidnext = r->code.n1;
        if (r->code.code == IMAP_CODE_HIGHESTMODSEQ && c->state == IMAP_CLIENT_SELECT)
            c->select_hms = r->code.modseq;
        if (r->code.code == IMAP_CODE_NOMODSEQ && c->state == IMAP_CLIENT_SELECT)
            c->condstore = false; /* RFC 7162 3.1.2.2: no CHANGEDSINCE here */
        if (c->state == IMAP_CLIENT_GREETING) {
            if (r->status == IMAP_OK) after_caps(c);
            else if (r->status == IMAP_PREAUTH) after_login(c); /* RFC 3501 7.1.4 */
            else {
                push(c, IMAP_CLIENT_EV_ERROR, NULL, 0, "server refused the connection");
                set_state(c, IMAP_CLIENT_CLOSED);
                push(c, IMAP_CLIENT_EV_CLOSE, NULL, 0, NULL);
            }
            return;
        }
        if (r->status == IMAP_BYE && c->state != IMAP_CLIENT_LOGOUT) {
            push(c, IMAP_CLIENT_EV_ERROR, NULL, 0, "server closed the session (BYE)");
            set_state(c, IMAP_CLIENT_CLOSED);
            push(c, IMAP_CLIENT_EV_CLOSE, NULL, 0, NULL);
        }
        return;
    case IMAP_RESP_CAPABILITY:
        caps(c, r->atoms, r->natoms);
        return;
    case IMAP_RESP_CONTINUE:
        if (c->nsplits && c->split_i < c->nsplits) { /* the next literal */
            size_t from = c->splits[c->split_i++];
            size_t to = c->split_i < c->nsplits ? c->splits[c->split_i] : c->cmd_len;
            send_bytes(c, c->cmd + from, to - from);
            return;
        }
        if (c->state == IMAP_CLIENT_LOGIN && c->cfg.authenticate) {
            char b64[SASL_PLAIN_ENCODED_MAX + 1], line[SASL_PLAIN_ENCODED_MAX + 8];
            int n = sasl_plain_encode(NULL, c->user, c->pass, b64, sizeof b64);
            EXPECT(n > 0); /* user and pass were checked in imap_client_new */
            struct imap_str s = {b64, (size_t)n, false};
            size_t len = imap_cmd_format_sasl(&s, false, line, sizeof line);
            EXPECT(len > 0);
            send_bytes(c, line, len);
            return;
        }
        if (c->state == IMAP_CLIENT_IDLE) {
            c->idling = true;
            if (c->stop || c->wake) done(c);
        }
        return;
    case IMAP_RESP_LIST:
        if (c->state == IMAP_CLIENT_LIST) {
            char name[IMAP_MBX_NAME_MAX + 1];
            size_t n = r->mailbox.len < sizeof name - 1 ? r->mailbox.len : sizeof name - 1;
            memcpy(name, r->mailbox.ptr, n);
            name[n] = 0;
            push(c, IMAP_CLIENT_EV_FOLDER, NULL, 0, name);
        }
        return;
    case IMAP_RESP_EXISTS:
        if (c->state == IMAP_CLIENT_IDLE && r->number > c->exists) {
            c->wake = true; /* RFC 2177: new mail; go and fetch it */
            c->exists = r->number;
            done(c);
        }
        c->exists = r->number;
        return;
    case IMAP_RESP_EXPUNGE:
        if (c->exists) c->exists--;
        c->expunged_seen = true;
        if (c->state == IMAP_CLIENT_IDLE) {
            c->wake = true;
            done(c);
        }
        return;
    case IMAP_RESP_FETCH:
        on_fetch(c, r);
        return;
    case IMAP_RESP_SEARCH:
        on_search(c, r);
        return;
    case IMAP_RESP_TAGGED:
        if (strcmp(r->tag, c->tag) == 0) on_tagged(c, r);
        return;
    default:
        return;
    }
}

/* ---- public -------------------------------------------------------------- */

struct imap_client *imap_client_new(const struct imap_client_config *cfg)
{
    EXPECT(cfg && cfg->cache && cfg->user && cfg->pass);
    if (!cfg->user[0] || !cfg->pass[0] || strlen(cfg->user) > IMAP_MBX_USER_MAX
        || strlen(cfg->pass) > IMAP_MBX_USER_MAX
        || (cfg->folder && strlen(cfg->folder) > IMAP_MBX_NAME_MAX))
        return NULL;
    /* the event queue (most of the size) is read only where it was
     * written: clearing it cost more than a short session's work */
    struct imap_client *c = malloc(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, offsetof(struct imap_client, q));
    c->qhead = c->qn = 0;
    c->cfg = *cfg;
    c->cache = cfg->cache;
    snprintf(c->user, sizeof c->user, "%s", cfg->user);
    snprintf(c->pass, sizeof c->pass, "%s", cfg->pass);
    snprintf(c->folder, sizeof c->folder, "%s", cfg->folder ? cfg->folder : "INBOX");
    snprintf(c->prefix, sizeof c->prefix, "%s", cfg->tag_prefix ? cfg->tag_prefix : "a");
    c->state = IMAP_CLIENT_GREETING;
    c->rd = imap_resp_reader_new(0);
    if (!c->rd) {
        imap_client_free(c);
        return NULL;
    }
    return c;
}

void imap_client_free(struct imap_client *c)
{
    if (!c) return;
    imap_resp_reader_free(c->rd);
    free(c->buf);
    free(c);
}

size_t imap_client_feed(struct imap_client *c, const char *in, size_t n)
{
    if (c->state == IMAP_CLIENT_TLS || c->state == IMAP_CLIENT_CLOSED) return 0;
    return imap_resp_reader_feed(c->rd, in, n);
}

enum imap_client_ev imap_client_next(struct imap_client *c, struct imap_client_event *ev)
{
    memset(ev, 0, sizeof *ev);
    for (;;) {
        if (c->qn > 0) {
            struct cev *e = &c->q[c->qhead++];
            c->qn--;
            ev->type = e->type;
            ev->data = e->len ? c->buf + e->off : NULL;
            ev->len = e->len;
            ev->text = e->text_off != SIZE_MAX ? c->buf + e->text_off : NULL;
            ev->from = e->from;
            ev->to = e->to;
            ev->uid = e->uid;
            ev->flags = e->flags;
            ev->size = e->size;
            return ev->type;
        }
        c->qhead = 0;
        c->len = 0;
        if (c->state == IMAP_CLIENT_TLS || c->state == IMAP_CLIENT_CLOSED) return IMAP_CLIENT_NEED_MORE;
        struct imap_response r;
        enum imap_rd_ev re = imap_resp_reader_next(c->rd, &r);
        if (re == IMAP_RD_NEED_MORE) return IMAP_CLIENT_NEED_MORE;
        if (re == IMAP_RD_ERROR) {
            if (r.error == IMAP_ERR_NOMEM) {
                push(c, IMAP_CLIENT_EV_ERROR, NULL, 0, "out of memory reading a response");
                set_state(c, IMAP_CLIENT_CLOSED);
                push(c, IMAP_CLIENT_EV_CLOSE, NULL, 0, NULL);
            }
            /* Otherwise the bad response was skipped; reading goes on. */
            continue;
        }
        on_response(c, &r);
    }
}

void imap_client_tls_started(struct imap_client *c)
{
    if (c->state != IMAP_CLIENT_TLS) return;
    c->tls = true;
    imap_resp_reader_reset(c->rd);
    /* RFC 3501 6.2.1: capabilities learned before TLS must be forgotten. */
    c->caps_known = false;
    simple(c, IMAP_CMD_CAPABILITY, IMAP_CLIENT_CAPABILITY);
}

void imap_client_wake(struct imap_client *c)
{
    c->wake = true;
    if (c->qn == 0) {
        c->qhead = 0;
        c->len = 0;
    }
    done(c);
}

void imap_client_stop(struct imap_client *c)
{
    c->stop = true;
    if (c->qn == 0) {
        c->qhead = 0;
        c->len = 0;
    }
    done(c);
}

enum imap_client_state imap_client_state(const struct imap_client *c)
{
    return c->state;
}
