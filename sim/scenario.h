/* Scenario (lesson) files: the JSON that declares a world and its timeline,
 * loaded with cJSON into a plain description (struct sim_scenario) that
 * sim/world.h builds from. lessons/README.md documents every field.
 *
 * Loading checks everything it can before the world exists: JSON syntax,
 * types, ranges, enumerations, unknown and duplicate fields, unique names,
 * and every reference (a device's host and account, a zone's server, a
 * timeline action's device, ...). Every problem found is reported, not only
 * the first: a bad value is noted and the parse goes on with the next field.
 * Each problem names the file, the line and column of the value when the
 * text is valid JSON (or of the syntax error), the JSON path
 * ("hosts[2].role") and what was expected:
 *
 *   lessons/x.json:14:15: hosts[2].role: expected one of computer, laptop,
 *   phone, webmail, mail-server, dns-resolver, dns-server, got "router"
 *
 * Ownership: the description's strings are borrowed from the parsed JSON
 * tree the scenario keeps; they live until sim_scenario_free(). References
 * between sections are indexes into the arrays, checked at load time. */
#ifndef MAILSIM_SIM_SCENARIO_H
#define MAILSIM_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/net.h"

/* ---- limits: a lesson is small; these keep a bad file from eating memory */

#define SIM_SCN_FILE_MAX (1024u * 1024u) /* octets in a scenario file */
#define SIM_SCN_HOSTS_MAX 32
#define SIM_SCN_ZONES_MAX 32        /* = SIM_DNS_ZONES_MAX */
#define SIM_SCN_RECORDS_MAX 64      /* per zone, = SIM_DNS_ZONE_RR_MAX */
#define SIM_SCN_SERVERS_MAX 8       /* mail servers */
#define SIM_SCN_DOMAINS_MAX 8       /* mail domains of one mail server */
#define SIM_SCN_ACCOUNTS_MAX 32
#define SIM_SCN_DEVICES_MAX 16
#define SIM_SCN_PROGRAMS_MAX 8      /* senders' mail programs */
#define SIM_SCN_ACTIONS_MAX 256     /* timeline entries */
#define SIM_SCN_RCPTS_MAX 16        /* = SIM_MUA_RCPTS_MAX */
#define SIM_SCN_TEXT_MAX 256        /* a subject, an address, a name */
#define SIM_SCN_BODY_MAX 32768      /* a message body in a send action */
#define SIM_SCN_TIME_MAX_S 864000.0 /* ten simulated days: any "at" or limit */

#define SIM_SCN_DEFAULT_SEED 1
#define SIM_SCN_DEFAULT_START "2024-03-04T09:00:00Z"
#define SIM_SCN_DEFAULT_TIME_LIMIT_S 3600 /* stops a lesson whose devices poll forever */
#define SIM_SCN_DEFAULT_LATENCY_MS 10
#define SIM_SCN_DEFAULT_TTL 3600

/* ---- problems ---------------------------------------------------------- */

#define SIM_SCN_DIAGS_MAX 64       /* problems kept; more are only counted */
#define SIM_SCN_DIAG_TEXT_MAX 512
#define SIM_SCN_PATH_MAX 128

struct sim_scn_diag {
    unsigned line, col;                /* 1-based; 0 when not known */
    char     path[SIM_SCN_PATH_MAX];   /* "hosts[2].role"; "" for the file itself */
    char     text[SIM_SCN_DIAG_TEXT_MAX];
};

struct sim_scn_diags {
    char   file[256];                  /* the file name as given */
    size_t n;                          /* problems kept in d[] */
    size_t dropped;                    /* problems past SIM_SCN_DIAGS_MAX */
    struct sim_scn_diag d[SIM_SCN_DIAGS_MAX];
};

/* Writes problem i as one line, without a newline, into out:
 *   "FILE:LINE:COL: PATH: TEXT", the position and path left out when not
 * known. Returns out. */
char *sim_scn_diag_format(const struct sim_scn_diags *dg, size_t i, char *out, size_t cap);

/* Prints every problem, one per line, then "... and N more problems" when
 * some were dropped. */
void sim_scn_diags_print(FILE *out, const struct sim_scn_diags *dg);

/* Adds a problem (the world adds those it finds while building). */
void sim_scn_diag_add(struct sim_scn_diags *dg, unsigned line, unsigned col, const char *path,
                      const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ---- the description --------------------------------------------------- */

/* What a mail server listens for; the names scenario files use are
 * "relay", "submission", "submissions", "imap", "imaps", "pop3", "pop3s". */
enum sim_scn_listener {
    SIM_SCN_RELAY,       /* SMTP from other servers, port 25 (RFC 5321) */
    SIM_SCN_SUBMISSION,  /* SMTP from users, 587 with STARTTLS (RFC 6409) */
    SIM_SCN_SUBMISSIONS, /* SMTP from users, 465 with TLS first (RFC 8314 3.3) */
    SIM_SCN_IMAP,        /* 143, STARTTLS (RFC 3501 6.2.1) */
    SIM_SCN_IMAPS,       /* 993, TLS first (RFC 8314 3.3) */
    SIM_SCN_POP3,        /* 110, STLS (RFC 2595 4) */
    SIM_SCN_POP3S,       /* 995, TLS first (RFC 8314 3.3) */
    SIM_SCN_LISTENER_COUNT
};
extern const char *const sim_scn_listener_names[SIM_SCN_LISTENER_COUNT];
extern const unsigned sim_scn_listener_ports[SIM_SCN_LISTENER_COUNT];

/* Timeline actions, in the order of sim_scn_action_names ("narrate", "send",
 * "check", "read", "flag", "unflag", "move", "delete", "save_draft",
 * "server_down", "server_up", "block_port", "unblock_port", "mailbox_full"). */
enum sim_scn_action_kind {
    SIM_SCN_NARRATE,      /* text: for the lesson's narration bar */
    SIM_SCN_SEND,         /* program, to[], subject, body */
    SIM_SCN_CHECK,        /* device */
    SIM_SCN_READ,         /* device, message */
    SIM_SCN_FLAG,         /* device, message */
    SIM_SCN_UNFLAG,       /* device, message */
    SIM_SCN_MOVE,         /* device, message, folder (IMAP) */
    SIM_SCN_DELETE,       /* device, message */
    SIM_SCN_SAVE_DRAFT,   /* device (IMAP), to, subject, body */
    SIM_SCN_SERVER_DOWN,  /* host */
    SIM_SCN_SERVER_UP,    /* host */
    SIM_SCN_BLOCK_PORT,   /* host, port, outbound */
    SIM_SCN_UNBLOCK_PORT, /* host, port, outbound */
    SIM_SCN_MAILBOX_FULL, /* account: its quota becomes what it stores now */
    SIM_SCN_ACTION_COUNT
};
extern const char *const sim_scn_action_names[SIM_SCN_ACTION_COUNT];

/* How a device fetches mail: "imap", "pop3". */
enum sim_scn_proto { SIM_SCN_PROTO_IMAP, SIM_SCN_PROTO_POP3, SIM_SCN_PROTO_COUNT };
extern const char *const sim_scn_proto_names[SIM_SCN_PROTO_COUNT];

struct sim_scn_host {
    const char   *name;
    const char   *ip;
    enum sim_role role;
    sim_time      latency;  /* one-way, its link */
    uint64_t      bps;      /* bandwidth, bits per second; 0: unlimited */
};

struct sim_scn_record {
    const char *name;       /* owner; the apex when the file leaves it out */
    uint16_t    type;       /* DNS_TYPE_A, AAAA, MX, NS, CNAME, TXT */
    unsigned    preference; /* MX only */
    const char *value;      /* address, target name ("." for a null MX) or text */
    uint32_t    ttl;
};

struct sim_scn_zone {
    const char *apex;
    size_t      server;     /* host index: the authoritative server */
    size_t      nrecords;
    struct sim_scn_record records[SIM_SCN_RECORDS_MAX];
};

struct sim_scn_mail_server {
    size_t      host;       /* host index */
    size_t      ndomains;
    const char *domains[SIM_SCN_DOMAINS_MAX];
    unsigned    listeners;  /* bit (1u << enum sim_scn_listener) */
    bool        greylisting;
    sim_time    greylist_delay;   /* how long a new sender must wait */
    sim_time    retry_first;        /* first wait after a deferral; 0: the MTA's default */
    sim_time    retry_max_interval; /* the doubling waits stop growing here; 0: default */
    sim_time    max_age;            /* bounce what is still queued after this; 0: default */
    size_t      max_size;   /* SIZE (RFC 1870); 0: the MTA's default */
    size_t      nbackup;
    const char *backup_for[SIM_SCN_DOMAINS_MAX]; /* domains it is a backup MX for */
};

struct sim_scn_account {
    const char *address;
    const char *password;
    size_t      quota;      /* octets; 0: unlimited */
    size_t      server;     /* mail server index */
};

struct sim_scn_device {
    const char *name;       /* unique; the host's name when the file leaves it out */
    size_t      host;       /* host index */
    size_t      account;    /* account index */
    enum sim_scn_proto proto;
    unsigned    port;       /* 993/143 or 995/110 */
    bool        leave_on_server; /* POP3 */
    bool        idle;       /* IMAP */
    sim_time    check_every; /* 0: only when the timeline says check */
};

struct sim_scn_program {
    size_t      host;       /* host index */
    size_t      account;    /* account index: its address is the sender */
    size_t      server;     /* mail server index: where it submits */
    unsigned    port;       /* 587, 465 or 25 */
    const char *display_name;
    bool        sent_copy;  /* APPEND a copy to Sent by IMAP */
    bool        skip_starttls;
    bool        wrong_password;
    bool        auth_before_starttls; /* AUTH in the clear, never STARTTLS: 530 */
    bool        use_helo;   /* the older greeting: no extensions, so no TLS or AUTH */
};

struct sim_scn_action {
    sim_time    at;
    enum sim_scn_action_kind kind;
    const char *text;       /* narrate */
    size_t      program;    /* send: the mail program whose account is "from" */
    size_t      nto;
    const char *to[SIM_SCN_RCPTS_MAX]; /* send; save_draft uses to[0] when nto */
    size_t      nbcc;       /* send: blind copies, envelope only; nto + nbcc <= RCPTS_MAX */
    const char *bcc[SIM_SCN_RCPTS_MAX];
    const char *subject;    /* send, save_draft */
    const char *body;       /* send, save_draft */
    size_t      device;     /* check ... save_draft */
    const char *msg_subject; /* read ... delete: the message with this subject, */
    size_t      msg_index;  /* or the msg_index-th (from 1) when msg_subject is NULL */
    const char *msg_folder; /* the folder it is in ("INBOX") */
    const char *folder;     /* move: the destination */
    size_t      host;       /* server_down ... unblock_port */
    unsigned    port;       /* block_port, unblock_port */
    bool        outbound;   /* block_port, unblock_port */
    size_t      account;    /* mailbox_full */
};

/* ---- the quiz: questions a lesson ends with ----------------------------- */

#define SIM_SCN_QUESTIONS_MAX 16 /* a lesson asks 3 to 6; room for a teacher's own */
#define SIM_SCN_OPTIONS_MAX 6    /* answers to choose from: A to F */

/* "choice": a multiple-choice question; "predict": asked while the run is
 * paused at a client's line, about the server's next reply. */
enum sim_scn_question_kind { SIM_SCN_Q_CHOICE, SIM_SCN_Q_PREDICT, SIM_SCN_Q_KIND_COUNT };
extern const char *const sim_scn_question_kind_names[SIM_SCN_Q_KIND_COUNT];

struct sim_scn_question {
    enum sim_scn_question_kind kind;
    const char *text;          /* the question */
    size_t      noptions;      /* 2..SIM_SCN_OPTIONS_MAX */
    const char *options[SIM_SCN_OPTIONS_MAX];
    size_t      answer;        /* 0-based; the file counts from 1 */
    const char *explanation;   /* one for every answer, or NULL */
    const char *explanations[SIM_SCN_OPTIONS_MAX]; /* one per option, or all NULL */
    /* predict: the pause point is the occurrence-th line a client sends whose
     * text starts with after (and, when after_host is set, sent by that
     * host); the answer is the server's next line on that connection, and an
     * option is right when that line starts with it. */
    const char *after;
    bool        has_after_host;
    size_t      after_host;    /* host index */
    unsigned    occurrence;    /* from 1 */
    unsigned    line, col;     /* where the question is in the file */
    unsigned    answer_line, answer_col; /* where its "answer" is */
};

struct sim_scenario {
    const char *title;
    const char *summary;
    uint64_t    seed;
    int64_t     epoch;      /* meta.start, seconds since 1970 (UTC) */
    int         zone_min;   /* meta.zone, minutes east of UTC, for Date: fields */
    sim_time    time_limit;

    size_t nhosts;
    struct sim_scn_host hosts[SIM_SCN_HOSTS_MAX];
    bool   has_resolver;
    size_t resolver;        /* host index */
    size_t nzones;
    struct sim_scn_zone zones[SIM_SCN_ZONES_MAX];
    size_t nservers;
    struct sim_scn_mail_server servers[SIM_SCN_SERVERS_MAX];
    size_t naccounts;
    struct sim_scn_account accounts[SIM_SCN_ACCOUNTS_MAX];
    size_t ndevices;
    struct sim_scn_device devices[SIM_SCN_DEVICES_MAX];
    size_t nprograms;
    struct sim_scn_program programs[SIM_SCN_PROGRAMS_MAX];
    size_t nactions;
    struct sim_scn_action actions[SIM_SCN_ACTIONS_MAX];
    size_t nquestions;
    struct sim_scn_question questions[SIM_SCN_QUESTIONS_MAX];

    void *json;             /* the cJSON tree the strings live in */
};

/* Loads the file at path. Returns the description, or NULL with every
 * problem in *dg (which is always reset first; dg->file is path). A file
 * that cannot be read is one problem naming the reason. */
struct sim_scenario *sim_scenario_load(const char *path, struct sim_scn_diags *dg);

/* The same from text[0..len) already in memory; name stands for the file in
 * problems. */
struct sim_scenario *sim_scenario_parse(const char *text, size_t len, const char *name,
                                        struct sim_scn_diags *dg);

void sim_scenario_free(struct sim_scenario *s);

/* Index of the host / account / mail server (by its host's name) / device
 * named so, or -1. */
long sim_scenario_host(const struct sim_scenario *s, const char *name);
long sim_scenario_account(const struct sim_scenario *s, const char *address);
long sim_scenario_device(const struct sim_scenario *s, const char *name);

#endif
