"""lifelines' smoothed calibration (``survival_probability_calibration``) on arrays.

lifelines (Davidson-Pilon 2019, J. Open Source Softw. 4(40):1317, doi:10.21105/joss.01317) fits
a Crowther-Royston-Clements flexible parametric AFT model (Crowther, Royston & Clements 2022,
Biostatistics 24(3):811-831, doi:10.1093/biostatistics/kxac009) of the outcome on x =
cloglog(predicted risk): ``H(T|x) = exp(g0 + g1 u + g2 B(u))``, ``u = log T - b0 - b1 x``, with one
spline term B on knots at the 5/50/95th percentiles of log event times, penalty 1e-6 (all but b0)
on the per-row log-likelihood. It is linear in x, so unlike Austin's spline it cannot see a bend.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from survage.errors import SurvageInputError
from survage.metrics._validate import probability_at_horizon, survival_data
from survage.metrics.calibration import CalibrationResult, cloglog, summarise

_PENALIZER = 1e-6
_PENALISED = np.array([True, False, True, True, True])  # b1 (x), b0 (intercept), g0, g1, g2


class _CRCSpline:
    """Value, gradient and prediction of lifelines' 3-knot CRC spline model."""

    def __init__(self, time: NDArray[np.float64], event: NDArray[np.bool_], x: NDArray[np.float64]) -> None:
        self.log_t = np.log(time)
        self.event = event
        self.x = x
        self.knots = np.percentile(self.log_t[event], [5.0, 50.0, 95.0])
        k0, k1, k2 = self.knots
        self.lam = (k2 - k1) / (k2 - k0)

    def _basis(self, u: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        k0, k1, k2 = self.knots
        lam = self.lam
        r0, r1, r2 = (np.clip(u - k, 0.0, None) for k in (k0, k1, k2))
        b = r1**3 - (lam * r0**3 + (1 - lam) * r2**3)
        db = 3 * (r1**2 - (lam * r0**2 + (1 - lam) * r2**2))
        d2b = 6 * (r1 - (lam * r0 + (1 - lam) * r2))
        return b, db, d2b

    def cumhaz(self, p: NDArray[np.float64], log_t: NDArray[np.float64] | float,
               x: NDArray[np.float64]) -> NDArray[np.float64]:
        u = log_t - p[1] - p[0] * x
        b, _, _ = self._basis(u)
        return np.exp(p[2] + p[3] * u + p[4] * b)

    def objective(self, p: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        x, e = self.x, self.event
        u = self.log_t - p[1] - p[0] * x
        b, db, d2b = self._basis(u)
        log_h_cum = p[2] + p[3] * u + p[4] * b
        h_cum = np.exp(log_h_cum)
        q = p[3] + p[4] * db
        hz = h_cum * q / np.exp(self.log_t)
        ok = hz > 1e-20  # lifelines clips the hazard at 1e-20 (zero gradient there)
        log_hz = np.where(ok, np.log(np.where(ok, hz, 1.0)), np.log(1e-20))
        n = x.shape[0]
        ll = (e * log_hz).sum() - h_cum.sum()
        # derivatives of log H and log q with respect to (b1, b0, g0, g1, g2)
        dlogh_du = q
        dlogq_du = np.where(ok, p[4] * d2b / np.where(ok, q, 1.0), 0.0)
        inv_q = np.where(ok, 1.0 / np.where(ok, q, 1.0), 0.0)
        du = np.stack([-x, -np.ones_like(x)])
        d_logH = np.vstack([du * dlogh_du, np.ones_like(x), u, b])
        d_logq = np.vstack([du * dlogq_du, np.zeros_like(x), inv_q, db * inv_q])
        grad = (e * ok * (d_logH + d_logq)).sum(axis=1) - (h_cum * d_logH).sum(axis=1)
        pen = 0.5 * _PENALIZER * np.sum(p[_PENALISED] ** 2)
        return -ll / n + pen, -grad / n + _PENALIZER * p * _PENALISED


def calibration_lifelines(time: ArrayLike, event: ArrayLike, *, t: float, risk_at_t: ArrayLike | None = None,
                          surv_at_t: ArrayLike | None = None, n_grid: int = 100) -> CalibrationResult:
    """ICI and E50 as lifelines ``survival_probability_calibration`` computes them (to about 1e-4).

    Parameters
    ----------
    time, event
        Follow-up and event indicator.
    t
        Horizon.
    risk_at_t, surv_at_t
        Predicted probability of the event by ``t`` or of surviving past it (exactly one).
    n_grid
        Points of the curve; lifelines' grid (predicted range widened by 0.01) is used.

    Returns
    -------
    CalibrationResult
        ``method="lifelines_crc_spline"``; E90 and Emax are added from the same deltas.

    References
    ----------
    Austin, Harrell & van Klaveren 2020, doi:10.1002/sim.8570; Crowther, Royston & Clements 2022,
    doi:10.1093/biostatistics/kxac009; lifelines, doi:10.21105/joss.01317.
    """
    tm, ev = survival_data(time, event)
    if np.any(tm <= 0):
        raise SurvageInputError("has non-positive times", column="time", expected="times > 0 (log scale model)")
    if not t > 0:
        raise SurvageInputError(f"horizon t={t} is not positive", column="t", expected="t > 0")
    pred = np.clip(probability_at_horizon(risk_at_t, surv_at_t, tm.shape[0]), 1e-10, 1 - 1e-10)
    model = _CRCSpline(tm, ev, cloglog(pred))
    # lifelines' starting point, and an exponential-model one for time scales where it overflows
    starts = [np.array([0.0, 0.0, 0.0, 2.0, 0.0]),
              np.array([0.0, 0.0, float(np.log(ev.sum() / tm.sum())), 1.0, 0.0])]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        fits = [optimize.minimize(model.objective, s0, jac=True, method="BFGS",
                                  options={"gtol": 1e-9, "maxiter": 2000}) for s0 in starts]
    fits = [f for f in fits if np.isfinite(f.fun) and np.all(np.isfinite(f.x))]
    res = min(fits, key=lambda f: f.fun) if fits else None
    if res is None:
        raise SurvageInputError("calibration model did not converge", column="risk_at_t",
                                expected="predictions related to the outcome")
    log_t0 = float(np.log(t))

    def observed(p_pred: NDArray[np.float64]) -> NDArray[np.float64]:
        assert res is not None
        s = np.clip(np.exp(-model.cumhaz(res.x, log_t0, cloglog(p_pred))), 1e-12, 1 - 1e-12)
        return 1.0 - s

    grid = np.linspace(np.clip(pred.min() - 0.01, 0, 1), np.clip(pred.max() + 0.01, 0, 1), n_grid)
    return summarise("lifelines_crc_spline", t, pred, observed(pred), grid, observed(grid))
