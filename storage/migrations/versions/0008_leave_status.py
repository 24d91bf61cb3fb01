"""Leave in the Slack status: user tokens (encrypted), OAuth states, and the status claims.

Revision ID: 0008
Revises: 0007
Create Date: 2027-02-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_user_token",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("slack_user_id", sa.String(32), primary_key=True),
        sa.Column("token_enc", sa.String(1024), nullable=False),
        sa.Column("scopes", sa.String(512), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("revoked_told", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "oauth_state",
        sa.Column("state", sa.String(128), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_oauth_state_expires_at", "oauth_state", ["expires_at"])
    op.create_table(
        "leave_status",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("slack_user_id", sa.String(32), nullable=False),
        sa.Column("leave_key", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_text", sa.String(256), nullable=False),
        sa.Column("prev_emoji", sa.String(128), nullable=False),
        sa.Column("prev_expiration", sa.Integer(), nullable=False),
        sa.Column("set_text", sa.String(256), nullable=False),
        sa.Column("set_emoji", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.UniqueConstraint("team_id", "slack_user_id", "leave_key", name="uq_leave_status_leave"),
    )
    op.create_index("ix_leave_status_state", "leave_status", ["state"])


def downgrade() -> None:
    op.drop_table("leave_status")
    op.drop_index("ix_oauth_state_expires_at", "oauth_state")
    op.drop_table("oauth_state")
    op.drop_table("slack_user_token")
