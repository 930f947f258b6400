"""Residents subscribe and unsubscribe over HTTP (the area page's script and each
notification's link); staff print posters and bulletins from the command line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from publisher.cli.main import cli
from publisher.deliver import webpush
from publisher.deliver.webpush import KEY_FILE, unsubscribe_token
from publisher.runtime import Runtime
from publisher.store import staff, workflow
from publisher.store.models import PushSubscriptionRow
from tests.factories import DAIZAWA, api_item

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123"
SUB = {"endpoint": ENDPOINT, "keys": {"p256dh": "BPubKey_-", "auth": "AuthKey"}}


def count(rt: Runtime) -> int:
    with rt.session() as session:
        return int(session.scalar(select(func.count()).select_from(PushSubscriptionRow)) or 0)


def test_the_area_page_offers_notifications_and_a_path_without_javascript(client: Any) -> None:
    page = client.get(f"/areas/{DAIZAWA}").get_data(as_text=True)
    assert 'id="notify"' in page and f'data-area="{DAIZAWA}"' in page
    assert '<script src="/static/public/notify.js" defer></script>' in page
    assert "<noscript>" in page and "JavaScript が必要です" in page
    assert f"/feeds/{DAIZAWA}.rss" in page and "/q/a~setagaya~kitazawa~daizawa" in page
    with client.get("/static/public/notify.js") as script:
        assert script.status_code == 200 and b"pushManager.subscribe" in script.data
    with client.get("/notifications/sw.js") as worker:
        assert worker.status_code == 200 and worker.mimetype == "text/javascript"
        assert b"showNotification" in worker.data and b"notificationclick" in worker.data


def test_a_browser_subscribes_changes_its_mind_and_unsubscribes(client: Any, rt: Runtime) -> None:
    key = client.get("/notifications/key").get_json()["key"]
    assert len(key) == 87 and (rt.settings.data_dir / KEY_FILE).stat().st_mode & 0o777 == 0o600
    r = client.post("/notifications/subscribe", json={"subscription": SUB, "area": DAIZAWA})
    assert r.status_code == 201 and r.get_json()["area"] == DAIZAWA
    again = {"subscription": SUB, "area": DAIZAWA, "lang": "en", "choice": "all"}
    assert client.post("/notifications/subscribe", json=again).status_code == 201
    assert count(rt) == 1
    with rt.session() as session:
        row = session.scalars(select(PushSubscriptionRow)).one()
        assert (row.lang, row.choice) == ("en", "all")
    r = client.post("/notifications/unsubscribe", json={"endpoint": ENDPOINT})
    assert r.get_json() == {"ok": True, "removed": True} and count(rt) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "must be a JSON object"),
        ({"area": DAIZAWA}, "subscription: missing"),
        ({"subscription": dict(SUB, endpoint="https://evil.example/x"), "area": DAIZAWA},
         "not the URL of a known push service"),
        ({"subscription": SUB, "area": "setagaya/kitazwa"}, "area: unknown area"),
        ({"subscription": SUB, "area": DAIZAWA, "lang": "fr"}, "lang: one of"),
        ({"subscription": {"endpoint": ENDPOINT, "keys": {"p256dh": "<script>", "auth": "a"}},
          "area": DAIZAWA}, "keys.p256dh"),
    ],
)  # fmt: skip
def test_a_bad_subscription_is_refused_saying_why(client: Any, body: Any, message: str) -> None:
    if isinstance(body, str):
        r = client.post("/notifications/subscribe", data=body, content_type="application/json")
    else:
        r = client.post("/notifications/subscribe", json=body)
    assert r.status_code == 400 and message in r.get_json()["error"]


def test_the_link_in_a_notification_unsubscribes_after_one_click(client: Any, rt: Runtime) -> None:
    client.post("/notifications/subscribe", json={"subscription": SUB, "area": DAIZAWA})
    with rt.session() as session:
        sub_id = session.scalars(select(PushSubscriptionRow.id)).one()
    token = unsubscribe_token(rt.settings.secret_key(), sub_id, ENDPOINT)
    url = f"/notifications/unsubscribe/{sub_id}/{token}"
    page = client.get(url)  # a link checker's GET changes nothing
    assert page.status_code == 200 and "代沢地区の通知" in page.get_data(as_text=True)
    assert count(rt) == 1
    assert client.get(f"/notifications/unsubscribe/{sub_id}/{'0' * 40}").status_code == 404
    assert client.post(f"/notifications/unsubscribe/{sub_id}/{'0' * 40}").status_code == 404
    done = client.post(url)
    assert done.status_code == 200 and "通知を停止しました" in done.get_data(as_text=True)
    assert count(rt) == 0
    assert client.post(url).status_code == 200  # again: already gone, said so calmly
    assert client.post(f"/notifications/unsubscribe/{2**63}/{token}").status_code == 200
    assert client.get(f"/items/{2**63}/poster.pdf").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "lang", "message"),
    [
        ("GET", "/notifications/subscribe", "ko", "등록하지 못했습니다"),
        ("PUT", "/notifications/resubscribe", "en", "Could not sign up"),
        ("DELETE", "/notifications/unsubscribe", None, "登録できませんでした"),
        ("PATCH", "/notifications/key", "zh-Hans", None),
    ],
)
def test_a_wrong_method_on_notifications_is_refused_in_json_in_the_residents_language(
    client: Any, method: str, path: str, lang: str | None, message: str | None
) -> None:
    query = f"?lang={lang}" if lang else ""
    r = client.open(path + query, method=method, data="<html>", content_type="text/html")
    assert r.status_code == 405 and r.mimetype == "application/json"
    body = r.get_json()
    assert f"{method} is not allowed on {path}" in body["error"]
    assert body["lang"] == (lang or "ja")
    if message:
        assert message in body["message"]
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert ("POST" in allowed) != (path == "/notifications/key") and "OPTIONS" in allowed
    assert r.headers["Cache-Control"] == "no-store"


def test_a_wrong_method_elsewhere_keeps_its_usual_answer(client: Any) -> None:
    page = client.delete("/play/sw.js")
    assert (
        page.status_code == 405 and page.mimetype == "text/html" and "GET" in page.headers["Allow"]
    )
    api = client.put("/api/items")
    assert api.status_code == 405 and "error" in api.get_json()


@pytest.fixture
def run(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def test_publisher_print_writes_a_poster_and_a_bulletin(
    run: Any, rt: Runtime, tmp_path: Path
) -> None:
    with rt.session() as session:
        item = workflow.create(session, rt.tree, staff.operator(rt.tree), api_item())
    out = tmp_path / "poster.pdf"
    code, text = run("print", str(item.id), "--size", "a3", "--lang", "en", "--out", str(out))
    assert code == 0, text
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "841.89 x 1190.55 pts (A3)" in info
    assert (
        "Fallen-leaf"
        in subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    )
    code, text = run("print", "9999", "--out", str(out))
    assert code != 0 and "no item 9999" in text
    code, text = run("print", str(item.id), "--out", str(tmp_path / "poster.png"))
    assert code != 0 and "must end in .pdf" in text
    bulletin = tmp_path / "bulletin.pdf"
    code, text = run("bulletin", DAIZAWA, "--week", "2026-11-29", "--out", str(bulletin))
    assert code == 0, text
    assert (
        "代沢地区"
        in subprocess.run(["pdftotext", str(bulletin), "-"], capture_output=True, text=True).stdout
    )
    code, text = run("bulletin", "setagaya/kitazwa/daizawa", "--out", str(bulletin))
    assert code != 0 and "did you mean 'setagaya/kitazawa/daizawa'" in text
    code, text = run("bulletin", DAIZAWA, "--lang", "en", "--out", str(bulletin))
    assert code == 0, text
    english = subprocess.run(["pdftotext", str(bulletin), "-"], capture_output=True, text=True)
    assert "Daizawa District: this week" in english.stdout
    code, text = run("bulletin", DAIZAWA, "--lang", "fr", "--out", str(bulletin))
    assert code != 0 and "lang: one of" in text


def test_staff_print_posters_and_bulletins_and_see_subscribers_per_area(
    rt: Runtime, app: Any, client: Any, monkeypatch: pytest.MonkeyPatch, now: Any
) -> None:
    """The item page has a print button (also before the window opens); the print page lists
    each district in scope with its bulletins and its number of subscribers, nothing more."""
    from tests.admin_helpers import cheap_hashes, staff_accounts

    cheap_hashes(monkeypatch)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    webpush.sender(rt, send_on_change=False)  # these endpoints are not to be called
    login = staff_accounts(rt, app)
    for i, area in enumerate(
        [DAIZAWA, DAIZAWA, "setagaya/kitazawa/umegaoka", "setagaya/kinuta/seijo"]
    ):
        sub = {"endpoint": f"{ENDPOINT}{i}", "keys": SUB["keys"]}
        assert (
            client.post(
                "/notifications/subscribe", json={"subscription": sub, "area": area}
            ).status_code
            == 201
        )
    with rt.session() as session:
        later = workflow.create(
            session, rt.tree, staff.operator(rt.tree),
            api_item(starts_at="2027-01-05T00:00:00+09:00", ends_at="2027-01-31T00:00:00+09:00"),
        )  # fmt: skip
    approver = login("kitazawa-approver")
    page = approver.get(f"/admin/items/{later.id}").text
    assert f'action="/admin/items/{later.id}/poster.pdf"' in page and "ポスターを印刷" in page
    pdf = approver.get(f"/admin/items/{later.id}/poster.pdf?size=A3&lang=en")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get(f"/items/{later.id}/poster.pdf").status_code == 404  # not public yet
    listing = approver.get("/admin/print").text
    assert "印刷と通知" in listing
    assert f'<tr data-area="{DAIZAWA}">' in listing
    assert "setagaya/kinuta/seijo" not in listing  # outside Kitazawa's scope
    rows = dict(
        re.findall(r'<tr data-area="([^"]+)">.*?<td class="push-count">(\d+)</td>', listing, re.S)
    )
    assert rows[DAIZAWA] == "2" and rows["setagaya/kitazawa/umegaoka"] == "1"
    assert rows["setagaya/kitazawa"] == "0"
    assert '<span class="push-total">3</span>' in listing
    assert f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-W47" in listing  # this week (22 Nov)
    assert f"/areas/{DAIZAWA}/bulletin.pdf?week=2026-W48" in listing
    assert ENDPOINT not in listing
    editor = login("umegaoka-editor")
    assert editor.get(f"/admin/items/{later.id}/poster.pdf").status_code == 404  # not theirs
