/* The client machines (protocols/imap_client.h, protocols/pop3_client.h)
 * against a real server: Dovecot's IMAP and POP3, started by each test in
 * the foreground (`dovecot -F -c CONF`) with a throwaway configuration in a
 * temporary folder, listening on free loopback ports, serving a maildir the
 * test writes; stopped (SIGTERM, then SIGKILL) and removed afterwards. It
 * never touches the system's Dovecot. Every wait is bounded (WAIT_MS). */
#include "tests/testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocols/common.h"
#include "protocols/imap_client.h"
#include "protocols/pop3_client.h"

#define WAIT_MS 10000
#define USER "friend@example.org"
#define PASS "battery staple"

/* The maildir the server starts with: two new messages and one read. */
static const struct {
    const char *sub, *name, *text; /* LF line ends on disk, as Dovecot keeps them */
} seed[] = {
    {"cur", "1000.M1P1.test:2,S", "From: <a@example.net>\nSubject: one\n\nfirst\n"},
    {"new", "1001.M2P1.test", "From: <b@example.net>\nSubject: two\n\n.dot line\nsecond\n"},
    {"new", "1002.M3P1.test", "From: <c@example.net>\nSubject: three\n\nthird\n"},
};
/* What a client receives: the same with CRLF (RFC 5322 2.1). */
static const char *const served[] = {
    "From: <a@example.net>\r\nSubject: one\r\n\r\nfirst\r\n",
    "From: <b@example.net>\r\nSubject: two\r\n\r\n.dot line\r\nsecond\r\n",
    "From: <c@example.net>\r\nSubject: three\r\n\r\nthird\r\n",
};

struct server {
    char dir[64];
    pid_t pid;
    unsigned imap_port, pop3_port;
    uid_t uid;
    gid_t gid;
};

static struct server srv;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return 0;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    return chown(path, srv.uid, srv.gid);
}

static int mkdir_owned(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
    return chown(path, srv.uid, srv.gid);
}

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes the configuration and the maildir, starts Dovecot and waits until
 * it accepts connections. As root, logins run as Dovecot's own users and
 * mail as "mail" (Dovecot refuses root for both); otherwise as the caller. */
static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    snprintf(srv.dir, sizeof srv.dir, "/tmp/mailsim-dovecot-XXXXXX");
    if (!mkdtemp(srv.dir) || chmod(srv.dir, 0755) != 0) return -1;
    const char *internal = "dovecot", *login = "dovenull", *group = "dovecot";
    struct passwd *pw = getpwnam("mail");
    if (getuid() != 0 || !pw) {
        pw = getpwuid(getuid());
        struct group *gr = getgrgid(getgid());
        if (!pw || !gr) return -1;
        internal = login = pw->pw_name;
        group = gr->gr_name;
    }
    srv.uid = pw->pw_uid;
    srv.gid = pw->pw_gid;
    srv.imap_port = free_port();
    srv.pop3_port = free_port();
    if (!srv.imap_port || !srv.pop3_port || srv.imap_port == srv.pop3_port) return -1;
    char p[256], text[4096];
    snprintf(p, sizeof p, "%s/mail", srv.dir);
    if (mkdir_owned(p) != 0) return -1;
    snprintf(p, sizeof p, "%s/index", srv.dir);
    if (mkdir_owned(p) != 0) return -1;
    static const char *const subs[] = {"", "/cur", "/new", "/tmp"};
    for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
        snprintf(p, sizeof p, "%s/mail/%s%s", srv.dir, USER, subs[i]);
        if (mkdir_owned(p) != 0) return -1;
    }
    for (size_t i = 0; i < ARRAY_LEN(seed); i++) {
        snprintf(p, sizeof p, "%s/mail/%s/%s/%s", srv.dir, USER, seed[i].sub, seed[i].name);
        if (put(p, seed[i].text) != 0) return -1;
    }
    snprintf(p, sizeof p, "%s/passwd", srv.dir);
    snprintf(text, sizeof text, "%s:{PLAIN}%s:%u:%u::%s::\n", USER, PASS, (unsigned)srv.uid,
             (unsigned)srv.gid, srv.dir);
    if (put(p, text) != 0) return -1;
    snprintf(p, sizeof p, "%s/dovecot.conf", srv.dir);
    snprintf(text, sizeof text,
             "base_dir = %s/base\n"
             "state_dir = %s/state\n"
             "log_path = %s/log\n"
             "listen = 127.0.0.1\n"
             "protocols = imap pop3\n"
             "ssl = no\n"
             "disable_plaintext_auth = no\n"
             "auth_mechanisms = plain login\n"
             "default_internal_user = %s\n"
             "default_internal_group = %s\n"
             "default_login_user = %s\n"
             "first_valid_uid = 1\n"
             "mail_location = maildir:%s/mail/%%u:INDEX=%s/index/%%u\n"
             "pop3_uidl_format = %%08Xu%%08Xv\n"
             "passdb {\n  driver = passwd-file\n  args = %s/passwd\n}\n"
             "userdb {\n  driver = passwd-file\n  args = %s/passwd\n}\n"
             "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n"
             "    port = %u\n  }\n  inet_listener imaps {\n    port = 0\n  }\n  chroot =\n}\n"
             "service pop3-login {\n  inet_listener pop3 {\n    address = 127.0.0.1\n"
             "    port = %u\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n  chroot =\n}\n"
             "service anvil {\n  chroot =\n}\n",
             srv.dir, srv.dir, srv.dir, internal, group, login, srv.dir, srv.dir, srv.dir,
             srv.dir, srv.imap_port, srv.pop3_port);
    if (put(p, text) != 0) return -1;
    srv.pid = fork();
    if (srv.pid < 0) return -1;
    if (srv.pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        /* /usr/sbin is not on every user's PATH */
        execl("/usr/sbin/dovecot", "dovecot", "-F", "-c", p, (char *)NULL);
        execlp("dovecot", "dovecot", "-F", "-c", p, (char *)NULL);
        _exit(127);
    }
    long long end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        int fd = dial(srv.pop3_port), fd2 = dial(srv.imap_port);
        if (fd >= 0) close(fd);
        if (fd2 >= 0) close(fd2);
        if (fd >= 0 && fd2 >= 0) return 0;
        if (waitpid(srv.pid, NULL, WNOHANG) == srv.pid) {
            srv.pid = 0;
            return -1; /* it exited: see DIR/log */
        }
        pause_ms(20);
    }
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        kill(srv.pid, SIGTERM);
        long long end = now_ms() + WAIT_MS;
        while (waitpid(srv.pid, NULL, WNOHANG) == 0) {
            if (now_ms() > end) {
                kill(srv.pid, SIGKILL);
                waitpid(srv.pid, NULL, 0);
                break;
            }
            pause_ms(10);
        }
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", srv.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Waits up to WAIT_MS for bytes; returns the count, 0 on EOF. */
static ssize_t recv_some(int fd, char *buf, size_t cap)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1) fail_msg("the server said nothing for %d ms", WAIT_MS);
    ssize_t n = recv(fd, buf, cap, 0);
    assert_true(n >= 0);
    return n;
}

static void send_all(int fd, const char *p, size_t n)
{
    assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* ---- IMAP --------------------------------------------------------------------------- */

struct imap_run {
    size_t nnew, nflags, nexpunged, nfolders, nerrors;
    uint32_t uid[8];
    unsigned flags[8];
    char data[8][256];
    size_t len[8];
    bool saw_inbox;
    bool deliver_while_idle; /* drop a message into new/ once IDLE is on */
    bool delivered;
};

static void deliver_now(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/mail/%s/new/2000.M9P1.test", srv.dir, USER);
    assert_int_equal(put(p, "From: <d@example.net>\nSubject: four\n\npushed\n"), 0);
}

/* Handles every event waiting; false once the client hung up. */
static bool imap_pump(struct imap_client *c, int fd, struct imap_run *r)
{
    struct imap_client_event ev;
    enum imap_client_ev t;
    while ((t = imap_client_next(c, &ev)) != IMAP_CLIENT_NEED_MORE) {
        switch (t) {
        case IMAP_CLIENT_EV_SEND: send_all(fd, ev.data, ev.len); break;
        case IMAP_CLIENT_EV_NEW:
            if (r->nnew < ARRAY_LEN(r->uid)) {
                r->uid[r->nnew] = ev.uid;
                r->flags[r->nnew] = ev.flags;
                r->len[r->nnew] = ev.len < 255 ? ev.len : 255;
                memcpy(r->data[r->nnew], ev.data, r->len[r->nnew]);
            }
            r->nnew++;
            if (r->delivered) imap_client_stop(c); /* the pushed one arrived */
            break;
        case IMAP_CLIENT_EV_FLAGS: r->nflags++; break;
        case IMAP_CLIENT_EV_EXPUNGED: r->nexpunged++; break;
        case IMAP_CLIENT_EV_FOLDER:
            r->nfolders++;
            r->saw_inbox |= strcmp(ev.text, "INBOX") == 0;
            break;
        case IMAP_CLIENT_EV_ERROR: r->nerrors++; break;
        case IMAP_CLIENT_EV_STATE:
            if (ev.to == IMAP_CLIENT_IDLE && r->deliver_while_idle && !r->delivered) {
                r->delivered = true;
                deliver_now();
            }
            break;
        case IMAP_CLIENT_EV_CLOSE: return false;
        default: break;
        }
    }
    return true;
}

static void run_imap(const struct imap_client_config *cfg, struct imap_run *r)
{
    struct imap_client *c = imap_client_new(cfg);
    assert_non_null(c);
    int fd = dial(srv.imap_port);
    assert_true(fd >= 0);
    static char buf[65536];
    long long end = now_ms() + 3 * WAIT_MS;
    bool open = true;
    while (open && now_ms() < end) {
        if (!imap_pump(c, fd, r) || imap_client_state(c) == IMAP_CLIENT_CLOSED) break;
        ssize_t n = recv_some(fd, buf, sizeof buf);
        if (n == 0) break;
        size_t off = 0;
        while (open && off < (size_t)n) {
            size_t took = imap_client_feed(c, buf + off, (size_t)n - off);
            off += took;
            if (!took) open = imap_pump(c, fd, r);
        }
    }
    assert_int_equal(imap_client_state(c), IMAP_CLIENT_CLOSED);
    close(fd);
    imap_client_free(c);
}

static struct imap_client_cache cache;

static void test_imap_sync(void **state)
{
    bool authenticate = *state != NULL;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = USER, .pass = PASS, .list = true,
                                     .authenticate = authenticate, .cache = &cache};
    struct imap_run r = {0};
    run_imap(&cfg, &r);
    assert_int_equal(r.nerrors, 0);
    assert_true(r.saw_inbox);
    assert_int_equal(r.nnew, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.len[i], strlen(served[i]));
        assert_memory_equal(r.data[i], served[i], r.len[i]);
    }
    assert_int_equal(r.flags[0], IMAP_FLAG_SEEN);
    assert_int_equal(r.flags[1], 0);
    assert_int_equal(cache.n, 3);
    assert_true(cache.uidvalidity != 0);
    assert_int_equal(cache.last_uid, r.uid[2]);
    /* a second sync with the same cache fetches nothing again */
    struct imap_run again = {0};
    run_imap(&cfg, &again);
    assert_int_equal(again.nnew, 0);
    assert_int_equal(again.nexpunged, 0);
    assert_int_equal(cache.n, 3);
}

static void test_imap_flags_and_expunge(void **state)
{
    (void)state;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = USER, .pass = PASS, .expunge = true, .cache = &cache};
    struct imap_run r = {0};
    run_imap(&cfg, &r);
    assert_int_equal(r.nnew, 3);
    /* the user reads the second and deletes the first */
    assert_true(imap_client_cache_set_flags(&cache, r.uid[1], IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED));
    assert_true(imap_client_cache_set_flags(&cache, r.uid[0], IMAP_FLAG_SEEN | IMAP_FLAG_DELETED));
    struct imap_run push = {0};
    run_imap(&cfg, &push);
    assert_int_equal(push.nerrors, 0);
    assert_int_equal(cache.n, 2);
    assert_null(imap_client_cache_find(&cache, r.uid[0]));
    assert_int_equal(imap_client_cache_find(&cache, r.uid[1])->flags,
                     IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED);
    /* Dovecot keeps what we stored: a fresh device sees the same */
    struct imap_client_cache *fresh = calloc(1, sizeof *fresh);
    assert_non_null(fresh);
    struct imap_client_config cfg2 = {.user = USER, .pass = PASS, .cache = fresh};
    struct imap_run seen = {0};
    run_imap(&cfg2, &seen);
    assert_int_equal(seen.nnew, 2);
    assert_int_equal(seen.uid[0], r.uid[1]);
    assert_int_equal(seen.flags[0], IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED);
    free(fresh);
}

static void test_imap_idle_push(void **state)
{
    (void)state;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = USER, .pass = PASS, .idle = true, .cache = &cache};
    struct imap_run r = {.deliver_while_idle = true};
    run_imap(&cfg, &r);
    assert_true(r.delivered);
    assert_int_equal(r.nnew, 4); /* three at the sync, one pushed during IDLE */
    assert_int_equal(cache.n, 4);
}

static void test_imap_wrong_password(void **state)
{
    (void)state;
    memset(&cache, 0, sizeof cache);
    struct imap_client_config cfg = {.user = USER, .pass = "wrong", .cache = &cache};
    struct imap_run r = {0};
    run_imap(&cfg, &r);
    assert_int_equal(r.nerrors, 1);
    assert_int_equal(r.nnew, 0);
}

/* ---- POP3 ----------------------------------------------------------------------------- */

struct pop3_run {
    size_t messages, skipped;
    bool done, failed;
    size_t done_count;
    char data[4][256];
    size_t len[4];
};

/* Handles every event waiting; false once the pass ended. */
static bool pop3_pump(struct pop3_client *c, int fd, struct pop3_run *r)
{
    struct pop3_client_ev ev;
    int t;
    while ((t = pop3_client_next(c, &ev)) > 0) {
        if (t == POP3_CLI_SEND) send_all(fd, ev.out, ev.out_len);
        if (t == POP3_CLI_MESSAGE) {
            if (r->messages < 4) {
                r->len[r->messages] = ev.data_len < 255 ? ev.data_len : 255;
                memcpy(r->data[r->messages], ev.data, r->len[r->messages]);
            }
            r->messages++;
        }
        if (t == POP3_CLI_SKIPPED) r->skipped++;
        if (t == POP3_CLI_FAILED) r->failed = true;
        if (t == POP3_CLI_DONE) {
            r->done = true;
            r->done_count = ev.msg;
        }
    }
    return !r->done && !r->failed && t != POP3_ERR_BAD_STATUS && t != POP3_ERR_TOO_LONG;
}

static void run_pop3(const struct pop3_client_config *cfg, struct pop3_uidl_set *seen,
                     struct pop3_run *r)
{
    struct pop3_client *c = pop3_client_new(cfg, seen);
    assert_non_null(c);
    int fd = dial(srv.pop3_port);
    assert_true(fd >= 0);
    static char buf[65536];
    long long end = now_ms() + 3 * WAIT_MS;
    bool going = true;
    while (going && now_ms() < end) {
        if (!pop3_pump(c, fd, r)) break;
        ssize_t n = recv_some(fd, buf, sizeof buf);
        if (n == 0) {
            pop3_client_closed(c);
            pop3_pump(c, fd, r);
            break;
        }
        size_t off = 0;
        while (going && off < (size_t)n) {
            size_t took = pop3_client_feed(c, buf + off, (size_t)n - off);
            off += took;
            if (!took) going = pop3_pump(c, fd, r);
        }
    }
    close(fd);
    pop3_client_free(c);
}

static size_t maildir_count(void)
{
    size_t n = 0;
    static const char *const subs[] = {"new", "cur"};
    for (size_t i = 0; i < ARRAY_LEN(subs); i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "ls -1 '%s/mail/%s/%s' | wc -l", srv.dir, USER, subs[i]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        unsigned k = 0;
        assert_int_equal(fscanf(p, "%u", &k), 1);
        pclose(p);
        n += k;
    }
    return n;
}

static void test_pop3_leave_copy(void **state)
{
    (void)state;
    static char storage[16][POP3_MAX_UIDL + 1];
    struct pop3_uidl_set seen;
    pop3_uidl_set_init(&seen, storage, ARRAY_LEN(storage));
    struct pop3_client_config cfg = {.user = USER, .pass = PASS, .mode = POP3_CLIENT_LEAVE_COPY};
    struct pop3_run r = {0};
    run_pop3(&cfg, &seen, &r);
    assert_true(r.done);
    assert_int_equal(r.done_count, 3);
    assert_int_equal(seen.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.len[i], strlen(served[i]));
        assert_memory_equal(r.data[i], served[i], r.len[i]); /* ".dot line" unstuffed */
    }
    struct pop3_run again = {0};
    run_pop3(&cfg, &seen, &again);
    assert_true(again.done);
    assert_int_equal(again.done_count, 0); /* every unique-id was seen */
    assert_int_equal(maildir_count(), 3);
}

static void test_pop3_download_delete(void **state)
{
    bool use_list = *state != NULL;
    struct pop3_client_config cfg = {.user = USER, .pass = PASS,
                                     .mode = POP3_CLIENT_DOWNLOAD_DELETE, .use_list = use_list};
    struct pop3_run r = {0};
    run_pop3(&cfg, NULL, &r);
    assert_true(r.done);
    assert_int_equal(r.done_count, 3);
    assert_int_equal(maildir_count(), 0); /* QUIT: Dovecot's UPDATE state removed them */
}

static void test_pop3_wrong_password(void **state)
{
    (void)state;
    struct pop3_client_config cfg = {.user = USER, .pass = "wrong",
                                     .mode = POP3_CLIENT_DOWNLOAD_DELETE};
    struct pop3_run r = {0};
    run_pop3(&cfg, NULL, &r);
    assert_true(r.failed);
    assert_int_equal(r.messages, 0);
    assert_int_equal(maildir_count(), 3);
}

static int yes = 1;

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"imap_sync_login", test_imap_sync, setup, teardown, NULL},
        {"imap_sync_authenticate_plain", test_imap_sync, setup, teardown, &yes},
        {"imap_flags_and_expunge", test_imap_flags_and_expunge, setup, teardown, NULL},
        {"imap_idle_push", test_imap_idle_push, setup, teardown, NULL},
        {"imap_wrong_password", test_imap_wrong_password, setup, teardown, NULL},
        {"pop3_leave_copy", test_pop3_leave_copy, setup, teardown, NULL},
        {"pop3_download_delete_uidl", test_pop3_download_delete, setup, teardown, NULL},
        {"pop3_download_delete_list", test_pop3_download_delete, setup, teardown, &yes},
        {"pop3_wrong_password", test_pop3_wrong_password, setup, teardown, NULL},
    };
    return cmocka_run_group_tests_name("dovecot", tests, NULL, NULL);
}
