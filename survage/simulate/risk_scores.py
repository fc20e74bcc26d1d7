"""Clinical risk scores the simulator computes from simulated risk factors.

- :func:`framingham_office_risk`: the Framingham 10-year general cardiovascular risk, office
  (BMI, non-laboratory) version of D'Agostino et al. 2008, exactly as published.
- :func:`frax_like_probability`: a FRAX-like 10-year fracture probability. FRAX itself is a
  proprietary algorithm; this is a documented stand-in with FRAX's inputs (age, sex, BMI,
  smoking, alcohol, prior fracture, femoral-neck BMD T-score), not a reproduction of it.
"""

from __future__ import annotations

import numpy as np

#: D'Agostino et al. 2008, Circulation 117:743, doi:10.1161/CIRCULATIONAHA.107.699579, BMI model:
#: (ln age, ln BMI, ln SBP untreated, ln SBP treated, smoker, diabetes, mean, baseline S0(10))
FRAMINGHAM_OFFICE = {
    "male": (3.11296, 0.79277, 1.85508, 1.92672, 0.70953, 0.53160, 23.9388, 0.88431),
    "female": (2.72107, 0.51125, 2.81291, 2.88267, 0.61868, 0.77763, 26.0145, 0.94833),
}


def framingham_office_risk(
    age: np.ndarray, male: np.ndarray, bmi: np.ndarray, sbp: np.ndarray,
    treated: np.ndarray, smoker: np.ndarray, diabetes: np.ndarray,
) -> np.ndarray:
    """Framingham 10-year CVD risk (percent), office-based (BMI) model.

    risk = 1 - S0 ** exp(sum_j b_j x_j - mean), per sex.

    References
    ----------
    D'Agostino RB, Vasan RS, Pencina MJ, et al. General cardiovascular risk profile for use in
    primary care: the Framingham Heart Study. Circulation 2008;117:743-753,
    doi:10.1161/CIRCULATIONAHA.107.699579.
    """
    out = np.empty(len(age))
    for sex, mask in (("male", male == 1), ("female", male != 1)):
        b_age, b_bmi, b_unt, b_trt, b_smk, b_dm, mean, s0 = FRAMINGHAM_OFFICE[sex]
        lsbp = np.log(sbp[mask])
        xb = (b_age * np.log(age[mask]) + b_bmi * np.log(bmi[mask])
              + np.where(treated[mask] == 1, b_trt, b_unt) * lsbp
              + b_smk * smoker[mask] + b_dm * diabetes[mask])
        out[mask] = 100.0 * (1.0 - s0 ** np.exp(xb - mean))
    return out


def frax_like_probability(
    age: np.ndarray, male: np.ndarray, bmi: np.ndarray, smoker: np.ndarray,
    alcohol: np.ndarray, prior_fracture: np.ndarray, t_score: np.ndarray, *, hip: bool,
) -> np.ndarray:
    """FRAX-like 10-year probability (percent) of a major osteoporotic (or hip) fracture.

    A Poisson hazard ``exp(eta)`` over 10 years, eta linear in the FRAX inputs with relative
    risks of the order published by Kanis et al. (BMD about 1.5-2.6 per SD, prior fracture about
    1.8, smoking 1.3, alcohol 1.4, age about 1.06-1.09 per year). Not the FRAX algorithm.

    References
    ----------
    Kanis JA, Johnell O, Oden A, Johansson H, McCloskey E. FRAX and the assessment of fracture
    probability in men and women from the UK. Osteoporos Int 2008;19:385-397,
    doi:10.1007/s00198-007-0543-5.
    """
    if hip:
        eta = (-6.9 + 0.095 * (age - 65.0) - 0.95 * t_score - 0.35 * male
               - 0.03 * (bmi - 25.0) + 0.6 * prior_fracture + 0.25 * smoker + 0.35 * alcohol)
    else:
        eta = (-4.65 + 0.05 * (age - 65.0) - 0.45 * t_score - 0.55 * male
               - 0.01 * (bmi - 25.0) + 0.6 * prior_fracture + 0.2 * smoker + 0.3 * alcohol)
    return 100.0 * (1.0 - np.exp(-10.0 * np.exp(eta)))
