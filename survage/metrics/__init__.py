"""Evaluation of survival predictions: discrimination, accuracy, calibration, hazard ratios, bootstrap.

Pure array code (numpy/scipy/numba); imports nothing from survage but :mod:`survage.errors`.
Keyword names: ``time``, ``event``, ``risk`` (higher = worse), ``surv`` (``(n, len(times))``),
``times``, ``train_time``/``train_event`` (censoring weights from training data).
"""

from survage.metrics.auc import TimeDependentAUCResult, time_dependent_auc
from survage.metrics.bootstrap import BootstrapResult, PairedBootstrapResult, bootstrap_ci, paired_bootstrap
from survage.metrics.brier import BrierResult, IntegratedBrierResult, brier_score, integrated_brier_score
from survage.metrics.calibration import CalibrationResult, calibration_austin
from survage.metrics.calibration_lifelines import calibration_lifelines
from survage.metrics.calibration_summary import (
    CalibrationInTheLargeResult,
    CalibrationSlopeResult,
    calibration_in_the_large,
    calibration_slope,
)
from survage.metrics.concordance import ConcordanceResult, harrell_c, uno_c
from survage.metrics.d_calibration import DCalibrationResult, d_calibration
from survage.metrics.hazard_ratio import HazardRatioResult, hazard_ratio_per_unit

__all__ = [
    "BootstrapResult", "BrierResult", "CalibrationInTheLargeResult", "CalibrationResult", "CalibrationSlopeResult",
    "ConcordanceResult", "DCalibrationResult", "HazardRatioResult", "IntegratedBrierResult",
    "PairedBootstrapResult", "TimeDependentAUCResult",
    "bootstrap_ci", "brier_score", "calibration_austin", "calibration_in_the_large", "calibration_lifelines",
    "calibration_slope", "d_calibration", "harrell_c", "hazard_ratio_per_unit", "integrated_brier_score",
    "paired_bootstrap", "time_dependent_auc", "uno_c",
]
