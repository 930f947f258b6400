"""The admin's overview pages as staff read them: 変更履歴 (audit) and 画面の状態 (screens)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli
from publisher.deliver.playlists import cache_for
from publisher.items import Translation
from publisher.store.content import create_item, update_item
from publisher.store.models import AuditRow, DeliveryRow, ScreenRow
from publisher.web.admin.audit import changes, field_label
from publisher.web.admin.screens import error_reason
from tests.admin_helpers import cheap_hashes, staff_accounts
from tests.factories import DAIZAWA, JST, SEIJO, make_item


@pytest.fixture
def staff(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, app)


@pytest.fixture
def clock(app, now):
    class Clock:
        at = now

    app.config["PUBLISHER_CLOCK"] = lambda: Clock.at
    return Clock


def text_of(html: str) -> str:
    """The page as words: inline tags dropped, others a space, entities decoded, spaces squeezed."""
    inline = re.sub(r"</?(?:a|strong|span|code|small|time)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", inline)))


# -- the differences, worded ---------------------------------------------------------------------


def test_an_edit_lists_each_changed_language_on_its_own_line_in_japanese_words(tree):
    before = make_item(id=7).as_json()
    after = make_item(
        id=7,
        translations=(
            Translation("ja", "代沢まちづくりセンターからのお知らせ", "一行目\n二行目"),
            Translation("en", "Notice from the Daizawa center", ""),
        ),
        targets=(DAIZAWA, SEIJO),
        status="withdrawn",
        ends_at=datetime(2026, 12, 1, 0, 0, tzinfo=JST),
    ).as_json()
    found = {c.label: c for c in changes(before, after, tree)}
    assert set(found) == {"本文（日本語）", "タイトル（English）", "対象地域", "状態", "表示終了"}
    assert found["タイトル（English）"].before == ()
    assert found["タイトル（English）"].after == ("Notice from the Daizawa center",)
    assert found["本文（日本語）"].after == ("一行目", "二行目")
    assert found["状態"].before == ("公開",) and found["状態"].after == ("取り下げ",)
    assert found["対象地域"].after[1].startswith("成城")
    assert found["表示終了"].after == ("2026-12-01 00:00",)  # Japan time, not UTC
    # bookkeeping (revision, updated_at) is never a change, and nothing stays as raw JSON
    assert not any("{" in line for c in found.values() for line in (*c.before, *c.after))


def test_account_changes_name_roles_and_scopes_in_words(tree):
    found = changes(None, {"name": "seijo-editor", "role": "editor", "scope": SEIJO}, tree)
    assert [(c.label, c.after) for c in found] == [
        ("ユーザー名", ("seijo-editor",)),
        ("役割", ("作成者",)),
        ("担当範囲", (tree.get(SEIJO).display_name,)),
    ]
    assert field_label("title.ko") == "タイトル（한국어）"
    assert field_label("event.starts_at") == "イベント開始"


# -- the audit page -------------------------------------------------------------------------------


def _audit_rows(rt, count, *, actor="daizawa-editor", action="update", at, entity_id="1"):
    with rt.session() as session:
        for i in range(count):
            session.add(
                AuditRow(
                    at=at + timedelta(minutes=i),
                    actor=actor,
                    action=action,
                    entity="item",
                    entity_id=entity_id,
                    before={"title": {"ja": f"題名{i}"}, "targets": [DAIZAWA]},
                    after={"title": {"ja": f"題名{i + 1}"}, "targets": [DAIZAWA]},
                )
            )


def test_the_audit_page_filters_by_item_user_action_and_date_and_pages_by_fifty(staff, rt, now):
    _audit_rows(rt, 60, at=now - timedelta(days=3), entity_id="5")
    _audit_rows(rt, 2, actor="kitazawa-approver", action="approve", at=now, entity_id="6")
    s = staff("ward-admin")
    first = s.get("/admin/audit?entity_id=5")
    assert first.status_code == 200
    words = text_of(first.text)
    assert "60件中 1〜50件目" in words and "1 / 2 ページ" in words
    assert words.count("編集（お知らせ #5）") == 50 and "#6" not in words
    assert "題名59 題名60" in words  # newest first: before, then after
    assert 'href="/admin/audit?entity_id=5&amp;page=2"' in first.text  # the filter is kept
    second = text_of(s.get("/admin/audit?entity_id=5&page=2").text)
    assert "60件中 51〜60件目" in second and "題名0 題名1" in second

    by_actor = text_of(s.get("/admin/audit?actor=kitazawa-approver").text)
    assert "2件中 1〜2件目" in by_actor and "承認（お知らせ #6）" in by_actor
    by_action = text_of(s.get("/admin/audit?action=approve").text)
    assert "2件中" in by_action
    day = (now - timedelta(days=3)).date().isoformat()
    on_day = text_of(s.get(f"/admin/audit?from={day}&to={day}").text)
    assert "60件中" in on_day
    today = now.date().isoformat()
    assert "2件中" in text_of(s.get(f"/admin/audit?from={today}&to={today}&entity_id=6").text)


def test_a_bad_audit_filter_is_named_not_a_server_error(staff):
    r = staff("ward-admin").get("/admin/audit?from=2026-13-45&page=x&action=<script>")
    assert r.status_code == 200
    assert "日付は 2026-11-30 の形で入力してください。" in r.text
    assert "<script>" not in r.text


def test_an_editor_sees_only_the_changes_to_items_in_their_scope(staff, rt):
    with rt.session() as session:
        mine = create_item(session, make_item("代沢の清掃", targets=(DAIZAWA,)), actor="test")
        create_item(session, make_item("成城の催し", targets=(SEIJO,)), actor="test")
        update_item(session, mine.with_changes(targets=(DAIZAWA, SEIJO)), actor="test")
    words = text_of(staff("daizawa-editor").get("/admin/audit").text)
    assert "代沢の清掃" in words and "成城の催し" not in words
    assert "1件中" in words  # the edit that reached Seijo is beyond a district editor's scope
    region = text_of(staff("kinuta-approver").get("/admin/audit").text)
    assert "成城の催し" in region and "代沢の清掃" not in region


# -- the screens page ------------------------------------------------------------------------------

LONG = "世田谷区 冬のボランティア募集のお知らせ（高齢者見守り・子育て支援・地域清掃）申込は代沢まちづくりセンターまで"
ERROR = (
    "POST http://signage-kyodo.local:8080/bundle: 503 Service Unavailable "
    "(the player answered 'busy, try later' with a very long explanation)"
)


@pytest.fixture
def field(rt, clock):
    """Daizawa shows a live notice and is up to date; Kyodo's http player failed eight times
    over two versions since its last delivery; Seijo has never answered."""
    with rt.session() as session:
        item = create_item(session, make_item(LONG, targets=(DAIZAWA,)), actor="test")
    planned = cache_for(rt).get("daizawa-1", clock.at)
    slide = next(s for s in planned.slides if s.entry.item_id == item.id)
    with rt.session() as session:
        dz = session.get(ScreenRow, "daizawa-1")
        dz.last_heartbeat_at = clock.at - timedelta(seconds=30)
        dz.last_slide, dz.version_on_screen = slide.key, planned.version
        dz2 = session.get(ScreenRow, "daizawa-2")
        dz2.last_heartbeat_at = clock.at - timedelta(seconds=40)
        dz2.version_on_screen = "an-older-version"
        ky = session.get(ScreenRow, "kyodo-1")
        ky.last_heartbeat_at = clock.at - timedelta(minutes=20)
        ky.version_on_screen, ky.latest_version = "v1", "v3"
        base = clock.at - timedelta(hours=2)
        session.add_all(
            [
                DeliveryRow(screen_id="kyodo-1", version="v1", method="http", state="delivered",
                            attempts=1, created_at=base, delivered_at=base),
                DeliveryRow(screen_id="kyodo-1", version="v2", method="http", state="superseded",
                            attempts=5, created_at=base + timedelta(minutes=30),
                            last_error="POST http://signage-kyodo.local:8080/bundle: "
                            "ConnectionError: Connection refused"),
                DeliveryRow(screen_id="kyodo-1", version="v3", method="http", state="failed",
                            attempts=3, created_at=base + timedelta(minutes=60),
                            last_error=ERROR, next_attempt_at=clock.at + timedelta(minutes=2)),
            ]
        )  # fmt: skip
    return item


def _row(page: str, screen_id: str) -> str:
    return text_of(page.split(f'id="screen-{screen_id}"')[1].split("</tr>")[0])


def test_the_screens_page_says_in_words_what_each_screen_shows_and_how_delivery_goes(
    staff, field, clock
):
    page = staff("ward-admin").get("/admin/screens").text
    daizawa = _row(page, "daizawa-1")
    assert "● 接続中" in daizawa and "最終応答 たった今" in daizawa
    assert LONG in daizawa  # the title on screen, not a slide hash
    assert "✓ 最新" in daizawa and "画面が自分で取得" in daizawa
    assert "分以上遅れ" in _row(page, "daizawa-2")  # a pull screen: at least since it was planned
    kyodo = _row(page, "kyodo-1")
    assert "応答なし" in kyodo and "最終応答 20分前" in kyodo
    assert "90分遅れ" in kyodo  # behind since v2 was built, 90 minutes ago
    assert "配信に失敗（8回）：相手がエラーを返しました (HTTP 503)" in kyodo
    assert "2026-11-22 08:30から失敗が続いています" in kyodo
    assert ERROR in kyodo  # the raw text, in the details view
    assert "○ 未接続" in _row(page, "seijo-1") and "一度も接続していません" in _row(page, "seijo-1")
    assert "Traceback" not in page and "?token=" not in page


def test_the_failures_on_the_screens_page_are_the_ones_publisher_screens_prints(
    staff, field, rt, monkeypatch
):
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)
    out = CliRunner().invoke(cli, ["screens"], catch_exceptions=False).output
    line = next(x for x in out.splitlines() if x.startswith("kyodo-1"))
    cli_failures = int(re.search(r"failed ×(\d+)", line).group(1))
    page = staff("ward-admin").get("/admin/screens").text
    admin_failures = int(re.search(r"配信に失敗（(\d+)回）", _row(page, "kyodo-1")).group(1))
    assert cli_failures == admin_failures == 8


def test_delivery_errors_read_as_plain_japanese():
    assert error_reason("POST http://x/bundle: 503 Service Unavailable") == (
        "相手がエラーを返しました (HTTP 503)"
    )
    assert (
        error_reason("POST http://x/bundle: no answer within 30 s")
        == "時間切れ（応答がありません）"
    )
    refused = "POST http://x/bundle: ConnectionError: HTTPConnectionPool: Connection refused"
    assert error_reason(refused) == "接続できません"
    assert error_reason("/srv/signage: cannot write the bundle: [Errno 13]") == (
        "フォルダに書き込めません"
    )
    assert error_reason("something nobody foresaw") == "配信できませんでした"


def test_the_player_url_is_shown_without_its_token_and_admins_may_issue_a_new_one(staff, field):
    admin_page = staff("ward-admin").get("/admin/screens").text
    assert re.search(r'value="[^"?]*/play/daizawa-1" readonly', admin_page)
    rotate = 'action="/admin/screens/daizawa-1/rotate-token"'
    assert rotate in admin_page
    editor_page = staff("kitazawa-approver").get("/admin/screens").text
    assert rotate not in editor_page and "/play/daizawa-1" in editor_page
    assert "kyodo-1" not in editor_page  # another region's screen


def test_the_users_page_asks_browsers_not_to_fill_in_a_new_name(staff):
    page = staff("ward-admin").get("/admin/users").text
    assert re.search(
        r'<input type="text" id="f-name" name="name" value="" required autocomplete="off"', page
    )
    assert "&#34;off&#34;" not in page and "&quot;off&quot;" not in page


def test_staff_can_list_only_the_screens_that_need_attention(staff, field):
    page = staff("ward-admin").get("/admin/screens?show=problems").text
    listed = set(re.findall(r'id="screen-([a-z0-9-]+)"', page))
    assert listed == {"kyodo-1", "daizawa-2"}  # failing and offline; behind the plan
    assert "daizawa-1" not in listed and "seijo-1" not in listed  # fine; never seen


def test_failures_count_every_failed_attempt_since_the_last_delivery_across_versions(rt, now):
    from publisher.store.screens import delivery_summaries

    def row(version, state, attempts, minutes, error=None):
        at = now + timedelta(minutes=minutes)
        return DeliveryRow(screen_id="kyodo-1", version=version, method="http", state=state,
                           attempts=attempts, created_at=at, last_error=error,
                           delivered_at=at if state == "delivered" else None)  # fmt: skip

    with rt.session() as session:
        session.add_all(
            [
                row("v1", "failed", 2, 0, "POST x: 500 Internal Server Error"),
                row("v1b", "delivered", 3, 10),  # two more failures, then it got through
                row("v2", "superseded", 4, 20, "POST x: no answer within 30 s"),
                row("v3", "pending", 0, 30),  # built, not tried yet
            ]
        )
    with rt.session() as session:
        summary = delivery_summaries(session, ["kyodo-1"])["kyodo-1"]
        assert summary.last.version == "v3"
        assert summary.failures == 4  # v2's four; v1's were before the last success
        assert summary.failing_since == now + timedelta(minutes=20)
        assert summary.last_success_at == now + timedelta(minutes=10)
        assert summary.last_error == "POST x: no answer within 30 s"
        session.add(row("v3b", "delivered", 2, 40))
    with rt.session() as session:
        summary = delivery_summaries(session, ["kyodo-1"])["kyodo-1"]
        assert (summary.failures, summary.failing_since) == (5, None)  # 4 + 1 before success
