"""The ``transitions`` job: items enter and leave screens at exact instants, not on a poll.

The leader keeps a plan (instant → items changing then) over a rolling horizon, computed by the
pure :mod:`publisher.plan.transitions`, and arms one APScheduler date job at the earliest
instant. When it fires, every instant that has come runs in one transaction: the instants are
claimed in ``job_runs`` (so a new leader never repeats them), items past their end are marked
``expired`` (audited as ``scheduler``), and then every listener hears once which items changed.
:class:`Transitions` is the part of :class:`~publisher.schedule.scheduler.Scheduler` that does it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from publisher.item_input import parse_dayparts
from publisher.items import AlertInfo, Item
from publisher.plan.transitions import cleared_until, is_overdue, item_instants
from publisher.runtime import Runtime
from publisher.store.models import AuditRow, ItemRow, JobRunRow
from publisher.timetable import Timetable

log = logging.getLogger(__name__)

CATCH_UP = timedelta(minutes=10)  # a new leader runs transitions it finds unclaimed this far back

Push = Callable[[Runtime, set[int]], None]
# APScheduler executors: transitions and re-planning never wait behind slow jobs
TIMELY = "timely"
COLLECT = "collect"


def _timing_items(session: Any, *where: Any) -> list[Item]:
    """Just what planning instants needs (no translations or targets): fast for 10,000 items."""
    cols = (
        ItemRow.id,
        ItemRow.kind,
        ItemRow.status,
        ItemRow.starts_at,
        ItemRow.ends_at,
        ItemRow.dayparts,
        ItemRow.cap_status,
        ItemRow.priority,
        ItemRow.updated_at,
    )
    return [
        Item(
            kind=kind,
            translations=(),
            targets=(),
            id=item_id,
            status=status,
            starts_at=starts_at,
            ends_at=ends_at,
            dayparts=parse_dayparts(dayparts or []),
            alert=AlertInfo(cap_status=cap_status) if cap_status else None,
            priority=priority,
            updated_at=updated_at,
        )
        for (
            item_id,
            kind,
            status,
            starts_at,
            ends_at,
            dayparts,
            cap_status,
            priority,
            updated_at,
        ) in session.execute(select(*cols).where(*where))
    ]


class Transitions:
    """Planning and running transition instants; mixed into the scheduler, which sets these."""

    rt: Runtime
    timetable: Timetable
    push: Push
    clock: Callable[[], datetime]
    leader: str
    aps: BackgroundScheduler
    _plan: dict[datetime, set[int]]
    _instants: dict[int, set[datetime]]
    _plan_lock: threading.Lock
    _armed_at: datetime | None
    _seen: dict[int, datetime]

    def replan_all(self, catch_up: bool = False) -> int:
        """Plan every instant over the horizon (and, for a new leader, the recent past)."""
        now = self.clock()
        after = now - CATCH_UP if catch_up else now
        until = now + timedelta(hours=self.timetable.horizon_h)
        with self.rt.session() as session:
            items = _timing_items(
                session,
                ItemRow.status == "approved",
                (ItemRow.starts_at.is_(None)) | (ItemRow.starts_at <= until),
            )
        plan: dict[datetime, set[int]] = {}
        instants: dict[int, set[datetime]] = {}
        for item in items:  # computed outside the lock: due transitions keep running meanwhile
            self._plan_item(item, after, until, now, plan, instants)
        with self._plan_lock:
            self._plan, self._instants = plan, instants
            self._arm(self.clock())
            return len(self._plan)

    def replan(self, item_ids: Iterable[int]) -> None:
        """Re-plan only these items (they changed): drop their old instants, add the new."""
        ids = set(item_ids)
        now = self.clock()
        until = now + timedelta(hours=self.timetable.horizon_h)
        with self.rt.session() as session:
            items = _timing_items(session, ItemRow.id.in_(ids))
        with self._plan_lock:
            for item_id in ids:
                for instant in self._instants.pop(item_id, set()):
                    members = self._plan.get(instant)
                    if members is not None:
                        members.discard(item_id)
                        if not members:
                            del self._plan[instant]
            for item in items:
                self._plan_item(item, now, until, now)
            self._arm(now)

    def planned(self) -> dict[datetime, set[int]]:
        """A copy of the plan: instant -> item ids (for tests and the bench)."""
        with self._plan_lock:
            return {k: set(v) for k, v in sorted(self._plan.items())}

    def run_due_transitions(self) -> None:
        """The ``transitions`` job, armed with a date trigger at the next planned instant:
        runs every instant that has come, then re-arms itself for the one after."""
        with self._plan_lock:
            now = self.clock()
            self._armed_at = None
            batch = {i: self._take(i) for i in [i for i in self._plan if i <= now]}
        try:
            if batch:
                self._transition_batch(batch)
        finally:
            with self._plan_lock:
                self._arm(self.clock())

    def run_transition(self, instant: datetime) -> None:
        """Run one planned instant now (whatever the clock says): tests drive this."""
        with self._plan_lock:
            ids = self._take(instant)
        if ids:
            self._transition_batch({instant: ids})

    def _transition_batch(self, batch: dict[datetime, set[int]]) -> None:
        """Claim the instants and expire what ended, in one transaction; then tell every
        listener once. Instants another leader already claimed are skipped."""
        try:
            with self.rt.session() as session:
                batch = self._claim_instants(session, batch)
                changed = set().union(*batch.values()) if batch else set()
                expired = self._expire(session, changed, max(batch)) if batch else 0
        except Exception:
            log.exception("transitions at %s failed", [i.isoformat() for i in batch])
            return
        if changed:
            log.info("%d transition(s): %d item(s), %d expired", len(batch), len(changed), expired)
            self.push(self.rt, changed)

    def _claim_instants(
        self, session: Any, batch: dict[datetime, set[int]]
    ) -> dict[datetime, set[int]]:
        """Insert a ``transition`` claim per instant; keep the instants nobody ran yet."""
        taken = set(
            session.scalars(
                select(JobRunRow.due_at).where(
                    JobRunRow.job == "transition", JobRunRow.due_at.in_(list(batch))
                )
            )
        )
        mine = {i: ids for i, ids in batch.items() if i not in taken}
        if not mine:
            return {}
        at = self.clock()
        rows = [
            {
                "job": "transition",
                "due_at": i,
                "leader": self.leader,
                "started_at": at,
                "finished_at": at,
                "ok": True,
            }
            for i in mine
        ]
        try:
            with session.begin_nested():
                session.execute(insert(JobRunRow), rows)
        except IntegrityError:  # another leader raced us: claim one by one
            kept: dict[datetime, set[int]] = {}
            for row in rows:
                try:
                    with session.begin_nested():
                        session.execute(insert(JobRunRow), [row])
                    due: datetime = row["due_at"]  # type: ignore[assignment]
                    kept[due] = mine[due]
                except IntegrityError:
                    continue
            return kept
        return mine

    def _take(self, instant: datetime) -> set[int]:
        ids = self._plan.pop(instant, set())
        for item_id in ids:
            self._instants.get(item_id, set()).discard(instant)
        return ids

    def _arm(self, now: datetime) -> None:
        """Set a date job at the earliest planned instant (plan lock held).

        Each arming is its own job (named by its instant): APScheduler removes a date job
        once it has fired, and must not remove the arming its own run just made. An arming
        left behind for a later instant fires, finds nothing due, and re-arms."""
        if not self._plan:
            return
        run_at = max(min(self._plan), now)
        if self._armed_at is not None and now < self._armed_at <= run_at:
            return  # an earlier arming will fire first and re-arm
        self._armed_at = run_at
        # Never replace an arming for the same instant (it is already armed): APScheduler's loop
        # may be firing it right now, and a replaced job it cannot find stops its thread.
        with suppress(ConflictingIdError):
            self.aps.add_job(
                self.run_due_transitions,
                DateTrigger(run_date=run_at),
                id=f"transitions@{run_at.isoformat()}",
                misfire_grace_time=None,
                max_instances=3,
                executor=TIMELY,
            )

    def _plan_item(
        self,
        item: Item,
        after: datetime,
        until: datetime,
        now: datetime,
        plan: dict[datetime, set[int]] | None = None,
        by_item: dict[int, set[datetime]] | None = None,
    ) -> None:
        assert item.id is not None
        plan = self._plan if plan is None else plan
        by_item = self._instants if by_item is None else by_item
        instants = item_instants(item, after, until, self.rt.tz)
        if is_overdue(item, now) and item.ends_at is not None and item.ends_at not in instants:
            instants.append(item.ends_at)  # past its end but not yet expired: at once
        cleared = cleared_until(item, int(self.rt.settings["CLEARED_SHOW_S"]))
        if cleared is not None and after < cleared <= until and cleared not in instants:
            instants.append(cleared)  # the 解除 slide gives way to normal content
        for instant in instants:
            plan.setdefault(instant, set()).add(item.id)
            by_item.setdefault(item.id, set()).add(instant)

    def _expire(self, session: Any, ids: set[int], until: datetime) -> int:
        """Mark approved items that ended by ``until`` expired, each with an audit row."""
        ended = [
            item_id
            for item_id, ends_at in session.execute(
                select(ItemRow.id, ItemRow.ends_at).where(
                    ItemRow.id.in_(ids), ItemRow.status == "approved", ItemRow.ends_at <= until
                )
            )
        ]
        if not ended:
            return 0
        at = self.clock()
        session.execute(
            update(ItemRow)
            .where(ItemRow.id.in_(ended), ItemRow.status == "approved")
            .values(status="expired", updated_at=at)
        )
        session.execute(
            insert(AuditRow),
            [
                {
                    "at": at,
                    "actor": "scheduler",
                    "action": "expire",
                    "entity": "item",
                    "entity_id": str(i),
                    "before": {"status": "approved"},
                    "after": {"status": "expired"},
                }
                for i in ended
            ],
        )
        for item_id in ended:
            self._seen[item_id] = at
        return len(ended)
