"""Input checks shared by the biological-age modules (arrays, frames, group labels)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from survage.errors import SurvageInputError

GroupLabel = Hashable


def as_float_1d(values: npt.ArrayLike, name: str, *, allow_nan: bool = True) -> np.ndarray:
    """Return ``values`` as a 1-D float array, raising on non-numeric or infinite input.

    Parameters
    ----------
    values
        Array-like of numbers.
    name
        Name used in error messages.
    allow_nan
        Whether missing values (NaN) are accepted.

    Returns
    -------
    numpy.ndarray
        1-D float64 array (a copy when conversion was needed).
    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise SurvageInputError("values are not numeric", column=name, expected="numbers") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise SurvageInputError(
            f"array has shape {arr.shape}", column=name, expected="a 1-D array"
        )
    bad = np.flatnonzero(np.isinf(arr))
    if bad.size:
        raise SurvageInputError("infinite values", column=name, rows=bad.tolist(), expected="finite numbers")
    if not allow_nan:
        miss = np.flatnonzero(np.isnan(arr))
        if miss.size:
            raise SurvageInputError("missing values", column=name, rows=miss.tolist(), expected="no NaN")
    return arr


def same_length(**arrays: np.ndarray) -> int:
    """Check that all arrays have the same length and return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise SurvageInputError(
            f"arrays differ in length: {lengths}", expected="arrays of equal length"
        )
    return next(iter(lengths.values()))


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`SurvageInputError` naming the first missing column of ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise SurvageInputError(
            f"{what} needs a pandas DataFrame, got {type(frame).__name__}", expected="pandas.DataFrame"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SurvageInputError(
            f"{what}: {len(missing)} required column(s) missing ({', '.join(missing)})",
            column=missing[0],
            expected=f"columns {list(columns)}",
        )


def numeric_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return one column of ``frame`` as float64 (NaN for missing), raising if it is not numeric."""
    col = frame[column]
    if not pd.api.types.is_numeric_dtype(col):
        converted = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero(converted.isna().to_numpy() & col.notna().to_numpy())
        if bad.size:
            raise SurvageInputError("non-numeric values", column=column, rows=bad.tolist(), expected="numbers")
        col = converted
    return as_float_1d(col.to_numpy(dtype=float, na_value=np.nan), column)


def normalise_label(label: object) -> GroupLabel:
    """Turn numpy scalars and integral floats into plain Python ints/str (JSON-friendly)."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, float) and label.is_integer():
        return int(label)
    return label  # type: ignore[return-value]


def group_codes(
    groups: npt.ArrayLike | None, n: int, known: Sequence[GroupLabel] | None = None, name: str = "group"
) -> tuple[list[GroupLabel], np.ndarray]:
    """Map a group array to integer codes.

    Parameters
    ----------
    groups
        One label per row, or None (one group, label None).
    n
        Expected length.
    known
        When given (prediction), the labels seen at fit time; unknown labels raise.
    name
        Name used in error messages.

    Returns
    -------
    labels, codes
        ``labels`` the group labels in code order; ``codes`` an int array (-1 for a missing label).
    """
    if groups is None:
        if known is not None and len(known) != 1:
            raise SurvageInputError(
                f"the reference was fitted per {name} ({list(known)}); pass {name}=",
                column=name,
                expected="a group label per row",
            )
        labels = [known[0]] if known is not None else [None]
        return labels, np.zeros(n, dtype=int)
    raw = pd.Series(np.asarray(groups, dtype=object).ravel())
    if len(raw) != n:
        raise SurvageInputError(
            f"{name} has {len(raw)} entries for {n} rows", column=name, expected=f"{n} entries"
        )
    missing = raw.isna().to_numpy()
    values = [normalise_label(v) if not m else None for v, m in zip(raw.to_numpy(), missing)]
    if known is None:
        labels = sorted({v for v, m in zip(values, missing) if not m}, key=lambda v: (str(type(v)), v))
    else:
        labels = list(known)
    index = {lab: i for i, lab in enumerate(labels)}
    codes = np.full(n, -1, dtype=int)
    unknown = []
    for i, (v, m) in enumerate(zip(values, missing)):
        if m:
            continue
        if v not in index:
            unknown.append(i)
            continue
        codes[i] = index[v]
    if unknown:
        raise SurvageInputError(
            f"{name} labels not seen when fitting", column=name, rows=unknown, expected=f"one of {labels}"
        )
    return labels, codes
