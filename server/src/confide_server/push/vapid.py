"""The relay's VAPID key pair (RFC 8292): made once, kept, used to sign every push.

By default the key is kept in the database (table ``vapid_key``, one row), so every relay of
a deployment signs with the key the workers' subscriptions were made with, and a restart, a
new container or a restored backup keeps it: a subscription is bound to the public key it
was made with, and a push signed by another is refused. ``CONFIDE_PUSH_VAPID_KEY_FILE``
keeps it in a file instead (created with mode 0600 and O_EXCL), for an operator who wants a
copy of the database not to carry it. Whoever holds the key and the endpoints can wake the
workers' devices with the service worker's fixed "New message", nothing more: the payload
is ignored and the subscriptions' encryption keys are not kept (docs/threat-model.md).

If the key is replaced, every subscription made with the old public key stops working; the
app notices the new key when it next unlocks and subscribes again (docs/operations.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from confide_server.encoding import b64e
from confide_server.store.schema import vapid_key
from confide_server.store.sqla_async import AsyncConnection

# A VAPID token must not be valid for more than 24 hours (RFC 8292 section 2).
TOKEN_SECONDS = 12 * 3600
_ROW = 1


class VapidKey:
    def __init__(self, vapid: Vapid02) -> None:
        self._vapid = vapid
        # py_vapid's strict check wants "sub" to be a mailto: or an https: URL; a relay in
        # development has an http: public URL, and the claim is optional in RFC 8292.
        self._vapid.conf = {"no-strict": True}
        raw = vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key: str = b64e(raw)
        """The application server key the browser subscribes with: the P-256 point, base64url."""

    @classmethod
    def generate(cls) -> VapidKey:
        vapid = Vapid02()
        vapid.generate_keys()
        return cls(vapid)

    @classmethod
    def from_pem(cls, pem: bytes) -> VapidKey:
        return cls(Vapid02.from_pem(pem))

    def private_pem(self) -> bytes:
        pem: bytes = self._vapid.private_pem()
        return pem

    @classmethod
    def load_or_create(cls, path: Path) -> VapidKey:
        """The key in ``path``, made and written there first if the file does not exist."""
        try:
            return cls.from_pem(path.read_bytes())
        except FileNotFoundError:
            pass
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            # Another relay made it first: use its key, not ours.
            return cls.from_pem(path.read_bytes())
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_pem())
            out.flush()
            os.fsync(out.fileno())
        return key

    def authorization(self, endpoint: str, contact: str, now: float) -> str:
        """The ``Authorization: vapid t=…, k=…`` value for a request to ``endpoint``."""
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(now) + TOKEN_SECONDS,
            "sub": contact,
        }
        header: str = self._vapid.sign(claims)["Authorization"]
        return header


async def stored_pem(conn: AsyncConnection, candidate: bytes) -> bytes:
    """The database's key (PEM); ``candidate`` becomes it if there is none yet. Relays
    starting together race here: the first insert wins and all read its key."""
    found = await conn.scalar(select(vapid_key.c.private_pem).where(vapid_key.c.singleton == _ROW))
    if found is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        await conn.execute(
            dialect.insert(vapid_key)
            .values(singleton=_ROW, private_pem=candidate.decode("ascii"))
            .on_conflict_do_nothing(index_elements=[vapid_key.c.singleton])
        )
        found = await conn.scalar(
            select(vapid_key.c.private_pem).where(vapid_key.c.singleton == _ROW)
        )
    assert found is not None
    return str(found).encode("ascii")
