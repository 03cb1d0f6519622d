"""Real-process tests of the relay: `confide serve` subprocesses, killed and restarted for real."""
