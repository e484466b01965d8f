/* What an eavesdropper on the link reads of one event: the line itself when
 * it crossed in the clear, or only its size when it crossed inside TLS. The
 * window draws the same from the trace's tls flag; `mailsim run --eavesdrop`
 * and the handout print it.
 *
 * Header-only (one small function), so that every view can use it without
 * another file to link. */
#ifndef MAILSIM_RENDER_EAVESDROP_H
#define MAILSIM_RENDER_EAVESDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/trace.h"

/* Writes into out (always NUL-terminated when cap > 0) what a wiretap on the
 * link sees of ev: for a protocol line or a DNS message in the clear its
 * text (cut at cap); inside TLS "[N bytes of TLS]" (N is ev->wire_bytes: TLS
 * hides the content, not the length, RFC 8446 5.4). Returns false, leaving
 * out empty, for events that put nothing on the wire (state changes, store
 * changes, timeline actions). */
static inline bool ui_eavesdropper_view(const struct sim_trace_event *ev, char *out, size_t cap)
{
    if (cap) out[0] = '\0';
    if (!ev || cap == 0) return false;
    if (ev->kind != SIM_TR_LINE && ev->kind != SIM_TR_DNS) return false;
    int n;
    if (ev->tls) /* the record's length shows; its content does not */
        n = snprintf(out, cap, "[%zu bytes of TLS]", ev->wire_bytes);
    else
        n = snprintf(out, cap, "%.*s", (int)(cap - 1), ev->text);
    if (n < 0) out[0] = '\0';
    return true;
}

#endif
