/* Loading a lesson for the views: scenario -> world -> run -> what to draw. */
#include "render/ui_lesson.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render/run.h"
#include "sim/world.h"

/* Ports a mail lesson listens on, in the order a host's box lists them. */
static const unsigned known_ports[] = {25, 110, 143, 465, 587, 993, 995};

enum sim_proto ui_port_proto(unsigned port)
{
    switch (port) {
    case 25: case 465: case 587: return SIM_PROTO_SMTP;
    case 143: case 993: return SIM_PROTO_IMAP;
    case 110: case 995: return SIM_PROTO_POP3;
    case 53: return SIM_PROTO_DNS;
    default: return SIM_PROTO_TCP;
    }
}

int ui_lesson_host(const struct ui_lesson *l, const char *name)
{
    if (!name || !*name) return -1;
    for (size_t i = 0; i < l->nhosts; i++)
        if (strcmp(l->hosts[i].name, name) == 0) return (int)i;
    return -1;
}

static void base_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    size_t n = strlen(b);
    if (n >= 5 && strcmp(b + n - 5, ".json") == 0) n -= 5;
    if (n >= cap) n = cap - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

static void add_port(struct ui_host_info *h, unsigned port)
{
    if (h->nports == UI_HOST_PORTS_MAX) return;
    h->ports[h->nports] = port;
    h->port_proto[h->nports] = ui_port_proto(port);
    h->nports++;
}

/* The hosts of net as the views draw them, and which hold mail in the
 * trace's first l->nsteps steps. */
static void fill_hosts(struct ui_lesson *l, struct sim_net *net)
{
    size_t n = sim_net_host_count(net);
    if (n > UI_HOSTS_MAX) n = UI_HOSTS_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct sim_host *h = sim_net_host_at(net, i);
        struct ui_host_info *hi = &l->hosts[i];
        snprintf(hi->name, sizeof hi->name, "%s", sim_host_name(h));
        snprintf(hi->ip, sizeof hi->ip, "%s", sim_host_ip(h));
        hi->role = sim_host_role(h);
        /* DNS answers on UDP 53 (RFC 1035 4.2.1), which sim_host_listening
         * does not cover: the role says it. */
        if (hi->role == SIM_ROLE_DNS_RESOLVER || hi->role == SIM_ROLE_DNS_SERVER)
            add_port(hi, 53);
        for (size_t p = 0; p < sizeof known_ports / sizeof known_ports[0]; p++)
            if (sim_host_listening(h, known_ports[p])) add_port(hi, known_ports[p]);
    }
    l->nhosts = n;
    for (size_t s = 0; s < l->nsteps; s++) {
        const struct sim_trace_event *ev = sim_trace_get(l->trace, s);
        if (ev->kind != SIM_TR_MAIL) continue;
        int o = ui_lesson_host(l, ev->mail.owner);
        if (o >= 0) l->hosts[o].holds_mail = true;
    }
}

struct ui_lesson *ui_lesson_load(const char *lesson, const char *argv0, FILE *err)
{
    struct ui_lesson *l = calloc(1, sizeof *l);
    struct sim_scn_diags *dg = calloc(1, sizeof *dg);
    if (!l || !dg) {
        fputs("mailsim: out of memory\n", err);
        free(l);
        free(dg);
        return NULL;
    }
    if (!lesson) lesson = UI_DEFAULT_LESSON;
    if (!ui_find_lesson(lesson, argv0, l->path, sizeof l->path)) {
        fprintf(err, "mailsim: no lesson \"%s\": not a file, and no %s.json in "
                     "$MAILSIM_LESSONS, the lessons/ folder beside the program, or ./lessons/\n",
                lesson, lesson);
        goto fail;
    }
    base_name(l->path, l->name, sizeof l->name);
    l->scenario = sim_scenario_load(l->path, dg);
    l->world = l->scenario ? sim_world_new(l->scenario, dg) : NULL;
    if (!l->world) {
        sim_scn_diags_print(err, dg);
        goto fail;
    }
    l->run_failed = sim_world_run(l->world) < 0;
    if (l->run_failed)
        fprintf(err, "mailsim: %s: the run stopped early: the simulation ran out of room\n",
                l->path);
    l->trace = sim_world_trace(l->world);
    l->nsteps = sim_trace_len(l->trace);
    l->title = l->scenario->title ? l->scenario->title : "";
    l->summary = l->scenario->summary ? l->scenario->summary : "";

    fill_hosts(l, sim_world_net(l->world));
    free(dg);
    return l;
fail:
    free(dg);
    ui_lesson_free(l);
    return NULL;
}

struct ui_lesson *ui_lesson_of_world(struct sim_world *w, const struct sim_scenario *s,
                                     const char *title)
{
    struct ui_lesson *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    snprintf(l->name, sizeof l->name, "live");
    l->title = title ? title : s->title ? s->title : "";
    l->summary = s->summary ? s->summary : "";
    l->trace = sim_world_trace(w);
    l->nsteps = sim_trace_len(l->trace);
    fill_hosts(l, sim_world_net(w));
    return l;
}

void ui_lesson_grow(struct ui_lesson *l)
{
    size_t n = sim_trace_len(l->trace);
    for (size_t s = l->nsteps; s < n; s++) {
        const struct sim_trace_event *ev = sim_trace_get(l->trace, s);
        if (ev->kind != SIM_TR_MAIL) continue;
        int o = ui_lesson_host(l, ev->mail.owner);
        if (o >= 0) l->hosts[o].holds_mail = true;
    }
    l->nsteps = n;
}

void ui_lesson_free(struct ui_lesson *l)
{
    if (!l) return;
    sim_world_free(l->world);
    sim_scenario_free(l->scenario);
    free(l);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

size_t ui_lesson_list(const char *argv0, char (*names)[UI_LESSON_NAME_MAX], size_t cap)
{
    char path[UI_PATH_MAX];
    if (!ui_find_lesson(UI_DEFAULT_LESSON, argv0, path, sizeof path)) return 0;
    char *slash = strrchr(path, '/');
    if (slash)
        slash[1] = '\0';
    else
        snprintf(path, sizeof path, "./");
    DIR *d = opendir(path);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < cap) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || len - 5 >= UI_LESSON_NAME_MAX || de->d_name[0] == '.' ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        memcpy(names[n], de->d_name, len - 5);
        names[n][len - 5] = '\0';
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    return n;
}

static bool has_fonts(const char *dir)
{
    char p[UI_PATH_MAX];
    struct stat st;
    int n = snprintf(p, sizeof p, "%sfonts/DejaVuSans.ttf", dir);
    return n > 0 && (size_t)n < sizeof p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

bool ui_find_assets(const char *argv0, char *out, size_t cap)
{
    const char *env = getenv("MAILSIM_ASSETS");
    if (env && *env) {
        snprintf(out, cap, "%s/", env);
        if (has_fonts(out)) return true;
    }
    char exe[UI_PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0)
        exe[n] = '\0';
    else if (argv0 && strchr(argv0, '/'))
        snprintf(exe, sizeof exe, "%s", argv0);
    else
        exe[0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        /* beside the program, then up to three folders above it, as
         * lessons are found (build/NAME/mailsim finds the checkout's) */
        slash[1] = '\0';
        static const char *const up[] = {"", "../", "../../", "../../../"};
        for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
            snprintf(out, cap, "%s%sassets/", exe, up[i]);
            if (has_fonts(out)) return true;
        }
    }
    snprintf(out, cap, "assets/");
    return has_fonts(out);
}
