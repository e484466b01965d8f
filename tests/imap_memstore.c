/* The in-memory store for the IMAP tests: arrays, strcmp, nothing clever. */
#include "tests/imap_memstore.h"

#include <stdlib.h>
#include <string.h>

struct mmsg {
    struct imap_mbx_msg info;
    char *data;
    size_t len;
};

struct mfolder {
    bool used;
    char name[IMAP_MBX_NAME_MAX + 1];
    bool subscribed;
    uint32_t uidvalidity, uidnext, count;
    uint64_t modseq;
    struct mmsg msgs[MEMSTORE_MAX_MSGS];
};

struct muser {
    bool used;
    char name[IMAP_MBX_USER_MAX + 1], pass[IMAP_MBX_USER_MAX + 1];
    struct mfolder folders[MEMSTORE_MAX_FOLDERS];
};

struct memstore {
    struct muser users[MEMSTORE_MAX_USERS];
    uint32_t next_uidvalidity;
};

static struct muser *user_of(struct memstore *ms, const char *user)
{
    for (size_t i = 0; i < MEMSTORE_MAX_USERS; i++)
        if (ms->users[i].used && strcmp(ms->users[i].name, user) == 0)
            return &ms->users[i];
    return NULL;
}

static struct mfolder *folder_of(struct memstore *ms, const char *user, const char *name)
{
    struct muser *u = user_of(ms, user);
    if (!u) return NULL;
    for (size_t i = 0; i < MEMSTORE_MAX_FOLDERS; i++)
        if (u->folders[i].used && strcmp(u->folders[i].name, name) == 0)
            return &u->folders[i];
    return NULL;
}

static struct mmsg *msg_of(struct mfolder *f, uint32_t uid)
{
    for (uint32_t i = 0; i < f->count; i++)
        if (f->msgs[i].info.uid == uid) return &f->msgs[i];
    return NULL;
}

static enum imap_mbx_result new_folder(struct memstore *ms, const char *user, const char *name)
{
    struct muser *u = user_of(ms, user);
    if (!u) return IMAP_MBX_DENIED;
    if (strlen(name) > IMAP_MBX_NAME_MAX) return IMAP_MBX_FULL;
    if (folder_of(ms, user, name)) return IMAP_MBX_EXISTS;
    for (size_t i = 0; i < MEMSTORE_MAX_FOLDERS; i++) {
        struct mfolder *f = &u->folders[i];
        if (f->used) continue;
        memset(f, 0, sizeof *f);
        f->used = true;
        strcpy(f->name, name);
        f->uidvalidity = ms->next_uidvalidity++;
        f->uidnext = 1;
        f->modseq = 1;
        return IMAP_MBX_OK;
    }
    return IMAP_MBX_FULL;
}

static void free_folder(struct mfolder *f)
{
    for (uint32_t i = 0; i < f->count; i++) free(f->msgs[i].data);
    f->count = 0;
    f->used = false;
}

static enum imap_mbx_result m_auth(void *ctx, const char *user, const char *pass)
{
    struct muser *u = user_of(ctx, user);
    return u && strcmp(u->pass, pass) == 0 ? IMAP_MBX_OK : IMAP_MBX_DENIED;
}

static enum imap_mbx_result m_list(void *ctx, const char *user, struct imap_mbx_folder *out,
                                   size_t max, size_t *n)
{
    struct muser *u = user_of(ctx, user);
    *n = 0;
    if (!u) return IMAP_MBX_DENIED;
    for (size_t i = 0; i < MEMSTORE_MAX_FOLDERS && *n < max; i++) {
        if (!u->folders[i].used) continue;
        strcpy(out[*n].name, u->folders[i].name);
        out[*n].attrs = 0;
        out[*n].subscribed = u->folders[i].subscribed;
        (*n)++;
    }
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_create(void *ctx, const char *user, const char *folder)
{
    return new_folder(ctx, user, folder);
}

static enum imap_mbx_result m_remove(void *ctx, const char *user, const char *folder)
{
    if (strcmp(folder, "INBOX") == 0) return IMAP_MBX_DENIED;
    struct mfolder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    free_folder(f);
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_rename(void *ctx, const char *user, const char *from, const char *to)
{
    struct mfolder *f = folder_of(ctx, user, from);
    if (!f) return IMAP_MBX_NONEXISTENT;
    if (folder_of(ctx, user, to)) return IMAP_MBX_EXISTS;
    if (strlen(to) > IMAP_MBX_NAME_MAX || strcmp(from, "INBOX") == 0) return IMAP_MBX_DENIED;
    strcpy(f->name, to);
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_subscribe(void *ctx, const char *user, const char *folder, bool on)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    f->subscribed = on;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_status(void *ctx, const char *user, const char *folder,
                                     struct imap_mbx_status *st)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    st->uidvalidity = f->uidvalidity;
    st->uidnext = f->uidnext;
    st->count = f->count;
    st->modseq = f->modseq;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_msg_at(void *ctx, const char *user, const char *folder,
                                     uint32_t index, struct imap_mbx_msg *out)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    if (!f || index >= f->count) return IMAP_MBX_NONEXISTENT;
    *out = f->msgs[index].info;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_bytes(void *ctx, const char *user, const char *folder,
                                    uint32_t uid, const char **data, size_t *len)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m) return IMAP_MBX_NONEXISTENT;
    *data = m->data;
    *len = m->len;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result put(struct mfolder *f, uint32_t uid, unsigned flags, int64_t date,
                                int zone, const char *data, size_t len, bool recent)
{
    if (f->count >= MEMSTORE_MAX_MSGS) return IMAP_MBX_FULL;
    if (uid < f->uidnext) return IMAP_MBX_EXISTS; /* RFC 3501 2.3.1.1: ascending */
    char *copy = malloc(len ? len : 1);
    if (!copy) return IMAP_MBX_FULL;
    memcpy(copy, data, len);
    struct mmsg *m = &f->msgs[f->count++];
    m->data = copy;
    m->len = len;
    m->info.uid = uid;
    m->info.flags = flags & IMAP_MBX_FLAGS;
    m->info.internal_date = date;
    m->info.zone_minutes = zone;
    m->info.size = (uint32_t)len;
    m->info.recent_unclaimed = recent;
    f->uidnext = uid + 1;
    m->info.modseq = ++f->modseq; /* RFC 7162 3.1 */
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_append(void *ctx, const char *user, const char *folder,
                                     unsigned flags, int64_t date, int zone, const char *data,
                                     size_t len, uint32_t *uidvalidity, uint32_t *uid)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    if (!f) return IMAP_MBX_NONEXISTENT;
    *uid = f->uidnext;
    *uidvalidity = f->uidvalidity;
    return put(f, f->uidnext, flags, date, zone, data, len, true);
}

static enum imap_mbx_result m_set_flags(void *ctx, const char *user, const char *folder,
                                        uint32_t uid, unsigned flags)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m) return IMAP_MBX_NONEXISTENT;
    if (m->info.flags != (flags & IMAP_MBX_FLAGS)) {
        m->info.flags = flags & IMAP_MBX_FLAGS;
        m->info.modseq = ++f->modseq;
    }
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_copy(void *ctx, const char *user, const char *folder, uint32_t uid,
                                   const char *dest, uint32_t *uidvalidity, uint32_t *new_uid)
{
    struct mfolder *f = folder_of(ctx, user, folder), *d = folder_of(ctx, user, dest);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m || !d) return IMAP_MBX_NONEXISTENT;
    *uidvalidity = d->uidvalidity;
    *new_uid = d->uidnext;
    return put(d, d->uidnext, m->info.flags, m->info.internal_date, m->info.zone_minutes,
               m->data, m->len, true);
}

static enum imap_mbx_result m_expunge(void *ctx, const char *user, const char *folder, uint32_t uid)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m) return IMAP_MBX_NONEXISTENT;
    free(m->data);
    size_t i = (size_t)(m - f->msgs);
    memmove(&f->msgs[i], &f->msgs[i + 1], (f->count - i - 1) * sizeof f->msgs[0]);
    f->count--;
    f->modseq++;
    return IMAP_MBX_OK;
}

static enum imap_mbx_result m_claim(void *ctx, const char *user, const char *folder, uint32_t uid)
{
    struct mfolder *f = folder_of(ctx, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m) return IMAP_MBX_NONEXISTENT;
    if (!m->info.recent_unclaimed) return IMAP_MBX_EXISTS;
    m->info.recent_unclaimed = false;
    return IMAP_MBX_OK;
}

static const struct imap_mailbox_ops ops = {
    .authenticate = m_auth, .list = m_list, .create = m_create, .remove = m_remove,
    .rename = m_rename, .subscribe = m_subscribe, .status = m_status, .msg_at = m_msg_at,
    .bytes = m_bytes, .append = m_append, .set_flags = m_set_flags, .copy = m_copy,
    .expunge = m_expunge, .claim_recent = m_claim,
};

struct memstore *memstore_new(void)
{
    struct memstore *ms = calloc(1, sizeof *ms);
    if (ms) ms->next_uidvalidity = 1;
    return ms;
}

void memstore_free(struct memstore *ms)
{
    if (!ms) return;
    for (size_t i = 0; i < MEMSTORE_MAX_USERS; i++)
        for (size_t j = 0; j < MEMSTORE_MAX_FOLDERS; j++)
            if (ms->users[i].folders[j].used) free_folder(&ms->users[i].folders[j]);
    free(ms);
}

struct imap_mailbox memstore_mailbox(struct memstore *ms)
{
    return (struct imap_mailbox){&ops, ms};
}

int memstore_add_user(struct memstore *ms, const char *user, const char *pass)
{
    if (strlen(user) > IMAP_MBX_USER_MAX || strlen(pass) > IMAP_MBX_USER_MAX) return -1;
    for (size_t i = 0; i < MEMSTORE_MAX_USERS; i++) {
        struct muser *u = &ms->users[i];
        if (u->used) continue;
        u->used = true;
        strcpy(u->name, user);
        strcpy(u->pass, pass);
        return new_folder(ms, user, "INBOX") == IMAP_MBX_OK ? 0 : -1;
    }
    return -1;
}

int memstore_set_uids(struct memstore *ms, const char *user, const char *folder,
                      uint32_t uidvalidity, uint32_t uidnext)
{
    struct mfolder *f = folder_of(ms, user, folder);
    if (!f) return -1;
    f->uidvalidity = uidvalidity;
    f->uidnext = uidnext;
    f->modseq++;
    return 0;
}

uint32_t memstore_add(struct memstore *ms, const char *user, const char *folder, uint32_t uid,
                      unsigned flags, int64_t date, int zone, const char *data, size_t len,
                      bool recent)
{
    struct mfolder *f = folder_of(ms, user, folder);
    if (!f) return 0;
    if (uid == 0) uid = f->uidnext;
    uint32_t next = f->uidnext;
    if (put(f, uid, flags, date, zone, data, len, recent) != IMAP_MBX_OK) return 0;
    if (f->uidnext < next) f->uidnext = next;
    return uid;
}

int memstore_set_size(struct memstore *ms, const char *user, const char *folder, uint32_t uid,
                      uint32_t size)
{
    struct mfolder *f = folder_of(ms, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    if (!m) return -1;
    m->info.size = size;
    return 0;
}

int memstore_flags(struct memstore *ms, const char *user, const char *folder, uint32_t uid)
{
    struct mfolder *f = folder_of(ms, user, folder);
    struct mmsg *m = f ? msg_of(f, uid) : NULL;
    return m ? (int)m->info.flags : -1;
}

int memstore_count(struct memstore *ms, const char *user, const char *folder)
{
    struct mfolder *f = folder_of(ms, user, folder);
    return f ? (int)f->count : -1;
}
