"""Web Push: an approved alert reaches every subscription whose area sees it, in its language,
once, through a local push service that checks the VAPID signature and decrypts the payload."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from publisher.deliver import webpush
from publisher.runtime import Runtime
from publisher.store import push, staff, workflow
from publisher.store.models import PushMessageRow, PushSubscriptionRow
from tests.factories import DAIZAWA, SEIJO, UMEGAOKA, WARD, api_item, pause
from tests.push_helpers import Browser, PushService, b64encode, push_service

ALERT = {
    "kind": "alert",
    "priority": "emergency",
    "title": {
        "ja": "避難指示 代沢地区",
        "en": "Evacuation order: Daizawa",
        "ko": "대피 지시: 다이자와",
    },
    "body": {"ja": "代沢小学校へ避難してください。", "en": "Go to Daizawa Elementary School."},
    "targets": [DAIZAWA],
    "category": None,
}


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as s:
        yield s


@pytest.fixture
def push_rt(rt: Runtime, service: PushService, now: datetime) -> Iterator[Runtime]:
    rt.settings["PUSH_SERVICES"] = f"fcm.googleapis.com,{service.origin}"
    webpush.sender(rt, clock=lambda: now, threads=4)
    yield rt
    webpush.sender(rt).close()


def subscribe(rt: Runtime, browser: Browser, area: str, lang: str = "ja", choice: str = "alerts"):  # type: ignore[no-untyped-def]
    data = {"subscription": browser.subscription(), "area": area, "lang": lang, "choice": choice}
    services = rt.settings["PUSH_SERVICES"].split(",")
    with rt.session() as session:
        return push.subscribe(
            session, push.check(rt.tree, data, services), datetime(2026, 1, 1, tzinfo=UTC)
        )


def create(rt: Runtime, **overrides: Any) -> int:
    data = api_item(**overrides)
    with rt.session() as session:
        item = workflow.create(session, rt.tree, staff.operator(rt.tree), data)
    assert item.id is not None
    return item.id


def wait_for(condition: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        pause(0.02)
    raise AssertionError("timed out")


def messages(rt: Runtime) -> list[PushMessageRow]:
    with rt.session() as session:
        return list(session.scalars(select(PushMessageRow).order_by(PushMessageRow.id)))


def test_an_approved_emergency_reaches_daizawa_subscribers_in_their_language(
    push_rt: Runtime, service: PushService
) -> None:
    """Daizawa's and the ward's subscribers hear it (each in their language); Umegaoka's and
    Seijo's do not: a Daizawa alert is not theirs."""
    ja, en, ward_ko = service.browser("ja"), service.browser("en"), service.browser("ko")
    subscribe(push_rt, ja, DAIZAWA, "ja")
    subscribe(push_rt, en, DAIZAWA, "en", "all")
    subscribe(push_rt, ward_ko, WARD, "ko")  # the ward page: sees only ward-wide items
    subscribe(push_rt, service.browser("umegaoka"), UMEGAOKA)
    subscribe(push_rt, service.browser("seijo"), SEIJO)
    item_id = create(push_rt, **ALERT)
    wait_for(lambda: service.count >= 2)
    (got_ja,) = service.messages("ja")
    (got_en,) = service.messages("en")
    assert got_ja["title"] == "【緊急】避難指示 代沢地区"
    assert got_ja["body"] == "代沢小学校へ避難してください。"
    assert got_ja["url"] == f"https://signage.example.jp/items/{item_id}"
    assert got_en["title"] == "[EMERGENCY] Evacuation order: Daizawa"
    assert got_en["url"] == f"https://signage.example.jp/items/{item_id}?lang=en"
    assert got_en["words"]["unsubscribe"] == "Stop notifications"
    assert got_en["unsubscribe"].startswith("https://signage.example.jp/notifications/unsubscribe/")
    headers = service.received["ja"][0].headers
    assert headers["Urgency"] == "high" and headers["Topic"] == f"item-{item_id}"
    assert not service.refused
    for name in ("ko", "umegaoka", "seijo"):
        assert service.messages(name) == []
    wait_for(lambda: {m.state for m in messages(push_rt)} == {"sent"})


def test_a_drill_arrives_marked_and_a_notice_only_for_those_who_chose_all(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """訓練 / DRILL in the title; notices go to ``all`` subscribers only; Korean falls back to
    Japanese when the item has no Korean."""
    alerts_only, everything, ko = (service.browser(n) for n in ("alerts", "all", "ko"))
    subscribe(push_rt, alerts_only, DAIZAWA, "ja", "alerts")
    subscribe(push_rt, everything, DAIZAWA, "en", "all")
    subscribe(push_rt, ko, WARD, "ko", "all")
    drill = dict(ALERT, title={"ja": "避難訓練のお知らせ", "en": "Evacuation"}, drill=True)
    drill["targets"] = [WARD]
    create(push_rt, **drill)
    create(push_rt, title={"ja": "落ち葉清掃"}, targets=[WARD])  # a notice, Japanese only
    wait_for(lambda: service.count >= 5)
    webpush.process_due(push_rt, now)

    def received(name: str) -> list[tuple[str, str, bool]]:
        """Two items queued together go out at once, so either may arrive first."""
        return sorted((m["title"], m["lang"], m["drill"]) for m in service.messages(name))

    assert received("alerts") == [("【訓練】避難訓練のお知らせ", "ja", True)]
    assert received("all") == [("[DRILL] Evacuation", "en", True), ("落ち葉清掃", "ja", False)]
    assert received("ko") == [
        ("【訓練】避難訓練のお知らせ", "ja", True),
        ("落ち葉清掃", "ja", False),
    ]


def test_a_subscription_the_push_service_says_is_gone_is_deleted(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    kept, gone = service.browser("kept"), service.browser("gone")
    subscribe(push_rt, kept, DAIZAWA)
    subscribe(push_rt, gone, DAIZAWA)
    service.answer["gone"] = 410
    create(push_rt, **ALERT)  # the sender thread sends both at once

    def endpoints() -> list[str]:
        with push_rt.session() as session:
            return list(session.scalars(select(PushSubscriptionRow.endpoint)))

    wait_for(lambda: endpoints() == [kept.endpoint])
    wait_for(lambda: [m.state for m in messages(push_rt)] == ["sent"])
    assert len(service.messages("kept")) == 1 and service.messages("gone") == []


def test_a_crash_between_sending_and_recording_sends_nothing_twice(
    push_rt: Runtime, service: PushService, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process stops after the push service took the message and before the record: the
    message stays claimed, is later marked unknown, and is never sent again."""
    subscribe(push_rt, service.browser("one"), DAIZAWA)
    subscribe(push_rt, service.browser("two"), DAIZAWA)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("killed between sending and recording")

    monkeypatch.setattr(push, "record_sent", crash)
    webpush.sender(push_rt, clock=lambda: now, threads=2, send_on_change=False)
    item_id = create(push_rt, **ALERT)
    with pytest.raises(SystemExit):
        webpush.process_due(push_rt, now)
    assert service.count == 2
    assert {m.state for m in messages(push_rt)} == {"sending"}
    monkeypatch.undo()
    # a restarted sender, within the lease: leaves the claim alone
    assert webpush.process_due(push_rt, now + timedelta(seconds=30)) == {}
    # after the lease: outcome unknown, not resent
    assert webpush.process_due(push_rt, now + push.SENDING_LEASE * 2) == {"unknown": 2}
    assert webpush.process_due(push_rt, now + timedelta(hours=1)) == {}
    assert service.count == 2
    with push_rt.session() as session:
        assert push.states(session, item_id) == {"unknown": 2}


def test_a_push_service_in_trouble_is_retried_later_and_a_withdrawn_item_not_at_all(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    b = service.browser("busy")
    subscribe(push_rt, b, DAIZAWA)
    service.answer["busy"] = 503
    webpush.sender(push_rt, clock=lambda: now, threads=2, send_on_change=False)
    item_id = create(push_rt, **ALERT)
    assert webpush.process_due(push_rt, now) == {"retry": 1}
    (row,) = messages(push_rt)
    assert row.state == "retry" and row.not_before == now + timedelta(seconds=30)
    del service.answer["busy"]
    assert webpush.process_due(push_rt, now + timedelta(seconds=10)) == {}  # not yet due
    assert webpush.process_due(push_rt, now + timedelta(seconds=31)) == {"sent": 1}
    assert len(service.messages("busy")) == 1
    # a second item, withdrawn before it is sent: cancelled
    other = create(push_rt, **dict(ALERT, title={"ja": "訂正"}, body={"ja": "訂正です。"}))
    with push_rt.session() as session:
        workflow.transition(session, push_rt.tree, staff.operator(push_rt.tree), other, "withdraw")
    assert webpush.process_due(push_rt, now + timedelta(minutes=5)) == {}
    with push_rt.session() as session:
        assert push.states(session, other) == {"cancelled": 1}
        assert push.states(session, item_id) == {"sent": 1}


def test_subscriptions_elsewhere_than_a_push_service_are_refused(push_rt: Runtime) -> None:
    """The server posts only to push services, so a subscription cannot aim it anywhere."""
    services = push_rt.settings["PUSH_SERVICES"].split(",")
    good = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
        "keys": {"p256dh": "x", "auth": "y"},
    }
    assert push.check(push_rt.tree, {"subscription": good, "area": DAIZAWA}, services)
    for endpoint in (
        "https://intranet.example.jp/admin",
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com.evil.example/x",
        "https://user@fcm.googleapis.com/x",
        "http://127.0.0.1:1/x",
    ):
        bad = dict(good, endpoint=endpoint)
        with pytest.raises(push.BadSubscription, match="subscription.endpoint"):
            push.check(push_rt.tree, {"subscription": bad, "area": DAIZAWA}, services)
    with pytest.raises(push.BadSubscription, match="area: unknown area"):
        push.check(push_rt.tree, {"subscription": good, "area": "setagaya/nowhere"}, services)
    with pytest.raises(push.BadSubscription, match="choice"):
        push.check(push_rt.tree, {"subscription": good, "area": DAIZAWA, "choice": "x"}, services)


def test_subscriber_counts_per_area_are_numbers_only(
    push_rt: Runtime, service: PushService
) -> None:
    for i in range(3):
        subscribe(push_rt, service.browser(f"d{i}"), DAIZAWA)
    subscribe(push_rt, service.browser("w"), WARD, choice="all")
    with push_rt.session() as session:
        assert push.subscriber_counts(session) == {DAIZAWA: 3, WARD: 1}


def test_a_large_fan_out_is_encrypted_in_other_processes_and_each_arrives_once(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """PUBLISHER_PUSH_PROCESSES: 600 subscriptions, encrypted and posted by a spawned
    process; every one decrypts at the stand-in, once."""
    many_subscribers(push_rt, service, 600, now)
    worker = webpush.sender(push_rt, clock=lambda: now, processes=1, send_on_change=False)
    try:
        create(push_rt, **ALERT)
        assert webpush.process_due(push_rt, now) == {"sent": 600}
    finally:
        worker.close()
    assert service.count == 600 and not service.refused
    assert all(len(service.messages(f"p{i}")) == 1 for i in range(600))


def test_a_fan_out_process_that_dies_mid_chunk_repeats_nothing_and_loses_only_what_it_began(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """The process is killed while the push service holds the first messages of its first
    chunk: that chunk may have partly gone out, so it is never resent (unknown); the chunks no
    process had begun are sent at once by this process's threads. Nobody receives it twice."""
    many_subscribers(push_rt, service, 600, now)
    worker = webpush.sender(push_rt, clock=lambda: now, processes=1, send_on_change=False)
    try:
        worker.warm()
        assert worker.fan_out is not None
        service.hold = threading.Event()
        item_id = create(push_rt, **ALERT)
        counts: dict[str, int] = {}
        sending = threading.Thread(target=lambda: counts.update(webpush.process_due(push_rt, now)))
        sending.start()
        wait_for(lambda: service.seen >= 1)
        (pid,) = worker.fan_out.pids()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not running(pid))  # dead before the held messages are answered
        service.hold.set()
        sending.join(60)
        assert counts == {"unknown": 100, "retry": 500, "sent": 500}
        assert webpush.process_due(push_rt, now + push.SENDING_LEASE * 2) == {}
    finally:
        worker.close()
    wait_for(lambda: service.seen == service.count + len(service.refused))
    assert not service.refused
    assert all(len(service.messages(f"p{i}")) <= 1 for i in range(600))
    assert 500 <= service.count <= 500 + push_service_connections()
    with push_rt.session() as session:
        assert push.states(session, item_id) == {"unknown": 100, "sent": 500}


def test_a_subscription_whose_keys_cannot_be_used_fails_alone(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """A browser key that is not a point on the curve (a broken or hostile subscription) fails
    that one message; the others of its chunk still go."""
    subscribe(push_rt, service.browser("good"), DAIZAWA)
    bad_id = subscribe(push_rt, service.browser("bad"), DAIZAWA)
    with push_rt.session() as session:
        row = session.get(PushSubscriptionRow, bad_id)
        assert row is not None
        row.p256dh = b64encode(b"\x04" + b"\x01" * 64)  # the right shape, on no curve
    webpush.sender(push_rt, clock=lambda: now, threads=2, send_on_change=False)
    create(push_rt, **ALERT)
    assert webpush.process_due(push_rt, now) == {"sent": 1, "failed": 1}
    assert len(service.messages("good")) == 1 and service.messages("bad") == []
    failed = [m for m in messages(push_rt) if m.state == "failed"]
    assert [m.last_error for m in failed] == ["the subscription's keys cannot be used"]


def test_serve_start_warms_the_fan_out_processes_only_when_a_fan_out_would_use_them(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """An emergency must not wait for processes to spawn; a ward with few subscribers does not
    pay for processes it would never use."""
    worker = webpush.sender(push_rt, clock=lambda: now, processes=1, send_on_change=False)
    try:
        assert worker.fan_out is not None
        many_subscribers(push_rt, service, webpush.PROCESS_MIN_MESSAGES - 1, now)
        webpush.warm_if_needed(push_rt)
        assert worker.fan_out.pids() == []
        subscribe(push_rt, service.browser("one-more"), DAIZAWA)
        webpush.warm_if_needed(push_rt)
        wait_for(lambda: len(worker.fan_out.pids()) == 1 if worker.fan_out else False)
    finally:
        worker.close()


def test_closing_the_runtime_stops_its_sender_and_its_processes(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """Nothing sends after the runtime closes: the sender's thread ends, its fan-out processes
    exit, and a later change wakes nothing."""
    worker = webpush.sender(push_rt, clock=lambda: now, processes=1)
    subscribe(push_rt, service.browser("one"), DAIZAWA)
    create(push_rt, **ALERT)
    wait_for(lambda: service.count == 1)
    worker.warm()
    assert worker.fan_out is not None
    (pid,) = worker.fan_out.pids()
    thread = worker._thread
    push_rt.close()
    assert worker.stopped and thread is not None and not thread.is_alive()
    wait_for(lambda: not running(pid))
    worker.wake()
    assert worker._thread is thread  # no new thread


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def push_service_connections() -> int:
    from publisher.deliver.push_service import CONNECTIONS_PER_SERVICE

    return CONNECTIONS_PER_SERVICE


def many_subscribers(rt: Runtime, service: PushService, n: int, now: datetime) -> None:
    """``n`` subscriptions to Daizawa at the stand-in (one key pair shared: the sender still
    makes a new key and salt per message)."""
    from dataclasses import replace

    first = service.browser("p0")
    for i in range(1, n):
        service.add(replace(first, name=f"p{i}", endpoint=f"{service.origin}/push/p{i}"))
    with rt.session() as session:
        for b in service.browsers.values():
            data = {"subscription": b.subscription(), "area": DAIZAWA}
            push.subscribe(
                session, push.check(rt.tree, data, [service.origin]), now - timedelta(days=1)
            )


def test_an_item_approved_for_later_is_sent_when_its_window_opens(
    push_rt: Runtime, service: PushService, now: datetime
) -> None:
    """Queued at approval with its start as the earliest time; the change listener hears the
    window open (the transitions job) and the sender sends it then, not before."""
    subscribe(push_rt, service.browser("later"), DAIZAWA)
    starts = now + timedelta(hours=2)
    item_id = create(push_rt, **dict(ALERT, starts_at=starts.isoformat()))
    assert webpush.process_due(push_rt, now) == {}
    assert service.messages("later") == []
    webpush.sender(push_rt, clock=lambda: starts, threads=2)
    push_rt.items_changed({item_id})  # what the transitions job tells every listener
    wait_for(lambda: len(service.messages("later")) == 1)
