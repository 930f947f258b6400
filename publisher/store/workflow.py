"""The life of an item: draft → pending → approved → withdrawn / expired.

The admin pages and the API both call these functions, so a rule is checked once, on the
server, whatever route a request takes:

- an editor writes drafts and submits them; an approver or admin approves, returns
  (with a comment) or withdraws; an approver's or admin's new item is approved at once
  (an emergency cannot wait) unless it asks to stay a draft;
- nobody acts on an item with a target outside their scope;
- an alert on air is changed only by an approver or admin, as a new revision that stays on
  air: an editor's change is refused, so no edit can take a live alert off the screens (only
  withdraw, a CAP Cancel or its end does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import Conflict, Forbidden, PublisherError
from publisher.item_input import parse_item
from publisher.items import Item, clean_text
from publisher.store.conflicts import claim_revision
from publisher.store.content import create_item, get_item, list_items, update_item
from publisher.store.staff import Principal

COMMENT_MAX_CHARS = 2000

# action -> (statuses it starts from, status it ends in, role it needs)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "submit": (("draft",), "pending", "editor"),
    "approve": (("draft", "pending"), "approved", "approver"),
    "return": (("pending",), "draft", "approver"),
    "withdraw": (("draft", "pending", "approved"), "withdrawn", "approver"),
}


def create(session: Session, tree: AreaTree, who: Principal, data: Mapping[str, Any]) -> Item:
    """A new item from API-shaped ``data``, in the status the author's role allows."""
    item = parse_item({k: v for k, v in data.items() if k != "status"}, tree)
    who.require_scope(tree, item.targets)
    asked = data.get("status")
    if asked not in (None, "draft", "pending", "approved"):
        raise PublisherError("a new item's status is draft, pending or approved", field="status")
    if who.at_least("approver"):
        status = asked or "approved"
    elif asked == "approved":
        who.require_role("approver", "publishing without review")
        status = "approved"
    else:
        status = asked or "draft"
    return create_item(
        session, item.with_changes(status=status), actor=who.name, user_id=who.user_id
    )


def edit(
    session: Session,
    tree: AreaTree,
    who: Principal,
    item_id: int,
    data: Mapping[str, Any],
    *,
    revision: int | None = None,
) -> Item:
    """Apply a partial change. An editor's change to a live notice or event sends it back for
    review; a live alert is changed by approvers and admins only (it stays on air).

    ``revision`` is the one the editor started from: if the item has moved on since, nothing is
    written and :class:`~publisher.store.conflicts.StaleEdit` (409) says what changed."""
    if revision is not None:
        claim_revision(session, item_id, revision)
    current = get_item(session, item_id)
    who.require_scope(tree, current.targets)
    if current.status in ("withdrawn", "expired"):
        raise Conflict(
            f"item {item_id} is {current.status}; create a new item instead",
            ja="取り下げ済みまたは終了したお知らせは変更できません。新しく作成してください",
        )
    if "status" in data:
        raise PublisherError("change status with /submit, /approve or /withdraw", field="status")
    if current.kind == "alert" and current.status == "approved" and not who.at_least("approver"):
        raise Forbidden(
            f"alert {item_id} is on air: only an approver or admin may change it (it stays on "
            "air as a new revision); ask one, or ask for it to be withdrawn",
            ja="発信中の緊急情報を変更できるのは承認者・管理者だけです",
        )
    changed = parse_item(data, tree, base=current)
    who.require_scope(tree, changed.targets)
    status = None
    if current.status in ("approved", "pending") and not who.at_least("approver"):
        status = "draft"
    return update_item(session, changed, actor=who.name, status=status, user_id=who.user_id)


def transition(
    session: Session,
    tree: AreaTree,
    who: Principal,
    item_id: int,
    action: str,
    comment: str | None = None,
) -> Item:
    """submit | approve | return | withdraw, checked against role, scope and current status."""
    if action not in TRANSITIONS:
        raise PublisherError(f"unknown action '{action}' (use {', '.join(TRANSITIONS)})")
    sources, target, role = TRANSITIONS[action]
    item = get_item(session, item_id)
    who.require_scope(tree, item.targets)
    who.require_role(role, f"to {action} an item")
    if item.status not in sources:
        raise Conflict(
            f"item {item_id} is {item.status}; it cannot be {action}ed "
            f"(only from {' or '.join(sources)})"
        )
    if comment is not None:
        comment = clean_text(comment)[:COMMENT_MAX_CHARS]
    if action == "return" and not (comment or "").strip():
        raise PublisherError("say why the item goes back to its author", field="comment")
    return update_item(
        session,
        item,
        actor=who.name,
        action=action,
        status=target,
        user_id=who.user_id,
        comment=comment,
    )


def items_in_scope(
    session: Session,
    tree: AreaTree,
    who: Principal,
    *,
    area: str | None = None,
    statuses: Sequence[str] | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[Item]:
    """Items a staff member may read in any status, in the admin and the API alike: targeted at
    ``area`` (their scope when it is outside it) and with every target within their scope."""
    if area is None or area not in tree or not tree.within(area, who.scope):
        area = who.scope
    found = list_items(session, tree, area=area, statuses=statuses, kind=kind, limit=limit)
    return [i for i in found if who.covers(tree, i.targets)]
