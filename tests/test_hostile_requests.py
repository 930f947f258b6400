"""What the fuzz (``tests/test_api_fuzz.py``, ``bench/api_fuzz.py``) found, each answered now
with a message saying where and why — never a 5xx, a traceback or a lost row: residents' Web
Push requests no browser makes, a player's batch with a language that is not text, staff
filters at the first and last days a calendar has, and posters and bulletins asked for in a
form they do not come in."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.runtime import Runtime
from publisher.store.models import PushSubscriptionRow
from tests.admin_helpers import cheap_hashes, staff_accounts
from tests.factories import DAIZAWA, make_item, player_token
from tests.residents_helpers import frozen, store

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"
SUB = {"endpoint": ENDPOINT, "keys": {"p256dh": "BPubKey_-", "auth": "AuthKey"}}


def post_json(client: Any, path: str, body: Any, **kwargs: Any) -> Any:
    """As a broken client would send it: lone surrogates escaped (``\\ud800``), as JSON allows."""
    return client.post(path, data=json.dumps(body), content_type="application/json", **kwargs)


def subscriptions(rt: Runtime) -> int:
    with rt.session() as session:
        return int(session.scalar(select(func.count()).select_from(PushSubscriptionRow)) or 0)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://[fcm.googleapis.com/x",  # an unclosed IPv6 bracket: not a URL at all
        "https://fcm.googleapis.com/fcm/send/\x00",
        "https://fcm.googleapis.com/fcm/send/\ud800",
        "https://fcm.googleapis.com/fcm/send/a b",
        "https://fcm.googleapis.com/fcm/send/\r\nX-Injected: 1",
        "https://127.0.0.1/push",
        "http://169.254.169.254/latest/meta-data",
        12345,
    ],
)
def test_a_subscription_whose_endpoint_is_no_push_services_url_is_refused_with_a_message(
    client: Any, rt: Runtime, endpoint: Any
) -> None:
    body = {"subscription": dict(SUB, endpoint=endpoint), "area": DAIZAWA, "lang": "en"}
    r = post_json(client, "/notifications/subscribe", body)
    assert r.status_code == 400, r.get_data(as_text=True)
    answer = r.get_json()
    assert answer["error"].startswith("subscription.endpoint: not the URL of a known push service")
    assert (
        answer["lang"] == "en" and answer["message"] == "Could not sign up. Please try again later."
    )
    assert subscriptions(rt) == 0


@pytest.mark.parametrize("lang", [["en"], {"en": 1}, 7])
def test_a_subscription_with_a_language_that_is_not_text_is_refused_with_a_message(
    client: Any, rt: Runtime, lang: Any
) -> None:
    body = {"subscription": SUB, "area": DAIZAWA, "lang": lang}
    r = post_json(client, "/notifications/subscribe", body, headers={"Accept-Language": "ko"})
    assert r.status_code == 400 and r.get_json()["error"].startswith("lang: one of")
    assert r.get_json()["lang"] == "ko"  # the browser's language, as the body's is none
    assert subscriptions(rt) == 0


@pytest.mark.parametrize(
    "endpoint", ["\ud800", "a\x00b", "x" * 1_000_000, "https://fcm.googleapis.com/\udfff"]
)
def test_unsubscribing_an_endpoint_no_browser_has_removes_nothing_and_says_so(
    client: Any, rt: Runtime, endpoint: str
) -> None:
    assert post_json(client, "/notifications/subscribe", {"subscription": SUB, "area": DAIZAWA})
    r = post_json(client, "/notifications/unsubscribe", {"endpoint": endpoint})
    assert r.status_code == 200 and r.get_json() == {"ok": True, "removed": False}
    assert subscriptions(rt) == 1  # the real one is still there


@pytest.mark.parametrize("old", [{"token": "\ud800"}, {"auth": "\udfff"}, {"token": "a\x00"}])
def test_a_renewal_proving_itself_with_text_no_browser_sends_is_refused_not_a_crash(
    client: Any, rt: Runtime, old: dict[str, str]
) -> None:
    assert post_json(client, "/notifications/subscribe", {"subscription": SUB, "area": DAIZAWA})
    new = dict(SUB, endpoint=ENDPOINT + "-renewed")
    body = {"old": {"endpoint": ENDPOINT, **old}, "subscription": new}
    r = post_json(client, "/notifications/resubscribe?lang=zh-Hant", body)
    assert r.status_code == 403 and "does not match" in r.get_json()["error"]
    assert r.get_json()["lang"] == "zh-Hant" and r.get_json()["message"]
    with rt.session() as session:  # nothing moved
        assert session.scalars(select(PushSubscriptionRow.endpoint)).one() == ENDPOINT


@pytest.mark.parametrize("lang", [["en"], {"en": "ja"}])
def test_a_play_whose_language_is_not_text_is_refused_naming_its_place(
    rt: Runtime, app: Any, now: Any, lang: Any
) -> None:
    (item,) = store(rt, make_item())
    play = {"seq": 1, "item_id": item.id, "lang": lang, "start": now.isoformat(), "seconds": 5}
    r = (
        frozen(app, now)
        .test_client()
        .post(
            "/api/screens/daizawa-1/plays",
            json={"plays": [play]},
            headers={"X-Screen-Token": player_token(rt)},
        )
    )
    assert r.status_code == 400
    assert r.get_json()["field"] == "plays[0].lang" and "unknown language" in r.get_json()["error"]


@pytest.fixture
def editor(rt: Runtime, app: Any, now: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, frozen(app, now))("daizawa-editor")


def test_the_audit_log_filters_from_the_first_to_the_last_day_a_calendar_has(
    rt: Runtime, editor: Any
) -> None:
    store(rt, make_item("代沢の落ち葉清掃"))
    r = editor.get("/admin/audit?from=0001-01-01&to=9999-12-31")
    assert r.status_code == 200 and "代沢の落ち葉清掃" in r.text
    for bounds in ("from=9999-12-31", "to=0001-01-01"):
        r = editor.get(f"/admin/audit?{bounds}")
        assert r.status_code == 200 and "代沢の落ち葉清掃" not in r.text


def test_audit_filters_with_control_characters_find_nothing_rather_than_fail(
    editor: Any,
) -> None:
    r = editor.get("/admin/audit?actor=a%00b&entity_id=1%00")
    assert r.status_code == 200 and "記録はありません" in r.text


def test_the_item_list_filters_by_the_last_day_a_calendar_has(rt: Runtime, editor: Any) -> None:
    store(rt, make_item("代沢の落ち葉清掃", ends_at=None))
    r = editor.get("/admin/items?date=9999-12-31")
    assert r.status_code == 200 and "代沢の落ち葉清掃" in r.text


@pytest.mark.parametrize(
    "query", ["until=0001-01-01", "until=9999-12-31", "since=0001-01-01&until=2026-11-22"]
)
def test_a_report_for_days_outside_the_years_it_covers_is_refused_saying_which(
    editor: Any, query: str
) -> None:
    for path in ("/admin/reports", "/admin/reports/plays.csv", "/admin/reports/reach.json"):
        r = editor.get(f"{path}?{query}")
        assert r.status_code == 400, (path, r.text[:300])
        assert "is outside the days reports cover (2000-01-01 to 2099-12-31)" in r.text


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/items/{id}/poster.pdf?size=B5&lang=en", "size: 'B5' is not A4 or A3"),
        (f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-W99&lang=en", "week: no week 2026-W99"),
        (f"/areas/{DAIZAWA}/bulletin.pdf?week=9999-W52&lang=en", "week: the year must be"),
    ],
)
def test_a_poster_or_bulletin_asked_for_in_a_form_it_has_not_says_why_in_the_readers_language(
    rt: Runtime, app: Any, now: Any, path: str, words: str
) -> None:
    (item,) = store(rt, make_item())
    r = frozen(app, now).test_client().get(path.format(id=item.id))
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert '<html lang="en">' in r.text and "This page cannot be shown" in r.text
    assert words in html.unescape(r.text)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item_id": 2**64}, "item_id"),
        ({"item_id": 0}, "item_id"),
        ({"slide": "s", "version": "\udfff x"}, "version"),
        ({"slide": "a\x00b"}, "slide"),
    ],
)
def test_a_heartbeat_with_an_id_or_text_no_player_sends_is_refused_naming_the_field(
    rt: Runtime, app: Any, now: Any, body: dict[str, Any], field: str
) -> None:
    headers = {"X-Screen-Token": player_token(rt)}
    r = post_json(app.test_client(), "/api/screens/daizawa-1/heartbeat", body, headers=headers)
    assert r.status_code == 400 and r.get_json()["field"] == field, r.get_data(as_text=True)


@pytest.mark.parametrize("item", ["1" + "0" * 30, str(2**31)])
def test_a_report_of_an_item_id_no_item_can_have_says_there_is_no_such_item(
    editor: Any, item: str
) -> None:
    r = editor.get(f"/admin/reports/plays.csv?item={item}")
    assert r.status_code == 404 and f"no item {item}" in r.text
    r = editor.get(f"/admin/reports/items/{item}")
    assert r.status_code == 404 and f"no item {item}" in r.text
    assert editor.get("/admin/reports/plays.csv?item=²").status_code == 200  # not a number: all
