"""Cumulative log-sum-exp along the last dimension, optionally restarting at segment starts.

Helpers for the Cox loss (no autograd: the Cox loss has its own backward). ``torch.logcumsumexp``
is exact but slow on CPU (a scalar log/exp per element); here the common case runs as one
shift by the maximum, ``exp``, a float64 ``cumsum`` and ``log``, and the exact
``torch.logcumsumexp`` is used only when that sum underflows (scores spread over more than
~460 log units), so results are correct for scores of any magnitude.
"""

from __future__ import annotations

import torch
from torch import Tensor

# A float64 prefix sum below this may have lost terms to underflow (exp(-745) = 0); above it the
# lost terms (each < 1e-308, at most 2^31 of them) are below 1e-90 relative.
_UNDERFLOW = 1e-200

# Segments are laid out as a padded (n_segments, longest) matrix while it holds at most this
# many times the number of entries; beyond that (very unbalanced segments) they are processed
# one after another.
_PAD_FACTOR = 4


def logcumsumexp(v: Tensor) -> Tensor:
    """``log(cumsum(exp(v)))`` along the last dimension, in float64, stable for any magnitude.

    Parameters
    ----------
    v
        Values (``-inf`` allowed, e.g. padding or zero weights), 1-D or 2-D.

    Returns
    -------
    Tensor
        Float64, same shape as ``v``.
    """
    v = v.to(torch.float64)
    if v.shape[-1] == 0:
        return v.clone()
    shift = v.max(dim=-1, keepdim=True).values
    shift = torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
    cs = torch.cumsum(torch.exp(v - shift), dim=-1)
    underflow = cs < _UNDERFLOW
    if bool(underflow.any()):
        # Zero is right where every entry so far is -inf; anything else needs the exact scan.
        seen = torch.cumsum(torch.isfinite(v).to(torch.int32), dim=-1) > 0
        if bool((underflow & seen).any()):
            return torch.logcumsumexp(v, dim=-1)
    return torch.log(cs) + shift


def segmented_logcumsumexp(v: Tensor, new_segment: Tensor | None, *, reverse: bool = False) -> Tensor:
    """Cumulative log-sum-exp of a 1-D ``v``, restarting at each segment start.

    Parameters
    ----------
    v
        Values, shape ``(n,)``.
    new_segment
        Boolean, shape ``(n - 1,)``: true where position ``k + 1`` starts a new segment
        (``None``: one segment).
    reverse
        Accumulate from the end of each segment towards its start instead.

    Returns
    -------
    Tensor
        Float64, shape ``(n,)``: ``out[k] = log sum exp(v[s..k])`` (``v[k..e]`` when reversed),
        ``s``/``e`` the start/end of the segment holding ``k``.
    """
    if reverse:
        flags = None if new_segment is None else new_segment.flip(0)
        return segmented_logcumsumexp(v.flip(0), flags).flip(0)
    n = v.shape[0]
    if new_segment is None or n <= 1 or not bool(new_segment.any()):
        return logcumsumexp(v)
    inner = torch.nonzero(new_segment).reshape(-1) + 1
    starts = torch.cat([inner.new_zeros(1), inner])
    lengths = torch.diff(torch.cat([starts, starts.new_tensor([n])]))
    longest = int(lengths.max())
    n_seg = starts.shape[0]
    if n_seg * longest <= _PAD_FACTOR * n + 1024:
        seg = torch.cat([new_segment.new_zeros(1, dtype=torch.long), new_segment.long()]).cumsum(0)
        pos = torch.arange(n, device=v.device) - starts.index_select(0, seg)
        padded = torch.full((n_seg, longest), float("-inf"), dtype=torch.float64, device=v.device)
        padded[seg, pos] = v.to(torch.float64)
        return logcumsumexp(padded)[seg, pos]
    return torch.cat([logcumsumexp(p) for p in torch.split(v, lengths.tolist())])
