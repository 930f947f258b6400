"""Emergencies are never late because something else is slow: screens whose players never
answer, a source that trickles its answer, a collector that hangs. Every network call ends
within its total deadline, and re-planning and transitions run on threads of their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest
import requests

from publisher.collect.http import FetchError, Http
from publisher.deliver import sync
from publisher.deliver.base import DeliveryError
from publisher.items import utcnow
from publisher.schedule import service as schedule
from publisher.schedule.scheduler import Scheduler
from publisher.store.content import create_item
from publisher.timetable import Timetable
from tests.factories import WARD, make_item, player_token
from tests.schedule_helpers import RecordingPush


class Trickle(BaseHTTPRequestHandler):
    """/headers sends its status line a byte at a time; /body sends a body the same way; /hang
    accepts and never answers."""

    stop = threading.Event()

    def log_message(self, *args: object) -> None:
        pass

    def _drip(self, data: bytes) -> None:
        for byte in data:
            if self.stop.wait(0.2):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def do_GET(self) -> None:
        if self.path == "/headers":
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" * 50)
        elif self.path == "/body":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self._drip(b"<" * 1000)
        else:
            self.stop.wait(30)

    do_POST = do_GET


@pytest.fixture
def trickle() -> Iterator[str]:
    Trickle.stop.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Trickle.stop.set()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/headers", "/body", "/hang"])
def test_a_source_that_trickles_is_given_up_at_its_total_deadline(trickle, path):
    http = Http(total_timeout_s=1, read_timeout_s=10)
    try:
        with pytest.raises(FetchError, match=r"no complete answer within 1 s; gave up"):
            http.get(trickle + path, allow_private=True)
    finally:
        http.close()


def test_a_player_that_never_answers_fails_the_delivery_at_its_total_deadline(trickle, monkeypatch):
    monkeypatch.setattr(sync, "HTTP_TOTAL_S", 1.0)
    with sync.net.session() as http, pytest.raises(DeliveryError, match="within 1 s"):
        sync._call(http, "POST", trickle + "/hang", json={})


def nudge(sched: Scheduler, done: threading.Event) -> None:
    """Wake APScheduler's loop every 100 ms until ``done``. Its sleep is a timed wait against
    the wall clock, which ``faketime`` offsets and the kernel does not: under faketime the loop
    oversleeps unless something wakes it. Waking it early changes nothing it decides."""

    def loop() -> None:
        while not done.wait(0.1):
            sched.aps.wakeup()

    threading.Thread(target=loop, daemon=True).start()


def stop(sched: Scheduler) -> None:
    """Stop the scheduler, then wait for the released jobs to finish before the store closes.
    (APScheduler's own ``shutdown(wait=True)`` holds its job-store lock while it waits, and a
    finishing job that re-arms itself needs that lock.)"""
    sched.shutdown()
    for executor in sched.aps._executors.values():
        executor._pool.shutdown(wait=True)


class StuckDeliveries:
    """Three http screens whose players never answer: every delivery hangs until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0

    def pushed_screens(self, ids: Any = None) -> list[str]:
        return ["lobby-a", "lobby-b", "lobby-c"]

    def deliver_many(self, screen_ids: Any, at: datetime | None = None) -> list[Any]:
        self.started += 1
        self.release.wait()  # no timeout: released at the end of the test
        return []

    def retry_due(self, now: datetime | None = None) -> list[Any]:
        self.release.wait()  # no timeout: released at the end of the test
        return []


class Collectors:
    """``cap`` answers at once (its runs are recorded); ``slow`` hangs until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.cap_runs: list[float] = []

    def __call__(self, rt: Any, name: str, now: datetime | None = None) -> None:
        if name == "cap":
            self.cap_runs.append(time.monotonic())
        else:
            self.release.wait()  # no timeout: released at the end of the test


def test_an_emergency_goes_live_on_time_while_deliveries_and_a_source_hang(rt, monkeypatch):
    """Five emergencies, each written 2 s before its start while every delivery hangs: each
    is pushed at its start instant. The CAP source keeps its cadence beside a hanging one."""
    push, stuck, collectors = RecordingPush(), StuckDeliveries(), Collectors()
    every_2_s = 2 / 60
    sched = Scheduler(
        rt,
        timetable=Timetable(
            daily_delivery_at=(),
            sns_post_at=(),
            watchdog_every_s=3600,
            poll_s=3600,
            retry_base_s=1,
            collect_every_min={"cap": every_2_s, "slow": every_2_s},
        ),
        push=push,
        deliverer=stuck,  # type: ignore[arg-type]
        collector=collectors,
        sources=lambda rt: ["cap", "slow"],
        outbox=None,
        executor_threads=2,  # a small pool the stuck deliveries fill at once
    )
    monkeypatch.setattr(schedule, "_ACTIVE", sched)
    sched.start()
    done = threading.Event()
    nudge(sched, done)
    lateness = []
    try:
        for n in range(5):
            start = utcnow() + timedelta(seconds=2)
            with rt.session() as session:
                item = make_item(
                    f"避難指示 {n}", kind="alert", priority="emergency", targets=(WARD,),
                    starts_at=start, ends_at=start + timedelta(hours=1),
                )  # fmt: skip
                item_id = create_item(session, item, actor="test").id
            rt.items_changed({item_id})
            times = push.wait_for(item_id, count=1, timeout=6)
            assert times, f"emergency {n} never went live"
            lateness.append(datetime.fromtimestamp(times[0], UTC) - start)
        cap_runs = list(collectors.cap_runs)
    finally:
        stuck.release.set()
        collectors.release.set()
        done.set()
        stop(sched)
    assert stuck.started >= 1  # the deliveries really were stuck meanwhile
    # at the instant, not at a poll: never early, within a second on a loaded machine
    assert all(timedelta(0) <= late < timedelta(seconds=1) for late in lateness), lateness
    gaps = [b - a for a, b in pairwise(cap_runs)]
    assert len(cap_runs) >= 4 and max(gaps) < 3.5, gaps


def test_a_skipped_job_is_logged_as_a_warning(rt, caplog):
    sched = Scheduler(rt, timetable=Timetable(), outbox=None, sources=lambda rt: [])

    class Event:
        code = 2**16  # EVENT_JOB_MAX_INSTANCES
        job_id = "collect:cap"
        scheduled_run_times = (datetime(2026, 11, 22, tzinfo=UTC),)

    with caplog.at_level("WARNING"):
        sched._skipped(Event())
    assert "job collect:cap skipped" in caplog.text and "still running" in caplog.text


@pytest.mark.browser
def test_an_emergency_scheduled_8_s_ahead_is_on_a_chromium_player_at_its_start(
    rt, token_for, trickle, monkeypatch
):
    """Five times in a row, with every delivery to three http screens hanging and a source
    trickling its answer: the emergency is pushed to the player at its start (the player's own
    poll is 30 s, so only the push can be on time)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser import launch
    from tests.test_player_browser import FAST, Server, on_screen

    stuck = StuckDeliveries()
    slow_source_runs: list[str] = []

    def collector(rt: Any, name: str, now: datetime | None = None) -> None:
        http = Http(total_timeout_s=60)
        try:
            http.get(trickle + "/headers", allow_private=True)
        except FetchError as e:
            slow_source_runs.append(str(e))
        finally:
            http.close()

    sched = Scheduler(
        rt,
        timetable=Timetable(
            daily_delivery_at=(),
            sns_post_at=(),
            watchdog_every_s=3600,
            poll_s=3600,
            retry_base_s=1,
            collect_every_min={"slow": 2 / 60},
        ),  # fmt: skip
        deliverer=stuck,  # type: ignore[arg-type]
        collector=collector,
        sources=lambda rt: ["slow"],
        outbox=None,
        executor_threads=2,
    )
    monkeypatch.setattr(schedule, "_ACTIVE", sched)
    server = Server(rt, {**FAST, "PLAYER_POLL_S": 30})
    token = player_token(rt, "daizawa-1")
    with rt.session() as session:
        create_item(session, make_item("代沢まつりのお知らせ", starts_at=None, ends_at=None),
                    actor="test")  # fmt: skip
    admin = token_for("admin", "setagaya")
    lateness = []
    sched.start()
    done = threading.Event()
    nudge(sched, done)
    try:
        with sync_api.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{server.url}/play/daizawa-1?token={token}")
            page.wait_for_selector("img.current[data-item-id]", timeout=15000)
            for n in range(5):
                start = utcnow().replace(microsecond=0) + timedelta(seconds=8)
                resp = requests.post(
                    f"{server.url}/api/items",
                    json={
                        "kind": "alert",
                        "priority": "emergency",
                        "title": {"ja": f"【緊急】世田谷区全域に避難指示（{n + 1}）"},
                        "targets": ["setagaya"],
                        "starts_at": start.isoformat(),
                        "ends_at": (start + timedelta(seconds=3)).isoformat(),
                    },
                    headers={"Authorization": f"Bearer {admin}"},
                    timeout=10,
                )
                assert resp.status_code == 201, resp.text
                alert_id = str(resp.json()["id"])
                page.wait_for_function(
                    "(id) => document.querySelector('img.current')?.dataset.itemId === id",
                    arg=alert_id,
                    polling="raf",
                    timeout=20000,
                )
                lateness.append(time.time() - start.timestamp())
                assert on_screen(page) == alert_id
            browser.close()
    finally:
        stuck.release.set()
        Trickle.stop.set()
        done.set()
        stop(sched)
        server.stop()
    print("\nemergency on screen after its start (s):", [f"{x:.2f}" for x in lateness])
    assert all(-0.05 <= late < 1.0 for late in lateness), lateness
    assert stuck.started >= 1
