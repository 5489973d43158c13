/*
 * Unit tests of the distribution functions against reference values: published quantiles of
 * the normal and t distributions (as R's qnorm and qt print them to 16 digits), and identities
 * that hold exactly (closed forms of the beta distribution for a or b = 1, the t distribution
 * with 1 and 2 degrees of freedom, symmetry). Each must hold to at least 12 significant digits.
 */
#include <math.h>

#include "dist.h"
#include "testlib.h"

#define CHECK_REL(a, b) CHECK_NEAR((a), (b), 1e-12 * fabs(b))

static void test_normal_quantiles_match_published_values(void)
{
    CHECK_REL(dist_norm_quantile(0.975), 1.959963984540054);
    CHECK_REL(dist_norm_quantile(0.995), 2.575829303548901);
    CHECK_REL(dist_norm_quantile(0.95), 1.644853626951472);
    CHECK_REL(dist_norm_quantile(0.025), -1.959963984540054);
    CHECK_REL(dist_norm_quantile(1e-10), -6.361340902404056);
    CHECK_REL(dist_norm_quantile(0.6), 0.2533471031357997);
    CHECK(dist_norm_quantile(0.5) == 0);
    CHECK(isinf(dist_norm_quantile(0)) && dist_norm_quantile(0) < 0);
    CHECK(isnan(dist_norm_quantile(1.5)));
}

static void test_normal_cdf_inverts_the_quantile(void)
{
    for (double p = 1e-12; p < 1; p = p < 0.01 ? p * 10 : p + 0.0137) {
        CHECK_NEAR(dist_norm_cdf(dist_norm_quantile(p)), p, 1e-13 * p + 1e-300);
    }
}

static void test_t_quantiles_match_published_values(void)
{
    CHECK_REL(dist_t_quantile(0.975, 1), 12.70620473617471);
    CHECK_REL(dist_t_quantile(0.975, 2), 4.302652729749464);
    CHECK_REL(dist_t_quantile(0.975, 3), 3.182446305284263);
    CHECK_REL(dist_t_quantile(0.975, 5), 2.570581835636314);
    CHECK_REL(dist_t_quantile(0.975, 10), 2.228138851986274);
    CHECK_REL(dist_t_quantile(0.975, 30), 2.042272456301238);
    CHECK_REL(dist_t_quantile(0.975, 100), 1.983971518523552);
    CHECK_REL(dist_t_quantile(0.995, 10), 3.169272672616957);
    CHECK_REL(dist_t_quantile(0.025, 10), -2.228138851986274);
    /* Far out in degrees of freedom it meets the normal. */
    CHECK_NEAR(dist_t_quantile(0.975, 1e9), 1.959963984540054, 1e-8);
}

static void test_t_closed_forms_hold(void)
{
    for (double t = -30; t <= 30; t += 0.37) {
        CHECK_NEAR(dist_t_cdf(t, 1), 0.5 + atan(t) / M_PI, 1e-14);
        CHECK_NEAR(dist_t_cdf(t, 2), 0.5 + t / (2 * sqrt(2 + t * t)), 1e-14);
    }
    for (double df = 3; df < 2000; df *= 1.7) {
        for (double p = 0.001; p < 1; p += 0.0913) {
            CHECK_NEAR(dist_t_cdf(dist_t_quantile(p, df), df), p, 1e-13);
        }
    }
}

static void test_beta_closed_forms_hold(void)
{
    for (double a = 0.5; a < 500; a *= 2.3) {
        for (double p = 0.01; p < 1; p += 0.07) {
            /* I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b. */
            CHECK_REL(dist_beta_quantile(p, a, 1), pow(p, 1 / a));
            CHECK_REL(dist_beta_quantile(p, 1, a), -expm1(log1p(-p) / a));
            CHECK_REL(dist_beta_cdf(pow(p, 1 / a), a, 1), p);
        }
        CHECK_NEAR(dist_beta_quantile(0.5, a, a), 0.5, 1e-14);
        CHECK_NEAR(dist_beta_cdf(0.3, a, a + 2) + dist_beta_cdf(0.7, a + 2, a), 1, 1e-13);
    }
}

static void test_lbeta_agrees_with_lgamma_where_lgamma_is_exact_enough(void)
{
    CHECK_REL(dist_lbeta(3, 4), lgamma(3) + lgamma(4) - lgamma(7));
    CHECK_REL(dist_lbeta(12.5, 40), lgamma(12.5) + lgamma(40) - lgamma(52.5));
    CHECK_REL(dist_lbeta(0.5, 20), lgamma(0.5) + lgamma(20) - lgamma(20.5));
}

TEST_MAIN(TEST_CASE(test_normal_quantiles_match_published_values),
          TEST_CASE(test_normal_cdf_inverts_the_quantile),
          TEST_CASE(test_t_quantiles_match_published_values), TEST_CASE(test_t_closed_forms_hold),
          TEST_CASE(test_beta_closed_forms_hold),
          TEST_CASE(test_lbeta_agrees_with_lgamma_where_lgamma_is_exact_enough))
