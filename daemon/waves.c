/*
 * Wave snapshots: compiled once per reload by the main thread, shared read-only by the
 * workers, reference-counted with atomics so no lock sits on the request path.
 */
#include "waves.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct waves {
    atomic_int refs;
    size_t n;
    struct wave *waves; /* sorted by id */
};

static int wave_cmp(const void *a, const void *b)
{
    return strcmp(((const struct wave *)a)->id, ((const struct wave *)b)->id);
}

static void free_waves(struct waves *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->waves[i].id);
        free(w->waves[i].source);
        qdef_free(w->waves[i].def);
    }
    free(w->waves);
    free(w);
}

struct waves *waves_build(const struct wave_row *rows, size_t n)
{
    struct waves *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return NULL;
    }
    atomic_init(&w->refs, 1);
    w->waves = calloc(n ? n : 1, sizeof *w->waves);
    if (w->waves == NULL) {
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        struct wave *v = &w->waves[w->n];
        v->id = strdup(rows[i].id);
        v->source = strdup(rows[i].source);
        if (v->id == NULL || v->source == NULL) {
            free(v->id);
            free(v->source);
            free_waves(w);
            return NULL;
        }
        w->n++;
        v->source_len = strlen(v->source);
        v->status = strcmp(rows[i].status, "open") == 0     ? WAVE_OPEN
                    : strcmp(rows[i].status, "closed") == 0 ? WAVE_CLOSED
                                                            : WAVE_DRAFT;
        v->invite = strcmp(rows[i].access, "open") != 0;
        snprintf(v->etag, sizeof v->etag, "\"%.16s\"", rows[i].sha256_hex);
        struct qproblems problems;
        qproblems_init(&problems, 4);
        v->def = qdef_load(v->source, v->source_len, &problems);
        if (v->def == NULL) {
            /* The CLI compiles before it stores, so this is a newer format or a bug. */
            log_event(LOG_ERROR, "stored questionnaire does not compile", "wave", v->id, "problem",
                      problems.count ? problems.items[0].message : "out of memory", NULL);
        }
        qproblems_clear(&problems);
    }
    qsort(w->waves, w->n, sizeof *w->waves, wave_cmp);
    return w;
}

const struct wave *waves_find(const struct waves *w, const char *id, size_t id_len)
{
    size_t lo = 0, hi = w ? w->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = w->waves[mid].id;
        int c = strncmp(k, id, id_len);
        if (c == 0 && k[id_len] != '\0') {
            c = 1;
        }
        if (c == 0) {
            return &w->waves[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

size_t waves_count(const struct waves *w)
{
    return w ? w->n : 0;
}

void waves_ref(struct waves *w)
{
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
}

void waves_unref(struct waves *w)
{
    if (w != NULL && atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1) {
        free_waves(w);
    }
}
