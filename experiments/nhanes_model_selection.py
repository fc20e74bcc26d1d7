"""NHANES mortality model for biological age: design chosen in NHANES III, tested once on 1999-2002.

Usage (from the repository root)::

    .venv/bin/python experiments/nhanes_model_selection.py screen  # covariates only, both surveys
    .venv/bin/python experiments/nhanes_model_selection.py cv      # 5-fold CV within NHANES III
    .venv/bin/python experiments/nhanes_model_selection.py kdm     # NHANES III hold-out vs KDM
    .venv/bin/python experiments/nhanes_model_selection.py final   # the one 1999-2002 evaluation
    .venv/bin/python experiments/nhanes_model_selection.py sensitivity  # post-hoc, chooses nothing

Each step writes ``<out>/<step>.json`` (default ``--out /tmp/nhanes_model_selection``) and prints a
table. The rules (docs/nhanes_model.md): model selection uses NHANES III outcomes only; the
transport screen looks at covariates (missingness, distribution) of both surveys but never at a
1999-2002 outcome; ``final`` is run once, with the design fixed in ``CHOSEN``.

References: Levine et al. 2018 (PhenoAge), doi:10.18632/aging.101414; Harrell et al. 1982,
doi:10.1001/jama.1982.03320430047030; Efron & Tibshirani 1993, doi:10.1007/978-1-4899-4541-9;
Klemera & Doubal 2006, doi:10.1016/j.mad.2005.10.005.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survage.bioage import KlemeraDoubal, phenoage
from survage.bioage.learned import LearnedBiologicalAge
from survage.data.nhanes import CLINICAL, LOG_FEATURES, load_nhanes
from survage.data.splits import kfold_splits, train_validation_test_split
from survage.metrics import (
    bootstrap_ci,
    harrell_c,
    hazard_ratio_per_unit,
    paired_bootstrap,
)

#: PhenoAge's nine biomarkers, as declared in the clinical modality (units handled by preprocessing)
PHENO9 = ("albumin", "creat", "glucose", "crp", "lymph", "mcv", "rdw", "alp", "wbc")
#: columns dropped by the transport screen (see ``screen``): missing for a whole 1999-2002 wave
#: (health), another assay / detection limit (cadmium, vitaminE), another cell counter (monopa)
FRAGILE = ("health", "cadmium", "vitaminE", "monopa")
#: ``pulse`` in the extracts is pulse pressure, exactly ``sbp - dbp`` in both surveys: redundant
REDUNDANT = ("pulse",)
#: the transportable clinical set: measured in both surveys, same units, similar missingness
TRANSPORT = tuple(c for c in CLINICAL if c not in FRAGILE + REDUNDANT)
FEATURE_SETS: dict[str, tuple[str, ...]] = {"pheno9": PHENO9, "clinical_all": CLINICAL, "transport": TRANSPORT}
OUTCOME = "death"
HORIZON = 10.0


@dataclass(frozen=True)
class Design:
    """One candidate: features, model family and its settings, missingness handling."""

    name: str
    features: tuple[str, ...]
    family: str  # "lifelines" | "linear" | "mlp"
    params: dict[str, Any] = field(default_factory=dict)
    complete_cases: bool = False
    clip_to_training: bool = True

    def model(self, seed: int = 0) -> Any:
        """An unfitted model for this design."""
        if self.family == "lifelines":
            from survage.models.baselines import LifelinesCox

            return LifelinesCox(outcome=OUTCOME, modalities=("demographics", "clinical"), **self.params)
        from survage.models import SurvivalModel

        base: dict[str, Any] = {"outcomes": (OUTCOME,), "modalities": ("demographics", "clinical"), "seed": seed}
        if self.family == "linear":
            base.update(linear=True, validation_fraction=0.0, max_epochs=100)
        else:  # the make-demo network: AdamW, full batch, early stopping on a 10 % split
            base.update(hidden=(32,), dropout=0.1, lr=1e-2, max_epochs=60, patience=8, validation_fraction=0.1)
        base.update(self.params)
        return SurvivalModel(**base)

    def estimator(self, seed: int = 0) -> LearnedBiologicalAge:
        """The biological-age estimator (model + Gompertz reference, horizon 10 years)."""
        return LearnedBiologicalAge(self.model(seed), outcome=OUTCOME, horizon=HORIZON,
                                    complete_cases=self.complete_cases, clip_to_training=self.clip_to_training)


CANDIDATES: tuple[Design, ...] = (
    Design("pheno9 cox", PHENO9, "lifelines"),
    Design("clinical_all cox", CLINICAL, "lifelines"),
    Design("transport cox", TRANSPORT, "lifelines"),
    Design("transport cox pen1e-3", TRANSPORT, "lifelines", {"penalizer": 1e-3}),
    Design("transport cox pen1e-2", TRANSPORT, "lifelines", {"penalizer": 1e-2}),
    Design("transport cox pen3e-2", TRANSPORT, "lifelines", {"penalizer": 3e-2}),
    Design("transport cox complete-case", TRANSPORT, "lifelines", complete_cases=True),
    Design("transport cox pen1e-2 complete-case", TRANSPORT, "lifelines", {"penalizer": 1e-2}, complete_cases=True),
    Design("clinical_all cox pen1e-2 complete-case", CLINICAL, "lifelines", {"penalizer": 1e-2},
           complete_cases=True),
    Design("transport linear wd1e-3", TRANSPORT, "linear", {"weight_decay": 1e-3}),
    Design("transport mlp32 wd1e-4", TRANSPORT, "mlp", {"weight_decay": 1e-4}),
    Design("transport mlp32 wd1e-2", TRANSPORT, "mlp", {"weight_decay": 1e-2}),
    Design("transport mlp32 wd1e-4 complete-case", TRANSPORT, "mlp", {"weight_decay": 1e-4}, complete_cases=True),
    Design("clinical_all mlp32 wd1e-4", CLINICAL, "mlp", {"weight_decay": 1e-4}),
)

#: the design fixed from the CV (docs/nhanes_model.md) before the one 1999-2002 evaluation
CHOSEN = "transport mlp32 wd1e-4"


def design(name: str) -> Design:
    """The candidate called ``name``."""
    for d in CANDIDATES:
        if d.name == name:
            return d
    raise KeyError(name)


# ---------------------------------------------------------------------------------------- helpers
def pheno_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows with every PhenoAge input present (and CRP > 0 for ln CRP)."""
    cols = ["albumin_gL", "creat_umol", "glucose_mmol", "crp", "lymph", "mcv", "rdw", "alp", "wbc", "age"]
    return (frame[cols].notna().all(axis=1) & (frame["crp"] > 0)).to_numpy()


def phenoages(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """PhenoAge, ln CRP (Levine) and ln(1 + CRP) (BioAge), c = 0.090165."""
    return {f"phenoage_{t}": phenoage(frame, crp_transform=t).to_numpy() for t in ("log", "log1p")}  # type: ignore[arg-type]


def ba_metrics(time_: np.ndarray, event: np.ndarray, age: np.ndarray, ba: np.ndarray) -> dict[str, float]:
    """Harrell C of BA, age-adjusted HR of BA - CA per SD and per year, LR gain over age."""
    hr = hazard_ratio_per_unit(time_, event, ba - age, age)
    return {"c": harrell_c(time=time_, event=event, risk=ba).estimate, "hr_per_sd": hr.hr_per_sd,
            "hr_per_year": hr.hr_per_unit, "lr_gain": hr.lr_statistic, "sd_accel": hr.sd}


# ---------------------------------------------------------------------------------------- screen
def screen() -> pd.DataFrame:
    """Covariate transport screen: missingness and age/sex-adjusted shift of each clinical column.

    For each column (log scale for ``LOG_FEATURES``): OLS on age, age^2 and sex in NHANES III; the
    1999-2002 values (clipped to the NHANES III range, as the model sees them) are compared with
    that prediction in units of the NHANES III residual SD: mean shift and SD ratio. No outcome
    of either survey is used.
    """
    f3, f4 = load_nhanes("nhanes3").frame, load_nhanes("nhanes4").frame
    rows = []
    for c in CLINICAL:
        x3, x4 = f3[c].astype(float), f4[c].astype(float)
        raw_sd_ratio = np.nan
        x4 = x4.clip(x3.min(), x3.max())
        if c in LOG_FEATURES:
            off = 0.0 if x3.min() > 0 else 0.5 * float(x3[x3 > 0].min())
            raw_sd_ratio = float(np.log(f4[c].astype(float) + off).std() / np.log(x3 + off).std())
            x3, x4 = np.log(x3 + off), np.log(x4 + off)

        def design_matrix(f: pd.DataFrame, ok: pd.Series) -> np.ndarray:
            return np.column_stack([np.ones(int(ok.sum())), f.age[ok], f.age[ok] ** 2, f.sex[ok]])

        ok3, ok4 = x3.notna(), x4.notna()
        b, *_ = np.linalg.lstsq(design_matrix(f3, ok3), x3[ok3], rcond=None)
        sd = float(np.std(x3[ok3] - design_matrix(f3, ok3) @ b))
        r4 = x4[ok4] - design_matrix(f4, ok4) @ b
        rows.append({"column": c, "missing_nhanes3": f3[c].isna().mean(), "missing_1999_2002": f4[c].isna().mean(),
                     "shift_sd": float(r4.mean() / sd), "sd_ratio": float(r4.std() / sd),
                     "below_train_min_1999_2002": float((f4[c] < f3[c].min()).mean() / max(f4[c].notna().mean(), 1e-9)),
                     "log_sd_ratio_unclipped": raw_sd_ratio, "dropped": c in FRAGILE + REDUNDANT})
    return pd.DataFrame(rows).set_index("column")


# ---------------------------------------------------------------------------------------- CV
def cross_validate(designs: list[Design], *, k: int = 5, seed: int = 0) -> pd.DataFrame:
    """k-fold CV within NHANES III: fit each design on k-1 folds, score the held-out fold.

    Scores on the held-out rows with PhenoAge inputs (the rows of the final comparison): Harrell C
    of the BA, age-adjusted HR per SD of acceleration, LR gain over age, and the same for
    PhenoAge (in-sample for PhenoAge: Levine fitted it on NHANES III).
    """
    c3 = load_nhanes("nhanes3")
    folds = kfold_splits(c3.event(OUTCOME), c3.ages(), k=k, seed=seed)
    rows = []
    for d in designs:
        cohort = c3.with_features("clinical", d.features)
        for f, (tr, te) in enumerate(folds):
            t0 = time.perf_counter()
            est = d.estimator(seed).fit(cohort.subset(tr))
            held = cohort.subset(te)
            keep = pheno_rows(held.frame)
            pred = est.predict(held)
            t, e, a = held.time(OUTCOME), held.event(OUTCOME), held.ages()
            m = ba_metrics(t[keep], e[keep], a[keep], pred["biological_age"].to_numpy()[keep])
            m_all = harrell_c(time=t, event=e, risk=pred["cumulative_hazard"].to_numpy()).estimate
            pa = phenoages(held.frame)["phenoage_log"]
            mp = ba_metrics(t[keep], e[keep], a[keep], pa[keep])
            rows.append({"design": d.name, "fold": f, **m, "c_all_rows": m_all,
                         "phenoage_c": mp["c"], "phenoage_lr_gain": mp["lr_gain"], "phenoage_hr_per_sd": mp["hr_per_sd"],
                         "mean_accel_train": est.train_acceleration_mean_, "seconds": time.perf_counter() - t0})
            print(f"{d.name:42s} fold {f}: C {m['c']:.4f} HR/SD {m['hr_per_sd']:.3f} LR {m['lr_gain']:.1f}",
                  flush=True)
    return pd.DataFrame(rows)


def cv_table(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Mean (and SD over folds) of the CV figures per design, best C first."""
    g = per_fold.groupby("design", sort=False)
    out = g[["c", "hr_per_sd", "lr_gain", "c_all_rows", "phenoage_c", "phenoage_lr_gain", "seconds"]].mean()
    out["c_sd"] = g["c"].std()
    out["c_minus_phenoage"] = g.apply(lambda x: (x["c"] - x["phenoage_c"]).mean())
    return out.sort_values("c", ascending=False)


# ---------------------------------------------------------------------------------------- KDM
def kdm_holdout(d: Design, *, seed: int = 0) -> dict[str, Any]:
    """NHANES III only: learned BA and KDM fitted on a 75 % training part, compared on the rest.

    KDM (BioAge recipe: per sex, ages 30-75, not pregnant) cannot be computed on 1999-2002
    (no FEV1 there). Scored on held-out rows with KDM, PhenoAge and the model all present.
    """
    c3 = load_nhanes("nhanes3")
    split = train_validation_test_split(c3.event(OUTCOME), c3.ages(), test_size=0.25, validation_size=0.0, seed=seed)
    cohort = c3.with_features("clinical", d.features)
    train, test = cohort.subset(split.train), cohort.subset(split.test)
    est = d.estimator(seed).fit(train)
    kdm = KlemeraDoubal().fit(train.frame, age="age", sex="gender")
    f = test.frame
    scores = {"learned": est.predict(test)["biological_age"].to_numpy(),
              "kdm": kdm.predict(f, age="age", sex="gender").to_numpy(), **phenoages(f)}
    keep = pheno_rows(f) & np.isfinite(scores["kdm"])
    t, e, a = test.time(OUTCOME)[keep], test.event(OUTCOME)[keep], test.ages()[keep]
    out: dict[str, Any] = {"n": int(keep.sum()), "events": int(e.sum())}
    for name, s in scores.items():
        out[name] = ba_metrics(t, e, a, s[keep])
        out[name]["c_ci"] = _ci(bootstrap_ci(harrell_c, time=t, event=e, risk=s[keep], n_boot=1000, seed=seed))
    pb = paired_bootstrap(harrell_c, a={"risk": scores["learned"][keep]}, b={"risk": scores["kdm"][keep]},
                          time=t, event=e, n_boot=1000, seed=seed)
    out["c_learned_minus_kdm"] = {"difference": pb.difference, "ci": [pb.lower, pb.upper], "p": pb.p_value}
    return out


# ---------------------------------------------------------------------------------------- final
def _ci(r: Any) -> list[float]:
    return [float(r.lower), float(r.upper)]


def _hr_block(t: np.ndarray, e: np.ndarray, a: np.ndarray, ba: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    hr = hazard_ratio_per_unit(t, e, ba - a, a)
    c = bootstrap_ci(harrell_c, time=t, event=e, risk=ba, n_boot=n_boot, seed=seed)
    lr = bootstrap_ci(hazard_ratio_per_unit, time=t, event=e, score=ba - a, age=a, n_boot=n_boot // 5, seed=seed,
                      statistic=lambda r: r.lr_statistic)
    return {"hr_per_sd": hr.hr_per_sd, "hr_per_sd_ci": list(hr.ci_per_sd), "hr_per_year": hr.hr_per_unit,
            "hr_per_year_ci": list(hr.ci_per_unit), "sd_accel": hr.sd, "lr_gain": hr.lr_statistic,
            "lr_gain_ci": _ci(lr), "lr_p": hr.lr_p_value, "c": c.estimate, "c_ci": _ci(c),
            "mean_accel": float(np.mean(ba - a)), "mean_accel_se": float(np.std(ba - a, ddof=1) / np.sqrt(a.size))}


def final(d: Design, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Fit ``d`` on all of NHANES III; evaluate once on 1999-2002 against PhenoAge (same rows)."""
    c3, c4 = load_nhanes("nhanes3"), load_nhanes("nhanes4")
    a3, a4 = c3.with_features("clinical", d.features), c4.with_features("clinical", d.features)
    t0 = time.perf_counter()
    est = d.estimator(seed).fit(a3)
    out: dict[str, Any] = {"design": d.name, "fit_seconds": time.perf_counter() - t0,
                           "n_model_rows": est.n_model_rows_,
                           "reference": est.reference_.table().to_dict(orient="records"),
                           "residual": est.residual_.to_dict()}
    # reference population: mean raw acceleration in NHANES III (all rows, and PhenoAge rows)
    p3 = est.predict(a3)
    k3 = pheno_rows(c3.frame)
    acc3 = p3["acceleration"].to_numpy()
    pa3 = phenoages(c3.frame)
    out["nhanes3_mean_accel"] = {
        "learned_all_rows": [float(acc3.mean()), float(acc3.std(ddof=1) / np.sqrt(acc3.size)), int(acc3.size)],
        "learned_pheno_rows": [float(acc3[k3].mean()), float(acc3[k3].std(ddof=1) / np.sqrt(k3.sum())), int(k3.sum())]}
    for name, v in pa3.items():
        acc = v[k3] - c3.ages()[k3]
        out["nhanes3_mean_accel"][name] = [float(acc.mean()), float(acc.std(ddof=1) / np.sqrt(acc.size)), int(acc.size)]
    # the test: 1999-2002, rows with PhenoAge inputs
    p4 = est.predict(a4)
    out["clip_report"] = est.clip_report(a4).query("below > 0 or above > 0").to_dict(orient="index")
    keep = pheno_rows(c4.frame)
    t, e, a = c4.time(OUTCOME)[keep], c4.event(OUTCOME)[keep], c4.ages()[keep]
    scores = {"learned": p4["biological_age"].to_numpy()[keep],
              **{k: v[keep] for k, v in phenoages(c4.frame).items()}}
    if d.clip_to_training:  # sensitivity: the same fitted model without clipping
        est.clip_to_training = False
        scores["learned_unclipped"] = est.predict(a4)["biological_age"].to_numpy()[keep]
        est.clip_to_training = True
    out["test"] = {"n": int(keep.sum()), "events": int(e.sum()), "n_all": c4.n}
    for name, s in scores.items():
        out["test"][name] = _hr_block(t, e, a, s, n_boot, seed)
        print(name, json.dumps(out["test"][name]), flush=True)
    for other in ("phenoage_log", "phenoage_log1p"):
        pb = paired_bootstrap(harrell_c, a={"risk": scores["learned"]}, b={"risk": scores[other]}, time=t, event=e,
                              n_boot=n_boot, seed=seed)
        out["test"][f"c_learned_minus_{other}"] = {"difference": pb.difference, "ci": [pb.lower, pb.upper],
                                                   "p": pb.p_value}
        pl = paired_bootstrap(hazard_ratio_per_unit, a={"score": scores["learned"] - a},
                              b={"score": scores[other] - a}, time=t, event=e, age=a, n_boot=n_boot // 5, seed=seed,
                              statistic=lambda r: r.lr_statistic)
        out["test"][f"lr_learned_minus_{other}"] = {"difference": pl.difference, "ci": [pl.lower, pl.upper],
                                                    "p": pl.p_value}
    # residual acceleration (BA on CA fitted in NHANES III), all 1999-2002 rows
    out["test"]["residual_accel_mean_all_rows"] = float(np.nanmean(p4["residual_acceleration"]))
    return out


def sensitivity(*, seed: int = 0) -> list[dict[str, Any]]:
    """Post-hoc checks on 1999-2002 (after ``final``; they chose nothing): other seeds of the chosen
    design, the make-demo multi-outcome network (death, heart, cancer heads), the best linear Cox."""
    c3, c4 = load_nhanes("nhanes3"), load_nhanes("nhanes4")
    keep = pheno_rows(c4.frame)
    t, e, a = c4.time(OUTCOME)[keep], c4.event(OUTCOME)[keep], c4.ages()[keep]
    chosen = design(CHOSEN)
    runs: list[tuple[str, Design, int, tuple[str, ...]]] = [
        (f"{CHOSEN} seed {s}", chosen, s, (OUTCOME,)) for s in (1, 2, 3)]
    runs.append((f"{CHOSEN} + heart, cancer heads", chosen, seed, (OUTCOME, "death_heart", "death_cancer")))
    runs.append(("transport cox pen1e-2", design("transport cox pen1e-2"), seed, (OUTCOME,)))
    rows = []
    for name, d, s, outcomes in runs:
        est = d.estimator(s)
        if outcomes != (OUTCOME,):
            est.model.outcomes = outcomes
        est.fit(c3.with_features("clinical", d.features))
        ba = est.predict(c4.with_features("clinical", d.features))["biological_age"].to_numpy()[keep]
        rows.append({"run": name, **ba_metrics(t, e, a, ba), "nhanes3_mean_accel": est.train_acceleration_mean_})
        print(rows[-1], flush=True)
    return rows


# ---------------------------------------------------------------------------------------- CLI
def _write(out: Path, name: str, obj: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{name}.json.tmp"
    tmp.write_text(json.dumps(obj, indent=1, default=float))
    tmp.replace(out / f"{name}.json")


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["screen", "cv", "kdm", "final", "sensitivity"])
    p.add_argument("--out", type=Path, default=Path("/tmp/nhanes_model_selection"))
    p.add_argument("--designs", nargs="*", default=None, help="CV: candidate names (default all)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps: dict[str, Callable[[], Any]] = {
        "screen": lambda: screen().reset_index().to_dict(orient="records"),
        "cv": lambda: cross_validate([design(n) for n in args.designs] if args.designs else list(CANDIDATES)
                                     ).to_dict(orient="records"),
        "kdm": lambda: kdm_holdout(design(CHOSEN)),
        "final": lambda: final(design(CHOSEN)),
        "sensitivity": sensitivity,
    }
    result = steps[args.step]()
    if args.step == "screen":
        print(pd.DataFrame(result).set_index("column").round(3).to_string())
    elif args.step in ("cv", "sensitivity"):
        frame = pd.DataFrame(result)
        print((cv_table(frame) if args.step == "cv" else frame).round(4).to_string())
    else:
        print(json.dumps(result, indent=1, default=float))
    _write(args.out, args.step, result)


if __name__ == "__main__":
    main()
