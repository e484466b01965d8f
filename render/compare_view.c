/* `mailsim compare`: the table, the JSON and the chart; see compare_view.h. */
#include "render/compare_view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

#include "protocols/common.h"
#include "render/ui_lesson.h"
#include "render/ui_split_draw.h"

#define SEC_PER_DAY 86400.0

/* ---- numbers for people ---------------------------------------------------- */

/* 36500 -> "36,500": a projector's back row reads grouped digits. */
static const char *count_str(uint64_t n, char *buf, size_t cap)
{
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%" PRIu64, n);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
    return buf;
}

/* Octets in binary units with one decimal: "224.5 KiB". */
static const char *bytes_str(uint64_t n, char *buf, size_t cap)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(buf, cap, "%" PRIu64 " B", n);
        return buf;
    }
    double v = (double)n / 1024.0;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_LEN(units)) { /* 0.98 MiB, not 1003.2 KiB */
        v /= 1024.0;
        u++;
    }
    snprintf(buf, cap, "%.1f %s", v, units[u]);
    return buf;
}

/* A check interval: "30 min", "1 h", "3 h". */
static const char *interval_str(sim_time t, char *buf, size_t cap)
{
    uint64_t min = t / SIM_SEC(60);
    if (min % 60 == 0) snprintf(buf, cap, "%" PRIu64 " h", min / 60);
    else snprintf(buf, cap, "%" PRIu64 " min", min);
    return buf;
}

static const char *const number_words[] = {"none", "the one device", "both", "all three",
                                            "all four", "all five", "all six", "all seven",
                                            "all eight"};

/* ---- the table -------------------------------------------------------------- */

#define LABEL_W 36
#define COL_W 14

static void row(FILE *out, const char *label, const char *imap, const char *pop3, bool differ)
{
    fprintf(out, "  %-*s %*s %*s%s\n", LABEL_W, label, COL_W, imap, COL_W, pop3,
            differ ? "  <" : "");
}

static void row_count(FILE *out, const char *label, uint64_t a, uint64_t b)
{
    char x[32], y[32];
    row(out, label, count_str(a, x, sizeof x), count_str(b, y, sizeof y), a != b);
}

static void describe(const struct sim_compare *c, FILE *out)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    char n[32];
    fprintf(out, "  %s messages over %u day%s (%u a day), seed %" PRIu64 ".\n",
            count_str((uint64_t)p->days * p->per_day, n, sizeof n), p->days,
            p->days == 1 ? "" : "s", p->per_day, p->seed);
    fprintf(out, "  %u device%s:", p->devices, p->devices == 1 ? "" : "s");
    for (size_t i = 0; i < p->devices; i++) {
        char iv[32];
        fprintf(out, "%s %s (checks every %s)", i ? "," : "", sim_compare_device_name(c, i),
                interval_str(sim_compare_device_interval(c, i), iv, sizeof iv));
    }
    fprintf(out, ".\n  POP3 %s.\n",
            p->leave_on_server ? "leaves a copy on the server (UIDL, RFC 1939 7)"
                               : "downloads and deletes (RFC 1939)");
    fprintf(out,
            "  Morning and evening the user tidies up on the %s: reads what came in, then\n"
            "  deletes %u%%, files %u%% into folders (IMAP only) and keeps the rest three days.\n",
            sim_compare_device_name(c, 0), p->delete_pct, p->file_pct);
}

static void answers(const struct sim_compare *c, FILE *out)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    char a[32], b[32];
    fputs("\nWhich devices saw every message?\n", out);
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        const struct sim_compare_measures *m = sim_compare_final(c, s);
        size_t all = 0;
        for (size_t i = 0; i < p->devices; i++) all += sim_compare_saw_all(c, s, i);
        fprintf(out, "  %s: ", sim_compare_side_names[s]);
        if (all == p->devices) {
            fprintf(out, "%s", p->devices == 1 ? sim_compare_device_name(c, 0)
                                               : number_words[p->devices]);
            if (p->devices > 1) {
                fputs(" (", out);
                for (size_t i = 0; i < p->devices; i++)
                    fprintf(out, "%s%s", i ? ", " : "", sim_compare_device_name(c, i));
                fputs(")", out);
            }
            fputs(".\n", out);
            continue;
        }
        if (all == 0) fputs("none.", out);
        else {
            bool first = true;
            for (size_t i = 0; i < p->devices; i++)
                if (sim_compare_saw_all(c, s, i)) {
                    fprintf(out, "%s%s", first ? "" : ", ", sim_compare_device_name(c, i));
                    first = false;
                }
            fputs(" only.", out);
        }
        for (size_t i = 0; i < p->devices; i++) {
            if (sim_compare_saw_all(c, s, i)) continue;
            fprintf(out, "\n        The %s never saw %s of the %s.", sim_compare_device_name(c, i),
                    count_str(m->delivered - m->seen[i], a, sizeof a),
                    count_str(m->delivered, b, sizeof b));
        }
        if (s == SIM_CMP_POP3 && !p->leave_on_server)
            fputs("\n        Whichever device checks first downloads a message and deletes it"
                  "\n        from the server, so the others never get it.",
                  out);
        fputs("\n", out);
    }
    fputs("\nWhat does the server store at the end?\n", out);
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        const struct sim_compare_measures *m = sim_compare_final(c, s);
        fprintf(out, "  %s: ", sim_compare_side_names[s]);
        if (m->server_msgs == 0) {
            fputs(s == SIM_CMP_POP3 ? "nothing: each message was deleted from the server as it "
                                      "was downloaded.\n"
                                    : "nothing.\n",
                  out);
            continue;
        }
        fprintf(out, "%s message%s (%s):", count_str(m->server_msgs, a, sizeof a),
                m->server_msgs == 1 ? "" : "s", bytes_str(m->server_bytes, b, sizeof b));
        bool first = true;
        size_t n;
        const char *name;
        for (size_t i = 0; (name = sim_compare_folder(c, s, i, &n)); i++) {
            if (!n) continue;
            fprintf(out, "%s %s %s", first ? "" : ",", name, count_str(n, a, sizeof a));
            first = false;
        }
        fputs(".\n", out);
        if (s == SIM_CMP_POP3 && p->leave_on_server)
            fputs("        Leave-on-server keeps everything: deleting on a device never reaches"
                  "\n        the server (RFC 1939 has no remote delete outside a session).\n",
                  out);
    }
}

/* Why the numbers bear the rule out, from the numbers. */
static void why(const struct sim_compare *c, int rule, FILE *out)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    const struct sim_compare_measures *im = sim_compare_final(c, SIM_CMP_IMAP);
    const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
    char a[32], b[32], d[32], e[32];
    fputs("\nWhy: ", out);
    switch (rule) {
    case SIM_CMP_RULE_MANY_DEVICES: {
        size_t missing = 0;
        for (size_t i = 0; i < p->devices; i++) missing += !sim_compare_saw_all(c, SIM_CMP_POP3, i);
        if (missing == p->devices)
            fprintf(out, "with IMAP, %s saw all %s messages. With POP3, every device\nmissed some: ",
                    number_words[p->devices], count_str(im->delivered, a, sizeof a));
        else
            fprintf(out,
                    "with IMAP, %s saw all %s messages. With POP3, %zu of the %u devices\n"
                    "missed some: ",
                    number_words[p->devices], count_str(im->delivered, a, sizeof a), missing,
                    p->devices);
        for (size_t i = 0; i < p->devices; i++)
            fprintf(out, "%s%s saw %s", i ? ", " : "", sim_compare_device_name(c, i),
                    count_str(po->seen[i], a, sizeof a));
        fprintf(out, ".\nA message the %s downloaded is not on the %s, and the other way round.\n",
                sim_compare_device_name(c, 0), sim_compare_device_name(c, 1));
        break;
    }
    case SIM_CMP_RULE_FOLDERS_SEARCH: {
        size_t filed;
        sim_compare_fates(c, SIM_CMP_IMAP, NULL, &filed, NULL, NULL);
        fprintf(out,
                "with IMAP the %s filed %s messages into folders on the server\n"
                "(UID COPY, then \\Deleted and EXPUNGE), where the laptop can open them and the\n"
                "server can search them (UID SEARCH, RFC 3501 6.4.4). With POP3 the server\n"
                "has one folder and ends empty: the filing stays on one device, and %s messages\n"
                "never even reached that one.\n",
                sim_compare_device_name(c, 0), count_str(filed, a, sizeof a),
                count_str(po->delivered - po->seen[0], b, sizeof b));
        break;
    }
    case SIM_CMP_RULE_ONE_PC:
        fprintf(out,
                "the one %s saw all %s messages either way. With POP3 the server stores\n"
                "nothing at the end (IMAP: %s), and %s crossed the network instead of\n"
                "%s: POP3 has no flags to keep in sync and no folders to file into.\n",
                sim_compare_device_name(c, 0), count_str(im->delivered, a, sizeof a),
                bytes_str(im->server_bytes, b, sizeof b), bytes_str(po->bytes, d, sizeof d),
                bytes_str(im->bytes, e, sizeof e));
        break;
    default:
        break;
    }
}

void ui_compare_table(const struct sim_compare *c, int rule, FILE *out)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    const struct sim_compare_measures *im = sim_compare_final(c, SIM_CMP_IMAP);
    const struct sim_compare_measures *po = sim_compare_final(c, SIM_CMP_POP3);
    char a[48], b[48], label[64];
    if (rule >= 0 && rule < SIM_CMP_RULE_COUNT)
        fprintf(out, "Rule \"%s\": %s\n\n", sim_compare_rule_names[rule],
                sim_compare_rule_texts[rule]);
    fputs("mailsim compare: the same mail arrives at two identical mailboxes; the same\n"
          "devices read one by IMAP and the other by POP3.\n",
          out);
    describe(c, out);
    fputc('\n', out);
    row(out, "measure", "IMAP", "POP3", false);
    row_count(out, "messages delivered", im->delivered, po->delivered);
    if (im->refused || po->refused)
        row_count(out, "refused (a folder was full)", im->refused, po->refused);
    row_count(out, "on the server at the end", im->server_msgs, po->server_msgs);
    size_t n1, n2;
    const char *name;
    for (size_t i = 0; (name = sim_compare_folder(c, SIM_CMP_IMAP, i, &n1)); i++) {
        sim_compare_folder(c, SIM_CMP_POP3, i, &n2);
        if (!n1 && !n2) continue;
        snprintf(label, sizeof label, "  in %s", name);
        row_count(out, label, n1, n2);
    }
    row(out, "server storage", bytes_str(im->server_bytes, a, sizeof a),
        bytes_str(po->server_bytes, b, sizeof b), im->server_bytes != po->server_bytes);
    for (size_t i = 0; i < p->devices; i++) {
        snprintf(label, sizeof label, "%s: messages it holds", sim_compare_device_name(c, i));
        row_count(out, label, im->device_msgs[i], po->device_msgs[i]);
        snprintf(label, sizeof label, "%s: messages it saw", sim_compare_device_name(c, i));
        row_count(out, label, im->seen[i], po->seen[i]);
    }
    row(out, "bytes transferred", bytes_str(im->bytes, a, sizeof a), bytes_str(po->bytes, b, sizeof b),
        im->bytes != po->bytes);
    row_count(out, "connections made", im->connections, po->connections);
    size_t del[2], fil[2], kep[2], nop[2];
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++)
        sim_compare_fates(c, s, &del[s], &fil[s], &kep[s], &nop[s]);
    snprintf(label, sizeof label, "tidied on the %s: deleted", sim_compare_device_name(c, 0));
    row_count(out, label, del[0], del[1]);
    row_count(out, "  filed into a folder", fil[0], fil[1]);
    row_count(out, "  kept (POP3: and the ones to file)", kep[0], kep[1]);
    snprintf(label, sizeof label, "  never reached the %s", sim_compare_device_name(c, 0));
    row_count(out, label, nop[0], nop[1]);
    fputs("\n  < where the two sides differ. \"Holds\" counts the device's own copies;\n"
          "  \"saw\" counts the messages that ever reached it.\n",
          out);
    answers(c, out);
    if (rule >= 0 && rule < SIM_CMP_RULE_COUNT) why(c, rule, out);
}

/* ---- JSON -------------------------------------------------------------------- */

static void json_measures(const struct sim_compare_measures *m, unsigned devices, FILE *out)
{
    fprintf(out,
            "{\"t\": %.0f, \"delivered\": %zu, \"refused\": %zu, \"server_msgs\": %zu, "
            "\"server_bytes\": %zu, \"bytes\": %" PRIu64 ", \"connections\": %zu, "
            "\"device_msgs\": [",
            (double)m->t / 1e6, m->delivered, m->refused, m->server_msgs, m->server_bytes,
            m->bytes, m->connections);
    for (unsigned i = 0; i < devices; i++) fprintf(out, "%s%zu", i ? ", " : "", m->device_msgs[i]);
    fputs("], \"seen\": [", out);
    for (unsigned i = 0; i < devices; i++) fprintf(out, "%s%zu", i ? ", " : "", m->seen[i]);
    fputs("]}", out);
}

void ui_compare_json(const struct sim_compare *c, int rule, FILE *out)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    fputs("{\n", out);
    if (rule >= 0 && rule < SIM_CMP_RULE_COUNT)
        fprintf(out, "  \"rule\": \"%s\",\n", sim_compare_rule_names[rule]);
    fprintf(out,
            "  \"params\": {\"devices\": %u, \"days\": %u, \"per_day\": %u, "
            "\"leave_on_server\": %s, \"seed\": %" PRIu64 ", \"delete_pct\": %u, \"file_pct\": %u},\n",
            p->devices, p->days, p->per_day, p->leave_on_server ? "true" : "false", p->seed,
            p->delete_pct, p->file_pct);
    fputs("  \"devices\": [", out);
    for (size_t i = 0; i < p->devices; i++)
        fprintf(out, "%s{\"name\": \"%s\", \"check_every\": %.0f}", i ? ", " : "",
                sim_compare_device_name(c, i), (double)sim_compare_device_interval(c, i) / 1e6);
    fputs("],\n  \"sides\": {\n", out);
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        fprintf(out, "    \"%s\": {\n      \"final\": ", sim_compare_side_names[s]);
        json_measures(sim_compare_final(c, s), p->devices, out);
        fputs(",\n      \"folders\": {", out);
        size_t n;
        const char *name;
        for (size_t i = 0; (name = sim_compare_folder(c, s, i, &n)); i++)
            fprintf(out, "%s\"%s\": %zu", i ? ", " : "", name, n);
        size_t del, fil, kep, nop;
        sim_compare_fates(c, s, &del, &fil, &kep, &nop);
        fprintf(out,
                "},\n      \"tidied\": {\"deleted\": %zu, \"filed\": %zu, \"kept\": %zu, "
                "\"not_on_phone\": %zu},\n      \"saw_every_message\": [",
                del, fil, kep, nop);
        bool first = true;
        for (size_t i = 0; i < p->devices; i++)
            if (sim_compare_saw_all(c, s, i)) {
                fprintf(out, "%s\"%s\"", first ? "" : ", ", sim_compare_device_name(c, i));
                first = false;
            }
        fputs("],\n      \"series\": [\n", out);
        size_t ns;
        const struct sim_compare_measures *m = sim_compare_samples(c, s, &ns);
        for (size_t k = 0; k < ns; k++) {
            fputs("        ", out);
            json_measures(&m[k], p->devices, out);
            fputs(k + 1 < ns ? ",\n" : "\n", out);
        }
        fprintf(out, "      ]\n    }%s\n", s + 1 < SIM_CMP_SIDE_COUNT ? "," : "");
    }
    fputs("  }\n}\n", out);
}

/* ---- the chart ------------------------------------------------------------------ */

/* Okabe-Ito ("Color Universal Design", 2008): distinguishable with the
 * common forms of colour blindness; the sides also differ in the legend's
 * words, and devices in their dash pattern, never in colour alone. The
 * same IMAP green and POP3 vermillion as the window (assets/theme.h). */
#define C_IMAP 0x009E73
#define C_POP3 0xD55E00
#define C_DELIVERED 0x56B4E9
#define C_TEXT 0x1A1A1A
#define C_DIM 0x5A5A5A
#define C_GRID 0xDDDDD5
#define C_BG 0xF7F7F2
#define C_PANEL 0xFFFFFF
#define C_AXIS 0x2B2B2B

struct plot {
    SDL_Renderer *r;
    TTF_Font *font, *bold, *title;
};

static void colour(SDL_Renderer *r, unsigned rgb)
{
    SDL_SetRenderDrawColor(r, (rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff, 0xff);
}

enum align { LEFT, CENTRE, RIGHT };

static void text(struct plot *pl, TTF_Font *f, const char *s, int x, int y, enum align al,
                 unsigned rgb)
{
    SDL_Color col = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff, 0xff};
    SDL_Surface *surf = TTF_RenderUTF8_Blended(f, s, col);
    if (!surf) return;
    SDL_Texture *t = SDL_CreateTextureFromSurface(pl->r, surf);
    if (t) {
        SDL_Rect dst = {x, y, surf->w, surf->h};
        if (al == CENTRE) dst.x -= surf->w / 2;
        if (al == RIGHT) dst.x -= surf->w;
        SDL_RenderCopy(pl->r, t, NULL, &dst);
        SDL_DestroyTexture(t);
    }
    SDL_FreeSurface(surf);
}

/* A line 3 pixels wide (a projector loses hairlines), dashed by pattern:
 * the bits of a 16-step mask, one step per 2 pixels of length. */
static void thick_line(SDL_Renderer *r, double x0, double y0, double x1, double y1,
                       unsigned pattern, double *travelled)
{
    double dx = x1 - x0, dy = y1 - y0;
    double len = SDL_sqrt(dx * dx + dy * dy);
    int steps = (int)len + 1;
    for (int i = 0; i <= steps; i++) {
        double f = (double)i / steps;
        double at = *travelled + f * len;
        if (!((pattern >> ((unsigned)(at / 2.0) % 16)) & 1u)) continue;
        int x = (int)(x0 + f * dx), y = (int)(y0 + f * dy);
        SDL_Rect dot = {x - 1, y - 1, 3, 3};
        SDL_RenderFillRect(r, &dot);
    }
    *travelled += len;
}

/* Per device: solid, dashed, dotted, dash-dot, ... */
static const unsigned dash[SIM_COMPARE_DEVICES_MAX] = {0xffff, 0x00ff, 0x3333, 0x0f0f,
                                                       0x33ff, 0x0303, 0x0fff, 0x3f3f};

/* 1, 2 or 5 times a power of ten, so that about 5 steps span max. */
static double nice_step(double max)
{
    if (max <= 0) return 1;
    double raw = max / 5.0, p = 1;
    while (p * 10 <= raw) p *= 10;
    while (p > raw) p /= 10;
    double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < ARRAY_LEN(steps); i++)
        if (p * steps[i] >= raw) return p * steps[i];
    return p * 10;
}

typedef double (*measure_fn)(const struct sim_compare_measures *m, size_t device);

static double m_server(const struct sim_compare_measures *m, size_t d)
{
    (void)d;
    return (double)m->server_msgs;
}
static double m_seen(const struct sim_compare_measures *m, size_t d)
{
    return (double)m->seen[d];
}
static double m_delivered(const struct sim_compare_measures *m, size_t d)
{
    (void)d;
    return (double)m->delivered;
}
static double m_mib(const struct sim_compare_measures *m, size_t d)
{
    (void)d;
    return (double)m->bytes / (1024.0 * 1024.0);
}
static double m_conns(const struct sim_compare_measures *m, size_t d)
{
    (void)d;
    return (double)m->connections;
}

struct panel {
    const char *title;
    const char *unit;
    measure_fn fn;
    bool per_device; /* one line per device on each side */
    bool delivered;  /* a reference line: messages delivered */
};

static void format_tick(double v, char *buf, size_t cap)
{
    char tmp[32];
    if (v == (double)(uint64_t)v) snprintf(buf, cap, "%s", count_str((uint64_t)v, tmp, sizeof tmp));
    else snprintf(buf, cap, "%.1f", v);
}

static void draw_panel(struct plot *pl, const struct sim_compare *c, const struct panel *pn,
                       SDL_Rect box)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    colour(pl->r, C_PANEL);
    SDL_RenderFillRect(pl->r, &box);
    text(pl, pl->bold, pn->title, box.x + 12, box.y + 8, LEFT, C_TEXT);
    SDL_Rect area = {box.x + 78, box.y + 44, box.w - 100, box.h - 92};
    /* the scale: the largest value on either side */
    double max = 0, end_t = 1;
    for (int s = 0; s < SIM_CMP_SIDE_COUNT; s++) {
        size_t n;
        const struct sim_compare_measures *m = sim_compare_samples(c, s, &n);
        for (size_t k = 0; k < n; k++) {
            size_t nd = pn->per_device ? p->devices : 1;
            for (size_t d = 0; d < nd; d++)
                if (pn->fn(&m[k], d) > max) max = pn->fn(&m[k], d);
            if (pn->delivered && m_delivered(&m[k], 0) > max) max = m_delivered(&m[k], 0);
        }
        if (n && (double)m[n - 1].t > end_t) end_t = (double)m[n - 1].t;
    }
    double step = nice_step(max);
    double top = step * SDL_ceil(max / step);
    if (top <= 0) top = step;
    char buf[48];
    /* horizontal grid and the y labels */
    for (double v = 0; v <= top + step / 2; v += step) {
        int y = area.y + area.h - (int)(v / top * area.h);
        colour(pl->r, C_GRID);
        SDL_RenderDrawLine(pl->r, area.x, y, area.x + area.w, y);
        format_tick(v, buf, sizeof buf);
        text(pl, pl->font, buf, area.x - 8, y - 9, RIGHT, C_DIM);
    }
    /* the x axis in days */
    double days = end_t / 1e6 / SEC_PER_DAY;
    double dstep = nice_step(days);
    for (double dd = 0; dd <= days + 1e-9; dd += dstep) {
        int x = area.x + (int)(dd / days * area.w);
        colour(pl->r, C_GRID);
        SDL_RenderDrawLine(pl->r, x, area.y, x, area.y + area.h);
        format_tick(dd, buf, sizeof buf);
        text(pl, pl->font, buf, x, area.y + area.h + 4, CENTRE, C_DIM);
    }
    text(pl, pl->font, "days", area.x + area.w, area.y + area.h + 22, RIGHT, C_DIM);
    text(pl, pl->font, pn->unit, box.x + box.w - 12, box.y + 10, RIGHT, C_DIM);
    colour(pl->r, C_AXIS);
    SDL_RenderDrawLine(pl->r, area.x, area.y + area.h, area.x + area.w, area.y + area.h);
    SDL_RenderDrawLine(pl->r, area.x, area.y, area.x, area.y + area.h);
    /* the lines: the reference first, so the sides draw over it */
    for (int layer = pn->delivered ? -1 : 0; layer < SIM_CMP_SIDE_COUNT; layer++) {
        int s = layer < 0 ? SIM_CMP_IMAP : layer;
        size_t n;
        const struct sim_compare_measures *m = sim_compare_samples(c, s, &n);
        size_t nd = (pn->per_device && layer >= 0) ? p->devices : 1;
        colour(pl->r, layer < 0 ? C_DELIVERED : s == SIM_CMP_IMAP ? C_IMAP : C_POP3);
        for (size_t d = 0; d < nd; d++) {
            double travelled = 0;
            unsigned pat = pn->per_device && layer >= 0 ? dash[d] : 0xffff;
            for (size_t k = 1; k < n; k++) {
                double v0 = layer < 0 ? m_delivered(&m[k - 1], 0) : pn->fn(&m[k - 1], d);
                double v1 = layer < 0 ? m_delivered(&m[k], 0) : pn->fn(&m[k], d);
                double x0 = area.x + (double)m[k - 1].t / end_t * area.w;
                double x1 = area.x + (double)m[k].t / end_t * area.w;
                double y0 = area.y + area.h - v0 / top * area.h;
                double y1 = area.y + area.h - v1 / top * area.h;
                thick_line(pl->r, x0, y0, x1, y1, pat, &travelled);
            }
        }
    }
}

static void legend(struct plot *pl, const struct sim_compare *c, int x, int y)
{
    const struct sim_compare_params *p = sim_compare_params(c);
    double tr = 0;
    const struct {
        const char *label;
        unsigned rgb;
    } sides[] = {{"IMAP", C_IMAP}, {"POP3", C_POP3}, {"delivered", C_DELIVERED}};
    for (size_t i = 0; i < ARRAY_LEN(sides); i++) {
        colour(pl->r, sides[i].rgb);
        tr = 0;
        thick_line(pl->r, x, y + 10, x + 36, y + 10, 0xffff, &tr);
        text(pl, pl->bold, sides[i].label, x + 44, y, LEFT, C_TEXT);
        x += 60 + 11 * (int)strlen(sides[i].label);
    }
    if (p->devices < 2) return;
    x += 20;
    text(pl, pl->font, "devices:", x, y, LEFT, C_DIM);
    x += 76;
    for (size_t d = 0; d < p->devices; d++) {
        colour(pl->r, C_AXIS);
        tr = 0;
        thick_line(pl->r, x, y + 10, x + 36, y + 10, dash[d], &tr);
        const char *name = sim_compare_device_name(c, d);
        text(pl, pl->font, name, x + 42, y, LEFT, C_TEXT);
        x += 56 + 9 * (int)strlen(name);
    }
}

int ui_compare_plot(const struct sim_compare *c, const char *path, const char *assets_dir, int w,
                    int h, char *err, size_t cap)
{
    if (w < 640 || h < 480 || w > 8192 || h > 8192) {
        snprintf(err, cap, "the chart must be 640x480 to 8192x8192 pixels");
        return -1;
    }
    int rc = -1;
    bool ttf = false;
    struct plot pl = {0};
    SDL_Surface *surf = NULL;
    char font[4200], bold[4200];
    snprintf(font, sizeof font, "%sfonts/DejaVuSans.ttf", assets_dir);
    snprintf(bold, sizeof bold, "%sfonts/DejaVuSans-Bold.ttf", assets_dir);
    if (TTF_Init() != 0) {
        snprintf(err, cap, "cannot start SDL_ttf: %s", TTF_GetError());
        return -1;
    }
    ttf = true;
    pl.font = TTF_OpenFont(font, 15);
    pl.bold = TTF_OpenFont(bold, 17);
    pl.title = TTF_OpenFont(bold, 22);
    if (!pl.font || !pl.bold || !pl.title) {
        snprintf(err, cap, "cannot open the fonts in %sfonts: %s", assets_dir, TTF_GetError());
        goto out;
    }
    /* no window: a surface in memory and the software renderer on it */
    surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_RGBA32);
    pl.r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    if (!pl.r) {
        snprintf(err, cap, "cannot make a %dx%d canvas: %s", w, h, SDL_GetError());
        goto out;
    }
    colour(pl.r, C_BG);
    SDL_RenderClear(pl.r);
    const struct sim_compare_params *p = sim_compare_params(c);
    char title[256], n[32];
    snprintf(title, sizeof title, "IMAP sync or POP3 download: %s messages over %u days, %u device%s",
             count_str((uint64_t)p->days * p->per_day, n, sizeof n), p->days, p->devices,
             p->devices == 1 ? "" : "s");
    text(&pl, pl.title, title, 24, 14, LEFT, C_TEXT);
    snprintf(title, sizeof title, "seed %" PRIu64 "; POP3 %s", p->seed,
             p->leave_on_server ? "leaves a copy on the server" : "downloads and deletes");
    text(&pl, pl.font, title, 24, 44, LEFT, C_DIM);
    legend(&pl, c, 24, 70);
    static const struct panel panels[4] = {
        {"Messages on the server", "messages", m_server, false, false},
        {"Messages each device saw", "messages", m_seen, true, true},
        {"Bytes transferred", "MiB", m_mib, false, false},
        {"Connections made", "connections", m_conns, false, false},
    };
    int top = 104, gap = 16;
    int pw = (w - 3 * gap) / 2, ph = (h - top - 2 * gap) / 2;
    for (int i = 0; i < 4; i++) {
        SDL_Rect box = {gap + (i % 2) * (pw + gap), top + (i / 2) * (ph + gap), pw, ph};
        draw_panel(&pl, c, &panels[i], box);
    }
    SDL_RenderPresent(pl.r);
    if (IMG_SavePNG(surf, path) != 0) {
        snprintf(err, cap, "cannot write %s: %s", path, IMG_GetError());
        goto out;
    }
    rc = 0;
out:
    if (pl.r) SDL_DestroyRenderer(pl.r);
    SDL_FreeSurface(surf);
    if (pl.font) TTF_CloseFont(pl.font);
    if (pl.bold) TTF_CloseFont(pl.bold);
    if (pl.title) TTF_CloseFont(pl.title);
    if (ttf) TTF_Quit();
    return rc;
}

/* ---- the command ------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fputs("usage: mailsim compare [--rule many-devices|folders-search|one-pc]\n"
          "                       [--devices N] [--days D] [--per-day M] [--leave-on-server]\n"
          "                       [--seed S] [--json] [--plot FILE.png]\n"
          "                       [--view] [--snapshot FILE.png [--step K] [--size WxH]]\n"
          "\n"
          "The same stream of mail arrives at two identical mailboxes; the same devices,\n"
          "with the same habits, read one by IMAP and the other by POP3. Prints both\n"
          "sides' numbers, which devices saw every message, and what the server stores.\n"
          "\n"
          "  --rule NAME        a quick-pick rule with the numbers that show why:\n"
          "                     many-devices    more than one device: IMAP\n"
          "                     folders-search  folders and search on the server: IMAP\n"
          "                     one-pc          one machine and a tiny server: POP3\n"
          "                     (the other options change the rule's preset)\n"
          "  --devices N        1 to 8: phone, laptop, desktop, tablet, work-pc, webmail,\n"
          "                     old-laptop, watch, in that order (default 3)\n"
          "  --days D           simulated days, 1 to 3650 (default 7)\n"
          "  --per-day M        messages arriving a day, 1 to 1000 (default 40)\n"
          "  --leave-on-server  POP3 devices leave a copy on the server\n"
          "  --seed S           the random seed: the same seed, the same numbers (default 1)\n"
          "  --json             one JSON object with every number and the series\n"
          "  --plot FILE.png    also draw the measures over time as a chart\n"
          "  --view             also open the split view: IMAP left, POP3 right, the\n"
          "                     counters and which device has seen which message, over\n"
          "                     time (Space plays, Right/Left step, Home, End; at most\n"
          "                     2000 messages)\n"
          "  --snapshot FILE.png  save the split view as a PNG, without a display: time\n"
          "                     point K (from 0; default the end), 1920x1080 or WxH\n",
          out);
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
    if (!s || !*s || *s == '-' || *s == '+') return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max) return false;
    *v = x;
    return true;
}

int ui_compare_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    struct sim_compare_params p;
    sim_compare_defaults(&p);
    int rule = -1;
    bool json = false;
    const char *plot = NULL;
    /* the split view (render/ui_split_draw.h) */
    bool view = false;
    const char *snapshot = NULL;
    size_t point = SIZE_MAX;
    int snap_w = UI_BASE_W, snap_h = UI_BASE_H;
    /* the rule first: the other options change its preset */
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--rule") == 0) {
            rule = sim_compare_rule_find(argv[i + 1]);
            if (rule < 0) {
                fprintf(err, "mailsim compare: no rule named '%s' (many-devices, folders-search, "
                             "one-pc)\n", argv[i + 1]);
                return UI_COMPARE_USAGE;
            }
            sim_compare_rule_params((enum sim_compare_rule)rule, &p);
        }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long x;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(out);
            return UI_COMPARE_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--view") == 0) {
            view = true;
        } else if (strcmp(a, "--snapshot") == 0 && v) {
            snapshot = v;
            i++;
        } else if (strcmp(a, "--step") == 0 && v) {
            if (!parse_uint(v, SIM_COMPARE_SAMPLES_MAX, &x)) {
                fprintf(err, "mailsim compare: --step needs a time point from 0 to %d, got '%s'\n",
                        SIM_COMPARE_SAMPLES_MAX, v);
                return UI_COMPARE_USAGE;
            }
            point = (size_t)x;
            i++;
        } else if (strcmp(a, "--size") == 0 && v) {
            char *end;
            long sw = strtol(v, &end, 10), sh = 0;
            if (end != v && (*end == 'x' || *end == 'X')) {
                const char *hp = end + 1;
                sh = strtol(hp, &end, 10);
                if (end == hp || *end) sh = 0;
            }
            if (sw < UI_MIN_W / 2 || sh < UI_MIN_H / 2 || sw > 7680 || sh > 4320) {
                fprintf(err, "mailsim compare: --size wants WxH, from 640x360 to 7680x4320, not "
                             "'%s'\n", v);
                return UI_COMPARE_USAGE;
            }
            snap_w = (int)sw;
            snap_h = (int)sh;
            i++;
        } else if (strcmp(a, "--leave-on-server") == 0) {
            p.leave_on_server = true;
        } else if (strcmp(a, "--rule") == 0 && v) {
            i++;
        } else if (strcmp(a, "--plot") == 0 && v) {
            plot = v;
            i++;
        } else if ((strcmp(a, "--devices") == 0 || strcmp(a, "--days") == 0 ||
                    strcmp(a, "--per-day") == 0 || strcmp(a, "--seed") == 0) && v) {
            bool seed = strcmp(a, "--seed") == 0;
            if (!parse_uint(v, seed ? UINT64_MAX : 100000, &x)) {
                fprintf(err, "mailsim compare: %s needs a whole number, got '%s'\n", a, v);
                return UI_COMPARE_USAGE;
            }
            if (strcmp(a, "--devices") == 0) p.devices = (unsigned)x;
            else if (strcmp(a, "--days") == 0) p.days = (unsigned)x;
            else if (strcmp(a, "--per-day") == 0) p.per_day = (unsigned)x;
            else p.seed = x;
            i++;
        } else {
            static const char *const valued[] = {"--rule", "--plot", "--devices", "--days",
                                                 "--per-day", "--seed", "--snapshot", "--step",
                                                 "--size"};
            bool needs = false;
            for (size_t k = 0; k < ARRAY_LEN(valued); k++) needs |= strcmp(a, valued[k]) == 0;
            if (needs) fprintf(err, "mailsim compare: %s needs a value\n\n", a);
            else fprintf(err, "mailsim compare: unknown %s '%s'\n\n",
                         strncmp(a, "--", 2) == 0 ? "option" : "argument", a);
            usage(err);
            return UI_COMPARE_USAGE;
        }
    }
    const char *bad = sim_compare_check(&p);
    if (bad) {
        fprintf(err, "mailsim compare: %s\n", bad);
        return UI_COMPARE_USAGE;
    }
    if ((view || snapshot) && (uint64_t)p.days * p.per_day > UI_SPLIT_MSGS_MAX) {
        fprintf(err, "mailsim compare: the split view shows at most %u messages, one grid cell "
                     "each; this run has %llu (fewer --days or --per-day, or --plot for a chart)\n",
                UI_SPLIT_MSGS_MAX, (unsigned long long)p.days * p.per_day);
        return UI_COMPARE_USAGE;
    }
    if ((point != SIZE_MAX || snap_w != UI_BASE_W || snap_h != UI_BASE_H) && !snapshot) {
        fputs("mailsim compare: --step and --size go with --snapshot FILE.png\n", err);
        return UI_COMPARE_USAGE;
    }
    /* the split view replays the runs' traces: which device had which message when */
    p.keep_trace = view || snapshot;
    char assets[UI_PATH_MAX];
    if (plot && !ui_find_assets(argv0, assets, sizeof assets)) {
        fputs("mailsim compare: cannot find assets/fonts for the chart (set MAILSIM_ASSETS to the "
              "assets folder)\n",
              err);
        return UI_COMPARE_FAILED;
    }
    char why[256];
    struct sim_compare *c = sim_compare_run(&p, why, sizeof why);
    if (!c) {
        fprintf(err, "mailsim compare: %s\n", why);
        return UI_COMPARE_FAILED;
    }
    if (json) ui_compare_json(c, rule, out);
    else ui_compare_table(c, rule, out);
    int rc = UI_COMPARE_OK;
    if (plot) {
        if (ui_compare_plot(c, plot, assets, 1400, 900, why, sizeof why) != 0) {
            fprintf(err, "mailsim compare: %s\n", why);
            rc = UI_COMPARE_FAILED;
        } else if (!json) {
            fprintf(out, "\nThe chart is in %s.\n", plot);
        }
    }
    if (snapshot && rc == UI_COMPARE_OK &&
        ui_split_snapshot(c, snapshot, point, snap_w, snap_h, argv0, json ? err : out, err) != 0)
        rc = UI_COMPARE_FAILED;
    if (view && rc == UI_COMPARE_OK && ui_split_window(c, argv0, err) != 0) rc = UI_COMPARE_FAILED;
    sim_compare_free(c);
    return rc;
}
