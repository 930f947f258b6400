"""The scheduler: APScheduler jobs from ``schedules/default.toml`` and from the items.

Only the leader (see :mod:`publisher.schedule.leader`) runs a :class:`Scheduler`. Its jobs live in
APScheduler's in-memory store and are rebuilt from the timetable and the database whenever a
process becomes leader; no job store is ever shared. The jobs:

- ``transitions``: a date job armed at the next instant an item starts or ends (or crosses a
  daypart boundary), planned over a rolling horizon; when it fires it runs every instant that
  has come, in one transaction: items past their end are marked ``expired`` (audited as
  ``scheduler``), then every listener hears that those items changed (the push hub re-plans
  the screens that see them; :meth:`Scheduler.handle_changes` re-sends bundles to their
  ``http``/``folder`` screens). Then it re-arms for the next instant.
- ``collect:<source>`` at each source's interval (a failure is logged and recorded, never fatal),
  on the collectors' own threads: a slow source delays only itself (each fetch has a total
  deadline, :mod:`publisher.net`);
- ``deliveries:daily`` at the timetable's times, ``deliveries:retry`` for failed pushes;
- ``sns`` at the posting times and every few minutes outside the quiet hours;
- ``webpush`` every minute: Web Push retries and messages whose item's window has opened;
- ``watchdog``: flags screens whose heartbeat is too old, clears the flag when they return;
- ``slides:prune`` nightly: slide files no playlist has used for two weeks are removed;
- ``reports:fold`` (``[reports]``): new plays added into daily sums; ``reports:estimate``
  nightly: estimated plays of ``http``/``folder`` screens, raw plays past their days removed.

Every job run is claimed in ``job_runs`` (unique job and due instant) before it runs, so a
job runs once even when a new leader re-plans what the old one already did. Re-planning
(``changes``, ``changes:poll``, ``horizon``) and ``transitions`` run on an executor of their
own (``timely``), so deliveries, collection and SNS can never make an emergency late; bundles
for changed items go out in a separate ``deliveries:changes`` job. A skipped job is logged as a
warning.

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

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from publisher.deliver.log import Deliverer
from publisher.items import utcnow
from publisher.plan.transitions import affected_screens
from publisher.runtime import Runtime
from publisher.schedule.leader import whoami
from publisher.schedule.transitions import COLLECT, TIMELY, Push, Transitions
from publisher.store.content import to_item
from publisher.store.models import CollectRunRow, ItemRow, JobRunRow, ScreenRow
from publisher.timetable import Timetable, load_schedule

log = logging.getLogger(__name__)
WEBPUSH_EVERY_S = 60
for _noisy in ("apscheduler.executors", "apscheduler.scheduler"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # interval jobs fire on a grid anchored here
JOB_RUNS_KEPT = timedelta(days=7)
SLIDES_PRUNE_AT = (3, 30)  # local time: the quietest hour in the lobbies
ESTIMATE_AT = (0, 20)  # local time: yesterday's estimated plays for http/folder screens


def _lazy(spec: str) -> Callable[..., Any] | None:
    """``module:function`` if that stage is installed, else None."""
    module, attr = spec.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


class Scheduler(Transitions):
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
        collect_threads: int = 4,
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
        # Timeliness is isolated: re-planning, transitions and push run on their own threads,
        # so no slow delivery, collection or SNS job can hold them up; sources on theirs.
        self.aps = BackgroundScheduler(
            timezone=rt.tz,
            executors={
                "default": {"type": "threadpool", "max_workers": executor_threads},
                TIMELY: {"type": "threadpool", "max_workers": 4},
                COLLECT: {"type": "threadpool", "max_workers": collect_threads},
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self.aps.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._plan: dict[datetime, set[int]] = {}  # instant -> items changing then
        self._instants: dict[int, set[datetime]] = {}  # item -> its planned instants
        self._plan_lock = threading.Lock()
        self._pending: set[int] = set()
        self._to_deliver: set[str] = set()  # pushed screens waiting for a bundle
        self._delivering = False  # a deliveries:changes run is under way
        self._armed_at: datetime | None = None
        self._seen: dict[int, datetime] = {}  # item -> updated_at already handled
        self._seen_since = self.clock()

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        t = self.timetable
        every = self._every
        every("watchdog", t.watchdog_every_s, self.run_watchdog)
        every("changes:poll", t.poll_s, self.poll_changes, claimed=False, executor=TIMELY)
        every("horizon", 3600, lambda due: self.replan_all(), claimed=False, executor=TIMELY)
        every("deliveries:retry", max(5, int(t.retry_base_s)), self.retry_deliveries, False)
        for at in t.daily_delivery_at:
            self._daily("deliveries:daily", at.hour, at.minute, self.run_daily_deliveries)
        if self.outbox is not None:
            for at in t.sns_post_at:
                self._daily("sns", at.hour, at.minute, self.run_sns)
            every("sns", t.sns_check_every_min * 60, self.run_sns)
        # new notifications leave at once from the approving process; this sends retries and
        # those whose item's window opened (claims in the outbox keep each one to one sender)
        every("webpush", WEBPUSH_EVERY_S, self.run_webpush, claimed=False)
        self._daily("slides:prune", SLIDES_PRUNE_AT[0], SLIDES_PRUNE_AT[1], self.run_prune)
        every("reports:fold", t.reports_fold_every_min * 60, self.run_reports_fold)
        self._daily("reports:estimate", ESTIMATE_AT[0], ESTIMATE_AT[1], self.run_estimate)
        for name, seconds in self._sources():
            every(
                f"collect:{name}",
                seconds,
                lambda due, n=name: self.run_collect(n),
                executor=COLLECT,
            )
        self._seen_since = self.clock()
        self.replan_all(catch_up=True)  # before start: jobs are added in one go
        self.aps.start()
        log.info("scheduler started with %d jobs", len(self.aps.get_jobs()))

    def shutdown(self) -> None:
        if self.aps.running:
            # Paused and emptied first: APScheduler's loop, between running a one-off job
            # (``changes``, ``deliveries:changes``) and removing it, would otherwise find the
            # scheduler stopped, look for the job among those not yet started and raise
            # JobLookupError in its thread. Emptying waits for that loop to let go.
            self.aps.pause()
            self.aps.remove_all_jobs()
            self.aps.shutdown(wait=False)

    # -- changes from writers ---------------------------------------------------------------

    def on_change(self, item_ids: Iterable[int]) -> None:
        """Items changed (heard in-process or by NOTIFY): handle them soon, in a job thread."""
        with self._plan_lock:
            self._pending.update(item_ids)
        if self.aps.running:
            self.aps.add_job(self._drain, id="changes", replace_existing=True, executor=TIMELY,
                             max_instances=2)  # fmt: skip

    def _drain(self) -> None:
        with self._plan_lock:
            ids, self._pending = self._pending, set()
        if ids:
            self.handle_changes(ids)

    def handle_changes(self, ids: set[int]) -> None:
        """Re-plan these items' instants at once; re-send bundles to the pushed screens seeing
        them in a delivery job of their own (a slow screen never delays the re-plan)."""
        self.replan(ids)
        with self.rt.session() as session:
            items = [
                to_item(r) for r in session.scalars(select(ItemRow).where(ItemRow.id.in_(ids)))
            ]
        screens = self.deliverer.pushed_screens(affected_screens(self.rt.tree, items))
        if not screens:
            return
        if not self.aps.running:
            self.deliverer.deliver_many(screens, self.clock())
            return
        with self._plan_lock:
            self._to_deliver.update(screens)
        self._queue_deliveries()

    def _queue_deliveries(self) -> None:
        with self._plan_lock:
            if self._delivering:
                return  # the run under way queues the next one as it ends (not a skipped job)
        self.aps.add_job(self._deliver_changed, id="deliveries:changes", replace_existing=True)

    def _deliver_changed(self) -> None:
        """Bundles for the screens changes touched; what arrives meanwhile goes in the next run."""
        with self._plan_lock:
            self._delivering = True
            wanted, self._to_deliver = self._to_deliver, set()
        try:
            if wanted:
                self.deliverer.deliver_many(sorted(wanted), self.clock())
        finally:
            with self._plan_lock:
                self._delivering = False
                more = bool(self._to_deliver)
            if more:
                self._queue_deliveries()

    def _skipped(self, event: Any) -> None:
        """A job skipped (still running, or missed its time) is worth a warning: it is late."""
        why = "missed its run time" if event.code == EVENT_JOB_MISSED else "still running"
        times = getattr(event, "scheduled_run_times", None) or [
            getattr(event, "scheduled_run_time", None)
        ]
        log.warning("job %s skipped at %s: its previous run is %s", event.job_id,
                    ", ".join(str(t) for t in times), why)  # fmt: skip

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

    def run_reports_fold(self, due: datetime | None = None) -> None:
        """Add the plays received since into the daily sums."""
        from publisher.store.plays import fold

        with self.rt.session() as session:
            fold(session, self.clock())

    def run_estimate(self, due: datetime | None = None) -> None:
        """Estimated plays of ended days for screens that cannot report them; raw plays and
        heartbeats past PLAYS_KEEP_DAYS removed."""
        from publisher.deliver.estimate import estimate_days
        from publisher.store.plays import prune

        now = self.clock()
        estimate_days(self.rt, now)
        with self.rt.session() as session:
            removed = prune(session, now, int(self.rt.settings["PLAYS_KEEP_DAYS"]))
        log.info("reports: removed %d raw play(s) past their days", removed)

    def run_prune(self, due: datetime | None = None) -> None:
        """Remove slide files no playlist has used for two weeks (they re-render if needed)."""
        from publisher.deliver.pruning import prune_slides

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

    def run_webpush(self, due: datetime | None = None) -> None:
        """Web Push messages due now (retries, windows that opened)."""
        from publisher.deliver.webpush import process_due

        process_due(self.rt, self.clock())

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
        self,
        job: str,
        seconds: float,
        fn: Callable[..., Any],
        claimed: bool = True,
        executor: str = "default",
    ) -> None:
        def run() -> None:
            now = self.clock()
            due = EPOCH + timedelta(seconds=((now - EPOCH).total_seconds() // seconds) * seconds)
            self._run(job, due, fn, claimed)

        self.aps.add_job(
            run,
            IntervalTrigger(seconds=seconds, start_date=EPOCH),
            id=job,
            replace_existing=True,
            executor=executor,
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
