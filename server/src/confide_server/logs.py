"""Logging for ``confide serve``: uvicorn's access log is off and no client address is logged.

uvicorn's WebSocket handshake lines name the peer's address; ``NoClientAddresses`` drops
them so that no IP address reaches the logs (docs/operations.md, what is stored).
"""

from __future__ import annotations

import logging
from typing import Any

_DROPPED = ('"WebSocket ', "%s:%d - ", "connection open", "connection closed")


class NoClientAddresses(logging.Filter):
    """Drops uvicorn's per-connection lines: they name the peer or time each connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not any(marker in message for marker in _DROPPED)


def log_config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_addresses": {"()": NoClientAddresses}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["no_addresses"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "confide_server": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            # httpx names every URL it requests at INFO, and push endpoints must not reach
            # the logs (push/sender.py): its loggers and httpcore's keep to warnings.
            "httpx": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "httpcore": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }
