/*
 * Validation of one response: every problem code of FORMAT.md, passing and failing, on the
 * bundled questionnaire and on small hand-made definitions; skip logic and screen-out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qval.h"
#include "unit_helpers.h"

/* A complete, valid response to the bundled questionnaire. */
#define FULL_RESPONSE                                                                              \
    "{'role':'c_level','industry':'finance','company_size':'large','region':'seoul',"              \
    "'genai_stage':'production','use_cases':['customer_service','analytics'],"                     \
    "'budget_top_priority':'genai','genai_budget_share':12.5,'caio':'appointed',"                  \
    "'change_mgmt':'in_place','training':'in_place','hiring_genai_2025':'yes',"                    \
    "'approach':['general_purpose','fine_tune_own_data'],'comments':'좋은 설문입니다.',"    \
    "'contact_email':'kim@example.co.kr'}"

/* The bundled definition, loaded once for the whole program (reachable until exit). */
static struct qdef *bundled(void)
{
    static struct qdef *def;
    if (def == NULL)
        def = unit_load_bundled();
    return def;
}

struct run {
    struct qproblems p;
    struct qval_outcome out;
};

static void run_validate(const struct qdef *def, const cJSON *answers, struct run *r)
{
    qproblems_init(&r->p, QVAL_MAX_PROBLEMS);
    r->out.screened_out = true; /* poisoned: qval_validate fills it either way */
    r->out.screen_out_rule = 12345;
    if (def != NULL)
        qval_validate(def, answers, &r->p, &r->out);
    CHECK(unit_problems_well_formed(&r->p));
}

/* The full valid response with some members replaced; a null in overrides removes one. */
static cJSON *full_with(const char *overrides)
{
    cJSON *base = unit_json(FULL_RESPONSE);
    cJSON *over = unit_json(overrides);
    if (base == NULL || over == NULL) {
        cJSON_Delete(over);
        return base;
    }
    for (cJSON *m = over->child; m != NULL; m = m->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(base, m->string);
        if (!cJSON_IsNull(m))
            cJSON_AddItemToObject(base, m->string, cJSON_Duplicate(m, 1));
    }
    cJSON_Delete(over);
    return base;
}

/* Validate answers against def; true when exactly the one problem {path, code} is reported. */
static bool only_problem(const struct qdef *def, cJSON *answers, const char *path, const char *code)
{
    struct run r;
    run_validate(def, answers, &r);
    bool ok = r.p.count == 1 && unit_find(&r.p, path, code) == 0;
    if (!ok) {
        char *text = cJSON_PrintUnformatted(answers);
        fprintf(stderr, "  expected only %s [%s] for %s\n", path, code, text ? text : "?");
        free(text);
        unit_print_problems(&r.p);
    }
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
    return ok;
}

/* Validate; true when a problem {path, code} is among those reported (others may be). */
static bool has_problem(const struct qdef *def, cJSON *answers, const char *path, const char *code)
{
    struct run r;
    run_validate(def, answers, &r);
    bool ok = unit_find(&r.p, path, code) >= 0;
    if (!ok) {
        char *text = cJSON_PrintUnformatted(answers);
        fprintf(stderr, "  expected %s [%s] for %s\n", path, code, text ? text : "?");
        free(text);
        unit_print_problems(&r.p);
    }
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
    return ok;
}

/* Validate; true when a problem with code is at or under prefix. */
static bool has_problem_under(const struct qdef *def, cJSON *answers, const char *prefix,
                              const char *code)
{
    struct run r;
    run_validate(def, answers, &r);
    bool ok = unit_find_under(&r.p, prefix, code) >= 0;
    if (!ok) {
        char *text = cJSON_PrintUnformatted(answers);
        fprintf(stderr, "  expected [%s] at or under %s for %s\n", code, prefix, text ? text : "?");
        free(text);
        unit_print_problems(&r.p);
    }
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
    return ok;
}

/* Validate; true when no problem is reported and the response is not screened out. */
static bool valid(const struct qdef *def, cJSON *answers)
{
    struct run r;
    run_validate(def, answers, &r);
    bool ok =
        r.p.count == 0 && !r.p.truncated && !r.out.screened_out && r.out.screen_out_rule == -1;
    if (!ok) {
        char *text = cJSON_PrintUnformatted(answers);
        fprintf(stderr, "  expected valid: %s\n", text ? text : "?");
        free(text);
        unit_print_problems(&r.p);
    }
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
    return ok;
}

/* A JSON string member {"key": "<n copies of unit>"} as a tree. */
static cJSON *string_answer(const char *key, const char *unit, size_t n, const char *tail)
{
    size_t ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(ul * n + tl + 1);
    if (s == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * n, tail, tl + 1);
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, key, s);
    free(s);
    return obj;
}

/* ---- valid responses --------------------------------------------------------------------- */

static void test_fully_valid_response_has_no_problems(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(valid(def, unit_json(FULL_RESPONSE)));
    CHECK(valid(def, full_with("{'role':'vp_director','genai_stage':'experimenting',"
                               "'use_cases':['customer_service','software_development',"
                               "'document_processing','marketing','analytics','other'],"
                               "'approach':['general_purpose','custom_on_pretrained',"
                               "'fine_tune_own_data','build_from_scratch'],"
                               "'genai_budget_share':0}")));
    CHECK(valid(def,
                full_with("{'role':'head_of_it','approach':['undecided'],"
                          "'genai_budget_share':100,'comments':'line one\\r\\nline two\\tend'}")));
}

static void test_minimal_valid_response_has_no_problems(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    /* Optional questions omitted, use_cases hidden by genai_stage = none. */
    CHECK(
        valid(def, unit_json("{'role':'c_level','industry':'other','company_size':'small',"
                             "'region':'other','genai_stage':'none','budget_top_priority':'other',"
                             "'caio':'no','change_mgmt':'no_plan','training':'no_plan',"
                             "'hiring_genai_2025':'unsure','approach':['undecided']}")));
    CHECK(valid(def, full_with("{'genai_stage':'exploring','use_cases':null,'comments':null,"
                               "'contact_email':null,'genai_budget_share':null}")));
}

/* ---- required --------------------------------------------------------------------------- */

static void test_missing_required_answer_is_reported_at_its_path(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'caio':null}"), "/answers/caio", "required"));
    CHECK(only_problem(def, full_with("{'approach':null}"), "/answers/approach", "required"));
    CHECK(only_problem(def, full_with("{'industry':null}"), "/answers/industry", "required"));
}

static void test_empty_answers_list_every_shown_required_question(void)
{
    static const char *const required[] = {
        "role",         "industry",
        "company_size", "region",
        "genai_stage",  "budget_top_priority",
        "caio",         "change_mgmt",
        "training",     "hiring_genai_2025",
        "approach",
    };
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *answers = unit_json("{}");
    run_validate(def, answers, &r);
    CHECK(r.p.count == sizeof required / sizeof required[0]);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/answers/%s", required[i]);
        CHECK(unit_find(&r.p, path, "required") >= 0);
    }
    /* use_cases is hidden while genai_stage is unanswered, so it is not required. */
    CHECK(unit_find(&r.p, "/answers/use_cases", NULL) < 0);
    CHECK(!r.out.screened_out);
    CHECK(r.out.screen_out_rule == -1);
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
}

static void test_use_cases_are_required_when_experimenting_or_in_production(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'use_cases':null}"), "/answers/use_cases", "required"));
    CHECK(only_problem(def, full_with("{'use_cases':null,'genai_stage':'experimenting'}"),
                       "/answers/use_cases", "required"));
}

static void test_required_question_hidden_by_skip_logic_is_not_required(void)
{
    struct qdef *def =
        unit_load_ok(DEF(SINGLE("a", ",'required':true") "," NUMBER(
                             "b", ",'required':true,'show_if':{'question':'a','equals':'x'}"),
                         ""));
    if (def == NULL)
        return;
    CHECK(valid(def, unit_json("{'a':'y'}")));
    CHECK(only_problem(def, unit_json("{'a':'x'}"), "/answers/b", "required"));
    CHECK(valid(def, unit_json("{'a':'x','b':3}")));
    qdef_free(def);
}

/* ---- not_shown ---------------------------------------------------------------------------- */

static void test_use_cases_sent_when_genai_stage_is_none_is_not_shown(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(
        only_problem(def, full_with("{'genai_stage':'none'}"), "/answers/use_cases", "not_shown"));
    CHECK(only_problem(def, full_with("{'genai_stage':'exploring'}"), "/answers/use_cases",
                       "not_shown"));
}

static void test_hidden_question_counts_as_unanswered_whatever_the_client_sent(void)
{
    /* c is shown when b is answered; b is shown only when a = x. */
    struct qdef *def = unit_load_ok(
        DEF(SINGLE("a", "") "," NUMBER("b", ",'show_if':{'question':'a','equals':'x'}") "," TEXT(
                "c", ",'required':true,'show_if':{'question':'b','answered':true}"),
            ""));
    if (def == NULL)
        return;
    struct run r;
    cJSON *answers = unit_json("{'a':'y','b':5,'c':'hello'}");
    run_validate(def, answers, &r);
    CHECK(r.p.count == 2);
    CHECK(unit_find(&r.p, "/answers/b", "not_shown") >= 0);
    CHECK(unit_find(&r.p, "/answers/c", "not_shown") >= 0);
    qproblems_clear(&r.p);
    cJSON_Delete(answers);
    /* Without c while b is hidden: only b's problem, c is not required. */
    CHECK(only_problem(def, unit_json("{'a':'y','b':5}"), "/answers/b", "not_shown"));
    CHECK(only_problem(def, unit_json("{'a':'x','b':5}"), "/answers/c", "required"));
    CHECK(valid(def, unit_json("{'a':'x','b':5,'c':'hello'}")));
    qdef_free(def);
}

/* ---- not_an_option ------------------------------------------------------------------------ */

static void test_code_that_is_not_an_option_is_rejected(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'caio':'maybe'}"), "/answers/caio", "not_an_option"));
    CHECK(only_problem(def, full_with("{'caio':'Appointed'}"), "/answers/caio", "not_an_option"));
    CHECK(only_problem(def, full_with("{'role':''}"), "/answers/role", "not_an_option") ||
          only_problem(def, full_with("{'role':''}"), "/answers/role", "empty"));
    CHECK(only_problem(def, full_with("{'approach':['general_purpose','nope']}"),
                       "/answers/approach/1", "not_an_option"));
    CHECK(only_problem(def, full_with("{'use_cases':['analytics','marketing','Other']}"),
                       "/answers/use_cases/2", "not_an_option"));
    /* A code of another question is not an option of this one. */
    CHECK(only_problem(def, full_with("{'training':'appointed'}"), "/answers/training",
                       "not_an_option"));
}

/* ---- wrong_type --------------------------------------------------------------------------- */

static void test_answers_that_are_not_an_object_are_wrong_type(void)
{
    static const char *const not_objects[] = {"[]",   "'answers'", "42",
                                              "null", "true",      "[{'role':'c_level'}]"};
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
        struct run r;
        cJSON *answers = unit_json(not_objects[i]);
        run_validate(def, answers, &r);
        CHECK(r.p.count == 1);
        CHECK(unit_find(&r.p, "/answers", "wrong_type") == 0);
        CHECK(!r.out.screened_out);
        CHECK(r.out.screen_out_rule == -1);
        qproblems_clear(&r.p);
        cJSON_Delete(answers);
    }
    /* A missing answers member (NULL) is not an object either. */
    struct run r;
    run_validate(def, NULL, &r);
    CHECK(unit_find(&r.p, "/answers", "wrong_type") >= 0);
    CHECK(!r.out.screened_out);
    qproblems_clear(&r.p);
}

static void test_number_sent_as_string_is_wrong_type(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'genai_budget_share':'12'}"), "/answers/genai_budget_share",
                       "wrong_type"));
    CHECK(only_problem(def, full_with("{'genai_budget_share':true}"), "/answers/genai_budget_share",
                       "wrong_type"));
    CHECK(only_problem(def, full_with("{'genai_budget_share':[12]}"), "/answers/genai_budget_share",
                       "wrong_type"));
}

static void test_single_sent_as_array_is_wrong_type(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'caio':['appointed']}"), "/answers/caio", "wrong_type"));
    CHECK(only_problem(def, full_with("{'role':1}"), "/answers/role", "wrong_type"));
    CHECK(only_problem(def, full_with("{'region':{'code':'seoul'}}"), "/answers/region",
                       "wrong_type"));
}

static void test_other_wrong_types_are_rejected(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'approach':'general_purpose'}"), "/answers/approach",
                       "wrong_type"));
    CHECK(only_problem(def, full_with("{'comments':5}"), "/answers/comments", "wrong_type"));
    CHECK(only_problem(def, full_with("{'comments':['a']}"), "/answers/comments", "wrong_type"));
    CHECK(only_problem(def, full_with("{'contact_email':{}}"), "/answers/contact_email",
                       "wrong_type"));
    CHECK(only_problem(
        def,
        unit_json("{'role':'c_level','industry':'finance','company_size':'large',"
                  "'region':'seoul','genai_stage':'none','budget_top_priority':'genai',"
                  "'caio':null,'change_mgmt':'in_place','training':'in_place',"
                  "'hiring_genai_2025':'yes','approach':['undecided']}"),
        "/answers/caio", "wrong_type"));
    CHECK(has_problem_under(def, full_with("{'approach':[1]}"), "/answers/approach", "wrong_type"));
    CHECK(has_problem_under(def, full_with("{'approach':['general_purpose',null]}"),
                            "/answers/approach", "wrong_type"));
}

/* ---- numbers ------------------------------------------------------------------------------ */

static void test_number_outside_min_max_is_out_of_range(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'genai_budget_share':-0.1}"), "/answers/genai_budget_share",
                       "out_of_range"));
    CHECK(only_problem(def, full_with("{'genai_budget_share':100.1}"),
                       "/answers/genai_budget_share", "out_of_range"));
    CHECK(only_problem(def, full_with("{'genai_budget_share':1000000}"),
                       "/answers/genai_budget_share", "out_of_range"));
    CHECK(valid(def, full_with("{'genai_budget_share':0}")));
    CHECK(valid(def, full_with("{'genai_budget_share':100}")));
    CHECK(valid(def, full_with("{'genai_budget_share':-0}")));
}

static void test_one_decimal_allowed_two_rejected(void)
{
    static const char *const ok[] = {"12.3", "0.1", "0.2",   "0.3", "0.7", "1.1",  "33.3",
                                     "99.9", "50",  "12.30", "1e1", "0.5", "64.1", "4.35e1"};
    static const char *const bad[] = {"12.34", "0.05", "99.99",     "0.001",
                                      "33.33", "1.15", "12.3000001"};
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    char over[128];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(over, sizeof over, "{'genai_budget_share':%s}", ok[i]);
        CHECK(valid(def, full_with(over)));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(over, sizeof over, "{'genai_budget_share':%s}", bad[i]);
        CHECK(
            only_problem(def, full_with(over), "/answers/genai_budget_share", "too_many_decimals"));
    }
}

static void test_decimals_limit_on_hand_made_numbers(void)
{
    struct qdef *def =
        unit_load_ok(DEF(NUMBER("n0", "") "," NUMBER("n2", ",'decimals':2") "," NUMBER(
                             "n6", ",'decimals':6,'min':-1,'max':1"),
                         ""));
    if (def == NULL)
        return;
    CHECK(valid(def, unit_json("{'n0':3,'n2':1.15,'n6':0.123456}")));
    CHECK(valid(def, unit_json("{'n0':-7,'n2':4.35,'n6':-0.000001}")));
    CHECK(valid(def, unit_json("{'n0':1e2,'n2':0.29,'n6':1}")));
    CHECK(valid(def, unit_json("{'n0':123456789,'n2':1234567.89}")));
    CHECK(only_problem(def, unit_json("{'n0':3.5}"), "/answers/n0", "too_many_decimals"));
    CHECK(only_problem(def, unit_json("{'n0':0.1}"), "/answers/n0", "too_many_decimals"));
    CHECK(only_problem(def, unit_json("{'n2':1.005}"), "/answers/n2", "too_many_decimals"));
    CHECK(only_problem(def, unit_json("{'n6':0.1234567}"), "/answers/n6", "too_many_decimals"));
    CHECK(only_problem(def, unit_json("{'n6':2}"), "/answers/n6", "out_of_range"));
    qdef_free(def);
}

/* ---- text and e-mail ---------------------------------------------------------------------- */

static void test_text_length_is_counted_in_code_points(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    cJSON *a = full_with("{'comments':null}");
    cJSON *c2000 = string_answer("comments", "한", 2000, "");
    cJSON_AddItemToObject(a, "comments", cJSON_DetachItemFromObject(c2000, "comments"));
    cJSON_Delete(c2000);
    CHECK(valid(def, a));

    a = full_with("{'comments':null}");
    cJSON *c2001 = string_answer("comments", "한", 2001, "");
    cJSON_AddItemToObject(a, "comments", cJSON_DetachItemFromObject(c2001, "comments"));
    cJSON_Delete(c2001);
    CHECK(only_problem(def, a, "/answers/comments", "too_long"));

    a = full_with("{'comments':null}");
    cJSON *ascii = string_answer("comments", "a", 2001, "");
    cJSON_AddItemToObject(a, "comments", cJSON_DetachItemFromObject(ascii, "comments"));
    cJSON_Delete(ascii);
    CHECK(only_problem(def, a, "/answers/comments", "too_long"));

    struct qdef *small = unit_load_ok(DEF(TEXT("t", ",'max_length':5"), ""));
    if (small != NULL) {
        CHECK(valid(small, string_answer("t", "😀", 5, "")));
        CHECK(only_problem(small, string_answer("t", "😀", 6, ""), "/answers/t", "too_long"));
        CHECK(valid(small, string_answer("t", "é", 5, "")));
        qdef_free(small);
    }
}

static void test_empty_or_blank_strings_are_empty(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'comments':''}"), "/answers/comments", "empty"));
    CHECK(only_problem(def, full_with("{'comments':'   '}"), "/answers/comments", "empty"));
    CHECK(only_problem(def, full_with("{'comments':' \\n\\t\\r '}"), "/answers/comments", "empty"));
    CHECK(only_problem(def, full_with("{'contact_email':''}"), "/answers/contact_email", "empty"));
    CHECK(
        only_problem(def, full_with("{'contact_email':'  '}"), "/answers/contact_email", "empty"));
    CHECK(valid(def, full_with("{'comments':' x '}")));
}

static void test_full_width_or_no_break_spaces_only_are_empty(void)
{
    /* Korean input methods type U+3000; "white-space only" covers it and U+00A0 too. */
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(
        only_problem(def, full_with("{'comments':'\u3000\u3000'}"), "/answers/comments", "empty"));
    CHECK(only_problem(def, full_with("{'comments':' \u00a0 '}"), "/answers/comments", "empty"));
    CHECK(valid(def, full_with("{'comments':'\u3000의견\u3000'}")));
}

static void test_text_with_control_characters_is_invalid(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'comments':'a\\u0001b'}"), "/answers/comments",
                       "invalid_text"));
    CHECK(only_problem(def, full_with("{'comments':'\\u001b[31mred'}"), "/answers/comments",
                       "invalid_text"));
    CHECK(only_problem(def, full_with("{'comments':'back\\bspace'}"), "/answers/comments",
                       "invalid_text"));
    CHECK(only_problem(def, full_with("{'comments':'form\\ffeed'}"), "/answers/comments",
                       "invalid_text"));
    CHECK(valid(def, full_with("{'comments':'tab\\there\\r\\nnew line\\n'}")));
}

static void test_text_with_del_or_c1_control_is_invalid(void)
{
    /* U+007F and U+0080-U+009F are control characters too (Unicode category Cc). */
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'comments':'a\\u007fb'}"), "/answers/comments",
                       "invalid_text"));
    CHECK(only_problem(def, full_with("{'comments':'a\\u0085b'}"), "/answers/comments",
                       "invalid_text"));
}

static void test_malformed_email_is_invalid_email(void)
{
    static const char *const bad[] = {
        "not-an-email",     "a@b", "a b@example.com", "@example.com", "kim@", "kim.example.com",
        "kim@exa mple.com",
    };
    /* FORMAT.md lists controls under both invalid_email ("no spaces or controls") and
     * invalid_text: either code will do, but exactly one problem. */
    static const char *const controls[] = {"kim@example.com\\u0001", "kim@\\texample.com"};
    static const char *const good[] = {
        "kim@example.com",
        "first.last+tag@sub.example.co.kr",
        "x@y.z",
        "KIM@EXAMPLE.COM",
    };
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    char over[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(over, sizeof over, "{'contact_email':'%s'}", bad[i]);
        CHECK(only_problem(def, full_with(over), "/answers/contact_email", "invalid_email"));
    }
    for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
        snprintf(over, sizeof over, "{'contact_email':'%s'}", controls[i]);
        struct run r;
        cJSON *a = full_with(over);
        run_validate(def, a, &r);
        CHECK(r.p.count == 1);
        CHECK(unit_find(&r.p, "/answers/contact_email", "invalid_email") >= 0 ||
              unit_find(&r.p, "/answers/contact_email", "invalid_text") >= 0);
        qproblems_clear(&r.p);
        cJSON_Delete(a);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(over, sizeof over, "{'contact_email':'%s'}", good[i]);
        CHECK(valid(def, full_with(over)));
    }
}

static void test_email_longer_than_254_is_too_long(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    char email[300];
    for (int extra = 0; extra <= 1; extra++) {
        /* 64 + 1 + 63 + 1 + 63 + 1 + (57 or 58) + 4 = 254 or 255 characters. */
        char *p = email;
        memset(p, 'a', 64), p += 64, *p++ = '@';
        memset(p, 'b', 63), p += 63, *p++ = '.';
        memset(p, 'c', 63), p += 63, *p++ = '.';
        memset(p, 'd', (size_t)(57 + extra)), p += 57 + extra;
        strcpy(p, ".com");
        CHECK(strlen(email) == (size_t)(254 + extra));
        cJSON *a = full_with("{'contact_email':null}");
        cJSON_AddStringToObject(a, "contact_email", email);
        if (extra == 0)
            CHECK(valid(def, a));
        else
            CHECK(only_problem(def, a, "/answers/contact_email", "too_long"));
    }
}

/* ---- choices ------------------------------------------------------------------------------ */

static void test_choice_counts_outside_limits_are_reported(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(has_problem(def, full_with("{'approach':[]}"), "/answers/approach", "too_few_choices"));
    CHECK(has_problem(def, full_with("{'use_cases':[]}"), "/answers/use_cases", "too_few_choices"));

    struct qdef *two = unit_load_ok(DEF(MULTI("m", ",'min_choices':2,'max_choices':2"), ""));
    if (two == NULL)
        return;
    CHECK(only_problem(two, unit_json("{'m':['x']}"), "/answers/m", "too_few_choices"));
    CHECK(only_problem(two, unit_json("{'m':['x','y','z']}"), "/answers/m", "too_many_choices"));
    CHECK(valid(two, unit_json("{'m':['z','x']}")));
    qdef_free(two);
}

static void test_same_choice_twice_is_duplicate_choice(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'approach':['general_purpose','general_purpose']}"),
                       "/answers/approach/1", "duplicate_choice"));
    CHECK(has_problem(def, full_with("{'use_cases':['marketing','analytics','other','marketing']}"),
                      "/answers/use_cases/3", "duplicate_choice"));
}

static void test_exclusive_option_with_other_choice_is_rejected(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(has_problem_under(def, full_with("{'approach':['undecided','general_purpose']}"),
                            "/answers/approach", "exclusive_option"));
    CHECK(has_problem_under(def, full_with("{'approach':['fine_tune_own_data','undecided']}"),
                            "/answers/approach", "exclusive_option"));
    struct run r;
    cJSON *a = full_with("{'approach':['general_purpose','undecided']}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 1);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
    CHECK(valid(def, full_with("{'approach':['undecided']}")));
}

/* ---- unknown_question --------------------------------------------------------------------- */

static void test_unknown_key_is_unknown_question_named_only_when_a_valid_id(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    CHECK(only_problem(def, full_with("{'foo':1}"), "/answers/foo", "unknown_question"));
    CHECK(only_problem(def, full_with("{'use_case':['analytics']}"), "/answers/use_case",
                       "unknown_question"));
    CHECK(only_problem(def, full_with("{'Caio':'appointed'}"), "/answers", "unknown_question"));
    CHECK(only_problem(def, full_with("{'a/b':1}"), "/answers", "unknown_question"));
    CHECK(only_problem(def, full_with("{'<script>':1}"), "/answers", "unknown_question"));
    CHECK(only_problem(def, full_with("{'':1}"), "/answers", "unknown_question"));
    CHECK(only_problem(def, full_with("{'9lives':1}"), "/answers", "unknown_question"));
    CHECK(only_problem(
        def, full_with("{'a234567890123456789012345678901234567890123456789012345678901234':1}"),
        "/answers/a234567890123456789012345678901234567890123456789012345678901234",
        "unknown_question"));
    CHECK(only_problem(
        def, full_with("{'a2345678901234567890123456789012345678901234567890123456789012345':1}"),
        "/answers", "unknown_question"));
}

/* ---- truncation --------------------------------------------------------------------------- */

/* Screened out (so nothing else is reported) plus n unknown question ids. */
static cJSON *screened_out_with_unknown_keys(int n)
{
    cJSON *a = unit_json("{'role':'other'}");
    for (int i = 0; i < n && a != NULL; i++) {
        char key[32];
        snprintf(key, sizeof key, "unknown_%03d", i);
        cJSON_AddNumberToObject(a, key, i);
    }
    return a;
}

static void test_exactly_64_problems_are_all_listed(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = screened_out_with_unknown_keys(QVAL_MAX_PROBLEMS);
    run_validate(def, a, &r);
    CHECK(r.p.count == QVAL_MAX_PROBLEMS);
    CHECK(!r.p.truncated);
    CHECK(unit_count_code(&r.p, "unknown_question") == QVAL_MAX_PROBLEMS);
    CHECK(unit_count_code(&r.p, "too_many_problems") == 0);
    CHECK(unit_find(&r.p, "/answers/unknown_000", "unknown_question") >= 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

static void test_more_than_64_problems_end_with_too_many_problems(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = screened_out_with_unknown_keys(200);
    run_validate(def, a, &r);
    CHECK(r.p.truncated);
    CHECK(r.p.count >= QVAL_MAX_PROBLEMS && r.p.count <= QVAL_MAX_PROBLEMS + 1);
    CHECK(unit_count_code(&r.p, "too_many_problems") == 1);
    CHECK(unit_count_code(&r.p, "unknown_question") >= QVAL_MAX_PROBLEMS - 1);
    if (r.p.count > 0)
        CHECK_STR(r.p.items[r.p.count - 1].code, "too_many_problems");
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

/* ---- several problems, messages ---------------------------------------------------------- */

static void test_all_problems_of_a_response_are_listed(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = full_with("{'caio':'maybe','training':null,'approach':['undecided','undecided'],"
                         "'genai_budget_share':12.34,'comments':'','contact_email':'nope',"
                         "'extra':true}");
    run_validate(def, a, &r);
    CHECK(unit_find(&r.p, "/answers/caio", "not_an_option") >= 0);
    CHECK(unit_find(&r.p, "/answers/training", "required") >= 0);
    CHECK(unit_find(&r.p, "/answers/approach/1", "duplicate_choice") >= 0);
    CHECK(unit_find(&r.p, "/answers/genai_budget_share", "too_many_decimals") >= 0);
    CHECK(unit_find(&r.p, "/answers/comments", "empty") >= 0);
    CHECK(unit_find(&r.p, "/answers/contact_email", "invalid_email") >= 0);
    CHECK(unit_find(&r.p, "/answers/extra", "unknown_question") >= 0);
    CHECK(r.p.count == 7);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

static void test_messages_never_echo_client_input(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = full_with("{'caio':'SECRET_caio','approach':['SECRET_code'],"
                         "'contact_email':'SECRET@nowhere','comments':'SECRET\\u0001',"
                         "'secret_key':'SECRET_value','SECRET KEY':1,"
                         "'genai_budget_share':'SECRET_num'}");
    run_validate(def, a, &r);
    CHECK(r.p.count >= 7);
    for (size_t i = 0; i < r.p.count; i++) {
        CHECK(strstr(r.p.items[i].message, "SECRET") == NULL);
        CHECK(strstr(r.p.items[i].message, "secret_key") == NULL);
        CHECK(strstr(r.p.items[i].path, "SECRET") == NULL);
    }
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

/* ---- screen-out --------------------------------------------------------------------------- */

static void test_role_other_screens_out_and_later_questions_are_not_required(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = unit_json("{'role':'other'}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 0);
    CHECK(r.out.screened_out);
    CHECK(r.out.screen_out_rule == 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

static void test_answer_after_the_stop_point_is_not_shown(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = unit_json("{'role':'other','industry':'finance','caio':'appointed'}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 2);
    CHECK(unit_find(&r.p, "/answers/industry", "not_shown") >= 0);
    CHECK(unit_find(&r.p, "/answers/caio", "not_shown") >= 0);
    CHECK(r.out.screened_out);
    CHECK(r.out.screen_out_rule == 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);

    /* A complete response from a screened-out respondent: every later answer is not shown. */
    a = full_with("{'role':'other'}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 14);
    CHECK(unit_count_code(&r.p, "not_shown") == 14);
    CHECK(r.out.screened_out);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

static void test_eligible_roles_are_not_screened_out(void)
{
    static const char *const roles[] = {"c_level", "vp_director", "head_of_it"};
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    char over[64];
    for (size_t i = 0; i < 3; i++) {
        snprintf(over, sizeof over, "{'role':'%s'}", roles[i]);
        CHECK(valid(def, full_with(over)));
    }
}

static void test_earliest_stopping_rule_wins(void)
{
    struct qdef *def = unit_load_ok(DEF(
        SINGLE("a", "") "," SINGLE("b", "") "," SINGLE("c", ""),
        ",'eligibility':[{'id':'late','screen_out_if':{'question':'c','equals':'x'},'message':" LBL
        "},"
        "{'id':'early','screen_out_if':{'question':'a','equals':'x'},'message':" LBL "}]"));
    if (def == NULL)
        return;
    CHECK(def->n_rules == 2 && def->rules[0].stop_after == 2 && def->rules[1].stop_after == 0);
    struct run r;
    cJSON *a = unit_json("{'a':'x'}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 0);
    CHECK(r.out.screened_out && r.out.screen_out_rule == 1);
    qproblems_clear(&r.p);
    cJSON_Delete(a);

    a = unit_json("{'a':'y','b':'y','c':'x'}");
    run_validate(def, a, &r);
    CHECK(r.p.count == 0);
    CHECK(r.out.screened_out && r.out.screen_out_rule == 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);

    a = unit_json("{'a':'x','b':'y'}");
    run_validate(def, a, &r);
    CHECK(r.out.screened_out && r.out.screen_out_rule == 1);
    CHECK(unit_find(&r.p, "/answers/b", "not_shown") >= 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
    qdef_free(def);
}

/* ---- qval_shown and qval_cond ------------------------------------------------------------- */

static void test_shown_follows_skip_logic(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    bool shown[15];
    int uc = qdef_find_question(def, "use_cases");
    static const char *const stages[] = {"none", "exploring", "experimenting", "production"};
    for (size_t s = 0; s < 4; s++) {
        char over[64];
        snprintf(over, sizeof over, "{'genai_stage':'%s'}", stages[s]);
        cJSON *a = full_with(over);
        memset(shown, 0, sizeof shown);
        CHECK(qval_shown(def, a, shown) == -1);
        for (int q = 0; q < 15; q++)
            CHECK(shown[q] == (q != uc || s >= 2));
        cJSON_Delete(a);
    }
    cJSON *none = unit_json("{}");
    CHECK(qval_shown(def, none, shown) == -1);
    CHECK(!shown[uc]);
    CHECK(shown[0] && shown[14]);
    cJSON_Delete(none);
}

static void test_shown_stops_at_the_screen_out_point(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    bool shown[15];
    cJSON *a = full_with("{'role':'other'}");
    memset(shown, 1, sizeof shown);
    CHECK(qval_shown(def, a, shown) == 0);
    CHECK(shown[0]);
    for (int q = 1; q < 15; q++)
        CHECK(!shown[q]);
    cJSON_Delete(a);
}

static void test_conditions_on_unanswered_questions_are_false(void)
{
    struct qdef *def = unit_load_ok(
        DEF(SINGLE("a", "") "," MULTI("m", "") "," NUMBER("n", ""),
            ",'indicators':["
            "{'id':'eq','label':" LBL ",'when':{'question':'a','equals':'x'}},"
            "{'id':'noteq','label':" LBL ",'when':{'not':{'question':'a','equals':'x'}}},"
            "{'id':'ans','label':" LBL ",'when':{'question':'a','answered':true}},"
            "{'id':'unans','label':" LBL ",'when':{'question':'a','answered':false}},"
            "{'id':'inc','label':" LBL ",'when':{'question':'m','includes':'y'}},"
            "{'id':'gte','label':" LBL ",'when':{'question':'n','gte':2.5}},"
            "{'id':'lte','label':" LBL ",'when':{'question':'n','lte':2.5}},"
            "{'id':'eqn','label':" LBL ",'when':{'question':'n','equals':2.5}},"
            "{'id':'all','label':" LBL
            ",'when':{'all':[{'question':'a','in':['x','y']},{'question':'n','gte':0}]}},"
            "{'id':'any','label':" LBL
            ",'when':{'any':[{'question':'a','equals':'z'},{'question':'m','includes':'x'}]}}]"));
    if (def == NULL)
        return;
    if (def->n_indicators != 10) {
        qdef_free(def);
        return;
    }
    cJSON *empty = unit_json("{}");
    bool expect_empty[10] = {false, true, false, true, false, false, false, false, false, false};
    for (size_t i = 0; i < 10; i++)
        CHECK(qval_cond(def, def->indicators[i].when, empty, NULL) == expect_empty[i]);
    cJSON_Delete(empty);

    cJSON *full = unit_json("{'a':'x','m':['x','y'],'n':2.5}");
    bool expect_full[10] = {true, false, true, false, true, true, true, true, true, true};
    for (size_t i = 0; i < 10; i++)
        CHECK(qval_cond(def, def->indicators[i].when, full, NULL) == expect_full[i]);
    cJSON_Delete(full);

    cJSON *other = unit_json("{'a':'z','m':['z'],'n':3}");
    bool expect_other[10] = {false, true, true, false, false, true, false, false, false, true};
    for (size_t i = 0; i < 10; i++)
        CHECK(qval_cond(def, def->indicators[i].when, other, NULL) == expect_other[i]);
    cJSON_Delete(other);

    /* With shown given, a hidden question counts as unanswered. */
    cJSON *hidden = unit_json("{'a':'x','m':['y'],'n':2.5}");
    bool shown[3] = {false, false, false};
    bool expect_hidden[10] = {false, true, false, true, false, false, false, false, false, false};
    for (size_t i = 0; i < 10; i++)
        CHECK(qval_cond(def, def->indicators[i].when, hidden, shown) == expect_hidden[i]);
    cJSON_Delete(hidden);
    qdef_free(def);
}

static void test_invalid_stage_hides_use_cases(void)
{
    const struct qdef *def = bundled();
    if (def == NULL)
        return;
    struct run r;
    cJSON *a = full_with("{'genai_stage':'bogus'}");
    run_validate(def, a, &r);
    CHECK(unit_find(&r.p, "/answers/genai_stage", "not_an_option") >= 0);
    CHECK(unit_find(&r.p, "/answers/use_cases", "required") < 0);
    qproblems_clear(&r.p);
    cJSON_Delete(a);
}

TEST_MAIN(TEST_CASE(test_fully_valid_response_has_no_problems),
          TEST_CASE(test_minimal_valid_response_has_no_problems),
          TEST_CASE(test_missing_required_answer_is_reported_at_its_path),
          TEST_CASE(test_empty_answers_list_every_shown_required_question),
          TEST_CASE(test_use_cases_are_required_when_experimenting_or_in_production),
          TEST_CASE(test_required_question_hidden_by_skip_logic_is_not_required),
          TEST_CASE(test_use_cases_sent_when_genai_stage_is_none_is_not_shown),
          TEST_CASE(test_hidden_question_counts_as_unanswered_whatever_the_client_sent),
          TEST_CASE(test_code_that_is_not_an_option_is_rejected),
          TEST_CASE(test_answers_that_are_not_an_object_are_wrong_type),
          TEST_CASE(test_number_sent_as_string_is_wrong_type),
          TEST_CASE(test_single_sent_as_array_is_wrong_type),
          TEST_CASE(test_other_wrong_types_are_rejected),
          TEST_CASE(test_number_outside_min_max_is_out_of_range),
          TEST_CASE(test_one_decimal_allowed_two_rejected),
          TEST_CASE(test_decimals_limit_on_hand_made_numbers),
          TEST_CASE(test_text_length_is_counted_in_code_points),
          TEST_CASE(test_empty_or_blank_strings_are_empty),
          TEST_CASE(test_full_width_or_no_break_spaces_only_are_empty),
          TEST_CASE(test_text_with_control_characters_is_invalid),
          TEST_CASE(test_text_with_del_or_c1_control_is_invalid),
          TEST_CASE(test_malformed_email_is_invalid_email),
          TEST_CASE(test_email_longer_than_254_is_too_long),
          TEST_CASE(test_choice_counts_outside_limits_are_reported),
          TEST_CASE(test_same_choice_twice_is_duplicate_choice),
          TEST_CASE(test_exclusive_option_with_other_choice_is_rejected),
          TEST_CASE(test_unknown_key_is_unknown_question_named_only_when_a_valid_id),
          TEST_CASE(test_exactly_64_problems_are_all_listed),
          TEST_CASE(test_more_than_64_problems_end_with_too_many_problems),
          TEST_CASE(test_all_problems_of_a_response_are_listed),
          TEST_CASE(test_messages_never_echo_client_input),
          TEST_CASE(test_role_other_screens_out_and_later_questions_are_not_required),
          TEST_CASE(test_answer_after_the_stop_point_is_not_shown),
          TEST_CASE(test_eligible_roles_are_not_screened_out),
          TEST_CASE(test_earliest_stopping_rule_wins), TEST_CASE(test_shown_follows_skip_logic),
          TEST_CASE(test_shown_stops_at_the_screen_out_point),
          TEST_CASE(test_conditions_on_unanswered_questions_are_false),
          TEST_CASE(test_invalid_stage_hides_use_cases))
