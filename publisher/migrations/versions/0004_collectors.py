"""Schema changes for the collectors issue: sources and CAP alerts.

Revision ID: 0004
Revises: 0003

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
