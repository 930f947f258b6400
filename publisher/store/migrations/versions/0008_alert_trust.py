"""Schema changes for the trusted-alerts issue: why a CAP message was held for review.

Revision ID: 0008
Revises: 0007

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
