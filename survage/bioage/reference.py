"""Reference mortality curves in attained age: the shared fitting and dispatch machinery.

A reference curve is a hazard ``h(a)`` in attained age ``a`` of a reference population, fitted
by maximum likelihood on observed mortality with delayed entry (left truncation): a person aged
``A`` at baseline followed for ``T`` years enters the risk set at age ``A`` and leaves at
``A + T``. Its cumulative hazard over a horizon ``tau`` from age ``A`` is
``H_ref(A, tau) = int_A^{A + tau} h(a) da``; inverting ``A -> H_ref(A, tau)`` maps any predicted
cumulative hazard to an age (see :func:`survage.bioage.biological_age`).

References
----------
Levine ME et al. Aging 2018;10(4):573-591. doi:10.18632/aging.101414 (the Gompertz reference
behind PhenoAge). Klein JP, Moeschberger ML. Survival Analysis, 2nd ed., Springer 2003,
sec. 3.4 (likelihood with left truncation). doi:10.1007/b97377.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import numpy.typing as npt

from survage.bioage._inputs import GroupLabel, as_float_1d, group_codes, same_length
from survage.bioage._monotone import solve_increasing
from survage.errors import SurvageInputError


def _check_horizon(horizon: float) -> float:
    h = float(horizon)
    if not np.isfinite(h) or h <= 0:
        raise SurvageInputError(f"horizon must be positive and finite, got {horizon!r}", expected="horizon > 0 (years)")
    return h


class HazardReference(ABC):
    """Base class of reference curves; subclasses fit one group at a time.

    Attributes (after :meth:`fit`)
    ------------------------------
    groups_ : list
        Group labels (``[None]`` when fitted without ``by``).
    age_range_ : numpy.ndarray, shape (n_groups, 2)
        Smallest and largest baseline age of the reference population per group: the ages
        at which the curve is supported by data. A biological age outside it is an
        extrapolation.
    n_ : numpy.ndarray of int
        People per group.
    n_events_ : numpy.ndarray of int
        Events per group.
    """

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        age: npt.ArrayLike,
        time: npt.ArrayLike,
        event: npt.ArrayLike,
        *,
        by: npt.ArrayLike | None = None,
    ) -> HazardReference:
        """Fit the reference hazard by maximum likelihood with delayed entry.

        Parameters
        ----------
        age
            Age at baseline (years): the entry age.
        time
            Follow-up (years) from baseline to death or censoring; exit age is ``age + time``.
        event
            1 for death, 0 for censoring.
        by
            Optional group label per person (e.g. sex); one curve is fitted per group. Rows with a
            missing label are dropped.

        Returns
        -------
        HazardReference
            ``self``, fitted.
        """
        entry = as_float_1d(age, "age", allow_nan=False)
        follow = as_float_1d(time, "time", allow_nan=False)
        ev = as_float_1d(event, "event", allow_nan=False)
        n = same_length(age=entry, time=follow, event=ev)
        bad = np.flatnonzero(follow < 0)
        if bad.size:
            raise SurvageInputError("negative follow-up", column="time", rows=bad.tolist(), expected="time >= 0")
        bad = np.flatnonzero((ev != 0) & (ev != 1))
        if bad.size:
            raise SurvageInputError("event not 0/1", column="event", rows=bad.tolist(), expected="0 or 1")
        labels, codes = group_codes(by, n, name="by")
        self.groups_: list[GroupLabel] = labels
        params = []
        ranges, ns, events = [], [], []
        for g, label in enumerate(labels):
            rows = codes == g
            e, x, d = entry[rows], entry[rows] + follow[rows], ev[rows]
            if d.sum() < 2:
                raise SurvageInputError(
                    f"fewer than 2 events in group {label!r}", column="event", expected="at least 2 deaths"
                )
            params.append(self._fit_group(e, x, d))
            ranges.append((float(e.min()), float(e.max())))
            ns.append(int(rows.sum()))
            events.append(int(d.sum()))
        self._params: list[dict[str, Any]] = params
        self.age_range_ = np.asarray(ranges, dtype=float)
        self.n_ = np.asarray(ns, dtype=int)
        self.n_events_ = np.asarray(events, dtype=int)
        self._store_attributes()
        return self

    @abstractmethod
    def _fit_group(self, entry: np.ndarray, exit_: np.ndarray, event: np.ndarray) -> dict[str, Any]:
        """Fit one group; return its parameters."""

    def _store_attributes(self) -> None:
        """Expose fitted parameters as ``*_`` attributes (subclasses override)."""

    # --------------------------------------------------------- per-group curve
    @abstractmethod
    def _log_hazard(self, p: dict[str, Any], age: np.ndarray) -> np.ndarray:
        """log h(age) for one group's parameters."""

    @abstractmethod
    def _cumhaz(self, p: dict[str, Any], age: np.ndarray, horizon: float) -> np.ndarray:
        """H_ref(age, horizon) for one group's parameters."""

    def _invert(self, p: dict[str, Any], cumhaz: np.ndarray, horizon: float, start: np.ndarray) -> np.ndarray:
        """Age with H_ref(age, horizon) = cumhaz (numerical, for increasing hazards)."""

        def log_f(a: np.ndarray) -> np.ndarray:
            return np.log(self._cumhaz(p, a, horizon))

        def dlog_f(a: np.ndarray) -> np.ndarray:
            with np.errstate(over="ignore"):
                num = np.exp(self._log_hazard(p, a + horizon)) - np.exp(self._log_hazard(p, a))
            return num / self._cumhaz(p, a, horizon)

        return solve_increasing(log_f, dlog_f, np.log(cumhaz), start)

    # ------------------------------------------------------------ public curve
    def _check_fitted(self) -> None:
        if not hasattr(self, "_params"):
            raise SurvageInputError(f"{type(self).__name__} is not fitted", expected="call fit() first")

    def _dispatch(self, values: np.ndarray, group: npt.ArrayLike | None) -> np.ndarray:
        self._check_fitted()
        _, codes = group_codes(group, len(values), known=self.groups_, name="group")
        return codes

    def hazard(self, age: npt.ArrayLike, *, group: npt.ArrayLike | None = None) -> np.ndarray:
        """Reference hazard h(age) per year (NaN where age or group is missing)."""
        a = as_float_1d(age, "age")
        codes = self._dispatch(a, group)
        out = np.full(a.shape, np.nan)
        for g, p in enumerate(self._params):
            rows = codes == g
            out[rows] = np.exp(self._log_hazard(p, a[rows]))
        return out

    def cumulative_hazard(
        self, age: npt.ArrayLike, horizon: float = 10.0, *, group: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """Reference cumulative hazard ``H_ref(age, horizon)`` over ``[age, age + horizon]``.

        Parameters
        ----------
        age
            Ages at the start of the horizon (years).
        horizon
            Length of the horizon tau (years).
        group
            Group label per age when the reference was fitted with ``by``.

        Returns
        -------
        numpy.ndarray
            Cumulative hazards (NaN where age or group is missing).
        """
        tau = _check_horizon(horizon)
        a = as_float_1d(age, "age")
        codes = self._dispatch(a, group)
        out = np.full(a.shape, np.nan)
        for g, p in enumerate(self._params):
            rows = (codes == g) & ~np.isnan(a)
            out[rows] = self._cumhaz(p, a[rows], tau)
        return out

    def age_for_hazard(
        self, cumhaz: npt.ArrayLike, horizon: float = 10.0, *, group: npt.ArrayLike | None = None
    ) -> np.ndarray:
        """Invert the reference curve: the age A with ``H_ref(A, horizon) = cumhaz``.

        Ages are extrapolated (never clipped) outside the fitted age range.

        Parameters
        ----------
        cumhaz
            Positive cumulative hazards over the horizon (NaN gives NaN).
        horizon
            Horizon tau (years) over which ``cumhaz`` accrues.
        group
            Group label per value when the reference was fitted with ``by``.

        Returns
        -------
        numpy.ndarray
            Ages (years).
        """
        tau = _check_horizon(horizon)
        h = as_float_1d(cumhaz, "cumhaz")
        bad = np.flatnonzero(h <= 0)
        if bad.size:
            raise SurvageInputError(
                "non-positive cumulative hazard has no age", column="cumhaz", rows=bad.tolist(), expected="> 0"
            )
        codes = self._dispatch(h, group)
        out = np.full(h.shape, np.nan)
        for g, p in enumerate(self._params):
            rows = (codes == g) & ~np.isnan(h)
            if rows.any():
                out[rows] = self._invert(p, h[rows], tau, np.full(int(rows.sum()), self.age_range_[g].mean()))
        return out

    def age_range(self, *, group: npt.ArrayLike | None = None, n: int = 1) -> np.ndarray:
        """Fitted baseline-age range per row, shape ``(n, 2)`` (NaN where group is missing)."""
        self._check_fitted()
        if group is not None:
            n = len(np.asarray(group, dtype=object).ravel())
        _, codes = group_codes(group, n, known=self.groups_, name="group")
        out = np.full((n, 2), np.nan)
        ok = codes >= 0
        out[ok] = self.age_range_[codes[ok]]
        return out
