"""Running a source: fetch, parse, upsert every good entry, record the run.

The rules, in the order they apply:

- A source that cannot be fetched or read at all (network error, HTTP 500, garbage) stores
  nothing and changes nothing: its items from the last good run stay as they are. The run is
  recorded with its failure.
- Each entry is upserted by ``(source, external id)``: a second run over the same document
  changes nothing; an entry changed upstream becomes a new revision with an audit row.
- A bad entry is skipped and recorded (which entry, why); the good ones are still stored.
- An entry that disappears upstream is **not** deleted: its item stays until its display
  window ends, and staff can withdraw it. An item staff have withdrawn stays withdrawn, however
  often its entry is collected again.
- CAP: an Update replaces the alerts it names in ``references`` (they are withdrawn with
  ``ends_at`` = now, the new message is a new item); a Cancel withdraws them everywhere at once.
  Both are audited as ``cap-update`` / ``cap-cancel``. Only the alert's own sender may update,
  cancel or re-send it, and a System/Test/Exercise/Draft message never changes an Actual one:
  anything else is refused (skipped, audited ``cap-refused``) and nothing changes.
- CAP: a message held for review (:mod:`publisher.collect.cap`) is stored pending and listed
  in ``RunResult.held``; it never replaces an alert that is on air. One already past its
  ``expires`` is stored expired.

Every run is a ``collect_runs`` row (start, end, counts, skipped entries, failure), shown by
``publisher collect --status`` and ``GET /api/collect/runs``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.collect.base import (
    MAX_ENTRIES_PER_RUN,
    RUN_DEADLINE_S,
    Entry,
    Skipped,
    Source,
    entry_item,
)
from publisher.collect.http import Http
from publisher.collect.registry import collector_for
from publisher.collect.sources import SOURCES_FILE, load_sources_file
from publisher.errors import NotFound, PublisherError, did_you_mean
from publisher.items import Item, iso, utcnow
from publisher.runtime import Runtime
from publisher.store.content import audit, content_hash, to_item, update_item, upsert_item
from publisher.store.models import AuditRow, CollectRunRow, ItemRow

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one run of one source did."""

    source: str
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    ok: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # CAP: stored for review, shown nowhere (no area of the ward, no Japanese, unknown sender)
    held: list[Skipped] = field(default_factory=list)
    # CAP: refused because the message may not change the alert it names (sender, status)
    refused: list[Skipped] = field(default_factory=list)
    expired: int = 0
    failure: str | None = None
    item_ids: list[int] = field(default_factory=list)
    run_id: int | None = None

    def summary(self) -> str:
        counts = (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {len(self.skipped)}"
        )
        if self.held:
            counts += f", held for review {len(self.held)}"
        if self.expired:
            counts += f", expired {self.expired}"
        return counts if self.ok else f"FAILED: {self.failure}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "source": self.source,
            "kind": self.kind,
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "ok": self.ok,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "skipped_entries": [s.as_json() for s in self.skipped],
            "held": [s.as_json() for s in self.held],
            "expired": self.expired,
            "failure": self.failure,
        }


def load_sources(rt: Runtime) -> list[Source]:
    """The sources of ``PUBLISHER_SOURCES_FILE`` (default ``CONTENT_DIR/sources.toml``),
    validated against the area tree."""
    return load_sources_file(rt.settings.sources_file, rt.tree)


def run_source(
    rt: Runtime, name: str, now: datetime | None = None, *, http: Http | None = None
) -> RunResult:
    """Run the configured source ``name`` once (what the scheduler calls)."""
    sources = {s.name: s for s in load_sources(rt)}
    if name not in sources:
        raise NotFound(
            f"no source '{name}' in {SOURCES_FILE}{did_you_mean(name, sources)}"
            + ("" if sources else " (the file lists no sources)")
        )
    return collect(rt, sources[name], now=now, http=http)


def collect(
    rt: Runtime,
    source: Source,
    *,
    now: datetime | None = None,
    http: Http | None = None,
    data: bytes | None = None,
    actor: str | None = None,
) -> RunResult:
    """Fetch (unless ``data`` is given), parse and store one source; never raises on bad
    upstream data: the failure is in the result and in ``collect_runs``."""
    started = now or utcnow()
    clock = time.monotonic()
    result = RunResult(source.name, source.kind, started)
    actor = actor or f"collect:{source.name}"
    outcomes: list[Entry | Skipped] = []
    own_http = http is None
    collector: Any = None
    try:
        collector = collector_for(source.kind)
        if data is None:
            http = http or Http()
            data = collector.fetch(source, http)
        outcomes = read_bounded(collector.parse(source, data, rt.tree, started), source)
    except PublisherError as e:
        result.failure = str(e)
    except Exception as e:  # a bug in a kind must not stop the scheduler or lose data
        log.exception("source %s: reading %s failed", source.name, source.location)
        result.failure = f"internal error while reading {source.location} ({type(e).__name__})"
    finally:
        if own_http and http is not None:
            http.close()
    after_run = getattr(collector, "after_run", None)

    def finish(session: Session) -> None:
        result.finished_at = started + timedelta(seconds=time.monotonic() - clock)
        result.ok = result.failure is None
        row = CollectRunRow(
            source=source.name[:100],
            kind=source.kind[:30],
            started_at=result.started_at,
            finished_at=result.finished_at,
            ok=result.ok,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            skipped=len(result.skipped),
            errors=[s.as_json() for s in result.skipped],
            failure=result.failure,
        )
        session.add(row)
        session.flush()
        result.run_id = row.id

    if result.failure is None:
        try:
            with rt.session() as session:
                for outcome in outcomes:
                    if isinstance(outcome, Skipped):
                        result.skipped.append(outcome)
                    else:
                        store_entry(session, rt.tree, source, outcome, started, actor, result)
                finish(session)
        except Exception as e:
            log.exception("source %s: storing failed", source.name)
            result.failure = f"storing failed, nothing was changed ({type(e).__name__}: {e})"
            result.created = result.updated = result.unchanged = 0
            result.item_ids = []
    if result.failure is not None:
        log.warning("source %s (%s) failed: %s", source.name, source.location, result.failure)
        with rt.session() as session:
            finish(session)
    if after_run is not None:  # a kind that remembers what it fetched keeps it only now
        after_run(source, result.failure is None)
    return result


def read_bounded(
    parsed: Iterable[Entry | Skipped],
    source: Source,
    clock: Callable[[], float] = time.monotonic,
) -> list[Entry | Skipped]:
    """A source's outcomes, at most ``max_items`` entries (option, default
    :data:`MAX_ENTRIES_PER_RUN`) read within ``max_seconds`` (default :data:`RUN_DEADLINE_S`):
    a document that would flood the store keeps its first entries and says why it stopped."""
    limit = source.option("max_items", MAX_ENTRIES_PER_RUN)
    seconds = source.option("max_seconds", RUN_DEADLINE_S)
    deadline = clock() + seconds
    out: list[Entry | Skipped] = []
    entries = 0
    for outcome in parsed:
        if isinstance(outcome, Entry):
            if entries == limit:
                out.append(
                    Skipped(
                        source.name,
                        f"more than {limit} entries: the rest were not read (options.max_items)",
                    )
                )
                break
            entries += 1
        out.append(outcome)
        if clock() > deadline:
            out.append(
                Skipped(
                    source.name,
                    f"reading took over {seconds} s: the rest were not read (options.max_seconds)",
                )
            )
            break
    return out


def store_entry(
    session: Session,
    tree: AreaTree,
    source: Source,
    entry: Entry,
    now: datetime,
    actor: str,
    result: RunResult,
) -> None:
    """Upsert one entry (or, for a CAP Cancel, withdraw what it names) and count it."""
    if entry.series is not None:
        store_series(session, tree, source, entry, now, actor, result)
        return
    if entry.alert is not None:
        refusal = ownership_refusal(session, source, entry)
        if refusal is not None:
            refused = Skipped(entry.label, refusal)
            result.skipped.append(refused)
            result.refused.append(refused)
            log.warning("%s refused: %s", entry.label, refusal)
            audit(session, actor, "cap-refused", "alert", entry.external_id[:100], None,
                  {"sender": entry.alert.sender, "reason": refusal})  # fmt: skip
            return
    if entry.cancel:
        found = referenced_items(session, entry)
        if not found:
            result.skipped.append(Skipped(entry.label, _unknown_references(entry)))
            return
        for old in found:
            if _withdraw(session, old, now, actor, "cap-cancel"):
                result.updated += 1
            else:
                result.unchanged += 1
            result.item_ids.append(old.id)  # type: ignore[arg-type]
        return
    try:
        item = entry_item(entry, source, tree)
    except PublisherError as e:
        reason = f"{e.field}: {e.message}" if e.field else e.message
        result.skipped.append(Skipped(entry.label, reason))
        return
    if entry.expired_at is not None:
        item = item.with_changes(status="expired", ends_at=entry.expired_at)
    elif item.ends_at is not None and item.ends_at <= now:
        item = item.with_changes(status="expired")
    elif entry.held:
        item = item.with_changes(status="pending")
    if item.status == "expired":
        result.expired += 1
    if entry.held:
        result.held.append(Skipped(entry.label, entry.held))
    existing = session.execute(
        select(ItemRow.id, ItemRow.status, ItemRow.content_hash).where(
            ItemRow.source == item.source, ItemRow.external_id == item.external_id
        )
    ).first()
    # Withdrawn (by staff or by a later CAP message) stays withdrawn; same content, no write;
    # a re-send held for review never changes an alert that is on air.
    if existing is not None and (
        existing.status == "withdrawn"
        or existing.content_hash == content_hash(item)
        or (existing.status == "approved" and item.status == "pending")
    ):
        result.unchanged += 1
        result.item_ids.append(existing.id)
        _replace_referenced(session, entry, existing.id, now, actor, result)
        return
    stored, outcome = upsert_item(session, item, actor=actor)
    setattr(result, outcome, getattr(result, outcome) + 1)
    result.item_ids.append(stored.id)  # type: ignore[arg-type]
    _replace_referenced(session, entry, stored.id, now, actor, result)  # type: ignore[arg-type]


def store_series(
    session: Session,
    tree: AreaTree,
    source: Source,
    entry: Entry,
    now: datetime,
    actor: str,
    result: RunResult,
) -> None:
    """A JMA entry: it replaces the current item of its series (one alert, a new revision) or
    withdraws it (解除, 取消). A message older than the stored one changes nothing; an item
    staff withdrew stays withdrawn until the agency starts a new episode (``entry.fresh``)."""
    series = entry.series or ""
    item_source = entry.source or source.name
    row = session.scalars(
        select(ItemRow)
        .where(
            ItemRow.source == item_source,
            ItemRow.external_id.startswith(series + "#", autoescape=True),
        )
        .order_by(ItemRow.id.desc())
        .limit(1)
    ).first()
    current = to_item(row) if row is not None else None
    sent = entry.alert.sent if entry.alert else None
    last = current.alert.sent if current is not None and current.alert else None
    withdrawn = current is not None and current.status == "withdrawn"
    if (
        current is not None
        and last is not None
        and sent is not None
        and (sent < last or (withdrawn and sent == last))
    ):
        result.unchanged += 1  # an older message read late: the newer one stands
        result.item_ids.append(current.id)  # type: ignore[arg-type]
        return
    if entry.cancel:
        if current is not None and current.alert is not None and sent is not None:
            # the item remembers the lifting message: older ones read later cannot revive it
            current = current.with_changes(
                alert=replace(current.alert, sent=sent, msg_type="Cancel")
            )
        if current is not None and _withdraw(session, current, now, actor, "jma-lift"):
            result.updated += 1
            result.item_ids.append(current.id)  # type: ignore[arg-type]
        else:
            result.unchanged += 1
        return
    try:
        item = entry_item(entry, source, tree)
    except PublisherError as e:
        reason = f"{e.field}: {e.message}" if e.field else e.message
        result.skipped.append(Skipped(entry.label, reason))
        return
    ended = current is not None and (
        (current.ends_at is not None and current.ends_at <= now)
        or (current.status == "withdrawn" and (entry.fresh or _lifted(session, current)))
    )
    if current is None or ended:
        stored, outcome = upsert_item(session, item, actor=actor)
    else:
        # the same alert, revised: it keeps its id, external id and the time it first showed
        item = item.with_changes(
            external_id=current.external_id, starts_at=current.starts_at or item.starts_at
        )
        if current.status == "withdrawn" or content_hash(item) == row.content_hash:  # type: ignore[union-attr]
            result.unchanged += 1
            result.item_ids.append(current.id)  # type: ignore[arg-type]
            return
        stored = update_item(session, item.with_changes(id=current.id), actor=actor,
                             action="jma-update")  # fmt: skip
        outcome = "updated"
    setattr(result, outcome, getattr(result, outcome) + 1)
    result.item_ids.append(stored.id)  # type: ignore[arg-type]


def _lifted(session: Session, item: Item) -> bool:
    """Was ``item`` withdrawn by the agency (解除, 取消) rather than by staff?"""
    action = session.scalars(
        select(AuditRow.action)
        .where(AuditRow.entity == "item", AuditRow.entity_id == str(item.id))
        .order_by(AuditRow.id.desc())
        .limit(1)
    ).first()
    return action == "jma-lift"


def existing_alert(session: Session, source: Source, entry: Entry) -> Item | None:
    """The stored item a re-send of this CAP message would change, if any."""
    key = entry.source or source.name
    row = session.scalars(
        select(ItemRow).where(ItemRow.source == key, ItemRow.external_id == entry.external_id)
    ).first()
    return to_item(row) if row is not None else None


def ownership_refusal(session: Session, source: Source, entry: Entry) -> str | None:
    """Why this CAP message may not change the alerts it re-sends, updates or cancels (None:
    it may). Only the same sender changes an alert, and a System, Test, Exercise or Draft
    message never changes an Actual one."""
    assert entry.alert is not None
    sender, status = entry.alert.sender, entry.alert.cap_status
    for ref_sender, identifier in entry.references:
        if ref_sender != sender:
            return (
                f"it names {ref_sender},{identifier} in <references>, but only that alert's "
                f"sender may update or cancel it"
            )
    named = referenced_items(session, entry)
    same = existing_alert(session, source, entry)
    if same is not None and not entry.cancel:
        named.append(same)
    for old in named:
        if old.alert is None:
            continue
        if old.alert.sender != sender:
            return (
                f"alert {old.id} was sent by {old.alert.sender!r}; a message from {sender!r} "
                "may not change it"
            )
        if old.alert.cap_status == "Actual" and status != "Actual":
            return f"a {status} message never changes the Actual alert {old.id}"
    return None


def _replace_referenced(
    session: Session, entry: Entry, new_id: int, now: datetime, actor: str, result: RunResult
) -> None:
    """An Update withdraws the alerts it names (a no-op once they are withdrawn)."""
    if not entry.references:
        return
    for old in referenced_items(session, entry):
        if old.id != new_id and _withdraw(session, old, now, actor, "cap-update"):
            result.updated += 1


def referenced_items(session: Session, entry: Entry) -> list[Item]:
    """The stored alerts an Update or Cancel names by (sender, identifier)."""
    out: list[Item] = []
    for sender, identifier in entry.references:
        rows = session.scalars(
            select(ItemRow)
            .where(ItemRow.cap_identifier == identifier, ItemRow.cap_sender == sender)
            .order_by(ItemRow.id)
        )
        out.extend(to_item(r) for r in rows if all(r.id != o.id for o in out))
    return out


def _withdraw(session: Session, item: Item, now: datetime, actor: str, action: str) -> bool:
    if item.status == "withdrawn":
        return False
    ends = now if item.ends_at is None or item.ends_at > now else item.ends_at
    update_item(
        session, item.with_changes(ends_at=ends), actor=actor, action=action, status="withdrawn"
    )
    return True


def _unknown_references(entry: Entry) -> str:
    names = ", ".join(f"{s},{i}" for s, i in entry.references) or "(no references)"
    return f"the Cancel names no stored alert: {names}"


# -- reading runs -----------------------------------------------------------------------------------
