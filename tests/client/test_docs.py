"""docs/integrators.md's examples work: the in-memory one runs, the bot at least compiles."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


def test_the_memory_relay_example_runs() -> None:
    text = DOC.read_text()
    tested = text[text.index("<!-- tested example: memory relay -->") :]
    code = BLOCK.findall(tested)[0]
    exec(compile(code, "integrators.md (memory relay example)", "exec"), {"__name__": "doc"})


def test_every_python_example_compiles() -> None:
    blocks = _blocks()
    assert len(blocks) >= 2
    for number, code in enumerate(blocks):
        compile(code, f"integrators.md block {number}", "exec")
