"""The staff admin's login throttling, image uploads, previews, alerts and audit log."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from publisher.store.content import get_item
from tests.admin_helpers import (
    PASSWORD,
    Staff,
    cheap_hashes,
    created_id,
    make_user,
    notice_form,
    staff_accounts,
)
from tests.factories import DAIZAWA, KITAZAWA, api_item


@pytest.fixture
def staff(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, app)


@pytest.fixture
def clock(app, now):
    """The admin's clock, moved by hand: ``clock.at += timedelta(minutes=16)``."""

    class Clock:
        at = now

    app.config["PUBLISHER_CLOCK"] = lambda: Clock.at
    return Clock


# -- throttling ---------------------------------------------------------------------------------


def test_five_wrong_passwords_slow_the_account_for_seconds_not_minutes(rt, app, clock, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    s = Staff(app.test_client())
    for _ in range(5):
        assert s.login("daizawa-editor", "wrong password!").status_code == 401
    refused = s.login("daizawa-editor", PASSWORD)
    assert refused.status_code == 401  # the 6th, with the right password
    unknown = s.login("nobody-here", "wrong password!")
    assert refused.text.count("ログインできませんでした") == 1
    assert "ログインできませんでした" in unknown.text  # same words: no hint who exists
    clock.at += timedelta(seconds=1)
    assert s.login("daizawa-editor", PASSWORD).status_code == 401  # a 2 s delay after five
    clock.at += timedelta(seconds=2)
    assert s.login("daizawa-editor", PASSWORD).status_code == 302


def test_many_failures_from_one_address_refuse_it_whatever_the_account(rt, app, clock, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    s = Staff(app.test_client())
    for n in range(20):
        assert s.login(f"guess-{n}", "wrong password!").status_code == 401
    r = s.login("daizawa-editor", PASSWORD)
    assert r.status_code == 429 and "15分ほど待って" in r.text
    other = Staff(app.test_client())
    page = other.client.get("/admin/login", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    from tests.admin_helpers import csrf_from

    r = other.client.post(
        "/admin/login",
        data={"name": "daizawa-editor", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert r.status_code == 302  # another office is not punished
    clock.at += timedelta(minutes=16)
    assert s.login("daizawa-editor", PASSWORD).status_code == 302


def test_no_password_reaches_the_log(rt, app, clock, monkeypatch, caplog):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    s = Staff(app.test_client())
    s.login("daizawa-editor", "my-secret-typo")
    s.login("my-password-in-the-name-box", "x")
    s.login("daizawa-editor", PASSWORD)
    logged = caplog.text
    assert "my-secret-typo" not in logged and "my-password-in-the-name-box" not in logged
    assert PASSWORD not in logged


# -- images -------------------------------------------------------------------------------------


def _jpeg_with_exif(size=(800, 600)) -> bytes:
    img = Image.new("RGB", size, "#3366aa")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0132] = "2026:11:22 09:00:00"  # DateTime
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _upload(s, data: bytes, filename: str, **fields):
    """Post the form with a file, encoded here so the test client keeps no temp file open."""
    fields.setdefault("image_alt.ja", "公園の落ち葉")
    form = MultiDict({"csrf_token": s.token, **notice_form(intent="draft", **fields)})
    form.setlist("targets", [DAIZAWA])
    form["image_file"] = FileStorage(io.BytesIO(data), filename)
    stream, length, boundary = stream_encode_multipart(form)
    with stream:
        body = stream.read()
    return s.client.post(
        "/admin/items/new", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_an_uploaded_photo_is_stored_without_its_exif(staff, rt):
    s = staff("daizawa-editor")
    original = _jpeg_with_exif()
    assert b"SecretCam" in original
    item_id = created_id(_upload(s, original, "leaves.jpg"))
    with rt.session() as session:
        name = get_item(session, item_id).image
    stored = (rt.settings.data_dir / "uploads" / name).read_bytes()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as img:
        assert img.size == (800, 600) and not img.getexif()
    served = s.get(f"/admin/uploads/{name}")
    assert served.status_code == 200 and served.data == stored
    served.close()
    assert s.get("/admin/uploads/..%2Fpublisher.db").status_code == 404


def test_a_file_that_is_not_an_image_is_refused_next_to_the_image_field(staff, rt):
    s = staff("daizawa-editor")
    r = _upload(s, b"%PDF-1.4 not an image", "leaves.jpg")
    assert r.status_code == 400
    assert 'id="err-f-image"' in r.text and "画像として読み込めません" in r.text
    assert "落ち葉清掃" in r.text  # what was typed is kept


def test_a_photo_sent_with_a_refused_form_is_not_kept(staff, rt):
    s = staff("daizawa-editor")
    r = _upload(s, _jpeg_with_exif(), "leaves.jpg", **{"title.ja": ""})
    assert r.status_code == 400
    uploads = rt.settings.data_dir / "uploads"
    assert not uploads.exists() or list(uploads.iterdir()) == []


def test_changing_only_the_image_is_saved_and_only_uploaded_images_are_accepted(
    rt, client, token_for
):
    token = {"Authorization": f"Bearer {token_for('approver', DAIZAWA)}"}
    item = client.post("/api/items", json=api_item(), headers=token).get_json()
    name = "0123456789abcdef0123456789abcdef.jpg"
    change = {
        "image": name,
        "image_alt": {"ja": "紅葉した公園の木々"},
        "revision": item["revision"],
    }
    r = client.patch(f"/api/items/{item['id']}", json=change, headers=token)
    assert r.status_code == 200 and r.get_json()["image"] == name
    assert r.get_json()["revision"] == item["revision"] + 1
    for bad in ("../../etc/passwd", "https://evil.example/x.jpg", 12, ["a.jpg"]):
        r = client.patch(
            f"/api/items/{item['id']}", json={"image": bad, "revision": 2}, headers=token
        )
        assert r.status_code == 400 and r.get_json()["field"] == "image", bad


def test_an_oversized_image_is_refused(staff):
    s = staff("daizawa-editor")
    huge = io.BytesIO()
    Image.new("RGB", (4100, 300), "white").save(huge, format="PNG")
    r = _upload(s, huge.getvalue(), "wide.png")
    assert r.status_code == 400 and "画像が大きすぎます" in r.text
    padded = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(padded, format="PNG")
    too_heavy = padded.getvalue() + b"\0" * (5 * 1024 * 1024)  # a valid PNG, 5 MB and more
    r = _upload(s, too_heavy, "heavy.png")
    assert r.status_code == 400 and "画像が大きすぎます" in r.text
    r = _upload(s, b"\0" * (9 * 1024 * 1024), "huge.png")  # over the request limit
    assert r.status_code == 413 and "画像が大きすぎます" in r.text


# -- preview ------------------------------------------------------------------------------------


def test_the_form_previews_the_slide_in_both_orientations(staff):
    s = staff("daizawa-editor")
    for orientation, size in (("landscape", (960, 540)), ("portrait", (540, 960))):
        r = s.post(f"/admin/items/preview-{orientation}.png", notice_form())
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(r.data)) as img:
            assert img.size == size
    assert (
        s.post("/admin/items/preview-landscape.png", notice_form(targets=[KITAZAWA])).status_code
        == 403
    )


def test_a_saved_item_previews_its_post_for_every_network(staff):
    s = staff("daizawa-editor")
    item_id = created_id(s.post("/admin/items/new", notice_form()))
    page = s.get(f"/admin/items/{item_id}").text
    for network in ("x", "mastodon", "bluesky", "line"):
        assert f'data-network="{network}"' in page
    assert "#世田谷区 #代沢地区" in page
    assert f"/items/{item_id}" in page
    assert 'class="feed-title">' in page and "準備中" not in page


# -- emergencies --------------------------------------------------------------------------------


def _alert_form(**overrides):
    data = {
        "title.ja": "【避難指示】多摩川の増水",
        "body.ja": "多摩川の水位が上昇しています。ただちに避難してください。",
        "targets": [DAIZAWA],
        "priority": "emergency",
        "warning_level": "4",
    }
    data.update(overrides)
    return data


def test_an_alert_needs_an_explicit_drill_or_real_choice(staff):
    s = staff("kitazawa-approver")
    r = s.post("/admin/emergency", _alert_form())
    assert r.status_code == 400 and "「訓練」か「実際」" in r.text
    assert 'id="err-f-drill"' in r.text
    assert "発信中の緊急情報はありません" in r.text


def test_a_drill_is_published_at_once_marked_as_a_drill_and_ended_with_one_click(staff, client, rt):
    s = staff("kitazawa-approver")
    assert s.post("/admin/emergency", _alert_form(drill="drill")).status_code == 302
    live = client.get(f"/api/items?area={DAIZAWA}").get_json()["items"]
    assert len(live) == 1
    alert = live[0]
    assert alert["drill"] is True and alert["alert"]["cap_status"] == "Exercise"
    assert alert["priority"] == "emergency" and alert["alert"]["warning_level"] == 4
    page = s.get("/admin/emergency").text
    assert "訓練" in page and "終了する" in page
    r = s.post(f"/admin/items/{alert['id']}/withdraw", {"back": "emergency"})
    assert r.headers["Location"].endswith("/admin/emergency")
    assert client.get(f"/api/items?area={DAIZAWA}").get_json()["items"] == []


def test_an_editor_cannot_publish_an_alert(staff):
    s = staff("daizawa-editor")
    assert s.post("/admin/emergency", _alert_form(drill="actual")).status_code == 403


# -- audit --------------------------------------------------------------------------------------


def test_the_audit_page_shows_who_changed_what_before_and_after(staff):
    s = staff("daizawa-editor")
    item_id = created_id(s.post("/admin/items/new", notice_form(intent="draft")))
    s.edit(item_id, notice_form(**{"title.ja": "落ち葉清掃（雨天中止）"}, intent="save"))
    page = s.get(f"/admin/audit?entity_id={item_id}").text
    assert "daizawa-editor" in page
    before, after = page.split('class="before"'), page.split('class="after"')
    assert any("代沢地区 落ち葉清掃のお知らせ" in b.split("</td>")[0] for b in before[1:])
    assert any("落ち葉清掃（雨天中止）" in a.split("</td>")[0] for a in after[1:])
    assert "&#34;revision&#34;" not in page  # bookkeeping is not a change
    other = staff("kinuta-approver").get(f"/admin/audit?entity_id={item_id}").text
    assert "雨天中止" not in other  # outside the approver's scope
