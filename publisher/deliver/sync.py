"""The built-in delivery targets: ``pull``, ``http`` and ``folder`` (see :mod:`.base`).

``http`` speaks a four-step protocol with the player at the screen's ``endpoint``:

1. ``POST {endpoint}`` with the offer ``{"version", "manifest", "files": [{"name", "size",
   "sha256"}]}``; the player answers ``{"missing": ["003.png", ...]}`` (files it lacks), or
   ``{"applied": true}`` when that version is already what it plays.
2. ``PUT {endpoint}/files/<name>`` with the bytes of each missing file (headers
   ``X-Bundle-Version`` and ``X-Content-SHA256``).
3. ``POST {endpoint}/commit`` with ``{"version": ...}``: the player switches to the version
   atomically; committing a version it already plays changes nothing.

Any answer but 2xx, or no answer, is a :class:`DeliveryError` and the whole offer is retried
later; files that arrived stay, so a retry sends only what is still missing.

``folder`` writes the bundle into a fresh sibling directory and swaps a symbolic link at the
screen's ``folder`` path to it with one ``rename`` (atomic on POSIX), so a player reading the
folder sees the old bundle or the new one, never half of one. The last few versions are kept
(and any replaced in the last two minutes) so a reader that resolved the link just before
a swap can finish reading.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from publisher import net
from publisher.deliver.base import MANIFEST, Bundle, DeliveryError, ScreenTarget, Sent, Target

HTTP_TIMEOUT_S = (5, 60)  # connect, read
HTTP_TOTAL_S = 90.0  # the whole call, however slowly the player answers
FOLDER_VERSIONS_KEPT = 3
FOLDER_VERSION_GRACE_S = 120  # a replaced version stays this long for readers still inside it


class PullTarget:
    """A browser player fetches its playlist itself; nothing is sent. The version it plays
    is recorded from its heartbeats (``screens.version_on_screen``)."""

    name = "pull"

    def send(self, screen: ScreenTarget, bundle: Bundle) -> Sent:
        return Sent(detail="pull: the screen fetches its playlist itself")


class HttpTarget:
    """Pushes the manifest, then only the files the player lacks, then commits the version."""

    name = "http"

    def __init__(self, session_factory: Any = net.session):
        self._session_factory = session_factory

    def send(self, screen: ScreenTarget, bundle: Bundle) -> Sent:
        if not screen.endpoint:
            raise DeliveryError(f"screen '{screen.id}' has delivery http but no endpoint")
        url = screen.endpoint.rstrip("/")
        with self._session_factory() as http:
            answer = _json(_call(http, "POST", url, json=bundle.offer()), url)
            if answer.get("applied") is True:
                return Sent(detail="already on the screen")
            missing = answer.get("missing", [])
            known = {f.name: f for f in bundle.files}
            if not isinstance(missing, list) or any(m not in known for m in missing):
                raise DeliveryError(f"POST {url}: 'missing' must list files of the bundle")
            sent_bytes = 0
            for name in missing:
                f = known[name]
                data = (bundle.path / name).read_bytes()
                _call(
                    http,
                    "PUT",
                    f"{url}/files/{quote(name)}",
                    data=data,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "X-Bundle-Version": bundle.version,
                        "X-Content-SHA256": f.sha256,
                    },
                )
                sent_bytes += len(data)
            _call(http, "POST", f"{url}/commit", json={"version": bundle.version})
        return Sent(len(missing), sent_bytes, f"{len(missing)} of {len(bundle.files)} files sent")


class FolderTarget:
    """Writes the bundle next to the screen's folder and swaps a symlink to it atomically."""

    name = "folder"

    def send(self, screen: ScreenTarget, bundle: Bundle) -> Sent:
        if screen.folder is None:
            raise DeliveryError(f"screen '{screen.id}' has delivery folder but no folder")
        link = screen.folder
        versions = link.parent / f".{link.name}.versions"
        final = versions / _safe(bundle.version)
        try:
            versions.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() and Path(os.readlink(link)).name == final.name:
                return Sent(detail="already in the folder")
            if not final.exists():
                tmp = versions / f".tmp-{uuid.uuid4().hex}"
                shutil.copytree(bundle.path, tmp)
                _fsync_tree(tmp)
                tmp.rename(final)
            os.utime(final)  # newest first when pruning, even for a version sent before
            if link.exists() and not link.is_symlink():
                # A plain directory from before: keep it aside once, then a link takes its place.
                link.rename(versions / f"previous-{uuid.uuid4().hex[:8]}")
            new_link = link.parent / f".{link.name}.link-{uuid.uuid4().hex}"
            new_link.symlink_to(final.relative_to(link.parent), target_is_directory=True)
            os.replace(new_link, link)
            _prune(versions, keep=final)
        except OSError as e:
            raise DeliveryError(f"{link}: cannot write the bundle: {e}") from None
        size = sum(f.size for f in bundle.files)
        return Sent(len(bundle.files), size, f"written to {link}")


TARGETS: dict[str, Target] = {
    "pull": PullTarget(),
    "http": HttpTarget(),
    "folder": FolderTarget(),
}


def _call(http: Any, method: str, url: str, **kwargs: Any) -> Any:
    with net.deadline(HTTP_TOTAL_S) as d:
        try:
            response = http.request(method, url, timeout=HTTP_TIMEOUT_S, **kwargs)
            response.content  # noqa: B018 - read the whole answer inside the deadline
        except requests.RequestException as e:
            if d.expired:
                raise DeliveryError(
                    f"{method} {url}: no answer within {HTTP_TOTAL_S:g} s"
                ) from None
            raise DeliveryError(f"{method} {url}: {type(e).__name__}: {e}") from None
    if d.expired:
        raise DeliveryError(f"{method} {url}: no complete answer within {HTTP_TOTAL_S:g} s")
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"{method} {url}: {response.status_code} {response.reason}")
    return response


def _json(response: Any, url: str) -> dict[str, Any]:
    try:
        data = response.json() if response.content else {}
    except ValueError:
        raise DeliveryError(f"POST {url}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise DeliveryError(f"POST {url}: the answer must be a JSON object")
    return data


def _safe(version: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in version)[:100] or "_"


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def _prune(versions: Path, keep: Path) -> None:
    """Keep the newest versions, and any replaced in the last two minutes: a reader may still
    be inside one."""
    dirs = sorted(
        (d for d in versions.iterdir() if d.is_dir() and not d.name.startswith(".tmp-")),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    cutoff = time.time() - FOLDER_VERSION_GRACE_S
    for old in [d for d in dirs if d != keep][FOLDER_VERSIONS_KEPT - 1 :]:
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


__all__ = ["MANIFEST", "TARGETS", "FolderTarget", "HttpTarget", "PullTarget"]
