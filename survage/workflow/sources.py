"""Load the cohort named by a config and lay out its train/validation/test design."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from survage.data.cohort import Cohort
from survage.data.splits import train_validation_test_split
from survage.errors import SurvageInputError
from survage.workflow.config import ExperimentConfig


@dataclass(frozen=True)
class Design:
    """A cohort and the row positions (0..n-1) of its train, validation and test parts.

    Attributes
    ----------
    cohort
        All analysed people.
    train, validation, test
        Row positions; validation rows are used for early stopping only.
    description
        The design in words (for the report).
    """

    cohort: Cohort
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    description: str

    def part(self, name: str) -> Cohort:
        """The sub-cohort ``train``, ``validation``, ``test`` or ``fit`` (train + validation)."""
        if name == "fit":
            return self.cohort.subset(np.sort(np.r_[self.train, self.validation]).astype(int))
        return self.cohort.subset(getattr(self, name))


#: file name of the simulated sheet an ``oppscr_sim`` study writes into its run directory
SIMULATED_SHEET = "simulated_sheet.csv"


def load_cohort(cfg: ExperimentConfig, data_path: str | Path | None = None,
                workdir: str | Path | None = None) -> Cohort:
    """Read the cohort of ``cfg.data`` and keep the configured clinical columns."""
    cohort = _read_cohort(cfg, data_path, workdir)
    if cfg.data.clinical_features:
        cohort = cohort.with_features("clinical", cfg.data.clinical_features)
    return cohort


def _read_cohort(cfg: ExperimentConfig, data_path: str | Path | None = None,
                 workdir: str | Path | None = None) -> Cohort:
    """Read the cohort of ``cfg.data`` (``data_path`` overrides ``cfg.data.path``).

    An ``oppscr_sim`` study without a data file simulates ``data.n`` people with the study seed
    and writes the sheet to ``workdir/simulated_sheet.csv`` (so that ``survage predict`` can
    read the same sheet again).

    Raises
    ------
    SurvageInputError
        ``oppscr`` without a path, a missing file, or a source whose reader is not installed.
    """
    d = cfg.data
    path = Path(data_path) if data_path is not None else (Path(d.path) if d.path else None)
    if d.source == "nhanes":
        from survage.data import load_nhanes

        return load_nhanes("both", age_range=d.age_range, strict=d.strict)
    if d.source == "flchain":
        loader = _optional("survage.data.benchmarks", "load_flchain")
        return loader()
    if d.source == "oppscr":
        if path is None:
            raise SurvageInputError("an oppscr study needs the screening sheet", column="data.path",
                                    expected="--data PATH on the command line or data.path in the config")
        if not path.is_file():
            raise SurvageInputError(f"data file {str(path)!r} not found", column="data.path",
                                    expected="an existing .csv or .xlsx file")
        reader = _optional("survage.data.oppscr", "read_oppscr")
        return reader(path, strict=d.strict)
    if d.source == "oppscr_sim":
        reader = _optional("survage.data.oppscr", "read_oppscr")
        if path is not None:  # a simulated sheet written before
            if not path.is_file():
                raise SurvageInputError(f"data file {str(path)!r} not found", column="data.path",
                                        expected="an existing .csv or .xlsx file")
            return reader(path, strict=d.strict)
        if workdir is None:
            raise SurvageInputError("simulating a cohort needs a folder for the sheet", column="workdir",
                                    expected="the run directory")
        simulate = _optional("survage.simulate", "simulate_sheet_to_file")
        sheet = simulate(d.n, seed=cfg.seed, out=Path(workdir) / SIMULATED_SHEET, images=None)
        return reader(Path(sheet), strict=d.strict)
    raise SurvageInputError(f"unknown data source {d.source!r}", column="data.source")  # pragma: no cover


def make_design(cfg: ExperimentConfig, cohort: Cohort, seed: int) -> Design:
    """Train/validation/test positions of ``cohort`` for ``cfg.design`` (seeded)."""
    ds = cfg.design
    primary = cfg.outcomes.primary
    cohort.outcome(primary)  # names the outcome when unknown
    keep = np.flatnonzero(cohort.at_risk(primary))
    if keep.size < len(cohort):
        cohort = cohort.subset(keep)
    event = cohort.event(primary)
    age = cohort.ages()
    if ds.kind == "external":
        if "survey" not in cohort.frame:
            raise SurvageInputError("an external design needs a survey column", column="survey",
                                    expected="NHANES data")
        survey = cohort.frame["survey"].to_numpy()
        tr_all = np.flatnonzero(survey == ds.train)
        test = np.flatnonzero(survey == ds.test)
        if tr_all.size == 0 or test.size == 0:
            raise SurvageInputError("empty train or test survey", column="design",
                                    expected=f"rows from {ds.train} and {ds.test}")
        if ds.validation_size > 0:
            sp = train_validation_test_split(event[tr_all], age[tr_all], test_size=ds.validation_size,
                                             validation_size=0.0, seed=seed)
            train, val = tr_all[sp.train], tr_all[sp.test]
        else:
            train, val = tr_all, np.array([], dtype=int)
        from survage.data.nhanes import SURVEY_LABELS

        desc = (f"trained on {SURVEY_LABELS[ds.train]} ({ds.validation_size:.0%} held out for early "
                f"stopping), tested on {SURVEY_LABELS[ds.test]}")
        # only the two design surveys are analysed
        both = np.sort(np.r_[tr_all, test])
        if both.size < len(cohort):
            remap = -np.ones(len(cohort), dtype=int)
            remap[both] = np.arange(both.size)
            cohort = cohort.subset(both)
            train, val, test = remap[train], remap[val], remap[test]
        return Design(cohort, np.sort(train), np.sort(val), np.sort(test), desc)
    sp = train_validation_test_split(event, age, test_size=ds.test_size,
                                     validation_size=ds.validation_size, seed=seed)
    desc = (f"stratified random split (event status x age band, seed {seed}): "
            f"{1 - ds.test_size - ds.validation_size:.0%} train, {ds.validation_size:.0%} validation, "
            f"{ds.test_size:.0%} test")
    return Design(cohort, sp.train, sp.validation, sp.test, desc)


def _optional(module: str, name: str):  # type: ignore[no-untyped-def]
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise SurvageInputError(f"{module}.{name} is not available in this installation",
                                expected="a survage build with this data source") from None
