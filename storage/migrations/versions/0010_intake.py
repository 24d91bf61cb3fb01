"""The durable intake: every accepted action, its owner and heartbeat, and its one outcome.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_action",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.String(4000), nullable=False),
        sa.Column("response_url", sa.String(1024), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("key", name="uq_intake_action_key"),
    )
    # what recovery scans (running rows by heartbeat) and the "being finished" look-up per person
    op.create_index("ix_intake_action_state_heartbeat", "intake_action", ["state", "heartbeat_at"])
    op.create_index("ix_intake_action_person", "intake_action", ["team_id", "slack_user_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_intake_action_person", "intake_action")
    op.drop_index("ix_intake_action_state_heartbeat", "intake_action")
    op.drop_table("intake_action")
