"""Gompertz proportional-hazards likelihood, on follow-up time or on attained age.

Hazard ``h(t | x) = exp(a(x)) * exp(b * t)`` (Gompertz 1825): ``a = log_scale`` is the log hazard
at ``t = 0`` (a per-sample score from a network, or a scalar), ``b = shape_b`` the rate of
increase of the log hazard per unit time (per year of age when the time scale is age).

Cumulative hazard between entry ``s`` and exit ``t``::

    H(t) - H(s) = exp(a) * (exp(b t) - exp(b s)) / b = exp(a + b s) * expm1(b (t - s)) / b

which is evaluated through ``expm1(b d) / b`` with a series near ``b d = 0`` so that ``b -> 0``
(the exponential model, ``H = exp(a) (t - s)``) and its gradient are exact and finite.
"""

from __future__ import annotations

import torch
from torch import Tensor

from survage.errors import SurvageInputError
from survage.losses.validation import (
    Reduction,
    as_vector,
    check_finite,
    check_reduction,
    check_same_length,
    check_weights,
    event_as_float,
)

# Below this |b * d| the ratio expm1(b d) / b is taken from its Taylor series
# d (1 + x/2 + x^2/6 + x^3/24), x = b d; the omitted term is x^4/120 < 1e-14 relative.
_SERIES_BELOW = 1e-3


def _to(x: Tensor | float, name: str, like: Tensor, *, cast: bool = True) -> Tensor:
    """``x`` as a tensor on ``like``'s device (and dtype if ``cast``); ``(n, 1)`` becomes ``(n,)``."""
    if isinstance(x, Tensor):
        t = x.to(like.device)
    else:  # Python numbers and arrays straight to the target dtype (no float32 round trip)
        t = torch.as_tensor(x, device=like.device, dtype=like.dtype if cast else None)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t.reshape(-1)
    if t.ndim > 1:
        raise SurvageInputError(
            f"{name} has shape {tuple(t.shape)}", column=name, expected="scalar, (n,) or (n, 1)"
        )
    return t.to(like.dtype) if cast else t


def expm1_ratio(b: Tensor, d: Tensor) -> Tensor:
    """``expm1(b * d) / b``, equal to ``d`` at ``b = 0``, with finite gradients everywhere.

    Parameters
    ----------
    b
        Gompertz shape (any sign), broadcastable with ``d``.
    d
        Interval length (``>= 0``).

    Returns
    -------
    Tensor
        ``(exp(b d) - 1) / b``, the Gompertz cumulative hazard per unit ``exp(a)``.
    """
    x = b * d
    small = torch.abs(x) < _SERIES_BELOW
    safe_b = torch.where(small, torch.ones_like(b), b)
    exact = torch.expm1(torch.where(small, torch.zeros_like(x), x)) / safe_b
    series = d * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x / 24.0)))
    return torch.where(small, series, exact)


def gompertz_cumulative_hazard(
    log_scale: Tensor | float,
    shape_b: Tensor | float,
    time: Tensor | float,
    *,
    entry: Tensor | float | None = None,
) -> Tensor:
    """Gompertz cumulative hazard ``H(time) - H(entry)`` for ``h(t) = exp(log_scale + shape_b t)``.

    Parameters
    ----------
    log_scale
        ``a``: log hazard at ``t = 0``; scalar or per sample.
    shape_b
        ``b``: Gompertz slope; scalar or per sample. ``b = 0`` gives the exponential model.
    time
        Exit time (or attained age at exit).
    entry
        Entry time (attained age at baseline, for left truncation); ``None`` means 0.

    Returns
    -------
    Tensor
        ``exp(a + b s) * expm1(b (t - s)) / b`` broadcast over the inputs (``s = entry``), in
        ``log_scale``'s dtype when it is a floating tensor, else float64.

    References
    ----------
    Gompertz B (1825). On the nature of the function expressive of the law of human mortality,
    and on a new mode of determining the value of life contingencies. Phil Trans R Soc Lond
    115:513-583. doi:10.1098/rstl.1825.0026
    """
    if isinstance(log_scale, Tensor) and log_scale.is_floating_point():
        ref = log_scale
    else:
        ref = torch.zeros((), dtype=torch.float64)
    a = _to(log_scale, "log_scale", ref)
    b = _to(shape_b, "shape_b", ref)
    t = _to(time, "time", ref)
    if entry is None:
        return torch.exp(a) * expm1_ratio(b, t)
    s = _to(entry, "entry", ref)
    return torch.exp(a + b * s) * expm1_ratio(b, t - s)


def gompertz_nll(
    log_scale: Tensor,
    shape_b: Tensor | float,
    time: Tensor,
    event: Tensor,
    *,
    entry: Tensor | None = None,
    weights: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Negative log-likelihood of a Gompertz proportional-hazards model (full likelihood).

    Per sample, with :math:`a_i` = ``log_scale``, :math:`b` = ``shape_b``, exit :math:`t_i`,
    entry :math:`s_i` (0 without left truncation) and event indicator :math:`\delta_i`:

    .. math::

        -\ell_i = -\delta_i (a_i + b t_i) + e^{a_i} \frac{e^{b t_i} - e^{b s_i}}{b}.

    Attained-age form: pass ``time`` = age at event or censoring and ``entry`` = age at baseline
    (left truncation: a person contributes only the hazard accumulated after entry); ``a_i`` is
    then the log hazard at age 0 (``alpha`` of ``h(age) = exp(alpha + beta age)``).

    Parameters
    ----------
    log_scale
        :math:`a_i`, shape ``(n,)``, ``(n, 1)`` or scalar; floating point (its dtype is the
        dtype of the computation); gradients flow.
    shape_b
        :math:`b`, a scalar tensor (e.g. an ``nn.Parameter``), a float, or per sample ``(n,)``.
        ``b`` near 0 is handled exactly (exponential limit).
    time
        Exit time (follow-up, or age at exit), ``(n,)`` or ``(n, 1)``, finite, ``>= entry``.
    event
        Event indicator (bool or 0/1), same length as ``time``.
    entry
        Optional entry time (age at baseline), ``(n,)``; ``None`` means entry at 0.
    weights
        Optional case weights (> 0), ``(n,)``.
    reduction
        ``"sum"``: minus the log-likelihood; ``"mean"``: that divided by the number of samples
        (the sum of weights when given; every sample, censored or not, contributes a term);
        ``"none"``: per-sample terms ``(n,)``.

    Returns
    -------
    Tensor
        Scalar (``"mean"``, ``"sum"``) or shape ``(n,)``.

    Raises
    ------
    SurvageInputError
        Shapes that do not match, non-finite times, ``time < entry``, events other than 0/1,
        weights not > 0, an unknown ``reduction``.

    References
    ----------
    Gompertz B (1825). On the nature of the function expressive of the law of human mortality,
    and on a new mode of determining the value of life contingencies. Phil Trans R Soc Lond
    115:513-583. doi:10.1098/rstl.1825.0026

    Klein JP, Moeschberger ML (2003). Survival Analysis, 2nd ed., section 3.5 (left truncation).
    doi:10.1007/b97377
    """
    check_reduction(reduction)
    if not isinstance(log_scale, Tensor) or not log_scale.is_floating_point():
        raise SurvageInputError(
            "log_scale must be a floating-point tensor", column="log_scale", expected="float tensor"
        )
    a = _to(log_scale, "log_scale", log_scale)
    t = as_vector(_to(time, "time", a), "time")
    n = t.shape[0]
    check_finite(t, "time")
    d = event_as_float(as_vector(_to(event, "event", a, cast=False), "event"), a.dtype)
    b = _to(shape_b, "shape_b", a)
    w = None
    if weights is not None:
        w = check_weights(as_vector(_to(weights, "weights", a), "weights"), a.dtype)
    check_same_length(n, event=d, weights=w)
    for name, x in (("log_scale", a), ("shape_b", b)):
        if x.ndim == 1 and x.shape[0] != n:
            raise SurvageInputError(
                f"{name} has length {x.shape[0]}", column=name, expected=f"scalar or length {n} (as time)"
            )
    if entry is None:
        negative = t < 0
        if bool(negative.any()):
            rows = [int(i) for i in torch.nonzero(negative).reshape(-1)[:10].tolist()]
            raise SurvageInputError(
                "negative time without entry", column="time", rows=rows, expected="time >= 0 (or pass entry)"
            )
        cum = torch.exp(a) * expm1_ratio(b, t)
    else:
        s = as_vector(_to(entry, "entry", a), "entry")
        check_same_length(n, entry=s)
        check_finite(s, "entry")
        bad = t < s
        if bool(bad.any()):
            rows = [int(i) for i in torch.nonzero(bad).reshape(-1)[:10].tolist()]
            raise SurvageInputError(
                "time (exit) before entry",
                column="time",
                rows=rows,
                expected="time >= entry",
            )
        cum = torch.exp(a + b * s) * expm1_ratio(b, t - s)
    per = cum - d * (a + b * t)
    if w is not None:
        per = per * w
    if reduction == "none":
        return per
    total = per.sum()
    if reduction == "sum":
        return total
    return total / (w.sum() if w is not None else float(n))
