"""How fast does an emergency reach every connected screen?

Starts ``publisher serve`` on a free loopback port with a temporary store and a ward of N
browser screens (one stream each, as in a ward: a screen holds one stream), opens the N
server-sent-event streams from many loopback addresses, posts a ward-wide emergency alert with
an admin token and measures, for each stream, the time from the POST being sent to its
``event: playlist`` arriving. Prints p50, p99 and max, how long the POST took and the server's
resident memory.

    .venv/bin/python bench/alert_latency.py                # N = 1,000, 5,000, 10,000 (SQLite)
    .venv/bin/python bench/alert_latency.py 300            # any N
    .venv/bin/python bench/alert_latency.py --split 10000  # 2 web processes + 1 worker on
                                                           # PostgreSQL, N/2 screens on each

Goals (issue 20): 10,000 screens: p99 < 1 s, RSS < 1 GB; two processes with 5,000 each: p99 < 1 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg
from lib.serving import (
    ALERT,
    PG_URL,
    Streams,
    Ward,
    cpu_s,
    free_port,
    machine_load,
    post,
    quantiles,
    raise_files,
    rss_mb,
)


def bench(n: int, processes: int = 1) -> None:
    raise_files()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        ward = Ward(Path(tmp), n, postgres=processes > 1)
        setup_s = time.perf_counter() - t
        streams = Streams()
        try:
            ports = [free_port() for _ in range(processes)]
            servers = [ward.serve(port) for port in ports]
            if processes > 1:
                ward.worker()
            rss_idle = [rss_mb(s.pid) for s in servers]
            t = time.perf_counter()
            share = (n + processes - 1) // processes
            for i, port in enumerate(ports):
                streams.open(port, ward.paths[i * share : (i + 1) * share])
            streams.pump("hello", 300)
            connect_s = time.perf_counter() - t
            streams.pump("none", 1.0)
            rss_streams = [rss_mb(s.pid) for s in servers]
            procs = [s.pid for s in ward.servers]
            cpu_before = [cpu_s(pid) for pid in procs]
            posted, post_s, status = post(ports[0], ward.token, ALERT)
            if b" 201 " not in status:
                raise SystemExit(f"the POST failed: {status!r}")
            streams.pump("playlist", 60)
            got = streams.latencies_ms(posted)
            cpu_used = [cpu_s(pid) - b for pid, b in zip(procs, cpu_before, strict=True)]
            rss_after = [rss_mb(s.pid) for s in servers]
            connected = streams.connected()
            streams.close()
            one_token_open = one_token(ward, ports) if processes > 1 else ""
        finally:
            streams.close()
            ward.close()
    where = "SQLite, 1 process" if processes == 1 else f"PostgreSQL, {processes} web processes"
    print(
        f"N={n:>6} ({where}): set-up {setup_s:.0f} s; {connected}/{n} streams connected in "
        f"{connect_s:.1f} s; POST answered in {post_s * 1000:.0f} ms; alert received by "
        f"{len(got)}/{n}"
    )
    print(f"         latency from POST: {quantiles(got)}")
    print("         " + machine_load())
    names = [f"web {i + 1}" for i in range(processes)] + (["worker"] if processes > 1 else [])
    print(
        "         CPU used from the POST to the last event: "
        + ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in zip(names, cpu_used, strict=True))
    )
    print(
        "         server RSS per process: "
        + ", ".join(
            f"{a:.0f} MB idle / {b:.0f} MB with streams / {c:.0f} MB after"
            for a, b, c in zip(rss_idle, rss_streams, rss_after, strict=True)
        )
    )
    if one_token_open:
        print(one_token_open)


def one_token(ward: Ward, ports: list[int], n: int = 300) -> str:
    """``n`` streams with one screen's token, opened at once and spread over every process:
    how many stay open (one, wherever the newest was opened)."""
    streams = Streams()
    try:
        for i, port in enumerate(ports):
            streams.open(port, [ward.paths[0]] * (n // len(ports) + (i < n % len(ports))))
        streams.pump("hello", 60)
        streams.pump("none", 2.0)  # the announcements cross to the other processes
        replaced = sum(b"event: replaced" in st["buf"] for st in streams.state.values())
        return (f"         {n} streams with one screen's token over {len(ports)} processes: "
                f"{streams.connected()} open, {replaced} told they were replaced")  # fmt: skip
    finally:
        streams.close()


def main() -> None:
    args = sys.argv[1:]
    processes = 1
    if args and args[0] == "--split":
        processes, args = 2, args[1:]
    sizes = [int(a) for a in args] or [1000, 5000, 10000]
    if processes == 1:
        for n in sizes:
            bench(n)
    if processes > 1 or not sys.argv[1:]:
        for n in sizes if processes > 1 else [10000]:
            try:
                bench(n, 2)
            except psycopg.OperationalError as e:
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                print(f"2 web processes on PostgreSQL: skipped, no server at {PG_URL} ({reason})")
                return


if __name__ == "__main__":
    main()
