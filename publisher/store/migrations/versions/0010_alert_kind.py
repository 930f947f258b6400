"""Schema changes for the emergency-reach issue: what an alert is, in words.

Revision ID: 0010
Revises: 0008

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_kind", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("alert_kind")
