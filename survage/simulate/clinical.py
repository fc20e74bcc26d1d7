"""Clinical variables of the simulator: body size, smoking, alcohol, blood pressure and scores.

The clinical record sees the lifestyle factor (tobacco, alcohol), the cardiometabolic factor
(blood pressure, BMI, metabolic syndrome, the Framingham score), the bone factor (through the
DXA T-score inside the FRAX-like probabilities) and the hepatic factor weakly (alcohol, metabolic
syndrome); it does not see the sarcopenia factor except through a small BMI loading.
"""

from __future__ import annotations

import numpy as np

from survage.simulate.risk_scores import framingham_hard_chd_risk, frax_like_probability


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_body(
    rng: np.random.Generator, *, age: np.ndarray, male: np.ndarray, z: dict[str, np.ndarray],
    adiposity: np.ndarray,
) -> dict[str, np.ndarray]:
    """Height (m), BMI (kg/m2) and the adiposity index ``fat`` shared with the CT fat areas.

    fat = 0.8 adiposity + 0.6 cardiometabolic - 0.1 sarcopenia;
    log BMI = log 27.3 + 0.16 fat - 0.003 (age - 57) + 0.04 e.
    """
    n = len(age)
    e = rng.standard_normal((n, 2))
    height = np.where(male == 1, 1.765 + 0.07 * e[:, 0], 1.625 + 0.065 * e[:, 0]) - 0.001 * (age - 57.0)
    fat = 0.8 * adiposity + 0.6 * z["cardiometabolic"] - 0.1 * z["sarcopenia"]
    bmi = np.exp(np.log(27.3) + 0.16 * fat - 0.003 * (age - 57.0) + 0.04 * e[:, 1])
    return {"height_m": height, "bmi": bmi, "fat": fat}


def simulate_clinical(
    rng: np.random.Generator, *, age: np.ndarray, male: np.ndarray, bmi: np.ndarray,
    z: dict[str, np.ndarray], diabetes: np.ndarray, prior_fracture: np.ndarray,
) -> dict[str, np.ndarray]:
    """Tobacco, alcohol abuse, blood pressure, metabolic syndrome, FRS and FRAX-like scores.

    Parameters
    ----------
    rng
        Random generator.
    age, male, bmi
        Age (years), sex (1 = male), BMI (kg/m2).
    z
        Latent factors by name.
    diabetes, prior_fracture
        Baseline (prevalent) diabetes and fracture, 0/1.

    Returns
    -------
    dict
        ``tobacco``, ``alcohol_abuse``, ``sbp``, ``bp_treated``, ``metabolic_syndrome``,
        ``total_chol``, ``hdl`` (mg/dL), ``frs_10y`` (percent, ATP III hard CHD),
        ``frax_major`` and ``frax_hip`` (percent), ``t_score``.
    """
    n = len(age)
    e = rng.standard_normal((n, 4))
    e2 = rng.standard_normal((n, 2))
    u = rng.random((n, 4))
    ac = age - 57.0
    life, cm, hep, bone = z["lifestyle"], z["cardiometabolic"], z["hepatic"], z["bone"]
    tobacco = (u[:, 0] < _logistic(-1.3 + 3.0 * life - 0.01 * ac)).astype(float)
    alcohol = (u[:, 1] < _logistic(-3.6 + 1.2 * life + 0.7 * hep + 0.5 * male)).astype(float)
    sbp = 120.0 + 0.6 * ac + 7.0 * cm + 8.0 * male + 13.0 * e[:, 0]
    sbp = np.clip(sbp, 90.0, 220.0)
    treated = (u[:, 2] < _logistic(-1.4 + 0.05 * ac + 0.9 * cm + 0.04 * (sbp - 130.0))).astype(float)
    met = (u[:, 3] < _logistic(-1.0 + 1.1 * cm + 0.12 * (bmi - 27.3) + 0.35 * hep
                               + 0.02 * ac + 1.0 * diabetes)).astype(float)
    total_chol = np.clip(200.0 + 10.0 * cm - 6.0 * male + 0.3 * ac + 32.0 * e[:, 2], 110.0, 340.0)
    hdl = np.clip(57.0 - 9.0 * male - 5.0 * cm + 13.0 * e[:, 3], 22.0, 120.0)
    frs = framingham_hard_chd_risk(age, male, total_chol, hdl, sbp, treated, tobacco)
    t_score = -0.6 - 0.035 * ac - 0.35 * (1 - male) - 0.75 * bone + 0.04 * (bmi - 27.3) + 0.6 * e2[:, 0]
    frax_major = frax_like_probability(age, male, bmi, tobacco, alcohol, prior_fracture, t_score,
                                       hip=False)
    frax_hip = frax_like_probability(age, male, bmi, tobacco, alcohol, prior_fracture, t_score,
                                     hip=True)
    return {"tobacco": tobacco, "alcohol_abuse": alcohol, "sbp": sbp, "bp_treated": treated,
            "metabolic_syndrome": met, "total_chol": total_chol, "hdl": hdl, "frs_10y": frs, "frax_major": frax_major,
            "frax_hip": frax_hip, "t_score": t_score}
