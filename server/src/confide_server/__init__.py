"""confide_server."""
