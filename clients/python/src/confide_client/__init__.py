"""confide_client."""
