"""Compiled pair counting for concordance: one sweep over time with a Fenwick tree on risk ranks.

Imported lazily (numba compiles on first use), so importing :mod:`survage.metrics` stays cheap.
The sweep visits distinct times from the latest to the earliest. At each time it first inserts
the censored rows of that time (an event is compared with a censoring at the same time), then
queries every event of that time against the tree (everyone still in the tree outlived it), then
inserts the events (tied event times are not comparable). A pair (i event, j later) carries weight
``a[i] * b[j]``; the three sums are the concordant, discordant and risk-tied pair weights.

Fenwick tree: Fenwick 1994, Softw. Pract. Exper. 24(3):327-336, doi:10.1002/spe.4380240306.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numpy.typing import NDArray


@nb.njit(cache=False, nogil=True, inline="always")
def _fenwick_add(tree: NDArray[np.float64], i: int, w: float) -> None:
    """Add ``w`` at 1-based position ``i``."""
    n = tree.shape[0] - 1
    while i <= n:
        tree[i] += w
        i += i & (-i)


@nb.njit(cache=False, nogil=True, inline="always")
def _fenwick_prefix(tree: NDArray[np.float64], i: int) -> float:
    """Sum of positions 1..``i``."""
    total = 0.0
    while i > 0:
        total += tree[i]
        i -= i & (-i)
    return total


@nb.njit(cache=False, nogil=True)
def _sweep(starts: NDArray[np.int64], event: NDArray[np.bool_], rank: NDArray[np.int64],
           lo: NDArray[np.int64], hi: NDArray[np.int64], a: NDArray[np.float64],
           b: NDArray[np.float64], n_ranks: int) -> tuple[float, float, float]:
    tree = np.zeros(n_ranks + 1)
    total = 0.0
    conc = 0.0
    disc = 0.0
    tied = 0.0
    for g in range(starts.shape[0] - 2, -1, -1):
        s = starts[g]
        e_ = starts[g + 1]
        for m in range(s, e_):  # censorings at this time outlive its events
            if not event[m] and b[m] != 0.0:
                _fenwick_add(tree, rank[m] + 1, b[m])
                total += b[m]
        for m in range(s, e_):
            if event[m] and a[m] != 0.0:
                below = _fenwick_prefix(tree, lo[m])
                upto = _fenwick_prefix(tree, hi[m])
                w = a[m]
                conc += w * below
                tied += w * (upto - below)
                disc += w * (total - upto)
        for m in range(s, e_):  # then this time's events (tied event times are not comparable)
            if event[m] and b[m] != 0.0:
                _fenwick_add(tree, rank[m] + 1, b[m])
                total += b[m]
    return conc, disc, tied


@nb.njit(cache=False, parallel=True)
def _sweep_batch(starts: NDArray[np.int64], event: NDArray[np.bool_], rank: NDArray[np.int64],
                 lo: NDArray[np.int64], hi: NDArray[np.int64], weights: NDArray[np.float64],
                 n_ranks: int) -> NDArray[np.float64]:
    n_rep = weights.shape[0]
    out = np.empty((n_rep, 3))
    for k in nb.prange(n_rep):
        c, d, t = _sweep(starts, event, rank, lo, hi, weights[k], weights[k], n_ranks)
        out[k, 0] = c
        out[k, 1] = d
        out[k, 2] = t
    return out


def sweep(starts: NDArray[np.int64], event: NDArray[np.bool_], rank: NDArray[np.int64],
          lo: NDArray[np.int64], hi: NDArray[np.int64], a: NDArray[np.float64],
          b: NDArray[np.float64], n_ranks: int) -> tuple[float, float, float]:
    """Weighted concordant, discordant and risk-tied pair sums (inputs sorted by time)."""
    c, d, t = _sweep(starts, event, rank, lo, hi, a, b, n_ranks)
    return float(c), float(d), float(t)


def sweep_batch(starts: NDArray[np.int64], event: NDArray[np.bool_], rank: NDArray[np.int64],
                lo: NDArray[np.int64], hi: NDArray[np.int64], weights: NDArray[np.float64],
                n_ranks: int) -> NDArray[np.float64]:
    """Row ``k`` holds the pair sums with case weights ``weights[k]`` (pair weight w_i * w_j)."""
    return _sweep_batch(starts, event, rank, lo, hi, np.ascontiguousarray(weights), n_ranks)
