"""attachments stored in pieces (streamed uploads), consent records indexed by client device

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The foreign key is added last: on SQLite, batch mode rebuilds a table by dropping the
    # old one, and dropping attachments while pieces referred to it ON DELETE CASCADE would
    # delete every piece just copied.
    op.create_table(
        "attachment_pieces",
        sa.Column("attachment_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id", "seq", name=op.f("pk_attachment_pieces")),
    )
    # Blobs stored whole become one piece each; their length is the new size column.
    op.execute(
        "INSERT INTO attachment_pieces (attachment_id, seq, body)"
        " SELECT id, 0, body FROM attachments"
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=True))
    op.execute("UPDATE attachments SET size = length(body)")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("body")
    with op.batch_alter_table("attachment_pieces", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_attachment_pieces_attachment_id_attachments"),
            "attachments",
            ["attachment_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("consent_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_receipts_client_device_id"), ["client_device_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_receipts_client_device_id"))
    # Attachments are transient (at most their TTL): a downgrade drops them rather than
    # reassembling pieces, which the two backends would do differently.
    op.drop_table("attachment_pieces")
    op.execute("DELETE FROM attachments")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("size")
        batch_op.add_column(sa.Column("body", sa.LargeBinary(), nullable=False))
