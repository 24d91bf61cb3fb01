"""Digest runs that stopped part-way can be resumed: the planned messages and whether to resume.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_run") as batch:
        batch.add_column(sa.Column("plan", sa.String(1000), nullable=False, server_default=""))
        batch.add_column(sa.Column("resumable", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("digest_run") as batch:  # the models have no server defaults
        batch.alter_column("plan", server_default=None)
        batch.alter_column("resumable", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("digest_run") as batch:
        batch.drop_column("resumable")
        batch.drop_column("plan")
