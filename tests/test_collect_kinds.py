"""Each source kind read from the sample files: what becomes an item, what is skipped, why."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from publisher.collect.base import Entry, Skipped, Source
from publisher.collect.cap import priority_of
from publisher.collect.cap_areas import map_areas, match_desc
from publisher.collect.registry import collector_for
from publisher.errors import PublisherError
from tests.collect_helpers import SAMPLES, sample
from tests.factories import DAIZAWA, JST, KITAZAWA, WARD


def parse(kind: str, name: str, tree, now, **source) -> list[Entry | Skipped]:
    src = Source(name="test", kind=kind, path=SAMPLES / name, **source)
    return list(collector_for(kind).parse(src, sample(name), tree, now))


def parse_bytes(kind: str, data: bytes, tree, now, **source) -> list[Entry | Skipped]:
    src = Source(name="test", kind=kind, path=Path("upload"), **source)
    return list(collector_for(kind).parse(src, data, tree, now))


def entries(out):
    return [o for o in out if isinstance(o, Entry)]


def skipped(out):
    return {o.entry: o.reason for o in out if isinstance(o, Skipped)}


# -- rss ------------------------------------------------------------------------------------------


def test_ward_news_rss_items_become_notices_shown_for_two_weeks(tree, now):
    out = parse("rss", "ward_news.rss", tree, now)
    first, second = entries(out)
    assert first.external_id == "setagaya-news-20261120-01"
    assert first.fields["title"] == {"ja": "年末年始の区役所窓口について"}
    assert first.fields["body"]["ja"] == (
        "12月29日から1月3日まで、区役所の窓口はお休みです。\n戸籍の届出は夜間窓口で受け付けます。"
    )
    assert first.fields["starts_at"] == datetime(2026, 11, 20, 9, 0, tzinfo=JST)
    assert first.fields["ends_at"] - first.fields["starts_at"] == timedelta(days=14)
    # no guid: the link is its id
    assert second.external_id == "https://www.city.setagaya.lg.jp/news/20261118-flu.html"
    assert skipped(out) == {"entry 3 (setagaya-news-untitled)": "title: the entry has no title"}


def test_atom_feed_entries_keep_their_ids_and_links(tree, now):
    first, second = entries(parse("rss", "ward_news.atom", tree, now, options={"keep_days": 3}))
    assert first.external_id == "tag:city.setagaya.lg.jp,2026:bousai/kunren-2026"
    assert first.fields["detail_url"] == "https://www.city.setagaya.lg.jp/bousai/kunren-2026.html"
    assert first.fields["body"]["ja"] == "12月6日（日）に区内各地で総合防災訓練を行います。"
    assert first.fields["ends_at"] - first.fields["starts_at"] == timedelta(days=3)
    assert second.fields["starts_at"] == datetime(2026, 11, 19, 9, 0, tzinfo=JST)


def test_an_english_feed_also_fills_the_japanese_title(tree, now):
    (first, _) = entries(parse("rss", "ward_news.atom", tree, now, language="en"))
    assert first.fields["title"]["en"] == first.fields["title"]["ja"]


def test_garbage_is_not_a_feed(tree, now):
    with pytest.raises(PublisherError, match="upload: not an RSS or Atom feed"):
        parse_bytes("rss", b"\x00\xffnot xml at all", tree, now)


# -- events-csv -----------------------------------------------------------------------------------


def test_cp932_event_list_imports_good_rows_and_names_bad_ones(tree, now):
    out = parse("events-csv", "events_cp932.csv", tree, now)
    assert [e.label for e in entries(out)] == ["row 2", "row 3", "row 6"]
    assert skipped(out) == {
        "row 4": "開始日: '2026-02-30' is not a date that exists",
        "row 5": "イベント名: is empty (a required column)",
    }
    festival = entries(out)[0]
    assert festival.external_id == "2026-0101"
    assert festival.fields["title"] == {
        "ja": "代沢ふれあい祭り",
        "en": "Daizawa Community Festival",
    }
    assert festival.fields["event"] == {
        "starts_at": datetime(2026, 12, 5, 10, 0, tzinfo=JST),
        "ends_at": datetime(2026, 12, 5, 15, 0, tzinfo=JST),
        "all_day": False,
    }
    assert festival.fields["ends_at"] == datetime(2026, 12, 5, 15, 0, tzinfo=JST)
    assert festival.fields["place"] == {
        "name": "代沢小学校 校庭",
        "address": "東京都世田谷区代沢3-15-1",
        "lat": 35.6587,
        "lon": 139.6702,
    }
    assert festival.fields["detail_url"].endswith("/daizawa-matsuri.html")
    assert "料金：無料" in festival.fields["body"]["ja"]
    assert "問合せ：代沢まちづくりセンター 03-3412-0431" in festival.fields["body"]["ja"]


def test_an_event_without_times_is_all_day_and_japanese_dates_are_read(tree, now):
    mochitsuki = entries(parse("events-csv", "events_cp932.csv", tree, now))[2]
    assert mochitsuki.fields["event"] == {
        "starts_at": datetime(2027, 1, 17, tzinfo=JST),
        "ends_at": datetime(2027, 1, 18, tzinfo=JST),
        "all_day": True,
    }


def test_utf8_with_bom_reads_the_same_as_cp932(tree, now):
    bom = entries(parse("events-csv", "events_utf8_bom.csv", tree, now))
    sjis = entries(parse("events-csv", "events_cp932.csv", tree, now))
    assert [e.fields for e in bom] == [sjis[0].fields, sjis[2].fields]


def test_events_that_are_over_are_not_imported(tree, now):
    out = parse("events-csv", "events_cp932.csv", tree, now + timedelta(days=20))
    assert skipped(out)["row 2"] == "終了日: the event ended on 2026-12-05"


def test_an_event_list_without_its_name_column_is_refused_whole(tree, now):
    with pytest.raises(PublisherError, match="row 1 has no column イベント名"):
        parse_bytes("events-csv", "NO,開始日\n1,2026-12-01\n".encode(), tree, now)


def test_a_row_without_a_name_hash_gives_a_stable_id(tree, now):
    data = "イベント名,開始日,場所名称\n落ち葉清掃,2026-12-01,代沢小\n".encode()
    (a,) = entries(parse_bytes("events-csv", data, tree, now))
    (b,) = entries(parse_bytes("events-csv", data, tree, now))
    assert a.external_id == b.external_id and a.external_id.startswith("h:")


def test_binary_that_is_no_known_encoding_is_refused(tree, now):
    with pytest.raises(PublisherError, match="neither UTF-8 nor Shift_JIS"):
        parse_bytes("events-csv", b"\x81\x20\x82\x0a\xff", tree, now)


# -- ical -----------------------------------------------------------------------------------------


def test_weekly_rrule_is_expanded_over_the_horizon_without_the_exdate(tree, now):
    out = parse("ical", "community_daizawa.ics", tree, now)
    taiso = [e for e in entries(out) if e.external_id.startswith("radio-taiso@")]
    days = [e.fields["event"]["starts_at"].date().isoformat() for e in taiso]
    assert days == [
        "2026-11-28",
        "2026-12-05",
        "2026-12-12",
        "2026-12-19",  # 12-26 is the EXDATE
        "2027-01-02",
        "2027-01-09",
        "2027-01-16",
    ]
    first = taiso[0]
    assert first.external_id == "radio-taiso@daizawa-chokai.example.jp@2026-11-28T07:00:00+09:00"
    assert first.fields["event"]["ends_at"] == datetime(2026, 11, 28, 7, 30, tzinfo=JST)
    assert first.fields["place"] == {"name": "代沢せせらぎ公園"}
    # shown two weeks ahead, until it ends
    assert first.fields["starts_at"] == datetime(2026, 11, 14, 7, 0, tzinfo=JST)


def test_all_day_events_and_cancelled_occurrences(tree, now):
    out = parse("ical", "community_daizawa.ics", tree, now)
    mochi = next(e for e in entries(out) if e.external_id.startswith("mochitsuki"))
    assert mochi.external_id == "mochitsuki-2026@daizawa-chokai.example.jp@2026-12-13"
    assert mochi.fields["event"]["all_day"] is True
    assert mochi.fields["event"]["ends_at"] == datetime(2026, 12, 14, tzinfo=JST)
    assert list(skipped(out).values()) == ["STATUS: the occurrence is cancelled"]


def test_a_shorter_horizon_expands_fewer_occurrences(tree, now):
    out = parse("ical", "community_daizawa.ics", tree, now, options={"horizon_days": 14})
    assert len([e for e in entries(out) if e.external_id.startswith("radio")]) == 2


def test_a_bad_option_names_its_key(tree, now):
    with pytest.raises(PublisherError, match="sources.test.options.horizon_days"):
        parse("ical", "community_daizawa.ics", tree, now, options={"horizon_days": "soon"})


def test_garbage_is_not_a_calendar(tree, now):
    with pytest.raises(PublisherError, match="not an iCalendar file"):
        parse_bytes("ical", b"BEGIN:VCALENDAR\nthis is not\n", tree, now)


# -- cap ------------------------------------------------------------------------------------------


def test_cap_drill_for_daizawa_is_a_marked_high_priority_alert(tree, now):
    (entry,) = parse("cap", "cap_drill_daizawa_alert.xml", tree, now)
    assert entry.external_id == "setagaya-bousai-20261122-001"
    assert entry.fields["targets"] == [DAIZAWA]
    assert entry.fields["drill"] is True and entry.fields["category"] == "drill"
    assert entry.fields["priority"] == "high"
    assert entry.fields["title"]["ja"] == "代沢小学校で避難所を開設しました（訓練）"
    assert entry.fields["body"]["ja"].endswith("動きやすい服装で代沢小学校へお越しください。")
    assert entry.fields["ends_at"] == datetime(2026, 11, 22, 15, 0, tzinfo=JST)
    assert entry.alert.cap_status == "Exercise" and entry.alert.warning_level == 3
    assert entry.alert.needs_review is False


def test_cap_emergency_for_the_whole_ward_by_geocode_in_four_languages(tree, now):
    (entry,) = parse("cap", "cap_ward_emergency.xml", tree, now)
    assert entry.fields["targets"] == [WARD]
    assert entry.fields["priority"] == "emergency"
    assert set(entry.fields["title"]) == {"ja", "en", "zh-Hans", "ko"}
    assert entry.alert.warning_level == 4  # from 警戒レベル４ (full-width digit)
    assert entry.fields["drill"] is False


def test_cap_update_and_cancel_name_what_they_replace(tree, now):
    (update,) = parse("cap", "cap_drill_daizawa_update.xml", tree, now)
    assert update.references == (("bousai@city.setagaya.lg.jp", "setagaya-bousai-20261122-001"),)
    (cancel,) = parse("cap", "cap_drill_daizawa_cancel.xml", tree, now)
    assert cancel.cancel and len(cancel.references) == 2


@pytest.mark.parametrize("name", ["cap_xxe.xml", "cap_billion_laughs.xml"])
def test_cap_with_a_dtd_or_entities_is_refused_with_a_clear_message(tree, now, name):
    with pytest.raises(PublisherError, match=r"refused: the message declares a DTD"):
        parse("cap", name, tree, now)


def test_cap_missing_a_required_element_names_it(tree, now):
    data = sample("cap_ward_emergency.xml").replace(b"<scope>Public</scope>", b"")
    with pytest.raises(
        PublisherError, match=r"alert setagaya-bousai-20261122-101 from bousai@\S+: <scope> is"
    ):
        parse_bytes("cap", data, tree, now)


def test_cap_time_without_an_offset_is_refused(tree, now):
    data = sample("cap_ward_emergency.xml").replace(
        b"2026-11-22T09:55:00+09:00", b"2026-11-22T09:55:00"
    )
    with pytest.raises(PublisherError, match="<sent> .* is not a CAP time"):
        parse_bytes("cap", data, tree, now)


def test_a_document_that_is_not_cap_says_what_it_is(tree, now):
    with pytest.raises(PublisherError, match="root is <rss>"):
        parse("cap", "ward_news.rss", tree, now)


@pytest.mark.parametrize(
    ("desc", "codes"),
    [
        ("代沢地区", [DAIZAWA]),
        ("代沢", [DAIZAWA]),
        ("世田谷区代沢五丁目", [DAIZAWA]),
        ("北沢地域", [KITAZAWA]),
        ("北沢総合支所管内", [KITAZAWA]),
        ("北沢地区", ["setagaya/kitazawa/kitazawa"]),
        ("上北沢地区", ["setagaya/karasuyama/kamikitazawa"]),
        ("世田谷区", [WARD]),
        ("代沢地区、梅丘地区", [DAIZAWA, "setagaya/kitazawa/umegaoka"]),
        ("二子玉川まちづくりセンター", ["setagaya/tamagawa/futakotamagawa"]),
        ("多摩川河川敷", []),
    ],
)
def test_area_descriptions_map_to_area_codes(tree, desc, codes):
    assert match_desc(tree, desc) == codes


def test_areas_outside_the_ward_match_nothing_and_the_ward_code_matches_the_ward(tree):
    assert map_areas(tree, [("多摩川河川敷", [])]) == ()
    assert map_areas(tree, [("どこか", ["131121"])]) == (WARD,)
    assert map_areas(tree, [("どこか", ["13112"])]) == (WARD,)
    assert map_areas(tree, [("Los Angeles County", ["006037"])]) == ()
    assert map_areas(tree, [("北沢地域", []), ("代沢地区", [])]) == (KITAZAWA,)


@pytest.mark.parametrize(
    ("severity", "urgency", "priority"),
    [
        ("Extreme", "Immediate", "emergency"),
        ("Severe", "Immediate", "emergency"),
        ("Extreme", "Expected", "high"),
        ("Moderate", "Immediate", "high"),
        ("Minor", "Immediate", "normal"),
        ("Unknown", "Unknown", "normal"),
    ],
)
def test_severity_and_urgency_set_the_priority(severity, urgency, priority):
    assert priority_of(severity, urgency) == priority
