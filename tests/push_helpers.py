"""A local stand-in for a Web Push service, and browsers' subscriptions to it.

The stand-in does what a real push service checks and what a browser does on receipt: it
verifies the VAPID ``Authorization`` (an ES256 JWT whose ``aud`` is its own origin, unexpired,
signed by the key in ``k=``) and decrypts the aes128gcm body with the subscriber's private key
(``http_ece``, RFC 8291). A message that fails either check is refused with 401/400, as a real
service would, and not recorded.

``service.answer[name] = 410`` makes the endpoint ``name`` answer that status from then on;
``service.hold = threading.Event()`` holds every request (counted in ``seen``) until it is set.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Browser:
    """One browser's push subscription: what ``PushManager.subscribe`` returns, and its keys."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64encode(raw)

    def subscription(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64encode(self.auth)},
        }


@dataclass
class Received:
    endpoint: str
    data: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() on receipt


class PushService(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.browsers: dict[str, Browser] = {}
        self.received: dict[str, list[Received]] = defaultdict(list)
        self.refused: list[tuple[str, int, str]] = []
        self.answer: dict[str, int] = {}
        self.count = 0
        self.seen = 0  # requests arrived, before any check
        self.hold: threading.Event | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def browser(self, name: str) -> Browser:
        """A new subscription at this service (keys made as a browser makes them)."""
        import secrets

        b = Browser(
            name,
            f"{self.origin}/push/{name}",
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )
        self.browsers[name] = b
        return b

    def add(self, browser: Browser) -> None:
        self.browsers[browser.name] = browser

    def messages(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r.data for r in self.received[name]]


def verify_vapid(authorization: str, origin: str) -> None:
    """Raise ValueError unless ``authorization`` is a valid VAPID header for ``origin``."""
    if not authorization.startswith("vapid "):
        raise ValueError("not a vapid Authorization")
    fields = dict(p.strip().split("=", 1) for p in authorization[6:].split(","))
    token, key = fields["t"], fields["k"]
    head, claims, signature = token.split(".")
    header = json.loads(b64decode(head))
    if header.get("alg") != "ES256":
        raise ValueError("alg is not ES256")
    body = json.loads(b64decode(claims))
    if body.get("aud") != origin:
        raise ValueError(f"aud {body.get('aud')!r} is not {origin!r}")
    if not isinstance(body.get("exp"), int) or body["exp"] < time.time():
        raise ValueError("expired")
    if body["exp"] > time.time() + 24 * 3600:
        raise ValueError("exp more than 24 hours ahead")
    if not str(body.get("sub", "")).startswith(("mailto:", "https:", "http:")):
        raise ValueError("sub is not a contact")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64decode(key))
    raw = b64decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None


class _Handler(BaseHTTPRequestHandler):
    server: PushService
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, text: str = "") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the sender went away (a test kills it)
            self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        name = self.path.rsplit("/", 1)[-1]
        service = self.server
        with service.lock:
            service.seen += 1
        if service.hold is not None:
            service.hold.wait(30)
        browser = service.browsers.get(name)
        if browser is None:
            return self._answer(404, "no such subscription")
        if name in service.answer:
            return self._answer(service.answer[name])
        try:
            verify_vapid(self.headers.get("Authorization", ""), service.origin)
        except (ValueError, KeyError) as e:
            service.refused.append((name, 401, str(e)))
            return self._answer(401, str(e))
        if self.headers.get("Content-Encoding") != "aes128gcm" or not self.headers.get("TTL"):
            service.refused.append((name, 400, "encoding or TTL"))
            return self._answer(400, "Content-Encoding aes128gcm and TTL are required")
        try:
            plain = http_ece.decrypt(
                body,
                private_key=browser.private_key,
                auth_secret=browser.auth,
                version="aes128gcm",
            )
        except Exception as e:
            service.refused.append((name, 400, f"decrypt: {e}"))
            return self._answer(400, f"cannot decrypt: {e}")
        with service.lock:
            service.count += 1
            service.received[name].append(
                Received(self.path, json.loads(plain), dict(self.headers), time.monotonic())
            )
        self._answer(201)


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()
    thread = threading.Thread(target=service.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.shutdown()
        service.server_close()
