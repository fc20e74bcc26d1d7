"""Biological-age clocks compared on the same people: the test set and the held-out training-survey rows.

Every clock of a comparison (survage's learned biological age, PhenoAge, Klemera-Doubal) is
summarised on exactly the rows where *all* of them are defined, so hazard ratios, LR gains and
C-indices differ only by the clock, never by the people (PhenoAge needs nine blood markers, KDM
nine biomarkers including FEV1). The survage clock on all test rows is kept as a separate,
labelled line. Each clock's age-adjusted (residual) acceleration comes from an OLS line of BA on
CA fitted on the training rows (Levine et al. 2018, doi:10.18632/aging.101414;
``survage.bioage.ResidualAcceleration``).

Klemera-Doubal (Klemera & Doubal 2006, doi:10.1016/j.mad.2005.10.005) needs FEV1, measured in
NHANES III only, so on an NHANES III -> 1999-2002 design it cannot be computed on the test set;
it is compared instead on the NHANES III rows held out from training (the validation rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from survage.data.cohort import Cohort
from survage.errors import SurvageInputError
from survage.workflow import clocks
from survage.workflow.bioage_run import BioAgeModel
from survage.workflow.bioage_truth import truth_section
from survage.workflow.config import ExperimentConfig
from survage.workflow.fitting import Fitted
from survage.workflow.sources import Design

#: section title of the held-out KDM comparison on an NHANES III -> 1999-2002 design
KDM_HOLDOUT_TITLE = "Klemera-Doubal (NHANES III held-out)"


@dataclass
class Clocks:
    """The clocks of a study: names, labels, the fitted KDM and residual lines (training rows)."""

    labels: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    residual: dict[str, Any] = field(default_factory=dict)
    kdm: Any = None

    def ages(self, cfg: ExperimentConfig, primary: Fitted, bio: BioAgeModel, part: Cohort,
             notes: dict[str, str], note_key: str, where: str) -> dict[str, np.ndarray]:
        """Biological age of every clock on ``part``; a KDM that cannot be computed there is left
        out with ``notes[note_key]`` saying why (``where`` names the rows)."""
        out = {"survage": bio.biological_age(primary.model, part)}
        if "phenoage" in self.labels:
            out["phenoage"] = clocks.phenoage_for(part.frame, cfg.bioage.phenoage_constant)
        if self.kdm is not None:
            try:
                out["kdm"] = clocks.kdm_predict(self.kdm, part.frame)
            except SurvageInputError as exc:
                notes[note_key] = f"Klemera-Doubal age not computed on the {where} rows: {exc}"
        return out


#: age-band cut points (years) within which acceleration quartiles are formed
KM_AGE_BANDS = (0.0, 40.0, 50.0, 60.0, 70.0, 200.0)


def _outcome_rows(c: Cohort, outcome: str) -> tuple[Cohort, np.ndarray, np.ndarray]:
    sub = c.subset(np.flatnonzero(c.at_risk(outcome)))
    return sub, sub.time(outcome), sub.event(outcome)


def study_clocks(cfg: ExperimentConfig, design: Design, primary: Fitted, bio: BioAgeModel,
                 notes: dict[str, str]) -> Clocks:
    """Fit what the clocks need on the training rows: residual lines, KDM (per sex, 30-75, not pregnant)."""
    train = design.part("train")
    ca = train.ages()
    cl = Clocks()
    cl.labels["survage"] = (f"survage ({primary.label})", "survage", "learned biological age of the primary model")
    if bio.residual is None:
        bio.fit_residual(primary.model, train)
    cl.residual["survage"] = bio.residual
    if "phenoage" in cfg.bioage.baselines:
        try:
            pa = clocks.phenoage_for(train.frame, cfg.bioage.phenoage_constant)
            cl.labels["phenoage"] = (f"PhenoAge (c = {cfg.bioage.phenoage_constant})", "PhenoAge",
                                     "Levine et al. 2018, ln(CRP); people with all nine markers")
            cl.residual["phenoage"] = clocks.residual_model(pa, ca)
        except SurvageInputError as exc:
            notes["phenoage"] = f"PhenoAge not computed: {exc}"
    if "kdm" in cfg.bioage.baselines:
        try:
            cl.kdm = clocks.fit_kdm(train.frame)
            cl.labels["kdm"] = ("Klemera-Doubal", "KDM",
                                "BioAge recipe, per sex, fitted on the training rows aged 30-75, not pregnant")
            cl.residual["kdm"] = clocks.residual_model(clocks.kdm_predict(cl.kdm, train.frame), ca)
        except SurvageInputError as exc:
            cl.kdm = None
            notes["kdm"] = f"Klemera-Doubal age not computed: {exc}"
    return cl


def compare(cl: Clocks, bas: dict[str, np.ndarray], ca: np.ndarray, t: np.ndarray, e: np.ndarray, *,
            scatter_points: int, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """Summaries of every clock in ``bas`` on the rows where all of them are defined."""
    common = np.isfinite(ca) & np.logical_and.reduce([np.isfinite(b) for b in bas.values()])
    out = {}
    for name, ba in bas.items():
        label, short, note = cl.labels[name]
        out[name] = clocks.clock_summary(label, short, ba[common], ca[common], t[common], e[common], note=note,
                                         residual=cl.residual.get(name), scatter_points=scatter_points, seed=seed)
    return out, common


def bioage_section(cfg: ExperimentConfig, design: Design, primary: Fitted, bio: BioAgeModel, cl: Clocks,
                   notes: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``bioage`` and ``km_by_acceleration_quartile`` sections (test set).

    On a simulated cohort (a ``true_biological_age`` column) ``bioage.truth`` compares the survage
    clock and chronological age with the known truth (:mod:`survage.workflow.bioage_truth`).
    """
    o = cfg.outcomes.primary
    test, t, e = _outcome_rows(design.part("test"), o)
    ca = test.ages()
    bas = cl.ages(cfg, primary, bio, test, notes, "kdm", "test")
    if "kdm" not in bas and cl.kdm is not None and design.validation.size:
        notes["kdm"] += "; KDM is compared on the held-out training-survey rows instead"
    kw = {"scatter_points": cfg.bioage.scatter_points, "seed": cfg.seed}
    summaries, common = compare(cl, bas, ca, t, e, **kw)
    n_all, n_common = int(t.size), int(common.sum())
    section: dict[str, Any] = {
        "outcome": o,
        "population": (f"test rows where every clock ({', '.join(s['short'] for s in summaries.values())}) "
                       f"is defined: {n_common:,} of {n_all:,} people, {int(e[common].sum()):,} events")
        if len(bas) > 1 else f"test set: {n_all:,} people, {int(e.sum()):,} events",
        "comparison_rows": {"n": n_common, "events": int(e[common].sum()), "of_n": n_all},
    }
    ref = bio.reference
    section["reference"] = {"kind": "Gompertz", "alpha": float(ref.alpha_[0]), "beta": float(ref.beta_[0]),
                            "horizon": bio.horizon, "fitted_on": "training rows",
                            "n": int(ref.n_[0]), "events": int(ref.n_events_[0])}
    section["interval"] = {"members": 1 + len(bio.members), "level": bio.level}
    section["clocks"] = summaries
    truth = truth_section(test, bas["survage"], n_boot=cfg.evaluation.bootstrap, seed=cfg.seed)
    if truth is not None:
        section["truth"] = truth
    if n_common < n_all:
        _, short, note = cl.labels["survage"]
        section["clocks_all_rows"] = {"survage": clocks.clock_summary(
            f"{short}, all {n_all:,} test rows (not the comparison set)", short, bas["survage"], ca, t, e,
            note=note, residual=cl.residual["survage"], scatter_points=0, seed=cfg.seed)}
    res = cl.residual["survage"]
    acc = res.transform(bas["survage"], ca)
    km = clocks.km_by_quartile(
        acc, t, e, outcome=o, clock_label=cl.labels["survage"][0], population=f"test set, {n_all:,} people",
        ages=ca, acceleration="residual", age_bands=KM_AGE_BANDS,
        acceleration_note=(f"BA minus the BA expected at that age, "
                           f"{res.intercept_:.2f} + {res.slope_:.3f} x age, an OLS line of BA on CA fitted "
                           f"on the {res.n_:,} training rows. Quartiles are formed within age bands "
                           f"({', '.join(f'{a:g}' for a in KM_AGE_BANDS[1:-1])} years as cut points), because "
                           "the spread of BA changes with age: pooled quartiles would sort people by age. "
                           "The range column gives the pooled range of each group."))
    return section, km


def kdm_holdout_section(cfg: ExperimentConfig, design: Design, primary: Fitted, bio: BioAgeModel, cl: Clocks,
                        notes: dict[str, str]) -> dict[str, Any] | None:
    """KDM, PhenoAge and survage on the training-survey rows held out from training (validation rows).

    None (with a note) when KDM is not configured, not fitted, or cannot be computed there.
    """
    key = "kdm_holdout"
    if "kdm" not in cfg.bioage.baselines:
        notes[key] = "kdm is not among bioage.baselines"
        return None
    if cl.kdm is None:
        notes.setdefault(key, notes.get("kdm", "Klemera-Doubal age could not be fitted"))
        return None
    if design.validation.size == 0:
        notes[key] = "no held-out training-survey rows (design.validation_size is 0)"
        return None
    o = cfg.outcomes.primary
    hold, t, e = _outcome_rows(design.part("validation"), o)
    ca = hold.ages()
    bas = cl.ages(cfg, primary, bio, hold, notes, key, "held-out")
    if "kdm" not in bas:
        return None
    try:
        summaries, common = compare(cl, bas, ca, t, e, scatter_points=0, seed=cfg.seed)
    except SurvageInputError as exc:
        notes[key] = f"too few held-out rows with every clock: {exc}"
        return None
    nhanes = cfg.data.source == "nhanes" and cfg.design.kind == "external"
    where = "NHANES III" if nhanes and cfg.design.train == "nhanes3" else "training-survey"
    n_val, n_common = int(t.size), int(common.sum())
    sexes = {1: "men", 2: "women"}
    return {
        "title": KDM_HOLDOUT_TITLE if where == "NHANES III" else "Klemera-Doubal (held-out rows)",
        "outcome": o,
        "population": (f"{where} validation rows where every clock ({', '.join(s['short'] for s in summaries.values())}) "
                       f"is defined: {n_common:,} of {n_val:,} people, {int(e[common].sum()):,} events"),
        "rows": (f"The held-out rows are the validation rows of the design ({cfg.design.validation_size:.0%} of "
                 f"the {where} rows, a stratified random split, seed {cfg.seed}). No network weights, "
                 "preprocessing, Gompertz reference, KDM coefficients or residual lines were fitted on them. "
                 "They were used for early stopping of the survage networks (choosing the stopping epoch by "
                 "their validation loss), which can favour survage slightly on these rows."),
        "comparison_rows": {"n": n_common, "events": int(e[common].sum()), "of_n": n_val},
        "kdm": {"fitted_on": f"{where} training rows, per sex, ages 30-75, not pregnant (BioAge recipe)",
                "n_train": {sexes.get(g, str(g)): int(n) for g, n in cl.kdm.n_train_.items()},
                "n_complete": {sexes.get(g, str(g)): int(n) for g, n in cl.kdm.n_complete_.items()},
                "biomarkers": list(cl.kdm.biomarkers)},
        "clocks": summaries,
    }
