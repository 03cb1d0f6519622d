"""Invites and what redeeming one hands over: links, tokens, the policy and the bundle."""

from __future__ import annotations

import hashlib
import hmac

from confide_crypto.errors import CryptoError
from confide_crypto.keys import PreKeyBundle, Rng

from confide_client.consent import ConsentGate, policy_ref
from confide_client.contact import Contact
from confide_client.encoding import b64d
from confide_client.errors import ProtocolError
from confide_client.state import ClientState, Role
from confide_client.transport.base import Policy, Redemption
from confide_client.transport.base import PrekeyBundle as WireBundle

__all__ = [
    "accept_redemption",
    "check_policy",
    "crypto_bundle",
    "invite_link",
    "invite_proof",
    "parse_invite",
    "proves_invite",
]

PROOF_LABEL = b"Confide invite proof v1\x00"


def invite_link(relay_url: str, token: str) -> str:
    """The link a worker hands a client; the token is in the fragment, never sent to the relay."""
    return f"{relay_url.rstrip('/')}/join#{token}"


def parse_invite(invite: str) -> bytes:
    """The invite token from a link or from the bare token."""
    token = invite.rsplit("#", 1)[-1].strip()
    raw = b64d(token)
    if len(raw) != 32:
        raise ProtocolError("an invite token is 32 bytes")
    return raw


def invite_proof(token: bytes, client_key: bytes, worker_key: bytes) -> bytes:
    """The hello's proof that its sender redeemed this invite (docs/protocol.md E2E §18).

    An HMAC keyed with the invite's secret over both identity keys: only the two ends know the
    secret, and the proof is bound to the sender's key, so no other device can present it.
    """
    return hmac.new(token, PROOF_LABEL + client_key + worker_key, hashlib.sha256).digest()


def proves_invite(proof: bytes, token: bytes, client_key: bytes, worker_key: bytes) -> bool:
    return hmac.compare_digest(proof, invite_proof(token, client_key, worker_key))


def check_policy(policy: Policy) -> None:
    # The relay hands the policy over; checking its hash here means a relay cannot show the
    # client one text while the receipt names another.
    if hashlib.sha256(policy.text.encode()).hexdigest() != policy.sha256:
        raise ProtocolError("the policy text does not match its published hash")
    for other in policy.translations:
        if hashlib.sha256(other.text.encode()).hexdigest() != other.sha256:
            raise ProtocolError(f"the policy's {other.language} text does not match its hash")


def crypto_bundle(bundle: WireBundle) -> PreKeyBundle:
    otk = bundle.one_time_prekey
    return PreKeyBundle(
        identity_key=bundle.identity_key,
        signed_prekey_id=bundle.signed_prekey.key_id,
        signed_prekey=bundle.signed_prekey.public,
        signed_prekey_signature=bundle.signed_prekey.signature,
        one_time_prekey_id=None if otk is None else otk.key_id,
        one_time_prekey=None if otk is None else otk.public,
    )


def accept_redemption(
    state: ClientState, redemption: Redemption, rng: Rng, language: str | None = None
) -> Contact:
    """Record what redeeming an invite handed over; returns the worker as a new contact.

    The device learns its relay names and the organisation's policy (checked against its
    hash), and starts an X3DH session from the worker's bundle (which verifies the signed
    prekey's signature). Nothing is sent yet: that waits for the client's consent.
    """
    # With a language, the client reads (and its receipt names) the version's text in it.
    shown = redemption.policy.in_language(language)
    check_policy(shown)
    policy = policy_ref(shown, named=language is not None)
    state.role = Role.CLIENT
    state.device_id, state.mailbox_id = redemption.device.device_id, redemption.device.mailbox_id
    state.policy = policy
    bundle = redemption.worker_bundle
    try:
        state.device.start_session(crypto_bundle(bundle), rng)
    except CryptoError as exc:
        raise ProtocolError("the worker's prekey bundle does not verify") from exc
    worker = Contact(
        identity_key=bundle.identity_key,
        device_id=bundle.device_id,
        mailbox_id=redemption.worker_mailbox_id,
        capability=redemption.worker_capability,
        consent=ConsentGate(policy=policy),
    )
    state.contacts[worker.contact_id] = worker
    return worker
