"""Per-sample Cox partial-likelihood terms with an analytic backward (engine of ``cox_nll``).

Everything after the one sort is O(n) with vectorised reductions. Rows are sorted by stratum,
then time descending; tie groups are runs of equal (stratum, time), so the risk set of a group
is every row up to the group's last row within its stratum, and the risk-set sum
``D_g = sum_{j in R_g} w_j exp(eta_j)`` is a cumulative sum read at group ends.

Two ways to get ``D_g`` (and the tied-event sums ``E_g`` for Efron):

* fast (one stratum, the usual case): shift by the largest score, ``exp``, float64 ``cumsum``;
  taken when the smallest risk-set sum is above 1e-200 after the shift, so no term that matters
  has underflowed;
* exact (strata, or scores spread over more than ~460 log units): per-group log-sum-exp, then a
  cumulative log-sum-exp over groups, restarting per stratum.

The events are listed once (positions in sorted order), so the Efron work is per event, not
per row. Forward, with ``r_g = E_g / D_g``, ``m_g`` events in group g and Efron fraction
``f = rank / m_g``, the term of event k in group g is
``out_k = w_k (avg_l log(D_g (1 - f_l r_g)) - eta_k)`` (Breslow: ``f = 0``).
Backward with upstream ``gamma`` (per event): ``u_k = gamma_k w_k``, ``U_g`` its group sum,
``a_g = U_g / m_g sum_l 1 / (1 - f_l r_g)``, ``b_g = U_g / m_g sum_l f_l / (1 - f_l r_g)``
(Breslow: ``a_g = U_g``, ``b_g = 0``), and
``dL/deta_k = w_k exp(eta_k) [sum_{groups g' at or after g(k), same stratum} a_g' / D_g'
- d_k b_g(k) / D_g(k)] - u_k``.

References: Cox (1972) doi:10.1111/j.2517-6161.1972.tb00899.x; Efron (1977)
doi:10.1080/01621459.1977.10480613; Breslow (1974) doi:10.2307/2529620.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from survage.losses.cumulative import segmented_logcumsumexp

# Smallest shifted risk-set sum for which the fast path is exact (see cumulative._UNDERFLOW).
_FAST_MIN = 1e-200


@dataclass(frozen=True)
class Layout:
    """Sort order and tie structure of (stratum, time), shared by forward and backward.

    Row tensors are in sorted order (stratum, then time descending); event tensors list the
    events in that order (so each tie group's events are consecutive).
    """

    order: Tensor  # (n,) sorted position -> input row
    group: Tensor  # (n,) tie-group id (0..n_groups-1), nondecreasing
    last: Tensor  # (n_groups,) sorted position of each group's last row
    group_new_stratum: Tensor | None  # (n_groups - 1,) bool: group g + 1 starts a stratum
    weight: Tensor | None  # (n,) float64 case weights
    ev_pos: Tensor  # (k,) sorted positions of the events
    ev_group: Tensor  # (k,) tie group of each event
    n_events: Tensor  # (n_groups,) float64 events per tie group (m_g)
    ev_end: Tensor  # (n_groups,) long: number of events in groups 0..g
    rank: Tensor | None  # (k,) float64 rank of each event within its group (Efron only)
    ev_weight: Tensor | None  # (k,) float64 weights of the events


def group_sum(v: Tensor, last: Tensor) -> Tensor:
    """Sums of ``v`` over consecutive groups ending at positions ``last`` (float64 cumsum)."""
    ends = torch.cumsum(v, 0).index_select(0, last)
    return torch.diff(ends, prepend=ends.new_zeros(1))


def event_group_sum(v: Tensor, layout: Layout) -> Tensor:
    """Per tie group sums of an event-level ``v`` (0 for groups without events)."""
    cs = torch.cat([v.new_zeros(1), torch.cumsum(v, 0)])
    return cs.index_select(0, layout.ev_end) - cs.index_select(0, layout.ev_end - layout.n_events.long())


def make_layout(
    time: Tensor, event: Tensor, strata: Tensor | None, weights: Tensor | None, efron: bool
) -> Layout:
    """Sort once and find the tie groups (consecutive equal (stratum, time)) and the events.

    Parameters
    ----------
    time, event, strata, weights
        Validated 1-D inputs on one device (``event`` boolean).
    efron
        Also compute each event's rank within its tie group.

    Returns
    -------
    Layout
        The ordering, group and event structure.
    """
    n = time.shape[0]
    order = torch.argsort(time, descending=True, stable=strata is not None)
    if strata is not None:
        order = order.index_select(0, torch.argsort(strata.index_select(0, order), stable=True))
    t_s = time.index_select(0, order)
    new_group = t_s[1:] != t_s[:-1]
    group_new_stratum = None
    if strata is not None:
        s_s = strata.index_select(0, order)
        new_stratum = s_s[1:] != s_s[:-1]
        if bool(new_stratum.any()):
            new_group = new_group | new_stratum
            group_new_stratum = torch.masked_select(new_stratum, new_group)
    is_last = torch.ones(n, dtype=torch.bool, device=time.device)
    is_last[:-1] = new_group
    last = torch.nonzero(is_last).reshape(-1)
    group = torch.zeros(n, dtype=torch.long, device=time.device)
    torch.cumsum(new_group, 0, out=group[1:])
    ev_pos = torch.nonzero(event.index_select(0, order)).reshape(-1)
    ev_group = group.index_select(0, ev_pos)
    counts = torch.bincount(ev_group, minlength=last.shape[0])
    ev_end = torch.cumsum(counts, 0)
    n_events = counts.to(torch.float64)
    rank = None
    if efron:
        first = (ev_end - counts).index_select(0, ev_group)
        rank = (torch.arange(ev_pos.shape[0], device=time.device) - first).to(torch.float64)
    w = weights.index_select(0, order).to(torch.float64) if weights is not None else None
    w_e = w.index_select(0, ev_pos) if w is not None else None
    return Layout(order, group, last, group_new_stratum, w, ev_pos, ev_group, n_events, ev_end, rank, w_e)


def _segment_logsumexp(x: Tensor, seg: Tensor, n_seg: int) -> Tensor:
    """``out[g] = log sum_{k : seg[k] = g} exp(x[k])`` (float64; ``-inf`` for empty groups)."""
    shift = torch.full((n_seg,), float("-inf"), dtype=torch.float64, device=x.device)
    shift = shift.scatter_reduce_(0, seg, x, reduce="amax")
    shift = torch.where(torch.isfinite(shift), shift, 0.0)
    total = torch.zeros(n_seg, dtype=torch.float64, device=x.device).index_add_(
        0, seg, torch.exp(x - shift.index_select(0, seg))
    )
    return torch.log(total) + shift


def _risk_fast(x_s: Tensor, layout: Layout, efron: bool) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
    """(log D_g, r_g, exp(x - shift), D_g exp(-shift)) by one shifted cumsum; None if not exact."""
    if layout.group_new_stratum is not None:
        return None
    shift = x_s.max()
    e = torch.exp(x_s - shift)
    d_shifted = torch.cumsum(e, 0).index_select(0, layout.last)
    if not bool(d_shifted[0] >= _FAST_MIN):  # D_g only grows with g: check the smallest
        return None
    log_d = torch.log(d_shifted) + shift
    ratio = torch.zeros_like(log_d)
    if efron:
        tied = event_group_sum(e.index_select(0, layout.ev_pos), layout)
        ratio = (tied / d_shifted).clamp_(0.0, 1.0)
    return log_d, ratio, e, d_shifted


def _risk_exact(x_s: Tensor, layout: Layout, efron: bool) -> tuple[Tensor, Tensor]:
    """(log D_g, r_g) by per-group log-sum-exp and a cumulative log-sum-exp over groups."""
    n_groups = layout.last.shape[0]
    log_risk_g = _segment_logsumexp(x_s, layout.group, n_groups)
    log_d = segmented_logcumsumexp(log_risk_g, layout.group_new_stratum)
    ratio = torch.zeros_like(log_d)
    if efron:
        log_tied = _segment_logsumexp(x_s.index_select(0, layout.ev_pos), layout.ev_group, n_groups)
        ratio = torch.exp(log_tied - log_d).clamp_(0.0, 1.0)
    return log_d, ratio


class CoxTerms(torch.autograd.Function):
    """``CoxTerms.apply(eta, layout, efron)``: negative log partial likelihood term of each event.

    ``eta`` is in input order; the result, shape ``(k,)`` float64, lists the events in the
    layout's order (``layout.order[layout.ev_pos]`` are their input rows). Censored rows have
    no term of their own. First derivatives only.
    """

    @staticmethod
    def forward(ctx: Any, eta: Tensor, layout: Layout, efron: bool) -> Tensor:  # type: ignore[override]
        eta_s = eta.detach().index_select(0, layout.order).to(torch.float64)
        x_s = eta_s if layout.weight is None else eta_s + torch.log(layout.weight)
        fast = _risk_fast(x_s, layout, efron)
        if fast is not None:
            log_d, ratio, e, d_shifted = fast
        else:
            (log_d, ratio), e, d_shifted = _risk_exact(x_s, layout, efron), None, None
        m_safe = layout.n_events.clamp_min(1.0)
        g_e = layout.ev_group
        frac = None
        if efron and layout.rank is not None:
            frac = layout.rank / m_safe.index_select(0, g_e)
            corr = torch.log1p(-frac * ratio.index_select(0, g_e))
            avg_g = log_d + event_group_sum(corr, layout) / m_safe
        else:
            avg_g = log_d
        out_e = avg_g.index_select(0, g_e) - eta_s.index_select(0, layout.ev_pos)
        if layout.ev_weight is not None:
            out_e = out_e * layout.ev_weight
        ctx.layout, ctx.efron, ctx.fast, ctx.eta_dtype = layout, efron, fast is not None, eta.dtype
        saved = (x_s, log_d, ratio) if fast is None else (e, d_shifted, ratio)
        ctx.save_for_backward(*saved, *(() if frac is None else (frac,)))
        return out_e

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        layout: Layout = ctx.layout
        q, g_e, ev_pos = layout.group, layout.ev_group, layout.ev_pos
        if ctx.efron:
            first, scale, ratio, frac = ctx.saved_tensors
        else:
            first, scale, ratio = ctx.saved_tensors
        n, k = q.shape[0], ev_pos.shape[0]
        if k == 0:
            return torch.zeros(n, dtype=ctx.eta_dtype, device=q.device), None, None
        gamma = grad_out.to(torch.float64)
        u = gamma if layout.ev_weight is None else gamma * layout.ev_weight
        u = u.expand(k)
        u_g = event_group_sum(u, layout)
        b_g = None
        if ctx.efron:
            m_safe = layout.n_events.clamp_min(1.0)
            inv = 1.0 / (1.0 - frac * ratio.index_select(0, g_e))
            a_g = u_g / m_safe * event_group_sum(inv, layout)
            b_g = u_g / m_safe * event_group_sum(inv * frac, layout)
        else:
            a_g = u_g
        if ctx.fast:
            # first = exp(x - shift), scale = D_g exp(-shift): e_k sum_{g' >= g(k)} a_g' / D_g'
            e, d_shifted = first, scale
            tail = torch.flip(torch.cumsum(torch.flip(a_g / d_shifted, (0,)), 0), (0,))
            grad_s = e * tail.index_select(0, q)
            corr = -u
            if b_g is not None:
                corr = corr - e.index_select(0, ev_pos) * (b_g / d_shifted).index_select(0, g_e)
        else:
            x_s, log_d = first, scale
            gns = layout.group_new_stratum
            log_tail = segmented_logcumsumexp(torch.log(a_g.clamp_min(0.0)) - log_d, gns, reverse=True)
            grad_s = torch.exp(x_s + log_tail.index_select(0, q))
            if bool((a_g < 0).any()):
                log_neg = segmented_logcumsumexp(torch.log((-a_g).clamp_min(0.0)) - log_d, gns, reverse=True)
                grad_s = grad_s - torch.exp(x_s + log_neg.index_select(0, q))
            corr = -u
            if b_g is not None:
                share = torch.exp(x_s.index_select(0, ev_pos) - log_d.index_select(0, g_e))
                corr = corr - b_g.index_select(0, g_e) * share
        grad_s = grad_s.index_add_(0, ev_pos, corr)
        grad = torch.empty_like(grad_s).scatter_(0, layout.order, grad_s)
        return grad.to(ctx.eta_dtype), None, None
