"""Body-composition measures from an HU slice and label masks, named as the sheet's CT columns.

Canonical keys (see :mod:`survage.imaging.sheet_columns` for the sheet headers):
``l1_hu, tat_area, total_body_area, vat_area, sat_area, vat_sat_ratio, muscle_hu, muscle_area,
l3_smi, aoca_agatston, liver_hu``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

from survage.errors import SurvageInputError
from survage.imaging.agatston import agatston_score
from survage.imaging.sheet_columns import CT_MEASURES

__all__ = [
    "MASK_NAMES",
    "area_cm2",
    "mean_hu",
    "median_hu",
    "body_mask_from_hu",
    "measure_slice",
]

#: Mask names understood by :func:`measure_slice`.
MASK_NAMES: tuple[str, ...] = ("body", "sat", "vat", "muscle", "imat", "l1_trabecular", "aorta", "liver")


def _spacing(spacing_mm: Sequence[float]) -> tuple[float, float]:
    sp = tuple(float(s) for s in spacing_mm)
    if len(sp) != 2 or not all(math.isfinite(s) and s > 0 for s in sp):
        raise SurvageInputError("bad in-plane pixel spacing", column="spacing_mm", expected="(row_mm, col_mm) > 0")
    return sp  # type: ignore[return-value]


def area_cm2(mask: np.ndarray, spacing_mm: Sequence[float]) -> float:
    """Area of a 2D mask in cm2: pixel count * row spacing * column spacing (mm2) / 100."""
    row_mm, col_mm = _spacing(spacing_mm)
    return float(np.count_nonzero(mask)) * row_mm * col_mm / 100.0


def mean_hu(image_hu: np.ndarray, mask: np.ndarray) -> float:
    """Mean HU inside a mask; NaN for an empty mask."""
    m = np.asarray(mask, dtype=bool)
    return float(np.mean(image_hu[m], dtype=np.float64)) if m.any() else float("nan")


def median_hu(image_hu: np.ndarray, mask: np.ndarray) -> float:
    """Median HU inside a mask; NaN for an empty mask."""
    m = np.asarray(mask, dtype=bool)
    return float(np.median(image_hu[m])) if m.any() else float("nan")


def body_mask_from_hu(image_hu: np.ndarray, threshold_hu: float = -500.0) -> np.ndarray:
    """Body outline of a slice: largest connected region above ``threshold_hu``, holes filled.

    Parameters
    ----------
    image_hu
        ``(rows, cols)`` slice in HU.
    threshold_hu
        Air/body boundary (default -500 HU, half way between air and fat).

    Returns
    -------
    numpy.ndarray
        Boolean mask (empty if nothing is above the threshold).
    """
    above = np.asarray(image_hu) > threshold_hu
    labels, n = ndimage.label(above)
    if n == 0:
        return np.zeros_like(above)
    sizes = ndimage.sum_labels(above, labels, np.arange(1, n + 1))
    largest = labels == (int(np.argmax(sizes)) + 1)
    return ndimage.binary_fill_holes(largest)


def _height(height_m: float | None) -> float | None:
    if height_m is None:
        return None
    h = float(height_m)
    if not math.isfinite(h):
        return None
    if not 0.3 <= h <= 2.8:
        raise SurvageInputError(f"height {h} is not in metres", column="height_m", expected="0.3 to 2.8 m")
    return h


def measure_slice(
    image_hu: np.ndarray,
    spacing_mm: Sequence[float],
    masks: Mapping[str, np.ndarray],
    *,
    height_m: float | None = None,
    derive_body: bool = True,
    body_threshold_hu: float = -500.0,
) -> dict[str, float]:
    """Compute the opportunistic-CT measures of one slice from its label masks.

    Areas are pixel counts times pixel area (cm2); HU summaries are means except the liver
    (median). TAT = VAT + SAT + intermuscular fat (``imat``, if given). SMI = muscle area /
    height^2 (Shen et al. 2004, doi:10.1152/japplphysiol.00744.2004; Prado et al. 2008,
    doi:10.1016/S1470-2045(08)70153-0). Aortic calcium is the Agatston score inside the
    ``aorta`` mask (Agatston et al. 1990, doi:10.1016/0735-1097(90)90282-T). L1 HU is the mean
    trabecular attenuation inside ``l1_trabecular`` (Pickhardt et al. 2013,
    doi:10.7326/0003-4819-158-8-201304160-00003), usually drawn on the L1 slice.

    Parameters
    ----------
    image_hu
        ``(rows, cols)`` slice in HU.
    spacing_mm
        Pixel spacing ``(row_mm, col_mm)``.
    masks
        Boolean masks of the slice's shape, keyed by names in :data:`MASK_NAMES`
        (``body, sat, vat, muscle, imat, l1_trabecular, aorta, liver``); any may be absent.
    height_m
        Height in metres for the SMI; ``None`` or NaN gives NaN.
    derive_body
        Without a ``body`` mask, take the body outline by thresholding (:func:`body_mask_from_hu`).
    body_threshold_hu
        Threshold used when deriving the body outline.

    Returns
    -------
    dict
        Canonical key -> value for every name in ``CT_MEASURES`` (NaN where the needed mask
        is absent or empty; VAT/SAT is NaN when SAT area is 0; Agatston is 0 for an aorta without calcium).
    """
    img = np.asarray(image_hu, dtype=np.float64)
    if img.ndim != 2:
        raise SurvageInputError(f"image has {img.ndim} dimensions", column="image_hu", expected="a 2D slice")
    spacing = _spacing(spacing_mm)
    unknown = sorted(set(masks) - set(MASK_NAMES))
    if unknown:
        raise SurvageInputError(f"unknown mask names {unknown}", column="masks", expected=", ".join(MASK_NAMES))
    m: dict[str, np.ndarray] = {}
    for name, mask in masks.items():
        arr = np.asarray(mask)
        if arr.shape != img.shape:
            raise SurvageInputError(
                f"mask {name!r} has shape {arr.shape}", column=name, expected=f"the image shape {img.shape}"
            )
        m[name] = arr.astype(bool)
    height = _height(height_m)
    nan = float("nan")
    out: dict[str, float] = dict.fromkeys(CT_MEASURES, nan)

    def area(name: str) -> float:
        return area_cm2(m[name], spacing) if name in m else nan

    vat, sat = area("vat"), area("sat")
    out["vat_area"], out["sat_area"] = vat, sat
    out["vat_sat_ratio"] = vat / sat if (math.isfinite(vat) and math.isfinite(sat) and sat > 0) else nan
    out["tat_area"] = vat + sat + (area("imat") if "imat" in m else 0.0)
    if "muscle" in m:
        out["muscle_area"] = area("muscle")
        out["muscle_hu"] = mean_hu(img, m["muscle"])
        if height is not None:
            out["l3_smi"] = out["muscle_area"] / height**2
    if "body" in m:
        out["total_body_area"] = area("body")
    elif derive_body:
        out["total_body_area"] = area_cm2(body_mask_from_hu(img, body_threshold_hu), spacing)
    if "l1_trabecular" in m:
        out["l1_hu"] = mean_hu(img, m["l1_trabecular"])
    if "liver" in m:
        out["liver_hu"] = median_hu(img, m["liver"])
    if "aorta" in m:
        out["aoca_agatston"] = agatston_score(img, spacing, m["aorta"])
    return out
