"""X (Twitter) through its v2 API with ``requests`` (X publishes no maintained Python SDK).

- post: ``POST /2/tweets`` ``{"text": ...}`` with an OAuth 2.0 user access token; a picture
  first goes up through ``POST /2/media/upload`` (its alt text through ``/2/media/metadata``)
  and the post names its media id.
- delete: ``DELETE /2/tweets/:id``.
- find_recent: X offers no idempotency key, so after a crash we read the account's latest
  posts (``GET /2/users/me``, ``GET /2/users/:id/tweets``), expand the t.co links from their
  entities and look for our exact text. X also refuses a duplicate of a recent post (403),
  which backs this up.
"""

from __future__ import annotations

from typing import Any

import requests

from publisher.deliver.sns import TIMEOUT_S, Media, SendError, http_error

RECENT_POSTS = 20
ALT_MAX_CHARS = 1000  # X's limit on a picture's alt text


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

    def post(
        self,
        text: str,
        facets: list[dict[str, Any]],
        idempotency_key: str,
        media: Media | None = None,
    ) -> str:
        body: dict[str, Any] = {"text": text}
        if media is not None:
            body["media"] = {"media_ids": [self._upload(media)]}
        data = self._call("POST", "/2/tweets", "X post", json=body)
        return str(data["data"]["id"])

    def _upload(self, media: Media) -> str:
        """The picture through v2 media upload, then its alt text; returns its media id."""
        uploaded = self._call(
            "POST",
            "/2/media/upload",
            "X media upload",
            files={"media": ("picture", media.data, media.mimetype)},
            data={"media_category": "tweet_image", "media_type": media.mimetype},
        )
        media_id = str(uploaded["data"]["id"])
        if media.alt:
            alt = {"id": media_id, "metadata": {"alt_text": {"text": media.alt[:ALT_MAX_CHARS]}}}
            self._call("POST", "/2/media/metadata", "X media alt text", json=alt)
        return media_id

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
