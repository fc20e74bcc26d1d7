"""``survage predict``: apply a finished run to data, with the run's own parsing and preprocessing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from survage.data.cohort import Cohort
from survage.errors import SurvageInputError
from survage.workflow.bioage_run import BioAgeModel
from survage.workflow.config import ExperimentConfig, load_config
from survage.workflow.fitting import load_fitted_model
from survage.workflow.sources import SIMULATED_SHEET, load_cohort
from survage.workflow.study import MODEL_DIR, predictions_frame, write_predictions


def read_for_prediction(cfg: ExperimentConfig, run_dir: Path, data_path: str | Path | None) -> Cohort:
    """The cohort to score, read exactly as the run read its data.

    ``data_path`` None: the run's own data (bundled NHANES or flchain, the run's simulated
    sheet, or the configured sheet). A screening sheet (``oppscr``/``oppscr_sim``) is read with
    ``read_oppscr``; for ``nhanes`` the file must be an extract in the layout of the bundled
    NHANES files (``docs/data_formats.md``).
    """
    src = cfg.data.source
    if data_path is None:
        if src == "oppscr_sim":
            data_path = run_dir / SIMULATED_SHEET
        return load_cohort(cfg, data_path)
    p = Path(data_path)
    if not p.is_file():
        raise SurvageInputError(f"data file {str(p)!r} not found", column=str(p), expected="an existing file")
    if src in ("oppscr", "oppscr_sim"):
        return load_cohort(cfg, p)
    if src == "nhanes":
        return nhanes_from_table(pd.read_csv(p, low_memory=False), age_range=cfg.data.age_range,
                                 source=p.name)
    raise SurvageInputError(f"predict on a new file is not supported for data source {src!r}",
                            column="data.source", expected="nhanes, oppscr or oppscr_sim")


def nhanes_from_table(raw: pd.DataFrame, *, age_range: tuple[float, float], source: str) -> Cohort:
    """An NHANES-layout table of people to score (mortality columns optional)."""
    from survage.data.nhanes import nhanes_cohort

    return nhanes_cohort(raw, age_range=age_range, source=source, for_prediction=True)


def predict(run_dir: str | Path, data_path: str | Path | None, out_csv: str | Path) -> Path:
    """Score ``data_path`` (default: the run's own data) with the run in ``run_dir``.

    Warns (``DistributionShiftWarning``) for each column whose median lies outside the training
    1st-99th percentile range; raises :class:`SurvageInputError` for a missing column or an
    unknown category. On the run's own data the output equals ``predictions.csv`` (less its
    ``part`` column) exactly.

    Returns
    -------
    Path
        ``out_csv``.
    """
    run = Path(run_dir)
    if not (run / "config.resolved.yaml").is_file():
        raise SurvageInputError(f"{str(run)!r} is not a survage run directory", column=str(run),
                                expected="a folder written by survage run (config.resolved.yaml, model/)")
    cfg = load_config(run / "config.resolved.yaml")
    model = load_fitted_model(run / MODEL_DIR)
    bio = BioAgeModel.load(run)
    cohort = read_for_prediction(cfg, run, data_path)
    model.preprocessor_.warn_shift(cohort.frame)
    df = predictions_frame(cohort, model, bio, cfg)
    return write_predictions(df, Path(out_csv))
