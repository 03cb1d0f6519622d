"""worker devices' Web Push subscriptions, and the relay's VAPID key

Revision ID: 0009
Revises: 0007

One row per worker device that asked for wake-ups: the push service's endpoint URL and when
the row expires unless the app renews it; and one row holding the relay's VAPID private key
(docs/operations.md, what is stored).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("device_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=1024), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_push_subscriptions_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_push_subscriptions")),
    )
    op.create_index(op.f("ix_push_subscriptions_expires_at"), "push_subscriptions", ["expires_at"])
    op.create_table(
        "vapid_key",
        sa.Column("singleton", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_vapid_key")),
    )


def downgrade() -> None:
    op.drop_table("vapid_key")
    op.drop_index(op.f("ix_push_subscriptions_expires_at"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
