/* The world state at a step, rebuilt from the trace: a hand-made trace with
 * every kind of change, then the default lesson's real one. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "render/ui_lesson.h"
#include "render/ui_state.h"

/* ---- a hand-made trace ---------------------------------------------------- */

enum { PC, MX, PHONE, RES, NHOSTS };
static const char *const names[NHOSTS] = {"pc", "mx", "phone", "resolver"};

static struct sim_trace_event base(enum sim_trace_kind kind, enum sim_proto proto,
                                   const char *from, const char *to, unsigned port,
                                   unsigned conn, const char *text)
{
    return (struct sim_trace_event){.kind = kind, .proto = proto, .from = from, .to = to,
                                    .port = port, .conn = conn, .text = text};
}

static struct sim_trace_event line(const char *from, const char *to, enum sim_dir dir,
                                   unsigned conn, bool tls, const char *text)
{
    struct sim_trace_event e = base(SIM_TR_LINE, SIM_PROTO_SMTP, from, to, 587, conn, text);
    e.dir = dir;
    e.tls = tls;
    e.wire_bytes = strlen(text) + 2;
    return e;
}

static struct sim_trace_event mail(enum sim_mail_change ch, unsigned flags)
{
    struct sim_trace_event e = base(SIM_TR_MAIL, SIM_PROTO_STORE, "mx", "", 0, 0, "");
    e.mail = (struct sim_trace_mail){.change = ch, .owner = "mx", .account = "a@example.org",
                                     .folder = "INBOX", .uid = 1, .flags = flags, .size = 10,
                                     .subject = "Hi", .from = "b@example.com"};
    return e;
}

static struct ui_lesson *fake_lesson(void)
{
    struct ui_lesson *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->nhosts = NHOSTS;
    for (int i = 0; i < NHOSTS; i++) snprintf(l->hosts[i].name, sizeof l->hosts[i].name, "%s", names[i]);
    struct sim_trace *tr = sim_trace_new();
    assert_non_null(tr);
    struct sim_trace_event ev[] = {
        /* 0 */ base(SIM_TR_ACTION, SIM_PROTO_SIM, "", "", 0, 0, "narrate"),
        /* 1 */ base(SIM_TR_CONNECT, SIM_PROTO_TCP, "pc", "mx", 587, 1, "connected"),
        /* 2 */ line("mx", "pc", SIM_DIR_S2C, 1, false, "220 ready"),
        /* 3 */ line("pc", "mx", SIM_DIR_C2S, 1, false, "STARTTLS"),
        /* 4 */ base(SIM_TR_TLS, SIM_PROTO_TLS, "pc", "mx", 587, 1, "TLS handshake complete"),
        /* 5 */ line("pc", "mx", SIM_DIR_C2S, 1, true, "EHLO pc"),
        /* 6 */ mail(SIM_MAIL_ADDED, 0),
        /* 7 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "mx", "", 0, 0, "port 25 blocked coming in to mx"),
        /* 8 */ base(SIM_TR_TLS, SIM_PROTO_TLS, "phone", "mx", 993, 2,
                     "TLS handshake complete (implicit TLS)"),
        /* 9 */ mail(SIM_MAIL_FLAGS, SIM_FLAG_SEEN | SIM_FLAG_FLAGGED),
        /* 10 */ base(SIM_TR_QUEUE, SIM_PROTO_QUEUE, "mx", "", 0, 0,
                      "ABC123: queued, from=<b@example.com>, nrcpt=1, size=10"),
        /* 11 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "mx", "", 0, 0, "host is down"),
        /* 12 */ mail(SIM_MAIL_REMOVED, 0),
        /* 13 */ base(SIM_TR_QUEUE, SIM_PROTO_QUEUE, "mx", "", 0, 0, "ABC123: removed"),
        /* 14 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "mx", "", 0, 0, "host is back up"),
        /* 15 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "mx", "", 0, 0, "port 25 open again coming in to mx"),
        /* 16 */ base(SIM_TR_DNS, SIM_PROTO_DNS, "mx", "resolver", 53, 0, "example.org. IN MX?"),
        /* 17 */ base(SIM_TR_STATE, SIM_PROTO_SMTP, "pc", "mx", 587, 1, "ehlo -> auth"),
        /* 18 */ base(SIM_TR_CONNECT, SIM_PROTO_TCP, "pc", "mx", 587, 3, "connected"),
        /* 19 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "pc", "", 0, 0, "link cut"),
        /* 20 */ base(SIM_TR_FAULT, SIM_PROTO_SIM, "pc", "", 0, 0, "link restored"),
    };
    /* the view reads what changed from the structured fields, not the text */
    ev[7].fault = SIM_FAULT_PORT_BLOCKED;
    ev[7].port = 25;
    ev[11].fault = SIM_FAULT_HOST_DOWN;
    ev[14].fault = SIM_FAULT_HOST_UP;
    ev[15].fault = SIM_FAULT_PORT_OPEN;
    ev[15].port = 25;
    ev[19].fault = SIM_FAULT_LINK_CUT;
    ev[20].fault = SIM_FAULT_LINK_RESTORED;
    ev[0].note = "Lesson starts.";
    ev[16].dir = SIM_DIR_C2S;
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) assert_int_equal(sim_trace_add(tr, &ev[i]), (long)i);
    l->trace = tr;
    l->nsteps = sim_trace_len(tr);
    return l;
}

static void free_fake(struct ui_lesson *l)
{
    sim_trace_free((struct sim_trace *)l->trace);
    free(l);
}

struct step_case {
    const char *name;
    size_t step;
    size_t nconns, nmsgs, nqueue, nblocks;
    bool   mx_up, blocked25;
    int    pk_from, pk_to;   /* -1: no packet */
    unsigned focus_conn;
    bool   focus_dns;
    size_t ndialogue;
    size_t last_line;        /* the dialogue's last step */
    bool   ghost;
    const char *narration;
};

static const struct step_case step_cases[] = {
    {"narration", 0, 0, 0, 0, 0, true, false, -1, -1, 0, false, 0, 0, false, "Lesson starts."},
    {"greeting on the wire", 2, 1, 0, 0, 0, true, false, MX, PC, 1, false, 1, 2, false, "Lesson starts."},
    {"handshake: no packet", 4, 1, 0, 0, 0, true, false, -1, -1, 1, false, 2, 3, false, "Lesson starts."},
    {"first protected line", 5, 1, 0, 0, 0, true, false, PC, MX, 1, false, 3, 5, false, "Lesson starts."},
    {"message stored", 6, 1, 1, 0, 0, true, false, -1, -1, 1, false, 3, 5, false, "Lesson starts."},
    {"port blocked", 7, 1, 1, 0, 1, true, true, -1, -1, 1, false, 3, 5, false, "Lesson starts."},
    {"implicit TLS opens", 8, 2, 1, 0, 1, true, true, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"queued", 10, 2, 1, 1, 1, true, true, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"host down cuts both", 11, 0, 1, 1, 1, false, true, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"message removed", 12, 0, 0, 1, 1, false, true, -1, -1, 2, false, 0, 0, true, "Lesson starts."},
    {"queue emptied", 13, 0, 0, 0, 1, false, true, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"back up", 14, 0, 0, 0, 1, true, true, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"unblocked", 15, 0, 0, 0, 0, true, false, -1, -1, 2, false, 0, 0, false, "Lesson starts."},
    {"DNS datagram", 16, 0, 0, 0, 0, true, false, MX, RES, 0, true, 1, 16, false, "Lesson starts."},
    {"a new connection", 18, 1, 0, 0, 0, true, false, -1, -1, 3, false, 0, 0, false, "Lesson starts."},
    {"link cut: its connection too", 19, 0, 0, 0, 0, true, false, -1, -1, 3, false, 0, 0, false, "Lesson starts."},
    {"past the end clamps", 99, 0, 0, 0, 0, true, false, -1, -1, 3, false, 0, 0, false, "Lesson starts."},
};

static void check_case(const struct ui_state *st, const struct step_case *c)
{
    print_message("case: %s\n", c->name);
    assert_int_equal(st->nconns, c->nconns);
    assert_int_equal(st->nmsgs, c->nmsgs);
    assert_int_equal(st->nqueue, c->nqueue);
    assert_int_equal(st->nblocks, c->nblocks);
    assert_int_equal(st->host_up[MX], c->mx_up);
    assert_int_equal(ui_state_blocked(st, MX, 25), c->blocked25);
    assert_int_equal(st->has_packet, c->pk_from >= 0);
    if (c->pk_from >= 0) {
        assert_int_equal(st->pk_from, c->pk_from);
        assert_int_equal(st->pk_to, c->pk_to);
    }
    assert_int_equal(st->focus_conn, c->focus_conn);
    assert_int_equal(st->focus_dns, c->focus_dns);
    assert_int_equal(st->ndialogue, c->ndialogue);
    if (c->ndialogue) assert_int_equal(st->dialogue[c->ndialogue - 1], c->last_line);
    assert_int_equal(st->has_ghost, c->ghost);
    assert_string_equal(st->narration, c->narration);
}

static void test_state_steps(void **state)
{
    (void)state;
    struct ui_lesson *l = fake_lesson();
    static struct ui_state fresh, walked;
    ui_state_init(&walked, l);
    for (size_t i = 0; i < sizeof step_cases / sizeof step_cases[0]; i++) {
        const struct step_case *c = &step_cases[i];
        ui_state_init(&fresh, l); /* replayed from the start */
        ui_state_at(&fresh, c->step);
        check_case(&fresh, c);
        ui_state_at(&walked, c->step); /* moved on from the previous case */
        check_case(&walked, c);
    }
    free_fake(l);
}

static void test_state_details(void **state)
{
    (void)state;
    struct ui_lesson *l = fake_lesson();
    static struct ui_state st;
    ui_state_init(&st, l);
    ui_state_at(&st, 5);
    const struct ui_conn *c = ui_state_conn(&st, 1);
    assert_non_null(c);
    assert_int_equal(c->client, PC);
    assert_int_equal(c->server, MX);
    assert_int_equal(c->port, 587);
    assert_int_equal(c->proto, SIM_PROTO_SMTP);
    assert_true(c->tls);
    assert_int_equal(st.dialogue[0], 2);
    assert_int_equal(st.dialogue[1], 3);
    ui_state_at(&st, 3);
    assert_false(ui_state_conn(&st, 1)->tls); /* back before the handshake */
    ui_state_at(&st, 8);
    c = ui_state_conn(&st, 2);
    assert_non_null(c);
    assert_int_equal(c->port, 993);
    assert_int_equal(c->proto, SIM_PROTO_IMAP);
    assert_true(c->tls);
    /* the narration bar's "now": actions, faults, mailbox and queue changes */
    ui_state_at(&st, 5);
    assert_null(st.latest);
    ui_state_at(&st, 6);
    assert_int_equal(st.latest->step, 6);
    ui_state_at(&st, 8);
    assert_int_equal(st.latest->step, 7);
    ui_state_at(&st, 9);
    assert_int_equal(st.latest->step, 9);
    assert_int_equal(st.msgs[0].flags, SIM_FLAG_SEEN | SIM_FLAG_FLAGGED);
    assert_int_equal(st.msgs[0].changed, 9);
    assert_string_equal(st.msgs[0].subject, "Hi");
    ui_state_at(&st, 10);
    assert_string_equal(st.queue[0].id, "ABC123");
    assert_int_equal(st.queue[0].host, MX);
    ui_state_at(&st, 12);
    assert_int_equal(st.ghost.uid, 1);
    assert_int_equal(st.ghost.owner, MX);
    /* a cut link: the host keeps running, its link does not */
    ui_state_at(&st, 19);
    assert_false(st.link_up[PC]);
    assert_true(st.host_up[PC]);
    assert_true(st.link_up[MX]);
    ui_state_at(&st, 20);
    assert_true(st.link_up[PC]);
    ui_state_at(&st, 19); /* and back again */
    assert_false(st.link_up[PC]);
    /* Exchanges skip STATE events; at either end they stay put. */
    assert_int_equal(ui_state_next_exchange(l, 0), 1);
    assert_int_equal(ui_state_next_exchange(l, 16), 18); /* over the STATE at 17 */
    assert_int_equal(ui_state_next_exchange(l, 20), 20);
    assert_int_equal(ui_state_prev_exchange(l, 17), 16);
    assert_int_equal(ui_state_prev_exchange(l, 0), 0);
    free_fake(l);
}

/* ---- the default lesson --------------------------------------------------- */

static size_t find_step(const struct ui_lesson *l, enum sim_trace_kind kind, const char *text,
                        unsigned port)
{
    for (size_t s = 0; s < l->nsteps; s++) {
        const struct sim_trace_event *e = sim_trace_get(l->trace, s);
        if (e->kind == kind && strcmp(e->text, text) == 0 && (!port || e->port == port)) return s;
    }
    fail_msg("no %s event \"%s\" in the lesson", sim_trace_kind_names[kind], text);
    return 0;
}

static size_t msgs_of(const struct ui_state *st, const char *host)
{
    int h = ui_lesson_host(st->lesson, host);
    size_t n = 0;
    for (size_t i = 0; i < st->nmsgs; i++) n += st->msgs[i].owner == h;
    return n;
}

static void test_default_lesson(void **state)
{
    (void)state;
    FILE *err = tmpfile();
    struct ui_lesson *l = ui_lesson_load("default", "tests", err);
    fclose(err);
    assert_non_null(l);
    assert_int_equal(l->nhosts, 8);
    int mx = ui_lesson_host(l, "mail.example.com");
    assert_int_equal(mx, 1);
    /* mail.example.com listens for relay, submission and IMAPS */
    assert_int_equal(l->hosts[mx].nports, 3);
    assert_int_equal(l->hosts[mx].ports[0], 25);
    assert_int_equal(l->hosts[mx].ports[1], 587);
    assert_int_equal(l->hosts[mx].ports[2], 993);
    assert_int_equal(l->hosts[ui_lesson_host(l, "resolver")].ports[0], 53);
    assert_false(l->hosts[ui_lesson_host(l, "resolver")].holds_mail);
    assert_true(l->hosts[ui_lesson_host(l, "friend-laptop")].holds_mail);

    static struct ui_state st;
    ui_state_init(&st, l);
    /* The first EHLO crosses in the clear, the second inside TLS. */
    size_t ehlo = find_step(l, SIM_TR_LINE, "EHLO manish-pc", 587);
    ui_state_at(&st, ehlo);
    assert_true(st.has_packet);
    assert_string_equal(l->hosts[st.pk_from].name, "manish-pc");
    assert_false(ui_state_conn(&st, st.ev->conn)->tls);
    size_t ok = find_step(l, SIM_TR_LINE, "235 2.7.0 Authentication successful", 587);
    ui_state_at(&st, ok);
    assert_true(ui_state_conn(&st, st.ev->conn)->tls);
    assert_int_equal(st.dialogue[st.ndialogue - 1], ok);
    assert_string_equal(sim_trace_get(l->trace, st.dialogue[0])->text,
                        "220 mail.example.com Simple Mail Transfer Service Ready");

    /* At the end: the laptop downloaded and deleted it, the phone followed. */
    ui_state_at(&st, l->nsteps - 1);
    assert_int_equal(msgs_of(&st, "mail.example.org"), 0);
    assert_int_equal(msgs_of(&st, "friend-laptop"), 1);
    assert_int_equal(msgs_of(&st, "friend-phone"), 0);
    assert_int_equal(msgs_of(&st, "manish-pc"), 1);
    assert_int_equal(msgs_of(&st, "mail.example.com"), 1);
    assert_int_equal(st.nconns, 0);
    assert_int_equal(st.nqueue, 0);
    assert_string_equal(st.narration, "The phone syncs again: the message is gone from the "
                                      "server, so it disappears from the phone too.");
    ui_lesson_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_steps),
        cmocka_unit_test(test_state_details),
        cmocka_unit_test(test_default_lesson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
