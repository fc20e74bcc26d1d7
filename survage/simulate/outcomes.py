"""Death, censoring and the non-fatal diagnoses of the simulator (day counts from the CT).

All-cause death follows a Gompertz hazard in biological age, h(t) = exp(alpha + beta (BA + t));
each diagnosis k has its own Gompertz hazard in time, exp(lp_k + b_k t), observed only before
death or the end of follow-up (a competing risk with death), and may instead be present before
the CT (a negative day count).
"""

from __future__ import annotations

import numpy as np

from survage.data.oppscr_layout import DX_PAIRS
from survage.simulate.parameters import DAYS_PER_YEAR, EventParameters, SimulationParameters

#: the cardiovascular processes whose first diagnosis fills the CVD DX pair, with its text
CVD_COMPONENTS: dict[str, str] = {
    "stroke": "Stroke", "mi": "Acute myocardial infarction",
    "heart_failure": "Heart failure", "other_cvd": "Peripheral vascular disease",
}

#: diagnosis text of each DX pair (cancer sites and CVD are drawn separately)
DX_TEXT: dict[str, str] = {
    "heart_failure": "Heart failure, unspecified",
    "mi": "Acute myocardial infarction, unspecified",
    "diabetes": "Type 2 diabetes mellitus without complications",
    "femoral_neck_fracture": "Fracture of neck of femur",
    "unspec_femoral_fracture": "Fracture of unspecified part of femur",
    "forearm_fracture": "Fracture of forearm",
    "humerus_fracture": "Fracture of upper end of humerus",
    "pathologic_fracture": "Pathological fracture, unspecified site",
    "alzheimers": "Alzheimer's disease, unspecified",
}

#: primary cancer sites by sex, with probabilities
CANCER_SITES: dict[int, tuple[tuple[str, ...], tuple[float, ...]]] = {
    1: (("Prostate", "Lung", "Colon", "Bladder", "Melanoma of skin", "Kidney", "Pancreas",
         "Non-Hodgkin lymphoma"), (0.30, 0.17, 0.12, 0.10, 0.09, 0.09, 0.06, 0.07)),
    0: (("Breast", "Lung", "Colon", "Uterus", "Thyroid", "Melanoma of skin", "Ovary", "Pancreas"),
        (0.33, 0.17, 0.12, 0.10, 0.08, 0.08, 0.06, 0.06)),
}

#: pre-CT window for prevalent diagnoses (days before the CT)
PREVALENT_DAYS = (30, 15 * 365)


def gompertz_times(rng: np.random.Generator, log_rate0: np.ndarray, slope: float) -> np.ndarray:
    """Event times (years) for hazards h(t) = exp(log_rate0 + slope * t), by inversion.

    H(t) = exp(log_rate0) (exp(slope t) - 1) / slope, so with E ~ Exp(1),
    T = log(1 + slope E exp(-log_rate0)) / slope (Bender, Augustin & Blettner 2005,
    Stat Med 24:1713, doi:10.1002/sim.2059).
    """
    e = rng.exponential(size=len(log_rate0))
    return np.log1p(slope * e * np.exp(-log_rate0)) / slope


def _linear_predictor(p: EventParameters, age: np.ndarray, covariates: dict[str, np.ndarray]) -> np.ndarray:
    lp = p.intercept + p.slope * (age - 57.0)
    for name, w in p.loadings.items():
        lp = lp + w * covariates[name]
    return lp


def _days(t_years: np.ndarray) -> np.ndarray:
    return np.maximum(np.rint(t_years * DAYS_PER_YEAR), 1.0)


def simulate_history(
    rng: np.random.Generator, *, age: np.ndarray, covariates: dict[str, np.ndarray],
    params: SimulationParameters,
) -> dict[str, np.ndarray]:
    """Conditions present before the CT: negative day counts (NaN = not prevalent).

    P(prevalent_k) = 1 - exp(-exp(lp_k) * prevalent_years_k), the diagnosis day uniform over
    :data:`PREVALENT_DAYS` before the CT. ``cancer_2`` is never prevalent.
    """
    n = len(age)
    out = {}
    for name, p in params.events.items():
        if name == "cancer_2":
            continue
        lp = _linear_predictor(p, age, covariates)
        prev = rng.random(n) < -np.expm1(-np.exp(lp) * p.prevalent_years)
        days = -rng.integers(*PREVALENT_DAYS, size=n).astype(float)
        out[name] = np.where(prev, days, np.nan)
    return out


def simulate_outcomes(
    rng: np.random.Generator, *, age: np.ndarray, male: np.ndarray, log_hazard: np.ndarray,
    covariates: dict[str, np.ndarray], history: dict[str, np.ndarray],
    params: SimulationParameters,
) -> dict[str, np.ndarray]:
    """Follow-up, death and every DX pair, as day counts and texts.

    Parameters
    ----------
    rng
        Random generator.
    age, male
        Age at CT (years) and sex (1 = male).
    log_hazard
        Baseline log hazard of death, alpha + beta * BA.
    covariates
        Named per-person covariates the diagnosis hazards load on (latent factors, ``ageing``,
        ``adiposity``, ``male``).
    history
        Prevalent conditions from :func:`simulate_history` (no incident diagnosis is drawn
        for a condition already present).
    params
        Model parameters.

    Returns
    -------
    dict
        ``followup_days``, ``death_days`` (NaN = alive) and, per DX pair event ``e``,
        ``{e}_dx`` (object array of text or None) and ``{e}_days`` (NaN = none).
    """
    n = len(age)
    beta = params.gompertz_beta
    t_death = gompertz_times(rng, log_hazard, beta)
    lo, hi = params.followup_range
    cens = rng.uniform(lo, hi, n)
    drop = rng.random(n) < params.dropout_fraction
    cens = np.where(drop, rng.uniform(params.dropout_floor, cens), cens)
    died = t_death <= cens
    end = np.where(died, t_death, cens)
    fu_days = _days(end)
    out: dict[str, np.ndarray] = {"followup_days": fu_days,
                                  "death_days": np.where(died, fu_days, np.nan)}

    days: dict[str, np.ndarray] = {}
    for name, p in params.events.items():
        if name == "cancer_2":
            continue
        lp = _linear_predictor(p, age, covariates)
        prev = ~np.isnan(history[name])
        t = gompertz_times(rng, lp, p.slope)
        inc = ~prev & (t <= end)
        days[name] = np.where(prev, history[name], np.where(inc, np.minimum(_days(t), fu_days), np.nan))

    # CVD = the first of the cardiovascular processes (a prevalent one first of all)
    comp = list(CVD_COMPONENTS)
    d = np.column_stack([days[c] for c in comp])
    filled = np.where(np.isnan(d), np.inf, d)
    first = np.argmin(filled, axis=1)
    cvd_days = filled[np.arange(n), first]
    has = np.isfinite(cvd_days)
    cvd_text = np.array([CVD_COMPONENTS[comp[k]] for k in first], dtype=object)
    out["cvd_days"] = np.where(has, cvd_days, np.nan)
    out["cvd_dx"] = np.where(has, cvd_text, None)

    for _, _, event in DX_PAIRS:
        if event in ("cvd", "cancer_1", "cancer_2"):
            continue
        out[f"{event}_days"] = days[event]
        out[f"{event}_dx"] = np.where(np.isnan(days[event]), None, DX_TEXT[event])

    # cancers: a first primary, then a second primary after the first (or after the CT)
    c1 = days["cancer_1"]
    p2 = params.events["cancer_2"]
    lp2 = _linear_predictor(p2, age, covariates)
    start = np.where(np.isnan(c1), np.inf, np.maximum(c1, 0.0) / DAYS_PER_YEAR)
    t2 = start + gompertz_times(rng, lp2, p2.slope)
    c2 = np.where(np.isfinite(start) & (t2 <= end),
                  np.minimum(np.maximum(_days(t2), np.maximum(c1, 0.0) + 1.0), fu_days), np.nan)
    out["cancer_1_days"], out["cancer_2_days"] = c1, c2
    for key, dd in (("cancer_1", c1), ("cancer_2", c2)):
        site = np.empty(n, dtype=object)
        for sex in (0, 1):
            names, probs = CANCER_SITES[sex]
            m = male == sex
            site[m] = rng.choice(np.array(names, dtype=object), size=int(m.sum()), p=probs)
        out[f"{key}_dx"] = np.where(np.isnan(dd), None, site)
    return out
