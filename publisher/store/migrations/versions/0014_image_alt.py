"""Schema changes for the item-form issue: what an item's picture shows, in words.

Revision ID: 0014
Revises: 0013

``items.image_alt`` holds the picture's alternative text per language (``{"ja": ..., "en": ...}``):
the public page's ``alt``, the feeds' enclosure title and the SNS media description.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_alt", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("image_alt")
