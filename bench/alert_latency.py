"""How fast does an emergency reach every connected screen?

Starts ``publisher serve`` (gunicorn, gthread) on a free loopback port with a temporary SQLite
store and the ward's screens, opens N server-sent-event streams spread over the screens, posts
a ward-wide emergency alert with an admin token, and measures, for each stream, the time from
the POST being sent to its ``event: playlist`` arriving. Prints p50, p99 and max, how long the
POST itself took, and the server's resident memory before and after the streams connected.

    .venv/bin/python bench/alert_latency.py            # N = 112 and 1,000
    .venv/bin/python bench/alert_latency.py 300        # any N

Goal (issue 3): p99 < 250 ms at 112 streams, < 1 s at 1,000.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PUBLISHER = str(BIN / "publisher")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run(
        [PUBLISHER, *args], env=env, input=stdin, capture_output=True, text=True, check=True
    )
    return out.stdout


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn master + worker), in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def wait_up(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                if b"200" in s.recv(100):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not come up")


def open_streams(port: int, paths: list[str]) -> tuple[selectors.DefaultSelector, dict]:
    sel = selectors.DefaultSelector()
    state: dict[socket.socket, dict] = {}
    for path in paths:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = {"buf": b"", "hello": False, "at": None}
    return sel, state


def pump(sel: selectors.DefaultSelector, state: dict, until: str, timeout: float) -> None:
    """Read every stream until each has seen ``until`` (hello or playlist) or time is up."""
    end = time.monotonic() + timeout
    key = "hello" if until == "hello" else "at"
    while time.monotonic() < end and not all(st[key] for st in state.values()):
        for k, _ in sel.select(timeout=0.05):
            s = k.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            now = time.perf_counter()
            st = state[s]
            st["buf"] += data
            if not st["hello"] and b"event: hello" in st["buf"]:
                st["hello"] = True
            if st["at"] is None and b"event: playlist" in st["buf"]:
                st["at"] = now
            if len(st["buf"]) > 65536:
                st["buf"] = st["buf"][-1024:]


def bench(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = dict(os.environ)
        env.update(
            PUBLISHER_DATA_DIR=tmp,
            PUBLISHER_DATABASE_URL=f"sqlite:///{tmp}/publisher.db",
            PUBLISHER_BASE_URL=f"http://127.0.0.1:{port}",
            PUBLISHER_THREADS=str(n + 64),
        )
        run(["init"], env)
        run(["users", "create", "bench-admin", "--role", "admin", "--area", "setagaya",
             "--password-stdin"], env, "correct horse battery\n")  # fmt: skip
        token = run(["tokens", "create", "bench-admin"], env).strip().splitlines()[-1]
        screens = json.loads(run(["screens", "--json"], env))
        server = subprocess.Popen(
            [PUBLISHER, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(port)
            rss_idle = rss_mb(server.pid)
            paths = []
            for i in range(n):
                s = screens[i % len(screens)]
                query = s["player_url"].split("?", 1)[1]
                paths.append(f"/api/screens/{s['id']}/events?{query}")
            t = time.perf_counter()
            sel, state = open_streams(port, paths)
            pump(sel, state, "hello", 120)
            connected = sum(st["hello"] for st in state.values())
            connect_s = time.perf_counter() - t
            time.sleep(1.0)
            rss_streams = rss_mb(server.pid)

            body = json.dumps(
                {
                    "kind": "alert",
                    "priority": "emergency",
                    "title": {"ja": "【訓練】世田谷区全域に避難指示（警戒レベル4）"},
                    "targets": ["setagaya"],
                    "drill": True,
                }
            ).encode()
            request = (
                f"POST /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            poster = socket.create_connection(("127.0.0.1", port))
            posted = time.perf_counter()
            poster.sendall(request)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += poster.recv(4096)
            post_s = time.perf_counter() - posted
            poster.close()
            if b" 201 " not in answer.split(b"\r\n", 1)[0]:
                raise SystemExit(f"the POST failed: {answer[:200]!r}")
            pump(sel, state, "playlist", 30)
            rss_after = rss_mb(server.pid)
            got = sorted((st["at"] - posted) * 1000 for st in state.values() if st["at"])
            for s in state:
                s.close()
        finally:
            server.terminate()
            server.wait(10)
    missing = n - len(got)
    q = statistics.quantiles(got, n=100) if len(got) > 1 else got * 99
    print(
        f"N={n:>5}: {connected}/{n} streams connected in {connect_s:.1f} s; "
        f"POST answered in {post_s * 1000:.0f} ms; alert received by {len(got)}/{n} "
        f"(missing {missing})"
    )
    if got:
        print(
            f"         latency from POST: p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, "
            f"max {got[-1]:.0f} ms"
        )
    print(
        f"         server RSS: {rss_idle:.0f} MB idle, {rss_streams:.0f} MB with streams, "
        f"{rss_after:.0f} MB after the alert"
    )


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [112, 1000]
    for n in sizes:
        bench(n)


if __name__ == "__main__":
    main()
