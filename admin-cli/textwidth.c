#include "textwidth.h"

#include <stdbool.h>

int textwidth_char(const unsigned char *s, int *bytes)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *bytes = 1;
        return 1;
    }
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    unsigned cp = c & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *bytes = i;
            return 1;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *bytes = n;
    bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6);
    return wide ? 2 : 1;
}

int textwidth(const char *s)
{
    int w = 0, bytes = 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p += bytes) {
        w += textwidth_char(p, &bytes);
    }
    return w;
}
