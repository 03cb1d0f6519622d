"""The de-identifier: what in a consultation draft could identify the client.

Pure: text and the worker's names in, redactions out. The rules are data
(``deid_rules.json`` beside this module), read by this module and by the web app's
``clients/web/src/worker/deidentify.js``, so both mask the same things; the corpus in
tests/fixtures/deidentify/ holds both to the same results. HIPAA Safe Harbor
(45 CFR 164.514(b)(2)) is the reference list. It helps the worker review a draft; it does
not replace the review (docs/web.md, "Consultation", lists what it misses).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

__all__ = ["Redaction", "add_term", "apply_redactions", "deidentify", "find_identifiers"]

_RULES: dict[str, Any] = json.loads(
    resources.files("confide_client").joinpath("deid_rules.json").read_text("utf-8")
)
_STOPWORDS = frozenset(_RULES["stopwords"])
_LABELS: dict[str, str] = _RULES["labels"]
_MACRO = re.compile(r"\{([A-Z_]+)\}")


def _expand(source: str) -> str:
    for _ in range(10):
        if "{" not in source:
            break
        source = _MACRO.sub(lambda m: _RULES["macros"].get(m.group(1), m.group(0)), source)
    return source


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    label: str
    regex: re.Pattern[str]
    group: int
    trim: str
    min_digits: int
    priority: int


_COMPILED = [
    _Rule(
        kind=r["kind"],
        label=r["label"],
        regex=re.compile(_expand(r["pattern"]), re.IGNORECASE if "i" in r.get("flags", "") else 0),
        group=r.get("group", 0),
        trim=r.get("trim", ""),
        min_digits=r.get("min_digits", 0),
        priority=index + 2,
    )
    for index, r in enumerate(_RULES["rules"])
]


@dataclass(frozen=True, slots=True)
class Redaction:
    """One masked stretch of the original text, ``text[start:end]``, shown as ``label``."""

    start: int
    end: int
    kind: str
    label: str
    original: str
    undone: bool = False


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    kind: str
    label: str
    priority: int
    #: The length of the longest single match merged into this one (it names the merge).
    longest: int = 0


def _fold_char(c: str) -> str:
    decomposed = unicodedata.normalize("NFD", c)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return folded if len(folded) == 1 else c


def _fold(text: str) -> str:
    """Case and accents folded, one character per character, so offsets carry over."""
    return "".join(_fold_char(c) for c in text)


def _is_word_char(text: str, at: int) -> bool:
    return 0 <= at < len(text) and text[at].isalnum()


def _name_candidates(name: str) -> set[str]:
    whole = " ".join(name.split())
    out = {_fold(whole)} if len(whole) >= 2 else set()
    for raw in whole.split(" "):
        word = raw.strip(".,'\"()")
        if len(word) >= 2 and word[0] != word[0].lower() and _fold(word) not in _STOPWORDS:
            out.add(_fold(word))
    return out


def _find_names(
    text: str, folded: str, names: Iterable[str], kind: str, priority: int
) -> list[_Found]:
    candidates: set[str] = set()
    for name in names:
        candidates |= _name_candidates(name)
    found = []
    for candidate in candidates:
        at = folded.find(candidate)
        while at != -1:
            end = at + len(candidate)
            if not _is_word_char(text, at - 1) and not _is_word_char(text, end):
                found.append(_Found(at, end, kind, _LABELS[kind], priority))
            at = folded.find(candidate, at + 1)
    return found


def _find_rules(text: str) -> list[_Found]:
    found = []
    for rule in _COMPILED:
        for match in rule.regex.finditer(text):
            start, end = match.span(rule.group)
            if start < 0:
                start, end = match.span()
            while end > start and text[end - 1] in rule.trim:
                end -= 1
            if sum(c in "0123456789" for c in text[start:end]) < rule.min_digits:
                continue
            if end > start:
                found.append(_Found(start, end, rule.kind, rule.label, rule.priority))
    return found


def _merge(text: str, found: list[_Found]) -> list[Redaction]:
    """Overlaps become one redaction, named by the longer match (on a tie, the earlier rule).

    Neighbouring name parts ("Maria" "Lopez") separated only by spaces become one label too.
    """
    found.sort(key=lambda f: (f.start, -f.end, f.priority))
    out: list[_Found] = []
    for f in found:
        last = out[-1] if out else None
        touching_name = (
            last is not None
            and last.kind == f.kind
            and f.kind in ("client", "name")
            and text[last.end : f.start].strip(" \t") == ""
            and f.start >= last.end
        )
        if last is not None and (f.start < last.end or touching_name):
            length = f.end - f.start
            if length > last.longest or (length == last.longest and f.priority < last.priority):
                last.kind, last.label, last.priority = f.kind, f.label, f.priority
                last.longest = length
            last.end = max(last.end, f.end)
        else:
            out.append(_Found(f.start, f.end, f.kind, f.label, f.priority, f.end - f.start))
    return [Redaction(f.start, f.end, f.kind, f.label, text[f.start : f.end]) for f in out]


def find_identifiers(
    text: str, *, alias: str = "", names: Sequence[str] = (), others: Sequence[str] = ()
) -> list[Redaction]:
    """Every identifier in ``text``, as sorted, disjoint redactions of the original.

    ``alias`` and ``names`` are the contact's (they become ``[client]``); ``others`` are
    further names the worker listed (relatives, places), which become ``[name]``.
    """
    folded = _fold(text)
    return _merge(
        text,
        [
            *_find_names(text, folded, [alias, *names], "client", 0),
            *_find_names(text, folded, others, "name", 1),
            *_find_rules(text),
        ],
    )


def apply_redactions(text: str, redactions: Sequence[Redaction]) -> str:
    """The text with every redaction that is not undone replaced by its label."""
    parts, at = [], 0
    for r in redactions:
        if r.undone:
            continue
        parts += [text[at : r.start], r.label]
        at = r.end
    parts.append(text[at:])
    return "".join(parts)


def add_term(text: str, redactions: Sequence[Redaction], term: str) -> list[Redaction]:
    """The redactions plus every occurrence of ``term`` the worker chose to hide."""
    wanted = _fold(term.strip())
    if not wanted:
        return list(redactions)
    folded = _fold(text)
    found = [
        _Found(r.start, r.end, r.kind, r.label, -1 if r.kind == "manual" else 0)
        for r in redactions
        if not r.undone
    ]
    at = folded.find(wanted)
    while at != -1:
        found.append(_Found(at, at + len(wanted), "manual", _LABELS["manual"], -1))
        at = folded.find(wanted, at + 1)
    return _merge(text, found)


def undo(redactions: Sequence[Redaction], index: int) -> list[Redaction]:
    """Undo (or redo) one redaction."""
    return [replace(r, undone=not r.undone) if i == index else r for i, r in enumerate(redactions)]


def deidentify(
    text: str, *, alias: str = "", names: Sequence[str] = (), others: Sequence[str] = ()
) -> tuple[str, list[Redaction]]:
    """The de-identified text and the redactions that made it."""
    redactions = find_identifiers(text, alias=alias, names=names, others=others)
    return apply_redactions(text, redactions), redactions
