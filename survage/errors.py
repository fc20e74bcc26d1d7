"""The one error type survage raises for bad input."""

from __future__ import annotations

from collections.abc import Sequence


class SurvageInputError(ValueError):
    """Bad input: names the column (or file), the offending rows and what was expected.

    Parameters
    ----------
    message
        What is wrong, in words.
    column
        The column, header or file concerned, if any.
    rows
        Positions (0-based) or labels of the offending rows; only the first few are printed.
    expected
        What was expected instead.
    """

    max_rows_shown = 5

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rows: Sequence[object] | None = None,
        expected: str | None = None,
    ) -> None:
        self.column = column
        self.rows = list(rows) if rows is not None else []
        self.expected = expected
        parts = [message]
        if column is not None:
            parts.append(f"column {column!r}")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[: self.max_rows_shown])
            more = len(self.rows) - self.max_rows_shown
            parts.append(f"rows [{shown}{', ...' if more > 0 else ''}] ({len(self.rows)} in all)")
        if expected is not None:
            parts.append(f"expected {expected}")
        super().__init__("; ".join(parts))
