"""Exclusion bookkeeping: every row left out of an analysis is counted with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

#: scope of an exclusion that removes the row from the whole cohort
COHORT_SCOPE = "cohort"


@dataclass(frozen=True)
class Exclusion:
    """One row left out of the cohort or of one outcome's analysis.

    Attributes
    ----------
    row
        Row position in the source table (0-based, data rows only); never an identifier.
    scope
        ``"cohort"`` for a row removed from every analysis, else the outcome name.
    column
        The column that caused the exclusion.
    reason
        Why, in words (the same text for all rows excluded for the same reason).
    value
        The offending cell value as text ("" when not useful). Never an identifier.
    """

    row: int
    scope: str
    column: str
    reason: str
    value: str = ""


@dataclass
class ExclusionLog:
    """All exclusions of a cohort, reported as counts by scope and reason."""

    entries: list[Exclusion] = field(default_factory=list)

    def add(self, rows: "list[int] | pd.Index", *, scope: str, column: str, reason: str,
            values: "list[object] | None" = None) -> None:
        """Record an exclusion for each of ``rows``."""
        vals = values if values is not None else [""] * len(rows)
        for r, v in zip(rows, vals):
            self.entries.append(Exclusion(int(r), scope, column, reason, "" if v is None else str(v)))

    def extend(self, other: "ExclusionLog") -> None:
        """Append another log's entries."""
        self.entries.extend(other.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def rows(self, scope: str = COHORT_SCOPE) -> set[int]:
        """Source-row positions excluded in ``scope``."""
        return {e.row for e in self.entries if e.scope == scope}

    def summary(self) -> pd.DataFrame:
        """Counts of distinct rows by scope, column and reason (no identifiers, no values)."""
        if not self.entries:
            return pd.DataFrame(columns=["scope", "column", "reason", "n_rows"])
        df = pd.DataFrame([(e.scope, e.column, e.reason, e.row) for e in self.entries],
                          columns=["scope", "column", "reason", "row"])
        out = df.groupby(["scope", "column", "reason"], sort=False)["row"].nunique()
        return out.rename("n_rows").reset_index()

    def to_records(self) -> list[dict[str, object]]:
        """JSON-ready summary records (counts only)."""
        return [
            {k: (int(v) if k == "n_rows" else str(v)) for k, v in rec.items()}
            for rec in self.summary().to_dict(orient="records")
        ]
