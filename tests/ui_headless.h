/* What the tests that draw share: the assets folder found from tests/, SDL
 * started on its dummy driver for the whole group, and lessons loaded with
 * their problems kept out of the test output. Header-only (static). */
#ifndef MAILSIM_TESTS_UI_HEADLESS_H
#define MAILSIM_TESTS_UI_HEADLESS_H

#include <stdio.h>

#include "render/ui_lesson.h"
#include "render/ui_snapshot.h"
#include "tests/testkit.h"

static char assets[UI_PATH_MAX];

/* The group's set-up and tear-down (cmocka_run_group_tests). */
static inline int headless_setup(void **state)
{
    (void)state;
    if (!ui_find_assets("tests", assets, sizeof assets)) return -1;
    return ui_headless_init(stderr);
}

static inline int headless_teardown(void **state)
{
    (void)state;
    ui_headless_quit();
    return 0;
}

/* A lesson by name, as `mailsim view NAME` finds it; it must load. */
static inline struct ui_lesson *load_lesson(const char *name)
{
    FILE *err = tmpfile();
    struct ui_lesson *l = ui_lesson_load(name, "tests", err);
    fclose(err);
    assert_non_null(l);
    return l;
}

#endif
