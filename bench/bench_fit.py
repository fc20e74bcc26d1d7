"""Benchmark: wall time of a full fit, survage vs peers, on simulated Cox data.

Two comparisons per sample size n (p = 10 covariates, about 60 % events):

* linear Cox (Efron ties): ``SurvivalModel(linear=True)`` (full-batch L-BFGS, float64) vs
  lifelines ``CoxPHFitter`` (Newton-Raphson); coefficients are checked to agree.
* one-hidden-layer MLP (64 units), full-batch Adam, a fixed number of epochs (no early stopping):
  ``SurvivalModel`` vs pycox ``CoxPH`` (same net, one batch = the whole data) vs a plain torch loop
  with torchsurv's ``neg_partial_log_likelihood``.

Prints seconds and ratios (peer / survage; > 1 means survage is faster).

Usage: ``python bench/bench_fit.py [--sizes 10000 100000 1000000] [--epochs 50] [--threads N]``
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import torch


def simulate(n: int, p: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Covariates, true coefficients, times (years, rounded to days: ties) and events."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    beta = np.linspace(-0.5, 0.5, p)
    t = rng.exponential(10 * np.exp(-(x @ beta)))
    c = rng.uniform(0, 15, n)
    time_ = np.round(np.minimum(t, c) * 365.25) / 365.25 + 1 / 365.25
    return x, beta, time_, (t <= c).astype(float)


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench_linear(x: np.ndarray, t: np.ndarray, e: np.ndarray) -> dict[str, float]:
    from lifelines import CoxPHFitter

    from survage.models import SurvivalModel

    model = SurvivalModel(linear=True, weight_decay=0.0, validation_fraction=0.0, max_epochs=100)
    s_time, _ = timed(lambda: model.fit_arrays(x, t, e))
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])]).assign(t=t, e=e)
    l_time, cph = timed(lambda: CoxPHFitter().fit(df, "t", "e"))
    diff = float(np.max(np.abs(model.coefficients().to_numpy() - cph.params_.to_numpy())))
    return {"survage_linear_s": s_time, "lifelines_s": l_time, "max_coef_diff": diff}


def _mlp(p: int) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(p, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(64, 1, bias=False))


def bench_mlp(x: np.ndarray, t: np.ndarray, e: np.ndarray, epochs: int) -> dict[str, float]:
    from survage.models import SurvivalModel

    n, p = x.shape
    model = SurvivalModel(hidden=(64,), modality_dropout=0.0, validation_fraction=0.0, max_epochs=epochs, lr=1e-2)
    s_time, _ = timed(lambda: model.fit_arrays(x, t, e))
    out = {"survage_mlp_s": s_time}

    xt = torch.as_tensor((x - x.mean(0)) / x.std(0), dtype=torch.float32)
    tt, et = torch.as_tensor(t, dtype=torch.float32), torch.as_tensor(e, dtype=torch.float32)
    try:
        from torchsurv.loss.cox import neg_partial_log_likelihood

        def torchsurv_loop() -> None:
            torch.manual_seed(0)
            net = _mlp(p)
            opt = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=1e-4)
            for _ in range(epochs):
                opt.zero_grad()
                neg_partial_log_likelihood(net(xt), et.bool(), tt, ties_method="efron").backward()
                opt.step()
        out["torchsurv_s"] = timed(torchsurv_loop)[0]
    except ImportError:
        out["torchsurv_s"] = float("nan")
    try:
        import torchtuples as tt_
        from pycox.models import CoxPH

        def pycox_fit() -> None:
            torch.manual_seed(0)
            m = CoxPH(_mlp(p), tt_.optim.AdamW(lr=1e-2, decoupled_weight_decay=1e-4))
            m.fit(xt.numpy(), (t.astype("float32"), e.astype("float32")), batch_size=n, epochs=epochs, verbose=False)
        out["pycox_s"] = timed(pycox_fit)[0]
    except ImportError:
        out["pycox_s"] = float("nan")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-lifelines-above", type=int, default=200_000)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, epochs {args.epochs}")
    xw, _, tw, ew = simulate(500, seed=1)  # warm-up: imports and first-call costs are not timed
    bench_linear(xw, tw, ew)
    bench_mlp(xw, tw, ew, 2)
    for n in args.sizes:
        x, _, t, e = simulate(n)
        print(f"\nn = {n:,} ({int(e.sum()):,} events)")
        if n <= args.skip_lifelines_above:
            lin = bench_linear(x, t, e)
            print(f"  linear Cox: survage {lin['survage_linear_s']:.2f} s, lifelines {lin['lifelines_s']:.2f} s, "
                  f"ratio lifelines/survage {lin['lifelines_s'] / lin['survage_linear_s']:.2f}, "
                  f"max |coef diff| {lin['max_coef_diff']:.1e}")
        mlp = bench_mlp(x, t, e, args.epochs)
        s = mlp["survage_mlp_s"]
        print(f"  MLP {args.epochs} epochs: survage {s:.2f} s, torchsurv loop {mlp['torchsurv_s']:.2f} s "
              f"(ratio {mlp['torchsurv_s'] / s:.2f}), pycox CoxPH {mlp['pycox_s']:.2f} s (ratio {mlp['pycox_s'] / s:.2f})")


if __name__ == "__main__":
    main()
