"""Smoothed calibration at a horizon: Austin, Harrell & van Klaveren's ICI / E50 / E90 / Emax.

Austin, Harrell & van Klaveren 2020, "Graphical calibration curves and the integrated calibration
index (ICI) for survival models", Stat. Med. 39(21):2714-2742, doi:10.1002/sim.8570.
At horizon t, x = cloglog(predicted risk by t); a Cox model of the outcome on a restricted cubic
spline of x (3 knots, default at the 5th/50th/95th percentiles) gives the observed risk
1 - S_fit(t | x) of each person; ICI is the mean absolute difference between observed and
predicted, E50/E90 its median/90th percentile, Emax its maximum. R ``rms::rcs`` puts 3 knots at the
10th/50th/90th percentiles by default; pass ``knot_quantiles=(0.1, 0.5, 0.9)`` for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError
from survage.metrics._cox import fit_cox
from survage.metrics._validate import probability_at_horizon, survival_data

_CLIP = 1e-10


@dataclass(frozen=True, eq=False)
class CalibrationResult:
    """Smoothed calibration at horizon ``t``.

    Attributes
    ----------
    method
        ``"austin_rcs_cox"`` or ``"lifelines_crc_spline"``.
    horizon
        The time t.
    ici, e50, e90, emax
        Mean, median, 90th percentile and maximum of |observed - predicted| over the rows.
    predicted, observed
        Per-row predicted risk and smoothed observed risk by t.
    curve_predicted, curve_observed
        The calibration curve on a grid of predicted risks (for plots).
    """

    method: str
    horizon: float
    ici: float
    e50: float
    e90: float
    emax: float
    predicted: NDArray[np.float64]
    observed: NDArray[np.float64]
    curve_predicted: NDArray[np.float64]
    curve_observed: NDArray[np.float64]


def cloglog(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Complementary log-log ``log(-log(1 - p))`` of probabilities clipped to [1e-10, 1 - 1e-10]."""
    p = np.clip(p, _CLIP, 1.0 - _CLIP)
    return np.log(-np.log1p(-p))


def rcs3_basis(x: NDArray[np.float64], knots: NDArray[np.float64]) -> NDArray[np.float64]:
    """Restricted cubic spline with 3 knots: columns ``x`` and Harrell's one nonlinear term.

    The nonlinear term is ``[(x-k1)+^3 - (x-k2)+^3 (k3-k1)/(k3-k2) + (x-k3)+^3 (k2-k1)/(k3-k2)] / (k3-k1)^2``
    (Harrell, Regression Modeling Strategies, 2nd ed. 2015, sec. 2.4.5, doi:10.1007/978-3-319-19425-7),
    the scaling of R ``rms::rcs``.
    """
    k1, k2, k3 = knots

    def cube(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.clip(v, 0.0, None) ** 3

    s = (cube(x - k1) - cube(x - k2) * (k3 - k1) / (k3 - k2) + cube(x - k3) * (k2 - k1) / (k3 - k2)) / (k3 - k1) ** 2
    return np.column_stack([x, s])


def summarise(method: str, t: float, pred: NDArray[np.float64], obs: NDArray[np.float64],
              grid: NDArray[np.float64], grid_obs: NDArray[np.float64]) -> CalibrationResult:
    """Build a :class:`CalibrationResult` from per-row predicted and observed risks."""
    delta = np.abs(obs - pred)
    return CalibrationResult(method, float(t), float(delta.mean()), float(np.percentile(delta, 50)),
                             float(np.percentile(delta, 90)), float(delta.max()), pred, obs, grid, grid_obs)


def calibration_austin(time: ArrayLike, event: ArrayLike, *, t: float, risk_at_t: ArrayLike | None = None,
                       surv_at_t: ArrayLike | None = None,
                       knot_quantiles: Sequence[float] = (0.05, 0.5, 0.95), n_grid: int = 100
                       ) -> CalibrationResult:
    """ICI, E50, E90, Emax and the smoothed calibration curve at horizon ``t`` (Austin et al. 2020).

    Parameters
    ----------
    time, event
        Follow-up and event indicator of the rows being assessed.
    t
        Horizon.
    risk_at_t, surv_at_t
        Predicted probability of the event by ``t``, or of surviving past ``t`` (exactly one).
    knot_quantiles
        Quantiles of cloglog(predicted risk) at which the 3 spline knots sit.
    n_grid
        Points of the returned curve, evenly spaced over the range of predicted risk.

    Returns
    -------
    CalibrationResult

    References
    ----------
    Austin, Harrell & van Klaveren 2020, Stat. Med. 39:2714-2742, doi:10.1002/sim.8570.
    """
    tm, ev = survival_data(time, event)
    pred = probability_at_horizon(risk_at_t, surv_at_t, tm.shape[0])
    if not t > 0:
        raise SurvageInputError(f"horizon t={t} is not positive", column="t", expected="t > 0")
    if len(knot_quantiles) != 3:
        raise SurvageInputError("needs three quantiles", column="knot_quantiles", expected="3 values in (0, 1)")
    x = cloglog(pred)
    knots = np.percentile(x, 100.0 * np.asarray(knot_quantiles, dtype=float))
    if not np.all(np.diff(knots) > 0):
        raise SurvageInputError("predicted risks do not spread over three distinct knots", column="risk_at_t",
                                expected="predictions that vary")
    fit = fit_cox(tm, ev, rcs3_basis(x, knots))
    obs = 1.0 - fit.survival_at(t, rcs3_basis(x, knots))
    grid = np.linspace(pred.min(), pred.max(), n_grid)
    grid_obs = 1.0 - fit.survival_at(t, rcs3_basis(cloglog(grid), knots))
    return summarise("austin_rcs_cox", t, pred, obs, grid, grid_obs)
