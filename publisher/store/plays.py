"""Proof of play: what each screen showed, taken in once, folded per day, pruned.

A player numbers each slide it shows (``seq``, its own counter, never reused: it starts from
the clock in milliseconds × 1000 when its storage is new) and sends them in batches; a play is
stored once per (screen, seq), so a batch sent twice (a lost answer, a player back online)
counts once. Each play is checked: its item must exist and be targeted at the screen's area
or one above it, its start neither in the future nor older than the raw retention.

Raw plays (``plays``) are kept ``PLAYS_KEEP_DAYS`` days; :func:`fold` (every few minutes, and
before a report) adds them into ``plays_daily`` (one row per day × screen × item × language),
each raw row exactly once (``UPDATE … RETURNING`` marks what it adds). Reports read the daily
rows plus the few raw rows not folded yet, so a late batch from a screen that was offline
still counts, and a report never sums a day's raw plays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, false, func, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publisher.errors import PublisherError
from publisher.items import JST
from publisher.store.models import (
    HeartbeatRow,
    ItemRow,
    PlayDailyRow,
    PlayRow,
    ReachDailyRow,
    TargetRow,
)

MAX_BATCH = 1000
MAX_PLAY_S = 3600  # a slide longer than an hour is a player's mistake
FUTURE_SLACK = timedelta(minutes=5)  # a player's clock a little ahead


@dataclass(frozen=True)
class Play:
    """One slide shown: ``started_at`` aware, ``duration_ms`` on screen."""

    seq: int
    item_id: int
    revision: int
    lang: str
    started_at: datetime
    duration_ms: int
    estimated: bool = False


def ward_day(at: datetime) -> str:
    return at.astimezone(JST).date().isoformat()


def _int(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise PublisherError(f"must be a whole number from {low} to {high}", field=where)
    return value


def parse_plays(data: Any, languages: Iterable[str]) -> list[Play]:
    """A player's batch (``{"plays": [{"seq", "item_id", "revision", "lang", "start",
    "seconds"}]}``) as :class:`Play` values; a bad one is rejected naming its place."""
    if not isinstance(data, dict) or not isinstance(data.get("plays"), list):
        raise PublisherError('the body must be {"plays": [...]}', field="plays")
    raw = data["plays"]
    if len(raw) > MAX_BATCH:
        raise PublisherError(f"at most {MAX_BATCH} plays per batch", field="plays")
    langs = set(languages)
    out = []
    for i, p in enumerate(raw):
        where = f"plays[{i}]"
        if not isinstance(p, dict):
            raise PublisherError("must be an object", field=where)
        lang = p.get("lang")
        if not isinstance(lang, str) or lang not in langs:
            raise PublisherError(f"unknown language {lang!r}", field=f"{where}.lang")
        start = p.get("start")
        try:
            started = datetime.fromisoformat(start) if isinstance(start, str) else None
        except ValueError:
            started = None
        if started is None or started.tzinfo is None:
            raise PublisherError(
                "must be an ISO time with its offset, e.g. 2026-11-22T10:00:00+09:00",
                field=f"{where}.start",
            )
        seconds = p.get("seconds")
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not 0 < seconds <= MAX_PLAY_S
        ):
            raise PublisherError(
                f"must be seconds from 0 to {MAX_PLAY_S}", field=f"{where}.seconds"
            )
        out.append(
            Play(
                seq=_int(p.get("seq"), f"{where}.seq", 0, 2**62),
                item_id=_int(p.get("item_id"), f"{where}.item_id", 1, 2**31 - 1),
                revision=_int(p.get("revision", 0), f"{where}.revision", 0, 2**31 - 1),
                lang=str(lang),
                started_at=started,
                duration_ms=round(float(seconds) * 1000),
            )
        )
    return out


def insert_for(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _items_for(session: Session, areas: Iterable[str], item_ids: set[int]) -> set[int]:
    """Which of ``item_ids`` target any of ``areas`` (a screen's area and those above it)."""
    if not item_ids:
        return set()
    rows = session.execute(
        select(TargetRow.item_id).where(
            TargetRow.item_id.in_(item_ids), TargetRow.area_code.in_(list(areas))
        )
    )
    return {r for (r,) in rows}


def record_plays(
    session: Session,
    screen_id: str,
    areas: Iterable[str],
    plays: list[Play],
    now: datetime,
    keep_days: int,
) -> dict[str, Any]:
    """Store each play of ``screen_id`` not stored before; ``areas``: the screen's area and
    every area above it. Answers ``{"stored", "duplicate", "rejected": [{"seq", "why"}]}``."""
    oldest = now - timedelta(days=keep_days)
    fitting = _items_for(session, areas, {p.item_id for p in plays})
    rows, rejected = [], []
    for p in plays:
        if p.item_id not in fitting:
            why = f"item {p.item_id} is not shown on this screen"
        elif p.started_at > now + FUTURE_SLACK:
            why = "starts in the future"
        elif p.started_at < oldest:
            why = f"older than the {keep_days} days plays are kept"
        else:
            rows.append(
                {
                    "screen_id": screen_id,
                    "seq": p.seq,
                    "item_id": p.item_id,
                    "revision": p.revision,
                    "lang": p.lang,
                    "day": ward_day(p.started_at),
                    "started_at": p.started_at,
                    "duration_ms": p.duration_ms,
                    "estimated": p.estimated,
                    "folded": False,
                }
            )
            continue
        rejected.append({"seq": p.seq, "why": why})
    stored = insert_plays(session, rows)
    return {"stored": stored, "duplicate": len(rows) - stored, "rejected": rejected}


_COLUMNS = (
    "screen_id",
    "seq",
    "item_id",
    "revision",
    "lang",
    "day",
    "started_at",
    "duration_ms",
    "estimated",
    "folded",
)
_INSERT_PG = (
    f"INSERT INTO plays ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))}) "
    "ON CONFLICT (screen_id, seq) DO NOTHING"
)


def insert_plays(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert raw plays, skipping any (screen, seq) already stored; returns how many were new.

    Not through the ORM: a month of the ward's plays is ~11 million rows. On PostgreSQL the
    driver's own ``executemany`` (one pipeline), whose count is the rows really inserted."""
    if not rows:
        return 0
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        values = [
            tuple(
                r[c].astimezone(UTC).replace(tzinfo=None) if c == "started_at" else r[c]
                for c in _COLUMNS
            )
            for r in rows
        ]
        with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.executemany(_INSERT_PG, values)
            return int(cursor.rowcount)
    table = PlayRow.__table__
    stmt = insert_for(session)(table).on_conflict_do_nothing(index_elements=["screen_id", "seq"])
    stmt = stmt.returning(table.c.id)
    stored = 0
    for start in range(0, len(rows), 2000):
        stored += len(connection.execute(stmt, rows[start : start + 2000]).all())
    return stored


_FOLD_PG = """
WITH moved AS (
  UPDATE plays SET folded = true WHERE folded = false
  RETURNING day, screen_id, item_id, lang, estimated, duration_ms),
added AS (
  INSERT INTO plays_daily (day, screen_id, item_id, lang, estimated, plays, duration_ms)
  SELECT day, screen_id, item_id, lang, estimated, count(*), sum(duration_ms) FROM moved
  GROUP BY day, screen_id, item_id, lang, estimated
  ON CONFLICT (day, screen_id, item_id, lang, estimated) DO UPDATE
  SET plays = plays_daily.plays + excluded.plays,
      duration_ms = plays_daily.duration_ms + excluded.duration_ms
  RETURNING 1)
SELECT count(*) FROM moved
"""
_FOLD_SQLITE = """
INSERT INTO plays_daily (day, screen_id, item_id, lang, estimated, plays, duration_ms)
SELECT day, screen_id, item_id, lang, estimated, count(*), sum(duration_ms) FROM plays
WHERE folded = 0
GROUP BY day, screen_id, item_id, lang, estimated
ON CONFLICT (day, screen_id, item_id, lang, estimated) DO UPDATE
SET plays = plays + excluded.plays, duration_ms = duration_ms + excluded.duration_ms
"""


def fold(session: Session, now: datetime) -> int:
    """Add every raw play not added yet into ``plays_daily`` (each once: today's too, so that
    a report reads only the plays since the last fold raw); returns how many. Minutes online
    are folded for ended days.

    In the database, in one statement or transaction: on PostgreSQL the rows marked folded
    are exactly the rows added (``UPDATE … RETURNING`` feeding the ``INSERT``); on SQLite the
    sum and the marking run under the one writer's lock, so no play arrives in between."""
    if session.get_bind().dialect.name == "postgresql":
        moved = int(session.execute(text(_FOLD_PG)).scalar_one())
    else:
        session.execute(text(_FOLD_SQLITE))
        done = session.execute(update(PlayRow).where(PlayRow.folded == false()).values(folded=True))
        moved = int(getattr(done, "rowcount", 0) or 0)
    fold_uptime(session, ward_day(now))
    return moved


def add_daily(session: Session, sums: Mapping[tuple[str, str, int, str, bool], list[int]]) -> None:
    rows = [
        {
            "day": day,
            "screen_id": screen,
            "item_id": item,
            "lang": lang,
            "estimated": estimated,
            "plays": n,
            "duration_ms": ms,
        }
        for (day, screen, item, lang, estimated), (n, ms) in sums.items()
    ]
    if not rows:
        return
    stmt = insert_for(session)(PlayDailyRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "screen_id", "item_id", "lang", "estimated"],
        set_={
            "plays": PlayDailyRow.plays + stmt.excluded.plays,
            "duration_ms": PlayDailyRow.duration_ms + stmt.excluded.duration_ms,
        },
    )
    for start in range(0, len(rows), 2000):
        session.execute(stmt, rows[start : start + 2000])


def minutes_online(beats: Iterable[tuple[str, datetime]]) -> dict[tuple[str, str], int]:
    """Minutes with at least one heartbeat, per (screen, ward day)."""
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    for screen, at in beats:
        local = at.astimezone(JST)
        seen[(screen, local.date().isoformat())].add(local.hour * 60 + local.minute)
    return {key: len(minutes) for key, minutes in seen.items()}


def fold_uptime(session: Session, today: str) -> None:
    """Each ended day's minutes online per screen, from its heartbeats, once per day (the
    days after the last one folded)."""
    last = session.scalar(select(func.max(ReachDailyRow.day)).where(ReachDailyRow.kind == "up"))
    end = datetime.fromisoformat(today).replace(tzinfo=JST)
    query = select(HeartbeatRow.screen_id, HeartbeatRow.at).where(HeartbeatRow.at < end)
    if last is not None:
        after = datetime.fromisoformat(last).replace(tzinfo=JST) + timedelta(days=1)
        query = query.where(HeartbeatRow.at >= after)
    beats = session.execute(query).all()
    rows = [
        reach_row(day, "up", screen_id=screen, count=n)
        for (screen, day), n in minutes_online((s, a) for s, a in beats).items()
    ]
    if rows:
        session.execute(insert_for(session)(ReachDailyRow).on_conflict_do_nothing(), rows)


def reach_row(day: str, kind: str, **keys: Any) -> dict[str, Any]:
    row = {
        "day": day,
        "kind": kind,
        "item_id": 0,
        "lang": "",
        "screen_id": "",
        "area_code": "",
        "format": "",
        "part": "",
        "count": 0,
    }
    row.update(keys)
    return row


def prune(session: Session, now: datetime, keep_days: int) -> int:
    """Remove folded raw plays and heartbeats older than ``keep_days``; returns plays removed."""
    oldest = ward_day(now - timedelta(days=keep_days))
    done = session.execute(
        delete(PlayRow).where(and_(PlayRow.folded == true(), PlayRow.day < oldest))
    )
    removed = getattr(done, "rowcount", 0)
    # heartbeats of days whose uptime is folded
    folded_days = select(ReachDailyRow.day).where(ReachDailyRow.kind == "up")
    limit = datetime.fromisoformat(oldest).replace(tzinfo=JST)
    if session.scalar(folded_days.limit(1)) is not None:
        session.execute(delete(HeartbeatRow).where(HeartbeatRow.at < limit))
    return int(removed or 0)


def item_revisions(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    ids = list(item_ids)
    if not ids:
        return {}
    return dict(session.execute(select(ItemRow.id, ItemRow.revision).where(ItemRow.id.in_(ids))))
