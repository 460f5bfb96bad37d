"""``python -m jpeval``: the same as the ``jpeval`` command."""

from jpeval.cli import main

raise SystemExit(main())
