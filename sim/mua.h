/* The sender's mail program (MUA) on a simulated host: it composes a message
 * with protocols/msg.h, submits it to its submission server with the
 * smtp_client machine (RFC 6409: port 587 with STARTTLS, or 465 with TLS from
 * the first byte, RFC 8314), then files a copy in the account's "Sent" folder
 * by IMAP APPEND (RFC 3501 6.3.11) through a sim_device it owns.
 *
 * Every byte on the wire comes from a codec: the message from
 * msg_build_simple(), the SMTP commands from the smtp_client machine, the
 * IMAP commands from imap_cmd_format() (see sim/device.h). The MUA records:
 *   - SIM_TR_ACTION  "send: <subject>" when a send begins;
 *   - SIM_TR_MAIL    the composed message added to the host's local "Sent"
 *                    view (owner = this host, uid = the MUA's own counter);
 *   - SIM_TR_STATE   each smtp_client state change ("ehlo -> starttls");
 *   - SIM_TR_LINE    every command and reply (through sim_conn_send, with
 *                    smtp_command_explain / smtp_reply_explain as notes);
 *   - SIM_TR_ACTION  one outcome event per recipient ("accepted
 *                    friend@example.org: 250 2.1.5 Ok") and one for the
 *                    whole submission ("delivered to 2 of 2", or the
 *                    failing reply, or why the connection failed).
 *
 * Determinism: the Date: field is the simulated clock (epoch + e->now), the
 * Message-ID a counter and the sender's domain; nothing else varies.
 *
 * Ownership: the MUA registers events with the engine that point at it;
 * free it only after the last sim_engine_run(). */
#ifndef MAILSIM_SIM_MUA_H
#define MAILSIM_SIM_MUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/smtp_client.h"
#include "sim/engine.h"
#include "sim/net.h"

/* Sends in one MUA's life (their results stay for the views and tests); a
 * lesson sends a handful. */
#define SIM_MUA_JOBS_MAX 32
/* The composed message, headers included. Lessons send short text; 64 KiB
 * leaves room for a long body and stays far below any SIZE limit. */
#define SIM_MUA_MESSAGE_MAX 65536
/* Recipients of one message (the codec allows SMTP_CLIENT_MAX_RCPTS). */
#define SIM_MUA_RCPTS_MAX 16
/* An address or a subject kept for a job. */
#define SIM_MUA_TEXT_MAX 256

/* Pass as `at` to sim_mua_send() to send at the current simulated time. */
#define SIM_MUA_NOW UINT64_MAX

struct sim_mua_config {
    const char *account;       /* the login, "manish@example.com" */
    const char *password;
    const char *display_name;  /* From: display name; NULL or "" for none */
    const char *submit_ip;     /* the submission server's address */
    unsigned    submit_port;   /* 587 (STARTTLS), 465 (implicit TLS) or 25 (the
                                  relay port: no AUTH, so only mail for the
                                  server's own domains is taken) */
    const char *imap_ip;       /* the IMAP server for the Sent copy; NULL: none */
    unsigned    imap_port;     /* 993 (implicit TLS) or 143 (STARTTLS) */
    const char *sent_folder;   /* NULL: "Sent" */
    int64_t     epoch;         /* the simulated wall time at t=0, seconds since 1970 */
    int         zone_min;      /* the Date: field's zone, minutes east of UTC */
    /* Lesson options. */
    bool        skip_starttls;  /* never STARTTLS and send no AUTH: the
                                   server's 530 (RFC 3207 4, RFC 4954 6) */
    bool        wrong_password; /* AUTH with a wrong password: 535 5.7.8 */
    bool        auth_before_starttls; /* AUTH in the clear, not offered, never
                                   STARTTLS: the submission server's 530 5.7.0
                                   (RFC 3207 4, RFC 6409 4); an eavesdropper
                                   reads the password (base64 is no cipher) */
    bool        use_helo;       /* greet with HELO, the older form (RFC 5321
                                   4.1.1.1): no extensions, so no STARTTLS and
                                   no AUTH; for port 25 to a recipient's own
                                   server, which takes its local mail without */
    /* Port 25 from home needs nothing here: set submit_port 25 and block
     * outbound 25 on the host (sim_host_block_port) to show the ISP's rule;
     * the MUA then reports the connection failure. */
};

/* How one send ended, for tests and for the world's timeline. */
struct sim_mua_result {
    enum smtp_client_outcome outcome; /* SMTP_CLIENT_PENDING while running */
    bool     connect_failed;          /* no SMTP session at all */
    enum sim_conn_failure failure;    /* why, when connect_failed */
    size_t   nrcpts, accepted;
    int      rcpt_code[SIM_MUA_RCPTS_MAX]; /* each recipient's reply code */
    int      code;                    /* the failing reply's code, 0 when none */
    bool     sent_copy;               /* the Sent copy was APPENDed (OK) */
    size_t   size;                    /* octets of the composed message */
};

struct sim_mua;

/* A mail program on host (borrowed, like e and net: they must outlive it).
 * cfg's strings are copied. NULL when out of memory or cfg is unusable (no
 * account, password or submit_ip, an account without '@', a zero port). */
struct sim_mua *sim_mua_new(struct sim_engine *e, struct sim_net *net, struct sim_host *host,
                            const struct sim_mua_config *cfg);
void sim_mua_free(struct sim_mua *m);

/* Composes and sends a message from `from` (NULL: the account) to to[0..nto)
 * at simulated time `at` (absolute; SIM_MUA_NOW or a time already past
 * means now). The message is composed when the send begins, so its Date:
 * is that time. Strings are copied. Returns the job number (>= 0, used by
 * sim_mua_result()), or -1 when SIM_MUA_JOBS_MAX sends were made already, nto is
 * 0 or over SIM_MUA_RCPTS_MAX, or a string is over SIM_MUA_TEXT_MAX (a body
 * may be up to SIM_MUA_MESSAGE_MAX less room for the header). */
int sim_mua_send(struct sim_mua *m, const char *from, const char *const *to, size_t nto,
                 const char *subject, const char *body, sim_time at);

/* The same with blind copies: bcc[0..nbcc) are recipients of the envelope
 * (RCPT TO) that the message's header does not show (no To: or Cc: field
 * names them; RFC 5322 3.6.3: a Bcc: field may be left out entirely). nto
 * plus nbcc is at most SIM_MUA_RCPTS_MAX; nto may be 0 when nbcc is not
 * (the message then has no To: field). */
int sim_mua_send_bcc(struct sim_mua *m, const char *from, const char *const *to, size_t nto,
                     const char *const *bcc, size_t nbcc, const char *subject, const char *body,
                     sim_time at);

/* The result of job `job` (false when there is no such job). The job is
 * finished when r->outcome is not SMTP_CLIENT_PENDING or r->connect_failed;
 * the Sent copy may still be on its way then (r->sent_copy turns true). */
bool sim_mua_result(const struct sim_mua *m, int job, struct sim_mua_result *r);

/* The composed bytes of job `job` (borrowed until sim_mua_free), or NULL
 * before it was composed; *len gets the length. */
const char *sim_mua_message(const struct sim_mua *m, int job, size_t *len);

#endif
