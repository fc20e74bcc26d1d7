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


def _hr_block(t: np.ndarray, e: np.ndarray, acc: np.ndarray, a: np.ndarray) -> tuple[dict[str, Any], Any]:
    """Age-adjusted Cox hazard ratio of ``acc`` per year and per SD, LR gain over age alone."""
    from survage.metrics.hazard_ratio import hazard_ratio_per_unit

    hr = hazard_ratio_per_unit(t, e, acc, a)
    return {
        "mean_acceleration": float(acc.mean()),
        "se_acceleration": float(acc.std(ddof=1) / np.sqrt(acc.size)),
        "sd_acceleration": float(acc.std(ddof=1)),
        "hr_per_year": {"estimate": hr.hr_per_unit, "lower": hr.ci_per_unit[0], "upper": hr.ci_per_unit[1]},
        "hr_per_sd": {"estimate": hr.hr_per_sd, "lower": hr.ci_per_sd[0], "upper": hr.ci_per_sd[1]},
        "lr_gain": {"chi2": hr.lr_statistic, "df": 1, "p_value": hr.lr_p_value},
    }, hr


def clock_summary(label: str, short: str, ba: np.ndarray, ca: np.ndarray, time: np.ndarray, event: np.ndarray, *,
                  scatter_points: int, seed: int, note: str = "", residual: Any = None) -> dict[str, Any]:
    """The ``bioage.clocks[name]`` entry of ``metrics.json`` for one clock (rows with BA only).

    Parameters
    ----------
    label, short, note
        Names for the report.
    ba, ca, time, event
        Biological and chronological age, follow-up (years) and event per person.
    scatter_points, seed
        Size and seed of the stored (CA, BA) sample.
    residual
        A fitted :class:`survage.bioage.ResidualAcceleration` (BA on CA, fitted on training
        rows); when given, the entry has a ``residual`` block with the same hazard ratios for
        the age-adjusted acceleration ``BA - (intercept + slope CA)``.

    Notes
    -----
    With chronological age in the Cox model, raw (BA - CA) and residual acceleration span the
    same linear predictor: the LR gain, the C-index and the HR per year are identical; only the
    SD, hence the HR per SD, differs (the residual SD is smaller when BA spreads with age).
    Cox 1972, doi:10.1111/j.2517-6161.1972.tb00899.x; Levine et al. 2018, doi:10.18632/aging.101414.
    """
    from survage.metrics.concordance import harrell_c

    ok = np.isfinite(ba) & np.isfinite(ca) & np.isfinite(time) & np.isfinite(event)
    if ok.sum() < 20 or event[ok].sum() < 5:
        raise SurvageInputError(f"clock {label!r} has too few people or events with a value",
                                column=label, expected="at least 20 people and 5 events")
    b, a, t, e = ba[ok], ca[ok], time[ok], event[ok]
    block, hr = _hr_block(t, e, b - a, a)
    lp = hr.age_coef * a + hr.coef * (b - a)
    xs, ys = sample_points(a, b, scatter_points, seed)
    out: dict[str, Any] = {
        "label": label,
        "short": short,
        "note": note,
        "n": int(ok.sum()),
        "events": int(e.sum()),
        "correlation": float(np.corrcoef(b, a)[0, 1]),
        **block,
        "c_index": {"estimate": float(harrell_c(t, e, lp).estimate), "lower": None, "upper": None},
        "scatter": {"chronological_age": xs, "biological_age": ys},
    }
    if residual is not None:
        rblock, _ = _hr_block(t, e, residual.transform(b, a), a)
        out["residual"] = {"intercept": float(residual.intercept_), "slope": float(residual.slope_),
                           "fitted_on_n": int(residual.n_), **rblock}
    return out


def residual_model(ba_train: np.ndarray, ca_train: np.ndarray) -> Any:
    """:class:`survage.bioage.ResidualAcceleration` fitted on the training rows where BA exists
    (None when fewer than 20 such rows)."""
    from survage.bioage import ResidualAcceleration

    ok = np.isfinite(ba_train) & np.isfinite(ca_train)
    if ok.sum() < 20:
        return None
    return ResidualAcceleration().fit(ba_train[ok], ca_train[ok])


def km_by_quartile(acc: np.ndarray, time: np.ndarray, event: np.ndarray, *, outcome: str, clock_label: str,
                   population: str, ages: np.ndarray | None = None, acceleration: str = "raw", acceleration_note: str = "",
                   age_bands: Sequence[float] | None = None, max_points: int = 400) -> dict[str, Any]:
    """Kaplan-Meier curves of ``outcome`` by quartile of acceleration (Kaplan & Meier 1958,
    doi:10.1080/01621459.1958.10501452), as step-curve points for the report.

    ``acceleration`` names the kind (``residual``: age-adjusted, ``raw``: BA - CA) and
    ``acceleration_note`` says how it was computed; both are stored for the caption. Quartiles of
    raw acceleration mostly sort people by age when the spread of BA changes with age, so the
    study passes the residual acceleration; with ``ages`` and ``age_bands`` (band edges, years)
    the quartiles are formed within each age band, so that every quartile has the same age mix.
    """
    from lifelines import KaplanMeierFitter

    ok = np.isfinite(acc) & np.isfinite(time) & np.isfinite(event)
    a, t, e = acc[ok], time[ok], event[ok]
    ag = None if ages is None else np.asarray(ages, float)[ok]
    edges = np.quantile(a, [0, 0.25, 0.5, 0.75, 1.0])
    q = np.clip(np.searchsorted(edges[1:-1], a, side="right"), 0, 3)
    band_edges: list[dict[str, Any]] = []
    if age_bands is not None and ag is not None:
        band = np.digitize(ag, np.asarray(age_bands, float)[1:-1])
        for b in np.unique(band):
            m = band == b
            be = np.quantile(a[m], [0, 0.25, 0.5, 0.75, 1.0])
            q[m] = np.clip(np.searchsorted(be[1:-1], a[m], side="right"), 0, 3)
            band_edges.append({"ages": [float(ag[m].min()), float(ag[m].max())], "n": int(m.sum()),
                               "quartile_edges": [float(x) for x in be]})
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
                       "mean_age": None if ag is None else float(ag[m].mean()),
                       "time": [round(float(x), 4) for x in tt], "survival": [round(float(x), 5) for x in ss]})
    return {"outcome": outcome, "clock_label": clock_label, "population": population,
            "acceleration": acceleration, "acceleration_note": acceleration_note,
            "quartile_edges": [float(x) for x in edges], "within_age_bands": band_edges,
            "groups": groups}


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


def fit_kdm(train_frame: Any) -> Any:
    """:class:`survage.bioage.KlemeraDoubal` fitted per sex on ``train_frame`` (its own rule:
    ages 30-75, ``pregnant == 0``; Klemera & Doubal 2006, doi:10.1016/j.mad.2005.10.005)."""
    from survage.bioage.kdm import KlemeraDoubal

    return KlemeraDoubal().fit(train_frame, age="age", sex="gender")


def _check_kdm_columns(biomarkers: Sequence[str], frame: Any) -> None:
    missing = [c for c in (*biomarkers, "gender") if c not in frame]
    if missing:
        raise SurvageInputError("KDM needs columns absent from the data", column=missing[0],
                                expected=f"columns {list(biomarkers)}")
    present = frame[list(biomarkers)].notna().all(axis=1)
    if not present.any():
        absent = [c for c in biomarkers if frame[c].notna().sum() == 0]
        raise SurvageInputError("KDM cannot be computed on these rows", column=(absent or ["?"])[0],
                                expected="every KDM biomarker measured")


def kdm_predict(kdm: Any, frame: Any) -> np.ndarray:
    """KDM age of the rows of ``frame`` (NaN where a biomarker is missing); raises when a
    biomarker column is absent or never measured on these rows."""
    _check_kdm_columns(kdm.biomarkers, frame)
    return kdm.predict(frame, age="age", sex="gender").to_numpy(dtype=float)


def kdm_for(train_frame: Any, test_frame: Any) -> np.ndarray:
    """Klemera-Doubal age (BioAge recipe, per sex) fitted on training rows, predicted on test rows."""
    from survage.bioage.kdm import KDM_BIOMARKERS

    _check_kdm_columns(KDM_BIOMARKERS, test_frame)  # before fitting: fails fast on the test data
    return kdm_predict(fit_kdm(train_frame), test_frame)


def quartile_labels(values: Sequence[float]) -> list[str]:
    """``Q1`` .. ``Q4``."""
    return [f"Q{k + 1}" for k in range(len(values))]
