/* The simulated world a lesson runs in: built from a scenario description
 * (sim/scenario.h), it holds the engine, the network and its hosts, the DNS
 * service (zones, name servers, the resolver), one mail store per mail
 * server with its MTA (sim/mta.h) and IMAP/POP3 servers (sim/imapd.h,
 * sim/pop3d.h), the senders' mail programs (sim/mua.h) and the recipients'
 * devices (sim/device.h), and the timeline that drives them.
 *
 * Every byte one host sends another is made and parsed by the codecs in
 * protocols/, through those modules; the world itself only wires them and
 * starts the timeline's actions at their times. It records:
 *   - SIM_TR_ACTION, proto sim, for a narration marker (text "narrate",
 *     note = the narration), for mailbox_full ("mailbox full: ADDRESS"),
 *     and for an action that could not start (a message not on the
 *     device, a device or program that refused it);
 *   - nothing else itself: sending, checking, faults and store changes are
 *     recorded by the modules that do them.
 *
 * Determinism: one engine with the scenario's seed, no wall clock; the same
 * description gives the same trace, byte for byte.
 *
 * Ownership: the world owns everything it builds. The description must stay
 * alive while the world runs (actions borrow its strings). */
#ifndef MAILSIM_SIM_WORLD_H
#define MAILSIM_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/engine.h"
#include "sim/net.h"
#include "sim/scenario.h"

struct sim_world;
struct sim_store;
struct sim_device;
struct sim_mua;
struct sim_mta;
struct sim_dns;

/* Builds the world s describes (borrowed until sim_world_free). Returns NULL
 * with the problems in *dg (added to what it holds; each names the JSON
 * path of the part that could not be built, e.g. a DNS record the zone
 * refused) when a part could not be built or memory ran out. */
struct sim_world *sim_world_new(const struct sim_scenario *s, struct sim_scn_diags *dg);

/* Frees everything, without running callbacks. NULL is fine. */
void sim_world_free(struct sim_world *w);

/* Runs the engine until nothing is left to happen or the scenario's time
 * limit. Returns the number of events run, or -1 when the engine failed
 * (its queue or the trace ran out of room; the trace holds what happened
 * until then). May be called once. */
long long sim_world_run(struct sim_world *w);

/* The trace (borrowed until sim_world_free). */
const struct sim_trace *sim_world_trace(const struct sim_world *w);

/* For tests and views: the engine and network, and parts by name (NULL
 * when there is none). */
struct sim_engine *sim_world_engine(struct sim_world *w);
struct sim_net *sim_world_net(struct sim_world *w);
struct sim_dns *sim_world_dns(struct sim_world *w);
struct sim_store *sim_world_store(struct sim_world *w, const char *host);
struct sim_mta *sim_world_mta(struct sim_world *w, const char *host);
struct sim_device *sim_world_device(struct sim_world *w, const char *name);
struct sim_mua *sim_world_mua(struct sim_world *w, const char *account);

#endif
