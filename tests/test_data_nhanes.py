"""The bundled NHANES extracts through the cohort contract.

Reference counts: ../shared/data/README.md (mortality-linked, age 20-84: NHANES III 18,107 rows
and 7,159 all-cause deaths; NHANES 1999-2002 9,873 rows and 2,329 deaths; DXA 3,414 rows).
"""

import numpy as np
import pytest

from survage.data import load_nhanes
from survage.data.nhanes import CLINICAL, DXA


@pytest.fixture(scope="module")
def both():
    return load_nhanes("both")


def test_row_and_death_counts_match_the_data_readme(both):
    is3 = (both.frame["survey"] == "nhanes3").to_numpy()
    assert is3.sum() == 18107
    assert both.event("death")[is3].sum() == 7159
    assert (~is3).sum() == 9873
    assert both.event("death")[~is3].sum() == 2329
    assert both.modality_present("dxa").sum() == 3414
    # README: 195 deaths among DXA rows counts coded causes (ucod_leading); all-cause adds status==1
    dxa = both.frame[both.modality_present("dxa")]
    assert dxa["ucod_leading"].notna().sum() == 195


def test_exclusions_are_counted_with_reasons(both):
    s = both.exclusions.summary().set_index("reason")["n_rows"]
    assert s["not eligible for mortality linkage"] == 20 + 9
    assert s["age outside 20-84"] == 18825 - 20 - 18107 + 10291 - 9 - 9873


def test_ageing_death_follow_up_capped_at_240_months_in_nhanes3(both):
    is3 = (both.frame["survey"] == "nhanes3").to_numpy()
    t = both.time("death_ageing")
    assert t[is3].max() <= 20.0 + 1e-12
    # deaths beyond month 240 of follow-up carry status 0: censored at month 240, not at death
    late = is3 & (both.frame["permth_int"].to_numpy() > 241) & (both.event("death") == 1) & (
        both.event("death_ageing") == 0)
    assert late.sum() > 500
    assert np.all(t[late] <= 20.0 + 1e-12) and np.median(t[late]) == 20.0


def test_cause_specific_deaths(both):
    heart = both.event("death_heart") == 1
    assert np.all(both.frame["ucod_leading"].to_numpy()[heart] == 1)
    assert np.all(both.event("death")[heart] == 1)


def test_no_outcome_in_disguise_can_reach_features(both):
    feats = set(both.feature_columns())
    forbidden = {"diabetes", "hyperten", "ucod_leading", "status", "time", "permth_int", "eligstat",
                 "phenoage0", "phenoage_advance0", "kdm0", "kdm_advance0", "sampleID", "year",
                 "wave", "survey"}
    assert not feats & forbidden
    assert set(CLINICAL) | set(DXA) | {"age", "sex"} == feats


def test_new_people_without_follow_up_columns_can_be_read_for_prediction():
    from survage.data.nhanes import nhanes_cohort, read_nhanes_table

    raw = read_nhanes_table("nhanes4").drop(
        columns=["eligstat", "ucod_leading", "status", "permth_int", "time", "cadmium"])
    c = nhanes_cohort(raw, for_prediction=True)
    assert c.n == int(raw["age"].between(20, 84).sum())
    assert not c.at_risk("death").any()  # no outcome known: counted, not invented
    assert "cadmium" not in c.feature_columns(["clinical"])
    s = c.exclusions.summary()
    assert (s.loc[s["scope"] == "death", "n_rows"] == c.n).any()
