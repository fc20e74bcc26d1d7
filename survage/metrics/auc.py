"""Cumulative/dynamic time-dependent AUC with inverse-probability-of-censoring weights.

Uno, Cai, Tian & Wei 2007, J. Am. Stat. Assoc. 102(478):527-537, doi:10.1198/016214507000000149;
Hung & Chiang 2010, Can. J. Stat. 38(1):8-26, doi:10.1002/cjs.10046; the summary over times is the
Kaplan-Meier-weighted mean of Lambert & Chevret 2016, Stat. Methods Med. Res. 25(5):2088-2102,
doi:10.1177/0962280213515571. Same estimator and conventions as scikit-survival
``cumulative_dynamic_auc``: cases ``T_i <= t`` with an event (weight 1/G(T_i)), controls ``T_j > t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError
from survage.metrics._kaplan_meier import censoring_kaplan_meier, kaplan_meier
from survage.metrics._validate import as_times_grid, survival_data


@dataclass(frozen=True, eq=False)
class TimeDependentAUCResult:
    """AUC(t) at each time and its survival-weighted mean.

    Attributes
    ----------
    times
        Evaluation times.
    auc
        Cumulative/dynamic AUC at each time.
    estimate
        Mean AUC over ``[times[0], times[-1]]`` weighted by the Kaplan-Meier decrements of the
        test data (``auc[0]`` for a single time).
    method
        ``"cumulative_dynamic_ipcw"``.
    """

    times: NDArray[np.float64]
    auc: NDArray[np.float64]
    estimate: float
    method: str = "cumulative_dynamic_ipcw"


def check_times_in_follow_up(times: NDArray[np.float64], time: NDArray[np.float64]) -> None:
    """Raise unless ``min(time) <= times < max(time)`` (as scikit-survival)."""
    if times.max() >= time.max() or times.min() < time.min():
        raise SurvageInputError("lies outside the follow-up of the test data", column="times",
                                expected=f"values in [{time.min():g}, {time.max():g})")


def time_dependent_auc(train_time: ArrayLike, train_event: ArrayLike, time: ArrayLike, event: ArrayLike,
                       risk: ArrayLike, times: ArrayLike, *, tied_tol: float = 1e-8) -> TimeDependentAUCResult:
    """Cumulative/dynamic AUC(t) with IPCW from the training data.

    Parameters
    ----------
    train_time, train_event
        Data for the Kaplan-Meier censoring distribution G.
    time, event
        Test rows.
    risk
        Risk score, higher = worse: ``(n,)`` or time-dependent ``(n, len(times))``.
    times
        Strictly increasing evaluation times within the test follow-up.
    tied_tol
        Risk tie tolerance (scikit-survival's default).

    Returns
    -------
    TimeDependentAUCResult

    References
    ----------
    Uno et al. 2007, doi:10.1198/016214507000000149; Hung & Chiang 2010, doi:10.1002/cjs.10046.
    """
    tr_t, tr_e = survival_data(train_time, train_event, time_name="train_time", event_name="train_event",
                               need_event=False)
    t, e = survival_data(time, event)
    grid = as_times_grid(times)
    check_times_in_follow_up(grid, t)
    est = np.asarray(risk, dtype=float)
    n, k = t.shape[0], grid.shape[0]
    if est.ndim == 1:
        est = np.broadcast_to(est[:, None], (est.shape[0], k))
    if est.ndim != 2 or est.shape != (n, k):
        raise SurvageInputError(f"has shape {np.shape(risk)}", column="risk",
                                expected=f"shape ({n},) or ({n}, {k})")
    bad = ~np.isfinite(est).all(axis=1)
    if bad.any():
        raise SurvageInputError("contains NaN or infinite values", column="risk",
                                rows=np.flatnonzero(bad)[:20].tolist(), expected="finite numbers")
    ipcw = np.zeros(n)
    g = censoring_kaplan_meier(tr_t, tr_e)(t[e], name="time")
    if np.any(g == 0):
        raise SurvageInputError("censoring survival is zero at a test event time", column="train_time",
                                expected="training follow-up beyond the test event times")
    ipcw[e] = 1.0 / g
    o = np.argsort(-est, axis=0, kind="quicksort")
    ts = t[o]
    es = e[o]
    ws = ipcw[o]
    ests = np.take_along_axis(est, o, axis=0)
    is_case = (ts <= grid) & es
    is_control = ts > grid
    n_controls = is_control.sum(axis=0)
    if np.any(n_controls == 0) or np.any((is_case * ws).sum(axis=0) == 0):
        raise SurvageInputError("has a time without cases or controls", column="times",
                                expected="times with events before and people at risk after")
    is_tied = np.abs(np.diff(np.vstack([np.full((1, k), np.inf), ests]), axis=0)) <= tied_tol
    tp = np.cumsum(is_case * ws, axis=0)
    tp = tp / tp[-1]
    fp = np.cumsum(is_control, axis=0) / n_controls
    auc = np.empty(k)
    for j in range(k):
        # at tied risks only the last threshold of the run counts
        keep = np.ones(n, dtype=bool)
        keep[np.flatnonzero(is_tied[:, j]) - 1] = False
        x = np.r_[0.0, fp[keep, j]]
        y = np.r_[0.0, tp[keep, j]]
        auc[j] = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))
    if k == 1:
        mean_auc = float(auc[0])
    else:
        s = kaplan_meier(t, e)(grid, name="times")
        d = -np.diff(np.r_[1.0, s])
        mean_auc = float((auc * d).sum() / (1.0 - s[-1]))
    return TimeDependentAUCResult(grid, auc, mean_auc)
