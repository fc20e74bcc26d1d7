# Reference values for tests/test_metrics_concordance.py and tests/test_metrics_hazard_ratio.py.
# Inputs: tests/reference/concordance_<dataset>.csv.gz, written by concordance_export.py.
# Run from the repository root:  Rscript tests/reference/concordance.R
# Output: tests/reference/concordance.json (written without jsonlite, 17 significant digits).
library(survival)
dir <- "tests/reference"
rd <- function(name) read.csv(gzfile(file.path(dir, paste0("concordance_", name, ".csv.gz"))))
num <- function(x) sprintf("%.17g", x)
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste0('"', names(kv), '": ', unlist(kv), collapse = ", "), "}")
}
conc <- function(d, risk, weights = NULL) {
  d$risk <- d[[risk]]
  fit <- if (is.null(weights)) {
    concordance(Surv(time, status) ~ risk, data = d, reverse = TRUE)
  } else {
    concordance(Surv(time, status) ~ risk, data = d, reverse = TRUE, weights = d[[weights]])
  }
  cnt <- fit$count
  obj(estimate = num(fit$concordance), concordant = num(cnt[["concordant"]]),
      discordant = num(cnt[["discordant"]]), tied_risk = num(cnt[["tied.x"]]),
      tied_time = num(cnt[["tied.y"]]))
}
out <- character(0)
cases <- list(
  c("flchain", "risk_age"), c("flchain", "risk_lin"),
  c("whas500", "risk_age"), c("whas500", "risk_lin"),
  c("gbsg2", "risk_nodes"), c("gbsg2", "risk_lin"),
  c("nhanes3", "risk_phenoage"), c("nhanes3", "age")
)
for (cs in cases) {
  out <- c(out, paste0('"', cs[1], "/", cs[2], '": ', conc(rd(cs[1]), cs[2])))
}
out <- c(out, paste0('"whas500/risk_lin/weighted": ', conc(rd("whas500"), "risk_lin", "weight")))

# Age-adjusted hazard ratio of PhenoAge acceleration (BioAge phenoage_advance0), NHANES III
nh <- rd("nhanes3")
full <- coxph(Surv(time, status) ~ age + advance, data = nh, ties = "efron")
base <- coxph(Surv(time, status) ~ age, data = nh, ties = "efron")
ci <- summary(full)$conf.int["advance", ]
out <- c(out, paste0('"coxph/nhanes3": ', obj(
  hr = num(ci[["exp(coef)"]]), lower = num(ci[["lower .95"]]), upper = num(ci[["upper .95"]]),
  coef_age = num(coef(full)[["age"]]), loglik = num(full$loglik[2]), loglik_age = num(base$loglik[2]),
  n = num(full$n), n_events = num(full$nevent))))

# Austin et al. 2020 ICI machinery: Cox on a 3-knot restricted cubic spline of cloglog(pred),
# knots at the 5/50/95th percentiles (quantile type 7 = numpy's default), observed = 1 - S(t|x)
# from survfit (Efron-corrected baseline), t = 1825 days
gb <- rd("gbsg2")
x <- log(-log(1 - gb$pred_risk))
k <- quantile(x, c(0.05, 0.5, 0.95), type = 7, names = FALSE)
cube <- function(v) pmax(v, 0)^3
gb$x <- x
gb$s <- (cube(x - k[1]) - cube(x - k[2]) * (k[3] - k[1]) / (k[3] - k[2]) +
         cube(x - k[3]) * (k[2] - k[1]) / (k[3] - k[2])) / (k[3] - k[1])^2
cal <- coxph(Surv(time, status) ~ x + s, data = gb, ties = "efron")
sf <- survfit(cal, newdata = gb[, c("x", "s")])
obs <- 1 - sf$surv[max(which(sf$time <= 1825)), ]
delta <- abs(obs - gb$pred_risk)
out <- c(out, paste0('"austin/gbsg2/1825": ', obj(
  ici = num(mean(delta)), e50 = num(quantile(delta, 0.5, names = FALSE)),
  e90 = num(quantile(delta, 0.9, names = FALSE)), emax = num(max(delta)),
  observed_first = num(obs[1]), observed_last = num(obs[length(obs)]))))

writeLines(c("{", paste0("  ", out, c(rep(",", length(out) - 1), "")), "}"), file.path(dir, "concordance.json"))
