/* The layout: rectangles for a window size. See ui_layout.h. */
#include "render/ui_layout.h"

#include <math.h>
#include <stdlib.h>

static int sc(const struct ui_layout *lo, double v)
{
    int r = (int)lround(v * lo->scale);
    return r < 1 ? 1 : r;
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

bool ui_rect_contains(struct ui_rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

bool ui_rect_overlap(struct ui_rect a, struct ui_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

enum band { BAND_NS, BAND_RESOLVER, BAND_MAIL, BAND_COUNT };

/* Columns of the bottom band: senders, then each mail server, then devices. */
static void place_column(struct ui_layout *lo, const int *hosts, size_t n, struct ui_rect cell,
                         int bw, int bh)
{
    for (size_t i = 0; i < n; i++) {
        int row_h = cell.h / (int)n;
        int cy = cell.y + row_h * (int)i + row_h / 2;
        int h = imin(bh, row_h * 4 / 5);
        int w = imin(bw, cell.w * 9 / 10);
        lo->host[hosts[i]] = (struct ui_rect){cell.x + (cell.w - w) / 2, cy - h / 2, w, h};
    }
}

static void place_row(struct ui_layout *lo, const int *hosts, size_t n, struct ui_rect band,
                      int bw, int bh)
{
    for (size_t i = 0; i < n; i++) {
        int col_w = band.w / (int)n;
        int cx = band.x + col_w * (int)i + col_w / 2;
        int w = imin(bw, col_w * 17 / 20);
        int h = imin(bh, band.h * 4 / 5);
        lo->host[hosts[i]] = (struct ui_rect){cx - w / 2, band.y + (band.h - h) / 2, w, h};
    }
}

static void place_hosts(struct ui_layout *lo, const struct ui_lesson *l)
{
    int ns[UI_HOSTS_MAX], res[UI_HOSTS_MAX], send[UI_HOSTS_MAX], mail[UI_HOSTS_MAX],
        dev[UI_HOSTS_MAX];
    size_t nns = 0, nres = 0, nsend = 0, nmail = 0, ndev = 0;
    for (size_t i = 0; i < l->nhosts; i++) {
        switch (l->hosts[i].role) {
        case SIM_ROLE_DNS_SERVER: ns[nns++] = (int)i; break;
        case SIM_ROLE_DNS_RESOLVER: res[nres++] = (int)i; break;
        case SIM_ROLE_COMPUTER:
        case SIM_ROLE_WEBMAIL: send[nsend++] = (int)i; break;
        case SIM_ROLE_MAIL_SERVER: mail[nmail++] = (int)i; break;
        case SIM_ROLE_LAPTOP:
        case SIM_ROLE_PHONE:
        case SIM_ROLE_COUNT: dev[ndev++] = (int)i; break;
        }
    }
    struct ui_rect net = lo->area[UI_AREA_NETWORK];
    /* Shares of the network's height: the bottom band holds the story. */
    double share[BAND_COUNT] = {nns ? 0.26 : 0, nres ? 0.22 : 0, 0.52};
    double total = share[0] + share[1] + share[2];
    int y = net.y;
    struct ui_rect band[BAND_COUNT];
    for (int b = 0; b < BAND_COUNT; b++) {
        int h = b == BAND_MAIL ? net.y + net.h - y : (int)(net.h * share[b] / total);
        band[b] = (struct ui_rect){net.x, y, net.w, h};
        y += h;
    }
    int bw = sc(lo, 248), bh = sc(lo, 132);
    place_row(lo, ns, nns, band[BAND_NS], bw, bh);
    place_row(lo, res, nres, band[BAND_RESOLVER], bw, bh);
    size_t ncols = (nsend ? 1 : 0) + nmail + (ndev ? 1 : 0);
    if (ncols == 0) return;
    int col_w = band[BAND_MAIL].w / (int)ncols;
    size_t col = 0;
    struct ui_rect cell = band[BAND_MAIL];
    cell.w = col_w;
    if (nsend) {
        cell.x = net.x + col_w * (int)col++;
        place_column(lo, send, nsend, cell, bw, bh);
    }
    for (size_t i = 0; i < nmail; i++) {
        cell.x = net.x + col_w * (int)col++;
        place_column(lo, &mail[i], 1, cell, bw, bh);
    }
    if (ndev) {
        cell.x = net.x + col_w * (int)col++;
        place_column(lo, dev, ndev, cell, bw, bh);
    }
}

void ui_layout_compute(struct ui_layout *lo, const struct ui_lesson *l, int w, int h,
                       double text_scale)
{
    *lo = (struct ui_layout){0};
    w = imax(w, 1);
    h = imax(h, 1);
    if (!(text_scale >= UI_TEXT_SCALE_MIN)) text_scale = UI_TEXT_SCALE_MIN;
    if (text_scale > UI_TEXT_SCALE_MAX) text_scale = UI_TEXT_SCALE_MAX;
    lo->w = w;
    lo->h = h;
    double fit = fmin((double)w / UI_BASE_W, (double)h / UI_BASE_H);
    lo->scale = fit * text_scale;
    lo->px_title = sc(lo, 30);
    lo->px_body = sc(lo, 22);
    lo->px_small = sc(lo, 19);
    lo->px_mono = sc(lo, 20);
    lo->pad = sc(lo, 12);
    lo->border = sc(lo, 3);
    lo->packet_h = lo->px_mono + 2 * sc(lo, 8);

    /* The panels follow the window (fit), not the text size: bigger text
     * means fewer lines in the same panels. */
    int narr_h = imin(h / 4, (int)lround(fit * 130 * fmax(1.0, text_scale)));
    int time_h = (int)lround(fit * 46);
    int side_w = (int)lround(w * 0.30);
    int mid_y = narr_h, mid_h = h - narr_h - time_h;
    int mail_h = (int)lround(mid_h * 0.27);
    lo->area[UI_AREA_NARRATION] = (struct ui_rect){0, 0, w, narr_h};
    lo->area[UI_AREA_TIMELINE] = (struct ui_rect){0, h - time_h, w, time_h};
    lo->area[UI_AREA_NETWORK] = (struct ui_rect){0, mid_y, w - side_w, mid_h - mail_h};
    lo->area[UI_AREA_MAILBOXES] =
        (struct ui_rect){0, mid_y + mid_h - mail_h, w - side_w, mail_h};
    int expl_h = (int)lround(mid_h * 0.30);
    lo->area[UI_AREA_TRANSCRIPT] = (struct ui_rect){w - side_w, mid_y, side_w, mid_h - expl_h};
    lo->area[UI_AREA_EXPLAIN] =
        (struct ui_rect){w - side_w, mid_y + mid_h - expl_h, side_w, expl_h};
    lo->packet_max_w = lo->area[UI_AREA_NETWORK].w * 9 / 20;

    lo->nhosts = l->nhosts;
    place_hosts(lo, l);

    struct ui_rect mb = lo->area[UI_AREA_MAILBOXES];
    for (size_t i = 0; i < l->nhosts; i++)
        if (l->hosts[i].holds_mail) lo->card_host[lo->ncards++] = (int)i;
    for (size_t i = 0; i < lo->ncards; i++) {
        int cw = (mb.w - lo->pad) / (int)lo->ncards;
        lo->card[i] = (struct ui_rect){mb.x + lo->pad + cw * (int)i, mb.y + lo->pad,
                                       cw - lo->pad, mb.h - 2 * lo->pad};
    }
}

static void centre(struct ui_rect r, double *x, double *y)
{
    *x = r.x + r.w / 2.0;
    *y = r.y + r.h / 2.0;
}

/* How far along the ray from r's centre (dx, dy) the ray leaves r. */
static double exit_t(struct ui_rect r, double dx, double dy)
{
    double tx = dx != 0 ? (r.w / 2.0) / fabs(dx) : INFINITY;
    double ty = dy != 0 ? (r.h / 2.0) / fabs(dy) : INFINITY;
    return fmin(tx, ty);
}

/* The straight link: from the edge of a's box to the edge of b's, along
 * the line between their centres. */
static void straight_link(const struct ui_layout *lo, int a, int b, struct ui_route *r)
{
    double x1, y1, x2, y2;
    centre(lo->host[a], &x1, &y1);
    centre(lo->host[b], &x2, &y2);
    double dx = x2 - x1, dy = y2 - y1;
    double ta = exit_t(lo->host[a], dx, dy), tb = exit_t(lo->host[b], -dx, -dy);
    if (ta + tb >= 1.0) { /* overlapping boxes: the centres will do */
        ta = 0;
        tb = 0;
    }
    r->n = 2;
    r->lane = -1;
    r->x[0] = (int)lround(x1 + dx * ta);
    r->y[0] = (int)lround(y1 + dy * ta);
    r->x[1] = (int)lround(x2 - dx * tb);
    r->y[1] = (int)lround(y2 - dy * tb);
}

bool ui_route_segment_crosses(const struct ui_route *r, int i, struct ui_rect box)
{
    if (i < 0 || i + 1 >= r->n || box.w <= 0 || box.h <= 0) return false;
    /* Liang-Barsky: clip the segment to the box; anything left crosses. */
    double x0 = r->x[i], y0 = r->y[i], dx = r->x[i + 1] - x0, dy = r->y[i + 1] - y0;
    double p[4] = {-dx, dx, -dy, dy};
    double q[4] = {x0 - box.x, box.x + box.w - x0, y0 - box.y, box.y + box.h - y0};
    double t0 = 0, t1 = 1;
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0) {
            if (q[k] < 0) return false; /* parallel and outside */
            continue;
        }
        double t = q[k] / p[k];
        if (p[k] < 0) t0 = fmax(t0, t);
        else t1 = fmin(t1, t);
        if (t0 > t1) return false;
    }
    return true;
}

/* Whether r keeps clear (by margin m) of every box but its own ends': the
 * first segment may touch a's box, the last b's. */
static bool route_clear(const struct ui_layout *lo, const struct ui_route *r, int a, int b,
                        int m)
{
    for (int i = 0; i + 1 < r->n; i++) {
        for (size_t h = 0; h < lo->nhosts; h++) {
            if (((int)h == a && i == 0) || ((int)h == b && i == r->n - 2)) continue;
            struct ui_rect box = lo->host[h];
            struct ui_rect g = {box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m};
            if (ui_route_segment_crosses(r, i, g)) return false;
        }
    }
    return true;
}

/* How a detour leaves (or enters) an end's box: by the middle of its edge
 * facing the lane, or by its side facing the other end, along the gutter
 * beside it to the lane (for a box with another box right above or below
 * it, such as the senders' column). */
enum end_mode { END_EDGE, END_SIDE };

/* More than any route's length in pixels (a 16k window's perimeter), so
 * that a route with fewer corners always wins. */
#define ROUTE_BEND_COST 100000

/* The x of the gutter beside box h on side dir (+1 right, -1 left): half
 * way to the nearest box that way, or a packet's height off when none. */
static int gutter_x(const struct ui_layout *lo, int h, int dir)
{
    struct ui_rect r = lo->host[h];
    int edge = dir > 0 ? r.x + r.w : r.x, best = -1;
    for (size_t i = 0; i < lo->nhosts; i++) {
        struct ui_rect o = lo->host[i];
        int d = dir > 0 ? o.x - edge : edge - (o.x + o.w);
        if ((int)i != h && d >= 0 && (best < 0 || d < best)) best = d;
    }
    int off = best < 0 ? lo->packet_h : best / 2;
    return edge + dir * off;
}

/* The points from host h to the lane (or, reversed, from the lane into it). */
static int end_points(const struct ui_layout *lo, int h, enum end_mode mode, int side, int dir,
                      int lane, int *x, int *y)
{
    struct ui_rect r = lo->host[h];
    int cx = r.x + r.w / 2, cy = r.y + r.h / 2;
    if (mode == END_EDGE) {
        x[0] = cx, y[0] = side > 0 ? r.y + r.h : r.y;
        x[1] = cx, y[1] = lane;
        return 2;
    }
    int gx = gutter_x(lo, h, dir);
    x[0] = dir > 0 ? r.x + r.w : r.x, y[0] = cy;
    x[1] = gx, y[1] = cy;
    x[2] = gx, y[2] = lane;
    return 3;
}

/* The shortest clear detour with these ends on one side (+1 below, -1
 * above): the lane starts a packet's height beyond the edges it leaves
 * from and moves outwards until nothing but the ends is in the way. Its
 * cost: first its corners (fewer read more easily: the plain U round a
 * box whenever there is room for it), then its length; -1 when that side
 * has no clear lane. */
static int detour(const struct ui_layout *lo, int a, int b, enum end_mode ma, enum end_mode mb,
                  int side, int m, struct ui_route *r)
{
    struct ui_rect A = lo->host[a], B = lo->host[b], net = lo->area[UI_AREA_NETWORK];
    int acx = A.x + A.w / 2, bcx = B.x + B.w / 2;
    int dir = bcx > acx ? 1 : bcx < acx ? -1 : side; /* side: any, but fixed */
    int gap = imax(lo->packet_h, 2 * lo->pad), step = imax(lo->pad / 2, 1);
    int ra = ma == END_EDGE ? (side > 0 ? A.y + A.h + gap : A.y - gap) : A.y + A.h / 2;
    int rb = mb == END_EDGE ? (side > 0 ? B.y + B.h + gap : B.y - gap) : B.y + B.h / 2;
    int lane = side > 0 ? imax(ra, rb) : imin(ra, rb);
    for (; lane >= net.y + m && lane <= net.y + net.h - m; lane += side * step) {
        int xa[3], ya[3], xb[3], yb[3];
        int na = end_points(lo, a, ma, side, dir, lane, xa, ya);
        int nb = end_points(lo, b, mb, side, -dir, lane, xb, yb);
        r->n = na + nb;
        for (int i = 0; i < na; i++) r->x[i] = xa[i], r->y[i] = ya[i];
        for (int i = 0; i < nb; i++) r->x[na + i] = xb[nb - 1 - i], r->y[na + i] = yb[nb - 1 - i];
        r->lane = na - 1;
        if (!route_clear(lo, r, a, b, m)) continue;
        int cost = ROUTE_BEND_COST * (r->n - 2);
        for (int i = 0; i + 1 < r->n; i++)
            cost += abs(r->x[i + 1] - r->x[i]) + abs(r->y[i + 1] - r->y[i]);
        return cost;
    }
    return -1;
}

void ui_layout_route(const struct ui_layout *lo, int a, int b, struct ui_route *r)
{
    straight_link(lo, a, b, r);
    /* The drawn line is about 5 px thick at scale 1: keep it that far and a
     * little more off the other boxes. */
    int m = sc(lo, 6);
    if (a == b || route_clear(lo, r, a, b, m)) return;
    /* Every way round, the cheapest wins; on a tie the first: below before
     * above (the lane under a row is free, above it run the links to the
     * resolver), edges before sides. No clear way at all (a crowded
     * window): the straight line stays. */
    static const int sides[] = {+1, -1};
    static const enum end_mode modes[][2] = {
        {END_EDGE, END_EDGE}, {END_SIDE, END_EDGE}, {END_EDGE, END_SIDE}, {END_SIDE, END_SIDE}};
    int best = -1;
    for (size_t s = 0; s < 2; s++)
        for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
            struct ui_route t;
            int cost = detour(lo, a, b, modes[k][0], modes[k][1], sides[s], m, &t);
            if (cost >= 0 && (best < 0 || cost < best)) {
                best = cost;
                *r = t;
            }
        }
}

void ui_route_point(const struct ui_route *r, double t, int *x, int *y)
{
    if (!(t >= 0)) t = 0;
    if (t > 1) t = 1;
    double len = 0;
    for (int i = 0; i + 1 < r->n; i++)
        len += hypot(r->x[i + 1] - r->x[i], r->y[i + 1] - r->y[i]);
    double want = len * t;
    for (int i = 0; i + 1 < r->n; i++) {
        double dx = r->x[i + 1] - r->x[i], dy = r->y[i + 1] - r->y[i], seg = hypot(dx, dy);
        if (want <= seg || i + 2 == r->n) {
            double f = seg > 0 ? fmin(want / seg, 1.0) : 0;
            *x = (int)lround(r->x[i] + dx * f);
            *y = (int)lround(r->y[i] + dy * f);
            return;
        }
        want -= seg;
    }
    *x = r->n ? r->x[0] : 0;
    *y = r->n ? r->y[0] : 0;
}

void ui_layout_link(const struct ui_layout *lo, int a, int b, int *ax, int *ay, int *bx,
                    int *by)
{
    struct ui_route r;
    ui_layout_route(lo, a, b, &r);
    *ax = r.x[0];
    *ay = r.y[0];
    *bx = r.x[r.n - 1];
    *by = r.y[r.n - 1];
}

static struct ui_rect keep_inside(struct ui_rect r, struct ui_rect in)
{
    if (r.x + r.w > in.x + in.w) r.x = in.x + in.w - r.w;
    if (r.y + r.h > in.y + in.h) r.y = in.y + in.h - r.h;
    if (r.x < in.x) r.x = in.x;
    if (r.y < in.y) r.y = in.y;
    return r;
}

/* Whether r overlaps any host's box (with a margin) or leaves the network. */
static bool blocked_at(const struct ui_layout *lo, struct ui_rect r)
{
    struct ui_rect net = lo->area[UI_AREA_NETWORK];
    if (r.y < net.y || r.y + r.h > net.y + net.h) return true;
    int m = sc(lo, 4);
    struct ui_rect grown = {r.x - m, r.y - m, r.w + 2 * m, r.h + 2 * m};
    for (size_t i = 0; i < lo->nhosts; i++)
        if (ui_rect_overlap(grown, lo->host[i])) return true;
    return false;
}

/* How far r must move to cover no box, kept inside the network: the
 * cheapest clear place among moves up or down in small steps, each also
 * slid sideways by a quarter, a half or three quarters of its width
 * (sliding costs half as much as rising); {0, 0} when none is clear. */
static void clear_offset(const struct ui_layout *lo, struct ui_rect r, int *dx, int *dy)
{
    struct ui_rect net = lo->area[UI_AREA_NETWORK];
    int step = imax(lo->packet_h / 4, 1);
    const int slides[] = {0, -1, 1, -2, 2, -3, 3};
    int best = -1;
    *dx = *dy = 0;
    for (int k = -net.h / step; k <= net.h / step; k++) {
        for (size_t i = 0; i < sizeof slides / sizeof slides[0]; i++) {
            int mx = slides[i] * r.w / 4, my = k * step;
            int cost = abs(my) + abs(mx) / 2;
            if (best >= 0 && cost >= best) continue;
            struct ui_rect t = keep_inside((struct ui_rect){r.x + mx, r.y + my, r.w, r.h}, net);
            if (blocked_at(lo, t)) continue;
            best = cost;
            *dx = t.x - r.x;
            *dy = t.y - r.y;
        }
    }
}

static void along(const struct ui_layout *lo, int from, int to, double t, int *x, int *y)
{
    struct ui_route r;
    ui_layout_route(lo, from, to, &r);
    ui_route_point(&r, t, x, y);
}

/* The packet's point on the link: it leaves the sender quickly and slows
 * into the middle (ease out). */
static double packet_t(double progress)
{
    if (!(progress >= 0)) progress = 0;
    if (progress > 1) progress = 1;
    double e = 1 - (1 - progress) * (1 - progress);
    return 0.08 + 0.42 * e;
}

struct ui_rect ui_layout_packet(const struct ui_layout *lo, int from, int to, double progress,
                                int label_w, int *anchor_x, int *anchor_y)
{
    int w = imax(imin(label_w, lo->packet_max_w), lo->packet_h);
    struct ui_rect net = lo->area[UI_AREA_NETWORK];
    /* Where it settles decides how far the label stands off the link, so
     * that it covers no host's name; it keeps that offset on its way. */
    int sx, sy;
    along(lo, from, to, packet_t(1), &sx, &sy);
    struct ui_rect settled = {sx - w / 2, sy - lo->packet_h / 2, w, lo->packet_h};
    settled = keep_inside(settled, net);
    int dx, dy;
    clear_offset(lo, settled, &dx, &dy);
    dx += settled.x - (sx - w / 2);
    dy += settled.y - (sy - lo->packet_h / 2);
    int cx, cy;
    along(lo, from, to, packet_t(progress), &cx, &cy);
    if (anchor_x) *anchor_x = cx;
    if (anchor_y) *anchor_y = cy;
    struct ui_rect r = {cx - w / 2 + dx, cy - lo->packet_h / 2 + dy, w, lo->packet_h};
    return keep_inside(r, net);
}

struct ui_rect ui_layout_lock(const struct ui_layout *lo, struct ui_rect r)
{
    int inset = sc(lo, 5);
    int s = r.h - 2 * inset;
    return (struct ui_rect){r.x + inset + sc(lo, 2), r.y + inset, s, s};
}

struct ui_rect ui_layout_link_tag(const struct ui_layout *lo, int a, int b, int tag_w)
{
    struct ui_route rt;
    ui_layout_route(lo, a, b, &rt);
    int h = lo->px_small + 2 * sc(lo, 6);
    int off = lo->packet_h / 2 + sc(lo, 4);
    /* Off the line, so the packet (centred on it) never hides the tag, and
     * clear of the boxes: under a straight link; beside a detour's lane, on
     * the side away from the boxes it goes round, where the room is. */
    int cx, cy, y;
    if (rt.lane >= 0) {
        int i = rt.lane;
        cx = (rt.x[i] + rt.x[i + 1]) / 2;
        cy = rt.y[i];
        bool below = cy > lo->host[a].y + lo->host[a].h / 2;
        y = below ? cy + off : cy - off - h;
    } else {
        cx = (rt.x[0] + rt.x[rt.n - 1]) / 2;
        cy = (rt.y[0] + rt.y[rt.n - 1]) / 2;
        y = cy + off;
    }
    struct ui_rect r = {cx - tag_w / 2, y, tag_w, h};
    r = keep_inside(r, lo->area[UI_AREA_NETWORK]);
    int dx, dy;
    clear_offset(lo, r, &dx, &dy);
    r.x += dx;
    r.y += dy;
    return r;
}

int ui_layout_timeline_x(const struct ui_layout *lo, size_t nsteps, size_t step)
{
    struct ui_rect r = lo->area[UI_AREA_TIMELINE];
    int x0 = r.x + lo->pad, span = r.w - 2 * lo->pad;
    if (nsteps <= 1) return x0;
    if (step >= nsteps) step = nsteps - 1;
    return x0 + (int)((double)span * (double)step / (double)(nsteps - 1));
}

size_t ui_layout_timeline_step(const struct ui_layout *lo, size_t nsteps, int x)
{
    struct ui_rect r = lo->area[UI_AREA_TIMELINE];
    int x0 = r.x + lo->pad, span = r.w - 2 * lo->pad;
    if (nsteps <= 1 || x <= x0 || span <= 0) return 0;
    double f = (double)(x - x0) / span;
    size_t s = (size_t)lround(f * (double)(nsteps - 1));
    return s >= nsteps ? nsteps - 1 : s;
}

int ui_layout_host_at(const struct ui_layout *lo, int x, int y)
{
    for (size_t i = 0; i < lo->nhosts; i++)
        if (ui_rect_contains(lo->host[i], x, y)) return (int)i;
    return -1;
}
