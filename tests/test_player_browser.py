"""The lobby player in Debian's Chromium: it plays, switches to an emergency, survives outages."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from publisher.deliver import push
from publisher.store.content import create_item
from publisher.web import create_app
from publisher.web.server import Server as LoopServer
from tests.browser import launch
from tests.factories import make_item, player_token

pytestmark = pytest.mark.browser

# Short slides and polls so the test runs in seconds; production uses reading time.
FAST = {
    "TESTING": True,
    "PLAYER_SLIDE_DURATION_S": 0.7,
    "PLAYER_POLL_S": 1,
    "PLAYER_HEARTBEAT_S": 1,
    "PLAYER_SSE_HEARTBEAT_S": 0.5,
}


class Server:
    """The app under `publisher serve`'s own server (its push streams on the loop), on a free
    loopback port, in a thread, until stopped."""

    def __init__(self, rt: Any, config: dict[str, Any] | None = None):
        self.rt = rt
        self.loop = asyncio.new_event_loop()
        self.server = LoopServer(create_app(rt, config or FAST), rt, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
            push.stop(self.rt)


@pytest.fixture
def server(rt: Any) -> Iterator[Server]:
    s = Server(rt)
    yield s
    s.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def on_screen(page: Any) -> str | None:
    return page.evaluate("document.querySelector('img.current')?.dataset.itemId ?? null")


def watch(page: Any, seconds: float) -> list[str | None]:
    """The item ids seen on screen, sampled every 50 ms for ``seconds``."""
    seen = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.append(on_screen(page))
        page.wait_for_timeout(50)
    return seen


def test_player_plays_switches_to_an_emergency_and_keeps_playing_offline(
    rt, server, browser, token_for
):
    with rt.session() as session:
        notices = [
            create_item(session, make_item(title, id=None, starts_at=None, ends_at=None), actor="t")
            for title in ("代沢まつりのお知らせ", "落ち葉清掃のお知らせ", "健康体操教室")
        ]
    token = player_token(rt)
    admin = token_for("admin", "setagaya")
    normal_ids = {str(i.id) for i in notices}
    rt.settings["CLEARED_SHOW_S"] = 0  # the all-clear slide has its own test

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{server.url}/play/daizawa-1?token={token}")
    page.wait_for_selector("img.current[data-item-id]", timeout=15000)
    # The token left the address bar for a cookie: no later request carries it, not even
    # the push stream, the playlist or the slides.
    assert page.url == f"{server.url}/play/daizawa-1"
    assert token not in page.content()
    later = asked[1:]
    assert any("/events" in u for u in later) and any("/slides/" in u for u in later), later
    assert not [u for u in later if token in u]

    # It advances through the slides.
    seen = watch(page, 3.0)
    assert len(set(seen) & normal_ids) >= 2, seen
    assert None not in seen[seen.index(next(s for s in seen if s)) :], "a blank frame"

    # An emergency posted through the API is on screen within a second.
    resp = requests.post(
        f"{server.url}/api/items",
        json={
            "kind": "alert",
            "priority": "emergency",
            "title": {"ja": "【緊急】世田谷区全域に避難指示（警戒レベル4）"},
            "body": {"ja": "直ちに指定された避難所へ避難してください。"},
            "targets": ["setagaya"],
        },
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    )
    posted = time.perf_counter()
    assert resp.status_code == 201, resp.text
    alert_id = str(resp.json()["id"])
    page.wait_for_function(
        "(id) => document.querySelector('img.current')?.dataset.itemId === id",
        arg=alert_id,
        polling="raf",
        timeout=10000,
    )
    latency = time.perf_counter() - posted
    print(f"\nemergency on screen {latency * 1000:.0f} ms after the POST returned")
    assert latency < 1.5
    assert set(watch(page, 1.5)) == {alert_id}  # it replaces the whole playlist

    # Withdrawn, it leaves and the normal playlist returns.
    requests.post(
        f"{server.url}/api/items/{alert_id}/withdraw",
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    ).raise_for_status()
    page.wait_for_function(
        "(id) => (document.querySelector('img.current')?.dataset.itemId ?? id) !== id",
        arg=alert_id,
        timeout=5000,
    )
    assert page.is_hidden("#offline")

    # With the server gone, it keeps playing its cached playlist and says it is offline.
    server.stop()
    page.wait_for_selector("#offline", state="visible", timeout=10000)
    seen = watch(page, 3.0)
    assert len(set(seen) & normal_ids) >= 2, seen
    assert None not in seen
    page.close()
