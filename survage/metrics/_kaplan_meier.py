"""Kaplan-Meier step functions for the survival and the censoring distribution.

Kaplan & Meier 1958, J. Am. Stat. Assoc. 53:457-481, doi:10.1080/01621459.1958.10501452.
The censoring version follows scikit-survival's ``CensoringDistributionEstimator``: at a time
with both events and censorings the events leave the risk set first, and ``G(t)`` includes the
censorings at ``t`` (Uno et al. 2011, doi:10.1002/sim.4154).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from survage.errors import SurvageInputError


@dataclass(frozen=True, eq=False)
class StepFunction:
    """Right-continuous step function: ``value[k]`` holds on ``[knots[k], knots[k+1])``, 1 before."""

    knots: NDArray[np.float64]
    value: NDArray[np.float64]

    def __call__(self, t: NDArray[np.float64], name: str = "time") -> NDArray[np.float64]:
        """Evaluate at ``t``; beyond the last knot only if the function has reached zero there."""
        t = np.asarray(t, dtype=float)
        beyond = t > self.knots[-1]
        if beyond.any() and self.value[-1] > 0:
            raise SurvageInputError(
                f"has values beyond the last time of the data used for the Kaplan-Meier estimate "
                f"({self.knots[-1]:g}) where it is not zero",
                column=name, rows=np.flatnonzero(beyond)[:20].tolist(),
                expected=f"values <= {self.knots[-1]:g}",
            )
        idx = np.searchsorted(self.knots, t, side="right") - 1
        out = np.where(idx >= 0, self.value[np.clip(idx, 0, None)], 1.0)
        return np.where(beyond, 0.0, out)


def _counts(time: NDArray[np.float64], event: NDArray[np.bool_]
            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    uniq, inverse = np.unique(time, return_inverse=True)
    total = np.bincount(inverse, minlength=uniq.size).astype(float)
    deaths = np.bincount(inverse, weights=event.astype(float), minlength=uniq.size)
    at_risk = time.size - np.concatenate(([0.0], np.cumsum(total)[:-1]))
    return uniq, deaths, total - deaths, at_risk


def kaplan_meier(time: NDArray[np.float64], event: NDArray[np.bool_]) -> StepFunction:
    """Kaplan-Meier estimate of ``P(T > t)``."""
    uniq, deaths, _, at_risk = _counts(time, event)
    ratio = np.divide(deaths, at_risk, out=np.zeros_like(deaths), where=deaths != 0)
    return StepFunction(uniq, np.cumprod(1.0 - ratio))


def censoring_kaplan_meier(time: NDArray[np.float64], event: NDArray[np.bool_]) -> StepFunction:
    """Kaplan-Meier estimate of the censoring survival ``G(t) = P(C > t)``."""
    uniq, deaths, censored, at_risk = _counts(time, event)
    if not censored.any():
        return StepFunction(uniq, np.ones_like(uniq))
    at_risk = at_risk - deaths
    ratio = np.divide(censored, at_risk, out=np.zeros_like(censored), where=censored != 0)
    return StepFunction(uniq, np.cumprod(1.0 - ratio))
