"""How fast is a district feed? The app under gunicorn beside nginx serving the same bytes.

Loads Setagaya's areas and the demo into a throw-away SQLite database, starts the app under
gunicorn (gthread) and nginx (Debian's, its own config, pid and temp paths) on free loopback
ports, and drives both with keep-alive HTTP clients (processes × threads, http.client) for a
bounded time and count each:

    app 200   GET /feeds/setagaya/kitazawa/daizawa.rss
    app 304   the same with If-None-Match (one light query: ids and times of the visible set)
    nginx 200 the same bytes as a static file
    nginx 304 the same with nginx's own ETag

Prints requests per second and the ratios. Goal: the app's 304 path at least half of nginx's
static 200 rate. Usage: ``python bench/feeds.py [--seconds 4] [--clients 4] [--threads 8]``.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib.need import missing_command, missing_module, require  # noqa: E402

FEED = "/feeds/setagaya/kitazawa/daizawa.rss"

NGINX_CONF = """
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ add_header Cache-Control "public, max-age=60"; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    status = None
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            resp = conn.getresponse()
            status = resp.status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(
        f"server on port {port} did not answer {path} with 200 within {timeout_s}s "
        f"(last status: {status})"
    )


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    r.body = r.read()  # type: ignore[attr-defined]
    conn.close()
    return r


# -- load generator ------------------------------------------------------------------------------


def _client(args: tuple[int, str, dict[str, str], int, float, int]) -> tuple[int, int]:
    """One process: ``threads`` keep-alive connections until the count or the time is up."""
    port, path, headers, threads, seconds, max_requests = args
    done = [0] * threads
    bad = [0] * threads
    stop_at = time.monotonic() + seconds
    per_thread = max_requests // threads

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while done[i] < per_thread and time.monotonic() < stop_at:
            try:
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.status not in (200, 304):
                    bad[i] += 1
                done[i] += 1
            except (OSError, http.client.HTTPException):
                bad[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done), sum(bad)


def rate(
    port: int, path: str, headers: dict[str, str], clients: int, threads: int, seconds: float
) -> tuple[float, int, int]:
    """Requests per second over all clients (and the counts of requests and failures)."""
    max_requests = 2_000_000 // clients
    with multiprocessing.Pool(clients) as pool:
        start = time.monotonic()
        results = pool.map(
            _client, [(port, path, headers, threads, seconds, max_requests)] * clients
        )
        elapsed = time.monotonic() - start
    total = sum(r[0] for r in results)
    return total / elapsed, total, sum(r[1] for r in results)


# -- servers -------------------------------------------------------------------------------------


def prepare(data_dir: Path) -> dict[str, str]:
    from publisher.cli.demo import load_demo
    from publisher.config import load_settings
    from publisher.items import utcnow
    from publisher.runtime import Runtime
    from publisher.store.content import sync_tree

    env = {
        **os.environ,
        "PUBLISHER_DATA_DIR": str(data_dir),
        "PUBLISHER_BASE_URL": "https://signage.example.jp",
        "PUBLISHER_SECRET_KEY": "bench",
    }
    rt = Runtime(load_settings(env))
    rt.db.migrate()
    with rt.session() as session:
        sync_tree(session, rt.tree)
        load_demo(
            session,
            rt.tree,
            rt.settings["CONTENT_DIR"] / "demo",
            utcnow().astimezone(rt.tz).date(),
            rt.tz,
        )
    rt.close()
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--clients", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=8, help="connections per client")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--server-threads", type=int, default=8, help="gunicorn threads per worker")
    opts = parser.parse_args()
    require(missing_command("nginx", "nginx-light"), missing_module("gunicorn", "gunicorn"))

    tmp = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    tmp.chmod(0o755)  # nginx's workers (user nobody when started as root) read the file
    procs: list[subprocess.Popen[bytes]] = []
    try:
        env = prepare(tmp / "var")
        app_port, nginx_port = free_port(), free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--bind",
                    f"127.0.0.1:{app_port}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    str(opts.workers),
                    "--threads",
                    str(opts.server_threads),
                    "--keep-alive",
                    "30",
                    "--log-level",
                    "warning",
                    "publisher.web:create_app()",
                ],
                cwd=REPO,
                env=env,
            )
        )
        wait_for(app_port, FEED)
        first = fetch(app_port, FEED)
        etag = first.getheader("ETag") or ""
        root = tmp / "static"
        static_file = root / FEED.lstrip("/")
        static_file.parent.mkdir(parents=True)
        static_file.write_bytes(first.body)  # type: ignore[attr-defined]
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(workers=opts.workers, tmp=tmp, port=nginx_port, root=root)
        )
        procs.append(
            subprocess.Popen(["nginx", "-c", str(conf), "-e", str(tmp / "nginx-error.log")])
        )
        wait_for(nginx_port, FEED)
        nginx_etag = fetch(nginx_port, FEED).getheader("ETag") or ""
        assert fetch(app_port, FEED, {"If-None-Match": etag}).status == 304
        assert fetch(nginx_port, FEED, {"If-None-Match": nginx_etag}).status == 304

        size = len(first.body)  # type: ignore[attr-defined]
        print(
            f"district feed {FEED}: {size} bytes; gunicorn gthread {opts.workers} workers × "
            f"{opts.server_threads} threads; nginx {opts.workers} workers; load: {opts.clients} "
            f"processes × {opts.threads} keep-alive connections, {opts.seconds:.0f} s each; "
            f"{os.cpu_count()} CPUs shared by clients and servers"
        )
        figures = {}
        for name, port, headers in (
            ("app 200", app_port, {}),
            ("app 304", app_port, {"If-None-Match": etag}),
            ("nginx 200", nginx_port, {}),
            ("nginx 304", nginx_port, {"If-None-Match": nginx_etag}),
        ):
            rps, total, bad = rate(port, FEED, headers, opts.clients, opts.threads, opts.seconds)
            figures[name] = rps
            print(f"  {name:<10} {rps:9.0f} req/s  ({total} requests, {bad} failed)")
        print(
            f"  ratio app 304 / nginx 200: {figures['app 304'] / figures['nginx 200']:.2f}"
            f"   (goal ≥ 0.50)"
        )
        print(f"  ratio app 200 / nginx 200: {figures['app 200'] / figures['nginx 200']:.2f}")
        print(f"  ratio app 304 / nginx 304: {figures['app 304'] / figures['nginx 304']:.2f}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM if p.args[0] != "nginx" else signal.SIGQUIT)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
