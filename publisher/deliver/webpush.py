"""Web Push to residents' phones: an approved alert (and, for those who chose it, each new
notice and event) to every subscription whose area sees it, in the subscriber's language.

Standard Web Push: the payload encrypted per RFC 8291 (aes128gcm, pywebpush/http_ece), the
request signed with VAPID (RFC 8292; ES256 JWT per push service, the key pair in
``DATA_DIR/vapid_private.pem``, made by ``publisher init`` or on first use).

Two halves, like the SNS outbox (:mod:`publisher.deliver.outbox`):

- :func:`on_items_changed` (a change listener, after commit) writes one message row per
  subscription in one ``INSERT … SELECT`` (:func:`publisher.store.push.queue`), cancels those of
  withdrawn items, and wakes this process's sender thread, so an emergency leaves at once.
- :func:`process_due` sends: it claims a batch (``sending``, committed), encrypts and posts each
  message from a thread pool over kept-alive connections, then records the outcomes. 201 is
  sent; 404/410 deletes the subscription; 429/5xx/network errors retry with backoff; other 4xx
  fail. The scheduler runs it every minute too (retries, items whose window opens later).

Exactly once, across crashes: a message is claimed before the request and recorded after it.
If the process stops in between, the row stays ``sending``; after the lease it becomes
``unknown`` and is never sent again, because a push service cannot be asked whether it took a
message and a resident must not be alarmed twice. Each message also carries ``Topic`` (a push
service replaces an undelivered message of the same topic) and its notification a ``tag`` (a
phone replaces a shown notification of the same tag), so even a repeat would not add a second.
"""

from __future__ import annotations

import base64
import hmac
import http.client
import json
import logging
import multiprocessing
import os
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pywebpush import WebPusher
from sqlalchemy import select

from publisher.files import write_atomic
from publisher.items import Item, utcnow
from publisher.render.notification import notification, payload
from publisher.store import push as store
from publisher.store.content import to_item
from publisher.store.models import ItemRow

log = logging.getLogger(__name__)

KEY_FILE = "vapid_private.pem"
BATCH = 500  # claimed, sent and recorded together: the first leave sooner
THREADS = 16
REQUEST_TIMEOUT_S = 10
JWT_LIFETIME_S = 12 * 3600
TTL_EMERGENCY_S = 6 * 3600
TTL_OTHER_S = 24 * 3600
FIRST_BACKOFF_S = 30
MAX_BACKOFF_S = 3600
MAX_ATTEMPTS = 8
PROCESS_MIN_MESSAGES = 500  # smaller fan-outs are encrypted in the sending threads
PROCESS_CHUNK = 250

# (url, headers, body) -> (status, Retry-After seconds or None); raises OSError on network trouble
Transport = Callable[[str, dict[str, str], bytes], tuple[int, float | None]]


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


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsubscribe_token(secret: str, sub_id: int, endpoint: str) -> str:
    """What an unsubscribe link carries: unguessable, and nothing stored for it."""
    mac = hmac.new(secret.encode(), f"push-unsubscribe:{sub_id}:{endpoint}".encode(), "sha256")
    return mac.hexdigest()[:40]


class Vapid:
    """Signs ``Authorization: vapid t=…, k=…`` once per push service and ~hour, not per message."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, contact: str):
        self.key = key
        self.contact = contact
        self.public = b64url(
            key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def header(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        aud = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._cache.get(aud)
            if cached and cached[0] - now > JWT_LIFETIME_S / 2:
                return cached[1]
            exp = int(now) + JWT_LIFETIME_S
            value = f"vapid t={self._jwt(aud, exp)}, k={self.public}"
            self._cache[aud] = (exp, value)
            return value

    def _jwt(self, aud: str, exp: int) -> str:
        head = b64url(json.dumps({"typ": "JWT", "alg": "ES256"}).encode())
        claims = b64url(json.dumps({"aud": aud, "exp": exp, "sub": self.contact}).encode())
        signing_input = f"{head}.{claims}".encode()
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return f"{head}.{claims}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


# -- transport -----------------------------------------------------------------------------------


class HttpTransport:
    """POSTs over kept-alive connections, one per sending thread and push service."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        mine: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("by", {})
        conn = mine.get(netloc)
        if conn is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = mine[netloc] = cls(netloc, timeout=REQUEST_TIMEOUT_S)
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self, netloc: str) -> None:
        conn = self._local.__dict__.get("by", {}).pop(netloc, None)
        if conn is not None:
            conn.close()

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, float | None]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):  # a kept-alive connection the service closed is reopened once
            conn = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop(parts.netloc)
                if attempt == 2:
                    raise
                continue
            except (OSError, http.client.HTTPException) as e:
                self._drop(parts.netloc)
                raise OSError(str(e)) from e
            if (response.getheader("Connection") or "").lower() == "close":
                self._drop(parts.netloc)
            retry_after = response.getheader("Retry-After")
            try:
                wait = float(retry_after) if retry_after else None
            except ValueError:
                wait = None
            return response.status, wait
        raise OSError("unreachable")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


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


@dataclass
class Sender:
    """One per runtime: a thread that sends whenever woken, and the pieces sending needs."""

    rt: Any
    clock: Callable[[], datetime] = utcnow
    transport: Transport = field(default_factory=HttpTransport)
    threads: int = THREADS
    send_on_change: bool = True  # False: only process_due sends (the scheduler, tests)
    processes: int = 0  # >0: encrypt large fan-outs in that many processes (PUSH_PROCESSES)
    _event: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _vapid: Vapid | None = None
    _pool: ThreadPoolExecutor | None = None
    _processes: ProcessPoolExecutor | None = None
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
    def process_pool(self) -> ProcessPoolExecutor | None:
        """Started (spawned, warmed) on first use when ``processes`` > 0."""
        if self.processes <= 0:
            return None
        with self._lock:
            if self._processes is None:
                context = multiprocessing.get_context("spawn")  # never fork a threaded server
                self._processes = ProcessPoolExecutor(self.processes, mp_context=context)
                warm = [self._processes.submit(encrypt_many, []) for _ in range(self.processes)]
                for future in warm:
                    future.result()
            return self._processes

    def wake(self) -> None:
        if not self.send_on_change:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webpush", daemon=True)
                self._thread.start()
        self._event.set()

    def _run(self) -> None:
        while True:
            if not self._event.wait(60):
                return  # idle for a minute: the thread ends; the next wake starts another
            self._event.clear()
            try:
                process_due(self.rt, self.clock(), worker=self)
            except Exception:
                log.exception("Web Push: sending failed; the scheduler will retry")

    def close(self) -> None:
        if self._processes is not None:
            self._processes.shutdown(wait=True)
            self._processes = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()


_senders: weakref.WeakKeyDictionary[Any, Sender] = weakref.WeakKeyDictionary()
_senders_lock = threading.Lock()


def sender(rt: Any, **options: Any) -> Sender:
    """This runtime's sender; options (clock, transport, threads) replace the defaults."""
    with _senders_lock:
        found = _senders.get(rt)
        if found is None or options:
            options.setdefault("processes", int(rt.settings.get("PUSH_PROCESSES") or 0))
            found = Sender(rt, **options)
            _senders[rt] = found
        return found


def process_due(rt: Any, now: datetime, worker: Sender | None = None) -> dict[str, int]:
    """Send every message due at ``now``, batch after batch. Returns counts by outcome."""
    worker = worker or sender(rt)
    counts: dict[str, int] = {}
    with rt.session() as session:
        if expired := store.expire_claims(session, now):
            counts["unknown"] = expired
            log.warning("Web Push: %d messages claimed but never recorded: not resent", expired)
    while True:
        with rt.session() as session:
            _token, messages = store.claim_due(session, now, BATCH)
        if not messages:
            return counts
        for outcome, n in _send_batch(rt, worker, messages, now).items():
            counts[outcome] = counts.get(outcome, 0) + n


def _send_batch(
    rt: Any, worker: Sender, messages: list[store.Message], now: datetime
) -> dict[str, int]:
    with rt.session() as session:
        rows = session.scalars(select(ItemRow).where(ItemRow.id.in_({m.item_id for m in messages})))
        items = {row.id: to_item(row) for row in rows}
    secret = rt.settings.secret_key()
    vapid = worker.vapid
    Outcome = tuple[str, float | None, str | None]
    outcomes: list[Outcome | None] = [None] * len(messages)
    plain: dict[int, tuple[bytes, dict[str, str]]] = {}
    for i, message in enumerate(messages):
        item = items.get(message.item_id)
        if item is None or item.status != "approved" or (item.ends_at and item.ends_at <= now):
            outcomes[i] = ("cancelled", None, "item no longer published")
        else:
            plain[i] = _plain(rt, vapid, secret, item, message.subscription)

    def post(i: int, body: bytes) -> Outcome:
        sub = messages[i].subscription
        try:
            status, retry_after = worker.transport(sub.endpoint, plain[i][1], body)
        except OSError as e:
            return "retry", None, f"network: {e}"
        if status in (200, 201, 202):
            return "sent", None, None
        if status in (404, 410):
            return "gone", None, f"push service answered {status}"
        if status == 429 or status >= 500:
            return "retry", retry_after, f"push service answered {status}"
        return "failed", None, f"push service answered {status}"

    def encrypt_and_post(i: int) -> Outcome:
        sub = messages[i].subscription
        body = encrypt_many([(plain[i][0], sub.p256dh, sub.auth)])[0]
        return post(i, body) if body is not None else _UNENCRYPTABLE

    todo = sorted(plain)
    processes = worker.process_pool if len(todo) >= PROCESS_MIN_MESSAGES else None
    if processes is None:
        for i, outcome in zip(todo, worker.pool.map(encrypt_and_post, todo), strict=True):
            outcomes[i] = outcome
    else:  # encryption in other processes (ECDH per message is the cost), posting here
        chunks = [todo[k : k + PROCESS_CHUNK] for k in range(0, len(todo), PROCESS_CHUNK)]
        jobs = {
            processes.submit(
                encrypt_many,
                [(plain[i][0], messages[i].subscription.p256dh, messages[i].subscription.auth)
                 for i in chunk],
            ): chunk
            for chunk in chunks
        }  # fmt: skip
        posts = []
        for job in as_completed(jobs):
            for i, body in zip(jobs[job], job.result(), strict=True):
                if body is None:
                    outcomes[i] = _UNENCRYPTABLE
                else:
                    posts.append((i, worker.pool.submit(post, i, body)))
        for i, future in posts:
            outcomes[i] = future.result()
    return _record(rt, messages, outcomes, now)


_UNENCRYPTABLE = ("failed", None, "the subscription's keys cannot be used")


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
            wait = retry_after or min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (message.attempts - 1))
            values = {"not_before": now + timedelta(seconds=wait), "last_error": error}
            others.append((message.id, "retry", values))
        else:
            others.append((message.id, outcome, {"last_error": error}))
    with rt.session() as session:
        store.record_sent(session, sent, now)
        store.record(session, others)
        store.forget_gone(session, gone)
    return counts


def encrypt_many(jobs: list[tuple[bytes, str, str]]) -> list[bytes | None]:
    """Each ``(payload, p256dh, auth)`` encrypted for its subscription (aes128gcm, RFC 8291:
    a new key pair and salt per message); None where the keys are unusable. Runs in a thread
    or, for large fan-outs, in another process."""
    out: list[bytes | None] = []
    for data, p256dh, auth in jobs:
        info = {"endpoint": "", "keys": {"p256dh": p256dh, "auth": auth}}
        try:
            out.append(bytes(WebPusher(info).encode(data, "aes128gcm")["body"]))
        except Exception:
            out.append(None)
    return out


def _plain(
    rt: Any, vapid: Vapid, secret: str, item: Item, sub: store.Subscription
) -> tuple[bytes, dict[str, str]]:
    """The payload (before encryption) and headers of one message."""
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
    return data, headers


def topic(item_id: int) -> str:
    """The ``Topic`` header (at most 32 URL-safe characters): one per item."""
    return f"item-{item_id}"
