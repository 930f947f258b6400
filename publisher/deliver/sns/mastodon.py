"""Mastodon through Mastodon.py, pointed at the account's instance.

- post: the picture, if any, through ``POST /api/v2/media`` (with its description), then
  ``status_post`` with ``Idempotency-Key`` (the outbox row's key): Mastodon keeps the
  key for an hour and answers a repeat with the status it already made.
- delete: ``status_delete``.
- find_recent: re-sending with the same key is the check, so this answers None; a crash
  left unreconciled for more than an hour could post twice (see README, "SNS").

Mastodon.py's own rate-limit handling would sleep; it is told to raise instead, and the
response's ``Retry-After`` is read through a response hook so the outbox can wait its turn.
"""

from __future__ import annotations

from typing import Any

import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
)

from publisher.deliver.sns import TIMEOUT_S, Media, SendError, http_error, mask, retry_after


class MastodonAdapter:
    network = "mastodon"

    def __init__(self, base_url: str, token: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._last: requests.Response | None = None
        http = session or requests.Session()
        self._http = http
        http.hooks["response"].append(self._remember)
        self._api = Mastodon(
            access_token=token,
            api_base_url=self.base_url,
            ratelimit_method="throw",
            version_check_mode="none",
            request_timeout=TIMEOUT_S,
            session=http,
        )

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last = response

    def _run(self, what: str, call: Any) -> Any:
        try:
            return call()
        except MastodonRatelimitError:
            headers = self._last.headers if self._last is not None else {}
            raise SendError(f"{what}: HTTP 429: rate limited", 429, retry_after(headers)) from None
        except MastodonServerError as e:
            raise SendError(f"{what}: HTTP {e.args[1]}: {self._detail(e)}", e.args[1]) from None
        except MastodonAPIError as e:
            status = e.args[1] if len(e.args) > 1 else None
            raise SendError(
                f"{what}: HTTP {status}: {self._detail(e)}", status, permanent=True
            ) from None
        except MastodonNetworkError:
            raise SendError(f"{what}: cannot reach {self.base_url}") from None

    def _detail(self, e: Exception) -> str:
        """The instance's own words: its ``error`` field, else the body, never the token."""
        said = e.args[3] if len(e.args) > 3 else None
        if not said and self._last is not None:
            said = " ".join(self._last.text.split())[:300]
        return mask(str(said or e), (self._token,))

    def post(
        self,
        text: str,
        facets: list[dict[str, Any]],
        idempotency_key: str,
        media: Media | None = None,
    ) -> str:
        media_ids = None
        if media is not None:
            media_ids = [self._upload(media)]
        status = self._run(
            "Mastodon post",
            lambda: self._api.status_post(
                text, visibility="public", idempotency_key=idempotency_key, media_ids=media_ids
            ),
        )
        return str(status["id"])

    def _upload(self, media: Media) -> str:
        """``POST /api/v2/media`` with the picture and its description; returns its id.

        Made directly: Mastodon.py's ``media_post`` first asks the instance for its version,
        and without an answer it loops until Python's recursion limit."""
        try:
            r = self._http.post(
                f"{self.base_url}/api/v2/media",
                headers={"Authorization": f"Bearer {self._token}"},
                files={"file": ("picture", media.data, media.mimetype)},
                data={"description": media.alt},
                timeout=TIMEOUT_S,
            )
        except requests.RequestException:
            raise SendError(f"Mastodon media upload: cannot reach {self.base_url}") from None
        if not r.ok:
            raise http_error(
                "Mastodon media upload", r.status_code, r.headers, r.text, (self._token,)
            )
        return str(r.json()["id"])

    def delete(self, remote_id: str) -> None:
        self._run("Mastodon delete", lambda: self._api.status_delete(remote_id))

    def find_recent(self, text: str, idempotency_key: str) -> str | None:
        return None
