"""The agency's feed to a lobby screen: the scheduler polls a local PULL feed; a new warning
entry is on a Chromium player within the poll interval plus a second, and its lifting takes it
off again. Unchanged polls are answered 304."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from publisher.deliver.log import Deliverer
from publisher.items import utcnow
from publisher.schedule import service as schedule
from publisher.schedule.scheduler import Scheduler
from publisher.store.models import CollectRunRow
from publisher.timetable import Timetable
from tests.factories import player_token
from tests.jma_helpers import Agency, moved
from tests.schedule_helpers import FakeBundles
from tests.test_player_browser import Server, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser

POLL_S = 3.0
QUAKE = "32-39_11_05_240613_VXSE53.xml"  # 東京世田谷区 震度5弱: takes over every screen
YAMAGUCHI = "15_11_01_150916_VPWW54.xml"
SOURCES = """
[sources.jma-eqvol]
kind = "jma"
url = "{url}"
interval = "1m"
options = {{ allow_private_addresses = true }}
"""


@pytest.fixture
def agency() -> Iterator[Agency]:
    server = Agency()
    yield server
    server.close()


def shown(page: Any) -> str | None:
    return page.evaluate("document.querySelector('img.current')?.dataset.itemId ?? null")


def test_a_new_feed_entry_reaches_a_chromium_player_within_the_poll_interval_plus_a_second(
    rt: Any,
    agency: Agency,
    browser: Any,  # noqa: F811  (the imported fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "sources.toml").write_text(SOURCES.format(url=agency.url("/feed/extra.xml")))
    rt.settings["CONTENT_DIR"] = content
    rt.settings["CLEARED_SHOW_S"] = 0  # the all-clear slide has its own test
    start = utcnow()
    agency.publish([("気象警報・注意報", "y_VPWW54_350000.xml", moved(YAMAGUCHI, start), start)])

    timetable = Timetable(
        daily_delivery_at=(),
        sns_post_at=(),
        watchdog_every_s=3600,
        poll_s=3600,
        collect_every_min={"jma-eqvol": POLL_S / 60},  # type: ignore[dict-item]
    )
    sched = Scheduler(
        rt,
        timetable=timetable,
        deliverer=Deliverer(rt, builder=FakeBundles(), clock=utcnow),
        outbox=None,
        clock=utcnow,
    )
    monkeypatch.setattr(schedule, "_ACTIVE", sched)
    server = Server(rt)
    token = player_token(rt)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{server.url}/play/daizawa-1?token={token}")
        page.wait_for_load_state("domcontentloaded")
        sched.start()
        deadline = time.monotonic() + 4 * POLL_S
        while sum(1 for p, _ in agency.log if p == "/feed/extra.xml") < 2:
            assert time.monotonic() < deadline, agency.log
            page.wait_for_timeout(100)
        assert ("/feed/extra.xml", 304) in agency.log  # the second poll: nothing new
        assert shown(page) is None

        now = utcnow()
        agency.publish(
            [
                ("気象警報・注意報", "y_VPWW54_350000.xml", moved(YAMAGUCHI, start), start),
                ("震源・震度に関する情報", "q_VXSE53_270000.xml", moved(QUAKE, now), now),
            ]
        )
        published = time.perf_counter()
        try:
            page.wait_for_function(
                "() => !!document.querySelector('img.current')?.dataset.itemId",
                polling="raf",
                timeout=(POLL_S + 5) * 1000,
            )
        except Exception:
            with rt.session() as session:
                runs = session.scalars(select(CollectRunRow)).all()
                raise AssertionError(
                    f"not on screen; polls {agency.log}; runs "
                    f"{[(r.started_at, r.ok, r.created, r.failure) for r in runs]}"
                ) from None
        # how long it took is a figure, not a pass mark (bench/ measures; the wait above bounds it)
        latency = time.perf_counter() - published
        print(f"\nJMA entry on screen {latency * 1000:.0f} ms after it was published")
        quake_id = shown(page)

        # the agency's 取消 of that report: it leaves the screen within the next poll too
        later = utcnow()
        cancel = moved(QUAKE, later, **{"<InfoType>発表</InfoType>": "<InfoType>取消</InfoType>"})
        agency.publish(
            [
                ("震源・震度に関する情報", "q_VXSE53_270000.xml", moved(QUAKE, now), now),
                ("震源・震度に関する情報", "c_VXSE53_270000.xml", cancel, later),
            ]
        )
        published = time.perf_counter()
        page.wait_for_function(
            "(id) => (document.querySelector('img.current')?.dataset.itemId ?? null) !== id",
            arg=quake_id,
            timeout=(POLL_S + 5) * 1000,
        )
        print(f"JMA 取消 off screen {(time.perf_counter() - published) * 1000:.0f} ms after it")
    finally:
        sched.shutdown()
        page.close()
        server.stop()
