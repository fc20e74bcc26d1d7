"""Image branch: a MONAI CNN backbone mapping a CT slice or volume to an embedding.

Follows :class:`survage.nn.branches.ModalityBranch`: ``forward(x) -> (n, out_features)``; rows
whose image is missing arrive as zero images and are handled by the fusion module.
"""

from __future__ import annotations

from typing import Literal

import torch
from monai.networks.blocks import Convolution
from monai.networks.nets import DenseNet121, resnet18
from torch import Tensor, nn

from survage.errors import SurvageInputError

__all__ = ["Backbone", "ImageEncoder", "SoftHistogram"]

Backbone = Literal["densenet121", "resnet18", "small"]


class SoftHistogram(nn.Module):
    """Differentiable histogram of image intensities: the fraction of pixels in each soft bin.

    Triangular (linear-interpolation) kernels centred on ``bins`` evenly spaced points of
    ``value_range``: a pixel of value ``v`` adds ``max(0, 1 - |v - c_k| / h)`` to bin ``k``
    (``h`` = bin spacing), so every pixel inside the range spreads a total weight of exactly 1 over
    its two nearest bins and the output sums to 1 per channel (values are clipped to the range
    first). A kernel-density histogram in the sense of Wang et al. 2016, "Learnable histogram:
    statistical context features for deep neural networks" (doi:10.1007/978-3-319-46448-0_15),
    with fixed rather than learned centres and widths.

    Parameters
    ----------
    bins
        Number of bin centres (>= 2).
    value_range
        ``(low, high)`` intensity range covered by the centres (the first at ``low``, the last at ``high``).
    """

    def __init__(self, bins: int, value_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        lo, hi = (float(v) for v in value_range)
        if bins < 2 or not hi > lo:
            raise SurvageInputError(f"bins = {bins}, value_range = {value_range}", column="intensity_bins",
                                    expected="bins >= 2 and value_range high > low")
        self.bins = int(bins)
        self.low, self.high = lo, hi
        self.width = (hi - lo) / (bins - 1)
        self.register_buffer("centres", torch.linspace(lo, hi, bins), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """Bin fractions ``(n, channels * bins)`` of a batch ``(n, channels, *spatial)``.

        Computed by linear interpolation between the two nearest centres (identical to the
        triangular kernels, memory linear in the number of pixels, also for volumes).
        """
        pos = (x.clamp(self.low, self.high).flatten(2) - self.low) / self.width  # (n, C, P) in [0, bins - 1]
        left = pos.detach().floor().clamp(max=self.bins - 2)
        frac = pos - left
        idx = left.long()
        hist = x.new_zeros(*pos.shape[:2], self.bins)
        hist = hist.scatter_add(2, idx, 1.0 - frac).scatter_add(2, idx + 1, frac)
        return (hist / pos.shape[2]).flatten(1)


class _SmallBackbone(nn.Module):
    """Four stride-2 MONAI convolution blocks (conv, batch norm, PReLU), global average pool, linear.

    Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167) rather than instance
    normalisation: instance norm rescales every feature map of every image to zero mean and unit
    variance, which strips the absolute attenuation levels (mean HU of muscle, liver, vertebra)
    that carry the prognostic signal of a CT slice; batch norm keeps between-person differences.

    With ``intensity_bins > 0`` a parallel intensity path computes a :class:`SoftHistogram` of the
    raw input (before any normalisation layer), standardises each bin across the batch
    (``BatchNorm1d``, which keeps between-person differences) and maps it through a small linear
    layer with PReLU; its features are concatenated with the pooled CNN features before the output
    projection. The histogram hands the network the global tissue statistics of the slice (share
    of fat, muscle, liver, bone and calcified pixels and where in the window they sit), which a
    small CNN otherwise has to learn slowly from few events.
    """

    def __init__(self, spatial_dims: int, in_channels: int, out_features: int,
                 channels: tuple[int, ...] = (16, 32, 64, 64), dropout: float = 0.0, intensity_bins: int = 0,
                 intensity_range: tuple[float, float] = (0.0, 1.0), intensity_features: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for ch in channels:
            layers.append(Convolution(spatial_dims, width, ch, strides=2, kernel_size=3, norm="BATCH", act="PRELU"))
            width = ch
        pool = nn.AdaptiveAvgPool2d(1) if spatial_dims == 2 else nn.AdaptiveAvgPool3d(1)
        self.features = nn.Sequential(*layers, pool, nn.Flatten())
        self.intensity: nn.Module | None = None
        if intensity_bins > 0:
            self.intensity = nn.Sequential(
                SoftHistogram(intensity_bins, intensity_range),
                nn.BatchNorm1d(in_channels * intensity_bins),
                nn.Linear(in_channels * intensity_bins, intensity_features),
                nn.PReLU(),
            )
            width += intensity_features
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out = nn.Linear(width, out_features)

    def forward(self, x: Tensor) -> Tensor:
        """Embedding ``(n, out_features)``."""
        h = self.features(x)
        if self.intensity is not None:
            h = torch.cat([h, self.intensity(x)], dim=1)
        return self.out(self.dropout(h))


class ImageEncoder(nn.Module):
    """CNN image encoder built from a MONAI backbone.

    Parameters
    ----------
    spatial_dims
        2 for slices ``(n, C, H, W)``, 3 for volumes ``(n, C, H, W, D)``.
    in_channels
        Input channels (1 for a HU-windowed CT).
    out_features
        Embedding width.
    backbone
        ``"densenet121"`` (MONAI ``DenseNet121``; Huang et al. 2017, doi:10.1109/CVPR.2017.243),
        ``"resnet18"`` (MONAI ``ResNet``; He et al. 2016, doi:10.1109/CVPR.2016.90), or ``"small"``
        (four MONAI ``Convolution`` blocks with batch norm, fast on CPU).
    dropout
        Dropout before the last linear layer (``"small"``) or in the dense blocks (``"densenet121"``).
    intensity_bins
        ``"small"`` only: number of soft-histogram bins of the parallel intensity path (see
        :class:`_SmallBackbone` and :class:`SoftHistogram`); 0 turns it off. Ignored by the other
        backbones.
    intensity_range
        Input intensity range the histogram bins cover (the output range of the HU windowing,
        ``(0, 1)`` by default).
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_features: int = 32,
        backbone: Backbone = "small",
        dropout: float = 0.0,
        intensity_bins: int = 16,
        intensity_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        super().__init__()
        if spatial_dims not in (2, 3):
            raise SurvageInputError(f"spatial_dims = {spatial_dims}", column="spatial_dims", expected="2 or 3")
        if in_channels < 1 or out_features < 1:
            raise SurvageInputError("in_channels and out_features must be >= 1", column="in_channels/out_features",
                                    expected=">= 1")
        self.spatial_dims = int(spatial_dims)
        self.in_channels = int(in_channels)
        self.out_features = int(out_features)
        self.backbone_name = backbone
        if intensity_bins < 0 or intensity_bins == 1:
            raise SurvageInputError(f"intensity_bins = {intensity_bins}", column="intensity_bins",
                                    expected="0 (off) or >= 2")
        self.intensity_bins = int(intensity_bins) if backbone == "small" else 0
        if backbone == "densenet121":
            self.net: nn.Module = DenseNet121(spatial_dims=spatial_dims, in_channels=in_channels,
                                              out_channels=out_features, dropout_prob=dropout)
        elif backbone == "resnet18":
            self.net = resnet18(spatial_dims=spatial_dims, n_input_channels=in_channels, num_classes=out_features)
        elif backbone == "small":
            self.net = _SmallBackbone(spatial_dims, in_channels, out_features, dropout=dropout,
                                      intensity_bins=int(intensity_bins), intensity_range=intensity_range)
        else:
            raise SurvageInputError(f"unknown backbone {backbone!r}", column="backbone",
                                    expected="'densenet121', 'resnet18' or 'small'")

    def forward(self, x: Tensor) -> Tensor:
        """Embedding ``(n, out_features)`` of a batch ``(n, in_channels, *spatial)``."""
        if x.ndim != self.spatial_dims + 2 or x.shape[1] != self.in_channels:
            raise SurvageInputError(
                f"image batch of shape {tuple(x.shape)}", column="x",
                expected=f"(n, {self.in_channels}, {', '.join(['...'] * self.spatial_dims)})",
            )
        return self.net(x)
