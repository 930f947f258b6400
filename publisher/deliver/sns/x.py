"""X (Twitter) through its v2 API with ``requests`` (X publishes no maintained Python SDK).

- post: ``POST /2/tweets`` ``{"text": ...}`` with an OAuth 2.0 user access token.
- delete: ``DELETE /2/tweets/:id``.
- find_recent: X offers no idempotency key, so after a crash we read the account's latest
  posts (``GET /2/users/me``, ``GET /2/users/:id/tweets``), expand the t.co links from their
  entities and look for our exact text. X also refuses a duplicate of a recent post (403),
  which backs this up.
"""

from __future__ import annotations

from typing import Any

import requests

from publisher.deliver.sns import TIMEOUT_S, SendError, http_error

RECENT_POSTS = 20


class XAdapter:
    network = "x"

    def __init__(self, base_url: str, token: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = session or requests.Session()

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            r = self._http.request(
                method, self.base_url + path, headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as e:
            raise SendError(f"{what}: {type(e).__name__}: cannot reach {self.base_url}") from None
        if not r.ok:
            raise http_error(what, r.status_code, r.headers, r.text, (self._token,))
        return r.json() if r.content else {}

    def post(self, text: str, facets: list[dict[str, Any]], idempotency_key: str) -> str:
        data = self._call("POST", "/2/tweets", "X post", json={"text": text})
        return str(data["data"]["id"])

    def delete(self, remote_id: str) -> None:
        self._call("DELETE", f"/2/tweets/{remote_id}", "X delete")

    def find_recent(self, text: str, idempotency_key: str) -> str | None:
        me = self._call("GET", "/2/users/me", "X whoami")["data"]["id"]
        recent = self._call(
            "GET",
            f"/2/users/{me}/tweets",
            "X recent posts",
            params={"max_results": RECENT_POSTS, "tweet.fields": "entities,created_at"},
        )
        for tweet in recent.get("data", []):
            shown = tweet.get("text", "")
            for url in tweet.get("entities", {}).get("urls", []):
                if url.get("url") and url.get("expanded_url"):
                    shown = shown.replace(url["url"], url["expanded_url"])
            if shown == text:
                return str(tweet["id"])
        return None
