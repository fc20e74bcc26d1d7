"""Speed of survage's Efron Cox loss (forward + backward) against peers.

Data: n scores ~ N(0, 1); follow-up in whole days over ten years (so many tied times, as in
real registries), converted to years; 30 % events. For each n the script times one forward +
backward pass of

* ``survage.losses.cox_nll(ties="efron")`` and ``ties="breslow"``;
* pycox ``cox_ph_loss`` (no tie handling: each tied event sees a different risk set);
* torchsurv ``neg_partial_log_likelihood(ties_method="efron")`` (skipped above ``--torchsurv-max``);

and, at n <= ``--lifelines-max``, the fit time of a 5-covariate linear Cox model with lifelines
``CoxPHFitter`` (Efron, Newton-Raphson) next to survage's loss minimised by LBFGS on the same
data. Each time is the minimum over ``--repeats`` interleaved runs. It also prints the loss
values (sums: torchsurv's "mean" divides by a different count) so agreement is visible.

Usage::

    .venv/bin/python bench/bench_cox_loss.py [--sizes 10000 100000 1000000] [--threads 1]
        [--repeats 5] [--dtype float32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch


def _timed(fn: Callable[[], object], repeats: int, budget_s: float = 60.0) -> float:
    """Minimum wall time of ``fn`` over ``repeats`` runs (fewer if one run exceeds the budget)."""
    best = float("inf")
    spent = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        best = min(best, took)
        spent += took
        if spent > budget_s:
            break
    return best


def _data(n: int, dtype: torch.dtype, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    beta = np.array([0.5, -0.3, 0.2, 0.0, 0.1])
    days = np.minimum(rng.exponential(3650 / np.exp(x @ beta)), rng.uniform(0, 3650, n))
    days = np.ceil(days)  # whole days: ties
    event = rng.uniform(size=n) < 0.3
    time_years = torch.tensor(days / 365.25, dtype=dtype)
    eta = torch.tensor(rng.normal(size=n), dtype=dtype)
    return eta, time_years, torch.tensor(event), x


def _bench_losses(n: int, args: argparse.Namespace) -> dict[str, float]:
    from pycox.models.loss import cox_ph_loss
    from torchsurv.loss.cox import neg_partial_log_likelihood

    from survage.losses import cox_nll

    dtype = getattr(torch, args.dtype)
    eta0, t, e, _ = _data(n, dtype, seed=n)
    eta = eta0.clone().requires_grad_(True)
    e_float = e.to(dtype)

    def step(loss_fn: Callable[[], torch.Tensor]) -> Callable[[], float]:
        def run() -> float:
            eta.grad = None
            loss = loss_fn()
            loss.backward()
            return float(loss)
        return run

    runs: dict[str, Callable[[], float]] = {
        "survage_efron": step(lambda: cox_nll(eta, t, e, ties="efron", reduction="sum")),
        "survage_breslow": step(lambda: cox_nll(eta, t, e, ties="breslow", reduction="sum")),
        "pycox_cox_ph_loss": step(lambda: cox_ph_loss(eta, t, e_float) * e_float.sum()),
    }
    if n <= args.torchsurv_max:
        runs["torchsurv_efron"] = step(
            lambda: neg_partial_log_likelihood(eta, e, t, ties_method="efron", reduction="sum")
        )
    out: dict[str, float] = {"n": float(n)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchsurv warns about ties on every call
        values = {name: fn() for name, fn in runs.items()}  # warm-up, and the values
        best = {name: float("inf") for name in runs}
        for _ in range(args.repeats):  # interleaved, so load changes hit every method alike
            for name, fn in runs.items():
                best[name] = min(best[name], _timed(fn, 1))
    for name in runs:
        out[f"{name}_s"] = best[name]
        out[f"{name}_value"] = values[name]
    return out


def _bench_fit(n: int, args: argparse.Namespace) -> dict[str, float]:
    import pandas as pd
    from lifelines import CoxPHFitter

    from survage.losses import cox_nll

    _, t, e, x = _data(n, torch.float64, seed=n)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    df["time"] = t.numpy()
    df["event"] = e.numpy().astype(int)

    def lifelines_fit() -> np.ndarray:
        return CoxPHFitter().fit(df, "time", "event").params_.to_numpy()

    xt = torch.tensor(x, dtype=torch.float64)

    def survage_fit() -> np.ndarray:
        beta = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([beta], max_iter=100, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = cox_nll(xt @ beta, t, e, ties="efron")
            loss.backward()
            return loss

        opt.step(closure)
        return beta.detach().numpy()

    b_ll, b_sv = lifelines_fit(), survage_fit()
    return {
        "n": float(n),
        "lifelines_fit_s": _timed(lifelines_fit, max(1, args.repeats // 2)),
        "survage_lbfgs_fit_s": _timed(survage_fit, max(1, args.repeats // 2)),
        "max_coef_diff": float(np.max(np.abs(b_ll - b_sv))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: steadier ratios)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--torchsurv-max", type=int, default=1_000_000)
    parser.add_argument("--lifelines-max", type=int, default=100_000)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.dtype}, min of {args.repeats} runs")
    print(f"{'n':>9} {'survage efron':>14} {'breslow':>9} {'pycox':>9} {'torchsurv':>10} "
          f"{'ours/pycox':>11} {'ours/torchsurv':>15}   loss sums (ours, torchsurv)")
    rows = []
    for n in args.sizes:
        r = _bench_losses(n, args)
        rows.append(r)
        ts = r.get("torchsurv_efron_s", float("nan"))
        print(f"{n:>9} {r['survage_efron_s']:>13.4f}s {r['survage_breslow_s']:>8.4f}s "
              f"{r['pycox_cox_ph_loss_s']:>8.4f}s {ts:>9.4f}s "
              f"{r['survage_efron_s'] / r['pycox_cox_ph_loss_s']:>11.2f} {r['survage_efron_s'] / ts:>15.3f}"
              f"   {r['survage_efron_value']:.6g}, {r.get('torchsurv_efron_value', float('nan')):.6g}")
    fits = []
    fit_sizes = [n for n in args.sizes if n <= args.lifelines_max]
    if fit_sizes:
        print(f"\n{'n':>9} {'lifelines fit':>14} {'survage LBFGS fit':>18} {'ratio':>7} {'max |coef diff|':>16}")
    for n in fit_sizes:
        f = _bench_fit(n, args)
        fits.append(f)
        print(f"{n:>9} {f['lifelines_fit_s']:>13.3f}s {f['survage_lbfgs_fit_s']:>17.3f}s "
              f"{f['survage_lbfgs_fit_s'] / f['lifelines_fit_s']:>7.3f} {f['max_coef_diff']:>16.2e}")
    if args.json:
        from pathlib import Path

        Path(args.json).write_text(json.dumps({"losses": rows, "fits": fits}, indent=2))


if __name__ == "__main__":
    main()
