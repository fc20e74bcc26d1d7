"""Calibration check of the opportunistic-CT simulator: AUROC targets, event rates, follow-up.

Usage: .venv/bin/python bench/simulator_calibration.py [n] [seeds...]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from survage.simulate import simulate_cohort
from survage.simulate.targets import APPROXIMATE_TARGETS, AUROC_TARGETS, five_year_death_auroc


def main(n: int = 9000, seeds: tuple[int, ...] = (0, 1, 2, 3, 4)) -> None:
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        df = simulate_cohort(n, seed=seed)
        dt = time.perf_counter() - t0
        aucs = {c: five_year_death_auroc(df, c, d) for c, (_, d) in {**AUROC_TARGETS, **APPROXIMATE_TARGETS}.items()}
        aucs["age"] = five_year_death_auroc(df, "age", 1)
        aucs["true_log_hazard"] = five_year_death_auroc(df, "true_log_hazard", 1)
        died = df["death_event"].to_numpy() == 1
        cv = (df["cvd_event"].to_numpy() == 1)
        rows.append(aucs)
        print(f"seed {seed} ({dt:.2f} s): " + " ".join(f"{k}={v:.3f}" for k, v in aucs.items()))
        print(f"   death {died.mean():.3f}  death|cvd {np.mean(died | cv):.3f}  "
              f"median fu {np.median(df['followup_days']) / 365.25:.2f} y  age {df['age'].mean():.1f}"
              f"±{df['age'].std():.1f}  BA-age sd {np.std(df['true_biological_age'] - df['age']):.1f}")
        ev = {c[:-6]: np.nanmean(df[c]) for c in df.columns if c.endswith("_event")}
        print("   event rates " + " ".join(f"{k}={v:.3f}" for k, v in ev.items()))
        prev = {c[:-8]: np.mean(df[c] < 0) for c in df.columns if c.endswith("_dx_days")}
        print("   prevalent " + " ".join(f"{k}={v:.3f}" for k, v in prev.items()))
    mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
    print("mean: " + " ".join(f"{k}={v:.3f}" for k, v in mean.items()))
    print("target: " + " ".join(f"{k}={v[0]:.2f}" for k, v in {**AUROC_TARGETS, **APPROXIMATE_TARGETS}.items()))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 9000, tuple(args[1:]) if len(args) > 1 else (0, 1, 2, 3, 4))
