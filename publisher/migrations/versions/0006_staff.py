"""Schema changes for the staff admin issue.

Revision ID: 0006
Revises: 0005

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
