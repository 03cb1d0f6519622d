"""The policy's history for the admin: versions, one version, a diff, and consent counts.

Publishing stays in services/organisation.py. Consent counts read the policy version from
the consent receipts the relay already keeps (docs/protocol.md, part 2, section 10): the
receipt format is public, so no key is needed. A conversation (one client device with one
worker device) counts for the version of its newest receipt, unless that receipt was
revoked. Only counts leave this module, never which conversation holds which version.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace

from sqlalchemy import select

from confide_server.services import policy_texts, versioned_text
from confide_server.services.consent_format import receipt_version, revoked_receipt
from confide_server.services.organisation import Policy
from confide_server.store.schema import consent_receipts, devices, policies
from confide_server.store.sqla_async import AsyncConnection


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int
    sha256: str
    published_day: int
    length: int
    languages: tuple[str, ...] = ("en",)  # the first text's, then the translations'


async def history(conn: AsyncConnection) -> list[PolicyVersion]:
    rows = await conn.execute(
        select(
            policies.c.version,
            policies.c.sha256,
            policies.c.published_day,
            policies.c.text,
            policies.c.language,
        ).order_by(policies.c.version)
    )
    translated = await policy_texts.languages(conn)
    return [
        PolicyVersion(
            r.version,
            r.sha256,
            r.published_day,
            len(r.text),
            (r.language, *translated.get(r.version, [])),
        )
        for r in rows
    ]


async def show(conn: AsyncConnection, version: int) -> Policy:
    policy = await versioned_text.show(conn, policies, version, "policy")
    others = await policy_texts.translations(conn, version)
    return replace(policy, translations=others)


async def diff(conn: AsyncConnection, a: int, b: int) -> str:
    """A unified diff from version ``a`` to version ``b``."""
    import difflib  # here alone: the serve path need not import it (test_serve_imports.py)

    old, new = await show(conn, a), await show(conn, b)
    return "".join(
        difflib.unified_diff(
            old.text.splitlines(keepends=True),
            new.text.splitlines(keepends=True),
            fromfile=f"version {a}",
            tofile=f"version {b}",
        )
    )


async def consent_counts(conn: AsyncConnection) -> dict[int, int]:
    """Policy version -> how many active conversations hold consent to it."""
    rows = await conn.execute(
        select(
            consent_receipts.c.client_device_id,
            consent_receipts.c.worker_device_id,
            consent_receipts.c.kind,
            consent_receipts.c.receipt,
        )
        .select_from(
            consent_receipts.join(devices, devices.c.id == consent_receipts.c.client_device_id)
        )
        .where(devices.c.revoked.is_(False))
    )
    revoked: set[bytes] = set()
    newest: dict[tuple[bytes, bytes], tuple[int, bytes]] = {}
    for r in rows:
        receipt = bytes(r.receipt)
        if r.kind == "revocation":
            ended = revoked_receipt(receipt)
            if ended is not None:
                revoked.add(ended)
            continue
        version = receipt_version(receipt)
        if version is None:
            continue
        key = (bytes(r.client_device_id), bytes(r.worker_device_id))
        held = newest.get(key)
        if held is None or version >= held[0]:
            newest[key] = (version, hashlib.sha256(receipt).digest())
    return dict(Counter(version for version, digest in newest.values() if digest not in revoked))
