"""`python -m labutils ...` runs the student command line (see labutils.cli)."""

from labutils.cli import main

raise SystemExit(main())
