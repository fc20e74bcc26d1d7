"""Input checks shared by the metrics: arrays in, :class:`SurvageInputError` out, never NaN."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from survage.errors import SurvageInputError


def _bad_rows(mask: NDArray[np.bool_]) -> list[int]:
    return np.flatnonzero(mask)[:20].tolist()


def as_float_1d(values: ArrayLike, name: str, *, allow_nan: bool = False) -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float array, raising on wrong shape or non-finite entries."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SurvageInputError("not numeric", column=name, expected="a 1-D numeric array") from exc
    if arr.ndim != 1:
        raise SurvageInputError(f"has {arr.ndim} dimensions", column=name, expected="a 1-D array")
    if not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise SurvageInputError("contains NaN or infinite values", column=name, rows=_bad_rows(bad),
                                    expected="finite numbers")
    return arr


def as_event(values: ArrayLike, name: str = "event") -> NDArray[np.bool_]:
    """Return the event indicator as a boolean array (accepts bool or 0/1 numbers)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise SurvageInputError(f"has {arr.ndim} dimensions", column=name, expected="a 1-D array")
    if arr.dtype == bool:
        return arr
    num = as_float_1d(arr, name)
    bad = (num != 0) & (num != 1)
    if bad.any():
        raise SurvageInputError("is not 0/1", column=name, rows=_bad_rows(bad), expected="0/1 or boolean")
    return num.astype(bool)


def as_time(values: ArrayLike, name: str = "time") -> NDArray[np.float64]:
    """Return follow-up times as a float array; negative times are rejected."""
    arr = as_float_1d(values, name)
    bad = arr < 0
    if bad.any():
        raise SurvageInputError("has negative times", column=name, rows=_bad_rows(bad), expected="times >= 0")
    return arr


def check_same_length(arrays: Sequence[tuple[str, NDArray[np.generic]]]) -> int:
    """Raise unless every array has the length of the first; return that length."""
    first_name, first = arrays[0]
    n = first.shape[0]
    for name, arr in arrays[1:]:
        if arr.shape[0] != n:
            raise SurvageInputError(
                f"has length {arr.shape[0]} but {first_name!r} has length {n}", column=name,
                expected=f"length {n}",
            )
    return n


def survival_data(
    time: ArrayLike, event: ArrayLike, *, time_name: str = "time", event_name: str = "event",
    need_event: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate a (time, event) pair: same length, finite, at least one event when ``need_event``."""
    t = as_time(time, time_name)
    e = as_event(event, event_name)
    check_same_length([(time_name, t), (event_name, e)])
    if t.shape[0] < 2:
        raise SurvageInputError("needs at least two rows", column=time_name, expected=">= 2 rows")
    if need_event and not e.any():
        raise SurvageInputError("has no events", column=event_name, expected="at least one event")
    return t, e


def as_weights(weights: ArrayLike | None, n: int, name: str = "weights") -> NDArray[np.float64] | None:
    """Validate optional non-negative case weights of length ``n``."""
    if weights is None:
        return None
    w = as_float_1d(weights, name)
    if w.shape[0] != n:
        raise SurvageInputError(f"has length {w.shape[0]}", column=name, expected=f"length {n}")
    bad = w < 0
    if bad.any():
        raise SurvageInputError("has negative weights", column=name, rows=_bad_rows(bad), expected=">= 0")
    return w


def as_times_grid(times: ArrayLike, name: str = "times") -> NDArray[np.float64]:
    """Return evaluation times as a strictly increasing 1-D float array."""
    arr = as_float_1d(np.atleast_1d(np.asarray(times, dtype=float)), name)
    if arr.size == 0:
        raise SurvageInputError("is empty", column=name, expected="at least one time")
    if arr.size > 1 and np.any(np.diff(arr) <= 0):
        raise SurvageInputError("is not strictly increasing", column=name, expected="sorted unique times")
    return arr


def probability_at_horizon(
    risk_at_t: ArrayLike | None, surv_at_t: ArrayLike | None, n: int,
) -> NDArray[np.float64]:
    """Predicted event probability by the horizon from exactly one of ``risk_at_t`` / ``surv_at_t``."""
    if (risk_at_t is None) == (surv_at_t is None):
        raise SurvageInputError("give exactly one of risk_at_t and surv_at_t", column="risk_at_t",
                                expected="one predicted probability array")
    name = "risk_at_t" if risk_at_t is not None else "surv_at_t"
    p = as_float_1d(risk_at_t if risk_at_t is not None else surv_at_t, name)
    if p.shape[0] != n:
        raise SurvageInputError(f"has length {p.shape[0]}", column=name, expected=f"length {n}")
    bad = (p < 0) | (p > 1)
    if bad.any():
        raise SurvageInputError("is not a probability", column=name, rows=_bad_rows(bad), expected="values in [0, 1]")
    return p if risk_at_t is not None else 1.0 - p
