"""The CT image as a trainable modality: image settings, streamed batches, the image network.

A cohort's ``ct_image`` modality holds one column of image paths (a NIfTI file, a DICOM file
or a DICOM series folder; blank = no image). :class:`StreamedTensors` keeps the tabular inputs
and targets of a set of people as tensors, and only the *paths* of their images: images are read
from disk per mini-batch by a MONAI ``DataLoader`` over :class:`~survage.imaging.ImageDataset`
(HU window, resampling to ``pixdim``, pad/crop to ``size``; random affine, noise and flip in
training only), and the tabular rows of the batch are taken by the batch's indices. Nothing is
cached: memory holds one batch of images at a time, whatever the cohort size.

People without an image (blank path) get a zero image and ``present = False`` in the presence
mask, so the fusion module substitutes the learned "missing" embedding: they still get a
prediction.

The Cox partial likelihood of a mini-batch uses risk sets within the batch
(:mod:`survage.models.training`), so image models need batches holding many events; the default
image batch is :data:`IMAGE_BATCH_SIZE` people (256-512 is a good range for cohorts with 5-20 %
events). Full-cohort quantities (validation loss for early stopping, Breslow baseline hazard,
predictions) are computed from scores streamed batch by batch in evaluation mode.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from survage.errors import SurvageInputError
from survage.models.training import Tensors

#: the modality name of the CT image
IMAGE_MODALITY = "ct_image"
#: mini-batch size used for image models when ``batch_size`` is ``None``
IMAGE_BATCH_SIZE = 256
#: image backbones of :class:`survage.nn.image_branch.ImageEncoder`
BACKBONES = ("small", "resnet18", "densenet121")


@dataclass(frozen=True)
class ImageSettings:
    """How images are read and encoded.

    Attributes
    ----------
    backbone
        ``ImageEncoder`` backbone: ``"small"``, ``"resnet18"`` or ``"densenet121"``.
    size
        Spatial size in MONAI axis order (2 values: slices, 3: volumes).
    pixdim
        Target spacing in mm (MONAI axis order), or ``None`` to keep each image's spacing.
    hu_window
        HU range mapped to [0, 1].
    augment
        Probability of each random transform in training (0: no augmentation).
    workers
        ``DataLoader`` worker processes (0: read in the training process).
    """

    backbone: str = "small"
    size: tuple[int, ...] = (64, 64)
    pixdim: tuple[float, ...] | None = None
    hu_window: tuple[float, float] = (-1000.0, 1000.0)
    augment: float = 0.5
    workers: int = 0

    def check(self) -> None:
        """Raise :class:`SurvageInputError` naming the first bad setting."""
        checks = [
            (self.backbone in BACKBONES, "image_backbone", self.backbone, f"one of {list(BACKBONES)}"),
            (len(self.size) in (2, 3) and min(self.size) >= 16, "image_size", self.size,
             "2 or 3 sizes, each >= 16"),
            (self.pixdim is None or (len(self.pixdim) == len(self.size) and min(self.pixdim) > 0),
             "image_pixdim", self.pixdim, "None or one positive spacing per image axis"),
            (len(self.hu_window) == 2 and self.hu_window[1] > self.hu_window[0], "image_hu_window",
             self.hu_window, "(low, high) with high > low"),
            (0.0 <= self.augment <= 1.0, "image_augment", self.augment, "a probability in [0, 1]"),
            (self.workers >= 0, "image_workers", self.workers, ">= 0"),
        ]
        for ok, name, value, expected in checks:
            if not ok:
                raise SurvageInputError(f"bad value {value!r} for {name}", column=name, expected=expected)

    def dataset(self, paths: Sequence[str | None], *, train: bool) -> Any:
        """The :class:`~survage.imaging.ImageDataset` over ``paths`` (augmented when ``train``)."""
        from survage.imaging.dataset import ImageDataset  # MONAI: imported on first use

        return ImageDataset(paths, spatial_size=self.size, pixdim=self.pixdim, hu_window=self.hu_window,
                            train=train and self.augment > 0, augment_prob=self.augment)


def image_paths(cohort_frame: Any, column: str) -> list[str | None]:
    """The image path of each row (``None`` where the cell is blank)."""
    from survage.imaging.dataset import is_missing_path

    return [None if is_missing_path(p) else str(p) for p in cohort_frame[column].tolist()]


class StreamedTensors:
    """Tabular tensors of a set of people plus their image paths, images read per mini-batch.

    Offers what the training loop needs from :class:`~survage.models.training.Tensors`
    (``n``, ``mask``, ``time``, ``event``, ``at_risk``, ``take``) and, instead of holding the
    image tensor, :meth:`batches` (augmented training batches) and :meth:`forward` (scores of
    every row, streamed in evaluation batches).

    Parameters
    ----------
    table
        Tabular inputs (without the image), the presence mask (its image column says whether a
        path is given) and targets, on the model's device.
    paths
        One image path or ``None`` per row.
    column
        Position of the image modality in the mask.
    settings
        How images are read.
    eval_batch
        Batch size of :meth:`forward`.
    """

    def __init__(self, table: Tensors, paths: Sequence[str | None], column: int, settings: ImageSettings,
                 eval_batch: int = IMAGE_BATCH_SIZE) -> None:
        if len(paths) != table.n:
            raise ValueError(f"{len(paths)} paths for {table.n} rows")
        self.table = table
        self.paths = list(paths)
        self.column = int(column)
        self.settings = settings
        self.eval_batch = int(eval_batch)

    # -- the parts of the Tensors interface the loop and the losses read
    @property
    def n(self) -> int:
        """Number of people."""
        return self.table.n

    @property
    def mask(self) -> Tensor:
        """Presence mask ``(n, M)`` (image column: a path is given)."""
        return self.table.mask

    @property
    def time(self) -> dict[str, Tensor]:
        return self.table.time

    @property
    def event(self) -> dict[str, Tensor]:
        return self.table.event

    @property
    def at_risk(self) -> dict[str, Tensor]:
        return self.table.at_risk

    def take(self, idx: Tensor) -> "StreamedTensors":
        """The rows ``idx`` (paths follow)."""
        rows = idx.detach().cpu().tolist()
        return StreamedTensors(self.table.take(idx), [self.paths[i] for i in rows], self.column, self.settings,
                               self.eval_batch)

    # -- streaming
    def batches(self, parts: Sequence[Tensor], *, train: bool, seed: int) -> Iterator[Tensors]:
        """Yield one :class:`Tensors` per index set in ``parts``, its image batch read from disk.

        ``train`` adds the random augmentation; ``seed`` seeds it (and the workers' streams) so
        that an epoch is reproducible whatever the number of workers' start-up order.
        """
        from monai.data import DataLoader

        if not parts:
            return
        dataset = self.settings.dataset(self.paths, train=train)
        generator = torch.Generator().manual_seed(int(seed))
        loader = DataLoader(dataset, batch_sampler=[p.tolist() for p in parts],
                            num_workers=self.settings.workers, generator=generator)
        device = self.table.mask.device
        dtype = next(iter(self.table.inputs.values())).dtype if self.table.inputs else torch.float32
        for item in loader:
            idx = torch.as_tensor(item["index"], dtype=torch.long, device=device)
            part = self.table.take(idx)
            part.inputs[IMAGE_MODALITY] = torch.as_tensor(item["image"]).to(device=device, dtype=dtype)
            mask = part.mask.clone()
            mask[:, self.column] = torch.as_tensor(item["present"], dtype=torch.bool, device=device)
            part.mask = mask
            yield part

    def forward(self, net: nn.Module) -> dict[str, Tensor]:
        """Outputs of ``net`` for every row, in row order (no gradient; caller sets the mode)."""
        heads: Mapping[str, nn.Module] = net.heads  # type: ignore[assignment]
        if self.n == 0:
            return {o: self.table.mask.new_zeros(0, dtype=torch.float32) for o in heads}
        parts = list(torch.tensor_split(torch.arange(self.n), math.ceil(self.n / self.eval_batch)))
        outs: dict[str, list[Tensor]] = {o: [] for o in heads}
        with torch.no_grad():
            for batch in self.batches(parts, train=False, seed=0):
                for o, s in net(batch.inputs, batch.mask).items():
                    outs[o].append(s)
        return {o: torch.cat(v) for o, v in outs.items()}


def swap_in_image_branch(net: nn.Module, settings: ImageSettings, *, dropout: float) -> nn.Module:
    """Replace the placeholder ``ct_image`` branch of a built network by an ``ImageEncoder``.

    The encoder's embedding width equals the placeholder's (the width of the tabular branches),
    so the fusion module built for it fits unchanged.

    Parameters
    ----------
    net
        A :class:`~survage.nn.network.MultimodalSurvivalNet` with a ``ct_image`` branch.
    settings
        Backbone and image size (its length sets 2D or 3D).
    dropout
        Dropout before the encoder's last layer.
    """
    from survage.nn.image_branch import ImageEncoder

    branches: nn.ModuleDict = net.branches  # type: ignore[assignment]
    width = int(branches[IMAGE_MODALITY].out_features)  # type: ignore[arg-type]
    branches[IMAGE_MODALITY] = ImageEncoder(spatial_dims=len(settings.size), in_channels=1, out_features=width,
                                            backbone=settings.backbone, dropout=dropout)  # type: ignore[arg-type]
    return net
