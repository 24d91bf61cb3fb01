"""Digests for a team: whose absences (scope), daily or weekly, whether kinds show, mentions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("digest_subscription") as batch:
        batch.add_column(sa.Column("scope", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("cadence", sa.String(16), nullable=False, server_default="daily"))
        batch.add_column(sa.Column("show_kind", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("mentions", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("digest_subscription") as batch:  # the models have no server defaults
        batch.alter_column("scope", server_default=None)
        batch.alter_column("cadence", server_default=None)
        batch.alter_column("mentions", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("digest_subscription") as batch:
        batch.drop_column("mentions")
        batch.drop_column("show_kind")
        batch.drop_column("cadence")
        batch.drop_column("scope")
