"""Web Push: residents' browser subscriptions to an area, and the outbox of notifications.

Revision ID: 0018
Revises: 0017

A subscription keeps only what sending needs (the push service's endpoint and the browser's
two public keys), the area, the language and the choice (``alerts`` or ``all``): no address,
no browser, no account. A message is one item to one subscription, unique, so it goes once.
"""

import sqlalchemy as sa
from alembic import op

import publisher.store.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("area_code", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=20), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("created_at", publisher.store.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(
        op.f("ix_push_subscriptions_area_code"), "push_subscriptions", ["area_code"], unique=False
    )
    op.create_table(
        "push_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", publisher.store.models.UTCDateTime(), nullable=True),
        sa.Column("claim", sa.String(length=40), nullable=True),
        sa.Column("claimed_at", publisher.store.models.UTCDateTime(), nullable=True),
        sa.Column("sent_at", publisher.store.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", publisher.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_push_messages_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscriptions.id"],
            name=op.f("fk_push_messages_subscription_id_push_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_messages")),
        sa.UniqueConstraint("subscription_id", "item_id", name="uq_push_messages_once"),
    )
    with op.batch_alter_table("push_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_messages_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_push_messages_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_push_messages_due", ["state", "not_before"], unique=False)
        batch_op.create_index("ix_push_messages_claim", ["claim"], unique=False)


def downgrade() -> None:
    op.drop_table("push_messages")
    op.drop_index(op.f("ix_push_subscriptions_area_code"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
