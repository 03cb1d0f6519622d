"""Helpers for the crypto tests: loading the shared JSON vectors and replaying their draws."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

VECTORS = Path(__file__).parent.parent / "vectors"


def load(name: str) -> dict[str, Any]:
    """One vector file, parsed."""
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text())
    return data


def generator() -> ModuleType:
    """tests/vectors/generate.py, imported by path (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "confide_vector_generator", VECTORS / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ReplayRng:
    """Returns the draws a vector lists, in order, and insists each has the requested size."""

    def __init__(self, draws: list[str]) -> None:
        self.draws = [bytes.fromhex(d) for d in draws]

    def __call__(self, n: int) -> bytes:
        value = self.draws.pop(0)
        assert len(value) == n
        return value

    def feed(self, draws: list[str]) -> None:
        self.draws += [bytes.fromhex(d) for d in draws]

    def exhausted(self) -> bool:
        return not self.draws


class CountingRng:
    """A deterministic rng for property tests: distinct, reproducible bytes per draw."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0

    def __call__(self, n: int) -> bytes:
        import hashlib

        self.count += 1
        out = hashlib.shake_256(f"{self.label}/{self.count}".encode()).digest(n)
        return out
