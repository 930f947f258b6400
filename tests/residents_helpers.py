"""Helpers for the residents' tests: store items, a client whose clock is frozen at ``now``,
and the app served for real on a free loopback port (browsers, http.client)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import feedparser
from flask import Flask
from werkzeug.serving import make_server

from publisher.items import Item
from publisher.runtime import Runtime
from publisher.store.content import create_item


def store(rt: Runtime, *items: Item) -> list[Item]:
    with rt.session() as session:
        return [create_item(session, i, actor="test") for i in items]


def frozen(app: Flask, now: datetime) -> Flask:
    app.config["PUBLISHER_CLOCK"] = lambda: now
    return app


def parse(data: bytes) -> Any:
    """feedparser's reading of a feed; fails the test when the feed is not well-formed."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, f"feed is not well-formed: {parsed.get('bozo_exception')}"
    return parsed


def links(parsed: Any) -> set[str]:
    return {e.link for e in parsed.entries}


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a real server thread at a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
