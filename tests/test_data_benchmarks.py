"""Benchmark datasets through the cohort contract.

Reference counts: scikit-survival dataset docs (sksurv.datasets, v0.22+): flchain 7,874 people
and 2,169 deaths (also R survival ?flchain); whas500 500 patients, 215 deaths (43.0 %), 300 men
(Hosmer, Lemeshow & May 2008, Table 1.3 data); GBSG2 686 women, 299 events (TH.data ?GBSG2);
Rossi 432 men, 114 arrests (Fox & Weisberg, "Cox proportional-hazards regression", R companion).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from lifelines import CoxPHFitter

from survage.data import load_flchain, load_gbsg2, load_rossi, load_whas500

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def flchain():
    return load_flchain()


def test_flchain_counts_units_and_roles(flchain):
    c = flchain
    assert c.n == 7874 and c.event("death").sum() == 2169
    assert c.frame["sex"].sum() == 3524  # 'M' in the source
    # futime is in days: the longest follow-up is 5,215 days (sksurv y["futime"].max())
    assert c.time("death").max() == pytest.approx(5215 / 365.25)
    assert "chapter" in c.outcome_data and "chapter" not in c.feature_columns()
    assert "sample_yr" not in c.feature_columns()
    assert set(c.categorical) == {"flc_grp", "mgus"}
    assert c.features().shape == (7874, 7)
    assert c.frame["creatinine"].isna().sum() == 1350  # missing in the source, kept as NaN
    assert c.ids == ("row_id",) and c.frame["row_id"].tolist() == list(range(7874))


def test_whas500_counts_and_sex_coding():
    c = load_whas500()
    assert c.n == 500 and c.event("death").sum() == 215
    assert c.frame["sex"].sum() == 300  # source gender 0 = male (300), 1 = female (200)
    assert c.outcome("death").time == "lenfol" and c.outcome("death").unit == "days"
    assert len(c.feature_columns(["clinical"])) == 12
    assert set(c.frame[list(c.categorical)].stack().unique()) == {0.0, 1.0}


def test_gbsg2_counts_and_codes():
    c = load_gbsg2()
    assert c.n == 686 and c.event("recurrence_free_survival").sum() == 299
    assert c.sex is None and c.feature_columns(["demographics"]) == ["age"]
    assert sorted(c.frame["tgrade"].unique()) == [1.0, 2.0, 3.0]
    assert c.frame["horTh"].sum() == 246  # TH.data GBSG2: 246 with hormonal therapy


def test_rossi_weeks_become_days_and_cox_matches_r():
    c = load_rossi()
    assert c.n == 432 and c.event("arrest").sum() == 114
    assert np.allclose(c.frame["arrest_days"], 7 * c.frame["week"])
    assert c.time("arrest").max() == pytest.approx(52 * 7 / 365.25)
    assert "week" in c.outcome_data and "week" not in c.feature_columns()
    # Cox coefficients do not depend on the time unit: equal to R's
    # coxph(Surv(week, arrest) ~ fin+age+race+wexp+mar+paro+prio, data=rossi, ties='efron')
    ref = json.loads((REF / "coxph_rossi.json").read_text())["efron"]
    df = c.features()[ref["covariates"]].assign(T=c.time("arrest"), E=c.event("arrest"))
    fit = CoxPHFitter().fit(df, "T", "E")
    assert np.allclose(fit.params_[ref["covariates"]].to_numpy(), ref["coef"], atol=1e-5)


@pytest.mark.parametrize("loader", [load_whas500, load_gbsg2, load_rossi])
def test_no_exclusions_and_strict_mode_accepts_clean_data(loader):
    c = loader(strict=True)
    assert len(c.exclusions) == 0
    assert not set(c.feature_columns()) & (c.outcome_data | set(c.ids))
