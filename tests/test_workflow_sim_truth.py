"""A small simulated opportunistic-CT study: every outcome, and biological age against the truth.

The study is ``experiments/oppscr_sim.yaml`` at 1,500 people with short training. The
``bioage.truth`` numbers are checked against ``numpy.corrcoef`` / ``numpy.mean`` / ``numpy.std``
on ``predictions.csv`` joined (by ``Record ID``) with the simulated sheet's
``true_biological_age`` column: an independent route from the written files, not the code path
that produced ``metrics.json``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from survage.data.oppscr_layout import OUTCOMES
from survage.report.tables import fmt_ci
from survage.workflow import evaluate as ev
from survage.workflow.bioage_truth import truth_comparison
from survage.workflow.config import config_from_dict
from survage.workflow.sources import SIMULATED_SHEET
from survage.workflow.study import run_study

YAML = Path(__file__).resolve().parents[1] / "experiments" / "oppscr_sim.yaml"
ID = "Record ID"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    raw = yaml.safe_load(YAML.read_text())
    raw["data"]["n"] = 1500
    raw["model"]["single_modality"] = False
    raw["training"].update({"epochs": 5, "patience": 2})
    raw["evaluation"]["bootstrap"] = 50
    raw["bioage"]["interval_members"] = 1
    out = tmp_path_factory.mktemp("sim_truth")
    run_study(config_from_dict(raw, source=str(YAML)), out, progress=False)
    return out


@pytest.fixture(scope="module")
def metrics(run):
    return json.loads((run / "metrics.json").read_text())


@pytest.fixture(scope="module")
def test_rows(run):
    pred = pd.read_csv(run / "predictions.csv")
    sheet = pd.read_csv(run / SIMULATED_SHEET)[[ID, "true_biological_age"]]
    df = pred[pred["part"] == "test"].merge(sheet, on=ID, how="left", validate="one_to_one")
    assert df["true_biological_age"].notna().all()
    return df


def test_config_lists_every_outcome_of_the_sheet():
    raw = yaml.safe_load(YAML.read_text())
    assert [raw["outcomes"]["primary"], *raw["outcomes"]["additional"]] == list(OUTCOMES)


def test_every_outcome_is_reported_or_marked_not_estimable(metrics):
    assert metrics["outcomes"] == list(OUTCOMES)
    for o in OUTCOMES:
        m = metrics["models"]["primary"]["metrics"][o]
        for est in (m["harrell_c"], m["uno_c"], m["ibs"], *m["td_auc"].values()):
            if est["estimate"] is None:
                assert est["not_estimable"] == ev.not_estimable(m["events"])
            else:
                assert "not_estimable" not in est and 0.0 <= est["estimate"] <= 1.0
        assert m["events"] == metrics["cohort"]["events"][o]["test"]


def test_truth_correlations_match_numpy_on_the_written_files(metrics, test_rows):
    tr = metrics["bioage"]["truth"]
    ba, ca, truth = (test_rows[c].to_numpy(float) for c in ("biological_age", "chronological_age",
                                                             "true_biological_age"))
    assert tr["n"] == len(test_rows) == metrics["cohort"]["n"]["test"]
    # tolerance 1e-6: predictions.csv is predicted on the whole cohort, metrics.json on the test
    # rows; the network's float32 batches differ in the last bits (~1e-9 years)
    assert tr["r_biological_age"]["estimate"] == pytest.approx(np.corrcoef(ba, truth)[0, 1], abs=1e-6)
    assert tr["r_chronological_age"]["estimate"] == pytest.approx(np.corrcoef(ca, truth)[0, 1], abs=1e-6)
    assert tr["error_mean"] == pytest.approx(np.mean(ba - truth), abs=1e-6)
    assert tr["error_sd"] == pytest.approx(np.std(ba - truth, ddof=1), abs=1e-6)
    for k in ("r_biological_age", "r_chronological_age", "r_difference"):
        e = tr[k]
        assert e["lower"] <= e["estimate"] <= e["upper"], k
    assert tr["n_bootstrap"] == 50 and tr["seed"] == metrics["methods"]["seed"]
    assert tr["r_difference"]["estimate"] == pytest.approx(
        tr["r_biological_age"]["estimate"] - tr["r_chronological_age"]["estimate"], abs=1e-12)


def test_metrics_and_report_hold_no_identifiers(run, metrics, test_rows):
    text = (run / "metrics.json").read_text()
    assert ID not in text
    ids = set(test_rows[ID].astype(str))
    assert not any(f'"{i}"' in text for i in list(ids)[:200])


def test_report_shows_truth_table_and_not_estimable(run, metrics):
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(str(run / "report.pdf")).pages).replace("\n", " ")
    assert "Biological age against the known truth" in text
    assert "survage.simulate" in text
    tr = metrics["bioage"]["truth"]
    assert fmt_ci(tr["r_biological_age"], 2) in text
    assert fmt_ci(tr["r_chronological_age"], 2) in text
    for o in OUTCOMES:
        m = metrics["models"]["primary"]["metrics"][o]
        if m["harrell_c"]["estimate"] is None:
            assert m["harrell_c"]["not_estimable"] in text
    assert "nan" not in text.lower().split()


def test_truth_comparison_bootstrap_is_seeded_and_exact():
    # the interval is the percentile range of r over resamples drawn by default_rng(seed)
    rng = np.random.default_rng(3)
    truth = rng.uniform(30, 80, 300)
    ca = truth + rng.normal(0, 6, 300)
    ba = truth + rng.normal(1, 3, 300)
    out = truth_comparison(ba, ca, truth, n_boot=40, seed=11)
    again = truth_comparison(ba, ca, truth, n_boot=40, seed=11)
    assert out == again
    g = np.random.default_rng(11)
    r = []
    for _ in range(40):
        i = g.integers(0, 300, 300)
        r.append(np.corrcoef(ba[i], truth[i])[0, 1])
    assert out["r_biological_age"]["lower"] == pytest.approx(np.quantile(r, 0.025), abs=1e-12)
    assert out["r_biological_age"]["upper"] == pytest.approx(np.quantile(r, 0.975), abs=1e-12)
    assert out["error_mean"] == pytest.approx(np.mean(ba - truth), abs=1e-12)


def test_metric_without_events_is_not_estimable_not_nan():
    # no event at all: Harrell C has no comparable pairs, AUC no cases; must not raise or print NaN
    rng = np.random.default_rng(0)
    n = 200
    t = rng.uniform(0.5, 12, n)
    e = np.zeros(n)
    e_tr = (rng.uniform(size=n) < 0.3).astype(float)
    grid = ev.eval_grid([5, 10], t)
    p = ev.Predictions(rng.normal(size=n), np.tile(np.linspace(0.99, 0.9, grid.times.size), (n, 1)))
    point, reps = ev.bootstrap_metrics((rng.uniform(0.5, 12, n), e_tr), t, e, {"m": p}, grid, n_boot=5, seed=1)
    sec = ev.metrics_section(point["m"], reps["m"], grid, n, 0)
    assert sec["harrell_c"] == {"estimate": None, "lower": None, "upper": None,
                                "not_estimable": "not estimable (0 events)"}
    assert sec["td_auc"]["5"]["not_estimable"] == "not estimable (0 events)"
    assert fmt_ci(sec["harrell_c"], 3) == "not estimable (0 events)"
    json.dumps(sec, allow_nan=False)
