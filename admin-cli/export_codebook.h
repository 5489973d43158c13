/*
 * The export's codebook: every column with its question's wording in every language, type,
 * codes and labels, base and missing codes; what was withheld and how (the anonymisation and
 * its risk report); the wave's metadata and study description. Built once as a JSON document;
 * the Markdown form is rendered from that document, so the two never disagree.
 */
#ifndef SURVEY_ADMIN_EXPORT_CODEBOOK_H
#define SURVEY_ADMIN_EXPORT_CODEBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "export_anon.h"
#include "export_layout.h"
#include "export_write.h"

/* Top-coding of one number question: of its n answers the top m = max(1, ceil(n x (100 -
 * percentile) / 100)) are capped at the largest answer below them, the (m+1)-th largest. */
struct export_topcode {
    int question;
    bool applied; /* false: --top-code 100, or fewer than 2 answers (nothing to cap at) */
    double cap;   /* larger answers become this */
    size_t answers, tail, top_coded; /* n, m, and the answers that were above the cap */
};

struct export_meta {
    const char *wave, *status, *access, *opened_at, *closed_at, *created_at;
    const char *margins_json, *about_json; /* NULL when the wave has none */
    const char *questionnaire_sha256;
    bool provisional;
    bool keyed; /* pseudonyms from a key (stable), or from a random key of this export */
    enum export_format format;
    size_t responses_total, screened_out, rows;
    struct export_risk risk;
    size_t cells_following; /* cells suppressed with a quasi-identifier they are shown through */
    double max_suppressed_share;
    double top_code_percentile;
    const struct export_topcode *topcodes;
    size_t n_topcodes;
};

/* The codebook as JSON, owned by the caller (cJSON_Delete); NULL when out of memory. */
cJSON *export_codebook_json(const struct export_layout *layout, const struct export_meta *meta)
    __attribute__((warn_unused_result));

/* The Markdown form of a codebook document in lang (a language of the questionnaire; texts
 * missing in it fall back to English, then to any). */
void export_codebook_markdown(FILE *out, const cJSON *doc, const char *lang);

/* Print the risk report, a few lines, to out (the console). */
void export_risk_print(FILE *out, const struct export_risk *risk, const struct export_layout *l);

#endif
