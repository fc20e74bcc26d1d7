"""Secondary analysis: does DXA body composition add to clinical data, within the people who have it?

DXA (``btotpf``, ``fm``, ``ffm``) exists only in continuous NHANES 1999-2002, ages 20-49 (3,414
people, about 200 deaths), never in the NHANES III training survey, so it cannot enter the
primary (external) design. Within the DXA rows this analysis runs a stratified k-fold
cross-validation (event status x age band, ``survage.data.splits.kfold_splits``, seeded by the
experiment seed) of three networks with the study's model settings: demographics + clinical,
demographics + DXA, demographics + clinical + DXA. Each fold's networks are fitted on the other
folds (early stopping on a stratified 15 % of them) and predict the held-out fold's risk of the
outcome by the horizon, ``1 - S(h)``: an absolute risk, comparable across fold models (a Cox
network's raw score is not). Discrimination is Harrell's C of the pooled out-of-fold risks
(Harrell et al. 1982, doi:10.1001/jama.1982.03320430047030) with percentile bootstrap CIs, and
differences between models come from the paired bootstrap on the same resampled people (Efron &
Tibshirani 1993, doi:10.1007/978-1-4899-4541-9; ``survage.metrics.paired_bootstrap``). The
bootstrap does not redo the cross-validation, so the intervals leave out the fitting
variability: they are, if anything, too narrow. The section says plainly when the analysis is
underpowered (fewer events than ``secondary.min_events``, or a difference whose CI spans 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from survage.data.cohort import Cohort
from survage.errors import SurvageInputError
from survage.report.tables import PRECISION, fmt
from survage.workflow.config import ExperimentConfig

#: the three models: name -> (label, modalities)
DXA_MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clinical": ("Demographics + clinical", ("demographics", "clinical")),
    "dxa": ("Demographics + DXA", ("demographics", "dxa")),
    "clinical_dxa": ("Demographics + clinical + DXA", ("demographics", "clinical", "dxa")),
}
#: paired differences reported: (model, reference)
DXA_DIFFERENCES: tuple[tuple[str, str], ...] = (
    ("clinical_dxa", "clinical"), ("dxa", "clinical"), ("clinical_dxa", "dxa"))
#: fraction of each fold's training rows used for early stopping
INNER_VALIDATION = 0.15


def dxa_rows(cohort: Cohort, outcome: str) -> np.ndarray:
    """Positions of the people with any DXA value and follow-up for ``outcome``."""
    if "dxa" not in cohort.modalities:
        raise SurvageInputError("the data have no DXA modality", column="dxa",
                                expected="NHANES data (DXA body composition, 1999-2002)")
    return np.flatnonzero(cohort.modality_present("dxa") & cohort.at_risk(outcome))


def out_of_fold_risk(cfg: ExperimentConfig, cohort: Cohort, outcome: str, horizon: float,
                     folds: list[tuple[np.ndarray, np.ndarray]], *, progress: bool = False
                     ) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Out-of-fold predicted risk by ``horizon`` and per-fold Harrell C of each DXA model."""
    from tqdm import tqdm

    from survage.data.splits import train_validation_test_split
    from survage.metrics.concordance import harrell_c
    from survage.workflow.fitting import fit_neural

    t, e, age = cohort.time(outcome), cohort.event(outcome), cohort.ages()
    risk = {m: np.full(len(cohort), np.nan) for m in DXA_MODELS}
    fold_c: dict[str, list[float]] = {m: [] for m in DXA_MODELS}
    jobs = [(k, m) for k in range(len(folds)) for m in DXA_MODELS]
    for k, m in tqdm(jobs, desc="DXA cross-validation", unit="fit", leave=False, disable=not progress):
        tr, te = folds[k]
        inner = train_validation_test_split(e[tr], age[tr], test_size=INNER_VALIDATION, validation_size=0.0,
                                            seed=cfg.seed + k)
        label, mods = DXA_MODELS[m]
        f = fit_neural(cfg, f"dxa_{m}_{k}", label, mods, (outcome,), cohort.subset(tr[inner.train]),
                       cohort.subset(tr[inner.test]), cfg.seed + k)
        test = cohort.subset(te)
        risk[m][te] = 1.0 - np.asarray(f.model.predict_survival(test, [horizon], outcome), float)[:, 0]
        fold_c[m].append(float(harrell_c(t[te], e[te], risk[m][te]).estimate))
    return risk, fold_c


def power_verdict(events: int, min_events: int, differences: list[dict[str, Any]],
                  labels: dict[str, str]) -> tuple[bool, str]:
    """Whether the analysis is underpowered, and the plain sentence the report prints."""
    spans = [d for d in differences if d["difference"]["lower"] is not None
             and d["difference"]["lower"] <= 0 <= d["difference"]["upper"]]
    few = events < min_events
    d3 = PRECISION["c"]
    if not few and not spans:
        return False, (f"{events:,} events; every paired difference has a 95% CI that excludes 0.")
    why = []
    if few:
        why.append(f"only {events:,} events (fewer than {min_events:,})")
    if spans:
        parts = [f"{labels[d['model']]} minus {labels[d['reference']]} "
                 f"({fmt(d['difference']['lower'], d3)} to {fmt(d['difference']['upper'], d3)})" for d in spans]
        why.append(f"the 95% CI of {parts[0]} spans 0" if len(parts) == 1 else
                   f"the 95% CIs of {', of '.join(parts[:-1])} and of {parts[-1]} span 0")
    tail = []
    if spans:
        tail.append("Where a CI spans 0, these data cannot tell the two models apart: do not read the point "
                    "estimates as a ranking.")
    if few:
        tail.append("With so few events, treat every difference here as exploratory.")
    return True, "Underpowered: " + ", and ".join(why) + ". " + " ".join(tail)


def dxa_secondary(cfg: ExperimentConfig, cohort: Cohort, *, progress: bool = False) -> dict[str, Any]:
    """The ``secondary.dxa`` section of ``metrics.json`` (schema: ``docs/api.md``).

    Parameters
    ----------
    cfg
        The experiment (model settings, seed, horizons, bootstrap resamples, ``secondary``).
    cohort
        All analysed people; the analysis keeps those with DXA and follow-up for the primary
        outcome.
    progress
        Show a progress bar over the fits.

    Raises
    ------
    SurvageInputError
        No DXA modality, or too few people or events for ``secondary.folds`` folds.
    """
    from survage.data.splits import kfold_splits
    from survage.metrics import bootstrap_ci, harrell_c, paired_bootstrap

    o, k, B = cfg.outcomes.primary, cfg.secondary.folds, cfg.evaluation.bootstrap
    sub = cohort.subset(dxa_rows(cohort, o))
    t, e, age = sub.time(o), sub.event(o), sub.ages()
    events = int(e.sum())
    if len(sub) < 10 * k or events < 2 * k:
        raise SurvageInputError(f"{len(sub)} people with DXA and {events} events are too few for {k} folds",
                                column="dxa", expected=f"at least {10 * k} people and {2 * k} events")
    below = [h for h in cfg.evaluation.horizons if h < np.max(t)]
    horizon = float(below[-1] if below else np.median(t))
    folds = kfold_splits(e, age, k=k, seed=cfg.seed)
    risk, fold_c = out_of_fold_risk(cfg, sub, o, horizon, folds, progress=progress)
    labels = {m: lab for m, (lab, _) in DXA_MODELS.items()}
    models: dict[str, Any] = {}
    for m, (label, mods) in DXA_MODELS.items():
        if B >= 2:
            r = bootstrap_ci(harrell_c, n_boot=B, seed=cfg.seed, time=t, event=e, risk=risk[m])
            est = {"estimate": r.estimate, "lower": r.lower, "upper": r.upper}
        else:
            est = {"estimate": float(harrell_c(t, e, risk[m]).estimate), "lower": None, "upper": None}
        models[m] = {"label": label, "modalities": list(mods), "harrell_c": est,
                     "fold_harrell_c": [round(c, 6) for c in fold_c[m]]}
    diffs = []
    for a, b in DXA_DIFFERENCES:
        if B >= 2:
            p = paired_bootstrap(harrell_c, a={"risk": risk[a]}, b={"risk": risk[b]}, n_boot=B, seed=cfg.seed,
                                 time=t, event=e)
            d = {"estimate": p.difference, "lower": p.lower, "upper": p.upper}
            pv, floor = p.p_value, 2.0 / p.replicates.size
        else:
            d = {"estimate": models[a]["harrell_c"]["estimate"] - models[b]["harrell_c"]["estimate"],
                 "lower": None, "upper": None}
            pv, floor = None, None
        diffs.append({"model": a, "reference": b, "metric": "harrell_c", "difference": d,
                      "p_value": pv, "p_floor": floor})
    under, verdict = power_verdict(events, cfg.secondary.min_events, diffs, labels)
    surveys = sorted(set(sub.frame["survey"])) if "survey" in sub.frame else []
    from survage.data.nhanes import SURVEY_LABELS

    where = " and ".join(SURVEY_LABELS.get(s, s) for s in surveys) or sub.source
    return {
        "title": "DXA body composition (secondary analysis)",
        "outcome": o,
        "population": (f"people with DXA body composition in {where}, ages {age.min():g}-{age.max():g}"),
        "n": len(sub), "events": events, "folds": k, "seed": int(cfg.seed),
        "horizon": horizon, "n_bootstrap": int(B), "min_events": int(cfg.secondary.min_events),
        "method": (f"Stratified {k}-fold cross-validation (event status x age band, seed {cfg.seed}) within "
                   f"these people; each network ({', '.join(labels.values())}) uses the study's model "
                   f"settings, early stopping on {INNER_VALIDATION:.0%} of its training folds, and predicts "
                   f"the held-out fold's {horizon:g}-year risk. Harrell's C of the pooled out-of-fold risks, "
                   f"{B} bootstrap resamples of the people (percentile CIs; differences paired on the same "
                   "resamples). The cross-validation is not redone inside the bootstrap, so the CIs omit "
                   "fitting variability."),
        "models": models,
        "differences": diffs,
        "underpowered": under,
        "verdict": verdict,
    }
