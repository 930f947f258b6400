"""LINE Official Account through line-bot-sdk (v3 Messaging API): a broadcast to followers.

- post: ``broadcast`` with ``X-Line-Retry-Key`` (a UUID derived from the outbox row's key).
  LINE accepts a retry key once; a repeat answers 409 with the first request's id, which
  counts as already sent.
- delete: LINE cannot take back a sent message: :class:`CannotDelete`.
- find_recent: the retry key is the check, so this answers None; LINE keeps retry keys for
  24 hours, so a crash left unreconciled longer than that could send twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from linebot.v3.messaging import (
    ApiClient,
    BroadcastRequest,
    Configuration,
    MessagingApi,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException

from publisher.deliver.sns import CannotDelete, SendError, http_error

_KEYS = uuid.UUID("6b0d3e7c-6d1f-4c61-9a4a-5e7a1f0c2b11")  # namespace for retry keys


def retry_key(idempotency_key: str) -> str:
    return str(uuid.uuid5(_KEYS, idempotency_key))


class LineAdapter:
    network = "line"

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._config = Configuration(host=self.base_url, access_token=token)

    def post(
        self,
        text: str,
        facets: list[dict[str, Any]],
        idempotency_key: str,
        media: Any = None,
    ) -> str:
        """Text only: a LINE image message needs a public HTTPS URL for each picture and its
        preview; the post's link opens the item's page, which shows the picture."""
        key = retry_key(idempotency_key)
        request = BroadcastRequest(messages=[TextMessage(text=text)])
        with ApiClient(self._config) as client:
            try:
                answer = MessagingApi(client).broadcast_with_http_info(
                    request, x_line_retry_key=key
                )
            except ApiException as e:
                headers = dict(e.headers or {})
                if e.status == 409:  # this retry key was accepted before: already sent
                    return str(_header(headers, "x-line-accepted-request-id") or key)
                raise http_error(
                    "LINE broadcast", int(e.status or 0), headers, str(e.body or ""), (self._token,)
                ) from None
            except OSError:
                raise SendError(f"LINE broadcast: cannot reach {self.base_url}") from None
        return str(_header(dict(answer.headers or {}), "x-line-request-id") or key)

    def delete(self, remote_id: str) -> None:
        raise CannotDelete("cannot delete on LINE: a sent message stays with its readers")

    def find_recent(self, text: str, idempotency_key: str) -> str | None:
        return None


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)
