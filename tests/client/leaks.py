"""Searching what a relay left behind (database files, dumps, logs) for things it must not hold."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from conftest import need_executable

# pg_dump writes bytea values as hex (\x...); decoding them lets one raw search cover both.
_BYTEA = re.compile(rb"\\\\?x((?:[0-9a-f]{2})+)")


def with_bytea_decoded(dump: bytes) -> bytes:
    """The dump followed by every hex-encoded bytea value in it, decoded."""
    return dump + b"\n" + b"\n".join(bytes.fromhex(m.decode()) for m in _BYTEA.findall(dump))


def read_tree(root: Path) -> bytes:
    """Every file under ``root`` (a SQLite database with its WAL and journal), concatenated."""
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


@dataclass
class Search:
    """Needles to look for, by name, and the haystacks searched so far."""

    needles: dict[str, bytes] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[bytes]] = field(default_factory=dict)

    def findings(self, haystacks: dict[str, bytes]) -> list[str]:
        found = []
        for hay_name, hay in haystacks.items():
            for name, needle in self.needles.items():
                if needle in hay:
                    found.append(f"{name} in {hay_name}")
            for name, pattern in self.patterns.items():
                hits = sorted(set(pattern.findall(hay)))
                found += [f"{name} {h[:60]!r} in {hay_name}" for h in hits]
        return found


def pg_dump(database_url: str, out: Path) -> bytes:
    """A full plain-format dump (schema and data) of the relay's PostgreSQL database."""
    exe = need_executable("pg_dump")
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    subprocess.run([exe, "--no-owner", "-f", str(out), dsn], check=True)
    return out.read_bytes()
