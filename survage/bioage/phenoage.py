"""PhenoAge (Levine et al. 2018) from nine blood markers and chronological age.

Reference: Levine ME, Lu AT, Quach A, et al. An epigenetic biomarker of aging for lifespan and
healthspan. Aging (Albany NY) 2018;10(4):573-591. doi:10.18632/aging.101414.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from survage.bioage._inputs import numeric_column, require_columns
from survage.errors import SurvageInputError

#: Published coefficients of the linear predictor, keyed by the column of the shipped NHANES
#: extracts (published units: albumin g/L, creatinine umol/L, glucose mmol/L, CRP mg/dL (log),
#: lymphocytes %, MCV fL, RDW %, ALP U/L, WBC 1000 cells/uL, age years).
PHENOAGE_COEFFICIENTS: dict[str, float] = {
    "albumin_gL": -0.03359355,
    "creat_umol": 0.009506491,
    "glucose_mmol": 0.1953192,
    "crp": 0.09536762,
    "lymph": -0.01199984,
    "mcv": 0.02676401,
    "rdw": 0.3306156,
    "alp": 0.001868778,
    "wbc": 0.05542406,
    "age": 0.08035356,
}
PHENOAGE_INTERCEPT = -19.90667
#: Gompertz shape of the PhenoAge mortality model (per month).
PHENOAGE_GAMMA = 0.007692696
#: ``exp(120 * gamma) - 1`` as published and used by BioAge (rounded; exact value 1.517160...).
PHENOAGE_HORIZON_FACTOR = 1.51714
PHENOAGE_COLUMNS: tuple[str, ...] = tuple(PHENOAGE_COEFFICIENTS)

CrpTransform = Literal["log", "log1p"]


def _linear_predictor(frame: pd.DataFrame, crp_transform: CrpTransform) -> np.ndarray:
    require_columns(frame, PHENOAGE_COLUMNS, "phenoage")
    if crp_transform not in ("log", "log1p"):
        raise SurvageInputError(
            f"unknown crp_transform {crp_transform!r}", column="crp", expected="'log' or 'log1p'"
        )
    xb = np.full(len(frame), PHENOAGE_INTERCEPT, dtype=float)
    for column, coef in PHENOAGE_COEFFICIENTS.items():
        values = numeric_column(frame, column)
        if column == "crp":
            limit_ok = values > 0 if crp_transform == "log" else values >= 0
            bad = np.flatnonzero(~limit_ok & ~np.isnan(values))
            if bad.size:
                raise SurvageInputError(
                    f"CRP out of range for crp_transform={crp_transform!r}",
                    column="crp",
                    rows=frame.index[bad].tolist(),
                    expected="CRP > 0 mg/dL" if crp_transform == "log" else "CRP >= 0 mg/dL",
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.log(values) if crp_transform == "log" else np.log1p(values)
        xb += coef * values
    return xb


def phenoage_mortality_score(
    frame: pd.DataFrame, *, crp_transform: CrpTransform = "log"
) -> pd.Series:
    """Ten-year mortality score M of the PhenoAge model (Levine et al. 2018).

    ``M = 1 - exp(-1.51714 * exp(xb) / 0.007692696)``, the 120-month cumulative mortality of the
    Gompertz proportional-hazards model (time in months) behind PhenoAge.

    Parameters
    ----------
    frame
        One row per person with the columns of :data:`PHENOAGE_COLUMNS` in the published units
        (see :func:`phenoage`).
    crp_transform
        ``"log"`` (Levine's ln(CRP), the default) or ``"log1p"`` (BioAge's ln(1 + CRP)).

    Returns
    -------
    pandas.Series
        M in [0, 1], indexed like ``frame``; NaN where any input is missing.

    References
    ----------
    Levine ME et al. Aging 2018;10(4):573-591. doi:10.18632/aging.101414.
    """
    xb = _linear_predictor(frame, crp_transform)
    m = -np.expm1(-PHENOAGE_HORIZON_FACTOR * np.exp(xb) / PHENOAGE_GAMMA)
    return pd.Series(m, index=frame.index, name="phenoage_mortality")


def phenoage(
    frame: pd.DataFrame,
    *,
    constant: float = 0.090165,
    crp_transform: CrpTransform = "log",
) -> pd.Series:
    """PhenoAge (phenotypic age) of Levine et al. (2018), in years.

    ``xb = -19.90667 - 0.03359355 albumin + 0.009506491 creatinine + 0.1953192 glucose
    + 0.09536762 ln(CRP) - 0.01199984 lymph + 0.02676401 MCV + 0.3306156 RDW
    + 0.001868778 ALP + 0.05542406 WBC + 0.08035356 age``;
    ``M = 1 - exp(-1.51714 exp(xb) / 0.007692696)``;
    ``PhenoAge = 141.50225 + ln(-0.0055305 ln(1 - M)) / c``.

    Parameters
    ----------
    frame
        One row per person. Columns (named as in the shipped NHANES extracts, published units):
        ``albumin_gL`` (g/L), ``creat_umol`` (umol/L), ``glucose_mmol`` (mmol/L), ``crp`` (mg/dL),
        ``lymph`` (%), ``mcv`` (fL), ``rdw`` (%), ``alp`` (U/L), ``wbc`` (1000 cells/uL),
        ``age`` (years). Extra columns are ignored.
    constant
        The constant c of the final step. Two values circulate: 0.090165 (Levine et al. 2018, the
        default) and 0.09165. The BioAge R package (Kwon & Belsky 2021,
        doi:10.1007/s11357-021-00480-5) used 0.090165, switched in 2023 to 0.09165 citing a
        correction published with Liu et al. 2018 (PLOS Med, doi:10.1371/journal.pmed.1002760),
        and later restored 0.090165 after the authors were contacted (BioAge issue #51, pull
        request #55). The two differ by about 1.6 years of PhenoAge in NHANES III; a report
        must say which value it used.
    crp_transform
        ``"log"``: ln(CRP) as published by Levine (CRP must be > 0). ``"log1p"``: ln(1 + CRP),
        as BioAge computes its ``lncrp``; with ``constant=0.090165`` this reproduces BioAge's
        ``phenoage0`` column of the shipped NHANES extracts.

    Returns
    -------
    pandas.Series
        PhenoAge in years, indexed like ``frame``, named ``"phenoage"``. A row with any input
        missing (NaN) gets NaN.

    Raises
    ------
    SurvageInputError
        A required column is missing or non-numeric, a value is infinite, or CRP is out of
        range for the transform (<= 0 for ``"log"``, < 0 for ``"log1p"``).

    Notes
    -----
    The published ``1.51714`` is ``exp(120 * 0.007692696) - 1`` rounded (exact 1.517160...);
    it is kept as published because BioAge uses it, and with it the ``phenoage0`` column is
    matched to about 1e-13 relative. ``ln(1 - M)`` is evaluated as ``-1.51714 exp(xb) / g``
    directly (algebraically identical), which avoids the cancellation of ``1 - M`` for small
    M; BioAge's column, computed through M, differs from this by at most ~1e-10 relative.

    References
    ----------
    Levine ME, Lu AT, Quach A, et al. An epigenetic biomarker of aging for lifespan and
    healthspan. Aging 2018;10(4):573-591. doi:10.18632/aging.101414.
    Liu Z, Kuo PL, Horvath S, et al. A new aging measure captures morbidity and mortality risk
    across diverse subpopulations from NHANES IV. PLOS Med 2018;15(12):e1002718.
    doi:10.1371/journal.pmed.1002718 (correction doi:10.1371/journal.pmed.1002760).
    """
    if not np.isfinite(constant) or constant <= 0:
        raise SurvageInputError(f"constant must be positive, got {constant!r}", expected="c > 0")
    xb = _linear_predictor(frame, crp_transform)
    # ln(-0.0055305 * ln(1 - M)) with ln(1 - M) = -1.51714 exp(xb) / g.
    log_term = np.log(0.0055305 * PHENOAGE_HORIZON_FACTOR / PHENOAGE_GAMMA) + xb
    return pd.Series(141.50225 + log_term / constant, index=frame.index, name="phenoage")
