/*
 * The export's pure parts: pseudonyms (the documented HMAC construction, checked against
 * OpenSSL's one-shot HMAC), k-anonymity planning (every group reaches k, the risk report
 * counts what was done), the columns of the bundled questionnaire (nothing identifying gets
 * one), the cells of a response, and CSV cells that a spreadsheet would run as formulas.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "export_anon.h"
#include "export_codebook.h"
#include "export_layout.h"
#include "export_write.h"
#include "qdef.h"
#include "qjson.h"
#include "qval.h"
#include "testlib.h"

/* ---- pseudonyms ------------------------------------------------------------------------- */

static void reference_pid(const char *key, const char *wave, const char *sid, char out[33])
{
    unsigned char msg[512], mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    memcpy(msg, "survey-export-pid-v1", 21); /* with its NUL */
    n = 21;
    memcpy(msg + n, wave, strlen(wave) + 1);
    n += strlen(wave) + 1;
    memcpy(msg + n, sid, strlen(sid));
    n += strlen(sid);
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), msg, n, mac, &len);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    }
}

static void test_pseudonym_is_the_documented_hmac(void)
{
    const char *key = "0123456789abcdef-a-test-key";
    struct export_pid *p = export_pid_new((const unsigned char *)key, strlen(key));
    CHECK(p != NULL);
    char got[EXPORT_PID_HEX_BYTES], want[33];
    const char *sids[] = {"5eed0001-0000-4000-8000-000000000001",
                          "5eed0001-0000-4000-8000-000000000002"};
    for (size_t i = 0; p != NULL && i < 2; i++) {
        CHECK(export_pid_make(p, "kr-2025", sids[i], got));
        reference_pid(key, "kr-2025", sids[i], want);
        CHECK_STR(got, want);
        /* Made again with the same context: the same pseudonym. */
        char again[EXPORT_PID_HEX_BYTES];
        CHECK(export_pid_make(p, "kr-2025", sids[i], again));
        CHECK_STR(again, got);
    }
    export_pid_free(p);
}

static void test_other_key_or_wave_gives_unrelated_pseudonyms(void)
{
    const char *k1 = "first-key-of-32-bytes-0123456789", *k2 = "other-key-of-32-bytes-0123456789";
    struct export_pid *a = export_pid_new((const unsigned char *)k1, strlen(k1));
    struct export_pid *b = export_pid_new((const unsigned char *)k2, strlen(k2));
    CHECK(a != NULL && b != NULL);
    char x[EXPORT_PID_HEX_BYTES], y[EXPORT_PID_HEX_BYTES], z[EXPORT_PID_HEX_BYTES];
    if (a != NULL && b != NULL) {
        CHECK(export_pid_make(a, "w", "sid-1", x));
        CHECK(export_pid_make(b, "w", "sid-1", y));
        CHECK(export_pid_make(a, "w2", "sid-1", z));
        CHECK(strcmp(x, y) != 0);
        CHECK(strcmp(x, z) != 0);
        CHECK(strlen(x) == 32);
    }
    export_pid_free(a);
    export_pid_free(b);
}

/* ---- k-anonymity -------------------------------------------------------------------------- */

static void add_n(struct export_kanon *t, int n, uint8_t a, uint8_t b, uint8_t c)
{
    uint8_t v[3] = {a, b, c};
    for (int i = 0; i < n; i++) {
        CHECK(export_kanon_add(t, v));
    }
}

static void add2(struct export_kanon *t, int n, uint8_t a, uint8_t b)
{
    uint8_t v[2] = {a, b};
    for (int i = 0; i < n; i++) {
        CHECK(export_kanon_add(t, v));
    }
}

static void test_groups_of_k_are_left_alone(void)
{
    struct export_kanon *t = export_kanon_new(3, NULL);
    add_n(t, 5, 0, 0, 0);
    add_n(t, 7, 1, 0, 2);
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    CHECK(r.records == 12 && r.groups_before == 2 && r.groups_after == 2);
    CHECK(r.records_suppressed == 0 && r.values_suppressed == 0);
    CHECK(r.smallest_before == 5 && r.smallest_after == 5 && r.achieved);
    uint8_t v[3] = {1, 0, 2};
    CHECK(export_kanon_apply(t, v) == 0 && v[0] == 1 && v[1] == 0 && v[2] == 2);
    export_kanon_free(t);
}

static void test_small_groups_lose_their_most_common_values_first(void)
{
    struct export_kanon *t = export_kanon_new(3, NULL);
    add_n(t, 20, 0, 0, 0);
    add_n(t, 20, 0, 1, 1);
    /* Two groups of 3 that differ only in the last value. The most common values they hold
     * are q0=0 (46 records), then q2 (23 each), then q1=2 (6): q0 goes first, leaving
     * (*, 2, 0) and (*, 2, 1) at 3 each; then q2, and they are one group (*, 2, *) of 6. The
     * rare value q1=2, which carries the most information, is kept. */
    add_n(t, 3, 0, 2, 0);
    add_n(t, 3, 0, 2, 1);
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    CHECK(r.groups_before == 4 && r.groups_below_k_before == 2 && r.records_below_k_before == 6);
    CHECK(r.smallest_before == 3);
    CHECK(r.records_suppressed == 6 && r.values_suppressed == 12);
    CHECK(r.values_suppressed_by_qi[0] == 6 && r.values_suppressed_by_qi[1] == 0 &&
          r.values_suppressed_by_qi[2] == 6);
    CHECK(r.groups_after == 3 && r.smallest_after == 6 && r.achieved);
    uint8_t v[3] = {0, 2, 1};
    CHECK(export_kanon_apply(t, v) == 2);
    CHECK(v[0] == EXPORT_QI_SUPPRESSED && v[1] == 2 && v[2] == EXPORT_QI_SUPPRESSED);
    export_kanon_free(t);
}

static void test_one_value_suppressed_can_be_enough(void)
{
    struct export_kanon *t = export_kanon_new(2, NULL);
    /* (1,0) x2 and (1,1) x3 share q0=1 (5 records); their q1 values are common (12 and 13
     * records), so q1 goes and both become (1,*): one group of 5. */
    add2(t, 10, 0, 0);
    add2(t, 10, 0, 1);
    add2(t, 2, 1, 0);
    add2(t, 3, 1, 1);
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    CHECK(r.records_suppressed == 5 && r.values_suppressed == 5);
    CHECK(r.values_suppressed_by_qi[0] == 0 && r.values_suppressed_by_qi[1] == 5);
    CHECK(r.groups_before == 4 && r.groups_after == 3 && r.smallest_after == 5);
    uint8_t v[2] = {1, 0};
    CHECK(export_kanon_apply(t, v) == 1 && v[0] == 1 && v[1] == EXPORT_QI_SUPPRESSED);
    export_kanon_free(t);
}

static uint64_t rng_state = 42;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

static void test_every_group_reaches_k_on_skewed_data(void)
{
    /* Without followers, and with the last quasi-identifier following the first and the
     * third following the last (a chain): then wherever the first is suppressed, so are the
     * other two. */
    static const uint8_t chain[4] = {0, 0, 1u << 3, 1u << 0};
    for (size_t k = 2; k <= 11; k += 3) {
        bool follow = k % 2 == 1;
        struct export_kanon *t = export_kanon_new(4, follow ? chain : NULL);
        enum { N = 3000 };
        static uint8_t rows[N][4];
        for (int i = 0; i < N; i++) {
            /* Skewed: small values common, large ones rare. */
            for (int j = 0; j < 4; j++) {
                unsigned a = rnd(12), b = rnd(12);
                rows[i][j] = (uint8_t)(a < b ? a : b);
            }
            rows[i][3] = rnd(10) == 0 ? EXPORT_QI_NO_ANSWER : rows[i][3];
            CHECK(export_kanon_add(t, rows[i]));
        }
        struct export_risk r;
        CHECK(export_kanon_plan(t, k, &r));
        CHECK(r.achieved);
        /* Count the groups after applying, independently of the plan's own counts. */
        static uint8_t after[N][4];
        size_t suppressed_records = 0, suppressed_values = 0;
        for (int i = 0; i < N; i++) {
            memcpy(after[i], rows[i], 4);
            int n = export_kanon_apply(t, after[i]);
            CHECK(n >= 0);
            suppressed_records += n > 0;
            suppressed_values += (size_t)n;
            if (follow && after[i][0] == EXPORT_QI_SUPPRESSED) {
                CHECK(after[i][3] == EXPORT_QI_SUPPRESSED && after[i][2] == EXPORT_QI_SUPPRESSED);
            }
        }
        size_t smallest = N, groups = 0;
        for (int i = 0; i < N; i++) {
            size_t same = 0;
            bool first = true;
            for (int j = 0; j < N; j++) {
                if (memcmp(after[i], after[j], 4) == 0) {
                    same++;
                    first = first && j >= i;
                }
            }
            smallest = same < smallest ? same : smallest;
            groups += first;
        }
        CHECK(smallest >= k);
        CHECK(r.smallest_after == smallest);
        CHECK(r.groups_after == groups);
        CHECK(r.records_suppressed == suppressed_records);
        CHECK(r.values_suppressed == suppressed_values);
        CHECK(r.records_below_k_before > 0);
        export_kanon_free(t);
    }
}

static void test_fewer_records_than_k_cannot_be_anonymous(void)
{
    struct export_kanon *t = export_kanon_new(1, NULL);
    uint8_t v[1] = {0};
    CHECK(export_kanon_add(t, v));
    v[0] = 1;
    CHECK(export_kanon_add(t, v));
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    CHECK(!r.achieved && r.smallest_after == 2);
    export_kanon_free(t);
}

/* ---- columns and cells ------------------------------------------------------------------ */

static struct qdef *bundled(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/questionnaire/definitions/genai-adoption-2025.json",
             SURVEY_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    static char text[1 << 20];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    struct qproblems pr;
    qproblems_init(&pr, 8);
    struct qdef *def = qdef_load(text, n, &pr);
    qproblems_clear(&pr);
    return def;
}

static int column(const struct export_layout *l, const char *name)
{
    for (size_t i = 0; i < l->n_cols; i++) {
        if (strcmp(l->cols[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void test_identifying_and_free_text_questions_get_no_column(void)
{
    struct qdef *def = bundled();
    CHECK(def != NULL);
    if (def == NULL) {
        return;
    }
    struct export_layout l;
    char err[256];
    CHECK(export_layout_build(&l, def, err, sizeof err));
    CHECK(column(&l, "comments") < 0);
    CHECK(column(&l, "contact_email") < 0);
    CHECK(l.n_excluded == 2);
    for (size_t i = 0; i < l.n_cols; i++) {
        CHECK(strstr(l.cols[i].name, "email") == NULL && strstr(l.cols[i].name, "comment") == NULL);
    }
    CHECK(column(&l, "pid") == 0 && column(&l, "field_week") == 1);
    CHECK(column(&l, "approach_general_purpose") > 0 && column(&l, "approach_undecided") > 0);
    CHECK(column(&l, "approach") < 0);
    CHECK(l.n_qi == 3);
    CHECK_STR(def->questions[l.qi_question[0]].id, "industry");
    CHECK_STR(def->questions[l.qi_question[2]].id, "region");
    int share = column(&l, "genai_budget_share");
    CHECK(share > 0 && l.cols[share].missing_codes && l.cols[share].decimals == 1);
    export_layout_free(&l);
    qdef_free(def);
}

static void test_cells_carry_codes_for_not_asked_no_answer_and_suppressed(void)
{
    struct qdef *def = bundled();
    if (def == NULL) {
        CHECK(def != NULL);
        return;
    }
    struct export_layout l;
    char err[256];
    CHECK(export_layout_build(&l, def, err, sizeof err));
    const char *text =
        "{\"role\": \"c_level\", \"industry\": \"ict\", \"company_size\": \"mid\", \"region\": "
        "\"seoul\", \"genai_stage\": \"none\", \"budget_top_priority\": \"genai\", "
        "\"genai_budget_share\": 87.5, \"caio\": \"no\", \"change_mgmt\": \"no_plan\", "
        "\"training\": \"no_plan\", \"hiring_genai_2025\": \"no\", \"approach\": "
        "[\"undecided\"], \"comments\": \"=cmd|' /C calc'!A0\", \"contact_email\": "
        "\"kim@example.com\"}";
    struct qjson_limits lim = QJSON_LIMITS_DEFAULT;
    enum qjson_error e;
    cJSON *answers = qjson_parse(text, strlen(text), &lim, &e, NULL);
    CHECK(answers != NULL);
    bool *shown = calloc(def->n_questions, sizeof *shown);
    double *caps = calloc(def->n_questions, sizeof *caps);
    size_t *top = calloc(def->n_questions, sizeof *top);
    struct export_cell *cells = calloc(l.n_cols, sizeof *cells);
    for (size_t q = 0; q < def->n_questions; q++) {
        caps[q] = NAN;
    }
    caps[qdef_find_question(def, "genai_budget_share")] = 60;
    CHECK(qval_shown(def, answers, shown) == -1);
    uint8_t qi[EXPORT_MAX_QI];
    export_layout_qi_values(&l, answers, shown, qi);
    CHECK(qi[0] == 1 && qi[1] == 1 && qi[2] == 0);
    qi[2] = EXPORT_QI_SUPPRESSED;
    struct export_row_counts counts = {top, 0};
    CHECK(export_layout_cells(&l, answers, shown, qi, "abc", 3, caps, cells, &counts, err,
                              sizeof err));
    CHECK_STR(cells[column(&l, "pid")].str, "abc");
    CHECK(cells[column(&l, "field_week")].num == 3);
    CHECK_STR(cells[column(&l, "industry")].str, "ict");
    CHECK_STR(cells[column(&l, "region")].str, "-3");
    CHECK(cells[column(&l, "region")].missing == EXPORT_SUPPRESSED);
    /* use_cases is hidden when genai_stage is none. */
    CHECK(cells[column(&l, "use_cases_analytics")].missing == EXPORT_NOT_ASKED);
    CHECK(cells[column(&l, "use_cases_analytics")].num == -1);
    CHECK(cells[column(&l, "approach_undecided")].num == 1);
    CHECK(cells[column(&l, "approach_general_purpose")].num == 0);
    CHECK(cells[column(&l, "genai_budget_share")].num == 60);
    CHECK(top[qdef_find_question(def, "genai_budget_share")] == 1);

    /* Without the optional number: no answer. */
    cJSON_DeleteItemFromObjectCaseSensitive(answers, "genai_budget_share");
    CHECK(export_layout_cells(&l, answers, shown, qi, "abc", 1, caps, cells, &counts, err,
                              sizeof err));
    CHECK(cells[column(&l, "genai_budget_share")].missing == EXPORT_NO_ANSWER);
    CHECK(cells[column(&l, "genai_budget_share")].num == -2);

    /* A stored answer that is not an option is refused, not exported. */
    cJSON_ReplaceItemInObjectCaseSensitive(answers, "caio", cJSON_CreateString("maybe"));
    CHECK(!export_layout_cells(&l, answers, shown, qi, "abc", 1, caps, cells, &counts, err,
                               sizeof err));
    CHECK(strstr(err, "caio") != NULL);
    cJSON_Delete(answers);
    free(shown);
    free(caps);
    free(top);
    free(cells);
    export_layout_free(&l);
    qdef_free(def);
}

/* ---- quasi-identifiers and skip logic (tests/export/data/qi-skip-logic.json) ------------- */

static struct qdef *load_def(const char *relative)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SURVEY_SOURCE_DIR, relative);
    FILE *f = fopen(path, "rb");
    static char text[1 << 20];
    size_t n = f ? fread(text, 1, sizeof text, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    struct qproblems pr;
    qproblems_init(&pr, 8);
    struct qdef *def = qdef_load(text, n, &pr);
    qproblems_clear(&pr);
    return def;
}

struct skip_case {
    struct qdef *def;
    struct export_layout l;
    bool *shown;
    double *caps;
    size_t *top;
    struct export_cell *cells;
    uint8_t qi[EXPORT_MAX_QI];
};

static bool skip_case_open(struct skip_case *c)
{
    memset(c, 0, sizeof *c);
    c->def = load_def("tests/export/data/qi-skip-logic.json");
    CHECK(c->def != NULL);
    if (c->def == NULL) {
        return false;
    }
    char err[256];
    CHECK(export_layout_build(&c->l, c->def, err, sizeof err));
    c->shown = calloc(c->def->n_questions, sizeof *c->shown);
    c->caps = calloc(c->def->n_questions, sizeof *c->caps);
    c->top = calloc(c->def->n_questions, sizeof *c->top);
    c->cells = calloc(c->l.n_cols, sizeof *c->cells);
    for (size_t q = 0; q < c->def->n_questions; q++) {
        c->caps[q] = NAN;
    }
    return true;
}

static void skip_case_close(struct skip_case *c)
{
    free(c->shown);
    free(c->caps);
    free(c->top);
    free(c->cells);
    export_layout_free(&c->l);
    qdef_free(c->def);
}

/* The cells of answers (JSON text) with the quasi-identifiers named in suppress suppressed. */
static bool skip_cells(struct skip_case *c, const char *text, const char *const *suppress)
{
    struct qjson_limits lim = QJSON_LIMITS_DEFAULT;
    enum qjson_error e;
    cJSON *answers = qjson_parse(text, strlen(text), &lim, &e, NULL);
    CHECK(answers != NULL);
    if (answers == NULL) {
        return false;
    }
    qval_shown(c->def, answers, c->shown);
    export_layout_qi_values(&c->l, answers, c->shown, c->qi);
    for (size_t i = 0; suppress != NULL && suppress[i] != NULL; i++) {
        for (size_t j = 0; j < c->l.n_qi; j++) {
            if (strcmp(c->def->questions[c->l.qi_question[j]].id, suppress[i]) == 0) {
                c->qi[j] = EXPORT_QI_SUPPRESSED;
            }
        }
    }
    struct export_row_counts counts = {c->top, 0};
    char err[256];
    bool ok = export_layout_cells(&c->l, answers, c->shown, c->qi, "p", 1, c->caps, c->cells,
                                  &counts, err, sizeof err);
    CHECK(ok);
    cJSON_Delete(answers);
    return ok;
}

static const struct export_cell *cell_of(const struct skip_case *c, const char *name)
{
    int i = column(&c->l, name);
    CHECK(i >= 0);
    return &c->cells[i < 0 ? 0 : i];
}

static void test_a_suppressed_value_is_minus_3_whether_answered_or_not(void)
{
    struct skip_case c;
    if (!skip_case_open(&c)) {
        return;
    }
    /* region is optional and unanswered (-2), bank_type is not shown outside finance (-1). */
    const char *text = "{\"sector\": \"ict\", \"satisfaction\": \"low\"}";
    CHECK(skip_cells(&c, text, NULL));
    CHECK_STR(cell_of(&c, "region")->str, "-2");
    CHECK_STR(cell_of(&c, "bank_type")->str, "-1");
    static const char *const all[] = {"sector", "region", "bank_type", NULL};
    CHECK(skip_cells(&c, text, all));
    CHECK_STR(cell_of(&c, "sector")->str, "-3");
    CHECK_STR(cell_of(&c, "region")->str, "-3");
    CHECK(cell_of(&c, "region")->missing == EXPORT_SUPPRESSED);
    CHECK_STR(cell_of(&c, "bank_type")->str, "-3");
    CHECK(cell_of(&c, "bank_type")->missing == EXPORT_SUPPRESSED);
    skip_case_close(&c);
}

static void test_skip_logic_on_a_suppressed_value_is_suppressed_too(void)
{
    struct skip_case c;
    if (!skip_case_open(&c)) {
        return;
    }
    const char *finance =
        "{\"sector\": \"finance\", \"region\": \"north\", \"bank_type\": \"bank\", \"products\": "
        "[\"loans\"], \"loan_volume\": \"high\", \"branches\": 3, \"balance\": 2.5, "
        "\"satisfaction\": \"low\"}";
    const char *retail = "{\"sector\": \"retail\", \"satisfaction\": \"mid\"}";
    static const char *const sector[] = {"sector", NULL};
    static const char *const region[] = {"region", NULL};
    /* Unsuppressed, the skip logic shows through: finance is asked about products, retail
     * is not (-1). */
    CHECK(skip_cells(&c, finance, NULL));
    CHECK(cell_of(&c, "products_loans")->num == 1);
    CHECK(skip_cells(&c, retail, NULL));
    CHECK(cell_of(&c, "products_loans")->missing == EXPORT_NOT_ASKED);
    /* With sector suppressed, both look alike: every column shown through sector, directly
     * (bank_type, products, balance) or through products (loan_volume), is suppressed. */
    for (int i = 0; i < 2; i++) {
        CHECK(skip_cells(&c, i ? retail : finance, sector));
        static const char *const follow[] = {"sector",         "bank_type",   "products_loans",
                                             "products_cards", "loan_volume", "balance"};
        for (size_t f = 0; f < sizeof follow / sizeof follow[0]; f++) {
            CHECK(cell_of(&c, follow[f])->missing == EXPORT_SUPPRESSED);
        }
        CHECK_STR(cell_of(&c, "loan_volume")->str, "-3");
        CHECK(cell_of(&c, "products_cards")->num == -3);
        /* Independent of sector: kept. */
        CHECK(cell_of(&c, "satisfaction")->missing == EXPORT_ANSWER);
        CHECK(cell_of(&c, "branches")->missing ==
              (i ? EXPORT_NOT_ASKED : EXPORT_ANSWER)); /* region unanswered in retail */
    }
    /* region suppressed: branches (shown when region is answered) follows it. */
    CHECK(skip_cells(&c, finance, region));
    CHECK(cell_of(&c, "branches")->missing == EXPORT_SUPPRESSED);
    CHECK(cell_of(&c, "products_loans")->num == 1);
    CHECK(skip_cells(&c, retail, region));
    CHECK(cell_of(&c, "branches")->missing == EXPORT_SUPPRESSED);
    skip_case_close(&c);
}

static void test_the_plan_suppresses_what_follows_a_suppressed_value(void)
{
    /* sector x region x bank_type, bank_type shown only in finance (0), so it follows sector.
     * Two small finance groups differ only in bank_type; sector (finance, 46 records) is
     * their most common value and goes first, taking bank_type with it (a bank type would
     * say "finance"): the two become one group (*, 2, *) of 6, and region is kept. */
    static const uint8_t follows[3] = {0, 0, 1u << 0};
    struct export_kanon *t = export_kanon_new(3, follows);
    CHECK(t != NULL);
    if (t == NULL) {
        return;
    }
    add_n(t, 40, 0, 0, 0);
    add_n(t, 40, 1, 1, EXPORT_QI_NOT_ASKED);
    add_n(t, 3, 0, 2, 1);
    add_n(t, 3, 0, 2, 2);
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    CHECK(r.achieved && r.smallest_after == 6 && r.groups_after == 3);
    CHECK(r.records_suppressed == 6 && r.values_suppressed == 12);
    CHECK(r.values_suppressed_by_qi[0] == 6 && r.values_suppressed_by_qi[1] == 0 &&
          r.values_suppressed_by_qi[2] == 6);
    uint8_t v[3] = {0, 2, 1};
    CHECK(export_kanon_apply(t, v) == 2);
    CHECK(v[0] == EXPORT_QI_SUPPRESSED && v[1] == 2 && v[2] == EXPORT_QI_SUPPRESSED);
    uint8_t w[3] = {0, 0, 0};
    CHECK(export_kanon_apply(t, w) == 0);
    export_kanon_free(t);
}

static void test_a_combination_never_counted_is_suppressed_whole(void)
{
    struct export_kanon *t = export_kanon_new(2, NULL);
    add2(t, 10, 0, 0);
    struct export_risk r;
    CHECK(export_kanon_plan(t, 5, &r));
    uint8_t v[2] = {1, 1}; /* not seen when counting */
    CHECK(export_kanon_apply(t, v) < 0);
    CHECK(v[0] == EXPORT_QI_SUPPRESSED && v[1] == EXPORT_QI_SUPPRESSED);
    export_kanon_free(t);
}

/* ---- the codebook ------------------------------------------------------------------------ */

static void test_the_markdown_cap_reads_like_the_data(void)
{
    struct qdef *def = bundled();
    CHECK(def != NULL);
    if (def == NULL) {
        return;
    }
    struct export_layout l;
    char err[256];
    CHECK(export_layout_build(&l, def, err, sizeof err));
    /* genai_budget_share has one decimal: the CSV cell of 40 is "40.0". */
    struct export_topcode tc = {.question = qdef_find_question(def, "genai_budget_share"),
                                .applied = true,
                                .cap = 40,
                                .answers = 300,
                                .top_coded = 3};
    struct export_meta meta = {.wave = "w",
                               .status = "closed",
                               .access = "open",
                               .opened_at = "",
                               .closed_at = "",
                               .created_at = "",
                               .questionnaire_sha256 = "",
                               .format = EXPORT_CSV,
                               .risk = {.k = 5},
                               .max_suppressed_share = 0.1,
                               .top_code_percentile = 99,
                               .topcodes = &tc,
                               .n_topcodes = 1};
    cJSON *doc = export_codebook_json(&l, &meta);
    CHECK(doc != NULL);
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    export_codebook_markdown(f, doc, "en");
    fclose(f);
    CHECK(strstr(md, "`40.0`") != NULL);
    CHECK(strstr(md, "(40)") == NULL && strstr(md, " 40 ") == NULL && strstr(md, " 40:") == NULL);
    free(md);
    cJSON_Delete(doc);
    export_layout_free(&l);
    qdef_free(def);
}

/* ---- CSV cells ------------------------------------------------------------------------ */

static void csv_of(const char *in, char *out, size_t size)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    export_csv_cell(f, in);
    fclose(f);
    snprintf(out, size, "%s", buf);
    free(buf);
}

static void test_formula_cells_are_neutralised(void)
{
    char got[256];
    static const char *const cases[][2] = {
        {"=1+2", "'=1+2"},
        {"+cmd", "'+cmd"},
        {"-2+3", "'-2+3"},
        {"@SUM(A1)", "'@SUM(A1)"},
        {"\tx", "'\tx"},
        {"\rx", "\"'\rx\""},
        {"=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
        {"=a,b", "\"'=a,b\""},
        /* Numbers, including the negative missing codes, are numbers. */
        {"-1", "-1"},
        {"-2.5", "-2.5"},
        {"-", "'-"},
        {"-1e5", "'-1e5"},
        /* Ordinary cells. */
        {"finance", "finance"},
        {"서울", "서울"},
        {"a,b", "\"a,b\""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        csv_of(cases[i][0], got, sizeof got);
        CHECK_STR(got, cases[i][1]);
    }
}

static void test_labels_are_cut_on_character_boundaries(void)
{
    const char *s = "가나다"; /* 3 bytes each */
    CHECK(export_utf8_cut(s, 9) == 9);
    CHECK(export_utf8_cut(s, 8) == 6);
    CHECK(export_utf8_cut(s, 7) == 6);
    CHECK(export_utf8_cut(s, 6) == 6);
    CHECK(export_utf8_cut(s, 2) == 0);
    CHECK(export_utf8_cut("abc", 2) == 2);
}

TEST_MAIN(TEST_CASE(test_pseudonym_is_the_documented_hmac),
          TEST_CASE(test_other_key_or_wave_gives_unrelated_pseudonyms),
          TEST_CASE(test_groups_of_k_are_left_alone),
          TEST_CASE(test_small_groups_lose_their_most_common_values_first),
          TEST_CASE(test_one_value_suppressed_can_be_enough),
          TEST_CASE(test_every_group_reaches_k_on_skewed_data),
          TEST_CASE(test_fewer_records_than_k_cannot_be_anonymous),
          TEST_CASE(test_identifying_and_free_text_questions_get_no_column),
          TEST_CASE(test_cells_carry_codes_for_not_asked_no_answer_and_suppressed),
          TEST_CASE(test_a_suppressed_value_is_minus_3_whether_answered_or_not),
          TEST_CASE(test_skip_logic_on_a_suppressed_value_is_suppressed_too),
          TEST_CASE(test_the_plan_suppresses_what_follows_a_suppressed_value),
          TEST_CASE(test_a_combination_never_counted_is_suppressed_whole),
          TEST_CASE(test_the_markdown_cap_reads_like_the_data),
          TEST_CASE(test_formula_cells_are_neutralised),
          TEST_CASE(test_labels_are_cut_on_character_boundaries))
