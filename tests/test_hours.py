"""Operating hours: when a lobby screen is meant to be on, and the errors staff see in displays/."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from publisher.areas import load_tree
from publisher.config import REPO_DIR
from publisher.errors import ConfigError
from publisher.hours import ALWAYS, read_hours
from publisher.items import JST

HERE = Path("displays/ward.toml")
# A district center's lobby: weekdays, a Saturday morning, closed over the new year.
CENTER = read_hours(
    HERE,
    "ward",
    {"hours": ["mon-fri 08:30-17:15", "sat 08:30-12:00"], "closed": ["12-29..01-03"]},
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


def test_a_weekday_counts_only_the_opening_hours():
    assert CENTER.minutes_on(date(2026, 11, 20)) == 8 * 60 + 45  # Friday 08:30–17:15
    assert not CENTER.is_on(at("2026-11-20T08:29:59"))
    assert CENTER.is_on(at("2026-11-20T08:30"))
    assert CENTER.is_on(at("2026-11-20T17:14:59"))
    assert not CENTER.is_on(at("2026-11-20T17:15"))


def test_a_saturday_is_a_half_day_and_a_sunday_is_closed():
    assert CENTER.minutes_on(date(2026, 11, 21)) == 3 * 60 + 30
    assert CENTER.on_within(at("2026-11-21T00:00"), at("2026-11-22T00:00")) == [
        (at("2026-11-21T08:30"), at("2026-11-21T12:00"))
    ]
    assert CENTER.minutes_on(date(2026, 11, 22)) == 0
    assert not CENTER.is_on(at("2026-11-22T10:00"))


def test_the_new_year_closure_crosses_the_year_end():
    for day in (date(2026, 12, 29), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 3)):
        assert CENTER.minutes_on(day) == 0, day
    assert CENTER.minutes_on(date(2026, 12, 28)) == 525  # Monday before
    assert CENTER.minutes_on(date(2027, 1, 4)) == 525  # Monday after
    assert not CENTER.is_on(at("2026-12-29T10:00"))  # a Tuesday, but closed


def test_the_day_is_tokyos_not_utcs():
    # 2026-11-20 23:30 UTC is Saturday 08:30 in Tokyo (no daylight saving there)
    saturday_open = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert CENTER.is_on(saturday_open)
    assert not CENTER.is_on(saturday_open - timedelta(seconds=1))
    # Monday 00:00 Tokyo is still Sunday in UTC: a Monday-only all-day range is on
    monday = read_hours(HERE, "ward", {"hours": "mon 00:00-24:00"})
    assert monday.is_on(datetime(2026, 11, 22, 15, 0, tzinfo=UTC))
    assert not monday.is_on(datetime(2026, 11, 22, 14, 59, tzinfo=UTC))
    assert monday.is_on(at("2026-11-23T23:59:59"))
    assert not monday.is_on(at("2026-11-24T00:00"))


def test_spans_across_midnight_and_overlaps_join_up():
    night = read_hours(
        HERE, "ward", {"hours": ["fri 20:00-24:00", "sat 00:00-02:00", "fri 19:00-21:00"]}
    )
    assert night.on_within(at("2026-11-20T00:00"), at("2026-11-22T00:00")) == [
        (at("2026-11-20T19:00"), at("2026-11-21T02:00"))
    ]
    assert night.seconds_on(at("2026-11-20T23:00"), at("2026-11-21T01:00")) == 7200


def test_saying_nothing_means_always_on():
    assert ALWAYS.always
    assert read_hours(HERE, "ward", {}) == ALWAYS
    assert ALWAYS.minutes_on(date(2027, 1, 1)) == 1440
    assert ALWAYS.seconds_on(at("2026-11-22T00:00"), at("2026-11-23T00:00")) == 86400
    assert read_hours(HERE, "x", {"hours": "always"}) == ALWAYS


def test_a_screen_inherits_the_wards_hours_and_may_say_its_own(tmp_path):
    text = (REPO_DIR / "displays" / "setagaya.toml").read_text(encoding="utf-8")
    text = text.replace(
        '[ward]\ncode = "setagaya"\n',
        '[ward]\ncode = "setagaya"\nhours = "mon-fri 08:30-17:15"\nclosed = ["12-29..01-03"]\n',
    )
    text = text.replace(
        'id = "honcho-1"\n', 'id = "honcho-1"\nhours = "always"\nclosed = []\n'
    ).replace(
        'id = "seijo-1"\n', 'id = "seijo-1"\nhours = ["mon-fri 08:30-17:15", "sat 08:30-12:00"]\n'
    )
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    tree = load_tree(tmp_path)
    assert tree.screens["honcho-1"].hours == ALWAYS
    assert tree.screens["daizawa-1"].hours.minutes_on(date(2026, 11, 21)) == 0  # Saturday
    assert tree.screens["daizawa-1"].hours.minutes_on(date(2026, 11, 20)) == 525
    seijo = tree.screens["seijo-1"].hours
    assert seijo.minutes_on(date(2026, 11, 21)) == 210
    assert seijo.minutes_on(date(2026, 12, 30)) == 0  # the ward's closed days


@pytest.mark.parametrize(
    "line, message",
    [
        (
            'hours = "mon-fri 8:30-17:15"',
            "screen 'daizawa-1'.hours: \"mon-fri 8:30-17:15\" must look",
        ),
        ('hours = "mon-fir 08:30-17:15"', "unknown day 'fir' (did you mean 'fri'?)"),
        ('hours = "mon-fri 17:15-08:30"', "ends before it starts"),
        ('hours = "mon-fri 08:30-24:30"', "not HH:MM (00:00–24:00)"),
        ('hours = "mon-fri 08:75-17:15"', "not HH:MM"),
        ("hours = []", "must be a string like"),
        ("hours = 830", "must be a string like"),
        ('closed = "12-29..01-03"', "closed must be a list"),
        ('closed = ["02-30"]', '"02-30" must be a month-day'),
        ('closed = ["12/29..01/03"]', "must be a month-day"),
        ('hour = "mon-fri 08:30-17:15"', "unknown key(s) hour"),
    ],
)
def test_a_mistake_in_hours_names_the_file_the_screen_and_the_fix(tmp_path, line, message):
    text = (REPO_DIR / "displays" / "setagaya.toml").read_text(encoding="utf-8")
    text = text.replace('id = "daizawa-1"\n', f'id = "daizawa-1"\n{line}\n')
    (tmp_path / "ward.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_tree(tmp_path)
    assert message in str(e.value)
    assert "ward.toml" in str(e.value)
