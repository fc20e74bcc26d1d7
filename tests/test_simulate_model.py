"""The generative model of the opportunistic-CT simulator (survage.simulate).

References used below: scikit-learn ``roc_auc_score`` for the AUROC targets (computed here from
the layout's definition, independently of ``survage.simulate.targets``), lifelines
``CoxPHFitter`` for the Gompertz slope and the nested Cox models, scikit-learn
``LinearRegression`` for the recovery of the true biological age.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from sklearn.linear_model import LinearRegression
from sklearn.metrics import roc_auc_score

from survage.data.oppscr_layout import CT_HEADERS, DX_PAIRS, OUTCOMES
from survage.errors import SurvageInputError
from survage.simulate import (AUROC_TARGETS, SimulationParameters, five_year_death_auroc,
                              simulate_cohort)

N = 9000


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return simulate_cohort(N, seed=0)


def test_same_seed_same_frame_other_seed_differs() -> None:
    a = simulate_cohort(300, seed=3)
    pd.testing.assert_frame_equal(a, simulate_cohort(300, seed=3))
    b = simulate_cohort(300, seed=4)
    assert not np.allclose(a["age"], b["age"])
    assert not a["PT ID"].equals(b["PT ID"])


def test_bad_n_raises() -> None:
    for bad in (0, -3, 2.5, True):
        with pytest.raises(SurvageInputError, match="positive integer"):
            simulate_cohort(bad, seed=0)  # type: ignore[arg-type]


def test_physical_relations_hold_exactly(big: pd.DataFrame) -> None:
    d = big.dropna(subset=["tat_area", "muscle_area"])
    assert len(d) > 0.95 * N
    np.testing.assert_allclose(d["tat_area"], d["vat_area"] + d["sat_area"] + d["imat_area"], rtol=1e-12)
    np.testing.assert_allclose(d["vat_sat_ratio"], d["vat_area"] / d["sat_area"], rtol=1e-12)
    np.testing.assert_allclose(d["l3_smi"], d["muscle_area"] / d["height_m"] ** 2, rtol=1e-12)
    assert (d["total_body_area"] > d["tat_area"] + d["muscle_area"]).all()
    assert (d["imat_area"] > 0).all() and (d["vat_area"] > 0).all() and (d["sat_area"] > 0).all()
    # a segmentation group is blank as a whole
    fat = big[["tat_area", "vat_area", "sat_area", "vat_sat_ratio", "total_body_area"]].isna()
    assert (fat.all(axis=1) == fat.any(axis=1)).all()


def test_truth_columns(big: pd.DataFrame) -> None:
    p = SimulationParameters()
    np.testing.assert_allclose(big["true_log_hazard"],
                               p.gompertz_alpha + p.gompertz_beta * big["true_biological_age"], rtol=1e-12)
    # each latent factor adds to BA: it correlates with acceleration, none dominates it
    acc = big["true_biological_age"] - big["age"]
    for c in [c for c in big.columns if c.startswith("latent_")]:
        r = np.corrcoef(big[c], acc)[0, 1]
        assert 0.1 < r < 0.65, c


def _five_year_auroc(df: pd.DataFrame, col: str, direction: int) -> float:
    """The layout's definition, written out: died <= 5 y (cases) vs followed >= 5 y (controls)."""
    h = 5 * 365.25
    died5 = df["death_days"].notna() & (df["death_days"] <= h)
    keep = (died5 | (df["followup_days"] >= h)) & df[col].notna()
    return roc_auc_score(died5[keep].astype(int), direction * df.loc[keep, col])


@pytest.mark.parametrize("col", list(AUROC_TARGETS))
def test_five_year_death_auroc_targets(big: pd.DataFrame, col: str) -> None:
    # targets from shared/oppscr_layout.md (Pickhardt et al. 2020, Lancet Digit Health,
    # doi:10.1016/S2589-7500(20)30025-X): within 0.05 at n = 9000, seed 0 (measured: within 0.02)
    target, direction = AUROC_TARGETS[col]
    auc = _five_year_auroc(big, col, direction)
    assert abs(auc - target) < 0.05, (col, auc, target)
    assert five_year_death_auroc(big, col, direction) == pytest.approx(auc, abs=1e-12)


def test_cohort_shape(big: pd.DataFrame) -> None:
    # layout description: mean age about 57, about 20 % death or major CV event over a
    # median 8.8 years
    age = big["age"]
    assert 56.0 < age.mean() < 58.5 and 7.5 < age.std() < 9.5
    assert age.min() >= 40 and age.max() <= 85
    major = (big["death_event"] == 1) | (big["cvd_event"] == 1)
    assert 0.17 < major.mean() < 0.23
    assert 8.3 < np.median(big["followup_days"]) / 365.25 < 9.3
    assert 0.3 < (big["aoca_agatston"] == 0).mean() < 0.7
    assert 0.3 < big["sex"].mean() < 0.6


def test_outcomes_consistent(big: pd.DataFrame) -> None:
    fu = big["followup_days"]
    d = big["death_days"]
    assert (d.dropna() == fu[d.notna()]).all()
    for _, _, e in DX_PAIRS:
        day, text = big[f"{e}_dx_days"], big[f"{e}_dx_text"]
        assert (day.notna() == text.notna()).all(), e
        assert (day.dropna() <= fu[day.notna()]).all(), e
        assert (day.dropna() != 0).all(), e
    for o in OUTCOMES[1:]:
        hist = big[f"history_{o}"] == 1
        assert big.loc[hist, f"{o}_event"].isna().all() and big.loc[~hist, f"{o}_event"].notna().all()
        assert (big.loc[~hist, f"{o}_time"] <= fu[~hist]).all()
    # a few prevalent conditions, and incident events in every outcome
    assert 0.05 < (big["history_diabetes"] == 1).mean() < 0.2
    for o in OUTCOMES:
        assert np.nansum(big[f"{o}_event"]) >= 20, o


def test_death_hazard_is_gompertz_in_ba(big: pd.DataFrame) -> None:
    # h(t | BA) = exp(alpha + beta t) exp(beta BA) is proportional in BA: a Cox model of death
    # on BA (lifelines CoxPHFitter, no penalty) estimates beta = 0.088 (SE about 0.002)
    df = pd.DataFrame({"ba": big["true_biological_age"], "T": big["death_time"], "E": big["death_event"]})
    cph = CoxPHFitter().fit(df, "T", "E")
    assert cph.params_["ba"] == pytest.approx(SimulationParameters().gompertz_beta, abs=0.008)


def test_neither_modality_alone_recovers_ba(big: pd.DataFrame) -> None:
    ct = list(CT_HEADERS.values())
    clin = ["bmi", "bmi_over_30", "tobacco", "alcohol_abuse", "frs_10y", "frax_major", "frax_hip",
            "metabolic_syndrome", *(f"history_{o}" for o in OUTCOMES[1:])]
    x = big[["age", "sex", *ct, *clin]].astype(float).copy()
    x["aoca_agatston"] = np.log1p(x["aoca_agatston"])
    x = x.fillna(x.median())
    ba = big["true_biological_age"].to_numpy()
    half = np.arange(N) < N // 2

    def r(cols: list[str]) -> float:
        fit = LinearRegression().fit(x.loc[half, cols], ba[half])
        return float(np.corrcoef(fit.predict(x.loc[~half, cols]), ba[~half])[0, 1])

    r_age, r_ct, r_clin = r(["age", "sex"]), r(["age", "sex", *ct]), r(["age", "sex", *clin])
    r_all = r(["age", "sex", *ct, *clin])
    # measured at seed 0 (held-out half): age 0.56, CT 0.80, clinical 0.75, fused 0.87
    assert r_age < r_clin < r_all and r_age < r_ct < r_all
    assert r_all - r_ct > 0.04 and r_all - r_clin > 0.06
    assert r_all < 0.95  # the unobserved factor stays unobserved


def test_framingham_hard_chd_against_atp3_point_tables() -> None:
    # NCEP ATP III point tables (JAMA 2001, doi:10.1001/jama.285.19.2486, Executive Summary,
    # Figure "Estimate of 10-year risk"), which approximate the continuous equation:
    # woman 40, TC 180, HDL 65, SBP 110 untreated, non-smoker: -7+3-1+0 = -5 points -> "<1%";
    # man 72, TC 260, HDL 35, SBP 170 untreated, smoker: 12+1+1+2+2 = 18 points -> ">=30%";
    # man 55, TC 200, HDL 50, SBP 125 untreated, non-smoker: 8+3+0+0 = 11 points -> 8%.
    from survage.simulate.risk_scores import framingham_hard_chd_risk

    def a(*x: float) -> np.ndarray:
        return np.array(x, dtype=float)

    r = framingham_hard_chd_risk(a(40, 72, 55), a(0, 1, 1), a(180, 260, 200), a(65, 35, 50),
                                 a(110, 170, 125), a(0, 0, 0), a(0, 1, 0))
    assert r[0] < 1.0
    assert r[1] > 25.0
    assert 4.0 < r[2] < 12.0


def test_frs_cell_format() -> None:
    from survage.simulate.sheet import format_frs

    assert [format_frs(v) for v in (0.4, 1.0, 7.49, 7.5, 30.0, 30.2, float("nan"))] == [
        "<1%", "1%", "7%", "8%", "30%", ">30%", "X"]
