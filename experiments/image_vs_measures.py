"""Issue 6: can a CNN on the L3 CT slice stand in for the CT measures, and does fusion help?

Simulated opportunistic-CT cohorts (``survage.simulate``) with one rendered L3 slice per person;
the training and test cohorts are drawn with *different* seeds (independent people). Five Cox
models (``SurvivalModel``), each early-stopped on an internal validation split of the training
cohort only (15 %, stratified by event and age band):

==============  ===============================================
demographics    age, sex
clinical        demographics + clinical sheet columns
measures        demographics + the CT measures of the sheet
image           demographics + the CT image (CNN, no measures)
fusion          demographics + clinical + the CT image
==============  ===============================================

Claims checked on the test cohort with Harrell's C (Harrell et al. 1982,
doi:10.1001/jama.1982.03320430047030) and paired percentile bootstrap intervals of differences
(Efron & Tibshirani 1993, doi:10.1007/978-1-4899-4541-9):

1. the image model's C is within 0.03 of the measures model's (``C_image >= C_measures - 0.03``);
2. fusion beats the image model and the clinical model (positive differences);
3. a person with no image still gets a (finite) prediction: the test cohort is scored again with
   the images of 20 % of people removed.

Images are read from disk per mini-batch (256 people) by a MONAI DataLoader, resampled to 8 mm
pixels (64 x 64 covers 51 cm, the field of view of nearly all renders) and windowed to
[-250, 750] HU (fat, muscle, liver, trabecular and cortical bone and calcium keep contrast).
A person whose phantom cannot hold their measures (the simulator gives up) has no image in the
sheet, as a scan that could not be used.

Usage (renders are cached in CACHE and reused; ~0.1-0.2 s per person to render the first time)::

    python experiments/image_vs_measures.py CACHE [--n-train 2500] [--n-test 1000] [--threads 2]

Budget: under 10 minutes on 2 CPU cores once the renders exist.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from survage.data.cohort import Cohort
from survage.data.oppscr import SheetOutcomeWarning, read_oppscr
from survage.data.sheet_io import write_sheet
from survage.errors import SurvageInputError
from survage.imaging.phantom import render_l3_slice
from survage.imaging.write import write_nifti
from survage.metrics import bootstrap_ci, harrell_c, paired_bootstrap
from survage.models import SurvivalModel
from survage.simulate import simulate_cohort, to_sheet
from survage.simulate.images import PHANTOM_KEYS, RENDER_ATTEMPTS, phantom_values

MODELS: dict[str, tuple[str, ...]] = {
    "demographics": ("demographics",),
    "clinical": ("demographics", "clinical"),
    "measures": ("demographics", "ct_measures"),
    "image": ("demographics", "ct_image"),
    "fusion": ("demographics", "clinical", "ct_image"),
}
#: tabular models: the settings of experiments/oppscr_sim.yaml (full batch)
TABULAR = dict(hidden=(32,), dropout=0.1, lr=1e-2, weight_decay=1e-4, max_epochs=300, patience=10)
#: image models (chosen on the internal validation split of the training cohort)
IMAGE = dict(hidden=(32,), dropout=0.1, lr=3e-3, weight_decay=1e-4, max_epochs=8, patience=3, batch_size=256,
             image_backbone="small", image_size=(64, 64), image_pixdim=(8.0, 8.0),
             image_hu_window=(-250.0, 750.0), image_augment=0.3)
#: tolerance of claim 1
MARGIN = 0.03


# ----------------------------------------------------------------------------- data
def render_cohort_images(df: pd.DataFrame, folder: Path, *, seed: int, size: int = 256) -> list[str | None]:
    """One NIfTI L3 slice per person, as :func:`survage.simulate.images.render_images` draws them.

    Same phantom inputs (cohort medians by sex for blank measures) and the same generator
    stream per person, so the files equal ``render_images``'; files already in ``folder`` are
    kept (an interrupted render resumes). A person for whom every attempt fails gets ``None``
    (no image) instead of stopping the whole cohort.
    """
    folder.mkdir(parents=True, exist_ok=True)
    male = df["sex"].to_numpy(dtype=float) == 1
    medians = {sex: {k: float(np.nanmedian(df.loc[m, k])) if np.isfinite(df.loc[m, k]).any()
                     else float(np.nanmedian(df[k])) for k in PHANTOM_KEYS}
               for sex, m in ((1, male), (0, ~male))}
    out: list[str | None] = []
    for i, (_, row) in enumerate(df.iterrows()):
        path = folder / f"sim_{i:06d}.nii.gz"
        if not path.is_file():
            values = phantom_values(row, medians[1 if male[i] else 0])
            for attempt in range(RENDER_ATTEMPTS):
                try:
                    image, _, spacing = render_l3_slice(values, size=size,
                                                        rng=np.random.default_rng([seed, i, attempt]))
                except SurvageInputError:
                    continue
                write_nifti(image, spacing, path)
                break
        out.append(str(path) if path.is_file() else None)
    return out


def prepare(cache: Path, n: int, seed: int, *, size: int = 256) -> Path:
    """The simulated sheet (with image paths) of ``n`` people and ``seed``, rendered once into ``cache``."""
    folder = Path(cache) / f"seed{seed}_n{n}_px{size}"
    sheet = folder / "sheet.csv"
    if sheet.is_file():
        return sheet
    df = simulate_cohort(n, seed=seed)
    paths = render_cohort_images(df, folder / "images", seed=seed, size=size)
    df["ct_image_path"] = [None if p is None else os.path.relpath(p, folder.resolve()) for p in paths]
    return write_sheet(to_sheet(df, seed=seed), sheet)


def load(sheet: Path) -> Cohort:
    """Read a simulated sheet (outcomes without events are left out quietly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SheetOutcomeWarning)
        return read_oppscr(sheet)


def without_images(cohort: Cohort, share: float, seed: int) -> tuple[Cohort, np.ndarray]:
    """The cohort with the image paths of a random ``share`` of people blanked, and those rows."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(cohort.n, size=int(round(share * cohort.n)), replace=False))
    frame = cohort.frame.copy()
    frame.iloc[rows, frame.columns.get_loc("ct_image_path")] = None
    return replace(cohort, frame=frame), rows


# ----------------------------------------------------------------------------- models
def fit_models(train: Cohort, *, image: dict[str, Any], tabular: dict[str, Any], seed: int = 0,
               models: tuple[str, ...] = tuple(MODELS), log: bool = True) -> tuple[dict[str, SurvivalModel], dict[str, float]]:
    """Fit each named model on ``train``; returns the models and their fit times (s)."""
    fitted, seconds = {}, {}
    for name in models:
        mods = MODELS[name]
        settings = image if "ct_image" in mods else tabular
        t0 = time.perf_counter()
        fitted[name] = SurvivalModel(outcomes=("death",), modalities=mods, seed=seed, **settings).fit(train)
        seconds[name] = time.perf_counter() - t0
        if log:
            m = fitted[name]
            print(f"  fitted {name:<13} {seconds[name]:6.1f} s, {m.n_epochs_} epochs (best {m.best_epoch_}, "
                  f"validation loss {m.history_[m.best_epoch_]['val_loss']:.4f})", flush=True)
    return fitted, seconds


def _c(time_: np.ndarray, event: np.ndarray, risk: np.ndarray) -> float:
    return float(harrell_c(time_, event, risk).estimate)


def evaluate(fitted: dict[str, SurvivalModel], test: Cohort, *, n_boot: int, seed: int,
             missing_share: float = 0.2) -> dict[str, Any]:
    """Test C-indices with bootstrap CIs, the paired differences of the claims, missing-image checks."""
    time_, event = test.time("death"), test.event("death")
    risks = {name: m.predict_risk(test) for name, m in fitted.items()}
    out: dict[str, Any] = {"n_test": int(test.n), "events_test": int(np.nansum(event)), "c_index": {}}
    for name, r in risks.items():
        ci = bootstrap_ci(harrell_c, n_boot=n_boot, seed=seed, time=time_, event=event, risk=r,
                          statistic=lambda res: res.estimate)
        out["c_index"][name] = {"estimate": _c(time_, event, r), "lower": float(ci.lower), "upper": float(ci.upper)}
    pairs = [("image", "measures"), ("fusion", "image"), ("fusion", "clinical"), ("image", "demographics"),
             ("measures", "demographics")]
    out["differences"] = {}
    for a, b in pairs:
        if a in risks and b in risks:
            d = paired_bootstrap(harrell_c, a={"risk": risks[a]}, b={"risk": risks[b]}, n_boot=n_boot, seed=seed,
                                 time=time_, event=event, statistic=lambda res: res.estimate)
            out["differences"][f"{a} - {b}"] = {"difference": float(d.difference), "lower": float(d.lower),
                                                "upper": float(d.upper), "p_value": float(d.p_value)}
    gone, rows = without_images(test, missing_share, seed)
    out["missing_images"] = {"share": missing_share, "n_blanked": int(rows.size)}
    for name, m in fitted.items():
        if "ct_image" not in m.modalities_:
            continue
        r = m.predict_risk(gone)
        surv = m.predict_survival(gone, [5.0])
        out["missing_images"][name] = {
            "finite": bool(np.all(np.isfinite(r)) and np.all(np.isfinite(surv))),
            "c_index_with_blanks": _c(time_, event, r),
            "c_index_blanked_rows_only": _c(time_[rows], event[rows], r[rows]),
        }
    c = {k: v["estimate"] for k, v in out["c_index"].items()}
    claims = {}
    if {"image", "measures"} <= set(c):
        claims["image_within_margin_of_measures"] = bool(c["image"] >= c["measures"] - MARGIN)
    if {"fusion", "image", "clinical"} <= set(c):
        claims["fusion_beats_image"] = bool(c["fusion"] > c["image"])
        claims["fusion_beats_clinical"] = bool(c["fusion"] > c["clinical"])
    imgs = [v for k, v in out["missing_images"].items() if isinstance(v, dict)]
    claims["no_image_still_predicted"] = bool(imgs) and all(v["finite"] for v in imgs)
    out["claims"] = claims
    return out


def run_comparison(cache: Path, *, n_train: int = 2500, n_test: int = 1000, train_seed: int = 0,
                   test_seed: int = 1, render_size: int = 256, image: dict[str, Any] | None = None,
                   tabular: dict[str, Any] | None = None, n_boot: int = 1000,
                   models: tuple[str, ...] = tuple(MODELS), log: bool = True) -> dict[str, Any]:
    """Render (or reuse) both cohorts, fit the models on the training cohort, evaluate on the test cohort."""
    t0 = time.perf_counter()
    train = load(prepare(cache, n_train, train_seed, size=render_size))
    test = load(prepare(cache, n_test, test_seed, size=render_size))
    t_data = time.perf_counter() - t0
    if log:
        print(f"data: train seed {train_seed} n={train.n} ({int(np.nansum(train.event('death')))} deaths, "
              f"{int(train.frame['ct_image_path'].isna().sum())} without image); test seed {test_seed} n={test.n} "
              f"({int(np.nansum(test.event('death')))} deaths); {t_data:.1f} s", flush=True)
    fitted, seconds = fit_models(train, image=dict(IMAGE if image is None else image),
                                 tabular=dict(TABULAR if tabular is None else tabular), seed=0, models=models,
                                 log=log)
    result = evaluate(fitted, test, n_boot=n_boot, seed=train_seed + 1000 * test_seed)
    result.update(n_train=int(train.n), train_seed=train_seed, test_seed=test_seed, fit_seconds=seconds,
                  data_seconds=t_data, total_seconds=time.perf_counter() - t0)
    return result


def report(result: dict[str, Any]) -> str:
    """The figures as text."""
    lines = [f"Test cohort: n={result['n_test']}, {result['events_test']} deaths "
             f"(train n={result['n_train']}, seed {result['train_seed']}; test seed {result['test_seed']})",
             "Harrell's C on the test cohort (95% percentile bootstrap CI):"]
    for name, v in result["c_index"].items():
        lines.append(f"  {name:<13} {v['estimate']:.4f} [{v['lower']:.4f}, {v['upper']:.4f}]"
                     f"   fit {result['fit_seconds'][name]:.0f} s")
    lines.append("Paired differences (95% paired bootstrap CI, two-sided p):")
    for k, v in result["differences"].items():
        lines.append(f"  {k:<24} {v['difference']:+.4f} [{v['lower']:+.4f}, {v['upper']:+.4f}] p={v['p_value']:.3f}")
    mi = result["missing_images"]
    lines.append(f"Images removed for {mi['n_blanked']} test people ({mi['share']:.0%}):")
    for k, v in mi.items():
        if isinstance(v, dict):
            lines.append(f"  {k:<13} finite={v['finite']}  C with blanks {v['c_index_with_blanks']:.4f}, "
                         f"C among the blanked {v['c_index_blanked_rows_only']:.4f}")
    lines.append("Claims: " + ", ".join(f"{k}={v}" for k, v in result["claims"].items()))
    lines.append(f"Total {result['total_seconds']:.0f} s (data {result['data_seconds']:.0f} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path, help="folder of the rendered cohorts (created; reused across runs)")
    ap.add_argument("--n-train", type=int, default=2500)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--train-seed", type=int, default=0)
    ap.add_argument("--test-seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (restored at the end)")
    ap.add_argument("--workers", type=int, default=2, help="image-reading worker processes")
    ap.add_argument("--epochs", type=int, default=IMAGE["max_epochs"], help="maximum epochs of the image models")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = ap.parse_args(argv)
    if args.train_seed == args.test_seed:
        ap.error("train and test cohorts need different seeds")
    before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        image = dict(IMAGE, image_workers=args.workers, max_epochs=args.epochs)
        result = run_comparison(args.cache, n_train=args.n_train, n_test=args.n_test, train_seed=args.train_seed,
                                test_seed=args.test_seed, image=image, n_boot=args.n_boot)
    finally:
        torch.set_num_threads(before)
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if all(result["claims"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
