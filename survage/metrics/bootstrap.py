"""Nonparametric bootstrap intervals for a metric and for the difference of two models' metrics.

Efron & Tibshirani 1993, An Introduction to the Bootstrap, doi:10.1007/978-1-4899-4541-9
(percentile interval, ch. 13). Resampling rows with replacement equals giving each row a
multinomial count weight; for :func:`harrell_c` the pair weight ``w_i w_j`` reproduces the
resampled C exactly, so rows are sorted once and every replicate is a compiled reweighted sweep.
Other metrics are recomputed on resampled rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError
from survage.metrics._validate import as_float_1d, survival_data
from survage.metrics.concordance import harrell_c, prepare_pairs

_CHUNK = 64


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Point estimate, percentile interval and standard error over ``n_boot`` replicates."""

    estimate: float
    lower: float
    upper: float
    se: float
    confidence: float
    n_boot: int
    n_failed: int
    replicates: NDArray[np.float64]
    method: str = "percentile"


@dataclass(frozen=True, eq=False)
class PairedBootstrapResult:
    """Difference ``metric(a) - metric(b)`` on the same resampled rows.

    ``p_value`` is the two-sided bootstrap p-value for no difference
    (2 x the smaller share of replicate differences on either side of 0).
    """

    estimate_a: float
    estimate_b: float
    difference: float
    lower: float
    upper: float
    se: float
    p_value: float
    confidence: float
    n_boot: int
    n_failed: int
    replicates: NDArray[np.float64]
    method: str = "paired_percentile"


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _scalar(result: Any, statistic: Callable[[Any], float] | None) -> float:
    if statistic is not None:
        return float(statistic(result))
    return float(getattr(result, "estimate", result))


def _row_arrays(kwargs: Mapping[str, Any]) -> tuple[int, set[str]]:
    """Length n of the row-wise arrays and their names (``train_*`` arrays are not resampled)."""
    n = None
    for name in ("time", "event"):
        if name in kwargs:
            n = len(np.asarray(kwargs[name]))
            break
    if n is None:
        raise SurvageInputError("no row arrays given", column="time", expected="time=..., event=... keywords")
    names = {k for k, v in kwargs.items()
             if not k.startswith("train_") and k != "times" and np.ndim(v) >= 1 and len(np.asarray(v)) == n}
    return n, names


def _counts(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float64]:
    """``k`` multinomial(n, 1/n) count vectors (rows resampled with replacement)."""
    idx = rng.integers(0, n, size=(k, n))
    out = np.zeros((k, n))
    np.add.at(out, (np.repeat(np.arange(k), n), idx.ravel()), 1.0)
    return out


def _harrell_replicates(time: ArrayLike, event: ArrayLike, risks: list[ArrayLike], n_boot: int,
                        rng: np.random.Generator) -> NDArray[np.float64]:
    from survage.metrics._concordance_kernel import sweep_batch

    t, e = survival_data(time, event)
    preps = [prepare_pairs(t, e, as_float_1d(r, "risk")) for r in risks]
    out = np.empty((n_boot, len(risks)))
    done = 0
    while done < n_boot:
        k = min(_CHUNK, n_boot - done)
        w = _counts(rng, t.shape[0], k)
        for j, p in enumerate(preps):
            sums = sweep_batch(p.starts, p.event, p.rank, p.lo, p.hi, w[:, p.order], p.n_ranks)
            comparable = sums.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[done:done + k, j] = np.where(comparable > 0, (sums[:, 0] + 0.5 * sums[:, 2]) / comparable,
                                                 np.nan)
        done += k
    return out


def _generic_replicates(metric_fn: Callable[..., Any], kwargs: Mapping[str, Any], variants: list[Mapping[str, Any]],
                        n_boot: int, rng: np.random.Generator, statistic: Callable[[Any], float] | None
                        ) -> NDArray[np.float64]:
    n, names = _row_arrays({**kwargs, **variants[0]})
    out = np.full((n_boot, len(variants)), np.nan)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        for j, v in enumerate(variants):
            args = {**kwargs, **v}
            args = {k: (np.asarray(a)[idx] if k in names else a) for k, a in args.items()}
            try:
                out[b, j] = _scalar(metric_fn(**args), statistic)
            except SurvageInputError:
                pass
    return out


def _interval(reps: NDArray[np.float64], confidence: float) -> tuple[float, float, float]:
    lo, hi = np.percentile(reps, [50 * (1 - confidence), 50 * (1 + confidence)])
    return float(lo), float(hi), float(np.std(reps, ddof=1))


def _check(n_boot: int, confidence: float) -> None:
    if n_boot < 2:
        raise SurvageInputError(f"n_boot={n_boot}", column="n_boot", expected=">= 2")
    if not 0 < confidence < 1:
        raise SurvageInputError(f"confidence={confidence}", column="confidence", expected="a value in (0, 1)")


def bootstrap_ci(metric_fn: Callable[..., Any], *, n_boot: int = 1000, seed: int | np.random.Generator,
                 confidence: float = 0.95, statistic: Callable[[Any], float] | None = None,
                 **kwargs: Any) -> BootstrapResult:
    """Percentile bootstrap interval of ``metric_fn(**kwargs)`` resampling rows.

    Parameters
    ----------
    metric_fn
        A metric of this package, called with keywords, e.g. ``harrell_c`` or ``uno_c``.
    n_boot
        Number of replicates.
    seed
        Seed or ``numpy.random.Generator`` (required: no hidden randomness).
    confidence
        Interval level.
    statistic
        Maps the metric's result to a number; default its ``estimate`` attribute.
    **kwargs
        The metric's arguments. Row arrays of the length of ``time`` are resampled together;
        ``train_*`` arrays, ``times`` and scalars are passed unchanged.

    Returns
    -------
    BootstrapResult

    References
    ----------
    Efron & Tibshirani 1993, doi:10.1007/978-1-4899-4541-9.
    """
    _check(n_boot, confidence)
    rng = _rng(seed)
    estimate = _scalar(metric_fn(**kwargs), statistic)
    fast = metric_fn is harrell_c and set(kwargs) == {"time", "event", "risk"} and statistic is None
    if fast:
        reps = _harrell_replicates(kwargs["time"], kwargs["event"], [kwargs["risk"]], n_boot, rng)[:, 0]
    else:
        reps = _generic_replicates(metric_fn, kwargs, [{}], n_boot, rng, statistic)[:, 0]
    ok = reps[np.isfinite(reps)]
    if ok.size < 2:
        raise SurvageInputError("fewer than two bootstrap replicates could be computed", column="event",
                                expected="more events / comparable pairs")
    lo, hi, se = _interval(ok, confidence)
    return BootstrapResult(estimate, lo, hi, se, confidence, n_boot, int(n_boot - ok.size), ok)


def paired_bootstrap(metric_fn: Callable[..., Any], *, a: Mapping[str, Any], b: Mapping[str, Any],
                     n_boot: int = 1000, seed: int | np.random.Generator, confidence: float = 0.95,
                     statistic: Callable[[Any], float] | None = None, **kwargs: Any) -> PairedBootstrapResult:
    """Bootstrap the difference between two models' metrics on the same resampled rows.

    Parameters
    ----------
    metric_fn
        The metric, e.g. ``harrell_c``.
    a, b
        The model-specific keywords, e.g. ``{"risk": risk_a}`` and ``{"risk": risk_b}``.
    n_boot, seed, confidence, statistic
        As :func:`bootstrap_ci`.
    **kwargs
        Shared keywords (``time``, ``event``, ...).

    Returns
    -------
    PairedBootstrapResult
        ``difference = metric(a) - metric(b)``.

    References
    ----------
    Efron & Tibshirani 1993, doi:10.1007/978-1-4899-4541-9.
    """
    _check(n_boot, confidence)
    if set(a) != set(b):
        raise SurvageInputError("a and b name different arguments", column="b", expected=f"keys {sorted(a)}")
    rng = _rng(seed)
    est_a = _scalar(metric_fn(**kwargs, **a), statistic)
    est_b = _scalar(metric_fn(**kwargs, **b), statistic)
    fast = (metric_fn is harrell_c and set(kwargs) == {"time", "event"} and set(a) == {"risk"}
            and statistic is None)
    if fast:
        reps2 = _harrell_replicates(kwargs["time"], kwargs["event"], [a["risk"], b["risk"]], n_boot, rng)
    else:
        reps2 = _generic_replicates(metric_fn, kwargs, [a, b], n_boot, rng, statistic)
    diff = reps2[:, 0] - reps2[:, 1]
    ok = diff[np.isfinite(diff)]
    if ok.size < 2:
        raise SurvageInputError("fewer than two bootstrap replicates could be computed", column="event",
                                expected="more events / comparable pairs")
    lo, hi, se = _interval(ok, confidence)
    p = float(min(1.0, 2.0 * min(np.mean(ok <= 0), np.mean(ok >= 0))))
    return PairedBootstrapResult(est_a, est_b, est_a - est_b, lo, hi, se, p, confidence, n_boot,
                                 int(n_boot - ok.size), ok)
