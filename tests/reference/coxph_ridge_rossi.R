# Reference values for the linear SurvivalModel with a ridge penalty (tests/test_models_linear_speed.py).
#
# survage minimises  -loglik / d + wd / 2 * sum(b^2)  (d events, b on standardised columns);
# R coxph with ridge(theta = d * wd, scale = FALSE) minimises  -loglik + theta / 2 * sum(b^2),
# the same objective times d. Columns are standardised as survage's preprocessing does:
# (x - mean) / sd with the population sd (divisor n) over the rows where the modality is present.
# Data: lifelines' rossi (tests/reference/rossi.csv).
# Run from the repository root:  Rscript tests/reference/coxph_ridge_rossi.R
# Writes tests/reference/coxph_ridge_rossi.json.
library(survival)

rossi <- read.csv("tests/reference/rossi.csv")
n <- nrow(rossi)
wd <- 0.05
std <- function(x, rows) {
  m <- mean(x[rows]); s <- sqrt(mean((x[rows] - m)^2))
  if (s == 0) s <- 1
  ifelse(rows, (x - m) / s, 0)
}
num <- function(x) sprintf("%.17g", x)
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)

# 1. ridge with an exact duplicate (prio2 = prio) and a constant column (const = 1)
cov1 <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
d1 <- rossi[, cov1]
d1$prio2 <- rossi$prio
d1$const <- 1
all_rows <- rep(TRUE, n)
sds1 <- sapply(d1, function(x) { s <- sqrt(mean((x - mean(x))^2)); if (s == 0) 1 else s })
z1 <- as.matrix(as.data.frame(lapply(d1, std, rows = all_rows)))
theta1 <- sum(rossi$arrest) * wd
fit1 <- coxph(Surv(rossi$week, rossi$arrest) ~ ridge(z1, theta = theta1, scale = FALSE), ties = "efron",
              control = ctl)
b1 <- unname(coef(fit1))

# 2. two modalities: A = fin, age, race, wexp; B = mar, paro, prio, absent for the censored rows
#    with (row - 1) %% 4 == 0 (row numbers from 1): only censored people lack B, so without the
#    ridge the absent-B effect would go to -Inf. Absent rows: B columns 0, indicator absentB = 1.
absent <- rossi$arrest == 0 & ((seq_len(n) - 1) %% 4 == 0)
present <- !absent
za <- sapply(c("fin", "age", "race", "wexp"), function(v) std(rossi[[v]], all_rows))
zb <- sapply(c("mar", "paro", "prio"), function(v) std(rossi[[v]], present))
sd_b <- sapply(c("mar", "paro", "prio"), function(v) {
  x <- rossi[[v]][present]; sqrt(mean((x - mean(x))^2)) })
sd_a <- sapply(c("fin", "age", "race", "wexp"), function(v) {
  x <- rossi[[v]]; sqrt(mean((x - mean(x))^2)) })
z2 <- cbind(za, zb, absentB = as.numeric(absent))
fit2 <- coxph(Surv(rossi$week, rossi$arrest) ~ ridge(z2, theta = theta1, scale = FALSE), ties = "efron",
              control = ctl)
b2 <- unname(coef(fit2))

json <- paste0(
  "{\n",
  '  "source": "R ', as.character(getRversion()), ", survival ", as.character(packageVersion("survival")),
  ', tests/reference/coxph_ridge_rossi.R",\n',
  '  "weight_decay": ', num(wd), ",\n",
  '  "nevent": ', sum(rossi$arrest), ",\n",
  '  "duplicate_constant": {\n',
  '    "call": "coxph(Surv(week, arrest) ~ ridge(<standardised fin,age,race,wexp,mar,paro,prio,prio2,const>, theta=nevent*wd, scale=FALSE), ties=\'efron\')",\n',
  '    "covariates": ["fin", "age", "race", "wexp", "mar", "paro", "prio", "prio2", "const"],\n',
  '    "coef_standardised": ', vec(b1), ",\n",
  '    "coef_raw": ', vec(b1 / sds1), ",\n",
  '    "penalised_loglik": ', num(fit1$loglik[2]), "\n",
  "  },\n",
  '  "absent_modality": {\n',
  '    "call": "coxph(Surv(week, arrest) ~ ridge(<A std, B std over present rows and 0 where absent, absentB>, theta=nevent*wd, scale=FALSE), ties=\'efron\')",\n',
  '    "absent_rows_1based": ', paste0("[", paste(which(absent), collapse = ", "), "]"), ",\n",
  '    "covariates": ["fin", "age", "race", "wexp", "mar", "paro", "prio", "absentB"],\n',
  '    "coef_standardised": ', vec(b2), ",\n",
  '    "coef_raw": ', vec(c(b2[1:4] / sd_a, b2[5:7] / sd_b, b2[8])), "\n",
  "  }\n",
  "}\n")
out <- "tests/reference/coxph_ridge_rossi.json"
tmp <- paste0(out, ".tmp")
writeLines(json, tmp, sep = "")
invisible(file.rename(tmp, out))
