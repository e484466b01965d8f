/* Frame time: the busiest lesson in lessons/ (the most trace steps), drawn
 * at 1920x1080 by SDL's software renderer (what the window uses), as the
 * player shows it: each exchange animated over several frames. Prints the
 * median and the worst frame time. No display is needed.
 *
 * Reference, measured in the same run: writing every pixel of a 1920x1080
 * frame once (memset over its 8 MB), the floor under any software frame;
 * the ratio says how many such passes a frame costs.
 *
 *   build/bench/bench_frame [FRAMES]     (default 400) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/ui_snapshot.h"
#include "tests/bench/bench.h"

#define FRAMES_DEFAULT 400
#define FRAMES_MAX 100000
#define ANIM_FRAMES 6 /* frames per exchange: progress 0, 0.2, ... 1 */

int main(int argc, char **argv)
{
    long frames = argc > 1 ? strtol(argv[1], NULL, 10) : FRAMES_DEFAULT;
    if (frames < 1 || frames > FRAMES_MAX) frames = FRAMES_DEFAULT;
    char assets[UI_PATH_MAX];
    if (!ui_find_assets(argv[0], assets, sizeof assets)) {
        fputs("bench_frame: cannot find assets/fonts\n", stderr);
        return 1;
    }
    char names[UI_LESSONS_MAX][UI_LESSON_NAME_MAX];
    size_t n = ui_lesson_list(argv[0], names, UI_LESSONS_MAX);
    struct ui_lesson *busiest = NULL;
    for (size_t i = 0; i < n; i++) {
        struct ui_lesson *l = ui_lesson_load(names[i], argv[0], stderr);
        if (!l) continue;
        if (!busiest || l->nsteps > busiest->nsteps) {
            ui_lesson_free(busiest);
            busiest = l;
        } else {
            ui_lesson_free(l);
        }
    }
    if (!busiest || busiest->nsteps == 0) {
        fputs("bench_frame: no lesson to draw\n", stderr);
        ui_lesson_free(busiest);
        return 1;
    }
    if (ui_headless_init(stderr) != 0) return 1;
    struct ui_canvas *c = ui_canvas_new(busiest, 1920, 1080, assets);
    double *t = malloc((size_t)frames * sizeof *t);
    if (!c || !t) {
        fputs("bench_frame: cannot make the canvas\n", stderr);
        return 1;
    }
    struct ui_view v = ui_view_default();
    v.playing = true;
    size_t step = 0;
    for (long f = 0; f < frames; f++) {
        int k = (int)(f % ANIM_FRAMES);
        if (k == 0 && f > 0) {
            size_t next = ui_state_next_exchange(busiest, step);
            step = next == step ? 0 : next; /* round again from the start */
        }
        v.progress = (double)k / (ANIM_FRAMES - 1);
        double t0 = bench_now_s();
        ui_canvas_draw(c, step, &v);
        t[f] = (bench_now_s() - t0) * 1e3; /* ms */
    }
    /* the reference: every pixel written once, as many times as frames */
    size_t frame_bytes = (size_t)1920 * 1080 * 4;
    unsigned char *pixels = malloc(frame_bytes);
    double *ref = malloc((size_t)frames * sizeof *ref);
    if (!pixels || !ref) {
        fputs("bench_frame: out of memory\n", stderr);
        return 1;
    }
    for (long f = 0; f < frames; f++) {
        double t0 = bench_now_s();
        memset(pixels, (int)(f & 0xff), frame_bytes);
        __asm__ volatile("" : : "r"(pixels) : "memory"); /* keep the stores */
        ref[f] = (bench_now_s() - t0) * 1e3;
    }
    qsort(ref, (size_t)frames, sizeof *ref, bench_cmp_double);
    double ref_median = ref[frames / 2];
    free(ref);
    free(pixels);
    double first = t[0], worst_after = 0;
    for (long f = 1; f < frames; f++)
        if (t[f] > worst_after) worst_after = t[f];
    qsort(t, (size_t)frames, sizeof *t, bench_cmp_double);
    printf("bench_frame: lesson %s (%zu steps), 1920x1080, software renderer, %ld frames\n",
           busiest->name, busiest->nsteps, frames);
    printf("  median %.2f ms   worst %.2f ms   (first frame %.2f ms, worst after it %.2f ms)\n",
           t[frames / 2], t[frames - 1], first, worst_after);
    printf("  strings rendered into the text cache: %lu\n",
           ui_draw_text_renders(ui_canvas_drawer(c)));
    printf("BENCH\tframe median 1920x1080\t%.2f\tms\t%.3f\t%.1f\n", t[frames / 2],
           ref_median, ref_median > 0 ? t[frames / 2] / ref_median : 0.0);
    printf("BENCH\tframe worst 1920x1080\t%.2f\tms\t-\t-\n", t[frames - 1]);
    free(t);
    ui_canvas_free(c);
    ui_headless_quit();
    ui_lesson_free(busiest);
    return 0;
}
