"""deployment id: names one deployment's Redis channels

Revision ID: 0006
Revises: 0005

Redis pub/sub ignores database numbers, so two deployments sharing a Redis server would share
channels. The relay draws a random id the first time it starts on a database and keeps it
here (services/deployment.py); its channels are named after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("singleton", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_deployment")),
    )


def downgrade() -> None:
    op.drop_table("deployment")
