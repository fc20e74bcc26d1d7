"""Claim 1 (issue 4): on the simulated opportunistic-CT cohort the fused model out-discriminates each
single-modality model, and a person without CT measures still gets a prediction.

Protocol and figures: ``experiments/sim_claims.py`` (``.venv/bin/python experiments/sim_claims.py``),
whose functions these tests call. n = 9000, seed 0, written as a CSV sheet and read back with
``read_oppscr``; stratified train/test split (``train_validation_test_split``, test 25 %, seed 0);
``SurvivalModel`` with the package defaults (early stopping on its internal validation split of
the training rows).

External reference: lifelines ``CoxPHFitter(penalizer=0.01)`` on the same split (standardised,
median-imputed features, ``log1p`` Agatston; ``concordance_index(t[te], -partial_hazard, e[te])``):
test C-index CT-only 0.7252, clinical-only 0.7545, fused 0.7676.

Outcome of the claim: fused beats CT-only with a paired bootstrap CI above 0 (shown); fused beats
clinical-only in point estimate, but the CI of that difference includes 0 on this test split
(+0.0151, 95 % CI -0.0028 to +0.0344), recorded by a strict xfail below. The same gap comes out of
lifelines (+0.013) and of a ridge Cox chosen by cross-validation on the training rows, so it is a
property of this test sample (248 deaths), not of the network. A person without CT measures gets a
finite prediction; it ranks deaths better than age alone but worse than the clinical-only model.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from survage.data.cohort import Cohort

N_BOOT = 2000


def _claims_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "experiments" / "sim_claims.py"
    name = "survage_experiments_sim_claims"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve the module by name
        spec.loader.exec_module(module)
    return sys.modules[name]


sim = _claims_module()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("sim_claims_modalities")
    with sim.torch_threads(1):
        cohort = sim.simulated_cohort(folder)
        train, test = sim.train_test(cohort)
        models = sim.fit_models(train, sim.SETTINGS)
        yield {"folder": folder, "cohort": cohort, "train": train, "test": test, "models": models,
               "figures": sim.discrimination(models, test, n_boot=N_BOOT, seed=0)}


def test_protocol(fitted: dict[str, Any]) -> None:
    cohort, train, test = fitted["cohort"], fitted["train"], fitted["test"]
    assert cohort.n == 9000 and test.n == 2250 and train.n == 6750
    assert not set(train.frame.index) & set(test.frame.index)
    # stratified by death: the death rate is the same in both parts (to one death)
    assert abs(train.event("death").mean() - test.event("death").mean()) < 1 / test.n + 1e-12
    for name, model in fitted["models"].items():
        assert model.modalities_ == sim.MODELS[name]
        assert "true_biological_age" not in [c for cs in model.feature_names_.values() for c in cs]


def test_c_index_matches_lifelines_cox(fitted: dict[str, Any]) -> None:
    # lifelines CoxPHFitter(penalizer=0.01), same split and features (module docstring)
    # (a linear Cox model; the network may differ by a few thousandths: measured 0.7279, 0.7571, 0.7722)
    lifelines_c = {"ct_only": 0.7252, "clinical_only": 0.7545, "fused": 0.7676}
    figures = fitted["figures"]
    for name, ref in lifelines_c.items():
        assert figures.c_index[name] == pytest.approx(ref, abs=0.01), name
        lo, hi = figures.c_index_ci[name]
        assert lo < figures.c_index[name] < hi and hi - lo < 0.08


def test_fused_beats_ct_only(fitted: dict[str, Any]) -> None:
    res = fitted["figures"].vs_fused["ct_only"]
    # measured: +0.0444 (95 % CI +0.0289 to +0.0613); lifelines, same split: +0.0424
    assert res.difference > 0.03
    assert res.lower > 0
    assert res.n_boot == N_BOOT and res.n_failed == 0


def test_fused_beats_clinical_only_point_estimate(fitted: dict[str, Any]) -> None:
    res = fitted["figures"].vs_fused["clinical_only"]
    assert res.difference > 0
    assert res.difference == pytest.approx(0.7676 - 0.7545, abs=0.005)  # lifelines, same split (measured 0.0151)


@pytest.mark.xfail(strict=True, reason="claim 1 not shown for clinical-only: on the seed-0 test split the "
                   "paired 95 % CI of fused - clinical-only C is -0.0028 to +0.0344 (ridge Cox chosen on "
                   "training-only CV: -0.0050 to +0.0302; lifelines Cox gives the same 0.013 gap)")
def test_fused_beats_clinical_only_ci_above_zero(fitted: dict[str, Any]) -> None:
    assert fitted["figures"].vs_fused["clinical_only"].lower > 0


def test_person_without_ct_measures_gets_finite_prediction(fitted: dict[str, Any]) -> None:
    test: Cohort = fitted["test"]
    no_ct = sim.without_ct(fitted["folder"], test)  # every 2nd test person: all CT cells blank in the sheet
    present = no_ct.modality_present("ct_measures")
    assert not present[::2].any() and present[1::2].all()
    assert no_ct.features(["clinical"]).notna().any(axis=1).all()
    fused = fitted["models"]["fused"]
    risk = fused.predict_risk(no_ct)
    cumhaz = fused.predict_cumulative_hazard(no_ct, [5.0, 10.0])
    assert np.isfinite(risk).all() and np.isfinite(cumhaz).all() and (cumhaz > 0).all()
    # people who kept their CT cells get the same prediction as in the intact sheet
    full = fused.predict_risk(test)
    np.testing.assert_allclose(risk[1::2], full[1::2], rtol=1e-6)
    assert np.abs(risk[::2] - full[::2]).max() > 0.1
    # the prediction uses what is left (measured among the 1125 without CT: fused without CT 0.7263,
    # age alone 0.6751, clinical-only model 0.7503, fused with their CT 0.7601)
    c = sim.no_ct_discrimination(fitted["models"], test, no_ct)
    assert c["fused without CT"] > c["age alone"] + 0.03
    assert c["fused without CT"] < c["fused with CT"]
