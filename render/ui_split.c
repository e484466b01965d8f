/* The split view's model and layout; see ui_split.h. */
#include "render/ui_split.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEVER UINT64_MAX /* a device that never had the message */

struct ui_split {
    const struct sim_compare *c;
    size_t   devices, nmsgs, points;
    sim_time *first[SIM_CMP_SIDE_COUNT]; /* [d * nmsgs + m]: when device d first had m */
};

/* "#N ..." -> N, or -1 (the comparison's Subject lines, sim/compare.h). */
static long msg_number(const char *subject)
{
    if (!subject || subject[0] != '#' || subject[1] < '0' || subject[1] > '9') return -1;
    long n = 0;
    for (const char *p = subject + 1; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > (long)UI_SPLIT_MSGS_MAX) return -1;
    }
    return n;
}

/* Replays side's trace: the first time each device had each message in
 * its INBOX (a download, or an IMAP fetch of what is new). */
static void replay(struct ui_split *s, enum sim_compare_side side)
{
    const struct sim_trace *tr = sim_compare_trace(s->c, side);
    size_t n = sim_trace_len(tr);
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_event *ev = sim_trace_get(tr, i);
        if (ev->kind != SIM_TR_MAIL || ev->mail.change != SIM_MAIL_ADDED ||
            strcmp(ev->mail.folder, "INBOX") != 0)
            continue;
        long m = msg_number(ev->mail.subject);
        if (m < 0 || (size_t)m >= s->nmsgs) continue;
        for (size_t d = 0; d < s->devices; d++) {
            if (strcmp(ev->mail.owner, sim_compare_device_name(s->c, d)) != 0) continue;
            sim_time *f = &s->first[side][d * s->nmsgs + (size_t)m];
            if (*f == NEVER) *f = ev->t;
        }
    }
}

struct ui_split *ui_split_new(const struct sim_compare *c, char *err, size_t cap)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    size_t nmsgs = sim_compare_messages(c);
    if (!p->keep_trace) {
        snprintf(err, cap, "the split view needs the runs' traces (keep_trace)");
        return NULL;
    }
    if (nmsgs > UI_SPLIT_MSGS_MAX) {
        snprintf(err, cap, "the split view shows at most %u messages, one grid cell each; this "
                           "run has %zu (fewer --days or --per-day, or --plot for a chart)",
                 UI_SPLIT_MSGS_MAX, nmsgs);
        return NULL;
    }
    struct ui_split *s = calloc(1, sizeof *s);
    if (!s) goto oom;
    s->c = c;
    s->devices = p->devices;
    s->nmsgs = nmsgs;
    size_t na, nb;
    sim_compare_samples(c, SIM_CMP_IMAP, &na);
    sim_compare_samples(c, SIM_CMP_POP3, &nb);
    s->points = na < nb ? na : nb;
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++) {
        size_t cells = s->devices * (nmsgs ? nmsgs : 1);
        s->first[side] = malloc(cells * sizeof *s->first[side]);
        if (!s->first[side]) goto oom;
        for (size_t i = 0; i < cells; i++) s->first[side][i] = NEVER;
        replay(s, (enum sim_compare_side)side);
    }
    return s;
oom:
    ui_split_free(s);
    snprintf(err, cap, "out of memory");
    return NULL;
}

void ui_split_free(struct ui_split *s)
{
    if (!s) return;
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++) free(s->first[side]);
    free(s);
}

const struct sim_compare *ui_split_compare(const struct ui_split *s) { return s->c; }
size_t ui_split_points(const struct ui_split *s) { return s->points; }
size_t ui_split_messages(const struct ui_split *s) { return s->nmsgs; }

const struct sim_compare_measures *ui_split_measures(const struct ui_split *s,
                                                     enum sim_compare_side side, size_t k)
{
    size_t n;
    const struct sim_compare_measures *m = sim_compare_samples(s->c, side, &n);
    if (!m || n == 0) return sim_compare_final(s->c, side);
    if (k >= s->points) k = s->points ? s->points - 1 : 0;
    return &m[k];
}

size_t ui_split_arrived(const struct ui_split *s, size_t k)
{
    const struct sim_compare_measures *m = ui_split_measures(s, SIM_CMP_IMAP, k);
    size_t n = m->delivered + m->refused; /* in order of arrival: #0 first */
    return n < s->nmsgs ? n : s->nmsgs;
}

bool ui_split_seen(const struct ui_split *s, enum sim_compare_side side, size_t d, size_t m,
                   size_t k)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT || d >= s->devices || m >= s->nmsgs) return false;
    sim_time f = s->first[side][d * s->nmsgs + m];
    return f != NEVER && f <= ui_split_measures(s, side, k)->t;
}

bool ui_split_cell_diverges(const struct ui_split *s, enum sim_compare_side side, size_t d,
                            size_t m, size_t k)
{
    enum sim_compare_side other = side == SIM_CMP_IMAP ? SIM_CMP_POP3 : SIM_CMP_IMAP;
    return !ui_split_seen(s, side, d, m, k) && ui_split_seen(s, other, d, m, k);
}

bool ui_split_row_used(const struct ui_split *s, enum ui_split_row row)
{
    if (row >= UI_SPLIT_ROW_DEVICE && row < UI_SPLIT_ROW_BYTES)
        return (size_t)(row - UI_SPLIT_ROW_DEVICE) < s->devices;
    return row < UI_SPLIT_ROW_COUNT;
}

char *ui_split_row_label(const struct ui_split *s, enum ui_split_row row, char *out, size_t cap)
{
    if (row == UI_SPLIT_ROW_SERVER)
        snprintf(out, cap, "messages on the server");
    else if (row == UI_SPLIT_ROW_BYTES)
        snprintf(out, cap, "octets on the wire");
    else if (row == UI_SPLIT_ROW_CONNECTIONS)
        snprintf(out, cap, "connections made");
    else if (ui_split_row_used(s, row))
        snprintf(out, cap, "messages on the %s",
                 sim_compare_device_name(s->c, (size_t)(row - UI_SPLIT_ROW_DEVICE)));
    else
        snprintf(out, cap, "%s", "");
    return out;
}

/* The number behind a row. */
static uint64_t row_number(const struct ui_split *s, enum sim_compare_side side,
                           enum ui_split_row row, size_t k)
{
    const struct sim_compare_measures *m = ui_split_measures(s, side, k);
    if (row == UI_SPLIT_ROW_SERVER) return m->server_msgs;
    if (row == UI_SPLIT_ROW_BYTES) return m->bytes;
    if (row == UI_SPLIT_ROW_CONNECTIONS) return m->connections;
    if (ui_split_row_used(s, row)) return m->device_msgs[row - UI_SPLIT_ROW_DEVICE];
    return 0;
}

/* 36500 -> "36,500": the back row reads grouped digits. */
static void grouped(uint64_t n, char *out, size_t cap)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%" PRIu64, n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = raw[i];
    }
    out[o] = 0;
}

char *ui_split_row_value(const struct ui_split *s, enum sim_compare_side side,
                         enum ui_split_row row, size_t k, char *out, size_t cap)
{
    uint64_t v = row_number(s, side, row, k);
    if (!ui_split_row_used(s, row)) {
        snprintf(out, cap, "%s", "");
    } else if (row == UI_SPLIT_ROW_BYTES && v >= 1024) {
        /* binary units, one decimal: "224.5 KiB", "3.1 MiB" */
        static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
        double x = (double)v / 1024.0;
        size_t u = 0;
        while (x >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
            x /= 1024.0;
            u++;
        }
        snprintf(out, cap, "%.1f %s", x, units[u]);
    } else {
        grouped(v, out, cap);
    }
    return out;
}

bool ui_split_row_diverges(const struct ui_split *s, enum ui_split_row row, size_t k)
{
    /* the octets and connections are what each side costs, and always
     * differ; the messages are where the sides tell different stories */
    if (row == UI_SPLIT_ROW_BYTES || row == UI_SPLIT_ROW_CONNECTIONS) return false;
    return ui_split_row_used(s, row) &&
           row_number(s, SIM_CMP_IMAP, row, k) != row_number(s, SIM_CMP_POP3, row, k);
}

char *ui_split_when(const struct ui_split *s, size_t k, char *out, size_t cap)
{
    uint64_t min = ui_split_measures(s, SIM_CMP_IMAP, k)->t / SIM_SEC(60);
    snprintf(out, cap, "day %" PRIu64 ", %02u:%02u", min / (24 * 60) + 1,
             (unsigned)(min / 60 % 24), (unsigned)(min % 60));
    return out;
}

/* ---- layout ------------------------------------------------------------------ */

static int sc(const struct ui_split_layout *lo, double v)
{
    int r = (int)lround(v * lo->scale);
    return r < 1 ? 1 : r;
}

static int imax(int a, int b) { return a > b ? a : b; }

/* A line's height for text of px pixels (DejaVu's line skip and a little). */
static int line_h(int px) { return px * 6 / 5 + 2; }

/* The grid: the largest cells (up to 28 px at 1920x1080) with which every
 * message fits in blocks of `devices` rows, one block under the other; at
 * the smallest cells, the first messages that fit. */
static void place_grid(struct ui_split_layout *lo, const struct ui_split *s, struct ui_rect g)
{
    size_t n = s->nmsgs, dev = s->devices ? s->devices : 1;
    int gap = sc(lo, 8);
    lo->block_gap = gap;
    int room = g.w - lo->names_w;
    int cell = sc(lo, 28), min_cell = imax(3, sc(lo, 4));
    for (; cell >= min_cell; cell--) {
        int cols = room / cell;
        if (cols < 1) continue;
        size_t blocks = n ? (n + (size_t)cols - 1) / (size_t)cols : 1;
        if ((int)blocks * ((int)dev * cell + gap) <= g.h) break;
    }
    if (cell < min_cell) cell = min_cell;
    int cols = imax(1, room / cell);
    int fit = imax(1, g.h / ((int)dev * cell + gap));
    size_t need = n ? (n + (size_t)cols - 1) / (size_t)cols : 1;
    lo->cell = cell;
    lo->cols = cols;
    lo->blocks = need < (size_t)fit ? need : (size_t)fit;
    lo->shown = lo->blocks * (size_t)cols < n ? lo->blocks * (size_t)cols : n;
}

void ui_split_layout_compute(struct ui_split_layout *lo, const struct ui_split *s, int w, int h)
{
    memset(lo, 0, sizeof *lo);
    w = imax(w, 1);
    h = imax(h, 1);
    lo->w = w;
    lo->h = h;
    lo->scale = fmin((double)w / UI_BASE_W, (double)h / UI_BASE_H);
    lo->px_title = sc(lo, 30);
    lo->px_body = sc(lo, 24);
    lo->px_small = sc(lo, 19);
    lo->pad = sc(lo, 12);
    int pad = lo->pad;
    lo->title = (struct ui_rect){0, 0, w, line_h(lo->px_title) + line_h(lo->px_small) + 2 * pad};
    int time_h = sc(lo, 46);
    lo->timeline = (struct ui_rect){0, h - time_h, w, time_h};
    int top = lo->title.h + pad, bottom = lo->timeline.y - pad;
    int half = (w - 3 * pad) / 2;
    /* device names: at most 10 characters ("old-laptop") of the small face */
    lo->names_w = lo->px_small * 6 + pad;
    for (int side = 0; side < SIM_CMP_SIDE_COUNT; side++) {
        struct ui_split_side_layout *sl = &lo->side[side];
        sl->box = (struct ui_rect){pad + side * (half + pad), top, half, imax(bottom - top, 1)};
        int in = pad, x = sl->box.x + in, iw = sl->box.w - 2 * in;
        int y = sl->box.y + in;
        sl->heading = (struct ui_rect){x, y, iw, line_h(lo->px_title)};
        y += sl->heading.h + pad;
        int rh = line_h(lo->px_body) + sc(lo, 6);
        int value_w = iw * 2 / 7;
        for (int r = 0; r < UI_SPLIT_ROW_COUNT; r++) {
            if (!ui_split_row_used(s, (enum ui_split_row)r)) continue;
            sl->row_label[r] = (struct ui_rect){x, y, iw - value_w, rh};
            sl->row_value[r] = (struct ui_rect){x + iw - value_w, y, value_w, rh - sc(lo, 2)};
            y += rh;
        }
        y += pad;
        sl->grid_title = (struct ui_rect){x, y, iw, line_h(lo->px_body)};
        y += sl->grid_title.h + sc(lo, 4);
        int legend_h = line_h(lo->px_small);
        int gy = sl->box.y + sl->box.h - in - legend_h - sc(lo, 4);
        sl->grid = (struct ui_rect){x, y, iw, imax(gy - y, 1)};
        sl->legend = (struct ui_rect){x, gy + sc(lo, 4), iw, legend_h};
    }
    place_grid(lo, s, lo->side[0].grid);
}

struct ui_rect ui_split_cell(const struct ui_split_layout *lo, const struct ui_split *s,
                             enum sim_compare_side side, size_t d, size_t m)
{
    if ((unsigned)side >= SIM_CMP_SIDE_COUNT || d >= s->devices || m >= lo->shown || lo->cols < 1)
        return (struct ui_rect){0, 0, 0, 0};
    const struct ui_rect g = lo->side[side].grid;
    size_t block = m / (size_t)lo->cols, col = m % (size_t)lo->cols;
    int block_h = (int)s->devices * lo->cell + lo->block_gap;
    /* a pixel of ground between cells, once they are big enough to spare it */
    int inset = lo->cell >= 6 ? 1 : 0;
    return (struct ui_rect){g.x + lo->names_w + (int)col * lo->cell,
                            g.y + (int)block * block_h + (int)d * lo->cell, lo->cell - inset,
                            lo->cell - inset};
}

int ui_split_timeline_x(const struct ui_split_layout *lo, size_t points, size_t k)
{
    struct ui_rect r = lo->timeline;
    int m = lo->pad * 2;
    if (points < 2) return r.x + m;
    if (k >= points) k = points - 1;
    return r.x + m + (int)((double)(r.w - 2 * m) * (double)k / (double)(points - 1));
}

size_t ui_split_timeline_point(const struct ui_split_layout *lo, size_t points, int x)
{
    if (points < 2) return 0;
    struct ui_rect r = lo->timeline;
    int m = lo->pad * 2;
    double f = (double)(x - r.x - m) / (double)imax(r.w - 2 * m, 1);
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    return (size_t)lround(f * (double)(points - 1));
}
