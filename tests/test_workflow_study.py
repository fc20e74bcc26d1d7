"""The NHANES study pipeline end to end (tiny training), predict and the CLI.

Reference counts: /work/shared/data/README.md (mortality-linked, ages 20-84: NHANES III 18,107
people; NHANES 1999-2002 9,873 people with 2,329 all-cause deaths).
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from survage.cli import main
from survage.data.nhanes import read_nhanes_table
from survage.data.preprocessing import DistributionShiftWarning
from survage.errors import SurvageInputError
from survage.workflow.config import config_from_dict
from survage.workflow.predict import predict
from survage.workflow.study import run_study

SMALL_NHANES = {
    "name": "nhanes_small", "seed": 0,
    "data": {"source": "nhanes"},
    "design": {"kind": "external", "train": "nhanes3", "test": "nhanes4", "validation_size": 0.1},
    "outcomes": {"primary": "death", "additional": ["death_heart"]},
    "model": {"modalities": ["demographics", "clinical"], "hidden": [8], "baselines": ["cox", "age_gompertz"]},
    "training": {"epochs": 3, "patience": 2},
    "evaluation": {"horizons": [5, 10], "bootstrap": 10},
    "bioage": {"interval_members": 2, "baselines": ["phenoage", "kdm"]},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("nhanes_run")
    run_study(config_from_dict(SMALL_NHANES, source="test"), out, progress=False)
    return out


@pytest.fixture(scope="module")
def metrics(run):
    return json.loads((run / "metrics.json").read_text())


def test_run_directory_holds_every_artifact(run):
    for name in ("metrics.json", "predictions.csv", "config.resolved.yaml", "report.pdf",
                 "bioage_reference.json", "model", "ensemble/member_1"):
        assert (run / name).exists(), name
    assert not list(run.glob("*.tmp")) and not list(run.glob(".*.tmp"))


def test_design_counts_match_the_data_readme(metrics):
    n = metrics["cohort"]["n"]
    assert n["train"] + n["validation"] == 18107
    assert n["test"] == 9873
    assert metrics["cohort"]["events"]["death"]["test"] == 2329
    assert "NHANES III" in metrics["cohort"]["design"]


def test_models_and_paired_differences(metrics):
    assert set(metrics["models"]) == {"primary", "only_demographics", "only_clinical", "cox", "age_gompertz"}
    ref = metrics["paired_reference"]
    assert ref in ("only_demographics", "only_clinical")
    diffs = metrics["paired_differences"]
    assert {d["model"] for d in diffs} == set(metrics["models"]) - {ref}
    for d in diffs:  # the paired difference of point estimates is the difference of the estimates
        o, m = d["outcome"], d["metric"]
        est = metrics["models"][d["model"]]["metrics"][o][m]["estimate"] - metrics["models"][ref]["metrics"][o][m]["estimate"]
        assert d["difference"]["estimate"] == pytest.approx(est, abs=1e-12)
        assert d["p_floor"] == pytest.approx(2 / 10)


def test_identifiers_only_in_predictions(run):
    p = pd.read_csv(run / "predictions.csv")
    assert p["sampleID"].is_unique and len(p) == 18107 + 9873
    raw = (run / "metrics.json").read_text() + (run / "config.resolved.yaml").read_text()
    sample = p["sampleID"].sample(200, random_state=0)
    assert not any(f'"{s}"' in raw for s in sample)
    expected = {"risk_death", "survival_death_5y", "survival_death_10y", "risk_death_heart",
                "survival_death_heart_10y", "biological_age", "age_acceleration", "biological_age_lower",
                "biological_age_upper"}
    assert expected <= set(p.columns)


def test_biological_age_and_clocks(metrics, run):
    bio = metrics["bioage"]
    # Gompertz slope of adult all-cause mortality: about 0.08-0.09 per year (Levine 2018's
    # PhenoAge mortality model has 0.0077 per month = 0.092 per year)
    assert 0.06 < bio["reference"]["beta"] < 0.11
    assert set(bio["clocks"]) == {"survage", "phenoage"}
    assert "fev" in metrics["notes"]["kdm"]  # FEV1 is not measured in 1999-2002 (data README)
    p = pd.read_csv(run / "predictions.csv")
    ok = p["biological_age_lower"].notna()
    assert (p.loc[ok, "biological_age_lower"] <= p.loc[ok, "biological_age_upper"]).all()
    np.testing.assert_allclose(p["age_acceleration"], p["biological_age"] - p["chronological_age"])


def test_phenoage_clock_matches_the_published_formula(metrics):
    # PhenoAge written out from Levine et al. 2018 (methods.md: ln CRP, c = 0.090165) on the
    # 1999-2002 test rows; BioAge's phenoage0 is present for exactly the same 8,303 people.
    raw = read_nhanes_table("nhanes4")
    d = raw[(raw["eligstat"] == 1) & raw["age"].between(20, 84)]
    xb = (-19.90667 - 0.03359355 * d.albumin_gL + 0.009506491 * d.creat_umol + 0.1953192 * d.glucose_mmol
          + 0.09536762 * np.log(d.crp) - 0.01199984 * d.lymph + 0.02676401 * d.mcv + 0.3306156 * d.rdw
          + 0.001868778 * d.alp + 0.05542406 * d.wbc + 0.08035356 * d.age)
    mort = 1 - np.exp(-1.51714 * np.exp(xb) / 0.007692696)
    pheno = 141.50225 + np.log(-0.0055305 * np.log(1 - mort)) / 0.090165
    acc = (pheno - d.age).dropna()
    c = metrics["bioage"]["clocks"]["phenoage"]
    assert c["n"] == acc.size == d["phenoage0"].notna().sum() == 8303
    assert c["mean_acceleration"] == pytest.approx(acc.mean(), abs=1e-9)
    assert c["sd_acceleration"] == pytest.approx(acc.std(ddof=1), abs=1e-9)


def test_predict_reproduces_stored_predictions_exactly(run, tmp_path):
    out = predict(run, None, tmp_path / "p.csv")
    a = pd.read_csv(run / "predictions.csv").drop(columns="part")
    b = pd.read_csv(out)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _nhanes4_csv(tmp_path, change):
    raw = read_nhanes_table("nhanes4").drop(columns="survey").head(1500)
    raw = change(raw)
    p = tmp_path / "new.csv"
    raw.to_csv(p, index=False)
    return p


def test_predict_warns_on_a_column_in_another_unit(run, tmp_path):
    def to_mmol(df):
        df["glucose"] = df["glucose"] / 18.0  # mg/dL -> mmol/L: the training column is mg/dL
        return df

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        predict(run, _nhanes4_csv(tmp_path, to_mmol), tmp_path / "p.csv")
    msgs = [str(w.message) for w in rec if issubclass(w.category, DistributionShiftWarning)]
    assert any("glucose" in m for m in msgs)
    assert not any("albumin" in m for m in msgs)


def test_predict_names_a_missing_column(run, tmp_path):
    with pytest.raises(SurvageInputError, match="albumin"):
        predict(run, _nhanes4_csv(tmp_path, lambda d: d.drop(columns="albumin")), tmp_path / "p.csv")


def test_cli_report_rerenders_and_errors_cleanly(run, tmp_path, capsys):
    from pypdf import PdfReader

    assert main(["report", str(run), "--out", str(tmp_path / "again.pdf")]) == 0
    assert len(PdfReader(str(tmp_path / "again.pdf")).pages) >= 7
    assert main(["report", str(tmp_path)]) == 2
    assert "no metrics.json" in capsys.readouterr().err
    assert main(["run", "experiments/oppscr.yaml", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "--data" in capsys.readouterr().err
