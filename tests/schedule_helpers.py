"""Test doubles for scheduling and delivery: a clock we move by hand, a recording push, a
bundle builder writing small fake bundles, and a LOCAL screen endpoint speaking the http
delivery protocol (port 0, never the internet)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote


class FakeClock:
    """``clock()`` returns a time the test sets and advances; nothing sleeps."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


class RecordingPush:
    """Stands in for the push hub: remembers which items it heard about, and when (wall time)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, set[int]]] = []
        self.heard = threading.Condition()

    def __call__(self, rt: Any, ids: set[int]) -> None:
        with self.heard:
            self.calls.append((time.time(), set(ids)))
            self.heard.notify_all()

    def wait_for(self, item_id: int, count: int = 1, timeout: float = 5.0) -> list[float]:
        """Wall times at which ``item_id`` was pushed, once it was pushed ``count`` times."""
        deadline = time.time() + timeout
        with self.heard:
            while True:
                times = [t for t, ids in self.calls if item_id in ids]
                if len(times) >= count or time.time() >= deadline:
                    return times
                self.heard.wait(max(0.0, deadline - time.time()))


class FakeBundles:
    """A bundle builder: numbered 'slides' (bytes), a manifest with a content version, SMIL."""

    def __init__(self, slides: dict[str, bytes] | None = None):
        self.slides = dict(slides or {"001.png": b"slide one", "002.png": b"slide two"})
        self.builds = 0

    def __call__(self, rt: Any, screen_id: str, at: datetime, out_dir: Path) -> Path:
        self.builds += 1
        files = {name: hashlib.sha256(data).hexdigest() for name, data in self.slides.items()}
        version = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        folder = out_dir / screen_id
        folder.mkdir(parents=True)
        for name, data in self.slides.items():
            (folder / name).write_bytes(data)
        (folder / "playlist.smil").write_text(f"<smil><!-- {version} --></smil>")
        (folder / "manifest.json").write_text(
            json.dumps({"version": version, "screen": screen_id, "files": files})
        )
        return folder


class ScreenEndpoint:
    """A signage player's bundle endpoint on 127.0.0.1:<free port>.

    ``failing = True`` answers 503 to everything. It applies a version once: ``applied`` lists
    every version it switched to, ``requests`` every call it received.
    """

    def __init__(self) -> None:
        self.failing = False
        self.files: dict[str, bytes] = {}
        self.applied: list[str] = []
        self.requests: list[tuple[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def do_POST(self) -> None:
                body = self._body()
                endpoint.requests.append(("POST", self.path))
                if endpoint.failing:
                    return self._answer(503, {"error": "busy"})
                data = json.loads(body)
                if self.path == "/bundle":
                    if data["version"] in endpoint.applied[-1:]:
                        return self._answer(200, {"applied": True})
                    missing = [
                        f["name"]
                        for f in data["files"]
                        if hashlib.sha256(endpoint.files.get(f["name"], b"")).hexdigest()
                        != f["sha256"]
                    ]
                    return self._answer(200, {"missing": missing})
                if self.path == "/bundle/commit":
                    if data["version"] not in endpoint.applied[-1:]:
                        endpoint.applied.append(data["version"])
                    return self._answer(200, {"ok": True})
                return self._answer(404)

            def do_PUT(self) -> None:
                body = self._body()
                endpoint.requests.append(("PUT", self.path))
                if endpoint.failing:
                    return self._answer(503)
                name = unquote(self.path.removeprefix("/bundle/files/"))
                if hashlib.sha256(body).hexdigest() != self.headers["X-Content-SHA256"]:
                    return self._answer(400, {"error": "checksum"})
                endpoint.files[name] = body
                return self._answer(200, {"stored": name})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bundle"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ScreenEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
