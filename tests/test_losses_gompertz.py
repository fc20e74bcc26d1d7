"""survage.losses.gompertz_nll against independent numerics.

References used here (no R flexsurv available):
- the cumulative hazard is checked against scipy.integrate.quad of h(u) = exp(a + b u);
- the likelihood is checked against a hand-derived closed form written in numpy, and its maximum
  against scipy.optimize.minimize on that numpy likelihood;
- fits on data simulated from a Gompertz model (inverse-transform sampling) recover the true
  parameters within 4 standard errors (standard errors from the observed information).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

from survage.errors import SurvageInputError
from survage.losses import expm1_ratio, gompertz_cumulative_hazard, gompertz_nll

CASES = [  # (a, b, entry, exit)
    (-3.0, 0.1, 0.0, 12.0),
    (-9.5, 0.085, 62.0, 75.5),
    (0.3, -0.4, 1.0, 3.0),
    (-1.0, 1e-9, 0.0, 7.0),
    (-1.0, -2e-4, 2.0, 9.0),
    (-2.0, 0.0, 0.5, 4.0),
]


@pytest.mark.parametrize(("a", "b", "s", "t"), CASES)
def test_cumulative_hazard_equals_quadrature(a: float, b: float, s: float, t: float) -> None:
    ref, _ = integrate.quad(lambda u: np.exp(a + b * u), s, t, epsabs=0, epsrel=1e-13)
    got = gompertz_cumulative_hazard(torch.tensor(a, dtype=torch.float64), b, torch.tensor(t, dtype=torch.float64), entry=s)
    assert got.item() == pytest.approx(ref, rel=1e-11)
    if s == 0.0:
        assert gompertz_cumulative_hazard(a, b, t).item() == pytest.approx(ref, rel=1e-11)


def _numpy_nll(a: np.ndarray, b: float, t: np.ndarray, d: np.ndarray, s: np.ndarray | None = None) -> float:
    """Hand-derived: -sum[d (a + b t) - e^a (e^{bt} - e^{bs}) / b] (b != 0)."""
    s = np.zeros_like(t) if s is None else s
    return float(-np.sum(d * (a + b * t) - np.exp(a) * (np.exp(b * t) - np.exp(b * s)) / b))


def test_nll_matches_closed_form_and_quadrature() -> None:
    rng = np.random.default_rng(0)
    n = 30
    a = rng.normal(-4.0, 0.5, n)
    s = rng.uniform(40, 70, n)
    t = s + rng.uniform(0.1, 15, n)
    d = rng.integers(0, 2, n).astype(float)
    b = 0.09
    per = gompertz_nll(torch.tensor(a) - 5.0, torch.tensor(b, dtype=torch.float64), torch.tensor(t),
                       torch.tensor(d), entry=torch.tensor(s), reduction="none").numpy()
    quad = np.array([integrate.quad(lambda u, ai=ai: np.exp(ai - 5.0 + b * u), si, ti, epsrel=1e-13)[0]
                     for ai, si, ti in zip(a, s, t)])
    np.testing.assert_allclose(per, quad - d * (a - 5.0 + b * t), rtol=1e-10, atol=1e-12)
    total = gompertz_nll(torch.tensor(a) - 5.0, b, torch.tensor(t), torch.tensor(d), entry=torch.tensor(s),
                         reduction="sum").item()
    assert total == pytest.approx(_numpy_nll(a - 5.0, b, t, d, s), rel=1e-12)
    mean = gompertz_nll(torch.tensor(a) - 5.0, b, torch.tensor(t), torch.tensor(d), entry=torch.tensor(s))
    assert mean.item() == pytest.approx(total / n, rel=1e-12)


def test_b_to_zero_limit_value_and_gradient() -> None:
    t = torch.tensor([0.0, 0.5, 3.0, 10.0], dtype=torch.float64)
    # Exponential limit: expm1(b t)/b -> t; derivative in b -> t^2 / 2.
    b0 = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    g = expm1_ratio(b0, t)
    torch.testing.assert_close(g.detach(), t, rtol=0, atol=0)
    (grad,) = torch.autograd.grad(g.sum(), b0)
    assert grad.item() == pytest.approx(float((t**2).sum() / 2), rel=1e-12)
    # Continuous across the series/exact switch (|b t| = 1e-3) and against the analytic derivative.
    for b in (9.999e-5, 1.0001e-4, -9.999e-5, -1.0001e-4, 3e-3, -0.2):
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        tt = torch.tensor(10.0, dtype=torch.float64)
        val = expm1_ratio(bt, tt)
        (db,) = torch.autograd.grad(val, bt)
        exact = np.expm1(b * 10.0) / b
        dexact = (10.0 * np.exp(b * 10.0) * b - np.expm1(b * 10.0)) / b**2
        assert val.item() == pytest.approx(exact, rel=1e-13)
        assert db.item() == pytest.approx(dexact, rel=1e-7)


def test_nll_gradients_finite_near_zero_b() -> None:
    a = torch.full((5,), -2.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    loss = gompertz_nll(a, b, torch.arange(1.0, 6.0, dtype=torch.float64), torch.tensor([1, 0, 1, 0, 1]))
    loss.backward()
    assert a.grad is not None and b.grad is not None
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad)
    assert torch.autograd.gradcheck(
        lambda aa, bb: gompertz_nll(aa, bb, torch.arange(1.0, 6.0, dtype=torch.float64),
                                    torch.tensor([1, 0, 1, 0, 1]), reduction="sum"),
        (a.detach().clone().requires_grad_(True), torch.tensor(1e-6, dtype=torch.float64, requires_grad=True)),
    )


def _fit_lbfgs(loss_fn, params: list[torch.Tensor]) -> None:  # type: ignore[no-untyped-def]
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=500, tolerance_grad=1e-11, tolerance_change=1e-15,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)


def _standard_errors(loss_sum_fn, theta: torch.Tensor) -> np.ndarray:  # type: ignore[no-untyped-def]
    hess = torch.autograd.functional.hessian(loss_sum_fn, theta.detach())
    return np.sqrt(np.diag(np.linalg.inv(hess.numpy())))


def test_simulated_follow_up_time_fit_recovers_parameters() -> None:
    # h(t | x) = exp(a0 + beta x + b t); T = log1p(b E e^{-a}) / b with E ~ Exp(1).
    rng = np.random.default_rng(11)
    n, a0, beta, b = 20000, -3.0, 0.5, 0.1
    x = rng.normal(size=n)
    e = rng.exponential(size=n)
    t_event = np.log1p(b * e * np.exp(-(a0 + beta * x))) / b
    c = rng.uniform(0, 20, n)
    t = np.minimum(t_event, c)
    d = (t_event <= c).astype(float)
    tx, tt, td = (torch.tensor(v) for v in (x, t, d))

    def nll_sum(theta: torch.Tensor) -> torch.Tensor:
        return gompertz_nll(theta[0] + theta[1] * tx, theta[2], tt, td, reduction="sum")

    theta = torch.tensor([0.0, 0.0, 0.01], dtype=torch.float64, requires_grad=True)
    _fit_lbfgs(lambda: nll_sum(theta) / n, [theta])
    est = theta.detach().numpy()
    se = _standard_errors(nll_sum, theta)
    assert np.all(np.abs(est - [a0, beta, b]) < 4 * se), (est, se)
    # Independent optimiser on the hand-written numpy likelihood finds the same maximum.
    ref = optimize.minimize(lambda p: _numpy_nll(p[0] + p[1] * x, p[2], t, d) / n, x0=[0.0, 0.0, 0.01],
                            method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000})
    np.testing.assert_allclose(est, ref.x, atol=1e-4)


def test_simulated_attained_age_fit_with_left_truncation() -> None:
    # Time scale = age: h(age) = exp(alpha + beta age); entry at baseline age A; survivors to A
    # only: H(T) - H(A) = E  =>  T = log(e^{beta A} + beta E e^{-alpha}) / beta.
    rng = np.random.default_rng(12)
    n, alpha, beta = 20000, -9.5, 0.085
    entry = rng.uniform(40, 80, n)
    e = rng.exponential(size=n)
    t_event = np.log(np.exp(beta * entry) + beta * e * np.exp(-alpha)) / beta
    c = entry + rng.uniform(5, 20, n)
    exit_ = np.minimum(t_event, c)
    d = (t_event <= c).astype(float)
    ts, tt, td = (torch.tensor(v) for v in (entry, exit_, d))

    def nll_sum(theta: torch.Tensor) -> torch.Tensor:
        # centred at age 60 for conditioning: alpha = theta0 - 60 theta1
        return gompertz_nll(theta[0] - 60.0 * theta[1], theta[1], tt, td, entry=ts, reduction="sum")

    theta = torch.tensor([-4.0, 0.05], dtype=torch.float64, requires_grad=True)
    _fit_lbfgs(lambda: nll_sum(theta) / n, [theta])
    est = theta.detach().numpy()
    se = _standard_errors(nll_sum, theta)
    truth = np.array([alpha + 60.0 * beta, beta])
    assert np.all(np.abs(est - truth) < 4 * se), (est, truth, se)
    # Ignoring left truncation (entry=None, i.e. everyone at risk from age 0) gives a badly biased
    # slope, so the test above does check that entry is used.
    theta_naive = torch.tensor([-4.0, 0.05], dtype=torch.float64, requires_grad=True)
    _fit_lbfgs(lambda: gompertz_nll(theta_naive[0] - 60.0 * theta_naive[1], theta_naive[1], tt, td), [theta_naive])
    assert abs(theta_naive[1].item() - beta) > 10 * se[1]


def test_shapes_weights_and_errors() -> None:
    a = torch.zeros(4, 1, dtype=torch.float64)
    t = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    d = torch.tensor([True, False, True, False])
    w = torch.tensor([1.0, 2.0, 1.0, 3.0], dtype=torch.float64)
    per = gompertz_nll(a, 0.2, t, d, reduction="none")
    assert per.shape == (4,)
    weighted = gompertz_nll(a, 0.2, t, d, weights=w, reduction="mean")
    assert weighted.item() == pytest.approx(float((per * w).sum() / w.sum()), rel=1e-12)
    scalar_a = gompertz_nll(torch.tensor(0.0, dtype=torch.float64), 0.2, t, d, reduction="none")
    torch.testing.assert_close(scalar_a, per)
    with pytest.raises(SurvageInputError, match="entry"):
        gompertz_nll(a, 0.2, t, d, entry=t + 1.0)
    with pytest.raises(SurvageInputError, match="event"):
        gompertz_nll(a, 0.2, t, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(SurvageInputError, match="negative time"):
        gompertz_nll(a, 0.2, -t, d)
    with pytest.raises(SurvageInputError, match="log_scale"):
        gompertz_nll(torch.zeros(3, dtype=torch.float64), 0.2, t, d)
    with pytest.raises(SurvageInputError, match="time"):
        gompertz_nll(a, 0.2, torch.tensor([1.0, float("inf"), 1.0, 1.0]), d)
