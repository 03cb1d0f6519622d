"""Two devices wired together in memory, the crypto tests' equivalent of h11's ConnectionPair."""

from __future__ import annotations

from dataclasses import dataclass

from confide_crypto.device import Device
from confide_crypto.keys import IdentityKeyPair, PreKeyBundle

from .support import CountingRng


@dataclass
class Pair:
    alice: Device
    bob: Device
    rng: CountingRng
    bundle: PreKeyBundle

    def bundle_without_opk(self) -> PreKeyBundle:
        b = self.bundle
        return PreKeyBundle(
            b.identity_key, b.signed_prekey_id, b.signed_prekey, b.signed_prekey_signature
        )


def make_pair(label: str = "pair", opk: bool = True) -> Pair:
    rng = CountingRng(label)
    alice = Device(IdentityKeyPair.generate(rng))
    bob = Device(IdentityKeyPair.generate(rng))
    spk = bob.add_signed_prekey(1, rng)
    (one_time,) = bob.add_one_time_prekeys(10, 1, rng)
    bundle = PreKeyBundle(
        bob.identity.public,
        1,
        spk.pair.public,
        spk.signature,
        10 if opk else None,
        one_time.pair.public if opk else None,
    )
    return Pair(alice, bob, rng, bundle)
