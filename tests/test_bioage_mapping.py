"""Hazard-to-age mapping, extrapolation flags, ensemble intervals and age acceleration.

References used here:
- the closed-form Gompertz identities of methods.md ("Biological age from a hazard"): a Gompertz
  model with age alone mapped through its own reference gives BA = CA, and under a Gompertz
  proportional-hazards model with the reference beta, BA = CA + eta / beta for every horizon;
- the published PhenoAge formula (Levine et al. 2018, doi:10.18632/aging.101414), which is this
  mapping with a Gompertz reference of beta = c = 0.090165 (the 10-year hazard -ln(1 - M));
- numpy.percentile / numpy.polyfit for the interval and the residual regression.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survage
from survage.bioage import (
    GompertzReference,
    ResidualAcceleration,
    SplineReference,
    age_acceleration,
    biological_age,
    biological_age_interval,
    phenoage,
    phenoage_mortality_score,
    residual_acceleration,
)
from survage.errors import SurvageInputError

DATA = Path(survage.__file__).parent / "data" / "files"


def _simulate(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    entry = rng.uniform(30, 80, n)
    t = np.log1p(rng.exponential(size=n) * 0.09 * np.exp(-(-10.0 + 0.09 * entry))) / 0.09
    c = rng.uniform(5, 20, n)
    return entry, np.minimum(t, c), (t <= c).astype(float)


@pytest.fixture(scope="module")
def gompertz() -> GompertzReference:
    return GompertzReference().fit(*_simulate(5000, seed=3))


@pytest.mark.parametrize("tau", [1.0, 5.0, 10.0, 20.0])
def test_age_alone_model_maps_to_chronological_age(gompertz: GompertzReference, tau: float) -> None:
    ages = np.linspace(20, 95, 151)
    res = biological_age(gompertz.cumulative_hazard(ages, tau), gompertz, horizon=tau)
    np.testing.assert_allclose(res.biological_age, ages, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.age_acceleration(ages), 0.0, atol=1e-6)


def test_gompertz_ph_model_is_independent_of_horizon(gompertz: GompertzReference) -> None:
    rng = np.random.default_rng(11)
    ages = rng.uniform(30, 80, 200)
    eta = rng.normal(0, 0.5, 200)  # log hazard ratio of each person against the reference
    beta = gompertz.beta_[0]
    bas = [biological_age(np.exp(eta) * gompertz.cumulative_hazard(ages, tau), gompertz, tau).biological_age
           for tau in (1.0, 10.0, 30.0)]
    for ba in bas:
        np.testing.assert_allclose(ba, ages + eta / beta, atol=1e-9)


def test_phenoage_is_this_mapping_with_a_gompertz_reference() -> None:
    d = pd.read_csv(DATA / "nhanes4_1999_2002.csv.gz").dropna(subset=["phenoage0"]).head(500)
    c = 0.090165
    # H_ref(A, 10) = exp(alpha + c A)(exp(10 c) - 1)/c; PhenoAge = 141.50225 + ln(0.0055305 H)/c.
    alpha = np.log(c / np.expm1(10 * c)) - np.log(0.0055305) - 141.50225 * c
    ref = GompertzReference.from_dict({"type": "GompertzReference", "groups": [
        {"group": None, "alpha": alpha, "beta": c, "cov": [[0, 0], [0, 0]], "loglik": 0.0,
         "age_range": [20.0, 84.0], "n": 1, "n_events": 1}]})
    h10 = -np.log1p(-phenoage_mortality_score(d, crp_transform="log1p").to_numpy())
    res = biological_age(h10, ref, horizon=10.0)
    np.testing.assert_allclose(res.biological_age, d["phenoage0"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(res.biological_age, phenoage(d, crp_transform="log1p").to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["gompertz", "spline"])
def test_extrapolation_is_flagged_not_clipped(gompertz: GompertzReference, kind: str) -> None:
    ref = gompertz if kind == "gompertz" else SplineReference(n_knots=2).fit(*_simulate(3000, seed=5))
    lo, hi = ref.age_range_[0]
    ages = np.array([lo - 25.0, lo + 1.0, 0.5 * (lo + hi), hi - 1.0, hi + 15.0])
    res = biological_age(ref.cumulative_hazard(ages, 10.0), ref, horizon=10.0)
    np.testing.assert_allclose(res.biological_age, ages, atol=1e-6)
    assert res.extrapolated.tolist() == [True, False, False, False, True]
    custom = biological_age(ref.cumulative_hazard(ages, 10.0), ref, 10.0, age_range=(0.0, 200.0))
    assert not custom.extrapolated.any()


def test_missing_and_invalid_hazards(gompertz: GompertzReference) -> None:
    res = biological_age([0.01, np.nan, 0.2], gompertz, 10.0)
    assert np.isnan(res.biological_age[1]) and not res.extrapolated[1]
    assert np.isfinite(res.biological_age[[0, 2]]).all()
    with pytest.raises(SurvageInputError, match="cumhaz"):
        biological_age([0.1, 0.0], gompertz, 10.0)
    with pytest.raises(SurvageInputError, match="horizon"):
        biological_age([0.1], gompertz, -1.0)


def test_per_group_reference() -> None:
    e1, t1, d1 = _simulate(3000, seed=8)
    rng = np.random.default_rng(9)
    e2 = rng.uniform(30, 80, 3000)
    t = np.log1p(rng.exponential(size=3000) * 0.1 * np.exp(-(-11.0 + 0.1 * e2))) / 0.1
    t2, d2 = np.minimum(t, 15.0), (t <= 15.0).astype(float)
    sex = np.r_[np.ones(3000), np.full(3000, 2.0)]
    ref = GompertzReference().fit(np.r_[e1, e2], np.r_[t1, t2], np.r_[d1, d2], by=sex)
    assert ref.groups_ == [1, 2]
    ages = np.array([40.0, 60.0, 40.0, 60.0])
    group = np.array([1, 1, 2, 2])
    h = ref.cumulative_hazard(ages, 10.0, group=group)
    assert h[2] < h[0]  # group 2 simulated with lower mortality at 40
    np.testing.assert_allclose(biological_age(h, ref, 10.0, group=group).biological_age, ages, atol=1e-9)
    with pytest.raises(SurvageInputError, match="group"):
        ref.cumulative_hazard(ages, 10.0)


def test_interval_over_members(gompertz: GompertzReference) -> None:
    rng = np.random.default_rng(4)
    ages = rng.uniform(40, 70, 50)
    noise = rng.normal(0, 0.3, (200, 50))
    members = np.exp(noise) * gompertz.cumulative_hazard(ages, 10.0)
    out = biological_age_interval(members, gompertz, 10.0, level=0.9)
    expected = ages + noise / gompertz.beta_[0]  # Gompertz: log-hazard shifts are age shifts
    np.testing.assert_allclose(out.mean, expected.mean(axis=0), atol=1e-9)
    np.testing.assert_allclose(out.lower, np.percentile(expected, 5, axis=0), atol=1e-9)
    np.testing.assert_allclose(out.upper, np.percentile(expected, 95, axis=0), atol=1e-9)
    np.testing.assert_allclose(out.sd, expected.std(axis=0, ddof=1), atol=1e-9)
    assert np.all(out.lower < out.mean) and np.all(out.mean < out.upper)
    with pytest.raises(SurvageInputError, match="cumhaz_members"):
        biological_age_interval(members[0], gompertz, 10.0)


def test_acceleration_raw_and_residual() -> None:
    rng = np.random.default_rng(2)
    ca = rng.uniform(20, 85, 400)
    ba = 4.0 + 0.9 * ca + rng.normal(0, 5, 400)
    np.testing.assert_array_equal(age_acceleration(ba, ca), ba - ca)
    res = residual_acceleration(ba, ca)
    slope, intercept = np.polyfit(ca, ba, 1)
    assert res.model.slope_ == pytest.approx(slope, rel=1e-10)
    assert res.model.intercept_ == pytest.approx(intercept, rel=1e-10)
    assert abs(res.acceleration.mean()) < 1e-9 and abs(np.corrcoef(res.acceleration, ca)[0, 1]) < 1e-9
    # New data: the training coefficients are reused, not refitted.
    new_ca, new_ba = np.array([30.0, 60.0, np.nan]), np.array([35.0, 50.0, 40.0])
    again = ResidualAcceleration.from_dict(json.loads(json.dumps(res.model.to_dict())))
    out = again.transform(new_ba, new_ca)
    np.testing.assert_allclose(out[:2], new_ba[:2] - (intercept + slope * new_ca[:2]), rtol=1e-10)
    assert np.isnan(out[2])
