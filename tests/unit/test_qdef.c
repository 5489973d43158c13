/*
 * The definition loader: the bundled questionnaire compiles to exactly what PRODUCT.md
 * specifies, and every rule of FORMAT.md is enforced on small hand-made definitions, each
 * problem with the JSON pointer of the offending member, and all of them listed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qdef.h"
#include "unit_helpers.h"

/* True when the definition loads cleanly (the loaded definition is freed). */
static bool loads(const char *sq)
{
    struct qproblems p;
    qproblems_init(&p, 1000);
    struct qdef *def = unit_load(sq, &p);
    bool ok = def != NULL && p.count == 0;
    if (!ok) {
        fprintf(stderr, "  expected to load: %s\n", sq);
        unit_print_problems(&p);
    }
    qdef_free(def);
    qproblems_clear(&p);
    return ok;
}

/* Load a definition that must be rejected; p receives the problems (caller clears). */
static bool rejected_into(const char *sq, struct qproblems *p)
{
    qproblems_init(p, 1000);
    struct qdef *def = unit_load(sq, p);
    bool ok = def == NULL && p->count > 0 && unit_problems_well_formed(p);
    qdef_free(def);
    return ok;
}

enum match { AT, UNDER, ANYWHERE };

static bool rejected_how(const char *sq, enum match how, const char *path)
{
    struct qproblems p;
    bool ok = rejected_into(sq, &p);
    if (ok && how == AT)
        ok = unit_find(&p, path, NULL) >= 0;
    else if (ok && how == UNDER)
        ok = unit_find_under(&p, path, NULL) >= 0;
    if (!ok) {
        fprintf(stderr, "  expected a problem %s \"%s\" for: %s\n",
                how == AT      ? "at"
                : how == UNDER ? "at or under"
                               : "anywhere",
                path ? path : "", sq);
        unit_print_problems(&p);
    }
    qproblems_clear(&p);
    return ok;
}

/* Rejected with a problem exactly at path. */
static bool rejected_at(const char *sq, const char *path)
{
    return rejected_how(sq, AT, path);
}

/* Rejected with a problem at path or below it. */
static bool rejected_under(const char *sq, const char *path)
{
    return rejected_how(sq, UNDER, path);
}

/* Rejected (FORMAT.md does not say where the problem points). */
static bool rejected(const char *sq)
{
    return rejected_how(sq, ANYWHERE, NULL);
}

/* ---- the bundled questionnaire ---------------------------------------------------------- */

static const char *const bundled_ids[] = {
    "role",
    "industry",
    "company_size",
    "region",
    "genai_stage",
    "use_cases",
    "budget_top_priority",
    "genai_budget_share",
    "caio",
    "change_mgmt",
    "training",
    "hiring_genai_2025",
    "approach",
    "comments",
    "contact_email",
};

static void test_bundled_definition_loads_with_expected_counts(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    CHECK_STR(def->id, "genai-adoption-2025");
    CHECK_STR(def->version, "1.0.0");
    CHECK(def->n_languages == 2);
    CHECK_STR(def->languages[0], "ko");
    CHECK_STR(def->languages[1], "en");
    CHECK(def->default_language == 0);
    CHECK(def->n_questions == 15);
    CHECK(def->n_indicators == 14);
    CHECK(def->has_composite);
    CHECK(def->n_pillars == 5);
    CHECK(def->n_rules == 1);
    CHECK(def->n_sections >= 2);
    CHECK_STR(def->composite_id, "genai_adoption_index");
    CHECK(def->composite_min == 0.0);
    CHECK(def->composite_max == 100.0);
    CHECK_STR(def->title.by_lang[0], "생성형 AI 도입 지수 2025");
    CHECK(def->title.by_lang[1] != NULL);
    CHECK(def->description.by_lang[0] != NULL && def->description.by_lang[1] != NULL);
    qdef_free(def);
}

static void test_bundled_questions_follow_product_order_and_types(void)
{
    static const enum qdef_type types[] = {
        QDEF_SINGLE,   QDEF_SINGLE, QDEF_SINGLE,   QDEF_SINGLE, QDEF_SINGLE,
        QDEF_MULTIPLE, QDEF_SINGLE, QDEF_NUMBER,   QDEF_SINGLE, QDEF_SINGLE,
        QDEF_SINGLE,   QDEF_SINGLE, QDEF_MULTIPLE, QDEF_TEXT,   QDEF_EMAIL,
    };
    struct qdef *def = unit_load_bundled();
    if (def == NULL || def->n_questions != 15) {
        qdef_free(def);
        return;
    }
    for (size_t i = 0; i < 15; i++) {
        CHECK_STR(def->questions[i].id, bundled_ids[i]);
        CHECK(def->questions[i].type == types[i]);
        CHECK(qdef_find_question(def, bundled_ids[i]) == (int)i);
        for (size_t l = 0; l < 2; l++)
            CHECK(def->questions[i].label.by_lang[l] != NULL &&
                  def->questions[i].label.by_lang[l][0] != '\0');
    }
    /* Sections are contiguous and in order. */
    for (size_t i = 1; i < 15; i++)
        CHECK(def->questions[i].section >= def->questions[i - 1].section);
    qdef_free(def);
}

struct expected_options {
    const char *question;
    const char *codes[7];
};

static void test_bundled_option_codes_match_the_contract(void)
{
    static const struct expected_options expected[] = {
        {"role", {"c_level", "vp_director", "head_of_it", "other"}},
        {"industry", {"finance", "ict", "manufacturing", "retail", "other"}},
        {"company_size", {"small", "mid", "large"}},
        {"region", {"seoul", "gyeonggi_incheon", "other"}},
        {"genai_stage", {"none", "exploring", "experimenting", "production"}},
        {"use_cases",
         {"customer_service", "software_development", "document_processing", "marketing",
          "analytics", "other"}},
        {"budget_top_priority", {"genai", "security", "compute", "other"}},
        {"caio", {"appointed", "planned", "no"}},
        {"change_mgmt", {"in_place", "planned_2025", "no_plan"}},
        {"training", {"in_place", "planned_2025", "no_plan"}},
        {"hiring_genai_2025", {"yes", "no", "unsure"}},
        {"approach",
         {"general_purpose", "custom_on_pretrained", "fine_tune_own_data", "build_from_scratch",
          "undecided"}},
    };
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    for (size_t e = 0; e < sizeof expected / sizeof expected[0]; e++) {
        int q = qdef_find_question(def, expected[e].question);
        CHECK(q >= 0);
        if (q < 0)
            continue;
        size_t n = 0;
        while (n < 7 && expected[e].codes[n] != NULL)
            n++;
        CHECK(def->questions[q].n_options == n);
        for (size_t o = 0; o < n && o < def->questions[q].n_options; o++) {
            CHECK_STR(def->questions[q].options[o].code, expected[e].codes[o]);
            CHECK(qdef_find_option(def, q, expected[e].codes[o]) == (int)o);
            CHECK(def->questions[q].options[o].label.by_lang[0] != NULL);
            CHECK(def->questions[q].options[o].label.by_lang[1] != NULL);
        }
    }
    for (size_t i = 0; i < def->n_questions; i++) {
        enum qdef_type t = def->questions[i].type;
        if (t != QDEF_SINGLE && t != QDEF_MULTIPLE)
            CHECK(def->questions[i].n_options == 0);
    }
    qdef_free(def);
}

static void test_bundled_labels_use_product_wording(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    struct {
        const char *q, *code, *ko, *en;
    } labels[] = {
        {"role", "c_level", "C레벨 임원", "C-level (CIO, CTO, CDO)"},
        {"role", "vp_director", "IT 담당 상무·이사", "VP or director of IT"},
        {"role", "head_of_it", "IT 부서장", "Head of an IT function"},
        {"industry", "ict", "정보통신기술", "ICT"},
        {"industry", "retail", "유통", "Retail and distribution"},
        {"company_size", "mid", "250–999명", "250–999"},
        {"region", "gyeonggi_incheon", "경기·인천", "Gyeonggi–Incheon"},
        {"region", "other", "기타 지역", "Elsewhere"},
        {"genai_stage", "experimenting", "실험(PoC) 중", NULL},
        {"genai_stage", "production", "운영 단계로 확장 중", NULL},
        {"budget_top_priority", "compute", "컴퓨팅 역량", "Compute capacity"},
        {"caio", "appointed", "임명함", NULL},
        {"change_mgmt", "planned_2025", "2025년 말까지 도입 예정", NULL},
        {"training", "in_place", "도입함", NULL},
        {"hiring_genai_2025", "unsure", "모름", NULL},
        {"approach", "custom_on_pretrained", "사전 학습 모델 기반 맞춤형 애플리케이션", NULL},
        {"approach", "undecided", "미정", NULL},
    };
    int ko = qdef_find_language(def, "ko"), en = qdef_find_language(def, "en");
    CHECK(ko == 0 && en == 1);
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        int q = qdef_find_question(def, labels[i].q);
        int o = q < 0 ? -1 : qdef_find_option(def, q, labels[i].code);
        CHECK(o >= 0);
        if (o < 0)
            continue;
        const struct qdef_text *t = &def->questions[q].options[o].label;
        CHECK_STR(qdef_text_get(def, t, ko), labels[i].ko);
        if (labels[i].en != NULL)
            CHECK_STR(qdef_text_get(def, t, en), labels[i].en);
    }
    qdef_free(def);
}

static void test_bundled_flags_follow_product_rules(void)
{
    /* required, quasi_identifier, identifying for each question in order. */
    static const bool required[15] = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0};
    static const bool quasi[15] = {0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const bool identifying[15] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    struct qdef *def = unit_load_bundled();
    if (def == NULL || def->n_questions != 15) {
        qdef_free(def);
        return;
    }
    for (size_t i = 0; i < 15; i++) {
        CHECK(def->questions[i].required == required[i]);
        CHECK(def->questions[i].quasi_identifier == quasi[i]);
        CHECK(def->questions[i].identifying == identifying[i]);
        if (i != 5)
            CHECK(def->questions[i].show_if == NULL);
    }
    qdef_free(def);
}

static void test_bundled_limits_follow_product_rules(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    const struct qdef_question *uc = &def->questions[qdef_find_question(def, "use_cases")];
    CHECK(uc->min_choices == 1);
    CHECK(uc->max_choices == 6);
    const struct qdef_question *ap = &def->questions[qdef_find_question(def, "approach")];
    CHECK(ap->min_choices == 1);
    CHECK(ap->max_choices == 5);
    for (size_t o = 0; o < ap->n_options; o++)
        CHECK(ap->options[o].exclusive == (strcmp(ap->options[o].code, "undecided") == 0));
    for (size_t o = 0; o < uc->n_options; o++)
        CHECK(!uc->options[o].exclusive);
    const struct qdef_question *share =
        &def->questions[qdef_find_question(def, "genai_budget_share")];
    CHECK(share->has_min && share->min == 0.0);
    CHECK(share->has_max && share->max == 100.0);
    CHECK(share->decimals == 1);
    CHECK(def->questions[qdef_find_question(def, "comments")].max_length == 2000);
    CHECK(def->questions[qdef_find_question(def, "contact_email")].max_length == 254);
    qdef_free(def);
}

static void test_bundled_use_cases_are_shown_only_when_experimenting_or_in_production(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    int stage = qdef_find_question(def, "genai_stage");
    const struct qdef_cond *c = def->questions[qdef_find_question(def, "use_cases")].show_if;
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK(c->kind == QDEF_COND_IN);
        CHECK(c->question == stage);
        CHECK(c->n_options == 2);
        if (c->n_options == 2) {
            CHECK(c->options[0] == qdef_find_option(def, stage, "experimenting"));
            CHECK(c->options[1] == qdef_find_option(def, stage, "production"));
        }
    }
    qdef_free(def);
}

static void test_bundled_eligibility_screens_out_role_other(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL || def->n_rules != 1) {
        qdef_free(def);
        return;
    }
    const struct qdef_rule *r = &def->rules[0];
    CHECK(r->stop_after == 0);
    CHECK(r->message.by_lang[0] != NULL && r->message.by_lang[1] != NULL);
    CHECK(r->screen_out_if != NULL);
    if (r->screen_out_if != NULL) {
        CHECK(r->screen_out_if->kind == QDEF_COND_EQUALS_CODE);
        CHECK(r->screen_out_if->question == 0);
        CHECK(r->screen_out_if->option == qdef_find_option(def, 0, "other"));
    }
    qdef_free(def);
}

struct expected_indicator {
    const char *id, *question;
    enum qdef_cond_kind kind;
    const char *code;
};

static void test_bundled_indicators_match_the_published_table(void)
{
    static const struct expected_indicator expected[14] = {
        {"production", "genai_stage", QDEF_COND_EQUALS_CODE, "production"},
        {"experimenting", "genai_stage", QDEF_COND_IN, NULL},
        {"hiring_2025", "hiring_genai_2025", QDEF_COND_EQUALS_CODE, "yes"},
        {"budget_top_genai", "budget_top_priority", QDEF_COND_EQUALS_CODE, "genai"},
        {"budget_top_security", "budget_top_priority", QDEF_COND_EQUALS_CODE, "security"},
        {"budget_top_compute", "budget_top_priority", QDEF_COND_EQUALS_CODE, "compute"},
        {"caio_appointed", "caio", QDEF_COND_EQUALS_CODE, "appointed"},
        {"change_mgmt_in_place", "change_mgmt", QDEF_COND_EQUALS_CODE, "in_place"},
        {"change_mgmt_planned_2025", "change_mgmt", QDEF_COND_EQUALS_CODE, "planned_2025"},
        {"training_in_place", "training", QDEF_COND_EQUALS_CODE, "in_place"},
        {"training_planned_2025", "training", QDEF_COND_EQUALS_CODE, "planned_2025"},
        {"approach_general_purpose", "approach", QDEF_COND_INCLUDES, "general_purpose"},
        {"approach_custom_pretrained", "approach", QDEF_COND_INCLUDES, "custom_on_pretrained"},
        {"approach_fine_tune", "approach", QDEF_COND_INCLUDES, "fine_tune_own_data"},
    };
    struct qdef *def = unit_load_bundled();
    if (def == NULL || def->n_indicators != 14) {
        qdef_free(def);
        return;
    }
    for (size_t i = 0; i < 14; i++) {
        const struct qdef_indicator *ind = &def->indicators[i];
        int q = qdef_find_question(def, expected[i].question);
        CHECK_STR(ind->id, expected[i].id);
        CHECK(ind->label.by_lang[0] != NULL && ind->label.by_lang[1] != NULL);
        CHECK(ind->when != NULL);
        CHECK(ind->n_questions == 1);
        if (ind->n_questions == 1)
            CHECK(ind->questions[0] == q);
        CHECK(ind->multi_select == (expected[i].kind == QDEF_COND_INCLUDES));
        if (ind->when == NULL)
            continue;
        CHECK(ind->when->kind == expected[i].kind);
        CHECK(ind->when->question == q);
        if (expected[i].code != NULL) {
            CHECK(ind->when->option == qdef_find_option(def, q, expected[i].code));
        } else {
            CHECK(ind->when->n_options == 2);
            if (ind->when->n_options == 2) {
                CHECK(ind->when->options[0] == qdef_find_option(def, q, "experimenting"));
                CHECK(ind->when->options[1] == qdef_find_option(def, q, "production"));
            }
        }
    }
    qdef_free(def);
}

/* Score of option code in item it of pillar p. */
static double item_score(const struct qdef *def, size_t p, size_t it, const char *code)
{
    const struct qdef_item *item = &def->pillars[p].items[it];
    int o = qdef_find_option(def, item->question, code);
    CHECK(o >= 0);
    return o < 0 ? -1.0 : item->scores[o];
}

static void test_bundled_composite_has_five_pillars_with_product_scores(void)
{
    static const char *const pillar_ids[5] = {"adoption", "investment", "leadership",
                                              "change_readiness", "talent"};
    static const size_t n_items[5] = {1, 1, 1, 1, 2};
    static const char *const item_questions[5][2] = {
        {"genai_stage", NULL}, {"budget_top_priority", NULL},     {"caio", NULL},
        {"change_mgmt", NULL}, {"training", "hiring_genai_2025"},
    };
    struct qdef *def = unit_load_bundled();
    if (def == NULL || def->n_pillars != 5) {
        qdef_free(def);
        return;
    }
    for (size_t p = 0; p < 5; p++) {
        CHECK_STR(def->pillars[p].id, pillar_ids[p]);
        CHECK(def->pillars[p].label.by_lang[0] != NULL && def->pillars[p].label.by_lang[1]);
        CHECK(def->pillars[p].n_items == n_items[p]);
        for (size_t i = 0; i < n_items[p] && i < def->pillars[p].n_items; i++)
            CHECK(def->pillars[p].items[i].question ==
                  qdef_find_question(def, item_questions[p][i]));
    }
    if (def->pillars[4].n_items != 2) {
        qdef_free(def);
        return;
    }
    /* Exact doubles: 33.333333333333336 is 100.0 / 3 and 66.66666666666667 is 200.0 / 3. */
    CHECK(item_score(def, 0, 0, "none") == 0.0);
    CHECK(item_score(def, 0, 0, "exploring") == 100.0 / 3.0);
    CHECK(item_score(def, 0, 0, "experimenting") == 200.0 / 3.0);
    CHECK(item_score(def, 0, 0, "production") == 100.0);
    CHECK(item_score(def, 1, 0, "genai") == 100.0);
    CHECK(item_score(def, 1, 0, "security") == 0.0);
    CHECK(item_score(def, 1, 0, "compute") == 0.0);
    CHECK(item_score(def, 1, 0, "other") == 0.0);
    CHECK(item_score(def, 2, 0, "appointed") == 100.0);
    CHECK(item_score(def, 2, 0, "planned") == 50.0);
    CHECK(item_score(def, 2, 0, "no") == 0.0);
    CHECK(item_score(def, 3, 0, "in_place") == 100.0);
    CHECK(item_score(def, 3, 0, "planned_2025") == 50.0);
    CHECK(item_score(def, 3, 0, "no_plan") == 0.0);
    CHECK(item_score(def, 4, 0, "in_place") == 100.0);
    CHECK(item_score(def, 4, 0, "planned_2025") == 50.0);
    CHECK(item_score(def, 4, 0, "no_plan") == 0.0);
    CHECK(item_score(def, 4, 1, "yes") == 100.0);
    CHECK(item_score(def, 4, 1, "unsure") == 50.0);
    CHECK(item_score(def, 4, 1, "no") == 0.0);
    qdef_free(def);
}

static void test_lookup_helpers(void)
{
    struct qdef *def = unit_load_bundled();
    if (def == NULL)
        return;
    CHECK(qdef_find_question(def, "caio") == 8);
    CHECK(qdef_find_question(def, "CAIO") == -1);
    CHECK(qdef_find_question(def, "") == -1);
    CHECK(qdef_find_question(def, "nope") == -1);
    CHECK(qdef_find_option(def, 8, "planned") == 1);
    CHECK(qdef_find_option(def, 8, "yes") == -1);
    CHECK(qdef_find_option(def, 7, "x") == -1); /* a number question has no options */
    CHECK(qdef_find_language(def, "ko") == 0);
    CHECK(qdef_find_language(def, "en") == 1);
    CHECK(qdef_find_language(def, "fr") == -1);
    CHECK(qdef_find_language(def, "EN") == -1);
    /* An optional text that is absent stays absent in every language. */
    const struct qdef_question *role = &def->questions[0];
    CHECK(role->help.by_lang[0] == NULL);
    CHECK(qdef_text_get(def, &role->help, 1) == NULL);
    CHECK(qdef_text_get(def, &role->label, 1) == role->label.by_lang[1]);
    CHECK_STR(qdef_type_name(QDEF_SINGLE), "single");
    CHECK_STR(qdef_type_name(QDEF_MULTIPLE), "multiple");
    CHECK_STR(qdef_type_name(QDEF_NUMBER), "number");
    CHECK_STR(qdef_type_name(QDEF_TEXT), "text");
    CHECK_STR(qdef_type_name(QDEF_EMAIL), "email");
    qdef_free(def);
    qdef_free(NULL);
}

/* ---- small definitions that load --------------------------------------------------------- */

static void test_minimal_definition_gets_documented_defaults(void)
{
    struct qdef *def = unit_load_ok(DEF(
        SINGLE("a", "") "," MULTI("b", "") "," NUMBER("c", "") "," TEXT("d", "") "," EMAIL("e", ""),
        ""));
    if (def == NULL)
        return;
    CHECK_STR(def->id, "t-1");
    CHECK(def->n_questions == 5);
    CHECK(def->n_sections == 1);
    if (def->n_sections == 1)
        CHECK_STR(def->sections[0].id, "");
    CHECK(def->default_language == 0);
    CHECK(def->description.by_lang[0] == NULL);
    CHECK(!def->has_composite);
    CHECK(def->n_pillars == 0);
    CHECK(def->n_indicators == 0);
    CHECK(def->n_rules == 0);
    for (size_t i = 0; i < def->n_questions; i++) {
        CHECK(!def->questions[i].required);
        CHECK(!def->questions[i].identifying);
        CHECK(!def->questions[i].quasi_identifier);
        CHECK(def->questions[i].show_if == NULL);
        CHECK(def->questions[i].section == 0);
    }
    CHECK(def->questions[1].min_choices == 1);
    CHECK(def->questions[1].max_choices == 3);
    CHECK(!def->questions[2].has_min && !def->questions[2].has_max);
    CHECK(def->questions[2].decimals == 0);
    CHECK(def->questions[3].max_length == 2000);
    CHECK(def->questions[4].max_length == 254);
    CHECK(!def->questions[0].options[0].exclusive);
    qdef_free(def);
}

static void test_every_question_type_and_condition_form_loads(void)
{
    /* clang-format off */
    const char *sq = DEF(
        SINGLE("a", ",'required':true,'quasi_identifier':true,'help':" LBL) ","
        MULTI("b", ",'min_choices':2,'max_choices':2,"
                   "'show_if':{'question':'a','equals':'x'}") ","
        NUMBER("c", ",'min':-5.5,'max':1e6,'decimals':6,"
                    "'show_if':{'question':'b','includes':'y'}") ","
        TEXT("d", ",'max_length':100000,'show_if':{'all':[{'question':'c','gte':1},"
                  "{'question':'c','lte':10},{'not':{'question':'c','equals':3}}]}") ","
        EMAIL("e", ",'identifying':true,'max_length':1,'show_if':{'any':["
                   "{'question':'a','in':['x','z']},{'question':'d','answered':false}]}") ","
        "{'id':'f','type':'multiple','label':" LBL ",'options':[" OPT("p") ","
        "{'code':'q','label':" LBL ",'exclusive':true}],"
        "'show_if':{'question':'e','answered':true}}",
        ",'description':" LBL
        ",'eligibility':[{'id':'r1','screen_out_if':{'any':[{'question':'a','equals':'z'},"
        "{'question':'c','lte':-1}]},'message':" LBL "}]"
        ",'indicators':[{'id':'i1','label':" LBL ",'when':{'question':'f','includes':'q'}},"
        "{'id':'i2','label':" LBL ",'when':{'all':[{'question':'a','equals':'x'},"
        "{'not':{'question':'a','equals':'y'}},{'question':'c','answered':true}]}}]"
        COMPOSITE("{'question':'a','scores':" SCORES3 "}"));
    /* clang-format on */
    struct qdef *def = unit_load_ok(sq);
    if (def == NULL)
        return;
    CHECK(def->questions[1].min_choices == 2 && def->questions[1].max_choices == 2);
    CHECK(def->questions[2].has_min && def->questions[2].min == -5.5);
    CHECK(def->questions[2].has_max && def->questions[2].max == 1e6);
    CHECK(def->questions[2].decimals == 6);
    CHECK(def->questions[3].max_length == 100000);
    CHECK(def->questions[5].options[1].exclusive);
    CHECK(def->questions[0].help.by_lang[1] != NULL);

    const struct qdef_cond *c = def->questions[1].show_if;
    CHECK(c != NULL && c->kind == QDEF_COND_EQUALS_CODE && c->question == 0 && c->option == 0);
    c = def->questions[2].show_if;
    CHECK(c != NULL && c->kind == QDEF_COND_INCLUDES && c->question == 1 && c->option == 1);
    c = def->questions[3].show_if;
    CHECK(c != NULL && c->kind == QDEF_COND_ALL && c->n_children == 3);
    if (c != NULL && c->kind == QDEF_COND_ALL && c->n_children == 3) {
        CHECK(c->children[0]->kind == QDEF_COND_GTE && c->children[0]->num == 1.0);
        CHECK(c->children[1]->kind == QDEF_COND_LTE && c->children[1]->num == 10.0);
        CHECK(c->children[2]->kind == QDEF_COND_NOT && c->children[2]->n_children == 1);
        if (c->children[2]->kind == QDEF_COND_NOT && c->children[2]->n_children == 1) {
            const struct qdef_cond *inner = c->children[2]->children[0];
            CHECK(inner->kind == QDEF_COND_EQUALS_NUM && inner->num == 3.0 && inner->question == 2);
        }
    }
    c = def->questions[4].show_if;
    CHECK(c != NULL && c->kind == QDEF_COND_ANY && c->n_children == 2);
    if (c != NULL && c->kind == QDEF_COND_ANY && c->n_children == 2) {
        CHECK(c->children[0]->kind == QDEF_COND_IN && c->children[0]->n_options == 2);
        CHECK(c->children[1]->kind == QDEF_COND_ANSWERED && !c->children[1]->flag);
    }
    c = def->questions[5].show_if;
    CHECK(c != NULL && c->kind == QDEF_COND_ANSWERED && c->flag && c->question == 4);

    /* The rule stops after the last question it refers to (c), whatever the order inside. */
    CHECK(def->n_rules == 1 && def->rules[0].stop_after == 2);
    /* An indicator lists each question it refers to once. */
    CHECK(def->n_indicators == 2);
    if (def->n_indicators == 2) {
        CHECK(def->indicators[0].multi_select);
        CHECK(!def->indicators[1].multi_select);
        CHECK(def->indicators[1].n_questions == 2);
        if (def->indicators[1].n_questions == 2)
            CHECK((def->indicators[1].questions[0] == 0 && def->indicators[1].questions[1] == 2) ||
                  (def->indicators[1].questions[0] == 2 && def->indicators[1].questions[1] == 0));
    }
    CHECK(def->has_composite && def->n_pillars == 1);
    if (def->n_pillars == 1 && def->pillars[0].n_items == 1) {
        CHECK(def->pillars[0].items[0].question == 0);
        CHECK(def->pillars[0].items[0].scores[0] == 0.0);
        CHECK(def->pillars[0].items[0].scores[1] == 50.0);
        CHECK(def->pillars[0].items[0].scores[2] == 100.0);
    }
    qdef_free(def);
}

static void test_sections_assign_questions_in_order(void)
{
    struct qdef *def =
        unit_load_ok(DEF(SINGLE("a", ",'section':'s1'") "," SINGLE(
                             "b", ",'section':'s2'") "," SINGLE("c", ",'section':'s2'"),
                         ",'sections':[{'id':'s1','title':" LBL "},{'id':'s2','title':" LBL "}]"));
    if (def == NULL)
        return;
    CHECK(def->n_sections == 2);
    CHECK_STR(def->sections[0].id, "s1");
    CHECK_STR(def->sections[1].id, "s2");
    CHECK(def->questions[0].section == 0);
    CHECK(def->questions[1].section == 1);
    CHECK(def->questions[2].section == 1);
    qdef_free(def);
}

/* ---- rejections --------------------------------------------------------------------------- */

static void test_invalid_json_is_rejected_with_a_problem(void)
{
    CHECK(rejected("{"));
    CHECK(rejected(""));
    CHECK(rejected("[]"));
    CHECK(rejected("'a definition'"));
    CHECK(rejected("{'format':1,'format':1}"));
    /* Invalid UTF-8 inside a label. */
    CHECK(rejected(DEF(NUMBER("a", ",'help':{'en':'\xc0\xaf','ko':'x'}"), "")));
}

static void test_missing_required_members_are_rejected(void)
{
    CHECK(rejected("{'id':'t','version':'1','default_language':'en','languages':['en'],"
                   "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}"));
    CHECK(rejected("{'format':1,'version':'1','default_language':'en','languages':['en'],"
                   "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}"));
    CHECK(rejected("{'format':1,'id':'t','default_language':'en','languages':['en'],"
                   "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}"));
    CHECK(rejected("{'format':1,'id':'t','version':'1','languages':['en'],"
                   "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}"));
    CHECK(rejected("{'format':1,'id':'t','version':'1','default_language':'en',"
                   "'title':{'en':'T'},'questions':[]}"));
    CHECK(rejected("{'format':1,'id':'t','version':'1','default_language':'en','languages':['en'],"
                   "'questions':[" NUMBER("a", "") "]}"));
    CHECK(rejected("{'format':1,'id':'t','version':'1','default_language':'en','languages':['en'],"
                   "'title':{'en':'T'}}"));
    CHECK(rejected(DEF("{'type':'number','label':" LBL "}", "")));
    CHECK(rejected(DEF("{'id':'a','label':" LBL "}", "")));
    CHECK(rejected(DEF("{'id':'a','type':'number'}", "")));
    CHECK(rejected(DEF("{'id':'a','type':'single','label':" LBL "}", "")));
    CHECK(rejected(
        DEF("{'id':'a','type':'single','label':" LBL ",'options':[{'label':" LBL "}]}", "")));
    CHECK(rejected(DEF("{'id':'a','type':'single','label':" LBL ",'options':[{'code':'x'}]}", "")));
}

static void test_duplicate_question_id_is_rejected(void)
{
    CHECK(rejected_at(DEF(SINGLE("a", "") "," NUMBER("a", ""), ""), "/questions/1/id"));
    CHECK(rejected_at(DEF(SINGLE("a", "") "," NUMBER("b", "") "," TEXT("a", ""), ""),
                      "/questions/2/id"));
}

static void test_duplicate_option_code_is_rejected(void)
{
    CHECK(rejected_at(
        DEF("{'id':'a','type':'single','label':" LBL ",'options':[" OPT("x") "," OPT("x") "]}", ""),
        "/questions/0/options/1/code"));
    CHECK(rejected_at(DEF(NUMBER("n", "") ",{'id':'a','type':'multiple','label':" LBL
                                          ",'options':[" OPT("x") "," OPT("y") "," OPT("y") "]}",
                          ""),
                      "/questions/1/options/2/code"));
}

static void test_unknown_option_in_a_condition_is_rejected(void)
{
    CHECK(rejected_under(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'nope'}"), ""),
        "/questions/1/show_if"));
    CHECK(rejected_under(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','in':['x','nope']}"), ""),
        "/questions/1/show_if"));
    CHECK(rejected_under(
        DEF(MULTI("a", "") "," NUMBER("b", ",'show_if':{'question':'a','includes':'X'}"), ""),
        "/questions/1/show_if"));
    CHECK(rejected_under(DEF(SINGLE("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                              ",'when':{'question':'a','equals':'nope'}}]"),
                         "/indicators/0/when"));
    CHECK(rejected_under(DEF(SINGLE("a", ""),
                             ",'eligibility':[{'id':'r','screen_out_if':"
                             "{'not':{'question':'a','in':['nope']}},'message':" LBL "}]"),
                         "/eligibility/0/screen_out_if"));
}

static void test_forward_reference_in_show_if_is_rejected(void)
{
    CHECK(rejected_under(
        DEF(NUMBER("b", ",'show_if':{'question':'a','equals':'x'}") "," SINGLE("a", ""), ""),
        "/questions/0/show_if"));
    /* A question cannot depend on itself either. */
    CHECK(rejected_under(DEF(SINGLE("a", ",'show_if':{'question':'a','answered':true}"), ""),
                         "/questions/0/show_if"));
    CHECK(rejected_under(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'any':[{'question':'a','equals':'x'},"
                                            "{'question':'c','answered':true}]}") "," TEXT("c", ""),
            ""),
        "/questions/1/show_if"));
}

static void test_condition_on_unknown_question_is_rejected(void)
{
    CHECK(rejected_under(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'zz','answered':true}"), ""),
        "/questions/1/show_if"));
    CHECK(rejected_under(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'A','equals':'x'}"), ""),
        "/questions/1/show_if"));
}

static void test_indicator_on_a_missing_question_is_rejected(void)
{
    CHECK(rejected_under(DEF(SINGLE("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                              ",'when':{'question':'b','equals':'x'}}]"),
                         "/indicators/0/when"));
    CHECK(rejected_under(
        DEF(SINGLE("a", ""),
            ",'indicators':[{'id':'ok','label':" LBL
            ",'when':{'question':'a','equals':'x'}},{'id':'i','label':" LBL
            ",'when':{'all':[{'question':'a','equals':'x'},{'question':'zz','answered':true}]}}]"),
        "/indicators/1/when"));
}

static void test_includes_on_a_single_question_is_rejected(void)
{
    CHECK(rejected_under(DEF(SINGLE("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                              ",'when':{'question':'a','includes':'x'}}]"),
                         "/indicators/0/when"));
}

static void test_equals_on_a_multiple_question_is_rejected(void)
{
    CHECK(rejected_under(DEF(MULTI("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                             ",'when':{'question':'a','equals':'x'}}]"),
                         "/indicators/0/when"));
    CHECK(rejected_under(DEF(MULTI("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                             ",'when':{'question':'a','in':['x']}}]"),
                         "/indicators/0/when"));
}

static void test_comparisons_that_do_not_fit_the_type_are_rejected(void)
{
    const char *sq[] = {
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','gte':1}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':1}"), ""),
        DEF(NUMBER("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'x'}"), ""),
        DEF(NUMBER("a", "") "," NUMBER("b", ",'show_if':{'question':'a','gte':'1'}"), ""),
        DEF(NUMBER("a", "") "," NUMBER("b", ",'show_if':{'question':'a','in':[1]}"), ""),
        DEF(TEXT("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'x'}"), ""),
        DEF(EMAIL("a", "") "," NUMBER("b", ",'show_if':{'question':'a','includes':'x'}"), ""),
        DEF(MULTI("a", "") "," NUMBER("b", ",'show_if':{'question':'a','lte':3}"), ""),
    };
    for (size_t i = 0; i < sizeof sq / sizeof sq[0]; i++)
        CHECK(rejected_under(sq[i], "/questions/1/show_if"));
    /* answered fits every type. */
    CHECK(loads(
        DEF(TEXT("a", "") "," NUMBER("b", ",'show_if':{'question':'a','answered':true}"), "")));
}

static void test_malformed_conditions_are_rejected(void)
{
    const char *sq[] = {
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a'}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'x','in':['y']}"),
            ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','in':[]}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'all':[]}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'any':{'question':'a','equals':'x'}}"),
            ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'not':[{'question':'a','equals':'x'}]}"),
            ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','answered':'yes'}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','contains':'x'}"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'x','typo':1}"),
            ""),
        DEF(SINGLE("a", "") "," NUMBER(
                "b", ",'show_if':{'all':[{'question':'a','equals':'x'}],'question':'a'}"),
            ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':'a == x'"), ""),
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':5,'equals':'x'}"), ""),
    };
    for (size_t i = 0; i < sizeof sq / sizeof sq[0]; i++)
        CHECK(rejected_under(sq[i], "/questions/1/show_if"));
}

/* A show_if for question b: depth nested "not"s around one comparison on a. */
static char *nested_not_definition(size_t depth)
{
    size_t cap = 4096 + depth * 16;
    char *cond = malloc(cap);
    char *def = malloc(cap + 1024);
    if (cond == NULL || def == NULL)
        abort();
    cond[0] = '\0';
    for (size_t i = 0; i < depth; i++)
        strcat(cond, "{'not':");
    strcat(cond, "{'question':'a','equals':'x'}");
    for (size_t i = 0; i < depth; i++)
        strcat(cond, "}");
    snprintf(def, cap + 1024, DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':%s"), ""), cond);
    free(cond);
    return def;
}

static void test_condition_nesting_beyond_the_limit_is_rejected(void)
{
    char *shallow = nested_not_definition(8);
    char *deep = nested_not_definition(24);
    char *very_deep = nested_not_definition(5000);
    CHECK(loads(shallow));
    CHECK(rejected_under(deep, "/questions/1/show_if"));
    /* Deeper than the JSON depth bound: rejected all the same, never a crash. */
    CHECK(rejected(very_deep));
    free(shallow);
    free(deep);
    free(very_deep);
}

/* A show_if for question b: all of n comparisons on a. */
static char *wide_all_definition(size_t n)
{
    size_t cap = 1024 + n * 40;
    char *cond = malloc(cap);
    char *def = malloc(cap + 1024);
    if (cond == NULL || def == NULL)
        abort();
    strcpy(cond, "{'all':[");
    for (size_t i = 0; i < n; i++)
        strcat(cond, i ? ",{'question':'a','answered':true}" : "{'question':'a','answered':true}");
    strcat(cond, "]}");
    snprintf(def, cap + 1024, DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':%s"), ""), cond);
    free(cond);
    return def;
}

static void test_all_and_any_take_at_most_64_conditions(void)
{
    char *ok = wide_all_definition(64);
    char *wide = wide_all_definition(65);
    CHECK(loads(ok));
    CHECK(rejected_under(wide, "/questions/1/show_if"));
    free(ok);
    free(wide);
}

static void test_missing_language_in_a_text_is_rejected(void)
{
    CHECK(rejected_under(
        "{'format':1,'id':'t','version':'1','default_language':'en',"
        "'languages':['en','ko'],'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}",
        "/title"));
    CHECK(rejected_under(DEF("{'id':'a','type':'number','label':{'ko':'가'}}", ""),
                         "/questions/0/label"));
    CHECK(rejected_under(DEF(NUMBER("a", ",'help':{'en':'h'}"), ""), "/questions/0/help"));
    CHECK(rejected_under(DEF("{'id':'a','type':'single','label':" LBL
                             ",'options':[" OPT("x") ",{'code':'y','label':{'en':'Y'}}]}",
                             ""),
                         "/questions/0/options/1/label"));
    CHECK(rejected_under(
        DEF(NUMBER("a", ",'section':'s'"), ",'sections':[{'id':'s','title':{'ko':'S'}}]"),
        "/sections/0/title"));
    CHECK(rejected_under(DEF(SINGLE("a", ""), ",'indicators':[{'id':'i','label':{'en':'I'},"
                                              "'when':{'question':'a','equals':'x'}}]"),
                         "/indicators/0/label"));
    CHECK(rejected_under(DEF(SINGLE("a", ""),
                             ",'eligibility':[{'id':'r','screen_out_if':"
                             "{'question':'a','equals':'x'},'message':{'en':'Bye'}}]"),
                         "/eligibility/0/message"));
    CHECK(rejected_under(DEF(SINGLE("a", ""), ",'description':{'en':'D'}"), "/description"));
    CHECK(rejected_under(DEF(SINGLE("a", ""),
                             ",'composite':{'id':'idx','label':{'en':'I'},"
                             "'min':0,'max':100,'pillars':[{'id':'p','label':" LBL ",'items':"
                             "[{'question':'a','scores':" SCORES3 "}]}]}"),
                         "/composite/label"));
    CHECK(loads(DEF(SINGLE("a", ""), COMPOSITE("{'question':'a','scores':" SCORES3 "}"))));
}

static void test_empty_or_oversized_texts_are_rejected(void)
{
    CHECK(
        rejected_under(DEF(SINGLE("a", ""), ",'description':{'en':'','ko':'D'}"), "/description"));
    CHECK(rejected_under(DEF("{'id':'a','type':'number','label':{'en':'A','ko':5}}", ""),
                         "/questions/0/label"));
    CHECK(rejected_under(DEF("{'id':'a','type':'number','label':'A'}", ""), "/questions/0/label"));

    /* 4,000 bytes are fine, 4,001 are not. */
    char *big = malloc(4001 + 512);
    char *text = malloc(8192);
    if (big == NULL || text == NULL)
        abort();
    memset(big, 'x', 4000);
    big[4000] = '\0';
    snprintf(text, 8192, DEF(NUMBER("a", ",'help':{'en':'%s','ko':'h'}"), ""), big);
    CHECK(loads(text));
    memset(big, 'x', 4001);
    big[4001] = '\0';
    snprintf(text, 8192, DEF(NUMBER("a", ",'help':{'en':'%s','ko':'h'}"), ""), big);
    CHECK(rejected_under(text, "/questions/0/help"));
    free(big);
    free(text);
}

static void test_text_in_an_unlisted_language_is_rejected(void)
{
    CHECK(rejected(DEF(SINGLE("a", ""), ",'description':{'en':'D','ko':'D','fr':'D'}")));
}

static void test_unknown_members_are_rejected(void)
{
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'indicator':[]"), "/indicator"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'requried':true"), ""), "/questions/0/requried"));
    CHECK(rejected_at(DEF("{'id':'a','type':'multiple','label':" LBL
                          ",'options':[" OPT("x") ","
                                                  "{'code':'y','label':" LBL ",'exclsuive':true}]}",
                          ""),
                      "/questions/0/options/1/exclsuive"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'section':'s'"),
                          ",'sections':[{'id':'s','title':" LBL ",'tilte':" LBL "}]"),
                      "/sections/0/tilte"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'indicators':[{'id':'i','label':" LBL
                                           ",'when':{'question':'a','equals':'x'},'base':'all'}]"),
                      "/indicators/0/base"));
    CHECK(rejected_at(DEF(SINGLE("a", ""),
                          ",'eligibility':[{'id':'r','screen_out_if':"
                          "{'question':'a','equals':'x'},'message':" LBL ",'stop':true}]"),
                      "/eligibility/0/stop"));
    CHECK(rejected_at(DEF(SINGLE("a", ""),
                          ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,"
                          "'weights':[],'pillars':[{'id':'p','label':" LBL
                          ",'items':[{'question':'a',"
                          "'scores':" SCORES3 "}]}]}"),
                      "/composite/weights"));
    CHECK(
        rejected_at(DEF(SINGLE("a", ""),
                        ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,"
                        "'pillars':[{'id':'p','label':" LBL ",'weight':2,'items':[{'question':'a',"
                        "'scores':" SCORES3 "}]}]}"),
                    "/composite/pillars/0/weight"));
    CHECK(rejected_at(DEF(SINGLE("a", ""),
                          ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,"
                          "'pillars':[{'id':'p','label':" LBL ",'items':[{'question':'a',"
                          "'scores':" SCORES3 ",'weight':1}]}]}"),
                      "/composite/pillars/0/items/0/weight"));
    /* Keys are case-sensitive: "Required" is not "required". */
    CHECK(rejected_at(DEF(SINGLE("a", ",'Required':true"), ""), "/questions/0/Required"));
}

static void test_problem_paths_escape_pointer_characters(void)
{
    CHECK(rejected_at(DEF(SINGLE("a", ",'a/b':1"), ""), "/questions/0/a~1b"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'x~y':1"), "/x~0y"));
}

static void test_members_that_do_not_apply_to_the_type_are_rejected(void)
{
    CHECK(rejected_at(DEF("{'id':'a','type':'number','label':" LBL "," OPTS3 "}", ""),
                      "/questions/0/options"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'min':0"), ""), "/questions/0/min"));
    CHECK(rejected_at(DEF(MULTI("a", ",'max':3"), ""), "/questions/0/max"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'max_length':10"), ""), "/questions/0/max_length"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'max_length':10"), ""), "/questions/0/max_length"));
    CHECK(rejected_at(DEF(TEXT("a", ",'decimals':1"), ""), "/questions/0/decimals"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'min_choices':1"), ""), "/questions/0/min_choices"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'max_choices':1"), ""), "/questions/0/max_choices"));
    CHECK(rejected_at(DEF(MULTI("a", ",'quasi_identifier':true"), ""),
                      "/questions/0/quasi_identifier"));
    CHECK(rejected_at(DEF(TEXT("a", ",'quasi_identifier':true"), ""),
                      "/questions/0/quasi_identifier"));
    /* Even with its default value: the member does not apply to the type. */
    CHECK(rejected_at(DEF(NUMBER("a", ",'quasi_identifier':false"), ""),
                      "/questions/0/quasi_identifier"));
    CHECK(
        rejected_at(DEF("{'id':'a','type':'single','label':" LBL
                        ",'options':[{'code':'x','label':" LBL ",'exclusive':true}," OPT("y") "]}",
                        ""),
                    "/questions/0/options/0/exclusive"));
}

static void test_wrong_types_are_rejected(void)
{
    CHECK(rejected_at(
        "{'format':'1','id':'t','version':'1','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/format"));
    CHECK(rejected_at(
        "{'format':2,'id':'t','version':'1','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/format"));
    CHECK(rejected_at(
        "{'format':1,'id':5,'version':'1','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/id"));
    CHECK(rejected_at(
        "{'format':1,'id':'t','version':1,'default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/version"));
    CHECK(rejected_under(
        "{'format':1,'id':'t','version':'1','default_language':'en','languages':'en',"
        "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}",
        "/languages"));
    CHECK(rejected_at(
        "{'format':1,'id':'t','version':'1','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':{'a':1}}",
        "/questions"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'required':'yes'"), ""), "/questions/0/required"));
    CHECK(rejected_at(DEF(SINGLE("a", ",'identifying':1"), ""), "/questions/0/identifying"));
    CHECK(
        rejected_at(DEF("{'id':'a','type':'checkbox','label':" LBL "}", ""), "/questions/0/type"));
    CHECK(rejected_at(DEF("{'id':'a','type':'Single','label':" LBL "," OPTS3 "}", ""),
                      "/questions/0/type"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'min':'0'"), ""), "/questions/0/min"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'decimals':1.5"), ""), "/questions/0/decimals"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'decimals':7"), ""), "/questions/0/decimals"));
    CHECK(rejected_at(DEF(NUMBER("a", ",'decimals':-1"), ""), "/questions/0/decimals"));
    CHECK(rejected_at(DEF(TEXT("a", ",'max_length':0"), ""), "/questions/0/max_length"));
    CHECK(rejected_at(DEF(TEXT("a", ",'max_length':100001"), ""), "/questions/0/max_length"));
    CHECK(rejected_at(DEF(EMAIL("a", ",'max_length':2.5"), ""), "/questions/0/max_length"));
    CHECK(rejected_at(DEF(MULTI("a", ",'min_choices':'1'"), ""), "/questions/0/min_choices"));
    CHECK(rejected_at(DEF("{'id':'a','type':'multiple','label':" LBL ",'options':[" OPT(
                              "x") ","
                                   "{'code':'y','label':" LBL ",'exclusive':'true'}]}",
                          ""),
                      "/questions/0/options/1/exclusive"));
    CHECK(rejected_at(DEF("{'id':'a','type':'single','label':" LBL ",'options':{'x':" LBL "}}", ""),
                      "/questions/0/options"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'sections':{}"), "/sections"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'indicators':{}"), "/indicators"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'eligibility':{}"), "/eligibility"));
    CHECK(rejected_at(DEF(SINGLE("a", ""), ",'composite':[]"), "/composite"));
    CHECK(rejected_at(DEF(SINGLE("a", ""),
                          ",'composite':{'id':'idx','label':" LBL ",'min':'0','max':100,"
                          "'pillars':[{'id':'p','label':" LBL
                          ",'items':[{'question':'a','scores':" SCORES3 "}]}]}"),
                      "/composite/min"));
    CHECK(
        rejected_under(DEF(SINGLE("a", ""),
                           ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,"
                           "'pillars':[{'id':'p','label':" LBL ",'items':[{'question':'a','scores':"
                           "{'x':'0','y':50,'z':100}}]}]}"),
                       "/composite/pillars/0/items/0/scores"));
    CHECK(rejected_at(DEF("42", ""), "/questions/0"));
}

static void test_min_greater_than_max_is_rejected(void)
{
    struct qproblems p;
    CHECK(rejected_into(DEF(NUMBER("a", ",'min':10,'max':5"), ""), &p));
    CHECK(unit_find(&p, "/questions/0/min", NULL) >= 0 ||
          unit_find(&p, "/questions/0/max", NULL) >= 0);
    qproblems_clear(&p);
    CHECK(rejected_into(DEF(MULTI("a", ",'min_choices':3,'max_choices':2"), ""), &p));
    CHECK(unit_find(&p, "/questions/0/min_choices", NULL) >= 0 ||
          unit_find(&p, "/questions/0/max_choices", NULL) >= 0);
    qproblems_clear(&p);
    CHECK(
        rejected_under(DEF(SINGLE("a", ""),
                           ",'composite':{'id':'idx','label':" LBL ",'min':100,'max':0,"
                           "'pillars':[{'id':'p','label':" LBL ",'items':[{'question':'a','scores':"
                           "{'x':50,'y':50,'z':50}}]}]}"),
                       "/composite"));
    CHECK(loads(DEF(NUMBER("a", ",'min':5,'max':5"), "")));
}

static void test_choice_limits_outside_the_options_are_rejected(void)
{
    CHECK(rejected_at(DEF(MULTI("a", ",'max_choices':4"), ""), "/questions/0/max_choices"));
    CHECK(rejected_at(DEF(MULTI("a", ",'min_choices':0"), ""), "/questions/0/min_choices"));
    CHECK(rejected_at(DEF(MULTI("a", ",'max_choices':0"), ""), "/questions/0/max_choices"));
    CHECK(rejected_under(DEF(MULTI("a", ",'min_choices':4"), ""), "/questions/0"));
    CHECK(loads(DEF(MULTI("a", ",'min_choices':3,'max_choices':3"), "")));
}

static void test_option_and_question_counts_are_bounded(void)
{
    CHECK(rejected_at(DEF("{'id':'a','type':'single','label':" LBL ",'options':[]}", ""),
                      "/questions/0/options"));
    CHECK(rejected_at(DEF("", ""), "/questions"));

    size_t cap = 200000;
    char *opts = malloc(cap), *text = malloc(cap + 1024);
    if (opts == NULL || text == NULL)
        abort();
    for (int n = 200; n <= 201; n++) {
        opts[0] = '\0';
        for (int i = 0; i < n; i++) {
            char one[128];
            snprintf(one, sizeof one, "%s{'code':'o%d','label':{'en':'o','ko':'o'}}", i ? "," : "",
                     i);
            strcat(opts, one);
        }
        snprintf(text, cap + 1024,
                 DEF("{'id':'a','type':'single','label':" LBL ",'options':[%s]}", ""), opts);
        if (n == 200)
            CHECK(loads(text));
        else
            CHECK(rejected_at(text, "/questions/0/options"));
    }
    for (int n = 500; n <= 501; n++) {
        opts[0] = '\0';
        for (int i = 0; i < n; i++) {
            char one[128];
            snprintf(one, sizeof one, "%s{'id':'q%d','type':'number','label':{'en':'q','ko':'q'}}",
                     i ? "," : "", i);
            strcat(opts, one);
        }
        snprintf(text, cap + 1024, DEF("%s", ""), opts);
        if (n == 500)
            CHECK(loads(text));
        else
            CHECK(rejected_at(text, "/questions"));
    }
    free(opts);
    free(text);
}

static void test_composite_item_missing_a_score_for_an_option_is_rejected(void)
{
    CHECK(
        rejected_under(DEF(SINGLE("a", ""), COMPOSITE("{'question':'a','scores':{'x':0,'y':50}}")),
                       "/composite/pillars/0/items/0/scores"));
}

static void test_composite_score_outside_min_max_is_rejected(void)
{
    CHECK(rejected_under(
        DEF(SINGLE("a", ""), COMPOSITE("{'question':'a','scores':{'x':0,'y':50,'z':100.5}}")),
        "/composite/pillars/0/items/0/scores"));
    CHECK(rejected_under(
        DEF(SINGLE("a", ""), COMPOSITE("{'question':'a','scores':{'x':-1,'y':50,'z':100}}")),
        "/composite/pillars/0/items/0/scores"));
}

static void test_composite_score_for_an_unknown_option_is_rejected(void)
{
    CHECK(rejected_under(
        DEF(SINGLE("a", ""), COMPOSITE("{'question':'a','scores':{'x':0,'y':50,'z':100,'w':1}}")),
        "/composite/pillars/0/items/0/scores"));
}

static void test_composite_item_on_a_question_that_is_not_single_is_rejected(void)
{
    CHECK(rejected_under(DEF(MULTI("a", ""), COMPOSITE("{'question':'a','scores':" SCORES3 "}")),
                         "/composite/pillars/0/items/0"));
    CHECK(rejected_under(DEF(NUMBER("a", ""), COMPOSITE("{'question':'a','scores':{}}")),
                         "/composite/pillars/0/items/0"));
    CHECK(rejected_under(DEF(SINGLE("a", ""), COMPOSITE("{'question':'b','scores':" SCORES3 "}")),
                         "/composite/pillars/0/items/0"));
}

static void test_sections_must_be_contiguous(void)
{
    CHECK(rejected_at(DEF(NUMBER("a", ",'section':'s1'") "," NUMBER(
                              "b", ",'section':'s2'") "," NUMBER("c", ",'section':'s1'"),
                          ",'sections':[{'id':'s1','title':" LBL "},{'id':'s2','title':" LBL "}]"),
                      "/questions/2/section"));
}

static void test_sections_must_be_in_section_order(void)
{
    struct qproblems p;
    CHECK(
        rejected_into(DEF(NUMBER("a", ",'section':'s2'") "," NUMBER("b", ",'section':'s1'"),
                          ",'sections':[{'id':'s1','title':" LBL "},{'id':'s2','title':" LBL "}]"),
                      &p));
    CHECK(unit_find(&p, "/questions/0/section", NULL) >= 0 ||
          unit_find(&p, "/questions/1/section", NULL) >= 0);
    qproblems_clear(&p);
}

static void test_questions_must_name_a_known_section(void)
{
    CHECK(rejected_under(DEF(NUMBER("a", ""), ",'sections':[{'id':'s1','title':" LBL "}]"),
                         "/questions/0"));
    CHECK(rejected_at(
        DEF(NUMBER("a", ",'section':'s9'"), ",'sections':[{'id':'s1','title':" LBL "}]"),
        "/questions/0/section"));
    CHECK(rejected_under(DEF(NUMBER("a", ",'section':'s1'"), ""), "/questions/0"));
    CHECK(
        rejected_under(DEF(NUMBER("a", ",'section':'s1'") "," NUMBER("b", ",'section':'s1'"),
                           ",'sections':[{'id':'s1','title':" LBL "},{'id':'s1','title':" LBL "}]"),
                       "/sections"));
}

static void test_bad_identifiers_are_rejected(void)
{
    static const char *const bad[] = {
        "Role",
        "1abc",
        "a-b",
        "",
        "a b",
        "_a",
        "caf\xc3\xa9",
        "a.b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    char text[4096];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, DEF("{'id':'%s','type':'number','label':" LBL "}", ""), bad[i]);
        CHECK(rejected_at(text, "/questions/0/id"));
        snprintf(text, sizeof text,
                 DEF("{'id':'a','type':'single','label':" LBL ",'options':"
                     "[{'code':'%s','label':" LBL "}]}",
                     ""),
                 bad[i]);
        CHECK(rejected_at(text, "/questions/0/options/0/code"));
        snprintf(text, sizeof text,
                 DEF(NUMBER("a", ",'section':'%s'"), ",'sections':[{'id':'%s','title':" LBL "}]"),
                 bad[i], bad[i]);
        CHECK(rejected_at(text, "/sections/0/id"));
        snprintf(text, sizeof text,
                 DEF(SINGLE("a", ""), ",'indicators':[{'id':'%s','label':" LBL
                                      ",'when':{'question':'a','equals':'x'}}]"),
                 bad[i]);
        CHECK(rejected_at(text, "/indicators/0/id"));
        snprintf(text, sizeof text,
                 DEF(SINGLE("a", ""), ",'eligibility':[{'id':'%s','screen_out_if':"
                                      "{'question':'a','equals':'x'},'message':" LBL "}]"),
                 bad[i]);
        CHECK(rejected_at(text, "/eligibility/0/id"));
        snprintf(text, sizeof text,
                 DEF(SINGLE("a", ""), ",'composite':{'id':'idx','label':" LBL
                                      ",'min':0,'max':100,'pillars':[{'id':'%s','label':" LBL
                                      ",'items':[{'question':'a','scores':" SCORES3 "}]}]}"),
                 bad[i]);
        CHECK(rejected_at(text, "/composite/pillars/0/id"));
    }
    /* 64 characters are fine. */
    CHECK(loads(
        DEF(NUMBER("a234567890123456789012345678901234567890123456789012345678901234", ""), "")));
    CHECK(loads(DEF(NUMBER("a_9", ""), "")));
}

static void test_bad_questionnaire_ids_are_rejected(void)
{
    static const char *const bad[] = {
        "", "bad id", "a/b", "x!",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    char text[2048];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text,
                 "{'format':1,'id':'%s','version':'1','default_language':'en',"
                 "'languages':['en','ko'],'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
                 bad[i]);
        CHECK(rejected_at(text, "/id"));
    }
    CHECK(loads("{'format':1,'id':'genai-adoption-2025','version':'1.0.0','default_language':'en',"
                "'languages':['en','ko'],'title':" LBL ",'questions':[" NUMBER("a", "") "]}"));
}

static void test_bad_versions_are_rejected(void)
{
    CHECK(rejected_at(
        "{'format':1,'id':'t','version':'','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/version"));
    CHECK(rejected_at("{'format':1,'id':'t','version':'123456789012345678901234567890123',"
                      "'default_language':'en','languages':['en','ko'],'title':" LBL
                      ",'questions':[" NUMBER("a", "") "]}",
                      "/version"));
    CHECK(rejected_at(
        "{'format':1,'id':'t','version':'1\\u0007','default_language':'en','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/version"));
    CHECK(loads("{'format':1,'id':'t','version':'12345678901234567890123456789012',"
                "'default_language':'en','languages':['en','ko'],'title':" LBL
                ",'questions':[" NUMBER("a", "") "]}"));
}

static void test_language_problems_are_rejected(void)
{
    CHECK(rejected_at(
        "{'format':1,'id':'t','version':'1','default_language':'fr','languages':['en','ko'],"
        "'title':" LBL ",'questions':[" NUMBER("a", "") "]}",
        "/default_language"));
    CHECK(rejected_under(
        "{'format':1,'id':'t','version':'1','default_language':'en','languages':['en','en'],"
        "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}",
        "/languages"));
    CHECK(
        rejected_under("{'format':1,'id':'t','version':'1','default_language':'en','languages':[],"
                       "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}",
                       "/languages"));
    CHECK(rejected_under(
        "{'format':1,'id':'t','version':'1','default_language':'en',"
        "'languages':['en','ko','ja','zh','fr','de','es','it','pt'],"
        "'title':{'en':'T','ko':'T','ja':'T','zh':'T','fr':'T','de':'T','es':'T','it':'T','pt':'T'}"
        ","
        "'questions':[{'id':'a','type':'number','label':{'en':'T','ko':'T','ja':'T','zh':'T',"
        "'fr':'T','de':'T','es':'T','it':'T','pt':'T'}}]}",
        "/languages"));
    CHECK(rejected_under(
        "{'format':1,'id':'t','version':'1','default_language':'en','languages':['en',3],"
        "'title':{'en':'T'},'questions':[" NUMBER("a", "") "]}",
        "/languages"));
    CHECK(loads(
        "{'format':1,'id':'t','version':'1','default_language':'pt-BR','languages':['pt-BR'],"
        "'title':{'pt-BR':'T'},'questions':[{'id':'a','type':'number','label':{'pt-BR':'A'}}]}"));
}

static void test_eligibility_rule_on_unknown_question_is_rejected(void)
{
    CHECK(rejected_under(DEF(SINGLE("a", ""),
                             ",'eligibility':[{'id':'r','screen_out_if':"
                             "{'question':'role','equals':'other'},'message':" LBL "}]"),
                         "/eligibility/0/screen_out_if"));
    CHECK(rejected(DEF(SINGLE("a", ""), ",'eligibility':[{'id':'r','screen_out_if':"
                                        "{'question':'a','equals':'x'}}]")));
    CHECK(rejected(DEF(SINGLE("a", ""), ",'eligibility':[{'id':'r','message':" LBL "}]")));
}

static void test_duplicate_ids_of_indicators_rules_and_pillars_are_rejected(void)
{
    CHECK(rejected(DEF(SINGLE("a", ""),
                       ",'indicators':[{'id':'i','label':" LBL
                       ",'when':{'question':'a','equals':'x'}},{'id':'i','label':" LBL
                       ",'when':{'question':'a','equals':'y'}}]")));
    CHECK(rejected(DEF(SINGLE("a", ""),
                       ",'eligibility':[{'id':'r','screen_out_if':{'question':'a',"
                       "'equals':'x'},'message':" LBL "},{'id':'r','screen_out_if':{'question':'a',"
                       "'equals':'y'},'message':" LBL "}]")));
    CHECK(rejected(DEF(SINGLE("a", ""),
                       ",'composite':{'id':'idx','label':" LBL ",'min':0,'max':100,"
                       "'pillars':[{'id':'p','label':" LBL
                       ",'items':[{'question':'a','scores':" SCORES3 "}]},{'id':'p','label':" LBL
                       ",'items':[{'question':'a','scores':" SCORES3 "}]}]}")));
}

static void test_all_problems_are_listed(void)
{
    struct qproblems p;
    const char *sq = DEF(
        "{'id':'a','type':'single','label':" LBL ",'options':[" OPT("x") "," OPT(
            "x") "]}"
                 "," NUMBER("b", ",'requried':true") "," NUMBER("c", ",'min':10,'max':1") "," MULTI(
                     "d", ",'max_choices':9"),
        ",'indicators':[{'id':'i','label':" LBL ",'when':{'question':'zz','equals':'x'}}]"
        ",'eligibility':[{'id':'r','screen_out_if':{'question':'a','equals':'nope'},'message':" LBL
        "}]" COMPOSITE("{'question':'a','scores':{'x':500}}"));
    CHECK(rejected_into(sq, &p));
    CHECK(unit_find(&p, "/questions/0/options/1/code", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/1/requried", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/2/min", NULL) >= 0 ||
          unit_find(&p, "/questions/2/max", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/3/max_choices", NULL) >= 0);
    CHECK(unit_find_under(&p, "/indicators/0/when", NULL) >= 0);
    CHECK(unit_find_under(&p, "/eligibility/0/screen_out_if", NULL) >= 0);
    CHECK(unit_find_under(&p, "/composite/pillars/0/items/0/scores", NULL) >= 0);
    CHECK(p.count >= 7);
    if (p.count < 7)
        unit_print_problems(&p);
    qproblems_clear(&p);
}

static void test_all_problems_of_one_question_are_listed(void)
{
    struct qproblems p;
    CHECK(rejected_into(DEF("{'id':'Bad','type':'number','label':{'en':'A'},'min':'0','options':[],"
                            "'colour':'red'}",
                            ""),
                        &p));
    CHECK(unit_find(&p, "/questions/0/id", NULL) >= 0);
    CHECK(unit_find_under(&p, "/questions/0/label", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/0/min", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/0/options", NULL) >= 0);
    CHECK(unit_find(&p, "/questions/0/colour", NULL) >= 0);
    qproblems_clear(&p);
}

static void test_problem_list_bound_is_respected(void)
{
    struct qproblems p;
    qproblems_init(&p, 2);
    char *text = unit_dq(
        DEF(NUMBER("A", "") "," NUMBER("B", "") "," NUMBER("C", "") "," NUMBER("D", ""), ""));
    struct qdef *def = qdef_load(text, strlen(text), &p);
    CHECK(def == NULL);
    CHECK(p.count == 2);
    CHECK(p.truncated);
    qdef_free(def);
    qproblems_clear(&p);
    free(text);
}

static void test_definition_text_need_not_be_nul_terminated(void)
{
    struct qproblems p;
    char *text = unit_dq(DEF(NUMBER("a", ""), ""));
    size_t len = strlen(text);
    char *copy = malloc(len + 8);
    if (copy == NULL)
        abort();
    memcpy(copy, text, len);
    memcpy(copy + len, "garbage", 7);
    qproblems_init(&p, 100);
    struct qdef *def = qdef_load(copy, len, &p);
    CHECK(def != NULL);
    CHECK(p.count == 0);
    qdef_free(def);
    qproblems_clear(&p);
    free(copy);
    free(text);
}

TEST_MAIN(TEST_CASE(test_bundled_definition_loads_with_expected_counts),
          TEST_CASE(test_bundled_questions_follow_product_order_and_types),
          TEST_CASE(test_bundled_option_codes_match_the_contract),
          TEST_CASE(test_bundled_labels_use_product_wording),
          TEST_CASE(test_bundled_flags_follow_product_rules),
          TEST_CASE(test_bundled_limits_follow_product_rules),
          TEST_CASE(test_bundled_use_cases_are_shown_only_when_experimenting_or_in_production),
          TEST_CASE(test_bundled_eligibility_screens_out_role_other),
          TEST_CASE(test_bundled_indicators_match_the_published_table),
          TEST_CASE(test_bundled_composite_has_five_pillars_with_product_scores),
          TEST_CASE(test_lookup_helpers),
          TEST_CASE(test_minimal_definition_gets_documented_defaults),
          TEST_CASE(test_every_question_type_and_condition_form_loads),
          TEST_CASE(test_sections_assign_questions_in_order),
          TEST_CASE(test_invalid_json_is_rejected_with_a_problem),
          TEST_CASE(test_missing_required_members_are_rejected),
          TEST_CASE(test_duplicate_question_id_is_rejected),
          TEST_CASE(test_duplicate_option_code_is_rejected),
          TEST_CASE(test_unknown_option_in_a_condition_is_rejected),
          TEST_CASE(test_forward_reference_in_show_if_is_rejected),
          TEST_CASE(test_condition_on_unknown_question_is_rejected),
          TEST_CASE(test_indicator_on_a_missing_question_is_rejected),
          TEST_CASE(test_includes_on_a_single_question_is_rejected),
          TEST_CASE(test_equals_on_a_multiple_question_is_rejected),
          TEST_CASE(test_comparisons_that_do_not_fit_the_type_are_rejected),
          TEST_CASE(test_malformed_conditions_are_rejected),
          TEST_CASE(test_condition_nesting_beyond_the_limit_is_rejected),
          TEST_CASE(test_all_and_any_take_at_most_64_conditions),
          TEST_CASE(test_missing_language_in_a_text_is_rejected),
          TEST_CASE(test_empty_or_oversized_texts_are_rejected),
          TEST_CASE(test_text_in_an_unlisted_language_is_rejected),
          TEST_CASE(test_unknown_members_are_rejected),
          TEST_CASE(test_problem_paths_escape_pointer_characters),
          TEST_CASE(test_members_that_do_not_apply_to_the_type_are_rejected),
          TEST_CASE(test_wrong_types_are_rejected),
          TEST_CASE(test_min_greater_than_max_is_rejected),
          TEST_CASE(test_choice_limits_outside_the_options_are_rejected),
          TEST_CASE(test_option_and_question_counts_are_bounded),
          TEST_CASE(test_composite_item_missing_a_score_for_an_option_is_rejected),
          TEST_CASE(test_composite_score_outside_min_max_is_rejected),
          TEST_CASE(test_composite_score_for_an_unknown_option_is_rejected),
          TEST_CASE(test_composite_item_on_a_question_that_is_not_single_is_rejected),
          TEST_CASE(test_sections_must_be_contiguous),
          TEST_CASE(test_sections_must_be_in_section_order),
          TEST_CASE(test_questions_must_name_a_known_section),
          TEST_CASE(test_bad_identifiers_are_rejected),
          TEST_CASE(test_bad_questionnaire_ids_are_rejected),
          TEST_CASE(test_bad_versions_are_rejected), TEST_CASE(test_language_problems_are_rejected),
          TEST_CASE(test_eligibility_rule_on_unknown_question_is_rejected),
          TEST_CASE(test_duplicate_ids_of_indicators_rules_and_pillars_are_rejected),
          TEST_CASE(test_all_problems_are_listed),
          TEST_CASE(test_all_problems_of_one_question_are_listed),
          TEST_CASE(test_problem_list_bound_is_respected),
          TEST_CASE(test_definition_text_need_not_be_nul_terminated))
