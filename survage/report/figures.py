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
    kind = "age-adjusted (residual) " if km.get("acceleration") == "residual" else ""
    ax.set_title(f"Kaplan-Meier by quartile of {kind}age acceleration", fontsize=9)
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


#: candidate tick positions of the hazard-ratio axis (log scale), most wanted first
HR_TICKS = (1.0, 2.0, 1.5, 1.25, 1.1, 0.8, 0.5, 3.0, 5.0, 0.9, 1.05, 0.67, 2.5, 4.0, 0.95)


def hr_ticks(lo: float, hi: float, max_ticks: int = 9) -> list[float]:
    """Readable tick positions between ``lo`` and ``hi`` on a log axis.

    1 first, then 2, 1.5, 1.25, 1.1, ... and powers of ten for wide ranges, each kept only when it
    lies at least 1/``max_ticks`` of the axis (in log units) from the ticks already kept.
    """
    import math

    span = math.log(hi / lo)
    decades = [10.0 ** k for k in range(-3, 13) if lo <= 10.0 ** k <= hi]
    if hi / lo > 50:  # a wide axis: powers of ten only, at most 6 of them
        step = max(1, math.ceil(len(decades) / 6))
        return decades[::step]
    cands = [1.0, *decades, *HR_TICKS[1:], *[5 * d for d in decades], *[2 * d for d in decades]]
    kept: list[float] = []
    for t in cands:
        if lo <= t <= hi and all(abs(math.log(t / k)) >= span / max_ticks for k in kept):
            kept.append(t)
    return sorted(kept)


def hazard_ratio_figure(clocks: Mapping[str, Any], title: str = "") -> bytes:
    """Forest plot of age-adjusted hazard ratios of acceleration: per SD (raw and residual), per year.

    The x-axis is logarithmic with readable ticks (1, 1.1, 1.25, 1.5, 2, ...); each point carries
    its estimate and 95 % CI as text.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    rows: list[tuple[str, float, float, float, str]] = []
    for name, c in clocks.items():
        short = c.get("short", name)
        for key, what, color, block in (("hr_per_sd", "per SD", "C0", c), ("hr_per_sd", "per SD, residual", "C2",
                                        c.get("residual") or {}), ("hr_per_year", "per year", "C1", c)):
            est = block.get(key)
            if not est or est.get("estimate") is None:
                continue
            e = float(est["estimate"])
            lo = float(est["lower"] if est.get("lower") is not None else e)
            hi = float(est["upper"] if est.get("upper") is not None else e)
            rows.append((f"{short} {what}", e, lo, hi, color))
    fig = _new_figure(6.4, 1.0 + 0.32 * max(len(rows), 1))
    ax = fig.subplots()
    d = PRECISION["hr"]
    for y, (_, e, lo, hi, color) in enumerate(rows):
        ax.errorbar([e], [y], xerr=[[e - lo], [hi - e]], fmt="s", color=color, capsize=3, ms=4)
        ax.annotate(f"{fmt(e, d)} ({fmt(lo, d)}, {fmt(hi, d)})", (hi, y), xytext=(5, 0),
                    textcoords="offset points", va="center", fontsize=7)
    lo_all = min([r[2] for r in rows] + [1.0]) / 1.04
    hi_all = max([r[3] for r in rows] + [1.0])
    ax.set_xscale("log")
    ax.set_xlim(lo_all, hi_all * 1.45)  # room for the text labels
    ax.axvline(1.0, color="0.5", lw=1, ls="--")
    ticks = hr_ticks(lo_all, hi_all * 1.45)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("Hazard ratio (95% CI, log scale), adjusted for chronological age")
    if title:
        ax.set_title(title, fontsize=9)
    return _png(fig)


def sample_points(x: Sequence[float], y: Sequence[float], k: int, seed: int) -> tuple[list[float], list[float]]:
    """At most ``k`` of the pairs ``(x, y)``, a seeded random sample, rounded to 0.1."""
    import numpy as np

    n = len(x)
    idx = np.arange(n) if n <= k else np.sort(np.random.default_rng(seed).choice(n, k, replace=False))
    xs = np.round(np.asarray(x, float)[idx], 1)
    ys = np.round(np.asarray(y, float)[idx], 1)
    return xs.tolist(), ys.tolist()
