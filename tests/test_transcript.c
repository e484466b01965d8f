/* The text views of a trace: exact transcript lines and JSON lines. */
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>

#include "render/transcript.h"

typedef void (*line_fn)(FILE *, const struct sim_trace_event *);

/* Renders ev with fn into a string the test owns. */
static char *render(line_fn fn, const struct sim_trace_event *ev)
{
    static char buf[1024];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    fn(f, ev);
    fclose(f);
    return buf;
}

static struct sim_trace_event smtp_line(void)
{
    return (struct sim_trace_event){
        .t = SIM_MSEC(30), .kind = SIM_TR_LINE, .proto = SIM_PROTO_SMTP,
        .from = "mail.example.com", .to = "laptop", .port = 587, .dir = SIM_DIR_S2C,
        .conn = 3, .text = "220 mail.example.com ESMTP", .note = "the server is ready",
        .mail = {.owner = "", .account = "", .folder = "", .subject = "", .from = ""},
    };
}

static void test_transcript_lines(void **state)
{
    (void)state;
    struct sim_trace_event ev = smtp_line();
    assert_string_equal(render(ui_transcript_line, &ev),
                        "    0.030s  smtp  mail.example.com -> laptop :587  S: 220 "
                        "mail.example.com ESMTP  # the server is ready\n");
    ev.dir = SIM_DIR_C2S;
    ev.from = "laptop";
    ev.to = "mail.example.com";
    ev.text = "AUTH PLAIN AHVzZXIAcGFzcw==";
    ev.note = "";
    ev.tls = true;
    ev.t = SIM_SEC(12) + 5;
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  smtp  laptop -> mail.example.com :587  C: [TLS] "
                        "AUTH PLAIN AHVzZXIAcGFzcw==\n");
    ev.kind = SIM_TR_CONNECT;
    ev.proto = SIM_PROTO_TCP;
    ev.text = "laptop:49153 connected to mail.example.com:587";
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  tcp   laptop:49153 connected to mail.example.com:587\n");
    ev.kind = SIM_TR_ACTION;
    ev.proto = SIM_PROTO_SIM;
    ev.from = "friend-phone";
    ev.text = "check mail";
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  sim   friend-phone: check mail\n");
    ev.text = "friend-phone reads \"Lunch\"";
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  sim   friend-phone reads \"Lunch\"\n");
    ev.kind = SIM_TR_QUEUE; /* the name inside an address does not count */
    ev.proto = SIM_PROTO_QUEUE;
    ev.from = "example.net";
    ev.text = "A1: queued, from=<pat@example.net>";
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  queue example.net: A1: queued, from=<pat@example.net>\n");
    ev.kind = SIM_TR_MAIL;
    ev.proto = SIM_PROTO_STORE;
    ev.text = "";
    ev.mail = (struct sim_trace_mail){.change = SIM_MAIL_ADDED, .owner = "mx.example.org",
                                      .account = "friend@example.org", .folder = "INBOX",
                                      .uid = 4, .subject = "", .from = ""};
    assert_string_equal(render(ui_transcript_line, &ev),
                        "   12.000s  store mx.example.org friend@example.org/INBOX uid 4: added\n");
}

static void test_json_lines(void **state)
{
    (void)state;
    struct sim_trace_event ev = smtp_line();
    ev.step = 7;
    ev.text = "250-mail \"quoted\" \\ tab\there";
    assert_string_equal(render(ui_json_line, &ev),
                        "{\"t\":0.030000,\"step\":7,\"kind\":\"line\",\"proto\":\"smtp\","
                        "\"from\":\"mail.example.com\",\"to\":\"laptop\",\"port\":587,"
                        "\"dir\":\"s2c\",\"conn\":3,\"tls\":false,"
                        "\"text\":\"250-mail \\\"quoted\\\" \\\\ tab\\there\","
                        "\"note\":\"the server is ready\"}\n");
    ev.kind = SIM_TR_MAIL;
    ev.proto = SIM_PROTO_STORE;
    ev.dir = SIM_DIR_NONE;
    ev.text = "";
    ev.note = "";
    ev.mail = (struct sim_trace_mail){.change = SIM_MAIL_FLAGS, .owner = "mx",
                                      .account = "f@example.org", .folder = "INBOX", .uid = 2,
                                      .flags = SIM_FLAG_SEEN, .size = 300, .subject = "Hi\x01",
                                      .from = "m@example.com"};
    assert_string_equal(render(ui_json_line, &ev),
                        "{\"t\":0.030000,\"step\":7,\"kind\":\"mail\",\"proto\":\"store\","
                        "\"from\":\"mail.example.com\",\"to\":\"laptop\",\"port\":587,"
                        "\"dir\":\"\",\"conn\":3,\"tls\":false,\"text\":\"\",\"note\":\"\","
                        "\"mail\":{\"change\":\"flags\",\"owner\":\"mx\",\"account\":"
                        "\"f@example.org\",\"folder\":\"INBOX\",\"uid\":2,\"flags\":1,"
                        "\"size\":300,\"subject\":\"Hi\\u0001\",\"from\":\"m@example.com\"}}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transcript_lines),
        cmocka_unit_test(test_json_lines),
    };
    return cmocka_run_group_tests_name("transcript", tests, NULL, NULL);
}
