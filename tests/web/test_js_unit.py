"""Runs the web client's JavaScript unit tests (node's built-in runner) as part of pytest.

Those tests include the known-answer vectors in tests/vectors/, so the browser's crypto is
held to the same bytes as confide_crypto.
"""

from __future__ import annotations

import subprocess

from web_support import WEB, need, need_executable


def test_js_unit_tests_pass() -> None:
    node = need_executable("node")
    need((WEB / "node_modules").is_dir(), "clients/web/node_modules is missing (run npm ci)")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
