"""Nothing a source sends can flood the store: recurrence bombs, huge documents, slow parses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from publisher.collect.base import Entry, Skipped, Source
from publisher.collect.http import FetchError, Http, refuse_non_public, resolve_host
from publisher.collect.registry import collector_for
from publisher.collect.run import collect, read_bounded
from publisher.store.content import visible_items
from tests.collect_helpers import upstream_server  # noqa: F401  (the fixture)
from tests.factories import DAIZAWA, JST

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=JST)


def calendar(*events: str) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T103000Z\r\n"
        f"RRULE:{rule}\r\nSUMMARY:{uid}の集まり\r\nEND:VEVENT\r\n"
        for uid, rule in (e.split(" ", 1) for e in events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//\r\n{body}END:VCALENDAR\r\n".encode()


def ical(**options) -> Source:  # type: ignore[no-untyped-def]
    return Source(
        name="chokai", kind="ical", path=Path("chokai.ics"), targets=(DAIZAWA,), options=options
    )


def test_a_secondly_or_minutely_series_is_skipped_with_a_note_and_the_rest_is_kept(rt):
    data = calendar(
        "bomb FREQ=SECONDLY",
        "minutes FREQ=MINUTELY",
        "hours FREQ=DAILY;BYHOUR=9,10,11",
        "taiso FREQ=WEEKLY",
    )
    result = collect(rt, ical(), data=data, now=NOW)
    assert result.ok
    notes = {s.entry: s.reason for s in result.skipped}
    assert "more often than daily" in notes["series bomb"]
    assert "more often than daily" in notes["series minutes"]
    assert "3 occurrences a day" in notes["series hours"]
    assert result.created == 9  # the weekly series over 60 days
    with rt.session() as session:
        titles = {
            i.title
            for i in visible_items(session, rt.tree, DAIZAWA, datetime(2026, 12, 1, 12, tzinfo=JST))
        }
    assert titles == {"taisoの集まり"}


def test_a_daily_series_gives_at_most_max_occurrences(rt, tree):
    source = ical(max_occurrences=10, horizon_days=366)
    out = list(collector_for("ical").parse(source, calendar("daily FREQ=DAILY"), tree, NOW))
    assert len([o for o in out if isinstance(o, Entry)]) == 10
    assert any(isinstance(o, Skipped) and "more than 10 occurrences" in o.reason for o in out)


def test_a_run_stores_at_most_max_items_and_says_so(rt):
    data = calendar(*(f"s{i} FREQ=DAILY" for i in range(30)))
    result = collect(rt, ical(max_items=50), data=data, now=NOW)
    assert result.ok and result.created == 50
    assert any("more than 50 entries" in s.reason for s in result.skipped)


def test_a_run_that_reads_too_long_stops_and_keeps_what_it_read():
    ticks = iter(range(0, 1000, 10))  # each outcome "takes" ten seconds
    parsed = (Entry(f"e{i}", f"entry {i}", {}) for i in range(100))
    source = Source(name="slow", kind="rss", options={"max_seconds": 30})
    out = read_bounded(parsed, source, clock=lambda: next(ticks))
    assert len([o for o in out if isinstance(o, Entry)]) == 4  # read at 10, 20, 30, 40 s
    assert isinstance(out[-1], Skipped) and "over 30 s" in out[-1].reason


# -- whom the collector may fetch from -----------------------------------------------------------


def test_a_source_on_a_loopback_or_private_address_is_refused_unless_allowed(rt, upstream):
    url = upstream.serve_sample("ward_news.rss")
    refused = collect(rt, Source(name="inside", kind="rss", url=url), now=NOW)
    assert not refused.ok and "loopback, link-local or private" in refused.failure
    assert "allow_private_addresses" in refused.failure
    allowed = Source(name="inside", kind="rss", url=url, options={"allow_private_addresses": True})
    assert collect(rt, allowed, now=NOW).ok


def test_a_redirect_to_loopback_is_refused_even_from_a_public_host(rt, upstream):
    upstream.serve("/admin-only", b"<rss>internal</rss>")
    port = upstream.server.server_address[1]
    upstream.serve("/go", f"http://localhost:{port}/admin-only".encode(), status=302)

    def resolve(host: str) -> list[str]:  # 127.0.0.1 plays a public server here
        return ["93.184.216.34"] if host == "127.0.0.1" else resolve_host(host)

    http = Http(resolve=resolve)
    with pytest.raises(FetchError, match="localhost is at 127.0.0.1"):
        http.get(upstream.url("/go"))
    assert [p for p, _ in upstream.requests] == ["/go"]  # never reached /admin-only
    for address in ("169.254.169.254", "10.0.0.8", "192.168.1.1", "::1", "fd00::1", "0.0.0.0"):
        with pytest.raises(FetchError, match="private address"):
            refuse_non_public(f"http://{address}/", lambda host, a=address: [a])
