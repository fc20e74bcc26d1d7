"""Vectorised root finding for increasing functions (safeguarded Newton with bracketing)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def solve_increasing(
    log_f: Callable[[np.ndarray], np.ndarray],
    dlog_f: Callable[[np.ndarray], np.ndarray],
    log_target: np.ndarray,
    start: np.ndarray,
    *,
    step: float = 10.0,
    xtol: float = 1e-12,
    max_iter: int = 200,
) -> np.ndarray:
    """Solve ``log_f(x) = log_target`` elementwise for a strictly increasing ``log_f``.

    A bracket is found by stepping outwards from ``start`` with doubling steps, then
    Newton steps on ``log_f`` are taken, falling back to bisection whenever a step leaves the
    bracket (a safeguarded Newton-Raphson, Press et al., Numerical Recipes, 3rd ed., sec. 9.4).

    Parameters
    ----------
    log_f, dlog_f
        Elementwise function and its derivative; both take and return arrays of the shape
        of ``log_target``.
    log_target
        Targets (finite).
    start
        Initial guesses, same shape.
    step
        Initial bracketing step.
    xtol
        Absolute tolerance on x (scaled by ``1 + |x|``).
    max_iter
        Iteration limit of each phase.

    Returns
    -------
    numpy.ndarray
        The roots; NaN where no bracket was found within ``max_iter`` doublings.
    """
    x = np.array(start, dtype=float, copy=True)
    lo = x.copy()
    hi = x.copy()
    g = log_f(x) - log_target
    # Bracket: lo with g <= 0, hi with g >= 0.
    width = np.full_like(x, step)
    need_lo = g > 0
    need_hi = g < 0
    for _ in range(max_iter):
        if not (need_lo.any() or need_hi.any()):
            break
        lo = np.where(need_lo, lo - width, lo)
        hi = np.where(need_hi, hi + width, hi)
        need_lo &= log_f(lo) - log_target > 0
        need_hi &= log_f(hi) - log_target < 0
        width *= 2.0
    failed = need_lo | need_hi
    active = ~failed
    for _ in range(max_iter):
        if not active.any():
            break
        g = log_f(x) - log_target
        lo = np.where(active & (g <= 0), x, lo)
        hi = np.where(active & (g >= 0), x, hi)
        d = dlog_f(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - g / d
        ok = np.isfinite(newton) & (newton > lo) & (newton < hi)
        new = np.where(ok, newton, 0.5 * (lo + hi))
        new = np.where(g == 0, x, new)
        delta = np.abs(new - x)
        x = np.where(active, new, x)
        active &= (delta > xtol * (1.0 + np.abs(x))) & (hi - lo > xtol * (1.0 + np.abs(x)))
    x[failed] = np.nan
    return x
