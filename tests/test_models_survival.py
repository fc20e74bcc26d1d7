"""SurvivalModel behaviour: missing modalities, multi-task, cause-specific targets, Gompertz, arrays."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from survage.data import Cohort, Outcome
from survage.data.benchmarks import load_rossi
from survage.errors import SurvageInputError
from survage.models import SurvivalModel, cohort_from_arrays, outcome_targets
from survage.models.training import outcome_losses
from survage.losses import cox_nll

REF = Path(__file__).parent / "reference"
FAST = dict(hidden=(8,), max_epochs=15, patience=50)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def simulated(n: int = 800, seed: int = 0) -> Cohort:
    """Exponential times with log hazard 0.05 (age - 60) + 0.5 x1 + 0.5 d1; DXA missing for 40 %."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(40, 80, n)
    x1, x2, d1 = rng.normal(size=(3, n))
    eta = 0.05 * (age - 60) + 0.5 * x1 + 0.5 * d1
    t_death = rng.exponential(10 * np.exp(-eta))
    t_mi = rng.exponential(15 * np.exp(-eta))
    cens = rng.uniform(2, 12, n)
    df = pd.DataFrame({"pid": np.arange(n), "age": age, "sex": rng.integers(0, 2, n).astype(float),
                       "x1": x1, "x2": x2, "d1": d1, "d2": rng.normal(size=n)})
    df.loc[rng.random(n) < 0.4, ["d1", "d2"]] = np.nan
    df["death_t"], df["death_e"] = np.minimum(t_death, cens), (t_death <= cens).astype(float)
    df["mi_t"] = np.minimum.reduce([t_mi, t_death, cens])
    df["mi_e"] = ((t_mi <= t_death) & (t_mi <= cens)).astype(float)
    df.loc[:20, "mi_e"] = np.nan  # excluded from the MI analysis (e.g. prior MI)
    return Cohort.build(df, ids="pid", age="age", sex="sex",
                        modalities={"demographics": ("age", "sex"), "clinical": ("x1", "x2"), "dxa": ("d1", "d2")},
                        outcomes=[Outcome("death", "death_t", "death_e"),
                                  Outcome("mi", "mi_t", "mi_e", competing=("death",))])


@pytest.mark.parametrize("fusion", ["concat", "gated"])
def test_person_missing_a_whole_modality_gets_finite_predictions(fusion):
    cohort = simulated()
    model = SurvivalModel(outcomes=("death", "mi"), modalities=("demographics", "clinical", "dxa"), fusion=fusion,
                          modality_dropout=0.3, **FAST).fit(cohort)
    missing = ~cohort.modality_present("dxa")
    assert missing.sum() > 100
    for o in ("death", "mi"):
        risk = model.predict_risk(cohort, o)
        assert np.all(np.isfinite(risk)) and risk[missing].std() > 0
        surv = model.predict_survival(cohort, [1.0, 5.0], o)
        assert np.all(np.isfinite(surv)) and np.all((surv > 0) & (surv <= 1))


def test_missing_rows_are_masked_out_of_their_heads_loss():
    torch.manual_seed(0)
    cohort = simulated(200)
    model = SurvivalModel(outcomes=("death", "mi"), modalities=("demographics", "clinical"), **FAST)
    model.modalities_ = ("demographics", "clinical")
    from survage.data.preprocessing import CohortPreprocessor
    model.preprocessor_ = CohortPreprocessor.for_cohort(cohort, model.modalities_).fit(cohort.frame)
    model.in_features_ = {m: len(p.output_names_) for m, p in model.preprocessor_.modalities.items()}
    data = model._tensors(cohort, targets=True)
    net = model._build().eval()
    out = net(data.inputs, data.mask)
    got = outcome_losses(net, out, data, "efron", world=1)
    t, e = outcome_targets(cohort, "mi")
    ok = np.isfinite(e)
    assert (~ok).sum() == 21
    want = cox_nll(out["death"], data.time["death"], data.event["death"]) + cox_nll(
        out["mi"][torch.as_tensor(ok)], torch.as_tensor(t[ok], dtype=torch.float32), torch.as_tensor(e[ok]))
    torch.testing.assert_close(got, want)


def test_cause_specific_targets_censor_at_competing_event():
    df = pd.DataFrame({"pid": [0, 1, 2, 3], "age": [60.0] * 4, "dt": [2.0, 5.0, 3.0, 4.0], "de": [1.0, 0, 1, 1],
                       "mt": [4.0, 1.0, 3.0, 4.0], "me": [0.0, 1, 0, 1]})
    c = Cohort.build(df, ids="pid", age="age", sex=None, modalities={"demographics": ("age",)},
                     outcomes=[Outcome("death", "dt", "de"), Outcome("mi", "mt", "me", competing=("death",))])
    t, e = outcome_targets(c, "mi")
    # row 0: death at 2 before MI follow-up end 4 -> censored at 2; row 1: MI first, kept;
    # row 2: death at 3 and MI censored at 3 -> censored at 3; row 3: MI and death at 4 -> MI kept
    np.testing.assert_array_equal(t, [2.0, 1.0, 3.0, 4.0])
    np.testing.assert_array_equal(e, [0.0, 1.0, 0.0, 1.0])


def test_gompertz_head_recovers_simulated_parameters():
    # h(t | x) = exp(-3 + 0.8 x + 0.15 t): Gompertz times by inversion of H(t) = e^a (e^{bt} - 1) / b
    rng = np.random.default_rng(1)
    n = 4000
    x = rng.normal(size=n)
    a, b = -3 + 0.8 * x, 0.15
    t = np.log1p(b * rng.exponential(size=n) / np.exp(a)) / b
    c = rng.uniform(0, 15, n)
    model = SurvivalModel(outcomes=("death",), head="gompertz", linear=True, weight_decay=0.0,
                          validation_fraction=0.0, max_epochs=50)
    model.fit_arrays(x[:, None], np.minimum(t, c), (t <= c).astype(float))
    head = model.network_.heads["death"]
    coef = float(model.coefficients().iloc[0])
    assert float(head.shape_b.detach()) == pytest.approx(0.15, abs=0.02)
    assert coef == pytest.approx(0.8, abs=0.06)
    h = model.predict_cumulative_hazard(cohort_from_arrays(np.array([[0.0]])), [5.0])[0, 0]
    bb = float(head.shape_b.detach())
    intercept = float(model.predict_risk(cohort_from_arrays(np.array([[0.0]])))[0])
    assert h == pytest.approx(np.exp(intercept) * np.expm1(bb * 5) / bb, rel=1e-10)


def test_fit_arrays_linear_matches_r():
    # R: coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties="efron")
    ref = json.loads((REF / "coxph_rossi.json").read_text())["efron"]
    r = pd.read_csv(REF / "rossi.csv")
    model = SurvivalModel(linear=True, weight_decay=0.0, validation_fraction=0.0, max_epochs=50)
    model.fit_arrays(r[ref["covariates"]], r["week"].to_numpy() / 52.0, r["arrest"].to_numpy())
    np.testing.assert_allclose(model.coefficients()[ref["covariates"]].to_numpy(), ref["coef"], atol=1e-4)


def test_bad_input_is_reported():
    cohort = load_rossi()
    with pytest.raises(SurvageInputError, match="modality"):
        SurvivalModel(outcomes=("arrest",), modalities=("clinical", "dxa")).fit(cohort)
    with pytest.raises(SurvageInputError, match="head"):
        SurvivalModel(outcomes=("arrest",), head="weibull").fit(cohort)  # type: ignore[arg-type]
    with pytest.raises(SurvageInputError, match="before fit"):
        SurvivalModel().predict_risk(cohort)
    model = SurvivalModel(outcomes=("arrest",), **FAST).fit(cohort)
    with pytest.raises(SurvageInputError, match="missing"):
        model.predict_risk(replace(cohort, frame=cohort.frame.drop(columns=["prio"])))
