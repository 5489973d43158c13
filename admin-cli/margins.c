/*
 * Checking a margins document. Shares or counts are both accepted because raking only uses
 * each variable's proportions; what must hold is that every category of the questionnaire has
 * a positive mass (a zero margin cannot be raked to) and that no unknown category slips in.
 */
#include "margins.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qjson.h"

/* "/<token>" or "/<token>/<token>", escaped as RFC 6901 wants. */
static void margins_path(char *buf, size_t size, const char *a, const char *b)
{
    char ea[256], eb[256];
    if (qproblems_pointer_escape(ea, sizeof ea, a) != 0) {
        snprintf(ea, sizeof ea, "(a long key)");
    }
    if (b == NULL) {
        snprintf(buf, size, "/%s", ea);
        return;
    }
    if (qproblems_pointer_escape(eb, sizeof eb, b) != 0) {
        snprintf(eb, sizeof eb, "(a long key)");
    }
    snprintf(buf, size, "/%s/%s", ea, eb);
}

/* The categories of one variable: every option given once, each a finite number > 0. */
static void margins_check_variable(const struct qdef *def, int q, const cJSON *value,
                                   struct qproblems *problems)
{
    const struct qdef_question *question = &def->questions[q];
    char path[600];
    margins_path(path, sizeof path, question->id, NULL);
    if (!cJSON_IsObject(value)) {
        qproblems_add(problems, path, "wrong_type",
                      "margins of \"%s\" must be an object mapping each of its %zu options to a "
                      "share or count",
                      question->id, question->n_options);
        return;
    }
    for (const cJSON *m = value->child; m != NULL; m = m->next) {
        margins_path(path, sizeof path, question->id, m->string);
        if (qdef_find_option(def, q, m->string) < 0) {
            qproblems_add(problems, path, "not_an_option",
                          "\"%s\" is not an option of question \"%s\"", m->string, question->id);
        } else if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || !(m->valuedouble > 0)) {
            qproblems_add(problems, path, "out_of_range",
                          "the share or count must be a finite number greater than 0");
        }
    }
    margins_path(path, sizeof path, question->id, NULL);
    for (size_t o = 0; o < question->n_options; o++) {
        const char *code = question->options[o].code;
        if (cJSON_GetObjectItemCaseSensitive(value, code) == NULL) {
            qproblems_add(problems, path, "required",
                          "option \"%s\" of \"%s\" has no share or count", code, question->id);
        }
    }
}

void margins_check(const struct qdef *def, const char *text, size_t len, struct qproblems *problems)
{
    static const struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err = QJSON_OK;
    size_t offset = 0;
    cJSON *root = qjson_parse(text, len, &limits, &err, &offset);
    if (root == NULL) {
        qproblems_add(problems, "", "invalid_json", "not valid JSON: %s at byte %zu",
                      qjson_strerror(err), offset);
        return;
    }
    if (!cJSON_IsObject(root) || root->child == NULL) {
        qproblems_add(problems, "", "wrong_type",
                      "margins must be a JSON object mapping at least one single-choice question "
                      "to the shares or counts of its options");
        cJSON_Delete(root);
        return;
    }
    for (const cJSON *v = root->child; v != NULL; v = v->next) {
        char path[300];
        margins_path(path, sizeof path, v->string, NULL);
        int q = qdef_find_question(def, v->string);
        if (q < 0) {
            qproblems_add(problems, path, "unknown_question",
                          "\"%s\" is not a question of questionnaire %s", v->string, def->id);
        } else if (def->questions[q].type != QDEF_SINGLE) {
            qproblems_add(problems, path, "wrong_type",
                          "question \"%s\" is a %s question; margins need a single-choice question",
                          v->string, qdef_type_name(def->questions[q].type));
        } else {
            margins_check_variable(def, q, v, problems);
        }
    }
    cJSON_Delete(root);
}
