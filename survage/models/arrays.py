"""Plain arrays as a cohort, so array-based benchmarks use the same estimator interface."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from survage.data.cohort import Cohort, Outcome
from survage.errors import SurvageInputError

#: the modality name given to array features
ARRAY_MODALITY = "tabular"
_AGE = "__age__"
_ID = "__row__"


def cohort_from_arrays(X: np.ndarray | pd.DataFrame, time: np.ndarray | None = None, event: np.ndarray | None = None,
                       *, feature_names: Sequence[str] | None = None, outcome: str = "death") -> Cohort:
    """A cohort whose single modality ``"tabular"`` holds the columns of ``X``.

    Parameters
    ----------
    X
        Feature matrix ``(n, p)`` (NaN = missing) or a DataFrame (its column names are used).
    time, event
        Outcome arrays (time in years); ``None`` for prediction-only cohorts.
    feature_names
        Column names (default ``x0 .. x{p-1}``, or the DataFrame's).
    outcome
        Name of the outcome.

    Returns
    -------
    Cohort
        With ``modalities = {"demographics": (), "tabular": feature_names}``; fit a model with
        ``modalities=("tabular",)`` (what :meth:`SurvivalModel.fit_arrays` does). The cohort's
        age column is a placeholder and is never a feature.
    """
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns] if feature_names is None else list(feature_names)
        values = X.to_numpy(dtype=float)
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim != 2:
            raise SurvageInputError(f"X has shape {values.shape}", column="X", expected="a 2-D array (n, p)")
        names = [f"x{j}" for j in range(values.shape[1])] if feature_names is None else list(feature_names)
    if len(names) != values.shape[1] or len(set(names)) != len(names):
        raise SurvageInputError("feature_names must be unique, one per column of X", column="feature_names",
                                expected=f"{values.shape[1]} unique names")
    n = values.shape[0]
    frame = pd.DataFrame(values, columns=names)
    frame[_ID] = np.arange(n)
    frame[_AGE] = 50.0
    has_outcome = time is not None and event is not None
    if (time is None) != (event is None):
        raise SurvageInputError("give both time and event, or neither", column="time")
    frame["__time__"] = np.asarray(time, float) if has_outcome else 1.0
    frame["__event__"] = np.asarray(event, float) if has_outcome else 0.0
    return Cohort.build(frame, ids=_ID, age=_AGE, sex=None,
                        modalities={"demographics": (), ARRAY_MODALITY: tuple(names)},
                        outcomes=[Outcome(outcome, "__time__", "__event__")], strict=True,
                        require_events=has_outcome, source="arrays")
