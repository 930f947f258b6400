"""Emergency alerts a ward can trust: a message that names no place in the ward is held for
review and reaches no screen, feed, page or SNS outbox; a place named by another prefecture or
city never matches a district; only the alert's own sender (and, through the API, a caller whose
scope covers it) may change it; an editor cannot take a live alert off the air."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from publisher.cli.main import cli
from publisher.collect.oneoff import ingest_alert
from publisher.deliver.outbox import on_items_changed
from publisher.errors import Forbidden
from publisher.plan.residents import marked_title
from publisher.store.content import get_item, visible_items
from publisher.store.models import AuditRow, SnsPostRow
from publisher.store.staff import Principal, operator
from tests.collect_helpers import SAMPLES, sample
from tests.factories import DAIZAWA, KITAZAWA, SEIJO, WARD

MATSUBARA = "setagaya/kitazawa/matsubara"
KITAZAWA_DISTRICT = "setagaya/kitazawa/kitazawa"
EVERYWHERE = (WARD, KITAZAWA, DAIZAWA, MATSUBARA, KITAZAWA_DISTRICT, SEIJO)
FOREIGN = (
    "cap_world/oasis_amber.xml",
    "cap_world/oasis_homeland_security.xml",
    "cap_world/oasis_earthquake.xml",
    "cap_world/oasis_thunderstorm.xml",
    "cap_world/nws_county_winter_storm.xml",
)
EVACUATION = "cap_ward_emergency.xml"


@pytest.fixture
def run(rt, monkeypatch):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def send(rt, data, now, who=None):
    data = sample(data) if isinstance(data, str) else data
    return ingest_alert(rt, data, who or operator(rt.tree), via="alert", now=now)


def alerts_in(rt, area, at):
    with rt.session() as s:
        return [i for i in visible_items(s, rt.tree, area, at) if i.kind == "alert"]


def outbox_rows(rt, item_id):
    on_items_changed(rt, [item_id])
    with rt.session() as s:
        return s.scalar(select(func.count()).where(SnsPostRow.item_id == item_id))


def ward_alert_with_area(desc: str, ident: str) -> bytes:
    """The ward's evacuation order with its areas replaced by one ``areaDesc`` (no geocode)."""
    data = sample(EVACUATION).decode()
    head, rest = data.split("<area>", 1)
    _, tail = rest.split("</area>", 1)
    data = head + f"<area><areaDesc>{desc}</areaDesc></area>" + tail
    return data.replace("20261122-101", ident).encode()


@pytest.mark.parametrize("name", FOREIGN)
def test_a_foreign_alert_is_held_and_reaches_no_screen_feed_or_outbox(run, rt, app, now, name):
    code, out = run("alert", str(SAMPLES / name), "--at", now.isoformat())
    assert code == 3, out
    assert "held for review: " in out and "no area of the ward matches" in out
    item_id = int(out.split()[0])
    with rt.session() as s:
        item = get_item(s, item_id)
    assert item.status in ("pending", "expired") and item.alert.needs_review
    assert "no area of the ward" in item.alert.held_reason
    for area in EVERYWHERE:
        assert alerts_in(rt, area, now) == []
    assert outbox_rows(rt, item_id) == 0
    app.config["PUBLISHER_CLOCK"] = lambda: now
    client = app.test_client()
    headline = item.text("en").title if "en" in item.languages else "Amber"
    assert headline.encode() not in client.get(f"/feeds/{WARD}.rss").data
    assert client.get(f"/items/{item_id}").status_code == 404


def test_importing_foreign_alerts_exits_non_zero_and_says_why(run, rt, now):
    code, out = run("import", "cap", str(SAMPLES / FOREIGN[0]), "--at", now.isoformat())
    assert code == 3 and "held for review: the sender 'KARO@CLETS.DOJ.CA.GOV'" in out


def test_an_alert_already_past_its_expiry_is_stored_expired_and_never_shown(rt, now):
    later = now + timedelta(days=2)  # the evacuation order expired a day before
    result = send(rt, EVACUATION, later)
    assert result.expired == 1
    with rt.session() as s:
        item = get_item(s, result.item_ids[0])
    assert item.status == "expired"
    assert alerts_in(rt, DAIZAWA, now) == [] and outbox_rows(rt, item.id) == 0


def test_the_api_answers_202_with_the_reason_for_a_held_alert(app, client, token_for, now):
    app.config["PUBLISHER_CLOCK"] = lambda: now
    token = token_for("approver", DAIZAWA)
    resp = client.post(
        "/api/alerts",
        data=sample("cap_world/oasis_amber.xml"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
    )
    assert resp.status_code == 202, resp.json
    assert resp.json["held"] is True
    assert "alert KAR0-0306112239-SW from KARO@CLETS.DOJ.CA.GOV" in resp.json["reason"]
    assert "no area of the ward matches its areas (Los Angeles County)" in resp.json["reason"]


@pytest.mark.parametrize(
    ("desc", "ident"),
    [("大阪府松原市", "osaka"), ("北海道札幌市北区北沢", "sapporo"), ("火星地区", "mars")],
)
def test_a_place_outside_the_ward_never_matches_a_district(rt, now, desc, ident):
    result = send(rt, ward_alert_with_area(desc, ident), now)
    assert result.held and desc in result.held[0].reason
    for area in (MATSUBARA, KITAZAWA_DISTRICT, WARD):
        assert alerts_in(rt, area, now) == []


@pytest.mark.parametrize(
    ("desc", "target"),
    [
        ("東京都世田谷区松原", MATSUBARA),
        ("世田谷区北沢地区", KITAZAWA_DISTRICT),
        ("代沢五丁目", DAIZAWA),
        ("区内全域", WARD),
    ],
)
def test_a_place_in_the_ward_reaches_its_district(rt, now, desc, target):
    result = send(rt, ward_alert_with_area(desc, target.rsplit("/", 1)[-1]), now)
    assert not result.held
    with rt.session() as s:
        assert get_item(s, result.item_ids[0]).targets == (target,)


def test_a_bare_district_name_from_an_untrusted_sender_is_held(rt, now):
    data = ward_alert_with_area("代沢", "x").replace(
        b"bousai@city.setagaya.lg.jp", b"someone@example.org"
    )
    result = send(rt, data, now)
    assert "not one the ward trusts" in result.held[0].reason
    assert "no area of the ward" in result.held[0].reason
    assert alerts_in(rt, DAIZAWA, now) == []


def test_a_district_approver_cannot_rewrite_or_hide_the_ward_alert(rt, now):
    ward_id = send(rt, EVACUATION, now).item_ids[0]
    daizawa_approver = Principal("daizawa-approver", "approver", DAIZAWA)
    narrowed = (
        sample(EVACUATION)
        .replace("<areaDesc>世田谷区</areaDesc>".encode(), "<areaDesc>代沢地区</areaDesc>".encode())
        .replace(b"<value>131121</value>", b"<value>000000</value>")
        .replace(b"<severity>Extreme</severity>", b"<severity>Minor</severity>")
    )
    system = sample(EVACUATION).replace(b"<status>Actual</status>", b"<status>System</status>")
    for data in (narrowed, system):
        with pytest.raises(Forbidden, match="setagaya-bousai-20261122-101 .*refused"):
            send(rt, data, now, who=daizawa_approver)
    with rt.session() as s:
        item = get_item(s, ward_id)
        refusals = s.scalar(select(func.count()).where(AuditRow.action == "cap-refused"))
    assert item.targets == (WARD,) and item.priority == "emergency" and item.revision == 1
    assert refusals == 2
    for area in (DAIZAWA, SEIJO, WARD):
        assert [i.id for i in alerts_in(rt, area, now)] == [ward_id]


def test_a_system_or_test_message_never_changes_an_actual_alert(rt, now):
    ward_id = send(rt, EVACUATION, now).item_ids[0]
    for status in (b"System", b"Test"):
        data = sample(EVACUATION).replace(
            b"<status>Actual</status>", b"<status>" + status + b"</status>"
        )
        with pytest.raises(Forbidden, match=f"a {status.decode()} message never changes"):
            send(rt, data, now)
    assert [i.id for i in alerts_in(rt, SEIJO, now)] == [ward_id]


def test_another_sender_cannot_cancel_the_wards_alert(rt, now):
    ward_id = send(rt, EVACUATION, now).item_ids[0]
    cancel = (
        sample("cap_drill_daizawa_cancel.xml")
        .replace(b"<sender>bousai@city.setagaya.lg.jp</sender>", b"<sender>x@example.org</sender>")
        .replace(b"setagaya-bousai-20261122-001,", b"setagaya-bousai-20261122-101,")
    )
    with pytest.raises(Forbidden, match="only that alert's sender may update or cancel it"):
        send(rt, cancel, now)
    assert [i.id for i in alerts_in(rt, SEIJO, now)] == [ward_id]


def _live_alert_api(app, client, token_for, rt, now):
    app.config["PUBLISHER_CLOCK"] = lambda: now
    ward_id = send(rt, EVACUATION, now).item_ids[0]

    def patch(role, body):
        token = token_for(role, WARD)
        return client.patch(
            f"/api/items/{ward_id}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'},
        )

    return ward_id, patch


def test_an_editor_cannot_take_a_live_emergency_off_the_screens(app, client, token_for, rt, now):
    ward_id, patch = _live_alert_api(app, client, token_for, rt, now)
    resp = patch("editor", {"body": {"ja": "."}})
    assert resp.status_code == 403 and "on air" in resp.json["error"]
    with rt.session() as s:
        item = get_item(s, ward_id)
    assert item.status == "approved" and item.revision == 1
    assert [i.id for i in alerts_in(rt, DAIZAWA, now)] == [ward_id]


def test_an_approvers_edit_of_a_live_alert_stays_on_air(app, client, token_for, rt, now):
    ward_id, patch = _live_alert_api(app, client, token_for, rt, now)
    resp = patch("approver", {"body": {"ja": "避難所は区内の小中学校です。"}})
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "approved" and resp.json["revision"] == 2
    assert [i.id for i in alerts_in(rt, DAIZAWA, now)] == [ward_id]


def test_a_cap_11_message_for_the_wards_code_is_accepted_with_its_en_ca_text(rt, now):
    result = send(rt, "cap_world/ward_cap11_ja_en_ca.xml", now)
    assert not result.held and result.created == 1
    with rt.session() as s:
        item = get_item(s, result.item_ids[0])
    assert item.targets == (WARD,) and item.alert.cap_status == "Actual"
    assert item.languages == ("ja", "en")
    assert item.text("en").title == "Heavy rain warning for Setagaya"
    # hard wraps inside a paragraph are joined
    assert item.text("en").body == (
        "A heavy rain warning is in effect for the whole ward. Watch for flooding in "
        "low-lying areas."
    )
    assert alerts_in(rt, SEIJO, now)[0].id == item.id


def test_a_canadian_alert_keeps_english_and_french_out_of_japanese(rt, now):
    result = send(
        rt, "cap_world/canada_snowfall_en_fr.xml", datetime(2026, 1, 24, 17, 0, tzinfo=UTC)
    )
    assert "no Japanese text" in result.held[0].reason
    with rt.session() as s:
        item = get_item(s, result.item_ids[0])
    assert item.text("en").title == "snowfall warning in effect"
    assert "snowfall" not in item.title and "neige" not in item.title
    body = item.text("en").body
    assert "Significant snowfall accumulation making travel difficult." in body
    assert "\n\nHazards:\nReduced visibility" in body


def test_an_update_ending_as_it_is_sent_ends_the_warning_it_replaces(run, rt, now, tmp_path):
    ward_id = send(rt, EVACUATION, now).item_ids[0]
    later = now + timedelta(minutes=20)
    update = (
        sample(EVACUATION)
        .replace(b"<msgType>Alert</msgType>", b"<msgType>Update</msgType>")
        .replace(
            b"<scope>Public</scope>",
            b"<scope>Public</scope><references>bousai@city.setagaya.lg.jp,"
            b"setagaya-bousai-20261122-101,2026-11-22T09:55:00+09:00</references>",
        )
        .replace(b"20261122-101</identifier>", b"20261122-102</identifier>")
        .replace(b"<sent>2026-11-22T09:55:00+09:00", b"<sent>2026-11-22T10:20:00+09:00")
        .replace(b"<expires>2026-11-23T09:55:00+09:00", b"<expires>2026-11-22T10:20:00+09:00")
    )
    path = tmp_path / "update.xml"
    path.write_bytes(update)
    code, out = run("alert", str(path), "--at", later.isoformat())
    assert code == 0, out
    for area in (DAIZAWA, SEIJO, WARD):
        assert alerts_in(rt, area, later) == []
    with rt.session() as s:
        assert get_item(s, ward_id).status == "withdrawn"


@pytest.mark.parametrize(
    ("status", "event"),
    [("Test", "避難指示"), ("Actual", "Required Monthly Test"), ("Exercise", "避難指示")],
)
def test_test_messages_are_marked_as_drills_never_as_real(rt, now, status, event):
    data = (
        sample(EVACUATION)
        .replace(b"<status>Actual</status>", f"<status>{status}</status>".encode())
        .replace("<event>避難指示</event>".encode(), f"<event>{event}</event>".encode())
    )
    item_id = send(rt, data, now).item_ids[0]
    with rt.session() as s:
        item = get_item(s, item_id)
    assert item.drill and item.category == "drill"
    assert marked_title(item).startswith("【訓練】")
    assert marked_title(item, "en").startswith("[DRILL]" if status == "Exercise" else "[TEST]")
    # a drill may pre-empt the screens as an exercise would; a technical test never does
    assert item.is_emergency == (status == "Exercise")


def test_an_approver_sees_held_alerts_first_and_may_target_and_approve_one(
    rt, app, now, monkeypatch
):
    from tests.admin_helpers import cheap_hashes, staff_accounts

    app.config["PUBLISHER_CLOCK"] = lambda: now
    cheap_hashes(monkeypatch)
    held = send(rt, ward_alert_with_area("多摩川河川敷", "riverbank"), now)
    item_id = held.item_ids[0]
    admin = staff_accounts(rt, app)("ward-admin")
    page = admin.get("/admin/approvals").text
    assert "保留中の警報" in page and "no area of the ward matches its areas (多摩川河川敷)" in page
    assert page.index("保留中の警報") < page.index("【警戒レベル4】")
    with rt.session() as s:
        from publisher.store import workflow

        workflow.edit(s, rt.tree, operator(rt.tree), item_id, {"targets": [DAIZAWA]})
    assert alerts_in(rt, DAIZAWA, now) == []  # still held until approved
    r = admin.post(f"/admin/items/{item_id}/approve", {"back": "approvals"})
    assert r.status_code == 302
    assert [i.id for i in alerts_in(rt, DAIZAWA, now)] == [item_id]
    assert alerts_in(rt, SEIJO, now) == []
    # the same message polled again does not take the approved alert back off the air
    again = send(rt, ward_alert_with_area("多摩川河川敷", "riverbank"), now)
    assert again.unchanged == 1 and [i.id for i in alerts_in(rt, DAIZAWA, now)] == [item_id]


def test_importing_a_message_that_may_not_change_an_alert_exits_1_and_changes_nothing(
    run, rt, now, tmp_path
):
    ward_id = send(rt, EVACUATION, now).item_ids[0]
    path = tmp_path / "system.xml"
    path.write_bytes(
        sample(EVACUATION).replace(b"<status>Actual</status>", b"<status>System</status>")
    )
    code, out = run("import", "cap", str(path), "--at", now.isoformat())
    assert code == 1, out
    assert (
        "skipped alert setagaya-bousai-20261122-101 from bousai@city.setagaya.lg.jp: "
        f"a System message never changes the Actual alert {ward_id}"
    ) in out
    assert [i.id for i in alerts_in(rt, SEIJO, now)] == [ward_id]
