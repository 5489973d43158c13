/*
 * libFuzzer target for the validator: every input is parsed as strict JSON (the daemon's
 * limits) and validated as a respondent's answers against the bundled questionnaire, loaded
 * once. Beyond "no crash", it checks what the daemon and the index rely on: problems are
 * bounded, well-formed and repeatable; a valid response evaluates to indicators in {-1, 0, 1}
 * and scores in [0, 100] whichever function computes them; and a valid response stays valid,
 * with the same outcome, after the re-serialisation that stores it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdef.h"
#include "qjson.h"
#include "qval.h"

#include "bundled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PILLARS 16

static struct qdef *bundled;

/* A violated property: say which, and crash so that libFuzzer keeps the input. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_validator: property failed: %s\n", #cond);                       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Problems are few, under /answers, with a code and a well-formed message. */
static void check_problems(const struct qproblems *pr)
{
    REQUIRE(pr->count <= QVAL_MAX_PROBLEMS);
    for (size_t i = 0; i < pr->count; i++) {
        const struct qproblem *p = &pr->items[i];
        REQUIRE(p->path != NULL && strncmp(p->path, "/answers", 8) == 0);
        REQUIRE(p->path[8] == '\0' || p->path[8] == '/');
        REQUIRE(qjson_utf8_valid(p->path, strlen(p->path)));
        REQUIRE(p->code != NULL && p->code[0] != '\0');
        REQUIRE(p->message != NULL && p->message[0] != '\0');
        REQUIRE(qjson_utf8_valid(p->message, strlen(p->message)));
    }
}

static bool same_problems(const struct qproblems *a, const struct qproblems *b)
{
    if (a->count != b->count || a->truncated != b->truncated) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i].path, b->items[i].path) != 0 ||
            strcmp(a->items[i].code, b->items[i].code) != 0) {
            return false;
        }
    }
    return true;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* A valid response: evaluate, and compare with the one-at-a-time functions. */
static void check_valid(const cJSON *answers, const struct qval_outcome *outcome)
{
    REQUIRE(cJSON_IsObject(answers));
    size_t ni = bundled->n_indicators, np = bundled->n_pillars;
    REQUIRE(np <= FUZZ_MAX_PILLARS);
    signed char *ind = calloc(ni ? ni : 1, 1);
    REQUIRE(ind != NULL);
    double pillars[FUZZ_MAX_PILLARS], score;
    bool screened = qval_evaluate(bundled, answers, ind, pillars, &score);
    REQUIRE(screened == outcome->screened_out);
    for (size_t i = 0; i < ni; i++) {
        REQUIRE(ind[i] == QVAL_NOT_IN_BASE || ind[i] == QVAL_FALSE || ind[i] == QVAL_TRUE);
        REQUIRE((int)ind[i] == (int)qval_indicator(bundled, i, answers));
        if (screened) {
            REQUIRE(ind[i] == QVAL_NOT_IN_BASE);
        }
    }
    for (size_t i = 0; i < np; i++) {
        REQUIRE(isnan(pillars[i]) || (pillars[i] >= 0.0 && pillars[i] <= 100.0));
    }
    REQUIRE(isnan(score) || (score >= 0.0 && score <= 100.0));
    double pillars2[FUZZ_MAX_PILLARS], score2;
    bool in_base = qval_score(bundled, answers, pillars2, &score2);
    REQUIRE(in_base == !isnan(score2));
    REQUIRE(same_double(score, score2));
    free(ind);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (bundled == NULL) {
        bundled = fuzz_bundled_definition();
    }
    struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err;
    cJSON *answers = qjson_parse((const char *)data, size, &limits, &err, NULL);
    if (answers == NULL) {
        return 0;
    }
    struct qproblems pr, again;
    qproblems_init(&pr, QVAL_MAX_PROBLEMS);
    qproblems_init(&again, QVAL_MAX_PROBLEMS);
    struct qval_outcome outcome, outcome2;
    qval_validate(bundled, answers, &pr, &outcome);
    check_problems(&pr);
    /* The same input, the same verdict. */
    qval_validate(bundled, answers, &again, &outcome2);
    REQUIRE(same_problems(&pr, &again));
    REQUIRE(outcome.screened_out == outcome2.screened_out);
    qproblems_clear(&again);

    if (pr.count == 0 && !pr.no_memory) {
        check_valid(answers, &outcome);
        /* What is stored is the parse re-serialised: it must read back the same. */
        char *text = cJSON_PrintUnformatted(answers);
        REQUIRE(text != NULL);
        cJSON *back = qjson_parse(text, strlen(text), &limits, &err, NULL);
        REQUIRE(back != NULL);
        qval_validate(bundled, back, &again, &outcome2);
        REQUIRE(again.count == 0);
        REQUIRE(outcome2.screened_out == outcome.screened_out);
        check_valid(back, &outcome2);
        qproblems_clear(&again);
        cJSON_Delete(back);
        free(text);
    }
    qproblems_clear(&pr);
    cJSON_Delete(answers);
    return 0;
}
