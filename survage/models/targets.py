"""Training targets per outcome, with cause-specific censoring at competing events.

Competing risks are handled with **cause-specific hazards** (Prentice et al. 1978,
doi:10.2307/2530374; Putter, Fiocco & Geskus 2007, doi:10.1002/sim.2712): for an outcome that
declares competing outcomes (``Outcome.competing``, e.g. a non-fatal diagnosis competing with
death), a person whose competing event happens first is censored at that time. The fitted
hazard is then the cause-specific hazard; ``1 - exp(-H)`` from it is *not* the cumulative
incidence (it ignores that dead people cannot be diagnosed) and is documented as such.
"""

from __future__ import annotations

import numpy as np

from survage.data.cohort import Cohort


def outcome_targets(cohort: Cohort, outcome: str) -> tuple[np.ndarray, np.ndarray]:
    """Time (years) and event of ``outcome`` with cause-specific censoring applied.

    Parameters
    ----------
    cohort
        The cohort.
    outcome
        Outcome name.

    Returns
    -------
    tuple of numpy.ndarray
        ``(time, event)``, float, NaN where the person is excluded from ``outcome``. Where a
        competing event (``event == 1``) comes strictly before the outcome's time, or at the same
        time without an outcome event, time becomes the competing time and event 0.
    """
    time = cohort.time(outcome).copy()
    event = cohort.event(outcome).copy()
    for other in cohort.outcome(outcome).competing:
        t_c = cohort.time(other)
        e_c = cohort.event(other)
        with np.errstate(invalid="ignore"):
            first = (e_c == 1) & np.isfinite(t_c) & np.isfinite(time) & (
                (t_c < time) | ((t_c == time) & (event != 1)))
        time[first] = t_c[first]
        event[first] = 0.0
    return time, event
