"""A resident clicks through Daizawa's page in Chromium and subscribes; an approved emergency
then reaches the (local) push service in the resident's language, a drill arrives marked, the
service worker shows what it receives, and the page's button unsubscribes.

What is stubbed, and why: Chromium's real ``PushManager.subscribe`` asks Google's FCM for an
endpoint, and this machine has no network. An init script replaces ``subscribe`` and
``getSubscription`` (only those two) with ones returning a subscription at the local stand-in
push service, with keys made here as a browser makes them. Everything else is real: the page's
script, the service worker's registration, the permission prompt (granted), the POST to the
server, the server's VAPID-signed aes128gcm request (verified and decrypted by the stand-in),
and the service worker's ``push`` handler, fed through the DevTools protocol
(``ServiceWorker.deliverPushMessage``), showing the notification.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from publisher.deliver import webpush
from publisher.runtime import Runtime
from publisher.store import staff, workflow
from publisher.store.models import PushSubscriptionRow
from tests.factories import DAIZAWA, pause
from tests.push_helpers import Browser, PushService, push_service
from tests.test_player_browser import Server, browser  # noqa: F401 (the browser fixture)

STUB = """(() => {
  const sub = %s;
  let current = null;
  window.__subscribedWithKey = null;
  const make = () => ({
    endpoint: sub.endpoint,
    expirationTime: null,
    toJSON: () => sub,
    unsubscribe: () => { current = null; return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__subscribedWithKey = btoa(String.fromCharCode(...key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    current = make();
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();"""

EMERGENCY = {
    "kind": "alert",
    "priority": "emergency",
    "title": {"ja": "避難指示 代沢地区", "en": "Evacuation order: Daizawa"},
    "body": {"ja": "代沢小学校へ避難してください。", "en": "Go to Daizawa Elementary School."},
    "targets": [DAIZAWA],
}


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as s:
        yield s


WAIT_STEPS = 1000  # of 0.02 s: a loaded machine may take seconds to start a service worker


def approve(rt: Runtime, data: dict[str, Any]) -> float:
    """Create an approved item (the listeners run on commit); returns time.monotonic() just
    before."""
    started = time.monotonic()
    with rt.session() as session:
        workflow.create(session, rt.tree, staff.operator(rt.tree), data)
    return started


def received(service: PushService, name: str, n: int, seconds: float = 10) -> list[Any]:
    for _ in range(int(seconds / 0.02)):
        with service.lock:
            got = list(service.received[name])
        if len(got) >= n:
            return got
        pause(0.02)
    raise AssertionError(f"{name}: {len(got)} of {n} messages after {seconds} s")


def subscriptions(rt: Runtime) -> list[PushSubscriptionRow]:
    with rt.session() as session:
        return list(session.scalars(select(PushSubscriptionRow)))


@pytest.mark.browser
def test_a_resident_subscribes_on_the_area_page_and_hears_the_emergency_in_english(
    rt: Runtime,
    service: PushService,
    browser: Any,  # noqa: F811
) -> None:
    rt.settings["PUSH_SERVICES"] = f"fcm.googleapis.com,{service.origin}"
    phone: Browser = service.browser("phone")
    server = Server(rt)
    try:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP")
        context.grant_permissions(["notifications"], origin=server.url)
        context.add_init_script(STUB % json.dumps(phone.subscription()))
        page = context.new_page()
        page.goto(f"{server.url}/areas/{DAIZAWA}")
        form = page.locator("#notify form")
        form.wait_for(state="visible")
        page.locator("#notify select[name=lang]").select_option("en")
        page.locator("#notify input[value=all]").check()
        page.locator("#notify button.notify-on").click()
        page.locator("#notify .notify-status", has_text="通知が届きます").wait_for()
        assert page.locator("#notify button.notify-off").is_visible()
        page.locator("#notify").screenshot(path="/tmp/issue-19-area-notify.png")
        key = webpush.application_server_key(rt.settings.data_dir)
        assert page.evaluate("window.__subscribedWithKey") == key
        (row,) = subscriptions(rt)
        assert (row.endpoint, row.area_code, row.lang, row.choice) == (
            phone.endpoint, DAIZAWA, "en", "all"
        )  # fmt: skip

        approved = approve(rt, dict(EMERGENCY, starts_at=None, ends_at=None))
        (emergency,) = received(service, "phone", 1)
        print(f"\napproval → push service: {(emergency.at - approved) * 1000:.0f} ms")
        assert emergency.data["title"] == "[EMERGENCY] Evacuation order: Daizawa"
        assert emergency.data["lang"] == "en" and emergency.data["emergency"] is True

        drill = dict(EMERGENCY, drill=True, title={"ja": "避難訓練", "en": "Evacuation drill"})
        approve(
            rt,
            dict(drill, body={"ja": "訓練です。", "en": "A drill."}, starts_at=None, ends_at=None),
        )
        marked = received(service, "phone", 2)[1].data
        assert marked["title"] == "[DRILL] Evacuation drill" and marked["drill"] is True

        # the service worker shows what arrives (the push event fed through DevTools)
        cdp = context.new_cdp_session(page)
        registrations: list[Any] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.extend(e["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        for _ in range(WAIT_STEPS):
            if any(r["scopeURL"].endswith("/notifications/") for r in registrations):
                break
            page.evaluate("1")  # lets Playwright hand over the protocol's events
            pause(0.02)
        (reg,) = [r for r in registrations if r["scopeURL"].endswith("/notifications/")][:1]
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.url,
                "registrationId": reg["registrationId"],
                "data": json.dumps(marked),
            },
        )
        shown: list[Any] = []
        for _ in range(WAIT_STEPS):
            shown = page.evaluate(
                """() => navigator.serviceWorker.getRegistration('/notifications/')
                  .then(r => r.getNotifications())
                  .then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag,
                    lang: n.lang, actions: n.actions.map(a => a.title), data: n.data})))"""
            )
            if shown:
                break
            pause(0.02)
        assert [(n["title"], n["lang"], n["tag"]) for n in shown] == [
            ("[DRILL] Evacuation drill", "en", marked["tag"])
        ]
        assert shown[0]["actions"] == ["Read more", "Stop notifications"]
        assert shown[0]["data"]["unsubscribe"] == marked["unsubscribe"]

        # unsubscribing on the page forgets the subscription on the server
        page.locator("#notify button.notify-off").click()
        page.locator("#notify .notify-status", has_text="通知は届きません").wait_for()
        assert subscriptions(rt) == []
        context.close()
    finally:
        server.stop()
        webpush.sender(rt).close()


@pytest.mark.browser
def test_without_push_support_the_page_says_so_and_offers_rss(
    rt: Runtime,
    browser: Any,  # noqa: F811
) -> None:
    server = Server(rt)
    try:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{server.url}/areas/{DAIZAWA}")
        assert not page.locator("#notify form").is_visible()
        context.close()
        context = browser.new_context()
        context.add_init_script("delete window.PushManager;")
        page = context.new_page()
        page.goto(f"{server.url}/areas/{DAIZAWA}")
        page.locator("#notify .notify-unsupported").wait_for(state="visible")
        assert not page.locator("#notify form").is_visible()
        context.close()
    finally:
        server.stop()


ROTATE = """async ([next, oldKey, giveOld]) => {
  // The push service rotated the subscription: the browser's subscribe() now returns `next`.
  self.__subscribedWithKey = null;
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    self.__subscribedWithKey = btoa(String.fromCharCode(...key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    return Promise.resolve({ endpoint: next.endpoint, toJSON: () => next });
  };
  // DevTools cannot fire pushsubscriptionchange: an event of that name with the same fields
  // goes through the worker's own listener instead. `giveOld`: the browser names the old
  // subscription (its endpoint and key, not its secrets); else it gives none, as some do.
  const event = new Event("pushsubscriptionchange");
  let done = null;
  event.waitUntil = (p) => { done = p; };
  event.oldSubscription = giveOld ? {
    endpoint: oldKey.endpoint,
    options: { applicationServerKey: keyBytes(oldKey.key).buffer },
    toJSON: () => ({ endpoint: oldKey.endpoint }),
  } : null;
  event.newSubscription = null;
  self.dispatchEvent(event);
  await done;
  const kept = await (await caches.open("publisher-notify")).match("/notifications/subscription");
  return { key: self.__subscribedWithKey, kept: await kept.json() };
}"""


def kept_in_page(page: Any) -> Any:
    return page.evaluate(
        """() => caches.open('publisher-notify')
          .then(c => c.match('/notifications/subscription')).then(r => r && r.json())"""
    )


@pytest.mark.browser
def test_the_service_worker_renews_a_rotated_subscription_and_notifications_follow_it(
    rt: Runtime,
    service: PushService,
    browser: Any,  # noqa: F811
) -> None:
    """The page keeps the server's token; on pushsubscriptionchange the worker subscribes again
    with the same key and the server moves the subscription (area, language, choice) to the
    new endpoint; a renewal the server cannot place becomes a new sign-up from what was kept."""
    rt.settings["PUSH_SERVICES"] = f"fcm.googleapis.com,{service.origin}"
    phone, rotated, again = (service.browser(n) for n in ("phone", "rotated", "again"))
    server = Server(rt)
    try:
        context = browser.new_context(locale="ja-JP")
        context.grant_permissions(["notifications"], origin=server.url)
        context.add_init_script(STUB % json.dumps(phone.subscription()))
        page = context.new_page()
        page.goto(f"{server.url}/areas/{DAIZAWA}")
        page.locator("#notify form").wait_for(state="visible")
        page.locator("#notify select[name=lang]").select_option("en")
        page.locator("#notify input[value=all]").check()
        rt.settings["PUSH_MAX_PER_AREA"] = 0  # a full area: the server's words, the page's language
        page.locator("#notify button.notify-on").click()
        page.locator("#notify .notify-status", has_text="上限に達しています").wait_for()
        assert subscriptions(rt) == []
        rt.settings["PUSH_MAX_PER_AREA"] = 100_000
        page.locator("#notify button.notify-on").click()
        page.locator("#notify .notify-status", has_text="通知が届きます").wait_for()
        (first,) = subscriptions(rt)
        secret = rt.settings.secret_key()
        record = kept_in_page(page)
        assert record == {
            "endpoint": phone.endpoint,
            "token": webpush.unsubscribe_token(secret, first.id, phone.endpoint),
            "area": DAIZAWA,
            "lang": "en",
            "choice": "all",
        }
        worker = next(
            (w for w in context.service_workers if w.url.endswith("/notifications/sw.js")), None
        ) or context.wait_for_event("serviceworker", timeout=10_000)
        key = webpush.application_server_key(rt.settings.data_dir)

        # the browser names the old subscription: its key is used again, the kept token proves it
        old = {"endpoint": phone.endpoint, "key": key}
        out = worker.evaluate(ROTATE, [rotated.subscription(), old, True])
        assert out["key"] == key
        (row,) = subscriptions(rt)
        assert (row.id, row.endpoint, row.p256dh, row.area_code, row.lang, row.choice) == (
            first.id, rotated.endpoint, rotated.p256dh, DAIZAWA, "en", "all"
        )  # fmt: skip
        assert out["kept"]["endpoint"] == rotated.endpoint
        assert out["kept"]["token"] == webpush.unsubscribe_token(secret, row.id, rotated.endpoint)

        # an emergency now reaches the new endpoint, encrypted to the new keys
        approve(rt, dict(EMERGENCY, starts_at=None, ends_at=None))
        (message,) = received(service, "rotated", 1)
        assert message.data["title"] == "[EMERGENCY] Evacuation order: Daizawa"
        assert service.received["phone"] == []

        # the server forgot it meanwhile (its push service said gone); the browser names no old
        # subscription: the kept record names it, the server answers 404, and the worker signs
        # up anew with the kept area, language and choice, under the server's key
        with rt.session() as session:
            session.delete(session.get(PushSubscriptionRow, row.id))
        out = worker.evaluate(ROTATE, [again.subscription(), old, False])
        assert out["key"] == key
        (renewed,) = subscriptions(rt)
        assert (renewed.endpoint, renewed.area_code, renewed.lang, renewed.choice) == (
            again.endpoint, DAIZAWA, "en", "all"
        )  # fmt: skip
        assert out["kept"]["endpoint"] == again.endpoint
        context.close()
    finally:
        server.stop()
        webpush.sender(rt).close()
