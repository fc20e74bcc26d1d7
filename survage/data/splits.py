"""Reproducible splits stratified by event status and age band, driven by one seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from survage.errors import SurvageInputError

#: age band edges (years) used for stratification
AGE_BANDS = (0.0, 40.0, 50.0, 60.0, 70.0, 200.0)


@dataclass(frozen=True)
class Split:
    """Row positions of a train/validation/test split."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def strata_labels(event: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Stratum per row: event status (NaN counts as its own level) x age band."""
    ev = np.where(np.isnan(event), 2, event).astype(int)
    band = np.digitize(np.nan_to_num(age, nan=-1.0), AGE_BANDS[1:-1])
    lab = ev * 10 + band
    # merge strata too small to split into their event level
    vals, counts = np.unique(lab, return_counts=True)
    small = vals[counts < 10]
    return np.where(np.isin(lab, small), ev * 10, lab)


def train_validation_test_split(
    event: np.ndarray, age: np.ndarray, *, test_size: float = 0.2, validation_size: float = 0.1,
    seed: int = 0,
) -> Split:
    """Stratified split (event status x age band) of row positions.

    ``validation_size`` is the fraction of all rows (taken from the non-test part).
    """
    n = len(event)
    if len(age) != n:
        raise SurvageInputError("event and age lengths differ", expected=f"{n} ages")
    if not (0 < test_size < 1 and 0 <= validation_size < 1 - test_size):
        raise SurvageInputError("bad split sizes", expected="0 < test, 0 <= validation, sum < 1")
    idx = np.arange(n)
    strata = strata_labels(np.asarray(event, float), np.asarray(age, float))
    rest, test = train_test_split(idx, test_size=test_size, stratify=strata, random_state=seed)
    if validation_size == 0:
        return Split(np.sort(rest), np.array([], dtype=int), np.sort(test))
    frac = validation_size / (1 - test_size)
    train, val = train_test_split(rest, test_size=frac, stratify=strata_labels(
        np.asarray(event, float)[rest], np.asarray(age, float)[rest]), random_state=seed + 1)
    return Split(np.sort(train), np.sort(val), np.sort(test))


def kfold_splits(event: np.ndarray, age: np.ndarray, *, k: int = 5, seed: int = 0
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (event status x age band): list of ``(train, test)`` positions."""
    strata = strata_labels(np.asarray(event, float), np.asarray(age, float))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(np.sort(tr), np.sort(te)) for tr, te in skf.split(np.zeros(len(strata)), strata)]
