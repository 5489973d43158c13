/*
 * Unit tests of the index's estimators: Wilson and Clopper-Pearson intervals against the
 * published values of Newcombe (1998, Statistics in Medicine 17:857, Table I, methods 3 and 5),
 * raking that hits its margins and names an empty category, and properties of the weighted
 * linearised variance that hold exactly.
 */
#include <math.h>
#include <stdlib.h>

#include "estimate.h"
#include "testlib.h"

static void test_wilson_matches_newcombe(void)
{
    static const struct {
        size_t x, n;
        double lo, hi;
    } cases[] = {{81, 263, 0.2553, 0.3662},
                 {15, 148, 0.0624, 0.1605},
                 {0, 20, 0.0000, 0.1611},
                 {1, 29, 0.0061, 0.1718}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct estimate e;
        CHECK(est_wilson(cases[i].x, cases[i].n, 0.95, &e) == 0);
        CHECK_NEAR(e.ci_low, cases[i].lo, 5e-5);
        CHECK_NEAR(e.ci_high, cases[i].hi, 5e-5);
    }
    struct estimate e;
    CHECK(est_wilson(0, 0, 0.95, &e) == -1);
}

static void test_clopper_pearson_matches_newcombe(void)
{
    static const struct {
        size_t x, n;
        double lo, hi;
    } cases[] = {{81, 263, 0.2527, 0.3676},
                 {15, 148, 0.0578, 0.1617},
                 {0, 20, 0.0000, 0.1684},
                 {1, 29, 0.0009, 0.1776}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double lo, hi;
        CHECK(est_clopper_pearson(cases[i].x, cases[i].n, 0.95, &lo, &hi) == 0);
        CHECK_NEAR(lo, cases[i].lo, 5e-5);
        CHECK_NEAR(hi, cases[i].hi, 5e-5);
    }
    /* 0 of n has the closed form 1 - (alpha / 2)^(1 / n). */
    double lo, hi;
    CHECK(est_clopper_pearson(0, 424, 0.95, &lo, &hi) == 0);
    CHECK(lo == 0);
    CHECK_NEAR(hi, 1 - pow(0.025, 1.0 / 424), 1e-13);
}

/* 12 units over two raking variables (3 and 2 categories). */
static const int var_a[12] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
static const int var_b[12] = {0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1};

static void test_raking_hits_every_margin(void)
{
    const int *cats[2] = {var_a, var_b};
    const int n_cats[2] = {3, 2};
    struct est_design d = {12, 2, cats, n_cats};
    const double ta[3] = {0.5, 0.3, 0.2}, tb[2] = {0.55, 0.45};
    const double *targets[2] = {ta, tb};
    double w[12];
    int bv = -1, bc = -1;
    int iters = est_rake(&d, targets, 1e-12, 1000, w, &bv, &bc);
    CHECK(iters > 0);
    double sa[3] = {0}, sb[2] = {0}, sum = 0;
    for (int i = 0; i < 12; i++) {
        sa[var_a[i]] += w[i];
        sb[var_b[i]] += w[i];
        sum += w[i];
        CHECK(w[i] > 0);
    }
    CHECK_NEAR(sum, 12, 1e-10);
    for (int c = 0; c < 3; c++) {
        CHECK(fabs(sa[c] - ta[c] * 12) <= 1e-12 * ta[c] * 12);
    }
    for (int c = 0; c < 2; c++) {
        CHECK(fabs(sb[c] - tb[c] * 12) <= 1e-12 * tb[c] * 12);
    }
}

static void test_raking_converges_on_a_million_units(void)
{
    /* A plain sum of a million weights drifts by more than the 1e-12 asked for. */
    enum { N = 1000000 };
    int *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    double *w = malloc(N * sizeof *w);
    CHECK(a != NULL && b != NULL && w != NULL);
    if (a == NULL || b == NULL || w == NULL) {
        free(a);
        free(b);
        free(w);
        return;
    }
    for (int i = 0; i < N; i++) {
        a[i] = (int)((i * 7919u) % 5);
        b[i] = (int)((i * 104729u / 3) % 3);
    }
    const int *cats[2] = {a, b};
    const int n_cats[2] = {5, 3};
    struct est_design d = {N, 2, cats, n_cats};
    const double ta[5] = {0.08, 0.14, 0.38, 0.22, 0.18}, tb[3] = {0.55, 0.30, 0.15};
    const double *targets[2] = {ta, tb};
    int bv, bc;
    CHECK(est_rake(&d, targets, 1e-12, 1000, w, &bv, &bc) > 0);
    free(a);
    free(b);
    free(w);
}

static void test_raking_names_a_category_without_respondents(void)
{
    static const int a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1};
    const int *cats[2] = {a, b};
    const int n_cats[2] = {3, 2}; /* nobody in category 2 of the first variable */
    struct est_design d = {4, 2, cats, n_cats};
    const double ta[3] = {0.4, 0.4, 0.2}, tb[2] = {0.5, 0.5};
    const double *targets[2] = {ta, tb};
    double w[4];
    int bv = -1, bc = -1;
    CHECK(est_rake(&d, targets, 1e-12, 100, w, &bv, &bc) == -1);
    CHECK(bv == 0 && bc == 2);
}

static void test_equal_weights_without_calibration_give_the_textbook_variance(void)
{
    /* z_i = (y_i - p) / n, V = n / (n - 1) * sum z_i^2 = p (1 - p) / (n - 1). */
    double y[12], w[12];
    bool base[12];
    for (int i = 0; i < 12; i++) {
        y[i] = i % 3 == 0;
        w[i] = 1;
        base[i] = true;
    }
    struct est_design d = {12, 0, NULL, NULL};
    struct estimate e;
    CHECK(est_weighted(&d, w, y, base, true, 0.95, &e) == 0);
    CHECK_NEAR(e.estimate, 4.0 / 12, 1e-15);
    CHECK_NEAR(e.se, sqrt((4.0 / 12) * (8.0 / 12) / 11), 1e-15);
    CHECK_NEAR(e.n_eff, 12, 1e-12);
    CHECK_NEAR(e.deff, 1, 1e-12);
    CHECK(e.ci_low < e.estimate && e.estimate < e.ci_high);
}

static void test_calibration_removes_variance_explained_by_the_raking_variables(void)
{
    /* y is constant within the categories of var_a: after calibration on var_a, whose
     * margins are fixed, the estimate has no sampling variance left. */
    const int *cats[2] = {var_a, var_b};
    const int n_cats[2] = {3, 2};
    struct est_design d = {12, 2, cats, n_cats};
    const double ta[3] = {0.5, 0.3, 0.2}, tb[2] = {0.55, 0.45};
    const double *targets[2] = {ta, tb};
    double w[12], y[12];
    bool base[12];
    int bv, bc;
    CHECK(est_rake(&d, targets, 1e-12, 1000, w, &bv, &bc) > 0);
    for (int i = 0; i < 12; i++) {
        y[i] = var_a[i] == 1;
        base[i] = true;
    }
    struct estimate e;
    CHECK(est_weighted(&d, w, y, base, true, 0.95, &e) == 0);
    CHECK_NEAR(e.estimate, 0.3, 1e-12);
    CHECK_NEAR(e.se, 0, 1e-12);
    /* And the same y without calibration does vary. */
    struct est_design plain = {12, 0, NULL, NULL};
    CHECK(est_weighted(&plain, w, y, base, true, 0.95, &e) == 0);
    CHECK(e.se > 0.05);
    CHECK(e.deff > 1);
}

static void test_estimate_of_zero_uses_the_exact_interval(void)
{
    double y[30] = {0}, w[30];
    bool base[30];
    for (int i = 0; i < 30; i++) {
        w[i] = 1 + (i % 3);
        base[i] = true;
    }
    struct est_design d = {30, 0, NULL, NULL};
    struct estimate e;
    CHECK(est_weighted(&d, w, y, base, true, 0.95, &e) == 0);
    double lo, hi;
    CHECK(est_clopper_pearson(0, 30, 0.95, &lo, &hi) == 0);
    CHECK(e.estimate == 0 && e.ci_low == 0 && e.ci_high == hi);
}

static void test_unweighted_mean_has_the_t_interval(void)
{
    const double y[5] = {0, 50, 100, 50, 50};
    const bool base[5] = {true, true, true, true, true};
    struct estimate e;
    CHECK(est_mean(y, base, 5, 0.95, &e) == 0);
    CHECK_NEAR(e.estimate, 50, 1e-12);
    double se = sqrt(5000.0 / 4 / 5); /* sum of squares 5000, n - 1 = 4 */
    CHECK_NEAR(e.se, se, 1e-12);
    CHECK_NEAR(e.ci_high - e.estimate, 2.776445105197799 * se, 1e-9);
}

TEST_MAIN(TEST_CASE(test_wilson_matches_newcombe), TEST_CASE(test_clopper_pearson_matches_newcombe),
          TEST_CASE(test_raking_hits_every_margin),
          TEST_CASE(test_raking_converges_on_a_million_units),
          TEST_CASE(test_raking_names_a_category_without_respondents),
          TEST_CASE(test_equal_weights_without_calibration_give_the_textbook_variance),
          TEST_CASE(test_calibration_removes_variance_explained_by_the_raking_variables),
          TEST_CASE(test_estimate_of_zero_uses_the_exact_interval),
          TEST_CASE(test_unweighted_mean_has_the_t_interval))
