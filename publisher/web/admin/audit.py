"""変更履歴: the audit log as readable differences, filtered and paged on the server.

Each audit row keeps ``before`` and ``after`` as the JSON the store wrote (an item's
``Item.as_json()``, an account's name/role/scope, …). :func:`changes` flattens both sides
(``title.en``, ``event.starts_at``), keeps the fields that differ, and words each one for staff:
Japanese labels, one language per line, statuses and roles in words, times in Japan time, area
codes as area names. Filters (item, user, action, dates) are GET parameters, usable without JS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import request
from sqlalchemy import String, cast, func, select
from sqlalchemy.sql import Select

from publisher.areas import LANGUAGES, AreaTree
from publisher.items import CATEGORIES, JST
from publisher.store.models import AuditRow, TargetRow
from publisher.web import runtime
from publisher.web.admin.audit_words import (
    AUDIT_ACTIONS,
    AUDIT_ACTORS,
    AUDIT_ENTITIES,
    AUDIT_FIELDS,
    AUDIT_SOURCES,
)
from publisher.web.admin.base import bp, render_page, who
from publisher.web.admin.messages import M

AUDIT_PAGE_SIZE = 50
# Bookkeeping that changes on every write: never listed as a change.
_AUDIT_NOISE = {"updated_at", "revision", "id", "content_hash"}
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
# Values worded from a table of messages: the field's last part → the message key prefix.
_WORDED = {"status": "status_", "kind": "kind_", "priority": "priority_", "role": "role_"}


@dataclass(frozen=True)
class Change:
    """One changed field, worded: ``before``/``after`` are lines of text (empty: no value)."""

    field: str
    label: str
    before: tuple[str, ...]
    after: tuple[str, ...]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"title": {"ja": "…"}, "event": {"starts_at": …}}`` → ``{"title.ja": "…", …}``.

    Lists stay whole (targets, dayparts): they are compared and worded as one value."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(inner, dict) and inner:
            out.update(flatten(inner, name))
        else:
            out[name] = inner
    return out


def field_label(field: str) -> str:
    """``title.en`` → 「タイトル（English）」; an unknown field keeps its own name."""
    if field in AUDIT_FIELDS:
        return AUDIT_FIELDS[field]
    head, _, lang = field.rpartition(".")
    if head in AUDIT_FIELDS and lang in LANGUAGES:
        return f"{AUDIT_FIELDS[head]}（{LANGUAGES[lang]}）"
    return field


def _area(tree: AreaTree | None, code: str) -> str:
    if tree is not None and code in tree:
        return tree.get(code).display_name
    return code


def _time(text: str) -> str:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if at.tzinfo is None:
        return at.strftime("%Y-%m-%d %H:%M")
    return at.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _daypart(d: Any) -> str:
    if not isinstance(d, dict):
        return str(d)
    days = "".join(M.get(f"weekday_{w}", str(w)) for w in d.get("weekdays") or ())
    return f"{d.get('start', '')}–{d.get('end', '')}" + (f"（{days}）" if days else "")


def word(field: str, value: Any, tree: AreaTree | None = None) -> tuple[str, ...]:
    """A value as lines of text a person reads; ``()`` for no value."""
    if value is None or value == "" or value == [] or value == {}:
        return ()
    last = field.rpartition(".")[2]
    if isinstance(value, bool):
        return (M["yes"] if value else M["no"],)
    if isinstance(value, list):
        if last == "targets":
            return tuple(_area(tree, str(v)) for v in value)
        if last == "dayparts":
            return tuple(_daypart(d) for d in value)
        return tuple(str(v) for v in value)
    if isinstance(value, dict):  # an empty-ish nested value that flatten kept whole
        return tuple(f"{field_label(k)}: {v}" for k, v in value.items())
    text = str(value)
    if last in _WORDED:
        return (M.get(_WORDED[last] + text, text),)
    if last == "category":
        return (CATEGORIES.get(text, text),)
    if field == "source":
        return (AUDIT_SOURCES.get(text, text),)
    if last == "scope":
        return (_area(tree, text),)
    if _ISO_TIME.match(text):
        return (_time(text),)
    return tuple(text.splitlines()) or (text,)


def changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, tree: AreaTree | None = None
) -> list[Change]:
    """The fields whose value differs, worded; a creation lists every field it set."""
    old, new = flatten(before or {}), flatten(after or {})
    keys = [k for k in (*new, *(k for k in old if k not in new)) if k not in _AUDIT_NOISE]
    out = []
    for key in keys:
        was, now = old.get(key), new.get(key)
        if was == now or (word(key, was, tree) == word(key, now, tree) == ()):
            continue
        out.append(Change(key, field_label(key), word(key, was, tree), word(key, now, tree)))
    return out


def actor_label(actor: str) -> str:
    """A person's account name as is; the machine actors (``collect:<source>``) in words."""
    if actor in AUDIT_ACTORS:
        return AUDIT_ACTORS[actor]
    kind, _, rest = actor.partition(":")
    if kind == "collect" and rest:
        return f"自動取り込み（{rest}）"
    return actor


def _visible_to(me: Any, tree: AreaTree, row: AuditRow) -> bool:
    if me.scope == tree.ward_code:
        return True
    if row.entity != "item":
        return False
    for side in (row.after, row.before):
        if side and side.get("targets"):
            return all(t in tree and tree.within(t, me.scope) for t in side["targets"])
    return False


@dataclass(frozen=True)
class Filters:
    entity_id: str = ""
    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def args(self, **override: Any) -> dict[str, Any]:
        """The query string of these filters (``page`` and others overridden), for links."""
        values = {
            "entity_id": self.entity_id,
            "actor": self.actor,
            "action": self.action,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "page": self.page,
            **override,
        }
        return {k: v for k, v in values.items() if v not in ("", None, 1)}


def read_filters(args: Any) -> tuple[Filters, dict[str, str]]:
    """The filters from the query string, and a message per parameter that made no sense."""
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        text = (args.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors[name] = M["filter_bad_date"]
            return None

    try:
        page = max(1, min(int(args.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1

    def text(name: str) -> str:  # no stored name holds a control character (or NUL)
        return "".join(c for c in (args.get(name) or "") if c.isprintable()).strip()[:100]

    action = (args.get("action") or "").strip()
    return (
        Filters(
            entity_id=text("entity_id").lstrip("#"),
            actor=text("actor"),
            action=action if action in AUDIT_ACTIONS else "",
            date_from=day("from"),
            date_to=day("to"),
            page=page,
        ),
        errors,
    )


def _filtered(query: Select[Any], f: Filters) -> Select[Any]:
    if f.entity_id:
        query = query.where(AuditRow.entity == "item", AuditRow.entity_id == f.entity_id)
    if f.actor:
        query = query.where(AuditRow.actor == f.actor)
    if f.action:
        query = query.where(AuditRow.action == f.action)
    start = _midnight(f.date_from) if f.date_from else None
    end = _midnight(f.date_to, days=1) if f.date_to else None
    if start is not None:
        query = query.where(AuditRow.at >= start)
    if end is not None:
        query = query.where(AuditRow.at < end)
    return query


def _midnight(day: date, days: int = 0) -> datetime | None:
    """The ward's midnight ``days`` after ``day`` begins, in UTC as the store keeps times;
    None past the years a time can hold (0001-01-01, 9999-12-31), which bounds nothing."""
    try:
        return datetime.combine(day + timedelta(days=days), time(), JST).astimezone(UTC)
    except OverflowError:
        return None


@bp.get("/audit")
def audit_log() -> Any:
    """Every change, newest first: who, when (ward time), what, and the fields it changed."""
    me, rt = who(), runtime()
    f, errors = read_filters(request.args)
    query = _filtered(select(AuditRow), f).order_by(AuditRow.id.desc())
    first = (f.page - 1) * AUDIT_PAGE_SIZE
    with rt.session() as s:
        if me.scope == rt.tree.ward_code:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = list(s.scalars(query.offset(first).limit(AUDIT_PAGE_SIZE)))
            actors = list(s.scalars(select(AuditRow.actor).distinct().order_by(AuditRow.actor)))
        else:
            # Items with a target in scope now (in SQL), then each entry's own targets then,
            # all within scope (in Python): an item moved out of scope takes its history along.
            mine = select(cast(TargetRow.item_id, String)).where(
                TargetRow.area_code.in_(rt.tree.audience(me.scope))
            )
            visible = [
                r
                for r in s.scalars(
                    query.where(AuditRow.entity == "item", AuditRow.entity_id.in_(mine))
                )
                if _visible_to(me, rt.tree, r)
            ]
            total = len(visible)
            rows = visible[first : first + AUDIT_PAGE_SIZE]
            actors = sorted({r.actor for r in visible} | ({f.actor} - {""}))
        entries = [
            {
                "at": r.at,
                "actor": r.actor,
                "actor_label": actor_label(r.actor),
                "action": AUDIT_ACTIONS.get(r.action, r.action),
                "entity": AUDIT_ENTITIES.get(r.entity, r.entity),
                "is_item": r.entity == "item",
                "entity_id": r.entity_id,
                "changes": changes(r.before, r.after, rt.tree),
                "created": not r.before,
            }
            for r in rows
        ]
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render_page(
        "audit.html",
        entries=entries,
        filters=f,
        errors=errors,
        actors=actors,
        actions=AUDIT_ACTIONS,
        page=f.page,
        pages=pages,
        total=total,
        first=first + 1,
        last=first + len(entries),
    )
