"""Reading what residents see from the store: the items of a feed, the events of a calendar,
one item for its public page. Which areas and categories a feed covers is planned, purely, in
:mod:`publisher.plan.residents`; these functions only run the queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import NotFound
from publisher.items import Item
from publisher.store.content import _live, get_item, list_items, to_item
from publisher.store.models import ItemRow, TargetRow


def _feed_query(areas: Sequence[str], category: str | None, at: datetime, *columns: Any) -> Any:
    targeted = select(TargetRow.item_id).where(TargetRow.area_code.in_(list(areas)))
    query = select(*columns).where(_live(at), ItemRow.id.in_(targeted))
    if category:
        query = query.where(ItemRow.category == category)
    return query


def feed_versions(
    session: Session, areas: Sequence[str], category: str | None, at: datetime
) -> list[tuple[int, datetime, datetime | None]]:
    """``(id, updated_at, starts_at)`` of the feed's items: enough for an ETag, one light query."""
    rows = session.execute(
        _feed_query(
            areas, category, at, ItemRow.id, ItemRow.updated_at, ItemRow.starts_at
        ).order_by(ItemRow.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def feed_items(
    session: Session, areas: Sequence[str], category: str | None, at: datetime
) -> list[Item]:
    """The items live at ``at`` targeted at one of ``areas`` (in ``category``, if given)."""
    rows = session.scalars(_feed_query(areas, category, at, ItemRow))
    return [to_item(r) for r in rows]


def calendar_candidates(session: Session, tree: AreaTree, area: str) -> list[Item]:
    """Approved events seen in ``area``: what :func:`~publisher.plan.residents.in_calendar`
    chooses the calendar's events from."""
    return list_items(session, tree, seen_in=area, statuses=["approved"], kind="event")


def public_item(session: Session, item_id: int, at: datetime) -> tuple[Item, str]:
    """An item for its public page and how to show it: ``"live"``, ``"ended"`` or
    ``"withdrawn"``. Drafts, items not yet published, items withdrawn before they were ever
    public and private CAP messages are not found, with the same answer as an id never used."""
    item = get_item(session, item_id)
    missing = NotFound(f"no item {item_id}")
    if not item.is_public:
        raise missing
    if item.status == "withdrawn":
        if not was_public(item):
            raise missing
        return item, "withdrawn"
    if item.status not in ("approved", "expired") or item.approved_at is None:
        # never approved: an alert already expired when it arrived was never published
        raise missing
    if item.starts_at is not None and item.starts_at > at:
        raise missing
    if item.status == "expired" or (item.ends_at is not None and item.ends_at <= at):
        return item, "ended"
    return item, "live"


def was_public(item: Item) -> bool:
    """A withdrawn item was once public: approved, and its window had opened by the time it
    was withdrawn (its last update). A withdrawn draft or embargoed item never was."""
    withdrawn_at = item.updated_at
    return item.approved_at is not None and (
        item.starts_at is None or withdrawn_at is None or item.starts_at <= withdrawn_at
    )


def public_image(session: Session, name: str, at: datetime) -> bool:
    """Is ``name`` the picture of an item residents may see at ``at`` (live, or ended but still
    linked from printed QR codes)? Drafts', pending, withdrawn and private items' pictures
    are not served."""
    rows = session.scalars(
        select(ItemRow).where(ItemRow.image == name, ItemRow.status.in_(["approved", "expired"]))
    )
    for row in rows:
        try:
            public_item(session, row.id, at)
        except NotFound:
            continue
        return True
    return False
