"""Linear SurvivalModel (plain Cox regression) and baselines against R survival and lifelines."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from survage.data.benchmarks import load_flchain, load_rossi
from survage.models import SurvivalModel, breslow_cumulative_hazard
from survage.models.baselines import AgeGompertz, LifelinesCox, RandomSurvivalForest

REF = Path(__file__).parent / "reference"
COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# categorical 0/1 flags come out of preprocessing as one-hot "name==1" columns
NAMES = {"fin": "fin==1", "race": "race==1", "wexp": "wexp==1", "mar": "mar==1", "paro": "paro==1"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def rossi_linear():
    cohort = load_rossi()
    model = SurvivalModel(outcomes=("arrest",), linear=True, weight_decay=0.0, validation_fraction=0.0,
                          max_epochs=50).fit(cohort)
    return cohort, model


def test_linear_recovers_r_coxph_efron(rossi_linear):
    # R 4.2.2, survival 3.5.3 (tests/reference/coxph_rossi.R):
    # coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties="efron")
    _, model = rossi_linear
    ref = json.loads((REF / "coxph_rossi.json").read_text())["efron"]
    coef = model.coefficients("arrest")
    got = np.array([coef[NAMES.get(c, c)] for c in COVARIATES])
    np.testing.assert_allclose(got, ref["coef"], atol=1e-4)


def test_linear_breslow_ties_match_r():
    # R: coxph(..., ties="breslow") on rossi (tests/reference/coxph_rossi.R)
    ref = json.loads((REF / "coxph_rossi.json").read_text())["breslow"]
    model = SurvivalModel(outcomes=("arrest",), linear=True, weight_decay=0.0, validation_fraction=0.0,
                          ties="breslow", max_epochs=50).fit(load_rossi())
    coef = model.coefficients()
    np.testing.assert_allclose([coef[NAMES.get(c, c)] for c in COVARIATES], ref["coef"], atol=1e-4)


@pytest.mark.parametrize("ties,key", [("breslow", "cumhaz_breslow"), ("efron", "cumhaz_efron")])
def test_baseline_hazard_matches_r_survfit(rossi_linear, ties, key):
    # R: survfit(coxph(..., ties="efron"), newdata=<all covariates 0>, ctype=1 (Breslow) | 2 (Efron))
    # (tests/reference/coxph_rossi_basehaz.R); weeks -> years as the cohort does (7 x week / 365.25)
    cohort, fitted = rossi_linear
    ref = json.loads((REF / "coxph_rossi_basehaz.json").read_text())
    model = copy.copy(fitted)
    model.baseline_ties = ties
    train = model._tensors(cohort, targets=True)
    model.baseline_ = model._baselines(train)
    zero = cohort.subset([0])
    frame = zero.frame.copy()
    frame[COVARIATES] = 0.0
    zero = replace(zero, frame=frame)
    times = 7.0 * np.asarray(ref["times"]) / 365.25
    got = model.predict_cumulative_hazard(zero, times + 1e-9, outcome="arrest")[0]
    np.testing.assert_allclose(got, ref[key], rtol=2e-5)


def test_breslow_matches_lifelines_baseline():
    # lifelines CoxPHFitter.baseline_cumulative_hazard_ is Breslow's estimator at its (centred) scores
    from lifelines import CoxPHFitter
    from lifelines.datasets import load_rossi as raw

    r = raw()
    cph = CoxPHFitter().fit(r, "week", "arrest")
    eta = np.asarray(cph.predict_log_partial_hazard(r))
    times, cumhaz = breslow_cumulative_hazard(r["week"].to_numpy(), r["arrest"].to_numpy(), eta)
    ref = cph.baseline_cumulative_hazard_
    np.testing.assert_allclose(times, ref.index.to_numpy()[ref.iloc[:, 0].diff().fillna(1).to_numpy() > 0])
    np.testing.assert_allclose(cumhaz, np.interp(times, ref.index, ref.iloc[:, 0]), rtol=1e-12)


def test_lifelines_cox_baseline_reproduces_lifelines(rossi_linear):
    cohort, model = rossi_linear
    base = LifelinesCox(outcome="arrest").fit(cohort)
    # same partial likelihood maximum: risks agree up to a constant (lifelines centres)
    diff = base.predict_risk(cohort) - model.predict_risk(cohort, "arrest")
    assert np.ptp(diff) < 1e-5
    times = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(base.predict_survival(cohort, times), model.predict_survival(cohort, times, "arrest"),
                               rtol=1e-5)


def test_random_survival_forest_interface(rossi_linear):
    cohort, _ = rossi_linear
    rsf = RandomSurvivalForest(outcome="arrest", n_estimators=20, seed=0).fit(cohort)
    surv = rsf.predict_survival(cohort, [0.0, 0.5, 1.0])
    assert surv.shape == (cohort.n, 3)
    assert np.all(np.diff(surv, axis=1) <= 1e-12)
    # sksurv's own prediction at an observed time
    h = rsf.model_.predict_cumulative_hazard_function(rsf._design(cohort).to_numpy()[:3])
    np.testing.assert_allclose(rsf.predict_cumulative_hazard(cohort.subset([0, 1, 2]), [0.5])[:, 0],
                               [f(0.5) for f in h], rtol=1e-12)


def test_age_gompertz_matches_r_optim():
    # R 4.2.2: maximum likelihood of h(a) = exp(alpha + beta a) with delayed entry on
    # survival::flchain (tests/reference/gompertz_age_flchain.R)
    ref = json.loads((REF / "gompertz_age_flchain.json").read_text())
    cohort = load_flchain()
    assert cohort.n == ref["n"]
    model = AgeGompertz().fit(cohort)
    assert model.beta_ == pytest.approx(ref["beta"], abs=1e-5)
    assert model.alpha_ == pytest.approx(ref["alpha"], abs=1e-3)
    assert model.loglik_ == pytest.approx(ref["loglik"], abs=1e-4)
    cum = model.predict_cumulative_hazard(cohort.subset([0]), [5.0])[0, 0]
    a = cohort.ages()[0]
    expected = np.exp(ref["alpha"] + ref["beta"] * a) * np.expm1(ref["beta"] * 5.0) / ref["beta"]
    assert cum == pytest.approx(expected, rel=1e-3)
