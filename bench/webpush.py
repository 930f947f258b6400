"""How fast does an approved emergency reach 10,000 Web Push subscriptions?

A temporary store (SQLite, or PostgreSQL with ``--pg URL``) with N subscriptions to the ward,
a local stand-in push service in a process of its own (so it does not share this process's
interpreter lock), and a ward-wide emergency approved through the workflow, as staff approve
one. The change listener queues one message per subscription and wakes the sender, which
encrypts each (aes128gcm: an ECDH and a key derivation per message, unavoidable in Web Push)
and posts it from a thread pool over kept-alive connections. Prints the time from approval to
the first and the last message received, the queueing time, and messages per second.

The stand-in checks the VAPID signature and decrypts every 100th message (all would make the
stand-in, not the publisher, the bottleneck on a small machine); every subscription shares one
key pair, which changes nothing on the sending side (each message still has its own ephemeral
key and salt).

    .venv/bin/python bench/webpush.py                 # N = 10,000, 16 threads
    .venv/bin/python bench/webpush.py 2000 --threads 32
    .venv/bin/python bench/webpush.py --processes 2      # encryption in 2 other processes
    .venv/bin/python bench/webpush.py --pg postgresql+psycopg://postgres@127.0.0.1/bench

Goal (issue 19): the last of 10,000 within 2 s of approval.
"""

from __future__ import annotations

import argparse
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


def stand_in(port_out: Any, private_pem: bytes, auth: bytes, threads: int) -> None:
    """The push service: 201 to everything addressed /push/<n>, checks every 100th."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import http_ece
    from cryptography.hazmat.primitives import serialization

    from tests.push_helpers import verify_vapid

    key = serialization.load_pem_private_key(private_pem, password=None)
    stats = {"count": 0, "first": 0.0, "last": 0.0, "checked": 0, "bad": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps(stats).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.monotonic()
            stats["count"] += 1
            n = stats["count"]
            stats["first"] = stats["first"] or now
            stats["last"] = now
            if n % 100 == 1:
                try:
                    verify_vapid(self.headers["Authorization"], f"http://127.0.0.1:{port}")
                    json.loads(
                        http_ece.decrypt(
                            body, private_key=key, auth_secret=auth, version="aes128gcm"
                        )
                    )
                    stats["checked"] += 1
                except Exception:
                    stats["bad"] += 1
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    port_out.put(port)
    server.serve_forever()


def stats_of(port: int) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as r:
        return dict(json.loads(r.read()))


def bench(n: int, threads: int, processes: int, pg_url: str | None) -> None:
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
    service = multiprocessing.Process(
        target=stand_in, args=(ports, pem, auth, threads), daemon=True
    )
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
        print(
            f"{n} subscriptions stored in {time.perf_counter() - t:.1f} s; {threads} threads, "
            f"{processes} encrypting processes; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        worker = webpush.sender(rt, threads=threads, processes=processes)
        worker.process_pool  # noqa: B018 (spawned and warmed at start-up, as when serving)
        worker.vapid.header(f"{origin}/push/0")  # the key is read at start-up, not per alert
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
        stats = stats_of(port)
        while stats["count"] < n and time.monotonic() < deadline:
            pause(0.05)
            stats = stats_of(port)
        first, last = stats["first"] - approved, stats["last"] - approved
        print(
            f"approval + queueing {n} messages (the listener, before the sender): {queued_s * 1000:.0f} ms"
        )
        print(f"approval → first push received: {first * 1000:.0f} ms")
        print(f"approval → last push received:  {last * 1000:.0f} ms  ({stats['count']} of {n})")
        print(f"sending rate: {stats['count'] / max(last - first, 1e-9):.0f} messages/s")
        print(f"checked (VAPID + decrypted): {stats['checked']}, refused: {stats['bad']}")
        with rt.session() as session:
            print(f"outbox: {store.states(session, item.id)}")
        worker.close()
        rt.close()
    service.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--processes", type=int, default=0, help="PUBLISHER_PUSH_PROCESSES")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (the database is reused)")
    args = parser.parse_args()
    bench(args.n, args.threads, args.processes, args.pg)


if __name__ == "__main__":
    main()
