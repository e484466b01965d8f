/* Mouse positions arrive in window points; layouts are in renderer pixels,
 * and the two differ on high-density screens. Header-only, for the three
 * window loops (the lesson window, the live window, the split view). */
#ifndef MAILSIM_RENDER_UI_PIXELS_H
#define MAILSIM_RENDER_UI_PIXELS_H

#include <SDL.h>

/* Rescales a mouse button event's position from win's points to r's
 * pixels; other events are left alone. */
static inline void ui_event_to_pixels(SDL_Window *win, SDL_Renderer *r, SDL_Event *ev)
{
    if (ev->type != SDL_MOUSEBUTTONDOWN) return;
    int ww, wh, rw, rh;
    SDL_GetWindowSize(win, &ww, &wh);
    SDL_GetRendererOutputSize(r, &rw, &rh);
    if (ww > 0 && wh > 0) {
        ev->button.x = ev->button.x * rw / ww;
        ev->button.y = ev->button.y * rh / wh;
    }
}

#endif
