"""Schema changes for the scheduling and delivery issue.

Revision ID: 0005
Revises: 0004

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
