"""Image branch: a MONAI CNN backbone mapping a CT slice or volume to an embedding.

Follows :class:`survage.nn.branches.ModalityBranch`: ``forward(x) -> (n, out_features)``; rows
whose image is missing arrive as zero images and are handled by the fusion module.
"""

from __future__ import annotations

from typing import Literal

from monai.networks.blocks import Convolution
from monai.networks.nets import DenseNet121, resnet18
from torch import Tensor, nn

from survage.errors import SurvageInputError

__all__ = ["ImageEncoder", "Backbone"]

Backbone = Literal["densenet121", "resnet18", "small"]


def _small_backbone(spatial_dims: int, in_channels: int, out_features: int,
                    channels: tuple[int, ...] = (16, 32, 64, 64), dropout: float = 0.0) -> nn.Module:
    """Four stride-2 MONAI convolution blocks (conv, batch norm, PReLU), global average pool, linear.

    Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167) rather than instance
    normalisation: instance norm rescales every feature map of every image to zero mean and unit
    variance, which strips the absolute attenuation levels (mean HU of muscle, liver, vertebra)
    that carry the prognostic signal of a CT slice; batch norm keeps between-person differences.
    """
    layers: list[nn.Module] = []
    width = in_channels
    for ch in channels:
        layers.append(Convolution(spatial_dims, width, ch, strides=2, kernel_size=3, norm="BATCH", act="PRELU"))
        width = ch
    pool = nn.AdaptiveAvgPool2d(1) if spatial_dims == 2 else nn.AdaptiveAvgPool3d(1)
    head: list[nn.Module] = [pool, nn.Flatten()]
    if dropout > 0:
        head.append(nn.Dropout(dropout))
    head.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers, *head)


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
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_features: int = 32,
        backbone: Backbone = "small",
        dropout: float = 0.0,
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
        if backbone == "densenet121":
            self.net: nn.Module = DenseNet121(spatial_dims=spatial_dims, in_channels=in_channels,
                                              out_channels=out_features, dropout_prob=dropout)
        elif backbone == "resnet18":
            self.net = resnet18(spatial_dims=spatial_dims, n_input_channels=in_channels, num_classes=out_features)
        elif backbone == "small":
            self.net = _small_backbone(spatial_dims, in_channels, out_features, dropout=dropout)
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
