/*
 * Indicators and the composite score of one response: the 14 published indicators of the
 * bundled questionnaire, their bases, and the Generative AI Adoption Index computed by hand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qval.h"
#include "unit_helpers.h"

static const char *const indicator_ids[14] = {
    "production",
    "experimenting",
    "hiring_2025",
    "budget_top_genai",
    "budget_top_security",
    "budget_top_compute",
    "caio_appointed",
    "change_mgmt_in_place",
    "change_mgmt_planned_2025",
    "training_in_place",
    "training_planned_2025",
    "approach_general_purpose",
    "approach_custom_pretrained",
    "approach_fine_tune",
};

static struct qdef *bundled(void)
{
    static struct qdef *def;
    if (def == NULL)
        def = unit_load_bundled();
    return def;
}

/*
 * A complete response to the bundled questionnaire from the answers that matter to the index;
 * use_cases is included exactly when it is shown. It must validate without a problem.
 */
static cJSON *response(const char *role, const char *stage, const char *budget, const char *caio,
                       const char *change, const char *training, const char *hiring,
                       const char *approach)
{
    char text[1024];
    bool uses = strcmp(stage, "experimenting") == 0 || strcmp(stage, "production") == 0;
    snprintf(text, sizeof text,
             "{'role':'%s','industry':'ict','company_size':'mid','region':'gyeonggi_incheon',"
             "'genai_stage':'%s',%s'budget_top_priority':'%s','caio':'%s','change_mgmt':'%s',"
             "'training':'%s','hiring_genai_2025':'%s','approach':%s}",
             role, stage, uses ? "'use_cases':['marketing','analytics']," : "", budget, caio,
             change, training, hiring, approach);
    cJSON *a = unit_json(text);
    const struct qdef *def = bundled();
    if (def != NULL && a != NULL && strcmp(role, "other") != 0) {
        struct qproblems p;
        struct qval_outcome out;
        qproblems_init(&p, QVAL_MAX_PROBLEMS);
        qval_validate(def, a, &p, &out);
        CHECK(p.count == 0);
        CHECK(!out.screened_out);
        if (p.count != 0)
            unit_print_problems(&p);
        qproblems_clear(&p);
    }
    return a;
}

/* Every indicator of the bundled questionnaire on answers, in the order of indicator_ids. */
static void check_indicators(cJSON *answers, const enum qval_indicator expected[14], int line)
{
    const struct qdef *def = bundled();
    if (def == NULL || answers == NULL) {
        cJSON_Delete(answers);
        return;
    }
    for (size_t i = 0; i < 14; i++) {
        int ind = unit_indicator(def, indicator_ids[i]);
        CHECK(ind >= 0);
        if (ind < 0)
            continue;
        enum qval_indicator got = qval_indicator(def, (size_t)ind, answers);
        if (got != expected[i]) {
            fprintf(stderr, "  line %d: indicator %s is %d, expected %d\n", line, indicator_ids[i],
                    (int)got, (int)expected[i]);
            testlib_failed_checks++;
        }
    }
    cJSON_Delete(answers);
}

#define T QVAL_TRUE
#define F QVAL_FALSE
#define N QVAL_NOT_IN_BASE

static void test_bundled_has_the_fourteen_indicators(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    for (size_t i = 0; i < 14; i++)
        CHECK(unit_indicator(def, indicator_ids[i]) == (int)i);
}

static void test_leading_adopter_is_true_where_expected(void)
{
    static const enum qval_indicator expected[14] = {T, T, T, T, F, F, T, T, F, T, F, T, T, T};
    check_indicators(response("c_level", "production", "genai", "appointed", "in_place", "in_place",
                              "yes",
                              "['general_purpose','custom_on_pretrained','fine_tune_own_data']"),
                     expected, __LINE__);
}

static void test_experimenter_counts_as_experimenting_not_production(void)
{
    static const enum qval_indicator expected[14] = {F, T, F, F, T, F, F, F, T, F, T, F, F, F};
    check_indicators(response("vp_director", "experimenting", "security", "planned", "planned_2025",
                              "planned_2025", "no", "['undecided']"),
                     expected, __LINE__);
}

static void test_production_counts_as_experimenting(void)
{
    static const enum qval_indicator expected[14] = {T, T, F, F, F, T, F, F, F, F, F, F, T, F};
    check_indicators(response("head_of_it", "production", "compute", "no", "no_plan", "no_plan",
                              "unsure", "['custom_on_pretrained','build_from_scratch']"),
                     expected, __LINE__);
}

static void test_non_adopters_are_false_not_outside_the_base(void)
{
    static const enum qval_indicator none[14] = {F, F, F, F, F, T, F, F, F, F, F, F, F, F};
    check_indicators(response("c_level", "none", "compute", "no", "no_plan", "no_plan", "unsure",
                              "['build_from_scratch']"),
                     none, __LINE__);
    static const enum qval_indicator exploring[14] = {F, F, T, F, F, F, F, F, F, F, F, F, F, T};
    check_indicators(response("c_level", "exploring", "other", "planned", "no_plan", "no_plan",
                              "yes", "['fine_tune_own_data']"),
                     exploring, __LINE__);
}

static void test_screened_out_response_is_in_no_base(void)
{
    static const enum qval_indicator expected[14] = {N, N, N, N, N, N, N, N, N, N, N, N, N, N};
    check_indicators(unit_json("{'role':'other'}"), expected, __LINE__);
    /* Even when the screened-out respondent answered everything. */
    check_indicators(response("other", "production", "genai", "appointed", "in_place", "in_place",
                              "yes", "['general_purpose']"),
                     expected, __LINE__);
}

static void test_unanswered_question_is_outside_the_base(void)
{
    struct qdef *def = unit_load_ok(
        DEF(SINGLE("a", "") "," SINGLE("b", ""),
            ",'indicators':[{'id':'ax','label':" LBL ",'when':{'question':'a','equals':'x'}},"
            "{'id':'not_ax','label':" LBL ",'when':{'not':{'question':'a','equals':'x'}}},"
            "{'id':'ax_or_by','label':" LBL ",'when':{'any':[{'question':'a','equals':'x'},"
            "{'question':'b','equals':'y'}]}}]"));
    if (def == NULL)
        return;
    cJSON *empty = unit_json("{}");
    cJSON *ax = unit_json("{'a':'x'}");
    cJSON *ay = unit_json("{'a':'y'}");
    cJSON *ax_by = unit_json("{'a':'x','b':'y'}");
    cJSON *az_bz = unit_json("{'a':'z','b':'z'}");
    CHECK(qval_indicator(def, 0, empty) == N);
    CHECK(qval_indicator(def, 1, empty) == N); /* "not" does not bring an unanswered one in */
    CHECK(qval_indicator(def, 0, ax) == T);
    CHECK(qval_indicator(def, 1, ax) == F);
    CHECK(qval_indicator(def, 0, ay) == F);
    CHECK(qval_indicator(def, 1, ay) == T);
    /* In the base only when every question the condition refers to was answered. */
    CHECK(qval_indicator(def, 2, ax) == N);
    CHECK(qval_indicator(def, 2, ax_by) == T);
    CHECK(qval_indicator(def, 2, az_bz) == F);
    cJSON_Delete(empty);
    cJSON_Delete(ax);
    cJSON_Delete(ay);
    cJSON_Delete(ax_by);
    cJSON_Delete(az_bz);
    qdef_free(def);
}

static void test_use_cases_indicator_is_outside_the_base_when_genai_stage_is_none(void)
{
    /* The bundled definition with one more indicator on the use_cases question. */
    size_t len = 0;
    char *text = unit_read_file(BUNDLED_PATH, &len);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    cJSON *tree = cJSON_ParseWithLength(text, len);
    free(text);
    CHECK(tree != NULL);
    if (tree == NULL)
        return;
    cJSON *extra =
        unit_json("{'id':'uses_marketing','label':{'ko':'마케팅 활용','en':'Uses it in marketing'},"
                  "'when':{'question':'use_cases','includes':'marketing'}}");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(tree, "indicators"), extra);
    char *printed = cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    struct qproblems p;
    qproblems_init(&p, 100);
    struct qdef *def = qdef_load(printed, strlen(printed), &p);
    free(printed);
    CHECK(def != NULL);
    CHECK(p.count == 0);
    qproblems_clear(&p);
    if (def == NULL)
        return;
    int ind = unit_indicator(def, "uses_marketing");
    CHECK(ind == 14);
    CHECK(def->indicators[ind].multi_select);
    cJSON *none =
        response("c_level", "none", "genai", "no", "no_plan", "no_plan", "no", "['undecided']");
    cJSON *exploring = response("c_level", "exploring", "genai", "no", "no_plan", "no_plan", "no",
                                "['undecided']");
    cJSON *prod = response("c_level", "production", "genai", "no", "no_plan", "no_plan", "no",
                           "['undecided']");
    cJSON *prod_other = unit_json("{'role':'c_level','industry':'ict','company_size':'mid',"
                                  "'region':'seoul','genai_stage':'production',"
                                  "'use_cases':['analytics'],'budget_top_priority':'genai',"
                                  "'caio':'no','change_mgmt':'no_plan','training':'no_plan',"
                                  "'hiring_genai_2025':'no','approach':['undecided']}");
    CHECK(qval_indicator(def, (size_t)ind, none) == N);
    CHECK(qval_indicator(def, (size_t)ind, exploring) == N);
    CHECK(qval_indicator(def, (size_t)ind, prod) == T); /* response() chooses marketing */
    CHECK(qval_indicator(def, (size_t)ind, prod_other) == F);
    cJSON_Delete(none);
    cJSON_Delete(exploring);
    cJSON_Delete(prod);
    cJSON_Delete(prod_other);
    qdef_free(def);
}

static void test_indicator_on_a_hidden_question_is_outside_the_base(void)
{
    struct qdef *def = unit_load_ok(
        DEF(SINGLE("a", "") "," SINGLE("b", ",'show_if':{'question':'a','equals':'x'}"),
            ",'indicators':[{'id':'by','label':" LBL ",'when':{'question':'b','equals':'y'}}]"));
    if (def == NULL)
        return;
    cJSON *hidden = unit_json("{'a':'z'}");
    cJSON *shown_y = unit_json("{'a':'x','b':'y'}");
    cJSON *shown_z = unit_json("{'a':'x','b':'z'}");
    CHECK(qval_indicator(def, 0, hidden) == N);
    CHECK(qval_indicator(def, 0, shown_y) == T);
    CHECK(qval_indicator(def, 0, shown_z) == F);
    cJSON_Delete(hidden);
    cJSON_Delete(shown_y);
    cJSON_Delete(shown_z);
    qdef_free(def);
}

/* ---- the composite ------------------------------------------------------------------------ */

/* Score a response to the bundled questionnaire and compare with the expected pillars. */
static void check_score(cJSON *answers, const double expected_pillars[5], double expected, int line)
{
    const struct qdef *def = bundled();
    if (def == NULL || answers == NULL || def->n_pillars != 5) {
        cJSON_Delete(answers);
        return;
    }
    double pillars[5] = {-1, -1, -1, -1, -1};
    double score = -1;
    bool in_base = qval_score(def, answers, pillars, &score);
    if (!in_base || fabs(score - expected) > 1e-9) {
        fprintf(stderr, "  line %d: score %.17g (in base %d), expected %.17g\n", line, score,
                (int)in_base, expected);
        testlib_failed_checks++;
    }
    for (size_t i = 0; i < 5; i++) {
        if (fabs(pillars[i] - expected_pillars[i]) > 1e-9) {
            fprintf(stderr, "  line %d: pillar %s is %.17g, expected %.17g\n", line,
                    def->pillars[i].id, pillars[i], expected_pillars[i]);
            testlib_failed_checks++;
        }
    }
    cJSON_Delete(answers);
}

static void test_all_maximum_answers_score_100(void)
{
    static const double pillars[5] = {100, 100, 100, 100, 100};
    check_score(response("c_level", "production", "genai", "appointed", "in_place", "in_place",
                         "yes", "['general_purpose']"),
                pillars, 100.0, __LINE__);
}

static void test_all_minimum_answers_score_0(void)
{
    static const double pillars[5] = {0, 0, 0, 0, 0};
    check_score(
        response("c_level", "none", "security", "no", "no_plan", "no_plan", "no", "['undecided']"),
        pillars, 0.0, __LINE__);
    check_score(
        response("c_level", "none", "other", "no", "no_plan", "no_plan", "no", "['undecided']"),
        pillars, 0.0, __LINE__);
}

static void test_mixed_answers_score_the_mean_of_the_pillars(void)
{
    /* exploring 33 1/3, compute 0, planned 50, planned_2025 50, talent (100 + 50) / 2 = 75:
     * (100/3 + 175) / 5 = 125/3. */
    static const double a[5] = {100.0 / 3.0, 0, 50, 50, 75};
    check_score(response("c_level", "exploring", "compute", "planned", "planned_2025", "in_place",
                         "unsure", "['general_purpose']"),
                a, 125.0 / 3.0, __LINE__);

    /* experimenting 66 2/3, genai 100, no 0, in_place 100, talent (0 + 100) / 2 = 50:
     * (200/3 + 250) / 5 = 190/3. */
    static const double b[5] = {200.0 / 3.0, 100, 0, 100, 50};
    check_score(response("vp_director", "experimenting", "genai", "no", "in_place", "no_plan",
                         "yes", "['undecided']"),
                b, 190.0 / 3.0, __LINE__);

    /* Talent is the mean of training and hiring: planned_2025 50 and no 0 give 25. */
    static const double c[5] = {100, 0, 100, 0, 25};
    check_score(response("head_of_it", "production", "security", "appointed", "no_plan",
                         "planned_2025", "no", "['build_from_scratch']"),
                c, 45.0, __LINE__);
}

static void test_screened_out_response_has_no_score(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    double pillars[5], score = 0;
    cJSON *a = unit_json("{'role':'other'}");
    CHECK(!qval_score(def, a, pillars, &score));
    CHECK(isnan(score));
    cJSON_Delete(a);
    a = response("other", "production", "genai", "appointed", "in_place", "in_place", "yes",
                 "['general_purpose']");
    score = 0;
    CHECK(!qval_score(def, a, pillars, &score));
    CHECK(isnan(score));
    cJSON_Delete(a);
}

static void test_pillar_is_the_mean_of_its_answered_items(void)
{
    struct qdef *def = unit_load_ok(DEF(
        SINGLE("a", "") "," SINGLE("b", "") "," SINGLE("c", ""),
        ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':10,'pillars':["
        "{'id':'p1','label':" LBL ",'items':[{'question':'a','scores':{'x':0,'y':5,'z':10}},"
        "{'question':'b','scores':{'x':0,'y':2,'z':10}}]},"
        "{'id':'p2','label':" LBL ",'items':[{'question':'c','scores':{'x':1,'y':2,'z':3}}]}]}"));
    if (def == NULL)
        return;
    double pillars[2], score;
    cJSON *all = unit_json("{'a':'y','b':'y','c':'z'}");
    CHECK(qval_score(def, all, pillars, &score));
    CHECK_NEAR(pillars[0], 3.5, 1e-12);
    CHECK_NEAR(pillars[1], 3.0, 1e-12);
    CHECK_NEAR(score, 3.25, 1e-12);
    cJSON_Delete(all);

    /* b unanswered: p1 is a's score alone. */
    cJSON *no_b = unit_json("{'a':'z','c':'x'}");
    CHECK(qval_score(def, no_b, pillars, &score));
    CHECK_NEAR(pillars[0], 10.0, 1e-12);
    CHECK_NEAR(pillars[1], 1.0, 1e-12);
    CHECK_NEAR(score, 5.5, 1e-12);
    cJSON_Delete(no_b);

    /* c unanswered: p2 has no score, so the response is outside the composite's base. */
    cJSON *no_c = unit_json("{'a':'z','b':'x'}");
    score = 0;
    CHECK(!qval_score(def, no_c, pillars, &score));
    CHECK(isnan(score));
    CHECK_NEAR(pillars[0], 5.0, 1e-12);
    CHECK(isnan(pillars[1]));
    cJSON_Delete(no_c);
    qdef_free(def);
}

static void test_definition_without_composite_has_no_score(void)
{
    struct qdef *def = unit_load_ok(DEF(SINGLE("a", ""), ""));
    if (def == NULL)
        return;
    double pillars[1], score = 0;
    cJSON *a = unit_json("{'a':'x'}");
    CHECK(!qval_score(def, a, pillars, &score));
    CHECK(isnan(score));
    cJSON_Delete(a);
    qdef_free(def);
}

TEST_MAIN(TEST_CASE(test_bundled_has_the_fourteen_indicators),
          TEST_CASE(test_leading_adopter_is_true_where_expected),
          TEST_CASE(test_experimenter_counts_as_experimenting_not_production),
          TEST_CASE(test_production_counts_as_experimenting),
          TEST_CASE(test_non_adopters_are_false_not_outside_the_base),
          TEST_CASE(test_screened_out_response_is_in_no_base),
          TEST_CASE(test_unanswered_question_is_outside_the_base),
          TEST_CASE(test_use_cases_indicator_is_outside_the_base_when_genai_stage_is_none),
          TEST_CASE(test_indicator_on_a_hidden_question_is_outside_the_base),
          TEST_CASE(test_all_maximum_answers_score_100),
          TEST_CASE(test_all_minimum_answers_score_0),
          TEST_CASE(test_mixed_answers_score_the_mean_of_the_pillars),
          TEST_CASE(test_screened_out_response_has_no_score),
          TEST_CASE(test_pillar_is_the_mean_of_its_answered_items),
          TEST_CASE(test_definition_without_composite_has_no_score))
