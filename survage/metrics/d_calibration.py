"""D-calibration: is the predicted survival at each person's own time Uniform(0, 1)?

Haider, Hoehn, Davis & Greiner 2020, "Effective ways to build and evaluate individual survival
distributions", J. Mach. Learn. Res. 21(85):1-63, jmlr.org/papers/v21/18-772.html.
An event at T_i adds 1 to the bin holding S_i(T_i). A censored person at c_i with s = S_i(c_i)
spreads its unit mass uniformly over [0, s]: the bin holding s gets (s - lower)/s and each bin
below gets width/s. Pearson chi-square against equal counts, n_bins - 1 degrees of freedom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from survage.errors import SurvageInputError
from survage.metrics._validate import as_event, as_float_1d, check_same_length


@dataclass(frozen=True, eq=False)
class DCalibrationResult:
    """Chi-square statistic, p-value and the proportion of mass in each bin."""

    statistic: float
    p_value: float
    df: int
    bin_edges: NDArray[np.float64]
    bin_proportions: NDArray[np.float64]
    method: str = "d_calibration"


def d_calibration(event: ArrayLike, surv_at_own_time: ArrayLike, *, n_bins: int = 10) -> DCalibrationResult:
    """D-calibration test of Haider et al. 2020.

    Parameters
    ----------
    event
        Event indicator; the time itself enters only through ``surv_at_own_time``.
    surv_at_own_time
        Predicted survival ``S_i(T_i)`` at each person's own follow-up time.
    n_bins
        Number of equal-width bins on [0, 1] (10 in the paper).

    Returns
    -------
    DCalibrationResult

    References
    ----------
    Haider et al. 2020, J. Mach. Learn. Res. 21(85):1-63.
    """
    e = as_event(event)
    s = as_float_1d(surv_at_own_time, "surv_at_own_time")
    n = check_same_length([("event", e), ("surv_at_own_time", s)])
    bad = (s < 0) | (s > 1)
    if bad.any():
        raise SurvageInputError("is not a probability", column="surv_at_own_time",
                                rows=np.flatnonzero(bad)[:20].tolist(), expected="values in [0, 1]")
    if n_bins < 2:
        raise SurvageInputError(f"n_bins={n_bins}", column="n_bins", expected=">= 2")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    width = 1.0 / n_bins
    k = np.clip(np.floor(s * n_bins).astype(int), 0, n_bins - 1)  # bin holding s (1 goes to the last)
    counts = np.bincount(k[e], minlength=n_bins).astype(float)
    sc, kc = s[~e], k[~e]
    pos = sc > 0
    # censored with s == 0: all mass at 0, first bin
    counts[0] += np.sum(~pos)
    sc, kc = sc[pos], kc[pos]
    np.add.at(counts, kc, (sc - edges[kc]) / sc)
    # each bin strictly below the one holding s gets width / s
    below = np.bincount(kc, weights=width / sc, minlength=n_bins)  # mass per row, by holding bin
    counts += np.cumsum(below[::-1])[::-1] - below  # bin j receives from rows whose bin is above j
    expected = n / n_bins
    stat = float(np.sum((counts - expected) ** 2) / expected)
    df = n_bins - 1
    return DCalibrationResult(stat, float(stats.chi2.sf(stat, df)), df, edges, counts / n)
