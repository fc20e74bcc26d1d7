"""Discrete-time survival losses (pycox) under survage's keyword names, and time discretisation.

The losses are pycox's own (``pycox.models.loss``); these wrappers rename the arguments
(``logits``, ``interval``, ``event``), check them, and raise :class:`SurvageInputError` instead
of pycox's bare errors. pycox is imported when a function is first called, not at import.
:func:`discretize_times` fits cut points with pycox ``make_cuts`` but maps times itself (same rule
as pycox ``LabTransDiscreteTime``, which fails when no event falls inside the grid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import Tensor

from survage.errors import SurvageInputError
from survage.losses.validation import Reduction, as_vector, check_reduction, check_same_length, event_as_float


@dataclass(frozen=True)
class DiscreteTimes:
    """Times mapped onto a grid of interval cut points.

    Attributes
    ----------
    cuts
        Increasing cut points (the grid; ``cuts[0]`` is the start, usually 0), shape ``(m,)``;
        a model for this grid has ``m`` outputs.
    interval
        Index into ``cuts`` of each sample's discretised time, int64, shape ``(n,)``.
    event
        Event indicator after discretisation (float32 0/1), shape ``(n,)``: an event after the last
        cut becomes a censoring at the last cut.
    """

    cuts: NDArray[np.float64]
    interval: NDArray[np.int64]
    event: NDArray[np.float32]


def discretize_times(
    time: ArrayLike,
    event: ArrayLike,
    cuts: int | ArrayLike = 20,
    *,
    scheme: Literal["equidistant", "quantiles"] = "equidistant",
    min_time: float = 0.0,
) -> DiscreteTimes:
    """Map continuous (time, event) pairs onto discrete intervals (pycox ``LabTransDiscreteTime`` rule).

    An event is moved to the first cut at or after its time, a censoring to the last cut at or
    before it (so no one is counted at risk past their follow-up); times beyond the last cut are
    censored there.

    Parameters
    ----------
    time
        Follow-up times, shape ``(n,)``, finite, not before the first cut point.
    event
        Event indicator (bool or 0/1), shape ``(n,)``.
    cuts
        Number of cut points to fit from these data, or the cut points themselves (increasing;
        pass the training ``DiscreteTimes.cuts`` to discretise test data on the same grid).
    scheme
        When ``cuts`` is a number: ``"equidistant"`` between ``min_time`` and the largest time,
        or ``"quantiles"`` of the Kaplan-Meier estimate.
    min_time
        Start of the grid when it is fitted (pycox ``make_cuts``).

    Returns
    -------
    DiscreteTimes
        The cut points, each sample's interval index and its event indicator.

    Raises
    ------
    SurvageInputError
        Mismatched lengths, non-finite or too-small times, events other than 0/1, cuts that are
        not strictly increasing, an unknown ``scheme``.

    References
    ----------
    Kvamme H, Borgan O (2021). Continuous and discrete-time survival prediction with neural
    networks. Lifetime Data Anal 27:710-736. doi:10.1007/s10985-021-09532-6
    """
    from pycox.preprocessing.discretization import make_cuts

    t = np.asarray(time, dtype=np.float64).reshape(-1)
    e_raw = np.asarray(event).reshape(-1)
    if e_raw.shape[0] != t.shape[0]:
        raise SurvageInputError(
            f"event has length {e_raw.shape[0]}",
            column="event",
            expected=f"length {t.shape[0]}",
        )
    bad_e = np.flatnonzero((e_raw != 0) & (e_raw != 1))
    if bad_e.size:
        raise SurvageInputError(
            "event has values other than 0/1",
            column="event",
            rows=bad_e.tolist(),
            expected="0/1",
        )
    bad_t = np.flatnonzero(~np.isfinite(t))
    if bad_t.size:
        raise SurvageInputError(
            "non-finite times",
            column="time",
            rows=bad_t.tolist(),
            expected="finite times",
        )
    if scheme not in ("equidistant", "quantiles"):
        raise SurvageInputError(
            f"unknown scheme {scheme!r}",
            column="scheme",
            expected="'equidistant' | 'quantiles'",
        )
    e = e_raw.astype(bool)
    if isinstance(cuts, (int, np.integer)):
        if cuts < 2:
            raise SurvageInputError(f"cuts = {cuts}", column="cuts", expected="at least 2 cut points")
        try:
            grid = np.asarray(make_cuts(int(cuts), scheme, t, e.astype(np.float64), min_time, "float64"))
        except ValueError as err:  # pycox: "cuts are not unique."
            raise SurvageInputError(
                str(err),
                column="cuts",
                expected="distinct cut points; use fewer",
            ) from err
    else:
        grid = np.asarray(cuts, dtype=np.float64).reshape(-1)
        if grid.size < 2 or not np.all(np.isfinite(grid)) or not np.all(np.diff(grid) > 0):
            raise SurvageInputError("cut points must be finite and strictly increasing", column="cuts",
                                    expected="increasing array of length >= 2")
    early = np.flatnonzero(t < grid[0])
    if early.size:
        raise SurvageInputError("times before the first cut point", column="time", rows=early.tolist(),
                                expected=f"times >= {grid[0]}")
    # pycox's rule (DiscretizeUnknownC, censor_side="left"): events to the first cut >= time,
    # censorings to the last cut <= time, anything past the last cut censored there.
    past = t > grid[-1]
    ev = e & ~past
    interval = np.where(ev, np.searchsorted(grid, t, side="left"), np.searchsorted(grid, t, side="right") - 1)
    interval = np.minimum(interval, grid.size - 1)
    return DiscreteTimes(cuts=grid, interval=interval.astype(np.int64), event=ev.astype(np.float32))


def _check_discrete(logits: Tensor, interval: Tensor, event: Tensor, reduction: str) -> tuple[Tensor, Tensor]:
    """Validate the discrete-loss inputs; return (interval as int64, event as logits' dtype)."""
    check_reduction(reduction)
    if not isinstance(logits, Tensor) or logits.ndim != 2 or not logits.is_floating_point():
        raise SurvageInputError("logits must be a float tensor of shape (n, n_intervals)", column="logits",
                                expected="shape (n, n_intervals)")
    n, m = logits.shape
    idx = as_vector(interval, "interval").to(logits.device)
    ev = event_as_float(as_vector(event, "event").to(logits.device), logits.dtype)
    check_same_length(n, interval=idx, event=ev)
    if idx.is_floating_point() and bool((idx != torch.round(idx)).any()):
        raise SurvageInputError("interval must hold integers", column="interval", expected="int indices")
    idx = idx.long()
    bad = (idx < 0) | (idx >= m)
    if bool(bad.any()):
        rows = [int(i) for i in torch.nonzero(bad).reshape(-1)[:10].tolist()]
        raise SurvageInputError("interval index out of range", column="interval", rows=rows,
                                expected=f"0 <= interval < {m} (logits.shape[1])")
    return idx, ev


def logistic_hazard_nll(
    logits: Tensor, interval: Tensor, event: Tensor, *, reduction: Reduction = "mean"
) -> Tensor:
    """Negative log-likelihood of the logistic-hazard (discrete-time hazard) model.

    ``sigmoid(logits[i, k])`` is the hazard of sample ``i`` in interval ``k``. Calls pycox
    ``nll_logistic_hazard``.

    Parameters
    ----------
    logits
        Hazard logits, shape ``(n, n_intervals)``.
    interval
        Interval index of each sample (``DiscreteTimes.interval``), shape ``(n,)``.
    event
        Event indicator (bool or 0/1), shape ``(n,)``.
    reduction
        ``"mean"`` over samples, ``"sum"``, or ``"none"`` (shape ``(n,)``).

    Returns
    -------
    Tensor
        The loss.

    References
    ----------
    Brown CC (1975). On the use of indicator variables for studying the time-dependence of
    parameters in a response-time model. Biometrics 31:863-872. doi:10.2307/2529811

    Kvamme H, Borgan O (2021). Lifetime Data Anal 27:710-736. doi:10.1007/s10985-021-09532-6
    """
    from pycox.models.loss import nll_logistic_hazard

    idx, ev = _check_discrete(logits, interval, event, reduction)
    return nll_logistic_hazard(logits, idx, ev, reduction=reduction)


def pmf_nll(
    logits: Tensor,
    interval: Tensor,
    event: Tensor,
    *,
    reduction: Reduction = "mean",
    epsilon: float = 1e-7,
) -> Tensor:
    """Negative log-likelihood of the discrete probability-mass-function model (DeepHit style).

    ``softmax`` over ``logits[i, :]`` padded with a zero logit (survival past the last
    interval) gives the probability of the event in each interval. Calls pycox ``nll_pmf``.

    Parameters
    ----------
    logits
        Logits, shape ``(n, n_intervals)``.
    interval
        Interval index of each sample, shape ``(n,)``.
    event
        Event indicator (bool or 0/1), shape ``(n,)``.
    reduction
        ``"mean"`` over samples, ``"sum"``, or ``"none"``.
    epsilon
        Floor inside the log of the survival term (pycox's default).

    Returns
    -------
    Tensor
        The loss.

    References
    ----------
    Lee C, Zame WR, Yoon J, van der Schaar M (2018). DeepHit: a deep learning approach to
    survival analysis with competing risks. AAAI 32. doi:10.1609/aaai.v32i1.11842

    Kvamme H, Borgan O (2021). Lifetime Data Anal 27:710-736. doi:10.1007/s10985-021-09532-6
    """
    from pycox.models.loss import nll_pmf

    idx, ev = _check_discrete(logits, interval, event, reduction)
    return nll_pmf(logits, idx, ev, reduction=reduction, epsilon=epsilon)
