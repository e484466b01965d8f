/* A lesson as the visualizer holds it: loaded, built and run once, then
 * only read. The views get the trace and, copied out of the world before
 * anything is drawn, what never changes during a run: the hosts with their
 * names, addresses, roles and listening ports. A view is a function of
 * (lesson, step); nothing here is changed by looking at it. */
#ifndef MAILSIM_RENDER_UI_LESSON_H
#define MAILSIM_RENDER_UI_LESSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "sim/net.h"
#include "sim/scenario.h"
#include "sim/trace.h"

#define UI_HOSTS_MAX SIM_SCN_HOSTS_MAX /* a lesson holds no more hosts than this */
#define UI_HOST_PORTS_MAX 8            /* listening ports shown on a host's box */
#define UI_LESSON_NAME_MAX 64
#define UI_LESSONS_MAX 64              /* lessons Tab cycles through */
#define UI_PATH_MAX 4096

struct ui_host_info {
    char          name[SIM_HOST_NAME_MAX + 1];
    char          ip[SIM_HOST_IP_MAX + 1];
    enum sim_role role;
    size_t        nports;
    unsigned      ports[UI_HOST_PORTS_MAX];      /* ascending */
    enum sim_proto port_proto[UI_HOST_PORTS_MAX]; /* what each port speaks */
    bool          holds_mail; /* a SIM_TR_MAIL event names it as an owner somewhere */
};

struct ui_lesson {
    char   path[UI_PATH_MAX];
    char   name[UI_LESSON_NAME_MAX]; /* the file name without ".json" */
    const char *title;               /* borrowed from the scenario */
    const char *summary;
    const struct sim_trace *trace;   /* borrowed from the world */
    size_t nsteps;                   /* sim_trace_len(trace) */
    bool   run_failed;               /* the engine ran out of room: the trace is cut short */
    size_t nhosts;
    struct ui_host_info hosts[UI_HOSTS_MAX];
    struct sim_scenario *scenario;   /* owned */
    struct sim_world    *world;      /* owned: the trace's strings live in it */
};

/* Loads lesson (a path or a name, found as render/run.h's ui_find_lesson
 * does; NULL: the default story), builds its world and runs it. Returns the
 * lesson, or NULL with the problems written to err (one per line). */
struct ui_lesson *ui_lesson_load(const char *lesson, const char *argv0, FILE *err);
void ui_lesson_free(struct ui_lesson *l);

/* A lesson on a world that is still running (`mailsim serve`'s live
 * window): hosts and trace as ui_lesson_load has them, but world and
 * scenario are borrowed (they must outlive the lesson; ui_lesson_free
 * frees only the lesson) and left NULL in it, so it has no quiz. title
 * NULL: the scenario's. NULL when out of memory. */
struct ui_lesson *ui_lesson_of_world(struct sim_world *w, const struct sim_scenario *s,
                                     const char *title);

/* Takes in the steps added to the trace since: nsteps grows, and hosts
 * that newly hold mail get their card. The trace's events may have moved
 * in memory: a state built on the lesson must replay (valid = false). */
void ui_lesson_grow(struct ui_lesson *l);

/* The index of the host named name, or -1 ("" and unknown names: -1). */
int ui_lesson_host(const struct ui_lesson *l, const char *name);

/* The protocol a TCP port speaks by convention (25, 465, 587: SMTP; 143,
 * 993: IMAP; 110, 995: POP3; 53: DNS); SIM_PROTO_TCP for any other. */
enum sim_proto ui_port_proto(unsigned port);

/* The names of the lessons beside the default one (the *.json files in its
 * folder), sorted, at most cap of them. Returns how many. */
size_t ui_lesson_list(const char *argv0, char (*names)[UI_LESSON_NAME_MAX], size_t cap);

/* Where the assets folder is (for fonts): $MAILSIM_ASSETS, then assets/
 * beside the executable or up to three folders above it (build/mailsim
 * and build/NAME/mailsim in a checkout), then ./assets. Writes the folder with a final '/' and returns
 * true, or returns false when none holds fonts/DejaVuSans.ttf. */
bool ui_find_assets(const char *argv0, char *out, size_t cap);

#endif
