/*
 * A wave as its two readers, index and export, see it: its state, field dates, access, stored
 * questionnaire, margins and study description, read in the reader's own snapshot, and the
 * refusals both make before they read a single response.
 */
#ifndef SURVEY_ADMIN_WAVEDATA_H
#define SURVEY_ADMIN_WAVEDATA_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "digest.h"
#include "qdef.h"

struct wave_info {
    char status[16];                      /* draft, open or closed */
    char access[16];                      /* invite or open */
    char opened_at[40], closed_at[40];    /* UTC, RFC 3339 to the second; "" until then */
    long long closed_epoch;               /* 0 while open */
    char sha256[DIGEST_SHA256_HEX_BYTES]; /* of the questionnaire's stored bytes, hex */
    char *source;                         /* the questionnaire's definition, as stored */
    char *margins, *about;                /* jsonb text; NULL when the wave has none */
};

/*
 * Read wave, in the caller's transaction, into *info (overwritten: nothing of it is freed).
 * False after printing why (no such wave, a failed query, out of memory), with nothing left to
 * free; on success the strings are the caller's (wave_info_free).
 */
bool wave_read(PGconn *conn, const char *wave, struct wave_info *info)
    __attribute__((warn_unused_result));

/* Free the strings of *info and leave them NULL: safe on a zeroed struct and twice. */
void wave_info_free(struct wave_info *info);

/*
 * Whether a reader may go on to the responses. A draft has none; an open wave's figures may
 * still change, so it is refused unless provisional_ok, and *provisional says it was let in.
 * marked is what the reader makes ("an export", "figures"), for the refusal's wording. False
 * after printing why.
 */
bool wave_require_closed(const char *wave, const struct wave_info *info, bool provisional_ok,
                         const char *marked, bool *provisional) __attribute__((warn_unused_result));

/* The wave's stored questionnaire, compiled (qdef_free); NULL after printing why. */
struct qdef *wave_compile(const struct wave_info *info) __attribute__((warn_unused_result));

#endif
