"""The agency's PULL feed, polled: conditional GET, each message fetched once, a bad entry never
stops the others. The agency is a local server; every clock is the test's ``now``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from publisher.collect import jma
from publisher.collect.base import Source
from publisher.collect.run import collect
from publisher.runtime import Runtime
from publisher.store.content import to_item
from publisher.store.models import ItemRow
from tests.jma_helpers import Agency, moved

ADVISORIES = "15_12_02_161130_VPWW54.xml"
STORM = "15_13_01_161226_VPWW54.xml"
NONE_LEFT = "15_14_01_170216_VPWW54.xml"
YAMAGUCHI = "15_11_01_150916_VPWW54.xml"
TITLE = "気象特別警報・警報・注意報"


@pytest.fixture
def agency() -> Iterator[Agency]:
    server = Agency()
    yield server
    server.close()


def feed_source(agency: Agency, name: str = "jma-extra") -> Source:
    return Source(
        name=name,
        kind="jma",
        url=agency.url("/feed/extra.xml"),
        options={"allow_private_addresses": True},  # the stand-in agency listens on loopback
    )


def statuses(rt: Runtime) -> list[tuple[str, str]]:
    with rt.session() as s:
        rows = s.scalars(select(ItemRow).where(ItemRow.source == "jma").order_by(ItemRow.id))
        return [(to_item(r).title, r.status) for r in rows]


def test_a_polled_feed_is_read_once_and_unchanged_polls_cost_no_parsing(
    rt: Runtime, now: datetime, agency: Agency, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = feed_source(agency)
    agency.publish(
        [
            (TITLE, "a_VPWW54_130000.xml", moved(ADVISORIES, now), now),
            (TITLE, "b_VPWW54_350000.xml", moved(YAMAGUCHI, now), now),
        ]
    )
    first = collect(rt, source, now=now)
    assert first.ok and first.created == 1, first.summary()
    assert [s.reason for s in first.skipped] == [
        "names none of the ward's codes (1311200, 130011, 130010)"
    ]
    parsed: list[str] = []
    real = jma.parse_message
    monkeypatch.setattr(jma, "parse_message", lambda *a: parsed.append(a[3]) or real(*a))

    agency.log.clear()
    unchanged = collect(rt, source, now=now + timedelta(minutes=1))
    assert unchanged.ok and (unchanged.created, unchanged.updated, unchanged.unchanged) == (0, 0, 0)
    assert agency.log == [("/feed/extra.xml", 304)] and parsed == []

    # a new entry: only it is fetched and read; the earlier ones are not fetched again
    later = now + timedelta(minutes=2)
    agency.publish(
        [
            (TITLE, "a_VPWW54_130000.xml", moved(ADVISORIES, now), now),
            (TITLE, "b_VPWW54_350000.xml", moved(YAMAGUCHI, now), now),
            (TITLE, "c_VPWW54_130000.xml", moved(STORM, later), later),
        ]
    )
    agency.log.clear()
    upgraded = collect(rt, source, now=later)
    assert upgraded.updated == 1 and upgraded.created == 0
    assert agency.log == [("/feed/extra.xml", 200), ("/data/c_VPWW54_130000.xml", 200)]
    assert len(parsed) == 1 and statuses(rt) == [("暴風警報　世田谷区", "approved")]


def test_a_bad_entry_is_skipped_with_its_url_and_type_and_the_rest_of_the_feed_is_read(
    rt: Runtime, now: datetime, agency: Agency
) -> None:
    agency.publish(
        [
            (TITLE, "bad_VPWW54_130000.xml", b"<Report><Control>", now),
            (TITLE, "dtd_VPWW54_130000.xml", b'<!DOCTYPE r [<!ENTITY a "x">]><Report/>', now),
            (TITLE, "gone_VPWW54_130000.xml", b"", now),
            (TITLE, "ok_VPWW54_130000.xml", moved(ADVISORIES, now), now),
        ]
    )
    del agency.files["/data/gone_VPWW54_130000.xml"]  # listed, but the server has lost it
    result = collect(rt, feed_source(agency), now=now)
    assert result.ok and result.created == 1
    reasons = {s.entry.rsplit("/", 1)[-1]: s.reason for s in result.skipped}
    assert reasons["bad_VPWW54_130000.xml"].startswith("VPWW54: not well-formed XML")
    assert reasons["dtd_VPWW54_130000.xml"].startswith("VPWW54: refused: the message declares")
    assert reasons["gone_VPWW54_130000.xml"].startswith("VPWW54: ")
    assert "404" in reasons["gone_VPWW54_130000.xml"]
    assert statuses(rt) == [("大雨注意報・洪水注意報・雷注意報　世田谷区", "approved")]


def test_a_lift_in_the_same_feed_as_its_warning_is_applied_in_the_agencys_order(
    rt: Runtime, now: datetime, agency: Agency
) -> None:
    later = now + timedelta(hours=1)
    agency.publish(
        [  # the feed lists newest first; the lift must win however they are listed
            (TITLE, "lift_VPWW54_130000.xml", moved(NONE_LEFT, later), later),
            (TITLE, "warn_VPWW54_130000.xml", moved(STORM, now), now),
        ]
    )
    result = collect(rt, feed_source(agency), now=later)
    assert result.ok, result.summary()
    assert statuses(rt) == [("暴風警報　世田谷区", "withdrawn")]


def test_a_feed_that_cannot_be_read_keeps_the_last_good_items_and_is_fetched_again(
    rt: Runtime, now: datetime, agency: Agency
) -> None:
    source = feed_source(agency)
    agency.publish([(TITLE, "a_VPWW54_130000.xml", moved(STORM, now), now)])
    assert collect(rt, source, now=now).created == 1
    agency.feed = b"<feed"  # broken upstream
    agency.version += 1
    broken = collect(rt, source, now=now + timedelta(minutes=1))
    assert not broken.ok and "not well-formed XML" in (broken.failure or "")
    assert statuses(rt) == [("暴風警報　世田谷区", "approved")]
