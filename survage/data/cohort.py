"""The cohort data contract: a table plus declared roles, validated at the boundary.

A :class:`Cohort` holds one row per person and declares which columns are identifiers,
chronological age, sex, features (grouped by modality) and outcomes. Everything a model sees
comes through :meth:`Cohort.features`, which can never return a column declared as outcome data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from survage.data.exclusions import COHORT_SCOPE, ExclusionLog
from survage.errors import SurvageInputError

TimeUnit = Literal["days", "months", "years"]

#: divide a time in this unit by the factor to get years
_PER_YEAR: dict[str, float] = {"days": 365.25, "months": 12.0, "years": 1.0}

#: modality names survage knows; any other name is allowed but these have meaning downstream
KNOWN_MODALITIES = ("demographics", "clinical", "dxa", "ct_measures", "ct_image")

#: plausible chronological ages, years
AGE_RANGE = (0.0, 120.0)


@dataclass(frozen=True)
class Outcome:
    """A time-to-event outcome stored in two columns.

    Attributes
    ----------
    name
        Outcome name (``"death"``, ``"cvd"``, ...).
    time
        Column with the time from baseline to event or censoring.
    event
        Column with 1 for the event, 0 for censoring.
    unit
        Unit of ``time``; survage converts to years internally.
    competing
        Names of outcomes that compete with this one (e.g. ``("death",)`` for a non-fatal
        diagnosis): models fit cause-specific hazards, censoring at the competing event.
    """

    name: str
    time: str
    event: str
    unit: TimeUnit = "years"
    competing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.unit not in _PER_YEAR:
            raise SurvageInputError(
                f"outcome {self.name!r} has unknown time unit {self.unit!r}",
                column=self.time, expected="one of days, months, years")


@dataclass
class Cohort:
    """A validated table of people with declared roles.

    Build it with :meth:`Cohort.build`, which validates and records exclusions.

    Attributes
    ----------
    frame
        The retained rows (index = source-row position, 0-based).
    ids
        Identifier column(s); never features, never printed.
    age
        Chronological age column (years).
    sex
        Sex column coded 1 = male, 0 = female, or ``None``.
    modalities
        Feature groups: modality name -> feature columns. ``demographics`` holds age (and sex).
    outcomes
        Outcome name -> :class:`Outcome`.
    outcome_data
        Columns that carry outcome information (times, events, causes of death, death-
        certificate flags, reference outputs of other tools): never features.
    bookkeeping
        Survey or file bookkeeping columns (wave, year, file paths of the source): never features.
    exclusions
        Every row left out, with scope and reason.
    log_features
        Feature columns to log-transform in preprocessing (declared, not guessed).
    categorical
        Feature columns holding integer category codes (one-hot encoded in preprocessing).
    source
        A short description of where the data came from (for reports).
    """

    frame: pd.DataFrame
    ids: tuple[str, ...]
    age: str
    sex: str | None
    modalities: dict[str, tuple[str, ...]]
    outcomes: dict[str, Outcome]
    outcome_data: frozenset[str] = frozenset()
    bookkeeping: frozenset[str] = frozenset()
    exclusions: ExclusionLog = field(default_factory=ExclusionLog)
    log_features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    source: str = ""

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        frame: pd.DataFrame,
        *,
        ids: str | Sequence[str],
        age: str,
        sex: str | None,
        modalities: Mapping[str, Sequence[str]],
        outcomes: Iterable[Outcome],
        outcome_data: Iterable[str] = (),
        bookkeeping: Iterable[str] = (),
        log_features: Sequence[str] = (),
        categorical: Sequence[str] = (),
        followup: str | None = None,
        followup_unit: TimeUnit = "years",
        exclusions: ExclusionLog | None = None,
        strict: bool = False,
        require_events: bool = True,
        source: str = "",
    ) -> "Cohort":
        """Validate ``frame`` against the declared roles and return a cohort.

        Structural problems (missing columns, a feature that is outcome data, an outcome with
        zero events) always raise :class:`~survage.errors.SurvageInputError`. Row problems
        (duplicate identifiers, non-numeric values, bad times or events, implausible ages, events
        after follow-up) raise in ``strict`` mode, listing the rows; otherwise the rows are left
        out and every exclusion is recorded with its reason.

        Parameters
        ----------
        frame
            Source table, one row per person. Its rows are re-indexed 0..n-1 (source positions).
        ids, age, sex, modalities, outcomes, outcome_data, log_features, categorical
            Declared roles (see the class attributes).
        followup
            Optional column with the total follow-up; an outcome event after it is an error.
        followup_unit
            Unit of ``followup``.
        exclusions
            Exclusions already recorded by a reader (kept and extended).
        strict
            Raise on any row problem instead of excluding.
        require_events
            Raise when an outcome has no events among the retained rows.
        source
            Where the data came from.
        """
        ids_t = (ids,) if isinstance(ids, str) else tuple(ids)
        mods = {m: tuple(c) for m, c in modalities.items()}
        if "demographics" not in mods:
            mods = {"demographics": tuple(c for c in (age, sex) if c is not None), **mods}
        outs = {o.name: o for o in outcomes}
        if not outs:
            raise SurvageInputError("a cohort needs at least one outcome", expected="an Outcome")
        od = set(outcome_data)
        for o in outs.values():
            od.update((o.time, o.event))
        if followup is not None:
            od.add(followup)
        log = ExclusionLog(list(exclusions.entries)) if exclusions is not None else ExclusionLog()
        df = frame.reset_index(drop=True).copy()

        needed = list(ids_t) + [age] + ([sex] if sex else []) + [c for cs in mods.values() for c in cs]
        needed += [c for o in outs.values() for c in (o.time, o.event)]
        needed += [followup] if followup else []
        missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
        if missing:
            raise SurvageInputError(
                f"{len(missing)} declared column(s) missing from the table: {missing}",
                column=missing[0], expected="every declared column present")
        never = od | set(bookkeeping) | set(ids_t)
        leaked = sorted({c for cs in mods.values() for c in cs} & never)
        if leaked:
            raise SurvageInputError(
                f"columns declared as outcome data, bookkeeping or identifiers cannot be features: {leaked}",
                column=leaked[0], expected="features free of outcome information")
        for c in log_features:
            if not any(c in cs for cs in mods.values()):
                raise SurvageInputError("log-transformed column is not a feature", column=c,
                                        expected="a column of a declared modality")

        problems: list[SurvageInputError] = []

        def flag(mask: np.ndarray, *, scope: str, column: str, reason: str) -> None:
            # a row already out of the cohort is not counted again for a later reason
            gone = np.isin(df.index.to_numpy(), list(log.rows(COHORT_SCOPE)))
            rows = np.flatnonzero(mask & ~gone)
            if rows.size == 0:
                return
            if strict:
                problems.append(SurvageInputError(reason, column=column, rows=rows.tolist()))
            else:
                log.add(df.index[rows].tolist(), scope=scope, column=column, reason=reason,
                        values=None if column in ids_t else [_cell(v) for v in df[column].iloc[rows].tolist()])

        # identifiers: present and unique
        for c in ids_t:
            flag(df[c].isna().to_numpy(), scope=COHORT_SCOPE, column=c, reason="missing identifier")
        dup = df.duplicated(subset=list(ids_t), keep=False).to_numpy() & ~df[list(ids_t)].isna().any(axis=1).to_numpy()
        flag(dup, scope=COHORT_SCOPE, column=ids_t[0], reason="duplicate identifier")

        # numeric features and age
        numeric_cols = [age] + ([sex] if sex else []) + [
            c for m, cs in mods.items() if m != "ct_image" for c in cs]
        for c in dict.fromkeys(numeric_cols):
            conv = pd.to_numeric(df[c], errors="coerce")
            bad = conv.isna().to_numpy() & df[c].notna().to_numpy()
            flag(bad, scope=COHORT_SCOPE, column=c, reason="non-numeric value in a numeric column")
            conv = conv.astype(float)
            inf = ~np.isfinite(conv.to_numpy()) & conv.notna().to_numpy()
            flag(inf, scope=COHORT_SCOPE, column=c, reason="infinite value")
            df[c] = conv.where(np.isfinite(conv), np.nan)
        a = df[age].to_numpy(dtype=float)
        flag(np.isnan(a), scope=COHORT_SCOPE, column=age, reason="missing age")
        flag((a < AGE_RANGE[0]) | (a > AGE_RANGE[1]), scope=COHORT_SCOPE, column=age,
             reason=f"implausible age (outside {AGE_RANGE[0]:g}-{AGE_RANGE[1]:g} years)")
        if sex:
            s = df[sex].to_numpy(dtype=float)
            flag(~np.isnan(s) & ~np.isin(s, [0.0, 1.0]), scope=COHORT_SCOPE, column=sex,
                 reason="sex not coded 1 = male, 0 = female")

        # outcomes: times finite and >= 0, events in {0, 1}, no event after follow-up
        fu = None
        if followup is not None:
            fu = pd.to_numeric(df[followup], errors="coerce").to_numpy(dtype=float) / _PER_YEAR[followup_unit]
            flag(~np.isfinite(fu) | (fu < 0), scope=COHORT_SCOPE, column=followup,
                 reason="missing, negative or non-finite follow-up")
        for o in outs.values():
            t = pd.to_numeric(df[o.time], errors="coerce").to_numpy(dtype=float)
            e = pd.to_numeric(df[o.event], errors="coerce").to_numpy(dtype=float)
            flag(~np.isfinite(t), scope=o.name, column=o.time, reason="missing or non-finite time")
            flag(np.isfinite(t) & (t < 0), scope=o.name, column=o.time, reason="negative time")
            flag(~np.isin(e, [0.0, 1.0]), scope=o.name, column=o.event, reason="event not in {0, 1}")
            if fu is not None:
                after = np.isfinite(t) & np.isfinite(fu) & (t / _PER_YEAR[o.unit] > fu + 1e-9) & (e == 1)
                flag(after, scope=o.name, column=o.time, reason="event after the end of follow-up")
            df[o.time] = t
            df[o.event] = e

        if problems:
            msg = "; ".join(str(p) for p in problems)
            raise SurvageInputError(f"{len(problems)} problem(s) in the table (strict mode): {msg}",
                                    column=problems[0].column, rows=problems[0].rows)

        # rows excluded at cohort scope are removed; outcome-scope exclusions stay as NaN outcome
        drop = sorted(log.rows(COHORT_SCOPE) & set(df.index))
        df = df.drop(index=drop)
        for o in outs.values():
            rows = sorted(log.rows(o.name) & set(df.index))
            df.loc[rows, [o.time, o.event]] = np.nan
        cohort = cls(frame=df, ids=ids_t, age=age, sex=sex, modalities=mods, outcomes=outs,
                     outcome_data=frozenset(od), bookkeeping=frozenset(bookkeeping), exclusions=log, log_features=tuple(log_features),
                     categorical=tuple(categorical), source=source)
        if require_events:
            for o in outs.values():
                if np.nansum(cohort.frame[o.event].to_numpy(dtype=float)) == 0:
                    raise SurvageInputError(f"outcome {o.name!r} has no events", column=o.event,
                                            expected="at least one event")
        return cohort

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n(self) -> int:
        """Number of retained people."""
        return len(self.frame)

    def feature_columns(self, modalities: Sequence[str] | None = None) -> list[str]:
        """Feature columns of ``modalities`` (all tabular modalities when ``None``), in order."""
        names = list(self.modalities) if modalities is None else list(modalities)
        unknown = [m for m in names if m not in self.modalities]
        if unknown:
            raise SurvageInputError(f"unknown modality {unknown[0]!r}",
                                    expected=f"one of {sorted(self.modalities)}")
        cols = [c for m in names if m != "ct_image" for c in self.modalities[m]]
        cols = list(dict.fromkeys(cols))
        leaked = [c for c in cols if c in self.outcome_data or c in self.bookkeeping or c in self.ids]
        if leaked:  # guarded at build too; a hand-edited cohort must not leak either
            raise SurvageInputError("outcome data or identifier requested as a feature",
                                    column=leaked[0], expected="no outcome columns in features")
        return cols

    def features(self, modalities: Sequence[str] | None = None) -> pd.DataFrame:
        """Feature table (float) of the requested modalities; never contains outcome data."""
        return self.frame[self.feature_columns(modalities)].astype(float)

    def modality_present(self, modality: str) -> np.ndarray:
        """Boolean per row: does the person have any value of ``modality``?"""
        cols = self.modalities.get(modality)
        if cols is None:
            raise SurvageInputError(f"unknown modality {modality!r}",
                                    expected=f"one of {sorted(self.modalities)}")
        if not cols:
            return np.zeros(self.n, dtype=bool)
        return self.frame[list(cols)].notna().any(axis=1).to_numpy()

    def outcome(self, name: str) -> Outcome:
        """The declared outcome ``name``."""
        try:
            return self.outcomes[name]
        except KeyError:
            raise SurvageInputError(f"unknown outcome {name!r}",
                                    expected=f"one of {sorted(self.outcomes)}") from None

    def at_risk(self, name: str) -> np.ndarray:
        """Boolean per row: is the person in the analysis of outcome ``name``?"""
        o = self.outcome(name)
        return self.frame[o.time].notna().to_numpy() & self.frame[o.event].notna().to_numpy()

    def time(self, name: str) -> np.ndarray:
        """Time to event or censoring for outcome ``name``, in years (NaN where excluded)."""
        o = self.outcome(name)
        return self.frame[o.time].to_numpy(dtype=float) / _PER_YEAR[o.unit]

    def event(self, name: str) -> np.ndarray:
        """Event indicator for outcome ``name`` (float: 1, 0 or NaN where excluded)."""
        return self.frame[self.outcome(name).event].to_numpy(dtype=float)

    def ages(self) -> np.ndarray:
        """Chronological age in years."""
        return self.frame[self.age].to_numpy(dtype=float)

    def subset(self, rows: np.ndarray | Sequence[int] | Sequence[bool]) -> "Cohort":
        """Cohort restricted to ``rows`` (positions 0..n-1 or a boolean mask); exclusions kept."""
        r = np.asarray(rows)
        frame = self.frame.iloc[r] if r.dtype != bool else self.frame.loc[r]
        return replace(self, frame=frame)

    def with_modalities(self, modalities: Sequence[str]) -> "Cohort":
        """The same people with only the named modalities declared."""
        keep = {m: self.modalities[m] for m in modalities if m in self.modalities}
        return replace(self, modalities=keep)

    def with_features(self, modality: str, columns: Sequence[str]) -> "Cohort":
        """The same people with ``modality`` restricted to ``columns`` (a subset, in that order).

        Only declared columns can be kept, so outcome data can never be brought in this way.
        """
        declared = self.modalities.get(modality)
        if declared is None:
            raise SurvageInputError(f"unknown modality {modality!r}", column=modality,
                                    expected=f"one of {sorted(self.modalities)}")
        unknown = [c for c in columns if c not in declared]
        if unknown:
            raise SurvageInputError(
                f"{len(unknown)} feature(s) not declared in modality {modality!r}: {unknown}",
                column=unknown[0], expected=f"columns of {modality!r}: {list(declared)}")
        return replace(self, modalities={**self.modalities, modality: tuple(columns)})

    def describe_roles(self) -> dict[str, object]:
        """JSON-ready declaration of roles (column names only; no values, no identifiers)."""
        return {
            "ids": list(self.ids), "age": self.age, "sex": self.sex,
            "modalities": {m: list(c) for m, c in self.modalities.items()},
            "outcomes": {n: {"time": o.time, "event": o.event, "unit": o.unit,
                             "competing": list(o.competing)} for n, o in self.outcomes.items()},
            "outcome_data": sorted(self.outcome_data), "bookkeeping": sorted(self.bookkeeping),
            "log_features": list(self.log_features),
            "categorical": list(self.categorical), "source": self.source,
        }


def _cell(v: object) -> object:
    return None if (isinstance(v, float) and np.isnan(v)) else v
