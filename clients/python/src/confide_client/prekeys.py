"""This device's prekeys: what registration uploads, topping up, and signed prekey rotation.

Pure bookkeeping on the state (no I/O): each function changes the device's private keys and
returns the public halves the caller then uploads, after saving. X3DH (§2.5 of the Signal
specification) asks for one-time prekeys to be replenished and the signed prekey to be
replaced from time to time; deleting old private keys is what gives it forward secrecy.
"""

from __future__ import annotations

from confide_crypto.keys import Rng, SignedPreKey

from confide_client.state import ClientState
from confide_client.transport.base import DeviceRegistration, OneTimePrekey, SignedPrekey

__all__ = [
    "PREKEY_LOW_WATER",
    "PREKEY_TARGET",
    "SIGNED_PREKEY_DAYS",
    "registration",
    "rotate",
    "top_up",
]

#: How many one-time prekeys a device keeps on the relay, and when it tops them up.
PREKEY_TARGET = 100
PREKEY_LOW_WATER = 25
#: How often the signed prekey is replaced.
SIGNED_PREKEY_DAYS = 30


def _public(spk: SignedPreKey) -> SignedPrekey:
    return SignedPrekey(spk.key_id, spk.pair.public, spk.signature)


def _new_one_time(state: ClientState, count: int, rng: Rng) -> list[OneTimePrekey]:
    first = state.next_prekey_id
    made = state.device.add_one_time_prekeys(first, count, rng)
    state.next_prekey_id = first + count
    return [OneTimePrekey(k.key_id, k.pair.public) for k in made]


def registration(state: ClientState, challenge: bytes, rng: Rng, now: int) -> DeviceRegistration:
    """A new device's keys and its proof of possession over the relay's ``challenge``."""
    identity = state.device.identity
    spk = state.device.add_signed_prekey(state.signed_prekey_id, rng)
    state.signed_prekey_at = now
    return DeviceRegistration(
        identity_key=identity.public,
        challenge=challenge,
        signature=identity.sign_registration(challenge),
        signed_prekey=_public(spk),
        one_time_prekeys=_new_one_time(state, PREKEY_TARGET, rng),
    )


def top_up(state: ClientState, remaining: int, rng: Rng) -> list[OneTimePrekey]:
    """New one-time prekeys if the relay holds fewer than the low-water mark, else none."""
    if remaining >= PREKEY_LOW_WATER:
        return []
    return _new_one_time(state, PREKEY_TARGET - remaining, rng)


def rotate(state: ClientState, rng: Rng, now: int, *, force: bool = False) -> SignedPrekey | None:
    """A new signed prekey once the current one is SIGNED_PREKEY_DAYS old, else None.

    The previous one is kept, so a prekey message built from an older bundle still opens;
    anything older is deleted.
    """
    if not force and now - state.signed_prekey_at < SIGNED_PREKEY_DAYS * 24 * 3600:
        return None
    new_id = state.signed_prekey_id + 1
    spk = state.device.add_signed_prekey(new_id, rng)
    for old in [k for k in state.device.signed_prekeys if k < state.signed_prekey_id]:
        del state.device.signed_prekeys[old]
    state.signed_prekey_id, state.signed_prekey_at = new_id, now
    return _public(spk)
