"""Modality branches: one protocol, and the MLP branch for tabular modalities.

A *branch* turns the preprocessed inputs of one modality into a fixed-width embedding. Every
branch follows :class:`ModalityBranch`: ``forward(x) -> (n, out_features)`` on a batch of one
modality, with an integer attribute ``out_features``. Branches never see the presence mask: a row
whose modality is missing still flows through the branch (on imputed inputs, or zeros for an
image), and the fusion module (:mod:`survage.nn.fusion`) replaces or down-weights that row's
embedding. An image branch (e.g. ``survage.imaging``'s ``ImageEncoder``) plugs in by exposing
``out_features`` and returning ``(n, out_features)`` from ``forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor, nn


@runtime_checkable
class ModalityBranch(Protocol):
    """Protocol of a modality branch (an ``nn.Module``).

    Attributes
    ----------
    out_features
        Width ``d`` of the embedding.

    Notes
    -----
    ``forward(x)`` takes the batch tensor of one modality (``(n, in_features)`` for tabular data,
    ``(n, C, H, W[, D])`` for images) and returns the embedding ``(n, out_features)``. Presence
    masks are handled by the fusion module, never by the branch.
    """

    out_features: int

    def __call__(self, x: Tensor) -> Tensor: ...  # pragma: no cover - protocol


class MLPBranch(nn.Module):
    """Multilayer perceptron for one tabular modality.

    ``Linear -> (LayerNorm) -> ReLU -> Dropout`` per hidden layer, then a final ``Linear`` to
    ``out_features``. With ``hidden=()`` and ``out_features=None`` the branch is the identity
    (the preprocessed features are the embedding), which is what a linear Cox model uses.

    Parameters
    ----------
    in_features
        Number of preprocessed input columns.
    out_features
        Embedding width; ``None`` means the last hidden width (or ``in_features`` with no
        hidden layer: identity).
    hidden
        Widths of the hidden layers.
    dropout
        Dropout probability after each hidden activation.
    norm
        Add a ``LayerNorm`` after each hidden ``Linear``.
    """

    def __init__(self, in_features: int, out_features: int | None = None, hidden: Sequence[int] = (64,),
                 dropout: float = 0.1, norm: bool = False) -> None:
        super().__init__()
        if in_features < 0:
            raise ValueError(f"in_features must be >= 0, got {in_features}")
        self.in_features = int(in_features)
        layers: list[nn.Module] = []
        width = self.in_features
        for h in hidden:
            layers.append(nn.Linear(width, int(h)))
            if norm:
                layers.append(nn.LayerNorm(int(h)))
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = int(h)
        if out_features is not None and (out_features != width or layers):
            layers.append(nn.Linear(width, int(out_features)))
            width = int(out_features)
        self.out_features = width
        self.net = nn.Sequential(*layers) if layers else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        """Embedding ``(n, out_features)`` of the batch ``x`` ``(n, in_features)``."""
        return self.net(x)


def embed_all(branches: nn.ModuleDict, inputs: dict[str, Tensor]) -> list[Tensor]:
    """Run every branch on its modality's batch, in the order of ``branches``."""
    out = []
    for name, branch in branches.items():
        emb = branch(inputs[name])
        if emb.ndim != 2:
            raise ValueError(f"branch {name!r} returned shape {tuple(emb.shape)}, expected (n, d)")
        out.append(emb)
    return out

