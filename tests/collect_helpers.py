"""A local HTTP server standing in for upstream sources (never the internet).

``upstream.serve("/news.rss", body)`` publishes a document; ``upstream.url("/news.rss")`` is
its URL. Special routes misbehave on purpose: ``/error`` answers 500, ``/loop`` redirects to
itself, ``/huge`` streams more than the size limit without a Content-Length, ``/slow`` never
answers until the test ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


class Upstream:
    def __init__(self) -> None:
        self.documents: dict[str, tuple[int, bytes, str]] = {}
        self.release = threading.Event()
        self.requests: list[tuple[str, str]] = []  # (path, user agent)
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                upstream.requests.append((self.path, self.headers.get("User-Agent", "")))
                if self.path == "/loop":
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/slow":
                    upstream.release.wait(30)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/huge":
                    self.send_response(200)
                    self.end_headers()
                    chunk = b"x" * 65536
                    try:
                        for _ in range(6 * 1024 * 1024 // len(chunk) + 2):
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                elif self.path in upstream.documents:
                    status, body, ctype = upstream.documents[self.path]
                    self.send_response(status)
                    if 300 <= status < 400:  # a redirect: the body is where to
                        self.send_header("Location", body.decode())
                        body = b""
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    status = 500 if self.path == "/error" else 404
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, path: str, body: bytes, *, status: int = 200, ctype: str = "text/plain") -> str:
        self.documents[path] = (status, body, ctype)
        return self.url(path)

    def serve_sample(self, name: str) -> str:
        return self.serve("/" + name, (SAMPLES / name).read_bytes())

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture(name="upstream")
def upstream_server() -> Iterator[Upstream]:
    server = Upstream()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
