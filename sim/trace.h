/* The trace: the append-only record of everything that happened in a run.
 * It is the contract between sim/ and render/: a view is a function of
 * (trace, step), and never looks at the engine. Every event carries its
 * simulated time, who sent it to whom on which port, and a plain-language
 * note the lessons narrate.
 *
 * Strings handed to sim_trace_add() are copied into the trace; the pointers
 * in the events it hands out stay valid until sim_trace_free(). */
#ifndef MAILSIM_SIM_TRACE_H
#define MAILSIM_SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/eventq.h"

/* What an event is about. Names (sim_proto_names) are what `--json` prints. */
enum sim_proto {
    SIM_PROTO_TCP,   /* connections opened, refused, closed */
    SIM_PROTO_SMTP,
    SIM_PROTO_IMAP,
    SIM_PROTO_POP3,
    SIM_PROTO_DNS,
    SIM_PROTO_TLS,   /* handshakes: the link becomes protected */
    SIM_PROTO_STORE, /* a mailbox or a device's local copy changed */
    SIM_PROTO_QUEUE, /* the MTA's queue: queued, retry, delivered, bounced */
    SIM_PROTO_SIM,   /* the lesson's timeline: actions and faults */
    SIM_PROTO_COUNT
};
extern const char *const sim_proto_names[SIM_PROTO_COUNT];

enum sim_trace_kind {
    SIM_TR_ACTION,  /* a timeline action begins ("manish sends a message") */
    SIM_TR_FAULT,   /* a server goes down or up, a port is blocked, ... */
    SIM_TR_CONNECT, /* a connection is established */
    SIM_TR_REFUSED, /* a connection attempt failed (refused, blocked, down) */
    SIM_TR_CLOSE,   /* a connection closed */
    SIM_TR_LINE,    /* one protocol line, text verbatim without its CRLF */
    SIM_TR_TLS,     /* a TLS handshake completed on a connection */
    SIM_TR_DNS,     /* a DNS query (c2s) or answer (s2c), text in dig style */
    SIM_TR_STATE,   /* a session's state change, text "from -> to" */
    SIM_TR_MAIL,    /* a message added, flagged or removed (see mail) */
    SIM_TR_QUEUE,   /* a queue change: queued, deferred, delivered, bounced */
    SIM_TR_KIND_COUNT
};
extern const char *const sim_trace_kind_names[SIM_TR_KIND_COUNT];

enum sim_dir {
    SIM_DIR_NONE, /* not a transfer between two endpoints */
    SIM_DIR_C2S,  /* client to server */
    SIM_DIR_S2C,  /* server to client */
    SIM_DIR_COUNT
};
extern const char *const sim_dir_names[SIM_DIR_COUNT]; /* "", "c2s", "s2c" */

/* What happened to a message, for SIM_TR_MAIL: enough to rebuild every
 * mailbox and every device's local copy at any step by replaying. */
enum sim_mail_change {
    SIM_MAIL_ADDED,   /* stored in a folder (delivery, APPEND, COPY, download) */
    SIM_MAIL_FLAGS,   /* its flags are now `flags` */
    SIM_MAIL_REMOVED, /* expunged, deleted by POP3, or dropped from a device */
    SIM_MAIL_CHANGE_COUNT
};
extern const char *const sim_mail_change_names[SIM_MAIL_CHANGE_COUNT];

/* What a SIM_TR_FAULT changed, so a view can show it without reading the
 * text (which is for people). SIM_FAULT_OTHER: anything else (the text
 * says what). */
enum sim_fault {
    SIM_FAULT_OTHER,
    SIM_FAULT_HOST_DOWN,
    SIM_FAULT_HOST_UP,
    SIM_FAULT_PORT_BLOCKED, /* port, outbound: a firewall rule added */
    SIM_FAULT_PORT_OPEN,    /* port, outbound: that rule removed */
    SIM_FAULT_LINK_CUT,
    SIM_FAULT_LINK_RESTORED,
    SIM_FAULT_COUNT
};
extern const char *const sim_fault_names[SIM_FAULT_COUNT];

/* Message flags (RFC 3501 2.3.2 system flags), as a bit set. */
enum sim_flag {
    SIM_FLAG_SEEN = 1u << 0,
    SIM_FLAG_ANSWERED = 1u << 1,
    SIM_FLAG_FLAGGED = 1u << 2,
    SIM_FLAG_DELETED = 1u << 3,
    SIM_FLAG_DRAFT = 1u << 4,
    SIM_FLAG_RECENT = 1u << 5,
};

struct sim_trace_mail {
    enum sim_mail_change change;
    const char *owner;   /* the host that holds the copy: a server or a device */
    const char *account; /* "friend@example.org" */
    const char *folder;  /* "INBOX", "Sent", ... */
    uint32_t    uid;     /* the message's UID in that folder (or the device's id) */
    unsigned    flags;   /* enum sim_flag bits after the change */
    size_t      size;    /* octets */
    const char *subject; /* for the mailbox panels */
    const char *from;    /* the From: address, for the mailbox panels */
};

/* One event. Unused strings are "" (never NULL); unused numbers are 0. */
struct sim_trace_event {
    size_t   step;       /* its index in the trace, from 0 */
    sim_time t;          /* simulated microseconds: when it happened or was sent */
    sim_time arrive;     /* LINE and DNS: when the bytes reached the other end */
    enum sim_trace_kind kind;
    enum sim_proto proto;
    const char *from;    /* the host that acted or sent */
    const char *to;      /* the host it went to ("" for a local change) */
    unsigned port;       /* the server's port of the connection, 0 when none */
    enum sim_dir dir;
    unsigned conn;       /* connection number, 0 when none */
    bool     tls;        /* the bytes crossed the link inside TLS */
    size_t   wire_bytes; /* octets on the wire, line ending included */
    const char *text;    /* the exact line, or what happened in brief */
    const char *note;    /* the plain-language explanation for students */
    struct sim_trace_mail mail; /* SIM_TR_MAIL only */
    enum sim_fault fault;  /* SIM_TR_FAULT: what changed on host `from` */
    bool     outbound;     /* PORT_BLOCKED/OPEN: the rule is on connections
                              the host opens (else on those it receives) */
};

struct sim_trace;

/* A new empty trace, or NULL when out of memory. */
struct sim_trace *sim_trace_new(void);
void sim_trace_free(struct sim_trace *tr);

/* Appends a copy of *ev (its strings copied; NULL strings become ""; step is
 * set by the trace). Returns the new event's step, or -1 when memory ran out
 * or the trace already holds SIM_TRACE_MAX events. */
#define SIM_TRACE_MAX 20000000u
long sim_trace_add(struct sim_trace *tr, const struct sim_trace_event *ev);

size_t sim_trace_len(const struct sim_trace *tr);

/* The event at step (borrowed until sim_trace_free), or NULL past the end. */
const struct sim_trace_event *sim_trace_get(const struct sim_trace *tr, size_t step);

/* ---- additions: observing and summarising (for long runs: mailsim compare) */

/* Called for every event handed to sim_trace_add(), kept or not, with its
 * step set to the step it has (or would have had); the event and its
 * strings are borrowed for the call only. One observer per trace. */
typedef void (*sim_trace_observer_fn)(void *ctx, const struct sim_trace_event *ev);
void sim_trace_observe(struct sim_trace *tr, sim_trace_observer_fn fn, void *ctx);

/* Keeps only events whose kind is in mask (bit 1u << enum sim_trace_kind);
 * the others are shown to the observer and counted, then dropped. A year of
 * simulated mail is tens of millions of lines: a run that only needs its
 * numbers keeps none of them. Default: every kind
 * (SIM_TRACE_KEEP_ALL). */
#define SIM_TRACE_KEEP_ALL ((1u << SIM_TR_KIND_COUNT) - 1u)
void sim_trace_keep(struct sim_trace *tr, unsigned mask);

/* Whether events of kind are kept. A module may skip work that only makes
 * a dropped event's text (a note that needs a second parse), so the
 * observer may see "" there. */
bool sim_trace_keeps(const struct sim_trace *tr, enum sim_trace_kind kind);

/* Events handed to sim_trace_add() so far, kept or dropped. */
size_t sim_trace_total(const struct sim_trace *tr);

#endif
