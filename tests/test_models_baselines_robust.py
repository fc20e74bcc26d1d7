"""LifelinesCox on designs with constant or aliased columns (was: lifelines ConvergenceError)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survage.data import read_oppscr
from survage.models import SurvivalModel, cohort_from_arrays
from survage.models.baselines import LifelinesCox, aliased_columns, constant_columns
from survage.simulate import simulate_sheet_to_file

REF = Path(__file__).parent / "reference"
COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
SCREENING = ("demographics", "clinical", "ct_measures")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def screening(tmp_path_factory):
    # the engineer's sheet: survage simulate --n 3000 --seed 0
    path = simulate_sheet_to_file(3000, seed=0, out=tmp_path_factory.mktemp("sheet") / "s.csv")
    return read_oppscr(path)


def _rossi_with_junk() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    r = pd.read_csv(REF / "rossi.csv")
    x = r[COVARIATES].assign(const=1.0, prio_copy=r["prio"], fin_plus_race=r["fin"] + r["race"])
    return x, r["week"].to_numpy() / 52.0, r["arrest"].to_numpy()


def test_constant_and_aliased_columns_are_dropped_and_coefficients_match_r():
    # R: coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties="efron")
    # (tests/reference/coxph_rossi.R); R gives NA for a constant or aliased extra column, and the
    # remaining coefficients are those of the fit without it
    ref = json.loads((REF / "coxph_rossi.json").read_text())["efron"]
    x, t, e = _rossi_with_junk()
    cohort = cohort_from_arrays(x, t, e)
    model = LifelinesCox(modalities=("tabular",)).fit(cohort)
    assert model.dropped_columns_ == ["const", "prio_copy", "fin_plus_race"]
    specs = {s.name: s for s in model.preprocessor_.modalities["tabular"].specs_}
    coef = np.array([model.model_.params_[c] / specs[c].scale for c in COVARIATES])
    np.testing.assert_allclose(coef, ref["coef"], atol=1e-5)
    # dropped columns stay out at predict time: their values do not move the risk
    other = cohort_from_arrays(x.assign(const=5.0, prio_copy=0.0, fin_plus_race=-3.0))
    np.testing.assert_array_equal(model.predict_risk(other), model.predict_risk(cohort))


def test_column_helpers():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "k": 7.0, "b": [0.0, 1.0, 0.0, 1.0],
                      "a2": [2.0, 4.0, 6.0, 8.0], "ab": [1.0, 3.0, 3.0, 5.0]})
    assert constant_columns(x) == ["k"]
    # a2 = 2 a; ab = a + b (once centred): both aliased with earlier columns
    assert aliased_columns(x) == ["k", "a2", "ab"]


def test_lifelines_cox_converges_on_the_simulated_screening_sheet(screening):
    # was: lifelines ConvergenceError ("delta contains nan value(s)") with penalizer 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LifelinesCox(outcome="death", modalities=SCREENING, penalizer=0.01).fit(screening)
    # never-set FRAX bound flags and nobody with a history of Alzheimer's: constant in training
    assert {"frax_major_bound", "frax_hip_bound", "history_alzheimers"} <= set(model.dropped_columns_)
    x_all = LifelinesCox(outcome="death", modalities=SCREENING)
    x_all._drop_constant = False
    design, _, _ = x_all._design_fit(screening)
    assert model.dropped_columns_ == aliased_columns(design)
    kept = design.drop(columns=model.dropped_columns_).to_numpy()
    assert np.linalg.matrix_rank(kept - kept.mean(0)) == kept.shape[1]
    risk = model.predict_risk(screening)
    assert risk.shape == (screening.n,) and np.all(np.isfinite(risk))


def test_linear_survival_model_agrees_with_lifelines_on_the_sheet(screening):
    # lifelines (aliased columns dropped) and survage's linear Cox (whitened design, minimum-norm
    # coefficients) find the same unpenalised partial-likelihood maximum: same log-likelihood,
    # risks equal up to lifelines' centring constant
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = LifelinesCox(outcome="death", modalities=SCREENING).fit(screening)
    model = SurvivalModel(outcomes=("death",), modalities=SCREENING, linear=True, weight_decay=0.0,
                          validation_fraction=0.0).fit(screening)
    assert model.history_[0]["converged"] == 1.0
    d = float(np.nansum(screening.event("death")))
    assert -model.history_[0]["train_loss"] * d == pytest.approx(base.model_.log_likelihood_, abs=1e-6)
    diff = base.predict_risk(screening) - model.predict_risk(screening)
    assert np.ptp(diff) < 1e-3
    # a column constant on the training rows gets no coefficient in the linear model either
    coef = model.coefficients()
    assert np.abs(coef[["frax_major_bound", "frax_hip_bound", "history_alzheimers"]]).max() < 1e-10
