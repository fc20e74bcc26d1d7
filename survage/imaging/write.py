"""Write images to disk atomically (temporary file in the target folder, then ``os.replace``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np

from survage.atomic import atomic_target
from survage.errors import SurvageInputError

__all__ = ["write_nifti", "nifti_affine"]


def nifti_affine(spacing_mm: Sequence[float], origin_mm: Sequence[float] | None = None) -> np.ndarray:
    """RAS affine for an array written from numpy order ``(rows, cols)`` / ``(slices, rows, cols)``.

    The NIfTI array is the transpose (x = column, y = row, z = slice). As in an axial DICOM slice
    displayed radiologically, columns run toward the patient's left and rows toward posterior,
    which are the negative RAS x and y directions.

    Parameters
    ----------
    spacing_mm
        Spacing per numpy axis, same order as the array shape.
    origin_mm
        RAS position of the first voxel (default the origin).
    """
    sp = [float(x) for x in spacing_mm]
    if len(sp) not in (2, 3) or not all(np.isfinite(sp)) or min(sp) <= 0:
        raise SurvageInputError("bad spacing", column="spacing", expected="2 or 3 positive numbers (mm)")
    xyz = list(reversed(sp)) + ([1.0] if len(sp) == 2 else [])
    affine = np.diag([-xyz[0], -xyz[1], xyz[2], 1.0])
    if origin_mm is not None:
        affine[:3, 3] = np.asarray(origin_mm, dtype=np.float64)
    return affine


def write_nifti(
    image: np.ndarray,
    spacing: Sequence[float],
    path: str | os.PathLike[str],
    *,
    origin_mm: Sequence[float] | None = None,
) -> Path:
    """Write a 2D or 3D image (numpy order) as NIfTI, atomically.

    Parameters
    ----------
    image
        ``(rows, cols)`` or ``(slices, rows, cols)``; stored as float32 (HU).
    spacing
        Spacing in mm per array axis, same order as ``image.shape``.
    path
        Target ``.nii`` or ``.nii.gz`` file; its folder must exist.
    origin_mm
        RAS position of the first voxel.

    Returns
    -------
    Path
        The written path. :func:`survage.imaging.read.read_image` reads back the same array and spacing.
    """
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim not in (2, 3):
        raise SurvageInputError(f"image has {arr.ndim} dimensions", column="image", expected="2 or 3")
    if len(spacing) != arr.ndim:
        raise SurvageInputError("spacing length differs from image dimensions", column="spacing",
                                expected=f"{arr.ndim} values")
    target = Path(path)
    name = target.name.lower()
    if not (name.endswith(".nii") or name.endswith(".nii.gz")):
        raise SurvageInputError("not a NIfTI file name", column=str(target), expected="a .nii or .nii.gz path")
    if not target.parent.is_dir():
        raise SurvageInputError("folder does not exist", column=str(target.parent), expected="an existing folder")
    affine = nifti_affine(spacing, origin_mm)
    img = nib.Nifti1Image(np.ascontiguousarray(arr.T), affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    suffix = ".nii.gz" if name.endswith(".nii.gz") else ".nii"
    with atomic_target(target, suffix=suffix, make_parents=False) as tmp:
        nib.save(img, str(tmp))
    return target
