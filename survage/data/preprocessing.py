"""Preprocessing fitted on training rows only, serialisable as JSON with the model.

Per modality: clipping of new values to the training range, declared log transforms, median
imputation with missingness indicators, one-hot coding of declared categorical columns,
standardisation. Also records each raw column's training 1st-99th percentile range to warn when
new data look like another unit.

Clipping to the training range (off by default; models and configs turn it on) is for transport to new surveys: a network or a
log-linear model extrapolates without bound outside the values it was fitted on, and surveys differ
in assay limits (NHANES III records CRP below 0.21 mg/dL as 0.21; 1999-2002 measures down to 0.01).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survage.errors import SurvageInputError


class DistributionShiftWarning(UserWarning):
    """New data whose column median lies outside the training 1st-99th percentile range."""


@dataclass
class ColumnSpec:
    """How one raw column is turned into model inputs (all fitted on training rows)."""

    name: str
    log_offset: float | None = None  # log(x + offset) when not None
    median: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    indicator: bool = False
    categories: list[float] | None = None  # one-hot categories when categorical
    p01: float = float("nan")
    p99: float = float("nan")
    lo: float = float("nan")  # training minimum (raw units); NaN = no clipping
    hi: float = float("nan")  # training maximum (raw units)

    def output_names(self) -> list[str]:
        if self.categories is not None:
            return [f"{self.name}=={c:g}" for c in self.categories[1:]] + (
                [f"{self.name}__missing"] if self.indicator else [])
        return [self.name] + ([f"{self.name}__missing"] if self.indicator else [])


@dataclass
class ModalityPreprocessor:
    """Preprocessing of one tabular modality (fit on training rows only).

    Parameters
    ----------
    columns
        Raw feature columns of the modality, in order.
    log_features
        Columns to log-transform (``log(x + offset)``, offset 0 unless the training minimum is
        not positive, then half the smallest positive training value).
    categorical
        Columns holding category codes; one-hot with the first category as reference.
    clip_to_training_range
        Clip values of new data to the training minimum and maximum before transforming.
    """

    columns: list[str]
    log_features: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    clip_to_training_range: bool = False
    specs_: list[ColumnSpec] = field(default_factory=list)

    def fit(self, frame: pd.DataFrame) -> "ModalityPreprocessor":
        """Fit on the training rows of ``frame``."""
        _check_columns(frame, self.columns)
        self.specs_ = []
        for c in self.columns:
            x = frame[c].to_numpy(dtype=float)
            obs = x[np.isfinite(x)]
            spec = ColumnSpec(c, indicator=bool(np.any(~np.isfinite(x))))
            if obs.size:
                spec.p01, spec.p99 = (float(v) for v in np.percentile(obs, [1, 99]))
                if self.clip_to_training_range:
                    spec.lo, spec.hi = float(obs.min()), float(obs.max())
            if c in self.categorical:
                spec.categories = sorted(float(v) for v in np.unique(obs))
                spec.median = float(np.median(obs)) if obs.size else 0.0
                self.specs_.append(spec)
                continue
            if c in self.log_features and obs.size:
                mn = obs.min()
                if mn < 0:
                    raise SurvageInputError("negative value in a log-transformed column", column=c,
                                            expected="values >= 0")
                pos = obs[obs > 0]
                # half the smallest positive training value (1 when none is positive)
                spec.log_offset = 0.0 if mn > 0 else 0.5 * (float(pos.min()) if pos.size else 1.0)
                obs = np.log(obs + spec.log_offset)
            if obs.size:
                spec.median = float(np.median(obs))
                spec.mean = float(obs.mean())
                sd = float(obs.std())
                spec.scale = sd if sd > 0 else 1.0
            self.specs_.append(spec)
        return self

    @property
    def output_names_(self) -> list[str]:
        """Names of the transformed columns."""
        return [n for s in self.specs_ for n in s.output_names()]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Transformed float32 matrix ``(n, len(output_names_))``."""
        if not self.specs_ and self.columns:
            raise SurvageInputError("preprocessor used before fit", expected="fit() first")
        _check_columns(frame, self.columns)
        cols: list[np.ndarray] = []
        for s in self.specs_:
            x = frame[s.name].to_numpy(dtype=float)
            miss = ~np.isfinite(x)
            if s.categories is not None:
                unknown = ~miss & ~np.isin(x, s.categories)
                if unknown.any():
                    rows = np.flatnonzero(unknown)
                    raise SurvageInputError(
                        f"unknown category {x[rows[0]]:g} (not seen in training)", column=s.name,
                        rows=rows.tolist(), expected=f"one of {s.categories}")
                for cat in s.categories[1:]:
                    cols.append(np.where(miss, 0.0, (x == cat).astype(float)))
            else:
                if np.isfinite(s.lo):
                    x = np.where(miss, x, np.clip(x, s.lo, s.hi))
                if s.log_offset is not None:
                    neg = ~miss & (x + s.log_offset <= 0)
                    if neg.any():
                        raise SurvageInputError("non-positive value in a log-transformed column",
                                                column=s.name, rows=np.flatnonzero(neg).tolist(),
                                                expected=f"values > {-s.log_offset:g}")
                    x = np.log(np.where(miss, 1.0, x + s.log_offset))
                x = np.where(miss, s.median, x)
                cols.append((x - s.mean) / s.scale)
            if s.indicator:
                cols.append(miss.astype(float))
        if not cols:
            return np.zeros((len(frame), 0), dtype=np.float32)
        return np.column_stack(cols).astype(np.float32)

    def shift_report(self, frame: pd.DataFrame) -> list[str]:
        """Columns whose median in ``frame`` lies outside the training 1st-99th percentiles."""
        bad = []
        for s in self.specs_:
            if s.categories is not None or s.name not in frame:
                continue
            x = frame[s.name].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size and np.isfinite(s.p01) and not (s.p01 <= np.median(x) <= s.p99):
                bad.append(f"{s.name} (median {np.median(x):.4g}, training 1st-99th percentile "
                           f"{s.p01:.4g}-{s.p99:.4g}: another unit?)")
        return bad

    def to_dict(self) -> dict[str, object]:
        """JSON-ready state."""
        return {"columns": self.columns, "log_features": self.log_features,
                "categorical": self.categorical, "clip_to_training_range": self.clip_to_training_range,
                "specs": [vars(s) for s in self.specs_]}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> "ModalityPreprocessor":
        """Rebuild from :meth:`to_dict` output."""
        obj = cls(list(d["columns"]), list(d["log_features"]), list(d["categorical"]),  # type: ignore[arg-type]
                  bool(d.get("clip_to_training_range", False)))
        obj.specs_ = [ColumnSpec(**s) for s in d["specs"]]  # type: ignore[union-attr]
        return obj


@dataclass
class CohortPreprocessor:
    """One :class:`ModalityPreprocessor` per tabular modality of a cohort."""

    modalities: dict[str, ModalityPreprocessor] = field(default_factory=dict)

    @classmethod
    def for_cohort(cls, cohort: "Cohort", modalities: Sequence[str],  # noqa: F821
                   *, clip_to_training_range: bool = False) -> "CohortPreprocessor":
        """Unfitted preprocessors for the named tabular modalities of ``cohort``."""
        mods = {}
        for m in modalities:
            if m == "ct_image":
                continue
            cols = cohort.feature_columns([m])
            mods[m] = ModalityPreprocessor(
                cols, [c for c in cols if c in cohort.log_features],
                [c for c in cols if c in cohort.categorical], clip_to_training_range)
        return cls(mods)

    def fit(self, frame: pd.DataFrame) -> "CohortPreprocessor":
        """Fit every modality on the training rows ``frame``."""
        for p in self.modalities.values():
            p.fit(frame)
        return self

    def transform(self, frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Return ``(inputs, present)``: per modality the matrix and a row-presence mask."""
        inputs, present = {}, {}
        for m, p in self.modalities.items():
            inputs[m] = p.transform(frame)
            present[m] = (frame[p.columns].notna().any(axis=1).to_numpy() if p.columns
                          else np.zeros(len(frame), dtype=bool))
        return inputs, present

    def warn_shift(self, frame: pd.DataFrame) -> list[str]:
        """Warn (naming the columns) where new data look unlike the training data."""
        bad = [b for p in self.modalities.values() for b in p.shift_report(frame)]
        for b in bad:
            warnings.warn(f"distribution shift in column {b}", DistributionShiftWarning, stacklevel=2)
        return bad

    def to_dict(self) -> dict[str, object]:
        return {m: p.to_dict() for m, p in self.modalities.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Mapping[str, object]]) -> "CohortPreprocessor":
        return cls({m: ModalityPreprocessor.from_dict(v) for m, v in d.items()})


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SurvageInputError(f"{len(missing)} feature column(s) missing: {missing}",
                                column=missing[0], expected="the columns the model was trained on")
