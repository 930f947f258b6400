"""The runs recorded: what each source's last and recent runs did, as staff and
``GET /api/collect/runs`` read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.items import iso
from publisher.store.models import CollectRunRow


def run_json(row: CollectRunRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "kind": row.kind,
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "ok": row.ok,
        "created": row.created,
        "updated": row.updated,
        "unchanged": row.unchanged,
        "skipped": row.skipped,
        "skipped_entries": row.errors or [],
        "failure": row.failure,
    }


def recent_runs(session: Session, *, source: str | None = None, limit: int = 50) -> list[Any]:
    """The newest runs first (of one source, or of all)."""
    query = select(CollectRunRow)
    if source:
        query = query.where(CollectRunRow.source == source)
    rows = session.scalars(query.order_by(CollectRunRow.id.desc()).limit(limit))
    return [run_json(r) for r in rows]


def last_runs(session: Session) -> dict[str, dict[str, Any]]:
    """The last run of every source that ever ran, by source name."""
    newest = select(func.max(CollectRunRow.id)).group_by(CollectRunRow.source)
    rows = session.scalars(select(CollectRunRow).where(CollectRunRow.id.in_(newest)))
    return {r.source: run_json(r) for r in rows}
