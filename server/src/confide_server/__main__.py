"""``python -m confide_server`` is the ``confide`` command."""

from confide_server.entry import main

raise SystemExit(main())
