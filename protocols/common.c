#include "protocols/common.h"

#include <string.h>

int ascii_ncasecmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
        if (ca >= 'A' && ca <= 'Z') ca = (unsigned char)(ca + 32);
        if (cb >= 'A' && cb <= 'Z') cb = (unsigned char)(cb + 32);
        if (ca != cb) return ca < cb ? -1 : 1;
        if (ca == 0) return 0;
    }
    return 0;
}

int ascii_eq(const char *s, size_t n, const char *kw)
{
    /* one pass, stopping at the first difference: the parsers look names
     * up in tables, and most keywords differ at their first letter */
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = (unsigned char)s[i], cb = (unsigned char)kw[i];
        if (cb == 0) return 0; /* the keyword is shorter */
        if (ca >= 'A' && ca <= 'Z') ca = (unsigned char)(ca + 32);
        if (cb >= 'A' && cb <= 'Z') cb = (unsigned char)(cb + 32);
        if (ca != cb) return 0;
    }
    return kw[n] == 0;
}
