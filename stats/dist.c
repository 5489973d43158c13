/*
 * Distribution functions. The incomplete beta function is the continued fraction of Didonato
 * and Morris's region (evaluated with the modified Lentz method), its prefactor computed from a
 * log B(a, b) that avoids lgamma's cancellation for large arguments (the Stirling-remainder form
 * R's lbeta uses). Quantiles are found by Newton's method inside a bisection bracket, which
 * converges to full double precision whatever the starting guess.
 */
#include "dist.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

#define LN_SQRT_2PI 0.918938533204672741780329736406

double dist_norm_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* Lower-tail normal probability for x <= 0, accurate far into the tail. */
static double norm_lower(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

double dist_norm_quantile(double p)
{
    if (isnan(p) || p < 0 || p > 1) {
        return NAN;
    }
    if (p == 0) {
        return -INFINITY;
    }
    if (p == 1) {
        return INFINITY;
    }
    if (p == 0.5) {
        return 0;
    }
    /* Work in the lower tail: q <= 1/2, answer x <= 0, then mirror. */
    double q = p < 0.5 ? p : 1 - p;
    /* Abramowitz and Stegun 26.2.23 (error < 4.5e-4) as the start... */
    double t = sqrt(-2 * log(q));
    double x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                         (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
    /* ...then Halley's method on Phi(x) = q, which triples the digits each step. */
    for (int i = 0; i < 6; i++) {
        double e = norm_lower(x) - q;
        double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
        double step = u / (1 + x * u / 2);
        x -= step;
        if (fabs(step) <= 1e-17 * fabs(x)) {
            break;
        }
    }
    return p < 0.5 ? x : -x;
}

/* The remainder of Stirling's series for log Gamma(x), x >= 10. */
static double lgamma_correction(double x)
{
    static const double c[] = {1.0 / 12,   -1.0 / 360,      1.0 / 1260, -1.0 / 1680,
                               1.0 / 1188, -691.0 / 360360, 1.0 / 156,  -3617.0 / 122400};
    double x2 = 1 / (x * x), term = 1 / x, sum = 0;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        sum += c[i] * term;
        term *= x2;
    }
    return sum;
}

double dist_lbeta(double a, double b)
{
    double p = a < b ? a : b, q = a < b ? b : a;
    if (p >= 10) {
        double corr = lgamma_correction(p) + lgamma_correction(q) - lgamma_correction(p + q);
        return -0.5 * log(q) + LN_SQRT_2PI + corr + (p - 0.5) * log(p / (p + q)) +
               q * log1p(-p / (p + q));
    }
    if (q >= 10) {
        double corr = lgamma_correction(q) - lgamma_correction(p + q);
        return lgamma(p) + corr + p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q));
    }
    return lgamma(p) + lgamma(q) - lgamma(p + q);
}

/* The continued fraction for I_x(a, b), good where x < (a + 1) / (a + b + 2). */
static double beta_cf(double x, double a, double b)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) {
        d = tiny;
    }
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        d = fabs(d) < tiny ? 1 / tiny : 1 / d;
        c = 1 + aa / c;
        if (fabs(c) < tiny) {
            c = tiny;
        }
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        d = fabs(d) < tiny ? 1 / tiny : 1 / d;
        c = 1 + aa / c;
        if (fabs(c) < tiny) {
            c = tiny;
        }
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16) {
            break;
        }
    }
    return h;
}

/* I_x(a, b) with y = 1 - x given separately, so that neither loses digits to the other. */
static double ibeta(double x, double y, double a, double b)
{
    if (x <= 0) {
        return 0;
    }
    if (y <= 0) {
        return 1;
    }
    double lfront = a * log(x) + b * log(y) - dist_lbeta(a, b);
    if (x < (a + 1) / (a + b + 2)) {
        return exp(lfront) * beta_cf(x, a, b) / a;
    }
    return 1 - exp(lfront) * beta_cf(y, b, a) / b;
}

double dist_beta_cdf(double x, double a, double b)
{
    if (isnan(x) || !(a > 0) || !(b > 0)) {
        return NAN;
    }
    return ibeta(x, 1 - x, a, b);
}

static double beta_pdf(double x, double a, double b)
{
    return exp((a - 1) * log(x) + (b - 1) * log1p(-x) - dist_lbeta(a, b));
}

double dist_beta_quantile(double p, double a, double b)
{
    if (isnan(p) || p < 0 || p > 1 || !(a > 0) || !(b > 0)) {
        return NAN;
    }
    if (p == 0) {
        return 0;
    }
    if (p == 1) {
        return 1;
    }
    double lo = 0, hi = 1, x = a / (a + b);
    for (int i = 0; i < 400; i++) {
        double f = dist_beta_cdf(x, a, b) - p;
        if (f == 0) {
            return x;
        }
        if (f < 0) {
            lo = x;
        } else {
            hi = x;
        }
        double d = beta_pdf(x, a, b);
        double next = d > 0 && isfinite(d) ? x - f / d : NAN;
        if (!(next > lo && next < hi)) {
            next = (lo + hi) / 2;
        }
        if (fabs(next - x) <= 4 * DBL_EPSILON * x || hi - lo <= 4 * DBL_EPSILON * hi) {
            return next;
        }
        x = next;
    }
    return x;
}

/* P(T > t) for t >= 0. */
static double t_upper(double t, double df)
{
    double t2 = t * t;
    /* x = df / (df + t^2) and 1 - x = t^2 / (df + t^2), each computed directly. */
    return 0.5 * ibeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5);
}

double dist_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0)) {
        return NAN;
    }
    if (isinf(t)) {
        return t > 0 ? 1 : 0;
    }
    double upper = t_upper(fabs(t), df);
    return t >= 0 ? 1 - upper : upper;
}

static double t_pdf(double t, double df)
{
    return exp(-dist_lbeta(df / 2, 0.5) - 0.5 * log(df) - (df + 1) / 2 * log1p(t * t / df));
}

double dist_t_quantile(double p, double df)
{
    if (isnan(p) || p < 0 || p > 1 || !(df > 0)) {
        return NAN;
    }
    if (p == 0) {
        return -INFINITY;
    }
    if (p == 1) {
        return INFINITY;
    }
    if (p == 0.5) {
        return 0;
    }
    /* Solve P(T > t) = q for t > 0, then give t the sign of p - 1/2. */
    double q = p > 0.5 ? 1 - p : p;
    double sign = p > 0.5 ? 1 : -1;
    if (df == 1) {
        return sign * tan(M_PI * (0.5 - q));
    }
    if (df == 2) {
        return sign * (1 - 2 * q) / sqrt(2 * q * (1 - q));
    }
    /* Start from the normal quantile with the first Cornish-Fisher terms. */
    double z = -dist_norm_quantile(q), z3 = z * z * z;
    double t = z + (z3 + z) / (4 * df) + (5 * z3 * z * z + 16 * z3 + 3 * z) / (96 * df * df);
    double lo = 0, hi = INFINITY;
    for (int i = 0; i < 400; i++) {
        double f = t_upper(t, df) - q; /* decreasing in t */
        if (f == 0) {
            return sign * t;
        }
        if (f > 0) {
            lo = t;
        } else {
            hi = t;
        }
        double next = t + f / t_pdf(t, df);
        if (!(next > lo && next < hi)) {
            next = isinf(hi) ? 2 * t + 1 : (lo + hi) / 2;
        }
        if (fabs(next - t) <= 4 * DBL_EPSILON * t) {
            return sign * next;
        }
        t = next;
    }
    return sign * t;
}
