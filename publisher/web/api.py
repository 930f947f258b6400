"""The machine API: JSON over HTTP with bearer tokens.

A token acts as its user, with the same role and scope checks as the admin pages
(:mod:`publisher.store.workflow`). Reading what is public needs no token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, g, jsonify, request

from publisher.errors import Forbidden, NotFound, PublisherError
from publisher.item_input import parse_time
from publisher.items import STATUSES, utcnow
from publisher.store import workflow
from publisher.store.content import get_item, list_items, visible_items
from publisher.store.staff import Principal, principal_for_token
from publisher.web import runtime

bp = Blueprint("api", __name__, url_prefix="/api")


def _principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PublisherError("Authorization must be 'Bearer <token>'").with_status(401)
    rt = runtime()
    with rt.session() as session:
        who = principal_for_token(session, token.strip())
    if who is None:
        raise PublisherError("unknown or revoked token").with_status(401)
    return who


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = _principal()
        if who is None:
            raise PublisherError("this call needs 'Authorization: Bearer <token>'").with_status(401)
        g.principal = who
        return view(*args, **kwargs)

    return wrapper


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise PublisherError(
            "the request body must be a JSON object (Content-Type: application/json)"
        )
    return data


@bp.get("/areas")
def areas() -> Any:
    """The area tree."""
    return jsonify(runtime().tree.as_json())


@bp.get("/items")
def items() -> Any:
    """Items seen in ``?area=CODE`` now (or ``&at=ISO``); ``&status=`` lists drafts etc. for staff."""
    rt = runtime()
    area = request.args.get("area") or rt.tree.ward_code
    rt.tree.get(area)
    status = request.args.get("status")
    with rt.session() as session:
        if status is None:
            at = parse_time(request.args.get("at"), "at") or utcnow()
            found = visible_items(session, rt.tree, area, at)
        else:
            if status not in (*STATUSES, "all"):
                raise PublisherError(
                    f"status must be one of {', '.join(STATUSES)} or all", field="status"
                )
            who = _principal()
            if who is None:
                raise PublisherError("listing by status needs a token").with_status(401)
            if not rt.tree.within(area, who.scope):
                area = who.scope
            found = list_items(
                session, rt.tree, area=area, statuses=None if status == "all" else [status]
            )
    return jsonify({"area": area, "items": [_public_json(i) for i in found]})


@bp.post("/items")
@token_required
def create_item() -> Any:
    """Create an item; an editor's is a draft, an approver's is approved unless asked otherwise."""
    rt = runtime()
    with rt.session() as session:
        item = workflow.create(session, rt.tree, g.principal, _json_body())
    return jsonify(_public_json(item)), 201


@bp.get("/items/<int:item_id>")
def show_item(item_id: int) -> Any:
    """One item: anyone for a published item; staff within scope for the rest."""
    rt = runtime()
    with rt.session() as session:
        item = get_item(session, item_id)
    if item.status != "approved" or not item.is_public:
        who = _principal()
        if who is None or not who.covers(rt.tree, item.targets):
            raise NotFound(f"no item {item_id}")
    return jsonify(_public_json(item))


@bp.patch("/items/<int:item_id>")
@token_required
def patch_item(item_id: int) -> Any:
    """Change some fields; an editor may not change a live alert, and their change to a live
    notice or event returns it to draft."""
    rt = runtime()
    with rt.session() as session:
        item = workflow.edit(session, rt.tree, g.principal, item_id, _json_body())
    return jsonify(_public_json(item))


@bp.post("/items/<int:item_id>/<any(submit, approve, return, withdraw):action>")
@token_required
def transition(item_id: int, action: str) -> Any:
    """The workflow: submit, approve, return (with a comment) or withdraw."""
    rt = runtime()
    data = request.get_json(silent=True) or {}
    comment = data.get("comment") if isinstance(data, dict) else None
    with rt.session() as session:
        item = workflow.transition(session, rt.tree, g.principal, item_id, action, comment)
    return jsonify(_public_json(item))


def _public_json(item: Any) -> dict[str, Any]:
    out: dict[str, Any] = item.as_json()
    out["url"] = runtime().item_url(item.id)
    return out


__all__ = ["Forbidden", "bp"]
