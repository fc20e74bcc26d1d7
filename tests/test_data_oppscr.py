"""read_oppscr: every row of the reading-rules table (shared/oppscr_layout.md), in CSV and xlsx,
and broken sheets (strict mode raises one error naming rows/columns/values; the default leaves the
rows out with counted reasons). Expected values are the documented codings of the layout."""

import csv
import warnings

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from survage.data.oppscr import SheetHeaderWarning, SheetOutcomeWarning, read_oppscr
from survage.data.oppscr_layout import (CT_HEADERS, DEATH, FOLLOWUP, IMAGE_HEADER, SHEET_HEADERS)
from survage.data.sheet_io import write_sheet
from survage.errors import SurvageInputError

CVD, CVD_D = "CVD DX", "CVD DX Date [d from CT]"
FRS = "FRS 10-year risk (%)"
FRAX = "FRAX 10y Fx Prob (Orange-w/ DXA)"
FRAX_HIP = "FRAX 10y Hip Fx Prob (Orange-w/ DXA)"

BASE = {
    "Record ID": "10", "Visit ID": "1", FOLLOWUP: "3000", "BMI": "27.5", "BMI >30": "N",
    "Sex": "Female", "Age at CT": "57", "Tobacco": "No", "Alcohol abuse": "", FRS: "7%",
    FRAX: "12.5", FRAX_HIP: "1.5", "Met Sx": "N", DEATH: "",
    **dict(zip(CT_HEADERS, ["150", "300", "700", "120", "170", "0.7", "30", "140", "50", "0", "55"])),
}
#: a background population with one death and one incident diagnosis of every outcome, so that
#: every outcome exists; test rows are appended after it
BACKGROUND = [
    {DEATH: "1000"},
    {CVD: "Stroke", CVD_D: "400", "Heart failure DX": "CHF", "Heart failure DX Date [d from CT]": "410",
     "MI DX": "STEMI", "MI DX Date [d from CT]": "420",
     "Type 2 Diabetes DX": "T2DM", "Type 2 Diabetes DX Date [d from CT]": "430",
     "Forearm fracture DX": "Radius", "Forearm fracture DX Date [d from CT]": "440",
     "Alzheimers DX": "AD", "Alzheimers DX Date [d from CT]": "450",
     "Primary Cancer Site": "Colon", "Primary Cancer Dx [d from CT]": "460"},
    {},
]
NB = len(BACKGROUND)


def _numeric(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def make_sheet(path, rows, *, headers=SHEET_HEADERS, extra=None, background=True):
    """Write a sheet: background rows then ``rows`` (dicts of header -> cell) over BASE."""
    all_rows = (BACKGROUND if background else []) + list(rows)
    cols = list(headers) + list(extra or [])
    data = []
    for i, r in enumerate(all_rows):
        cell = {**BASE, "PT ID": f"P{i}", **r}
        data.append([cell.get(h, "") for h in cols])
    df = pd.DataFrame(data, columns=cols)
    if str(path).endswith(".xlsx"):  # numeric-looking cells become real numbers in Excel
        df = df.apply(lambda s: s.map(_numeric))
    return write_sheet(df, path)


@pytest.fixture(params=["csv", "xlsx"])
def fmt(request):
    return request.param


def read(tmp_path, fmt, rows, *, strict=False, **kw):
    p = make_sheet(tmp_path / f"s.{fmt}", rows, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SheetOutcomeWarning)
        return read_oppscr(p, strict=strict)


def row(c, i):
    """The retained row of test row i (source position NB + i)."""
    return c.frame.loc[NB + i]


def reasons(c):
    s = c.exclusions.summary()
    return {(r.scope, r.column, r.reason): r.n_rows for r in s.itertuples()}


# ---------------------------------------------------------------- reading-rules table, row by row
def test_blank_or_white_space_is_missing(tmp_path, fmt):
    c = read(tmp_path, fmt, [{"BMI": "   ", "Sex": " ", "Tobacco": "\t", FRS: " ", "Muscle HU": "",
                              CVD: "  ", DEATH: "  "}])
    r = row(c, 0)
    assert np.isnan(r["bmi"]) and np.isnan(r["sex"]) and np.isnan(r["tobacco"])
    assert np.isnan(r["frs_10y"]) and np.isnan(r["muscle_hu"])
    assert r["death_event"] == 0 and r["cvd_event"] == 0 and r["death_time"] == 3000
    assert len(c) == NB + 1


def test_yes_no_and_sex_codings(tmp_path, fmt):
    c = read(tmp_path, fmt, [{"BMI >30": "Y", "Tobacco": "Yes", "Met Sx": "Y", "Sex": "Male"},
                             {"BMI >30": "N", "Tobacco": "No", "Met Sx": "N", "Sex": "Female"}])
    assert row(c, 0)[["bmi_over_30", "tobacco", "metabolic_syndrome", "sex"]].tolist() == [1, 1, 1, 1]
    assert row(c, 1)[["bmi_over_30", "tobacco", "metabolic_syndrome", "sex"]].tolist() == [0, 0, 0, 0]


def test_alcohol_text_is_one_blank_is_zero(tmp_path, fmt):
    c = read(tmp_path, fmt, [{"Alcohol abuse": "Alcohol abuse, uncomplicated"}, {"Alcohol abuse": ""}])
    assert row(c, 0)["alcohol_abuse"] == 1 and row(c, 1)["alcohol_abuse"] == 0


def test_percent_cells_are_percent(tmp_path, fmt):
    c = read(tmp_path, fmt, [{FRS: "7%", FRAX: "12.5", FRAX_HIP: "0.8%"}])
    r = row(c, 0)
    assert (r["frs_10y"], r["frax_major"], r["frax_hip"]) == (7.0, 12.5, 0.8)
    assert (r["frs_10y_bound"], r["frax_major_bound"], r["frax_hip_bound"]) == (0, 0, 0)


def test_bounds_give_the_bound_and_a_flag(tmp_path, fmt):
    c = read(tmp_path, fmt, [{FRS: "<1%"}, {FRS: ">30%"}])
    assert (row(c, 0)["frs_10y"], row(c, 0)["frs_10y_bound"]) == (1.0, -1)
    assert (row(c, 1)["frs_10y"], row(c, 1)["frs_10y_bound"]) == (30.0, 1)
    assert {"frs_10y", "frs_10y_bound"} <= set(c.feature_columns(["clinical"]))


def test_not_computable_is_missing_and_counted_not_dropped(tmp_path, fmt):
    c = read(tmp_path, fmt, [{FRS: "X", FRAX: "_", FRAX_HIP: "_"}, {FRS: "X"}])
    assert len(c) == NB + 2
    assert np.isnan(row(c, 0)["frs_10y"]) and np.isnan(row(c, 0)["frax_major"])
    got = reasons(c)
    assert got[("feature:frs_10y", FRS, "score not computable (X)")] == 2
    assert got[("feature:frax_major", FRAX, "score not computable (_)")] == 1
    assert c.at_risk("death")[-2:].all()


def test_dx_text_with_day_count_is_an_incident_event(tmp_path, fmt):
    c = read(tmp_path, fmt, [{CVD: "Stroke", CVD_D: "730.5"}])
    assert row(c, 0)["cvd_event"] == 1 and row(c, 0)["cvd_time"] == 730.5
    assert c.time("cvd")[-1] == pytest.approx(730.5 / 365.25)
    assert c.outcome("cvd").competing == ("death",) and c.outcome("cvd").unit == "days"


@pytest.mark.parametrize(("cells", "column", "reason"), [
    ({CVD: "Stroke"}, CVD_D, "diagnosis text without a day count"),
    ({CVD_D: "200"}, CVD, "day count without a diagnosis text"),
])
def test_dx_text_and_day_must_come_together(tmp_path, fmt, cells, column, reason):
    c = read(tmp_path, fmt, [cells])
    assert reasons(c)[("cvd", column, reason)] == 1
    assert not c.at_risk("cvd")[-1] and c.at_risk("death")[-1]  # only that outcome loses the row
    with pytest.raises(SurvageInputError) as err:
        read(tmp_path, fmt, [cells], strict=True)
    msg = str(err.value)
    assert f"row {NB}" in msg and repr(column) in msg and reason in msg


def test_negative_dx_day_is_prevalent_history_not_incident(tmp_path, fmt):
    c = read(tmp_path, fmt, [{CVD: "MI", CVD_D: "-365"}], strict=True)  # not an error
    r = row(c, 0)
    assert r["history_cvd"] == 1 and np.isnan(r["cvd_event"])
    assert not c.at_risk("cvd")[-1] and c.at_risk("death")[-1] and c.at_risk("mi")[-1]
    assert reasons(c)[("cvd", CVD_D, "condition present before the CT (negative day count)")] == 1
    assert "history_cvd" in c.feature_columns(["clinical"])
    assert c.frame["history_cvd"].iloc[:NB].tolist() == [0] * NB


@pytest.mark.parametrize(("cells", "column", "reason"), [
    ({FOLLOWUP: "-5"}, FOLLOWUP, "negative follow-up"),
    ({FOLLOWUP: ""}, FOLLOWUP, "missing follow-up"),
    ({DEATH: "-1"}, DEATH, "negative day count"),
    ({DEATH: "3500"}, DEATH, "death after the end of follow-up"),
])
def test_bad_followup_or_death_is_a_cohort_data_error(tmp_path, fmt, cells, column, reason):
    c = read(tmp_path, fmt, [cells])
    assert len(c) == NB and reasons(c)[("cohort", column, reason)] == 1
    with pytest.raises(SurvageInputError) as err:
        read(tmp_path, fmt, [cells], strict=True)
    assert f"row {NB}" in str(err.value) and repr(column) in str(err.value)


def test_diagnosis_after_follow_up_is_an_outcome_data_error(tmp_path, fmt):
    c = read(tmp_path, fmt, [{CVD: "Stroke", CVD_D: "3001"}])
    assert reasons(c)[("cvd", CVD_D, "diagnosis after the end of follow-up")] == 1
    assert not c.at_risk("cvd")[-1] and c.at_risk("death")[-1]
    with pytest.raises(SurvageInputError, match="diagnosis after the end of follow-up"):
        read(tmp_path, fmt, [{CVD: "Stroke", CVD_D: "3001"}], strict=True)


@pytest.mark.parametrize(("header", "name", "value"), [
    ("BMI", "bmi", "twenty"), ("Muscle HU", "muscle_hu", "n/a"), ("Age at CT", "age", "57y"),
    (FOLLOWUP, "followup_days", "3 years"), ("Sex", "sex", "unknown"),
])
def test_other_text_in_a_number_column_is_a_data_error(tmp_path, fmt, header, name, value):
    c = read(tmp_path, fmt, [{header: value}])
    assert len(c) == NB
    e = [x for x in c.exclusions.entries if x.scope == "cohort"]
    assert [(x.row, x.column, x.value) for x in e] == [(NB, header, value)]
    with pytest.raises(SurvageInputError) as err:
        read(tmp_path, fmt, [{header: value}], strict=True)
    assert f"row {NB}" in str(err.value) and repr(header) in str(err.value) and repr(value) in str(err.value)


# ---------------------------------------------------------------- outcomes
def test_death_and_censoring_of_diagnoses(tmp_path, fmt):
    c = read(tmp_path, fmt, [{DEATH: "800", CVD: "Stroke", CVD_D: "100"}, {DEATH: "900"}])
    a, b = row(c, 0), row(c, 1)
    assert (a["death_time"], a["death_event"], a["cvd_time"], a["cvd_event"]) == (800, 1, 100, 1)
    assert (b["death_time"], b["death_event"], b["cvd_time"], b["cvd_event"]) == (900, 1, 900, 0)
    assert (b["mi_time"], b["mi_event"]) == (900, 0)  # censored at death, not at follow-up


def test_diagnosis_after_death_is_a_data_error(tmp_path, fmt):
    c = read(tmp_path, fmt, [{DEATH: "800", CVD: "Stroke", CVD_D: "900"}])
    assert reasons(c)[("cvd", CVD_D, "diagnosis after death")] == 1


def test_fracture_and_cancer_are_the_first_of_their_pairs(tmp_path, fmt):
    c = read(tmp_path, fmt, [{
        "Humerus fracture DX": "H", "Humerus fracture DX Date [d from CT]": "700",
        "Femoral neck fracture DX": "F", "Femoral neck fracture DX Date [d from CT]": "300",
        "Primary Cancer Site": "Lung", "Primary Cancer Dx [d from CT]": "900",
        "Primary Cancer Site 2": "Skin", "Primary Cancer Site 2 Dx [d from CT]": "200"}])
    r = row(c, 0)
    assert (r["fracture_time"], r["fracture_event"], r["cancer_time"], r["cancer_event"]) == (300, 1, 200, 1)
    assert list(c.outcomes) == ["death", "cvd", "heart_failure", "mi", "diabetes", "fracture",
                                "alzheimers", "cancer"]


def test_prevalent_fracture_in_any_pair_leaves_the_fracture_analysis(tmp_path, fmt):
    c = read(tmp_path, fmt, [{"Forearm fracture DX": "R", "Forearm fracture DX Date [d from CT]": "-20",
                              "Pathologic fracture DX": "P", "Pathologic fracture DX Date [d from CT]": "50"}])
    assert row(c, 0)["history_fracture"] == 1 and not c.at_risk("fracture")[-1]


def test_outcome_without_events_is_left_out_with_a_warning(tmp_path):
    p = make_sheet(tmp_path / "s.csv", [{DEATH: "10"}, {}], background=False)
    with pytest.warns(SheetOutcomeWarning, match="alzheimers"):
        c = read_oppscr(p)
    assert list(c.outcomes) == ["death"]


# ---------------------------------------------------------------- broken sheets
def test_missing_required_header_always_raises_naming_it(tmp_path, fmt):
    headers = [h for h in SHEET_HEADERS if h != "Muscle HU"]
    p = make_sheet(tmp_path / f"s.{fmt}", [], headers=headers)
    for strict in (False, True):
        with pytest.raises(SurvageInputError, match="Muscle HU"):
            read_oppscr(p, strict=strict)


def test_headers_match_ignoring_case_and_spaces(tmp_path, fmt):
    messy = ["  " + h.upper().replace(" ", "   ") + " " if h else h for h in SHEET_HEADERS]
    p = make_sheet(tmp_path / f"s.{fmt}", [], headers=SHEET_HEADERS)
    df = pd.read_csv(p, dtype=str, keep_default_na=False) if fmt == "csv" else pd.read_excel(p)
    df.columns = messy
    write_sheet(df, p)
    c = read_oppscr(p, strict=True)
    assert len(c) == NB and c.frame["muscle_area"].iloc[0] == 140


def test_unknown_header_warns_or_raises_naming_it(tmp_path, fmt):
    p = make_sheet(tmp_path / f"s.{fmt}", [], extra=["Shoe size"])
    with pytest.warns(SheetHeaderWarning, match="Shoe size"):
        c = read_oppscr(p)
    assert "Shoe size" not in c.frame
    with pytest.raises(SurvageInputError, match="Shoe size"):
        read_oppscr(p, strict=True)


def test_duplicate_pt_id_strict_error_or_counted(tmp_path, fmt):
    rows = [{"PT ID": "dup"}, {"PT ID": "dup"}]
    c = read(tmp_path, fmt, rows)
    assert len(c) == NB and reasons(c)[("cohort", "PT ID", "duplicate identifier")] == 2
    assert all(e.value == "" for e in c.exclusions.entries)  # identifiers never stored
    with pytest.raises(SurvageInputError, match="duplicate identifier") as err:
        read(tmp_path, fmt, rows, strict=True)
    assert "dup" not in str(err.value).replace("duplicate", "")


def test_strict_error_names_every_offending_row_column_and_value(tmp_path):
    rows = [{"BMI": "abc"}, {FOLLOWUP: "-3"}, {CVD: "Stroke"}, {"Liver HU    (Median)": "low"}]
    with pytest.raises(SurvageInputError) as err:
        read(tmp_path, "csv", rows, strict=True)
    msg = str(err.value)
    assert msg.startswith("4 data error(s)")
    for i, h, v in [(0, "BMI", "'abc'"), (1, FOLLOWUP, "'-3'"), (2, CVD_D, "'Stroke'"),
                    (3, "Liver HU    (Median)", "'low'")]:
        assert f"row {NB + i} (sheet line {NB + i + 2}), column {h!r}, value {v}" in msg
    assert err.value.rows == [NB, NB + 1, NB + 2, NB + 3]


def test_default_mode_excludes_each_affected_analysis_with_counts(tmp_path):
    c = read(tmp_path, "csv", [{"BMI": "abc"}, {FOLLOWUP: "-3"}, {CVD: "Stroke"}])
    assert len(c) == NB + 1  # the DX error keeps the person for the other outcomes
    s = c.exclusions.summary()
    assert s.loc[s.scope == "cohort", "n_rows"].sum() == 2 and s.loc[s.scope == "cvd", "n_rows"].sum() == 1


# ---------------------------------------------------------------- roles, images, xlsx specifics
def test_roles_identifiers_and_outcome_data(tmp_path):
    p = make_sheet(tmp_path / "s.csv", [{"true_biological_age": "61.2", "true_log_hazard": "0.3"}],
                   extra=["true_biological_age", "true_log_hazard"])
    c = read_oppscr(p)
    assert c.ids == ("PT ID", "Record ID", "Visit ID")
    feats = set(c.feature_columns())
    assert {"true_biological_age", "true_log_hazard"} <= c.outcome_data
    assert not feats & (c.outcome_data | set(c.ids))
    assert c.feature_columns(["ct_measures"]) == list(CT_HEADERS.values())
    assert c.feature_columns(["demographics"]) == ["age", "sex"]
    assert c.frame["true_biological_age"].iloc[-1] == 61.2
    assert "aoca_agatston" in c.log_features


def test_image_path_column_becomes_ct_image_modality(tmp_path, fmt):
    p = make_sheet(tmp_path / f"s.{fmt}", [{IMAGE_HEADER: "img/p.nii.gz"}, {IMAGE_HEADER: "/abs/q.nii.gz"}],
                   extra=[IMAGE_HEADER])
    c = read_oppscr(p)
    assert c.modalities["ct_image"] == ("ct_image_path",)
    assert c.frame["ct_image_path"].iloc[-2] == str((tmp_path / "img/p.nii.gz").resolve())
    assert c.frame["ct_image_path"].iloc[-1] == "/abs/q.nii.gz"
    assert c.modality_present("ct_image").tolist() == [False] * NB + [True, True]
    assert "ct_image_path" not in c.feature_columns()


def test_xlsx_percent_formatted_numbers_read_as_shown(tmp_path):
    p = make_sheet(tmp_path / "s.xlsx", [{FRS: "0.07"}])
    from openpyxl import load_workbook
    wb = load_workbook(p)
    ws = wb.active
    col = list(SHEET_HEADERS).index(FRS) + 1
    ws.cell(row=NB + 2, column=col).number_format = "0%"
    wb.save(p)
    c = read_oppscr(p)
    assert row(c, 0)["frs_10y"] == pytest.approx(7.0)
    assert c.frame["frs_10y"].iloc[0] == 7.0  # an unformatted numeric cell is already percent


def test_unsupported_or_missing_file(tmp_path):
    with pytest.raises(SurvageInputError, match="not found"):
        read_oppscr(tmp_path / "nope.csv")
    (tmp_path / "s.txt").write_text("x")
    with pytest.raises(SurvageInputError, match="unsupported"):
        read_oppscr(tmp_path / "s.txt")
    wb = Workbook()
    wb.save(tmp_path / "empty.xlsx")
    with pytest.raises(SurvageInputError, match="empty"):
        read_oppscr(tmp_path / "empty.xlsx")


def test_write_sheet_is_atomic_and_keeps_exact_headers(tmp_path, fmt):
    p = make_sheet(tmp_path / f"s.{fmt}", [])
    if fmt == "csv":
        with open(p, newline="") as fh:
            first = next(csv.reader(fh))
    else:
        from openpyxl import load_workbook
        first = [c.value or "" for c in next(load_workbook(p, read_only=True).active.iter_rows())]
    assert first == list(SHEET_HEADERS)  # runs of spaces and the leading space kept
    assert sorted(x.name for x in tmp_path.iterdir()) == [f"s.{fmt}"]  # no temporary file left
    with pytest.raises(SurvageInputError, match=".csv or .xlsx"):
        write_sheet(pd.DataFrame({"a": [1]}), tmp_path / "s.json")


def test_blank_header_with_values_cannot_be_placed(tmp_path):
    headers = list(SHEET_HEADERS)
    p = make_sheet(tmp_path / "s.csv", [{"": "stray"}], headers=headers)
    with pytest.warns(SheetHeaderWarning, match="blank header"):
        read_oppscr(p)
    with pytest.raises(SurvageInputError, match="blank header"):
        read_oppscr(p, strict=True)
