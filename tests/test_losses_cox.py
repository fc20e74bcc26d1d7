"""survage.losses.cox_nll against R survival::coxph on lifelines' rossi data.

Reference numbers: tests/reference/coxph_rossi.json, written by tests/reference/coxph_rossi.R
(R 4.2.2, survival 3.5.3); each entry records its exact R call. rossi.csv is
lifelines.datasets.load_rossi() exported unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from survage.errors import SurvageInputError
from survage.losses import cox_nll

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "coxph_rossi.json").read_text())
FITS = [k for k in REF if k != "source"]


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "rossi.csv")


def _inputs(rossi: pd.DataFrame, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
    spec = REF[name]
    x = torch.tensor(rossi[spec["covariates"]].to_numpy(), dtype=torch.float64)
    time = torch.tensor(rossi["week"].to_numpy(), dtype=torch.float64)
    event = torch.tensor(rossi["arrest"].to_numpy())
    kw: dict = {"ties": spec["ties"]}
    if spec["strata"]:
        kw["strata"] = torch.tensor(rossi["race"].to_numpy())
    if spec["weights"]:
        kw["weights"] = torch.tensor(1.0 + rossi["prio"].to_numpy() % 3)
    return x, time, event, kw


@pytest.mark.parametrize("name", FITS)
def test_sum_equals_minus_r_loglik(rossi: pd.DataFrame, name: str) -> None:
    # R: the call in REF[name]["call"]; loglik = fit$loglik[2] at coef(fit); the half-coef value
    # is coxph(..., init = 0.5 * coef(fit), iter.max = 0)$loglik[1].
    x, time, event, kw = _inputs(rossi, name)
    beta = torch.tensor(REF[name]["coef"], dtype=torch.float64)
    loss = cox_nll(x @ beta, time, event, reduction="sum", **kw)
    assert abs(loss.item() + REF[name]["loglik"]) < 1e-6
    half = cox_nll(x @ (0.5 * beta), time, event, reduction="sum", **kw)
    assert abs(half.item() + REF[name]["loglik_at_half_coef"]) < 1e-6
    zero = cox_nll(torch.zeros(len(rossi), dtype=torch.float64), time, event, reduction="sum", **kw)
    assert abs(zero.item() + REF[name]["loglik_null"]) < 1e-6


def test_methods_md_quoted_values(rossi: pd.DataFrame) -> None:
    # /work/shared/methods.md: coxph(..., ties="efron") loglik -658.7476594461, "breslow" -659.1206056773.
    for name, quoted in (("efron", -658.7476594461), ("breslow", -659.1206056773)):
        x, time, event, kw = _inputs(rossi, name)
        beta = torch.tensor(REF[name]["coef"], dtype=torch.float64)
        assert cox_nll(x @ beta, time, event, reduction="sum", **kw).item() == pytest.approx(-quoted, abs=1e-9)


@pytest.mark.parametrize("name", FITS)
def test_gradient_zero_at_r_mle(rossi: pd.DataFrame, name: str) -> None:
    x, time, event, kw = _inputs(rossi, name)
    beta = torch.tensor(REF[name]["coef"], dtype=torch.float64, requires_grad=True)
    cox_nll(x @ beta, time, event, reduction="sum", **kw).backward()
    assert beta.grad is not None
    assert beta.grad.abs().max().item() < 1e-4


@pytest.mark.parametrize("name", FITS)
def test_lbfgs_recovers_r_coefficients(rossi: pd.DataFrame, name: str) -> None:
    x, time, event, kw = _inputs(rossi, name)
    beta = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([beta], lr=1.0, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = cox_nll(x @ beta, time, event, reduction="mean", **kw)
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(beta.detach().numpy(), REF[name]["coef"], atol=1e-3)


def test_reductions_and_shapes(rossi: pd.DataFrame) -> None:
    x, time, event, kw = _inputs(rossi, "strata_weights_efron")
    beta = torch.tensor(REF["strata_weights_efron"]["coef"], dtype=torch.float64)
    eta = x @ beta
    total = cox_nll(eta, time, event, reduction="sum", **kw)
    per = cox_nll(eta, time, event, reduction="none", **kw)
    assert per.shape == (len(rossi),)
    assert per.sum().item() == pytest.approx(total.item(), abs=1e-9)
    assert torch.all(per[event == 0] == 0)
    w = kw["weights"]
    mean = cox_nll(eta, time, event, reduction="mean", **kw)
    assert mean.item() == pytest.approx(total.item() / w[event == 1].sum().item(), rel=1e-12)
    unweighted = cox_nll(eta, time, event, ties="efron", reduction="mean")
    assert unweighted.item() == pytest.approx(
        cox_nll(eta, time, event, ties="efron", reduction="sum").item() / REF["efron"]["nevent"], rel=1e-12
    )
    # (n, 1) inputs and bool events give the same value.
    col = cox_nll(eta[:, None], time[:, None], event.bool()[:, None], reduction="sum", **kw)
    assert col.item() == pytest.approx(total.item(), abs=1e-12)


def test_permutation_invariant(rossi: pd.DataFrame) -> None:
    x, time, event, kw = _inputs(rossi, "strata_weights_efron")
    eta = x @ torch.tensor(REF["strata_weights_efron"]["coef"], dtype=torch.float64)
    perm = torch.from_numpy(np.random.default_rng(3).permutation(len(rossi)))
    kw_p = {k: (v[perm] if isinstance(v, torch.Tensor) else v) for k, v in kw.items()}
    a = cox_nll(eta, time, event, reduction="none", **kw)
    b = cox_nll(eta[perm], time[perm], event[perm], reduction="none", **kw_p)
    torch.testing.assert_close(a[perm], b, rtol=0, atol=1e-12)


def _random(n: int, seed: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    eta = torch.randn(n, generator=g, dtype=dtype)
    time = torch.randint(0, max(n // 4, 2), (n,), generator=g).to(dtype)  # many ties
    event = torch.rand(n, generator=g) < 0.6
    return eta, time, event


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_strata_equal_sum_of_separate_fits(ties: str) -> None:
    # Stratified likelihood = sum of per-stratum likelihoods. The unbalanced layout (one large
    # stratum, many of size 1-3) takes the one-stratum-at-a-time path, the balanced one the
    # padded path; both must agree with the separate sums.
    eta, time, event = _random(400, 1)
    g = torch.Generator().manual_seed(2)
    w = 0.5 + torch.rand(400, generator=g, dtype=torch.float64)
    balanced = torch.randint(0, 3, (400,), generator=g)
    unbalanced = torch.where(torch.arange(400) < 250, torch.tensor(-1), torch.arange(400) // 2)
    for strata in (balanced, unbalanced):
        joint = cox_nll(eta, time, event, ties=ties, strata=strata, weights=w, reduction="sum")
        separate = sum(
            cox_nll(eta[strata == s], time[strata == s], event[strata == s], ties=ties, weights=w[strata == s],
                    reduction="sum")
            for s in torch.unique(strata)
        )
        assert joint.item() == pytest.approx(float(separate), abs=1e-9)


def test_efron_equals_breslow_without_ties() -> None:
    g = torch.Generator().manual_seed(4)
    eta = torch.randn(300, generator=g, dtype=torch.float64)
    time = torch.rand(300, generator=g, dtype=torch.float64)
    event = torch.rand(300, generator=g) < 0.5
    e = cox_nll(eta, time, event, ties="efron", reduction="sum")
    b = cox_nll(eta, time, event, ties="breslow", reduction="sum")
    assert e.item() == pytest.approx(b.item(), abs=1e-12)


def test_gradcheck_efron_weights_strata() -> None:
    eta, time, event = _random(40, 5)
    eta.requires_grad_(True)
    g = torch.Generator().manual_seed(6)
    w = 0.5 + torch.rand(40, generator=g, dtype=torch.float64)
    strata = torch.randint(0, 2, (40,), generator=g)
    for ties in ("efron", "breslow"):
        assert torch.autograd.gradcheck(
            lambda e: cox_nll(e, time, event, ties=ties, strata=strata, weights=w, reduction="sum"), (eta,)
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_large_scores_stable(dtype: torch.dtype) -> None:
    # Scores of magnitude 1e3: exp() would overflow; the loss and its gradient stay finite,
    # and adding a constant to every score (which leaves the likelihood unchanged) changes nothing.
    eta, time, event = _random(2000, 7, dtype)
    big = (eta * 1000.0).requires_grad_(True)
    for ties in ("efron", "breslow"):
        loss = cox_nll(big, time, event, ties=ties)
        (grad,) = torch.autograd.grad(loss, big)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()
        shifted = cox_nll(eta + 1000.0, time, event, ties=ties)
        base = cox_nll(eta, time, event, ties=ties)
        tol = 1e-4 if dtype == torch.float32 else 1e-10
        assert shifted.item() == pytest.approx(base.item(), rel=tol)
        shifted_neg = cox_nll(eta - 1000.0, time, event, ties=ties)
        assert shifted_neg.item() == pytest.approx(base.item(), rel=tol)


def test_no_events() -> None:
    eta = torch.randn(10, dtype=torch.float64, requires_grad=True)
    loss = cox_nll(eta, torch.arange(10.0), torch.zeros(10))
    loss.backward()
    assert loss.item() == 0.0
    assert eta.grad is not None and torch.all(eta.grad == 0)


def test_bad_input_raises() -> None:
    eta = torch.zeros(5)
    time = torch.arange(5.0)
    event = torch.ones(5)
    with pytest.raises(SurvageInputError, match="event"):
        cox_nll(eta, time, torch.tensor([0, 1, 2, 1, 0]))
    with pytest.raises(SurvageInputError, match="time"):
        cox_nll(eta, time[:4], event)
    with pytest.raises(SurvageInputError, match="weights"):
        cox_nll(eta, time, event, weights=torch.tensor([1.0, 1.0, -1.0, 1.0, 1.0]))
    with pytest.raises(SurvageInputError, match="log_hazard"):
        cox_nll(torch.tensor([0.0, float("nan"), 0.0, 0.0, 0.0]), time, event)
    with pytest.raises(SurvageInputError, match="ties"):
        cox_nll(eta, time, event, ties="exact")  # type: ignore[arg-type]
    with pytest.raises(SurvageInputError, match="reduction"):
        cox_nll(eta, time, event, reduction="avg")  # type: ignore[arg-type]
    with pytest.raises(SurvageInputError, match="shape"):
        cox_nll(torch.zeros(5, 2), time, event)


def _naive_cox(eta: torch.Tensor, time: torch.Tensor, event: torch.Tensor, ties: str,
               strata: torch.Tensor | None, w: torch.Tensor | None) -> torch.Tensor:
    """Per-sample terms straight from the formulas in methods.md (loop over event times),
    R's weighted Efron (mean event weight per log term), plain autograd."""
    n = eta.shape[0]
    w = torch.ones(n, dtype=eta.dtype) if w is None else w
    strata = torch.zeros(n, dtype=torch.long) if strata is None else strata
    out = [torch.zeros((), dtype=eta.dtype) for _ in range(n)]
    for s in torch.unique(strata):
        for t in torch.unique(time[(strata == s) & event]):
            dead = torch.nonzero((strata == s) & (time == t) & event).reshape(-1)
            risk = (strata == s) & (time >= t)
            d_sum = (w[risk] * torch.exp(eta[risk])).sum()
            e_sum = (w[dead] * torch.exp(eta[dead])).sum()
            m = len(dead)
            if ties == "breslow":
                logs = [torch.log(d_sum)] * m
            else:
                logs = [torch.log(d_sum - (l / m) * e_sum) for l in range(m)]
            avg = torch.stack(logs).mean()
            for i in dead.tolist():
                out[i] = -w[i] * (eta[i] - avg)
    return torch.stack(out)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("fast", [True, False])
def test_matches_naive_formula_values_and_mixed_sign_gradients(
    ties: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reference: the textbook formula with plain autograd. Mixed-sign upstream gradients
    # (reduction="none") exercise the signed branch of the analytic backward; fast=False forces
    # the exact log-sum-exp path that strata and extreme scores use.
    import survage.losses.cox_terms as cox_terms

    if not fast:
        monkeypatch.setattr(cox_terms, "_FAST_MIN", float("inf"))
    eta, time, event = _random(60, 8)
    g = torch.Generator().manual_seed(9)
    w = 0.5 + torch.rand(60, generator=g, dtype=torch.float64)
    upstream = torch.randn(60, generator=g, dtype=torch.float64)
    for strata, weights in ((None, None), (None, w), (torch.randint(0, 3, (60,), generator=g), w)):
        a = eta.clone().requires_grad_(True)
        b = eta.clone().requires_grad_(True)
        ours = cox_nll(a, time, event, ties=ties, strata=strata, weights=weights, reduction="none")
        ref = _naive_cox(b, time, event, ties, strata, weights)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
        (ga,) = torch.autograd.grad(ours, a, upstream)
        (gb,) = torch.autograd.grad(ref, b, upstream)
        torch.testing.assert_close(ga, gb, rtol=1e-10, atol=1e-12)
