"""Delivery to screens that do not pull: http push with retries, atomic folders, the log."""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from publisher.deliver.base import ScreenTarget, read_bundle
from publisher.deliver.log import Deliverer, backoff_s
from publisher.deliver.sync import FolderTarget
from publisher.store.models import DeliveryRow, ScreenRow
from publisher.timetable import Timetable
from tests.schedule_helpers import FakeBundles, FakeClock, ScreenEndpoint

KYODO = "kyodo-1"  # delivery = "http" in displays/setagaya.toml
MATSUZAWA = "matsuzawa-1"  # delivery = "folder"


def _point_at(rt, screen_id: str, url: str) -> None:
    with rt.session() as session:
        session.get(ScreenRow, screen_id).endpoint = url


def _log(rt, screen_id: str) -> list[DeliveryRow]:
    with rt.session() as session:
        return list(
            session.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.screen_id == screen_id)
                .order_by(DeliveryRow.id)
            )
        )


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap():
    rng = random.Random(7)
    waits = [[backoff_s(n, 2, 300, rng) for _ in range(200)] for n in (1, 2, 3, 10)]
    assert max(waits[0]) <= 2 and max(waits[1]) <= 4 and max(waits[2]) <= 8
    assert max(waits[3]) <= 300 and max(waits[3]) > 150  # capped, and still spread out
    assert min(w for ws in waits for w in ws) >= 0


def test_http_screen_gets_its_bundle_after_its_endpoint_recovers_and_applies_it_once(rt, now):
    """A player that answers 503 for a while receives the bundle once it is back, applied
    exactly once; delivering the same version again sends nothing."""
    clock = FakeClock(now)
    bundles = FakeBundles()
    deliverer = Deliverer(rt, builder=bundles, clock=clock, rng=random.Random(1))
    with ScreenEndpoint() as endpoint:
        _point_at(rt, KYODO, endpoint.url)
        endpoint.failing = True
        first = deliverer.deliver(KYODO)
        assert first.state == "failed" and "503" in first.detail
        clock.advance(1)
        assert all(o.state == "failed" for o in deliverer.retry_due())
        [row] = _log(rt, KYODO)
        assert row.state == "failed" and row.attempts == 2 and "503" in row.last_error
        assert row.next_attempt_at <= clock() + timedelta(seconds=4)

        endpoint.failing = False
        clock.at = row.next_attempt_at - timedelta(milliseconds=1)
        assert deliverer.retry_due() == []  # not before its time
        clock.at = row.next_attempt_at
        [outcome] = deliverer.retry_due()
        assert outcome.state == "delivered"
        assert endpoint.applied == [outcome.version]
        assert set(endpoint.files) == {"001.png", "002.png", "playlist.smil"}

        calls_before = len(endpoint.requests)
        again = deliverer.deliver(KYODO)
        assert again.state == "already" and len(endpoint.requests) == calls_before
        assert endpoint.applied == [outcome.version]

    [row] = _log(rt, KYODO)
    assert (row.state, row.attempts, row.last_error) == ("delivered", 3, None)
    assert row.delivered_at == clock()
    with rt.session() as session:
        screen = session.get(ScreenRow, KYODO)
        assert screen.version_on_screen == screen.latest_version == outcome.version


def test_a_new_version_sends_only_the_files_the_screen_lacks(rt, now):
    bundles = FakeBundles()
    deliverer = Deliverer(rt, builder=bundles, clock=FakeClock(now))
    with ScreenEndpoint() as endpoint:
        _point_at(rt, KYODO, endpoint.url)
        deliverer.deliver(KYODO)
        endpoint.requests.clear()
        bundles.slides["002.png"] = b"slide two, revised"
        outcome = deliverer.deliver(KYODO)
        puts = [path for method, path in endpoint.requests if method == "PUT"]
    assert outcome.state == "delivered"
    assert sorted(puts) == ["/bundle/files/002.png", "/bundle/files/playlist.smil"]
    assert len(endpoint.applied) == 2


def test_a_newer_version_supersedes_one_still_waiting_for_its_retry(rt, now):
    clock = FakeClock(now)
    bundles = FakeBundles()
    deliverer = Deliverer(rt, builder=bundles, clock=clock)
    with ScreenEndpoint() as endpoint:
        _point_at(rt, KYODO, endpoint.url)
        endpoint.failing = True
        deliverer.deliver(KYODO)
        endpoint.failing = False
        bundles.slides = {"001.png": b"only one slide now"}
        deliverer.deliver(KYODO)
        clock.advance(600)
        assert deliverer.retry_due() == []
    assert [r.state for r in _log(rt, KYODO)] == ["superseded", "delivered"]
    assert len(endpoint.applied) == 1


def test_pull_screens_are_sent_nothing(rt, now):
    bundles = FakeBundles()
    outcome = Deliverer(rt, builder=bundles, clock=FakeClock(now)).deliver("daizawa-1")
    assert outcome.state == "pull" and bundles.builds == 0 and _log(rt, "daizawa-1") == []


def test_folder_screen_gets_the_bundle_in_its_folder(rt, now):
    outcome = Deliverer(rt, builder=FakeBundles(), clock=FakeClock(now)).deliver(MATSUZAWA)
    assert outcome.state == "delivered"
    folder = rt.settings.data_dir.parent / "var/folders/matsuzawa-1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == outcome.version
    assert (folder / "001.png").read_bytes() == b"slide one"


def test_folder_delivery_never_exposes_a_partial_folder(tmp_path):
    """A player reading the folder while bundles keep arriving always finds a complete
    manifest and every file it names, with the right content."""
    target = FolderTarget()
    screen = ScreenTarget("matsuzawa-1", "folder", folder=tmp_path / "screens" / "matsuzawa-1")
    bundles = FakeBundles()
    versions = []
    for n in range(40):  # bundles of different sizes, so a mix-up would show
        bundles.slides = {f"{i:03}.png": os.urandom(2000) + bytes([n]) for i in range(1, n % 7 + 2)}
        built = bundles(None, "matsuzawa-1", None, tmp_path / f"build-{n}")
        versions.append(read_bundle(built))

    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            if not screen.folder.exists():
                continue
            root = Path(os.path.realpath(screen.folder))  # as a player resolves it once per read
            try:
                manifest = json.loads((root / "manifest.json").read_text())
                for name, digest in manifest["files"].items():
                    data = (root / name).read_bytes()
                    if hashlib.sha256(data).hexdigest() != digest:
                        problems.append(f"{name} does not match the manifest")
                reads[0] += 1
            except (OSError, ValueError, KeyError) as e:
                problems.append(f"{type(e).__name__}: {e}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(2):
            for bundle in versions:
                target.send(screen, bundle)
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert reads[0] > 20
    assert (
        json.loads((screen.folder / "manifest.json").read_text())["version"] == versions[-1].version
    )


def test_failed_delivery_waits_for_its_backoff(rt, now):
    clock = FakeClock(now)
    deliverer = Deliverer(
        rt, builder=FakeBundles(), clock=clock, timetable=Timetable(retry_base_s=2, retry_cap_s=300)
    )
    with ScreenEndpoint() as endpoint:
        _point_at(rt, KYODO, endpoint.url)
        endpoint.failing = True
        deliverer.deliver(KYODO)
        for _ in range(12):
            [row] = [r for r in _log(rt, KYODO) if r.state == "failed"]
            clock.at = row.next_attempt_at
            deliverer.retry_due()
    [row] = _log(rt, KYODO)
    assert row.attempts == 13
    assert row.next_attempt_at - clock() <= timedelta(seconds=300)


def test_a_retry_whose_bundle_is_gone_rebuilds_it(rt, now):
    """After a restart with an empty DATA_DIR the retry builds the bundle again (no hang)."""
    import shutil

    clock = FakeClock(now)
    bundles = FakeBundles()
    deliverer = Deliverer(rt, builder=bundles, clock=clock)
    with ScreenEndpoint() as endpoint:
        _point_at(rt, KYODO, endpoint.url)
        endpoint.failing = True
        deliverer.deliver(KYODO)
        shutil.rmtree(deliverer.bundles_dir)
        endpoint.failing = False
        clock.advance(600)
        [outcome] = deliverer.retry_due()
    assert outcome.state == "delivered" and bundles.builds == 2
