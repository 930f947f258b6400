"""``GET /healthz`` under ``publisher serve``: answered on the loop from the app's own check.

The check (the app's ``/healthz`` route: a real query, the schema version, free disk) runs in a
thread of its own at most ``limits.health_fresh_s`` before an answer; meanwhile the last answer
is given. An answer older than ``limits.health_stale_s`` is waited for, and a check taking over
:data:`HEALTH_WAIT_S` is itself the answer (503). So a monitor's probe never waits behind a lane
of Flask threads, yet hears within a second or two when the database or the disk is in trouble.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from publisher.web.http11 import Request, simple_response

HEALTH_WAIT_S = 5.0  # a health check that takes longer is itself the answer: 503
RETRY_AFTER_S = 5


class Health:
    """The held ``/healthz`` answer and the one check that renews it."""

    def __init__(self, run: Callable[[Request], Awaitable[bytes]], limits: Any):
        self.run = run  # the app's answer to a request, from a thread of the check's own
        self.limits = limits  # health_fresh_s, health_stale_s
        self._held: tuple[float, bytes] | None = None  # (monotonic time, the answer)
        self._check: asyncio.Future[None] | None = None

    async def answer(self, request: Request) -> bytes:
        """The app's ``/healthz`` answer, checked at most ``health_fresh_s`` ago."""
        held = self._held
        age = time.monotonic() - held[0] if held is not None else float("inf")
        if age > self.limits.health_fresh_s and self._check is None:
            self._check = asyncio.ensure_future(self._renew())
        if age > self.limits.health_stale_s and self._check is not None:
            try:
                async with asyncio.timeout(HEALTH_WAIT_S):
                    await asyncio.shield(self._check)
            except TimeoutError:
                return simple_response(
                    503,
                    f"the health check (a database query) took over {HEALTH_WAIT_S:.0f} s",
                    close=not request.keep_alive,
                    extra={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
                )
            held = self._held
        if held is None:
            return simple_response(
                503, "the health check could not run", extra={"Retry-After": str(RETRY_AFTER_S)}
            )
        answer = held[1]
        if not request.keep_alive:
            answer = answer.replace(
                b"\r\nConnection: keep-alive\r\n", b"\r\nConnection: close\r\n", 1
            )
        return answer

    async def _renew(self) -> None:
        request = Request("GET", "/healthz", "HTTP/1.1", {}, ("127.0.0.1", 0))
        try:
            self._held = (time.monotonic(), await self.run(request))
        finally:
            self._check = None
