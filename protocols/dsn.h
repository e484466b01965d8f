/* Delivery status notifications (RFC 3464): the bounce an MTA sends to a
 * message's sender when it could not deliver it (or, with action "delayed",
 * to say it is still trying).
 *
 * The message built is a multipart/report (RFC 6522, formerly RFC 3462)
 * with report-type=delivery-status and three parts, in this order:
 *   1. text/plain: what happened, for a human (RFC 6522 3);
 *   2. message/delivery-status: the per-message fields (Reporting-MTA,
 *      Arrival-Date) and, after an empty line, one group of per-recipient
 *      fields each (Final-Recipient, Action, Status, Remote-MTA,
 *      Diagnostic-Code, Last-Attempt-Date) (RFC 3464 2.2, 2.3);
 *   3. text/rfc822-headers: the header section of the returned message
 *      (RFC 6522 4: returning only the headers is allowed and spares the
 *      sender a copy of a large body).
 * Its top-level header carries From, To, Subject, Date, Message-ID when
 * given, Auto-Submitted: auto-replied (RFC 3834 5: so auto-responders do
 * not answer it) and MIME-Version. Header fields are written and folded by
 * protocols/msg.h (msg_format_field, msg_date_format, msg_addr_format).
 *
 * The message is sent with the null reverse-path (RFC 5321 4.5.5); that is
 * the caller's business, as is choosing a boundary that is unique.
 *
 * Sans-I/O and libc only: the builder writes into the caller's buffer and
 * never allocates. Every function returns DSN_OK or a DSN_ERR_* value;
 * dsn_strerror() names it. */
#ifndef MAILSIM_PROTOCOLS_DSN_H
#define MAILSIM_PROTOCOLS_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Recipients in one report: as many as one SMTP transaction can carry
 * (RFC 5321 4.5.3.1.8). */
#define DSN_MAX_RCPTS 100
/* RFC 2046 5.1.1: a boundary is 1 to 70 characters. */
#define DSN_BOUNDARY_MAX 70

enum dsn_err {
    DSN_OK = 0,
    DSN_ERR_NO_SPACE,     /* the output buffer is too small */
    DSN_ERR_BAD_ARG,      /* a missing field, a CR/LF in a value, no recipients, too many */
    DSN_ERR_BAD_STATUS,   /* a status that is not class.subject.detail with class 2, 4 or 5
                             (RFC 3464 2.3.4, RFC 3463 2) */
    DSN_ERR_BAD_BOUNDARY, /* not 1-70 bchars (RFC 2046 5.1.1), or it occurs in the
                             returned headers, where it would end a part early */
    DSN_ERR_BAD_HEADER,   /* the returned message's header section does not parse */
    DSN_ERR_COUNT
};

/* "DSN_ERR_NO_SPACE"-style name; "?" out of range. */
const char *dsn_strerror(enum dsn_err e);

/* RFC 3464 2.3.3: what the reporting MTA did with the recipient. */
enum dsn_action {
    DSN_ACTION_FAILED = 0, /* could not be delivered; no more attempts */
    DSN_ACTION_DELAYED,    /* not delivered yet; still trying */
    DSN_ACTION_DELIVERED,  /* delivered (a success DSN) */
    DSN_ACTION_RELAYED,    /* handed to a system that sends no DSN */
    DSN_ACTION_EXPANDED,   /* delivered and forwarded to several addresses */
    DSN_ACTION_COUNT
};

/* "failed", "delayed", ...: the words of the Action field. */
extern const char *const dsn_action_names[DSN_ACTION_COUNT];

/* One recipient's group of fields (RFC 3464 2.3). Strings NUL-terminated,
 * borrowed for the call, no CR or LF. */
struct dsn_rcpt {
    const char *final_recipient;    /* required: "friend@example.org" -> "rfc822; friend@..." */
    const char *original_recipient; /* NULL to omit (RFC 3464 2.3.1: only when ORCPT was given) */
    enum dsn_action action;
    const char *status;             /* required: "5.1.1", "4.4.7" (RFC 3463) */
    const char *remote_mta;         /* NULL to omit: "mx1.example.org" -> "dns; mx1..." */
    const char *diagnostic;         /* NULL to omit: the SMTP reply, "550 5.1.1 User unknown"
                                       -> "Diagnostic-Code: smtp; 550 5.1.1 User unknown" */
    bool has_last_attempt;          /* write Last-Attempt-Date (RFC 3464 2.3.7) */
    int64_t last_attempt;           /* seconds since 1970 */
    const char *explanation;        /* the sentence for the human part after "<rcpt>: ";
                                       NULL: the diagnostic, or else the status */
};

struct dsn_report {
    const char *reporting_mta;  /* required: this MTA's name, "mail.example.com" */
    const char *from;           /* required: "MAILER-DAEMON@mail.example.com" */
    const char *from_display;   /* NULL: "Mail Delivery System" */
    const char *to;             /* required: the original sender's address */
    const char *subject;        /* NULL: "Undelivered Mail Returned to Sender" when any
                                   recipient failed, "Delayed Mail (still being retried)"
                                   when any was delayed, else "Successful Mail Delivery Report" */
    int64_t date;               /* the DSN's Date:, seconds since 1970 */
    int zone_min;               /* zone of every date written */
    const char *message_id;     /* "<...>", NULL to omit */
    const char *boundary;       /* required, see DSN_ERR_BAD_BOUNDARY */
    bool has_arrival;           /* write Arrival-Date (RFC 3464 2.2.5) */
    int64_t arrival;            /* when the original message arrived */
    const struct dsn_rcpt *rcpts;
    size_t nrcpts;              /* 1..DSN_MAX_RCPTS */
    const char *original;       /* the returned message; only its header section is used */
    size_t original_len;        /* 0: the third part is left out */
};

/* Writes the whole DSN message into out[0..cap), lines ending in CRLF,
 * NUL-terminated (cap must leave room for the NUL; *out_len does not count
 * it). Returns DSN_OK, DSN_ERR_NO_SPACE, DSN_ERR_BAD_ARG, DSN_ERR_BAD_STATUS,
 * DSN_ERR_BAD_BOUNDARY or DSN_ERR_BAD_HEADER; on an error out holds nothing
 * useful. */
enum dsn_err dsn_build(const struct dsn_report *r, char *out, size_t cap, size_t *out_len);

/* Whether s is a valid status code for a DSN: "c.s.d" with c 2, 4 or 5,
 * s and d 1 to 3 digits each (RFC 3463 2, RFC 3464 2.3.4). */
bool dsn_status_valid(const char *s);

#endif
