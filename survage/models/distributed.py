"""Helpers for data-parallel training (``torch.distributed``, gloo on CPU, NCCL on GPU).

The Cox partial likelihood couples every person through the risk sets, so a per-rank loss on a
shard is not the full-data loss. :func:`gather_with_grad` all-gathers the log hazards of every
rank (the local part keeps its autograd graph, the remote parts are constants); with times and
events gathered too, every rank evaluates exactly the full-batch loss, and its gradient with
respect to the local parameters' contribution flows through the local rows only. Because
``DistributedDataParallel`` *averages* gradients over ranks, the loss is multiplied by the
world size before ``backward`` so that the averaged gradient is the full-batch gradient.
See docs/distributed.md.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` when not distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _gather_padded(x: Tensor) -> list[Tensor]:
    """All-gather 1-D tensors of unequal length (padded to the longest, then trimmed)."""
    _, world = rank_and_world()
    n = torch.tensor([x.shape[0]], device=x.device, dtype=torch.long)
    sizes = [torch.zeros_like(n) for _ in range(world)]
    dist.all_gather(sizes, n)
    longest = int(max(int(s) for s in sizes))
    pad = torch.zeros(longest, dtype=x.dtype, device=x.device)
    pad[: x.shape[0]] = x.detach()
    parts = [torch.zeros_like(pad) for _ in range(world)]
    dist.all_gather(parts, pad)
    return [p[: int(s)] for p, s in zip(parts, sizes)]


def gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate a 1-D tensor over ranks (rank order); gradients flow through the local part.

    Parameters
    ----------
    x
        This rank's values, shape ``(n_local,)`` (lengths may differ between ranks).

    Returns
    -------
    Tensor
        ``(sum of n_local,)``; identical values on every rank. Outside a process group: ``x``.
    """
    rank, world = rank_and_world()
    if world == 1:
        return x
    parts = _gather_padded(x)
    parts[rank] = x
    return torch.cat(parts)


def gather(x: Tensor) -> Tensor:
    """Concatenate a 1-D tensor over ranks, without gradients."""
    _, world = rank_and_world()
    if world == 1:
        return x
    return torch.cat(_gather_padded(x))


def all_reduce_sum(x: Tensor) -> Tensor:
    """Sum of ``x`` over ranks (a copy; ``x`` itself is unchanged)."""
    _, world = rank_and_world()
    if world == 1:
        return x
    y = x.detach().clone()
    dist.all_reduce(y, op=dist.ReduceOp.SUM)
    return y
