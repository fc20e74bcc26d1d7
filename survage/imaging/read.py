"""Read CT images (DICOM file or series, NIfTI) as HU arrays with whitelisted metadata.

NIfTI goes through MONAI's ``NibabelReader``; DICOM through pydicom (:mod:`survage.imaging.dicom`).
Arrays returned here are in numpy display order: ``(rows, cols)`` or ``(slices, rows, cols)``.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from monai.data import NibabelReader

from survage.errors import SurvageInputError
from survage.imaging.dicom import CTImage, read_dicom_file, read_dicom_series
from survage.imaging.meta import CTMeta

__all__ = ["read_image", "read_nifti", "is_nifti_path", "select_slice"]


def is_nifti_path(path: str | os.PathLike[str]) -> bool:
    """Return whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``)."""
    name = str(path).lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def read_nifti(path: str | os.PathLike[str]) -> CTImage:
    """Read a 2D or 3D NIfTI image (values taken as HU) through MONAI's ``NibabelReader``.

    Parameters
    ----------
    path
        ``.nii`` or ``.nii.gz`` file. Stored scaling (``scl_slope``/``scl_inter``) is applied by nibabel.

    Returns
    -------
    CTImage
        ``hu`` in numpy order (the transpose of the NIfTI ``(x, y[, z])`` array), spacing from the
        affine's column norms, slices ascending along the slice normal.
    """
    p = Path(path)
    if not p.is_file():
        raise SurvageInputError("NIfTI file not found", column=str(p), expected="an existing .nii/.nii.gz file")
    reader = NibabelReader()
    array, header = reader.get_data(reader.read(str(p)))
    data = np.asarray(array, dtype=np.float32)
    affine = np.asarray(header["affine"], dtype=np.float64)
    if data.ndim not in (2, 3):
        raise SurvageInputError(f"NIfTI image has {data.ndim} dimensions", column=str(p), expected="2 or 3")
    ndim = data.ndim
    cols3 = affine[:3, :3].copy()
    normal = _unit(np.cross(cols3[:, 0], cols3[:, 1]))
    if ndim == 3 and float(np.dot(cols3[:, 2], normal)) < 0:  # put slices in ascending order
        data = data[:, :, ::-1]
        affine[:3, 3] = affine[:3, 3] + cols3[:, 2] * (data.shape[2] - 1)
        affine[:3, 2] = -cols3[:, 2]
    spacing_xyz = [float(np.linalg.norm(affine[:3, i])) for i in range(ndim)]
    hu = np.ascontiguousarray(data.T)
    n_slices = data.shape[2] if ndim == 3 else 1
    positions = tuple(
        float(np.dot(normal, affine[:3, 3] + k * affine[:3, 2])) for k in range(n_slices)
    )
    meta = CTMeta(
        shape=tuple(int(s) for s in hu.shape),
        spacing_mm=tuple(reversed(spacing_xyz)),
        slice_thickness_mm=spacing_xyz[2] if ndim == 3 else None,
        orientation=None,
        origin_mm=tuple(float(v) for v in affine[:3, 3]),
        slice_positions_mm=positions,
        modality=None,
        rescale_slope=(1.0,) * n_slices,
        rescale_intercept=(0.0,) * n_slices,
        affine_ras=tuple(tuple(float(v) for v in r) for r in affine),
        source="nifti",
    )
    return CTImage(hu=hu, meta=meta)


def read_image(path: str | os.PathLike[str]) -> CTImage:
    """Read a CT image from a DICOM folder (series), a DICOM file or a NIfTI file.

    Parameters
    ----------
    path
        A folder (read as one DICOM series in anatomical order), a ``.nii``/``.nii.gz`` file,
        or any other file (read as one DICOM slice).

    Returns
    -------
    CTImage
        HU array in numpy order with whitelisted metadata.
    """
    p = Path(path)
    if p.is_dir():
        return read_dicom_series(p)
    if not p.exists():
        raise SurvageInputError("image path not found", column=str(p), expected="an existing file or folder")
    if is_nifti_path(p):
        return read_nifti(p)
    return read_dicom_file(p)


def select_slice(image: CTImage, *, index: int | None = None, z_mm: float | None = None) -> CTImage:
    """Take one axial slice (for example the L3 level) out of a volume.

    Parameters
    ----------
    image
        A volume, ``hu`` of shape ``(slices, rows, cols)`` in anatomical order.
    index
        Slice index in that (anatomical) order.
    z_mm
        Position along the slice normal (patient z for axial scans, mm); the nearest slice is taken.
        Give exactly one of ``index`` and ``z_mm``.

    Returns
    -------
    CTImage
        ``hu`` of shape ``(rows, cols)`` with matching 2D spacing.
    """
    if image.hu.ndim != 3:
        raise SurvageInputError("slice selection needs a volume", expected="hu of shape (slices, rows, cols)")
    if (index is None) == (z_mm is None):
        raise SurvageInputError("give exactly one of index and z_mm", expected="one slice locator")
    n = image.hu.shape[0]
    positions = np.asarray(image.meta.slice_positions_mm)
    if z_mm is not None:
        if not math.isfinite(z_mm):
            raise SurvageInputError("z_mm is not finite", expected="a position in mm")
        k = int(np.argmin(np.abs(positions - z_mm)))
        half = (image.meta.spacing_mm[0] / 2.0) + 1e-6
        if abs(positions[k] - z_mm) > half:
            raise SurvageInputError(
                f"z = {z_mm} mm lies outside the volume ({positions[0]:.1f} to {positions[-1]:.1f} mm)",
                expected="a position within the scanned range",
            )
    else:
        k = int(index)  # type: ignore[arg-type]
        if not 0 <= k < n:
            raise SurvageInputError(f"slice index {k} out of range", expected=f"0 <= index < {n}")
    affine = image.meta.affine_array()
    affine[:3, 3] = affine[:3, 3] + k * affine[:3, 2]
    origin = affine[:3, 3] * (np.array([-1.0, -1.0, 1.0]) if image.meta.source == "dicom" else 1.0)
    meta = replace(
        image.meta,
        shape=tuple(int(s) for s in image.hu.shape[1:]),
        spacing_mm=tuple(image.meta.spacing_mm[1:]),
        origin_mm=tuple(float(v) for v in origin),
        slice_positions_mm=(float(positions[k]),),
        rescale_slope=(image.meta.rescale_slope[k],),
        rescale_intercept=(image.meta.rescale_intercept[k],),
        affine_ras=tuple(tuple(float(v) for v in r) for r in affine),
    )
    return CTImage(hu=np.ascontiguousarray(image.hu[k]), meta=meta)
