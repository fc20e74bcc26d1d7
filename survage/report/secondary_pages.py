"""Report pages of the secondary analyses (``metrics["secondary"]``), e.g. DXA within its rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survage.report import tables
from survage.report.layout import absent, esc, table


def dxa_page(m: Mapping[str, Any], st: Mapping[str, Any]) -> list[Any]:
    """Section 8: clinical vs DXA vs both, cross-validated within the people with DXA."""
    from reportlab.platypus import Paragraph, Spacer

    sec = (m.get("secondary") or {}).get("dxa")
    out: list[Any] = [Paragraph(esc(f"8. {(sec or {}).get('title', 'DXA body composition (secondary analysis)')}"),
                                st["h1"])]
    if not sec:
        notes = m.get("notes", {})
        key = "secondary_dxa" if "secondary_dxa" in notes else "secondary"
        return out + [absent({"notes": {key: notes.get(key, "not configured (secondary.analyses)")}}, key, st)]
    out += [Paragraph(esc(f"Outcome: {sec['outcome']}; {sec['population']}: {sec['n']:,} people, "
                          f"{sec['events']:,} events."), st["body"]),
            Paragraph(esc(sec["verdict"]), st["verdict"]),
            Spacer(1, 4),
            Paragraph(esc(sec["method"]), st["small"]),
            Spacer(1, 4), table(tables.dxa_model_rows(sec), st),
            Spacer(1, 6), Paragraph("Paired bootstrap differences (same resampled people)", st["h2"]),
            table(tables.dxa_difference_rows(sec), st)]
    return out
