"""SQLite keeps every idempotency record in sent_log; sent_messages is PostgreSQL's

Revision ID: 0004
Revises: 0003

Before sent_log existed (migration 0002) SQLite's writer kept its records in sent_messages, and it
went on reading and sweeping both tables. The records still there move to sent_log, so that
each backend has one table (store/idempotency.py). PostgreSQL is left as it is.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "INSERT INTO sent_log (key, expires_at)"
        " SELECT key, expires_at FROM sent_messages ORDER BY expires_at"
    )
    op.execute("DELETE FROM sent_messages")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "INSERT OR IGNORE INTO sent_messages (key, expires_at) SELECT key, expires_at FROM sent_log"
    )
    op.execute("DELETE FROM sent_log")
