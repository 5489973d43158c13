/*
 * Estimators for the index: Wilson and Clopper-Pearson intervals for unweighted proportions,
 * raking (iterative proportional fitting) to population margins, and weighted (Hajek) means and
 * proportions with a linearisation variance that accounts for the calibration, as R's survey
 * package computes svymean on a raked design. Formulas: docs/statistics.md. Pure code.
 */
#ifndef SURVEY_ESTIMATE_H
#define SURVEY_ESTIMATE_H

#include <stdbool.h>
#include <stddef.h>

struct estimate {
    double estimate; /* a proportion in [0, 1], or a mean */
    double se;       /* standard error (linearised when weighted) */
    double ci_low, ci_high;
    size_t n;     /* unweighted base */
    double n_eff; /* Kish effective sample size of the base */
    double deff;  /* Kish design effect due to weighting: n / n_eff */
};

/* Wilson score interval for x successes in n at the given level (e.g. 0.95); -1 when n == 0. */
int est_wilson(size_t x, size_t n, double level, struct estimate *out);

/* Clopper-Pearson (exact) interval for x successes in n; -1 when n == 0. */
int est_clopper_pearson(size_t x, size_t n, double level, double *low, double *high);

/* An unweighted mean with its t interval (df = n - 1); -1 when n < 2. */
int est_mean(const double *y, const bool *in_base, size_t n_units, double level,
             struct estimate *out);

/*
 * The raking design: n units, each in one category of every raking variable. cat[v][i] is the
 * category (0 .. n_cats[v] - 1) of unit i in variable v.
 */
struct est_design {
    size_t n;
    size_t n_vars;
    const int *const *cat;
    const int *n_cats;
};

/*
 * Rake: weights w[n] (mean 1) whose totals per category match targets[v][c] (shares, any
 * positive scale; normalised per variable) to a relative error of at most tol. Returns the
 * iterations used, or -1 with *bad_var and *bad_cat naming a category that has a target but no
 * unit, or -2 when tol was not reached in max_iter iterations.
 */
int est_rake(const struct est_design *d, const double *const *targets, double tol, int max_iter,
             double *w, int *bad_var, int *bad_cat);

/*
 * The weighted (Hajek) mean of y over the units with in_base[i], its linearised standard error
 * with the calibration residualisation (the influence values are replaced by their residuals on
 * the raking variables' dummies, least squares weighted by the design weights before raking,
 * over the whole design, as R's survey package computes it), and a 95%
 * (level) interval: for a proportion the logit interval with a t quantile on n - 1 degrees of
 * freedom (Clopper-Pearson when the estimate is 0 or 1), for a mean the t interval. d may have
 * n_vars == 0 (no calibration). -1 when the base has fewer than 2 units or no weight.
 */
int est_weighted(const struct est_design *d, const double *w, const double *y, const bool *in_base,
                 bool proportion, double level, struct estimate *out);

#endif
