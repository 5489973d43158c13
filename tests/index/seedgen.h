/*
 * The seed study as data: a deterministic set of 424 complete, eligible responses to the bundled
 * questionnaire (genai-adoption-2025) whose unweighted indicator counts reproduce the published
 * Korean table (PRODUCT.md) when rounded to whole percent, plus 20 screened-out respondents
 * (role "other" and nothing else). Every response is kept both as its coded values and as the
 * answers JSON a respondent's browser would send. The composite score of each eligible response
 * is computed here from PRODUCT.md's item scores, independently of the questionnaire's data.
 */
#ifndef SURVEY_SEEDGEN_H
#define SURVEY_SEEDGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SEED_ELIGIBLE 424
#define SEED_SCREENED_OUT 20
#define SEED_TOTAL (SEED_ELIGIBLE + SEED_SCREENED_OUT)
#define SEED_N_INDICATORS 14
#define SEED_ANSWERS_MAX 1536

/* Option indexes, in the questionnaire's order. */
enum { IND_FINANCE, IND_ICT, IND_MANUFACTURING, IND_RETAIL, IND_OTHER, N_INDUSTRY };
enum { SIZE_SMALL, SIZE_MID, SIZE_LARGE, N_SIZE };
enum { REG_SEOUL, REG_GYEONGGI_INCHEON, REG_OTHER, N_REGION };
enum { STAGE_NONE, STAGE_EXPLORING, STAGE_EXPERIMENTING, STAGE_PRODUCTION, N_STAGE };
enum { BUD_GENAI, BUD_SECURITY, BUD_COMPUTE, BUD_OTHER, N_BUDGET };
enum { CAIO_APPOINTED, CAIO_PLANNED, CAIO_NO, N_CAIO };
enum { PLAN_IN_PLACE, PLAN_PLANNED_2025, PLAN_NO_PLAN, N_PLAN }; /* change_mgmt, training */
enum { HIRE_YES, HIRE_NO, HIRE_UNSURE, N_HIRE };
enum { ROLE_C_LEVEL, ROLE_VP_DIRECTOR, ROLE_HEAD_OF_IT, ROLE_OTHER, N_ROLE };
/* approach, as bits */
enum {
    APP_GENERAL_PURPOSE = 1u << 0,
    APP_CUSTOM_ON_PRETRAINED = 1u << 1,
    APP_FINE_TUNE_OWN_DATA = 1u << 2,
    APP_BUILD_FROM_SCRATCH = 1u << 3,
    APP_UNDECIDED = 1u << 4
};

extern const char *const seed_industry_codes[N_INDUSTRY];
extern const char *const seed_size_codes[N_SIZE];

struct seed_response {
    char submission_id[37];
    bool screened_out;
    /* The coded answers (meaningless when screened_out, except role). */
    int role, industry, company_size, region, genai_stage, budget, caio, change_mgmt, training,
        hiring;
    unsigned approach;  /* APP_* bits */
    unsigned use_cases; /* bits in the questionnaire's order; 0 when not shown */
    bool has_comment, has_email;
    char comment_marker[32]; /* a string that appears only in this response's comment */
    char email[48];
    double score; /* the composite from PRODUCT.md's item scores; NAN when screened out */
    char answers[SEED_ANSWERS_MAX];
};

/* The 14 published indicators of PRODUCT.md, in the questionnaire's order. */
struct seed_indicator {
    const char *id;
    int published; /* percent */
    bool multi_select;
};
extern const struct seed_indicator seed_indicators[SEED_N_INDICATORS];

/* Fill r[SEED_TOTAL] (the same every time): eligible and screened-out responses interleaved, each
 * with a distinct submission id (sd_uuid layout with prefix 0x5eed0000 | wave_tag). */
void seedgen_generate(struct seed_response r[SEED_TOTAL], unsigned wave_tag);

/* 1 when response r is counted by indicator k (0 .. SEED_N_INDICATORS - 1), else 0. */
int seedgen_indicator(const struct seed_response *r, int k);

/* Count each indicator over the eligible responses: x[k]. Returns the number of eligible
 * responses. */
size_t seedgen_counts(const struct seed_response r[], size_t n, size_t x[SEED_N_INDICATORS]);

/* Check the set against the published table and the questionnaire's rules; every problem is
 * printed. True when there is none. */
bool seedgen_check(const struct seed_response r[SEED_TOTAL]);

/* Print the counts table (indicator, count, percent, rounded, published) to f. */
void seedgen_print_table(const struct seed_response r[SEED_TOTAL], FILE *out);

#endif
