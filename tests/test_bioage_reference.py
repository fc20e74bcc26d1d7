"""Reference mortality curves: GompertzReference and SplineReference.

References used here:
- tests/reference/gompertz_nhanes3.R (R optim on the closed-form left-truncated Gompertz
  log-likelihood, standard errors from optimHess) -> tests/reference/gompertz_nhanes3.json;
- data simulated from known curves by inverse-transform sampling (true parameters known);
- scipy.integrate.quad for cumulative hazards, scipy.optimize.approx_fprime for the gradient.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize

import survage
from survage.bioage import GompertzReference, SplineReference
from survage.bioage.spline_reference import _basis, _negloglik_and_grad
from survage.errors import SurvageInputError

DATA = Path(survage.__file__).parent / "data" / "files"
REF = Path(__file__).parent / "reference"


def simulate_gompertz(n: int, alpha: float, beta: float, seed: int) -> tuple[np.ndarray, ...]:
    """Entry ages 30-80, Gompertz deaths in attained age, uniform censoring after 5-20 years."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(30, 80, n)
    t = np.log1p(rng.exponential(size=n) * beta * np.exp(-(alpha + beta * entry))) / beta
    c = rng.uniform(5, 20, n)
    return entry, np.minimum(t, c), (t <= c).astype(float)


@pytest.fixture(scope="module")
def gompertz_data() -> tuple[np.ndarray, ...]:
    return simulate_gompertz(8000, -10.0, 0.09, seed=1)


@pytest.fixture(scope="module")
def nhanes3_mortality() -> pd.DataFrame:
    d = pd.read_csv(DATA / "nhanes3.csv.gz")
    d = d[(d["eligstat"] == 1) & (d["age"] >= 20) & (d["age"] <= 84)].copy()
    d["death"] = (d["ucod_leading"].notna() | (d["status"] == 1)).astype(float)
    d["years"] = d["permth_int"] / 12.0
    return d


def test_gompertz_recovers_simulated_parameters(gompertz_data: tuple[np.ndarray, ...]) -> None:
    entry, time, event = gompertz_data
    ref = GompertzReference().fit(entry, time, event)
    se = np.sqrt(np.diag(ref.cov_[0]))
    assert abs(ref.alpha_[0] + 10.0) < 4 * se[0]
    assert abs(ref.beta_[0] - 0.09) < 4 * se[1]
    assert se[1] < 0.003


def test_gompertz_nhanes3_matches_r(nhanes3_mortality: pd.DataFrame) -> None:
    d = nhanes3_mortality
    r = json.loads((REF / "gompertz_nhanes3.json").read_text())
    ref = GompertzReference().fit(d["age"], d["years"], d["death"])
    tab = ref.table()
    assert (tab["n"].iloc[0], tab["events"].iloc[0]) == (r["all"]["n"], r["all"]["events"]) == (18107, 7159)
    assert ref.alpha_[0] == pytest.approx(r["all"]["alpha"], abs=1e-6)
    assert ref.beta_[0] == pytest.approx(r["all"]["beta"], abs=1e-8)
    assert tab["se_alpha"].iloc[0] == pytest.approx(r["all"]["se_alpha"], rel=1e-4)
    assert tab["se_beta"].iloc[0] == pytest.approx(r["all"]["se_beta"], rel=1e-4)
    assert ref.loglik_[0] == pytest.approx(r["all"]["loglik"], abs=1e-5)
    # Plausible human mortality doubling: beta 0.0801/year (doubling time ln 2 / beta = 8.7 years).
    assert 0.075 < ref.beta_[0] < 0.10
    by_sex = GompertzReference().fit(d["age"], d["years"], d["death"], by=d["gender"])
    assert by_sex.groups_ == [1, 2]
    for g, key in enumerate(("male", "female")):
        assert by_sex.alpha_[g] == pytest.approx(r[key]["alpha"], abs=1e-6)
        assert by_sex.beta_[g] == pytest.approx(r[key]["beta"], abs=1e-8)


def test_gompertz_cumulative_hazard_and_round_trip(gompertz_data: tuple[np.ndarray, ...]) -> None:
    ref = GompertzReference().fit(*gompertz_data)
    a, b = ref.alpha_[0], ref.beta_[0]
    exact, _ = integrate.quad(lambda u: np.exp(a + b * u), 47.0, 57.0, epsabs=0, epsrel=1e-13)
    assert ref.cumulative_hazard([47.0], 10.0)[0] == pytest.approx(exact, rel=1e-12)
    again = GompertzReference.from_dict(json.loads(json.dumps(ref.to_dict())))
    ages = np.linspace(0, 120, 13)
    np.testing.assert_allclose(again.cumulative_hazard(ages, 7.0), ref.cumulative_hazard(ages, 7.0), rtol=1e-15)


def test_gompertz_input_errors() -> None:
    with pytest.raises(SurvageInputError, match="time"):
        GompertzReference().fit([50, 60, 70], [1.0, -1.0, 2.0], [1, 0, 1])
    with pytest.raises(SurvageInputError, match="event"):
        GompertzReference().fit([50, 60, 70], [1.0, 1.0, 2.0], [1, 2, 1])
    with pytest.raises(SurvageInputError, match="not fitted"):
        GompertzReference().cumulative_hazard([50.0])


def test_spline_gradient_matches_finite_differences(gompertz_data: tuple[np.ndarray, ...]) -> None:
    entry, time, event = gompertz_data
    knots = np.array([30.0, 55.0, 65.0, 75.0])
    args = (knots, entry, entry + time, event, _basis(knots, entry + time), 1.0)
    theta = np.array([-7.3, 0.05, 0.08, 0.1, 0.12])
    grad = _negloglik_and_grad(theta, *args)[1]
    numeric = optimize.approx_fprime(theta, lambda x: _negloglik_and_grad(x, *args)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5)


def test_spline_monotone_and_inverts(gompertz_data: tuple[np.ndarray, ...]) -> None:
    ref = SplineReference(n_knots=3).fit(*gompertz_data)
    ages = np.linspace(0, 120, 1201)
    assert np.all(np.diff(np.log(ref.hazard(ages))) > 0)
    for tau in (1.0, 10.0, 25.0):
        h = ref.cumulative_hazard(ages, tau)
        assert np.all(np.diff(h) > 0)
        np.testing.assert_allclose(ref.age_for_hazard(h, tau), ages, atol=1e-6)
    # Cumulative hazard equals quadrature of the hazard across knots.
    exact, _ = integrate.quad(lambda u: ref.hazard([u])[0], 52.0, 77.0, points=ref.knots_[0], epsrel=1e-12)
    assert ref.cumulative_hazard([52.0], 25.0)[0] == pytest.approx(exact, rel=1e-10)


def test_spline_agrees_with_gompertz_on_gompertz_data(gompertz_data: tuple[np.ndarray, ...]) -> None:
    gomp = GompertzReference().fit(*gompertz_data)
    spline = SplineReference(n_knots=3).fit(*gompertz_data)
    assert spline.loglik_[0] >= gomp.loglik_[0] - 1e-6  # the spline family contains the Gompertz curve
    ages = np.linspace(40, 80, 9)
    ratio = spline.cumulative_hazard(ages, 10.0) / gomp.cumulative_hazard(ages, 10.0)
    assert np.all(np.abs(ratio - 1) < 0.15)
    ba = spline.age_for_hazard(gomp.cumulative_hazard(ages, 10.0), 10.0)
    assert np.all(np.abs(ba - ages) < 1.5)
    again = SplineReference.from_dict(json.loads(json.dumps(spline.to_dict())))
    np.testing.assert_allclose(again.cumulative_hazard(ages, 10.0), spline.cumulative_hazard(ages, 10.0), rtol=1e-14)


def test_spline_recovers_bent_curve() -> None:
    # True log-hazard: -7 + 0.04 (a - 30) below age 60, then slope 0.13 (not Gompertz). Exact
    # inverse-transform sampling through the closed-form cumulative hazard from age 30, Hc.
    v1 = -7.0 + 0.04 * 30.0
    hc60 = np.exp(-7.0) * np.expm1(0.04 * 30.0) / 0.04

    def hc(a: np.ndarray) -> np.ndarray:
        return np.where(a < 60, np.exp(-7.0) * np.expm1(0.04 * (a - 30)) / 0.04,
                        hc60 + np.exp(v1) * np.expm1(0.13 * (a - 60)) / 0.13)

    def hc_inv(h: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # np.where evaluates both branches
            return np.where(h < hc60, 30 + np.log1p(0.04 * h / np.exp(-7.0)) / 0.04,
                            60 + np.log1p(0.13 * (h - hc60) / np.exp(v1)) / 0.13)

    rng = np.random.default_rng(7)
    n = 8000
    entry = rng.uniform(30, 80, n)
    t = hc_inv(hc(entry) + rng.exponential(size=n)) - entry
    c = rng.uniform(5, 20, n)
    time, event = np.minimum(t, c), (t <= c).astype(float)
    fit = SplineReference(knots=[30.0, 60.0]).fit(entry, time, event)
    assert fit.slopes_[0] == pytest.approx([0.04, 0.13], abs=0.02)
    assert fit.log_hazard_at_knots_[0][1] == pytest.approx(v1, abs=0.15)
    gomp = GompertzReference().fit(entry, time, event)
    assert fit.loglik_[0] - gomp.loglik_[0] > 10  # the bend is detected


def test_spline_nhanes3_fits_at_least_as_well_as_gompertz(nhanes3_mortality: pd.DataFrame) -> None:
    d = nhanes3_mortality
    gomp = GompertzReference().fit(d["age"], d["years"], d["death"])
    spline = SplineReference(n_knots=3).fit(d["age"], d["years"], d["death"])
    assert spline.loglik_[0] >= gomp.loglik_[0]
    assert np.all(spline.slopes_[0] > 0.03) and np.all(spline.slopes_[0] < 0.15)
