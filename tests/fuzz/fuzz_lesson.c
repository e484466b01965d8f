/* libFuzzer target: lesson files (sim_scenario_parse), the JSON a teacher
 * writes and the program loads.
 *
 * Properties:
 *  - any bytes give a scenario or NULL with at least one problem, never a
 *    crash or a leak (the scenario is freed, with its JSON tree);
 *  - every problem formats into one NUL-terminated line;
 *  - a loaded scenario keeps its counts within the SIM_SCN_*_MAX limits,
 *    its cross references are indexes of the arrays they point into, and
 *    each host, account and device is found again by its name. */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "sim/scenario.h"

static struct sim_scn_diags dg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_scenario *s = sim_scenario_parse((const char *)data, size, "fuzz.json", &dg);
    FUZZ_CHECK(dg.n <= SIM_SCN_DIAGS_MAX);
    for (size_t i = 0; i < dg.n; i++) {
        char line[SIM_SCN_DIAG_TEXT_MAX + SIM_SCN_PATH_MAX + 300];
        FUZZ_CHECK(sim_scn_diag_format(&dg, i, line, sizeof line) == line);
        FUZZ_CHECK(memchr(line, '\0', sizeof line) != NULL);
    }
    if (!s) {
        FUZZ_CHECK(dg.n > 0);
        return 0;
    }
    FUZZ_CHECK(s->nhosts <= SIM_SCN_HOSTS_MAX && s->nzones <= SIM_SCN_ZONES_MAX &&
               s->nservers <= SIM_SCN_SERVERS_MAX && s->naccounts <= SIM_SCN_ACCOUNTS_MAX &&
               s->ndevices <= SIM_SCN_DEVICES_MAX && s->nprograms <= SIM_SCN_PROGRAMS_MAX &&
               s->nactions <= SIM_SCN_ACTIONS_MAX);
    FUZZ_CHECK(!s->has_resolver || s->resolver < s->nhosts);
    for (size_t i = 0; i < s->nhosts; i++)
        FUZZ_CHECK(sim_scenario_host(s, s->hosts[i].name) == (long)i);
    for (size_t i = 0; i < s->nzones; i++) FUZZ_CHECK(s->zones[i].server < s->nhosts);
    for (size_t i = 0; i < s->naccounts; i++) {
        FUZZ_CHECK(s->accounts[i].server < s->nservers);
        FUZZ_CHECK(sim_scenario_account(s, s->accounts[i].address) == (long)i);
    }
    for (size_t i = 0; i < s->ndevices; i++) {
        FUZZ_CHECK(s->devices[i].host < s->nhosts && s->devices[i].account < s->naccounts);
        FUZZ_CHECK(sim_scenario_device(s, s->devices[i].name) == (long)i);
    }
    sim_scenario_free(s);
    return 0;
}
