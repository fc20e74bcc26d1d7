# Reference for tests/test_bioage_reference.py: Gompertz mortality in attained age,
# h(a) = exp(alpha + beta * a), fitted by maximum likelihood with delayed entry (entry = age at
# baseline, exit = age + permth_int / 12) on NHANES III, ages 20-84, eligstat == 1, all-cause death
# (ucod_leading present or status == 1). Independent implementation: R optim (BFGS) on the closed-form
# log-likelihood with its analytic gradient, standard errors from optimHess (differences of the gradient).
# Run from the repository root: Rscript tests/reference/gompertz_nhanes3.R > tests/reference/gompertz_nhanes3.json
d <- read.csv(gzfile("survage/data/files/nhanes3.csv.gz"))
d <- d[d$eligstat == 1 & d$age >= 20 & d$age <= 84, ]
death <- as.numeric(!is.na(d$ucod_leading) | (!is.na(d$status) & d$status == 1))
fit_one <- function(e, x, dd) {
  nll <- function(p) {
    a <- p[1]; b <- p[2]
    -(sum(dd * (a + b * x)) - sum(exp(a) * (exp(b * x) - exp(b * e)) / b))
  }
  gr <- function(p) {
    a <- p[1]; b <- p[2]
    u <- (exp(b * x) - exp(b * e)) / b
    du <- (x * exp(b * x) - e * exp(b * e)) / b - u / b
    -c(sum(dd) - exp(a) * sum(u), sum(dd * x) - exp(a) * sum(du))
  }
  f <- optim(c(-9, 0.08), nll, gr, method = "BFGS",
             control = list(reltol = 1e-15, parscale = c(1, 0.01), maxit = 10000))
  f <- optim(f$par, nll, method = "Nelder-Mead",
             control = list(reltol = 1e-15, parscale = c(1, 0.01), maxit = 10000))
  f <- optim(f$par, nll, gr, method = "BFGS",
             control = list(reltol = 1e-15, parscale = c(1, 0.01), maxit = 10000))
  se <- sqrt(diag(solve(optimHess(f$par, nll, gr, control = list(ndeps = c(1e-5, 1e-7))))))
  sprintf('{"alpha": %.12f, "beta": %.12f, "se_alpha": %.12f, "se_beta": %.12f, "loglik": %.8f, "n": %d, "events": %d}',
          f$par[1], f$par[2], se[1], se[2], -f$value, length(e), as.integer(sum(dd)))
}
e <- d$age; x <- d$age + d$permth_int / 12
all <- fit_one(e, x, death)
m <- d$gender == 1; w <- d$gender == 2
cat(sprintf('{\n "call": "optim(BFGS) on Gompertz left-truncated log-likelihood, R %s",\n "all": %s,\n "male": %s,\n "female": %s\n}\n',
            getRversion(), all, fit_one(e[m], x[m], death[m]), fit_one(e[w], x[w], death[w])))
