"""One-off ways in: ``publisher import``, ``publisher alert`` and ``POST /api/alerts``.

Each builds an ad-hoc :class:`~publisher.collect.base.Source` and goes through the same
:func:`~publisher.collect.run.collect` as a configured source, so the rules (idempotent
upserts, skipped entries reported, every run recorded) are the same.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from publisher.collect.base import Skipped, Source
from publisher.collect.cap import parse_message
from publisher.collect.http import Http
from publisher.collect.registry import collector_for
from publisher.collect.run import RunResult, collect, referenced_items
from publisher.errors import NotFound, PublisherError
from publisher.runtime import Runtime
from publisher.store.staff import Principal

SOURCE_NAME_MAX = 100


def import_source(kind: str, location: str, targets: tuple[str, ...] = ()) -> Source:
    """The source of ``publisher import KIND PATH|URL``: named after the file or URL, so
    importing the same file again updates the same items."""
    collector_for(kind)  # an unknown kind is an error before anything is read
    is_url = location.startswith(("https://", "http://"))
    short = location if is_url else Path(location).name
    return Source(
        name=f"import:{kind}:{short}"[:SOURCE_NAME_MAX],
        kind=kind,
        url=location if is_url else None,
        path=None if is_url else Path(location),
        targets=targets,
    )


def import_document(
    rt: Runtime,
    kind: str,
    location: str,
    targets: tuple[str, ...] = (),
    *,
    now: datetime | None = None,
    http: Http | None = None,
) -> RunResult:
    for code in targets:
        rt.tree.get(code)
    return collect(rt, import_source(kind, location, targets), now=now, http=http, actor="cli")


def ingest_alert(
    rt: Runtime,
    data: bytes,
    who: Principal,
    *,
    via: str,
    now: datetime | None = None,
) -> RunResult:
    """Store one CAP message sent by ``who`` (an approver or admin whose scope covers the
    alert's areas, or the alerts it updates or cancels). Raises PublisherError (400) for an
    invalid message, Forbidden (403) for a sender who may not issue it."""
    who.require_role("approver", "issuing a CAP alert")
    source = Source(name=via[:SOURCE_NAME_MAX], kind="cap")
    entry = parse_message(source, data, rt.tree)
    if isinstance(entry, Skipped):
        raise PublisherError(f"{entry.entry}: {entry.reason}")
    with rt.session() as session:
        named = referenced_items(session, entry)
    if entry.cancel and not named:
        raise NotFound(
            f"{entry.label}: the Cancel names no stored alert "
            f"({' '.join(f'{s},{i}' for s, i in entry.references)})"
        )
    targets = [t for item in named for t in item.targets]
    if not entry.cancel:
        targets.extend(entry.fields["targets"])
    who.require_scope(rt.tree, targets)
    result = collect(rt, source, data=data, now=now, actor=who.name)
    if not result.ok:
        raise PublisherError(result.failure or "the alert could not be stored")
    if result.skipped:
        raise PublisherError(f"{result.skipped[0].entry}: {result.skipped[0].reason}")
    return result
