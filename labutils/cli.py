"""The course's command line: `python -m labutils COMMAND` (the Makefile calls these)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from labutils.notebooks import run_all

    results = run_all(args.notebooks or None)
    return 0 if all(r.ok for r in results) else 1


def _badges(args: argparse.Namespace) -> int:
    from labutils.colab import update_badges

    problems = update_badges(check=args.check)
    if args.check and problems:
        print(f"{problems} problem(s); run `make badges` to rewrite the badges and setup cells.")
    return 1 if problems else 0


def _images(args: argparse.Namespace) -> int:
    from labutils.figures import make_images

    for path in make_images(args.folder):
        print(f"wrote {path}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from labutils.data import save_regression_data

    for path in save_regression_data(args.folder):
        print(f"wrote {path}")
    return 0


def _release(args: argparse.Namespace) -> int:
    from labutils.instructor.assignment import release_main

    return release_main(args)


def _grade(args: argparse.Namespace) -> int:
    from labutils.instructor.grading import grade_main

    return grade_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labutils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute notebooks in order with papermill (default: all)")
    p.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: the course)")
    p.set_defaults(func=_run)

    p = sub.add_parser("badges", help="rewrite Colab badges and setup cells from pyproject.toml")
    p.add_argument("--check", action="store_true", help="only report notebooks that disagree")
    p.set_defaults(func=_badges)

    p = sub.add_parser("images", help="regenerate the figures in images/")
    p.add_argument("--folder", type=Path, default=None, help="output folder (default: images/)")
    p.set_defaults(func=_images)

    p = sub.add_parser("data", help="regenerate data/X_reg.pt and data/y_reg.pt")
    p.add_argument("--folder", type=Path, default=None, help="output folder (default: data/)")
    p.set_defaults(func=_data)

    p = sub.add_parser("release", help="generate the student assignment from the instructor source")
    p.add_argument("--check", action="store_true", help="fail if the committed copy is stale")
    p.set_defaults(func=_release)

    p = sub.add_parser("grade", help="grade submitted assignment notebooks")
    p.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    p.add_argument("--out", type=Path, default=None, help="write the results as CSV here")
    p.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell")
    p.add_argument("--total-timeout", type=int, default=900, help="seconds per submission")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    p.add_argument("--release", type=Path, default=None,
                   help="the released student notebook to compare check cells with "
                        "(default: notebooks/05_assignment.ipynb)")
    p.set_defaults(func=_grade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one command; errors print one line, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"labutils {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
