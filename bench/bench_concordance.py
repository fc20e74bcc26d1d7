"""Harrell's C: survage vs lifelines, scikit-survival, pycox and torchsurv at n = 1e3..1e6.

Run: .venv/bin/python bench/bench_concordance.py   (prints a table of seconds and ratios).
A peer is skipped at sizes where its measured scaling predicts more than 60 s (or, for the
pair-matrix implementations, more than ~4 GB of memory); the reason is printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from survage.metrics import harrell_c

LIMIT_S = 60.0


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    t = rng.exponential(np.exp(-risk))
    c = rng.exponential(2.0, size=n)
    return np.minimum(t, c), t <= c, risk + rng.normal(scale=0.5, size=n)


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, float(getattr(out, "estimate", out))


def peers() -> dict[str, tuple[Callable[[np.ndarray, np.ndarray, np.ndarray], float], int]]:
    """name -> (function, complexity exponent used to extrapolate the time)."""
    out: dict[str, tuple[Callable[[np.ndarray, np.ndarray, np.ndarray], float], int]] = {}
    from lifelines.utils import concordance_index

    out["lifelines"] = (lambda t, e, r: concordance_index(t, -r, e), 1)
    from sksurv.metrics import concordance_index_censored

    out["sksurv"] = (lambda t, e, r: concordance_index_censored(e, t, r)[0], 2)
    try:
        import pandas as pd
        from pycox.evaluation import EvalSurv

        def pycox_c(t: np.ndarray, e: np.ndarray, r: np.ndarray) -> float:
            # concordance_td needs survival curves: one column per grid time; with a PH-type curve
            # S(t|x) = exp(-t exp(r)) on 2 grid times the antolini C is Harrell-like for a static score
            grid = np.array([0.0, np.quantile(t, 0.5)])
            surv = pd.DataFrame(np.exp(-np.outer(grid, np.exp(r))), index=grid)
            return EvalSurv(surv, t, e.astype(int), censor_surv="km").concordance_td("antolini")

        out["pycox"] = (pycox_c, 2)
    except ImportError as exc:  # pragma: no cover
        print(f"pycox unavailable: {exc}")
    try:
        import torch
        from torchsurv.metrics.cindex import ConcordanceIndex

        def torchsurv_c(t: np.ndarray, e: np.ndarray, r: np.ndarray) -> float:
            ci = ConcordanceIndex()
            return float(ci(torch.as_tensor(r), torch.as_tensor(e), torch.as_tensor(t)))

        out["torchsurv"] = (torchsurv_c, 2)
    except ImportError as exc:  # pragma: no cover
        print(f"torchsurv unavailable: {exc}")
    return out


def main() -> None:
    t, e, r = _data(1000)
    harrell_c(t, e, r)  # compile the numba kernel (not timed)
    sizes = [10**3, 10**4, 10**5, 10**6]
    peer_fns = peers()
    last: dict[str, tuple[int, float]] = {}
    print(f"{'n':>9} {'survage s':>10} " + " ".join(f"{p + ' s':>13} {'ratio':>7}" for p in peer_fns))
    for n in sizes:
        t, e, r = _data(n)
        ours_s, ours_c = _timed(lambda: harrell_c(t, e, r))
        cells = []
        for name, (fn, power) in peer_fns.items():
            if name in last:
                n0, s0 = last[name]
                predicted = s0 * (n / n0) ** power
                mem_gb = 8 * n * n / 1e9 if power == 2 and name in ("torchsurv", "pycox") else 0.0
                if predicted > LIMIT_S or mem_gb > 4:
                    why = f"predicted {predicted:.0f} s" if predicted > LIMIT_S else f"~{mem_gb:.0f} GB pair matrix"
                    print(f"  skip {name} at n={n}: {why}")
                    cells.append(f"{'skipped':>13} {'-':>7}")
                    continue
            try:
                s, c = _timed(lambda: fn(t, e, r))
            except (MemoryError, RuntimeError) as exc:
                print(f"  {name} failed at n={n}: {type(exc).__name__}")
                cells.append(f"{'failed':>13} {'-':>7}")
                last[name] = (n, float("inf"))
                continue
            last[name] = (n, s)
            if name in ("lifelines", "sksurv") and abs(c - ours_c) > 1e-9:
                print(f"  note: {name} C={c:.12f} vs survage {ours_c:.12f}")
            cells.append(f"{s:13.4f} {s / ours_s:7.1f}")
        print(f"{n:>9} {ours_s:10.4f} " + " ".join(cells))
    print("ratio = peer seconds / survage seconds (higher = survage faster); numba compile excluded")


if __name__ == "__main__":
    main()
