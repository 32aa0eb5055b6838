"""`python -m labutils.instructor ...` runs the instructor's command line (see cli.py), only
from the installed package (never one found in the current folder)."""

import sys

from labutils.instructor.cli import main, origin_problem

if origin_problem():
    print(f"labutils.instructor: {origin_problem()}", file=sys.stderr)
    raise SystemExit(2)
raise SystemExit(main())
