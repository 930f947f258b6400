"""Planning with plain values: what a lobby screen shows when (no database, no clock)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from publisher.areas import Screen
from publisher.items import AlertInfo, Daypart, Translation
from publisher.plan.screens import (
    SLIDE_MIN_DURATION_S,
    items_for_area,
    playlist,
    reading_time_s,
)
from tests.factories import DAIZAWA, JST, KITAZAWA, SEIJO, UMEGAOKA, WARD, make_item

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=JST)  # a Sunday
DAIZAWA_SCREEN = Screen("daizawa-1", DAIZAWA, 1920, 1080, "代沢まちづくりセンター 1階", ("ja",))


def ids(plan) -> list[int]:  # type: ignore[no-untyped-def]
    return [e.item_id for e in plan.entries]


def alert(item_id: int, *, emergency: bool = True, drill: bool = False, **kw):  # type: ignore[no-untyped-def]
    return make_item(
        "【緊急】代沢地区に避難指示（警戒レベル4）",
        id=item_id,
        kind="alert",
        priority="emergency" if emergency else "high",
        drill=drill,
        alert=AlertInfo(cap_status="Exercise" if drill else "Actual", warning_level=4),
        **kw,
    )


def test_district_screen_shows_its_district_region_and_ward_items_only(tree):
    items = [
        make_item(id=1, targets=(DAIZAWA,)),
        make_item(id=2, targets=(KITAZAWA,)),
        make_item(id=3, targets=(WARD,)),
        make_item(id=4, targets=(UMEGAOKA,)),
        make_item(id=5, targets=(SEIJO,)),
    ]
    plan, _ = playlist(DAIZAWA_SCREEN, items, NOW, tree)
    assert sorted(ids(plan)) == [1, 2, 3]
    assert {e.issuer for e in plan.entries} == {DAIZAWA, KITAZAWA, WARD}


def test_drafts_and_items_outside_their_window_are_not_shown(tree):
    items = [
        make_item(id=1, status="draft"),
        make_item(id=2, starts_at=NOW + timedelta(hours=1)),
        make_item(id=3, ends_at=NOW),
        make_item(id=4),
    ]
    plan, next_change = playlist(DAIZAWA_SCREEN, items, NOW, tree)
    assert ids(plan) == [4]
    assert next_change == NOW + timedelta(hours=1)


def test_evening_daypart_runs_across_midnight(tree):
    night = make_item(id=1, dayparts=(Daypart(time(22, 0), time(2, 0)),))
    at_23 = NOW.replace(hour=23)
    at_01 = NOW.replace(hour=1) + timedelta(days=1)
    at_03 = at_01.replace(hour=3)
    assert ids(playlist(DAIZAWA_SCREEN, [night], at_23, tree)[0]) == [1]
    assert ids(playlist(DAIZAWA_SCREEN, [night], at_01, tree)[0]) == [1]
    assert ids(playlist(DAIZAWA_SCREEN, [night], at_03, tree)[0]) == []
    _, next_change = playlist(DAIZAWA_SCREEN, [night], NOW, tree)
    assert next_change == NOW.replace(hour=22)


def test_weekday_daypart_shows_only_on_its_days(tree):
    # Monday to Friday mornings: the Sunday screen shows nothing until Monday 07:00.
    weekday_mornings = make_item(
        id=1, dayparts=(Daypart(time(7, 0), time(10, 0), frozenset(range(5))),)
    )
    sunday_8 = NOW.replace(hour=8)
    monday_8 = sunday_8 + timedelta(days=1)
    assert ids(playlist(DAIZAWA_SCREEN, [weekday_mornings], sunday_8, tree)[0]) == []
    plan, next_change = playlist(DAIZAWA_SCREEN, [weekday_mornings], monday_8, tree)
    assert ids(plan) == [1]
    assert next_change == monday_8.replace(hour=10)
    _, from_sunday = playlist(DAIZAWA_SCREEN, [weekday_mornings], sunday_8, tree)
    assert from_sunday == monday_8.replace(hour=7)


def test_friday_night_daypart_reaches_into_saturday_morning(tree):
    friday_night = make_item(id=1, dayparts=(Daypart(time(22, 0), time(2, 0), frozenset({4})),))
    saturday_1am = datetime(2026, 11, 28, 1, 0, tzinfo=JST)
    sunday_1am = saturday_1am + timedelta(days=1)
    assert ids(playlist(DAIZAWA_SCREEN, [friday_night], saturday_1am, tree)[0]) == [1]
    assert ids(playlist(DAIZAWA_SCREEN, [friday_night], sunday_1am, tree)[0]) == []


def test_emergency_replaces_the_playlist_until_it_ends_then_the_normal_one_returns(tree):
    notices = [make_item(id=1), make_item(id=2, targets=(WARD,))]
    emergency = alert(9, targets=(KITAZAWA,), ends_at=NOW + timedelta(minutes=30))
    plan, next_change = playlist(DAIZAWA_SCREEN, [*notices, emergency], NOW, tree)
    assert plan.override is True
    assert ids(plan) == [9]
    assert next_change == emergency.ends_at
    after, _ = playlist(DAIZAWA_SCREEN, [*notices, emergency], next_change, tree)
    assert after.override is False
    assert sorted(ids(after)) == [1, 2]


def test_emergency_for_another_region_does_not_touch_this_screen(tree):
    plan, _ = playlist(DAIZAWA_SCREEN, [make_item(id=1), alert(9, targets=(SEIJO,))], NOW, tree)
    assert plan.override is False
    assert ids(plan) == [1]


def test_next_change_skips_boundaries_hidden_by_an_emergency(tree):
    later_notice = make_item(id=1, starts_at=NOW + timedelta(minutes=5))
    emergency = alert(9, ends_at=NOW + timedelta(minutes=30))
    _, next_change = playlist(DAIZAWA_SCREEN, [later_notice, emergency], NOW, tree)
    assert next_change == emergency.ends_at


def test_order_alerts_then_drills_then_high_then_events_by_date_then_newest_notices(tree):
    items = [
        make_item(id=1, starts_at=NOW - timedelta(days=3)),
        make_item(id=2, starts_at=NOW - timedelta(days=1)),
        make_item(
            id=3, kind="event", event_starts_at=NOW + timedelta(days=9), category="community"
        ),
        make_item(id=4, kind="event", event_starts_at=NOW + timedelta(days=2)),
        make_item(id=5, priority="high"),
        alert(6, emergency=False, drill=True),
        alert(7, emergency=False),
    ]
    plan, _ = playlist(DAIZAWA_SCREEN, items, NOW, tree)
    assert ids(plan) == [7, 6, 5, 4, 3, 2, 1]
    assert [e.role for e in plan.entries] == [
        "alert",
        "drill",
        "high",
        "event",
        "event",
        "notice",
        "notice",
    ]
    assert plan.entries[1].drill is True
    assert plan.entries[0].drill is False


def test_a_drill_emergency_still_switches_the_screens_and_is_marked(tree):
    plan, _ = playlist(DAIZAWA_SCREEN, [make_item(id=1), alert(9, drill=True)], NOW, tree)
    assert plan.override is True
    assert [(e.item_id, e.drill) for e in plan.entries] == [(9, True)]


def test_same_input_same_playlist_and_version_whatever_the_order(tree):
    items = [make_item(id=i, starts_at=NOW - timedelta(hours=i)) for i in range(1, 6)]
    a, na = playlist(DAIZAWA_SCREEN, items, NOW, tree)
    b, nb = playlist(DAIZAWA_SCREEN, list(reversed(items)), NOW, tree)
    assert a == b
    assert a.version == b.version
    assert na == nb


def test_version_changes_when_an_item_is_edited(tree):
    a, _ = playlist(DAIZAWA_SCREEN, [make_item(id=1)], NOW, tree)
    b, _ = playlist(DAIZAWA_SCREEN, [make_item("代沢まつり 中止のお知らせ", id=1)], NOW, tree)
    assert a.version != b.version


def test_each_item_rotates_through_the_screen_languages_it_has(tree):
    screen = Screen("honcho-1", WARD, 1920, 1080, "区民ロビー", ("ja", "en", "ko"))
    bilingual = make_item(
        id=1,
        targets=(WARD,),
        translations=(
            Translation("ja", "年末年始のごみ収集"),
            Translation("en", "Garbage collection over the New Year"),
            Translation("zh-Hans", "年末年初垃圾收集"),
        ),
    )
    japanese_only = make_item(id=2, targets=(WARD,), starts_at=NOW - timedelta(days=5))
    plan, _ = playlist(screen, [bilingual, japanese_only], NOW, tree)
    assert [(e.item_id, e.lang) for e in plan.entries] == [(1, "ja"), (1, "en"), (2, "ja")]


def test_an_english_only_screen_still_shows_japanese_only_items(tree):
    screen = Screen("x", DAIZAWA, 1920, 1080, "", ("en",))
    plan, _ = playlist(screen, [make_item(id=1)], NOW, tree)
    assert [(e.item_id, e.lang) for e in plan.entries] == [(1, "ja")]


@pytest.mark.parametrize(
    ("title", "body", "lang", "expected"),
    [
        ("休館", "", "ja", SLIDE_MIN_DURATION_S),
        ("お知らせ", "あ" * 70, "ja", 13),
        ("お知らせ", "あ" * 2000, "ja", 34),  # one slide holds ~220 characters: 2 + 220 / 7
        ("Notice", "word " * 20, "en", 11),  # 21 words at 2.5 a second, rounded up
    ],
)
def test_slides_stay_up_long_enough_to_read(title, body, lang, expected):
    item = make_item(translations=(Translation("ja", title, body), Translation("en", title, body)))
    assert reading_time_s(item, lang) == expected


def test_feed_membership_is_the_same_inheritance(tree):
    items = [make_item(id=1, targets=(WARD,)), make_item(id=2, targets=(SEIJO,))]
    assert [i.id for i in items_for_area(items, DAIZAWA, NOW, tree)] == [1]
    assert [i.id for i in items_for_area(items, SEIJO, NOW, tree)] == [1, 2]
