/*
 * Lookups in the embedded web files. The table comes from a file generated at build time by
 * embed_web.cmake; this file only searches it and compares entity tags.
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

bool webstatic_etag_matches(const char *v, size_t len, const char *etag)
{
    size_t etag_len = strlen(etag);
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        if (i == len) {
            break;
        }
        if (v[i] == '*') {
            return true;
        }
        /* Weak comparison: a W/ prefix does not matter for If-None-Match. */
        if (len - i >= 2 && v[i] == 'W' && v[i + 1] == '/') {
            i += 2;
        }
        size_t start = i;
        if (i < len && v[i] == '"') {
            i++;
            while (i < len && v[i] != '"') {
                i++;
            }
            if (i < len) {
                i++;
            }
        } else {
            while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
                i++;
            }
        }
        if (i - start == etag_len && memcmp(v + start, etag, etag_len) == 0) {
            return true;
        }
    }
    return false;
}
