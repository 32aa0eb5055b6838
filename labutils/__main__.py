"""`python -m labutils ...` runs the course's command line (see labutils.cli)."""

from labutils.cli import main

raise SystemExit(main())
