/* Scenario files: JSON syntax checked here first (so a syntax error gets a
 * precise line:column and a sentence, RFC 8259), then parsed with cJSON and
 * checked field by field against the format lessons/README.md documents. */
#include "sim/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "protocols/common.h"
#include "protocols/dns.h"

const char *const sim_scn_listener_names[SIM_SCN_LISTENER_COUNT] = {
    "relay", "submission", "submissions", "imap", "imaps", "pop3", "pop3s",
};
const unsigned sim_scn_listener_ports[SIM_SCN_LISTENER_COUNT] = {
    25, 587, 465, 143, 993, 110, 995,
};
const char *const sim_scn_action_names[SIM_SCN_ACTION_COUNT] = {
    "narrate",     "send",      "check",      "read",         "flag",
    "unflag",      "move",      "delete",     "save_draft",   "server_down",
    "server_up",   "block_port", "unblock_port", "mailbox_full",
};
const char *const sim_scn_proto_names[SIM_SCN_PROTO_COUNT] = {"imap", "pop3"};
const char *const sim_scn_question_kind_names[SIM_SCN_Q_KIND_COUNT] = {"choice", "predict"};

/* ---- problems ------------------------------------------------------------ */

void sim_scn_diag_add(struct sim_scn_diags *dg, unsigned line, unsigned col, const char *path,
                      const char *fmt, ...)
{
    if (dg->n >= SIM_SCN_DIAGS_MAX) {
        dg->dropped++;
        return;
    }
    struct sim_scn_diag *d = &dg->d[dg->n++];
    d->line = line;
    d->col = col;
    snprintf(d->path, sizeof d->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
}

char *sim_scn_diag_format(const struct sim_scn_diags *dg, size_t i, char *out, size_t cap)
{
    if (!cap) return out;
    out[0] = '\0';
    if (i >= dg->n) return out;
    const struct sim_scn_diag *d = &dg->d[i];
    size_t o = 0;
    int k;
    if (d->line)
        k = snprintf(out, cap, "%s:%u:%u: ", dg->file, d->line, d->col);
    else
        k = snprintf(out, cap, "%s: ", dg->file);
    o = k > 0 ? (size_t)k : 0;
    if (o < cap && d->path[0]) {
        k = snprintf(out + o, cap - o, "%s: ", d->path);
        o += k > 0 ? (size_t)k : 0;
    }
    if (o < cap) snprintf(out + o, cap - o, "%s", d->text);
    return out;
}

void sim_scn_diags_print(FILE *out, const struct sim_scn_diags *dg)
{
    char line[SIM_SCN_PATH_MAX + SIM_SCN_DIAG_TEXT_MAX + 300];
    for (size_t i = 0; i < dg->n; i++)
        fprintf(out, "%s\n", sim_scn_diag_format(dg, i, line, sizeof line));
    if (dg->dropped)
        fprintf(out, "%s: ... and %zu more problems\n", dg->file, dg->dropped);
}

/* ---- positions ----------------------------------------------------------- */

/* Where each JSON node starts in the text (an object member: its key), so a
 * problem found in the tree can name its line. */
struct pos {
    const cJSON *node;
    unsigned     line, col;
};

/* The JSON syntax checker and position recorder: one recursive descent over
 * the text. With nodes (second pass, the text is known good) it walks the
 * cJSON tree alongside and records each node's offset. */
struct scan {
    const char *t;
    size_t      n, i;
    unsigned    depth;
    bool        bad;          /* a syntax error was found (first pass) */
    size_t      err_off;
    char        err[160];
    struct pos *pos;          /* second pass; sorted by node when done */
    size_t      npos, cap;
    bool        oom;
    size_t      counted;      /* line and col are those of offset counted */
    unsigned    line, col;
};

/* Nesting allowed: a lesson needs five levels; cJSON's own limit is 1000. */
#define SCAN_DEPTH_MAX 64

static void scan_fail(struct scan *s, size_t off, const char *msg)
{
    if (s->bad) return;
    s->bad = true;
    s->err_off = off;
    snprintf(s->err, sizeof s->err, "%s", msg);
}

static void count_lines(const char *t, size_t from, size_t to, unsigned *line, unsigned *col);

/* Offsets are recorded in increasing order, so each node's line and column
 * are counted on from the previous node's: one pass over the text in all. */
static void record(struct scan *s, const cJSON *node, size_t off)
{
    if (!node || s->oom) return;
    count_lines(s->t, s->counted, off, &s->line, &s->col);
    s->counted = off;
    if (s->npos == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct pos *p = realloc(s->pos, cap * sizeof *p);
        if (!p) {
            s->oom = true;
            return;
        }
        s->pos = p;
        s->cap = cap;
    }
    s->pos[s->npos++] = (struct pos){node, s->line, s->col};
}

static void skip_ws(struct scan *s)
{
    /* RFC 8259 2: space, tab, LF, CR */
    while (s->i < s->n && (s->t[s->i] == ' ' || s->t[s->i] == '\t' || s->t[s->i] == '\n' ||
                           s->t[s->i] == '\r'))
        s->i++;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string (RFC 8259 7). The cursor is on the opening quote. */
static void scan_string(struct scan *s)
{
    size_t start = s->i++;
    while (s->i < s->n) {
        unsigned char c = (unsigned char)s->t[s->i];
        if (c == '"') {
            s->i++;
            return;
        }
        if (c == '\\') {
            if (s->i + 1 >= s->n) break;
            char e = s->t[s->i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++)
                    if (s->i + k >= s->n || !is_hex(s->t[s->i + k])) {
                        scan_fail(s, s->i, "\\u must be followed by four hex digits");
                        return;
                    }
                s->i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                scan_fail(s, s->i, "unknown escape in a string (use \\\\ for a backslash)");
                return;
            }
            s->i += 2;
            continue;
        }
        if (c < 0x20) {
            scan_fail(s, s->i,
                      c == '\n' ? "a string must end on the line it starts (write \\n for a line break)"
                                : "a control character inside a string (escape it)");
            return;
        }
        s->i++;
    }
    scan_fail(s, start, "this string has no closing quote");
}

static void scan_number(struct scan *s)
{
    size_t start = s->i;
    if (s->t[s->i] == '-') s->i++;
    if (s->i >= s->n || s->t[s->i] < '0' || s->t[s->i] > '9') {
        scan_fail(s, start, "expected a digit after '-'");
        return;
    }
    if (s->t[s->i] == '0' && s->i + 1 < s->n && s->t[s->i + 1] >= '0' && s->t[s->i + 1] <= '9') {
        scan_fail(s, start, "numbers do not start with 0 (RFC 8259 6)");
        return;
    }
    while (s->i < s->n && s->t[s->i] >= '0' && s->t[s->i] <= '9') s->i++;
    if (s->i < s->n && s->t[s->i] == '.') {
        s->i++;
        if (s->i >= s->n || s->t[s->i] < '0' || s->t[s->i] > '9') {
            scan_fail(s, s->i, "expected a digit after the decimal point");
            return;
        }
        while (s->i < s->n && s->t[s->i] >= '0' && s->t[s->i] <= '9') s->i++;
    }
    if (s->i < s->n && (s->t[s->i] == 'e' || s->t[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->t[s->i] == '+' || s->t[s->i] == '-')) s->i++;
        if (s->i >= s->n || s->t[s->i] < '0' || s->t[s->i] > '9') {
            scan_fail(s, s->i, "expected a digit in the exponent");
            return;
        }
        while (s->i < s->n && s->t[s->i] >= '0' && s->t[s->i] <= '9') s->i++;
    }
}

static void scan_value(struct scan *s, const cJSON *node);

/* What was found where wanted was expected; hint (or "") follows when
 * something was found: at the end of the file the likely cause is another. */
static void unexpected(struct scan *s, const char *wanted, const char *hint)
{
    char msg[160];
    if (s->i >= s->n)
        snprintf(msg, sizeof msg, "the file ends here, but %s was expected (a missing } or ]?)",
                 wanted);
    else if (s->t[s->i] == '\'')
        snprintf(msg, sizeof msg, "expected %s; JSON strings use double quotes, not '", wanted);
    else
        snprintf(msg, sizeof msg, "expected %s%s, found '%c'", wanted, hint, s->t[s->i]);
    scan_fail(s, s->i, msg);
}

/* An object member's "name": before its value; false after a problem. */
static bool scan_member_name(struct scan *s)
{
    if (s->i >= s->n || s->t[s->i] != '"') {
        unexpected(s, "a field name in double quotes", "");
        return false;
    }
    scan_string(s);
    if (s->bad) return false;
    skip_ws(s);
    if (s->i >= s->n || s->t[s->i] != ':') {
        unexpected(s, "':' after the field name", "");
        return false;
    }
    s->i++;
    return true;
}

/* An object's members or an array's entries (s->i at the { or [), separated
 * by commas: the two differ only in the member's name and in the words of
 * their problems. */
static void scan_container(struct scan *s, const cJSON *node)
{
    bool object = s->t[s->i] == '{';
    char close = object ? '}' : ']';
    const cJSON *child = node ? node->child : NULL;
    s->i++;
    skip_ws(s);
    if (s->i < s->n && s->t[s->i] == close) {
        s->i++;
        return;
    }
    for (;;) {
        skip_ws(s);
        if (s->i < s->n && s->t[s->i] == close) {
            scan_fail(s, s->i, object ? "a comma before } (JSON allows no trailing comma)"
                                      : "a comma before ] (JSON allows no trailing comma)");
            return;
        }
        record(s, child, s->i); /* an object member's place is its name's */
        if (object && !scan_member_name(s)) return;
        scan_value(s, child);
        if (s->bad) return;
        if (child) child = child->next;
        skip_ws(s);
        if (s->i < s->n && s->t[s->i] == ',') {
            s->i++;
            continue;
        }
        if (s->i < s->n && s->t[s->i] == close) {
            s->i++;
            return;
        }
        unexpected(s, object ? "',' or '}' after a field" : "',' or ']' after a list entry",
                   " (a missing comma?)");
        return;
    }
}

static void scan_value(struct scan *s, const cJSON *node)
{
    skip_ws(s);
    if (s->i >= s->n) {
        unexpected(s, "a value", "");
        return;
    }
    if (++s->depth > SCAN_DEPTH_MAX) {
        scan_fail(s, s->i, "nested too deeply");
        return;
    }
    char c = s->t[s->i];
    if (c == '{' || c == '[')
        scan_container(s, node);
    else if (c == '"')
        scan_string(s);
    else if (c == '-' || (c >= '0' && c <= '9'))
        scan_number(s);
    else {
        static const char *const words[] = {"true", "false", "null"};
        bool ok = false;
        for (size_t k = 0; k < 3 && !ok; k++) {
            size_t len = strlen(words[k]);
            if (s->n - s->i >= len && memcmp(s->t + s->i, words[k], len) == 0) {
                s->i += len;
                ok = true;
            }
        }
        if (!ok)
            unexpected(s, "a value",
                       " (a string in double quotes, a number, true, false, null, { or [)");
    }
    s->depth--;
}

/* The whole text: a BOM is allowed (cJSON skips it too), then one value. */
static void scan_text(struct scan *s, const cJSON *root)
{
    s->i = 0;
    s->line = s->col = 1;
    if (s->n >= 3 && memcmp(s->t, "\xEF\xBB\xBF", 3) == 0) s->i = 3; /* a BOM takes no column */
    s->counted = s->i;
    skip_ws(s);
    if (s->i >= s->n) {
        scan_fail(s, s->i, "the file is empty; a scenario is one JSON object { ... }");
        return;
    }
    record(s, root, s->i);
    scan_value(s, root);
    if (s->bad) return;
    skip_ws(s);
    if (s->i < s->n) scan_fail(s, s->i, "text after the end of the JSON object");
}

/* Moves line:col (1-based, in characters) from offset from to offset to. */
static void count_lines(const char *t, size_t from, size_t to, unsigned *line, unsigned *col)
{
    for (size_t i = from; i < to && t[i]; i++) {
        if (t[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)t[i] & 0xC0) != 0x80) {
            ++*col; /* count characters, not UTF-8 continuation bytes */
        }
    }
}

static void line_col(const char *t, size_t off, unsigned *line, unsigned *col)
{
    size_t from = off >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* a BOM takes no column */
    *line = *col = 1;
    count_lines(t, from, off, line, col);
}

static int pos_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct pos *)a)->node;
    uintptr_t y = (uintptr_t)((const struct pos *)b)->node;
    return x < y ? -1 : x > y;
}

/* Where node is in the text (0, 0 when not known): a binary search, since a
 * file full of mistakes asks for many positions. */
static void node_pos(const struct scan *sc, const cJSON *node, unsigned *line, unsigned *col)
{
    struct pos key = {.node = node};
    const struct pos *p = node ? bsearch(&key, sc->pos, sc->npos, sizeof key, pos_cmp) : NULL;
    *line = p ? p->line : 0;
    *col = p ? p->col : 0;
}

/* ---- the checker ----------------------------------------------------------- */

struct ctx {
    struct sim_scn_diags *dg;
    struct scan          *sc;
    struct sim_scenario  *s;
};

static void problem(struct ctx *x, const cJSON *node, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void problem(struct ctx *x, const cJSON *node, const char *path, const char *fmt, ...)
{
    unsigned line, col;
    if (x->dg->n >= SIM_SCN_DIAGS_MAX) {
        x->dg->dropped++; /* only counted: no need to look for its line */
        return;
    }
    node_pos(x->sc, node, &line, &col);
    char text[SIM_SCN_DIAG_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sim_scn_diag_add(x->dg, line, col, path, "%s", text);
}

/* Paths: "hosts[2].role". Built in caller-owned buffers. */
/* A path too long for the buffer is cut: it still points the reader near
 * the problem (the return value is checked so the cut is deliberate). */
static const char *field_path(char *buf, const char *base, const char *key)
{
    int n = snprintf(buf, SIM_SCN_PATH_MAX, "%s%s%s", base, *base ? "." : "", key);
    if (n < 0) buf[0] = '\0';
    return buf;
}

static const char *index_path(char *buf, const char *base, size_t i)
{
    int n = snprintf(buf, SIM_SCN_PATH_MAX, "%s[%zu]", base, i);
    if (n < 0) buf[0] = '\0';
    return buf;
}

static const char *type_of(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "a list";
    if (cJSON_IsObject(v)) return "an object";
    return "something else";
}

/* "a, b, c" from a name table. */
static const char *join_names(char *buf, size_t cap, const char *const *names, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++) {
        int k = snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", names[i]);
        if (k < 0) break;
        o += (size_t)k;
    }
    return buf;
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n]) n++;
    return n;
}

/* Fields one object may have before it is refused whole: the largest in the
 * format has 10. */
#define SCN_FIELDS_MAX 64

/* Reports fields of obj not in allowed (NULL-terminated) and fields given
 * twice. what names the object for the message ("a host"). */
static void check_fields(struct ctx *x, const cJSON *obj, const char *path,
                         const char *const *allowed, const char *what)
{
    char p[SIM_SCN_PATH_MAX], list[512];
    size_t n = 0;
    for (const cJSON *f = obj->child; f; f = f->next) n++;
    if (n > SCN_FIELDS_MAX) {
        /* No object of the format has this many: say so once rather than
         * judge each (the duplicate check below is quadratic). */
        problem(x, obj, path, "%zu fields for %s: far more than the format has", n, what);
        return;
    }
    for (const cJSON *f = obj->child; f; f = f->next) {
        if (strcmp(f->string, "comment") == 0 && !cJSON_IsString(f))
            problem(x, f, field_path(p, path, f->string), "expected a string, got %s",
                    type_of(f));
        bool known = false;
        for (size_t k = 0; allowed[k] && !known; k++) known = strcmp(f->string, allowed[k]) == 0;
        if (!known) {
            problem(x, f, field_path(p, path, f->string),
                    "unknown field for %s (expected one of %s)", what,
                    join_names(list, sizeof list, allowed, count_names(allowed)));
            continue;
        }
        for (const cJSON *g = obj->child; g != f; g = g->next)
            if (strcmp(g->string, f->string) == 0) {
                problem(x, f, field_path(p, path, f->string), "given twice");
                break;
            }
    }
}

/* Looks up key; reports a missing required field at the object. */
static const cJSON *get(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                        bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && required) problem(x, obj, path, "missing required field \"%s\"", key);
    return v;
}

/* A string field: *out stays as it is when absent. Returns false when it is
 * present but bad (or missing and required). */
static bool get_string(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                       bool required, size_t max, const char **out)
{
    char p[SIM_SCN_PATH_MAX];
    const cJSON *v = get(x, obj, path, key, required);
    if (!v) return !required;
    if (!cJSON_IsString(v)) {
        problem(x, v, field_path(p, path, key), "expected a string, got %s", type_of(v));
        return false;
    }
    size_t len = strlen(v->valuestring);
    if (required && len == 0) {
        problem(x, v, field_path(p, path, key), "expected a non-empty string");
        return false;
    }
    if (len > max) {
        problem(x, v, field_path(p, path, key), "too long: at most %zu characters, got %zu",
                max, len);
        return false;
    }
    *out = v->valuestring;
    return true;
}

static bool get_number(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                       bool required, bool whole, double min, double max, double *out)
{
    char p[SIM_SCN_PATH_MAX];
    const cJSON *v = get(x, obj, path, key, required);
    if (!v) return !required;
    if (!cJSON_IsNumber(v)) {
        problem(x, v, field_path(p, path, key), "expected a number, got %s", type_of(v));
        return false;
    }
    double d = v->valuedouble;
    if (whole && (d != floor(d) || !isfinite(d))) {
        problem(x, v, field_path(p, path, key), "expected a whole number, got %g", d);
        return false;
    }
    if (!(d >= min) || !(d <= max)) {
        problem(x, v, field_path(p, path, key), "expected a number from %g to %g, got %g", min,
                max, d);
        return false;
    }
    *out = d;
    return true;
}

static bool get_bool(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                     bool *out)
{
    char p[SIM_SCN_PATH_MAX];
    const cJSON *v = get(x, obj, path, key, false);
    if (!v) return true;
    if (!cJSON_IsBool(v)) {
        problem(x, v, field_path(p, path, key), "expected true or false, got %s", type_of(v));
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

/* An enumeration: one of names[0..n). */
static bool get_enum(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                     bool required, const char *const *names, size_t n, int *out)
{
    char p[SIM_SCN_PATH_MAX], list[512];
    const cJSON *v = get(x, obj, path, key, required);
    if (!v) return !required;
    if (cJSON_IsString(v))
        for (size_t i = 0; i < n; i++)
            if (strcmp(v->valuestring, names[i]) == 0) {
                *out = (int)i;
                return true;
            }
    if (cJSON_IsString(v))
        problem(x, v, field_path(p, path, key), "expected one of %s, got \"%s\"",
                join_names(list, sizeof list, names, n), v->valuestring);
    else
        problem(x, v, field_path(p, path, key), "expected one of %s, got %s",
                join_names(list, sizeof list, names, n), type_of(v));
    return false;
}

/* A list field (NULL when absent or bad). */
static const cJSON *get_list(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                             bool required, size_t min, size_t max)
{
    char p[SIM_SCN_PATH_MAX];
    const cJSON *v = get(x, obj, path, key, required);
    if (!v) return NULL;
    if (!cJSON_IsArray(v)) {
        problem(x, v, field_path(p, path, key), "expected a list [ ... ], got %s", type_of(v));
        return NULL;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n < min) {
        problem(x, v, field_path(p, path, key), "expected at least %zu %s, got %zu", min,
                min == 1 ? "entry" : "entries", n);
        return NULL;
    }
    if (n > max) {
        problem(x, v, field_path(p, path, key), "too many entries: at most %zu, got %zu", max, n);
        return NULL;
    }
    return v;
}

/* An object (entry of a list or a field), or a problem. */
static bool want_object(struct ctx *x, const cJSON *v, const char *path)
{
    if (cJSON_IsObject(v)) return true;
    problem(x, v, path, "expected an object { ... }, got %s", type_of(v));
    return false;
}

static sim_time seconds(double s)
{
    return (sim_time)llround(s * 1e6);
}

/* ---- values -------------------------------------------------------------------- */

static bool valid_ip(const char *ip)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, ip, buf) == 1 || inet_pton(AF_INET6, ip, buf) == 1;
}

/* Host names: letters, digits, '-' and '.', as DNS names are (RFC 952,
 * RFC 1123 2.1), so the views can show them and a zone can name them. */
static bool valid_host_name(const char *n)
{
    if (!*n) return false;
    for (const char *c = n; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '.'))
            return false;
    return true;
}

static bool valid_dns_name(const char *n)
{
    struct dns_name dn;
    return dns_name_from_text(&dn, n) == 0;
}

/* a@b with one '@', a non-empty local part and a domain that is a name. */
static bool valid_address(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || strchr(at + 1, '@') || !at[1]) return false;
    if (strlen(a) > 254) return false; /* RFC 5321 4.5.3.1.3 */
    for (const char *c = a; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '<' || *c == '>' || *c == '"') return false;
    return valid_dns_name(at + 1);
}

/* Case-insensitive equality of names, ignoring one final dot on either. */
static bool name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.') la--;
    if (lb && b[lb - 1] == '.') lb--;
    return la == lb && ascii_ncasecmp(a, b, la) == 0;
}

/* name is apex or below it. */
static bool in_zone(const char *name, const char *apex)
{
    if (name_eq(name, apex)) return true;
    size_t ln = strlen(name), la = strlen(apex);
    if (ln && name[ln - 1] == '.') ln--;
    if (la && apex[la - 1] == '.') la--;
    return ln > la + 1 && name[ln - la - 1] == '.' &&
           ascii_ncasecmp(name + ln - la, apex, la) == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the usual
 * era-based civil-to-days arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* "2024-03-04T09:00:00Z" (RFC 3339, UTC only) to seconds since 1970. */
static bool parse_start(const char *s, int64_t *out)
{
    unsigned y, mo, d, h, mi, se;
    char z, tail;
    if (strlen(s) != 20 ||
        sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%c%c", &y, &mo, &d, &h, &mi, &se, &z, &tail) != 7 ||
        z != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return false;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || se > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return false;
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se;
    return true;
}

/* "+0100", "-0530" (RFC 5322 3.3 zone) to minutes east of UTC. */
static bool parse_zone(const char *s, int *out)
{
    if (strlen(s) != 5 || (s[0] != '+' && s[0] != '-')) return false;
    for (int i = 1; i < 5; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) return false;
    *out = (s[0] == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

/* ---- references ------------------------------------------------------------ */

#define ROLE(r) (1u << (r))
#define ANY_ROLE ((1u << SIM_ROLE_COUNT) - 1u)
/* Hosts a person uses: where devices and mail programs run. */
#define CLIENT_ROLES \
    (ROLE(SIM_ROLE_COMPUTER) | ROLE(SIM_ROLE_LAPTOP) | ROLE(SIM_ROLE_PHONE) | ROLE(SIM_ROLE_WEBMAIL))

long sim_scenario_host(const struct sim_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcmp(s->hosts[i].name, name) == 0) return (long)i;
    return -1;
}

long sim_scenario_account(const struct sim_scenario *s, const char *address)
{
    for (size_t i = 0; i < s->naccounts; i++)
        if (s->accounts[i].address && ascii_ncasecmp(s->accounts[i].address, address,
                                                      strlen(address) + 1) == 0)
            return (long)i;
    return -1;
}

long sim_scenario_device(const struct sim_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->ndevices; i++)
        if (strcmp(s->devices[i].name, name) == 0) return (long)i;
    return -1;
}

static long server_on_host(const struct sim_scenario *s, size_t host)
{
    for (size_t i = 0; i < s->nservers; i++)
        if (s->servers[i].host == host) return (long)i;
    return -1;
}

/* "a dns-server or a mail-server" from a role mask. */
static const char *roles_text(char *buf, size_t cap, unsigned mask)
{
    size_t o = 0;
    buf[0] = '\0';
    size_t n = 0, total = 0;
    for (unsigned r = 0; r < SIM_ROLE_COUNT; r++) total += (mask >> r) & 1u;
    for (unsigned r = 0; r < SIM_ROLE_COUNT && o < cap; r++) {
        if (!((mask >> r) & 1u)) continue;
        int k = snprintf(buf + o, cap - o, "%s%s", n == 0 ? "" : n + 1 == total ? " or " : ", ",
                         sim_role_names[r]);
        if (k < 0) break;
        o += (size_t)k;
        n++;
    }
    return buf;
}

/* A field naming a host of one of the roles in mask. */
static bool ref_host(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                     bool required, unsigned mask, size_t *out)
{
    char p[SIM_SCN_PATH_MAX], roles[160];
    const char *name = NULL;
    if (!get_string(x, obj, path, key, required, SIM_HOST_NAME_MAX, &name) || !name) return false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    long h = sim_scenario_host(x->s, name);
    if (h < 0) {
        problem(x, v, field_path(p, path, key), "no host named \"%s\" in hosts", name);
        return false;
    }
    enum sim_role role = x->s->hosts[h].role;
    if (!(mask & ROLE(role))) {
        problem(x, v, field_path(p, path, key), "host \"%s\" is a %s; expected a %s", name,
                sim_role_names[role], roles_text(roles, sizeof roles, mask));
        return false;
    }
    *out = (size_t)h;
    return true;
}

static bool ref_account(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                        size_t *out)
{
    char p[SIM_SCN_PATH_MAX];
    const char *a = NULL;
    if (!get_string(x, obj, path, key, true, SIM_SCN_TEXT_MAX, &a)) return false;
    long i = sim_scenario_account(x->s, a);
    if (i < 0) {
        problem(x, cJSON_GetObjectItemCaseSensitive(obj, key), field_path(p, path, key),
                "no account \"%s\" in accounts", a);
        return false;
    }
    *out = (size_t)i;
    return true;
}

static bool ref_device(struct ctx *x, const cJSON *obj, const char *path, size_t *out)
{
    char p[SIM_SCN_PATH_MAX];
    const char *d = NULL;
    if (!get_string(x, obj, path, "device", true, SIM_SCN_TEXT_MAX, &d)) return false;
    long i = sim_scenario_device(x->s, d);
    if (i < 0) {
        problem(x, cJSON_GetObjectItemCaseSensitive(obj, "device"),
                field_path(p, path, "device"), "no device named \"%s\" in devices", d);
        return false;
    }
    *out = (size_t)i;
    return true;
}

/* A mail server, named by its host. */
static bool ref_server(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                       bool required, size_t *out)
{
    char p[SIM_SCN_PATH_MAX];
    size_t h;
    if (!cJSON_GetObjectItemCaseSensitive(obj, key) && !required) return false;
    if (!ref_host(x, obj, path, key, required, ROLE(SIM_ROLE_MAIL_SERVER), &h)) return false;
    long srv = server_on_host(x->s, h);
    if (srv < 0) {
        problem(x, cJSON_GetObjectItemCaseSensitive(obj, key), field_path(p, path, key),
                "host \"%s\" has no entry in mail_servers", x->s->hosts[h].name);
        return false;
    }
    *out = (size_t)srv;
    return true;
}

/* Whether mail server srv listens on port. */
static bool listens(const struct sim_scenario *s, size_t srv, unsigned port)
{
    for (unsigned l = 0; l < SIM_SCN_LISTENER_COUNT; l++)
        if ((s->servers[srv].listeners & (1u << l)) && sim_scn_listener_ports[l] == port)
            return true;
    return false;
}

static const char *listener_for(unsigned port)
{
    for (unsigned l = 0; l < SIM_SCN_LISTENER_COUNT; l++)
        if (sim_scn_listener_ports[l] == port) return sim_scn_listener_names[l];
    return "?";
}

/* ---- sections ----------------------------------------------------------------- */

static void parse_meta(struct ctx *x, const cJSON *m)
{
    static const char *const fields[] = {"title", "summary", "seed", "start", "zone",
                                         "time_limit", "comment", NULL};
    struct sim_scenario *s = x->s;
    char p[SIM_SCN_PATH_MAX];
    if (!want_object(x, m, "meta")) return;
    check_fields(x, m, "meta", fields, "meta");
    get_string(x, m, "meta", "title", true, SIM_SCN_TEXT_MAX, &s->title);
    get_string(x, m, "meta", "summary", false, SIM_SCN_BODY_MAX, &s->summary);
    double d;
    if (get_number(x, m, "meta", "seed", false, true, 0, 9007199254740992.0, &d) &&
        cJSON_GetObjectItemCaseSensitive(m, "seed"))
        s->seed = (uint64_t)d;
    const char *start = NULL;
    if (get_string(x, m, "meta", "start", false, 32, &start) && start &&
        !parse_start(start, &s->epoch))
        problem(x, cJSON_GetObjectItemCaseSensitive(m, "start"), field_path(p, "meta", "start"),
                "expected a UTC date and time like \"2024-03-04T09:00:00Z\", got \"%s\"", start);
    const char *zone = NULL;
    if (get_string(x, m, "meta", "zone", false, 16, &zone) && zone &&
        !parse_zone(zone, &s->zone_min))
        problem(x, cJSON_GetObjectItemCaseSensitive(m, "zone"), field_path(p, "meta", "zone"),
                "expected a zone like \"+0100\" or \"-0500\", got \"%s\"", zone);
    if (get_number(x, m, "meta", "time_limit", false, false, 1, SIM_SCN_TIME_MAX_S, &d) &&
        cJSON_GetObjectItemCaseSensitive(m, "time_limit"))
        s->time_limit = seconds(d);
}

static void parse_hosts(struct ctx *x, const cJSON *list)
{
    static const char *const fields[] = {"name", "ip", "role", "latency_ms", "bandwidth_kbps",
                                         "comment", NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX];
    size_t i = 0;
    for (const cJSON *h = list->child; h; h = h->next, i++) {
        index_path(path, "hosts", i);
        if (!want_object(x, h, path)) continue;
        check_fields(x, h, path, fields, "a host");
        struct sim_scn_host host = {.latency = SIM_MSEC(SIM_SCN_DEFAULT_LATENCY_MS)};
        bool name_ok = get_string(x, h, path, "name", true, SIM_HOST_NAME_MAX, &host.name);
        if (name_ok && !valid_host_name(host.name)) {
            problem(x, cJSON_GetObjectItemCaseSensitive(h, "name"), field_path(p, path, "name"),
                    "a host name has only letters, digits, '-' and '.', got \"%s\"", host.name);
            name_ok = false;
        }
        if (name_ok) {
            long dup = sim_scenario_host(s, host.name);
            if (dup >= 0) {
                problem(x, cJSON_GetObjectItemCaseSensitive(h, "name"),
                        field_path(p, path, "name"), "host \"%s\" is declared twice (first at hosts[%ld])",
                        host.name, dup);
                name_ok = false;
            }
        }
        if (get_string(x, h, path, "ip", true, SIM_HOST_IP_MAX, &host.ip)) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "ip");
            if (!valid_ip(host.ip)) {
                problem(x, v, field_path(p, path, "ip"),
                        "expected an IPv4 address like \"192.0.2.10\" or an IPv6 address, got \"%s\"",
                        host.ip);
            } else {
                for (size_t k = 0; k < s->nhosts; k++)
                    if (strcmp(s->hosts[k].ip, host.ip) == 0) {
                        problem(x, v, field_path(p, path, "ip"),
                                "address %s is already host \"%s\"'s", host.ip, s->hosts[k].name);
                        break;
                    }
            }
        }
        int role = 0;
        get_enum(x, h, path, "role", true, sim_role_names, SIM_ROLE_COUNT, &role);
        host.role = (enum sim_role)role;
        double d;
        if (get_number(x, h, path, "latency_ms", false, false, 0, 60000, &d) &&
            cJSON_GetObjectItemCaseSensitive(h, "latency_ms"))
            host.latency = (sim_time)llround(d * 1000.0);
        if (get_number(x, h, path, "bandwidth_kbps", false, false, 0, 1e8, &d) &&
            cJSON_GetObjectItemCaseSensitive(h, "bandwidth_kbps"))
            host.bps = (uint64_t)llround(d * 1000.0);
        if (!host.ip) host.ip = "";
        /* A host with a usable name is kept even when another field is bad,
         * so references to it do not add problems that are not there. */
        if (name_ok) s->hosts[s->nhosts++] = host;
    }
}

static const char *const record_types[] = {"A", "AAAA", "MX", "NS", "CNAME", "TXT"};
static const uint16_t record_codes[] = {DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_MX,
                                        DNS_TYPE_NS, DNS_TYPE_CNAME, DNS_TYPE_TXT};

static void parse_record(struct ctx *x, const cJSON *r, const char *path,
                         struct sim_scn_zone *z)
{
    static const char *const fields[] = {"name", "type", "value", "preference", "ttl",
                                         "comment", NULL};
    char p[SIM_SCN_PATH_MAX];
    if (!want_object(x, r, path)) return;
    check_fields(x, r, path, fields, "a record");
    struct sim_scn_record rec = {.name = z->apex, .ttl = SIM_SCN_DEFAULT_TTL};
    bool ok = true;
    if (get_string(x, r, path, "name", false, DNS_NAME_MAX, &rec.name)) {
        if (rec.name && !valid_dns_name(rec.name)) {
            problem(x, cJSON_GetObjectItemCaseSensitive(r, "name"), field_path(p, path, "name"),
                    "not a domain name: \"%s\"", rec.name);
            ok = false;
        } else if (rec.name && z->apex && !in_zone(rec.name, z->apex)) {
            problem(x, cJSON_GetObjectItemCaseSensitive(r, "name"), field_path(p, path, "name"),
                    "\"%s\" is not in zone %s", rec.name, z->apex);
            ok = false;
        }
    } else {
        ok = false;
    }
    int t = -1;
    ok &= get_enum(x, r, path, "type", true, record_types, ARRAY_LEN(record_types), &t);
    const cJSON *pref = cJSON_GetObjectItemCaseSensitive(r, "preference");
    double d;
    if (t >= 0) {
        rec.type = record_codes[t];
        if (rec.type == DNS_TYPE_MX) {
            if (get_number(x, r, path, "preference", true, true, 0, 65535, &d))
                rec.preference = (unsigned)d;
            else
                ok = false;
        } else if (pref) {
            problem(x, pref, field_path(p, path, "preference"),
                    "only MX records have a preference");
            ok = false;
        }
    }
    if (get_number(x, r, path, "ttl", false, true, 0, 2147483647.0, &d) &&
        cJSON_GetObjectItemCaseSensitive(r, "ttl"))
        rec.ttl = (uint32_t)d;
    if (get_string(x, r, path, "value", true, 1024, &rec.value) && t >= 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "value");
        unsigned char buf[16];
        const char *want = NULL;
        switch (rec.type) {
        case DNS_TYPE_A:
            if (inet_pton(AF_INET, rec.value, buf) != 1) want = "an IPv4 address";
            break;
        case DNS_TYPE_AAAA:
            if (inet_pton(AF_INET6, rec.value, buf) != 1) want = "an IPv6 address";
            break;
        case DNS_TYPE_MX: case DNS_TYPE_NS: case DNS_TYPE_CNAME:
            if (!valid_dns_name(rec.value)) want = "a domain name";
            break;
        default:
            break;
        }
        if (want) {
            problem(x, v, field_path(p, path, "value"), "expected %s for %s %s record, got \"%s\"",
                    want, record_types[t][0] == 'A' ? "an" : "a", record_types[t], rec.value);
            ok = false;
        }
    }
    if (ok && z->nrecords < SIM_SCN_RECORDS_MAX) z->records[z->nrecords++] = rec;
}

static void parse_dns(struct ctx *x, const cJSON *dns)
{
    static const char *const fields[] = {"resolver", "zones", "comment", NULL};
    static const char *const zfields[] = {"apex", "server", "records", "comment", NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX], rp[SIM_SCN_PATH_MAX];
    if (!want_object(x, dns, "dns")) return;
    check_fields(x, dns, "dns", fields, "dns");
    s->has_resolver =
        ref_host(x, dns, "dns", "resolver", true, ROLE(SIM_ROLE_DNS_RESOLVER), &s->resolver);
    const cJSON *zones = get_list(x, dns, "dns", "zones", false, 0, SIM_SCN_ZONES_MAX);
    size_t i = 0;
    for (const cJSON *zj = zones ? zones->child : NULL; zj; zj = zj->next, i++) {
        index_path(path, "dns.zones", i);
        if (!want_object(x, zj, path)) continue;
        check_fields(x, zj, path, zfields, "a zone");
        struct sim_scn_zone *z = &s->zones[s->nzones];
        memset(z, 0, sizeof *z);
        bool ok = get_string(x, zj, path, "apex", true, DNS_NAME_MAX, &z->apex);
        if (ok && !valid_dns_name(z->apex)) {
            problem(x, cJSON_GetObjectItemCaseSensitive(zj, "apex"), field_path(p, path, "apex"),
                    "not a domain name: \"%s\"", z->apex);
            ok = false;
        }
        for (size_t k = 0; ok && k < s->nzones; k++)
            if (name_eq(s->zones[k].apex, z->apex)) {
                problem(x, cJSON_GetObjectItemCaseSensitive(zj, "apex"),
                        field_path(p, path, "apex"), "zone %s is declared twice (first at dns.zones[%zu])",
                        z->apex, k);
                ok = false;
            }
        if (!ok) z->apex = NULL;
        ok &= ref_host(x, zj, path, "server", true, ROLE(SIM_ROLE_DNS_SERVER), &z->server);
        const cJSON *recs =
            get_list(x, zj, path, "records", false, 0, SIM_SCN_RECORDS_MAX);
        field_path(p, path, "records");
        size_t j = 0;
        for (const cJSON *r = recs ? recs->child : NULL; r; r = r->next, j++)
            parse_record(x, r, index_path(rp, p, j), z);
        if (ok) s->nzones++;
    }
}

static void parse_servers(struct ctx *x, const cJSON *list)
{
    static const char *const fields[] = {"host", "domains", "listeners", "greylisting",
                                         "greylist_delay", "retry", "max_size", "backup_for",
                                         "comment", NULL};
    static const char *const rfields[] = {"first", "max_interval", "max_age", "comment", NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX], ep[SIM_SCN_PATH_MAX], list_text[256];
    size_t i = 0;
    for (const cJSON *m = list->child; m; m = m->next, i++) {
        index_path(path, "mail_servers", i);
        if (!want_object(x, m, path)) continue;
        check_fields(x, m, path, fields, "a mail server");
        struct sim_scn_mail_server srv = {0};
        bool ok = ref_host(x, m, path, "host", true, ROLE(SIM_ROLE_MAIL_SERVER), &srv.host);
        if (ok && server_on_host(s, srv.host) >= 0) {
            problem(x, cJSON_GetObjectItemCaseSensitive(m, "host"), field_path(p, path, "host"),
                    "host \"%s\" already has an entry in mail_servers", s->hosts[srv.host].name);
            ok = false;
        }
        const cJSON *doms = get_list(x, m, path, "domains", true, 1, SIM_SCN_DOMAINS_MAX);
        field_path(p, path, "domains");
        size_t j = 0;
        for (const cJSON *d = doms ? doms->child : NULL; d; d = d->next, j++) {
            index_path(ep, p, j);
            if (!cJSON_IsString(d)) {
                problem(x, d, ep, "expected a domain name in a string, got %s", type_of(d));
                continue;
            }
            if (!valid_dns_name(d->valuestring) || !*d->valuestring) {
                problem(x, d, ep, "not a domain name: \"%s\"", d->valuestring);
                continue;
            }
            bool dup = false;
            for (size_t k = 0; k < s->nservers && !dup; k++)
                for (size_t q = 0; q < s->servers[k].ndomains && !dup; q++)
                    if (name_eq(s->servers[k].domains[q], d->valuestring)) {
                        problem(x, d, ep, "domain %s is already served by %s", d->valuestring,
                                s->hosts[s->servers[k].host].name);
                        dup = true;
                    }
            for (size_t q = 0; q < srv.ndomains && !dup; q++)
                if (name_eq(srv.domains[q], d->valuestring)) {
                    problem(x, d, ep, "listed twice");
                    dup = true;
                }
            if (!dup) srv.domains[srv.ndomains++] = d->valuestring;
        }
        /* A backup MX (RFC 5321 5.1) takes other servers' domains on port 25. */
        const cJSON *bk = get_list(x, m, path, "backup_for", false, 0, SIM_SCN_DOMAINS_MAX);
        field_path(p, path, "backup_for");
        j = 0;
        for (const cJSON *d = bk ? bk->child : NULL; d; d = d->next, j++) {
            index_path(ep, p, j);
            if (!cJSON_IsString(d) || !*d->valuestring || !valid_dns_name(d->valuestring)) {
                if (cJSON_IsString(d))
                    problem(x, d, ep, "not a domain name: \"%s\"", d->valuestring);
                else
                    problem(x, d, ep, "expected a domain name in a string, got %s", type_of(d));
                continue;
            }
            bool bad = false;
            for (size_t q = 0; q < srv.ndomains && !bad; q++)
                if (name_eq(srv.domains[q], d->valuestring)) {
                    problem(x, d, ep, "%s is one of this server's own domains: a backup MX "
                                      "holds mail for another server's domain", d->valuestring);
                    bad = true;
                }
            for (size_t q = 0; q < srv.nbackup && !bad; q++)
                if (name_eq(srv.backup_for[q], d->valuestring)) {
                    problem(x, d, ep, "listed twice");
                    bad = true;
                }
            if (!bad) srv.backup_for[srv.nbackup++] = d->valuestring;
        }
        const cJSON *ls = get_list(x, m, path, "listeners", true, 1, SIM_SCN_LISTENER_COUNT);
        field_path(p, path, "listeners");
        j = 0;
        for (const cJSON *l = ls ? ls->child : NULL; l; l = l->next, j++) {
            index_path(ep, p, j);
            size_t k = 0;
            while (k < SIM_SCN_LISTENER_COUNT &&
                   !(cJSON_IsString(l) && strcmp(l->valuestring, sim_scn_listener_names[k]) == 0))
                k++;
            join_names(list_text, sizeof list_text, sim_scn_listener_names,
                       SIM_SCN_LISTENER_COUNT);
            if (k == SIM_SCN_LISTENER_COUNT) {
                if (cJSON_IsString(l))
                    problem(x, l, ep, "expected one of %s, got \"%s\"", list_text, l->valuestring);
                else
                    problem(x, l, ep, "expected one of %s, got %s", list_text, type_of(l));
            } else if (srv.listeners & (1u << k)) {
                problem(x, l, ep, "listed twice");
            } else {
                srv.listeners |= 1u << k;
            }
        }
        get_bool(x, m, path, "greylisting", &srv.greylisting);
        double d;
        if (get_number(x, m, path, "greylist_delay", false, false, 0, SIM_SCN_TIME_MAX_S, &d) &&
            cJSON_GetObjectItemCaseSensitive(m, "greylist_delay"))
            srv.greylist_delay = seconds(d);
        if (get_number(x, m, path, "max_size", false, true, 0, 1e9, &d) &&
            cJSON_GetObjectItemCaseSensitive(m, "max_size"))
            srv.max_size = (size_t)d;
        const cJSON *retry = get(x, m, path, "retry", false);
        field_path(p, path, "retry");
        if (retry && want_object(x, retry, p)) {
            check_fields(x, retry, p, rfields, "a retry schedule");
            if (get_number(x, retry, p, "first", false, false, 1, SIM_SCN_TIME_MAX_S, &d) &&
                cJSON_GetObjectItemCaseSensitive(retry, "first"))
                srv.retry_first = seconds(d);
            if (get_number(x, retry, p, "max_interval", false, false, 1, SIM_SCN_TIME_MAX_S, &d) &&
                cJSON_GetObjectItemCaseSensitive(retry, "max_interval"))
                srv.retry_max_interval = seconds(d);
            if (get_number(x, retry, p, "max_age", false, false, 1, SIM_SCN_TIME_MAX_S, &d) &&
                cJSON_GetObjectItemCaseSensitive(retry, "max_age"))
                srv.max_age = seconds(d);
        }
        if (ok) s->servers[s->nservers++] = srv;
    }
}

static void parse_accounts(struct ctx *x, const cJSON *list)
{
    static const char *const fields[] = {"address", "password", "quota", "server", "comment",
                                         NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX], doms[256];
    size_t i = 0;
    for (const cJSON *a = list->child; a; a = a->next, i++) {
        index_path(path, "accounts", i);
        if (!want_object(x, a, path)) continue;
        check_fields(x, a, path, fields, "an account");
        struct sim_scn_account acc = {0};
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(a, "address");
        bool ok = get_string(x, a, path, "address", true, SIM_SCN_TEXT_MAX, &acc.address);
        if (ok && !valid_address(acc.address)) {
            problem(x, av, field_path(p, path, "address"),
                    "expected a mail address like \"friend@example.org\", got \"%s\"", acc.address);
            ok = false;
        }
        if (ok && sim_scenario_account(s, acc.address) >= 0) {
            problem(x, av, field_path(p, path, "address"), "account %s is declared twice",
                    acc.address);
            ok = false;
        }
        ok &= get_string(x, a, path, "password", true, 255, &acc.password);
        double d;
        if (get_number(x, a, path, "quota", false, true, 0, 1e12, &d) &&
            cJSON_GetObjectItemCaseSensitive(a, "quota"))
            acc.quota = (size_t)d;
        bool srv_ok = ref_server(x, a, path, "server", true, &acc.server);
        if (ok && srv_ok) {
            const struct sim_scn_mail_server *srv = &s->servers[acc.server];
            const char *dom = strchr(acc.address, '@') + 1;
            bool local = false;
            for (size_t k = 0; k < srv->ndomains && !local; k++)
                local = name_eq(srv->domains[k], dom);
            if (!local) {
                size_t o = 0;
                doms[0] = '\0';
                for (size_t k = 0; k < srv->ndomains && o < sizeof doms; k++) {
                    int n = snprintf(doms + o, sizeof doms - o, "%s%s", k ? ", " : "",
                                     srv->domains[k]);
                    if (n > 0) o += (size_t)n;
                }
                problem(x, av, field_path(p, path, "address"),
                        "%s is not a domain of mail server %s (it has %s)", dom,
                        s->hosts[srv->host].name, doms);
                ok = false;
            }
        }
        /* Kept with a usable address even when the server is bad, so later
         * references to it stay quiet. */
        if (acc.address && valid_address(acc.address) &&
            sim_scenario_account(s, acc.address) < 0)
            s->accounts[s->naccounts++] = acc;
    }
}

static void parse_devices(struct ctx *x, const cJSON *list)
{
    static const char *const fields[] = {"name", "host", "account", "protocol", "port",
                                         "leave_on_server", "idle", "check_interval", "comment",
                                         NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX];
    size_t i = 0;
    for (const cJSON *dv = list->child; dv; dv = dv->next, i++) {
        index_path(path, "devices", i);
        if (!want_object(x, dv, path)) continue;
        check_fields(x, dv, path, fields, "a device");
        struct sim_scn_device dev = {0};
        bool host_ok = ref_host(x, dv, path, "host", true, CLIENT_ROLES, &dev.host);
        if (!get_string(x, dv, path, "name", false, SIM_SCN_TEXT_MAX, &dev.name)) continue;
        if (!dev.name && host_ok) dev.name = s->hosts[dev.host].name;
        const cJSON *nv = cJSON_GetObjectItemCaseSensitive(dv, "name");
        bool ok = host_ok && dev.name;
        if (dev.name && sim_scenario_device(s, dev.name) >= 0) {
            problem(x, nv ? nv : cJSON_GetObjectItemCaseSensitive(dv, "host"),
                    field_path(p, path, nv ? "name" : "host"),
                    "device \"%s\" is declared twice (give each device on one host a name)",
                    dev.name);
            continue;
        }
        ok &= ref_account(x, dv, path, "account", &dev.account);
        int proto = 0;
        bool proto_ok = get_enum(x, dv, path, "protocol", true, sim_scn_proto_names,
                                 SIM_SCN_PROTO_COUNT, &proto);
        dev.proto = (enum sim_scn_proto)proto;
        ok &= proto_ok;
        double d;
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(dv, "port");
        if (proto_ok) {
            dev.port = dev.proto == SIM_SCN_PROTO_IMAP ? 993 : 995;
            if (get_number(x, dv, path, "port", false, true, 0, 65535, &d) && pv) {
                unsigned port = (unsigned)d;
                bool fits = dev.proto == SIM_SCN_PROTO_IMAP ? (port == 993 || port == 143)
                                                            : (port == 995 || port == 110);
                if (!fits) {
                    problem(x, pv, field_path(p, path, "port"), "expected %s for %s, got %u",
                            dev.proto == SIM_SCN_PROTO_IMAP ? "993 (TLS) or 143 (STARTTLS)"
                                                            : "995 (TLS) or 110 (STLS)",
                            sim_scn_proto_names[dev.proto], port);
                    ok = false;
                } else {
                    dev.port = port;
                }
            }
        }
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(dv, "leave_on_server");
        if (get_bool(x, dv, path, "leave_on_server", &dev.leave_on_server) && lv && proto_ok &&
            dev.proto != SIM_SCN_PROTO_POP3) {
            problem(x, lv, field_path(p, path, "leave_on_server"),
                    "only POP3 devices choose this; IMAP always leaves mail on the server");
            ok = false;
        }
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(dv, "idle");
        if (get_bool(x, dv, path, "idle", &dev.idle) && iv && proto_ok &&
            dev.proto != SIM_SCN_PROTO_IMAP) {
            problem(x, iv, field_path(p, path, "idle"), "IDLE is an IMAP command (RFC 2177); "
                                                        "POP3 has no push");
            ok = false;
        }
        if (get_number(x, dv, path, "check_interval", false, false, 1, SIM_SCN_TIME_MAX_S, &d) &&
            cJSON_GetObjectItemCaseSensitive(dv, "check_interval"))
            dev.check_every = seconds(d);
        if (ok && !listens(s, s->accounts[dev.account].server, dev.port)) {
            size_t srv = s->accounts[dev.account].server;
            problem(x, pv ? pv : cJSON_GetObjectItemCaseSensitive(dv, "protocol"),
                    field_path(p, path, pv ? "port" : "protocol"),
                    "%s does not listen on port %u (add \"%s\" to its listeners)",
                    s->hosts[s->servers[srv].host].name, dev.port, listener_for(dev.port));
        }
        (void)ok;
        if (dev.name && (host_ok || nv)) s->devices[s->ndevices++] = dev;
    }
}

static void parse_programs(struct ctx *x, const cJSON *list)
{
    static const char *const fields[] = {"host", "account", "server", "port", "display_name",
                                         "sent_copy", "skip_starttls", "wrong_password",
                                         "auth_before_starttls", "use_helo", "comment", NULL};
    struct sim_scenario *s = x->s;
    char path[SIM_SCN_PATH_MAX], p[SIM_SCN_PATH_MAX];
    size_t i = 0;
    for (const cJSON *m = list->child; m; m = m->next, i++) {
        index_path(path, "mail_programs", i);
        if (!want_object(x, m, path)) continue;
        check_fields(x, m, path, fields, "a mail program");
        struct sim_scn_program prog = {.port = 587};
        bool ok = ref_host(x, m, path, "host", true, CLIENT_ROLES, &prog.host);
        bool acc_ok = ref_account(x, m, path, "account", &prog.account);
        ok &= acc_ok;
        for (size_t k = 0; acc_ok && k < s->nprograms; k++)
            if (s->programs[k].account == prog.account) {
                problem(x, cJSON_GetObjectItemCaseSensitive(m, "account"),
                        field_path(p, path, "account"),
                        "%s already has a mail program (mail_programs[%zu])",
                        s->accounts[prog.account].address, k);
                ok = false;
            }
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(m, "server");
        if (sv)
            ok &= ref_server(x, m, path, "server", false, &prog.server);
        else if (acc_ok)
            prog.server = s->accounts[prog.account].server;
        double d;
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(m, "port");
        if (get_number(x, m, path, "port", false, true, 0, 65535, &d) && pv) {
            prog.port = (unsigned)d;
            if (prog.port != 587 && prog.port != 465 && prog.port != 25) {
                problem(x, pv, field_path(p, path, "port"),
                        "expected 587 (submission), 465 (submissions) or 25, got %u", prog.port);
                ok = false;
            }
        }
        get_string(x, m, path, "display_name", false, SIM_SCN_TEXT_MAX, &prog.display_name);
        get_bool(x, m, path, "skip_starttls", &prog.skip_starttls);
        get_bool(x, m, path, "wrong_password", &prog.wrong_password);
        get_bool(x, m, path, "auth_before_starttls", &prog.auth_before_starttls);
        get_bool(x, m, path, "use_helo", &prog.use_helo);
        const cJSON *cv = cJSON_GetObjectItemCaseSensitive(m, "sent_copy");
        bool copy = true;
        get_bool(x, m, path, "sent_copy", &copy);
        if (ok) {
            if (!listens(s, prog.server, prog.port)) {
                const char *key = pv ? "port" : sv ? "server" : "account";
                problem(x, cJSON_GetObjectItemCaseSensitive(m, key), field_path(p, path, key),
                        "%s does not listen on port %u (add \"%s\" to its listeners)",
                        s->hosts[s->servers[prog.server].host].name, prog.port,
                        listener_for(prog.port));
                ok = false;
            }
            /* The Sent copy goes to the account's own server by IMAP. */
            size_t home = s->accounts[prog.account].server;
            bool imap = listens(s, home, 993) || listens(s, home, 143);
            if (copy && !imap && cv) {
                problem(x, cv, field_path(p, path, "sent_copy"),
                        "%s does not listen for IMAP (add \"imaps\" to its listeners)",
                        s->hosts[s->servers[home].host].name);
                ok = false;
            }
            prog.sent_copy = copy && imap;
        }
        if (ok) s->programs[s->nprograms++] = prog;
    }
}

/* Fields each action takes, besides at, action and comment. */
static const char *const action_fields[SIM_SCN_ACTION_COUNT][6] = {
    [SIM_SCN_NARRATE] = {"text", NULL},
    [SIM_SCN_SEND] = {"from", "to", "bcc", "subject", "body", NULL},
    [SIM_SCN_CHECK] = {"device", NULL},
    [SIM_SCN_READ] = {"device", "subject", "index", "folder", NULL},
    [SIM_SCN_FLAG] = {"device", "subject", "index", "folder", NULL},
    [SIM_SCN_UNFLAG] = {"device", "subject", "index", "folder", NULL},
    [SIM_SCN_MOVE] = {"device", "subject", "index", "folder", "destination", NULL},
    [SIM_SCN_DELETE] = {"device", "subject", "index", "folder", NULL},
    [SIM_SCN_SAVE_DRAFT] = {"device", "to", "subject", "body", NULL},
    [SIM_SCN_SERVER_DOWN] = {"host", NULL},
    [SIM_SCN_SERVER_UP] = {"host", NULL},
    [SIM_SCN_BLOCK_PORT] = {"host", "port", "direction", NULL},
    [SIM_SCN_UNBLOCK_PORT] = {"host", "port", "direction", NULL},
    [SIM_SCN_MAILBOX_FULL] = {"account", NULL},
};

static const char *const directions[] = {"in", "out"};

/* A message index in an action: a folder holds at most this many
 * (SIM_STORE_MSGS_MAX). */
#define SCN_INDEX_MAX 4096

static bool parse_action(struct ctx *x, const cJSON *a, const char *path,
                         struct sim_scn_action *act)
{
    struct sim_scenario *s = x->s;
    char p[SIM_SCN_PATH_MAX], ep[SIM_SCN_PATH_MAX], what[64];
    bool ok = true;
    double d;
    int kind = -1;
    bool at_ok = get_number(x, a, path, "at", true, false, 0, SIM_SCN_TIME_MAX_S, &d);
    if (at_ok) act->at = seconds(d);
    ok &= at_ok;
    if (at_ok && act->at > s->time_limit) {
        problem(x, cJSON_GetObjectItemCaseSensitive(a, "at"), field_path(p, path, "at"),
                "%g s is after meta.time_limit (%g s): it would never run", d,
                (double)s->time_limit / 1e6);
        ok = false;
    }
    if (!get_enum(x, a, path, "action", true, sim_scn_action_names, SIM_SCN_ACTION_COUNT,
                  &kind)) {
        /* Without a kind the other fields cannot be judged. */
        return false;
    }
    act->kind = (enum sim_scn_action_kind)kind;
    const char *allowed[10] = {"at", "action", "comment"};
    size_t na = 3;
    for (size_t k = 0; action_fields[kind][k]; k++) allowed[na++] = action_fields[kind][k];
    allowed[na] = NULL;
    snprintf(what, sizeof what, "a %s action", sim_scn_action_names[kind]);
    check_fields(x, a, path, allowed, what);
    act->msg_folder = "INBOX";

    switch (act->kind) {
    case SIM_SCN_NARRATE:
        ok &= get_string(x, a, path, "text", true, SIM_SCN_BODY_MAX, &act->text);
        break;
    case SIM_SCN_SEND: {
        const char *from = NULL;
        if (get_string(x, a, path, "from", true, SIM_SCN_TEXT_MAX, &from)) {
            long acc = sim_scenario_account(s, from);
            size_t k = 0;
            while (acc >= 0 && k < s->nprograms && s->programs[k].account != (size_t)acc) k++;
            if (acc < 0 || k == s->nprograms) {
                problem(x, cJSON_GetObjectItemCaseSensitive(a, "from"), field_path(p, path, "from"),
                        "no mail program sends as %s (declare one in mail_programs)", from);
                ok = false;
            } else {
                act->program = k;
            }
        } else {
            ok = false;
        }
        const cJSON *to = get_list(x, a, path, "to", true, 1, SIM_SCN_RCPTS_MAX);
        ok &= to != NULL;
        /* Bcc: envelope recipients the header does not show (RFC 5322 3.6.3). */
        const cJSON *bcc = get_list(x, a, path, "bcc", false, 0, SIM_SCN_RCPTS_MAX);
        for (int list = 0; list < 2; list++) {
            const cJSON *l = list ? bcc : to;
            field_path(p, path, list ? "bcc" : "to");
            size_t j = 0;
            for (const cJSON *t = l ? l->child : NULL; t; t = t->next, j++) {
                index_path(ep, p, j);
                if (!cJSON_IsString(t) || !valid_address(t->valuestring)) {
                    if (cJSON_IsString(t))
                        problem(x, t, ep,
                                "expected a mail address like \"friend@example.org\", got \"%s\"",
                                t->valuestring);
                    else
                        problem(x, t, ep, "expected a mail address in a string, got %s",
                                type_of(t));
                    ok = false;
                    continue;
                }
                if (act->nto + act->nbcc >= SIM_SCN_RCPTS_MAX) {
                    problem(x, t, ep, "too many recipients: to and bcc hold at most %d together",
                            SIM_SCN_RCPTS_MAX);
                    ok = false;
                    break;
                }
                if (list)
                    act->bcc[act->nbcc++] = t->valuestring;
                else
                    act->to[act->nto++] = t->valuestring;
            }
        }
        act->subject = act->body = "";
        ok &= get_string(x, a, path, "subject", false, SIM_SCN_TEXT_MAX, &act->subject);
        ok &= get_string(x, a, path, "body", false, SIM_SCN_BODY_MAX, &act->body);
        break;
    }
    case SIM_SCN_CHECK:
        ok &= ref_device(x, a, path, &act->device);
        break;
    case SIM_SCN_READ: case SIM_SCN_FLAG: case SIM_SCN_UNFLAG: case SIM_SCN_MOVE:
    case SIM_SCN_DELETE: {
        bool dev_ok = ref_device(x, a, path, &act->device);
        ok &= dev_ok;
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(a, "subject");
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(a, "index");
        if (sv && iv) {
            problem(x, iv, field_path(p, path, "index"),
                    "give the message by subject or by index, not both");
            ok = false;
        } else if (!sv && !iv) {
            problem(x, a, path, "missing \"subject\" or \"index\": which message?");
            ok = false;
        } else if (sv) {
            ok &= get_string(x, a, path, "subject", true, SIM_SCN_TEXT_MAX, &act->msg_subject);
        } else if (get_number(x, a, path, "index", true, true, 1, SCN_INDEX_MAX, &d)) {
            act->msg_index = (size_t)d;
        } else {
            ok = false;
        }
        ok &= get_string(x, a, path, "folder", false, SIM_SCN_TEXT_MAX, &act->msg_folder);
        if (act->kind == SIM_SCN_MOVE) {
            ok &= get_string(x, a, path, "destination", true, SIM_SCN_TEXT_MAX, &act->folder);
            if (dev_ok && s->devices[act->device].proto != SIM_SCN_PROTO_IMAP) {
                problem(x, cJSON_GetObjectItemCaseSensitive(a, "device"),
                        field_path(p, path, "device"),
                        "move needs an IMAP device; a POP3 server has only INBOX (RFC 1939 1)");
                ok = false;
            }
        }
        break;
    }
    case SIM_SCN_SAVE_DRAFT: {
        bool dev_ok = ref_device(x, a, path, &act->device);
        ok &= dev_ok;
        if (dev_ok && s->devices[act->device].proto != SIM_SCN_PROTO_IMAP) {
            problem(x, cJSON_GetObjectItemCaseSensitive(a, "device"), field_path(p, path, "device"),
                    "save_draft needs an IMAP device: drafts are stored on the server by APPEND");
            ok = false;
        }
        const char *to = NULL;
        if (get_string(x, a, path, "to", false, SIM_SCN_TEXT_MAX, &to) && to) {
            if (!valid_address(to)) {
                problem(x, cJSON_GetObjectItemCaseSensitive(a, "to"), field_path(p, path, "to"),
                        "expected a mail address like \"friend@example.org\", got \"%s\"", to);
                ok = false;
            } else {
                act->to[act->nto++] = to;
            }
        }
        act->subject = act->body = "";
        ok &= get_string(x, a, path, "subject", false, SIM_SCN_TEXT_MAX, &act->subject);
        ok &= get_string(x, a, path, "body", false, SIM_SCN_BODY_MAX, &act->body);
        break;
    }
    case SIM_SCN_SERVER_DOWN: case SIM_SCN_SERVER_UP:
        ok &= ref_host(x, a, path, "host", true, ANY_ROLE, &act->host);
        break;
    case SIM_SCN_BLOCK_PORT: case SIM_SCN_UNBLOCK_PORT: {
        ok &= ref_host(x, a, path, "host", true, ANY_ROLE, &act->host);
        if (get_number(x, a, path, "port", true, true, 1, 65535, &d))
            act->port = (unsigned)d;
        else
            ok = false;
        int dir = 0;
        ok &= get_enum(x, a, path, "direction", true, directions, 2, &dir);
        act->outbound = dir == 1;
        break;
    }
    case SIM_SCN_MAILBOX_FULL:
        ok &= ref_account(x, a, path, "account", &act->account);
        break;
    case SIM_SCN_ACTION_COUNT:
        break;
    }
    return ok;
}

static void parse_timeline(struct ctx *x, const cJSON *list)
{
    char path[SIM_SCN_PATH_MAX];
    size_t i = 0;
    for (const cJSON *a = list->child; a; a = a->next, i++) {
        index_path(path, "timeline", i);
        if (!want_object(x, a, path)) continue;
        struct sim_scn_action act = {0};
        if (parse_action(x, a, path, &act)) x->s->actions[x->s->nactions++] = act;
    }
}

/* ---- loading ------------------------------------------------------------------- */

/* ---- the quiz ------------------------------------------------------------- */

/* A list of 1..max non-empty strings into out[]; returns how many, or 0 with
 * a problem. */
static size_t get_strings(struct ctx *x, const cJSON *obj, const char *path, const char *key,
                          size_t min, size_t max, const char **out)
{
    char p[SIM_SCN_PATH_MAX], ep[SIM_SCN_PATH_MAX];
    const cJSON *l = get_list(x, obj, path, key, true, min, max);
    if (!l) return 0;
    field_path(p, path, key);
    size_t n = 0, j = 0;
    bool ok = true;
    for (const cJSON *v = l->child; v; v = v->next, j++) {
        index_path(ep, p, j);
        if (!cJSON_IsString(v) || !*v->valuestring) {
            problem(x, v, ep, "expected a non-empty string, got %s",
                    cJSON_IsString(v) ? "\"\"" : type_of(v));
            ok = false;
            continue;
        }
        if (strlen(v->valuestring) > SIM_SCN_BODY_MAX) {
            problem(x, v, ep, "too long: at most %d characters", SIM_SCN_BODY_MAX);
            ok = false;
            continue;
        }
        out[n++] = v->valuestring;
    }
    return ok ? n : 0;
}

static void parse_question(struct ctx *x, const cJSON *q, const char *path)
{
    static const char *const fields[] = {"kind", "question", "options", "answer", "explanation",
                                         "explanations", "after", "from", "occurrence",
                                         "comment", NULL};
    struct sim_scenario *s = x->s;
    char p[SIM_SCN_PATH_MAX];
    check_fields(x, q, path, fields, "a question");
    struct sim_scn_question qu = {.occurrence = 1};
    node_pos(x->sc, q, &qu.line, &qu.col);
    int kind = -1;
    bool ok = get_enum(x, q, path, "kind", true, sim_scn_question_kind_names,
                       SIM_SCN_Q_KIND_COUNT, &kind);
    if (ok) qu.kind = (enum sim_scn_question_kind)kind;
    ok &= get_string(x, q, path, "question", true, SIM_SCN_BODY_MAX, &qu.text);
    qu.noptions = get_strings(x, q, path, "options", 2, SIM_SCN_OPTIONS_MAX, qu.options);
    ok &= qu.noptions > 0;
    double d;
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(q, "answer");
    if (qu.noptions && get_number(x, q, path, "answer", true, true, 1, (double)qu.noptions, &d))
        qu.answer = (size_t)d - 1;
    else if (qu.noptions || !av)
        ok = false;
    node_pos(x->sc, av, &qu.answer_line, &qu.answer_col);
    ok &= get_string(x, q, path, "explanation", false, SIM_SCN_BODY_MAX, &qu.explanation);
    if (cJSON_GetObjectItemCaseSensitive(q, "explanations")) {
        const char *ex[SIM_SCN_OPTIONS_MAX] = {0};
        size_t n = get_strings(x, q, path, "explanations", 1, SIM_SCN_OPTIONS_MAX, ex);
        if (n && n != qu.noptions && qu.noptions) {
            problem(x, cJSON_GetObjectItemCaseSensitive(q, "explanations"),
                    field_path(p, path, "explanations"),
                    "expected one explanation per option: %zu options, %zu explanations",
                    qu.noptions, n);
            ok = false;
        } else if (n) {
            memcpy(qu.explanations, ex, sizeof ex);
        } else {
            ok = false;
        }
    } else if (!qu.explanation) {
        problem(x, q, path, "missing field \"explanation\" (one for every answer) or "
                            "\"explanations\" (one per option): every answer is explained");
        ok = false;
    }
    if (ok && qu.kind == SIM_SCN_Q_PREDICT) {
        ok &= get_string(x, q, path, "after", true, SIM_SCN_TEXT_MAX, &qu.after);
        if (cJSON_GetObjectItemCaseSensitive(q, "from")) {
            ok &= ref_host(x, q, path, "from", true, ~0u, &qu.after_host);
            qu.has_after_host = ok;
        }
        if (get_number(x, q, path, "occurrence", false, true, 1, 1000, &d) &&
            cJSON_GetObjectItemCaseSensitive(q, "occurrence"))
            qu.occurrence = (unsigned)d;
    } else if (ok) {
        static const char *const only[] = {"after", "from", "occurrence"};
        for (size_t k = 0; k < 3; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(q, only[k]);
            if (v) {
                problem(x, v, field_path(p, path, only[k]),
                        "only a \"predict\" question has a pause point");
                ok = false;
            }
        }
    }
    if (ok) s->questions[s->nquestions++] = qu;
}

static void parse_quiz(struct ctx *x, const cJSON *list)
{
    char path[SIM_SCN_PATH_MAX];
    size_t i = 0;
    for (const cJSON *q = list->child; q; q = q->next, i++) {
        index_path(path, "quiz", i);
        if (want_object(x, q, path)) parse_question(x, q, path);
    }
}

static void check_root(struct ctx *x, const cJSON *root)
{
    static const char *const fields[] = {"meta", "hosts", "dns", "mail_servers", "accounts",
                                         "devices", "mail_programs", "timeline", "quiz",
                                         "comment", NULL};
    if (!cJSON_IsObject(root)) {
        problem(x, root, "", "a scenario is one JSON object { ... }, got %s", type_of(root));
        return;
    }
    check_fields(x, root, "", fields, "a scenario");
    /* meta first: time_limit bounds the timeline. */
    const cJSON *meta = get(x, root, "", "meta", true);
    if (meta) parse_meta(x, meta);
    const cJSON *l;
    if ((l = get_list(x, root, "", "hosts", true, 1, SIM_SCN_HOSTS_MAX))) parse_hosts(x, l);
    const cJSON *dns = get(x, root, "", "dns", false);
    if (dns) parse_dns(x, dns);
    if ((l = get_list(x, root, "", "mail_servers", false, 0, SIM_SCN_SERVERS_MAX)))
        parse_servers(x, l);
    if (x->s->nservers && !dns)
        problem(x, root, "", "missing field \"dns\": mail servers find each other through "
                             "dns.resolver (RFC 5321 5.1)");
    if ((l = get_list(x, root, "", "accounts", false, 0, SIM_SCN_ACCOUNTS_MAX)))
        parse_accounts(x, l);
    if ((l = get_list(x, root, "", "devices", false, 0, SIM_SCN_DEVICES_MAX)))
        parse_devices(x, l);
    if ((l = get_list(x, root, "", "mail_programs", false, 0, SIM_SCN_PROGRAMS_MAX)))
        parse_programs(x, l);
    if ((l = get_list(x, root, "", "timeline", false, 0, SIM_SCN_ACTIONS_MAX)))
        parse_timeline(x, l);
    if ((l = get_list(x, root, "", "quiz", false, 0, SIM_SCN_QUESTIONS_MAX))) parse_quiz(x, l);
}

static void diags_reset(struct sim_scn_diags *dg, const char *name)
{
    dg->n = dg->dropped = 0;
    snprintf(dg->file, sizeof dg->file, "%s", name ? name : "(scenario)");
}

struct sim_scenario *sim_scenario_parse(const char *text, size_t len, const char *name,
                                        struct sim_scn_diags *dg)
{
    diags_reset(dg, name);
    if (len > SIM_SCN_FILE_MAX) {
        sim_scn_diag_add(dg, 0, 0, "", "too large: a scenario file is at most %u octets, this is %zu",
                         SIM_SCN_FILE_MAX, len);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        sim_scn_diag_add(dg, 0, 0, "", "a NUL byte in the file: a scenario is UTF-8 text");
        return NULL;
    }
    struct scan sc = {.t = text, .n = len};
    scan_text(&sc, NULL);
    if (sc.bad) {
        unsigned line, col;
        line_col(text, sc.err_off, &line, &col);
        sim_scn_diag_add(dg, line, col, "", "JSON syntax: %s", sc.err);
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        /* The checker above accepted it: only memory can be short here. */
        sim_scn_diag_add(dg, 0, 0, "", "out of memory while parsing");
        return NULL;
    }
    struct scan pos = {.t = text, .n = len};
    scan_text(&pos, root);
    if (pos.npos) qsort(pos.pos, pos.npos, sizeof *pos.pos, pos_cmp);
    struct sim_scenario *s = calloc(1, sizeof *s);
    if (!s || pos.oom) {
        sim_scn_diag_add(dg, 0, 0, "", "out of memory while parsing");
        free(s);
        free(pos.pos);
        cJSON_Delete(root);
        return NULL;
    }
    s->json = root;
    s->seed = SIM_SCN_DEFAULT_SEED;
    parse_start(SIM_SCN_DEFAULT_START, &s->epoch);
    s->time_limit = SIM_SEC(SIM_SCN_DEFAULT_TIME_LIMIT_S);
    s->summary = "";
    struct ctx x = {dg, &pos, s};
    check_root(&x, root);
    free(pos.pos);
    if (dg->n || dg->dropped) {
        sim_scenario_free(s);
        return NULL;
    }
    return s;
}

struct sim_scenario *sim_scenario_load(const char *path, struct sim_scn_diags *dg)
{
    diags_reset(dg, path);
    FILE *f = fopen(path, "rb");
    if (!f) {
        sim_scn_diag_add(dg, 0, 0, "", "cannot open: %s", strerror(errno));
        return NULL;
    }
    /* Read at most one octet past the limit, to tell "too large". */
    char *buf = malloc(SIM_SCN_FILE_MAX + 2);
    if (!buf) {
        fclose(f);
        sim_scn_diag_add(dg, 0, 0, "", "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, SIM_SCN_FILE_MAX + 1, f);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        sim_scn_diag_add(dg, 0, 0, "", "cannot read the file");
        return NULL;
    }
    buf[n] = '\0';
    struct sim_scenario *s = sim_scenario_parse(buf, n, path, dg);
    free(buf);
    return s;
}

void sim_scenario_free(struct sim_scenario *s)
{
    if (!s) return;
    cJSON_Delete(s->json);
    free(s);
}
