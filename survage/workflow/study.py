"""The study pipeline behind ``survage run``: data -> models -> evaluation -> biological age -> report.

:func:`run_study` writes a run directory:

- ``model/``: the primary model (``SurvivalModel.save``); ``ensemble/``: the refits behind the
  biological-age intervals; ``bioage_reference.json``: the Gompertz reference;
- ``metrics.json``: every number of the report (schema in ``docs/api.md``), no identifiers;
- ``predictions.csv``: per person, the identifier, the design part, risk and survival per
  outcome and horizon, biological age, acceleration and interval;
- ``config.resolved.yaml``: the configuration actually used (overrides applied);
- ``report.pdf``.
"""

from __future__ import annotations

import dataclasses
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survage.data.cohort import Cohort
from survage.atomic import atomic_write_json, atomic_write_text
from survage.report.tables import horizon_label
from survage.workflow import bioage_compare as bc
from survage.workflow import evaluate as ev
from survage.workflow.bioage_run import BioAgeModel, fit_reference
from survage.workflow.config import ExperimentConfig, dump_config, load_config
from survage.workflow.fitting import PRIMARY, Fitted, fit_baseline, fit_neural
from survage.workflow.methods import methods_section
from survage.workflow.sources import Design, load_cohort, make_design
from survage.workflow.table1 import table1

SCHEMA_VERSION = 1
MODEL_DIR = "model"


def resolve_config(config: ExperimentConfig | str | Path, modalities: list[str] | None = None,
                   seed: int | None = None) -> ExperimentConfig:
    """Load ``config`` (a path or a config) and apply command-line overrides."""
    cfg = config if isinstance(config, ExperimentConfig) else load_config(config)
    if modalities:
        cfg = cfg.replace(model=dataclasses.replace(cfg.model, modalities=tuple(modalities)))
    if seed is not None:
        cfg = cfg.replace(seed=int(seed))
    return cfg


def run_study(config: ExperimentConfig | str | Path, out_dir: str | Path, data_path: str | Path | None = None,
              modalities: list[str] | None = None, seed: int | None = None, *, progress: bool = True) -> Path:
    """Run the whole study of ``config`` and return the run directory ``out_dir``.

    Parameters
    ----------
    config
        An :class:`ExperimentConfig` or the path of an ``experiments/*.yaml`` file.
    out_dir
        Run directory (created; files in it are replaced atomically).
    data_path
        Data file overriding ``data.path`` (required for ``oppscr``).
    modalities
        Overrides ``model.modalities``.
    seed
        Overrides ``seed`` (split, initialisation, bootstrap).
    progress
        Show tqdm progress bars and print the one-line summary.
    """
    from tqdm import tqdm

    cfg = resolve_config(config, modalities, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = _time.time()
    bar = tqdm(total=8, desc=f"survage run {cfg.name}", unit="step", disable=not progress)

    def step(what: str) -> None:
        bar.set_postfix_str(what)

    step("loading data")
    cohort = load_cohort(cfg, data_path, workdir=out)
    design = make_design(cfg, cohort, cfg.seed)
    bar.update()
    step("fitting models")
    notes: dict[str, str] = {}
    fitted = _fit_all(cfg, design, progress, notes)
    bar.update()
    step("evaluating on the test set")
    models_section, grid, point, reps = _evaluate(cfg, design, fitted, progress, notes)
    bar.update()
    step("biological age")
    primary = fitted[PRIMARY]
    bio = _bioage_model(cfg, design, primary, progress)
    bar.update()
    step("secondary analyses")
    secondary = _secondary(cfg, design, progress, notes)
    bar.update()
    metrics = _metrics_doc(cfg, design, fitted, models_section, grid, point, reps, bio, notes, secondary)
    bar.update()
    step("writing files")
    primary.model.save(out / MODEL_DIR)
    bio.save(out)
    dump_config(cfg, out / "config.resolved.yaml")
    preds = predictions_frame(cohort, primary.model, bio, cfg, parts=_parts(cohort, design))
    write_predictions(preds, out / "predictions.csv")
    from survage.report.pdf import check_metrics, render_report

    check_metrics(metrics)
    atomic_write_json(out / "metrics.json", metrics)
    bar.update()
    step("rendering the report")
    render_report(metrics, out / "report.pdf")
    bar.update()
    bar.close()
    if progress:
        print(summary_line(metrics, out, _time.time() - t0))
    return out


# ------------------------------------------------------------------------------ fitting
def _fit_all(cfg: ExperimentConfig, design: Design, progress: bool, notes: dict[str, str]) -> dict[str, Fitted]:
    from tqdm import tqdm

    outs = cfg.outcomes.all
    train, val = design.part("train"), (design.part("validation") if design.validation.size else None)
    mods = tuple(cfg.model.modalities)
    jobs: list[tuple[str, Any]] = [(PRIMARY, lambda: fit_neural(
        cfg, PRIMARY, f"Neural ({' + '.join(mods)})", mods, outs, train, val, cfg.seed))]
    if cfg.model.single_modality and len(mods) > 1:
        for m in mods:
            jobs.append((f"only_{m}", lambda m=m: fit_neural(
                cfg, f"only_{m}", f"Neural ({m} only)", (m,), outs, train, val, cfg.seed)))
    for b in cfg.model.baselines:
        jobs.append((b, lambda b=b: fit_baseline(b, cfg, outs, design.part("fit"), cfg.seed)))
    fitted: dict[str, Fitted] = {}
    for name, job in tqdm(jobs, desc="models", unit="model", leave=False, disable=not progress):
        try:
            f = job()
        except Exception as exc:  # a failing comparator is reported, the primary model must fit
            if name == PRIMARY:
                raise
            notes[f"model_{name}"] = f"{name} could not be fitted: {type(exc).__name__}: {str(exc)[:200]}"
            continue
        if f is not None:
            fitted[name] = f
            for o, why in f.details.get("failed", {}).items():
                notes[f"model_{name}_{o}"] = f"{name} could not be fitted for {o}: {why}"
    return fitted


# ------------------------------------------------------------------------------ evaluation
def _outcome_data(c: Cohort, outcome: str) -> tuple[Cohort, np.ndarray, np.ndarray]:
    ok = np.flatnonzero(c.at_risk(outcome))
    sub = c.subset(ok)
    return sub, sub.time(outcome), sub.event(outcome)


def _predict(f: Fitted, c: Cohort, outcome: str, grid: ev.EvalGrid) -> ev.Predictions:
    return ev.Predictions(np.asarray(f.model.predict_risk(c, outcome), float),
                          np.asarray(f.model.predict_survival(c, grid.times, outcome), float))


def _evaluate(cfg: ExperimentConfig, design: Design, fitted: dict[str, Fitted], progress: bool,
              notes: dict[str, str]) -> tuple[dict[str, Any], dict[str, ev.EvalGrid], dict[str, Any], dict[str, Any]]:
    models: dict[str, Any] = {n: {"label": f.label, "kind": f.kind, "modalities": list(f.modalities),
                                  "metrics": {}} for n, f in fitted.items()}
    grids, points, repss = {}, {}, {}
    test, train = design.part("test"), design.part("train")
    for k, o in enumerate(cfg.outcomes.all):
        tc, t, e = _outcome_data(test, o)
        _, tr_t, tr_e = _outcome_data(train, o)
        grid = ev.eval_grid(cfg.evaluation.horizons, t)
        dropped = [h for h in cfg.evaluation.horizons if h not in grid.horizons]
        if dropped:
            notes[f"horizons_{o}"] = f"horizons {dropped} lie beyond the test follow-up of {o}"
        preds = {n: _predict(f, tc, o, grid) for n, f in fitted.items() if o in f.outcomes}
        point, reps = ev.bootstrap_metrics((tr_t, tr_e), t, e, preds, grid, n_boot=cfg.evaluation.bootstrap,
                                           seed=cfg.seed + 1000 * (k + 1), progress=progress)
        for n in preds:
            models[n]["metrics"][o] = ev.metrics_section(point[n], reps[n], grid, t.size, int(e.sum()))
        grids[o], points[o], repss[o] = grid, point, reps
    return models, grids, points, repss


def _best_single(cfg: ExperimentConfig, design: Design, fitted: dict[str, Fitted]) -> tuple[str | None, str]:
    """The single-modality model with the highest Harrell C on the validation rows."""
    from survage.metrics.concordance import harrell_c

    singles = [n for n in fitted if n.startswith("only_")]
    if not singles:
        return None, ""
    o = cfg.outcomes.primary
    part = "validation" if design.validation.size else "train"
    c, t, e = _outcome_data(design.part(part), o)
    scores = {n: harrell_c(t, e, fitted[n].model.predict_risk(c, o)).estimate for n in singles}
    best = max(scores, key=lambda n: scores[n])
    return best, f"chosen by Harrell C on the {part} rows ({', '.join(f'{n} {v:.3f}' for n, v in scores.items())})"


# ------------------------------------------------------------------------------ biological age
def _bioage_model(cfg: ExperimentConfig, design: Design, primary: Fitted, progress: bool) -> BioAgeModel:
    from tqdm import tqdm

    o, b = cfg.outcomes.primary, cfg.bioage
    ref = fit_reference(design.part("train"), o)
    members = []
    if b.interval_members > 1:
        train, val = design.part("train"), (design.part("validation") if design.validation.size else None)
        for k in tqdm(range(1, b.interval_members), desc="ensemble", unit="model", leave=False,
                      disable=not progress):
            members.append(fit_neural(cfg, f"member_{k}", "", primary.modalities, (o,), train, val,
                                      cfg.seed + k).model)
    return BioAgeModel(ref, b.horizon, o, members, b.interval_level).fit_residual(primary.model,
                                                                               design.part("train"))


# ------------------------------------------------------------------------------ secondary analyses
def _secondary(cfg: ExperimentConfig, design: Design, progress: bool, notes: dict[str, str]) -> dict[str, Any]:
    """The configured secondary analyses (``secondary.analyses``); a failing one is noted."""
    from survage.errors import SurvageInputError
    from survage.workflow.secondary_dxa import dxa_secondary

    out: dict[str, Any] = {}
    if "dxa" in cfg.secondary.analyses:
        try:
            out["dxa"] = dxa_secondary(cfg, design.cohort, progress=progress)
        except SurvageInputError as exc:
            notes["secondary_dxa"] = f"DXA secondary analysis not run: {exc}"
    return out


# ------------------------------------------------------------------------------ metrics.json
def _median_follow_up(t: np.ndarray, e: np.ndarray) -> float | None:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996,
    doi:10.1016/0197-2456(96)00075-X)."""
    from lifelines import KaplanMeierFitter

    if t.size == 0:
        return None
    m = KaplanMeierFitter().fit(t, 1 - e).median_survival_time_
    return float(m) if np.isfinite(m) else None


def _calibration(cfg: ExperimentConfig, design: Design, primary: Fitted, grid: ev.EvalGrid) -> dict[str, Any]:
    from lifelines import KaplanMeierFitter

    from survage.metrics.calibration import calibration_austin
    from survage.metrics.calibration_lifelines import calibration_lifelines

    o = cfg.outcomes.primary
    tc, t, e = _outcome_data(design.part("test"), o)
    surv = primary.model.predict_survival(tc, grid.horizons, o)
    fn, method, short = ((calibration_austin, "Austin, Harrell & van Klaveren 2020: Cox model on a restricted "
                          "cubic spline (3 knots) of cloglog predicted risk", "Austin et al. 2020 (RCS Cox)")
                         if cfg.evaluation.calibration == "austin" else
                         (calibration_lifelines, "lifelines survival_probability_calibration: Royston-Parmar "
                          "model linear in cloglog predicted risk", "lifelines (Royston-Parmar)"))
    km = KaplanMeierFitter().fit(t, e)
    hs = {}
    for j, h in enumerate(grid.horizons):
        r = fn(t, e, t=float(h), surv_at_t=surv[:, j])
        hs[horizon_label(h)] = {
            "ici": r.ici, "e50": r.e50, "e90": r.e90, "emax": r.emax,
            "observed_risk": float(1 - km.predict(float(h))), "mean_predicted_risk": float(np.mean(1 - surv[:, j])),
            "curve": {"predicted": np.round(r.curve_predicted, 5).tolist(),
                      "observed": np.round(r.curve_observed, 5).tolist()}}
    return {"model": PRIMARY, "outcome": o, "method": method, "method_short": short, "method_key": cfg.evaluation.calibration,
            "horizons": hs}


def _metrics_doc(cfg: ExperimentConfig, design: Design, fitted: dict[str, Fitted], models: dict[str, Any],
                 grids: dict[str, ev.EvalGrid], points: dict[str, Any], repss: dict[str, Any], bio: BioAgeModel,
                 notes: dict[str, str], secondary: dict[str, Any] | None = None) -> dict[str, Any]:
    o = cfg.outcomes.primary
    c = design.cohort
    parts = {"train": design.train, "validation": design.validation, "test": design.test}
    n = {p: int(v.size) for p, v in parts.items()}
    events = {oc: {p: int(np.nansum(c.event(oc)[v])) for p, v in parts.items()} for oc in cfg.outcomes.all}
    fu = {p: _median_follow_up(c.time(o)[v], c.event(o)[v]) for p, v in parts.items()}
    feats = [col for col in c.feature_columns(list(cfg.model.modalities))]
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "title": f"survage study: {cfg.name}",
        "subtitle": cfg.description,
        "primary_outcome": o,
        "outcomes": list(cfg.outcomes.all),
        "horizons": [float(h) for h in grids[o].horizons],
        "cohort": {"source": c.source, "design": design.description, "n": n, "events": events,
                   "median_follow_up_years": fu,
                   "table1": table1(c, o, feats, population="All analysed people")},
        "exclusions": c.exclusions.to_records(),
        "models": models,
    }
    ref, why = _best_single(cfg, design, fitted)
    if ref is not None:
        doc["paired_reference"] = ref
        doc["paired_reference_choice"] = why
        doc["paired_differences"] = ev.paired_differences(points[o], repss[o], grids[o], ref, o)
    else:
        notes["paired_differences"] = "no single-modality comparators in this configuration"
    doc["calibration"] = _calibration(cfg, design, fitted[PRIMARY], grids[o])
    cl = bc.study_clocks(cfg, design, fitted[PRIMARY], bio, notes)
    doc["bioage"], doc["km_by_acceleration_quartile"] = bc.bioage_section(cfg, design, fitted[PRIMARY], bio, cl,
                                                                          notes)
    hold = bc.kdm_holdout_section(cfg, design, fitted[PRIMARY], bio, cl, notes)
    if hold is not None:
        doc["kdm_holdout"] = hold
    if secondary:
        doc["secondary"] = secondary
    missing = [b for b in cfg.model.baselines if b not in fitted and f"model_{b}" not in notes]
    if missing:
        notes["baselines"] = f"baseline(s) {missing} not available in this installation"
    card = {f.label: f.description for f in fitted.values()}
    text = [
        f"Design: {design.description}. Preprocessing (log transforms, median imputation with missingness "
        "indicators, standardisation) is fitted on the training rows only.",
        f"Evaluation on the test set with {cfg.evaluation.bootstrap} bootstrap resamples shared by all models "
        f"(paired percentile intervals). Uno's C is truncated at {grids[o].horizons[-1]:g} years; the IBS "
        f"integrates the IPCW Brier score from {grids[o].ibs_times[0]:g} to {grids[o].ibs_times[-1]:g} years; "
        "censoring weights come from the training rows. Baselines are fitted on the training and validation "
        "rows; neural models on the training rows with early stopping on the validation rows.",
        f"Biological age: Gompertz reference fitted on the training rows; the primary model's predicted "
        f"{bio.horizon:g}-year cumulative hazard is mapped to the age at which the reference carries the same "
        "hazard. " + (f"Intervals: {bio.level:.0%} percentile range over a deep ensemble of "
                      f"{1 + len(bio.members)} fits with different seeds." if bio.members else
                      "No biological-age intervals (bioage.interval_members < 2)."),
        "Clocks (survage, PhenoAge, Klemera-Doubal where their inputs exist) are compared on the same people: "
        "the rows where every clock is defined. Hazard ratios come from a Cox model (Efron ties) of the outcome "
        "on chronological age and acceleration; raw acceleration is BA - CA, residual (age-adjusted) "
        "acceleration is BA minus an OLS line of BA on CA fitted on the training rows.",
    ]
    if "kdm_holdout" in doc:
        text.append(f"Klemera-Doubal: {doc['kdm_holdout']['kdm']['fitted_on']}; compared on held-out rows. "
                    + doc["kdm_holdout"]["rows"])
    text += [f"{sec['title']}: {sec['method']}"
             for sec in (secondary or {}).values()]
    text += [f"Note: {v}" for v in notes.values()]
    doc["methods"] = methods_section(cfg, data=c.source, seed=cfg.seed, model_card=card, text=text)
    doc["notes"] = notes
    return doc


# ------------------------------------------------------------------------------ predictions
def _parts(cohort: Cohort, design: Design) -> np.ndarray:
    idx = design.cohort.frame.index.to_numpy()
    lab = pd.Series("not analysed", index=cohort.frame.index, dtype=object)
    for p in ("train", "validation", "test"):
        lab.loc[idx[getattr(design, p)]] = p
    return lab.to_numpy()


def predictions_frame(cohort: Cohort, model: Any, bio: BioAgeModel, cfg: ExperimentConfig,
                      parts: np.ndarray | None = None) -> pd.DataFrame:
    """Per-person predictions: identifier(s), part, risk and survival per outcome and horizon, BA."""
    df = cohort.frame[list(cohort.ids)].reset_index(drop=True).copy()
    if parts is not None:
        df["part"] = parts
    hs = np.asarray(cfg.evaluation.horizons, dtype=float)
    for o in cfg.outcomes.all:
        df[f"risk_{o}"] = model.predict_risk(cohort, o)
        s = model.predict_survival(cohort, hs, o)
        for j, h in enumerate(hs):
            df[f"survival_{o}_{horizon_label(h)}y"] = s[:, j]
    df["chronological_age"] = cohort.ages()
    for k, v in bio.predict(model, cohort).items():
        df[k] = v
    return df


def write_predictions(df: pd.DataFrame, path: Path) -> Path:
    """Write predictions as CSV with round-trip float precision (atomic)."""
    return atomic_write_text(path, df.to_csv(index=False, float_format="%.17g"))


def summary_line(metrics: dict[str, Any], out: Path, seconds: float) -> str:
    """One line: primary model's test C with CI, calibration ICI, BA HR per SD, report path."""
    from survage.report.tables import PRECISION, fmt, fmt_ci

    o = metrics["primary_outcome"]
    m = metrics["models"][PRIMARY]["metrics"][o]
    parts = [f"survage run {metrics['title'].split(': ', 1)[-1]}: test Harrell C "
             f"{fmt_ci(m['harrell_c'], PRECISION['c'])}"]
    cal = metrics.get("calibration", {}).get("horizons", {})
    if cal:
        h = list(cal)[-1]
        parts.append(f"ICI@{h}y {fmt(cal[h]['ici'], PRECISION['ici'])}")
    bio = (metrics.get("bioage") or {}).get("clocks", {}).get("survage")
    if bio:
        parts.append(f"BA HR/SD {fmt_ci(bio['hr_per_sd'], PRECISION['hr'])} (n={bio['n']:,})")
    parts.append(f"report {out / 'report.pdf'} ({seconds / 60:.1f} min)")
    return "; ".join(parts)
