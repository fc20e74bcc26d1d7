"""Claim 2 (issue 5): on the simulated opportunistic-CT cohort the fused model's biological age tracks
the true biological age at least as well as each single-modality model's, and better than age.

Protocol and figures: ``experiments/sim_claims.py`` (``.venv/bin/python experiments/sim_claims.py``),
whose functions these tests call: training cohort simulator seed 0, n = 9000; an independent test
cohort, seed 1, n = 9000; each written as a CSV sheet and read back with ``read_oppscr``;
``SurvivalModel`` defaults (early stopping on its internal validation split of the training cohort);
``GompertzReference`` fitted on the training cohort's mortality in attained age; biological age from
each model's predicted cumulative hazard of death at 10 years (``biological_age``); Pearson r with
``true_biological_age`` on the test cohort, percentile bootstrap (2000 resamples of the test
people, seed 0, the same resamples for every estimate).

Measured (95 % CI): fused 0.8441 (0.8377-0.8496), CT-only 0.7793 (0.7707-0.7873), clinical-only
0.7390 (0.7294-0.7482), chronological age 0.5712 (0.5569-0.5855). Paired differences fused minus
CT-only +0.065 (+0.059 to +0.071), minus clinical-only +0.105 (+0.098 to +0.112), minus age +0.273
(+0.260 to +0.286): the claim holds, with every paired CI above 0. (The earlier design, a 25 % test
split of the seed-0 cohort, gave 0.8530, 0.7743, 0.7393 and 0.5759, the same conclusion.)

External references: ``scipy.stats.pearsonr`` for each r; the simulator's documented
truth (docs/simulator.md: BA = age + 12 ageing + ..., SD of BA - age about 12.8 years); and, as a
ceiling, ordinary least squares of the true biological age on the same features fitted on the
training cohort (``sklearn.linear_model.LinearRegression``), which the survival-derived ages never
see (docs/simulator.md, seed 0 on halves: + CT 0.80, + clinical 0.75, + CT + clinical 0.87; here,
seed 0 -> seed 1: CT-only 0.7999, clinical-only 0.7579, fused 0.8687).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from experiment_scripts import load_experiment
from scipy.stats import pearsonr

from survage.bioage import GompertzReference
from survage.data.cohort import Cohort

N_BOOT = 2000


sim = load_experiment("sim_claims")


@pytest.fixture(scope="module")
def ages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("sim_claims_bioage")
    with sim.torch_threads(1):
        train, test = sim.train_test(folder)
        models = sim.fit_models(train, sim.SETTINGS)
        ba = sim.biological_ages(models, train, test)
        truth = test.frame["true_biological_age"].to_numpy(float)
        yield {"train": train, "test": test, "ba": ba, "truth": truth,
               "figures": sim.correlations(truth, ba, n_boot=N_BOOT, seed=0)}


def test_reference_curve_is_fitted_on_training_mortality(ages: dict[str, Any]) -> None:
    train: Cohort = ages["train"]
    ref = GompertzReference().fit(train.ages(), train.time("death"), train.event("death"))
    # the simulator's death hazard is Gompertz in biological age with beta = 0.088 per year
    # (docs/simulator.md); in attained age it is flatter, since chronological age explains only
    # part of BA (r about 0.57): measured beta 0.0699 (seed-0 training cohort)
    assert 0.05 < float(ref.beta_[0]) < 0.088
    assert ref.n_events_[0] == int(train.event("death").sum())
    # mapping back the reference's own cumulative hazard gives the chronological age (BA = CA)
    h = ref.cumulative_hazard(train.ages()[:50], sim.HORIZON)
    np.testing.assert_allclose(ref.age_for_hazard(h, sim.HORIZON), train.ages()[:50], atol=1e-8)


def test_biological_ages_are_finite_and_on_the_age_scale(ages: dict[str, Any]) -> None:
    train, test = ages["train"], ages["test"]
    truth, ca = ages["truth"], test.ages()
    # the simulator: SD of BA - age about 12.8 years (docs/simulator.md)
    assert np.std(truth - ca) == pytest.approx(12.8, abs=1.0)
    beta = float(GompertzReference().fit(train.ages(), train.time("death"), train.event("death")).beta_[0])
    for name in sim.MODELS:
        ba = ages["ba"][name]
        assert ba.shape == truth.shape and np.isfinite(ba).all()
        # the reference hazard at an age is the mean of the people's hazards, so (Jensen) the mean
        # biological age lies below the mean age: for log-normal hazards by Var(log H | age) / (2 beta).
        # Measured (test cohort): fused -5.8 (approximation -6.2), CT-only -4.0 (-4.2), clinical-only -2.9 (-3.2) years
        log_h = beta * ba
        resid = log_h - np.polyval(np.polyfit(ca, log_h, 1), ca)
        assert np.mean(ba - ca) == pytest.approx(-resid.var() / (2 * beta), abs=1.5), name


def test_pearson_r_matches_scipy(ages: dict[str, Any]) -> None:
    figures = ages["figures"]
    for name, est in ages["ba"].items():
        assert figures.r[name] == pytest.approx(pearsonr(ages["truth"], est).statistic, abs=1e-12), name
        lo, hi = figures.ci[name]
        assert lo < figures.r[name] < hi and hi - lo < 0.1, name


def test_fused_biological_age_tracks_truth_at_least_as_well_as_each_modality(ages: dict[str, Any]) -> None:
    f = ages["figures"]
    # measured: fused 0.8441, CT-only 0.7793, clinical-only 0.7390
    assert f.r["fused"] >= f.r["ct_only"] and f.r["fused"] >= f.r["clinical_only"]
    for other in ("ct_only", "clinical_only"):
        diff, lo, hi = f.fused_minus[other]
        assert diff == pytest.approx(f.r["fused"] - f.r[other], abs=1e-12)
        assert lo > 0, (other, diff, lo, hi)


def test_fused_biological_age_beats_chronological_age(ages: dict[str, Any]) -> None:
    f = ages["figures"]
    # measured: 0.8441 vs 0.5712, paired difference +0.273 (+0.260 to +0.286)
    diff, lo, _ = f.fused_minus["chronological_age"]
    assert diff > 0.2 and lo > 0.2
    for name in sim.MODELS:  # every model's biological age beats chronological age
        assert f.ci[name][0] > f.ci["chronological_age"][1], name


def test_survival_ages_approach_a_supervised_linear_fit(ages: dict[str, Any]) -> None:
    f = ages["figures"]
    ceiling = sim.supervised_ceiling(ages["train"], ages["test"])  # sklearn LinearRegression on the truth
    for name in sim.MODELS:
        # never told the truth, the survival-derived age gets within 0.06 of the supervised fit
        assert ceiling[name] - 0.06 < f.r[name] < ceiling[name] + 0.02, (name, f.r[name], ceiling[name])
