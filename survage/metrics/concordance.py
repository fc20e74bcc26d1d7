"""Harrell's and Uno's concordance index, O(n log n) by a Fenwick-tree sweep.

Harrell, Califf, Pryor, Lee & Rosati 1982, JAMA 247(18):2543-2546, doi:10.1001/jama.1982.03320430047030.
Uno, Cai, Pencina, D'Agostino & Wei 2011, Stat. Med. 30(10):1105-1117, doi:10.1002/sim.4154.
Pair rules as R ``survival::concordance`` (Therneau): a pair is comparable when the shorter time
is an event; two events at the same time are not comparable; an event and a censoring at the same
time are (the censored person outlived); risk ties count 1/2. Risk: higher = worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError
from survage.metrics._kaplan_meier import censoring_kaplan_meier
from survage.metrics._validate import as_float_1d, as_weights, check_same_length, survival_data


@dataclass(frozen=True)
class ConcordanceResult:
    """Concordance index and its pair sums (weighted sums when weights were given).

    Attributes
    ----------
    estimate
        ``(concordant + tied_risk / 2) / comparable``.
    concordant, discordant, tied_risk, comparable
        Pair counts (or weight sums) among comparable pairs.
    method
        ``"harrell"`` or ``"uno"``.
    """

    estimate: float
    concordant: float
    discordant: float
    tied_risk: float
    comparable: float
    method: str = "harrell"


@dataclass(frozen=True, eq=False)
class PreparedPairs:
    """Rows sorted by time with risk ranks, reusable across reweightings (bootstrap)."""

    order: NDArray[np.int64]
    starts: NDArray[np.int64]
    event: NDArray[np.bool_]
    rank: NDArray[np.int64]
    lo: NDArray[np.int64]
    hi: NDArray[np.int64]
    n_ranks: int


def prepare_pairs(time: NDArray[np.float64], event: NDArray[np.bool_], risk: NDArray[np.float64],
                  tied_tol: float = 0.0) -> PreparedPairs:
    """Sort once by time and rank the risks; ``lo``/``hi`` bound the risks tied within ``tied_tol``."""
    order = np.argsort(time, kind="stable")
    t = time[order]
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1], True]).astype(np.int64)
    r = risk[order]
    uniq = np.unique(r)
    rank = np.searchsorted(uniq, r).astype(np.int64)
    if tied_tol > 0:
        lo = np.searchsorted(uniq, r - tied_tol, side="left").astype(np.int64)
        hi = np.searchsorted(uniq, r + tied_tol, side="right").astype(np.int64)
    else:
        lo = rank
        hi = rank + 1
    return PreparedPairs(order, starts, event[order], rank, lo, hi, int(uniq.size))


def _result(conc: float, disc: float, tied: float, method: str) -> ConcordanceResult:
    comparable = conc + disc + tied
    if comparable <= 0:
        raise SurvageInputError("has no comparable pairs", column="event",
                                expected="an event earlier than another row's time")
    return ConcordanceResult((conc + 0.5 * tied) / comparable, conc, disc, tied, comparable, method)


def _check_risk(risk: ArrayLike, n: int, name: str = "risk") -> NDArray[np.float64]:
    r = as_float_1d(risk, name)
    if r.shape[0] != n:
        raise SurvageInputError(f"has length {r.shape[0]} but 'time' has length {n}", column=name,
                                expected=f"length {n}")
    return r


def harrell_c(time: ArrayLike, event: ArrayLike, risk: ArrayLike, *, weights: ArrayLike | None = None,
              tied_tol: float = 0.0) -> ConcordanceResult:
    """Harrell's concordance index in O(n log n), equal to R ``survival::concordance``.

    Parameters
    ----------
    time, event
        Follow-up time and event indicator (1 = event).
    risk
        Risk score, higher = worse (R: ``concordance(Surv(time, status) ~ risk, reverse = TRUE)``).
    weights
        Optional case weights; a pair counts ``weights[i] * weights[j]`` (as R with ``weights=``),
        so integer weights equal duplicating rows (used by the bootstrap).
    tied_tol
        Risks closer than this count as tied (0: exact equality, as R).

    Returns
    -------
    ConcordanceResult

    References
    ----------
    Harrell et al. 1982, doi:10.1001/jama.1982.03320430047030; Therneau & Atkinson, "Concordance"
    vignette of R survival 3.x.
    """
    from survage.metrics._concordance_kernel import sweep

    t, e = survival_data(time, event)
    r = _check_risk(risk, t.shape[0])
    w = as_weights(weights, t.shape[0])
    prep = prepare_pairs(t, e, r, tied_tol)
    ws = np.ones(t.shape[0]) if w is None else w[prep.order]
    return _result(*sweep(prep.starts, prep.event, prep.rank, prep.lo, prep.hi, ws, ws, prep.n_ranks),
                   "harrell")


def uno_c(train_time: ArrayLike, train_event: ArrayLike, time: ArrayLike, event: ArrayLike,
          risk: ArrayLike, tau: float | None = None, *, weights: ArrayLike | None = None,
          tied_tol: float = 1e-8) -> ConcordanceResult:
    """Uno's IPCW concordance index truncated at ``tau`` (scikit-survival ``concordance_index_ipcw``).

    A comparable pair (i event, T_i < tau, j outlived i) carries weight ``G(T_i)^-2`` with ``G``
    the Kaplan-Meier censoring survival estimated on ``train_time``/``train_event``.

    Parameters
    ----------
    train_time, train_event
        Data for the censoring distribution (usually the training rows).
    time, event, risk
        Test rows; risk higher = worse.
    tau
        Truncation time; events at or after ``tau`` carry no weight. ``None``: no truncation.
    weights
        Optional case weights of the test rows (pair weight ``w_i G(T_i)^-2 w_j``).
    tied_tol
        Risk tie tolerance (scikit-survival's default 1e-8).

    Returns
    -------
    ConcordanceResult
        Pair sums are IPCW-weighted.

    References
    ----------
    Uno et al. 2011, Stat. Med. 30(10):1105-1117, doi:10.1002/sim.4154.
    """
    from survage.metrics._concordance_kernel import sweep

    tr_t, tr_e = survival_data(train_time, train_event, time_name="train_time", event_name="train_event",
                               need_event=False)
    t, e = survival_data(time, event)
    r = _check_risk(risk, t.shape[0])
    check_same_length([("time", t), ("risk", r)])
    w = as_weights(weights, t.shape[0])
    use = e & (t < tau) if tau is not None else e.copy()
    if not use.any():
        raise SurvageInputError("has no events before tau", column="event", expected=f"events before {tau}")
    g = censoring_kaplan_meier(tr_t, tr_e)(t[use], name="time")
    if np.any(g == 0):
        raise SurvageInputError("censoring survival is zero at an event time", column="train_time",
                                expected="training follow-up beyond the test event times (lower tau)")
    a = np.zeros(t.shape[0])
    a[use] = 1.0 / g**2
    b = np.ones(t.shape[0]) if w is None else w
    if w is not None:
        a = a * w
    prep = prepare_pairs(t, e, r, tied_tol)
    return _result(*sweep(prep.starts, prep.event, prep.rank, prep.lo, prep.hi, a[prep.order],
                          b[prep.order], prep.n_ranks), "uno")
