"""An emergency in a Chromium lobby player: every language, a chime and a voice, an attention
band that does not flash, then 解除 and normal content."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from publisher.areas import LANGUAGES
from publisher.render import speech
from publisher.store.content import create_item
from tests.browser import CHROMIUM_ARGS, launch
from tests.factories import make_item, player_token
from tests.test_emergency_reach import SIX
from tests.test_player_browser import Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(speech.find_voices().missing), reason="speech packages missing"),
]
# How kiosk Chromium is started on a lobby screen (README): sound without a first click.
KIOSK_ARGS = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture
def server(rt: Any) -> Iterator[Server]:
    rt.settings["CLEARED_SHOW_S"] = 4
    s = Server(rt)
    yield s
    s.stop()


@pytest.fixture
def kiosk() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p, KIOSK_ARGS)
        yield b
        b.close()


def current(page: Any, key: str) -> str | None:
    return page.evaluate(f"document.querySelector('img.current')?.dataset.{key} ?? null")


def test_a_six_language_emergency_plays_every_language_with_chime_and_voice_then_clears(
    rt, server, kiosk, token_for
):
    with rt.session() as session:
        notice = create_item(
            session,
            make_item("代沢まつりのお知らせ", id=None, starts_at=None, ends_at=None),
            actor="t",
        )
    token = player_token(rt)
    admin = {"Authorization": f"Bearer {token_for('admin', 'setagaya')}"}
    page = kiosk.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server.url}/play/daizawa-1?token={token}")
    page.wait_for_selector("img.current[data-item-id]", timeout=15000)

    resp = requests.post(
        f"{server.url}/api/items",
        json={
            "kind": "alert",
            "priority": "emergency",
            "warning_level": 4,
            "targets": ["setagaya"],
            **SIX,
        },
        headers=admin,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    alert_id = str(resp.json()["id"])
    page.wait_for_selector("body.takeover", timeout=10000)
    page.wait_for_selector("#attention.shown", timeout=5000)
    page.screenshot(path=str(rt.settings.data_dir / "takeover.png"))
    band = page.evaluate("getComputedStyle(document.getElementById('attention')).animationName")
    assert band == "none"  # a one-off transition, never a blinking animation

    # Every language of the alert comes round on a screen configured for ja, easy ja, en.
    langs: set[str] = set()
    end = time.monotonic() + 15
    while time.monotonic() < end and langs != set(LANGUAGES):
        if current(page, "itemId") == alert_id:
            langs.add(current(page, "lang") or "")
        page.wait_for_timeout(50)
    assert langs == set(LANGUAGES)

    # The chime, then Japanese: played by the page's <audio>, files that decode.
    page.wait_for_function("() => window.publisherAlert.played.length >= 2", timeout=20000)
    played = page.evaluate("window.publisherAlert.played")
    assert [p["lang"] for p in played[:2]] == ["chime", "ja"]
    durations = page.evaluate(
        """async (srcs) => {
            const ctx = new OfflineAudioContext(1, 1, 22050);
            const out = [];
            for (const src of srcs) {
              const r = await fetch(src); // the screen's cookie carries its token
              out.push((await ctx.decodeAudioData(await r.arrayBuffer())).duration);
            }
            return out;
        }""",
        [p["src"] for p in played[:2]],
    )
    assert 1.5 < durations[0] < 5 and 2 < durations[1] < 30, durations
    assert page.evaluate("window.publisherAlert.blocked") is None

    # Withdrawn: 解除 in every language, the announcement stops, then normal content.
    requests.post(
        f"{server.url}/api/items/{alert_id}/withdraw", headers=admin, timeout=10
    ).raise_for_status()
    page.wait_for_function(
        "() => document.querySelector('img.current')?.dataset.role === 'cleared'", timeout=5000
    )
    page.screenshot(path=str(rt.settings.data_dir / "cleared.png"))
    assert page.evaluate("document.getElementById('announce').paused")
    assert not page.evaluate("document.body.classList.contains('takeover')")
    assert page.is_hidden("#attention")
    page.wait_for_function(
        "(id) => document.querySelector('img.current')?.dataset.itemId === id",
        arg=str(notice.id),
        timeout=15000,
    )
    page.close()
