"""When the database is in trouble, residents get a plain page, machines a JSON 503, the log
one line per outage, and monitors a /healthz that checks for real and never shows secrets."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import create_engine, event, make_url, text

from publisher.web import trouble
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import store


@pytest.fixture
def unreachable(rt):  # type: ignore[no-untyped-def]
    """A switch: while on, every new connection to the database fails."""
    state = {"down": False}

    def connect(*args):  # type: ignore[no-untyped-def]
        if state["down"]:
            raise rt.db.engine.dialect.loaded_dbapi.OperationalError("connection refused")
        return None

    event.listen(rt.db.engine, "do_connect", connect)

    def switch(down: bool) -> None:
        state["down"] = down
        rt.db.engine.dispose()

    yield switch
    event.remove(rt.db.engine, "do_connect", connect)


def test_an_unreachable_database_gives_pages_a_japanese_503_and_the_api_json(
    rt, client, unreachable, caplog
):
    (item,) = store(rt, make_item())
    unreachable(True)
    with caplog.at_level(logging.INFO, logger="publisher"):
        for _ in range(10):
            page = client.get(f"/areas/{DAIZAWA}")
            assert page.status_code == 503 and page.mimetype == "text/html"
            assert "ただいま表示できません" in page.get_data(as_text=True)
            assert page.headers["Retry-After"]
            api = client.get(f"/api/items/{item.id}")
            assert api.status_code == 503 and "unavailable" in api.get_json()["error"]
        unreachable(False)
        assert client.get(f"/items/{item.id}").status_code == 200
        assert client.get(f"/api/items/{item.id}").status_code in (200, 410)
    lines = [r for r in caplog.records if r.name.startswith("publisher")]
    assert [r.levelname for r in lines] == ["ERROR", "WARNING"], [r.message for r in lines]
    assert "database trouble" in lines[0].message and "recovered" in lines[1].message
    assert all(r.exc_info is None for r in lines)


def test_healthz_checks_a_real_query_and_never_shows_the_url(rt, client, unreachable):
    ok = client.get("/healthz")
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json() == {"ok": True, "database": "ok", "schema": "ok", "disk": "ok"}
    unreachable(True)
    down = client.get("/healthz")
    assert down.status_code == 503 and down.get_json()["ok"] is False
    body = down.get_data(as_text=True)
    assert rt.settings.database_url not in body and "postgres@" not in body
    assert "unreachable" in down.get_json()["database"]


def _app_on(url: str, tmp_path):  # type: ignore[no-untyped-def]
    from publisher.config import load_settings
    from publisher.runtime import Runtime
    from publisher.web import create_app

    settings = load_settings({}, DATA_DIR=tmp_path / "other", DATABASE_URL=url, SECRET_KEY="k")
    rt = Runtime(settings)
    return rt, create_app(rt, {"TESTING": True})


@pytest.fixture
def empty_database_url(database_url, tmp_path):  # type: ignore[no-untyped-def]
    """A database (SQLite) or schema (PostgreSQL) nobody has run `publisher init` on."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"empty_{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    yield (
        make_url(database_url)
        .update_query_dict({"options": f"-csearch_path={name}"})
        .render_as_string(hide_password=False)
    )
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def test_an_empty_database_is_not_ok_and_pages_say_so(empty_database_url, tmp_path):
    rt, app = _app_on(empty_database_url, tmp_path)
    client = app.test_client()
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.get_json()["schema"] == "empty: run `publisher init`"
    assert client.get(f"/areas/{DAIZAWA}").status_code == 503
    assert client.get("/api/items/1").status_code == 503
    rt.close()


@pytest.mark.postgres
def test_revoked_privileges_are_not_ok(rt, tmp_path):
    if rt.db.is_sqlite:
        pytest.skip("privileges are a PostgreSQL matter")
    role = f"nopriv_{uuid.uuid4().hex[:8]}"
    with rt.db.engine.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        url = rt.db.engine.url.set(username=role, password=None).render_as_string(
            hide_password=False
        )
        other, app = _app_on(url, tmp_path)
        client = app.test_client()
        r = client.get("/healthz")
        assert r.status_code == 503 and "privileges" in r.get_json()["database"]
        assert role not in r.get_data(as_text=True)
        assert client.get(f"/areas/{DAIZAWA}").status_code == 503
        other.close()
    finally:
        with rt.db.engine.begin() as conn:
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_a_nearly_full_disk_is_not_ok(client, monkeypatch):
    class Usage:
        free = 5 * 1024 * 1024

    monkeypatch.setattr(trouble.shutil, "disk_usage", lambda path: Usage())
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["disk"].startswith("5 MB free")
