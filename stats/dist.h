/*
 * Distribution functions the index's intervals need: the standard normal, Student's t and the
 * beta distribution (CDFs and quantiles), and the regularised incomplete beta function they
 * rest on. Accurate to about 14 significant digits (tests/unit/test_dist.c checks 12 against
 * reference values). Pure functions, no state.
 */
#ifndef SURVEY_DIST_H
#define SURVEY_DIST_H

/* P(Z <= x) for the standard normal. */
double dist_norm_cdf(double x);

/* x such that P(Z <= x) = p, for 0 < p < 1 (-inf and +inf at 0 and 1, NaN outside). */
double dist_norm_quantile(double p);

/* log B(a, b) for a, b > 0, without the cancellation of lgamma(a) + lgamma(b) - lgamma(a+b). */
double dist_lbeta(double a, double b);

/* The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 <= x <= 1. */
double dist_beta_cdf(double x, double a, double b);

/* x such that I_x(a, b) = p, for 0 <= p <= 1. */
double dist_beta_quantile(double p, double a, double b);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double dist_t_cdf(double t, double df);

/* t such that P(T <= t) = p, for 0 < p < 1 and df > 0. */
double dist_t_quantile(double p, double df);

#endif
