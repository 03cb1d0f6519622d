"""The de-identifier on the shared corpus, and the review operations (undo, add a term).

The corpus (tests/fixtures/deidentify/corpus.json) is also checked by the web app's
clients/web/test/deidentify.test.mjs, so both implementations of the shared rules agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confide_client.deidentify import (
    add_term,
    apply_redactions,
    deidentify,
    find_identifiers,
    undo,
)

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "deidentify" / "corpus.json").read_text("utf-8")
)["cases"]


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_corpus_case(case: dict[str, Any]) -> None:
    text, redactions = deidentify(
        case["text"], alias=case["alias"], names=case["names"], others=case["others"]
    )
    assert text == case["expected"]
    assert [[r.kind, r.original] for r in redactions] == case["found"]
    for r in redactions:
        assert case["text"][r.start : r.end] == r.original
    for phrase in case["kept"]:
        assert phrase in text


def test_corpus_covers_both_languages_and_every_kind() -> None:
    assert {c["lang"] for c in CORPUS} == {"en", "es"}
    kinds = {kind for c in CORPUS for kind, _ in c["found"]}
    expected = {"client", "name", "phone", "email", "address", "date", "age", "url", "id"}
    assert expected <= kinds


def test_no_name_of_the_contact_survives_the_corpus() -> None:
    for case in CORPUS:
        text, _ = deidentify(
            case["text"], alias=case["alias"], names=case["names"], others=case["others"]
        )
        for name in [case["alias"], *case["names"], *case["others"]]:
            assert name not in text, case["id"]


def test_undo_restores_the_original_and_redo_masks_again() -> None:
    text = "Call Ana at 555-201-7788 tomorrow."
    redactions = find_identifiers(text, alias="Ana")
    assert apply_redactions(text, redactions) == "Call [client] at [phone] tomorrow."
    phone = next(i for i, r in enumerate(redactions) if r.kind == "phone")
    undone = undo(redactions, phone)
    assert apply_redactions(text, undone) == "Call [client] at 555-201-7788 tomorrow."
    assert apply_redactions(text, undo(undone, phone)) == "Call [client] at [phone] tomorrow."


def test_a_term_the_worker_adds_is_masked_everywhere_case_and_accents_folded() -> None:
    text = "She works at the Bodega Sol. La bodega sol cierra tarde; bodega Sól pays cash."
    redactions = add_term(text, find_identifiers(text), "Bodega Sol")
    assert apply_redactions(text, redactions) == (
        "She works at the [redacted]. La [redacted] cierra tarde; [redacted] pays cash."
    )


def test_a_term_inside_an_existing_redaction_merges_into_the_longer_one() -> None:
    text = "Write to ana.ruiz@example.org today."
    redactions = add_term(text, find_identifiers(text), "ruiz")
    assert apply_redactions(text, redactions) == "Write to [email] today."
    assert len(redactions) == 1


def test_names_only_match_whole_words() -> None:
    text, _ = deidentify("Ana is at the banana stand in Anaheim, Ana's favourite.", alias="Ana")
    assert text == "[client] is at the banana stand in Anaheim, [client]'s favourite."


def test_a_descriptive_alias_does_not_mask_its_common_words() -> None:
    text, _ = deidentify("The new contact from group said group was hard.", alias="New contact")
    assert text == "The [client] from group said group was hard."
