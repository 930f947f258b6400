"""Imported text reads as text: HTML in a Google Calendar description, an event CSV without a
場所名称, a fee of 0 — on slides, in feeds and on pages alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.collect.base import Entry, Source
from publisher.collect.html_text import html_to_text
from publisher.collect.registry import collector_for
from publisher.items import Translation
from publisher.plan.residents import FeedSpec
from publisher.render.feeds import render_feed
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import parse

# As Google Calendar exports an event whose description was written with its editor.
GOOGLE_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
BEGIN:VEVENT
UID:abc123@google.com
DTSTART:20261205T010000Z
DTEND:20261205T030000Z
SUMMARY:代沢 落ち葉清掃
LOCATION:代沢小学校\\, 東京都世田谷区代沢3-15-1
DESCRIPTION:<p>落ち葉清掃を行います。<br>軍手をお持ちください。</p><ul><li>集合：正門前
 </li><li>雨天中止</li></ul><p>詳しくは<a href="https://www.city.setagaya.lg.jp/leaves.
 html">区のお知らせ</a>をご覧ください。&nbsp;参加は<b>無料</b>です。</p>
END:VEVENT
END:VCALENDAR
"""

CSV_HEADER = "NO,イベント名,イベント名_英語,開始日,開始時間,終了時間,説明,料金(基本),連絡先名称,場所名称,住所,URL"


def _parse(kind: str, data: bytes, tree, now) -> list[Entry]:  # type: ignore[no-untyped-def]
    src = Source(name="test", kind=kind, path=Path("upload"))
    return [e for e in collector_for(kind).parse(src, data, tree, now) if isinstance(e, Entry)]


def test_google_calendar_html_becomes_paragraphs_with_the_link_as_detail(tree, now):
    (entry,) = _parse("ical", GOOGLE_ICS.replace("\n", "\r\n").encode(), tree, now)
    body = entry.fields["body"]["ja"]
    assert body == (
        "落ち葉清掃を行います。\n軍手をお持ちください。\n・集合：正門前\n・雨天中止\n"
        "詳しくは区のお知らせをご覧ください。 参加は無料です。"
    )
    assert "<" not in body and "&" not in body
    # the event had no URL: its link is the detail link (shown once, not inline)
    assert entry.fields["detail_url"] == "https://www.city.setagaya.lg.jp/leaves.html"
    # and the feed carries text, not escaped tags a validator flags
    item = make_item(
        "代沢 落ち葉清掃", translations=(Translation("ja", "代沢 落ち葉清掃", body),), id=1
    )
    feed = render_feed([item], FeedSpec(_area(tree)), "https://signage.example.jp", "rss")
    entries = parse(feed).entries
    assert "&lt;" not in feed.decode() and "<p>" not in entries[0].summary


def _area(tree):  # type: ignore[no-untyped-def]
    return tree.get(DAIZAWA)


@pytest.mark.parametrize(
    ("html", "text", "links"),
    [
        ("3 < 5 and 6 > 2", "3 < 5 and 6 > 2", []),
        ("A &amp; B", "A & B", []),
        ("<p>a</p><p>b</p>", "a\nb", []),
        (
            'Map: <a href="https://maps.example/x">here</a>',
            "Map: here (https://maps.example/x)",
            ["https://maps.example/x"],
        ),
        (
            '<a href="https://a.example/">https://a.example</a>',
            "https://a.example",
            ["https://a.example/"],
        ),
        ('<a href="javascript:alert(1)">click</a>', "click", []),
        ("<style>p{}</style><script>alert(1)</script>text", "text", []),
        ("<b>unclosed <i>tags", "unclosed tags", []),
    ],
)
def test_html_descriptions_become_text(html, text, links):
    plain = html_to_text(html)
    assert (plain.text, plain.links) == (text, links)


def _csv(*rows: str) -> bytes:
    return ("\n".join([CSV_HEADER, *rows]) + "\n").encode()


def test_an_event_without_a_place_name_is_placed_at_its_address(tree, now):
    (entry,) = _parse(
        "events-csv",
        _csv("1,防災講座,,2026-12-05,10:00,12:00,説明,,,,東京都世田谷区代沢3-15-1,"),
        tree,
        now,
    )
    assert entry.fields["place"]["name"] == "東京都世田谷区代沢3-15-1"
    assert entry.fields["place"]["address"] == ""


@pytest.mark.parametrize("fee", ["0", "０", "0円", "￥0", "無料"])
def test_a_fee_of_nothing_reads_free_in_japanese_and_english(tree, now, fee):
    (entry,) = _parse(
        "events-csv",
        _csv(
            f"1,餅つき大会,Rice-cake pounding,2026-12-05,10:00,12:00,説明,{fee},代沢まちづくりセンター,神社,,"
        ),
        tree,
        now,
    )
    assert entry.fields["body"]["ja"] == "説明\n料金：無料\n問合せ：代沢まちづくりセンター"
    assert entry.fields["body"]["en"] == "Fee: free\nContact: 代沢まちづくりセンター"
    assert "料金：0" not in entry.fields["body"]["ja"]


def test_a_real_fee_is_kept_as_written(tree, now):
    (entry,) = _parse(
        "events-csv",
        _csv("1,餅つき大会,,2026-12-05,10:00,12:00,<p>説明</p>,100円,,神社,,"),
        tree,
        now,
    )
    assert entry.fields["body"] == {"ja": "説明\n料金：100円"}
