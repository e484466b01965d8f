/* A small in-memory maildrop for the POP3 tests: a few users with a few
 * messages each, behind struct pop3_maildrop. Header-only (static), shared
 * by test_pop3_server.c and test_pop3_client.c. */
#ifndef MAILSIM_TESTS_POP3_MEMDROP_H
#define MAILSIM_TESTS_POP3_MEMDROP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "protocols/pop3_server.h"

#define MEMDROP_USERS 2
#define MEMDROP_MSGS 8

struct memmsg {
    char text[512];
    char uid[80];
    bool present;
};

struct memuser {
    const char   *name, *pass, *secret;
    bool          locked;
    int           lock_calls, unlock_calls;
    size_t        count;
    struct memmsg msg[MEMDROP_MSGS];
    int           removed[MEMDROP_MSGS]; /* message numbers, in call order */
    size_t        nremoved;
};

struct memdrop {
    struct memuser user[MEMDROP_USERS];
};

static struct memuser *md_find(void *ctx, const char *name)
{
    struct memdrop *d = ctx;
    for (int i = 0; i < MEMDROP_USERS; i++)
        if (d->user[i].name && strcmp(d->user[i].name, name) == 0) return &d->user[i];
    return NULL;
}

static bool md_check_pass(void *ctx, const char *user, const char *pass)
{
    struct memuser *u = md_find(ctx, user);
    return u && u->pass && strcmp(u->pass, pass) == 0;
}

static const char *md_apop_secret(void *ctx, const char *user)
{
    struct memuser *u = md_find(ctx, user);
    return u ? u->secret : NULL;
}

static bool md_lock(void *ctx, const char *user)
{
    struct memuser *u = md_find(ctx, user);
    if (!u || u->locked) return false;
    u->locked = true;
    u->lock_calls++;
    return true;
}

static void md_unlock(void *ctx, const char *user)
{
    struct memuser *u = md_find(ctx, user);
    u->locked = false;
    u->unlock_calls++;
}

/* Messages are kept in place (present = false when removed) so that
 * numbers stay what the test wrote; count is the number of slots. */
static size_t md_count(void *ctx, const char *user)
{
    return md_find(ctx, user)->count;
}

static size_t md_size(void *ctx, const char *user, size_t m)
{
    return strlen(md_find(ctx, user)->msg[m - 1].text);
}

static const char *md_uid(void *ctx, const char *user, size_t m)
{
    return md_find(ctx, user)->msg[m - 1].uid;
}

static const char *md_read(void *ctx, const char *user, size_t m, size_t *len)
{
    struct memmsg *msg = &md_find(ctx, user)->msg[m - 1];
    *len = strlen(msg->text);
    return msg->text;
}

static bool md_remove(void *ctx, const char *user, size_t m)
{
    struct memuser *u = md_find(ctx, user);
    u->msg[m - 1].present = false;
    u->removed[u->nremoved++] = (int)m;
    return true;
}

static struct pop3_maildrop memdrop_iface(struct memdrop *d)
{
    struct pop3_maildrop md = {
        d, md_check_pass, md_apop_secret, md_lock, md_unlock,
        md_count, md_size, md_uid, md_read, md_remove,
    };
    return md;
}

/* Adds a message; returns its number. */
static size_t memdrop_add(struct memuser *u, const char *text, const char *uid)
{
    struct memmsg *m = &u->msg[u->count++];
    strcpy(m->text, text);
    strcpy(m->uid, uid);
    m->present = true;
    return u->count;
}

/* A message of exactly size octets: a header, an empty line, 'x' lines. */
static void memdrop_fill(char *out, size_t size, const char *subject)
{
    size_t o = (size_t)sprintf(out, "Subject: %s\r\n\r\n", subject);
    while (o < size) {
        size_t left = size - o;
        size_t n = left >= 42 ? 38 : left - 2; /* never leave 1 octet */
        memset(out + o, 'x', n);
        o += n;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    out[o] = 0;
}

#endif
