"""Baseline cumulative hazard of a Cox model (Breslow estimator, optional Efron variant)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from survage.errors import SurvageInputError


def breslow_cumulative_hazard(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, *, ties: Literal["breslow", "efron"] = "breslow",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Baseline cumulative hazard at the distinct event times.

    Breslow (1972): :math:`H_0(t) = \sum_{t_k \le t} d_k / \sum_{j \in R(t_k)} e^{\eta_j}` with
    :math:`R(t_k) = \{j : T_j \ge t_k\}`. The Efron variant (R ``survfit.coxph`` after an Efron
    fit) spreads the tied events: :math:`\sum_{l=0}^{d_k-1} 1/(S_k - \tfrac{l}{d_k} S_{D_k})`,
    with :math:`S_{D_k}` the sum of :math:`e^{\eta}` over the events at :math:`t_k`.

    Parameters
    ----------
    time, event
        Training times and event indicators (0/1).
    risk
        Log relative hazards :math:`\eta` of the same rows (any offset; it is centred).
    ties
        ``"breslow"`` (the formula above) or ``"efron"``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, cumhaz)``: the distinct event times (ascending) and :math:`H_0` there, for
        :math:`\eta` as given (not centred).

    References
    ----------
    Breslow NE (1972). Discussion of Professor Cox's paper. J R Stat Soc B 34:216-217.
    doi:10.1111/j.2517-6161.1972.tb00900.x
    Therneau TM, Grambsch PM (2000). Modeling Survival Data. Springer, section 10.2.
    doi:10.1007/978-1-4757-3294-8
    """
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    risk = np.asarray(risk, float)
    if not (time.shape == event.shape == risk.shape) or time.ndim != 1:
        raise SurvageInputError("time, event and risk must be 1-D of the same length", column="risk")
    if not np.all(np.isfinite(risk)):
        raise SurvageInputError("non-finite risk scores", column="risk",
                                rows=np.flatnonzero(~np.isfinite(risk)).tolist(), expected="finite values")
    if ties not in ("breslow", "efron"):
        raise SurvageInputError(f"unknown ties {ties!r}", column="ties", expected="'breslow' | 'efron'")
    shift = float(risk.max()) if risk.size else 0.0
    w = np.exp(risk - shift)
    order = np.argsort(-time, kind="stable")
    t_s, w_s, d_s = time[order], w[order], event[order]
    cum_w = np.cumsum(w_s)
    uniq, first = np.unique(-t_s, return_index=True)  # descending times -> ascending -t
    last = np.r_[first[1:], len(t_s)] - 1
    at_risk = cum_w[last]  # sum over T_j >= t
    d_k = np.add.reduceat(d_s, first)
    has = d_k > 0
    if ties == "breslow":
        inc = np.where(has, d_k / at_risk, 0.0)
    else:
        w_d = np.add.reduceat(w_s * d_s, first)
        inc = np.zeros_like(at_risk)
        for k in np.flatnonzero(has):
            m = int(round(d_k[k]))
            inc[k] = np.sum(1.0 / (at_risk[k] - np.arange(m) / m * w_d[k]))
    times = -uniq[::-1][has[::-1]]
    inc = inc[::-1][has[::-1]]
    return times, np.cumsum(inc) / np.exp(shift)


def step_at(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function through ``(times, values)`` evaluated at ``at`` (0 before)."""
    at = np.asarray(at, float)
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, np.asarray(values)[np.clip(idx, 0, None)], 0.0)
