"""Proof of play in Debian's Chromium: every slide the player shows is stored once, with its
seconds — also when the network drops for a while and when an answer is lost on the way back.

The player runs with 0.7-s slides and a 1-s send interval (``FAST``) so that the run takes
seconds: a 2-minute run at reading speed (8–20-s slides) is the same code with more of it (the
README's "What is counted" reports one run by hand).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.store import reports
from publisher.store.content import create_item
from tests.factories import make_item, player_token
from tests.test_player_browser import FAST, Server, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(rt: Any) -> Iterator[Server]:
    s = Server(rt, {**FAST, "PLAYER_PLAYS_S": 1})
    yield s
    s.stop()


COUNT_SHOWN = """() => {
  window.__shown = [];
  const plays = window.publisherPlays;
  const shown = plays.shown;
  plays.shown = (entry) => { window.__shown.push([entry.item_id, entry.lang, Date.now()]); shown(entry); };
}"""


def _wait(page: Any, js: str, seconds: float = 15) -> None:
    page.wait_for_function(js, timeout=seconds * 1000)


def test_every_slide_shown_is_stored_once_with_its_seconds_through_an_outage(
    rt,
    server,
    browser,  # noqa: F811  (the imported fixture)
):
    with rt.session() as session:
        items = [
            create_item(session, make_item(title, id=None, starts_at=None, ends_at=None), actor="t")
            for title in ("代沢まつりのお知らせ", "落ち葉清掃のお知らせ")
        ]
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server.url}/play/daizawa-1?token={player_token(rt)}")
    page.wait_for_selector("img.current[data-item-id]", timeout=15000)
    page.evaluate(COUNT_SHOWN)
    started = time.monotonic()
    page.wait_for_timeout(3000)

    # Offline: the player keeps playing and keeps its plays.
    page.context.set_offline(True)
    page.wait_for_timeout(3000)
    waiting = page.evaluate("window.publisherPlays.pending()")
    assert waiting >= 3, "plays made offline are kept"

    # Back online, but the first answer is lost on its way back: the batch reached the server,
    # the player sends it again, and it is stored once.
    lost: list[str] = []

    def lose_answer(route: Any) -> None:
        if not lost:
            route.fetch()  # the server stores the batch …
            lost.append(route.request.url)
            route.abort()  # … and the player never hears it
        else:
            route.continue_()

    page.route("**/plays", lose_answer)
    page.context.set_offline(False)
    page.wait_for_timeout(3000)
    page.evaluate("window.publisherPlays.stopped()")
    ran_s = time.monotonic() - started
    page.evaluate("window.publisherPlays.send()")
    _wait(page, "window.publisherPlays.pending() === 0")
    assert lost, "an answer was lost on the way"
    shown = page.evaluate("window.__shown")

    with rt.session() as session:
        rows = reports.plays(session, ["daizawa-1"], "2000-01-01", "2999-12-31")
    stored = sum(r["plays"] for r in rows)
    # the slide on screen when counting began was shown before it: one more than counted
    assert stored - 1 <= len(shown) + 1 and len(shown) <= stored, (stored, len(shown))
    ids = {i.id for i in items}
    assert {r["item_id"] for r in rows} <= ids
    assert {r["lang"] for r in rows} <= {"ja", "ja-x-easy", "en"}
    seconds = sum(r["seconds"] for r in rows)
    # every second on screen is accounted for, within a slide
    assert ran_s - 1.5 <= seconds <= ran_s + 2.5, (seconds, ran_s)
    print(f"\nplayer ran {ran_s:.1f} s: {stored} plays stored, {seconds:.1f} s on screen")
