"""Shared fixtures: the ward's tree, a frozen clock, and a store on SQLite and PostgreSQL.

Every test that takes ``rt`` (or ``app``/``client``) runs once per database backend:
SQLite always, PostgreSQL when ``PUBLISHER_TEST_DATABASE_URL`` names a server (CI sets it).
A set but unreachable PostgreSQL fails the run; it never skips silently.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from publisher.areas import AreaTree, load_tree
from publisher.config import REPO_DIR, load_settings
from publisher.runtime import Runtime
from publisher.store.content import sync_tree
from publisher.store.db import Database
from publisher.store.models import Base

JST = ZoneInfo("Asia/Tokyo")
PG_URL = os.environ.get("PUBLISHER_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def tree() -> AreaTree:
    return load_tree(REPO_DIR / "displays")


@pytest.fixture
def now() -> datetime:
    """The frozen 'now' of a test: a Sunday morning in Setagaya."""
    return datetime(2026, 11, 22, 10, 0, tzinfo=JST)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "publisher.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private, migrated database on the test server, dropped at the end of the session."""
    if not PG_URL:
        pytest.skip("PUBLISHER_TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    admin_url = make_url(PG_URL)
    name = f"publisher_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # the variable is set: an unreachable server is a failure
        pytest.fail(f"PUBLISHER_TEST_DATABASE_URL={PG_URL} is set but unusable: {e}")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "publisher.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def rt(database_url: str, tmp_path: Path, tree: AreaTree) -> Iterator[Runtime]:
    """A runtime on a fresh store with the ward's areas and screens loaded."""
    settings = load_settings(
        {},
        DATA_DIR=tmp_path / "var",
        DATABASE_URL=database_url,
        BASE_URL="https://signage.example.jp",
        SECRET_KEY="test-secret",
    )
    runtime = Runtime(settings)
    runtime.__dict__["tree"] = tree
    with runtime.session() as session:
        sync_tree(session, tree)
    yield runtime
    runtime.close()


@pytest.fixture
def app(rt: Runtime):  # type: ignore[no-untyped-def]
    from publisher.web import create_app

    return create_app(rt, {"TESTING": True})


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def token_for(rt: Runtime):  # type: ignore[no-untyped-def]
    """``token_for("editor", "setagaya/kitazawa/daizawa")`` → a bearer token for a new user."""
    from publisher.store import staff

    def make(role: str, scope: str, name: str | None = None) -> str:
        with rt.session() as session:
            user = staff.create_user(
                session,
                rt.tree,
                name or f"{role}-{uuid.uuid4().hex[:6]}",
                role,
                scope,
                "correct horse battery",
                actor="test",
            )
            return staff.create_token(session, user, actor="test")

    return make


@pytest.fixture
def server(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app on a free loopback port in a thread (Werkzeug's server): the admin's browser
    tests. Tests of ``publisher serve`` itself use ``tests.test_player_browser.Server``."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join()
    srv.server_close()
