"""Write a simulated cohort to a sheet file (``survage simulate``)."""

from __future__ import annotations

import os
from pathlib import Path

from survage.data.sheet_io import SHEET_SUFFIXES, write_sheet
from survage.errors import SurvageInputError
from survage.simulate.generative import simulate_cohort
from survage.simulate.sheet import IMAGE_COLUMN, to_sheet


def simulate_sheet_to_file(
    n: int, *, seed: int, out: str | os.PathLike[str],
    images: str | os.PathLike[str] | None = None,
) -> Path:
    """Simulate ``n`` people and write them in the sheet layout to ``out`` (atomically).

    Parameters
    ----------
    n
        Number of people.
    seed
        Random seed (the same seed writes the same file).
    out
        Destination ``.csv`` or ``.xlsx``; its folder must exist.
    images
        Optional folder for one rendered L3 slice per person (NIfTI); the sheet then gets the
        image column with paths relative to the sheet's folder. Created if absent.

    Returns
    -------
    Path
        The written sheet.
    """
    path = Path(out)
    if path.suffix.lower() not in SHEET_SUFFIXES:
        raise SurvageInputError("unsupported sheet file type", column=str(path),
                                expected="a path ending in .csv or .xlsx")
    if not path.parent.is_dir():
        raise SurvageInputError("folder of the sheet does not exist", column=str(path.parent),
                                expected="an existing folder")
    df = simulate_cohort(n, seed=seed)
    if images is not None:
        from survage.simulate.images import render_images  # survage.imaging is slow to import

        paths = render_images(df, images, seed=seed)
        df[IMAGE_COLUMN] = [os.path.relpath(p, path.parent.resolve()) for p in paths]
    return write_sheet(to_sheet(df, seed=seed), path)
