"""The scheduler: APScheduler jobs from ``schedules/default.toml`` and from the items.

Only the leader (see :mod:`publisher.leader`) runs a :class:`Scheduler`. Its jobs live in
APScheduler's in-memory store and are rebuilt from the timetable and the database whenever a
process becomes leader; no job store is ever shared. The jobs:

- ``transitions``: a date job armed at the next instant an item starts or ends (or crosses a
  daypart boundary), planned over a rolling horizon; when it fires it runs every instant that
  has come, in one transaction: items past their end are marked ``expired`` (audited as
  ``scheduler``), then every listener hears that those items changed (the push hub re-plans
  the screens that see them; :meth:`Scheduler.handle_changes` re-sends bundles to their
  ``http``/``folder`` screens). Then it re-arms for the next instant.
- ``collect:<source>`` at each source's interval (a failure is logged and recorded, never fatal);
- ``deliveries:daily`` at the timetable's times, ``deliveries:retry`` for failed pushes;
- ``sns`` at the posting times and every few minutes outside the quiet hours;
- ``watchdog``: flags screens whose heartbeat is too old, clears the flag when they return;
- ``slides:prune`` nightly: slide files no playlist has used for two weeks are removed.

Every job run is claimed in ``job_runs`` (unique job and due instant) before it runs, so a
job runs once even when a new leader re-plans what the old one already did.

Web processes never add jobs: they write rows, and :func:`on_items_changed` (a change
listener) tells the leader — directly when it lives in the same process, with PostgreSQL
``NOTIFY`` otherwise. On SQLite a separate ``publisher`` command cannot notify, so the leader
also re-reads recently changed items every ``scheduler.poll_s`` seconds.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from publisher.deliver.log import Deliverer
from publisher.items import AlertInfo, Item, parse_dayparts, utcnow
from publisher.leader import CHANGES_CHANNEL, Leadership, lock_for, whoami
from publisher.models import AuditRow, CollectRunRow, ItemRow, JobRunRow, ScreenRow
from publisher.runtime import Runtime
from publisher.store import to_item
from publisher.timetable import Timetable, load_schedule
from publisher.transitions import affected_screens, is_overdue, item_instants

log = logging.getLogger(__name__)
for _noisy in ("apscheduler.executors.default", "apscheduler.scheduler"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # interval jobs fire on a grid anchored here
CATCH_UP = timedelta(minutes=10)  # a new leader runs transitions it finds unclaimed this far back
JOB_RUNS_KEPT = timedelta(days=7)
SLIDES_PRUNE_AT = (3, 30)  # local time: the quietest hour in the lobbies
NOTIFY_PAYLOAD_MAX = 7900  # PostgreSQL refuses 8000 bytes and more

Push = Callable[[Runtime, set[int]], None]

__all__ = ["Scheduler", "Service", "load_schedule", "on_items_changed", "start_in_process"]


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
        )
        for item_id, kind, status, starts_at, ends_at, dayparts, cap_status in session.execute(
            select(*cols).where(*where)
        )
    ]


def _lazy(spec: str) -> Callable[..., Any] | None:
    """``module:function`` if that stage is installed, else None."""
    module, attr = spec.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


class Scheduler:
    """The leader's jobs. Collaborators are injected so tests and the bench drive them."""

    def __init__(
        self,
        rt: Runtime,
        *,
        timetable: Timetable | None = None,
        push: Push | None = None,
        deliverer: Deliverer | None = None,
        collector: Callable[..., Any] | None = None,
        sources: Callable[[Runtime], Iterable[Any]] | None = None,
        outbox: Callable[..., Any] | None = None,
        clock: Callable[[], datetime] = utcnow,
        executor_threads: int = 8,
    ):
        self.rt = rt
        self.timetable = timetable or load_schedule(rt.settings["SCHEDULES_DIR"])
        self.push: Push = push or (lambda r, ids: r.items_changed(ids))
        self.deliverer = deliverer or Deliverer(rt, timetable=self.timetable, clock=clock)
        self.collector = collector or _lazy("publisher.collect.run:run_source")
        self.sources = sources or _lazy("publisher.collect.run:load_sources")
        self.outbox = outbox or _lazy("publisher.deliver.outbox:process_due")
        self.clock = clock
        self.leader = whoami()
        self.aps = BackgroundScheduler(
            timezone=rt.tz,
            executors={"default": {"type": "threadpool", "max_workers": executor_threads}},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._plan: dict[datetime, set[int]] = {}  # instant -> items changing then
        self._instants: dict[int, set[datetime]] = {}  # item -> its planned instants
        self._plan_lock = threading.Lock()
        self._pending: set[int] = set()
        self._armed_at: datetime | None = None
        self._seen: dict[int, datetime] = {}  # item -> updated_at already handled
        self._seen_since = self.clock()

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        t = self.timetable
        every = self._every
        every("watchdog", t.watchdog_every_s, self.run_watchdog)
        every("changes:poll", t.poll_s, self.poll_changes, claimed=False)
        every("horizon", 3600, lambda due: self.replan_all(), claimed=False)
        every("deliveries:retry", max(5, int(t.retry_base_s)), self.retry_deliveries, False)
        for at in t.daily_delivery_at:
            self._daily("deliveries:daily", at.hour, at.minute, self.run_daily_deliveries)
        if self.outbox is not None:
            for at in t.sns_post_at:
                self._daily("sns", at.hour, at.minute, self.run_sns)
            every("sns", t.sns_check_every_min * 60, self.run_sns)
        self._daily("slides:prune", SLIDES_PRUNE_AT[0], SLIDES_PRUNE_AT[1], self.run_prune)
        for name, seconds in self._sources():
            every(f"collect:{name}", seconds, lambda due, n=name: self.run_collect(n))
        self._seen_since = self.clock()
        self.replan_all(catch_up=True)  # before start: jobs are added in one go
        self.aps.start()
        log.info("scheduler started with %d jobs", len(self.aps.get_jobs()))

    def shutdown(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    # -- transitions ----------------------------------------------------------------------------

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
        self.aps.add_job(
            self.run_due_transitions,
            DateTrigger(run_date=run_at),
            id=f"transitions@{run_at.isoformat()}",
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=3,
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

    # -- changes from writers ---------------------------------------------------------------

    def on_change(self, item_ids: Iterable[int]) -> None:
        """Items changed (heard in-process or by NOTIFY): handle them soon, in a job thread."""
        with self._plan_lock:
            self._pending.update(item_ids)
        if self.aps.running:
            self.aps.add_job(self._drain, id="changes", replace_existing=True)

    def _drain(self) -> None:
        with self._plan_lock:
            ids, self._pending = self._pending, set()
        if ids:
            self.handle_changes(ids)

    def handle_changes(self, ids: set[int]) -> None:
        """Re-plan these items' instants and re-send bundles to the pushed screens seeing them."""
        self.replan(ids)
        with self.rt.session() as session:
            items = [
                to_item(r) for r in session.scalars(select(ItemRow).where(ItemRow.id.in_(ids)))
            ]
        screens = self.deliverer.pushed_screens(affected_screens(self.rt.tree, items))
        if screens:
            self.deliverer.deliver_many(screens, self.clock())

    def poll_changes(self, due: datetime | None = None) -> set[int]:
        """Items written by processes that could not notify (SQLite): found by updated_at."""
        since = self._seen_since - timedelta(seconds=2 * self.timetable.poll_s)
        with self.rt.session() as session:
            rows = session.execute(
                select(ItemRow.id, ItemRow.updated_at).where(ItemRow.updated_at > since)
            ).all()
        fresh = {i for i, at in rows if self._seen.get(i) != at}
        for i, at in rows:
            self._seen[i] = at
        self._seen = {i: at for i, at in self._seen.items() if at > since}
        self._seen_since = self.clock()
        if fresh:
            self.on_change(fresh)
        return fresh

    # -- the other jobs -------------------------------------------------------------------------

    def run_watchdog(self, due: datetime | None = None) -> list[tuple[str, str]]:
        """Flag screens silent for longer than the threshold; clear them when they report."""
        now = self.clock()
        limit = now - timedelta(seconds=self.timetable.offline_after_s)
        changes = []
        with self.rt.session() as session:
            for row in session.scalars(
                select(ScreenRow).where(
                    ScreenRow.active.is_(True), ScreenRow.last_heartbeat_at.is_not(None)
                )
            ):
                assert row.last_heartbeat_at is not None
                silent = row.last_heartbeat_at < limit
                if silent and row.flagged_offline_at is None:
                    row.flagged_offline_at = now
                    changes.append((row.id, "offline"))
                    log.warning(
                        "screen %s is offline: last heartbeat %s",
                        row.id,
                        row.last_heartbeat_at.isoformat(),
                    )
                elif not silent and row.flagged_offline_at is not None:
                    row.flagged_offline_at = None
                    changes.append((row.id, "back"))
                    log.info("screen %s is back online", row.id)
            session.execute(delete(JobRunRow).where(JobRunRow.due_at < now - JOB_RUNS_KEPT))
        return changes

    def run_daily_deliveries(self, due: datetime | None = None) -> None:
        self.deliverer.deliver_many(self.deliverer.pushed_screens(), self.clock())

    def run_prune(self, due: datetime | None = None) -> None:
        """Remove slide files no playlist has used for two weeks (they re-render if needed)."""
        from publisher.playlists import prune_slides

        removed = prune_slides(self.rt, self.clock())
        if removed:
            log.info("pruned %d unused slide file(s)", removed)

    def retry_deliveries(self, due: datetime | None = None) -> None:
        self.deliverer.retry_due(self.clock())

    def run_collect(self, name: str) -> None:
        if self.collector is None:
            return
        now = self.clock()
        try:
            self.collector(self.rt, name, now=now)
        except Exception as e:
            log.exception("collecting source %s failed", name)
            with self.rt.session() as session:
                session.add(
                    CollectRunRow(
                        source=name,
                        kind="?",
                        started_at=now,
                        finished_at=self.clock(),
                        ok=False,
                        errors=[{"entry": "", "reason": f"{type(e).__name__}: {e}"}],
                    )
                )

    def run_sns(self, due: datetime | None = None) -> None:
        """Send posts due; in the quiet hours only emergencies (if the outbox can tell)."""
        if self.outbox is None:
            return
        now = self.clock()
        if not self.timetable.in_quiet_hours(now.astimezone(self.rt.tz)):
            self.outbox(self.rt, now)
        elif "emergency_only" in inspect.signature(self.outbox).parameters:
            self.outbox(self.rt, now, emergency_only=True)

    # -- plumbing -------------------------------------------------------------------------------

    def _sources(self) -> list[tuple[str, float]]:
        """(name, seconds between runs) of every source: a ``Source`` with ``interval`` (a
        timedelta, as content/sources.toml declares it), or anything with ``name``/``every_min``."""
        if self.sources is None or self.collector is None:
            log.info("no collectors installed: no collection jobs")
            return []
        out = []
        for source in self.sources(self.rt):
            get = (
                source.get if isinstance(source, dict) else lambda k, s=source: getattr(s, k, None)
            )
            name = source if isinstance(source, str) else str(get("name"))
            declared = None if isinstance(source, str) else get("interval")
            declared_min = (
                declared.total_seconds() / 60 if isinstance(declared, timedelta) else None
            )
            if declared_min is None and not isinstance(source, str):
                declared_min = get("every_min")
            out.append((name, self.timetable.collect_interval_min(name, declared_min) * 60))
        return out

    def _every(
        self, job: str, seconds: float, fn: Callable[..., Any], claimed: bool = True
    ) -> None:
        def run() -> None:
            now = self.clock()
            due = EPOCH + timedelta(seconds=((now - EPOCH).total_seconds() // seconds) * seconds)
            self._run(job, due, fn, claimed)

        self.aps.add_job(
            run, IntervalTrigger(seconds=seconds, start_date=EPOCH), id=job, replace_existing=True
        )

    def _daily(self, job: str, hour: int, minute: int, fn: Callable[..., Any]) -> None:
        def run() -> None:
            due = self.clock().replace(second=0, microsecond=0)
            self._run(job, due, fn, True)

        self.aps.add_job(
            run,
            CronTrigger(hour=hour, minute=minute, timezone=self.rt.tz),
            id=f"{job}@{hour:02}{minute:02}",
        )

    def _run(self, job: str, due: datetime, fn: Callable[..., Any], claimed: bool) -> None:
        if claimed and not self._claim(job, due):
            return
        error = None
        try:
            fn(due)
        except Exception as e:  # a failing job is logged and recorded; the scheduler goes on
            log.exception("job %s failed", job)
            error = f"{type(e).__name__}: {e}"
        if claimed:
            self._finish(job, due, error)

    def _claim(self, job: str, due: datetime) -> bool:
        """Record that this leader runs ``job`` for ``due``; False if someone already did."""
        try:
            with self.rt.session() as session:
                session.add(
                    JobRunRow(job=job, due_at=due, leader=self.leader, started_at=self.clock())
                )
        except IntegrityError:
            return False
        return True

    def _finish(self, job: str, due: datetime, error: str | None) -> None:
        with self.rt.session() as session:
            row = session.scalars(
                select(JobRunRow).where(JobRunRow.job == job, JobRunRow.due_at == due)
            ).first()
            if row is not None:
                row.finished_at, row.ok, row.error = self.clock(), error is None, error


# -- one per process: stand by, lead, step down -----------------------------------------------

_ACTIVE: Scheduler | None = None
_SERVICE: Service | None = None
_SERVICE_LOCK = threading.Lock()


class Service:
    """A process's place in the election: a standby that runs a :class:`Scheduler` while it
    holds the leader lock."""

    def __init__(self, rt: Runtime, **scheduler_options: Any):
        self.rt = rt
        self.options = scheduler_options
        self.scheduler: Scheduler | None = None
        lock = lock_for(rt.settings.database_url, rt.settings.data_dir, self._notified)
        self.leadership = Leadership(lock, self._elected, self._lost)

    def start(self) -> Service:
        load_schedule(self.rt.settings["SCHEDULES_DIR"])  # a bad timetable fails here, loudly
        self.leadership.start()
        return self

    def stop(self) -> None:
        self.leadership.stop()

    def _elected(self) -> None:
        global _ACTIVE
        self.scheduler = Scheduler(self.rt, **self.options)
        self.scheduler.start()
        _ACTIVE = self.scheduler

    def _lost(self) -> None:
        global _ACTIVE
        if self.scheduler is not None:
            if _ACTIVE is self.scheduler:
                _ACTIVE = None
            self.scheduler.shutdown()
            self.scheduler = None

    def _notified(self, payload: str) -> None:
        ids = {int(x) for x in payload.split(",") if x.strip().isdigit()}
        if ids and self.scheduler is not None:
            self.scheduler.on_change(ids)


def start_in_process(rt: Runtime, **scheduler_options: Any) -> Service:
    """The one scheduler service of this process (``publisher serve`` and ``worker``)."""
    global _SERVICE
    with _SERVICE_LOCK:
        if _SERVICE is None:
            _SERVICE = Service(rt, **scheduler_options).start()
        return _SERVICE


def on_items_changed(rt: Runtime, item_ids: set[int]) -> None:
    """Change listener: tell the leader, wherever it runs."""
    active = _ACTIVE
    if active is not None and active.rt.settings.database_url == rt.settings.database_url:
        active.on_change(item_ids)
    elif not rt.db.is_sqlite:
        notify_changes(rt, item_ids)


def notify_changes(rt: Runtime, item_ids: Iterable[int]) -> None:
    """``NOTIFY`` the leader with the ids (never bodies: payloads stay under 8000 bytes)."""
    chunks, current = [], ""
    for item_id in sorted(item_ids):
        part = str(item_id)
        if len(current) + len(part) + 1 > NOTIFY_PAYLOAD_MAX:
            chunks.append(current)
            current = ""
        current = f"{current},{part}" if current else part
    if current:
        chunks.append(current)
    with rt.db.engine.begin() as conn:
        for chunk in chunks:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANGES_CHANNEL, "payload": chunk},
            )
