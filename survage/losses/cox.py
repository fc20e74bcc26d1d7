"""Cox partial likelihood loss with Efron or Breslow handling of tied event times.

The loss is the negative log partial likelihood of Cox (1972) as computed by R's
``survival::coxph``: risk sets ``R(t) = {j : T_j >= t}`` (a person censored at ``t`` is still at
risk at ``t``), separate risk sets per stratum, and R's case-weight conventions.

Algorithm (O(n log n) for the one sort, O(n) after it; no Python loop over event times; see
:mod:`survage.losses.cox_terms`): sort once by (stratum, time descending); tie groups are runs of
equal (stratum, time); risk-set sums are cumulative sums read at group ends, taken after
shifting by the largest score in float64, or as a cumulative log-sum-exp over groups when
strata are given or scores are spread too widely for the shift (so any magnitude is stable). The
Efron correction is evaluated per event from its rank within its tie group. The gradient is
analytic (a custom autograd function; first derivatives only).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from survage.errors import SurvageInputError
from survage.losses.cox_terms import CoxTerms, make_layout
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
        raise SurvageInputError(
            "log_hazard must be floating point",
            column="log_hazard",
            expected="float tensor",
        )
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

    efron = ties == "efron"
    layout = make_layout(time, d > 0, strata, w, efron)
    terms = CoxTerms.apply(eta, layout, efron)  # float64, one per event, in sorted order
    if reduction == "none":
        rows = layout.order.index_select(0, layout.ev_pos)
        return torch.zeros(n, dtype=terms.dtype, device=eta.device).scatter(0, rows, terms).to(eta.dtype)
    total = terms.sum().to(eta.dtype)
    if reduction == "sum":
        return total
    n_events = (w * d).sum() if w is not None else d.sum()
    return total / torch.where(n_events > 0, n_events, torch.ones_like(n_events))
