/*
 * Estimators. The calibration-aware variance follows the usual linearisation of a Hajek mean
 * (influence values z_i = w_i u_i, u_i = (y_i - ybar) / W for units in the base, 0 elsewhere),
 * replaces u by its residuals from the least-squares fit on the dummies of the raking variables,
 * weighted by the design weights before raking (all 1 here), as R's survey package does for a
 * raked or calibrated design (the calibration removes the variance those variables explain), and
 * uses the with-replacement single-stage estimator n / (n - 1) * sum (z_i - zbar)^2.
 */
#include "estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

int est_wilson(size_t x, size_t n, double level, struct estimate *out)
{
    if (n == 0 || x > n) {
        return -1;
    }
    double z = dist_norm_quantile(0.5 + level / 2), z2 = z * z;
    double nn = (double)n, p = (double)x / nn;
    double denom = 1 + z2 / nn;
    double centre = (p + z2 / (2 * nn)) / denom;
    double half = z / denom * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    memset(out, 0, sizeof *out);
    out->estimate = p;
    out->se = sqrt(p * (1 - p) / nn);
    out->ci_low = x == 0 ? 0 : centre - half;
    out->ci_high = x == n ? 1 : centre + half;
    out->n = n;
    out->n_eff = nn;
    out->deff = 1;
    return 0;
}

int est_clopper_pearson(size_t x, size_t n, double level, double *low, double *high)
{
    if (n == 0 || x > n) {
        return -1;
    }
    double alpha = 1 - level;
    double xx = (double)x, nn = (double)n;
    *low = x == 0 ? 0 : dist_beta_quantile(alpha / 2, xx, nn - xx + 1);
    *high = x == n ? 1 : dist_beta_quantile(1 - alpha / 2, xx + 1, nn - xx);
    return 0;
}

int est_mean(const double *y, const bool *in_base, size_t n_units, double level,
             struct estimate *out)
{
    size_t n = 0;
    double sum = 0;
    for (size_t i = 0; i < n_units; i++) {
        if (in_base[i]) {
            n++;
            sum += y[i];
        }
    }
    if (n < 2) {
        return -1;
    }
    double mean = sum / (double)n, ss = 0;
    for (size_t i = 0; i < n_units; i++) {
        if (in_base[i]) {
            ss += (y[i] - mean) * (y[i] - mean);
        }
    }
    double se = sqrt(ss / (double)(n - 1) / (double)n);
    double t = dist_t_quantile(0.5 + level / 2, (double)(n - 1));
    memset(out, 0, sizeof *out);
    out->estimate = mean;
    out->se = se;
    out->ci_low = mean - t * se;
    out->ci_high = mean + t * se;
    out->n = n;
    out->n_eff = (double)n;
    out->deff = 1;
    return 0;
}

/* Weight totals per category of variable v, summed with Neumaier's compensation: over a million
 * units a plain sum drifts by more than the 1e-12 the raking must reach. comp is scratch of
 * n_cats[v] doubles. */
static void category_totals(const struct est_design *d, size_t v, const double *w, double *h,
                            double *comp)
{
    size_t k = (size_t)d->n_cats[v];
    memset(h, 0, k * sizeof *h);
    memset(comp, 0, k * sizeof *comp);
    for (size_t i = 0; i < d->n; i++) {
        int c = d->cat[v][i];
        double t = h[c] + w[i];
        comp[c] += fabs(h[c]) >= fabs(w[i]) ? (h[c] - t) + w[i] : (w[i] - t) + h[c];
        h[c] = t;
    }
    for (size_t c = 0; c < k; c++) {
        h[c] += comp[c];
    }
}

int est_rake(const struct est_design *d, const double *const *targets, double tol, int max_iter,
             double *w, int *bad_var, int *bad_cat)
{
    int result = -2;
    size_t total_cats = 0;
    for (size_t v = 0; v < d->n_vars; v++) {
        total_cats += (size_t)d->n_cats[v];
    }
    double *goal = calloc(total_cats ? total_cats : 1, sizeof *goal);
    double *have = calloc(total_cats ? total_cats : 1, sizeof *have);
    double *comp = calloc(total_cats ? total_cats : 1, sizeof *comp);
    if (goal == NULL || have == NULL || comp == NULL) {
        free(goal);
        free(have);
        free(comp);
        return -2;
    }
    /* Targets as totals on the sample's scale: the weights keep a mean of 1. */
    size_t off = 0;
    for (size_t v = 0; v < d->n_vars; v++) {
        double sum = 0;
        for (int c = 0; c < d->n_cats[v]; c++) {
            sum += targets[v][c];
        }
        for (int c = 0; c < d->n_cats[v]; c++) {
            goal[off + (size_t)c] = targets[v][c] / sum * (double)d->n;
        }
        off += (size_t)d->n_cats[v];
    }
    for (size_t i = 0; i < d->n; i++) {
        w[i] = 1;
    }
    /* A category with a target but no unit can never be matched: name it. */
    off = 0;
    for (size_t v = 0; v < d->n_vars; v++) {
        memset(have + off, 0, (size_t)d->n_cats[v] * sizeof *have);
        for (size_t i = 0; i < d->n; i++) {
            have[off + (size_t)d->cat[v][i]] += 1;
        }
        for (int c = 0; c < d->n_cats[v]; c++) {
            if (have[off + (size_t)c] == 0 && goal[off + (size_t)c] > 0) {
                *bad_var = (int)v;
                *bad_cat = c;
                result = -1;
                goto out;
            }
        }
        off += (size_t)d->n_cats[v];
    }
    for (int iter = 1; iter <= max_iter; iter++) {
        /* One sweep: match each variable's margins in turn. */
        off = 0;
        for (size_t v = 0; v < d->n_vars; v++) {
            double *h = have + off;
            category_totals(d, v, w, h, comp);
            for (size_t i = 0; i < d->n; i++) {
                int c = d->cat[v][i];
                w[i] *= goal[off + (size_t)c] / h[c];
            }
            off += (size_t)d->n_cats[v];
        }
        /* Converged when every margin is within tol, relatively. */
        double worst = 0;
        off = 0;
        for (size_t v = 0; v < d->n_vars; v++) {
            double *h = have + off;
            category_totals(d, v, w, h, comp);
            for (int c = 0; c < d->n_cats[v]; c++) {
                double g = goal[off + (size_t)c];
                double e = g > 0 ? fabs(h[c] - g) / g : 0;
                worst = e > worst ? e : worst;
            }
            off += (size_t)d->n_cats[v];
        }
        if (worst <= tol) {
            result = iter;
            break;
        }
    }
out:
    free(goal);
    free(have);
    free(comp);
    return result;
}

/* Solve the symmetric system A x = b (p x p, row-major) by Gaussian elimination with partial
 * pivoting; a column without a usable pivot (collinear dummies) gets coefficient 0. */
static void solve(double *a, double *b, double *x, size_t p)
{
    size_t *col_used = calloc(p ? p : 1, sizeof *col_used);
    for (size_t k = 0; k < p; k++) {
        size_t piv = k;
        for (size_t r = k + 1; r < p; r++) {
            if (fabs(a[r * p + k]) > fabs(a[piv * p + k])) {
                piv = r;
            }
        }
        if (fabs(a[piv * p + k]) < 1e-12) {
            continue;
        }
        if (piv != k) {
            for (size_t c = 0; c < p; c++) {
                double t = a[k * p + c];
                a[k * p + c] = a[piv * p + c];
                a[piv * p + c] = t;
            }
            double t = b[k];
            b[k] = b[piv];
            b[piv] = t;
        }
        if (col_used != NULL) {
            col_used[k] = 1;
        }
        for (size_t r = k + 1; r < p; r++) {
            double f = a[r * p + k] / a[k * p + k];
            for (size_t c = k; c < p; c++) {
                a[r * p + c] -= f * a[k * p + c];
            }
            b[r] -= f * b[k];
        }
    }
    for (size_t k = p; k-- > 0;) {
        if (col_used == NULL || !col_used[k]) {
            x[k] = 0;
            continue;
        }
        double s = b[k];
        for (size_t c = k + 1; c < p; c++) {
            s -= a[k * p + c] * x[c];
        }
        x[k] = s / a[k * p + k];
    }
    free(col_used);
}

/* Replace u by its residuals from the least-squares fit on an intercept and the dummies of every
 * raking variable, weighted by the design weights before calibration, which are all 1 here
 * (survey's svyrecvar for rake() and calibrate(); tests/unit/test_estimate_oracle.c). */
static int residualise(const struct est_design *d, double *u)
{
    if (d->n_vars >= 64) {
        return -1;
    }
    size_t p = 1;
    for (size_t v = 0; v < d->n_vars; v++) {
        p += (size_t)d->n_cats[v] - 1; /* the first category of each is the reference */
    }
    double *a = calloc(p * p, sizeof *a), *b = calloc(p, sizeof *b), *beta = calloc(p, sizeof *b);
    size_t *cols = calloc(d->n_vars + 1, sizeof *cols);
    if (a == NULL || b == NULL || beta == NULL || cols == NULL) {
        free(a);
        free(b);
        free(beta);
        free(cols);
        return -1;
    }
    /* Column of category c > 0 of variable v: 1 + sum of earlier (n_cats - 1) + c - 1. */
    size_t next = 1;
    for (size_t v = 0; v < d->n_vars; v++) {
        cols[v] = next;
        next += (size_t)d->n_cats[v] - 1;
    }
    size_t idx[64];
    for (size_t i = 0; i < d->n; i++) {
        size_t k = 0;
        idx[k++] = 0;
        for (size_t v = 0; v < d->n_vars && k < 64; v++) {
            if (d->cat[v][i] > 0) {
                idx[k++] = cols[v] + (size_t)d->cat[v][i] - 1;
            }
        }
        for (size_t r = 0; r < k; r++) {
            b[idx[r]] += u[i];
            for (size_t c = 0; c < k; c++) {
                a[idx[r] * p + idx[c]] += 1;
            }
        }
    }
    solve(a, b, beta, p);
    for (size_t i = 0; i < d->n; i++) {
        double fit = beta[0];
        for (size_t v = 0; v < d->n_vars; v++) {
            if (d->cat[v][i] > 0) {
                fit += beta[cols[v] + (size_t)d->cat[v][i] - 1];
            }
        }
        u[i] -= fit;
    }
    free(a);
    free(b);
    free(beta);
    free(cols);
    return 0;
}

int est_weighted(const struct est_design *d, const double *w, const double *y, const bool *in_base,
                 bool proportion, double level, struct estimate *out)
{
    size_t n = 0;
    double sw = 0, sw2 = 0, swy = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (in_base[i]) {
            n++;
            sw += w[i];
            sw2 += w[i] * w[i];
            swy += w[i] * y[i];
        }
    }
    if (n < 2 || !(sw > 0)) {
        return -1;
    }
    double mean = swy / sw;
    /* u_i: the influence value divided by the weight, so that z_i = w_i u_i. */
    double *u = calloc(d->n, sizeof *u);
    if (u == NULL) {
        return -1;
    }
    for (size_t i = 0; i < d->n; i++) {
        u[i] = in_base[i] ? (y[i] - mean) / sw : 0;
    }
    if (d->n_vars > 0 && residualise(d, u) != 0) {
        free(u);
        return -1;
    }
    double zbar = 0;
    for (size_t i = 0; i < d->n; i++) {
        zbar += w[i] * u[i];
    }
    zbar /= (double)d->n;
    double ss = 0;
    for (size_t i = 0; i < d->n; i++) {
        double z = w[i] * u[i] - zbar;
        ss += z * z;
    }
    free(u);
    double var = (double)d->n / (double)(d->n - 1) * ss;
    memset(out, 0, sizeof *out);
    out->estimate = mean;
    out->se = sqrt(var);
    out->n = n;
    out->n_eff = sw * sw / sw2;
    out->deff = (double)n / out->n_eff;
    double t = dist_t_quantile(0.5 + level / 2, (double)(n - 1));
    if (!proportion) {
        out->ci_low = mean - t * out->se;
        out->ci_high = mean + t * out->se;
    } else if (mean <= 0 || mean >= 1) {
        /* The logit interval degenerates: exact interval on the unweighted base. */
        size_t x = mean >= 1 ? n : 0;
        est_clopper_pearson(x, n, level, &out->ci_low, &out->ci_high);
    } else {
        double logit = log(mean / (1 - mean));
        double se_logit = out->se / (mean * (1 - mean));
        out->ci_low = 1 / (1 + exp(-(logit - t * se_logit)));
        out->ci_high = 1 / (1 + exp(-(logit + t * se_logit)));
    }
    return 0;
}
