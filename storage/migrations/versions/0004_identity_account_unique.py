"""One vendor account links to one person per workspace, enforced by the database.

The check in ``People.link`` (bot/usecases/people.py) reads then writes, so two people linking
the same account at the same moment could both pass it. Links that already collide are resolved
the way the bot would have: the most recent link to the account keeps it, older ones are removed
(each logged at WARNING and written to the audit log, so an operator can tell those people to
link again).
Refusing to start instead would leave the bot down until someone edits rows by hand.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-15
"""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

identity = sa.table(
    "identity",
    sa.column("id", sa.Integer),
    sa.column("team_id", sa.String),
    sa.column("slack_user_id", sa.String),
    sa.column("vendor", sa.String),
    sa.column("vendor_user_id", sa.String),
    sa.column("updated_at", sa.DateTime),
)
audit_log = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime),
    sa.column("team_id", sa.String),
    sa.column("slack_user_id", sa.String),
    sa.column("vendor", sa.String),
    sa.column("action", sa.String),
    sa.column("outcome", sa.String),
    sa.column("detail", sa.String),
)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(identity).order_by(
            identity.c.team_id,
            identity.c.vendor,
            identity.c.vendor_user_id,
            identity.c.updated_at.desc(),
            identity.c.id.desc(),
        )
    ).all()
    kept: set[tuple[str, str, str]] = set()
    for row in rows:
        account = (row.team_id, row.vendor, row.vendor_user_id)
        if account not in kept:
            kept.add(account)
            continue
        log.warning(
            "unlinking %s in %s from %s user %s: a more recent link holds that account",
            row.slack_user_id,
            row.team_id,
            row.vendor,
            row.vendor_user_id,
        )
        conn.execute(sa.delete(identity).where(identity.c.id == row.id))
        conn.execute(
            sa.insert(audit_log).values(
                at=datetime.now(UTC),
                team_id=row.team_id,
                slack_user_id=row.slack_user_id,
                vendor=row.vendor,
                action="unlink",
                outcome="ok",
                detail=f"migration 0004: vendor user {row.vendor_user_id} is linked to someone more recently",
            )
        )
    with op.batch_alter_table("identity") as batch:
        batch.create_unique_constraint("uq_identity_account", ["team_id", "vendor", "vendor_user_id"])


def downgrade() -> None:
    with op.batch_alter_table("identity") as batch:
        batch.drop_constraint("uq_identity_account", type_="unique")
