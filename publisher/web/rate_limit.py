"""Per-client token buckets for residents' anonymous writes (Web Push sign-ups).

A client may make ``per_minute`` requests at once and then one every ``60 / per_minute``
seconds. The client is its address as the app sees it (``request.remote_addr``: behind
``PUBLISHER_PROXY_HOPS`` trusted proxies, the one they forwarded; a client's own
``X-Forwarded-For`` counts for nothing), an IPv6 address by its /64, the part one household
or phone holds. Buckets live in this process's memory only (nothing is written anywhere), at most
:data:`MAX_CLIENTS` of them: a key and two numbers per client seen lately.

The clock is a ``time.monotonic``-like function, passed in (tests turn it by hand).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 50_000  # beyond it, the clients seen longest ago are forgotten


def client_key(address: str | None) -> str:
    """The bucket of an address: an IPv4 address itself, an IPv6 address its /64."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


class TokenBuckets:
    """``take(key)``: 0 when the request may go, else the seconds until it may."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.capacity = float(max(1, per_minute))
        self.refill_per_s = self.capacity / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.refill_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._forget()
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.refill_per_s

    @staticmethod
    def retry_after_s(wait_s: float) -> int:
        """Whole seconds for ``Retry-After`` (at least 1)."""
        return max(1, math.ceil(wait_s))

    def _forget(self) -> None:
        # Buckets are in the order their clients were last seen: the first is the stalest.
        while len(self._buckets) > self.max_clients:
            del self._buckets[next(iter(self._buckets))]

    def __len__(self) -> int:
        return len(self._buckets)
