"""What the push and load benchmarks share: a ward with N screens, servers, streams, clients.

Loopback only. Connections are spread over many 127.x.y.z source addresses, as screens behind
many lobbies' NATs would be, so the server's per-address cap applies as it would in a ward.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
PUBLISHER = str(BIN / "publisher")
PER_SOURCE_ADDRESS = 200  # streams per client address (under the server's default cap of 500
PG_URL = os.environ.get(
    "PUBLISHER_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

ALERT = {
    "kind": "alert",
    "priority": "emergency",
    "title": {"ja": "【訓練】世田谷区全域に避難指示（警戒レベル4）"},
    "targets": ["setagaya"],
    "drill": True,
}


def raise_files(wanted: int = 1 << 20) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def source_address(i: int) -> str:
    block = i // PER_SOURCE_ADDRESS
    return f"127.{10 + block // 250}.{block % 250}.{1 + i % 7}"


def ward_areas() -> tuple[str, dict[str, str]]:
    """The ward's areas without its screens (TOML text) and each district's region."""
    text = (REPO / "displays" / "setagaya.toml").read_text()
    text = text[: text.index("[[screens]]")]
    regions = {}
    for block in text.split("[districts.")[1:]:
        name = block.split("]", 1)[0]
        regions[name] = block.split('region = "', 1)[1].split('"', 1)[0]
    return text, regions


def area_codes() -> list[str]:
    _, regions = ward_areas()
    return ["setagaya", *sorted({f"setagaya/{r}" for r in regions.values()}),
            *sorted(f"setagaya/{r}/{d}" for d, r in regions.items())]  # fmt: skip


def ward_with_screens(folder: Path, n: int) -> Path:
    """displays/ with the ward's areas and ``n`` browser screens spread over its districts."""
    out = folder / "displays"
    out.mkdir(parents=True, exist_ok=True)
    text, regions = ward_areas()
    districts = list(regions)
    lines = [text]
    for i in range(n):
        d = districts[i % len(districts)]
        lines.append(
            f'[[screens]]\nid = "s{i:05d}"\narea = "setagaya/{regions[d]}/{d}"\n'
            f'size = "1920x1080"\nlocation = "lobby {i}"\nlanguages = ["ja", "en"]\n'
            'delivery = "pull"\n'
        )
    (out / "setagaya.toml").write_text("\n".join(lines))
    return out


def publisher(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    out = subprocess.run(
        [PUBLISHER, *args], env=env, input=stdin, capture_output=True, text=True, check=True
    )
    return out.stdout


class Ward:
    """A temporary data folder, database and ward with ``n`` screens, ready to serve."""

    def __init__(self, tmp: Path, n_screens: int, postgres: bool = False, demo: bool = False):
        self.tmp = tmp
        self.env = dict(os.environ)
        self.db_name = ""
        url = f"sqlite:///{tmp}/publisher.db"
        if postgres:
            url = self._private_database()
        self.env.update(
            PUBLISHER_DATA_DIR=str(tmp),
            PUBLISHER_DATABASE_URL=url,
            PUBLISHER_DISPLAYS_DIR=str(ward_with_screens(tmp, n_screens)),
            PUBLISHER_CONTENT_DIR=str(self._content(tmp)),
            PUBLISHER_SCHEDULER="off",
        )
        publisher(["init", "--demo"] if demo else ["init"], self.env)
        publisher(["users", "create", "bench-admin", "--role", "admin", "--area", "setagaya",
                   "--password-stdin"], self.env, "correct horse battery\n")  # fmt: skip
        self.token = publisher(["tokens", "create", "bench-admin"], self.env).split()[-1]
        # `publisher init` saved each new screen's player URL once (only hashes are stored)
        urls = [
            line.split(" ", 1)
            for line in (tmp / "screen-urls.txt").read_text().splitlines()
            if not line.startswith("#")
        ]
        self.paths = [
            f"/api/screens/{sid}/events?{url.split('?', 1)[1]}" for sid, url in sorted(urls)
        ]
        self.servers: list[subprocess.Popen] = []

    @staticmethod
    def _content(tmp: Path) -> Path:
        content = tmp / "content"
        shutil.copytree(REPO / "content", content)
        (content / "sources.toml").write_text("")  # no collection from the internet
        return content

    def _private_database(self) -> str:
        import psycopg

        self.db_name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = PG_URL.replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.db_name}")
        return PG_URL.rsplit("/", 1)[0] + "/" + self.db_name

    def serve(self, port: int, **env: str) -> subprocess.Popen:
        server = subprocess.Popen(
            [PUBLISHER, "serve", "--port", str(port)],
            env={**self.env, **env, "PUBLISHER_BASE_URL": f"http://127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.servers.append(server)
        wait_up(port)
        return server

    def worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [PUBLISHER, "worker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.servers.append(worker)
        return worker

    def close(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if self.db_name:
            import psycopg

            with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine_load() -> str:
    """The machine's load averages: on a shared machine, read every figure beside them."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min), {os.cpu_count()} cores"


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_up(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                if b"200" in s.recv(100):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not come up")


PLAYLIST_EVENT = b"event: playlist"


class Streams:
    """Many SSE streams read by one selector: when each saw ``hello`` and ``playlist``."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.state: dict[socket.socket, dict] = {}
        self.opened = 0
        self.since = 0.0  # an ``event: playlist`` counts from this perf_counter() time on

    def open(self, port: int, paths: list[str], pump_every: int = 200) -> None:
        for path in paths:
            s = socket.socket()
            s.bind((source_address(self.opened), 0))
            s.connect(("127.0.0.1", port))
            s.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.state[s] = {"buf": b"", "hello": False, "at": None, "closed": False, "tail": b""}
            self.opened += 1
            if self.opened % pump_every == 0:
                self.pump("none", 0)

    def pump(self, until: str, timeout: float) -> None:
        """Read until every stream saw ``until`` (hello/playlist) or ``timeout`` s passed."""
        end = time.monotonic() + timeout
        key = "hello" if until == "hello" else "at"
        while True:
            for k, _ in self.sel.select(timeout=0.02):
                s = k.fileobj
                st = self.state[s]
                try:
                    data = s.recv(65536)
                except (BlockingIOError, ConnectionError):
                    continue
                now = time.perf_counter()
                if not data:
                    st["closed"] = True
                    self.sel.unregister(s)
                    continue
                st["buf"] += data
                if not st["hello"] and b"event: hello" in st["buf"]:
                    st["hello"] = True
                seen = st["tail"] + data  # an event's name may come in two parts
                st["tail"] = seen[-(len(PLAYLIST_EVENT) - 1) :]
                if st["at"] is None and PLAYLIST_EVENT in seen and now >= self.since:
                    st["at"] = now
                if len(st["buf"]) > 65536:
                    st["buf"] = st["buf"][-1024:]
            if time.monotonic() >= end:
                return
            if until != "none" and all(st[key] or st["closed"] for st in self._waiting(key)):
                return

    def _waiting(self, key: str) -> list[dict]:
        """The streams still waiting for ``key`` (kept short, so checking is cheap while
        ten thousand events arrive: the client's own work is in every figure)."""
        left = self.__dict__.setdefault("_left", {})
        if key not in left:
            left[key] = list(self.state.values())
        left[key] = [st for st in left[key] if not (st[key] or st["closed"])]
        return left[key]

    def forget_playlists(self, since: float = 0.0) -> None:
        """Wait for the next ``event: playlist`` on every stream (at or after ``since``, a
        ``perf_counter()`` time), as if none had come."""
        self.since = since
        for st in self.state.values():
            st["at"] = None
        self.__dict__.pop("_left", None)

    def connected(self) -> int:
        return sum(st["hello"] and not st["closed"] for st in self.state.values())

    def latencies_ms(self, since: float) -> list[float]:
        return sorted((st["at"] - since) * 1000 for st in self.state.values() if st["at"])

    def close(self) -> None:
        for s in self.state:
            s.close()


def post(port: int, token: str, body: dict, path: str = "/api/items") -> tuple[float, float, bytes]:
    """(sent at, seconds to the answer, status line)."""
    data = json.dumps(body).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data
    with socket.create_connection(("127.0.0.1", port)) as s:
        sent = time.perf_counter()
        s.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        took = time.perf_counter() - sent
    return sent, took, answer.split(b"\r\n", 1)[0]


def quantiles(ms: list[float]) -> str:
    if not ms:
        return "no data"
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return f"p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms"


CLIENTS_NICE = 10  # the readers' process: below the server, as other machines would be


def readers(
    port: int, paths: list[str], connections: int, seconds: float, out: Any, nice: int = 0
) -> None:
    """(A process) ``connections`` keep-alive clients, each asking the next of ``paths`` as
    soon as its last answer is in, for ``seconds``; puts {status: count} and answer times.

    ``nice``: the readers stand for residents' browsers on other machines; here they share the
    server's cores, and at the same priority they take as much CPU as the server itself (they
    ask again the moment they are answered). Niced, they still ask as fast as they are
    answered, with the CPU the server leaves."""
    raise_files()
    if nice:
        os.nice(nice)
    sel = selectors.DefaultSelector()
    statuses: dict[int, int] = {}
    times: list[float] = []

    def start(i: int) -> None:
        s = socket.socket()
        s.bind((source_address(50000 + i), 0))
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        st = {"i": i, "buf": b"", "sent": 0.0, "need": None}
        sel.register(s, selectors.EVENT_READ, st)
        ask(s, st)

    def ask(s: socket.socket, st: dict) -> None:
        path = paths[st["i"] % len(paths)]
        st["i"] += connections
        st["buf"], st["need"], st["sent"] = b"", None, time.perf_counter()
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())

    for i in range(connections):
        start(i)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in sel.select(0.05):
            s, st = key.fileobj, key.data
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                statuses[0] = statuses.get(0, 0) + 1  # closed by the server
                start(st["i"])
                continue
            st["buf"] += data
            if st["need"] is None and b"\r\n\r\n" in st["buf"]:
                head, rest = st["buf"].split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                st["need"] = len(head) + 4 + length
                st["status"] = int(head.split(b" ", 2)[1])
                st["close"] = b"connection: close" in head.lower()
            if st["need"] is not None and len(st["buf"]) >= st["need"]:
                statuses[st["status"]] = statuses.get(st["status"], 0) + 1
                times.append((time.perf_counter() - st["sent"]) * 1000)
                if st["close"]:
                    sel.unregister(s)
                    s.close()
                    start(st["i"])
                else:
                    ask(s, st)
    out.put((statuses, sorted(times)))


def slow_clients(port: int, n: int, every_s: float, stop: Any, out: list) -> None:
    """(A thread) ``n`` clients sending one header line every ``every_s`` seconds, forever
    (reconnecting when dropped); counts how often the server dropped one."""
    socks: list[socket.socket | None] = [None] * n
    dropped = 0
    while not stop.is_set():
        for i in range(n):
            s = socks[i]
            try:
                if s is None:
                    s = socket.socket()
                    s.bind((source_address(80000 + i), 0))
                    s.connect(("127.0.0.1", port))
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    socks[i] = s
                elif answered(s):  # a 408, or closed: dropped
                    dropped += 1
                    s.close()
                    socks[i] = None
                else:
                    s.sendall(f"X-Slow-{int(time.time())}: 1\r\n".encode())
            except OSError:
                dropped += 1
                if s is not None:
                    s.close()
                socks[i] = None
        stop.wait(every_s)
    for s in socks:
        if s is not None:
            s.close()
    out.append(dropped)


def answered(s: socket.socket) -> bool:
    try:
        s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
    except BlockingIOError:
        return False
    except OSError:
        pass
    return True


def prober(port: int, every_s: float, stop: Any, out: Any, path: str = "/healthz") -> None:
    """(A process, as a monitor is) ``probe`` every ``every_s`` s until ``stop`` is set; puts
    ([(ms, status), ...], [ms late, ...]). Its own process, so the bench's other clients do not
    delay it. "Late": how much later than asked this process woke from each wait, the machine's
    own delay for a process that has work (which no server on it can answer faster than)."""
    got, late = [], []
    while not stop.is_set():
        got.append(probe(port, path))
        t = time.perf_counter()
        stop.wait(every_s)
        late.append(max(0.0, (time.perf_counter() - t - every_s) * 1000))
    out.put((got, sorted(late)))


def probe(port: int, path: str = "/healthz") -> tuple[float, int]:
    """(ms, status) of one GET on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        t = time.perf_counter()
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = s.recv(4096)
        ms = (time.perf_counter() - t) * 1000
    return ms, int(answer.split(b" ", 2)[1]) if answer else 0
