"""the organisation's group terms, versioned beside its policy

Revision ID: 0010
Revises: 0009

Peer support groups (issue 18) show a joining client the organisation's own terms for
groups. Like the policy, they are public text; no row names a group or a member.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_terms",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_day", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_group_terms")),
    )


def downgrade() -> None:
    op.drop_table("group_terms")
