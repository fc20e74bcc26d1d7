"""Rendered L3 slices for simulated people (``survage simulate --images DIR``).

Each person's slice is drawn by :func:`survage.imaging.phantom.render_l3_slice` from their CT
measures, so that measuring the image gives back the sheet's values (areas to one pixel, HU
exactly). A measure left blank in the sheet (a failed segmentation) is drawn at the cohort's
median for the person's sex, with the body area raised when needed so the layers fit.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from survage.errors import SurvageInputError
from survage.imaging.phantom import render_l3_slice
from survage.imaging.write import write_nifti

#: CT measures passed to the phantom
PHANTOM_KEYS = ("total_body_area", "sat_area", "vat_area", "muscle_area", "tat_area", "muscle_hu",
                "l1_hu", "aoca_agatston", "liver_hu")

#: cavity room (cm2) kept for the vertebra, aorta and organs when a blank body area is filled
CAVITY_MARGIN = 120.0

#: tries per person before giving up (each with a fresh generator of the person's stream)
RENDER_ATTEMPTS = 20


def phantom_values(row: pd.Series, medians: dict[str, float]) -> dict[str, float]:
    """Phantom inputs for one person: their measures, blanks filled by ``medians``."""
    v = {k: float(row[k]) for k in PHANTOM_KEYS}
    fat_blank = math.isnan(v["total_body_area"])
    for k in PHANTOM_KEYS:
        if math.isnan(v[k]) and k != "liver_hu":
            v[k] = medians[k]
    if math.isnan(v["liver_hu"]):
        v["liver_hu"] = medians["liver_hu"]
    v["tat_area"] = max(v["tat_area"], v["vat_area"] + v["sat_area"])
    need = v["tat_area"] + v["muscle_area"] + CAVITY_MARGIN
    if fat_blank or v["total_body_area"] < need:
        v["total_body_area"] = max(v["total_body_area"], need)
    return v


def render_images(df: pd.DataFrame, folder: str | os.PathLike[str], *, seed: int,
                  size: int = 256) -> list[Path]:
    """Render and write one NIfTI L3 slice per row of the canonical frame.

    Parameters
    ----------
    df
        Canonical frame of :func:`~survage.simulate.simulate_cohort`.
    folder
        Output folder (created if absent).
    seed
        Seed; person ``i`` uses the generators ``default_rng([seed, i, attempt])``.
    size
        Image side in pixels.

    Returns
    -------
    list of Path
        One ``sim_<row>.nii.gz`` per person (file names never contain identifiers).
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise SurvageInputError("image folder is a file", column=str(out), expected="a folder")
    out.mkdir(parents=True, exist_ok=True)
    male = df["sex"].to_numpy(dtype=float) == 1
    medians_by_sex = {
        sex: {k: float(np.nanmedian(df.loc[m, k])) if np.isfinite(df.loc[m, k]).any()
              else float(np.nanmedian(df[k])) for k in PHANTOM_KEYS}
        for sex, m in ((1, male), (0, ~male))
    }
    paths = []
    for i, (_, row) in enumerate(df.iterrows()):
        values = phantom_values(row, medians_by_sex[1 if male[i] else 0])
        image, spacing = _render(values, size=size, seed=seed, row=i)
        paths.append(write_nifti(image, spacing, out / f"sim_{i:06d}.nii.gz"))
    return paths


def _render(values: dict[str, float], *, size: int, seed: int, row: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Render one slice; a random body outline that clips the spine or leaves no room for the
    liver is redrawn (next generator of the person's stream), up to :data:`RENDER_ATTEMPTS`."""
    last: SurvageInputError | None = None
    for attempt in range(RENDER_ATTEMPTS):
        try:
            image, _, spacing = render_l3_slice(values, size=size,
                                                rng=np.random.default_rng([seed, row, attempt]))
            return image, spacing
        except SurvageInputError as err:
            last = err
    raise SurvageInputError(f"could not render the L3 slice of row {row}: {last}",
                            column="ct_image_path", rows=[row],
                            expected="CT measures a phantom body can hold")
