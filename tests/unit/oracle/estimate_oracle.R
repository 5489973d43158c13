# Oracle values for tests/unit/test_estimate_oracle.c: R's survey package on hand-made data.
#
# Produced with R 4.2.2 (Debian 12 r-base-core 4.2.2) and survey 4.1.1 (Debian r-cran-survey).
# Re-run:  apt-get install -y --no-install-recommends r-base-core r-cran-survey r-cran-mass
#          Rscript tests/unit/oracle/estimate_oracle.R > tests/unit/oracle/estimate_oracle.out
# and copy the printed literals (lines starting "C ") into tests/unit/test_estimate_oracle.c
# (same datasets, same order). MASS is needed by calibrate(), used only for the se_cal column.
#
# Each dataset: units with two raking variables (a: 3 categories, b: 2), a binary y and a score
# s (0-100), NA = outside the base. Starting weights 1; rake() to population shares scaled to
# the sample size (Freq = share * n, so the mean weight is 1, as est_rake does). For each
# variable, over the base (and over a domain inside it):
#   est, se   svymean(~v, subset(raked, base), na.rm = TRUE) and SE()
#   df        degf() of that subset design (units with a non-zero weight, minus 1)
#   lo, hi    binary y: svyciprop(~I(y == 1), subset, method = "logit", level = 0.95)
#             score s:  confint(svymean, df = degf(subset)), i.e. est -/+ qt(0.975, df) * se
#   n_eff     Kish: (sum w)^2 / sum w^2 over the base;  deff = n_base / n_eff
# Also printed, for the diagnosis in the report (not checked by the test):
#   se_cal    the same SE when the identical weights come from calibrate(calfun = "raking"),
#             whose variance uses the exact projection (qr.resid) instead of rake()'s 10
#             backfitting sweeps
#   se_nocal  the SE of a design that has the raked weights as plain weights (no calibration)
suppressPackageStartupMessages(library(survey))
options(digits = 17)

datasets <- list(
  d1 = list(
    a = c(0, 2, 1, 1, 0, 1, 1, 2, 0, 0, 1, 2, 0, 1, 1, 1, 0, 1, 0, 2,
          1, 1, 2, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 2, 0, 1, 1, 1),
    b = c(0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1,
          0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1),
    y = c(NA, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, NA, 1, NA, 1, 0, 1, NA, 1,
          NA, NA, 1, 1, 0, 1, 0, NA, 0, 0, NA, 0, 0, 0, 0, 1, NA, 1, 1, 1),
    s = c(53, 75, NA, 78, 80, 69, 45, 63, 45, 49, 39, 43, 68, NA, 93, 59, 71, 74, 30, 90,
          55, 38, 55, 34, 45, 70, 30, 53, 56, 33, NA, 49, 58, 50, NA, 71, NA, NA, 38, 74),
    share_a = c(0.40, 0.35, 0.25), share_b = c(0.55, 0.45),
    domain = quote(b == 1)),
  d2 = list(
    a = c(1, 1, 0, 2, 2, 0, 1, 0, 0, 1, 0, 1, 1, 2, 0, 0, 0, 0,
          0, 2, 0, 2, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0, 2, 0, 2, 0),
    b = c(1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0,
          0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0),
    y = c(1, 1, 0, NA, 1, 1, 0, NA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
          0, 1, 0, 1, 1, NA, 0, 1, 1, 1, NA, NA, 0, 1, 1, 0, 1, 0),
    s = c(52, 43, 62, 82, 96, 80, 58, 59, 71, 44, NA, 40, 26, 36, 26, 55, NA, 83,
          22, 61, 29, NA, 72, 85, NA, 48, 66, 43, 48, 35, 72, 49, 94, 35, 42, 36),
    share_a = c(0.50, 0.30, 0.20), share_b = c(0.60, 0.40),
    domain = quote(a == 0)))

f17 <- function(x) sprintf("%.17g", x)

one <- function(tag, raked, cald, plain, sel, binary, var) {
  w <- weights(raked)
  fml <- as.formula(paste0("~", var))
  sub <- raked[sel, ]
  m <- svymean(fml, sub, na.rm = TRUE)
  df <- degf(sub)
  if (binary) {
    ci <- svyciprop(as.formula(paste0("~I(", var, " == 1)")), sub, method = "logit",
                    level = 0.95)
    lohi <- as.vector(attr(ci, "ci"))
    # The logit interval comes from svyglm(y ~ 1, quasibinomial): its centre is the Hajek
    # mean (to glm's convergence) and its half-width, qt(0.975, df) * SE(m) / (p (1 - p)).
    p <- coef(m)[[1]]
    half <- (qlogis(lohi[2]) - qlogis(lohi[1])) / 2
    stopifnot(abs(coef(ci)[[1]] / p - 1) < 1e-9,
              abs(half / (qt(0.975, df) * SE(m)[[1]] / (p * (1 - p))) - 1) < 1e-9)
  } else {
    lohi <- as.vector(confint(m, df = df, level = 0.95))
  }
  n_base <- sum(sel)
  n_eff <- sum(w[sel])^2 / sum(w[sel]^2)
  se_cal <- SE(svymean(fml, cald[sel, ], na.rm = TRUE))
  se_nocal <- SE(svymean(fml, plain[sel, ], na.rm = TRUE))
  cat(sprintf("%-10s n=%d est=%s se=%s lo=%s hi=%s df=%d n_eff=%s deff=%s\n", tag, n_base,
              f17(coef(m)), f17(SE(m)), f17(lohi[1]), f17(lohi[2]), df, f17(n_eff),
              f17(n_base / n_eff)))
  cat(sprintf("%-10s se_cal=%s (rel %.3g) se_nocal=%s\n", "", f17(se_cal),
              se_cal / SE(m) - 1, f17(se_nocal)))
  # The C literal: {est, se, lo, hi, n_eff, deff}.
  cat(sprintf("C %s {%s, %s, %s, %s, %s, %s}\n", tag, f17(coef(m)), f17(SE(m)), f17(lohi[1]),
              f17(lohi[2]), f17(n_eff), f17(n_base / n_eff)))
}

for (name in names(datasets)) {
  ds <- datasets[[name]]
  n <- length(ds$a)
  d <- data.frame(a = factor(ds$a), b = factor(ds$b), y = ds$y, s = ds$s)
  des <- svydesign(ids = ~1, data = d, weights = ~rep(1, n))
  pop_a <- data.frame(a = factor(0:2), Freq = ds$share_a * n)
  pop_b <- data.frame(b = factor(0:1), Freq = ds$share_b * n)
  raked <- rake(des, list(~a, ~b), list(pop_a, pop_b),
                control = list(epsilon = 1e-13, maxit = 10000))
  w <- weights(raked)
  cald <- calibrate(des, list(~a, ~b), list(pop_a, pop_b), calfun = "raking",
                    epsilon = 1e-14, maxit = 1000)
  plain <- svydesign(ids = ~1, data = cbind(d, w = w), weights = ~w)
  cat(sprintf("== %s: n=%d sum(w)=%s max|w_rake - w_calibrate|=%.3g\n", name, n, f17(sum(w)),
              max(abs(w - weights(cald)))))
  cat(sprintf("C %s weights {%s}\n", name, paste(f17(w), collapse = ", ")))
  dom <- eval(ds$domain, d)
  one(paste0(name, ".y"), raked, cald, plain, !is.na(d$y), TRUE, "y")
  one(paste0(name, ".s"), raked, cald, plain, !is.na(d$s), FALSE, "s")
  one(paste0(name, ".y.dom"), raked, cald, plain, !is.na(d$y) & dom, TRUE, "y")
  one(paste0(name, ".s.dom"), raked, cald, plain, !is.na(d$s) & dom, FALSE, "s")
}
