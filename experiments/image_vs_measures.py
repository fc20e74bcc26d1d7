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

Each 256-pixel render is area-averaged once onto 6 mm pixels (88 x 88 covers 53 cm, the body
width of over 99 % of people) after clipping to [-250, 750] HU (fat, muscle, liver, trabecular
and cortical bone and calcium keep contrast); these small files are read from disk per
mini-batch (256 people) by a MONAI DataLoader. The CNN is the "small" backbone (batch norm, which
keeps absolute HU levels, and a parallel intensity path: a 16-bin soft histogram of the windowed
HU of the whole slice, concatenated with the CNN features), at most 20 epochs, early-stopped (patience 4) on the training
cohort's internal validation loss; the test cohort is used for nothing but the final figures.

Usage (renders are cached in CACHE and reused; ~0.1-0.2 s per person to render the first time)::

    python experiments/image_vs_measures.py CACHE [--n-train 2500] [--n-test 1000] [--threads 2]

Budget: about 15-20 minutes on 2 CPU cores once the renders exist.
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
import torch

from survage.data.cohort import Cohort
from survage.data.oppscr import SheetOutcomeWarning, read_oppscr
from survage.data.sheet_io import write_sheet
from survage.imaging.write import write_nifti
from survage.metrics import bootstrap_ci, harrell_c, paired_bootstrap
from survage.models import SurvivalModel
from survage.simulate import simulate_cohort, to_sheet

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
IMAGE = dict(hidden=(32,), dropout=0.1, lr=3e-3, weight_decay=1e-4, max_epochs=20, patience=4, batch_size=256,
             image_backbone="small", image_size=(88, 88), image_pixdim=(6.0, 6.0),
             image_hu_window=(-250.0, 750.0), image_augment=0.3)
#: tolerance of claim 1
MARGIN = 0.03


# ----------------------------------------------------------------------------- data
def prepare(cache: Path, n: int, seed: int, *, size: int = 256) -> Path:
    """The simulated sheet (with image paths) of ``n`` people and ``seed``, rendered once into ``cache``.

    The slices are drawn by :func:`survage.simulate.images.render_images` (as ``survage simulate
    --images``); a sheet already in ``cache`` is reused.
    """
    from survage.simulate.images import render_images

    folder = Path(cache) / f"seed{seed}_n{n}_px{size}"
    sheet = folder / "sheet.csv"
    if sheet.is_file():
        return sheet
    df = simulate_cohort(n, seed=seed)
    paths = render_images(df, folder / "images", seed=seed, size=size)
    df["ct_image_path"] = [os.path.relpath(p, folder.resolve()) for p in paths]
    return write_sheet(to_sheet(df, seed=seed), sheet)


def _area_weights(n_in: int, step_in: float, n_out: int, step_out: float) -> np.ndarray:
    """``(n_out, n_in)`` share of each output pixel covered by each input pixel (grids centred)."""
    lo_in = (np.arange(n_in) - (n_in - 1) / 2.0 - 0.5) * step_in
    lo_out = (np.arange(n_out) - (n_out - 1) / 2.0 - 0.5) * step_out
    overlap = (np.minimum(lo_out[:, None] + step_out, lo_in[None, :] + step_in)
               - np.maximum(lo_out[:, None], lo_in[None, :]))
    return np.clip(overlap, 0.0, None) / step_out


def regrid(cohort: Cohort, cache: Path, *, pixdim: tuple[float, float], size: tuple[int, int],
           hu_window: tuple[float, float]) -> Cohort:
    """The cohort with its slices area-averaged once onto the model's grid (files cached in ``cache``).

    Each slice is clipped to ``hu_window`` and averaged over ``pixdim`` pixels (``size``, centred;
    outside the render = the window's low end, as MONAI's zero padding after windowing). The
    model then reads ``pixdim`` images, so its resampling is the identity and its HU window a
    no-op; reading a small file replaces reading and resampling the full render every epoch.
    Area averaging keeps partial volumes: a calcified plaque smaller than a pixel still raises its
    pixel by its area share, where bilinear sampling would keep or drop it by chance.
    """
    from survage.imaging.read import read_image

    lo, hi = (float(h) for h in hu_window)
    folder = Path(cache) / (f"grid_{pixdim[0]:g}x{pixdim[1]:g}mm_{size[0]}x{size[1]}"
                            f"_hu{lo:g}_{hi:g}")
    folder.mkdir(parents=True, exist_ok=True)
    frame = cohort.frame.copy()
    new: list[str | None] = []
    for raw in frame["ct_image_path"].tolist():
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            new.append(None)
            continue
        src = Path(str(raw))
        dst = folder / f"{src.parent.parent.name}_{src.name}"
        if not dst.is_file():
            img = read_image(src)
            hu = np.clip(np.asarray(img.hu, dtype=np.float64), lo, hi) - lo
            (row_mm, col_mm) = img.meta.spacing_mm[-2:]
            # MONAI axis order: pixdim/size = (x = column, y = row)
            w_r = _area_weights(hu.shape[0], float(row_mm), size[1], pixdim[1])
            w_c = _area_weights(hu.shape[1], float(col_mm), size[0], pixdim[0])
            write_nifti((w_r @ hu @ w_c.T + lo).astype(np.float32), (pixdim[1], pixdim[0]), dst)
        new.append(str(dst))
    frame["ct_image_path"] = new
    return replace(cohort, frame=frame)


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
    image = dict(IMAGE if image is None else image)
    grid = {"pixdim": tuple(image["image_pixdim"]), "size": tuple(image["image_size"]),
            "hu_window": tuple(image["image_hu_window"])}
    train = regrid(load(prepare(cache, n_train, train_seed, size=render_size)), cache, **grid)
    test = regrid(load(prepare(cache, n_test, test_seed, size=render_size)), cache, **grid)
    t_data = time.perf_counter() - t0
    if log:
        print(f"data: train seed {train_seed} n={train.n} ({int(np.nansum(train.event('death')))} deaths, "
              f"{int(train.frame['ct_image_path'].isna().sum())} without image); test seed {test_seed} n={test.n} "
              f"({int(np.nansum(test.event('death')))} deaths); {t_data:.1f} s", flush=True)
    fitted, seconds = fit_models(train, image=image,
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
