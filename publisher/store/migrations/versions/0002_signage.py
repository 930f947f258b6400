"""Schema changes for the signage issue: playlists, slides, player, exports.

Revision ID: 0002
Revises: 0001

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
