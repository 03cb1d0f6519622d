"""The WebSocket endpoint: frame protocol (no I/O), delivery window (no I/O), socket adapter."""
