"""The delivery log: build a screen's bundle, send it once per version, retry with backoff.

One ``deliveries`` row per (screen, bundle version) says how it went: state (``pending``,
``delivered``, ``failed`` — retried at ``next_attempt_at`` —, or ``superseded`` by a newer
version), attempts, the last error and when it was delivered. A version already delivered is
never sent again, so a daily delivery or a repeated change costs nothing when nothing changed.

The bundle comes from a **bundle builder** ``(rt, screen_id, at, out_dir) -> Path``: by
default the export stage's ``publisher.deliver.export.export_screen``, imported when first needed.
"""

from __future__ import annotations

import logging
import random
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from publisher.deliver.base import Bundle, DeliveryError, ScreenTarget, Target, read_bundle
from publisher.deliver.sync import TARGETS
from publisher.errors import PublisherError
from publisher.items import utcnow
from publisher.runtime import Runtime
from publisher.store.content import screen_row
from publisher.store.models import DeliveryRow, ScreenRow
from publisher.timetable import Timetable

log = logging.getLogger(__name__)

BundleBuilder = Callable[[Runtime, str, datetime, Path], Path]
BUNDLES_KEPT = 3


def export_bundle(rt: Runtime, screen_id: str, at: datetime, out_dir: Path) -> Path:
    """The default bundle builder: the export stage's ``export_screen``."""
    try:
        from publisher.deliver.export import export_screen
    except ImportError:
        raise PublisherError(
            "http/folder delivery needs the export stage (publisher.deliver.export), "
            "which this installation lacks"
        ) from None
    path: Path = export_screen(rt, screen_id, at, out_dir)
    return path


def backoff_s(attempts: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2^(n-1)))."""
    return rng.uniform(0, min(cap_s, base_s * 2 ** max(attempts - 1, 0)))


@dataclass(frozen=True)
class Outcome:
    screen_id: str
    version: str | None
    state: str  # delivered | already | failed | pull
    detail: str = ""


class Deliverer:
    """Sends bundles to ``http``/``folder`` screens and keeps their delivery log."""

    def __init__(
        self,
        rt: Runtime,
        *,
        builder: BundleBuilder | None = None,
        targets: dict[str, Target] | None = None,
        timetable: Timetable | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ):
        self.rt = rt
        self.builder = builder or export_bundle
        self.targets = targets if targets is not None else TARGETS
        self.timetable = timetable or Timetable()
        self.clock = clock
        self.rng = rng or random.Random()
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()

    @property
    def bundles_dir(self) -> Path:
        return self.rt.settings.data_dir / "bundles"

    def pushed_screens(self, ids: Iterable[str] | None = None) -> list[str]:
        """The active screens, among ``ids``, that take pushed bundles (not ``pull``)."""
        with self.rt.session() as session:
            query = select(ScreenRow.id).where(
                ScreenRow.active.is_(True), ScreenRow.delivery != "pull"
            )
            if ids is not None:
                query = query.where(ScreenRow.id.in_(list(ids)))
            return list(session.scalars(query.order_by(ScreenRow.id)))

    def deliver_many(self, screen_ids: Iterable[str], at: datetime | None = None) -> list[Outcome]:
        """Deliver to each screen; one screen's failure never stops the others."""
        out = []
        for sid in screen_ids:
            try:
                out.append(self.deliver(sid, at))
            except PublisherError as e:  # no export stage, unknown screen: one line is enough
                log.warning("delivery to screen %s: %s", sid, e)
                out.append(Outcome(sid, None, "failed", str(e)))
            except Exception as e:  # a builder bug must not stop the loop
                log.exception("delivery to screen %s failed", sid)
                out.append(Outcome(sid, None, "failed", str(e)))
        return out

    def deliver(self, screen_id: str, at: datetime | None = None) -> Outcome:
        """Build the screen's bundle for ``at`` and send it unless that version is there."""
        at = at or self.clock()
        with self._lock(screen_id):
            with self.rt.session() as session:
                row = screen_row(session, screen_id)
                method = row.delivery
            if method == "pull":
                return Outcome(screen_id, None, "pull", "the screen fetches its playlist")
            bundle = self._build(screen_id, at)
            with self.rt.session() as session:
                row = screen_row(session, screen_id)
                row.latest_version = bundle.version
                delivery = session.scalars(
                    select(DeliveryRow).where(
                        DeliveryRow.screen_id == screen_id, DeliveryRow.version == bundle.version
                    )
                ).first()
                if delivery is not None and delivery.state == "delivered":
                    return Outcome(screen_id, bundle.version, "already", "version already sent")
                for older in session.scalars(
                    select(DeliveryRow).where(
                        DeliveryRow.screen_id == screen_id,
                        DeliveryRow.version != bundle.version,
                        DeliveryRow.state.in_(("pending", "failed")),
                    )
                ):
                    older.state, older.next_attempt_at = "superseded", None
                if delivery is None:
                    delivery = DeliveryRow(
                        screen_id=screen_id, version=bundle.version, method=method
                    )
                    session.add(delivery)
                    session.flush()
                delivery_id = delivery.id
            return self._attempt(delivery_id, bundle)

    def retry_due(self, now: datetime | None = None) -> list[Outcome]:
        """Try again every failed delivery whose ``next_attempt_at`` has come."""
        now = now or self.clock()
        with self.rt.session() as session:
            due = [
                (d.id, d.screen_id, d.version)
                for d in session.scalars(
                    select(DeliveryRow)
                    .where(
                        DeliveryRow.state.in_(("pending", "failed")),
                        DeliveryRow.next_attempt_at <= now,
                    )
                    .order_by(DeliveryRow.next_attempt_at)
                )
            ]
        out = []
        for delivery_id, screen_id, version in due:
            with self._lock(screen_id):
                path = self.bundles_dir / screen_id / version
                if not (path / "manifest.json").exists():
                    out.append(self.deliver(screen_id, now))  # the bundle is gone: rebuild
                    continue
                out.append(self._attempt(delivery_id, read_bundle(path), now))
        return out

    # -- internals ------------------------------------------------------------------------------

    def _lock(self, screen_id: str) -> threading.RLock:
        """One delivery per screen at a time (re-entrant: a retry may rebuild via deliver)."""
        with self._locks_guard:
            return self._locks.setdefault(screen_id, threading.RLock())

    def _build(self, screen_id: str, at: datetime) -> Bundle:
        """Build into a scratch folder, keep it under bundles/<screen>/<version>/."""
        home = self.bundles_dir / screen_id
        scratch = home / f".build-{uuid.uuid4().hex}"
        scratch.mkdir(parents=True)
        try:
            built = read_bundle(self.builder(self.rt, screen_id, at, scratch))
            final = home / built.version
            if not final.exists():
                built.path.rename(final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        kept = sorted(
            (d for d in home.iterdir() if d.is_dir() and not d.name.startswith(".")),
            key=lambda d: d.stat().st_mtime,
            reverse=True,
        )
        for old in [d for d in kept if d != final][BUNDLES_KEPT - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
        return read_bundle(final)

    def _attempt(self, delivery_id: int, bundle: Bundle, now: datetime | None = None) -> Outcome:
        with self.rt.session() as session:
            delivery = session.get(DeliveryRow, delivery_id)
            assert delivery is not None
            screen = screen_row(session, delivery.screen_id)
            target_of = ScreenTarget(
                screen.id,
                screen.delivery,
                self._endpoint(screen.endpoint),
                self._folder(screen.folder),
            )
        target = self.targets.get(target_of.delivery)
        error: str | None = None
        detail = ""
        try:
            if target is None:
                raise DeliveryError(f"no delivery target '{target_of.delivery}'")
            detail = target.send(target_of, bundle).detail
        except DeliveryError as e:
            error = str(e)
        except Exception as e:  # a target bug is logged and retried like a network failure
            log.exception("delivery target %s failed", target_of.delivery)
            error = f"{type(e).__name__}: {e}"
        when = now or self.clock()
        with self.rt.session() as session:
            delivery = session.get(DeliveryRow, delivery_id)
            assert delivery is not None
            delivery.attempts += 1
            if error is None:
                delivery.state, delivery.delivered_at = "delivered", when
                delivery.last_error, delivery.next_attempt_at = None, None
                row = session.get(ScreenRow, delivery.screen_id)
                if row is not None:
                    row.version_on_screen = bundle.version
                log.info("screen %s: bundle %s delivered", delivery.screen_id, bundle.version)
                return Outcome(delivery.screen_id, bundle.version, "delivered", detail)
            wait = backoff_s(
                delivery.attempts,
                self.timetable.retry_base_s,
                self.timetable.retry_cap_s,
                self.rng,
            )
            delivery.state, delivery.last_error = "failed", error
            delivery.next_attempt_at = when + timedelta(seconds=wait)
            log.warning(
                "screen %s: bundle %s not delivered (attempt %d, next in %.1f s): %s",
                delivery.screen_id,
                bundle.version,
                delivery.attempts,
                wait,
                error,
            )
            return Outcome(delivery.screen_id, bundle.version, "failed", error)

    def _endpoint(self, endpoint: str | None) -> str | None:
        """A path (the demo's players, ``/demo/players/<id>``) is on this publisher's BASE_URL."""
        if endpoint and endpoint.startswith("/"):
            return self.rt.settings.base_url + endpoint
        return endpoint

    def _folder(self, folder: str | None) -> Path | None:
        """Relative folders live beside DATA_DIR (``var/folders/x`` → ``<DATA_DIR>/folders/x``
        with the default ``var/``)."""
        if not folder:
            return None
        path = Path(folder).expanduser()
        return path if path.is_absolute() else self.rt.settings.data_dir.parent / path
