"""Proof of play: a screen's reports are taken in once each, checked, folded per day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from publisher.hours import ALWAYS, read_hours
from publisher.items import JST
from publisher.store import reports
from publisher.store.models import HeartbeatRow, PlayDailyRow, PlayRow
from publisher.store.plays import fold, prune
from publisher.store.report_view import build
from tests.factories import SEIJO, make_item, player_token
from tests.residents_helpers import frozen, store


def _play(seq: int, item_id: int, start: datetime, seconds: float = 10, lang: str = "ja") -> dict:
    return {
        "seq": seq,
        "item_id": item_id,
        "revision": 1,
        "lang": lang,
        "start": start.isoformat(),
        "seconds": seconds,
    }


def _post(client: Any, token: str, plays: list[dict], screen: str = "daizawa-1") -> Any:
    return client.post(
        f"/api/screens/{screen}/plays", json={"plays": plays}, headers={"X-Screen-Token": token}
    )


def test_a_batch_sent_twice_is_counted_once(rt, app, now):
    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    token = player_token(rt)
    batch = [_play(i, item.id, now - timedelta(seconds=10 * (5 - i))) for i in range(5)]
    first = _post(client, token, batch)
    assert first.status_code == 200 and first.get_json()["stored"] == 5
    again = _post(client, token, batch[2:] + [_play(5, item.id, now)])
    assert again.get_json() == {"stored": 1, "duplicate": 3, "rejected": []}
    with rt.session() as session:
        rows = reports.plays(session, ["daizawa-1"], "2026-11-22", "2026-11-22")
    assert rows == [
        {
            "day": "2026-11-22",
            "screen": "daizawa-1",
            "item_id": item.id,
            "lang": "ja",
            "estimated": False,
            "plays": 6,
            "seconds": 60.0,
        }
    ]


def test_plays_of_items_the_screen_does_not_show_are_refused_with_the_reason(rt, app, now):
    seijo_only, ours = store(rt, make_item(targets=(SEIJO,)), make_item())
    client = frozen(app, now).test_client()
    token = player_token(rt)
    answer = _post(
        client,
        token,
        [
            _play(1, seijo_only.id, now),
            _play(2, ours.id, now + timedelta(hours=1)),
            _play(3, ours.id, now - timedelta(days=400)),
            _play(4, ours.id, now),
        ],
    ).get_json()
    assert answer["stored"] == 1
    assert [r["seq"] for r in answer["rejected"]] == [1, 2, 3]
    assert "not shown on this screen" in answer["rejected"][0]["why"]


def test_bad_batches_get_a_clear_400_and_a_wrong_token_403(rt, app, now):
    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    token = player_token(rt)
    cases = [
        ({"plays": "x"}, "plays"),
        ({"plays": [_play(1, item.id, now) | {"lang": "xx"}]}, "plays[0].lang"),
        ({"plays": [_play(1, item.id, now) | {"start": "yesterday"}]}, "plays[0].start"),
        ({"plays": [_play(1, item.id, now) | {"seconds": -1}]}, "plays[0].seconds"),
        ({"plays": [_play(1, item.id, now) | {"seq": "1"}]}, "plays[0].seq"),
    ]
    for body, field in cases:
        resp = client.post(
            "/api/screens/daizawa-1/plays", json=body, headers={"X-Screen-Token": token}
        )
        assert resp.status_code == 400, body
        assert resp.get_json()["field"] == field
    wrong = client.post(
        "/api/screens/daizawa-1/plays", json={"plays": []}, headers={"X-Screen-Token": "no"}
    )
    assert wrong.status_code == 403


def test_folding_moves_ended_days_into_daily_sums_once_and_reports_stay_the_same(rt, app, now):
    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    token = player_token(rt)
    yesterday = now - timedelta(days=1)
    _post(
        client, token, [_play(i, item.id, yesterday + timedelta(seconds=10 * i)) for i in range(3)]
    )
    _post(client, token, [_play(10, item.id, now, 12.5, "en")])
    with rt.session() as session:
        before = reports.plays(session, ["daizawa-1"], "2026-11-01", "2026-11-30")
    with rt.session() as session:
        assert fold(session, now) == 4
    with rt.session() as session:
        assert fold(session, now) == 0
        assert session.scalar(select(func.count()).select_from(PlayDailyRow)) == 2
        assert reports.plays(session, ["daizawa-1"], "2026-11-01", "2026-11-30") == before
    # a late batch for yesterday (the screen was offline) still counts, once
    _post(client, token, [_play(3, item.id, yesterday + timedelta(minutes=5))])
    with rt.session() as session:
        fold(session, now)
    with rt.session() as session:
        (day,) = [
            r
            for r in reports.plays(session, ["daizawa-1"], "2026-11-01", "2026-11-30")
            if r["day"] == "2026-11-21"
        ]
        assert (day["plays"], day["seconds"]) == (4, 40.0)
    # raw plays go after PLAYS_KEEP_DAYS; the sums stay
    with rt.session() as session:
        assert prune(session, now + timedelta(days=200), 90) == 5
    with rt.session() as session:
        assert session.scalar(select(func.count()).select_from(PlayRow)) == 0
        days = {r["day"] for r in reports.plays(session, ["daizawa-1"], "2026-11-01", "2026-11-30")}
        assert days == {"2026-11-21", "2026-11-22"}


def test_uptime_counts_minutes_with_a_heartbeat(rt, now):
    with rt.session() as session:
        start = now.replace(hour=9, minute=0)
        for i in range(60):  # 09:00–09:30 every 30 s: 30 minutes
            session.add(HeartbeatRow(screen_id="daizawa-1", at=start + timedelta(seconds=30 * i)))
        session.add(HeartbeatRow(screen_id="daizawa-1", at=start - timedelta(days=1)))
    with rt.session() as session:
        rows = reports.uptime(session, ["daizawa-1"], "2026-11-21", "2026-11-22", now)
    assert [(r["day"], r["minutes_online"]) for r in rows] == [
        ("2026-11-21", 1),
        ("2026-11-22", 30),
    ]
    assert rows[0]["share"] == round(1 / 1440, 4)
    with rt.session() as session:
        fold(session, now)
    with rt.session() as session:
        again = reports.uptime(session, ["daizawa-1"], "2026-11-21", "2026-11-22", now)
    assert again == rows


def test_report_command_lists_plays_as_json_and_csv_and_says_what_is_wrong(
    rt, app, now, monkeypatch
):
    from click.testing import CliRunner

    from publisher.cli.main import cli

    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    _post(
        client,
        player_token(rt),
        [_play(i, item.id, now - timedelta(seconds=10 * i)) for i in range(4)],
    )
    for key, value in rt.settings.items():
        if value is not None:
            monkeypatch.setenv(f"PUBLISHER_{key}", str(value))
    runner = CliRunner()
    args = ["report", "plays", "--area", "setagaya/kitazawa/daizawa", "--since", "2026-11-22"]
    args += ["--until", "2026-11-22"]
    result = runner.invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout_bytes)
    assert [(r["item_id"], r["screen"], r["plays"], r["seconds"]) for r in doc["rows"]] == [
        (item.id, "daizawa-1", 4, 40.0)
    ]
    csv_out = runner.invoke(cli, args)
    assert csv_out.stdout_bytes.startswith(b"\xef\xbb\xbfday,area,screen,item_id")
    bad = runner.invoke(cli, ["report", "plays", "--since", "22/11/2026"])
    assert bad.exit_code != 0 and "'22/11/2026' is not a date" in bad.output
    unknown = runner.invoke(cli, ["report", "reach", "--area", "setagaya/kitazwa"])
    assert unknown.exit_code != 0 and "did you mean 'setagaya/kitazawa'" in unknown.output


def test_screens_that_cannot_report_get_estimated_plays_from_their_playlist(rt, now):
    from publisher.deliver.estimate import estimate_days
    from publisher.store.models import DeliveryRow

    # seijo-1 is an http player
    (item,) = store(rt, make_item(targets=(SEIJO,), starts_at=now - timedelta(days=10)))
    with rt.session() as session:
        session.add(
            DeliveryRow(
                screen_id="seijo-1",
                version="v1",
                method="http",
                state="delivered",
                delivered_at=now - timedelta(days=3),
            )
        )
    assert estimate_days(rt, now) == 3  # the ended days since its first bundle
    assert estimate_days(rt, now) == 0  # once
    with rt.session() as session:
        rows = reports.plays(session, ["seijo-1"], "2026-11-01", "2026-11-30")
    assert {r["day"] for r in rows} == {"2026-11-19", "2026-11-20", "2026-11-21"}
    assert all(r["estimated"] and r["item_id"] == item.id for r in rows)
    seconds = {
        d: sum(r["seconds"] for r in rows if r["day"] == d) for d in ("2026-11-19", "2026-11-21")
    }
    assert abs(seconds["2026-11-21"] - 86400) < 600  # looped all day
    assert abs(seconds["2026-11-19"] - 14 * 3600) < 600  # from its first bundle, at 10:00


# A district center's lobby: weekdays and a Saturday morning, closed on 2026-11-20 (a Friday).
_CENTER = {"hours": ["mon-fri 08:30-17:15", "sat 08:30-12:00"], "closed": ["11-20"]}


def test_estimated_plays_count_only_the_hours_the_screen_is_open(rt, now, monkeypatch):
    from publisher.deliver.estimate import estimate_days
    from publisher.store.models import DeliveryRow

    hours = read_hours(Path("displays/setagaya.toml"), "seijo-1", _CENTER)
    monkeypatch.setitem(
        rt.tree.screens, "seijo-1", replace(rt.tree.screens["seijo-1"], hours=hours)
    )
    store(rt, make_item(targets=(SEIJO,), starts_at=now - timedelta(days=10)))
    with rt.session() as session:
        session.add(
            DeliveryRow(
                screen_id="seijo-1",
                version="v1",
                method="http",
                state="delivered",
                delivered_at=now - timedelta(days=3),  # Thursday 10:00
            )
        )
    assert estimate_days(rt, now) == 2  # Thursday and Saturday; Friday was closed
    with rt.session() as session:
        rows = reports.plays(session, ["seijo-1"], "2026-11-01", "2026-11-30")
    seconds: dict[str, float] = {}
    for r in rows:
        seconds[r["day"]] = seconds.get(r["day"], 0) + r["seconds"]
    assert set(seconds) == {"2026-11-19", "2026-11-21"}
    assert abs(seconds["2026-11-19"] - (7 * 3600 + 15 * 60)) < 600  # 10:00–17:15
    assert abs(seconds["2026-11-21"] - (3 * 3600 + 30 * 60)) < 600  # 08:30–12:00


def test_uptime_share_is_of_the_screens_opening_hours(rt, now, monkeypatch):
    hours = read_hours(Path("displays/setagaya.toml"), "daizawa-1", _CENTER)
    screen = replace(rt.tree.screens["daizawa-1"], hours=hours)
    monkeypatch.setitem(rt.tree.screens, "daizawa-1", screen)
    with rt.session() as session:
        for day in (now - timedelta(days=1), now):  # Saturday and Sunday, 09:00–09:30
            for i in range(60):
                at = day.replace(hour=9, minute=0) + timedelta(seconds=30 * i)
                session.add(HeartbeatRow(screen_id="daizawa-1", at=at))
    with rt.session() as session:
        rows = reports.uptime(
            session, ["daizawa-1"], "2026-11-21", "2026-11-22", now, {"daizawa-1": hours}
        )
        report = build(
            session, rt.tree, "setagaya/kitazawa/daizawa", "2026-11-21", "2026-11-22", now
        )
    assert [(r["day"], r["minutes_online"], r["share"]) for r in rows] == [
        ("2026-11-21", 30, round(30 / 210, 4)),  # of 08:30–12:00
        ("2026-11-22", 30, None),  # Sunday: not meant to be on
    ]
    assert report.uptime == rows
    assert report.uptime_by_screen()["daizawa-1"] == round(30 / 210, 4)  # Sunday left out
    assert report.rows("uptime")[1]["share"] is None


def test_uptime_share_today_is_of_the_opening_minutes_so_far():
    hours = read_hours(Path("displays/setagaya.toml"), "daizawa-1", _CENTER)
    saturday_10 = datetime(2026, 11, 21, 10, 0, 30, tzinfo=JST)
    # 08:30–10:00, and the minute of 10:00
    assert reports.expected_minutes(hours, "2026-11-21", saturday_10) == 91
    assert reports.expected_minutes(ALWAYS, "2026-11-21", saturday_10) == 601
    assert reports.expected_minutes(hours, "2026-11-22", saturday_10) == 0  # tomorrow
    assert reports.expected_minutes(hours, "2026-11-19", saturday_10) == 525
