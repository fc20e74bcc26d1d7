"""A torch ``Dataset`` streaming CT images from disk through MONAI transforms (nothing cached)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from monai.transforms import Compose, RandAffined, RandFlipd, RandGaussianNoised
from torch.utils.data import Dataset

from survage.errors import SurvageInputError
from survage.imaging.transforms import DEFAULT_HU_WINDOW, ct_transforms

__all__ = ["ImageDataset", "is_missing_path"]

PathLike = str | os.PathLike[str]


def is_missing_path(path: object) -> bool:
    """Whether a path cell means "no image": ``None``, NaN or an empty/blank string."""
    if path is None:
        return True
    if isinstance(path, float) and math.isnan(path):
        return True
    return isinstance(path, str) and not path.strip()


class ImageDataset(Dataset[dict[str, Any]]):
    """Stream CT images (DICOM folder, DICOM file or NIfTI) from disk, one item at a time.

    Each item is ``{"image": float32 tensor (1, *spatial_size), "present": bool tensor, "index": int}``.
    Only paths are held in memory. A missing path (``None``, NaN, blank) gives a zero image and
    ``present = False``, for the fusion module to handle.

    Pipeline: :func:`~survage.imaging.transforms.ct_transforms` (load with anatomical DICOM
    order and HU, channel first, slice selection for 2D from volumes, HU window to [0, 1],
    optional resampling to ``pixdim``, pad/crop to ``spatial_size``), then in training mode
    ``RandAffined`` (rotation, scaling, translation), ``RandGaussianNoised`` and ``RandFlipd``.

    Parameters
    ----------
    paths
        One path (or missing value) per person.
    spatial_size
        Output spatial size in MONAI axis order (x = column, y = row[, z]); its length sets 2D or 3D.
    pixdim
        Target spacing (mm, MONAI axis order), or ``None`` to keep the native spacing.
    hu_window
        HU range mapped to [0, 1].
    slice_index
        For 2D output from volumes: the slice per person (e.g. the L3 index), or ``None``.
    train
        Apply random augmentation.
    missing_file
        A given path that does not exist: ``"raise"`` (default) a :class:`SurvageInputError`,
        or ``"absent"`` to treat it like a missing path.
    seed
        Seed of the augmentation random state (use ``monai.data.DataLoader`` so that each worker
        draws its own stream).
    augment_prob
        Probability of each random transform.
    """

    def __init__(
        self,
        paths: Sequence[PathLike | None],
        *,
        spatial_size: Sequence[int] = (128, 128),
        pixdim: Sequence[float] | None = None,
        hu_window: tuple[float, float] = DEFAULT_HU_WINDOW,
        slice_index: Sequence[int | None] | None = None,
        train: bool = False,
        missing_file: Literal["raise", "absent"] = "raise",
        seed: int | None = None,
        augment_prob: float = 0.5,
    ) -> None:
        self.paths = list(paths)
        self.spatial_size = tuple(int(s) for s in spatial_size)
        if len(self.spatial_size) not in (2, 3) or min(self.spatial_size) < 1:
            raise SurvageInputError("bad spatial_size", column="spatial_size", expected="2 or 3 positive sizes")
        if slice_index is not None and len(slice_index) != len(self.paths):
            raise SurvageInputError("slice_index length differs from paths", column="slice_index",
                                    expected=f"{len(self.paths)} entries")
        if missing_file not in ("raise", "absent"):
            raise SurvageInputError("bad missing_file", column="missing_file", expected="'raise' or 'absent'")
        if not 0.0 <= augment_prob <= 1.0:
            raise SurvageInputError("bad augment_prob", column="augment_prob", expected="0 to 1")
        self.slice_index = list(slice_index) if slice_index is not None else None
        self.train = bool(train)
        self.missing_file = missing_file
        dims = len(self.spatial_size)
        chain: list[Any] = [ct_transforms(("image",), hu_window=hu_window, pixdim=pixdim, select_slice=dims == 2,
                                          spatial_size=self.spatial_size)]
        if self.train:
            p = float(augment_prob)
            chain += [
                RandAffined(keys="image", prob=p, rotate_range=(0.15,) * (1 if dims == 2 else 3),
                            scale_range=(0.1,) * dims, translate_range=tuple(0.05 * s for s in self.spatial_size),
                            mode="bilinear", padding_mode="zeros"),
                RandGaussianNoised(keys="image", prob=p, mean=0.0, std=0.01),
                RandFlipd(keys="image", prob=p, spatial_axis=0),
            ]
        self.transform = Compose(chain)
        if seed is not None:
            self.transform.set_random_state(seed=int(seed))

    def __len__(self) -> int:
        """Number of people."""
        return len(self.paths)

    def _absent(self, index: int) -> dict[str, Any]:
        return {"image": torch.zeros((1, *self.spatial_size), dtype=torch.float32),
                "present": torch.tensor(False), "index": index}

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Load, preprocess and (in training) augment one image."""
        path = self.paths[index]
        if is_missing_path(path):
            return self._absent(index)
        p = Path(path)  # type: ignore[arg-type]
        if not p.exists():
            if self.missing_file == "absent":
                return self._absent(index)
            raise SurvageInputError("image file not found", column=str(p), rows=[index],
                                    expected="an existing file/folder, or a missing value")
        item: dict[str, Any] = {"image": str(p)}
        if self.slice_index is not None and self.slice_index[index] is not None:
            item["l3_index"] = int(self.slice_index[index])  # type: ignore[arg-type]
        out = self.transform(item)
        image = torch.as_tensor(out["image"], dtype=torch.float32)
        if hasattr(image, "as_tensor"):
            image = image.as_tensor()
        return {"image": image, "present": torch.tensor(True), "index": index}
