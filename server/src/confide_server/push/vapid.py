"""The relay's VAPID key pair (RFC 8292): made once, kept in a file, used to sign pushes.

The key lives in a file beside the database rather than in it: a copy of the database or of
its backups, which holds the endpoints, is then not enough to send pushes to anyone. The
file is created with mode 0600 and O_EXCL, so two relays starting on one data directory
agree on one key. If the key is lost or replaced, every subscription made with the old
public key stops working; the app notices the new key when it next unlocks and subscribes
again (docs/operations.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02  # type: ignore[import-untyped]

from confide_server.encoding import b64e

# A VAPID token must not be valid for more than 24 hours (RFC 8292 section 2).
TOKEN_SECONDS = 12 * 3600


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
    def load_or_create(cls, path: Path) -> VapidKey:
        """The key in ``path``, made and written there first if the file does not exist."""
        try:
            return cls(Vapid02.from_pem(path.read_bytes()))
        except FileNotFoundError:
            pass
        key = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            # Another relay made it first: use its key, not ours.
            return cls(Vapid02.from_pem(path.read_bytes()))
        with os.fdopen(fd, "wb") as out:
            out.write(key._vapid.private_pem())
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
