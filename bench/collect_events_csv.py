"""How fast the event-list collector reads and stores a large file (SQLite under a temp dir).

Prints: rows, parse time, first import (all created), second import (all unchanged).
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from publisher.collect import Source, collect
from publisher.collect.registry import collector_for
from publisher.config import load_settings
from publisher.runtime import Runtime
from publisher.store.content import sync_tree

ROWS = int(__import__("os").environ.get("BENCH_ROWS", 5000))
JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=JST)
DISTRICTS = ["代沢", "梅丘", "北沢", "成城", "用賀", "烏山", "池尻"]


def make_csv(rows: int) -> bytes:
    lines = [
        "NO,イベント名,イベント名_英語,開始日,終了日,開始時間,終了時間,説明,場所名称,住所,緯度,経度,URL"
    ]
    for n in range(rows):
        day = (NOW + timedelta(days=1 + n % 90)).date()
        place = DISTRICTS[n % len(DISTRICTS)]
        lines.append(
            f"{n},{place}地区 講座 第{n}回,Lecture {n},{day},{day},10:00,12:00,"
            f"地域の講座です（第{n}回）。,{place}まちづくりセンター,東京都世田谷区{place}1-1-1,"
            f"35.65,139.66,https://www.city.setagaya.lg.jp/event/{n}.html"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def main() -> None:
    data = make_csv(ROWS)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(DATA_DIR=Path(tmp), SECRET_KEY="bench")
        rt = Runtime(settings)
        rt.db.migrate()
        with rt.session() as s:
            sync_tree(s, rt.tree)
        source = Source(name="bench", kind="events-csv", path=Path("bench.csv"))
        t = time.perf_counter()
        entries = list(collector_for("events-csv").parse(source, data, rt.tree, NOW))
        parse_s = time.perf_counter() - t
        print(f"rows: {ROWS}  file: {len(data) / 1024:.0f} KiB (cp932)")
        print(
            f"parse: {parse_s * 1000:.0f} ms ({ROWS / parse_s:,.0f} rows/s), {len(entries)} entries"
        )
        for label in ("first import", "second import"):
            t = time.perf_counter()
            result = collect(rt, source, data=data, now=NOW)
            took = time.perf_counter() - t
            print(
                f"{label}: {took:.2f} s ({ROWS / took:,.0f} rows/s): created {result.created}, "
                f"updated {result.updated}, unchanged {result.unchanged}"
            )
        rt.close()


if __name__ == "__main__":
    main()
