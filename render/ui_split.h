/* The split view of `mailsim compare --view`: IMAP on the left, POP3 on
 * the right, the same stream of mail arriving at two identical mailboxes,
 * at one of the run's sampled time points. What it shows is a function of
 * (comparison, time point): the counters (messages on the server, on each
 * device, octets on the wire, connections), which device has seen which
 * message (a grid, devices x messages), and where the two sides diverge.
 *
 * This part is the model and the layout: plain data and arithmetic, no
 * SDL. ui_split_draw.h draws it, opens the window and saves snapshots.
 *
 * Which device had which message when is read from the runs' traces
 * (sim_compare_params.keep_trace): a SIM_TR_MAIL "added" event on a
 * device's INBOX for the message whose Subject starts "#k ", as
 * sim/compare.c counts "seen". */
#ifndef MAILSIM_RENDER_UI_SPLIT_H
#define MAILSIM_RENDER_UI_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/ui_layout.h"
#include "sim/compare.h"

/* Messages the view tracks: its grid has a cell per device and message,
 * and a run with more is a chart's job (--plot), not a grid's. */
#define UI_SPLIT_MSGS_MAX 2000u

/* The counter rows of each side, in the order they are shown. */
enum ui_split_row {
    UI_SPLIT_ROW_SERVER,  /* messages on the server, every folder */
    UI_SPLIT_ROW_DEVICE,  /* messages on device i: rows DEVICE .. DEVICE + devices - 1 */
    UI_SPLIT_ROW_BYTES = UI_SPLIT_ROW_DEVICE + SIM_COMPARE_DEVICES_MAX, /* octets on the wire */
    UI_SPLIT_ROW_CONNECTIONS,
    UI_SPLIT_ROW_COUNT
};

struct ui_split;

/* The view's model of comparison c (borrowed: it must outlive the model),
 * run with keep_trace. NULL with the reason in err[0..cap) when c has no
 * traces, more than UI_SPLIT_MSGS_MAX messages, or memory runs out. */
struct ui_split *ui_split_new(const struct sim_compare *c, char *err, size_t cap);
void ui_split_free(struct ui_split *s);

const struct sim_compare *ui_split_compare(const struct ui_split *s);

/* The time points: as many as both sides sampled (k = 0 is the start, the
 * last is the end of the run). */
size_t ui_split_points(const struct ui_split *s);

/* Side's measures at time point k (clamped to the last). */
const struct sim_compare_measures *ui_split_measures(const struct ui_split *s,
                                                     enum sim_compare_side side, size_t k);

/* Messages arrived by time point k (delivered or refused: the same on both
 * sides), and messages in the run. */
size_t ui_split_arrived(const struct ui_split *s, size_t k);
size_t ui_split_messages(const struct ui_split *s);

/* Whether device d had message m on side by time point k. */
bool ui_split_seen(const struct ui_split *s, enum sim_compare_side side, size_t d, size_t m,
                   size_t k);

/* Whether the grid's cell is a divergence: the device lacks the message on
 * side and has it on the other. */
bool ui_split_cell_diverges(const struct ui_split *s, enum sim_compare_side side, size_t d,
                            size_t m, size_t k);

/* Whether counter row exists for this run (device rows past the devices do
 * not), its label ("messages on the server", "messages on the phone",
 * "octets on the wire", "connections made"), and its value on side at k as
 * shown ("1,234", "56.7 KiB"). Each writes into out and returns it. */
bool ui_split_row_used(const struct ui_split *s, enum ui_split_row row);
char *ui_split_row_label(const struct ui_split *s, enum ui_split_row row, char *out, size_t cap);
char *ui_split_row_value(const struct ui_split *s, enum sim_compare_side side,
                         enum ui_split_row row, size_t k, char *out, size_t cap);

/* Whether the two sides' message counts of row differ at k: it is
 * highlighted. The octets and connections rows never are (they are each
 * side's cost, and always differ). */
bool ui_split_row_diverges(const struct ui_split *s, enum ui_split_row row, size_t k);

/* "day 3, 14:00" for time point k. */
char *ui_split_when(const struct ui_split *s, size_t k, char *out, size_t cap);

/* ---- the layout: a function of the window's size and the run ------------- */

struct ui_split_side_layout {
    struct ui_rect box;      /* the half */
    struct ui_rect heading;  /* "IMAP (993): every device syncs with the server" */
    struct ui_rect row_label[UI_SPLIT_ROW_COUNT]; /* {0} for rows not used */
    struct ui_rect row_value[UI_SPLIT_ROW_COUNT]; /* the value's cell: highlighted when it differs */
    struct ui_rect grid_title;
    struct ui_rect grid;     /* the cells' area, device names at its left */
    struct ui_rect legend;
};

struct ui_split_layout {
    int    w, h;
    double scale;            /* 1.0 at 1920x1080 */
    int    px_title, px_body, px_small;
    int    pad;
    struct ui_rect title;    /* across the top: what is compared, and when */
    struct ui_rect timeline; /* along the bottom: a tick per time point */
    struct ui_split_side_layout side[SIM_CMP_SIDE_COUNT];
    /* the grid: cells cell x cell pixels, cols messages a block, one block
     * (a row per device) under the other; names_w for the device names */
    int    cell, cols, names_w, block_gap;
    size_t blocks, shown;    /* blocks drawn, messages they hold (the first `shown`) */
};

/* Lays out s's view in a w x h frame (sizes below 1x1 count as 1x1). */
void ui_split_layout_compute(struct ui_split_layout *lo, const struct ui_split *s, int w, int h);

/* Device d's cell for message m on side ({0} when m is not shown). */
struct ui_rect ui_split_cell(const struct ui_split_layout *lo, const struct ui_split *s,
                             enum sim_compare_side side, size_t d, size_t m);

/* The x of time point k's tick, and the time point under x. */
int ui_split_timeline_x(const struct ui_split_layout *lo, size_t points, size_t k);
size_t ui_split_timeline_point(const struct ui_split_layout *lo, size_t points, int x);

#endif
