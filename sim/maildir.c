/* Maildir persistence for the mail store: see sim/maildir.h. */
#include "sim/maildir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocols/common.h"
#include "protocols/imap_mailbox.h"
#include "sim/trace.h"

#define STORES_MAX 16   /* stores watched: one per mail server (SIM_SCN_SERVERS_MAX is 8) */
#define NAME_MAX_ 255   /* a file name (NAME_MAX on Linux) */
#define LOAD_NOTE "loaded from the maildir on disk (mailsim serve --maildir)"

/* One message file: its base name (the unique part) and where it is. */
struct mfile {
    uint32_t uid;
    unsigned flags; /* enum sim_flag bits the name carries */
    bool in_cur;    /* cur/BASE:2,FLAGS, else new/BASE */
    char *base;
};

struct mfolder {
    char name[IMAP_MBX_NAME_MAX + 1];
    struct mfile *files; /* ascending UID, as the store numbers them */
    size_t n, cap;
};

struct macct {
    struct sim_store *store;
    char address[SIM_ADDRESS_MAX + 1];
    char path[SIM_MAILDIR_PATH_MAX];
    struct mfolder *folders;
    size_t nfolders;
};

struct mstore {
    struct sim_maildir *md;
    struct sim_store *store;
};

struct sim_maildir {
    char root[SIM_MAILDIR_PATH_MAX];
    struct macct *accts[SIM_MAILDIR_ACCOUNTS_MAX];
    size_t naccts;
    struct mstore stores[STORES_MAX];
    size_t nstores;
    bool loading;     /* deliveries from the disk are not written back */
    unsigned counter; /* the Q part of new names */
    size_t errors;
};

/* ---- names ----------------------------------------------------------------- */

/* Maildir info letters, in the ASCII order the spec asks for. */
static const struct {
    char letter;
    unsigned flag;
} letters[] = {
    {'D', SIM_FLAG_DRAFT}, {'F', SIM_FLAG_FLAGGED}, {'R', SIM_FLAG_ANSWERED},
    {'S', SIM_FLAG_SEEN},  {'T', SIM_FLAG_DELETED},
};

static void info_of(unsigned flags, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < ARRAY_LEN(letters); i++)
        if (flags & letters[i].flag) out[o++] = letters[i].letter;
    out[o] = 0;
}

/* The flags of a file name, and the length of its base (before ":2,"). */
static unsigned flags_of(const char *name, size_t *base_len)
{
    const char *info = strstr(name, ":2,");
    *base_len = info ? (size_t)(info - name) : strlen(name);
    unsigned flags = 0;
    if (!info) return 0;
    for (const char *p = info + 3; *p; p++)
        for (size_t i = 0; i < ARRAY_LEN(letters); i++)
            if (*p == letters[i].letter) flags |= letters[i].flag;
    return flags;
}

/* The folder's directory: INBOX is the maildir itself; "a/b" is ".a.b"
 * (Maildir++). Returns false when it does not fit. */
static bool folder_dir(const struct macct *a, const char *folder, char *out, size_t cap)
{
    if (ascii_eq(folder, strlen(folder), "INBOX"))
        return (size_t)snprintf(out, cap, "%s", a->path) < cap;
    char name[IMAP_MBX_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", folder);
    for (char *p = name; *p; p++)
        if (*p == '/') *p = '.';
    return (size_t)snprintf(out, cap, "%s/.%s", a->path, name) < cap;
}

static void report(struct sim_maildir *md, const char *what, const char *path)
{
    if (md->errors++ < 10)
        fprintf(stderr, "mailsim: maildir: %s %s: %s\n", what, path, strerror(errno));
}

static int make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int make_maildir(const char *dir)
{
    char p[SIM_MAILDIR_PATH_MAX + 8];
    if (make_dir(dir) != 0) return -1;
    static const char *const subs[] = {"tmp", "new", "cur"};
    for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        if (make_dir(p) != 0) return -1;
    }
    return 0;
}

/* ---- the index ---------------------------------------------------------------- */

static struct mfolder *find_folder(struct macct *a, const char *name, bool create)
{
    for (size_t i = 0; i < a->nfolders; i++)
        if (strcmp(a->folders[i].name, name) == 0) return &a->folders[i];
    if (!create) return NULL;
    struct mfolder *f = realloc(a->folders, (a->nfolders + 1) * sizeof *f);
    if (!f) return NULL;
    a->folders = f;
    f = &a->folders[a->nfolders++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

static bool add_file(struct mfolder *f, uint32_t uid, unsigned flags, bool in_cur,
                     const char *base, size_t base_len)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct mfile *m = realloc(f->files, cap * sizeof *m);
        if (!m) return false;
        f->files = m;
        f->cap = cap;
    }
    char *b = malloc(base_len + 1);
    if (!b) return false;
    memcpy(b, base, base_len);
    b[base_len] = 0;
    /* UIDs only grow, so appending keeps the order. */
    f->files[f->n++] = (struct mfile){uid, flags, in_cur, b};
    return true;
}

static void file_path(const char *dir, const struct mfile *m, char *out, size_t cap)
{
    char info[8];
    info_of(m->flags, info);
    if (m->in_cur) snprintf(out, cap, "%s/cur/%s:2,%s", dir, m->base, info);
    else snprintf(out, cap, "%s/new/%s", dir, m->base);
}

/* ---- writing -------------------------------------------------------------------- */

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Octets on disk: every CRLF becomes LF. */
static size_t disk_size(const char *bytes, size_t n)
{
    size_t crlf = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (bytes[i] == '\r' && bytes[i + 1] == '\n') crlf++;
    return n - crlf;
}

/* Writes bytes (CRLF line ends; LF on disk, as Unix mail tools expect)
 * to path, and syncs it. */
static bool write_file(const char *path, const char *bytes, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return false;
    char buf[8192];
    size_t o = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (bytes[i] == '\r' && i + 1 < n && bytes[i + 1] == '\n') continue;
        buf[o++] = bytes[i];
        if (o == sizeof buf) {
            ok = write_all(fd, buf, o);
            o = 0;
        }
    }
    ok = ok && write_all(fd, buf, o) && fsync(fd) == 0;
    if (close(fd) != 0) ok = false;
    if (!ok) unlink(path);
    return ok;
}

/* Delivers one message the Maildir way: tmp/, then a link into new/ or
 * cur/ (link fails rather than overwrite a name in use), then tmp/ goes.
 * *out gets the file (its base owned by the caller). */
static bool deliver(struct sim_maildir *md, struct macct *a, const char *dir,
                    const struct sim_stored_msg *m, struct mfile *out)
{
    if (make_maildir(dir) != 0) {
        report(md, "cannot make", dir);
        return false;
    }
    for (int tries = 0; tries < 100; tries++) {
        char base[NAME_MAX_ + 1], tmp[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 8];
        char final[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 16];
        /* time.MusecPpid.host in spirit: the simulated clock, a counter
         * and the pid keep names unique; ",S=" is the file's size on disk
         * (Dovecot's maildir extension, which Dovecot trusts). */
        snprintf(base, sizeof base, "%lld.P%ldQ%u.mailsim,S=%zu",
                 (long long)sim_store_clock(a->store), (long)getpid(), ++md->counter,
                 disk_size(m->bytes, m->size));
        snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, base);
        if (!write_file(tmp, m->bytes, m->size)) {
            if (errno == EEXIST) continue;
            report(md, "cannot write", tmp);
            return false;
        }
        unsigned flags = m->flags & IMAP_MBX_FLAGS;
        struct mfile mf = {m->uid, flags, flags != 0, base};
        file_path(dir, &mf, final, sizeof final);
        if (link(tmp, final) != 0) {
            int why = errno;
            unlink(tmp);
            if (why == EEXIST) continue;
            errno = why;
            report(md, "cannot link", final);
            return false;
        }
        unlink(tmp);
        mf.base = malloc(strlen(base) + 1);
        if (!mf.base) return false;
        strcpy(mf.base, base);
        *out = mf;
        return true;
    }
    return false;
}

static void remove_dir(const char *dir)
{
    char p[SIM_MAILDIR_PATH_MAX + 8];
    static const char *const subs[] = {"tmp", "new", "cur"};
    for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        rmdir(p);
    }
    rmdir(dir); /* fails, harmlessly, when a reader left its own files there */
}

/* Brings folder `name` of a on disk in step with the store: a merge of
 * two UID-ordered lists. */
static void sync_folder(struct sim_maildir *md, struct macct *a, const char *name)
{
    char dir[SIM_MAILDIR_PATH_MAX];
    if (!folder_dir(a, name, dir, sizeof dir)) return;
    struct imap_mailbox mb = sim_store_imap(a->store);
    struct imap_mbx_status st;
    bool exists = mb.ops->status(mb.ctx, a->address, name, &st) == IMAP_MBX_OK;
    struct mfolder *f = find_folder(a, name, exists);
    if (!f) return;
    size_t count = exists ? sim_store_count(a->store, a->address, name) : 0;
    struct mfile *nf = malloc((f->n + count + 1) * sizeof *nf);
    if (!nf) {
        report(md, "out of memory for", dir);
        return;
    }
    size_t i = 0, j = 0, k = 0;
    char path[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 16], to[sizeof path];
    while (i < f->n || j < count) {
        const struct sim_stored_msg *m =
            j < count ? sim_store_msg(a->store, a->address, name, j) : NULL;
        struct mfile *x = i < f->n ? &f->files[i] : NULL;
        if (x && (!m || x->uid < m->uid)) { /* expunged, deleted, moved away */
            file_path(dir, x, path, sizeof path);
            if (unlink(path) != 0 && errno != ENOENT) report(md, "cannot remove", path);
            free(x->base);
            i++;
        } else if (!x || m->uid < x->uid) { /* new in the store */
            if (deliver(md, a, dir, m, &nf[k])) k++;
            j++;
        } else { /* the same message: a rename into cur/ when its flags changed */
            unsigned flags = m->flags & IMAP_MBX_FLAGS;
            if (flags != x->flags) {
                struct mfile y = *x;
                y.flags = flags;
                y.in_cur = true;
                file_path(dir, x, path, sizeof path);
                file_path(dir, &y, to, sizeof to);
                if (rename(path, to) == 0) *x = y;
                else report(md, "cannot rename", path);
            }
            nf[k++] = *x;
            i++;
            j++;
        }
    }
    free(f->files);
    f->files = nf;
    f->n = k;
    f->cap = k; /* the next sync allocates afresh */
    if (!exists) {
        remove_dir(dir);
        free(f->files);
        size_t at = (size_t)(f - a->folders);
        memmove(f, f + 1, (a->nfolders - at - 1) * sizeof *f);
        a->nfolders--;
    }
}

static void on_change(void *ctx, const char *address, const char *folder)
{
    struct mstore *ms = ctx;
    struct sim_maildir *md = ms->md;
    if (md->loading) return;
    for (size_t i = 0; i < md->naccts; i++) {
        struct macct *a = md->accts[i];
        if (a->store == ms->store && strcmp(a->address, address) == 0) {
            sync_folder(md, a, folder);
            return;
        }
    }
}

/* ---- loading ---------------------------------------------------------------------- */

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The entries of dir that are not dot files, sorted; NULL when it cannot
 * be read. */
static char **list_dir(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        names[*n] = malloc(strlen(e->d_name) + 1);
        if (!names[*n]) break;
        strcpy(names[(*n)++], e->d_name);
    }
    closedir(d);
    if (names) qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Reads a file, LF made CRLF. NULL when it is too big or unreadable. */
static char *read_msg(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int ch, prev = 0;
    while (buf && (ch = fgetc(fp)) != EOF) {
        if (n + 2 > cap) {
            if (cap >= SIM_STORE_MSG_SIZE_MAX) {
                free(buf);
                buf = NULL;
                break;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        if (ch == '\n' && prev != '\r') buf[n++] = '\r';
        buf[n++] = (char)ch;
        prev = ch;
    }
    fclose(fp);
    *len = n;
    return buf;
}

static void load_folder(struct macct *a, const char *folder, const char *dir, size_t *loaded,
                        size_t *skipped)
{
    struct mfolder *f = find_folder(a, folder, true);
    if (!f) return;
    static const char *const subs[] = {"new", "cur"};
    for (size_t s = 0; s < ARRAY_LEN(subs); s++) {
        char sub[SIM_MAILDIR_PATH_MAX + 8];
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[s]);
        size_t n;
        char **names = list_dir(sub, &n);
        for (size_t i = 0; i < n; i++) {
            char path[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 16];
            snprintf(path, sizeof path, "%s/%s", sub, names[i]);
            size_t base_len, len;
            unsigned flags = s == 0 ? 0 : flags_of(names[i], &base_len);
            if (s == 0) base_len = strlen(names[i]);
            char *bytes = read_msg(path, &len);
            uint32_t uid;
            if (!bytes || sim_store_deliver(a->store, a->address, folder, bytes, len, flags, &uid,
                                            LOAD_NOTE) != SIM_STORE_OK ||
                !add_file(f, uid, flags, s == 1, names[i], base_len)) {
                ++*skipped;
            } else {
                ++*loaded;
            }
            free(bytes);
        }
        free_list(names, n);
    }
}

int sim_maildir_attach(struct sim_maildir *md, struct sim_store *store, const char *address,
                       size_t *loaded, size_t *skipped, char *err, size_t cap)
{
    size_t l = 0, sk = 0;
    if (loaded) *loaded = 0;
    if (skipped) *skipped = 0;
    if (!sim_store_has_account(store, address)) {
        snprintf(err, cap, "no such account in the store");
        return -1;
    }
    if (!*address || strchr(address, '/') || address[0] == '.') {
        snprintf(err, cap, "the address cannot be a directory name");
        return -1;
    }
    if (md->naccts == SIM_MAILDIR_ACCOUNTS_MAX) {
        snprintf(err, cap, "too many accounts (at most %d)", SIM_MAILDIR_ACCOUNTS_MAX);
        return -1;
    }
    struct mstore *ms = NULL;
    for (size_t i = 0; i < md->nstores; i++)
        if (md->stores[i].store == store) ms = &md->stores[i];
    if (!ms) {
        if (md->nstores == STORES_MAX) {
            snprintf(err, cap, "too many mail servers (at most %d)", STORES_MAX);
            return -1;
        }
        ms = &md->stores[md->nstores];
        *ms = (struct mstore){md, store};
        if (sim_store_watch(store, on_change, ms) != 0) {
            snprintf(err, cap, "the store takes no more watchers");
            return -1;
        }
        md->nstores++;
    }
    struct macct *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    a->store = store;
    snprintf(a->address, sizeof a->address, "%s", address);
    if ((size_t)snprintf(a->path, sizeof a->path, "%s/%s", md->root, address) >= sizeof a->path ||
        make_maildir(a->path) != 0) {
        snprintf(err, cap, "cannot make %s/%s: %s", md->root, address, strerror(errno));
        free(a);
        return -1;
    }
    md->accts[md->naccts++] = a;
    md->loading = true;
    load_folder(a, "INBOX", a->path, &l, &sk);
    size_t n;
    char **names = NULL;
    DIR *d = opendir(a->path);
    if (d) { /* Maildir++ folders are the dot directories holding a cur/ */
        size_t cap2 = 0;
        n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] != '.' || !e->d_name[1] || strcmp(e->d_name, "..") == 0) continue;
            char cur[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 8];
            struct stat sb;
            snprintf(cur, sizeof cur, "%s/%s/cur", a->path, e->d_name);
            if (stat(cur, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
            if (n == cap2) {
                cap2 = cap2 ? cap2 * 2 : 8;
                char **p = realloc(names, cap2 * sizeof *p);
                if (!p) break;
                names = p;
            }
            if (!(names[n] = malloc(strlen(e->d_name) + 1))) break;
            strcpy(names[n++], e->d_name);
        }
        closedir(d);
        if (names) qsort(names, n, sizeof *names, cmp_names);
        struct imap_mailbox mb = sim_store_imap(store);
        for (size_t i = 0; i < n; i++) {
            char folder[IMAP_MBX_NAME_MAX + 1], dir[SIM_MAILDIR_PATH_MAX + NAME_MAX_ + 2];
            snprintf(folder, sizeof folder, "%s", names[i] + 1);
            for (char *p = folder; *p; p++)
                if (*p == '.') *p = '/';
            struct imap_mbx_status st;
            if (mb.ops->status(mb.ctx, address, folder, &st) != IMAP_MBX_OK &&
                mb.ops->create(mb.ctx, address, folder) != IMAP_MBX_OK)
                continue;
            snprintf(dir, sizeof dir, "%s/%s", a->path, names[i]);
            load_folder(a, folder, dir, &l, &sk);
        }
        free_list(names, n);
    }
    md->loading = false;
    if (loaded) *loaded = l;
    if (skipped) *skipped = sk;
    return 0;
}

/* ---- the tree ------------------------------------------------------------------------ */

struct sim_maildir *sim_maildir_new(const char *dir, char *err, size_t cap)
{
    if (!dir || !*dir || strlen(dir) >= SIM_MAILDIR_PATH_MAX - SIM_ADDRESS_MAX - 64) {
        snprintf(err, cap, "the folder name is empty or too long");
        return NULL;
    }
    if (make_dir(dir) != 0) {
        snprintf(err, cap, "cannot make %s: %s", dir, strerror(errno));
        return NULL;
    }
    struct sim_maildir *md = calloc(1, sizeof *md);
    if (!md) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    snprintf(md->root, sizeof md->root, "%s", dir);
    return md;
}

size_t sim_maildir_errors(const struct sim_maildir *md) { return md->errors; }

void sim_maildir_free(struct sim_maildir *md)
{
    if (!md) return;
    for (size_t i = 0; i < md->nstores; i++)
        sim_store_unwatch(md->stores[i].store, on_change, &md->stores[i]);
    for (size_t i = 0; i < md->naccts; i++) {
        struct macct *a = md->accts[i];
        for (size_t k = 0; k < a->nfolders; k++) {
            for (size_t j = 0; j < a->folders[k].n; j++) free(a->folders[k].files[j].base);
            free(a->folders[k].files);
        }
        free(a->folders);
        free(a);
    }
    free(md);
}
