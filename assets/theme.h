/* The visualizer's colour theme: data, no code. One colour per protocol,
 * taken from the Okabe-Ito palette (Okabe & Ito, "Color Universal Design",
 * 2008), whose eight colours stay distinguishable for the common forms of
 * colour blindness; shapes (the lock, the barrier, the cross) carry the
 * meaning too, so nothing depends on colour alone.
 *
 * The background is light: projectors in lit classrooms wash out dark
 * themes, and dark text on a light ground reads best from the back row.
 *
 * Colours are 0xRRGGBB. render/ui_draw.c and the pixel tests read them from
 * here, so a change of theme is one edit. */
#ifndef MAILSIM_ASSETS_THEME_H
#define MAILSIM_ASSETS_THEME_H

/* Okabe-Ito */
#define THEME_OI_BLACK      0x000000
#define THEME_OI_ORANGE     0xE69F00
#define THEME_OI_SKY_BLUE   0x56B4E9
#define THEME_OI_GREEN      0x009E73 /* bluish green */
#define THEME_OI_YELLOW     0xF0E442
#define THEME_OI_BLUE       0x0072B2
#define THEME_OI_VERMILLION 0xD55E00
#define THEME_OI_PURPLE     0xCC79A7 /* reddish purple */

/* One per protocol (enum sim_proto order: tcp smtp imap pop3 dns tls store
 * queue sim). */
#define THEME_PROTO_TCP   0x6E6E6E
#define THEME_PROTO_SMTP  THEME_OI_BLUE
#define THEME_PROTO_IMAP  THEME_OI_GREEN
#define THEME_PROTO_POP3  THEME_OI_VERMILLION
#define THEME_PROTO_DNS   THEME_OI_PURPLE
#define THEME_PROTO_TLS   THEME_OI_ORANGE
#define THEME_PROTO_STORE THEME_OI_SKY_BLUE
#define THEME_PROTO_QUEUE 0x8C7A00 /* a darkened Okabe-Ito yellow: readable on white */
#define THEME_PROTO_SIM   0x303030

/* The window */
#define THEME_BG          0xF7F7F2 /* the network's ground */
#define THEME_PANEL_BG    0xE9E9E2 /* transcript, mailboxes, narration */
#define THEME_PANEL_EDGE  0xB8B8AE
#define THEME_TEXT        0x1A1A1A
#define THEME_TEXT_DIM    0x5A5A5A
#define THEME_TEXT_ON_DARK 0xFFFFFF

/* Hosts */
#define THEME_HOST_FILL   0xFFFFFF
#define THEME_HOST_EDGE   0x2B2B2B
#define THEME_HOST_DOWN_FILL 0xBDBDBD /* greyed */
#define THEME_HOST_DOWN_EDGE 0x7A7A7A
#define THEME_HOST_CROSS  0xB00000   /* the cross over a host that is down */
#define THEME_HOST_SELECT THEME_OI_SKY_BLUE
#define THEME_ICON        0x2B2B2B

/* Links and packets */
#define THEME_LINK_IDLE   0xC8C8C0
#define THEME_BLOCK       0xC00000   /* the barrier on a blocked port, with white stripes */
#define THEME_BLOCK_STRIPE 0xFFFFFF
#define THEME_LOCK        THEME_PROTO_TLS /* the lock body */
#define THEME_LOCK_EDGE   0x000000
#define THEME_PACKET_TEXT 0xFFFFFF   /* on the protocol colour */

/* Transcript and mailboxes */
#define THEME_CURRENT     THEME_OI_YELLOW /* the current line, a change as it happens */
#define THEME_CLIENT_TEXT 0x1A1A1A
#define THEME_SERVER_TEXT 0x004E7A
#define THEME_UNSEEN_DOT  THEME_OI_BLUE
#define THEME_FLAG        THEME_OI_VERMILLION
#define THEME_REMOVED     0x8A8A8A

/* Timeline */
#define THEME_TIMELINE_BG 0xFFFFFF
#define THEME_CURSOR      0x000000

/* Overlays (help, host and packet details) */
#define THEME_OVERLAY_BG  0xFFFFF0
#define THEME_OVERLAY_EDGE 0x000000
#define THEME_SHADE       0x000000 /* behind an overlay, drawn translucent */

/* The quiz in the window (a question over the network) */
#define THEME_QUIZ_LETTER   0x1A1A1A /* the square holding an option's letter */
#define THEME_QUIZ_OPTION   0xFFFFFF /* an option's row */
#define THEME_QUIZ_RIGHT    0x007A58 /* a darkened Okabe-Ito green: text on white */
#define THEME_QUIZ_RIGHT_BG 0xC8EDDF
#define THEME_QUIZ_WRONG    0xB34A00 /* a darkened vermillion */
#define THEME_QUIZ_WRONG_BG 0xF8D5C0

/* The IMAP/POP3 split view (mailsim compare --view) */
#define THEME_DIVERGE       THEME_OI_YELLOW /* where the two sides differ */
#define THEME_GRID_EMPTY    0xFFFFFF        /* a device has not seen the message */
#define THEME_GRID_EDGE     0xB8B8AE

#endif
