/*
 * The export's anonymisation, as pure code: keyed pseudonyms for rows, and k-anonymity over the
 * quasi-identifiers by local suppression, planned on the counts of their combinations so that
 * memory follows the number of distinct combinations, never the number of rows.
 * docs/export.md explains the choices.
 */
#ifndef SURVEY_ADMIN_EXPORT_ANON_H
#define SURVEY_ADMIN_EXPORT_ANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- pseudonyms ------------------------------------------------------------------------- */

#define EXPORT_KEY_MIN_BYTES 16 /* 128 bits: shorter keys could be guessed */
#define EXPORT_KEY_MAX_BYTES 1024
#define EXPORT_PID_HEX_BYTES 33 /* 32 hex digits (the first 128 bits of the MAC) and the NUL */

struct export_pid;

/*
 * A pseudonym maker for one export: HMAC-SHA-256 under key (key_len bytes, copied). Returns
 * NULL when OpenSSL cannot set it up (out of memory). export_pid_free(NULL) does nothing.
 */
struct export_pid *export_pid_new(const unsigned char *key, size_t key_len)
    __attribute__((warn_unused_result));
void export_pid_free(struct export_pid *p);

/*
 * The pseudonym of one response: hex of HMAC(key, "survey-export-pid-v1" NUL wave NUL
 * submission_id), cut to 128 bits. The same key, wave and submission always give the same
 * pseudonym. False only when OpenSSL fails.
 */
bool export_pid_make(struct export_pid *p, const char *wave, const char *submission_id,
                     char out[EXPORT_PID_HEX_BYTES]) __attribute__((warn_unused_result));

/* ---- k-anonymity ------------------------------------------------------------------------ */

#define EXPORT_MAX_QI 8
/* A quasi-identifier's value in a combination: an option index (0 .. 199), or one of these. */
#define EXPORT_QI_NO_ANSWER 250
#define EXPORT_QI_NOT_ASKED 251
#define EXPORT_QI_SUPPRESSED 255

/* What the suppression did, for the console and the codebook. */
struct export_risk {
    size_t k;
    size_t records;
    size_t groups_before, groups_below_k_before, records_below_k_before, smallest_before;
    size_t groups_after, smallest_after;
    size_t records_suppressed; /* records with at least one value suppressed */
    size_t values_suppressed;
    size_t values_suppressed_by_qi[EXPORT_MAX_QI];
    bool achieved; /* every group has at least k records (false only when records < k) */
};

struct export_kanon;

/*
 * A table of combinations of n_qi (1 .. EXPORT_MAX_QI) quasi-identifiers. follows (NULL: none)
 * has n_qi masks: bit i of follows[j] says that quasi-identifier j is shown through i (skip
 * logic), so j's value (or its "not asked") would give i's away: whenever i is suppressed, j
 * is suppressed too. NULL: out of memory or n_qi out of range. export_kanon_free(NULL) does
 * nothing.
 */
struct export_kanon *export_kanon_new(size_t n_qi, const uint8_t *follows)
    __attribute__((warn_unused_result));
void export_kanon_free(struct export_kanon *t);

/* Count one record with these values (n_qi of them, as above). False: out of memory. */
bool export_kanon_add(struct export_kanon *t, const uint8_t *values)
    __attribute__((warn_unused_result));

/*
 * Decide the suppressions for k (>= 1) and fill *risk. While a record's group (the records
 * with the same values, a suppressed value counting as a value of its own) has fewer than k
 * records, its least informative value not yet suppressed is suppressed: the value that the
 * most records share (the lowest self-information, so the least is lost), the later
 * quasi-identifier on a tie; with it go the quasi-identifiers that follow it (export_kanon_new).
 * Records whose values are all suppressed and still too few take in the smallest other groups,
 * whole, until they are k. False: out of memory.
 */
bool export_kanon_plan(struct export_kanon *t, size_t k, struct export_risk *risk)
    __attribute__((warn_unused_result));

/*
 * After export_kanon_plan: the record's values with the planned suppressions applied (in
 * place: a suppressed value becomes EXPORT_QI_SUPPRESSED). Returns the number suppressed. A
 * combination that was never counted has no plan: it fails closed, every value suppressed,
 * and returns -1 (the caller should stop: the counts it planned on were not the data).
 */
int export_kanon_apply(const struct export_kanon *t, uint8_t *values);

#endif
