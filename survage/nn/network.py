"""The multimodal survival network: branches -> fusion -> (optional trunk) -> one head per outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from survage.nn.branches import MLPBranch
from survage.nn.fusion import ConcatFusion, GatedFusion, ModalityDropout
from survage.nn.heads import CoxHead, GompertzHead

HeadKind = Literal["cox", "gompertz"]
FusionKind = Literal["concat", "gated"]


class MultimodalSurvivalNet(nn.Module):
    """Shared multimodal encoder with one survival head per outcome (multi-task).

    Parameters
    ----------
    branches
        Modality name -> branch module (see :class:`survage.nn.branches.ModalityBranch`); the
        order of this mapping is the modality order of the presence mask.
    fusion
        A fusion module (``ConcatFusion`` or ``GatedFusion``) with ``out_features``.
    heads
        Outcome name -> head (``CoxHead`` or ``GompertzHead``) taking the fused embedding.
    modality_dropout
        Probability of hiding each present modality per row in training (never all).
    """

    def __init__(self, branches: Mapping[str, nn.Module], fusion: nn.Module, heads: Mapping[str, nn.Module],
                 modality_dropout: float = 0.0) -> None:
        super().__init__()
        self.branches = nn.ModuleDict(dict(branches))
        self.fusion = fusion
        self.heads = nn.ModuleDict(dict(heads))
        self.modality_dropout = ModalityDropout(modality_dropout)

    @property
    def modalities(self) -> list[str]:
        """Modality order of the presence mask."""
        return list(self.branches.keys())

    def embed(self, inputs: Mapping[str, Tensor], mask: Tensor) -> Tensor:
        """Fused embedding ``(n, fusion.out_features)``."""
        mask = self.modality_dropout(mask)
        embeddings = [branch(inputs[name]) for name, branch in self.branches.items()]
        return self.fusion(embeddings, mask)

    def forward(self, inputs: Mapping[str, Tensor], mask: Tensor) -> dict[str, Tensor]:
        """Per outcome the head output ``(n,)`` (log hazard for Cox, log scale for Gompertz).

        Parameters
        ----------
        inputs
            Modality name -> batch tensor.
        mask
            Boolean presence mask ``(n, n_modalities)`` in :attr:`modalities` order.
        """
        z = self.embed(inputs, mask)
        return {name: head(z) for name, head in self.heads.items()}


def build_network(in_features: Mapping[str, int], outcomes: Sequence[str], *, head: HeadKind = "cox",
                  hidden: Sequence[int] = (64,), dropout: float = 0.1, fusion: FusionKind = "concat",
                  modality_dropout: float = 0.1, embedding: int | None = None, linear: bool = False) -> MultimodalSurvivalNet:
    """Build the standard network from input widths.

    Parameters
    ----------
    in_features
        Modality -> number of preprocessed columns (mapping order = modality order).
    outcomes
        Outcome names (one head each).
    head
        ``"cox"`` or ``"gompertz"``.
    hidden
        Hidden widths of each modality's MLP branch.
    dropout
        Dropout in the branches.
    fusion
        ``"concat"`` or ``"gated"``.
    modality_dropout
        Probability of hiding each present modality per row in training.
    embedding
        Branch output width (default: the last hidden width); the gated fusion width.
    linear
        No hidden layer, identity branches and concat fusion: the head is linear in the
        preprocessed features (plain Cox / Gompertz regression).
    """
    if linear:
        branches = {m: MLPBranch(k, None, hidden=(), dropout=0.0) for m, k in in_features.items()}
        fuse: nn.Module = ConcatFusion([b.out_features for b in branches.values()], missing="learned")
    else:
        branches = {m: MLPBranch(k, embedding, hidden=hidden, dropout=dropout) for m, k in in_features.items()}
        widths = [b.out_features for b in branches.values()]
        if fusion == "concat":
            fuse = ConcatFusion(widths, missing="learned")
        elif fusion == "gated":
            fuse = GatedFusion(widths, out_features=embedding or max(widths))
        else:
            raise ValueError(f"unknown fusion {fusion!r}, expected 'concat' or 'gated'")
    width = int(fuse.out_features)  # type: ignore[arg-type]
    if head == "cox":
        heads: dict[str, nn.Module] = {o: CoxHead(width) for o in outcomes}
    elif head == "gompertz":
        heads = {o: GompertzHead(width) for o in outcomes}
    else:
        raise ValueError(f"unknown head {head!r}, expected 'cox' or 'gompertz'")
    return MultimodalSurvivalNet(branches, fuse, heads, modality_dropout=0.0 if linear else modality_dropout)


def as_mask(present: Mapping[str, "torch.Tensor"], modalities: Sequence[str]) -> Tensor:
    """Stack per-modality boolean vectors into a ``(n, M)`` mask in ``modalities`` order."""
    return torch.stack([present[m].to(torch.bool) for m in modalities], dim=1)
