"""Biological-age clocks on the test set: summaries, hazard ratios, KM by acceleration quartile.

A clock is a biological age per test person. Its acceleration is ``BA - CA`` (years). Each clock
is summarised by its correlation with chronological age, the mean acceleration with its standard
error, and a Cox model of the outcome on age and acceleration (hazard ratio per year and per SD,
likelihood-ratio gain over age alone; Cox 1972, doi:10.1111/j.2517-6161.1972.tb00899.x), whose
linear predictor's Harrell C is reported too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from survage.errors import SurvageInputError
from survage.report.figures import sample_points


def clock_summary(label: str, short: str, ba: np.ndarray, ca: np.ndarray, time: np.ndarray, event: np.ndarray, *,
                  scatter_points: int, seed: int, note: str = "") -> dict[str, Any]:
    """The ``bioage.clocks[name]`` entry of ``metrics.json`` for one clock (rows with BA only)."""
    from survage.metrics.concordance import harrell_c
    from survage.metrics.hazard_ratio import hazard_ratio_per_unit

    ok = np.isfinite(ba) & np.isfinite(ca) & np.isfinite(time) & np.isfinite(event)
    if ok.sum() < 20 or event[ok].sum() < 5:
        raise SurvageInputError(f"clock {label!r} has too few people or events with a value",
                                column=label, expected="at least 20 people and 5 events")
    b, a, t, e = ba[ok], ca[ok], time[ok], event[ok]
    acc = b - a
    hr = hazard_ratio_per_unit(t, e, acc, a)
    lp = hr.age_coef * a + hr.coef * acc
    xs, ys = sample_points(a, b, scatter_points, seed)
    return {
        "label": label,
        "short": short,
        "note": note,
        "n": int(ok.sum()),
        "events": int(e.sum()),
        "correlation": float(np.corrcoef(b, a)[0, 1]),
        "mean_acceleration": float(acc.mean()),
        "se_acceleration": float(acc.std(ddof=1) / np.sqrt(acc.size)),
        "sd_acceleration": float(acc.std(ddof=1)),
        "hr_per_year": {"estimate": hr.hr_per_unit, "lower": hr.ci_per_unit[0], "upper": hr.ci_per_unit[1]},
        "hr_per_sd": {"estimate": hr.hr_per_sd, "lower": hr.ci_per_sd[0], "upper": hr.ci_per_sd[1]},
        "lr_gain": {"chi2": hr.lr_statistic, "df": 1, "p_value": hr.lr_p_value},
        "c_index": {"estimate": float(harrell_c(t, e, lp).estimate), "lower": None, "upper": None},
        "scatter": {"chronological_age": xs, "biological_age": ys},
    }


def km_by_quartile(acc: np.ndarray, time: np.ndarray, event: np.ndarray, *, outcome: str, clock_label: str,
                   population: str, max_points: int = 400) -> dict[str, Any]:
    """Kaplan-Meier curves of ``outcome`` by quartile of acceleration (Kaplan & Meier 1958,
    doi:10.1080/01621459.1958.10501452), as step-curve points for the report."""
    from lifelines import KaplanMeierFitter

    ok = np.isfinite(acc) & np.isfinite(time) & np.isfinite(event)
    a, t, e = acc[ok], time[ok], event[ok]
    edges = np.quantile(a, [0, 0.25, 0.5, 0.75, 1.0])
    q = np.clip(np.searchsorted(edges[1:-1], a, side="right"), 0, 3)
    groups = []
    for k in range(4):
        m = q == k
        km = KaplanMeierFitter().fit(t[m], e[m])
        sf = km.survival_function_
        tt = sf.index.to_numpy(dtype=float)
        ss = sf.iloc[:, 0].to_numpy(dtype=float)
        if tt.size > max_points:  # thin the curve for plotting, keeping the ends
            keep = np.unique(np.r_[np.linspace(0, tt.size - 1, max_points).round().astype(int)])
            tt, ss = tt[keep], ss[keep]
        groups.append({"label": f"Q{k + 1}", "lower": float(a[m].min()), "upper": float(a[m].max()),
                       "n": int(m.sum()), "events": int(e[m].sum()),
                       "time": [round(float(x), 4) for x in tt], "survival": [round(float(x), 5) for x in ss]})
    return {"outcome": outcome, "clock_label": clock_label, "population": population,
            "quartile_edges": [float(x) for x in edges], "groups": groups}


def phenoage_for(frame: Any, constant: float) -> np.ndarray:
    """PhenoAge (Levine 2018, ln CRP) where all nine markers are present and CRP > 0, else NaN."""
    from survage.bioage.phenoage import PHENOAGE_COLUMNS, phenoage

    missing = [c for c in PHENOAGE_COLUMNS if c not in frame]
    if missing:
        raise SurvageInputError("PhenoAge needs columns absent from the data", column=missing[0],
                                expected=f"columns {list(PHENOAGE_COLUMNS)}")
    sub = frame[list(PHENOAGE_COLUMNS)].apply(lambda s: s.astype(float))
    sub.loc[~(sub["crp"] > 0), "crp"] = np.nan
    return phenoage(sub, constant=constant, crp_transform="log").to_numpy(dtype=float)


def kdm_for(train_frame: Any, test_frame: Any) -> np.ndarray:
    """Klemera-Doubal age (BioAge recipe, per sex) fitted on training rows, predicted on test rows."""
    from survage.bioage.kdm import KlemeraDoubal

    kdm = KlemeraDoubal()
    missing = [c for c in (*kdm.biomarkers, "gender") if c not in test_frame]
    if missing:
        raise SurvageInputError("KDM needs columns absent from the data", column=missing[0],
                                expected=f"columns {list(kdm.biomarkers)}")
    present = test_frame[list(kdm.biomarkers)].notna().all(axis=1)
    if not present.any():
        absent = [c for c in kdm.biomarkers if test_frame[c].notna().sum() == 0]
        raise SurvageInputError("KDM cannot be computed on the test rows", column=(absent or ["?"])[0],
                                expected="every KDM biomarker measured in the test data")
    kdm.fit(train_frame, age="age", sex="gender")
    return kdm.predict(test_frame, age="age", sex="gender").to_numpy(dtype=float)


def quartile_labels(values: Sequence[float]) -> list[str]:
    """``Q1`` .. ``Q4``."""
    return [f"Q{k + 1}" for k in range(len(values))]
