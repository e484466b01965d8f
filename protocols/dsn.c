/* Delivery status notifications: RFC 3464 inside an RFC 6522 multipart/report.
 * See dsn.h for the shape of the message. */
#include "protocols/dsn.h"

#include <string.h>

#include "protocols/common.h"
#include "protocols/msg.h"

/* The longest "type; value" a field holds: an SMTP reply line (512 octets,
 * RFC 5321 4.5.3.1.5) or a path (256), with the type before it. */
#define TYPED_VALUE_MAX 600

const char *const dsn_action_names[DSN_ACTION_COUNT] = {
    "failed", "delayed", "delivered", "relayed", "expanded",
};

static const char *const err_names[DSN_ERR_COUNT] = {
    "DSN_OK", "DSN_ERR_NO_SPACE", "DSN_ERR_BAD_ARG", "DSN_ERR_BAD_STATUS",
    "DSN_ERR_BAD_BOUNDARY", "DSN_ERR_BAD_HEADER",
};

const char *dsn_strerror(enum dsn_err e)
{
    return (unsigned)e < DSN_ERR_COUNT ? err_names[e] : "?";
}

/* The output so far; the first error sticks and later writes do nothing. */
struct out {
    char *buf;
    size_t cap, len;
    enum dsn_err err;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->err) return;
    if (n + 1 > o->cap - o->len) { /* + the NUL */
        o->err = DSN_ERR_NO_SPACE;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static enum dsn_err from_msg(enum msg_err e)
{
    return e == MSG_ERR_NO_SPACE ? DSN_ERR_NO_SPACE : DSN_ERR_BAD_ARG;
}

/* One header field, folded by msg_format_field (RFC 5322 2.2.3). */
static void field(struct out *o, const char *name, const char *value)
{
    if (o->err) return;
    size_t n;
    enum msg_err e = msg_format_field(name, value, o->buf + o->len, o->cap - o->len, &n);
    if (e != MSG_OK) {
        o->err = from_msg(e);
        return;
    }
    o->len += n;
}

/* "type; value" fields (RFC 3464 2.1.2: address-type, MTA-name-type,
 * diagnostic-type before the ';'). */
static void typed_field(struct out *o, const char *name, const char *type, const char *value)
{
    char v[TYPED_VALUE_MAX];
    size_t tl = strlen(type), vl = strlen(value);
    if (tl + 2 + vl + 1 > sizeof v) {
        if (!o->err) o->err = DSN_ERR_BAD_ARG;
        return;
    }
    memcpy(v, type, tl);
    memcpy(v + tl, "; ", 2);
    memcpy(v + tl + 2, value, vl + 1);
    field(o, name, v);
}

static void date_field(struct out *o, const char *name, int64_t t, int zone_min)
{
    char d[MSG_DATE_LEN + 1];
    enum msg_err e = msg_date_format(t, zone_min, d, sizeof d);
    if (e != MSG_OK) {
        if (!o->err) o->err = from_msg(e);
        return;
    }
    field(o, name, d);
}

static bool has_crlf(const char *s)
{
    return s && (strchr(s, '\r') || strchr(s, '\n'));
}

static bool digits(const char **p)
{
    size_t n = 0;
    while (**p >= '0' && **p <= '9') {
        (*p)++;
        n++;
    }
    return n >= 1 && n <= 3;
}

bool dsn_status_valid(const char *s)
{
    if (!s || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.') return false;
    const char *p = s + 2;
    if (!digits(&p) || *p++ != '.') return false;
    return digits(&p) && *p == '\0';
}

/* RFC 2046 5.1.1: bchars, 1 to 70 of them, not ending in a space. */
static bool boundary_valid(const char *b)
{
    static const char extra[] = "'()+_,-./:=? ";
    size_t n = b ? strlen(b) : 0;
    if (n == 0 || n > DSN_BOUNDARY_MAX || b[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  strchr(extra, c);
        if (!ok) return false;
    }
    return true;
}

/* Splits "local@domain" at its last '@' into a mailbox for msg_addr_format. */
static bool to_addr(const char *s, const char *display, struct msg_addr *a)
{
    memset(a, 0, sizeof *a);
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1]) return false;
    size_t ll = (size_t)(at - s), dl = strlen(at + 1);
    if (ll >= sizeof a->local || dl >= sizeof a->domain) return false;
    if (display && strlen(display) >= sizeof a->display) return false;
    memcpy(a->local, s, ll);
    memcpy(a->domain, at + 1, dl);
    if (display) strcpy(a->display, display);
    a->kind = MSG_ADDR_MAILBOX;
    return true;
}

static void addr_field(struct out *o, const char *name, const char *addr, const char *display)
{
    struct msg_addr a;
    char v[MSG_MAX_PHRASE + MSG_MAX_LOCAL + MSG_MAX_DOMAIN + 8];
    size_t n;
    if (o->err) return;
    if (!to_addr(addr, display, &a)) {
        o->err = DSN_ERR_BAD_ARG;
        return;
    }
    enum msg_err e = msg_addr_format(&a, v, sizeof v, &n);
    if (e != MSG_OK) {
        o->err = from_msg(e);
        return;
    }
    field(o, name, v);
}

static enum dsn_err check(const struct dsn_report *r)
{
    if (!r || !r->reporting_mta || !r->from || !r->to || !r->rcpts || r->nrcpts == 0 ||
        r->nrcpts > DSN_MAX_RCPTS || (r->original_len && !r->original))
        return DSN_ERR_BAD_ARG;
    if (has_crlf(r->reporting_mta) || has_crlf(r->from) || has_crlf(r->from_display) ||
        has_crlf(r->to) || has_crlf(r->subject) || has_crlf(r->message_id))
        return DSN_ERR_BAD_ARG;
    for (size_t i = 0; i < r->nrcpts; i++) {
        const struct dsn_rcpt *k = &r->rcpts[i];
        if (!k->final_recipient || !k->status || (unsigned)k->action >= DSN_ACTION_COUNT)
            return DSN_ERR_BAD_ARG;
        if (has_crlf(k->final_recipient) || has_crlf(k->original_recipient) ||
            has_crlf(k->remote_mta) || has_crlf(k->diagnostic) || has_crlf(k->explanation))
            return DSN_ERR_BAD_ARG;
        if (!dsn_status_valid(k->status)) return DSN_ERR_BAD_STATUS;
    }
    if (!boundary_valid(r->boundary)) return DSN_ERR_BAD_BOUNDARY;
    return DSN_OK;
}

static bool any_action(const struct dsn_report *r, enum dsn_action a)
{
    for (size_t i = 0; i < r->nrcpts; i++)
        if (r->rcpts[i].action == a) return true;
    return false;
}

/* Part 1: the human-readable explanation (RFC 6522 3). */
static void human_part(struct out *o, const struct dsn_report *r)
{
    puts_(o, "This is the mail system at host ");
    puts_(o, r->reporting_mta);
    puts_(o, ".\r\n\r\n");
    if (any_action(r, DSN_ACTION_FAILED))
        puts_(o, "Your message could not be delivered to one or more recipients.\r\n"
                 "The reasons are below; the headers of your message are attached.\r\n");
    else if (any_action(r, DSN_ACTION_DELAYED))
        puts_(o, "Your message has not been delivered yet to one or more recipients.\r\n"
                 "The mail system will keep trying; you need not send it again.\r\n");
    else
        puts_(o, "Your message was delivered to the recipients below.\r\n");
    puts_(o, "\r\n");
    for (size_t i = 0; i < r->nrcpts; i++) {
        const struct dsn_rcpt *k = &r->rcpts[i];
        const char *why = k->explanation ? k->explanation
                          : k->diagnostic ? k->diagnostic
                                          : k->status;
        puts_(o, "<");
        puts_(o, k->final_recipient);
        puts_(o, ">: ");
        puts_(o, why);
        puts_(o, "\r\n");
    }
}

/* Part 2: message/delivery-status (RFC 3464 2.1): per-message fields, then
 * each recipient's group after an empty line. */
static void status_part(struct out *o, const struct dsn_report *r)
{
    typed_field(o, "Reporting-MTA", "dns", r->reporting_mta);
    if (r->has_arrival) date_field(o, "Arrival-Date", r->arrival, r->zone_min);
    for (size_t i = 0; i < r->nrcpts; i++) {
        const struct dsn_rcpt *k = &r->rcpts[i];
        puts_(o, "\r\n");
        if (k->original_recipient)
            typed_field(o, "Original-Recipient", "rfc822", k->original_recipient);
        typed_field(o, "Final-Recipient", "rfc822", k->final_recipient);
        field(o, "Action", dsn_action_names[k->action]);
        field(o, "Status", k->status);
        if (k->remote_mta) typed_field(o, "Remote-MTA", "dns", k->remote_mta);
        if (k->diagnostic) typed_field(o, "Diagnostic-Code", "smtp", k->diagnostic);
        if (k->has_last_attempt)
            date_field(o, "Last-Attempt-Date", k->last_attempt, r->zone_min);
    }
}

/* Part 3: the returned message's header section (text/rfc822-headers,
 * RFC 6522 4), every line ending in CRLF as a MIME body's must. The header
 * is parsed with msg_parse_header so only its fields are copied, never the
 * body. Checks that the boundary does not occur in what is copied. */
static void headers_part(struct out *o, const struct dsn_report *r, const struct msg_header *h)
{
    if (o->err || h->n_fields == 0) return;
    const struct msg_field *last = &h->fields[h->n_fields - 1];
    size_t start = o->len;
    const char *p = r->original, *end = r->original + last->off + last->len;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t n = lf ? (size_t)(lf - p) : (size_t)(end - p);
        if (n && p[n - 1] == '\r') n--;
        put(o, p, n);
        puts_(o, "\r\n");
        p = lf ? lf + 1 : end;
    }
    if (o->err) return;
    size_t bl = strlen(r->boundary);
    for (size_t i = start; i + 2 + bl <= o->len; i++)
        if (o->buf[i] == '-' && o->buf[i + 1] == '-' && memcmp(o->buf + i + 2, r->boundary, bl) == 0) {
            o->err = DSN_ERR_BAD_BOUNDARY;
            return;
        }
}

enum dsn_err dsn_build(const struct dsn_report *r, char *out, size_t cap, size_t *out_len)
{
    if (out_len) *out_len = 0;
    if (!out || cap == 0) return DSN_ERR_NO_SPACE;
    out[0] = '\0';
    enum dsn_err err = check(r);
    if (err) return err;
    /* About 12 KiB on the stack: the builder promises not to allocate, and
     * a static one would make it non-reentrant. */
    struct msg_header h;
    memset(&h, 0, sizeof h);
    if (r->original_len && msg_parse_header(r->original, r->original_len, &h) != MSG_OK)
        return DSN_ERR_BAD_HEADER;

    struct out o = {out, cap, 0, DSN_OK};
    const char *subject = r->subject               ? r->subject
                          : any_action(r, DSN_ACTION_FAILED)  ? "Undelivered Mail Returned to Sender"
                          : any_action(r, DSN_ACTION_DELAYED) ? "Delayed Mail (still being retried)"
                                                               : "Successful Mail Delivery Report";
    addr_field(&o, "From", r->from, r->from_display ? r->from_display : "Mail Delivery System");
    addr_field(&o, "To", r->to, NULL);
    field(&o, "Subject", subject);
    date_field(&o, "Date", r->date, r->zone_min);
    if (r->message_id) field(&o, "Message-ID", r->message_id);
    field(&o, "Auto-Submitted", "auto-replied"); /* RFC 3834 5 */
    field(&o, "MIME-Version", "1.0");
    char ctype[64 + DSN_BOUNDARY_MAX];
    snprintf(ctype, sizeof ctype, "multipart/report; report-type=delivery-status; boundary=\"%s\"",
             r->boundary);
    field(&o, "Content-Type", ctype);
    puts_(&o, "\r\nThis is a MIME-encapsulated message.\r\n");

    /* RFC 2046 5.1.1: the CRLF before "--boundary" belongs to the delimiter. */
    puts_(&o, "\r\n--");
    puts_(&o, r->boundary);
    puts_(&o, "\r\nContent-Description: Notification\r\n"
              "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    human_part(&o, r);

    puts_(&o, "\r\n--");
    puts_(&o, r->boundary);
    puts_(&o, "\r\nContent-Description: Delivery report\r\n"
              "Content-Type: message/delivery-status\r\n\r\n");
    status_part(&o, r);

    if (r->original_len) {
        puts_(&o, "\r\n--");
        puts_(&o, r->boundary);
        puts_(&o, "\r\nContent-Description: Undelivered Message Headers\r\n"
                  "Content-Type: text/rfc822-headers\r\n\r\n");
        headers_part(&o, r, &h);
    }
    puts_(&o, "\r\n--");
    puts_(&o, r->boundary);
    puts_(&o, "--\r\n");
    if (o.err) {
        out[0] = '\0';
        return o.err;
    }
    if (out_len) *out_len = o.len;
    return DSN_OK;
}
