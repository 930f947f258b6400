"""Evidence of reach: proof of play (raw and per day) and reach counts per day.

Revision ID: 0019
Revises: 0018

``plays``: each slide a screen showed, once per (screen, seq), kept ``PLAYS_KEEP_DAYS``;
``plays_daily``: plays per day × screen × item × language, kept for years; ``reach_daily``:
scans, page views, feed readers, SNS posts and screens' minutes online per day. No personal
data in any of them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_heartbeats_at", "heartbeats", ["at"])
    op.create_table(
        "plays",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("screen_id", sa.String(100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(20), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("folded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plays"),
        sa.UniqueConstraint("screen_id", "seq", name="uq_plays_screen_id_seq"),
    )
    op.create_index(
        "ix_plays_unfolded",
        "plays",
        ["day"],
        postgresql_where=sa.text("folded = false"),
        sqlite_where=sa.text("folded = 0"),
    )
    op.create_index("ix_plays_day", "plays", ["day"])
    op.create_table(
        "plays_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("screen_id", sa.String(100), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(20), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "screen_id", "item_id", "lang", "estimated", name="pk_plays_daily"
        ),
    )
    op.create_index("ix_plays_daily_item_day", "plays_daily", ["item_id", "day"])
    op.create_table(
        "reach_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(20), nullable=False),
        sa.Column("screen_id", sa.String(100), nullable=False),
        sa.Column("area_code", sa.String(200), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("part", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "kind",
            "item_id",
            "lang",
            "screen_id",
            "area_code",
            "format",
            "part",
            name="pk_reach_daily",
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_heartbeats_at", table_name="heartbeats")
    op.drop_table("reach_daily")
    op.drop_index("ix_plays_daily_item_day", table_name="plays_daily")
    op.drop_table("plays_daily")
    op.drop_index("ix_plays_day", table_name="plays")
    op.drop_index("ix_plays_unfolded", table_name="plays")
    op.drop_table("plays")
