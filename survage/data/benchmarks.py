"""Public survival benchmark datasets (scikit-survival, lifelines) through the cohort contract.

Every loader returns a :class:`~survage.data.Cohort` with a synthesised identifier ``row_id``
(0-based row number; the sources carry no identifiers), ``age`` in years, ``sex`` coded
1 = male, 0 = female where the dataset has both sexes (``None`` for single-sex studies), one
``clinical`` modality of the covariates (categorical columns coded to numbers and declared in
:attr:`Cohort.categorical`), and one outcome. Column names are made identifier-safe
(``flc.grp`` -> ``flc_grp``).

| loader | n | outcome | time unit | source |
|---|---|---|---|---|
| :func:`load_flchain` | 7,874 | ``death`` (2,169) | days (``futime``) | Dispenzieri et al. 2012 |
| :func:`load_whas500` | 500 | ``death`` (215) | days (``lenfol``) | Hosmer, Lemeshow & May 2008 |
| :func:`load_gbsg2` | 686 | ``recurrence_free_survival`` (299) | days (``time``) | Schumacher et al. 1994 |
| :func:`load_rossi` | 432 | ``arrest`` (114) | weeks, stored as days = 7 x week | Rossi, Berk & Lenihan 1980 |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from survage.data.cohort import Cohort, Outcome

ROW_ID = "row_id"


def _codes(s: pd.Series, mapping: Mapping[str, float]) -> pd.Series:
    """Map category labels to numbers; a label outside ``mapping`` becomes NaN (then flagged)."""
    return s.astype(object).map(lambda v: mapping.get(str(v), np.nan) if pd.notna(v) else np.nan)


def _build(df: pd.DataFrame, *, clinical: Sequence[str], categorical: Sequence[str],
           outcome: Outcome, sex: str | None, outcome_data: Sequence[str] = (),
           bookkeeping: Sequence[str] = (), log_features: Sequence[str] = (), source: str,
           strict: bool) -> Cohort:
    df = df.reset_index(drop=True)
    df.insert(0, ROW_ID, np.arange(len(df)))
    demo = ("age",) + ((sex,) if sex else ())
    return Cohort.build(
        df, ids=ROW_ID, age="age", sex=sex,
        modalities={"demographics": demo, "clinical": tuple(clinical)},
        outcomes=[outcome], outcome_data=outcome_data, bookkeeping=bookkeeping,
        log_features=log_features, categorical=categorical, strict=strict, source=source)


def load_flchain(*, strict: bool = False) -> Cohort:
    """Serum free light chain study (Olmsted County): all-cause death.

    Dispenzieri A, et al. (2012). Use of nonclonal serum immunoglobulin free light chains to
    predict overall survival in the general population. Mayo Clin Proc 87(6):517-523,
    doi:10.1016/j.mayocp.2012.03.009. Loaded from :func:`sksurv.datasets.load_flchain`.

    Clinical covariates: ``kappa``, ``lambda``, ``creatinine`` (log-transformed in
    preprocessing), ``flc_grp`` (FLC decile 1-10, categorical), ``mgus`` (1 = yes, categorical).
    ``chapter`` (the ICD chapter of the cause of death) is outcome data, coded as text and never a
    feature; ``sample_yr`` (calendar year of the blood sample) is bookkeeping.
    Outcome ``death``: ``futime`` in days, ``death_event``.
    """
    from sksurv.datasets import load_flchain as _load

    x, y = _load()
    df = pd.DataFrame({
        "age": x["age"].astype(float),
        "sex": _codes(x["sex"], {"M": 1.0, "F": 0.0}),
        "kappa": x["kappa"].astype(float), "lambda": x["lambda"].astype(float),
        "creatinine": x["creatinine"].astype(float),
        "flc_grp": pd.to_numeric(x["flc.grp"].astype(object), errors="coerce"),
        "mgus": _codes(x["mgus"], {"yes": 1.0, "no": 0.0}),
        "sample_yr": pd.to_numeric(x["sample.yr"].astype(object), errors="coerce"),
        "chapter": x["chapter"].astype(object),
        "futime": y["futime"].astype(float), "death_event": y["death"].astype(float),
    })
    return _build(df, clinical=("kappa", "lambda", "creatinine", "flc_grp", "mgus"),
                  categorical=("flc_grp", "mgus"), sex="sex",
                  outcome=Outcome("death", "futime", "death_event", "days"),
                  outcome_data=("chapter",), bookkeeping=("sample_yr",),
                  log_features=("kappa", "lambda", "creatinine"),
                  source="flchain (Dispenzieri et al. 2012), scikit-survival", strict=strict)


def load_whas500(*, strict: bool = False) -> Cohort:
    """Worcester Heart Attack Study (500 patients): all-cause death after hospital admission.

    Hosmer DW, Lemeshow S, May S (2008). Applied Survival Analysis, 2nd ed. Wiley,
    doi:10.1002/9780470258019. Loaded from :func:`sksurv.datasets.load_whas500`.

    ``sex`` = 1 - ``gender`` (the source codes 0 = male, 1 = female). Clinical covariates: the
    binary flags ``afb``, ``av3``, ``chf``, ``cvd``, ``miord``, ``mitype``, ``sho`` (0/1,
    categorical) and ``bmi``, ``diasbp``, ``hr``, ``los``, ``sysbp``. Outcome ``death``:
    ``lenfol`` in days (admission to last follow-up), ``death_event`` from ``fstat``.
    """
    from sksurv.datasets import load_whas500 as _load

    x, y = _load()
    flags = ("afb", "av3", "chf", "cvd", "miord", "mitype", "sho")
    df = pd.DataFrame({"age": x["age"].astype(float),
                       "sex": 1.0 - _codes(x["gender"], {"0": 0.0, "1": 1.0})})
    for c in flags:
        df[c] = _codes(x[c], {"0": 0.0, "1": 1.0})
    for c in ("bmi", "diasbp", "hr", "los", "sysbp"):
        df[c] = x[c].astype(float)
    df["lenfol"] = y["lenfol"].astype(float)
    df["death_event"] = y["fstat"].astype(float)
    return _build(df, clinical=(*flags, "bmi", "diasbp", "hr", "los", "sysbp"),
                  categorical=flags, sex="sex",
                  outcome=Outcome("death", "lenfol", "death_event", "days"),
                  source="WHAS500 (Hosmer, Lemeshow & May 2008), scikit-survival", strict=strict)


def load_gbsg2(*, strict: bool = False) -> Cohort:
    """German Breast Cancer Study Group 2 trial: recurrence-free survival (women only, sex None).

    Schumacher M, et al. (1994). Randomized 2 x 2 trial evaluating hormonal treatment and the
    duration of chemotherapy in node-positive breast cancer patients. J Clin Oncol
    12(10):2086-2093, doi:10.1200/JCO.1994.12.10.2086. Loaded from
    :func:`sksurv.datasets.load_gbsg2`.

    Clinical covariates: ``horTh`` (1 = hormonal therapy), ``menostat`` (1 = post-menopausal),
    ``tgrade`` (1, 2, 3 for I-III) as categorical; ``tsize``, ``pnodes``, ``progrec``,
    ``estrec`` (the last three log-transformed in preprocessing). Outcome
    ``recurrence_free_survival``: ``time`` in days, ``rfs_event`` from ``cens`` (1 = event).
    """
    from sksurv.datasets import load_gbsg2 as _load

    x, y = _load()
    df = pd.DataFrame({
        "age": x["age"].astype(float),
        "horTh": _codes(x["horTh"], {"yes": 1.0, "no": 0.0}),
        "menostat": _codes(x["menostat"], {"Post": 1.0, "Pre": 0.0}),
        "tgrade": _codes(x["tgrade"], {"I": 1.0, "II": 2.0, "III": 3.0}),
        **{c: x[c].astype(float) for c in ("tsize", "pnodes", "progrec", "estrec")},
        "time": y["time"].astype(float), "rfs_event": y["cens"].astype(float),
    })
    return _build(df, clinical=("horTh", "menostat", "tgrade", "tsize", "pnodes", "progrec", "estrec"),
                  categorical=("horTh", "menostat", "tgrade"), sex=None,
                  outcome=Outcome("recurrence_free_survival", "time", "rfs_event", "days"),
                  log_features=("pnodes", "progrec", "estrec"),
                  source="GBSG2 (Schumacher et al. 1994), scikit-survival", strict=strict)


def load_rossi(*, strict: bool = False) -> Cohort:
    """Rossi recidivism data (432 released prisoners, all men, sex None): re-arrest.

    Rossi PH, Berk RA, Lenihan KJ (1980). Money, Work, and Crime: Experimental Evidence.
    Academic Press, New York. Loaded from :func:`lifelines.datasets.load_rossi`.

    Clinical covariates: ``fin``, ``race``, ``wexp``, ``mar``, ``paro`` (0/1, categorical) and
    ``prio``. Outcome ``arrest``: the source's ``week`` converted to days in ``arrest_days``
    (= 7 x week, so that survage's day-to-year conversion applies), event ``arrest``; ``week``
    is kept as outcome data.
    """
    from lifelines.datasets import load_rossi as _load

    r = _load()
    flags = ("fin", "race", "wexp", "mar", "paro")
    df = r[["age", *flags, "prio", "week", "arrest"]].astype(float)
    df["arrest_days"] = 7.0 * df["week"]
    return _build(df, clinical=(*flags, "prio"), categorical=flags, sex=None,
                  outcome=Outcome("arrest", "arrest_days", "arrest", "days"),
                  outcome_data=("week",),
                  source="Rossi recidivism (Rossi, Berk & Lenihan 1980), lifelines", strict=strict)
