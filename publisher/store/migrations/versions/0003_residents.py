"""Schema changes for the residents issue: feeds, public pages, QR codes.

Revision ID: 0003
Revises: 0002

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
