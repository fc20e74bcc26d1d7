"""Parameters of the opportunistic-CT cohort simulator (documented in ``docs/simulator.md``).

Every number of the generative model lives here, in one frozen dataclass, so that the model in
:mod:`survage.simulate.generative` reads as equations and a user can change a parameter with
:func:`dataclasses.replace`. The defaults were calibrated (``bench/simulator_calibration.py``) so
that the five targeted CT measures reach their 5-year-death AUROC targets of the layout
description (aortic calcium 0.74, muscle HU 0.72, VAT/SAT 0.66, L1 HU 0.65, liver HU 0.62).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: latent factors of biological ageing, in the order of :attr:`SimulationParameters.delta_weights`
LATENTS = ("cardiometabolic", "sarcopenia", "bone", "hepatic", "lifestyle", "unobserved")

#: days per year (times inside survage are years; the sheet counts days)
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class EventParameters:
    """Hazard of one non-fatal diagnosis: h(t) = exp(intercept + slope * (age - 57 + t) + lp).

    ``lp`` is the sum of ``loadings[f] * z_f`` over latent factors (and ``male`` for sex);
    ``prevalent_years`` is the equivalent exposure before the CT that sets the prevalence
    P(prevalent) = 1 - exp(-exp(intercept + slope * (age - 57) + lp) * prevalent_years).
    """

    intercept: float
    slope: float
    loadings: dict[str, float]
    prevalent_years: float = 0.0


def _events() -> dict[str, EventParameters]:
    return {
        # the four cardiovascular processes; CVD DX is the first of them
        "stroke": EventParameters(-6.75, 0.085, {"cardiometabolic": 0.45, "lifestyle": 0.30,
                                                 "ageing": 0.35, "male": 0.15}, 5.0),
        "mi": EventParameters(-6.75, 0.07, {"cardiometabolic": 0.55, "lifestyle": 0.35,
                                            "ageing": 0.25, "male": 0.55}, 5.0),
        "heart_failure": EventParameters(-6.85, 0.09, {"cardiometabolic": 0.45, "sarcopenia": 0.30,
                                                       "ageing": 0.45, "male": 0.25}, 4.0),
        "other_cvd": EventParameters(-6.25, 0.07, {"cardiometabolic": 0.45, "lifestyle": 0.30,
                                                   "ageing": 0.25, "male": 0.20}, 5.0),
        "diabetes": EventParameters(-4.75, 0.03, {"cardiometabolic": 0.75, "adiposity": 0.45,
                                                  "hepatic": 0.30}, 9.0),
        # fracture sites: the bone factor dominates; falls (sarcopenia) add
        "femoral_neck_fracture": EventParameters(-7.6, 0.11, {"bone": 0.8, "sarcopenia": 0.35,
                                                              "male": -0.5}, 3.0),
        "unspec_femoral_fracture": EventParameters(-8.4, 0.10, {"bone": 0.7, "sarcopenia": 0.3,
                                                                "male": -0.4}, 3.0),
        "forearm_fracture": EventParameters(-6.2, 0.04, {"bone": 0.6, "male": -0.8}, 4.0),
        "humerus_fracture": EventParameters(-7.0, 0.07, {"bone": 0.6, "sarcopenia": 0.25,
                                                         "male": -0.6}, 3.0),
        "pathologic_fracture": EventParameters(-8.3, 0.06, {"bone": 0.5, "ageing": 0.3}, 2.0),
        "alzheimers": EventParameters(-7.8, 0.14, {"ageing": 0.45, "cardiometabolic": 0.15}, 0.5),
        "cancer_1": EventParameters(-4.75, 0.06, {"lifestyle": 0.40, "ageing": 0.25,
                                                  "male": 0.20}, 5.0),
        "cancer_2": EventParameters(-3.9, 0.04, {"lifestyle": 0.35}, 0.0),
    }


@dataclass(frozen=True)
class SimulationParameters:
    """All constants of the generative model (units in the comments).

    Attributes
    ----------
    age_mean, age_sd, age_range
        Chronological age at CT, years: normal truncated to ``age_range``.
    p_male
        Probability of male sex.
    delta_sd
        Standard deviation (years) of the latent age acceleration delta = BA - age, apart from
        the fixed male offset.
    delta_weights
        Weights of the latent factors (:data:`LATENTS`) in delta; normalised to unit variance.
    male_offset
        Years added to the biological age of men (their higher all-cause mortality).
    history_burden
        Years added to the biological age by a condition present before the CT (seen only by
        the clinical record, through the negative DX day counts).
    gompertz_beta, gompertz_alpha
        Death hazard h(t) = exp(alpha + beta * (BA + t)), t in years after the CT.
    followup_range
        Administrative censoring, uniform (years).
    dropout_fraction, dropout_floor
        Share lost to follow-up earlier, uniformly between ``dropout_floor`` and their
        administrative date.
    events
        Hazards of the non-fatal diagnoses.
    missing
        Share of blank cells per variable (or per CT segmentation group).
    """

    age_mean: float = 56.6
    age_sd: float = 9.0
    age_range: tuple[float, float] = (40.0, 85.0)
    p_male: float = 0.46
    delta_sd: float = 12.0
    delta_weights: tuple[float, ...] = (0.62, 0.52, 0.25, 0.25, 0.60, 0.33)
    male_offset: float = 3.0
    history_burden: dict[str, float] = field(default_factory=lambda: {
        "cancer_1": 6.0, "heart_failure": 8.0, "mi": 4.0, "stroke": 4.0, "other_cvd": 2.0,
        "diabetes": 3.0,
    })
    gompertz_beta: float = 0.088
    gompertz_alpha: float = -10.8
    followup_range: tuple[float, float] = (5.5, 13.5)
    dropout_fraction: float = 0.06
    dropout_floor: float = 0.5
    events: dict[str, EventParameters] = field(default_factory=_events)
    missing: dict[str, float] = field(default_factory=lambda: {
        "bmi": 0.02, "tobacco": 0.03, "sbp": 0.05, "frax": 0.10, "metabolic_syndrome": 0.04,
        "fat": 0.015, "muscle": 0.015, "l1": 0.02, "aorta": 0.01, "liver": 0.02,
    })
