"""The instructor's command line: `python -m labutils.instructor COMMAND`.

- `release --to DIR [--with-report]`: build the student repository (what students receive);
- `assignment [--check] [--assignment NAME]`: regenerate each assignment's committed student
  copy (e.g. notebooks/05_assignment.ipynb) from its instructor source;
- `grade SUBMISSIONS...`: grade submitted assignment notebooks (files or download folders,
  optionally into a gradebook: `--gradebook FILE`);
- `gradebook merge|export|score|show`: the gradebook after grading (shards, CSVs, manual scores);
- `badges [--check]`: rewrite every notebook's Colab badge and setup cell from pyproject.toml;
- `images [--folder DIR]`: redraw images/ and embed the pictures in the notebooks.

None of this ships to students: the student package's own command line is `python -m labutils`.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

import labutils


def _release(args: argparse.Namespace) -> int:
    from labutils.instructor.release import build_release

    built = build_release(args.to, with_report=args.with_report, replace=args.replace)
    print(f"wrote the student repository to {built.root}: {len(built.files)} files")
    for line in built.summary():
        print(f"  {line}")
    return 0


def _assignment(args: argparse.Namespace) -> int:
    from labutils.instructor.assignment import release_main

    return release_main(args)


def _grade(args: argparse.Namespace) -> int:
    from labutils.instructor.grading.command import grade_main

    return grade_main(args)


def _gradebook(args: argparse.Namespace) -> int:
    from labutils.instructor.grading.gradebook_command import gradebook_main

    return gradebook_main(args)


def _badges(args: argparse.Namespace) -> int:
    from labutils.instructor.course.badges import update_badges

    problems = update_badges(check=args.check)
    if args.check and problems:
        print(f"{problems} problem(s); run `make badges` to rewrite the badges and setup cells.")
    return 1 if problems else 0


def _images(args: argparse.Namespace) -> int:
    from labutils.instructor.course.badges import all_notebooks
    from labutils.instructor.course.images import embed_course_images, make_images
    from labutils.paths import repo_root

    for path in make_images(args.folder):
        print(f"wrote {path}")
    root = repo_root()
    if args.folder is None and root is not None:  # the notebooks carry the pictures they show
        embed_course_images(all_notebooks(root), root / "images")
    return 0


def build_parser(with_grader: bool = True) -> argparse.ArgumentParser:
    """The instructor's parser; `with_grader=False` leaves out the grade command's arguments,
    so that the other commands do not import the grader (and torch)."""
    parser = argparse.ArgumentParser(prog="python -m labutils.instructor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="build the student repository into a folder")
    p.add_argument("--to", type=Path, required=True, metavar="DIR",
                   help="the folder to build it in (new or empty, or see --replace)")
    p.add_argument("--with-report", action="store_true",
                   help="add the reference report (for after the deadline)")
    p.add_argument("--replace", action="store_true",
                   help="replace an earlier release in DIR (its .git folder is kept)")
    p.set_defaults(func=_release)

    p = sub.add_parser("assignment",
                       help="regenerate each assignment's student copy from its instructor "
                            "source")
    p.add_argument("--check", action="store_true", help="fail if a committed copy is stale")
    p.add_argument("--assignment", default=None, metavar="NAME",
                   help="only this assignment (default: every one)")
    p.set_defaults(func=_assignment)

    p = sub.add_parser("grade", help="grade submitted assignment notebooks")
    if with_grader:
        from labutils.instructor.grading.command import add_grade_arguments

        add_grade_arguments(p)
    p.set_defaults(func=_grade)

    p = sub.add_parser("gradebook", help="after grading: merge shards, export CSVs, record "
                       "manual scores, show grades")
    if with_grader:
        from labutils.instructor.grading.gradebook_command import add_gradebook_arguments

        add_gradebook_arguments(p)
    p.set_defaults(func=_gradebook)

    p = sub.add_parser("badges", help="rewrite Colab badges and setup cells from pyproject.toml")
    p.add_argument("--check", action="store_true", help="only report notebooks that disagree")
    p.set_defaults(func=_badges)

    p = sub.add_parser("images", help="redraw images/ and embed them in the notebooks")
    p.add_argument("--folder", type=Path, default=None, help="output folder (default: images/)")
    p.set_defaults(func=_images)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one command; errors print one line, not a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(with_grader=argv[:1] in (["grade"], ["gradebook"])).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as err:
        print(f"labutils.instructor {args.command}: {err}", file=sys.stderr)
        return 2


def installed_root() -> Path | None:
    """The folder the installed `labutils` is imported from (for an editable install, its
    checkout); None when the distribution is not installed."""
    try:
        dist = importlib.metadata.distribution("labutils")
    except importlib.metadata.PackageNotFoundError:
        return None
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    if direct.get("dir_info", {}).get("editable") and direct.get("url", "").startswith("file:"):
        return Path(unquote(urlparse(direct["url"]).path)).resolve()
    return Path(str(dist.locate_file("labutils"))).resolve().parent


def origin_problem() -> str:
    """Why this run must not go on ('' when `labutils` is the installed package, or comes from
    a folder the instructor named in PYTHONPATH): `python -m` puts the current folder first
    on sys.path, so from inside a fork it would import and run the fork's code as the grader."""
    here = Path(labutils.__file__).resolve().parents[1]
    installed = installed_root()
    named = {Path(entry).resolve() for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep)
             if entry}
    if here == installed or here in named:
        return ""
    return (f"refusing to run: labutils was imported from {here}, not from the installed "
            f"package ({installed or 'labutils is not installed'}); `python -m` imports from "
            "the current folder first. Run it from another folder, or as "
            "`python -P -m labutils.instructor ...` (or name that checkout in PYTHONPATH)")


if __name__ == "__main__":
    raise SystemExit(main())
