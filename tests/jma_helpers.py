"""The agency's sample messages moved to a test's ``now``, and a local PULL feed server.

``moved(name, to)`` shifts every time in a sample so its ReportDateTime is ``to`` (the samples
are from 2009–2017). ``Agency`` is a local HTTP server that serves an Atom feed with an ETag
and Last-Modified, answers conditional GETs with 304, and serves the messages it lists.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from publisher.items import JST

JMA_SAMPLES = Path(__file__).parent / "samples" / "jma"
_TIME = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})")


def moved(name: str, to: datetime, **replace: str) -> bytes:
    """The sample ``name`` with its ReportDateTime at ``to`` (every time shifted alike), and
    any ``old=new`` text replacements (``{"<Status>通常</Status>": "<Status>訓練</Status>"}``)."""
    data = (JMA_SAMPLES / name).read_bytes()
    m = re.search(rb"<ReportDateTime>([^<]+)</ReportDateTime>", data)
    assert m, name
    delta = to - datetime.fromisoformat(m[1].decode())

    def shift(t: re.Match[bytes]) -> bytes:
        at = datetime.fromisoformat((t[1] + (b"+00:00" if t[2] == b"Z" else t[2])).decode())
        out = (at + delta).astimezone(JST if t[2] != b"Z" else at.tzinfo)
        text = out.isoformat(timespec="seconds")
        return (text.replace("+00:00", "Z") if t[2] == b"Z" else text).encode()

    data = _TIME.sub(shift, data)
    for old, new in replace.items():
        data = data.replace(old.encode(), new.encode())
    return data


def atom(entries: list[tuple[str, str, datetime]], updated: datetime) -> bytes:
    """A PULL feed like the agency's: (title, message URL, updated) per entry, newest first."""
    rows = "".join(
        f"<entry><title>{title}</title><id>{url}</id><updated>{at.isoformat()}</updated>"
        f'<author><name>気象庁</name></author><link type="application/xml" href="{url}"/>'
        '<content type="text">…</content></entry>'
        for title, url, at in sorted(entries, key=lambda e: e[2], reverse=True)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'lang="ja"><title>高頻度（随時）</title><id>urn:test:extra</id>'
        f"<updated>{updated.isoformat()}</updated>{rows}</feed>"
    ).encode()


class Agency:
    """The agency's PULL server, on loopback."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.feed = b""
        self.version = 0
        self.modified = datetime(2026, 1, 1, tzinfo=JST)
        self.log: list[tuple[str, int]] = []  # (path, status answered)
        agency = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/feed/extra.xml":
                    etag = f'"v{agency.version}"'
                    last = format_datetime(agency.modified.astimezone(tz=None), usegmt=True)
                    if self.headers.get("If-None-Match") == etag:
                        agency.log.append((self.path, 304))
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    self._send(200, agency.feed, {"ETag": etag, "Last-Modified": last})
                elif self.path in agency.files:
                    self._send(200, agency.files[self.path], {})
                else:
                    self._send(404, b"", {})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                agency.log.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def publish(self, entries: list[tuple[str, str, bytes, datetime]]) -> None:
        """List these messages (title, file name, bytes, updated) in the feed: a new version."""
        for _title, name, data, _at in entries:
            self.files[f"/data/{name}"] = data
        self.feed = atom(
            [(t, self.url(f"/data/{n}"), at) for t, n, _d, at in entries],
            max(at for *_x, at in entries),
        )
        self.version += 1
        self.modified += timedelta(minutes=1)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
