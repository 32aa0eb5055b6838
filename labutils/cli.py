"""The student package's command line: `python -m labutils run|data|export` (what `make run`
and `make export` call)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from labutils.runner import run_all

    results = run_all(args.notebooks or None)
    return 0 if all(r.ok for r in results) else 1


def _data(args: argparse.Namespace) -> int:
    from labutils.data import save_regression_data

    for path in save_regression_data(args.folder):
        print(f"wrote {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from labutils.export import DEFAULT_NOTEBOOK, export_notebook
    from labutils.paths import repo_root

    notebook = args.notebook or (repo_root() or Path.cwd()) / DEFAULT_NOTEBOOK
    result = export_notebook(notebook, pdf=not args.no_pdf)
    for path in result.written:
        print(f"wrote {path}")
    if result.pdf_skipped:
        print(result.pdf_skipped)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labutils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute notebooks in order with papermill (default: all)")
    p.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: the course)")
    p.set_defaults(func=_run)

    p = sub.add_parser("data", help="regenerate data/X_reg.pt and data/y_reg.pt")
    p.add_argument("--folder", type=Path, default=None, help="output folder (default: data/)")
    p.set_defaults(func=_data)

    p = sub.add_parser("export", help="write a notebook as HTML (and PDF where LaTeX exists)")
    p.add_argument("notebook", nargs="?", type=Path, default=None,
                   help="the notebook to export (default: notebooks/05_assignment.ipynb)")
    p.add_argument("--no-pdf", action="store_true", help="write the HTML page only")
    p.set_defaults(func=_export)
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
