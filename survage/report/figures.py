"""Report figures as PNG bytes, drawn from ``metrics.json`` content.

matplotlib is imported inside each function and used through ``Figure`` + the Agg canvas (never
``pyplot``), so importing this module has no side effects and no global backend is changed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from survage.report.tables import PRECISION, fmt

#: figure DPI (PNG embedded in the PDF)
DPI = 150


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def calibration_figure(calibration: Mapping[str, Any]) -> bytes:
    """Observed against predicted risk, one panel per horizon, with ICI/E50/E90 and the method.

    Parameters
    ----------
    calibration
        The ``calibration`` section of ``metrics.json`` (``method``, ``horizons`` -> ``curve``
        with ``predicted`` and ``observed`` lists, ``ici``, ``e50``, ``e90``).
    """
    hs = list(calibration["horizons"].items())
    fig = _new_figure(3.3 * max(len(hs), 1), 3.4)
    axes = fig.subplots(1, max(len(hs), 1), squeeze=False)[0]
    for ax, (h, c) in zip(axes, hs):
        pred = c["curve"]["predicted"]
        obs = c["curve"]["observed"]
        hi = max([*pred, *obs, 0.05]) * 1.05
        ax.plot([0, hi], [0, hi], color="0.6", lw=1, ls="--", label="ideal")
        ax.plot(pred, obs, color="C0", lw=2, label="smoothed observed")
        if c.get("mean_predicted_risk") is not None and c.get("observed_risk") is not None:
            ax.plot([c["mean_predicted_risk"]], [c["observed_risk"]], "o", color="C3",
                    label="overall (KM)")
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel(f"Predicted {h}-year risk")
        ax.set_ylabel(f"Observed {h}-year risk")
        d = PRECISION["ici"]
        ax.set_title(f"{h} years: ICI {fmt(c['ici'], d)}, E50 {fmt(c['e50'], d)}, "
                     f"E90 {fmt(c['e90'], d)}", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Calibration: {calibration.get('method_short', calibration['method'])}", fontsize=9)
    return _png(fig)


def km_figure(km: Mapping[str, Any]) -> bytes:
    """Kaplan-Meier survival by quartile of age acceleration (step curves from curve points)."""
    fig = _new_figure(6.0, 3.6)
    ax = fig.subplots()
    for i, g in enumerate(km["groups"]):
        ax.step(g["time"], g["survival"], where="post", color=f"C{i}",
                label=f"{g['label']} (n={g['n']:,}, events={g['events']:,})")
    ax.set_xlabel("Years since baseline")
    ax.set_ylabel(f"Survival free of {km['outcome']}")
    ax.set_title("Kaplan-Meier by quartile of age acceleration", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    return _png(fig)


def scatter_figure(clocks: Mapping[str, Any]) -> bytes:
    """Biological against chronological age, one panel per clock, identity line dashed."""
    items = [(n, c) for n, c in clocks.items() if c.get("scatter")]
    fig = _new_figure(3.2 * max(len(items), 1), 3.3)
    axes = fig.subplots(1, max(len(items), 1), squeeze=False)[0]
    for ax, (name, c) in zip(axes, items):
        ca, ba = c["scatter"]["chronological_age"], c["scatter"]["biological_age"]
        ax.scatter(ca, ba, s=3, alpha=0.35, color="C0", rasterized=True)
        lo, hi = min([*ca, *ba]), max([*ca, *ba])
        ax.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--")
        ax.set_xlabel("Chronological age, years")
        ax.set_ylabel("Biological age, years")
        ax.set_title(f"{c.get('short', name)}: r = {fmt(c['correlation'], PRECISION['corr'])}",
                     fontsize=8)
    return _png(fig)


def hazard_ratio_figure(clocks: Mapping[str, Any]) -> bytes:
    """Forest plot of age-adjusted hazard ratios of acceleration, per SD and per year."""
    fig = _new_figure(6.0, 1.0 + 0.4 * 2 * max(len(clocks), 1))
    ax = fig.subplots()
    labels: list[str] = []
    y = 0
    for name, c in clocks.items():
        for key, what in (("hr_per_sd", "per SD"), ("hr_per_year", "per year")):
            est = c.get(key)
            if not est:
                continue
            e, lo, hi = est["estimate"], est.get("lower", est["estimate"]), est.get("upper", est["estimate"])
            ax.errorbar([e], [y], xerr=[[e - lo], [hi - e]], fmt="s", color="C0" if key == "hr_per_sd" else "C1",
                        capsize=3)
            labels.append(f"{c.get('short', name)} {what}")
            y += 1
    ax.axvline(1.0, color="0.5", lw=1, ls="--")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Hazard ratio (95% CI), adjusted for chronological age")
    return _png(fig)


def sample_points(x: Sequence[float], y: Sequence[float], k: int, seed: int) -> tuple[list[float], list[float]]:
    """At most ``k`` of the pairs ``(x, y)``, a seeded random sample, rounded to 0.1."""
    import numpy as np

    n = len(x)
    idx = np.arange(n) if n <= k else np.sort(np.random.default_rng(seed).choice(n, k, replace=False))
    xs = np.round(np.asarray(x, float)[idx], 1)
    ys = np.round(np.asarray(y, float)[idx], 1)
    return xs.tolist(), ys.tolist()
