"""Schema changes for the SNS outbox issue.

Revision ID: 0007
Revises: 0006

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
An empty upgrade is a no-op.
"""

import sqlalchemy as sa
from alembic import op

import publisher.store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sns_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("intent_at", publisher.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("withdraw_requested_at", publisher.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_sns_posts_due", ["state", "not_before"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sns_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_sns_posts_due")
        batch_op.drop_column("withdraw_requested_at")
        batch_op.drop_column("intent_at")
