"""Schema changes for the hardening issue: a per-user session version.

Revision ID: 0011
Revises: 0010

Logging out, a password change or disabling an account bumps ``users.session_version``; a
session cookie carries the version it was issued under, so every older session of that user
ends at once, on every server process.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
