"""audit chain, organisation settings and admin step-up

Revision ID: 0003
Revises: 0002

Audit events gain a detail and their place in a hash chain (existing events are chained in
id order here); audit_checkpoints keeps the chain's start after retention removes old
events; org_settings holds the settings an admin changes; sessions gain step_up_until.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from confide_server.services.audit import GENESIS, event_hash

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
    _chain_existing()
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.LargeBinary(32), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.LargeBinary(32), nullable=False)
    op.create_table(
        "audit_checkpoints",
        sa.Column("event_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "org_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_org_settings")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_up_until", sa.BigInteger(), nullable=True))


def _chain_existing() -> None:
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("id", sa.BigInteger),
        sa.column("hour", sa.BigInteger),
        sa.column("action", sa.String),
        sa.column("actor", sa.String),
        sa.column("subject", sa.String),
        sa.column("detail", sa.String),
        sa.column("prev_hash", sa.LargeBinary),
        sa.column("hash", sa.LargeBinary),
    )
    prev = GENESIS
    for row in bind.execute(sa.select(events).order_by(events.c.id)).all():
        digest = event_hash(prev, row.hour, row.action, row.actor, row.subject, row.detail)
        bind.execute(
            sa.update(events).where(events.c.id == row.id).values(prev_hash=prev, hash=digest)
        )
        prev = digest


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("step_up_until")
    op.drop_table("org_settings")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("detail")
