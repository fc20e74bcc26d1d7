# Reference values for survage.losses.cox_nll (tests/test_losses_cox.py).
#
# Data: lifelines' rossi (lifelines.datasets.load_rossi()), exported to tests/reference/rossi.csv
# because R's survival package does not ship it.
# Run from the repository root:  Rscript tests/reference/coxph_rossi.R
# Writes tests/reference/coxph_rossi.json (coefficients and log-likelihoods to 17 significant
# digits). R >= 4, survival >= 3.5; jsonlite is not needed (JSON is written by hand).
library(survival)

rossi <- read.csv("tests/reference/rossi.csv")
rossi$w <- 1 + rossi$prio %% 3  # deterministic case weights for the weighted fits

f_all <- Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio
f_strata <- Surv(week, arrest) ~ fin + age + wexp + mar + paro + prio + strata(race)

fits <- list(
  efron = list(formula = f_all, ties = "efron", weighted = FALSE,
               call = "coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties='efron')"),
  breslow = list(formula = f_all, ties = "breslow", weighted = FALSE,
                 call = "coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties='breslow')"),
  strata_efron = list(formula = f_strata, ties = "efron", weighted = FALSE,
                      call = "coxph(Surv(week, arrest) ~ fin+age+wexp+mar+paro+prio+strata(race), data=rossi, ties='efron')"),
  strata_breslow = list(formula = f_strata, ties = "breslow", weighted = FALSE,
                        call = "coxph(Surv(week, arrest) ~ fin+age+wexp+mar+paro+prio+strata(race), data=rossi, ties='breslow')"),
  weights_efron = list(formula = f_all, ties = "efron", weighted = TRUE,
                       call = "coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, weights=1+prio%%3, ties='efron')"),
  weights_breslow = list(formula = f_all, ties = "breslow", weighted = TRUE,
                         call = "coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, weights=1+prio%%3, ties='breslow')"),
  strata_weights_efron = list(formula = f_strata, ties = "efron", weighted = TRUE,
                              call = "coxph(Surv(week, arrest) ~ fin+age+wexp+mar+paro+prio+strata(race), data=rossi, weights=1+prio%%3, ties='efron')")
)

num <- function(x) sprintf("%.17g", x)
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
names_json <- function(x) paste0("[", paste0('"', x, '"', collapse = ", "), "]")

fit_one <- function(spec, init = NULL, iter = 100) {
  args <- list(formula = spec$formula, data = rossi, ties = spec$ties,
               control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = iter))
  if (spec$weighted) args$weights <- rossi$w
  if (!is.null(init)) args$init <- init
  do.call(coxph, args)
}

entries <- character(0)
for (nm in names(fits)) {
  spec <- fits[[nm]]
  fit <- fit_one(spec)
  b <- coef(fit)
  # log-likelihood at half the MLE (not a stationary point): iter.max = 0 keeps init,
  # loglik[1] is the value at init.
  half <- fit_one(spec, init = 0.5 * b, iter = 0)
  entries <- c(entries, paste0(
    '  "', nm, '": {\n',
    '    "call": "', spec$call, '",\n',
    '    "ties": "', spec$ties, '",\n',
    '    "covariates": ', names_json(names(b)), ',\n',
    '    "strata": ', if (grepl("strata", nm)) '"race"' else "null", ',\n',
    '    "weights": ', if (spec$weighted) '"1 + prio %% 3"' else "null", ',\n',
    '    "coef": ', vec(unname(b)), ',\n',
    '    "loglik": ', num(fit$loglik[2]), ',\n',
    '    "loglik_null": ', num(fit$loglik[1]), ',\n',
    '    "loglik_at_half_coef": ', num(half$loglik[1]), ',\n',
    '    "nevent": ', fit$nevent, '\n',
    '  }'))
}
json <- paste0("{\n",
               '  "source": "R ', as.character(getRversion()), ", survival ",
               as.character(packageVersion("survival")), ', tests/reference/coxph_rossi.R",\n',
               paste(entries, collapse = ",\n"), "\n}\n")
json <- gsub("%%", "%", json, fixed = TRUE)
out <- "tests/reference/coxph_rossi.json"
tmp <- paste0(out, ".tmp")
writeLines(json, tmp, sep = "")
invisible(file.rename(tmp, out))
