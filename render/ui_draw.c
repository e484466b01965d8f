/* Drawing a frame with SDL's 2D renderer: rectangles, lines, triangles
 * (SDL_RenderGeometry) and cached text. Icons are drawn from primitives, so
 * they scale with the window and need no files. */
#include "render/ui_draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets/theme.h"
#include "render/ui_text.h"

struct ui_draw {
    SDL_Renderer   *r;
    struct ui_text *text;
};

struct ui_view ui_view_default(void)
{
    return (struct ui_view){.progress = 1.0, .selected_host = -1, .speed = 1.0,
                            .text_scale = 1.0, .nlessons = 1};
}

struct ui_draw *ui_draw_new(SDL_Renderer *r, const char *assets_dir)
{
    struct ui_draw *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->r = r;
    d->text = ui_text_new(r, assets_dir);
    if (!d->text) {
        free(d);
        return NULL;
    }
    return d;
}

void ui_draw_free(struct ui_draw *d)
{
    if (!d) return;
    ui_text_free(d->text);
    free(d);
}

unsigned long ui_draw_text_renders(const struct ui_draw *d) { return ui_text_renders(d->text); }

unsigned ui_proto_colour(enum sim_proto p)
{
    static const unsigned c[SIM_PROTO_COUNT] = {
        THEME_PROTO_TCP, THEME_PROTO_SMTP,  THEME_PROTO_IMAP,  THEME_PROTO_POP3, THEME_PROTO_DNS,
        THEME_PROTO_TLS, THEME_PROTO_STORE, THEME_PROTO_QUEUE, THEME_PROTO_SIM};
    return (unsigned)p < SIM_PROTO_COUNT ? c[p] : THEME_PROTO_TCP;
}

static const char *const proto_label[SIM_PROTO_COUNT] = {
    "TCP", "SMTP", "IMAP", "POP3", "DNS", "TLS", "store", "queue", "lesson"};

/* ---- primitives ------------------------------------------------------------ */

static SDL_Color col(unsigned rgb)
{
    return (SDL_Color){(Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255};
}

static void set(struct ui_draw *d, unsigned rgb)
{
    SDL_SetRenderDrawColor(d->r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
}

static SDL_Rect sdl(struct ui_rect r) { return (SDL_Rect){r.x, r.y, r.w, r.h}; }

static void fill(struct ui_draw *d, struct ui_rect r, unsigned rgb)
{
    SDL_Rect s = sdl(r);
    set(d, rgb);
    SDL_RenderFillRect(d->r, &s);
}

static void frame(struct ui_draw *d, struct ui_rect r, int t, unsigned rgb)
{
    fill(d, (struct ui_rect){r.x, r.y, r.w, t}, rgb);
    fill(d, (struct ui_rect){r.x, r.y + r.h - t, r.w, t}, rgb);
    fill(d, (struct ui_rect){r.x, r.y, t, r.h}, rgb);
    fill(d, (struct ui_rect){r.x + r.w - t, r.y, t, r.h}, rgb);
}

static void tri(struct ui_draw *d, float x1, float y1, float x2, float y2, float x3, float y3,
                unsigned rgb)
{
    SDL_Color c = col(rgb);
    SDL_Vertex v[3] = {{{x1, y1}, c, {0, 0}}, {{x2, y2}, c, {0, 0}}, {{x3, y3}, c, {0, 0}}};
    SDL_RenderGeometry(d->r, NULL, v, 3, NULL, 0);
}

/* A line t pixels thick, as a quad. */
static void line(struct ui_draw *d, double x1, double y1, double x2, double y2, double t,
                 unsigned rgb)
{
    double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
    if (len < 0.5) return;
    double nx = -dy / len * t / 2, ny = dx / len * t / 2;
    tri(d, (float)(x1 + nx), (float)(y1 + ny), (float)(x2 + nx), (float)(y2 + ny),
        (float)(x2 - nx), (float)(y2 - ny), rgb);
    tri(d, (float)(x1 + nx), (float)(y1 + ny), (float)(x2 - nx), (float)(y2 - ny),
        (float)(x1 - nx), (float)(y1 - ny), rgb);
}

static void dashed(struct ui_draw *d, double x1, double y1, double x2, double y2, double t,
                   double dash, unsigned rgb)
{
    double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
    if (len < 1) return;
    for (double s = 0; s < len; s += 2 * dash) {
        double e = fmin(s + dash, len);
        line(d, x1 + dx * s / len, y1 + dy * s / len, x1 + dx * e / len, y1 + dy * e / len, t,
             rgb);
    }
}

static void disc(struct ui_draw *d, int cx, int cy, int rad, unsigned rgb)
{
    set(d, rgb);
    for (int y = -rad; y <= rad; y++) {
        int x = (int)sqrt((double)(rad * rad - y * y));
        SDL_RenderDrawLine(d->r, cx - x, cy + y, cx + x, cy + y);
    }
}

static void ring(struct ui_draw *d, int cx, int cy, int rad, int t, unsigned rgb, unsigned in)
{
    disc(d, cx, cy, rad, rgb);
    if (rad - t > 0) disc(d, cx, cy, rad - t, in);
}

static int S(const struct ui_layout *lo, double v)
{
    int r = (int)lround(v * lo->scale);
    return r < 1 ? 1 : r;
}

enum align { LEFT, CENTRE, RIGHT };

/* Lines looked back through for the note a continuation line belongs to (a
 * message body of a few hundred lines is common in lessons). */
#define UI_CONTINUATION_MAX 2000

/* Draws s with its top at y; x is its left, centre or right. Returns the
 * size drawn (w, h), {0,0} for an empty string. */
static struct ui_tex text(struct ui_draw *d, enum ui_face f, int px, unsigned rgb, const char *s,
                          int x, int y, enum align a, int max_w, int wrap_w)
{
    struct ui_tex t = ui_text_get(d->text, f, px, col(rgb), s, max_w, wrap_w);
    if (!t.tex) return t;
    int left = a == LEFT ? x : a == CENTRE ? x - t.w / 2 : x - t.w;
    SDL_Rect dst = {left, y, t.w, t.h};
    SDL_RenderCopy(d->r, t.tex, NULL, &dst);
    return t;
}

static void clip(struct ui_draw *d, const struct ui_rect *r)
{
    if (!r) {
        SDL_RenderSetClipRect(d->r, NULL);
        return;
    }
    SDL_Rect s = sdl(*r);
    SDL_RenderSetClipRect(d->r, &s);
}

/* ---- icons ----------------------------------------------------------------- */

/* The lock: a shackle over a body, filling square r. */
static void lock_icon(struct ui_draw *d, struct ui_rect r)
{
    int s = r.w, t = s / 7 > 0 ? s / 7 : 1;
    struct ui_rect body = {r.x, r.y + s * 2 / 5, s, s - s * 2 / 5};
    struct ui_rect sh = {r.x + s / 5, r.y, s - 2 * (s / 5), s * 2 / 5 + t};
    frame(d, (struct ui_rect){sh.x, sh.y, sh.w, sh.h}, t, THEME_LOCK_EDGE);
    fill(d, body, THEME_LOCK_EDGE);
    fill(d, (struct ui_rect){body.x + t, body.y + t, body.w - 2 * t, body.h - 2 * t},
         THEME_LOCK);
}

/* Role icons in square r (centre cx, cy; size s). */
static void role_icon(struct ui_draw *d, enum sim_role role, struct ui_rect r, bool up)
{
    unsigned ink = up ? THEME_ICON : THEME_HOST_DOWN_EDGE;
    unsigned paper = up ? THEME_HOST_FILL : THEME_HOST_DOWN_FILL;
    int s = r.w, x = r.x, y = r.y, t = s / 14 > 0 ? s / 14 : 1;
    switch (role) {
    case SIM_ROLE_COMPUTER: /* a monitor on a stand */
        fill(d, (struct ui_rect){x, y + s / 10, s, s * 6 / 10}, ink);
        fill(d, (struct ui_rect){x + t, y + s / 10 + t, s - 2 * t, s * 6 / 10 - 2 * t},
             THEME_OI_SKY_BLUE);
        fill(d, (struct ui_rect){x + s * 9 / 20, y + s * 7 / 10, s / 10, s / 6}, ink);
        fill(d, (struct ui_rect){x + s / 4, y + s * 17 / 20, s / 2, t + 1}, ink);
        break;
    case SIM_ROLE_LAPTOP: /* a screen over a wider keyboard */
        fill(d, (struct ui_rect){x + s / 8, y + s / 8, s * 3 / 4, s / 2}, ink);
        fill(d, (struct ui_rect){x + s / 8 + t, y + s / 8 + t, s * 3 / 4 - 2 * t, s / 2 - 2 * t},
             THEME_OI_SKY_BLUE);
        tri(d, (float)(x + s / 8), (float)(y + s * 5 / 8), (float)(x + s * 7 / 8),
            (float)(y + s * 5 / 8), (float)(x + s), (float)(y + s * 4 / 5), ink);
        tri(d, (float)(x + s / 8), (float)(y + s * 5 / 8), (float)(x + s), (float)(y + s * 4 / 5),
            (float)x, (float)(y + s * 4 / 5), ink);
        break;
    case SIM_ROLE_PHONE: /* a tall slab with a screen and a button */
        fill(d, (struct ui_rect){x + s * 3 / 10, y, s * 2 / 5, s}, ink);
        fill(d, (struct ui_rect){x + s * 3 / 10 + t, y + s / 8, s * 2 / 5 - 2 * t, s * 5 / 8},
             THEME_OI_SKY_BLUE);
        disc(d, x + s / 2, y + s * 7 / 8, s / 18 + 1, paper);
        break;
    case SIM_ROLE_WEBMAIL: /* a browser window */
        fill(d, (struct ui_rect){x, y + s / 8, s, s * 3 / 4}, ink);
        fill(d, (struct ui_rect){x + t, y + s / 8 + s / 6, s - 2 * t, s * 3 / 4 - s / 6 - t},
             paper);
        for (int i = 0; i < 3; i++) disc(d, x + s / 10 + i * s / 8, y + s / 8 + s / 12, s / 28 + 1, paper);
        break;
    case SIM_ROLE_MAIL_SERVER: /* three rack units with an envelope */
        for (int i = 0; i < 3; i++) {
            struct ui_rect u = {x + s / 10, y + i * s / 3 + t, s * 4 / 5, s / 3 - 2 * t};
            fill(d, u, ink);
            disc(d, u.x + u.w - s / 8, u.y + u.h / 2, s / 24 + 1, THEME_OI_GREEN);
        }
        {
            struct ui_rect env = {x + s / 5, y + s / 3 + t + s / 20, s * 2 / 5, s / 3 - 2 * t - s / 10};
            fill(d, env, paper);
            line(d, env.x, env.y, env.x + env.w / 2.0, env.y + env.h / 2.0, t, ink);
            line(d, env.x + env.w / 2.0, env.y + env.h / 2.0, env.x + env.w, env.y, t, ink);
        }
        break;
    case SIM_ROLE_DNS_RESOLVER: /* a globe with a magnifying glass */
    case SIM_ROLE_DNS_SERVER:   /* a globe on a rack unit */
    {
        int rad = s * 3 / 10, cx = x + s * 2 / 5, cy = y + s * 2 / 5;
        ring(d, cx, cy, rad, t + 1, ink, paper);
        line(d, cx - rad, cy, cx + rad, cy, t, ink);
        line(d, cx, cy - rad, cx, cy + rad, t, ink);
        frame(d, (struct ui_rect){cx - rad / 2, cy - rad + t, rad, 2 * rad - 2 * t}, t, ink);
        if (role == SIM_ROLE_DNS_RESOLVER) {
            int mx = x + s * 3 / 4, my = y + s * 3 / 4;
            ring(d, mx, my, s / 7, t + 1, ink, paper);
            line(d, mx + s / 10, my + s / 10, x + s, y + s, 2 * t, ink);
        } else {
            fill(d, (struct ui_rect){x + s / 10, y + s * 4 / 5, s * 4 / 5, s / 6}, ink);
            disc(d, x + s * 4 / 5, y + s * 4 / 5 + s / 12, s / 24 + 1, THEME_OI_GREEN);
        }
        break;
    }
    case SIM_ROLE_COUNT: break;
    }
}

/* ---- the network ------------------------------------------------------------ */

static void host_box(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                     int i, bool selected)
{
    const struct ui_host_info *h = &st->lesson->hosts[i];
    struct ui_rect r = lo->host[i];
    bool up = st->host_up[i];
    fill(d, r, up ? THEME_HOST_EDGE : THEME_HOST_DOWN_EDGE);
    struct ui_rect in = {r.x + lo->border, r.y + lo->border, r.w - 2 * lo->border,
                         r.h - 2 * lo->border};
    fill(d, in, up ? THEME_HOST_FILL : THEME_HOST_DOWN_FILL);
    clip(d, &in);
    /* Open ports, each in its protocol's colour; a blocked one struck out. */
    int total = 0, gap = S(lo, 8);
    char ports[UI_HOST_PORTS_MAX][8];
    int pw[UI_HOST_PORTS_MAX];
    for (size_t p = 0; p < h->nports; p++) {
        snprintf(ports[p], sizeof ports[p], ":%u", h->ports[p]);
        pw[p] = ui_text_get(d->text, UI_FACE_BOLD, lo->px_small, col(THEME_TEXT), ports[p], 0, 0).w;
        total += pw[p] + (p ? gap : 0);
    }
    /* The text comes first: with large text the icon shrinks, then goes
     * beside the text when the box is too short for it above and wide
     * enough for both, then goes. */
    int pad = S(lo, 4), cx = r.x + r.w / 2, maxw = in.w - 2 * pad;
    int texth = ui_text_line_h(d->text, UI_FACE_BOLD, lo->px_body) +
                2 * ui_text_line_h(d->text, UI_FACE_SANS, lo->px_small);
    int icon = r.h * 34 / 100;
    if (icon > in.h - texth - S(lo, 8)) icon = in.h - texth - S(lo, 8);
    int y = in.y + pad;
    if (icon >= S(lo, 16)) {
        role_icon(d, h->role, (struct ui_rect){r.x + (r.w - icon) / 2, y, icon, icon}, up);
        y += icon + S(lo, 2);
    } else {
        int side = in.h * 6 / 10, textw = total;
        int w = ui_text_get(d->text, UI_FACE_BOLD, lo->px_body, col(THEME_TEXT), h->name, 0, 0).w;
        if (w > textw) textw = w;
        w = ui_text_get(d->text, UI_FACE_SANS, lo->px_small, col(THEME_TEXT), h->ip, 0, 0).w;
        if (w > textw) textw = w;
        if (side >= S(lo, 16) && side + 3 * pad + textw <= maxw) {
            role_icon(d, h->role, (struct ui_rect){in.x + 2 * pad, in.y + (in.h - side) / 2, side, side},
                      up);
            int left = in.x + 2 * pad + side + pad; /* the text's column */
            cx = left + (in.x + in.w - left) / 2;
            maxw = in.x + in.w - left - pad;
        }
    }
    unsigned ink = up ? THEME_TEXT : THEME_TEXT_DIM;
    struct ui_tex t = text(d, UI_FACE_BOLD, lo->px_body, ink, h->name, cx, y, CENTRE, maxw, 0);
    y += t.h ? t.h : lo->px_body;
    t = text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, h->ip, cx, y, CENTRE, maxw, 0);
    y += t.h ? t.h : lo->px_small;
    int x = cx - total / 2;
    for (size_t p = 0; p < h->nports; p++) {
        unsigned c = up ? ui_proto_colour(h->port_proto[p]) : THEME_TEXT_DIM;
        t = text(d, UI_FACE_BOLD, lo->px_small, c, ports[p], x, y, LEFT, 0, 0);
        if (ui_state_blocked(st, i, h->ports[p]))
            line(d, x, y + t.h / 2.0, x + t.w, y + t.h / 2.0, S(lo, 3), THEME_BLOCK);
        x += pw[p] + gap;
    }
    clip(d, NULL);
    if (!up) { /* crossed out */
        line(d, r.x, r.y, r.x + r.w, r.y + r.h, S(lo, 6), THEME_HOST_CROSS);
        line(d, r.x + r.w, r.y, r.x, r.y + r.h, S(lo, 6), THEME_HOST_CROSS);
    }
    if (selected) {
        int o = S(lo, 4);
        frame(d, (struct ui_rect){r.x - 2 * o, r.y - 2 * o, r.w + 4 * o, r.h + 4 * o}, o,
              THEME_HOST_SELECT);
    }
}

/* A red barrier with white stripes under host's box, saying s: a blocked
 * port, a cut link. slot stacks several. */
static void barrier(struct ui_draw *d, const struct ui_layout *lo, int host, const char *s,
                    int slot)
{
    struct ui_rect hr = lo->host[host];
    int h = lo->px_small + S(lo, 10);
    struct ui_rect r = {hr.x, hr.y + hr.h + S(lo, 4) + slot * (h + S(lo, 3)), hr.w, h};
    fill(d, r, THEME_BLOCK);
    clip(d, &r);
    int sw = S(lo, 10);
    for (int x = r.x - r.h; x < r.x + r.w; x += 3 * sw)
        tri(d, (float)x, (float)(r.y + r.h), (float)(x + sw), (float)(r.y + r.h),
            (float)(x + sw + r.h), (float)r.y, THEME_BLOCK_STRIPE),
        tri(d, (float)x, (float)(r.y + r.h), (float)(x + sw + r.h), (float)r.y,
            (float)(x + r.h), (float)r.y, THEME_BLOCK_STRIPE);
    struct ui_tex t = ui_text_get(d->text, UI_FACE_BOLD, lo->px_small, col(THEME_TEXT_ON_DARK),
                                  s, r.w - S(lo, 8), 0);
    struct ui_rect back = {r.x + (r.w - t.w) / 2 - S(lo, 4), r.y + S(lo, 3), t.w + S(lo, 8),
                           r.h - S(lo, 6)};
    fill(d, back, THEME_BLOCK);
    text(d, UI_FACE_BOLD, lo->px_small, THEME_TEXT_ON_DARK, s, r.x + r.w / 2,
         r.y + (r.h - t.h) / 2, CENTRE, r.w - S(lo, 8), 0);
    clip(d, NULL);
}

/* The link between a and b along its route (a detour round the boxes in
 * the way); dash > 0 draws it dashed, each leg on its own. */
static void link_path(struct ui_draw *d, const struct ui_layout *lo, int a, int b, unsigned rgb,
                      double thick, double dash)
{
    struct ui_route r;
    ui_layout_route(lo, a, b, &r);
    for (int i = 0; i + 1 < r.n; i++) {
        if (dash > 0)
            dashed(d, r.x[i], r.y[i], r.x[i + 1], r.y[i + 1], thick, dash, rgb);
        else
            line(d, r.x[i], r.y[i], r.x[i + 1], r.y[i + 1], thick, rgb);
        if (i > 0 && dash <= 0) { /* a square corner, not a notch */
            int t = (int)lround(thick);
            fill(d, (struct ui_rect){r.x[i] - t / 2, r.y[i] - t / 2, t, t}, rgb);
        }
    }
}

static void link_line(struct ui_draw *d, const struct ui_layout *lo, int a, int b, unsigned rgb,
                      double thick)
{
    link_path(d, lo, a, b, rgb, thick, 0);
}

static void tag_text(const struct ui_conn *c, char *s, size_t cap)
{
    snprintf(s, cap, "%s :%u", proto_label[c->proto], c->port);
}

static int tag_width(struct ui_draw *d, const struct ui_layout *lo, const struct ui_conn *c)
{
    char s[32];
    tag_text(c, s, sizeof s);
    int h = lo->px_small + 2 * S(lo, 6);
    int w = ui_text_get(d->text, UI_FACE_BOLD, lo->px_small, col(THEME_TEXT_ON_DARK), s, 0, 0).w;
    return w + 2 * S(lo, 8) + (c->tls ? h : 0);
}

static bool conn_is_packet_link(const struct ui_state *st, const struct ui_conn *c)
{
    return st->has_packet &&
           ((c->client == st->pk_from && c->server == st->pk_to) ||
            (c->client == st->pk_to && c->server == st->pk_from));
}

struct ui_rect ui_draw_link_tag_rect(struct ui_draw *d, const struct ui_layout *lo,
                                     const struct ui_state *st, unsigned conn)
{
    const struct ui_conn *c = ui_state_conn(st, conn);
    if (!c || c->client < 0 || c->server < 0 || conn_is_packet_link(st, c))
        return (struct ui_rect){0, 0, 0, 0};
    return ui_layout_link_tag(lo, c->client, c->server, tag_width(d, lo, c));
}

static void link_tag(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                     const struct ui_conn *c)
{
    struct ui_rect r = ui_draw_link_tag_rect(d, lo, st, c->id);
    if (r.w == 0) return;
    char s[32];
    tag_text(c, s, sizeof s);
    fill(d, r, THEME_LOCK_EDGE);
    fill(d, (struct ui_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, ui_proto_colour(c->proto));
    int x = r.x + S(lo, 8);
    if (c->tls) {
        lock_icon(d, ui_layout_lock(lo, r));
        x += r.h;
    }
    struct ui_tex t = ui_text_get(d->text, UI_FACE_BOLD, lo->px_small, col(THEME_TEXT_ON_DARK),
                                  s, 0, 0);
    text(d, UI_FACE_BOLD, lo->px_small, THEME_TEXT_ON_DARK, s, x, r.y + (r.h - t.h) / 2, LEFT, 0,
         0);
}

char *ui_eavesdrop_hex(size_t step, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    /* splitmix64 seeded by a mix of the step (neighbouring steps must not
     * share a shifted sequence): the same bytes each time this step is drawn */
    uint64_t x = (uint64_t)step + 0x2545F4914F6CDD1Dull;
    x = (x ^ (x >> 33)) * 0xFF51AFD7ED558CCDull;
    x = (x ^ (x >> 33)) * 0xC4CEB9FE1A85EC53ull;
    x ^= x >> 33;
    size_t shown = n < UI_EAVESDROP_MAX ? n : UI_EAVESDROP_MAX, o = 0;
    if (cap == 0) return out;
    for (size_t i = 0; i < shown && o + 4 < cap; i++) {
        x += 0x9E3779B97F4A7C15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        if (i && i % 2 == 0) out[o++] = ' ';
        out[o++] = hex[(z >> 4) & 15];
        out[o++] = hex[z & 15];
    }
    if (shown < n && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* The packet's label text: the line as the endpoints see it, or as an
 * eavesdropper does. */
static const char *packet_text(const struct ui_state *st, const struct ui_view *v, char *buf,
                               size_t cap)
{
    const struct sim_trace_event *ev = st->ev;
    if (v->eavesdrop && ev->tls) return ui_eavesdrop_hex(ev->step, ev->wire_bytes, buf, cap);
    if (ev->kind == SIM_TR_LINE && ev->text[0] == '\0') return "(empty line)";
    return ev->text;
}

/* The label's body: the rectangle less the arrowhead, which points the way
 * the packet goes. */
static struct ui_rect packet_body(const struct ui_layout *lo, const struct ui_state *st,
                                  struct ui_rect r, bool *right)
{
    int ax, ay, bx, by;
    ui_layout_link(lo, st->pk_from, st->pk_to, &ax, &ay, &bx, &by);
    *right = bx > ax || (bx == ax && by > ay);
    int arrow = lo->packet_h / 2;
    return (struct ui_rect){*right ? r.x : r.x + arrow, r.y, r.w - arrow, r.h};
}

struct ui_rect ui_draw_packet_rect(struct ui_draw *d, const struct ui_layout *lo,
                                   const struct ui_state *st, const struct ui_view *v,
                                   struct ui_rect *lock)
{
    struct ui_rect none = {0, 0, 0, 0};
    if (lock) *lock = none;
    if (!st->has_packet) return none;
    char buf[UI_EAVESDROP_MAX * 3 + 8];
    const char *s = packet_text(st, v, buf, sizeof buf);
    int arrow = lo->packet_h / 2;
    int lockw = st->ev->tls ? lo->packet_h : 0;
    int room = lo->packet_max_w - 2 * S(lo, 10) - lockw - arrow;
    int w = ui_text_get(d->text, UI_FACE_MONO, lo->px_mono, col(THEME_PACKET_TEXT), s, room, 0).w;
    struct ui_rect r = ui_layout_packet(lo, st->pk_from, st->pk_to, v->progress,
                                        w + 2 * S(lo, 10) + lockw + arrow, NULL, NULL);
    if (lock && st->ev->tls) {
        bool right;
        *lock = ui_layout_lock(lo, packet_body(lo, st, r, &right));
    }
    return r;
}

static void packet(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                   const struct ui_view *v)
{
    struct ui_rect lock;
    struct ui_rect r = ui_draw_packet_rect(d, lo, st, v, &lock);
    if (r.w == 0) return;
    unsigned pc = ui_proto_colour(st->ev->proto);
    /* The packet itself is a dot on the link; the label, off the link when
     * a box is in the way, hangs from it. */
    int px, py;
    ui_layout_packet(lo, st->pk_from, st->pk_to, v->progress, r.w, &px, &py);
    int ly = py < r.y ? r.y : py > r.y + r.h ? r.y + r.h : py;
    int lx = px < r.x ? r.x : px > r.x + r.w ? r.x + r.w : px;
    line(d, px, py, lx, ly, S(lo, 3), THEME_LOCK_EDGE);
    disc(d, px, py, S(lo, 9), THEME_LOCK_EDGE);
    disc(d, px, py, S(lo, 7), pc);
    bool right;
    struct ui_rect body = packet_body(lo, st, r, &right);
    int o = S(lo, 3);
    fill(d, (struct ui_rect){body.x + o, body.y + o, body.w, body.h}, THEME_PANEL_EDGE); /* shadow */
    fill(d, body, THEME_LOCK_EDGE);
    fill(d, (struct ui_rect){body.x + 2, body.y + 2, body.w - 4, body.h - 4}, pc);
    float mid = (float)(r.y + r.h / 2.0);
    if (right)
        tri(d, (float)(body.x + body.w), (float)r.y, (float)(r.x + r.w), mid,
            (float)(body.x + body.w), (float)(r.y + r.h), pc);
    else
        tri(d, (float)body.x, (float)r.y, (float)r.x, mid, (float)body.x, (float)(r.y + r.h), pc);
    int x = body.x + S(lo, 10);
    if (lock.w) {
        lock_icon(d, lock);
        x += lo->packet_h;
    }
    char buf[UI_EAVESDROP_MAX * 3 + 8];
    const char *s = packet_text(st, v, buf, sizeof buf);
    int room = lo->packet_max_w - 2 * S(lo, 10) - (lock.w ? lo->packet_h : 0) - lo->packet_h / 2;
    struct ui_tex t = ui_text_get(d->text, UI_FACE_MONO, lo->px_mono, col(THEME_PACKET_TEXT), s,
                                  room, 0);
    text(d, UI_FACE_MONO, lo->px_mono, THEME_PACKET_TEXT, s, x, r.y + (r.h - t.h) / 2, LEFT, room,
         0);
}

static void network(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                    const struct ui_view *v)
{
    struct ui_rect net = lo->area[UI_AREA_NETWORK];
    fill(d, net, THEME_BG);
    clip(d, &net);
    double thick = S(lo, 5);
    for (size_t i = 0; i < st->nconns; i++) {
        const struct ui_conn *c = &st->conns[i];
        if (c->client >= 0 && c->server >= 0)
            link_line(d, lo, c->client, c->server, ui_proto_colour(c->proto), thick);
    }
    const struct sim_trace_event *ev = st->ev;
    if (st->has_packet) {
        if (ev->kind == SIM_TR_DNS) {
            link_path(d, lo, st->pk_from, st->pk_to, ui_proto_colour(SIM_PROTO_DNS), thick,
                      S(lo, 14));
        } else if (!ui_state_conn(st, ev->conn)) { /* its connection closed at this step */
            link_line(d, lo, st->pk_from, st->pk_to, ui_proto_colour(ev->proto), thick);
        }
    }
    if (ev && ev->kind == SIM_TR_REFUSED) {
        int a = ui_lesson_host(st->lesson, ev->from), b = ui_lesson_host(st->lesson, ev->to);
        if (a >= 0 && b >= 0 && a != b) {
            link_path(d, lo, a, b, THEME_BLOCK, thick, S(lo, 10));
        }
    }
    for (size_t i = 0; i < lo->nhosts; i++) host_box(d, lo, st, (int)i, v->selected_host == (int)i);
    int slot[UI_HOSTS_MAX] = {0};
    for (size_t i = 0; i < lo->nhosts; i++)
        if (!st->link_up[i]) barrier(d, lo, (int)i, "link cut: nothing gets through", slot[i]++);
    for (size_t i = 0; i < st->nblocks; i++) {
        const struct ui_block *b = &st->blocks[i];
        if (b->host < 0 || b->host >= (int)lo->nhosts) continue;
        char s[64];
        snprintf(s, sizeof s, "port %u blocked %s", b->port, b->outbound ? "going out" : "coming in");
        barrier(d, lo, b->host, s, slot[b->host]++);
    }
    for (size_t i = 0; i < st->nconns; i++) link_tag(d, lo, st, &st->conns[i]);
    packet(d, lo, st, v);
    clip(d, NULL);
}

/* ---- panels ---------------------------------------------------------------- */

static void panel(struct ui_draw *d, struct ui_rect r)
{
    fill(d, r, THEME_PANEL_EDGE);
    fill(d, (struct ui_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, THEME_PANEL_BG);
}

char *ui_draw_heading(const struct ui_state *st, const struct ui_view *v, char *out, size_t cap)
{
    const struct ui_lesson *l = st->lesson;
    double t = st->ev ? (double)st->ev->t / 1e6 : 0.0;
    snprintf(out, cap, "%s   \xC2\xB7   lesson %zu of %zu   \xC2\xB7   step %zu of %zu   \xC2\xB7   %.3f s",
             l->title, v->lesson_index + 1, v->nlessons, st->ev ? st->step + 1 : 0, l->nsteps, t);
    return out;
}

char *ui_draw_status(const struct ui_view *v, char *out, size_t cap)
{
    char quiz[64] = "";
    const struct ui_asker *a = v->ask;
    if (a && a->quiz.n && !a->enabled)
        snprintf(quiz, sizeof quiz, "quiz off (Q)   ");
    else if (a && a->quiz.n) /* right answers of all the questions, as the end says it */
        snprintf(quiz, sizeof quiz, "score %zu of %zu   ", a->quiz.correct, a->quiz.n);
    snprintf(out, cap, "%s%s%s%s  %gx   H: keys", v->live ? v->live : "", v->live ? "   " : "",
             quiz, v->playing ? "playing" : "paused", v->speed);
    return out;
}

static void narration(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                      const struct ui_view *v)
{
    struct ui_rect r = lo->area[UI_AREA_NARRATION];
    panel(d, r);
    clip(d, &r);
    const struct ui_lesson *l = st->lesson;
    char head[512];
    ui_draw_heading(st, v, head, sizeof head);
    char right[256];
    ui_draw_status(v, right, sizeof right);
    int x = r.x + lo->pad, y = r.y + S(lo, 6);
    struct ui_tex rt = text(d, UI_FACE_BOLD, lo->px_small,
                            THEME_TEXT_DIM, right,
                            r.x + r.w - lo->pad, y, RIGHT, 0, 0);
    struct ui_tex ht;
    if (v->eavesdrop) /* the heading says what the whole window now shows */
        ht = text(d, UI_FACE_BOLD, lo->px_small, THEME_BLOCK,
                  "EAVESDROPPER VIEW: what someone tapping the wire reads. Lines sent in the "
                  "clear are readable; after TLS starts, only opaque bytes of the same size.",
                  x, y, LEFT, r.w - 3 * lo->pad - rt.w, 0);
    else
        ht = text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, head, x, y, LEFT,
                  r.w - 3 * lo->pad - rt.w, 0);
    y += (ht.h ? ht.h : lo->px_small) + S(lo, 2);
    const char *s = st->narration[0] ? st->narration : l->summary;
    /* A predict question waits: the lesson's text may already say the
     * reply, and so may the "Now:" line; both come back with the answer. */
    const struct ui_asker *a = v->ask;
    bool predicting = a && ui_asker_showing(a) && a->phase == UI_ASK_QUESTION &&
                      a->quiz.items[a->item].q->kind == SIM_SCN_Q_PREDICT;
    if (predicting)
        s = "The run is paused here: what will the server answer? Choose below; the narration "
            "comes back with the answer.";
    struct ui_tex nt = text(d, UI_FACE_SANS, lo->px_body + S(lo, 3), THEME_TEXT, s, x, y, LEFT, 0,
                            r.w - 2 * lo->pad);
    y += nt.h + S(lo, 2);
    /* What just happened to the story, in plain words, under the lesson's
     * own text (which may be a few minutes of trace old). */
    const struct sim_trace_event *n = predicting ? NULL : st->latest;
    if (n && y < r.y + r.h) {
        char now[600];
        snprintf(now, sizeof now, "Now: %s", n->note[0] ? n->note : n->text);
        text(d, UI_FACE_BOLD, lo->px_small, ui_proto_colour(n->proto), now, x, y, LEFT,
             r.w - 2 * lo->pad, 0);
    }
    clip(d, NULL);
}

static bool is_client_side(const struct sim_trace_event *e)
{
    return e->dir == SIM_DIR_C2S;
}

static void transcript(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                       const struct ui_view *v)
{
    struct ui_rect r = lo->area[UI_AREA_TRANSCRIPT];
    panel(d, r);
    clip(d, &r);
    const struct sim_trace *tr = st->lesson->trace;
    int x = r.x + lo->pad, y = r.y + S(lo, 8), w = r.w - 2 * lo->pad;
    char head[256] = "The conversation";
    const struct ui_conn *fc = ui_state_conn(st, st->focus_conn);
    if (!st->ndialogue && fc && fc->client >= 0 && fc->server >= 0)
        snprintf(head, sizeof head, "%s :%u   %s \xE2\x86\x92 %s", proto_label[fc->proto],
                 fc->port, st->lesson->hosts[fc->client].name, st->lesson->hosts[fc->server].name);
    if (st->ndialogue) {
        const struct sim_trace_event *e = sim_trace_get(tr, st->dialogue[0]);
        const char *client = is_client_side(e) ? e->from : e->to;
        const char *server = is_client_side(e) ? e->to : e->from;
        if (st->focus_dns)
            snprintf(head, sizeof head, "DNS: questions and answers");
        else
            snprintf(head, sizeof head, "%s :%u   %s \xE2\x86\x92 %s", proto_label[st->focus_proto],
                     e->port, client, server);
    }
    struct ui_tex t = text(d, UI_FACE_BOLD, lo->px_body, ui_proto_colour(st->focus_proto), head, x,
                           y, LEFT, w, 0);
    y += (t.h ? t.h : lo->px_body) + S(lo, 2);
    t = text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM,
             v->eavesdrop ? "what a wire-tapper on the link reads"
             : st->focus_dns ? "Q: a question   A: its answer   (who asked whom)"
                             : "C: the client sends   S: the server answers",
             x, y, LEFT, w, 0);
    y += (t.h ? t.h : lo->px_small) + S(lo, 6);
    int lh = ui_text_line_h(d->text, UI_FACE_MONO, lo->px_mono) + S(lo, 3);
    int rows = (r.y + r.h - y - S(lo, 4)) / lh;
    if (rows < 1) rows = 1;
    size_t first = st->ndialogue > (size_t)rows ? st->ndialogue - (size_t)rows : 0;
    for (size_t i = first; i < st->ndialogue; i++) {
        const struct sim_trace_event *e = sim_trace_get(tr, st->dialogue[i]);
        bool cur = st->dialogue[i] == st->step;
        if (cur) fill(d, (struct ui_rect){r.x + 2, y - S(lo, 1), r.w - 4, lh}, THEME_CURRENT);
        char line_buf[UI_EAVESDROP_MAX * 3 + 256];
        char hexbuf[UI_EAVESDROP_MAX * 3 + 8];
        const char *body = e->text;
        if (v->eavesdrop && e->tls) body = ui_eavesdrop_hex(e->step, e->wire_bytes, hexbuf, sizeof hexbuf);
        if (st->focus_dns) /* several hosts ask and answer: say who */
            snprintf(line_buf, sizeof line_buf, "%s %s   (%s \xE2\x86\x92 %s)",
                     is_client_side(e) ? "Q:" : "A:", body, e->from, e->to);
        else
            snprintf(line_buf, sizeof line_buf, "%s %s", is_client_side(e) ? "C:" : "S:", body);
        int lx = x;
        if (e->tls) {
            int ls = lh * 3 / 5;
            lock_icon(d, (struct ui_rect){lx, y + (lh - ls) / 2 - S(lo, 1), ls, ls});
        }
        lx += lh * 4 / 5;
        text(d, UI_FACE_MONO, lo->px_mono, is_client_side(e) ? THEME_CLIENT_TEXT : THEME_SERVER_TEXT,
             line_buf, lx, y, LEFT, r.x + r.w - lo->pad - lx, 0);
        y += lh;
    }
    if (!st->ndialogue)
        text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT_DIM,
             fc ? "Connected: nothing said yet." : "No conversation yet.", x, y, LEFT, w, 0);
    clip(d, NULL);
}

static void explain(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st)
{
    struct ui_rect r = lo->area[UI_AREA_EXPLAIN];
    panel(d, r);
    fill(d, (struct ui_rect){r.x, r.y, r.w, S(lo, 4)}, st->ev ? ui_proto_colour(st->ev->proto) : THEME_PANEL_EDGE);
    clip(d, &r);
    int x = r.x + lo->pad, y = r.y + S(lo, 10), w = r.w - 2 * lo->pad;
    const struct sim_trace_event *e = st->ev;
    if (!e) {
        clip(d, NULL);
        return;
    }
    char head[300];
    if (e->kind == SIM_TR_LINE)
        snprintf(head, sizeof head, "%s %s", e->dir == SIM_DIR_C2S ? "C:" : "S:", e->text);
    else if (e->kind == SIM_TR_STATE)
        snprintf(head, sizeof head, "%s: %s", e->from, e->text);
    else if (e->kind == SIM_TR_ACTION && strcmp(e->text, "narrate") == 0)
        snprintf(head, sizeof head, "The lesson says:");
    else
        snprintf(head, sizeof head, "%s", e->text);
    struct ui_tex t = text(d, e->kind == SIM_TR_LINE ? UI_FACE_MONO : UI_FACE_BOLD,
                           e->kind == SIM_TR_LINE ? lo->px_mono : lo->px_body, THEME_TEXT, head, x,
                           y, LEFT, w, 0);
    y += (t.h ? t.h : lo->px_body) + S(lo, 6);
    const char *note = e->note[0] ? e->note : "";
    char more[1024];
    if (e->kind == SIM_TR_ACTION && strcmp(e->text, "narrate") == 0) note = "(read the narration above)";
    if (!note[0] && e->kind == SIM_TR_LINE) {
        /* A reply's later lines, a message's body: the note is on the
         * first line of the run, sent the same way on the connection. */
        note = "(part of the lines above it)";
        size_t s = e->step, looked = 0;
        while (s-- > 0 && looked++ < UI_CONTINUATION_MAX) {
            const struct sim_trace_event *p = sim_trace_get(st->lesson->trace, s);
            if (p->kind != SIM_TR_LINE || p->conn != e->conn) continue;
            if (p->dir != e->dir) break;
            if (p->note[0]) {
                snprintf(more, sizeof more, "continues after \"%.60s\": %s",
                         p->text[0] ? p->text : "(empty line)", p->note);
                note = more;
                break;
            }
        }
    }
    text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, note, x, y, LEFT, 0, w);
    clip(d, NULL);
}

/* Groups of one owner's messages: the (account, folder) pairs in order. */
static void mail_card(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                      size_t ci)
{
    struct ui_rect r = lo->card[ci];
    int owner = lo->card_host[ci];
    const struct ui_host_info *h = &st->lesson->hosts[owner];
    fill(d, r, THEME_PANEL_EDGE);
    fill(d, (struct ui_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, THEME_HOST_FILL);
    clip(d, &r);
    int x = r.x + S(lo, 8), y = r.y + S(lo, 6), w = r.w - S(lo, 16);
    bool server = h->role == SIM_ROLE_MAIL_SERVER;
    struct ui_tex t = text(d, UI_FACE_BOLD, lo->px_small, THEME_TEXT, h->name, x, y, LEFT, w, 0);
    y += t.h ? t.h : lo->px_small;
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, lo->px_small);
    text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM,
         server ? "mailboxes on the server" : "the copy on this device", x, y, LEFT, w, 0);
    y += lh + S(lo, 2);
    size_t nq = 0;
    for (size_t i = 0; i < st->nqueue; i++) nq += st->queue[i].host == owner;
    if (nq) {
        char q[64];
        snprintf(q, sizeof q, "queue: %zu waiting to go on", nq);
        text(d, UI_FACE_SANS, lo->px_small, THEME_PROTO_QUEUE, q, x, y, LEFT, w, 0);
        y += lh;
    }
    /* Messages in order, a heading whenever (account, folder) changes; the
     * ghost of a message removed at this step goes last, struck out. */
    const char *acc = NULL, *fol = NULL;
    size_t shown = 0;
    for (size_t i = 0; i <= st->nmsgs; i++) {
        const struct ui_msg *m;
        if (i < st->nmsgs)
            m = &st->msgs[i];
        else if (st->has_ghost)
            m = &st->ghost;
        else
            break;
        if (m->owner != owner) continue;
        bool ghost = i == st->nmsgs;
        if (!acc || strcmp(acc, m->account) != 0 || strcmp(fol, m->folder) != 0) {
            acc = m->account;
            fol = m->folder;
            char g[300];
            snprintf(g, sizeof g, "%s \xC2\xB7 %s", fol, acc);
            text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, g, x, y, LEFT, w, 0);
            y += lh;
        }
        bool changed = m->changed == st->step && st->ev && st->ev->kind == SIM_TR_MAIL;
        if (changed) fill(d, (struct ui_rect){r.x + 2, y, r.w - 4, lh}, THEME_CURRENT);
        int dot = lh / 4;
        int cx = x + dot + S(lo, 2), cy = y + lh / 2;
        bool deleted = ghost || (m->flags & SIM_FLAG_DELETED);
        if (m->flags & SIM_FLAG_SEEN)
            ring(d, cx, cy, dot, S(lo, 2), THEME_TEXT_DIM, changed ? THEME_CURRENT : THEME_HOST_FILL);
        else
            disc(d, cx, cy, dot, THEME_UNSEEN_DOT);
        int tx = x + 2 * dot + S(lo, 8);
        if (m->flags & SIM_FLAG_FLAGGED) {
            int fs = lh / 2;
            fill(d, (struct ui_rect){tx, y + lh / 4, S(lo, 2), lh / 2 + S(lo, 2)}, THEME_FLAG);
            tri(d, (float)tx, (float)(y + lh / 4), (float)(tx + fs), (float)(y + lh / 4 + fs / 3),
                (float)tx, (float)(y + lh / 4 + 2 * fs / 3), THEME_FLAG);
            tx += fs + S(lo, 4);
        }
        char s[400];
        snprintf(s, sizeof s, "%s%s%s", m->subject[0] ? m->subject : "(no subject)",
                 ghost ? "  (removed)" : "", (!ghost && (m->flags & SIM_FLAG_DELETED)) ? "  (deleted)" : "");
        t = text(d, (m->flags & SIM_FLAG_SEEN) ? UI_FACE_SANS : UI_FACE_BOLD, lo->px_small,
                 deleted ? THEME_REMOVED : THEME_TEXT, s, tx, y, LEFT, r.x + r.w - S(lo, 8) - tx, 0);
        if (deleted) line(d, tx, y + lh / 2.0, tx + t.w, y + lh / 2.0, S(lo, 2), THEME_REMOVED);
        y += lh;
        if (changed) fill(d, (struct ui_rect){r.x + 2, y, r.w - 4, lh}, THEME_CURRENT);
        snprintf(s, sizeof s, "from %s%s", m->from,
                 (m->flags & SIM_FLAG_SEEN) ? ", read" : ", not read yet");
        text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, s, tx, y, LEFT, r.x + r.w - S(lo, 8) - tx, 0);
        y += lh;
        shown++;
    }
    if (!shown) text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT_DIM, "(no messages)", x, y, LEFT, w, 0);
    clip(d, NULL);
}

static void mailboxes(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st)
{
    struct ui_rect r = lo->area[UI_AREA_MAILBOXES];
    panel(d, r);
    for (size_t i = 0; i < lo->ncards; i++) mail_card(d, lo, st, i);
}

static void timeline(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st)
{
    struct ui_rect r = lo->area[UI_AREA_TIMELINE];
    fill(d, r, THEME_PANEL_EDGE);
    fill(d, (struct ui_rect){r.x, r.y + 1, r.w, r.h - 1}, THEME_TIMELINE_BG);
    size_t n = st->lesson->nsteps;
    if (n == 0) return;
    int top = r.y + S(lo, 8), h = r.h - S(lo, 16);
    /* One tick per event; where several share a pixel column the last one
     * drawn shows, and lines win over the rest. */
    for (size_t s = 0; s < n; s++) {
        const struct sim_trace_event *e = sim_trace_get(st->lesson->trace, s);
        int x = ui_layout_timeline_x(lo, n, s);
        int th = e->kind == SIM_TR_STATE ? h / 3 : e->kind == SIM_TR_LINE || e->kind == SIM_TR_DNS ? h : h * 2 / 3;
        set(d, ui_proto_colour(e->proto));
        SDL_RenderDrawLine(d->r, x, top + h - th, x, top + h - 1);
    }
    int cx = ui_layout_timeline_x(lo, n, st->step);
    fill(d, (struct ui_rect){cx - S(lo, 2), r.y + 1, S(lo, 4), r.h - 1}, THEME_CURSOR);
    tri(d, (float)(cx - S(lo, 8)), (float)(r.y + 1), (float)(cx + S(lo, 8)), (float)(r.y + 1),
        (float)cx, (float)(r.y + S(lo, 10)), THEME_CURSOR);
}

/* ---- overlays --------------------------------------------------------------- */

static struct ui_rect overlay_box(struct ui_draw *d, const struct ui_layout *lo, int w, int h)
{
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(d->r, 0, 0, 0, 96);
    SDL_RenderFillRect(d->r, NULL);
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_NONE);
    struct ui_rect r = {(lo->w - w) / 2, (lo->h - h) / 2, w, h};
    fill(d, r, THEME_OVERLAY_EDGE);
    fill(d, (struct ui_rect){r.x + S(lo, 3), r.y + S(lo, 3), r.w - S(lo, 6), r.h - S(lo, 6)},
         THEME_OVERLAY_BG);
    return r;
}

static const char *const help_keys[][2] = {
    {"Space", "play / pause"},
    {"Right or N", "one exchange forward"},
    {"Left or P", "one exchange back"},
    {"Up / Down", "faster / slower (0.25x to 16x)"},
    {"Home", "back to the start"},
    {"End", "jump to the end"},
    {"Tab / Shift+Tab", "next / previous lesson"},
    {"E", "eavesdropper view: what a wire-tapper reads"},
    {"F", "fullscreen"},
    {"+ / -", "bigger / smaller text"},
    {"click a host", "its queue, mailboxes and sessions"},
    {"click the packet", "its full bytes"},
    {"click the timeline", "jump to that moment"},
    {"A B C ... or 1 2 3 ...", "answer the question on screen (or click an option)"},
    {"Space or Enter", "after an answer: go on"},
    {"Q", "quiz off / on (to demonstrate without questions)"},
    {"H or ?", "this list (any key closes it)"},
    {"Esc", "close an overlay, then quit"},
};

static void help(struct ui_draw *d, const struct ui_layout *lo)
{
    size_t n = sizeof help_keys / sizeof help_keys[0];
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, lo->px_body) + S(lo, 4);
    struct ui_rect r = overlay_box(d, lo, lo->w * 3 / 5, (int)(n + 2) * lh + 2 * lo->pad);
    clip(d, &r);
    int x = r.x + 2 * lo->pad, y = r.y + lo->pad;
    text(d, UI_FACE_BOLD, lo->px_title, THEME_TEXT, "Keys", x, y, LEFT, 0, 0);
    y += lh * 3 / 2;
    for (size_t i = 0; i < n; i++, y += lh) {
        text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, help_keys[i][0], x, y, LEFT, 0, 0);
        text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, help_keys[i][1], x + r.w * 2 / 7, y, LEFT,
             r.w * 5 / 7 - 3 * lo->pad, 0);
    }
    clip(d, NULL);
}

static void host_detail(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                        int hi)
{
    const struct ui_host_info *h = &st->lesson->hosts[hi];
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, lo->px_body) + S(lo, 2);
    struct ui_rect r = overlay_box(d, lo, lo->w / 2, lo->h * 3 / 5);
    clip(d, &r);
    int x = r.x + 2 * lo->pad, y = r.y + lo->pad, w = r.w - 4 * lo->pad;
    char s[512];
    snprintf(s, sizeof s, "%s  (%s, %s)%s", h->name, sim_role_names[h->role], h->ip,
             st->host_up[hi] ? "" : "  DOWN");
    text(d, UI_FACE_BOLD, lo->px_title, THEME_TEXT, s, x, y, LEFT, w, 0);
    y += lh * 3 / 2;
    text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, "Sessions", x, y, LEFT, 0, 0);
    y += lh;
    size_t n = 0;
    for (size_t i = 0; i < st->nconns; i++) {
        const struct ui_conn *c = &st->conns[i];
        if (c->client != hi && c->server != hi) continue;
        int other = c->client == hi ? c->server : c->client;
        snprintf(s, sizeof s, "#%u  %s :%u %s %s%s", c->id, proto_label[c->proto], c->port,
                 c->client == hi ? "to" : "from",
                 other >= 0 ? st->lesson->hosts[other].name : "?", c->tls ? "  (TLS)" : "");
        text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, s, x + lo->pad, y, LEFT, w, 0);
        y += lh;
        n++;
    }
    if (!n) text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT_DIM, "none open", x + lo->pad, y, LEFT, w, 0), y += lh;
    text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, "Queue", x, y, LEFT, 0, 0);
    y += lh;
    n = 0;
    for (size_t i = 0; i < st->nqueue; i++) {
        if (st->queue[i].host != hi) continue;
        text(d, UI_FACE_MONO, lo->px_mono, THEME_TEXT, st->queue[i].id, x + lo->pad, y, LEFT, w, 0);
        y += lh;
        n++;
    }
    if (!n) text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT_DIM, "empty", x + lo->pad, y, LEFT, w, 0), y += lh;
    text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, "Mailboxes", x, y, LEFT, 0, 0);
    y += lh;
    n = 0;
    for (size_t i = 0; i < st->nmsgs; i++) {
        const struct ui_msg *m = &st->msgs[i];
        if (m->owner != hi) continue;
        snprintf(s, sizeof s, "%s/%s  UID %u  %zu octets  \"%s\"%s%s%s", m->account, m->folder,
                 (unsigned)m->uid, m->size, m->subject, (m->flags & SIM_FLAG_SEEN) ? " seen" : " unseen",
                 (m->flags & SIM_FLAG_FLAGGED) ? " flagged" : "",
                 (m->flags & SIM_FLAG_DELETED) ? " deleted" : "");
        text(d, UI_FACE_SANS, lo->px_small, THEME_TEXT, s, x + lo->pad, y, LEFT, w, 0);
        y += lh;
        n++;
    }
    if (!n) text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT_DIM, "no messages", x + lo->pad, y, LEFT, w, 0);
    clip(d, NULL);
}

static void packet_detail(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st)
{
    const struct sim_trace_event *e = st->ev;
    if (!e) return;
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, lo->px_body) + S(lo, 2);
    struct ui_rect r = overlay_box(d, lo, lo->w * 3 / 5, lo->h / 2);
    clip(d, &r);
    int x = r.x + 2 * lo->pad, y = r.y + lo->pad, w = r.w - 4 * lo->pad;
    char s[512];
    snprintf(s, sizeof s, "%s \xE2\x86\x92 %s   port %u   %s   %zu octets on the wire%s", e->from,
             e->to, e->port, proto_label[e->proto], e->wire_bytes, e->tls ? "   inside TLS" : "");
    text(d, UI_FACE_BOLD, lo->px_body, THEME_TEXT, s, x, y, LEFT, w, 0);
    y += lh * 3 / 2;
    text(d, UI_FACE_BOLD, lo->px_small, THEME_TEXT_DIM, "the bytes, as the endpoints see them:", x, y, LEFT, w, 0);
    y += lh;
    struct ui_tex t = text(d, UI_FACE_MONO, lo->px_mono, THEME_TEXT, e->text[0] ? e->text : "(empty line)", x, y,
                           LEFT, 0, w);
    y += t.h + lh / 2;
    if (e->tls) {
        char hex[UI_EAVESDROP_MAX * 3 + 8];
        text(d, UI_FACE_BOLD, lo->px_small, THEME_TEXT_DIM, "what a wire-tapper reads:", x, y, LEFT, w, 0);
        y += lh;
        t = text(d, UI_FACE_MONO, lo->px_mono, THEME_TEXT,
                 ui_eavesdrop_hex(e->step, e->wire_bytes, hex, sizeof hex), x, y, LEFT, 0, w);
        y += t.h + lh / 2;
    }
    text(d, UI_FACE_SANS, lo->px_body, THEME_TEXT, e->note, x, y, LEFT, 0, w);
    clip(d, NULL);
}

/* ---- the quiz ---------------------------------------------------------------- */

static const char quiz_letters[] = "ABCDEF";

/* The overlay's frame: a thick edge, no shade, so the transcript beside it
 * (the dialogue up to the pause point) stays readable. */
static void quiz_box(struct ui_draw *d, const struct ui_layout *lo, struct ui_rect b)
{
    fill(d, b, THEME_OVERLAY_EDGE);
    int t = S(lo, 4);
    fill(d, (struct ui_rect){b.x + t, b.y + t, b.w - 2 * t, b.h - 2 * t}, THEME_OVERLAY_BG);
}

static void quiz_question(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                          const struct ui_asker *a)
{
    const struct ui_quiz *qz = &a->quiz;
    const struct ui_quiz_item *it = &qz->items[a->item];
    const struct sim_scn_question *q = it->q;
    struct ui_ask_layout al;
    ui_ask_layout(&al, lo, q->noptions);
    quiz_box(d, lo, al.box);
    clip(d, &al.box);
    bool predict = q->kind == SIM_SCN_Q_PREDICT;
    char s[640];
    snprintf(s, sizeof s, "Question %zu of %zu%s", a->item + 1, qz->n,
             predict ? "   \xC2\xB7   predict the next reply" : "");
    text(d, UI_FACE_BOLD, al.px_head, THEME_TEXT_DIM, s, al.head.x, al.head.y, LEFT, al.head.w, 0);
    snprintf(s, sizeof s, "score %zu of %zu", qz->correct, qz->n);
    text(d, UI_FACE_BOLD, al.px_head, THEME_TEXT_DIM, s, al.head.x + al.head.w, al.head.y, RIGHT, 0, 0);
    const struct sim_trace_event *pause =
        predict && it->found ? sim_trace_get(st->lesson->trace, it->pause_step) : NULL;
    if (pause) {
        snprintf(s, sizeof s, "%s just sent:   %s", pause->from, pause->text);
        text(d, UI_FACE_MONO, al.px_note, ui_proto_colour(pause->proto), s, al.context.x,
             al.context.y, LEFT, al.context.w, 0);
    } else if (a->at_end) {
        text(d, UI_FACE_SANS, al.px_note, THEME_TEXT_DIM, "The run is over: questions about it.",
             al.context.x, al.context.y, LEFT, al.context.w, 0);
    }
    clip(d, &al.question);
    text(d, UI_FACE_BOLD, al.px_text, THEME_TEXT, q->text, al.question.x, al.question.y, LEFT, 0,
         al.question.w);
    clip(d, &al.box);
    bool answered = a->phase == UI_ASK_ANSWERED;
    size_t right = ui_quiz_right(qz, a->item);
    for (size_t o = 0; o < al.noptions; o++) {
        struct ui_rect r = al.option[o];
        unsigned bg = THEME_QUIZ_OPTION, ink = THEME_TEXT, sq = THEME_QUIZ_LETTER;
        if (answered && o == right) {
            bg = THEME_QUIZ_RIGHT_BG;
            sq = THEME_QUIZ_RIGHT;
        } else if (answered && (int)o == a->chosen) {
            bg = THEME_QUIZ_WRONG_BG;
            sq = THEME_QUIZ_WRONG;
        } else if (answered) {
            ink = THEME_TEXT_DIM;
        }
        fill(d, r, THEME_PANEL_EDGE);
        fill(d, (struct ui_rect){r.x + 1, r.y + 1, r.w - 2, r.h - 2}, bg);
        struct ui_rect lr = {r.x, r.y, al.letter_w, r.h};
        fill(d, lr, sq);
        char letter[8];
        snprintf(letter, sizeof letter, "%c", quiz_letters[o]);
        int lh = ui_text_line_h(d->text, UI_FACE_BOLD, al.px_text);
        text(d, UI_FACE_BOLD, al.px_text, THEME_TEXT_ON_DARK, letter, lr.x + lr.w / 2,
             lr.y + (lr.h - lh) / 2, CENTRE, 0, 0);
        struct ui_rect tr = {r.x + al.letter_w + lo->pad, r.y, r.w - al.letter_w - 2 * lo->pad, r.h};
        struct ui_tex t = ui_text_get(d->text, UI_FACE_SANS, al.px_text, col(ink), q->options[o], 0, tr.w);
        clip(d, &tr);
        text(d, UI_FACE_SANS, al.px_text, ink, q->options[o], tr.x, tr.y + (tr.h - t.h) / 2, LEFT, 0,
             tr.w);
        clip(d, &al.box);
    }
    struct ui_rect fb = al.feedback;
    int y = fb.y;
    if (!answered) {
        snprintf(s, sizeof s, "Answer with a letter (A to %c), a number (1 to %zu) or a click.   "
                              "Esc: skip for now   Q: quiz off",
                 quiz_letters[al.noptions - 1], al.noptions);
        text(d, UI_FACE_SANS, al.px_note, THEME_TEXT_DIM, s, fb.x, y, LEFT, fb.w, 0);
        clip(d, NULL);
        return;
    }
    bool ok = (size_t)a->chosen == right;
    snprintf(s, sizeof s, "%s %s", ok ? "\xE2\x9C\x93 Right." : "\xE2\x9C\x97 Not quite.",
             ui_quiz_explanation(qz, a->item, (size_t)a->chosen));
    struct ui_tex t = text(d, UI_FACE_BOLD, al.px_note, ok ? THEME_QUIZ_RIGHT : THEME_QUIZ_WRONG, s,
                           fb.x, y, LEFT, 0, fb.w);
    y += t.h + S(lo, 4);
    if (!ok) {
        snprintf(s, sizeof s, "The answer is %c) %s%s%s", quiz_letters[right], q->options[right],
                 q->explanations[right] ? ": " : "",
                 q->explanations[right] ? q->explanations[right] : "");
        t = text(d, UI_FACE_SANS, al.px_note, THEME_TEXT, s, fb.x, y, LEFT, 0, fb.w);
        y += t.h + S(lo, 4);
    }
    if (predict && it->found) {
        const struct sim_trace_event *r = sim_trace_get(st->lesson->trace, it->reply_step);
        snprintf(s, sizeof s, "What %s really said:   %s", r->from, r->text);
        t = text(d, UI_FACE_MONO, al.px_note, ui_proto_colour(r->proto), s, fb.x, y, LEFT, fb.w, 0);
        y += t.h + S(lo, 4);
    }
    text(d, UI_FACE_BOLD, al.px_note, THEME_TEXT_DIM, "Space or Enter: go on", fb.x, y, LEFT, fb.w, 0);
    clip(d, NULL);
}

static void quiz_score(struct ui_draw *d, const struct ui_layout *lo, const struct ui_asker *a)
{
    const struct ui_quiz *qz = &a->quiz;
    struct ui_ask_layout al;
    ui_ask_layout(&al, lo, 0);
    quiz_box(d, lo, al.box);
    clip(d, &al.box);
    int x = al.question.x, w = al.question.w, y = al.head.y;
    char s[640];
    snprintf(s, sizeof s, "Score: %zu of %zu right", qz->correct, qz->n);
    struct ui_tex t = text(d, UI_FACE_BOLD, S(lo, 56), THEME_TEXT, s, x, y, LEFT, w, 0);
    y += t.h + lo->pad;
    int px = al.px_note + S(lo, 4); /* the list is read from the back row too */
    int lh = ui_text_line_h(d->text, UI_FACE_SANS, px) + S(lo, 6);
    for (size_t i = 0; i < qz->n; i++, y += lh) {
        const struct ui_quiz_item *it = &qz->items[i];
        bool answered = it->chosen != UI_QUIZ_NO_ANSWER;
        bool ok = answered && (size_t)it->chosen == ui_quiz_right(qz, i);
        snprintf(s, sizeof s, "%s  %zu.  %s", ok ? "\xE2\x9C\x93" : answered ? "\xE2\x9C\x97" : "\xE2\x80\x93",
                 i + 1, it->q->text);
        text(d, UI_FACE_SANS, px, ok ? THEME_QUIZ_RIGHT : answered ? THEME_QUIZ_WRONG : THEME_TEXT_DIM,
             s, x, y, LEFT, w, 0);
    }
    y += lh / 2;
    text(d, UI_FACE_BOLD, al.px_note, THEME_TEXT_DIM,
         "Space or Enter: close.   Tab: the next lesson.", x, y, LEFT, w, 0);
    clip(d, NULL);
}

static void quiz(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                 const struct ui_asker *a)
{
    if (!ui_asker_showing(a)) return;
    if (a->phase == UI_ASK_SCORE) quiz_score(d, lo, a);
    else if (a->item < a->quiz.n) quiz_question(d, lo, st, a);
}

void ui_draw_frame(struct ui_draw *d, const struct ui_layout *lo, const struct ui_state *st,
                   const struct ui_view *v)
{
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_NONE);
    set(d, THEME_BG);
    SDL_RenderClear(d->r);
    network(d, lo, st, v);
    mailboxes(d, lo, st);
    narration(d, lo, st, v);
    transcript(d, lo, st, v);
    explain(d, lo, st);
    timeline(d, lo, st);
    if (v->packet_detail && st->has_packet)
        packet_detail(d, lo, st);
    else if (v->selected_host >= 0 && (size_t)v->selected_host < lo->nhosts)
        host_detail(d, lo, st, v->selected_host);
    if (v->ask) quiz(d, lo, st, v->ask);
    if (v->help) help(d, lo);
}
