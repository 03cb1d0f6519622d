"""The leak search itself: it must find what it looks for, in raw and in pg_dump's hex form."""

from __future__ import annotations

import re

from .leaks import Search, with_bytea_decoded


def test_the_search_finds_needles_and_patterns_raw_and_hex_encoded() -> None:
    search = Search(needles={"alias": b"Jamie"}, patterns={"plaintext": re.compile(rb"pt-\d{4}")})
    assert search.findings({"clean": b"nothing to see"}) == []
    dump = b"COPY t (body) FROM stdin;\n\\\\x" + b"Jamie says pt-0042".hex().encode() + b"\n"
    found = search.findings({"dump": with_bytea_decoded(dump)})
    assert found == ["alias in dump", "plaintext b'pt-0042' in dump"]
