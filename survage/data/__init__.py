"""Cohort data: the contract, validation, preprocessing, splits and bundled datasets."""

from survage.data.cohort import KNOWN_MODALITIES, Cohort, Outcome
from survage.data.exclusions import COHORT_SCOPE, Exclusion, ExclusionLog
from survage.data.nhanes import load_nhanes

__all__ = ["COHORT_SCOPE", "KNOWN_MODALITIES", "Cohort", "Exclusion", "ExclusionLog", "Outcome",
           "load_nhanes"]
