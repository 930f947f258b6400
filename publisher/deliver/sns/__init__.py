"""SNS adapters: one small contract, one module per network, and a registry.

Every adapter is built from an :class:`~publisher.deliver.accounts.Account` (its base URL, so
tests point it at a local server) and the account's secrets, and offers exactly:

- ``post(text, facets, idempotency_key, media=None) -> remote_id``: publish once. The key is
  the outbox row's; adapters pass it to the network where the network deduplicates (Mastodon's
  ``Idempotency-Key``, LINE's ``X-Line-Retry-Key``, Bluesky's record key). ``media`` is the
  item's picture with its alternative text: Mastodon (``/api/v2/media`` with a description),
  Bluesky (``uploadBlob``, an ``app.bsky.embed.images`` embed with ``alt``) and X (``POST
  /2/media/upload``, then its alt text) attach it; LINE posts text only (its image messages
  need a public HTTPS URL per image; the post's link opens the page that shows it).
- ``delete(remote_id)``: take the post down; :class:`CannotDelete` where the network has no
  way to (LINE).
- ``find_recent(text, idempotency_key) -> remote_id | None``: after a crash between sending
  and recording, ask the network whether this post already exists.

Failures are :class:`SendError`: ``retry_after_s`` set for rate limits (429 + Retry-After),
``permanent`` for a refusal that no retry will change (4xx other than 429).

Adding a network is a new module and one line in :data:`ADAPTERS`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

ADAPTERS: dict[str, str] = {
    "x": "publisher.deliver.sns.x:XAdapter",
    "mastodon": "publisher.deliver.sns.mastodon:MastodonAdapter",
    "bluesky": "publisher.deliver.sns.bluesky:BlueskyAdapter",
    "line": "publisher.deliver.sns.line:LineAdapter",
}
TIMEOUT_S = 20


@dataclass(frozen=True)
class Media:
    """A picture to attach: its bytes (JPEG or PNG, as the admin stored it) and what it shows."""

    data: bytes
    mimetype: str
    alt: str
    width: int = 0
    height: int = 0


class Adapter(Protocol):
    network: str

    def post(
        self,
        text: str,
        facets: list[dict[str, Any]],
        idempotency_key: str,
        media: Media | None = None,
    ) -> str: ...

    def delete(self, remote_id: str) -> None: ...

    def find_recent(self, text: str, idempotency_key: str) -> str | None: ...


@dataclass
class SendError(Exception):
    """The network said no (or did not answer). Messages never contain credentials."""

    message: str
    status: int | None = None
    retry_after_s: float | None = None
    permanent: bool = False

    def __str__(self) -> str:
        return self.message


class CannotDelete(Exception):
    """The network offers no way to take a sent post down."""


def load_adapter(network: str) -> type:
    module, attr = ADAPTERS[network].split(":")
    return getattr(importlib.import_module(module), attr)


def http_error(
    what: str, status: int, headers: Mapping[str, str], body: str, secrets: tuple[str, ...] = ()
) -> SendError:
    """A :class:`SendError` for an HTTP answer: 429 carries Retry-After, 5xx is retried,
    any other 4xx is permanent. ``secrets`` are masked out of the message."""
    detail = mask(" ".join(body.split())[:300], secrets)
    message = f"{what}: HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        return SendError(message, status, retry_after(headers))
    return SendError(message, status, permanent=400 <= status < 500)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), if given."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        from datetime import UTC, datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text
