"""Property tests: delivery in any order with loss and duplication, bit flips, wrong parties."""

from __future__ import annotations

from confide_crypto import errors, sealed_sender
from confide_crypto.device import Device
from confide_crypto.keys import IdentityKeyPair
from confide_crypto.session import Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conversation import Pair, make_pair
from .support import CountingRng

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# An operation is ("send", side) or ("deliver", side, pick): side 0 is Alice, 1 is Bob, and
# pick chooses among the envelopes in flight to that side (already delivered ones included,
# which makes duplicates; envelopes never picked are lost).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 1)),
        st.tuples(st.just("deliver"), st.integers(0, 1), st.integers(0, 10_000)),
    ),
    max_size=60,
)


def _run(pair: Pair, ops: list[tuple[object, ...]]) -> None:
    devices = (pair.alice, pair.bob)
    peers = (pair.bob.identity.public, pair.alice.identity.public)
    pair.alice.start_session(pair.bundle, pair.rng)
    in_flight: tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]] = ([], [])
    delivered: set[bytes] = set()
    for count, op in enumerate(ops):
        side = int(op[1])  # type: ignore[call-overload]
        if op[0] == "send":
            if peers[side] not in devices[side].sessions:
                continue  # Bob can answer only once a message has reached him.
            plaintext = f"{side}:{count}".encode()
            envelope = devices[side].encrypt_to(peers[side], plaintext, rng=pair.rng)
            in_flight[1 - side].append((envelope, plaintext))
            continue
        pool = in_flight[side]
        if not pool:
            continue
        envelope, plaintext = pool[int(op[2]) % len(pool)]  # type: ignore[call-overload]
        before = devices[side].to_bytes()
        if envelope in delivered:
            try:
                devices[side].decrypt_envelope(envelope, now=0, rng=pair.rng)
            except errors.DecryptionError:
                assert devices[side].to_bytes() == before
            else:
                raise AssertionError("a duplicate decrypted twice")
        else:
            got = devices[side].decrypt_envelope(envelope, now=0, rng=pair.rng)
            assert got.plaintext == plaintext
            assert got.sender_identity_key == peers[side]
            delivered.add(envelope)


@SETTINGS
@given(ops=operations, with_opk=st.booleans())
def test_any_order_loss_and_duplication_decrypts_each_message_exactly_once(
    ops: list[tuple[object, ...]], with_opk: bool
) -> None:
    _run(make_pair("order", opk=with_opk), ops)


def _conversation() -> tuple[Pair, list[bytes]]:
    pair = make_pair("flip")
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    alice.start_session(pair.bundle, rng)
    first = alice.encrypt_to(bob.identity.public, b"first", rng=rng)
    bob.decrypt_envelope(first, now=0, rng=rng)
    reply = bob.encrypt_to(alice.identity.public, b"reply", rng=rng)
    second = alice.encrypt_to(bob.identity.public, b"second", rng=rng)
    return pair, [first, reply, second]


@SETTINGS
@given(which=st.integers(0, 2), position=st.integers(0, 8 * 256 - 1))
def test_any_flipped_bit_raises_and_changes_nothing(which: int, position: int) -> None:
    pair, envelopes = _conversation()
    receiver = pair.alice if which == 1 else pair.bob
    if which == 0:
        receiver = Device(pair.bob.identity, dict(pair.bob.signed_prekeys), {})
        receiver.one_time_prekeys = dict(make_pair("flip").bob.one_time_prekeys)
    envelope = bytearray(envelopes[which])
    envelope[position // 8] ^= 1 << (position % 8)
    before = receiver.to_bytes()
    try:
        receiver.decrypt_envelope(bytes(envelope), now=0, rng=pair.rng)
    except errors.CryptoError:
        assert receiver.to_bytes() == before
    else:
        raise AssertionError("a flipped bit went unnoticed")


@SETTINGS
@given(seed=st.binary(min_size=8, max_size=8), text=st.binary(max_size=300))
def test_keys_from_the_wrong_party_raise(seed: bytes, text: bytes) -> None:
    pair = make_pair(seed.hex())
    eve = Device(IdentityKeyPair.generate(CountingRng(seed.hex() + "eve")))
    alice, bob, rng = pair.alice, pair.bob, pair.rng
    session = alice.start_session(pair.bundle, rng)
    envelope = alice.encrypt_to(bob.identity.public, text, rng=rng)
    # Eve cannot open an envelope for Bob, even holding Bob's prekeys.
    eve.signed_prekeys = dict(bob.signed_prekeys)
    eve.one_time_prekeys = dict(bob.one_time_prekeys)
    try:
        eve.decrypt_envelope(envelope, now=0, rng=rng)
    except errors.DecryptionError:
        pass
    else:
        raise AssertionError("Eve opened Bob's envelope")
    # Nor can she pass a message sealed with her key off as Alice's.
    assert bob.decrypt_envelope(envelope, now=0, rng=rng).plaintext == text
    forged_content = session.encrypt_message(b"from eve")
    forged = sealed_sender.seal(eve.identity, bob.identity.public, forged_content, _ephemeral(rng))
    try:
        bob.decrypt_envelope(forged, now=0, rng=rng)
    except errors.DecryptionError:
        pass
    else:
        raise AssertionError("Bob accepted Alice's ratchet message from Eve's identity")
    # And Bob's session does not decrypt for a session Alice built with someone else.
    other = Session.initiate(alice.identity, make_pair(seed.hex() + "other").bundle, rng)
    try:
        bob.sessions[alice.identity.public].decrypt(other.encrypt(b"x", rng=rng), now=0, rng=rng)
    except errors.DecryptionError:
        pass
    else:
        raise AssertionError("a message for another session decrypted")


def _ephemeral(rng: CountingRng) -> object:
    from confide_crypto.keys import X25519KeyPair

    return X25519KeyPair.generate(rng)
