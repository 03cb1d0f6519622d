"""Crypto costs from crypto/, measured by bench/crypto_bench.py (the crypto engineer's).

That module exposes `measure(repeats) -> dict[str, float]`; the benchmark reports its
figures as they are. Until it exists, the run says so instead of inventing numbers.
"""

from __future__ import annotations

import importlib


def measure(repeats: int, notes: list[str]) -> dict[str, float]:
    if repeats <= 0:
        return {}
    try:
        crypto_bench = importlib.import_module("crypto_bench")
    except ImportError as exc:
        notes.append(f"crypto costs not measured: bench/crypto_bench.py is missing ({exc})")
        return {}
    figures: dict[str, float] = crypto_bench.measure(repeats)
    return figures
