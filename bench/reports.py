"""How fast are proof of play and its reports? A simulated month of the ward's 44 screens.

Each screen reports a slide every 10 s, day and night (8,640 plays a day; 44 screens × 30 days
≈ 11.4 million), in batches of 1,000 through the same store call as
``POST /api/screens/<id>/plays`` (each batch checked against the screens' items, then inserted
once per (screen, seq)); each day is folded into daily sums (the scheduler does it every 10 minutes). Then every query
the dashboard and the exports make is timed (median of 5) for the ward, a region, a district
and one item, over the month, with the last 10 minutes' plays not folded yet.

Prints the ingestion rate, the fold time per day, the query medians and the store's size.
Runs on SQLite, and on PostgreSQL when ``PUBLISHER_TEST_DATABASE_URL`` is set (a private
database, dropped afterwards).

Usage: ``python bench/reports.py [--days 30] [--sqlite-only] [--postgres-only]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SLIDE_S = 10
BATCH = 1000
ITEMS = 60


def _database(backend: str, tmp: Path) -> tuple[str, Callable[[], None] | None]:
    from sqlalchemy import create_engine, make_url, text

    if backend == "sqlite":
        return f"sqlite:///{tmp / 'publisher.db'}", None
    admin_url = make_url(os.environ["PUBLISHER_TEST_DATABASE_URL"])
    name = f"publisher_reports_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def _median_ms(fn: Callable[[], Any], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(backend: str, days: int) -> None:
    from sqlalchemy import func, select

    from publisher.areas import load_tree
    from publisher.config import load_settings
    from publisher.items import JST, Item, Translation
    from publisher.runtime import Runtime
    from publisher.store.content import create_item, sync_tree
    from publisher.store.models import PlayDailyRow, PlayRow
    from publisher.store.plays import Play, fold, record_plays
    from publisher.store.reach import count_scan
    from publisher.store.report_view import above, build, to_csv

    tmp = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    url, drop = _database(backend, tmp)
    rt = Runtime(load_settings({}, DATA_DIR=tmp, DATABASE_URL=url, SECRET_KEY="bench"))
    tree = rt.__dict__["tree"] = load_tree(REPO / "displays")
    rt.db.migrate()
    rng = random.Random(18)
    first_day = datetime(2026, 10, 1, tzinfo=JST)
    end = first_day + timedelta(days=days)
    areas = [a.code for a in tree]
    with rt.session() as session:
        sync_tree(session, tree)
        items = [
            create_item(
                session,
                Item(
                    kind="notice",
                    translations=(
                        Translation("ja", f"お知らせ {n}", ""),
                        Translation("en", f"Notice {n}", ""),
                    ),
                    targets=(rng.choice(areas),),
                    status="approved",
                    category=rng.choice(["general", "community", "health", "disaster"]),
                    starts_at=first_day - timedelta(days=1),
                    ends_at=end + timedelta(days=1),
                ),
                actor="bench",
            )
            for n in range(ITEMS)
        ]
    screens = list(tree.screens.values())
    seen: dict[str, list[Any]] = {}
    for s in screens:
        lineage = set(above(tree, s.area))
        seen[s.id] = [i for i in items if set(i.targets) & lineage]
    total = stored = 0
    ingest_s = fold_s = 0.0
    seq = 0
    for day in range(days):
        day_start = first_day + timedelta(days=day)
        for s in screens:
            mine, langs = seen[s.id], list(s.languages)
            if not mine:
                continue
            lineage = above(tree, s.area)
            plays = []
            for k in range(86400 // SLIDE_S):
                seq += 1
                item = mine[k % len(mine)]
                at = day_start + timedelta(seconds=k * SLIDE_S)
                plays.append(Play(seq, item.id, 1, langs[k % len(langs)], at, SLIDE_S * 1000))
            start = time.perf_counter()
            for b in range(0, len(plays), BATCH):
                with rt.session() as session:
                    answer = record_plays(
                        session, s.id, lineage, plays[b : b + BATCH], end, days + 10
                    )
                stored += answer["stored"]
            ingest_s += time.perf_counter() - start
            total += len(plays)
        with rt.session() as session:
            for item in rng.sample(items, 10):
                count_scan(
                    session, item.id, rng.choice(["ja", "en"]), rng.choice(screens).id, day_start
                )
        start = time.perf_counter()
        with rt.session() as session:
            fold(session, day_start + timedelta(days=1, hours=1))
        fold_s += time.perf_counter() - start
        print(
            f"  day {day + 1}/{days}: {total:,} plays, {total / ingest_s:,.0f}/s",
            file=sys.stderr,
            flush=True,
        )
    # the last 10 minutes, not folded yet (the scheduler folds every 10 minutes)
    now = end - timedelta(minutes=1)
    recent = 0
    with rt.session() as session:
        for s in screens:
            if seen[s.id]:
                batch = []
                for k in range(600 // SLIDE_S):
                    seq += 1
                    at = now - timedelta(seconds=600 - k * SLIDE_S)
                    batch.append(Play(seq, seen[s.id][0].id, 1, s.languages[0], at, 10_000))
                recent += record_plays(session, s.id, above(tree, s.area), batch, end, 90)["stored"]
    since, until = first_day.date().isoformat(), (end - timedelta(days=1)).date().isoformat()
    with rt.session() as session:
        raw = session.scalar(select(func.count()).select_from(PlayRow))
        daily = session.scalar(select(func.count()).select_from(PlayDailyRow))
    print(f"\n{backend}: {total:,} plays over {days} days on {len(screens)} screens")
    print(f"  ingested     {total / ingest_s:,.0f} plays/s ({stored:,} stored, {ingest_s:.0f} s)")
    print(
        f"  fold         {fold_s / days * 1000:,.0f} ms per day of plays at once"
        " (the scheduler folds every 10 minutes: 1/144 of it each time)"
    )
    print(f"  rows         plays {raw:,} raw ({recent:,} not folded yet), plays_daily {daily:,}")
    district = "setagaya/kitazawa/daizawa"
    item_id = seen["daizawa-1"][0].id

    def report(area: str, item: int | None = None, export: bool = False) -> Callable[[], Any]:
        def go() -> Any:
            with rt.session() as session:
                r = build(session, tree, area, since, until, now, item)
            out = (r.per_item(), r.hours_by("category"), r.hours_per_day(), r.uptime_by_screen())
            if export:
                to_csv(r.rows("plays"), tuple(r.rows("plays")[0]) if r.plays else ("day",))
            return out

        return go

    queries = (
        ("dashboard, ward", report("setagaya")),
        ("dashboard, region", report("setagaya/kitazawa")),
        ("dashboard, district", report(district)),
        ("item view", report(district, item_id)),
        ("plays CSV, ward", report("setagaya", export=True)),
    )
    for name, fn in queries:
        print(f"  {name:<20} {_median_ms(fn):8.1f} ms (median of 5)")
    if backend == "postgres":  # what autovacuum does after a bulk load, at once
        from sqlalchemy import text

        with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
        print("  after ANALYZE:")
        for name, fn in queries:
            print(f"  {name:<20} {_median_ms(fn):8.1f} ms (median of 5)")
    rt.close()
    if backend == "sqlite":
        print(f"  SQLite file  {(tmp / 'publisher.db').stat().st_size / 1e6:,.0f} MB")
    if drop is not None:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    if not args.postgres_only:
        run("sqlite", args.days)
    if os.environ.get("PUBLISHER_TEST_DATABASE_URL") and not args.sqlite_only:
        run("postgres", args.days)


if __name__ == "__main__":
    main()
