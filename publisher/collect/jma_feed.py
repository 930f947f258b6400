"""Reading the agency's PULL feeds: conditional GET, each message fetched once.

The agency publishes Atom feeds (high-frequency ones updated every minute, per group: extra for
warnings, eqvol for earthquakes, ...) whose entries link to one message each. ``fetch``:

1. asks for the feed with ``If-None-Match`` / ``If-Modified-Since`` from the last good run;
   a 304 answer is an empty bundle (nothing is parsed);
2. reads the entries oldest first and fetches every message it has not fetched before (by
   entry id and updated time), skipping at once the data types the publisher does not read
   (the type code is in the message's URL, ``..._VPWW54_130000.xml``);
3. stops fetching when the source's total deadline (``Http.total_timeout_s``) has passed or
   ``options.max_messages`` (default 100) are fetched; the rest come on the next poll;
4. returns the messages as one bundle for :meth:`JmaCollector.parse` (pure, no I/O).

A message that cannot be fetched is a skipped entry (and is tried again next poll); the other
entries are still read. Validators and the fetched-entry keys are kept per source in this
process and committed only when the run stored its entries (``after_run``): a run that fails
fetches the same messages again next time. A document that is one ``<Report>`` (a file, or
``publisher import jma URL``) is returned as it is.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.collect.base import Source, allows_private, fetch_bytes
from publisher.collect.http import FetchError
from publisher.collect.jma_xml import ATOM, code_of, find, local, parse_document
from publisher.errors import PublisherError

READ_TYPES = ("VPWW53", "VPWW54", "VXSE51", "VXSE53", "VPHW51", "VXWW50", "VPOA50")
SEEN_MAX = 5000
MAX_MESSAGES = 100
_BUNDLE = b'{"jma_bundle"'


@dataclass
class FeedState:
    etag: str | None = None
    modified: str | None = None
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    pending: tuple[str | None, str | None, list[str]] | None = None


_STATES: dict[str, FeedState] = {}
_LOCK = threading.Lock()


def state_of(source: Source) -> FeedState:
    with _LOCK:
        return _STATES.setdefault(f"{source.name} {source.location}", FeedState())


def reads(code: str) -> bool:
    return code in READ_TYPES or code.startswith("VXKO") or code == "unknown type"


def fetch(source: Source, http: Any) -> bytes:
    state = state_of(source)
    state.pending = None
    if source.url:
        status, data, etag, modified = conditional_get(
            http, source.url, state, allow_private=allows_private(source)
        )
        if status == 304:
            state.pending = (etag or state.etag, modified or state.modified, [])
            return bundle([], not_modified=True)
    else:
        data, etag, modified = fetch_bytes(source, http), None, None
    root = parse_document(data, source.location)
    if local(root.tag) == "Report":
        return data
    if root.tag != f"{{{ATOM}}}feed":
        raise PublisherError(
            f"{source.location}: neither a JMA message (<Report>) nor an Atom feed: the root is "
            f"<{local(root.tag)}>"
        )
    entries = []
    for n, entry in enumerate(e for e in root if e.tag == f"{{{ATOM}}}entry"):
        link = next((el.get("href", "") for el in entry if el.tag == f"{{{ATOM}}}link"), "")
        ident = _child_text(entry, "id") or link
        updated = _child_text(entry, "updated")
        entries.append(
            (updated, n, link.strip(), f"{ident} {updated}", _child_text(entry, "title"))
        )
    entries.sort(key=lambda e: (e[0], -e[1]))  # oldest first; the feed lists newest first
    started = time.monotonic()
    deadline_s = getattr(http, "total_timeout_s", 60.0)
    limit = source.option("max_messages", MAX_MESSAGES)
    keys: list[str] = []
    messages: list[dict[str, str]] = []
    base = source.path.parent if source.path else None
    for _updated, _n, link, key, title in entries:
        if key in state.seen:
            continue
        if not reads(code_of(link, title)):
            keys.append(key)
            continue
        if len(messages) >= limit or time.monotonic() - started > deadline_s:
            break  # the rest on the next poll
        if not link:
            messages.append({"url": f"entry {key.strip()}", "error": "the entry has no link"})
            keys.append(key)
            continue
        try:
            body = _get(http, link, base, allow_private=allows_private(source))
        except FetchError as e:
            messages.append({"url": link, "error": f"{code_of(link, title)}: {e}"})
            continue  # tried again next poll
        messages.append({"url": link, "data": base64.b64encode(body).decode()})
        keys.append(key)
    state.pending = (etag, modified, keys)
    return bundle(messages)


def _child_text(entry: Any, name: str) -> str:
    el = find(entry, name)
    return (el.text or "").strip() if el is not None else ""


def _get(http: Any, link: str, base: Path | None, *, allow_private: bool = False) -> bytes:
    if link.startswith(("https://", "http://")):
        data: bytes = http.get(link, allow_private=allow_private)
        return data
    if base is None:
        raise FetchError(f"{link}: only http(s) links can be fetched from a feed")
    path = (base / link).resolve()
    if not path.is_relative_to(base.resolve()):
        raise FetchError(f"{link}: a feed file may only link files beside it")
    data = http.read_file(path)
    return data


def conditional_get(
    http: Any, url: str, state: FeedState, *, allow_private: bool = False
) -> tuple[int, bytes, str | None, str | None]:
    """GET with the last good validators through the bounded :class:`Http` (its limits
    apply); returns (status, body, ETag, Last-Modified)."""
    session = getattr(http, "session", None)
    if session is None:
        return 200, http.get(url, allow_private=allow_private), None, None
    answer: dict[str, Any] = {}

    def hook(resp: Any, *args: Any, **kwargs: Any) -> None:
        answer.update(status=resp.status_code, etag=resp.headers.get("ETag"),
                      modified=resp.headers.get("Last-Modified"))  # fmt: skip

    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.modified:
        headers["If-Modified-Since"] = state.modified
    hooks: list[Callable[..., Any]] = session.hooks.setdefault("response", [])
    session.headers.update(headers)
    hooks.append(hook)
    try:
        data: bytes = http.get(url, allow_private=allow_private)
    finally:
        hooks.remove(hook)
        for name in headers:
            session.headers.pop(name, None)
    return answer.get("status", 200), data, answer.get("etag"), answer.get("modified")


def after_run(source: Source, ok: bool) -> None:
    """Keep the validators and fetched keys of a run that stored its entries."""
    state = state_of(source)
    pending, state.pending = state.pending, None
    if not ok or pending is None:
        return
    etag, modified, keys = pending
    with _LOCK:
        state.etag, state.modified = etag, modified
        for key in keys:
            state.seen[key] = None
        while len(state.seen) > SEEN_MAX:
            state.seen.popitem(last=False)


def bundle(messages: list[dict[str, str]], *, not_modified: bool = False) -> bytes:
    doc = {"jma_bundle": 1, "not_modified": not_modified, "messages": messages}
    return json.dumps(doc, ensure_ascii=False).encode()


def unbundle(data: bytes) -> list[tuple[str, bytes, str | None]] | None:
    """A bundle's messages as (URL, bytes, fetch error); None when ``data`` is one message."""
    if not data.startswith(_BUNDLE):
        return None
    doc = json.loads(data)
    return [
        (m["url"], base64.b64decode(m.get("data", "")), m.get("error")) for m in doc["messages"]
    ]
