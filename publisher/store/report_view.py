"""One area's report for a period: the rows of :mod:`publisher.store.reports` put together.

:func:`build` feeds ``/admin/reports``, its downloads and ``publisher report``; the exports'
columns are :data:`COLUMNS` (documented in the README's "What is counted").
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from publisher.areas import Area, AreaTree
from publisher.errors import NotFound, PublisherError
from publisher.hours import ALWAYS, Hours
from publisher.store import reports as q
from publisher.store.content import ITEM_ID_MAX

COLUMNS: dict[str, tuple[str, ...]] = {
    "plays": (
        "day",
        "area",
        "screen",
        "item_id",
        "title",
        "category",
        "lang",
        "plays",
        "seconds",
        "estimated",
    ),
    "reach": (
        "day",
        "kind",
        "area",
        "screen",
        "item_id",
        "title",
        "lang",
        "format",
        "account",
        "count",
    ),
    "uptime": ("day", "area", "screen", "minutes_online", "share"),
}
KINDS = tuple(COLUMNS)
MAX_DAYS = 3700  # ten years
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def parse_period(since: str | None, until: str | None, today: date) -> tuple[str, str]:
    """``since``..``until`` as ISO days (defaults: the last 30 days to today), checked."""
    end = _day(until, "until") or today
    start = _day(since, "since") or max(end - timedelta(days=29), FIRST_DAY)
    if start > end:
        raise PublisherError(f"since {start} is after until {end}", field="since")
    if (end - start).days > MAX_DAYS:
        raise PublisherError(f"at most {MAX_DAYS} days in one report", field="since")
    return start.isoformat(), end.isoformat()


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PublisherError(f"'{text}' is not a date (YYYY-MM-DD)", field=name) from None
    if not FIRST_DAY <= day <= LAST_DAY:  # the day before and after must be dates too
        raise PublisherError(
            f"{day} is outside the days reports cover ({FIRST_DAY} to {LAST_DAY})", field=name
        )
    return day


def below(tree: AreaTree, code: str) -> list[str]:
    """``code`` and every area under it."""
    out, todo = [], [code]
    while todo:
        c = todo.pop()
        out.append(c)
        todo.extend(tree.get(c).children)
    return out


def above(tree: AreaTree, code: str) -> list[str]:
    """``code`` and every area over it (what an item targeted there is seen in)."""
    out: list[str] = []
    area: Area | None = tree.get(code)
    while area is not None:
        out.append(area.code)
        area = tree.get(area.parent) if area.parent else None
    return out


@dataclass
class Report:
    area: Area
    since: str
    until: str
    screens: dict[str, str]  # screen id -> its area code
    plays: list[dict[str, Any]]
    reach: list[dict[str, Any]]
    uptime: list[dict[str, Any]]
    items: dict[int, dict[str, Any]]
    residents: int | None = None
    population_note: str = ""
    item_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    hours: dict[str, Hours] = field(default_factory=dict)  # screen id -> its operating hours

    # -- summaries --------------------------------------------------------------------------

    def hours_by(self, key: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for r in self.plays:
            label = self.items.get(r["item_id"], {}).get("category") if key == "category" else None
            name = (label or "その他") if key == "category" else r[key]
            out[name] += r["seconds"] / 3600
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def hours_per_day(self) -> dict[str, float]:
        out: dict[str, float] = {d: 0.0 for d in _days(self.since, self.until)}
        for r in self.plays:
            out[r["day"]] = out.get(r["day"], 0.0) + r["seconds"] / 3600
        return out

    def counts(self, kind: str, key: str) -> dict[str, int]:
        out: Counter[str] = Counter()
        for r in self.reach:
            if r["kind"] == kind:
                out[str(r[key])] += r["count"]
        return dict(out.most_common())

    def total(self, kind: str) -> int:
        return sum(r["count"] for r in self.reach if r["kind"] == kind)

    def per_item(self) -> list[dict[str, Any]]:
        """Per item: plays, seconds, screens, scans (by language), page views."""
        if "per_item" in self.extra:
            return list(self.extra["per_item"])
        rows: dict[int, dict[str, Any]] = {}
        for r in self.plays:
            x = rows.get(r["item_id"])
            if x is None:
                facts = self.items.get(r["item_id"], {})
                x = rows[r["item_id"]] = {
                    "item_id": r["item_id"],
                    "title": facts.get("title", ""),
                    "category": facts.get("category", ""),
                    "plays": 0,
                    "seconds": 0.0,
                    "screens": set(),
                    "estimated": 0,
                    "scans": 0,
                    "scans_by_lang": Counter(),
                    "views": 0,
                }
            x["plays"] += r["plays"]
            x["seconds"] += r["seconds"]
            x["screens"].add(r["screen"])
            x["estimated"] += r["plays"] if r["estimated"] else 0
        for r in self.reach:
            if r["kind"] in ("scan", "view") and r["item_id"] in rows:
                x = rows[r["item_id"]]
                x["scans" if r["kind"] == "scan" else "views"] += r["count"]
                if r["kind"] == "scan":
                    x["scans_by_lang"][r["lang"] or "ja"] += r["count"]
        out = sorted(rows.values(), key=lambda x: (-x["plays"], x["item_id"]))
        for x in out:
            x["screens"] = len(x["screens"])
            x["seconds"] = round(x["seconds"], 1)
        self.extra["per_item"] = out
        return list(out)

    def uptime_by_screen(self) -> dict[str, float]:
        """Each screen's share of minutes online over the days of the period it is meant to be
        on (its ``hours``; a closed day counts for nothing), 0–1."""
        days = [date.fromisoformat(d) for d in _days(self.since, self.until)]
        got: dict[str, float] = {s: 0.0 for s in sorted(self.screens)}
        for r in self.uptime:
            got[r["screen"]] = got.get(r["screen"], 0.0) + (r["share"] or 0.0)
        out = {}
        for s, v in got.items():
            hours = self.hours.get(s, ALWAYS)
            on_days = sum(1 for d in days if hours.minutes_on(d))
            out[s] = round(v / on_days, 4) if on_days else 0.0
        return out

    def per_thousand(self, count: float) -> float | None:
        return None if not self.residents else round(count * 1000 / self.residents, 3)

    # -- exports ----------------------------------------------------------------------------

    def rows(self, kind: str) -> list[dict[str, Any]]:
        """The export rows of ``kind`` (``plays``, ``reach``, ``uptime``), :data:`COLUMNS`."""
        out = []
        source = {"plays": self.plays, "reach": self.reach, "uptime": self.uptime}[kind]
        for r in source:
            x = {c: r.get(c) for c in COLUMNS[kind]}
            if "screen" in r and r.get("screen"):
                x["area"] = self.screens.get(r["screen"], "")
            elif kind == "reach" and not r.get("area"):
                x["area"] = self.area.code if r["kind"] in ("scan", "view") else None
            if "title" in x and r.get("item_id"):
                x["title"] = self.items.get(r["item_id"], {}).get("title", "")
            if "category" in x and r.get("item_id"):
                x["category"] = self.items.get(r["item_id"], {}).get("category", "")
            out.append(x)
        return out


def _days(since: str, until: str) -> list[str]:
    start, end = date.fromisoformat(since), date.fromisoformat(until)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def build(
    session: Session,
    tree: AreaTree,
    area_code: str,
    since: str,
    until: str,
    now: datetime,
    item_id: int | None = None,
) -> Report:
    """The report of ``area_code`` (its screens, feeds, and the items seen there)."""
    if item_id is not None and not 1 <= item_id <= ITEM_ID_MAX:
        raise NotFound(f"no item {item_id}", field="item")  # nor could there be one
    area = tree.get(area_code)
    areas = below(tree, area.code)
    inside = set(areas)
    screens = {s.id: s.area for s in tree.screens.values() if s.area in inside}
    hours = {s.id: s.hours for s in tree.screens.values() if s.area in inside}
    plays = q.plays(session, screens, since, until)
    items = None if area.code == tree.ward_code else {r["item_id"] for r in plays}
    if item_id is not None:
        plays = [r for r in plays if r["item_id"] == item_id]
        items = {item_id}
    reach = q.reach(session, screens, areas, items, since, until)
    if item_id is not None:
        reach = [r for r in reach if r["item_id"] == item_id]
    elif items is not None:
        # page views and scans: of the items the area's screens played
        reach = [r for r in reach if r["kind"] not in ("view", "scan") or r["item_id"] in items]
    ids = {r["item_id"] for r in plays} | {r["item_id"] for r in reach if r["item_id"]}
    population = tree.population
    residents = population.residents(tree, area.code) if population else None
    note = ""
    if population and residents:
        note = f"{population.source}、{population.as_of}"
        if population.placeholder:
            note = "【仮の値】" + note
    return Report(
        area,
        since,
        until,
        screens,
        plays,
        reach,
        q.uptime(session, screens, since, until, now, hours),
        q.item_facts(session, ids),
        residents,
        note,
        item_id,
        hours=hours,
    )


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel opens it as UTF-8), CRLF line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_json(report: Report, kind: str) -> bytes:
    doc = {
        "area": report.area.code,
        "since": report.since,
        "until": report.until,
        "kind": kind,
        "columns": list(COLUMNS[kind]),
        "rows": report.rows(kind),
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
