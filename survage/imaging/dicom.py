"""DICOM CT reading with pydicom: HU rescale, geometry, anatomical slice order.

Only a whitelist of geometry tags leaves this module (see :class:`survage.imaging.meta.CTMeta`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from survage.errors import SurvageInputError
from survage.imaging.meta import CTMeta

__all__ = ["CTImage", "read_dicom_file", "read_dicom_series", "dicom_files_in"]

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True)
class CTImage:
    """An image in Hounsfield units with whitelisted metadata.

    Parameters
    ----------
    hu
        float32 array, ``(rows, cols)`` for one slice or ``(slices, rows, cols)`` for a volume,
        slices in anatomical order (ascending position along the slice normal).
    meta
        Geometry-only metadata; see :class:`~survage.imaging.meta.CTMeta`.
    """

    hu: np.ndarray
    meta: CTMeta

    @property
    def spacing_mm(self) -> tuple[float, ...]:
        """Voxel spacing in mm, one value per array axis."""
        return self.meta.spacing_mm


def _floats(value: object, n: int, tag: str, where: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise SurvageInputError(f"unreadable DICOM {tag}", column=where, expected=f"{n} numbers") from exc
    if len(out) != n:
        raise SurvageInputError(f"DICOM {tag} has {len(out)} values", column=where, expected=f"{n} numbers")
    return out


def _pixel_spacing(ds: Dataset, where: str) -> tuple[float, float]:
    value = ds.get("PixelSpacing")
    if value is None:
        value = ds.get("ImagerPixelSpacing")
    if value is None:
        raise SurvageInputError("DICOM slice has no PixelSpacing", column=where, expected="PixelSpacing (mm)")
    row, col = _floats(value, 2, "PixelSpacing", where)
    if row <= 0 or col <= 0:
        raise SurvageInputError("non-positive PixelSpacing", column=where, expected="spacing > 0 mm")
    return row, col


def _orientation(ds: Dataset, where: str) -> tuple[float, ...] | None:
    value = ds.get("ImageOrientationPatient")
    return None if value is None else _floats(value, 6, "ImageOrientationPatient", where)


def _position(ds: Dataset, where: str) -> tuple[float, float, float] | None:
    value = ds.get("ImagePositionPatient")
    if value is None:
        return None
    x, y, z = _floats(value, 3, "ImagePositionPatient", where)
    return x, y, z


def _rescale(ds: Dataset) -> tuple[float, float]:
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    return (1.0 if slope is None else float(slope)), (0.0 if intercept is None else float(intercept))


def _optional_float(ds: Dataset, keyword: str) -> float | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return float(value)


def _hu_pixels(ds: Dataset, where: str) -> np.ndarray:
    if "PixelData" not in ds:
        raise SurvageInputError("DICOM file has no pixel data", column=where, expected="an image slice")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames != 1:
        raise SurvageInputError(
            f"multi-frame DICOM ({frames} frames) is not supported", column=where, expected="single-frame slices"
        )
    if ds.get("SamplesPerPixel", 1) != 1:
        raise SurvageInputError("colour DICOM is not a CT slice", column=where, expected="SamplesPerPixel = 1")
    try:
        stored = ds.pixel_array
    except Exception as exc:  # decoder missing or corrupt data; pydicom raises several types
        raise SurvageInputError(
            f"cannot decode pixel data ({type(exc).__name__}: {exc})",
            column=where,
            expected="pixel data pydicom can decode (JPEG 2000 needs pylibjpeg + pylibjpeg-openjpeg)",
        ) from exc
    slope, intercept = _rescale(ds)
    return (stored.astype(np.float64) * slope + intercept).astype(np.float32)


def _normal(orientation: Sequence[float]) -> np.ndarray:
    row = np.asarray(orientation[:3], dtype=np.float64)
    col = np.asarray(orientation[3:], dtype=np.float64)
    normal = np.cross(row, col)
    norm = float(np.linalg.norm(normal))
    if norm < 1e-6:
        raise SurvageInputError("degenerate ImageOrientationPatient", expected="two non-parallel unit vectors")
    return normal / norm


def _affine_ras(
    orientation: Sequence[float] | None,
    origin: Sequence[float] | None,
    pixel_spacing: tuple[float, float],
    slice_step: np.ndarray,
) -> tuple[tuple[float, ...], ...]:
    """Voxel (x=column, y=row, z=slice) to RAS world affine (DICOM C.7.6.2.1.1)."""
    if orientation is None:
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    row_cos = np.asarray(orientation[:3], dtype=np.float64)
    col_cos = np.asarray(orientation[3:], dtype=np.float64)
    affine = np.eye(4)
    affine[:3, 0] = row_cos * pixel_spacing[1]  # moving along a row = increasing column index
    affine[:3, 1] = col_cos * pixel_spacing[0]
    affine[:3, 2] = slice_step
    affine[:3, 3] = np.zeros(3) if origin is None else np.asarray(origin, dtype=np.float64)
    ras = _LPS_TO_RAS @ affine
    return tuple(tuple(float(v) for v in r) for r in ras)


def read_dicom_file(path: str | os.PathLike[str]) -> CTImage:
    """Read one DICOM slice as HU.

    HU = stored value * ``RescaleSlope`` + ``RescaleIntercept`` (DICOM PS3.3 C.11.1.1.2).

    Parameters
    ----------
    path
        A single-frame DICOM file (any transfer syntax pydicom can decode).

    Returns
    -------
    CTImage
        ``hu`` of shape ``(rows, cols)``, ``spacing_mm = PixelSpacing``.

    Raises
    ------
    SurvageInputError
        If the file is not DICOM, has no decodable pixel data or no pixel spacing.
    """
    where = str(path)
    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError) as exc:
        raise SurvageInputError(f"not a readable DICOM file ({exc})", column=where, expected="a DICOM file") from exc
    hu = _hu_pixels(ds, where)
    spacing = _pixel_spacing(ds, where)
    orientation = _orientation(ds, where)
    origin = _position(ds, where)
    thickness = _optional_float(ds, "SliceThickness")
    between = _optional_float(ds, "SpacingBetweenSlices")
    step_len = between or thickness or 1.0
    normal = _normal(orientation) if orientation is not None else np.array([0.0, 0.0, 1.0])
    position = float(np.dot(origin, normal)) if origin is not None else 0.0
    slope, intercept = _rescale(ds)
    meta = CTMeta(
        shape=tuple(int(s) for s in hu.shape),
        spacing_mm=spacing,
        slice_thickness_mm=thickness,
        orientation=orientation,
        origin_mm=origin,
        slice_positions_mm=(position,),
        modality=str(ds.get("Modality")) if ds.get("Modality") else None,
        rescale_slope=(slope,),
        rescale_intercept=(intercept,),
        affine_ras=_affine_ras(orientation, origin, spacing, normal * step_len),
        source="dicom",
    )
    return CTImage(hu=hu, meta=meta)


def dicom_files_in(folder: str | os.PathLike[str]) -> list[Path]:
    """List the image DICOM files directly inside ``folder`` (no ``DICOMDIR``, no hidden files).

    Parameters
    ----------
    folder
        Folder holding one series.

    Returns
    -------
    list of Path
        Files pydicom recognises as DICOM with pixel data, in file-name order (not anatomical).
    """
    root = Path(folder)
    if not root.is_dir():
        raise SurvageInputError("not a folder", column=str(root), expected="a folder of DICOM slices")
    out = []
    for p in sorted(root.iterdir()):
        if not p.is_file() or p.name.startswith(".") or p.name.upper() == "DICOMDIR":
            continue
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except (InvalidDicomError, OSError):
            continue
        if "Rows" in ds and "Columns" in ds:
            out.append(p)
    return out


def read_dicom_series(
    folder: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    series_uid: str | None = None,
) -> CTImage:
    """Read a DICOM series as a HU volume in anatomical order.

    Slices are ordered by their ``ImagePositionPatient`` projected on the slice normal
    (cross product of the two ``ImageOrientationPatient`` cosines), ascending, never by
    file name or ``InstanceNumber`` (DICOM PS3.3 C.7.6.2.1.1; the same rule as
    dcm2niix, Li et al. 2016, doi:10.1016/j.jneumeth.2016.03.001).

    Parameters
    ----------
    folder
        A folder with the slices of one series, or an explicit list of slice files.
    series_uid
        When the folder holds several series, the ``SeriesInstanceUID`` to read.

    Returns
    -------
    CTImage
        ``hu`` of shape ``(slices, rows, cols)``; ``spacing_mm = (slice spacing, row, col)``
        where slice spacing is the median distance between consecutive slice positions.

    Raises
    ------
    SurvageInputError
        If there are no slices, several series without ``series_uid``, slices of different
        size, orientation or pixel spacing, missing positions, or two slices at one position.
    """
    if isinstance(folder, (str, os.PathLike)):
        where = str(folder)
        files = dicom_files_in(folder)
    else:
        files = [Path(f) for f in folder]
        where = str(files[0].parent) if files else "<empty list>"
    if not files:
        raise SurvageInputError("no DICOM image slices found", column=where, expected="at least one slice")
    headers = [(f, pydicom.dcmread(f, stop_before_pixels=True)) for f in files]
    uids = {str(h.get("SeriesInstanceUID", "")) for _, h in headers}
    if series_uid is not None:
        headers = [(f, h) for f, h in headers if str(h.get("SeriesInstanceUID", "")) == series_uid]
        if not headers:
            raise SurvageInputError("no slice of the requested series", column=where, expected="a present series UID")
    elif len(uids) > 1:
        raise SurvageInputError(
            f"folder holds {len(uids)} series", column=where, expected="one series (or pass series_uid=)"
        )
    first = headers[0][1]
    orientation = _orientation(first, where)
    if orientation is None:
        raise SurvageInputError("series without ImageOrientationPatient", column=where, expected="the tag on slices")
    spacing = _pixel_spacing(first, where)
    size = (int(first.Rows), int(first.Columns))
    normal = _normal(orientation)
    positions = []
    for i, (f, h) in enumerate(headers):
        if (int(h.Rows), int(h.Columns)) != size:
            raise SurvageInputError("slices differ in size", column=where, rows=[i], expected=f"{size[0]}x{size[1]}")
        o = _orientation(h, str(f))
        if o is None or not np.allclose(o, orientation, atol=1e-4):
            raise SurvageInputError("slices differ in orientation", column=where, rows=[i], expected="one orientation")
        if not np.allclose(_pixel_spacing(h, str(f)), spacing, rtol=1e-4):
            raise SurvageInputError("slices differ in PixelSpacing", column=where, rows=[i], expected=str(spacing))
        pos = _position(h, str(f))
        if pos is None:
            raise SurvageInputError("slice without ImagePositionPatient", column=where, rows=[i])
        positions.append(np.asarray(pos))
    along = np.array([float(np.dot(p, normal)) for p in positions])
    order = np.argsort(along, kind="stable")
    along = along[order]
    if len(along) > 1 and np.min(np.diff(along)) < 1e-3:
        dup = int(np.argmin(np.diff(along)))
        raise SurvageInputError(
            "two slices at the same position", column=where, rows=[int(order[dup]), int(order[dup + 1])],
            expected="distinct slice positions",
        )
    hu = np.empty((len(order), *size), dtype=np.float32)
    slopes, intercepts = [], []
    for k, idx in enumerate(order):
        f = headers[idx][0]
        ds = pydicom.dcmread(f)
        hu[k] = _hu_pixels(ds, str(f))
        s, b = _rescale(ds)
        slopes.append(s)
        intercepts.append(b)
    thickness = _optional_float(first, "SliceThickness")
    if len(along) > 1:
        slice_spacing = float(np.median(np.diff(along)))
        step = (positions[order[-1]] - positions[order[0]]) / (len(order) - 1)
    else:
        slice_spacing = _optional_float(first, "SpacingBetweenSlices") or thickness or 1.0
        step = normal * slice_spacing
    origin = tuple(float(v) for v in positions[order[0]])
    meta = CTMeta(
        shape=tuple(int(s) for s in hu.shape),
        spacing_mm=(slice_spacing, *spacing),
        slice_thickness_mm=thickness,
        orientation=orientation,
        origin_mm=origin,
        slice_positions_mm=tuple(float(a) for a in along),
        modality=str(first.get("Modality")) if first.get("Modality") else None,
        rescale_slope=tuple(slopes),
        rescale_intercept=tuple(intercepts),
        affine_ras=_affine_ras(orientation, origin, spacing, step),
        source="dicom",
    )
    return CTImage(hu=hu, meta=meta)
