"""The simulator's calibration targets and how they are measured.

The 5-year-death AUROC of a measure is computed exactly as the layout description says: among
people who died within 5 years or were followed at least 5 years, the AUROC of the measure for
death within 5 years, in the direction in which worse values mean higher risk. People with a
blank measure are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survage.errors import SurvageInputError
from survage.simulate.parameters import DAYS_PER_YEAR

#: 5-year-death AUROC targets: canonical column -> (target, +1 if higher = worse else -1)
AUROC_TARGETS: dict[str, tuple[float, int]] = {
    "aoca_agatston": (0.74, +1),
    "muscle_hu": (0.72, -1),
    "vat_sat_ratio": (0.66, +1),
    "l1_hu": (0.65, -1),
    "liver_hu": (0.62, -1),
}

#: weaker, approximate targets (direction: higher = worse)
APPROXIMATE_TARGETS: dict[str, tuple[float, int]] = {
    "bmi": (0.56, +1),
    "frs_10y": (0.55, +1),
}


def five_year_death_auroc(frame: pd.DataFrame, column: str, direction: int = +1,
                          horizon_years: float = 5.0) -> float:
    """AUROC of ``column`` for death within ``horizon_years`` (layout definition).

    Parameters
    ----------
    frame
        Canonical frame with ``followup_days`` and ``death_days`` (NaN = alive).
    column
        The measure.
    direction
        +1 when higher values mean higher risk, -1 when lower values do.
    horizon_years
        The horizon (5 years).

    Returns
    -------
    float
        The AUROC (Hanley & McNeil 1982, doi:10.1148/radiology.143.1.7063747).
    """
    if direction not in (1, -1):
        raise SurvageInputError("direction must be +1 or -1", column=column, expected="+1 or -1")
    h = horizon_years * DAYS_PER_YEAR
    death = frame["death_days"].to_numpy(dtype=float)
    fu = frame["followup_days"].to_numpy(dtype=float)
    x = frame[column].to_numpy(dtype=float)
    case = ~np.isnan(death) & (death <= h)
    keep = (case | (fu >= h)) & ~np.isnan(x)
    y = case[keep]
    if y.all() or not y.any():
        raise SurvageInputError("need both deaths within the horizon and survivors beyond it",
                                column=column, expected="both classes present")
    from sklearn.metrics import roc_auc_score  # imported here: sklearn is slow to import

    return float(roc_auc_score(y, direction * x[keep]))
