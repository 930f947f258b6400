"""docs/deployment.md, followed on the local PostgreSQL: two web processes and one worker.

Runs only when ``PUBLISHER_TEST_DATABASE_URL`` names a PostgreSQL server; it creates a database
of its own (``publisher_deploy_test_<pid>``) and drops it afterwards. The steps are the guide's:
``publisher init``, the first admin, a token, two ``publisher serve`` with
``PUBLISHER_SCHEDULER=off`` and one ``publisher worker``, all with the same settings and the same
DATA_DIR (here one machine's directory stands for the shared storage).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from publisher.config import REPO_DIR
from tests.factories import pause

PG_URL = os.environ.get("PUBLISHER_TEST_DATABASE_URL", "")
DEADLINE_S = 60.0
COMMAND_DEADLINE_S = 120.0  # one `publisher` command (init, users, tokens) to finish
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
SITE = "signage.city.setagaya.example"

pytestmark = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"),
    reason="PUBLISHER_TEST_DATABASE_URL names no PostgreSQL server: the deployment is not run",
)


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own on the test server, dropped afterwards."""
    name = f"publisher_deploy_test_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until(what: str, check: Any, deadline_s: float = DEADLINE_S) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what`` at the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            found = check()
        except OSError:  # not listening yet (requests' errors are OSErrors too)
            found = None
        if found:
            return found
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {deadline_s:.0f} s")
        pause(0.2)


class Deployment:
    """The guide's processes, with one environment (its /etc/publisher.env)."""

    def __init__(self, database_url: str, data_dir: Path):
        self.web_ports = [free_port(), free_port()]
        self.env = {
            **os.environ,
            "PUBLISHER_DATABASE_URL": database_url,
            "PUBLISHER_BASE_URL": f"http://127.0.0.1:{self.web_ports[0]}",
            "PUBLISHER_SECRET_KEY": "deployment-test-secret",
            "PUBLISHER_DATA_DIR": str(data_dir),
            "PUBLISHER_SCHEDULER": "off",
            "PUBLISHER_THREADS": "2",
            "PUBLISHER_PROXY_HOPS": "1",
        }
        self.env.pop("PUBLISHER_SOURCES_FILE", None)
        self.logs = data_dir.parent
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_files: list[Any] = []

    def run(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-m", "publisher", *args],
            env=self.env,
            stdin=subprocess.PIPE if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # A timer, not communicate(timeout=): its wait loop calls time.sleep, which fails under
        # libfaketime (see the README's note on faketime).
        killer = threading.Timer(COMMAND_DEADLINE_S, proc.kill)
        killer.start()
        try:
            out, err = proc.communicate(stdin)
        finally:
            killer.cancel()
        late = f" (not done within {COMMAND_DEADLINE_S:.0f} s)" if proc.returncode == -9 else ""
        assert proc.returncode == 0, f"publisher {' '.join(args)}{late}: {err or out}"
        return out

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.log_files.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "publisher", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append((name, proc))

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        for _, proc in self.processes:
            proc.terminate()
        end = time.monotonic() + 20
        for _, proc in self.processes:
            while proc.poll() is None and time.monotonic() < end:
                pause(0.1)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in self.log_files:
            log.close()


class Stream:
    """A screen's push stream, read in a thread into ``received``."""

    def __init__(
        self,
        port: int,
        screen: str,
        token: str,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
    ):
        sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        self.sock = tls.wrap_socket(sock, server_hostname=host) if tls else sock
        self.sock.sendall(
            f"GET /api/screens/{screen}/events HTTP/1.1\r\nHost: {host}\r\n"
            f"X-Screen-Token: {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self.received = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.received += chunk
        except OSError:
            pass

    def events(self, kind: str) -> list[dict[str, Any]]:
        out = []
        for block in self.received.split(b"\n\n"):
            if f"event: {kind}\n".encode() in block + b"\n" and b"data: " in block:
                data = block.split(b"data: ", 1)[1].split(b"\n", 1)[0]
                try:
                    out.append(json.loads(data))
                except ValueError:
                    continue  # not all of it has arrived yet
        return out

    def close(self) -> None:
        self.sock.close()


class Nginx:
    """nginx with the guide's own configuration (docs/deployment.md's nginx block), its ports,
    certificate and upstreams replaced by the test's."""

    def __init__(self, tmp: Path, upstreams: list[int]):
        self.http_port, self.https_port = free_port(), free_port()
        cert, key = tmp / "cert.pem", tmp / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={SITE}", "-addext", f"subjectAltName=DNS:{SITE}",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.tls = ssl.create_default_context(cafile=str(cert))
        guide = (REPO_DIR / "docs" / "deployment.md").read_text(encoding="utf-8")
        block = guide.split("```nginx\n", 1)[1].split("```", 1)[0]
        servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
        block, n = re.subn(r"(?m)^ *server 127\.0\.0\.1:8001;.*\n *server 127\.0\.0\.1:8002;.*\n",
                           servers, block)  # fmt: skip
        replaced = {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "/etc/ssl/certs/signage.pem": str(cert),
            "/etc/ssl/private/signage.key": str(key),
        }
        for old, new in replaced.items():
            assert old in block, f"docs/deployment.md's nginx block no longer has {old!r}"
            block = block.replace(old, new)
        assert n == 1, "docs/deployment.md's upstream no longer lists 127.0.0.1:8001 and :8002"
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp / name).mkdir()
        conf = tmp / "nginx.conf"
        conf.write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
            "daemon off;\nevents { worker_connections 512; }\nhttp {\naccess_log off;\n"
            f"client_body_temp_path {tmp}/body;\nproxy_temp_path {tmp}/proxy;\n"
            f"fastcgi_temp_path {tmp}/fastcgi;\nuwsgi_temp_path {tmp}/uwsgi;\n"
            f"scgi_temp_path {tmp}/scgi;\n{block}\n}}\n"
        )
        self.proc = subprocess.Popen(
            [str(NGINX), "-c", str(conf), "-e", str(tmp / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def get(self, path: str, tls: bool = True) -> http.client.HTTPResponse:
        conn: http.client.HTTPConnection
        if tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.tls)
            conn.sock = self.tls.wrap_socket(
                socket.create_connection(("127.0.0.1", self.https_port), timeout=10),
                server_hostname=SITE,
            )
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        conn.request("GET", path, headers={"Host": SITE})
        answer = conn.getresponse()
        answer.body = answer.read()  # type: ignore[attr-defined]
        conn.close()
        return answer

    def stop(self) -> None:
        self.proc.terminate()
        end = time.monotonic() + 10
        while self.proc.poll() is None and time.monotonic() < end:
            pause(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_two_web_processes_and_a_worker_serve_pages_and_move_an_alert_between_them(
    database: str, tmp_path: Path
) -> None:
    deployment = Deployment(database, tmp_path / "data")
    # 3. The database: tables and screens, the first admin, a token for machines.
    out = deployment.run("init")
    assert "screens: 44 (44 changed)" in out and "database ready: postgresql" in out
    deployment.run(
        "users", "create", "admin", "--role", "admin", "--area", "setagaya", "--password-stdin",
        stdin="correct horse battery staple 7\n",
    )  # fmt: skip
    api_token = deployment.run("tokens", "create", "admin").strip().splitlines()[-1]
    urls = (tmp_path / "data" / "screen-urls.txt").read_text(encoding="utf-8")
    tokens = {
        line.split(" ", 1)[0]: line.split("token=", 1)[1]
        for line in urls.splitlines()
        if "token=" in line
    }
    screen_token = tokens["daizawa-1"]

    # 5. and 6. Two web processes without a scheduler, one worker.
    a, b = deployment.web_ports
    stream: Stream | None = None
    try:
        deployment.start("web-a", "serve", "--host", "127.0.0.1", "--port", str(a))
        deployment.start("web-b", "serve", "--host", "127.0.0.1", "--port", str(b))
        deployment.start("worker", "worker")
        for port in (a, b):
            health = until(
                f"GET /healthz on :{port}",
                lambda port=port: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5),
            )
            assert health.json()["ok"] is True
        # A page from each web process.
        for port in (a, b):
            page = requests.get(
                f"http://127.0.0.1:{port}/areas/setagaya/kitazawa/daizawa", timeout=10
            )
            assert page.status_code == 200 and "代沢" in page.text
        until("the worker leads", lambda: "became the leader" in deployment.log("worker"))
        assert "became the leader" not in deployment.log("web-a") + deployment.log("web-b")

        # A screen holds its stream on B; an alert is posted to A.
        stream = Stream(b, "daizawa-1", screen_token)
        until("the stream's hello from B", lambda: stream.events("hello"))
        created = requests.post(
            f"http://127.0.0.1:{a}/api/items",
            headers={"Authorization": f"Bearer {api_token}"},
            json={
                "kind": "alert",
                "priority": "emergency",
                "title": {"ja": "代沢地区に避難指示（配備試験）"},
                "targets": ["setagaya/kitazawa/daizawa"],
                "drill": True,
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]

        def reached() -> bool:
            return any(m.get("override") for m in stream.events("playlist"))

        until("the alert posted to A on the stream held by B", reached, 20)
        playlist = requests.get(
            f"http://127.0.0.1:{b}/api/screens/daizawa-1/playlist",
            headers={"X-Screen-Token": screen_token},
            timeout=10,
        ).json()
        assert item_id in [entry.get("item_id") for entry in playlist["entries"]]
        if NGINX:
            behind_the_guides_nginx(tmp_path / "nginx", deployment, api_token, tokens)
    finally:
        if stream is not None:
            stream.close()
        deployment.stop()
    for name in ("web-a", "web-b", "worker"):
        assert "Traceback" not in deployment.log(name), deployment.log(name)


def behind_the_guides_nginx(
    tmp: Path, deployment: Deployment, api_token: str, tokens: dict[str, str]
) -> None:
    """The same two processes behind nginx as the guide configures it: TLS, a redirect from
    http, pages, and a push stream that nginx does not buffer."""
    tmp.mkdir()
    nginx = Nginx(tmp, deployment.web_ports)
    stream: Stream | None = None
    try:
        health = until("GET /healthz through nginx", lambda: nginx.get("/healthz"))
        assert health.status == 200, (tmp / "error.log").read_text()
        redirect = nginx.get("/areas/setagaya/kitazawa/daizawa", tls=False)
        assert redirect.status == 301
        assert redirect.getheader("Location") == f"https://{SITE}/areas/setagaya/kitazawa/daizawa"
        for _ in range(2):  # spread over both processes
            page = nginx.get("/areas/setagaya/kitazawa/daizawa")
            assert page.status == 200 and "代沢" in page.body.decode()  # type: ignore[attr-defined]
        stream = Stream(nginx.https_port, "daizawa-2", tokens["daizawa-2"], nginx.tls, SITE)
        until("the stream's hello through nginx", lambda: stream and stream.events("hello"))
        created = requests.post(
            f"http://127.0.0.1:{deployment.web_ports[1]}/api/items",
            headers={"Authorization": f"Bearer {api_token}"},
            json={
                "kind": "alert",
                "priority": "emergency",
                "title": {"ja": "代沢地区に避難指示（配備試験・二回目）"},
                "targets": ["setagaya/kitazawa/daizawa"],
                "drill": True,
            },
            timeout=10,
        )
        assert created.status_code == 201, created.text
        until(
            "the alert on the stream through nginx",
            lambda: stream is not None
            and any(m.get("override") for m in stream.events("playlist")),
            20,
        )
    finally:
        if stream is not None:
            stream.close()
        nginx.stop()
