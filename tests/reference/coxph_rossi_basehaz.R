# Baseline cumulative hazards of the rossi Efron Cox fit, for survage.models (Breslow and
# Efron estimators of H0). Run from the repository root: Rscript tests/reference/coxph_rossi_basehaz.R
# basehaz(fit, centered = FALSE) = H0 at covariates 0; ctype = 1 is the Breslow (Nelson-Aalen
# type) estimator, ctype = 2 the Efron-consistent one (the survfit.coxph default for an Efron fit).
library(survival)
rossi <- read.csv("tests/reference/rossi.csv")
fit <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = rossi, ties = "efron")
zero <- as.data.frame(t(setNames(rep(0, 7), names(coef(fit)))))
s1 <- survfit(fit, newdata = zero, ctype = 1)
s2 <- survfit(fit, newdata = zero, ctype = 2)
keep <- s1$n.event > 0
fmt <- function(x) paste(sprintf("%.17g", x), collapse = ", ")
out <- sprintf('{\n  "source": "R %s, survival %s, tests/reference/coxph_rossi_basehaz.R",\n  "call": "survfit(coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties=\'efron\'), newdata=<all covariates 0>, ctype=1 | 2)",\n  "times": [%s],\n  "cumhaz_breslow": [%s],\n  "cumhaz_efron": [%s]\n}\n',
  paste(R.version$major, R.version$minor, sep = "."), packageVersion("survival"),
  fmt(s1$time[keep]), fmt(s1$cumhaz[keep]), fmt(s2$cumhaz[keep]))
cat(out, file = "tests/reference/coxph_rossi_basehaz.json")
