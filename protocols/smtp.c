/* SMTP command lines and replies (RFC 5321 4.1, 4.2), the ESMTP parameters
 * SIZE (RFC 1870) and BODY (RFC 6152), AUTH (RFC 4954) and enhanced status
 * codes (RFC 2034, RFC 3463). */
#include "protocols/smtp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "protocols/base64.h"
#include "protocols/common.h"

/* ---- Names and errors ---------------------------------------------------- */

const char *const smtp_verb_names[SMTP_VERB_COUNT] = {
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "VRFY",
    "EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH",
};

const char *const smtp_body_names[SMTP_BODY_COUNT] = {"", "7BIT", "8BITMIME"};

const char *const smtp_auth_mech_names[SMTP_AUTH_MECH_COUNT] = {"PLAIN", "LOGIN"};

const char *smtp_verb_name(enum smtp_verb v)
{
    return (unsigned)v < SMTP_VERB_COUNT ? smtp_verb_names[v] : "?";
}

const char *smtp_strerror(int err)
{
    switch (err) {
    case SMTP_OK: return "ok";
    case SMTP_ERR_UNKNOWN_VERB: return "unknown command";
    case SMTP_ERR_LINE_TOO_LONG: return "command line too long";
    case SMTP_ERR_SYNTAX: return "syntax error in arguments";
    case SMTP_ERR_BAD_DOMAIN: return "HELO/EHLO argument is not a domain or address literal";
    case SMTP_ERR_BAD_SENDER: return "bad sender address syntax";
    case SMTP_ERR_BAD_RECIPIENT: return "bad recipient address syntax";
    case SMTP_ERR_PATH_TOO_LONG: return "path, local part or domain too long";
    case SMTP_ERR_BAD_PARAM: return "malformed ESMTP parameter";
    case SMTP_ERR_UNKNOWN_PARAM: return "unrecognised ESMTP parameter";
    case SMTP_ERR_AUTH_MECH: return "unknown authentication mechanism";
    case SMTP_ERR_AUTH_BASE64: return "authentication data is not base64";
    case SMTP_ERR_AUTH_CANCELLED: return "authentication cancelled by the client";
    case SMTP_ERR_DATA_LINE_TOO_LONG: return "message text line too long";
    case SMTP_ERR_DATA_BARE_LF: return "bare LF in message";
    case SMTP_ERR_REPLY_CODE: return "bad reply code";
    case SMTP_ERR_REPLY_SYNTAX: return "bad reply line";
    case SMTP_ERR_REPLY_MISMATCH: return "reply lines with different codes";
    case SMTP_ERR_REPLY_TOO_MANY: return "too many reply lines";
    case SMTP_ERR_REPLY_TOO_LONG: return "reply line too long";
    case SMTP_ERR_NO_SPACE: return "output buffer too small";
    case SMTP_ERR_INVALID: return "invalid arguments for a line";
    default: return "unknown SMTP error";
    }
}

/* Indexed by -err. Texts follow Postfix's wording where it is clear. */
static const struct smtp_canned_reply canned[] = {
    [-SMTP_ERR_UNKNOWN_VERB] = {500, "5.5.1", "Command unrecognized"},
    [-SMTP_ERR_LINE_TOO_LONG] = {500, "5.5.6", "Line too long"},
    [-SMTP_ERR_SYNTAX] = {501, "5.5.4", "Syntax error in parameters or arguments"},
    [-SMTP_ERR_BAD_DOMAIN] = {501, "5.5.4", "Syntax: EHLO domain or address literal"},
    [-SMTP_ERR_BAD_SENDER] = {501, "5.1.7", "Bad sender address syntax"},
    [-SMTP_ERR_BAD_RECIPIENT] = {501, "5.1.3", "Bad recipient address syntax"},
    [-SMTP_ERR_PATH_TOO_LONG] = {501, "5.1.3", "Path too long"},
    [-SMTP_ERR_BAD_PARAM] = {501, "5.5.4", "Bad parameter syntax"},
    [-SMTP_ERR_UNKNOWN_PARAM] = {555, "5.5.4", "Parameter not recognized or not implemented"},
    [-SMTP_ERR_AUTH_MECH] = {504, "5.5.4", "Unrecognized authentication type"},
    [-SMTP_ERR_AUTH_BASE64] = {501, "5.5.2", "Cannot decode response"},
    [-SMTP_ERR_AUTH_CANCELLED] = {501, "5.0.0", "Authentication cancelled"},
    [-SMTP_ERR_DATA_LINE_TOO_LONG] = {500, "5.5.6", "Line too long in message text"},
    [-SMTP_ERR_DATA_BARE_LF] = {550, "5.5.2", "Bare <LF> received in message"},
};

static const struct smtp_canned_reply no_reply = {451, "4.3.0", "Local error in processing"};

const struct smtp_canned_reply *smtp_error_reply(int err)
{
    if (err < 0 && (size_t)-err < ARRAY_LEN(canned) && canned[-err].code != 0)
        return &canned[-err];
    return &no_reply;
}

/* ---- Character classes (RFC 5321 4.1.2, RFC 5322 3.2.3) ----------------- */

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_letdig(char c) { return is_alpha(c) || is_digit(c); }
static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* atext (RFC 5322 3.2.3), used by Dot-string. */
static bool is_atext(char c)
{
    return is_letdig(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* ---- Scanners: each advances *i over p[0..n) and reports success -------- */

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * (RFC 5321 4.1.2). A label is at most 63 octets (RFC 1035 2.3.4). */
static bool scan_domain(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    for (;;) {
        size_t start = k;
        if (k >= n || !is_letdig(p[k])) return false;
        while (k < n && (is_letdig(p[k]) || p[k] == '-')) k++;
        if (p[k - 1] == '-') return false; /* Ldh-str ends in Let-dig */
        if (k - start > 63) return false;
        if (k < n && p[k] == '.') {
            k++;
            continue;
        }
        break;
    }
    *i = k;
    return true;
}

/* IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0-255. */
static bool scan_ipv4(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (k >= n || p[k] != '.') return false;
            k++;
        }
        int v = 0, digits = 0;
        while (k < n && is_digit(p[k]) && digits < 3) {
            v = v * 10 + (p[k] - '0');
            k++;
            digits++;
        }
        if (digits == 0 || v > 255) return false;
    }
    *i = k;
    return true;
}

/* IPv6-addr (RFC 5321 4.1.3): IPv6-full, IPv6-comp ("::" once), and the
 * forms ending in an IPv4 address. Groups are 1-4 hex digits. */
static bool scan_ipv6(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    int groups = 0;
    bool comp = false;
    if (k + 1 < n && p[k] == ':' && p[k + 1] == ':') {
        comp = true;
        k += 2;
    }
    for (;;) {
        size_t save = k;
        /* An IPv4 tail counts as two groups. */
        if (groups + (comp ? 1 : 0) <= 6 && scan_ipv4(p, n, &k)) {
            groups += 2;
            break;
        }
        k = save;
        int digits = 0;
        while (k < n && is_hex(p[k]) && digits < 5) {
            k++;
            digits++;
        }
        if (digits == 0) {
            if (comp && k == save && (k >= 2 && p[k - 1] == ':' && p[k - 2] == ':'))
                break; /* "x::" ends right after the "::" */
            return false;
        }
        if (digits > 4) return false;
        groups++;
        if (k + 1 < n && p[k] == ':' && p[k + 1] == ':') {
            if (comp) return false; /* "::" only once */
            comp = true;
            k += 2;
            continue;
        }
        if (k < n && p[k] == ':') {
            k++;
            continue;
        }
        break;
    }
    if (comp ? groups > 7 : groups != 8) return false;
    *i = k;
    return true;
}

/* address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]" (RFC 5321 4.1.3). */
static bool scan_literal(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    if (k >= n || p[k] != '[') return false;
    k++;
    if (k + 5 <= n && ascii_ncasecmp(p + k, "IPv6:", 5) == 0) {
        k += 5;
        if (!scan_ipv6(p, n, &k)) return false;
    } else if (k < n && is_digit(p[k]) && scan_ipv4(p, n, &k)) {
        /* done */
    } else {
        /* General-address-literal = Standardized-tag ":" 1*dcontent, the
         * tag an Ldh-str; dcontent = %d33-90 / %d94-126. */
        size_t t = k;
        while (k < n && (is_letdig(p[k]) || p[k] == '-')) k++;
        if (k == t || p[k - 1] == '-' || k >= n || p[k] != ':') return false;
        k++;
        size_t c = k;
        while (k < n && p[k] >= 33 && p[k] <= 126 && p[k] != '[' && p[k] != '\\' &&
               p[k] != ']')
            k++;
        if (k == c) return false;
    }
    if (k >= n || p[k] != ']') return false;
    *i = k + 1;
    return true;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE; qtextSMTP = %d32-33 /
 * %d35-91 / %d93-126; quoted-pairSMTP = "\" %d32-126 (RFC 5321 4.1.2). */
static bool scan_quoted(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    if (k >= n || p[k] != '"') return false;
    k++;
    while (k < n) {
        char c = p[k];
        if (c == '"') {
            *i = k + 1;
            return true;
        }
        if (c == '\\') {
            if (k + 1 >= n || p[k + 1] < 32 || p[k + 1] > 126) return false;
            k += 2;
            continue;
        }
        if (c < 32 || c > 126) return false;
        k++;
    }
    return false; /* never closed */
}

/* Dot-string = Atom *("." Atom) */
static bool scan_dot_string(const char *p, size_t n, size_t *i)
{
    size_t k = *i;
    for (;;) {
        size_t start = k;
        while (k < n && is_atext(p[k])) k++;
        if (k == start) return false;
        if (k < n && p[k] == '.') {
            k++;
            continue;
        }
        break;
    }
    *i = k;
    return true;
}

/* Domain or address literal, the whole of p[0..n). */
static bool whole_domain_or_literal(const char *p, size_t n)
{
    size_t i = 0;
    bool ok = (n > 0 && p[0] == '[') ? scan_literal(p, n, &i) : scan_domain(p, n, &i);
    return ok && i == n;
}

/* ---- Commands ------------------------------------------------------------ */

static int copy_arg(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap) return SMTP_ERR_LINE_TOO_LONG; /* cannot happen after the length check */
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* Reverse-path / Forward-path: "<" [ A-d-l ":" ] Mailbox ">" or "<>"
 * (RFC 5321 4.1.2), starting at p[*i] == '<'. bad is the error for a
 * syntax problem (sender or recipient flavour). */
static int parse_path(const char *p, size_t n, size_t *i, bool is_mail,
                      struct smtp_command *out)
{
    int bad = is_mail ? SMTP_ERR_BAD_SENDER : SMTP_ERR_BAD_RECIPIENT;
    size_t open = *i, k = *i;
    if (k >= n || p[k] != '<') return bad;
    k++;
    if (k < n && p[k] == '>') {
        if (!is_mail) return bad; /* RFC 5321 4.1.1.3: RCPT needs a mailbox */
        out->null_path = true;    /* RFC 5321 4.5.5: bounces use <> */
        *i = k + 1;
        return 0;
    }
    if (k < n && p[k] == '@') {
        /* A-d-l = At-domain *( "," At-domain ); RFC 5321 4.1.2 and
         * appendix C: servers SHOULD accept a source route and ignore it. */
        for (;;) {
            if (k >= n || p[k] != '@') return bad;
            k++;
            if (!scan_domain(p, n, &k)) return bad;
            if (k < n && p[k] == ',') {
                k++;
                continue;
            }
            break;
        }
        if (k >= n || p[k] != ':') return bad;
        k++;
    }
    size_t mb = k;
    /* RFC 5321 4.1.1.3: "<Postmaster>" without a domain must be accepted. */
    if (!is_mail && n - k >= 11 && ascii_ncasecmp(p + k, "postmaster>", 11) == 0) {
        out->postmaster = true;
        out->local_len = 10;
        k += 10;
    } else {
        bool ok = (k < n && p[k] == '"') ? scan_quoted(p, n, &k) : scan_dot_string(p, n, &k);
        if (!ok) return bad;
        out->local_len = k - mb;
        if (out->local_len > SMTP_LOCAL_PART_MAX) return SMTP_ERR_PATH_TOO_LONG; /* 4.5.3.1.1 */
        if (k >= n || p[k] != '@') return bad;
        k++;
        size_t dom = k;
        ok = (k < n && p[k] == '[') ? scan_literal(p, n, &k) : scan_domain(p, n, &k);
        if (!ok) return bad;
        if (k - dom > SMTP_DOMAIN_MAX) return SMTP_ERR_PATH_TOO_LONG; /* 4.5.3.1.2 */
    }
    if (k >= n || p[k] != '>') return bad;
    if (k + 1 - open > SMTP_PATH_MAX) return SMTP_ERR_PATH_TOO_LONG; /* 4.5.3.1.3 */
    int err = copy_arg(out->path, sizeof out->path, p + mb, k - mb);
    if (err) return err;
    *i = k + 1;
    return 0;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value]; esmtp-keyword = (ALPHA /
 * DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126)
 * (RFC 5321 4.1.2). Parameters are separated by SP; we tolerate several. */
static int parse_params(const char *p, size_t n, size_t k, bool is_mail,
                        struct smtp_command *out)
{
    while (k < n) {
        if (p[k] != ' ') return SMTP_ERR_SYNTAX; /* junk right after ">" */
        while (k < n && p[k] == ' ') k++;
        if (k == n) break;
        size_t kw = k;
        if (!is_letdig(p[k])) return SMTP_ERR_BAD_PARAM;
        while (k < n && (is_letdig(p[k]) || p[k] == '-')) k++;
        size_t kwlen = k - kw;
        const char *val = NULL;
        size_t vlen = 0;
        if (k < n && p[k] == '=') {
            k++;
            val = p + k;
            while (k < n && p[k] >= 33 && p[k] <= 126 && p[k] != '=') k++;
            vlen = (size_t)(p + k - val);
            if (vlen == 0) return SMTP_ERR_BAD_PARAM;
        }
        if (k < n && p[k] != ' ') return SMTP_ERR_BAD_PARAM;
        if (is_mail && ascii_eq(p + kw, kwlen, "SIZE")) {
            /* RFC 1870 3: size-value ::= 1*20DIGIT */
            if (out->has_size || !val || vlen > 20) return SMTP_ERR_BAD_PARAM;
            uint64_t v = 0;
            for (size_t j = 0; j < vlen; j++) {
                if (!is_digit(val[j])) return SMTP_ERR_BAD_PARAM;
                unsigned d = (unsigned)(val[j] - '0');
                v = (v > (UINT64_MAX - d) / 10) ? UINT64_MAX : v * 10 + d;
            }
            out->has_size = true;
            out->size = v;
        } else if (is_mail && ascii_eq(p + kw, kwlen, "BODY")) {
            /* RFC 6152 2: BODY=7BIT / BODY=8BITMIME */
            if (out->body != SMTP_BODY_NONE || !val) return SMTP_ERR_BAD_PARAM;
            if (ascii_eq(val, vlen, "7BIT")) out->body = SMTP_BODY_7BIT;
            else if (ascii_eq(val, vlen, "8BITMIME")) out->body = SMTP_BODY_8BITMIME;
            else return SMTP_ERR_BAD_PARAM;
        } else {
            /* RFC 5321 4.1.1.11: a parameter the server did not announce. */
            return SMTP_ERR_UNKNOWN_PARAM;
        }
    }
    return 0;
}

/* MAIL FROM:<path> [params] / RCPT TO:<path> [params] */
static int parse_mail_rcpt(const char *a, size_t n, bool is_mail, struct smtp_command *out)
{
    const char *kw = is_mail ? "FROM:" : "TO:";
    size_t kwlen = strlen(kw);
    if (n < kwlen || ascii_ncasecmp(a, kw, kwlen) != 0) return SMTP_ERR_SYNTAX;
    size_t k = kwlen;
    /* Tolerated like Postfix and OpenSMTPD: SP between ":" and "<". */
    while (k < n && a[k] == ' ') k++;
    if (k == n) return SMTP_ERR_SYNTAX; /* "MAIL FROM:" with nothing */
    int err = parse_path(a, n, &k, is_mail, out);
    if (err) return err;
    return parse_params(a, n, k, is_mail, out);
}

/* AUTH mechanism [SP initial-response] (RFC 4954 4). */
static int parse_auth(const char *a, size_t n, struct smtp_command *out)
{
    size_t k = 0;
    /* RFC 4422 3.1: sasl-mech = 1*20mech-char; compared without case. */
    while (k < n && (is_letdig(a[k]) || a[k] == '-' || a[k] == '_')) k++;
    if (k == 0 || k > SMTP_AUTH_MECH_MAX || (k < n && a[k] != ' ')) return SMTP_ERR_SYNTAX;
    int mech = -1;
    for (int m = 0; m < SMTP_AUTH_MECH_COUNT; m++)
        if (ascii_eq(a, k, smtp_auth_mech_names[m])) mech = m;
    if (mech < 0) return SMTP_ERR_AUTH_MECH;
    out->mech = (enum smtp_auth_mech)mech;
    if (k == n) return 0;
    const char *r = a + k + 1;
    size_t rlen = n - k - 1;
    if (rlen == 0 || memchr(r, ' ', rlen)) return SMTP_ERR_SYNTAX;
    out->has_initial = true;
    if (rlen == 1 && r[0] == '=') return 0; /* "=": an empty response */
    unsigned char scratch[BASE64_DECODED_MAX(SMTP_ARG_MAX)];
    if (base64_decode(r, rlen, scratch, sizeof scratch) < 0) {
        out->has_initial = false;
        return SMTP_ERR_AUTH_BASE64;
    }
    return copy_arg(out->initial, sizeof out->initial, r, rlen);
}

int smtp_parse_command(const char *line, size_t len, struct smtp_command *out)
{
    memset(out, 0, sizeof *out);
    out->verb = SMTP_VERB_COUNT;
    if (len > SMTP_ARG_MAX) return SMTP_ERR_LINE_TOO_LONG; /* RFC 5321 4.5.3.1.4 */
    size_t v = 0;
    while (v < len && line[v] != ' ') v++;
    for (int i = 0; i < SMTP_VERB_COUNT; i++)
        if (ascii_eq(line, v, smtp_verb_names[i])) out->verb = (enum smtp_verb)i;
    if (out->verb == SMTP_VERB_COUNT) return SMTP_ERR_UNKNOWN_VERB;

    /* The argument: after one SP, trailing SPs dropped (tolerated). */
    const char *a = line + v;
    size_t n = len - v;
    while (n > 0 && a[n - 1] == ' ') n--;
    if (n > 0) {
        a++;
        n--;
    }
    /* NUL, CR and LF never belong in an argument (RFC 5321 2.3.8). */
    for (size_t j = 0; j < n; j++)
        if (a[j] == '\0' || a[j] == '\r' || a[j] == '\n') return SMTP_ERR_SYNTAX;

    switch (out->verb) {
    case SMTP_HELO:
    case SMTP_EHLO:
        /* RFC 5321 4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ).
         * HELO is given the same latitude: clients do send literals. */
        if (n == 0) return SMTP_ERR_SYNTAX;
        if (n > SMTP_DOMAIN_MAX || !whole_domain_or_literal(a, n)) return SMTP_ERR_BAD_DOMAIN;
        return copy_arg(out->domain, sizeof out->domain, a, n);
    case SMTP_MAIL:
        return parse_mail_rcpt(a, n, true, out);
    case SMTP_RCPT:
        return parse_mail_rcpt(a, n, false, out);
    case SMTP_DATA:
    case SMTP_RSET:
    case SMTP_QUIT:
    case SMTP_STARTTLS: /* RFC 3207 4: "501 Syntax error (no parameters allowed)" */
        return n == 0 ? 0 : SMTP_ERR_SYNTAX;
    case SMTP_VRFY:
    case SMTP_EXPN:
        if (n == 0) return SMTP_ERR_SYNTAX; /* RFC 5321 4.1.1.6/7: SP String */
        return copy_arg(out->arg, sizeof out->arg, a, n);
    case SMTP_HELP:
    case SMTP_NOOP: /* RFC 5321 4.1.1.9: a NOOP string is ignored */
        return copy_arg(out->arg, sizeof out->arg, a, n);
    case SMTP_AUTH:
        if (n == 0) return SMTP_ERR_SYNTAX;
        return parse_auth(a, n, out);
    case SMTP_VERB_COUNT:
        break;
    }
    EXPECT(0 && "verb out of range");
    return SMTP_ERR_UNKNOWN_VERB;
}

/* Length of a NUL-terminated field of an array of cap bytes, or cap when it
 * is not terminated (then the struct is invalid). */
static size_t field_len(const char *s, size_t cap)
{
    const char *z = memchr(s, '\0', cap);
    return z ? (size_t)(z - s) : cap;
}

#define FIELD(f) (int)field_len((f), sizeof(f)), (f)

static bool same_command(const struct smtp_command *a, const struct smtp_command *b)
{
    if (a->verb != b->verb) return false;
    switch (a->verb) {
    case SMTP_HELO:
    case SMTP_EHLO:
        return strcmp(a->domain, b->domain) == 0;
    case SMTP_MAIL:
    case SMTP_RCPT:
        return a->null_path == b->null_path &&
               (a->null_path || strcmp(a->path, b->path) == 0) &&
               a->has_size == b->has_size && (!a->has_size || a->size == b->size) &&
               a->body == b->body;
    case SMTP_VRFY:
    case SMTP_EXPN:
    case SMTP_HELP:
    case SMTP_NOOP:
        return strcmp(a->arg, b->arg) == 0;
    case SMTP_AUTH:
        return a->mech == b->mech && a->has_initial == b->has_initial &&
               (!a->has_initial || strcmp(a->initial, b->initial) == 0);
    default:
        return true;
    }
}

int smtp_format_command(const struct smtp_command *c, char *buf, size_t cap)
{
    if ((unsigned)c->verb >= SMTP_VERB_COUNT) return SMTP_ERR_INVALID;
    if (field_len(c->domain, sizeof c->domain) == sizeof c->domain ||
        field_len(c->path, sizeof c->path) == sizeof c->path ||
        field_len(c->arg, sizeof c->arg) == sizeof c->arg ||
        field_len(c->initial, sizeof c->initial) == sizeof c->initial)
        return SMTP_ERR_INVALID; /* a field without its NUL */
    /* Room for the longest fields run together; the result is checked
     * against the real limit below. */
    char tmp[2 * SMTP_COMMAND_LINE_MAX + SMTP_PATH_MAX + SMTP_DOMAIN_MAX];
    const char *name = smtp_verb_names[c->verb];
    int n = 0;
    switch (c->verb) {
    case SMTP_HELO:
    case SMTP_EHLO:
        n = snprintf(tmp, sizeof tmp, "%s %.*s", name, FIELD(c->domain));
        break;
    case SMTP_MAIL:
    case SMTP_RCPT: {
        if ((unsigned)c->body >= SMTP_BODY_COUNT) return SMTP_ERR_INVALID;
        n = snprintf(tmp, sizeof tmp, "%s %s:<%.*s>", name,
                     c->verb == SMTP_MAIL ? "FROM" : "TO",
                     c->null_path ? 0 : (int)field_len(c->path, sizeof c->path), c->path);
        if (c->has_size)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, " SIZE=%" PRIu64, c->size);
        if (c->body != SMTP_BODY_NONE)
            n += snprintf(tmp + n, sizeof tmp - (size_t)n, " BODY=%s", smtp_body_names[c->body]);
        break;
    }
    case SMTP_VRFY:
    case SMTP_EXPN:
    case SMTP_HELP:
    case SMTP_NOOP:
        if (c->arg[0] == '\0')
            n = snprintf(tmp, sizeof tmp, "%s", name);
        else
            n = snprintf(tmp, sizeof tmp, "%s %.*s", name, FIELD(c->arg));
        break;
    case SMTP_AUTH:
        if ((unsigned)c->mech >= SMTP_AUTH_MECH_COUNT) return SMTP_ERR_INVALID;
        if (!c->has_initial)
            n = snprintf(tmp, sizeof tmp, "AUTH %s", smtp_auth_mech_names[c->mech]);
        else if (c->initial[0] == '\0') /* RFC 4954 4: "=" is an empty response */
            n = snprintf(tmp, sizeof tmp, "AUTH %s =", smtp_auth_mech_names[c->mech]);
        else
            n = snprintf(tmp, sizeof tmp, "AUTH %s %.*s", smtp_auth_mech_names[c->mech],
                         FIELD(c->initial));
        break;
    default:
        n = snprintf(tmp, sizeof tmp, "%s", name);
        break;
    }
    if (n < 0 || (size_t)n >= sizeof tmp) return SMTP_ERR_INVALID;
    /* Parse what we made: only a line that reads back as c goes out, so no
     * field can smuggle in a CRLF, a second command or a bad path. */
    struct smtp_command back;
    if (smtp_parse_command(tmp, (size_t)n, &back) != 0 || !same_command(c, &back))
        return SMTP_ERR_INVALID;
    if ((size_t)n + 3 > cap) return SMTP_ERR_NO_SPACE;
    memcpy(buf, tmp, (size_t)n);
    memcpy(buf + n, "\r\n", 3);
    return n + 2;
}

int smtp_parse_auth_response(const char *line, size_t len, char *out, size_t cap)
{
    if (len == 1 && line[0] == '*') return SMTP_ERR_AUTH_CANCELLED; /* RFC 4954 4 */
    if (len == 1 && line[0] == '=') return 0; /* tolerated: the initial-response "=" */
    int n = base64_decode(line, len, out, cap);
    if (n == BASE64_ERR_NO_SPACE) return SMTP_ERR_NO_SPACE;
    if (n < 0) return SMTP_ERR_AUTH_BASE64;
    return n;
}

/* ---- Replies ------------------------------------------------------------- */

/* Reply-code = %x32-35 %x30-35 %x30-39 (RFC 5321 4.2). */
static bool valid_code(const char *p)
{
    return p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '5' && is_digit(p[2]);
}

/* status-code = class "." subject "." detail; subject and detail 1*3digit
 * (RFC 3463 2). Scans p[0..n) from 0, returns the length used or 0. */
static size_t scan_enhanced(const char *p, size_t n, int cls, int *s, int *d)
{
    if (n < 5 || p[0] != (char)('0' + cls) || p[1] != '.') return 0;
    size_t k = 2;
    int v[2] = {0, 0};
    for (int part = 0; part < 2; part++) {
        size_t start = k;
        while (k < n && is_digit(p[k]) && k - start < 3) v[part] = v[part] * 10 + (p[k++] - '0');
        if (k == start) return 0;
        if (part == 0) {
            if (k >= n || p[k] != '.') return 0;
            k++;
        }
    }
    if (k < n && p[k] != ' ') return 0; /* "2.1.0x" or a fourth digit is text */
    *s = v[0];
    *d = v[1];
    return k;
}

int smtp_parse_reply_line(const char *line, size_t len, struct smtp_reply_line *out)
{
    memset(out, 0, sizeof *out);
    out->text = line + len;
    if (len > SMTP_REPLY_LINE_MAX - 2) return SMTP_ERR_REPLY_TOO_LONG;
    if (len < 3 || !valid_code(line)) return SMTP_ERR_REPLY_CODE;
    if (len > 3 && is_digit(line[3])) return SMTP_ERR_REPLY_CODE; /* "2500" */
    if (memchr(line, '\0', len)) return SMTP_ERR_REPLY_SYNTAX;
    out->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    /* RFC 5321 4.2: Reply-code [ SP textstring ] on the last line,
     * Reply-code "-" [ textstring ] on the others. */
    if (len == 3) {
        out->last = true;
        return 0;
    }
    if (line[3] != ' ' && line[3] != '-') return SMTP_ERR_REPLY_SYNTAX;
    out->last = line[3] == ' ';
    const char *t = line + 4;
    size_t tn = len - 4;
    int cls = line[0] - '0', s = 0, d = 0;
    /* RFC 2034 4 / RFC 3463 2: 2xx, 4xx and 5xx texts may start with an
     * enhanced code of the same class (3xx is excluded by the grammar: an
     * enhanced class is 2, 4 or 5). */
    size_t e = cls != 3 ? scan_enhanced(t, tn, cls, &s, &d) : 0;
    if (e) {
        out->enh_class = cls;
        out->enh_subject = s;
        out->enh_detail = d;
        t += e;
        tn -= e;
        if (tn > 0) { /* the SP after the enhanced code */
            t++;
            tn--;
        }
    }
    out->text = t;
    out->text_len = tn;
    return 0;
}

void smtp_reply_reader_init(struct smtp_reply_reader *r)
{
    linebuf_init(&r->lb, r->storage, sizeof r->storage);
    smtp_reply_reader_reset(r);
}

void smtp_reply_reader_reset(struct smtp_reply_reader *r)
{
    linebuf_reset(&r->lb);
    r->reply.nlines = 0;
    r->reply.code = 0;
    r->ready = false;
    r->err = 0;
}

size_t smtp_reply_reader_feed(struct smtp_reply_reader *r, const char *in, size_t n)
{
    if (r->err) return n; /* dropped: the reader stays failed until reset */
    return linebuf_feed(&r->lb, in, n);
}

int smtp_reply_reader_next(struct smtp_reply_reader *r, const struct smtp_reply **reply)
{
    if (r->err) return r->err;
    struct smtp_reply *rp = &r->reply;
    if (r->ready) { /* the last reply was handed out: start the next one */
        r->ready = false;
        rp->nlines = 0;
    }
    for (;;) {
        const char *line;
        size_t len;
        bool bare;
        enum linebuf_status st = linebuf_next(&r->lb, &line, &len, &bare);
        if (st == LINEBUF_NEED_MORE) return SMTP_REPLY_NEED_MORE;
        if (st == LINEBUF_TOO_LONG) return r->err = SMTP_ERR_REPLY_TOO_LONG;
        struct smtp_reply_line rl;
        int err = smtp_parse_reply_line(line, len, &rl);
        if (err) return r->err = err;
        if (rp->nlines == 0) {
            rp->code = rl.code;
            rp->enh_class = rl.enh_class;
            rp->enh_subject = rl.enh_subject;
            rp->enh_detail = rl.enh_detail;
        } else if (rl.code != rp->code) {
            return r->err = SMTP_ERR_REPLY_MISMATCH; /* RFC 5321 4.2.1 */
        }
        if (rp->nlines == SMTP_REPLY_LINES_MAX) return r->err = SMTP_ERR_REPLY_TOO_MANY;
        EXPECT(rl.text_len < SMTP_REPLY_LINE_MAX);
        memcpy(rp->lines[rp->nlines], rl.text, rl.text_len);
        rp->lines[rp->nlines][rl.text_len] = '\0';
        rp->nlines++;
        if (rl.last) {
            r->ready = true;
            *reply = rp;
            return SMTP_REPLY_READY;
        }
    }
}

int smtp_format_reply(int code, const char *enhanced, const char *const *lines,
                      size_t nlines, char *buf, size_t cap)
{
    if (code < 200 || code > 599) return SMTP_ERR_INVALID;
    char cs[4] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10),
                  (char)('0' + code % 10), 0};
    if (!valid_code(cs)) return SMTP_ERR_INVALID;
    size_t elen = 0;
    if (enhanced) {
        int s, d;
        elen = strlen(enhanced);
        if (code / 100 == 3 || scan_enhanced(enhanced, elen, code / 100, &s, &d) != elen)
            return SMTP_ERR_INVALID;
    }
    if (nlines > SMTP_REPLY_LINES_MAX) return SMTP_ERR_INVALID;
    size_t count = nlines ? nlines : 1;
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        const char *t = nlines ? lines[i] : "";
        size_t tn = strlen(t);
        if (memchr(t, '\r', tn) || memchr(t, '\n', tn)) return SMTP_ERR_INVALID;
        /* code, separator, [enhanced [SP]], text, CRLF. The last line keeps
         * its SP even with no text: RFC 5321 4.2.1 "servers SHOULD send the
         * <SP> if subsequent text is not sent", and RFC 4954 4 requires it
         * of an empty challenge, "334" SP CRLF. */
        bool more = i + 1 < count;
        size_t need = 3 + 1 + elen + (elen && tn ? 1 : 0) + tn + 2;
        if (need > SMTP_REPLY_LINE_MAX) return SMTP_ERR_INVALID;
        if (o + need + 1 > cap) return SMTP_ERR_NO_SPACE;
        memcpy(buf + o, cs, 3);
        o += 3;
        buf[o++] = more ? '-' : ' ';
        if (elen) {
            memcpy(buf + o, enhanced, elen);
            o += elen;
            if (tn) buf[o++] = ' ';
        }
        memcpy(buf + o, t, tn);
        o += tn;
        buf[o++] = '\r';
        buf[o++] = '\n';
    }
    buf[o] = '\0';
    return (int)o;
}

int smtp_parse_ehlo(const struct smtp_reply *r, struct smtp_ehlo *out)
{
    memset(out, 0, sizeof *out);
    if (r->code != 250) return SMTP_ERR_INVALID;
    /* RFC 5321 4.1.1.1: the first line is the greeting; each further line
     * is ehlo-keyword *( SP ehlo-param ). */
    for (size_t i = 1; i < r->nlines; i++) {
        const char *l = r->lines[i];
        size_t kw = 0;
        while (l[kw] && l[kw] != ' ' && l[kw] != '=') kw++;
        const char *rest = l[kw] ? l + kw + 1 : l + kw;
        if (ascii_eq(l, kw, "SIZE")) {
            out->size = true;
            uint64_t v = 0;
            for (const char *c = rest; is_digit(*c); c++) {
                unsigned dg = (unsigned)(*c - '0');
                v = (v > (UINT64_MAX - dg) / 10) ? UINT64_MAX : v * 10 + dg;
            }
            out->size_max = v; /* RFC 1870 3: 0 or absent means no fixed limit */
        } else if (ascii_eq(l, kw, "8BITMIME")) {
            out->eightbitmime = true;
        } else if (ascii_eq(l, kw, "PIPELINING")) {
            out->pipelining = true;
        } else if (ascii_eq(l, kw, "STARTTLS")) {
            out->starttls = true;
        } else if (ascii_eq(l, kw, "ENHANCEDSTATUSCODES")) {
            out->enhanced = true;
        } else if (ascii_eq(l, kw, "AUTH")) {
            /* "AUTH PLAIN LOGIN"; the old "AUTH=PLAIN LOGIN" form too. */
            const char *c = rest;
            while (*c) {
                while (*c == ' ') c++;
                size_t m = 0;
                while (c[m] && c[m] != ' ') m++;
                if (ascii_eq(c, m, "PLAIN")) out->auth_plain = true;
                if (ascii_eq(c, m, "LOGIN")) out->auth_login = true;
                c += m;
            }
        }
    }
    return 0;
}
