"""Bluesky through the AT Protocol's XRPC endpoints with ``requests``.

The ``atproto`` SDK (0.0.x) logs in by decoding the server's JWTs and validates every answer
against its pydantic models, which makes it heavy to point at a local stand-in; the four calls
used here are small and documented, so they are made directly:

- ``com.atproto.server.createSession`` (handle + app password) → access token and DID;
- post: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` with the link and
  hashtags as facets (and the picture, uploaded first with ``com.atproto.repo.uploadBlob``, as
  an ``app.bsky.embed.images`` embed with its alt text), under a record key derived from the outbox row's key, so the same row
  can never make two records (the PDS refuses an existing key);
- find_recent: ``com.atproto.repo.getRecord`` on that key;
- delete: ``com.atproto.repo.deleteRecord``.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import Any

import requests
from PIL import Image

from publisher.deliver.sns import TIMEOUT_S, Media, SendError, http_error

COLLECTION = "app.bsky.feed.post"
BLOB_MAX_BYTES = 976_560  # what app.bsky.embed.images accepts per picture
_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


def fit_blob(media: Media) -> tuple[bytes, str, int, int]:
    """The picture within :data:`BLOB_MAX_BYTES`: as it is if it fits, else re-encoded as JPEG
    and made smaller step by step. Returns bytes, type, width and height."""
    with Image.open(io.BytesIO(media.data)) as img:
        img.load()
        width, height = img.size
        if len(media.data) <= BLOB_MAX_BYTES:
            return media.data, media.mimetype, width, height
        picture = img.convert("RGB")
    for side in (2000, 1600, 1200, 1000, 800, 600):
        picture.thumbnail((side, side))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=82, optimize=True)
        if out.tell() <= BLOB_MAX_BYTES:
            return out.getvalue(), "image/jpeg", picture.width, picture.height
    raise SendError(
        "Bluesky picture upload: the picture cannot be made small enough", permanent=True
    )


def record_key(idempotency_key: str) -> str:
    """A valid TID (13 base32-sortable characters, top bit clear) fixed by the row's key.

    Its time part is derived too (kept in the past, as for imported posts): what matters is
    that one outbox row always names the same record.
    """
    n = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    n &= (1 << 60) - 1  # top bits clear: first character is 2..j, time part in the past
    return "".join(_B32_SORTABLE[(n >> (5 * i)) & 31] for i in reversed(range(13)))


class BlueskyAdapter:
    network = "bluesky"

    def __init__(
        self, base_url: str, handle: str, password: str, session: requests.Session | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.handle = handle
        self._password = password
        self._http = session or requests.Session()
        self._access: str | None = None
        self._did: str | None = None

    def _xrpc(
        self,
        method: str,
        nsid: str,
        what: str,
        headers_extra: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._access}"} if self._access else {}
        headers.update(headers_extra or {})
        try:
            return self._http.request(
                method, f"{self.base_url}/xrpc/{nsid}", headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as e:
            raise SendError(f"{what}: {type(e).__name__}: cannot reach {self.base_url}") from None

    def _fail(self, what: str, r: requests.Response) -> SendError:
        secrets = (self._password, self._access or "")
        return http_error(what, r.status_code, r.headers, r.text, secrets)

    def _login(self) -> str:
        if self._did is None:
            r = self._xrpc(
                "POST",
                "com.atproto.server.createSession",
                "Bluesky login",
                json={"identifier": self.handle, "password": self._password},
            )
            if not r.ok:
                raise self._fail("Bluesky login", r)
            data = r.json()
            self._access, self._did = data["accessJwt"], data["did"]
        assert self._did is not None
        return self._did

    def post(
        self,
        text: str,
        facets: list[dict[str, Any]],
        idempotency_key: str,
        media: Media | None = None,
    ) -> str:
        did = self._login()
        embed = self._embed(media) if media is not None else None
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": text,
            "createdAt": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        if facets:
            record["facets"] = [{"$type": "app.bsky.richtext.facet", **f} for f in facets]
        if embed:
            record["embed"] = embed
        body = {
            "repo": did,
            "collection": COLLECTION,
            "rkey": record_key(idempotency_key),
            "record": record,
        }
        r = self._xrpc("POST", "com.atproto.repo.createRecord", "Bluesky post", json=body)
        if not r.ok:
            raise self._fail("Bluesky post", r)
        return str(r.json()["uri"])

    def _embed(self, media: Media) -> dict[str, Any]:
        """Upload the picture as a blob (made to fit the PDS's limit) and embed it with its alt."""
        data, mimetype, width, height = fit_blob(media)
        r = self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            "Bluesky picture upload",
            data=data,
            headers_extra={"Content-Type": mimetype},
        )
        if not r.ok:
            raise self._fail("Bluesky picture upload", r)
        image: dict[str, Any] = {"alt": media.alt, "image": r.json()["blob"]}
        if width and height:
            image["aspectRatio"] = {"width": width, "height": height}
        return {"$type": "app.bsky.embed.images", "images": [image]}

    def delete(self, remote_id: str) -> None:
        did = self._login()
        rkey = remote_id.rsplit("/", 1)[-1]
        body = {"repo": did, "collection": COLLECTION, "rkey": rkey}
        r = self._xrpc("POST", "com.atproto.repo.deleteRecord", "Bluesky delete", json=body)
        if not r.ok:
            raise self._fail("Bluesky delete", r)

    def find_recent(self, text: str, idempotency_key: str) -> str | None:
        did = self._login()
        params = {"repo": did, "collection": COLLECTION, "rkey": record_key(idempotency_key)}
        r = self._xrpc("GET", "com.atproto.repo.getRecord", "Bluesky lookup", params=params)
        if r.status_code == 400 and "RecordNotFound" in r.text:
            return None
        if not r.ok:
            raise self._fail("Bluesky lookup", r)
        return str(r.json()["uri"])
