"""Whitelisted image metadata: geometry only, never identifying DICOM tags."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["CTMeta", "ALLOWED_META_KEYS"]


@dataclass(frozen=True)
class CTMeta:
    """Geometry and intensity metadata of a CT image, built from a fixed whitelist.

    Nothing else from a DICOM header (patient name or ID, dates, accession number,
    institution, UIDs, ...) is ever copied here, so this object, its ``repr`` and
    ``to_dict()`` are safe to log.

    Parameters
    ----------
    shape
        Array shape in survage's numpy order: ``(rows, cols)`` for one slice,
        ``(slices, rows, cols)`` for a volume.
    spacing_mm
        Voxel spacing in mm along each array axis, same order as ``shape``
        (slice spacing, row spacing = DICOM ``PixelSpacing[0]``, column spacing).
    slice_thickness_mm
        Nominal reconstructed slice thickness (DICOM ``SliceThickness``), if known.
    orientation
        DICOM ``ImageOrientationPatient`` (row direction cosine, then column direction cosine), if known.
    origin_mm
        Patient-coordinate (LPS for DICOM, RAS for NIfTI) position of the first voxel, if known.
    slice_positions_mm
        Position of each slice along the slice normal (for axial scans, the patient z,
        superior positive), ascending; one entry for a single slice.
    modality
        DICOM ``Modality`` (``"CT"``), or ``None`` for NIfTI.
    rescale_slope, rescale_intercept
        Per-slice rescale applied to stored values to give HU.
    affine_ras
        4x4 voxel-to-world affine in MONAI layout (array axes x=column, y=row, z=slice; RAS world).
    source
        ``"dicom"`` or ``"nifti"``.
    """

    shape: tuple[int, ...]
    spacing_mm: tuple[float, ...]
    slice_thickness_mm: float | None
    orientation: tuple[float, ...] | None
    origin_mm: tuple[float, ...] | None
    slice_positions_mm: tuple[float, ...]
    modality: str | None
    rescale_slope: tuple[float, ...]
    rescale_intercept: tuple[float, ...]
    affine_ras: tuple[tuple[float, ...], ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Return the metadata as a plain dict (JSON-friendly tuples and floats)."""
        return asdict(self)

    def affine_array(self) -> np.ndarray:
        """Return ``affine_ras`` as a float64 (4, 4) array."""
        return np.asarray(self.affine_ras, dtype=np.float64)


ALLOWED_META_KEYS: frozenset[str] = frozenset(CTMeta.__dataclass_fields__)
