"""Biological age against the simulator's known truth (simulated cohorts only).

A cohort simulated by :mod:`survage.simulate` (the generative model of ``docs/simulator.md``)
carries each person's ``true_biological_age`` as outcome data, never as a feature. On the test
rows this module compares the primary model's biological age, and chronological age, with that
truth: Pearson correlations with percentile bootstrap 95 % intervals (Efron & Tibshirani 1993,
An Introduction to the Bootstrap, doi:10.1007/978-1-4899-4541-9; the same resamples serve both
correlations, so their difference has a paired interval), and the mean and SD of the error
BA - true BA.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from survage.errors import SurvageInputError

#: the cohort column holding the simulator's true biological age
TRUTH_COLUMN = "true_biological_age"
#: the simulator, as the report names it
SIMULATOR = "survage.simulate (the generative model of docs/simulator.md)"


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of ``x`` and ``y`` (Pearson 1895, doi:10.1098/rspl.1895.0041).

    Returns NaN when either vector is constant.
    """
    xc, yc = x - x.mean(), y - y.mean()
    den = float(np.sqrt((xc @ xc) * (yc @ yc)))
    return float(xc @ yc / den) if den > 0 else float("nan")


def _est(point: float, reps: np.ndarray, level: float = 0.95) -> dict[str, float | None]:
    reps = reps[np.isfinite(reps)]
    if not np.isfinite(point):
        return {"estimate": None, "lower": None, "upper": None}
    if reps.size < 2:
        return {"estimate": float(point), "lower": None, "upper": None}
    a = (1 - level) / 2
    lo, hi = np.quantile(reps, [a, 1 - a])
    return {"estimate": float(point), "lower": float(lo), "upper": float(hi)}


def truth_comparison(ba: np.ndarray, ca: np.ndarray, truth: np.ndarray, *, n_boot: int,
                     seed: int) -> dict[str, Any]:
    """Correlations of BA and of CA with the true biological age, and the error BA - truth.

    Parameters
    ----------
    ba, ca, truth
        Biological, chronological and true biological age of the same people, ``(n,)``; rows
        where any of the three is missing are left out (``n`` says how many remain).
    n_boot
        Bootstrap resamples of the rows (percentile intervals; 0: no intervals).
    seed
        Seed of ``numpy.random.default_rng`` drawing the resamples.

    Returns
    -------
    dict
        ``{n, r_biological_age: est, r_chronological_age: est, r_difference: est,
        error_mean, error_sd, n_bootstrap}``; ``est`` is ``{estimate, lower, upper}``,
        ``r_difference`` is r(BA, truth) - r(CA, truth) on the same resamples, ``error_sd`` uses
        ``ddof=1``.

    Raises
    ------
    SurvageInputError
        Fewer than 3 rows with all three ages.
    """
    ba, ca, truth = (np.asarray(v, dtype=float) for v in (ba, ca, truth))
    ok = np.isfinite(ba) & np.isfinite(ca) & np.isfinite(truth)
    if ok.sum() < 3:
        raise SurvageInputError("too few rows with biological, chronological and true biological age",
                                column=TRUTH_COLUMN, rows=np.flatnonzero(~ok)[:10].tolist(),
                                expected="at least 3 rows with all three ages")
    ba, ca, truth = ba[ok], ca[ok], truth[ok]
    n = ba.size
    r_ba, r_ca = pearson_r(ba, truth), pearson_r(ca, truth)
    rng = np.random.default_rng(seed)
    reps = np.empty((n_boot, 2))
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        reps[b] = pearson_r(ba[idx], truth[idx]), pearson_r(ca[idx], truth[idx])
    err = ba - truth
    return {
        "n": int(n),
        "r_biological_age": _est(r_ba, reps[:, 0]),
        "r_chronological_age": _est(r_ca, reps[:, 1]),
        "r_difference": _est(r_ba - r_ca, reps[:, 0] - reps[:, 1]),
        "error_mean": float(err.mean()),
        "error_sd": float(err.std(ddof=1)),
        "n_bootstrap": int(n_boot),
    }


def truth_section(test: Any, ba: np.ndarray, *, n_boot: int, seed: int) -> dict[str, Any] | None:
    """The ``bioage.truth`` section of ``metrics.json`` for the test cohort ``test``.

    ``ba`` is the primary model's biological age of every row of ``test``. Returns None when the
    cohort has no ``true_biological_age`` column (real data).
    """
    if TRUTH_COLUMN not in test.frame.columns:
        return None
    truth = test.frame[TRUTH_COLUMN].to_numpy(dtype=float)
    out = truth_comparison(ba, test.ages(), truth, n_boot=n_boot, seed=seed)
    out.update({"column": TRUTH_COLUMN, "simulator": SIMULATOR, "population": "test rows", "seed": int(seed)})
    return out
