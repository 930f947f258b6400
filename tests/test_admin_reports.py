"""効果の測定: the dashboard, the per-item view and the downloads, within a staff scope."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from publisher.store.plays import Play, record_plays
from publisher.store.reach import POSTER, count_scan
from publisher.store.report_view import above
from tests.admin_helpers import cheap_hashes, staff_accounts
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import frozen, store


@pytest.fixture
def staff(rt, app, now, monkeypatch):  # type: ignore[no-untyped-def]
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, frozen(app, now))


def _plays(rt: Any, now: Any, item_id: int, screen: str = "daizawa-1", n: int = 6) -> None:
    area = rt.tree.screen(screen).area
    plays = [
        Play(i, item_id, 1, "en" if i % 2 else "ja", now - timedelta(minutes=i), 10_000)
        for i in range(n)
    ]
    with rt.session() as session:
        record_plays(session, screen, above(rt.tree, area), plays, now, 90)
        for lang in ("en", "en", "ja"):
            count_scan(session, item_id, lang, screen, now)


def test_the_dashboard_draws_its_charts_on_the_server_each_with_a_table(rt, staff, now):
    (item,) = store(rt, make_item(category="community"))
    _plays(rt, now, item.id)
    page = staff("kitazawa-approver").get("/admin/reports")
    assert page.status_code == 200
    text = page.text
    assert "効果の測定" in text and "北沢地域" in text
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 6
    assert text.count('role="img"') == text.count("<svg")
    assert text.count('<details class="chart-data">') == text.count("<svg")
    assert "地域活動" in text  # screen-hours by category, in the ward's words
    assert f"#{item.id} " in text and "人口千人あたり" in text
    assert "<script" not in text.split("<main", 1)[1]  # nothing drawn by JavaScript


def test_the_item_view_says_how_often_where_and_in_which_languages(rt, staff, now):
    (item,) = store(rt, make_item())
    _plays(rt, now, item.id)
    page = staff("kitazawa-approver").get(f"/admin/reports/items/{item.id}")
    assert page.status_code == 200
    assert "このお知らせは 1 台の画面で 6 回" in page.text
    assert "QRコードが 3 回読み取られました（英語 2 回、日本語 1 回）" in page.text


def test_downloads_are_csv_with_a_bom_and_json_with_documented_columns(rt, staff, now):
    (item,) = store(rt, make_item(title="代沢まつり"))
    _plays(rt, now, item.id)
    s = staff("ward-admin")
    got = s.get(f"/admin/reports/plays.csv?area={DAIZAWA}&since=2026-11-01&until=2026-11-30")
    assert got.status_code == 200
    assert got.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in got.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert {(r["screen"], r["lang"], r["plays"], r["title"]) for r in rows} == {
        ("daizawa-1", "ja", "3", "代沢まつり"),
        ("daizawa-1", "en", "3", "代沢まつり"),
    }
    assert all(r["area"] == DAIZAWA for r in rows)
    doc = json.loads(s.get(f"/admin/reports/reach.json?area={DAIZAWA}").data)
    assert doc["columns"][0] == "day"
    scans = [r for r in doc["rows"] if r["kind"] == "scan"]
    assert sorted((r["lang"], r["count"]) for r in scans) == [("en", 2), ("ja", 1)]


def test_staff_see_only_their_scope_and_bad_dates_say_why(rt, staff, now):
    s = staff("daizawa-editor")
    assert s.get("/admin/reports?area=setagaya/kinuta").status_code == 403
    bad = s.get("/admin/reports?since=2026-13-01")
    assert bad.status_code == 400 and "2026-13-01" in bad.text
    backwards = s.get("/admin/reports?since=2026-11-20&until=2026-11-01")
    assert backwards.status_code == 400


def test_scans_of_a_posters_qr_code_are_counted_apart_from_the_screens(rt, staff, now):
    (item,) = store(rt, make_item())
    _plays(rt, now, item.id)  # 3 scans from daizawa-1's slides
    with rt.session() as session:
        count_scan(session, item.id, "en", "", now, POSTER)
        count_scan(session, item.id, "ko", "", now, POSTER)
    text = staff("kitazawa-approver").get("/admin/reports").text
    assert re.search(r"QRコードの読み取り</th><td class=\"num\">5</td>", text)
    assert re.search(r"うちポスターのQRコード</th><td class=\"num\">2</td>", text)
    rows = json.loads(staff("kitazawa-approver").get("/admin/reports/reach.json").text)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    posters = [r for r in rows if r["kind"] == "scan" and r["format"] == "poster"]
    assert sorted((r["lang"], r["count"]) for r in posters) == [("en", 1), ("ko", 1)]
