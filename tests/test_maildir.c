/* Maildir persistence (sim/maildir.h): what lands on disk for each store
 * change, and what a maildir written by hand (as mutt or Dovecot leave it)
 * loads as. Every case works in its own temporary folder. */
#include "tests/testkit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocols/common.h"
#include "protocols/imap_mailbox.h"
#include "sim/engine.h"
#include "sim/maildir.h"
#include "sim/store.h"

#define USER "friend@example.org"
#define PW "battery staple"

static const char msg_crlf[] = "From: <a@example.net>\r\nSubject: kept\r\n\r\nline one\r\nline two\r\n";
static const char msg_lf[] = "From: <a@example.net>\nSubject: kept\n\nline one\nline two\n";

struct fx {
    char root[64];
    struct sim_engine e;
    struct sim_store *st;
    struct sim_maildir *md;
};

static struct fx fx;

static void open_store(void)
{
    assert_int_equal(sim_engine_init(&fx.e, 1), 0);
    fx.st = sim_store_new(&fx.e, "mail.example.org", 1709542800);
    assert_non_null(fx.st);
    assert_int_equal(sim_store_add_account(fx.st, USER, PW, 0), SIM_STORE_OK);
}

static void close_store(void)
{
    sim_maildir_free(fx.md);
    fx.md = NULL;
    sim_store_free(fx.st);
    fx.st = NULL;
    sim_engine_fini(&fx.e);
}

static void attach(size_t want_loaded, size_t want_skipped)
{
    char err[256];
    fx.md = sim_maildir_new(fx.root, err, sizeof err);
    assert_non_null(fx.md);
    size_t loaded = 99, skipped = 99;
    assert_int_equal(sim_maildir_attach(fx.md, fx.st, USER, &loaded, &skipped, err, sizeof err), 0);
    assert_int_equal(loaded, want_loaded);
    assert_int_equal(skipped, want_skipped);
}

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    snprintf(fx.root, sizeof fx.root, "/tmp/mailsim-test-maildir-XXXXXX");
    if (!mkdtemp(fx.root)) return -1;
    open_store();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (fx.st) close_store();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.root);
    return system(cmd) == 0 ? 0 : -1;
}

/* The one file in ROOT/USER/sub (a folder's sub-directory), its name in
 * name; returns how many there are. */
static size_t files_in(const char *folder_dir, const char *sub, char *name, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s%s/%s", fx.root, USER, folder_dir, sub);
    DIR *d = opendir(path);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            if (name) snprintf(name, cap, "%s", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static void read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    fclose(f);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- writing ---------------------------------------------------------------- */

static void test_deliver_to_new(void **state)
{
    (void)state;
    attach(0, 0);
    uint32_t uid;
    assert_int_equal(sim_store_deliver(fx.st, USER, "INBOX", msg_crlf, sizeof msg_crlf - 1, 0,
                                       &uid, "test"),
                     SIM_STORE_OK);
    char name[256], path[512], body[512];
    assert_int_equal(files_in("", "new", name, sizeof name), 1);
    assert_int_equal(files_in("", "cur", NULL, 0), 0);
    assert_int_equal(files_in("", "tmp", NULL, 0), 0); /* nothing left half-written */
    char size[32];
    snprintf(size, sizeof size, ",S=%zu", sizeof msg_lf - 1);
    assert_non_null(strstr(name, size)); /* the size on disk, LF line ends */
    assert_null(strchr(name, ':'));
    snprintf(path, sizeof path, "%s/%s/new/%s", fx.root, USER, name);
    read_file(path, body, sizeof body);
    assert_string_equal(body, msg_lf);
}

struct flag_case {
    const char *name;
    unsigned flags;
    const char *suffix;
};

static const struct flag_case flag_cases[] = {
    {"seen", SIM_FLAG_SEEN, ":2,S"},
    {"flagged_seen", SIM_FLAG_FLAGGED | SIM_FLAG_SEEN, ":2,FS"},
    {"answered", SIM_FLAG_ANSWERED, ":2,R"},
    {"draft_deleted_answered", SIM_FLAG_DRAFT | SIM_FLAG_DELETED | SIM_FLAG_ANSWERED, ":2,DRT"},
    {"none_after_seen", 0, ":2,"},
};

static void test_flags_rename(void **state)
{
    const struct flag_case *c = *state;
    attach(0, 0);
    uint32_t uid;
    assert_int_equal(sim_store_deliver(fx.st, USER, "INBOX", msg_crlf, sizeof msg_crlf - 1, 0,
                                       &uid, "test"),
                     SIM_STORE_OK);
    struct imap_mailbox mb = sim_store_imap(fx.st);
    if (!c->flags) /* a change back to no flags still leaves new/ for cur/ */
        assert_int_equal(mb.ops->set_flags(mb.ctx, USER, "INBOX", uid, SIM_FLAG_SEEN), IMAP_MBX_OK);
    assert_int_equal(mb.ops->set_flags(mb.ctx, USER, "INBOX", uid, c->flags), IMAP_MBX_OK);
    char name[256];
    assert_int_equal(files_in("", "new", NULL, 0), 0);
    assert_int_equal(files_in("", "cur", name, sizeof name), 1);
    size_t n = strlen(name), k = strlen(c->suffix);
    assert_true(n > k);
    assert_string_equal(name + n - k, c->suffix);
}

static void test_expunge_unlinks(void **state)
{
    (void)state;
    attach(0, 0);
    uint32_t a, b;
    assert_int_equal(sim_store_deliver(fx.st, USER, "INBOX", msg_crlf, sizeof msg_crlf - 1, 0, &a, ""), SIM_STORE_OK);
    assert_int_equal(sim_store_deliver(fx.st, USER, "INBOX", msg_crlf, sizeof msg_crlf - 1, 0, &b, ""), SIM_STORE_OK);
    assert_int_equal(files_in("", "new", NULL, 0), 2);
    struct imap_mailbox mb = sim_store_imap(fx.st);
    assert_int_equal(mb.ops->expunge(mb.ctx, USER, "INBOX", a), IMAP_MBX_OK);
    assert_int_equal(files_in("", "new", NULL, 0), 1);
    assert_int_equal(mb.ops->expunge(mb.ctx, USER, "INBOX", b), IMAP_MBX_OK);
    assert_int_equal(files_in("", "new", NULL, 0), 0);
}

static void test_folders(void **state)
{
    (void)state;
    attach(0, 0);
    struct imap_mailbox mb = sim_store_imap(fx.st);
    assert_int_equal(mb.ops->create(mb.ctx, USER, "Work/2024"), IMAP_MBX_OK);
    assert_int_equal(sim_store_deliver(fx.st, USER, "Work/2024", msg_crlf, sizeof msg_crlf - 1,
                                       SIM_FLAG_SEEN, NULL, ""),
                     SIM_STORE_OK);
    char name[256];
    assert_int_equal(files_in("/.Work.2024", "cur", name, sizeof name), 1); /* Maildir++ */
    assert_int_equal(mb.ops->remove(mb.ctx, USER, "Work/2024"), IMAP_MBX_OK);
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s/.Work.2024", fx.root, USER);
    assert_int_not_equal(stat(path, &sb), 0); /* the folder is gone with its messages */
    /* Sent is a folder too */
    assert_int_equal(sim_store_deliver(fx.st, USER, "Sent", msg_crlf, sizeof msg_crlf - 1, 0, NULL, ""), SIM_STORE_OK);
    assert_int_equal(files_in("/.Sent", "new", NULL, 0), 1);
}

/* ---- loading ------------------------------------------------------------------ */

static void make_dirs(const char *sub)
{
    char p[512];
    static const char *const parts[] = {"", "/tmp", "/new", "/cur"};
    snprintf(p, sizeof p, "%s/%s", fx.root, USER);
    mkdir(p, 0700);
    for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
        snprintf(p, sizeof p, "%s/%s%s%s", fx.root, USER, sub, parts[i]);
        mkdir(p, 0700);
    }
}

static void test_load_by_hand(void **state)
{
    (void)state;
    make_dirs("");
    make_dirs("/.Archive");
    char p[512];
    snprintf(p, sizeof p, "%s/%s/new/1000.A.host", fx.root, USER);
    write_file(p, msg_lf);
    snprintf(p, sizeof p, "%s/%s/cur/1001.B.host:2,FS", fx.root, USER);
    write_file(p, "Subject: two\r\n\r\nCRLF kept\r\n");
    snprintf(p, sizeof p, "%s/%s/cur/.hidden", fx.root, USER); /* not a message */
    write_file(p, "x");
    snprintf(p, sizeof p, "%s/%s/.Archive/cur/1002.C.host:2,S", fx.root, USER);
    write_file(p, "Subject: old\n\nold\n");
    attach(3, 0);
    assert_int_equal(sim_store_count(fx.st, USER, "INBOX"), 2);
    const struct sim_stored_msg *m = sim_store_msg(fx.st, USER, "INBOX", 0);
    assert_int_equal(m->size, sizeof msg_crlf - 1);
    assert_memory_equal(m->bytes, msg_crlf, m->size); /* LF became CRLF */
    assert_int_equal(m->flags, 0);
    m = sim_store_msg(fx.st, USER, "INBOX", 1);
    assert_int_equal(m->flags, SIM_FLAG_FLAGGED | SIM_FLAG_SEEN);
    assert_int_equal(m->size, 27);
    assert_memory_equal(m->bytes, "Subject: two\r\n\r\nCRLF kept\r\n", 27);
    assert_int_equal(sim_store_count(fx.st, USER, "Archive"), 1);
    assert_int_equal(sim_store_msg(fx.st, USER, "Archive", 0)->flags, SIM_FLAG_SEEN);
    /* loading wrote nothing back: the hand-made names are still there */
    snprintf(p, sizeof p, "%s/%s/new/1000.A.host", fx.root, USER);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_equal(files_in("", "new", NULL, 0), 1);
    /* and a change afterwards renames the hand-made file */
    struct imap_mailbox mb = sim_store_imap(fx.st);
    uint32_t uid = sim_store_msg(fx.st, USER, "INBOX", 0)->uid;
    assert_int_equal(mb.ops->set_flags(mb.ctx, USER, "INBOX", uid, SIM_FLAG_SEEN), IMAP_MBX_OK);
    snprintf(p, sizeof p, "%s/%s/cur/1000.A.host:2,S", fx.root, USER);
    assert_int_equal(access(p, F_OK), 0);
}

static void test_restart_round_trip(void **state)
{
    (void)state;
    attach(0, 0);
    uint32_t uid;
    assert_int_equal(sim_store_deliver(fx.st, USER, "INBOX", msg_crlf, sizeof msg_crlf - 1,
                                       SIM_FLAG_ANSWERED, &uid, ""),
                     SIM_STORE_OK);
    close_store();
    open_store(); /* a new run: an empty store, the same maildir */
    attach(1, 0);
    const struct sim_stored_msg *m = sim_store_msg(fx.st, USER, "INBOX", 0);
    assert_non_null(m);
    assert_int_equal(m->flags, SIM_FLAG_ANSWERED);
    assert_int_equal(m->size, sizeof msg_crlf - 1);
    assert_memory_equal(m->bytes, msg_crlf, m->size);
    assert_int_equal(files_in("", "cur", NULL, 0), 1); /* not written twice */
}

static void test_errors(void **state)
{
    (void)state;
    char err[256];
    fx.md = sim_maildir_new(fx.root, err, sizeof err);
    assert_non_null(fx.md);
    assert_int_equal(sim_maildir_attach(fx.md, fx.st, "nobody@example.org", NULL, NULL, err,
                                        sizeof err),
                     -1);
    assert_string_equal(err, "no such account in the store");
    assert_null(sim_maildir_new("", err, sizeof err));
    assert_string_equal(err, "the folder name is empty or too long");
    assert_null(sim_maildir_new("/proc/no/such/place", err, sizeof err));
    assert_memory_equal(err, "cannot make /proc/no/such/place: ", 33);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    static struct CMUnitTest tests[32];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)T(test_deliver_to_new);
    for (size_t i = 0; i < ARRAY_LEN(flag_cases); i++)
        tests[n++] = (struct CMUnitTest){flag_cases[i].name, test_flags_rename, setup, teardown,
                                         (void *)&flag_cases[i]};
    tests[n++] = (struct CMUnitTest)T(test_expunge_unlinks);
    tests[n++] = (struct CMUnitTest)T(test_folders);
    tests[n++] = (struct CMUnitTest)T(test_load_by_hand);
    tests[n++] = (struct CMUnitTest)T(test_restart_round_trip);
    tests[n++] = (struct CMUnitTest)T(test_errors);
    return _cmocka_run_group_tests("maildir", tests, n, NULL, NULL);
}
