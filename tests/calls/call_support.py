"""Helpers for the call tests, importable by name because tests/calls is not a package.

The web tests' helpers (tests/web/web_support.py: need, need_executable, the origin guard,
enrolment and invite steps) are loaded by path and reused, so both folders drive the app
the same way.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

WEB_TESTS = Path(__file__).resolve().parents[1] / "web"


def _web_support() -> ModuleType:
    # One module object for both folders, whichever conftest imports it first.
    if "web_support" in sys.modules:
        return sys.modules["web_support"]
    spec = importlib.util.spec_from_file_location("web_support", WEB_TESTS / "web_support.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_support"] = module
    spec.loader.exec_module(module)
    return module


web_support = _web_support()
need = web_support.need
need_executable = web_support.need_executable
