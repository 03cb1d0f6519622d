"""Helpers for the call tests, importable by name because tests/calls is not a package.

The web tests' helpers (tests/web/web_support.py: need, need_executable, the origin guard,
enrolment and invite steps) and two of their fixtures are loaded by path and reused, so both
folders drive the app the same way.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

WEB_TESTS = Path(__file__).resolve().parents[1] / "web"


def _load(name: str, path: Path) -> ModuleType:
    # One module object for both folders, whichever conftest imports it first.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


web_support = _load("web_support", WEB_TESTS / "web_support.py")
accessibility = _load("accessibility", WEB_TESTS / "accessibility.py")
# The web tests' fixtures (the built app, the screenshot folder) serve the call tests as is.
web_fixtures = _load("confide_web_fixtures", WEB_TESTS / "conftest.py")
need = web_support.need
need_executable = web_support.need_executable
