"""Exactly one active scheduler: the leader lock, a standby's takeover, no job run twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from publisher.config import REPO_DIR
from publisher.items import utcnow
from publisher.schedule import service as schedule
from publisher.schedule.leader import FileLock, PostgresLock
from publisher.store.content import create_item
from publisher.store.models import JobRunRow
from publisher.timetable import Timetable
from tests.conftest import PG_URL
from tests.factories import make_item, pause
from tests.schedule_helpers import RecordingPush

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL advisory locks: PUBLISHER_TEST_DATABASE_URL is not set"
)


def _wait(condition, timeout: float = 15.0, every: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        pause(every)
    return condition()


def test_the_file_lock_admits_one_process_and_passes_on_when_it_dies(tmp_path):
    """SQLite deployments: a second process cannot lead until the first is gone."""
    path = tmp_path / "scheduler.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import threading; from publisher.schedule.leader import FileLock; "
            f"lock = FileLock({str(path)!r}); print(lock.try_acquire(), flush=True); threading.Event().wait(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_DIR,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        standby = FileLock(path)
        assert standby.try_acquire() is False
        holder.kill()
        holder.wait()
        assert standby.try_acquire() is True
        assert FileLock(path).try_acquire() is False  # and now it excludes others in turn
        standby.release()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()


@needs_postgres
def test_two_leaders_contend_for_the_advisory_lock_and_only_one_holds_it(postgres_url):
    a, b = PostgresLock(postgres_url), PostgresLock(postgres_url)
    try:
        assert a.try_acquire() is True
        assert b.try_acquire() is False
        assert a.still_held(0.1) is True
        # the leader's connection dies (crash, network): the server frees the lock
        engine = create_engine(postgres_url)
        with engine.begin() as conn:
            pid = a.conn.info.backend_pid
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        engine.dispose()
        assert a.still_held(0.1) is False
        assert b.try_acquire() is True
    finally:
        a.release()
        b.release()


@needs_postgres
def test_a_frozen_leader_is_replaced_a_live_one_is_left_alone(postgres_url):
    """A SIGSTOPped leader keeps its connection and lock (the kernel answers keepalives) but
    stops polling; a standby ends its session once it has been silent too long."""
    frozen = PostgresLock(postgres_url)
    patient, impatient = PostgresLock(postgres_url), PostgresLock(postgres_url, stale_after_s=0)
    try:
        assert frozen.try_acquire() is True
        assert patient.try_acquire() is False  # silent for less than 30 s: merely busy
        assert frozen.still_held(0) is True
        assert impatient.try_acquire() is False  # ends the silent holder's session...
        assert impatient.try_acquire() is True  # ...and takes the lock on its next try
        assert frozen.still_held(0) is False  # woken up, the old leader knows it lost
    finally:
        for lock in (frozen, patient, impatient):
            lock.release()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "publisher", "worker"],
            env=env,
            cwd=REPO_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@needs_postgres
def test_kill_the_leading_worker_and_the_standby_runs_the_next_job_and_none_twice(
    postgres_url, tmp_path
):
    """Two `publisher worker` processes: one leads; killed, the other takes over within
    seconds and runs the following watchdog runs; no run is ever done by both."""
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_runs"))
    schedules = tmp_path / "schedules"
    schedules.mkdir()
    (schedules / "default.toml").write_text(
        "[watchdog]\nevery_s = 1\n[deliveries]\ndaily_at = []\n[sns]\npost_at = []\n"
    )
    env = {
        **os.environ,
        "PUBLISHER_DATABASE_URL": postgres_url,
        "PUBLISHER_DATA_DIR": str(tmp_path / "var"),
        "PUBLISHER_SCHEDULES_DIR": str(schedules),
        "PYTHONFAULTHANDLER": "1",
    }

    def runs() -> list[tuple[str, object]]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(JobRunRow.leader, JobRunRow.due_at)
                .where(JobRunRow.job == "watchdog")
                .order_by(JobRunRow.due_at)
            )
            return [(leader.rsplit(":", 1)[1], due) for leader, due in rows]

    first = _worker(env, tmp_path / "first.log")
    second = None
    try:
        assert _wait(lambda: len(runs()) >= 2), "the first worker never ran its watchdog"
        second = _worker(env, tmp_path / "second.log")
        standby_log = tmp_path / "second.log"
        assert _wait(lambda: "waiting as standby" in standby_log.read_text(), timeout=30)
        assert {pid for pid, _ in runs()} == {str(first.pid)}
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = utcnow()
        assert _wait(lambda: any(pid == str(second.pid) for pid, _ in runs()), timeout=10)
        taken_over = [due for pid, due in runs() if pid == str(second.pid)]
        assert taken_over[0] - killed_at < timedelta(seconds=5)
        pause(1.5)
        history = runs()
        dues = [due for _, due in history]
        assert len(dues) == len(set(dues))  # no run twice
        leaders = [pid for pid, _ in history]
        switch = leaders.index(str(second.pid))
        assert set(leaders[:switch]) == {str(first.pid)}
        assert set(leaders[switch:]) == {str(second.pid)}  # never both
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                # polled, not proc.wait(30): its timed wait sleeps, which libfaketime breaks
                if not _wait(lambda p=proc: p.poll() is not None, timeout=30):
                    proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread
                    proc.wait()
                    logs = (tmp_path / "second.log").read_text()[-6000:]
                    pytest.fail(f"a worker did not stop on SIGTERM within 30 s:\n{logs}")
        engine.dispose()


@needs_postgres
def test_a_change_in_another_process_reaches_the_leader_by_notify(rt):
    if rt.db.is_sqlite:
        pytest.skip("NOTIFY is PostgreSQL's; SQLite leaders poll (see the poll test)")
    service = schedule.Service(
        rt,
        timetable=Timetable(daily_delivery_at=(), sns_post_at=(), watchdog_every_s=3600),
        push=RecordingPush(),
        sources=lambda rt: [],
    )
    service.start()
    try:
        assert _wait(lambda: service.scheduler is not None and service.scheduler.aps.running, 10)
        schedule._ACTIVE = None  # as if the writer were another process
        start = utcnow() + timedelta(hours=1)
        with rt.session() as session:
            item_id = create_item(
                session, make_item(starts_at=start, ends_at=start + timedelta(hours=1)), actor="t"
            ).id
        sched = service.scheduler
        assert sched is not None
        assert _wait(lambda: sched.planned().get(start) == {item_id}, timeout=5)
    finally:
        service.stop()
        schedule._ACTIVE = None
