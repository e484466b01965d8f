/* The world as it stands after a step, rebuilt by replaying the trace: which
 * hosts are down, which ports blocked, which connections open (and under
 * TLS), every mailbox and device copy with its flags, each server's queue,
 * the narration, the packet on the wire and the dialogue it belongs to.
 *
 * A function of (lesson, step) and nothing else: ui_state_at() for step N
 * gives the same state whether it replays from the start or moves on from
 * an earlier step, so stepping back and forward draws the same frame. The
 * strings it points at are the trace's, valid while the lesson is. */
#ifndef MAILSIM_RENDER_UI_STATE_H
#define MAILSIM_RENDER_UI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/ui_lesson.h"

/* Bounds: a lesson is small, and what passes them is left out of the views
 * (never out of the trace). */
#define UI_CONNS_MAX 64     /* connections open at once */
#define UI_BLOCKS_MAX 64    /* firewall rules, all hosts together (8 per link) */
#define UI_MSGS_MAX 512     /* message copies held at once, servers and devices */
#define UI_QUEUE_MAX 64     /* messages waiting in the queues */
#define UI_QUEUE_ID_MAX 24  /* a queue id ("8E5025D89B") */
#define UI_DIALOGUE_MAX 48  /* lines the transcript panel can hold */
#define UI_SCAN_MAX 200000u /* events looked back through for the dialogue */

struct ui_conn {
    unsigned id;
    int      client, server; /* host indexes */
    unsigned port;
    enum sim_proto proto;    /* from its lines, else the port's convention */
    bool     tls;
};

struct ui_block {
    int      host;
    unsigned port;
    bool     outbound;       /* from the host to that port, else to the host */
};

struct ui_msg {
    int         owner;       /* host index */
    const char *account, *folder, *subject, *from;
    uint32_t    uid;
    unsigned    flags;       /* enum sim_flag bits */
    size_t      size;
    size_t      changed;     /* the step of its last change */
};

struct ui_queued {
    int  host;
    char id[UI_QUEUE_ID_MAX];
};

struct ui_state {
    const struct ui_lesson *lesson;
    bool   valid;            /* holds the state after `step` */
    size_t step;
    const struct sim_trace_event *ev; /* the event at step (NULL: empty trace) */

    /* replayed: events 0..step */
    bool   host_up[UI_HOSTS_MAX];
    bool   link_up[UI_HOSTS_MAX]; /* false: "link cut", the cable pulled */
    size_t nconns;
    struct ui_conn conns[UI_CONNS_MAX];
    size_t nblocks;
    struct ui_block blocks[UI_BLOCKS_MAX];
    size_t nmsgs;
    struct ui_msg msgs[UI_MSGS_MAX];      /* in the order they were added */
    size_t nqueue;
    struct ui_queued queue[UI_QUEUE_MAX];
    const char *narration;   /* the latest narration, "" before the first */
    size_t narration_step;
    /* The latest thing that happened to the story, for the narration bar's
     * "now" line: an action, a queue change, a fault or a mailbox change
     * (NULL before the first). */
    const struct sim_trace_event *latest;

    /* about the step itself */
    bool   has_packet;       /* a line or a datagram is on the wire */
    int    pk_from, pk_to;   /* host indexes of the packet's sender and receiver */
    bool   has_ghost;        /* the step removed a message: drawn struck out */
    struct ui_msg ghost;
    unsigned focus_conn;     /* the connection the transcript follows, 0: DNS or none */
    bool   focus_dns;        /* the transcript follows DNS datagrams */
    enum sim_proto focus_proto;
    size_t ndialogue;
    size_t dialogue[UI_DIALOGUE_MAX]; /* steps of its lines, oldest first, up to step */
};

/* Empties st and ties it to lesson l (borrowed). */
void ui_state_init(struct ui_state *st, const struct ui_lesson *l);

/* Makes st the state after step (clamped to the last step): moves on from
 * the state st holds when step is later, else replays from step 0. */
void ui_state_at(struct ui_state *st, size_t step);

/* The connection with id, or NULL. */
const struct ui_conn *ui_state_conn(const struct ui_state *st, unsigned id);

/* Whether host's port is blocked (either direction). */
bool ui_state_blocked(const struct ui_state *st, int host, unsigned port);

/* The next / previous step that shows something (every kind but STATE,
 * which only the transcript lists): from step, or step itself when there is
 * none further. */
size_t ui_state_next_exchange(const struct ui_lesson *l, size_t step);
size_t ui_state_prev_exchange(const struct ui_lesson *l, size_t step);

#endif
