"""A closed runtime leaves no database connection open, even to a thread still at work on it
(the Web Push sender, the push hub): nothing is left for the garbage collector to close."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import text

from publisher.store.db import DatabaseClosed


def is_closed(dbapi_conn: Any) -> bool:
    closed = getattr(dbapi_conn, "closed", None)  # psycopg
    if closed is not None:
        return bool(closed)
    try:
        dbapi_conn.execute("SELECT 1")  # sqlite3 has no attribute for it
    except sqlite3.ProgrammingError as e:
        return "closed database" in str(e)
    return False


def test_a_connection_in_use_when_the_runtime_closes_is_closed_when_handed_back(rt):
    with rt.session() as session:
        session.execute(text("SELECT 1"))
        dbapi_conn = session.connection().connection.dbapi_connection
        rt.close()
        assert not is_closed(dbapi_conn)  # the unit of work still finishes
        session.execute(text("SELECT 1"))
    assert is_closed(dbapi_conn)


def test_a_thread_still_at_work_when_the_runtime_closes_leaves_nothing_open(rt):
    """The thread's unit of work ends normally; its next one is refused, and says why."""
    started, closed = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def worker() -> None:
        with rt.session() as session:
            session.execute(text("SELECT 1"))
            seen["conn"] = session.connection().connection.dbapi_connection
            started.set()
            closed.wait(10)
        try:
            with rt.session() as session:
                session.execute(text("SELECT 1"))
        except DatabaseClosed as e:
            seen["refused"] = str(e)

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(10)
    rt.close()
    closed.set()
    thread.join(10)
    assert is_closed(seen["conn"])
    assert "was closed; nothing may use it" in seen["refused"]


def test_nothing_opens_a_connection_of_a_closed_runtime(rt):
    rt.close()
    with pytest.raises(DatabaseClosed), rt.session() as session:
        session.execute(text("SELECT 1"))
    with pytest.raises(DatabaseClosed), rt.db.engine.connect():
        pass
