"""Talking to Web Push services: one message encrypted for its subscription, signed, posted, and
the service's answer turned into an outcome the outbox records.

- :class:`Vapid` signs ``Authorization: vapid t=…, k=…`` (RFC 8292; an ES256 JWT) once per
  push service and half-day, not per message;
- :func:`encrypt` encrypts a payload per RFC 8291 (aes128gcm, http_ece: a new ECDH key pair
  and salt per message);
- :func:`deliver_many` encrypts and posts a chunk of :class:`Job` concurrently (aiohttp, the
  HTTP client pywebpush itself uses), in a process of the fan-out pool (:class:`FanOut`, its
  connections kept alive) or in a thread of the caller.

A fan-out is bound by CPU (an ECDH, a key derivation and an HTTP exchange per message), so a
large one is spread over processes that each encrypt *and* post; the process that owns the
outbox only claims, prepares and records. This module imports nothing of the store, so those
processes start small.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import json
import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

REQUEST_TIMEOUT_S = 10
JWT_LIFETIME_S = 12 * 3600
CONNECTIONS_PER_SERVICE = 8  # per process (or call), kept alive in a fan-out process

# (outcome, Retry-After seconds, error): outcome is sent | gone | retry | failed | unknown
Outcome = tuple[str, float | None, str | None]

UNENCRYPTABLE: Outcome = ("failed", None, "the subscription's keys cannot be used")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


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


def encrypt(data: bytes, p256dh: str, auth: str) -> bytes | None:
    """``data`` encrypted for one subscription (aes128gcm, RFC 8291, by http_ece as pywebpush
    does it, without pywebpush's per-message copying): a new ECDH key pair and a random salt
    per message. None where the subscription's keys are unusable."""
    try:
        receiver = b64url_decode(p256dh)
        secret = b64url_decode(auth)
        if len(receiver) != 65 or receiver[0] != 4 or len(secret) != 16:
            return None
        return bytes(
            http_ece.encrypt(
                data,
                private_key=ec.generate_private_key(ec.SECP256R1()),
                dh=receiver,
                auth_secret=secret,
                version="aes128gcm",
            )
        )
    except (ValueError, http_ece.ECEException):  # not base64, not a point on the curve
        return None


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Job:
    """One message ready to go: where, its headers, and its payload before encryption."""

    endpoint: str
    headers: dict[str, str]
    data: bytes
    p256dh: str
    auth: str


def outcome_of(status: int, retry_after: float | None) -> Outcome:
    """What the push service's answer means for the outbox."""
    if status in (200, 201, 202):
        return "sent", None, None
    if status in (404, 410):
        return "gone", None, f"push service answered {status}"
    if status == 429 or status >= 500:
        return "retry", retry_after, f"push service answered {status}"
    return "failed", None, f"push service answered {status}"


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the HTTP-date form is rare from push services: ignored)."""
    try:
        return float(value) if value else None
    except ValueError:
        return None


async def _deliver(job: Job, session: aiohttp.ClientSession) -> Outcome:
    body = encrypt(job.data, job.p256dh, job.auth)
    if body is None:
        return UNENCRYPTABLE
    try:
        async with session.post(job.endpoint, data=body, headers=job.headers) as response:
            await response.read()
            return outcome_of(response.status, retry_after(response.headers.get("Retry-After")))
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as e:
        return "retry", None, f"network: {type(e).__name__} {e}".strip()


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit_per_host=CONNECTIONS_PER_SERVICE),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


async def _deliver_all(jobs: list[Job], session: aiohttp.ClientSession | None) -> list[Outcome]:
    if session is not None:
        return list(await asyncio.gather(*(_deliver(job, session) for job in jobs)))
    async with _session() as own:
        return list(await asyncio.gather(*(_deliver(job, own) for job in jobs)))


def deliver_many(jobs: list[Job]) -> list[Outcome]:
    """A chunk of a fan-out, each message encrypted and posted concurrently; called in a
    thread of this process (a session for the call) or in a fan-out process (kept-alive
    connections for the process's life)."""
    if not jobs:
        return []
    return asyncio.run(_deliver_all(jobs, None))


# -- in a process of the fan-out pool ----------------------------------------------------------

_process_loop: asyncio.AbstractEventLoop | None = None
_process_session: aiohttp.ClientSession | None = None
_process_started: Any = None  # where this process says which chunk it has begun


def _process_init(started: Any) -> None:
    global _process_started
    _process_started = started


def _in_process(chunk_id: int, jobs: list[Job]) -> list[Outcome]:
    global _process_loop, _process_session
    if not jobs:
        return []
    _process_started.put(chunk_id)  # from here on, some of the chunk may have gone out
    if _process_loop is None:
        _process_loop = asyncio.new_event_loop()
        atexit.register(_close_process_session)
    if _process_session is None:
        _process_session = _process_loop.run_until_complete(_make_session())
    return _process_loop.run_until_complete(_deliver_all(jobs, _process_session))


async def _make_session() -> aiohttp.ClientSession:
    return _session()


def _close_process_session() -> None:
    if _process_loop is not None and _process_session is not None:
        _process_loop.run_until_complete(_process_session.close())


class FanOut:
    """Processes that encrypt and post chunks of a large fan-out; started (spawned, warmed) on
    first use or by :meth:`warm`, and started afresh after one of them dies.

    Each process says when it begins a chunk, so when one dies the outbox can tell the chunks
    that may have partly gone out (never resent) from those that had not begun (sent again)."""

    def __init__(self, processes: int):
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._started_queue: Any = None
        self._begun: set[int] = set()
        self._next_id = 0
        self._lock = threading.Lock()

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")  # never fork a threaded server
                self._started_queue = context.SimpleQueue()
                self._begun.clear()
                pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_process_init,
                    initargs=(self._started_queue,),
                )
                for future in [pool.submit(_in_process, 0, []) for _ in range(self.processes)]:
                    future.result()
                self._pool = pool
            return self._pool

    def warm(self) -> None:
        self._running()

    def submit(self, jobs: list[Job]) -> tuple[int, Future[list[Outcome]]]:
        """Hand a chunk over: its id (for :meth:`begun`) and the future of its outcomes."""
        with self._lock:
            self._next_id += 1
            chunk_id = self._next_id
        try:
            return chunk_id, self._running().submit(_in_process, chunk_id, jobs)
        except BrokenProcessPool:
            self.broken()
            return chunk_id, self._running().submit(_in_process, chunk_id, jobs)

    def begun(self, chunk_id: int) -> bool:
        """Had a process begun this chunk (so some of it may have gone out)?"""
        with self._lock:
            queue = self._started_queue
            try:
                while queue is not None and not queue.empty():
                    self._begun.add(queue.get())
            except (OSError, EOFError, ValueError):  # a process died mid-message: assume begun
                return True
            return chunk_id in self._begun

    def pids(self) -> list[int]:
        """The processes' ids (for operators, and tests that stop one)."""
        with self._lock:
            pool = self._pool
        return [p.pid for p in (pool._processes or {}).values() if p.pid] if pool else []

    def broken(self) -> None:
        """A process died: the next chunk starts fresh ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
