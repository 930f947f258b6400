"""Validating what staff, machines and importers submit: one clear error per mistake."""

import pytest

from publisher.errors import PublisherError
from publisher.item_input import parse_item
from tests.factories import api_item


def test_a_complete_item_is_accepted(tree):
    item = parse_item(api_item(), tree)
    assert item.title == "代沢地区 落ち葉清掃のお知らせ"
    assert item.text("en").title == "Fallen-leaf clean-up in Daizawa"
    assert item.text("ko").title == item.title  # falls back to Japanese
    assert item.starts_at.utcoffset().total_seconds() == 9 * 3600


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"title": {"en": "No Japanese"}}, "title.ja", "Japanese title is required"),
        ({"title": {"ja": "  "}}, "title.ja", "Japanese title is required"),
        ({"ends_at": "2026-11-01T00:00:00+09:00"}, "ends_at", "ends before it starts"),
        (
            {"targets": ["setagaya/kitazawa/daizawo"]},
            "targets",
            "did you mean 'setagaya/kitazawa/daizawa'",
        ),
        ({"targets": []}, "targets", "at least one target"),
        ({"kind": "news"}, "kind", "not one of notice, event, alert"),
        ({"starts_at": "next tuesday"}, "starts_at", "not a date-time"),
        ({"priority": "emergency"}, "priority", "only an alert"),
        ({"kind": "event"}, "event.starts_at", "an event needs"),
        ({"title": {"ja": "x", "fr": "y"}}, "title.fr", "unknown language"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"dayparts": ["7am-10am"]}, "dayparts[0]", "time range"),
        ({"place": {"name": "公園", "lat": 300}}, "place.lat", "between"),
    ],
)
def test_bad_input_names_the_field_and_the_reason(tree, changes, field, words):
    with pytest.raises(PublisherError) as e:
        parse_item(api_item(**changes), tree)
    assert e.value.field == field
    assert words in str(e.value)


def test_naive_times_are_the_wards_local_time(tree):
    item = parse_item(api_item(starts_at="2026-12-01T09:00"), tree)
    assert item.starts_at.isoformat() == "2026-12-01T09:00:00+09:00"


def test_dayparts_may_run_across_midnight(tree):
    item = parse_item(
        api_item(
            dayparts=["22:00-02:00", {"start": "07:00", "end": "09:00", "weekdays": ["mon", "fri"]}]
        ),
        tree,
    )
    assert [d.as_json()["start"] for d in item.dayparts] == ["22:00", "07:00"]
    assert item.dayparts[1].weekdays == {0, 4}


def test_a_staff_drill_alert_is_a_cap_exercise(tree):
    item = parse_item(api_item(kind="alert", drill=True, priority="high", warning_level=3), tree)
    assert item.alert.cap_status == "Exercise"
    assert item.alert.warning_level == 3
    real = parse_item(api_item(kind="alert", priority="emergency"), tree)
    assert real.alert.cap_status == "Actual" and real.is_emergency


def test_a_partial_update_keeps_what_it_does_not_mention(tree):
    item = parse_item(api_item(), tree)
    changed = parse_item({"title": {"ja": "新しい題名"}}, tree, base=item)
    assert changed.title == "新しい題名"
    assert changed.targets == item.targets and changed.ends_at == item.ends_at
