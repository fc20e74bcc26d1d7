"""Peak memory of streaming rendered L3 NIfTI slices through ``ImageDataset`` + ``DataLoader``.

Renders phantom slices to a temporary folder, then for each cohort size (100, 400, 1600 by
default) runs one training epoch over the files in a fresh subprocess and reports that process's
peak RSS. Streaming from disk means the peak should not grow with the number of images.

Usage::

    .venv/bin/python bench/bench_image_memory.py [--sizes 100 400 1600] [--size 256] [--workers 0]

"peak RSS" is the measuring process's peak; "growth" its rise over the RSS after imports and
dataset construction; "worker peak" (with ``--workers N``) the largest DataLoader worker's peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _worker(folder: Path, n: int, workers: int, batch_size: int) -> dict[str, float]:
    import torch
    from torch.utils.data import DataLoader

    from survage.imaging import ImageDataset

    torch.set_num_threads(1)  # one intra-op thread: resampling small slices is faster without contention
    paths = sorted(str(p) for p in folder.glob("*.nii.gz"))[:n]
    if len(paths) < n:
        raise SystemExit(f"only {len(paths)} images in {folder}, need {n}")
    ds = ImageDataset(paths, spatial_size=(128, 128), pixdim=(3.0, 3.0), train=True, seed=0)
    baseline = _peak_rss_mb()
    loader = DataLoader(ds, batch_size=batch_size, num_workers=workers, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    total, seen = 0.0, 0
    for batch in loader:
        total += float(batch["image"].mean())
        seen += int(batch["present"].sum())
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0 if workers else 0.0
    return {"n": n, "seen": seen, "baseline_mb": baseline, "peak_mb": _peak_rss_mb(),
            "worker_peak_mb": children, "seconds": seconds}


def _render(folder: Path, n_max: int, size: int, distinct: int) -> float:
    import numpy as np

    from survage.imaging import render_l3_slice, write_nifti

    start = time.perf_counter()
    rng = np.random.default_rng(2024)
    first = []
    for i in range(min(distinct, n_max)):
        body = float(rng.uniform(600, 950))
        sat, muscle = body * float(rng.uniform(0.1, 0.3)), body * float(rng.uniform(0.15, 0.22))
        values = {"total_body_area": body, "sat_area": sat, "muscle_area": muscle,
                  "vat_area": (body - sat - muscle - 80.0) * float(rng.uniform(0.1, 0.6)),
                  "aoca_agatston": float(rng.choice([0.0, rng.uniform(0, 1500)]))}
        image, _, spacing = render_l3_slice(values, size=size, rng=rng)
        first.append(write_nifti(image, spacing, folder / f"slice_{i:05d}.nii.gz"))
    for i in range(len(first), n_max):  # further files are copies of the rendered ones
        shutil.copy(first[i % len(first)], folder / f"slice_{i:05d}.nii.gz")
    return time.perf_counter() - start


def main() -> None:
    """Render, then measure each cohort size in its own process and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 400, 1600])
    parser.add_argument("--size", type=int, default=256, help="image side in pixels")
    parser.add_argument("--distinct", type=int, default=100, help="distinct phantoms rendered")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(_worker(args.dir, args.worker, args.workers, args.batch_size)))
        return
    with tempfile.TemporaryDirectory(prefix="survage_bench_img_") as tmp:
        folder = Path(tmp)
        render_s = _render(folder, max(args.sizes), args.size, args.distinct)
        print(f"rendered {max(args.sizes)} slices of {args.size}x{args.size} ({args.distinct} distinct) "
              f"in {render_s:.1f} s")
        rows = []
        for n in args.sizes:
            cmd = [sys.executable, __file__, "--worker", str(n), "--dir", str(folder),
                   "--workers", str(args.workers), "--batch-size", str(args.batch_size)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'images':>7} {'seen':>6} {'RSS before':>11} {'peak RSS':>9} {'growth':>7} {'worker peak':>12} "
          f"{'s':>6} {'img/s':>6}")
    for r in rows:
        worker = f"{r['worker_peak_mb']:>10.0f}MB" if args.workers else f"{'-':>12}"
        print(f"{r['n']:>7} {r['seen']:>6} {r['baseline_mb']:>9.0f}MB {r['peak_mb']:>7.0f}MB "
              f"{r['peak_mb'] - r['baseline_mb']:>5.0f}MB {worker} "
              f"{r['seconds']:>6.1f} {r['n'] / r['seconds']:>6.0f}")
    ratio = rows[-1]["peak_mb"] / rows[0]["peak_mb"]
    print(f"peak RSS ratio {rows[-1]['n']} vs {rows[0]['n']} images: {ratio:.3f} "
          f"(images x{rows[-1]['n'] / rows[0]['n']:.0f}; flat = 1.0)")


if __name__ == "__main__":
    main()
