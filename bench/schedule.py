"""Benchmark: 10,000 items starting and ending over one day, the day compressed into a minute.

Every item gets a start and an end inside a simulated day, mapped onto the next ``--seconds``
of real time (default 60: one simulated day per minute, ~1,440× faster than life). The real
scheduler (APScheduler, date jobs at each instant, expiry writes, audit rows) runs them; a
stand-in push hub records how late each transition reached it. Prints the lateness
percentiles, the time to plan the whole horizon, and the process's CPU time and peak memory.

    .venv/bin/python bench/schedule.py [--items 10000] [--seconds 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from publisher.config import load_settings
from publisher.runtime import Runtime
from publisher.schedule.scheduler import Scheduler
from publisher.store.content import sync_tree
from publisher.store.models import ItemRow, TargetRow, TranslationRow
from publisher.timetable import Timetable

LEAD_S = 20.0  # the first item begins this long after the run starts: set-up is not measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0, help="real length of the day")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-schedule-"))
    settings = load_settings({}, DATA_DIR=tmp, DATABASE_URL=args.database_url, SECRET_KEY="bench")
    rt = Runtime(settings)
    rt.db.migrate()
    with rt.session() as session:
        sync_tree(session, rt.tree)
    rt.listeners.clear()  # the bench's push hub is the stand-in below

    rng = random.Random(20261122)
    areas = [a.code for a in rt.tree]
    t0 = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    day = args.seconds
    items, translations, targets = [], [], []
    for i in range(1, args.items + 1):
        start = rng.uniform(0, day * 0.9)
        end = rng.uniform(start + day * 0.01, day)
        items.append(
            {
                "id": i,
                "kind": "notice",
                "status": "approved",
                "priority": "normal",
                "starts_at": t0 + timedelta(seconds=start),
                "ends_at": t0 + timedelta(seconds=end),
                "dayparts": [],
                "source": "bench",
                "revision": 1,
                "all_day": False,
                "drill": False,
                "needs_review": False,
                "created_at": t0,
                "updated_at": t0 - timedelta(seconds=LEAD_S),
            }
        )
        translations.append(
            {"item_id": i, "lang": "ja", "position": 0, "title": f"お知らせ {i}", "body": ""}
        )
        targets.append({"item_id": i, "area_code": rng.choice(areas)})
    with rt.session() as session:
        session.execute(insert(ItemRow), items)
        session.execute(insert(TranslationRow), translations)
        session.execute(insert(TargetRow), targets)

    lateness: list[float] = []
    pushed_items = [0]
    current = threading.local()
    lock = threading.Lock()

    def push(rt_: Runtime, ids: set[int]) -> None:
        reached = time.time()
        with lock:
            lateness.extend(reached - instant.timestamp() for instant in current.instants)
            pushed_items[0] += len(ids)

    class TimedScheduler(Scheduler):
        def _transition_batch(self, batch: dict[datetime, set[int]]) -> None:
            current.instants = list(batch)
            super()._transition_batch(batch)

    timetable = Timetable(
        daily_delivery_at=(), sns_post_at=(), watchdog_every_s=3600, poll_s=3600, horizon_h=24
    )
    sched = TimedScheduler(rt, timetable=timetable, push=push, sources=lambda r: [], outbox=None)
    before = resource.getrusage(resource.RUSAGE_SELF)
    planned_at = time.perf_counter()
    sched.start()  # plans every instant of the horizon
    plan_s = time.perf_counter() - planned_at
    instants = len(sched.planned())
    ready_s = (t0 - datetime.now(UTC)).total_seconds()
    wait = (t0 + timedelta(seconds=day)) - datetime.now(UTC)
    time.sleep(max(0.0, wait.total_seconds()) + 3.0)
    sched.shutdown()
    after = resource.getrusage(resource.RUSAGE_SELF)

    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ms = sorted(x * 1000 for x in lateness)
    print(f"database            {rt.db.safe_url.split('?')[0]}")
    print(f"items               {args.items:,} over a simulated day of {day:.0f} s real time")
    print(f"transitions planned {instants:,} instants in {plan_s * 1000:.0f} ms (start + replan)")
    print(f"ready               {ready_s:.1f} s before the first instant")
    print(f"transitions run     {len(ms):,} (items pushed {pushed_items[0]:,})")
    if ms:
        print(
            f"lateness to push    p50 {statistics.median(ms):.1f} ms · "
            f"p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms · max {ms[-1]:.1f} ms"
        )
    print(
        f"scheduler CPU       {cpu:.1f} s over {day + 3:.0f} s ({cpu / (day + 3) * 100:.0f}% of a core)"
    )
    print(f"peak memory (RSS)   {after.ru_maxrss / 1024:.0f} MiB")
    rt.close()


if __name__ == "__main__":
    main()
