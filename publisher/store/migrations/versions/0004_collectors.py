"""Schema changes for the collectors issue: sources and CAP alerts.

Revision ID: 0004
Revises: 0003

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.

collect_runs.failure: why a whole run failed (fetch or parse error), apart from the entries it
skipped (kept in collect_runs.errors).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collect_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collect_runs", schema=None) as batch_op:
        batch_op.drop_column("failure")
