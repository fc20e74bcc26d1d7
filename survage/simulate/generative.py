"""The generative model: one simulated person per row, canonical columns, clean numbers.

The equations are in ``docs/simulator.md``. :func:`simulate_cohort` returns the analysis frame
(canonical names of :mod:`survage.data.oppscr_layout`, numbers rather than sheet text);
:func:`survage.simulate.sheet.to_sheet` renders it in the exact sheet layout.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from survage.data.oppscr_layout import COMPOSITE_OUTCOMES, CT_HEADERS, DX_PAIRS, OUTCOMES
from survage.errors import SurvageInputError
from survage.simulate.clinical import simulate_body, simulate_clinical
from survage.simulate.ct_measures import simulate_ct
from survage.simulate.outcomes import simulate_history, simulate_outcomes
from survage.simulate.parameters import LATENTS, SimulationParameters


#: hidden truth columns written to the sheet after the layout (never features)
TRUTH_COLUMNS = ("true_biological_age", "true_log_hazard")

#: CT segmentation groups that fail together (a blank group in the sheet)
CT_GROUPS: dict[str, tuple[str, ...]] = {
    "fat": ("tat_area", "total_body_area", "vat_area", "sat_area", "vat_sat_ratio"),
    "muscle": ("muscle_hu", "muscle_area", "l3_smi"),
    "l1": ("l1_hu",),
    "aorta": ("aoca_agatston",),
    "liver": ("liver_hu",),
}

#: ages of the Framingham hard-CHD equation (outside: not computable, ``X``)
FRS_AGES = (30.0, 79.0)


def _truncated_normal(rng: np.random.Generator, n: int, mean: float, sd: float,
                      lo: float, hi: float) -> np.ndarray:
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def _check_n(n: object) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or int(n) < 1:
        raise SurvageInputError(f"number of people must be a positive integer, got {n!r}",
                                column="n", expected="an integer >= 1")
    return int(n)


def _identifiers(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    pt = rng.choice(9_000_000, size=n, replace=False) + 1_000_000
    visit = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    return {"Record ID": np.arange(1, n + 1), "Visit ID": visit.astype(np.int64),
            "PT ID": pt.astype(np.int64)}


def _outcome_columns(ev: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Time (days) and event per outcome and history flags, by the layout's reading rules."""
    fu = ev["followup_days"]
    died = ~np.isnan(ev["death_days"])
    out = {"death_time": fu.copy(), "death_event": died.astype(float)}
    hist = {}
    for name in OUTCOMES[1:]:
        comps = COMPOSITE_OUTCOMES.get(name, (name,))
        d = np.column_stack([ev[f"{c}_days"] for c in comps])
        prevalent = (d < 0).any(axis=1)
        first = np.nanmin(np.where(np.isnan(d), np.inf, d), axis=1)
        inc = np.isfinite(first) & ~prevalent
        out[f"{name}_time"] = np.where(prevalent, np.nan, np.where(inc, first, fu))
        out[f"{name}_event"] = np.where(prevalent, np.nan, inc.astype(float))
        hist[f"history_{name}"] = prevalent.astype(float)
    return {**out, **hist}


def simulate_cohort(n: int, *, seed: int, params: SimulationParameters | None = None) -> pd.DataFrame:
    """Simulate ``n`` people of an opportunistic-CT cohort (canonical columns, clean numbers).

    Parameters
    ----------
    n
        Number of people.
    seed
        Seed of the random generator; the same seed gives the same frame.
    params
        Model parameters (default :class:`SimulationParameters`).

    Returns
    -------
    pandas.DataFrame
        One row per person, named as :func:`survage.data.oppscr.read_oppscr` names its frame:
        identifiers (``Record ID``, ``Visit ID``, ``PT ID``), ``followup_days``, the clinical
        columns (canonical names; ``frs_10y``/``frax_*`` in percent, unrounded and unbounded),
        ``death_days``, per DX pair ``{event}_dx_text`` and ``{event}_dx_days`` (negative = before
        the CT), the CT measures, per outcome ``{outcome}_time`` (days from the CT) and
        ``{outcome}_event`` (NaN where a prevalent condition leaves the person out),
        ``history_{outcome}`` (condition present before the CT), the hidden truth
        ``true_biological_age`` and
        ``true_log_hazard``, and hidden generative variables (``height_m``, ``imat_area``,
        ``latent_*``) that never appear in the sheet. Blank sheet cells are NaN.

    Notes
    -----
    Death follows a Gompertz hazard in biological age (Gompertz 1825,
    doi:10.1098/rstl.1825.0026), h(t) = exp(alpha + beta (BA + t)); see ``docs/simulator.md``.
    """
    n = _check_n(n)
    p = params if params is not None else SimulationParameters()
    rng = np.random.default_rng(seed)
    ids = _identifiers(rng, n)
    age = _truncated_normal(rng, n, p.age_mean, p.age_sd, *p.age_range)
    male = (rng.random(n) < p.p_male).astype(float)
    zmat = rng.standard_normal((n, len(LATENTS)))
    adiposity = rng.standard_normal(n)
    w = np.asarray(p.delta_weights, dtype=float)
    w = w / np.sqrt(np.sum(w ** 2))
    ageing = zmat @ w
    z = {name: zmat[:, k] for k, name in enumerate(LATENTS)}
    cov = {**z, "ageing": ageing, "adiposity": adiposity, "male": male}
    history = simulate_history(rng, age=age, covariates=cov, params=p)
    burden = sum(years * ~np.isnan(history[name]) for name, years in p.history_burden.items())
    ba = age + p.delta_sd * ageing + p.male_offset * male + burden
    log_hazard = p.gompertz_alpha + p.gompertz_beta * ba

    body = simulate_body(rng, age=age, male=male, z=z, adiposity=adiposity)
    ev = simulate_outcomes(rng, age=age, male=male, log_hazard=log_hazard, covariates=cov,
                           history=history, params=p)
    diabetes0 = (ev["diabetes_days"] < 0).astype(float)
    fracture0 = np.column_stack([ev[f"{c}_days"] < 0 for c in COMPOSITE_OUTCOMES["fracture"]]).any(axis=1)
    clin = simulate_clinical(rng, age=age, male=male, bmi=body["bmi"], z=z, diabetes=diabetes0,
                             prior_fracture=fracture0.astype(float))
    ct = simulate_ct(rng, age=age, male=male, height=body["height_m"], fat=body["fat"], z=z)

    # blank cells
    miss = {k: rng.random(n) < frac for k, frac in p.missing.items()}
    bmi = np.where(miss["bmi"], np.nan, body["bmi"])
    tobacco = np.where(miss["tobacco"], np.nan, clin["tobacco"])
    frs_ok = ~miss["bmi"] & ~miss["tobacco"] & ~miss["sbp"] & (age >= FRS_AGES[0]) & (age <= FRS_AGES[1])
    clinical = {
        "bmi": bmi,
        "bmi_over_30": np.where(np.isnan(bmi), np.nan, (bmi > 30).astype(float)),
        "sex": male,
        "age": age,
        "tobacco": tobacco,
        "alcohol_abuse": clin["alcohol_abuse"],
        "frs_10y": np.where(frs_ok, clin["frs_10y"], np.nan),
        "frax_major": np.where(miss["frax"], np.nan, clin["frax_major"]),
        "frax_hip": np.where(miss["frax"], np.nan, clin["frax_hip"]),
        "metabolic_syndrome": np.where(miss["metabolic_syndrome"], np.nan, clin["metabolic_syndrome"]),
    }
    for group, cols in CT_GROUPS.items():
        for c in cols:
            ct[c] = np.where(miss[group], np.nan, ct[c])

    cols: dict[str, np.ndarray] = {**ids, "followup_days": ev["followup_days"], **clinical,
                                   "death_days": ev["death_days"]}
    for _, _, event in DX_PAIRS:
        cols[f"{event}_dx_text"] = ev[f"{event}_dx"]
        cols[f"{event}_dx_days"] = ev[f"{event}_days"]
    cols.update({c: ct[c] for c in CT_HEADERS.values()})
    cols.update(_outcome_columns(ev))
    cols.update({"true_biological_age": ba, "true_log_hazard": log_hazard,
                 "height_m": body["height_m"], "imat_area": ct["imat_area"]})
    cols.update({f"latent_{k}": v for k, v in z.items()})
    return pd.DataFrame(cols)
