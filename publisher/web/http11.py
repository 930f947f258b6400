"""HTTP/1.1 for :mod:`publisher.web.server`: the request head, the WSGI environ, the answer.

Strict and small: a request line, at most ``max_headers`` header fields, a body only with a
``Content-Length``; anything else is an :class:`HttpError` whose message says what was wrong.
The app runs in a thread (:func:`call_app`) and its whole answer comes back as bytes;
:class:`AccessLog` writes the access log from a thread of its own.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)
access_log = logging.getLogger("publisher.access")

ACCESS_LOG_EVERY_S = 0.25


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-case names
    peer: tuple[str, int]
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def simple_response(
    status: int, message: str, *, close: bool = True, extra: dict[str, str] | None = None
) -> bytes:
    body = (message + "\n").encode()
    head = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        f"Connection: {'close' if close else 'keep-alive'}",
        *(f"{k}: {v}" for k, v in (extra or {}).items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def parse_head(head: bytes, peer: tuple[str, int], max_headers: int) -> Request:
    """The request line and headers; 400 with the reason for anything malformed."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "the request head is not text") from None
    lines = text.split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)  # RFC 9112 §2.2: ignore empty lines before the request line
    if not lines:
        raise HttpError(400, "empty request")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"malformed request line {lines[0][:80]!r}")
    method, target, version = parts
    if not method.isalpha() or not method.isupper():
        raise HttpError(400, f"malformed method {method[:20]!r}")
    if not target.startswith("/"):
        raise HttpError(400, "the request target must be a path starting with /")
    headers: dict[str, str] = {}
    count = 0
    for line in lines[1:]:
        if not line:
            continue
        count += 1
        if count > max_headers:
            raise HttpError(431, f"more than {max_headers} header fields")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise HttpError(400, f"malformed header line {line[:80]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if "content-length" in headers and "," in headers["content-length"]:
        raise HttpError(400, "more than one Content-Length")
    return Request(method, target, version, headers, peer)


def wsgi_environ(request: Request, host: str, port: int) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(request.path, encoding="latin-1"),
        "QUERY_STRING": request.query,
        "RAW_URI": request.target,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": request.peer[0],
        "REMOTE_PORT": str(request.peer[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key == "CONTENT_LENGTH":
            environ["CONTENT_LENGTH"] = value
        elif "_" not in name:  # X_Forwarded_For must not pose as X-Forwarded-For
            environ[f"HTTP_{key}"] = value
    return environ


def call_app(app: Callable[..., Any], environ: dict[str, Any], request: Request) -> bytes:
    """Run the WSGI app in this (lane) thread; the whole answer as bytes for the loop."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    try:
        result = app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return simple_response(500, "internal error; it has been logged")
    status, headers = started
    body = b"".join(chunks)
    code = int(status.split(" ", 1)[0])
    names = {k.lower() for k, _ in headers}
    out = [f"HTTP/1.1 {status}"]
    out += [f"{k}: {v}" for k, v in headers if k.lower() not in ("connection", "content-length")]
    if code >= 200 and code not in (204, 304):
        length = len(body)
        if request.method == "HEAD" and "content-length" in names:
            length = int(next(v for k, v in headers if k.lower() == "content-length"))
        out.append(f"Content-Length: {length}")
    out.append(f"Connection: {'keep-alive' if request.keep_alive else 'close'}")
    if request.method == "HEAD" or code in (204, 304):
        body = b""
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body


def access_line(request: Request, answer: bytes, size: int | None = None) -> str:
    """One access-log line: address, method, path and status, never the query string (a
    screen's token or a resident's search never reaches a log file)."""
    status = answer[9:12].decode("ascii", "replace") if answer.startswith(b"HTTP/") else "-"
    return f'{request.peer[0]} "{request.method} {request.path} {request.version}" {status} {len(answer) if size is None else size}'


class AccessLog:
    """Access-log lines, written by a thread of their own every :data:`ACCESS_LOG_EVERY_S`: the
    loop hands a line over and goes on; it never waits for a log file or a pipe."""

    def __init__(self) -> None:
        self._lines: deque[tuple[Request, bytes, int]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, request: Request, answer: bytes) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        self._lines.append((request, answer[:12], len(answer)))  # the status, the size
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="publisher-access", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(ACCESS_LOG_EVERY_S):
            self.flush()
        self.flush()

    def flush(self) -> None:
        while self._lines:
            request, status, size = self._lines.popleft()
            access_log.info(access_line(request, status, size))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
