/*
 * Lookups in the embedded web files. The table comes from a file generated at build time by
 * embed_web.cmake; this file only searches it.
 */
#include "webstatic.h"

#include <string.h>

#include "webstatic_embedded.inc"

#define WEBSTATIC_N (sizeof web_files / sizeof web_files[0])

const struct webstatic_file *webstatic_find(const char *name, size_t name_len)
{
    for (size_t i = 0; i < WEBSTATIC_N; i++) {
        if (strlen(web_files[i].name) == name_len &&
            memcmp(web_files[i].name, name, name_len) == 0) {
            return &web_files[i];
        }
    }
    return NULL;
}
