/*
 * The weighted estimator against R's survey package as an oracle: raking weights, the Hajek
 * mean, its linearised standard error on a raked design, the interval (svyciprop's logit
 * interval for a proportion, the t interval for a mean, df = base - 1), and the Kish n_eff and
 * deff, over a base with units outside it (NA) and over a domain inside it. The datasets and
 * the expected values are literals printed by tests/unit/oracle/estimate_oracle.R (R 4.2.2,
 * survey 4.1.1; its output is tests/unit/oracle/estimate_oracle.out). Everything must agree to
 * a relative 1e-9.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "estimate.h"
#include "testlib.h"

#define MAX_UNITS 40
#define REL 1e-9

/* What R printed for one variable over one base: {est, se, lo, hi, n_eff, deff}. */
struct oracle {
    double est, se, lo, hi, n_eff, deff;
};

struct dataset {
    size_t n;
    int a[MAX_UNITS], b[MAX_UNITS]; /* raking variables: 3 and 2 categories */
    double y[MAX_UNITS];            /* binary; NAN = outside the base */
    double s[MAX_UNITS];            /* score 0-100; NAN = outside the base */
    double share_a[3], share_b[2];  /* population margins, shares */
    int domain_var, domain_cat;     /* the domain: units whose variable (0 = a, 1 = b) is cat */
    double w[MAX_UNITS];            /* weights(rake(...)) */
    struct oracle y_base, s_base, y_domain, s_domain;
};

/* d1: 40 units; the domain is b == 1. */
static const struct dataset d1 = {
    40,
    {0, 2, 1, 1, 0, 1, 1, 2, 0, 0, 1, 2, 0, 1, 1, 1, 0, 1, 0, 2,
     1, 1, 2, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 2, 0, 1, 1, 1},
    {0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1,
     0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1},
    {NAN, 1,   1, 0, 0, 1, 1, 1,   1, 1, 0,   1, NAN, 1, NAN, 1, 0,   1, NAN, 1,
     NAN, NAN, 1, 1, 0, 1, 0, NAN, 0, 0, NAN, 0, 0,   0, 0,   1, NAN, 1, 1,   1},
    {53, 75, NAN, 78, 80, 69, 45, 63, 45, 49, 39,  43, 68, NAN, 93,  59, 71,  74,  30, 90,
     55, 38, 55,  34, 45, 70, 30, 53, 56, 33, NAN, 49, 58, 50,  NAN, 71, NAN, NAN, 38, 74},
    {0.40, 0.35, 0.25},
    {0.55, 0.45},
    1,
    1,
    {1.2508267350360778,  1.4375713858888748,  0.63890903268985155, 0.63890903268985155,
     1.2508267350360778,  0.63890903268985155, 0.63890903268985155, 1.895761947444462,
     0.94851187693509054, 1.2508267350360778,  0.84254559039031895, 1.895761947444462,
     1.2508267350360778,  0.63890903268985155, 0.63890903268985155, 0.84254559039031895,
     0.94851187693509054, 0.63890903268985155, 1.2508267350360778,  1.4375713858888748,
     0.84254559039031895, 0.63890903268985155, 1.4375713858888748,  0.63890903268985155,
     0.94851187693509054, 0.84254559039031895, 0.94851187693509054, 0.63890903268985155,
     1.2508267350360778,  0.84254559039031895, 0.63890903268985155, 1.2508267350360778,
     1.2508267350360778,  0.94851187693509054, 0.63890903268985155, 1.895761947444462,
     1.2508267350360778,  0.84254559039031895, 0.63890903268985155, 0.63890903268985155},
    {0.62782222339571059, 0.066735404866922407, 0.48490400325998284, 0.75141498231418602,
     27.03360559472781, 1.1467208801050841},
    {57.45255059285671, 2.7361619521153022, 51.885787244979284, 63.019313940734136,
     30.020516454865025, 1.1325587969520117},
    {0.67160411292683098, 0.10825583167764505, 0.42064323985945196, 0.85208289262088299,
     16.138311613798415, 1.1153583119940393},
    {59.934281434770114, 4.6278534426937679, 50.170364149445263, 69.698198720094965,
     16.138311613798415, 1.1153583119940393},
};

/* d2: 36 units; the domain is a == 0. */
static const struct dataset d2 = {
    36,
    {1, 1, 0, 2, 2, 0, 1, 0, 0, 1, 0, 1, 1, 2, 0, 0, 0, 0,
     0, 2, 0, 2, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0, 2, 0, 2, 0},
    {1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0,
     0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0},
    {1, 1, 0, NAN, 1, 1,   0, NAN, 0, 0, 0,   0,   0, 0, 0, 0, 0, 0,
     0, 1, 0, 1,   1, NAN, 0, 1,   1, 1, NAN, NAN, 0, 1, 1, 0, 1, 0},
    {52, 43, 62, 82,  96, 80, 58,  59, 71, 44, NAN, 40, 26, 36, 26, 55, NAN, 83,
     22, 61, 29, NAN, 72, 85, NAN, 48, 66, 43, 48,  35, 72, 49, 94, 35, 42,  36},
    {0.50, 0.30, 0.20},
    {0.60, 0.40},
    0,
    0,
    {1.6647686224036862,  2.0704627551925223,  0.76092529972311007, 0.8159252470575501,
     0.65604983529495087, 0.94635823342565017, 2.0704627551925223,  0.94635823342565017,
     0.76092529972311007, 1.6647686224036862,  0.94635823342565017, 1.6647686224036862,
     1.6647686224036862,  0.8159252470575501,  0.76092529972311007, 0.94635823342565017,
     0.94635823342565017, 0.94635823342565017, 0.94635823342565017, 0.65604983529495087,
     0.94635823342565017, 0.65604983529495087, 0.8159252470575501,  0.94635823342565017,
     0.65604983529495087, 0.94635823342565017, 0.65604983529495087, 0.94635823342565017,
     0.76092529972311007, 0.94635823342565017, 0.94635823342565017, 0.94635823342565017,
     0.65604983529495087, 0.76092529972311007, 0.8159252470575501,  0.94635823342565017},
    {0.39364027849922756, 0.090032396981615082, 0.23105277080159814, 0.5837785784703281,
     26.742479788009192, 1.159204391131289},
    {52.412603338666727, 3.0371755260718389, 46.218243014177126, 58.606963663156328,
     27.87649876533915, 1.1479203421266051},
    {0.26287728706267621, 0.11332636942193404, 0.092992910024005532, 0.55366571630470085,
     15.873652440170247, 1.0079595770605394},
    {52.32472944694446, 4.7279352855650592, 42.349657930471487, 62.299800963417432,
     17.846259007708309, 1.0086147462179769},
};

/* |ours - r| within REL of |r|, naming what differs. */
static int near(const char *what, double ours, double r)
{
    if (fabs(ours - r) <= REL * fabs(r)) {
        return 1;
    }
    fprintf(stderr, "  %s: ours %.17g, R %.17g (relative %.3g)\n", what, ours, r,
            fabs(ours - r) / fabs(r));
    return 0;
}

static void rake(const struct dataset *ds, double *w)
{
    const int *cats[2] = {ds->a, ds->b};
    const int n_cats[2] = {3, 2};
    struct est_design d = {ds->n, 2, cats, n_cats};
    const double *targets[2] = {ds->share_a, ds->share_b};
    int bv = -1, bc = -1;
    CHECK(est_rake(&d, targets, 1e-12, 10000, w, &bv, &bc) > 0);
}

static void check_weights(const struct dataset *ds)
{
    double w[MAX_UNITS];
    rake(ds, w);
    for (size_t i = 0; i < ds->n; i++) {
        char what[32];
        snprintf(what, sizeof what, "w[%zu]", i);
        CHECK(near(what, w[i], ds->w[i]));
    }
}

/* est_weighted on the raked design over the units with a value (and in the domain if asked). */
static void check_estimate(const struct dataset *ds, bool binary, bool domain,
                           const struct oracle *r)
{
    const int *cats[2] = {ds->a, ds->b};
    const int n_cats[2] = {3, 2};
    struct est_design d = {ds->n, 2, cats, n_cats};
    const double *v = binary ? ds->y : ds->s;
    double w[MAX_UNITS], y[MAX_UNITS];
    bool base[MAX_UNITS];
    rake(ds, w);
    for (size_t i = 0; i < ds->n; i++) {
        int dv = ds->domain_var == 0 ? ds->a[i] : ds->b[i];
        base[i] = !isnan(v[i]) && (!domain || dv == ds->domain_cat);
        y[i] = base[i] ? v[i] : 0;
    }
    struct estimate e;
    CHECK(est_weighted(&d, w, y, base, binary, 0.95, &e) == 0);
    CHECK(near("estimate", e.estimate, r->est));
    CHECK(near("se", e.se, r->se));
    CHECK(near("ci_low", e.ci_low, r->lo));
    CHECK(near("ci_high", e.ci_high, r->hi));
    CHECK(near("n_eff", e.n_eff, r->n_eff));
    CHECK(near("deff", e.deff, r->deff));
}

static void test_d1_raking_weights(void)
{
    check_weights(&d1);
}
static void test_d1_proportion(void)
{
    check_estimate(&d1, true, false, &d1.y_base);
}
static void test_d1_mean(void)
{
    check_estimate(&d1, false, false, &d1.s_base);
}
static void test_d1_domain_proportion(void)
{
    check_estimate(&d1, true, true, &d1.y_domain);
}
static void test_d1_domain_mean(void)
{
    check_estimate(&d1, false, true, &d1.s_domain);
}
static void test_d2_raking_weights(void)
{
    check_weights(&d2);
}
static void test_d2_proportion(void)
{
    check_estimate(&d2, true, false, &d2.y_base);
}
static void test_d2_mean(void)
{
    check_estimate(&d2, false, false, &d2.s_base);
}
static void test_d2_domain_proportion(void)
{
    check_estimate(&d2, true, true, &d2.y_domain);
}
static void test_d2_domain_mean(void)
{
    check_estimate(&d2, false, true, &d2.s_domain);
}

TEST_MAIN(TEST_CASE(test_d1_raking_weights), TEST_CASE(test_d1_proportion), TEST_CASE(test_d1_mean),
          TEST_CASE(test_d1_domain_proportion), TEST_CASE(test_d1_domain_mean),
          TEST_CASE(test_d2_raking_weights), TEST_CASE(test_d2_proportion), TEST_CASE(test_d2_mean),
          TEST_CASE(test_d2_domain_proportion), TEST_CASE(test_d2_domain_mean))
