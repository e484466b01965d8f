/* Where everything goes for a window size: the panels, each host's box, the
 * mailbox cards, the packet on a link and the timeline's ticks. Plain
 * arithmetic on rectangles, no SDL, so it can be tested for every size.
 *
 * Sizes follow the window: a scale of 1 is a 1920x1080 window, and text and
 * boxes grow and shrink with min(w/1920, h/1080) times the text size the
 * teacher picked with + and -.
 *
 * The network is drawn in bands, so that no link has to cross a box:
 *   top     the authoritative name servers, side by side
 *   middle  the resolver(s)
 *   bottom  senders' computers | the mail servers in lesson order | the
 *           recipients' devices, stacked
 * A band with no host is left out and the others share its room. */
#ifndef MAILSIM_RENDER_UI_LAYOUT_H
#define MAILSIM_RENDER_UI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "render/ui_lesson.h"

#define UI_BASE_W 1920
#define UI_BASE_H 1080
#define UI_MIN_W 1280          /* the smallest window the layout is made for */
#define UI_MIN_H 720
#define UI_TEXT_SCALE_MIN 0.5  /* what + and - can reach */
#define UI_TEXT_SCALE_MAX 2.5

struct ui_rect {
    int x, y, w, h;
};

enum ui_area {
    UI_AREA_NARRATION,  /* the lesson's text, across the top */
    UI_AREA_NETWORK,    /* hosts and links */
    UI_AREA_MAILBOXES,  /* one card per host that holds mail */
    UI_AREA_TRANSCRIPT, /* the dialogue, right */
    UI_AREA_EXPLAIN,    /* the current line's explanation, under it */
    UI_AREA_TIMELINE,   /* one tick per event, along the bottom */
    UI_AREA_COUNT
};

struct ui_layout {
    int    w, h;
    double scale;            /* 1.0 at 1920x1080 with the default text size */
    int    px_title, px_body, px_small, px_mono; /* font sizes in pixels */
    int    pad;              /* the gap between things */
    int    border;           /* a host box's edge */
    int    packet_h;         /* a packet label's height */
    int    packet_max_w;
    struct ui_rect area[UI_AREA_COUNT];
    size_t nhosts;
    struct ui_rect host[UI_HOSTS_MAX];
    size_t ncards;
    int    card_host[UI_HOSTS_MAX]; /* host index of each mailbox card */
    struct ui_rect card[UI_HOSTS_MAX];
};

/* Lays out lesson l in a w x h window with text_scale (1.0 = default;
 * clamped to UI_TEXT_SCALE_MIN..MAX). Sizes below 1x1 count as 1x1. */
void ui_layout_compute(struct ui_layout *lo, const struct ui_lesson *l, int w, int h,
                       double text_scale);

bool ui_rect_contains(struct ui_rect r, int x, int y);
bool ui_rect_overlap(struct ui_rect a, struct ui_rect b);

/* The ends of the link between hosts a and b (its route's first and last
 * points): on the edge of a's box and of b's. */
void ui_layout_link(const struct ui_layout *lo, int a, int b, int *ax, int *ay, int *bx,
                    int *by);

/* A link's drawn path: straight when the line between the two boxes
 * crosses no other host's box; else an orthogonal detour through a free
 * lane below (or above) the boxes in the way. Each end joins the lane
 * either from the middle of its box's bottom (top) edge or, when a box sits
 * right under (over) it, from its side through the gutter beside it. Either
 * way it starts on a's box and ends on b's, so a student sees which two
 * hosts talk; the shortest clear way with the fewest corners wins. */
#define UI_ROUTE_MAX 6 /* points: 2 straight, up to 3 from each end to the lane */
struct ui_route {
    int n;
    int x[UI_ROUTE_MAX], y[UI_ROUTE_MAX];
    int lane; /* index of the lane segment (level, touching no box), -1: straight */
};

void ui_layout_route(const struct ui_layout *lo, int a, int b, struct ui_route *r);

/* The point at fraction t (0..1, clamped) of r's length. */
void ui_route_point(const struct ui_route *r, double t, int *x, int *y);

/* Whether segment i (from point i to i + 1) of r passes through box. */
bool ui_route_segment_crosses(const struct ui_route *r, int i, struct ui_rect box);

/* Where a packet label label_w wide goes on the link from host `from` to
 * host `to` after progress 0..1 of its animation: it leaves the sender and
 * settles, at 1, on the middle of the link's route (along the detour when
 * there is one); *anchor_x, *anchor_y (either
 * may be NULL) get its point on the link. Where a box is in the way the
 * label stands off the link (up, down, and sideways by quarters of its
 * width, the nearest place that covers no box where it settles) and keeps
 * that offset on its way; its width is clamped to packet_max_w and it
 * stays inside the network. */
struct ui_rect ui_layout_packet(const struct ui_layout *lo, int from, int to, double progress,
                                int label_w, int *anchor_x, int *anchor_y);

/* The lock's square at the left end of a packet label (or link tag) r. */
struct ui_rect ui_layout_lock(const struct ui_layout *lo, struct ui_rect r);

/* The tag naming a connection's protocol and port, under the middle of its
 * link, or beside the middle of a detour's lane, on its outer side (further
 * off when a box is in the way), tag_w wide. */
struct ui_rect ui_layout_link_tag(const struct ui_layout *lo, int a, int b, int tag_w);

/* The timeline: the x of step's tick, and the step under x (nsteps > 0). */
int ui_layout_timeline_x(const struct ui_layout *lo, size_t nsteps, size_t step);
size_t ui_layout_timeline_step(const struct ui_layout *lo, size_t nsteps, int x);

/* The host whose box holds (x, y), or -1. */
int ui_layout_host_at(const struct ui_layout *lo, int x, int y);

#endif
