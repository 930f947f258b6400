"""Web Push to residents' phones: an approved alert (and, for those who chose it, each new
notice and event) to every subscription whose area sees it, in the subscriber's language.

Standard Web Push: the payload encrypted per RFC 8291 (aes128gcm), the request signed with
VAPID (RFC 8292), the key pair in ``DATA_DIR/vapid_private.pem`` (made by ``publisher init`` or
on first use). Talking to push services is :mod:`publisher.deliver.push_service`; this module is
the outbox around it, like the SNS one (:mod:`publisher.deliver.outbox`):

- :func:`on_items_changed` (a change listener, after commit) writes one message row per
  subscription in one ``INSERT … SELECT`` (:func:`publisher.store.push.queue`), cancels those of
  withdrawn items, and wakes this process's sender thread, so an emergency leaves at once.
- :func:`process_due` sends: it claims a batch (``sending``, committed), prepares each message
  (payload in the subscriber's language, headers), hands the batch to the fan-out processes
  (or, for small batches and single-core machines, to threads) that encrypt and post it, claims
  the next batch meanwhile, then records the outcomes. 201 is sent; 404/410 deletes the
  subscription; 429/5xx/network errors retry with backoff; other 4xx fail. The scheduler runs it
  every minute too (retries, items whose window opens later).

Exactly once, across crashes: a message is claimed before the request and recorded after it.
If the process stops in between, the row stays ``sending``; after the lease it becomes
``unknown`` and is never sent again, because a push service cannot be asked whether it took a
message and a resident must not be alarmed twice (a fan-out process that dies mid-chunk makes
its chunk ``unknown`` at once, for the same reason). Each message also carries ``Topic`` (a
push service replaces an undelivered message of the same topic) and its notification a ``tag``
(a phone replaces a shown notification of the same tag), so even a repeat would not add a second.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from publisher.deliver.push_service import FanOut, Job, Outcome, Vapid, b64url, deliver_many
from publisher.files import write_atomic
from publisher.items import Item, utcnow
from publisher.render.notification import notification, payload
from publisher.store import push as store
from publisher.store.content import to_item
from publisher.store.models import ItemRow

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
BATCH = 1000  # claimed, sent and recorded together; the next is claimed while one is sent
THREADS = 2  # chunks sent at once by this process when no fan-out process does
TTL_EMERGENCY_S = 6 * 3600
TTL_OTHER_S = 24 * 3600
FIRST_BACKOFF_S = 30
MAX_BACKOFF_S = 3600
MAX_ATTEMPTS = 8
PROCESS_MIN_MESSAGES = 500  # smaller batches are sent by this process's threads
CLOSE_WAIT_S = 15  # what closing waits for the batches on their way
IN_FLIGHT = 2  # batches claimed and being sent before the oldest is recorded
CHUNK = 100  # messages a thread or fan-out process encrypts and posts at once


# -- keys --------------------------------------------------------------------------------------


def vapid_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The server's VAPID key pair, made once (0600) in ``DATA_DIR``."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = write_atomic(path.with_name(f".tmp-{KEY_FILE}-{secrets.token_hex(4)}"), pem, 0o600)
        try:  # never replaces a key another process made first: subscriptions depend on it
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: not an EC private key")
    return loaded


def application_server_key(data_dir: Path) -> str:
    """The public key browsers subscribe with (uncompressed P-256 point, base64url)."""
    public = (
        vapid_key(data_dir)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(public)


def unsubscribe_token(secret: str, sub_id: int, endpoint: str) -> str:
    """What an unsubscribe link carries: unguessable, and nothing stored for it."""
    mac = hmac.new(secret.encode(), f"push-unsubscribe:{sub_id}:{endpoint}".encode(), "sha256")
    return mac.hexdigest()[:40]


# -- the listener --------------------------------------------------------------------------------


def on_items_changed(rt: Any, item_ids: Iterable[int]) -> None:
    """Queue notifications of approved items; cancel those of withdrawn ones; wake the sender."""
    worker = sender(rt)
    now = worker.clock()
    due = False
    with rt.session() as session:
        for item_id in sorted(item_ids):
            row = session.get(ItemRow, item_id)
            if row is None:
                continue
            item = to_item(row)
            if item.status == "approved" and item.is_public:
                if item.ends_at is None or item.ends_at > now:
                    queued = store.queue(session, rt.tree, item, now)
                    # new rows, or an item whose window has just opened (queued earlier)
                    due = due or bool(queued) or store.has_due(session, item_id, now)
            elif item.status == "withdrawn":
                store.cancel(session, item_id, "item withdrawn before sending")
    if due:
        worker.wake()


# -- the sender ----------------------------------------------------------------------------------


def fan_out_processes(settings: Any) -> int:
    """``PUSH_PROCESSES``, or by default one per CPU core (none on a single core)."""
    configured = settings.get("PUSH_PROCESSES")
    if configured is not None and configured != "":
        return max(0, int(configured))
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


@dataclass
class Sender:
    """One per runtime: a thread that sends whenever woken, and the pieces sending needs."""

    rt: Any
    clock: Callable[[], datetime] = utcnow
    threads: int = THREADS
    send_on_change: bool = True  # False: only process_due sends (the scheduler, tests)
    processes: int = 0  # >0: large batches go to that many fan-out processes
    _event: threading.Event = field(default_factory=threading.Event)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _vapid: Vapid | None = None
    _pool: ThreadPoolExecutor | None = None
    _fan_out: FanOut | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def vapid(self) -> Vapid:
        if self._vapid is None:
            settings = self.rt.settings
            contact = settings.get("PUSH_CONTACT") or settings.base_url
            self._vapid = Vapid(vapid_key(settings.data_dir), contact)
        return self._vapid

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="webpush")
        return self._pool

    @property
    def fan_out(self) -> FanOut | None:
        if self.processes <= 0 or self._stopped.is_set():
            return None
        with self._lock:
            if self._fan_out is None:
                self._fan_out = FanOut(self.processes)
            return self._fan_out

    def warm(self) -> None:
        """Read the key and start the fan-out processes now, so the first alert does not wait."""
        self.vapid  # noqa: B018
        if self.fan_out is not None:
            self.fan_out.warm()

    def wake(self) -> None:
        if not self.send_on_change or self._stopped.is_set():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webpush", daemon=True)
                self._thread.start()
        self._event.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            if not self._event.wait(60):
                return  # idle for a minute: the thread ends; the next wake starts another
            self._event.clear()
            if self._stopped.is_set():
                return
            try:
                process_due(self.rt, self.clock(), worker=self)
            except Exception:
                log.exception("Web Push: sending failed; the scheduler will retry")

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Stop: no new batch is claimed; the batches on their way are recorded (waited for up
        to ``wait_s``; what is still claimed then becomes ``unknown`` after the lease)."""
        self._stopped.set()
        self._event.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)
        if self._fan_out is not None:
            self._fan_out.close()
            self._fan_out = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


_senders_lock = threading.Lock()


def sender(rt: Any, **options: Any) -> Sender:
    """This runtime's sender (closed with the runtime); options (clock, threads, processes,
    send_on_change) replace it with a new one."""
    with _senders_lock:
        found: Sender | None = rt.__dict__.get("_webpush_sender")
        if found is None or options or found.stopped:
            if found is not None:
                found.close()
            options.setdefault("processes", fan_out_processes(rt.settings))
            found = Sender(rt, **options)
            rt.__dict__["_webpush_sender"] = found
            rt.on_close(found.close)
        return found


def warm_if_needed(rt: Any) -> None:
    """At ``publisher serve`` start: when a fan-out would use the processes, start them (in the
    background) so an emergency does not wait for them."""
    worker = sender(rt)
    if worker.fan_out is None:
        return
    with rt.session() as session:
        if sum(store.subscriber_counts(session).values()) < PROCESS_MIN_MESSAGES:
            return
    threading.Thread(target=worker.warm, name="webpush-warm", daemon=True).start()


@dataclass
class _Batch:
    """Claimed messages on their way: outcomes known now, and futures of the rest by chunk
    (with the fan-out's chunk id, or 0 when this process's threads send it)."""

    messages: list[store.Message]
    outcomes: list[Outcome | None]
    chunks: list[tuple[list[int], int, Future[list[Outcome]]]] = field(default_factory=list)
    broken: bool = False  # a fan-out process died while sending it


def process_due(rt: Any, now: datetime, worker: Sender | None = None) -> dict[str, int]:
    """Send every message due at ``now``, batch after batch: up to :data:`IN_FLIGHT` batches
    are being sent while another thread waits for and records the oldest, so the database's
    round trips overlap the sending. Returns counts by outcome."""
    worker = worker or sender(rt)
    counts: dict[str, int] = {}
    with rt.session() as session:
        if expired := store.expire_claims(session, now):
            counts["unknown"] = expired
            log.warning("Web Push: %d messages claimed but never recorded: not resent", expired)
    pending: deque[tuple[_Batch, Future[dict[str, int]]]] = deque()
    fan_out = True  # until a fan-out process dies: then this run's threads send the rest
    exhausted = False  # nothing more due, once the batches on their way are recorded
    with ThreadPoolExecutor(1, thread_name_prefix="webpush-record") as recorder:
        while True:
            if worker.stopped:
                exhausted = True  # closing: record what is on its way, claim nothing more
            if not exhausted and len(pending) < IN_FLIGHT:
                with rt.session() as session:
                    _token, messages = store.claim_due(session, now, BATCH)
                if messages:
                    batch = _start(rt, worker, messages, now, fan_out)
                    pending.append((batch, recorder.submit(_finish, rt, worker, batch, now)))
                    continue
                exhausted = True
            if not pending:
                return counts
            batch, recorded = pending.popleft()
            for outcome, n in recorded.result().items():
                counts[outcome] = counts.get(outcome, 0) + n
            if batch.broken:  # the chunks no process had begun are due again now, by threads
                fan_out, exhausted = False, False


def _start(
    rt: Any, worker: Sender, messages: list[store.Message], now: datetime, fan_out: bool
) -> _Batch:
    """Prepare each message and hand the batch over; nothing waits for the push service here."""
    with rt.session() as session:
        rows = session.scalars(select(ItemRow).where(ItemRow.id.in_({m.item_id for m in messages})))
        items = {row.id: to_item(row) for row in rows}
    secret = rt.settings.secret_key()
    vapid = worker.vapid
    batch = _Batch(messages, [None] * len(messages))
    jobs: dict[int, Job] = {}
    for i, message in enumerate(messages):
        item = items.get(message.item_id)
        if item is None or item.status != "approved" or (item.ends_at and item.ends_at <= now):
            batch.outcomes[i] = ("cancelled", None, "item no longer published")
        else:
            jobs[i] = _job(rt, vapid, secret, item, message.subscription)
    todo = sorted(jobs)
    processes = worker.fan_out if fan_out and len(todo) >= PROCESS_MIN_MESSAGES else None
    for k in range(0, len(todo), CHUNK):
        chunk = todo[k : k + CHUNK]
        chunk_jobs = [jobs[i] for i in chunk]
        if processes is not None:
            batch.chunks.append((chunk, *processes.submit(chunk_jobs)))
        else:
            batch.chunks.append((chunk, 0, worker.pool.submit(deliver_many, chunk_jobs)))
    return batch


def _finish(rt: Any, worker: Sender, batch: _Batch, now: datetime) -> dict[str, int]:
    """Wait for the batch's outcomes and record them."""
    for chunk, chunk_id, future in batch.chunks:
        try:
            results = future.result()
        except Exception as e:  # a fan-out process died (or sending broke) mid-way
            results = [_stopped(worker, chunk_id, e)] * len(chunk)
            batch.broken = batch.broken or bool(chunk_id)
        for i, outcome in zip(chunk, results, strict=True):
            batch.outcomes[i] = outcome
    if batch.broken and worker.fan_out is not None:
        worker.fan_out.broken()
    return _record(rt, batch.messages, batch.outcomes, now)


def _stopped(worker: Sender, chunk_id: int, error: Exception) -> Outcome:
    """A chunk whose sending stopped: sent again at once if it had not begun; otherwise some
    of it may have gone out, and it is never resent (``unknown``)."""
    fan_out = worker.fan_out
    if chunk_id and fan_out is not None and not fan_out.begun(chunk_id):
        return "retry", 0.0, f"a fan-out process stopped before sending it ({error!r})"
    log.error("Web Push: sending stopped mid-chunk (%r): its messages are unknown", error)
    return "unknown", None, f"sending stopped mid-way ({error!r}); not resent"


def _record(
    rt: Any, messages: list[store.Message], outcomes: list[Any], now: datetime
) -> dict[str, int]:
    sent, gone, others = [], [], []
    counts: dict[str, int] = {}
    for message, (outcome, retry_after, error) in zip(messages, outcomes, strict=True):
        if outcome == "retry" and message.attempts >= MAX_ATTEMPTS:
            outcome = "failed"
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "sent":
            sent.append(message.id)
        elif outcome == "gone":
            gone.append(message.subscription.id)
        elif outcome == "retry":
            backoff = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (message.attempts - 1))
            wait = retry_after if retry_after is not None else backoff
            values = {"not_before": now + timedelta(seconds=wait), "last_error": error}
            others.append((message.id, "retry", values))
        else:
            others.append((message.id, outcome, {"last_error": error}))
    with rt.session() as session:
        store.record_sent(session, sent, now)
        store.record(session, others)
        store.forget_gone(session, gone)
    return counts


def _job(rt: Any, vapid: Vapid, secret: str, item: Item, sub: store.Subscription) -> Job:
    """One message ready to encrypt and post: its payload and headers."""
    assert item.id is not None
    base = rt.settings.base_url
    lang = sub.lang if sub.lang in item.languages else item.languages[0]
    url = f"{base}/items/{item.id}" + (f"?lang={lang}" if lang != "ja" else "")
    token = unsubscribe_token(secret, sub.id, sub.endpoint)
    unsubscribe_url = f"{base}/notifications/unsubscribe/{sub.id}/{token}"
    data = payload(notification(item, lang, url, unsubscribe_url))
    headers = {
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL_EMERGENCY_S if item.is_emergency else TTL_OTHER_S),
        "Urgency": "high" if item.kind == "alert" else "normal",
        "Topic": topic(item.id),
        "Authorization": vapid.header(sub.endpoint),
    }
    return Job(sub.endpoint, headers, data, sub.p256dh, sub.auth)


def topic(item_id: int) -> str:
    """The ``Topic`` header (at most 32 URL-safe characters): one per item."""
    return f"item-{item_id}"
