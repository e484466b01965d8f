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

void ui_layout_link(const struct ui_layout *lo, int a, int b, int *ax, int *ay, int *bx,
                    int *by)
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
    *ax = (int)lround(x1 + dx * ta);
    *ay = (int)lround(y1 + dy * ta);
    *bx = (int)lround(x2 - dx * tb);
    *by = (int)lround(y2 - dy * tb);
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
    int ax, ay, bx, by;
    ui_layout_link(lo, from, to, &ax, &ay, &bx, &by);
    *x = (int)lround(ax + (bx - ax) * t);
    *y = (int)lround(ay + (by - ay) * t);
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
    int ax, ay, bx, by;
    ui_layout_link(lo, a, b, &ax, &ay, &bx, &by);
    int h = lo->px_small + 2 * sc(lo, 6);
    int cx = (ax + bx) / 2, cy = (ay + by) / 2;
    /* Off the line, so the packet (centred on it) never hides the tag, and
     * clear of the boxes. */
    struct ui_rect r = {cx - tag_w / 2, cy + lo->packet_h / 2 + sc(lo, 4), tag_w, h};
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
