"""The SNS outbox: every approved item announced once per account, and taken down on withdrawal.

Two halves, so that writers stay fast and sending survives crashes:

- :func:`on_items_changed` (a change listener, after commit) only writes rows. An approved
  item gets one row per item × account × revision (× language beyond Japanese), keyed
  ``"{item}:{revision}:{account}:{network}"``; the key is unique, so queueing twice is a no-op.
  A withdrawn item's unsent rows are cancelled and its sent ones marked for deletion.
- :func:`process_due` (the scheduler's timer) sends. For each due row it records intent first
  (claims the row: ``sending`` with ``intent_at``, committed), then calls the network, then
  records ``sent`` with the remote id. A row found still ``sending`` after
  :data:`SENDING_LEASE` means a crash between the call and the record: before anything is sent
  again the network is asked whether the post exists (``find_recent``), and re-sends carry the
  same idempotency key, which Mastodon, LINE and Bluesky deduplicate themselves.

Rate limits (429) wait for Retry-After; 5xx and network failures back off exponentially;
any other 4xx fails the row with the network's message. Credentials come from the environment
at send time; a missing one leaves the row queued with "credential ... not set".

Row states: queued → sending → sent | retry | failed; cancelled (withdrawn or superseded before
sending); sent → deleting → deleted | kept (the network cannot delete) | delete_failed.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.deliver.accounts import (
    Account,
    Accounts,
    MissingCredential,
    credential,
    load_accounts,
)
from publisher.deliver.sns import Adapter, CannotDelete, Media, SendError, load_adapter
from publisher.items import Item
from publisher.render.sns import bluesky_facets, compose
from publisher.store.content import to_item
from publisher.store.models import ItemRow, SnsPostRow

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=5)  # a claim older than this was interrupted
CREDENTIAL_RECHECK = timedelta(minutes=15)
FIRST_BACKOFF_S = 60
MAX_BACKOFF_S = 3600
MAX_ATTEMPTS = 8
BATCH = 200
UNSENT = ("queued", "retry")


@dataclass(frozen=True)
class Planned:
    """One post to queue: which account, network and language, and its text."""

    idempotency_key: str
    account: str
    network: str
    lang: str
    text: str


def idempotency_key(item_id: int, revision: int, account: str, network: str, lang: str) -> str:
    key = f"{item_id}:{revision}:{account}:{network}"
    return key if lang == "ja" else f"{key}:{lang}"


def plan_posts(
    item: Item, tree: AreaTree, accounts: Accounts, link: str, tz: Any = None
) -> list[Planned]:
    """Pure: the posts an approved item makes (nothing for private CAP statuses)."""
    if item.id is None or not item.is_public:
        return []
    out = []
    for account in accounts.announcing(item.targets, tree):
        for lang in account.languages:
            if lang not in item.languages:
                continue
            kwargs = {"tz": tz} if tz else {}
            post = compose(item, tree, link, account.limits, lang, **kwargs)
            key = idempotency_key(item.id, item.revision, account.name, account.network, lang)
            out.append(Planned(key, account.name, account.network, lang, post.text))
    return out


def accounts_of(rt: Any) -> Accounts:
    return load_accounts(rt.settings["CONTENT_DIR"] / "accounts.toml", rt.tree)


# -- the listener: rows only -------------------------------------------------------------------


def on_items_changed(rt: Any, item_ids: Iterable[int]) -> None:
    """Queue posts for approved items; cancel or mark for deletion those of withdrawn ones."""
    accounts = accounts_of(rt)
    with rt.session() as session:
        for item_id in sorted(item_ids):
            row = session.get(ItemRow, item_id)
            if row is None:
                continue
            item = to_item(row)
            if item.status == "approved":
                queue(session, rt, item, accounts)
            elif item.status == "withdrawn":
                withdraw(session, item_id, _now())


def queue(session: Session, rt: Any, item: Item, accounts: Accounts) -> int:
    """Insert this revision's rows (duplicates ignored); older unsent revisions are superseded."""
    assert item.id is not None
    planned = plan_posts(item, rt.tree, accounts, rt.item_url(item.id), rt.tz)
    not_before = item.starts_at  # a future display window is the scheduled post time
    session.execute(
        update(SnsPostRow)
        .where(
            SnsPostRow.item_id == item.id,
            SnsPostRow.revision < item.revision,
            SnsPostRow.state.in_(UNSENT),
        )
        .values(state="cancelled", last_error=f"superseded by revision {item.revision}")
    )
    if not planned:
        return 0
    values = [
        {
            "idempotency_key": p.idempotency_key,
            "item_id": item.id,
            "revision": item.revision,
            "account": p.account,
            "network": p.network,
            "lang": p.lang,
            "text": p.text,
            "state": "queued",
            "attempts": 0,
            "not_before": not_before,
            "created_at": _now(),
        }
        for p in planned
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(SnsPostRow).values(values).on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    return int(getattr(result, "rowcount", 0) or 0)


def withdraw(session: Session, item_id: int, now: datetime) -> None:
    """Cancel what has not gone out; mark what has (or may have) for deletion."""
    session.execute(
        update(SnsPostRow)
        .where(SnsPostRow.item_id == item_id, SnsPostRow.state.in_(UNSENT))
        .values(state="cancelled", last_error="item withdrawn before posting")
    )
    session.execute(
        update(SnsPostRow)
        .where(
            SnsPostRow.item_id == item_id,
            SnsPostRow.state.in_(("sent", "sending")),
            SnsPostRow.withdraw_requested_at.is_(None),
        )
        .values(withdraw_requested_at=now)
    )


# -- the sender ----------------------------------------------------------------------------------


def process_due(rt: Any, now: datetime, environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Send what is due, reconcile interrupted sends, delete withdrawn posts. Returns counts."""
    env = os.environ if environ is None else environ
    accounts = accounts_of(rt)
    counts: dict[str, int] = {}
    with rt.session() as session:
        rows = list(
            session.scalars(
                select(SnsPostRow)
                .where(
                    or_(
                        SnsPostRow.state.in_(UNSENT),
                        SnsPostRow.state.in_(("sending", "deleting")),
                        (SnsPostRow.state == "sent")
                        & SnsPostRow.withdraw_requested_at.is_not(None),
                    ),
                    or_(SnsPostRow.not_before.is_(None), SnsPostRow.not_before <= now),
                )
                .order_by(SnsPostRow.id)
                .limit(BATCH)
            )
        )
        items = {
            r.id: to_item(r)
            for r in session.scalars(
                select(ItemRow).where(ItemRow.id.in_({row.item_id for row in rows}))
            )
        }
    adapters: dict[tuple[str, str], Adapter] = {}
    for row in rows:
        try:
            outcome = _process(rt, row, items.get(row.item_id), accounts, adapters, now, env)
        except Exception:  # an interrupted send stays "sending" and is reconciled next time
            log.exception("SNS outbox: row %s (%s) interrupted", row.id, row.idempotency_key)
            outcome = "interrupted"
        if outcome:
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _process(
    rt: Any,
    row: SnsPostRow,
    item: Item | None,
    accounts: Accounts,
    adapters: dict[tuple[str, str], Adapter],
    now: datetime,
    env: Mapping[str, str],
) -> str | None:
    if row.state in ("sending", "deleting") and (row.intent_at or now) > now - SENDING_LEASE:
        return None  # another send is (or was just) in flight: leave it its lease
    account = accounts.get(row.account, row.network)
    if account is None:
        _set(rt, row, state="failed", last_error=f"no {row.network} account for {row.account}")
        return "failed"
    if row.state in UNSENT:
        if item is None or item.status != "approved" or not item.is_live(now):
            reason = "item no longer published" if item else "item gone"
            _set(rt, row, state="cancelled", last_error=reason)
            return "cancelled"
        if not (item.is_emergency) and (wait := _quiet_until(account, now, rt.tz)) is not None:
            _set(rt, row, not_before=wait, last_error="held for quiet hours")
            return "held"
    try:
        adapter = adapters.get((row.account, row.network)) or _adapter(account, env)
    except MissingCredential as e:
        _set(rt, row, not_before=now + CREDENTIAL_RECHECK, last_error=str(e))
        return "no credential"
    adapters[(row.account, row.network)] = adapter
    deleting = row.withdraw_requested_at is not None and row.state in ("sent", "deleting")
    if deleting:
        return _delete(rt, row, adapter, now)
    return _send(rt, row, adapter, now, media_of(rt, item, row.lang))


def media_of(rt: Any, item: Item | None, lang: str) -> Media | None:
    """The item's picture for a post in ``lang``, with its alternative text; None if none."""
    path = rt.image_file(item) if item is not None else None
    if item is None or path is None:
        return None
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    mimetype = "image/png" if path.suffix == ".png" else "image/jpeg"
    return Media(data, mimetype, item.alt(lang), width, height)


def _send(
    rt: Any, row: SnsPostRow, adapter: Adapter, now: datetime, media: Media | None = None
) -> str | None:
    reconciling = row.state == "sending"
    if not _claim(rt, row, "sending", now):
        return None
    try:
        remote_id = adapter.find_recent(row.text, row.idempotency_key) if reconciling else None
        if remote_id is None:
            facets = bluesky_facets(row.text, rt.item_url(row.item_id))
            remote_id = adapter.post(row.text, facets, row.idempotency_key, media)
    except SendError as e:
        return _failed(rt, row, e, now)
    record_sent(rt, row, remote_id, now)
    return "reconciled" if reconciling else "sent"


def record_sent(rt: Any, row: SnsPostRow, remote_id: str, now: datetime) -> None:
    """The network accepted the post: remember its id (what deletion needs)."""
    _set(rt, row, state="sent", remote_id=remote_id, sent_at=now, last_error=None)


def _delete(rt: Any, row: SnsPostRow, adapter: Adapter, now: datetime) -> str | None:
    if not _claim(rt, row, "deleting", now):
        return None
    try:
        adapter.delete(str(row.remote_id))
    except CannotDelete as e:
        _set(rt, row, state="kept", last_error=str(e))
        return "kept"
    except SendError as e:
        if e.status == 404:  # already gone
            _set(rt, row, state="deleted", deleted_at=now, last_error=None)
            return "deleted"
        if e.permanent or row.attempts >= MAX_ATTEMPTS:
            _set(rt, row, state="delete_failed", last_error=str(e))
            return "delete failed"
        _set(rt, row, state="sent", not_before=now + _backoff(row.attempts, e), last_error=str(e))
        return "retry"
    _set(rt, row, state="deleted", deleted_at=now, last_error=None)
    return "deleted"


def _failed(rt: Any, row: SnsPostRow, e: SendError, now: datetime) -> str:
    if e.permanent or row.attempts >= MAX_ATTEMPTS:
        _set(rt, row, state="failed", last_error=str(e))
        return "failed"
    _set(rt, row, state="retry", not_before=now + _backoff(row.attempts, e), last_error=str(e))
    return "retry"


def _backoff(attempts: int, e: SendError) -> timedelta:
    """Retry-After when the network gave one, else 1, 2, 4 … minutes up to an hour."""
    backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** max(0, attempts - 1))
    if e.retry_after_s is not None:
        return timedelta(seconds=max(e.retry_after_s, 1))
    return timedelta(seconds=backoff)


def _claim(rt: Any, row: SnsPostRow, state: str, now: datetime) -> bool:
    """Record intent before acting: move the row from the state we saw to ``state``.

    Committed before the network is called; if another worker moved it first, we skip it.
    """
    with rt.session() as session:
        result = session.execute(
            update(SnsPostRow)
            .where(
                SnsPostRow.id == row.id,
                SnsPostRow.state == row.state,
                SnsPostRow.attempts == row.attempts,
            )
            .values(state=state, intent_at=now, attempts=row.attempts + 1)
        )
        claimed = bool(getattr(result, "rowcount", 0))
    if claimed:
        row.state, row.intent_at, row.attempts = state, now, row.attempts + 1
    return claimed


def _set(rt: Any, row: SnsPostRow, **values: Any) -> None:
    with rt.session() as session:
        session.execute(update(SnsPostRow).where(SnsPostRow.id == row.id).values(**values))
    for key, value in values.items():
        setattr(row, key, value)


def _adapter(account: Account, env: Mapping[str, str]) -> Adapter:
    cls = load_adapter(account.network)
    if account.network == "bluesky":
        return cls(account.base_url, account.handle, credential(account.password_env, env))
    return cls(account.base_url, credential(account.token_env, env))


def _quiet_until(account: Account, now: datetime, tz: Any) -> datetime | None:
    """The end of the account's quiet hours if ``now`` falls inside them, else None."""
    if not account.quiet_hours:
        return None
    start, end = account.quiet_hours
    local = now.astimezone(tz)
    t = local.time()
    inside = (start <= t or t < end) if start > end else (start <= t < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until


def _now() -> datetime:
    from publisher.store.models import now

    return now()
