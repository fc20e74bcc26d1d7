"""Run every benchmark in one go (``make bench``); each prints its own table of times and ratios
against the peers (lifelines, scikit-survival, pycox, torchsurv). Benchmarks are never tests.

Usage: ``.venv/bin/python bench/run_all.py [--quick]`` (``--quick`` drops the largest sizes).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL: list[list[str]] = [
    ["bench_concordance.py"],
    ["bench_bootstrap.py"],
    ["bench_cox_loss.py", "--repeats", "5"],
    ["bench_fit.py", "--sizes", "10000", "100000", "--epochs", "50", "--threads", "1"],
    ["bench_image_memory.py"],
]
QUICK: list[list[str]] = [
    ["bench_cox_loss.py", "--sizes", "10000", "100000", "--repeats", "3"],
    ["bench_fit.py", "--sizes", "10000", "--epochs", "20", "--threads", "1"],
    ["bench_image_memory.py", "--sizes", "50", "200"],
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes only")
    args = ap.parse_args()
    status = 0
    for cmd in QUICK if args.quick else FULL:
        print(f"\n=== {' '.join(cmd)} ===", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / cmd[0]), *cmd[1:]])
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main())
