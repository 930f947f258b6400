"""A push service rotates a resident's subscription and the service worker renews it; sign-ups
are limited per client address and per area, and run in the server's public lane."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import select

from publisher.deliver.webpush import unsubscribe_token
from publisher.runtime import Runtime
from publisher.store.models import PushSubscriptionRow
from publisher.web import create_app
from publisher.web.rate_limit import TokenBuckets, client_key
from publisher.web.server import Limits, is_priority
from tests.factories import DAIZAWA, api_item, pause
from tests.test_server import SOCKET_TIMEOUT_S, read_all, serve, status  # noqa: F401 (fixture)

FCM = "https://fcm.googleapis.com/fcm/send/"
KEYS = {"p256dh": "BOldPubKey_-", "auth": "OldAuth"}
NEW = {"endpoint": f"{FCM}rotated", "keys": {"p256dh": "BNewPubKey_-", "auth": "NewAuth"}}
UMEGAOKA = "setagaya/kitazawa/umegaoka"


def sub(name: str, keys: dict[str, str] = KEYS) -> dict[str, Any]:
    return {"endpoint": f"{FCM}{name}", "keys": keys}


def rows(rt: Runtime) -> list[tuple[Any, ...]]:
    with rt.session() as session:
        found = session.scalars(select(PushSubscriptionRow).order_by(PushSubscriptionRow.id))
        return [(r.id, r.endpoint, r.p256dh, r.auth, r.area_code, r.lang, r.choice) for r in found]


def subscribe(client: Any, name: str, **more: Any) -> Any:
    body = {"subscription": sub(name), "area": DAIZAWA, "lang": "en", "choice": "all", **more}
    return client.post("/notifications/subscribe", json=body)


class Clock:
    """A monotonic clock turned by hand."""

    def __init__(self) -> None:
        self.s = 1000.0

    def __call__(self) -> float:
        return self.s


# -- renewing a rotated subscription -------------------------------------------------------------


@pytest.mark.parametrize("proof", ["token", "auth"])
def test_a_rotated_subscription_keeps_its_area_language_and_choice_under_the_new_endpoint(
    client: Any, rt: Runtime, proof: str
) -> None:
    answer = subscribe(client, "old").get_json()
    (before,) = rows(rt)
    old = {"endpoint": f"{FCM}old"}
    old |= {"token": answer["token"]} if proof == "token" else {"auth": KEYS["auth"]}
    r = client.post("/notifications/resubscribe", json={"old": old, "subscription": NEW})
    assert r.status_code == 200, r.get_json()
    renewed = r.get_json()
    assert renewed["id"] == before[0] and renewed["area"] == DAIZAWA
    assert rows(rt) == [
        (before[0], NEW["endpoint"], "BNewPubKey_-", "NewAuth", DAIZAWA, "en", "all")
    ]
    secret = rt.settings.secret_key()
    assert renewed["token"] == unsubscribe_token(secret, before[0], NEW["endpoint"])
    # the old token proves nothing any more; the new one unsubscribes
    assert answer["token"] != renewed["token"]
    stale = client.post(f"/notifications/unsubscribe/{before[0]}/{answer['token']}")
    assert stale.status_code == 404 and len(rows(rt)) == 1
    again = {"old": {"endpoint": f"{FCM}old", "token": answer["token"]}, "subscription": NEW}
    assert client.post("/notifications/resubscribe", json=again).status_code == 404
    done = client.post(f"/notifications/unsubscribe/{before[0]}/{renewed['token']}")
    assert done.status_code == 200
    assert rows(rt) == []


@pytest.mark.parametrize(
    ("old", "new", "status", "message"),
    [
        ({"endpoint": f"{FCM}old", "token": "0" * 40}, NEW, 403, "does not match"),
        ({"endpoint": f"{FCM}old", "auth": "SomeoneElse"}, NEW, 403, "does not match"),
        ({"endpoint": f"{FCM}old", "token": "", "auth": ""}, NEW, 403, "does not match"),
        ({"endpoint": f"{FCM}old"}, NEW, 400, "old: give old.token"),
        ({"token": "x"}, NEW, 400, "old.endpoint: missing"),
        ("old", NEW, 400, "old.endpoint: missing"),
        ({"endpoint": f"{FCM}unknown", "auth": "OldAuth"}, NEW, 404, "subscribe again"),
        ({"endpoint": f"{FCM}old", "auth": "OldAuth"}, sub("x") | {"endpoint": "https://evil.example/x"},
         400, "subscription.endpoint: not the URL of a known push service"),
        ({"endpoint": f"{FCM}old", "auth": "OldAuth"}, {"endpoint": f"{FCM}n", "keys": {}},
         400, "subscription.keys.p256dh"),
        ({"endpoint": f"{FCM}old", "auth": "OldAuth"}, sub("other"), 409, "already subscribed"),
    ],
)  # fmt: skip
def test_nobody_renews_a_subscription_without_proving_they_held_it(
    client: Any, rt: Runtime, old: Any, new: Any, status: int, message: str
) -> None:
    subscribe(client, "old")
    subscribe(client, "other", area=UMEGAOKA)
    before = rows(rt)
    r = client.post("/notifications/resubscribe", json={"old": old, "subscription": new})
    assert r.status_code == status and message in r.get_json()["error"]
    assert rows(rt) == before


def test_a_renewal_that_is_not_json_is_refused_saying_why(client: Any) -> None:
    r = client.post("/notifications/resubscribe", data="{", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
    r = client.post("/notifications/resubscribe", data="x" * 5000, content_type="text/plain")
    assert r.status_code == 413


# -- sign-ups per client address -----------------------------------------------------------------


def test_sign_ups_from_one_address_are_limited_with_retry_after_in_the_residents_language(
    app: Any, client: Any, rt: Runtime
) -> None:
    clock = Clock()
    app.config["PUBLISHER_RATE_CLOCK"] = clock
    rt.settings["PUSH_SIGNUPS_PER_MINUTE"] = 3
    for i in range(3):
        assert subscribe(client, f"s{i}").status_code == 201
    r = subscribe(client, "s3")
    assert r.status_code == 429 and r.headers["Retry-After"] == "20"
    assert r.get_json() == {
        "error": "Too many sign-ups from this connection. "
        "Please wait about 20 seconds and try again.",
        "lang": "en",
        "retry_after_s": 20,
    }
    # a renewal counts too, and without a lang in the body the browser's language is used
    renewal = {"old": {"endpoint": f"{FCM}s0", "auth": "OldAuth"}, "subscription": NEW}
    r = client.post(
        "/notifications/resubscribe", json=renewal, headers={"Accept-Language": "ko-KR"}
    )
    assert r.status_code == 429 and r.get_json()["lang"] == "ko" and "20초" in r.get_json()["error"]
    # another address is not held back
    other = client.post(
        "/notifications/subscribe",
        json={"subscription": sub("elsewhere"), "area": DAIZAWA},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 201
    clock.s += 19
    assert subscribe(client, "s3").status_code == 429
    clock.s += 1
    assert subscribe(client, "s3").status_code == 201
    assert subscribe(client, "s4").status_code == 429
    clock.s += 60  # a full minute refills the whole allowance, no more
    assert [subscribe(client, f"t{i}").status_code for i in range(4)] == [201, 201, 201, 429]
    assert len(rows(rt)) == 8


def test_the_limit_follows_the_address_the_trusted_proxy_gives(rt: Runtime) -> None:
    rt.settings["PUSH_SIGNUPS_PER_MINUTE"] = 1
    rt.settings["PROXY_HOPS"] = 1
    behind = create_app(rt, {"TESTING": True, "PUBLISHER_RATE_CLOCK": Clock()}).test_client()

    def via_proxy(name: str, client_address: str) -> int:
        return int(
            behind.post(
                "/notifications/subscribe",
                json={"subscription": sub(name), "area": DAIZAWA},
                headers={"X-Forwarded-For": client_address},
            ).status_code
        )

    assert via_proxy("a", "203.0.113.1") == 201
    assert via_proxy("b", "203.0.113.2") == 201  # another resident behind the same proxy
    assert via_proxy("c", "203.0.113.1") == 429
    assert via_proxy("d", "2001:db8:1:2::1") == 201
    assert via_proxy("e", "2001:db8:1:2:ffff::9") == 429  # the same /64
    rt.settings["PROXY_HOPS"] = 0
    direct = create_app(rt, {"TESTING": True, "PUBLISHER_RATE_CLOCK": Clock()}).test_client()
    statuses = [
        direct.post(
            "/notifications/subscribe",
            json={"subscription": sub(f"f{i}"), "area": DAIZAWA},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},  # forged: no proxy is trusted
        ).status_code
        for i in range(2)
    ]
    assert statuses == [201, 429]


def test_client_keys_and_buckets() -> None:
    assert client_key("192.0.2.5") == "192.0.2.5"
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert client_key("::ffff:192.0.2.5") == "192.0.2.5"
    assert client_key(None) == "unknown" and client_key("not an address") == "not an address"
    clock = Clock()
    buckets = TokenBuckets(2, clock, max_clients=2)
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(30)
    clock.s -= 100  # a clock that goes back gives nothing
    assert buckets.take("a") == pytest.approx(30)
    buckets.take("b"), buckets.take("c")
    assert len(buckets) == 2 and buckets.take("a") == 0  # "a", seen longest ago, was forgotten
    assert TokenBuckets.retry_after_s(0.2) == 1 and TokenBuckets.retry_after_s(20.01) == 21


# -- subscriptions per area, one per endpoint ----------------------------------------------------


def test_an_area_holds_at_most_its_share_of_subscriptions(client: Any, rt: Runtime) -> None:
    rt.settings["PUSH_MAX_PER_AREA"] = 2
    assert subscribe(client, "a").status_code == 201
    assert subscribe(client, "b").status_code == 201
    full = subscribe(client, "c", lang="ja")
    assert full.status_code == 403
    assert full.get_json()["error"] == (
        "この地域の通知は登録数の上限に達しています。RSS フィードをご利用ください。"
    )
    # one endpoint is one subscription: subscribing again changes it, and is not refused
    assert subscribe(client, "a", lang="ko", choice="alerts").status_code == 201
    assert subscribe(client, "x", area=UMEGAOKA).status_code == 201
    moved = subscribe(client, "x")  # into the full area: refused, and it stays where it was
    assert moved.status_code == 403 and "full" in moved.get_json()["error"]
    assert [(r[1].rsplit("/", 1)[1], r[4], r[5]) for r in rows(rt)] == [
        ("a", DAIZAWA, "ko"), ("b", DAIZAWA, "en"), ("x", UMEGAOKA, "en")
    ]  # fmt: skip
    # a renewal replaces in place: it never needs room
    renewal = {"old": {"endpoint": f"{FCM}a", "auth": "OldAuth"}, "subscription": NEW}
    assert client.post("/notifications/resubscribe", json=renewal).status_code == 200


# -- lanes -----------------------------------------------------------------------------------------


def test_residents_sign_ups_run_in_the_public_lane_never_ahead_of_staff_or_alerts() -> None:
    for path in (
        "/notifications/subscribe",
        "/notifications/resubscribe",
        "/notifications/unsubscribe",
        "/notifications/unsubscribe/1/abc",
    ):
        assert not is_priority("POST", path)
    assert is_priority("POST", "/admin/items") and is_priority("POST", "/api/alerts")
    assert is_priority("POST", "/api/items") and is_priority("POST", "/api/screens/s/heartbeat")
    assert is_priority("GET", "/healthz") and not is_priority("GET", "/notifications/key")


class SlowSignUps:
    """The app, except that sign-ups wait until released: a flood that holds every thread."""

    def __init__(self, app: Any):
        self.app = app
        self.config = app.config
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/notifications/subscribe":
            self.started.release()
            self.release.wait(SOCKET_TIMEOUT_S)
        return self.app(environ, start_response)


def test_a_flood_of_sign_ups_is_shed_while_staff_create_an_alert(
    app: Any,
    serve: Any,  # noqa: F811
    token_for: Any,
) -> None:
    wsgi = SlowSignUps(app)
    srv = serve(Limits(public_threads=1, priority_threads=1, public_queue=1), wsgi)
    body = json.dumps({"subscription": sub("flood"), "area": DAIZAWA}).encode()
    raw = (
        b"POST /notifications/subscribe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    )
    running = srv.connect()
    running.sendall(raw)
    assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    queued = srv.connect()
    queued.sendall(raw)
    shed = b""
    for _ in range(50):  # until the queued one is counted
        shed = srv.request(raw)
        if status(shed) == 503:
            break
        pause(0.02)
    assert status(shed) == 503 and b"Retry-After: 5" in shed
    created = srv.post("/api/items", api_item(starts_at=None, ends_at=None), token_for("admin", "setagaya"))  # fmt: skip
    assert status(created) == 201  # the priority lane was free: no sign-up was in it
    wsgi.release.set()
    assert status(read_all(running)) == 201 and status(read_all(queued)) == 201
