"""The PDF report rendered from the metrics.json of a real small study (flchain, tiny training).

Every page must render (pdftoppm) and the headline numbers of metrics.json must be printed at
the report's precision (text extracted with pypdf).
"""

import json
import shutil
import subprocess
import sys

import pytest

from survage.errors import SurvageInputError
from survage.report import check_metrics, render_report
from survage.report.tables import PRECISION, fmt, fmt_ci
from survage.workflow.config import config_from_dict
from survage.workflow.study import run_study

SMALL_FLCHAIN = {
    "name": "flchain_small", "seed": 0,
    "data": {"source": "flchain", "age_range": [50, 101]},
    "design": {"kind": "random", "test_size": 0.3, "validation_size": 0.1},
    "outcomes": {"primary": "death"},
    "model": {"modalities": ["demographics", "clinical"], "hidden": [8], "baselines": []},
    "training": {"epochs": 4, "patience": 3},
    "evaluation": {"horizons": [5, 10], "bootstrap": 20},
    "bioage": {"interval_members": 0, "baselines": []},
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("flchain_run")
    run_study(config_from_dict(SMALL_FLCHAIN, source="test"), out, progress=False)
    return out


@pytest.fixture(scope="module")
def metrics(run):
    return json.loads((run / "metrics.json").read_text())


@pytest.fixture(scope="module")
def text(run):
    from pypdf import PdfReader

    reader = PdfReader(str(run / "report.pdf"))
    return " ".join(p.extract_text() for p in reader.pages).replace("\n", " ")


def test_every_page_renders(run, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: cannot rasterise the pages")
    from pypdf import PdfReader

    n_pages = len(PdfReader(str(run / "report.pdf")).pages)
    assert n_pages >= 9  # cohort, models, calibration, KM, scatter, HR, KDM, secondary, methods
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(run / "report.pdf"), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == n_pages
    from PIL import Image

    for p in pngs:
        im = Image.open(p).convert("L")
        lo, hi = im.getextrema()
        assert hi - lo > 100, f"{p.name} is blank"


def test_headline_numbers_are_printed_at_their_precision(metrics, text):
    o = metrics["primary_outcome"]
    m = metrics["models"]["primary"]["metrics"][o]
    for key, prec in (("harrell_c", "c"), ("uno_c", "c"), ("ibs", "ibs")):
        assert fmt_ci(m[key], PRECISION[prec]) in text, key
    for h, auc in m["td_auc"].items():
        assert fmt_ci(auc, PRECISION["auc"]) in text, f"AUC {h}"
    for h, c in metrics["calibration"]["horizons"].items():
        for k in ("ici", "e50", "e90"):
            assert fmt(c[k], PRECISION["ici"]) in text, f"{k} at {h} y"
    clock = metrics["bioage"]["clocks"]["survage"]
    assert fmt_ci(clock["hr_per_sd"], PRECISION["hr"]) in text
    assert fmt_ci(clock["hr_per_year"], PRECISION["hr"]) in text
    assert fmt(clock["mean_acceleration"], PRECISION["years"]) in text
    assert f"{metrics['cohort']['n']['test']:,}" in text
    assert "Austin" in text and "PhenoAge constant c = 0.090165" in text


def test_study_numbers_match_an_external_reference(run, metrics):
    # Harrell's C of the stored test-set risks, recomputed with lifelines' concordance_index
    # (equal to R survival::concordance; methods.md), must equal the report's estimate.
    import pandas as pd
    from lifelines.utils import concordance_index

    p = pd.read_csv(run / "predictions.csv")
    from survage.data.benchmarks import load_flchain

    c = load_flchain()
    test = p["part"].to_numpy() == "test"
    t, e = c.time("death")[test], c.event("death")[test]
    ref = concordance_index(t, -p.loc[test, "risk_death"].to_numpy(), e)
    assert metrics["models"]["primary"]["metrics"]["death"]["harrell_c"]["estimate"] == pytest.approx(ref, abs=1e-12)
    # flchain: 7,874 people (R survival::flchain); the design holds all people with follow-up
    assert sum(metrics["cohort"]["n"].values()) == len(c) == 7874


def test_metrics_json_has_no_identifiers(run, metrics):
    check_metrics(metrics)
    raw = (run / "metrics.json").read_text()
    assert '"ids"' not in raw


def test_refuses_identifier_keys_and_missing_sections(metrics, tmp_path):
    bad = json.loads(json.dumps(metrics))
    bad["bioage"]["clocks"]["survage"]["sampleID"] = ["1999_1"]
    with pytest.raises(SurvageInputError, match="identifiers"):
        render_report(bad, tmp_path / "x.pdf")
    incomplete = {k: v for k, v in metrics.items() if k != "models"}
    with pytest.raises(SurvageInputError, match="models"):
        render_report(incomplete, tmp_path / "x.pdf")
    assert not list(tmp_path.iterdir())  # nothing written, no temp file left


def test_absent_sections_are_said_not_faked(metrics, tmp_path):
    from pypdf import PdfReader

    m = {k: v for k, v in metrics.items() if k not in ("bioage", "km_by_acceleration_quartile", "calibration")}
    m["notes"] = {"bioage": "no reference population"}
    out = render_report(m, tmp_path / "r.pdf")
    txt = " ".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "Not available: no reference population" in txt
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_forest_plot_ticks_are_readable():
    from survage.report.figures import hr_ticks

    # a typical HR axis (0.96 to 2.6): 1 and the usual hazard-ratio steps, not just "1.0"
    assert hr_ticks(0.96, 2.6) == [1.0, 1.25, 1.5, 2.0, 2.5]
    assert hr_ticks(0.96, 1.6) == [1.0, 1.1, 1.25, 1.5]
    assert hr_ticks(0.5, 1.6) == [0.5, 0.67, 0.8, 1.0, 1.25, 1.5]
    assert hr_ticks(0.9, 5e7) == [1.0, 100.0, 1e4, 1e6]  # a degenerate fit: powers of ten only


def test_flchain_report_says_why_clock_sections_are_absent(text):
    # flchain has no PhenoAge/KDM markers and no DXA: the sections say so instead of vanishing
    assert "Klemera-Doubal" in text and "kdm is not among bioage.baselines" in text
    assert "DXA body composition (secondary analysis) Not available" in text


def test_importing_the_report_does_not_import_pyplot():
    code = "import sys, survage.report, survage.workflow; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
