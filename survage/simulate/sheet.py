"""Render a simulated cohort in the exact opportunistic-CT sheet layout, messy cells included.

Cell formats (the reader, :func:`survage.data.oppscr.read_oppscr`, reads them back):

- identifiers and day counts as integers; blanks as an empty cell or a few spaces (seeded);
- ``BMI`` with one decimal, ``BMI >30`` and ``Met Sx`` as ``Y``/``N``, ``Tobacco`` as
  ``Yes``/``No``, ``Sex`` as ``Female``/``Male``, ``Age at CT`` with one decimal;
- ``Alcohol abuse``: blank, or an ICD-10 F10 description (seeded choice);
- ``FRS 10-year risk (%)``: ``7%`` (whole percent), ``<1%``, ``>30%``, or ``X`` (not computable);
- FRAX columns: one decimal, or ``_`` (not computable);
- DX pairs: the diagnosis text and its day count (negative = before the CT);
- CT measures: areas and SMI with 2 decimals, VAT/SAT with 4, attenuations and Agatston with 1;
- ``true_biological_age`` (4 decimals) and ``true_log_hazard`` (6 decimals) after the layout;
  :data:`~survage.data.oppscr_layout.IMAGE_HEADER` last when the frame has ``ct_image_path``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from survage.data.oppscr_layout import (CLINICAL_HEADERS, CT_HEADERS, DEATH, DX_PAIRS, FOLLOWUP,
                                        ID_HEADERS, IMAGE_HEADER, SHEET_HEADERS)
from survage.errors import SurvageInputError
from survage.simulate.generative import TRUTH_COLUMNS

#: ICD-10 F10 descriptions written in the ``Alcohol abuse`` column
ALCOHOL_TEXTS = (
    "Alcohol abuse, uncomplicated",
    "Alcohol dependence, uncomplicated",
    "Alcohol abuse, in remission",
    "Alcohol dependence, in remission",
    "Alcohol use, unspecified, uncomplicated",
    "Alcohol dependence with withdrawal, unspecified",
)

#: decimals of each numeric column in the sheet
DECIMALS: dict[str, int] = {
    "bmi": 1, "age": 1, "frax_major": 1, "frax_hip": 1,
    "l1_hu": 1, "tat_area": 2, "total_body_area": 2, "vat_area": 2, "sat_area": 2,
    "vat_sat_ratio": 4, "muscle_hu": 1, "muscle_area": 2, "l3_smi": 2, "aoca_agatston": 1,
    "liver_hu": 1, "true_biological_age": 4, "true_log_hazard": 6,
}

#: share of blank cells written as white space rather than empty
WHITESPACE_BLANKS = 0.2

#: the canonical column of the image path (as the reader names it)
IMAGE_COLUMN = "ct_image_path"


def _isnan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def format_frs(v: float) -> str:
    """FRS cell: ``X`` (missing), ``<1%``, ``>30%`` or a whole percent such as ``7%``."""
    if _isnan(v):
        return "X"
    if v < 1.0:
        return "<1%"
    if v > 30.0:
        return ">30%"
    return f"{int(math.floor(v + 0.5))}%"


def _number(v: object, decimals: int) -> object:
    return None if _isnan(v) else round(float(v), decimals)  # type: ignore[arg-type]


def _integer(v: object) -> object:
    return None if _isnan(v) else int(round(float(v)))  # type: ignore[arg-type]


def _coded(v: object, yes: str, no: str) -> object:
    return None if _isnan(v) else (yes if float(v) == 1.0 else no)  # type: ignore[arg-type]


def to_sheet(df: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """The frame of :func:`~survage.simulate.simulate_cohort` in the exact sheet layout.

    Parameters
    ----------
    df
        Canonical frame (as returned by ``simulate_cohort``; an optional ``ct_image_path``
        column, relative to the sheet, becomes the image column).
    seed
        Seed of the cosmetic choices: which ICD-10 text records alcohol abuse, and which blanks
        are written as white space.

    Returns
    -------
    pandas.DataFrame
        Object columns labelled exactly :data:`~survage.data.oppscr_layout.SHEET_HEADERS`
        (two empty separator labels) + ``true_biological_age``, ``true_log_hazard``
        (+ :data:`~survage.data.oppscr_layout.IMAGE_HEADER`). Blank cells are ``None`` or spaces.
    """
    needed = [*ID_HEADERS, "followup_days", *CLINICAL_HEADERS.values(), "death_days",
              *(f"{e}_dx_{k}" for _, _, e in DX_PAIRS for k in ("text", "days")),
              *CT_HEADERS.values(), *TRUTH_COLUMNS]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise SurvageInputError(f"{len(missing)} canonical column(s) missing: {missing[:5]}",
                                column=missing[0], expected="the frame of simulate_cohort")
    rng = np.random.default_rng(seed)
    n = len(df)
    cells: dict[str, list[object]] = {}
    for h in ID_HEADERS:
        cells[h] = [_integer(v) if not isinstance(v, str) else v for v in df[h]]
    cells[FOLLOWUP] = [_integer(v) for v in df["followup_days"]]
    coded = {"bmi_over_30": ("Y", "N"), "metabolic_syndrome": ("Y", "N"),
             "tobacco": ("Yes", "No"), "sex": ("Male", "Female")}
    alcohol_text = rng.choice(np.array(ALCOHOL_TEXTS, dtype=object), size=n)
    for h, name in CLINICAL_HEADERS.items():
        col = df[name].to_numpy(dtype=float)
        if name in coded:
            cells[h] = [_coded(v, *coded[name]) for v in col]
        elif name == "alcohol_abuse":
            cells[h] = [t if v == 1.0 else None for v, t in zip(col, alcohol_text)]
        elif name == "frs_10y":
            cells[h] = [format_frs(v) for v in col]
        elif name in ("frax_major", "frax_hip"):
            cells[h] = ["_" if _isnan(v) else round(float(v), DECIMALS[name]) for v in col]
        else:
            cells[h] = [_number(v, DECIMALS[name]) for v in col]
    separator_1: list[object] = [None] * n
    cells[DEATH] = [_integer(v) for v in df["death_days"]]
    for text_h, day_h, event in DX_PAIRS:
        cells[text_h] = [None if _isnan(t) else str(t) for t in df[f"{event}_dx_text"]]
        cells[day_h] = [_integer(v) for v in df[f"{event}_dx_days"]]
    separator_2: list[object] = [None] * n
    for h, name in CT_HEADERS.items():
        cells[h] = [_number(v, DECIMALS[name]) for v in df[name].to_numpy(dtype=float)]

    columns: list[list[object]] = []
    seps = iter((separator_1, separator_2))
    for h in SHEET_HEADERS:
        columns.append(next(seps) if h == "" else cells[h])
    labels = list(SHEET_HEADERS)
    for c in TRUTH_COLUMNS:
        columns.append([_number(v, DECIMALS[c]) for v in df[c].to_numpy(dtype=float)])
        labels.append(c)
    if IMAGE_COLUMN in df.columns:
        columns.append([None if _isnan(v) else str(v) for v in df[IMAGE_COLUMN]])
        labels.append(IMAGE_HEADER)

    # blank cells: empty, or a few spaces (a reader must treat both as missing)
    spaces = rng.random((n, len(columns))) < WHITESPACE_BLANKS
    width = rng.integers(1, 4, size=(n, len(columns)))
    for j, col in enumerate(columns):
        if labels[j] == "":
            continue
        for i, v in enumerate(col):
            if v is None and spaces[i, j]:
                col[i] = " " * int(width[i, j])
    out = pd.DataFrame({j: pd.Series(col, dtype=object) for j, col in enumerate(columns)})
    out.columns = labels
    return out
