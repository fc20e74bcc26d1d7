"""Tables of the report as rows of strings, built only from a ``metrics.json`` dict.

Every number the report prints is formatted here (or in the figure captions) from the metrics
dict, with one precision per kind of number, so that a reader of ``metrics.json`` can find what
the PDF shows. Schema: ``docs/api.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: printed decimals per kind of number
PRECISION = {"c": 3, "auc": 3, "ibs": 3, "ici": 3, "hr": 2, "years": 2, "corr": 2, "p": 3, "chi2": 1}

Row = list[str]


def fmt(x: Any, digits: int) -> str:
    """A number with ``digits`` decimals; missing or non-finite values print as an en dash."""
    if x is None:
        return "\u2013"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "\u2013"
    return f"{v:.{digits}f}"


def fmt_ci(est: Mapping[str, Any] | None, digits: int) -> str:
    """``estimate (lower, upper)`` from an ``{"estimate", "lower", "upper"}`` mapping; a metric too
    few events allow prints its ``not_estimable`` words ("not estimable (3 events)")."""
    if not est:
        return "\u2013"
    if est.get("not_estimable"):
        return str(est["not_estimable"])
    e = fmt(est.get("estimate"), digits)
    lo, hi = est.get("lower"), est.get("upper")
    if lo is None or hi is None:
        return e
    return f"{e} ({fmt(lo, digits)}, {fmt(hi, digits)})"


def fmt_p(p: Any, floor: Any = None) -> str:
    """A p-value: ``<floor`` below the resolution ``floor`` (bootstrap: 2/B), ``<0.001`` below
    0.001, else three decimals."""
    if p is None:
        return "\u2013"
    v = float(p)
    if floor is not None and v < float(floor):
        return f"<{float(floor):.3g}"
    return "<0.001" if v < 0.001 else fmt(v, PRECISION["p"])


def horizon_label(h: Any) -> str:
    """``5`` -> ``"5"``, ``2.5`` -> ``"2.5"`` (the key used in ``metrics.json``)."""
    return f"{float(h):g}"


def table1_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """Table 1: header then ``(variable, alive, died)`` rows."""
    t1 = metrics["cohort"]["table1"]
    return [list(t1["columns"])] + [list(map(str, r)) for r in t1["rows"]]


def cohort_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """People and events per part of the design."""
    c = metrics["cohort"]
    parts = list(c["n"])
    outcomes = list(c["events"])
    rows: list[Row] = [["", *[p.capitalize() for p in parts]]]
    rows.append(["People", *[f"{int(c['n'][p]):,}" for p in parts]])
    for o in outcomes:
        rows.append([f"Events: {o}", *[f"{int(c['events'][o].get(p, 0)):,}" for p in parts]])
    fu = c.get("median_follow_up_years")
    if fu:
        rows.append(["Median follow-up, years", *[fmt(fu.get(p), 1) for p in parts]])
    return rows


def exclusion_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """Exclusions with scope, column, reason and number of rows."""
    rows: list[Row] = [["Scope", "Column", "Reason", "Rows"]]
    for e in metrics.get("exclusions", []):
        rows.append([str(e["scope"]), str(e.get("column", "")), str(e["reason"]), f"{int(e['n_rows']):,}"])
    return rows


def model_rows(metrics: Mapping[str, Any], outcome: str) -> list[Row]:
    """Model comparison for ``outcome``: C (Harrell, Uno), AUC per horizon, IBS, with 95 % CIs."""
    hs = [horizon_label(h) for h in metrics["horizons"]]
    rows: list[Row] = [["Model", "Harrell C", "Uno C", *[f"AUC {h} y" for h in hs], "IBS"]]
    for name, m in metrics["models"].items():
        mm = m["metrics"].get(outcome)
        if mm is None:
            continue
        rows.append([m.get("label", name), fmt_ci(mm.get("harrell_c"), PRECISION["c"]),
                     fmt_ci(mm.get("uno_c"), PRECISION["c"]),
                     *[fmt_ci(mm.get("td_auc", {}).get(h), PRECISION["auc"]) for h in hs],
                     fmt_ci(mm.get("ibs"), PRECISION["ibs"])])
    return rows


def paired_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """Paired bootstrap differences of each model against the reference model."""
    rows: list[Row] = [["Outcome", "Model", "Reference", "Metric", "Difference (95% CI)", "p"]]
    labels = {n: m.get("label", n) for n, m in metrics["models"].items()}
    for d in metrics.get("paired_differences", []):
        rows.append([d["outcome"], labels.get(d["model"], d["model"]),
                     labels.get(d["reference"], d["reference"]), d["metric"],
                     fmt_ci(d["difference"], PRECISION["c"]), fmt_p(d.get("p_value"), d.get("p_floor"))])
    return rows


def calibration_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """ICI, E50, E90 per horizon, plus observed (KM) and mean predicted risk."""
    cal = metrics["calibration"]
    rows: list[Row] = [["Horizon", "ICI", "E50", "E90", "Observed risk (KM)", "Mean predicted risk"]]
    for h, c in cal["horizons"].items():
        rows.append([f"{h} y", fmt(c["ici"], PRECISION["ici"]), fmt(c["e50"], PRECISION["ici"]),
                     fmt(c["e90"], PRECISION["ici"]), fmt(c.get("observed_risk"), PRECISION["ici"]),
                     fmt(c.get("mean_predicted_risk"), PRECISION["ici"])])
    return rows


def _clock_row(name: str, c: Mapping[str, Any]) -> Row:
    lr = c.get("lr_gain") or {}
    return [
        c.get("label", name), f"{int(c['n']):,}", f"{int(c.get('events', 0)):,}",
        fmt(c["correlation"], PRECISION["corr"]),
        f"{fmt(c['mean_acceleration'], PRECISION['years'])} ({fmt(c['se_acceleration'], PRECISION['years'])})",
        fmt(c.get("sd_acceleration"), PRECISION["years"]),
        fmt_ci(c.get("hr_per_sd"), PRECISION["hr"]), fmt_ci(c.get("hr_per_year"), PRECISION["hr"]),
        f"{fmt(lr.get('chi2'), PRECISION['chi2'])} ({fmt_p(lr.get('p_value'))})",
        fmt_ci(c.get("c_index"), PRECISION["c"]),
    ]


def clock_rows(section: Mapping[str, Any]) -> tuple[list[Row], list[int]]:
    """Per clock (same rows for all): n, events, r(BA, CA), mean (SE) and SD of raw acceleration,
    HR per SD and per year, LR gain over age, C of age + acceleration; then the lines of
    ``clocks_all_rows`` (other rows, labelled). Returns the rows and the body rows that start a
    new block (for a rule)."""
    rows: list[Row] = [["Clock", "n", "Events", "r(BA, CA)", "Mean accel., y (SE)", "SD accel., y",
                        "HR per SD", "HR per year", "LR gain \u03c7\u00b2 (p)", "C (age + accel.)"]]
    rows += [_clock_row(n, c) for n, c in section["clocks"].items()]
    rules = []
    extra = section.get("clocks_all_rows") or {}
    if extra:
        rules.append(len(rows))
        rows += [_clock_row(n, c) for n, c in extra.items()]
    return rows, rules


def bioage_rows(metrics: Mapping[str, Any]) -> list[Row]:
    """:func:`clock_rows` of the ``bioage`` section (rows only)."""
    return clock_rows(metrics["bioage"])[0]


def truth_rows(truth: Mapping[str, Any]) -> list[Row]:
    """``bioage.truth``: Pearson r (95% CI) of biological and of chronological age with the
    simulator's true biological age, their difference, and the error BA - true BA."""
    c, y = PRECISION["corr"], PRECISION["years"]
    return [["Age", "r with true BA (95% CI)", "Mean error, y", "SD error, y"],
            ["Biological age (survage)", fmt_ci(truth.get("r_biological_age"), c),
             fmt(truth.get("error_mean"), y), fmt(truth.get("error_sd"), y)],
            ["Chronological age", fmt_ci(truth.get("r_chronological_age"), c), "\u2013", "\u2013"],
            ["Difference (BA - CA)", fmt_ci(truth.get("r_difference"), c), "", ""]]


def hr_rows(section: Mapping[str, Any]) -> tuple[list[Row], list[int]]:
    """Hazard ratios per clock of raw (BA - CA) and residual (age-adjusted) acceleration."""
    h = PRECISION["hr"]
    rows: list[Row] = [["Clock", "Raw: HR per SD", "Raw: HR per year", "Raw: SD, y",
                        "Residual: HR per SD", "Residual: HR per year", "Residual: SD, y"]]
    items = list(section["clocks"].items())
    extra = list((section.get("clocks_all_rows") or {}).items())
    for n, c in items + extra:
        r = c.get("residual") or {}
        rows.append([c.get("label", n), fmt_ci(c.get("hr_per_sd"), h), fmt_ci(c.get("hr_per_year"), h),
                     fmt(c.get("sd_acceleration"), PRECISION["years"]), fmt_ci(r.get("hr_per_sd"), h),
                     fmt_ci(r.get("hr_per_year"), h), fmt(r.get("sd_acceleration"), PRECISION["years"])])
    return rows, ([len(items) + 1] if extra else [])


def dxa_model_rows(section: Mapping[str, Any]) -> list[Row]:
    """DXA secondary analysis: out-of-fold Harrell C (95% CI) and the per-fold C of each model."""
    rows: list[Row] = [["Model", "Out-of-fold Harrell C (95% CI)", "Per-fold C"]]
    for name, m in section["models"].items():
        rows.append([m.get("label", name), fmt_ci(m["harrell_c"], PRECISION["c"]),
                     ", ".join(fmt(c, PRECISION["c"]) for c in m.get("fold_harrell_c", []))])
    return rows


def dxa_difference_rows(section: Mapping[str, Any]) -> list[Row]:
    """DXA secondary analysis: paired bootstrap differences of Harrell C."""
    labels = {n: m.get("label", n) for n, m in section["models"].items()}
    rows: list[Row] = [["Model", "Reference", "Difference in C (95% CI)", "p", "CI spans 0"]]
    for d in section["differences"]:
        lo, hi = d["difference"].get("lower"), d["difference"].get("upper")
        spans = "\u2013" if lo is None or hi is None else ("yes" if lo <= 0 <= hi else "no")
        rows.append([labels.get(d["model"], d["model"]), labels.get(d["reference"], d["reference"]),
                     fmt_ci(d["difference"], PRECISION["c"]), fmt_p(d.get("p_value"), d.get("p_floor")), spans])
    return rows


def key_value_rows(mapping: Mapping[str, Any], *, prefix: str = "") -> list[Row]:
    """Flatten a nested mapping into ``(dotted key, value)`` rows (for the methods page)."""
    rows: list[Row] = []
    for k, v in mapping.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            rows.extend(key_value_rows(v, prefix=f"{key}."))
        elif isinstance(v, Sequence) and not isinstance(v, str):
            rows.append([key, ", ".join(str(x) for x in v)])
        else:
            rows.append([key, str(v)])
    return rows
