# Gompertz hazard in attained age, h(a) = exp(alpha + beta a), with delayed entry at the
# baseline age, fitted by maximum likelihood on survival::flchain (futime in days -> years).
# Reference for survage.models.AgeGompertz. Run: Rscript tests/reference/gompertz_age_flchain.R
library(survival)
d <- survival::flchain
entry <- d$age
exit <- d$age + d$futime / 365.25
ev <- d$death
c0 <- mean(entry)
nll <- function(p) {
  a0 <- p[1]; b <- p[2]
  -sum(ev * (a0 + b * (exit - c0))) + sum(exp(a0) * (exp(b * (exit - c0)) - exp(b * (entry - c0))) / b)
}
fit <- optim(c(log(sum(ev) / sum(exit - entry)), 0.05), nll, method = "BFGS",
             control = list(reltol = 1e-15, maxit = 10000))
fit <- optim(fit$par, nll, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 10000))
beta <- fit$par[2]
alpha <- fit$par[1] - beta * c0
out <- sprintf('{\n  "source": "R %s, survival %s, tests/reference/gompertz_age_flchain.R",\n  "call": "optim on the left-truncated Gompertz log-likelihood, survival::flchain, time = futime/365.25",\n  "n": %d,\n  "events": %d,\n  "alpha": %.12f,\n  "beta": %.12f,\n  "loglik": %.10f\n}\n',
  paste(R.version$major, R.version$minor, sep = "."), packageVersion("survival"), nrow(d), sum(ev),
  alpha, beta, -fit$value)
cat(out, file = "tests/reference/gompertz_age_flchain.json")
