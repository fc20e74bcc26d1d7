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
"""

from survage.imaging.agatston import agatston_score, agatston_weight
from survage.imaging.dataset import ImageDataset, is_missing_path
from survage.imaging.dicom import CTImage, read_dicom_file, read_dicom_series
from survage.imaging.measures import MASK_NAMES, area_cm2, body_mask_from_hu, mean_hu, measure_slice, median_hu
from survage.imaging.meta import CTMeta
from survage.imaging.monai_reader import CTReader
from survage.imaging.phantom import PHANTOM_DEFAULTS, render_l3_slice
from survage.imaging.read import read_image, read_nifti, select_slice
from survage.imaging.sheet_columns import CT_MEASURES, CT_SHEET_HEADERS, canonical_from_header, normalize_header
from survage.imaging.transforms import DEFAULT_HU_WINDOW, SelectSliced, ct_loader, ct_transforms
from survage.imaging.write import write_nifti

__all__ = [
    "CT_MEASURES", "CT_SHEET_HEADERS", "CTImage", "CTMeta", "CTReader", "DEFAULT_HU_WINDOW", "ImageDataset",
    "MASK_NAMES", "PHANTOM_DEFAULTS", "SelectSliced", "agatston_score", "agatston_weight", "area_cm2",
    "body_mask_from_hu", "canonical_from_header", "ct_loader", "ct_transforms", "is_missing_path", "mean_hu",
    "measure_slice", "median_hu", "normalize_header", "read_dicom_file", "read_dicom_series", "read_image",
    "read_nifti", "render_l3_slice", "select_slice", "write_nifti",
]
