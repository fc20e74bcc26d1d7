"""CT imaging: reading (DICOM/NIfTI via pydicom and MONAI), preprocessing, measures, phantoms.

Reading and metadata
    :func:`read_image`, :func:`read_dicom_file`, :func:`read_dicom_series`, :func:`read_nifti`,
    :func:`select_slice`, :class:`CTImage`, :class:`CTMeta` (geometry only, no patient tags),
    :class:`CTReader` (a MONAI ``ImageReader``).
MONAI pipelines
    :func:`ct_transforms`, :func:`ct_loader`, :class:`SelectSliced`, :class:`ImageDataset`.
Measures
    :func:`measure_slice`, :func:`agatston_score`, :func:`area_cm2`, :func:`mean_hu`,
    :func:`median_hu`, :func:`body_mask_from_hu`; sheet headers in :mod:`survage.imaging.sheet_columns`.
Synthetic images and writing
    :func:`render_l3_slice`, :func:`write_nifti`.

The image encoder network lives in :mod:`survage.nn.image_branch` (``ImageEncoder``).

Names are imported on first use, so that the measures and the phantom (numpy/scipy only) do
not pull in torch and MONAI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "agatston_score": "agatston", "agatston_weight": "agatston",
    "ImageDataset": "dataset", "is_missing_path": "dataset",
    "CTImage": "dicom", "read_dicom_file": "dicom", "read_dicom_series": "dicom",
    "MASK_NAMES": "measures", "area_cm2": "measures", "body_mask_from_hu": "measures", "mean_hu": "measures",
    "measure_slice": "measures", "median_hu": "measures",
    "CTMeta": "meta",
    "CTReader": "monai_reader",
    "PHANTOM_DEFAULTS": "phantom", "render_l3_slice": "phantom",
    "read_image": "read", "read_nifti": "read", "select_slice": "read",
    "CT_MEASURES": "sheet_columns", "CT_SHEET_HEADERS": "sheet_columns", "canonical_from_header": "sheet_columns",
    "normalize_header": "sheet_columns",
    "DEFAULT_HU_WINDOW": "transforms", "SelectSliced": "transforms", "ct_loader": "transforms",
    "ct_transforms": "transforms",
    "write_nifti": "write",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'survage.imaging' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"survage.imaging.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from survage.imaging.agatston import agatston_score, agatston_weight
    from survage.imaging.dataset import ImageDataset, is_missing_path
    from survage.imaging.dicom import CTImage, read_dicom_file, read_dicom_series
    from survage.imaging.measures import (
        MASK_NAMES,
        area_cm2,
        body_mask_from_hu,
        mean_hu,
        measure_slice,
        median_hu,
    )
    from survage.imaging.meta import CTMeta
    from survage.imaging.monai_reader import CTReader
    from survage.imaging.phantom import PHANTOM_DEFAULTS, render_l3_slice
    from survage.imaging.read import read_image, read_nifti, select_slice
    from survage.imaging.sheet_columns import (
        CT_MEASURES,
        CT_SHEET_HEADERS,
        canonical_from_header,
        normalize_header,
    )
    from survage.imaging.transforms import DEFAULT_HU_WINDOW, SelectSliced, ct_loader, ct_transforms
    from survage.imaging.write import write_nifti
