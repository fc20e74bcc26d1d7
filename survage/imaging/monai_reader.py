"""A MONAI ``ImageReader`` over survage's readers, for ``LoadImage``/``LoadImaged`` pipelines.

It orders DICOM series anatomically (MONAI's own ``PydicomReader`` orders by ``InstanceNumber``),
rescales to HU and passes on only geometry metadata (no patient tags).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import ImageReader
from monai.utils import ensure_tuple

from survage.errors import SurvageInputError
from survage.imaging.dicom import CTImage, read_dicom_series
from survage.imaging.read import is_nifti_path, read_image

__all__ = ["CTReader", "monai_array_and_meta"]


def monai_array_and_meta(image: CTImage) -> tuple[np.ndarray, dict[str, Any]]:
    """Convert a :class:`CTImage` to MONAI's layout: array ``(x, y[, z])`` and a minimal meta dict.

    Parameters
    ----------
    image
        HU image in numpy order ``(rows, cols)`` or ``(slices, rows, cols)``.

    Returns
    -------
    array, meta
        The transposed float32 array and a dict with ``affine``, ``original_affine``,
        ``spatial_shape``, ``original_channel_dim`` (no channel) and ``space`` (RAS) only.
    """
    array = np.ascontiguousarray(image.hu.T)
    affine = image.meta.affine_array()
    meta: dict[str, Any] = {
        "affine": affine,
        "original_affine": affine.copy(),
        "spatial_shape": np.asarray(array.shape),
        "original_channel_dim": float("nan"),
        "space": "RAS",
    }
    return array, meta


class CTReader(ImageReader):
    """MONAI image reader for CT: DICOM folder/file via pydicom, NIfTI via MONAI's nibabel reader.

    Use as ``LoadImaged(keys, reader=CTReader())``. The loaded array is in HU, MONAI layout
    ``(x, y[, z])``, with an RAS affine; metadata holds geometry only.
    """

    def verify_suffix(self, filename: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> bool:
        """Accept folders, NIfTI files and DICOM-looking files."""
        names = ensure_tuple(filename)
        if len(names) != 1:
            return all(str(n).lower().endswith(".dcm") for n in names)
        p = Path(names[0])
        return p.is_dir() or is_nifti_path(p) or p.suffix.lower() in (".dcm", ".dicom", "")

    def read(self, data: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], **kwargs: Any) -> CTImage:
        """Read one image: a folder or list of slices (one series), a DICOM file or a NIfTI file."""
        names = ensure_tuple(data)
        if len(names) > 1:
            return read_dicom_series([Path(n) for n in names])
        if len(names) == 0:
            raise SurvageInputError("no image path given", expected="a file or folder")
        return read_image(names[0])

    def get_data(self, img: CTImage) -> tuple[np.ndarray, dict[str, Any]]:
        """Return the MONAI-layout array and the whitelisted meta dict."""
        return monai_array_and_meta(img)
