"""Fusion of modality embeddings under a per-row presence mask, and modality dropout.

Every fusion module takes the list of branch embeddings (one ``(n, d_m)`` tensor per modality,
in a fixed modality order) and a boolean mask ``(n, n_modalities)`` (true = the person has that
modality). People missing a modality still get an output: its embedding is replaced by a learned
"missing" embedding (or zeroed and the others re-weighted), so predictions stay finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

MissingMode = Literal["learned", "zero"]


def _check(embeddings: Sequence[Tensor], mask: Tensor, widths: Sequence[int]) -> None:
    if len(embeddings) != len(widths):
        raise ValueError(f"got {len(embeddings)} embeddings for {len(widths)} modalities")
    if mask.ndim != 2 or mask.shape[1] != len(widths):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, expected (n, {len(widths)})")
    for e, w in zip(embeddings, widths):
        if e.ndim != 2 or e.shape[1] != w or e.shape[0] != mask.shape[0]:
            raise ValueError(f"embedding of shape {tuple(e.shape)}, expected ({mask.shape[0]}, {w})")


class ConcatFusion(nn.Module):
    """Concatenate modality embeddings; a missing modality gets a substitute embedding.

    Parameters
    ----------
    in_features
        Embedding width of each modality, in modality order.
    missing
        ``"learned"``: a missing modality's embedding is replaced by a learned vector (one per
        modality, initialised at 0); ``"zero"``: it is zeroed and the present embeddings are
        scaled by ``n_modalities / n_present`` (as in inverted dropout).

    Notes
    -----
    Output width ``out_features = sum(in_features)``.
    """

    def __init__(self, in_features: Sequence[int], missing: MissingMode = "learned") -> None:
        super().__init__()
        if missing not in ("learned", "zero"):
            raise ValueError(f"unknown missing mode {missing!r}, expected 'learned' or 'zero'")
        self.in_features = [int(w) for w in in_features]
        self.out_features = sum(self.in_features)
        self.missing = missing
        self.missing_embeddings = nn.ParameterList(
            [nn.Parameter(torch.zeros(w)) for w in self.in_features] if missing == "learned" else [])

    def forward(self, embeddings: Sequence[Tensor], mask: Tensor) -> Tensor:
        """Fused ``(n, out_features)`` from embeddings ``[(n, d_m)]`` and mask ``(n, M)``."""
        _check(embeddings, mask, self.in_features)
        mask = mask.to(torch.bool)
        parts = []
        if self.missing == "learned":
            for m, e in enumerate(embeddings):
                parts.append(torch.where(mask[:, m:m + 1], e, self.missing_embeddings[m].to(e.dtype)))
        else:
            n_present = mask.sum(1, keepdim=True).clamp(min=1)
            scale = len(self.in_features) / n_present
            for m, e in enumerate(embeddings):
                parts.append(torch.where(mask[:, m:m + 1], e * scale.to(e.dtype), torch.zeros_like(e)))
        if not parts:
            return mask.new_zeros((mask.shape[0], 0), dtype=torch.float32)
        return torch.cat(parts, dim=1)


class GatedFusion(nn.Module):
    """Attention-gated sum of projected modality embeddings over the modalities present.

    Each embedding is projected to a common width ``d`` (``z_m = W_m e_m``); a gate scores it,
    ``s_m = v^T tanh(U z_m)``; weights are a softmax of ``s`` over the modalities the row has;
    the output is ``sum_m softmax(s)_m z_m``. A missing modality's embedding is first replaced by a
    learned vector, which is used (with equal gate logic) only for rows that have no modality at
    all. Gated attention as in Ilse et al. (2018), attention-based deep multiple-instance learning,
    ICML, arXiv:1802.04712.

    Parameters
    ----------
    in_features
        Embedding width of each modality, in modality order.
    out_features
        Common width ``d`` of the projected embeddings (the output width).
    hidden
        Width of the gate's hidden layer.
    """

    def __init__(self, in_features: Sequence[int], out_features: int = 32, hidden: int = 16) -> None:
        super().__init__()
        self.in_features = [int(w) for w in in_features]
        self.out_features = int(out_features)
        self.project = nn.ModuleList([nn.Linear(w, self.out_features) for w in self.in_features])
        self.missing_embeddings = nn.ParameterList(
            [nn.Parameter(torch.zeros(self.out_features)) for _ in self.in_features])
        self.gate = nn.Sequential(nn.Linear(self.out_features, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, embeddings: Sequence[Tensor], mask: Tensor) -> Tensor:
        """Fused ``(n, out_features)`` from embeddings ``[(n, d_m)]`` and mask ``(n, M)``."""
        _check(embeddings, mask, self.in_features)
        mask = mask.to(torch.bool)
        z = torch.stack([torch.where(mask[:, m:m + 1], proj(e), self.missing_embeddings[m].to(e.dtype))
                         for m, (proj, e) in enumerate(zip(self.project, embeddings))], dim=1)
        scores = self.gate(z).squeeze(-1)  # (n, M)
        use = mask | ~mask.any(dim=1, keepdim=True)  # nobody present: use the learned substitutes
        scores = scores.masked_fill(~use, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        return (weights.unsqueeze(-1) * z).sum(dim=1)


def drop_modalities(mask: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Randomly hide whole modalities per row, never all of a row's present modalities.

    Each present entry of ``mask`` is dropped with probability ``p``; in a row that would lose
    every modality it had, one of them (chosen at random) is kept.

    Parameters
    ----------
    mask
        Boolean presence mask ``(n, n_modalities)``.
    p
        Drop probability per present modality, in ``[0, 1)``.
    generator
        Optional torch generator (default: the global one).

    Returns
    -------
    Tensor
        The new boolean mask (a subset of ``mask``).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"modality dropout must be in [0, 1), got {p}")
    mask = mask.to(torch.bool)
    if p == 0.0 or mask.numel() == 0:
        return mask
    u = torch.rand(mask.shape, generator=generator, device=mask.device)
    kept = mask & (u >= p)
    lost = mask.any(dim=1) & ~kept.any(dim=1)
    if bool(lost.any()):
        pick = torch.where(mask, u, torch.full_like(u, -1.0)).argmax(dim=1)
        rescue = torch.zeros_like(mask)
        rescue[torch.arange(mask.shape[0], device=mask.device), pick] = True
        kept = kept | (rescue & lost.unsqueeze(1))
    return kept


class ModalityDropout(nn.Module):
    """Modality dropout as a module: :func:`drop_modalities` in training mode, identity in eval.

    Parameters
    ----------
    p
        Drop probability per present modality, in ``[0, 1)``.
    """

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"modality dropout must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, mask: Tensor) -> Tensor:
        """The (possibly thinned) presence mask."""
        if not self.training or self.p == 0.0:
            return mask.to(torch.bool)
        return drop_modalities(mask, self.p)
