/* `mailsim serve`: see render/serve.h. */
#include "render/serve.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "render/run.h"
#include "render/transcript.h"
#include "render/ui_live.h"
#include "render/ui_window.h"
#include "sim/bridge.h"
#include "sim/maildir.h"
#include "sim/mta.h"
#include "sim/scenario.h"
#include "sim/store.h"
#include "sim/world.h"

#define SERVE_USERS_MAX 64            /* --user options */
#define SERVE_DRAIN_LIMIT SIM_SEC(3600) /* simulated time given to the queues at exit:
                                          the MTAs' default maximum age */

static const char usage[] =
    "usage: mailsim serve [LESSON] [--port-offset N] [--user ADDRESS:PASSWORD]...\n"
    "                     [--maildir DIR] [--headless] [--bind ADDRESS]...\n"
    "                     [--cert FILE --key FILE] [--transcript]\n";

static const char help[] =
    "Opens the lesson's simulated servers to real mail programs on this machine.\n"
    "Every server listens at its standard port plus the offset (default 10000:\n"
    "SMTP 10025, submission 10587, submissions 10465, IMAP 10143, IMAPS 10993,\n"
    "POP3 10110, POP3S 10995, DNS 10053 on UDP and TCP), each server host on its\n"
    "own loopback address (127.0.0.1, 127.0.0.2, ...) unless --bind gives the\n"
    "addresses, in the lesson's order. A message sent by a real program travels\n"
    "through the simulated world (MX lookup, relay on port 25) and can be fetched\n"
    "by IMAP or POP3. The lesson's timeline, devices and mail programs are left\n"
    "out: only real clients talk.\n"
    "\n"
    "  --port-offset N       added to every standard port (default 10000)\n"
    "  --user ADDR:PASSWORD  adds an account on the server of ADDR's domain\n"
    "  --maildir DIR         keeps every mailbox in DIR/ADDRESS in Maildir format\n"
    "  --bind ADDRESS        listen there instead of loopback (repeat: one per host)\n"
    "  --cert F --key F      use this certificate (PEM) instead of a self-signed one\n"
    "  --headless            no window (without it, with a display, a live window\n"
    "                        animates the real traffic; closing it stops serve)\n"
    "  --transcript          print the traffic as a transcript while it happens\n"
    "\n"
    "It prints 'endpoint HOST SERVICE ADDRESS:PORT' per socket, 'account ADDRESS\n"
    "PASSWORD' per account, then 'ready'. Ctrl-C stops it.\n";

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

struct serve_opts {
    const char *lesson;
    struct sim_bridge_config bc;
    const char *users[SERVE_USERS_MAX];
    size_t nusers;
    const char *maildir;
    bool headless, transcript;
};

/* Returns 0, or an exit code. */
static int parse(int argc, char **argv, struct serve_opts *o, FILE *out, FILE *err)
{
    o->bc.port_offset = SIM_BRIDGE_DEFAULT_OFFSET;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, out);
            fputs(help, out);
            return -1;
        } else if (strcmp(a, "--headless") == 0) {
            o->headless = true;
        } else if (strcmp(a, "--transcript") == 0) {
            o->transcript = true;
        } else if (strcmp(a, "--port-offset") == 0 && has_value) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || !*argv[i] || v + 995 > 65535) {
                fprintf(err, "mailsim serve: --port-offset wants a number from 0 to %d, got '%s'\n",
                        65535 - 995, argv[i]);
                return UI_RUN_USAGE;
            }
            o->bc.port_offset = (unsigned)v;
        } else if (strcmp(a, "--user") == 0 && has_value) {
            const char *u = argv[++i];
            const char *colon = strchr(u, ':');
            if (!colon || colon == u || !strchr(u, '@') || strchr(u, '@') > colon ||
                !colon[1]) {
                fprintf(err, "mailsim serve: --user wants ADDRESS:PASSWORD, got '%s'\n", u);
                return UI_RUN_USAGE;
            }
            if (o->nusers == SERVE_USERS_MAX) {
                fprintf(err, "mailsim serve: at most %d --user options\n", SERVE_USERS_MAX);
                return UI_RUN_USAGE;
            }
            o->users[o->nusers++] = u;
        } else if (strcmp(a, "--maildir") == 0 && has_value) {
            o->maildir = argv[++i];
        } else if (strcmp(a, "--bind") == 0 && has_value) {
            if (o->bc.nbind == SIM_BRIDGE_BIND_MAX) {
                fprintf(err, "mailsim serve: at most %d --bind options\n", SIM_BRIDGE_BIND_MAX);
                return UI_RUN_USAGE;
            }
            o->bc.bind[o->bc.nbind++] = argv[++i];
        } else if (strcmp(a, "--cert") == 0 && has_value) {
            o->bc.cert_file = argv[++i];
        } else if (strcmp(a, "--key") == 0 && has_value) {
            o->bc.key_file = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(err, "mailsim serve: unknown option '%s' (or its value is missing)\n%s", a,
                    usage);
            return UI_RUN_USAGE;
        } else if (o->lesson) {
            fprintf(err, "mailsim serve: one lesson at a time ('%s' and '%s')\n%s", o->lesson, a,
                    usage);
            return UI_RUN_USAGE;
        } else {
            o->lesson = a;
        }
    }
    if (!o->bc.cert_file != !o->bc.key_file) {
        fprintf(err, "mailsim serve: --cert and --key go together\n");
        return UI_RUN_USAGE;
    }
    return 0;
}

/* The mail server whose domains hold address's domain, or -1. */
static long server_for(const struct sim_scenario *s, const char *address)
{
    const char *at = strrchr(address, '@');
    if (!at) return -1;
    for (size_t i = 0; i < s->nservers; i++)
        for (size_t d = 0; d < s->servers[i].ndomains; d++)
            if (ascii_eq(at + 1, strlen(at + 1), s->servers[i].domains[d])) return (long)i;
    return -1;
}

/* Runs the engine in simulated time (no waiting) until every MTA's queue
 * is empty, so mail accepted from real clients reaches its mailbox (and
 * the maildir) before the program ends. Returns the messages that were
 * still queued when it began. */
static size_t drain(struct sim_world *w, const struct sim_scenario *s)
{
    struct sim_engine *e = sim_world_engine(w);
    size_t first = 0;
    sim_time end = e->now + SERVE_DRAIN_LIMIT;
    for (bool started = false;; started = true) {
        size_t queued = 0;
        for (size_t i = 0; i < s->nservers; i++) {
            struct sim_mta *m = sim_world_mta(w, s->hosts[s->servers[i].host].name);
            if (m) queued += sim_mta_queue_len(m);
        }
        if (!started) first = queued;
        if (!queued || e->now >= end || e->failed) break;
        sim_time until = e->now + SIM_SEC(1);
        sim_engine_run(e, until);
        e->now = until;
    }
    return first;
}

int ui_serve_command(int argc, char **argv, const char *argv0, FILE *out, FILE *err)
{
    struct serve_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o, out, err);
    if (rc) return rc < 0 ? 0 : rc;

    char path[4096];
    const char *lesson = o.lesson ? o.lesson : UI_DEFAULT_LESSON;
    if (!ui_find_lesson(lesson, argv0, path, sizeof path)) {
        fprintf(err, "mailsim serve: no lesson \"%s\"\n", lesson);
        return UI_RUN_USAGE;
    }
    struct sim_scn_diags *dg = calloc(1, sizeof *dg);
    if (!dg) return UI_RUN_FAILED;
    struct sim_scenario *s = sim_scenario_load(path, dg);
    struct sim_world *w = NULL;
    struct sim_maildir *md = NULL;
    struct sim_bridge *b = NULL;
    char msg[512];
    rc = UI_RUN_USAGE;
    if (s) {
        /* Only real clients talk: the story's own senders and devices
         * would fetch (and a POP3 laptop delete) what real clients expect. */
        s->nactions = 0;
        s->ndevices = 0;
        s->nprograms = 0;
        w = sim_world_new(s, dg);
    }
    if (!w) {
        sim_scn_diags_print(err, dg);
        goto done;
    }
    for (size_t i = 0; i < o.nusers; i++) {
        char addr[SIM_ADDRESS_MAX + 1];
        const char *colon = strchr(o.users[i], ':');
        size_t n = (size_t)(colon - o.users[i]);
        if (n > SIM_ADDRESS_MAX) n = SIM_ADDRESS_MAX;
        memcpy(addr, o.users[i], n);
        addr[n] = 0;
        long srv = server_for(s, addr);
        if (srv < 0) {
            fprintf(err, "mailsim serve: --user %s: no mail server of the lesson has that domain\n",
                    addr);
            goto done;
        }
        struct sim_store *st = sim_world_store(w, s->hosts[s->servers[srv].host].name);
        enum sim_store_result r = sim_store_add_account(st, addr, colon + 1, 0);
        if (r != SIM_STORE_OK) {
            fprintf(err, "mailsim serve: --user %s: %s\n", addr, sim_store_result_names[r]);
            goto done;
        }
    }
    if (o.maildir) {
        md = sim_maildir_new(o.maildir, msg, sizeof msg);
        if (!md) {
            fprintf(err, "mailsim serve: --maildir %s: %s\n", o.maildir, msg);
            goto done;
        }
        size_t total = 0, skipped_all = 0;
        for (size_t i = 0; i < s->naccounts + o.nusers; i++) {
            char addr[SIM_ADDRESS_MAX + 1];
            long srv;
            if (i < s->naccounts) {
                snprintf(addr, sizeof addr, "%s", s->accounts[i].address);
                srv = (long)s->accounts[i].server;
            } else {
                const char *u = o.users[i - s->naccounts];
                size_t n = (size_t)(strchr(u, ':') - u);
                snprintf(addr, sizeof addr, "%.*s", (int)n, u);
                srv = server_for(s, addr);
            }
            struct sim_store *st = sim_world_store(w, s->hosts[s->servers[srv].host].name);
            size_t loaded = 0, skipped = 0;
            if (sim_maildir_attach(md, st, addr, &loaded, &skipped, msg, sizeof msg) != 0) {
                fprintf(err, "mailsim serve: --maildir: %s: %s\n", addr, msg);
                goto done;
            }
            total += loaded;
            skipped_all += skipped;
        }
        fprintf(err, "mailsim serve: %zu messages loaded from %s%s\n", total, o.maildir,
                skipped_all ? " (some left out: over the store's limits)" : "");
    }
    b = sim_bridge_new(w, s, &o.bc, msg, sizeof msg);
    if (!b) {
        fprintf(err, "mailsim serve: %s\n", msg);
        goto done;
    }
    for (size_t i = 0; i < sim_bridge_endpoint_count(b); i++) {
        const struct sim_bridge_endpoint *ep = sim_bridge_endpoint(b, i);
        bool v6 = strchr(ep->address, ':') != NULL;
        fprintf(out, "endpoint %s %s %s%s%s:%u\n", ep->host,
                sim_bridge_service_names[ep->service], v6 ? "[" : "", ep->address,
                v6 ? "]" : "", ep->port);
    }
    for (size_t i = 0; i < s->naccounts; i++)
        fprintf(out, "account %s %s\n", s->accounts[i].address, s->accounts[i].password);
    for (size_t i = 0; i < o.nusers; i++) {
        const char *colon = strchr(o.users[i], ':');
        fprintf(out, "account %.*s %s\n", (int)(colon - o.users[i]), o.users[i], colon + 1);
    }
    fprintf(err, "mailsim serve: certificate SHA-256 fingerprint %s\n", sim_bridge_fingerprint(b));
    fputs("ready\n", out);
    fflush(out);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    stop_flag = 0;
    const struct sim_trace *tr = sim_world_trace(w);
    size_t shown = sim_trace_len(tr);
    rc = 0;
    /* With a display, the live window runs the bridge between its frames
     * until it is closed (or a signal comes): then serve stops as on
     * Ctrl-C. Without one (or when it cannot open) the loop below does. */
    if (!o.headless && ui_display_available()) {
        struct ui_live *lv = ui_live_new(w, s, b, argv0, 0);
        int lr = lv ? ui_live_window_run(lv, argv0, &stop_flag, o.transcript ? out : NULL,
                                         &shown, err)
                    : 1;
        ui_live_free(lv);
        if (lr < 0) {
            fputs("mailsim serve: the simulation ran out of room (its event queue or trace)\n",
                  err);
            rc = UI_RUN_FAILED;
            stop_flag = 1;
        } else if (lr == 0) {
            stop_flag = 1;
        } else {
            fputs("mailsim serve: running headless (--transcript prints the traffic)\n", err);
        }
    }
    while (!stop_flag) {
        if (sim_bridge_step(b, 1000) != 0) {
            fputs("mailsim serve: the simulation ran out of room (its event queue or trace)\n",
                  err);
            rc = UI_RUN_FAILED;
            break;
        }
        if (o.transcript) {
            for (; shown < sim_trace_len(tr); shown++) ui_transcript_line(out, sim_trace_get(tr, shown));
            fflush(out);
        }
    }
    sim_bridge_close(b);
    size_t queued = drain(w, s);
    if (queued)
        fprintf(err, "mailsim serve: %zu queued messages were delivered in simulated time before "
                     "stopping\n", queued);
    if (o.transcript) {
        for (; shown < sim_trace_len(tr); shown++) ui_transcript_line(out, sim_trace_get(tr, shown));
        fflush(out);
    }
done:
    sim_bridge_free(b);
    sim_maildir_free(md);
    sim_world_free(w);
    sim_scenario_free(s);
    free(dg);
    return rc;
}
