"""How fast does an approved emergency reach 10,000 Web Push subscriptions?

A temporary store (SQLite, or PostgreSQL with ``--pg URL``) with N subscriptions to the ward,
a local stand-in push service in a process of its own, and a ward-wide emergency approved
through the workflow, as staff approve one. The change listener queues one message per
subscription and wakes the sender, which prepares each and hands batches to the fan-out
processes (by default one per core, as ``publisher serve`` does), which encrypt each message
(aes128gcm: an ECDH and a key derivation per message, unavoidable in Web Push) and post it over
kept-alive connections. Prints the time from approval to the first and the last message
received, the queueing time, and messages per second.

After the clock stops, every message is checked as a push service and a phone would: its VAPID
signature, then decryption. Every subscription shares one key pair, which changes nothing on
the sending side (each message still has its own ephemeral key and salt).

    .venv/bin/python bench/webpush.py                   # N = 10,000, one process per core
    .venv/bin/python bench/webpush.py --processes 0     # this process's threads only
    .venv/bin/python bench/webpush.py --pg postgresql+psycopg://postgres@127.0.0.1/bench

Goal (issue 19): the last of 10,000 within 2 s of approval.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def stand_in(port_out: Any, keep: Any) -> None:
    """The push service: 201 to every POST, its arrival time noted; GET gives the figures, and
    ``GET /messages`` the (Authorization, body) of each, checked after the clock has stopped.

    asyncio, not http.server: a real push service runs on other machines, so the stand-in
    should take as little of these cores as it can (a thread per connection and
    ``http.server``'s parsing took about a core of their own)."""
    import asyncio

    stats = {"count": 0, "first": 0.0, "last": 0.0}
    received: list[tuple[bytes, bytes]] = []

    class Service(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head = self.buffer[:end].split(b"\r\n")
                fields = dict(line.split(b": ", 1) for line in head[1:])
                length = int(fields.get(b"Content-Length", b"0"))
                if len(self.buffer) < end + 4 + length:
                    return
                body = self.buffer[end + 4 : end + 4 + length]
                self.buffer = self.buffer[end + 4 + length :]
                if head[0].startswith(b"GET"):
                    data = (
                        json.dumps(
                            [[a.decode(), base64.b64encode(b).decode()] for a, b in received]
                        )
                        if head[0].startswith(b"GET /messages")
                        else json.dumps(stats)
                    ).encode()
                    self.transport.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data
                    )
                    continue
                now = time.monotonic()
                stats["count"] += 1
                stats["first"] = stats["first"] or now
                stats["last"] = now
                if keep:
                    received.append((fields.get(b"Authorization", b""), body))
                self.transport.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(
            Service, "127.0.0.1", 0, backlog=1024
        )
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


def get(port: int, path: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as r:
        return json.loads(r.read())


def check_all(port: int, private_pem: bytes, auth: bytes, n: int) -> tuple[int, int]:
    """Every message as a real push service and phone would: VAPID, then decryption."""
    import http_ece
    from cryptography.hazmat.primitives import serialization

    from tests.push_helpers import verify_vapid

    key = serialization.load_pem_private_key(private_pem, password=None)
    checked = bad = 0
    verified: set[str] = set()
    for authorization, body in get(port, "/messages"):
        try:
            if authorization not in verified:  # one signature per push service and half-day
                verify_vapid(authorization, f"http://127.0.0.1:{port}")
                verified.add(authorization)
            raw = base64.b64decode(body)
            json.loads(
                http_ece.decrypt(raw, private_key=key, auth_secret=auth, version="aes128gcm")
            )
            checked += 1
        except Exception:
            bad += 1
    return checked, bad


def bench(n: int, threads: int, processes: int | None, pg_url: str | None) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy import insert

    from publisher.config import load_settings
    from publisher.deliver import webpush
    from publisher.runtime import Runtime
    from publisher.store import push as store
    from publisher.store import staff, workflow
    from publisher.store.content import sync_tree
    from publisher.store.models import PushSubscriptionRow
    from tests.factories import pause
    from tests.push_helpers import b64encode

    browser_key = ec.generate_private_key(ec.SECP256R1())
    pem = browser_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    auth = secrets.token_bytes(16)
    p256dh = b64encode(
        browser_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    ports: Any = multiprocessing.Queue()
    service = multiprocessing.Process(target=stand_in, args=(ports, True), daemon=True)
    service.start()
    port = ports.get(timeout=20)
    origin = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {},
            DATA_DIR=Path(tmp),
            DATABASE_URL=pg_url or f"sqlite:///{tmp}/bench.db",
            BASE_URL="https://signage.example.jp",
            SECRET_KEY="bench",
            PUSH_SERVICES=origin,
        )
        rt = Runtime(settings)
        rt.db.migrate()
        with rt.session() as session:
            sync_tree(session, rt.tree)
            session.execute(PushSubscriptionRow.__table__.delete())
        t = time.perf_counter()
        created = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [
            {"endpoint": f"{origin}/push/{i}", "p256dh": p256dh, "auth": b64encode(auth),
             "area_code": rt.tree.ward_code, "lang": ("ja", "en", "ko")[i % 3],
             "choice": "alerts", "created_at": created}
            for i in range(n)
        ]  # fmt: skip
        with rt.session() as session:
            for start in range(0, n, 2000):
                session.execute(insert(PushSubscriptionRow), rows[start : start + 2000])
        if processes is None:
            processes = webpush.fan_out_processes(settings)
        print(
            f"{n} subscriptions stored in {time.perf_counter() - t:.1f} s; {threads} threads, "
            f"{processes} fan-out processes; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        worker = webpush.sender(rt, threads=threads, processes=processes)
        worker.warm()  # as `publisher serve` does at start-up when there are subscriptions
        alert = {
            "kind": "alert",
            "priority": "emergency",
            "title": {"ja": "避難指示 世田谷区全域", "en": "Evacuation order: all of Setagaya"},
            "body": {"ja": "直ちに避難してください。", "en": "Evacuate now."},
            "targets": [rt.tree.ward_code],
        }
        warm = dict(alert, priority="high", title={"ja": "準備"}, body={"ja": "準備"})
        with rt.session() as session:  # a process's first approval loads what approving needs
            workflow.create(
                session, rt.tree, staff.operator(rt.tree), dict(warm, targets=["setagaya/kitazawa"])
            )
        approved = time.monotonic()
        with rt.session() as session:
            item = workflow.create(session, rt.tree, staff.operator(rt.tree), alert)
        queued_s = time.monotonic() - approved
        deadline = approved + 120
        stats = get(port, "/stats")
        while stats["count"] < n and time.monotonic() < deadline:
            pause(0.05)
            stats = get(port, "/stats")
        first, last = stats["first"] - approved, stats["last"] - approved
        print(
            f"approval + queueing {n} messages (the listener, before the sender): {queued_s * 1000:.0f} ms"
        )
        print(f"approval → first push received: {first * 1000:.0f} ms")
        print(f"approval → last push received:  {last * 1000:.0f} ms  ({stats['count']} of {n})")
        print(f"sending rate: {stats['count'] / max(last - first, 1e-9):.0f} messages/s")
        checked, bad = check_all(port, pem, auth, n)
        print(f"checked afterwards (VAPID + decrypted): {checked}, refused: {bad}")
        with rt.session() as session:
            print(f"outbox: {store.states(session, item.id)}")
        worker.close()
        rt.close()
    service.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads that send batches under 500 (webpush.THREADS)",
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="PUBLISHER_PUSH_PROCESSES (default: per core)"
    )
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (the database is reused)")
    args = parser.parse_args()
    bench(args.n, args.threads, args.processes, args.pg)


if __name__ == "__main__":
    main()
