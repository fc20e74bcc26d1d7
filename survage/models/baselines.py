"""Baseline estimators under the survage prediction interface.

* :class:`LifelinesCox` - lifelines ``CoxPHFitter`` (Efron ties, optional ridge/elastic-net
  penalty) on the preprocessed features.
* :class:`RandomSurvivalForest` - scikit-survival's random survival forest.
* :class:`AgeGompertz` - Gompertz hazard in attained age only, ``h(a) = exp(alpha + beta a)``.

They are not saveable without pickle (their state lives in other libraries' objects); survage's
own :class:`~survage.models.SurvivalModel` is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from survage.data.cohort import Cohort
from survage.data.preprocessing import CohortPreprocessor
from survage.errors import SurvageInputError
from survage.losses import expm1_ratio, gompertz_nll
from survage.models.baseline_hazard import step_at
from survage.models.targets import outcome_targets


class _TabularBaseline:
    """Shared plumbing: preprocessing on the fit cohort, one outcome, prediction checks."""

    outcome: str
    modalities: tuple[str, ...]
    #: leave out the preprocessed columns that are constant, or aliased (linear combinations of
    #: earlier columns), on the fitting rows
    _drop_constant: bool = False
    #: clip new data to the training range of each feature before preprocessing
    clip_to_training_range: bool = False

    def _design_fit(self, cohort: Cohort) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        self.preprocessor_ = CohortPreprocessor.for_cohort(
            cohort, self.modalities, clip_to_training_range=self.clip_to_training_range).fit(cohort.frame)
        self.dropped_columns_: list[str] = []
        time, event = outcome_targets(cohort, self.outcome)
        keep = np.isfinite(time) & np.isfinite(event)
        x = self._design(cohort)[keep].reset_index(drop=True)
        if self._drop_constant:
            self.dropped_columns_ = aliased_columns(x)
            x = x.drop(columns=self.dropped_columns_)
        return x, time[keep], event[keep]

    def _design(self, cohort: Cohort) -> pd.DataFrame:
        inputs, _ = self.preprocessor_.transform(cohort.frame)
        names = [n for m in self.preprocessor_.modalities for n in self.preprocessor_.modalities[m].output_names_]
        x = pd.DataFrame(np.column_stack([inputs[m] for m in self.preprocessor_.modalities]).astype(float),
                         columns=names)
        return x.drop(columns=getattr(self, "dropped_columns_", []))

    def _check(self, outcome: str | None) -> None:
        if not hasattr(self, "preprocessor_"):
            raise SurvageInputError("model used before fit", expected="fit() first")
        if outcome is not None and outcome != self.outcome:
            raise SurvageInputError(f"the model has no outcome {outcome!r}", column="outcome",
                                    expected=repr(self.outcome))

    def predict_survival(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                         outcome: str | None = None) -> np.ndarray:
        """Survival probability ``(n_samples, n_times)``."""
        return np.exp(-self.predict_cumulative_hazard(cohort, times, outcome))  # type: ignore[attr-defined]


def constant_columns(x: pd.DataFrame) -> list[str]:
    """Names of the columns of ``x`` with a single value (no variation) over its rows."""
    values = x.to_numpy(dtype=float)
    if values.shape[0] == 0:
        return [str(c) for c in x.columns]
    same = np.all(values == values[0], axis=0)
    return [str(c) for c, s in zip(x.columns, same) if s]


def aliased_columns(x: pd.DataFrame, tol: float = 1e-7) -> list[str]:
    """Names of the columns of ``x`` that are, once centred, linear combinations of earlier ones.

    Greedy in column order (as R's ``lm``/``coxph`` mark aliased terms ``NA``): a centred
    column is kept when the part of it orthogonal to the kept columns has a norm above ``tol``
    times its own (modified Gram-Schmidt). Constant columns are aliased with the intercept.
    """
    values = x.to_numpy(dtype=float)
    values = values - values.mean(axis=0) if values.shape[0] else values
    basis: list[np.ndarray] = []
    out = []
    for j, name in enumerate(x.columns):
        col = values[:, j].copy()
        norm = float(np.linalg.norm(col))
        for q in basis:
            col -= (q @ col) * q
        rest = float(np.linalg.norm(col))
        if norm == 0.0 or rest <= tol * norm:
            out.append(str(name))
        else:
            basis.append(col / rest)
    return out


class LifelinesCox(_TabularBaseline):
    """Cox proportional hazards by lifelines (Efron ties), on the preprocessed features.

    Preprocessed columns that are constant on the fitting rows (a flag nobody has, a bound
    indicator never set) carry no information in a Cox model (the baseline hazard absorbs
    them), and columns that are linear combinations of earlier ones (the identical missingness
    indicators of measures read from one CT) are not identified; both make lifelines'
    Newton-Raphson singular. They are left out of the fit and of prediction and listed in
    ``dropped_columns_`` (constant and aliased columns, in column order; R ``coxph`` reports
    such coefficients as ``NA``).

    Cox (1972), doi:10.1111/j.2517-6161.1972.tb00899.x; lifelines: Davidson-Pilon (2019),
    doi:10.21105/joss.01317.

    Parameters
    ----------
    outcome
        Outcome name.
    modalities
        Tabular modalities used as covariates.
    penalizer, l1_ratio
        lifelines' penalty ``penalizer * ((1 - l1_ratio)/2 ||b||^2 + l1_ratio ||b||_1)``.
    """

    _drop_constant = True

    def __init__(self, outcome: str = "death", modalities: Sequence[str] = ("demographics", "clinical"),
                 penalizer: float = 0.0, l1_ratio: float = 0.0,
                 clip_to_training_range: bool = False) -> None:
        self.outcome = outcome
        self.modalities = tuple(modalities)
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.clip_to_training_range = clip_to_training_range

    def fit(self, cohort: Cohort) -> "LifelinesCox":
        """Fit on every person at risk for ``outcome`` in ``cohort``."""
        from lifelines import CoxPHFitter

        x, t, e = self._design_fit(cohort)
        df = x.assign(__time=t, __event=e)
        self.model_ = CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio).fit(df, "__time", "__event")
        self.baseline_ = (self.model_.baseline_cumulative_hazard_.index.to_numpy(float),
                          self.model_.baseline_cumulative_hazard_.iloc[:, 0].to_numpy(float))
        return self

    def predict_risk(self, cohort: Cohort, outcome: str | None = None) -> np.ndarray:
        """Log partial hazard (centred at the training means), higher = worse."""
        self._check(outcome)
        return np.asarray(self.model_.predict_log_partial_hazard(self._design(cohort)), dtype=float)

    def predict_cumulative_hazard(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                                  outcome: str | None = None) -> np.ndarray:
        """Breslow cumulative hazard (step function) times ``exp(risk)``, ``(n, n_times)``."""
        h0 = step_at(*self.baseline_, np.atleast_1d(np.asarray(times, float)))
        return np.exp(self.predict_risk(cohort, outcome))[:, None] * h0[None, :]


class RandomSurvivalForest(_TabularBaseline):
    """Random survival forest (Ishwaran et al. 2008, doi:10.1214/08-AOAS169) by scikit-survival.

    Parameters
    ----------
    outcome, modalities
        As :class:`LifelinesCox`.
    n_estimators, min_samples_leaf, max_features
        Passed to ``sksurv.ensemble.RandomSurvivalForest``.
    seed
        ``random_state``.
    n_jobs
        Parallel jobs.
    """

    def __init__(self, outcome: str = "death", modalities: Sequence[str] = ("demographics", "clinical"),
                 n_estimators: int = 100, min_samples_leaf: int = 15, max_features: str | float | None = "sqrt",
                 seed: int = 0, n_jobs: int = 1) -> None:
        self.outcome = outcome
        self.modalities = tuple(modalities)
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.seed = seed
        self.n_jobs = n_jobs

    def fit(self, cohort: Cohort) -> "RandomSurvivalForest":
        """Fit the forest on every person at risk for ``outcome``."""
        from sksurv.ensemble import RandomSurvivalForest as _RSF
        from sksurv.util import Surv

        x, t, e = self._design_fit(cohort)
        self.model_ = _RSF(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                           max_features=self.max_features, random_state=self.seed, n_jobs=self.n_jobs)
        self.model_.fit(x.to_numpy(), Surv.from_arrays(e.astype(bool), t))
        return self

    def predict_risk(self, cohort: Cohort, outcome: str | None = None) -> np.ndarray:
        """The forest's risk score (sum of the ensemble cumulative hazard), higher = worse."""
        self._check(outcome)
        return np.asarray(self.model_.predict(self._design(cohort).to_numpy()), dtype=float)

    def predict_cumulative_hazard(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                                  outcome: str | None = None) -> np.ndarray:
        """Ensemble cumulative hazard at ``times`` (0 before the first training time)."""
        self._check(outcome)
        h = self.model_.predict_cumulative_hazard_function(self._design(cohort).to_numpy(), return_array=True)
        grid = np.asarray(self.model_.unique_times_, float)
        idx = np.searchsorted(grid, np.atleast_1d(np.asarray(times, float)), side="right") - 1
        return np.where(idx[None, :] >= 0, h[:, np.clip(idx, 0, None)], 0.0)


class AgeGompertz:
    r"""Gompertz hazard in attained age only: :math:`h(a) = \exp(\alpha + \beta a)`.

    Fitted by maximum likelihood with delayed entry at the baseline age ``A`` (exit ``A + t``):
    :math:`\ell = \sum_i \delta_i(\alpha + \beta(A_i + t_i)) - e^{\alpha + \beta A_i}
    (e^{\beta t_i} - 1)/\beta`. Gompertz (1825), doi:10.1098/rstl.1825.0026; left truncation:
    Klein & Moeschberger (2003), doi:10.1007/b97377.

    Parameters
    ----------
    outcome
        Outcome name.
    """

    def __init__(self, outcome: str = "death") -> None:
        self.outcome = outcome

    def fit(self, cohort: Cohort) -> "AgeGompertz":
        """Maximum-likelihood ``alpha_``, ``beta_`` (L-BFGS in float64, centred age)."""
        time, event = outcome_targets(cohort, self.outcome)
        age = cohort.ages()
        keep = np.isfinite(time) & np.isfinite(event)
        a = torch.as_tensor(age[keep], dtype=torch.float64)
        t = torch.as_tensor(time[keep], dtype=torch.float64)
        d = torch.as_tensor(event[keep], dtype=torch.float64)
        if float(d.sum()) == 0:
            raise SurvageInputError(f"no events of {self.outcome!r}", column=self.outcome, expected="events")
        centre = float(a.mean())
        rate = float(d.sum() / t.sum())
        params = torch.tensor([np.log(rate), 0.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([params], lr=1.0, max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                                line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            # log h(age) = a0 + beta (age - centre); time scale: age - centre, entry at A - centre
            loss = gompertz_nll(params[0].expand(len(t)), params[1], a + t - centre, d, entry=a - centre,
                                reduction="mean")
            loss.backward()
            return loss

        for _ in range(5):
            opt.step(closure)
        a0, beta = (float(v) for v in params.detach())
        self.beta_ = beta
        self.alpha_ = a0 - beta * centre
        self.loglik_ = -float(closure().detach()) * len(t)
        return self

    def _check(self, outcome: str | None) -> None:
        if not hasattr(self, "alpha_"):
            raise SurvageInputError("model used before fit", expected="fit() first")
        if outcome is not None and outcome != self.outcome:
            raise SurvageInputError(f"the model has no outcome {outcome!r}", column="outcome",
                                    expected=repr(self.outcome))

    def predict_risk(self, cohort: Cohort, outcome: str | None = None) -> np.ndarray:
        """Log hazard at the baseline age, ``alpha + beta * age``, higher = worse."""
        self._check(outcome)
        return self.alpha_ + self.beta_ * cohort.ages()

    def predict_cumulative_hazard(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                                  outcome: str | None = None) -> np.ndarray:
        """``exp(alpha + beta A) (exp(beta t) - 1) / beta``, ``(n, n_times)``."""
        risk = np.exp(self.predict_risk(cohort, outcome))[:, None]
        t = torch.as_tensor(np.atleast_1d(np.asarray(times, float)), dtype=torch.float64)
        return risk * expm1_ratio(torch.tensor(self.beta_, dtype=torch.float64), t).numpy()[None, :]

    def predict_survival(self, cohort: Cohort, times: Sequence[float] | np.ndarray,
                         outcome: str | None = None) -> np.ndarray:
        """Survival probability ``(n_samples, n_times)``."""
        return np.exp(-self.predict_cumulative_hazard(cohort, times, outcome))
