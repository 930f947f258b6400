"""Screen tokens stored hashed: ``screens.token`` becomes ``screens.token_hash`` (SHA-256).

Revision ID: 0013
Revises: 0011

Each existing token is replaced by its hash, so every screen keeps working with the player URL
it already has; the token itself is no longer in the database (``publisher screens
rotate-token SCREEN`` prints a new one). The downgrade cannot bring tokens back: it gives every
screen a new random token (printed nowhere), so after a downgrade every screen's token must be
rotated.
"""

import hashlib
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

screens = sa.table(
    "screens",
    sa.column("id", sa.String),
    sa.column("token", sa.String),
    sa.column("token_hash", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for screen_id, token in conn.execute(sa.select(screens.c.id, screens.c.token)).all():
        digest = hashlib.sha256((token or secrets.token_urlsafe(16)).encode()).hexdigest()
        conn.execute(screens.update().where(screens.c.id == screen_id).values(token_hash=digest))
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.alter_column("token_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("token")


def downgrade() -> None:
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=100), nullable=True))
    conn = op.get_bind()
    for (screen_id,) in conn.execute(sa.select(screens.c.id)).all():
        conn.execute(
            screens.update()
            .where(screens.c.id == screen_id)
            .values(token=secrets.token_urlsafe(16))
        )
    with op.batch_alter_table("screens", schema=None) as batch_op:
        batch_op.alter_column("token", existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_column("token_hash")
