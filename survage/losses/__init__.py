"""Plain typed torch loss functions for time-to-event models.

* :func:`cox_nll` - Cox partial likelihood (Efron or Breslow ties, strata, case weights).
* :func:`gompertz_nll` - full Gompertz likelihood, follow-up or attained-age time scale;
  :func:`gompertz_cumulative_hazard` for the matching cumulative hazard.
* :func:`logistic_hazard_nll`, :func:`pmf_nll` - discrete-time losses (pycox), with
  :func:`discretize_times` to map continuous times onto intervals.
"""

from survage.losses.cox import cox_nll
from survage.losses.discrete import DiscreteTimes, discretize_times, logistic_hazard_nll, pmf_nll
from survage.losses.gompertz import expm1_ratio, gompertz_cumulative_hazard, gompertz_nll

__all__ = [
    "DiscreteTimes",
    "cox_nll",
    "discretize_times",
    "expm1_ratio",
    "gompertz_cumulative_hazard",
    "gompertz_nll",
    "logistic_hazard_nll",
    "pmf_nll",
]
