"""confide_crypto."""
