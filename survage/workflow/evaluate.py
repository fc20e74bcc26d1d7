"""Test-set evaluation of several models with one shared (paired) bootstrap.

Every model is scored on the same bootstrap resamples of the test rows, so differences between
models come with paired percentile intervals (Efron & Tibshirani 1993, An Introduction to the
Bootstrap, doi:10.1007/978-1-4899-4541-9). Metrics: Harrell's C, Uno's C truncated at the last
horizon, cumulative/dynamic AUC per horizon and the integrated Brier score (see
``survage.metrics``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from survage.report.tables import horizon_label


@dataclass(frozen=True)
class Predictions:
    """One model's test-set predictions for one outcome.

    Attributes
    ----------
    risk
        Risk score per person (higher = worse), ``(n,)``.
    surv
        Predicted survival ``(n, len(times))`` at :attr:`EvalGrid.times`.
    """

    risk: np.ndarray
    surv: np.ndarray


@dataclass(frozen=True)
class EvalGrid:
    """Times at which survival is predicted: the horizons and the IBS grid (both in years)."""

    horizons: np.ndarray
    ibs_times: np.ndarray

    @property
    def times(self) -> np.ndarray:
        """Sorted union of horizons and IBS times."""
        return np.unique(np.r_[self.horizons, self.ibs_times])

    def columns(self, which: np.ndarray) -> np.ndarray:
        """Column positions of ``which`` in :attr:`times`."""
        return np.searchsorted(self.times, which)


def eval_grid(horizons: Sequence[float], test_time: np.ndarray, n_ibs: int = 20) -> EvalGrid:
    """Horizons inside the test follow-up and an IBS grid from 0.5 years to the last horizon."""
    h = np.asarray([x for x in horizons if x < np.nanmax(test_time)], dtype=float)
    if h.size == 0:
        from survage.errors import SurvageInputError

        raise SurvageInputError("no horizon lies within the test follow-up", column="evaluation.horizons",
                                expected=f"horizons below {np.nanmax(test_time):.2f} years")
    start = min(0.5, h[0] / 2)
    return EvalGrid(h, np.linspace(start, h[-1], n_ibs))


def _point(train: tuple[np.ndarray, np.ndarray], t: np.ndarray, e: np.ndarray, p: Predictions,
           grid: EvalGrid) -> tuple[np.ndarray, np.ndarray]:
    """All metrics of one model on one (re)sample: [harrell, uno, auc_h..., ibs], and which of them
    could not be computed (too few events: no comparable pairs, no events before tau, a horizon
    without cases). A metric that cannot be computed is NaN with its flag set."""
    from survage.errors import SurvageInputError
    from survage.metrics.auc import time_dependent_auc
    from survage.metrics.brier import integrated_brier_score
    from survage.metrics.concordance import harrell_c, uno_c

    tau = float(grid.horizons[-1])
    k = grid.horizons.size
    # AUC: the risk of the event by each horizon, 1 - S(h), where survival is predicted
    risk_h = 1.0 - p.surv[:, grid.columns(grid.horizons)]

    def _try(fn: Any) -> float:
        try:
            return float(fn())
        except SurvageInputError:
            return float("nan")

    def auc_per_horizon() -> np.ndarray:
        return np.array([_try(lambda j=j: time_dependent_auc(train[0], train[1], t, e, risk_h[:, [j]],
                                                             grid.horizons[[j]]).auc[0]) for j in range(k)])

    hc = _try(lambda: harrell_c(t, e, p.risk).estimate)
    uc = _try(lambda: uno_c(train[0], train[1], t, e, p.risk, tau).estimate)
    try:
        auc = np.asarray(time_dependent_auc(train[0], train[1], t, e, risk_h, grid.horizons).auc, float)
    except SurvageInputError:
        auc = auc_per_horizon()
    ibs = _try(lambda: integrated_brier_score(train[0], train[1], t, e, p.surv[:, grid.columns(grid.ibs_times)],
                                              grid.ibs_times).estimate)
    vals = np.r_[hc, uc, auc, ibs]
    return vals, ~np.isfinite(vals)


def metric_names(grid: EvalGrid) -> list[str]:
    """Names of the columns of :func:`_point`."""
    return ["harrell_c", "uno_c", *[f"td_auc@{horizon_label(h)}" for h in grid.horizons], "ibs"]


def bootstrap_metrics(
    train: tuple[np.ndarray, np.ndarray], time: np.ndarray, event: np.ndarray,
    preds: Mapping[str, Predictions], grid: EvalGrid, *, n_boot: int, seed: int,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Point estimates and bootstrap replicates of every metric for every model.

    The same resamples (drawn with ``numpy.random.default_rng(seed)``) serve every model.
    A resample on which a metric that is estimable on the test rows cannot be computed (no events
    before a horizon) is dropped for all models. A metric that cannot be computed on the test rows
    themselves (too few events) is NaN in ``point`` and in every replicate; :func:`metrics_section`
    reports it as not estimable.

    Returns
    -------
    point, reps
        ``point[name]``: ``(n_metrics,)``; ``reps[name]``: ``(n_valid_boot, n_metrics)``.
    """
    point = {k: _point(train, time, event, p, grid)[0] for k, p in preds.items()}
    estimable = {k: np.isfinite(v) for k, v in point.items()}
    rng = np.random.default_rng(seed)
    n = time.shape[0]
    reps: dict[str, list[np.ndarray]] = {k: [] for k in preds}
    it: Any = range(n_boot)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="bootstrap", unit="resample", leave=False)
    for _ in it:
        idx = rng.integers(0, n, n)
        vals = {}
        for k, p in preds.items():
            v, failed = _point(train, time[idx], event[idx], Predictions(p.risk[idx], p.surv[idx]), grid)
            if (failed & estimable[k]).any():
                break
            vals[k] = v
        else:
            for k, v in vals.items():
                reps[k].append(v)
    width = len(metric_names(grid))
    return point, {k: np.array(v).reshape(-1, width) for k, v in reps.items()}


def not_estimable(events: int) -> str:
    """The words ``metrics.json`` and the report use for a metric too few events allow."""
    return f"not estimable ({int(events)} event{'' if int(events) == 1 else 's'})"


def ci(est: float, reps: np.ndarray, level: float = 0.95, events: int | None = None) -> dict[str, Any]:
    """``{"estimate", "lower", "upper"}`` with percentile bootstrap limits (None without replicates).

    A non-finite ``est`` (the metric could not be computed) gives ``None`` limits and estimate
    and, with ``events`` given, ``"not_estimable": "not estimable (<events> events)"``.
    """
    if not np.isfinite(est):
        out: dict[str, Any] = {"estimate": None, "lower": None, "upper": None}
        if events is not None:
            out["not_estimable"] = not_estimable(events)
        return out
    reps = reps[np.isfinite(reps)]
    if reps.size < 2:
        return {"estimate": float(est), "lower": None, "upper": None}
    a = (1 - level) / 2
    lo, hi = np.quantile(reps, [a, 1 - a])
    return {"estimate": float(est), "lower": float(lo), "upper": float(hi)}


def metrics_section(point: np.ndarray, reps: np.ndarray, grid: EvalGrid, n: int, events: int) -> dict[str, Any]:
    """One model's ``metrics[outcome]`` entry of ``metrics.json``."""
    names = metric_names(grid)
    col = {m: i for i, m in enumerate(names)}

    def est(m: str) -> dict[str, Any]:
        return ci(point[col[m]], reps[:, col[m]], events=events)

    out: dict[str, Any] = {
        "n": int(n), "events": int(events),
        "harrell_c": est("harrell_c"),
        "uno_c": est("uno_c"),
        "uno_tau_years": float(grid.horizons[-1]),
        "td_auc": {horizon_label(h): est(f"td_auc@{horizon_label(h)}") for h in grid.horizons},
        "ibs": est("ibs"),
        "ibs_range_years": [float(grid.ibs_times[0]), float(grid.ibs_times[-1])],
        "n_bootstrap": int(reps.shape[0]),
    }
    return out


def paired_differences(point: Mapping[str, np.ndarray], reps: Mapping[str, np.ndarray], grid: EvalGrid,
                       reference: str, outcome: str,
                       metrics: Sequence[str] = ("harrell_c", "uno_c", "ibs")) -> list[dict[str, Any]]:
    """Model minus reference for each metric, paired percentile CI and two-sided bootstrap p.

    The p-value is ``2 min(P*(d <= 0), P*(d >= 0))`` over the paired replicates ``d``
    (Efron & Tibshirani 1993, ch. 15-16); with B replicates it cannot resolve values below
    ``p_floor = 2 / B``, and a p-value of 0 means ``p < p_floor``.
    """
    col = {m: i for i, m in enumerate(metric_names(grid))}
    out = []
    for name in point:
        if name == reference:
            continue
        for m in metrics:
            d_point = float(point[name][col[m]] - point[reference][col[m]])
            d = reps[name][:, col[m]] - reps[reference][:, col[m]]
            d = d[np.isfinite(d)]
            p = (float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
                 if d.size and np.isfinite(d_point) else None)
            out.append({"outcome": outcome, "model": name, "reference": reference, "metric": m,
                        "difference": ci(d_point, d), "p_value": p,
                        "p_floor": 2.0 / d.size if d.size else None})
    return out
