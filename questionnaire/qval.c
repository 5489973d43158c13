/*
 * Validation and evaluation of one response. The answers object is first mapped onto the
 * questions (one lookup per member), then skip logic and screen-out are computed in the order
 * of asking, then each question's answer is checked against its type and limits.
 */
#include "qval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qjson.h"

/* The answers seen through the definition: one slot per question. */
struct view {
    const cJSON *ans[QDEF_MAX_QUESTIONS];
    bool shown[QDEF_MAX_QUESTIONS];
    int screen_out_rule;
};

/* Map answers onto questions; unknown keys are reported when problems is not NULL. */
static void map_answers(const struct qdef *def, const cJSON *answers, struct view *v,
                        struct qproblems *problems)
{
    memset(v->ans, 0, def->n_questions * sizeof v->ans[0]);
    if (!cJSON_IsObject(answers)) {
        return;
    }
    bool reported_anonymous = false;
    for (const cJSON *m = answers->child; m != NULL; m = m->next) {
        int q = qdef_find_question(def, m->string);
        if (q >= 0) {
            if (v->ans[q] == NULL) {
                v->ans[q] = m;
            }
            continue;
        }
        if (problems == NULL) {
            continue;
        }
        /* Name the key only when it is a plausible id: never echo arbitrary input. */
        if (qdef_is_identifier(m->string, false)) {
            char path[96];
            snprintf(path, sizeof path, "/answers/%s", m->string);
            qproblems_add(problems, path, "unknown_question",
                          "not a question of this questionnaire");
        } else if (!reported_anonymous) {
            reported_anonymous = true;
            qproblems_add(problems, "/answers", "unknown_question",
                          "answers contain a key that is not a question of this questionnaire");
        }
    }
}

static const char *chosen_code(const cJSON *a)
{
    return cJSON_IsString(a) ? a->valuestring : NULL;
}

static bool cond_eval(const struct qdef *def, const struct qdef_cond *c, const struct view *v)
{
    const cJSON *a = NULL;
    if (c->kind < QDEF_COND_ALL) {
        a = v->shown[c->question] ? v->ans[c->question] : NULL;
    }
    const struct qdef_question *qq = c->kind < QDEF_COND_ALL ? &def->questions[c->question] : NULL;
    switch (c->kind) {
    case QDEF_COND_ANSWERED:
        return (a != NULL) == c->flag;
    case QDEF_COND_EQUALS_CODE: {
        const char *code = chosen_code(a);
        return code != NULL && strcmp(code, qq->options[c->option].code) == 0;
    }
    case QDEF_COND_IN: {
        const char *code = chosen_code(a);
        for (size_t i = 0; code != NULL && i < c->n_options; i++) {
            if (strcmp(code, qq->options[c->options[i]].code) == 0) {
                return true;
            }
        }
        return false;
    }
    case QDEF_COND_INCLUDES: {
        if (!cJSON_IsArray(a)) {
            return false;
        }
        for (const cJSON *e = a->child; e != NULL; e = e->next) {
            if (cJSON_IsString(e) && strcmp(e->valuestring, qq->options[c->option].code) == 0) {
                return true;
            }
        }
        return false;
    }
    case QDEF_COND_EQUALS_NUM:
        return cJSON_IsNumber(a) && a->valuedouble == c->num;
    case QDEF_COND_GTE:
        return cJSON_IsNumber(a) && a->valuedouble >= c->num;
    case QDEF_COND_LTE:
        return cJSON_IsNumber(a) && a->valuedouble <= c->num;
    case QDEF_COND_ALL:
        for (size_t i = 0; i < c->n_children; i++) {
            if (!cond_eval(def, c->children[i], v)) {
                return false;
            }
        }
        return true;
    case QDEF_COND_ANY:
        for (size_t i = 0; i < c->n_children; i++) {
            if (cond_eval(def, c->children[i], v)) {
                return true;
            }
        }
        return false;
    case QDEF_COND_NOT:
        return !cond_eval(def, c->children[0], v);
    }
    return false;
}

/* Skip logic in the order of asking, then screen-out: the earliest stopping rule that holds
 * hides every question after its stop point. */
static void compute_shown(const struct qdef *def, struct view *v)
{
    for (size_t i = 0; i < def->n_questions; i++) {
        /* show_if only refers to earlier questions, whose flags are already final. */
        v->shown[i] =
            def->questions[i].show_if == NULL || cond_eval(def, def->questions[i].show_if, v);
    }
    v->screen_out_rule = -1;
    for (size_t r = 0; r < def->n_rules; r++) {
        const struct qdef_rule *rule = &def->rules[r];
        if (cond_eval(def, rule->screen_out_if, v) &&
            (v->screen_out_rule < 0 ||
             rule->stop_after < def->rules[v->screen_out_rule].stop_after)) {
            v->screen_out_rule = (int)r;
        }
    }
    if (v->screen_out_rule >= 0) {
        for (size_t i = (size_t)def->rules[v->screen_out_rule].stop_after + 1; i < def->n_questions;
             i++) {
            v->shown[i] = false;
        }
    }
}

static void build_view(const struct qdef *def, const cJSON *answers, struct view *v,
                       struct qproblems *problems)
{
    map_answers(def, answers, v, problems);
    compute_shown(def, v);
}

/* Decimal digits after the point in the shortest text that reads back as v. */
static int decimals_of(double v)
{
    char buf[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) {
            break;
        }
    }
    /* buf is [-]d.ddde[+-]x: count significant digits, drop trailing zeros. */
    const char *s = buf[0] == '-' ? buf + 1 : buf;
    const char *e = strchr(s, 'e');
    int exponent = e ? atoi(e + 1) : 0;
    int digits = 0, last_nonzero = 0;
    for (const char *c = s; c < (e ? e : s + strlen(s)); c++) {
        if (*c >= '0' && *c <= '9') {
            digits++;
            if (*c != '0') {
                last_nonzero = digits;
            }
        }
    }
    int d = (last_nonzero > 0 ? last_nonzero : 1) - 1 - exponent;
    return d > 0 ? d : 0;
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) {
            return true;
        }
        /* C1 controls U+0080-U+009F are encoded C2 80 - C2 9F. */
        if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            return true;
        }
    }
    return false;
}

/* True when s holds only white space, Unicode spaces included: a comment of U+3000 (the
 * ideographic space of Korean keyboards) or U+00A0 is as empty as one of ASCII spaces. */
static bool is_blank(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
        } else if (p[0] == 0xc2 && p[1] == 0xa0) { /* U+00A0 */
            p += 2;
        } else if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) { /* U+1680 */
            p += 3;
        } else if (p[0] == 0xe2 && p[1] == 0x80 &&
                   ((p[2] >= 0x80 && p[2] <= 0x8b) || p[2] == 0xa8 || p[2] == 0xa9 ||
                    p[2] == 0xaf)) { /* U+2000-U+200B, U+2028, U+2029, U+202F */
            p += 3;
        } else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) { /* U+205F */
            p += 3;
        } else if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) { /* U+3000 */
            p += 3;
        } else if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) { /* U+FEFF */
            p += 3;
        } else {
            return false;
        }
    }
    return true;
}

static bool is_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || strchr(at + 1, '@') != NULL || at - s > 64) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';' ||
            *p == '"' || *p == '\\' || *p == '(' || *p == ')' || *p == '[' || *p == ']') {
            return false;
        }
    }
    const char *domain = at + 1;
    size_t n = strlen(domain);
    if (n < 3 || domain[0] == '.' || domain[n - 1] == '.' || strchr(domain, '.') == NULL ||
        strstr(domain, "..") != NULL || s[0] == '.' || at[-1] == '.') {
        return false;
    }
    return true;
}

static void check_string(const struct qdef_question *qq, const cJSON *a, const char *path,
                         struct qproblems *pr)
{
    if (!cJSON_IsString(a)) {
        qproblems_add(pr, path, "wrong_type", "must be a string");
        return;
    }
    const char *s = a->valuestring;
    if (is_blank(s)) {
        qproblems_add(pr, path, "empty", "must not be empty; leave the question out instead");
    } else if (!qjson_utf8_valid(s, strlen(s))) {
        qproblems_add(pr, path, "invalid_text", "must be valid UTF-8 text");
    } else if (qjson_utf8_length(s) > (size_t)qq->max_length) {
        qproblems_add(pr, path, "too_long", "must be at most %d characters", qq->max_length);
    } else if (has_control(s)) {
        qproblems_add(pr, path, "invalid_text", "must not contain control characters");
    } else if (qq->type == QDEF_EMAIL && !is_email(s)) {
        qproblems_add(pr, path, "invalid_email", "must be an e-mail address");
    }
}

static void check_multiple(const struct qdef_question *qq, const cJSON *a, const char *path,
                           struct qproblems *pr)
{
    if (!cJSON_IsArray(a)) {
        qproblems_add(pr, path, "wrong_type", "must be an array of option codes");
        return;
    }
    bool chosen[QDEF_MAX_OPTIONS] = {false};
    int distinct = 0, elements = 0;
    bool exclusive = false, bad = false;
    size_t i = 0;
    char epath[160];
    for (const cJSON *e = a->child; e != NULL; e = e->next, i++) {
        elements++;
        snprintf(epath, sizeof epath, "%s/%zu", path, i);
        if (!cJSON_IsString(e)) {
            qproblems_add(pr, epath, "wrong_type", "must be an option code");
            bad = true;
            continue;
        }
        int o = -1;
        for (size_t k = 0; k < qq->n_options && o < 0; k++) {
            if (strcmp(qq->options[k].code, e->valuestring) == 0) {
                o = (int)k;
            }
        }
        if (o < 0) {
            qproblems_add(pr, epath, "not_an_option", "is not one of the question's options");
            bad = true;
        } else if (chosen[o]) {
            qproblems_add(pr, epath, "duplicate_choice", "is chosen more than once");
            bad = true;
        } else {
            chosen[o] = true;
            distinct++;
            exclusive |= qq->options[o].exclusive;
        }
    }
    if (bad) {
        return;
    }
    if (distinct < qq->min_choices) {
        qproblems_add(pr, path, "too_few_choices", "must choose at least %d", qq->min_choices);
    } else if (distinct > qq->max_choices) {
        qproblems_add(pr, path, "too_many_choices", "must choose at most %d", qq->max_choices);
    } else if (exclusive && elements > 1) {
        qproblems_add(pr, path, "exclusive_option",
                      "an exclusive option cannot be chosen with another");
    }
}

static void check_number(const struct qdef_question *qq, const cJSON *a, const char *path,
                         struct qproblems *pr)
{
    if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble)) {
        qproblems_add(pr, path, "wrong_type", "must be a number");
        return;
    }
    double x = a->valuedouble;
    if ((qq->has_min && x < qq->min) || (qq->has_max && x > qq->max)) {
        if (qq->has_min && qq->has_max) {
            qproblems_add(pr, path, "out_of_range", "must be from %g to %g", qq->min, qq->max);
        } else if (qq->has_min) {
            qproblems_add(pr, path, "out_of_range", "must be at least %g", qq->min);
        } else {
            qproblems_add(pr, path, "out_of_range", "must be at most %g", qq->max);
        }
    } else if (decimals_of(x) > qq->decimals) {
        if (qq->decimals == 0) {
            qproblems_add(pr, path, "too_many_decimals", "must be a whole number");
        } else {
            qproblems_add(pr, path, "too_many_decimals", "must have at most %d decimal%s",
                          qq->decimals, qq->decimals == 1 ? "" : "s");
        }
    }
}

void qval_validate(const struct qdef *def, const cJSON *answers, struct qproblems *problems,
                   struct qval_outcome *outcome)
{
    struct view *v = malloc(sizeof *v);
    outcome->screened_out = false;
    outcome->screen_out_rule = -1;
    if (v == NULL) {
        problems->no_memory = 1;
        return;
    }
    if (!cJSON_IsObject(answers)) {
        qproblems_add(problems, "/answers", "wrong_type", "must be an object");
        free(v);
        return;
    }
    build_view(def, answers, v, problems);
    outcome->screen_out_rule = v->screen_out_rule;
    outcome->screened_out = v->screen_out_rule >= 0;
    for (size_t i = 0; i < def->n_questions; i++) {
        const struct qdef_question *qq = &def->questions[i];
        const cJSON *a = v->ans[i];
        char path[96];
        snprintf(path, sizeof path, "/answers/%s", qq->id);
        if (!v->shown[i]) {
            if (a != NULL) {
                qproblems_add(problems, path, "not_shown",
                              "answers a question that was not shown; leave it out");
            }
            continue;
        }
        if (a == NULL) {
            if (qq->required) {
                qproblems_add(problems, path, "required", "is required");
            }
            continue;
        }
        switch (qq->type) {
        case QDEF_SINGLE: {
            const char *code = chosen_code(a);
            if (code == NULL) {
                qproblems_add(problems, path, "wrong_type", "must be an option code (a string)");
            } else if (qdef_find_option(def, (int)i, code) < 0) {
                qproblems_add(problems, path, "not_an_option",
                              "is not one of the question's options");
            }
            break;
        }
        case QDEF_MULTIPLE:
            check_multiple(qq, a, path, problems);
            break;
        case QDEF_NUMBER:
            check_number(qq, a, path, problems);
            break;
        case QDEF_TEXT:
        case QDEF_EMAIL:
            check_string(qq, a, path, problems);
            break;
        }
    }
    if (problems->truncated && problems->count > 0) {
        /* Say so in the list itself, replacing the last entry. */
        struct qproblem *last = &problems->items[problems->count - 1];
        char *path = strdup("/answers");
        char *message = strdup("more problems were found than are listed");
        if (path != NULL && message != NULL) {
            free(last->path);
            free(last->message);
            last->path = path;
            last->message = message;
            last->code = "too_many_problems";
        } else {
            free(path);
            free(message);
        }
    }
    free(v);
}

int qval_shown(const struct qdef *def, const cJSON *answers, bool *shown)
{
    struct view *v = malloc(sizeof *v);
    if (v == NULL) {
        memset(shown, 0, def->n_questions * sizeof *shown);
        return -1;
    }
    build_view(def, answers, v, NULL);
    memcpy(shown, v->shown, def->n_questions * sizeof *shown);
    int rule = v->screen_out_rule;
    free(v);
    return rule;
}

bool qval_cond(const struct qdef *def, const struct qdef_cond *cond, const cJSON *answers,
               const bool *shown)
{
    struct view *v = malloc(sizeof *v);
    if (v == NULL) {
        return false;
    }
    map_answers(def, answers, v, NULL);
    for (size_t i = 0; i < def->n_questions; i++) {
        v->shown[i] = shown == NULL || shown[i];
    }
    bool result = cond_eval(def, cond, v);
    free(v);
    return result;
}

static enum qval_indicator indicator_of(const struct qdef *def, size_t k, const struct view *v)
{
    const struct qdef_indicator *ind = &def->indicators[k];
    if (v->screen_out_rule >= 0) {
        return QVAL_NOT_IN_BASE;
    }
    for (size_t i = 0; i < ind->n_questions; i++) {
        int q = ind->questions[i];
        if (!v->shown[q] || v->ans[q] == NULL) {
            return QVAL_NOT_IN_BASE;
        }
    }
    return cond_eval(def, ind->when, v) ? QVAL_TRUE : QVAL_FALSE;
}

enum qval_indicator qval_indicator(const struct qdef *def, size_t indicator, const cJSON *answers)
{
    struct view *v = malloc(sizeof *v);
    if (v == NULL || indicator >= def->n_indicators) {
        free(v);
        return QVAL_NOT_IN_BASE;
    }
    build_view(def, answers, v, NULL);
    enum qval_indicator r = indicator_of(def, indicator, v);
    free(v);
    return r;
}

static bool score_of(const struct qdef *def, const struct view *v, double *pillars, double *score)
{
    bool complete = def->has_composite && def->n_pillars > 0 && v->screen_out_rule < 0;
    double sum = 0;
    for (size_t p = 0; p < def->n_pillars; p++) {
        const struct qdef_pillar *pl = &def->pillars[p];
        double item_sum = 0;
        int items = 0;
        for (size_t k = 0; k < pl->n_items; k++) {
            int q = pl->items[k].question;
            const char *code = q >= 0 && v->shown[q] ? chosen_code(v->ans[q]) : NULL;
            int o = code ? qdef_find_option(def, q, code) : -1;
            if (o >= 0) {
                item_sum += pl->items[k].scores[o];
                items++;
            }
        }
        pillars[p] = items > 0 ? item_sum / items : NAN;
        if (items == 0) {
            complete = false;
        } else {
            sum += pillars[p];
        }
    }
    *score = complete ? sum / (double)def->n_pillars : NAN;
    return complete;
}

bool qval_score(const struct qdef *def, const cJSON *answers, double *pillars, double *score)
{
    struct view *v = malloc(sizeof *v);
    if (v == NULL) {
        *score = NAN;
        return false;
    }
    build_view(def, answers, v, NULL);
    bool ok = score_of(def, v, pillars, score);
    free(v);
    return ok;
}

bool qval_evaluate(const struct qdef *def, const cJSON *answers, signed char *indicators,
                   double *pillars, double *score)
{
    struct view *v = malloc(sizeof *v);
    if (v == NULL) {
        for (size_t k = 0; k < def->n_indicators; k++) {
            indicators[k] = QVAL_NOT_IN_BASE;
        }
        *score = NAN;
        return false;
    }
    build_view(def, answers, v, NULL);
    for (size_t k = 0; k < def->n_indicators; k++) {
        indicators[k] = (signed char)indicator_of(def, k, v);
    }
    score_of(def, v, pillars, score);
    bool screened = v->screen_out_rule >= 0;
    free(v);
    return screened;
}
