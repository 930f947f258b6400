"""Alembic environment: run against the connection :meth:`Database.migrate` hands over."""

from alembic import context

from publisher.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: publisher/store/db.py is the supported way
    raise SystemExit("run migrations with `publisher init`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
