/* The world: builds every part a scenario declares, wires them together and
 * plays the timeline. The parts do the protocol work; see sim/world.h. */
#include "sim/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/common.h"
#include "protocols/dns.h"
#include "sim/device.h"
#include "sim/dns_service.h"
#include "sim/imapd.h"
#include "sim/mta.h"
#include "sim/mua.h"
#include "sim/pop3d.h"
#include "sim/store.h"

/* One mail server host: its store and the services on it. */
struct world_server {
    struct sim_store *store;
    struct sim_mta   *mta;                                /* NULL without SMTP listeners */
    struct sim_imapd *imapd[2];                           /* 143, 993 */
    struct sim_pop3d *pop3d[2];                           /* 110, 995 */
};

struct sim_world {
    const struct sim_scenario *s;
    struct sim_engine engine;
    bool              engine_ok;
    bool              ran;
    struct sim_net   *net;
    struct sim_dns   *dns;
    struct sim_host  *hosts[SIM_SCN_HOSTS_MAX];
    struct world_server servers[SIM_SCN_SERVERS_MAX];
    struct sim_mua   *muas[SIM_SCN_PROGRAMS_MAX];
    struct sim_device *devices[SIM_SCN_DEVICES_MAX];
};

/* ---- building ------------------------------------------------------------------- */

static bool build_dns(struct sim_world *w, struct sim_scn_diags *dg)
{
    const struct sim_scenario *s = w->s;
    char path[SIM_SCN_PATH_MAX];
    bool ok = true;
    for (size_t i = 0; i < s->nzones; i++) {
        const struct sim_scn_zone *z = &s->zones[i];
        struct sim_dns_zone *zone;
        snprintf(path, sizeof path, "dns.zones[%zu]", i);
        int err = sim_dns_zone_add(w->dns, z->apex, &zone);
        if (err) {
            sim_scn_diag_add(dg, 0, 0, path, "the zone could not be made: %s",
                             sim_dns_strerror(err));
            ok = false;
            continue;
        }
        for (size_t j = 0; j < z->nrecords; j++) {
            const struct sim_scn_record *r = &z->records[j];
            char rdata[1100];
            if (r->type == DNS_TYPE_MX)
                snprintf(rdata, sizeof rdata, "%u %s", r->preference, r->value);
            else
                snprintf(rdata, sizeof rdata, "%s", r->value);
            err = sim_dns_zone_add_rr(zone, r->name, r->type, r->ttl, rdata);
            if (err) {
                snprintf(path, sizeof path, "dns.zones[%zu].records[%zu]", i, j);
                sim_scn_diag_add(dg, 0, 0, path, "the zone refused this record: %s",
                                 sim_dns_strerror(err));
                ok = false;
            }
        }
        err = sim_dns_serve_zone(w->dns, w->hosts[z->server], zone);
        if (err) {
            snprintf(path, sizeof path, "dns.zones[%zu].server", i);
            sim_scn_diag_add(dg, 0, 0, path, "%s cannot serve the zone: %s",
                             s->hosts[z->server].name, sim_dns_strerror(err));
            ok = false;
        }
    }
    if (!s->has_resolver) return ok;
    struct sim_host *res = w->hosts[s->resolver];
    int err = sim_dns_resolver_add(w->dns, res);
    if (err) {
        sim_scn_diag_add(dg, 0, 0, "dns.resolver", "%s cannot be a resolver: %s",
                         s->hosts[s->resolver].name, sim_dns_strerror(err));
        return false;
    }
    /* The delegation table stands in for the walk down from the root
     * (RFC 1034 5.3.3): each zone is served where the file says. */
    for (size_t i = 0; i < s->nzones; i++) {
        err = sim_dns_resolver_delegate(w->dns, res, s->zones[i].apex,
                                        s->hosts[s->zones[i].server].ip);
        if (err) {
            snprintf(path, sizeof path, "dns.zones[%zu]", i);
            sim_scn_diag_add(dg, 0, 0, path, "the resolver cannot be told where it is: %s",
                             sim_dns_strerror(err));
            ok = false;
        }
    }
    return ok;
}

static bool has(const struct sim_scn_mail_server *m, enum sim_scn_listener l)
{
    return (m->listeners & (1u << l)) != 0;
}

static bool build_servers(struct sim_world *w, struct sim_scn_diags *dg)
{
    const struct sim_scenario *s = w->s;
    char path[SIM_SCN_PATH_MAX];
    bool ok = true;
    for (size_t i = 0; i < s->nservers; i++) {
        const struct sim_scn_mail_server *m = &s->servers[i];
        struct world_server *ws = &w->servers[i];
        struct sim_host *h = w->hosts[m->host];
        const char *name = s->hosts[m->host].name;
        snprintf(path, sizeof path, "mail_servers[%zu]", i);
        ws->store = sim_store_new(&w->engine, name, s->epoch);
        if (!ws->store) {
            sim_scn_diag_add(dg, 0, 0, path, "out of memory");
            return false;
        }
        sim_store_set_zone(ws->store, s->zone_min);
        for (size_t a = 0; a < s->naccounts; a++) {
            const struct sim_scn_account *acc = &s->accounts[a];
            if (acc->server != i) continue;
            enum sim_store_result r =
                sim_store_add_account(ws->store, acc->address, acc->password, acc->quota);
            if (r != SIM_STORE_OK) {
                char ap[SIM_SCN_PATH_MAX];
                snprintf(ap, sizeof ap, "accounts[%zu]", a);
                sim_scn_diag_add(dg, 0, 0, ap, "the store refused the account: %s",
                                 sim_store_result_names[r]);
                ok = false;
            }
        }
        if (has(m, SIM_SCN_RELAY) || has(m, SIM_SCN_SUBMISSION) || has(m, SIM_SCN_SUBMISSIONS)) {
            struct sim_mta_config cfg = {
                .hostname = name,
                .domains = m->domains,
                .ndomains = m->ndomains,
                .backup_domains = m->backup_for,
                .nbackup = m->nbackup,
                .store = ws->store,
                .resolver_ip = s->has_resolver ? s->hosts[s->resolver].ip : NULL,
                .listen_smtp = has(m, SIM_SCN_RELAY),
                .listen_submission = has(m, SIM_SCN_SUBMISSION),
                .listen_submissions = has(m, SIM_SCN_SUBMISSIONS),
                .max_size = m->max_size,
                .greylisting = m->greylisting,
                .greylist_delay = m->greylist_delay,
                .retry_first = m->retry_first,
                .retry_max_interval = m->retry_max_interval,
                .max_age = m->max_age,
                .epoch = s->epoch,
                .zone_min = s->zone_min,
            };
            ws->mta = sim_mta_new(&w->engine, w->net, w->dns, h, &cfg);
            if (!ws->mta) {
                sim_scn_diag_add(dg, 0, 0, path, "the MTA on %s could not start", name);
                ok = false;
            }
        }
        /* RFC 8314 3.3: 993 and 995 are TLS from the first byte; 143 and
         * 110 offer STARTTLS/STLS (RFC 3501 6.2.1, RFC 2595 4). */
        if (has(m, SIM_SCN_IMAP))
            ok &= (ws->imapd[0] = sim_imapd_attach(w->net, h, ws->store, SIM_IMAPD_PORT, false,
                                                   true)) != NULL;
        if (has(m, SIM_SCN_IMAPS))
            ok &= (ws->imapd[1] = sim_imapd_attach(w->net, h, ws->store, SIM_IMAPD_PORT_TLS,
                                                   true, false)) != NULL;
        if (has(m, SIM_SCN_POP3))
            ok &= (ws->pop3d[0] = sim_pop3d_attach(w->net, h, ws->store, SIM_POP3D_PORT, false,
                                                   true)) != NULL;
        if (has(m, SIM_SCN_POP3S))
            ok &= (ws->pop3d[1] = sim_pop3d_attach(w->net, h, ws->store, SIM_POP3D_PORT_TLS,
                                                   true, false)) != NULL;
        if (!ok) sim_scn_diag_add(dg, 0, 0, path, "the services on %s could not all start", name);
    }
    return ok;
}

static bool build_clients(struct sim_world *w, struct sim_scn_diags *dg)
{
    const struct sim_scenario *s = w->s;
    char path[SIM_SCN_PATH_MAX];
    bool ok = true;
    for (size_t i = 0; i < s->nprograms; i++) {
        const struct sim_scn_program *p = &s->programs[i];
        const struct sim_scn_account *acc = &s->accounts[p->account];
        const struct sim_scn_mail_server *home = &s->servers[acc->server];
        struct sim_mua_config cfg = {
            .account = acc->address,
            .password = acc->password,
            .display_name = p->display_name,
            .submit_ip = s->hosts[s->servers[p->server].host].ip,
            .submit_port = p->port,
            .imap_ip = p->sent_copy ? s->hosts[home->host].ip : NULL,
            .imap_port = has(home, SIM_SCN_IMAPS) ? SIM_IMAPD_PORT_TLS : SIM_IMAPD_PORT,
            .epoch = s->epoch,
            .zone_min = s->zone_min,
            .skip_starttls = p->skip_starttls,
            .wrong_password = p->wrong_password,
            .auth_before_starttls = p->auth_before_starttls,
            .use_helo = p->use_helo,
        };
        w->muas[i] = sim_mua_new(&w->engine, w->net, w->hosts[p->host], &cfg);
        if (!w->muas[i]) {
            snprintf(path, sizeof path, "mail_programs[%zu]", i);
            sim_scn_diag_add(dg, 0, 0, path, "the mail program could not be made");
            ok = false;
        }
    }
    for (size_t i = 0; i < s->ndevices; i++) {
        const struct sim_scn_device *d = &s->devices[i];
        const struct sim_scn_account *acc = &s->accounts[d->account];
        struct sim_device_config cfg = {
            .proto = d->proto == SIM_SCN_PROTO_IMAP ? SIM_DEVICE_IMAP : SIM_DEVICE_POP3,
            .account = acc->address,
            .password = acc->password,
            .server_ip = s->hosts[s->servers[acc->server].host].ip,
            .port = d->port,
            .leave_on_server = d->leave_on_server,
            .idle = d->idle,
            .check_every = d->check_every,
            .epoch = s->epoch,
            .zone_min = s->zone_min,
        };
        w->devices[i] = sim_device_new(&w->engine, w->net, w->hosts[d->host], &cfg);
        if (!w->devices[i]) {
            snprintf(path, sizeof path, "devices[%zu]", i);
            sim_scn_diag_add(dg, 0, 0, path, "the device could not be made");
            ok = false;
        }
    }
    return ok;
}

/* ---- the timeline --------------------------------------------------------------- */

/* An ACTION event of the world's own: a narration, or why an action could
 * not start. */
static void note_action(struct sim_world *w, const char *from, const char *text,
                        const char *note)
{
    struct sim_trace_event ev = {
        .kind = SIM_TR_ACTION, .proto = SIM_PROTO_SIM, .from = from, .text = text, .note = note,
    };
    sim_record(&w->engine, &ev);
}

/* The UID of the message an action names on device d, from what the device
 * holds locally (it decides from what it saw, never from the server). */
static bool find_message(const struct sim_device *d, const struct sim_scn_action *a,
                         uint32_t *uid)
{
    size_t n = sim_device_count(d, a->msg_folder);
    if (!a->msg_subject) {
        const struct sim_device_msg *m =
            a->msg_index >= 1 && a->msg_index <= n ? sim_device_msg(d, a->msg_folder, a->msg_index - 1)
                                                   : NULL;
        if (m) *uid = m->uid;
        return m != NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sim_device_msg *m = sim_device_msg(d, a->msg_folder, i);
        if (m && strcmp(m->subject, a->msg_subject) == 0) {
            *uid = m->uid;
            return true;
        }
    }
    return false;
}

static void run_action(struct sim_engine *e, void *ctx, uint64_t arg)
{
    (void)e;
    struct sim_world *w = ctx;
    const struct sim_scenario *s = w->s;
    const struct sim_scn_action *a = &s->actions[arg];
    const char *name = sim_scn_action_names[a->kind];
    char text[SIM_SCN_TEXT_MAX * 2];
    int r = 0;
    switch (a->kind) {
    case SIM_SCN_NARRATE:
        note_action(w, "", "narrate", a->text);
        return;
    case SIM_SCN_SEND: {
        const struct sim_scn_program *p = &s->programs[a->program];
        r = sim_mua_send_bcc(w->muas[a->program], NULL, a->to, a->nto, a->bcc, a->nbcc,
                             a->subject, a->body,
                         SIM_MUA_NOW);
        if (r < 0) {
            snprintf(text, sizeof text, "send: \"%s\" could not start", a->subject);
            note_action(w, s->hosts[p->host].name, text,
                        "the mail program refused it: too many sends, recipients or characters");
        }
        return;
    }
    case SIM_SCN_SAVE_DRAFT:
        r = sim_device_save_draft(w->devices[a->device], a->nto ? a->to[0] : NULL, a->subject,
                                  a->body, SIM_DEVICE_NOW);
        break;
    case SIM_SCN_CHECK:
        r = sim_device_check(w->devices[a->device], SIM_DEVICE_NOW);
        break;
    case SIM_SCN_READ: case SIM_SCN_FLAG: case SIM_SCN_UNFLAG: case SIM_SCN_MOVE:
    case SIM_SCN_DELETE: {
        struct sim_device *d = w->devices[a->device];
        uint32_t uid = 0;
        if (!find_message(d, a, &uid)) {
            if (a->msg_subject)
                snprintf(text, sizeof text, "%s: no message \"%s\" in %s", name, a->msg_subject,
                         a->msg_folder);
            else
                snprintf(text, sizeof text, "%s: no message number %zu in %s", name,
                         a->msg_index, a->msg_folder);
            note_action(w, s->hosts[s->devices[a->device].host].name, text,
                        "the device does not have that message (yet): it only knows what it "
                        "has downloaded or synchronised");
            return;
        }
        if (a->kind == SIM_SCN_READ)
            r = sim_device_read(d, a->msg_folder, uid, SIM_DEVICE_NOW);
        else if (a->kind == SIM_SCN_FLAG || a->kind == SIM_SCN_UNFLAG)
            r = sim_device_flag(d, a->msg_folder, uid, a->kind == SIM_SCN_FLAG, SIM_DEVICE_NOW);
        else if (a->kind == SIM_SCN_MOVE)
            r = sim_device_move(d, a->msg_folder, uid, a->folder, SIM_DEVICE_NOW);
        else
            r = sim_device_delete(d, a->msg_folder, uid, SIM_DEVICE_NOW);
        break;
    }
    case SIM_SCN_SERVER_DOWN: case SIM_SCN_SERVER_UP:
        /* The network records the FAULT and cuts the connections. */
        sim_host_set_up(w->hosts[a->host], a->kind == SIM_SCN_SERVER_UP);
        return;
    case SIM_SCN_BLOCK_PORT:
        if (sim_host_block_port(w->hosts[a->host], a->port, a->outbound) < 0)
            note_action(w, s->hosts[a->host].name, "block_port: not done",
                        "this host's firewall already has as many rules as it can hold");
        return;
    case SIM_SCN_UNBLOCK_PORT:
        if (sim_host_unblock_port(w->hosts[a->host], a->port, a->outbound) < 0)
            note_action(w, s->hosts[a->host].name, "unblock_port: the port was not blocked", "");
        return;
    case SIM_SCN_MAILBOX_FULL: {
        /* The quota becomes what the mailbox holds now, so the next
         * delivery is refused (the MTA answers 452 4.2.2, RFC 3463). */
        const struct sim_scn_account *acc = &s->accounts[a->account];
        const char *host = s->hosts[s->servers[acc->server].host].name;
        snprintf(text, sizeof text, "mailbox full: %s", acc->address);
        if (sim_store_make_full(w->servers[acc->server].store, acc->address) == SIM_STORE_OK)
            note_action(w, host, text,
                        "the mailbox has used up its quota: new mail for it is refused until "
                        "something is deleted");
        else
            note_action(w, host, text, "the server has no such account");
        return;
    }
    case SIM_SCN_ACTION_COUNT:
        return;
    }
    if (r < 0) {
        const struct sim_scn_device *sd = &s->devices[a->device];
        snprintf(text, sizeof text, "%s on %s: refused", name, sd->name);
        note_action(w, s->hosts[sd->host].name, text,
                    "the device could not take the action: too many waiting, a name too long, "
                    "or not possible with its protocol");
    }
}

/* ---- the world ------------------------------------------------------------------- */

struct sim_world *sim_world_new(const struct sim_scenario *s, struct sim_scn_diags *dg)
{
    struct sim_world *w = calloc(1, sizeof *w);
    if (!w) {
        sim_scn_diag_add(dg, 0, 0, "", "out of memory");
        return NULL;
    }
    w->s = s;
    if (sim_engine_init(&w->engine, s->seed) != 0) {
        free(w);
        sim_scn_diag_add(dg, 0, 0, "", "out of memory");
        return NULL;
    }
    w->engine_ok = true;
    w->net = sim_net_new(&w->engine);
    w->dns = w->net ? sim_dns_new(&w->engine, w->net) : NULL;
    if (!w->dns) {
        sim_scn_diag_add(dg, 0, 0, "", "out of memory");
        sim_world_free(w);
        return NULL;
    }
    bool ok = true;
    char path[SIM_SCN_PATH_MAX];
    for (size_t i = 0; i < s->nhosts; i++) {
        const struct sim_scn_host *h = &s->hosts[i];
        w->hosts[i] = sim_net_add_host(w->net, h->name, h->ip, h->role, h->latency, h->bps);
        if (!w->hosts[i]) {
            snprintf(path, sizeof path, "hosts[%zu]", i);
            sim_scn_diag_add(dg, 0, 0, path, "the network refused the host");
            ok = false;
        }
    }
    ok = ok && build_dns(w, dg);
    ok = ok && build_servers(w, dg);
    ok = ok && build_clients(w, dg);
    if (!ok) {
        sim_world_free(w);
        return NULL;
    }
    /* Actions at the same time run in file order: the queue breaks ties by
     * the order of scheduling. */
    for (size_t i = 0; i < s->nactions; i++)
        sim_after(&w->engine, s->actions[i].at, run_action, w, i);
    if (w->engine.failed) {
        sim_scn_diag_add(dg, 0, 0, "timeline", "the event queue is full");
        sim_world_free(w);
        return NULL;
    }
    return w;
}

void sim_world_free(struct sim_world *w)
{
    if (!w) return;
    /* The order the parts' headers ask for: clients and MTAs (they only
     * hold engine events, which die with the engine), the IMAP/POP3
     * servers before their stores, the DNS service before the network. */
    for (size_t i = 0; i < SIM_SCN_DEVICES_MAX; i++) sim_device_free(w->devices[i]);
    for (size_t i = 0; i < SIM_SCN_PROGRAMS_MAX; i++) sim_mua_free(w->muas[i]);
    for (size_t i = 0; i < SIM_SCN_SERVERS_MAX; i++) {
        struct world_server *ws = &w->servers[i];
        sim_mta_free(ws->mta);
        for (size_t k = 0; k < 2; k++) {
            sim_imapd_free(ws->imapd[k]);
            sim_pop3d_free(ws->pop3d[k]);
        }
    }
    sim_dns_free(w->dns);
    sim_net_free(w->net);
    for (size_t i = 0; i < SIM_SCN_SERVERS_MAX; i++) sim_store_free(w->servers[i].store);
    if (w->engine_ok) sim_engine_fini(&w->engine);
    free(w);
}

long long sim_world_run(struct sim_world *w)
{
    if (w->ran) return 0;
    w->ran = true;
    uint64_t n = sim_engine_run(&w->engine, w->s->time_limit);
    return w->engine.failed ? -1 : (long long)n;
}

const struct sim_trace *sim_world_trace(const struct sim_world *w)
{
    return w->engine.trace;
}

struct sim_engine *sim_world_engine(struct sim_world *w) { return &w->engine; }
struct sim_net *sim_world_net(struct sim_world *w) { return w->net; }
struct sim_dns *sim_world_dns(struct sim_world *w) { return w->dns; }

static long server_index(const struct sim_world *w, const char *host)
{
    for (size_t i = 0; i < w->s->nservers; i++)
        if (strcmp(w->s->hosts[w->s->servers[i].host].name, host) == 0) return (long)i;
    return -1;
}

struct sim_store *sim_world_store(struct sim_world *w, const char *host)
{
    long i = server_index(w, host);
    return i < 0 ? NULL : w->servers[i].store;
}

struct sim_mta *sim_world_mta(struct sim_world *w, const char *host)
{
    long i = server_index(w, host);
    return i < 0 ? NULL : w->servers[i].mta;
}

struct sim_device *sim_world_device(struct sim_world *w, const char *name)
{
    long i = sim_scenario_device(w->s, name);
    return i < 0 ? NULL : w->devices[i];
}

struct sim_mua *sim_world_mua(struct sim_world *w, const char *account)
{
    long a = sim_scenario_account(w->s, account);
    for (size_t i = 0; a >= 0 && i < w->s->nprograms; i++)
        if (w->s->programs[i].account == (size_t)a) return w->muas[i];
    return NULL;
}
