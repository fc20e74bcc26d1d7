"""1,000 bootstrap replicates of Harrell's C at n = 1e5 (target < 60 s on 2 cores).

Run: .venv/bin/python bench/bench_bootstrap.py
"""

from __future__ import annotations

import time

import numpy as np

from survage.metrics import bootstrap_ci, harrell_c


def main() -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    risk = rng.normal(size=n)
    t = rng.exponential(np.exp(-risk))
    c = rng.exponential(2.0, size=n)
    time_, event = np.minimum(t, c), t <= c
    bootstrap_ci(harrell_c, time=time_[:1000], event=event[:1000], risk=risk[:1000], n_boot=2, seed=0)  # compile
    t0 = time.perf_counter()
    res = bootstrap_ci(harrell_c, time=time_, event=event, risk=risk, n_boot=1000, seed=1)
    s = time.perf_counter() - t0
    print(f"n={n} n_boot=1000: {s:.1f} s ({'OK' if s < 60 else 'over'} vs 60 s target); "
          f"C={res.estimate:.4f} 95% CI {res.lower:.4f}-{res.upper:.4f} SE {res.se:.5f}")


if __name__ == "__main__":
    main()
