/* Plain-language sentences about IMAP and POP3 lines and session states,
 * for the lessons: what a student reads beside each line of the trace. The
 * SMTP ones are in smtp.h (smtp_reply_explain, smtp_command_explain).
 *
 * Every function returns a static string, never NULL, and accepts any
 * value (an out-of-range one gets a general sentence). libc only. */
#ifndef MAILSIM_PROTOCOLS_EXPLAIN_H
#define MAILSIM_PROTOCOLS_EXPLAIN_H

#include <stdbool.h>

#include "protocols/imap.h"
#include "protocols/imap_server.h"
#include "protocols/pop3.h"
#include "protocols/pop3_server.h"

/* ---- IMAP (RFC 3501, IDLE RFC 2177, UIDPLUS RFC 4315) ------------------ */

/* A client's command (uid: its "UID FETCH" form, RFC 3501 6.4.8). */
const char *imap_command_explain(enum imap_cmd cmd, bool uid);

/* The "DONE" line that ends IDLE (RFC 2177 3). */
const char *imap_done_explain(void);

/* One server response, as imap_resp_reader_next() reads it. cmd is the
 * command it belongs to (the one running when it was sent; for a tagged
 * response the one it completes), or IMAP_CMD_COUNT for the greeting and
 * for anything sent outside a command. The sentence depends on both: an
 * EXISTS after SELECT counts the folder, one during IDLE is new mail. */
const char *imap_response_explain(const struct imap_response *r, enum imap_cmd cmd);

/* A server session state (RFC 3501 3). */
const char *imap_server_state_explain(enum imap_server_state st);

/* ---- POP3 (RFC 1939, CAPA and codes RFC 2449, STLS RFC 2595) ------------ */

/* A client's command. */
const char *pop3_command_explain(enum pop3_verb v);

/* One status line, as pop3_reply_parse() reads it, answering command v
 * (POP3_VERB_COUNT for the greeting, or a line that was no command). An
 * RFC 2449 8 response code ([IN-USE], [AUTH], [SYS/TEMP] ...) is explained
 * for itself. */
const char *pop3_reply_explain(const struct pop3_reply *r, enum pop3_verb v);

/* The "." line that ends the multi-line answer to v (RFC 1939 3). */
const char *pop3_end_explain(enum pop3_verb v);

/* A server session state (RFC 1939 3). */
const char *pop3_server_state_explain(enum pop3_server_state st);

#endif
