"""The study report: a PDF rendered from ``metrics.json`` (schema in ``docs/api.md``)."""

from survage.report.pdf import check_metrics, render_report

__all__ = ["check_metrics", "render_report"]
