"""The NHANES study pipeline end to end (tiny training), predict and the CLI.

Reference counts: /work/shared/data/README.md (mortality-linked, ages 20-84: NHANES III 18,107
people; NHANES 1999-2002 9,873 people with 2,329 all-cause deaths; DXA in 3,414 of them).
The same tiny study checks the clock comparison on common rows, residual acceleration, the
Klemera-Doubal comparison on the NHANES III held-out rows, the DXA secondary analysis and the
headline figures printed in its PDF.
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
    "secondary": {"analyses": ["dxa"], "folds": 3},
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


# ------------------------------------------------------------------ clocks, KDM, DXA, the PDF
@pytest.fixture(scope="module")
def preds(run):
    return pd.read_csv(run / "predictions.csv")


def test_clocks_are_compared_on_the_same_rows(metrics):
    bio = metrics["bioage"]
    rows = bio["comparison_rows"]
    # PhenoAge exists for 8,303 test people (BioAge's phenoage0 count) and survage for all 9,873,
    # so the comparison set is PhenoAge's rows
    assert rows["n"] == 8303 and rows["of_n"] == 9873
    assert {(c["n"], c["events"]) for c in bio["clocks"].values()} == {(rows["n"], rows["events"])}
    extra = bio["clocks_all_rows"]["survage"]
    assert (extra["n"], extra["events"]) == (9873, 2329)
    assert "not the comparison set" in extra["label"]


def test_phenoage_hazard_ratio_matches_lifelines(metrics):
    # lifelines CoxPHFitter (Efron ties, no penalty) of death on age + PhenoAge acceleration over
    # the comparison rows; PhenoAge written out from Levine et al. 2018 as in the test above.
    from lifelines import CoxPHFitter

    from survage.data import load_nhanes

    c = load_nhanes("nhanes4", age_range=(20, 84))
    d = c.frame.assign(t=c.time("death"), e=c.event("death"))
    d = d[c.at_risk("death")]
    xb = (-19.90667 - 0.03359355 * d.albumin_gL + 0.009506491 * d.creat_umol + 0.1953192 * d.glucose_mmol
          + 0.09536762 * np.log(d.crp.where(d.crp > 0)) - 0.01199984 * d.lymph + 0.02676401 * d.mcv
          + 0.3306156 * d.rdw + 0.001868778 * d.alp + 0.05542406 * d.wbc + 0.08035356 * d.age)
    mort = 1 - np.exp(-1.51714 * np.exp(xb) / 0.007692696)
    d = d.assign(acc=141.50225 + np.log(-0.0055305 * np.log(1 - mort)) / 0.090165 - d.age)
    d = d[["t", "e", "age", "acc"]].dropna()
    fit = CoxPHFitter().fit(d, "t", "e")
    b, se = fit.params_["acc"], fit.standard_errors_["acc"]
    sd = d["acc"].std(ddof=1)
    got = metrics["bioage"]["clocks"]["phenoage"]
    assert got["n"] == len(d)
    assert got["hr_per_year"]["estimate"] == pytest.approx(np.exp(b), rel=1e-5)
    assert got["hr_per_sd"]["estimate"] == pytest.approx(np.exp(b * sd), rel=1e-5)
    assert got["hr_per_sd"]["upper"] == pytest.approx(np.exp((b + 1.959964 * se) * sd), rel=1e-4)
    assert got["lr_gain"]["chi2"] == pytest.approx(2 * (fit.log_likelihood_ - CoxPHFitter().fit(
        d[["t", "e", "age"]], "t", "e").log_likelihood_), rel=1e-4)


def test_residual_acceleration_and_km_quartiles(metrics, preds):
    # the residual line is numpy's least-squares line of BA on CA over the training rows
    tr, te = preds[preds["part"] == "train"], preds[preds["part"] == "test"]
    slope, intercept = np.polyfit(tr["chronological_age"], tr["biological_age"], 1)
    res = metrics["bioage"]["clocks"]["survage"]["residual"]
    assert (res["slope"], res["intercept"]) == (pytest.approx(slope, rel=1e-8), pytest.approx(intercept, rel=1e-8))
    np.testing.assert_allclose(preds["age_acceleration_residual"],
                               preds["biological_age"] - (intercept + slope * preds["chronological_age"]),
                               atol=1e-8)
    km = metrics["km_by_acceleration_quartile"]
    assert km["acceleration"] == "residual"
    np.testing.assert_allclose(km["quartile_edges"], np.quantile(te["age_acceleration_residual"],
                                                                 [0, 0.25, 0.5, 0.75, 1]), atol=1e-9)
    assert sum(g["n"] for g in km["groups"]) == 9873
    # quartiles are formed within age bands: each band's edges are numpy's quantiles of that band,
    # and the groups' mean ages stay close (pooled quartiles of acceleration sort people by age)
    bands = np.digitize(te["chronological_age"], [40, 50, 60, 70])
    got = km["within_age_bands"]
    assert [b["n"] for b in got] == np.bincount(bands).tolist()
    for b, k in zip(got, np.unique(bands)):
        np.testing.assert_allclose(b["quartile_edges"], np.quantile(
            te["age_acceleration_residual"][bands == k], [0, 0.25, 0.5, 0.75, 1]), atol=1e-9)
    mean_ages = [g["mean_age"] for g in km["groups"]]
    assert max(mean_ages) - min(mean_ages) < 2.0
    # with age in the Cox model, raw and residual acceleration give the same HR per year
    for c in metrics["bioage"]["clocks"].values():
        assert c["residual"]["hr_per_year"]["estimate"] == pytest.approx(c["hr_per_year"]["estimate"], rel=1e-6)


def test_kdm_on_the_nhanes3_held_out_rows(metrics, preds):
    h = metrics["kdm_holdout"]
    assert h["title"] == "Klemera-Doubal (NHANES III held-out)"
    assert set(h["clocks"]) == {"survage", "phenoage", "kdm"}
    assert "early stopping" in h["rows"]
    # rows: the validation (held-out) NHANES III people with all nine KDM biomarkers and all nine
    # PhenoAge markers (CRP > 0), counted from the raw extract
    raw = read_nhanes_table("nhanes3").set_index("sampleID")
    val = raw.loc[preds.loc[preds["part"] == "validation", "sampleID"]]
    kdm_ok = val[["fev", "sbp", "totchol", "hba1c", "albumin", "creat", "lncrp", "alp", "bun"]].notna().all(axis=1)
    pheno_ok = val[["albumin_gL", "creat_umol", "glucose_mmol", "lymph", "mcv", "rdw", "alp", "wbc"]].notna().all(
        axis=1) & (val["crp"] > 0)
    n = int((kdm_ok & pheno_ok).sum())
    assert h["comparison_rows"] == {"n": n, "events": h["clocks"]["kdm"]["events"], "of_n": len(val)}
    assert {c["n"] for c in h["clocks"].values()} == {n}
    # KDM's own training rule: NHANES III training rows, ages 30-75, pregnant == 0, per sex
    tr = raw.loc[preds.loc[preds["part"] == "train", "sampleID"]]
    tr = tr[tr["age"].between(30, 75) & (tr["pregnant"] == 0)]
    assert h["kdm"]["n_train"] == {"men": int((tr["gender"] == 1).sum()), "women": int((tr["gender"] == 2).sum())}
    # the reported clock: KDM fitted on the training rows, projected on the comparison rows
    from survage.workflow.clocks import fit_kdm, kdm_predict

    kdm = kdm_predict(fit_kdm(raw.loc[preds.loc[preds["part"] == "train", "sampleID"]]), val)
    both = (kdm_ok & pheno_ok).to_numpy()
    assert h["clocks"]["kdm"]["mean_acceleration"] == pytest.approx(np.mean(kdm[both] - val["age"].to_numpy()[both]),
                                                                     abs=1e-9)
    # peer: BioAge's kdm0, the same recipe fitted on all NHANES III rows aged 30-75 (given for
    # those ages only). Ours leaves out the held-out 10 %, so it differs slightly: measured max
    # 0.14 years, mean -0.003 years over 930 held-out rows (seed 0).
    peer = val["kdm0"].notna().to_numpy()
    diff = kdm[peer] - val["kdm0"].to_numpy()[peer]
    assert peer.sum() > 800 and np.abs(diff).max() < 0.3 and abs(diff.mean()) < 0.02


def test_dxa_secondary_analysis(metrics):
    s = metrics["secondary"]["dxa"]
    raw = read_nhanes_table("nhanes4")
    d = raw[(raw["eligstat"] == 1) & raw["age"].between(20, 84) & raw[["btotpf", "fm", "ffm"]].notna().any(axis=1)]
    dead = d["ucod_leading"].notna() | (d["status"] == 1)  # all-cause death, data README
    assert (s["n"], s["events"]) == (len(d), int(dead.sum())) == (3414, 197)
    assert s["folds"] == 3 and len(s["models"]["clinical"]["fold_harrell_c"]) == 3
    assert set(s["models"]) == {"clinical", "dxa", "clinical_dxa"}
    for diff in s["differences"]:
        est = s["models"][diff["model"]]["harrell_c"]["estimate"] - s["models"][diff["reference"]]["harrell_c"]["estimate"]
        assert diff["difference"]["estimate"] == pytest.approx(est, abs=1e-12)
        assert diff["difference"]["lower"] <= diff["difference"]["estimate"] <= diff["difference"]["upper"]
    assert s["underpowered"] is True  # 197 deaths < 200
    assert s["verdict"].startswith("Underpowered: only 197 events (fewer than 200)")


def test_pdf_prints_the_headline_figures_and_every_page_renders(run, metrics, tmp_path):
    import shutil
    import subprocess

    from pypdf import PdfReader

    from survage.report.tables import PRECISION, fmt_ci

    reader = PdfReader(str(run / "report.pdf"))
    text = " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")
    m = metrics["models"]["primary"]["metrics"]["death"]
    assert fmt_ci(m["harrell_c"], PRECISION["c"]) in text
    bio = metrics["bioage"]
    for c in [*bio["clocks"].values(), *bio["clocks_all_rows"].values(), *metrics["kdm_holdout"]["clocks"].values()]:
        for est in (c["hr_per_sd"], c["hr_per_year"], c["residual"]["hr_per_sd"]):
            assert fmt_ci(est, PRECISION["hr"]) in text, c["label"]
        assert fmt_ci(c["c_index"], PRECISION["c"]) in text, c["label"]
    s = metrics["secondary"]["dxa"]
    for mm in s["models"].values():
        assert fmt_ci(mm["harrell_c"], PRECISION["c"]) in text, mm["label"]
    for d in s["differences"]:
        assert fmt_ci(d["difference"], PRECISION["c"]) in text
    for title in ("Klemera-Doubal (NHANES III held-out)", "DXA body composition (secondary analysis)",
                  "Underpowered: only 197 events", "age-adjusted (residual) acceleration",
                  f"{bio['comparison_rows']['n']:,} of {bio['comparison_rows']['of_n']:,} people"):
        assert title in text, title
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the pages")
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(run / "report.pdf"), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == len(reader.pages) >= 9
