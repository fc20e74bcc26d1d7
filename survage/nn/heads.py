"""Survival heads: Cox (log relative hazard) and Gompertz (per-person log scale, shared shape)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F


class CoxHead(nn.Module):
    """Linear map from a fused embedding to a log relative hazard (higher = worse).

    No bias: the Cox partial likelihood does not identify an intercept (it sits in the
    baseline hazard). Cox (1972), doi:10.1111/j.2517-6161.1972.tb00899.x; as a network output
    Katzman et al. (2018) DeepSurv, doi:10.1186/s12874-018-0482-1.

    Parameters
    ----------
    in_features
        Width of the fused embedding.
    """

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.linear = nn.Linear(self.in_features, 1, bias=False)
        nn.init.zeros_(self.linear.weight)

    def forward(self, x: Tensor) -> Tensor:
        """Log hazard ``(n,)``."""
        return self.linear(x).squeeze(-1)


class GompertzHead(nn.Module):
    """Gompertz proportional-hazards head: ``h(t | x) = exp(a(x) + b t)``.

    ``a(x)`` (log hazard at follow-up time 0) is linear in the embedding, per person; the shape
    ``b > 0`` is shared, parametrised as ``softplus(raw)``. Gompertz (1825),
    doi:10.1098/rstl.1825.0026.

    Parameters
    ----------
    in_features
        Width of the fused embedding.
    init_log_scale
        Initial intercept of ``a`` (log hazard per year at entry).
    init_shape
        Initial ``b`` (per year), > 0.
    """

    def __init__(self, in_features: int, init_log_scale: float = -4.0, init_shape: float = 0.1) -> None:
        super().__init__()
        if init_shape <= 0:
            raise ValueError(f"init_shape must be > 0, got {init_shape}")
        self.in_features = int(in_features)
        self.linear = nn.Linear(self.in_features, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.constant_(self.linear.bias, init_log_scale)
        self.raw_shape = nn.Parameter(torch.tensor(math.log(math.expm1(init_shape))))

    @property
    def shape_b(self) -> Tensor:
        """The shared Gompertz shape ``b = softplus(raw) > 0``."""
        return F.softplus(self.raw_shape)

    def forward(self, x: Tensor) -> Tensor:
        """Per-person log scale ``a(x)``, shape ``(n,)`` (also the risk score: higher = worse)."""
        return self.linear(x).squeeze(-1)
