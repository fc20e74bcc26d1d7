"""Biological age learned from a fitted survival model and a reference mortality curve.

:class:`LearnedBiologicalAge` glues three existing pieces into one estimator: any survival model
of the :mod:`survage.models` interface (its predicted cumulative hazard at a horizon), a reference
curve in attained age (:class:`~survage.bioage.GompertzReference` by default) and the residual
acceleration of BA on CA, all fitted on the same training (reference) cohort and applied
unchanged to new cohorts. It is the PhenoAge construction (Levine et al. 2018,
doi:10.18632/aging.101414) with the mortality model learned instead of published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from survage.bioage.acceleration import ResidualAcceleration, age_acceleration
from survage.bioage.gompertz import GompertzReference
from survage.bioage.mapping import biological_age
from survage.bioage.reference import HazardReference, _check_horizon
from survage.data.cohort import Cohort
from survage.errors import SurvageInputError


@runtime_checkable
class CumulativeHazardModel(Protocol):
    """What :class:`LearnedBiologicalAge` needs of a model (``SurvivalModel``, ``LifelinesCox``...)."""

    def fit(self, cohort: Cohort) -> object: ...

    def predict_cumulative_hazard(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                                  outcome: str | None = None) -> np.ndarray: ...


def _model_columns(model: object, cohort: Cohort) -> list[str]:
    mods = [m for m in getattr(model, "modalities", ()) if m in cohort.modalities]
    return cohort.feature_columns(mods) if mods else [cohort.age]


class LearnedBiologicalAge:
    """Biological age from a survival model's predicted cumulative hazard at a horizon.

    ``fit(cohort)`` fits, on the training (reference) cohort: the survival model; the reference
    curve of the outcome in attained age (delayed entry at baseline age); and the OLS of BA on CA
    used for the residual acceleration. ``predict(cohort)`` maps each person's predicted
    cumulative hazard ``H_i(tau)`` to the age at which the reference population carries the same
    hazard over ``tau`` years: ``BA_i = H_ref^{-1}(H_i(tau))`` (for a Gompertz reference
    ``BA = (log(H beta / (exp(beta tau) - 1)) - alpha) / beta``).

    Parameters
    ----------
    model
        An unfitted survival model with ``fit(cohort)`` and
        ``predict_cumulative_hazard(cohort, times, outcome)`` (e.g.
        ``SurvivalModel(linear=True, ...)``, ``LifelinesCox``). With ``prefit=True`` a fitted one.
    reference
        Reference curve; default a new :class:`GompertzReference`. An unfitted reference is fitted
        on the training cohort's ``outcome``; a fitted one is used as given.
    outcome
        Outcome whose hazard defines biological age (all-cause ``"death"``).
    horizon
        Horizon tau in years (PhenoAge: 10).
    complete_cases
        Fit the model only on training rows with every model feature present. The preprocessing
        then learns no missingness indicators (an indicator learned where a column is almost never
        missing is noise, and one whose missingness means something else in a new survey is
        worse); missing values at prediction are median-imputed. The reference curve and the
        residual-acceleration regression still use every training row at risk.
    clip_to_training
        At prediction, clip every model feature but chronological age to its ``[min, max]`` on the model's training rows
        before the model sees it, so a linear predictor is never extrapolated beyond the support of
        the training data. This matters when a new survey measures a column with another assay or
        detection limit: NHANES III reports CRP below 0.21 mg/dL as 0.21 (66 % of rows), continuous
        NHANES measures it down to 0.01, and ``log(CRP)`` would then extrapolate three log-units
        below anything the model has seen. A no-op on the training cohort itself.
    prefit
        The model is already fitted: :meth:`fit` fits only the reference and the residual.

    Attributes
    ----------
    model_, reference_ : the fitted model and reference curve.
    residual_ : ResidualAcceleration
        OLS of BA on CA in the training cohort.
    train_acceleration_mean_, train_acceleration_se_ : float
        Mean raw acceleration (BA - CA) in the training cohort and its standard error
        ``sd / sqrt(n)``; zero would mean the model is centred in its reference population.
    n_model_rows_ : int
        Rows the model was fitted on.
    feature_range_ : dict
        Column -> ``(min, max)`` over the model's training rows (used by ``clip_to_training``).

    References
    ----------
    Levine ME et al. An epigenetic biomarker of aging for lifespan and healthspan. Aging
    2018;10(4):573-591. doi:10.18632/aging.101414.
    Gompertz B. Phil Trans R Soc 1825;115:513-583. doi:10.1098/rstl.1825.0026.
    Kwon D, Belsky DW. GeroScience 2021;43:2795-2808. doi:10.1007/s11357-021-00480-5 (residual
    "advance" acceleration).
    """

    def __init__(self, model: CumulativeHazardModel, reference: HazardReference | None = None, *,
                 outcome: str = "death", horizon: float = 10.0, complete_cases: bool = False,
                 clip_to_training: bool = True, prefit: bool = False) -> None:
        self.model = model
        self.reference = reference
        self.outcome = outcome
        self.horizon = horizon
        self.complete_cases = complete_cases
        self.clip_to_training = clip_to_training
        self.prefit = prefit

    def fit(self, cohort: Cohort) -> LearnedBiologicalAge:
        """Fit model, reference curve and residual regression on the training ``cohort``.

        Parameters
        ----------
        cohort
            The training and reference population (e.g. NHANES III).

        Returns
        -------
        LearnedBiologicalAge
            ``self``.
        """
        _check_horizon(self.horizon)
        if not isinstance(self.model, CumulativeHazardModel):
            raise SurvageInputError(f"{type(self.model).__name__} is not a survival model", column="model",
                                    expected="fit(cohort) and predict_cumulative_hazard(cohort, times, outcome)")
        cohort.outcome(self.outcome)
        rows = np.ones(cohort.n, dtype=bool)
        columns = _model_columns(self.model, cohort)
        if self.complete_cases:
            rows = cohort.frame[columns].notna().all(axis=1).to_numpy()
            if not rows.any():
                raise SurvageInputError("no training row has every model feature", column="complete_cases",
                                        expected="complete rows or complete_cases=False")
        if not self.prefit:
            self.model.fit(cohort.subset(rows) if not rows.all() else cohort)
        self.n_model_rows_ = int(rows.sum())
        used = cohort.frame.loc[rows, columns].astype(float)
        # chronological age is never clipped: log-mortality is linear in age well beyond any survey
        self.feature_range_ = {c: (float(used[c].min()), float(used[c].max())) for c in columns if c != cohort.age}
        self.model_ = self.model
        ref = self.reference if self.reference is not None else GompertzReference()
        if not hasattr(ref, "_params"):
            at = cohort.at_risk(self.outcome)
            ref.fit(cohort.ages()[at], cohort.time(self.outcome)[at], cohort.event(self.outcome)[at])
        self.reference_ = ref
        ba = self._biological_age(cohort)
        ca = cohort.ages()
        self.residual_ = ResidualAcceleration().fit(ba, ca)
        acc = age_acceleration(ba, ca)
        acc = acc[np.isfinite(acc)]
        self.train_acceleration_mean_ = float(acc.mean())
        self.train_acceleration_se_ = float(acc.std(ddof=1) / np.sqrt(acc.size))
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "residual_"):
            raise SurvageInputError("LearnedBiologicalAge is not fitted", expected="call fit() first")

    def _clipped(self, cohort: Cohort) -> Cohort:
        cols = [c for c in self.feature_range_ if c in cohort.frame.columns]
        if not self.clip_to_training or not cols:
            return cohort
        frame = cohort.frame.copy()
        for c in cols:
            lo, hi = self.feature_range_[c]
            frame[c] = frame[c].astype(float).clip(lo, hi)
        return replace(cohort, frame=frame)

    def clip_report(self, cohort: Cohort) -> pd.DataFrame:
        """Per model feature: share of ``cohort``'s observed values below / above the training range.

        Parameters
        ----------
        cohort
            A cohort to be scored (e.g. a new survey).

        Returns
        -------
        pandas.DataFrame
            Indexed by column; ``train_min``, ``train_max``, ``below``, ``above`` (fractions of the
            non-missing values).
        """
        if not hasattr(self, "feature_range_"):
            raise SurvageInputError("LearnedBiologicalAge is not fitted", expected="call fit() first")
        out = {}
        for c, (lo, hi) in self.feature_range_.items():
            x = cohort.frame[c].astype(float).dropna().to_numpy() if c in cohort.frame else np.array([])
            n = max(x.size, 1)
            out[c] = {"train_min": lo, "train_max": hi, "below": float((x < lo).sum() / n),
                      "above": float((x > hi).sum() / n)}
        return pd.DataFrame.from_dict(out, orient="index")

    def cumulative_hazard(self, cohort: Cohort) -> np.ndarray:
        """Predicted cumulative hazard of ``outcome`` over ``[0, horizon]`` per person, ``(n,)``.

        Features are clipped to the training range first when ``clip_to_training``.
        """
        if not hasattr(self, "model_"):
            raise SurvageInputError("LearnedBiologicalAge is not fitted", expected="call fit() first")
        h = self.model_.predict_cumulative_hazard(self._clipped(cohort), [float(self.horizon)], self.outcome)
        return np.asarray(h, dtype=float)[:, 0]

    def _biological_age(self, cohort: Cohort) -> np.ndarray:
        return biological_age(self.cumulative_hazard(cohort), self.reference_, self.horizon).biological_age

    def predict(self, cohort: Cohort) -> pd.DataFrame:
        """Biological age and accelerations for every person of ``cohort``.

        Parameters
        ----------
        cohort
            Any cohort with the model's feature columns (e.g. a later survey wave).

        Returns
        -------
        pandas.DataFrame
            Indexed like ``cohort.frame``; columns ``biological_age``, ``acceleration``
            (BA - CA), ``residual_acceleration`` (BA minus the training OLS fit of BA on CA),
            ``cumulative_hazard`` (at the horizon) and ``extrapolated`` (BA outside the
            reference age range; extrapolated, never clipped).
        """
        self._check_fitted()
        h = self.cumulative_hazard(cohort)
        res = biological_age(h, self.reference_, self.horizon)
        ca = cohort.ages()
        return pd.DataFrame({
            "biological_age": res.biological_age,
            "acceleration": age_acceleration(res.biological_age, ca),
            "residual_acceleration": self.residual_.transform(res.biological_age, ca),
            "cumulative_hazard": h,
            "extrapolated": res.extrapolated,
        }, index=cohort.frame.index)
