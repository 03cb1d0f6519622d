"""A reader for Dockerfiles, enough to check deploy/Dockerfile without a Docker engine.

It joins continuation lines, drops comments and parser directives, and groups instructions
into build stages. Arguments in JSON (exec) form are decoded; others are kept as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Instruction:
    keyword: str
    text: str

    @property
    def exec_form(self) -> list[str] | None:
        """The arguments when written as a JSON array, else None (shell form)."""
        body = self.text
        if self.keyword == "HEALTHCHECK":
            _, found, body = body.partition("CMD ")
            if not found:
                return None
        try:
            value = json.loads(body)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> tuple[list[Instruction], list[Stage]]:
    """Returns the instructions before the first FROM (global ARGs) and the stages."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending.rstrip())

    preamble: list[Instruction] = []
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        instruction = Instruction(keyword.upper(), rest.strip())
        if instruction.keyword == "FROM":
            words = instruction.text.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
        else:
            preamble.append(instruction)
    return preamble, stages
