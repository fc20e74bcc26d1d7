"""Input checks shared by the survage loss functions.

Every check raises :class:`survage.errors.SurvageInputError` naming the argument, the first
offending rows and what was expected. The checks run on the tensors' own device; each is one
reduction, so they cost little next to the sort inside a Cox loss.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from survage.errors import SurvageInputError

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")


def _bad_rows(mask: Tensor) -> list[int]:
    """Positions (0-based) where ``mask`` is true, at most a few, as Python ints."""
    return [int(i) for i in torch.nonzero(mask.reshape(-1)).reshape(-1)[:10].tolist()]


def as_vector(x: Tensor, name: str) -> Tensor:
    """Return ``x`` as a 1-D view; accepts shape ``(n,)`` or ``(n, 1)``.

    Parameters
    ----------
    x
        The tensor to flatten.
    name
        Argument name used in the error message.

    Returns
    -------
    Tensor
        ``x`` reshaped to ``(n,)`` (a view; gradients flow through it).
    """
    if not isinstance(x, Tensor):
        raise SurvageInputError(f"{name} must be a torch.Tensor, got {type(x).__name__}", column=name)
    if x.ndim == 1:
        return x
    if x.ndim == 2 and x.shape[1] == 1:
        return x.reshape(-1)
    raise SurvageInputError(
        f"{name} has shape {tuple(x.shape)}", column=name, expected="shape (n,) or (n, 1)"
    )


def check_reduction(reduction: str) -> None:
    """Raise unless ``reduction`` is one of ``"mean"``, ``"sum"``, ``"none"``."""
    if reduction not in REDUCTIONS:
        raise SurvageInputError(
            f"unknown reduction {reduction!r}", column="reduction", expected=" | ".join(REDUCTIONS)
        )


def check_same_length(n: int, **tensors: Tensor | None) -> None:
    """Raise unless every given (non-``None``) 1-D tensor has length ``n``."""
    for name, t in tensors.items():
        if t is not None and t.shape[0] != n:
            raise SurvageInputError(
                f"{name} has length {t.shape[0]}", column=name, expected=f"length {n} (as log_hazard)"
            )


def check_finite(x: Tensor, name: str) -> None:
    """Raise if ``x`` holds NaN or infinite values."""
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        raise SurvageInputError(
            f"{name} has non-finite values",
            column=name,
            rows=_bad_rows(bad),
            expected="finite numbers",
        )


def check_nonnegative(x: Tensor, name: str) -> None:
    """Raise if ``x`` holds negative values."""
    bad = x < 0
    if bool(bad.any()):
        raise SurvageInputError(
            f"{name} has negative values",
            column=name,
            rows=_bad_rows(bad),
            expected="values >= 0",
        )


def event_as_float(event: Tensor, dtype: torch.dtype) -> Tensor:
    """Check that ``event`` is boolean or 0/1 and return it as ``dtype``.

    Parameters
    ----------
    event
        Event indicator, shape ``(n,)``.
    dtype
        Floating dtype of the result.

    Returns
    -------
    Tensor
        ``event`` as 0.0/1.0 of the given dtype.
    """
    if event.dtype == torch.bool:
        return event.to(dtype)
    bad = (event != 0) & (event != 1)
    if bool(bad.any()):
        raise SurvageInputError(
            "event has values other than 0/1",
            column="event",
            rows=_bad_rows(bad),
            expected="bool or 0/1",
        )
    return event.to(dtype)


def check_weights(weights: Tensor, dtype: torch.dtype) -> Tensor:
    """Check case weights (finite, strictly positive) and return them as ``dtype``."""
    w = weights.to(dtype)
    bad = ~torch.isfinite(w) | (w <= 0)
    if bool(bad.any()):
        raise SurvageInputError(
            "weights must be finite and > 0",
            column="weights",
            rows=_bad_rows(bad),
            expected="finite values > 0",
        )
    return w
