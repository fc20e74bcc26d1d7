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


def _run(args: argparse.Namespace) -> int:
    from survage.workflow.study import run_study

    mods = [m.strip() for m in args.modalities.split(",") if m.strip()] if args.modalities else None
    run_study(args.config, args.out, data_path=args.data, modalities=mods, seed=args.seed,
              progress=not args.quiet)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from survage.workflow.predict import predict

    path = predict(args.run_dir, args.data, args.out)
    print(f"survage predict: wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from survage.errors import SurvageInputError
    from survage.report import render_report

    run = Path(args.run_dir)
    src = run / "metrics.json"
    if not src.is_file():
        raise SurvageInputError(f"no metrics.json in {str(run)!r}", column=str(src),
                                expected="a run directory written by survage run")
    out = Path(args.out) if args.out else run / "report.pdf"
    render_report(json.loads(src.read_text(encoding="utf-8")), out)
    print(f"survage report: wrote {out}")
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

    r = sub.add_parser("run", help="run a study from an experiment file (experiments/*.yaml)")
    r.add_argument("config", help="experiment YAML file")
    r.add_argument("--out", "-o", required=True, help="run directory (model, metrics.json, report.pdf)")
    r.add_argument("--data", default=None, help="data file (required for oppscr; overrides data.path)")
    r.add_argument("--modalities", default=None, help="comma-separated modalities of the primary model")
    r.add_argument("--seed", type=int, default=None, help="overrides the config seed")
    r.add_argument("--quiet", action="store_true", help="no progress bars or summary line")
    r.set_defaults(func=_run)

    q = sub.add_parser("predict", help="apply a finished run to data")
    q.add_argument("run_dir", help="run directory written by survage run")
    q.add_argument("--data", default=None, help="data file (default: the run's own data)")
    q.add_argument("--out", "-o", required=True, help="output CSV")
    q.set_defaults(func=_predict)

    g = sub.add_parser("report", help="re-render report.pdf from a run's metrics.json")
    g.add_argument("run_dir", help="run directory written by survage run")
    g.add_argument("--out", "-o", default=None, help="output PDF (default RUN_DIR/report.pdf)")
    g.set_defaults(func=_report)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point. Bad input (``SurvageInputError``) prints one line and exits with status 2."""
    from survage.errors import SurvageInputError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SurvageInputError as exc:
        print(f"survage {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
