"""Residents' Web Push subscriptions and the outbox of notifications to them.

A subscription is what a browser's ``PushManager.subscribe`` returns (endpoint, ``p256dh``,
``auth``) plus the area, the language and the choice — ``alerts`` (alerts only) or ``all``
(alerts, new notices and events). Nothing else is kept about anyone. One endpoint is one
subscription (the column is unique; subscribing again changes the row), an area holds at most
``max_per_area`` of them, and when a push service rotates a subscription (:func:`renew`) the
row keeps its area, language, choice and queue under the new endpoint and keys.

A message is one item to one subscription; the pair is unique, so queueing twice is a no-op and
each subscription hears of an item once. Sending (``publisher.deliver.webpush``) claims a batch
(``sending``, committed, with a claim token) before it calls the push services and records each
outcome after; rows found still ``sending`` after the lease are marked ``unknown``, never resent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from publisher.areas import LANGUAGES, AreaTree
from publisher.errors import PublisherError
from publisher.items import Item
from publisher.store.models import PushMessageRow, PushSubscriptionRow

CHOICES = ("alerts", "all")
MAX_ENDPOINT = 1000
UNSENT = ("queued", "retry")
SENDING_LEASE = timedelta(minutes=2)  # a claim older than this was interrupted


class BadSubscription(PublisherError):
    """A subscription request a browser could not have made; says which field and why."""


class AreaFull(PublisherError):
    """The area holds as many subscriptions as it may (``PUBLISHER_PUSH_MAX_PER_AREA``)."""

    status = 403


class UnknownSubscription(PublisherError):
    """A renewal names an old endpoint this server does not keep (any more)."""

    status = 404


class EndpointTaken(PublisherError):
    """A renewal's new endpoint is already another subscription's."""

    status = 409


@dataclass(frozen=True)
class Subscription:
    id: int
    endpoint: str
    p256dh: str
    auth: str
    area_code: str
    lang: str
    choice: str


@dataclass(frozen=True)
class Message:
    """A claimed message: where it goes and which item."""

    id: int
    item_id: int
    attempts: int
    subscription: Subscription


def known_service(endpoint: str, services: Iterable[str]) -> bool:
    """Is ``endpoint`` at one of ``services``: a host name (it or any host below it, over
    https) or an exact origin (``http://127.0.0.1:8123``, a local stand-in)? Only push services
    are ever called, so a subscription cannot make the server post anywhere else."""
    if not is_endpoint_text(endpoint):
        return False
    try:
        parts = urlsplit(endpoint)
    except ValueError:  # e.g. an unclosed "[" where an IPv6 address would be
        return False
    if not parts.hostname or parts.username or parts.password:
        return False
    origin = f"{parts.scheme}://{parts.netloc}"
    for service in services:
        if "://" in service:
            if origin == service.rstrip("/"):
                return True
        elif parts.scheme == "https" and (
            parts.hostname == service or parts.hostname.endswith("." + service)
        ):
            return True
    return False


def is_endpoint_text(endpoint: object) -> bool:
    """Could ``endpoint`` be a push service's URL at all: text of at most
    :data:`MAX_ENDPOINT` printable ASCII characters (no spaces, control characters, NUL or
    lone surrogates, which no push service gives and no database column holds)?"""
    return (
        isinstance(endpoint, str)
        and 0 < len(endpoint) <= MAX_ENDPOINT
        and all("!" <= c <= "~" for c in endpoint)
    )


def check(tree: AreaTree, data: object, services: Iterable[str]) -> dict[str, str]:
    """Untrusted JSON from the page → the fields of a subscription, or a clear error."""
    if not isinstance(data, dict):
        raise BadSubscription("the request must be a JSON object")
    out = check_subscription(data.get("subscription"), services)
    area = data.get("area")
    if not isinstance(area, str) or area not in tree:
        raise BadSubscription(f"area: unknown area {area!r}")
    lang = data.get("lang", "ja")
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise BadSubscription(f"lang: one of {', '.join(LANGUAGES)}")
    choice = data.get("choice", "alerts")
    if choice not in CHOICES:
        raise BadSubscription("choice: 'alerts' or 'all'")
    out.update(area_code=area, lang=str(lang), choice=str(choice))
    return out


def check_subscription(
    sub: object, services: Iterable[str], field: str = "subscription"
) -> dict[str, str]:
    """What ``PushManager.subscribe`` returned (``toJSON()``) → endpoint, p256dh and auth."""
    if not isinstance(sub, dict):
        raise BadSubscription(f"{field}: missing (what PushManager.subscribe returned)")
    endpoint = sub.get("endpoint")
    raw_keys = sub.get("keys")
    keys: dict[str, object] = raw_keys if isinstance(raw_keys, dict) else {}
    if isinstance(endpoint, str) and len(endpoint) > MAX_ENDPOINT:
        raise BadSubscription(f"{field}.endpoint: longer than {MAX_ENDPOINT} characters")
    if not isinstance(endpoint, str) or not known_service(endpoint, services):
        raise BadSubscription(
            f"{field}.endpoint: not the URL of a known push service (PUBLISHER_PUSH_SERVICES)"
        )
    out = {"endpoint": endpoint}
    for name, limit in (("p256dh", 200), ("auth", 100)):
        value = keys.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise BadSubscription(f"{field}.keys.{name}: missing or not base64url")
        if not all(c.isascii() and (c.isalnum() or c in "-_=") for c in value):
            raise BadSubscription(f"{field}.keys.{name}: missing or not base64url")
        out[name] = value
    return out


def subscribe(
    session: Session, fields: dict[str, str], now: datetime, max_per_area: int | None = None
) -> int:
    """Keep a subscription (a browser subscribing again changes its area, language, choice).
    :class:`AreaFull` when its area already holds ``max_per_area`` others."""
    row = session.scalar(
        select(PushSubscriptionRow).where(PushSubscriptionRow.endpoint == fields["endpoint"])
    )
    area = fields["area_code"]
    joins = row is None or row.area_code != area
    if joins and max_per_area is not None and in_area(session, area) >= max_per_area:
        raise AreaFull(f"area {area}: {max_per_area} subscriptions already")
    if row is None:
        row = PushSubscriptionRow(created_at=now, **fields)
        session.add(row)
    else:
        for key, value in fields.items():
            setattr(row, key, value)
    session.flush()
    return row.id


def in_area(session: Session, area_code: str) -> int:
    """Subscriptions to one area (an indexed count)."""
    query = select(func.count()).where(PushSubscriptionRow.area_code == area_code)
    return int(session.scalar(query) or 0)


def find(session: Session, endpoint: str) -> Subscription | None:
    """The subscription of an endpoint, if this server keeps one."""
    if not is_endpoint_text(endpoint):
        return None  # nothing stored looks like that; the database is not asked
    row = session.scalar(
        select(PushSubscriptionRow).where(PushSubscriptionRow.endpoint == endpoint)
    )
    return _subscription(row) if row is not None else None


def renew(session: Session, sub_id: int, keys: dict[str, str]) -> Subscription:
    """The push service rotated a subscription: the same row (area, language, choice, what is
    queued for it) gets the new endpoint and keys. The caller has checked that the request
    knows the old one. :class:`EndpointTaken` when the new endpoint is another subscription's."""
    other = session.scalar(
        select(PushSubscriptionRow.id).where(
            PushSubscriptionRow.endpoint == keys["endpoint"], PushSubscriptionRow.id != sub_id
        )
    )
    if other is not None:
        raise EndpointTaken("subscription.endpoint: already subscribed here")
    row = session.get(PushSubscriptionRow, sub_id)
    if row is None:
        raise UnknownSubscription("old.endpoint: no subscription with that endpoint here")
    row.endpoint, row.p256dh, row.auth = keys["endpoint"], keys["p256dh"], keys["auth"]
    session.flush()
    return _subscription(row)


def unsubscribe(
    session: Session, *, endpoint: str | None = None, sub_id: int | None = None
) -> bool:
    """Forget a subscription and what was queued for it. True if there was one."""
    query = select(PushSubscriptionRow.id)
    if endpoint is not None:
        if not is_endpoint_text(endpoint):
            return False
        query = query.where(PushSubscriptionRow.endpoint == endpoint)
    elif sub_id is not None:
        query = query.where(PushSubscriptionRow.id == sub_id)
    else:
        return False
    found = session.scalar(query)
    if found is None:
        return False
    session.execute(delete(PushMessageRow).where(PushMessageRow.subscription_id == found))
    session.execute(delete(PushSubscriptionRow).where(PushSubscriptionRow.id == found))
    return True


def get(session: Session, sub_id: int) -> Subscription | None:
    if not 1 <= sub_id <= 2**31 - 1:  # PostgreSQL's integer: a bigger id is none of ours
        return None
    row = session.get(PushSubscriptionRow, sub_id)
    return _subscription(row) if row is not None else None


def subscriber_counts(session: Session) -> dict[str, int]:
    """Subscriptions per area code (numbers only), for staff."""
    rows = session.execute(
        select(PushSubscriptionRow.area_code, func.count()).group_by(PushSubscriptionRow.area_code)
    )
    return {area: int(n) for area, n in rows}


def wants(item: Item) -> tuple[str, ...]:
    """The choices that hear of ``item``: alerts reach both, notices and events ``all`` only."""
    return CHOICES if item.kind == "alert" else ("all",)


def queue(session: Session, tree: AreaTree, item: Item, now: datetime) -> int:
    """One message per subscription whose area sees ``item`` (its targets and every area below
    them) and whose choice wants it; subscriptions made after the item was approved are not
    told of it. Duplicates are ignored. Returns how many were added."""
    assert item.id is not None
    audience = sorted({a for t in item.targets if t in tree for a in tree.audience(t)})
    if not audience:
        return 0
    since = item.approved_at or item.updated_at or now
    chosen = (
        select(
            PushSubscriptionRow.id,
            literal(item.id),
            literal(item.is_emergency),
            literal("queued"),
            literal(0),
            literal(item.starts_at if item.starts_at and item.starts_at > now else None),
            literal(now),
        )
        .where(
            PushSubscriptionRow.area_code.in_(audience),
            PushSubscriptionRow.choice.in_(wants(item)),
            PushSubscriptionRow.created_at <= since,
        )
        .order_by(PushSubscriptionRow.id)
    )
    columns = [
        "subscription_id",
        "item_id",
        "emergency",
        "state",
        "attempts",
        "not_before",
        "created_at",
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(PushMessageRow)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["subscription_id", "item_id"])
    )
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def has_due(session: Session, item_id: int, now: datetime) -> bool:
    """Are messages of this item waiting that may go now (its window has opened)?"""
    found = session.scalar(
        select(PushMessageRow.id)
        .where(
            PushMessageRow.item_id == item_id,
            PushMessageRow.state.in_(UNSENT),
            (PushMessageRow.not_before.is_(None)) | (PushMessageRow.not_before <= now),
        )
        .limit(1)
    )
    return found is not None


def cancel(session: Session, item_id: int, reason: str) -> int:
    """Unsent messages of an item that must not go out any more."""
    result = session.execute(
        update(PushMessageRow)
        .where(PushMessageRow.item_id == item_id, PushMessageRow.state.in_(UNSENT))
        .values(state="cancelled", last_error=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_due(session: Session, now: datetime, limit: int) -> tuple[str, list[Message]]:
    """Claim up to ``limit`` due messages, emergencies first; committed by the caller's
    session end before anything is sent. Another worker's claim is never taken over."""
    token = secrets.token_hex(8)
    due = (
        select(PushMessageRow.id)
        .where(
            PushMessageRow.state.in_(UNSENT),
            (PushMessageRow.not_before.is_(None)) | (PushMessageRow.not_before <= now),
        )
        .order_by(PushMessageRow.emergency.desc(), PushMessageRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return token, []
    session.execute(
        update(PushMessageRow)
        .where(PushMessageRow.id.in_(ids), PushMessageRow.state.in_(UNSENT))
        .values(
            state="sending",
            claim=token,
            claimed_at=now,
            attempts=PushMessageRow.attempts + 1,
        )
    )
    m, s = PushMessageRow, PushSubscriptionRow
    rows = session.execute(  # plain columns, not ORM objects: a fan-out claims thousands
        select(m.id, m.item_id, m.attempts, s.id, s.endpoint, s.p256dh, s.auth, s.area_code)
        .add_columns(s.lang, s.choice)
        .join(s, s.id == m.subscription_id)
        .where(m.claim == token, m.state == "sending")
        .order_by(m.id)
    ).all()
    return token, [Message(r[0], r[1], r[2], Subscription(*r[3:])) for r in rows]


def record(session: Session, outcomes: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
    """Each claimed message's outcome: ``(id, state, values)``."""
    for message_id, state, values in outcomes:
        session.execute(
            update(PushMessageRow)
            .where(PushMessageRow.id == message_id, PushMessageRow.state == "sending")
            .values(state=state, **values)
        )


def record_sent(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Many at once: the common outcome of a fan-out."""
    for start in range(0, len(ids), 500):
        session.execute(
            update(PushMessageRow)
            .where(PushMessageRow.id.in_(ids[start : start + 500]))
            .values(state="sent", sent_at=now, last_error=None)
        )


def forget_gone(session: Session, subscription_ids: Iterable[int]) -> None:
    """The push service said these subscriptions no longer exist (404/410)."""
    ids = sorted(set(subscription_ids))
    if not ids:
        return
    session.execute(delete(PushMessageRow).where(PushMessageRow.subscription_id.in_(ids)))
    session.execute(delete(PushSubscriptionRow).where(PushSubscriptionRow.id.in_(ids)))


def expire_claims(session: Session, now: datetime) -> int:
    """Claims older than the lease: the sender stopped between calling the push service and
    recording. Whether the push service took the message is unknown, and a push service cannot
    be asked, so these are marked ``unknown`` and never resent: a resident is told at most once."""
    result = session.execute(
        update(PushMessageRow)
        .where(PushMessageRow.state == "sending", PushMessageRow.claimed_at < now - SENDING_LEASE)
        .values(state="unknown", last_error="sender stopped before recording the outcome")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def states(session: Session, item_id: int | None = None) -> dict[str, int]:
    """Messages by state (of one item, or all)."""
    query = select(PushMessageRow.state, func.count()).group_by(PushMessageRow.state)
    if item_id is not None:
        query = query.where(PushMessageRow.item_id == item_id)
    return {state: int(n) for state, n in session.execute(query)}


def _subscription(row: PushSubscriptionRow) -> Subscription:
    return Subscription(
        row.id, row.endpoint, row.p256dh, row.auth, row.area_code, row.lang, row.choice
    )
