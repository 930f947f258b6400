"""Exactly one active scheduler: a leader lock, and a standby that takes over.

APScheduler's job store must never be shared by two running schedulers, so only the process
holding the lock runs jobs:

- on PostgreSQL, ``pg_try_advisory_lock`` on a dedicated connection with TCP keepalives, held
  for the leader's whole life. If the leader dies or its network goes, the server drops the
  connection (within ~10 s thanks to the keepalives) and with it the lock. The same connection
  ``LISTEN``s for changed items that other processes announce with ``NOTIFY``.
  A leader that is alive but frozen (SIGSTOPped, swapped out, wedged) keeps its connection
  and lock, since the kernel still answers keepalives; but a live leader runs a query on that
  connection every ``poll_s``. So a standby that finds the lock taken looks at the holder's
  session: silent for longer than :data:`LEADER_STALE_S`, it is ended
  (``pg_terminate_backend``), which frees the lock for the next try.
- on SQLite, an exclusive ``flock`` on ``DATA_DIR/scheduler.lock``; the kernel releases it
  when the process dies.

A :class:`Leadership` loop runs in its own thread: it tries the lock every ``poll_s``; once it
holds it, it calls ``on_elected``, then checks the lock is still held every ``poll_s`` and
calls ``on_lost`` the moment it is not.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# "publisher scheduler" as a number: the key of the PostgreSQL advisory lock.
ADVISORY_LOCK_KEY = 0x7075_626C_7363_6864 & 0x7FFF_FFFF_FFFF_FFFF
CHANGES_CHANNEL = "publisher_items_changed"
LOCK_POLL_S = 2.0
LEADER_STALE_S = 30.0  # fifteen missed polls: the leader is frozen, not merely busy
TERMINATE_WAIT_STEPS = 60  # up to 3 s for an ended session to let go of the lock


def whoami() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self, wait_s: float) -> bool:
        """Wait up to ``wait_s`` (hearing notifications meanwhile); False once the lock is gone."""
        ...

    def release(self) -> None: ...


class FileLock:
    """An exclusive ``flock`` on a file: one leader among the processes of one machine."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file: IO[str] | None = None
        self._stop = threading.Event()

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 - kept open while the lock is held
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(whoami() + "\n")
        f.flush()
        self._file = f
        return True

    def still_held(self, wait_s: float) -> bool:
        self._stop.wait(wait_s)
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            finally:
                self._file.close()
                self._file = None


class PostgresLock:
    """``pg_try_advisory_lock`` on a dedicated connection; also LISTENs for changed items."""

    def __init__(
        self,
        database_url: str,
        on_notify: Callable[[str], None] | None = None,
        *,
        stale_after_s: float = LEADER_STALE_S,
    ):
        url = make_url(database_url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.on_notify = on_notify
        self.stale_after_s = stale_after_s
        self.conn: Any = None

    def try_acquire(self) -> bool:
        import psycopg

        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(
                self.conninfo,
                autocommit=True,
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=2,
                connect_timeout=5,
                application_name="publisher scheduler",
            )
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
        if not row or not row[0]:
            self.end_frozen_leader()
            return False
        self.conn.execute(f"LISTEN {CHANGES_CHANNEL}")
        return True

    def end_frozen_leader(self) -> bool:
        """End the lock holder's session if it has been silent too long; True if it did."""
        row = self.conn.execute(
            "SELECT a.pid, extract(epoch FROM now() - a.state_change)"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()"
            " AND l.classid = %s AND l.objid = %s AND l.objsubid = 1"
            " AND a.state = 'idle'",
            (ADVISORY_LOCK_KEY >> 32, ADVISORY_LOCK_KEY & 0xFFFF_FFFF),
        ).fetchone()
        if row is None or row[1] is None or float(row[1]) < self.stale_after_s:
            return False
        log.warning(
            "the scheduler leader (server pid %s) has been silent for %.0f s; ending its session"
            " so a live scheduler takes over",
            row[0],
            float(row[1]),
        )
        self.conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        # the session ends a moment after the signal: wait (briefly) until its lock is gone, so
        # the next try takes it
        for _ in range(TERMINATE_WAIT_STEPS):
            held = self.conn.execute(
                "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory'", (row[0],)
            ).fetchone()
            if held is None:
                break
            threading.Event().wait(0.05)
        return True

    def still_held(self, wait_s: float) -> bool:
        import psycopg

        try:
            for note in self.conn.notifies(timeout=wait_s):
                if self.on_notify is not None:
                    try:
                        self.on_notify(note.payload)
                    except Exception:
                        log.exception("could not handle a change notification")
            self.conn.execute("SELECT 1")
            return True
        except (psycopg.Error, AttributeError):
            return False

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # closing the session releases its advisory locks
            finally:
                self.conn = None


class Leadership:
    """The standby/leader loop: wait for the lock, lead while it is held, step down if lost."""

    def __init__(
        self,
        lock: LeaderLock,
        on_elected: Callable[[], None],
        on_lost: Callable[[], None],
        *,
        poll_s: float = LOCK_POLL_S,
        name: str = "scheduler",
    ):
        self.lock = lock
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.poll_s = poll_s
        self.name = name
        self.is_leader = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run, name=f"{self.name}-leadership", daemon=True
        )
        self._thread.start()

    def run(self) -> None:
        waiting_logged = False
        while not self._stop.is_set():
            try:
                acquired = self.lock.try_acquire()
            except Exception as e:
                log.warning("%s: cannot try the leader lock: %s", self.name, e)
                acquired = False
            if not acquired:
                if not waiting_logged:
                    log.info("%s: another scheduler is the leader; waiting as standby", self.name)
                    waiting_logged = True
                self._stop.wait(self.poll_s)
                continue
            waiting_logged = False
            log.info("%s: became the leader (%s)", self.name, whoami())
            self.is_leader.set()
            try:
                self.on_elected()
                while not self._stop.is_set() and self.lock.still_held(self.poll_s):
                    pass
            except Exception:
                log.exception("%s: the leader failed", self.name)
            finally:
                self.is_leader.clear()
                self.on_lost()
                self.lock.release()
            if not self._stop.is_set():
                log.warning("%s: lost the leader lock; standing by", self.name)
        self.lock.release()  # a standby's connection too

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if isinstance(self.lock, FileLock):
            self.lock._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def lock_for(
    database_url: str, data_dir: Path, on_notify: Callable[[str], None] | None = None
) -> LeaderLock:
    """The right lock for the database: advisory lock on PostgreSQL, file lock on SQLite."""
    if database_url.startswith("postgresql"):
        return PostgresLock(database_url, on_notify)
    return FileLock(Path(data_dir) / "scheduler.lock")
