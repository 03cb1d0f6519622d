#!/usr/bin/env bash
# Installs the system packages the test suite drives for real: Debian's chromium (browser tests
# through Playwright with executable_path, never a browser download), coturn (call tests, and
# the check of deploy/coturn/turnserver.conf), caddy (`caddy validate` of deploy/Caddyfile) and
# the sqlite3 shell (the backup script's SQLite path) and faketime (a relay process whose
# wall clock leaps, tests/system/test_clock_leap.py).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
command -v caddy >/dev/null 2>&1 || need+=(caddy)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${need[*]}; install them with apt-get (needs root)." >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
