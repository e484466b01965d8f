/* Text views of a trace: the transcript `mailsim run` prints, and the JSON
 * lines of `mailsim run --json`. Both are functions of the trace alone. */
#ifndef MAILSIM_RENDER_TRANSCRIPT_H
#define MAILSIM_RENDER_TRANSCRIPT_H

#include <stdio.h>

#include "sim/trace.h"

/* One line for event ev, as the transcript shows it:
 *
 *     0.030s  smtp  mail.example.com -> laptop :587   S: 220 mail.example.com ESMTP  # ready
 *
 * Protocol lines read like RFC 5321's examples: "C:" for what the client
 * sent, "S:" for the server; other events show what happened. The note
 * follows after "  # " when there is one. */
void ui_transcript_line(FILE *out, const struct sim_trace_event *ev);

/* One JSON object on one line for ev, with the fields t (seconds), step,
 * kind, proto, from, to, port, dir ("c2s", "s2c" or ""), conn, tls, text
 * (the exact line without CRLF) and note; SIM_TR_MAIL events add mail. */
void ui_json_line(FILE *out, const struct sim_trace_event *ev);

/* Writes s as a JSON string, quotes included (RFC 8259 7: ", \ and control
 * characters escaped; bytes >= 0x80 passed through, the text is UTF-8). */
void ui_json_string(FILE *out, const char *s);

#endif
