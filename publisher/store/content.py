"""The content store: items in and out of the database as plain :class:`~publisher.items.Item`.

Everything that reads or writes items goes through here, so the rules live in one place:
targeting inheritance (:func:`visible_items`), idempotent upserts for collectors
(:func:`upsert_item`), revisions, and the audit log (:func:`audit`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import NotFound
from publisher.item_input import parse_dayparts
from publisher.items import AlertInfo, Daypart, Item, Place, Translation
from publisher.store.db import mark_changed
from publisher.store.models import (
    AreaRow,
    AuditRow,
    ItemRow,
    ScreenRow,
    TargetRow,
    TranslationRow,
    now,
)

# Fields that are bookkeeping, not content: a change to these is not a new revision.
_NOT_CONTENT = {"id", "status", "revision", "created_at", "updated_at", "approved_at", "source"}


# -- rows <-> values ------------------------------------------------------------------------------


def to_item(row: ItemRow) -> Item:
    alert = None
    if row.kind == "alert" or row.cap_status:
        alert = AlertInfo(
            cap_status=row.cap_status or "Actual",
            msg_type=row.cap_msg_type or "Alert",
            severity=row.severity or "Unknown",
            urgency=row.urgency or "Unknown",
            certainty=row.certainty or "Unknown",
            identifier=row.cap_identifier,
            sender=row.cap_sender,
            sent=row.cap_sent,
            references=row.cap_references,
            warning_level=row.warning_level,
            kind=row.alert_kind,
            needs_review=row.needs_review,
            held_reason=row.held_reason,
        )
    place = None
    if row.place_name:
        place = Place(row.place_name, row.place_address or "", row.place_lat, row.place_lon)
    return Item(
        id=row.id,
        kind=row.kind,
        status=row.status,
        priority=row.priority,
        category=row.category,
        translations=tuple(
            Translation(t.lang, t.title, t.body, _readings(t.readings)) for t in row.translations
        ),
        targets=tuple(sorted(t.area_code for t in row.targets)),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        dayparts=parse_dayparts(row.dayparts or []),
        event_starts_at=row.event_starts_at,
        event_ends_at=row.event_ends_at,
        all_day=row.all_day,
        place=place,
        detail_url=row.detail_url,
        image=row.image,
        image_alt=dict(row.image_alt or {}),
        drill=row.drill,
        alert=alert,
        source=row.source,
        external_id=row.external_id,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        approved_at=row.approved_at,
    )


def _fill(row: ItemRow, item: Item) -> None:
    row.kind, row.priority, row.category = item.kind, item.priority, item.category
    row.starts_at, row.ends_at = item.starts_at, item.ends_at
    row.dayparts = [d.as_json() for d in item.dayparts]
    row.event_starts_at, row.event_ends_at, row.all_day = (
        item.event_starts_at,
        item.event_ends_at,
        item.all_day,
    )
    p = item.place or Place("")
    row.place_name, row.place_address, row.place_lat, row.place_lon = (
        p.name or None,
        p.address or None,
        p.lat,
        p.lon,
    )
    row.detail_url, row.image, row.drill = item.detail_url, item.image, item.drill
    row.image_alt = dict(item.image_alt) if item.image and item.image_alt else None
    a = item.alert
    row.cap_status = a.cap_status if a else None
    row.cap_msg_type = a.msg_type if a else None
    row.severity = a.severity if a else None
    row.urgency = a.urgency if a else None
    row.certainty = a.certainty if a else None
    row.cap_identifier = a.identifier if a else None
    row.cap_sender = a.sender if a else None
    row.cap_sent = a.sent if a else None
    row.cap_references = a.references if a else None
    row.warning_level = a.warning_level if a else None
    row.alert_kind = a.kind if a else None
    row.needs_review = a.needs_review if a else False
    row.held_reason = a.held_reason if a else None
    row.external_id = item.external_id
    row.content_hash = content_hash(item)
    # Replace children in place so SQLAlchemy issues minimal deletes/inserts.
    wanted = {t.lang: (i, t) for i, t in enumerate(item.translations)}
    row.translations = [t for t in row.translations if t.lang in wanted]
    have = {t.lang: t for t in row.translations}
    for lang, (i, t) in wanted.items():
        tr = have.get(lang) or TranslationRow(lang=lang)
        tr.position, tr.title, tr.body = i, t.title, t.body
        tr.readings = "\n".join(f"{base}={reading}" for base, reading in t.readings)
        if lang not in have:
            row.translations.append(tr)
    row.targets = [t for t in row.targets if t.area_code in item.targets]
    have_targets = {t.area_code for t in row.targets}
    row.targets.extend(TargetRow(area_code=c) for c in item.targets if c not in have_targets)


def _readings(stored: str | None) -> tuple[tuple[str, str], ...]:
    """A translation's stored furigana lines back into pairs (checked when they were saved)."""
    pairs = (line.partition("=") for line in (stored or "").splitlines())
    return tuple(sorted((base, reading) for base, _, reading in pairs if base and reading))


def content_hash(item: Item) -> str:
    """A digest of what the item says and where and when: equal hashes, nothing to republish."""
    data = {k: v for k, v in item.as_json().items() if k not in _NOT_CONTENT}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- reading --------------------------------------------------------------------------------------


def get_item(session: Session, item_id: int) -> Item:
    return to_item(_row(session, item_id))


# Item ids are 32-bit integers on every database; a larger one names no item.
ITEM_ID_MAX = 2**31 - 1


def _row(session: Session, item_id: int) -> ItemRow:
    if not isinstance(item_id, int) or not 1 <= item_id <= ITEM_ID_MAX:
        raise NotFound(f"no item {item_id}")
    row = session.get(ItemRow, item_id)
    if row is None:
        raise NotFound(f"no item {item_id}")
    return row


def _live(at: datetime) -> Any:
    return and_(
        ItemRow.status == "approved",
        or_(ItemRow.starts_at.is_(None), ItemRow.starts_at <= at),
        or_(ItemRow.ends_at.is_(None), ItemRow.ends_at > at),
        or_(ItemRow.cap_status.is_(None), ItemRow.cap_status.not_in(("System", "Draft"))),
    )


def visible_items(session: Session, tree: AreaTree, area: str, at: datetime) -> list[Item]:
    """Items a resident or a screen in ``area`` sees at ``at``: approved, inside their window,
    targeted at the area or any area above it. One query, the same on SQLite and PostgreSQL."""
    lineage = tree.lineage(area)
    targeted = select(TargetRow.item_id).where(TargetRow.area_code.in_(lineage))
    rows = session.scalars(
        select(ItemRow).where(_live(at), ItemRow.id.in_(targeted)).order_by(ItemRow.id)
    )
    return [to_item(r) for r in rows]


def live_items(session: Session, at: datetime, *, until: datetime | None = None) -> list[Item]:
    """Every approved public item live at ``at`` (or, with ``until``, at any time before it)."""
    if until is None:
        cond = _live(at)
    else:
        cond = and_(
            ItemRow.status == "approved",
            or_(ItemRow.starts_at.is_(None), ItemRow.starts_at < until),
            or_(ItemRow.ends_at.is_(None), ItemRow.ends_at > at),
            or_(ItemRow.cap_status.is_(None), ItemRow.cap_status.not_in(("System", "Draft"))),
        )
    return [to_item(r) for r in session.scalars(select(ItemRow).where(cond).order_by(ItemRow.id))]


def recently_ended_emergencies(session: Session, at: datetime, within_s: int) -> list[Item]:
    """Emergencies whose window closed, or that staff withdrew, within ``within_s`` before
    ``at``: screens show their 解除 (all clear) for that long."""
    if within_s <= 0:
        return []
    since = at - timedelta(seconds=within_s)
    cond = and_(
        ItemRow.kind == "alert",
        ItemRow.priority == "emergency",
        or_(
            and_(
                ItemRow.status.in_(("approved", "expired")),
                ItemRow.ends_at > since,
                ItemRow.ends_at <= at,
            ),
            and_(ItemRow.status == "withdrawn", ItemRow.updated_at > since),
        ),
        or_(ItemRow.cap_status.is_(None), ItemRow.cap_status.not_in(("System", "Draft"))),
    )
    return [to_item(r) for r in session.scalars(select(ItemRow).where(cond).order_by(ItemRow.id))]


def list_items(
    session: Session,
    tree: AreaTree,
    *,
    area: str | None = None,
    seen_in: str | None = None,
    statuses: Sequence[str] | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[Item]:
    """Items in any status, newest first: targeted at ``area`` or below it (a staff member's
    scope), or seen in ``seen_in`` (targeted at it or above it, what its screens could show)."""
    query = select(ItemRow)
    for codes in (
        tree.audience(area) if area else None,
        tree.lineage(seen_in) if seen_in else None,
    ):
        if codes:
            query = query.where(
                ItemRow.id.in_(select(TargetRow.item_id).where(TargetRow.area_code.in_(codes)))
            )
    if statuses:
        query = query.where(ItemRow.status.in_(list(statuses)))
    if kind:
        query = query.where(ItemRow.kind == kind)
    rows = session.scalars(
        query.order_by(ItemRow.updated_at.desc(), ItemRow.id.desc()).limit(limit)
    )
    return [to_item(r) for r in rows]


# -- writing --------------------------------------------------------------------------------------


def create_item(session: Session, item: Item, *, actor: str, user_id: int | None = None) -> Item:
    row = ItemRow(status=item.status, source=item.source, revision=1, created_by=user_id)
    _fill(row, item)
    if item.status == "approved":
        row.approved_at, row.approved_by = now(), user_id
    session.add(row)
    session.flush()
    created = to_item(row)
    audit(session, actor, "create", "item", row.id, None, created.as_json())
    mark_changed(session, row.id)
    return created


def update_item(
    session: Session,
    item: Item,
    *,
    actor: str,
    action: str = "update",
    status: str | None = None,
    user_id: int | None = None,
    comment: str | None = None,
) -> Item:
    """Store a changed item (its ``id`` names the row). A change of content bumps the revision;
    a change of status alone does not. Both are written to the audit log."""
    assert item.id is not None
    row = _row(session, item.id)
    before = to_item(row)
    changed = content_hash(item) != row.content_hash
    if changed:
        _fill(row, item)
        row.revision += 1
    if status and status != row.status:
        row.status = status
        if status == "approved":
            row.approved_at, row.approved_by = now(), user_id
    if comment is not None:
        row.review_comment = comment
    if not changed and status in (None, before.status) and comment is None:
        return before
    row.updated_at = now()
    session.flush()
    after = to_item(row)
    audit(session, actor, action, "item", row.id, before.as_json(), after.as_json())
    mark_changed(session, row.id)
    return after


def upsert_item(session: Session, item: Item, *, actor: str) -> tuple[Item, str]:
    """Create or update the item keyed by ``(item.source, item.external_id)``.

    Returns the stored item and ``"created"``, ``"updated"`` or ``"unchanged"``. Running the
    same import twice is a no-op; an upstream change becomes a new revision in the audit log.
    """
    if not item.external_id:
        raise ValueError("upsert needs an external_id")
    row = session.scalars(
        select(ItemRow).where(
            ItemRow.source == item.source, ItemRow.external_id == item.external_id
        )
    ).first()
    if row is None:
        return create_item(session, item, actor=actor), "created"
    if row.content_hash == content_hash(item):
        return to_item(row), "unchanged"
    stored = to_item(row)
    # Staff decisions stand: an upstream change never re-publishes what staff withdrew.
    keep = stored.status in ("withdrawn", "expired") or item.status == stored.status
    return update_item(
        session, item.with_changes(id=row.id), actor=actor, status=None if keep else item.status
    ), "updated"


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditRow(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )


# -- displays/ into the database --------------------------------------------------------------------


def screen_token_digest(token: str) -> str:
    """What the store keeps of a screen's token: its SHA-256 (the token itself is shown once)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_screen_token(row: ScreenRow) -> str:
    """Give ``row`` a new random token; returns it (the only time it is seen)."""
    token = secrets.token_urlsafe(16)
    row.token_hash = screen_token_digest(token)
    return token


def sync_tree(
    session: Session, tree: AreaTree, new_tokens: dict[str, str] | None = None
) -> dict[str, int]:
    """Bring the areas and screens tables in line with ``displays/``. Idempotent.

    Screens keep their token across syncs; a new screen's token goes into ``new_tokens`` (the
    caller shows or saves it once: only its hash is stored). A screen removed from ``displays/``
    is deactivated, never deleted, so its proof-of-play history stays.
    """
    counts = {"areas": 0, "screens": 0}
    have = {a.code: a for a in session.scalars(select(AreaRow))}
    for area in tree:
        row = have.get(area.code)
        values: dict[str, Any] = {"name": area.name, "tier": area.tier, "parent": area.parent}
        if row is None:
            session.add(AreaRow(code=area.code, **values))
            counts["areas"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            counts["areas"] += 1
    session.flush()
    screens = {s.id: s for s in session.scalars(select(ScreenRow))}
    for screen in tree.screens.values():
        srow = screens.get(screen.id)
        values = {
            "area_code": screen.area,
            "width": screen.width,
            "height": screen.height,
            "location": screen.location,
            "languages": list(screen.languages),
            "delivery": screen.delivery,
            "endpoint": screen.endpoint,
            "folder": screen.folder,
            "active": True,
        }
        if srow is None:
            srow = ScreenRow(id=screen.id, **values)
            token = new_screen_token(srow)
            if new_tokens is not None:
                new_tokens[screen.id] = token
            session.add(srow)
            counts["screens"] += 1
        elif any(getattr(srow, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(srow, k, v)
            counts["screens"] += 1
    for sid, srow in screens.items():
        if sid not in tree.screens and srow.active:
            srow.active = False
            counts["screens"] += 1
    return counts


def screen_rows(session: Session, ids: Iterable[str] | None = None) -> list[ScreenRow]:
    query = select(ScreenRow).where(ScreenRow.active.is_(True)).order_by(ScreenRow.id)
    if ids is not None:
        query = query.where(ScreenRow.id.in_(list(ids)))
    return list(session.scalars(query))


def screen_row(session: Session, screen_id: str) -> ScreenRow:
    row = session.get(ScreenRow, screen_id)
    if row is None or not row.active:
        raise NotFound(f"unknown screen '{screen_id}'")
    return row


__all__ = [
    "Daypart",
    "audit",
    "content_hash",
    "create_item",
    "get_item",
    "list_items",
    "live_items",
    "screen_row",
    "screen_rows",
    "sync_tree",
    "to_item",
    "update_item",
    "upsert_item",
    "visible_items",
]
