"""docs/operations.md keeps up with the relay: every setting and every stored column is listed.

The guide promises to say what the relay stores, table by table and column by column, and
to document every CONFIDE_ setting; these tests fail when the relay gains one the guide
does not mention, so the promise cannot silently go stale.
"""

from __future__ import annotations

import re

import pytest
from confide_server.store.schema import metadata

from deploy.conftest import REPO_ROOT, settings_env_names

GUIDE = REPO_ROOT / "docs" / "operations.md"


def stored_section() -> str:
    text = GUIDE.read_text()
    start = text.index("## 7. What is stored")
    return text[start : text.index("\n## 8.", start)]


def test_every_setting_is_documented() -> None:
    text = GUIDE.read_text()
    missing = sorted(name for name in settings_env_names() if f"`{name}`" not in text)
    assert not missing, f"docs/operations.md section 2 does not list: {missing}"


@pytest.mark.parametrize("table", sorted(metadata.tables), ids=str)
def test_every_table_and_column_is_documented(table: str) -> None:
    section = stored_section()
    match = re.search(rf"^### `{table}` .*?(?=^### |\Z)", section, re.MULTILINE | re.DOTALL)
    assert match, f"docs/operations.md section 7 has no heading for table {table}"
    documented = set(re.findall(r"^\| `(\w+)` \|", match.group(0), re.MULTILINE))
    columns = {c.name for c in metadata.tables[table].columns}
    assert columns - documented == set(), f"{table}: undocumented columns"
    assert documented - columns == set(), f"{table}: documented columns that do not exist"


def test_no_documented_table_is_gone() -> None:
    headings = set(re.findall(r"^### `(\w+)`", stored_section(), re.MULTILINE))
    assert headings <= set(metadata.tables), headings - set(metadata.tables)


def test_every_metric_is_documented() -> None:
    from confide_server.metrics import Metrics

    text = GUIDE.read_text()
    names = {family.name for family in Metrics().registry.collect()}
    missing = sorted(name for name in names if f"`{name}" not in text)
    assert not missing, f"docs/operations.md section 11 does not list: {missing}"


def test_the_bare_host_install_compiles_bytecode() -> None:
    """The systemd unit's file system is read-only to the relay, so it cannot cache the
    bytecode it compiles: the install must, or every restart compiles every module again."""
    text = GUIDE.read_text()
    section = text[text.index("### 1.4 systemd") : text.index("\n## 2. Configuration")]
    (sync,) = [line for line in section.splitlines() if "uv sync" in line]
    assert "--compile-bytecode" in sync
    (compile_line,) = [line for line in section.splitlines() if "-m compileall" in line]
    for member in ("crypto/src", "server/src", "clients/python/src"):
        assert member in compile_line.split()
