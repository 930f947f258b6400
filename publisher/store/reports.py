"""What the reports read: plays, reach and uptime for a set of screens and ward days.

Each query reads the daily rows plus what is not folded yet (today's raw plays, today's
heartbeats), so a report is exact up to the moment it is asked. Rows come back as plain
dicts, with the columns the exports publish (see the README's "What is counted").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, func, select
from sqlalchemy.orm import Session

from publisher.hours import ALWAYS, Hours
from publisher.items import JST
from publisher.store.models import (
    HeartbeatRow,
    ItemRow,
    PlayDailyRow,
    PlayRow,
    ReachDailyRow,
    SnsPostRow,
    TranslationRow,
)
from publisher.store.plays import minutes_online, ward_day


def plays(
    session: Session, screens: Collection[str], since: str, until: str
) -> list[dict[str, Any]]:
    """Plays per day × screen × item × language × estimated, days ``since``..``until``."""
    sums: dict[tuple[str, str, int, str, bool], list[int]] = defaultdict(lambda: [0, 0])
    ids = list(screens)
    daily = select(
        PlayDailyRow.day,
        PlayDailyRow.screen_id,
        PlayDailyRow.item_id,
        PlayDailyRow.lang,
        PlayDailyRow.estimated,
        PlayDailyRow.plays,
        PlayDailyRow.duration_ms,
    ).where(PlayDailyRow.day.between(since, until), PlayDailyRow.screen_id.in_(ids))
    raw = (
        select(
            PlayRow.day,
            PlayRow.screen_id,
            PlayRow.item_id,
            PlayRow.lang,
            PlayRow.estimated,
            func.count(),
            func.sum(PlayRow.duration_ms),
        )
        .where(
            PlayRow.folded == false(),  # the partial index of plays not folded yet
            PlayRow.day.between(since, until),
            PlayRow.screen_id.in_(ids),
        )
        .group_by(PlayRow.day, PlayRow.screen_id, PlayRow.item_id, PlayRow.lang, PlayRow.estimated)
    )
    for query in (daily, raw):
        for day, screen, item, lang, estimated, n, ms in session.execute(query):
            s = sums[(day, screen, int(item), lang, bool(estimated))]
            s[0] += int(n)
            s[1] += int(ms or 0)
    return [
        {
            "day": day,
            "screen": screen,
            "item_id": item,
            "lang": lang,
            "estimated": estimated,
            "plays": n,
            "seconds": round(ms / 1000, 1),
        }
        for (day, screen, item, lang, estimated), (n, ms) in sorted(sums.items())
    ]


def reach(
    session: Session,
    screens: Collection[str],
    areas: Collection[str],
    items: Collection[int] | None,
    since: str,
    until: str,
) -> list[dict[str, Any]]:
    """Scans (from ``screens``, or from no screen), page views (of ``items``; None: every
    item), feed readers (of ``areas``) and SNS posts sent, per day."""
    r = ReachDailyRow
    in_days = r.day.between(since, until)
    item_filter = [] if items is None else [r.item_id.in_(list(items))]
    out: list[dict[str, Any]] = []
    scans = select(r.day, r.item_id, r.lang, r.screen_id, r.format, r.count).where(
        in_days, r.kind == "scan", r.screen_id.in_([*screens, ""]), *item_filter
    )
    for day, item, lang, screen, medium, n in session.execute(scans.order_by(r.day)):
        out.append(_reach("scan", day, n, item_id=item, lang=lang, screen=screen, format=medium))
    views = select(r.day, r.item_id, r.lang, r.count).where(in_days, r.kind == "view", *item_filter)
    for day, item, lang, n in session.execute(views.order_by(r.day)):
        out.append(_reach("view", day, n, item_id=item, lang=lang))
    feeds = (
        select(r.day, r.area_code, r.format, func.sum(r.count))
        .where(in_days, r.kind == "feed", r.area_code.in_(list(areas)))
        .group_by(r.day, r.area_code, r.format)
    )
    for day, area, fmt, n in session.execute(feeds.order_by(r.day)):
        out.append(_reach("feed", day, n, area=area, format=fmt))
    start, end = _bounds(since, until)
    posts: dict[tuple[str, str, str], int] = defaultdict(int)
    for at, account, network in session.execute(
        select(SnsPostRow.sent_at, SnsPostRow.account, SnsPostRow.network).where(
            SnsPostRow.state == "sent", SnsPostRow.sent_at >= start, SnsPostRow.sent_at < end
        )
    ):
        if at is not None:
            posts[(ward_day(at), account, network)] += 1
    for (day, account, network), n in sorted(posts.items()):
        out.append(_reach("sns", day, n, account=account, format=network))
    return out


def _reach(kind: str, day: str, count: int, **keys: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "day": day,
        "kind": kind,
        "item_id": None,
        "lang": None,
        "screen": None,
        "area": None,
        "format": None,
        "account": None,
    }
    row.update({k: (v if v not in ("", 0) else None) for k, v in keys.items()})
    row["count"] = int(count)
    return row


def _bounds(since: str, until: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(since).replace(tzinfo=JST)
    end = datetime.fromisoformat(until).replace(tzinfo=JST) + timedelta(days=1)
    return start, end


def uptime(
    session: Session,
    screens: Collection[str],
    since: str,
    until: str,
    now: datetime,
    hours: Mapping[str, Hours] | None = None,
) -> list[dict[str, Any]]:
    """Minutes each screen was online (a heartbeat in the minute) per day, folded days plus
    the days not folded yet. The share is of the minutes the screen is meant to be on that day
    (its ``hours``, all day when not given; so far, for today), ``None`` on a day it is not."""
    ids = list(screens)
    minutes: dict[tuple[str, str], int] = {}
    r = ReachDailyRow
    for day, screen, n in session.execute(
        select(r.day, r.screen_id, r.count).where(
            r.kind == "up", r.day.between(since, until), r.screen_id.in_(ids)
        )
    ):
        minutes[(screen, day)] = int(n)
    last = session.scalar(select(func.max(r.day)).where(r.kind == "up"))
    start, end = _bounds(max(since, _next_day(last)) if last else since, until)
    if start < end:
        beats = session.execute(
            select(HeartbeatRow.screen_id, HeartbeatRow.at).where(
                and_(
                    HeartbeatRow.at >= start,
                    HeartbeatRow.at < end,
                    HeartbeatRow.screen_id.in_(ids),
                )
            )
        )
        for key, n in minutes_online((s, a) for s, a in beats).items():
            minutes.setdefault(key, n)
    out = []
    for (screen, day), n in sorted(minutes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        whole = expected_minutes((hours or {}).get(screen, ALWAYS), day, now)
        out.append(
            {
                "day": day,
                "screen": screen,
                "minutes_online": n,
                "share": round(min(1.0, n / whole), 4) if whole else None,
            }
        )
    return out


def expected_minutes(hours: Hours, day: str, now: datetime) -> int:
    """The minutes of the ward day ``day`` a screen with ``hours`` is meant to be on, up to
    and including the minute of ``now`` (none after it)."""
    start = datetime.fromisoformat(day).replace(tzinfo=JST)
    end = min(
        start + timedelta(days=1), now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    )
    if end <= start:
        return 0
    if end == start + timedelta(days=1):
        return hours.minutes_on(date.fromisoformat(day))
    return round(hours.seconds_on(start, end, JST) / 60)


def _next_day(day: str) -> str:
    return (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()


def item_facts(session: Session, item_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Each item's Japanese title, category and kind, for labels and exports."""
    ids = list(item_ids)
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {
        i: {"title": "", "category": c or "", "kind": k}
        for i, c, k in session.execute(
            select(ItemRow.id, ItemRow.category, ItemRow.kind).where(ItemRow.id.in_(ids))
        )
    }
    for item_id, lang, title in session.execute(
        select(TranslationRow.item_id, TranslationRow.lang, TranslationRow.title).where(
            TranslationRow.item_id.in_(ids)
        )
    ):
        if item_id in out and (lang == "ja" or not out[item_id]["title"]):
            out[item_id]["title"] = title
    return out
