"""Survival estimators: ``SurvivalModel`` and baselines, one prediction interface.

Every estimator has ``fit(cohort) -> self``, ``predict_risk(cohort, outcome)`` (higher = worse),
``predict_survival(cohort, times, outcome)`` and ``predict_cumulative_hazard(cohort, times,
outcome)`` (``(n_samples, n_times)``, times in years).
"""

from survage.models.arrays import cohort_from_arrays
from survage.models.baseline_hazard import breslow_cumulative_hazard
from survage.models.survival_model import SurvivalModel
from survage.models.targets import outcome_targets

__all__ = ["SurvivalModel", "breslow_cumulative_hazard", "cohort_from_arrays", "outcome_targets"]
