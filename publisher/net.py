"""Network calls with a total deadline: connect, headers and the whole body, together.

``requests``' timeouts bound each socket operation, not the call: a server that trickles one
byte every few seconds (in its headers or its body) keeps a call alive for ever. Here every
socket a :func:`session` opens (or reuses) inside a :func:`deadline` block is registered; when
the deadline passes, a timer shuts those sockets down, which wakes the blocked read at once.
The block then reports ``expired`` and the caller treats whatever it got as a failure.

    with deadline(60) as d:
        body = session.get(url).content
    if d.expired: ...  # the call took too long; ``body`` may be cut short

Used by the collectors (:mod:`publisher.collect.http`) and the ``http`` delivery target
(:mod:`publisher.deliver.sync`), so one slow upstream or screen never holds a job past its
deadline.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_LOCAL = threading.local()


@dataclass
class Deadline:
    """One :func:`deadline` block: its sockets, and whether the time ran out."""

    seconds: float
    expired: bool = False
    _sockets: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, sock: Any) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: Any) -> None:
    with suppress(OSError, ValueError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Shut down every socket of this thread's calls once ``seconds`` have passed."""
    d = Deadline(seconds)
    outer = getattr(_LOCAL, "deadline", None)
    _LOCAL.deadline = d
    timer = threading.Timer(seconds, d.expire)
    timer.daemon = True
    timer.start()
    try:
        yield d
    finally:
        timer.cancel()
        _LOCAL.deadline = outer


def _register(sock: Any) -> None:
    d = getattr(_LOCAL, "deadline", None)
    if d is not None and sock is not None:
        d.register(sock)


class _Registered:
    """Mixin: the connection's socket joins the current thread's deadline."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _register(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _register(self.sock)  # a pooled connection reused for this call
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Registered, HTTPConnection):
    pass


class _HTTPSConnection(_Registered, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def session() -> requests.Session:
    """A ``requests.Session`` whose sockets obey :func:`deadline`."""
    s = requests.Session()
    adapter = _Adapter()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


__all__ = ["Deadline", "deadline", "session"]
