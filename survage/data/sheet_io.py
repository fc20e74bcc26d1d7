"""Write a table in sheet layout to ``.csv`` or ``.xlsx`` atomically.

Used by the simulator to write a cohort in the opportunistic-CT sheet layout
(:mod:`survage.data.oppscr_layout`) and by tests. Headers are written exactly as given, including
duplicate empty separator columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from survage.atomic import atomic_target
from survage.errors import SurvageInputError

#: file suffixes :func:`write_sheet` and the sheet reader understand
SHEET_SUFFIXES = (".csv", ".xlsx")


def write_sheet(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` (header row = its columns, no index) to ``path`` atomically.

    The table is written to a temporary file in the same folder and moved into place with
    :func:`os.replace`, so a reader never sees a half-written sheet.

    Parameters
    ----------
    df
        The table in sheet layout; column labels are written as the header row verbatim.
    path
        Destination ending in ``.csv`` or ``.xlsx`` (the parent folder must exist).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    SurvageInputError
        If the suffix is not ``.csv`` or ``.xlsx`` or the parent folder does not exist.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise SurvageInputError("unsupported sheet file type", column=str(p),
                                expected="a path ending in .csv or .xlsx")
    if not p.parent.is_dir():
        raise SurvageInputError("folder of the sheet does not exist", column=str(p.parent),
                                expected="an existing folder")
    with atomic_target(p, suffix=suffix, make_parents=False) as tmp:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                df.to_excel(xw, index=False)
    return p
