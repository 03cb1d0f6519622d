"""client devices remember the worker device whose invite they redeemed

Revision ID: 0007
Revises: 0006

The relay stores a consent record only if it names the worker device behind the client's
invite (services/consent.py). Client devices that already hold consent records take the
worker device of their earliest one; others stay NULL and can file no consent record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invited_by", sa.LargeBinary(length=16), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_devices_invited_by_devices"), "devices", ["invited_by"], ["id"]
        )
    op.execute(
        "UPDATE devices SET invited_by = ("
        " SELECT c.worker_device_id FROM consent_receipts c"
        " WHERE c.client_device_id = devices.id"
        " ORDER BY c.created_day, c.id LIMIT 1"
        ") WHERE kind = 'client'"
    )


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_devices_invited_by_devices"), type_="foreignkey")
        batch_op.drop_column("invited_by")
