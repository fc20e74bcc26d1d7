"""The automated CT measures of the simulator, with their physical relations.

All areas in cm2 at L3 (L1 for bone), attenuations in HU. Each measure is a function of
chronological age, sex, the latent factors and its own noise; the relations between the columns
hold exactly:

- TAT = VAT + SAT + intermuscular adipose tissue (IMAT, simulated, not a sheet column);
- VAT/SAT ratio = VAT / SAT;
- SMI = muscle area / height^2 (height simulated, kept as the hidden ``height_m`` column);
- total body area = TAT + muscle area + other tissue (> TAT + muscle area).

The coefficients are documented with their equations in ``docs/simulator.md``.
"""

from __future__ import annotations

import numpy as np

#: reference age (years) of the centred age terms
AGE_CENTRE = 57.0

#: intercepts and slopes of the CT equations (see docs/simulator.md)
CT_COEF: dict[str, float] = {
    # log VAT
    "vat_log_mean": np.log(105.0), "vat_male": 0.55, "vat_fat": 0.40, "vat_cm": 0.27,
    "vat_age": 0.018, "vat_sd": 0.30,
    # log SAT
    "sat_log_mean": np.log(215.0), "sat_male": -0.30, "sat_fat": 0.50, "sat_cm": -0.18,
    "sat_age": -0.004, "sat_sd": 0.22,
    # log IMAT
    "imat_log_mean": np.log(11.0), "imat_fat": 0.30, "imat_sarc": 0.30, "imat_age": 0.01,
    "imat_sd": 0.30,
    # muscle area (cm2) at the sex's reference height, log-scale effects
    "muscle_ref_male": 168.0, "muscle_ref_female": 118.0, "muscle_age": -0.006,
    "muscle_sarc": -0.09, "muscle_fat": 0.06, "muscle_sd": 0.09,
    # muscle attenuation (HU)
    "mhu_mean": 37.0, "mhu_male": 2.0, "mhu_age": -0.65, "mhu_sarc": -5.5, "mhu_fat": -1.5,
    "mhu_sd": 3.8,
    # L1 trabecular attenuation (HU)
    "l1_mean": 152.0, "l1_age": -2.3, "l1_female_age": -0.5, "l1_bone": -20.0, "l1_sd": 20.0,
    # liver attenuation (HU)
    "liver_mean": 57.0, "liver_cm": -4.5, "liver_hep": -6.0, "liver_fat": -1.0, "liver_sd": 6.5,
    # aortic calcium: latent y; raw = scale * expm1(rate * y) for y > 0 (else 0), saturating at
    # cap (one aortic cross-section holds only so much calcium): cap * (1 - exp(-raw / cap))
    "aoca_int": -0.25, "aoca_age": 0.11, "aoca_cm": 0.60, "aoca_life": 0.10, "aoca_male": 0.25,
    "aoca_sd": 0.30, "aoca_rate": 2.4, "aoca_scale": 12.0, "aoca_cap": 10000.0,
    # other tissue (organs, bone) making up the rest of the body cross-section
    "other_ref": 210.0, "other_male": 0.10, "other_sd": 0.08,
}


def simulate_ct(
    rng: np.random.Generator, *, age: np.ndarray, male: np.ndarray, height: np.ndarray,
    fat: np.ndarray, z: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Draw the CT measures (canonical names of :data:`survage.data.oppscr_layout.CT_HEADERS`).

    Parameters
    ----------
    rng
        Random generator (the noise of each measure is drawn from it, in a fixed order).
    age, male, height
        Age (years), sex (1 = male), height (m).
    fat
        Adiposity index (unit-free, about standard normal) shared with BMI.
    z
        Latent factors by name (:data:`survage.simulate.parameters.LATENTS`).

    Returns
    -------
    dict
        Canonical column -> values, plus ``imat_area`` (intermuscular fat, hidden).
    """
    c = CT_COEF
    n = len(age)
    e = rng.standard_normal((n, 9))
    ac = age - AGE_CENTRE
    cm, sarc, bone, hep, life = (z["cardiometabolic"], z["sarcopenia"], z["bone"], z["hepatic"],
                                 z["lifestyle"])
    vat = np.exp(c["vat_log_mean"] + c["vat_male"] * male + c["vat_fat"] * fat + c["vat_cm"] * cm
                 + c["vat_age"] * ac + c["vat_sd"] * e[:, 0])
    sat = np.exp(c["sat_log_mean"] + c["sat_male"] * male + c["sat_fat"] * fat + c["sat_cm"] * cm
                 + c["sat_age"] * ac + c["sat_sd"] * e[:, 1])
    imat = np.exp(c["imat_log_mean"] + c["imat_fat"] * fat + c["imat_sarc"] * sarc
                  + c["imat_age"] * ac + c["imat_sd"] * e[:, 2])
    h_ref = np.where(male == 1, 1.765, 1.625)
    ref = np.where(male == 1, c["muscle_ref_male"], c["muscle_ref_female"])
    muscle = ref * (height / h_ref) ** 2 * np.exp(
        c["muscle_age"] * ac + c["muscle_sarc"] * sarc + c["muscle_fat"] * fat
        + c["muscle_sd"] * e[:, 3])
    muscle_hu = (c["mhu_mean"] + c["mhu_male"] * male + c["mhu_age"] * ac + c["mhu_sarc"] * sarc
                 + c["mhu_fat"] * fat + c["mhu_sd"] * e[:, 4])
    l1 = (c["l1_mean"] + c["l1_age"] * ac + c["l1_female_age"] * (1 - male) * np.maximum(ac, 0.0)
          + c["l1_bone"] * bone + c["l1_sd"] * e[:, 5])
    liver = (c["liver_mean"] + c["liver_cm"] * cm + c["liver_hep"] * hep + c["liver_fat"] * fat
             + c["liver_sd"] * e[:, 6])
    y = (c["aoca_int"] + c["aoca_age"] * ac + c["aoca_cm"] * cm + c["aoca_life"] * life
         + c["aoca_male"] * male + c["aoca_sd"] * e[:, 7])
    raw = c["aoca_scale"] * np.expm1(c["aoca_rate"] * np.maximum(y, 0.0))
    agatston = np.where(y > 0, c["aoca_cap"] * -np.expm1(-raw / c["aoca_cap"]), 0.0)
    other = c["other_ref"] * (height / 1.7) ** 2 * np.exp(c["other_male"] * male
                                                           + c["other_sd"] * e[:, 8])
    tat = vat + sat + imat
    return {
        "l1_hu": l1,
        "tat_area": tat,
        "total_body_area": tat + muscle + other,
        "vat_area": vat,
        "sat_area": sat,
        "vat_sat_ratio": vat / sat,
        "muscle_hu": muscle_hu,
        "muscle_area": muscle,
        "l3_smi": muscle / height ** 2,
        "aoca_agatston": agatston,
        "liver_hu": liver,
        "imat_area": imat,
    }
