"""docs/integrators.md's examples work: the test-relay example runs, the bot at least compiles."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrators.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text())


async def test_the_test_relay_example_runs_as_written(tmp_path: Path) -> None:
    text = DOC.read_text()
    tested = text[text.index("<!-- tested example: test relay -->") :]
    code = BLOCK.findall(tested)[0]
    namespace: dict[str, object] = {"__name__": "integrators_example"}
    exec(compile(code, "integrators.md (test relay example)", "exec"), namespace)
    tests = {name: f for name, f in namespace.items() if name.startswith("test_")}
    assert list(tests) == ["test_the_bot_answers_after_a_network_failure"]
    for test in tests.values():
        await test(tmp_path)  # type: ignore[operator]


def test_every_python_example_compiles() -> None:
    blocks = _blocks()
    assert len(blocks) >= 2
    for number, code in enumerate(blocks):
        compile(code, f"integrators.md block {number}", "exec")
