"""Table 1: characteristics of the analysed people by outcome status (no identifiers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from survage.data.cohort import Cohort


def _cont(x: np.ndarray) -> str:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return "\u2013"
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{_g(med)} [{_g(q1)}, {_g(q3)}]"


def _g(v: float) -> str:
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 0.1 else f"{v:.3g}"


def _binary(x: np.ndarray) -> str:
    obs = x[np.isfinite(x)]
    if obs.size == 0:
        return "\u2013"
    k = int((obs == 1).sum())
    return f"{k:,} ({100 * k / obs.size:.1f}%)"


def table1(cohort: Cohort, outcome: str, columns: Sequence[str], *, population: str) -> dict[str, Any]:
    """Table 1 of ``cohort`` by status of ``outcome`` at the end of follow-up.

    Continuous variables: median [IQR]; binary (0/1) variables: n (%) of 1; the number of people
    with a missing value is appended when any is missing. Age: mean (SD); follow-up: median [IQR].

    Returns
    -------
    dict
        ``{"outcome", "population", "columns": [variable, alive (n), died (n)], "rows": [...]}``.
    """
    at = cohort.at_risk(outcome)
    sub = cohort.subset(np.flatnonzero(at))
    ev = sub.event(outcome) == 1
    groups = [~ev, ev]
    rows: list[list[str]] = []
    age = sub.ages()
    rows.append(["Age, years, mean (SD)", *[f"{age[g].mean():.1f} ({age[g].std(ddof=1):.1f})" for g in groups]])
    if sub.sex:
        s = sub.frame[sub.sex].to_numpy(dtype=float)
        rows.append(["Male sex, n (%)", *[_binary(s[g]) for g in groups]])
    t = sub.time(outcome)
    rows.append(["Follow-up, years, median [IQR]", *[_cont(t[g]) for g in groups]])
    for c in columns:
        if c in (sub.age, sub.sex):
            continue
        x = sub.frame[c].to_numpy(dtype=float)
        obs = x[np.isfinite(x)]
        is_bin = obs.size > 0 and np.isin(obs, [0.0, 1.0]).all()
        cells = [(_binary if is_bin else _cont)(x[g]) for g in groups]
        miss = [int((~np.isfinite(x[g])).sum()) for g in groups]
        if any(miss):
            cells = [f"{cell} (missing {m:,})" if m else cell for cell, m in zip(cells, miss)]
        rows.append([f"{c}{', n (%)' if is_bin else ', median [IQR]'}", *cells])
    return {
        "outcome": outcome,
        "population": population,
        "columns": ["Variable", f"Alive / censored (n={int((~ev).sum()):,})", f"Died (n={int(ev.sum()):,})"]
        if outcome.startswith("death") else
        ["Variable", f"No event (n={int((~ev).sum()):,})", f"Event (n={int(ev.sum()):,})"],
        "rows": rows,
    }
