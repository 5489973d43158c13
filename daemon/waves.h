/*
 * Wave snapshots: every wave's status, access and compiled questionnaire, built by the main
 * thread from the database and handed to the workers whole. A worker reads its snapshot without
 * locks; the last worker to let go of an old snapshot frees it.
 */
#ifndef SURVEYD_WAVES_H
#define SURVEYD_WAVES_H

#include <stdbool.h>
#include <stddef.h>

#include "qdef.h"

enum wave_status { WAVE_DRAFT, WAVE_OPEN, WAVE_CLOSED };

/* One row as read from the database; strings are borrowed for the call. */
struct wave_row {
    const char *id;
    const char *status; /* "draft", "open", "closed" */
    const char *access; /* "invite", "open" */
    const char *source; /* the questionnaire definition as stored */
    const char *sha256_hex;
};

struct wave {
    char *id;
    enum wave_status status;
    bool invite;
    struct qdef *def; /* NULL when the stored definition does not compile (logged) */
    char *source;
    size_t source_len;
    char etag[24]; /* quoted prefix of the definition's SHA-256 */
};

struct waves;

/* Build a snapshot holding one reference; NULL on no memory. */
struct waves *waves_build(const struct wave_row *rows, size_t n)
    __attribute__((warn_unused_result));

/* The wave with this id, or NULL. */
const struct wave *waves_find(const struct waves *w, const char *id, size_t id_len);

size_t waves_count(const struct waves *w);

void waves_ref(struct waves *w);

/* Drop a reference; the snapshot is freed with the last. waves_unref(NULL) does nothing. */
void waves_unref(struct waves *w);

#endif
