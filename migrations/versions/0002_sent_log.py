"""sent_log: idempotency records appended in arrival order (SQLite's writer)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sent_log")),
    )
    with op.batch_alter_table("sent_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_log_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_log_expires_at"))
    op.drop_table("sent_log")
