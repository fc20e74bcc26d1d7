"""The study report (PDF), laid out with reportlab platypus from a ``metrics.json`` dict.

Every number on the pages comes from ``metrics`` (schema: ``docs/api.md``); the renderer computes
nothing. Identifiers never appear: ``metrics.json`` holds none, and the renderer refuses a dict
whose keys name an identifier column.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from survage.errors import SurvageInputError
from survage.report import bioage_pages, figures, layout, secondary_pages, tables
from survage.atomic import atomic_write_bytes

#: top-level sections a metrics dict must have
REQUIRED_SECTIONS = ("schema_version", "title", "primary_outcome", "horizons", "cohort", "exclusions",
                     "models", "methods")
#: keys that would carry identifiers; never allowed anywhere in metrics.json
FORBIDDEN_KEYS = frozenset({"sampleid", "seqn", "record id", "visit id", "pt id", "id", "ids",
                            "identifier", "identifiers", "patient_id"})


def render_report(metrics: Mapping[str, Any], out_pdf: Path,
                  figures_data: Mapping[str, Any] | None = None) -> Path:
    """Render the study report to ``out_pdf`` (atomic write) and return its path.

    Parameters
    ----------
    metrics
        A ``metrics.json`` dict (see ``docs/api.md``). Optional sections (``paired_differences``,
        ``calibration``, ``km_by_acceleration_quartile``, ``bioage``) may be absent; the page
        then says so, with the reason from ``metrics["notes"]`` when given.
    out_pdf
        Output file.
    figures_data
        Optional replacements for the figure inputs, same shape as the corresponding sections
        of ``metrics``: ``calibration``, ``km_by_acceleration_quartile`` and ``bioage_clocks``
        (e.g. a denser scatter sample). Numbers printed in text always come from ``metrics``.

    Raises
    ------
    SurvageInputError
        A required section is missing or an identifier-like key is present.
    """
    check_metrics(metrics)
    fd = dict(figures_data or {})
    story = _story(metrics, fd)
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=1.6 * cm, rightMargin=1.6 * cm,
                            topMargin=1.6 * cm, bottomMargin=1.6 * cm, title=str(metrics["title"]),
                            author="survage", subject="survival study report",
                            invariant=1)
    footer = f"{metrics['title']} \u2013 survage {metrics['methods'].get('versions', {}).get('survage', '')}"

    def on_page(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(1.6 * cm, 0.9 * cm, footer)
        canvas.drawRightString(A4[0] - 1.6 * cm, 0.9 * cm, f"page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return atomic_write_bytes(Path(out_pdf), buf.getvalue())


def check_metrics(metrics: Mapping[str, Any]) -> None:
    """Raise :class:`SurvageInputError` for a missing section or an identifier-like key."""
    missing = [s for s in REQUIRED_SECTIONS if s not in metrics]
    if missing:
        raise SurvageInputError(f"metrics.json lacks section(s) {missing}", column=missing[0],
                                expected=f"sections {list(REQUIRED_SECTIONS)}")
    bad = _forbidden_keys(metrics, "")
    if bad:
        raise SurvageInputError("metrics.json must not hold identifiers", column=bad[0],
                                expected="no identifier keys")


def _forbidden_keys(x: Any, where: str) -> list[str]:
    out: list[str] = []
    if isinstance(x, Mapping):
        for k, v in x.items():
            key = f"{where}.{k}" if where else str(k)
            # the config and cohort roles may *name* the identifier column; they hold no values
            if str(k).strip().lower() in FORBIDDEN_KEYS and not key.startswith("methods."):
                out.append(key)
            out.extend(_forbidden_keys(v, key))
    elif isinstance(x, list):
        for v in x[:50]:
            out.extend(_forbidden_keys(v, where))
    return out


# ------------------------------------------------------------------------------ layout
_styles, _table, _esc, _image, _absent = layout.styles, layout.table, layout.esc, layout.image, layout.absent


def _story(metrics: Mapping[str, Any], fd: Mapping[str, Any]) -> list[Any]:
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, Spacer

    st = _styles()
    width = 17.8 * cm
    s: list[Any] = []
    pages: list[Callable[[], list[Any]]] = [
        lambda: _cohort_page(metrics, st),
        lambda: _models_page(metrics, st),
        lambda: _calibration_page(metrics, fd, st, width),
        lambda: bioage_pages.km_page(metrics, fd, st, width),
        lambda: bioage_pages.scatter_page(metrics, fd, st, width),
        lambda: bioage_pages.hr_page(metrics, fd, st, width),
        lambda: bioage_pages.kdm_holdout_page(metrics, st, width),
        lambda: secondary_pages.dxa_page(metrics, st),
        lambda: _methods_page(metrics, st),
    ]
    s.append(Paragraph(_esc(metrics["title"]), st["title"]))
    if metrics.get("subtitle"):
        s.append(Paragraph(_esc(metrics["subtitle"]), st["body"]))
    s.append(Spacer(1, 0.2 * cm))
    for i, page in enumerate(pages):
        if i:
            s.append(PageBreak())
        s.extend(page())
    return s


def _cohort_page(m: Mapping[str, Any], st: Mapping[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph, Spacer

    c = m["cohort"]
    out: list[Any] = [Paragraph("1. Cohort", st["h1"]),
                      Paragraph(_esc(f"Data: {c.get('source', '')}. Design: {c.get('design', '')}."), st["body"]),
                      tables_block(tables.cohort_rows(m), st)]
    t1 = c.get("table1")
    if t1:
        out += [Spacer(1, 6), Paragraph(_esc(
            f"Table 1. {t1.get('population', '')} by {t1['outcome']} status at the end of follow-up"),
            st["h2"]), _table(tables.table1_rows(m), st)]
    out += [Spacer(1, 6), Paragraph("Exclusions", st["h2"])]
    if m["exclusions"]:
        out.append(_table(tables.exclusion_rows(m), st))
    else:
        out.append(Paragraph("No rows were excluded.", st["body"]))
    return out


def tables_block(rows: Sequence[Sequence[str]], st: Mapping[str, Any]) -> Any:
    """A plain table (exposed for callers composing their own pages)."""
    return _table(rows, st)


def _models_page(m: Mapping[str, Any], st: Mapping[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph, Spacer

    out: list[Any] = [Paragraph("2. Model comparison (test set)", st["h1"]), Paragraph(
        "Estimates with 95% bootstrap confidence intervals. Harrell C: concordance (Harrell 1982); "
        "Uno C: IPCW concordance truncated at the last horizon (Uno 2011); AUC: cumulative/dynamic "
        "AUC (Uno 2007); IBS: integrated Brier score (Graf 1999), lower is better.", st["small"])]
    outcomes = [m["primary_outcome"], *[o for o in m.get("outcomes", []) if o != m["primary_outcome"]]]
    for o in outcomes:
        rows = tables.model_rows(m, o)
        if len(rows) > 1:
            out += [Spacer(1, 6), Paragraph(_esc(f"Outcome: {o}"), st["h2"]), _table(rows, st)]
    out += [Spacer(1, 6), Paragraph("Paired bootstrap differences against the best single-modality model",
                                    st["h2"])]
    if m.get("paired_differences"):
        ref = m.get("paired_reference")
        if ref:
            out.append(Paragraph(_esc(f"Reference model: {m['models'].get(ref, {}).get('label', ref)}."),
                                 st["small"]))
        out.append(_table(tables.paired_rows(m), st))
    else:
        out.append(_absent(m, "paired_differences", st))
    return out


def _calibration_page(m: Mapping[str, Any], fd: Mapping[str, Any], st: Mapping[str, Any],
                      width: float) -> list[Any]:
    from reportlab.platypus import Paragraph, Spacer

    out: list[Any] = [Paragraph("3. Calibration", st["h1"])]
    cal = m.get("calibration")
    if not cal:
        return out + [_absent(m, "calibration", st)]
    label = m["models"].get(cal["model"], {}).get("label", cal["model"])
    out += [Paragraph(_esc(f"Model: {label}; outcome: {cal['outcome']}. Method: {cal['method']}. "
                           "ICI: mean absolute difference between smoothed observed and predicted "
                           "risk; E50, E90: its median and 90th percentile."), st["small"]),
            _image(figures.calibration_figure(fd.get("calibration", cal)), width, 9.5 * 28.35),
            Spacer(1, 6), _table(tables.calibration_rows(m), st)]
    return out


def _methods_page(m: Mapping[str, Any], st: Mapping[str, Any]) -> list[Any]:
    from reportlab.platypus import Paragraph, Spacer

    me = m["methods"]
    out: list[Any] = [Paragraph("9. Methods and model card", st["h1"]),
                      Paragraph(_esc(f"Data: {me.get('data', '')}"), st["body"]),
                      Paragraph(_esc(f"Seed: {me.get('seed')}. PhenoAge constant c = {me.get('phenoage_constant')}. "
                                     f"Created: {me.get('created', '')}."), st["body"])]
    for para in me.get("text", []):
        out.append(Paragraph(_esc(para), st["small"]))
    if me.get("model_card"):
        out += [Spacer(1, 4), Paragraph("Models", st["h2"]),
                _table([["Model", "Description"]] + [[k, v] for k, v in me["model_card"].items()], st)]
    out += [Spacer(1, 4), Paragraph("Software versions", st["h2"]),
            _table([["Package", "Version"]] + tables.key_value_rows(me.get("versions", {})), st)]
    out += [Spacer(1, 4), Paragraph("Configuration", st["h2"]),
            _table([["Key", "Value"]] + tables.key_value_rows(me.get("config", {})), st)]
    if me.get("references"):
        out += [Spacer(1, 4), Paragraph("References", st["h2"])]
        out += [Paragraph(_esc(r), st["small"]) for r in me["references"]]
    return out
