"""A renderer for the small subset of Helm's Go templates that deploy/helm/confide uses.

There is no helm binary on the development machines, so the chart's templates are rendered
here and the result is checked against the Kubernetes schemas. The subset is deliberately
narrow and anything outside it raises ``TemplateError``, so a template that starts using a
construct this renderer does not know fails the test instead of being rendered wrongly:

- actions ``{{ pipeline }}`` with the trim markers ``{{-`` and ``-}}``;
- ``if`` / ``else if`` / ``else`` / ``end`` (Go's truthiness: empty, zero, false and nil
  are false);
- field paths under ``.Values``, ``.Release`` and ``.Chart``, string and integer literals,
  parenthesised pipelines;
- the functions ``and``, ``not``, ``quote``, ``b64enc``, ``toYaml``, ``toJson``,
  ``nindent``, ``indent`` and ``required``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

_ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r'\s*(?:(\()|(\))|(\|)|("(?:[^"\\]|\\.)*")|(-?\d+)|(\.[A-Za-z0-9_.]*)|([A-Za-z]\w*))'
)


class TemplateError(Exception):
    """The template uses something outside the supported subset, or a required value is unset."""


@dataclass
class _If:
    branches: list[tuple[str | None, list[Any]]] = field(default_factory=list)


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and not (
        isinstance(value, list | dict) and len(value) == 0
    )


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(width: int, text: str) -> str:
    pad = " " * width
    return "\n".join(pad + line for line in _to_text(text).split("\n"))


def _required(message: str, value: Any) -> Any:
    if not _truthy(value):
        raise TemplateError(message)
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "and": lambda *args: next((a for a in args if not _truthy(a)), args[-1]),
    "not": lambda value: not _truthy(value),
    "quote": lambda value: json.dumps(_to_text(value)),
    "b64enc": lambda value: base64.b64encode(_to_text(value).encode()).decode(),
    "toYaml": _to_yaml,
    "toJson": lambda value: json.dumps(value, separators=(",", ":")),
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "indent": _indent,
    "required": _required,
}


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    kinds = ("open", "close", "pipe", "string", "number", "field", "ident")
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if match is None:
            raise TemplateError(f"cannot parse {expression!r} at {position}")
        kind = next(k for k, group in zip(kinds, match.groups(), strict=True) if group)
        tokens.append((kind, match.group(match.lastindex or 0)))
        position = match.end()
    return tokens


class _Evaluator:
    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context

    def pipeline(self, tokens: list[tuple[str, str]]) -> Any:
        value, rest = self._pipeline(tokens)
        if rest:
            raise TemplateError(f"unexpected {rest[0][1]!r}")
        return value

    def _pipeline(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        value: Any = None
        piped = False
        while True:
            value, tokens = self._command(tokens, value if piped else None, piped)
            if tokens and tokens[0][0] == "pipe":
                tokens, piped = tokens[1:], True
                continue
            return value, tokens

    def _command(
        self, tokens: list[tuple[str, str]], piped_value: Any, piped: bool
    ) -> tuple[Any, list[tuple[str, str]]]:
        if not tokens:
            raise TemplateError("empty command")
        kind, text = tokens[0]
        if kind == "ident":
            if text not in FUNCTIONS:
                raise TemplateError(f"unsupported function {text!r}")
            args: list[Any] = []
            tokens = tokens[1:]
            while tokens and tokens[0][0] not in ("pipe", "close"):
                arg, tokens = self._operand(tokens)
                args.append(arg)
            if piped:
                args.append(piped_value)
            return FUNCTIONS[text](*args), tokens
        if piped:
            raise TemplateError(f"cannot pipe into {text!r}")
        return self._operand(tokens)

    def _operand(self, tokens: list[tuple[str, str]]) -> tuple[Any, list[tuple[str, str]]]:
        kind, text = tokens[0]
        if kind == "open":
            value, rest = self._pipeline(tokens[1:])
            if not rest or rest[0][0] != "close":
                raise TemplateError("unbalanced parenthesis")
            return value, rest[1:]
        if kind == "string":
            return json.loads(text), tokens[1:]
        if kind == "number":
            return int(text), tokens[1:]
        if kind == "field":
            return self._lookup(text), tokens[1:]
        raise TemplateError(f"unexpected {text!r}")

    def _lookup(self, path: str) -> Any:
        value: Any = self.context
        for part in path.strip(".").split("."):
            if not isinstance(value, Mapping):
                raise TemplateError(f"{path} goes through a non-map")
            value = value.get(part)
        return value


def _parse(template: str) -> list[Any]:
    """Splits the template into text and actions (trim markers applied), then nests the ifs."""
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _ACTION.finditer(template):
        text = template[position : match.start()]
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2)))
        position = match.end()
        if match.group(3):
            rest = template[position:]
            position += len(rest) - len(rest.lstrip())
    pieces.append(("text", template[position:]))

    root: list[Any] = []
    stack: list[tuple[_If, list[Any]]] = []
    current = root
    for kind, text in pieces:
        if kind == "text":
            current.append(text)
            continue
        if text.startswith("/*"):
            continue
        word, _, rest = text.partition(" ")
        if word == "if":
            node = _If(branches=[(rest, [])])
            current.append(node)
            stack.append((node, current))
            current = node.branches[-1][1]
        elif word == "else":
            if not stack:
                raise TemplateError("else outside if")
            node = stack[-1][0]
            condition = rest.removeprefix("if ") if rest.startswith("if ") else None
            if rest and condition is None:
                raise TemplateError(f"unsupported else clause {text!r}")
            node.branches.append((condition, []))
            current = node.branches[-1][1]
        elif word == "end":
            if not stack:
                raise TemplateError("end outside if")
            current = stack.pop()[1]
        elif word in ("range", "with", "define", "template", "block", "include", "tpl"):
            raise TemplateError(f"unsupported action {word!r}")
        else:
            current.append(_tokenize(text))
    if stack:
        raise TemplateError("if without end")
    return root


def _evaluate(nodes: list[Any], evaluator: _Evaluator, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _If):
            for condition, body in node.branches:
                if condition is None or _truthy(evaluator.pipeline(_tokenize(condition))):
                    _evaluate(body, evaluator, out)
                    break
        else:
            out.append(_to_text(evaluator.pipeline(node)))


def render(template: str, context: Mapping[str, Any]) -> str:
    """Renders ``template`` with ``context`` (keys Values, Release, Chart) as Helm would."""
    out: list[str] = []
    _evaluate(_parse(template), _Evaluator(context), out)
    return "".join(out)
