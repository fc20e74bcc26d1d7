"""Cohort data: the contract, validation, preprocessing, splits and bundled datasets."""

from survage.data.cohort import KNOWN_MODALITIES, Cohort, Outcome
from survage.data.exclusions import COHORT_SCOPE, Exclusion, ExclusionLog
from survage.data.nhanes import load_nhanes

__all__ = ["COHORT_SCOPE", "KNOWN_MODALITIES", "Cohort", "Exclusion", "ExclusionLog", "Outcome",
           "load_nhanes"]
from survage.data.benchmarks import load_flchain, load_gbsg2, load_rossi, load_whas500
from survage.data.oppscr import read_oppscr
from survage.data.sheet_io import write_sheet

__all__ += ["load_flchain", "load_gbsg2", "load_rossi", "load_whas500", "read_oppscr", "write_sheet"]
