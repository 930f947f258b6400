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
from publisher.collect.run import RunResult, collect, existing_alert, referenced_items
from publisher.errors import Forbidden, NotFound, PublisherError
from publisher.runtime import Runtime
from publisher.store.content import audit
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
    alert's areas, the alert it re-sends and the alerts it updates or cancels).

    Raises PublisherError (400) for an invalid message, Forbidden (403) for a caller or sender
    who may not change the alerts it names (audited; nothing changes). A message held for review
    is stored and returned with ``result.held`` set: the caller says so (202, exit code 3)."""
    who.require_role("approver", "issuing a CAP alert")
    source = Source(name=via[:SOURCE_NAME_MAX], kind="cap")
    entry = parse_message(source, data, rt.tree)
    if isinstance(entry, Skipped):
        raise PublisherError(f"{entry.entry}: {entry.reason}")
    with rt.session() as session:
        named = referenced_items(session, entry)
        same = existing_alert(session, source, entry)
        if entry.cancel and not named:
            raise NotFound(
                f"{entry.label}: the Cancel names no stored alert "
                f"({' '.join(f'{s},{i}' for s, i in entry.references)})"
            )
        targets = [t for item in named for t in item.targets]
        if same is not None:
            targets.extend(same.targets)
        if not entry.cancel and not entry.held:
            targets.extend(entry.fields["targets"])
        refusal = None
        try:
            who.require_scope(rt.tree, targets)
        except Forbidden as e:
            refusal = e.message
            sender = entry.alert.sender if entry.alert else None
            audit(session, who.name, "cap-refused", "alert", entry.external_id[:100], None,
                  {"sender": sender, "reason": refusal})  # fmt: skip
    if refusal is not None:  # the audit row above is kept; nothing else changed
        raise Forbidden(f"{entry.label}: refused: {refusal}")
    result = collect(rt, source, data=data, now=now, actor=who.name)
    if not result.ok:
        raise PublisherError(result.failure or "the alert could not be stored")
    if result.refused:
        raise Forbidden(f"{result.refused[0].entry}: refused: {result.refused[0].reason}")
    if result.skipped:
        raise PublisherError(f"{result.skipped[0].entry}: {result.skipped[0].reason}")
    return result
