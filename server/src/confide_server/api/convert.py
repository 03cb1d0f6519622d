"""Turning service results into response models (bytes become base64url strings)."""

from __future__ import annotations

from confide_server.api.types import (
    BundleOut,
    OneTimePrekeyIn,
    OneTimePrekeyOut,
    PolicyOut,
    PolicyTextOut,
    SignedPrekeyIn,
    SignedPrekeyOut,
    TermsOut,
)
from confide_server.encoding import b64e
from confide_server.services import organisation, prekeys


def bundle_out(bundle: prekeys.Bundle) -> BundleOut:
    spk, otp = bundle.signed_prekey, bundle.one_time_prekey
    return BundleOut(
        device_id=b64e(bundle.device_id),
        identity_key=b64e(bundle.identity_key),
        signed_prekey=SignedPrekeyOut(
            key_id=spk.key_id, public_key=b64e(spk.public_key), signature=b64e(spk.signature)
        ),
        one_time_prekey=None
        if otp is None
        else OneTimePrekeyOut(key_id=otp.key_id, public_key=b64e(otp.public_key)),
    )


def terms_out(terms: organisation.Policy | None) -> TermsOut | None:
    """Group terms: a version in one language, without the policy's translations."""
    if terms is None:
        return None
    return TermsOut(version=terms.version, text=terms.text, sha256=terms.sha256)


def policy_out(policy: organisation.Policy | None) -> PolicyOut | None:
    if policy is None:
        return None
    return PolicyOut(
        version=policy.version,
        text=policy.text,
        sha256=policy.sha256,
        language=policy.language,
        translations=[
            PolicyTextOut(language=t.language, text=t.text, sha256=t.sha256)
            for t in policy.translations
        ],
    )


def signed_prekey_in(spk: SignedPrekeyIn) -> prekeys.SignedPrekey:
    return prekeys.SignedPrekey(spk.key_id, spk.public_key, spk.signature)


def one_time_in(keys: list[OneTimePrekeyIn]) -> list[prekeys.OneTimePrekey]:
    return [prekeys.OneTimePrekey(k.key_id, k.public_key) for k in keys]
