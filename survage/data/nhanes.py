"""The bundled NHANES extracts (BioAge package assembly) as survage cohorts.

NHANES III (1988-1994) is the training survey; continuous NHANES 1999-2002 carries DXA body
composition (ages 20-49) and is the honest test survey (Levine et al. 2018,
doi:10.18632/aging.101414, fitted PhenoAge on NHANES III and validated on continuous NHANES).
Data: US National Center for Health Statistics, public domain; assembled by the BioAge R package
(Kwon & Belsky 2021, doi:10.1007/s11357-021-00480-5). Follow-up: Linked Mortality Files to 2015.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from survage.data.cohort import Cohort, Outcome
from survage.data.exclusions import COHORT_SCOPE, ExclusionLog
from survage.errors import SurvageInputError

Survey = Literal["nhanes3", "nhanes4", "both"]

_FILES = {"nhanes3": "nhanes3.csv.gz", "nhanes4": "nhanes4_1999_2002.csv.gz"}
SURVEY_LABELS = {"nhanes3": "NHANES III (1988-1994)", "nhanes4": "NHANES 1999-2002"}

#: labs, blood count, vitals, anthropometrics and self-rated health measured in both surveys
CLINICAL = (
    "albumin", "alp", "bun", "creat", "glucose", "uap", "ttbl", "crp", "hba1c", "totchol", "hdl",
    "lymph", "mcv", "rbc", "rdw", "wbc", "monopa", "cadmium", "vitaminA", "vitaminE",
    "sbp", "dbp", "pulse", "bmi", "waist", "height", "weight", "health",
)
#: right-skewed measurements, log-transformed in preprocessing
LOG_FEATURES = ("alp", "bun", "creat", "glucose", "ttbl", "crp", "hba1c", "cadmium")
#: DXA body composition (continuous NHANES 1999-2002, ages 20-49 only)
DXA = ("btotpf", "fm", "ffm")
#: columns that carry outcome information: never features
OUTCOME_DATA = (
    "eligstat", "status", "ucod_leading", "permth_int", "time", "diabetes", "hyperten",
    "phenoage0", "phenoage_advance0", "kdm0", "kdm_advance0",
)
#: survey bookkeeping: never features
BOOKKEEPING = ("year", "wave", "survey")
#: months of follow-up after which BioAge set ageing-related deaths to 0 in NHANES III
NHANES3_AGEING_CAP_MONTHS = 240.0


def read_nhanes_table(survey: Survey = "both") -> pd.DataFrame:
    """Raw bundled NHANES extract(s), unchanged but for a ``survey`` column."""
    names = ["nhanes3", "nhanes4"] if survey == "both" else [survey]
    if any(n not in _FILES for n in names):
        raise SurvageInputError(f"unknown survey {survey!r}", expected="nhanes3, nhanes4 or both")
    frames = []
    for n in names:
        with resources.files("survage.data").joinpath("files").joinpath(_FILES[n]).open("rb") as fh:
            df = pd.read_csv(fh, compression="gzip", low_memory=False)
        df["survey"] = n
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def nhanes_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """Derive the outcome columns from a raw NHANES extract (see data README).

    - ``death``: all-cause; event when ``ucod_leading`` is present or ``status == 1``;
      time ``permth_int`` (months from interview).
    - ``death_ageing``: BioAge's ``status``; time ``time`` where present, else ``permth_int``,
      and in NHANES III never beyond month 240 (BioAge ended follow-up there).
    - ``death_heart`` / ``death_cancer``: ``ucod_leading`` 1 / 2, time ``permth_int``
      (cause-specific: other deaths are censored at their time).
    """
    out = pd.DataFrame(index=df.index)
    ucod = pd.to_numeric(df["ucod_leading"], errors="coerce")
    status = pd.to_numeric(df["status"], errors="coerce")
    months = pd.to_numeric(df["permth_int"], errors="coerce")
    out["death_time"] = months
    out["death_event"] = (ucod.notna() | (status == 1)).astype(float)
    t_age = pd.to_numeric(df["time"], errors="coerce").fillna(months)
    is3 = (df["survey"] == "nhanes3").to_numpy() if "survey" in df else np.zeros(len(df), bool)
    t_age = t_age.where(~is3, np.minimum(t_age, NHANES3_AGEING_CAP_MONTHS))
    out["death_ageing_time"] = t_age
    out["death_ageing_event"] = status.astype(float)
    for name, code in (("death_heart", 1), ("death_cancer", 2)):
        out[f"{name}_time"] = months
        out[f"{name}_event"] = (ucod == code).astype(float)
    return out


def load_nhanes(
    survey: Survey = "both",
    *,
    age_range: tuple[float, float] = (20.0, 84.0),
    strict: bool = False,
) -> Cohort:
    """Load the bundled NHANES extract(s) as a :class:`~survage.data.Cohort`.

    Rows not eligible for mortality linkage (``eligstat != 1``) and ages outside ``age_range`` are
    left out with counted reasons. For ages 20-84 this gives 18,107 NHANES III rows with 7,159
    all-cause deaths and 9,873 NHANES 1999-2002 rows with 2,329 deaths (data README).

    Parameters
    ----------
    survey
        ``"nhanes3"``, ``"nhanes4"`` (1999-2002) or ``"both"``.
    age_range
        Inclusive age range kept.
    strict
        Raise on any row problem instead of excluding.

    Returns
    -------
    Cohort
        Identifier ``sampleID``; age ``age``; sex ``sex`` (1 male, 0 female, from ``gender``);
        modalities ``demographics``, ``clinical``, ``dxa``; outcomes ``death``,
        ``death_ageing``, ``death_heart``, ``death_cancer`` (months).
    """
    names = ["nhanes3", "nhanes4"] if survey == "both" else [survey]
    return nhanes_cohort(read_nhanes_table(survey), age_range=age_range, strict=strict,
                         source=" + ".join(SURVEY_LABELS[s] for s in names))


def nhanes_cohort(
    raw: pd.DataFrame,
    *,
    age_range: tuple[float, float] = (20.0, 84.0),
    strict: bool = False,
    source: str = "",
    for_prediction: bool = False,
) -> Cohort:
    """An extract in the layout of the bundled NHANES files as a cohort (see :func:`load_nhanes`).

    Parameters
    ----------
    raw
        One row per person with the bundled extracts' column names.
    age_range, strict, source
        As in :func:`load_nhanes`.
    for_prediction
        New people to score: the mortality columns (``eligstat``, ``ucod_leading``, ``status``,
        ``permth_int``, ``time``) may be absent (their outcomes are then missing and every person
        is counted as out of the outcome analyses), and only the feature columns present are
        declared, so that a model names any column it needs and does not find.
    """
    df = raw.reset_index(drop=True).copy()
    if "survey" not in df:
        wave = pd.to_numeric(df["wave"], errors="coerce") if "wave" in df else pd.Series(1, index=df.index)
        df["survey"] = np.where(wave == 0, "nhanes3", "nhanes4")
    mortality = ("eligstat", "ucod_leading", "status", "permth_int", "time")
    if for_prediction:
        for c in mortality:
            if c not in df:
                df[c] = np.nan
    missing = [c for c in ("sampleID", "age", "gender", *mortality) if c not in df]
    if missing:
        raise SurvageInputError(f"{len(missing)} NHANES column(s) missing: {missing}",
                                column=missing[0], expected="the columns of the bundled NHANES extracts")
    df = pd.concat([df, nhanes_outcomes(df)], axis=1)
    df["sex"] = (pd.to_numeric(df["gender"], errors="coerce") == 1).astype(float)
    df.loc[df["gender"].isna(), "sex"] = np.nan
    log = ExclusionLog()
    elig = pd.to_numeric(df["eligstat"], errors="coerce")
    inelig = (elig != 1) & ~(for_prediction & elig.isna())
    log.add(df.index[inelig].tolist(), scope=COHORT_SCOPE, column="eligstat",
            reason="not eligible for mortality linkage")
    age = pd.to_numeric(df["age"], errors="coerce")
    out_age = ~age.between(*age_range) & ~inelig
    log.add(df.index[out_age].tolist(), scope=COHORT_SCOPE, column="age",
            reason=f"age outside {age_range[0]:g}-{age_range[1]:g}")
    if for_prediction:
        no_followup = df["permth_int"].isna()
        for o in ("death", "death_ageing", "death_heart", "death_cancer"):
            df.loc[no_followup, [f"{o}_time", f"{o}_event"]] = np.nan
    outcomes = [
        Outcome("death", "death_time", "death_event", "months"),
        Outcome("death_ageing", "death_ageing_time", "death_ageing_event", "months"),
        Outcome("death_heart", "death_heart_time", "death_heart_event", "months", ("death",)),
        Outcome("death_cancer", "death_cancer_time", "death_cancer_event", "months", ("death",)),
    ]
    derived = [c for o in outcomes for c in (o.time, o.event)]
    clinical, dxa = CLINICAL, DXA
    if for_prediction:
        clinical = tuple(c for c in CLINICAL if c in df)
        dxa = tuple(c for c in DXA if c in df)
    return Cohort.build(
        df,
        ids="sampleID",
        age="age",
        sex="sex",
        modalities={"demographics": ("age", "sex"), "clinical": clinical, "dxa": dxa},
        outcomes=outcomes,
        outcome_data=(*OUTCOME_DATA, *derived),
        bookkeeping=(*BOOKKEEPING, "gender"),
        log_features=tuple(c for c in LOG_FEATURES if c in clinical),
        exclusions=log,
        strict=strict,
        require_events=not for_prediction,
        source=source,
    )
