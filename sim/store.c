/* The mail store of one mail server host. See store.h for the contract.
 *
 * Layout: accounts in an array; each account's folders in a fixed array of
 * SIM_STORE_FOLDERS_MAX; each folder's messages in an array kept in
 * ascending UID order (a new message always gets the folder's UIDNEXT,
 * RFC 3501 2.3.1.1, so appending keeps the order). A message's octets live
 * in a reference-counted blob shared by copies (IMAP COPY) and by POP3
 * snapshots, so a POP3 session's messages stay readable while an IMAP
 * session expunges them (pop3_server.h: the bytes must stay valid while the
 * lock is held). */
#include "sim/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/msg.h"

_Static_assert((unsigned)SIM_FLAG_SEEN == (unsigned)IMAP_FLAG_SEEN &&
                   (unsigned)SIM_FLAG_ANSWERED == (unsigned)IMAP_FLAG_ANSWERED &&
                   (unsigned)SIM_FLAG_FLAGGED == (unsigned)IMAP_FLAG_FLAGGED &&
                   (unsigned)SIM_FLAG_DELETED == (unsigned)IMAP_FLAG_DELETED &&
                   (unsigned)SIM_FLAG_DRAFT == (unsigned)IMAP_FLAG_DRAFT &&
                   (unsigned)SIM_FLAG_RECENT == (unsigned)IMAP_FLAG_RECENT,
               "the trace's flag bits are IMAP's");

const char *const sim_store_result_names[SIM_STORE_RESULT_COUNT] = {
    "ok", "no such account", "no such folder", "over quota", "already exists", "out of memory",
};

/* The four folders every account starts with (RFC 6154 names their uses),
 * subscribed so LSUB shows them. */
static const char *const standard_folders[] = {"INBOX", "Sent", "Drafts", "Trash"};

/* The hierarchy delimiter the IMAP server announces in LIST (imap_server.c). */
#define DELIM '/'

/* A message's octets and what the views show of it; shared, counted. */
struct blob {
    unsigned refs;
    size_t len;
    char subject[SIM_STORE_TEXT_MAX];
    char from[SIM_STORE_TEXT_MAX];
    char data[];
};

struct smsg {
    struct sim_stored_msg pub; /* uid, flags, internal date, size, bytes */
    int zone;                  /* minutes east INTERNALDATE is shown in */
    bool recent_unclaimed;     /* RFC 3501 2.3.2: no session has seen it yet */
    uint64_t modseq;           /* RFC 7162 3.1: the folder's modseq when it was
                                  added or its flags last changed */
    struct blob *blob;
};

struct folder {
    char name[IMAP_MBX_NAME_MAX + 1];
    uint32_t uidvalidity, uidnext;
    uint64_t modseq;
    bool subscribed;
    struct smsg *msgs;
    size_t n, cap;
};

/* A POP3 session's view of INBOX, taken at lock time (RFC 1939 5: message
 * numbers stay stable while the maildrop is locked). */
struct snap_msg {
    uint32_t uid;
    struct blob *blob;
};

struct account {
    char address[SIM_ADDRESS_MAX + 1];
    char password[IMAP_MBX_USER_MAX + 1];
    size_t quota, usage;       /* octets */
    bool limited;              /* quota applies (sim_store_add_account's 0: no) */
    struct folder *folders;    /* SIM_STORE_FOLDERS_MAX slots */
    size_t nfolders;
    bool pop3_locked;          /* RFC 1939 8: one POP3 session at a time */
    uint32_t snap_uidvalidity;
    struct snap_msg *snap;
    size_t nsnap;
    char uidl[32];             /* "<uidvalidity>.<uid>", lent by pop3 uid() */
};

struct watcher {
    sim_store_watch_fn fn;
    void *ctx;
};

struct sim_store {
    struct sim_engine *engine;
    char *owner;
    int64_t epoch;
    int zone;
    struct account *accounts;
    size_t naccounts, cap;
    uint32_t next_uidvalidity; /* a counter, never the clock */
    struct watcher watchers[SIM_STORE_WATCHERS_MAX];
    size_t nwatchers;
    struct msg_header *hdr;    /* scratch for Subject and From (about 12 KiB) */
    /* The last folder the IMAP server asked for by name (folder_of): a
     * session asks for the same one per message it looks at, thousands of
     * times per SELECT. Void when shape moved on: it counts the changes
     * that move or rename folders (new account or folder, DELETE,
     * RENAME). */
    unsigned shape, memo_shape;
    struct folder *memo;
    char memo_user[SIM_ADDRESS_MAX + 1], memo_folder[IMAP_MBX_NAME_MAX + 1];
};

/* ---- lookups ------------------------------------------------------------- */

/* Addresses compare without ASCII case: real servers treat local parts
 * that way, and domains are case-insensitive anyway (RFC 5321 2.4). */
static struct account *find_account(const struct sim_store *s, const char *address)
{
    if (!address) return NULL;
    /* the servers ask with the address as stored, once per message a
     * command touches: an exact match first keeps that cheap */
    for (size_t i = 0; i < s->naccounts; i++)
        if (strcmp(s->accounts[i].address, address) == 0) return &s->accounts[i];
    size_t n = strlen(address);
    for (size_t i = 0; i < s->naccounts; i++)
        if (strlen(s->accounts[i].address) == n &&
            ascii_ncasecmp(s->accounts[i].address, address, n) == 0)
            return &s->accounts[i];
    return NULL;
}

/* RFC 3501 5.1: INBOX is case-insensitive; other names are exact. */
static bool is_inbox_name(const char *a)
{
    static const char inbox[] = "INBOX";
    for (size_t i = 0; i < 5; i++)
        if ((a[i] & ~0x20) != inbox[i]) return false; /* a NUL never matches */
    return a[5] == 0;
}

static bool same_folder(const char *a, const char *b)
{
    if (strcmp(a, b) == 0) return true;
    return is_inbox_name(a) && is_inbox_name(b);
}

static struct folder *find_folder(struct account *a, const char *name)
{
    if (!a || !name) return NULL;
    for (size_t i = 0; i < a->nfolders; i++)
        if (same_folder(a->folders[i].name, name)) return &a->folders[i];
    return NULL;
}

/* The index of uid in f, or f->n. Binary search: UIDs ascend. */
static size_t find_uid(const struct folder *f, uint32_t uid)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->msgs[mid].pub.uid < uid) lo = mid + 1;
        else hi = mid;
    }
    return lo < f->n && f->msgs[lo].pub.uid == uid ? lo : f->n;
}

/* ---- blobs ------------------------------------------------------------------ */

static void blob_unref(struct blob *b)
{
    if (b && --b->refs == 0) free(b);
}

/* Subject (RFC 2047 words decoded) and the From address, for the panels.
 * A malformed header gives what could be read before the bad line. */
static void summarize(struct sim_store *s, struct blob *b)
{
    b->subject[0] = b->from[0] = 0;
    if (!s->hdr) return;
    msg_parse_header(b->data, b->len, s->hdr);
    size_t vlen, out;
    int i = msg_header_find(s->hdr, "Subject", 0);
    if (i >= 0) {
        const char *v = msg_field_value(s->hdr, (size_t)i, &vlen);
        msg_decode_words(v, vlen, b->subject, sizeof b->subject, &out);
    }
    i = msg_header_find(s->hdr, "From", 0);
    if (i >= 0) {
        const char *v = msg_field_value(s->hdr, (size_t)i, &vlen);
        struct msg_addr a;
        if (msg_addr_parse(v, vlen, &a) == MSG_OK) {
            a.display[0] = 0; /* the address alone: "manish@example.com" */
            if (msg_addr_format(&a, b->from, sizeof b->from, &out) != MSG_OK) b->from[0] = 0;
        } else {
            msg_unfold(v, vlen, b->from, sizeof b->from, &out);
        }
    }
}

/* A blob holding data with every bare LF made CRLF: stored messages use
 * CRLF line ends (RFC 5322 2.3), so the size POP3 and IMAP report is the
 * size they send. NULL when over SIM_STORE_MSG_SIZE_MAX or out of memory
 * (*too_big tells which). */
static struct blob *blob_new(struct sim_store *s, const char *data, size_t n, bool *too_big)
{
    /* line by line with memchr and memcpy: a byte loop here was a twentieth
     * of a long run (every delivered message passes) */
    size_t bare = 0;
    for (const char *p = data, *end = data + n; p < end;) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf) break;
        if (lf == data || lf[-1] != '\r') bare++;
        p = lf + 1;
    }
    *too_big = n > SIM_STORE_MSG_SIZE_MAX || n + bare > SIM_STORE_MSG_SIZE_MAX;
    if (*too_big) return NULL;
    struct blob *b = malloc(sizeof *b + n + bare + 1);
    if (!b) return NULL;
    b->refs = 0;
    size_t o = 0;
    for (const char *p = data, *end = data + n; p < end;) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t k = (size_t)((lf ? lf : end) - p);
        memcpy(b->data + o, p, k);
        o += k;
        if (!lf) break;
        if (lf == data || lf[-1] != '\r') b->data[o++] = '\r';
        b->data[o++] = '\n';
        p = lf + 1;
    }
    b->data[o] = 0;
    b->len = o;
    summarize(s, b);
    return b;
}

/* ---- the trace and the listeners ------------------------------------------- */

/* "(\Seen \Deleted)" for the trace text. */
static void flags_text(unsigned flags, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "(");
    for (unsigned bit = 1; bit <= IMAP_FLAG_DRAFT && o < cap; bit <<= 1)
        if (flags & bit)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", o > 1 ? " " : "", imap_flag_name(bit));
    if (o < cap) snprintf(out + o, cap - o, ")");
}

static void record(struct sim_store *s, enum sim_mail_change change, const struct account *a,
                   const char *folder, const struct smsg *m, const char *note)
{
    char text[IMAP_MBX_NAME_MAX + 128], flags[64];
    text[0] = 0;
    /* a run that drops SIM_TR_MAIL events (mailsim compare) reads only the
     * mail fields; the text would be formatted for nothing (trace.h lets
     * the observer see "" then) */
    bool keep = sim_trace_keeps(s->engine->trace, SIM_TR_MAIL);
    if (keep) flags_text(m->pub.flags, flags, sizeof flags);
    switch (keep ? change : SIM_MAIL_CHANGE_COUNT) {
    case SIM_MAIL_ADDED:
        snprintf(text, sizeof text, "%s: message UID %lu stored (%zu octets) %s", folder,
                 (unsigned long)m->pub.uid, m->pub.size, flags);
        break;
    case SIM_MAIL_FLAGS:
        snprintf(text, sizeof text, "%s: message UID %lu flags now %s", folder,
                 (unsigned long)m->pub.uid, flags);
        break;
    case SIM_MAIL_REMOVED:
        snprintf(text, sizeof text, "%s: message UID %lu removed", folder,
                 (unsigned long)m->pub.uid);
        break;
    default: break; /* not kept: no text */
    }
    struct sim_trace_event ev = {
        .kind = SIM_TR_MAIL, .proto = SIM_PROTO_STORE, .from = s->owner, .text = text,
        .note = note,
        .mail = {change, s->owner, a->address, folder, m->pub.uid, m->pub.flags, m->pub.size,
                 m->blob->subject, m->blob->from},
    };
    sim_record(s->engine, &ev);
}

/* strlcpy: what snprintf(out, cap, "%s", in) did, without the format
 * engine (notify runs once per change). */
static void copy_name(char *out, size_t cap, const char *in)
{
    size_t n = strlen(in);
    if (n >= cap) n = cap - 1;
    memcpy(out, in, n);
    out[n] = 0;
}

static void notify(struct sim_store *s, const struct account *a, const char *folder)
{
    /* Copies: a listener reading the store must not see names move. */
    char addr[SIM_ADDRESS_MAX + 1], name[IMAP_MBX_NAME_MAX + 1];
    copy_name(addr, sizeof addr, a->address);
    copy_name(name, sizeof name, folder);
    struct watcher w[SIM_STORE_WATCHERS_MAX];
    size_t n = s->nwatchers;
    memcpy(w, s->watchers, n * sizeof w[0]);
    for (size_t i = 0; i < n; i++) w[i].fn(w[i].ctx, addr, name);
}

/* ---- changes ------------------------------------------------------------------ */

/* Stores blob b (taking a reference) as a new message of f. */
static enum sim_store_result add_msg(struct sim_store *s, struct account *a, struct folder *f,
                                     struct blob *b, unsigned flags, int64_t date, int zone,
                                     const char *note, uint32_t *uid)
{
    if (f->n >= SIM_STORE_MSGS_MAX || f->uidnext == UINT32_MAX) return SIM_STORE_FULL;
    if (a->limited && (b->len > a->quota || a->usage > a->quota - b->len)) return SIM_STORE_FULL;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct smsg *m = realloc(f->msgs, cap * sizeof *m);
        if (!m) return SIM_STORE_NO_MEMORY;
        f->msgs = m;
        f->cap = cap;
    }
    struct smsg *m = &f->msgs[f->n++];
    b->refs++;
    *m = (struct smsg){
        .pub = {f->uidnext++, flags & IMAP_MBX_FLAGS, date, b->len, b->data},
        .zone = zone, .recent_unclaimed = true, .blob = b,
    };
    m->modseq = ++f->modseq;
    a->usage += b->len;
    if (uid) *uid = m->pub.uid;
    record(s, SIM_MAIL_ADDED, a, f->name, m, note);
    notify(s, a, f->name);
    return SIM_STORE_OK;
}

/* Removes f's i-th message for good, recording note. */
static void remove_at(struct sim_store *s, struct account *a, struct folder *f, size_t i,
                      const char *note, bool tell)
{
    struct smsg *m = &f->msgs[i];
    record(s, SIM_MAIL_REMOVED, a, f->name, m, note);
    a->usage -= m->blob->len;
    blob_unref(m->blob);
    memmove(&f->msgs[i], &f->msgs[i + 1], (f->n - i - 1) * sizeof f->msgs[0]);
    f->n--;
    f->modseq++;
    if (tell) notify(s, a, f->name);
}

/* What changed between two flag sets, in words: "marked as read (\Seen)". */
static void flags_note(unsigned old, unsigned now, char *out, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *on, *off;
    } words[] = {
        {IMAP_FLAG_SEEN, "marked as read (\\Seen)", "marked as unread (\\Seen removed)"},
        {IMAP_FLAG_ANSWERED, "marked as answered (\\Answered)", "no longer marked as answered"},
        {IMAP_FLAG_FLAGGED, "flagged as important (\\Flagged)", "no longer flagged as important"},
        {IMAP_FLAG_DELETED, "marked for deletion (\\Deleted): EXPUNGE will remove it",
         "no longer marked for deletion (\\Deleted removed)"},
        {IMAP_FLAG_DRAFT, "marked as a draft (\\Draft)", "no longer a draft"},
    };
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < ARRAY_LEN(words) && o < cap; i++) {
        unsigned bit = words[i].bit;
        if ((old & bit) == (now & bit)) continue;
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "; " : "",
                              now & bit ? words[i].on : words[i].off);
    }
}

static enum sim_store_result set_flags(struct sim_store *s, struct account *a, struct folder *f,
                                       size_t i, unsigned flags)
{
    struct smsg *m = &f->msgs[i];
    flags &= IMAP_MBX_FLAGS;
    if (m->pub.flags == flags) return SIM_STORE_OK;
    char note[256];
    flags_note(m->pub.flags, flags, note, sizeof note);
    m->pub.flags = flags;
    m->modseq = ++f->modseq;
    record(s, SIM_MAIL_FLAGS, a, f->name, m, note);
    notify(s, a, f->name);
    return SIM_STORE_OK;
}

static enum sim_store_result new_folder(struct sim_store *s, struct account *a, const char *name,
                                        bool subscribed)
{
    if (find_folder(a, name)) return SIM_STORE_EXISTS;
    if (a->nfolders >= SIM_STORE_FOLDERS_MAX || strlen(name) > IMAP_MBX_NAME_MAX)
        return SIM_STORE_FULL;
    s->shape++; /* folder_of's memo is void */
    struct folder *f = &a->folders[a->nfolders++];
    memset(f, 0, sizeof *f);
    strcpy(f->name, name);
    /* RFC 3501 2.3.1.1: a folder made anew (even under an old name) gets a
     * UIDVALIDITY never used before, so a client's cached UIDs are void. */
    f->uidvalidity = s->next_uidvalidity++;
    f->uidnext = 1;
    f->modseq = 1;
    f->subscribed = subscribed;
    return SIM_STORE_OK;
}

static void free_folder_msgs(struct folder *f)
{
    for (size_t i = 0; i < f->n; i++) blob_unref(f->msgs[i].blob);
    free(f->msgs);
    f->msgs = NULL;
    f->n = f->cap = 0;
}

static void drop_snapshot(struct account *a)
{
    for (size_t i = 0; i < a->nsnap; i++) blob_unref(a->snap[i].blob);
    free(a->snap);
    a->snap = NULL;
    a->nsnap = 0;
}

/* ---- public: accounts, delivery, inspection ---------------------------------- */

struct sim_store *sim_store_new(struct sim_engine *e, const char *owner, int64_t epoch)
{
    struct sim_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t n = strlen(owner ? owner : "");
    s->owner = malloc(n + 1);
    s->hdr = malloc(sizeof *s->hdr);
    if (!s->owner || !s->hdr) {
        sim_store_free(s);
        return NULL;
    }
    memcpy(s->owner, owner ? owner : "", n + 1);
    s->engine = e;
    s->epoch = epoch;
    s->next_uidvalidity = 1;
    return s;
}

void sim_store_free(struct sim_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->naccounts; i++) {
        struct account *a = &s->accounts[i];
        drop_snapshot(a);
        for (size_t j = 0; j < a->nfolders; j++) free_folder_msgs(&a->folders[j]);
        free(a->folders);
    }
    free(s->accounts);
    free(s->hdr);
    free(s->owner);
    free(s);
}

enum sim_store_result sim_store_add_account(struct sim_store *s, const char *address,
                                            const char *password, size_t quota)
{
    if (!address || !*address || strlen(address) > SIM_ADDRESS_MAX || !password ||
        strlen(password) > IMAP_MBX_USER_MAX)
        return SIM_STORE_NO_ACCOUNT;
    if (find_account(s, address)) return SIM_STORE_EXISTS;
    if (s->naccounts >= SIM_STORE_ACCOUNTS_MAX) return SIM_STORE_FULL;
    s->shape++; /* accounts may move: folder_of's memo is void */
    if (s->naccounts == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        struct account *a = realloc(s->accounts, cap * sizeof *a);
        if (!a) return SIM_STORE_NO_MEMORY;
        s->accounts = a;
        s->cap = cap;
    }
    struct account *a = &s->accounts[s->naccounts];
    memset(a, 0, sizeof *a);
    a->folders = calloc(SIM_STORE_FOLDERS_MAX, sizeof *a->folders);
    if (!a->folders) return SIM_STORE_NO_MEMORY;
    strcpy(a->address, address);
    strcpy(a->password, password);
    a->quota = quota;
    a->limited = quota != 0;
    s->naccounts++;
    for (size_t i = 0; i < ARRAY_LEN(standard_folders); i++)
        new_folder(s, a, standard_folders[i], true);
    return SIM_STORE_OK;
}

bool sim_store_has_account(const struct sim_store *s, const char *address)
{
    return find_account(s, address) != NULL;
}

bool sim_store_check_password(const struct sim_store *s, const char *address,
                              const char *password)
{
    const struct account *a = find_account(s, address);
    return a && password && strcmp(a->password, password) == 0;
}

bool sim_store_fits(const struct sim_store *s, const char *address, size_t n)
{
    const struct account *a = find_account(s, address);
    if (!a) return false;
    return !a->limited || (n <= a->quota && a->usage <= a->quota - n);
}

enum sim_store_result sim_store_deliver(struct sim_store *s, const char *address,
                                        const char *folder, const char *bytes, size_t n,
                                        unsigned flags, uint32_t *uid, const char *note)
{
    struct account *a = find_account(s, address);
    if (!a) return SIM_STORE_NO_ACCOUNT;
    struct folder *f = find_folder(a, folder ? folder : "INBOX");
    if (!f) return SIM_STORE_NO_FOLDER;
    bool too_big;
    struct blob *b = blob_new(s, bytes, n, &too_big);
    if (!b) return too_big ? SIM_STORE_FULL : SIM_STORE_NO_MEMORY;
    char text[SIM_ADDRESS_MAX + IMAP_MBX_NAME_MAX + 32];
    if (!note || !*note) {
        snprintf(text, sizeof text, "delivered to %s's %s", a->address, f->name);
        note = text;
    }
    enum sim_store_result r =
        add_msg(s, a, f, b, flags, sim_store_clock(s), s->zone, note, uid);
    if (b->refs == 0) free(b);
    return r;
}

size_t sim_store_count(const struct sim_store *s, const char *address, const char *folder)
{
    struct folder *f = find_folder(find_account(s, address), folder);
    return f ? f->n : 0;
}

const struct sim_stored_msg *sim_store_msg(const struct sim_store *s, const char *address,
                                           const char *folder, size_t i)
{
    struct folder *f = find_folder(find_account(s, address), folder);
    return f && i < f->n ? &f->msgs[i].pub : NULL;
}

size_t sim_store_usage(const struct sim_store *s, const char *address)
{
    const struct account *a = find_account(s, address);
    return a ? a->usage : 0;
}

enum sim_store_result sim_store_set_quota(struct sim_store *s, const char *address, size_t quota)
{
    struct account *a = find_account(s, address);
    if (!a) return SIM_STORE_NO_ACCOUNT;
    a->quota = quota;
    a->limited = quota != 0;
    return SIM_STORE_OK;
}

enum sim_store_result sim_store_make_full(struct sim_store *s, const char *address)
{
    struct account *a = find_account(s, address);
    if (!a) return SIM_STORE_NO_ACCOUNT;
    a->quota = a->usage;
    a->limited = true;
    return SIM_STORE_OK;
}

size_t sim_store_quota(const struct sim_store *s, const char *address)
{
    const struct account *a = find_account(s, address);
    return a && a->limited ? a->quota : SIZE_MAX;
}

int sim_store_watch(struct sim_store *s, sim_store_watch_fn fn, void *ctx)
{
    if (!fn || s->nwatchers >= SIM_STORE_WATCHERS_MAX) return -1;
    s->watchers[s->nwatchers++] = (struct watcher){fn, ctx};
    return 0;
}

void sim_store_unwatch(struct sim_store *s, sim_store_watch_fn fn, void *ctx)
{
    for (size_t i = 0; i < s->nwatchers; i++)
        if (s->watchers[i].fn == fn && s->watchers[i].ctx == ctx) {
            memmove(&s->watchers[i], &s->watchers[i + 1],
                    (s->nwatchers - i - 1) * sizeof s->watchers[0]);
            s->nwatchers--;
            return;
        }
}

int64_t sim_store_clock(const struct sim_store *s)
{
    return s->epoch + (int64_t)(s->engine->now / 1000000u);
}

struct sim_engine *sim_store_engine(const struct sim_store *s) { return s->engine; }

void sim_store_set_zone(struct sim_store *s, int zone_minutes) { s->zone = zone_minutes; }
int sim_store_zone(const struct sim_store *s) { return s->zone; }

/* ---- the IMAP interface (protocols/imap_mailbox.h) --------------------------- */

static enum imap_mbx_result mbx_result(enum sim_store_result r)
{
    switch (r) {
    case SIM_STORE_OK: return IMAP_MBX_OK;
    case SIM_STORE_NO_ACCOUNT: return IMAP_MBX_DENIED;
    case SIM_STORE_NO_FOLDER: return IMAP_MBX_NONEXISTENT;
    case SIM_STORE_EXISTS: return IMAP_MBX_EXISTS;
    default: return IMAP_MBX_FULL; /* quota, limits, memory: NO [LIMIT] */
    }
}

static struct folder *folder_of(void *ctx, const char *user, const char *folder)
{
    struct sim_store *s = ctx;
    if (!user || !folder) return NULL;
    if (s->memo && s->memo_shape == s->shape && strcmp(folder, s->memo_folder) == 0 &&
        strcmp(user, s->memo_user) == 0)
        return s->memo;
    struct folder *f = find_folder(find_account(s, user), folder);
    if (f && strlen(user) < sizeof s->memo_user && strlen(folder) < sizeof s->memo_folder) {
        strcpy(s->memo_user, user);
        strcpy(s->memo_folder, folder);
        s->memo = f;
        s->memo_shape = s->shape;
    }
    return f;
}

static enum imap_mbx_result i_auth(void *ctx, const char *user, const char *pass)
{
    return sim_store_check_password(ctx, user, pass) ? IMAP_MBX_OK : IMAP_MBX_DENIED;
}

static enum imap_mbx_result i_list(void *ctx, const char *user, struct imap_mbx_folder *out,
                                   size_t max, size_t *n)
{
    struct account *a = find_account(ctx, user);
    *n = 0;
    if (!a) return IMAP_MBX_DENIED;
    for (size_t i = 0; i < a->nfolders && *n < max; i++) {
        strcpy(out[*n].name, a->folders[i].name);
        out[*n].attrs = 0;
        out[*n].subscribed = a->folders[i].subscribed;
        (*n)++;
    }
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_create(void *ctx, const char *user, const char *folder)
{
    struct account *a = find_account(ctx, user);
    if (!a) return IMAP_MBX_DENIED;
    /* RFC 3501 6.3.3: a trailing delimiter only declares the intent to
     * create names below it; the folder is the name without it. */
    char name[IMAP_MBX_NAME_MAX + 1];
    size_t n = strlen(folder);
    if (n > IMAP_MBX_NAME_MAX) return IMAP_MBX_FULL;
    memcpy(name, folder, n + 1);
    while (n > 0 && name[n - 1] == DELIM) name[--n] = 0;
    if (n == 0) return IMAP_MBX_DENIED;
    return mbx_result(new_folder(ctx, a, name, false));
}

static enum imap_mbx_result i_remove(void *ctx, const char *user, const char *folder)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    if (same_folder(f->name, "INBOX")) return IMAP_MBX_DENIED; /* RFC 3501 6.3.4 */
    char note[IMAP_MBX_NAME_MAX + 64];
    snprintf(note, sizeof note, "removed with the folder %s (IMAP DELETE)", f->name);
    while (f->n) remove_at(s, a, f, f->n - 1, note, false);
    char name[IMAP_MBX_NAME_MAX + 1];
    strcpy(name, f->name);
    free_folder_msgs(f);
    size_t i = (size_t)(f - a->folders);
    memmove(&a->folders[i], &a->folders[i + 1], (a->nfolders - i - 1) * sizeof a->folders[0]);
    a->nfolders--;
    s->shape++; /* folders moved: folder_of's memo is void */
    notify(s, a, name);
    return IMAP_MBX_OK;
}

/* The name `name` gets when `from` becomes `to`: the folder itself, or an
 * inferior "from/x" becoming "to/x" (RFC 3501 6.3.5). false when it is
 * neither, or the new name is too long. */
static bool renamed(const char *name, const char *from, const char *to, char *out)
{
    size_t fl = strlen(from);
    if (strcmp(name, from) == 0) {
        strcpy(out, to);
        return true;
    }
    if (strncmp(name, from, fl) != 0 || name[fl] != DELIM) return false;
    if (strlen(to) + strlen(name + fl) > IMAP_MBX_NAME_MAX) return false;
    strcpy(out, to);
    strcat(out, name + fl);
    return true;
}

static enum imap_mbx_result i_rename(void *ctx, const char *user, const char *from,
                                     const char *to)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, from);
    if (!f) return IMAP_MBX_NONEXISTENT;
    /* RFC 3501 6.3.5 makes renaming INBOX move its messages into a new
     * folder; this store keeps it simple and refuses, as it refuses a new
     * name of INBOX. */
    if (same_folder(f->name, "INBOX") || same_folder(to, "INBOX")) return IMAP_MBX_DENIED;
    if (strlen(to) > IMAP_MBX_NAME_MAX || !*to) return IMAP_MBX_DENIED;
    char old[IMAP_MBX_NAME_MAX + 1], name[IMAP_MBX_NAME_MAX + 1];
    strcpy(old, f->name);
    /* Every new name must be free before anything moves. */
    for (size_t i = 0; i < a->nfolders; i++) {
        if (!renamed(a->folders[i].name, old, to, name)) {
            if (strncmp(a->folders[i].name, old, strlen(old)) == 0 &&
                a->folders[i].name[strlen(old)] == DELIM)
                return IMAP_MBX_FULL; /* an inferior's new name would be too long */
            continue;
        }
        struct folder *other = find_folder(a, name);
        if (other && other != &a->folders[i]) return IMAP_MBX_EXISTS;
    }
    for (size_t i = 0; i < a->nfolders; i++) {
        struct folder *g = &a->folders[i];
        if (!renamed(g->name, old, to, name)) continue;
        /* The trace knows messages by folder name: each moves from the old
         * name to the new one, UIDs and UIDVALIDITY unchanged. */
        char note[2 * IMAP_MBX_NAME_MAX + 64];
        snprintf(note, sizeof note, "the folder %s was renamed to %s (IMAP RENAME)", g->name,
                 name);
        for (size_t j = 0; j < g->n; j++) record(s, SIM_MAIL_REMOVED, a, g->name, &g->msgs[j], note);
        char was[IMAP_MBX_NAME_MAX + 1];
        strcpy(was, g->name);
        strcpy(g->name, name);
        s->shape++; /* a name changed: folder_of's memo is void */
        g->modseq++;
        for (size_t j = 0; j < g->n; j++) record(s, SIM_MAIL_ADDED, a, g->name, &g->msgs[j], note);
        notify(s, a, was);
        notify(s, a, g->name);
    }
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_subscribe(void *ctx, const char *user, const char *folder, bool on)
{
    struct folder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    f->subscribed = on;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_status(void *ctx, const char *user, const char *folder,
                                     struct imap_mbx_status *st)
{
    struct folder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    st->uidvalidity = f->uidvalidity;
    st->uidnext = f->uidnext;
    st->count = (uint32_t)f->n;
    st->modseq = f->modseq;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_msg_at(void *ctx, const char *user, const char *folder,
                                     uint32_t index, struct imap_mbx_msg *out)
{
    struct folder *f = folder_of(ctx, user, folder);
    if (!f || index >= f->n) return IMAP_MBX_NONEXISTENT;
    const struct smsg *m = &f->msgs[index];
    out->uid = m->pub.uid;
    out->flags = m->pub.flags;
    out->internal_date = m->pub.internal_date;
    out->zone_minutes = m->zone;
    out->size = (uint32_t)m->pub.size;
    out->recent_unclaimed = m->recent_unclaimed;
    out->modseq = m->modseq;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_bytes(void *ctx, const char *user, const char *folder,
                                    uint32_t uid, const char **data, size_t *len)
{
    struct folder *f = folder_of(ctx, user, folder);
    size_t i = f ? find_uid(f, uid) : 0;
    if (!f || i == f->n) return IMAP_MBX_NONEXISTENT;
    *data = f->msgs[i].blob->data;
    *len = f->msgs[i].blob->len;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_append(void *ctx, const char *user, const char *folder,
                                     unsigned flags, int64_t date, int zone, const char *data,
                                     size_t len, uint32_t *uidvalidity, uint32_t *uid)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    bool too_big;
    struct blob *b = blob_new(s, data, len, &too_big);
    if (!b) return IMAP_MBX_FULL;
    char note[IMAP_MBX_NAME_MAX + 64];
    snprintf(note, sizeof note, "saved into %s by the mail program (IMAP APPEND)", f->name);
    *uidvalidity = f->uidvalidity;
    enum sim_store_result r = add_msg(s, a, f, b, flags, date, zone, note, uid);
    if (b->refs == 0) free(b);
    return mbx_result(r);
}

static enum imap_mbx_result i_set_flags(void *ctx, const char *user, const char *folder,
                                        uint32_t uid, unsigned flags)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, folder);
    size_t i = f ? find_uid(f, uid) : 0;
    if (!f || i == f->n) return IMAP_MBX_NONEXISTENT;
    return mbx_result(set_flags(s, a, f, i, flags));
}

static enum imap_mbx_result i_copy(void *ctx, const char *user, const char *folder, uint32_t uid,
                                   const char *dest, uint32_t *uidvalidity, uint32_t *new_uid)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, folder), *d = find_folder(a, dest);
    size_t i = f ? find_uid(f, uid) : 0;
    if (!f || !d || i == f->n) return IMAP_MBX_NONEXISTENT;
    const struct smsg *m = &f->msgs[i];
    char note[2 * IMAP_MBX_NAME_MAX + 64];
    snprintf(note, sizeof note, "copied from %s into %s (IMAP COPY)", f->name, d->name);
    *uidvalidity = d->uidvalidity;
    /* RFC 3501 6.4.7: flags and internal date go along; the copy is new
     * to every session, so \Recent is up for claiming again. */
    return mbx_result(add_msg(s, a, d, m->blob, m->pub.flags, m->pub.internal_date, m->zone,
                              note, new_uid));
}

static enum imap_mbx_result i_expunge(void *ctx, const char *user, const char *folder,
                                      uint32_t uid)
{
    struct sim_store *s = ctx;
    struct account *a = find_account(s, user);
    struct folder *f = find_folder(a, folder);
    size_t i = f ? find_uid(f, uid) : 0;
    if (!f || i == f->n) return IMAP_MBX_NONEXISTENT;
    char note[IMAP_MBX_NAME_MAX + 64];
    snprintf(note, sizeof note, "expunged: removed for good from %s", f->name);
    remove_at(s, a, f, i, note, true);
    return IMAP_MBX_OK;
}

static enum imap_mbx_result i_claim(void *ctx, const char *user, const char *folder, uint32_t uid)
{
    struct folder *f = folder_of(ctx, user, folder);
    size_t i = f ? find_uid(f, uid) : 0;
    if (!f || i == f->n) return IMAP_MBX_NONEXISTENT;
    if (!f->msgs[i].recent_unclaimed) return IMAP_MBX_EXISTS;
    f->msgs[i].recent_unclaimed = false;
    return IMAP_MBX_OK;
}

static const struct imap_mailbox_ops imap_ops = {
    .authenticate = i_auth, .list = i_list, .create = i_create, .remove = i_remove,
    .rename = i_rename, .subscribe = i_subscribe, .status = i_status, .msg_at = i_msg_at,
    .bytes = i_bytes, .append = i_append, .set_flags = i_set_flags, .copy = i_copy,
    .expunge = i_expunge, .claim_recent = i_claim,
};

struct imap_mailbox sim_store_imap(struct sim_store *s)
{
    return (struct imap_mailbox){&imap_ops, s};
}

/* ---- the POP3 interface (struct pop3_maildrop) -------------------------------- */

static bool p_check_pass(void *ctx, const char *user, const char *pass)
{
    return sim_store_check_password(ctx, user, pass);
}

/* RFC 1939 7: the APOP secret is shared by client and server; here it is
 * the account's password. */
static const char *p_apop_secret(void *ctx, const char *user)
{
    struct account *a = find_account(ctx, user);
    return a ? a->password : NULL;
}

/* RFC 1939 8: the lock is exclusive; the snapshot fixes message numbers. */
static bool p_lock(void *ctx, const char *user)
{
    struct account *a = find_account(ctx, user);
    struct folder *f = find_folder(a, "INBOX");
    if (!f || a->pop3_locked) return false;
    a->snap = f->n ? malloc(f->n * sizeof *a->snap) : NULL;
    if (f->n && !a->snap) return false;
    for (size_t i = 0; i < f->n; i++) {
        a->snap[i] = (struct snap_msg){f->msgs[i].pub.uid, f->msgs[i].blob};
        f->msgs[i].blob->refs++;
    }
    a->nsnap = f->n;
    a->snap_uidvalidity = f->uidvalidity;
    a->pop3_locked = true;
    return true;
}

static void p_unlock(void *ctx, const char *user)
{
    struct account *a = find_account(ctx, user);
    if (!a) return;
    drop_snapshot(a);
    a->pop3_locked = false;
}

static size_t p_count(void *ctx, const char *user)
{
    struct account *a = find_account(ctx, user);
    return a ? a->nsnap : 0;
}

static const struct snap_msg *snap_at(void *ctx, const char *user, size_t msg,
                                      struct account **ap)
{
    struct account *a = find_account(ctx, user);
    if (ap) *ap = a;
    return a && msg >= 1 && msg <= a->nsnap ? &a->snap[msg - 1] : NULL;
}

static size_t p_size(void *ctx, const char *user, size_t msg)
{
    const struct snap_msg *m = snap_at(ctx, user, msg, NULL);
    return m ? m->blob->len : 0;
}

/* RFC 1939 7: the unique-id is the same in every session; UIDVALIDITY and
 * UID together never repeat (RFC 3501 2.3.1.1). */
static const char *p_uid(void *ctx, const char *user, size_t msg)
{
    struct account *a;
    const struct snap_msg *m = snap_at(ctx, user, msg, &a);
    if (!m) return NULL;
    snprintf(a->uidl, sizeof a->uidl, "%lu.%lu", (unsigned long)a->snap_uidvalidity,
             (unsigned long)m->uid);
    return a->uidl;
}

static const char *p_read(void *ctx, const char *user, size_t msg, size_t *len)
{
    const struct snap_msg *m = snap_at(ctx, user, msg, NULL);
    *len = m ? m->blob->len : 0;
    return m ? m->blob->data : "";
}

/* UPDATE (RFC 1939 6): removes by UID from INBOX. One an IMAP session has
 * expunged meanwhile is gone already, which is what was asked. */
static bool p_remove(void *ctx, const char *user, size_t msg)
{
    struct sim_store *s = ctx;
    struct account *a;
    const struct snap_msg *m = snap_at(ctx, user, msg, &a);
    if (!m) return false;
    struct folder *f = find_folder(a, "INBOX");
    if (!f || f->uidvalidity != a->snap_uidvalidity) return true;
    size_t i = find_uid(f, m->uid);
    if (i < f->n) remove_at(s, a, f, i, "deleted from the server by POP3 (DELE, then QUIT)", true);
    return true;
}

struct pop3_maildrop sim_store_pop3(struct sim_store *s)
{
    struct pop3_maildrop md = {
        .ctx = s, .check_pass = p_check_pass, .apop_secret = p_apop_secret, .lock = p_lock,
        .unlock = p_unlock, .count = p_count, .size = p_size, .uid = p_uid, .read = p_read,
        .remove = p_remove,
    };
    return md;
}
