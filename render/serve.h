/* `mailsim serve`: the live bridge (sim/bridge.h) on a lesson's world, so
 * real mail programs talk to the simulated servers.
 *
 *   mailsim serve [LESSON] [--port-offset N] [--user ADDRESS:PASSWORD]...
 *                 [--maildir DIR] [--headless] [--bind ADDRESS]...
 *                 [--cert FILE --key FILE] [--transcript]
 *
 * At start it prints its documented interface on stdout, then flushes:
 *   endpoint HOST SERVICE ADDRESS:PORT    one per listening socket
 *   account ADDRESS PASSWORD              one per account
 *   ready
 * With --transcript it then prints each event of the trace as the
 * transcript does (render/transcript.h), as it happens. SIGINT or SIGTERM
 * stops it: real connections close, mail still queued in the simulated
 * MTAs is delivered in simulated time (so it reaches --maildir), and it
 * exits 0. */
#ifndef MAILSIM_RENDER_SERVE_H
#define MAILSIM_RENDER_SERVE_H

#include <stdio.h>

/* Exit codes: 0 stopped by a signal, 1 the engine failed, 2 bad arguments,
 * no lesson, or a socket that cannot be opened. */
int ui_serve_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err);

#endif
