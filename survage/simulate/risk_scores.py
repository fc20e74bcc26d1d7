"""Clinical risk scores the simulator computes from simulated risk factors.

- :func:`framingham_hard_chd_risk`: the Framingham 10-year hard-CHD risk of NCEP ATP III
  (the score behind the sheet's ``FRS 10-year risk (%)`` with its ``<1%``/``>30%`` cells);
- :func:`frax_like_probability`: a FRAX-like 10-year fracture probability. FRAX itself is a
  proprietary algorithm; this is a documented stand-in with FRAX's inputs (age, sex, BMI,
  smoking, alcohol, prior fracture, femoral-neck BMD T-score), not a reproduction of it.
"""

from __future__ import annotations

import numpy as np

#: NCEP ATP III hard-CHD Framingham equation (Wilson et al. 1998; ATP III 2001), per sex:
#: ln age, ln TC, ln HDL, ln SBP, BP treated, smoker, ln age x ln TC, ln age x smoker,
#: ln age x ln age, constant, baseline S0(10), age cap of the smoking interaction
FRAMINGHAM_HARD_CHD = {
    "male": (52.00961, 20.014077, -0.905964, 1.305784, 0.241549, 12.096316, -4.605038,
             -2.84367, -2.93323, -172.300168, 0.9402, 70.0),
    "female": (31.764001, 22.465206, -1.187731, 2.552905, 0.420251, 13.07543, -5.060998,
               -2.996945, 0.0, -146.5933061, 0.98767, 78.0),
}


def framingham_hard_chd_risk(
    age: np.ndarray, male: np.ndarray, total_chol: np.ndarray, hdl: np.ndarray,
    sbp: np.ndarray, treated: np.ndarray, smoker: np.ndarray,
) -> np.ndarray:
    """Framingham 10-year hard-CHD risk (percent) as in NCEP ATP III.

    L = sum_j b_j x_j + constant; risk = 1 - S0 ** exp(L). The age in the smoking interaction
    is capped (men 70, women 78). Cholesterol in mg/dL, SBP in mmHg.

    References
    ----------
    Expert Panel on Detection, Evaluation, and Treatment of High Blood Cholesterol in Adults.
    Executive summary of the third report (Adult Treatment Panel III). JAMA 2001;285:2486-2497,
    doi:10.1001/jama.285.19.2486. Wilson PWF et al. Prediction of coronary heart disease using
    risk factor categories. Circulation 1998;97:1837-1847, doi:10.1161/01.CIR.97.18.1837.
    """
    out = np.empty(len(age))
    for sex, mask in (("male", male == 1), ("female", male != 1)):
        b_a, b_tc, b_hdl, b_sbp, b_trt, b_smk, b_atc, b_asmk, b_aa, const, s0, cap = \
            FRAMINGHAM_HARD_CHD[sex]
        la, ltc = np.log(age[mask]), np.log(total_chol[mask])
        la_smk = np.log(np.minimum(age[mask], cap))
        lin = (b_a * la + b_tc * ltc + b_hdl * np.log(hdl[mask]) + b_sbp * np.log(sbp[mask])
               + b_trt * treated[mask] + b_smk * smoker[mask] + b_atc * la * ltc
               + b_asmk * la_smk * smoker[mask] + b_aa * la * la + const)
        out[mask] = 100.0 * (1.0 - s0 ** np.exp(lin))
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
