/*
 * The bundled questionnaire for the fuzz targets that validate against it: loaded once from the
 * source tree (SURVEY_SOURCE_DIR, given by tests/fuzz/CMakeLists.txt); a target cannot run
 * without it, so failing to load it aborts with the reason.
 */
#ifndef SURVEY_FUZZ_BUNDLED_H
#define SURVEY_FUZZ_BUNDLED_H

#include <stdio.h>
#include <stdlib.h>

#include "qdef.h"

static struct qdef *fuzz_bundled_definition(void)
{
    static struct qdef *def;
    if (def != NULL) {
        return def;
    }
    const char *path = SURVEY_SOURCE_DIR "/questionnaire/definitions/genai-adoption-2025.json";
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz: cannot open %s\n", path);
        abort();
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    struct qproblems problems;
    qproblems_init(&problems, 16);
    def = qdef_load(text, len, &problems);
    qproblems_clear(&problems);
    if (def == NULL) {
        fprintf(stderr, "fuzz: the bundled definition does not load\n");
        abort();
    }
    return def;
}

#endif
