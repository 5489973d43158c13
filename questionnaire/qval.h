/*
 * Validation and evaluation of one response against a compiled definition: the list of
 * problems, whether the respondent is screened out, the indicators and the composite score.
 * Pure functions over cJSON trees produced by qjson_parse.
 */
#ifndef SURVEY_QVAL_H
#define SURVEY_QVAL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "qdef.h"
#include "qproblem.h"

#define QVAL_MAX_PROBLEMS 64

struct qval_outcome {
    bool screened_out;
    int screen_out_rule; /* index into def->rules, or -1 */
};

/*
 * Validate answers (the value of the request's "answers" member; may be any JSON value).
 * Problems are appended to problems (initialised by the caller, typically with
 * QVAL_MAX_PROBLEMS); the response is valid when none was added. outcome is filled either way.
 * Paths are prefixed with "/answers".
 */
void qval_validate(const struct qdef *def, const cJSON *answers, struct qproblems *problems,
                   struct qval_outcome *outcome);

/*
 * Which questions are shown, given the answers, in the order of asking (hidden questions count
 * as unanswered for later conditions). shown must have def->n_questions entries. Returns the
 * eligibility rule that screens the response out, or -1.
 */
int qval_shown(const struct qdef *def, const cJSON *answers, bool *shown);

/* Evaluate a condition on answers, with shown as computed by qval_shown (NULL: all shown). */
bool qval_cond(const struct qdef *def, const struct qdef_cond *cond, const cJSON *answers,
               const bool *shown);

enum qval_indicator { QVAL_NOT_IN_BASE = -1, QVAL_FALSE = 0, QVAL_TRUE = 1 };

/* One indicator for one valid response. Screened-out responses are never in a base. */
enum qval_indicator qval_indicator(const struct qdef *def, size_t indicator, const cJSON *answers);

/*
 * The composite for one valid response: fills pillars[def->n_pillars] (NaN for a pillar without
 * an answered item) and *score. Returns false, with *score NaN, when the response is outside the
 * composite's base (screened out, no composite, or a pillar without a score).
 */
bool qval_score(const struct qdef *def, const cJSON *answers, double *pillars, double *score);

/*
 * Everything the index needs from one valid response, with one pass over its answers:
 * indicators[def->n_indicators] (enum qval_indicator values), pillars[def->n_pillars], *score
 * (NaN outside the composite's base). Returns true when the response is screened out.
 */
bool qval_evaluate(const struct qdef *def, const cJSON *answers, signed char *indicators,
                   double *pillars, double *score);

#endif
