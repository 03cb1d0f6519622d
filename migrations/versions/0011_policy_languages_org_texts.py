"""policies in several languages, and the organisation's texts for its apps

Revision ID: 0011
Revises: 0010

A policy version keeps its first text in ``policies`` (now with that text's language, "en"
for every version published before) and further languages in ``policy_translations``.
``org_texts`` holds the organisation's own wording of the client's privacy guide and the
worker's checklist before a call, per language. None of it is about a person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=35), nullable=False, server_default="en")
        )
    op.create_table(
        "policy_translations",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_day", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"], ["policies.version"], name=op.f("fk_policy_translations_version_policies")
        ),
        sa.PrimaryKeyConstraint("version", "language", name=op.f("pk_policy_translations")),
    )
    op.create_table(
        "org_texts",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_day", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "language", name=op.f("pk_org_texts")),
    )


def downgrade() -> None:
    op.drop_table("org_texts")
    op.drop_table("policy_translations")
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("language")
