"""MONAI dictionary-transform pipelines for CT: load, channel first, HU window, resample, L3 slice."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import (
    Compose,
    EnsureChannelFirstd,
    EnsureTyped,
    LoadImaged,
    MapTransform,
    ResizeWithPadOrCropd,
    ScaleIntensityRanged,
    Spacingd,
)

from survage.errors import SurvageInputError
from survage.imaging.monai_reader import CTReader

__all__ = ["SelectSliced", "ct_transforms", "ct_loader", "DEFAULT_HU_WINDOW"]

#: Default HU window: air to dense bone, so fat, muscle, bone and calcium all keep contrast.
DEFAULT_HU_WINDOW: tuple[float, float] = (-1000.0, 1000.0)


@contextmanager
def _quiet_reader_registration() -> Iterator[None]:
    """Silence MONAI's notice that the optional GPU DICOM decoder is absent while readers register."""
    plugin_logger = logging.getLogger("monai.data.nvimgcodec_pydicom_plugin")
    level = plugin_logger.level
    plugin_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*nvImageCodec.*")
            yield
    finally:
        plugin_logger.setLevel(level)


def ct_loader(keys: Sequence[str] = ("image",)) -> LoadImaged:
    """``LoadImaged`` with :class:`~survage.imaging.monai_reader.CTReader` first (HU, geometry-only meta).

    Parameters
    ----------
    keys
        Data-dict keys holding paths (a DICOM folder, a DICOM file or a NIfTI file).

    Returns
    -------
    monai.transforms.LoadImaged
        Loader returning float32 ``MetaTensor`` images in MONAI layout ``(x, y[, z])``.
    """
    with _quiet_reader_registration():
        return LoadImaged(keys=list(keys), reader=CTReader(), image_only=True, dtype=np.float32)


def _slice_positions(affine: np.ndarray, depth: int) -> np.ndarray:
    normal = np.cross(affine[:3, 0], affine[:3, 1])
    normal = normal / max(float(np.linalg.norm(normal)), 1e-12)
    return np.array([float(np.dot(normal, affine[:3, 3] + k * affine[:3, 2])) for k in range(depth)])


class SelectSliced(MapTransform):
    """Take one axial slice (e.g. L3) of a channel-first volume ``(C, x, y, z)`` -> ``(C, x, y)``.

    The slice is given per sample in the data dict, either as an index along ``z``
    (``index_key``) or as a position in mm along the slice normal (``z_key``; nearest slice).
    Samples whose image is already 2D pass through unchanged.

    Parameters
    ----------
    keys
        Image keys to slice (all with the same geometry).
    index_key, z_key
        Keys of the data dict holding the slice index or position; the first present
        (non-None) one is used.
    """

    def __init__(
        self,
        keys: Sequence[Hashable] | Hashable,
        index_key: str | None = "l3_index",
        z_key: str | None = "l3_z_mm",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.index_key = index_key
        self.z_key = z_key

    def _index(self, data: Mapping[Hashable, Any], img: MetaTensor) -> int:
        depth = int(img.shape[-1])
        affine = np.asarray(img.affine.detach().cpu().numpy(), dtype=np.float64)
        if self.index_key is not None and data.get(self.index_key) is not None:
            k = int(data[self.index_key])
            if not 0 <= k < depth:
                raise SurvageInputError(f"slice index {k} out of range", column=self.index_key,
                                        expected=f"0 <= index < {depth}")
            return k
        if self.z_key is not None and data.get(self.z_key) is not None:
            z = float(data[self.z_key])
            pos = _slice_positions(affine, depth)
            k = int(np.argmin(np.abs(pos - z)))
            step = float(np.linalg.norm(affine[:3, 2]))
            if abs(pos[k] - z) > step / 2 + 1e-6:
                raise SurvageInputError(f"z = {z} mm outside the volume", column=self.z_key,
                                        expected=f"{pos.min():.1f} to {pos.max():.1f} mm")
            return k
        raise SurvageInputError("no slice locator for a 3D image", column=f"{self.index_key} / {self.z_key}",
                                expected="a slice index or z position")

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        """Slice every key's image at the sample's slice."""
        d = dict(data)
        for key in self.key_iterator(d):
            img = d[key]
            if not isinstance(img, MetaTensor):
                img = MetaTensor(torch.as_tensor(img))
            if img.ndim != 4:  # (C, x, y) already 2D
                continue
            k = self._index(d, img)
            affine = img.affine.clone().to(torch.float64)
            affine[:3, 3] = affine[:3, 3] + k * affine[:3, 2]
            meta = {m: v for m, v in img.meta.items() if m not in ("affine", "spatial_shape")}
            out = MetaTensor(img.as_tensor()[..., k].clone(), affine=affine, meta=meta)
            out.meta["spatial_shape"] = np.asarray(out.shape[1:])
            d[key] = out
        return d


def ct_transforms(
    keys: Sequence[str] = ("image",),
    *,
    hu_window: tuple[float, float] = DEFAULT_HU_WINDOW,
    output_range: tuple[float, float] = (0.0, 1.0),
    pixdim: Sequence[float] | None = None,
    select_slice: bool = False,
    index_key: str = "l3_index",
    z_key: str = "l3_z_mm",
    spatial_size: Sequence[int] | None = None,
    load: bool = True,
) -> Compose:
    """Build the standard CT preprocessing: load -> channel first -> [L3 slice] -> HU window -> resample.

    Parameters
    ----------
    keys
        Data-dict keys holding image paths (or arrays when ``load=False``).
    hu_window
        HU range clipped and mapped linearly onto ``output_range`` (``ScaleIntensityRanged``).
    output_range
        Target intensity range.
    pixdim
        Target spacing in MONAI axis order (x = column, y = row[, z]), mm; ``None`` keeps the native
        spacing. Bilinear interpolation (``Spacingd``).
    select_slice
        Take one slice of 3D volumes at ``data[index_key]`` or ``data[z_key]`` (see :class:`SelectSliced`).
    spatial_size
        If given, pad/crop (centred) to this size after resampling.
    load
        Include ``LoadImaged`` with :class:`~survage.imaging.monai_reader.CTReader` (DICOM series in
        anatomical order, DICOM file, NIfTI).

    Returns
    -------
    monai.transforms.Compose
        The deterministic preprocessing chain; wrap training augmentation around it.
    """
    lo, hi = (float(v) for v in hu_window)
    if not hi > lo:
        raise SurvageInputError("empty HU window", column="hu_window", expected="(low, high) with high > low")
    chain: list[Any] = []
    if load:
        chain.append(ct_loader(keys))
    chain.append(EnsureChannelFirstd(keys=list(keys), channel_dim="no_channel"))
    if select_slice:
        chain.append(SelectSliced(keys=list(keys), index_key=index_key, z_key=z_key))
    chain.append(
        ScaleIntensityRanged(
            keys=list(keys), a_min=lo, a_max=hi, b_min=output_range[0], b_max=output_range[1], clip=True
        )
    )
    if pixdim is not None:
        chain.append(Spacingd(keys=list(keys), pixdim=tuple(float(p) for p in pixdim), mode="bilinear"))
    if spatial_size is not None:
        chain.append(ResizeWithPadOrCropd(keys=list(keys), spatial_size=tuple(int(s) for s in spatial_size)))
    chain.append(EnsureTyped(keys=list(keys), dtype=torch.float32))
    return Compose(chain)
