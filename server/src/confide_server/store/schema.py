"""The relay's tables, as SQLAlchemy Core metadata shared by the queries and by Alembic.

Every column fits the metadata budget of docs/threat-model.md: public keys, opaque random ids,
hashes of secrets, opaque ciphertext, roles, and coarse or expiry timestamps. There is no
column for a sender, a name, a phone number, an e-mail address or a client address. Times
are integer Unix seconds; "created" times are rounded down to the day (see clock.py).
"""

from __future__ import annotations

import sqlalchemy
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect


class Bytes(sqlalchemy.LargeBinary):
    """Binary values handed to the driver untouched.

    Both aiosqlite and asyncpg accept ``bytes`` as they are, so the per-value conversion that
    LargeBinary adds is pure cost on the hot path (it showed up at about a tenth of the relay's
    CPU time in a profile of sends).
    """

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


LargeBinary = Bytes

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes an INTEGER PRIMARY KEY an alias of its rowid (fast, ordered); PostgreSQL
# needs a 64-bit identity for a queue that may see billions of envelopes.
Seq = BigInteger().with_variant(Integer(), "sqlite")

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("max_retention_seconds", BigInteger, nullable=False),
    Column("created_day", BigInteger, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_day", BigInteger, nullable=False),
    # The language of `text` (a BCP 47 tag such as "en" or "es"): the version's first text.
    Column("language", String(35), nullable=False, server_default="en"),
)

# The same policy version in further languages (services/policy_texts.py). Each text has its
# own hash, and a consent receipt names the language and hash of the text the client read.
# Published once, never changed: a receipt may name it for as long as the version lives.
policy_translations = Table(
    "policy_translations",
    metadata,
    Column("version", Integer, ForeignKey("policies.version"), primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_day", BigInteger, nullable=False),
)

# Texts the organisation writes for everyone who opens its apps, per language: the client's
# guide "Keeping this conversation private" and the worker's checklist before a call
# (services/org_texts.py). Public by design; a missing one falls back to the app's own words.
org_texts = Table(
    "org_texts",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("language", String(35), primary_key=True),
    Column("text", Text, nullable=False),
    Column("updated_day", BigInteger, nullable=False),
)

# The organisation's terms for peer support groups (docs/protocol.md G§4): public text, as
# the policy is. Nothing here names a group: groups exist only on the members' devices.
group_terms = Table(
    "group_terms",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_day", BigInteger, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_day", BigInteger, nullable=False),
)

enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column("worker_id", LargeBinary(16), ForeignKey("workers.id"), nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

devices = Table(
    "devices",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    Column("identity_key", LargeBinary(32), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),
    Column("worker_id", LargeBinary(16), ForeignKey("workers.id"), nullable=True, index=True),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_day", BigInteger, nullable=False),
    # A client device's inviting worker device (clients only): the one worker device its
    # consent records may name (services/consent.py). Its consent records say as much.
    Column("invited_by", LargeBinary(16), ForeignKey("devices.id"), nullable=True),
)

mailboxes = Table(
    "mailboxes",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    Column("device_id", LargeBinary(16), ForeignKey("devices.id"), nullable=False, unique=True),
)

capabilities = Table(
    "capabilities",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("mailbox_id", LargeBinary(16), ForeignKey("mailboxes.id"), nullable=False, index=True),
    Column("revoked", Boolean, nullable=False, default=False),
    # Set only while the capability waits for its invite to be redeemed.
    Column("expires_at", BigInteger, nullable=True),
)

challenges = Table(
    "challenges",
    metadata,
    Column("challenge", LargeBinary(32), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("device_id", LargeBinary(16), ForeignKey("devices.id"), nullable=False, index=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
    # Until when an admin's session may act without confirming again (services/stepup.py).
    Column("step_up_until", BigInteger, nullable=True),
)

signed_prekeys = Table(
    "signed_prekeys",
    metadata,
    Column("device_id", LargeBinary(16), ForeignKey("devices.id"), primary_key=True),
    Column("key_id", BigInteger, nullable=False),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("created_day", BigInteger, nullable=False),
)

one_time_prekeys = Table(
    "one_time_prekeys",
    metadata,
    Column("device_id", LargeBinary(16), ForeignKey("devices.id"), primary_key=True),
    Column("key_id", BigInteger, primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("created_day", BigInteger, nullable=False, index=True),
)

invites = Table(
    "invites",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("worker_device_id", LargeBinary(16), ForeignKey("devices.id"), nullable=False),
    Column("capability_id", LargeBinary(16), ForeignKey("capabilities.id"), nullable=False),
    Column("used", Boolean, nullable=False, default=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

envelopes = Table(
    "envelopes",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", LargeBinary(16), nullable=False, unique=True),
    Column("mailbox_id", LargeBinary(16), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
    Index("ix_envelopes_mailbox_id_seq", "mailbox_id", "seq"),
)

# Idempotency records: SHA-256(mailbox id, capability hash, client message id), kept until
# the envelope's expiry so that a retry after acknowledgement is recognised and not
# delivered again.
sent_messages = Table(
    "sent_messages",
    metadata,
    Column("key", LargeBinary(32), primary_key=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# The same records on SQLite, where one relay process is the only writer: the writer keeps
# the keys in memory (loaded from here at start) and appends each new one here in arrival
# order. Appending costs a fraction of an insert into an index on a random key, which
# dirtied one page per message (store/batch_sqlite.py). Expired rows go by expires_at.
sent_log = Table(
    "sent_log",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("key", LargeBinary(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

consent_receipts = Table(
    "consent_receipts",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    # Indexed for the per-device quota (services/consent.py).
    Column(
        "client_device_id", LargeBinary(16), ForeignKey("devices.id"), nullable=False, index=True
    ),
    Column(
        "worker_device_id", LargeBinary(16), ForeignKey("devices.id"), nullable=False, index=True
    ),
    Column("kind", String(16), nullable=False),
    Column("receipt", LargeBinary, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("created_day", BigInteger, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    # The blob's length once its upload is complete; NULL while it is still arriving.
    Column("size", BigInteger, nullable=True),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# A blob's bytes in pieces of at most services/attachments.PIECE_BYTES, written one short
# transaction each and read back one at a time, so that no upload or download holds a whole
# blob in memory or the SQLite write lock for the length of a transfer. They go with their
# attachment row (ON DELETE CASCADE).
attachment_pieces = Table(
    "attachment_pieces",
    metadata,
    Column(
        "attachment_id",
        LargeBinary(16),
        ForeignKey("attachments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("body", LargeBinary, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("hour", BigInteger, nullable=False),
    Column("action", String(64), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("subject", String(64), nullable=True),
    # A short, non-identifying detail of the action: a role, a setting's new value.
    Column("detail", String(200), nullable=True),
    # The chain (services/audit.py): each event commits to the hash of the one before.
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# Where the chain starts again after the sweeper removed events past their retention: the id
# and hash of the newest event removed, so the first event left still has a known parent.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# The organisation's settings that the admin may change (services/org_settings.py): name and
# integer value (seconds); a setting without a row has its default.
org_settings = Table(
    "org_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# One row: a random id generated the first time a relay starts on this database
# (services/deployment.py). Relays on one database share it; another deployment's database
# has its own. It names the deployment's Redis channels (fanout/redis.py) and nothing else.
deployment = Table(
    "deployment",
    metadata,
    Column("singleton", Integer, primary_key=True, autoincrement=False),
    Column("id", LargeBinary(16), nullable=False),
)

# A worker device's Web Push subscription (push/): the push service's URL for this device,
# nothing else. The subscription's keys are not kept, because every push is empty and the
# relay never encrypts to them. Deleted when the device is revoked or its worker disabled
# (services/staff.py), when the push service answers 404 or 410, and at expires_at unless
# the app renews it (it does on every unlock).
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("device_id", LargeBinary(16), ForeignKey("devices.id"), primary_key=True),
    Column("endpoint", String(1024), nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

# One row: the relay's VAPID private key (push/vapid.py), made the first time a relay starts
# with Web Push on this database, so that every relay of the deployment signs with the key
# the workers' subscriptions were made with, across restarts and restores. It lets its holder
# wake subscribed devices with the fixed "New message" and nothing more (docs/threat-model.md).
vapid_key = Table(
    "vapid_key",
    metadata,
    Column("singleton", Integer, primary_key=True, autoincrement=False),
    Column("private_pem", Text, nullable=False),
)
