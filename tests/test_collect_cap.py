"""CAP alerts reaching screens: drills marked and confined to their district, updates replacing,
cancels ending them everywhere at once, emergencies for the whole ward, private ones hidden."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.collect import Source, collect
from publisher.collect.oneoff import ingest_alert
from publisher.store.content import get_item, visible_items
from publisher.store.models import AuditRow
from publisher.store.staff import operator
from tests.collect_helpers import sample
from tests.factories import DAIZAWA, SEIJO, UMEGAOKA, WARD

ALERT, UPDATE, CANCEL = (
    "cap_drill_daizawa_alert.xml",
    "cap_drill_daizawa_update.xml",
    "cap_drill_daizawa_cancel.xml",
)


def send(rt, name_or_bytes, now):
    data = sample(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
    return ingest_alert(rt, data, operator(rt.tree), via="alert", now=now)


def alerts_in(rt, area, at):
    with rt.session() as s:
        return [i for i in visible_items(s, rt.tree, area, at) if i.kind == "alert"]


def test_a_drill_for_daizawa_shows_in_daizawa_marked_and_nowhere_else(rt, now):
    send(rt, ALERT, now)
    (shown,) = alerts_in(rt, DAIZAWA, now)
    assert shown.drill and shown.alert.cap_status == "Exercise"
    assert shown.category == "drill" and shown.priority == "high"
    assert not shown.is_emergency
    assert shown.title == "代沢小学校で避難所を開設しました（訓練）"
    assert shown.text("en").title.startswith("Shelter opened")
    assert alerts_in(rt, UMEGAOKA, now) == [] and alerts_in(rt, SEIJO, now) == []
    # and its window closes at <expires>
    assert alerts_in(rt, DAIZAWA, now + timedelta(hours=6)) == []


def test_an_update_replaces_the_alert_it_names_and_keeps_the_audit_trail(rt, now):
    first = send(rt, ALERT, now).item_ids[0]
    later = now + timedelta(minutes=30)
    update = send(rt, UPDATE, later)
    new = update.item_ids[0]
    assert new != first and (update.created, update.updated) == (1, 1)
    (shown,) = alerts_in(rt, DAIZAWA, later)
    assert shown.id == new and "受付を延長" in shown.title
    assert shown.alert.msg_type == "Update"
    with rt.session() as s:
        old = get_item(s, first)
        trail = s.scalars(
            select(AuditRow).where(AuditRow.entity_id == str(first)).order_by(AuditRow.id)
        ).all()
    assert old.status == "withdrawn" and old.ends_at == later
    assert [a.action for a in trail] == ["create", "cap-update"]


def test_a_cancel_takes_the_drill_off_every_screen_at_once(rt, now):
    first = send(rt, ALERT, now).item_ids[0]
    second = send(rt, UPDATE, now + timedelta(minutes=30)).item_ids[0]
    at = now + timedelta(hours=1)
    cancel = send(rt, CANCEL, at)
    assert sorted(cancel.item_ids) == sorted([first, second])
    assert cancel.updated == 1  # the first was already replaced by the update
    for area in (DAIZAWA, UMEGAOKA, SEIJO, WARD):
        assert alerts_in(rt, area, at) == []
    with rt.session() as s:
        cancelled = get_item(s, second)
    assert cancelled.status == "withdrawn" and cancelled.ends_at == at


def test_replaying_the_whole_sequence_changes_nothing(rt, now):
    at = now + timedelta(hours=1)
    for name in (ALERT, UPDATE, CANCEL):
        send(rt, name, at)
    for name in (ALERT, UPDATE, CANCEL):
        result = send(rt, name, at + timedelta(minutes=5))
        assert (result.created, result.updated) == (0, 0), name
    assert alerts_in(rt, DAIZAWA, at + timedelta(minutes=5)) == []


def test_an_extreme_immediate_actual_alert_is_a_ward_wide_emergency(rt, now):
    item_id = send(rt, "cap_ward_emergency.xml", now).item_ids[0]
    with rt.session() as s:
        item = get_item(s, item_id)
    assert item.priority == "emergency" and item.targets == ("setagaya",)
    assert item.is_emergency and not item.drill
    assert item.alert.warning_level == 4
    assert item.languages == ("ja", "en", "zh-Hans", "ko")
    for area in (DAIZAWA, SEIJO):
        assert [i.id for i in alerts_in(rt, area, now)] == [item_id]


def test_system_and_draft_messages_never_reach_the_public(rt, now):
    for status in (b"System", b"Draft"):
        data = (
            sample("cap_ward_emergency.xml")
            .replace(b"<status>Actual</status>", b"<status>" + status + b"</status>")
            .replace(b"20261122-101", b"20261122-1" + status)
        )
        item_id = send(rt, data, now).item_ids[0]
        with rt.session() as s:
            assert get_item(s, item_id).alert.cap_status == status.decode()
    assert alerts_in(rt, DAIZAWA, now) == [] and alerts_in(rt, WARD, now) == []


def test_an_alert_whose_area_cannot_be_mapped_is_held_for_review_and_shown_nowhere(rt, now):
    data = sample("cap_drill_daizawa_alert.xml").replace(
        "世田谷区代沢地区".encode(), "多摩川河川敷".encode()
    )
    result = send(rt, data, now)
    with rt.session() as s:
        item = get_item(s, result.item_ids[0])
    assert item.status == "pending" and item.alert.needs_review
    assert result.held[0].reason == "no area of the ward matches its areas (多摩川河川敷)"
    for area in (DAIZAWA, WARD):
        assert alerts_in(rt, area, now) == []


def test_the_same_alert_polled_and_pushed_is_one_item(rt, now):
    polled = collect(
        rt, Source("disaster-cap", "cap"), data=sample("cap_ward_emergency.xml"), now=now
    )
    pushed = send(rt, "cap_ward_emergency.xml", now)
    assert polled.created == 1 and pushed.unchanged == 1
    assert polled.item_ids == pushed.item_ids
