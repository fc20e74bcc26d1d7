"""Cox partial likelihood loss with Efron or Breslow handling of tied event times.

The loss is the negative log partial likelihood of Cox (1972) as computed by R's
``survival::coxph``: risk sets ``R(t) = {j : T_j >= t}`` (a person censored at ``t`` is still at
risk at ``t``), separate risk sets per stratum, and R's case-weight conventions.

Algorithm (O(n log n), no Python loop over event times): sort once by (stratum, time
descending); the log of each risk-set sum is a cumulative ``logsumexp`` (stable for scores of any
magnitude: no ``exp`` of an unshifted score is ever formed); tied-event groups are found from
consecutive equal times and the Efron correction is evaluated per event with segment (scatter)
reductions.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from survage.errors import SurvageInputError
from survage.losses.validation import (
    Reduction,
    as_vector,
    check_finite,
    check_reduction,
    check_same_length,
    check_weights,
    event_as_float,
)

Ties = Literal["efron", "breslow"]

# Strata are laid out as a padded (n_strata, longest stratum) matrix for one vectorised
# cumulative logsumexp while that matrix holds at most this many times n cells; beyond it
# (very unbalanced strata) the strata are processed one after another.
_PAD_FACTOR = 4


def _segmented_logcumsumexp(x: Tensor, new_segment: Tensor) -> Tensor:
    """Cumulative logsumexp of ``x`` restarting where ``new_segment`` is true.

    Parameters
    ----------
    x
        Values, shape ``(n,)``.
    new_segment
        Boolean, shape ``(n - 1,)``: true where position ``k + 1`` starts a new segment.

    Returns
    -------
    Tensor
        ``out[k] = log sum exp(x[s..k])`` with ``s`` the start of the segment holding ``k``.
    """
    n = x.shape[0]
    starts = torch.cat([x.new_zeros(1, dtype=torch.long), torch.nonzero(new_segment).reshape(-1) + 1])
    n_seg = starts.shape[0]
    if n_seg == 1:
        return torch.logcumsumexp(x, 0)
    lengths = torch.diff(torch.cat([starts, starts.new_tensor([n])]))
    longest = int(lengths.max())
    if n_seg * longest <= _PAD_FACTOR * n + 1024:
        seg = torch.cat([new_segment.new_zeros(1, dtype=torch.long), new_segment.long()]).cumsum(0)
        pos = torch.arange(n, device=x.device) - starts[seg]
        padded = x.new_full((n_seg, longest), float("-inf")).index_put((seg, pos), x)
        return torch.logcumsumexp(padded, 1)[seg, pos]
    pieces = torch.split(x, lengths.tolist())
    return torch.cat([torch.logcumsumexp(p, 0) for p in pieces])


def _segment_logsumexp(x: Tensor, seg: Tensor, n_seg: int) -> Tensor:
    """``out[g] = log sum_{k : seg[k] = g} exp(x[k])``, shifted by each segment's maximum."""
    shift = x.new_full((n_seg,), float("-inf")).scatter_reduce(0, seg, x.detach(), reduce="amax")
    total = x.new_zeros(n_seg).index_add(0, seg, torch.exp(x - shift[seg]))
    return torch.log(total) + shift


def cox_nll(
    log_hazard: Tensor,
    time: Tensor,
    event: Tensor,
    *,
    ties: Ties = "efron",
    strata: Tensor | None = None,
    weights: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Negative Cox log partial likelihood, with Efron or Breslow ties.

    With risk score :math:`\eta_i` (``log_hazard``), case weight :math:`w_i`, and at each distinct
    event time :math:`t` (within a stratum) the event set :math:`D` (:math:`m = |D|`) and risk set
    :math:`R = \{j: T_j \ge t\}`, the log partial likelihood is

    * Breslow: :math:`\sum_t \sum_{i\in D} w_i [\eta_i - \log \sum_{j\in R} w_j e^{\eta_j}]`
    * Efron: :math:`\sum_t [\sum_{i\in D} w_i\eta_i - \bar w_D \sum_{l=0}^{m-1}
      \log(\sum_{j\in R} w_j e^{\eta_j} - \tfrac{l}{m}\sum_{i\in D} w_i e^{\eta_i})]`,
      :math:`\bar w_D` the mean weight of the events (R ``coxph``'s weighted Efron).

    Parameters
    ----------
    log_hazard
        Risk scores :math:`\eta` (higher = worse), shape ``(n,)`` or ``(n, 1)``, floating point.
        Gradients flow to it. Its dtype is the dtype of the computation.
    time
        Follow-up times, shape ``(n,)`` or ``(n, 1)``. Ties are exact equality.
    event
        Event indicator (bool or 0/1), shape ``(n,)`` or ``(n, 1)``.
    ties
        ``"efron"`` (default, as R ``coxph``) or ``"breslow"``.
    strata
        Optional stratum labels, shape ``(n,)``; each stratum has its own risk sets.
    weights
        Optional case weights (> 0), shape ``(n,)``, with R ``coxph(weights=)`` semantics.
    reduction
        ``"sum"``: minus the log partial likelihood (equals ``-coxph(...)$loglik[2]`` at the same
        coefficients); ``"mean"``: that divided by the number of events (the weighted number of
        events when ``weights`` are given; 0 when there are no events); ``"none"``: per-sample
        terms, shape ``(n,)`` in input order, summing to ``"sum"``: 0 for censored samples,
        :math:`-w_i(\eta_i - \overline{\log d})` for an event, :math:`\overline{\log d}` the
        average of its tie group's Efron log-denominators (symmetric in the tied events).

    Returns
    -------
    Tensor
        Scalar (``"mean"``, ``"sum"``) or shape ``(n,)`` (``"none"``).

    Raises
    ------
    SurvageInputError
        Wrong shapes or lengths, non-finite scores or times, events other than 0/1, weights not
        > 0, an unknown ``ties`` or ``reduction``.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. J R Stat Soc B 34:187-220.
    doi:10.1111/j.2517-6161.1972.tb00899.x

    Efron B (1977). The efficiency of Cox's likelihood function for censored data. JASA
    72:557-565. doi:10.1080/01621459.1977.10480613

    Breslow N (1974). Covariance analysis of censored survival data. Biometrics 30:89-99.
    doi:10.2307/2529620

    Therneau TM, Grambsch PM (2000). Modeling Survival Data: Extending the Cox Model. Springer.
    doi:10.1007/978-1-4757-3294-8 (R ``survival``, whose ``coxph`` this reproduces).
    """
    eta = as_vector(log_hazard, "log_hazard")
    if not eta.is_floating_point():
        raise SurvageInputError("log_hazard must be floating point", column="log_hazard", expected="float tensor")
    n = eta.shape[0]
    if n == 0:
        raise SurvageInputError("no samples", column="log_hazard", expected="at least one sample")
    if ties not in ("efron", "breslow"):
        raise SurvageInputError(f"unknown ties {ties!r}", column="ties", expected="'efron' | 'breslow'")
    check_reduction(reduction)
    time = as_vector(time, "time").to(eta.device)
    event = as_vector(event, "event").to(eta.device)
    strata = as_vector(strata, "strata").to(eta.device) if strata is not None else None
    weights = as_vector(weights, "weights").to(eta.device) if weights is not None else None
    check_same_length(n, time=time, event=event, strata=strata, weights=weights)
    check_finite(eta.detach(), "log_hazard")
    check_finite(time, "time")
    d = event_as_float(event, eta.dtype)
    w = check_weights(weights, eta.dtype) if weights is not None else None

    # One ordering: by stratum, then time descending (risk set of row k = rows 0..k of its stratum
    # plus the rows tied with it).
    order = torch.argsort(time, descending=True, stable=strata is not None)
    if strata is not None:
        order = order[torch.argsort(strata[order], stable=True)]
    t_s = time[order]
    eta_s = eta[order]
    x_s = eta_s if w is None else eta_s + torch.log(w[order])

    new_group = t_s[1:] != t_s[:-1]
    if strata is not None:
        s_s = strata[order]
        new_stratum = s_s[1:] != s_s[:-1]
        new_group = new_group | new_stratum
        log_cum = _segmented_logcumsumexp(x_s, new_stratum)
    else:
        log_cum = torch.logcumsumexp(x_s, 0)
    group = torch.cat([new_group.new_zeros(1, dtype=torch.long), new_group.long()]).cumsum(0)
    last = torch.nonzero(torch.cat([new_group, new_group.new_ones(1)])).reshape(-1)
    log_risk = log_cum[last]  # log sum_{j in R} w_j exp(eta_j), one per tie group

    ev = torch.nonzero(d[order] > 0).reshape(-1)
    g_e = group[ev]
    eta_e = eta_s[ev]
    w_e = w[order][ev] if w is not None else None
    log_risk_e = log_risk[g_e]

    if ties == "breslow" or ev.numel() == 0:
        term = eta_e - log_risk_e
        if w_e is not None:
            term = term * w_e
    else:
        # Efron: rank l of each event within its tied-event group (events are contiguous in g_e).
        change = g_e[1:] != g_e[:-1]
        local = torch.cat([change.new_zeros(1, dtype=torch.long), change.long()]).cumsum(0)
        n_local = int(local[-1]) + 1
        count = torch.zeros(n_local, dtype=eta.dtype, device=eta.device).index_add(
            0, local, torch.ones_like(eta_e)
        )
        first = torch.cumsum(count, 0) - count
        rank = torch.arange(ev.numel(), device=eta.device, dtype=eta.dtype) - first[local]
        frac = rank / count[local]
        x_e = x_s[ev]
        log_tied = _segment_logsumexp(x_e, local, n_local)  # log sum_{i in D} w_i exp(eta_i)
        ratio = torch.exp(log_tied[local] - log_risk_e)  # <= 1: D is part of R
        log_den = log_risk_e + torch.log1p(-frac * ratio)
        # The group's m log-denominators carry total weight sum_D w_i (mean weight times m);
        # each event takes its own weight times their average, so per-sample terms do not
        # depend on the order of the tied events.
        mean_log_den = torch.zeros_like(count).index_add(0, local, log_den) / count
        term = eta_e - mean_log_den[local]
        if w_e is not None:
            term = term * w_e

    if reduction == "none":
        return eta.new_zeros(n).index_add(0, order[ev], -term)
    total = -term.sum()
    if reduction == "sum":
        return total
    n_events = w_e.sum() if w_e is not None else eta.new_tensor(float(ev.numel()))
    return total / torch.where(n_events > 0, n_events, torch.ones_like(n_events))
