"""Parsers for single cells of the opportunistic-CT screening sheet.

Each parser takes one raw cell (a string from a CSV, or a number/string/``None`` from an
``.xlsx``) and returns a float (``NaN`` = missing) or raises :class:`CellError` with the reason.
The codings (documented once, here):

- blank or white space, in any column -> missing;
- ``Y`` / ``Yes`` -> 1, ``N`` / ``No`` -> 0 (case-insensitive; the numbers 1 and 0 are accepted);
- sex: ``Male`` / ``M`` -> 1, ``Female`` / ``F`` -> 0 (survage codes sex 1 = male, 0 = female);
- ``Alcohol abuse``: blank -> 0; any ICD-10 alcohol description (text containing ``alcohol`` or
  ``ethanol``, or an ``F10`` code) -> 1; ``Y``/``N`` as above;
- percent columns (FRS, FRAX): the unit is **percent** (``7%`` and ``7`` both give 7.0);
  ``<1%`` / ``>30%`` give the bound (1.0, 30.0) with bound flag -1 / +1 (0 = exact value);
  ``X`` and ``_`` mean "not computable": missing, with a note kept for the exclusion report.
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import date, datetime

import numpy as np


class CellError(ValueError):
    """A cell that cannot be read as its column's type (the message is the reason)."""


#: markers meaning "score not computable" in the percent columns (X in FRS, _ in FRAX)
NOT_COMPUTABLE = ("X", "_")

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")
_PERCENT_RE = re.compile(rf"^(<=|>=|<|>|\u2264|\u2265)?\s*({_NUMBER})\s*%?$")
_YES = {"y", "yes"}
_NO = {"n", "no"}
_MALE = {"male", "m"}
_FEMALE = {"female", "f"}
_ALCOHOL_RE = re.compile(r"alcohol|ethanol|\bF10(\.\d+)?\b", re.IGNORECASE)


def cell_text(v: object) -> str | None:
    """The cell as stripped text, ``None`` when blank (``None``, NaN or only white space).

    Integer-valued floats print without a decimal part (``123.0`` -> ``"123"``).
    """
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    s = str(v).strip()
    return s or None


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def parse_number(v: object) -> float:
    """A finite number, NaN when blank; any other text raises :class:`CellError`."""
    if _is_number(v):
        x = float(v)  # type: ignore[arg-type]
        if math.isnan(x):
            return math.nan
        if not math.isfinite(x):
            raise CellError("non-finite number")
        return x
    s = cell_text(v)
    if s is None:
        return math.nan
    if not _NUMBER_RE.match(s):
        raise CellError("text in a numeric column")
    x = float(s)
    if not math.isfinite(x):
        raise CellError("non-finite number")
    return x


def parse_yes_no(v: object) -> float:
    """``Y``/``Yes`` -> 1, ``N``/``No`` -> 0, blank -> NaN (1 and 0 accepted as numbers)."""
    s = cell_text(v)
    if s is None:
        return math.nan
    low = s.lower()
    if low in _YES or low == "1":
        return 1.0
    if low in _NO or low == "0":
        return 0.0
    raise CellError("expected Y/N or Yes/No")


def parse_sex(v: object) -> float:
    """``Male`` -> 1, ``Female`` -> 0 (also ``M``/``F``), blank -> NaN."""
    s = cell_text(v)
    if s is None:
        return math.nan
    low = s.lower()
    if low in _MALE:
        return 1.0
    if low in _FEMALE:
        return 0.0
    raise CellError("expected Female or Male")


def parse_alcohol(v: object) -> float:
    """Blank -> 0, an ICD-10 alcohol description -> 1 (``Y``/``N`` also accepted)."""
    s = cell_text(v)
    if s is None:
        return 0.0
    low = s.lower()
    if low in _YES or low == "1":
        return 1.0
    if low in _NO or low == "0":
        return 0.0
    if _ALCOHOL_RE.search(s):
        return 1.0
    raise CellError("expected blank or an ICD-10 alcohol-related description")


def parse_percent(v: object) -> tuple[float, int, str]:
    """A percent cell -> ``(value in percent, bound flag, note)``.

    The bound flag is -1 for ``<x%`` (the true value lies below x), +1 for ``>x%`` (the true
    value lies above x) and 0 for an exact value. ``note`` is ``""``
    except for the not-computable markers ``X`` / ``_``, which give NaN and a note.
    Values outside 0-100 % raise :class:`CellError`.
    """
    if _is_number(v):
        x = parse_number(v)
        bound = 0
    else:
        s = cell_text(v)
        if s is None:
            return math.nan, 0, ""
        if s.upper() in NOT_COMPUTABLE:
            return math.nan, 0, f"score not computable ({s})"
        m = _PERCENT_RE.match(s)
        if not m:
            raise CellError("text in a percent column")
        op = m.group(1) or ""
        bound = -1 if op in ("<", "<=", "\u2264") else (1 if op in (">", ">=", "\u2265") else 0)
        x = float(m.group(2))
    if not math.isnan(x) and not 0.0 <= x <= 100.0:
        raise CellError("percent outside 0-100")
    return x, bound, ""
