"""How every screen is doing, for staff: last heartbeat, version on screen vs latest, last
delivery and its failures. :func:`screen_report` feeds ``publisher screens`` and
``GET /api/screens``; :func:`delivery_summaries` counts failures for it and for the admin's
screens page alike, so the two always agree."""

from __future__ import annotations

import hmac
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.items import iso
from publisher.store.content import (
    audit,
    new_screen_token,
    screen_row,
    screen_rows,
    screen_token_digest,
)
from publisher.store.models import DeliveryRow, ScreenRow


def screen_status(row: ScreenRow, now: datetime, offline_after_s: float) -> str:
    """``online``, ``offline`` (flagged by the watchdog or silent too long) or ``never seen``."""
    if row.last_heartbeat_at is None:
        return "never seen"
    if row.flagged_offline_at is not None:
        return "offline"
    silent_s = (now - row.last_heartbeat_at).total_seconds()
    return "online" if silent_s < offline_after_s else "offline"


@dataclass(frozen=True)
class DeliverySummary:
    """A pushed screen's delivery log in brief.

    ``failures`` is the number of failed attempts since the last successful delivery, across
    versions (a newer version superseding a failing one does not reset it); when the last
    delivery succeeded, the failed attempts before that success. ``failing_since``: when the
    first of those failures' versions was built (None when the last delivery succeeded).
    ``last_error``: the newest of those failures' error text.
    """

    last: DeliveryRow
    failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_error: str | None = None


def delivery_summaries(
    session: Session, ids: Iterable[str] | None = None
) -> dict[str, DeliverySummary]:
    """Each screen's (among ``ids``) :class:`DeliverySummary`; screens never pushed are absent."""
    query = select(DeliveryRow).order_by(DeliveryRow.created_at, DeliveryRow.id)
    if ids is not None:
        query = query.where(DeliveryRow.screen_id.in_(list(ids)))
    failed: dict[str, int] = {}
    since: dict[str, datetime | None] = {}
    error: dict[str, str | None] = {}
    out: dict[str, DeliverySummary] = {}
    for d in session.scalars(query):
        sid = d.screen_id
        before = out.get(sid)
        success_at = before.last_success_at if before else None
        if d.state == "delivered":
            failures = failed.pop(sid, 0) + max(d.attempts - 1, 0)
            since.pop(sid, None)
            error.pop(sid, None)
            out[sid] = DeliverySummary(d, failures, None, d.delivered_at or success_at)
            continue
        if d.attempts:
            failed[sid] = failed.get(sid, 0) + d.attempts
            since.setdefault(sid, d.created_at)
            error[sid] = d.last_error or error.get(sid)
        out[sid] = DeliverySummary(
            d, failed.get(sid, 0), since.get(sid), success_at, error.get(sid)
        )
    return out


def screen_report(
    session: Session, now: datetime, offline_after_s: float, ids: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """One plain dict per active screen (never a token: only its hash is stored)."""
    rows = screen_rows(session, ids)
    summaries = delivery_summaries(session, [r.id for r in rows])
    out = []
    for r in rows:
        summary = summaries.get(r.id)
        d = summary.last if summary else None
        out.append(
            {
                "id": r.id,
                "area": r.area_code,
                "size": f"{r.width}x{r.height}",
                "location": r.location,
                "languages": r.languages,
                "delivery": r.delivery,
                "endpoint": r.endpoint,
                "folder": r.folder,
                "status": screen_status(r, now, offline_after_s),
                "last_heartbeat_at": iso(r.last_heartbeat_at),
                "flagged_offline_at": iso(r.flagged_offline_at),
                "version_on_screen": r.version_on_screen,
                "latest_version": r.latest_version,
                "up_to_date": r.latest_version is not None
                and r.version_on_screen == r.latest_version,
                "last_delivery": None
                if d is None or summary is None
                else {
                    "version": d.version,
                    "state": d.state,
                    "attempts": d.attempts,
                    "failures": summary.failures,
                    "failing_since": iso(summary.failing_since),
                    "last_error": d.last_error,
                    "next_attempt_at": iso(d.next_attempt_at),
                    "delivered_at": iso(d.delivered_at),
                    "last_success_at": iso(summary.last_success_at),
                },
            }
        )
    return out


def describe(report: dict[str, Any]) -> str:
    """One line for the terminal: version on screen vs latest, and the last delivery."""
    on, latest = report["version_on_screen"], report["latest_version"]
    version = (
        "-" if latest is None else ("up to date" if on == latest else f"{on or '-'} → {latest}")
    )
    d = report["last_delivery"]
    if d is None:
        delivery = ""
    elif d["state"] == "delivered":
        delivery = f"delivered {d['delivered_at']}" + (
            f" after {d['failures']} failure(s)" if d["failures"] else ""
        )
    else:
        delivery = f"{d['state']} ×{d['failures']}: {d['last_error'] or ''}"
    return f"{version:<24} {delivery}".rstrip()


def rotate_screen_token(session: Session, screen_id: str, *, actor: str) -> str:
    """A new random token for ``screen_id`` (returned once); the old one stops working."""
    row = screen_row(session, screen_id)
    token = new_screen_token(row)
    audit(session, actor, "rotate-token", "screen", row.id, None, None)
    return token


def screen_token_problem(
    session: Session, screen_id: str | None, given: str, known: Container[str]
) -> tuple[int, str] | None:
    """The one check of a screen's token, for every route a player calls.

    None when ``given`` is the token of active screen ``screen_id`` (any active screen's when
    ``screen_id`` is None: slides and audio are shared); else (404 unknown screen, or 403 why).
    ``known`` is the screen ids in ``displays/``. Only the token's hash is stored, and the hashes
    are compared in constant time.
    """
    row = None
    if screen_id is not None:
        row = session.get(ScreenRow, screen_id)
        if row is None or not row.active or screen_id not in known:
            return 404, f"unknown screen '{screen_id}'"
    if not given:
        return 403, "this screen's token is missing" if row else "a screen token is required"
    digest = screen_token_digest(given)
    if row is not None:
        ok = hmac.compare_digest(digest, row.token_hash)
    else:
        found = session.scalars(
            select(ScreenRow.id).where(ScreenRow.token_hash == digest, ScreenRow.active.is_(True))
        ).first()
        ok = found is not None and found in known
    return None if ok else (403, "this screen's token is missing or wrong")
