"""``python -m confide_server`` is the ``confide`` command."""

from confide_server.cli import main

raise SystemExit(main())
