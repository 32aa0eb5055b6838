"""Build the course site: `python site/build.py --release DIR --to build/site` (`make site`).

DIR is a student release (the student repository itself, or in the instructor repository a
release built into a scratch folder by `make site`). Runs in the site's own environment
(site/requirements.txt pinned by site/constraints.txt); executes no notebook.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from prepare import SiteSourceError, prepare_source  # noqa: E402 (this folder is no package)


def build(release: Path, out: Path, work: Path) -> list[str]:
    """Prepare the source from `release` in `work`, build HTML into `out`; return the pages."""
    from sphinx.cmd.build import build_main

    settings = prepare_source(release, work / "source", HERE / "conf.py")
    if out.exists():
        shutil.rmtree(out)
    args = ["-b", "html", "-q", "-W", "--keep-going", "-d", str(work / "doctrees"),
            str(work / "source"), str(out)]
    if build_main(args) != 0:
        raise SystemExit(f"Sphinx failed on the site built from {release} (warnings above).")
    return ["index"] + [name.removesuffix(".ipynb") for name in settings["notebooks"]]


def folder_size(folder: Path) -> int:
    """Bytes of every file under `folder`."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, default=Path("."),
                        help="the student release to build from (default: this folder)")
    parser.add_argument("--to", type=Path, default=Path("build/site"), help="output folder")
    parser.add_argument("--work", type=Path, default=Path("build/site-work"),
                        help="scratch folder for the prepared source and Sphinx's cache")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        pages = build(args.release, args.to, args.work)
    except SiteSourceError as error:
        print(f"make site: {error}", file=sys.stderr)
        return 1
    print(f"Built {len(pages)} pages into {args.to}/ ({folder_size(args.to) / 1e6:.1f} MB) "
          f"in {time.perf_counter() - start:.1f} s: open {args.to}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
