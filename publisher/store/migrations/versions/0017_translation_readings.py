"""Furigana staff fix per translation: ``item_translations.readings`` (``漢字=かんじ`` lines).

Revision ID: 0017
Revises: 0014

やさしい日本語 slides and pages show readings over kanji from a morphological analyser; staff
fix the ones it gets wrong (place names above all) per item. Existing rows get an empty table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_translations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("readings", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("item_translations", schema=None) as batch_op:
        batch_op.drop_column("readings")
