"""Edit conflicts: two people changing one item never overwrite each other silently.

Whoever edits an item says which revision they started from (the admin form's hidden field,
the API's ``If-Match``). :func:`claim_revision` checks it and holds the item's row for the rest
of the transaction in one statement (``UPDATE … WHERE revision = :seen``): on PostgreSQL a
concurrent save waits for the row and then finds the revision moved; on SQLite the statement
takes the database's write lock before anything is read. A stale save is
:class:`StaleEdit` (409), carrying what changed since that revision, field by field, read
from the audit log's snapshots, and who changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.errors import Conflict
from publisher.items import Item
from publisher.store.content import get_item
from publisher.store.models import AuditRow, ItemRow

# Bookkeeping, not what the item says: never listed as a change.
_NOT_CHANGES = {"id", "status", "revision", "created_at", "updated_at", "source"}


@dataclass(frozen=True)
class Change:
    field: str  # as errors name fields: title.ja, event.starts_at, targets …
    before: Any  # in the revision the editor started from (None: it was not set)
    after: Any  # now


class StaleEdit(Conflict):
    """The item moved on since the revision the editor started from."""

    def __init__(
        self,
        item: Item,
        seen: int,
        changes: list[Change],
        by: list[str],
        at: datetime | None,
    ):
        names = ", ".join(c.field for c in changes) or "its status"
        super().__init__(
            f"item {item.id} was changed by {', '.join(by) or 'someone else'} since revision "
            f"{seen} (now {item.revision}): {names}; read it again and re-apply your change",
            field="revision",
            ja="編集中に他の人がこのお知らせを変更しました",
        )
        self.item, self.seen, self.changes, self.by, self.at = item, seen, changes, by, at

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = super().as_json()
        out["revision"] = self.item.revision
        out["your_revision"] = self.seen
        out["changed"] = [
            {"field": c.field, "before": c.before, "after": c.after} for c in self.changes
        ]
        out["changed_by"] = self.by
        out["item"] = self.item.as_json()
        return out


def claim_revision(session: Session, item_id: int, seen: int) -> None:
    """Go on only if the item is still at revision ``seen`` (and hold it); else
    :class:`StaleEdit`. An unknown item is :class:`~publisher.errors.NotFound`."""
    claimed = session.execute(
        update(ItemRow)
        .where(ItemRow.id == item_id, ItemRow.revision == seen)
        .values(revision=ItemRow.revision)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) == 1:
        return
    current = get_item(session, item_id)
    raise stale(session, current, seen)


def stale(session: Session, current: Item, seen: int) -> StaleEdit:
    """What changed in ``current`` since revision ``seen``, and by whom."""
    rows = list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.entity == "item", AuditRow.entity_id == str(current.id))
            .order_by(AuditRow.id)
        )
    )
    then: dict[str, Any] | None = None
    by: list[str] = []
    at: datetime | None = None
    for row in rows:
        after = row.after or {}
        revision = after.get("revision")
        if revision == seen:
            then, by, at = after, [], None
        elif isinstance(revision, int) and revision > seen:
            if row.actor not in by:
                by.append(row.actor)
            at = row.at
    changes = diff(then, current.as_json()) if then is not None else []
    return StaleEdit(current, seen, changes, by, at)


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """``{"title": {"ja": …}}`` → ``{"title.ja": …}``: one level, as fields are named."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NOT_CHANGES:
            continue
        if isinstance(value, dict):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = v
        else:
            out[key] = value
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    old, new = flatten(before), flatten(after)
    keys = list(dict.fromkeys([*new, *old]))
    return [Change(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]
