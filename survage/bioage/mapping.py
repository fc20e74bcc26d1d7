"""Biological age from a predicted cumulative hazard, through a reference mortality curve.

A person whose model predicts cumulative hazard ``H_i(tau)`` over a horizon ``tau`` has
biological age ``BA_i`` solving ``H_ref(BA_i, tau) = H_i(tau)``: the age at which the reference
population carries the same hazard (the PhenoAge construction of Levine et al. 2018,
doi:10.18632/aging.101414, generalised to any survival model and any monotone reference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from survage.bioage._inputs import as_float_1d
from survage.bioage.reference import HazardReference
from survage.errors import SurvageInputError


@dataclass(frozen=True)
class BioAgeResult:
    """Biological ages with their extrapolation flags.

    Attributes
    ----------
    biological_age : numpy.ndarray
        Biological age per person (years); NaN where the cumulative hazard was missing.
    extrapolated : numpy.ndarray of bool
        True where the biological age lies outside the reference age range (the value is
        extrapolated along the reference curve, never clipped).
    horizon : float
        Horizon tau (years) of the cumulative hazards.
    age_range : numpy.ndarray, shape (n, 2)
        The reference age range applied to each person.
    """

    biological_age: np.ndarray
    extrapolated: np.ndarray
    horizon: float
    age_range: np.ndarray

    def age_acceleration(self, chronological_age: npt.ArrayLike) -> np.ndarray:
        """``biological_age - chronological_age`` (years)."""
        ca = as_float_1d(chronological_age, "chronological_age")
        if ca.shape != self.biological_age.shape:
            raise SurvageInputError(
                f"{ca.size} ages for {self.biological_age.size} biological ages",
                column="chronological_age",
                expected="one age per person",
            )
        return self.biological_age - ca


def _age_range(
    reference: HazardReference, n: int, group: npt.ArrayLike | None, age_range: tuple[float, float] | None
) -> np.ndarray:
    if age_range is None:
        return reference.age_range(group=group, n=n)
    lo, hi = float(age_range[0]), float(age_range[1])
    if not lo <= hi:
        raise SurvageInputError(f"age_range {age_range!r}", column="age_range", expected="(low, high), low <= high")
    return np.tile([lo, hi], (n, 1))


def _flag(ba: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (ba < ranges[..., 0]) | (ba > ranges[..., 1])


def biological_age(
    cumhaz: npt.ArrayLike,
    reference: HazardReference,
    horizon: float = 10.0,
    *,
    age_range: tuple[float, float] | None = None,
    group: npt.ArrayLike | None = None,
) -> BioAgeResult:
    """Map predicted cumulative hazards at a horizon to biological ages.

    ``BA_i`` solves ``H_ref(BA_i, tau) = H_i(tau)``; for a Gompertz reference
    ``BA_i = (log(H_i beta / (exp(beta tau) - 1)) - alpha) / beta``. Values outside the
    reference age range are extrapolated along the curve and flagged, never clipped.

    Parameters
    ----------
    cumhaz
        Each person's predicted cumulative hazard over ``[0, horizon]`` years of follow-up
        (any survival model: ``-log S_i(horizon)``); must be positive; NaN gives NaN.
    reference
        A fitted reference curve (:class:`GompertzReference`, :class:`SplineReference`).
    horizon
        Horizon tau (years) at which ``cumhaz`` was predicted.
    age_range
        ``(low, high)`` ages outside which a biological age is flagged as extrapolated; default
        the reference population's baseline-age range (per group).
    group
        Group label per person when the reference was fitted per group (``by=``).

    Returns
    -------
    BioAgeResult
        Biological ages, extrapolation flags, the horizon and the ranges used.

    References
    ----------
    Levine ME et al. An epigenetic biomarker of aging for lifespan and healthspan. Aging
    2018;10(4):573-591. doi:10.18632/aging.101414.
    """
    h = as_float_1d(cumhaz, "cumhaz")
    ba = reference.age_for_hazard(h, horizon, group=group)
    ranges = _age_range(reference, h.size, group, age_range)
    return BioAgeResult(biological_age=ba, extrapolated=_flag(ba, ranges), horizon=float(horizon), age_range=ranges)


@dataclass(frozen=True)
class BioAgeInterval:
    """Per-person summary of biological ages over an ensemble or bootstrap of models.

    Attributes
    ----------
    mean, sd : numpy.ndarray
        Mean and standard deviation (ddof=1) of the members' biological ages.
    lower, upper : numpy.ndarray
        Percentile interval at ``level``.
    level : float
        Coverage of the interval.
    extrapolated : numpy.ndarray of bool
        The mean lies outside the reference age range.
    extrapolated_fraction : numpy.ndarray
        Share of members whose biological age lies outside the range.
    members : numpy.ndarray, shape (n_members, n_people)
        The members' biological ages.
    """

    mean: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    extrapolated: np.ndarray
    extrapolated_fraction: np.ndarray
    members: np.ndarray


def biological_age_interval(
    cumhaz_members: npt.ArrayLike,
    reference: HazardReference,
    horizon: float = 10.0,
    *,
    level: float = 0.95,
    age_range: tuple[float, float] | None = None,
    group: npt.ArrayLike | None = None,
) -> BioAgeInterval:
    """Biological age mean and percentile interval over ensemble/bootstrap members.

    Each member's cumulative hazard is mapped to an age separately; the mean, SD and the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles (linear interpolation) are taken over
    members for each person (percentile bootstrap, Efron & Tibshirani 1993,
    doi:10.1201/9780429246593). This is the spread of the ages, not the age of the mean hazard.

    Parameters
    ----------
    cumhaz_members
        Array of shape ``(n_members, n_people)``: cumulative hazard at ``horizon`` predicted by
        each member. A person with any member missing gets NaN.
    reference, horizon, age_range, group
        As in :func:`biological_age`.
    level
        Coverage of the percentile interval, in (0, 1).

    Returns
    -------
    BioAgeInterval
    """
    stack = np.asarray(cumhaz_members, dtype=float)
    if stack.ndim != 2 or stack.shape[0] < 2:
        raise SurvageInputError(
            f"cumhaz_members has shape {stack.shape}", column="cumhaz_members",
            expected="(n_members >= 2, n_people)",
        )
    if not 0 < level < 1:
        raise SurvageInputError(f"level = {level!r}", column="level", expected="0 < level < 1")
    m, n = stack.shape
    groups = None if group is None else np.tile(np.asarray(group, dtype=object).ravel(), m)
    ages = reference.age_for_hazard(stack.ravel(), horizon, group=groups).reshape(m, n)
    ranges = _age_range(reference, n, group, age_range)
    mean = ages.mean(axis=0)
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    lower, upper = np.percentile(ages, q, axis=0)
    return BioAgeInterval(
        mean=mean,
        sd=ages.std(axis=0, ddof=1),
        lower=lower,
        upper=upper,
        level=float(level),
        extrapolated=_flag(mean, ranges),
        extrapolated_fraction=np.where(np.isnan(mean), np.nan, _flag(ages, ranges[None, :, :]).mean(axis=0)),
        members=ages,
    )
