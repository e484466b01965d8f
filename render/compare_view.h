/* `mailsim compare`: IMAP sync against POP3 download (sim/compare.h), as a
 * table a teacher reads out, as one JSON object (--json), and as a chart of
 * the measures over time (--plot FILE.png, drawn without a window). */
#ifndef MAILSIM_RENDER_COMPARE_VIEW_H
#define MAILSIM_RENDER_COMPARE_VIEW_H

#include <stdio.h>

#include "sim/compare.h"

/* Exit codes, as `mailsim run`'s. */
#define UI_COMPARE_OK 0
#define UI_COMPARE_FAILED 1 /* the run or the chart failed */
#define UI_COMPARE_USAGE 2  /* bad arguments */

/* The table: the parameters in a sentence, one row per measure with IMAP
 * and POP3 side by side ('<' marks the rows where they differ), then the
 * answers to "which devices saw every message?" and "what does the server
 * store?". With rule >= 0, the rule first and, last, why the numbers bear
 * it out. */
void ui_compare_table(const struct sim_compare *c, int rule, FILE *out);

/* One JSON object (RFC 8259): the parameters, the devices, and for each
 * side the final measures, the folders, the tidying, the devices that saw
 * every message, and the series. */
void ui_compare_json(const struct sim_compare *c, int rule, FILE *out);

/* Draws the measures over time (messages on the server, messages each
 * device saw, bytes and connections) as a PNG of w x h pixels at path,
 * with fonts from assets_dir ("assets/", see ui_find_assets). Returns 0, or
 * -1 with the reason in err[0..cap). */
int ui_compare_plot(const struct sim_compare *c, const char *path, const char *assets_dir, int w,
                    int h, char *err, size_t cap);

/* The `compare` command: args are what follows "compare". Returns an exit
 * code. */
int ui_compare_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

#endif
