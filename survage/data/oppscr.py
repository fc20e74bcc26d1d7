"""Read an opportunistic-CT screening sheet (OppScrData layout) into a :class:`Cohort`.

The layout, its exact headers and the reading rules are described in
:mod:`survage.data.oppscr_layout` (and ``shared/oppscr_layout.md``); cell codings are documented
in :mod:`survage.data.sheet_cells`. Times stay in days from the CT (outcome unit ``"days"``);
:meth:`Cohort.time` converts to years.

Data errors (text in a numeric column, a missing or negative follow-up, a death or diagnosis after
the end of follow-up, a diagnosis text without a day count or the reverse, a duplicate ``PT ID``)
raise one :class:`~survage.errors.SurvageInputError` naming every row, column and value in
``strict`` mode; by default the rows are left out of the affected analyses (the whole cohort, or
one outcome for diagnosis-pair errors) and each is recorded with its reason in
:attr:`Cohort.exclusions`. Nothing is dropped silently.

Outcomes follow the competing-risk convention of Putter, Fiocco & Geskus (2007), "Tutorial in
biostatistics: competing risks and multi-state models", Stat Med 26:2389-2430,
doi:10.1002/sim.2712: each diagnosis outcome is censored at death or last follow-up and declares
``competing=("death",)`` (cause-specific hazards).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from survage.data.cohort import Cohort, Outcome
from survage.data.exclusions import COHORT_SCOPE, ExclusionLog
from survage.data.oppscr_layout import (CLINICAL_HEADERS, COMPOSITE_OUTCOMES, CT_HEADERS, DEATH,
                                        DX_PAIRS, FOLLOWUP, ID_HEADERS, IMAGE_HEADER, OUTCOMES,
                                        SHEET_HEADERS, normalise_header)
from survage.data.sheet_cells import (CellError, cell_text, parse_alcohol, parse_number,
                                      parse_percent, parse_sex, parse_yes_no)
from survage.data.sheet_read import read_sheet_cells
from survage.errors import SurvageInputError

#: the primary identifier (duplicates and blanks are checked on it)
PRIMARY_ID = "PT ID"
#: columns the simulator adds (kept as outcome data, never features)
SIMULATOR_COLUMNS = ("true_biological_age", "true_log_hazard")
#: percent columns (unit: percent, 0-100), each with a ``<name>_bound`` flag column
PERCENT_FEATURES = ("frs_10y", "frax_major", "frax_hip")
#: CT and clinical measures that cannot be negative (HU values can)
NON_NEGATIVE = ("bmi", "tat_area", "total_body_area", "vat_area", "sat_area", "vat_sat_ratio",
                "muscle_area", "l3_smi", "aoca_agatston")
#: right-skewed CT measure, log-transformed in preprocessing (zeros handled by an offset)
LOG_FEATURES = ("aoca_agatston",)
#: diagnosis outcomes (all but death), in :data:`OUTCOMES` order
DX_OUTCOMES = tuple(o for o in OUTCOMES if o != "death")
#: the canonical column name of the image path
IMAGE_COLUMN = "ct_image_path"


class SheetHeaderWarning(UserWarning):
    """A sheet header the reader cannot place (the column is ignored)."""


class SheetOutcomeWarning(UserWarning):
    """An outcome with no incident events in the sheet (left out of the cohort's outcomes)."""


def _outcome_of(event: str) -> str:
    for name, members in COMPOSITE_OUTCOMES.items():
        if event in members:
            return name
    return event


#: diagnosis event (one DX pair) -> the outcome it defines
EVENT_OUTCOME: dict[str, str] = {e: _outcome_of(e) for _, _, e in DX_PAIRS}

_BINARY = {"bmi_over_30", "tobacco", "metabolic_syndrome"}
_PARSERS: dict[str, Callable[[object], float]] = {
    "sex": parse_sex, "alcohol_abuse": parse_alcohol, **{c: parse_yes_no for c in _BINARY},
}


@dataclass(frozen=True)
class SheetProblem:
    """One data error: a row (0-based data row), the exact header, the cell, the reason, the scope."""

    row: int
    header: str
    value: str
    reason: str
    scope: str

    def describe(self) -> str:
        val = "" if self.header in ID_HEADERS else f", value {self.value!r}"
        return f"row {self.row} (sheet line {self.row + 2}), column {self.header!r}{val}: {self.reason}"


def match_headers(headers: list[str], body: pd.DataFrame, *, strict: bool) -> dict[str, int]:
    """Place each sheet header: exact layout header -> column position.

    Headers match after :func:`~survage.data.oppscr_layout.normalise_header`. A missing required
    header (any named header of the layout) always raises; a header that cannot be placed (or a
    header-less column holding values) raises in ``strict`` mode and warns otherwise.
    """
    known = [h for h in SHEET_HEADERS if h] + [IMAGE_HEADER, *SIMULATOR_COLUMNS]
    by_norm = {normalise_header(h): h for h in known}
    placed: dict[str, int] = {}
    unknown: list[str] = []
    dup: list[str] = []
    for pos, h in enumerate(headers):
        if not h:
            if any(cell_text(v) is not None for v in body[pos]):
                unknown.append(f"<blank header, column {pos + 1}>")
            continue
        exact = by_norm.get(normalise_header(h))
        if exact is None:
            unknown.append(h)
        elif exact in placed:
            dup.append(h)
        else:
            placed[exact] = pos
    required = [h for h in SHEET_HEADERS if h]
    missing = [h for h in required if h not in placed]
    if missing or dup or (unknown and strict):
        parts = []
        if missing:
            parts.append(f"missing required header(s) {missing}")
        if dup:
            parts.append(f"header(s) given twice {dup}")
        if unknown:
            parts.append(f"header(s) that cannot be placed {unknown}")
        raise SurvageInputError("; ".join(parts), column=(missing or dup or unknown)[0],
                                expected="the OppScrData headers (matched ignoring case and runs of spaces)")
    for h in unknown:
        warnings.warn(f"sheet header {h!r} cannot be placed; the column is ignored",
                      SheetHeaderWarning, stacklevel=3)
    return placed


def read_oppscr(path: str | os.PathLike[str], *, strict: bool = False, sheet: str | int = 0) -> Cohort:
    """Read an opportunistic-CT screening sheet (``.xlsx`` or ``.csv``) as a cohort.

    Parameters
    ----------
    path
        The sheet, in the OppScrData layout (:data:`~survage.data.oppscr_layout.SHEET_HEADERS`).
    strict
        Raise one error naming every data error instead of leaving rows out.
    sheet
        Worksheet name or position (``.xlsx`` only).

    Returns
    -------
    Cohort
        Identifiers ``PT ID`` (primary), ``Record ID``, ``Visit ID``; age ``age`` (years), sex
        ``sex`` (1 male, 0 female). Modalities: ``demographics`` (age, sex), ``clinical`` (bmi,
        bmi_over_30, tobacco, alcohol_abuse, frs_10y, frax_major, frax_hip in percent each with
        a ``*_bound`` flag -1/0/+1, metabolic_syndrome, ``history_<outcome>`` flags of conditions
        diagnosed before the CT), ``ct_measures`` (the canonical CT names) and ``ct_image``
        (``ct_image_path``, when the sheet has :data:`IMAGE_HEADER`). Outcomes in days from the
        CT: ``death`` and the diagnosis outcomes of :data:`DX_OUTCOMES` (first incident
        diagnosis, censored at death or last follow-up, competing with death). Outcomes with no
        incident event are left out with a :class:`SheetOutcomeWarning`.

    Raises
    ------
    SurvageInputError
        For a missing required header (always), a header that cannot be placed or any data error
        (``strict``), or a sheet without deaths.
    """
    p = Path(path)
    headers, body = read_sheet_cells(p, sheet=sheet)
    pos = match_headers(headers, body, strict=strict)
    n = len(body)
    raw = {h: body[i].tolist() for h, i in pos.items()}
    out = pd.DataFrame(index=range(n))
    problems: list[SheetProblem] = []
    log = ExclusionLog()

    def column(header: str, parser: Callable[[object], float], scope: str) -> np.ndarray:
        vals = np.full(n, np.nan)
        for r, v in enumerate(raw[header]):
            try:
                vals[r] = parser(v)
            except CellError as err:
                problems.append(SheetProblem(r, header, _shown(v), str(err), scope))
        return vals

    def check(mask: np.ndarray, header: str, reason: str, scope: str, values: np.ndarray) -> None:
        for r in np.flatnonzero(mask):
            problems.append(SheetProblem(int(r), header, _shown(values[r]), reason, scope))

    # identifiers: text, never interpreted
    for h in ID_HEADERS:
        out[h] = pd.Series([cell_text(v) for v in raw[h]], dtype=object)
    if strict:
        ids = out[PRIMARY_ID]
        check(ids.isna().to_numpy(), PRIMARY_ID, "missing identifier", COHORT_SCOPE, np.full(n, ""))
        check((ids.duplicated(keep=False) & ids.notna()).to_numpy(), PRIMARY_ID,
              "duplicate identifier", COHORT_SCOPE, np.full(n, ""))

    # clinical and CT features
    for h, name in {**CLINICAL_HEADERS, **CT_HEADERS}.items():
        if name in PERCENT_FEATURES:
            _percent_column(raw[h], h, name, out, problems, log)
            continue
        out[name] = column(h, _PARSERS.get(name, parse_number), COHORT_SCOPE)
        if name in NON_NEGATIVE:
            check(out[name].to_numpy() < 0, h, "negative value of a non-negative measure",
                  COHORT_SCOPE, out[name].to_numpy())

    # follow-up and death (days from the CT)
    fu = column(FOLLOWUP, parse_number, COHORT_SCOPE)
    fu_bad_text = {pr.row for pr in problems if pr.header == FOLLOWUP}
    missing_fu = np.isnan(fu) & ~np.isin(np.arange(n), list(fu_bad_text))
    check(missing_fu, FOLLOWUP, "missing follow-up", COHORT_SCOPE, fu)
    check(fu < 0, FOLLOWUP, "negative follow-up", COHORT_SCOPE, fu)
    death = column(DEATH, parse_number, COHORT_SCOPE)
    check(death < 0, DEATH, "negative day count", COHORT_SCOPE, death)
    check(death > fu, DEATH, "death after the end of follow-up", COHORT_SCOPE, death)
    out["followup_days"] = fu
    out["death_days"] = death
    died = ~np.isnan(death)
    out["death_time"] = np.where(died, death, fu)
    out["death_event"] = died.astype(float)
    end = np.where(died, np.minimum(death, np.where(np.isnan(fu), np.inf, fu)), fu)

    # diagnosis pairs -> incident days, prevalent flags, per-outcome errors
    incident = {o: np.full(n, np.inf) for o in DX_OUTCOMES}
    prevalent = {o: np.zeros(n, dtype=bool) for o in DX_OUTCOMES}
    erroneous = {o: np.zeros(n, dtype=bool) for o in DX_OUTCOMES}
    for text_h, day_h, event in DX_PAIRS:
        o = EVENT_OUTCOME[event]
        before = len(problems)
        day = column(day_h, parse_number, o)
        text = [cell_text(v) for v in raw[text_h]]
        has_text = np.array([t is not None for t in text])
        has_day = ~np.isnan(day)
        check(has_text & ~has_day & ~np.isin(np.arange(n), [pr.row for pr in problems[before:]]),
              day_h, "diagnosis text without a day count", o, np.array(text, dtype=object))
        check(has_day & ~has_text, text_h, "day count without a diagnosis text", o, day)
        ok = has_text & has_day
        check(ok & (day > fu), day_h, "diagnosis after the end of follow-up", o, day)
        check(ok & (day <= fu) & died & (day > death), day_h, "diagnosis after death", o, day)
        for pr in problems[before:]:
            erroneous[o][pr.row] = True
        good = ok & ~erroneous[o]
        neg = good & (day < 0)
        prevalent[o] |= neg
        log.add(np.flatnonzero(neg).tolist(), scope=o, column=day_h,
                reason="condition present before the CT (negative day count)",
                values=[_shown(v) for v in day[neg]])
        inc = good & (day >= 0)
        incident[o] = np.where(inc, np.minimum(incident[o], day), incident[o])
        out[f"{event}_dx_text"] = pd.Series(text, dtype=object)
        out[f"{event}_dx_days"] = day
    for o in DX_OUTCOMES:
        has = np.isfinite(incident[o])
        out[f"{o}_time"] = np.where(has, incident[o], end)
        out[f"{o}_event"] = has.astype(float)
        hist = prevalent[o].astype(float)
        out[f"history_{o}"] = np.where(erroneous[o] & ~prevalent[o], np.nan, hist)

    # optional columns: CT image path, simulator truth
    modalities: dict[str, tuple[str, ...]] = {
        "demographics": ("age", "sex"),
        "clinical": ("bmi", "bmi_over_30", "tobacco", "alcohol_abuse",
                     *(c for f in PERCENT_FEATURES for c in (f, f"{f}_bound")),
                     "metabolic_syndrome", *(f"history_{o}" for o in DX_OUTCOMES)),
        "ct_measures": tuple(CT_HEADERS.values()),
    }
    if IMAGE_HEADER in pos:
        paths = [cell_text(v) for v in raw[IMAGE_HEADER]]
        out[IMAGE_COLUMN] = pd.Series(
            [None if s is None else str(s if Path(s).is_absolute() else (p.parent / s).resolve())
             for s in paths], dtype=object)
        modalities["ct_image"] = (IMAGE_COLUMN,)
    sim = [c for c in SIMULATOR_COLUMNS if c in pos]
    for c in sim:
        out[c] = column(c, parse_number, COHORT_SCOPE)

    if strict and problems:
        raise _strict_error(problems)
    for pr in problems:
        log.add([pr.row], scope=pr.scope, column=pr.header, reason=pr.reason,
                values=[None if pr.header in ID_HEADERS else pr.value])

    outcomes = [Outcome("death", "death_time", "death_event", "days")] + [
        Outcome(o, f"{o}_time", f"{o}_event", "days", ("death",)) for o in DX_OUTCOMES]
    outcome_data = ["followup_days", "death_days", *sim,
                    *(f"{e}_dx_{k}" for _, _, e in DX_PAIRS for k in ("text", "days"))]
    cohort = Cohort.build(
        out, ids=PRIMARY_ID, age="age", sex="sex", modalities=modalities, outcomes=outcomes,
        outcome_data=outcome_data, bookkeeping=[h for h in ID_HEADERS if h != PRIMARY_ID],
        log_features=LOG_FEATURES, followup="followup_days", followup_unit="days",
        exclusions=log, strict=strict, require_events=False,
        source=f"opportunistic-CT screening sheet {p.name}")
    cohort = replace(cohort, ids=(PRIMARY_ID, *(h for h in ID_HEADERS if h != PRIMARY_ID)),
                     bookkeeping=frozenset())
    return _drop_eventless(cohort)


def _percent_column(cells: list[object], header: str, name: str, out: pd.DataFrame,
                    problems: list[SheetProblem], log: ExclusionLog) -> None:
    n = len(cells)
    vals, bound = np.full(n, np.nan), np.zeros(n)
    notes: dict[str, list[int]] = {}
    for r, v in enumerate(cells):
        try:
            vals[r], bound[r], note = parse_percent(v)
        except CellError as err:
            problems.append(SheetProblem(r, header, _shown(v), str(err), COHORT_SCOPE))
            continue
        if note:
            notes.setdefault(note, []).append(r)
    for note, rows in notes.items():
        log.add(rows, scope=f"feature:{name}", column=header, reason=note,
                values=[_shown(cells[r]) for r in rows])
    out[name] = vals
    out[f"{name}_bound"] = bound


def _drop_eventless(cohort: Cohort) -> Cohort:
    if np.nansum(cohort.event("death")) == 0:
        raise SurvageInputError("the sheet has no deaths among the retained rows", column=DEATH,
                                expected="at least one death")
    keep, empty = {}, []
    for name, o in cohort.outcomes.items():
        if np.nansum(cohort.event(name)) > 0:
            keep[name] = o
        else:
            empty.append(name)
    if empty:
        warnings.warn(f"outcome(s) {empty} have no incident events in the sheet and are left out",
                      SheetOutcomeWarning, stacklevel=3)
    return replace(cohort, outcomes=keep)


def _strict_error(problems: list[SheetProblem]) -> SurvageInputError:
    problems = sorted(problems, key=lambda pr: (pr.row, pr.header))
    listing = "; ".join(pr.describe() for pr in problems)
    return SurvageInputError(f"{len(problems)} data error(s) in the sheet (strict mode): {listing}",
                             column=problems[0].header,
                             rows=sorted({pr.row for pr in problems}))


def _shown(v: object) -> str:
    if isinstance(v, float) and math.isnan(v):
        return ""
    s = cell_text(v)
    return "" if s is None else s
