"""Time-dependent Brier score with inverse-probability-of-censoring weights, and its integral.

Graf, Schmoor, Sauerbrei & Schumacher 1999, Stat. Med. 18(17-18):2529-2545,
doi:10.1002/(SICI)1097-0258(19990915/30)18:17/18<2529::AID-SIM274>3.0.CO;2-5.
Same conventions as scikit-survival ``brier_score`` / ``integrated_brier_score``: G is the
Kaplan-Meier censoring survival of the training data, the integral is the trapezoid rule over the
given times divided by their range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError
from survage.metrics._kaplan_meier import censoring_kaplan_meier
from survage.metrics._validate import as_times_grid, survival_data
from survage.metrics.auc import check_times_in_follow_up


@dataclass(frozen=True, eq=False)
class BrierResult:
    """Brier score at each time.

    Attributes
    ----------
    times, brier
        Evaluation times and the IPCW Brier score at each.
    method
        ``"graf_ipcw"``.
    """

    times: NDArray[np.float64]
    brier: NDArray[np.float64]
    method: str = "graf_ipcw"


@dataclass(frozen=True, eq=False)
class IntegratedBrierResult:
    """Integrated Brier score (``estimate``) with the per-time scores it integrates."""

    estimate: float
    times: NDArray[np.float64]
    brier: NDArray[np.float64]
    method: str = "graf_ipcw_trapezoid"


def _check_surv(surv: ArrayLike, n: int, k: int) -> NDArray[np.float64]:
    s = np.asarray(surv, dtype=float)
    if s.ndim == 1 and k == 1:
        s = s[:, None]
    if s.shape != (n, k):
        raise SurvageInputError(f"has shape {s.shape}", column="surv", expected=f"shape ({n}, {k})")
    bad = ~(np.isfinite(s) & (s >= 0) & (s <= 1)).all(axis=1)
    if bad.any():
        raise SurvageInputError("is not a probability", column="surv", rows=np.flatnonzero(bad)[:20].tolist(),
                                expected="survival probabilities in [0, 1]")
    return s


def brier_score(train_time: ArrayLike, train_event: ArrayLike, time: ArrayLike, event: ArrayLike,
                surv: ArrayLike, times: ArrayLike) -> BrierResult:
    """IPCW Brier score of predicted survival probabilities at each of ``times``.

    Parameters
    ----------
    train_time, train_event
        Data for the Kaplan-Meier censoring distribution G.
    time, event
        Test rows.
    surv
        Predicted survival probabilities ``(n, len(times))``.
    times
        Strictly increasing evaluation times within the test follow-up.

    Returns
    -------
    BrierResult

    References
    ----------
    Graf et al. 1999, Stat. Med. 18:2529-2545, doi:10.1002/(SICI)1097-0258(19990915/30)18:17/18<2529::AID-SIM274>3.0.CO;2-5.
    """
    tr_t, tr_e = survival_data(train_time, train_event, time_name="train_time", event_name="train_event",
                               need_event=False)
    t, e = survival_data(time, event, need_event=False)
    grid = as_times_grid(times)
    check_times_in_follow_up(grid, t)
    s = _check_surv(surv, t.shape[0], grid.shape[0])
    cens = censoring_kaplan_meier(tr_t, tr_e)
    g_t = cens(grid, name="times")
    g_y = cens(t, name="time")
    with np.errstate(divide="ignore"):
        inv_t = np.where(g_t > 0, 1.0 / np.where(g_t > 0, g_t, 1.0), 0.0)
        inv_y = np.where(g_y > 0, 1.0 / np.where(g_y > 0, g_y, 1.0), 0.0)
    case = (t[:, None] <= grid) & e[:, None]
    control = t[:, None] > grid
    brier = np.mean(s**2 * case * inv_y[:, None] + (1.0 - s) ** 2 * control * inv_t, axis=0)
    return BrierResult(grid, brier)


def integrated_brier_score(train_time: ArrayLike, train_event: ArrayLike, time: ArrayLike, event: ArrayLike,
                           surv: ArrayLike, times: ArrayLike) -> IntegratedBrierResult:
    """Integrated IPCW Brier score: trapezoid rule over ``times`` divided by ``times[-1] - times[0]``.

    Parameters are those of :func:`brier_score`; at least two times are needed.

    Returns
    -------
    IntegratedBrierResult

    References
    ----------
    Graf et al. 1999, Stat. Med. 18:2529-2545, doi:10.1002/(SICI)1097-0258(19990915/30)18:17/18<2529::AID-SIM274>3.0.CO;2-5.
    """
    grid = as_times_grid(times)
    if grid.shape[0] < 2:
        raise SurvageInputError("has fewer than two times", column="times", expected=">= 2 times")
    res = brier_score(train_time, train_event, time, event, surv, grid)
    b = res.brier
    ibs = float(np.sum(np.diff(grid) * (b[1:] + b[:-1]) / 2.0) / (grid[-1] - grid[0]))
    return IntegratedBrierResult(ibs, grid, b)
