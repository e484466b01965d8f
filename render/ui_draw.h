/* Drawing one frame: the network with its hosts, links and the packet on
 * the wire, the transcript and its explanation, the narration, the mailbox
 * cards, the timeline, and the overlays (keys, a host's state, a packet's
 * bytes). A frame is a function of (layout, state, view): the same three
 * draw the same pixels, which is what the snapshot tests compare. */
#ifndef MAILSIM_RENDER_UI_DRAW_H
#define MAILSIM_RENDER_UI_DRAW_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "render/ui_asker.h"
#include "render/ui_layout.h"
#include "render/ui_state.h"

#define UI_SPEED_MIN 0.25
#define UI_SPEED_MAX 16.0
#define UI_EAVESDROP_MAX 96 /* octets an eavesdropper's line shows (then "...") */

/* What the window adds to (lesson, step): how far the packet has got, which
 * views and overlays are on. */
struct ui_view {
    double progress;      /* the packet's animation, 0..1; 1 = settled mid-link */
    bool   eavesdrop;     /* E: what a wire-tapper reads */
    bool   help;          /* H or ?: the keys */
    int    selected_host; /* clicked: its state in an overlay; -1 none */
    bool   packet_detail; /* the packet was clicked: its bytes in an overlay */
    bool   playing;
    double speed;         /* 0.25 .. 16 */
    double text_scale;
    size_t lesson_index, nlessons; /* for "lesson 1 of 3" */
    const struct ui_asker *ask; /* the quiz: its score in the top bar, a question
                                   over the network when one is up (NULL: none) */
    const char *live;     /* `mailsim serve`'s live window: what the top bar's right
                             part says first ("LIVE   1 real client ..."); NULL: none */
};

/* The defaults: settled, paused, 1x, nothing open. */
struct ui_view ui_view_default(void);

struct ui_draw;

/* A drawer on r (borrowed) with its text cache, fonts from assets_dir.
 * Returns NULL when the fonts cannot be opened. */
struct ui_draw *ui_draw_new(SDL_Renderer *r, const char *assets_dir);
void ui_draw_free(struct ui_draw *d);

void ui_draw_frame(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                   const struct ui_view *v);

/* Where the current packet's label is drawn ({0} when there is no packet),
 * and, when lock is not NULL, where its lock is ({0} when the line crossed
 * the link in the clear). */
struct ui_rect ui_draw_packet_rect(struct ui_draw *d, const struct ui_layout *lo,
                                   const struct ui_state *st, const struct ui_view *v,
                                   struct ui_rect *lock);

/* The tag on connection conn's link ({0} when it is not open or its link is
 * the packet's: the packet stands for it then). */
struct ui_rect ui_draw_link_tag_rect(struct ui_draw *d, const struct ui_layout *lo,
                                     const struct ui_state *st, unsigned conn);

/* What an eavesdropper reads of a line that crossed the link inside TLS:
 * n octets (at most UI_EAVESDROP_MAX shown) as hex, pseudo-random but the
 * same for the same step. Writes into out and returns it. */
char *ui_eavesdrop_hex(size_t step, size_t n, char *out, size_t cap);

/* The theme colour 0xRRGGBB of protocol p. */
unsigned ui_proto_colour(enum sim_proto p);

/* The top bar's heading ("Lesson 1: ... · lesson 1 of 8 · step 3 of 90 ·
 * 0.250 s") and its right-hand part ("score 2 of 5   paused 1x   H: keys"),
 * as drawn. Each returns out. */
char *ui_draw_heading(const struct ui_state *st, const struct ui_view *v, char *out, size_t cap);
char *ui_draw_status(const struct ui_view *v, char *out, size_t cap);

/* Text cache misses so far (rendered strings). */
unsigned long ui_draw_text_renders(const struct ui_draw *d);

#endif
