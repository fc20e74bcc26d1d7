"""The ``survage`` console script (also ``python -m survage``).

Subcommands import their work lazily so that ``survage --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _simulate(args: argparse.Namespace) -> int:
    from survage.simulate import simulate_sheet_to_file

    path = simulate_sheet_to_file(args.n, seed=args.seed, out=args.out, images=args.images)
    print(f"survage simulate: wrote {args.n} simulated people to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``survage`` command."""
    p = argparse.ArgumentParser(prog="survage", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="write a simulated opportunistic-CT cohort (sheet layout)")
    s.add_argument("--n", type=int, default=9000, help="number of people")
    s.add_argument("--seed", type=int, default=0, help="random seed")
    s.add_argument("--out", "-o", required=True, help="output .csv or .xlsx")
    s.add_argument("--images", default=None, help="folder for rendered L3 slices (NIfTI)")
    s.set_defaults(func=_simulate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
