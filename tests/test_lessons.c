/* The seven lessons, played: each lesson's facts asserted on its trace, and
 * every narration line checked against what happens at its step. A
 * narration's evidence must appear after it and before the next narration
 * (its "window"); a table lists, for every narration of every lesson, the
 * events that prove it, so a lesson whose narration drifts from its run, or
 * gains a narration nobody checked, fails here. Every lesson also has 3 to
 * 6 questions, and its predict questions agree with the run. Run from the
 * repository root. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "protocols/base64.h"
#include "protocols/common.h"
#include "render/eavesdrop.h"
#include "render/quiz.h"
#include "sim/scenario.h"
#include "sim/world.h"

/* ---- a played lesson ---------------------------------------------------------- */

struct played {
    struct sim_scenario *s;
    struct sim_world *w;
    const struct sim_trace *tr;
    size_t n;
    size_t narr[64];  /* the narrations' steps */
    size_t nnarr;
};

static void play(struct played *p, const char *name)
{
    static struct sim_scn_diags dg;
    char path[256];
    snprintf(path, sizeof path, "lessons/%s.json", name);
    memset(p, 0, sizeof *p);
    p->s = sim_scenario_load(path, &dg);
    if (!p->s) {
        sim_scn_diags_print(stderr, &dg);
        fail_msg("%s does not load", path);
    }
    p->w = sim_world_new(p->s, &dg);
    assert_non_null(p->w);
    assert_true(sim_world_run(p->w) > 0);
    p->tr = sim_world_trace(p->w);
    p->n = sim_trace_len(p->tr);
    for (size_t i = 0; i < p->n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(p->tr, i);
        if (ev->kind == SIM_TR_ACTION && ev->proto == SIM_PROTO_SIM && strcmp(ev->text, "narrate") == 0) {
            assert_true(p->nnarr < ARRAY_LEN(p->narr));
            p->narr[p->nnarr++] = i;
        }
    }
}

static void unplay(struct played *p)
{
    sim_world_free(p->w);
    sim_scenario_free(p->s);
}

static const struct sim_trace_event *ev_at(const struct played *p, size_t i)
{
    return sim_trace_get(p->tr, i);
}

/* ---- matchers ----------------------------------------------------------------- */

/* One kind of event: every field set must agree; text is a prefix ("^...")
 * or a substring. mail_* apply to SIM_TR_MAIL. */
struct match {
    enum sim_trace_kind kind;
    const char *from, *to; /* hosts, NULL: any */
    enum sim_dir dir;      /* SIM_DIR_COUNT: any */
    unsigned port;         /* 0: any */
    const char *text;      /* NULL: any */
    int tls;               /* -1 any, 0 clear, 1 inside TLS */
    enum sim_mail_change change;
    const char *account, *folder; /* MAIL */
    unsigned flags;        /* MAIL: these flag bits are set */
    unsigned noflags;      /* MAIL: these are not */
};

#define ANY_DIR SIM_DIR_COUNT
#define M_LINE(f, t, d, txt) {SIM_TR_LINE, f, t, d, 0, txt, -1, 0, NULL, NULL, 0, 0}
#define M_CONNECT(f, t, p) {SIM_TR_CONNECT, f, t, ANY_DIR, p, NULL, -1, 0, NULL, NULL, 0, 0}
#define M_KIND(k, f, txt) {k, f, NULL, ANY_DIR, 0, txt, -1, 0, NULL, NULL, 0, 0}
#define M_MAIL(ch, owner, acc, fold) {SIM_TR_MAIL, owner, NULL, ANY_DIR, 0, NULL, -1, ch, acc, fold, 0, 0}
#define M_FLAGS(owner, acc, on, off) \
    {SIM_TR_MAIL, owner, NULL, ANY_DIR, 0, NULL, -1, SIM_MAIL_FLAGS, acc, "INBOX", on, off}
#define M_END {SIM_TR_KIND_COUNT, NULL, NULL, ANY_DIR, 0, NULL, -1, 0, NULL, NULL, 0, 0}

static bool text_ok(const char *have, const char *want)
{
    if (!want) return true;
    if (want[0] == '^') return strncmp(have, want + 1, strlen(want + 1)) == 0;
    return strstr(have, want) != NULL;
}

static bool matches(const struct sim_trace_event *ev, const struct match *m)
{
    if (ev->kind != m->kind) return false;
    if (m->from && strcmp(ev->kind == SIM_TR_MAIL ? ev->mail.owner : ev->from, m->from) != 0)
        return false;
    if (m->to && strcmp(ev->to, m->to) != 0) return false;
    if (m->dir != ANY_DIR && ev->dir != m->dir) return false;
    if (m->port && ev->port != m->port) return false;
    if (m->tls >= 0 && ev->tls != (m->tls == 1)) return false;
    if (!text_ok(ev->text, m->text)) return false;
    if (ev->kind == SIM_TR_MAIL) {
        if (ev->mail.change != m->change) return false;
        if (m->account && strcmp(ev->mail.account, m->account) != 0) return false;
        if (m->folder && strcmp(ev->mail.folder, m->folder) != 0) return false;
        if ((ev->mail.flags & m->flags) != m->flags || (ev->mail.flags & m->noflags)) return false;
    }
    return true;
}

/* The first step in [from, to) matching m, or -1. */
static long find(const struct played *p, size_t from, size_t to, const struct match *m)
{
    for (size_t i = from; i < to && i < p->n; i++)
        if (matches(ev_at(p, i), m)) return (long)i;
    return -1;
}

static size_t count(const struct played *p, size_t from, size_t to, const struct match *m)
{
    size_t c = 0;
    for (size_t i = from; i < to && i < p->n; i++) c += matches(ev_at(p, i), m);
    return c;
}

static long must_find(const struct played *p, size_t from, size_t to, const struct match *m,
                      const char *why)
{
    long i = find(p, from, to, m);
    if (i < 0)
        fail_msg("%s: no %s event from %s text \"%s\" in steps %zu..%zu", why,
                 sim_trace_kind_names[m->kind], m->from ? m->from : "anyone",
                 m->text ? m->text : "", from, to);
    return i;
}

/* How many messages owner holds in account's folder after step `upto`,
 * replaying MAIL events. */
static long held(const struct played *p, size_t upto, const char *owner, const char *account,
                 const char *folder)
{
    long n = 0;
    for (size_t i = 0; i <= upto && i < p->n; i++) {
        const struct sim_trace_event *ev = ev_at(p, i);
        if (ev->kind != SIM_TR_MAIL || strcmp(ev->mail.owner, owner) != 0 ||
            strcmp(ev->mail.account, account) != 0 || strcmp(ev->mail.folder, folder) != 0)
            continue;
        if (ev->mail.change == SIM_MAIL_ADDED) n++;
        if (ev->mail.change == SIM_MAIL_REMOVED) n--;
    }
    return n;
}

/* ---- every narration and its evidence ------------------------------------------ */

#define EVIDENCE_MAX 8

struct narration_case {
    const char *starts;                 /* how the narration begins */
    struct match must[EVIDENCE_MAX];    /* each in its window; ends with M_END */
    struct match never[3];              /* none in its window; ends with M_END */
};

struct lesson_case {
    const char *name;
    size_t nnarr;
    const struct narration_case *narr;
};

#define C2S SIM_DIR_C2S
#define S2C SIM_DIR_S2C

static const struct narration_case l1[] = {
    {"Manish presses Send", {M_CONNECT("manish-pc", "mail.example.com", 587),
                             M_LINE("mail.example.com", "manish-pc", S2C, "^220 "), M_END}, {M_END}},
    {"EHLO: the client", {M_LINE("manish-pc", NULL, C2S, "^EHLO manish-pc"),
                          M_LINE("mail.example.com", "manish-pc", S2C, "^250-PIPELINING"),
                          M_LINE("mail.example.com", "manish-pc", S2C, "^250 STARTTLS"), M_END}, {M_END}},
    {"STARTTLS switches", {M_LINE("manish-pc", NULL, C2S, "^STARTTLS"), M_KIND(SIM_TR_TLS, NULL, NULL),
                           M_LINE("manish-pc", NULL, C2S, "^AUTH PLAIN"),
                           M_LINE("mail.example.com", "manish-pc", S2C, "^235 "), M_END}, {M_END}},
    {"The envelope", {M_LINE("manish-pc", NULL, C2S, "^MAIL FROM:<manish@example.com>"),
                      M_LINE("manish-pc", NULL, C2S, "^RCPT TO:<friend@example.org>"),
                      M_LINE("manish-pc", NULL, C2S, "^RCPT TO:<boss@example.org>"),
                      M_LINE("manish-pc", NULL, C2S, "^DATA"),
                      M_LINE("mail.example.com", "manish-pc", S2C, "^354 "), M_END}, {M_END}},
    {"After 354", {M_LINE("manish-pc", NULL, C2S, "^From: Manish <manish@example.com>"),
                   M_LINE("manish-pc", NULL, C2S, "^To: friend@example.org"),
                   M_LINE("manish-pc", NULL, C2S, "^Subject: Lunch on Friday?"),
                   M_LINE("manish-pc", NULL, C2S, "^."), M_END},
     {M_LINE("manish-pc", NULL, C2S, "boss"), M_END}},
    {"250 ... queued", {M_LINE("mail.example.com", "manish-pc", S2C, "^250 2.0.0 Ok: queued as"),
                        M_LINE("manish-pc", NULL, C2S, "^QUIT"),
                        M_LINE("mail.example.com", "manish-pc", S2C, "^221 "), M_END}, {M_END}},
    {"Manish's server now passes", {M_CONNECT("mail.example.com", "mail.example.org", 25),
                                    M_LINE("mail.example.com", "mail.example.org", C2S, "^RCPT TO:<friend@example.org>"),
                                    M_LINE("mail.example.com", "mail.example.org", C2S, "^RCPT TO:<boss@example.org>"),
                                    M_LINE("mail.example.com", "mail.example.org", C2S, "^To: friend@example.org"),
                                    M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "boss@example.org", "INBOX"), M_END},
     {M_LINE("mail.example.com", "mail.example.org", C2S, "^To: friend@example.org, boss"), M_END}},
    {"Grandpa's old mail program", {M_LINE("grandpa-pc", NULL, C2S, "^HELO grandpa-pc"),
                                    M_LINE("mail.example.org", "grandpa-pc", S2C, "^250 mail.example.org greets grandpa-pc"),
                                    M_LINE("mail.example.org", "grandpa-pc", S2C, "^354 "),
                                    M_LINE("mail.example.org", "grandpa-pc", S2C, "^250 2.0.0 Ok: queued"),
                                    M_LINE("mail.example.org", "grandpa-pc", S2C, "^221 "), M_END},
     {M_LINE("mail.example.org", "grandpa-pc", S2C, "^250-"), M_LINE("grandpa-pc", NULL, C2S, "^STARTTLS"), M_END}},
};

static const struct narration_case l2[] = {
    {"Manish writes to friend@example.org", {M_KIND(SIM_TR_DNS, "mail.example.com", "^example.org. IN MX?"), M_END}, {M_END}},
    {"The answer holds two", {M_KIND(SIM_TR_DNS, "resolver", "MX 10 mx1.example.org."),
                              M_KIND(SIM_TR_DNS, "resolver", "MX 20 mx2.example.org."), M_END}, {M_END}},
    {"Manish's server connects to mx1", {M_CONNECT("mail.example.com", "mx1.example.org", 25),
                                         M_MAIL(SIM_MAIL_ADDED, "mx1.example.org", "friend@example.org", "INBOX"), M_END},
     {M_CONNECT("mail.example.com", "mx2.example.org", 25), M_END}},
    {"mx1.example.org breaks down", {M_KIND(SIM_TR_FAULT, "mx1.example.org", NULL), M_END}, {M_END}},
    {"Manish sends another", {M_KIND(SIM_TR_REFUSED, "mail.example.com", "mx1.example.org:25 failed: host down"), M_END},
     {M_CONNECT("mail.example.com", "mx1.example.org", 25), M_END}},
    {"The backup MX takes over", {M_CONNECT("mail.example.com", "mx2.example.org", 25),
                                  M_LINE("mx2.example.org", "mail.example.com", S2C, "^250 2.0.0 Ok: queued as"),
                                  M_KIND(SIM_TR_QUEUE, "mx2.example.org", "queued, from=<manish@example.com>"), M_END},
     {M_MAIL(SIM_MAIL_ADDED, "mx2.example.org", NULL, NULL), M_END}},
    {"mx2 tried at once", {M_KIND(SIM_TR_REFUSED, "mx2.example.org", "mx1.example.org:25 failed: host down"),
                           M_KIND(SIM_TR_QUEUE, "mx2.example.org", "deferred"), M_END}, {M_END}},
    {"mx1 is back", {M_KIND(SIM_TR_FAULT, "mx1.example.org", NULL), M_END}, {M_END}},
    {"The backup's queue retries", {M_CONNECT("mx2.example.org", "mx1.example.org", 25),
                                    M_MAIL(SIM_MAIL_ADDED, "mx1.example.org", "friend@example.org", "INBOX"),
                                    M_KIND(SIM_TR_QUEUE, "mx2.example.org", "removed"), M_END}, {M_END}},
    {"Manish writes to pat@example.net", {M_KIND(SIM_TR_DNS, "resolver", "NODATA"),
                                          M_KIND(SIM_TR_DNS, "resolver", "example.net. 3600 IN A 198.51.100.25"),
                                          M_CONNECT("mail.example.com", "example.net", 25),
                                          M_MAIL(SIM_MAIL_ADDED, "example.net", "pat@example.net", "INBOX"), M_END}, {M_END}},
};

static const struct narration_case l3[] = {
    {"Manish submits on port 587", {M_CONNECT("manish-pc", "mail.example.com", 587),
                                    {SIM_TR_LINE, "manish-pc", NULL, C2S, 0, "^STARTTLS", 0, 0, NULL, NULL, 0, 0},
                                    M_KIND(SIM_TR_TLS, NULL, NULL),
                                    {SIM_TR_LINE, "manish-pc", NULL, C2S, 0, "^AUTH PLAIN", 1, 0, NULL, NULL, 0, 0},
                                    {SIM_TR_LINE, "manish-pc", NULL, C2S, 0, "^Subject: Secret plans", 1, 0, NULL, NULL, 0, 0}, M_END},
     {{SIM_TR_LINE, "manish-pc", NULL, C2S, 0, "^AUTH", 0, 0, NULL, NULL, 0, 0}, M_END}},
    {"Manish's server relays", {M_CONNECT("mail.example.com", "mail.example.org", 25),
                                M_LINE("mail.example.com", "mail.example.org", C2S, "^STARTTLS"),
                                {SIM_TR_LINE, "mail.example.com", "mail.example.org", C2S, 0, "^MAIL FROM", 1, 0, NULL, NULL, 0, 0}, M_END}, {M_END}},
    {"Asha's program uses port 465", {M_CONNECT("asha-laptop", "mail.example.com", 465),
                                      {SIM_TR_LINE, "mail.example.com", "asha-laptop", S2C, 0, "^220 ", 1, 0, NULL, NULL, 0, 0}, M_END},
     {{SIM_TR_LINE, "asha-laptop", NULL, ANY_DIR, 0, NULL, 0, 0, NULL, NULL, 0, 0},
      {SIM_TR_LINE, "mail.example.com", "asha-laptop", ANY_DIR, 0, NULL, 0, 0, NULL, NULL, 0, 0}, M_END}},
    {"Lee's program tries to log in", {{SIM_TR_LINE, "lee-pc", NULL, C2S, 0, "^AUTH PLAIN ", 0, 0, NULL, NULL, 0, 0},
                                       M_LINE("mail.example.com", "lee-pc", S2C, "^530 5.7.0"), M_END},
     {M_LINE("lee-pc", NULL, C2S, "^STARTTLS"), M_LINE("lee-pc", NULL, C2S, "^MAIL FROM"), M_END}},
    {"Kim's program at home", {M_KIND(SIM_TR_FAULT, "kim-pc", NULL),
                               M_KIND(SIM_TR_REFUSED, "kim-pc", "mail.example.com:25 failed: blocked by a firewall"), M_END},
     {M_CONNECT("kim-pc", NULL, 0), M_END}},
    {"The fix for Kim", {M_END}, {M_CONNECT("kim-pc", NULL, 0), M_END}},
};

static const struct narration_case l4[] = {
    {"The friend's phone logs in", {M_LINE("friend-phone", NULL, C2S, "SELECT INBOX"),
                                    M_LINE("mail.example.org", "friend-phone", S2C, "^* 0 EXISTS"),
                                    M_LINE("friend-phone", NULL, C2S, "IDLE"),
                                    M_LINE("mail.example.org", "friend-phone", S2C, "^+ idling"), M_END}, {M_END}},
    {"Manish sends a message", {M_CONNECT("manish-pc", "mail.example.com", 587),
                                M_LINE("mail.example.com", "mail.example.org", C2S, "^RCPT TO:<friend@example.org>"), M_END}, {M_END}},
    {"IDLE at work", {M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX"),
                      M_LINE("mail.example.org", "friend-phone", S2C, "^* 1 EXISTS"),
                      M_LINE("friend-phone", NULL, C2S, "^DONE"),
                      M_LINE("friend-phone", NULL, C2S, "UID FETCH 1:*"),
                      M_MAIL(SIM_MAIL_ADDED, "friend-phone", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The laptop and the web client", {{SIM_TR_MAIL, "friend-laptop", NULL, ANY_DIR, 0, NULL, -1, SIM_MAIL_ADDED, "friend@example.org", "INBOX", 0, SIM_FLAG_SEEN},
                                       {SIM_TR_MAIL, "webmail", NULL, ANY_DIR, 0, NULL, -1, SIM_MAIL_ADDED, "friend@example.org", "INBOX", 0, SIM_FLAG_SEEN}, M_END}, {M_END}},
    {"The friend reads the message on the phone", {M_LINE("friend-phone", NULL, C2S, "STORE 1 +FLAGS.SILENT (\\Seen)"),
                                                   M_FLAGS("mail.example.org", "friend@example.org", SIM_FLAG_SEEN, 0), M_END}, {M_END}},
    {"The laptop syncs again", {M_FLAGS("friend-laptop", "friend@example.org", SIM_FLAG_SEEN, 0), M_END},
     {M_LINE("friend-laptop", NULL, C2S, "STORE"), M_END}},
    {"On the web client the friend flags", {M_FLAGS("mail.example.org", "friend@example.org", SIM_FLAG_SEEN | SIM_FLAG_FLAGGED, 0),
                                            M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "Drafts"), M_END},
     {M_FLAGS("mail.example.org", "friend@example.org", 0, SIM_FLAG_SEEN), M_END}},
    {"On the laptop the friend files", {M_LINE("friend-laptop", NULL, C2S, "CREATE Lunch"),
                                        M_LINE("friend-laptop", NULL, C2S, "UID COPY 1 Lunch"),
                                        M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "Lunch"), M_END}, {M_END}},
    {"The phone, connected all along", {M_LINE("mail.example.org", "friend-phone", S2C, "^* 1 FETCH (FLAGS (\\Seen \\Flagged \\Deleted"),
                                        M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", "friend@example.org", "INBOX"),
                                        M_LINE("mail.example.org", "friend-phone", S2C, "^* 1 EXPUNGE"),
                                        M_MAIL(SIM_MAIL_REMOVED, "friend-phone", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The web client syncs", {M_LINE("mail.example.org", "webmail", S2C, "^* 0 EXISTS"),
                              M_MAIL(SIM_MAIL_REMOVED, "webmail", "friend@example.org", "INBOX"), M_END}, {M_END}},
};

static const struct narration_case l5[] = {
    {"Manish sends two messages", {M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The phone syncs by IMAP", {M_MAIL(SIM_MAIL_ADDED, "friend-phone", "friend@example.org", "INBOX"), M_END},
     {M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", NULL, NULL), M_END}},
    {"The old laptop checks mail by POP3", {M_LINE("old-laptop", NULL, C2S, "^USER friend@example.org"),
                                            M_LINE("old-laptop", NULL, C2S, "^STAT"),
                                            M_LINE("old-laptop", NULL, C2S, "^RETR 1"),
                                            M_LINE("old-laptop", NULL, C2S, "^DELE 1"),
                                            M_LINE("old-laptop", NULL, C2S, "^RETR 2"),
                                            M_LINE("old-laptop", NULL, C2S, "^DELE 2"), M_END},
     {M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", NULL, NULL), M_LINE("old-laptop", NULL, C2S, "^QUIT"), M_END}},
    {"QUIT: the server enters", {M_LINE("old-laptop", NULL, C2S, "^QUIT"),
                                 M_KIND(SIM_TR_STATE, "mail.example.org", "TRANSACTION -> UPDATE"),
                                 M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The phone syncs again", {M_LINE("mail.example.org", "friend-phone", S2C, "^* 0 EXISTS"),
                               M_MAIL(SIM_MAIL_REMOVED, "friend-phone", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"A new message arrives", {M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX"),
                               M_LINE("work-laptop", NULL, C2S, "^UIDL"),
                               M_LINE("work-laptop", NULL, C2S, "^RETR 1"),
                               M_MAIL(SIM_MAIL_ADDED, "work-laptop", "friend@example.org", "INBOX"), M_END},
     {M_LINE("work-laptop", NULL, C2S, "^DELE"), M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", NULL, NULL), M_END}},
    {"The old laptop checks too", {M_LINE("old-laptop", NULL, C2S, "^RETR 1"),
                                   M_MAIL(SIM_MAIL_ADDED, "old-laptop", "friend@example.org", "INBOX"),
                                   M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The friend reads the message on the work laptop", {M_FLAGS("work-laptop", "friend@example.org", SIM_FLAG_SEEN, 0),
                                                         M_LINE("mail.example.org", "work-laptop", S2C, "^+OK 0 0"), M_END},
     {M_MAIL(SIM_MAIL_REMOVED, "work-laptop", NULL, NULL), M_FLAGS("old-laptop", NULL, SIM_FLAG_SEEN, 0), M_END}},
    {"Why POP3 was built like this", {M_END}, {M_END}},
};

static const struct narration_case l6[] = {
    {"Manish writes to nobody@example.net", {M_LINE("manish-pc", NULL, C2S, "^RCPT TO:<nobody@example.net>"),
                                             M_LINE("mail.example.com", "manish-pc", S2C, "^250 2.1.5"),
                                             M_CONNECT("mail.example.com", "mail.example.net", 25), M_END}, {M_END}},
    {"mail.example.net answers RCPT TO with 550", {M_LINE("mail.example.net", "mail.example.com", S2C, "^550 5.1.1"), M_END}, {M_END}},
    {"The bounce", {M_KIND(SIM_TR_QUEUE, "mail.example.com", "queued, from=<>"),
                    M_MAIL(SIM_MAIL_ADDED, "mail.example.com", "manish@example.com", "INBOX"), M_END}, {M_END}},
    {"A stranger's program", {M_CONNECT("stranger-pc", "mail.example.org", 25),
                              M_LINE("mail.example.org", "stranger-pc", S2C, "^554 5.7.1 <anyone@example.com>: Relay access denied"), M_END},
     {M_LINE("stranger-pc", NULL, C2S, "^AUTH"), M_MAIL(SIM_MAIL_ADDED, "mail.example.org", NULL, NULL), M_END}},
    {"Lee types the wrong password", {M_LINE("lee-pc", NULL, C2S, "^STARTTLS"),
                                      {SIM_TR_LINE, "lee-pc", NULL, C2S, 0, "^AUTH PLAIN", 1, 0, NULL, NULL, 0, 0},
                                      M_LINE("mail.example.com", "lee-pc", S2C, "^535 5.7.8"), M_END},
     {M_LINE("lee-pc", NULL, C2S, "^MAIL FROM"), M_END}},
    {"Pat's mailbox is full", {M_KIND(SIM_TR_ACTION, "mail.example.net", "mailbox full: pat@example.net"),
                               M_LINE("mail.example.net", "mail.example.com", S2C, "^452 4.2.2"),
                               M_KIND(SIM_TR_QUEUE, "mail.example.com", "deferred, 1 recipient waiting, next retry in 30 s"), M_END},
     {M_MAIL(SIM_MAIL_ADDED, "mail.example.net", "pat@example.net", NULL), M_END}},
    {"mail.example.org goes down", {M_KIND(SIM_TR_FAULT, "mail.example.org", NULL), M_END}, {M_END}},
    {"Manish writes to his friend", {M_KIND(SIM_TR_REFUSED, "mail.example.com", "mail.example.org:25 failed: host down"),
                                     M_KIND(SIM_TR_QUEUE, "mail.example.com", "host down"), M_END},
     {M_CONNECT("mail.example.com", "mail.example.org", 25), M_END}},
    {"mail.example.org is back", {M_KIND(SIM_TR_FAULT, "mail.example.org", NULL), M_END}, {M_END}},
    {"The queue retries and reaches", {M_CONNECT("mail.example.com", "mail.example.org", 25),
                                       M_LINE("mail.example.org", "mail.example.com", S2C, "^451 4.7.1"), M_END},
     {M_MAIL(SIM_MAIL_ADDED, "mail.example.org", NULL, NULL), M_END}},
    {"The next retry", {M_LINE("mail.example.org", "mail.example.com", S2C, "^250 2.0.0 Ok: queued"),
                        M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"One last try for Pat", {M_LINE("mail.example.net", "mail.example.com", S2C, "^452 4.2.2"),
                              M_KIND(SIM_TR_QUEUE, "mail.example.com", "status=expired"),
                              M_MAIL(SIM_MAIL_ADDED, "mail.example.com", "manish@example.com", "INBOX"), M_END}, {M_END}},
};

static const struct narration_case l7[] = {
    {"Manish writes to his friend", {M_LINE("manish-pc", NULL, C2S, "^STARTTLS"),
                                     {SIM_TR_LINE, "manish-pc", NULL, C2S, 0, "^AUTH PLAIN", 1, 0, NULL, NULL, 0, 0}, M_END}, {M_END}},
    {"Manish's server has looked up", {M_CONNECT("mail.example.com", "mail.example.org", 25),
                                       M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The friend's phone checks mail by IMAP", {M_CONNECT("friend-phone", "mail.example.org", 993),
                                                M_MAIL(SIM_MAIL_ADDED, "friend-phone", "friend@example.org", "INBOX"), M_END},
     {M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", NULL, NULL), M_END}},
    {"The friend's old laptop uses POP3", {M_CONNECT("friend-laptop", "mail.example.org", 995),
                                           M_LINE("friend-laptop", NULL, C2S, "^RETR 1"),
                                           M_LINE("friend-laptop", NULL, C2S, "^DELE 1"),
                                           M_MAIL(SIM_MAIL_REMOVED, "mail.example.org", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The phone syncs again", {M_MAIL(SIM_MAIL_REMOVED, "friend-phone", "friend@example.org", "INBOX"), M_END}, {M_END}},
    {"The quick pick", {M_END}, {M_END}},
};

static const struct lesson_case lessons[] = {
    {"01-smtp-conversation", ARRAY_LEN(l1), l1},
    {"02-finding-the-server", ARRAY_LEN(l2), l2},
    {"03-ports-and-encryption", ARRAY_LEN(l3), l3},
    {"04-imap", ARRAY_LEN(l4), l4},
    {"05-pop3", ARRAY_LEN(l5), l5},
    {"06-when-mail-goes-wrong", ARRAY_LEN(l6), l6},
    {"07-whole-picture", ARRAY_LEN(l7), l7},
};

/* Every narration of every lesson, against its window. */
static void test_narration_matches_the_run(void **state)
{
    (void)state;
    for (size_t l = 0; l < ARRAY_LEN(lessons); l++) {
        const struct lesson_case *lc = &lessons[l];
        struct played p;
        play(&p, lc->name);
        if (p.nnarr != lc->nnarr)
            fail_msg("%s: %zu narration lines, the test checks %zu", lc->name, p.nnarr, lc->nnarr);
        for (size_t k = 0; k < p.nnarr; k++) {
            const struct narration_case *nc = &lc->narr[k];
            const struct sim_trace_event *ev = ev_at(&p, p.narr[k]);
            if (strncmp(ev->note, nc->starts, strlen(nc->starts)) != 0)
                fail_msg("%s narration %zu is \"%.60s\", the test expects \"%s\"", lc->name, k,
                         ev->note, nc->starts);
            size_t from = p.narr[k] + 1, to = k + 1 < p.nnarr ? p.narr[k + 1] : p.n;
            char why[160];
            snprintf(why, sizeof why, "%s narration %zu (\"%s\")", lc->name, k, nc->starts);
            for (size_t e = 0; e < EVIDENCE_MAX && nc->must[e].kind != SIM_TR_KIND_COUNT; e++)
                must_find(&p, from, to, &nc->must[e], why);
            for (size_t e = 0; e < 3 && nc->never[e].kind != SIM_TR_KIND_COUNT; e++) {
                long at = find(&p, from, to, &nc->never[e]);
                if (at >= 0)
                    fail_msg("%s: step %ld (\"%s\") contradicts it", why, at, ev_at(&p, (size_t)at)->text);
            }
        }
        unplay(&p);
    }
}

/* ---- each lesson's facts ------------------------------------------------------ */

static void test_lesson1_envelope_and_helo(void **state)
{
    (void)state;
    struct played p;
    play(&p, "01-smtp-conversation");
    /* the blind copy: two envelope recipients on both hops, one To: */
    const struct match rcpt_boss = M_LINE(NULL, NULL, C2S, "^RCPT TO:<boss@example.org>");
    assert_int_equal(count(&p, 0, p.n, &rcpt_boss), 2);
    const struct match to_hdr = M_LINE(NULL, NULL, C2S, "^To: ");
    assert_int_equal(count(&p, 0, p.n, &to_hdr), 3); /* submission, relay, grandpa */
    for (size_t i = 0; i < p.n; i++) {
        const struct sim_trace_event *ev = ev_at(&p, i);
        if (matches(ev, &to_hdr)) assert_string_equal(ev->text, "To: friend@example.org");
    }
    assert_int_equal(held(&p, p.n, "mail.example.org", "boss@example.org", "INBOX"), 1);
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 2);
    /* HELO: lock-step, every command waits for its reply */
    const struct match helo_conn = M_CONNECT("grandpa-pc", "mail.example.org", 25);
    long c = must_find(&p, 0, p.n, &helo_conn, "grandpa connects");
    unsigned conn = ev_at(&p, (size_t)c)->conn;
    const char *want[] = {"S:220", "C:HELO", "S:250", "C:MAIL", "S:250", "C:RCPT", "S:250",
                          "C:DATA", "S:354"};
    size_t w = 0;
    for (size_t i = (size_t)c; i < p.n && w < ARRAY_LEN(want); i++) {
        const struct sim_trace_event *ev = ev_at(&p, i);
        if (ev->kind != SIM_TR_LINE || ev->conn != conn) continue;
        char got[16];
        snprintf(got, sizeof got, "%s:%.4s", ev->dir == C2S ? "C" : "S", ev->text);
        if (strncmp(got, want[w], strlen(want[w])) != 0)
            fail_msg("HELO session line %zu: %s, want %s", w, got, want[w]);
        w++;
    }
    assert_int_equal(w, ARRAY_LEN(want));
    unplay(&p);
}

static void test_lesson2_mx_order_backup_and_fallback(void **state)
{
    (void)state;
    struct played p;
    play(&p, "02-finding-the-server");
    const struct match to_mx1 = M_CONNECT("mail.example.com", "mx1.example.org", 25);
    const struct match to_mx2 = M_CONNECT("mail.example.com", "mx2.example.org", 25);
    const struct match down = M_KIND(SIM_TR_REFUSED, "mail.example.com", "mx1.example.org:25 failed: host down");
    long first = find(&p, 0, p.n, &to_mx1), d = find(&p, 0, p.n, &down), backup = find(&p, 0, p.n, &to_mx2);
    assert_true(first >= 0 && d > first && backup > d);
    /* preference 10 was tried for 30 s (no answer) before 20, at once after */
    assert_true(ev_at(&p, (size_t)d)->t > SIM_SEC(13 + 30));
    assert_true(ev_at(&p, (size_t)backup)->t - ev_at(&p, (size_t)d)->t < SIM_MSEC(100));
    const struct match held_at_mx2 = M_KIND(SIM_TR_QUEUE, "mx2.example.org", "we are a backup MX for example.org");
    assert_true(find(&p, 0, p.n, &held_at_mx2) > backup);
    /* the backup stores nothing in a mailbox; both messages end in mx1's INBOX */
    const struct match mx2_mail = M_MAIL(SIM_MAIL_ADDED, "mx2.example.org", NULL, NULL);
    assert_int_equal(count(&p, 0, p.n, &mx2_mail), 0);
    assert_int_equal(held(&p, p.n, "mx1.example.org", "friend@example.org", "INBOX"), 2);
    /* push: every SMTP connection between servers is opened by the sender, on 25 */
    for (size_t i = 0; i < p.n; i++) {
        const struct sim_trace_event *ev = ev_at(&p, i);
        if (ev->kind == SIM_TR_CONNECT && ev->port == 25)
            assert_true(strcmp(ev->from, "mail.example.com") == 0 || strcmp(ev->from, "mx2.example.org") == 0);
    }
    /* no MX at example.net: its A record was asked for and used */
    const struct match a_q = M_KIND(SIM_TR_DNS, "resolver", "^example.net. IN A?");
    assert_true(find(&p, 0, p.n, &a_q) >= 0);
    assert_int_equal(held(&p, p.n, "example.net", "pat@example.net", "INBOX"), 1);
    unplay(&p);
}

static void test_lesson3_what_an_eavesdropper_reads(void **state)
{
    (void)state;
    struct played p;
    play(&p, "03-ports-and-encryption");
    char eve[256];
    /* Lee's password crossed in the clear: base64 decodes to it */
    const struct match lee_auth = M_LINE("lee-pc", NULL, C2S, "^AUTH PLAIN ");
    long a = must_find(&p, 0, p.n, &lee_auth, "Lee's AUTH");
    const struct sim_trace_event *ev = ev_at(&p, (size_t)a);
    assert_false(ev->tls);
    assert_true(ui_eavesdropper_view(ev, eve, sizeof eve));
    assert_string_equal(eve, ev->text);
    char plain[128];
    int n = base64_decode(ev->text + 11, strlen(ev->text + 11), plain, sizeof plain);
    assert_int_equal(n, 24);
    assert_memory_equal(plain, "\0lee@example.com\0hunter2", 24);
    /* Manish's AUTH and Asha's every line: only sizes */
    const struct match m_auth = M_LINE("manish-pc", NULL, C2S, "^AUTH PLAIN ");
    ev = ev_at(&p, (size_t)must_find(&p, 0, p.n, &m_auth, "Manish's AUTH"));
    assert_true(ev->tls);
    assert_true(ui_eavesdropper_view(ev, eve, sizeof eve));
    char want[64];
    snprintf(want, sizeof want, "[%zu bytes of TLS]", ev->wire_bytes);
    assert_string_equal(eve, want);
    assert_true(ev->wire_bytes == strlen(ev->text) + 2);
    size_t asha = 0;
    for (size_t i = 0; i < p.n; i++) {
        ev = ev_at(&p, i);
        if (ev->kind == SIM_TR_LINE && (strcmp(ev->from, "asha-laptop") == 0 || strcmp(ev->to, "asha-laptop") == 0)) {
            assert_true(ev->tls);
            asha++;
        }
    }
    assert_true(asha > 10);
    /* Kim never got a connection: 30 s and a firewall */
    const struct match kim = M_KIND(SIM_TR_REFUSED, "kim-pc", "blocked by a firewall");
    ev = ev_at(&p, (size_t)must_find(&p, 0, p.n, &kim, "Kim"));
    assert_true(ev->t == SIM_SEC(61));
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 2);
    unplay(&p);
}

static void test_lesson4_one_mailbox_on_the_server(void **state)
{
    (void)state;
    struct played p;
    play(&p, "04-imap");
    /* IDLE: the push leaves the server the moment the message is stored */
    const struct match stored = M_MAIL(SIM_MAIL_ADDED, "mail.example.org", "friend@example.org", "INBOX");
    const struct match push = M_LINE("mail.example.org", "friend-phone", S2C, "^* 1 EXISTS");
    long s = must_find(&p, 0, p.n, &stored, "delivery"), q = must_find(&p, 0, p.n, &push, "push");
    assert_true(q > s && ev_at(&p, (size_t)q)->t == ev_at(&p, (size_t)s)->t);
    /* three devices saw the same message */
    const char *devs[] = {"friend-phone", "friend-laptop", "webmail"};
    for (size_t d = 0; d < 3; d++) {
        const struct match got = M_MAIL(SIM_MAIL_ADDED, devs[d], "friend@example.org", "INBOX");
        assert_true(find(&p, 0, p.n, &got) >= 0);
    }
    /* read on the phone, read on the laptop: the laptop never sent a STORE for it */
    const struct match laptop_seen = M_FLAGS("friend-laptop", "friend@example.org", SIM_FLAG_SEEN, 0);
    assert_true(find(&p, 0, p.n, &laptop_seen) >= 0);
    /* at the end: the INBOX is empty everywhere, Lunch and Drafts hold one each */
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 0);
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "Lunch"), 1);
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "Drafts"), 1);
    for (size_t d = 0; d < 3; d++)
        assert_int_equal(held(&p, p.n, devs[d], "friend@example.org", "INBOX"), 0);
    unplay(&p);
}

static void test_lesson5_download_and_delete(void **state)
{
    (void)state;
    struct played p;
    play(&p, "05-pop3");
    /* after the laptop's QUIT the server's INBOX is empty ... */
    const struct match quit = M_LINE("old-laptop", NULL, C2S, "^QUIT");
    long q = must_find(&p, 0, p.n, &quit, "the laptop's QUIT");
    assert_int_equal(held(&p, (size_t)q, "mail.example.org", "friend@example.org", "INBOX"), 2);
    const struct match update = M_KIND(SIM_TR_STATE, "mail.example.org", "TRANSACTION -> UPDATE");
    long u = must_find(&p, (size_t)q, p.n, &update, "UPDATE");
    assert_int_equal(held(&p, (size_t)u + 2, "mail.example.org", "friend@example.org", "INBOX"), 0);
    assert_int_equal(held(&p, (size_t)u, "old-laptop", "friend@example.org", "INBOX"), 2);
    /* ... and the phone's next sync lists zero messages */
    const struct match zero = M_LINE("mail.example.org", "friend-phone", S2C, "^* 0 EXISTS");
    assert_true(find(&p, (size_t)u, p.n, &zero) > u);
    const struct match next_sync = M_LINE("friend-phone", NULL, C2S, "SELECT INBOX");
    long sync = must_find(&p, (size_t)u, p.n, &next_sync, "the phone's next sync");
    assert_int_equal(find(&p, (size_t)sync, p.n, &zero) > sync, 1);
    assert_int_equal(held(&p, p.n, "friend-phone", "friend@example.org", "INBOX"), 0);
    /* leave on the server: duplicates and a stale copy */
    assert_int_equal(held(&p, p.n, "work-laptop", "friend@example.org", "INBOX"), 1);
    assert_int_equal(held(&p, p.n, "old-laptop", "friend@example.org", "INBOX"), 3);
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 0);
    /* the 56k line: a RETR takes far longer on the old laptop */
    const struct match retr_old = M_LINE("old-laptop", NULL, C2S, "^RETR 1");
    const struct match retr_work = M_LINE("work-laptop", NULL, C2S, "^RETR 1");
    const struct match got_old = M_MAIL(SIM_MAIL_ADDED, "old-laptop", NULL, NULL);
    const struct match got_work = M_MAIL(SIM_MAIL_ADDED, "work-laptop", NULL, NULL);
    long ro = find(&p, 0, p.n, &retr_old), rw = find(&p, 0, p.n, &retr_work);
    sim_time slow = ev_at(&p, (size_t)find(&p, (size_t)ro, p.n, &got_old))->t - ev_at(&p, (size_t)ro)->t;
    sim_time fast = ev_at(&p, (size_t)find(&p, (size_t)rw, p.n, &got_work))->t - ev_at(&p, (size_t)rw)->t;
    assert_true(slow > 5 * fast);
    unplay(&p);
}

static void test_lesson6_failures(void **state)
{
    (void)state;
    struct played p;
    play(&p, "06-when-mail-goes-wrong");
    /* two bounces reach Manish: the unknown user and the expired full mailbox */
    const struct match dsn = M_KIND(SIM_TR_QUEUE, "mail.example.com", "queued, from=<>");
    assert_int_equal(count(&p, 0, p.n, &dsn), 2);
    assert_int_equal(held(&p, p.n, "mail.example.com", "manish@example.com", "INBOX"), 2);
    const struct match full = M_LINE("mail.example.net", "mail.example.com", S2C, "^452 4.2.2");
    assert_int_equal(count(&p, 0, p.n, &full), 6); /* 36, 66, 126, 187, 247, 276 s */
    assert_int_equal(held(&p, p.n, "mail.example.net", "pat@example.net", "INBOX"), 0);
    /* down, then greylisted, then delivered: three tries, one message */
    const struct match tries = M_KIND(SIM_TR_QUEUE, "mail.example.com", "C07219E718: delivery attempt");
    assert_int_equal(count(&p, 0, p.n, &tries), 3);
    const struct match grey = M_LINE("mail.example.org", "mail.example.com", S2C, "^451 4.7.1");
    assert_int_equal(count(&p, 0, p.n, &grey), 1);
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 1);
    /* nothing from the stranger or from Lee got anywhere */
    const struct match lee_mail = M_LINE("lee-pc", NULL, C2S, "^MAIL FROM");
    assert_int_equal(count(&p, 0, p.n, &lee_mail), 0);
    unplay(&p);
}

static void test_lesson7_the_whole_path(void **state)
{
    (void)state;
    struct played p;
    play(&p, "07-whole-picture");
    /* SMTP 587, then DNS MX, then SMTP 25, then IMAP 993 and POP3 995, in that order */
    const struct match steps[] = {
        M_CONNECT("manish-pc", "mail.example.com", 587),
        M_KIND(SIM_TR_DNS, "mail.example.com", "^example.org. IN MX?"),
        M_CONNECT("mail.example.com", "mail.example.org", 25),
        M_CONNECT("friend-phone", "mail.example.org", 993),
        M_CONNECT("friend-laptop", "mail.example.org", 995),
    };
    long at = 0;
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        long k = must_find(&p, (size_t)at, p.n, &steps[i], "the whole path");
        assert_true(k >= at);
        at = k;
    }
    assert_int_equal(held(&p, p.n, "mail.example.org", "friend@example.org", "INBOX"), 0);
    assert_int_equal(held(&p, p.n, "friend-laptop", "friend@example.org", "INBOX"), 1);
    assert_int_equal(held(&p, p.n, "friend-phone", "friend@example.org", "INBOX"), 0);
    unplay(&p);
}

/* ---- every lesson: loads, plays, 3 to 6 questions, predictions agree ----------- */

static void test_quizzes_agree_with_the_runs(void **state)
{
    (void)state;
    static struct ui_quiz qz;
    static struct sim_scn_diags dg;
    for (size_t l = 0; l < ARRAY_LEN(lessons); l++) {
        struct played p;
        play(&p, lessons[l].name);
        if (p.s->nquestions < 3 || p.s->nquestions > 6)
            fail_msg("%s has %zu questions", lessons[l].name, p.s->nquestions);
        size_t npredict = 0;
        ui_quiz_init(&qz, p.s, p.tr);
        for (size_t i = 0; i < qz.n; i++) {
            if (qz.items[i].q->kind != SIM_SCN_Q_PREDICT) continue;
            npredict++;
            assert_true(qz.items[i].found);
            assert_int_equal(qz.items[i].actual, (int)qz.items[i].q->answer);
            assert_true(qz.items[i].reply_step > qz.items[i].pause_step);
        }
        if (npredict == 0) fail_msg("%s has no predict question", lessons[l].name);
        dg.n = dg.dropped = 0;
        assert_int_equal(ui_quiz_check(&qz, p.tr, &dg), 0);
        assert_string_not_equal(p.s->summary, "");
        unplay(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narration_matches_the_run),
        cmocka_unit_test(test_lesson1_envelope_and_helo),
        cmocka_unit_test(test_lesson2_mx_order_backup_and_fallback),
        cmocka_unit_test(test_lesson3_what_an_eavesdropper_reads),
        cmocka_unit_test(test_lesson4_one_mailbox_on_the_server),
        cmocka_unit_test(test_lesson5_download_and_delete),
        cmocka_unit_test(test_lesson6_failures),
        cmocka_unit_test(test_lesson7_the_whole_path),
        cmocka_unit_test(test_quizzes_agree_with_the_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
