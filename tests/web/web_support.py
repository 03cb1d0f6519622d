"""Helpers for the web tests, importable by name because tests/ is not a package.

need() and need_executable() are the shared ones from tests/conftest.py, loaded by path so
that this folder's own conftest.py cannot shadow them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "clients" / "web"
DIST = WEB / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def _root_conftest() -> object:
    spec = importlib.util.spec_from_file_location(
        "confide_tests_root", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_shared = _root_conftest()
need = _shared.need  # type: ignore[attr-defined]
need_executable = _shared.need_executable  # type: ignore[attr-defined]
