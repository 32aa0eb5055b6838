"""`python -m labutils.instructor ...` runs the instructor's command line (see cli.py)."""

from labutils.instructor.cli import main

raise SystemExit(main())
