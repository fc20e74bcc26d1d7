"""Age-adjusted hazard ratio of a score (e.g. biological-age acceleration) per unit and per SD.

Cox model (Efron ties) of the outcome on chronological age and the score; the likelihood-ratio test
compares it with age alone. Cox 1972, doi:10.1111/j.2517-6161.1972.tb00899.x; Efron 1977,
doi:10.1080/01621459.1977.10480613. Per-unit hazard ratios of age acceleration can be inflated by
shrinking its spread, so the per-SD ratio is reported alongside (Levine et al. 2018,
doi:10.18632/aging.101414, report per-year ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from survage.errors import SurvageInputError
from survage.metrics._cox import fit_cox
from survage.metrics._validate import as_float_1d, check_same_length, survival_data


@dataclass(frozen=True)
class HazardRatioResult:
    """Hazard ratio of ``score`` adjusted for age.

    Attributes
    ----------
    hr_per_unit, ci_per_unit
        exp(coef) per unit of the score (per year for age acceleration) and its Wald 95 % CI.
    hr_per_sd, ci_per_sd, sd
        The same per (sample) standard deviation of the score, and that SD.
    coef, se
        Log hazard ratio per unit and its standard error.
    age_coef
        Log hazard ratio per year of age in the joint model.
    lr_statistic, lr_p_value
        Likelihood-ratio gain of the model with the score over age alone (1 df).
    loglik, loglik_age
        Log partial likelihoods of the two models.
    n, n_events
        Rows and events used.
    method
        ``"cox_efron"``.
    """

    hr_per_unit: float
    ci_per_unit: tuple[float, float]
    hr_per_sd: float
    ci_per_sd: tuple[float, float]
    sd: float
    coef: float
    se: float
    age_coef: float
    lr_statistic: float
    lr_p_value: float
    loglik: float
    loglik_age: float
    n: int
    n_events: int
    method: str = "cox_efron"


def hazard_ratio_per_unit(time: ArrayLike, event: ArrayLike, score: ArrayLike, age: ArrayLike, *,
                          confidence: float = 0.95) -> HazardRatioResult:
    """Fit ``Surv(time, event) ~ age + score`` and ``~ age`` (Efron ties) and compare them.

    Parameters
    ----------
    time, event
        Follow-up and event indicator.
    score
        The score whose hazard ratio is wanted (e.g. BA - CA in years).
    age
        Chronological age (years).
    confidence
        Level of the Wald intervals (0.95: coef +/- 1.959964 se, as R ``summary.coxph``).

    Returns
    -------
    HazardRatioResult

    References
    ----------
    Cox 1972, doi:10.1111/j.2517-6161.1972.tb00899.x; Efron 1977, doi:10.1080/01621459.1977.10480613.
    """
    t, e = survival_data(time, event)
    s = as_float_1d(score, "score")
    a = as_float_1d(age, "age")
    n = check_same_length([("time", t), ("score", s), ("age", a)])
    sd = float(np.std(s, ddof=1))
    if not sd > 0:
        raise SurvageInputError("does not vary", column="score", expected="a non-constant score")
    if not np.std(a) > 0:
        raise SurvageInputError("does not vary", column="age", expected="a non-constant age")
    full = fit_cox(t, e, np.column_stack([a, s]))
    base = fit_cox(t, e, a[:, None])
    coef = float(full.coef[1])
    se = float(np.sqrt(full.cov[1, 1]))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    lr = max(0.0, 2.0 * (full.loglik - base.loglik))
    return HazardRatioResult(
        hr_per_unit=float(np.exp(coef)),
        ci_per_unit=(float(np.exp(coef - z * se)), float(np.exp(coef + z * se))),
        hr_per_sd=float(np.exp(coef * sd)),
        ci_per_sd=(float(np.exp((coef - z * se) * sd)), float(np.exp((coef + z * se) * sd))),
        sd=sd, coef=coef, se=se, age_coef=float(full.coef[0]),
        lr_statistic=lr, lr_p_value=float(stats.chi2.sf(lr, 1)),
        loglik=full.loglik, loglik_age=base.loglik, n=n, n_events=int(e.sum()),
    )
