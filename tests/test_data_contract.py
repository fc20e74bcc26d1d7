"""The cohort contract (Cohort.build), leak guards, preprocessing fitted on training rows, splits.

Row problems: strict mode raises naming the column and rows; the default excludes the rows and
counts each reason. Reference values: numpy / scikit-learn (StandardScaler) on the same rows.
"""

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import StandardScaler

from survage.data import Cohort, Outcome, load_flchain, load_nhanes
from survage.data.preprocessing import (CohortPreprocessor, DistributionShiftWarning,
                                        ModalityPreprocessor)
from survage.data.splits import kfold_splits, train_validation_test_split
from survage.errors import SurvageInputError


def frame(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "pid": [f"p{i}" for i in range(n)],
        "age": rng.uniform(30, 80, n).round(1),
        "sex": np.arange(n) % 2 * 1.0,
        "x1": rng.normal(size=n),
        "x2": rng.lognormal(size=n),
        "t": rng.uniform(1, 10, n).round(2),
        "e": (np.arange(n) % 3 == 0) * 1.0,
        "fu": 10.0,
    })


def build(df, **kw):
    args = dict(ids="pid", age="age", sex="sex", modalities={"clinical": ("x1", "x2")},
                outcomes=[Outcome("death", "t", "e", "years")])
    args.update(kw)
    return Cohort.build(df, **args)


def reasons(c):
    return {(r.scope, r.column, r.reason): r.n_rows for r in c.exclusions.summary().itertuples()}


# ---------------------------------------------------------------- structural problems
def test_missing_declared_column_raises_naming_it():
    with pytest.raises(SurvageInputError, match="x3"):
        build(frame(), modalities={"clinical": ("x1", "x3")})


def test_outcome_with_zero_events_raises_naming_the_column():
    df = frame().assign(e=0.0)
    for strict in (False, True):
        with pytest.raises(SurvageInputError, match="no events") as err:
            build(df, strict=strict)
        assert err.value.column == "e"


# ---------------------------------------------------------------- row problems: strict vs default
ROW_CASES = [
    ("non-numeric feature", lambda d: d.assign(x1=d["x1"].astype(object)).pipe(_set, 3, "x1", "abc"),
     "cohort", "x1", "non-numeric value in a numeric column"),
    ("negative time", lambda d: _set(d, 4, "t", -1.0), "death", "t", "negative time"),
    ("NaN time", lambda d: _set(d, 4, "t", np.nan), "death", "t", "missing or non-finite time"),
    ("inf time", lambda d: _set(d, 4, "t", np.inf), "death", "t", "missing or non-finite time"),
    ("event not 0/1", lambda d: _set(d, 5, "e", 2.0), "death", "e", "event not in {0, 1}"),
    ("duplicate id", lambda d: _set(d, 5, "pid", "p6"), "cohort", "pid", "duplicate identifier"),
    ("implausible age", lambda d: _set(d, 7, "age", 150.0), "cohort", "age",
     "implausible age (outside 0-120 years)"),
    ("event after follow-up", lambda d: _set(_set(d, 0, "t", 11.0), 0, "e", 1.0), "death", "t",
     "event after the end of follow-up"),
    ("infinite feature", lambda d: _set(d, 2, "x2", np.inf), "cohort", "x2", "infinite value"),
]


def _set(d, r, c, v):
    d = d.copy()
    if not isinstance(v, float) and d[c].dtype != object:
        d[c] = d[c].astype(object)
    d.loc[r, c] = v
    return d


@pytest.mark.parametrize(("case", "mutate", "scope", "column", "reason"), ROW_CASES,
                         ids=[c[0] for c in ROW_CASES])
def test_row_problem_strict_raises_default_excludes_with_reason(case, mutate, scope, column, reason):
    df = mutate(frame())
    bad_rows = sorted({int(r) for r in np.flatnonzero(~frame().eq(df).all(axis=1).to_numpy())} |
                      ({5, 6} if case == "duplicate id" else set()))
    with pytest.raises(SurvageInputError) as err:
        build(df, followup="fu", strict=True)
    assert err.value.column == column and err.value.rows == bad_rows
    assert reason in str(err.value)
    c = build(df, followup="fu")
    assert reasons(c) == {(scope, column, reason): len(bad_rows)}
    if scope == "cohort":
        assert len(c) == 12 - len(bad_rows) and not set(bad_rows) & set(c.frame.index)
    else:
        assert len(c) == 12 and not c.at_risk(scope)[bad_rows].any()
        assert c.at_risk(scope).sum() == 12 - len(bad_rows)


def test_times_are_converted_to_years():
    df = frame().assign(t=lambda d: d["t"] * 365.25)
    c = build(df, outcomes=[Outcome("death", "t", "e", "days")])
    assert np.allclose(c.time("death"), frame()["t"])
    with pytest.raises(SurvageInputError, match="unit"):
        Outcome("death", "t", "e", "weeks")  # type: ignore[arg-type]


# ---------------------------------------------------------------- outcome information never a feature
@pytest.mark.parametrize("column", ["e", "t", "fu", "status", "diabetes", "phenoage0",
                                    "true_biological_age", "chapter"])
def test_build_refuses_a_modality_listing_outcome_data(column):
    df = frame().assign(status=0.0, diabetes=0.0, phenoage0=50.0, true_biological_age=50.0, chapter=1.0)
    with pytest.raises(SurvageInputError, match="cannot be features") as err:
        build(df, modalities={"clinical": ("x1", column)}, followup="fu",
              outcome_data=("status", "diabetes", "phenoage0", "true_biological_age", "chapter"))
    assert err.value.column == column


def test_hand_edited_cohort_cannot_leak_outcome_columns():
    c = build(frame())
    bad = dataclasses.replace(c, modalities={**c.modalities, "clinical": ("x1", "t")})
    with pytest.raises(SurvageInputError, match="outcome data"):
        bad.features()


def test_real_loaders_keep_disguised_outcomes_out_of_features():
    nh = load_nhanes("nhanes4")
    feats = set(nh.features().columns)
    for c in ("diabetes", "hyperten", "phenoage0", "kdm0", "phenoage_advance0", "status", "time",
              "permth_int", "ucod_leading", "death_time", "death_event"):
        assert c in nh.outcome_data and c not in feats
    with pytest.raises(SurvageInputError, match="cannot be features"):
        Cohort.build(nh.frame, ids="sampleID", age="age", sex="sex",
                     modalities={"clinical": ("albumin", "diabetes")},
                     outcomes=nh.outcomes.values(), outcome_data=nh.outcome_data)
    fl = load_flchain()
    assert "chapter" not in fl.features().columns and "futime" not in fl.features().columns


# ---------------------------------------------------------------- preprocessing
@pytest.fixture(scope="module")
def fl():
    return load_flchain()


def test_preprocessing_is_fitted_on_training_rows_only(fl):
    split = train_validation_test_split(fl.event("death"), fl.ages(), seed=3)
    mods = ["demographics", "clinical"]
    pre = CohortPreprocessor.for_cohort(fl, mods).fit(fl.frame.iloc[split.train])
    changed = fl.frame.copy()
    cols = ["kappa", "lambda", "creatinine", "age"]
    changed.iloc[split.test, [changed.columns.get_loc(c) for c in cols]] *= 50.0
    pre2 = CohortPreprocessor.for_cohort(fl, mods).fit(changed.iloc[split.train])
    assert pre.to_dict() == pre2.to_dict()
    # same statistics as scikit-learn's StandardScaler on the (log-transformed) training rows
    tr = fl.frame.iloc[split.train]
    spec = {s.name: s for s in pre.modalities["clinical"].specs_}
    x = np.log(tr["kappa"].to_numpy())
    sc = StandardScaler().fit(x[:, None])
    assert spec["kappa"].mean == pytest.approx(sc.mean_[0]) and spec["kappa"].scale == pytest.approx(sc.scale_[0])
    cr = np.log(tr["creatinine"].dropna().to_numpy())
    assert spec["creatinine"].median == pytest.approx(np.median(cr)) and spec["creatinine"].indicator
    xs, present = pre.transform(tr)
    assert np.allclose(xs["demographics"].astype(float).mean(axis=0), 0, atol=1e-4)
    assert present["clinical"].all()


def test_preprocessing_json_round_trip(fl):
    pre = CohortPreprocessor.for_cohort(fl, ["clinical"]).fit(fl.frame.iloc[:5000])
    text = json.dumps(pre.to_dict())
    back = CohortPreprocessor.from_dict(json.loads(text))
    a, _ = pre.transform(fl.frame.iloc[5000:])
    b, _ = back.transform(fl.frame.iloc[5000:])
    assert np.array_equal(a["clinical"], b["clinical"])
    assert back.modalities["clinical"].output_names_ == pre.modalities["clinical"].output_names_


def test_unknown_category_raises_naming_the_column(fl):
    p = ModalityPreprocessor(["flc_grp"], categorical=["flc_grp"]).fit(fl.frame.iloc[:100])
    new = fl.frame.iloc[:3].copy()
    new["flc_grp"] = [1.0, 11.0, 2.0]
    with pytest.raises(SurvageInputError, match="unknown category 11") as err:
        p.transform(new)
    assert err.value.column == "flc_grp" and err.value.rows == [1]


def test_shift_warning_names_the_column(fl):
    pre = CohortPreprocessor.for_cohort(fl, ["clinical"]).fit(fl.frame)
    new = fl.frame.assign(creatinine=fl.frame["creatinine"] * 88.4)  # mg/dL -> umol/L
    with pytest.warns(DistributionShiftWarning, match="creatinine"):
        bad = pre.warn_shift(new)
    assert len(bad) == 1 and bad[0].startswith("creatinine")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pre.warn_shift(fl.frame) == []


# ---------------------------------------------------------------- splits
def test_same_seed_same_split_and_event_rate_kept(fl):
    ev, age = fl.event("death"), fl.ages()
    a = train_validation_test_split(ev, age, seed=11)
    b = train_validation_test_split(ev, age, seed=11)
    c = train_validation_test_split(ev, age, seed=12)
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("train", "validation", "test"))
    assert not np.array_equal(a.test, c.test)
    parts = np.concatenate([a.train, a.validation, a.test])
    assert np.array_equal(np.sort(parts), np.arange(fl.n))
    rate = ev.mean()
    for part in (a.train, a.validation, a.test):
        assert abs(ev[part].mean() - rate) < 0.01
    for _, te in kfold_splits(ev, age, k=5, seed=0):
        assert abs(ev[te].mean() - rate) < 0.01


def test_log_offset_is_half_the_smallest_positive_training_value():
    # docstring of ModalityPreprocessor: log(x + offset), offset = half the smallest positive value
    df = pd.DataFrame({"cac": [0.0, 0.0, 4.0, 10.0, 250.0]})
    spec = ModalityPreprocessor(["cac"], log_features=["cac"]).fit(df).specs_[0]
    assert spec.log_offset == 2.0
    assert spec.mean == pytest.approx(np.mean(np.log(df["cac"] + 2.0)))
    assert ModalityPreprocessor(["cac"], log_features=["cac"]).fit(df + 1).specs_[0].log_offset == 0.0


def test_preprocessing_clips_new_values_to_the_training_range() -> None:
    """Transport: a value beyond the training range is treated as the training extreme."""
    import pandas as pd

    from survage.data.preprocessing import ModalityPreprocessor

    train = pd.DataFrame({"crp": [0.21, 0.5, 1.0, 3.0]})
    new = pd.DataFrame({"crp": [0.01, 0.21, 50.0, 3.0]})
    clip = ModalityPreprocessor(["crp"], ["crp"], clip_to_training_range=True).fit(train)
    out = clip.transform(new)[:, 0]
    assert out[0] == out[1] and out[2] == out[3]
    free = ModalityPreprocessor(["crp"], ["crp"]).fit(train)
    out_free = free.transform(new)[:, 0]
    assert out_free[0] < out_free[1] and out_free[2] > out_free[3]
    again = ModalityPreprocessor.from_dict(clip.to_dict())
    assert np.array_equal(again.transform(new), clip.transform(new))


def test_with_features_keeps_only_declared_columns() -> None:
    c = load_nhanes("nhanes4")
    sub = c.with_features("clinical", ["albumin", "crp"])
    assert sub.feature_columns(["clinical"]) == ["albumin", "crp"]
    with pytest.raises(SurvageInputError, match="diabetes"):
        c.with_features("clinical", ["albumin", "diabetes"])
