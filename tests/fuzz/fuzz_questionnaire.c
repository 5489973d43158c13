/*
 * libFuzzer target for the questionnaire core: every input is compiled as a definition and, as
 * answers, validated and evaluated against the bundled questionnaire (loaded once at start).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "qdef.h"
#include "qjson.h"
#include "qval.h"

#include "bundled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct qdef *bundled;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (bundled == NULL) {
        bundled = fuzz_bundled_definition();
    }
    struct qproblems pr;
    qproblems_init(&pr, 256);
    struct qdef *def = qdef_load((const char *)data, size, &pr);
    qdef_free(def);
    qproblems_clear(&pr);

    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err;
    cJSON *answers = qjson_parse((const char *)data, size, &limits, &err, NULL);
    if (answers == NULL) {
        return 0;
    }
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(answers, "answers");
    const cJSON *a = inner != NULL ? inner : answers;
    qproblems_init(&pr, QVAL_MAX_PROBLEMS);
    struct qval_outcome outcome;
    qval_validate(bundled, a, &pr, &outcome);
    qproblems_clear(&pr);
    for (size_t i = 0; i < bundled->n_indicators; i++) {
        (void)qval_indicator(bundled, i, a);
    }
    double pillars[16], score;
    (void)qval_score(bundled, a, pillars, &score);
    cJSON_Delete(answers);
    return 0;
}
