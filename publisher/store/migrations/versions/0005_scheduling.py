"""Schema changes for the scheduling and delivery issue: claims of scheduled job runs.

Revision ID: 0005
Revises: 0004

Each issue owns one slot in this chain so work in parallel never forks Alembic's history.
"""

import sqlalchemy as sa
from alembic import op

import publisher.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("due_at", publisher.store.models.UTCDateTime(), nullable=False),
        sa.Column("leader", sa.String(length=200), nullable=False),
        sa.Column("started_at", publisher.store.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", publisher.store.models.UTCDateTime(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "due_at", name="uq_job_runs_job_due_at"),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_runs_due_at"))
    op.drop_table("job_runs")
