"""Calibration-in-the-large and calibration slope at a horizon.

Calibration-in-the-large: Kaplan-Meier observed risk by t over the mean predicted risk (Royston &
Altman 2013, BMC Med. Res. Methodol. 13:33, doi:10.1186/1471-2288-13-33; Crowson, Atkinson &
Therneau 2016, Stat. Methods Med. Res. 25(4):1692-1706, doi:10.1177/0962280213497434).
Calibration slope: coefficient of cloglog(predicted risk by t) in a Cox model of the outcome; it
equals the slope on the linear predictor of a proportional-hazards model (1 = ideal, < 1 = too
extreme predictions; Royston & Altman 2013).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from survage.errors import SurvageInputError
from survage.metrics._cox import fit_cox
from survage.metrics._kaplan_meier import kaplan_meier
from survage.metrics._validate import probability_at_horizon, survival_data
from survage.metrics.calibration import cloglog


@dataclass(frozen=True)
class CalibrationInTheLargeResult:
    """Observed (Kaplan-Meier) and expected (mean predicted) risk by the horizon.

    Attributes
    ----------
    observed, expected
        1 - KM(t) and mean predicted risk by t.
    ratio
        observed / expected (1 = ideal).
    difference
        observed - expected.
    """

    horizon: float
    observed: float
    expected: float
    ratio: float
    difference: float
    method: str = "km_observed_over_expected"


@dataclass(frozen=True)
class CalibrationSlopeResult:
    """Calibration slope with its Wald confidence interval."""

    horizon: float
    slope: float
    se: float
    ci: tuple[float, float]
    method: str = "cox_on_cloglog_risk"


def calibration_in_the_large(time: ArrayLike, event: ArrayLike, *, t: float, risk_at_t: ArrayLike | None = None,
                             surv_at_t: ArrayLike | None = None) -> CalibrationInTheLargeResult:
    """Kaplan-Meier observed risk by ``t`` against the mean predicted risk.

    Parameters
    ----------
    time, event
        Follow-up and event indicator.
    t
        Horizon, inside the follow-up.
    risk_at_t, surv_at_t
        Predicted probability of the event by ``t`` or of surviving past it (exactly one).

    Returns
    -------
    CalibrationInTheLargeResult

    References
    ----------
    Royston & Altman 2013, doi:10.1186/1471-2288-13-33.
    """
    tm, ev = survival_data(time, event)
    pred = probability_at_horizon(risk_at_t, surv_at_t, tm.shape[0])
    if not (0 < t <= tm.max()):
        raise SurvageInputError(f"horizon t={t} lies outside the follow-up", column="t",
                                expected=f"0 < t <= {tm.max():g}")
    observed = float(1.0 - kaplan_meier(tm, ev)(np.array([t]))[0])
    expected = float(pred.mean())
    if expected <= 0:
        raise SurvageInputError("mean predicted risk is zero", column="risk_at_t", expected="risks above 0")
    return CalibrationInTheLargeResult(float(t), observed, expected, observed / expected, observed - expected)


def calibration_slope(time: ArrayLike, event: ArrayLike, *, t: float, risk_at_t: ArrayLike | None = None,
                      surv_at_t: ArrayLike | None = None, confidence: float = 0.95) -> CalibrationSlopeResult:
    """Slope of a Cox model of the outcome on cloglog(predicted risk by ``t``).

    Parameters
    ----------
    time, event
        Follow-up and event indicator.
    t
        Horizon of the predictions.
    risk_at_t, surv_at_t
        Predicted probability of the event by ``t`` or of surviving past it (exactly one).
    confidence
        Level of the Wald interval.

    Returns
    -------
    CalibrationSlopeResult

    References
    ----------
    Royston & Altman 2013, doi:10.1186/1471-2288-13-33; Crowson et al. 2016, doi:10.1177/0962280213497434.
    """
    tm, ev = survival_data(time, event)
    pred = probability_at_horizon(risk_at_t, surv_at_t, tm.shape[0])
    x = cloglog(pred)
    if not np.std(x) > 0:
        raise SurvageInputError("does not vary", column="risk_at_t", expected="predictions that vary")
    fit = fit_cox(tm, ev, x[:, None])
    slope = float(fit.coef[0])
    se = float(np.sqrt(fit.cov[0, 0]))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return CalibrationSlopeResult(float(t), slope, se, (slope - z * se, slope + z * se))
