/* Internal to the IMAP wire codec (imap_lex.c, imap_command.c,
 * imap_response.c); no other module includes this.
 *
 * Two pieces shared by the command parser and the response reader:
 *
 * The framer gathers one whole command or response: its lines (each stored
 * with CRLF) and the octets of its literals, exactly as they came, into one
 * buffer. It stops at every literal announcement so that the owner can
 * check it (size, syntax so far) and then accept it or discard the message.
 *
 * The lexer reads that buffer by recursive descent (RFC 3501 9). An error
 * longjmps back to the owner's single setjmp with an enum imap_err; so
 * parse functions stay short. The owner's setjmp frame holds no locals
 * that the parse changes (everything lives in heap structs). */
#ifndef MAILSIM_PROTOCOLS_IMAP_LEX_H
#define MAILSIM_PROTOCOLS_IMAP_LEX_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap.h"
#include "protocols/linebuf.h"

/* ---- framer ------------------------------------------------------------ */

enum imap_frame_ev {
    IMAP_FRAME_NEED_MORE,
    IMAP_FRAME_COMPLETE, /* buf[0..len) is one whole message */
    IMAP_FRAME_LITERAL,  /* the last line announced lit_n octets: call
                            imap_frame_accept or imap_frame_discard */
    IMAP_FRAME_TOO_LONG, /* text over IMAP_MAX_TEXT: head[] holds the start
                            of the message; call imap_frame_discard */
    IMAP_FRAME_NOMEM,
};

struct imap_frame {
    struct linebuf lb;
    char          *lbmem;       /* IMAP_MAX_TEXT octets for linebuf */
    char          *buf;         /* the message gathered so far */
    size_t         len, cap;
    size_t         max_literal; /* per literal and per message */
    size_t         text;        /* non-literal octets gathered */
    size_t         lit_total;   /* literal octets gathered */
    size_t         nlits;
    uint64_t       lit_left;    /* octets of the current literal to come */
    bool           skipping;    /* dropping the rest of a rejected message */
    bool           done;        /* the message was handed out; start anew */
    bool           literals;    /* false: a line ending in {n} is just text */
    bool           sync_waits;  /* a peer waits for "+" after {n} (client
                                   commands, RFC 3501 7.5) */
    bool           lit_pending; /* an announcement awaits accept/discard */
    uint64_t       lit_n;       /* the announced size (saturated) */
    bool           lit_sync;    /* {n} rather than {n+} */
    char           head[IMAP_MAX_TAG + 2]; /* TOO_LONG: the first octets */
    size_t         head_len;
};

/* 0, or -1 when out of memory (then call imap_frame_free anyway). */
int  imap_frame_init(struct imap_frame *f, size_t max_literal, bool sync_waits);
void imap_frame_free(struct imap_frame *f);
void imap_frame_reset(struct imap_frame *f);
size_t imap_frame_feed(struct imap_frame *f, const char *in, size_t n);
enum imap_frame_ev imap_frame_next(struct imap_frame *f);
/* Take the announced literal into the message. 0, or -1 out of memory. */
int  imap_frame_accept(struct imap_frame *f);
/* Drop the message; when the peer sends the announced literal anyway
 * (non-synchronising, or any literal of a response), drop its octets and
 * the lines after it up to the message's end. */
void imap_frame_discard(struct imap_frame *f);
/* Octets fed and not yet part of a handed-out message. */
size_t imap_frame_pending(const struct imap_frame *f);

/* ---- lexer ------------------------------------------------------------- */

struct imap_lex {
    const char *s;
    size_t      len, pos;
    jmp_buf     jb;
    enum imap_err err;
    bool        prefix;     /* s ends just after a literal announcement */
    bool        incomplete; /* a prefix parse reached that literal */
    int         depth;      /* open parentheses */
    enum imap_err fail_as;  /* when not NONE, every failure reports this
                               (a response code is wrong as a whole) */
    size_t      lit_end;    /* position just after the last literal's
                               octets: a bad character there means the
                               literal's size was wrong */
    char       *arena;      /* unescaped quoted strings */
    size_t      arena_len, arena_cap;
    struct imap_str   *strs;
    size_t             nstrs, max_strs;
    struct imap_range *ranges;
    size_t             nranges, max_ranges;
};

/* Starts a parse of s[0..len); empties the pools. */
void imap_lex_begin(struct imap_lex *L, const char *s, size_t len, bool prefix);
_Noreturn void imap_lex_fail(struct imap_lex *L, enum imap_err e);

int  imap_lex_peek(const struct imap_lex *L);         /* -1 at the end */
bool imap_lex_eat(struct imap_lex *L, char c);        /* consume c if next */
void imap_lex_expect(struct imap_lex *L, char c, enum imap_err e);
void imap_lex_sp(struct imap_lex *L);                 /* one SP or SYNTAX */
bool imap_lex_at_end(const struct imap_lex *L);       /* at the final CRLF */
void imap_lex_crlf(struct imap_lex *L);               /* the final CRLF */
void imap_lex_open(struct imap_lex *L);               /* "(" and depth */
void imap_lex_close(struct imap_lex *L);              /* ")" or PAREN */

/* A run of letters, digits, '.', '-' (keywords: BODY.PEEK, READ-ONLY). */
size_t imap_lex_name(struct imap_lex *L, const char **w);
bool   imap_lex_keyword(struct imap_lex *L, const char *kw); /* whole name */

bool imap_is_atom_char(int c);
/* 1*ATOM-CHAR, plus ']' when astring (ASTRING-CHAR), plus '%' '*' and ']'
 * when list (list-char). */
void imap_lex_atom(struct imap_lex *L, struct imap_str *out, bool astring, bool list);
void imap_lex_tag(struct imap_lex *L, char *tag);     /* IMAP_MAX_TAG + 1 */
void imap_lex_string(struct imap_lex *L, struct imap_str *out);
void imap_lex_astring(struct imap_lex *L, struct imap_str *out);
void imap_lex_nstring(struct imap_lex *L, struct imap_str *out);
void imap_lex_mailbox(struct imap_lex *L, struct imap_str *out);
void imap_lex_list_mailbox(struct imap_lex *L, struct imap_str *out);
uint32_t imap_lex_number(struct imap_lex *L);
uint32_t imap_lex_nz_number(struct imap_lex *L);
/* A number; not a number or over 32 bits fails with e. */
uint32_t imap_lex_number_as(struct imap_lex *L, enum imap_err e);
/* RFC 7162 7 mod-sequence-value (nonzero), or mod-sequence-valzer when
 * zero_ok; over IMAP_MODSEQ_MAX fails with IMAP_ERR_NUMBER. */
uint64_t imap_lex_modseq(struct imap_lex *L, bool zero_ok);
void imap_lex_seqset(struct imap_lex *L, struct imap_seqset *out, bool star);
void imap_lex_date(struct imap_lex *L, struct imap_date *d);
void imap_lex_datetime(struct imap_lex *L, struct imap_datetime *dt);
/* "\"-flag or keyword; "\*" only when perm (PERMANENTFLAGS); "\Recent"
 * only when recent. */
void imap_lex_flag(struct imap_lex *L, struct imap_str *out, bool perm, bool recent);
/* "(" [flag *(SP flag)] ")" into the string pool. */
void imap_lex_flag_list(struct imap_lex *L, const struct imap_str **flags, size_t *n,
                        bool perm, bool recent);
void imap_lex_section(struct imap_lex *L, struct imap_section *s);
/* The rest of the line up to the final CRLF (TEXT-CHARs). */
void imap_lex_text(struct imap_lex *L, struct imap_str *out);
struct imap_str   *imap_lex_new_str(struct imap_lex *L);
struct imap_range *imap_lex_new_range(struct imap_lex *L);

/* Whether a date is real (day within its month, year 1..9999). */
bool imap_date_valid(const struct imap_date *d);
bool imap_datetime_valid(const struct imap_datetime *dt);

/* The system-flag part of the writers: true when the flag keyword needs no
 * quoting (atom, or "\" + atom). */
bool imap_is_flag_text(const struct imap_str *s, bool perm);

#endif
