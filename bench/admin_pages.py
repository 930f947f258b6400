"""How long do 画面の状態 and 変更履歴 take with a year's worth of records?

Builds a fresh SQLite store with Setagaya's areas and screens, ``--items`` live notices (each
edited twice: three audit rows), ``--audit`` more audit rows, and a delivery log of 30 versions
per pushed screen (every third failing). Then times, through the real app as a logged-in ward
admin and a district editor: the screens page with the playlist cache cold and warm, the audit
page's first and last pages, and a filtered audit page. Prints the median of ``--runs`` each.

Usage: ``python bench/admin_pages.py [--items 300] [--audit 20000] [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--audit", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)
    from argon2 import PasswordHasher

    from publisher.areas import load_tree
    from publisher.config import load_settings
    from publisher.deliver.playlists import cache_for
    from publisher.items import JST, Item, Translation
    from publisher.runtime import Runtime
    from publisher.store import staff
    from publisher.store.content import create_item, sync_tree, update_item
    from publisher.store.models import AuditRow, DeliveryRow
    from publisher.web import create_app
    from tests.admin_helpers import PASSWORD, Staff

    staff._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # type: ignore[attr-defined]
    tmp = Path(tempfile.mkdtemp(prefix="admin-pages-"))
    rt = Runtime(
        load_settings(
            {}, DATA_DIR=tmp, DATABASE_URL=f"sqlite:///{tmp / 'p.db'}", SECRET_KEY="bench"
        )
    )
    rt.__dict__["tree"] = load_tree(REPO / "displays")
    rt.db.migrate()
    now = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
    districts = [a.code for a in rt.tree.areas.values() if a.tier == "district"]
    with rt.session() as session:
        sync_tree(session, rt.tree)
        staff.create_user(session, rt.tree, "ward-admin", "admin", "setagaya", PASSWORD, actor="b")
        staff.create_user(
            session, rt.tree, "daizawa-editor", "editor", districts[0], PASSWORD, actor="b"
        )
        for i in range(args.items):
            item = Item(
                kind="notice",
                translations=(
                    Translation("ja", f"お知らせ {i}：冬のボランティア募集", "本文" * 40),
                    Translation("en", f"Notice {i}: winter volunteers", "Body " * 40),
                ),
                targets=(districts[i % len(districts)],),
                status="approved",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=30),
            )
            item = create_item(session, item, actor="ward-admin")
            item = update_item(
                session, item.with_changes(ends_at=now + timedelta(days=31)), actor="b"
            )
            update_item(session, item.with_changes(ends_at=now + timedelta(days=32)), actor="b")
        session.add_all(
            AuditRow(
                at=now - timedelta(minutes=i),
                actor="ward-admin",
                action="update",
                entity="item",
                entity_id=str(1 + i % max(args.items, 1)),
                before={"title": {"ja": f"題名{i}"}, "targets": [districts[i % len(districts)]]},
                after={"title": {"ja": f"題名{i + 1}"}, "targets": [districts[i % len(districts)]]},
            )
            for i in range(args.audit)
        )
        pushed = [s.id for s in rt.tree.screens.values() if s.delivery != "pull"]
        for sid in pushed:
            for v in range(30):
                failing = v % 3 == 2
                session.add(
                    DeliveryRow(
                        screen_id=sid,
                        version=f"v{v}",
                        method="http",
                        state="failed" if failing else "delivered",
                        attempts=4 if failing else 1,
                        last_error="POST http://x/bundle: 503 Service Unavailable"
                        if failing
                        else None,
                        created_at=now - timedelta(hours=30 - v),
                        delivered_at=None if failing else now - timedelta(hours=30 - v),
                    )
                )
    app = create_app(rt, {"TESTING": True})
    app.config["PUBLISHER_CLOCK"] = lambda: now

    def timed(who: Staff, path: str, before: object = None) -> float:
        times = []
        for _ in range(args.runs):
            if callable(before):
                before()
            started = time.perf_counter()
            answer = who.get(path)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, (path, answer.status_code)
        return statistics.median(times) * 1000

    admin, editor = Staff(app.test_client()), Staff(app.test_client())
    admin.login("ward-admin")
    editor.login("daizawa-editor")
    print(
        f"{len(rt.tree.screens)} screens ({len(pushed)} pushed, 30 deliveries each), "
        f"{args.items} items, {args.items * 3 + args.audit} audit rows; median of {args.runs}"
    )
    for label, who, path, before in (
        ("screens, cache cold", admin, "/admin/screens", cache_for(rt).invalidate),
        ("screens, cache warm", admin, "/admin/screens", None),
        ("screens, problems only", admin, "/admin/screens?show=problems", None),
        ("audit page 1 (ward)", admin, "/admin/audit", None),
        (
            "audit last page (ward)",
            admin,
            f"/admin/audit?page={(args.items * 3 + args.audit) // 50}",
            None,
        ),
        ("audit, one item (ward)", admin, "/admin/audit?entity_id=1", None),
        ("audit page 1 (district editor)", editor, "/admin/audit", None),
    ):
        print(f"  {label:<32} {timed(who, path, before):8.1f} ms")
    rt.close()


if __name__ == "__main__":
    main()
