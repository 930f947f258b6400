"""Item pictures and edit conflicts without a browser: slides, pages, feeds, who may fetch a
picture, the API's revisions (ETag, If-Match, 409, 428) and the admin's Japanese messages."""

from __future__ import annotations

import io

import feedparser
import pytest
from werkzeug.datastructures import MultiDict

from publisher.areas import AreaTree
from publisher.plan.residents import FeedSpec
from publisher.render.feeds import render_feed
from publisher.render.slides import SlideSpec, compose_slide, slide_key
from publisher.store.content import get_item
from tests.admin_helpers import cheap_hashes, notice_form, staff_accounts
from tests.factories import DAIZAWA, KITAZAWA, api_item, make_item
from tests.image_helpers import magenta_share, photo, stored_photo

QR = "https://signage.example.jp/q/i42"
SIZES = [(1920, 1080), (1080, 1920), (1366, 768), (960, 540), (540, 960)]


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# -- slides -------------------------------------------------------------------------------------


def _displays_sizes(tree: AreaTree) -> set[tuple[int, int]]:
    return {(s.width, s.height) for s in tree.screens.values()}


@pytest.mark.parametrize("shape", [(1200, 800), (600, 900)])
def test_the_picture_is_on_the_slide_of_every_screen_size_beside_the_text(tree, tmp_path, shape):
    name = stored_photo(tmp_path, *shape)
    item = make_item(id=42, image=name, image_alt={"ja": "公園"})
    for width, height in sorted(_displays_sizes(tree) | set(SIZES)):
        spec = SlideSpec(
            item, width, height, "ja", tree.issuer(item.targets), QR, picture=tmp_path / name
        )
        c = compose_slide(spec)
        assert c.picture_box is not None, (width, height)
        assert magenta_share(c.image, c.picture_box) > 0.5
        assert not _overlaps(c.picture_box, c.qr_box)
        for t in c.texts:
            box = (t.x, t.y, t.x + round(t.block.width_px), t.y + t.block.height_px)
            assert not _overlaps(c.picture_box, box), (width, height, t.role)
        left, top, right, bottom = c.picture_box
        ratio = (right - left) / (bottom - top)
        assert abs(ratio - shape[0] / shape[1]) < 0.02  # never stretched, never cropped
        if (width, height) in _displays_sizes(tree):
            c.image.save(f"/tmp/issue-17b-slide-{width}x{height}-{shape[0]}x{shape[1]}.png")


def test_a_new_picture_is_a_new_slide_and_no_picture_keeps_the_old_key(tree, tmp_path):
    first, second = stored_photo(tmp_path, 800, 600), stored_photo(tmp_path, 640, 640)
    item = make_item(id=42)
    issuer = tree.issuer(item.targets)
    plain = SlideSpec(item, 1920, 1080, "ja", issuer, QR)
    keys = {
        slide_key(
            SlideSpec(
                item.with_changes(image=n), 1920, 1080, "ja", issuer, QR, picture=tmp_path / n
            )
        )
        for n in (first, second)
    }
    assert len(keys) == 2 and slide_key(plain) not in keys
    assert slide_key(SlideSpec(item, 1920, 1080, "ja", issuer, QR, picture=None)) == slide_key(
        plain
    )


def test_a_picture_that_cannot_be_read_leaves_the_text_alone(tree, tmp_path):
    broken = tmp_path / "0123456789abcdef0123456789abcdef.jpg"
    broken.write_bytes(b"not a picture")
    item = make_item(id=42, image=broken.name)
    c = compose_slide(
        SlideSpec(item, 1920, 1080, "ja", tree.issuer(item.targets), QR, picture=broken)
    )
    assert c.picture_box is None and c.role("title")


# -- feeds --------------------------------------------------------------------------------------


def test_feeds_carry_the_picture_as_an_enclosure(tree):
    name = "0123456789abcdef0123456789abcdef.jpg"
    item = make_item(id=7, image=name, image_alt={"ja": "落ち葉の小道"})
    spec = FeedSpec(tree.get(DAIZAWA))
    base = "https://signage.example.jp"
    rss = feedparser.parse(render_feed([item], spec, base, "rss", {name: 12345}))
    (enc,) = rss.entries[0].enclosures
    assert (enc.href, enc.type, enc.length) == (f"{base}/images/{name}", "image/jpeg", "12345")
    atom = render_feed([item], spec, base, "atom", {name: 12345})
    assert b'rel="enclosure"' in atom and "落ち葉の小道".encode() in atom
    assert feedparser.parse(atom).entries[0].enclosures[0].length == "12345"
    # a picture whose file is gone is not announced
    assert not feedparser.parse(render_feed([item], spec, base, "rss", {})).entries[0].enclosures


# -- who may fetch a picture --------------------------------------------------------------------


def _with_picture(client, token_for, rt, status: str) -> dict:
    name = stored_photo(rt.uploads_dir)
    token = {"Authorization": f"Bearer {token_for('approver', KITAZAWA)}"}
    data = api_item(image=name, image_alt={"ja": "公園の写真"}, status=status)
    return client.post("/api/items", json=data, headers=token).json


def test_only_pictures_of_published_items_are_served_to_residents(app, client, token_for, rt, now):
    app.config["PUBLISHER_CLOCK"] = lambda: now
    draft = _with_picture(client, token_for, rt, "draft")
    assert client.get(f"/images/{draft['image']}").status_code == 404
    live = _with_picture(client, token_for, rt, "approved")
    r = client.get(f"/images/{live['image']}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.data == (rt.uploads_dir / live["image"]).read_bytes()
    r.close()
    page = client.get(f"/items/{live['id']}").text
    assert 'alt="公園の写真"' in page and 'width="800" height="600"' in page
    token = {"Authorization": f"Bearer {token_for('approver', KITAZAWA)}"}
    client.post(f"/api/items/{live['id']}/withdraw", headers=token)
    assert client.get(f"/images/{live['image']}").status_code == 404
    for bad in ("..%2Fpublisher.db", "x.jpg", "0123456789abcdef0123456789abcdef.gif"):
        assert client.get(f"/images/{bad}").status_code == 404


def test_an_image_without_its_japanese_description_is_refused(client, token_for, rt):
    name = stored_photo(rt.uploads_dir)
    token = {"Authorization": f"Bearer {token_for('approver', KITAZAWA)}"}
    r = client.post("/api/items", json=api_item(image=name), headers=token)
    assert r.status_code == 400 and r.json["field"] == "image_alt.ja"
    r = client.post(
        "/api/items", json=api_item(image=name, image_alt={"en": "x", "fr": "y"}), headers=token
    )
    assert r.status_code == 400 and r.json["field"] == "image_alt.fr"


# -- revisions in the API -----------------------------------------------------------------------


def test_patch_names_its_revision_and_a_stale_one_is_told_what_changed(client, token_for):
    approver = {"Authorization": f"Bearer {token_for('approver', KITAZAWA)}"}
    editor = {"Authorization": f"Bearer {token_for('editor', DAIZAWA)}"}
    created = client.post("/api/items", json=api_item(status="draft"), headers=approver)
    item_id = created.json["id"]
    got = client.get(f"/api/items/{item_id}", headers=editor)
    assert got.headers["ETag"] == '"1"'

    r = client.patch(f"/api/items/{item_id}", json={"title": {"ja": "変更"}}, headers=editor)
    assert r.status_code == 428 and r.json["field"] == "If-Match"

    first = client.patch(
        f"/api/items/{item_id}",
        json={"title": {"ja": "代沢地区 落ち葉清掃（雨天中止）"}},
        headers={**approver, "If-Match": got.headers["ETag"]},
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'

    stale = client.patch(
        f"/api/items/{item_id}",
        json={"body": {"ja": "軍手を持ってきてください。"}},
        headers={**editor, "If-Match": got.headers["ETag"]},
    )
    assert stale.status_code == 409
    body = stale.json
    assert body["revision"] == 2 and body["your_revision"] == 1
    assert body["changed_by"] == [next(iter(body["changed_by"]))] and body["changed_by"]
    assert {"field": "title.ja", "before": "代沢地区 落ち葉清掃のお知らせ",
            "after": "代沢地区 落ち葉清掃（雨天中止）"} in body["changed"]  # fmt: skip
    assert "starts_at" not in {c["field"] for c in body["changed"]}  # only what changed

    again = client.patch(
        f"/api/items/{item_id}",
        json={"body": {"ja": "軍手を持ってきてください。"}, "revision": 2},
        headers=editor,
    )
    assert again.status_code == 200 and again.json["revision"] == 3
    for bad in ('"abc"', "*", '"99999999999"'):
        r = client.patch(
            f"/api/items/{item_id}",
            json={"title": {"ja": "x"}},
            headers={**editor, "If-Match": bad},
        )
        assert r.status_code == 400 and r.json["field"] == "If-Match", bad


def test_a_save_from_an_old_revision_writes_nothing(rt, tree):
    from publisher.store import workflow
    from publisher.store.conflicts import StaleEdit
    from publisher.store.staff import operator

    who = operator(tree)
    with rt.session() as s:
        item = workflow.create(s, tree, who, api_item(status="draft"))
    with rt.session() as s:
        workflow.edit(s, tree, who, item.id, {"title": {"ja": "一"}}, revision=1)
    with pytest.raises(StaleEdit) as e, rt.session() as s:
        workflow.edit(s, tree, who, item.id, {"title": {"ja": "二"}}, revision=1)
    assert [c.field for c in e.value.changes if c.field == "title.ja"] == ["title.ja"]
    assert "targets" not in {c.field for c in e.value.changes}
    with rt.session() as s:
        assert get_item(s, item.id).title == "一"


# -- the admin form -----------------------------------------------------------------------------


@pytest.fixture
def staff(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, app)


def test_the_form_says_what_is_wrong_in_japanese_with_the_fields_label(staff):
    s = staff("daizawa-editor")
    form = MultiDict({"csrf_token": s.token, **notice_form(**{"title.ja": "", "ends_at": "x"})})
    r = s.client.post("/admin/items/new", data=form)
    assert r.status_code == 400
    assert (
        "タイトル：日本語のタイトルは必須です" in r.text or "日本語のタイトルは必須です" in r.text
    )
    assert "a Japanese title is required" not in r.text
    form = MultiDict(
        {
            "csrf_token": s.token,
            **notice_form(starts_at="2026-12-10T00:00", ends_at="2026-12-01T00:00"),
        }
    )
    r = s.client.post("/admin/items/new", data=form)
    assert r.status_code == 400 and "表示終了：表示終了が表示開始より前になっています" in r.text
    assert "ends before it starts" not in r.text


def test_the_forms_hidden_revision_turns_a_stale_save_into_a_409_page(staff, rt):
    s = staff("daizawa-editor")
    form = MultiDict({"csrf_token": s.token, **notice_form(intent="draft")})
    r = s.client.post("/admin/items/new", data=form)
    item_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    page = s.get(f"/admin/items/{item_id}").text
    assert 'name="revision" value="1"' in page
    first = MultiDict(
        {"csrf_token": s.token, **notice_form(intent="save", revision="1", **{"title.ja": "一"})}
    )
    assert s.client.post(f"/admin/items/{item_id}", data=first).status_code == 302
    stale = MultiDict(
        {"csrf_token": s.token, **notice_form(intent="save", revision="1", **{"body.ja": "二"})}
    )
    r = s.client.post(f"/admin/items/{item_id}", data=stale)
    assert r.status_code == 409
    assert "編集中に他の人がこのお知らせを変更しました" in r.text and "タイトル（日本語）" in r.text
    assert 'name="revision" value="2"' in r.text and ">二</textarea>" in r.text
    with rt.session() as session:
        assert get_item(session, item_id).text("ja").body != "二"


def _draft(s) -> int:  # type: ignore[no-untyped-def]
    r = s.client.post(
        "/admin/items/new", data={"csrf_token": s.token, **notice_form(intent="draft")}
    )
    return int(r.headers["Location"].rsplit("/", 1)[-1])


STALE_FORM = "保存していません：どの版を編集したのか分かりません"


@pytest.mark.parametrize("revision", [None, "", "abc", "-1", "1.0", "１", "99999999999"])
def test_a_form_without_a_readable_revision_is_not_saved_and_says_why(staff, rt, revision):
    """Can an old cached page or a hand-made POST overwrite a colleague's edit? No: the form
    comes back with the words typed, a message saying what to do, and the current revision."""
    s = staff("daizawa-editor")
    item_id = _draft(s)
    colleague = staff("kitazawa-approver")
    assert (
        colleague.edit(item_id, notice_form(intent="save", **{"title.ja": "一"})).status_code == 302
    )
    form = notice_form(intent="save", **{"title.ja": "古い画面から", "body.ja": "書いた文"})
    if revision is not None:
        form["revision"] = revision
    r = s.post(f"/admin/items/{item_id}", form)
    assert r.status_code == 200 and 'id="item-form"' in r.text  # the form, not an error page
    assert STALE_FORM in r.text and "もう一度保存してください" in r.text
    assert 'role="alert" aria-labelledby="stale-form-title"' in r.text
    assert 'value="古い画面から"' in r.text and ">書いた文</textarea>" in r.text
    assert 'name="revision" value="2"' in r.text  # saving again is a deliberate overwrite
    assert f'href="/admin/items/{item_id}" target="_blank"' in r.text
    with rt.session() as session:
        kept = get_item(session, item_id)
    assert (kept.title, kept.revision) == ("一", 2)
    again = MultiDict({"csrf_token": s.token, **form, "revision": "2"})
    assert s.client.post(f"/admin/items/{item_id}", data=again).status_code == 302
    with rt.session() as session:
        assert get_item(session, item_id).title == "古い画面から"


def test_a_form_with_the_revision_it_was_opened_on_is_saved(staff, rt):
    s = staff("daizawa-editor")
    item_id = _draft(s)
    r = s.edit(item_id, notice_form(intent="save", **{"title.ja": "雨天中止"}))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/items/{item_id}")
    page = s.get(f"/admin/items/{item_id}").text
    assert 'name="revision" value="2"' in page and STALE_FORM not in page
    with rt.session() as session:
        assert get_item(session, item_id).title == "雨天中止"


def test_a_new_item_needs_no_revision(staff):
    s = staff("daizawa-editor")
    r = s.post("/admin/items/new", notice_form(intent="draft"))
    assert r.status_code == 302


def test_a_picture_sent_with_a_form_without_revision_is_not_kept(staff, rt):
    s = staff("daizawa-editor")
    item_id = _draft(s)
    before = set(rt.uploads_dir.glob("*")) if rt.uploads_dir.exists() else set()
    form = {"csrf_token": s.token, **notice_form(intent="save")}
    form["image_file"] = (io.BytesIO(photo()), "photo.jpg")
    form["image_alt.ja"] = "公園"
    r = s.client.post(f"/admin/items/{item_id}", data=form, content_type="multipart/form-data")
    assert r.status_code == 200 and STALE_FORM in r.text
    after = set(rt.uploads_dir.glob("*")) if rt.uploads_dir.exists() else set()
    assert after == before


def test_panels_carry_no_language_of_their_own_only_the_typed_text_does(staff):
    page = staff("daizawa-editor").get("/admin/items/new").text
    assert '<section class="tab-panel" id="lang-ko" aria-labelledby="h-lang-ko">' in page
    assert 'name="title.ko" lang="ko"' in page and 'name="body.zh-Hant" lang="zh-Hant"' in page
    assert 'href="#lang-en"' in page  # without JavaScript: links to plain sections


def test_the_static_export_carries_the_pictures_its_pages_and_feeds_point_at(rt, tmp_path, now):
    from publisher.web.site import build_site
    from tests.residents_helpers import store

    name = stored_photo(rt.uploads_dir)
    (item,) = store(rt, make_item("代沢の落ち葉清掃", image=name, image_alt={"ja": "公園の写真"}))
    out = tmp_path / "site"
    build_site(rt, out, now)
    assert (out / "images" / name).read_bytes() == (rt.uploads_dir / name).read_bytes()
    page = (out / f"items/{item.id}/index.html").read_text()
    assert f'src="../../images/{name}"' in page and 'alt="公園の写真"' in page
    rss = feedparser.parse((out / f"feeds/{DAIZAWA}.rss").read_bytes())
    entry = next(e for e in rss.entries if e.link.endswith(f"/items/{item.id}"))
    assert entry.enclosures[0].href == f"{rt.settings.base_url}/images/{name}"


def test_two_saves_at_once_from_one_revision_one_is_written_the_other_is_told(rt, tree):
    """The check and the write are one statement: a save waiting for the row sees it moved."""
    import threading

    from publisher.store import workflow
    from publisher.store.conflicts import StaleEdit
    from publisher.store.staff import operator
    from tests.factories import pause

    who = operator(tree)
    with rt.session() as s:
        item_id = workflow.create(s, tree, who, api_item(status="draft")).id
    outcome: list[object] = []

    def second() -> None:
        try:
            with rt.session() as s:
                workflow.edit(s, tree, who, item_id, {"title": {"ja": "二"}}, revision=1)
            outcome.append("written")
        except StaleEdit as e:
            outcome.append(e)

    with rt.session() as s:
        workflow.edit(s, tree, who, item_id, {"title": {"ja": "一"}}, revision=1)
        other = threading.Thread(target=second)
        other.start()
        pause(0.3)  # the other save is (most likely) waiting for the row now
    other.join()
    (told,) = outcome
    assert isinstance(told, StaleEdit) and told.item.revision == 2
    with rt.session() as s:
        assert get_item(s, item_id).title == "一"
