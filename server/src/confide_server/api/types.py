"""Request field types: base64url bytes of a fixed or bounded size, decoded while validating."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from confide_server.encoding import b64d
from confide_server.errors import InvalidInput


def _decoder(size: int | None = None, max_size: int | None = None) -> Callable[[object], bytes]:
    def decode(value: object) -> bytes:
        try:
            return b64d(value, "value", size=size, max_size=max_size)
        except InvalidInput as exc:
            raise ValueError(exc.detail.replace("value ", "", 1)) from None

    return decode


def _schema(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "format": "base64url", "description": description})


Id16 = Annotated[bytes, BeforeValidator(_decoder(16)), _schema("16 bytes, base64url")]
Key32 = Annotated[bytes, BeforeValidator(_decoder(32)), _schema("32 bytes, base64url")]
Sig64 = Annotated[bytes, BeforeValidator(_decoder(64)), _schema("64-byte signature, base64url")]
Envelope = Annotated[
    bytes, BeforeValidator(_decoder(max_size=16 * 1024 * 1024)), _schema("opaque bytes, base64url")
]
Receipt = Annotated[
    bytes, BeforeValidator(_decoder(max_size=16 * 1024)), _schema("receipt bytes, base64url")
]
KeyId = Annotated[int, Field(ge=0, lt=2**32, strict=True)]
# Numbers that reach a database column must fit its integer (both backends: 64 bits at most):
# a time in a query is Unix seconds before the year 10000.
UNIX_SECONDS_MAX = 253_402_300_799


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignedPrekeyIn(Model):
    key_id: KeyId
    public_key: Key32
    signature: Sig64


class OneTimePrekeyIn(Model):
    key_id: KeyId
    public_key: Key32


class SignedPrekeyOut(BaseModel):
    key_id: int
    public_key: str
    signature: str


class OneTimePrekeyOut(BaseModel):
    key_id: int
    public_key: str


class BundleOut(BaseModel):
    device_id: str
    identity_key: str
    signed_prekey: SignedPrekeyOut
    one_time_prekey: OneTimePrekeyOut | None


class PolicyTextOut(BaseModel):
    """One more language of a policy version: its text and that text's SHA-256 (hex)."""

    language: str
    text: str
    sha256: str


class TermsOut(BaseModel):
    """A version of the group terms (one language): what a group receipt names."""

    version: int
    text: str
    sha256: str


class PolicyOut(TermsOut):
    # The language of ``text`` (BCP 47), and the same version in further languages.
    language: str = "en"
    translations: list[PolicyTextOut] = []


class Problem(BaseModel):
    """An RFC 9457 problem; ``errors`` lists field-level faults of invalid input."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


# Where the Problem schema sits in the OpenAPI document (problems.install puts it there).
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def problem_response(description: str) -> dict[str, Any]:
    """An error response for a route's OpenAPI: an RFC 9457 problem document.

    The schema is referenced rather than given as ``"model": Problem``. With a model, FastAPI
    listed the schema under application/json, which the relay never sends for an error, and
    built a serializer per route and status code that it used for nothing but this text.
    """
    return {
        "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        "description": description,
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: problem_response(text)
    for status, text in (
        (400, "Invalid input"),
        (401, "Authentication required or failed"),
        (403, "Forbidden"),
        (404, "Not found"),
        (410, "Expired or already used"),
        (413, "Too large"),
        (429, "Rate limited or queue full"),
        (503, "Temporarily unavailable"),
    )
}
