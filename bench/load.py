"""Does an emergency still go out at once while readers and slow clients pile on?

One ``publisher serve`` (SQLite, the ward's demo content) with N screens connected by push
stream; then, at the same time:

- 200 keep-alive readers (another process) asking ``/api/items?area=…`` and the feeds of every
  area, each asking again as soon as it has its answer (their process is niced: they stand
  for browsers on other machines, not for a second server on these cores; ``--same-priority``
  runs them at the server's priority);
- 300 slow clients sending one header line every 5 s and never finishing (the server drops
  them after its header timeout; they reconnect);
- ``/healthz`` probed every 0.2 s on a fresh connection, by a process of its own (as a
  monitor would; the bench's own threads would otherwise delay it in this process).

After 5 s of that, a ward-wide emergency is POSTed with an admin token. Prints: /healthz
latency, the POST's time, each stream's time to the event (p50/p99/max), what the readers got
(status counts, answer times) and the server's RSS. Then the same with the readers defeating
the read cache (a unique query each time): the server sheds them with 503 rather than delay
the alert.

    .venv/bin/python bench/load.py          # N = 1,000 screens
    .venv/bin/python bench/load.py 300
    .venv/bin/python bench/load.py --same-priority  # readers not niced (see lib.serving.readers)

First, 300 streams are opened at once with one screen's token: one stays open.

Goals (issue 20): /healthz < 100 ms, the POST < 500 ms, every stream < 1 s, no answer >= 500
(the cache-defeating phase excepted, where 503 is the point).
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib.serving import (
    ALERT,
    CLIENTS_NICE,
    Streams,
    Ward,
    area_codes,
    free_port,
    machine_load,
    post,
    probe,
    prober,
    quantiles,
    raise_files,
    readers,
    rss_mb,
    slow_clients,
)

READERS = 200
SLOW = 300
LOAD_BEFORE_ALERT_S = 5.0
LOAD_S = 16.0


def phase(ward: Ward, port: int, n: int, bust_cache: bool, server_pid: int, nice: int) -> None:
    paths = []
    for i, area in enumerate(area_codes()):
        paths.append(f"/api/items?area={area}")
        paths.append(f"/feeds/{area}.rss" if i % 2 else f"/feeds/{area}.atom")
    if bust_cache:
        paths = [f"{p}{'&' if '?' in p else '?'}n={i}" for i in range(200) for p in paths[:4]]
    streams = Streams()
    streams.open(port, ward.paths[:n])
    streams.pump("hello", 120)
    connected = streams.connected()
    idle_health = sorted(probe(port)[0] for _ in range(10))
    notice = dict(ALERT, kind="notice", priority="normal", title={"ja": "idle baseline"})
    _, idle_post_s, _ = post(port, ward.token, notice)
    streams.pump("none", 1.0)
    streams.forget_playlists()  # the baseline notice may have changed some playlists

    out: multiprocessing.Queue = multiprocessing.Queue()
    reader = multiprocessing.Process(target=readers, args=(port, paths, READERS, LOAD_S, out, nice))
    stop, dropped = threading.Event(), []
    slow = threading.Thread(target=slow_clients, args=(port, SLOW, 5.0, stop, dropped))
    probes_stop = multiprocessing.Event()
    probes_out: multiprocessing.Queue = multiprocessing.Queue()
    health_prober = multiprocessing.Process(
        target=prober, args=(port, 0.2, probes_stop, probes_out)
    )
    reader.start()
    slow.start()
    health_prober.start()
    t_end = time.monotonic() + LOAD_BEFORE_ALERT_S
    while time.monotonic() < t_end:
        streams.pump("none", 0.2)
    streams.forget_playlists(since=time.perf_counter())  # events of the load's time: not it
    posted, post_s, status = post(port, ward.token, ALERT)
    streams.pump("playlist", 20)
    time.sleep(2.0)  # the prober goes on a while after the alert: its fan-out is in the figures
    got = streams.latencies_ms(posted)
    rss = rss_mb(server_pid)
    statuses, times = out.get(timeout=LOAD_S + 60)
    reader.join()
    stop.set()
    probes_stop.set()
    probed, late = probes_out.get(timeout=30)
    health_prober.join()
    health, health_codes = sorted(ms for ms, _ in probed), [code for _, code in probed]
    slow.join()
    streams.close()
    failed = sum(v for k, v in statuses.items() if k >= 500)
    label = "readers defeating the cache" if bust_cache else "readers of /api/items and feeds"
    print(f"-- {READERS} {label} + {SLOW} slow clients + {connected}/{n} streams")
    print(f"   /healthz: {quantiles(health)} ({len(health)} probes, "
          f"{sum(c != 200 for c in health_codes)} not 200); idle before: {quantiles(idle_health)}; "
          f"p50 ratio {health[len(health) // 2] / max(idle_health[5], 0.1):.1f}x")  # fmt: skip
    print(f"   the machine: a process waking every 0.2 s woke late by {quantiles(late)} "
          f"(readers {'niced ' + str(nice) if nice else 'at the server priority'})")  # fmt: skip
    print(f"   emergency POST: {status.decode()} in {post_s * 1000:.0f} ms (a notice POSTed idle "
          f"before: {idle_post_s * 1000:.0f} ms, ratio {post_s / idle_post_s:.1f}x)")  # fmt: skip
    print(f"   alert received by {len(got)}/{connected} streams: {quantiles(got)}")
    total = sum(statuses.values())
    print(f"   readers: {total} answers in {LOAD_S:.0f} s ({total / LOAD_S:.0f}/s), statuses "
          f"{dict(sorted(statuses.items()))}, answer time {quantiles(times)}")  # fmt: skip
    print(f"   answers >= 500: {failed} (503 sheds)")
    print("   " + machine_load())
    print(
        f"   slow clients dropped by the server: {dropped[0] if dropped else 0}; RSS {rss:.0f} MB"
    )


def one_token(ward: Ward, port: int, n: int = 300) -> None:
    """``n`` streams opened at once with one screen's token: how many stay open."""
    streams = Streams()
    streams.open(port, [ward.paths[0]] * n)
    streams.pump("hello", 60)
    streams.pump("none", 1.0)
    replaced = sum(b"event: replaced" in st["buf"] for st in streams.state.values())
    print(f"-- {n} streams with one screen's token: {streams.connected()} open, "
          f"{replaced} told they were replaced")  # fmt: skip
    streams.close()


def main() -> None:
    args = sys.argv[1:]
    nice = CLIENTS_NICE
    if "--same-priority" in args:  # the readers take the server's CPU as much as it does
        args.remove("--same-priority")
        nice = 0
    n = int(args[0]) if args else 1000
    raise_files()
    with tempfile.TemporaryDirectory() as tmp:
        ward = Ward(Path(tmp), n, demo=True)
        try:
            port = free_port()
            server = ward.serve(port)
            one_token(ward, port)
            phase(ward, port, n, False, server.pid, nice)
            ward.close()
            ward.servers.clear()
            server = ward.serve(port)
            phase(ward, port, n, True, server.pid, nice)
        finally:
            ward.close()


if __name__ == "__main__":
    main()
