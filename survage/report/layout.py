"""Layout helpers of the report pages (reportlab platypus): styles, tables, images, absent sections."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

#: usable page width (A4 less margins), in points
PAGE_WIDTH = 17.8 * 28.35
#: points per centimetre
CM = 28.35


def styles() -> dict[str, Any]:
    """Paragraph styles: title, h1, h2, body, small, cell, verdict."""
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    ss = getSampleStyleSheet()
    return {
        "title": ss["Title"], "h1": ss["Heading1"], "h2": ss["Heading2"], "body": ss["BodyText"],
        "small": ParagraphStyle("small", parent=ss["BodyText"], fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=ss["BodyText"], fontSize=7.5, leading=9),
        "verdict": ParagraphStyle("verdict", parent=ss["BodyText"], fontName="Helvetica-Bold", fontSize=9,
                                  leading=11.5),
    }


def esc(s: Any) -> str:
    """``s`` as text safe inside a reportlab paragraph."""
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table(rows: Sequence[Sequence[str]], st: Mapping[str, Any], widths: Sequence[float] | None = None,
          rule_above: Sequence[int] = ()) -> Any:
    """A table with a header row; ``rule_above`` lists body rows (1-based) preceded by a thin rule."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[Paragraph(esc(c), st["cell"]) for c in r] for r in rows]
    t = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    t.setStyle(TableStyle([
        ("LINEABOVE", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("LINEBELOW", (0, -1), (-1, -1), 0.8, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        *[("LINEABOVE", (0, r), (-1, r), 0.4, colors.grey) for r in rule_above],
    ]))
    return t


def image(png: bytes, max_width: float, max_height: float) -> Any:
    """A PNG scaled to fit ``max_width`` x ``max_height`` points."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w, h = ImageReader(io.BytesIO(png)).getSize()
    scale = min(max_width / w, max_height / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def absent(metrics: Mapping[str, Any], section: str, st: Mapping[str, Any]) -> Any:
    """"Not available: <reason from notes>." for an absent section."""
    from reportlab.platypus import Paragraph

    why = metrics.get("notes", {}).get(section, "not computed in this run")
    return Paragraph(esc(f"Not available: {why}."), st["body"])
