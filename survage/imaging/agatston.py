"""Agatston calcium score on CT slices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from survage.errors import SurvageInputError

__all__ = ["agatston_weight", "agatston_score", "AGATSTON_THRESHOLD_HU", "AGATSTON_MIN_LESION_MM2"]

AGATSTON_THRESHOLD_HU: float = 130.0
AGATSTON_MIN_LESION_MM2: float = 1.0


def agatston_weight(peak_hu: float) -> int:
    """Density weight of a lesion from its peak HU (Agatston et al. 1990).

    1 for 130-199 HU, 2 for 200-299, 3 for 300-399, 4 for 400 and above, 0 below 130.

    References
    ----------
    Agatston AS et al. Quantification of coronary artery calcium using ultrafast computed
    tomography. J Am Coll Cardiol 1990;15:827-832. doi:10.1016/0735-1097(90)90282-T
    """
    if peak_hu >= 400:
        return 4
    if peak_hu >= 300:
        return 3
    if peak_hu >= 200:
        return 2
    if peak_hu >= AGATSTON_THRESHOLD_HU:
        return 1
    return 0


def _check_spacing(spacing_mm: Sequence[float]) -> tuple[float, float]:
    sp = tuple(float(s) for s in spacing_mm)
    if len(sp) != 2 or not all(np.isfinite(sp)) or min(sp) <= 0:
        raise SurvageInputError("bad in-plane pixel spacing", column="spacing_mm", expected="(row_mm, col_mm) > 0")
    return sp  # type: ignore[return-value]


def agatston_score(
    image_hu: np.ndarray,
    spacing_mm: Sequence[float],
    mask: np.ndarray | None = None,
    *,
    threshold_hu: float = AGATSTON_THRESHOLD_HU,
    min_lesion_mm2: float = AGATSTON_MIN_LESION_MM2,
    connectivity: int = 2,
) -> float:
    """Agatston score of the calcium inside ``mask`` (e.g. the aorta) on one slice or a stack.

    On each slice, pixels at or above ``threshold_hu`` (130 HU) inside the mask are grouped into
    connected lesions; lesions smaller than ``min_lesion_mm2`` (1 mm2) are noise and dropped. Each
    lesion scores its area (mm2) times a density weight from its peak HU (1: 130-199, 2: 200-299,
    3: 300-399, 4: >= 400). The score is the sum over lesions and slices. No correction for slice
    thickness is made (the original method used 3 mm slices).

    Parameters
    ----------
    image_hu
        ``(rows, cols)`` slice or ``(slices, rows, cols)`` stack in HU.
    spacing_mm
        In-plane pixel spacing ``(row_mm, col_mm)``.
    mask
        Boolean region (same shape) where calcium is counted; ``None`` counts everywhere.
    threshold_hu, min_lesion_mm2
        Calcium threshold and minimal lesion area.
    connectivity
        In-plane pixel connectivity of a lesion: 1 (edges, 4-neighbours) or 2 (edges and corners,
        8-neighbours, the default).

    Returns
    -------
    float
        Agatston score (Agatston units, area in mm2 times weight).

    References
    ----------
    Agatston AS et al. Quantification of coronary artery calcium using ultrafast computed
    tomography. J Am Coll Cardiol 1990;15:827-832. doi:10.1016/0735-1097(90)90282-T
    """
    img = np.asarray(image_hu, dtype=np.float64)
    if img.ndim not in (2, 3):
        raise SurvageInputError(f"image has {img.ndim} dimensions", column="image_hu", expected="2 or 3")
    row_mm, col_mm = _check_spacing(spacing_mm)
    if mask is None:
        region = np.ones(img.shape, dtype=bool)
    else:
        region = np.asarray(mask, dtype=bool)
        if region.shape != img.shape:
            raise SurvageInputError(
                f"mask shape {region.shape} differs from image shape {img.shape}", column="mask",
                expected="same shape as the image",
            )
    if connectivity not in (1, 2):
        raise SurvageInputError("bad connectivity", column="connectivity", expected="1 or 2")
    stack = img[None] if img.ndim == 2 else img
    regions = region[None] if img.ndim == 2 else region
    pixel_mm2 = row_mm * col_mm
    structure = ndimage.generate_binary_structure(2, connectivity)
    total = 0.0
    for sl, rg in zip(stack, regions):
        calcium = (sl >= threshold_hu) & rg
        if not calcium.any():
            continue
        labels, n = ndimage.label(calcium, structure=structure)
        index = np.arange(1, n + 1)
        counts = ndimage.sum_labels(np.ones_like(sl), labels, index)
        peaks = ndimage.maximum(sl, labels, index)
        for count, peak in zip(np.atleast_1d(counts), np.atleast_1d(peaks)):
            area = float(count) * pixel_mm2
            if area >= min_lesion_mm2:
                total += area * agatston_weight(float(peak))
    return float(total)
