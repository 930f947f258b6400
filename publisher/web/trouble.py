"""Honest answers when the database is in trouble, and ``/healthz`` that checks for real.

While the database is unreachable, refuses queries (revoked privileges, an empty schema) or
fails to write (a full disk), every page answers a plain 503 page in Japanese and every API
route a JSON 503, both with ``Retry-After``; the log gets one line when the trouble starts and
one when it ends (the first statement that succeeds again), never a traceback per request.
Recovery needs nobody: the pool reconnects (``pool_pre_ping`` on PostgreSQL).

A value the database cannot hold (:class:`~sqlalchemy.exc.DataError`) is the caller's 400 and a
conflicting write (:class:`~sqlalchemy.exc.IntegrityError`) a 409, neither an outage.

``/healthz`` runs a real query on the items table, compares the schema with the newest
migration and checks free disk in ``DATA_DIR``; its answer names what is wrong, never the
database URL or a credential.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy import event
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from publisher.runtime import Runtime
from publisher.store.db import describe_failure

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30
MIN_FREE_BYTES = 200 * 1024 * 1024

UNAVAILABLE_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ただいま表示できません</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em">
<h1>ただいま表示できません</h1>
<p>システムの不具合のため、一時的にこのページを表示できません。しばらくしてからもう一度お試しください。</p>
<p>災害などの緊急情報は、防災無線・世田谷区のホームページ・テレビやラジオでもご確認ください。</p>
<p lang="en">This page is temporarily unavailable. Please try again in a few minutes.</p>
</body></html>
"""


class Outage:
    """One log line when database trouble starts and one when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None

    def failed(self, e: DBAPIError) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        log.error("database trouble: %s; answering 503 until it recovers", describe_failure(e))

    def recovered(self) -> None:
        if self.since is None:  # the common case: no lock, no work
            return
        with self._lock:
            if self.since is None:
                return
            lasted, self.since = time.monotonic() - self.since, None
        log.warning("database recovered after %.0f s", lasted)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask, rt: Runtime) -> None:
    """Register the 503/400/409 answers for database errors and ``/healthz``."""
    outage = Outage()
    app.extensions["publisher.outage"] = outage
    event.listen(rt.db.engine, "after_cursor_execute", lambda *_: outage.recovered())

    @app.errorhandler(DBAPIError)
    def database_error(e: DBAPIError) -> Any:
        if isinstance(e, DataError):
            return _answer(400, "a value does not fit the database (too long or out of range)")
        if isinstance(e, IntegrityError):
            return _answer(409, "the change conflicts with what is stored; reload and try again")
        outage.failed(e)
        if wants_json():
            response = jsonify({"error": "the database is unavailable; try again shortly"})
            response.status_code = 503
        else:
            response = Response(UNAVAILABLE_PAGE, status=503, mimetype="text/html")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/healthz")
    def healthz() -> Any:
        """Database (a real query), schema version and free disk, for monitors."""
        checks = rt.db.health()
        checks["disk"] = _disk(rt)
        ok = all(v == "ok" for v in checks.values())
        response = jsonify({"ok": ok, **checks})
        response.status_code = 200 if ok else 503
        response.headers["Cache-Control"] = "no-store"
        return response


def _answer(status: int, message: str) -> Any:
    if wants_json():
        return jsonify({"error": message}), status
    return Response(f"<!doctype html><p>{message}</p>", status=status, mimetype="text/html")


def _disk(rt: Runtime) -> str:
    path = rt.settings.data_dir
    while not path.exists() and path != path.parent:  # not made yet: the disk it will be on
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError as e:
        return f"DATA_DIR cannot be read ({e.strerror})"
    if free < MIN_FREE_BYTES:
        return f"{free // 2**20} MB free in DATA_DIR; at least {MIN_FREE_BYTES // 2**20} MB needed"
    return "ok"
