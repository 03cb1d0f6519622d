"""Checks of the files in deploy/: compose, Caddy, Helm, systemd, Docker, coturn, backups."""
