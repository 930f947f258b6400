"""The content store on SQLite and PostgreSQL: targeting, windows, revisions, idempotence."""

from datetime import timedelta

from sqlalchemy import func, select

from publisher.store.content import (
    create_item,
    get_item,
    sync_tree,
    update_item,
    upsert_item,
    visible_items,
)
from publisher.store.models import AuditRow, ItemRow, ScreenRow
from tests.factories import DAIZAWA, KITAZAWA, SEIJO, UMEGAOKA, WARD, make_item


def add(rt, **overrides):
    with rt.session() as s:
        return create_item(s, make_item(**overrides), actor="test")


def seen(rt, area, at):
    with rt.session() as s:
        return {i.title for i in visible_items(s, rt.tree, area, at)}


def test_ward_notice_reaches_every_district(rt, now):
    add(rt, title="区からのお知らせ", targets=(WARD,))
    for district in rt.tree.tier("district"):
        assert "区からのお知らせ" in seen(rt, district.code, now)


def test_daizawa_sees_ward_region_and_own_items_but_not_other_districts(rt, now):
    add(rt, title="区", targets=(WARD,))
    add(rt, title="北沢地域", targets=(KITAZAWA,))
    add(rt, title="代沢", targets=(DAIZAWA,))
    add(rt, title="梅丘", targets=(UMEGAOKA,))
    add(rt, title="成城", targets=(SEIJO,))
    assert seen(rt, DAIZAWA, now) == {"区", "北沢地域", "代沢"}
    assert seen(rt, KITAZAWA, now) == {"区", "北沢地域"}


def test_only_approved_items_inside_their_window_are_seen(rt, now):
    add(rt, title="下書き", status="draft")
    add(rt, title="取り下げ", status="withdrawn")
    add(rt, title="終了", starts_at=now - timedelta(days=3), ends_at=now - timedelta(seconds=1))
    add(rt, title="予定", starts_at=now + timedelta(seconds=1), ends_at=now + timedelta(days=1))
    add(rt, title="ちょうど今", starts_at=now, ends_at=now + timedelta(hours=1))
    add(rt, title="無期限", starts_at=None, ends_at=None)
    assert seen(rt, DAIZAWA, now) == {"ちょうど今", "無期限"}


def test_an_item_targeted_at_two_districts_is_listed_once(rt, now):
    add(rt, title="二地区", targets=(DAIZAWA, UMEGAOKA))
    with rt.session() as s:
        assert [i.title for i in visible_items(s, rt.tree, DAIZAWA, now)] == ["二地区"]


def test_times_come_back_in_the_same_instant_on_every_database(rt, now):
    item = add(rt, starts_at=now)
    with rt.session() as s:
        assert get_item(s, item.id).starts_at == now


def test_a_change_of_content_is_a_new_revision_with_before_and_after_in_the_audit(rt):
    item = add(rt, title="第1版")
    with rt.session() as s:
        updated = update_item(
            s,
            item.with_changes(translations=(item.translations[0].__class__("ja", "第2版"),)),
            actor="staff-a",
        )
    assert updated.revision == 2
    with rt.session() as s:
        rows = s.scalars(
            select(AuditRow).where(AuditRow.entity_id == str(item.id)).order_by(AuditRow.id)
        ).all()
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before["title"]["ja"] == "第1版" and rows[1].after["title"]["ja"] == "第2版"
    assert rows[1].actor == "staff-a"


def test_importing_the_same_entry_twice_changes_nothing(rt):
    entry = make_item(title="防災訓練", source="rss:ward", external_id="https://example.jp/1")
    with rt.session() as s:
        _, first = upsert_item(s, entry, actor="collect")
    with rt.session() as s:
        _, second = upsert_item(s, entry, actor="collect")
    with rt.session() as s:
        _, third = upsert_item(
            s,
            entry.with_changes(
                translations=(entry.translations[0].__class__("ja", "防災訓練（会場変更）"),)
            ),
            actor="collect",
        )
    assert (first, second, third) == ("created", "unchanged", "updated")
    with rt.session() as s:
        assert s.scalar(select(func.count()).select_from(ItemRow)) == 1
        assert s.scalars(select(ItemRow)).one().revision == 2


def test_syncing_displays_twice_changes_nothing_and_keeps_screen_tokens(rt):
    with rt.session() as s:
        tokens = dict(s.execute(select(ScreenRow.id, ScreenRow.token_hash)).all())
        assert sync_tree(s, rt.tree) == {"areas": 0, "screens": 0}
    with rt.session() as s:
        assert dict(s.execute(select(ScreenRow.id, ScreenRow.token_hash)).all()) == tokens
    assert len(tokens) == len(rt.tree.screens)


def test_listeners_hear_of_changed_items_only_after_commit(rt):
    heard = []
    rt.__dict__["listeners"] = [lambda runtime, ids: heard.append(sorted(ids))]
    item = add(rt, title="通知テスト")
    assert heard == [[item.id]]
    try:
        with rt.session() as s:
            create_item(s, make_item(title="取り消される"), actor="test")
            raise RuntimeError("the unit of work fails")
    except RuntimeError:
        pass
    assert heard == [[item.id]]  # a rolled-back change is never announced


def test_an_upstream_change_never_republishes_what_staff_withdrew(rt, now):
    entry = make_item(title="地域の祭り", source="ical:assoc", external_id="uid-1")
    with rt.session() as s:
        stored, _ = upsert_item(s, entry, actor="collect")
        update_item(s, stored, actor="staff", action="withdraw", status="withdrawn")
    changed = entry.with_changes(
        translations=(entry.translations[0].__class__("ja", "地域の祭り（雨天中止）"),)
    )
    with rt.session() as s:
        item, outcome = upsert_item(s, changed, actor="collect")
    assert outcome == "updated" and item.status == "withdrawn"
    assert "地域の祭り（雨天中止）" not in seen(rt, DAIZAWA, now)


def test_upgrading_keeps_every_screen_working_with_the_token_in_its_player_url(rt, client):
    """Screens in the field before tokens were hashed keep their player URL after the upgrade,
    and the database no longer holds the token itself."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from publisher.store.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with rt.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011")
        conn.execute(text("UPDATE screens SET token = 'kiosk-' || id"))
    with rt.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    columns = {c["name"] for c in inspect(rt.db.engine).get_columns("screens")}
    assert "token" not in columns and "token_hash" in columns
    assert client.get("/play/daizawa-1?token=kiosk-daizawa-1").status_code == 303
    assert client.get("/play/daizawa-1?token=kiosk-seijo-1").status_code == 403
    with rt.session() as s:
        hashes = s.scalars(select(ScreenRow.token_hash)).all()
    assert len(set(hashes)) == len(hashes) and not any("kiosk" in h for h in hashes)
