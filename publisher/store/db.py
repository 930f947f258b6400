"""The database: engine, sessions and migrations (Alembic, run by ``publisher init``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from publisher.errors import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CHANGED_ITEMS = "publisher.changed_items"


class DatabaseClosed(RuntimeError):
    """A connection was asked of a database after :meth:`Database.dispose` (a thread that
    outlived its runtime)."""


def mark_changed(session: Session, item_id: int) -> None:
    """Record that this unit of work changed an item (heard after commit, never before)."""
    session.info.setdefault(CHANGED_ITEMS, set()).add(item_id)


class Database:
    def __init__(self, url: str, pool_size: int = 10):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, connect_args={"timeout": 30}, pool_size=pool_size, max_overflow=pool_size
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(
                url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size
            )
        # Once disposed, no connection opens and one still in use is closed when handed back:
        # SQLAlchemy's own dispose leaves those to the garbage collector (psycopg warns there).
        self.disposed = False
        event.listen(self.engine, "do_connect", self._refuse_once_disposed)
        event.listen(self.engine, "checkin", self._close_once_disposed)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Called with the ids of items a unit of work changed, after it committed.
        self.on_items_changed: Callable[[set[int]], None] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error.

        Writers mark the items they change (:func:`mark_changed`); once the commit succeeded,
        :attr:`on_items_changed` hears about them (push to screens, deliveries, SNS outbox).
        """
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            changed = session.info.pop(CHANGED_ITEMS, None)
        if changed and self.on_items_changed is not None:
            self.on_items_changed(changed)

    def migrate(self) -> None:
        """Create or upgrade every table to the newest migration."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as e:
            raise ConfigError(f"cannot reach the database {self.safe_url}: {e.orig}") from None

    def pending_migrations(self) -> list[str]:
        """Migrations the database has not had yet (empty when it is up to date)."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        script = ScriptDirectory.from_config(cfg)
        try:
            with self.engine.connect() as conn:
                current = set(MigrationContext.configure(conn).get_current_heads())
        except OperationalError as e:
            raise ConfigError(f"cannot reach the database {self.safe_url}: {e.orig}") from None
        if current == set(script.get_heads()):
            return []
        applied = {r.revision for c in current for r in script.iterate_revisions(c, "base")}
        return [r.revision for r in script.walk_revisions() if r.revision not in applied][::-1]

    def is_migrated(self) -> bool:
        try:
            return inspect(self.engine).has_table("items")
        except OperationalError as e:
            raise ConfigError(f"cannot reach the database {self.safe_url}: {e.orig}") from None

    def health(self) -> dict[str, str]:
        """``{"database": "ok", "schema": "ok"}`` or what is wrong with each, in words that
        never carry the URL, a user name or a password: a real query on the items table (so
        revoked privileges and an empty database show) and the migration the schema is at."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        out = {"database": "ok", "schema": "ok"}
        try:
            with self.engine.connect() as conn:
                current = set(MigrationContext.configure(conn).get_current_heads())
                if not current:
                    out["schema"] = "empty: run `publisher init`"
                elif current != heads:
                    out["schema"] = f"at {', '.join(sorted(current))}; run `publisher init`"
                if current:
                    conn.execute(text("SELECT id FROM items LIMIT 1")).all()
        except DBAPIError as e:
            out["database"] = describe_failure(e)
        return out

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close every connection, for good: those in use close when handed back, and no new
        one opens (:class:`DatabaseClosed`), so a background thread still at work when its
        runtime closes leaves nothing open. ``engine.dispose()`` alone keeps the engine usable
        (the database-trouble tests reconnect that way)."""
        self.disposed = True
        self.engine.dispose()

    def _refuse_once_disposed(self, *_args: Any) -> None:
        if self.disposed:
            raise DatabaseClosed(f"the database {self.safe_url} was closed; nothing may use it")

    def _close_once_disposed(self, dbapi_conn: Any, record: Any) -> None:
        if self.disposed and dbapi_conn is not None:
            record.close()


def describe_failure(e: DBAPIError) -> str:
    """What kind of database trouble ``e`` is, without the driver's message (which can name
    the host, the user or the statement)."""
    if isinstance(e, OperationalError | InterfaceError) or e.connection_invalidated:
        return f"unreachable or failing ({type(e.orig).__name__})"
    if isinstance(e, ProgrammingError):
        return f"refused the query ({type(e.orig).__name__}: missing table or privileges?)"
    return f"failed ({type(e.orig).__name__})"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers (web) never block the writer (scheduler)
    cur.execute(
        "PRAGMA synchronous=NORMAL"
    )  # with WAL: still crash-safe, one fsync fewer per commit
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
